//! A recording fake of [`EngineApi`] for unit tests: it keeps containers and
//! volumes as an engine would, records every call in order (one short line
//! each), and can be told to fail a call or to exit a command with a status.
//!
//! Records: `answers`, `inspect NAME`, `state NAME`, `sandboxes`,
//! `volumes NAME` (`volumes *` for all),
//! `volume exists NAME`, `volume create NAME`, `volume rm NAME`, `rm NAME`,
//! `start NAME`, `stop [-t N] NAME`, and for whole command lines
//! `output: ARGS` and `attached: ARGS` (the arguments after the binary,
//! shell-quoted).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Mutex;

use super::EngineKind;
use super::api::EngineApi;
use super::container::{Container, Volume};
use crate::error::{Error, Result};
use crate::process::{Output, quote_argv};
use crate::signals::Signals;
use crate::spec::labels;

pub struct FakeEngine {
    kind: EngineKind,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    calls: Vec<String>,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
    /// Calls whose record starts with one of these fail.
    failing: Vec<String>,
    /// Command lines whose record starts with the first exit with the second
    /// and print the third on stderr.
    exits: Vec<(String, i32, String)>,
}

/// A container dindbox made, in `status` (running, exited, created).
pub fn sandbox(name: &str, status: &str) -> Container {
    let mut c = foreign(name, status);
    c.labels.insert(labels::MANAGED.into(), "true".into());
    c
}

/// A container without dindbox's label.
pub fn foreign(name: &str, status: &str) -> Container {
    Container {
        id: format!("id-{name}"),
        name: name.into(),
        status: status.into(),
        exit_code: 0,
        created: "2026-11-25T05:30:00.123456789Z".into(),
        labels: BTreeMap::new(),
        auto_remove: false,
        apparmor_profile: String::new(),
    }
}

impl FakeEngine {
    /// No container and no volume is left on this engine.
    pub fn assert_nothing_left(&self) {
        assert!(self.containers().is_empty(), "{:?}", self.containers());
        assert!(self.volumes().is_empty(), "{:?}", self.volumes());
    }

    pub fn new(kind: EngineKind) -> Self {
        FakeEngine {
            kind,
            state: Mutex::new(State::default()),
        }
    }

    pub fn with_container(self, container: Container) -> Self {
        self.lock().containers.push(container);
        self
    }

    /// A volume labelled as `sandbox`'s own.
    pub fn with_volume(self, name: &str, sandbox: &str) -> Self {
        self.lock().volumes.push(volume(name, sandbox));
        self
    }

    /// Calls whose record starts with `prefix` fail.
    pub fn failing(self, prefix: &str) -> Self {
        self.lock().failing.push(prefix.into());
        self
    }

