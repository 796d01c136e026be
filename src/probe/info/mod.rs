//! What an engine says of itself: `info` asked through its CLI and read
//! into facts (one parser per engine, tested on recorded answers).

pub mod docker;
pub mod podman;

use std::time::Duration;

use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::probe::facts::EngineFacts;

/// How long `info` may take before the engine counts as not answering.
const INFO_LIMIT: Duration = Duration::from_secs(15);

/// Parse `kind`'s `info` JSON into facts.
pub fn parse(kind: EngineKind, binary: &str, json: &str) -> Result<EngineFacts> {
    match kind {
        EngineKind::Docker => docker::parse_info(binary, json),
        EngineKind::Podman => podman::parse_info(binary, json),
    }
}

/// Ask `info`; the facts say whether it answered and why not.
pub fn ask(engine: &Engine) -> EngineFacts {
    let format = engine.kind.cli().info_format;
    let cmd = engine.cmd().args(["info", "--format", format]);
    let mut facts = EngineFacts::new(engine.kind, &engine.binary);
    match cmd.output_within(INFO_LIMIT) {
        Ok(Some(out)) if out.success() => match parse(engine.kind, &engine.binary, &out.stdout) {
            Ok(parsed) => facts = parsed,
            Err(e) => facts.error = Some(e.to_string()),
        },
        Ok(Some(out)) => facts.error = Some(crate::process::tail(&out.stderr, 3)),
        Ok(None) => {
            facts.error = Some(format!(
                "`{}` did not answer in {}s",
                cmd.display(),
                INFO_LIMIT.as_secs()
            ))
        }
        Err(e) => facts.error = Some(e.to_string()),
    }
    facts
}
