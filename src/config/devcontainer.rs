//! Dev container configurations and dindbox's: the sandbox's environment as
//! `export devcontainer` names it, and a devcontainer.json (JSON with
//! comments, and the Dockerfile it builds from, where that only names an
//! image) as the keys of a profile, each item mapped, left to dindbox's plan
//! (what dindbox sets up itself for the mode), or reported as not imported.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::resolve::Resolved;
use super::{Source, envfile, parse};
use crate::error::{Error, Result};
use crate::render::devcontainer::{RunFlag, run_flag};
use crate::spec::init::{INIT_PATH, storage_path};
use crate::spec::{EngineKind, labels};

/// The sandbox's environment as a devcontainer.json says it: names whose
/// values come from the environment devcontainer runs in, and the user's
/// own env files, which the engine reads alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    pub names: Vec<String>,
    pub files: Vec<PathBuf>,
    /// What the user must know (which variables to set).
    pub notes: Vec<String>,
}

/// The resolved environment as names and env files; no value is kept.
pub fn environment(cfg: &Resolved) -> Environment {
    let mut env = Environment::default();
    let mut unfit: Vec<&Path> = Vec::new();
    let mut used: Vec<&Path> = Vec::new();
    for (name, value) in &cfg.env {
        match &value.from {
            Source::EnvFile { path, .. } if envfile::engines_read_alike(path) => {
                used.push(path);
            }
            Source::EnvFile { path, .. } => {
                if !unfit.contains(&path.as_path()) {
                    unfit.push(path);
                }
                env.names.push(name.clone());
            }
            _ => env.names.push(name.clone()),
        }
    }
    for file in &cfg.env_files {
        if used.contains(&file.value.as_path()) && !env.files.contains(&file.value) {
            env.files.push(file.value.clone());
        }
    }
    for path in unfit {
        env.notes.push(format!(
            "{} has `export` or quoted values, which the engine's --env-file would take literally: its variables are named instead",
            path.display()
        ));
    }
    if !env.names.is_empty() {
        env.notes.push(format!(
            "set {} in the environment `devcontainer up` runs in: devcontainer.json names them (`${{localEnv:NAME}}`) and holds no value",
            env.names.join(", ")
        ));
    }
    env
}

/// A devcontainer.json as a profile's keys, with what became of each item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub keys: Map<String, Value>,
    /// `ITEM -> KEY` for each item imported.
    pub mapped: Vec<String>,
    /// Items dindbox plans itself for the mode (privileges, its init, the inner storage).
    pub planned: Vec<String>,
    /// `ITEM (why)` for each item not imported.
    pub skipped: Vec<String>,
}

/// One mount, as `--mount`, `-v` or a mount object says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MountItem {
    kind: String,
    source: String,
    target: String,
    readonly: bool,
}

fn mount_string(s: &str) -> MountItem {
    let mut m = MountItem {
        kind: "volume".into(),
        ..MountItem::default()
    };
    for part in s.split(',') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k.trim() {
            "type" => m.kind = v.to_string(),
            "source" | "src" => m.source = v.to_string(),
            "target" | "dst" | "destination" => m.target = v.to_string(),
            "readonly" | "ro" => m.readonly = v.is_empty() || v == "true" || v == "1",
            _ => {}
        }
    }
    m
}

fn mount_object(o: &Map<String, Value>) -> MountItem {
    let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    MountItem {
        kind: s("type"),
        source: s("source"),
        target: s("target"),
        readonly: false,
    }
}

/// The sockets of host engines, where sandboxes and dev containers mount them.
const SOCKETS: [&str; 3] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
];

/// How sure an item is of the mode: a label of dindbox's beats a feature,
/// which beats what a mount suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Evidence {
    Label,
    Feature,
    Mount,
}

