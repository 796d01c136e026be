//! Podman's `info` takes 0.2 s (it opens its storage); a daemonless engine's
//! answer only changes when its binary, its configuration or its runtimes do.
//! So the answer is kept, under a key made of all of those, for a while.
//! `dindbox doctor` always asks afresh (and refreshes the cache).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::EngineKind;
use crate::probe::facts::EngineFacts;

/// How long a kept answer is trusted even when nothing in its key changed.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// Environment variables that change what Podman reports.
const ENV_KEYS: &[&str] = &[
    "CONTAINER_HOST",
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "CONTAINERS_REGISTRIES_CONF",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
];

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    saved: u64,
    facts: EngineFacts,
}

/// Files whose change invalidates Podman's answer, for a user whose config home is `config_home`.
pub fn watched_files(binary: &str, config_home: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = vec![binary.into()];
    for dir in [
        Path::new("/usr/share/containers"),
        Path::new("/etc/containers"),
        &config_home.join("containers"),
    ] {
        files.push(dir.join("containers.conf"));
        files.push(dir.join("storage.conf"));
        files.push(dir.join("containers.conf.d"));
    }
    for runtime in ["crun", "runc", "conmon"] {
        if let Ok(path) = which::which(runtime) {
            files.push(path);
        }
    }
    files
}

/// A digest of the watched files' sizes and times (absent ones count too) and of the environment.
pub fn key(files: &[PathBuf], env: &[(String, Option<String>)], uid: u32) -> String {
    let mut h = Sha256::new();
    h.update(format!("uid {uid}\n"));
    for path in files {
        let stamp = std::fs::metadata(path)
            .map(|m| {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .unwrap_or_default();
                format!("{} {}", m.len(), mtime.as_nanos())
            })
            .unwrap_or_else(|_| "absent".into());
        h.update(format!("{} {stamp}\n", path.display()));
    }
    for (k, v) in env {
        h.update(format!("{k}={v:?}\n"));
    }
    hex::encode(h.finalize())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub struct Cache {
    path: PathBuf,
    key: String,
}

impl Cache {
    /// The cache of `kind`'s answer for this user and this state of its files.
    pub fn for_engine(kind: EngineKind, binary: &str, uid: u32) -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        let env: Vec<(String, Option<String>)> = ENV_KEYS
            .iter()
            .map(|k| (k.to_string(), std::env::var(k).ok()))
            .collect();
        Cache {
            path: crate::paths::cache_dir()
                .join("engines")
                .join(format!("{kind}-{uid}.json")),
            key: key(&watched_files(binary, &config_home), &env, uid),
        }
    }

    /// The kept answer, if its key matches and it is not too old.
    pub fn load(&self) -> Option<EngineFacts> {
        let entry: Entry = serde_json::from_str(&std::fs::read_to_string(&self.path).ok()?).ok()?;
        let fresh = now().saturating_sub(entry.saved) < MAX_AGE.as_secs();
        (entry.key == self.key && fresh && entry.facts.answers).then_some(entry.facts)
    }

    /// Keep an answer; only one that answered is worth keeping. Failing to
    /// write a cache is not an error: the next run asks again.
    pub fn save(&self, facts: &EngineFacts) {
        if !facts.answers {
            let _ = std::fs::remove_file(&self.path);
            return;
        }
        let mut facts = facts.clone();
        facts.sockets.clear(); // sockets are pinged afresh every time
        let entry = Entry {
            key: self.key.clone(),
            saved: now(),
            facts,
        };
        let Some(dir) = self.path.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(tmp) = tempfile::NamedTempFile::new_in(dir)
            && serde_json::to_writer(&tmp, &entry).is_ok()
        {
            let _ = tmp.persist(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_files_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("containers.conf");
        let files = vec![conf.clone()];
        let env = vec![("CONTAINER_HOST".to_string(), None)];
        let absent = key(&files, &env, 0);
        std::fs::write(&conf, "[engine]\n").unwrap();
        let present = key(&files, &env, 0);
        assert_ne!(
            absent, present,
            "a config file that appears changes the key"
        );
        std::fs::write(&conf, "[engine]\nruntime = \"runc\"\n").unwrap();
        assert_ne!(
            present,
            key(&files, &env, 0),
            "an edited config file changes the key"
        );
        let remote = vec![(
            "CONTAINER_HOST".to_string(),
            Some("unix:///x.sock".to_string()),
        )];
        assert_ne!(key(&files, &env, 0), key(&files, &remote, 0));
        assert_ne!(key(&files, &env, 0), key(&files, &env, 1000));
        assert_eq!(key(&files, &env, 0), key(&files, &env, 0));
    }

    #[test]
    fn keeps_only_answers_that_match_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache {
            path: dir.path().join("podman-0.json"),
            key: "k1".into(),
        };
        let mut facts = EngineFacts::new(EngineKind::Podman, "/usr/bin/podman");
        facts.answers = true;
        facts.default_runtime = Some("crun".into());
        facts.sockets.push(crate::probe::facts::SocketFacts {
            path: "/run/podman/podman.sock".into(),
            answers: true,
            mode: None,
        });
        cache.save(&facts);
        let loaded = cache.load().expect("kept");
        assert_eq!(loaded.default_runtime.as_deref(), Some("crun"));
        assert!(loaded.sockets.is_empty(), "sockets are never cached");
        let other = Cache {
            path: cache.path.clone(),
            key: "k2".into(),
        };
        assert!(
            other.load().is_none(),
            "another key means the files changed"
        );
        facts.answers = false;
        cache.save(&facts);
        assert!(
            cache.load().is_none(),
            "an engine that stopped answering is forgotten"
        );
    }
}
