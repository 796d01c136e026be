//! Plans of `--systemd` sandboxes, from fixture hosts.

use super::*;

fn systemd_request(engine: EngineKind, inner: EngineKind) -> Request {
    let mut req = request(Mode::Dind, Some(engine), inner);
    req.systemd = true;
    req.host_root = true;
    req.image = crate::plan::systemd::image_tag();
    req
}

#[test]
fn a_systemd_sandbox_on_a_rootful_engine_is_the_hosts_root_only_when_asked() {
    for engine in [EngineKind::Docker, EngineKind::Podman] {
        let mut req = systemd_request(engine, engine);
        req.host_root = false;
        let err = refusal(&req, &this_machine(), &systemd_image());
        assert_eq!(err.code, crate::error::exit::REFUSED, "{err}");
        assert!(err.causes.iter().any(|c| c.contains("--systemd")), "{err}");
        assert!(
            err.hints.iter().any(|h| h.starts_with("drop --systemd")),
            "{err}"
        );
        assert!(
            err.hints.iter().any(|h| h.contains("`--host-root`")),
            "{err}"
        );
        // Nothing refuses a common sandbox for --systemd's user namespace:
        // --systemd itself is for dind only.
        req.mode = Mode::Common;
        let err = refusal(&req, &this_machine(), &systemd_image());
        assert!(err.message.contains("applies to dind sandboxes"), "{err}");
    }
}

fn systemd_image() -> ImageFacts {
    ImageFacts {
        systemd: true,
        ..our_image()
    }
}

fn systemd_plan(req: &Request, host: &HostFacts) -> Plan {
    make(req, host, &systemd_image()).unwrap_or_else(|e| panic!("refused: {e}"))
}

#[test]
fn docker_gets_tmpfs_run_the_container_variable_and_systemds_stop_signal() {
    let p = systemd_plan(
        &systemd_request(EngineKind::Docker, EngineKind::Docker),
        &this_machine(),
    );
    assert!(has(&p, &["--tmpfs", "/run:exec", "--tmpfs", "/run/lock"]));
    assert!(has(&p, &["-e", "container=docker"]));
    assert!(has(&p, &["--stop-signal", "SIGRTMIN+3"]));
    assert!(!has(&p, &["--systemd=always"]), "a Podman flag");
    assert!(!p.argv().contains(&"--privileged".to_string()));
    assert!(has(&p, &["--cgroupns", "private"]));
    match &p.inner.cgroup {
        CgroupSetup::MountV1 { controllers } => {
            assert!(controllers.contains(&"name=systemd".to_string()))
        }
        other => panic!("hybrid host: v1 controllers mounted afresh, not {other:?}"),
    }
    assert!(p.inner.net_sysctls);
    for arg in &p.command().run {
        assert!(!arg.why.is_empty(), "{:?} has no reason", arg.args);
    }
}

#[test]
fn podman_runs_the_sandbox_in_its_systemd_mode() {
    let p = systemd_plan(
        &systemd_request(EngineKind::Podman, EngineKind::Podman),
        &this_machine(),
    );
    assert!(has(&p, &["--systemd=always"]));
    assert!(!has(&p, &["--stop-signal", "SIGRTMIN+3"]), "Podman sets it");
    assert_eq!(
        p.command().global[0].args,
        ["--runtime", "runc"],
        "hybrid host"
    );
    assert!(!p.argv().contains(&"--privileged".to_string()));
}

