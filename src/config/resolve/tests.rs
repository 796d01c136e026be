//! Precedence: flags over profile over project over global over defaults;
//! lists concatenated lowest first; env merged per variable.

use std::path::Path;

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};

fn args(flags: &[&str]) -> RunArgs {
    let mut argv = vec!["dindbox", "run"];
    argv.extend_from_slice(flags);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Run(a) => a,
        _ => unreachable!(),
    }
}

fn layer(level: Level, path: &str, text: &str) -> Layer {
    Layer::parse(level, Path::new(path), text).unwrap()
}

fn resolved(files: Vec<Layer>, flags: &[&str]) -> Result<Resolved> {
    let cwd = Path::new("/");
    let mut layers = files;
    layers.push(flags_layer(&args(flags), cwd)?);
    merge(&layers, cwd)
}

fn three() -> Vec<Layer> {
    vec![
        layer(
            Level::Global,
            "/g/config.toml",
            "containerMode = \"sock\"\ncpus = 1\nmemory = \"1g\"\nvolumes = [\"/g:/g\"]\nports = [\"1:1\"]\n[env]\nA = \"global\"\nB = \"global\"\n",
        ),
        layer(
            Level::Project,
            "/p/.dindbox.json",
            "{\n  \"cpus\": 2,\n  \"volumes\": [\"/p:/p\"],\n  // project\n  \"env\": {\"B\": \"project\", \"C\": \"project\"},\n}",
        ),
        layer(
            Level::Profile,
            "/c/profiles/dev.toml",
            "containerMode = \"dind\"\nvolumes = [\"/r:/r\"]\nenv = [\"C=profile\"]\n",
        ),
    ]
}

#[test]
fn scalars_come_from_the_highest_layer_that_sets_them() {
    let r = resolved(three(), &[]).unwrap();
    assert_eq!(r.mode.value, "dind");
    assert_eq!(r.mode.from.to_string(), "/c/profiles/dev.toml:1:1");
    assert_eq!(r.cpus.as_ref().unwrap().value, 2.0);
    assert_eq!(r.cpus.unwrap().from.to_string(), "/p/.dindbox.json:2:3");
    assert_eq!(r.memory.unwrap().from.to_string(), "/g/config.toml:3:1");
    let r = resolved(three(), &["-m", "common", "--cpus", "3"]).unwrap();
    assert_eq!(r.mode.value, "common");
    assert_eq!(r.mode.from, Source::Flag);
    assert_eq!(r.cpus.unwrap().value, 3.0);
}

#[test]
fn defaults_fill_what_nothing_sets() {
    let r = resolved(Vec::new(), &[]).unwrap();
    assert_eq!(r.mode.value, "common");
    assert_eq!(r.mode.from, Source::Default);
    assert_eq!(r.workspace.value, Path::new("/"));
    assert_eq!(r.workspace.from, Source::Default);
    assert!(r.image.is_none() && r.cpus.is_none() && r.env.is_empty());
}

#[test]
fn lists_concatenate_global_project_profile_flags() {
    let r = resolved(three(), &["-v", "/f:/f", "-p", "2:2"]).unwrap();
    let vols: Vec<&str> = r.volumes.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(vols, ["/g:/g", "/p:/p", "/r:/r", "/f:/f"]);
    assert_eq!(r.volumes[1].from.to_string(), "/p/.dindbox.json:3:15");
    assert_eq!(r.volumes[3].from, Source::Flag);
    let ports: Vec<&str> = r.ports.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(ports, ["1:1", "2:2"]);
}

#[test]
fn env_merges_per_variable() {
    let r = resolved(three(), &["-e", "D=flag", "-e", "A=flag"]).unwrap();
    let env: Vec<(&str, &str, String)> = r
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.value.as_str(), v.from.to_string()))
        .collect();
    assert_eq!(
        env,
        [
            ("A", "flag", "flag".to_string()),
            ("B", "project", "/p/.dindbox.json:5:11".to_string()),
            ("C", "profile", "/c/profiles/dev.toml:3:8".to_string()),
            ("D", "flag", "flag".to_string()),
        ]
    );
}

#[test]
fn env_files_come_before_the_layers_env_and_name_their_lines() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("k.env"), "# keys\nTOKEN=from-file\nOTHER=x\n").unwrap();
    let profile = t.path().join("p.json");
    let text = r#"{"envFile": ["./k.env"], "env": {"OTHER": "from-env"}}"#;
    let l = Layer::parse(Level::Profile, &profile, text).unwrap();
    let r = resolved(vec![l], &[]).unwrap();
    assert_eq!(r.env[0].0, "TOKEN");
    assert_eq!(
        r.env[0].1.from.to_string(),
        format!("{}:2", t.path().join("./k.env").display())
    );
    assert_eq!(r.env[1].1.value, "from-env");
    assert_eq!(r.env_files[0].value, t.path().join("./k.env"));
}

