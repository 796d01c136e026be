//! `--runtime NAME`: the OCI runtime that runs the sandbox itself.
//!
//! runc and crun are the engines' own. Stronger runtimes change what a
//! sandbox is: gVisor (runsc) runs it on a kernel in user space, Kata and
//! RunCVM in a virtual machine with a kernel of its own, sysbox-runc in a
//! user namespace whose /proc and /sys it virtualises. Each gets the flags it
//! needs, with the reason, and is refused before anything starts where it
//! cannot work: not installed, not registered with the engine, or not able
//! to do what the mode asks.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};

use super::{Mode, Plan, Request};
use crate::spec::{Mount, Var, Why};

/// What kind of runtime a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Runc,
    Crun,
    /// gVisor's runsc: a kernel in user space.
    Gvisor,
    /// Kata Containers: a lightweight VM per container.
    Kata,
    /// Nestybox's sysbox-runc: a user namespace with virtualised /proc and /sys.
    Sysbox,
    /// RunCVM: a VM per container, from a standard image.
    Runcvm,
    /// A runtime dindbox has no recipe for: passed on as it is.
    Other,
}

impl Family {
    /// The family of a runtime as the user names it (a name or a path).
    pub fn of(name: &str) -> Family {
        let base = name.rsplit('/').next().unwrap_or(name);
        match base {
            "runc" | "io.containerd.runc.v2" => Family::Runc,
            "crun" => Family::Crun,
            b if b.starts_with("runsc") || b == "gvisor" || b == "io.containerd.runsc.v1" => {
                Family::Gvisor
            }
            b if b.starts_with("kata") || b.starts_with("io.containerd.kata") => Family::Kata,
            b if b.starts_with("sysbox") => Family::Sysbox,
            b if b.starts_with("runcvm") => Family::Runcvm,
            _ => Family::Other,
        }
    }

    /// The family of the request's runtime, if it names one.
    pub fn of_request(req: &Request) -> Option<Family> {
        req.runtime.as_deref().map(Family::of)
    }

    pub fn title(self) -> &'static str {
        match self {
            Family::Runc => "runc",
            Family::Crun => "crun",
            Family::Gvisor => "gVisor (runsc)",
            Family::Kata => "Kata Containers",
            Family::Sysbox => "sysbox-runc",
            Family::Runcvm => "RunCVM",
            Family::Other => "this runtime",
        }
    }

    /// The sandbox runs on a kernel of its own (a VM's): this host's cgroup
    /// layout and security modules do not describe what it sees inside.
    pub fn own_kernel(self) -> bool {
        matches!(self, Family::Kata | Family::Runcvm)
    }

    /// The runtime keeps the sandbox from the host by its own means: a kernel
    /// of its own (Kata, RunCVM), one in user space (gVisor), or a user
    /// namespace with its own /proc and /sys (sysbox).
    pub fn isolates_by_itself(self) -> bool {
        self.own_kernel() || matches!(self, Family::Gvisor | Family::Sysbox)
    }

    /// The binary a host has when the runtime is installed.
    fn binary(self) -> Option<&'static str> {
        match self {
            Family::Runc => Some("runc"),
            Family::Crun => Some("crun"),
            Family::Gvisor => Some("runsc"),
            Family::Kata => Some("kata-runtime"),
            Family::Sysbox => Some("sysbox-runc"),
            Family::Runcvm => Some("runcvm"),
            Family::Other => None,
        }
    }

    fn install_hint(self) -> Option<&'static str> {
        match self {
            Family::Runc => Some("install runc: `apt-get install runc`"),
            Family::Crun => Some("install crun: `apt-get install crun`"),
            Family::Gvisor => Some(
                "install gVisor: `apt-get install runsc` (Debian), or the gVisor releases' apt repository",
            ),
            Family::Kata => {
                Some("install Kata Containers (its packages or kata-deploy); it needs /dev/kvm")
            }
            Family::Sysbox => Some(
                "install sysbox (Nestybox's sysbox-ce package); its installer registers sysbox-runc with Docker",
            ),
            Family::Runcvm => Some(
                "install RunCVM (its installer puts it in /opt/runcvm and registers runcvm with Docker); it needs /dev/kvm",
            ),
            Family::Other => None,
        }
    }
}

