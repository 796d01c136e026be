//! `dindbox export devcontainer` and `dindbox import devcontainer` with the
//! real devcontainer CLI (`@devcontainers/cli`, which `scripts/setup-host.sh`
//! installs) on this host's Docker: the exported configuration reads, comes
//! up (dindbox's init as PID 1, the environment from the user's env file),
//! runs a nested container, and imported back it plans the same sandbox as
//! the profile it was exported from. Bad input is refused with exit 2 and
//! nothing written. Everything a test makes is removed, also when it fails.
//! A missing CLI is a failure here, never a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// Where `scripts/setup-host.sh` installs the devcontainer CLI.
const CLI: &str =
    "/var/cache/dindbox-test-tools/devcontainer-cli-0.89.0/node_modules/.bin/devcontainer";

fn cli() -> PathBuf {
    let path = std::env::var_os("DINDBOX_DEVCONTAINER_CLI")
        .map_or_else(|| PathBuf::from(CLI), PathBuf::from);
    assert!(
        path.is_file(),
        "the devcontainer CLI is not at {} (scripts/setup-host.sh installs it)",
        path.display()
    );
    path
}

/// The devcontainer CLI, its temporary files in `tmp`.
fn devcontainer(tmp: &Path, args: &[&str]) -> Run {
    Run::from(
        Command::new(cli())
            .args(args)
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .output()
            .expect("the devcontainer CLI runs"),
    )
}

/// dindbox with its configuration in `dir/cfg`, from `dir`.
fn dindbox_at(dir: &Path, args: &[&str]) -> Run {
    let cfg = dir.join("cfg");
    dindbox_in(dir, args, &[("XDG_CONFIG_HOME", cfg.to_str().unwrap())])
}

/// Removes what `devcontainer up` of the folder `workspace` made: its
/// container, the sandbox's storage volume, and the image it built.
struct DevCleanup {
    workspace: String,
    volume: String,
}

impl Drop for DevCleanup {
    fn drop(&mut self) {
        let label = format!("label=devcontainer.local_folder={}", self.workspace);
        let ids = engine("docker", &["ps", "-aq", "--filter", &label]).stdout;
        for id in ids.lines() {
            let _ = engine("docker", &["rm", "-f", "-v", id]);
        }
        let _ = engine("docker", &["volume", "rm", "-f", &self.volume]);
        for image in built_images(&self.workspace) {
            let _ = engine("docker", &["rmi", "-f", &image]);
        }
    }
}

/// The images devcontainer built for the folder (`vsc-BASENAME-HASH`).
fn built_images(workspace: &str) -> Vec<String> {
    let base = Path::new(workspace).file_name().unwrap().to_str().unwrap();
    engine("docker", &["images", "--format", "{{.Repository}}"])
        .ok()
        .stdout
        .lines()
        .filter(|r| r.starts_with(&format!("vsc-{base}-")))
        .map(String::from)
        .collect()
}

/// The engine command `plan --json` gives for the profile at `profile`,
/// but for the name of the env file a run writes (it has the run's PID).
fn planned_argv(dir: &Path, profile: &str) -> Vec<String> {
    let run = dindbox_at(
        dir,
        &["plan", "--json", "--engine", "docker", "-r", profile],
    )
    .ok();
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut argv: Vec<String> = serde_json::from_value(plan["argv"].clone()).unwrap();
    if let Some(i) = argv.iter().position(|a| a == "--env-file") {
        argv[i + 1] = "ENV_FILE".into();
    }
    argv
}

