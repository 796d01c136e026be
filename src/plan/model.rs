//! What planning takes and gives: the request, the image's facts, and the
//! plan (the spec, the init's spec, and what runs beside the sandbox).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::inner::InnerSpec;
use super::resources;
use crate::engine::EngineKind;
use crate::error::{Error, Result, suggest};
use crate::render::Arg;
use crate::spec::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Common,
    Sock,
    Dind,
}

impl Mode {
    /// As clap names it (a test holds the two together).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Common => "common",
            Mode::Sock => "sock",
            Mode::Dind => "dind",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        parse_value("mode", s)
    }
}

/// Parse a value of `T` by its name; an unknown one is a usage error with the
/// nearest name and every valid one.
pub fn parse_value<T: clap::ValueEnum>(what: &str, s: &str) -> Result<T> {
    T::from_str(s, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        unknown_value(what, s, &names)
    })
}

/// Parse an engine name given on the command line.
pub fn parse_engine(what: &str, s: &str) -> Result<EngineKind> {
    EngineKind::parse(s)
        .ok_or_else(|| unknown_value(what, s, &EngineKind::ALL.map(EngineKind::name)))
}

fn unknown_value(what: &str, value: &str, valid: &[&str]) -> Error {
    let mut e = Error::usage(format!("unknown {what} `{value}`"));
    if let Some(near) = suggest(value, valid) {
        e = e.hint(format!("did you mean `{near}`?"));
    }
    e.hint(format!("valid values: {}", valid.join(", ")))
}

/// What the user asked for, after the command line was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub mode: Mode,
    /// The host engine, when the user named one.
    pub engine: Option<EngineKind>,
    /// The engine inside a dind sandbox.
    pub inner: EngineKind,
    pub image: String,
    pub name: String,
    /// The user named the sandbox (`-n`).
    pub named: bool,
    /// A shell command line (`-x`); None for an interactive shell.
    pub command: Option<String>,
    /// Host directory mounted at the same path and used as the working directory.
    pub workspace: PathBuf,
    pub rm: bool,
    /// stdin and stdout are a terminal.
    pub tty: bool,
    /// The user asked for --privileged.
    pub privileged: bool,
    /// The user asked for the host's root as the sandbox's root (--host-root).
    pub host_root: bool,
    /// The dindbox binary on the host, mounted in as the sandbox's init.
    pub init_binary: PathBuf,
    /// Image tarballs on the host to load into a dind sandbox's inner engine.
    pub preload: Vec<PathBuf>,
    /// How long the inner engine may take to answer.
    pub ready_timeout_ms: u64,
    /// Let an inner dockerd manage iptables itself (`--inner-iptables`).
    pub engine_firewall: bool,
    /// Trace the init's phases too (DINDBOX_TRACE).
    pub trace: bool,
    /// The network the user asked for; None lets the plan choose.
    pub network: Option<String>,
    /// Environment for the sandbox; passed through `env_file`, never on a command line.
    pub env: Vec<resources::EnvVar>,
    /// Where `run` writes the environment (mode 0600, removed when the run ends).
    pub env_file: PathBuf,
    /// Bind mounts (`-v`, volumes).
    pub volumes: Vec<resources::Volume>,
    /// Published ports (`-p`, ports), checked.
    pub ports: Vec<String>,
    /// CPU, memory and process limits.
    pub resources: resources::Resources,
    /// Where the workspace is mounted inside (`--container-path`; by default its host path).
    pub container_workspace: PathBuf,
    /// OCI runtime for the sandbox (`--runtime`).
    pub runtime: Option<String>,
    /// Boot systemd as the sandbox's PID 1, the inner engine a unit of it (`--systemd`).
    pub systemd: bool,
    /// Where dindbox keeps the confinement profiles it writes for the engine to read.
    pub profiles_dir: PathBuf,
    /// The workspace is a git worktree of a repository outside it.
    pub git_worktree: Option<crate::probe::git::Worktree>,
}

impl Request {
    /// A throw-away sandbox of `mode` with every other option at its default,
    /// for callers that fill in only what they need (image builds, tests).
    pub fn new(
        mode: Mode,
        image: &str,
        name: &str,
        workspace: PathBuf,
        init_binary: PathBuf,
    ) -> Self {
        Request {
            mode,
            engine: None,
            inner: EngineKind::Podman,
            image: image.to_string(),
            name: name.to_string(),
            named: false,
            command: None,
            container_workspace: workspace.clone(),
            workspace,
            rm: true,
            tty: false,
            privileged: false,
            host_root: false,
            init_binary,
            preload: Vec::new(),
            ready_timeout_ms: 60_000,
            engine_firewall: false,
            trace: false,
            network: None,
            env: Vec::new(),
            env_file: PathBuf::new(),
            volumes: Vec::new(),
            ports: Vec::new(),
            resources: Default::default(),
            runtime: None,
            systemd: false,
            profiles_dir: crate::paths::profiles_dir(),
            git_worktree: None,
        }
    }
}

