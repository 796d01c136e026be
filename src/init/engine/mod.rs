//! Start the sandbox's own engine, wait until it answers, load the preloaded
//! images. What differs between the inner engines is in `docker.rs` and
//! `podman.rs`.

mod docker;
mod podman;

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::Duration;

use crate::engine::EngineKind;
use crate::process::{Cmd, tail};
use crate::spec::init::{InnerEngineSpec, LOG_DIR, PRELOAD_DIR};

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(10);
/// How many lines of the engine's log a failure shows.
const LOG_TAIL: usize = 25;

pub use podman::STORAGE_CONF;

/// Why the inner engine did not come up, and the log that tells more.
#[derive(Debug)]
pub struct StartError {
    pub reason: String,
    pub log: Option<PathBuf>,
}

impl StartError {
    pub fn new(reason: impl Into<String>, log: Option<&Path>) -> Self {
        StartError {
            reason: reason.into(),
            log: log.map(Path::to_path_buf),
        }
    }

    /// The reason followed by the tail of the log.
    pub fn report(&self, kind: EngineKind) -> String {
        let mut text = format!("dindbox: the inner {kind} did not start: {}", self.reason);
        if let Some(log) = &self.log {
            let content = std::fs::read_to_string(log).unwrap_or_default();
            let last = tail(&content, LOG_TAIL);
            if !last.is_empty() {
                text.push_str(&format!(
                    "\n--- last lines of {} ---\n{last}",
                    log.display()
                ));
            }
        }
        text
    }
}

/// A started engine: dockerd runs as a child; Podman has no daemon.
pub struct Running {
    pub daemon: Option<Child>,
}

/// Runtime state an engine keeps under /run, which a boot of a real machine
/// empties. A kept sandbox's /run survives `stop` and `start`; what is left
/// there from the last run (pid files, sockets, mount counts) would make the
/// engine believe it is still running.
const STALE_RUN_STATE: [&str; 7] = [
    "/run/docker.pid",
    "/run/docker",
    "/run/containerd",
    "/run/libpod",
    "/run/containers",
    "/run/runc",
    "/run/crun",
];

/// The init is the first process of this boot: no engine can be running yet.
pub fn clear_stale_run_state() {
    for path in STALE_RUN_STATE {
        let path = Path::new(path);
        let _ = match path.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => Ok(()),
        };
    }
}

/// One attempt with one set-up: the engine started, answering, and its
/// preloaded images loaded. On failure, a started daemon is returned too, to
/// be stopped before the next attempt.
pub fn start_once(spec: &InnerEngineSpec) -> Result<Running, (StartError, Option<Child>)> {
    let running = match spec.kind {
        EngineKind::Docker => docker::start_dockerd(spec).map_err(|e| (e, None))?,
        EngineKind::Podman => podman::configure_podman(spec).map_err(|e| (e, None))?,
    };
    crate::trace::mark("engine started");
    if let Err(e) = preload(spec) {
        return Err((e, running.daemon));
    }
    crate::trace::mark("images preloaded");
    Ok(running)
}

/// Run the canary once: the proof that nested containers run. Ok(false)
/// when the canary is not in the inner store (nothing to prove it with).
pub fn run_canary(spec: &InnerEngineSpec, image: &str) -> Result<bool, StartError> {
    let log = log_path(&format!("{}.log", spec.kind))?;
    let limit = Duration::from_millis(spec.ready_timeout_ms);
    let inspect = ["image", "inspect", "--format", "{{.Id}}", image];
    if within(spec.kind, &inspect, &log, limit).is_err() {
        return Ok(false);
    }
    let mut args = vec!["run", "--rm"];
    if spec.kind == EngineKind::Podman {
        args.push("--pull=never");
    }
    args.extend([image, "true"]);
    within(spec.kind, &args, &log, limit)?;
    crate::trace::mark("the canary ran");
    Ok(true)
}

fn find(binary: &str) -> Result<PathBuf, StartError> {
    which::which(binary).map_err(|_| {
        StartError::new(
            format!("this image has no `{binary}`: use an image with it installed (`dindbox image build` makes one), or another --inner engine"),
            None,
        )
    })
}

fn log_path(name: &str) -> Result<PathBuf, StartError> {
    std::fs::create_dir_all(LOG_DIR)
        .map_err(|e| StartError::new(format!("could not create {LOG_DIR}: {e}"), None))?;
    Ok(Path::new(LOG_DIR).join(name))
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// In the inner engine's store: one line per tarball already loaded into it
/// (`NAME SIZE`). A store baked into the image by `dindbox image build` comes
/// with the canary listed, so a sandbox's start does not load it again.
pub const PRELOADED: &str = ".dindbox-preloaded";

/// The tarballs (name, size) that the marker's text does not list.
pub fn not_preloaded<'a>(tarballs: &'a [(String, u64)], marker: &str) -> Vec<&'a (String, u64)> {
    tarballs
        .iter()
        .filter(|(name, size)| !marker.lines().any(|l| l == format!("{name} {size}")))
        .collect()
}

