//! The lifecycle operations run against the recording fake engine: the calls
//! they make, in order, and what is left on the engine afterwards.

use std::time::{Duration, SystemTime};

use super::prune::Pruned;
use super::rm::Removed;
use super::start::StartOutcome;
use super::stop::StopOutcome;
use super::*;
use crate::engine::fake::{FakeEngine, foreign, sandbox};
use crate::plan::attach::ENTER_MARGIN_MS;
use crate::plan::inner::INIT_PATH;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| n.to_string()).collect()
}

fn rm_req(list: &[&str], keep_storage: bool, force: bool) -> rm::Request {
    rm::Request {
        names: names(list),
        keep_storage,
        force,
    }
}

#[test]
fn start_starts_a_stopped_sandbox_and_waits_for_its_inner_engine() {
    let fake = FakeEngine::new(EngineKind::Podman)
        .with_container(sandbox("box", "exited"))
        .with_container(sandbox("up", "running"));
    let mut seen = Vec::new();
    let done = start::start(&[&fake], &names(&["box", "up"]), &mut |e| {
        seen.push(e.clone())
    })
    .unwrap();
    assert_eq!(
        done,
        vec![
            StartOutcome::Started("box".into()),
            StartOutcome::AlreadyRunning("up".into())
        ]
    );
    assert_eq!(seen, done, "each reported as it happened");
    let wait = format!(
        "output: exec box {INIT_PATH} enter --timeout-ms {} -- true",
        60_000 + ENTER_MARGIN_MS
    );
    assert_eq!(
        fake.calls(),
        vec!["inspect box", "start box", &wait, "inspect up"]
    );
    assert_eq!(fake.containers(), vec!["box running", "up running"]);
}

#[test]
fn a_start_whose_inner_engine_does_not_answer_says_so_with_what_the_wait_printed() {
    let fake = FakeEngine::new(EngineKind::Docker)
        .with_container(sandbox("box", "exited"))
        .exits("exec box", 121, "the inner engine did not answer\n");
    let done = start::start(&[&fake], &names(&["box"]), &mut |_| {}).unwrap();
    assert_eq!(
        done,
        vec![StartOutcome::NotReady {
            name: "box".into(),
            stderr: "the inner engine did not answer\n".into()
        }]
    );
}

#[test]
fn a_start_the_engine_refuses_is_the_error_and_later_names_are_not_started() {
    let fake = FakeEngine::new(EngineKind::Docker)
        .with_container(sandbox("a", "exited"))
        .with_container(sandbox("b", "exited"))
        .failing("start a");
    let mut seen = Vec::new();
    let err =
        start::start(&[&fake], &names(&["a", "b"]), &mut |e| seen.push(e.clone())).unwrap_err();
    assert_eq!(err.message, "`docker start a` failed");
    assert!(seen.is_empty());
    assert_eq!(fake.calls(), vec!["inspect a", "start a"]);
    assert_eq!(fake.containers(), vec!["a exited", "b exited"]);
}

#[test]
fn stop_stops_only_running_sandboxes_with_the_time_given() {
    let fake = FakeEngine::new(EngineKind::Podman)
        .with_container(sandbox("up", "running"))
        .with_container(sandbox("down", "exited"));
    let done = stop::stop(&[&fake], &names(&["up", "down"]), 7, &mut |_| {}).unwrap();
    assert_eq!(
        done,
        vec![
            StopOutcome::Stopped("up".into()),
            StopOutcome::NotRunning("down".into())
        ]
    );
    assert_eq!(
        fake.calls(),
        vec!["inspect up", "stop -t 7 up", "inspect down"]
    );
    assert_eq!(fake.containers(), vec!["up exited", "down exited"]);
}

#[test]
fn rm_stops_a_running_sandbox_cleanly_then_removes_it_and_only_its_storage() {
    let fake = FakeEngine::new(EngineKind::Podman)
        .with_container(sandbox("box", "running"))
        .with_container(sandbox("other", "running"))
        .with_volume("box-podman", "box")
        .with_volume("other-podman", "other");
    let done = rm::rm(&[&fake], &rm_req(&["box"], false, false), &mut |_| {}).unwrap();
    assert_eq!(
        done,
        vec![Removed {
            name: "box".into(),
            volumes: vec!["box-podman".into()]
        }]
    );
    assert_eq!(
        fake.calls(),
        vec![
            "inspect box",
            "inspect box",
            "stop box",
            "rm box",
            "volumes box",
            "volume rm box-podman"
        ]
    );
    assert_eq!(fake.containers(), vec!["other running"]);
    assert_eq!(fake.volumes(), vec!["other-podman"]);
}

