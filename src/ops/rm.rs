//! `rm`: sandboxes removed, with their inner storage unless it is kept.

use crate::apply::remove;
use crate::engine::EngineApi;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub names: Vec<String>,
    /// Leave the sandboxes' storage volumes.
    pub keep_storage: bool,
    /// Remove running ones without a clean stop first.
    pub force: bool,
}

/// One sandbox removed, with the storage volumes that went with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub name: String,
    pub volumes: Vec<String>,
}

/// Find them all first (a mistyped name removes nothing), then remove each.
pub fn rm(
    engines: &[&dyn EngineApi],
    req: &Request,
    on: &mut dyn FnMut(&Removed),
) -> Result<Vec<Removed>> {
    let found = super::find_all(engines, &req.names)?;
    let mut done = Vec::new();
    for (engine, sandbox) in found {
        let stop_first = sandbox.running() && !req.force;
        let removed = remove::sandbox(engine, &sandbox.name, req.keep_storage, stop_first)?;
        let event = Removed {
            name: sandbox.name,
            volumes: removed.volumes,
        };
        on(&event);
        done.push(event);
    }
    Ok(done)
}
