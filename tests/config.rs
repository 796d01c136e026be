//! Configuration on real engines: profiles, project and global files, env
//! files kept off every command line, mounts, ports and limits reaching the
//! engine, and bad input refused with its place and nothing left behind.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A home, configuration directory, runtime directory and project of its own.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        for d in [
            "home/.config/dindbox/profiles",
            "home/.config/dindbox/env",
            "run",
            "proj",
        ] {
            std::fs::create_dir_all(f.path(d)).unwrap();
        }
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn proj(&self) -> PathBuf {
        self.path("proj")
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn profile(&self, name: &str, text: &str) -> PathBuf {
        self.write(&format!("home/.config/dindbox/profiles/{name}"), text)
    }

    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let home = self.path("home");
        let config = self.path("home/.config");
        let runtime = self.path("run");
        // The host's cache, so that engine facts and the canary stay warm.
        let cache = std::env::var("XDG_CACHE_HOME")
            .unwrap_or_else(|_| format!("{}/.cache", std::env::var("HOME").unwrap()));
        let mut env = vec![
            ("HOME", home.to_str().unwrap()),
            ("XDG_CONFIG_HOME", config.to_str().unwrap()),
            ("XDG_RUNTIME_DIR", runtime.to_str().unwrap()),
            ("XDG_CACHE_HOME", cache.as_str()),
        ];
        env.extend_from_slice(extra);
        dindbox_in(&self.proj(), args, &env)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Every file below the fixture, to show that nothing was written.
    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                }
                out.push(p);
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.sort();
        out
    }

    /// No env file is left in the runtime directory.
    fn assert_no_env_file(&self) {
        let dir = self.path("run/dindbox/.env");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        assert!(
            left.is_empty(),
            "env files left in {}: {left:?}",
            dir.display()
        );
    }
}

/// `config show`'s line for `key` has each of `parts` (its value, its source).
fn assert_shown(out: &str, key: &str, parts: &[&str]) {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{out}"));
    for part in parts {
        assert!(line.contains(part), "expected {part:?} in {line:?}");
    }
}

/// Seed 003's run file, with a name of this test's own.
fn seed_run_file(name: &str) -> String {
    format!(
        "{{\n    \"containerName\": \"{name}\",\n    \"containerMode\": \"dind\",\n    \"envFile\": [\"anthropic_claudecode\"],\n    \"yolo\": \"c\"\n}}\n"
    )
}

#[test]
fn a_seed_run_file_runs_as_it_is_with_its_preset_and_env_file() {
    let _guard = shared();
    let f = Fixture::new();
    let name = unique("seed");
    let _cleanup = Cleanup::new("docker")
        .container(&name)
        .volume(&format!("{name}-storage"));
    let secret = format!("sk-{}", unique("key"));
    f.profile("dind.json", &seed_run_file(&name));
    f.write(
        "home/.config/dindbox/env/anthropic_claudecode.env",
        &format!("# the agent's key\nexport ANTHROPIC_API_KEY=\"{secret}\"\n"),
    );
    // A stand-in for the agent: shows its arguments and environment, and nests a container.
    let agent = f.write(
        "proj/claude",
        "#!/bin/sh\necho \"args=$* sandbox=$IS_SANDBOX key=$ANTHROPIC_API_KEY\"\npodman run --rm localhost/dindbox/canary echo nested-ok\n",
    );
    std::fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mount = format!("{}:/usr/local/bin/claude:ro", agent.display());
    let run = f
        .run(&[
            "run", "-r", "dind", "--rm", "--engine", "docker", "-v", &mount,
        ])
        .ok();
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            format!("args=--dangerously-skip-permissions sandbox=1 key={secret}").as_str(),
            "nested-ok"
        ],
        "stderr:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&secret));
    assert_nothing_left("docker", &name);
    f.assert_no_env_file();
}

