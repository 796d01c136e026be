//! `prune`: stopped sandboxes, and storage volumes whose sandbox is gone.
//! Only what carries dindbox's label; never images, never others'.

use std::time::{Duration, SystemTime};

use chrono::DateTime;

use crate::apply::remove;
use crate::engine::{EngineApi, EngineKind};
use crate::error::{Error, Result};
use crate::plan::labels;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Only what is older than this.
    pub until: Option<Duration>,
    /// Say what would go, remove nothing.
    pub dry_run: bool,
}

/// One thing removed (or, in a dry run, that would be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pruned {
    Sandbox {
        name: String,
        engine: EngineKind,
        status: String,
    },
    Volume {
        name: String,
        engine: EngineKind,
    },
}

/// Prune each engine in turn; `now` is what ages are counted from.
pub fn prune(
    engines: &[&dyn EngineApi],
    req: &Request,
    now: SystemTime,
    on: &mut dyn FnMut(&Pruned),
) -> Result<Vec<Pruned>> {
    let cutoff = req.until.map(|d| now - d);
    let old_enough = |created: &str| match (cutoff, parse_time(created)) {
        (None, _) => true,
        (Some(cutoff), Some(t)) => t <= cutoff,
        // A time the engine wrote in a form not understood: leave it be.
        (Some(_), None) => false,
    };
    let mut done = Vec::new();
    let mut report = |event: Pruned| {
        on(&event);
        done.push(event);
    };
    for engine in engines {
        let sandboxes = engine.sandboxes()?;
        for c in sandboxes
            .iter()
            .filter(|c| !c.running() && old_enough(&c.created))
        {
            if !req.dry_run {
                remove::sandbox(*engine, &c.name, false, false)?;
            }
            report(Pruned::Sandbox {
                name: c.name.clone(),
                engine: engine.kind(),
                status: c.status.clone(),
            });
        }
        let live: Vec<&str> = sandboxes
            .iter()
            .filter(|c| c.running() || !old_enough(&c.created))
            .map(|c| c.name.as_str())
            .collect();
        let orphans = engine.sandbox_volumes(None)?.into_iter().filter(|v| {
            let owner = v.label(labels::SANDBOX);
            !live.contains(&owner)
                && !sandboxes.iter().any(|c| c.name == owner && req.dry_run)
                && old_enough(&v.created_at)
        });
        for v in orphans {
            if !req.dry_run {
                engine.remove_volume(&v.name)?;
            }
            report(Pruned::Volume {
                name: v.name,
                engine: engine.kind(),
            });
        }
    }
    Ok(done)
}

/// `--until`'s age.
pub fn parse_until(text: &str) -> Result<Duration> {
    humantime::parse_duration(text).map_err(|e| {
        Error::usage(format!("--until `{text}` is not a duration: {e}"))
            .hint("give an age such as 30m, 24h or 7d")
    })
}

fn parse_time(text: &str) -> Option<SystemTime> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_times_and_ages_parse() {
        assert!(parse_time("2026-11-25T05:30:00.123456789Z").is_some());
        assert!(parse_time("2026-11-25T05:30:00.12+00:00").is_some());
        assert!(parse_time("yesterday").is_none());
        assert_eq!(parse_until("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert!(
            parse_until("soon")
                .unwrap_err()
                .to_string()
                .contains("30m, 24h or 7d")
        );
    }
}