pub use crate::probe::facts::ImageFacts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub mode: Mode,
    pub engine: EngineKind,
    pub engine_binary: String,
    pub name: String,
    /// What the sandbox is, item by item; `command()` spells it for the engine.
    pub spec: Spec,
    pub image: String,
    /// What the sandbox's init does before the command.
    pub inner: InnerSpec,
    /// Volumes this sandbox owns, removed with it.
    pub volumes: Vec<String>,
    /// Things the user should know about this plan (trade-offs, step-downs).
    pub notes: Vec<String>,
    pub rm: bool,
    /// A host process that lives as long as the sandbox (Podman's API service).
    pub service: Option<HostService>,
    /// Labels that say what the sandbox was made from (see `identity`).
    pub identity: std::collections::BTreeMap<String, String>,
    /// A kept sandbox: the arguments of `ENGINE exec` that run the command in
    /// it; None for a throw-away sandbox, whose init runs the command itself.
    pub exec: Option<Vec<String>>,
    /// The sandbox's environment (values masked when shown), written to `env_file` at run time.
    pub env: Vec<resources::EnvVar>,
    pub env_file: Option<PathBuf>,
    /// The image to make before the sandbox starts (`image` is its tag): a
    /// copy of the requested one with owners shifted into the user namespace.
    pub shift: Option<crate::spec::images::ShiftedImage>,
}

/// A process dindbox starts on the host before the sandbox and stops after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostService {
    pub argv: Vec<String>,
    /// The socket it serves; the sandbox starts once this answers.
    pub socket: String,
    /// The sandbox's own directory for it (socket, log, configuration),
    /// private to its owner; removed with the service.
    pub dir: String,
    /// A configuration file written for it, and the variable that names it.
    pub config: Option<ServiceConfig>,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub env: String,
    pub content: String,
}

/// A plan as `plan --json` shows it: the spec, and the command it is spelled as.
#[derive(Serialize)]
struct Shown<'a> {
    mode: Mode,
    engine: EngineKind,
    engine_binary: &'a str,
    name: &'a str,
    /// Flags before the `run` subcommand (podman's `--runtime`).
    global: Vec<Arg>,
    /// Flags of `run`, before the image.
    run: Vec<Arg>,
    image: &'a str,
    inner: &'a InnerSpec,
    volumes: &'a [String],
    notes: &'a [String],
    rm: bool,
    service: &'a Option<HostService>,
    identity: &'a std::collections::BTreeMap<String, String>,
    exec: &'a Option<Vec<String>>,
    env: &'a [resources::EnvVar],
    env_file: &'a Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shift: &'a Option<crate::spec::images::ShiftedImage>,
    spec: &'a Spec,
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let command = self.command();
        Shown {
            mode: self.mode,
            engine: self.engine,
            engine_binary: &self.engine_binary,
            name: &self.name,
            global: command.global,
            run: command.run,
            image: &self.image,
            inner: &self.inner,
            volumes: &self.volumes,
            notes: &self.notes,
            rm: self.rm,
            service: &self.service,
            identity: &self.identity,
            exec: &self.exec,
            env: &self.env,
            env_file: &self.env_file,
            shift: &self.shift,
            spec: &self.spec,
        }
        .serialize(s)
    }
}

impl Plan {
    /// The spec, spelled as the engine's flags, each group with its reason.
    pub fn command(&self) -> crate::render::Command {
        crate::render::command(self.engine, &self.name, &self.spec)
    }

    /// The whole engine command line.
    pub fn argv(&self) -> Vec<String> {
        let command = self.command();
        let mut argv = vec![self.engine_binary.clone()];
        argv.extend(command.global.iter().flat_map(|a| a.args.iter().cloned()));
        argv.push("run".into());
        argv.extend(command.run.iter().flat_map(|a| a.args.iter().cloned()));
        argv.push(self.image.clone());
        argv.extend(self.init_args());
        argv
    }

    /// The engine's global flags every later command on this sandbox needs
    /// (Podman's `--runtime`).
    pub fn global_args(&self) -> Vec<String> {
        self.command()
            .global
            .iter()
            .flat_map(|a| a.args.iter().cloned())
            .collect()
    }

    /// The whole `ENGINE exec` command line of a kept sandbox.
    pub fn exec_argv(&self) -> Option<Vec<String>> {
        let exec = self.exec.as_ref()?;
        let mut argv = vec![self.engine_binary.clone()];
        argv.extend(self.global_args());
        argv.extend(exec.iter().cloned());
        Some(argv)
    }

    /// The arguments after the image: the init role and its spec.
    pub fn init_args(&self) -> Vec<String> {
        vec!["init".into(), "--spec".into(), self.inner.to_json()]
    }

    /// How long `enter` waits for a kept sandbox's init, in milliseconds,
    /// as its `exec` says.
    pub fn enter_timeout_ms(&self) -> u64 {
        self.exec
            .iter()
            .flat_map(|e| e.windows(2))
            .find(|w| w[0] == "--timeout-ms")
            .and_then(|w| w[1].parse().ok())
            .unwrap_or(60_000)
    }

    /// The kept sandbox as a dev container: its init's arguments `exec`,
    /// its environment's names and the user's env files.
    pub fn devcontainer<'a>(
        &'a self,
        exec: &'a [String],
        env_names: &'a [String],
        env_files: &'a [PathBuf],
    ) -> crate::render::devcontainer::DevContainer<'a> {
        crate::render::devcontainer::DevContainer {
            name: &self.name,
            mode: self.mode.name(),
            engine: self.engine,
            image: &self.image,
            spec: &self.spec,
            exec,
            ready_timeout_ms: self.enter_timeout_ms(),
            env_names,
            env_files,
        }
    }
}
