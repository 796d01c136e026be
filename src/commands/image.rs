//! `dindbox image build`.

use crate::cli::ImageCommand;
use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::image;
use crate::plan;
use crate::probe;

pub fn run(cmd: ImageCommand) -> Result<i32> {
    match cmd {
        ImageCommand::Build(args) => {
            let only = args
                .engine
                .as_deref()
                .map(|e| plan::parse_engine("engine", e))
                .transpose()?;
            let engines = answering_engines(only)?;
            image::build(&engines, args.offline, args.force, args.systemd)?;
            Ok(0)
        }
    }
}

/// The engines to build into: the one named, or every one that answers.
fn answering_engines(only: Option<EngineKind>) -> Result<Vec<Engine>> {
    let host = probe::probe_for(only);
    let mut engines = Vec::new();
    for facts in host.engines.iter().filter(|e| e.answers) {
        let mut engine = Engine::new(facts.kind, &facts.binary);
        if let Some(runtime) = plan::runtime_override(&host, facts)? {
            engine.global = crate::render::podman::global_runtime(&runtime.value);
        }
        engines.push(engine);
    }
    if engines.is_empty() {
        return Err(match only {
            Some(kind) => plan::select::named(&host, kind).err(),
            None => None,
        }
        .unwrap_or_else(|| plan::select::none_answers(&host)));
    }
    Ok(engines)
}
