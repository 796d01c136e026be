//! The plan: request + host facts → the exact engine command, the inner
//! set-up, and the reason for every flag; or a refusal that says what would
//! make it work. Pure: nothing here touches the host.

pub mod attach;
pub mod common;
pub mod dind;
pub mod identity;
pub mod inner;
pub mod memory;
pub mod outer;
pub mod privileged;
pub mod remote;
pub mod render;
pub mod resources;
pub mod rootless;
pub mod runtime;
pub mod sock;
pub mod stepdown;
pub mod systemd;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;
use crate::error::{Error, Result, suggest};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};
use inner::{CgroupSetup, INIT_PATH, InnerSpec, Ulimits};

/// Label keys dindbox puts on what it creates.
pub mod labels {
    pub const MANAGED: &str = "io.dindbox.managed";
    pub const MODE: &str = "io.dindbox.mode";
    pub const INNER: &str = "io.dindbox.inner";
    pub const SANDBOX: &str = "io.dindbox.sandbox";
    /// On images: which inner engines the image carries ("podman,docker").
    pub const ENGINES: &str = "io.dindbox.engines";
    /// On images: digest of the recipe the image was built from.
    pub const RECIPE: &str = "io.dindbox.recipe";
    /// On sandboxes: what they were made from (compared when `run` attaches).
    pub const IMAGE: &str = "io.dindbox.image";
    pub const MOUNTS: &str = "io.dindbox.mounts";
    pub const PORTS: &str = "io.dindbox.ports";
    pub const ENV: &str = "io.dindbox.env";
    pub const RUNTIME: &str = "io.dindbox.runtime";
    /// On sandboxes: the workspace, where commands run.
    pub const WORKDIR: &str = "io.dindbox.workdir";
    /// On sandboxes: how long `enter` waits for the inner engine, in ms.
    pub const TIMEOUT: &str = "io.dindbox.timeout-ms";
    /// On kept sock sandboxes: the Podman API service dindbox serves for it (JSON).
    pub const SERVICE: &str = "io.dindbox.service";
    /// On images: the image boots systemd and was made for `--systemd`.
    /// On sandboxes: the sandbox booted systemd.
    pub const SYSTEMD: &str = "io.dindbox.systemd";
}

/// The limit engines ask for by default, above many hosts' hard limits.
pub const ENGINE_DEFAULT_NOFILE: u64 = 1_048_576;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Common,
    Sock,
    Dind,
}

impl Mode {
    pub const NAMES: [&'static str; 3] = ["common", "sock", "dind"];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Common => "common",
            Mode::Sock => "sock",
            Mode::Dind => "dind",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "common" => Ok(Mode::Common),
            "sock" => Ok(Mode::Sock),
            "dind" => Ok(Mode::Dind),
            other => Err(unknown_value("mode", other, &Mode::NAMES)),
        }
    }
}

/// Parse an engine name given on the command line.
pub fn parse_engine(what: &str, s: &str) -> Result<EngineKind> {
    EngineKind::parse(s).ok_or_else(|| unknown_value(what, s, &["podman", "docker"]))
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
}

/// What is known of the sandbox image before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageFacts {
    pub exists: bool,
    /// From the image's label; None for an image dindbox did not build.
    pub engines: Option<Vec<EngineKind>>,
    /// The image carries the label of images made for `--systemd`.
    #[serde(default)]
    pub systemd: bool,
}

/// One or more engine arguments and why they are there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    pub args: Vec<String>,
    pub why: String,
}

