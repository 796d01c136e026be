//! `dindbox start` and `dindbox stop` (see `ops::start`, `ops::stop`); one
//! line for each sandbox.

use crate::cli::{SandboxesArgs, StopArgs};
use crate::error::{Result, exit};
use crate::ops;
use crate::ops::start::StartOutcome;
use crate::ops::stop::StopOutcome;

pub fn start(args: SandboxesArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let started = ops::start::start(&super::apis(&engines), &args.names, &mut |s| match s {
        StartOutcome::AlreadyRunning(name) => println!("{name} is already running"),
        StartOutcome::Started(name) => println!("{name} started"),
        StartOutcome::NotReady { name, stderr } => {
            eprint!("{stderr}");
            eprintln!(
                "dindbox: {name} did not become ready: `dindbox logs {name} --inner` shows the inner engine's log"
            );
        }
    })?;
    let not_ready = started
        .iter()
        .any(|s| matches!(s, StartOutcome::NotReady { .. }));
    Ok(if not_ready { exit::INNER_ENGINE } else { 0 })
}

pub fn stop(args: StopArgs) -> Result<i32> {
    let engines = super::engines(&args.sandboxes.engine)?;
    let seconds = u64::from(args.time);
    ops::stop::stop(
        &super::apis(&engines),
        &args.sandboxes.names,
        seconds,
        &mut |s| match s {
            StopOutcome::NotRunning(name) => println!("{name} is not running"),
            StopOutcome::Stopped(name) => println!("{name} stopped"),
        },
    )?;
    Ok(0)
}
