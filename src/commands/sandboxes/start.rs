//! `dindbox start` and `dindbox stop`.

use crate::cli::{SandboxesArgs, StopArgs};
use crate::error::{Result, exit};
use crate::plan::inner::INIT_PATH;
use crate::plan::labels;

pub fn start(args: SandboxesArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let mut status = 0;
    for name in &args.names {
        let (engine, sandbox) = super::find(&engines, name)?;
        if sandbox.running() {
            println!("{name} is already running");
            continue;
        }
        if let Some(service) = crate::apply::service::of(&sandbox.labels) {
            crate::apply::service::ensure(&service)?;
        }
        crate::engine::EngineApi::start(&engine, name)?;
        // The init reports when the inner engine answers: wait for that.
        let timeout: u64 = sandbox.label(labels::TIMEOUT).parse().unwrap_or(60_000);
        let waited = engine
            .cmd()
            .args(["exec", name, INIT_PATH, "enter", "--timeout-ms"])
            .arg((timeout + crate::plan::attach::ENTER_MARGIN_MS).to_string())
            .args(["--", "true"])
            .output()?;
        if waited.success() {
            println!("{name} started");
        } else {
            eprint!("{}", waited.stderr);
            eprintln!(
                "dindbox: {name} did not become ready: `dindbox logs {name} --inner` shows the inner engine's log"
            );
            status = exit::INNER_ENGINE;
        }
    }
    Ok(status)
}

pub fn stop(args: StopArgs) -> Result<i32> {
    let engines = super::engines(&args.sandboxes.engine)?;
    for name in &args.sandboxes.names {
        let (engine, sandbox) = super::find(&engines, name)?;
        if !sandbox.running() {
            println!("{name} is not running");
            continue;
        }
        let cmd = engine
            .cmd()
            .args(["stop", "-t", &args.time.to_string(), name]);
        let out = cmd.output()?;
        if !out.success() {
            return Err(cmd.failed(&out.status, &out.stderr));
        }
        println!("{name} stopped");
    }
    Ok(0)
}
