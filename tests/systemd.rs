//! `--systemd` on this host's Docker and Podman: sandboxes whose PID 1 is
//! systemd, with the inner engine as the unit `dindbox-engine.service`.

mod common;

use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use common::*;

const UNIT: &str = "dindbox-engine";

fn systemd_image() -> String {
    format!(
        "localhost/dindbox/sandbox-systemd:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The systemd image, built once for these tests (a quick check when it is up to date).
fn ensure_image() {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| {
        dindbox(&["image", "build", "--systemd"]).ok();
        for eng in ENGINES {
            let label = engine(
                eng,
                &[
                    "image",
                    "inspect",
                    "--format",
                    "{{index .Config.Labels \"io.dindbox.systemd\"}}",
                    &systemd_image(),
                ],
            )
            .ok();
            assert_eq!(label.stdout.trim(), "true", "{eng}: the image's label");
        }
    });
}

/// `dindbox run --rm --systemd --host-root -m MODE --engine ENG -n NAME`,
/// then `more`: a rootful engine's systemd sandbox is the host's root, and
/// only when asked for.
fn throwaway<'a>(mode: &'a str, eng: &'a str, name: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--rm",
        "--systemd",
        "--host-root",
        "-m",
        mode,
        "--engine",
        eng,
        "-n",
        name,
    ];
    args.extend_from_slice(more);
    args
}

/// The volumes mounted at the inner engine's storage, as named in `mountinfo` text.
fn storage_volumes(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let root = l.split_whitespace().nth(3)?;
            let rest = &root[root.find("/volumes/")? + "/volumes/".len()..];
            Some(rest.split('/').next()?.to_string())
        })
        .collect()
}

fn assert_volume_gone(eng: &str, volume: &str) {
    assert!(
        engine(eng, &["volume", "inspect", volume]).code != 0,
        "the sandbox's storage volume {volume} was left on {eng}"
    );
}

#[test]
fn throwaway_systemd_sandboxes_run_nested_containers_with_either_inner_engine() {
    ensure_image();
    let _guard = shared();
    for eng in ENGINES {
        for inner in ["podman", "docker"] {
            let name = unique("systemd");
            let _cleanup = Cleanup::new(eng).container(&name);
            let script = format!(
                "cat /proc/1/comm; systemctl is-active {UNIT}; \
                 {inner} run --rm localhost/dindbox/canary echo nested-ok; \
                 grep -E ' /var/lib/(docker|containers) ' /proc/self/mountinfo; exit 3"
            );
            let run = dindbox(&throwaway(
                "dind",
                eng,
                &name,
                &["--inner", inner, "-x", &script],
            ));
            assert_eq!(
                run.code, 3,
                "{eng}/{inner}: the command's status\nstdout:\n{}\nstderr:\n{}",
                run.stdout, run.stderr
            );
            let lines: Vec<&str> = run.stdout.lines().collect();
            assert_eq!(lines[0], "systemd", "{eng}/{inner}: PID 1\n{}", run.stdout);
            assert_eq!(
                lines[1], "active",
                "{eng}/{inner}: the unit\n{}",
                run.stdout
            );
            assert_eq!(lines[2], "nested-ok", "{eng}/{inner}\n{}", run.stderr);
            let volumes = storage_volumes(&run.stdout);
            assert_eq!(volumes.len(), 1, "{eng}/{inner}: {}", run.stdout);
            assert_nothing_left(eng, &name);
            assert_volume_gone(eng, &volumes[0]);
        }
    }
}

#[test]
fn an_image_without_systemd_is_refused_before_anything_starts() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("nosystemd");
        let _cleanup = Cleanup::new(eng).container(&name);
        let image = sandbox_image();
        let run = dindbox(&throwaway(
            "dind",
            eng,
            &name,
            &["--image", &image, "-x", "echo never"],
        ));
        assert_bad_input(
            &run,
            2,
            "does not boot systemd",
            "dindbox image build --systemd",
        );
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn a_rootful_systemd_sandbox_is_refused_unless_the_hosts_root_is_asked_for() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("systemd-userns");
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut args = throwaway("dind", eng, &name, &["-x", "echo never"]);
        args.retain(|a| *a != "--host-root");
        let run = dindbox(&args);
        assert_bad_input(&run, 3, "its root would be the host's root", "--host-root");
        assert!(
            run.stderr.contains("drop --systemd"),
            "{eng}: {}",
            run.stderr
        );
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn systemd_outside_dind_is_refused_with_the_reason() {
    let _guard = shared();
    let name = unique("common-systemd");
    let run = dindbox(&throwaway("common", "docker", &name, &["-x", "echo never"]));
    assert_bad_input(
        &run,
        2,
        "--systemd applies to dind sandboxes",
        "-m dind --systemd",
    );
    assert_nothing_left("docker", &name);
}

