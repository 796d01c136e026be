//! `DINDBOX_TRACE=1`: print how long each phase took, on the host and in the
//! sandbox's init, to stderr. For finding out where a slow start spends its time.

use std::sync::OnceLock;
use std::time::Instant;

/// The variable that turns tracing on; `dindbox run` passes it into the sandbox.
pub const ENV: &str = "DINDBOX_TRACE";

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START
        .get_or_init(|| {
            std::env::var_os(ENV)
                .filter(|v| !v.is_empty() && v != "0")
                .map(|_| Instant::now())
        })
        .as_ref()
}

pub fn enabled() -> bool {
    start().is_some()
}

/// Print `phase` with the time since the process started tracing.
pub fn mark(phase: &str) {
    if let Some(t0) = start() {
        eprintln!(
            "dindbox trace [{}] +{:>5} ms  {phase}",
            std::process::id(),
            t0.elapsed().as_millis()
        );
    }
}
