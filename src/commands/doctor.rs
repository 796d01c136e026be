//! `dindbox doctor`: what this host is and allows, and what follows from it.

mod changes;
mod check;
mod matrix;
#[cfg(test)]
mod matrix_tests;
mod render;

use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::plan::{ENGINE_DEFAULT_NOFILE, ImageFacts, install_hint, start_hint, ulimits};
use crate::probe::facts::{
    CgroupLayout, DeviceNode, EngineFacts, HostFacts, SelinuxMode, SubIdRange,
};
use matrix::{Combo, Row};

/// `doctor --json`: the facts (as before, at the top level), the matrix and the changes.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    facts: &'a HostFacts,
    matrix: &'a [Row],
    host_changes: &'a [String],
}

pub fn run(args: DoctorArgs) -> Result<i32> {
    let facts = crate::probe::probe();
    let mut rows = matrix::rows(
        &facts,
        |kind, image| sandbox_image(&facts, kind, image),
        row_name,
    );
    if args.check {
        check::all(&mut rows, &facts)?;
    }
    let changes = changes::host_changes(&facts);
    let text = if args.json {
        let report = Report {
            facts: &facts,
            matrix: &rows,
            host_changes: &changes,
        };
        let json = serde_json::to_string_pretty(&report).map_err(|e| {
            Error::failure("could not write the doctor's report as JSON").cause(e.to_string())
        })?;
        format!("{json}\n")
    } else {
        format!("{}\n{}", report(&facts), render::matrix(&rows, &changes))
    };
    crate::output::print(&text)?;
    Ok(0)
}

/// A name for a row's sandbox: `dindbox-MODE-DATE-TIME-RANDOM-ENGINE[-INNER][-RUNTIME]`.
fn row_name(combo: &Combo) -> String {
    let mut inner = combo.inner.map_or(String::new(), |i| format!("-{i}"));
    if let Some(runtime) = &combo.runtime {
        let safe: String = runtime
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        inner.push_str(&format!("-{safe}"));
    }
    format!(
        "{}-{}{inner}",
        crate::commands::run::default_name(combo.mode),
        combo.engine
    )
}

/// What `run` would find of the sandbox image on an engine.
fn sandbox_image(facts: &HostFacts, kind: EngineKind, image: &str) -> Result<ImageFacts> {
    match facts.engine(kind) {
        Some(e) if e.answers => {
            crate::commands::run::image_facts(&Engine::new(e.kind, &e.binary), image)
        }
        _ => Ok(ImageFacts::default()),
    }
}

/// The readable report: engines, host, notes.
fn report(facts: &HostFacts) -> String {
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

/// Rows of cells, each column padded to its widest cell, indented by two spaces.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            format!("  {}", cells.join("  ")).trim_end().to_string()
        })
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

/// What follows from the facts, one remark each, with the fix where there is one.
fn remarks(f: &HostFacts) -> Vec<String> {
    let mut notes = engine_remarks(&f.engines);
    let answering: Vec<&EngineFacts> = f.engines.iter().filter(|e| e.answers).collect();
    if !answering.is_empty() && answering.iter().all(|e| e.remote) {
        let mut kernels: Vec<&str> = answering
            .iter()
            .filter_map(|e| e.kernel.as_deref())
            .collect();
        kernels.dedup();
        notes.push(format!(
            "the engines run under another kernel ({}), in a VM or on another machine: the host facts above are this machine's and say nothing about theirs; plans use what the engines report",
            kernels.join(", ")
        ));
        return notes;
    }
    notes.extend(cgroup_remarks(f));
    if !f.caps.missing.is_empty() {
        notes.push(format!(
            "the bounding set lacks {}: `--privileged` fails on Docker; dindbox lists capabilities explicitly",
            f.caps.missing.join(", ")
        ));
    }
    if let Some(ul) = ulimits(f) {
        notes.push(format!(
            "the hard limits are nofile={0} nproc={1}, below the {ENGINE_DEFAULT_NOFILE} engines ask for: dindbox passes `--ulimit nofile={0}:{0} --ulimit nproc={1}:{1}`",
            ul.nofile, ul.nproc
        ));
    }
    notes.extend(device_remarks(f));
    notes.extend(userns_remarks(f));
    if !f.filesystems.overlay {
        notes.push("the kernel has no overlay filesystem: engines fall back to the slow vfs storage driver".to_string());
    }
    if f.security.selinux == SelinuxMode::Enforcing {
        notes.push(
            "SELinux enforces: dindbox starts sandboxes with `--security-opt label=disable`"
                .to_string(),
        );
    }
    if let Some(engine) = &f.in_container {
        notes.push(format!(
            "dindbox runs inside a {engine} container: a sandbox can only have what that container was given"
        ));
    }
    notes
}

