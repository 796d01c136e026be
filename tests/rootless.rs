//! Rootless Podman (as the test user `dindbox-test`), Podman's API socket, and
//! step-down, on this host's real engines. `scripts/setup-host.sh` makes the
//! user, its runtime directory and its image store.

mod common;
use common::user::*;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn rootless_podman_runs_nested_podman() {
    let _lock = shared();
    let ws = user_workspace();
    let name = unique("rootless-dind");
    let _cleanup = UserCleanup(vec![name.clone()]);
    let cmd = format!(
        "podman run --rm {CANARY} echo nested-ok && podman run --rm --network host {CANARY} echo nested-host-ok && podman network create inner >/dev/null && podman run --rm --network inner {CANARY} echo nested-bridge-ok && id -u"
    );
    let run = user_dind(&ws, &name, "podman", &["--rm"], &cmd).ok();
    assert!(run.stdout.contains("nested-ok"), "{}", run.stdout);
    assert!(run.stdout.contains("nested-host-ok"), "{}", run.stdout);
    assert!(
        run.stdout.contains("nested-bridge-ok"),
        "a network of the inner engine's own (netavark, NET_ADMIN in the sandbox): {}",
        run.stdout
    );
    assert_eq!(
        run.stdout.lines().last(),
        Some("0"),
        "root inside is the user outside"
    );
    assert_nothing_left_for_user(&name);
}

#[test]
fn gvisor_runs_rootless_sandboxes_without_cgroups() {
    let _lock = shared();
    let ws = user_workspace();
    let name = unique("rootless-gvisor");
    let _cleanup = UserCleanup(vec![name.clone()]);
    let run = user_dindbox(
        &[
            "run",
            "--rm",
            "-n",
            &name,
            "-m",
            "common",
            "--runtime",
            "runsc",
            "-x",
            "dmesg | head -n 1; id -u",
        ],
        ws.path(),
    )
    .ok();
    assert!(run.stdout.contains("Starting gVisor"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().last(), Some("0"), "{}", run.stdout);
    let plan = user_dindbox(&["plan", "-m", "common", "--runtime", "runsc"], ws.path()).ok();
    assert!(
        plan.stdout.contains("--runtime-flag ignore-cgroups"),
        "cgroup v1 is not delegated to users here: {}",
        plan.stdout
    );
    assert_nothing_left_for_user(&name);
}

#[test]
fn rootless_plan_names_what_it_gives_up_and_why() {
    let ws = user_workspace();
    let run = user_dindbox(&["plan", "-m", "dind"], ws.path()).ok();
    assert!(run.stdout.contains("cgroups disabled"), "{}", run.stdout);
    assert!(!run.stdout.contains("--privileged"), "{}", run.stdout);
    if std::fs::metadata("/dev/net/tun").is_ok_and(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o006 != 0o006
    }) {
        assert!(
            run.stdout.contains("--network none"),
            "/dev/net/tun is closed to users here: {}",
            run.stdout
        );
    }
}

/// Seed 000's case: Docker inside a sandbox of rootless Podman. dockerd runs
/// in its rootless mode in the sandbox's user namespace: it builds, runs,
/// networks and publishes ports, and what it makes in the workspace is the
/// user's on the host.
#[test]
fn rootless_podman_runs_nested_docker() {
    let _lock = shared();
    let ws = user_workspace();
    let name = unique("rootless-docker");
    let _cleanup = UserCleanup(vec![name.clone()]);
    std::fs::write(
        ws.path().join("Dockerfile"),
        format!("FROM {CANARY}\nRUN echo built-inside > /built.txt\n"),
    )
    .unwrap();
    let cmd = format!(
        "docker run --rm {CANARY} echo nested-ok && docker build -q -t app . >/dev/null && docker run --rm app cat /built.txt && docker network create inner >/dev/null && docker run --rm --network inner -p 8080:80 {CANARY} echo nested-bridge-ok && docker run --rm -v $PWD:/w {CANARY} sh -c \"echo n > /w/made-by-nested\" && touch made-inside && docker info --format '{{{{.SecurityOptions}}}}'"
    );
    let run = user_dind(&ws, &name, "docker", &["--rm"], &cmd).ok();
    for line in ["nested-ok", "built-inside", "nested-bridge-ok", "rootless"] {
        assert!(
            run.stdout.contains(line),
            "{line}: {}\n{}",
            run.stdout,
            run.stderr
        );
    }
    use std::os::unix::fs::MetadataExt;
    for file in ["made-inside", "made-by-nested"] {
        let meta = std::fs::metadata(ws.path().join(file)).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (uid(), gid()),
            "{file} is the user's on the host"
        );
    }
    assert_nothing_left_for_user(&name);
}

