//! The layers merged: a scalar from the highest layer that sets it, lists
//! concatenated lowest first, env per variable (each layer's env files, then
//! its `env`). Each value keeps where it came from.

use std::path::{Path, PathBuf};

use super::envfile::{self, valid_name};
use super::format::{EnvMap, FileConfig, Size};
use super::layer::{Layer, Level};
use super::{Source, Sourced, config_dir, expand_home, file_layers, specs, yolo};
use crate::cli::RunArgs;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Resolved {
    /// The files read, lowest precedence first.
    pub files: Vec<(Level, PathBuf)>,
    pub name: Option<Sourced<String>>,
    pub mode: Sourced<String>,
    pub inner: Option<Sourced<String>>,
    pub engine: Option<Sourced<String>>,
    pub image: Option<Sourced<String>>,
    pub network: Option<Sourced<String>>,
    pub rm: Option<Sourced<bool>>,
    pub privileged: Option<Sourced<bool>>,
    pub host_root: Option<Sourced<bool>>,
    pub inner_iptables: Option<Sourced<bool>>,
    /// Seconds.
    pub inner_timeout: Option<Sourced<u64>>,
    /// Final value per variable, in the order first set.
    pub env: Env,
    pub env_files: Vec<Sourced<PathBuf>>,
    pub volumes: Vec<Sourced<String>>,
    pub ports: Vec<Sourced<String>>,
    pub workspace: Sourced<PathBuf>,
    pub container_path: Option<Sourced<String>>,
    pub cpus: Option<Sourced<f64>>,
    pub memory: Option<Sourced<String>>,
    pub pids: Option<Sourced<u64>>,
    pub runtime: Option<Sourced<String>>,
    pub systemd: Option<Sourced<bool>>,
    pub yolo: Option<Sourced<String>>,
    /// The command line: `-x`/`command`, or the yolo preset's.
    pub command: Option<Sourced<String>>,
}

/// The command line as the top layer. `-e KEY` takes this environment's value.
fn flags_layer(args: &RunArgs, cwd: &Path) -> Result<Layer> {
    let mut env = Vec::new();
    for e in &args.env {
        let (name, value) = match e.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => {
                let value = std::env::var(e).map_err(|_| {
                    Error::usage(format!("-e {e}: `{e}` is not set in this environment"))
                        .hint(format!("set it first, or give the value: `-e {e}=VALUE`"))
                })?;
                (e.clone(), value)
            }
        };
        env.push((name, value));
    }
    let config = FileConfig {
        container_name: args.name.clone(),
        container_mode: args.mode.clone(),
        inner: args.inner.clone(),
        engine: args.engine.clone(),
        image: args.image.clone(),
        network: args.network.clone(),
        rm: args.rm.then_some(true),
        privileged: args.privileged.then_some(true),
        host_root: args.host_root.then_some(true),
        inner_iptables: args.inner_iptables.then_some(true),
        inner_timeout: args.inner_timeout,
        env: (!env.is_empty()).then_some(EnvMap(env)),
        env_file: Some(args.env_file.clone()),
        volumes: Some(args.volume.clone()),
        ports: Some(args.publish.clone()),
        host_path: args.workspace.clone(),
        container_path: args.container_path.clone(),
        cpus: args
            .cpus
            .as_deref()
            .map(|c| specs::number(c, "--cpus", "1.5"))
            .transpose()?,
        memory: args.memory.clone().map(Size),
        pids: args
            .pids_limit
            .as_deref()
            .map(|p| specs::number(p, "--pids-limit", "1024"))
            .transpose()?,
        runtime: args.runtime.clone(),
        systemd: args.systemd.then_some(true),
        yolo: args.yolo.clone(),
        command: args.command.clone(),
        ..FileConfig::default()
    };
    Ok(Layer::flags(config, cwd))
}

impl Resolved {
    /// Values from files that contradict the command line, refused as the
    /// same flags are (`rm` with `--recreate`), named with their place. The
    /// inner engine's keys in a file (`inner`, `innerTimeout`,
    /// `innerIptables`) are defaults for dind sandboxes and mean nothing for
    /// others, so a global `innerTimeout` does not break a `-m common` run;
    /// the flags themselves are refused outside dind, with the other flags.
    pub fn check_fit(&self, recreate: bool) -> Result<()> {
        let in_file = |from: &Source| matches!(from, Source::File { .. });
        if let Some(rm) = self
            .rm
            .as_ref()
            .filter(|r| recreate && r.value && in_file(&r.from))
        {
            return Err(Error::usage(format!(
                "--recreate replaces a kept sandbox, and `rm` ({}) makes a throw-away one",
                rm.from
            ))
            .hint("leave out one of them"));
        }
        Ok(())
    }
}

