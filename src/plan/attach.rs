//! How a command runs in a kept sandbox: `ENGINE exec` of dindbox's `enter`
//! role, which waits until the sandbox's init reports the inner engine ready
//! (or failed) and then becomes the command.

use super::INIT_PATH;

/// Margin on top of the inner engine's own timeout: the init's set-up before
/// the engine starts, and the time to notice it is ready.
pub const ENTER_MARGIN_MS: u64 = 15_000;

/// Everything after the engine binary: `exec -i [-t] -w DIR NAME dindbox enter ... -- CMD`.
pub fn exec_args(
    name: &str,
    workdir: &str,
    tty: bool,
    timeout_ms: u64,
    command: &[String],
) -> Vec<String> {
    let mut args = vec!["exec".to_string(), "-i".to_string()];
    if tty {
        args.push("-t".into());
    }
    args.extend(["-w".to_string(), workdir.to_string(), name.to_string()]);
    args.extend([
        INIT_PATH.to_string(),
        "enter".to_string(),
        "--timeout-ms".to_string(),
        (timeout_ms + ENTER_MARGIN_MS).to_string(),
        "--".to_string(),
    ]);
    args.extend(command.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_waits_for_the_init_then_runs_the_command() {
        let cmd = vec!["/bin/sh".to_string(), "-c".into(), "echo hi".into()];
        let args = exec_args("box", "/w", false, 60_000, &cmd);
        assert_eq!(
            args.join(" "),
            "exec -i -w /w box /usr/local/libexec/dindbox/dindbox enter --timeout-ms 75000 -- /bin/sh -c echo hi"
        );
        assert!(exec_args("box", "/w", true, 1, &[]).contains(&"-t".to_string()));
    }
}
