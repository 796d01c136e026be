//! `podman info` read into the facts of the engine.

use serde::Deserialize;

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::EngineFacts;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    host: Host,
    store: Store,
    version: Version,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Host {
    cgroup_manager: Option<String>,
    cgroup_version: Option<String>,
    oci_runtime: Option<Named>,
    security: Option<Security>,
    kernel: Option<String>,
    hostname: Option<String>,
    #[serde(default)]
    service_is_remote: bool,
    remote_socket: Option<RemoteSocket>,
}

#[derive(Deserialize)]
struct RemoteSocket {
    path: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Security {
    #[serde(default)]
    rootless: bool,
    #[serde(default)]
    apparmor_enabled: bool,
    #[serde(default)]
    selinux_enabled: bool,
    #[serde(default)]
    seccomp_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Store {
    graph_driver_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Version {
    version: Option<String>,
}

/// Parse `podman info --format json`.
pub fn parse_info(binary: &str, json: &str) -> Result<EngineFacts> {
    let info: Info = serde_json::from_str(json)
        .map_err(|e| Error::failure("could not read `podman info` output").cause(e.to_string()))?;
    let mut facts = EngineFacts::new(EngineKind::Podman, binary);
    facts.answers = true;
    facts.server_version = info.version.version;
    facts.cgroup_driver = info.host.cgroup_manager;
    facts.cgroup_version = info
        .host
        .cgroup_version
        .map(|v| v.trim_start_matches('v').to_string());
    facts.storage_driver = info.store.graph_driver_name;
    facts.default_runtime = info.host.oci_runtime.and_then(|r| r.name);
    facts.runtimes = facts.default_runtime.iter().cloned().collect();
    if let Some(s) = &info.host.security {
        facts.rootless = s.rootless;
        facts.security = [
            ("apparmor", s.apparmor_enabled),
            ("selinux", s.selinux_enabled),
            ("seccomp", s.seccomp_enabled),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect();
    }
    facts.kernel = info.host.kernel;
    facts.host_name = info.host.hostname;
    facts.remote = info.host.service_is_remote;
    facts.remote_socket = info.host.remote_socket.and_then(|s| s.path);
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_podman_4_3_rootful() {
        let json = include_str!("../../../tests/fixtures/info/podman-4.3-debian12-rootful.json");
        let f = parse_info("podman", json).unwrap();
        assert!(f.answers);
        assert_eq!(f.server_version.as_deref(), Some("4.3.1"));
        assert_eq!(f.cgroup_version.as_deref(), Some("1"));
        assert_eq!(f.cgroup_driver.as_deref(), Some("cgroupfs"));
        assert_eq!(f.default_runtime.as_deref(), Some("crun"));
        assert_eq!(f.storage_driver.as_deref(), Some("overlay"));
        assert!(!f.rootless);
        assert_eq!(f.kernel.as_deref(), Some("6.18.44-fc-v769"));
        assert_eq!(f.host_name.as_deref(), Some("vm"));
        assert!(!f.remote);
        assert_eq!(f.remote_socket.as_deref(), Some("/run/podman/podman.sock"));
        assert_eq!(f.security, vec!["seccomp"]);
    }

    #[test]
    fn a_podman_machine_is_remote_with_its_own_socket_path() {
        let json = r#"{"host":{"cgroupVersion":"v2","kernel":"6.12.9-200.fc41.x86_64","serviceIsRemote":true,"remoteSocket":{"path":"/run/user/501/podman/podman.sock","exists":true},"security":{"rootless":true,"selinuxEnabled":true,"seccompEnabled":true}},"store":{"graphDriverName":"overlay"},"version":{"Version":"5.3.1"}}"#;
        let f = parse_info("podman", json).unwrap();
        assert!(f.remote);
        assert_eq!(
            f.remote_socket.as_deref(),
            Some("/run/user/501/podman/podman.sock")
        );
        assert_eq!(f.security, vec!["selinux", "seccomp"]);
    }

    #[test]
    fn rootless_podman_is_recognised() {
        let json = r#"{"host":{"cgroupVersion":"v2","cgroupManager":"systemd","ociRuntime":{"name":"crun"},"security":{"rootless":true}},"store":{"graphDriverName":"overlay"},"version":{"Version":"5.7.1"}}"#;
        let f = parse_info("podman", json).unwrap();
        assert!(f.rootless);
        assert_eq!(f.cgroup_version.as_deref(), Some("2"));
    }
}
