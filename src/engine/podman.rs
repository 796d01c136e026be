//! Podman: how its CLI spells what differs from the other engine's.

/// The capabilities `podman run` grants by default (containers.conf `default_capabilities`).
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// How the Podman CLI spells what differs from Docker's.
pub const SPELLING: super::Spelling = super::Spelling {
    info_format: "json",
    default_caps: DEFAULT_CAPS,
    // Podman keeps owners by default.
    cp_keep_owners: &[],
    save_docker_archive: &["--format", "docker-archive"],
};

/// The variable that gives Podman an extra containers.conf: from 4.4 on one
/// that is read on top of the usual files; before, one that replaces them.
pub fn config_env(server_version: Option<&str>) -> &'static str {
    let mut parts = server_version
        .unwrap_or("0")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (4, 4) {
        "CONTAINERS_CONF_OVERRIDE"
    } else {
        "CONTAINERS_CONF"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_configuration_adds_on_top_where_podman_can() {
        assert_eq!(config_env(Some("4.3.1")), "CONTAINERS_CONF");
        assert_eq!(config_env(Some("4.4.0")), "CONTAINERS_CONF_OVERRIDE");
        assert_eq!(config_env(Some("5.7.1")), "CONTAINERS_CONF_OVERRIDE");
        assert_eq!(config_env(None), "CONTAINERS_CONF");
    }
}
