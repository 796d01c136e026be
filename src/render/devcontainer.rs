//! A sandbox's spec spelled as a dev container configuration: the only
//! place devcontainer.json's keys are written (`dindbox export devcontainer`).
//!
//! The devcontainer CLI runs the container itself (`docker run` with its own
//! name, labels and workspace mount) and puts its own `--entrypoint /bin/sh`
//! after `runArgs`; that shell execs the image's ENTRYPOINT and CMD when
//! `overrideCommand` is false. So dindbox's init becomes PID 1 through a
//! two-line Dockerfile beside the file (the sandbox image, with the init
//! as ENTRYPOINT and its spec as CMD), and the init binary stays a read-only
//! bind mount, as on dindbox's own command line.
//!
//! Everything else is the engine command `render::command` spells, group by
//! group with its reason as a comment: mounts the `--mount` syntax can say
//! go under `mounts`, the workspace under `workspaceMount` and
//! `workspaceFolder`, the variables that are no secret under
//! `containerEnv`; the rest stays as it is spelled, in `runArgs`. What
//! devcontainer sets itself (the name, attaching, removal, the entrypoint)
//! is left out, and so is the env file dindbox writes at run time: the
//! sandbox's environment is named, `${localEnv:NAME}`, or passed from the
//! user's own env files, never written here.

use std::path::PathBuf;

use super::{Arg, attach};
use crate::engine::EngineKind;
use crate::spec::init::INIT_PATH;
use crate::spec::{Mount, Privilege, SecurityOpt, Spec, Why};

/// Where the devcontainer CLI looks in the folder `--workspace-folder` names.
pub const CONFIG_DIR: &str = ".devcontainer";
pub const CONFIG_FILE: &str = "devcontainer.json";
pub const DOCKERFILE: &str = "Dockerfile";

/// What the files are made from: a planned kept sandbox and its environment.
#[derive(Debug, Clone, Copy)]
pub struct DevContainer<'a> {
    pub name: &'a str,
    /// The sandbox's mode (for the description).
    pub mode: &'a str,
    pub engine: EngineKind,
    pub image: &'a str,
    pub spec: &'a Spec,
    /// The arguments after the image: the init role and its spec.
    pub exec: &'a [String],
    /// How long `enter` waits for the inner engine, in milliseconds.
    pub ready_timeout_ms: u64,
    /// Variables whose values come from the environment devcontainer runs in.
    pub env_names: &'a [String],
    /// The user's own env files, which the engine reads as they are.
    pub env_files: &'a [PathBuf],
}

/// The command `postStartCommand` runs: dindbox's `enter` role, which
/// waits until the init reports the sandbox ready (or why not).
pub fn wait_command(ready_timeout_ms: u64) -> Vec<String> {
    vec![
        INIT_PATH.to_string(),
        "enter".into(),
        "--timeout-ms".into(),
        ready_timeout_ms.to_string(),
        "true".into(),
    ]
}

/// The Dockerfile the configuration builds from.
pub fn dockerfile(d: &DevContainer) -> String {
    let json = |v: &[String]| serde_json::to_string(v).expect("strings serialise");
    format!(
        "# The image of the dindbox sandbox {name} for devcontainer: {image}, with dindbox's init\n\
         # (the host's dindbox, which devcontainer.json mounts read-only at {INIT_PATH})\n\
         # as its ENTRYPOINT and the init's spec as its CMD; devcontainer's entrypoint execs them\n\
         # as PID 1 (\"overrideCommand\": false).\n\
         FROM {image}\n\
         ENTRYPOINT {entrypoint}\n\
         CMD {cmd}\n",
        name = d.name,
        image = d.image,
        entrypoint = json(&[INIT_PATH.to_string()]),
        cmd = json(d.exec),
    )
}

/// A mount as `--mount` takes it, where that syntax can say it: a bind
/// mount read-write or read-only, a named or anonymous volume.
pub fn mount_spec(m: &Mount) -> Option<String> {
    let plain = |s: &str| !s.is_empty() && !s.contains([',', '"', '=']);
    match m {
        Mount::Bind {
            source,
            target,
            options,
        } if plain(source) && plain(target) => match options.as_deref() {
            None => Some(format!("source={source},target={target},type=bind")),
            Some("ro") => Some(format!(
                "source={source},target={target},type=bind,readonly"
            )),
            Some(_) => None,
        },
        Mount::Volume { name, target } if plain(name) && plain(target) => {
            Some(format!("source={name},target={target},type=volume"))
        }
        Mount::Anonymous { target } if plain(target) => {
            Some(format!("target={target},type=volume"))
        }
        _ => None,
    }
}