#[test]
fn env_values_reach_the_sandbox_literally_and_no_output_shows_them() {
    let _guard = shared();
    let f = Fixture::new();
    let secret = format!("s3cr3t-{}", unique("v"));
    f.write(
        "proj/app.env",
        &format!("TOKEN={secret}\nSPACED=  a  b  \nQUOTED=\"q v\"\nHASH=x#y=z\nDOLLAR=$HOME'\\n\n"),
    );
    // Quotes and backslashes from the command line arrive as they are (engines' env files take values literally).
    let flag_secret = format!("\"{secret}-flag\" 'x' \\t ");
    let host_secret = format!("{secret}-host");
    let flag_env = format!("FLAG={flag_secret}");
    let script =
        r#"printf '%s|' "$TOKEN" "$SPACED" "$QUOTED" "$HASH" "$DOLLAR" "$FLAG" "$FROM_HOST""#;
    let base = [
        "--env-file",
        "./app.env",
        "-e",
        &flag_env,
        "-e",
        "FROM_HOST",
    ];
    let with_host = [("FROM_HOST", host_secret.as_str())];
    for eng in ENGINES {
        let name = unique(&format!("env-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut args = vec!["run", "--rm", "--engine", eng, "-n", &name, "-x", script];
        args.extend_from_slice(&base);
        let run = f.run_with(&args, &with_host).ok();
        assert_eq!(
            run.stdout,
            format!("{secret}|  a  b  |q v|x#y=z|$HOME'\\n|{flag_secret}|{host_secret}|"),
            "{eng}: stderr:\n{}",
            run.stderr
        );
        assert_nothing_left(eng, &name);
        f.assert_no_env_file();
        for shown in [
            vec!["plan", "--engine", eng],
            vec!["plan", "--engine", eng, "--json"],
            vec!["run", "--dry-run", "--engine", eng],
            vec!["config", "command", "--engine", eng],
            vec!["config", "show"],
            vec!["config", "show", "--json"],
        ] {
            let mut args = shown.clone();
            args.extend_from_slice(&base);
            let out = f.run_with(&args, &with_host).ok();
            assert!(
                !out.stdout.contains(&secret) && !out.stderr.contains(&secret),
                "{shown:?} shows a value:\n{}",
                out.stdout
            );
            let named = if shown[1] == "command" {
                "--env-file "
            } else {
                "TOKEN"
            };
            assert!(out.stdout.contains(named), "{shown:?}:\n{}", out.stdout);
        }
        f.assert_no_env_file();
    }
    let show = f.run_with(&[&["config", "show"][..], &base].concat(), &with_host);
    assert_shown(&show.stdout, "env.TOKEN", &["***", "app.env:1"]);
}

#[test]
fn the_env_file_is_private_while_the_sandbox_runs_and_gone_after_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    let _guard = shared();
    let f = Fixture::new();
    for eng in ENGINES {
        let name = unique(&format!("envterm-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let mut child = std::process::Command::new(BIN)
            .args(["run", "--rm", "--engine", eng, "-n", &name, "-e", "K=v"])
            .args(["-x", "echo \"started $K\"; sleep 60"])
            .env("XDG_RUNTIME_DIR", f.path("run"))
            .current_dir(f.proj())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line, "started v\n", "{eng}");
        let dir = f.path("run/dindbox/.env");
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1, "{eng}: {files:?}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files[0]), 0o600, "{eng}");
        assert_eq!(mode(&dir), 0o700, "{eng}");
        assert!(
            files[0]
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&name)
        );
        // SAFETY: kill(2) on our own child, which has not been waited for.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        assert_eq!(child.wait().unwrap().code(), Some(128 + 15), "{eng}");
        f.assert_no_env_file();
        assert_nothing_left(eng, &name);
    }
}

/// A free TCP port on 127.0.0.1 (the kernel's choice).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn inspect(eng: &str, name: &str, format: &str) -> String {
    engine(eng, &["container", "inspect", "--format", format, name])
        .ok()
        .stdout
        .trim()
        .to_string()
}

