//! Signals while a sandbox runs. Before the engine CLI starts, a SIGTERM or
//! SIGHUP is noted, and dindbox stops and cleans up after the step under way.
//! While the CLI runs attached, signals are its to handle (it forwards them into
//! the sandbox): Ctrl-C and Ctrl-\ already reach it from the terminal (same
//! process group), so dindbox only waits; SIGTERM and SIGHUP, sent to dindbox
//! alone, are passed on to it.
//!
//! Handlers, never SIG_IGN: an ignored signal stays ignored across exec and
//! the engine CLI would never see it; a handler is reset by exec.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::sys::signal::{SigHandler, Signal, signal};

static CHILD: AtomicI32 = AtomicI32::new(0);
static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn nothing(_: libc::c_int) {}

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    } else {
        TERMINATED.store(true, Ordering::SeqCst);
    }
}

pub struct Signals {
    previous: Vec<(Signal, SigHandler)>,
}

impl Signals {
    pub fn install() -> Self {
        CHILD.store(0, Ordering::SeqCst);
        TERMINATED.store(false, Ordering::SeqCst);
        let handlers: [(Signal, extern "C" fn(libc::c_int)); 4] = [
            (Signal::SIGINT, nothing),
            (Signal::SIGQUIT, nothing),
            (Signal::SIGTERM, forward),
            (Signal::SIGHUP, forward),
        ];
        let previous = handlers
            .iter()
            // SAFETY: both handlers are async-signal-safe.
            .filter_map(|(s, h)| {
                unsafe { signal(*s, SigHandler::Handler(*h)) }
                    .ok()
                    .map(|old| (*s, old))
            })
            .collect();
        Signals { previous }
    }

    /// From now on SIGTERM and SIGHUP go to this child.
    pub fn pass_to(&self, pid: u32) {
        CHILD.store(pid as i32, Ordering::SeqCst);
    }

    /// Whether dindbox was asked to stop before it started the engine CLI.
    pub fn terminated(&self) -> bool {
        TERMINATED.load(Ordering::SeqCst)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        CHILD.store(0, Ordering::SeqCst);
        for (sig, handler) in self.previous.drain(..) {
            // SAFETY: restoring the handler that was installed before.
            let _ = unsafe { signal(sig, handler) };
        }
    }
}
