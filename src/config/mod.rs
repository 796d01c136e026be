//! Configuration files and their precedence: the command line over a profile
//! (`-r`), over the project's `.dindbox.toml`/`.dindbox.json`, over the global
//! `CONFIGDIR/config.toml`, over the defaults. Lists concatenate in that
//! order (global first); env merges per variable.

pub mod devcontainer;
pub mod envfile;
pub mod format;
pub mod layer;
pub mod parse;
pub mod resolve;
pub mod show;
pub mod specs;
pub mod yolo;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, suggest};
use layer::{Layer, Level};
use parse::Pos;

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    Flag,
    File { path: PathBuf, pos: Pos },
    EnvFile { path: PathBuf, line: usize },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Flag => f.write_str("flag"),
            Source::File { path, pos } => write!(f, "{}:{pos}", path.display()),
            Source::EnvFile { path, line } => write!(f, "{}:{line}", path.display()),
        }
    }
}

impl Source {
    /// How an error names this source: "flag `--memory`" or "file:line:col".
    pub fn describe(&self, flag: &str) -> String {
        match self {
            Source::Flag => format!("`{flag}`"),
            Source::Default => "the default".to_string(),
            other => other.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub from: Source,
}

/// `$XDG_CONFIG_HOME/dindbox`, else `~/.config/dindbox`.
pub fn config_dir() -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("/etc"))
        .join("dindbox")
}

/// `~/x` with the home directory; other paths unchanged.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if path == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(path), PathBuf::from)
        }
        _ => PathBuf::from(path),
    }
}

/// `dir/STEM.toml` or `dir/STEM.json`; both at once is ambiguous.
fn find_one(dir: &Path, stem: &str) -> Result<Option<PathBuf>> {
    let found: Vec<PathBuf> = ["toml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        [a, b, ..] => Err(Error::usage(format!(
            "both {} and {} exist; dindbox reads one",
            a.display(),
            b.display()
        ))
        .hint("merge them into one file and remove the other")),
    }
}

/// The project file: `.dindbox.toml` or `.dindbox.json` in the current
/// directory or a parent, up to the git root (the directory with `.git`);
/// outside a git repository, the current directory only.
pub fn project_file(cwd: &Path) -> Result<Option<PathBuf>> {
    let root = cwd.ancestors().find(|d| d.join(".git").exists());
    let Some(root) = root else {
        return find_one(cwd, ".dindbox");
    };
    for dir in cwd.ancestors() {
        if let Some(found) = find_one(dir, ".dindbox")? {
            return Ok(Some(found));
        }
        if dir == root {
            break;
        }
    }
    Ok(None)
}

/// `-r NAME`: CONFIGDIR/profiles/NAME.toml or .json; a value with a `/` is a path.
pub fn profile_file(value: &str, cwd: &Path) -> Result<PathBuf> {
    if value.contains('/') {
        let path = cwd.join(expand_home(value));
        if !path.is_file() {
            return Err(
                Error::usage(format!("profile file {} does not exist", path.display()))
                    .hint("give the path of a .toml or .json file, or a profile's NAME"),
            );
        }
        return Ok(path);
    }
    let dir = config_dir().join("profiles");
    if let Some(found) = find_one(&dir, value)? {
        return Ok(found);
    }
    let known = profiles(&dir);
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut e = Error::usage(format!(
        "no profile `{value}`: neither {0}/{value}.toml nor {0}/{value}.json exists",
        dir.display()
    ));
    if let Some(near) = suggest(value, &names) {
        e = e.hint(format!("did you mean `{near}`?"));
    }
    if !known.is_empty() {
        e = e.hint(format!("profiles: {}", known.join(", ")));
    }
    Err(e.hint(format!(
        "create {}/{value}.toml, or give a file's path (`-r ./{value}.json`)",
        dir.display()
    )))
}

fn profiles(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_str()?;
            matches!(ext, "toml" | "json").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The files that apply to a run from `cwd`, lowest precedence first.
pub fn file_layers(profile: Option<&str>, cwd: &Path) -> Result<Vec<Layer>> {
    let mut layers = Vec::new();
    if let Some(global) = find_one(&config_dir(), "config")? {
        layers.push(Layer::read(Level::Global, &global)?);
    }
    if let Some(project) = project_file(cwd)? {
        layers.push(Layer::read(Level::Project, &project)?);
    }
    if let Some(profile) = profile {
        layers.push(Layer::read(Level::Profile, &profile_file(profile, cwd)?)?);
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_file_is_searched_up_to_the_git_root() {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        std::fs::write(t.path().join(".dindbox.toml"), "").unwrap();
        assert_eq!(project_file(&deep).unwrap(), None, "not above the git root");
        std::fs::write(repo.join(".dindbox.json"), "{}").unwrap();
        assert_eq!(
            project_file(&deep).unwrap(),
            Some(repo.join(".dindbox.json"))
        );
        std::fs::write(repo.join("a/.dindbox.toml"), "").unwrap();
        assert_eq!(
            project_file(&deep).unwrap(),
            Some(repo.join("a/.dindbox.toml"))
        );
    }

    #[test]
    fn without_a_git_root_only_the_current_directory() {
        let t = tempfile::tempdir().unwrap();
        let sub = t.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(t.path().join(".dindbox.toml"), "").unwrap();
        assert_eq!(project_file(&sub).unwrap(), None);
        assert_eq!(
            project_file(t.path()).unwrap(),
            Some(t.path().join(".dindbox.toml"))
        );
    }

    #[test]
    fn two_spellings_of_one_file_are_ambiguous() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(".dindbox.toml"), "").unwrap();
        std::fs::write(t.path().join(".dindbox.json"), "{}").unwrap();
        let e = project_file(t.path()).unwrap_err();
        assert!(e.message.contains("dindbox reads one"), "{e}");
    }

    #[test]
    fn a_profile_path_must_exist() {
        let e = profile_file("./nope.json", Path::new("/nonexistent")).unwrap_err();
        assert_eq!(
            e.message,
            "profile file /nonexistent/./nope.json does not exist"
        );
    }
}
