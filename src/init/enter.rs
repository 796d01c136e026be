//! The `enter` role: what `ENGINE exec` runs in a kept sandbox. It waits until
//! the init reports the sandbox ready, then becomes the command; if the inner
//! engine failed, it shows why, with the status `run` uses for that (121).

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use super::state;
use crate::error::exit;

/// How often the init's report is looked for.
const POLL: Duration = Duration::from_millis(20);

pub fn run(timeout: Duration, command: &[String]) -> i32 {
    let deadline = Instant::now() + timeout;
    loop {
        match state::read() {
            Some(s) if s.ready => {
                if let Some(pid) = s.userns_pid
                    && let Err(e) = super::userns::join(pid as i32)
                {
                    eprintln!("dindbox: could not enter the sandbox's user namespace: {e}");
                    return exit::INNER_ENGINE;
                }
                break;
            }
            Some(s) => {
                eprintln!(
                    "{}",
                    s.error
                        .unwrap_or_else(|| "dindbox: the sandbox did not start".into())
                );
                return exit::INNER_ENGINE;
            }
            None if Instant::now() >= deadline => {
                eprintln!(
                    "dindbox: the sandbox's init did not report ready within {} s; `dindbox logs NAME` shows what it did",
                    timeout.as_secs()
                );
                return exit::INNER_ENGINE;
            }
            None => std::thread::sleep(POLL),
        }
    }
    let argv = if command.is_empty() {
        super::shell()
    } else {
        command.to_vec()
    };
    let err = Command::new(&argv[0]).args(&argv[1..]).exec();
    eprintln!("dindbox: cannot run `{}`: {err}", argv[0]);
    if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}
