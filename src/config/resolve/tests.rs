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
