//! Kept sandboxes: `run` creates the sandbox, or finds the one of that name
//! and attaches to it, then runs the command in it through `exec`.

use super::lock::Lock;
use super::{Created, create_volumes, remove, service};
use crate::engine::EngineApi;
use crate::engine::container::Container;
use crate::error::{Error, Result, exit};
use crate::plan::{Plan, identity};
use crate::process::tail;
use crate::signals::Signals;

/// How long a sandbox whose `exec` was killed may take to be seen stopped.
const STOPPING: std::time::Duration = std::time::Duration::from_secs(3);

/// How many lines of the sandbox's output a failed start shows.
const LOG_TAIL: &str = "30";

pub fn run(engine: &dyn EngineApi, plan: &Plan, named: bool, recreate: bool) -> Result<i32> {
    let signals = Signals::install();
    let lock = Lock::acquire(plan.engine, &plan.name)?;
    // Podman's API service for a sock sandbox runs as long as the sandbox.
    if let Some(service) = &plan.service {
        service::ensure(service)?;
    }
    let made_now = match engine.inspect_container(&plan.name)? {
        Some(existing) => attach(engine, plan, &existing, recreate),
        None => create(engine, plan).map(|()| true),
    };
    let made_now = made_now.inspect_err(|_| {
        // No sandbox, no service: one started for it goes again.
        if let (Some(service), Ok(None)) = (&plan.service, engine.inspect_container(&plan.name)) {
            service::stop(service);
        }
    })?;
    drop(lock);
    if made_now {
        eprintln!(
            "dindbox: sandbox {} keeps running after this command: `dindbox exec {0}` runs another, `dindbox rm {0}` removes it",
            plan.name
        );
    }
    if signals.terminated() {
        if made_now {
            let _ = remove::sandbox(engine, &plan.name, false, false);
        }
        return Ok(128 + libc::SIGTERM);
    }
    let code = exec_command(engine, plan, &signals)?;
    if !init_failed(engine, plan, code)? {
        return Ok(code);
    }
    if made_now && !named {
        let _ = remove::sandbox(engine, &plan.name, false, false);
    } else {
        if plan.inner.systemd {
            // systemd goes on without the engine's unit: the sandbox stops as others do.
            let _ = engine.stop(&plan.name, None);
        }
        eprintln!(
            "dindbox: sandbox {0} is kept, stopped: `dindbox logs {0} --inner` shows the inner engine's log, `dindbox start {0}` tries again, `dindbox rm {0}` removes it",
            plan.name
        );
    }
    Ok(exit::INNER_ENGINE)
}

/// A throw-away sandbox whose PID 1 is systemd: started in the background,
/// the command run in it through `exec`, and removed with its storage however
/// the command ends (SIGINT and SIGTERM included).
pub fn run_throwaway(engine: &dyn EngineApi, plan: &Plan, named: bool) -> Result<i32> {
    if named {
        super::check_name_free(engine, &plan.name)?;
    }
    let signals = Signals::install();
    create(engine, plan)?;
    crate::trace::mark("the sandbox started");
    let _removal = Removal {
        engine,
        name: &plan.name,
    };
    if signals.terminated() {
        return Ok(128 + libc::SIGTERM);
    }
    let code = exec_command(engine, plan, &signals)?;
    crate::trace::mark("the command exited");
    if init_failed(engine, plan, code)? {
        return Ok(exit::INNER_ENGINE);
    }
    // An interrupted `exec` CLI ends with a status of its own (Docker's 0,
    // Podman's 1): the run's status is the signal's, as a shell would say.
    match signals.received() {
        Some(sig) if code <= 128 => Ok(128 + sig),
        _ => Ok(code),
    }
}

/// Removes a throw-away sandbox when its run ends.
struct Removal<'a> {
    engine: &'a dyn EngineApi,
    name: &'a str,
}

impl Drop for Removal<'_> {
    fn drop(&mut self) {
        crate::trace::mark("removing the sandbox");
        if let Err(e) = remove::sandbox(self.engine, self.name, false, false) {
            eprintln!("{e}");
        }
        crate::trace::mark("the sandbox is removed");
    }
}

/// Run the plan's command in the sandbox through `exec`; its status.
fn exec_command(engine: &dyn EngineApi, plan: &Plan, signals: &Signals) -> Result<i32> {
    let argv = plan
        .exec_argv()
        .expect("the plan runs its command through exec");
    engine.attached(&argv, Some(signals))
}

