//! The doctor's report of the facts: the engines and the host, as tables.

use comfy_table::{Table, presets};

use crate::probe::facts::{
    CgroupLayout, DeviceNode, EngineFacts, HostFacts, SelinuxMode, SubIdRange,
};

use crate::ops::doctor::advice::remarks;

/// The readable report: engines, host, notes.
pub(crate) fn report(facts: &HostFacts) -> String {
    let mut out = vec!["engines".to_string()];
    out.extend(engine_lines(&facts.engines));
    out.push(String::new());
    out.push("host".to_string());
    out.extend(table(&host_rows(facts)));
    let notes = remarks(facts);
    if !notes.is_empty() {
        out.push(String::new());
        out.push("notes".to_string());
        out.extend(notes.iter().map(|n| format!("  - {n}")));
    }
    out.join("\n") + "\n"
}

/// Rows of cells, each column padded to its widest cell, two spaces apart,
/// indented by two spaces; no borders, nothing wrapped.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let mut t = Table::new();
    // No lines: each cell padded by one space on either side.
    t.load_style(presets::NOTHING);
    t.add_rows(rows.iter().cloned());
    t.lines()
        .map(|l| format!(" {l}").trim_end().to_string())
        .collect()
}

fn engine_lines(engines: &[EngineFacts]) -> Vec<String> {
    if engines.is_empty() {
        return vec!["  no engine CLI on PATH (looked for podman and docker)".to_string()];
    }
    let header = [
        "NAME", "ANSWERS", "VERSION", "MODE", "CGROUPS", "STORAGE", "RUNTIME", "SOCKET",
    ];
    let mut rows = vec![header.map(str::to_string).to_vec()];
    rows.extend(engines.iter().map(engine_row));
    let mut lines = table(&rows);
    for engine in engines.iter().filter(|e| !e.answers) {
        let error = engine
            .error
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or("no error output");
        lines.push(format!(
            "  {} does not answer ({}):",
            engine.kind, engine.binary
        ));
        lines.extend(error.lines().map(|l| format!("    {l}")));
    }
    lines
}

fn engine_row(e: &EngineFacts) -> Vec<String> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    let mode = match (e.answers, e.rootless, e.remote) {
        (false, _, _) => "-",
        (true, true, false) => "rootless",
        (true, false, false) => "rootful",
        (true, true, true) => "rootless, remote",
        (true, false, true) => "rootful, remote",
    };
    let cgroups = [
        e.cgroup_driver.clone(),
        e.cgroup_version.as_ref().map(|v| format!("v{v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let socket = e
        .live_socket()
        .map_or("no socket answers".to_string(), |s| s.path.clone());
    vec![
        e.kind.to_string(),
        yes_no(e.answers).to_string(),
        or_dash(&e.server_version),
        mode.to_string(),
        if cgroups.is_empty() {
            "-".to_string()
        } else {
            cgroups
        },
        or_dash(&e.storage_driver),
        or_dash(&e.default_runtime),
        socket,
    ]
}

fn host_rows(f: &HostFacts) -> Vec<Vec<String>> {
    let row = |key: &str, value: String| vec![key.to_string(), value];
    vec![
        row(
            "kernel",
            if f.kernel.is_empty() {
                "unknown".to_string()
            } else {
                f.kernel.clone()
            },
        ),
        row("uid", f.uid.to_string()),
        row("cgroups", layout_name(f.cgroup.layout).to_string()),
        row("v1 controllers", list_or_none(&f.cgroup.v1_controllers)),
        row("v2 controllers", list_or_none(&f.cgroup.v2_controllers)),
        row("capabilities", capabilities(f)),
        row("user namespaces", user_namespaces(f)),
        row("subuid", subids(&f.userns.subuid)),
        row("subgid", subids(&f.userns.subgid)),
        row("/dev/fuse", device(f.devices.fuse.as_ref())),
        row("/dev/net/tun", device(f.devices.net_tun.as_ref())),
        row("/dev/kvm", device(f.devices.kvm.as_ref())),
        row("SELinux", selinux_name(f.security.selinux).to_string()),
        row("AppArmor", enabled(f.security.apparmor).to_string()),
        row(
            "seccomp",
            (if f.security.seccomp {
                "available"
            } else {
                "not available"
            })
            .to_string(),
        ),
        row("hard nofile", limit(f.limits.nofile_hard)),
        row("hard nproc", limit(f.limits.nproc_hard)),
        row("OCI runtimes", runtimes(f)),
        row(
            "filesystems",
            format!(
                "overlay {}, fuse {}",
                yes_no(f.filesystems.overlay),
                yes_no(f.filesystems.fuse)
            ),
        ),
        row(
            "inside a container",
            f.in_container.clone().unwrap_or_else(|| "no".to_string()),
        ),
        row(
            "default route MTU",
            f.default_route_mtu
                .map_or("unknown".to_string(), |m| m.to_string()),
        ),
        row("DOCKER_HOST", unset_or(f.env.docker_host.as_deref())),
        row("CONTAINER_HOST", unset_or(f.env.container_host.as_deref())),
        row(
            "XDG_RUNTIME_DIR",
            unset_or(f.env.xdg_runtime_dir.as_deref()),
        ),
    ]
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn enabled(b: bool) -> &'static str {
    if b { "enabled" } else { "not enabled" }
}

fn layout_name(layout: CgroupLayout) -> &'static str {
    match layout {
        CgroupLayout::V1 => "v1",
        CgroupLayout::V2 => "v2",
        CgroupLayout::Hybrid => "hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)",
        CgroupLayout::Unknown => "unknown",
    }
}

fn selinux_name(mode: SelinuxMode) -> &'static str {
    match mode {
        SelinuxMode::Absent => "absent",
        SelinuxMode::Disabled => "disabled",
        SelinuxMode::Permissive => "permissive",
        SelinuxMode::Enforcing => "enforcing",
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(" ")
    }
}

