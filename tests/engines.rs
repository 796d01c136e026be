//! Real-engine tests: each one starts real sandboxes on this host's Docker and
//! Podman (see tests/common for the set-up they rely on).

mod common;

use common::*;
fn nested_canary(host: &str, inner: &str) {
    let _guard = shared();
    let name = unique(&format!("nest-{host}-{inner}"));
    let _cleanup = Cleanup::new(host).container(&name);
    let cmd = format!("{inner} run --rm {CANARY} echo nested-ok");
    let run = dindbox(&[
        "run", "--rm", "-m", "dind", "--engine", host, "--inner", inner, "-n", &name, "-x", &cmd,
    ])
    .ok();
    assert_eq!(run.stdout.trim(), "nested-ok", "stderr:\n{}", run.stderr);
    assert_nothing_left(host, &name);
}

#[test]
fn docker_host_runs_nested_podman() {
    nested_canary("docker", "podman");
}

#[test]
fn docker_host_runs_nested_docker() {
    nested_canary("docker", "docker");
}

#[test]
fn podman_host_runs_nested_podman() {
    nested_canary("podman", "podman");
}

#[test]
fn podman_host_runs_nested_docker() {
    nested_canary("podman", "docker");
}

#[test]
fn images_build_inside_with_either_inner_engine() {
    let _guard = shared();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {CANARY}\nRUN echo built-inside > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n"
        ),
    )
    .unwrap();
    for (host, inner) in [("docker", "podman"), ("podman", "docker")] {
        let cmd = format!("{inner} build -q -t app . >/dev/null && {inner} run --rm app");
        let run = dindbox_in(
            dir.path(),
            &[
                "run", "--rm", "-m", "dind", "--engine", host, "--inner", inner, "-x", &cmd,
            ],
            &[],
        )
        .ok();
        assert_eq!(
            run.stdout, "built-inside\n",
            "{host}/{inner}: {}",
            run.stderr
        );
    }
}

/// Inside a dind sandbox: a nested container reaches the sandbox's gateway
/// (through NAT), finds another by name on a user network, and a port it
/// publishes answers on the sandbox's localhost.
fn nested_networking(host: &str, inner: &str, extra: &[&str]) {
    let _guard = shared();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), "served-by-nested\n").unwrap();
    let script = format!(
        "set -e
gw=$(ip route show default | awk '{{print $3; exit}}')
{inner} run --rm --cap-add NET_RAW {CANARY} busybox ping -c1 -W5 \"$gw\" >/dev/null && echo outbound-ok
{inner} network create testnet >/dev/null
{inner} run -d --name web --network testnet -p 8080:80 -v \"$PWD/www:/www\" {CANARY} busybox httpd -f -p 80 -h /www >/dev/null
{inner} run --rm --network testnet {CANARY} sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -qO- http://web/ && exit 0; sleep 0.3; done; exit 1'
curl -sS --retry 10 --retry-delay 1 --retry-connrefused http://localhost:8080/"
    );
    let mut args = vec![
        "run", "--rm", "-m", "dind", "--engine", host, "--inner", inner,
    ];
    args.extend_from_slice(extra);
    args.extend(["-x", &script]);
    let run = dindbox_in(dir.path(), &args, &[]).ok();
    assert_eq!(
        run.stdout, "outbound-ok\nserved-by-nested\nserved-by-nested\n",
        "{host}/{inner} {extra:?}\nstderr:\n{}",
        run.stderr
    );
}

#[test]
fn nested_docker_networking_on_a_docker_host() {
    nested_networking("docker", "docker", &[]);
}

#[test]
fn nested_docker_networking_with_dockerds_own_iptables() {
    nested_networking("docker", "docker", &["--inner-iptables"]);
}

#[test]
fn nested_docker_networking_on_a_podman_host() {
    nested_networking("podman", "docker", &[]);
}

#[test]
fn nested_podman_networking() {
    nested_networking("docker", "podman", &[]);
}

#[test]
fn privileged_when_asked_works_on_both_engines() {
    // On this host Docker's own --privileged fails (the bounding set lacks
    // CAP_SYS_RESOURCE): dindbox spells it out, and it must still nest.
    let _guard = shared();
    for eng in ENGINES {
        let cmd = format!("docker run --rm {CANARY} echo nested-ok");
        let run = dindbox(&[
            "run",
            "--rm",
            "--privileged",
            "-m",
            "dind",
            "--engine",
            eng,
            "--inner",
            "docker",
            "-x",
            &cmd,
        ])
        .ok();
        assert_eq!(run.stdout.trim(), "nested-ok", "{eng}: {}", run.stderr);
    }
}

