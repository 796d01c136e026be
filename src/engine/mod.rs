//! The host engines dindbox drives, through their CLIs.
//!
//! `api.rs` is what dindbox asks of an engine, as one interface
//! ([`EngineApi`]) that [`Engine`] answers through the CLI and `fake.rs`
//! answers in tests. `docker.rs` and `podman.rs` hold what differs between
//! the two CLIs, one [`Spelling`] each: how each spells a flag, and how each
//! reports itself in `info`. Everything here that runs a command goes
//! through [`crate::process::Cmd`].

pub mod api;
pub mod container;
pub mod docker;
#[cfg(test)]
pub mod fake;
pub mod podman;
pub mod socket;

pub use api::EngineApi;

use std::path::Path;

use crate::error::Result;
use crate::process::{Cmd, Output};

pub use crate::spec::EngineKind;

/// What follows from the engine kind for its CLI.
impl EngineKind {
    /// How this engine's CLI spells what differs between the two.
    pub fn cli(self) -> &'static Spelling {
        match self {
            EngineKind::Docker => &docker::SPELLING,
            EngineKind::Podman => &podman::SPELLING,
        }
    }

    /// Capabilities the engine gives every container unless told otherwise.
    pub fn default_caps(self) -> &'static [&'static str] {
        self.cli().default_caps
    }
}

/// What differs between the Docker and Podman CLIs, one value in each of
/// `docker.rs` and `podman.rs`.
pub struct Spelling {
    /// `info --format` for the whole answer as JSON.
    pub info_format: &'static str,
    /// Capabilities `run` grants by default.
    pub default_caps: &'static [&'static str],
    /// `cp` flags that keep owners when extracting into a container.
    pub cp_keep_owners: &'static [&'static str],
    /// `save` flags for a docker-archive tarball, which either engine can `load`.
    pub save_docker_archive: &'static [&'static str],
}

/// A host engine reached through its CLI.
#[derive(Debug, Clone)]
pub struct Engine {
    pub kind: EngineKind,
    pub binary: String,
    /// Global flags put before every subcommand (podman's `--runtime`).
    pub global: Vec<String>,
}

impl Engine {
    pub fn new(kind: EngineKind, binary: &str) -> Self {
        Engine {
            kind,
            binary: binary.to_string(),
            global: Vec::new(),
        }
    }

    pub fn cmd(&self) -> Cmd {
        Cmd::new(&self.binary).args(self.global.iter().cloned())
    }

    /// The labels of a local image; None when there is no such image.
    pub fn image_labels(
        &self,
        image: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>> {
        let out = self
            .cmd()
            .args([
                "image",
                "inspect",
                "--format",
                "{{json .Config.Labels}}",
                image,
            ])
            .output()?;
        if !out.success() {
            return Ok(None);
        }
        let labels: Option<std::collections::BTreeMap<String, String>> =
            serde_json::from_str(out.stdout.trim()).unwrap_or(None);
        Ok(Some(labels.unwrap_or_default()))
    }

    /// Run a removal; "no such …" counts as done.
    fn remove(&self, args: &[&str]) -> Result<()> {
        let cmd = self.cmd().args(args.iter().copied());
        let out = cmd.output()?;
        if out.success() || out.stderr.to_lowercase().contains("no such") {
            Ok(())
        } else {
            Err(cmd.failed(&out.status, &out.stderr))
        }
    }

    pub fn remove_container(&self, name: &str) -> Result<()> {
        self.remove(&["rm", "-f", "-v", name])
    }

    pub fn remove_volume(&self, name: &str) -> Result<()> {
        self.remove(&["volume", "rm", "-f", name])
    }

    pub fn volume_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .cmd()
            .args(["volume", "inspect", name])
            .output()?
            .success())
    }

    /// `import` a root filesystem tarball as an image.
    pub fn import(&self, tarball: &Path, image: &str, changes: &[String]) -> Result<Output> {
        let mut cmd = self.cmd().arg("import");
        for change in changes {
            cmd = cmd.arg("--change").arg(change.clone());
        }
        cmd.arg(tarball.display().to_string()).arg(image).run()
    }

    /// Extract a tarball into a (created, not running) container's filesystem at `dest`, owners kept.
    pub fn copy_into(&self, container: &str, dest: &str, tarball: &Path) -> Result<()> {
        self.cmd()
            .arg("cp")
            .args(self.kind.cli().cp_keep_owners.iter().copied())
            .args(["-", &format!("{container}:{dest}")])
            .stdin_file(tarball)
            .run()
            .map(|_| ())
    }

    /// `save` an image into a docker-archive tarball, which either engine can `load`.
    pub fn save(&self, image: &str, path: &Path) -> Result<()> {
        self.cmd()
            .arg("save")
            .args(self.kind.cli().save_docker_archive.iter().copied())
            .args(["-o", &path.display().to_string(), image])
            .run()
            .map(|_| ())
    }
}

/// The major number of an engine's version ("20.10.24+dfsg1" -> 20); 0 when
/// unknown, so that an unknown engine is taken as old.
pub fn major_version(server_version: Option<&str>) -> u32 {
    server_version
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0)
}
