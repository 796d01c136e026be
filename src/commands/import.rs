//! `dindbox import manyoyo`: MANYOYO's `~/.manyoyo/manyoyo.json` (JSON5: its
//! `runs` become profiles, its top-level keys the global configuration) and
//! `~/.manyoyo/run/*.json` become dindbox files, each key that has no
//! dindbox meaning reported. Everything is read and checked before anything
//! is written; existing files are kept unless `--force`.
//!
//! `dindbox import devcontainer [PATH]`: a devcontainer.json as one profile
//! (`config::devcontainer`), each item reported as mapped, planned by
//! dindbox itself, or not imported.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::cli::{ImportArgs, ImportCommand, ImportDevcontainerArgs};
use crate::config::format::{FileConfig, KEYS};
use crate::config::{config_dir, parse};
use crate::error::{Error, Result};

pub fn run(cmd: ImportCommand) -> Result<i32> {
    match cmd {
        ImportCommand::Manyoyo(args) => manyoyo(&args),
        ImportCommand::Devcontainer(args) => devcontainer(&args),
    }
}

/// One dindbox file to write, from one MANYOYO source.
struct Import {
    target: PathBuf,
    source: String,
    keys: Map<String, Value>,
    skipped: Vec<String>,
}

/// Why a MANYOYO key has no dindbox meaning.
fn unmapped_reason(key: &str) -> &'static str {
    match key {
        "imageBuildArgs" => "dindbox builds its own image (`dindbox image build`)",
        "shellPrefix" | "shellSuffix" => "no equivalent; write the whole command line as `command`",
        "quiet" => "no equivalent; dindbox prints only errors and the plan",
        _ => "not a dindbox key",
    }
}

/// MANYOYO's keys as dindbox keys; the rest reported.
fn map_keys(source: &str, props: Vec<(String, Value)>) -> (Map<String, Value>, Vec<String>) {
    let mut keys = Map::new();
    let mut skipped = Vec::new();
    for (key, value) in props {
        let target = if key == "shell" {
            "command"
        } else {
            key.as_str()
        };
        if !KEYS.contains(&target) {
            skipped.push(format!("{key} ({})", unmapped_reason(&key)));
            continue;
        }
        let one = Value::Object(Map::from_iter([(target.to_string(), value.clone())]));
        match serde_json::from_value::<FileConfig>(one) {
            Ok(_) => {
                keys.insert(target.to_string(), value);
            }
            Err(e) => skipped.push(format!(
                "{key} (in {source}: {})",
                crate::config::layer::plain_types(&e.to_string())
            )),
        }
    }
    (keys, skipped)
}

/// A JSON5 object's members, in file order.
fn read_object(path: &Path) -> Result<Vec<(String, Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::io("could not read", path, e).hint("check that the file is readable UTF-8 text")
    })?;
    parse::json_object(path, &text)
}

fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn collect(root: &Path, dir: &Path) -> Result<Vec<Import>> {
    let mut imports = Vec::new();
    let mut profile = |name: &str, source: String, props: Vec<(String, Value)>| -> Result<()> {
        if !valid_profile_name(name) {
            return Err(
                Error::usage(format!("{source}: `{name}` cannot be a profile's name"))
                    .hint("rename it to letters, digits, `.`, `_` and `-`, then import again"),
            );
        }
        let (keys, skipped) = map_keys(&source, props);
        imports.push(Import {
            target: dir.join("profiles").join(format!("{name}.json")),
            source,
            keys,
            skipped,
        });
        Ok(())
    };
    let main = root.join("manyoyo.json");
    let mut global = None;
    if main.is_file() {
        let mut top = Vec::new();
        for (key, value) in read_object(&main)? {
            if key != "runs" {
                top.push((key, value));
                continue;
            }
            let Value::Object(runs) = value else {
                return Err(Error::usage(format!(
                    "{}: `runs` is not a map of profiles",
                    main.display()
                )));
            };
            for (name, run) in runs {
                let Value::Object(obj) = run else {
                    return Err(Error::usage(format!(
                        "{}: runs.{name} is not an object",
                        main.display()
                    )));
                };
                profile(
                    &name,
                    format!("{} runs.{name}", main.display()),
                    obj.into_iter().collect(),
                )?;
            }
        }
        global = Some(top);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("run"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        profile(&name, file.display().to_string(), read_object(&file)?)?;
    }
    if let Some(top) = global.filter(|t| !t.is_empty()) {
        let (keys, skipped) = map_keys(&main.display().to_string(), top);
        imports.push(Import {
            target: dir.join("config.json"),
            source: format!("{} (top-level keys)", main.display()),
            keys,
            skipped,
        });
    }
    Ok(imports)
}

/// Write `text` to `target` whole (through a temporary file beside it).
fn write_file(target: &Path, text: &str, force: bool) -> Result<bool> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("could not create", dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io("could not write in", dir, e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| Error::io("could not write", tmp.path(), e))?;
    let done = if force {
        tmp.persist(target).map(|_| ())
    } else {
        tmp.persist_noclobber(target).map(|_| ())
    };
    match done {
        Ok(()) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("could not write", target, e.error)),
    }
}

