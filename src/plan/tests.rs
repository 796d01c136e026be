//! Plans made from fixture hosts: this build machine (Debian 12, hybrid cgroups,
//! a bounding set without CAP_SYS_RESOURCE, Docker 20.10 and Podman 4.3) and an
//! Ubuntu 24.04 host with Docker 28, AppArmor and cgroup v2.

use std::path::PathBuf;

use super::inner::{CgroupSetup, Ulimits};
use super::*;
use crate::engine::EngineKind;
use crate::error::Error;
use crate::probe::facts::{HostFacts, SelinuxMode};
use crate::probe::fixtures::{this_machine, ubuntu};
use crate::render::Arg;
use crate::spec::init::InnerSpec;

pub(super) fn request(mode: Mode, engine: Option<EngineKind>, inner: EngineKind) -> Request {
    Request {
        engine,
        inner,
        command: Some("docker ps".into()),
        preload: vec![PathBuf::from("/root/.cache/dindbox/preload/canary.tar")],
        env_file: PathBuf::from("/run/user/0/dindbox/env/box.env"),
        profiles_dir: PathBuf::from("/run/dindbox/.profiles"),
        ..Request::new(
            mode,
            "localhost/dindbox/sandbox:0.1.0",
            "box",
            PathBuf::from("/home/u/project"),
            PathBuf::from("/usr/local/bin/dindbox"),
        )
    }
}

pub(super) fn our_image() -> ImageFacts {
    ImageFacts {
        exists: true,
        engines: Some(vec![EngineKind::Podman, EngineKind::Docker]),
        systemd: false,
    }
}

pub(super) fn plan(req: &Request, host: &HostFacts) -> Plan {
    make(req, host, &our_image()).unwrap_or_else(|e| panic!("refused: {e}"))
}

pub(super) fn refusal(req: &Request, host: &HostFacts, image: &ImageFacts) -> Error {
    make(req, host, image).expect_err("the plan should be refused")
}

/// The argv with the init's JSON spec left out, as one string.
fn line(plan: &Plan) -> String {
    let argv = plan.argv();
    argv[..argv.len() - 1].join(" ")
}

pub(super) fn has(plan: &Plan, flags: &[&str]) -> bool {
    plan.command().run.iter().any(|a| a.args == flags)
}

#[test]
fn modes_are_named_as_clap_names_them() {
    use clap::ValueEnum;
    for mode in Mode::value_variants() {
        assert_eq!(mode.name(), mode.to_possible_value().unwrap().get_name());
        assert_eq!(Mode::parse(mode.name()).unwrap(), *mode);
    }
}

#[test]
fn docker_host_dind_podman_is_spelled_out_exactly() {
    let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman);
    req.host_root = true;
    let p = plan(&req, &this_machine());
    let seccomp = crate::spec::confine::seccomp_file_name();
    assert_eq!(
        line(&p),
        format!(
            "/usr/local/bin/docker run --name box --rm -i \
         --label io.dindbox.managed=true --label io.dindbox.sandbox=box \
         --hostname box \
         -v /usr/local/bin/dindbox:/usr/local/libexec/dindbox/dindbox:ro --entrypoint /usr/local/libexec/dindbox/dindbox \
         -v /home/u/project:/home/u/project -w /home/u/project \
         --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
         --cap-add SYS_ADMIN --cap-add NET_ADMIN \
         --security-opt seccomp=/run/dindbox/.profiles/{seccomp} \
         --cgroupns private \
         -v /var/lib/containers \
         -v /root/.cache/dindbox/preload/canary.tar:/run/dindbox/preload/canary.tar:ro \
         --label io.dindbox.image=localhost/dindbox/sandbox:0.1.0 --label io.dindbox.inner=podman \
         --label io.dindbox.mode=dind --label io.dindbox.mounts=/home/u/project:/home/u/project,/var/lib/containers \
         --label io.dindbox.workdir=/home/u/project --label io.dindbox.timeout-ms=60000 \
         localhost/dindbox/sandbox:0.1.0 init --spec"
        )
    );
    assert!(!p.argv().contains(&"--privileged".to_string()));
    assert_eq!(
        p.inner.cgroup,
        CgroupSetup::MountV1 {
            controllers: [
                "cpu",
                "cpuacct",
                "cpuset",
                "memory",
                "devices",
                "freezer",
                "blkio",
                "pids",
                "name=systemd"
            ]
            .map(String::from)
            .to_vec()
        }
    );
    let engine = p.inner.engine.as_ref().unwrap();
    assert_eq!(engine.runtime, "runc");
    assert_eq!(
        engine.ulimits,
        Some(Ulimits {
            nofile: 20000,
            nproc: 32768
        })
    );
    assert_eq!(p.inner.command, vec!["/bin/sh", "-c", "docker ps"]);
    assert!(
        !p.inner.graceful_stop,
        "a throw-away sandbox does not wait for its engine to stop"
    );
}

