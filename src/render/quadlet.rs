//! A sandbox's spec spelled as a Podman Quadlet `.container` file: the only
//! place Quadlet's keys are written. Quadlet (Podman's systemd generator)
//! turns the file into `dindbox-NAME.service`, whose `podman run` makes the
//! sandbox afresh at each start (`--replace`, `--rm`) and whose conmon
//! systemd tracks: a sandbox that dies fails its unit.
//!
//! Each item of the spec is one group of lines with its reason as a
//! comment, in the spec's order, as `render::command` spells it for the
//! CLI. Items Quadlet has a key for go under that key (`Image=`,
//! `ContainerName=`, `HostName=`, `Label=`, `Volume=`, `WorkingDir=`,
//! `PublishPort=`, `Ulimit=`, `EnvironmentFile=`, `Environment=`,
//! `Network=`, `UIDMap=`/`GIDMap=`, `AddCapability=`, `SeccompProfile=`,
//! `SecurityLabelDisable=`, `NoNewPrivileges=`, `GlobalArgs=`, `Exec=`);
//! the rest go as `PodmanArgs=`, spelled by the same functions as the
//! command line (so a flag is written in one place). The entrypoint is
//! among them, as every Quadlet release takes `PodmanArgs=`.
//!
//! Secrets are never in the file: the environment is in the file
//! `EnvironmentFile=` names, which the caller writes (mode 0600).
//! What happens on the host before a start (`apply`) has no Quadlet key,
//! and the caller makes sure of it: the seccomp profile is written once (its
//! name carries its digest), and where the spec names dindbox's AppArmor
//! profile, `ExecStartPre=` loads it (the kernel forgets it at reboot).

use super::systemd::{Scope, Section, specifiers, unit_name, word, words};
use super::{Spelling, idmapped, limit, mount_value, podman::Podman, privileges};
use crate::spec::init::INIT_PATH;
use crate::spec::{Limit, Privilege, SecurityOpt, Spec, Why};

/// What the file is made from: a planned sandbox and how its engine runs.
#[derive(Debug, Clone, Copy)]
pub struct Quadlet<'a> {
    pub name: &'a str,
    /// The sandbox's mode (for the description).
    pub mode: &'a str,
    pub image: &'a str,
    pub spec: &'a Spec,
    /// The arguments after the image: the init role and its spec.
    pub exec: &'a [String],
    /// Rootless Podman: a unit of the user's manager.
    pub rootless: bool,
    /// The sandbox mounts Podman's API socket, which `podman.socket` serves.
    pub podman_socket: bool,
}

/// The file's name for sandbox `name`: its unit is `dindbox-NAME.service`.
pub fn file_name(name: &str) -> String {
    unit_name(name).replace(".service", ".container")
}

/// Where a Quadlet file of this scope is installed.
pub fn quadlet_dir(scope: Scope) -> &'static str {
    match scope {
        Scope::System => "/etc/containers/systemd",
        Scope::User => "~/.config/containers/systemd",
    }
}