    /// Command lines whose record starts with `prefix` exit with `code`.
    pub fn exits(self, prefix: &str, code: i32, stderr: &str) -> Self {
        self.lock().exits.push((prefix.into(), code, stderr.into()));
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The containers now there, as `NAME STATUS`.
    pub fn containers(&self) -> Vec<String> {
        self.lock()
            .containers
            .iter()
            .map(|c| format!("{} {}", c.name, c.status))
            .collect()
    }

    /// The names of the volumes now there.
    pub fn volumes(&self) -> Vec<String> {
        self.lock().volumes.iter().map(|v| v.name.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record a call; Err when it is told to fail.
    fn call(&self, record: String) -> Result<std::sync::MutexGuard<'_, State>> {
        let mut state = self.lock();
        let fails = state.failing.iter().any(|p| record.starts_with(p.as_str()));
        state.calls.push(record.clone());
        if fails {
            return Err(Error::failure(format!("`{} {record}` failed", self.kind)));
        }
        Ok(state)
    }

    /// A whole command line: recorded, and what it does to the containers.
    fn command(&self, how: &str, argv: &[String]) -> Result<(i32, String)> {
        let record = format!("{how}: {}", quote_argv(&argv[1..]));
        let mut state = self.call(record.clone())?;
        let (code, stderr) = state
            .exits
            .iter()
            .find(|(p, _, _)| record.starts_with(&format!("{how}: {p}")))
            .map(|(_, code, stderr)| (*code, stderr.clone()))
            .unwrap_or((0, String::new()));
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        if let Some(at) = args.iter().position(|a| *a == "run") {
            let run = &args[at..];
            let name = run
                .iter()
                .position(|a| *a == "--name")
                .and_then(|i| run.get(i + 1))
                .map(|n| n.to_string())
                .unwrap_or_else(|| "unnamed".into());
            // A run the engine fails (125 to 127) leaves the container
            // created, never started; one that ran is running (detached:
            // dindbox captures the output of a run only then), or has exited
            // with the command's status (gone with --rm).
            let detached = how == "output" || run.contains(&"-d");
            let status = match (code, detached, run.contains(&"--rm")) {
                (125..=127, _, _) => Some("created"),
                (0, true, _) => Some("running"),
                (_, false, true) => None,
                _ => Some("exited"),
            };
            if let Some(status) = status {
                let mut c = sandbox(&name, status);
                c.exit_code = i64::from(code);
                state.containers.push(c);
            }
        }
        Ok((code, stderr))
    }
}

fn volume(name: &str, sandbox: &str) -> Volume {
    Volume {
        name: name.into(),
        created_at: "2026-11-25T05:30:00Z".into(),
        labels: Some(BTreeMap::from([
            (labels::SANDBOX.to_string(), sandbox.to_string()),
            (labels::MANAGED.to_string(), "true".to_string()),
        ])),
    }
}

impl EngineApi for FakeEngine {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn argv(&self, args: &[String]) -> Vec<String> {
        std::iter::once(self.kind.name().to_string())
            .chain(args.iter().cloned())
            .collect()
    }

    fn answers(&self) -> std::result::Result<(), String> {
        self.call("answers".into())
            .map(|_| ())
            .map_err(|_| format!("fake {} does not answer", self.kind))
    }

    fn inspect_container(&self, name: &str) -> Result<Option<Container>> {
        let state = self.call(format!("inspect {name}"))?;
        Ok(state.containers.iter().find(|c| c.name == name).cloned())
    }

    fn state(&self, name: &str) -> Option<String> {
        let state = self.call(format!("state {name}")).ok()?;
        let c = state.containers.iter().find(|c| c.name == name)?;
        Some(c.status.clone())
    }

    fn sandboxes(&self) -> Result<Vec<Container>> {
        let state = self.call("sandboxes".into())?;
        Ok(state
            .containers
            .iter()
            .filter(|c| c.is_sandbox())
            .cloned()
            .collect())
    }

    fn sandbox_volumes(&self, sandbox: Option<&str>) -> Result<Vec<Volume>> {
        let state = self.call(format!("volumes {}", sandbox.unwrap_or("*")))?;
        Ok(state
            .volumes
            .iter()
            .filter(|v| sandbox.is_none_or(|s| v.label(labels::SANDBOX) == s))
            .cloned()
            .collect())
    }

    fn volume_exists(&self, name: &str) -> Result<bool> {
        let state = self.call(format!("volume exists {name}"))?;
        Ok(state.volumes.iter().any(|v| v.name == name))
    }

    fn create_volume(&self, name: &str, sandbox: &str) -> Result<()> {
        let mut state = self.call(format!("volume create {name}"))?;
        state.volumes.push(volume(name, sandbox));
        Ok(())
    }

    fn remove_volume(&self, name: &str) -> Result<()> {
        let mut state = self.call(format!("volume rm {name}"))?;
        state.volumes.retain(|v| v.name != name);
        Ok(())
    }

    fn remove_container(&self, name: &str) -> Result<()> {
        let mut state = self.call(format!("rm {name}"))?;
        state.containers.retain(|c| c.name != name);
        Ok(())
    }

    fn start(&self, name: &str) -> Result<()> {
        let mut state = self.call(format!("start {name}"))?;
        match state.containers.iter_mut().find(|c| c.name == name) {
            Some(c) => {
                c.status = "running".into();
                Ok(())
            }
            None => Err(Error::failure(format!("no such container {name}"))),
        }
    }

    fn stop(&self, name: &str, seconds: Option<u64>) -> Result<()> {
        let record = match seconds {
            Some(s) => format!("stop -t {s} {name}"),
            None => format!("stop {name}"),
        };
        let mut state = self.call(record)?;
        match state.containers.iter_mut().find(|c| c.name == name) {
            Some(c) if c.running() => {
                c.status = "exited".into();
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(Error::failure(format!("no such container {name}"))),
        }
    }

    fn output(&self, argv: &[String]) -> Result<Output> {
        let (code, stderr) = self.command("output", argv)?;
        Ok(Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: String::new(),
            stderr,
        })
    }

    fn attached(&self, argv: &[String], _signals: Option<&Signals>) -> Result<i32> {
        Ok(self.command("attached", argv)?.0)
    }
}
