//! User namespaces: the kernel's knobs, subordinate ids, and the uid-map helpers.

use std::path::Path;

use super::read;
use crate::probe::facts::{SubIdRange, UsernsFacts};

pub(super) fn userns(
    proc: &Path,
    etc: &Path,
    find: impl Fn(&str) -> Option<String>,
) -> UsernsFacts {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::tree;

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
}
