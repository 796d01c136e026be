//! `dindbox export systemd`: bad input refused with nothing written (no
//! engine needed); and where PID 1 is systemd and the tests run as root, the
//! unit of a kept sandbox and the Quadlet file of one installed under /run
//! and run for real: `systemctl start` brings the sandbox up (`dindbox exec
//! NAME true` runs), `systemctl stop` stops it, and nothing is left.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// Where Quadlet's system generator reads files that last until a reboot.
const QUADLET_RUN_DIR: &str = "/run/containers/systemd";
/// Quadlet's generator, where Podman installs it.
const QUADLET: [&str; 2] = [
    "/usr/libexec/podman/quadlet",
    "/usr/lib/systemd/system-generators/podman-system-generator",
];

fn systemctl(args: &[&str]) -> Run {
    Run::from(
        Command::new("systemctl")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("systemctl runs"),
    )
}

/// Why units cannot be run here, if they cannot.
fn no_systemd() -> Option<&'static str> {
    if !Path::new("/run/systemd/system").is_dir() {
        return Some("PID 1 is not systemd");
    }
    if unsafe { libc::geteuid() } != 0 {
        return Some("units are installed as root");
    }
    None
}

/// A unit file installed under /run: on drop, the unit is stopped and
/// removed, and systemd forgets it.
struct Installed {
    path: PathBuf,
    unit: String,
}

