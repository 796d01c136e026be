//! The capability bounding set: the names set, and the known ones missing.

use std::path::Path;

use super::{read, status_field};
use crate::probe::facts::CapFacts;

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

pub(super) fn caps(status: &str, proc: &Path) -> CapFacts {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::{strings, tree};

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
}
