#![allow(dead_code)]
//! Helpers for the real-engine tests: each test starts real sandboxes on this host's Docker and
//! Podman. The test command (`scripts/test.sh`) first runs
//! `scripts/setup-host.sh`, which installs and starts the engines and builds
//! the images; a missing engine or image is a failure here, never a skip.

pub mod user;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub const BIN: &str = env!("CARGO_BIN_EXE_dindbox");
pub const CANARY: &str = "localhost/dindbox/canary:latest";
pub const ENGINES: [&str; 2] = ["docker", "podman"];

pub fn sandbox_image() -> String {
    format!("localhost/dindbox/sandbox:{}", env!("CARGO_PKG_VERSION"))
}

/// Tests that count every volume on the host take this lock for writing, so
/// that no other test creates or removes an anonymous volume meanwhile.
pub static HOST: RwLock<()> = RwLock::new(());

pub fn shared() -> RwLockReadGuard<'static, ()> {
    HOST.read().unwrap_or_else(|e| e.into_inner())
}

pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    HOST.write().unwrap_or_else(|e| e.into_inner())
}

/// A name no other test (or earlier run) uses.
pub fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "dindbox-test-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

pub fn dindbox_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("dindbox runs"))
}

pub fn dindbox(args: &[&str]) -> Run {
    dindbox_in(&std::env::temp_dir(), args, &[])
}

pub fn engine(engine: &str, args: &[&str]) -> Run {
    Run::from(
        Command::new(engine)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{engine} must be installed (scripts/setup-host.sh): {e}")),
    )
}

/// The container's state as the engine says it (running, exited, ...; "" when there is none).
pub fn status(eng: &str, name: &str) -> String {
    engine(
        eng,
        &[
            "container",
            "inspect",
            "--format",
            "{{.State.Status}}",
            name,
        ],
    )
    .stdout
    .trim()
    .to_string()
}

pub fn container_exists(eng: &str, name: &str) -> bool {
    engine(eng, &["container", "inspect", name]).code == 0
}

pub fn volumes(eng: &str) -> Vec<String> {
    let mut v: Vec<String> = engine(eng, &["volume", "ls", "-q"])
        .ok()
        .stdout
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// Removes containers, volumes and images a test made, even when it fails.
pub struct Cleanup {
    pub engine: String,
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub images: Vec<String>,
}

impl Cleanup {
    pub fn new(engine: &str) -> Self {
        Cleanup {
            engine: engine.to_string(),
            containers: Vec::new(),
            volumes: Vec::new(),
            images: Vec::new(),
        }
    }

    pub fn container(mut self, name: &str) -> Self {
        self.containers.push(name.to_string());
        self
    }

    pub fn volume(mut self, name: &str) -> Self {
        self.volumes.push(name.to_string());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = engine(&self.engine, &["rm", "-f", "-v", c]);
        }
        for v in &self.volumes {
            let _ = engine(&self.engine, &["volume", "rm", "-f", v]);
        }
        for i in &self.images {
            // With the copies of it a user namespace of the init's ran from.
            let copies = engine(
                &self.engine,
                &["images", "--format", "{{.Repository}}:{{.Tag}}"],
            );
            for copy in copies
                .stdout
                .lines()
                .filter(|c| c.starts_with(&format!("{i}-userns-")))
            {
                let _ = engine(&self.engine, &["rmi", "-f", copy]);
            }
            let _ = engine(&self.engine, &["rmi", "-f", i]);
        }
    }
}

/// Assert that a sandbox left nothing: no container of that name, no volume of its own.
pub fn assert_nothing_left(eng: &str, name: &str) {
    assert!(
        !container_exists(eng, name),
        "container {name} was left on {eng}"
    );
    let vols = volumes(eng);
    assert!(
        !vols.iter().any(|v| v.starts_with(name)),
        "a volume of {name} was left on {eng}: {vols:?}"
    );
}

/// A copy of the sandbox image with one file changed, made through dindbox itself.
pub fn image_with(eng: &str, cleanup: &mut Cleanup, what: &str, script: &str) -> String {
    let image = format!("localhost/{}:latest", unique(what));
    let builder = unique(&format!("{what}-builder"));
    cleanup.containers.push(builder.clone());
    cleanup.images.push(image.clone());
    dindbox(&[
        // The host's root, so that the committed image keeps its own ids
        // (a user namespace of the sandbox's own would shift them).
        "run",
        "-m",
        "common",
        "--engine",
        eng,
        "--host-root",
        "-n",
        &builder,
        "-x",
        script,
    ])
    .ok();
    engine(eng, &["commit", &builder, &image]).ok();
    engine(eng, &["rm", "-f", &builder]).ok();
    image
}

/// `dindbox run -m dind` of `image` on `host` with `inner` inside, to run `echo never`.
pub fn dind_of(host: &str, inner: &str, image: &str, flags: &[&str]) -> Run {
    let mut args = vec![
        "run",
        "-m",
        "dind",
        "--engine",
        host,
        "--inner",
        inner,
        "--image",
        image,
        "-x",
        "echo never",
    ];
    args.extend_from_slice(flags);
    dindbox(&args)
}

/// The inner engine did not start: status 121, the reason, a clue from its
/// log, and the command never ran.
pub fn assert_inner_failed(run: &Run, reason: &str, clue: &str) {
    assert_eq!(run.code, 121, "{}", run.stderr);
    assert_says(&run.stderr, &[reason, clue]);
    assert!(!run.stdout.contains("never"), "the command must not run");
}

/// Every one of `expected` is in `text`.
pub fn assert_says(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "expected {e:?} in:\n{text}");
    }
}

/// `dindbox run --rm -m dind --engine ENG -n NAME -x CMD`, started in the
/// temporary directory with stdout and stderr piped, not waited for.
pub fn spawn_run(eng: &str, name: &str, rm: bool, cmd: &str) -> std::process::Child {
    let mut args = vec!["run", "-m", "dind", "--engine", eng, "-n", name, "-x", cmd];
    if rm {
        args.insert(1, "--rm");
    }
    Command::new(BIN)
        .args(args)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dindbox starts")
}

pub fn assert_bad_input(run: &Run, code: i32, message: &str, hint: &str) {
    assert_eq!(run.code, code, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: "),
        "one clear message:\n{}",
        run.stderr
    );
    assert_says(&run.stderr, &[message, hint]);
    assert!(run.stdout.is_empty(), "nothing on stdout:\n{}", run.stdout);
}

/// The one file `export ... --output DIR` said it wrote, by its suffix.
pub fn written(run: &Run, suffix: &str) -> std::path::PathBuf {
    let path = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .find(|p| p.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} written:\n{}", run.stdout));
    std::path::PathBuf::from(path)
}

/// Each of `cases` (arguments, message, hint), run in `dir`, is refused as
/// bad input (exit 2) and writes nothing to `out`.
pub fn assert_refused_writing_nothing(dir: &Path, out: &Path, cases: &[(&[&str], &str, &str)]) {
    for (args, message, hint) in cases {
        let run = dindbox_in(dir, args, &[]);
        assert_bad_input(&run, 2, message, hint);
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
