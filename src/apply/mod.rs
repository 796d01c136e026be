//! Carry out a plan on the host engine, and leave nothing behind when it fails.

pub mod envfile;
pub mod kept;
pub mod lock;
pub mod remove;
pub mod service;
pub mod signals;
pub mod stepdown;

use crate::engine::Engine;
use crate::error::{Error, Result, exit};
use crate::plan::{Plan, labels};
use crate::process::{Cmd, exit_code};

/// What this run created, removed again when the sandbox fails to start.
pub(crate) struct Created<'a> {
    pub engine: &'a Engine,
    pub container: &'a str,
    pub volumes: Vec<String>,
}

impl Created<'_> {
    pub fn remove(&self) {
        // Best effort: an error here must not hide the one being reported.
        let _ = self.engine.remove_container(self.container);
        for volume in &self.volumes {
            let _ = self.engine.remove_volume(volume);
        }
    }
}

pub fn engine_for(plan: &Plan) -> Engine {
    let mut engine = Engine::new(plan.engine, &plan.engine_binary);
    engine.global = plan.global_args();
    engine
}

/// Refuse a name that an existing container already has.
pub fn check_name_free(engine: &Engine, name: &str) -> Result<()> {
    let Some(existing) = engine.inspect_container(name)? else {
        return Ok(());
    };
    if existing.is_sandbox() {
        return Err(Error::usage(format!(
            "a sandbox named `{name}` already exists on {}, and --rm makes a new throw-away one",
            engine.kind
        ))
        .hint(format!(
            "leave out --rm to run in it, or remove it first: `dindbox rm {name}`"
        )));
    }
    Err(Error::usage(format!(
        "a container named `{name}` already exists on {}",
        engine.kind
    ))
    .hint("choose another name with `-n NAME`")
    .hint(format!(
        "or remove the old one: `{} rm -f {name}`",
        engine.kind
    )))
}

/// Run the plan: a kept sandbox is created or attached to, and the command
/// runs in it through `exec`; a throw-away one runs attached, its init
/// running the command. `named`: the user chose the name.
pub fn run(plan: &Plan, named: bool, recreate: bool) -> Result<i32> {
    if plan.exec.is_some() && plan.rm {
        kept::run_throwaway(plan, named)
    } else if plan.exec.is_some() {
        kept::run(plan, named, recreate)
    } else {
        run_once(plan, named)
    }
}

/// Create the plan's volumes; a volume of that name that exists already is
/// someone's data, and is refused, never reused or removed.
pub(crate) fn create_volumes(engine: &Engine, plan: &Plan, created: &mut Created) -> Result<()> {
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
pub(crate) fn state(engine: &Engine, name: &str) -> Option<String> {
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

/// Run a throw-away sandbox attached; the result is the command's exit status.
/// A name the user chose is checked first; a generated one is unique, and
/// not checked (each engine call costs time).
fn run_once(plan: &Plan, named: bool) -> Result<i32> {
    let engine = engine_for(plan);
    if named {
        check_name_free(&engine, &plan.name)?;
    }
    let signals = signals::Signals::install();
    // The environment's file lives as long as this run, however it ends.
    let _env_file = envfile::write(plan)?;
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
    if code == exit::INNER_ENGINE && plan.inner.engine.is_some() {
        created.remove();
    }
    Ok(code)
}

/// After an engine-level exit status: whether the container never ran (it is
/// left "created"). A throw-away one that ran is gone, and its status is the
/// command's.
fn never_started(engine: &Engine, plan: &Plan) -> bool {
    state(engine, &plan.name).as_deref() == Some("created")
}