impl Arg {
    pub fn new<S: Into<String>>(args: impl IntoIterator<Item = S>, why: impl Into<String>) -> Self {
        Arg {
            args: args.into_iter().map(Into::into).collect(),
            why: why.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub mode: Mode,
    pub engine: EngineKind,
    pub engine_binary: String,
    pub name: String,
    /// Flags before the `run` subcommand (podman's `--runtime`).
    pub global: Vec<Arg>,
    /// Flags of `run`, before the image.
    pub run: Vec<Arg>,
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

impl Plan {
    /// The whole engine command line.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = vec![self.engine_binary.clone()];
        argv.extend(self.global.iter().flat_map(|a| a.args.iter().cloned()));
        argv.push("run".into());
        argv.extend(self.run.iter().flat_map(|a| a.args.iter().cloned()));
        argv.push(self.image.clone());
        argv.extend(self.init_args());
        argv
    }

    /// The engine's global flags every later command on this sandbox needs
    /// (Podman's `--runtime`).
    pub fn global_args(&self) -> Vec<String> {
        self.global
            .iter()
            .flat_map(|a| a.args.iter().cloned())
            .collect()
    }

    /// The whole `ENGINE exec` command line of a kept sandbox.
    pub fn exec_argv(&self) -> Option<Vec<String>> {
        let exec = self.exec.as_ref()?;
        let mut argv = vec![self.engine_binary.clone()];
        argv.extend(self.global.iter().flat_map(|a| a.args.iter().cloned()));
        argv.extend(exec.iter().cloned());
        Some(argv)
    }

    /// The arguments after the image: the init role and its spec.
    pub fn init_args(&self) -> Vec<String> {
        vec!["init".into(), "--spec".into(), self.inner.to_json()]
    }
}

/// Make the plan, or refuse with the reasons and what would fix them.
pub fn make(req: &Request, host: &HostFacts, image: &ImageFacts) -> Result<Plan> {
    check_workspace(&req.workspace)?;
    let engine = choose_engine(req, host)?;
    check_image(req, image)?;
    let view = remote::view(host, engine);
    let host = view.as_ref();
    runtime::check(req, host, engine)?;
    let mut plan = base(req, host, engine);
    if req.runtime.is_none() {
        outer_runtime(&mut plan, host, engine)?;
    }
    if req.privileged {
        privileged::apply(&mut plan, host, engine);
    }
    match req.mode {
        Mode::Common => common::apply(&mut plan, req, host, engine)?,
        Mode::Sock => sock::apply(&mut plan, req, host, engine)?,
        Mode::Dind => dind::apply(&mut plan, req, host, engine, image)?,
    }
    if req.systemd {
        systemd::apply(&mut plan, req, host, engine, image)?;
    }
    runtime::apply(&mut plan, req, host, engine);
    remote::notes(&mut plan, req, host, engine);
    label_identity(&mut plan, req);
    Ok(plan)
}

/// Put what defines the sandbox on it as labels, last, once every flag is known.
fn label_identity(plan: &mut Plan, req: &Request) {
    let inner = plan.inner.engine.as_ref().map(|e| e.kind.name());
    let env = identity::env_summary(&req.env);
    plan.identity = identity::labels(
        req.mode.name(),
        inner,
        &req.image,
        req.runtime.as_deref(),
        &plan.run,
        &env,
    );
    plan.identity.insert(
        labels::SYSTEMD.to_string(),
        if req.systemd { "true" } else { "" }.to_string(),
    );
    let mut args = Vec::new();
    for (key, value) in plan.identity.iter().filter(|(_, v)| !v.is_empty()) {
        args.extend(["--label".to_string(), format!("{key}={value}")]);
    }
    args.extend([
        "--label".to_string(),
        format!("{}={}", labels::WORKDIR, req.container_workspace.display()),
        "--label".to_string(),
        format!("{}={}", labels::TIMEOUT, req.ready_timeout_ms),
    ]);
    plan.run.push(Arg::new(
        args,
        "what the sandbox was made from: `run` compares it when it finds a sandbox of this name, `exec` finds the workspace and timeout there",
    ));
}

/// The host engine: the one asked for, or the one that answers (Podman first).
/// In sock mode the engine whose API socket answers.
pub fn choose_engine<'a>(req: &Request, host: &'a HostFacts) -> Result<&'a EngineFacts> {
    if let Some(kind) = req.engine {
        let Some(facts) = host.engine(kind) else {
            return Err(
                Error::failure(format!("{kind} is not installed on this host"))
                    .hint(install_hint(kind)),
            );
        };
        if !facts.answers {
            return Err(
                Error::failure(format!("{kind} does not answer on this host"))
                    .cause(facts.error.clone().unwrap_or_default())
                    .hint(start_hint(kind)),
            );
        }
        return Ok(facts);
    }
    let answering: Vec<&EngineFacts> = EngineKind::ALL
        .iter()
        .filter_map(|k| host.engine(*k))
        .filter(|e| e.answers)
        .collect();
    if req.mode == Mode::Sock
        && let Some(e) = answering.iter().find(|e| e.live_socket().is_some())
    {
        return Ok(e);
    }
    answering.first().copied().ok_or_else(|| none_answers(host))
}

/// No engine answers: what each said, and how to get one.
pub fn none_answers(host: &HostFacts) -> Error {
    let mut err = Error::failure("no container engine answers on this host");
    for e in &host.engines {
        err = err.cause(format!(
            "{}: {}",
            e.kind,
            e.error.clone().unwrap_or_else(|| "no answer".into())
        ));
    }
    if host.engines.is_empty() {
        err = err.cause("neither `podman` nor `docker` is on PATH");
    }
    err.hint(install_hint(EngineKind::Podman))
        .hint(install_hint(EngineKind::Docker))
        .hint(start_hint(EngineKind::Docker))
}

pub fn install_hint(kind: EngineKind) -> String {
    match kind {
        EngineKind::Podman => "install Podman: `apt-get install podman` (Debian/Ubuntu) or `dnf install podman` (Fedora)".into(),
        EngineKind::Docker => "install Docker: `apt-get install docker.io` (Debian/Ubuntu) or Docker Engine from docs.docker.com".into(),
    }
}

