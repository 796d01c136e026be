//! What the host itself is and allows, read from files under the probe's roots.
//!
//! Every part is read by a small function that takes the roots it needs, so
//! tests run them on fixture trees. A file that is absent or unreadable means
//! "not known here": the fact stays empty (None, false, an empty list).

mod caps;
mod cgroup;
mod devices;
mod limits;
mod netfilter;
mod security;
mod surroundings;
#[cfg(test)]
mod testing;
mod userns;

pub use security::dindbox_profiles;

use std::path::Path;

use super::Roots;
use super::facts::{EnvFacts, HostFacts, Invoker};

pub use caps::CAP_NAMES;
pub use cgroup::cgroup;
pub use surroundings::{default_route_iface, default_route_mtu};

use caps::caps;
use devices::devices;
use limits::{NETWORK_HELPERS, filesystems, found, limits, oci_runtimes};
use netfilter::nft_nat;
use security::security;
use surroundings::in_container;
use userns::userns;

/// The environment variables that point at engines; empty values count as unset.
pub fn env_facts(get: impl Fn(&str) -> Option<String>) -> EnvFacts {
    let var = |name: &str| get(name).filter(|v| !v.is_empty());
    EnvFacts {
        docker_host: var("DOCKER_HOST"),
        container_host: var("CONTAINER_HOST"),
        xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
        sudo: match (var("SUDO_UID"), var("SUDO_GID"), var("SUDO_USER")) {
            (Some(uid), Some(gid), Some(user)) => Some((uid, gid, user)),
            _ => None,
        },
    }
}

/// Who ran dindbox: the user sudo was run by, when root runs it through sudo;
/// else the real uid and gid, named from /etc/passwd.
pub fn invoker(status: &str, passwd: &str, env: &EnvFacts) -> Option<Invoker> {
    let uid = status_id(status, "Uid")?;
    let gid = status_id(status, "Gid")?;
    if uid == 0
        && let Some((u, g, name)) = &env.sudo
        && let (Ok(u), Ok(g)) = (u.parse(), g.parse())
    {
        return Some(Invoker {
            uid: u,
            gid: g,
            name: Some(name.clone()),
            sudo: true,
        });
    }
    let name = passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    });
    Some(Invoker {
        uid,
        gid,
        name,
        sudo: false,
    })
}

/// Everything about the host except its engines.
pub fn probe(roots: &Roots, env: EnvFacts) -> HostFacts {
    let status = read(&roots.proc.join("self/status")).unwrap_or_default();
    let kernel = read(&roots.proc.join("sys/kernel/osrelease"))
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    HostFacts {
        nft_nat: nft_nat(&roots.proc, &roots.sys, &roots.root, &kernel),
        kernel,
        uid: status_id(&status, "Uid").unwrap_or_else(|| nix::unistd::getuid().as_raw()),
        invoker: invoker(
            &status,
            &read(&roots.etc.join("passwd")).unwrap_or_default(),
            &env,
        ),
        cgroup: cgroup(&roots.proc, &roots.sys),
        caps: caps(&status, &roots.proc),
        userns: userns(&roots.proc, &roots.etc, find_on_path),
        devices: devices(&roots.dev),
        security: security(&status, &roots.proc, &roots.sys, &roots.etc, &roots.root),
        limits: limits(
            &read(&roots.proc.join("self/limits")).unwrap_or_default(),
            read(&roots.proc.join("sys/kernel/pid_max")).as_deref(),
        ),
        oci_runtimes: oci_runtimes(find_on_path),
        network_helpers: found(NETWORK_HELPERS, find_on_path),
        filesystems: filesystems(&read(&roots.proc.join("filesystems")).unwrap_or_default()),
        in_container: in_container(&roots.root, &roots.proc),
        default_route_mtu: default_route_mtu(&roots.proc, &roots.sys),
        env,
        engines: Vec::new(),
        hostname: read(&roots.proc.join("sys/kernel/hostname"))
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty()),
    }
}

/// A file's text, or None when it is absent or cannot be read.
fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// A program on PATH, as a path string.
fn find_on_path(name: &str) -> Option<String> {
    which::which(name).ok().map(|p| p.display().to_string())
}

