//! Docker: how its CLI spells what differs from the other engine's.

/// The capabilities `docker run` grants by default (moby `oci/caps/defaults.go`).
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// How the Docker CLI spells what differs from Podman's.
pub const SPELLING: super::Spelling = super::Spelling {
    info_format: "{{json .}}",
    default_caps: DEFAULT_CAPS,
    cp_keep_owners: &["--archive"],
    save_docker_archive: &[],
};

/// Capabilities Docker's daemon knows only from 23.0 on; an older one
/// rejects them by name (`invalid CapAdd: unknown capability`).
const CAPS_SINCE_23: &[&str] = &["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"];

/// Whether a Docker daemon of `server_version` accepts `cap` by name. An
/// unknown version is taken as old: leaving out a rare capability beats failing.
pub fn knows_cap(server_version: Option<&str>, cap: &str) -> bool {
    super::major_version(server_version) >= 23 || !CAPS_SINCE_23.contains(&cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_daemons_do_not_know_the_newest_capabilities() {
        assert!(!knows_cap(Some("20.10.24+dfsg1"), "CAP_BPF"));
        assert!(knows_cap(Some("20.10.24+dfsg1"), "CAP_SYS_ADMIN"));
        assert!(knows_cap(Some("28.0.4"), "CAP_CHECKPOINT_RESTORE"));
        assert!(!knows_cap(None, "CAP_PERFMON"));
    }
}
