//! The matrix built from fixture hosts: each row is what the planner says,
//! Fedora's rows match the published verification, and the host changes
//! follow from the facts.

use super::changes::host_changes;
use super::check::Measured;
use super::matrix::{Combo, Row, rows};
use crate::commands::doctor::render;
use crate::engine::EngineKind;
use crate::plan::{ImageFacts, Mode};
use crate::probe::facts::HostFacts;
use crate::probe::fixtures::{
    self, fedora_rootful, fedora_rootless, inside_a_container, this_machine,
};

fn matrix(host: &HostFacts) -> Vec<Row> {
    let image = ImageFacts {
        exists: true,
        engines: Some(vec![EngineKind::Podman, EngineKind::Docker]),
        systemd: false,
    };
    rows(host, |_, _| Ok(image.clone()), |_| "box".to_string())
}

fn row(rows: &[Row], engine: EngineKind, mode: Mode, inner: Option<EngineKind>) -> &Row {
    let combo = Combo {
        engine,
        mode,
        inner,
        runtime: None,
    };
    rows.iter()
        .find(|r| r.combo == combo)
        .unwrap_or_else(|| panic!("no row {combo:?}"))
}

#[test]
fn fedora_rows_match_the_published_verification() {
    let rootless = matrix(&fedora_rootless());
    assert_eq!(rootless.len(), 4, "Podman only: four rows");
    let dind_docker = row(
        &rootless,
        EngineKind::Podman,
        Mode::Dind,
        Some(EngineKind::Docker),
    );
    // The seed's failing case (devcontainers' docker-in-docker mounts
    // securityfs, which a user namespace may not): dindbox runs dockerd in
    // its rootless mode there instead.
    assert!(dind_docker.predicted.works, "{:?}", dind_docker.predicted);
    assert!(
        row(&rootless, EngineKind::Podman, Mode::Sock, None)
            .predicted
            .works
    );
    assert!(
        row(&rootless, EngineKind::Podman, Mode::Common, None)
            .predicted
            .works
    );
    let rootful = matrix(&fedora_rootful());
    let dind_docker = row(
        &rootful,
        EngineKind::Podman,
        Mode::Dind,
        Some(EngineKind::Docker),
    );
    assert!(dind_docker.predicted.works, "{:?}", dind_docker.predicted);
}

#[test]
fn this_machine_predicts_all_eight_combinations_work() {
    let rows = matrix(&this_machine());
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert!(r.predicted.works, "{}: {:?}", r.command, r.predicted);
        assert!(r.checked.is_none());
    }
    assert_eq!(rows[0].combo.engine, EngineKind::Podman, "Podman first");
}

#[test]
fn every_fixture_gets_a_row_per_installed_engine_and_combination() {
    for (name, host) in fixtures::all() {
        let rows = matrix(&host);
        let default_runtime = rows.iter().filter(|r| r.combo.runtime.is_none());
        assert_eq!(default_runtime.count(), 4 * host.engines.len(), "{name}");
        for r in rows.iter().filter(|r| !r.predicted.works) {
            assert!(r.predicted.why.is_some(), "{name}: {}", r.command);
            assert!(
                !r.predicted.fix.is_empty(),
                "{name}: {} names no fix",
                r.command
            );
        }
    }
}

#[test]
fn a_row_is_exactly_the_run_a_user_would_type() {
    let combo = Combo {
        engine: EngineKind::Docker,
        mode: Mode::Dind,
        inner: Some(EngineKind::Podman),
        runtime: None,
    };
    assert_eq!(
        combo.command_line("box"),
        "dindbox run --rm -n box -m dind --engine docker --inner podman -x 'podman run --rm localhost/dindbox/canary:latest true'"
    );
    let req = combo.request("box").unwrap();
    assert_eq!(req.mode, Mode::Dind);
    assert_eq!(req.engine, Some(EngineKind::Docker));
    assert_eq!(req.inner, EngineKind::Podman);
    assert!(req.rm && req.named);
    assert_eq!(
        req.command.as_deref(),
        Some("podman run --rm localhost/dindbox/canary:latest true")
    );
    let sock = Combo {
        engine: EngineKind::Podman,
        mode: Mode::Sock,
        inner: None,
        runtime: None,
    };
    assert_eq!(
        sock.canary(),
        "docker run --rm localhost/dindbox/canary:latest true"
    );
    assert!(!sock.argv("box").contains(&"--inner".to_string()));
}