pub fn start_hint(kind: EngineKind) -> String {
    match kind {
        EngineKind::Docker => "start Docker: `systemctl start docker`, or `dockerd >/var/log/dockerd.log 2>&1 &` where there is no systemd".into(),
        EngineKind::Podman => "check Podman with `podman info`; a rootless user needs an /etc/subuid range (`usermod --add-subuids 100000-165535 USER`)".into(),
    }
}

fn check_image(req: &Request, image: &ImageFacts) -> Result<()> {
    if image.exists {
        return Ok(());
    }
    let build = if req.systemd {
        "build the default images with `dindbox image build --systemd`"
    } else {
        "build the default images with `dindbox image build`"
    };
    Err(
        Error::usage(format!("image `{}` is not on this host", req.image))
            .hint(build)
            .hint("or name an image this engine has with `--image`"),
    )
}

/// The flags every sandbox gets, whatever its mode.
fn base(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Plan {
    let mut run = vec![Arg::new(["--name", &req.name], "the sandbox's name")];
    if req.rm {
        run.push(Arg::new(
            ["--rm"],
            "throw-away sandbox: removed with its storage when the command ends",
        ));
    }
    run.push(if !req.rm {
        Arg::new(
            ["-d"],
            "kept sandbox: it runs in the background, and commands run in it through `exec` (this one and later ones)",
        )
    } else if req.tty {
        Arg::new(["-i", "-t"], "stdin and stdout are a terminal")
    } else {
        Arg::new(["-i"], "pass stdin through; no terminal")
    });
    run.push(Arg::new(
        [
            "--label".to_string(),
            format!("{}=true", labels::MANAGED),
            "--label".to_string(),
            format!("{}={}", labels::SANDBOX, req.name),
        ],
        "marks the sandbox as dindbox's, so listing and cleaning up never touch other containers",
    ));
    run.push(Arg::new(
        ["--hostname", &hostname(&req.name)],
        "the sandbox's name, as a host name",
    ));
    run.push(Arg::new(
        [
            "-v".to_string(),
            format!("{}:{INIT_PATH}:ro", req.init_binary.display()),
            "--entrypoint".to_string(),
            INIT_PATH.to_string(),
        ],
        "dindbox itself is the sandbox's init: it reaps zombies, sets up and waits for the inner engine, and passes the command's exit status on",
    ));
    let ws = req.workspace.display().to_string();
    let inside = req.container_workspace.display().to_string();
    run.push(if ws == inside {
        Arg::new(
            ["-v".to_string(), format!("{ws}:{ws}"), "-w".to_string(), ws.clone()],
            "the workspace, at the same absolute path inside as outside (so bind mounts given to an engine from inside name real host paths)",
        )
    } else {
        Arg::new(
            ["-v".to_string(), format!("{ws}:{inside}"), "-w".to_string(), inside.clone()],
            "the workspace, at the path asked for (containerPath, --container-path); paths given to an engine from inside differ from the host's",
        )
    });
    run.extend(resources::args(req));
    if let Some(ul) = ulimits(host) {
        run.push(Arg::new(
            [
                "--ulimit".to_string(),
                format!("nofile={0}:{0}", ul.nofile),
                "--ulimit".to_string(),
                format!("nproc={0}:{0}", ul.nproc),
            ],
            format!(
                "the host's hard limits are nofile={} nproc={}; engines ask for {ENGINE_DEFAULT_NOFILE} by default and setrlimit would fail",
                ul.nofile, ul.nproc
            ),
        ));
    }
    if host.security.selinux != crate::probe::facts::SelinuxMode::Absent
        && host.security.selinux != crate::probe::facts::SelinuxMode::Disabled
    {
        run.push(Arg::new(
            ["--security-opt", "label=disable"],
            "SELinux is on: the workspace and sockets are bind-mounted without relabelling them",
        ));
    }
    run.extend(network(req, host, engine));
    if req.trace {
        run.push(Arg::new(
            ["-e".to_string(), format!("{}=1", crate::trace::ENV)],
            "DINDBOX_TRACE is set: the init prints how long each phase took",
        ));
    }
    let command = match &req.command {
        Some(c) => vec!["/bin/sh".to_string(), "-c".to_string(), c.clone()],
        None => Vec::new(),
    };
    let inside = req.container_workspace.display().to_string();
    let exec = (!req.rm)
        .then(|| attach::exec_args(&req.name, &inside, req.tty, req.ready_timeout_ms, &command));
    Plan {
        mode: req.mode,
        engine: engine.kind,
        engine_binary: engine.binary.clone(),
        name: req.name.clone(),
        global: Vec::new(),
        run,
        image: req.image.clone(),
        inner: InnerSpec {
            cgroup: CgroupSetup::Leave,
            net_sysctls: false,
            engine: None,
            command: if req.rm { command } else { Vec::new() },
            graceful_stop: !req.rm,
            serve: !req.rm,
            socket_link: None,
            systemd: false,
        },
        volumes: Vec::new(),
        notes: Vec::new(),
        rm: req.rm,
        service: None,
        identity: Default::default(),
        exec,
        env: req.env.clone(),
        env_file: (!req.env.is_empty()).then(|| req.env_file.clone()),
    }
}

/// Podman's default runtime crun refuses hybrid cgroup hosts: runc there,
/// for every container Podman starts on this host (sandboxes and builds alike).
pub fn runtime_override(host: &HostFacts, engine: &EngineFacts) -> Result<Option<Arg>> {
    let uses_crun = engine.default_runtime.as_deref() == Some("crun");
    if engine.kind != EngineKind::Podman || host.cgroup.layout != CgroupLayout::Hybrid || !uses_crun
    {
        return Ok(None);
    }
    if host.runtime("runc").is_none() {
        return Err(Error::refused("Podman's runtime crun does not support this host's hybrid cgroups, and runc is not installed")
            .hint("install runc: `apt-get install runc`")
            .hint("or boot the host with pure cgroup v2 (systemd.unified_cgroup_hierarchy=1)"));
    }
    Ok(Some(Arg::new(
        ["--runtime", "runc"],
        "crun refuses hybrid cgroup hosts (`cgroups in hybrid mode not supported`); runc runs there",
    )))
}

fn outer_runtime(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    plan.global.extend(runtime_override(host, engine)?);
    Ok(())
}

/// The sandbox's network: the user's choice; on rootful Podman slirp4netns,
/// which starts much faster than its bridge; else the engine's default.
fn network(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Option<Arg> {
    if let Some(net) = &req.network {
        return Some(Arg::new(["--network", net], "asked for with --network"));
    }
    if let Some(none) = rootless::network(host, engine) {
        return Some(none);
    }
    let slirp = host.network_helper("slirp4netns").is_some() && host.devices.net_tun.is_some();
    (engine.kind == EngineKind::Podman && !engine.rootless && slirp).then(|| {
        Arg::new(
            ["--network", "slirp4netns"],
            "outbound network in user space, as rootless Podman has it: Podman's bridge (netavark and its firewall rules) adds about 0.2 s to every start; `--network bridge` for the bridge",
        )
    })
}

/// Explicit limits when the host's hard limits are below what engines ask for.
/// nproc stays within kernel.pid_max too: Podman lowers its own limit to it,
/// and a container may not be given more than the engine has.
pub fn ulimits(host: &HostFacts) -> Option<Ulimits> {
    let nofile = host
        .limits
        .nofile_hard
        .filter(|n| *n < ENGINE_DEFAULT_NOFILE)?;
    let nproc = [
        host.limits.nproc_hard,
        host.limits.pid_max,
        Some(ENGINE_DEFAULT_NOFILE),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(nofile);
    Some(Ulimits { nofile, nproc })
}

/// A host name from a sandbox name (at most 63 characters of [a-z0-9-]).
fn hostname(name: &str) -> String {
    let h: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    h.trim_matches('-').to_string()
}

/// Directories that, mounted over the image's own, would break the sandbox.
const SYSTEM_DIRS: &[&str] = &[
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin",
    "/sys", "/usr", "/var", "/var/lib", "/var/run",
];

/// The workspace is mounted at its own path inside: it must not hide a
/// system directory of the image, and engines' `-v` cannot take a `:`.
pub fn check_workspace(path: &std::path::Path) -> Result<()> {
    let text = path.display().to_string();
    let under = |dir: &str| {
        text == dir
            || ["/proc/", "/sys/", "/dev/"]
                .iter()
                .any(|p| text.starts_with(p))
    };
    if SYSTEM_DIRS.iter().any(|d| under(d)) {
        return Err(Error::usage(format!(
            "the current directory {text} would be mounted over the sandbox's own {text}"
        ))
        .hint("run dindbox from a project directory (the workspace is the current directory)"));
    }
    if text.contains(':') {
        return Err(Error::usage(format!(
            "the current directory {text} has a `:`, which engines cannot mount"
        ))
        .hint("run dindbox from a directory whose path has no `:`"));
    }
    Ok(())
}

/// Check a user-given sandbox name the way engines do.
pub fn check_name(name: &str) -> Result<()> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_rest = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok_first && ok_rest && name.len() <= 128 {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid sandbox name `{name}`")).hint(
            "a name starts with a letter or digit and has only letters, digits, `_`, `.` and `-`",
        ))
    }
}

#[cfg(test)]
mod fixture_hosts;
#[cfg(test)]
mod snapshots;
#[cfg(test)]
pub mod tests;
