//! `dindbox image build`.

use crate::cli::ImageCommand;
use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
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
        let err = match only {
            Some(kind) if host.engine(kind).is_none() => {
                Error::failure(format!("{kind} is not installed on this host"))
                    .hint(plan::install_hint(kind))
            }
            Some(kind) => Error::failure(format!("{kind} does not answer on this host"))
                .hint(plan::start_hint(kind)),
            None => Error::failure("no container engine answers on this host")
                .hint(plan::install_hint(EngineKind::Podman))
                .hint(plan::install_hint(EngineKind::Docker))
                .hint(plan::start_hint(EngineKind::Docker)),
        };
        return Err(err);
    }
    Ok(engines)
}
