//! The commands that work on existing sandboxes: `exec`, `ls`, `start`,
//! `stop`, `rm`, `logs`, `prune`. Each reads its flags into a request, runs
//! the operation in `crate::ops`, and renders what it returns.

pub mod exec;
pub mod logs;
pub mod ls;
pub mod prune;
pub mod rm;
pub mod start;

use crate::cli::EngineArg;
use crate::engine::{Engine, EngineApi};
use crate::error::Result;
use crate::plan;
use crate::probe;

/// The engines to look on: the one named, or every one that answers.
pub fn engines(arg: &EngineArg) -> Result<Vec<Engine>> {
    let kind = arg
        .engine
        .as_deref()
        .map(|e| plan::parse_engine("engine", e))
        .transpose()?;
    let host = probe::probe_for(kind);
    let answering: Vec<Engine> = host
        .engines
        .iter()
        .filter(|e| e.answers)
        .map(|e| Engine::new(e.kind, &e.binary))
        .collect();
    if answering.is_empty() {
        return Err(plan::none_answers(&host)
            .hint("`dindbox doctor` shows what is installed and why it does not answer"));
    }
    Ok(answering)
}

/// The engines, as the operations take them.
pub fn apis(engines: &[Engine]) -> Vec<&dyn EngineApi> {
    engines.iter().map(|e| e as &dyn EngineApi).collect()
}
