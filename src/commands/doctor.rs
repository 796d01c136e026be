//! `dindbox doctor`: what this host is and allows, and what follows from it.

mod advice;
mod changes;
mod check;
mod facts;
mod matrix;
#[cfg(test)]
mod matrix_tests;
mod render;

use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::plan::ImageFacts;
use crate::probe::facts::HostFacts;
use facts::report;
use matrix::{Combo, Row};

/// `doctor --json`: the facts (as before, at the top level), the matrix and the changes.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    facts: &'a HostFacts,
    matrix: &'a [Row],
    host_changes: &'a [String],
}

pub fn run(args: DoctorArgs) -> Result<i32> {
    let facts = crate::probe::probe();
    let mut rows = matrix::rows(
        &facts,
        |kind, image| sandbox_image(&facts, kind, image),
        row_name,
    );
    if args.check {
        check::all(&mut rows, &facts)?;
    }
    let changes = changes::host_changes(&facts);
    let text = if args.json {
        let report = Report {
            facts: &facts,
            matrix: &rows,
            host_changes: &changes,
        };
        let json = serde_json::to_string_pretty(&report).map_err(|e| {
            Error::failure("could not write the doctor's report as JSON").cause(e.to_string())
        })?;
        format!("{json}\n")
    } else {
        format!("{}\n{}", report(&facts), render::matrix(&rows, &changes))
    };
    crate::output::print(&text)?;
    Ok(0)
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
        crate::commands::run::default_name(combo.mode),
        combo.engine
    )
}

/// What `run` would find of the sandbox image on an engine.
fn sandbox_image(facts: &HostFacts, kind: EngineKind, image: &str) -> Result<ImageFacts> {
    match facts.engine(kind) {
        Some(e) if e.answers => {
            crate::commands::run::image_facts(&Engine::new(e.kind, &e.binary), image)
        }
        _ => Ok(ImageFacts::default()),
    }
}
