//! dindbox's own confinement for sandboxes whose root is the host's (a dind
//! sandbox on Docker, or on a Podman that cannot give it a user namespace):
//! a seccomp profile and an AppArmor profile, each the engine's defaults
//! less what nesting needs, instead of no profile at all.
//!
//! Both are data, written here once; the plan names them, `apply` writes the
//! seccomp profile to a file the engine's CLI reads and loads the AppArmor
//! profile into the kernel, and their names carry a digest of their text, so
//! that a changed profile is a new file and a new profile.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The syscalls the seccomp profile refuses, by group, and why. The engines'
/// default profiles refuse these too; what they refuse besides and nesting
/// needs (mount and unmount, new namespaces and setns, pivot_root, the
/// kernel keyring of each nested container, cgroup device filters) is left
/// to the capabilities the sandbox has.
pub const REFUSED: &[(&str, &[&str])] = &[
    (
        "loading modules or another kernel",
        &[
            "init_module",
            "finit_module",
            "delete_module",
            "create_module",
            "query_module",
            "get_kernel_syms",
            "kexec_load",
            "kexec_file_load",
        ],
    ),
    (
        "host-wide tracing and performance counters",
        &["perf_event_open", "lookup_dcookie"],
    ),
    ("the kernel log", &["syslog"]),
    (
        "opening host files by handle (the `shocker` escape)",
        &["open_by_handle_at"],
    ),
    (
        "swap, process accounting, disk quotas and the clock",
        &[
            "swapon",
            "swapoff",
            "acct",
            "quotactl",
            "settimeofday",
            "stime",
            "clock_settime",
        ],
    ),
    (
        "raw port I/O and obsolete interfaces",
        &[
            "iopl",
            "ioperm",
            "vm86",
            "vm86old",
            "uselib",
            "nfsservctl",
            "_sysctl",
            "ustat",
            "sysfs",
        ],
    ),
    (
        "userfaultfd and io_uring, the usual tools of kernel exploits",
        &[
            "userfaultfd",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
        ],
    ),
];

/// bpf() commands the profile refuses: every one that reaches past the
/// sandbox's own cgroups (finding and opening the host's BPF programs, maps,
/// links and type data; attaching to tracepoints; running programs; kernel
/// statistics and iterators). An inner runtime on cgroup v2 loads, attaches,
/// queries and detaches a device filter for each nested container
/// (BPF_PROG_LOAD, _ATTACH, _DETACH, _QUERY), which stays allowed.
pub const REFUSED_BPF: &[(u64, &str)] = &[
    (0, "BPF_MAP_CREATE"),
    (10, "BPF_PROG_TEST_RUN"),
    (11, "BPF_PROG_GET_NEXT_ID"),
    (12, "BPF_MAP_GET_NEXT_ID"),
    (13, "BPF_PROG_GET_FD_BY_ID"),
    (14, "BPF_MAP_GET_FD_BY_ID"),
    (17, "BPF_RAW_TRACEPOINT_OPEN"),
    (19, "BPF_BTF_GET_FD_BY_ID"),
    (20, "BPF_TASK_FD_QUERY"),
    (23, "BPF_BTF_GET_NEXT_ID"),
    (28, "BPF_LINK_CREATE"),
    (30, "BPF_LINK_GET_FD_BY_ID"),
    (31, "BPF_LINK_GET_NEXT_ID"),
    (32, "BPF_ENABLE_STATS"),
    (33, "BPF_ITER_CREATE"),
];

/// The first bpf() command after those this kernel generation has
/// (BPF_TOKEN_CREATE is 36): it and later ones are refused until known.
const FIRST_UNKNOWN_BPF: u64 = 36;

/// ENOSYS, for io_uring: programs fall back to ordinary reads and writes
/// when the kernel seems not to have it.
const ENOSYS: u64 = 38;

/// The architectures the profile applies to: the one dindbox was built for
/// and those its kernel runs binaries of.
fn architectures() -> &'static [&'static str] {
    match std::env::consts::ARCH {
        "aarch64" => &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        _ => &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    }
}

/// The seccomp profile, in the format both engines read.
pub fn seccomp_profile() -> Value {
    let mut rules = Vec::new();
    for (why, names) in REFUSED {
        let mut rule = json!({
            "names": names,
            "action": "SCMP_ACT_ERRNO",
            "comment": format!("refused: {why}"),
        });
        if names.iter().any(|n| n.starts_with("io_uring")) {
            rule["errnoRet"] = json!(ENOSYS);
        }
        rules.push(rule);
    }
    for (cmd, name) in REFUSED_BPF {
        rules.push(json!({
            "names": ["bpf"],
            "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": cmd, "op": "SCMP_CMP_EQ"}],
            "comment": format!("refused: bpf({name})"),
        }));
    }
    rules.push(json!({
        "names": ["bpf"],
        "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": FIRST_UNKNOWN_BPF, "op": "SCMP_CMP_GE"}],
        "comment": "refused: bpf() commands newer than this profile",
    }));
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": architectures(),
        "syscalls": rules,
    })
}

