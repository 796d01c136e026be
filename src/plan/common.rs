//! `common`: a plain sandbox with no engine reachable from inside.

use crate::error::Result;
use crate::probe::facts::{EngineFacts, HostFacts};

use super::{Plan, Request};

pub fn apply(
    plan: &mut Plan,
    _req: &Request,
    _host: &HostFacts,
    engine: &EngineFacts,
) -> Result<()> {
    plan.notes.push(format!(
        "no engine socket is mounted and no engine is started: the sandbox cannot reach {} or start containers",
        engine.kind
    ));
    Ok(())
}
