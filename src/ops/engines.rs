//! Which host engines answer, asked cheaply: each engine CLI on PATH lists
//! dindbox's sandboxes, and one whose call fails does not answer. The
//! lifecycle commands need no more of the host than that (no /proc, /sys,
//! sockets or `info`).

use crate::engine::{Engine, EngineApi, EngineKind};
use crate::error::Result;

/// The engine CLIs on PATH, Podman first: the one named, or both.
pub fn on_path(only: Option<EngineKind>) -> Vec<Engine> {
    EngineKind::ALL
        .into_iter()
        .filter(|kind| only.is_none_or(|o| o == *kind))
        .filter_map(|kind| {
            let path = which::which(kind.name()).ok()?;
            Some(Engine::new(kind, &path.display().to_string()))
        })
        .collect()
}

/// The engines of `found` that answer, asked in parallel; none answering is
/// an error that says what each said and how to get one.
pub fn answering<E: EngineApi>(found: Vec<E>) -> Result<Vec<E>> {
    let answers = crate::process::in_parallel(&found, |engine| engine.answers());
    let errors: Vec<(EngineKind, String)> = found
        .iter()
        .zip(&answers)
        .filter_map(|(e, a)| a.as_ref().err().map(|err| (e.kind(), err.clone())))
        .collect();
    let answering: Vec<E> = found
        .into_iter()
        .zip(answers)
        .filter_map(|(e, a)| a.is_ok().then_some(e))
        .collect();
    if answering.is_empty() {
        return Err(crate::plan::none_answers_from(&errors)
            .hint("`dindbox doctor` shows what is installed and why it does not answer"));
    }
    Ok(answering)
}
