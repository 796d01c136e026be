//! The commands that work on existing sandboxes: `exec`, `ls`, `start`,
//! `stop`, `rm`, `logs`, `prune`. Each reads its flags into a request, runs
//! the operation in `crate::ops`, and renders what it returns.

pub mod exec;
pub mod logs;
pub mod ls;
pub mod prune;
pub mod rm;
pub mod start;

use crate::cli::EngineArg;
use crate::engine::{Engine, EngineApi};
use crate::error::Result;
use crate::ops;
use crate::plan;

/// The engines to look on: the one named, or every one on PATH that answers.
pub fn engines(arg: &EngineArg) -> Result<Vec<Engine>> {
    let kind = arg
        .engine
        .as_deref()
        .map(|e| plan::parse_engine("engine", e))
        .transpose()?;
    ops::engines::answering(ops::engines::on_path(kind))
}

/// The engines, as the operations take them.
pub fn apis(engines: &[Engine]) -> Vec<&dyn EngineApi> {
    engines.iter().map(|e| e as &dyn EngineApi).collect()
}