/// A Docker CLI inside a sock sandbox on Podman runs the canary through
/// Podman's API socket, as root inside and, when the socket is one dindbox
/// serves or is open to every user, as a user who is not. An existing socket
/// closed to other users (systemd's podman.socket is 0660, as on the Debian 13
/// test guest) is mounted as it is: there only root inside may use it, and
/// the plan says so.
fn docker_cli_through_podmans_socket(run: impl Fn(&[&str]) -> Run, extra: &str, socket: &str) {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let closed = std::fs::metadata(socket)
        .is_ok_and(|m| m.file_type().is_socket() && m.permissions().mode() & 0o006 != 0o006);
    let user_part = if closed {
        String::new()
    } else {
        format!(
            " && setpriv --reuid 1000 --regid 1000 --clear-groups env HOME=/tmp \
             docker run --rm {extra} {CANARY} echo user-inside-ok"
        )
    };
    let cmd = format!("docker run --rm {extra} {CANARY} echo root-inside-ok{user_part}");
    let out = run(&[
        "run", "--rm", "-m", "sock", "--engine", "podman", "-x", &cmd,
    ])
    .ok();
    assert!(out.stdout.contains("root-inside-ok"), "{}", out.stdout);
    if closed {
        let plan = run(&["plan", "-m", "sock", "--engine", "podman"]).ok();
        assert!(
            plan.stdout
                .contains("inside the sandbox only root can use it"),
            "{}",
            plan.stdout
        );
    } else {
        assert!(out.stdout.contains("user-inside-ok"), "{}", out.stdout);
    }
}

#[test]
fn docker_cli_runs_the_canary_through_rootful_podmans_socket() {
    let _lock = shared();
    docker_cli_through_podmans_socket(dindbox, "", "/run/podman/podman.sock");
    let plan = dindbox(&["plan", "-m", "sock", "--engine", "podman"]).ok();
    if !Path::new("/run/podman/podman.sock").exists() {
        assert!(
            plan.stdout
                .contains("`systemctl enable --now podman.socket`"),
            "{}",
            plan.stdout
        );
    }
    let left: Vec<_> = std::fs::read_dir("/run/dindbox")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|p| !p.display().to_string().contains("dindbox-sock-")),
        "a served socket was left: {left:?}"
    );
}

#[test]
fn docker_cli_runs_the_canary_through_rootless_podmans_socket() {
    let _lock = shared();
    let ws = user_workspace();
    // slirp4netns may not start on this host (/dev/net/tun closed to users):
    // containers started through the socket get no network, as the plan's note says.
    let socket = format!("{}/podman/podman.sock", runtime_dir());
    docker_cli_through_podmans_socket(
        |args| user_dindbox(args, ws.path()),
        "--network none",
        &socket,
    );
    let plan = user_dindbox(&["plan", "-m", "sock"], ws.path()).ok();
    if !Path::new(&format!("{}/podman/podman.sock", runtime_dir())).exists() {
        assert!(
            plan.stdout
                .contains("`systemctl --user enable --now podman.socket`"),
            "{}",
            plan.stdout
        );
    }
    let served = Path::new(&runtime_dir()).join("dindbox");
    let left: Vec<_> = std::fs::read_dir(&served)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "a served socket was left: {left:?}");
    if served.exists() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&served).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "only the user may enter {served:?}");
    }
}