/// The `.container` file's text.
pub fn container(q: &Quadlet) -> String {
    let scope = Scope::of(q.rootless);
    let spec = q.spec;
    let mut out = Section::default();
    out.comment(&format!(
        "{}: the dindbox sandbox {} run by Podman's Quadlet as {}.",
        file_name(q.name),
        q.name,
        unit_name(q.name)
    ));
    let (dir, systemctl, unit) = (quadlet_dir(scope), scope.systemctl(), unit_name(q.name));
    out.comment(&format!(
        "Install it in {dir}, then: {systemctl} daemon-reload && {systemctl} start {unit}"
    ));
    out.comment(&format!(
        "Each start makes the sandbox afresh (a container named {} is replaced); its named volumes, the inner storage among them, are kept.",
        q.name
    ));
    out.unit_section(scope, q.name, q.mode);
    if q.podman_socket {
        out.comment("the sandbox mounts Podman's API socket");
        out.key("Wants", "podman.socket");
        out.key("After", "podman.socket");
    }
    let mut paths = vec![spec.workspace.value.0.clone()];
    paths.extend(spec.binds.iter().filter_map(|b| match &b.value {
        crate::spec::Mount::Bind { source, .. } => Some(source.clone()),
        _ => None,
    }));
    paths.push(spec.init.value.display().to_string());
    out.requires_mounts_for(&paths);

    out.section("Container");
    out.comment("the sandbox's name");
    out.key("ContainerName", q.name);
    out.key("Image", &specifiers(q.image));
    labels(&mut out, &spec.marks);
    group(&mut out, &spec.hostname.why);
    out.key("HostName", &spec.hostname.value);
    group(&mut out, &spec.init.why);
    out.key(
        "Volume",
        &specifiers(&format!("{}:{INIT_PATH}:ro", spec.init.value.display())),
    );
    out.key("PodmanArgs", &words(&[format!("--entrypoint={INIT_PATH}")]));
    let (outside, inside) = &spec.workspace.value;
    let idmap = spec.userns.as_ref().is_some_and(|u| u.value.idmap_mounts);
    group(&mut out, &spec.workspace.why);
    let ws = if idmap {
        format!("{outside}:{inside}:idmap")
    } else {
        format!("{outside}:{inside}")
    };
    out.key("Volume", &specifiers(&ws));
    out.key("WorkingDir", &specifiers(inside));
    for b in &spec.binds {
        group(&mut out, &b.why);
        let m = if idmap {
            idmapped(&b.value)
        } else {
            b.value.clone()
        };
        out.key("Volume", &specifiers(&mount_value(&m)));
    }
    for p in &spec.ports {
        group(&mut out, &p.why);
        out.key("PublishPort", &specifiers(&p.value));
    }
    for l in &spec.limits {
        group(&mut out, &l.why);
        match l.value {
            Limit::MemlockUnlimited => out.key("Ulimit", "memlock=-1:-1"),
            _ => out.key("PodmanArgs", &flags(&limit(l).args)),
        }
    }
    if let Some(file) = &spec.env_file {
        group(&mut out, &file.why);
        out.key(
            "EnvironmentFile",
            &specifiers(&file.value.display().to_string()),
        );
    }
    if let Some(ul) = &spec.ulimits {
        group(&mut out, &ul.why);
        out.key("Ulimit", &format!("nofile={0}:{0}", ul.value.nofile));
        out.key("Ulimit", &format!("nproc={0}:{0}", ul.value.nproc));
    }
    if let Some(net) = &spec.network {
        group(&mut out, &net.why);
        out.key("Network", &specifiers(&net.value));
    }
    // A namespace the init makes is in the init's spec (Exec=), not Podman's.
    if let Some(userns) = spec
        .userns
        .as_ref()
        .filter(|u| u.value.made_by == crate::spec::UserNsMaker::Engine)
    {
        group(&mut out, &userns.why);
        for r in &userns.value.uids {
            out.key("UIDMap", &r.to_string());
        }
        for r in &userns.value.gids {
            out.key("GIDMap", &r.to_string());
        }
    }
    for p in &spec.privileges {
        group(&mut out, &p.why);
        privilege_keys(&mut out, &p.value);
    }
    for m in &spec.mounts {
        group(&mut out, &m.why);
        out.key("Volume", &specifiers(&mount_value(&m.value)));
    }
    for e in &spec.env {
        group(&mut out, &e.why);
        for v in &e.value {
            out.key("Environment", &word(&format!("{}={}", v.name, v.value)));
        }
    }
    if let Some(boot) = spec.boot {
        for arg in Podman.boot(boot) {
            group(&mut out, &arg.why);
            out.key("PodmanArgs", &flags(&arg.args));
        }
    }
    let mut command = super::Command::default();
    Podman.runtime(spec, &mut command);
    for arg in &command.global {
        group(&mut out, &arg.why);
        out.key("GlobalArgs", &flags(&arg.args));
    }
    for l in &spec.labels {
        labels(&mut out, l);
    }
    out.comment("dindbox's init, with what it sets up inside");
    out.key("Exec", &words(q.exec));

    let apparmor = spec.privilege_items().find_map(|p| match p {
        Privilege::Security(SecurityOpt::Apparmor(name)) => Some(name),
        _ => None,
    });
    if let Some(name) = apparmor {
        out.section("Service");
        out.comment(&format!(
            "dindbox's AppArmor profile {name}, which the kernel forgets at reboot, loaded before the sandbox starts"
        ));
        let load = format!(
            "{} confine apparmor | apparmor_parser --replace --quiet",
            word(&spec.init.value.display().to_string())
        );
        out.key("ExecStartPre", &format!("/bin/sh -c {}", word(&load)));
    }

    out.section("Install");
    out.key("WantedBy", scope.wanted_by());
    out.text
}

