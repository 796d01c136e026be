//! `--systemd`: the sandbox boots systemd, and the inner engine is a unit of it.
//!
//! PID 1 starts as dindbox's init, as in every dind sandbox: it sets up the
//! cgroup tree and /proc/sys/net, writes the inner engine's spec and unit
//! under /run, then execs systemd, which becomes PID 1. The unit runs dindbox's
//! `engine-unit` role, which starts the inner engine (with the usual step-down
//! and canary) and reports readiness to systemd and to the `enter` role.
//! Commands therefore always run through `ENGINE exec` of `enter`, also in a
//! throw-away sandbox, which is removed after the command.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};

use super::{Arg, ImageFacts, Mode, Plan, Request, attach, labels};

/// The default image of `--systemd`, which `dindbox image build --systemd` makes.
pub fn image_tag() -> String {
    format!(
        "localhost/dindbox/sandbox-systemd:{}",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn apply(
    plan: &mut Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    image: &ImageFacts,
) -> Result<()> {
    if req.mode != Mode::Dind {
        return Err(Error::usage(format!(
            "--systemd applies to dind sandboxes, not to {} ones",
            req.mode.name()
        ))
        .cause("systemd needs a cgroup tree it may write, which only a dind sandbox gets (a private cgroup namespace and CAP_SYS_ADMIN); common and sock sandboxes keep the engine's defaults")
        .hint("use `-m dind --systemd`, or leave --systemd out"));
    }
    if engine.rootless && host.cgroup.layout != CgroupLayout::V2 {
        return Err(Error::refused(format!(
            "--systemd cannot run on rootless {} on this host",
            engine.kind
        ))
        .cause("systemd needs a cgroup tree it may write, and cgroup v1 is not delegated to rootless users")
        .hint("run dindbox as root against the rootful engine (`sudo dindbox ...`)")
        .hint("or boot the host with pure cgroup v2 (systemd.unified_cgroup_hierarchy=1)")
        .hint("or leave out --systemd"));
    }
    if !image.systemd {
        return Err(
            Error::usage(format!("image `{}` does not boot systemd", req.image))
                .cause(format!(
                    "it has no {} label, which images made for --systemd carry",
                    labels::SYSTEMD
                ))
                .hint(format!(
                    "build the systemd image with `dindbox image build --systemd` ({})",
                    image_tag()
                ))
                .hint(format!(
                    "or, for an image of your own whose /sbin/init is systemd, add `LABEL {}=true`",
                    labels::SYSTEMD
                )),
        );
    }
    plan.inner.systemd = true;
    plan.inner.command = Vec::new();
    plan.inner.serve = false;
    plan.inner.graceful_stop = false;
    detach(plan, req);
    plan.run.extend(flags(engine.kind));
    Ok(())
}

/// systemd is PID 1, so no command runs as the sandbox's main process:
/// the sandbox starts in the background and the command comes through `exec`.
fn detach(plan: &mut Plan, req: &Request) {
    // A throw-away sandbox is removed by dindbox after the command, not by
    // the engine when it stops: its output stays readable until then.
    plan.run.retain(|a| a.args != ["--rm"]);
    let attached = |a: &Arg| a.args.first().is_some_and(|f| f == "-i");
    if let Some(arg) = plan.run.iter_mut().find(|a| attached(a)) {
        *arg = Arg::new(
            ["-d"],
            "systemd is the sandbox's PID 1: the sandbox runs in the background, the command runs in it through `exec`, and dindbox removes the sandbox with its storage after the command",
        );
    }
    if plan.exec.is_none() {
        let command = match &req.command {
            Some(c) => vec!["/bin/sh".to_string(), "-c".to_string(), c.clone()],
            None => Vec::new(),
        };
        let inside = req.container_workspace.display().to_string();
        plan.exec = Some(attach::exec_args(
            &req.name,
            &inside,
            req.tty,
            req.ready_timeout_ms,
            &command,
        ));
    }
}

/// What systemd needs from the engine to boot in a container.
fn flags(engine: EngineKind) -> Vec<Arg> {
    match engine {
        EngineKind::Podman => vec![Arg::new(
            ["--systemd=always"],
            "Podman's systemd mode, though the entrypoint is dindbox's init: tmpfs on /run, /run/lock and /tmp, `container=podman` for systemd, and SIGRTMIN+3 as the stop signal, which systemd takes as a clean shutdown",
        )],
        EngineKind::Docker => vec![
            Arg::new(
                ["--tmpfs", "/run:exec", "--tmpfs", "/run/lock"],
                "systemd expects /run and /run/lock to be empty tmpfs at boot; /run executable, as on a machine (Docker's tmpfs is noexec by default)",
            ),
            Arg::new(
                ["-e", "container=docker"],
                "tells systemd it runs in a container, so it skips what only a machine's boot does",
            ),
            Arg::new(
                ["--stop-signal", "SIGRTMIN+3"],
                "systemd shuts down cleanly on SIGRTMIN+3 (on SIGTERM it would only re-execute itself): `dindbox stop` stops every unit, the inner engine first",
            ),
        ],
    }
}
