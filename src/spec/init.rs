//! What the sandbox's init role does before it runs the user's command.
//!
//! The plan writes this on the host; `dindbox init` reads it inside the
//! sandbox. It travels as one JSON argument, so the plan shows it whole.

use serde::{Deserialize, Serialize};

use super::EngineKind;

/// Where the inner engine's log goes inside the sandbox.
pub const LOG_DIR: &str = "/var/log/dindbox";
/// Where tarballs of images to preload into the inner engine are mounted.
pub const PRELOAD_DIR: &str = "/run/dindbox/preload";
/// Where the dindbox binary is mounted inside the sandbox.
pub const INIT_PATH: &str = "/usr/local/libexec/dindbox/dindbox";
/// Where the init reports the inner set-up that worked (a host directory, mounted in).
pub const REPORT_DIR: &str = "/run/dindbox/report";
/// The file in `REPORT_DIR` that holds the report.
pub const REPORT_FILE: &str = "recipe.json";
/// Where the init records that the sandbox is ready (or why it is not).
pub const STATE_FILE: &str = "/run/dindbox/state.json";
/// In a systemd sandbox: the unit that runs the inner engine.
pub const SYSTEMD_UNIT: &str = "dindbox-engine.service";
/// In a systemd sandbox: where the init leaves the inner set-up for that unit.
pub const SYSTEMD_SPEC_FILE: &str = "/run/dindbox/engine.json";

/// The inner Podman's storage, least demanding last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Storage {
    /// Kernel overlayfs.
    Overlay,
    /// overlay through fuse-overlayfs (needs /dev/fuse).
    FuseOverlayfs,
    /// Plain copies: slow and large, but works on any filesystem.
    Vfs,
}

impl Storage {
    pub fn name(self) -> &'static str {
        match self {
            Storage::Overlay => "native overlay",
            Storage::FuseOverlayfs => "fuse-overlayfs",
            Storage::Vfs => "vfs",
        }
    }

    /// The graph root: vfs keeps its layers apart from the overlay store
    /// (a store records its driver, and refuses another).
    pub fn graphroot(self) -> &'static str {
        match self {
            Storage::Overlay | Storage::FuseOverlayfs => "/var/lib/containers/storage",
            Storage::Vfs => "/var/lib/containers/storage-vfs",
        }
    }

    /// Podman's storage.conf for this choice.
    pub fn storage_conf(self) -> String {
        let driver = match self {
            Storage::Vfs => "vfs",
            _ => "overlay",
        };
        let mut text = format!(
            "# Written by dindbox init: storage stepped down to {}.\n[storage]\ndriver = \"{driver}\"\nrunroot = \"/run/containers/storage\"\ngraphroot = \"{}\"\n",
            self.name(),
            self.graphroot()
        );
        if self == Storage::FuseOverlayfs {
            text.push_str(
                "\n[storage.options.overlay]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
            );
        }
        text
    }
}

