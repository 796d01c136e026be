//! While the engine CLI runs attached, signals are its to handle: it forwards
//! them into the sandbox. Ctrl-C and Ctrl-\ already reach it from the terminal
//! (same process group), so dindbox only waits; SIGTERM and SIGHUP, sent to
//! dindbox alone, are passed on to it.
//!
//! Handlers, never SIG_IGN: an ignored signal stays ignored across exec and
//! the engine CLI would never see it; a handler is reset by exec.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SigHandler, Signal, signal};

static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn nothing(_: libc::c_int) {}

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

pub struct PassSignalsTo {
    previous: Vec<(Signal, SigHandler)>,
}

impl PassSignalsTo {
    pub fn child(pid: u32) -> Self {
        CHILD.store(pid as i32, Ordering::SeqCst);
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
        PassSignalsTo { previous }
    }
}

impl Drop for PassSignalsTo {
    fn drop(&mut self) {
        CHILD.store(0, Ordering::SeqCst);
        for (sig, handler) in self.previous.drain(..) {
            // SAFETY: restoring the handler that was installed before.
            let _ = unsafe { signal(sig, handler) };
        }
    }
}