#[test]
fn every_flag_has_a_reason() {
    for (host, engine, inner) in [
        (this_machine(), EngineKind::Docker, EngineKind::Docker),
        (this_machine(), EngineKind::Podman, EngineKind::Docker),
        (ubuntu(), EngineKind::Docker, EngineKind::Podman),
    ] {
        let p = plan(&request(Mode::Dind, Some(engine), inner), &host);
        for arg in p.command().run.iter().chain(&p.command().global) {
            assert!(arg.why.len() > 10, "{:?} has no reason", arg.args);
        }
    }
}

#[test]
fn podman_host_dind_docker_needs_runc_more_caps_and_the_console() {
    // The host's root: the recipe without the init's user namespace.
    let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Docker);
    req.host_root = true;
    let p = plan(&req, &this_machine());
    assert_eq!(
        p.command().global,
        vec![Arg::new(
            ["--runtime", "runc"],
            p.command().global[0].why.clone()
        )]
    );
    assert!(p.command().global[0].why.contains("hybrid"));
    for cap in ["SYS_ADMIN", "NET_ADMIN", "MKNOD", "NET_RAW", "AUDIT_WRITE"] {
        assert!(has(&p, &["--cap-add", cap]), "missing {cap}: {}", line(&p));
    }
    assert!(
        !has(&p, &["--cap-add", "CHOWN"]),
        "Podman gives CHOWN by default"
    );
    assert!(has(&p, &["--device-cgroup-rule", "c 5:1 rwm"]));
    assert!(
        !p.argv().iter().any(|a| a.contains("unmask")),
        "/proc and /sys stay masked"
    );
    assert!(p.inner.net_sysctls);
    assert!(has(&p, &["-v", "/var/lib/docker"]));
    assert_eq!(p.argv()[1..4], ["--runtime", "runc", "run"]);
}

#[test]
fn podman_host_dind_podman_needs_no_device_rule() {
    let p = plan(
        &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman),
        &this_machine(),
    );
    assert!(
        !p.command()
            .run
            .iter()
            .any(|a| a.args[0] == "--device-cgroup-rule")
    );
    assert!(
        !has(&p, &["--cap-add", "MKNOD"]),
        "inner Podman does not give MKNOD by default"
    );
}

#[test]
fn ubuntu_cgroup_v2_apparmor_host() {
    let mut req = request(Mode::Dind, None, EngineKind::Docker);
    req.host_root = true;
    let p = plan(&req, &ubuntu());
    assert_eq!(p.engine, EngineKind::Docker);
    assert!(has(&p, &["--security-opt", "apparmor=unconfined"]));
    assert!(has(&p, &["--cgroupns", "private"]));
    assert_eq!(p.inner.cgroup, CgroupSetup::NestV2);
    let engine = p.inner.engine.as_ref().unwrap();
    assert_eq!(engine.runtime, "runc", "crun would need /proc/sys writable");
    assert_eq!(
        engine.ulimits, None,
        "a 1048576 hard limit needs no --ulimit"
    );
    assert!(
        !p.command()
            .run
            .iter()
            .any(|a| a.args[0] == "--ulimit" && a.args[1].starts_with("nofile")),
        "the host's nofile and nproc need none"
    );
    assert!(p.command().global.is_empty());
    assert!(
        !p.command()
            .run
            .iter()
            .any(|a| a.args[0] == "--device-cgroup-rule")
    );
}