/// After a command's non-zero status: whether it is the sandbox's failure
/// (its init ended with 121, or under systemd the engine's unit reported
/// failure to `enter`) rather than the command's own; the end of the
/// sandbox's output is shown when the command could not say why.
fn init_failed(engine: &dyn EngineApi, plan: &Plan, code: i32) -> Result<bool> {
    if code == 0 {
        return Ok(false);
    }
    if plan.inner.systemd && code == exit::INNER_ENGINE {
        let unit = crate::init::systemd::UNIT;
        let args = [
            "exec",
            &plan.name,
            "systemctl",
            "is-failed",
            "--quiet",
            unit,
        ];
        let failed = engine
            .output(&engine.argv(&args.map(String::from)))
            .is_ok_and(|o| o.success());
        return Ok(failed);
    }
    if code == 128 + libc::SIGKILL {
        // `exec` killed as the sandbox went down: its init may be exiting
        // still, and the engine shows the state it leaves only after.
        crate::process::wait_for(STOPPING, || {
            engine.state(&plan.name).as_deref() != Some("running")
        });
    }
    match engine.inspect_container(&plan.name)? {
        Some(c) if !c.running() && c.exit_code == i64::from(exit::INNER_ENGINE) => {
            if code != exit::INNER_ENGINE {
                show_log_tail(engine, &plan.name);
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// An existing container of the sandbox's name: attach when it is the same
/// sandbox, replace it with --recreate, refuse otherwise. Whether a new one
/// was made.
fn attach(
    engine: &dyn EngineApi,
    plan: &Plan,
    existing: &Container,
    recreate: bool,
) -> Result<bool> {
    if !existing.is_sandbox() {
        return Err(Error::usage(format!(
            "a container named `{}` already exists on {}, and dindbox did not make it",
            plan.name,
            engine.kind()
        ))
        .hint("choose another name with `-n NAME`"));
    }
    let differences = identity::differences(&existing.labels, &plan.identity);
    if differences.is_empty() {
        if !existing.running() {
            engine.start(&plan.name)?;
        }
        return Ok(false);
    }
    if !recreate {
        let mut err = Error::usage(format!(
            "sandbox `{}` exists, made with other settings",
            plan.name
        ));
        for d in differences {
            err = err.cause(d);
        }
        return Err(err
            .hint(format!(
                "`--recreate` replaces it (its inner storage too), or `dindbox rm {}` first",
                plan.name
            ))
            .hint("or choose another name with `-n NAME`"));
    }
    remove::sandbox(engine, &plan.name, false, true)?;
    create(engine, plan)?;
    Ok(true)
}

/// Create the sandbox's volumes and start it in the background.
fn create(engine: &dyn EngineApi, plan: &Plan) -> Result<()> {
    // The environment's file is read when the sandbox is created.
    super::confine::prepare(plan)?;
    let _env_file = super::envfile::write(plan)?;
    let mut created = Created {
        engine,
        container: &plan.name,
        volumes: Vec::new(),
    };
    if let Err(e) = create_volumes(engine, plan, &mut created) {
        created.remove();
        return Err(e);
    }
    crate::trace::mark("starting the sandbox");
    let out = engine.output(&plan.argv())?;
    if !out.success() {
        created.remove();
        return Err(Error::sandbox_not_started(plan.engine)
            .cause(tail(&out.stderr, 5))
            .hint("`dindbox doctor` shows what this host allows"));
    }
    Ok(())
}

/// The end of the sandbox's own output: where its init said what failed.
fn show_log_tail(engine: &dyn EngineApi, name: &str) {
    let args = ["logs", "--tail", LOG_TAIL, name].map(String::from);
    if let Ok(out) = engine.output(&engine.argv(&args)) {
        eprint!("{}{}", out.stdout, out.stderr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::tests::{plan, record};
    use crate::engine::EngineKind;
    use crate::engine::fake::{FakeEngine, foreign, sandbox};
    use crate::plan::labels;

    /// A kept sandbox's plan: its command runs through `exec`.
    fn kept_plan() -> Plan {
        let mut plan = plan();
        plan.rm = false;
        plan.exec = Some(["exec", "-i", "box", "true"].map(String::from).to_vec());
        plan
    }

    /// The sandbox `plan` makes, as the engine reports it, in `status`.
    fn made_by(plan: &Plan, status: &str) -> Container {
        let mut c = sandbox(&plan.name, status);
        c.labels.extend(plan.identity.clone());
        c
    }

    #[test]
    fn the_same_sandbox_stopped_is_started_again_and_nothing_new_is_made() {
        let plan = kept_plan();
        let existing = made_by(&plan, "exited");
        let fake = FakeEngine::new(EngineKind::Docker).with_container(existing.clone());
        assert!(!attach(&fake, &plan, &existing, false).unwrap());
        assert_eq!(fake.calls(), vec!["start box"]);
        assert_eq!(fake.containers(), vec!["box running"]);
    }

    #[test]
    fn the_same_sandbox_running_is_used_as_it_is() {
        let plan = kept_plan();
        let existing = made_by(&plan, "running");
        let fake = FakeEngine::new(EngineKind::Docker).with_container(existing.clone());
        assert!(!attach(&fake, &plan, &existing, false).unwrap());
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    }

    #[test]
    fn a_container_dindbox_did_not_make_is_never_attached_to() {
        let plan = kept_plan();
        let existing = foreign("box", "running");
        let fake = FakeEngine::new(EngineKind::Podman).with_container(existing.clone());
        let err = attach(&fake, &plan, &existing, true).unwrap_err();
        assert_eq!(
            err.message,
            "a container named `box` already exists on podman, and dindbox did not make it"
        );
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
        assert_eq!(fake.containers(), vec!["box running"]);
    }

    #[test]
    fn a_sandbox_made_with_other_settings_is_refused_unless_recreated() {
        let plan = kept_plan();
        let mut existing = made_by(&plan, "running");
        existing.labels.insert(labels::MODE.into(), "dind".into());
        let fake = FakeEngine::new(EngineKind::Docker)
            .with_container(existing.clone())
            .with_volume("box-storage", "box");
        let err = attach(&fake, &plan, &existing, false).unwrap_err();
        assert_eq!(
            err.message,
            "sandbox `box` exists, made with other settings"
        );
        assert!(err.causes[0].contains("mode"), "{err}");
        assert!(fake.calls().is_empty(), "refused before any change");

        assert!(attach(&fake, &plan, &existing, true).unwrap(), "made anew");
        assert_eq!(
            fake.calls(),
            vec![
                "inspect box".to_string(),
                "stop box".into(),
                "rm box".into(),
                "volumes box".into(),
                "volume rm box-storage".into(),
                "volume exists box-storage".into(),
                "volume create box-storage".into(),
                record("output", &plan.argv()),
            ]
        );
        assert_eq!(fake.containers(), vec!["box running"]);
        assert_eq!(fake.volumes(), vec!["box-storage"], "fresh storage");
    }

    #[test]
    fn a_kept_sandbox_that_cannot_be_created_leaves_nothing() {
        let mut plan = kept_plan();
        plan.rm = true;
        let fake = FakeEngine::new(EngineKind::Docker).exits("run", 125, "no such runtime\n");
        let err = run_throwaway(&fake, &plan, false).unwrap_err();
        assert_eq!(err.message, "docker could not start the sandbox");
        assert_eq!(err.causes, vec!["no such runtime"]);
        assert_eq!(
            fake.calls(),
            vec![
                "volume exists box-storage".to_string(),
                "volume create box-storage".into(),
                record("output", &plan.argv()),
                "rm box".into(),
                "volume rm box-storage".into(),
            ]
        );
        fake.assert_nothing_left();
    }

    #[test]
    fn a_throw_away_kept_sandbox_goes_with_its_storage_when_its_command_ends() {
        let mut plan = kept_plan();
        plan.rm = true;
        let fake = FakeEngine::new(EngineKind::Docker).exits("exec", 4, "");
        assert_eq!(run_throwaway(&fake, &plan, false).unwrap(), 4);
        assert_eq!(
            fake.calls(),
            vec![
                "volume exists box-storage".to_string(),
                "volume create box-storage".into(),
                record("output", &plan.argv()),
                record("attached", &plan.exec_argv().unwrap()),
                "inspect box".into(),
                "inspect box".into(),
                "rm box".into(),
                "volumes box".into(),
                "volume rm box-storage".into(),
            ]
        );
        fake.assert_nothing_left();
    }

    #[test]
    fn a_named_throw_away_kept_sandbox_refuses_a_name_in_use() {
        let mut plan = kept_plan();
        plan.rm = true;
        let fake = FakeEngine::new(EngineKind::Docker).with_container(foreign("box", "exited"));
        let err = run_throwaway(&fake, &plan, true).unwrap_err();
        assert_eq!(
            err.message,
            "a container named `box` already exists on docker"
        );
        assert_eq!(fake.calls(), vec!["inspect box"]);
        assert_eq!(fake.containers(), vec!["box exited"]);
    }
}