fn unset_or(value: Option<&str>) -> String {
    value.unwrap_or("unset").to_string()
}

fn capabilities(f: &HostFacts) -> String {
    let count = format!(
        "{} of {} in the bounding set",
        f.caps.bounding.len(),
        f.caps.last_cap + 1
    );
    if f.caps.missing.is_empty() {
        count
    } else {
        format!("{count}; missing {}", f.caps.missing.join(" "))
    }
}

fn user_namespaces(f: &HostFacts) -> String {
    let u = &f.userns;
    let knob = |v: Option<bool>| v.map_or("n/a", |on| if on { "1" } else { "0" });
    format!(
        "max {}; unprivileged_userns_clone {}; apparmor_restrict_unprivileged_userns {}; newuidmap {}, newgidmap {}",
        u.max_user_namespaces
            .map_or("unknown".to_string(), |m| m.to_string()),
        knob(u.unprivileged_userns_clone),
        knob(u.apparmor_restrict_unprivileged_userns),
        yes_no(u.newuidmap),
        yes_no(u.newgidmap),
    )
}

fn subids(ranges: &[SubIdRange]) -> String {
    let list: Vec<String> = ranges
        .iter()
        .map(|r| format!("{} {}+{}", r.user, r.start, r.count))
        .collect();
    list_or_none(&list)
}

fn device(node: Option<&DeviceNode>) -> String {
    node.map_or("absent".to_string(), |d| {
        format!("{:04o} ({},{})", d.mode, d.major, d.minor)
    })
}

fn limit(hard: Option<u64>) -> String {
    hard.map_or("unlimited".to_string(), |n| n.to_string())
}

fn runtimes(f: &HostFacts) -> String {
    let list: Vec<String> = f
        .oci_runtimes
        .iter()
        .map(|r| format!("{} {}", r.name, r.path))
        .collect();
    if list.is_empty() {
        "none on PATH".to_string()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use crate::probe::fixtures::this_machine;

    #[test]
    fn table_of_short_rows_and_an_empty_cell() {
        let rows = vec![
            vec!["key".to_string(), String::new(), "z".to_string()],
            vec!["k".to_string(), "v".to_string()],
            vec!["k".to_string()],
        ];
        assert_eq!(table(&rows), vec!["  key     z", "  k    v", "  k"]);
    }

    #[test]
    fn table_pads_every_column_but_the_last() {
        let rows = vec![
            vec!["a".to_string(), "long cell".to_string(), "x".to_string()],
            vec!["longer".to_string(), "b".to_string(), "y".to_string()],
        ];
        assert_eq!(
            table(&rows),
            vec!["  a       long cell  x", "  longer  b          y"]
        );
    }

    #[test]
    fn report_shows_engines_devices_and_missing_caps() {
        let text = report(&this_machine());
        assert!(
            text.starts_with("engines\n  NAME    ANSWERS  VERSION"),
            "{text}"
        );
        assert!(
            text.contains("\n  docker  yes      20.10.24+dfsg1"),
            "{text}"
        );
        assert!(text.contains("/dev/net/tun        0600 (10,200)"), "{text}");
        assert!(
            text.contains("40 of 41 in the bounding set; missing CAP_SYS_RESOURCE"),
            "{text}"
        );
        assert!(text.contains("\nnotes\n  - "), "{text}");
    }

    #[test]
    fn report_of_a_silent_engine_shows_its_error() {
        let mut docker = EngineFacts::new(EngineKind::Docker, "/usr/bin/docker");
        docker.error =
            Some("Cannot connect to the Docker daemon\nIs the docker daemon running?".into());
        let lines = engine_lines(&[docker]);
        assert_eq!(
            lines[1],
            "  docker  no       -        -     -        -        -        no socket answers"
        );
        assert_eq!(lines[2], "  docker does not answer (/usr/bin/docker):");
        assert_eq!(lines[4], "    Is the docker daemon running?");
    }
}