/// Refuse, before anything starts, a runtime that is not there or cannot do
/// what the request asks.
pub fn check(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    let Some(name) = req.runtime.as_deref() else {
        return Ok(());
    };
    let family = Family::of(name);
    installed(name, family, host, engine)?;
    if family.own_kernel() && !engine.remote && host.devices.kvm.is_none() {
        return Err(Error::refused(format!(
            "{} runs each sandbox in a virtual machine, and this host has no /dev/kvm",
            family.title()
        ))
        .cause("/dev/kvm does not exist: the host's CPU virtualisation is off, or this host is itself a VM without nested virtualisation")
        .hint("enable virtualisation (VT-x/AMD-V, or nested virtualisation for a VM) and load the kvm module")
        .hint("or leave out `--runtime` for the engine's own runtime"));
    }
    match family {
        Family::Crun if engine.kind == EngineKind::Podman && host.cgroup.layout == CgroupLayout::Hybrid => {
            Err(Error::refused("crun does not support this host's hybrid cgroups")
                .cause("cgroup v1 controllers with an empty cgroup2 at /sys/fs/cgroup/unified: crun stops with `cgroups in hybrid mode not supported`")
                .hint("use `--runtime runc`, or leave out `--runtime` (dindbox picks runc here)")
                .hint("or boot the host with pure cgroup v2 (systemd.unified_cgroup_hierarchy=1)"))
        }
        Family::Gvisor if req.mode == Mode::Dind => Err(gvisor_cannot_nest()),
        Family::Gvisor if engine.kind == EngineKind::Docker => {
            gvisor_docker_network(name, host, engine)?;
            if req.mode == Mode::Sock {
                gvisor_docker_sock(name, engine)?;
            }
            Ok(())
        }
        Family::Sysbox => sysbox_limits(req, engine),
        Family::Kata if req.privileged => Err(Error::usage(
            "`--privileged` with Kata Containers would pass every device of this host into the sandbox's VM",
        )
        .cause("Kata gives a privileged container the host's /dev, which breaks the VM's boundary")
        .hint("leave out `--privileged`: dind gets the capabilities it needs one by one")),
        _ => Ok(()),
    }
}

/// Whether the engine can start containers with `name`.
fn installed(name: &str, family: Family, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    match engine.kind {
        EngineKind::Docker => {
            if engine.runtimes.iter().any(|r| r == name) || docker_shim(name, engine) {
                return Ok(());
            }
            let on_path = family.binary().and_then(|b| host.runtime(b));
            let mut err = Error::usage(format!("Docker has no runtime `{name}`"));
            err = err.cause(format!(
                "the runtimes Docker knows are: {}",
                engine.runtimes.join(", ")
            ));
            if let Some(rt) = on_path {
                err = err
                    .cause(format!("{} is installed at {}, but not registered with Docker", family.title(), rt.path))
                    .hint(format!(
                        "register it in /etc/docker/daemon.json: {}",
                        registration(name, family, &rt.path)
                    ))
                    .hint("then reload Docker: `systemctl reload docker` (or `kill -HUP $(pidof dockerd)`)");
            } else if let Some(hint) = family.install_hint() {
                err = err.hint(hint);
            }
            if family == Family::Gvisor && on_path.is_some() {
                err = err.hint("or `runsc install`, which writes that entry for you");
            }
            Err(err)
        }
        EngineKind::Podman => {
            match family {
                Family::Sysbox => {
                    return Err(Error::refused(
                        "sysbox-runc runs under Docker (and Kubernetes), not Podman",
                    )
                    .hint("run with `--engine docker`"));
                }
                Family::Runcvm => {
                    return Err(Error::refused("RunCVM runs under Docker only")
                        .cause("RunCVM is a Docker runtime; Podman cannot start containers with it")
                        .hint("run with `--engine docker`"));
                }
                _ => {}
            }
            // A path is Podman's to check; a remote engine's runtimes are on its own machine.
            if name.starts_with('/') || engine.remote {
                return Ok(());
            }
            let Some(binary) = family.binary() else {
                return Ok(());
            };
            if host.runtime(binary).is_some() {
                return Ok(());
            }
            let mut err = Error::usage(format!("runtime `{name}` is not installed on this host"))
                .cause(format!("`{binary}` is not on PATH"));
            if let Some(hint) = family.install_hint() {
                err = err.hint(hint);
            }
            Err(err.hint("or give the runtime's path: `--runtime /path/to/runtime`"))
        }
    }
}

