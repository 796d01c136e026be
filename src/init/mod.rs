//! The sandbox's init: the same dindbox binary, run as PID 1 inside the sandbox.
//!
//! It sets up cgroups for nesting, starts the inner engine and waits until it
//! answers, runs the command in its own process group, forwards signals to it,
//! reaps every orphan, and exits with the command's status.

pub mod cgroup;
pub mod engine;
pub mod enter;
pub mod netlink;
pub mod reach;
pub mod state;
pub mod stepdown;
pub mod systemd;
pub mod userns;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::Duration;

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, isatty, setpgid, tcsetpgrp};

use crate::error::exit;
use crate::plan::inner::{InnerEngineSpec, InnerSpec};
use crate::trace;

/// Signals init handles itself: SIGCHLD to reap, the rest forwarded to the command.
const HANDLED: [Signal; 10] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
];

/// How long a kept sandbox's dockerd gets to shut down cleanly: within the
/// 10 s that `docker stop` and `podman stop` wait before they kill.
const STOP_GRACE: Duration = Duration::from_secs(7);

/// The signals init handles, as a set.
fn handled() -> SigSet {
    let mut mask = SigSet::empty();
    for sig in HANDLED {
        mask.add(sig);
    }
    mask
}

/// Block the signals init handles; they wait until it asks for them.
pub fn hold_signals() {
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&handled()), None);
}

pub fn run(spec: &InnerSpec) -> i32 {
    if spec.systemd {
        trace::mark("init started");
        state::clear();
        // systemd sets up its own signal handling from a clear mask.
        let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&handled()), None);
        return systemd::boot(spec);
    }
    let mask = handled();
    if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None) {
        eprintln!("dindbox: could not block signals: {e}");
        return exit::FAILURE;
    }
    if getpid().as_raw() != 1 {
        // Not PID 1 (e.g. `docker run --init`): still adopt and reap orphans.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    trace::mark("init started");
    state::clear();
    if let Some(ns) = &spec.userns {
        match userns::split(ns, &mask) {
            Ok(userns::Role::Outside(code)) => return code,
            Ok(userns::Role::Inside) => {
                state::set_userns_pid(std::process::id());
                trace::mark("in the sandbox's user namespace");
            }
            Err(report) => {
                eprintln!("{report}");
                let _ = state::write(false, Some(report));
                return exit::INNER_ENGINE;
            }
        }
    }
    let daemon = match set_up(spec) {
        Ok(daemon) => daemon,
        Err(report) => {
            eprintln!("{report}");
            let _ = state::write(false, Some(report));
            return exit::INNER_ENGINE;
        }
    };
    if let Err(e) = state::write(true, None) {
        eprintln!("dindbox: could not write {}: {e}", state::STATE_FILE);
    }
    let code = if spec.serve {
        trace::mark("serving");
        serve(&mask)
    } else {
        trace::mark("running the command");
        let code = run_command(&spec.command, &mask);
        trace::mark("the command exited");
        code
    };
    if spec.graceful_stop
        && let Some(child) = daemon
    {
        stop(child, STOP_GRACE);
    }
    code
}

/// Cgroups and the inner engine; on failure, the report to show.
fn set_up(spec: &InnerSpec) -> Result<Option<Child>, String> {
    let Some(engine) = prepare(spec)? else {
        return Ok(None);
    };
    match stepdown::start(engine) {
        Ok(running) => Ok(running.daemon),
        Err(e) => Err(e.report(engine.kind)),
    }
}

/// What comes before the inner engine starts: the API socket's link, mount
/// propagation, /proc/sys/net and cgroups. Returns the engine's spec, if any.
fn prepare(spec: &InnerSpec) -> Result<Option<&InnerEngineSpec>, String> {
    if let Some(target) = &spec.socket_link {
        link_socket(target)?;
    }
    let Some(engine) = &spec.engine else {
        return Ok(None);
    };
    // Mount propagation for nested containers' volumes (as moby's hack/dind).
    let _ = mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SHARED,
        None::<&str>,
    );
    let failed =
        |reason: String| format!("dindbox: the inner {} did not start: {reason}", engine.kind);
    if spec.net_sysctls {
        cgroup::net_sysctls_writable().map_err(failed)?;
    }
    cgroup::setup(&spec.cgroup)
        .map_err(|reason| failed(format!("cgroup set-up failed: {reason}")))?;
    trace::mark("cgroups set up");
    Ok(Some(engine))
}

