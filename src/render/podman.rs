//! How Podman spells what differs: its systemd mode, unmasked paths, and the
//! runtime as a global flag (its later commands on the sandbox, exec and
//! stop, need it too).

use super::{Arg, Command, Spelling};
use crate::spec::init::Ulimits;
use crate::spec::{Boot, IdRange, Spec, UserNs};

pub struct Podman;

impl Spelling for Podman {
    fn unmask_paths(&self) -> &'static str {
        "unmask=ALL"
    }

    fn boot(&self, boot: Boot) -> Vec<Arg> {
        match boot {
            Boot::Systemd => vec![Arg::new(
                ["--systemd=always"],
                "Podman's systemd mode, though the entrypoint is dindbox's init: tmpfs on /run, /run/lock and /tmp, `container=podman` for systemd, and SIGRTMIN+3 as the stop signal, which systemd takes as a clean shutdown",
            )],
        }
    }

    fn userns(&self, userns: &UserNs) -> Vec<String> {
        let map = |flag: &str, ranges: &[IdRange]| {
            ranges
                .iter()
                .flat_map(|r| [flag.to_string(), r.to_string()])
                .collect::<Vec<_>>()
        };
        let mut args = map("--uidmap", &userns.uids);
        args.extend(map("--gidmap", &userns.gids));
        args
    }

    fn runtime(&self, spec: &Spec, command: &mut Command) {
        if let Some(rt) = &spec.runtime {
            command
                .global
                .push(Arg::new(["--runtime", rt.value.as_str()], rt.why.as_str()));
        }
        for flag in &spec.runtime_flags {
            command.global.push(Arg::new(
                ["--runtime-flag", flag.value.as_str()],
                flag.why.as_str(),
            ));
        }
    }
}

/// Podman's API service on `socket`, running containers with `runtime`
/// (in place of Podman's default), until it is stopped.
pub fn service_argv(binary: &str, runtime: Option<&str>, socket: &str) -> Vec<String> {
    let mut argv = vec![binary.to_string()];
    argv.extend(runtime.map(global_runtime).unwrap_or_default());
    argv.extend(["system", "service", "--time=0"].map(String::from));
    argv.push(format!("unix://{socket}"));
    argv
}

/// The global flags that make every command of Podman's use `runtime`.
pub fn global_runtime(runtime: &str) -> Vec<String> {
    vec!["--runtime".to_string(), runtime.to_string()]
}

/// containers.conf's `default_ulimits` for nested containers.
pub fn default_ulimits(ulimits: Ulimits) -> toml::Value {
    let Ulimits { nofile, nproc } = ulimits;
    toml::Value::Array(vec![
        format!("nofile={nofile}:{nofile}").into(),
        format!("nproc={nproc}:{nproc}").into(),
    ])
}

/// A containers.conf of these tables (`containers`, `engine`, ...).
pub fn containers_conf(tables: impl IntoIterator<Item = (&'static str, toml::Table)>) -> String {
    let conf: toml::Table = tables
        .into_iter()
        .map(|(name, table)| (name.to_string(), table.into()))
        .collect();
    toml::to_string(&conf).expect("a table of strings serialises")
}