/// What a flag of `runArgs` means to dindbox, reading a configuration back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFlag {
    Volume,
    Mount,
    Publish,
    Env,
    EnvFile,
    Cpus,
    Memory,
    Pids,
    Network,
    Runtime,
    Privileged,
    Name,
    Label,
    /// What dindbox plans itself for the mode: privileges, limits, boot.
    Planned,
    /// How the container is started and attached to.
    Start,
    /// A flag dindbox has no key for.
    Other,
}

/// The meaning of an engine flag of `runArgs`, and whether it takes a
/// value; None for a flag dindbox does not know.
pub fn run_flag(flag: &str) -> Option<(RunFlag, bool)> {
    use RunFlag::*;
    Some(match flag {
        "-v" | "--volume" => (Volume, true),
        "--mount" => (Mount, true),
        "-p" | "--publish" => (Publish, true),
        "-e" | "--env" => (Env, true),
        "--env-file" => (EnvFile, true),
        "--cpus" => (Cpus, true),
        "-m" | "--memory" => (Memory, true),
        "--pids-limit" => (Pids, true),
        "--network" | "--net" => (Network, true),
        "--runtime" => (Runtime, true),
        "--privileged" => (Privileged, false),
        "--name" => (Name, true),
        "-l" | "--label" => (Label, true),
        "--cap-add"
        | "--security-opt"
        | "--device-cgroup-rule"
        | "--cgroupns"
        | "--ulimit"
        | "--hostname"
        | "-h"
        | "--tmpfs"
        | "--stop-signal"
        | "--uidmap"
        | "--gidmap" => (Planned, true),
        "--systemd" => (Planned, false),
        "--rm" | "-d" | "-i" | "-t" | "-it" | "--init" => (Start, false),
        "--cap-drop" | "--device" | "-u" | "--user" | "-w" | "--workdir" | "--entrypoint" => {
            (Other, true)
        }
        "--read-only" => (Other, false),
        _ => return None,
    })
}

/// One JSONC value with the comment above it.
struct Item {
    why: Option<String>,
    text: String,
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn comment(why: &str) -> String {
    why.replace('\n', " ")
}

/// `items` as the lines of a JSONC array or object body at `indent`.
fn body(items: &[Item], indent: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(why) = &item.why {
            out.push_str(&format!("{indent}// {}\n", comment(why)));
        }
        out.push_str(indent);
        out.push_str(&item.text);
        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
    }
    out
}

fn array(items: &[Item]) -> String {
    format!("[\n{}  ]", body(items, "    "))
}

/// The engine flags of the spec that devcontainer.json has no key for:
/// `binds` and `mounts` left out are under `mounts`.
fn run_args(d: &DevContainer, binds: &[Why<Mount>], mounts: &[Why<Mount>]) -> Vec<Arg> {
    let spec = d.spec;
    let rest = Spec {
        remove: None,
        env_file: None,
        binds: spec
            .binds
            .iter()
            .filter(|b| !binds.contains(b))
            .cloned()
            .collect(),
        mounts: spec
            .mounts
            .iter()
            .filter(|m| !mounts.contains(m))
            .cloned()
            .collect(),
        env: Vec::new(),
        ..spec.clone()
    };
    let unattached = attach(&spec.attach);
    super::command(d.engine, d.name, &rest)
        .run
        .into_iter()
        .filter(|a| {
            let set_by_devcontainer = a.args.first().is_some_and(|f| f == "--name")
                || *a == unattached
                || a.args.iter().any(|f| f == "--entrypoint" || f == "-w");
            !a.args.is_empty() && !set_by_devcontainer
        })
        .collect()
}

