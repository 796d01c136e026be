//! Facts about the host and its engines, read from /proc, /sys, /etc and the
//! engines' `info`. Nothing here decides anything: that is the plan's job.

pub mod cache;
pub mod engines;
pub mod facts;
#[cfg(test)]
pub mod fixtures;
pub mod git;
pub mod host;
pub mod image;
pub mod info;

use std::path::PathBuf;

use crate::engine::EngineKind;
use facts::HostFacts;

/// The roots the probe reads from; tests point them at fixture trees.
#[derive(Debug, Clone)]
pub struct Roots {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub etc: PathBuf,
    pub dev: PathBuf,
    /// `/`, for markers such as /.dockerenv and /run/.containerenv.
    pub root: PathBuf,
}

impl Roots {
    pub fn real() -> Self {
        Roots {
            proc: "/proc".into(),
            sys: "/sys".into(),
            etc: "/etc".into(),
            dev: "/dev".into(),
            root: "/".into(),
        }
    }
}

/// Probe this host, and only the named engine when there is one. Podman's
/// answer may come from the cache (see `cache.rs`).
pub fn probe_for(engine: Option<EngineKind>) -> HostFacts {
    probe_with(engine, false)
}

/// Probe this host and every engine CLI on PATH, asking each engine afresh.
pub fn probe() -> HostFacts {
    probe_with(None, true)
}

/// Ask the runtimes whose release matters to a plan (gVisor's) for their
/// version: a process each, so only when a plan or the doctor needs it.
pub fn runtime_versions(facts: &mut HostFacts) {
    for rt in facts.oci_runtimes.iter_mut().filter(|r| r.name == "runsc") {
        rt.version = crate::process::Cmd::new(&rt.path)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.success())
            .and_then(|o| {
                o.stdout
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("runsc version "))
                    .map(|v| v.trim().to_string())
            });
    }
}

fn probe_with(engine: Option<EngineKind>, fresh: bool) -> HostFacts {
    let env = host::env_facts(|k| std::env::var(k).ok());
    let mut facts = host::probe(&Roots::real(), env);
    let kinds = match engine {
        Some(kind) => vec![kind],
        None => EngineKind::ALL.to_vec(),
    };
    facts.engines = engines::probe(&facts.env, facts.uid, &kinds, fresh);
    if fresh {
        runtime_versions(&mut facts);
    }
    engines::mark_remote(&mut facts.engines, &facts.kernel);
    facts
}
