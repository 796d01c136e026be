//! Real-engine tests of `--runtime`: gVisor (runsc, from Debian's package,
//! registered with Docker by scripts/setup-host.sh) on Docker and Podman, and
//! the refusals of runtimes that are missing or cannot do what is asked.

mod common;

use common::*;

/// gVisor answers `dmesg` with its own boot messages.
const GVISOR_BOOT: &str = "Starting gVisor";

#[test]
fn gvisor_runs_common_sandboxes_on_both_engines() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique(&format!("gvisor-common-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let run = dindbox(&[
            "run",
            "--rm",
            "-m",
            "common",
            "--engine",
            eng,
            "--runtime",
            "runsc",
            "-n",
            &name,
            "-x",
            "dmesg | head -n 1; exit 7",
        ]);
        assert_eq!(run.code, 7, "{eng}: the command's status\n{}", run.stderr);
        assert!(run.stdout.contains(GVISOR_BOOT), "{eng}: {}", run.stdout);
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn without_runtime_the_same_sandbox_runs_on_the_hosts_kernel() {
    let _guard = shared();
    let run = dindbox(&[
        "run",
        "--rm",
        "-m",
        "common",
        "--engine",
        "docker",
        "-x",
        "dmesg 2>&1 | head -n 1",
    ]);
    assert!(!run.stdout.contains(GVISOR_BOOT), "{}", run.stdout);
}

#[test]
fn gvisor_sock_sandboxes_run_containers_through_the_hosts_socket() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique(&format!("gvisor-sock-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let cmd = format!("dmesg | head -n 1; docker run --rm {CANARY} echo through-the-socket");
        let run = dindbox(&[
            "run",
            "--rm",
            "-m",
            "sock",
            "--engine",
            eng,
            "--runtime",
            "runsc",
            "-n",
            &name,
            "-x",
            &cmd,
        ])
        .ok();
        assert_says(&run.stdout, &[GVISOR_BOOT, "through-the-socket"]);
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn a_kept_gvisor_sandbox_runs_later_commands_under_gvisor_and_keeps_its_runtime() {
    let _guard = shared();
    let eng = "podman";
    let name = unique("gvisor-kept");
    let _cleanup = Cleanup::new(eng).container(&name);
    dindbox(&[
        "run",
        "-m",
        "common",
        "--engine",
        eng,
        "--runtime",
        "runsc",
        "-n",
        &name,
        "-x",
        "true",
    ])
    .ok();
    let exec = dindbox(&["exec", &name, "sh", "-c", "dmesg | head -n 1"]).ok();
    assert!(exec.stdout.contains(GVISOR_BOOT), "{}", exec.stdout);
    let other = dindbox(&[
        "run", "-m", "common", "--engine", eng, "-n", &name, "-x", "true",
    ]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert_says(
        &other.stderr,
        &["runtime: it has `runsc`, asked for none", "--recreate"],
    );
    dindbox(&["rm", &name]).ok();
    assert_nothing_left(eng, &name);
}

#[test]
fn gvisor_dind_is_refused_before_anything_starts() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique(&format!("gvisor-dind-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let run = dindbox(&[
            "run",
            "-m",
            "dind",
            "--engine",
            eng,
            "--runtime",
            "runsc",
            "-n",
            &name,
            "-x",
            "echo never",
        ]);
        assert_bad_input(
            &run,
            3,
            "an engine cannot run inside a gVisor sandbox",
            "-m sock --runtime runsc",
        );
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn runtimes_that_are_not_there_are_refused_with_how_to_get_them() {
    let _guard = shared();
    let cases = [
        (
            "docker",
            "kata",
            2,
            "Docker has no runtime `kata`",
            "Kata Containers",
        ),
        (
            "docker",
            "sysbox-runc",
            2,
            "Docker has no runtime `sysbox-runc`",
            "sysbox-ce",
        ),
        ("podman", "sysbox-runc", 3, "not Podman", "--engine docker"),
        (
            "podman",
            "runcvm",
            3,
            "RunCVM runs under Docker only",
            "--engine docker",
        ),
        (
            "podman",
            "crun",
            3,
            "crun does not support this host's hybrid cgroups",
            "--runtime runc",
        ),
        (
            "podman",
            "kata",
            2,
            "runtime `kata` is not installed",
            "Kata Containers",
        ),
    ];
    for (eng, runtime, code, message, hint) in cases {
        let name = unique(&format!("missing-runtime-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let run = dindbox(&[
            "run",
            "-m",
            "dind",
            "--engine",
            eng,
            "--runtime",
            runtime,
            "-n",
            &name,
            "-x",
            "echo never",
        ]);
        assert_bad_input(&run, code, message, hint);
        assert_nothing_left(eng, &name);
    }
}