/// The memory files under a cache directory, with their content.
fn memories(cache: &Path) -> Vec<(PathBuf, String)> {
    std::fs::read_dir(cache.join("dindbox/stepdown"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .map(|p| {
                    let text = std::fs::read_to_string(&p).unwrap();
                    (p, text)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn assert_no_report_dir_left(cache: &Path) {
    let runs = cache.join("dindbox/stepdown/runs");
    let left: Vec<_> = std::fs::read_dir(&runs)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "report directories were left: {left:?}");
}

/// An image made from the sandbox image by `script`, removed with the
/// returned cleanup, and an empty cache directory (so nothing is remembered).
fn broken_image(eng: &str, what: &str, script: &str) -> (Cleanup, String, tempfile::TempDir) {
    let mut cleanup = Cleanup::new(eng);
    let image = image_with(eng, &mut cleanup, what, script);
    (cleanup, image, tempfile::tempdir().unwrap())
}

/// A throw-away dind sandbox of `image` whose command runs the canary nested.
fn nested_canary_run(eng: &str, inner: &str, image: &str, name: &str, env: &[(&str, &str)]) -> Run {
    nested_canary_run_with(eng, inner, image, name, env, &[])
}

fn nested_canary_run_with(
    eng: &str,
    inner: &str,
    image: &str,
    name: &str,
    env: &[(&str, &str)],
    extra: &[&str],
) -> Run {
    let cmd = format!("{inner} run --rm {CANARY} echo nested-ok");
    let mut args = vec![
        "run", "--rm", "-n", name, "-m", "dind", "--engine", eng, "--inner", inner, "--image",
        image,
    ];
    args.extend_from_slice(extra);
    args.extend(["-x", &cmd]);
    dindbox_in(&std::env::temp_dir(), &args, env)
}

/// Makes an image's storage.conf ask for an overlay mount program that is not there.
const NO_MOUNT_PROGRAM: &str = "sed -i 's|^mountopt = \"nodev\"|&\\nmount_program = \"/usr/local/bin/no-such-fuse-overlayfs\"|' /etc/containers/storage.conf && grep -q no-such-fuse /etc/containers/storage.conf";

/// A first start with that image: stepped down to native overlay, the step
/// and its reason named, nested containers run.
fn assert_storage_stepped_down(first: &Run) {
    assert!(first.stdout.contains("nested-ok"), "{}", first.stdout);
    assert!(
        first.stderr.contains(
            "stepping down: storage: the image's overlay with mount_program /usr/local/bin/no-such-fuse-overlayfs -> native overlay"
        ),
        "the step is named:\n{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("no-such-fuse-overlayfs: no such file"),
        "and why it was taken:\n{}",
        first.stderr
    );
}

#[test]
fn an_unworkable_storage_setting_is_stepped_down_named_and_remembered() {
    let (mut cleanup, image, cache) = broken_image("podman", "no-mount-program", NO_MOUNT_PROGRAM);
    let _lock = shared();
    let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
    let dir = std::env::temp_dir();
    let start = |name: &str| nested_canary_run("podman", "podman", &image, name, &env).ok();

    let first_name = unique("stepdown-first");
    cleanup.containers.push(first_name.clone());
    let first = start(&first_name);
    assert_storage_stepped_down(&first);
    assert_nothing_left("podman", &first_name);
    let kept = memories(cache.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        kept[0].1.contains("\"storage\": \"overlay\""),
        "{}",
        kept[0].1
    );

    let second_name = unique("stepdown-second");
    cleanup.containers.push(second_name.clone());
    let second = start(&second_name);
    assert!(second.stdout.contains("nested-ok"), "{}", second.stdout);
    assert!(
        !second.stderr.contains("stepping down"),
        "the second start goes straight to what worked:\n{}",
        second.stderr
    );
    assert_nothing_left("podman", &second_name);
    assert_no_report_dir_left(cache.path());

    let plan = |env: &[(&str, &str)]| {
        dindbox_in(
            &dir,
            &[
                "plan", "-m", "dind", "--engine", "podman", "--image", &image,
            ],
            env,
        )
        .ok()
        .stdout
    };
    assert!(plan(&env).contains("remembered from an earlier start"));
    // Other facts (here: a memory made for another key) are forgotten.
    let (path, text) = &kept[0];
    let key = text
        .split("\"key\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    std::fs::write(path, text.replace(key, "made-for-other-facts")).unwrap();
    let replanned = plan(&env);
    assert!(
        replanned.contains("no remembered set-up for these host facts"),
        "{replanned}"
    );
    assert!(!path.exists(), "the stale memory is dropped");
}

#[test]
fn the_canary_runs_on_the_first_start_only_on_both_engines() {
    let _lock = shared();
    for eng in ENGINES {
        let cache = tempfile::tempdir().unwrap();
        let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
        let dir = std::env::temp_dir();
        let plan = || {
            dindbox_in(&dir, &["plan", "-m", "dind", "--engine", eng], &env)
                .ok()
                .stdout
        };
        assert!(plan().contains("ends with a nested run of"), "{eng}");
        let name = unique("canary");
        let _cleanup = Cleanup::new(eng).container(&name);
        dindbox_in(
            &dir,
            &[
                "run", "--rm", "-n", &name, "-m", "dind", "--engine", eng, "-x", "true",
            ],
            &env,
        )
        .ok();
        assert_nothing_left(eng, &name);
        assert_eq!(memories(cache.path()).len(), 1, "{eng}: remembered");
        assert!(plan().contains("the canary is skipped"), "{eng}");
        assert_no_report_dir_left(cache.path());
    }
}

/// Replaces an image's runc with one that always fails.
const BROKEN_RUNC: &str = "printf '#!/bin/sh\\necho this runc is broken >&2\\nexit 1\\n' > /usr/sbin/runc && chmod 755 /usr/sbin/runc";

#[test]
fn a_broken_runtime_is_stepped_down_to_the_other_or_reported_with_the_steps_tried() {
    let (mut cleanup, image, cache) = broken_image("docker", "broken-runc", BROKEN_RUNC);
    let _lock = shared();
    let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];

    // In the user namespace Docker's sandboxes get by default, Podman inside
    // runs crun from the start: the broken runc is never tried.
    let name = unique("broken-runc-userns");
    cleanup.containers.push(name.clone());
    let run = nested_canary_run("docker", "podman", &image, &name, &env).ok();
    assert!(run.stdout.contains("nested-ok"), "{}", run.stdout);
    assert!(!run.stderr.contains("stepping down"), "{}", run.stderr);
    assert_nothing_left("docker", &name);
    for (path, _) in memories(cache.path()) {
        std::fs::remove_file(path).unwrap();
    }

    // With the host's root, the inner engines start with runc and step down.
    let start = |inner: &str, name: &str| {
        nested_canary_run_with("docker", inner, &image, name, &env, &["--host-root"])
    };

    // Podman inside: crun runs what runc cannot.
    let name = unique("broken-runc-podman");
    cleanup.containers.push(name.clone());
    let run = start("podman", &name).ok();
    assert!(run.stdout.contains("nested-ok"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("this runc is broken); stepping down: runtime: runc -> crun"),
        "the step and its reason are named:\n{}",
        run.stderr
    );
    assert_nothing_left("docker", &name);
    let kept = memories(cache.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].1.contains("\"runtime\": \"crun\""), "{}", kept[0].1);

    // dockerd inside steps to crun too. On this build machine crun fails
    // dockerd's network hook there, and the failure lists the steps tried;
    // either way the step is named and nothing is left.
    let name = unique("broken-runc-docker");
    cleanup.containers.push(name.clone());
    let run = start("docker", &name);
    assert!(
        run.stderr.contains("stepping down: runtime: runc -> crun"),
        "{}",
        run.stderr
    );
    if run.code == 0 {
        assert!(run.stdout.contains("nested-ok"), "{}", run.stdout);
        assert_eq!(memories(cache.path()).len(), 2, "remembered too");
    } else {
        assert_inner_failed(
            &run,
            "(after stepping down: runtime: runc -> crun; no step left)",
            "crun",
        );
        assert_eq!(
            memories(cache.path()).len(),
            1,
            "a failed start is not remembered"
        );
    }
    assert_nothing_left("docker", &name);
    assert_no_report_dir_left(cache.path());
}

#[test]
fn an_unwritable_cache_costs_the_memory_not_the_start() {
    let _lock = shared();
    let name = unique("no-cache");
    let _cleanup = Cleanup::new("podman").container(&name);
    let run = dindbox_in(
        &std::env::temp_dir(),
        &[
            "run",
            "--rm",
            "-n",
            &name,
            "-m",
            "dind",
            "--engine",
            "podman",
            "-x",
            &format!("podman run --rm {CANARY} echo nested-ok"),
        ],
        &[("XDG_CACHE_HOME", "/proc/dindbox-no-cache")],
    )
    .ok();
    assert!(run.stdout.contains("nested-ok"), "{}", run.stdout);
    assert!(
        run.stderr.contains("this start's set-up is not remembered"),
        "{}",
        run.stderr
    );
    assert_nothing_left("podman", &name);
}

#[test]
fn rootless_podman_steps_down_and_remembers_in_the_users_cache() {
    let mut cleanup = Cleanup::new("podman");
    let image = image_with(
        "podman",
        &mut cleanup,
        "rootless-no-mount-program",
        NO_MOUNT_PROGRAM,
    );
    let _lock = shared();
    // Into the test user's own store, and out of it again afterwards.
    let saved = tempfile::NamedTempFile::new().unwrap();
    let archive = saved.path().to_str().unwrap();
    engine(
        "podman",
        &["save", "--format", "docker-archive", "-o", archive, &image],
    )
    .ok();
    Command::new("chmod")
        .args(["644", archive])
        .status()
        .unwrap();
    struct UserImage(String);
    impl Drop for UserImage {
        fn drop(&mut self) {
            let _ = user_podman(&["rmi", "-f", &self.0]);
        }
    }
    let _user_image = UserImage(image.clone());
    user_podman(&["load", "-q", "-i", archive]).ok();
    let ws = user_workspace();
    let cache = user_workspace();
    let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
    let names = [unique("rootless-stepdown-1"), unique("rootless-stepdown-2")];
    let _user_cleanup = UserCleanup(names.to_vec());
    let start = |name: &str| {
        let cmd = format!("podman run --rm {CANARY} echo nested-ok");
        let args = [
            "run", "--rm", "-n", name, "-m", "dind", "--image", &image, "-x", &cmd,
        ];
        as_user_with(&user_binary().display().to_string(), &args, ws.path(), &env).ok()
    };
    assert_storage_stepped_down(&start(&names[0]));
    assert_nothing_left_for_user(&names[0]);
    let kept = memories(cache.path());
    assert_eq!(kept.len(), 1, "kept in the user's cache: {kept:?}");
    let second = start(&names[1]);
    assert!(second.stdout.contains("nested-ok"), "{}", second.stdout);
    assert!(
        !second.stderr.contains("stepping down"),
        "{}",
        second.stderr
    );
    assert_nothing_left_for_user(&names[1]);
    assert_no_report_dir_left(cache.path());
}
