//! Carry out a plan on the host engine, and leave nothing behind when it fails.

pub mod confine;
pub mod envfile;
pub mod kept;
pub mod lock;
pub mod remove;
pub mod service;
pub mod stepdown;

use crate::engine::{Engine, EngineApi};
use crate::error::{Error, Result, exit};
use crate::plan::Plan;
use crate::process::quote_argv;

/// What this run created, removed again when the sandbox fails to start.
pub(crate) struct Created<'a> {
    pub engine: &'a dyn EngineApi,
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
pub fn check_name_free(engine: &dyn EngineApi, name: &str) -> Result<()> {
    let Some(existing) = engine.inspect_container(name)? else {
        return Ok(());
    };
    if existing.is_sandbox() {
        return Err(Error::usage(format!(
            "a sandbox named `{name}` already exists on {}, and --rm makes a new throw-away one",
            engine.kind()
        ))
        .hint(format!(
            "leave out --rm to run in it, or remove it first: `dindbox rm {name}`"
        )));
    }
    Err(Error::usage(format!(
        "a container named `{name}` already exists on {}",
        engine.kind()
    ))
    .hint("choose another name with `-n NAME`")
    .hint(format!(
        "or remove the old one: `{} rm -f {name}`",
        engine.kind()
    )))
}

/// Run the plan: a kept sandbox is created or attached to, and the command
/// runs in it through `exec`; a throw-away one runs attached, its init
/// running the command. `named`: the user chose the name.
pub fn run(plan: &Plan, named: bool, recreate: bool) -> Result<i32> {
    run_on(&engine_for(plan), plan, named, recreate)
}

/// [`run`], on the engine given.
pub fn run_on(engine: &dyn EngineApi, plan: &Plan, named: bool, recreate: bool) -> Result<i32> {
    if plan.exec.is_some() && plan.rm {
        kept::run_throwaway(engine, plan, named)
    } else if plan.exec.is_some() {
        kept::run(engine, plan, named, recreate)
    } else {
        run_once(engine, plan, named)
    }
}

/// Create the plan's volumes; a volume of that name that exists already is
/// someone's data, and is refused, never reused or removed.
pub(crate) fn create_volumes(
    engine: &dyn EngineApi,
    plan: &Plan,
    created: &mut Created,
) -> Result<()> {
    for volume in &plan.volumes {
        if engine.volume_exists(volume)? {
            return Err(Error::usage(format!(
                "a volume named `{volume}` already exists on {}",
                engine.kind()
            ))
            .hint(format!(
                "remove it if it is stale: `{} volume rm {volume}`",
                engine.kind()
            ))
            .hint("or choose another sandbox name with `-n NAME`"));
        }
        engine.create_volume(volume, &plan.name)?;
        created.volumes.push(volume.clone());
    }
    Ok(())
}

/// Exit statuses with which an engine CLI reports that it could not run the
/// container at all (as opposed to the container's own status).
const ENGINE_FAILED: std::ops::RangeInclusive<i32> = 125..=127;

/// Run a throw-away sandbox attached; the result is the command's exit status.
/// A name the user chose is checked first; a generated one is unique, and
/// not checked (each engine call costs time).
fn run_once(engine: &dyn EngineApi, plan: &Plan, named: bool) -> Result<i32> {
    if named {
        check_name_free(engine, &plan.name)?;
    }
    let signals = crate::signals::Signals::install();
    // The environment's file lives as long as this run, however it ends.
    confine::prepare(plan)?;
    let _env_file = envfile::write(plan)?;
    let mut created = Created {
        engine,
        container: &plan.name,
        volumes: Vec::new(),
    };
    let _service = plan.service.as_ref().map(service::start).transpose()?;
    if let Err(e) = create_volumes(engine, plan, &mut created) {
        created.remove();
        return Err(e);
    }
    if signals.terminated() {
        created.remove();
        return Ok(128 + libc::SIGTERM);
    }
    let argv = plan.argv();
    crate::trace::mark("starting the sandbox");
    let status = engine.attached(&argv, Some(&signals));
    crate::trace::mark("the sandbox exited");
    let code = match status {
        Ok(code) => code,
        Err(e) => {
            created.remove();
            return Err(e);
        }
    };
    if ENGINE_FAILED.contains(&code) && never_started(engine, plan) {
        created.remove();
        return Err(Error::sandbox_not_started(plan.engine)
            .cause(format!("`{}` exited with {code}", quote_argv(&argv)))
            .hint("the engine's message is above; `dindbox doctor` shows what this host allows"));
    }
    if code == exit::INNER_ENGINE && plan.inner.engine.is_some() {
        created.remove();
    }
    Ok(code)
}

