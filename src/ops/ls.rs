//! `ls`: dindbox's sandboxes on every engine given, found by label, sorted
//! by name then engine.

use serde::Serialize;

use crate::engine::EngineApi;
use crate::error::Result;
use crate::plan::labels;

/// One sandbox, as `ls` shows it (and `ls --json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub name: String,
    pub engine: String,
    pub mode: String,
    pub inner: String,
    pub status: String,
    pub exit_code: i64,
    pub image: String,
    pub created: String,
    pub workspace: String,
}

pub fn list(engines: &[&dyn EngineApi]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for engine in engines {
        for c in engine.sandboxes()? {
            rows.push(Row {
                engine: engine.kind().name().to_string(),
                mode: c.label(labels::MODE).to_string(),
                inner: c.label(labels::INNER).to_string(),
                image: c.label(labels::IMAGE).to_string(),
                workspace: c.label(labels::WORKDIR).to_string(),
                status: c.status.clone(),
                exit_code: c.exit_code,
                created: c.created.clone(),
                name: c.name,
            });
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.engine.cmp(&b.engine)));
    Ok(rows)
}
