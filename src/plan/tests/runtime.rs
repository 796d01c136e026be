//! Plans with `--runtime`: gVisor, Kata, sysbox-runc, RunCVM and the
//! engines' own runtimes, on fixture hosts.

use super::*;
use crate::plan::runtime::Family;
use crate::probe::facts::DeviceNode;

/// This machine with gVisor of `version`, registered with Docker with `args`.
fn with_gvisor(version: &str, args: &[&str]) -> HostFacts {
    crate::probe::fixtures::with_gvisor(this_machine(), version, args)
}

const DEBIAN_RUNSC: &str = "0.0~20221219.0";

fn with_runtime(mode: Mode, engine: EngineKind, runtime: &str) -> Request {
    let mut req = request(mode, Some(engine), EngineKind::Podman);
    req.runtime = Some(runtime.into());
    req
}

fn global_has(plan: &Plan, flags: &[&str]) -> bool {
    plan.command().global.iter().any(|a| a.args == flags)
}

#[test]
fn names_map_to_their_families() {
    assert_eq!(Family::of("runsc"), Family::Gvisor);
    assert_eq!(Family::of("/usr/local/bin/runsc"), Family::Gvisor);
    assert_eq!(Family::of("runsc-debug"), Family::Gvisor);
    assert_eq!(Family::of("io.containerd.kata.v2"), Family::Kata);
    assert_eq!(Family::of("kata-qemu"), Family::Kata);
    assert_eq!(Family::of("sysbox-runc"), Family::Sysbox);
    assert_eq!(Family::of("runcvm"), Family::Runcvm);
    assert_eq!(Family::of("io.containerd.runc.v2"), Family::Runc);
    assert_eq!(Family::of("youki"), Family::Other);
    assert!(Family::Kata.own_kernel() && Family::Runcvm.own_kernel());
    assert!(!Family::Gvisor.own_kernel() && !Family::Sysbox.own_kernel());
    for f in [Family::Kata, Family::Runcvm, Family::Gvisor, Family::Sysbox] {
        assert!(f.isolates_by_itself(), "{f:?}");
    }
    assert!(!Family::Runc.isolates_by_itself() && !Family::Crun.isolates_by_itself());
}

#[test]
fn gvisor_common_on_docker_names_the_runtime_with_its_reason() {
    let host = with_gvisor(DEBIAN_RUNSC, &["--network=host", "--host-uds=open"]);
    let p = plan(
        &with_runtime(Mode::Common, EngineKind::Docker, "runsc"),
        &host,
    );
    let arg = p
        .command()
        .run
        .into_iter()
        .find(|a| a.args == ["--runtime", "runsc"])
        .unwrap();
    assert!(arg.why.contains("gVisor"), "{}", arg.why);
    assert!(
        p.command().global.is_empty(),
        "Docker takes --runtime after `run`"
    );
    assert_eq!(p.identity[labels::RUNTIME], "runsc");
    assert!(!p.argv().contains(&"--privileged".to_string()));
}

#[test]
fn gvisor_dind_is_refused_with_what_works_instead() {
    let host = with_gvisor(DEBIAN_RUNSC, &["--network=host", "--host-uds=open"]);
    for engine in [EngineKind::Docker, EngineKind::Podman] {
        let e = refusal(
            &with_runtime(Mode::Dind, engine, "runsc"),
            &host,
            &our_image(),
        );
        assert_eq!(e.code, crate::error::exit::REFUSED);
        assert!(e.message.contains("gVisor"), "{e}");
        assert!(e.causes.iter().any(|c| c.contains("remount /")), "{e}");
        assert!(
            e.hints
                .iter()
                .any(|h| h.contains("-m sock --runtime runsc")),
            "{e}"
        );
    }
}

#[test]
fn gvisor_sock_on_docker_needs_runsc_to_open_host_sockets() {
    let req = with_runtime(Mode::Sock, EngineKind::Docker, "runsc");
    let e = refusal(
        &req,
        &with_gvisor(DEBIAN_RUNSC, &["--network=host"]),
        &our_image(),
    );
    assert!(
        e.causes.iter().any(|c| c.contains("--host-uds=open")),
        "{e}"
    );
    assert!(e.hints[0].contains("/etc/docker/daemon.json"), "{e}");
    let p = plan(
        &req,
        &with_gvisor(DEBIAN_RUNSC, &["--network=host", "--host-uds=open"]),
    );
    assert!(has(&p, &["--runtime", "runsc"]));
}

