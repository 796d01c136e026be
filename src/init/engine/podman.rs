//! Podman inside the sandbox: containers.conf and storage.conf for this host.

use std::path::Path;

use super::{Running, StartError, find};
use crate::render::podman;
use crate::spec::init::InnerEngineSpec;

const CONTAINERS_CONF_DROPIN: &str = "/etc/containers/containers.conf.d/50-dindbox.conf";
pub const STORAGE_CONF: &str = "/etc/containers/storage.conf";

/// containers.conf settings that depend on the host: the runtime and the limits.
pub fn podman_dropin(spec: &InnerEngineSpec) -> String {
    let mut containers = toml::Table::new();
    if let Some(ulimits) = spec.ulimits {
        containers.insert("default_ulimits".into(), podman::default_ulimits(ulimits));
    }
    if spec.cgroups_disabled {
        containers.insert("cgroups".into(), "disabled".into());
    }
    if spec.nested_host_network {
        containers.insert("netns".into(), "host".into());
    }
    let mut engine = toml::Table::new();
    engine.insert("runtime".into(), spec.runtime.clone().into());
    engine.insert("cgroup_manager".into(), "cgroupfs".into());
    engine.insert("events_logger".into(), "file".into());
    format!(
        "# Written by dindbox init at sandbox start.\n{}",
        podman::containers_conf([("containers", containers), ("engine", engine)])
    )
}

pub(super) fn configure_podman(spec: &InnerEngineSpec) -> Result<Running, StartError> {
    find("podman")?;
    let path = Path::new(CONTAINERS_CONF_DROPIN);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            StartError::new(format!("could not create {}: {e}", dir.display()), None)
        })?;
    }
    std::fs::write(path, podman_dropin(spec))
        .map_err(|e| StartError::new(format!("could not write {}: {e}", path.display()), None))?;
    if let Some(storage) = spec.storage {
        std::fs::write(STORAGE_CONF, storage.storage_conf())
            .map_err(|e| StartError::new(format!("could not write {STORAGE_CONF}: {e}"), None))?;
    }
    Ok(Running { daemon: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    fn spec(kind: EngineKind) -> InnerEngineSpec {
        super::super::test_spec(kind)
    }

    #[test]
    fn podman_dropin_sets_runtime_and_limits() {
        let text = podman_dropin(&spec(EngineKind::Podman));
        assert!(
            text.contains("default_ulimits = [\"nofile=20000:20000\", \"nproc=9000:9000\"]"),
            "{text}"
        );
        assert!(text.contains("runtime = \"runc\""), "{text}");
        assert!(text.contains("cgroup_manager = \"cgroupfs\""), "{text}");
    }
}