/// The highest layer's value of a key, with its layer.
fn top<T>(
    layers: &[Layer],
    key: &str,
    get: impl Fn(&FileConfig) -> Option<T>,
) -> Option<(Level, Sourced<T>)> {
    layers.iter().rev().find_map(|l| {
        get(&l.config).map(|value| {
            (
                l.level,
                Sourced {
                    value,
                    from: l.source(key),
                },
            )
        })
    })
}

fn scalar<T>(
    layers: &[Layer],
    key: &str,
    get: impl Fn(&FileConfig) -> Option<T>,
) -> Option<Sourced<T>> {
    top(layers, key, get).map(|(_, s)| s)
}

/// A list key's items from every layer, lowest first.
fn list(
    layers: &[Layer],
    key: &str,
    get: impl Fn(&FileConfig) -> Option<&Vec<String>>,
) -> Vec<Sourced<String>> {
    let mut out = Vec::new();
    for l in layers {
        for (i, item) in get(&l.config).into_iter().flatten().enumerate() {
            out.push(Sourced {
                value: item.clone(),
                from: l.part_source(key, &[&i.to_string()]),
            });
        }
    }
    out
}

/// `envFile`: a value with a `/`, or one naming a file beside the file that
/// names it (for flags: in the current directory), is that path; else NAME
/// is CONFIGDIR/env/NAME.env.
pub fn env_file_path(value: &str, base: &Path) -> PathBuf {
    let beside = base.join(expand_home(value));
    if value.contains('/') || beside.is_file() {
        beside
    } else if value.ends_with(".env") {
        config_dir().join("env").join(value)
    } else {
        config_dir().join("env").join(format!("{value}.env"))
    }
}

/// Set a variable, replacing an earlier value in place.
fn set_env(
    env: &mut Vec<(String, Sourced<String>)>,
    name: String,
    value: Sourced<String>,
) -> Result<()> {
    if !valid_name(&name) {
        return Err(Error::usage(format!(
            "{}: `{name}` is not a variable name (letters, digits and `_`, not starting with a digit)",
            value.from.describe("-e")
        ))
        .hint("write KEY=VALUE with a name such as API_KEY"));
    }
    if value.value.contains(['\n', '\r', '\0']) {
        return Err(Error::usage(format!(
            "{}: the value of `{name}` has a line break or NUL, which engines' env files cannot carry",
            value.from.describe("-e")
        ))
        .hint("put it in a file and mount that file with `-v`"));
    }
    match env.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name, value)),
    }
    Ok(())
}

/// Variables by name, in the order first set.
type Env = Vec<(String, Sourced<String>)>;

fn merge_env(layers: &[Layer]) -> Result<(Env, Vec<Sourced<PathBuf>>)> {
    let mut env = Vec::new();
    let mut files = Vec::new();
    for l in layers {
        for (i, name) in l.config.env_file.iter().flatten().enumerate() {
            let path = env_file_path(name, &l.dir);
            for line in envfile::read(&path)? {
                let from = Source::EnvFile {
                    path: path.clone(),
                    line: line.line,
                };
                set_env(
                    &mut env,
                    line.name,
                    Sourced {
                        value: line.value,
                        from,
                    },
                )?;
            }
            files.push(Sourced {
                value: path,
                from: l.part_source("envFile", &[&i.to_string()]),
            });
        }
        for (i, (name, value)) in l.config.env.iter().flat_map(|e| e.0.iter()).enumerate() {
            let from = l.part_source("env", &[name, &i.to_string()]);
            set_env(
                &mut env,
                name.clone(),
                Sourced {
                    value: value.clone(),
                    from,
                },
            )?;
        }
    }
    Ok((env, files))
}

/// `image`, or `imageName[:imageVersion]` when that is set in a higher layer.
fn image(layers: &[Layer]) -> Result<Option<Sourced<String>>> {
    let image = top(layers, "image", |c| c.image.clone());
    let name = top(layers, "imageName", |c| c.image_name.clone());
    let version = top(layers, "imageVersion", |c| c.image_version.clone());
    match (image, name, version) {
        (_, None, Some((_, v))) => Err(Error::usage(format!(
            "{}: imageVersion without imageName",
            v.from
        ))
        .hint("set imageName too, or give the whole image as `image`")),
        (Some((il, i)), Some((nl, _)), _) if il >= nl => Ok(Some(i)),
        (_, Some((_, n)), v) => Ok(Some(Sourced {
            value: match v {
                Some((_, v)) => format!("{}:{}", n.value, v.value),
                None => n.value,
            },
            from: n.from,
        })),
        (i, None, None) => Ok(i.map(|(_, i)| i)),
    }
}

