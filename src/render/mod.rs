//! A sandbox's spec spelled as an engine's command line: the only place
//! where Docker's and Podman's flags are written. Each item of the spec
//! becomes one group of flags with its reason, in the spec's order; what the
//! two engines spell alike is here, what differs is in `docker.rs` and
//! `podman.rs`.

pub mod devcontainer;
pub mod docker;
pub mod kube;
pub mod podman;
pub mod quadlet;
pub mod systemd;

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;
use crate::spec::init::INIT_PATH;
use crate::spec::{
    Attach, Boot, Label, Limit, Mount, Privilege, SecurityOpt, Spec, UserNs, UserNsMaker, Var, Why,
};

/// One or more engine arguments and why they are there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    pub args: Vec<String>,
    pub why: String,
}

impl Arg {
    pub fn new<S: Into<String>>(args: impl IntoIterator<Item = S>, why: impl Into<String>) -> Self {
        Arg {
            args: args.into_iter().map(Into::into).collect(),
            why: why.into(),
        }
    }
}

/// The engine command a spec becomes: flags before `run` (every later
/// command on the sandbox needs them too) and flags of `run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub global: Vec<Arg>,
    pub run: Vec<Arg>,
}

/// What differs in how the engines spell a spec.
pub trait Spelling {
    /// `--security-opt`'s value that leaves masked and read-only /proc and
    /// /sys paths as the kernel has them.
    fn unmask_paths(&self) -> &'static str {
        "systempaths=unconfined"
    }

    /// How the sandbox boots systemd.
    fn boot(&self, boot: Boot) -> Vec<Arg>;

    /// The runtime and its flags, into the command.
    fn runtime(&self, spec: &Spec, command: &mut Command);

    /// The sandbox's own user namespace, as id maps. Only Podman gives a
    /// container one; the plan never asks it of Docker.
    fn userns(&self, _userns: &UserNs) -> Vec<String> {
        Vec::new()
    }
}

/// The spelling of an engine.
pub fn spelling(engine: EngineKind) -> &'static dyn Spelling {
    match engine {
        EngineKind::Docker => &docker::Docker,
        EngineKind::Podman => &podman::Podman,
    }
}

/// `spec` as `engine`'s command line for a sandbox called `name`.
pub fn command(engine: EngineKind, name: &str, spec: &Spec) -> Command {
    let spelling = spelling(engine);
    let mut c = Command::default();
    let run = &mut c.run;
    run.push(Arg::new(["--name", name], "the sandbox's name"));
    if let Some(why) = &spec.remove {
        run.push(Arg::new(["--rm"], why.as_str()));
    }
    run.push(attach(&spec.attach));
    run.push(Arg::new(
        label_flags(&spec.marks.value),
        spec.marks.why.as_str(),
    ));
    run.push(Arg::new(
        ["--hostname", &spec.hostname.value],
        spec.hostname.why.as_str(),
    ));
    run.push(Arg::new(
        [
            "-v".to_string(),
            format!("{}:{INIT_PATH}:ro", spec.init.value.display()),
            "--entrypoint".to_string(),
            INIT_PATH.to_string(),
        ],
        spec.init.why.as_str(),
    ));
    let (outside, inside) = &spec.workspace.value;
    let idmap = spec.userns.as_ref().is_some_and(|u| u.value.idmap_mounts);
    run.push(Arg::new(
        [
            "-v".to_string(),
            if idmap {
                format!("{outside}:{inside}:idmap")
            } else {
                format!("{outside}:{inside}")
            },
            "-w".to_string(),
            inside.clone(),
        ],
        spec.workspace.why.as_str(),
    ));
    run.extend(spec.binds.iter().map(|b| {
        if idmap {
            mount(&Why::new(idmapped(&b.value), b.why.as_str()))
        } else {
            mount(b)
        }
    }));
    for port in &spec.ports {
        run.push(Arg::new(["-p", port.value.as_str()], port.why.as_str()));
    }
    run.extend(spec.limits.iter().map(limit));
    if let Some(file) = &spec.env_file {
        run.push(Arg::new(
            ["--env-file".to_string(), file.value.display().to_string()],
            file.why.as_str(),
        ));
    }
    if let Some(ul) = &spec.ulimits {
        run.push(Arg::new(
            [
                "--ulimit".to_string(),
                format!("nofile={0}:{0}", ul.value.nofile),
                "--ulimit".to_string(),
                format!("nproc={0}:{0}", ul.value.nproc),
            ],
            ul.why.as_str(),
        ));
    }
    if let Some(net) = &spec.network {
        run.push(Arg::new(
            ["--network", net.value.as_str()],
            net.why.as_str(),
        ));
    }
    if let Some(userns) = spec
        .userns
        .as_ref()
        .filter(|u| u.value.made_by == UserNsMaker::Engine)
    {
        run.push(Arg::new(
            spelling.userns(&userns.value),
            userns.why.as_str(),
        ));
    }
    run.extend(
        spec.privileges
            .iter()
            .map(|p| privileges(spelling, &p.value, &p.why)),
    );
    run.extend(spec.mounts.iter().map(mount));
    run.extend(spec.env.iter().map(env));
    if let Some(boot) = spec.boot {
        run.extend(spelling.boot(boot));
    }
    spelling.runtime(spec, &mut c);
    for labels in &spec.labels {
        c.run
            .push(Arg::new(label_flags(&labels.value), labels.why.as_str()));
    }
    c
}

