//! What a sandbox is, as typed data: the plan makes it, each engine's
//! renderer (`render/`) spells it as that engine's flags, and exports read it.
//! Every item carries the reason it is there. Nothing here names a flag.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub mod confine;
pub mod images;
pub mod init;

/// Label keys dindbox puts on what it creates.
pub mod labels {
    pub const MANAGED: &str = "io.dindbox.managed";
    pub const MODE: &str = "io.dindbox.mode";
    pub const INNER: &str = "io.dindbox.inner";
    pub const SANDBOX: &str = "io.dindbox.sandbox";
    /// On images: which inner engines the image carries ("podman,docker").
    pub const ENGINES: &str = "io.dindbox.engines";
    /// On images: digest of the recipe the image was built from.
    pub const RECIPE: &str = "io.dindbox.recipe";
    /// On sandboxes: what they were made from (compared when `run` attaches).
    pub const IMAGE: &str = "io.dindbox.image";
    pub const MOUNTS: &str = "io.dindbox.mounts";
    pub const PORTS: &str = "io.dindbox.ports";
    pub const ENV: &str = "io.dindbox.env";
    pub const RUNTIME: &str = "io.dindbox.runtime";
    /// On sandboxes: the workspace, where commands run.
    pub const WORKDIR: &str = "io.dindbox.workdir";
    /// On sandboxes: how long `enter` waits for the inner engine, in ms.
    pub const TIMEOUT: &str = "io.dindbox.timeout-ms";
    /// On kept sock sandboxes: the Podman API service dindbox serves for it (JSON).
    pub const SERVICE: &str = "io.dindbox.service";
    /// On images: the image boots systemd and was made for `--systemd`.
    /// On sandboxes: the sandbox booted systemd.
    pub const SYSTEMD: &str = "io.dindbox.systemd";
    /// On sandboxes: the user namespace of the sandbox's own, as its uid map
    /// (empty where its root is the host's or the engine's user's).
    pub const USERNS: &str = "io.dindbox.userns";
}

use init::Ulimits;

/// The host engines dindbox drives (and the engines it runs inside).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    pub const ALL: [EngineKind; 2] = [EngineKind::Podman, EngineKind::Docker];

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(s, false).ok()
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A value and why the sandbox has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why<T> {
    pub value: T,
    pub why: String,
}

impl<T> Why<T> {
    pub fn new(value: T, why: impl Into<String>) -> Self {
        Why {
            value,
            why: why.into(),
        }
    }
}

/// How the engine's client stays connected to the sandbox's init.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attach {
    /// In the background; commands run in it through `exec`.
    Detached,
    /// stdin passed through, no terminal.
    Stdin,
    /// stdin and a terminal.
    Terminal,
}

/// Something mounted into the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Mount {
    /// A host path (directory, file or socket) at `target`.
    Bind {
        source: String,
        target: String,
        /// The engine's mount options as given (`ro`, `z`, ...).
        options: Option<String>,
    },
    /// A named volume.
    Volume { name: String, target: String },
    /// An anonymous volume, removed with the sandbox.
    Anonymous { target: String },
}

impl Mount {
    pub fn bind(source: impl Into<String>, target: impl Into<String>) -> Self {
        Mount::Bind {
            source: source.into(),
            target: target.into(),
            options: None,
        }
    }

    pub fn read_only(source: impl Into<String>, target: impl Into<String>) -> Self {
        Mount::Bind {
            source: source.into(),
            target: target.into(),
            options: Some("ro".into()),
        }
    }

    pub fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. }
            | Mount::Volume { target, .. }
            | Mount::Anonymous { target } => target,
        }
    }
}

/// A security option of the sandbox's process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityOpt {
    /// SELinux: bind mounts are not relabelled, the process not confined by label.
    NoLabel,
    /// No seccomp filter.
    SeccompUnconfined,
    /// No AppArmor profile.
    ApparmorUnconfined,
    /// dindbox's seccomp profile for nesting (`confine`), in this file on the host.
    SeccompProfile(PathBuf),
    /// dindbox's AppArmor profile for nesting (`confine`), by the name it is loaded as.
    Apparmor(String),
    /// /proc and /sys paths the engine masks or makes read-only are left as the kernel has them.
    UnmaskPaths,
    /// No process in the sandbox gains privileges by exec (setuid, file capabilities).
    NoNewPrivileges,
}

/// A privilege the sandbox gets beyond the engine's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privilege {
    /// The engine's own `--privileged`.
    All,
    /// A capability, by its name without `CAP_` (`SYS_ADMIN`).
    Cap(String),
    Security(SecurityOpt),
    /// A device cgroup rule (`c 5:1 rwm`).
    DeviceRule(String),
    /// A cgroup namespace of the sandbox's own.
    PrivateCgroupNs,
}

