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
    /// Build dindbox's images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// The sandbox's init (PID 1 inside a sandbox); not for direct use.
    #[command(hide = true)]
    Init(InitArgs),
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// common (no engine inside), sock (the host engine's socket), or dind (an engine of its own).
    #[arg(short = 'm', long = "mode", default_value = "common")]
    pub mode: String,
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
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The inner set-up, as JSON (written by the plan).
    #[arg(long)]
    pub spec: String,
}
