//! What the host itself is and allows, read from files under the probe's roots.
//!
//! Every part is read by a small function that takes the roots it needs, so
//! tests run them on fixture trees. A file that is absent or unreadable means
//! "not known here": the fact stays empty (None, false, an empty list).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::Roots;
use super::facts::{
    CapFacts, CgroupFacts, CgroupLayout, DeviceFacts, DeviceNode, EnvFacts, FsFacts, HostFacts,
    LimitFacts, OciRuntime, SecurityFacts, SelinuxMode, SubIdRange, UsernsFacts,
};

/// Capability names by number, as in linux/capability.h (0..=40).
pub const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// cgroup v1 controller names; any other super option of a v1 mount is a mount option.
const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "debug",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// OCI runtimes worth knowing about, looked up on PATH.
const OCI_RUNTIMES: &[&str] = &[
    "runc",
    "crun",
    "runsc",
    "kata-runtime",
    "sysbox-runc",
    "runcvm",
];

/// Where cgroups live in the mount namespace (as mountinfo names it, not under the roots).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const CGROUP_UNIFIED: &str = "/sys/fs/cgroup/unified";

/// The environment variables that point at engines; empty values count as unset.
pub fn env_facts(get: impl Fn(&str) -> Option<String>) -> EnvFacts {
    let var = |name: &str| get(name).filter(|v| !v.is_empty());
    EnvFacts {
        docker_host: var("DOCKER_HOST"),
        container_host: var("CONTAINER_HOST"),
        xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
    }
}

/// Everything about the host except its engines.
pub fn probe(roots: &Roots, env: EnvFacts) -> HostFacts {
    let status = read(&roots.proc.join("self/status")).unwrap_or_default();
    HostFacts {
        kernel: read(&roots.proc.join("sys/kernel/osrelease"))
            .map(|k| k.trim().to_string())
            .unwrap_or_default(),
        uid: status_uid(&status).unwrap_or_else(|| nix::unistd::getuid().as_raw()),
        cgroup: cgroup(&roots.proc, &roots.sys),
        caps: caps(&status, &roots.proc),
        userns: userns(&roots.proc, &roots.etc, find_on_path),
        devices: devices(&roots.dev),
        security: security(&status, &roots.sys, &roots.etc),
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
fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// The real uid: the first field of the `Uid:` line.
fn status_uid(status: &str) -> Option<u32> {
    status_field(status, "Uid")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

// --- cgroups ---

/// The parts of a /proc/self/mountinfo line the probe needs.
#[derive(Debug, PartialEq, Eq)]
struct Mount<'a> {
    mount_point: &'a str,
    fstype: &'a str,
    super_options: &'a str,
}

/// Parse mountinfo; lines that do not have the ` - ` separator are skipped.
fn parse_mountinfo(text: &str) -> Vec<Mount<'_>> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            let mut right = right.split_whitespace();
            let fstype = right.next()?;
            let _source = right.next()?;
            let super_options = right.next().unwrap_or("");
            Some(Mount {
                mount_point,
                fstype,
                super_options,
            })
        })
        .collect()
}