#[test]
fn rm_keep_storage_leaves_the_volumes_and_force_skips_the_clean_stop() {
    let fake = FakeEngine::new(EngineKind::Docker)
        .with_container(sandbox("box", "running"))
        .with_volume("box-docker", "box");
    let done = rm::rm(&[&fake], &rm_req(&["box"], true, true), &mut |_| {}).unwrap();
    assert_eq!(done[0].volumes, Vec::<String>::new());
    assert_eq!(fake.calls(), vec!["inspect box", "inspect box", "rm box"]);
    assert!(fake.containers().is_empty());
    assert_eq!(fake.volumes(), vec!["box-docker"], "the storage is kept");
}

#[test]
fn rm_with_one_unknown_name_removes_nothing_and_suggests_the_near_one() {
    let fake = FakeEngine::new(EngineKind::Podman)
        .with_container(sandbox("box", "exited"))
        .with_volume("box-podman", "box");
    let err = rm::rm(
        &[&fake],
        &rm_req(&["box", "boxx"], false, false),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.message, "no sandbox named `boxx`");
    assert_eq!(
        err.hints,
        vec!["did you mean `box`?", "`dindbox ls` lists the sandboxes"]
    );
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("rm ")),
        "{:?}",
        fake.calls()
    );
    assert_eq!(fake.containers(), vec!["box exited"]);
    assert_eq!(fake.volumes(), vec!["box-podman"]);
}

#[test]
fn a_container_dindbox_did_not_make_is_refused_and_left_alone() {
    let fake = FakeEngine::new(EngineKind::Podman).with_container(foreign("db", "running"));
    let err = rm::rm(&[&fake], &rm_req(&["db"], false, true), &mut |_| {}).unwrap_err();
    assert_eq!(
        err.message,
        "`db` on podman is not a dindbox sandbox (it has no io.dindbox.managed label)"
    );
    assert_eq!(err.code, crate::error::exit::USAGE);
    assert_eq!(fake.calls(), vec!["inspect db"]);
    assert_eq!(fake.containers(), vec!["db running"]);
}

#[test]
fn one_name_on_both_engines_must_be_told_apart() {
    let podman = FakeEngine::new(EngineKind::Podman).with_container(sandbox("box", "running"));
    let docker = FakeEngine::new(EngineKind::Docker).with_container(sandbox("box", "running"));
    let err = find(&[&podman, &docker], "box").err().unwrap();
    assert_eq!(
        err.message,
        "there is a sandbox named `box` on both Docker and Podman"
    );
    let empty = FakeEngine::new(EngineKind::Docker);
    let (engine, c) = find(&[&podman, &empty], "box").unwrap();
    assert_eq!(
        (engine.kind(), c.name.as_str()),
        (EngineKind::Podman, "box")
    );
}

#[test]
fn ls_lists_the_sandboxes_of_every_engine_by_name_then_engine() {
    let mut labelled = sandbox("b", "running");
    labelled
        .labels
        .insert(crate::plan::labels::MODE.into(), "dind".into());
    let podman = FakeEngine::new(EngineKind::Podman)
        .with_container(labelled)
        .with_container(foreign("not-ours", "running"));
    let docker = FakeEngine::new(EngineKind::Docker)
        .with_container(sandbox("b", "exited"))
        .with_container(sandbox("a", "exited"));
    let rows = ls::list(&[&podman, &docker]).unwrap();
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.engine.as_str(),
                r.status.as_str(),
                r.mode.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a", "docker", "exited", ""),
            ("b", "docker", "exited", ""),
            ("b", "podman", "running", "dind"),
        ]
    );
}

