//! `stop`: running sandboxes stopped, their inner engines shut down cleanly.

use crate::engine::EngineApi;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    NotRunning(String),
    Stopped(String),
}

/// Stop each of `names` in turn, giving each `seconds` before it is killed.
pub fn stop(
    engines: &[&dyn EngineApi],
    names: &[String],
    seconds: u64,
    on: &mut dyn FnMut(&StopOutcome),
) -> Result<Vec<StopOutcome>> {
    let mut done = Vec::new();
    for name in names {
        let (engine, sandbox) = super::find(engines, name)?;
        let event = if sandbox.running() {
            engine.stop(name, Some(seconds))?;
            StopOutcome::Stopped(name.clone())
        } else {
            StopOutcome::NotRunning(name.clone())
        };
        on(&event);
        done.push(event);
    }
    Ok(done)
}
