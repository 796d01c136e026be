//! `export systemd` as operations: the facts a unit for an existing kept
//! sandbox is made from, and the plan a Quadlet file is spelled from.
//!
//! The unit needs only what the sandbox's labels and its engine say (it
//! starts the sandbox as it was made). A Quadlet file makes the sandbox
//! afresh at every start, so it needs the whole plan; the labels record what
//! the sandbox was made from (mode, inner engine, image, runtime, mounts,
//! ports, names of its environment) but not all of it (limits, network,
//! `--privileged`, `--host-root`, `--inner-iptables`, the environment's
//! values), so the plan is made from the same options as `dindbox plan`'s.

use std::path::{Path, PathBuf};

use crate::engine::container::Container;
use crate::engine::{Engine, EngineApi, EngineKind};
use crate::error::{Error, Result};
use crate::plan::{Mode, Plan, Request, labels};
use crate::render::systemd::Unit;
use crate::spec::Why;

/// The facts of the unit for the kept sandbox `name`, found on `engines`,
/// started by the dindbox binary `dindbox`.
pub fn unit(engines: &[Engine], name: &str, dindbox: &Path, home: Option<PathBuf>) -> Result<Unit> {
    let apis: Vec<&dyn EngineApi> = engines.iter().map(|e| e as &dyn EngineApi).collect();
    let (api, sandbox) = super::find(&apis, name)?;
    let engine = engines
        .iter()
        .find(|e| e.kind == api.kind())
        .expect("the sandbox was found on one of the engines");
    let facts = crate::probe::info::ask(engine);
    let rootless = if facts.error.is_none() {
        facts.rootless
    } else {
        // Podman as a user is rootless Podman; Docker's daemon could be either.
        engine.kind == EngineKind::Podman && unsafe { libc::geteuid() } != 0
    };
    let host = Host {
        engine: engine.kind,
        rootless,
        dindbox,
        engine_binary: Path::new(&engine.binary),
        home,
    };
    unit_of(&sandbox, &host)
}

/// Where the sandbox runs and what runs it.
#[derive(Debug, Clone)]
pub struct Host<'a> {
    pub engine: EngineKind,
    pub rootless: bool,
    pub dindbox: &'a Path,
    pub engine_binary: &'a Path,
    pub home: Option<PathBuf>,
}

/// The unit's facts from the sandbox as its engine reports it. A throw-away
/// sandbox is refused: it is gone when its command ends.
pub fn unit_of(sandbox: &Container, host: &Host) -> Result<Unit> {
    let name = &sandbox.name;
    if sandbox.auto_remove {
        return Err(Error::usage(format!(
            "`{name}` is a throw-away sandbox (made with --rm): it is removed when its command ends, and no unit can start it again"
        ))
        .hint(format!(
            "make a kept one, `dindbox run -n {name} ...` without --rm, then `dindbox export systemd {name}`"
        )));
    }
    let mode = sandbox.label(labels::MODE).to_string();
    let paths = sandbox
        .label(labels::MOUNTS)
        .split(',')
        .filter(|m| m.starts_with('/'))
        .filter_map(|m| m.split(':').next())
        .map(String::from)
        .collect();
    Ok(Unit {
        name: name.clone(),
        podman_socket: host.engine == EngineKind::Podman
            && mode == Mode::Sock.name()
            && sandbox.label(labels::SERVICE).is_empty(),
        mode,
        engine: host.engine,
        rootless: host.rootless,
        dindbox: host.dindbox.to_path_buf(),
        engine_binary: host.engine_binary.to_path_buf(),
        ready_timeout_ms: sandbox.label(labels::TIMEOUT).parse().unwrap_or(60_000),
        paths,
        home: host.home.clone(),
    })
}

/// A sandbox planned for Quadlet, with how its engine runs.
#[derive(Debug, Clone)]
pub struct QuadletPlan {
    pub plan: Plan,
    pub rootless: bool,
    /// The sandbox mounts Podman's API socket, which `podman.socket` serves.
    pub podman_socket: bool,
}

fn not_podman(name: &str) -> Error {
    Error::usage("a Quadlet file runs the sandbox on Podman, and this sandbox's engine is Docker")
        .hint(format!(
            "on Docker, make the sandbox with `dindbox run -n {name} ...` and export the unit that starts it through dindbox: `dindbox export systemd {name}` (without --quadlet)"
        ))
        .hint("or plan it on Podman: `--engine podman`")
}

/// `request` as a kept sandbox that a file describes and something other
/// than dindbox starts (Quadlet, devcontainer, a pod's runtime), afresh each
/// time: named, with no command of `run`'s, and dindbox's seccomp profile
/// where it lasts past a reboot, which empties /run.
pub fn kept_request(mut request: Request) -> Request {
    request.rm = false;
    request.named = true;
    request.command = None;
    request.tty = false;
    request.profiles_dir = crate::paths::cache_dir().join("profiles");
    request
}

/// `request` planned as a kept sandbox that something other than dindbox
/// starts (Quadlet, devcontainer), without the directory through which the
/// init reports its set-up to the `run` that waits for it. Refused where the
/// sandbox would need a Podman API service that dindbox serves itself
/// (`cannot` says who cannot start it). Also whether the engine is rootless
/// and runs under another kernel.
fn kept(request: Request, cannot: &str) -> Result<(Plan, bool, bool)> {
    let planned = super::run::prepare(kept_request(request))?;
    let (rootless, remote) = planned
        .engine_facts()
        .map_or((false, false), |e| (e.rootless, e.remote));
    let image_id = planned.image_id;
    let mut plan = planned.plan;
    if plan.service.is_some() {
        return Err(Error::refused(format!(
            "the sandbox would mount a Podman API socket that dindbox serves itself, and {cannot}"
        ))
        .hint("start Podman's own socket, which the sandbox then mounts, and export again: `systemctl enable --now podman.socket` (rootless: `systemctl --user enable --now podman.socket`)"));
    }
    crate::plan::memory::without_report(&mut plan);
    super::run::ensure_image(&plan, &image_id)?;
    Ok((plan, rootless, remote))
}

