//! Plans made on each fixture host: what is planned or refused there, and why.
//! Fedora 43 rootless and rootful Podman (a published docker-in-docker
//! verification), Ubuntu 24.04 rootful and rootless Docker, a Mac with a
//! `podman machine`, and a host that is itself a container.

use super::inner::CgroupSetup;
use super::tests::{has, our_image, plan, refusal, request};
use super::*;
use crate::engine::EngineKind;
use crate::error::exit;
use crate::probe::facts::CgroupLayout;
use crate::probe::fixtures::{
    fedora_rootful, fedora_rootless, inside_a_container, macos_podman_machine, ubuntu,
    ubuntu_rootless_docker,
};

/// Either planned, or refused as something this host cannot do (exit 3):
/// for combinations whose support is still changing.
fn planned_or_refused(req: &Request, host: &HostFacts) {
    if let Err(e) = make(req, host, &our_image()) {
        assert_eq!(e.code, exit::REFUSED, "{e}");
        assert!(!e.hints.is_empty(), "a refusal names a fix: {e}");
    }
}

fn flag_values(p: &Plan, flag: &str) -> Vec<String> {
    p.command()
        .run
        .iter()
        .filter(|a| a.args.first().map(String::as_str) == Some(flag))
        .map(|a| a.args[1].clone())
        .collect()
}

/// The seed's failing case: Docker inside rootless Podman on Fedora. dockerd
/// runs in its rootless mode in the sandbox's user namespace, without
/// securityfs, cgroups or any capability beyond the sandbox's own.
#[test]
fn fedora_rootless_podman_runs_docker_inside_in_its_rootless_mode() {
    let p = plan(
        &request(Mode::Dind, None, EngineKind::Docker),
        &fedora_rootless(),
    );
    let engine = p.inner.engine.as_ref().expect("an inner engine");
    assert!(engine.userns && engine.cgroups_disabled, "{engine:?}");
    assert_eq!(engine.runtime, "runc");
    assert!(!p.argv().contains(&"--privileged".to_string()));
    assert!(
        !has(&p, &["--security-opt", "seccomp=unconfined"]),
        "the default profile stays"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("dockerd runs in its rootless mode")),
        "{:?}",
        p.notes
    );
}

#[test]
fn fedora_rootless_podman_socket_works_with_labels_disabled() {
    let p = plan(
        &request(Mode::Sock, None, EngineKind::Podman),
        &fedora_rootless(),
    );
    assert_eq!(p.engine, EngineKind::Podman);
    assert!(has(
        &p,
        &[
            "-v",
            "/run/user/1000/podman/podman.sock:/var/run/docker.sock"
        ]
    ));
    assert!(has(&p, &["--security-opt", "label=disable"]));
    assert!(p.service.is_none(), "the user's socket answers");
    assert_eq!(
        flag_values(&p, "--ulimit"),
        vec!["nofile=524288:524288"],
        "systemd's hard limit is below the engines' default"
    );
}

#[test]
fn fedora_rootless_podman_inside_is_planned_or_refused_with_a_fix() {
    planned_or_refused(
        &request(Mode::Dind, None, EngineKind::Podman),
        &fedora_rootless(),
    );
}

#[test]
fn fedora_rootful_podman_runs_docker_inside_without_privileged() {
    let p = plan(
        &request(Mode::Dind, None, EngineKind::Docker),
        &fedora_rootful(),
    );
    assert_eq!(p.engine, EngineKind::Podman);
    assert!(!p.argv().contains(&"--privileged".to_string()));
    assert!(has(&p, &["--cap-add", "SYS_ADMIN"]));
    assert!(has(&p, &["--security-opt", "label=disable"]));
    assert!(
        !has(&p, &["--security-opt", "apparmor=unconfined"]),
        "no AppArmor on Fedora"
    );
    // Podman 5.7 with crun: the sandbox's own user namespace, its root the
    // invoking user's subordinate range, the workspace id-mapped.
    let userns = p.spec.userns.as_ref().expect("a user namespace of its own");
    assert!(userns.value.idmap_mounts);
    assert!(
        has(
            &p,
            &[
                "--uidmap",
                "0:1000000000:65536",
                "--gidmap",
                "0:1000000000:65536"
            ]
        ),
        "{:?}",
        p.argv()
    );
    assert!(
        has(
            &p,
            &[
                "-v",
                "/home/u/project:/home/u/project:idmap",
                "-w",
                "/home/u/project"
            ]
        ),
        "{:?}",
        p.argv()
    );
    assert!(!has(&p, &["--security-opt", "seccomp=unconfined"]));
    assert_eq!(p.inner.cgroup, CgroupSetup::Leave);
    assert!(
        p.command().global.is_empty(),
        "crun is fine on pure cgroup v2"
    );
    assert!(
        !p.command()
            .run
            .iter()
            .any(|a| a.args[0] == "--device-cgroup-rule"),
        "cgroup v2 needs no device rule"
    );
}

