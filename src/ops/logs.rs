//! `logs`: a sandbox's own output, or (`inner`) its inner engine's log, from
//! a running sandbox or a stopped one.

use crate::engine::EngineApi;
use crate::error::{Error, Result};
use crate::plan::inner::LOG_DIR;
use crate::plan::labels;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    /// The inner engine's log rather than the sandbox's output.
    pub inner: bool,
    pub follow: bool,
    /// Only the last lines.
    pub tail: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logs {
    /// Streamed to the terminal by the engine; its exit status.
    Streamed(i32),
    /// A stopped sandbox's inner engine log, read back.
    Lines(Vec<String>),
}

pub fn logs(engines: &[&dyn EngineApi], req: &Request) -> Result<Logs> {
    let (engine, sandbox) = super::find(engines, &req.name)?;
    let tail = req.tail.map(|n| n.to_string());
    if !req.inner {
        let mut args = vec!["logs".to_string()];
        if req.follow {
            args.push("-f".into());
        }
        if let Some(n) = &tail {
            args.extend(["--tail".into(), n.clone()]);
        }
        args.push(sandbox.name.clone());
        return streamed(engine, &args);
    }
    let inner = sandbox.label(labels::INNER);
    if inner.is_empty() {
        return Err(Error::usage(format!(
            "sandbox `{}` has no inner engine (mode {})",
            sandbox.name,
            sandbox.label(labels::MODE)
        ))
        .hint(format!("`dindbox logs {}` shows its output", sandbox.name)));
    }
    let file = format!("{LOG_DIR}/{}.log", log_name(inner));
    if sandbox.running() {
        let mut args: Vec<String> = ["exec", &sandbox.name, "tail", "-n"]
            .map(String::from)
            .to_vec();
        args.push(tail.unwrap_or_else(|| "+1".into()));
        if req.follow {
            args.push("-f".into());
        }
        args.push(file);
        return streamed(engine, &args);
    }
    if req.follow {
        return Err(
            Error::usage(format!("sandbox `{}` is not running", sandbox.name))
                .hint("leave out -f to read the log it left"),
        );
    }
    let dir = tempfile::tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let copy = [
        "cp".to_string(),
        format!("{}:{file}", sandbox.name),
        dir.path().display().to_string(),
    ];
    let out = engine.output(&engine.argv(&copy))?;
    if !out.success() {
        return Err(
            Error::failure(format!("{} left no inner engine log", sandbox.name))
                .cause(out.stderr.trim().to_string()),
        );
    }
    let text = std::fs::read_to_string(dir.path().join(format!("{}.log", log_name(inner))))
        .unwrap_or_default();
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let from = req
        .tail
        .map(|n| lines.len().saturating_sub(n as usize))
        .unwrap_or(0);
    Ok(Logs::Lines(lines[from..].to_vec()))
}

/// Stream to the terminal; a child that is lost counts as status 1.
fn streamed(engine: &dyn EngineApi, args: &[String]) -> Result<Logs> {
    match engine.attached(&engine.argv(args), None) {
        Ok(code) => Ok(Logs::Streamed(code)),
        Err(e) if e.message.starts_with("lost `") => Ok(Logs::Streamed(1)),
        Err(e) => Err(e),
    }
}

/// The inner engine's log file name, as the init writes it.
fn log_name(inner: &str) -> &str {
    if inner == "docker" { "dockerd" } else { inner }
}