fn attach(attach: &Why<Attach>) -> Arg {
    let flags: &[&str] = match attach.value {
        Attach::Detached => &["-d"],
        Attach::Stdin => &["-i"],
        Attach::Terminal => &["-i", "-t"],
    };
    Arg::new(flags.iter().copied(), attach.why.as_str())
}

fn label_flags(labels: &[Label]) -> Vec<String> {
    labels
        .iter()
        .flat_map(|(k, v)| ["--label".to_string(), format!("{k}={v}")])
        .collect()
}

/// A mount as `-v` takes it.
pub fn mount_value(m: &Mount) -> String {
    let with = |base: String, options: &Option<String>| match options {
        Some(o) => format!("{base}:{o}"),
        None => base,
    };
    match m {
        Mount::Bind {
            source,
            target,
            options,
        } => with(format!("{source}:{target}"), options),
        Mount::Volume { name, target } => format!("{name}:{target}"),
        Mount::Anonymous { target } => target.clone(),
    }
}

/// A bind mount with `idmap` among its options: its files keep their host
/// owners inside the sandbox's user namespace. Volumes are left as they are.
pub(super) fn idmapped(m: &Mount) -> Mount {
    match m {
        Mount::Bind {
            source,
            target,
            options,
        } => Mount::Bind {
            source: source.clone(),
            target: target.clone(),
            options: Some(match options {
                Some(o) => format!("{o},idmap"),
                None => "idmap".to_string(),
            }),
        },
        other => other.clone(),
    }
}

fn mount(m: &Why<Mount>) -> Arg {
    Arg::new(["-v".to_string(), mount_value(&m.value)], m.why.as_str())
}

pub(super) fn limit(l: &Why<Limit>) -> Arg {
    let flags = match &l.value {
        Limit::Cpus(cpus) => ["--cpus".to_string(), cpus.clone()],
        Limit::Memory(bytes) => ["--memory".to_string(), bytes.to_string()],
        Limit::Pids(pids) => ["--pids-limit".to_string(), pids.to_string()],
        Limit::MemlockUnlimited => ["--ulimit".to_string(), "memlock=-1:-1".to_string()],
    };
    Arg::new(flags, l.why.as_str())
}

fn env(group: &Why<Vec<Var>>) -> Arg {
    Arg::new(
        group
            .value
            .iter()
            .flat_map(|v| ["-e".to_string(), format!("{}={}", v.name, v.value)]),
        group.why.as_str(),
    )
}

pub(super) fn privileges(spelling: &dyn Spelling, list: &[Privilege], why: &str) -> Arg {
    let mut flags = Vec::new();
    for p in list {
        match p {
            Privilege::All => flags.push("--privileged".to_string()),
            Privilege::Cap(cap) => flags.extend(["--cap-add".to_string(), cap.clone()]),
            Privilege::Security(opt) => {
                let value = match opt {
                    SecurityOpt::NoLabel => "label=disable".to_string(),
                    SecurityOpt::SeccompUnconfined => "seccomp=unconfined".to_string(),
                    SecurityOpt::ApparmorUnconfined => "apparmor=unconfined".to_string(),
                    SecurityOpt::UnmaskPaths => spelling.unmask_paths().to_string(),
                    SecurityOpt::SeccompProfile(path) => format!("seccomp={}", path.display()),
                    SecurityOpt::Apparmor(name) => format!("apparmor={name}"),
                    SecurityOpt::NoNewPrivileges => "no-new-privileges".to_string(),
                };
                flags.extend(["--security-opt".to_string(), value])
            }
            Privilege::DeviceRule(rule) => {
                flags.extend(["--device-cgroup-rule".to_string(), rule.clone()])
            }
            Privilege::PrivateCgroupNs => {
                flags.extend(["--cgroupns".to_string(), "private".to_string()])
            }
        }
    }
    Arg::new(flags, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(engine: EngineKind, list: &[Privilege]) -> Vec<String> {
        privileges(spelling(engine), list, "").args
    }

    #[test]
    fn unmasked_paths_are_spelled_as_each_engine_spells_them() {
        let list = [
            Privilege::Security(SecurityOpt::SeccompUnconfined),
            Privilege::Security(SecurityOpt::UnmaskPaths),
            Privilege::Cap("SYS_ADMIN".into()),
        ];
        assert_eq!(
            spelled(EngineKind::Docker, &list),
            [
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "systempaths=unconfined",
                "--cap-add",
                "SYS_ADMIN"
            ]
        );
        assert_eq!(
            spelled(EngineKind::Podman, &list)[..4],
            [
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "unmask=ALL"
            ]
        );
        assert_eq!(
            spelled(
                EngineKind::Podman,
                &[Privilege::All, Privilege::PrivateCgroupNs]
            ),
            ["--privileged", "--cgroupns", "private"]
        );
    }
}
