//! What follows from the facts: one remark each, with the fix where there is one.

use crate::engine::EngineKind;
use crate::plan::{ENGINE_DEFAULT_NOFILE, install_hint, start_hint, ulimits};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts, SelinuxMode};

/// What follows from the facts, one remark each, with the fix where there is one.
pub fn remarks(f: &HostFacts) -> Vec<String> {
    let mut notes = engine_remarks(&f.engines);
    let answering: Vec<&EngineFacts> = f.engines.iter().filter(|e| e.answers).collect();
    if !answering.is_empty() && answering.iter().all(|e| e.remote) {
        let mut kernels: Vec<&str> = answering
            .iter()
            .filter_map(|e| e.kernel.as_deref())
            .collect();
        kernels.dedup();
        notes.push(format!(
            "the engines run under another kernel ({}), in a VM or on another machine: the host facts above are this machine's and say nothing about theirs; plans use what the engines report",
            kernels.join(", ")
        ));
        return notes;
    }
    notes.extend(cgroup_remarks(f));
    if !f.caps.missing.is_empty() {
        notes.push(format!(
            "the bounding set lacks {}: `--privileged` fails on Docker; dindbox lists capabilities explicitly",
            f.caps.missing.join(", ")
        ));
    }
    if let Some(ul) = ulimits(f) {
        notes.push(format!(
            "the hard limits are nofile={0} nproc={1}, below the {ENGINE_DEFAULT_NOFILE} engines ask for: dindbox passes `--ulimit nofile={0}:{0} --ulimit nproc={1}:{1}`",
            ul.nofile, ul.nproc
        ));
    }
    notes.extend(device_remarks(f));
    notes.extend(userns_remarks(f));
    if !f.filesystems.overlay {
        notes.push("the kernel has no overlay filesystem: engines fall back to the slow vfs storage driver".to_string());
    }
    if f.security.selinux == SelinuxMode::Enforcing {
        notes.push(
            "SELinux enforces: dindbox starts sandboxes with `--security-opt label=disable`"
                .to_string(),
        );
    }
    if let Some(engine) = &f.in_container {
        notes.push(format!(
            "dindbox runs inside a {engine} container: a sandbox can only have what that container was given"
        ));
    }
    notes
}

fn engine_remarks(engines: &[EngineFacts]) -> Vec<String> {
    if engines.is_empty() {
        return vec![format!(
            "no engine CLI on PATH: {}; or {}",
            install_hint(EngineKind::Podman),
            install_hint(EngineKind::Docker)
        )];
    }
    let mut notes = Vec::new();
    if !engines.iter().any(|e| e.answers) {
        notes.push("no engine answers: dindbox cannot start sandboxes until one does".to_string());
    }
    for e in engines {
        if !e.answers {
            notes.push(format!(
                "{} does not answer: {}",
                e.kind,
                start_hint(e.kind)
            ));
        } else if e.remote {
            continue;
        } else if e.live_socket().is_none() && e.kind == EngineKind::Podman {
            notes.push(format!(
                "podman answers but no API socket of it does: sock mode serves one for each sandbox; for a lasting one, {}",
                socket_hint(e)
            ));
        } else if e.live_socket().is_none() {
            notes.push(format!(
                "{} answers but no API socket of it does: sock mode needs one; {}",
                e.kind,
                socket_hint(e)
            ));
        }
    }
    notes
}

/// How to get an engine's API socket going.
fn socket_hint(e: &EngineFacts) -> &'static str {
    match (e.kind, e.rootless) {
        (EngineKind::Podman, false) => {
            "run `systemctl enable --now podman.socket`, or `podman system service --time=0 &` where there is no systemd"
        }
        (EngineKind::Podman, true) => "run `systemctl --user enable --now podman.socket`",
        (EngineKind::Docker, _) => {
            "dockerd listens on /var/run/docker.sock unless told otherwise (`-H`, DOCKER_HOST)"
        }
    }
}

fn cgroup_remarks(f: &HostFacts) -> Vec<String> {
    match f.cgroup.layout {
        CgroupLayout::Hybrid if f.runtime("runc").is_some() => {
            vec!["hybrid cgroups: crun refuses them; dindbox uses runc".to_string()]
        }
        CgroupLayout::Hybrid => {
            vec!["hybrid cgroups: crun refuses them and runc is not installed (`apt-get install runc`)".to_string()]
        }
        CgroupLayout::Unknown => {
            vec![
                "no cgroup hierarchy is mounted at /sys/fs/cgroup: engines cannot start containers"
                    .to_string(),
            ]
        }
        CgroupLayout::V1 | CgroupLayout::V2 => Vec::new(),
    }
}

