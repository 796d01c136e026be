//! Podman inside the sandbox: containers.conf and storage.conf for this host.

use std::path::Path;

use super::{Running, StartError, find};
use crate::process::Cmd;
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

/// Where the kernel has ip_tables but no nftables NAT (Debian 13's
/// user-mode Linux has CONFIG_IP_NF_NAT but not CONFIG_NFT_NAT),
/// iptables-nft cannot make the nat table ("TABLE_ADD failed (Operation not
/// supported): table nat"); the legacy backend can. Elsewhere the image's
/// default stays.
fn legacy_iptables_where_nft_has_no_nat() {
    if !Path::new("/proc/net/ip_tables_names").exists()
        || !Path::new("/usr/sbin/iptables-nft").exists()
    {
        return;
    }
    // Listing the nat table works either way; making a chain in it (in the
    // sandbox's own network namespace, as netavark would) shows whether it can be.
    const PROBE: &str = "DINDBOX-NAT-PROBE";
    let unsupported = Cmd::new("iptables-nft")
        .args(["-t", "nat", "-N", PROBE])
        .output()
        .is_ok_and(|out| !out.success() && out.stderr.contains("Operation not supported"));
    let _ = Cmd::new("iptables-nft")
        .args(["-t", "nat", "-X", PROBE])
        .output();
    if unsupported {
        for tool in ["iptables", "ip6tables"] {
            let _ = Cmd::new("update-alternatives")
                .args(["--set", tool, &format!("/usr/sbin/{tool}-legacy")])
                .output();
        }
    }
}

pub(super) fn configure_podman(spec: &InnerEngineSpec) -> Result<Running, StartError> {
    find("podman")?;
    // netavark runs `iptables` for nested containers' networks.
    legacy_iptables_where_nft_has_no_nat();
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