#[derive(Default)]
struct Importer {
    out: Imported,
    mode: Option<(Evidence, &'static str, Option<EngineKind>)>,
    label_inner: Option<String>,
    volumes: Vec<String>,
    ports: Vec<String>,
    env: Map<String, Value>,
    env_files: Vec<String>,
    scalars: Vec<(&'static str, Value)>,
}

impl Importer {
    fn map(&mut self, item: impl Into<String>, key: &str) {
        self.out.mapped.push(format!("{} -> {key}", item.into()));
    }

    fn planned(&mut self, item: impl Into<String>, what: &str) {
        self.out.planned.push(format!("{} ({what})", item.into()));
    }

    fn skip(&mut self, item: impl Into<String>, why: &str) {
        self.out.skipped.push(format!("{} ({why})", item.into()));
    }

    fn set(&mut self, item: impl Into<String>, key: &'static str, value: Value) {
        self.map(item, key);
        self.scalars.retain(|(k, _)| *k != key);
        self.scalars.push((key, value));
    }

    fn mode(&mut self, evidence: Evidence, mode: &'static str, inner: Option<EngineKind>) {
        if self.mode.is_none_or(|(e, _, _)| evidence < e) {
            self.mode = Some((evidence, mode, inner));
        }
    }

    fn mount(&mut self, item: &str, m: &MountItem, spelled: Option<&str>) {
        if m.target == INIT_PATH || m.target.starts_with("/run/dindbox/") {
            return self.planned(item, "dindbox's own: its init, and what it preloads");
        }
        if m.kind == "volume" {
            for inner in [EngineKind::Docker, EngineKind::Podman] {
                if m.target == storage_path(inner) {
                    self.mode(Evidence::Mount, "dind", Some(inner));
                    return self.planned(
                        item,
                        &format!("the inner {inner}'s storage: a dind sandbox's volume of its own"),
                    );
                }
            }
            return self.skip(
                item,
                "a named volume: dindbox's `volumes` are host paths, and its only volume is the inner engine's storage",
            );
        }
        if m.kind != "bind" {
            return self.skip(item, "only bind mounts map onto `volumes`");
        }
        if SOCKETS.contains(&m.source.as_str()) || m.target == SOCKETS[0] {
            self.mode(Evidence::Mount, "sock", None);
            return self.planned(item, "the host engine's socket: sock mode mounts it");
        }
        let source = match m.source.strip_prefix("${localEnv:HOME}") {
            Some(rest) => format!("~{rest}"),
            None => m.source.clone(),
        };
        if source.contains("${") || !(source.starts_with('/') || source.starts_with('~')) {
            return self.skip(
                item,
                "its source is no host path dindbox can name (absolute, or `~/...`)",
            );
        }
        let volume = match spelled {
            Some(v) if !m.source.contains("${") => v.to_string(),
            _ if m.readonly => format!("{source}:{}:ro", m.target),
            _ => format!("{source}:{}", m.target),
        };
        self.map(item, "volumes");
        self.volumes.push(volume);
    }

    fn env(&mut self, key: &str, name: &str, value: &Value) {
        let item = if key.starts_with("runArgs") {
            format!("{key} {name}")
        } else {
            format!("{key}.{name}")
        };
        let Some(v) = value.as_str() else {
            return self.skip(item, "not a string");
        };
        if v.contains("${localEnv:") {
            return self.skip(
                item,
                &format!(
                    "its value comes from the environment devcontainer runs in; a profile holds values: `dindbox run -e {name}` passes this environment's"
                ),
            );
        }
        if v.contains("${") {
            return self.skip(
                item,
                "a devcontainer variable, which dindbox does not expand",
            );
        }
        if (name == "DOCKER_HOST" || name == "CONTAINER_HOST") && v == "unix:///var/run/docker.sock"
        {
            self.mode(Evidence::Mount, "sock", None);
            return self.planned(item, "sock mode sets it");
        }
        if key == "remoteEnv" {
            self.out.mapped.push(format!(
                "{item} -> env (the sandbox's whole environment, not only its commands')"
            ));
        } else {
            self.map(item, "env");
        }
        self.env
            .insert(name.to_string(), Value::String(v.to_string()));
    }

    fn label(&mut self, item: &str, value: &str) {
        let (k, v) = value.split_once('=').unwrap_or((value, ""));
        match k {
            labels::MODE => match v {
                "common" => self.mode(Evidence::Label, "common", None),
                "sock" => self.mode(Evidence::Label, "sock", None),
                "dind" => self.mode(Evidence::Label, "dind", None),
                _ => return self.skip(item, "not a mode"),
            },
            labels::INNER => self.label_inner = Some(v.to_string()),
            labels::SYSTEMD if v == "true" => {
                return self.set(item, "systemd", Value::Bool(true));
            }
            labels::TIMEOUT => {
                if let Some(ms) = v.parse::<u64>().ok().filter(|ms| *ms != 60_000) {
                    return self.set(item, "innerTimeout", Value::from(ms.div_ceil(1000)));
                }
            }
            k if k.starts_with("io.dindbox.") => {}
            _ => return self.skip(item, "labels are dindbox's own"),
        }
        self.planned(item, "dindbox's record of the sandbox");
    }

    fn run_args(&mut self, args: &[Value]) {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.as_str().map_or_else(|| a.to_string(), String::from))
            .collect();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let known = run_flag(&flag);
            // An unknown flag takes the word after it, unless that is a flag.
            let takes = known.map_or_else(
                || flag.starts_with('-') && args.get(i).is_some_and(|n| !n.starts_with('-')),
                |(_, takes)| takes,
            );
            let value = match inline {
                Some(v) => Some(v),
                None if takes && i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                None => None,
            };
            let v = value.clone().unwrap_or_default();
            let item = match &value {
                Some(v) => format!("runArgs {flag} {v}"),
                None => format!("runArgs {flag}"),
            };
            match known.map(|(f, _)| f) {
                Some(RunFlag::Volume) => {
                    let mut parts = v.splitn(3, ':');
                    let source = parts.next().unwrap_or("");
                    let target = parts.next().unwrap_or("");
                    let options = parts.next().unwrap_or("");
                    let bind = source.starts_with('/') || source.starts_with('~') || source.starts_with("${");
                    let m = MountItem {
                        kind: if bind { "bind" } else { "volume" }.into(),
                        source: source.into(),
                        target: target.into(),
                        readonly: options.split(',').any(|o| o == "ro"),
                    };
                    self.mount(&item, &m, Some(&v));
                }
                Some(RunFlag::Mount) => self.mount(&item, &mount_string(&v), None),
                Some(RunFlag::Publish) => {
                    self.map(&item, "ports");
                    self.ports.push(v);
                }
                Some(RunFlag::Env) => match v.split_once('=') {
                    Some((name, value)) => self.env("runArgs -e", name, &Value::from(value)),
                    None => self.env("runArgs -e", &v, &Value::from(format!("${{localEnv:{v}}}"))),
                },
                Some(RunFlag::EnvFile) if Path::new(&v).is_absolute() => {
                    self.map(&item, "envFile");
                    self.env_files.push(v);
                }
                Some(RunFlag::EnvFile) => self.skip(item, "a relative path, which the engine reads from where devcontainer runs"),
                Some(RunFlag::Cpus) => match v.parse::<f64>() {
                    Ok(n) => self.set(item, "cpus", Value::from(n)),
                    Err(_) => self.skip(item, "not a number"),
                },
                Some(RunFlag::Memory) => match v.parse::<u64>() {
                    Ok(n) => self.set(item, "memory", Value::from(n)),
                    Err(_) => self.set(item, "memory", Value::from(v)),
                },
                Some(RunFlag::Pids) => match v.parse::<u64>() {
                    Ok(n) => self.set(item, "pids", Value::from(n)),
                    Err(_) => self.skip(item, "not a number"),
                },
                Some(RunFlag::Network) => self.set(item, "network", Value::from(v)),
                Some(RunFlag::Runtime) => self.set(item, "runtime", Value::from(v)),
                Some(RunFlag::Privileged) => self.set(item, "privileged", Value::Bool(true)),
                Some(RunFlag::Name) => self.set(item, "containerName", Value::from(v)),
                Some(RunFlag::Label) => self.label(&item, &v),
                Some(RunFlag::Planned) => self.planned(
                    item,
                    "dindbox plans the sandbox's privileges and set-up from its mode; `dindbox plan` shows them",
                ),
                Some(RunFlag::Start) => {
                    self.skip(item, "dindbox starts and attaches to the sandbox itself")
                }
                _ => self.skip(item, "not a flag dindbox maps"),
            }
        }
    }

