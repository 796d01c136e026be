//! dind on rootless Podman: the sandbox's root is the user, mapped through
//! the user's /etc/subuid range, so it owns only what its user namespace owns.
//!
//! What works there, found on a Debian 12 host with cgroup v1 (and what the
//! seed's Fedora host shows): an inner Podman with cgroups disabled and crun,
//! nested containers on the sandbox's own network namespace. Of the dind
//! flags, SYS_ADMIN (mounts, /proc/sys/net) and NET_ADMIN (netavark's
//! bridge) are needed there; seccomp confinement can stay, since crun gets on
//! under the default profile (each tried by leaving it out). An inner dockerd
//! runs there in its rootless mode, as in a sandbox's own user namespace.

use crate::engine::EngineKind;
use crate::probe::facts::{CgroupLayout, DeviceNode, EngineFacts, HostFacts};

use super::{Plan, Request};
use crate::spec::Why;

/// The runtime of an inner Podman with cgroups disabled: runc refuses that
/// (`not compatible with NoCgroups`), crun runs without cgroups.
pub const INNER_RUNTIME: &str = "crun";

/// Whether `dev` can be opened read-write by a user who is not root and does
/// not own it (dindbox does not know the owner: only "others" bits count).
pub fn open_to_users(dev: Option<&DeviceNode>) -> bool {
    dev.is_some_and(DeviceNode::open_to_users)
}

/// Rootless Podman's user-space network: pasta from Podman 5 on, where it is
/// installed; slirp4netns before.
pub fn user_net_helper(host: &HostFacts, engine: &EngineFacts) -> &'static str {
    let major = crate::engine::major_version(engine.server_version.as_deref());
    if major >= 5 && host.network_helper("pasta").is_some() {
        "pasta"
    } else {
        "slirp4netns"
    }
}

/// Whether rootless Podman's user-space network can start here: its helper is
/// installed, and /dev/net/tun is open to the user (both helpers open it).
pub fn user_net_works(host: &HostFacts, engine: &EngineFacts) -> bool {
    host.network_helper(user_net_helper(host, engine)).is_some()
        && open_to_users(host.devices.net_tun.as_ref())
}

/// The network flag of a rootless Podman sandbox where its user-space network
/// cannot start: without it every rootless container fails
/// (`open("/dev/net/tun"): Permission denied`), so the sandbox gets a network
/// namespace of its own with no way out. None when Podman's default works.
pub fn network(host: &HostFacts, engine: &EngineFacts) -> Option<Why<String>> {
    if engine.kind != EngineKind::Podman || !engine.rootless || user_net_works(host, engine) {
        return None;
    }
    let helper = user_net_helper(host, engine);
    let why = match &host.devices.net_tun {
        None => format!(
            "{helper}, rootless Podman's network, needs /dev/net/tun, which this host lacks: the sandbox gets its own network namespace without a way out, rather than failing to start (`modprobe tun` as root, or `--network host`, gives it one)"
        ),
        Some(tun) if host.network_helper(helper).is_none() => format!(
            "{helper}, rootless Podman's network, is not installed (and {} is mode {:04o}): the sandbox gets its own network namespace without a way out (installing {helper}, or `--network host`, gives it one)",
            tun.path, tun.mode
        ),
        Some(tun) => format!(
            "{helper}, rootless Podman's network, cannot open {} (mode {:04o}, closed to this user): the sandbox gets its own network namespace without a way out, rather than failing to start (`chmod 0666 {}` as root, or `--network host`, gives it one)",
            tun.path, tun.mode, tun.path
        ),
    };
    Some(Why::new("none".to_string(), why))
}

/// The parts of a dind plan in a user namespace (rootless Podman's, or the
/// sandbox's own): no cgroup namespace set-up (there is no cgroup tree the
/// sandbox may write), cgroups disabled inside: crun runs an inner Podman's
/// containers, dockerd runs in its rootless mode.
pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, rootless: bool) {
    let why = match (host.cgroup.layout, rootless) {
        (CgroupLayout::V1 | CgroupLayout::Hybrid, true) => {
            "cgroup v1 is not delegated to rootless users"
        }
        (CgroupLayout::V1 | CgroupLayout::Hybrid, false) => {
            "cgroup v1 cannot be delegated to a user namespace"
        }
        (_, true) => "a rootless sandbox is not known to have a cgroup subtree delegated to it",
        (_, false) => "the engine does not delegate the sandbox's cgroup to its user namespace",
    };
    let whose = if rootless {
        format!("rootless {}", plan.engine)
    } else {
        "the sandbox's own user namespace".to_string()
    };
    let how = match req.inner {
        EngineKind::Podman => "crun runs them, since runc needs cgroups",
        EngineKind::Docker => "dockerd runs in its rootless mode, which knows to do without them",
    };
    plan.notes.push(format!(
        "{whose}: nested containers run with cgroups disabled ({why}), so limits such as --memory do not apply to them; {how}"
    ));
    let chosen_none = plan
        .spec
        .network
        .as_ref()
        .is_some_and(|n| n.value == "none");
    if req.network.is_none() && chosen_none {
        plan.notes.push("the sandbox has no network (see --network none above): nested containers reach each other, not the outside".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(mode: u32) -> DeviceNode {
        DeviceNode {
            path: "/dev/net/tun".into(),
            major: 10,
            minor: 200,
            mode,
        }
    }

    #[test]
    fn only_devices_open_to_others_count() {
        assert!(open_to_users(Some(&node(0o666))));
        assert!(!open_to_users(Some(&node(0o600))));
        assert!(!open_to_users(Some(&node(0o660))));
        assert!(!open_to_users(None));
    }
}
