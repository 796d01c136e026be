//! `--systemd`: the sandbox boots systemd, and the inner engine is a unit of it.
//!
//! PID 1 starts as dindbox's init, as in every dind sandbox: it sets up the
//! cgroup tree and /proc/sys/net, writes the inner engine's spec and unit
//! under /run, then execs systemd, which becomes PID 1. The unit runs dindbox's
//! `engine-unit` role, which starts the inner engine (with the usual step-down
//! and canary) and reports readiness to systemd and to the `enter` role.
//! Commands therefore always run through `ENGINE exec` of `enter`, also in a
//! throw-away sandbox, which is removed after the command.

use crate::error::{Error, Result};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};

use super::{ImageFacts, Mode, Plan, Request, attach, labels};
use crate::spec::{Attach, Boot, Why};

/// The default image of `--systemd`, which `dindbox image build --systemd` makes.
pub use crate::spec::images::systemd_tag as image_tag;

pub fn apply(
    plan: &mut Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    image: &ImageFacts,
) -> Result<()> {
    check_host(req, host, engine)?;
    // After the host: no image makes systemd run where the host cannot.
    super::checks::check_image(req, image)?;
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
    plan.spec.boot = Some(Boot::Systemd);
    Ok(())
}

/// What no image can change: the mode, and on rootless engines the host's
/// cgroups. Checked before the image, so that a refusal names the real cause.
fn check_host(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
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
    Ok(())
}

/// systemd is PID 1, so no command runs as the sandbox's main process:
/// the sandbox starts in the background and the command comes through `exec`.
fn detach(plan: &mut Plan, req: &Request) {
    // A throw-away sandbox is removed by dindbox after the command, not by
    // the engine when it stops: its output stays readable until then.
    plan.spec.remove = None;
    if plan.spec.attach.value != Attach::Detached {
        plan.spec.attach = Why::new(
            Attach::Detached,
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