#[test]
fn volumes_ports_and_limits_from_files_and_flags_reach_the_engine() {
    let _guard = shared();
    let f = Fixture::new();
    let data = f.write("data/marker", "from-the-host\n");
    let data_dir = data.parent().unwrap().display().to_string();
    for eng in ENGINES {
        let name = unique(&format!("limits-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let port = free_port();
        // The project file sets some, the command line the rest.
        f.write(
            "proj/.dindbox.toml",
            &format!(
                "containerPath = \"/workspace\"\ncpus = 1.5\nvolumes = [\"{data_dir}:/data:ro\"]\n\n[env]\nGREETING = \"hello\"\n"
            ),
        );
        let publish = format!("127.0.0.1:{port}:80");
        let run = f
            .run(&[
                "run",
                "--engine",
                eng,
                "-n",
                &name,
                "--memory",
                "256m",
                "--pids-limit",
                "300",
                "-p",
                &publish,
                "-x",
                "pwd; cat /data/marker; echo $GREETING",
            ])
            .ok();
        assert_eq!(
            run.stdout, "/workspace\nfrom-the-host\nhello\n",
            "stderr:\n{}",
            run.stderr
        );
        assert_eq!(
            inspect(eng, &name, "{{.HostConfig.NanoCpus}}"),
            "1500000000"
        );
        assert_eq!(inspect(eng, &name, "{{.HostConfig.Memory}}"), "268435456");
        assert_eq!(inspect(eng, &name, "{{.HostConfig.PidsLimit}}"), "300");
        let ports = inspect(eng, &name, "{{json .HostConfig.PortBindings}}");
        assert!(
            ports.contains(&format!("\"HostPort\":\"{port}\"")),
            "{eng}: {ports}"
        );
        assert!(ports.contains("80/tcp"), "{eng}: {ports}");
        let mounts = inspect(eng, &name, "{{json .Mounts}}");
        let mounts: serde_json::Value = serde_json::from_str(&mounts).unwrap();
        let data = mounts
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == "/data")
            .unwrap_or_else(|| panic!("{eng}: no /data mount in {mounts}"));
        assert_eq!(data["RW"], false, "{eng}: {data}");
        let ws = mounts
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == "/workspace");
        assert_eq!(
            ws.unwrap()["Source"],
            f.proj().canonicalize().unwrap().display().to_string()
        );
    }
}

#[test]
fn network_rm_and_the_inner_engines_keys_from_files_reach_the_engine() {
    let _guard = shared();
    let f = Fixture::new();
    f.profile("offline.toml", "network = \"none\"\nrm = true\n");
    f.profile(
        "slow.json",
        "{\"containerMode\": \"dind\", \"inner\": \"docker\", \"innerTimeout\": 90, \"innerIptables\": true}",
    );
    for eng in ENGINES {
        let name = unique(&format!("keys-{eng}"));
        let _cleanup = Cleanup::new(eng).container(&name);
        let run = f
            .run(&[
                "run",
                "-r",
                "offline",
                "--engine",
                eng,
                "-n",
                &name,
                "-x",
                "ls /sys/class/net",
            ])
            .ok();
        assert_eq!(run.stdout, "lo\n", "{eng}: stderr:\n{}", run.stderr);
        assert!(!container_exists(eng, &name), "{eng}: rm from the profile");
        let command = f
            .run(&["config", "command", "-r", "slow", "--engine", eng])
            .ok();
        for part in [
            "io.dindbox.timeout-ms=90000",
            "\"ready_timeout_ms\":90000",
            "\"engine_firewall\":true",
        ] {
            assert!(
                command.stdout.contains(part),
                "{eng}: no {part} in {}",
                command.stdout
            );
        }
    }
}