/// Flags as words, each value joined to its flag (`--memory=512`), as
/// Podman takes them.
fn flags(args: &[String]) -> String {
    let mut joined: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let flag = &args[i];
        match args.get(i + 1) {
            Some(value)
                if flag.starts_with("--") && !flag.contains('=') && !value.starts_with('-') =>
            {
                joined.push(format!("{flag}={value}"));
                i += 2;
            }
            _ => {
                joined.push(flag.clone());
                i += 1;
            }
        }
    }
    words(&joined)
}

fn group(out: &mut Section, why: &str) {
    out.comment(why);
}

fn labels(out: &mut Section, labels: &Why<Vec<crate::spec::Label>>) {
    group(out, &labels.why);
    for (k, v) in &labels.value {
        out.key("Label", &word(&format!("{k}={v}")));
    }
}

/// The keys of one group of privileges; `PodmanArgs=` for what has none.
fn privilege_keys(out: &mut Section, list: &[Privilege]) {
    let caps: Vec<&str> = list
        .iter()
        .filter_map(|p| match p {
            Privilege::Cap(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    if !caps.is_empty() {
        out.key("AddCapability", &caps.join(" "));
    }
    for p in list {
        match p {
            Privilege::Cap(_) => {}
            Privilege::Security(SecurityOpt::NoLabel) => out.key("SecurityLabelDisable", "true"),
            Privilege::Security(SecurityOpt::SeccompUnconfined) => {
                out.key("SeccompProfile", "unconfined")
            }
            Privilege::Security(SecurityOpt::SeccompProfile(path)) => {
                out.key("SeccompProfile", &specifiers(&path.display().to_string()))
            }
            Privilege::Security(SecurityOpt::NoNewPrivileges) => out.key("NoNewPrivileges", "true"),
            other => out.key(
                "PodmanArgs",
                &flags(&privileges(&Podman, std::slice::from_ref(other), "").args),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Mount, UserNs, Var};

    fn spec() -> Spec {
        crate::plan::tests::sample_plan().spec
    }

    fn file(spec: &Spec, rootless: bool) -> String {
        let exec = [
            "init".to_string(),
            "--spec".into(),
            r#"{"a":"b c","d":"50%"}"#.into(),
        ];
        container(&Quadlet {
            name: "work",
            mode: "dind",
            image: "localhost/dindbox/sandbox:0.1.0",
            spec,
            exec: &exec,
            rootless,
            podman_socket: false,
        })
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn the_init_is_the_entrypoint_and_its_spec_one_quoted_word() {
        let text = file(&spec(), false);
        let l = lines(&text);
        assert!(l.contains(&"ContainerName=work"), "{text}");
        assert!(
            l.contains(&"PodmanArgs=--entrypoint=/usr/local/libexec/dindbox/dindbox"),
            "{text}"
        );
        assert!(
            l.contains(&r#"Exec=init --spec "{\"a\":\"b c\",\"d\":\"50%%\"}""#),
            "{text}"
        );
        assert!(l.contains(&"WantedBy=multi-user.target"), "{text}");
        assert_eq!(file_name("work"), "dindbox-work.container");
    }

    #[test]
    fn privileges_map_onto_quadlets_keys_and_the_rest_onto_podman_args() {
        let mut s = spec();
        s.privileges = vec![Why::new(
            vec![
                Privilege::Cap("SYS_ADMIN".into()),
                Privilege::Cap("NET_ADMIN".into()),
                Privilege::Security(SecurityOpt::NoLabel),
                Privilege::Security(SecurityOpt::SeccompProfile("/p/seccomp.json".into())),
                Privilege::Security(SecurityOpt::UnmaskPaths),
                Privilege::Security(SecurityOpt::NoNewPrivileges),
                Privilege::DeviceRule("c 10:200 rwm".into()),
                Privilege::PrivateCgroupNs,
                Privilege::All,
            ],
            "for the test",
        )];
        let text = file(&s, false);
        let l = lines(&text);
        for want in [
            "AddCapability=SYS_ADMIN NET_ADMIN",
            "SecurityLabelDisable=true",
            "SeccompProfile=/p/seccomp.json",
            "PodmanArgs=--security-opt=unmask=ALL",
            "NoNewPrivileges=true",
            "PodmanArgs=\"--device-cgroup-rule=c 10:200 rwm\"",
            "PodmanArgs=--cgroupns=private",
            "PodmanArgs=--privileged",
        ] {
            assert!(l.contains(&want), "no {want:?} in:\n{text}");
        }
    }

    #[test]
    fn id_maps_idmapped_mounts_env_and_runtime_have_keys() {
        let mut s = spec();
        s.userns = Some(Why::new(
            UserNs {
                uids: vec![crate::spec::IdRange {
                    inside: 0,
                    outside: 100000,
                    count: 65536,
                }],
                gids: vec![crate::spec::IdRange {
                    inside: 0,
                    outside: 100000,
                    count: 65536,
                }],
                idmap_mounts: true,
                made_by: Default::default(),
            },
            "a user namespace of its own",
        ));
        s.binds = vec![Why::new(
            Mount::read_only("/srv/data", "/data"),
            "asked for",
        )];
        s.env = vec![Why::new(vec![Var::new("DINDBOX_TRACE", "1")], "tracing")];
        s.env_file = Some(Why::new(
            "/etc/containers/systemd/dindbox-work.env".into(),
            "the environment",
        ));
        s.runtime = Some(Why::new("runc".into(), "hybrid cgroups"));
        s.limits = vec![
            Why::new(Limit::Memory(512 << 20), "asked for"),
            Why::new(Limit::MemlockUnlimited, "crun loads device filters"),
        ];
        let text = file(&s, true);
        let l = lines(&text);
        let ws = &s.workspace.value;
        for want in [
            "UIDMap=0:100000:65536".to_string(),
            "GIDMap=0:100000:65536".to_string(),
            format!("Volume={}:{}:idmap", ws.0, ws.1),
            "Volume=/srv/data:/data:ro,idmap".to_string(),
            "Environment=DINDBOX_TRACE=1".to_string(),
            "EnvironmentFile=/etc/containers/systemd/dindbox-work.env".to_string(),
            "GlobalArgs=--runtime=runc".to_string(),
            "PodmanArgs=--memory=536870912".to_string(),
            "Ulimit=memlock=-1:-1".to_string(),
            "WantedBy=default.target".to_string(),
        ] {
            assert!(l.contains(&want.as_str()), "no {want:?} in:\n{text}");
        }
        assert!(text.contains("loginctl enable-linger"), "{text}");
    }

    #[test]
    fn dindboxs_apparmor_profile_is_loaded_before_each_start() {
        let mut s = spec();
        s.privileges = vec![Why::new(
            vec![Privilege::Security(SecurityOpt::Apparmor(
                "dindbox-nesting-1".into(),
            ))],
            "nesting",
        )];
        let text = file(&s, false);
        assert!(
            lines(&text).contains(&"PodmanArgs=--security-opt=apparmor=dindbox-nesting-1"),
            "{text}"
        );
        let pre = text
            .lines()
            .find(|l| l.starts_with("ExecStartPre="))
            .unwrap_or_else(|| panic!("no ExecStartPre in:\n{text}"));
        assert_eq!(
            pre,
            format!(
                "ExecStartPre=/bin/sh -c \"{} confine apparmor | apparmor_parser --replace --quiet\"",
                s.init.value.display()
            )
        );
    }
}