    fn feature(&mut self, id: &str) {
        let item = format!("features.{id}");
        let bare = match id.rsplit_once(':') {
            Some((b, tag)) if !tag.contains('/') => b,
            _ => id,
        };
        let name = bare.rsplit('/').next().unwrap_or(bare);
        match name {
            "docker-in-docker" => {
                self.mode(Evidence::Feature, "dind", Some(EngineKind::Docker));
                self.out.mapped.push(format!(
                    "{item} -> containerMode dind, inner docker (the feature's options are not used)"
                ));
            }
            "docker-outside-of-docker" | "docker-from-docker" => {
                self.mode(Evidence::Feature, "sock", None);
                self.out.mapped.push(format!(
                    "{item} -> containerMode sock (the feature's options are not used)"
                ));
            }
            _ => self.skip(item, "a feature dindbox has no equivalent of"),
        }
    }

    fn workspace(&mut self, mount: Option<&Value>, folder: Option<&Value>) {
        let folder = folder.and_then(Value::as_str);
        let Some(spec) = mount.and_then(Value::as_str) else {
            if let Some(f) = folder {
                self.skip(
                    format!("workspaceFolder {f}"),
                    "without workspaceMount, devcontainer mounts the folder at /workspaces/NAME; dindbox mounts it at the same path as on the host, or at `containerPath`",
                );
            }
            return;
        };
        let m = mount_string(spec);
        let item = format!("workspaceMount {spec}");
        if m.kind != "bind" || m.target.is_empty() {
            return self.skip(item, "not a bind mount of a folder");
        }
        let source = if m.source == "${localWorkspaceFolder}" {
            None
        } else if m.source.starts_with('/') {
            Some(m.source.clone())
        } else {
            return self.skip(item, "its source is no absolute host path");
        };
        if let Some(s) = &source {
            self.set(
                format!("{item} (source)"),
                "hostPath",
                Value::from(s.clone()),
            );
        }
        if m.target.contains("${") {
            self.skip(
                format!("{item} (target)"),
                "a devcontainer variable, which dindbox does not expand",
            );
        } else if source.as_deref() != Some(m.target.as_str()) {
            self.set(
                format!("{item} (target)"),
                "containerPath",
                Value::from(m.target.clone()),
            );
        } else {
            self.out.mapped.push(format!(
                "{item} -> the workspace, at the same path inside (dindbox's default)"
            ));
        }
        if let Some(f) = folder.filter(|f| *f != m.target) {
            self.skip(
                format!("workspaceFolder {f}"),
                "dindbox's working directory is where the workspace is mounted",
            );
        }
    }