#[test]
fn privileged_on_docker_lists_the_bounding_set() {
    let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Docker);
    req.privileged = true;
    let p = plan(&req, &this_machine());
    assert!(!p.argv().contains(&"--privileged".to_string()));
    let caps = p.argv().iter().filter(|a| *a == "--cap-add").count();
    assert_eq!(
        caps, 37,
        "40 in the bounding set, less 3 Docker 20.10 does not know"
    );
    for absent in ["SYS_RESOURCE", "BPF", "PERFMON", "CHECKPOINT_RESTORE"] {
        assert!(!p.argv().contains(&absent.to_string()), "{absent}");
    }
    assert!(
        p.notes.iter().any(|n| n.contains("CAP_SYS_RESOURCE")),
        "{:?}",
        p.notes
    );
}

#[test]
fn privileged_where_the_engine_can_have_it() {
    let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman);
    req.privileged = true;
    assert!(has(&plan(&req, &this_machine()), &["--privileged"]));
    req.engine = Some(EngineKind::Docker);
    assert!(
        has(&plan(&req, &ubuntu()), &["--privileged"]),
        "a full bounding set"
    );
}

#[test]
fn sock_mounts_the_live_socket_at_the_docker_path() {
    let p = plan(
        &request(Mode::Sock, None, EngineKind::Podman),
        &this_machine(),
    );
    assert_eq!(
        p.engine,
        EngineKind::Docker,
        "Podman has no socket on this machine"
    );
    assert!(has(
        &p,
        &["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    ));
    assert!(has(&p, &["-e", "DOCKER_HOST=unix:///var/run/docker.sock"]));
    assert!(!p.command().run.iter().any(|a| a.args[0] == "--cap-add"));
    assert!(p.inner.engine.is_none());
}

#[test]
fn sock_on_podman_without_its_socket_serves_one_for_the_sandbox() {
    let p = plan(
        &request(Mode::Sock, Some(EngineKind::Podman), EngineKind::Podman),
        &this_machine(),
    );
    let service = p
        .service
        .as_ref()
        .expect("a Podman API service for the sandbox");
    assert_eq!(
        service.argv,
        [
            "/usr/bin/podman",
            "--runtime",
            "runc",
            "system",
            "service",
            "--time=0",
            "unix:///run/dindbox/box/api/podman.sock"
        ]
    );
    let config = service
        .config
        .as_ref()
        .expect("the host's limits for nested containers");
    assert_eq!(config.env, "CONTAINERS_CONF");
    assert!(
        config.content.contains("nofile=20000:20000"),
        "{}",
        config.content
    );
    assert!(has(&p, &["-v", "/run/dindbox/box/api:/run/dindbox/api"]));
    assert_eq!(
        p.inner.socket_link.as_deref(),
        Some("/run/dindbox/api/podman.sock"),
        "/var/run/docker.sock inside links into the mounted directory"
    );
    assert!(show::text(&p).contains("before the sandbox, on the host"));
    assert!(
        !p.argv()
            .iter()
            .any(|a| a.starts_with("io.dindbox.service=")),
        "a throw-away sandbox's service is not a label"
    );
    let mut kept = request(Mode::Sock, Some(EngineKind::Podman), EngineKind::Podman);
    kept.rm = false;
    let p = plan(&kept, &this_machine());
    let label = p
        .argv()
        .into_iter()
        .find_map(|a| a.strip_prefix("io.dindbox.service=").map(String::from))
        .expect("a kept sandbox carries its service");
    let service: HostService = serde_json::from_str(&label).unwrap();
    assert_eq!(Some(&service), p.service.as_ref());
}

#[test]
fn long_sandbox_names_still_make_a_socket_path_that_fits() {
    let host = this_machine();
    let long = "a".repeat(128);
    let path = sock::service_socket(&host, &long).unwrap();
    assert!(path.len() < 108, "{path}");
    assert_ne!(path, sock::service_socket(&host, &"b".repeat(128)).unwrap());
    assert_eq!(
        sock::service_socket(&host, "box").unwrap(),
        "/run/dindbox/box/api/podman.sock"
    );
}

#[test]
fn rootless_podman_without_a_runtime_dir_is_refused_with_the_fix() {
    let mut host = this_machine();
    host.uid = 1000;
    host.env.xdg_runtime_dir = None;
    host.engines.retain(|e| e.kind == EngineKind::Podman);
    host.engines[0].rootless = true;
    let e = refusal(
        &request(Mode::Sock, None, EngineKind::Podman),
        &host,
        &our_image(),
    );
    assert_eq!(e.code, crate::error::exit::REFUSED);
    assert!(
        e.hints
            .iter()
            .any(|h| h.contains("systemctl --user enable --now podman.socket")),
        "{e}"
    );
}

#[test]
fn common_has_no_engine_inside() {
    let p = plan(
        &request(Mode::Common, None, EngineKind::Podman),
        &this_machine(),
    );
    assert_eq!(
        p.engine,
        EngineKind::Podman,
        "Podman first when both answer"
    );
    let argv = p.argv().join(" ");
    assert!(!argv.contains("docker.sock"), "{argv}");
    // Podman 4.3 with runc 1.1 cannot give it a user namespace of its own:
    // the init makes it, and alone holds what that takes.
    let ns = p.inner.userns.as_ref().expect("the init's user namespace");
    assert_eq!(ns.outside_only, ["SYS_ADMIN", "NET_ADMIN"]);
    assert_eq!(argv.matches("--cap-add").count(), 2, "{argv}");
    assert_eq!(p.inner.cgroup, CgroupSetup::Leave);
    assert!(p.inner.engine.is_none());
}

#[test]
fn no_engine_answers() {
    let mut host = this_machine();
    for e in &mut host.engines {
        e.answers = false;
        e.error = Some("Cannot connect to the Docker daemon".into());
    }
    let e = refusal(
        &request(Mode::Dind, None, EngineKind::Podman),
        &host,
        &our_image(),
    );
    assert_eq!(e.message, "no container engine answers on this host");
    assert!(e.hints.iter().any(|h| h.contains("apt-get install podman")));
    assert!(e.hints.iter().any(|h| h.contains("systemctl start docker")));
    host.engines.clear();
    let e = refusal(
        &request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman),
        &host,
        &our_image(),
    );
    assert_eq!(e.message, "docker is not installed on this host");
}

#[test]
fn inner_docker_in_an_image_without_it_is_bad_input() {
    let image = ImageFacts {
        exists: true,
        engines: Some(vec![EngineKind::Podman]),
        systemd: false,
    };
    let e = refusal(
        &request(Mode::Dind, None, EngineKind::Docker),
        &this_machine(),
        &image,
    );
    assert_eq!(e.code, crate::error::exit::USAGE);
    assert!(e.message.contains("has no docker inside"), "{e}");
    assert!(e.hints.iter().any(|h| h == "use `--inner podman`"), "{e}");
}

#[test]
fn missing_image_points_at_image_build() {
    let e = refusal(
        &request(Mode::Common, None, EngineKind::Podman),
        &this_machine(),
        &ImageFacts::default(),
    );
    assert!(
        e.hints.iter().any(|h| h.contains("dindbox image build")),
        "{e}"
    );
}

#[test]
fn without_sys_admin_dind_is_refused() {
    let mut host = this_machine();
    host.caps.bounding.retain(|c| c != "CAP_SYS_ADMIN");
    let e = refusal(
        &request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman),
        &host,
        &our_image(),
    );
    assert!(e.message.contains("CAP_SYS_ADMIN"), "{e}");
}

#[test]
fn selinux_hosts_disable_labels() {
    let mut host = this_machine();
    host.security.selinux = SelinuxMode::Enforcing;
    let p = plan(&request(Mode::Sock, None, EngineKind::Podman), &host);
    assert!(has(&p, &["--security-opt", "label=disable"]));
}

#[test]
fn kept_sandbox_owns_a_named_volume_and_stops_cleanly() {
    let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Docker);
    req.rm = false;
    req.named = true;
    let p = plan(&req, &this_machine());
    assert_eq!(p.volumes, vec!["box-storage".to_string()]);
    assert!(has(&p, &["-v", "box-storage:/var/lib/docker"]));
    assert!(!has(&p, &["--rm"]));
    assert!(p.inner.graceful_stop);
}

