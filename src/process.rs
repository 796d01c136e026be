//! One runner for the subprocesses dindbox runs to completion (engine CLIs,
//! build tools). Long-lived children (the inner engine, the sandbox's command,
//! Podman's API service) are spawned where they are supervised.
//!
//! A failed command becomes an [`Error`] that carries the command line
//! (shell-quoted), its exit status and the tail of its stderr.

use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};

/// How many lines of a failed command's stderr an error shows.
const STDERR_TAIL_LINES: usize = 12;

#[derive(Debug, Clone)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Input>,
}

/// What `output` feeds the command's standard input.
#[derive(Debug, Clone)]
enum Input {
    File(std::path::PathBuf),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// Quote a command line the way a shell would need it.
pub fn quote_argv<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quote one argument for a POSIX shell, only when it needs it.
pub fn quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r#"'\''"#))
    }
}

/// The last `n` non-empty lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Cmd {
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feed this file to the command's standard input.
    pub fn stdin_file(mut self, path: &std::path::Path) -> Self {
        self.stdin = Some(Input::File(path.to_path_buf()));
        self
    }

    /// Feed this text to the command's standard input.
    pub fn stdin_text(mut self, text: impl Into<String>) -> Self {
        self.stdin = Some(Input::Text(text.into()));
        self
    }

    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }

    pub fn display(&self) -> String {
        quote_argv(&self.argv())
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn spawn_error(&self, err: std::io::Error) -> Error {
        let mut e =
            Error::failure(format!("could not start `{}`", self.display())).cause(err.to_string());
        if err.kind() == std::io::ErrorKind::NotFound {
            e = e.hint(format!(
                "`{}` is not installed or not on PATH",
                self.program
            ));
        }
        e
    }

    /// Run to completion, capturing stdout and stderr. A non-zero exit is not an error here.
    pub fn output(&self) -> Result<Output> {
        let mut c = self.command();
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        match &self.stdin {
            Some(Input::File(path)) => {
                let file =
                    std::fs::File::open(path).map_err(|e| Error::io("could not open", path, e))?;
                c.stdin(file);
            }
            Some(Input::Text(_)) => {
                c.stdin(Stdio::piped());
            }
            None => {
                c.stdin(Stdio::null());
            }
        }
        let mut child = c.spawn().map_err(|e| self.spawn_error(e))?;
        // Written from a thread, so that a command that writes much before
        // it has read all of its input cannot block on a full pipe; one that
        // stops reading early ends the write, not the run.
        let writer = match (&self.stdin, child.stdin.take()) {
            (Some(Input::Text(text)), Some(mut pipe)) => {
                let text = text.clone();
                Some(std::thread::spawn(move || {
                    let _ = std::io::Write::write_all(&mut pipe, text.as_bytes());
                }))
            }
            _ => None,
        };
        let out = child.wait_with_output().map_err(|e| self.spawn_error(e))?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(Output {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Run, capture, and fail with the command line and its stderr unless it exits 0.
    pub fn run(&self) -> Result<Output> {
        let out = self.output()?;
        if out.success() {
            Ok(out)
        } else {
            Err(self.failed(&out.status, &out.stderr))
        }
    }

    /// Run with a deadline; None when it did not finish in time (it is killed).
    /// The child stays ours until it is waited for here, so the kill can never
    /// reach a reused pid; its pipes are drained on threads meanwhile.
    pub fn output_within(&self, limit: Duration) -> Result<Option<Output>> {
        let mut c = self.command();
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = c.spawn().map_err(|e| self.spawn_error(e))?;
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut text);
                }
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = std::time::Instant::now() + limit;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| self.spawn_error(e))? {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        Ok(Some(Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }))
    }

    /// Start with the terminal attached (stdin, stdout, stderr inherited).
    pub fn spawn_attached(&self) -> Result<std::process::Child> {
        self.command().spawn().map_err(|e| self.spawn_error(e))
    }

    /// Run with stdout and stderr going to `log` (a file); fail with its tail.
    pub fn run_logged(&self, log: &std::path::Path) -> Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| Error::io("could not open log", log, e))?;
        let err = file
            .try_clone()
            .map_err(|e| Error::io("could not open log", log, e))?;
        let mut c = self.command();
        c.stdin(Stdio::null()).stdout(file).stderr(err);
        let status = c.status().map_err(|e| self.spawn_error(e))?;
        if status.success() {
            return Ok(());
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        Err(self
            .failed(&status, &text)
            .hint(format!("the whole log is {}", log.display())))
    }

    pub fn failed(&self, status: &ExitStatus, stderr: &str) -> Error {
        let how = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        Error::failure(format!("`{}` failed ({how})", self.display()))
            .cause(tail(stderr, STDERR_TAIL_LINES))
    }
}

/// `f` of each item, each on a thread of its own, the results in order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Poll `done` every 20ms for up to `limit`; whether it became true.
pub fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stop a child gracefully: SIGTERM, up to `grace` to exit, then SIGKILL.
/// It is reaped either way, so its pid is never reused under us.
pub fn stop_child(child: &mut std::process::Child, grace: Duration) {
    use nix::sys::signal::{Signal, kill};
    let _ = kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        Signal::SIGTERM,
    );
    if !wait_for(grace, || !matches!(child.try_wait(), Ok(None))) {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Turn an exit status into the status dindbox exits with (128+N for a signal, as shells do).
pub fn exit_code(status: &ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(crate::error::exit::FAILURE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stdin_text_reaches_the_command_whole() {
        let text = "line\n".repeat(40_000);
        let out = super::Cmd::new("cat")
            .stdin_text(text.clone())
            .output()
            .unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, text);
    }

    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            quote_argv(&["docker", "run", "--ulimit", "nofile=1:1", "a b", "x'y", ""]),
            r#"docker run --ulimit nofile=1:1 'a b' 'x'\''y' ''"#
        );
    }

    #[test]
    fn failed_command_names_itself_and_its_stderr() {
        let err = Cmd::new("sh")
            .args(["-c", "echo boom >&2; exit 4"])
            .run()
            .unwrap_err();
        assert!(
            err.message
                .contains("`sh -c 'echo boom >&2; exit 4'` failed (exit status 4)"),
            "{err}"
        );
        assert_eq!(err.causes, vec!["boom".to_string()]);
    }

    #[test]
    fn missing_program_gets_a_hint() {
        let err = Cmd::new("dindbox-no-such-program").run().unwrap_err();
        assert!(err.hints[0].contains("not installed"), "{err}");
    }

    #[test]
    fn deadline_kills_a_slow_command() {
        let out = Cmd::new("sleep")
            .arg("5")
            .output_within(Duration::from_millis(100))
            .unwrap();
        assert!(out.is_none());
        let out = Cmd::new("true")
            .output_within(Duration::from_secs(5))
            .unwrap();
        assert!(out.unwrap().success());
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed_after_the_grace() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "trap '' TERM; sleep 30"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let started = std::time::Instant::now();
        stop_child(&mut child, Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(child.try_wait().unwrap().is_some(), "reaped");
    }

    #[test]
    fn a_child_that_stops_on_sigterm_is_not_waited_for_longer() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        stop_child(&mut child, Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5));
        let status = child.try_wait().unwrap().expect("reaped");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }
}