fn engine_remarks(engines: &[EngineFacts]) -> Vec<String> {
    if engines.is_empty() {
        return vec![format!(
            "no engine CLI on PATH: {}; or {}",
            install_hint(EngineKind::Podman),
            install_hint(EngineKind::Docker)
        )];
    }
    let mut notes = Vec::new();
    if !engines.iter().any(|e| e.answers) {
        notes.push("no engine answers: dindbox cannot start sandboxes until one does".to_string());
    }
    for e in engines {
        if !e.answers {
            notes.push(format!(
                "{} does not answer: {}",
                e.kind,
                start_hint(e.kind)
            ));
        } else if e.remote {
            continue;
        } else if e.live_socket().is_none() && e.kind == EngineKind::Podman {
            notes.push(format!(
                "podman answers but no API socket of it does: sock mode serves one for each sandbox; for a lasting one, {}",
                socket_hint(e)
            ));
        } else if e.live_socket().is_none() {
            notes.push(format!(
                "{} answers but no API socket of it does: sock mode needs one; {}",
                e.kind,
                socket_hint(e)
            ));
        }
    }
    notes
}

/// How to get an engine's API socket going.
fn socket_hint(e: &EngineFacts) -> &'static str {
    match (e.kind, e.rootless) {
        (EngineKind::Podman, false) => {
            "run `systemctl enable --now podman.socket`, or `podman system service --time=0 &` where there is no systemd"
        }
        (EngineKind::Podman, true) => "run `systemctl --user enable --now podman.socket`",
        (EngineKind::Docker, _) => {
            "dockerd listens on /var/run/docker.sock unless told otherwise (`-H`, DOCKER_HOST)"
        }
    }
}

fn cgroup_remarks(f: &HostFacts) -> Vec<String> {
    match f.cgroup.layout {
        CgroupLayout::Hybrid if f.runtime("runc").is_some() => {
            vec!["hybrid cgroups: crun refuses them; dindbox uses runc".to_string()]
        }
        CgroupLayout::Hybrid => {
            vec!["hybrid cgroups: crun refuses them and runc is not installed (`apt-get install runc`)".to_string()]
        }
        CgroupLayout::Unknown => {
            vec![
                "no cgroup hierarchy is mounted at /sys/fs/cgroup: engines cannot start containers"
                    .to_string(),
            ]
        }
        CgroupLayout::V1 | CgroupLayout::V2 => Vec::new(),
    }
}

