//! What the sandbox image is made of. Both build paths (registry and offline
//! bootstrap) use this one recipe, and its digest decides whether a build is needed.

use sha2::{Digest, Sha256};

/// Debian release the image is built from.
pub const SUITE: &str = "bookworm";
/// The base image the registry path starts from.
pub const BASE_IMAGE: &str = "docker.io/library/debian:bookworm-slim";

/// Packages on top of the base system, and why.
pub const PACKAGES: &[&str] = &[
    "podman",                      // inner engine
    "docker.io",                   // inner engine: dockerd, containerd, docker CLI
    "runc",                        // runtime for cgroup v1 and hybrid hosts
    "crun",                        // runtime for cgroup v2 hosts
    "fuse-overlayfs",              // storage fallback where native overlay cannot nest
    "iptables",                    // inner bridges and port publishing (nft and legacy)
    "uidmap",                      // newuidmap/newgidmap for rootless users inside
    "slirp4netns",                 // rootless networking inside
    "containernetworking-plugins", // Podman's bridge networking
    "netavark",                    // Podman's network backend, as on the host
    "aardvark-dns",                // names of nested Podman containers on a network
    "iproute2",                    // `ip`, which nested networking is debugged with
    "catatonit",                   // `podman run --init` inside
    "git",
    "curl",
    "ca-certificates",
    "bash",
    "procps",
];

/// Inner engines' configuration, chosen for nesting. Settings that depend on
/// the host (runtime, limits) are added at start by dindbox init.
pub const FILES: &[(&str, &str)] = &[
    ("etc/containers/storage.conf", STORAGE_CONF),
    ("etc/containers/containers.conf", CONTAINERS_CONF),
    ("etc/docker/daemon.json", DAEMON_JSON),
];

const STORAGE_CONF: &str = r#"# dindbox: Podman's storage inside a sandbox. /var/lib/containers is a volume
# of its own, so native overlay works (overlay cannot stack on the sandbox's root).
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"

[storage.options.overlay]
mountopt = "nodev"
"#;

const CONTAINERS_CONF: &str = r#"# dindbox: Podman inside a sandbox. There is no systemd and no journald here.
[containers]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"#;

const DAEMON_JSON: &str = r#"{
  "storage-driver": "overlay2",
  "log-driver": "json-file"
}
"#;

/// Environment and metadata the image carries.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Bump when the way the recipe is applied changes without the lists changing.
const RECIPE_REVISION: u32 = 1;

/// A digest of everything that goes into the image.
pub fn digest() -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "revision {RECIPE_REVISION}\nsuite {SUITE}\nbase {BASE_IMAGE}\n"
    ));
    for p in PACKAGES {
        h.update(format!("package {p}\n"));
    }
    for (path, content) in FILES {
        h.update(format!("file {path} {}\n", content.len()));
        h.update(content);
    }
    hex::encode(h.finalize())
}

/// The Containerfile of the registry path.
pub fn containerfile(labels: &[(String, String)]) -> String {
    let mut text = format!(
        "FROM {BASE_IMAGE}\n\
         RUN apt-get update \\\n \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} \\\n \
         && apt-get clean && rm -rf /var/lib/apt/lists/*\n",
        PACKAGES.join(" ")
    );
    for (path, _) in FILES {
        text.push_str(&format!("COPY {path} /{path}\n"));
    }
    text.push_str(&format!("ENV PATH={PATH}\n"));
    for (k, v) in labels {
        text.push_str(&format!("LABEL {k}={v:?}\n"));
    }
    text.push_str("CMD [\"/bin/bash\"]\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_and_hex() {
        assert_eq!(digest(), digest());
        assert_eq!(digest().len(), 64);
    }

    #[test]
    fn configs_are_valid() {
        let daemon: serde_json::Value = serde_json::from_str(DAEMON_JSON).unwrap();
        assert_eq!(daemon["storage-driver"], "overlay2");
        assert!(STORAGE_CONF.contains("graphroot = \"/var/lib/containers/storage\""));
    }

    #[test]
    fn containerfile_installs_every_package_and_file() {
        let text = containerfile(&[("io.dindbox.recipe".into(), "abc".into())]);
        assert!(text.starts_with("FROM docker.io/library/debian:bookworm-slim\n"));
        for p in PACKAGES {
            assert!(
                text.contains(&format!(" {p} ")) || text.contains(&format!(" {p}\\")),
                "{p} missing:\n{text}"
            );
        }
        assert!(text.contains("COPY etc/docker/daemon.json /etc/docker/daemon.json\n"));
        assert!(text.contains("LABEL io.dindbox.recipe=\"abc\"\n"));
    }
}