/// The host directory of the workspace: absolute (relative to the layer's
/// directory), existing, a directory.
fn workspace(layers: &[Layer], cwd: &Path) -> Result<Sourced<PathBuf>> {
    let Some(l) = layers.iter().rev().find(|l| l.config.host_path.is_some()) else {
        return Ok(Sourced {
            value: cwd.to_path_buf(),
            from: Source::Default,
        });
    };
    let from = l.source("hostPath");
    let raw = l.config.host_path.as_deref().unwrap_or_default();
    let path = l.dir.join(expand_home(raw));
    let dir = path
        .canonicalize()
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| {
            Error::usage(format!(
                "workspace {} ({}) is not a directory",
                path.display(),
                from.describe("--workspace")
            ))
            .hint("give an existing directory, or leave it out to use the current directory")
        })?;
    Ok(Sourced { value: dir, from })
}

/// The command line, from `command`/`-x` or a yolo preset, never both.
/// (the command line, the preset it came from)
type CommandLine = (Option<Sourced<String>>, Option<Sourced<String>>);

fn command(layers: &[Layer]) -> Result<CommandLine> {
    let cmd = scalar(layers, "command", |c| c.command.clone());
    let preset = scalar(layers, "yolo", |c| c.yolo.clone());
    match (cmd, preset) {
        (Some(c), Some(y)) => Err(Error::usage(format!(
            "both a command ({}) and a yolo preset ({}) are given",
            c.from.describe("-x"),
            y.from.describe("-y")
        ))
        .hint("the preset is the command: leave out one of `-x`/`command` and `-y`/`yolo`")),
        (c, Some(y)) => {
            let line = yolo::command(&y.value).map_err(|e| Error {
                message: format!("{} ({})", e.message, y.from.describe("-y")),
                ..e
            })?;
            let cmd = Sourced {
                value: line.to_string(),
                from: y.from.clone(),
            };
            Ok((c.or(Some(cmd)), Some(y)))
        }
        (c, None) => Ok((c, None)),
    }
}

/// Every file and flag that applies to a run from `cwd`, merged.
pub fn resolve(args: &RunArgs, cwd: &Path) -> Result<Resolved> {
    let mut layers = file_layers(args.profile.as_deref(), cwd)?;
    layers.push(flags_layer(args, cwd)?);
    merge(&layers, cwd)
}

/// Layers, lowest precedence first, merged.
pub fn merge(layers: &[Layer], cwd: &Path) -> Result<Resolved> {
    let (env, env_files) = merge_env(layers)?;
    let (command, yolo) = command(layers)?;
    Ok(Resolved {
        files: layers
            .iter()
            .filter_map(|l| Some((l.level, l.path.clone()?)))
            .collect(),
        name: scalar(layers, "containerName", |c| c.container_name.clone()),
        mode: scalar(layers, "containerMode", |c| c.container_mode.clone()).unwrap_or(Sourced {
            value: "common".into(),
            from: Source::Default,
        }),
        inner: scalar(layers, "inner", |c| c.inner.clone()),
        engine: scalar(layers, "engine", |c| c.engine.clone()),
        image: image(layers)?,
        network: scalar(layers, "network", |c| c.network.clone()),
        rm: scalar(layers, "rm", |c| c.rm),
        privileged: scalar(layers, "privileged", |c| c.privileged),
        host_root: scalar(layers, "hostRoot", |c| c.host_root),
        inner_iptables: scalar(layers, "innerIptables", |c| c.inner_iptables),
        inner_timeout: scalar(layers, "innerTimeout", |c| c.inner_timeout),
        env,
        env_files,
        volumes: list(layers, "volumes", |c| c.volumes.as_ref()),
        ports: list(layers, "ports", |c| c.ports.as_ref()),
        workspace: workspace(layers, cwd)?,
        container_path: scalar(layers, "containerPath", |c| c.container_path.clone()),
        cpus: scalar(layers, "cpus", |c| c.cpus),
        memory: scalar(layers, "memory", |c| c.memory.clone().map(|m| m.0)),
        pids: scalar(layers, "pids", |c| c.pids),
        runtime: scalar(layers, "runtime", |c| c.runtime.clone()),
        systemd: scalar(layers, "systemd", |c| c.systemd),
        yolo,
        command,
    })
}

#[cfg(test)]
mod tests;
