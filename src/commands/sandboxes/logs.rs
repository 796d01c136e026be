//! `dindbox logs NAME`: the sandbox's own output; `--inner`: its inner
//! engine's log (see `ops::logs`).

use crate::cli::LogsArgs;
use crate::error::Result;
use crate::ops;
use crate::ops::logs::Logs;

pub fn run(args: LogsArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let req = ops::logs::Request {
        name: args.name,
        inner: args.inner,
        follow: args.follow,
        tail: args.tail,
    };
    match ops::logs::logs(&super::apis(&engines), &req)? {
        Logs::Streamed(code) => Ok(code),
        Logs::Lines(lines) => {
            for line in &lines {
                println!("{line}");
            }
            Ok(0)
        }
    }
}