/// The plan of `request` as a kept sandbox that Quadlet starts: on Podman,
/// with nothing running on the host beside it.
pub fn quadlet(request: Request) -> Result<QuadletPlan> {
    if request.engine == Some(EngineKind::Docker) {
        return Err(not_podman(&request.name));
    }
    let (plan, rootless, remote) = kept(request, "no Quadlet file can start that service")?;
    if plan.engine != EngineKind::Podman {
        return Err(not_podman(&plan.name));
    }
    if remote {
        return Err(Error::refused(
            "Podman runs under another kernel (a `podman machine` or another machine), whose systemd would run a Quadlet file, with paths of this machine in it",
        )
        .hint(format!(
            "make the sandbox with `dindbox run -n {0} ...` and export the unit that starts it from here: `dindbox export systemd {0}`",
            plan.name
        )));
    }
    Ok(QuadletPlan {
        podman_socket: plan.mode == Mode::Sock,
        plan,
        rootless,
    })
}

/// The plan of `request` as a kept sandbox that the devcontainer CLI
/// starts: `ENGINE run` with no flags before `run`, so a runtime that
/// Podman takes only there is refused.
pub fn devcontainer(request: Request) -> Result<Plan> {
    let (plan, _, _) = kept(request, "devcontainer cannot start that service")?;
    if let Some(arg) = plan.command().global.first() {
        return Err(Error::usage(format!(
            "the sandbox needs `{} {}` before `run` ({}), and devcontainer passes flags only after `run`",
            plan.engine,
            arg.args.join(" "),
            arg.why
        ))
        .hint("leave out --runtime, or plan it on Docker: `--engine docker`"));
    }
    Ok(plan)
}

/// The sandbox's environment as the file at `path` that Quadlet names
/// (its values are secrets: the caller writes it mode 0600); the plan names
/// that file from now on.
pub fn environment(plan: &mut Plan, path: PathBuf) -> Result<String> {
    let text = crate::apply::envfile::content(&plan.env)?;
    plan.spec.env_file = Some(Why::new(
        path,
        "the sandbox's environment: its values are secrets, in this file only (mode 0600)",
    ));
    Ok(text)
}

/// What a start needs on the host that Quadlet cannot do: dindbox's seccomp
/// profile written where the spec names it (and its AppArmor profile loaded,
/// for now; the file loads it again at each start).
pub fn prepare_host(plan: &Plan) -> Result<()> {
    crate::apply::confine::prepare(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fake::sandbox;

    fn host() -> Host<'static> {
        Host {
            engine: EngineKind::Docker,
            rootless: false,
            dindbox: Path::new("/usr/local/bin/dindbox"),
            engine_binary: Path::new("/usr/bin/docker"),
            home: Some("/root".into()),
        }
    }

    #[test]
    fn the_units_facts_come_from_the_sandboxs_labels() {
        let mut c = sandbox("work", "running");
        c.labels.extend(
            [
                (labels::MODE, "dind"),
                (
                    labels::MOUNTS,
                    "/home/u/project:/home/u/project,/srv/d:/d:ro,work-storage:/var/lib/docker,/var/lib/containers",
                ),
                (labels::TIMEOUT, "30000"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let u = unit_of(&c, &host()).unwrap();
        assert_eq!(
            u.paths,
            vec!["/home/u/project", "/srv/d", "/var/lib/containers"]
        );
        assert_eq!(u.ready_timeout_ms, 30_000);
        assert_eq!(u.mode, "dind");
        assert!(!u.podman_socket);
    }

    #[test]
    fn a_sock_sandbox_on_podman_wants_the_socket_unless_dindbox_serves_it() {
        let mut c = sandbox("api", "exited");
        c.labels.insert(labels::MODE.into(), "sock".into());
        let podman = Host {
            engine: EngineKind::Podman,
            ..host()
        };
        assert!(unit_of(&c, &podman).unwrap().podman_socket);
        c.labels.insert(labels::SERVICE.into(), "{}".into());
        assert!(!unit_of(&c, &podman).unwrap().podman_socket);
    }

    #[test]
    fn a_throw_away_sandbox_gets_no_unit() {
        let mut c = sandbox("tmp", "running");
        c.auto_remove = true;
        let e = unit_of(&c, &host()).unwrap_err();
        assert_eq!(e.code, crate::error::exit::USAGE, "{e}");
        assert!(e.message.contains("throw-away"), "{e}");
        assert!(e.hints[0].contains("without --rm"), "{e}");
    }

    #[test]
    fn a_quadlet_file_is_refused_for_docker_before_anything_is_probed() {
        let mut req = Request::new(
            Mode::Dind,
            "img",
            "work",
            "/tmp".into(),
            "/usr/local/bin/dindbox".into(),
        );
        req.engine = Some(EngineKind::Docker);
        let e = quadlet(req).unwrap_err();
        assert_eq!(e.code, crate::error::exit::USAGE, "{e}");
        assert!(e.message.contains("Docker"), "{e}");
        assert!(e.hints[0].contains("dindbox export systemd work"), "{e}");
    }
}
