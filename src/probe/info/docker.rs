//! `docker info` read into the facts of the engine.

use serde::Deserialize;

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::EngineFacts;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Info {
    server_version: Option<String>,
    cgroup_driver: Option<String>,
    cgroup_version: Option<String>,
    driver: Option<String>,
    default_runtime: Option<String>,
    #[serde(default)]
    runtimes: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    security_options: Vec<String>,
    kernel_version: Option<String>,
    name: Option<String>,
    /// Set by the CLI when the daemon could not be reached.
    #[serde(default)]
    server_errors: Vec<String>,
}

/// Parse `docker info --format '{{json .}}'`.
pub fn parse_info(binary: &str, json: &str) -> Result<EngineFacts> {
    let info: Info = serde_json::from_str(json)
        .map_err(|e| Error::failure("could not read `docker info` output").cause(e.to_string()))?;
    let mut facts = EngineFacts::new(EngineKind::Docker, binary);
    if !info.server_errors.is_empty() || info.server_version.is_none() {
        facts.error = Some(info.server_errors.join("; "));
        return Ok(facts);
    }
    facts.answers = true;
    facts.server_version = info.server_version;
    facts.cgroup_driver = info.cgroup_driver;
    facts.cgroup_version = info.cgroup_version;
    facts.storage_driver = info.driver;
    facts.default_runtime = info.default_runtime;
    facts.runtime_args = info
        .runtimes
        .iter()
        .map(|(name, value)| (name.clone(), runtime_args(value)))
        .filter(|(_, args)| !args.is_empty())
        .collect();
    facts.runtimes = info.runtimes.into_keys().collect();
    let names: Vec<&str> = info
        .security_options
        .iter()
        .filter_map(|o| o.split(',').find_map(|p| p.strip_prefix("name=")))
        .collect();
    facts.rootless = names.contains(&"rootless");
    facts.security = ["apparmor", "selinux", "seccomp"]
        .into_iter()
        .filter(|m| names.contains(m))
        .map(String::from)
        .collect();
    facts.kernel = info.kernel_version;
    facts.host_name = info.name;
    Ok(facts)
}

/// The `runtimeArgs` of one entry of `docker info`'s `Runtimes`.
fn runtime_args(entry: &serde_json::Value) -> Vec<String> {
    entry
        .get("runtimeArgs")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_docker_20_10_on_cgroup_v1() {
        let json = include_str!("../../../tests/fixtures/info/docker-20.10-debian12-cgroupv1.json");
        let f = parse_info("docker", json).unwrap();
        assert!(f.answers);
        assert_eq!(f.server_version.as_deref(), Some("20.10.24+dfsg1"));
        assert_eq!(f.cgroup_version.as_deref(), Some("1"));
        assert_eq!(f.storage_driver.as_deref(), Some("overlay2"));
        assert_eq!(f.default_runtime.as_deref(), Some("runc"));
        assert!(f.runtimes.contains(&"runc".to_string()));
        assert!(!f.rootless);
        assert_eq!(f.kernel.as_deref(), Some("6.18.44-fc-v769"));
        assert_eq!(f.host_name.as_deref(), Some("vm"));
        assert_eq!(f.security, vec!["seccomp"]);
    }

    #[test]
    fn registered_runtimes_keep_their_arguments() {
        let json = r#"{"ServerVersion":"20.10.24","Runtimes":{"runc":{"path":"runc"},"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=host","--host-uds=open"]}}}"#;
        let f = parse_info("docker", json).unwrap();
        assert_eq!(f.runtimes, ["runc", "runsc"]);
        assert_eq!(
            f.runtime_args["runsc"],
            ["--network=host", "--host-uds=open"]
        );
        assert!(!f.runtime_args.contains_key("runc"));
    }

    #[test]
    fn rootless_daemon_is_recognised() {
        let json = r#"{"ServerVersion":"28.0.1","SecurityOptions":["name=seccomp,profile=builtin","name=rootless","name=cgroupns"]}"#;
        assert!(parse_info("docker", json).unwrap().rootless);
    }

    #[test]
    fn client_without_daemon_does_not_answer() {
        let json = r#"{"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"]}"#;
        let f = parse_info("docker", json).unwrap();
        assert!(!f.answers);
        assert!(f.error.unwrap().contains("Is the docker daemon running"));
    }
}
