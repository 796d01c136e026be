//! `exec`: a command run in a running sandbox, in its workspace, once its
//! inner engine is ready; its exit status.

use crate::engine::EngineApi;
use crate::error::{Error, Result};
use crate::plan::{attach, labels};
use crate::signals::Signals;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub command: Vec<String>,
    /// Both ends are a terminal: the engine gets `-t`.
    pub tty: bool,
}

pub fn exec(engines: &[&dyn EngineApi], req: &Request) -> Result<i32> {
    let (engine, sandbox) = super::find(engines, &req.name)?;
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
    let args = attach::exec_args(&sandbox.name, workdir, req.tty, timeout, &req.command);
    let signals = Signals::install();
    engine.attached(&engine.argv(&args), Some(&signals))
}
