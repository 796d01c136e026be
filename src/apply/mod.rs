//! Carry out a plan on the host engine, and leave nothing behind when it fails.

pub mod service;
pub mod signals;

use crate::engine::Engine;
use crate::error::{Error, Result, exit};
use crate::plan::{Plan, labels};
use crate::process::{Cmd, exit_code};

/// What is to be removed if the run fails before the command ran.
struct Leftovers<'a> {
    engine: &'a Engine,
    plan: &'a Plan,
}

impl Leftovers<'_> {
    fn remove(&self) {
        // Best effort: an error here must not hide the one being reported.
        let _ = self.engine.remove_container(&self.plan.name);
        for volume in &self.plan.volumes {
            let _ = self.engine.remove_volume(volume);
        }
    }
}

pub fn engine_for(plan: &Plan) -> Engine {
    let mut engine = Engine::new(plan.engine, &plan.engine_binary);
    engine.global = plan
        .global
        .iter()
        .flat_map(|a| a.args.iter().cloned())
        .collect();
    engine
}

/// Refuse a name that an existing container already has.
pub fn check_name_free(engine: &Engine, name: &str) -> Result<()> {
    if engine.container_exists(name)? {
        return Err(Error::usage(format!(
            "a container named `{name}` already exists on {}",
            engine.kind
        ))
        .hint("choose another name with `-n NAME`")
        .hint(format!(
            "or remove the old one: `{} rm -f {name}`",
            engine.kind
        )));
    }
    Ok(())
}

fn create_volumes(engine: &Engine, plan: &Plan) -> Result<()> {
    for volume in &plan.volumes {
        if engine.volume_exists(volume)? {
            return Err(Error::usage(format!(
                "a volume named `{volume}` already exists on {}",
                engine.kind
            ))
            .hint(format!(
                "remove it if it is stale: `{} volume rm {volume}`",
                engine.kind
            ))
            .hint("or choose another sandbox name with `-n NAME`"));
        }
        engine
            .cmd()
            .args(["volume", "create", "--label"])
            .arg(format!("{}={}", labels::SANDBOX, plan.name))
            .args(["--label", &format!("{}=true", labels::MANAGED)])
            .arg(volume.clone())
            .run()?;
    }
    Ok(())
}

/// The container's state ("created", "running", "exited"), None when it is gone.
fn state(engine: &Engine, name: &str) -> Option<String> {
    let out = engine
        .cmd()
        .args([
            "container",
            "inspect",
            "--format",
            "{{.State.Status}}",
            name,
        ])
        .output()
        .ok()?;
    out.success().then(|| out.stdout.trim().to_string())
}

/// Exit statuses with which an engine CLI reports that it could not run the
/// container at all (as opposed to the container's own status).
const ENGINE_FAILED: std::ops::RangeInclusive<i32> = 125..=127;

/// Run the sandbox attached; the result is the command's exit status.
/// `named`: the user chose the name. Such a name is checked first, and a named
/// sandbox without --rm is kept even when its inner engine fails. A generated
/// name is unique, and not checked (each engine call costs time).
pub fn run(plan: &Plan, named: bool) -> Result<i32> {
    let engine = engine_for(plan);
    if named {
        check_name_free(&engine, &plan.name)?;
    }
    let keep_on_failure = named && !plan.rm;
    let leftovers = Leftovers {
        engine: &engine,
        plan,
    };
    let _service = plan.service.as_ref().map(service::start).transpose()?;
    if let Err(e) = create_volumes(&engine, plan) {
        leftovers.remove();
        return Err(e);
    }
    let argv = plan.argv();
    let cmd = Cmd::new(&argv[0]).args(argv[1..].iter().cloned());
    crate::trace::mark("starting the sandbox");
    let status = cmd.spawn_attached().and_then(|mut child| {
        let _passing = signals::PassSignalsTo::child(child.id());
        child
            .wait()
            .map_err(|e| Error::failure(format!("lost `{}`", cmd.display())).cause(e.to_string()))
    });
    crate::trace::mark("the sandbox exited");
    let code = match status {
        Ok(status) => exit_code(&status),
        Err(e) => {
            leftovers.remove();
            return Err(e);
        }
    };
    // The engine could not start the container at all: it may still exist, "created".
    if ENGINE_FAILED.contains(&code) && state(&engine, &plan.name).as_deref() == Some("created") {
        leftovers.remove();
        return Err(
            Error::failure(format!("{} could not start the sandbox", plan.engine))
                .cause(format!("`{}` exited with {code}", cmd.display()))
                .hint(
                    "the engine's message is above; `dindbox doctor` shows what this host allows",
                ),
        );
    }
    if code == exit::INNER_ENGINE && !keep_on_failure {
        leftovers.remove();
    } else if plan.rm {
        // The engine removes a --rm container itself; make sure of its named volumes.
        for volume in &plan.volumes {
            let _ = engine.remove_volume(volume);
        }
    }
    Ok(code)
}