#[test]
fn a_rows_request_is_made_of_what_its_command_line_parses_to() {
    use clap::Parser;
    let runtimes = [None, Some("runsc".to_string())];
    for (engine, runtime) in EngineKind::ALL.into_iter().zip(runtimes) {
        for (mode, inner) in [
            (Mode::Common, None),
            (Mode::Sock, None),
            (Mode::Dind, Some(EngineKind::Podman)),
            (Mode::Dind, Some(EngineKind::Docker)),
        ] {
            let combo = Combo {
                engine,
                mode,
                inner,
                runtime: runtime.clone(),
            };
            let argv = std::iter::once("dindbox".to_string()).chain(combo.argv("box"));
            let parsed = match crate::cli::Cli::try_parse_from(argv).unwrap().command {
                crate::cli::Command::Run(args) => args,
                other => panic!("not a run: {other:?}"),
            };
            assert_eq!(
                format!("{:?}", combo.run_args("box")),
                format!("{parsed:?}"),
                "{combo:?}"
            );
        }
    }
}

#[test]
fn each_stronger_runtime_the_engines_have_gets_its_rows() {
    let host = fixtures::with_gvisor(
        this_machine(),
        "0.0~20221219.0",
        &["--network=host", "--host-uds=open"],
    );
    let rows = matrix(&host);
    assert_eq!(rows.len(), 16, "two engines, each with and without runsc");
    let gvisor: Vec<&Row> = rows
        .iter()
        .filter(|r| r.combo.runtime.as_deref() == Some("runsc"))
        .collect();
    assert_eq!(gvisor.len(), 8);
    for r in gvisor {
        assert!(r.command.contains("--runtime runsc"), "{}", r.command);
        let dind = r.combo.mode == Mode::Dind;
        assert_eq!(r.predicted.works, !dind, "{}: {:?}", r.command, r.predicted);
        if dind {
            assert!(
                r.predicted
                    .fix
                    .iter()
                    .any(|f| f.contains("-m sock --runtime runsc"))
            );
        }
    }
    assert!(
        rows.iter()
            .filter(|r| r.combo.runtime.is_none())
            .all(|r| r.predicted.works),
        "the default runtime's rows are as before"
    );
}

#[test]
fn rootless_only_hosts_are_told_of_another_engine_only_where_dind_cannot_run() {
    let changes = host_changes(&fedora_rootless());
    let has = |s: &str| changes.iter().any(|c| c.contains(s));
    assert!(has("install Docker"), "{changes:#?}");
    assert!(
        !has("a rootful engine"),
        "rootless Podman runs both inner engines: {changes:#?}"
    );
    let docker = host_changes(&fixtures::ubuntu_rootless_docker());
    assert!(
        docker
            .iter()
            .any(|c| c.contains("dind cannot run under rootless Docker")),
        "{docker:#?}"
    );
    assert!(!has("chmod 666"), "its devices are open: {changes:#?}");
    assert!(!has("cgroup v2"), "{changes:#?}");
    assert!(!has("podman.socket"), "its socket answers: {changes:#?}");
    assert!(!has("dmesg_restrict"), "not known there: {changes:#?}");
    let mut open = fedora_rootless();
    open.security.dmesg_restrict = Some(false);
    open.security.unprivileged_bpf_disabled = Some(0);
    let changes = host_changes(&open);
    for setting in [
        "kernel.dmesg_restrict=1",
        "kernel.unprivileged_bpf_disabled=2",
    ] {
        assert!(
            changes.iter().any(|c| c.contains(setting)),
            "{setting}: {changes:#?}"
        );
    }
}

#[test]
fn this_machines_host_changes_follow_from_its_facts() {
    let changes = host_changes(&this_machine());
    let has = |s: &str| changes.iter().any(|c| c.contains(s));
    assert!(has("systemd.unified_cgroup_hierarchy=1"), "{changes:#?}");
    assert!(has("missing: CAP_SYS_RESOURCE"), "{changes:#?}");
    assert!(has("`chmod 666 /dev/net/tun`"), "{changes:#?}");
    assert!(has("`chmod 666 /dev/fuse`"), "{changes:#?}");
    assert!(
        !has("install"),
        "both engines answer, runc is there: {changes:#?}"
    );
    assert!(changes.iter().all(|c| !c.contains('\n')), "one line each");
}

