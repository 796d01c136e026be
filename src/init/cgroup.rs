//! Give the inner engine a cgroup tree it may write: the sandbox's own subtree
//! (a private cgroup namespace), mounted read-write.

use std::path::Path;

use nix::mount::{MsFlags, mount};

use crate::plan::inner::CgroupSetup;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

pub fn setup(wanted: &CgroupSetup) -> Result<(), String> {
    match wanted {
        CgroupSetup::Leave => Ok(()),
        CgroupSetup::MountV1 { controllers } => mount_v1(controllers),
        CgroupSetup::NestV2 => nest_v2(Path::new(CGROUP_ROOT)),
        CgroupSetup::Detect => setup(&detected(&crate::probe::host::cgroup(
            Path::new("/proc"),
            Path::new("/sys"),
        ))),
    }
}

/// The set-up for the cgroup layout the sandbox sees.
fn detected(facts: &crate::probe::facts::CgroupFacts) -> CgroupSetup {
    use crate::probe::facts::CgroupLayout;
    match facts.layout {
        CgroupLayout::V2 => CgroupSetup::NestV2,
        CgroupLayout::V1 | CgroupLayout::Hybrid => CgroupSetup::MountV1 {
            controllers: facts.v1_controllers.clone(),
        },
        CgroupLayout::Unknown => CgroupSetup::Leave,
    }
}

/// Bind /proc/sys/net onto itself and make that mount writable: network
/// sysctls are the sandbox's own network namespace's.
pub fn net_sysctls_writable() -> Result<(), String> {
    const NET: &str = "/proc/sys/net";
    mount(
        Some(NET),
        NET,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("could not bind {NET}: {e}"))?;
    remount_rw_bind(NET)
}

fn remount_rw_bind(target: &str) -> Result<(), String> {
    let flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
        .map_err(|e| format!("could not make {target} writable: {e}"))
}

fn remount_rw(target: &str) -> Result<(), String> {
    remount(target, true)
}

/// Remount a filesystem read-write or read-only, keeping nosuid, nodev and noexec.
fn remount(target: &str, writable: bool) -> Result<(), String> {
    let mut flags =
        MsFlags::MS_REMOUNT | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if !writable {
        flags |= MsFlags::MS_RDONLY;
    }
    let how = if writable { "read-write" } else { "read-only" };
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
        .map_err(|e| format!("could not remount {target} {how}: {e}"))
}

/// One v1 hierarchy to mount: its directory, its mount options, and the
/// aliases that point at it (`cpu` and `cpuacct` for `cpu,cpuacct`).
#[derive(Debug, PartialEq, Eq)]
pub struct V1Mount {
    pub dir: String,
    pub options: String,
    pub aliases: Vec<String>,
}