#[test]
fn terminal_gets_a_tty() {
    let mut req = request(Mode::Common, None, EngineKind::Podman);
    req.tty = true;
    req.command = None;
    let p = plan(&req, &this_machine());
    assert!(has(&p, &["-i", "-t"]));
    assert!(
        p.inner.command.is_empty(),
        "no command: the init starts a shell"
    );
}

#[test]
fn workspaces_that_would_hide_the_image_or_break_mounts_are_refused() {
    for dir in ["/", "/usr", "/etc", "/proc/1", "/srv/a:b"] {
        let mut req = request(Mode::Common, None, EngineKind::Podman);
        req.workspace = PathBuf::from(dir);
        let e = refusal(&req, &this_machine(), &our_image());
        assert_eq!(e.code, crate::error::exit::USAGE, "{dir}");
        assert!(e.hints[0].contains("directory"), "{dir}: {e}");
    }
    for dir in ["/root", "/home/u/project", "/tmp/x", "/usr2", "/var/tmp/w"] {
        let mut req = request(Mode::Common, None, EngineKind::Podman);
        req.workspace = PathBuf::from(dir);
        assert!(make(&req, &this_machine(), &our_image()).is_ok(), "{dir}");
    }
}

#[test]
fn unknown_values_suggest_the_valid_ones() {
    let e = Mode::parse("dnd").unwrap_err();
    assert_eq!(e.code, crate::error::exit::USAGE);
    assert_eq!(
        e.hints,
        vec!["did you mean `dind`?", "valid values: common, sock, dind"]
    );
    let e = parse_engine("inner engine", "dokcer").unwrap_err();
    assert_eq!(e.message, "unknown inner engine `dokcer`");
    assert!(check_name("-bad").is_err());
    assert!(check_name("my-box_1.x").is_ok());
}

