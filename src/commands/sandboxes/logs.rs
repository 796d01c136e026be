//! `dindbox logs NAME`: the sandbox's own output; `--inner`: its inner
//! engine's log, from a running sandbox or a stopped one.

use crate::cli::LogsArgs;
use crate::error::{Error, Result};
use crate::plan::inner::LOG_DIR;
use crate::plan::labels;
use crate::process::exit_code;

pub fn run(args: LogsArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let (engine, sandbox) = super::find(&engines, &args.name)?;
    let tail = args.tail.map(|n| n.to_string());
    if !args.inner {
        let mut cmd = engine.cmd().arg("logs");
        if args.follow {
            cmd = cmd.arg("-f");
        }
        if let Some(n) = &tail {
            cmd = cmd.args(["--tail", n]);
        }
        let status = cmd.arg(sandbox.name.clone()).spawn_attached()?.wait();
        return Ok(status.map(|s| exit_code(&s)).unwrap_or(1));
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
        let mut cmd = engine.cmd().args(["exec", &sandbox.name, "tail"]);
        cmd = cmd.args(["-n", tail.as_deref().unwrap_or("+1")]);
        if args.follow {
            cmd = cmd.arg("-f");
        }
        let status = cmd.arg(file).spawn_attached()?.wait();
        return Ok(status.map(|s| exit_code(&s)).unwrap_or(1));
    }
    if args.follow {
        return Err(
            Error::usage(format!("sandbox `{}` is not running", sandbox.name))
                .hint("leave out -f to read the log it left"),
        );
    }
    let dir = tempfile::tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let cmd = engine
        .cmd()
        .arg("cp")
        .arg(format!("{}:{file}", sandbox.name))
        .arg(dir.path().display().to_string());
    let out = cmd.output()?;
    if !out.success() {
        return Err(
            Error::failure(format!("{} left no inner engine log", sandbox.name))
                .cause(out.stderr.trim().to_string()),
        );
    }
    let text = std::fs::read_to_string(dir.path().join(format!("{}.log", log_name(inner))))
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = args
        .tail
        .map(|n| lines.len().saturating_sub(n as usize))
        .unwrap_or(0);
    for line in &lines[from..] {
        println!("{line}");
    }
    Ok(0)
}

/// The inner engine's log file name, as the init writes it.
fn log_name(inner: &str) -> &str {
    if inner == "docker" { "dockerd" } else { inner }
}