pub fn v1_mounts(controllers: &[String]) -> Vec<V1Mount> {
    controllers
        .iter()
        .map(|entry| {
            let names: Vec<&str> = entry.split(',').collect();
            let dir = entry.strip_prefix("name=").unwrap_or(entry).to_string();
            let options = if entry.starts_with("name=") {
                format!("none,{entry}")
            } else {
                entry.clone()
            };
            let aliases = if names.len() > 1 {
                names
                    .iter()
                    .filter(|n| !n.starts_with("name="))
                    .map(|n| n.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            V1Mount {
                dir,
                options,
                aliases,
            }
        })
        .collect()
}

/// Whether this process's cgroup namespace is rooted at its own cgroup
/// (each line of /proc/self/cgroup ends in `:/`).
pub fn own_root(proc_self_cgroup: &str) -> bool {
    proc_self_cgroup
        .lines()
        .filter(|l| !l.is_empty())
        .all(|l| l.rsplit_once(':').is_some_and(|(_, path)| path == "/"))
}

fn mount_v1(controllers: &[String]) -> Result<(), String> {
    // The engine gives the sandbox a private cgroup namespace; where it
    // could not (a pod's container on cgroup v1, under `podman kube play`),
    // the init makes one itself, rooted at its own cgroup, before the
    // controllers are mounted, so the sandbox sees only its own subtree.
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    if !own_root(&cgroups) {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| format!("could not make a cgroup namespace of the sandbox's own: {e}"))?;
    }
    remount_rw("/sys")?;
    mount(
        Some("cgroup"),
        CGROUP_ROOT,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=755"),
    )
    .map_err(|e| format!("could not mount a tmpfs on {CGROUP_ROOT}: {e}"))?;
    for m in v1_mounts(controllers) {
        let dir = format!("{CGROUP_ROOT}/{}", m.dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("could not create {dir}: {e}"))?;
        mount(
            Some("cgroup"),
            dir.as_str(),
            Some("cgroup"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some(m.options.as_str()),
        )
        .map_err(|e| {
            format!(
                "could not mount the {} cgroup controller on {dir}: {e}",
                m.options
            )
        })?;
        for alias in m.aliases {
            let link = format!("{CGROUP_ROOT}/{alias}");
            if !Path::new(&link).exists() {
                std::os::unix::fs::symlink(&m.dir, &link)
                    .map_err(|e| format!("could not link {link}: {e}"))?;
            }
        }
    }
    Ok(())
}

/// After systemd's boot on cgroup v1: remove the directories systemd made
/// under /sys/fs/cgroup for controllers it could not mount (those the host
/// has on cgroup v2), and the links to them. Empty, they make an inner Podman
/// warn at every nested run that it cannot make its cgroup there.
pub fn drop_unmounted_v1_dirs() -> Result<(), String> {
    let root = Path::new(CGROUP_ROOT);
    let Ok(root_meta) = std::fs::metadata(root) else {
        return Ok(());
    };
    let entries: Vec<std::path::PathBuf> = std::fs::read_dir(root)
        .map_err(|e| format!("could not read {CGROUP_ROOT}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let unmounted = |path: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() && m.dev() == root_meta.dev())
            && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
    };
    let dirs: Vec<&std::path::PathBuf> = entries.iter().filter(|p| unmounted(p)).collect();
    if dirs.is_empty() {
        return Ok(());
    }
    remount_rw(CGROUP_ROOT)?;
    for dir in &dirs {
        let _ = std::fs::remove_dir(dir);
    }
    for link in entries.iter().filter(|p| p.is_symlink() && !p.exists()) {
        let _ = std::fs::remove_file(link);
    }
    remount(CGROUP_ROOT, false)
}

/// The line to write into `cgroup.subtree_control` to hand every controller on.
pub fn subtree_control_line(controllers: &str) -> String {
    controllers
        .split_whitespace()
        .map(|c| format!("+{c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// cgroup v2: processes may only live in leaves, so move them all into
/// `init/` and then enable every controller for the children (as moby's
/// `hack/dind` does). `exec` may add processes meanwhile, hence the loop.
fn nest_v2(root: &Path) -> Result<(), String> {
    remount_rw(CGROUP_ROOT)?;
    let init = root.join("init");
    std::fs::create_dir_all(&init)
        .map_err(|e| format!("could not create {}: {e}", init.display()))?;
    for _ in 0..20 {
        let procs = std::fs::read_to_string(root.join("cgroup.procs"))
            .map_err(|e| format!("could not read cgroup.procs: {e}"))?;
        let pids: Vec<&str> = procs.split_whitespace().collect();
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            // A process that exited meanwhile is not an error.
            let _ = std::fs::write(init.join("cgroup.procs"), pid);
        }
    }
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers"))
        .map_err(|e| format!("could not read cgroup.controllers: {e}"))?;
    std::fs::write(
        root.join("cgroup.subtree_control"),
        subtree_control_line(&controllers),
    )
    .map_err(|e| {
        format!(
            "could not enable the controllers {}: {e}",
            controllers.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_mounts_follow_the_hosts_hierarchies() {
        let mounts = v1_mounts(&["cpu,cpuacct".into(), "memory".into(), "name=systemd".into()]);
        assert_eq!(
            mounts,
            vec![
                V1Mount {
                    dir: "cpu,cpuacct".into(),
                    options: "cpu,cpuacct".into(),
                    aliases: vec!["cpu".into(), "cpuacct".into()]
                },
                V1Mount {
                    dir: "memory".into(),
                    options: "memory".into(),
                    aliases: vec![]
                },
                V1Mount {
                    dir: "systemd".into(),
                    options: "none,name=systemd".into(),
                    aliases: vec![]
                },
            ]
        );
    }

    #[test]
    fn a_cgroup_namespace_of_its_own_shows_every_cgroup_at_its_root() {
        assert!(own_root("9:name=systemd:/\n8:pids:/\n0::/\n"));
        assert!(!own_root(
            "9:name=systemd:/libpod_parent/x/libpod-y\n0::/\n"
        ));
    }

    #[test]
    fn subtree_control_enables_every_controller() {
        assert_eq!(
            subtree_control_line("cpuset cpu io memory pids\n"),
            "+cpuset +cpu +io +memory +pids"
        );
    }
}