/// One line of a user namespace's id map: `count` ids from `inside` are the
/// host's ids from `outside`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    pub inside: u64,
    pub outside: u64,
    pub count: u64,
}

/// A user's map, for tests: 0 is uid 1000, 1–65535 are 100000 on.
#[cfg(test)]
pub fn sample_map() -> Vec<IdRange> {
    vec![
        IdRange {
            inside: 0,
            outside: 1000,
            count: 1,
        },
        IdRange {
            inside: 1,
            outside: 100000,
            count: 65535,
        },
    ]
}

impl std::fmt::Display for IdRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.inside, self.outside, self.count)
    }
}

/// The sandbox's own user namespace: which host ids its ids are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserNs {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
    /// The workspace and the user's bind mounts are mounted id-mapped, so
    /// that their files keep their owners on the host (root's stay root's).
    pub idmap_mounts: bool,
    /// Who makes the namespace: the engine (Podman's `--uidmap`), or the
    /// sandbox's init, for every process the user runs (Docker, which gives a
    /// container none of its own).
    #[serde(default)]
    pub made_by: UserNsMaker,
}

/// Who makes a sandbox's user namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserNsMaker {
    #[default]
    Engine,
    /// dindbox's init, which stays outside it and runs everything else in it.
    Init,
}

impl UserNs {
    /// The host uid and gid that the sandbox's root is.
    pub fn root(&self) -> (u64, u64) {
        (
            host_id(&self.uids, 0).unwrap_or(0),
            host_id(&self.gids, 0).unwrap_or(0),
        )
    }
}

/// The host id that a namespace's `id` is through `ranges`, if they map it.
pub fn host_id(ranges: &[IdRange], id: u64) -> Option<u64> {
    ranges
        .iter()
        .find(|r| id >= r.inside && id < r.inside + r.count)
        .map(|r| r.outside + (id - r.inside))
}

/// A resource limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// CPUs, as the user wrote them (`1.5`).
    Cpus(String),
    /// Memory in bytes.
    Memory(u64),
    /// Processes at once.
    Pids(u64),
    /// No limit on locked memory (RLIMIT_MEMLOCK, soft and hard).
    MemlockUnlimited,
}

/// How the sandbox boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boot {
    /// systemd as PID 1 (after dindbox's init has set up cgroups).
    Systemd,
}

/// An environment variable whose value is no secret (secrets go through `env_file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Var {
    pub name: String,
    pub value: String,
}

impl Var {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Var {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A label on the sandbox.
pub type Label = (String, String);

/// The sandbox, item by item. Renderers walk it in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// Removed with its storage when the command ends; why.
    pub remove: Option<String>,
    pub attach: Why<Attach>,
    /// dindbox's marks, which listing and clean-up go by.
    pub marks: Why<Vec<Label>>,
    pub hostname: Why<String>,
    /// The dindbox binary on the host, mounted in read-only as the sandbox's entrypoint.
    pub init: Why<PathBuf>,
    /// The workspace: a host directory, where it is mounted inside (and the working directory).
    pub workspace: Why<(String, String)>,
    /// Mounts the user asked for.
    pub binds: Vec<Why<Mount>>,
    /// Published ports, `[IP:]HOSTPORT:CONTAINERPORT[/PROTOCOL]`.
    pub ports: Vec<Why<String>>,
    pub limits: Vec<Why<Limit>>,
    /// The file the sandbox's environment is read from (values never on a command line).
    pub env_file: Option<Why<PathBuf>>,
    pub ulimits: Option<Why<Ulimits>>,
    pub network: Option<Why<String>>,
    /// A user namespace of the sandbox's own; None where its root is the host's.
    pub userns: Option<Why<UserNs>>,
    /// Capabilities, security options, devices and namespaces beyond the engine's defaults.
    pub privileges: Vec<Why<Vec<Privilege>>>,
    /// Mounts the recipe needs: inner storage, images to preload, sockets, reports.
    pub mounts: Vec<Why<Mount>>,
    /// Variables that are no secret, in groups with one reason each.
    pub env: Vec<Why<Vec<Var>>>,
    pub boot: Option<Boot>,
    /// The OCI runtime, when not the engine's default.
    pub runtime: Option<Why<String>>,
    /// Flags for the runtime (Podman passes them on as `--runtime-flag`).
    pub runtime_flags: Vec<Why<String>>,
    /// Labels that record what the sandbox was made from.
    pub labels: Vec<Why<Vec<Label>>>,
}

impl Spec {
    /// Every privilege item, in order.
    pub fn privilege_items(&self) -> impl Iterator<Item = &Privilege> {
        self.privileges.iter().flat_map(|p| p.value.iter())
    }

    pub fn has_privilege(&self, p: &Privilege) -> bool {
        self.privilege_items().any(|q| q == p)
    }
}