/// The devcontainer.json that `path` names: the file, or the one the
/// devcontainer CLI reads in that folder.
fn devcontainer_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let candidates = [
        path.join(".devcontainer/devcontainer.json"),
        path.join(".devcontainer.json"),
    ];
    if path.is_dir() {
        if let Some(found) = candidates.iter().find(|p| p.is_file()) {
            return Ok(found.clone());
        }
        return Err(Error::usage(format!(
            "no devcontainer.json in {}: neither {} nor {} exists",
            path.display(),
            candidates[0].display(),
            candidates[1].display()
        ))
        .hint("give the file's path: `dindbox import devcontainer PATH/devcontainer.json`"));
    }
    Err(Error::usage(format!("{} does not exist", path.display()))
        .hint("give a devcontainer.json, or the folder that holds .devcontainer/devcontainer.json"))
}

/// A profile's name from a devcontainer's `name` ("My App" is my-app).
fn profile_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || "._-".contains(c) {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(['-', '.']).to_string()
}

fn devcontainer(args: &ImportDevcontainerArgs) -> Result<i32> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::failure("could not read the current directory").cause(e.to_string()))?;
    let file = devcontainer_file(&args.path.as_ref().map_or(cwd.clone(), |p| cwd.join(p)))?;
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Error::io("could not read", &file, e).hint("check that the file is readable UTF-8 text")
    })?;
    let imported = crate::config::devcontainer::import(&file, &text)?;
    let folder = file
        .parent()
        .filter(|d| d.ends_with(".devcontainer"))
        .and_then(Path::parent)
        .or(file.parent());
    let name = match &args.profile {
        Some(n) => n.clone(),
        None => parse::json_object(&file, &text)?
            .into_iter()
            .find(|(k, _)| k == "name")
            .and_then(|(_, v)| v.as_str().map(profile_name))
            .filter(|n| valid_profile_name(n))
            .or_else(|| {
                folder
                    .and_then(Path::file_name)
                    .and_then(|n| n.to_str())
                    .map(profile_name)
            })
            .unwrap_or_default(),
    };
    if !valid_profile_name(&name) {
        return Err(Error::usage(format!("`{name}` cannot be a profile's name"))
            .hint("name it with `--profile NAME`: letters, digits, `.`, `_` and `-`"));
    }
    let target = config_dir().join("profiles").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&Value::Object(imported.keys.clone()))
        .expect("JSON always serialises")
        + "\n";
    crate::output::line(&file.display().to_string())?;
    if write_file(&target, &text, args.force)? {
        crate::output::line(&format!("  wrote {}", target.display()))?;
    } else {
        crate::output::line(&format!(
            "  kept {} (it exists; --force replaces it)",
            target.display()
        ))?;
    }
    for m in &imported.mapped {
        crate::output::line(&format!("  mapped: {m}"))?;
    }
    for p in &imported.planned {
        crate::output::line(&format!("  planned by dindbox: {p}"))?;
    }
    for s in &imported.skipped {
        crate::output::line(&format!("  not imported: {s}"))?;
    }
    Ok(0)
}

