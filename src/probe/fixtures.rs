//! Host facts of fixture hosts, for tests of everything made from facts.

use super::facts::HostFacts;

fn load(json: &str) -> HostFacts {
    serde_json::from_str(json).expect("fixture hosts deserialize")
}

/// The build machine: Debian 12 in a Firecracker VM, hybrid cgroups, a bounding
/// set without CAP_SYS_RESOURCE, Docker 20.10 and Podman 4.3 rootful.
pub fn this_machine() -> HostFacts {
    load(include_str!("../../tests/fixtures/hosts/this-machine.json"))
}

/// Ubuntu 24.04 with Docker 28, AppArmor and cgroup v2.
pub fn ubuntu() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/ubuntu-24.04-docker-28-apparmor-cgroupv2.json"
    ))
}

/// The build machine as the rootless user `dindbox-test` (uid 1001) sees it:
/// rootless Podman 4.3 with native overlay, /dev/net/tun and /dev/fuse 0600,
/// Docker's socket closed to the user.
pub fn rootless_podman() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/debian12-rootless-podman.json"
    ))
}