/// Where an inner engine keeps its images and containers.
pub fn storage_path(inner: EngineKind) -> &'static str {
    match inner {
        EngineKind::Docker => "/var/lib/docker",
        EngineKind::Podman => "/var/lib/containers",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CgroupSetup {
    /// Leave /sys/fs/cgroup as the outer engine made it.
    Leave,
    /// cgroup v1: remount /sys read-write and mount each controller afresh on a
    /// tmpfs; with a private cgroup namespace each is the sandbox's own subtree.
    MountV1 { controllers: Vec<String> },
    /// cgroup v2: make /sys/fs/cgroup writable, move every process into
    /// `init/`, and enable every controller for the children.
    NestV2,
    /// Decide inside, from the cgroup mounts the sandbox sees: for a runtime
    /// with a kernel of its own (a VM), whose layout the host's facts do not tell.
    Detect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimits {
    pub nofile: u64,
    pub nproc: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerEngineSpec {
    pub kind: EngineKind,
    /// The OCI runtime the inner engine uses (runc or crun).
    pub runtime: String,
    /// Limits nested containers get by default (within the sandbox's own hard limits).
    pub ulimits: Option<Ulimits>,
    /// How long to wait for the engine to answer, in milliseconds.
    pub ready_timeout_ms: u64,
    /// dockerd manages iptables itself. When false, dockerd runs with
    /// `--iptables=false` and the init adds one MASQUERADE rule on the
    /// sandbox's uplink: nested containers reach out, resolve each other and
    /// publish ports (through docker-proxy) as usual, the start is about 0.1 s
    /// faster, and the sandbox's inner networks are not firewalled from one another.
    #[serde(default)]
    pub engine_firewall: bool,
    /// Nested containers run without cgroups (a rootless sandbox has no
    /// cgroup tree it may write).
    #[serde(default)]
    pub cgroups_disabled: bool,
    /// The sandbox's root is not the host's root (a user namespace): dockerd
    /// runs in its rootless mode.
    #[serde(default)]
    pub userns: bool,
    /// Nested containers share the sandbox's network namespace by default
    /// (the sandbox shares the host's, where no bridge can be made).
    #[serde(default)]
    pub nested_host_network: bool,
    /// The inner Podman's storage, when stepped down from the image's own.
    #[serde(default)]
    pub storage: Option<Storage>,
    /// An image to run once the engine answers, to prove nested containers
    /// run (and step down until they do); None when this host's set-up is
    /// remembered from an earlier start.
    #[serde(default)]
    pub canary: Option<String>,
    /// Where to write the set-up that worked, for the host to remember.
    #[serde(default)]
    pub report: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerSpec {
    pub cgroup: CgroupSetup,
    /// Make /proc/sys/net writable: network settings of the sandbox's own
    /// network namespace, which inner engines set for their bridges. The rest
    /// of /proc/sys, which reaches the host's kernel, stays read-only.
    #[serde(default)]
    pub net_sysctls: bool,
    pub engine: Option<InnerEngineSpec>,
    /// The command to run once everything is up; empty means an interactive shell.
    pub command: Vec<String>,
    /// Stop the inner engine cleanly when the command ends (kept sandboxes);
    /// a throw-away sandbox skips that, since its storage is dropped anyway.
    pub graceful_stop: bool,
    /// A kept sandbox: run no command, report readiness and serve until the
    /// sandbox is stopped; commands come through `exec` of the `enter` role.
    #[serde(default)]
    pub serve: bool,
    /// Make /var/run/docker.sock a link to this socket (a served API socket,
    /// whose directory is mounted, so that a restarted service is reached).
    #[serde(default)]
    pub socket_link: Option<String>,
    /// Boot systemd after the set-up: the init writes the inner engine's
    /// spec and unit under /run and execs /sbin/init, and the unit starts the
    /// engine and reports readiness.
    #[serde(default)]
    pub systemd: bool,
    /// A user namespace the init makes, and runs the rest in (Docker's
    /// sandboxes, which the engine gives none of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns: Option<InitUserNs>,
}

/// The user namespace the init makes: its id maps, and the mounts it
/// id-maps into it so that their files keep their owners on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitUserNs {
    pub uids: Vec<super::IdRange>,
    pub gids: Vec<super::IdRange>,
    /// Paths inside the sandbox (bind mounts of host directories).
    #[serde(default)]
    pub idmap: Vec<String>,
    /// Take the engine's masks over /proc and /sys away first, which nested
    /// containers' own proc and sysfs mounts need (dind).
    #[serde(default)]
    pub unmask: bool,
    /// Capabilities (`SYS_ADMIN`) that only the init outside holds: dropped
    /// from the bounding set of everything inside.
    #[serde(default)]
    pub outside_only: Vec<String>,
}

impl InnerSpec {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the inner spec always serialises")
    }

    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let spec = InnerSpec {
            cgroup: CgroupSetup::MountV1 {
                controllers: vec!["cpu".into(), "name=systemd".into()],
            },
            net_sysctls: true,
            engine: Some(InnerEngineSpec {
                kind: EngineKind::Docker,
                runtime: "runc".into(),
                ulimits: Some(Ulimits {
                    nofile: 20000,
                    nproc: 20000,
                }),
                ready_timeout_ms: 30_000,
                engine_firewall: false,
                cgroups_disabled: true,
                userns: true,
                nested_host_network: false,
                storage: Some(Storage::Vfs),
                canary: Some("localhost/dindbox/canary:latest".into()),
                report: None,
            }),
            command: vec!["/bin/sh".into(), "-c".into(), "docker ps".into()],
            graceful_stop: false,
            serve: false,
            socket_link: None,
            systemd: true,
            userns: Some(InitUserNs {
                uids: vec![super::super::IdRange {
                    inside: 0,
                    outside: 100000,
                    count: 65536,
                }],
                gids: vec![],
                idmap: vec!["/workspace".into()],
                unmask: true,
                outside_only: vec!["SYS_ADMIN".into()],
            }),
        };
        assert_eq!(InnerSpec::from_json(&spec.to_json()).unwrap(), spec);
    }
}