fn manyoyo(args: &ImportArgs) -> Result<i32> {
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or_else(|| {
        Error::usage("HOME is not set").hint("set HOME to the home directory that holds .manyoyo")
    })?;
    let root = home.join(".manyoyo");
    let dir = config_dir();
    let imports = collect(&root, &dir)?;
    if imports.is_empty() {
        return Err(
            Error::usage(format!("no MANYOYO configuration in {}", root.display())).hint(format!(
                "import reads {0}/manyoyo.json and {0}/run/*.json",
                root.display()
            )),
        );
    }
    let global_toml = dir.join("config.toml");
    for import in imports {
        crate::output::line(&import.source)?;
        let is_global =
            import.target.ends_with("config.json") && import.target.parent() == Some(&dir);
        if is_global && global_toml.exists() {
            crate::output::line(&format!(
                "  kept {}: dindbox reads one global file; copy these keys into it by hand",
                global_toml.display()
            ))?;
        } else {
            let text = serde_json::to_string_pretty(&Value::Object(import.keys.clone()))
                .expect("JSON always serialises")
                + "\n";
            if write_file(&import.target, &text, args.force)? {
                crate::output::line(&format!("  wrote {}", import.target.display()))?;
            } else {
                crate::output::line(&format!(
                    "  kept {} (it exists; --force replaces it)",
                    import.target.display()
                ))?;
            }
        }
        for skipped in &import.skipped {
            crate::output::line(&format!("  not imported: {skipped}"))?;
        }
        for name in import
            .keys
            .get("envFile")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str().filter(|n| !n.contains('/')) {
                crate::output::line(&format!(
                    "  envFile `{name}` is read from {}/env/{name}.env",
                    dir.display()
                ))?;
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_mapped_or_reported() {
        let props = vec![
            ("containerMode".to_string(), Value::from("dind")),
            ("shell".to_string(), Value::from("claude")),
            ("imageBuildArgs".to_string(), Value::from(vec!["A=1"])),
            ("quiet".to_string(), Value::from(vec!["tip"])),
            ("ports".to_string(), Value::from("8080:80")),
        ];
        let (keys, skipped) = map_keys("m.json", props);
        assert_eq!(keys["containerMode"], "dind");
        assert_eq!(keys["command"], "claude");
        assert_eq!(keys.len(), 2);
        assert!(
            skipped[0].starts_with("imageBuildArgs (dindbox builds"),
            "{skipped:?}"
        );
        assert!(skipped[1].starts_with("quiet ("), "{skipped:?}");
        assert!(
            skipped[2].contains("ports (in m.json: invalid type"),
            "{skipped:?}"
        );
    }

    #[test]
    fn json5_runs_and_run_files_become_profiles() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join(".manyoyo");
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::write(
            root.join("manyoyo.json"),
            "{\n  // global\n  imageName: 'localhost/x',\n  imageVersion: '1',\n  runs: { dev: { containerMode: 'dind', quiet: ['all'], }, },\n}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("run/dind.json"),
            r#"{"containerName": "my-dind", "yolo": "c"}"#,
        )
        .unwrap();
        let dir = t.path().join("cfg");
        let imports = collect(&root, &dir).unwrap();
        let targets: Vec<PathBuf> = imports.iter().map(|i| i.target.clone()).collect();
        assert_eq!(
            targets,
            [
                dir.join("profiles/dev.json"),
                dir.join("profiles/dind.json"),
                dir.join("config.json")
            ]
        );
        assert_eq!(imports[0].skipped.len(), 1);
        assert_eq!(imports[2].keys["imageName"], "localhost/x");
    }

    #[test]
    fn devcontainer_names_become_profile_names() {
        assert_eq!(profile_name("Node.js & TypeScript"), "node.js-typescript");
        assert_eq!(profile_name("work"), "work");
        assert_eq!(profile_name("  --"), "");
    }

    #[test]
    fn files_are_kept_unless_forced() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("p/x.json");
        assert!(write_file(&target, "1", false).unwrap());
        assert!(!write_file(&target, "2", false).unwrap());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "1");
        assert!(write_file(&target, "3", true).unwrap());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "3");
        assert_eq!(
            std::fs::read_dir(t.path().join("p")).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
