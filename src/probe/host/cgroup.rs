//! The cgroup layout (v1, v2, hybrid) and its controllers, from mountinfo.

use std::path::Path;

use super::read;
use crate::probe::facts::{CgroupFacts, CgroupLayout};

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

/// Where cgroups live in the mount namespace (as mountinfo names it, not under the roots).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const CGROUP_UNIFIED: &str = "/sys/fs/cgroup/unified";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::{HYBRID, strings, tree};

    const V2: &str = include_str!("../../../tests/fixtures/proc/mountinfo-ubuntu24-v2");
    const V1: &str = "\
21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
24 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:3 - tmpfs tmpfs ro,mode=755
25 24 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:4 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,cpu,cpuacct
29 24 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory
30 24 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,net_cls,net_prio
31 21 0:29 / /mnt/elsewhere rw,relatime - cgroup cgroup rw,pids
";

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
}
