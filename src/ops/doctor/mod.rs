//! `doctor` as an operation: what this host is (its facts), which sandboxes
//! work on it (the matrix, predicted by the planner and, with `check`,
//! started for real), and what would make more of them work.

pub mod advice;
pub mod changes;
pub mod check;
pub mod matrix;
#[cfg(test)]
mod matrix_tests;

use serde::Serialize;

use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::plan::ImageFacts;
use crate::probe::facts::HostFacts;
use matrix::{Combo, Row};

/// The doctor's findings; `--json` prints them as they are: the facts at the
/// top level, the matrix and the changes.
#[derive(Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub facts: HostFacts,
    pub matrix: Vec<Row>,
    pub host_changes: Vec<String>,
}

/// Probe the host afresh, predict every combination, and with `check` start
/// each one for real.
pub fn doctor(check: bool) -> Result<Report> {
    let facts = crate::probe::probe();
    let mut rows = matrix::rows(
        &facts,
        |kind, image| sandbox_image(&facts, kind, image),
        row_name,
    );
    if check {
        check::all(&mut rows, &facts)?;
    }
    let host_changes = changes::host_changes(&facts);
    Ok(Report {
        facts,
        matrix: rows,
        host_changes,
    })
}

/// A name for a row's sandbox: `dindbox-MODE-DATE-TIME-RANDOM-ENGINE[-INNER][-RUNTIME]`.
fn row_name(combo: &Combo) -> String {
    let mut inner = combo.inner.map_or(String::new(), |i| format!("-{i}"));
    if let Some(runtime) = &combo.runtime {
        let safe: String = runtime
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        inner.push_str(&format!("-{safe}"));
    }
    format!(
        "{}-{}{inner}",
        crate::plan::name::default_name(combo.mode),
        combo.engine
    )
}

/// What `run` would find of the sandbox image on an engine.
fn sandbox_image(facts: &HostFacts, kind: EngineKind, image: &str) -> Result<ImageFacts> {
    match facts.engine(kind) {
        Some(e) if e.answers => crate::probe::image::facts(&Engine::new(e.kind, &e.binary), image),
        _ => Ok(ImageFacts::default()),
    }
}
