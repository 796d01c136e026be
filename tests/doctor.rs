//! `dindbox doctor` on this host's real engines: its prediction is what `plan`
//! says for each row, and `--check` measures each row as predicted, leaving
//! nothing behind.

mod common;
use common::*;

use serde_json::Value;

fn doctor_json(args: &[&str]) -> Value {
    let mut argv = vec!["doctor", "--json"];
    argv.extend_from_slice(args);
    let run = dindbox(&argv).ok();
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", run.stdout));
    assert_eq!(report["schema"], 1, "{}", run.stdout);
    report
}

fn rows(report: &Value) -> Vec<Value> {
    report["matrix"].as_array().expect("a matrix").clone()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The `plan` command line of a row (what `run` would do, starting nothing).
fn plan_args(row: &Value) -> Vec<String> {
    let mut args = vec!["plan".to_string(), "--rm".to_string()];
    for (flag, key) in [("-n", "name"), ("-m", "mode"), ("--engine", "engine")] {
        args.push(flag.to_string());
        args.push(text(&row[key]).to_string());
    }
    for (flag, key) in [("--inner", "inner"), ("--runtime", "runtime")] {
        if let Some(value) = row[key].as_str() {
            args.push(flag.to_string());
            args.push(value.to_string());
        }
    }
    args
}

/// Rows on this host, as root: each engine with its default runtime and, where
/// gVisor is installed (the build machine; not the Debian 13 test guest, where
/// runsc cannot run under user-mode Linux), with gVisor (registered with
/// Docker, on PATH for Podman), × (common, sock, dind ×2).
fn root_rows() -> usize {
    let runtimes = if which_runsc() { 2 } else { 1 };
    2 * runtimes * 4
}

fn which_runsc() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("runsc").is_file()))
}

/// Every row with a runtime names gVisor, the one stronger runtime installed here.
fn assert_runtimes_are_gvisor(rows: &[Value]) {
    for row in rows.iter().filter(|r| !r["runtime"].is_null()) {
        assert_eq!(row["runtime"], "runsc", "{row}");
        assert!(text(&row["command"]).contains("--runtime runsc"), "{row}");
    }
}

#[test]
fn doctor_predicts_what_plan_says_for_every_row() {
    let _guard = shared();
    let report = doctor_json(&[]);
    assert!(
        report["engines"].as_array().is_some_and(|e| e.len() == 2),
        "the facts stay at the top level"
    );
    let rows = rows(&report);
    assert_eq!(rows.len(), root_rows());
    assert_runtimes_are_gvisor(&rows);
    for row in &rows {
        assert!(
            row["checked"].is_null(),
            "nothing is started without --check"
        );
        let args = plan_args(row);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let plan = dindbox(&argv);
        let predicted = &row["predicted"];
        assert_eq!(
            plan.code == 0,
            predicted["works"] == true,
            "{}: plan exited {}:\n{}",
            text(&row["command"]),
            plan.code,
            plan.stderr
        );
        if plan.code != 0 {
            assert_eq!(Some(i64::from(plan.code)), predicted["exit"].as_i64());
            assert!(
                plan.stderr.contains(text(&predicted["why"])),
                "{}",
                plan.stderr
            );
        }
        assert!(
            !container_exists(text(&row["engine"]), text(&row["name"])),
            "a prediction starts nothing"
        );
    }
    let readable = dindbox(&["doctor"]).ok().stdout;
    assert!(
        readable.contains("\nwhat works here (the planner's prediction"),
        "{readable}"
    );
    assert!(readable.contains("| ENGINE | RUNTIME | MODE"), "{readable}");
}