#[test]
fn bad_env_is_refused_with_its_source() {
    let e = resolved(Vec::new(), &["-e", "1X=y"]).unwrap_err();
    assert!(e.message.contains("`1X` is not a variable name"), "{e}");
    let e = resolved(Vec::new(), &["-e", "DINDBOX_SURELY_UNSET_VARIABLE"]).unwrap_err();
    assert!(e.message.contains("is not set in this environment"), "{e}");
    let l = layer(Level::Global, "/g.json", "{\"env\": {\"K\": \"a\\nb\"}}");
    let e = resolved(vec![l], &[]).unwrap_err();
    assert!(
        e.message
            .starts_with("/g.json:1:10: the value of `K` has a line break"),
        "{e}"
    );
    assert!(!e.to_string().contains("a\nb"));
}

#[test]
fn yolo_is_the_command_unless_a_command_is_given() {
    let l = layer(Level::Profile, "/d.json", "{\"yolo\": \"c\"}");
    let r = resolved(vec![l.clone()], &[]).unwrap();
    assert_eq!(
        r.command.unwrap().value,
        "IS_SANDBOX=1 claude --dangerously-skip-permissions"
    );
    let e = resolved(vec![l], &["-x", "ls"]).unwrap_err();
    assert_eq!(
        e.message,
        "both a command (`-x`) and a yolo preset (/d.json:1:2) are given"
    );
    let e = resolved(Vec::new(), &["-y", "claud"]).unwrap_err();
    assert!(e.message.starts_with("unknown yolo preset `claud`"), "{e}");
    assert_eq!(e.hints[0], "did you mean `claude`?");
}

#[test]
fn image_name_and_version_make_an_image() {
    let g = layer(Level::Global, "/g.json", "{\"image\": \"a:1\"}");
    let p = layer(
        Level::Profile,
        "/p.json",
        "{\"imageName\": \"b\", \"imageVersion\": \"2\"}",
    );
    let r = resolved(vec![g.clone(), p.clone()], &[]).unwrap();
    assert_eq!(r.image.unwrap().value, "b:2");
    let r = resolved(vec![g.clone(), p], &["--image", "c:3"]).unwrap();
    assert_eq!(r.image.unwrap().value, "c:3");
    let v = layer(Level::Profile, "/v.json", "{\"imageVersion\": \"2\"}");
    let e = resolved(vec![g, v], &[]).unwrap_err();
    assert!(e.message.contains("imageVersion without imageName"), "{e}");
}

#[test]
fn relative_paths_in_files_are_relative_to_the_file() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("ws")).unwrap();
    let l = Layer::parse(
        Level::Project,
        &t.path().join(".dindbox.toml"),
        "hostPath = \"ws\"\n",
    )
    .unwrap();
    let r = resolved(vec![l], &[]).unwrap();
    assert_eq!(
        r.workspace.value,
        t.path().join("ws").canonicalize().unwrap()
    );
    let l = Layer::parse(
        Level::Project,
        &t.path().join(".dindbox.toml"),
        "hostPath = \"nope\"\n",
    )
    .unwrap();
    let e = resolved(vec![l], &[]).unwrap_err();
    assert!(e.message.contains("is not a directory"), "{e}");
    assert!(e.message.contains(".dindbox.toml:1:1"), "{e}");
}

#[test]
fn numeric_flags_must_be_numbers() {
    let e = resolved(Vec::new(), &["--cpus", "many"]).unwrap_err();
    assert_eq!(e.message, "bad --cpus `many`: not a number");
    let e = resolved(Vec::new(), &["--pids-limit=-3"]).unwrap_err();
    assert_eq!(e.message, "bad --pids-limit `-3`: not a number");
}

#[test]
fn an_env_file_beside_the_naming_file_is_a_path_else_a_name() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("local.env"), "A=1\n").unwrap();
    assert_eq!(
        env_file_path("local.env", t.path()),
        t.path().join("local.env")
    );
    assert_eq!(env_file_path("./x.env", t.path()), t.path().join("./x.env"));
    let named = env_file_path("anthropic_claudecode", t.path());
    assert!(
        named.ends_with("dindbox/env/anthropic_claudecode.env"),
        "{named:?}"
    );
}

#[test]
fn systemd_comes_from_a_file_or_the_flag_and_must_be_a_boolean() {
    let profile = layer(Level::Profile, "/c/p.toml", "systemd = true\n");
    let r = resolved(vec![profile], &[]).unwrap();
    let s = r.systemd.expect("set by the profile");
    assert!(s.value);
    assert_eq!(s.from.to_string(), "/c/p.toml:1:1");
    let r = resolved(Vec::new(), &["--systemd"]).unwrap();
    assert!(r.systemd.unwrap().value);
    assert!(resolved(Vec::new(), &[]).unwrap().systemd.is_none());
    let json = layer(Level::Project, "/p/.dindbox.json", "{ \"systemd\": false }");
    assert!(!resolved(vec![json], &[]).unwrap().systemd.unwrap().value);
    let e = Layer::parse(Level::Profile, Path::new("x.toml"), "systemd = \"yes\"\n").unwrap_err();
    assert!(e.message.contains("wrong type for `systemd`"), "{e}");
}