#[test]
fn plans_render_each_flag_with_its_reason() {
    let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman);
    req.host_root = true;
    let p = plan(&req, &this_machine());
    let text = show::text(&p);
    assert!(text.contains("--cap-add SYS_ADMIN"), "{text}");
    assert!(
        text.contains("# mount filesystems and create namespaces"),
        "{text}"
    );
    assert!(
        text.contains("engine: start podman with runtime runc"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&show::json(&p)).unwrap();
    assert_eq!(json["schema"], crate::output::JSON_SCHEMA);
    assert_eq!(json["argv"][0], "/usr/local/bin/docker");
    assert_eq!(json["plan"]["mode"], "dind");
}

#[test]
fn rootful_podman_sandboxes_use_slirp4netns_unless_asked_otherwise() {
    let p = plan(
        &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Docker),
        &this_machine(),
    );
    assert!(has(&p, &["--network", "slirp4netns"]), "{}", line(&p));
    let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Docker);
    req.network = Some("bridge".into());
    let p = plan(&req, &this_machine());
    assert!(has(&p, &["--network", "bridge"]));
    assert!(!has(&p, &["--network", "slirp4netns"]));
    let mut host = this_machine();
    host.network_helpers.clear();
    let p = plan(
        &request(Mode::Common, Some(EngineKind::Podman), EngineKind::Podman),
        &host,
    );
    assert!(
        !p.command().run.iter().any(|a| a.args[0] == "--network"),
        "no slirp4netns: the engine's default"
    );
    let p = plan(
        &request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Docker),
        &this_machine(),
    );
    assert!(
        !p.command().run.iter().any(|a| a.args[0] == "--network"),
        "Docker's bridge is fast: its default"
    );
}