/// The devcontainer.json's text (JSON with comments, as devcontainer reads it).
pub fn config(d: &DevContainer) -> String {
    let spec = d.spec;
    let idmap = spec.userns.as_ref().is_some_and(|u| u.value.idmap_mounts);
    let mountable = |list: &[Why<Mount>]| -> Vec<Why<Mount>> {
        list.iter()
            .filter(|m| mount_spec(&m.value).is_some())
            .cloned()
            .collect()
    };
    // Id-mapped binds keep their `-v` spelling, which carries the option.
    let binds = if idmap {
        Vec::new()
    } else {
        mountable(&spec.binds)
    };
    let recipe = mountable(&spec.mounts);
    let mut keys: Vec<Item> = Vec::new();
    let mut key = |why: Option<&str>, name: &str, value: String| {
        keys.push(Item {
            why: why.map(String::from),
            text: format!("{}: {value}", quote(name)),
        });
    };
    key(Some("the sandbox's name"), "name", quote(d.name));
    key(
        Some(&format!(
            "the sandbox image, {}, with dindbox's init as its ENTRYPOINT and CMD (the Dockerfile beside this file)",
            d.image
        )),
        "build",
        format!("{{ {}: {} }}", quote("dockerfile"), quote(DOCKERFILE)),
    );
    key(
        Some(
            "devcontainer's entrypoint execs the image's ENTRYPOINT and CMD: dindbox's init is PID 1",
        ),
        "overrideCommand",
        "false".into(),
    );
    let (outside, inside) = &spec.workspace.value;
    let mut workspace = format!("source={outside},target={inside},type=bind");
    if idmap {
        workspace.push_str(",idmap");
    }
    key(
        Some(&spec.workspace.why),
        "workspaceMount",
        quote(&workspace),
    );
    key(None, "workspaceFolder", quote(inside));

    let mut mounts = vec![Item {
        why: Some(spec.init.why.clone()),
        text: quote(&format!(
            "source={},target={INIT_PATH},type=bind,readonly",
            spec.init.value.display()
        )),
    }];
    for m in binds.iter().chain(&recipe) {
        let text = mount_spec(&m.value).expect("mountable ones have a --mount spelling");
        mounts.push(Item {
            why: Some(m.why.clone()),
            text: quote(&text),
        });
    }
    key(None, "mounts", array(&mounts));

    let mut args: Vec<Item> = run_args(d, &binds, &recipe)
        .iter()
        .map(|a| Item {
            why: Some(a.why.clone()),
            text: a
                .args
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    for file in d.env_files {
        args.push(Item {
            why: Some("variables of the sandbox's environment, from the user's own env file (the engine reads it as it is)".into()),
            text: format!("{}, {}", quote("--env-file"), quote(&file.display().to_string())),
        });
    }
    if !args.is_empty() {
        key(None, "runArgs", array(&args));
    }

    let mut env: Vec<Item> = Vec::new();
    for group in &spec.env {
        for (i, v) in group.value.iter().enumerate() {
            env.push(Item {
                why: (i == 0).then(|| group.why.clone()),
                text: format!("{}: {}", quote(&v.name), quote(&v.value)),
            });
        }
    }
    for (i, name) in d.env_names.iter().enumerate() {
        env.push(Item {
            why: (i == 0).then(|| {
                "the sandbox's environment: each value from the environment devcontainer runs in, never written here".to_string()
            }),
            text: format!("{}: {}", quote(name), quote(&format!("${{localEnv:{name}}}"))),
        });
    }
    if !env.is_empty() {
        key(
            None,
            "containerEnv",
            format!("{{\n{}  }}", body(&env, "    ")),
        );
    }

    let apparmor = spec.privilege_items().find_map(|p| match p {
        Privilege::Security(SecurityOpt::Apparmor(name)) => Some(name),
        _ => None,
    });
    if let Some(name) = apparmor {
        key(
            Some(&format!(
                "dindbox's AppArmor profile {name}, which the kernel forgets at reboot, loaded on the host before the container starts (as root)"
            )),
            "initializeCommand",
            quote(&format!(
                "{} confine apparmor | apparmor_parser --replace --quiet",
                spec.init.value.display()
            )),
        );
    }
    let wait: Vec<String> = wait_command(d.ready_timeout_ms)
        .iter()
        .map(|s| quote(s))
        .collect();
    key(
        Some(
            "waits until dindbox's init reports the sandbox ready (its inner engine answering), so `devcontainer up` returns once commands can use it",
        ),
        "postStartCommand",
        format!("[{}]", wait.join(", ")),
    );

    let mut out = format!(
        "// {CONFIG_DIR}/{CONFIG_FILE}: the dindbox sandbox {} ({}) as a dev container, on {}.\n\
         // `devcontainer up --workspace-folder DIR` starts it (DIR holds {CONFIG_DIR}/); `devcontainer exec --workspace-folder DIR CMD` runs commands in it.\n",
        d.name, d.mode, d.engine
    );
    if d.engine == EngineKind::Podman {
        out.push_str("// On Podman: `devcontainer up --docker-path podman ...`.\n");
    }
    out.push_str("{\n");
    out.push_str(&body(&keys, "  "));
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Var, Why};

    fn sample() -> Spec {
        crate::plan::tests::sample_plan().spec
    }

    fn text(spec: &Spec, names: &[String], files: &[PathBuf]) -> String {
        let exec = ["init".to_string(), "--spec".into(), r#"{"a":"b"}"#.into()];
        config(&DevContainer {
            name: "work",
            mode: "dind",
            engine: EngineKind::Docker,
            image: "localhost/dindbox/sandbox:0.1.0",
            spec,
            exec: &exec,
            ready_timeout_ms: 60_000,
            env_names: names,
            env_files: files,
        })
    }

    /// The file without its comments (which are whole lines), as JSON.
    pub(crate) fn parsed(text: &str) -> serde_json::Value {
        let json: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        serde_json::from_str(&json.join("\n")).unwrap_or_else(|e| panic!("{e}:\n{text}"))
    }

    #[test]
    fn mounts_that_the_mount_syntax_can_say_go_under_mounts() {
        assert_eq!(
            mount_spec(&Mount::read_only("/a", "/b")).as_deref(),
            Some("source=/a,target=/b,type=bind,readonly")
        );
        assert_eq!(
            mount_spec(&Mount::Volume {
                name: "w-storage".into(),
                target: "/var/lib/docker".into()
            })
            .as_deref(),
            Some("source=w-storage,target=/var/lib/docker,type=volume")
        );
        let z = Mount::Bind {
            source: "/a".into(),
            target: "/b".into(),
            options: Some("z".into()),
        };
        assert_eq!(mount_spec(&z), None);
        assert_eq!(mount_spec(&Mount::bind("/a,b", "/c")), None);
    }

    #[test]
    fn what_devcontainer_sets_itself_is_left_out_and_secrets_are_named_only() {
        let mut s = sample();
        s.binds = vec![
            Why::new(Mount::read_only("/srv/data", "/data"), "asked for"),
            Why::new(
                Mount::Bind {
                    source: "/srv/z".into(),
                    target: "/z".into(),
                    options: Some("z".into()),
                },
                "relabelled",
            ),
        ];
        s.env = vec![Why::new(
            vec![Var::new("DOCKER_HOST", "unix:///x")],
            "clients",
        )];
        s.env_file = Some(Why::new("/run/dindbox/.env/work.env".into(), "secrets"));
        let t = text(&s, &["TOKEN".into()], &["/home/u/.env".into()]);
        let parsed = parsed(&t);
        let run: Vec<&str> = parsed["runArgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for gone in [
            "--name",
            "-d",
            "-i",
            "--entrypoint",
            "-w",
            "/run/dindbox/.env/work.env",
        ] {
            assert!(!run.contains(&gone), "{gone} in {run:?}");
        }
        assert!(run.contains(&"--hostname"), "{run:?}");
        assert!(run.contains(&"/srv/z:/z:z"), "{run:?}");
        assert!(
            run.windows(2).any(|w| w == ["--env-file", "/home/u/.env"]),
            "{run:?}"
        );
        assert_eq!(parsed["containerEnv"]["TOKEN"], "${localEnv:TOKEN}");
        assert_eq!(parsed["containerEnv"]["DOCKER_HOST"], "unix:///x");
        assert_eq!(parsed["overrideCommand"], false);
        let mounts = parsed["mounts"].as_array().unwrap();
        assert_eq!(
            mounts[0],
            format!(
                "source={},target={INIT_PATH},type=bind,readonly",
                s.init.value.display()
            )
        );
        assert!(
            mounts
                .iter()
                .any(|m| m == "source=/srv/data,target=/data,type=bind,readonly")
        );
        assert!(t.contains("// asked for\n"), "{t}");
    }

    #[test]
    fn id_mapped_binds_keep_their_engine_spelling() {
        let mut s = sample();
        s.userns = Some(Why::new(
            crate::spec::UserNs {
                uids: vec![],
                gids: vec![],
                idmap_mounts: true,
                made_by: Default::default(),
            },
            "own ids",
        ));
        s.binds = vec![Why::new(
            Mount::read_only("/srv/data", "/data"),
            "asked for",
        )];
        let p = parsed(&text(&s, &[], &[]));
        let run = p["runArgs"].as_array().unwrap();
        assert!(
            run.iter().any(|a| a == "/srv/data:/data:ro,idmap"),
            "{run:?}"
        );
        assert!(
            p["workspaceMount"]
                .as_str()
                .unwrap()
                .ends_with(",type=bind,idmap")
        );
        assert_eq!(p["mounts"].as_array().unwrap().len(), 1, "the init only");
    }

    #[test]
    fn the_dockerfile_makes_the_init_the_command() {
        let s = sample();
        let exec = ["init".to_string(), "--spec".into(), r#"{"a":"b c"}"#.into()];
        let d = DevContainer {
            name: "work",
            mode: "dind",
            engine: EngineKind::Docker,
            image: "localhost/dindbox/sandbox:0.1.0",
            spec: &s,
            exec: &exec,
            ready_timeout_ms: 60_000,
            env_names: &[],
            env_files: &[],
        };
        let f = dockerfile(&d);
        let lines: Vec<&str> = f.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "FROM localhost/dindbox/sandbox:0.1.0",
                "ENTRYPOINT [\"/usr/local/libexec/dindbox/dindbox\"]",
                r#"CMD ["init","--spec","{\"a\":\"b c\"}"]"#,
            ]
        );
    }
}
