//! The facts about a host that every plan is made from.
//!
//! These are plain data: the probe fills them in from `/proc`, `/sys`, `/etc`
//! and the engines' `info`, and test fixtures write them by hand as JSON.

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostFacts {
    /// `uname -r`, e.g. "6.18.44".
    pub kernel: String,
    /// The user dindbox runs as.
    pub uid: u32,
    pub cgroup: CgroupFacts,
    pub caps: CapFacts,
    pub userns: UsernsFacts,
    pub devices: DeviceFacts,
    pub security: SecurityFacts,
    pub limits: LimitFacts,
    /// OCI runtimes found on PATH (runc, crun, runsc, kata-runtime, sysbox-runc, runcvm).
    pub oci_runtimes: Vec<OciRuntime>,
    /// User-space network helpers found on PATH (slirp4netns, pasta).
    #[serde(default)]
    pub network_helpers: Vec<OciRuntime>,
    /// Filesystems the kernel knows (`/proc/filesystems`) that matter for nesting.
    pub filesystems: FsFacts,
    /// The kernel has nftables' NAT (CONFIG_NFT_NAT): loaded, built in or
    /// loadable. Where it has not, iptables-nft cannot make a nat table, and
    /// an inner engine's NAT goes through legacy iptables. None: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nft_nat: Option<bool>,
    /// Set when dindbox itself runs inside a container.
    pub in_container: Option<String>,
    /// MTU of the interface of the default route.
    pub default_route_mtu: Option<u32>,
    /// Environment that points at engines.
    pub env: EnvFacts,
    /// One entry per engine CLI found, whether it answers or not.
    pub engines: Vec<EngineFacts>,
    /// This machine's (or container's) host name, to tell an engine that
    /// answers from outside the container dindbox runs in.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Who ran dindbox (through sudo, the user who ran sudo); None in facts
    /// recorded before it was probed, where `uid` stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoker: Option<Invoker>,
}

