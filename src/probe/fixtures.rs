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

/// `host` with gVisor's runsc of `version` on PATH, registered with Docker
/// (where Docker is installed) as `runsc` with `docker_args`.
pub fn with_gvisor(mut host: HostFacts, version: &str, docker_args: &[&str]) -> HostFacts {
    host.oci_runtimes.push(super::facts::OciRuntime {
        name: "runsc".into(),
        path: "/usr/bin/runsc".into(),
        version: Some(version.into()),
    });
    if let Some(docker) = host
        .engines
        .iter_mut()
        .find(|e| e.kind == crate::engine::EngineKind::Docker)
    {
        docker.runtimes.push("runsc".into());
        let args = docker_args.iter().map(|a| a.to_string()).collect();
        docker.runtime_args.insert("runsc".into(), args);
    }
    host
}

/// `host` with the OCI runtime `binary` on PATH (version unknown), registered
/// with every engine as `name`.
pub fn with_runtime(mut host: HostFacts, name: &str, binary: &str) -> HostFacts {
    host.oci_runtimes.push(super::facts::OciRuntime {
        name: binary.into(),
        path: format!("/usr/bin/{binary}"),
        version: None,
    });
    for e in host.engines.iter_mut() {
        e.runtimes.push(name.into());
    }
    host
}

/// Ubuntu 24.04 with Docker 28, AppArmor and cgroup v2.
pub fn ubuntu() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/ubuntu-24.04-docker-28-apparmor-cgroupv2.json"
    ))
}

/// Fedora 43, Podman 5.7.1 rootless, SELinux enforcing, cgroup v2, kernel 6.17.
pub fn fedora_rootless() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/fedora-43-podman-5.7-rootless-selinux-cgroupv2.json"
    ))
}

/// The same Fedora host with dindbox run as root against rootful Podman.
pub fn fedora_rootful() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/fedora-43-podman-5.7-rootful-selinux-cgroupv2.json"
    ))
}

/// Ubuntu 24.04 with Docker 28 installed rootless for uid 1000.
pub fn ubuntu_rootless_docker() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/ubuntu-24.04-docker-28-rootless.json"
    ))
}

/// A Mac whose Podman and Docker CLIs talk to a `podman machine` VM.
pub fn macos_podman_machine() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/macos-podman-machine.json"
    ))
}

/// Inside a rootful Podman container with its default capabilities and the
/// host's Docker socket mounted.
pub fn inside_a_container() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/inside-a-podman-container-with-the-docker-socket.json"
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

/// Debian 13 (the test guest of `scripts/test-host.sh debian13`) as root:
/// user-mode Linux 6.12, cgroup v2, AppArmor, Docker 26 and Podman 5 under
/// systemd. Recorded there with `dindbox doctor --json`.
pub fn debian13_rootful() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/debian13-uml-rootful-docker-26-podman-5-apparmor-cgroupv2.json"
    ))
}

/// The same Debian 13 guest as its rootless user: Podman 5 with pasta.
pub fn debian13_rootless() -> HostFacts {
    load(include_str!(
        "../../tests/fixtures/hosts/debian13-uml-rootless-podman-5-pasta-cgroupv2.json"
    ))
}

/// Every fixture host, by file name.
pub fn all() -> Vec<(&'static str, HostFacts)> {
    vec![
        ("this-machine", this_machine()),
        ("ubuntu", ubuntu()),
        ("fedora-rootless", fedora_rootless()),
        ("fedora-rootful", fedora_rootful()),
        ("ubuntu-rootless-docker", ubuntu_rootless_docker()),
        ("macos-podman-machine", macos_podman_machine()),
        ("inside-a-container", inside_a_container()),
        ("debian12-rootless-podman", rootless_podman()),
        ("debian13-rootful", debian13_rootful()),
        ("debian13-rootless", debian13_rootless()),
    ]
}

#[test]
fn every_fixture_host_names_its_sources() {
    for file in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hosts")).unwrap()
    {
        let path = file.unwrap().path();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let sources = json["source"].as_array().map_or(0, Vec::len);
        assert!(
            sources >= 3,
            "{} says too little of where its facts come from",
            path.display()
        );
        let facts: HostFacts = serde_json::from_value(json).unwrap();
        assert!(!facts.engines.is_empty(), "{}", path.display());
    }
    assert_eq!(all().len(), 10);
}