/// A kept systemd sandbox: `stop` shuts systemd down cleanly (status 0, not
/// killed), `start` boots it again with the engine's unit, `rm` removes it.
fn kept_systemd_sandbox(eng: &str) {
    ensure_image();
    let name = unique("kept-systemd");
    let _cleanup = Cleanup::new(eng)
        .container(&name)
        .volume(&format!("{name}-storage"));
    dindbox(&[
        "run",
        "--systemd",
        "--host-root",
        "-m",
        "dind",
        "--engine",
        eng,
        "--inner",
        eng,
        "-n",
        &name,
        "-x",
        "true",
    ])
    .ok();
    let started = Instant::now();
    dindbox(&["stop", "--engine", eng, &name]).ok();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{eng}: stop took {:?}, the engine's timeout",
        started.elapsed()
    );
    let status = engine(
        eng,
        &[
            "container",
            "inspect",
            "--format",
            "{{.State.ExitCode}}",
            &name,
        ],
    )
    .ok();
    assert_eq!(
        status.stdout.trim(),
        "0",
        "{eng}: systemd shut down by itself"
    );
    dindbox(&["start", "--engine", eng, &name]).ok();
    let run = dindbox(&[
        "exec",
        "--engine",
        eng,
        &name,
        "sh",
        "-c",
        &format!("cat /proc/1/comm; systemctl is-active {UNIT}; {eng} run --rm localhost/dindbox/canary echo nested-ok"),
    ])
    .ok();
    assert_eq!(run.stdout, "systemd\nactive\nnested-ok\n", "{eng}");
    dindbox(&["rm", "--engine", eng, &name]).ok();
    assert_nothing_left(eng, &name);
}

#[test]
fn kept_systemd_sandbox_on_docker_stops_cleanly_and_starts_again() {
    let _guard = shared();
    kept_systemd_sandbox("docker");
}

#[test]
fn kept_systemd_sandbox_on_podman_stops_cleanly_and_starts_again() {
    let _guard = shared();
    kept_systemd_sandbox("podman");
}

#[test]
fn sigint_or_sigterm_during_a_throwaway_systemd_run_removes_the_sandbox() {
    ensure_image();
    let _guard = shared();
    for (eng, sig) in [
        ("docker", libc::SIGINT),
        ("podman", libc::SIGTERM),
        ("docker", libc::SIGTERM),
        ("podman", libc::SIGINT),
    ] {
        let name = unique("systemd-signal");
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut child = Command::new(BIN)
            .args(throwaway("dind", eng, &name, &["-x", "echo up; sleep 120"]))
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dindbox starts");
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 3];
        std::io::Read::read_exact(&mut out, &mut first).expect("the command starts");
        assert_eq!(&first, b"up\n");
        // SAFETY: kill(2) on our own child, which has not been waited for.
        unsafe { libc::kill(child.id() as i32, sig) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + sig), "{eng}: signal {sig}");
        assert_nothing_left(eng, &name);
    }
}

/// The systemd image in the rootless test user's Podman store, copied from
/// root's Podman when the user's differs.
fn ensure_user_image() {
    ensure_image();
    let image = systemd_image();
    let id = |run: Run| run.stdout.trim().to_string();
    let want = id(engine(
        "podman",
        &["image", "inspect", "--format", "{{.Id}}", &image],
    )
    .ok());
    let have = id(user::user_podman(&[
        "image", "inspect", "--format", "{{.Id}}", &image,
    ]));
    if want == have {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("dindbox-systemd-image-")
        .tempdir()
        .unwrap();
    let archive = dir.path().join("image.tar");
    let path = archive.to_str().unwrap();
    engine(
        "podman",
        &[
            "save",
            "-q",
            "--format",
            "docker-archive",
            "-o",
            path,
            &image,
        ],
    )
    .ok();
    Command::new("chmod")
        .args(["755", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    Command::new("chmod").args(["644", path]).status().unwrap();
    user::user_podman(&["load", "-q", "-i", path]).ok();
}

/// `--systemd` on rootless Podman: where the host has pure cgroup v2 (the
/// Debian 13 guest), systemd boots and runs the inner Podman, which runs a
/// nested container; elsewhere (this build machine's hybrid cgroups) it is
/// refused, before anything starts, with the reason.
#[test]
fn systemd_on_rootless_podman_runs_on_cgroup_v2_and_is_refused_without_it() {
    let _guard = shared();
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if v2 {
        ensure_user_image();
    }
    let ws = user::user_workspace();
    let name = unique("rootless-systemd");
    let _cleanup = user::UserCleanup(vec![name.clone()]);
    let script = format!(
        "cat /proc/1/comm; systemctl is-active {UNIT}; \
         podman run --rm {CANARY} echo nested-ok; id -u"
    );
    let run = user::user_dindbox(
        &[
            "run",
            "--rm",
            "--systemd",
            "-m",
            "dind",
            "--inner",
            "podman",
            "-n",
            &name,
            "-x",
            &script,
        ],
        ws.path(),
    );
    if v2 {
        let run = run.ok();
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines,
            ["systemd", "active", "nested-ok", "0"],
            "{}",
            run.stderr
        );
    } else {
        assert_bad_input(
            &run,
            3,
            "--systemd cannot run on rootless podman on this host",
            "systemd.unified_cgroup_hierarchy=1",
        );
        assert_says(
            &run.stderr,
            &["cgroup v1 is not delegated to rootless users"],
        );
    }
    user::assert_nothing_left_for_user(&name);
}
