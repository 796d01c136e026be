//! `dindbox exec NAME [CMD...]`: run a command in a running sandbox, in its
//! workspace, once its inner engine is ready.

use std::io::IsTerminal;

use crate::apply::signals::Signals;
use crate::cli::ExecArgs;
use crate::error::{Error, Result};
use crate::plan::{attach, labels};
use crate::process::exit_code;

pub fn run(args: ExecArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let (engine, sandbox) = super::find(&engines, &args.name)?;
    if !sandbox.running() {
        return Err(Error::usage(format!(
            "sandbox `{}` is not running ({})",
            sandbox.name, sandbox.status
        ))
        .hint(format!("start it with `dindbox start {}`", sandbox.name)));
    }
    if let Some(service) = crate::apply::service::of(&sandbox.labels) {
        crate::apply::service::ensure(&service)?;
    }
    let workdir = match sandbox.label(labels::WORKDIR) {
        "" => "/",
        dir => dir,
    };
    let timeout = sandbox.label(labels::TIMEOUT).parse().unwrap_or(60_000);
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let exec = attach::exec_args(&sandbox.name, workdir, tty, timeout, &args.command);
    let cmd = engine.cmd().args(exec);
    let signals = Signals::install();
    let mut child = cmd.spawn_attached()?;
    signals.pass_to(child.id());
    let status = child
        .wait()
        .map_err(|e| Error::failure(format!("lost `{}`", cmd.display())).cause(e.to_string()))?;
    Ok(exit_code(&status))
}
