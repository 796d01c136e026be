//! `dindbox rm`: sandboxes, with their inner storage unless it is kept (see
//! `ops::rm`); one line for each.

use crate::cli::RmArgs;
use crate::error::Result;
use crate::ops;

pub fn run(args: RmArgs) -> Result<i32> {
    let engines = super::engines(&args.sandboxes.engine)?;
    let req = ops::rm::Request {
        names: args.sandboxes.names,
        keep_storage: args.keep_storage,
        force: args.force,
    };
    ops::rm::rm(&super::apis(&engines), &req, &mut |removed| {
        if removed.volumes.is_empty() {
            println!("removed {}", removed.name);
        } else {
            println!(
                "removed {} and its storage {}",
                removed.name,
                removed.volumes.join(", ")
            );
        }
    })?;
    Ok(0)
}