/// Docker 23 and later start containerd shims (`io.containerd.NAME.v2`) by
/// name, without an entry in daemon.json.
fn docker_shim(name: &str, engine: &EngineFacts) -> bool {
    name.starts_with("io.containerd.")
        && crate::engine::major_version(engine.server_version.as_deref()) >= 23
}

/// The daemon.json entry that registers a runtime.
fn registration(name: &str, family: Family, path: &str) -> String {
    let args = match family {
        Family::Gvisor => r#", "runtimeArgs": ["--host-uds=open"]"#,
        _ => "",
    };
    format!(r#"{{"runtimes": {{"{name}": {{"path": "{path}"{args}}}}}}}"#)
}

fn gvisor_cannot_nest() -> Error {
    Error::refused("an engine cannot run inside a gVisor sandbox with dindbox's dind set-up")
        .cause("gVisor implements the kernel in user space, and only in part: nested engines need mount propagation changes and overlay mounts it refuses (measured with runsc 20221219: unpacking the first image layer fails with `remount /: invalid argument`)")
        .cause("gVisor's own guide runs Docker inside only from its 2024 releases, with runsc `--net-raw` and dockerd without iptables, which dindbox does not set up")
        .hint("`-m sock --runtime runsc`: a gVisor sandbox that runs containers through the host engine's socket")
        .hint("`-m dind` without `--runtime`: the inner engine in an ordinary container")
        .hint("`--runtime kata` or `--runtime runcvm` where installed: a VM boundary with an engine inside")
}

/// A gVisor sandbox reaches a bind-mounted socket only when runsc may open
/// host Unix sockets (`--host-uds`), which on Docker is part of the
/// runtime's registration.
fn gvisor_docker_sock(name: &str, engine: &EngineFacts) -> Result<()> {
    let args = engine.runtime_args.get(name).cloned().unwrap_or_default();
    if args.iter().any(|a| gvisor_opens_host_sockets(a)) {
        return Ok(());
    }
    Err(Error::refused(format!(
        "Docker's runtime `{name}` cannot reach the host's socket from inside the sandbox"
    ))
    .cause(format!(
        "gVisor opens host Unix sockets only with `--host-uds=open` (or `all`); Docker passes it `{}`",
        if args.is_empty() { "no arguments".to_string() } else { args.join(" ") }
    ))
    .hint(format!(
        r#"add "--host-uds=open" to the "runtimeArgs" of "{name}" in /etc/docker/daemon.json, then `systemctl reload docker` (or `kill -HUP $(pidof dockerd)`)"#
    ))
    .hint("or register a second runsc entry with it, and name that one with `--runtime`"))
}

/// gVisor releases before August 2024 take any network namespace for the
/// host's on kernels after 6.6, which show /proc/sys/net/core/rmem_default in
/// every namespace: runsc then stops with `cannot run with network enabled
/// in root network namespace`, whatever the container's network. Its own
/// network stack cannot run there; the kernel's (`--network=host`, inside
/// the sandbox's namespace still) can.
pub fn gvisor_misreads_netns(host: &HostFacts) -> Option<String> {
    let version = host.runtime("runsc")?.version.clone()?;
    let date = release_date(&version)?;
    (date < GVISOR_NETNS_FIX && !kernel_before(&host.kernel, (6, 7))).then(|| {
        format!(
            "runsc {version} takes every network namespace for the host's on Linux {} (/proc/sys/net/core/rmem_default is in each one since 6.7), and stops with `cannot run with network enabled in root network namespace`",
            host.kernel
        )
    })
}

/// The first gVisor release that tells network namespaces apart on newer kernels.
const GVISOR_NETNS_FIX: u32 = 20240801;

/// The date in a gVisor version: `release-20240801.0`, Debian's `0.0~20221219.0`.
fn release_date(version: &str) -> Option<u32> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 8)
        .and_then(|d| d.parse().ok())
}

