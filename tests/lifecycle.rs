//! Real-engine tests of sandboxes that live: create-or-attach, `exec`, `ls`,
//! `start`, `stop`, `rm`, `logs`, `prune`, and signals during throw-away runs.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// `ls --json`'s sandboxes, after checking its schema version.
fn ls_json(eng: &str) -> Vec<serde_json::Value> {
    let run = dindbox(&["ls", "--json", "--engine", eng]).ok();
    let listing: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(listing["schema"], 1, "{}", run.stdout);
    listing["sandboxes"]
        .as_array()
        .unwrap_or_else(|| panic!("no sandboxes in {}", run.stdout))
        .clone()
}

fn listed<'a>(rows: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    rows.iter().find(|r| r["name"] == name)
}

/// A kept dind sandbox on each engine, through every lifecycle command: what
/// runs in it stays between commands, and survives `stop` and `start`.
fn lifecycle_of_a_kept_sandbox(eng: &str, inner: &str) {
    let _guard = shared();
    let name = unique(&format!("life-{eng}-{inner}"));
    let _cleanup = Cleanup::new(eng)
        .container(&name)
        .volume(&format!("{name}-storage"));
    let start_db = format!("{inner} run -d --name db {CANARY} sleep 1000 >/dev/null && echo up");
    let first = dindbox(&[
        "run", "-m", "dind", "--engine", eng, "--inner", inner, "-n", &name, "-x", &start_db,
    ])
    .ok();
    assert_eq!(first.stdout.trim(), "up");
    assert!(first.stderr.contains("keeps running"), "{}", first.stderr);
    assert_eq!(
        status(eng, &name),
        "running",
        "the sandbox outlives its command"
    );

    // `run` again with the same settings attaches: same inner engine, same containers.
    let again = dindbox(&[
        "run",
        "-m",
        "dind",
        "--engine",
        eng,
        "--inner",
        inner,
        "-n",
        &name,
        "-x",
        &format!("{inner} ps --format '{{{{.Names}}}}'"),
    ])
    .ok();
    assert_eq!(again.stdout.trim(), "db");
    assert!(
        !again.stderr.contains("keeps running"),
        "attached, not created"
    );

    // `exec` runs argv in the workspace (the directory `run` was started from).
    let exec = dindbox(&["exec", &name, "sh", "-c", "pwd; exit 7"]);
    assert_eq!(
        exec.code, 7,
        "exec passes the command's status on: {}",
        exec.stderr
    );
    assert_eq!(exec.stdout.trim(), std::env::temp_dir().to_str().unwrap());

    let row = ls_json(eng);
    let row = listed(&row, &name).unwrap_or_else(|| panic!("{name} not in ls"));
    assert_eq!(row["mode"], "dind");
    assert_eq!(row["inner"], inner);
    assert_eq!(row["status"], "running");
    assert!(dindbox(&["ls"]).ok().stdout.contains(&name));

    let stop = dindbox(&["stop", &name]).ok();
    assert!(stop.stdout.contains("stopped"));
    assert_ne!(status(eng, &name), "running");
    let refused = dindbox(&["exec", &name, "true"]);
    assert_bad_input(&refused, 2, "is not running", "dindbox start");

    dindbox(&["start", &name]).ok();
    let after = dindbox(&["exec", &name, inner, "ps", "-a", "--format", "{{.Names}}"]).ok();
    assert_eq!(
        after.stdout.trim(),
        "db",
        "the inner store survives stop/start"
    );
    let nested = dindbox(&["exec", &name, inner, "run", "--rm", CANARY, "echo", "again"]).ok();
    assert_eq!(
        nested.stdout.trim(),
        "again",
        "the inner engine works after a restart"
    );

    let logs = dindbox(&["logs", &name]).ok();
    assert!(
        logs.stdout.is_empty() || !logs.stdout.contains("error"),
        "{}",
        logs.stdout
    );
    if inner == "docker" {
        let inner_log = dindbox(&["logs", &name, "--inner", "--tail", "200"]).ok();
        assert!(inner_log.stdout.contains("dockerd"), "{}", inner_log.stdout);
    }

    let rm = dindbox(&["rm", &name]).ok();
    assert!(
        rm.stdout.contains(&format!("{name}-storage")),
        "{}",
        rm.stdout
    );
    assert_nothing_left(eng, &name);
}

