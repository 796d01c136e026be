//! `dindbox export kube`: bad input refused with nothing written; the
//! manifests (Pod, Deployment, Secret) valid against Kubernetes' schema
//! (`kubernetes-validate --strict`), the environment's values only in the
//! Secret (mode 0600); and a dind Pod run for real with `podman kube play`:
//! a nested container runs in it, its environment comes from the Secret,
//! and `podman kube down` leaves nothing behind.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};

use common::*;

const VALIDATE: &str = "kubernetes-validate";

/// `kubernetes-validate --strict` on `files`; None where it is not
/// installed and this run does not require it. The host's runs require it
/// (`scripts/setup-host.sh` installs it; `scripts/test.sh` and CI say so),
/// the Debian 13 guest has no pip.
fn validate(files: &[&Path]) -> Option<Run> {
    let mut cmd = Command::new(VALIDATE);
    cmd.arg("--strict").args(files).stdin(Stdio::null());
    match cmd.output() {
        Ok(out) => Some(Run::from(out)),
        Err(e) => {
            let required = std::env::var_os("DINDBOX_REQUIRE_KUBE_VALIDATE").is_some()
                || std::env::var_os("CI").is_some();
            assert!(
                !required,
                "{VALIDATE} is required on this host ({e}): `python3 -m pip install kubernetes-validate` (scripts/setup-host.sh does)"
            );
            eprintln!("skipped the schema check: {VALIDATE} is not installed ({e})");
            None
        }
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], &str, &str); 7] = [
        (
            &["export", "kube", "w", "-n", "v", "--output", out_s],
            "-n/--name does not fit a Kubernetes manifest",
            "named NAME",
        ),
        (
            &["export", "kube", "w", "--rm", "--output", out_s],
            "--rm does not fit a Kubernetes manifest",
            "named NAME",
        ),
        (
            &["export", "kube", "w", "-x", "true", "--output", out_s],
            "-x/--exec does not fit a Kubernetes manifest",
            "its pod dindbox-w",
        ),
        (
            &["export", "kube", "Work_1", "--output", out_s],
            "cannot name a Kubernetes object",
            "lowercase letters, digits and `-`",
        ),
        (
            &[
                "export",
                "kube",
                "w",
                "--pvc",
                "Bad_Claim",
                "--output",
                out_s,
            ],
            "cannot name a PersistentVolumeClaim",
            "--pvc NAME",
        ),
        (
            &[
                "export",
                "kube",
                "w",
                "-p",
                "8000-8010:8000-8010",
                "--output",
                out_s,
            ],
            "port `8000-8010:8000-8010` has no Kubernetes form",
            "-p HOSTPORT:CONTAINERPORT",
        ),
        (
            &[
                "export",
                "kube",
                "w",
                "-m",
                "dind",
                "--systemd",
                "--output",
                out_s,
            ],
            "--systemd does not fit a Kubernetes pod",
            "without --systemd",
        ),
    ];
    assert_refused_writing_nothing(t.path(), &out, &cases);
}

#[test]
fn the_manifests_are_valid_kubernetes_and_secrets_only_in_the_secret() {
    let _guard = shared();
    let workspace = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let name = unique("kube-valid");
    let base = [
        "export",
        "kube",
        name.as_str(),
        "-m",
        "dind",
        "--engine",
        "podman",
        "-e",
        "TOKEN=s3cret-value",
        "-p",
        "127.0.0.1:18080:80",
    ];
    let mut pod_args = base.to_vec();
    pod_args.extend(["--output", out.to_str().unwrap()]);
    let run = dindbox_in(workspace.path(), &pod_args, &[]).ok();
    let pod = written(&run, &format!("dindbox-{name}.yaml"));
    let secret = written(&run, "-secret.yaml");
    let text = std::fs::read_to_string(&pod).unwrap();
    assert!(!text.contains("s3cret-value"), "{text}");
    assert!(text.contains("kind: Pod\n"), "{text}");
    assert!(
        text.contains(&format!(
            "secretRef:\n            name: dindbox-{name}-env\n"
        )),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&secret)
            .unwrap()
            .contains("TOKEN: s3cret-value"),
        "the value is in the Secret"
    );

    // Printed: the Deployment alone, and how to make the Secret.
    let mut deployment_args = base.to_vec();
    deployment_args.extend(["--deployment", "--pvc", "work-claim"]);
    let printed = dindbox_in(workspace.path(), &deployment_args, &[]).ok();
    assert!(
        !printed.stdout.contains("s3cret-value"),
        "{}",
        printed.stdout
    );
    assert!(
        !printed.stderr.contains("s3cret-value"),
        "{}",
        printed.stderr
    );
    assert!(
        printed
            .stderr
            .contains(&format!("kubectl create secret generic dindbox-{name}-env")),
        "{}",
        printed.stderr
    );
    assert!(printed.stdout.contains("kind: Deployment\n"));
    assert!(printed.stdout.contains("claimName: work-claim\n"));
    let deployment = t.path().join("deployment.yaml");
    std::fs::write(&deployment, &printed.stdout).unwrap();

    if let Some(v) = validate(&[&pod, &secret, &deployment]) {
        let v = v.ok();
        assert_eq!(
            v.stdout.matches(" passed for resource ").count(),
            3,
            "{}",
            v.stdout
        );
    }
    assert!(
        !container_exists("podman", &format!("dindbox-{name}-sandbox")),
        "export starts nothing"
    );
}