/// What `run` would ask for with these files and flags.
fn request(files: Vec<Layer>, flags: &[&str]) -> Result<crate::plan::Request> {
    crate::request::request_from(&args(flags), &resolved(files, flags)?)
}

const RUN_KEYS_TOML: &str = "containerMode = \"dind\"\nnetwork = \"none\"\nrm = true\nprivileged = true\ninnerIptables = true\ninnerTimeout = 120\n";

#[test]
fn network_rm_privileged_and_the_inner_engines_keys_come_from_toml_files() {
    let l = layer(Level::Profile, "/c/p.toml", RUN_KEYS_TOML);
    let r = resolved(vec![l.clone()], &[]).unwrap();
    let network = r.network.unwrap();
    assert_eq!(network.value, "none");
    assert_eq!(network.from.to_string(), "/c/p.toml:2:1");
    let at = |s: &Option<Sourced<bool>>| s.as_ref().map(|s| (s.value, s.from.to_string()));
    assert_eq!(at(&r.rm), Some((true, "/c/p.toml:3:1".into())));
    assert_eq!(at(&r.privileged), Some((true, "/c/p.toml:4:1".into())));
    assert_eq!(at(&r.inner_iptables), Some((true, "/c/p.toml:5:1".into())));
    let timeout = r.inner_timeout.unwrap();
    assert_eq!(timeout.value, 120);
    assert_eq!(timeout.from.to_string(), "/c/p.toml:6:1");
    let req = request(vec![l], &[]).unwrap();
    assert_eq!(req.network.as_deref(), Some("none"));
    assert!(req.rm && req.privileged && req.engine_firewall);
    assert_eq!(req.ready_timeout_ms, 120_000);
}

#[test]
fn the_same_keys_in_json_and_in_snake_or_kebab_case() {
    let json = layer(
        Level::Project,
        "/p/.dindbox.json",
        "{\n  \"containerMode\": \"dind\",\n  \"network\": \"bridge\",\n  \"rm\": false,\n  \"privileged\": false,\n  \"innerIptables\": false,\n  \"innerTimeout\": 5\n}",
    );
    let r = resolved(vec![json.clone()], &[]).unwrap();
    assert_eq!(r.network.unwrap().value, "bridge");
    assert_eq!(
        r.inner_timeout.unwrap().from.to_string(),
        "/p/.dindbox.json:7:3"
    );
    let req = request(vec![json], &[]).unwrap();
    assert!(!req.rm && !req.privileged && !req.engine_firewall);
    assert_eq!(req.ready_timeout_ms, 5_000);
    let toml = layer(
        Level::Profile,
        "/c/p.toml",
        "inner_timeout = 7\ninner-iptables = true\n",
    );
    let r = resolved(vec![toml], &[]).unwrap();
    assert_eq!(r.inner_timeout.unwrap().value, 7);
    assert!(r.inner_iptables.unwrap().value);
}

#[test]
fn the_run_keys_follow_flags_over_profile_over_global_over_defaults() {
    let global = || {
        layer(
            Level::Global,
            "/g/config.toml",
            "containerMode = \"dind\"\nnetwork = \"bridge\"\nrm = true\nprivileged = true\ninnerTimeout = 30\n",
        )
    };
    let profile = || {
        layer(
            Level::Profile,
            "/c/p.json",
            "{\"network\": \"none\", \"rm\": false}",
        )
    };
    let r = resolved(vec![global(), profile()], &[]).unwrap();
    assert_eq!(r.network.as_ref().unwrap().value, "none");
    assert_eq!(r.network.unwrap().from.to_string(), "/c/p.json:1:2");
    assert!(
        !r.rm.as_ref().unwrap().value,
        "the profile's false over the global true"
    );
    assert_eq!(r.privileged.unwrap().from.to_string(), "/g/config.toml:4:1");
    assert_eq!(
        r.inner_timeout.unwrap().from.to_string(),
        "/g/config.toml:5:1"
    );
    let flags = [
        "--network",
        "host",
        "--inner-timeout",
        "9",
        "--rm",
        "--inner-iptables",
    ];
    let r = resolved(vec![global(), profile()], &flags).unwrap();
    assert_eq!(r.network.unwrap().value, "host");
    let t = r.inner_timeout.unwrap();
    assert_eq!((t.value, t.from), (9, Source::Flag));
    let rm = r.rm.unwrap();
    assert_eq!((rm.value, rm.from), (true, Source::Flag));
    assert_eq!(r.inner_iptables.unwrap().from, Source::Flag);
    let r = resolved(Vec::new(), &[]).unwrap();
    assert!(r.network.is_none() && r.rm.is_none() && r.privileged.is_none());
    assert!(r.inner_iptables.is_none() && r.inner_timeout.is_none());
    let req = request(Vec::new(), &["-m", "dind"]).unwrap();
    assert_eq!(req.ready_timeout_ms, 60_000, "the default");
    assert!(!req.rm && !req.privileged && !req.engine_firewall && req.network.is_none());
}