#[test]
fn fedora_rootful_podman_without_its_socket_serves_one_for_sock_mode() {
    let p = plan(
        &request(Mode::Sock, None, EngineKind::Podman),
        &fedora_rootful(),
    );
    let service = p.service.as_ref().expect("a Podman API service");
    assert_eq!(service.socket, "/run/dindbox/box/api/podman.sock");
    let config = service.config.as_ref().expect("the host's limits");
    assert!(
        config.content.contains("nofile=524288:524288"),
        "{}",
        config.content
    );
    assert_eq!(
        config.env, "CONTAINERS_CONF_OVERRIDE",
        "Podman 5.7 adds it on top"
    );
}

#[test]
fn ubuntu_apparmor_host_plans_both_inner_engines_and_its_socket() {
    for inner in [EngineKind::Podman, EngineKind::Docker] {
        let p = plan(&request(Mode::Dind, None, inner), &ubuntu());
        assert!(has(&p, &["--security-opt", "apparmor=unconfined"]));
        assert!(!has(&p, &["--security-opt", "label=disable"]));
    }
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &ubuntu());
    assert!(has(
        &p,
        &["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    ));
}

#[test]
fn rootless_docker_socket_is_the_users_and_limits_are_the_sessions() {
    let host = ubuntu_rootless_docker();
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert_eq!(p.engine, EngineKind::Docker);
    assert!(has(
        &p,
        &["-v", "/run/user/1000/docker.sock:/var/run/docker.sock"]
    ));
    assert_eq!(
        flag_values(&p, "--ulimit"),
        vec!["nofile=524288:524288"],
        "the user's hard limit is below the engines' default"
    );
    for inner in [EngineKind::Podman, EngineKind::Docker] {
        planned_or_refused(&request(Mode::Dind, None, inner), &host);
    }
}

/// The Mac's podman machine, switched to rootful (`podman machine set --rootful`).
fn rootful_machine() -> HostFacts {
    let mut host = macos_podman_machine();
    for e in &mut host.engines {
        e.rootless = false;
    }
    host.engines[0].remote_socket = Some("/run/podman/podman.sock".into());
    host
}

#[test]
fn podman_machine_plans_use_the_vms_facts_not_the_macs() {
    let host = rootful_machine();
    assert!(host.caps.bounding.is_empty() && host.cgroup.layout == CgroupLayout::Unknown);
    let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Docker);
    // Rootful on another machine: no subordinate ids known here, so the
    // sandbox would be the machine's root, which is refused unless asked for.
    let err = refusal(&req, &host, &our_image());
    assert!(
        err.causes.iter().any(|c| c.contains("another machine")),
        "{err}"
    );
    req.host_root = true;
    let p = plan(&req, &host);
    assert!(
        has(&p, &["--cap-add", "SYS_ADMIN"]),
        "the Mac has no capabilities; the VM does"
    );
    assert_eq!(p.inner.cgroup, CgroupSetup::NestV2, "the VM's cgroup v2");
    assert!(
        has(&p, &["--security-opt", "label=disable"]),
        "the VM's SELinux"
    );
    assert_eq!(
        flag_values(&p, "--ulimit"),
        ["memlock=-1:-1"],
        "no nofile or nproc from the Mac's limits; memlock for crun on the VM's cgroup v2"
    );
    assert!(flag_values(&p, "--network").is_empty());
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("runs under another kernel (6.12.9-200.fc41.aarch64)")),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("must be a Linux one for that machine")),
        "{:?}",
        p.notes
    );
}

