//! Changes to the host that would let more of the matrix work, one line
//! each, from the facts alone.

use crate::engine::EngineKind;
use crate::plan::{install_hint, start_hint};
use crate::probe::facts::{CgroupLayout, HostFacts};

/// Each change that the facts call for, as one line: what to do, and what for.
pub fn host_changes(f: &HostFacts) -> Vec<String> {
    let mut changes = engine_changes(f);
    let answering: Vec<_> = f.engines.iter().filter(|e| e.answers).collect();
    if !answering.is_empty() && answering.iter().all(|e| e.remote) {
        // This machine's kernel runs no container: what matters is the engine's machine.
        if answering
            .iter()
            .any(|e| e.rootless && e.kind == EngineKind::Podman)
        {
            changes.push("`podman machine stop; podman machine set --rootful; podman machine start`: dind runs on a rootful machine".into());
        }
        return changes;
    }
    if !f.has_cap("CAP_SYS_ADMIN") {
        changes.push("run dindbox where the capability bounding set has CAP_SYS_ADMIN (on the machine itself, not in a container without it): every inner engine needs it".into());
    }
    let others: Vec<&str> = f
        .caps
        .missing
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "CAP_SYS_ADMIN")
        .collect();
    if !others.is_empty() {
        changes.push(format!(
            "give dindbox's processes the full capability bounding set (missing: {}): `--privileged` on Docker asks for every capability",
            others.join(", ")
        ));
    }
    match f.cgroup.layout {
        CgroupLayout::Hybrid | CgroupLayout::V1 => changes.push("boot with pure cgroup v2 (`systemd.unified_cgroup_hierarchy=1` on the kernel command line): crun refuses hybrid hosts, and rootless engines get cgroups delegated only on v2".into()),
        CgroupLayout::Unknown => changes.push("mount a cgroup hierarchy at /sys/fs/cgroup (booting with systemd does): no engine starts containers without one".into()),
        CgroupLayout::V2 => {}
    }
    if f.cgroup.layout == CgroupLayout::Hybrid && f.runtime("runc").is_none() {
        changes.push("install runc (`apt-get install runc`): crun refuses hybrid cgroups".into());
    }
    if rootless_in_use(f) {
        changes.extend(rootless_changes(f));
    }
    changes
}

/// Engines missing, silent, rootless only, or without the socket sock mode wants.
fn engine_changes(f: &HostFacts) -> Vec<String> {
    let mut changes = Vec::new();
    for kind in EngineKind::ALL {
        match f.engine(kind) {
            None => changes.push(install_hint(kind)),
            Some(e) if !e.answers && kind == EngineKind::Docker && denied(e.error.as_deref()) => {
                changes.push("`usermod -aG docker USER` (then log in again): Docker's socket refuses this user".into());
            }
            Some(e) if !e.answers => changes.push(start_hint(kind)),
            Some(e)
                if e.rootless
                    && !e.remote
                    && e.live_socket().is_none()
                    && kind == EngineKind::Podman =>
            {
                changes.push("run `systemctl --user enable --now podman.socket`: a lasting API socket for sock mode, as Docker clients expect".into());
            }
            Some(_) => {}
        }
    }
    let answering: Vec<_> = f.engines.iter().filter(|e| e.answers).collect();
    if answering.iter().any(|e| !e.remote)
        && answering
            .iter()
            .all(|e| e.rootless && e.kind == EngineKind::Docker)
    {
        changes.push(
            "run rootless Podman, or a rootful engine, too: dind cannot run under rootless Docker"
                .into(),
        );
    }
    // Host settings that open a host-wide interface to every user, and so to
    // every sandbox, whatever its user namespace.
    if f.security.dmesg_restrict == Some(false) {
        changes.push("`sysctl -w kernel.dmesg_restrict=1` (and in /etc/sysctl.d/): the kernel log is open to every user of this host, and so to every sandbox".into());
    }
    if f.security.unprivileged_bpf_disabled == Some(0) {
        changes.push("`sysctl -w kernel.unprivileged_bpf_disabled=2` (and in /etc/sysctl.d/): BPF is open to every user of this host, and so to every sandbox".into());
    }
    changes
}

/// The engine runs, but its socket does not let this user in.
fn denied(error: Option<&str>) -> bool {
    error.is_some_and(|e| e.contains("permission denied") && e.contains(".sock"))
}

/// Someone means to run engines without root here: a rootless engine
/// answers, dindbox runs as a user, or a user has subordinate ids.
fn rootless_in_use(f: &HostFacts) -> bool {
    f.uid != 0 || f.engines.iter().any(|e| e.rootless) || !f.userns.subuid.is_empty()
}

fn rootless_changes(f: &HostFacts) -> Vec<String> {
    let mut changes = Vec::new();
    for (node, path, who) in [
        (
            &f.devices.net_tun,
            "/dev/net/tun",
            "rootless Podman's networking (slirp4netns, pasta)",
        ),
        (
            &f.devices.fuse,
            "/dev/fuse",
            "rootless fuse-overlayfs storage",
        ),
    ] {
        if node.as_ref().is_some_and(|d| !d.open_to_users()) {
            changes.push(format!("`chmod 666 {path}`: {who} opens it as a user"));
        }
    }
    let u = &f.userns;
    if f.uid != 0 && (u.subuid.is_empty() || u.subgid.is_empty()) {
        changes.push("`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER`: rootless engines map container ids to a subordinate range".into());
    }
    if !u.newuidmap || !u.newgidmap {
        changes.push(
            "install newuidmap and newgidmap (`apt-get install uidmap`): rootless engines map ids with them".into(),
        );
    }
    if u.max_user_namespaces == Some(0) {
        changes.push(
            "`sysctl user.max_user_namespaces=15000`: rootless engines need user namespaces".into(),
        );
    }
    if u.unprivileged_userns_clone == Some(false) {
        changes.push(
            "`sysctl kernel.unprivileged_userns_clone=1`: rootless engines need user namespaces"
                .into(),
        );
    }
    changes
}