#[test]
fn a_container_without_sys_admin_is_told_where_to_run() {
    let changes = host_changes(&inside_a_container());
    assert!(
        changes.iter().any(|c| c.contains("has CAP_SYS_ADMIN")),
        "{changes:#?}"
    );
}

#[test]
fn a_host_without_engines_gets_the_list_of_changes() {
    let mut host = this_machine();
    host.engines.clear();
    let rows = matrix(&host);
    assert!(rows.is_empty());
    let changes = host_changes(&host);
    assert!(changes.iter().any(|c| c.contains("apt-get install podman")));
    assert!(
        changes
            .iter()
            .any(|c| c.contains("apt-get install docker.io"))
    );
    let text = render::matrix(&rows, &changes);
    assert!(text.contains("nothing: no engine is installed"), "{text}");
    assert!(
        text.contains("\nhost changes that would help\n  - install Podman"),
        "{text}"
    );
}

#[test]
fn the_table_shows_refusals_with_their_fix_and_changes_only_when_needed() {
    let changes = host_changes(&this_machine());
    let text = render::matrix(&matrix(&this_machine()), &changes);
    assert!(!text.contains("host changes"), "every row works: {text}");
    let host = fixtures::ubuntu_rootless_docker();
    let text = render::matrix(&matrix(&host), &host_changes(&host));
    assert!(text.contains("no (exit 3)"), "{text}");
    assert!(
        text.contains("fix: use the host engine's socket instead"),
        "{text}"
    );
    assert!(text.contains("host changes that would help"), "{text}");
}

#[test]
fn a_check_that_differs_from_the_prediction_says_so() {
    let mut rows = matrix(&this_machine());
    rows.truncate(1);
    rows[0].checked = Some(Measured {
        works: false,
        exit: Some(121),
        seconds: 1.5,
        error: Some("error: the inner engine did not answer".into()),
        left_behind: vec!["container box".into()],
    });
    assert!(!rows[0].works(), "measured beats predicted");
    let text = render::matrix(&rows, &[]);
    for expected in [
        "CHECKED",
        "fails in 1.50 s, exit 121",
        "differs from the prediction",
        "error: the inner engine did not answer",
        "left behind (removed): container box",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}
#[test]
fn a_podman_machine_is_told_of_changes_to_the_machine_not_to_the_mac() {
    let changes = host_changes(&fixtures::macos_podman_machine());
    assert_eq!(
        changes,
        vec![
            "`podman machine stop; podman machine set --rootful; podman machine start`: dind runs on a rootful machine"
        ],
        "nothing about the Mac's missing cgroups, capabilities or subuids"
    );
}

#[test]
fn a_user_the_docker_socket_refuses_is_told_of_the_group_not_to_start_docker() {
    let mut host = this_machine();
    host.uid = 1000;
    let docker = host
        .engines
        .iter_mut()
        .find(|e| e.kind == EngineKind::Docker)
        .unwrap();
    docker.answers = false;
    docker.error = Some("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock".into());
    let changes = host_changes(&host);
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("`usermod -aG docker USER`")),
        "{changes:#?}"
    );
    assert!(
        !changes.iter().any(|c| c.contains("systemctl start docker")),
        "{changes:#?}"
    );
}

#[test]
fn the_report_as_json_has_one_schema_key_first_then_the_facts_and_the_matrix() {
    let facts = fedora_rootless();
    let report = super::Report {
        matrix: matrix(&facts),
        host_changes: host_changes(&facts),
        facts,
    };
    let text = crate::output::json(&report).unwrap();
    assert!(text.starts_with("{\n  \"schema\": 1,\n"), "{text}");
    assert_eq!(text.matches("\n  \"schema\":").count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["engines"].is_array(), "the facts stay at the top level");
    assert_eq!(v["matrix"].as_array().unwrap().len(), 4);
}