fn device_remarks(f: &HostFacts) -> Vec<String> {
    let checks = [
        (
            &f.devices.net_tun,
            "/dev/net/tun",
            "tun",
            "rootless Podman networking",
            "or `--network none`",
        ),
        (
            &f.devices.fuse,
            "/dev/fuse",
            "fuse",
            "rootless fuse-overlayfs storage",
            "or the vfs storage driver",
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(node, path, module, who, instead)| match node {
            None => Some(format!(
                "{path} is absent: {who} needs it (`modprobe {module}`) {instead}"
            )),
            Some(d) if d.mode & 0o006 != 0o006 => Some(format!(
                "{path} is {:04o}: {who} needs `chmod 666 {path}` {instead}",
                d.mode
            )),
            Some(_) => None,
        })
        .collect()
}

/// Only a user other than root needs user namespaces of its own.
fn userns_remarks(f: &HostFacts) -> Vec<String> {
    if f.uid == 0 {
        return Vec::new();
    }
    let u = &f.userns;
    let mut notes = Vec::new();
    if u.max_user_namespaces == Some(0) {
        notes.push(
            "user namespaces are off (user.max_user_namespaces=0): rootless engines cannot start"
                .to_string(),
        );
    }
    if u.unprivileged_userns_clone == Some(false) {
        notes.push(
            "kernel.unprivileged_userns_clone=0: rootless engines need `sysctl kernel.unprivileged_userns_clone=1`"
                .to_string(),
        );
    }
    if u.apparmor_restrict_unprivileged_userns == Some(true) {
        notes.push("AppArmor restricts unprivileged user namespaces: rootless engines need their AppArmor profiles (Ubuntu's podman and docker packages ship them)".to_string());
    }
    if u.subuid.is_empty() || u.subgid.is_empty() {
        notes.push("no /etc/subuid or /etc/subgid range: rootless engines need one (`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER`)".to_string());
    }
    if !u.newuidmap || !u.newgidmap {
        notes.push("newuidmap/newgidmap are missing: rootless engines need them (`apt-get install uidmap`)".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::facts::SocketFacts;
    use crate::probe::fixtures::{this_machine, ubuntu};

    #[test]
    fn a_well_set_up_ubuntu_host_has_nothing_to_remark() {
        assert_eq!(remarks(&ubuntu()), Vec::<String>::new());
    }

    #[test]
    fn this_machines_quirks_are_all_remarked() {
        let notes = remarks(&this_machine());
        let has = |needle: &str| notes.iter().any(|n| n.contains(needle));
        assert!(
            has("the bounding set lacks CAP_SYS_RESOURCE: `--privileged` fails on Docker"),
            "{notes:#?}"
        );
        assert!(
            has("hybrid cgroups: crun refuses them; dindbox uses runc"),
            "{notes:#?}"
        );
        assert!(
            has("/dev/net/tun is 0600: rootless Podman networking needs `chmod 666 /dev/net/tun`"),
            "{notes:#?}"
        );
        assert!(has("/dev/fuse is 0600"), "{notes:#?}");
        assert!(has("--ulimit nofile=20000:20000"), "{notes:#?}");
        assert!(has("inside a docker container"), "{notes:#?}");
        // Root needs no user namespaces of its own.
        assert!(!has("subuid"), "{notes:#?}");
    }

    #[test]
    fn a_client_of_a_podman_machine_gets_no_remarks_on_its_own_kernel() {
        let f = crate::probe::fixtures::macos_podman_machine();
        let notes = remarks(&f);
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(
            notes[0].starts_with("the engines run under another kernel (6.12.9-200.fc41.aarch64),"),
            "{notes:#?}"
        );
        assert!(report(&f).contains("  podman  yes      5.3.1    rootless, remote"));
    }

    #[test]
    fn absent_devices_name_their_module() {
        let mut f = ubuntu();
        f.devices.net_tun = None;
        assert_eq!(
            device_remarks(&f),
            vec![
                "/dev/net/tun is absent: rootless Podman networking needs it (`modprobe tun`) or `--network none`"
            ]
        );
    }

    #[test]
    fn hybrid_without_runc_says_to_install_it() {
        let mut f = this_machine();
        f.oci_runtimes.retain(|r| r.name != "runc");
        assert_eq!(
            cgroup_remarks(&f),
            vec![
                "hybrid cgroups: crun refuses them and runc is not installed (`apt-get install runc`)"
            ]
        );
    }

    #[test]
    fn no_engine_on_path_gives_install_hints() {
        let notes = engine_remarks(&[]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("apt-get install podman") && notes[0].contains("docker.io"),
            "{notes:?}"
        );
    }

    #[test]
    fn an_engine_that_does_not_answer_gets_a_start_hint() {
        let mut docker = EngineFacts::new(EngineKind::Docker, "/usr/bin/docker");
        docker.error = Some("Cannot connect to the Docker daemon".into());
        let notes = engine_remarks(&[docker]);
        assert_eq!(
            notes[0],
            "no engine answers: dindbox cannot start sandboxes until one does"
        );
        assert!(
            notes[1].starts_with("docker does not answer: start Docker"),
            "{notes:?}"
        );
    }

    #[test]
    fn an_answering_engine_without_a_live_socket_gets_a_socket_hint() {
        let mut podman = EngineFacts::new(EngineKind::Podman, "/usr/bin/podman");
        podman.answers = true;
        podman.sockets = vec![SocketFacts {
            path: "/run/podman/podman.sock".into(),
            answers: false,
            mode: None,
        }];
        let notes = engine_remarks(&[podman]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("systemctl enable --now podman.socket"),
            "{notes:?}"
        );
    }

    #[test]
    fn a_rootless_user_without_subids_or_uidmap_is_told() {
        let mut f = ubuntu();
        f.uid = 1000;
        f.userns.subgid.clear();
        f.userns.newgidmap = false;
        let notes = userns_remarks(&f);
        assert_eq!(notes.len(), 3, "{notes:#?}");
        assert!(notes[0].starts_with("AppArmor restricts unprivileged user namespaces"));
        assert!(notes[1].contains("usermod --add-subuids"));
        assert!(notes[2].contains("apt-get install uidmap"));
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
