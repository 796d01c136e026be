//! The commands that work on existing sandboxes: `exec`, `ls`, `start`,
//! `stop`, `rm`, `logs`, `prune`. A sandbox is any container with dindbox's
//! label, on any engine that answers: the engine is the only record.

pub mod exec;
pub mod logs;
pub mod ls;
pub mod prune;
pub mod rm;
pub mod start;

use crate::cli::EngineArg;
use crate::engine::Engine;
use crate::engine::container::Container;
use crate::error::{Error, Result, suggest};
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

/// The sandbox of that name, and the engine it is on.
pub fn find(engines: &[Engine], name: &str) -> Result<(Engine, Container)> {
    let mut found = Vec::new();
    let mut others = Vec::new();
    for engine in engines {
        if let Some(c) = engine.inspect_container(name)? {
            if c.is_sandbox() {
                found.push((engine.clone(), c));
            } else {
                others.push(engine.kind);
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

fn not_found(engines: &[Engine], name: &str, others: &[crate::engine::EngineKind]) -> Error {
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
        .filter_map(|e| crate::engine::EngineApi::sandboxes(e).ok())
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