/// The person dindbox works for: whose files the workspace's are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Invoker {
    pub uid: u32,
    pub gid: u32,
    /// The user's name, as /etc/subuid names users.
    pub name: Option<String>,
    /// Through sudo (SUDO_UID, SUDO_GID, SUDO_USER).
    #[serde(default)]
    pub sudo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CgroupLayout {
    /// Only the v1 controllers are mounted.
    V1,
    /// The unified hierarchy only.
    V2,
    /// v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified.
    Hybrid,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CgroupFacts {
    pub layout: CgroupLayout,
    /// v1 controllers mounted under /sys/fs/cgroup (e.g. "cpu", "memory", "name=systemd").
    pub v1_controllers: Vec<String>,
    /// Controllers listed in /sys/fs/cgroup/cgroup.controllers (v2).
    pub v2_controllers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CapFacts {
    /// Capability names ("CAP_SYS_ADMIN", ...) in this process's bounding set.
    pub bounding: Vec<String>,
    /// Capabilities the kernel knows (0..=cap_last_cap) that are not in the bounding set.
    pub missing: Vec<String>,
    /// /proc/sys/kernel/cap_last_cap
    pub last_cap: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SubIdRange {
    pub user: String,
    pub start: u64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UsernsFacts {
    /// /proc/sys/user/max_user_namespaces
    pub max_user_namespaces: Option<u64>,
    /// kernel.unprivileged_userns_clone (Debian/Ubuntu); None where the knob does not exist.
    pub unprivileged_userns_clone: Option<bool>,
    /// kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+).
    pub apparmor_restrict_unprivileged_userns: Option<bool>,
    pub subuid: Vec<SubIdRange>,
    pub subgid: Vec<SubIdRange>,
    pub newuidmap: bool,
    pub newgidmap: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceNode {
    pub path: String,
    pub major: u32,
    pub minor: u32,
    /// Permission bits, e.g. 0o600.
    pub mode: u32,
}

impl DeviceNode {
    /// Whether a user who is not root and does not own the node can open it
    /// read-write (dindbox does not know the owner: only "others" bits count).
    pub fn open_to_users(&self) -> bool {
        open_to_others(self.mode)
    }
}

/// Whether permission bits let every user read and write (a device node, a socket).
pub fn open_to_others(mode: u32) -> bool {
    mode & 0o006 == 0o006
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceFacts {
    pub fuse: Option<DeviceNode>,
    pub net_tun: Option<DeviceNode>,
    pub kvm: Option<DeviceNode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SelinuxMode {
    #[default]
    Absent,
    Disabled,
    Permissive,
    Enforcing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SecurityFacts {
    pub selinux: SelinuxMode,
    pub apparmor: bool,
    /// Seccomp is available in the kernel (`Seccomp:` line of /proc/self/status).
    pub seccomp: bool,
    /// kernel.dmesg_restrict: only CAP_SYSLOG reads the kernel log. When it
    /// is off, every user of the host reads it, and so does every sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmesg_restrict: Option<bool>,
    /// kernel.unprivileged_bpf_disabled: 0 lets every user (and so every
    /// sandbox) load BPF programs and make maps; 1 or 2, only CAP_BPF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unprivileged_bpf_disabled: Option<u32>,
    /// The AppArmor profiles of dindbox's the kernel has loaded (from
    /// securityfs); None where they cannot be read (not root, not mounted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparmor_loaded: Option<Vec<String>>,
    /// `apparmor_parser` is installed: root loads dindbox's profile with it.
    #[serde(default)]
    pub apparmor_parser: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LimitFacts {
    /// Hard RLIMIT_NOFILE; None means unlimited or unknown.
    pub nofile_hard: Option<u64>,
    /// Hard RLIMIT_NPROC; None means unlimited or unknown.
    pub nproc_hard: Option<u64>,
    /// kernel.pid_max: Podman lowers its own RLIMIT_NPROC to it.
    #[serde(default)]
    pub pid_max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OciRuntime {
    pub name: String,
    pub path: String,
    /// Its own `--version` answer, read only where a plan needs it (gVisor's
    /// behaviour changes with its release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FsFacts {
    pub overlay: bool,
    pub fuse: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EnvFacts {
    pub docker_host: Option<String>,
    pub container_host: Option<String>,
    pub xdg_runtime_dir: Option<String>,
    /// SUDO_UID, SUDO_GID and SUDO_USER, as sudo sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo: Option<(String, String, String)>,
}

/// A socket an engine may be reached on, and whether it answered a ping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SocketFacts {
    pub path: String,
    pub answers: bool,
    /// Permission bits, e.g. 0o660.
    #[serde(default)]
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineFacts {
    pub kind: EngineKind,
    /// The CLI that was asked, as found on PATH.
    pub binary: String,
    /// `info` answered.
    pub answers: bool,
    /// Why it did not answer (the tail of its stderr).
    pub error: Option<String>,
    pub server_version: Option<String>,
    pub rootless: bool,
    pub cgroup_driver: Option<String>,
    /// "1" or "2" as the engine reports it.
    pub cgroup_version: Option<String>,
    pub storage_driver: Option<String>,
    pub default_runtime: Option<String>,
    pub runtimes: Vec<String>,
    /// Arguments an engine passes to each registered runtime (Docker's
    /// `runtimeArgs` from daemon.json), by runtime name.
    #[serde(default)]
    pub runtime_args: std::collections::BTreeMap<String, Vec<String>>,
    /// API sockets of this engine that exist on the host, first the preferred.
    pub sockets: Vec<SocketFacts>,
    /// The kernel the engine runs on, as its `info` reports it.
    #[serde(default)]
    pub kernel: Option<String>,
    /// The engine runs under another kernel than dindbox (a VM such as
    /// `podman machine`, or another machine): this host's /proc, /sys and
    /// /etc say nothing about it.
    #[serde(default)]
    pub remote: bool,
    /// The engine's API socket as a path on the engine's own machine
    /// (Podman's `host.remoteSocket.path`), which a sandbox there can mount.
    #[serde(default)]
    pub remote_socket: Option<String>,
    /// Security modules the engine reports for its machine: any of
    /// "apparmor", "selinux", "seccomp".
    #[serde(default)]
    pub security: Vec<String>,
    /// The host name of the engine's machine, as its `info` reports it.
    #[serde(default)]
    pub host_name: Option<String>,
}

impl EngineFacts {
    pub fn new(kind: EngineKind, binary: &str) -> Self {
        EngineFacts {
            kind,
            binary: binary.to_string(),
            answers: false,
            error: None,
            server_version: None,
            rootless: false,
            cgroup_driver: None,
            cgroup_version: None,
            storage_driver: None,
            default_runtime: None,
            runtimes: Vec::new(),
            runtime_args: Default::default(),
            sockets: Vec::new(),
            kernel: None,
            remote: false,
            remote_socket: None,
            security: Vec::new(),
            host_name: None,
        }
    }

    /// The first socket that answered a ping.
    pub fn live_socket(&self) -> Option<&SocketFacts> {
        self.sockets.iter().find(|s| s.answers)
    }
}

impl HostFacts {
    pub fn engine(&self, kind: EngineKind) -> Option<&EngineFacts> {
        self.engines.iter().find(|e| e.kind == kind)
    }

    pub fn has_cap(&self, name: &str) -> bool {
        self.caps.bounding.iter().any(|c| c == name)
    }

    pub fn runtime(&self, name: &str) -> Option<&OciRuntime> {
        self.oci_runtimes.iter().find(|r| r.name == name)
    }

    pub fn network_helper(&self, name: &str) -> Option<&OciRuntime> {
        self.network_helpers.iter().find(|r| r.name == name)
    }

    /// Who ran dindbox; from `uid` alone where that was not probed.
    pub fn invoker(&self) -> Invoker {
        self.invoker.clone().unwrap_or(Invoker {
            uid: self.uid,
            gid: self.uid,
            name: (self.uid == 0).then(|| "root".to_string()),
            sudo: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_and_write_for_others_opens_a_node_to_users() {
        let node = |mode| DeviceNode {
            path: "/dev/net/tun".into(),
            major: 10,
            minor: 200,
            mode,
        };
        assert!(node(0o666).open_to_users());
        assert!(node(0o606).open_to_users());
        assert!(!node(0o600).open_to_users());
        assert!(!node(0o664).open_to_users(), "read only");
        assert!(!node(0o662).open_to_users(), "write only");
        assert!(open_to_others(0o777));
    }
}

/// What is known of the sandbox image before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageFacts {
    pub exists: bool,
    /// From the image's label; None for an image dindbox did not build.
    pub engines: Option<Vec<EngineKind>>,
    /// The image carries the label of images made for `--systemd`.
    #[serde(default)]
    pub systemd: bool,
}