    fn finish(mut self) -> Imported {
        let mut keys = Map::new();
        let scalar = |k: &str, s: &Vec<(&str, Value)>| {
            s.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        if let Some(name) = scalar("containerName", &self.scalars) {
            keys.insert("containerName".into(), name);
        }
        let (mode, inner) = match self.mode {
            Some((_, mode, inner)) => (Some(mode), inner.map(EngineKind::name).map(String::from)),
            None => (None, None),
        };
        let inner = self.label_inner.clone().or(inner);
        if let Some(mode) = mode {
            keys.insert("containerMode".into(), Value::from(mode));
        }
        let dind = mode == Some("dind");
        if let Some(inner) = inner.filter(|_| dind) {
            keys.insert("inner".into(), Value::from(inner));
        }
        for k in ["image", "hostPath", "containerPath"] {
            if let Some(v) = scalar(k, &self.scalars) {
                keys.insert(k.into(), v);
            }
        }
        let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::from).collect());
        if !self.volumes.is_empty() {
            keys.insert("volumes".into(), list(std::mem::take(&mut self.volumes)));
        }
        if !self.ports.is_empty() {
            keys.insert("ports".into(), list(std::mem::take(&mut self.ports)));
        }
        if !self.env.is_empty() {
            keys.insert("env".into(), Value::Object(std::mem::take(&mut self.env)));
        }
        if !self.env_files.is_empty() {
            keys.insert("envFile".into(), list(std::mem::take(&mut self.env_files)));
        }
        for k in ["cpus", "memory", "pids", "network", "runtime", "privileged"] {
            if let Some(v) = scalar(k, &self.scalars) {
                keys.insert(k.into(), v);
            }
        }
        for k in ["systemd", "innerTimeout"] {
            match scalar(k, &self.scalars) {
                Some(v) if dind => {
                    keys.insert(k.into(), v);
                }
                Some(_) => self.out.skipped.push(format!("{k} (dind sandboxes only)")),
                None => {}
            }
        }
        self.out.keys = keys;
        self.out
    }
}