fn device_remarks(f: &HostFacts) -> Vec<String> {
    let checks = [
        (
            &f.devices.net_tun,
            "/dev/net/tun",
            "tun",
            "rootless Podman networking",
            "or `--network none`",
        ),
        (
            &f.devices.fuse,
            "/dev/fuse",
            "fuse",
            "rootless fuse-overlayfs storage",
            "or the vfs storage driver",
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(node, path, module, who, instead)| match node {
            None => Some(format!(
                "{path} is absent: {who} needs it (`modprobe {module}`) {instead}"
            )),
            Some(d) if !d.open_to_users() => Some(format!(
                "{path} is {:04o}: {who} needs `chmod 666 {path}` {instead}",
                d.mode
            )),
            Some(_) => None,
        })
        .collect()
}

/// Only a user other than root needs user namespaces of its own.
fn userns_remarks(f: &HostFacts) -> Vec<String> {
    if f.uid == 0 {
        return Vec::new();
    }
    let u = &f.userns;
    let mut notes = Vec::new();
    if u.max_user_namespaces == Some(0) {
        notes.push(
            "user namespaces are off (user.max_user_namespaces=0): rootless engines cannot start"
                .to_string(),
        );
    }
    if u.unprivileged_userns_clone == Some(false) {
        notes.push(
            "kernel.unprivileged_userns_clone=0: rootless engines need `sysctl kernel.unprivileged_userns_clone=1`"
                .to_string(),
        );
    }
    if u.apparmor_restrict_unprivileged_userns == Some(true) {
        notes.push("AppArmor restricts unprivileged user namespaces: rootless engines need their AppArmor profiles (Ubuntu's podman and docker packages ship them)".to_string());
    }
    if u.subuid.is_empty() || u.subgid.is_empty() {
        notes.push("no /etc/subuid or /etc/subgid range: rootless engines need one (`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER`)".to_string());
    }
    if !u.newuidmap || !u.newgidmap {
        notes.push("newuidmap/newgidmap are missing: rootless engines need them (`apt-get install uidmap`)".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::facts::SocketFacts;
    use crate::probe::fixtures::{this_machine, ubuntu};

    #[test]
    fn a_well_set_up_ubuntu_host_has_nothing_to_remark() {
        assert_eq!(remarks(&ubuntu()), Vec::<String>::new());
    }

    #[test]
    fn this_machines_quirks_are_all_remarked() {
        let notes = remarks(&this_machine());
        let has = |needle: &str| notes.iter().any(|n| n.contains(needle));
        assert!(
            has("the bounding set lacks CAP_SYS_RESOURCE: `--privileged` fails on Docker"),
            "{notes:#?}"
        );
        assert!(
            has("hybrid cgroups: crun refuses them; dindbox uses runc"),
            "{notes:#?}"
        );
        assert!(
            has("/dev/net/tun is 0600: rootless Podman networking needs `chmod 666 /dev/net/tun`"),
            "{notes:#?}"
        );
        assert!(has("/dev/fuse is 0600"), "{notes:#?}");
        assert!(has("--ulimit nofile=20000:20000"), "{notes:#?}");
        assert!(has("inside a docker container"), "{notes:#?}");
        // Root needs no user namespaces of its own.
        assert!(!has("subuid"), "{notes:#?}");
    }

    #[test]
    fn a_client_of_a_podman_machine_gets_no_remarks_on_its_own_kernel() {
        let f = crate::probe::fixtures::macos_podman_machine();
        let notes = remarks(&f);
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(
            notes[0].starts_with("the engines run under another kernel (6.12.9-200.fc41.aarch64),"),
            "{notes:#?}"
        );
        assert!(
            crate::commands::doctor::facts::report(&f)
                .contains("  podman  yes      5.3.1    rootless, remote")
        );
    }

    #[test]
    fn absent_devices_name_their_module() {
        let mut f = ubuntu();
        f.devices.net_tun = None;
        assert_eq!(
            device_remarks(&f),
            vec![
                "/dev/net/tun is absent: rootless Podman networking needs it (`modprobe tun`) or `--network none`"
            ]
        );
    }

    #[test]
    fn hybrid_without_runc_says_to_install_it() {
        let mut f = this_machine();
        f.oci_runtimes.retain(|r| r.name != "runc");
        assert_eq!(
            cgroup_remarks(&f),
            vec![
                "hybrid cgroups: crun refuses them and runc is not installed (`apt-get install runc`)"
            ]
        );
    }

    #[test]
    fn no_engine_on_path_gives_install_hints() {
        let notes = engine_remarks(&[]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("apt-get install podman") && notes[0].contains("docker.io"),
            "{notes:?}"
        );
    }

    #[test]
    fn an_engine_that_does_not_answer_gets_a_start_hint() {
        let mut docker = EngineFacts::new(EngineKind::Docker, "/usr/bin/docker");
        docker.error = Some("Cannot connect to the Docker daemon".into());
        let notes = engine_remarks(&[docker]);
        assert_eq!(
            notes[0],
            "no engine answers: dindbox cannot start sandboxes until one does"
        );
        assert!(
            notes[1].starts_with("docker does not answer: start Docker"),
            "{notes:?}"
        );
    }

    #[test]
    fn an_answering_engine_without_a_live_socket_gets_a_socket_hint() {
        let mut podman = EngineFacts::new(EngineKind::Podman, "/usr/bin/podman");
        podman.answers = true;
        podman.sockets = vec![SocketFacts {
            path: "/run/podman/podman.sock".into(),
            answers: false,
            mode: None,
        }];
        let notes = engine_remarks(&[podman]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("systemctl enable --now podman.socket"),
            "{notes:?}"
        );
    }

    #[test]
    fn a_rootless_user_without_subids_or_uidmap_is_told() {
        let mut f = ubuntu();
        f.uid = 1000;
        f.userns.subgid.clear();
        f.userns.newgidmap = false;
        let notes = userns_remarks(&f);
        assert_eq!(notes.len(), 3, "{notes:#?}");
        assert!(notes[0].starts_with("AppArmor restricts unprivileged user namespaces"));
        assert!(notes[1].contains("usermod --add-subuids"));
        assert!(notes[2].contains("apt-get install uidmap"));
    }
}