/// `podman version`'s client version, as `MAJOR.MINOR`.
fn podman_version() -> (u32, u32) {
    let v = engine("podman", &["version", "--format", "{{.Client.Version}}"]).ok();
    let mut parts = v.stdout.trim().split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// A played pod and its secret: on drop, `podman kube down`, the secret removed.
struct Played {
    manifest: PathBuf,
    secret: String,
}

impl Drop for Played {
    fn drop(&mut self) {
        let _ = engine("podman", &["kube", "down", self.manifest.to_str().unwrap()]);
        let _ = engine("podman", &["secret", "rm", &self.secret]);
    }
}

#[test]
fn a_dind_pod_runs_nested_containers_under_podman_kube_play() {
    let _guard = shared();
    let name = unique("kube-play");
    let workspace = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let run = dindbox_in(
        workspace.path(),
        &[
            "export",
            "kube",
            &name,
            "-m",
            "dind",
            "--engine",
            "podman",
            "-e",
            "TOKEN=from-the-secret",
            "--output",
            t.path().to_str().unwrap(),
        ],
        &[],
    )
    .ok();
    let manifest = written(&run, ".yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(!text.contains("privileged: true"), "{text}");
    assert!(
        text.contains("        drop:\n            - ALL\n"),
        "{text}"
    );

    // The Secret as Podman's kube play reads it: a JSON map of base64 values
    // (Podman 4.3 reads no other form), given on stdin, never in argv.
    let secret = format!("dindbox-{name}-env");
    let played = Played {
        manifest: manifest.clone(),
        secret: secret.clone(),
    };
    let mut create = Command::new("podman")
        .args(["secret", "create", &secret, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // base64 of "from-the-secret"
    create
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"TOKEN":"ZnJvbS10aGUtc2VjcmV0"}"#)
        .unwrap();
    assert!(create.wait().unwrap().success(), "podman secret create");

    // As the manifest's header says: the containers.conf beside it, the
    // seccomp profile's directory.
    let mut play = Command::new("podman");
    play.args(["kube", "play"]);
    if let Some(root) = text
        .split("--seccomp-profile-root")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().find(|w| *w != "#"))
    {
        play.args(["--seccomp-profile-root", root]);
    }
    let conf = t.path().join(format!("dindbox-{name}-containers.conf"));
    if conf.exists() {
        let var = if podman_version() >= (4, 4) {
            "CONTAINERS_CONF_OVERRIDE"
        } else {
            "CONTAINERS_CONF"
        };
        play.env(var, &conf);
    }
    let out = Run::from(play.arg(&manifest).stdin(Stdio::null()).output().unwrap());
    assert_eq!(out.code, 0, "podman kube play:\n{}", out.stderr);

    let container = format!("dindbox-{name}-sandbox");
    let enter = |cmd: &[&str]| {
        let mut args = vec![
            "exec",
            &container,
            "/usr/local/libexec/dindbox/dindbox",
            "enter",
            "--timeout-ms",
            "90000",
            "--",
        ];
        args.extend(cmd);
        engine("podman", &args)
    };
    let nested = enter(&["podman", "run", "--rm", CANARY, "echo", "nested-ok"]);
    if nested.code != 0 {
        let logs = engine("podman", &["logs", &container]);
        panic!(
            "the nested run failed:\n{}\nthe sandbox's log:\n{}{}",
            nested.stderr, logs.stdout, logs.stderr
        );
    }
    assert_eq!(nested.stdout.trim(), "nested-ok");
    assert_eq!(
        enter(&["printenv", "TOKEN"]).ok().stdout.trim(),
        "from-the-secret"
    );

    drop(played);
    assert!(!container_exists("podman", &container));
    let pods = engine("podman", &["pod", "ls", "--format", "{{.Name}}"]).ok();
    assert!(!pods.stdout.contains(&name), "{}", pods.stdout);
    let secrets = engine("podman", &["secret", "ls", "--format", "{{.Name}}"]).ok();
    assert!(!secrets.stdout.contains(&name), "{}", secrets.stdout);
    assert_nothing_left("podman", &name);
}