fn gvisor_docker_network(name: &str, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    let Some(why) = gvisor_misreads_netns(host) else {
        return Ok(());
    };
    let args = engine.runtime_args.get(name).cloned().unwrap_or_default();
    if args.iter().any(|a| a == "--network=host") {
        return Ok(());
    }
    Err(Error::refused(format!("Docker's runtime `{name}` cannot start a sandbox on this host"))
        .cause(why)
        .hint(format!(
            r#"add "--network=host" to the "runtimeArgs" of "{name}" in /etc/docker/daemon.json, then `systemctl reload docker` (or `kill -HUP $(pidof dockerd)`)"#
        ))
        .hint("or install a gVisor release from August 2024 or later"))
}

fn gvisor_opens_host_sockets(arg: &str) -> bool {
    let arg = arg.trim_start_matches('-');
    matches!(
        arg,
        "host-uds=open" | "host-uds=all" | "fsgofer-host-uds" | "fsgofer-host-uds=true"
    )
}

fn sysbox_limits(req: &Request, engine: &EngineFacts) -> Result<()> {
    if engine.kind != EngineKind::Docker {
        return Ok(());
    }
    if req.privileged {
        return Err(Error::usage("sysbox-runc does not run privileged containers")
            .cause("sysbox gives the sandbox root in a user namespace of its own; `--privileged` contradicts that")
            .hint("leave out `--privileged`: under sysbox an engine nests without it"));
    }
    if req.network.as_deref() == Some("host") {
        return Err(
            Error::usage("sysbox-runc does not share the host's network namespace")
                .hint("leave out `--network host`"),
        );
    }
    Ok(())
}

/// Whether planning `req` needs the runtimes' versions (gVisor's release
/// decides its network flags): asking costs a process each.
pub fn needs_versions(req: &Request) -> bool {
    Family::of_request(req) == Some(Family::Gvisor)
}

/// The runtime's flags, and what it changes in the plan, with the reasons.
/// Called after the mode has made its plan.
pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    let Some(name) = req.runtime.as_deref() else {
        return;
    };
    let family = Family::of(name);
    let why = match family {
        Family::Runc | Family::Crun | Family::Other => format!("asked for with --runtime: {name} runs the sandbox"),
        Family::Gvisor => "asked for with --runtime: gVisor runs the sandbox on a kernel in user space, so code inside reaches the host's kernel only through gVisor".into(),
        Family::Kata => "asked for with --runtime: Kata runs the sandbox in a lightweight VM with a kernel of its own".into(),
        Family::Sysbox => "asked for with --runtime: sysbox runs the sandbox as root in a user namespace of its own, with /proc and /sys virtualised, so an engine nests without added privileges".into(),
        Family::Runcvm => "asked for with --runtime: RunCVM runs the sandbox in a VM with a kernel of its own".into(),
    };
    // Podman takes the runtime as a global flag (in place of the one dindbox
    // picks on hybrid hosts); its later commands on the container (exec,
    // stop) use the one it was created with.
    plan.spec.runtime = Some(Why::new(name.to_string(), why));
    match family {
        Family::Gvisor => gvisor(plan, req, host, engine),
        Family::Runcvm => runcvm(plan, req),
        Family::Kata => plan.notes.push(
            "Kata: the sandbox's volumes reach its VM over virtio-fs, where overlay may not stack: an inner Podman steps down its storage until the canary runs".into(),
        ),
        Family::Sysbox => {
            if kernel_before(&host.kernel, (5, 12)) {
                plan.notes.push(format!(
                    "sysbox needs Linux 5.12 or later for ID-mapped mounts (this host runs {}); older kernels need shiftfs",
                    host.kernel
                ));
            }
        }
        Family::Runc | Family::Crun | Family::Other => {}
    }
    if family == Family::Other {
        plan.notes.push(format!(
            "dindbox has no recipe for the runtime `{name}`: the sandbox is planned as for runc"
        ));
    }
}