/// Why the Dockerfile at `path` is more than an image, if it is: the
/// image it names, else a refusal that says what to do.
fn dockerfile_image(json: &Path, path: &Path, imp: &mut Importer) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "{}: `build` names the Dockerfile {}, which could not be read",
            json.display(),
            path.display()
        ))
        .cause(e.to_string())
        .hint("give its path in `build.dockerfile`, relative to devcontainer.json, or name an image in `image` instead")
    })?;
    let mut image = None;
    let mut joined = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if joined.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            joined.push_str(part);
            joined.push(' ');
            continue;
        }
        joined.push_str(line);
        let instruction = std::mem::take(&mut joined);
        let (word, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((instruction.as_str(), ""));
        let rest = rest.trim();
        match word.to_ascii_uppercase().as_str() {
            "FROM" if image.is_none() && !rest.contains('$') => {
                let words: Vec<&str> = rest
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                image = words.first().map(|w| w.to_string());
            }
            "ENTRYPOINT" | "CMD" if rest.contains(INIT_PATH) || rest.contains("\"init\"") => {
                imp.planned(
                    format!("{} {word}", path.display()),
                    "dindbox's init, which is every sandbox's PID 1",
                );
            }
            "ENTRYPOINT" | "CMD" | "LABEL" | "STOPSIGNAL" | "EXPOSE" => imp.skip(
                format!("{} {word} {rest}", path.display()),
                "dindbox's init is the sandbox's PID 1 and runs `command`",
            ),
            _ => {
                return Err(Error::usage(format!(
                    "{}: the Dockerfile {} builds an image of its own (`{word}` at line {}), which a profile cannot hold",
                    json.display(),
                    path.display(),
                    i + 1
                ))
                .hint(format!(
                    "build it (`docker build -t NAME -f {} {}`), put `\"image\": \"NAME\"` in place of `build`, and import again",
                    path.display(),
                    path.parent().unwrap_or(Path::new(".")).display()
                )));
            }
        }
    }
    image.ok_or_else(|| {
        Error::usage(format!(
            "{}: the Dockerfile {} names no image (`FROM IMAGE`)",
            json.display(),
            path.display()
        ))
        .hint("name the image in `image` instead of `build`, and import again")
    })
}