#[test]
fn kept_sandbox_on_docker_lives_through_every_lifecycle_command() {
    lifecycle_of_a_kept_sandbox("docker", "docker");
}

#[test]
fn kept_sandbox_on_podman_lives_through_every_lifecycle_command() {
    lifecycle_of_a_kept_sandbox("podman", "podman");
}

#[test]
fn run_with_other_settings_says_what_differs_and_recreate_replaces_it() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("differs");
        let _cleanup = Cleanup::new(eng).container(&name);
        dindbox(&[
            "run", "-m", "common", "--engine", eng, "-n", &name, "-x", "true",
        ])
        .ok();
        let id = engine(eng, &["container", "inspect", "--format", "{{.Id}}", &name])
            .ok()
            .stdout;
        let sock = dindbox(&[
            "run", "-m", "sock", "--engine", eng, "-n", &name, "-x", "true",
        ]);
        assert_bad_input(&sock, 2, "exists, made with other settings", "--recreate");
        assert!(
            sock.stderr
                .contains("mode: it has `common`, asked for `sock`"),
            "{}",
            sock.stderr
        );
        let same_id = engine(eng, &["container", "inspect", "--format", "{{.Id}}", &name])
            .ok()
            .stdout;
        assert_eq!(id, same_id, "{eng}: the existing sandbox is left as it was");

        let other_dir = tempfile::tempdir().unwrap();
        let moved = dindbox_in(
            other_dir.path(),
            &["run", "--engine", eng, "-n", &name, "-x", "true"],
            &[],
        );
        assert_bad_input(&moved, 2, "mounts: it has", "--recreate");

        let rm_too = dindbox(&["run", "--rm", "--engine", eng, "-n", &name, "-x", "true"]);
        assert_bad_input(&rm_too, 2, "already exists", "leave out --rm");

        let recreated = dindbox(&[
            "run",
            "-m",
            "sock",
            "--engine",
            eng,
            "-n",
            &name,
            "--recreate",
            "-x",
            "echo replaced",
        ])
        .ok();
        assert_eq!(recreated.stdout.trim(), "replaced");
        let mode = engine(
            eng,
            &[
                "container",
                "inspect",
                "--format",
                "{{index .Config.Labels \"io.dindbox.mode\"}}",
                &name,
            ],
        )
        .ok();
        assert_eq!(mode.stdout.trim(), "sock");
        dindbox(&["rm", "--engine", eng, &name]).ok();
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn two_runs_of_one_name_at_once_make_one_sandbox_and_both_run() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("race");
        let _cleanup = Cleanup::new(eng)
            .container(&name)
            .volume(&format!("{name}-storage"));
        let spawn = || {
            spawn_run(
                eng,
                &name,
                false,
                "podman info --format '{{.Host.Hostname}}'",
            )
        };
        let (a, b) = (spawn(), spawn());
        let runs = [a, b].map(|c| Run::from(c.wait_with_output().unwrap()));
        for run in &runs {
            assert_eq!(run.code, 0, "{eng}: {}", run.stderr);
        }
        let created = runs
            .iter()
            .filter(|r| r.stderr.contains("keeps running"))
            .count();
        assert_eq!(created, 1, "{eng}: exactly one run creates the sandbox");
        assert_eq!(
            runs[0].stdout, runs[1].stdout,
            "{eng}: both ran in the same sandbox"
        );
        let same = engine(
            eng,
            &["ps", "-a", "-q", "--filter", &format!("name=^{name}$")],
        )
        .ok();
        assert_eq!(same.stdout.lines().count(), 1, "{eng}");
        dindbox(&["rm", "--engine", eng, &name]).ok();
        assert_nothing_left(eng, &name);
    }
}