/// /var/run/docker.sock, where Docker clients look, as a link to the socket
/// in the mounted directory of the API service dindbox serves.
fn link_socket(target: &str) -> Result<(), String> {
    let link = std::path::Path::new(crate::plan::sock::INSIDE);
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).map_err(|e| {
        format!(
            "dindbox: could not link {} to {target}: {e}",
            link.display()
        )
    })
}

/// A kept sandbox's init after set-up: reap orphans until asked to stop.
fn serve(mask: &SigSet) -> i32 {
    loop {
        match mask.wait() {
            Ok(Signal::SIGCHLD) => {
                let _ = reap(Pid::from_raw(0));
            }
            Ok(Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT) => return 0,
            Ok(_) => {}
            Err(e) => {
                eprintln!("dindbox: waiting for signals failed: {e}");
                return exit::FAILURE;
            }
        }
    }
}

pub(crate) fn shell() -> Vec<String> {
    if std::path::Path::new("/bin/bash").exists() {
        vec!["/bin/bash".into(), "-l".into()]
    } else {
        vec!["/bin/sh".into()]
    }
}

fn spawn(argv: &[String]) -> std::io::Result<Child> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    // SAFETY: only async-signal-safe calls (setpgid, tcsetpgrp, sigprocmask) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            if isatty(std::io::stdin()).unwrap_or(false) {
                // SIGTTOU is still blocked here, so taking the terminal cannot stop us.
                let _ = tcsetpgrp(std::io::stdin(), getpid());
            }
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            Ok(())
        });
    }
    cmd.spawn()
}

/// The status a shell would report for a waited-for child.
fn status_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

fn run_command(argv: &[String], mask: &SigSet) -> i32 {
    let argv = if argv.is_empty() {
        shell()
    } else {
        argv.to_vec()
    };
    let child = match spawn(&argv) {
        Ok(child) => child,
        Err(e) => {
            eprintln!("dindbox: cannot run `{}`: {e}", argv[0]);
            return if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    let pid = Pid::from_raw(child.id() as i32);
    loop {
        let sig = match mask.wait() {
            Ok(sig) => sig,
            Err(e) => {
                eprintln!("dindbox: waiting for signals failed: {e}");
                return exit::FAILURE;
            }
        };
        match sig {
            Signal::SIGCHLD => {
                if let Some(code) = reap(pid) {
                    return code;
                }
            }
            Signal::SIGTTIN | Signal::SIGTTOU => {}
            other => {
                // To the command's whole process group; to the command alone if that is gone.
                if kill(Pid::from_raw(-pid.as_raw()), other).is_err() {
                    let _ = kill(pid, other);
                }
            }
        }
    }
}

/// Reap every exited child; the command's status once it is among them.
fn reap(command: Pid) -> Option<i32> {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return None,
            Ok(status) if status.pid() == Some(command) => {
                if let Some(code) = status_code(status) {
                    return Some(code);
                }
            }
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
}

/// Ask dockerd to shut down, and wait for it a while.
pub(crate) fn stop(mut daemon: Child, grace: Duration) {
    let pid = Pid::from_raw(daemon.id() as i32);
    if kill(pid, Signal::SIGTERM).is_err() {
        return;
    }
    // No SIGKILL: PID 1's exit ends whatever is left in the sandbox.
    if crate::process::wait_for(grace, || !matches!(daemon.try_wait(), Ok(None))) {
        return;
    }
    eprintln!(
        "dindbox: the inner engine did not stop within {}s",
        grace.as_secs()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_become_shell_statuses() {
        let pid = Pid::from_raw(7);
        assert_eq!(status_code(WaitStatus::Exited(pid, 7)), Some(7));
        assert_eq!(
            status_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            Some(137)
        );
        assert_eq!(status_code(WaitStatus::StillAlive), None);
    }
}
