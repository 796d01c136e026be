//! The request: the command line and the configuration files turned into
//! plain values (`plan::Request`); every bad value is a usage error that
//! says where it came from.

use std::io::IsTerminal;

use crate::cli::RunArgs;
use crate::config::resolve::Resolved;
use crate::config::{self, Source, Sourced, specs};
use crate::error::{Error, Result};
use crate::plan::name::default_name;
use crate::plan::resources::{EnvVar, Resources, Secret};
use crate::plan::{self, Mode, Request};
use crate::{apply, image, trace};

/// Seconds the inner engine may take to answer, unless told otherwise.
const DEFAULT_INNER_TIMEOUT: u64 = 60;

/// Flags that mean nothing in this mode, or without another flag, are errors, not silence.
fn check_flags_fit(args: &RunArgs, mode: Mode) -> Result<()> {
    if args.rm && args.recreate {
        return Err(Error::usage(
            "--recreate replaces a kept sandbox, and --rm makes a throw-away one",
        )
        .hint("leave out one of them"));
    }
    if mode != Mode::Dind {
        let given: Vec<&str> = [
            ("--inner", args.inner.is_some()),
            ("--inner-timeout", args.inner_timeout.is_some()),
            ("--inner-iptables", args.inner_iptables),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect();
        if !given.is_empty() {
            let verb = if given.len() == 1 { "applies" } else { "apply" };
            return Err(Error::usage(format!(
                "{} only {verb} to dind sandboxes",
                given.join(", ")
            ))
            .hint(format!("use `-m dind`, or leave {} out", given.join(", "))));
        }
    }
    Ok(())
}

/// Turn the command line and the configuration files into a request; every
/// bad value is a usage error.
pub fn request(args: &RunArgs) -> Result<Request> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::failure("could not read the current directory").cause(e.to_string()))?;
    request_from(args, &config::resolve::resolve(args, &cwd)?)
}

/// A value's error, with where the value came from when that was a file.
fn located(e: Error, from: &Source) -> Error {
    match from {
        Source::File { .. } | Source::EnvFile { .. } => Error {
            message: format!("{} ({from})", e.message),
            ..e
        },
        _ => e,
    }
}

fn value(s: &Option<Sourced<String>>) -> Option<&str> {
    s.as_ref().map(|s| s.value.as_str())
}

pub fn request_from(args: &RunArgs, cfg: &Resolved) -> Result<Request> {
    let mode = Mode::parse(&cfg.mode.value).map_err(|e| located(e, &cfg.mode.from))?;
    check_flags_fit(args, mode)?;
    cfg.check_fit(args.recreate)?;
    let inner =
        plan::parse_engine("inner engine", value(&cfg.inner).unwrap_or("podman")).map_err(|e| {
            located(
                e,
                &cfg.inner
                    .as_ref()
                    .map_or(Source::Default, |s| s.from.clone()),
            )
        })?;
    let engine = cfg
        .engine
        .as_ref()
        .map(|e| plan::parse_engine("engine", &e.value).map_err(|err| located(err, &e.from)))
        .transpose()?;
    if let Some(name) = &cfg.name {
        plan::check_name(&name.value).map_err(|e| located(e, &name.from))?;
    }
    // The inner engine's keys are for dind sandboxes (flags elsewhere were refused above).
    let dind = mode == Mode::Dind;
    let inner_timeout = cfg
        .inner_timeout
        .as_ref()
        .filter(|_| dind)
        .map_or(DEFAULT_INNER_TIMEOUT, |t| t.value);
    if let Some(t) = cfg.inner_timeout.as_ref().filter(|t| t.value == 0) {
        return Err(located(Error::usage("--inner-timeout must be at least 1 second")
            .hint(format!("give the seconds the inner engine may take to answer, e.g. `--inner-timeout {DEFAULT_INNER_TIMEOUT}`")), &t.from));
    }
    let workspace = cfg.workspace.value.clone();
    let git_worktree = crate::probe::git::worktree(&workspace);
    let init_binary = crate::paths::own_executable()?;
    let preload = if mode == Mode::Dind {
        image::canary::tarball().into_iter().collect()
    } else {
        Vec::new()
    };
    let name = value(&cfg.name).map_or_else(|| default_name(mode), String::from);
    let systemd = cfg.systemd.as_ref().is_some_and(|s| s.value);
    let from = |s: &Sourced<String>, flag: &str| s.from.describe(flag);
    let volumes = cfg
        .volumes
        .iter()
        .map(|v| specs::volume(&v.value, &from(v, "-v")))
        .collect::<Result<_>>()?;
    let ports = cfg
        .ports
        .iter()
        .map(|p| specs::port(&p.value, &from(p, "-p")))
        .collect::<Result<_>>()?;
    let resources = Resources {
        cpus: cfg
            .cpus
            .as_ref()
            .map(|c| specs::cpus(c.value, &c.from.describe("--cpus")))
            .transpose()?,
        memory: cfg
            .memory
            .as_ref()
            .map(|m| specs::memory(&m.value, &from(m, "--memory")))
            .transpose()?,
        pids: cfg
            .pids
            .as_ref()
            .map(|p| specs::pids(p.value, &p.from.describe("--pids-limit")))
            .transpose()?,
    };
    let container_workspace = match &cfg.container_path {
        Some(p) => specs::container_path(&p.value, &from(p, "--container-path"))?.into(),
        None => workspace.clone(),
    };
    let env = cfg
        .env
        .iter()
        .map(|(name, v)| EnvVar {
            name: name.clone(),
            value: Secret::new(v.value.clone()),
        })
        .collect();
    Ok(Request {
        mode,
        engine,
        inner,
        image: value(&cfg.image).map_or_else(|| image::default_tag(systemd), String::from),
        env_file: apply::envfile::path_for(&name),
        name,
        named: cfg.name.is_some(),
        command: value(&cfg.command).map(String::from),
        workspace,
        rm: cfg.rm.as_ref().is_some_and(|s| s.value),
        tty: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        privileged: cfg.privileged.as_ref().is_some_and(|s| s.value),
        host_root: cfg.host_root.as_ref().is_some_and(|s| s.value),
        init_binary,
        preload,
        ready_timeout_ms: inner_timeout * 1000,
        engine_firewall: dind && cfg.inner_iptables.as_ref().is_some_and(|s| s.value),
        trace: trace::enabled(),
        network: value(&cfg.network).map(String::from),
        env,
        volumes,
        ports,
        resources,
        container_workspace,
        runtime: value(&cfg.runtime).map(String::from),
        systemd,
        profiles_dir: crate::paths::profiles_dir(),
        git_worktree,
    })
}