#[test]
fn dind_sandbox_cannot_change_the_hosts_kernel_settings() {
    let _guard = shared();
    let script = "echo 1 > /proc/sys/net/ipv4/ip_forward && echo net-writable; \
                  if echo '|/tmp/x' > /proc/sys/kernel/core_pattern 2>/dev/null; then echo kernel-WRITABLE; else echo kernel-read-only; fi; \
                  if [ -s /proc/kcore ]; then echo kcore-VISIBLE; else echo kcore-masked; fi; \
                  if ls /sys/fs/cgroup/*/release_agent >/dev/null 2>&1; then echo release-agent-VISIBLE; else echo no-release-agent; fi";
    for eng in ENGINES {
        let run = dindbox(&[
            "run", "--rm", "-m", "dind", "--engine", eng, "--inner", "docker", "-x", script,
        ])
        .ok();
        assert_eq!(
            run.stdout, "net-writable\nkernel-read-only\nkcore-masked\nno-release-agent\n",
            "{eng}: {}",
            run.stderr
        );
    }
}

#[test]
fn exit_status_is_the_commands() {
    let _guard = shared();
    for eng in ENGINES {
        let run = dindbox(&[
            "run", "--rm", "-m", "common", "--engine", eng, "-x", "exit 7",
        ]);
        assert_eq!(run.code, 7, "{eng}: {}", run.stderr);
    }
    let run = dindbox(&[
        "run",
        "--rm",
        "-m",
        "dind",
        "--engine",
        "docker",
        "--inner",
        "podman",
        "-x",
        "podman info >/dev/null && exit 42",
    ]);
    assert_eq!(run.code, 42, "{}", run.stderr);
    let run = dindbox(&[
        "run",
        "--rm",
        "-m",
        "common",
        "--engine",
        "docker",
        "-x",
        "kill -TERM $$",
    ]);
    assert_eq!(
        run.code,
        128 + 15,
        "a command killed by SIGTERM: {}",
        run.stderr
    );
}

#[test]
fn sock_mode_sees_the_hosts_containers() {
    let _guard = shared();
    for eng in ENGINES {
        let marker = unique("sock-marker");
        let _cleanup = Cleanup::new(eng).container(&marker);
        engine(eng, &["create", "--name", &marker, CANARY, "true"]).ok();
        // On Podman no API socket runs here: dindbox serves one for the sandbox.
        let cmd = format!(
            "docker ps -a --format '{{{{.Names}}}}' && docker run --rm {CANARY} echo ran-on-host"
        );
        let run = dindbox(&["run", "--rm", "-m", "sock", "--engine", eng, "-x", &cmd]).ok();
        assert!(
            run.stdout.lines().any(|l| l == marker),
            "{eng}: {marker} not listed:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.lines().any(|l| l == "ran-on-host"),
            "{eng}: {}",
            run.stdout
        );
    }
    // dindbox's own files there (env files, profiles) are in dot directories.
    let sockets: Vec<_> = std::fs::read_dir("/run/dindbox")
        .map(|d| {
            d.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        sockets.is_empty(),
        "the sandbox's API socket was left: {sockets:?}"
    );
}

#[test]
fn common_mode_has_no_engine_inside() {
    let _guard = shared();
    for eng in ENGINES {
        let run = dindbox(&[
            "run", "--rm", "-m", "common", "--engine", eng, "-x",
            "test ! -e /var/run/docker.sock && test ! -e /run/podman/podman.sock && test -z \"$DOCKER_HOST\" && echo no-engine",
        ])
        .ok();
        assert_eq!(run.stdout.trim(), "no-engine", "{eng}");
        let run = dindbox(&[
            "run",
            "--rm",
            "-m",
            "common",
            "--engine",
            eng,
            "-x",
            "docker ps",
        ]);
        assert_ne!(run.code, 0, "{eng}: docker ps must fail in common mode");
    }
}

#[test]
fn workspace_is_the_current_directory_at_the_same_path() {
    let _guard = shared();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("marker.txt"), "from-host").unwrap();
    for eng in ENGINES {
        let run = dindbox_in(
            dir.path(),
            &[
                "run",
                "--rm",
                "-m",
                "common",
                "--engine",
                eng,
                "-x",
                "pwd; cat marker.txt; echo inside > made.txt",
            ],
            &[],
        )
        .ok();
        assert_eq!(
            run.stdout,
            format!("{}\nfrom-host", dir.path().display()),
            "{eng}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.txt")).unwrap(),
            "inside\n"
        );
    }
}

