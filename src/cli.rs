//! The command line, parsed into plain values. Decisions are made later, in `commands/`.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dindbox",
    version,
    about = "Sandboxes that can run containers, on whatever Docker or Podman host you have",
    after_help = "Exit status: the command's own status when one ran; 2 bad input; 3 the host cannot do what was asked; 121 the inner engine did not start; 125 dindbox or the engine failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a sandbox and run a command (or a shell) in it.
    Run(RunArgs),
    /// Print the exact engine command and inner set-up for a sandbox, with the reason for each flag. Starts nothing.
    Plan(RunArgs),
    /// What this host is and allows (engines, cgroups, capabilities, devices, security modules), and which sandboxes work on it.
    Doctor(DoctorArgs),
    /// Run a command (or a shell) in a running sandbox.
    Exec(ExecArgs),
    /// List dindbox's sandboxes (found by their label, on every engine).
    #[command(visible_alias = "ps")]
    Ls(LsArgs),
    /// Start stopped sandboxes, and wait until their inner engine answers.
    Start(SandboxesArgs),
    /// Stop sandboxes (their inner engine shuts down cleanly first).
    Stop(StopArgs),
    /// Remove sandboxes, with their inner storage.
    Rm(RmArgs),
    /// Show a sandbox's output, or its inner engine's log.
    Logs(LogsArgs),
    /// Remove stopped sandboxes and storage left without a sandbox (dindbox's only).
    Prune(PruneArgs),
    /// Build dindbox's images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// The resolved configuration, the engine command it makes, and the file format.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Turn another tool's configuration into dindbox profiles.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write what keeps a sandbox up across reboots (a systemd unit, or a Podman Quadlet file), runs it as a Kubernetes pod, or a dev container configuration of it.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Print the seccomp or AppArmor profile that confines dind sandboxes whose root is the host's.
    #[command(subcommand)]
    Confine(ConfineCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions(CompletionsArgs),
    /// Print the manual page dindbox(1) as roff, or write a page for every command to a directory.
    Man(ManArgs),
    /// The sandbox's init (PID 1 inside a sandbox); not for direct use.
    #[command(hide = true)]
    Init(InitArgs),
    /// Inside a kept sandbox: wait until it is ready, then run the command; not for direct use.
    #[command(hide = true)]
    Enter(EnterArgs),
    /// Inside a systemd sandbox: the unit that runs the inner engine; not for direct use.
    #[command(hide = true)]
    EngineUnit(EngineUnitArgs),
    /// Inside a sandbox: which host-wide kernel interfaces this process reaches; not for direct use.
    #[command(hide = true)]
    Reach(ReachArgs),
}

/// Which engine to look on, for commands that take sandbox names.
#[derive(Debug, Args, Clone)]
pub struct EngineArg {
    /// Host engine: docker or podman (default: every engine that answers).
    #[arg(long = "engine", env = "DINDBOX_ENGINE")]
    pub engine: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The sandbox.
    pub name: String,
    /// The command and its arguments; without one, an interactive shell.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArg,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArg,
}

#[derive(Debug, Args)]
pub struct SandboxesArgs {
    /// The sandboxes.
    #[arg(required = true)]
    pub names: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArg,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub sandboxes: SandboxesArgs,
    /// Seconds to wait for a clean stop before killing.
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u32,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[command(flatten)]
    pub sandboxes: SandboxesArgs,
    /// Keep the inner engine's storage volume (its images and containers).
    #[arg(long)]
    pub keep_storage: bool,
    /// Remove running sandboxes without a clean stop.
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The sandbox.
    pub name: String,
    /// The inner engine's log instead of the sandbox's output.
    #[arg(long)]
    pub inner: bool,
    /// Keep following the log.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines.
    #[arg(long)]
    pub tail: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArg,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only what was created longer ago than this (e.g. 30m, 24h, 7d).
    #[arg(long, value_name = "DURATION")]
    pub until: Option<String>,
    #[command(flatten)]
    pub engine: EngineArg,
}

