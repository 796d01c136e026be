//! Hard resource limits, the OCI runtimes and network helpers on PATH, and
//! the kernel's filesystems.

use crate::probe::facts::{FsFacts, LimitFacts, OciRuntime};

/// OCI runtimes worth knowing about, looked up on PATH.
const OCI_RUNTIMES: &[&str] = &[
    "runc",
    "crun",
    "runsc",
    "kata-runtime",
    "sysbox-runc",
    "runcvm",
];

pub(super) fn limits(text: &str, pid_max: Option<&str>) -> LimitFacts {
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

pub(super) fn oci_runtimes(find: impl Fn(&str) -> Option<String>) -> Vec<OciRuntime> {
    found(OCI_RUNTIMES, find)
}

/// User-space network helpers an engine may use.
pub(super) const NETWORK_HELPERS: &[&str] = &["slirp4netns", "pasta"];

/// Those of `names` that are on PATH, with their paths.
pub(super) fn found(names: &[&str], find: impl Fn(&str) -> Option<String>) -> Vec<OciRuntime> {
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
pub(super) fn filesystems(text: &str) -> FsFacts {
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    FsFacts {
        overlay: names.contains(&"overlay"),
        fuse: names.contains(&"fuse"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