#[test]
fn an_exported_dind_sandbox_comes_up_under_devcontainer_and_imports_back() {
    let _g = shared();
    let cli_tmp = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let name = unique("devc");
    let ws = dir.join(&name);
    let data = dir.join("data");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("hello"), "from-host\n").unwrap();
    let secret = "s3cret-devcontainer-value";
    std::fs::write(
        dir.join("app.env"),
        format!("# the app's token\nAPP_TOKEN={secret}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("profile.json"),
        serde_json::json!({
            "containerName": name,
            "containerMode": "dind",
            "inner": "docker",
            "hostPath": ws,
            "volumes": [format!("{}:/data:ro", data.display())],
            "envFile": ["app.env"],
            "cpus": 1.5,
            "memory": "512m",
        })
        .to_string(),
    )
    .unwrap();
    let ws_s = ws.to_str().unwrap().to_string();
    let cleanup = DevCleanup {
        workspace: ws_s.clone(),
        volume: format!("{name}-storage"),
    };

    let out = dindbox_at(
        dir,
        &[
            "export",
            "devcontainer",
            "-r",
            "./profile.json",
            "--engine",
            "docker",
            "--output",
            &ws_s,
        ],
    )
    .ok();
    let config = ws.join(".devcontainer/devcontainer.json");
    let dockerfile = ws.join(".devcontainer/Dockerfile");
    assert_says(
        &out.stdout,
        &[
            &format!("wrote {}", config.display()),
            &format!("wrote {}", dockerfile.display()),
        ],
    );
    let text = std::fs::read_to_string(&config).unwrap();
    for file in [&config, &dockerfile] {
        let t = std::fs::read_to_string(file).unwrap();
        assert!(!t.contains(secret), "a secret in {}:\n{t}", file.display());
    }
    assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
    assert_says(
        &text,
        &["\"--env-file\"", &dir.join("app.env").display().to_string()],
    );
    assert!(!text.contains("--privileged"), "{text}");

    let read = devcontainer(
        cli_tmp.path(),
        &["read-configuration", "--workspace-folder", &ws_s],
    )
    .ok();
    let parsed: serde_json::Value = serde_json::from_str(&read.stdout).unwrap();
    let configuration = &parsed["configuration"];
    assert_eq!(configuration["name"], name.as_str());
    assert_eq!(configuration["overrideCommand"], false);
    assert_eq!(configuration["workspaceFolder"], ws_s.as_str());

    let up = devcontainer(cli_tmp.path(), &["up", "--workspace-folder", &ws_s]);
    assert_eq!(up.code, 0, "devcontainer up:\n{}\n{}", up.stdout, up.stderr);
    let result: serde_json::Value =
        serde_json::from_str(up.stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(result["outcome"], "success", "{}", up.stdout);

    let exec = |cmd: &[&str]| {
        let mut args = vec!["exec", "--workspace-folder", ws_s.as_str()];
        args.extend_from_slice(cmd);
        devcontainer(cli_tmp.path(), &args).ok().stdout
    };
    let nested = exec(&["docker", "run", "--rm", CANARY, "echo", "nested-ok"]);
    assert!(nested.contains("nested-ok"), "{nested}");
    // Docker's sandbox has the init's user namespace: `devcontainer exec`
    // runs beside it, and through `enter` inside it, as the export says.
    assert_says(
        &out.stderr,
        &["`devcontainer exec` (and an editor's terminal) runs commands beside it"],
    );
    let map = exec(&["cat", "/proc/self/uid_map"]);
    assert!(map.split_whitespace().eq(["0", "0", "4294967295"]), "{map}");
    let entered = exec(&[
        "/usr/local/libexec/dindbox/dindbox",
        "enter",
        "--timeout-ms",
        "60000",
        "--",
        "sh",
        "-c",
        "cat /proc/self/uid_map; docker run --rm localhost/dindbox/canary:latest echo nested-inside",
    ]);
    assert_says(&entered, &["nested-inside"]);
    assert!(
        !entered.contains("4294967295"),
        "inside, root is not the host's: {entered}"
    );
    let inside = exec(&[
        "sh",
        "-c",
        "tr '\\0' ' ' </proc/1/cmdline; echo; cat /data/hello; [ \"$APP_TOKEN\" = s3cret-devcontainer-value ] && echo token-ok; pwd",
    ]);
    assert_says(
        &inside,
        &[
            "/usr/local/libexec/dindbox/dindbox init --spec",
            "from-host",
            "token-ok",
            &ws_s,
        ],
    );

    // Imported back, it is the same sandbox as the profile it came from.
    let imported = dindbox_at(dir, &["import", "devcontainer", &ws_s, "--profile", "back"]).ok();
    let profile = dir.join("cfg/dindbox/profiles/back.json");
    assert_says(
        &imported.stdout,
        &[
            &format!("wrote {}", profile.display()),
            "mapped: runArgs --cpus 1.5 -> cpus",
            "mapped: runArgs --env-file",
            "planned by dindbox: runArgs --cap-add SYS_ADMIN",
        ],
    );
    assert!(!std::fs::read_to_string(&profile).unwrap().contains(secret));
    let (back, original) = (
        planned_argv(dir, "back"),
        planned_argv(dir, "./profile.json"),
    );
    assert!(back.contains(&"ENV_FILE".to_string()), "{back:?}");
    assert_eq!(back, original);

    drop(cleanup);
    let label = format!("label=devcontainer.local_folder={ws_s}");
    let left = engine("docker", &["ps", "-aq", "--filter", &label])
        .ok()
        .stdout;
    assert!(left.trim().is_empty(), "containers left: {left}");
    assert_nothing_left("docker", &name);
    assert!(built_images(&ws_s).is_empty(), "an image left");
}

#[test]
fn bad_input_is_refused_with_exit_2_and_nothing_written() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let profiles = dir.join("cfg/dindbox/profiles");
    std::fs::create_dir_all(dir.join("compose/.devcontainer")).unwrap();
    std::fs::write(
        dir.join("compose/.devcontainer/devcontainer.json"),
        r#"{"dockerComposeFile": "compose.yml", "service": "app"}"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("built/.devcontainer")).unwrap();
    std::fs::write(
        dir.join("built/.devcontainer/devcontainer.json"),
        "{ // built\n \"build\": { \"dockerfile\": \"Dockerfile\" },\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("built/.devcontainer/Dockerfile"),
        "FROM debian:bookworm\nRUN apt-get update\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.json"), "{ \"image\": \"x\" \"name\": \"y\" }").unwrap();
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["import", "devcontainer", "nowhere"],
            "does not exist",
            "give a devcontainer.json",
        ),
        (
            &["import", "devcontainer", "bad.json"],
            "bad.json:1:",
            "fix the JSON",
        ),
        (
            &["import", "devcontainer", "compose"],
            "Docker Compose",
            "image",
        ),
        (
            &["import", "devcontainer", "built"],
            "`RUN` at line 2",
            "docker build -t NAME",
        ),
        (
            &["import", "devcontainer", "."],
            "no devcontainer.json in",
            "give the file's path",
        ),
    ];
    for (args, message, hint) in cases {
        let run = dindbox_at(dir, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_says(&run.stderr, &[message, hint]);
        assert!(!profiles.exists(), "{args:?} wrote a profile");
    }
    let run = dindbox_at(dir, &["export", "devcontainer", "-m", "dind"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_says(&run.stderr, &["--output <DIR>"]);
    let out = dir.join("out");
    let run = dindbox_at(
        dir,
        &[
            "export",
            "devcontainer",
            "-m",
            "dind",
            "-x",
            "true",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_says(
        &run.stderr,
        &[
            "-x/--exec does not fit a dev container",
            "devcontainer exec",
        ],
    );
    assert!(!out.exists(), "nothing is written");
}
