//! `dindbox rm`: sandboxes, with their inner storage unless it is kept.

use crate::apply::remove;
use crate::cli::RmArgs;
use crate::error::Result;

pub fn run(args: RmArgs) -> Result<i32> {
    let engines = super::engines(&args.sandboxes.engine)?;
    // Find them all first: a mistyped name removes nothing.
    let found = args
        .sandboxes
        .names
        .iter()
        .map(|name| super::find(&engines, name))
        .collect::<Result<Vec<_>>>()?;
    for (engine, sandbox) in found {
        let stop_first = sandbox.running() && !args.force;
        let removed = remove::sandbox(&engine, &sandbox.name, args.keep_storage, stop_first)?;
        if removed.volumes.is_empty() {
            println!("removed {}", sandbox.name);
        } else {
            println!(
                "removed {} and its storage {}",
                sandbox.name,
                removed.volumes.join(", ")
            );
        }
    }
    Ok(0)
}
