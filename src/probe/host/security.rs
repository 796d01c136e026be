//! Security modules: SELinux's mode, AppArmor, seccomp.

use std::path::Path;

use super::{read, status_field};
use crate::probe::facts::{SecurityFacts, SelinuxMode};

pub(super) fn security(
    status: &str,
    proc: &Path,
    sys: &Path,
    etc: &Path,
    root: &Path,
) -> SecurityFacts {
    SecurityFacts {
        selinux: selinux_mode(
            read(&sys.join("fs/selinux/enforce")).as_deref(),
            read(&etc.join("selinux/config")).as_deref(),
        ),
        apparmor: read(&sys.join("module/apparmor/parameters/enabled"))
            .is_some_and(|t| t.starts_with('Y')),
        seccomp: status_field(status, "Seccomp").is_some(),
        dmesg_restrict: read(&proc.join("sys/kernel/dmesg_restrict")).and_then(|t| {
            match t.trim() {
                "0" => Some(false),
                "" => None,
                _ => Some(true),
            }
        }),
        unprivileged_bpf_disabled: read(&proc.join("sys/kernel/unprivileged_bpf_disabled"))
            .and_then(|t| t.trim().parse().ok()),
        apparmor_loaded: read(&sys.join("kernel/security/apparmor/profiles"))
            .map(|t| dindbox_profiles(&t)),
        apparmor_parser: ["usr/sbin/apparmor_parser", "sbin/apparmor_parser"]
            .iter()
            .any(|p| root.join(p).exists()),
    }
}

/// dindbox's profiles among the loaded ones (`NAME (MODE)` a line).
pub fn dindbox_profiles(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|name| name.starts_with("dindbox-"))
        .map(String::from)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::tree;

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
        let (_dir, roots) = tree(&[
            ("sys/module/apparmor/parameters/enabled", "Y\n"),
            ("proc/sys/kernel/dmesg_restrict", "0\n"),
            ("proc/sys/kernel/unprivileged_bpf_disabled", "2\n"),
            (
                "sys/kernel/security/apparmor/profiles",
                "docker-default (enforce)\ndindbox-nesting-0123 (enforce)\n",
            ),
            ("root/usr/sbin/apparmor_parser", ""),
        ]);
        let facts = security(
            "Seccomp:\t0\nSeccomp_filters:\t0\n",
            &roots.proc,
            &roots.sys,
            &roots.etc,
            &roots.root,
        );
        assert!(facts.apparmor);
        assert!(facts.seccomp);
        assert_eq!(facts.selinux, SelinuxMode::Absent);
        assert_eq!(facts.dmesg_restrict, Some(false));
        assert_eq!(facts.unprivileged_bpf_disabled, Some(2));
        assert_eq!(
            facts.apparmor_loaded,
            Some(vec!["dindbox-nesting-0123".into()])
        );
        assert!(facts.apparmor_parser);
        let (_dir, roots) = tree(&[("sys/module/apparmor/parameters/enabled", "N\n")]);
        let facts = security(
            "Name:\tsh\n",
            &roots.proc,
            &roots.sys,
            &roots.etc,
            &roots.root,
        );
        assert!(!facts.apparmor);
        assert!(!facts.seccomp);
        assert_eq!(facts.dmesg_restrict, None, "not known");
    }
}