/// The value of a `Key:` line of /proc/self/status, trimmed.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// The real uid or gid: the first field of the `Uid:` or `Gid:` line.
fn status_id(status: &str, key: &str) -> Option<u32> {
    status_field(status, key)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::testing::{HYBRID, strings, tree};
    use super::*;
    use crate::engine::EngineKind;
    use crate::probe::facts::{CgroupLayout, DeviceFacts};

    #[test]
    fn env_facts_reads_the_three_variables_and_ignores_empty_ones() {
        let env = env_facts(|k| match k {
            "DOCKER_HOST" => Some("unix:///run/user/1000/docker.sock".to_string()),
            "CONTAINER_HOST" => Some(String::new()),
            "XDG_RUNTIME_DIR" => Some("/run/user/1000".to_string()),
            _ => Some("unexpected".to_string()),
        });
        assert_eq!(
            env.docker_host.as_deref(),
            Some("unix:///run/user/1000/docker.sock")
        );
        assert_eq!(env.container_host, None);
        assert_eq!(env.xdg_runtime_dir.as_deref(), Some("/run/user/1000"));
    }

    #[test]
    fn uid_is_the_first_field_of_the_uid_line() {
        let status = "Name:\tsh\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\n";
        assert_eq!(status_id(status, "Uid"), Some(1000));
        assert_eq!(status_id(status, "Gid"), Some(5));
        assert_eq!(status_id("Name:\tsh\n", "Uid"), None);
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nada:x:1000:1000::/home/ada:/bin/bash\n";

    #[test]
    fn the_invoker_is_sudos_user_when_root_runs_through_sudo() {
        let root = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        let sudo = env_facts(|k| match k {
            "SUDO_UID" => Some("1000".into()),
            "SUDO_GID" => Some("1001".into()),
            "SUDO_USER" => Some("ada".into()),
            _ => None,
        });
        let who = invoker(root, PASSWD, &sudo).unwrap();
        assert_eq!(
            (who.uid, who.gid, who.name.as_deref(), who.sudo),
            (1000, 1001, Some("ada"), true)
        );
        let plain = invoker(root, PASSWD, &env_facts(|_| None)).unwrap();
        assert_eq!(
            (plain.uid, plain.name.as_deref(), plain.sudo),
            (0, Some("root"), false)
        );
        // A user's own SUDO_* variables (sudo inside sudo, or set by hand) do not make them someone else.
        let user = "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";
        let who = invoker(user, PASSWD, &sudo).unwrap();
        assert_eq!(
            (who.uid, who.name.as_deref(), who.sudo),
            (1000, Some("ada"), false)
        );
        assert_eq!(invoker(user, "", &sudo).unwrap().name, None);
    }

    #[test]
    fn probe_reads_a_whole_fixture_tree() {
        let (_dir, roots) = tree(&[
            ("proc/sys/kernel/osrelease", "6.18.44-fc-v769\n"),
            ("proc/sys/kernel/hostname", "vm\n"),
            ("proc/sys/kernel/cap_last_cap", "40\n"),
            (
                "proc/self/status",
                "Name:\tcat\nUid:\t0\t0\t0\t0\nCapBnd:\t000001fffeffffff\nSeccomp:\t0\n",
            ),
            ("proc/self/mountinfo", HYBRID),
            (
                "proc/self/limits",
                "Max open files            20000                20000                files\n",
            ),
            (
                "proc/filesystems",
                "nodev\tcgroup2\nnodev\tfuse\nnodev\toverlay\n",
            ),
            ("root/.dockerenv", ""),
        ]);
        let env = EnvFacts {
            docker_host: Some("unix:///var/run/docker.sock".into()),
            ..EnvFacts::default()
        };
        let facts = probe(&roots, env.clone());
        assert_eq!(facts.kernel, "6.18.44-fc-v769");
        assert_eq!(facts.hostname.as_deref(), Some("vm"));
        assert_eq!(facts.uid, 0);
        assert_eq!(facts.cgroup.layout, CgroupLayout::Hybrid);
        assert_eq!(facts.caps.missing, strings(&["CAP_SYS_RESOURCE"]));
        assert_eq!(facts.limits.nofile_hard, Some(20000));
        assert!(facts.filesystems.overlay && facts.filesystems.fuse);
        assert!(facts.security.seccomp);
        assert_eq!(facts.devices, DeviceFacts::default());
        assert_eq!(facts.in_container.as_deref(), Some("docker"));
        assert_eq!(facts.default_route_mtu, None);
        assert_eq!(facts.nft_nat, None, "no module lists in the tree");
        assert_eq!(facts.env, env);
        assert!(facts.engines.is_empty());
    }

    #[test]
    fn this_machine_fixture_deserializes() {
        let facts = crate::probe::fixtures::this_machine();
        assert_eq!(facts.cgroup.layout, CgroupLayout::Hybrid);
        assert_eq!(facts.caps.missing, strings(&["CAP_SYS_RESOURCE"]));
        let versions: Vec<_> = facts.engines.iter().map(|e| (e.kind, e.answers)).collect();
        assert_eq!(
            versions,
            vec![(EngineKind::Podman, true), (EngineKind::Docker, true)]
        );
    }

    #[test]
    fn ubuntu_fixture_deserializes() {
        let facts = crate::probe::fixtures::ubuntu();
        assert_eq!(facts.cgroup.layout, CgroupLayout::V2);
        assert_eq!(facts.caps.bounding.len(), 41);
        assert!(facts.caps.missing.is_empty());
        assert_eq!(
            facts.userns.apparmor_restrict_unprivileged_userns,
            Some(true)
        );
        let docker = facts.engine(EngineKind::Docker).unwrap();
        assert_eq!(docker.server_version.as_deref(), Some("28.0.4"));
        assert_eq!(
            docker.live_socket().map(|s| s.path.as_str()),
            Some("/var/run/docker.sock")
        );
    }
}
