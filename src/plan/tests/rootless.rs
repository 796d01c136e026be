//! Plans on rootless hosts, from the build machine as its rootless user sees it.

use super::*;
use crate::probe::fixtures::rootless_podman;

fn rootless_dind(inner: EngineKind) -> Request {
    let mut req = request(Mode::Dind, None, inner);
    req.command = Some("podman run --rm localhost/dindbox/canary echo ok".into());
    req
}

#[test]
fn rootless_podman_dind_runs_podman_without_cgroups_and_with_crun() {
    let host = rootless_podman();
    let p = plan(&rootless_dind(EngineKind::Podman), &host);
    assert_eq!(p.engine, EngineKind::Podman);
    assert!(!p.argv().contains(&"--privileged".to_string()));
    assert_eq!(
        p.command().global,
        vec![Arg::new(
            ["--runtime", "runc"],
            "crun refuses hybrid cgroup hosts (`cgroups in hybrid mode not supported`); runc runs there"
        )],
        "the outer runtime on hybrid cgroups is runc, rootless or not"
    );
    assert!(has(&p, &["--cap-add", "SYS_ADMIN"]));
    assert!(has(&p, &["--cap-add", "NET_ADMIN"]));
    assert!(
        !has(&p, &["--security-opt", "seccomp=unconfined"]),
        "crun nests under the engine's default seccomp profile"
    );
    assert!(
        !has(&p, &["--cgroupns", "private"]),
        "no cgroup tree to hand on"
    );
    assert_eq!(p.inner.cgroup, CgroupSetup::Leave);
    assert!(
        p.inner.net_sysctls,
        "the sandbox's own netns: crun sets ping_group_range"
    );
    let engine = p.inner.engine.as_ref().unwrap();
    assert_eq!(
        engine.runtime, "crun",
        "runc refuses to run without cgroups"
    );
    assert!(engine.cgroups_disabled);
    assert!(!engine.nested_host_network);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cgroup v1 is not delegated to rootless users")),
        "{:?}",
        p.notes
    );
    for arg in p.command().global.iter().chain(&p.command().run) {
        assert!(!arg.why.is_empty(), "{:?} has no reason", arg.args);
    }
}

#[test]
fn closed_tun_gives_the_sandbox_its_own_network_and_says_how_to_open_it() {
    let host = rootless_podman();
    let p = plan(&rootless_dind(EngineKind::Podman), &host);
    let net = p
        .command()
        .run
        .into_iter()
        .find(|a| a.args[0] == "--network")
        .expect("a network flag");
    assert_eq!(net.args, ["--network", "none"]);
    assert!(net.why.contains("mode 0600"), "{}", net.why);
    assert!(net.why.contains("chmod 0666 /dev/net/tun"), "{}", net.why);
    assert!(p.notes.iter().any(|n| n.contains("no network")));
}

#[test]
fn open_tun_keeps_rootless_podmans_own_network() {
    let mut host = rootless_podman();
    host.devices.net_tun.as_mut().unwrap().mode = 0o666;
    let p = plan(&rootless_dind(EngineKind::Podman), &host);
    assert!(!p.command().run.iter().any(|a| a.args[0] == "--network"));
    assert!(!p.notes.iter().any(|n| n.contains("no network")));
}

#[test]
fn host_network_when_asked_puts_nested_containers_on_it_too() {
    let mut req = rootless_dind(EngineKind::Podman);
    req.network = Some("host".into());
    let p = plan(&req, &rootless_podman());
    assert!(has(&p, &["--network", "host"]));
    assert!(
        !p.inner.net_sysctls,
        "the host's sysctls are not the sandbox's"
    );
    assert!(p.inner.engine.as_ref().unwrap().nested_host_network);
}

#[test]
fn rootless_inner_docker_runs_in_its_rootless_mode_without_cgroups() {
    let p = plan(&rootless_dind(EngineKind::Docker), &rootless_podman());
    let engine = p.inner.engine.as_ref().expect("an inner engine");
    assert!(engine.userns && engine.cgroups_disabled, "{engine:?}");
    assert!(
        p.spec.userns.is_none(),
        "the user's namespace is the sandbox's already"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cgroup v1 is not delegated to rootless users")),
        "{:?}",
        p.notes
    );
}

#[test]
fn closed_tun_applies_to_every_mode_on_rootless_podman() {
    let host = rootless_podman();
    for mode in [Mode::Common, Mode::Sock] {
        let p = plan(&request(mode, None, EngineKind::Podman), &host);
        assert!(has(&p, &["--network", "none"]), "{mode:?}");
    }
}

#[test]
fn rootless_sock_serves_a_socket_in_the_users_runtime_dir_and_says_how_to_keep_one() {
    let host = rootless_podman();
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    let service = p
        .service
        .as_ref()
        .expect("no socket answers: one is served");
    assert_eq!(service.socket, "/run/user/1001/dindbox/box/api/podman.sock");
    assert!(has(
        &p,
        &["-v", "/run/user/1001/dindbox/box/api:/run/dindbox/api"]
    ));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("`systemctl --user enable --now podman.socket`")),
        "{:?}",
        p.notes
    );
    assert!(
        p.notes.iter().any(|n| n.contains("--network none")),
        "containers started through the socket cannot use slirp4netns here: {:?}",
        p.notes
    );
}

#[test]
fn rootless_sock_uses_the_users_podman_socket_when_it_answers() {
    let mut host = rootless_podman();
    host.engines[0].sockets = vec![crate::probe::facts::SocketFacts {
        path: "/run/user/1001/podman/podman.sock".into(),
        answers: true,
        mode: Some(0o660),
    }];
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert!(p.service.is_none());
    assert!(has(
        &p,
        &[
            "-v",
            "/run/user/1001/podman/podman.sock:/var/run/docker.sock"
        ]
    ));
    assert!(!p.notes.iter().any(|n| n.contains("systemctl")));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("mode 0660: inside the sandbox only root can use it")),
        "{:?}",
        p.notes
    );
}

#[test]
fn rootful_sock_note_names_the_system_socket_unit() {
    let p = plan(
        &request(Mode::Sock, Some(EngineKind::Podman), EngineKind::Podman),
        &this_machine(),
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("`systemctl enable --now podman.socket`")),
        "{:?}",
        p.notes
    );
}

#[test]
fn sock_on_an_selinux_podman_host_disables_labels() {
    let mut host = rootless_podman();
    host.security.selinux = SelinuxMode::Enforcing;
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert!(has(&p, &["--security-opt", "label=disable"]));
    host.security.selinux = SelinuxMode::Disabled;
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert!(!has(&p, &["--security-opt", "label=disable"]));
}