impl Installed {
    fn new(file: &Path, dir: &str, unit: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let path = Path::new(dir).join(file.file_name().unwrap());
        std::fs::copy(file, &path).unwrap();
        systemctl(&["daemon-reload"]).ok();
        Installed {
            path,
            unit: unit.to_string(),
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = systemctl(&["stop", &self.unit]);
        let _ = std::fs::remove_file(&self.path);
        let _ = systemctl(&["daemon-reload"]);
        let _ = systemctl(&["reset-failed", &self.unit]);
    }
}

fn running(eng: &str, name: &str) -> bool {
    status(eng, name) == "running"
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["export", "systemd", "w", "-m", "dind", "--output", out_s],
            "sandbox options are for --quadlet",
            "--recreate",
        ),
        (
            &[
                "export",
                "systemd",
                "w",
                "--quadlet",
                "-x",
                "true",
                "--output",
                out_s,
            ],
            "-x/--exec does not fit a Quadlet file",
            "dindbox exec w",
        ),
        (
            &[
                "export",
                "systemd",
                "w",
                "--quadlet",
                "-n",
                "v",
                "--output",
                out_s,
            ],
            "-n/--name does not fit a Quadlet file",
            "named NAME",
        ),
        (
            &[
                "export",
                "systemd",
                "w",
                "--quadlet",
                "--engine",
                "docker",
                "--output",
                out_s,
            ],
            "runs the sandbox on Podman",
            "dindbox export systemd w` (without --quadlet)",
        ),
    ];
    for (args, message, hint) in cases {
        let run = dindbox_in(t.path(), args, &[]);
        assert_bad_input(&run, 2, message, hint);
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn a_sandbox_that_does_not_exist_gets_no_unit() {
    let _guard = shared();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let name = unique("export-none");
    let run = dindbox(&[
        "export",
        "systemd",
        &name,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_bad_input(&run, 2, &format!("no sandbox named `{name}`"), "dindbox ls");
    assert!(!out.exists());
}

#[test]
fn a_quadlet_files_secrets_are_only_in_its_env_file() {
    let _guard = shared();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let name = unique("export-env");
    let args = [
        "export",
        "systemd",
        &name,
        "--quadlet",
        "-m",
        "common",
        "--engine",
        "podman",
        "-e",
        "TOKEN=s3cret",
    ];
    let printed = dindbox_in(t.path(), &args, &[]);
    assert_bad_input(&printed, 2, "never printed", "--output DIR");
    let mut with_output = args.to_vec();
    with_output.extend(["--output", out.to_str().unwrap()]);
    let run = dindbox_in(t.path(), &with_output, &[]).ok();
    let container = written(&run, ".container");
    let env = written(&run, ".env");
    let text = std::fs::read_to_string(&container).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.contains(&format!("EnvironmentFile={}", env.display())),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "TOKEN=s3cret\n");
    assert!(!container_exists("podman", &name), "export starts nothing");
}

/// A kept dind sandbox on `eng`, its unit installed, started and stopped by systemd.
fn unit_keeps_a_kept_sandbox_up(eng: &str) {
    if let Some(why) = no_systemd() {
        eprintln!("skipped: {why}");
        return;
    }
    let _guard = shared();
    let name = unique(&format!("export-unit-{eng}"));
    let _cleanup = Cleanup::new(eng)
        .container(&name)
        .volume(&format!("{name}-storage"));
    dindbox(&[
        "run", "-m", "dind", "--engine", eng, "-n", &name, "-x", "true",
    ])
    .ok();
    let t = tempfile::tempdir().unwrap();
    let run = dindbox(&[
        "export",
        "systemd",
        &name,
        "--engine",
        eng,
        "--output",
        t.path().to_str().unwrap(),
    ])
    .ok();
    let file = written(&run, ".service");
    let unit = format!("dindbox-{name}.service");
    assert!(file.ends_with(&unit), "{}", file.display());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(&format!("ExecStart={BIN} start --engine {eng} {name}")),
        "{text}"
    );
    Command::new("systemd-analyze")
        .arg("verify")
        .arg(&file)
        .status()
        .map(|s| assert!(s.success(), "systemd-analyze verify {}", file.display()))
        .unwrap_or_else(|e| eprintln!("systemd-analyze: {e}"));

    dindbox(&["stop", &name]).ok();
    let _installed = Installed::new(&file, "/run/systemd/system", &unit);
    systemctl(&["start", &unit]).ok();
    assert_eq!(systemctl(&["is-active", &unit]).stdout.trim(), "active");
    assert!(running(eng, &name), "systemctl start started {name}");
    dindbox(&["exec", &name, "true"]).ok();
    dindbox(&[
        "exec",
        &name,
        "podman",
        "info",
        "--format",
        "{{.Host.Arch}}",
    ])
    .ok();

    systemctl(&["stop", &unit]).ok();
    assert!(!running(eng, &name), "systemctl stop stopped {name}");
    assert!(container_exists(eng, &name), "the sandbox is kept, stopped");
    drop(_installed);
    dindbox(&["rm", &name]).ok();
    assert_nothing_left(eng, &name);
}

#[test]
fn a_unit_keeps_a_kept_sandbox_on_docker_up() {
    unit_keeps_a_kept_sandbox_up("docker");
}

#[test]
fn a_unit_keeps_a_kept_sandbox_on_podman_up() {
    unit_keeps_a_kept_sandbox_up("podman");
}

#[test]
fn a_quadlet_file_runs_a_dind_sandbox_on_podman() {
    if let Some(why) = no_systemd() {
        eprintln!("skipped: {why}");
        return;
    }
    if !QUADLET.iter().any(|p| Path::new(p).exists()) {
        eprintln!("skipped: no Quadlet generator ({})", QUADLET.join(", "));
        return;
    }
    let _guard = shared();
    let name = unique("export-quadlet");
    let _cleanup = Cleanup::new("podman")
        .container(&name)
        .volume(&format!("{name}-storage"));
    let workspace = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let run = dindbox_in(
        workspace.path(),
        &[
            "export",
            "systemd",
            &name,
            "--quadlet",
            "-m",
            "dind",
            "--engine",
            "podman",
            "--output",
            t.path().to_str().unwrap(),
        ],
        &[],
    )
    .ok();
    let file = written(&run, ".container");
    let unit = format!("dindbox-{name}.service");
    assert!(!container_exists("podman", &name), "export starts nothing");

    let installed = Installed::new(&file, QUADLET_RUN_DIR, &unit);
    let generated = systemctl(&["cat", &unit]);
    assert_eq!(
        generated.code, 0,
        "Quadlet made no unit:\n{}",
        generated.stderr
    );
    systemctl(&["start", &unit]).ok();
    assert!(running("podman", &name), "systemctl start started {name}");
    dindbox(&["exec", &name, "true"]).ok();
    let nested = dindbox(&[
        "exec",
        &name,
        "podman",
        "run",
        "--rm",
        CANARY,
        "echo",
        "nested-ok",
    ])
    .ok();
    assert_eq!(nested.stdout.trim(), "nested-ok");
    let ls = dindbox(&["ls", "--engine", "podman"]).ok();
    assert!(ls.stdout.contains(&name), "{}", ls.stdout);

    systemctl(&["stop", &unit]).ok();
    assert!(
        !container_exists("podman", &name),
        "Quadlet removes the sandbox when its unit stops"
    );
    drop(installed);
    engine(
        "podman",
        &["volume", "rm", "-f", &format!("{name}-storage")],
    );
    assert_nothing_left("podman", &name);
}
