//! `dindbox prune`: stopped sandboxes, and storage volumes whose sandbox is
//! gone (see `ops::prune`); one line for each.

use std::time::SystemTime;

use crate::cli::PruneArgs;
use crate::error::Result;
use crate::ops;
use crate::ops::prune::Pruned;

pub fn run(args: PruneArgs) -> Result<i32> {
    let req = ops::prune::Request {
        until: args
            .until
            .as_deref()
            .map(ops::prune::parse_until)
            .transpose()?,
        dry_run: args.dry_run,
    };
    let now = SystemTime::now();
    let verb = if req.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let engines = super::engines(&args.engine)?;
    let pruned = ops::prune::prune(&super::apis(&engines), &req, now, &mut |p| match p {
        Pruned::Sandbox {
            name,
            engine,
            status,
        } => println!("{verb} sandbox {name} ({engine}, {status})"),
        Pruned::Volume { name, engine } => println!("{verb} volume {name} ({engine})"),
    })?;
    if pruned.is_empty() {
        println!("nothing to prune");
    }
    Ok(0)
}