#[test]
fn doctor_check_measures_each_row_as_predicted_and_leaves_nothing() {
    let _guard = shared();
    let report = doctor_json(&["--check"]);
    let rows = rows(&report);
    assert_eq!(rows.len(), root_rows());
    for row in &rows {
        let (engine, name) = (text(&row["engine"]), text(&row["name"]));
        let checked = &row["checked"];
        assert_eq!(
            checked["works"],
            row["predicted"]["works"],
            "{}: measured {checked} against predicted {}",
            text(&row["command"]),
            row["predicted"]
        );
        if checked["works"] == true {
            assert_eq!(checked["exit"], 0, "{checked}");
            assert!(checked["error"].is_null(), "{checked}");
        } else {
            assert!(checked["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
        assert!(
            checked["seconds"].as_f64().is_some_and(|s| s > 0.0),
            "{checked}"
        );
        assert_eq!(
            checked["left_behind"],
            Value::Array(vec![]),
            "{}: the run itself left something",
            text(&row["command"])
        );
        assert_nothing_left(engine, name);
        let labelled = engine_ps(engine, name);
        assert!(labelled.is_empty(), "{engine}: {labelled}");
        assert!(
            !std::path::Path::new(&format!("/run/dindbox/{name}.sock")).exists(),
            "the sandbox's API service socket is gone"
        );
    }
}

/// Containers of any state that carry the sandbox's label.
fn engine_ps(eng: &str, name: &str) -> String {
    engine(
        eng,
        &[
            "ps",
            "-a",
            "-q",
            "--filter",
            &format!("label=io.dindbox.sandbox={name}"),
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string()
}

#[test]
fn doctor_check_of_an_image_that_is_not_there_fails_as_predicted() {
    let _guard = shared();
    let missing = format!("localhost/{}:none", unique("no-such-image"));
    let run = dindbox_in(
        &std::env::temp_dir(),
        &["doctor", "--check", "--json"],
        &[("DINDBOX_IMAGE", &missing)],
    )
    .ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = rows(&report);
    assert_eq!(rows.len(), root_rows());
    for row in &rows {
        let (predicted, checked) = (&row["predicted"], &row["checked"]);
        assert_eq!(predicted["works"], false, "{predicted}");
        assert_eq!(predicted["exit"], 2, "bad input: {predicted}");
        assert!(text(&predicted["why"]).contains(&missing), "{predicted}");
        assert_eq!(checked["works"], false, "{checked}");
        assert_eq!(checked["exit"], 2, "{checked}");
        assert!(
            text(&checked["error"]).starts_with("error: image `"),
            "{checked}"
        );
        assert_eq!(checked["left_behind"], Value::Array(vec![]));
        assert_nothing_left(text(&row["engine"]), text(&row["name"]));
    }
    assert!(
        report["host_changes"].is_array(),
        "the changes are always in the JSON"
    );
}

/// The rootless user `scripts/setup-host.sh` makes (with subordinate ids).
const ROOTLESS_USER: &str = "dindbox-test";

/// Run a shell command line as the rootless user, in a directory it can read.
fn as_rootless_user(script: &str) -> Run {
    Run::from(
        std::process::Command::new("su")
            .args([ROOTLESS_USER, "-s", "/bin/sh", "-c"])
            .arg(format!("cd /tmp && {script}"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("su runs"),
    )
}

#[test]
fn doctor_check_agrees_with_the_prediction_for_a_rootless_user() {
    let _guard = shared();
    let run = as_rootless_user(&format!("exec {BIN} doctor --check --json")).ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_ne!(report["uid"], 0);
    let podman = report["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "podman")
        .expect("podman for the user");
    assert_eq!(podman["rootless"], true, "{podman}");
    let rows = rows(&report);
    assert_eq!(
        rows.len(),
        4 * (root_rows() / 8 + 1),
        "Podman with and without gVisor (where it is installed); Docker, whose socket is closed to the user, with its default only"
    );
    assert_runtimes_are_gvisor(&rows);
    for row in &rows {
        let (predicted, checked) = (&row["predicted"], &row["checked"]);
        assert_eq!(
            checked["works"],
            predicted["works"],
            "{}: measured {checked} against predicted {predicted}",
            text(&row["command"])
        );
        if predicted["works"] == false {
            assert_eq!(checked["exit"], predicted["exit"], "{checked}");
            assert!(!predicted["fix"].as_array().unwrap().is_empty());
        }
        assert_eq!(checked["left_behind"], Value::Array(vec![]));
        if row["engine"] == "podman" {
            let name = text(&row["name"]);
            let inspect = as_rootless_user(&format!("podman container inspect {name}"));
            assert_ne!(inspect.code, 0, "{name} was left in the user's Podman");
        }
    }
}