/// The seccomp profile as the file holds it.
pub fn seccomp_text() -> String {
    let mut text = serde_json::to_string_pretty(&seccomp_profile()).expect("a JSON value");
    text.push('\n');
    text
}

/// The file name of the seccomp profile: its digest in it.
pub fn seccomp_file_name() -> String {
    format!("seccomp-nesting-{}.json", digest(&seccomp_text()))
}

/// The AppArmor profile's name, with the digest of its rules.
pub fn apparmor_name() -> String {
    format!("dindbox-nesting-{}", digest(APPARMOR_RULES))
}

/// The AppArmor profile, as `apparmor_parser` reads it.
pub fn apparmor_text() -> String {
    format!(
        "# dindbox: sandboxes that run an engine of their own and whose root is the host's.\n\
         abi <abi/3.0>,\n\
         #include <tunables/global>\n\
         profile {} flags=(attach_disconnected,mediate_deleted) {{\n{APPARMOR_RULES}}}\n",
        apparmor_name()
    )
}

/// What the AppArmor profile allows and denies. Allowed: what the engines'
/// default profile allows, and mounts, which the inner engine makes for every
/// nested container. Denied: the kernel filesystems that reach the whole
/// host, writes to kernel settings and to /sys outside the sandbox's cgroup
/// tree, cgroup release agents, the kernel's memory, log and sysrq.
const APPARMOR_RULES: &str = r#"  #include <abstractions/base>
  network,
  capability,
  file,
  umount,
  pivot_root,
  signal,
  ptrace,
  unix,
  dbus,
  mount,

  # Kernel filesystems whose one instance is the whole host's.
  deny mount fstype=tracefs,
  deny mount fstype=debugfs,
  deny mount fstype=securityfs,
  deny mount fstype=bpf,
  deny mount fstype=configfs,
  deny mount fstype=efivarfs,
  deny mount fstype=pstore,
  deny mount fstype=fusectl,
  deny /sys/kernel/tracing/** rwklx,
  deny /sys/kernel/debug/** rwklx,
  deny /sys/kernel/security/** rwklx,
  deny /sys/fs/bpf/** rwklx,

  # A cgroup's release agent runs as the host's root, wherever it is mounted.
  deny /**/release_agent w,

  # Kernel settings: only the sandbox's own network namespace's are written.
  deny @{PROC}/sys/[^n]** wklx,
  deny @{PROC}/sys/n[^e]** wklx,
  deny @{PROC}/sys/ne[^t]** wklx,
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,
  deny @{PROC}/kmsg rwklx,
  deny @{PROC}/kallsyms rwklx,

  # /sys is written only in the cgroup tree, which the inner engine manages.
  deny /sys/[^f]** wklx,
  deny /sys/f[^s]** wklx,
  deny /sys/fs/[^c]** wklx,
  deny /sys/fs/c[^g]** wklx,
  deny /sys/fs/cg[^r]** wklx,
  deny /sys/firmware/** rwklx,
"#;

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seccomp_profile_allows_what_nesting_needs_and_refuses_the_host_wide() {
        let profile = seccomp_profile();
        assert_eq!(profile["defaultAction"], "SCMP_ACT_ALLOW");
        let refused: Vec<&str> = profile["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["args"].is_null())
            .flat_map(|r| r["names"].as_array().unwrap())
            .map(|n| n.as_str().unwrap())
            .collect();
        for needed in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "clone",
            "clone3",
            "pivot_root",
            "keyctl",
            "add_key",
            "bpf",
        ] {
            assert!(!refused.contains(&needed), "{needed} is refused");
        }
        for denied in [
            "init_module",
            "kexec_load",
            "perf_event_open",
            "syslog",
            "open_by_handle_at",
        ] {
            assert!(refused.contains(&denied), "{denied} is allowed");
        }
        // bpf() is refused only by command, never the device filter's.
        let bpf: Vec<u64> = profile["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["names"] == json!(["bpf"]))
            .map(|r| r["args"][0]["value"].as_u64().unwrap())
            .collect();
        for device_filter in [5, 8, 9, 16] {
            assert!(!bpf.contains(&device_filter));
        }
        assert!(bpf.contains(&11) && bpf.contains(&FIRST_UNKNOWN_BPF));
    }

    #[test]
    fn names_follow_the_text() {
        assert!(seccomp_file_name().starts_with("seccomp-nesting-"));
        assert_eq!(
            seccomp_file_name().len(),
            "seccomp-nesting-.json".len() + 12
        );
        assert!(apparmor_text().contains(&format!("profile {} ", apparmor_name())));
        assert!(apparmor_text().contains("deny mount fstype=tracefs,"));
    }
}
