//! Progress of long steps: a spinner on a terminal, plain lines elsewhere (CI logs).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Step {
    message: String,
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl Step {
    pub fn start(message: impl Into<String>) -> Self {
        let message = message.into();
        let spinner = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(message.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            eprintln!("==> {message}");
            None
        };
        Step {
            message,
            started: Instant::now(),
            spinner,
        }
    }

    pub fn done(self) {
        let secs = self.started.elapsed().as_secs_f64();
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
        eprintln!("    {} ({secs:.1} s)", self.message);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}