#[test]
fn prune_removes_stopped_sandboxes_and_orphaned_storage_only() {
    let fake = || {
        FakeEngine::new(EngineKind::Podman)
            .with_container(sandbox("up", "running"))
            .with_container(sandbox("down", "exited"))
            .with_volume("up-podman", "up")
            .with_volume("down-podman", "down")
            .with_volume("gone-podman", "gone")
    };
    let dry = fake();
    let req = prune::Request {
        until: None,
        dry_run: true,
    };
    let would = prune::prune(&[&dry], &req, SystemTime::now(), &mut |_| {}).unwrap();
    assert_eq!(
        would,
        vec![
            Pruned::Sandbox {
                name: "down".into(),
                engine: EngineKind::Podman,
                status: "exited".into()
            },
            Pruned::Volume {
                name: "gone-podman".into(),
                engine: EngineKind::Podman
            },
        ],
        "a dry run names the stopped sandbox, not its storage, which goes with it"
    );
    assert_eq!(dry.containers(), vec!["up running", "down exited"]);
    assert_eq!(dry.volumes().len(), 3, "a dry run removes nothing");

    let real = fake();
    let req = prune::Request {
        until: None,
        dry_run: false,
    };
    let done = prune::prune(&[&real], &req, SystemTime::now(), &mut |_| {}).unwrap();
    assert_eq!(done, would, "the dry run said what goes");
    assert!(
        real.calls().contains(&"volume rm down-podman".to_string()),
        "the stopped sandbox's storage goes with it: {:?}",
        real.calls()
    );
    assert_eq!(real.containers(), vec!["up running"]);
    assert_eq!(real.volumes(), vec!["up-podman"]);
}

#[test]
fn prune_until_leaves_what_is_younger() {
    let fake = FakeEngine::new(EngineKind::Docker)
        .with_container(sandbox("down", "exited"))
        .with_volume("gone-docker", "gone");
    let req = prune::Request {
        until: Some(Duration::from_secs(3600)),
        dry_run: false,
    };
    // The fake's containers and volumes were made on 2026-11-25 at 05:30.
    let made = chrono::DateTime::parse_from_rfc3339("2026-11-25T05:30:00Z").unwrap();
    let soon_after = SystemTime::from(made) + Duration::from_secs(60);
    let done = prune::prune(&[&fake], &req, soon_after, &mut |_| {}).unwrap();
    assert!(done.is_empty(), "{done:?}");
    assert_eq!(fake.containers(), vec!["down exited"]);
    assert_eq!(fake.volumes(), vec!["gone-docker"]);
}

#[test]
fn only_the_engines_that_answer_are_used() {
    let podman = FakeEngine::new(EngineKind::Podman).failing("answers");
    let docker = FakeEngine::new(EngineKind::Docker);
    let got = engines::answering(vec![podman, docker]).unwrap();
    assert_eq!(
        got.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        vec![EngineKind::Docker]
    );
    assert_eq!(got[0].calls(), vec!["answers"], "one cheap call each");
}

#[test]
fn none_answering_says_what_each_said_and_how_to_get_one() {
    let err = engines::answering(vec![
        FakeEngine::new(EngineKind::Podman).failing("answers"),
        FakeEngine::new(EngineKind::Docker).failing("answers"),
    ])
    .err()
    .unwrap();
    assert_eq!(err.message, "no container engine answers on this host");
    assert_eq!(err.code, crate::error::exit::FAILURE);
    assert_eq!(
        err.causes,
        vec![
            "podman: fake podman does not answer",
            "docker: fake docker does not answer"
        ]
    );
    assert_eq!(
        err.hints,
        vec![
            crate::plan::install_hint(EngineKind::Podman),
            crate::plan::install_hint(EngineKind::Docker),
            crate::plan::start_hint(EngineKind::Docker),
            "`dindbox doctor` shows what is installed and why it does not answer".into(),
        ]
    );
    let none = engines::answering(Vec::<FakeEngine>::new()).err().unwrap();
    assert_eq!(
        none.causes,
        vec!["neither `podman` nor `docker` is on PATH"]
    );
}

#[test]
fn the_message_for_no_engine_is_the_one_the_plan_gives() {
    use crate::probe::facts::{EngineFacts, HostFacts};
    let mut host = HostFacts::default();
    let mut facts = EngineFacts::new(EngineKind::Docker, "docker");
    facts.error = Some("Cannot connect to the Docker daemon".into());
    host.engines.push(facts);
    let ours = crate::plan::none_answers_from(&[(
        EngineKind::Docker,
        "Cannot connect to the Docker daemon".into(),
    )]);
    assert_eq!(ours, crate::plan::select::none_answers(&host));
    assert_eq!(
        crate::plan::none_answers_from(&[]),
        crate::plan::select::none_answers(&HostFacts::default())
    );
}
