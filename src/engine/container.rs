//! Containers and volumes as the engine reports them (`inspect` JSON, which
//! Docker and Podman share in the parts read here).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Engine;
use crate::error::{Error, Result};
use crate::spec::labels;

/// A container, from `container inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    /// created, running, paused, restarting, exited, dead (Podman: also stopped, configured).
    pub status: String,
    pub exit_code: i64,
    /// RFC 3339, as the engine wrote it.
    pub created: String,
    pub labels: BTreeMap<String, String>,
    /// The engine removes it when it stops (`--rm`): a throw-away sandbox.
    pub auto_remove: bool,
    /// The AppArmor profile it runs under ("" where there is none).
    pub apparmor_profile: String,
}

impl Container {
    /// dindbox made it (it carries the managed label).
    pub fn is_sandbox(&self) -> bool {
        self.labels.get(labels::MANAGED).map(String::as_str) == Some("true")
    }

    pub fn running(&self) -> bool {
        self.status == "running"
    }

    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainer {
    id: String,
    name: String,
    created: String,
    state: RawState,
    config: RawConfig,
    #[serde(default)]
    host_config: RawHostConfig,
    #[serde(default, rename = "AppArmorProfile")]
    apparmor_profile: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawHostConfig {
    #[serde(default)]
    auto_remove: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawState {
    status: String,
    #[serde(default)]
    exit_code: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Parse `container inspect` output (a JSON array).
pub fn parse_containers(json: &str) -> Result<Vec<Container>> {
    let raw: Vec<RawContainer> = serde_json::from_str(json).map_err(|e| {
        Error::failure("could not read the engine's `container inspect` output")
            .cause(e.to_string())
    })?;
    Ok(raw
        .into_iter()
        .map(|c| Container {
            id: c.id,
            name: c.name.trim_start_matches('/').to_string(),
            status: c.state.status,
            exit_code: c.state.exit_code,
            created: c.created,
            labels: c.config.labels.unwrap_or_default(),
            auto_remove: c.host_config.auto_remove,
            apparmor_profile: c.apparmor_profile.unwrap_or_default(),
        })
        .collect())
}

/// A volume, from `volume inspect`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

impl Volume {
    pub fn label(&self, key: &str) -> &str {
        self.labels
            .as_ref()
            .and_then(|l| l.get(key))
            .map(String::as_str)
            .unwrap_or("")
    }
}

impl Engine {
    /// The container of that name or id; None when there is none.
    pub fn inspect_container(&self, name: &str) -> Result<Option<Container>> {
        let out = self.cmd().args(["container", "inspect", name]).output()?;
        if !out.success() {
            return Ok(None);
        }
        Ok(parse_containers(&out.stdout)?.into_iter().next())
    }

    /// Every container dindbox made on this engine, found by label.
    pub fn sandboxes(&self) -> Result<Vec<Container>> {
        let json = self.inspect_listed(&list_args(), &["container", "inspect"])?;
        parse_containers(&json)
    }

    /// Volumes dindbox made, for one sandbox or for all.
    pub fn sandbox_volumes(&self, sandbox: Option<&str>) -> Result<Vec<Volume>> {
        let filter = match sandbox {
            Some(name) => format!("label={}={name}", labels::SANDBOX),
            None => format!("label={}=true", labels::MANAGED),
        };
        let list = ["volume", "ls", "-q", "--filter", &filter].map(String::from);
        let json = self.inspect_listed(&list, &["volume", "inspect"])?;
        let vols: Vec<Volume> = serde_json::from_str(&json).map_err(|e| {
            Error::failure("could not read the engine's `volume inspect` output")
                .cause(e.to_string())
        })?;
        // `label=KEY=VALUE` filters match exactly on both engines; keep only ours.
        Ok(vols
            .into_iter()
            .filter(|v| sandbox.is_some() || v.label(labels::MANAGED) == "true")
            .collect())
    }

    /// The `inspect` JSON of what a listing (`list`, one name or id a word)
    /// names: `[]` when it names nothing.
    fn inspect_listed(&self, list: &[String], inspect: &[&str]) -> Result<String> {
        let names = self.cmd().args(list.iter().cloned()).run()?;
        let names: Vec<&str> = names.stdout.split_whitespace().collect();
        if names.is_empty() {
            return Ok("[]".into());
        }
        let out = self
            .cmd()
            .args(inspect.iter().copied())
            .args(names)
            .output()?;
        // One removed between the two calls makes inspect fail for it alone;
        // the others are still printed.
        Ok(if out.stdout.trim().is_empty() {
            "[]".into()
        } else {
            out.stdout
        })
    }
}

/// `ps` arguments that list the ids of dindbox's containers.
pub(super) fn list_args() -> Vec<String> {
    let filter = format!("label={}=true", labels::MANAGED);
    ["ps", "-a", "-q", "--no-trunc", "--filter", &filter]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_podman_inspect_read_alike() {
        let docker = r#"[{"Id":"abc","Created":"2026-11-25T05:30:00.123456789Z","Name":"/box",
            "State":{"Status":"running","ExitCode":0},"AppArmorProfile":"dindbox-nesting-1",
            "HostConfig":{"AutoRemove":true},
            "Config":{"Labels":{"io.dindbox.managed":"true","io.dindbox.mode":"dind"}}}]"#;
        let podman = r#"[{"Id":"def","Created":"2026-11-25T05:30:00.1+00:00","Name":"box",
            "State":{"Status":"exited","ExitCode":121},"Config":{"Labels":null}}]"#;
        let d = &parse_containers(docker).unwrap()[0];
        assert_eq!(d.name, "box");
        assert!(d.is_sandbox() && d.running());
        assert_eq!(d.label(labels::MODE), "dind");
        assert!(d.auto_remove);
        assert_eq!(d.apparmor_profile, "dindbox-nesting-1");
        let p = &parse_containers(podman).unwrap()[0];
        assert_eq!((p.name.as_str(), p.exit_code), ("box", 121));
        assert!(!p.is_sandbox() && !p.auto_remove);
        assert_eq!(p.apparmor_profile, "");
    }
}
