//! `doctor --check`: start each combination's canary for real, as a user
//! would (`dindbox run --rm ...`), time it, and leave nothing behind.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::Engine;
use crate::plan::{dind, sock};
use crate::probe::facts::HostFacts;
use crate::process::Cmd;

use super::matrix::{Combo, Row};

/// How long one check may take before it is stopped: the inner engine's
/// own deadline (60 s) plus starting and removing the sandbox.
const LIMIT: Duration = Duration::from_secs(180);

/// What happened when a combination was tried.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub works: bool,
    /// `dindbox run`'s exit status (None when it was stopped after LIMIT).
    pub exit: Option<i32>,
    /// Wall-clock seconds of the whole `dindbox run`.
    pub seconds: f64,
    /// The first line of the error, when it failed.
    pub error: Option<String>,
    /// What the run left on the host, which the check then removed.
    pub left_behind: Vec<String>,
}

/// Check every row, one after the other, saying on stderr how each went (a
/// reader of stderr that went away stops no check).
pub fn all(rows: &mut [Row], host: &HostFacts) -> crate::error::Result<()> {
    let exe = crate::paths::own_executable()?;
    for row in rows {
        let mut stderr = std::io::stderr();
        let _ = writeln!(stderr, "checking: {}", row.command);
        let m = measure(&exe, &row.combo, &row.name, host);
        let error = m
            .error
            .as_deref()
            .map_or(String::new(), |e| format!(": {e}"));
        let what = if m.works { "works" } else { "fails" };
        let _ = writeln!(stderr, "  {what} in {:.2} s{error}", m.seconds);
        row.checked = Some(m);
    }
    Ok(())
}

/// Run one combination with dindbox itself (`exe`) and clean up after it.
pub fn measure(exe: &Path, combo: &Combo, name: &str, host: &HostFacts) -> Measured {
    let cmd = Cmd::new(exe.display().to_string()).args(combo.argv(name));
    let start = Instant::now();
    let outcome = cmd.output_within(LIMIT);
    let seconds = (start.elapsed().as_secs_f64() * 100.0).round() / 100.0;
    let left_behind = clean_up(combo, name, host);
    match outcome {
        Ok(Some(out)) => Measured {
            works: out.success(),
            exit: Some(crate::process::exit_code(&out.status)),
            seconds,
            error: (!out.success()).then(|| first_error(&out.stderr, &out.stdout)),
            left_behind,
        },
        Ok(None) => Measured {
            works: false,
            exit: None,
            seconds,
            error: Some(format!("stopped after {} s", LIMIT.as_secs())),
            left_behind,
        },
        Err(e) => Measured {
            works: false,
            exit: None,
            seconds,
            error: Some(e.message),
            left_behind,
        },
    }
}

/// The line that says what went wrong: dindbox's `error:` line, else the
/// first line the command printed.
pub fn first_error(stderr: &str, stdout: &str) -> String {
    let lines = || stderr.lines().chain(stdout.lines()).map(str::trim);
    lines()
        .find(|l| l.starts_with("error:"))
        .or_else(|| lines().find(|l| !l.is_empty()))
        .unwrap_or("no output")
        .to_string()
}

/// Remove what a run of `name` may have left: its container, its storage
/// volume, its API service's socket. Each one found is named.
fn clean_up(combo: &Combo, name: &str, host: &HostFacts) -> Vec<String> {
    let mut left = Vec::new();
    let Some(facts) = host.engine(combo.engine) else {
        return left;
    };
    let engine = Engine::new(facts.kind, &facts.binary);
    if engine.inspect_container(name).ok().flatten().is_some() {
        let _ = engine.remove_container(name);
        left.push(format!("container {name}"));
    }
    let volume = dind::storage_volume(name);
    if engine.volume_exists(&volume).unwrap_or(false) {
        let _ = engine.remove_volume(&volume);
        left.push(format!("volume {volume}"));
    }
    if let Some(dir) = sock::service_dir(host, name)
        && Path::new(&dir).exists()
    {
        let _ = std::fs::remove_dir_all(&dir);
        left.push(format!("API service directory {dir}"));
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_is_dindboxs_own_line() {
        let stderr = "Trying to pull...\nerror: the inner engine did not answer\n  hint: x\n";
        assert_eq!(
            first_error(stderr, ""),
            "error: the inner engine did not answer"
        );
        assert_eq!(
            first_error("\n  docker: permission denied\n", ""),
            "docker: permission denied"
        );
        assert_eq!(first_error("", "only stdout\n"), "only stdout");
        assert_eq!(first_error("", ""), "no output");
    }
}
