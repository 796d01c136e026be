//! Real-engine tests of `--runtime`: gVisor (runsc, from Debian's package,
//! registered with Docker by scripts/setup-host.sh) on Docker and Podman, and
//! the refusals of runtimes that are missing or cannot do what is asked.

mod common;

use common::*;

/// gVisor answers `dmesg` with its own boot messages.
const GVISOR_BOOT: &str = "Starting gVisor";

/// `dindbox run [--rm] -m MODE --engine ENG --runtime runsc -n NAME -x CMD`.
fn gvisor(eng: &str, mode: &str, name: &str, rm: bool, cmd: &str) -> Run {
    let mut args = vec![
        "run",
        "-m",
        mode,
        "--engine",
        eng,
        "--runtime",
        "runsc",
        "-n",
        name,
        "-x",
        cmd,
    ];
    if rm {
        args.insert(1, "--rm");
    }
    dindbox(&args)
}

/// A throw-away gVisor sandbox on `eng`; nothing may be left.
fn gvisor_run(eng: &str, mode: &str, cmd: &str) -> Run {
    let name = unique(&format!("gvisor-{mode}-{eng}"));
    let _cleanup = Cleanup::new(eng).container(&name);
    let run = gvisor(eng, mode, &name, true, cmd);
    assert_nothing_left(eng, &name);
    run
}

#[test]
fn gvisor_runs_common_sandboxes_on_both_engines() {
    let _guard = shared();
    for eng in ENGINES {
        let run = gvisor_run(eng, "common", "dmesg | head -n 1; exit 7");
        assert_eq!(run.code, 7, "{eng}: the command's status\n{}", run.stderr);
        assert!(run.stdout.contains(GVISOR_BOOT), "{eng}: {}", run.stdout);
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
    let cmd = format!("dmesg | head -n 1; docker run --rm {CANARY} echo through-the-socket");
    for eng in ENGINES {
        let run = gvisor_run(eng, "sock", &cmd).ok();
        assert_says(&run.stdout, &[GVISOR_BOOT, "through-the-socket"]);
    }
}

#[test]
fn a_kept_gvisor_sandbox_runs_later_commands_under_gvisor_and_keeps_its_runtime() {
    let _guard = shared();
    let eng = "podman";
    let name = unique("gvisor-kept");
    let _cleanup = Cleanup::new(eng).container(&name);
    gvisor(eng, "common", &name, false, "true").ok();
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

/// `dindbox run -m dind --runtime RUNTIME` refused before anything starts:
/// the status, one message with its fix, and nothing left on the engine.
#[test]
fn runtimes_that_are_missing_or_cannot_nest_are_refused_with_what_works() {
    let _guard = shared();
    let gvisor = "an engine cannot run inside a gVisor sandbox";
    let cases = [
        ("docker", "runsc", 3, gvisor, "-m sock --runtime runsc"),
        ("podman", "runsc", 3, gvisor, "-m sock --runtime runsc"),
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
        let name = unique(&format!("refused-runtime-{eng}"));
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