#[test]
fn volumes_ports_and_limits_reach_the_argv_with_reasons() {
    use super::resources::{Resources, Volume};
    let mut req = request(Mode::Common, Some(EngineKind::Docker), EngineKind::Podman);
    req.volumes = vec![Volume {
        host: PathBuf::from("/srv/data"),
        container: "/data".into(),
        options: Some("ro".into()),
    }];
    req.ports = vec!["127.0.0.1:8080:80".into()];
    req.resources = Resources {
        cpus: Some("1.5".into()),
        memory: Some(512 << 20),
        pids: Some(256),
    };
    req.container_workspace = PathBuf::from("/workspace");
    for host in [this_machine(), ubuntu()] {
        let p = plan(&req, &host);
        assert!(has(&p, &["-v", "/srv/data:/data:ro"]), "{}", line(&p));
        assert!(has(&p, &["-p", "127.0.0.1:8080:80"]));
        assert!(has(&p, &["--cpus", "1.5"]));
        assert!(has(&p, &["--memory", "536870912"]));
        assert!(has(&p, &["--pids-limit", "256"]));
        assert!(has(
            &p,
            &["-v", "/home/u/project:/workspace", "-w", "/workspace"]
        ));
        let why = &p
            .command()
            .run
            .into_iter()
            .find(|a| a.args[0] == "--memory")
            .unwrap()
            .why;
        assert!(why.contains("512 MiB"), "{why}");
    }
}

#[test]
fn env_values_stay_out_of_the_argv_and_the_shown_plan() {
    use super::resources::{EnvVar, Secret};
    let mut req = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman);
    req.env = vec![EnvVar {
        name: "API_TOKEN".into(),
        value: Secret::new("s3cr3t-value"),
    }];
    let p = plan(&req, &this_machine());
    let argv = p.argv().join(" ");
    assert!(!argv.contains("s3cr3t-value"), "{argv}");
    assert!(
        argv.contains("--env-file /run/user/0/dindbox/env/box.env"),
        "{argv}"
    );
    assert!(!show::text(&p).contains("s3cr3t-value"));
    assert!(!show::json(&p).contains("s3cr3t-value"));
    assert!(show::text(&p).contains("API_TOKEN"));
    assert_eq!(p.env[0].value.expose(), "s3cr3t-value");
    let none = plan(
        &request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman),
        &this_machine(),
    );
    assert!(!none.argv().iter().any(|a| a == "--env-file"));
    assert_eq!(none.env_file, None);
}

/// A plan for tests elsewhere (e.g. of applying it).
pub fn sample_plan() -> Plan {
    plan(
        &request(Mode::Common, Some(EngineKind::Docker), EngineKind::Podman),
        &this_machine(),
    )
}

mod rootless;
mod runtime;
mod systemd;

/// A request for the step-down tests.
pub(super) fn request_for_steps() -> Request {
    request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman)
}

#[test]
fn no_new_privileges_only_where_nothing_needs_to_gain_privileges() {
    let nnp = ["--security-opt", "no-new-privileges"];
    let host = this_machine();
    for mode in [Mode::Common, Mode::Sock] {
        let req = request(mode, Some(EngineKind::Docker), EngineKind::Docker);
        assert!(has(&plan(&req, &host), &nnp), "{mode:?}");
        let theirs = ImageFacts {
            exists: true,
            engines: None,
            systemd: false,
        };
        let p = make(&req, &host, &theirs).unwrap();
        assert!(!has(&p, &nnp), "{mode:?}: an image that may rely on sudo");
        let privileged = Request {
            privileged: true,
            ..req.clone()
        };
        assert!(
            !has(&plan(&privileged, &host), &nnp),
            "{mode:?} --privileged"
        );
    }
    for inner in [EngineKind::Docker, EngineKind::Podman] {
        let req = request(Mode::Dind, Some(EngineKind::Docker), inner);
        assert!(
            !has(&plan(&req, &host), &nnp),
            "dind: nested containers would inherit it"
        );
    }
}

