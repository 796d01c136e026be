//! `dindbox exec NAME [CMD...]`: run a command in a running sandbox, in its
//! workspace, once its inner engine is ready (see `ops::exec`).

use std::io::IsTerminal;

use crate::cli::ExecArgs;
use crate::error::Result;
use crate::ops;

pub fn run(args: ExecArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let req = ops::exec::Request {
        name: args.name,
        command: args.command,
        tty: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
    };
    ops::exec::exec(&super::apis(&engines), &req)
}
