//! Operations that return data: the CLI in `commands/` only renders what
//! they return and the events they report, so a web page or an export can
//! call the same functions. `run` and `doctor`; and the lifecycle operations
//! on existing sandboxes (`ls`, `start`, `stop`, `rm`, `logs`, `prune`,
//! `exec`), each taking the engines and a typed request. A sandbox is any
//! container with dindbox's label, on any engine that answers: the engine
//! is the only record.

pub mod doctor;
pub mod engines;
pub mod exec;
pub mod export;
pub mod export_kube;
pub mod logs;
pub mod ls;
pub mod prune;
pub mod rm;
pub mod run;
pub mod start;
pub mod stop;

#[cfg(test)]
mod tests;

use crate::engine::container::Container;
use crate::engine::{EngineApi, EngineKind};
use crate::error::{Error, Result, suggest};

/// The sandbox of that name, and the engine it is on.
pub fn find<'a>(
    engines: &[&'a dyn EngineApi],
    name: &str,
) -> Result<(&'a dyn EngineApi, Container)> {
    let mut found = Vec::new();
    let mut others = Vec::new();
    for engine in engines {
        if let Some(c) = engine.inspect_container(name)? {
            if c.is_sandbox() {
                found.push((*engine, c));
            } else {
                others.push(engine.kind());
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(not_found(engines, name, &others)),
        _ => Err(Error::usage(format!(
            "there is a sandbox named `{name}` on both Docker and Podman"
        ))
        .hint("say which with `--engine docker` or `--engine podman`")),
    }
}

fn not_found(engines: &[&dyn EngineApi], name: &str, others: &[EngineKind]) -> Error {
    if let Some(kind) = others.first() {
        return Error::usage(format!(
            "`{name}` on {kind} is not a dindbox sandbox (it has no io.dindbox.managed label)"
        ))
        .hint(format!(
            "use `{kind}` itself for containers dindbox did not make"
        ));
    }
    let names: Vec<String> = engines
        .iter()
        .filter_map(|e| e.sandboxes().ok())
        .flatten()
        .map(|c| c.name)
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut err = Error::usage(format!("no sandbox named `{name}`"));
    if let Some(near) = suggest(name, &refs) {
        err = err.hint(format!("did you mean `{near}`?"));
    }
    err.hint("`dindbox ls` lists the sandboxes")
}

/// Each of `names` with its engine, all found before anything is done: a
/// mistyped name changes nothing.
pub fn find_all<'a>(
    engines: &[&'a dyn EngineApi],
    names: &[String],
) -> Result<Vec<(&'a dyn EngineApi, Container)>> {
    names.iter().map(|name| find(engines, name)).collect()
}