#[test]
fn inner_engine_that_cannot_start_reports_its_log_and_leaves_nothing() {
    let mut cleanup = Cleanup::new("docker");
    let image = image_with(
        "docker",
        &mut cleanup,
        "broken-dockerd",
        "echo '{broken' > /etc/docker/daemon.json",
    );
    let _guard = exclusive();
    let before = volumes("docker");
    // Unnamed, with and without --rm: not kept on purpose, so nothing may remain.
    for flags in [&["--rm"][..], &[][..]] {
        let run = dind_of("docker", "docker", &image, flags);
        assert_inner_failed(
            &run,
            "dindbox: the inner docker did not start: dockerd exited",
            "/etc/docker/daemon.json",
        );
    }
    let filter = format!("ancestor={image}");
    let left = engine(
        "docker",
        &["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
    )
    .ok()
    .stdout;
    assert!(left.trim().is_empty(), "containers left: {left}");
    assert_eq!(volumes("docker"), before, "volumes were left behind");
}

#[test]
fn podman_inside_with_a_broken_storage_conf_reports_and_leaves_nothing() {
    let mut cleanup = Cleanup::new("podman");
    let image = image_with(
        "podman",
        &mut cleanup,
        "broken-storage",
        "echo '[storage' >> /etc/containers/storage.conf",
    );
    let _guard = exclusive();
    let before = volumes("podman");
    let name = unique("broken-podman");
    cleanup.containers.push(name.clone());
    let run = dind_of("podman", "podman", &image, &["--rm", "-n", &name]);
    assert_inner_failed(&run, "the inner podman did not start", "storage.conf");
    assert_nothing_left("podman", &name);
    assert_eq!(volumes("podman"), before, "volumes were left behind");
}

#[test]
fn inner_engine_that_does_not_answer_in_time_is_bounded() {
    let mut cleanup = Cleanup::new("docker");
    let image = image_with(
        "docker",
        &mut cleanup,
        "silent-dockerd",
        "printf '#!/bin/sh\\necho pretending to start\\nexec sleep 600\\n' > /usr/local/bin/dockerd && chmod +x /usr/local/bin/dockerd",
    );
    let _guard = shared();
    let name = unique("silent");
    cleanup.containers.push(name.clone());
    let started = std::time::Instant::now();
    let run = dind_of(
        "docker",
        "docker",
        &image,
        &["--rm", "--inner-timeout", "2", "-n", &name],
    );
    assert_inner_failed(
        &run,
        "did not answer on /var/run/docker.sock within 2000 ms",
        "pretending to start",
    );
    assert!(started.elapsed().as_secs() < 60, "the bound was not kept");
    assert_nothing_left("docker", &name);
}

#[test]
fn named_sandbox_without_rm_is_kept_with_its_labelled_storage() {
    let _guard = shared();
    let name = unique("kept");
    let _cleanup = Cleanup::new("docker")
        .container(&name)
        .volume(&format!("{name}-storage"));
    let cmd = format!(
        "docker run --name inner-one {CANARY} true && docker ps -a --format '{{{{.Names}}}}'"
    );
    let run = dindbox(&[
        "run", "-m", "dind", "--engine", "docker", "--inner", "docker", "-n", &name, "-x", &cmd,
    ])
    .ok();
    assert!(run.stdout.contains("inner-one"), "{}", run.stdout);
    assert!(
        container_exists("docker", &name),
        "a named sandbox without --rm is kept"
    );
    let labels = engine(
        "docker",
        &[
            "volume",
            "inspect",
            "--format",
            "{{json .Labels}}",
            &format!("{name}-storage"),
        ],
    )
    .ok();
    assert!(
        labels
            .stdout
            .contains(&format!("\"io.dindbox.sandbox\":\"{name}\"")),
        "{}",
        labels.stdout
    );
}

#[test]
fn bad_input_gets_one_clear_message_and_leaves_nothing() {
    let _guard = shared();
    let name = unique("bad");
    let cases: [(&[&str], &str, &str); 7] = [
        (&["-m", "dnd"], "unknown mode `dnd`", "did you mean `dind`?"),
        (
            &["-m", "dind", "--inner", "dokcer"],
            "unknown inner engine `dokcer`",
            "did you mean `docker`?",
        ),
        (
            &["--engine", "kubernetes"],
            "unknown engine `kubernetes`",
            "valid values: podman, docker",
        ),
        (
            &["--image", "localhost/dindbox/no-such-image:1"],
            "is not on this host",
            "dindbox image build",
        ),
        (
            &["--inner-timeout", "0", "-m", "dind"],
            "--inner-timeout must be at least 1 second",
            "e.g. `--inner-timeout 60`",
        ),
        (
            &["-m", "common", "--inner", "docker"],
            "--inner only applies to dind sandboxes",
            "use `-m dind`",
        ),
        (
            &["--json"],
            "`run` prints one only with --dry-run",
            "add --dry-run",
        ),
    ];
    for (args, message, hint) in cases {
        let mut full = vec!["run", "--rm", "-n", &name, "-x", "echo never"];
        full.extend_from_slice(args);
        let run = dindbox(&full);
        assert_bad_input(&run, 2, message, hint);
        for eng in ENGINES {
            assert_nothing_left(eng, &name);
        }
    }
    let run = dindbox(&["run", "--name=-bad name", "-x", "true"]);
    assert_bad_input(
        &run,
        2,
        "invalid sandbox name `-bad name`",
        "letters, digits",
    );
}

#[test]
fn no_engine_reachable_says_how_to_get_one() {
    let _guard = shared();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().display().to_string();
    let run = dindbox_in(
        dir.path(),
        &["run", "-m", "dind", "-x", "true"],
        &[("PATH", &empty)],
    );
    assert_bad_input(
        &run,
        125,
        "no container engine answers on this host",
        "apt-get install podman",
    );
    assert!(
        run.stderr.contains("systemctl start docker"),
        "{}",
        run.stderr
    );

    let run = dindbox_in(
        dir.path(),
        &["run", "--engine", "docker", "-x", "true"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_bad_input(
        &run,
        125,
        "docker does not answer on this host",
        "start Docker",
    );
}

#[test]
fn inner_docker_in_an_image_without_dockerd_is_refused_and_leaves_nothing() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("no-dockerd");
        let _cleanup = Cleanup::new(eng).container(&name);
        let run = dind_of(eng, "docker", CANARY, &["--rm", "-n", &name]);
        assert_inner_failed(&run, "this image has no `dockerd`", "--inner");
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn a_name_in_use_is_refused_and_the_existing_container_kept() {
    let _guard = shared();
    let name = unique("taken");
    let _cleanup = Cleanup::new("docker").container(&name);
    let id = engine("docker", &["create", "--name", &name, CANARY, "true"])
        .ok()
        .stdout;
    let run = dindbox(&["run", "--engine", "docker", "-n", &name, "-x", "echo never"]);
    assert_bad_input(
        &run,
        2,
        &format!("a container named `{name}` already exists on docker"),
        "choose another name",
    );
    let still = engine(
        "docker",
        &["container", "inspect", "--format", "{{.Id}}", &name],
    )
    .ok()
    .stdout;
    assert_eq!(
        still.trim(),
        id.trim(),
        "the existing container is untouched"
    );
    assert!(!volumes("docker").iter().any(|v| v.starts_with(&name)));
}

#[test]
fn an_existing_storage_volume_is_refused_and_kept() {
    let _guard = shared();
    let name = unique("vol-taken");
    let volume = format!("{name}-storage");
    let _cleanup = Cleanup::new("docker").container(&name).volume(&volume);
    engine("docker", &["volume", "create", &volume]).ok();
    let run = dindbox(&[
        "run",
        "-m",
        "dind",
        "--engine",
        "docker",
        "--inner",
        "docker",
        "-n",
        &name,
        "-x",
        "echo never",
    ]);
    assert_bad_input(
        &run,
        2,
        &format!("a volume named `{volume}` already exists on docker"),
        "volume rm",
    );
    assert!(
        volumes("docker").contains(&volume),
        "someone's volume was removed"
    );
    assert!(!container_exists("docker", &name));
}

#[test]
fn a_docker_sandbox_that_would_be_the_hosts_root_is_refused_unless_asked_for() {
    let _guard = shared();
    for (mode, network) in [("dind", "host"), ("common", "bridge-of-mine")] {
        let name = unique("host-root");
        let _cleanup = Cleanup::new("docker")
            .container(&name)
            .volume(&format!("{name}-storage"));
        let run = dindbox(&[
            "run",
            "--rm",
            "-m",
            mode,
            "--engine",
            "docker",
            "-n",
            &name,
            "--network",
            network,
            "-x",
            "echo never",
        ]);
        assert_bad_input(&run, 3, "its root would be the host's root", "--host-root");
        assert!(
            run.stderr.contains(&format!("drop `--network {network}`")),
            "{}",
            run.stderr
        );
        assert_nothing_left("docker", &name);
    }
}

#[test]
fn an_engine_that_cannot_create_the_sandbox_leaves_nothing() {
    let _guard = shared();
    let name = unique("no-net");
    let _cleanup = Cleanup::new("docker")
        .container(&name)
        .volume(&format!("{name}-storage"));
    let run = dindbox(&[
        "run",
        "-m",
        "dind",
        "--engine",
        "docker",
        "--inner",
        "docker",
        "-n",
        &name,
        // A user-defined network keeps Docker's sandbox the host's root,
        // refused unless asked for: asked for, the engine is what fails.
        "--host-root",
        "--network",
        "no-such-network",
        "-x",
        "echo never",
    ]);
    assert_eq!(run.code, 125, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: docker could not start the sandbox"),
        "{}",
        run.stderr
    );
    assert_nothing_left("docker", &name);
}

#[test]
fn sigterm_reaches_the_command_and_the_throw_away_sandbox_goes() {
    let _guard = shared();
    for eng in ENGINES {
        let name = unique("sigterm");
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut child = spawn_run(eng, &name, true, "echo started; sleep 60");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line, "started\n", "{eng}");
        let started = std::time::Instant::now();
        // SAFETY: kill(2) on our own child, which has not been waited for.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(128 + 15),
            "{eng}: the command was ended by SIGTERM"
        );
        assert!(
            started.elapsed().as_secs() < 15,
            "{eng}: SIGTERM took {:?}",
            started.elapsed()
        );
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn plan_prints_the_exact_command_and_starts_nothing() {
    let _guard = shared();
    let name = unique("plan");
    let run = dindbox(&[
        "plan", "-m", "dind", "--engine", "docker", "--inner", "docker", "-n", &name,
    ])
    .ok();
    assert!(run.stdout.contains("docker run --name"), "{}", run.stdout);
    for flag in ["--cap-add SYS_ADMIN", "--cgroupns private", "seccomp=/"] {
        assert!(run.stdout.contains(flag), "{flag} missing:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("--privileged"), "{}", run.stdout);
    assert!(
        run.stdout.contains("# "),
        "each flag has its reason:\n{}",
        run.stdout
    );
    let dry = dindbox(&[
        "run",
        "--dry-run",
        "--json",
        "-m",
        "dind",
        "--engine",
        "podman",
        "--inner",
        "podman",
        "-n",
        &name,
    ])
    .ok();
    let json: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    let argv: Vec<&str> = json["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv[0].ends_with("podman"), "{argv:?}");
    assert!(argv.contains(&"init"), "{argv:?}");
    for eng in ENGINES {
        assert_nothing_left(eng, &name);
    }
}

#[test]
fn doctor_reports_both_engines() {
    let run = dindbox(&["doctor", "--json"]).ok();
    let facts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for eng in ENGINES {
        let e = facts["engines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == eng)
            .unwrap_or_else(|| panic!("{eng} missing"));
        assert_eq!(e["answers"], true, "{eng}: {e}");
    }
    assert!(
        facts["caps"]["bounding"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "CAP_SYS_ADMIN")
    );
    let text = dindbox(&["doctor"]).ok();
    assert!(
        text.stdout.contains("podman") && text.stdout.contains("docker"),
        "{}",
        text.stdout
    );
}

#[test]
fn image_build_is_a_quick_no_op_when_up_to_date() {
    let _guard = shared();
    let run = dindbox(&["image", "build"]).ok();
    for eng in ENGINES {
        assert!(
            run.stderr
                .contains(&format!("{} is up to date in {eng}", sandbox_image())),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("{CANARY} is up to date in {eng}")),
            "{}",
            run.stderr
        );
    }
}