#[test]
fn a_throwaway_systemd_sandbox_runs_detached_and_its_command_through_enter() {
    let p = systemd_plan(
        &systemd_request(EngineKind::Docker, EngineKind::Podman),
        &this_machine(),
    );
    assert!(p.rm);
    assert!(has(&p, &["-d"]));
    assert!(
        !has(&p, &["-i"]) && !has(&p, &["--rm"]),
        "dindbox removes it itself"
    );
    assert!(p.inner.systemd);
    assert!(
        p.inner.command.is_empty(),
        "systemd, not the init, is PID 1"
    );
    let exec = p
        .exec_argv()
        .expect("the command runs through exec")
        .join(" ");
    assert!(
        exec.ends_with(
            "/usr/local/libexec/dindbox/dindbox enter --timeout-ms 75000 -- /bin/sh -c docker ps"
        ),
        "{exec}"
    );
    assert_eq!(p.identity[labels::SYSTEMD], "true");
    let spec = InnerSpec::from_json(&p.init_args()[2]).unwrap();
    assert!(spec.systemd && spec.engine.is_some());
}

#[test]
fn a_kept_systemd_sandbox_is_a_kept_sandbox_that_boots_systemd() {
    let mut req = systemd_request(EngineKind::Podman, EngineKind::Docker);
    req.rm = false;
    let p = systemd_plan(&req, &this_machine());
    assert!(has(&p, &["-d"]));
    assert_eq!(p.volumes, vec!["box-storage".to_string()]);
    assert!(p.exec.is_some());
    assert!(p.inner.systemd);
}

#[test]
fn on_cgroup_v2_the_tree_is_nested_for_systemd_and_the_inner_engine() {
    let p = systemd_plan(
        &systemd_request(EngineKind::Docker, EngineKind::Docker),
        &ubuntu(),
    );
    assert_eq!(p.inner.cgroup, CgroupSetup::NestV2);
    assert!(has(&p, &["--tmpfs", "/run:exec", "--tmpfs", "/run/lock"]));
}

#[test]
fn an_image_without_systemd_is_refused_before_anything_starts() {
    let mut req = systemd_request(EngineKind::Docker, EngineKind::Podman);
    req.image = "localhost/dindbox/sandbox:0.1.0".into();
    let err = refusal(&req, &this_machine(), &our_image());
    assert_eq!(err.code, crate::error::exit::USAGE);
    assert!(err.message.contains("does not boot systemd"), "{err}");
    assert!(
        err.hints
            .iter()
            .any(|h| h.contains("dindbox image build --systemd")),
        "{err}"
    );
}

#[test]
fn systemd_outside_dind_is_refused_with_the_reason() {
    for mode in [Mode::Common, Mode::Sock] {
        let mut req = systemd_request(EngineKind::Docker, EngineKind::Podman);
        req.mode = mode;
        let err = refusal(&req, &this_machine(), &systemd_image());
        assert_eq!(err.code, crate::error::exit::USAGE, "{err}");
        assert!(err.message.contains("applies to dind sandboxes"), "{err}");
        assert!(
            err.hints.iter().any(|h| h.contains("-m dind --systemd")),
            "{err}"
        );
    }
}

#[test]
fn without_systemd_nothing_changes() {
    let p = plan(
        &request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman),
        &this_machine(),
    );
    assert!(!p.inner.systemd);
    assert!(!has(&p, &["--stop-signal", "SIGRTMIN+3"]));
    assert_eq!(p.identity[labels::SYSTEMD], "");
    assert!(!p.argv().iter().any(|a| a.contains(labels::SYSTEMD)));
}

#[test]
fn rootless_podman_on_cgroup_v1_is_refused_and_on_v2_planned() {
    let mut host = crate::probe::fixtures::rootless_podman();
    let mut req = systemd_request(EngineKind::Podman, EngineKind::Podman);
    req.engine = None;
    let err = refusal(&req, &host, &systemd_image());
    assert_eq!(err.code, crate::error::exit::REFUSED, "{err}");
    assert!(
        err.causes.iter().any(|c| c.contains("not delegated")),
        "{err}"
    );
    assert!(
        err.hints.iter().any(|h| h.contains("sudo dindbox")),
        "{err}"
    );
    host.cgroup.layout = crate::probe::facts::CgroupLayout::V2;
    let p = systemd_plan(&req, &host);
    assert!(has(&p, &["--systemd=always"]));
}