/// After an engine-level exit status: whether the container never ran (it is
/// left "created"). A throw-away one that ran is gone, and its status is the
/// command's.
fn never_started(engine: &dyn EngineApi, plan: &Plan) -> bool {
    engine.state(&plan.name).as_deref() == Some("created")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use crate::engine::fake::{FakeEngine, foreign, sandbox};

    /// A throw-away plan on Docker named `box` that owns volume `box-storage`.
    /// (Removing a sandbox also removes its report directory under the
    /// cache directory, by name: `box` is not a name dindbox generates.)
    pub(crate) fn plan() -> Plan {
        let mut plan = crate::plan::tests::sample_plan();
        plan.name = "box".into();
        plan.engine = EngineKind::Docker;
        plan.volumes = vec!["box-storage".into()];
        plan.env_file = None;
        plan.service = None;
        plan.exec = None;
        plan.rm = true;
        plan
    }

    /// The record the fake keeps of a whole command line.
    pub(crate) fn record(how: &str, argv: &[String]) -> String {
        format!("{how}: {}", quote_argv(&argv[1..]))
    }

    #[test]
    fn a_throw_away_sandbox_the_engine_cannot_start_leaves_nothing() {
        let plan = plan();
        let fake = FakeEngine::new(EngineKind::Docker).exits("run", 125, "");
        let err = run_on(&fake, &plan, false, false).unwrap_err();
        assert_eq!(err.message, "docker could not start the sandbox");
        assert_eq!(
            err.causes,
            vec![format!("`{}` exited with 125", quote_argv(&plan.argv()))]
        );
        assert_eq!(
            fake.calls(),
            vec![
                "volume exists box-storage".to_string(),
                "volume create box-storage".into(),
                record("attached", &plan.argv()),
                "state box".into(),
                "rm box".into(),
                "volume rm box-storage".into(),
            ]
        );
        fake.assert_nothing_left();
    }

    #[test]
    fn a_throw_away_run_whose_command_fails_keeps_its_status_and_removes_nothing() {
        let plan = plan();
        let fake = FakeEngine::new(EngineKind::Docker).exits("run", 3, "");
        assert_eq!(run_on(&fake, &plan, false, false).unwrap(), 3);
        // The container ran, so it is not "created": no clean-up of dindbox's,
        // the engine's --rm removes it.
        assert_eq!(
            fake.calls(),
            vec![
                "volume exists box-storage".to_string(),
                "volume create box-storage".into(),
                record("attached", &plan.argv()),
            ]
        );
    }

    #[test]
    fn a_failed_volume_creation_removes_the_volumes_made_before_it_and_starts_nothing() {
        let mut plan = plan();
        plan.volumes = vec!["box-a".into(), "box-b".into()];
        let fake = FakeEngine::new(EngineKind::Docker).failing("volume create box-b");
        let err = run_on(&fake, &plan, false, false).unwrap_err();
        assert_eq!(err.message, "`docker volume create box-b` failed");
        assert_eq!(
            fake.calls(),
            vec![
                "volume exists box-a",
                "volume create box-a",
                "volume exists box-b",
                "volume create box-b",
                "rm box",
                "volume rm box-a",
            ]
        );
        assert!(fake.volumes().is_empty());
    }

    #[test]
    fn an_existing_volume_of_the_name_is_refused_and_never_removed() {
        let plan = plan();
        let fake = FakeEngine::new(EngineKind::Docker).with_volume("box-storage", "someone");
        let err = run_on(&fake, &plan, false, false).unwrap_err();
        assert_eq!(
            err.message,
            "a volume named `box-storage` already exists on docker"
        );
        assert_eq!(err.code, exit::USAGE);
        assert_eq!(fake.volumes(), vec!["box-storage"], "someone's data stays");
        assert!(
            !fake.calls().iter().any(|c| c.starts_with("attached")),
            "nothing was started: {:?}",
            fake.calls()
        );
    }

    #[test]
    fn a_name_in_use_is_refused_before_anything_is_made() {
        let plan = plan();
        let fake = FakeEngine::new(EngineKind::Docker).with_container(foreign("box", "running"));
        let err = run_on(&fake, &plan, true, false).unwrap_err();
        assert_eq!(
            err.message,
            "a container named `box` already exists on docker"
        );
        assert_eq!(
            err.hints,
            vec![
                "choose another name with `-n NAME`",
                "or remove the old one: `docker rm -f box`"
            ]
        );
        assert_eq!(err.code, exit::USAGE);
        assert_eq!(fake.calls(), vec!["inspect box"]);
        assert_eq!(fake.containers(), vec!["box running"]);

        let fake = FakeEngine::new(EngineKind::Docker).with_container(sandbox("box", "exited"));
        let err = run_on(&fake, &plan, true, false).unwrap_err();
        assert_eq!(
            err.message,
            "a sandbox named `box` already exists on docker, and --rm makes a new throw-away one"
        );
        assert_eq!(fake.calls(), vec!["inspect box"]);
        assert_eq!(fake.containers(), vec!["box exited"]);
    }

    #[test]
    fn a_generated_name_is_not_checked() {
        let plan = plan();
        let fake = FakeEngine::new(EngineKind::Docker);
        assert_eq!(run_on(&fake, &plan, false, false).unwrap(), 0);
        assert_eq!(fake.calls()[0], "volume exists box-storage");
    }
}