/// The devcontainer.json at `path` (its text `text`) as a profile's keys.
pub fn import(path: &Path, text: &str) -> Result<Imported> {
    let props = parse::json_object(path, text)?;
    let get = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    if get("dockerComposeFile").is_some() {
        return Err(Error::usage(format!(
            "{}: a Docker Compose configuration (`dockerComposeFile`), whose services a profile cannot hold",
            path.display()
        ))
        .hint("name the service's image in `image` in a devcontainer.json of its own and import that, or write the profile by hand (`dindbox config schema` lists its keys)"));
    }
    let mut imp = Importer::default();
    match (get("image"), get("build")) {
        (Some(Value::String(image)), _) => imp.set("image", "image", Value::from(image.clone())),
        (None, Some(Value::Object(build))) => {
            let file = build
                .get("dockerfile")
                .and_then(Value::as_str)
                .unwrap_or("Dockerfile");
            let dir = path.parent().unwrap_or(Path::new("."));
            let image = dockerfile_image(path, &dir.join(file), &mut imp)?;
            imp.set(
                format!("build.dockerfile {file} (FROM)"),
                "image",
                Value::from(image),
            );
            for k in build
                .keys()
                .filter(|k| *k != "dockerfile" && *k != "context")
            {
                imp.skip(
                    format!("build.{k}"),
                    "the image is built from the Dockerfile's FROM alone",
                );
            }
        }
        _ => {
            return Err(Error::usage(format!(
                "{}: neither `image` (a string) nor `build` (an object with `dockerfile`)",
                path.display()
            ))
            .hint("name the sandbox image in `image`, e.g. `\"image\": \"localhost/dindbox/sandbox:VERSION\"`, and import again"));
        }
    }
    imp.workspace(get("workspaceMount"), get("workspaceFolder"));
    for (key, value) in &props {
        match (key.as_str(), value) {
            ("image" | "build" | "workspaceMount" | "workspaceFolder", _) => {}
            ("name", Value::String(name)) if crate::plan::check_name(name).is_ok() => {
                if !imp.scalars.iter().any(|(k, _)| *k == "containerName") {
                    imp.set("name", "containerName", Value::from(name.clone()));
                }
            }
            ("name", _) => imp.skip("name", "not a valid container name"),
            ("mounts", Value::Array(items)) => {
                for m in items {
                    match m {
                        Value::String(s) => imp.mount(&format!("mounts {s}"), &mount_string(s), None),
                        Value::Object(o) => imp.mount(&format!("mounts {}", Value::Object(o.clone())), &mount_object(o), None),
                        other => imp.skip(format!("mounts {other}"), "neither a mount string nor a mount object"),
                    }
                }
            }
            ("runArgs", Value::Array(args)) => imp.run_args(args),
            ("features", Value::Object(features)) => {
                for id in features.keys() {
                    imp.feature(id);
                }
            }
            ("containerEnv" | "remoteEnv", Value::Object(vars)) => {
                for (name, v) in vars {
                    imp.env(key, name, v);
                }
            }
            ("privileged", Value::Bool(b)) => {
                if *b {
                    imp.set("privileged", "privileged", Value::Bool(true));
                }
            }
            ("appPort", v) => {
                let ports = match v {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                for p in ports {
                    match p {
                        Value::Number(n) => {
                            imp.map(format!("appPort {n}"), "ports");
                            imp.ports.push(format!("127.0.0.1:{n}:{n}"));
                        }
                        Value::String(s) => {
                            imp.map(format!("appPort {s}"), "ports");
                            imp.ports.push(s);
                        }
                        other => imp.skip(format!("appPort {other}"), "not a port"),
                    }
                }
            }
            ("overrideCommand", Value::Bool(false)) => {
                imp.planned("overrideCommand", "dindbox's init is always the sandbox's PID 1")
            }
            ("postStartCommand", Value::Array(cmd))
                if cmd.first().and_then(Value::as_str) == Some(INIT_PATH) =>
            {
                imp.planned("postStartCommand", "dindbox waits for its init before each command")
            }
            ("initializeCommand", Value::String(c)) if c.contains(" confine apparmor") => {
                imp.planned("initializeCommand", "dindbox loads its AppArmor profile itself")
            }
            ("capAdd" | "securityOpt" | "init", _) => imp.planned(
                key.clone(),
                "dindbox plans the sandbox's privileges and init from its mode; `dindbox plan` shows them",
            ),
            ("forwardPorts", _) => imp.skip(
                key.clone(),
                "the editor forwards these; `ports` publishes ports with the engine",
            ),
            ("customizations", _) => imp.skip(key.clone(), "editor settings"),
            (
                "postCreateCommand" | "postStartCommand" | "postAttachCommand" | "onCreateCommand"
                | "updateContentCommand" | "initializeCommand" | "waitFor",
                _,
            ) => imp.skip(
                key.clone(),
                "no lifecycle commands: the sandbox runs `command` (`-x`)",
            ),
            ("remoteUser" | "containerUser" | "updateRemoteUserUID" | "userEnvProbe", _) => {
                imp.skip(key.clone(), "dindbox runs commands as the image's user")
            }
            _ => imp.skip(key.clone(), "not a key dindbox maps"),
        }
    }
    Ok(imp.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_named_or_passed_from_the_users_own_env_files() {
        let t = tempfile::tempdir().unwrap();
        let plain = t.path().join("plain.env");
        let shell = t.path().join("shell.env");
        std::fs::write(&plain, "# db\nDB_URL=postgres://x\n").unwrap();
        std::fs::write(&shell, "export API_KEY=\"k\"\n").unwrap();
        let args = crate::cli::RunArgs {
            env: vec!["TOKEN=secret-value".into()],
            env_file: vec![plain.display().to_string(), shell.display().to_string()],
            ..Default::default()
        };
        let cfg = super::super::resolve::resolve(&args, t.path()).unwrap();
        let env = environment(&cfg);
        assert_eq!(env.files, vec![plain.clone()]);
        assert_eq!(env.names, vec!["API_KEY".to_string(), "TOKEN".to_string()]);
        let notes = env.notes.join("\n");
        assert!(
            notes.contains("shell.env has `export` or quoted values"),
            "{notes}"
        );
        assert!(
            notes.contains("set API_KEY, TOKEN in the environment"),
            "{notes}"
        );
        assert!(!format!("{env:?}").contains("secret-value"));
    }

    fn imported(text: &str) -> Imported {
        import(Path::new("/p/.devcontainer/devcontainer.json"), text).unwrap()
    }

    #[test]
    fn features_choose_the_mode() {
        let i = imported(
            r#"{ "image": "img", "features": { "ghcr.io/devcontainers/features/docker-in-docker:2": { "moby": true }, "ghcr.io/devcontainers/features/node:1": {} } }"#,
        );
        assert_eq!(i.keys["containerMode"], "dind");
        assert_eq!(i.keys["inner"], "docker");
        assert!(
            i.skipped
                .iter()
                .any(|s| s.starts_with("features.ghcr.io/devcontainers/features/node:1 (")),
            "{:?}",
            i.skipped
        );
        let i = imported(
            r#"{ "image": "img", "features": { "ghcr.io/devcontainers/features/docker-outside-of-docker:1": {} } }"#,
        );
        assert_eq!(i.keys["containerMode"], "sock");
        assert!(!i.keys.contains_key("inner"));
    }

    #[test]
    fn jsonc_mounts_env_and_run_args_are_mapped_or_reported() {
        let i = imported(
            r#"// a dev container
            {
              "name": "web",
              "image": "localhost/x:1",
              /* the host's socket */
              "mounts": [
                "source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind",
                "source=${localEnv:HOME}/.ssh,target=/root/.ssh,type=bind,readonly",
                { "source": "cache", "target": "/cache", "type": "volume" },
              ],
              "containerEnv": { "CI": "true", "TOKEN": "${localEnv:TOKEN}" },
              "remoteEnv": { "EDITOR": "vi" },
              "runArgs": ["--cpus=1.5", "--memory", "536870912", "-p", "8080:80", "--cap-add", "SYS_ADMIN", "--rm", "--shm-size", "1g"],
              "forwardPorts": [3000],
            }"#,
        );
        let k = &i.keys;
        assert_eq!(k["containerName"], "web");
        assert_eq!(k["containerMode"], "sock");
        assert_eq!(k["image"], "localhost/x:1");
        assert_eq!(k["volumes"], serde_json::json!(["~/.ssh:/root/.ssh:ro"]));
        assert_eq!(k["env"], serde_json::json!({"CI": "true", "EDITOR": "vi"}));
        assert_eq!(k["cpus"], 1.5);
        assert_eq!(k["memory"], 536870912);
        assert_eq!(k["ports"], serde_json::json!(["8080:80"]));
        let skipped = i.skipped.join("\n");
        for s in [
            "containerEnv.TOKEN (",
            "mounts {",
            "runArgs --rm (",
            "runArgs --shm-size 1g (",
            "forwardPorts (",
        ] {
            assert!(skipped.contains(s), "no {s:?} in:\n{skipped}");
        }
        assert!(
            i.planned
                .iter()
                .any(|p| p.starts_with("runArgs --cap-add SYS_ADMIN")),
            "{:?}",
            i.planned
        );
        assert!(i.mapped.iter().any(|m| m == "remoteEnv.EDITOR -> env (the sandbox's whole environment, not only its commands')"), "{:?}", i.mapped);
        assert!(
            serde_json::from_value::<super::super::format::FileConfig>(Value::Object(
                i.keys.clone()
            ))
            .is_ok()
        );
    }

    #[test]
    fn a_dockerfile_that_only_names_an_image_is_that_image() {
        let t = tempfile::tempdir().unwrap();
        let json = t.path().join("devcontainer.json");
        std::fs::write(
            t.path().join("Dockerfile"),
            format!("# x\nFROM localhost/dindbox/sandbox:0.1.0\nENTRYPOINT [\"{INIT_PATH}\"]\nCMD [\"init\", \"--spec\", \"{{}}\"]\n"),
        )
        .unwrap();
        let i = import(&json, r#"{"build": {"dockerfile": "Dockerfile"}}"#).unwrap();
        assert_eq!(i.keys["image"], "localhost/dindbox/sandbox:0.1.0");
        assert_eq!(i.planned.len(), 2, "{:?}", i.planned);
        std::fs::write(
            t.path().join("Dockerfile"),
            "FROM debian\nRUN apt-get install -y git\n",
        )
        .unwrap();
        let e = import(&json, r#"{"build": {"dockerfile": "Dockerfile"}}"#).unwrap_err();
        assert_eq!(e.code, crate::error::exit::USAGE);
        assert!(e.message.contains("`RUN` at line 2"), "{e}");
        assert!(e.hints[0].contains("docker build -t NAME"), "{e}");
        let e = import(&json, r#"{"build": {"dockerfile": "Nope"}}"#).unwrap_err();
        assert!(e.message.contains("could not be read"), "{e}");
    }

    #[test]
    fn compose_and_configurations_without_an_image_are_refused() {
        let p = Path::new("d.json");
        let e = import(p, r#"{"dockerComposeFile": "c.yml", "service": "app"}"#).unwrap_err();
        assert!(e.message.contains("Docker Compose"), "{e}");
        let e = import(p, r#"{"name": "x"}"#).unwrap_err();
        assert!(e.message.contains("neither `image`"), "{e}");
        let e = import(p, r#"{"image": "x",, }"#).unwrap_err();
        assert!(e.message.starts_with("d.json:1:"), "{e}");
    }

    #[test]
    fn the_other_keys_and_flags_dindbox_has() {
        let i = imported(
            r#"{"image": "i", "appPort": [3000, "8443:443"],
                "workspaceMount": "source=${localWorkspaceFolder},target=/work,type=bind",
                "runArgs": ["--name", "box", "--network", "host", "--runtime", "runsc", "--pids-limit", "200", "--privileged",
                            "--label", "io.dindbox.systemd=true", "-e", "FROM_HERE"],
                "mounts": ["source=w-storage,target=/var/lib/containers,type=volume"],
                "postCreateCommand": "make", "remoteUser": "dev", "customizations": {"vscode": {}}}"#,
        );
        let k = &i.keys;
        assert_eq!(
            k["ports"],
            serde_json::json!(["127.0.0.1:3000:3000", "8443:443"])
        );
        assert!(
            !k.contains_key("hostPath"),
            "the current directory is dindbox's default"
        );
        assert_eq!(k["containerPath"], "/work");
        assert_eq!(k["containerName"], "box");
        assert_eq!(k["network"], "host");
        assert_eq!(k["runtime"], "runsc");
        assert_eq!(k["pids"], 200);
        assert_eq!(k["privileged"], true);
        assert_eq!(k["containerMode"], "dind");
        assert_eq!(k["inner"], "podman");
        assert_eq!(k["systemd"], true);
        let skipped = i.skipped.join("\n");
        for s in [
            "runArgs -e FROM_HERE (",
            "postCreateCommand (",
            "remoteUser (",
            "customizations (",
        ] {
            assert!(skipped.contains(s), "no {s:?} in:\n{skipped}");
        }
    }

    #[test]
    fn dindbox_labels_give_back_mode_inner_engine_and_timeout() {
        let i = imported(
            r#"{"image": "i", "runArgs": ["--label", "io.dindbox.mode=dind", "--label", "io.dindbox.inner=docker", "--label", "io.dindbox.timeout-ms=90000", "--label", "io.dindbox.managed=true"],
                "mounts": ["source=w-storage,target=/var/lib/containers,type=volume"],
                "workspaceMount": "source=/src/app,target=/app,type=bind", "workspaceFolder": "/app"}"#,
        );
        assert_eq!(i.keys["containerMode"], "dind");
        assert_eq!(
            i.keys["inner"], "docker",
            "the label beats the storage volume"
        );
        assert_eq!(i.keys["innerTimeout"], 90);
        assert_eq!(i.keys["hostPath"], "/src/app");
        assert_eq!(i.keys["containerPath"], "/app");
        assert!(i.skipped.is_empty(), "{:?}", i.skipped);
    }
}