#[test]
fn import_manyoyo_writes_profiles_reports_what_it_cannot_map_and_keeps_files() {
    let f = Fixture::new();
    f.write(
        "home/.manyoyo/manyoyo.json",
        "{\n  // MANYOYO's global settings\n  imageName: 'localhost/dindbox/sandbox',\n  imageVersion: '0.1.0',\n  quiet: ['tip'],\n  runs: {\n    dev: { containerMode: 'dind', imageBuildArgs: ['A=1'], shellPrefix: 'x', },\n  },\n}\n",
    );
    f.write("home/.manyoyo/run/dind.json", &seed_run_file("my-dind"));
    let run = f.run(&["import", "manyoyo"]).ok();
    let profiles = f.path("home/.config/dindbox/profiles");
    assert!(
        run.stdout
            .contains(&format!("wrote {}", profiles.join("dev.json").display())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("wrote {}", profiles.join("dind.json").display()))
    );
    assert!(
        run.stdout.contains("not imported: imageBuildArgs"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("not imported: shellPrefix"));
    assert!(run.stdout.contains("not imported: quiet"));
    assert!(
        run.stdout
            .contains("envFile `anthropic_claudecode` is read from")
    );
    let global = f.path("home/.config/dindbox/config.json");
    assert!(global.is_file());
    // The imported files are dindbox's own: the global image and the profile's mode resolve.
    let show = f.run(&["config", "show", "-r", "dev"]).ok();
    assert!(
        show.stdout.contains("localhost/dindbox/sandbox:0.1.0"),
        "{}",
        show.stdout
    );
    assert_shown(&show.stdout, "containerMode", &["dind", "dev.json:2:"]);
    // Again: kept, unless --force.
    f.profile("dev.json", "{\"cpus\": 1}\n");
    let again = f.run(&["import", "manyoyo"]).ok();
    assert!(
        again.stdout.contains("(it exists; --force replaces it)"),
        "{}",
        again.stdout
    );
    assert_eq!(
        std::fs::read_to_string(profiles.join("dev.json")).unwrap(),
        "{\"cpus\": 1}\n"
    );
    f.run(&["import", "manyoyo", "--force"]).ok();
    assert!(
        std::fs::read_to_string(profiles.join("dev.json"))
            .unwrap()
            .contains("dind")
    );
}

/// One bad input: the files it needs, its arguments, and what must be said.
struct Bad {
    /// The sandbox name the case gives itself; else the runner adds `-n` with a unique one.
    name: Option<&'static str>,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    code: i32,
    message: &'static str,
    hint: &'static str,
}

const P: &str = "home/.config/dindbox/profiles/";

fn bad(
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    code: i32,
    message: &'static str,
    hint: &'static str,
) -> Bad {
    Bad {
        name: None,
        files,
        args,
        env: &[],
        code,
        message,
        hint,
    }
}

/// A case of one file and no flags, refused as bad input.
fn bad_file(
    rel: &'static str,
    text: &'static str,
    message: &'static str,
    hint: &'static str,
) -> Bad {
    Bad {
        files: Box::leak(Box::new([(rel, text)])),
        ..bad(&[], &[], 2, message, hint)
    }
}

/// Runs each case in a fresh fixture with `dindbox run -n NAME ...`, and checks
/// the message, its hint, the status, that no container or volume of that name
/// exists on either engine, and that no file was written.
fn assert_refused(cases: Vec<Bad>) {
    let _guard = shared();
    for case in cases {
        let f = Fixture::new();
        for (rel, text) in case.files {
            let rel = rel.replace("P/", P);
            f.write(&rel, text);
        }
        let before = f.files();
        let name = case.name.map_or_else(|| unique("bad"), String::from);
        let mut args = vec!["run"];
        if case.name.is_none() {
            args.extend(["-n", name.as_str()]);
        }
        args.extend_from_slice(case.args);
        let run = f.run_with(&args, case.env);
        let what = format!("case {:?}", case.args);
        assert_eq!(run.code, case.code, "{what}: {}", run.stderr);
        let message = case
            .message
            .replace("DIR/", &format!("{}/", f.dir.path().display()));
        assert!(
            run.stderr.contains(&message),
            "{what}: expected {message:?} in\n{}",
            run.stderr
        );
        assert_bad_input(&run, case.code, &message, case.hint);
        for eng in ENGINES {
            assert_nothing_left(eng, &name);
        }
        assert_eq!(f.files(), before, "{what}: files were written");
    }
}

#[test]
fn bad_configuration_files_are_refused_at_their_line_and_column() {
    assert_refused(vec![
        bad(
            &[("P/p.json", "{\n  \"containerMod\": \"dind\"\n}\n")],
            &["-r", "p"],
            2,
            "DIR/home/.config/dindbox/profiles/p.json:2:3: unknown key `containerMod`",
            "did you mean `containerMode`?",
        ),
        bad_file(
            "home/.config/dindbox/config.toml",
            "cpus = 1\nvolume = []\n",
            "DIR/home/.config/dindbox/config.toml:2:1: unknown key `volume`",
            "did you mean `volumes`?",
        ),
        bad_file(
            "proj/.dindbox.toml",
            "cpus = \"two\"\n",
            "DIR/proj/.dindbox.toml:1:8: wrong type for `cpus`: invalid type: string \"two\", expected a number",
            "dindbox config schema",
        ),
        bad_file(
            "proj/.dindbox.json",
            "{\n  \"volumes\": \"/a:/a\"\n}",
            "DIR/proj/.dindbox.json:2:14: wrong type for `volumes`: invalid type: string \"/a:/a\", expected a list",
            "dindbox config schema",
        ),
        bad_file(
            "proj/.dindbox.toml",
            "cpus = 1\nmemory = \n",
            "DIR/proj/.dindbox.toml:2:10:",
            "fix the TOML at line 2",
        ),
        bad_file(
            "proj/.dindbox.json",
            "{\n  // open\n  \"cpus\": 1 /* never closed\n",
            "DIR/proj/.dindbox.json:3:13: Unterminated comment block",
            "fix the JSON at line 3",
        ),
        bad_file(
            "proj/.dindbox.json",
            "{\n  \"cpus\": 1\n  \"pids\": 2\n}",
            "DIR/proj/.dindbox.json:2:12: Expected comma",
            "fix the JSON at line 2",
        ),
        bad_file(
            "proj/.dindbox.json",
            "[\"dind\"]",
            "DIR/proj/.dindbox.json:1:1: expected an object",
            "fix the JSON at line 1",
        ),
        bad_file(
            "proj/.dindbox.json",
            "{\"cpus\": 1,\n \"cpus\": 2}",
            "DIR/proj/.dindbox.json:2:2: `cpus` is given twice (first at line 1)",
            "keep one of them",
        ),
        bad_file(
            "proj/.dindbox.json",
            "{\"env\": [\"CI\"]}",
            "DIR/proj/.dindbox.json:1:9: wrong type for `env`: env entry `CI` has no `=`",
            "dindbox config schema",
        ),
        bad(
            &[("proj/.dindbox.toml", ""), ("proj/.dindbox.json", "{}")],
            &[],
            2,
            "dindbox reads one",
            "merge them into one file",
        ),
        bad(
            &[("P/dind.json", "{}")],
            &["-r", "dnid"],
            2,
            "no profile `dnid`",
            "did you mean `dind`?",
        ),
        bad(
            &[],
            &["-r", "./missing.json"],
            2,
            "profile file DIR/proj/./missing.json does not exist",
            "a profile's NAME",
        ),
        bad_file(
            "proj/.dindbox.toml",
            "imageVersion = \"2\"\n",
            "DIR/proj/.dindbox.toml:1:1: imageVersion without imageName",
            "set imageName too",
        ),
        bad_file(
            "proj/.dindbox.toml",
            "containerMode = \"dnd\"\n",
            "unknown mode `dnd` (DIR/proj/.dindbox.toml:1:1)",
            "did you mean `dind`?",
        ),
        Bad {
            name: Some("my box"),
            ..bad_file(
                "proj/.dindbox.toml",
                "containerName = \"my box\"\n",
                "invalid sandbox name `my box` (DIR/proj/.dindbox.toml:1:1)",
                "starts with a letter or digit",
            )
        },
        bad_file(
            "proj/.dindbox.json",
            "{\"env\": {\"K\": \"line\\nbreak\"}}",
            "DIR/proj/.dindbox.json:1:10: the value of `K` has a line break",
            "mount that file with `-v`",
        ),
    ]);
}

#[test]
fn bad_flags_are_refused_naming_the_fix() {
    assert_refused(vec![
        bad(
            &[],
            &["-p", "70000:80"],
            2,
            "bad port `70000:80` (`-p`)",
            "-p 8080:80",
        ),
        bad(
            &[],
            &["-p", "80"],
            2,
            "bad port `80` (`-p`): no host port",
            "-p 8080:80",
        ),
        bad(
            &[],
            &["-p", "8080:80/icmp"],
            2,
            "unknown protocol `icmp`",
            "tcp, udp or sctp",
        ),
        bad(
            &[],
            &["--memory", "lots"],
            2,
            "bad memory size `lots` (`--memory`): not a number",
            "512m",
        ),
        bad(
            &[],
            &["--memory", "1k"],
            2,
            "the engines' smallest limit is 6 MiB",
            "512m",
        ),
        bad(
            &[],
            &["--cpus", "many"],
            2,
            "bad --cpus `many`: not a number",
            "--cpus 1.5",
        ),
        bad(&[], &["--cpus", "0"], 2, "bad CPU count `0`", "--cpus 1.5"),
        bad(
            &[],
            &["--pids-limit", "0"],
            2,
            "bad process limit `0`",
            "--pids-limit 1024",
        ),
        bad(
            &[],
            &["-e", "1BAD=x"],
            2,
            "`1BAD` is not a variable name",
            "KEY=VALUE",
        ),
        bad(
            &[],
            &["-e", "DINDBOX_TEST_SURELY_UNSET"],
            2,
            "`DINDBOX_TEST_SURELY_UNSET` is not set in this environment",
            "-e DINDBOX_TEST_SURELY_UNSET=VALUE",
        ),
        bad(
            &[],
            &["-y", "claud"],
            2,
            "unknown yolo preset `claud`",
            "did you mean `claude`?",
        ),
        bad(
            &[],
            &["-y", "c", "-x", "ls"],
            2,
            "both a command (`-x`) and a yolo preset (`-y`) are given",
            "leave out one of",
        ),
        bad(
            &[],
            &["-v", "data:/data"],
            2,
            "the host path `data` is relative",
            "$PWD/data:/data",
        ),
        bad(
            &[],
            &["-v", "/nonexistent/dindbox:/x"],
            2,
            "the host path /nonexistent/dindbox does not exist",
            "mkdir -p",
        ),
        bad(
            &[],
            &["-v", "/tmp:/x:rw,bogus"],
            2,
            "unknown mount option `bogus`",
            "options: ro, rw",
        ),
        bad(
            &[],
            &["--container-path", "work"],
            2,
            "bad container path `work`",
            "--container-path /workspace",
        ),
        bad(
            &[],
            &["--container-path", "/usr"],
            2,
            "would hide a system directory",
            "--container-path /workspace",
        ),
        bad(
            &[],
            &["--workspace", "/nonexistent/ws"],
            2,
            "workspace /nonexistent/ws (`--workspace`) is not a directory",
            "existing directory",
        ),
    ]);
}

#[test]
fn bad_env_files_names_and_engines_are_refused() {
    assert_refused(vec![
        bad(
            &[],
            &["--env-file", "./missing.env"],
            2,
            "env file DIR/proj/./missing.env does not exist",
            "install -m 600",
        ),
        bad(
            &[("proj/bad.env", "A=1\njust words\n")],
            &["--env-file", "./bad.env"],
            2,
            "DIR/proj/./bad.env:2: expected KEY=VALUE",
            "KEY=VALUE",
        ),
        bad(
            &[("proj/bad.env", "export 9LIVES=x\n")],
            &["--env-file", "./bad.env"],
            2,
            "DIR/proj/./bad.env:1: `9LIVES` is not a variable name",
            "KEY=VALUE",
        ),
        bad(
            &[("P/dind.json", "{\"envFile\": [\"anthropic_claudecode\"]}")],
            &["-r", "dind"],
            2,
            "env file DIR/home/.config/dindbox/env/anthropic_claudecode.env does not exist",
            "install -m 600",
        ),
        Bad {
            name: Some("bad name!"),
            ..bad(
                &[],
                &["-n", "bad name!", "-x", "true"],
                2,
                "invalid sandbox name `bad name!`",
                "starts with a letter or digit",
            )
        },
        Bad {
            env: &[("DOCKER_HOST", "unix:///nonexistent.sock")],
            ..bad(
                &[],
                &["--engine", "docker", "-x", "true"],
                125,
                "docker does not answer on this host",
                "start Docker",
            )
        },
    ]);
}

#[test]
fn import_of_a_broken_or_missing_manyoyo_configuration_writes_nothing() {
    let f = Fixture::new();
    let missing = f.run(&["import", "manyoyo"]);
    assert_bad_input(
        &missing,
        2,
        "no MANYOYO configuration in",
        "manyoyo.json and",
    );
    f.write("home/.manyoyo/run/ok.json", "{\"containerMode\": \"dind\"}");
    let broken = f.write(
        "home/.manyoyo/manyoyo.json",
        "{\n  runs: {\n    dev: { containerMode: 'dind' \n}\n",
    );
    let before = f.files();
    let run = f.run(&["import", "manyoyo"]);
    let at = format!("{}:2:9: Unterminated object", broken.display());
    assert_bad_input(&run, 2, &at, "fix the JSON");
    assert_eq!(f.files(), before, "nothing written");
}
