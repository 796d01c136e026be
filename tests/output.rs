//! Output into a reader that went away (`dindbox plan | head -1`): the
//! command ends with status 0 and says nothing on stderr.

use std::process::{Command, Output, Stdio};

/// `dindbox ARGS` with stdout a pipe whose reading end is closed before the
/// program starts, so that its first write finds the reader gone.
fn into_closed_pipe(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_dindbox"))
        .args(args)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("dindbox starts")
}

fn assert_quiet_success(args: &[&str]) {
    let out = into_closed_pipe(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "dindbox {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "dindbox {args:?}: {stderr}");
    assert_eq!(stderr, "", "dindbox {args:?}");
}

#[test]
fn config_schema_into_a_closed_pipe_exits_0_without_a_message() {
    assert_quiet_success(&["config", "schema"]);
}

#[test]
fn config_show_into_a_closed_pipe_exits_0_without_a_message() {
    assert_quiet_success(&["config", "show", "-m", "dind", "-e", "A=1"]);
}

#[test]
fn completions_and_man_into_a_closed_pipe_exit_0_without_a_message() {
    assert_quiet_success(&["completions", "bash"]);
    assert_quiet_success(&["man"]);
}

#[test]
fn help_into_a_closed_pipe_exits_0_without_a_message() {
    assert_quiet_success(&["--help"]);
}

/// A reader that takes the first line and closes, as `head -1` does.
#[test]
fn a_reader_of_one_line_gets_the_first_line_and_dindbox_exits_0() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dindbox"))
        .args(["config", "schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dindbox starts");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\n");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `plan` on this host's Docker: the printing `plan` does ends quietly too.
#[test]
fn plan_into_a_closed_pipe_exits_0_without_a_message() {
    assert_quiet_success(&["plan", "--engine", "docker", "-m", "dind"]);
}
