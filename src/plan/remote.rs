//! Engines that run under another kernel (a `podman machine` VM on macOS or
//! Windows, Docker Desktop, an engine on another machine): this host's /proc,
//! /sys and /etc say nothing about them, so a plan for one is made from what
//! the engine itself reports, and says what it cannot promise.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::probe::facts::{
    CapFacts, CgroupFacts, CgroupLayout, EngineFacts, HostFacts, SecurityFacts, SelinuxMode,
};
use crate::probe::host::CAP_NAMES;

use super::{Plan, Request};

/// The facts a plan for `engine` may use: this host's for a local engine;
/// for a remote one, the engine's own report, and nothing read from here.
pub fn view<'a>(host: &'a HostFacts, engine: &EngineFacts) -> Cow<'a, HostFacts> {
    if !engine.remote {
        return Cow::Borrowed(host);
    }
    let has = |module: &str| engine.security.iter().any(|s| s == module);
    Cow::Owned(HostFacts {
        kernel: engine.kernel.clone().unwrap_or_default(),
        uid: host.uid,
        cgroup: CgroupFacts {
            layout: match engine.cgroup_version.as_deref() {
                Some("2") => CgroupLayout::V2,
                _ => CgroupLayout::Unknown,
            },
            ..CgroupFacts::default()
        },
        // Not checked: an engine's own machine is taken to have them all.
        caps: CapFacts {
            bounding: CAP_NAMES.map(String::from).to_vec(),
            missing: Vec::new(),
            last_cap: CAP_NAMES.len() as u32 - 1,
        },
        security: SecurityFacts {
            selinux: if has("selinux") {
                SelinuxMode::Enforcing
            } else {
                SelinuxMode::Absent
            },
            apparmor: has("apparmor"),
            seccomp: has("seccomp"),
            ..SecurityFacts::default()
        },
        env: host.env.clone(),
        engines: host.engines.clone(),
        ..HostFacts::default()
    })
}

/// What a plan for an engine on another machine cannot promise: a remote
/// engine, or one that answers from outside the container dindbox runs in.
pub fn notes(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    let machine = if engine.remote {
        plan.notes.push(format!(
            "{} runs under another kernel ({}): a VM such as `podman machine`, or another machine. This plan uses what the engine reports (cgroups, rootless or not, security modules), not this machine's /proc and /sys; it takes that machine to have every capability and sets no --ulimit. `dindbox doctor --check` tries it for real",
            engine.kind,
            engine.kernel.as_deref().unwrap_or("unknown")
        ));
        "the engine's machine (`podman machine` shares the home directory), and the binary must be a Linux one for that machine".to_string()
    } else if let Some(outer) = answers_from_outside(host, engine) {
        plan.notes.push(format!(
            "{} answers from outside the {} container dindbox runs in (its host is `{outer}`): its socket was mounted in",
            engine.kind,
            host.in_container.as_deref().unwrap_or("engine's")
        ));
        format!("`{outer}`, not in this container")
    } else {
        return;
    };
    plan.notes.push(format!(
        "the sandbox's init (this dindbox binary, {}) and the workspace ({}) are mounted by their paths here: they must exist at the same paths on {machine}",
        req.init_binary.display(),
        req.workspace.display()
    ));
}

/// The engine's host name, when dindbox runs in a container and the engine
/// is not in it (their host names differ).
fn answers_from_outside<'a>(host: &HostFacts, engine: &'a EngineFacts) -> Option<&'a str> {
    host.in_container.as_ref()?;
    let outer = engine.host_name.as_deref()?;
    (host.hostname.as_deref()? != outer).then_some(outer)
}

/// sock mode on a remote engine: the socket as a path on the engine's own
/// machine; the one this client talks to (a forwarded socket) is not there.
pub fn socket(engine: &EngineFacts) -> Result<String> {
    engine.remote_socket.clone().ok_or_else(|| {
        Error::refused(format!(
            "sock mode needs the path of {}'s API socket on the engine's own machine, and {} does not report it",
            engine.kind, engine.kind
        ))
        .cause(format!(
            "{} runs under another kernel ({}); the socket this machine talks to is forwarded and does not exist there",
            engine.kind,
            engine.kernel.as_deref().unwrap_or("unknown")
        ))
        .hint("use `-m dind` for an engine of the sandbox's own")
        .hint("or run dindbox on the engine's machine itself")
    })
}
