//! What dindbox asks of a host engine, as one interface: the CLI-backed
//! [`Engine`] (Docker or Podman) answers it for real, and
//! [`super::fake::FakeEngine`] records the calls in tests, so that lifecycle
//! and clean-up logic runs without an engine.
//!
//! Commands the user sees (`run`, `exec`, `logs`) stay whole engine command
//! lines ([`EngineApi::argv`]): what dindbox prints is what the engine runs.

use std::time::Duration;

use super::container::{Container, Volume};
use super::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::process::{Cmd, Output, exit_code};
use crate::signals::Signals;
use crate::spec::labels;

/// How long the cheap "does it answer" call may take.
const ANSWER_LIMIT: Duration = Duration::from_secs(15);

pub trait EngineApi: Sync {
    fn kind(&self) -> EngineKind;

    /// The whole command line of one engine subcommand (binary, global flags, `args`).
    fn argv(&self, args: &[String]) -> Vec<String>;

    /// A cheap call that needs the engine itself (the list of sandboxes):
    /// Err with what it said when it does not answer.
    fn answers(&self) -> std::result::Result<(), String>;

    /// The container of that name or id; None when there is none.
    fn inspect_container(&self, name: &str) -> Result<Option<Container>>;

    /// The container's state ("created", "running", "exited"), None when it is gone.
    fn state(&self, name: &str) -> Option<String>;

    /// Every container dindbox made on this engine, found by label.
    fn sandboxes(&self) -> Result<Vec<Container>>;

    /// Volumes dindbox made, for one sandbox or for all.
    fn sandbox_volumes(&self, sandbox: Option<&str>) -> Result<Vec<Volume>>;

    fn volume_exists(&self, name: &str) -> Result<bool>;

    /// Create a volume labelled as sandbox `sandbox`'s own.
    fn create_volume(&self, name: &str, sandbox: &str) -> Result<()>;

    /// Remove a volume; one that is gone counts as removed.
    fn remove_volume(&self, name: &str) -> Result<()>;

    /// Remove a container (running or not) and its anonymous volumes; one
    /// that is gone counts as removed.
    fn remove_container(&self, name: &str) -> Result<()>;

    /// `start` a stopped container; fails with the engine's message.
    fn start(&self, name: &str) -> Result<()>;

    /// `stop` a container, waiting `seconds` before killing it (the engine's
    /// default when None); fails with the engine's message.
    fn stop(&self, name: &str, seconds: Option<u64>) -> Result<()>;

    /// Run a whole command line (from [`EngineApi::argv`] or the plan's) to
    /// completion, captured; a non-zero status is not an error here.
    fn output(&self, argv: &[String]) -> Result<Output>;

    /// Run a whole command line with the terminal attached; its exit status.
    /// With `signals`, the signals dindbox gets meanwhile are passed on to it.
    fn attached(&self, argv: &[String], signals: Option<&Signals>) -> Result<i32>;
}

impl Engine {
    fn captured(&self, argv: &[String]) -> Cmd {
        Cmd::new(&argv[0]).args(argv[1..].iter().cloned())
    }
}

impl EngineApi for Engine {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn argv(&self, args: &[String]) -> Vec<String> {
        self.cmd().args(args.iter().cloned()).argv()
    }

    fn answers(&self) -> std::result::Result<(), String> {
        let cmd = self.cmd().args(super::container::list_args());
        match cmd.output_within(ANSWER_LIMIT) {
            Ok(Some(out)) if out.success() => Ok(()),
            Ok(Some(out)) => Err(crate::process::tail(&out.stderr, 3)),
            Ok(None) => Err(format!(
                "`{}` did not answer in {}s",
                cmd.display(),
                ANSWER_LIMIT.as_secs()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    fn inspect_container(&self, name: &str) -> Result<Option<Container>> {
        Engine::inspect_container(self, name)
    }

    fn state(&self, name: &str) -> Option<String> {
        let out = self
            .cmd()
            .args([
                "container",
                "inspect",
                "--format",
                "{{.State.Status}}",
                name,
            ])
            .output()
            .ok()?;
        out.success().then(|| out.stdout.trim().to_string())
    }

    fn sandboxes(&self) -> Result<Vec<Container>> {
        Engine::sandboxes(self)
    }

    fn sandbox_volumes(&self, sandbox: Option<&str>) -> Result<Vec<Volume>> {
        Engine::sandbox_volumes(self, sandbox)
    }

    fn volume_exists(&self, name: &str) -> Result<bool> {
        Engine::volume_exists(self, name)
    }

    fn create_volume(&self, name: &str, sandbox: &str) -> Result<()> {
        self.cmd()
            .args(["volume", "create", "--label"])
            .arg(format!("{}={sandbox}", labels::SANDBOX))
            .args(["--label", &format!("{}=true", labels::MANAGED)])
            .arg(name)
            .run()
            .map(|_| ())
    }

    fn remove_volume(&self, name: &str) -> Result<()> {
        Engine::remove_volume(self, name)
    }

    fn remove_container(&self, name: &str) -> Result<()> {
        Engine::remove_container(self, name)
    }

    fn start(&self, name: &str) -> Result<()> {
        let cmd = self.cmd().args(["start", name]);
        let out = cmd.output()?;
        if !out.success() {
            return Err(cmd.failed(&out.status, &out.stderr));
        }
        Ok(())
    }

    fn stop(&self, name: &str, seconds: Option<u64>) -> Result<()> {
        let mut cmd = self.cmd().arg("stop");
        if let Some(seconds) = seconds {
            cmd = cmd.args(["-t", &seconds.to_string()]);
        }
        let cmd = cmd.arg(name);
        let out = cmd.output()?;
        if !out.success() {
            return Err(cmd.failed(&out.status, &out.stderr));
        }
        Ok(())
    }

    fn output(&self, argv: &[String]) -> Result<Output> {
        self.captured(argv).output()
    }

    fn attached(&self, argv: &[String], signals: Option<&Signals>) -> Result<i32> {
        let cmd = self.captured(argv);
        let mut child = cmd.spawn_attached()?;
        if let Some(signals) = signals {
            signals.pass_to(child.id());
        }
        let status = child.wait().map_err(|e| {
            Error::failure(format!("lost `{}`", cmd.display())).cause(e.to_string())
        })?;
        Ok(exit_code(&status))
    }
}