/// Wait until the engine reports the container running.
fn wait_running(eng: &str, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(eng, name) != "running" {
        assert!(Instant::now() < deadline, "{name} never ran on {eng}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigint_or_sigterm_during_a_throw_away_run_removes_the_sandbox() {
    let _guard = shared();
    for (eng, sig) in [
        ("docker", libc::SIGINT),
        ("podman", libc::SIGINT),
        ("docker", libc::SIGTERM),
        ("podman", libc::SIGTERM),
    ] {
        let name = unique("signal");
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut child = spawn_run(eng, &name, true, "sleep 120");
        wait_running(eng, &name);
        // SAFETY: kill(2) on our own child, which has not been waited for.
        unsafe { libc::kill(child.id() as i32, sig) };
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(128 + sig),
            "{eng}: signal {sig} ended the command"
        );
        // `--rm` removal by the engine follows the container's exit closely.
        let deadline = Instant::now() + Duration::from_secs(20);
        while container_exists(eng, &name) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn prune_removes_only_dindboxs_stopped_sandboxes_and_orphaned_storage() {
    let _guard = exclusive();
    let eng = "docker";
    let stopped = unique("prune-stopped");
    let running = unique("prune-running");
    let foreign = unique("prune-foreign"); // named like ours, but made by docker itself
    let orphan = unique("prune-orphan");
    let _cleanup = Cleanup::new(eng)
        .container(&stopped)
        .container(&running)
        .container(&foreign)
        .volume(&orphan);
    dindbox(&["run", "--engine", eng, "-n", &stopped, "-x", "true"]).ok();
    dindbox(&["stop", &stopped]).ok();
    dindbox(&["run", "--engine", eng, "-n", &running, "-x", "true"]).ok();
    engine(eng, &["create", "--name", &foreign, CANARY, "true"]).ok();
    engine(
        eng,
        &[
            "volume",
            "create",
            "--label",
            "io.dindbox.managed=true",
            "--label",
            &format!("io.dindbox.sandbox={orphan}"),
            &orphan,
        ],
    )
    .ok();

    let dry = dindbox(&["prune", "--dry-run", "--engine", eng]).ok();
    assert!(
        dry.stdout
            .contains(&format!("would remove sandbox {stopped}")),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains(&format!("would remove volume {orphan}")),
        "{}",
        dry.stdout
    );
    assert!(container_exists(eng, &stopped), "--dry-run removes nothing");

    let young = dindbox(&["prune", "--until", "1h", "--engine", eng]).ok();
    assert!(!young.stdout.contains(&stopped), "{}", young.stdout);
    assert!(
        container_exists(eng, &stopped),
        "--until keeps what is younger"
    );

    let bad = dindbox(&["prune", "--until", "soon"]);
    assert_bad_input(
        &bad,
        2,
        "--until `soon` is not a duration",
        "30m, 24h or 7d",
    );

    let pruned = dindbox(&["prune", "--engine", eng]).ok();
    assert!(
        pruned
            .stdout
            .contains(&format!("removed sandbox {stopped}")),
        "{}",
        pruned.stdout
    );
    assert!(!container_exists(eng, &stopped));
    assert!(
        !volumes(eng).contains(&orphan),
        "the orphaned storage is gone"
    );
    assert!(container_exists(eng, &running), "a running sandbox is kept");
    assert!(
        container_exists(eng, &foreign),
        "a container dindbox did not make is never touched"
    );
    dindbox(&["rm", "-f", &running]).ok();
    assert_nothing_left(eng, &running);
}

#[test]
fn commands_on_unknown_or_foreign_names_refuse_and_change_nothing() {
    let _guard = shared();
    let eng = "podman";
    let ours = unique("names-ours");
    let foreign = unique("names-foreign");
    let _cleanup = Cleanup::new(eng).container(&ours).container(&foreign);
    dindbox(&["run", "--engine", eng, "-n", &ours, "-x", "true"]).ok();
    engine(eng, &["create", "--name", &foreign, CANARY, "true"]).ok();

    let typo = format!("{ours}x");
    let exec = dindbox(&["exec", "--engine", eng, &typo, "true"]);
    assert_bad_input(
        &exec,
        2,
        &format!("no sandbox named `{typo}`"),
        &format!("did you mean `{ours}`?"),
    );
    let other = dindbox(&["exec", "--engine", eng, &foreign, "true"]);
    assert_bad_input(&other, 2, "is not a dindbox sandbox", "use `podman` itself");
    let run_over = dindbox(&["run", "--engine", eng, "-n", &foreign, "-x", "true"]);
    assert_bad_input(
        &run_over,
        2,
        "dindbox did not make it",
        "choose another name",
    );
    // One bad name among good ones: nothing is removed.
    let rm = dindbox(&["rm", "--engine", eng, &ours, &typo]);
    assert_bad_input(&rm, 2, &format!("no sandbox named `{typo}`"), "dindbox ls");
    assert!(container_exists(eng, &ours));
    let no_inner = dindbox(&["logs", "--engine", eng, "--inner", &ours]);
    assert_bad_input(&no_inner, 2, "has no inner engine", "dindbox logs");
    let recreate_rm = dindbox(&["run", "--rm", "--recreate", "--engine", eng, "-x", "true"]);
    assert_bad_input(&recreate_rm, 2, "--recreate", "leave out");
    assert!(
        container_exists(eng, &foreign),
        "the foreign container is untouched"
    );
    dindbox(&["rm", "-f", "--engine", eng, &ours]).ok();
    assert_nothing_left(eng, &ours);
}

#[test]
fn a_kept_sock_sandbox_on_podman_keeps_its_api_service_until_it_is_removed() {
    let _guard = shared();
    let name = unique("sock-kept");
    let _cleanup = Cleanup::new("podman").container(&name);
    let dir = format!("/run/dindbox/{name}");
    let through_socket = format!("docker run --rm {CANARY} echo via-socket");
    let first = dindbox(&[
        "run",
        "-m",
        "sock",
        "--engine",
        "podman",
        "-n",
        &name,
        "-x",
        &through_socket,
    ])
    .ok();
    assert_eq!(first.stdout.trim(), "via-socket");
    assert!(
        Path::new(&format!("{dir}/api/podman.sock")).exists(),
        "this host has no Podman socket service: dindbox serves one for the sandbox"
    );
    // The `run` that started it is over; the service is still there for `exec`.
    let later = dindbox(&["exec", &name, "sh", "-c", &through_socket]).ok();
    assert_eq!(later.stdout.trim(), "via-socket");
    // Gone (as after a host restart): `exec` serves it again, reached through the same mount.
    let pid = std::fs::read_to_string(format!("{dir}/service.pid")).unwrap();
    // SAFETY: kill(2) of the service's pid, read from its own pid file.
    unsafe { libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL) };
    let again = dindbox(&["exec", &name, "sh", "-c", &through_socket]).ok();
    assert_eq!(again.stdout.trim(), "via-socket");
    let new_pid = std::fs::read_to_string(format!("{dir}/service.pid")).unwrap();
    assert_ne!(pid, new_pid, "a new service");
    dindbox(&["rm", &name]).ok();
    assert!(
        !Path::new(&dir).exists(),
        "rm removes the service's directory"
    );
    let alive = Path::new(&format!("/proc/{}", new_pid.trim())).exists();
    assert!(!alive, "rm stops the service");
    assert_nothing_left("podman", &name);
}
