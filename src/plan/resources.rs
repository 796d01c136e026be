//! What the user adds to a sandbox: bind mounts, published ports, limits, and
//! environment variables. Env values never appear in the argv: the plan names
//! a file (written at run time, mode 0600) and `--env-file` reads it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize, Serializer};

use super::Request;
use crate::spec::{Limit, Mount, Why};

/// A value that is shown as `***` wherever it is printed or serialised.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the env file and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub const MASK: &str = "***";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Secret,
}

/// A bind mount of an existing absolute host path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub host: PathBuf,
    pub container: String,
    pub options: Option<String>,
}

impl Volume {
    /// The bind mount this volume asks for.
    pub fn mount(&self) -> Mount {
        Mount::Bind {
            source: self.host.display().to_string(),
            target: self.container.clone(),
            options: self.options.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// As the engines spell it ("1.5").
    pub cpus: Option<String>,
    /// Bytes.
    pub memory: Option<u64>,
    pub pids: Option<u64>,
}

/// The flags for the request's mounts, ports, limits and environment.
/// The mounts the user asked for.
pub fn binds(req: &Request) -> Vec<Why<Mount>> {
    let mut binds: Vec<Why<Mount>> = req
        .volumes
        .iter()
        .map(|v| Why::new(v.mount(), "asked for (volumes, -v)"))
        .collect();
    if let Some(w) = &req.git_worktree {
        let dir = w.common_dir.display().to_string();
        binds.push(Why::new(
            Mount::bind(dir.clone(), dir.clone()),
            "the workspace is a git worktree: its repository's git directory, at the same path, so that git works inside (its objects and refs are written there)",
        ));
        for path in &w.read_only {
            let p = path.display().to_string();
            binds.push(Why::new(
                Mount::read_only(p.clone(), p),
                "read-only: git runs what its hooks and configuration name, so written from inside they would run on the host at your next git command there",
            ));
        }
    }
    binds
}

pub fn ports(req: &Request) -> Vec<Why<String>> {
    req.ports
        .iter()
        .map(|p| Why::new(p.clone(), "asked for (ports, -p)"))
        .collect()
}

pub fn limits(req: &Request) -> Vec<Why<Limit>> {
    let mut out = Vec::new();
    let r = &req.resources;
    if let Some(cpus) = &r.cpus {
        out.push(Why::new(
            Limit::Cpus(cpus.clone()),
            format!("at most {cpus} CPUs (cpus, --cpus)"),
        ));
    }
    if let Some(bytes) = r.memory {
        out.push(Why::new(
            Limit::Memory(bytes),
            format!("memory limit {} (memory, --memory)", human(bytes)),
        ));
    }
    if let Some(pids) = r.pids {
        out.push(Why::new(
            Limit::Pids(pids),
            format!(
                "at most {pids} processes at once, nested containers' included (pids, --pids-limit)"
            ),
        ));
    }
    out
}

pub fn env_file(req: &Request) -> Option<Why<PathBuf>> {
    if req.env.is_empty() {
        return None;
    }
    let names: Vec<&str> = req.env.iter().map(|e| e.name.as_str()).collect();
    Some(Why::new(
        req.env_file.clone(),
        format!(
            "the sandbox's environment ({}): values go through a file only this user can read, written when the run starts and removed when it ends, so no command line shows them",
            names.join(", ")
        ),
    ))
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let v = EnvVar {
            name: "TOKEN".into(),
            value: Secret::new("hunter2"),
        };
        assert!(!format!("{v:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&v).unwrap().contains("hunter2"));
        assert_eq!(v.value.expose(), "hunter2");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(536_870_912), "512 MiB");
        assert_eq!(human(1_610_612_736), "1.5 GiB");
        assert_eq!(human(100), "100 B");
    }
}