#[derive(Debug, Args)]
pub struct EnterArgs {
    /// How long to wait for the sandbox to be ready, in milliseconds.
    #[arg(long)]
    pub timeout_ms: u64,
    /// The command; without one, a login shell.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct RunArgs {
    /// common (no engine inside, the default), sock (the host engine's socket), or dind (an engine of its own).
    #[arg(short = 'm', long = "mode")]
    pub mode: Option<String>,
    /// Shell command line to run; without it, an interactive shell.
    #[arg(short = 'x', long = "exec")]
    pub command: Option<String>,
    /// Name of the sandbox (default: dindbox-MODE-DATE-TIME-RANDOM).
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// Host engine: docker or podman (default: the one that answers, Podman first).
    #[arg(long = "engine", env = "DINDBOX_ENGINE")]
    pub engine: Option<String>,
    /// Engine inside a dind sandbox: podman (the default) or docker.
    #[arg(long = "inner")]
    pub inner: Option<String>,
    /// Sandbox image (default: the one `dindbox image build` makes).
    #[arg(long = "image", env = "DINDBOX_IMAGE")]
    pub image: Option<String>,
    /// The sandbox's network, as the engine names it (bridge, slirp4netns, none, host, or a network's name).
    #[arg(long = "network")]
    pub network: Option<String>,
    /// Remove the sandbox and its storage when the command ends.
    #[arg(long = "rm")]
    pub rm: bool,
    /// Give the sandbox every privilege the host has (not needed for dind).
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Let the sandbox's root be the host's root, as engines do by default,
    /// instead of a user namespace of the sandbox's own.
    #[arg(long = "host-root")]
    pub host_root: bool,
    /// Let an inner dockerd manage iptables itself (networks inside the sandbox
    /// firewalled from one another, as on a host; a slower start).
    #[arg(long = "inner-iptables")]
    pub inner_iptables: bool,
    /// Seconds the inner engine may take to answer (default 60).
    #[arg(long = "inner-timeout")]
    pub inner_timeout: Option<u64>,
    /// Print the plan and start nothing (as `dindbox plan`).
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Print the plan as JSON (with --dry-run or `plan`).
    #[arg(long = "json")]
    pub json: bool,
    /// Replace an existing sandbox of this name made with other settings.
    #[arg(long = "recreate")]
    pub recreate: bool,
    /// Configuration profile: NAME (CONFIGDIR/profiles/NAME.toml or .json) or a file's path.
    #[arg(short = 'r', long = "profile")]
    pub profile: Option<String>,
    /// Environment variable for the sandbox, KEY=VALUE, or KEY for this environment's value (repeatable).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Env file of KEY=VALUE lines: a path with a `/`, or NAME for CONFIGDIR/env/NAME.env (repeatable).
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Bind mount HOSTPATH:CONTAINERPATH[:OPTIONS] (repeatable).
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Publish a port, [IP:]HOSTPORT:CONTAINERPORT[/PROTOCOL] (repeatable).
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// CPUs the sandbox may use (e.g. 1.5).
    #[arg(long = "cpus")]
    pub cpus: Option<String>,
    /// Memory limit (e.g. 512m, 2g).
    #[arg(long = "memory")]
    pub memory: Option<String>,
    /// Most processes the sandbox may have at once.
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<String>,
    /// Host directory mounted as the workspace (default: the current directory).
    #[arg(long = "workspace")]
    pub workspace: Option<String>,
    /// Where the workspace is mounted inside (default: the same path as on the host).
    #[arg(long = "container-path")]
    pub container_path: Option<String>,
    /// OCI runtime for the sandbox (e.g. runc, crun, runsc).
    #[arg(long = "runtime")]
    pub runtime: Option<String>,
    /// Boot systemd as the sandbox's PID 1, with the inner engine as a unit (dind; image: `dindbox image build --systemd`).
    #[arg(long = "systemd")]
    pub systemd: bool,
    /// Agent preset as the command: c|claude, gm|gemini, cx|codex, oc|opencode.
    #[arg(short = 'y', long = "yolo")]
    pub yolo: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the facts and the matrix as JSON.
    #[arg(long)]
    pub json: bool,
    /// Start every combination's canary for real and report what happened.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the sandbox image and the canary image into the host engines.
    Build(ImageBuildArgs),
}

#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// Build with no registry: bootstrap Debian from the host's apt mirror.
    #[arg(long)]
    pub offline: bool,
    /// Build into this engine only (default: every engine that answers).
    #[arg(long, env = "DINDBOX_ENGINE")]
    pub engine: Option<String>,
    /// Build even when an image of the same recipe exists.
    #[arg(long)]
    pub force: bool,
    /// Also build the image for `--systemd` (the sandbox image with systemd).
    #[arg(long)]
    pub systemd: bool,
}

