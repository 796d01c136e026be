//! Signals while a sandbox runs. Before the engine CLI starts, a SIGTERM,
//! SIGHUP or SIGINT is noted, and dindbox stops and cleans up after the step
//! under way. While the CLI runs attached, signals are its to handle (it
//! forwards them into the sandbox): Ctrl-C and Ctrl-\ from the terminal reach
//! it directly (same process group), so those are not passed on a second time;
//! the same signals sent to dindbox alone (`kill -INT PID`), and SIGTERM and
//! SIGHUP, are passed on to it.
//!
//! Handlers, never SIG_IGN: an ignored signal stays ignored across exec and
//! the engine CLI would never see it; a handler is reset by exec.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

static CHILD: AtomicI32 = AtomicI32::new(0);
static TERMINATED: AtomicBool = AtomicBool::new(false);
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Sent by a process (kill, sigqueue), not by the terminal driver.
fn from_a_process(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid siginfo_t to SA_SIGINFO handlers.
    let code = unsafe { (*info).si_code };
    code == libc::SI_USER || code == libc::SI_QUEUE
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let terminal = (sig == libc::SIGINT || sig == libc::SIGQUIT) && !from_a_process(info);
    RECEIVED.store(sig, Ordering::SeqCst);
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        if !terminal {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe { libc::kill(pid, sig) };
        }
    } else {
        TERMINATED.store(true, Ordering::SeqCst);
    }
}

pub struct Signals {
    previous: Vec<(Signal, SigAction)>,
}

impl Signals {
    pub fn install() -> Self {
        CHILD.store(0, Ordering::SeqCst);
        TERMINATED.store(false, Ordering::SeqCst);
        RECEIVED.store(0, Ordering::SeqCst);
        let action = SigAction::new(
            SigHandler::SigAction(on_signal),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        let previous = [
            Signal::SIGINT,
            Signal::SIGQUIT,
            Signal::SIGTERM,
            Signal::SIGHUP,
        ]
        .into_iter()
        // SAFETY: the handler only does async-signal-safe things.
        .filter_map(|s| unsafe { sigaction(s, &action) }.ok().map(|old| (s, old)))
        .collect();
        Signals { previous }
    }

    /// From now on signals go to this child.
    pub fn pass_to(&self, pid: u32) {
        CHILD.store(pid as i32, Ordering::SeqCst);
    }

    /// The last of the handled signals dindbox got, if any.
    pub fn received(&self) -> Option<i32> {
        Some(RECEIVED.load(Ordering::SeqCst)).filter(|s| *s != 0)
    }

    /// Whether dindbox was asked to stop before it started the engine CLI.
    pub fn terminated(&self) -> bool {
        TERMINATED.load(Ordering::SeqCst)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        CHILD.store(0, Ordering::SeqCst);
        for (sig, old) in self.previous.drain(..) {
            // SAFETY: restoring the action that was installed before.
            let _ = unsafe { sigaction(sig, &old) };
        }
    }
}
