//! One source of settings (a file, or the command line), checked key by key:
//! an unknown key, a wrong type or a key given twice is an error at its line
//! and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Source;
use super::format::{FileConfig, KEYS, canonical};
use super::parse::{Format, Pos, entries};
use crate::error::{Error, Result, suggest};

/// Where a layer sits in the precedence order (later ones win).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Global,
    Project,
    Profile,
    Flags,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Global => "global",
            Level::Project => "project",
            Level::Profile => "profile",
            Level::Flags => "flags",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub level: Level,
    /// The file; None for the command line.
    pub path: Option<PathBuf>,
    /// Relative paths in this layer are relative to this directory.
    pub dir: PathBuf,
    pub config: FileConfig,
    /// Where each key is.
    at: BTreeMap<&'static str, Pos>,
    /// Where each list item or map member of a key is.
    parts: BTreeMap<&'static str, Vec<(String, Pos)>>,
}

impl Layer {
    /// The command line's values, as a layer of their own.
    pub fn flags(config: FileConfig, cwd: &Path) -> Layer {
        Layer {
            level: Level::Flags,
            path: None,
            dir: cwd.to_path_buf(),
            config,
            at: BTreeMap::new(),
            parts: BTreeMap::new(),
        }
    }

    pub fn read(level: Level, path: &Path) -> Result<Layer> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!(
                "could not read the configuration file {}",
                path.display()
            ))
            .cause(e.to_string())
            .hint("check that the file is readable UTF-8 text")
        })?;
        Layer::parse(level, path, &text)
    }

    pub fn parse(level: Level, path: &Path, text: &str) -> Result<Layer> {
        let format = Format::of(path, text);
        let mut values = Map::new();
        let mut at: BTreeMap<&'static str, Pos> = BTreeMap::new();
        let mut parts = BTreeMap::new();
        for entry in entries(path, text, format)? {
            let here = |pos: Pos| format!("{}:{pos}", path.display());
            let Some(key) = canonical(&entry.key) else {
                let mut e = Error::usage(format!(
                    "{}: unknown key `{}`",
                    here(entry.key_pos),
                    entry.key
                ));
                if let Some(near) = suggest(&entry.key, KEYS) {
                    e = e.hint(format!("did you mean `{near}`?"));
                }
                return Err(e.hint(format!("valid keys: {}", KEYS.join(", "))));
            };
            if let Some(first) = at.get(key) {
                return Err(Error::usage(format!(
                    "{}: `{key}` is given twice (first at line {})",
                    here(entry.key_pos),
                    first.line
                ))
                .hint("keep one of them"));
            }
            let one = Value::Object(Map::from_iter([(key.to_string(), entry.value.clone())]));
            if let Err(e) = serde_json::from_value::<FileConfig>(one) {
                return Err(Error::usage(format!(
                    "{}: wrong type for `{key}`: {}",
                    here(entry.value_pos),
                    plain_types(&e.to_string())
                ))
                .hint("`dindbox config schema` shows each key's type"));
            }
            values.insert(key.to_string(), entry.value);
            at.insert(key, entry.key_pos);
            parts.insert(key, entry.parts);
        }
        let config = serde_json::from_value(Value::Object(values))
            .map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Layer {
            level,
            path: Some(path.to_path_buf()),
            dir,
            config,
            at,
            parts,
        })
    }

    /// Where a key of this layer was set.
    pub fn source(&self, key: &str) -> Source {
        match (&self.path, self.at.get(key)) {
            (Some(path), Some(pos)) => Source::File {
                path: path.clone(),
                pos: *pos,
            },
            _ => Source::Flag,
        }
    }

    /// Where an item (by index) or member (by name) of a key was set: the
    /// first of the candidate names found, else the key itself.
    pub fn part_source(&self, key: &str, candidates: &[&str]) -> Source {
        let pos = self.parts.get(key).and_then(|ps| {
            candidates
                .iter()
                .find_map(|c| ps.iter().find(|(p, _)| p == c))
                .map(|(_, pos)| *pos)
        });
        match (&self.path, pos) {
            (Some(path), Some(pos)) => Source::File {
                path: path.clone(),
                pos,
            },
            _ => self.source(key),
        }
    }
}

/// serde's type names as a file's reader knows them.
pub fn plain_types(message: &str) -> String {
    [
        ("f64", "a number"),
        ("u64", "a whole number, 0 or more"),
        ("a sequence", "a list"),
        ("sequence", "a list"),
        ("invalid type: map", "invalid type: a table"),
        ("struct FileConfig", "a table"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Layer> {
        Layer::parse(Level::Profile, Path::new(name), text)
    }

    #[test]
    fn seed_run_file_is_read_as_it_is() {
        let l = parse(
            "/p/dind.json",
            "{\n    \"containerName\": \"my-dind\",\n    \"containerMode\": \"dind\",\n    \"envFile\": [\"anthropic_claudecode\"],\n    \"yolo\": \"c\"\n}\n",
        )
        .unwrap();
        assert_eq!(l.config.container_name.as_deref(), Some("my-dind"));
        assert_eq!(l.config.container_mode.as_deref(), Some("dind"));
        assert_eq!(l.config.yolo.as_deref(), Some("c"));
        assert_eq!(l.source("containerMode").to_string(), "/p/dind.json:3:5");
        assert_eq!(l.dir, PathBuf::from("/p"));
    }

    #[test]
    fn unknown_keys_name_place_and_nearest_key() {
        let e = parse("x.json", "{\n  \"containerMod\": \"dind\"\n}").unwrap_err();
        assert_eq!(e.message, "x.json:2:3: unknown key `containerMod`");
        assert!(e.hints[0].contains("did you mean `containerMode`?"), "{e}");
        let e = parse("x.toml", "cpus = 1\nvolume = []\n").unwrap_err();
        assert_eq!(e.message, "x.toml:2:1: unknown key `volume`");
        assert!(e.hints[0].contains("`volumes`"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_expected_type() {
        let e = parse("x.toml", "cpus = \"two\"\n").unwrap_err();
        assert!(
            e.message.starts_with("x.toml:1:8: wrong type for `cpus`"),
            "{e}"
        );
        assert!(
            e.message
                .ends_with("invalid type: string \"two\", expected a number"),
            "{e}"
        );
        let e = parse("x.json", "{\"volumes\": \"/a:/a\"}").unwrap_err();
        assert!(e.message.ends_with("expected a list"), "{e}");
        let e = parse("x.toml", "pids = -1\n").unwrap_err();
        assert!(
            e.message.ends_with("expected a whole number, 0 or more"),
            "{e}"
        );
        let e = parse("x.json", "{\"env\": {\"A\": [1]}}").unwrap_err();
        assert!(e.message.contains("env `A`: expected a string"), "{e}");
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        let e = parse("x.json", "{\"cpus\": 1,\n \"cpus\": 2}").unwrap_err();
        assert!(
            e.message.contains("x.json:2:2: `cpus` is given twice"),
            "{e}"
        );
    }

    #[test]
    fn aliases_are_accepted() {
        let l = parse("x.toml", "container_mode = \"sock\"\nhost-path = \"/w\"\n").unwrap();
        assert_eq!(l.config.container_mode.as_deref(), Some("sock"));
        assert_eq!(l.config.host_path.as_deref(), Some("/w"));
        assert_eq!(l.source("hostPath").to_string(), "x.toml:2:1");
    }
}