#[test]
fn old_gvisor_on_a_new_kernel_needs_the_kernels_network_stack() {
    // Docker: the registration must say so, or nothing starts.
    let req = with_runtime(Mode::Common, EngineKind::Docker, "runsc");
    let e = refusal(
        &req,
        &with_gvisor(DEBIAN_RUNSC, &["--host-uds=open"]),
        &our_image(),
    );
    assert!(e.causes[0].contains("root network namespace"), "{e}");
    assert!(e.hints[0].contains("--network=host"), "{e}");
    // A fixed gVisor, or an older kernel, needs nothing.
    plan(&req, &with_gvisor("release-20250113.0", &[]));
    let mut old_kernel = with_gvisor(DEBIAN_RUNSC, &[]);
    old_kernel.kernel = "6.1.0-18-amd64".into();
    plan(&req, &old_kernel);

    // Podman: dindbox passes the runtime flag itself.
    let req = with_runtime(Mode::Common, EngineKind::Podman, "runsc");
    let p = plan(&req, &with_gvisor(DEBIAN_RUNSC, &[]));
    assert_eq!(p.command().global[0].args, ["--runtime", "runsc"]);
    assert!(global_has(&p, &["--runtime-flag", "network=host"]));
    let p = plan(&req, &old_kernel);
    assert!(!global_has(&p, &["--runtime-flag", "network=host"]));
}

#[test]
fn gvisor_sock_on_podman_opens_host_sockets_and_serves_with_the_hosts_runtime() {
    let host = with_gvisor(DEBIAN_RUNSC, &[]);
    let p = plan(
        &with_runtime(Mode::Sock, EngineKind::Podman, "runsc"),
        &host,
    );
    assert!(global_has(&p, &["--runtime-flag", "host-uds=open"]));
    assert!(
        !global_has(&p, &["--runtime", "runc"]),
        "the user's runtime replaces the hybrid-cgroup default"
    );
    let service = p.service.expect("no Podman socket answers in the fixture");
    assert_eq!(
        service.argv[1..3],
        ["--runtime", "runc"],
        "containers started through the socket run as on the host: {:?}",
        service.argv
    );
    assert!(!service.argv.contains(&"runsc".to_string()));
}