fn is_v1_controller_mount(m: &Mount) -> bool {
    m.fstype == "cgroup"
        && m.mount_point
            .strip_prefix(CGROUP_ROOT)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn cgroup2_at(mounts: &[Mount], at: &str) -> bool {
    mounts
        .iter()
        .any(|m| m.fstype == "cgroup2" && m.mount_point == at)
}

fn cgroup_layout(mounts: &[Mount]) -> CgroupLayout {
    let v1 = mounts.iter().any(is_v1_controller_mount);
    if cgroup2_at(mounts, CGROUP_ROOT) {
        CgroupLayout::V2
    } else if v1 && cgroup2_at(mounts, CGROUP_UNIFIED) {
        CgroupLayout::Hybrid
    } else if v1 {
        CgroupLayout::V1
    } else {
        CgroupLayout::Unknown
    }
}

/// One entry per v1 mount: its controllers ("cpu,cpuacct", "name=systemd"), in mount order.
fn v1_controllers(mounts: &[Mount]) -> Vec<String> {
    mounts
        .iter()
        .filter(|m| is_v1_controller_mount(m))
        .map(|m| {
            m.super_options
                .split(',')
                .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|entry| !entry.is_empty())
        .collect()
}

/// The whitespace-separated words of a file; empty when it cannot be read.
fn words(path: &Path) -> Vec<String> {
    read(path)
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The cgroup layout as this mount namespace sees it (the init uses it too,
/// inside a sandbox whose kernel is not the host's).
pub fn cgroup(proc: &Path, sys: &Path) -> CgroupFacts {
    let mountinfo = read(&proc.join("self/mountinfo")).unwrap_or_default();
    let mounts = parse_mountinfo(&mountinfo);
    let layout = cgroup_layout(&mounts);
    let v2_controllers = match layout {
        CgroupLayout::V2 => words(&sys.join("fs/cgroup/cgroup.controllers")),
        CgroupLayout::Hybrid => words(&sys.join("fs/cgroup/unified/cgroup.controllers")),
        CgroupLayout::V1 | CgroupLayout::Unknown => Vec::new(),
    };
    CgroupFacts {
        layout,
        v1_controllers: v1_controllers(&mounts),
        v2_controllers,
    }
}

// --- capabilities ---

fn caps(status: &str, proc: &Path) -> CapFacts {
    let bounding = status_field(status, "CapBnd")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or(0);
    let last_cap = read(&proc.join("sys/kernel/cap_last_cap"))
        .and_then(|t| t.trim().parse().ok())
        // Without the knob, the highest capability in the set is the best guess.
        .unwrap_or_else(|| 63u32.saturating_sub(bounding.leading_zeros()));
    cap_facts(bounding, last_cap)
}

/// Names of the set bits, and of the known capabilities up to `last_cap` that are not set.
/// Bits without a known name are left out of both lists.
fn cap_facts(bounding: u64, last_cap: u32) -> CapFacts {
    let is_set = |bit: usize| bit < 64 && bounding & (1u64 << bit) != 0;
    let named = CAP_NAMES.iter().enumerate();
    CapFacts {
        bounding: named
            .clone()
            .filter(|(bit, _)| is_set(*bit))
            .map(|(_, n)| n.to_string())
            .collect(),
        missing: named
            .take(last_cap as usize + 1)
            .filter(|(bit, _)| !is_set(*bit))
            .map(|(_, n)| n.to_string())
            .collect(),
        last_cap,
    }
}

// --- user namespaces ---

fn userns(proc: &Path, etc: &Path, find: impl Fn(&str) -> Option<String>) -> UsernsFacts {
    UsernsFacts {
        max_user_namespaces: read(&proc.join("sys/user/max_user_namespaces"))
            .and_then(|t| t.trim().parse().ok()),
        unprivileged_userns_clone: read(&proc.join("sys/kernel/unprivileged_userns_clone"))
            .and_then(|t| knob(&t)),
        apparmor_restrict_unprivileged_userns: read(
            &proc.join("sys/kernel/apparmor_restrict_unprivileged_userns"),
        )
        .and_then(|t| knob(&t)),
        subuid: parse_subids(&read(&etc.join("subuid")).unwrap_or_default()),
        subgid: parse_subids(&read(&etc.join("subgid")).unwrap_or_default()),
        newuidmap: find("newuidmap").is_some(),
        newgidmap: find("newgidmap").is_some(),
    }
}

/// A 0/1 sysctl.
fn knob(text: &str) -> Option<bool> {
    match text.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// `user:start:count` lines of /etc/subuid or /etc/subgid; comments and bad lines are skipped.
fn parse_subids(text: &str) -> Vec<SubIdRange> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.split(':');
            let user = parts.next().filter(|u| !u.is_empty())?;
            let start = parts.next()?.trim().parse().ok()?;
            let count = parts.next()?.trim().parse().ok()?;
            parts.next().is_none().then(|| SubIdRange {
                user: user.to_string(),
                start,
                count,
            })
        })
        .collect()
}

// --- devices ---

fn devices(dev: &Path) -> DeviceFacts {
    DeviceFacts {
        fuse: device_node(&dev.join("fuse")),
        net_tun: device_node(&dev.join("net/tun")),
        kvm: device_node(&dev.join("kvm")),
    }
}

/// The character device at `path`; None when it is absent or not a character device.
fn device_node(path: &Path) -> Option<DeviceNode> {
    let meta = std::fs::metadata(path).ok()?;
    meta.file_type()
        .is_char_device()
        .then(|| decode_device(&path.display().to_string(), meta.rdev(), meta.mode()))
}

/// Major and minor from a device number, permission bits from a file mode.
fn decode_device(path: &str, rdev: u64, mode: u32) -> DeviceNode {
    DeviceNode {
        path: path.to_string(),
        major: libc::major(rdev),
        minor: libc::minor(rdev),
        mode: mode & 0o777,
    }
}

// --- security modules ---

fn security(status: &str, sys: &Path, etc: &Path) -> SecurityFacts {
    SecurityFacts {
        selinux: selinux_mode(
            read(&sys.join("fs/selinux/enforce")).as_deref(),
            read(&etc.join("selinux/config")).as_deref(),
        ),
        apparmor: read(&sys.join("module/apparmor/parameters/enabled"))
            .is_some_and(|t| t.starts_with('Y')),
        seccomp: status_field(status, "Seccomp").is_some(),
    }
}

/// From selinuxfs's `enforce` when it is mounted, else from /etc/selinux/config.
fn selinux_mode(enforce: Option<&str>, config: Option<&str>) -> SelinuxMode {
    match enforce.map(str::trim) {
        Some("1") => SelinuxMode::Enforcing,
        Some("0") => SelinuxMode::Permissive,
        _ if config.is_some_and(|c| c.lines().any(|l| l.trim() == "SELINUX=disabled")) => {
            SelinuxMode::Disabled
        }
        _ => SelinuxMode::Absent,
    }
}

// --- limits, runtimes, filesystems ---

fn limits(text: &str, pid_max: Option<&str>) -> LimitFacts {
    LimitFacts {
        nofile_hard: hard_limit(text, "Max open files"),
        nproc_hard: hard_limit(text, "Max processes"),
        pid_max: pid_max.and_then(|p| p.trim().parse().ok()),
    }
}

/// The hard column of one /proc/self/limits row; None for "unlimited" or a missing row.
fn hard_limit(text: &str, name: &str) -> Option<u64> {
    let row = text.lines().find_map(|l| l.strip_prefix(name))?;
    row.split_whitespace().nth(1)?.parse().ok()
}

fn oci_runtimes(find: impl Fn(&str) -> Option<String>) -> Vec<OciRuntime> {
    found(OCI_RUNTIMES, find)
}

/// User-space network helpers an engine may use.
const NETWORK_HELPERS: &[&str] = &["slirp4netns", "pasta"];

/// Those of `names` that are on PATH, with their paths.
fn found(names: &[&str], find: impl Fn(&str) -> Option<String>) -> Vec<OciRuntime> {
    names
        .iter()
        .filter_map(|name| {
            find(name).map(|path| OciRuntime {
                name: name.to_string(),
                path,
                version: None,
            })
        })
        .collect()
}

/// /proc/filesystems: an optional "nodev" column, then the name.
fn filesystems(text: &str) -> FsFacts {
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    FsFacts {
        overlay: names.contains(&"overlay"),
        fuse: names.contains(&"fuse"),
    }
}

// --- surroundings ---

/// The engine of the container dindbox runs in, from its marker files or PID 1's `container=`.
fn in_container(root: &Path, proc: &Path) -> Option<String> {
    if root.join(".dockerenv").exists() {
        return Some("docker".to_string());
    }
    if root.join("run/.containerenv").exists() {
        return Some("podman".to_string());
    }
    let environ = std::fs::read(proc.join("1/environ")).ok()?;
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"container="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// MTU of the default route's interface; also what a sandbox's init reads of itself.
pub fn default_route_mtu(proc: &Path, sys: &Path) -> Option<u32> {
    let iface = default_route_iface(&read(&proc.join("net/route"))?)?;
    read(&sys.join("class/net").join(iface).join("mtu"))?
        .trim()
        .parse()
        .ok()
}

/// The interface of the route whose destination is 0.0.0.0 in /proc/net/route.
pub fn default_route_iface(route: &str) -> Option<String> {
    route.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let iface = cols.next()?;
        (cols.next()? == "00000000").then(|| iface.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use std::path::PathBuf;

    const HYBRID: &str =
        include_str!("../../tests/fixtures/proc/mountinfo-debian12-firecracker-hybrid");
    const V2: &str = include_str!("../../tests/fixtures/proc/mountinfo-ubuntu24-v2");
    const V1: &str = "\
21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
24 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:3 - tmpfs tmpfs ro,mode=755
25 24 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:4 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,cpu,cpuacct
29 24 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory
30 24 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,net_cls,net_prio
31 21 0:29 / /mnt/elsewhere rw,relatime - cgroup cgroup rw,pids
";

    /// A fixture tree: `files` are (path under the tempdir, content).
    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Roots) {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        let at = |p: &str| -> PathBuf { dir.path().join(p) };
        let roots = Roots {
            proc: at("proc"),
            sys: at("sys"),
            etc: at("etc"),
            dev: at("dev"),
            root: at("root"),
        };
        (dir, roots)
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

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
        assert_eq!(
            status_uid("Name:\tsh\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\n"),
            Some(1000)
        );
        assert_eq!(status_uid("Name:\tsh\n"), None);
    }

    #[test]
    fn this_machine_is_hybrid_with_nine_v1_controllers() {
        let mounts = parse_mountinfo(HYBRID);
        assert_eq!(cgroup_layout(&mounts), CgroupLayout::Hybrid);
        assert_eq!(
            v1_controllers(&mounts),
            strings(&[
                "cpu",
                "cpuacct",
                "cpuset",
                "memory",
                "devices",
                "freezer",
                "blkio",
                "pids",
                "name=systemd"
            ])
        );
    }

    #[test]
    fn unified_only_is_v2_without_v1_controllers() {
        let mounts = parse_mountinfo(V2);
        assert_eq!(cgroup_layout(&mounts), CgroupLayout::V2);
        assert!(v1_controllers(&mounts).is_empty());
    }

    #[test]
    fn v1_entries_keep_joined_controllers_and_drop_mount_options() {
        let mounts = parse_mountinfo(V1);
        assert_eq!(cgroup_layout(&mounts), CgroupLayout::V1);
        // The pids mount outside /sys/fs/cgroup does not count.
        assert_eq!(
            v1_controllers(&mounts),
            strings(&["name=systemd", "cpu,cpuacct", "memory", "net_cls,net_prio"])
        );
    }

    #[test]
    fn no_cgroup_mounts_is_unknown() {
        let mounts = parse_mountinfo(
            "22 27 0:21 / /proc rw,relatime - proc proc rw\nnot a mountinfo line\n",
        );
        assert_eq!(mounts.len(), 1);
        assert_eq!(cgroup_layout(&mounts), CgroupLayout::Unknown);
    }

    #[test]
    fn v2_controllers_come_from_the_unified_mount_of_the_layout() {
        let (_dir, roots) = tree(&[
            ("proc/self/mountinfo", V2),
            (
                "sys/fs/cgroup/cgroup.controllers",
                "cpuset cpu io memory pids\n",
            ),
            ("sys/fs/cgroup/unified/cgroup.controllers", "wrong\n"),
        ]);
        assert_eq!(
            cgroup(&roots.proc, &roots.sys).v2_controllers,
            strings(&["cpuset", "cpu", "io", "memory", "pids"])
        );

        let (_dir, roots) = tree(&[
            ("proc/self/mountinfo", HYBRID),
            ("sys/fs/cgroup/cgroup.controllers", "wrong\n"),
            ("sys/fs/cgroup/unified/cgroup.controllers", "\n"),
        ]);
        let facts = cgroup(&roots.proc, &roots.sys);
        assert_eq!(facts.layout, CgroupLayout::Hybrid);
        assert!(facts.v2_controllers.is_empty());
    }

    #[test]
    fn this_machines_bounding_set_lacks_only_cap_sys_resource() {
        let caps = cap_facts(0x0000_01ff_feff_ffff, 40);
        assert_eq!(caps.missing, strings(&["CAP_SYS_RESOURCE"]));
        assert_eq!(caps.bounding.len(), 40);
        assert_eq!(caps.bounding.first().map(String::as_str), Some("CAP_CHOWN"));
        assert_eq!(
            caps.bounding.last().map(String::as_str),
            Some("CAP_CHECKPOINT_RESTORE")
        );
        assert_eq!(caps.last_cap, 40);
    }

    #[test]
    fn missing_stops_at_the_kernels_last_cap() {
        // A 5.4 kernel knows caps up to 37 (CAP_AUDIT_READ).
        let caps = cap_facts(0x3f_ffff_ffff, 37);
        assert!(caps.missing.is_empty());
        assert_eq!(caps.bounding.len(), 38);
        let caps = cap_facts(0, 1);
        assert_eq!(caps.missing, strings(&["CAP_CHOWN", "CAP_DAC_OVERRIDE"]));
    }

    #[test]
    fn last_cap_falls_back_to_the_highest_bit_set() {
        let (_dir, roots) = tree(&[]);
        assert_eq!(caps("CapBnd:\t000000000000003f\n", &roots.proc).last_cap, 5);
    }

    #[test]
    fn subid_lines_parse_and_bad_ones_are_skipped() {
        let text = "# comment\nalice:100000:65536\n\nbob:x:1\ncarol:165536\ndave: 231072 : 65536\n";
        assert_eq!(
            parse_subids(text),
            vec![
                SubIdRange {
                    user: "alice".into(),
                    start: 100000,
                    count: 65536
                },
                SubIdRange {
                    user: "dave".into(),
                    start: 231072,
                    count: 65536
                },
            ]
        );
    }

    #[test]
    fn userns_reads_knobs_and_absent_ones_are_none() {
        let (_dir, roots) = tree(&[
            ("proc/sys/user/max_user_namespaces", "63414\n"),
            (
                "proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                "1\n",
            ),
            ("etc/subuid", "ubuntu:100000:65536\n"),
        ]);
        let facts = userns(&roots.proc, &roots.etc, |name| {
            (name == "newuidmap").then(|| "/usr/bin/newuidmap".to_string())
        });
        assert_eq!(facts.max_user_namespaces, Some(63414));
        assert_eq!(facts.unprivileged_userns_clone, None);
        assert_eq!(facts.apparmor_restrict_unprivileged_userns, Some(true));
        assert_eq!(facts.subuid.len(), 1);
        assert!(facts.subgid.is_empty());
        assert!(facts.newuidmap);
        assert!(!facts.newgidmap);
    }

    #[test]
    fn device_numbers_and_permission_bits_decode() {
        let node = decode_device("/dev/net/tun", libc::makedev(10, 200), 0o020600);
        assert_eq!(
            node,
            DeviceNode {
                path: "/dev/net/tun".into(),
                major: 10,
                minor: 200,
                mode: 0o600
            }
        );
        // Minor numbers above 255 live in the high bits.
        let node = decode_device("/dev/x", libc::makedev(259, 70000), 0o020666);
        assert_eq!((node.major, node.minor, node.mode), (259, 70000, 0o666));
    }

    #[test]
    fn absent_devices_and_plain_files_are_none() {
        let (_dir, roots) = tree(&[("dev/fuse", "not a device")]);
        assert_eq!(devices(&roots.dev), DeviceFacts::default());
    }

    #[test]
    fn real_dev_null_is_a_character_device() {
        let node = device_node(Path::new("/dev/null")).unwrap();
        assert_eq!((node.major, node.minor, node.mode), (1, 3, 0o666));
    }

    #[test]
    fn selinux_mode_from_enforce_then_config() {
        assert_eq!(selinux_mode(Some("1\n"), None), SelinuxMode::Enforcing);
        assert_eq!(
            selinux_mode(Some("0"), Some("SELINUX=disabled\n")),
            SelinuxMode::Permissive
        );
        assert_eq!(
            selinux_mode(None, Some("# x\nSELINUX=disabled\nSELINUXTYPE=targeted\n")),
            SelinuxMode::Disabled
        );
        assert_eq!(
            selinux_mode(None, Some("SELINUX=enforcing\n")),
            SelinuxMode::Absent
        );
        assert_eq!(selinux_mode(None, None), SelinuxMode::Absent);
    }

    #[test]
    fn security_reads_apparmor_and_seccomp() {
        let (_dir, roots) = tree(&[("sys/module/apparmor/parameters/enabled", "Y\n")]);
        let facts = security("Seccomp:\t0\nSeccomp_filters:\t0\n", &roots.sys, &roots.etc);
        assert!(facts.apparmor);
        assert!(facts.seccomp);
        assert_eq!(facts.selinux, SelinuxMode::Absent);
        let (_dir, roots) = tree(&[("sys/module/apparmor/parameters/enabled", "N\n")]);
        let facts = security("Name:\tsh\n", &roots.sys, &roots.etc);
        assert!(!facts.apparmor);
        assert!(!facts.seccomp);
    }

    #[test]
    fn hard_limits_with_unlimited_as_none() {
        let text = "\
Limit                     Soft Limit           Hard Limit           Units
Max processes             96364                unlimited            processes
Max open files            1024                 20000                files
";
        assert_eq!(
            limits(text, Some("32768\n")),
            LimitFacts {
                nofile_hard: Some(20000),
                nproc_hard: None,
                pid_max: Some(32768),
            }
        );
    }

    #[test]
    fn runtimes_in_fixed_order_with_paths() {
        let found = oci_runtimes(|name| match name {
            "crun" => Some("/usr/bin/crun".to_string()),
            "runc" => Some("/usr/sbin/runc".to_string()),
            _ => None,
        });
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|r| (r.name.as_str(), r.path.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")]
        );
    }

    #[test]
    fn filesystems_match_the_name_column_exactly() {
        let fs = filesystems("nodev\tsysfs\n\text4\n\tfuseblk\nnodev\tfusectl\nnodev\toverlay\n");
        assert_eq!(
            fs,
            FsFacts {
                overlay: true,
                fuse: false
            }
        );
    }

    #[test]
    fn container_markers_then_pid1_environment() {
        let (_dir, roots) = tree(&[("root/.dockerenv", ""), ("root/run/.containerenv", "")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("docker")
        );
        let (_dir, roots) = tree(&[("root/run/.containerenv", "engine=\"podman-4.3.1\"\n")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("podman")
        );
        let (_dir, roots) = tree(&[("proc/1/environ", "PATH=/bin\0container=lxc\0TERM=xterm\0")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("lxc")
        );
        let (_dir, roots) = tree(&[("proc/1/environ", "PATH=/bin\0")]);
        assert_eq!(in_container(&roots.root, &roots.proc), None);
    }

    #[test]
    fn mtu_of_the_default_routes_interface() {
        let route = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
";
        let (_dir, roots) = tree(&[
            ("proc/net/route", route),
            ("sys/class/net/eth0/mtu", "1400\n"),
            ("sys/class/net/docker0/mtu", "1500\n"),
        ]);
        assert_eq!(default_route_mtu(&roots.proc, &roots.sys), Some(1400));
        assert_eq!(
            default_route_iface("Iface\tDestination\neth0\t000200C0\n"),
            None
        );
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
