//! The matrix: every mode × inner engine × host engine this host has, each
//! predicted by the planner itself, so that `doctor` and `run` never disagree.

use serde::Serialize;

use crate::cli::RunArgs;
use crate::engine::EngineKind;
use crate::error::Result;
use crate::image::canary;
use crate::plan::runtime::Family;
use crate::plan::{self, ImageFacts, Mode, Plan, Request};
use crate::probe::facts::{EngineFacts, HostFacts};

use super::check::Measured;

/// One combination: a host engine, a mode, for dind the engine inside, and
/// the sandbox's runtime when it is not the engine's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Combo {
    pub engine: EngineKind,
    pub mode: Mode,
    pub inner: Option<EngineKind>,
    pub runtime: Option<String>,
}

impl Combo {
    /// Every combination for the engines installed on `host` (Podman first),
    /// with the engine's default runtime and with each stronger one it has.
    pub fn all(host: &HostFacts) -> Vec<Combo> {
        let installed = EngineKind::ALL
            .into_iter()
            .filter_map(|kind| host.engine(kind));
        installed
            .flat_map(|engine| {
                let runtimes =
                    std::iter::once(None).chain(extra_runtimes(host, engine).into_iter().map(Some));
                runtimes.flat_map(move |runtime| {
                    let combo = |mode, inner| Combo {
                        engine: engine.kind,
                        mode,
                        inner,
                        runtime: runtime.clone(),
                    };
                    [
                        combo(Mode::Common, None),
                        combo(Mode::Sock, None),
                        combo(Mode::Dind, Some(EngineKind::Podman)),
                        combo(Mode::Dind, Some(EngineKind::Docker)),
                    ]
                })
            })
            .collect()
    }

    /// What the sandbox runs to show that it works: the canary, through the
    /// engine the mode gives it.
    pub fn canary(&self) -> String {
        match (self.mode, self.inner) {
            (Mode::Common, _) => "true".to_string(),
            (Mode::Sock, _) => format!("docker run --rm {} true", canary::TAG),
            (Mode::Dind, inner) => format!(
                "{} run --rm {} true",
                inner.unwrap_or(EngineKind::Podman),
                canary::TAG
            ),
        }
    }

    /// The `dindbox` arguments a user would type for this combination.
    pub fn argv(&self, name: &str) -> Vec<String> {
        let mut argv = vec!["run", "--rm", "-n", name, "-m", self.mode.name()];
        argv.extend(["--engine", self.engine.name()]);
        if let Some(inner) = self.inner {
            argv.extend(["--inner", inner.name()]);
        }
        if let Some(runtime) = &self.runtime {
            argv.extend(["--runtime", runtime]);
        }
        argv.push("-x");
        let mut argv: Vec<String> = argv.into_iter().map(String::from).collect();
        argv.push(self.canary());
        argv
    }

    /// The request `dindbox run` makes of those very arguments (with the
    /// same configuration files).
    pub fn request(&self, name: &str) -> Result<Request> {
        crate::request::request(&self.run_args(name))
    }

    /// `argv` as the command line parses it: `DINDBOX_IMAGE` stands in for
    /// the `--image` it does not give, and every other option is left unset.
    pub fn run_args(&self, name: &str) -> RunArgs {
        RunArgs {
            mode: Some(self.mode.name().to_string()),
            command: Some(self.canary()),
            name: Some(name.to_string()),
            engine: Some(self.engine.name().to_string()),
            inner: self.inner.map(|i| i.name().to_string()),
            image: std::env::var("DINDBOX_IMAGE").ok(),
            network: None,
            rm: true,
            privileged: false,
            host_root: false,
            inner_iptables: false,
            inner_timeout: None,
            dry_run: false,
            json: false,
            recreate: false,
            profile: None,
            env: Vec::new(),
            env_file: Vec::new(),
            volume: Vec::new(),
            publish: Vec::new(),
            cpus: None,
            memory: None,
            pids_limit: None,
            workspace: None,
            container_path: None,
            runtime: self.runtime.clone(),
            systemd: false,
            yolo: None,
        }
    }

    /// `dindbox run ...`, quoted for a shell.
    pub fn command_line(&self, name: &str) -> String {
        let mut argv = vec!["dindbox".to_string()];
        argv.extend(self.argv(name));
        crate::process::quote_argv(&argv)
    }
}

/// The runtimes beyond runc and crun that `engine` can start sandboxes
/// with: those registered with Docker, and for Podman those of its own
/// table (gVisor, Kata) found on PATH.
fn extra_runtimes(host: &HostFacts, engine: &EngineFacts) -> Vec<String> {
    let stronger = |name: &str| {
        !matches!(Family::of(name), Family::Runc | Family::Crun)
            && !name.starts_with("io.containerd.runtime.v1")
    };
    match engine.kind {
        EngineKind::Docker => engine
            .runtimes
            .iter()
            .filter(|r| stronger(r))
            .cloned()
            .collect(),
        EngineKind::Podman => host
            .oci_runtimes
            .iter()
            .filter_map(|rt| match Family::of(&rt.name) {
                Family::Gvisor => Some("runsc".to_string()),
                Family::Kata => Some("kata".to_string()),
                _ => None,
            })
            .collect(),
    }
}

/// What the planner says of one combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prediction {
    pub works: bool,
    /// The exit status `dindbox run` would end with when it refuses (0 when it plans).
    pub exit: i32,
    /// Why not: the refusal's message.
    pub why: Option<String>,
    pub causes: Vec<String>,
    /// What would fix it: the refusal's hints.
    pub fix: Vec<String>,
    /// The plan's notes (trade-offs, what it cannot promise).
    pub notes: Vec<String>,
}

impl Prediction {
    pub fn of(result: Result<Plan>) -> Self {
        match result {
            Ok(plan) => Prediction {
                works: true,
                exit: 0,
                why: None,
                causes: Vec::new(),
                fix: Vec::new(),
                notes: plan.notes,
            },
            Err(e) => Prediction {
                works: false,
                exit: e.code,
                why: Some(e.message),
                causes: e.causes,
                fix: e.hints,
                notes: Vec::new(),
            },
        }
    }
}

/// Predict one combination: exactly what `dindbox run` would plan or refuse.
pub fn predict(req: &Request, host: &HostFacts, image: &ImageFacts) -> Prediction {
    Prediction::of(plan::make(req, host, image))
}

/// One row of the matrix: the combination, how to try it, the prediction,
/// and with `--check` what really happened.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub combo: Combo,
    /// The sandbox's name in `command` (and in the check, which runs it).
    pub name: String,
    pub command: String,
    pub predicted: Prediction,
    pub checked: Option<Measured>,
}

impl Row {
    /// Whether the row works: measured when it was checked, else predicted.
    pub fn works(&self) -> bool {
        self.checked
            .as_ref()
            .map_or(self.predicted.works, |m| m.works)
    }
}

/// The rows for `host`, each predicted with the facts of its sandbox image
/// on its engine.
pub fn rows(
    host: &HostFacts,
    image: impl Fn(EngineKind, &str) -> Result<ImageFacts>,
    name: impl Fn(&Combo) -> String,
) -> Vec<Row> {
    Combo::all(host)
        .into_iter()
        .map(|combo| {
            let name = name(&combo);
            let predicted = match combo
                .request(&name)
                .and_then(|req| Ok((image(combo.engine, &req.image)?, req)))
            {
                Ok((image, req)) => predict(&req, host, &image),
                Err(e) => Prediction::of(Err(e)),
            };
            Row {
                command: combo.command_line(&name),
                name,
                combo,
                predicted,
                checked: None,
            }
        })
        .collect()
}