#[derive(Debug, Args)]
pub struct EngineUnitArgs {
    /// The file the init wrote the inner set-up to.
    #[arg(long)]
    pub spec: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ReachArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The inner set-up, as JSON (written by the plan).
    #[arg(long)]
    pub spec: String,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every resolved value and where it came from (file:line, flag, default); env values masked.
    Show(RunArgs),
    /// The engine command a run with these flags would execute (no secrets in it).
    Command(RunArgs),
    /// A JSON Schema of the configuration file format.
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A systemd unit that starts and stops a kept sandbox through dindbox (dindbox-NAME.service); with --quadlet, a Podman Quadlet file (dindbox-NAME.container) of a sandbox planned from the options given, as `dindbox plan` plans it.
    Systemd(ExportSystemdArgs),
    /// A Kubernetes Pod (or, with --deployment, a Deployment) of a sandbox planned from the options given, as `dindbox plan` plans it (dindbox-NAME.yaml); also played by `podman kube play`.
    Kube(ExportKubeArgs),
    /// A dev container configuration (.devcontainer/devcontainer.json and the Dockerfile it builds) of a kept sandbox planned from the options given, as `dindbox plan` plans it, for `devcontainer up --workspace-folder DIR`.
    Devcontainer(ExportDevcontainerArgs),
}

#[derive(Debug, Args)]
pub struct ExportKubeArgs {
    /// The name the sandbox gets (its pod is dindbox-NAME).
    #[arg(value_name = "NAME")]
    pub sandbox: String,
    /// A Deployment of one replica instead of a bare Pod.
    #[arg(long)]
    pub deployment: bool,
    /// Keep the inner storage on this PersistentVolumeClaim (which must exist) instead of an emptyDir, which goes with the pod.
    #[arg(long, value_name = "CLAIM")]
    pub pvc: Option<String>,
    /// Write the manifest to DIR (made if missing) instead of printing it; with an environment, its Secret too, as dindbox-NAME-secret.yaml (mode 0600); and the limits and runtime a pod has no field for, as dindbox-NAME-containers.conf for `podman kube play` on this host.
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    #[command(flatten, next_help_heading = "Sandbox options (as for `dindbox plan`)")]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct ExportDevcontainerArgs {
    /// Write DIR/.devcontainer/devcontainer.json and DIR/.devcontainer/Dockerfile (DIR made if missing).
    #[arg(long, value_name = "DIR", required = true)]
    pub output: std::path::PathBuf,
    #[command(flatten, next_help_heading = "Sandbox options (as for `dindbox plan`)")]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct ExportSystemdArgs {
    /// The sandbox: a kept one (made by `dindbox run -n NAME` without --rm); with --quadlet, the name Quadlet's sandbox gets.
    #[arg(value_name = "NAME")]
    pub sandbox: String,
    /// A Podman Quadlet `.container` file, planned from the sandbox options that follow, instead of a unit that runs dindbox.
    #[arg(long)]
    pub quadlet: bool,
    /// Write the file to DIR (made if missing) instead of printing it; with --quadlet, the sandbox's environment too, as dindbox-NAME.env (mode 0600).
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    #[command(
        flatten,
        next_help_heading = "Sandbox options (with --quadlet, as for `dindbox plan`; without, only --engine)"
    )]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfineCommand {
    /// The AppArmor profile, for `apparmor_parser -r` (dindbox loads it itself when run as root).
    Apparmor,
    /// The seccomp profile, in the JSON both engines read.
    Seccomp,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write dindbox.1 and one page per command (dindbox-run.1, dindbox-image-build.1, ...) to DIR instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// ~/.manyoyo/manyoyo.json (its `runs` and top-level keys) and ~/.manyoyo/run/*.json.
    Manyoyo(ImportArgs),
    /// A dev container configuration (devcontainer.json: image, mounts, environment, runArgs, the docker-in-docker and docker-outside-of-docker features) as a profile.
    Devcontainer(ImportDevcontainerArgs),
}

#[derive(Debug, Args)]
pub struct ImportDevcontainerArgs {
    /// The devcontainer.json, or a folder with .devcontainer/devcontainer.json or .devcontainer.json (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
    /// The profile's name (default: the configuration's `name`, else its folder's).
    #[arg(short = 'r', long = "profile", value_name = "NAME")]
    pub profile: Option<String>,
    /// Replace the profile if it exists already.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Replace profiles that exist already.
    #[arg(long)]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command's path from the top (`["image", "build"]`), hidden ones too.
    fn paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        out.push(prefix.to_vec());
        for sub in cmd.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            paths(sub, &path, out);
        }
    }

    /// `dindbox … --help` as a user sees it, for every subcommand.
    #[test]
    fn help_of_every_subcommand() {
        let mut all = Vec::new();
        paths(&super::Cli::command(), &[], &mut all);
        for path in all {
            let mut argv = vec!["dindbox".to_string()];
            argv.extend(path.iter().cloned());
            argv.push("--help".into());
            let err = super::Cli::command()
                .try_get_matches_from(&argv)
                .expect_err("--help ends the parse");
            assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
            let name = if path.is_empty() {
                "help".to_string()
            } else {
                format!("help-{}", path.join("-"))
            };
            insta::assert_snapshot!(name, err.render().to_string());
        }
    }
}