fn gvisor(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    if engine.kind == EngineKind::Podman
        && let Some(why) = gvisor_misreads_netns(host)
    {
        plan.spec.runtime_flags.push(Why::new(
            "network=host".to_string(),
            format!(
                "{why}; with the kernel's network stack the sandbox keeps its own network namespace"
            ),
        ));
    }
    if engine.kind == EngineKind::Podman
        && engine.rootless
        && host.cgroup.layout != CgroupLayout::V2
    {
        plan.spec.runtime_flags.push(Why::new(
            "ignore-cgroups".to_string(),
            "rootless on cgroup v1: no cgroup is delegated to this user, and runsc would stop at making one (`mkdir /sys/fs/cgroup/cpu/...: permission denied`); limits such as --memory do not apply",
        ));
    }
    match engine.kind {
        EngineKind::Podman if req.mode == Mode::Sock => plan.spec.runtime_flags.push(Why::new(
            "host-uds=open".to_string(),
            "gVisor opens the bind-mounted API socket only when runsc may connect to host Unix sockets",
        )),
        EngineKind::Podman => {}
        EngineKind::Docker => {
            let args = engine.runtime_args.get(req.runtime.as_deref().unwrap_or_default());
            if !args.is_some_and(|a| a.iter().any(|a| a == "--network=host"))
                && host.runtime("runsc").is_some_and(|r| r.version.is_none())
            {
                plan.notes.push("gVisor: where runsc stops with `cannot run with network enabled in root network namespace` (releases before August 2024 on Linux 6.7 and later), register it with `--network=host` in its runtimeArgs".into());
            }
        }
    }
    plan.notes.push("gVisor: a kernel in user space; some system calls and /proc files differ from Linux's, and no engine runs inside".into());
}

/// RunCVM: a cgroup v1 guest kernel, and the inner storage on a disk of its
/// own, since overlay cannot stack on the VM's shared volumes.
fn runcvm(plan: &mut Plan, req: &Request) {
    if req.mode != Mode::Dind {
        return;
    }
    if req.systemd {
        plan.spec.env.push(Why::new(
            vec![Var::new("RUNCVM_SYSTEMD", "true")],
            "--systemd: RunCVM boots the VM for systemd as PID 1 (its own PID namespace for it)",
        ));
    }
    plan.spec.env.push(Why::new(
        vec![Var::new("RUNCVM_KERNEL_ARGS", "systemd.unified_cgroup_hierarchy=0")],
        "RunCVM's guest kernel supports only part of cgroup v2 (BPF device control among the missing): nested runc needs the v1 hierarchy",
    ));
    let path = crate::spec::init::storage_path(req.inner);
    if let Some(storage) = plan
        .spec
        .mounts
        .iter_mut()
        .find(|m| m.value.target() == path)
    {
        let disks = match &storage.value {
            Mount::Volume { name, .. } => Mount::Volume {
                name: name.clone(),
                target: DISKS.to_string(),
            },
            _ => Mount::Anonymous {
                target: DISKS.to_string(),
            },
        };
        *storage = Why::new(
            disks,
            "the volume that holds the inner storage's disk image",
        );
    }
    plan.spec.env.push(Why::new(
        vec![Var::new("RUNCVM_DISKS", format!("{DISKS}/storage,{path},ext4,5G"))],
        format!("the inner storage ({path}) on an ext4 disk of its own inside the VM: overlay cannot stack on RunCVM's shared volumes"),
    ));
}

/// Where a RunCVM sandbox keeps the disk image of its inner storage.
const DISKS: &str = "/disks";

/// Whether a kernel release ("6.1.0-18-amd64") is older than `major.minor`;
/// false when it cannot be read.
fn kernel_before(release: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let number = |p: Option<&str>| p.and_then(|p| p.parse::<u32>().ok());
    match (number(parts.next()), number(parts.next())) {
        (Some(a), Some(b)) => (a, b) < (major, minor),
        _ => false,
    }
}