#[test]
fn podman_machine_sock_mounts_the_socket_inside_the_vm() {
    let p = plan(
        &request(Mode::Sock, Some(EngineKind::Podman), EngineKind::Podman),
        &macos_podman_machine(),
    );
    assert!(has(
        &p,
        &[
            "-v",
            "/run/user/501/podman/podman.sock:/var/run/docker.sock"
        ]
    ));
    assert!(
        p.service.is_none(),
        "no service on the Mac for a VM's engine"
    );
    let e = refusal(
        &request(Mode::Sock, Some(EngineKind::Docker), EngineKind::Podman),
        &macos_podman_machine(),
        &our_image(),
    );
    assert_eq!(e.code, exit::REFUSED);
    assert!(e.message.contains("does not report it"), "{e}");
    planned_or_refused(
        &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman),
        &macos_podman_machine(),
    );
}

#[test]
fn common_mode_on_a_podman_machine_promises_only_what_it_can() {
    let p = plan(
        &request(Mode::Common, Some(EngineKind::Podman), EngineKind::Podman),
        &macos_podman_machine(),
    );
    assert_eq!(p.inner.cgroup, CgroupSetup::Leave);
    let remote_notes = p
        .notes
        .iter()
        .filter(|n| n.contains("another kernel") || n.contains("mounted by their paths"));
    assert_eq!(remote_notes.count(), 2, "{:?}", p.notes);
    assert!(flag_values(&p, "--ulimit").is_empty());
}

#[test]
fn inside_a_container_without_sys_admin_dind_is_refused_and_sock_works() {
    let host = inside_a_container();
    for inner in [EngineKind::Podman, EngineKind::Docker] {
        let e = refusal(&request(Mode::Dind, None, inner), &host, &our_image());
        assert_eq!(e.code, exit::REFUSED);
        assert!(e.message.contains("CAP_SYS_ADMIN"), "{e}");
        assert!(e.hints.iter().any(|h| h.contains("-m sock")), "{e}");
    }
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert!(has(
        &p,
        &["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    ));
    assert!(
        p.notes.iter().all(|n| !n.contains("another kernel")),
        "same kernel: not remote"
    );
    assert!(
        p.notes.iter().any(|n| n.contains(
            "docker answers from outside the podman container dindbox runs in (its host is `ubuntu-host`)"
        )),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n
                .contains("must exist at the same paths on `ubuntu-host`, not in this container")),
        "{:?}",
        p.notes
    );
}

#[test]
fn an_engine_in_the_same_container_gets_no_note_on_paths() {
    let p = plan(
        &request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Docker),
        &crate::probe::fixtures::this_machine(),
    );
    assert!(
        p.notes.iter().all(|n| !n.contains("same paths")),
        "{:?}",
        p.notes
    );
}

#[test]
fn rootless_podman_where_the_user_cannot_open_the_tun_device_gets_no_network() {
    let mut host = fedora_rootless();
    host.devices.net_tun.as_mut().unwrap().mode = 0o600;
    let p = plan(&request(Mode::Common, None, EngineKind::Podman), &host);
    let net = p
        .command()
        .run
        .into_iter()
        .find(|a| a.args == ["--network", "none"])
        .unwrap_or_else(|| panic!("no --network none: {:?}", p.argv()));
    assert!(net.why.contains("`chmod 0666 /dev/net/tun`"), "{}", net.why);
    let mut req = request(Mode::Common, None, EngineKind::Podman);
    req.network = Some("host".into());
    assert!(has(&plan(&req, &host), &["--network", "host"]));
    let mut rootful = fedora_rootful();
    rootful.devices.net_tun.as_mut().unwrap().mode = 0o600;
    let p = plan(&request(Mode::Common, None, EngineKind::Podman), &rootful);
    assert!(!has(&p, &["--network", "none"]), "{:?}", p.argv());
}
