//! `start`: stopped sandboxes started again, each waited for until its
//! inner engine answers.

use crate::engine::EngineApi;
use crate::error::Result;
use crate::plan::attach::ENTER_MARGIN_MS;
use crate::plan::inner::INIT_PATH;
use crate::plan::labels;

/// What became of one sandbox, reported as soon as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    AlreadyRunning(String),
    Started(String),
    /// Started, but its inner engine did not answer; what the wait printed.
    NotReady {
        name: String,
        stderr: String,
    },
}

/// Start each of `names` in turn (one not found stops there, with what was
/// started before it reported).
pub fn start(
    engines: &[&dyn EngineApi],
    names: &[String],
    on: &mut dyn FnMut(&StartOutcome),
) -> Result<Vec<StartOutcome>> {
    let mut done = Vec::new();
    for name in names {
        let (engine, sandbox) = super::find(engines, name)?;
        let event = if sandbox.running() {
            StartOutcome::AlreadyRunning(name.clone())
        } else {
            if let Some(service) = crate::apply::service::of(&sandbox.labels) {
                crate::apply::service::ensure(&service)?;
            }
            // The kernel forgets dindbox's AppArmor profile at reboot: loaded
            // again, as `run` loads it, before the engine asks for it.
            if sandbox.apparmor_profile == crate::spec::confine::apparmor_name() {
                crate::apply::confine::ensure_apparmor(&sandbox.apparmor_profile)?;
            }
            engine.start(name)?;
            // The init reports when the inner engine answers: wait for that.
            let timeout: u64 = sandbox.label(labels::TIMEOUT).parse().unwrap_or(60_000);
            let wait = [
                "exec".to_string(),
                name.clone(),
                INIT_PATH.to_string(),
                "enter".into(),
                "--timeout-ms".into(),
                (timeout + ENTER_MARGIN_MS).to_string(),
                "--".into(),
                "true".into(),
            ];
            let waited = engine.output(&engine.argv(&wait))?;
            if waited.success() {
                StartOutcome::Started(name.clone())
            } else {
                StartOutcome::NotReady {
                    name: name.clone(),
                    stderr: waited.stderr,
                }
            }
        };
        on(&event);
        done.push(event);
    }
    Ok(done)
}
