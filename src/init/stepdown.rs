//! Inside the sandbox: start the inner engine with the planned set-up, prove
//! with the canary that nested containers run, and step down until they do.
//! Each step taken is said on stderr; what worked is written for the host.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use super::engine::{
    Running, STORAGE_CONF, StartError, clear_stale_run_state, run_canary, start_once,
};
use crate::plan::inner::InnerEngineSpec;
use crate::plan::memory::{Memory, REPORT_FILE};
use crate::plan::stepdown::{Inside, Recipe, next_step};

/// What the sandbox has that decides which steps exist.
fn inside() -> Inside {
    let fuse = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .is_ok();
    let runtimes = ["crun", "runc"]
        .into_iter()
        .filter(|r| which::which(r).is_ok())
        .map(String::from)
        .collect();
    let image_driver = std::fs::read_to_string(STORAGE_CONF)
        .ok()
        .and_then(|text| storage_driver(&text));
    Inside {
        fuse,
        runtimes,
        image_driver,
    }
}

/// The value of `key = "..."` on a line, if the line sets it.
fn setting<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    Some(value.trim().trim_matches('"'))
}

/// The `driver` of a storage.conf's [storage] table, with the overlay
/// mount program when one is set ("overlay with mount_program X"): only a
/// plain "overlay" is native overlay.
pub fn storage_driver(text: &str) -> Option<String> {
    let mut table = String::new();
    let (mut driver, mut program) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line.to_string();
        } else if table == "[storage]"
            && let Some(value) = setting(line, "driver")
        {
            driver = Some(value.to_string());
        } else if table.starts_with("[storage.options")
            && let Some(value) = setting(line, "mount_program")
        {
            program = Some(value.to_string());
        }
    }
    match (driver, program) {
        (Some(d), Some(p)) if d == "overlay" => Some(format!("overlay with mount_program {p}")),
        (driver, _) => driver,
    }
}

/// Stop a daemon before the next attempt: cleanly, so that dockerd takes
/// its containerd down with it (a killed one leaves containerd holding its
/// socket, and the next dockerd cannot start its own).
fn stop(daemon: Option<Child>) {
    if let Some(mut child) = daemon {
        crate::process::stop_child(&mut child, STOP_GRACE);
    }
}

/// How long a daemon gets to stop between two attempts.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One attempt: start, then the canary when one is asked for. A stepped-down
/// set-up must be proven: without the canary in its store it is not taken.
fn attempt(
    spec: &InnerEngineSpec,
    stepped: bool,
) -> Result<(Running, bool), (StartError, Option<Child>)> {
    let running = start_once(spec)?;
    let Some(canary) = &spec.canary else {
        return Ok((running, false));
    };
    match run_canary(spec, canary) {
        Ok(false) if stepped => Err((
            StartError::new(
                format!(
                    "{canary} is not in the stepped-down store, so the step cannot be proven: `dindbox image build` saves it for every sandbox to load"
                ),
                None,
            ),
            running.daemon,
        )),
        Ok(proved) => {
            if !proved {
                crate::trace::mark("the canary is not in the inner store: nothing proven");
            }
            Ok((running, proved))
        }
        Err(e) => Err((e, running.daemon)),
    }
}

/// The first line of a failure and the last line of its log, to say why a
/// step was taken.
fn headline(e: &StartError, report: &str) -> String {
    let first = e.reason.lines().next().unwrap_or_default();
    match report.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
        Some(last) if !first.contains(last) => format!("{first}: {last}"),
        _ => first.to_string(),
    }
}

/// Start the engine, stepping down from the planned set-up until nested
/// containers run.
pub fn start(planned: &InnerEngineSpec) -> Result<Running, StartError> {
    clear_stale_run_state();
    let inside = inside();
    let mut spec = planned.clone();
    let mut steps: Vec<String> = Vec::new();
    loop {
        match attempt(&spec, !steps.is_empty()) {
            Ok((running, proved)) => {
                if !steps.is_empty() {
                    eprintln!(
                        "dindbox: nested containers run after stepping down ({}): {}",
                        steps.join("; "),
                        Recipe::of(&spec).describe()
                    );
                }
                if proved || !steps.is_empty() {
                    report(&spec, steps);
                }
                return Ok(running);
            }
            Err((e, daemon)) => {
                stop(daemon);
                let failure = e.report(spec.kind);
                let why = headline(&e, &failure);
                let Some(step) = next_step(&spec, &why, &inside, &planned.runtime) else {
                    let mut e = e;
                    if !steps.is_empty() {
                        e.reason = format!(
                            "{} (after stepping down: {}; no step left)",
                            e.reason,
                            steps.join("; ")
                        );
                    }
                    return Err(e);
                };
                eprintln!(
                    "dindbox: the inner {} failed ({why}); stepping down: {}",
                    spec.kind, step.what
                );
                steps.push(step.what);
                spec = step.spec;
            }
        }
    }
}

/// Write what worked where the host reads it; a host that cannot be told
/// just runs the canary again next time.
fn report(spec: &InnerEngineSpec, steps: Vec<String>) {
    let Some(dir) = &spec.report else {
        return;
    };
    let memory = Memory {
        key: String::new(), // the host knows the key; the init does not
        recipe: Recipe::of(spec),
        steps,
        outer: Vec::new(),
    };
    if let Ok(text) = serde_json::to_string(&memory) {
        let _ = std::fs::write(Path::new(dir).join(REPORT_FILE), text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_driver_of_the_storage_table_only() {
        let text = "[storage]\ndriver = \"btrfs\"\n[storage.options.overlay]\ndriver = \"x\"\n";
        assert_eq!(storage_driver(text).as_deref(), Some("btrfs"));
        assert_eq!(
            storage_driver("# none\n[storage]\nrunroot = \"/run\"\n"),
            None
        );
        assert_eq!(
            storage_driver("[storage]\n  driver=\"overlay\"\n").as_deref(),
            Some("overlay")
        );
        assert_eq!(
            storage_driver("[storage]\ndriver = \"overlay\"\n[storage.options.overlay]\nmount_program = \"/x/fuse\"\n").as_deref(),
            Some("overlay with mount_program /x/fuse")
        );
    }
}