#[test]
fn a_runtime_docker_does_not_know_is_named_with_how_to_get_it() {
    // Installed but not registered.
    let mut host = with_gvisor(DEBIAN_RUNSC, &[]);
    let docker = host
        .engines
        .iter_mut()
        .find(|e| e.kind == EngineKind::Docker)
        .unwrap();
    docker.runtimes.retain(|r| r != "runsc");
    let e = refusal(
        &with_runtime(Mode::Common, EngineKind::Docker, "runsc"),
        &host,
        &our_image(),
    );
    assert_eq!(e.code, crate::error::exit::USAGE);
    assert_eq!(e.message, "Docker has no runtime `runsc`");
    assert!(e.causes.iter().any(|c| c.contains("/usr/bin/runsc")), "{e}");
    assert!(
        e.hints
            .iter()
            .any(|h| h.contains(r#""path": "/usr/bin/runsc""#)),
        "{e}"
    );
    assert!(e.hints.iter().any(|h| h.contains("runsc install")), "{e}");
    // Not installed at all.
    let e = refusal(
        &with_runtime(Mode::Common, EngineKind::Docker, "sysbox-runc"),
        &this_machine(),
        &our_image(),
    );
    assert!(e.hints[0].contains("sysbox"), "{e}");
    // Podman: not on PATH.
    let e = refusal(
        &with_runtime(Mode::Common, EngineKind::Podman, "runsc"),
        &this_machine(),
        &our_image(),
    );
    assert_eq!(e.message, "runtime `runsc` is not installed on this host");
    assert!(e.hints[0].contains("apt-get install runsc"), "{e}");
}

#[test]
fn crun_on_a_hybrid_podman_host_is_refused_and_runc_replaces_the_default() {
    let host = this_machine();
    let e = refusal(
        &with_runtime(Mode::Common, EngineKind::Podman, "crun"),
        &host,
        &our_image(),
    );
    assert!(e.message.contains("hybrid"), "{e}");
    let p = plan(
        &with_runtime(Mode::Common, EngineKind::Podman, "runc"),
        &host,
    );
    let runtimes: Vec<Arg> = p
        .command()
        .global
        .into_iter()
        .filter(|a| a.args[0] == "--runtime")
        .collect();
    assert_eq!(runtimes.len(), 1, "{:?}", p.command().global);
    assert!(runtimes[0].why.starts_with("asked for with --runtime"));
}

fn sysbox_host() -> HostFacts {
    crate::probe::fixtures::with_runtime(ubuntu(), "sysbox-runc", "sysbox-runc")
}

#[test]
fn sysbox_dind_adds_no_privilege_at_all() {
    let host = sysbox_host();
    let mut req = with_runtime(Mode::Dind, EngineKind::Docker, "sysbox-runc");
    req.inner = EngineKind::Docker;
    let p = plan(&req, &host);
    assert!(has(&p, &["--runtime", "sysbox-runc"]));
    let flat = p.argv().join(" ");
    for absent in [
        "--cap-add",
        "seccomp=unconfined",
        "apparmor=unconfined",
        "--privileged",
    ] {
        assert!(!flat.contains(absent), "{absent} in {flat}");
    }
    assert!(!p.inner.net_sysctls, "sysbox's /proc/sys is its own");
    assert_eq!(
        p.inner.cgroup,
        CgroupSetup::NestV2,
        "moby's v2 nesting step"
    );
    assert!(p.notes.iter().any(|n| n.starts_with("sysbox:")));
    assert!(
        p.command().run.iter().any(|a| a.args[0] == "-v"
            && a.args[1].ends_with(":/var/lib/docker")
            || a.args == ["-v", "/var/lib/docker"]),
        "the inner storage keeps its volume"
    );
}

#[test]
fn sysbox_refuses_privileged_host_network_and_podman() {
    let host = sysbox_host();
    let mut req = with_runtime(Mode::Dind, EngineKind::Docker, "sysbox-runc");
    req.privileged = true;
    let e = refusal(&req, &host, &our_image());
    assert_eq!(e.code, crate::error::exit::USAGE);
    assert!(e.message.contains("privileged"), "{e}");
    req.privileged = false;
    req.network = Some("host".into());
    assert!(
        refusal(&req, &host, &our_image())
            .message
            .contains("network")
    );
    let mut fedora = crate::probe::fixtures::fedora_rootful();
    fedora.oci_runtimes = host.oci_runtimes.clone();
    let e = refusal(
        &with_runtime(Mode::Dind, EngineKind::Podman, "sysbox-runc"),
        &fedora,
        &our_image(),
    );
    assert!(e.message.contains("not Podman"), "{e}");
}

fn with_vm_runtime(name: &str, binary: &str) -> HostFacts {
    crate::probe::fixtures::with_runtime(this_machine(), name, binary)
}

#[test]
fn vm_runtimes_need_kvm_and_set_cgroups_up_from_inside() {
    let mut host = with_vm_runtime("kata", "kata-runtime");
    let req = with_runtime(Mode::Dind, EngineKind::Docker, "kata");
    let p = plan(&req, &host);
    assert_eq!(p.inner.cgroup, CgroupSetup::Detect);
    assert!(has(&p, &["--runtime", "kata"]));
    assert!(
        has(&p, &["--cap-add", "SYS_ADMIN"]),
        "capabilities, not --privileged"
    );
    assert!(p.notes.iter().any(|n| n.contains("virtio-fs")));
    let mut privileged = req.clone();
    privileged.privileged = true;
    let e = refusal(&privileged, &host, &our_image());
    assert!(e.causes[0].contains("/dev"), "{e}");

    host.devices.kvm = None;
    let e = refusal(&req, &host, &our_image());
    assert_eq!(e.code, crate::error::exit::REFUSED);
    assert!(e.message.contains("/dev/kvm"), "{e}");
    host.devices.kvm = Some(DeviceNode {
        path: "/dev/kvm".into(),
        major: 10,
        minor: 232,
        mode: 0o660,
    });
    plan(&req, &host);
}

#[test]
fn runcvm_dind_puts_the_inner_storage_on_a_disk_and_the_guest_on_cgroup_v1() {
    let host = with_vm_runtime("runcvm", "runcvm");
    let mut req = with_runtime(Mode::Dind, EngineKind::Docker, "runcvm");
    req.inner = EngineKind::Docker;
    req.rm = false;
    req.name = "vm".into();
    let p = plan(&req, &host);
    assert!(has(&p, &["--runtime", "runcvm"]));
    assert!(has(
        &p,
        &[
            "-e",
            "RUNCVM_KERNEL_ARGS=systemd.unified_cgroup_hierarchy=0"
        ]
    ));
    assert!(has(
        &p,
        &["-e", "RUNCVM_DISKS=/disks/storage,/var/lib/docker,ext4,5G"]
    ));
    assert!(
        has(&p, &["-v", "vm-storage:/disks"]),
        "{:?}",
        p.command().run
    );
    assert!(!p.argv().iter().any(|a| a.ends_with(":/var/lib/docker")));
    assert_eq!(
        p.volumes,
        ["vm-storage"],
        "the volume is still the sandbox's"
    );
    assert_eq!(p.inner.cgroup, CgroupSetup::Detect);

    assert!(!p.argv().contains(&"RUNCVM_SYSTEMD=true".to_string()));
    req.systemd = true;
    let image = ImageFacts {
        systemd: true,
        ..our_image()
    };
    let p = make(&req, &host, &image).unwrap();
    assert!(
        has(&p, &["-e", "RUNCVM_SYSTEMD=true"]),
        "seed 004's systemd mode"
    );
    assert!(p.inner.systemd);

    let e = refusal(
        &with_runtime(Mode::Dind, EngineKind::Podman, "runcvm"),
        &host,
        &our_image(),
    );
    assert!(e.message.contains("Docker only"), "{e}");
}

#[test]
fn an_unknown_runtime_the_engine_has_is_passed_on_with_a_note() {
    let host = with_vm_runtime("youki", "youki");
    let p = plan(
        &with_runtime(Mode::Common, EngineKind::Docker, "youki"),
        &host,
    );
    assert!(has(&p, &["--runtime", "youki"]));
    assert!(p.notes.iter().any(|n| n.contains("no recipe")));
}