/// Run an engine command inside the readiness deadline, its output going to `log`.
fn within(kind: EngineKind, args: &[&str], log: &Path, limit: Duration) -> Result<(), StartError> {
    let cmd = Cmd::new(kind.name()).args(args.iter().copied());
    let out = cmd
        .output_within(limit)
        .map_err(|e| StartError::new(e.message, Some(log)))?;
    let Some(out) = out else {
        return Err(StartError::new(
            format!(
                "`{}` did not finish within {} ms",
                cmd.display(),
                limit.as_millis()
            ),
            Some(log),
        ));
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        use std::io::Write;
        let _ = write!(file, "{}{}", out.stdout, out.stderr);
    }
    if out.success() {
        Ok(())
    } else {
        Err(StartError::new(
            cmd.failed(&out.status, &out.stderr).message,
            Some(log),
        ))
    }
}

/// Load the tarballs under the preload directory that the store lacks. For
/// Podman, which has no daemon to wait for, a `load` or else a listing of its
/// images is the readiness check: either opens its storage. All of it within
/// the readiness deadline.
fn preload(spec: &InnerEngineSpec) -> Result<(), StartError> {
    let kind = spec.kind;
    let limit = Duration::from_millis(spec.ready_timeout_ms);
    let mut tarballs: Vec<(String, u64)> = std::fs::read_dir(PRELOAD_DIR)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len())))
                .collect()
        })
        .unwrap_or_default();
    tarballs.sort();
    // A store of its own (vfs) has its own list of what was loaded into it.
    let marker = match spec.storage {
        Some(storage @ crate::spec::init::Storage::Vfs) => {
            let _ = std::fs::create_dir_all(storage.graphroot());
            Path::new(storage.graphroot()).join(PRELOADED)
        }
        _ => Path::new(crate::spec::init::storage_path(kind)).join(PRELOADED),
    };
    let listed = std::fs::read_to_string(&marker).unwrap_or_default();
    let todo = not_preloaded(&tarballs, &listed);
    let log = log_path(&format!("{kind}.log"))?;
    if todo.is_empty() && kind == EngineKind::Podman {
        return within(kind, &["images", "--quiet"], &log, limit);
    }
    for (name, size) in todo {
        let path = Path::new(PRELOAD_DIR).join(name).display().to_string();
        within(kind, &["load", "-q", "-i", &path], &log, limit)?;
        // A store that cannot take the note just loads the image again next time.
        let mut text = std::fs::read_to_string(&marker).unwrap_or_default();
        text.push_str(&format!("{name} {size}\n"));
        let _ = std::fs::write(&marker, text);
    }
    Ok(())
}

/// An inner engine's spec for tests: runc, limits below the engines' default,
/// dockerd with its own firewall.
#[cfg(test)]
pub(super) fn test_spec(kind: EngineKind) -> InnerEngineSpec {
    InnerEngineSpec {
        ulimits: Some(crate::spec::init::Ulimits {
            nofile: 20000,
            nproc: 9000,
        }),
        engine_firewall: true,
        ..crate::plan::stepdown::test_spec(kind, "runc", false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preloads_only_what_the_store_lacks() {
        let tarballs = vec![
            ("canary.tar".to_string(), 2_004_992),
            ("app.tar".to_string(), 10),
        ];
        let todo = not_preloaded(&tarballs, "canary.tar 2004992\n");
        assert_eq!(todo, vec![&("app.tar".to_string(), 10)]);
        let changed = not_preloaded(&tarballs, "canary.tar 1999\napp.tar 10\n");
        assert_eq!(
            changed,
            vec![&("canary.tar".to_string(), 2_004_992)],
            "another size is another image"
        );
        assert_eq!(not_preloaded(&tarballs, "").len(), 2);
    }

    #[test]
    fn start_error_report_includes_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dockerd.log");
        std::fs::write(&log, "starting\nfailed to start daemon: invalid config\n").unwrap();
        let report = StartError::new("dockerd exited (exit status 1)", Some(&log))
            .report(EngineKind::Docker);
        assert!(
            report.starts_with(
                "dindbox: the inner docker did not start: dockerd exited (exit status 1)"
            ),
            "{report}"
        );
        assert!(
            report.ends_with("starting\nfailed to start daemon: invalid config"),
            "{report}"
        );
    }
}