#[test]
fn docker_dind_runs_in_a_user_namespace_of_the_inits_from_a_shifted_copy_of_its_image() {
    let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Docker);
    req.git_worktree = Some(crate::probe::git::Worktree {
        common_dir: PathBuf::from("/home/u/repo/.git"),
        read_only: vec![PathBuf::from("/home/u/repo/.git/hooks")],
    });
    let p = plan(&req, &this_machine());
    let userns = p.spec.userns.as_ref().expect("a user namespace");
    assert_eq!(userns.value.made_by, crate::spec::UserNsMaker::Init);
    assert!(
        !p.argv()
            .iter()
            .any(|a| a == "--uidmap" || a.ends_with(":idmap")),
        "{:?}",
        p.argv()
    );
    let ns = p.inner.userns.as_ref().expect("the init makes it");
    assert_eq!(ns.uids[0].inside, 0);
    assert_eq!(ns.uids[0].outside, crate::plan::userns::DEFAULT_RANGE_START);
    // Root ran it: the workspace and the repository's git directory are
    // id-mapped, the read-only hooks with the directory they are in.
    assert_eq!(ns.idmap, ["/home/u/project", "/home/u/repo/.git"]);
    assert!(has(
        &p,
        &["-v", "/home/u/repo/.git/hooks:/home/u/repo/.git/hooks:ro"]
    ));
    let shift = p.shift.as_ref().expect("a shifted copy");
    assert_eq!(shift.source, "localhost/dindbox/sandbox:0.1.0");
    assert_eq!(p.image, shift.tag);
    assert_eq!(
        p.identity["io.dindbox.image"],
        "localhost/dindbox/sandbox:0.1.0"
    );
    let engine = p.inner.engine.as_ref().unwrap();
    assert!(engine.userns && engine.cgroups_disabled);
    assert!(!p.inner.net_sysctls, "no mount may cover /proc");
    assert!(has(&p, &["--cgroupns", "private"]));
    assert!(
        p.argv().iter().any(|a| a.starts_with("seccomp=")),
        "dindbox's seccomp profile confines the init"
    );

    // Through sudo: the sandbox's root is the user, nothing id-mapped.
    let mut h = this_machine();
    h.invoker = Some(crate::probe::facts::Invoker {
        uid: 1000,
        gid: 1000,
        name: Some("ada".into()),
        sudo: true,
    });
    let p = plan(&req, &h);
    let ns = p.inner.userns.as_ref().unwrap();
    assert_eq!(ns.uids[0].to_string(), "0:1000:1");
    assert!(ns.idmap.is_empty());

    // Where it cannot: refused, with the fix, unless the host's root is asked for.
    for (network, why) in [
        ("host", "--network host"),
        ("container:db", "another container's"),
        ("mynet", "user-defined network"),
    ] {
        let mut r = req.clone();
        r.network = Some(network.into());
        let err = refusal(&r, &this_machine(), &our_image());
        assert_eq!(err.code, crate::error::exit::REFUSED, "{err}");
        assert!(
            err.message.contains("its root would be the host's root"),
            "{err}"
        );
        assert!(err.causes.iter().any(|c| c.contains(why)), "{err}");
        assert!(
            err.hints
                .iter()
                .any(|h| h.starts_with(&format!("drop `--network {network}`"))),
            "{err}"
        );
        assert!(
            err.hints.iter().any(|h| h.contains("`--host-root`")),
            "{err}"
        );
        r.host_root = true;
        let p = plan(&r, &this_machine());
        assert!(p.spec.userns.is_none() && p.shift.is_none());
        assert!(
            p.notes.iter().any(|n| n
                .starts_with("the sandbox's root is the host's root (asked for with --host-root")),
            "{:#?}",
            p.notes
        );
    }
    // Podman gives a user-defined network's sandbox the namespace itself.
    let mut r = request(Mode::Dind, Some(EngineKind::Podman), EngineKind::Podman);
    r.network = Some("mynet".into());
    assert!(plan(&r, &this_machine()).inner.userns.is_some());
    let common = plan(
        &request(Mode::Common, Some(EngineKind::Docker), EngineKind::Docker),
        &this_machine(),
    );
    // A common sandbox too: only the init holds what making it takes.
    let ns = common.inner.userns.as_ref().expect("the init makes it");
    assert_eq!(ns.outside_only, ["SYS_ADMIN", "NET_ADMIN"]);
    assert!(!ns.unmask, "no nested proc: the engine's masks stay");
    assert!(has(&common, &["--cap-add", "SYS_ADMIN"]));
    assert!(common.inner.engine.is_none());
    let sock = plan(
        &request(Mode::Sock, Some(EngineKind::Docker), EngineKind::Docker),
        &this_machine(),
    );
    assert!(
        sock.spec.userns.is_none(),
        "sock hands the sandbox the host engine"
    );
}
