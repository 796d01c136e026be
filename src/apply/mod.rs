//! Carry out a plan on the host engine, and leave nothing behind when it fails.

pub mod service;
pub mod signals;
pub mod stepdown;

use crate::engine::Engine;
use crate::error::{Error, Result, exit};
use crate::plan::{Plan, labels};
use crate::process::{Cmd, exit_code};

/// What this run created, removed again when the sandbox fails to start.
struct Created<'a> {
    engine: &'a Engine,
    container: &'a str,
    volumes: Vec<String>,
}

impl Created<'_> {
    fn remove(&self) {
        // Best effort: an error here must not hide the one being reported.
        let _ = self.engine.remove_container(self.container);
        for volume in &self.volumes {
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

/// Create the plan's volumes; a volume of that name that exists already is
/// someone's data, and is refused, never reused or removed.
fn create_volumes(engine: &Engine, plan: &Plan, created: &mut Created) -> Result<()> {
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
        created.volumes.push(volume.clone());
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
    let signals = signals::Signals::install();
    let mut created = Created {
        engine: &engine,
        container: &plan.name,
        volumes: Vec::new(),
    };
    let _service = plan.service.as_ref().map(service::start).transpose()?;
    if let Err(e) = create_volumes(&engine, plan, &mut created) {
        created.remove();
        return Err(e);
    }
    if signals.terminated() {
        created.remove();
        return Ok(128 + libc::SIGTERM);
    }
    let argv = plan.argv();
    let cmd = Cmd::new(&argv[0]).args(argv[1..].iter().cloned());
    crate::trace::mark("starting the sandbox");
    let status = cmd.spawn_attached().and_then(|mut child| {
        signals.pass_to(child.id());
        child
            .wait()
            .map_err(|e| Error::failure(format!("lost `{}`", cmd.display())).cause(e.to_string()))
    });
    crate::trace::mark("the sandbox exited");
    let code = match status {
        Ok(status) => exit_code(&status),
        Err(e) => {
            created.remove();
            return Err(e);
        }
    };
    if ENGINE_FAILED.contains(&code) && never_started(&engine, plan) {
        created.remove();
        return Err(
            Error::failure(format!("{} could not start the sandbox", plan.engine))
                .cause(format!("`{}` exited with {code}", cmd.display()))
                .hint(
                    "the engine's message is above; `dindbox doctor` shows what this host allows",
                ),
        );
    }
    let inner_failed = code == exit::INNER_ENGINE && plan.inner.engine.is_some();
    let kept_on_purpose = named && !plan.rm;
    if inner_failed && !kept_on_purpose {
        created.remove();
    }
    Ok(code)
}

/// After an engine-level exit status: whether the container never ran. It is
/// left "created", or, for a kept sandbox, it does not exist at all. (A
/// throw-away one that ran is gone too, and its status is the command's.)
fn never_started(engine: &Engine, plan: &Plan) -> bool {
    match state(engine, &plan.name).as_deref() {
        Some("created") => true,
        None => !plan.rm,
        Some(_) => false,
    }
}