#[test]
fn the_run_keys_must_have_their_types() {
    for (text, key, expected) in [
        ("rm = \"yes\"\n", "rm", "expected a boolean"),
        ("privileged = 1\n", "privileged", "expected a boolean"),
        (
            "innerIptables = \"true\"\n",
            "innerIptables",
            "expected a boolean",
        ),
        (
            "innerTimeout = -1\n",
            "innerTimeout",
            "expected a whole number, 0 or more",
        ),
        (
            "innerTimeout = \"60s\"\n",
            "innerTimeout",
            "expected a whole number, 0 or more",
        ),
        ("network = 1\n", "network", "expected a string"),
    ] {
        let e = Layer::parse(Level::Profile, Path::new("x.toml"), text).unwrap_err();
        assert!(
            e.message.starts_with("x.toml:1:")
                && e.message.contains(&format!("wrong type for `{key}`")),
            "{text}: {e}"
        );
        assert!(e.message.ends_with(expected), "{text}: {e}");
    }
    let e = Layer::parse(Level::Profile, Path::new("x.json"), "{\"innerTimout\": 5}").unwrap_err();
    assert_eq!(e.message, "x.json:1:2: unknown key `innerTimout`");
    assert_eq!(e.hints[0], "did you mean `innerTimeout`?");
}

#[test]
fn an_inner_timeout_of_0_is_refused_as_the_flag_is_with_its_place() {
    let e = request(Vec::new(), &["-m", "dind", "--inner-timeout", "0"]).unwrap_err();
    assert_eq!(e.message, "--inner-timeout must be at least 1 second");
    let l = layer(
        Level::Profile,
        "/c/p.toml",
        "containerMode = \"dind\"\ninnerTimeout = 0\n",
    );
    let e = request(vec![l.clone()], &[]).unwrap_err();
    assert_eq!(
        e.message,
        "--inner-timeout must be at least 1 second (/c/p.toml:2:1)"
    );
    assert!(e.hints[0].contains("`--inner-timeout 60`"), "{e}");
    assert!(
        request(vec![l], &["--inner-timeout", "1"]).is_ok(),
        "the flag wins"
    );
}

#[test]
fn the_inner_engines_keys_from_a_file_apply_to_dind_only_and_their_flags_elsewhere_are_refused() {
    let e = request(Vec::new(), &["--inner-timeout", "5"]).unwrap_err();
    assert_eq!(e.message, "--inner-timeout only applies to dind sandboxes");
    assert_eq!(e.code, crate::error::exit::USAGE);
    let l = layer(
        Level::Profile,
        "/c/p.toml",
        "innerTimeout = 5\ninnerIptables = true\n",
    );
    let sock = request(vec![l.clone()], &["-m", "sock"]).unwrap();
    assert_eq!(
        sock.ready_timeout_ms, 60_000,
        "the file's timeout is for dind only"
    );
    assert!(!sock.engine_firewall);
    let dind = request(vec![l], &["-m", "dind"]).unwrap();
    assert_eq!(dind.ready_timeout_ms, 5_000);
    assert!(dind.engine_firewall);
    let g = layer(Level::Global, "/g/config.json", "{\"innerTimeout\": 5}");
    let common = request(vec![g], &[]).unwrap();
    assert_eq!(
        common.ready_timeout_ms, 60_000,
        "a global default for dind does not break other modes"
    );
}

#[test]
fn rm_from_a_file_with_recreate_is_refused_as_the_flags_are() {
    let e = request(Vec::new(), &["--rm", "--recreate"]).unwrap_err();
    assert_eq!(
        e.message,
        "--recreate replaces a kept sandbox, and --rm makes a throw-away one"
    );
    let l = layer(Level::Profile, "/c/p.toml", "rm = true\n");
    let e = request(vec![l], &["--recreate"]).unwrap_err();
    assert_eq!(
        e.message,
        "--recreate replaces a kept sandbox, and `rm` (/c/p.toml:1:1) makes a throw-away one"
    );
    let l = layer(Level::Profile, "/c/p.toml", "rm = false\n");
    assert!(!request(vec![l], &["--recreate"]).unwrap().rm);
}
