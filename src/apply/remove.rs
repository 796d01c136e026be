//! Removing a sandbox: its container, then the volumes labelled as its own.

use crate::engine::EngineApi;
use crate::error::Result;

/// What was removed.
pub struct Removed {
    pub volumes: Vec<String>,
}

/// Remove the sandbox `name` (running or not) and, unless kept, its volumes.
/// `stop_first`: give it a clean stop (the inner engine shuts down) before removal.
pub fn sandbox(
    engine: &dyn EngineApi,
    name: &str,
    keep_storage: bool,
    stop_first: bool,
) -> Result<Removed> {
    let service = engine
        .inspect_container(name)?
        .and_then(|c| super::service::of(&c.labels));
    if stop_first {
        // A sandbox that is not running makes `stop` fail harmlessly.
        let _ = engine.stop(name, None);
    }
    engine.remove_container(name)?;
    if let Some(service) = service {
        super::service::stop(&service);
    }
    // The directory its init reported to at each start, mounted from the host.
    let _ = std::fs::remove_dir_all(super::stepdown::report_dir(
        &crate::paths::cache_dir(),
        name,
    ));
    let mut volumes = Vec::new();
    if !keep_storage {
        for volume in engine.sandbox_volumes(Some(name))? {
            engine.remove_volume(&volume.name)?;
            volumes.push(volume.name);
        }
    }
    Ok(Removed { volumes })
}
