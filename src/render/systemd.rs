//! A systemd unit that keeps a kept sandbox up across reboots, by starting
//! and stopping it through dindbox: the only place its keys are spelled.
//!
//! The unit is shaped as `podman generate systemd` shapes one for a
//! container that exists already (its form without `--new`): the container
//! is made once, by `dindbox run -n NAME`, and the unit only starts and
//! stops it, so that it keeps its inner storage and everything the
//! sandbox's own engine runs. Unlike that form it does not run the engine's
//! CLI itself but `dindbox start` and `dindbox stop`: the wait until the
//! inner engine answers, the Podman API service of a sock sandbox, and the
//! clean stop of the inner engine stay dindbox's.
//!
//! - `Type=oneshot` with `RemainAfterExit=yes`: `dindbox start` returns once
//!   the inner engine answers, so the unit is "active" exactly when commands
//!   can run in the sandbox, and later units ordered after it find it ready.
//!   No `Type=forking` with a PID file: on Docker the sandbox's processes are
//!   dockerd's children, which no unit can track; on Podman, Quadlet (see
//!   `quadlet.rs`) is the form in which systemd tracks the container itself.
//!   So systemd does not see a sandbox that dies on its own, and there is no
//!   `Restart=`.
//! - `Requires=` and `After=` the engine's service: Docker's `docker.service`
//!   (root's, or the user's for rootless Docker), so that the sandbox is
//!   stopped before dockerd at shutdown, and stopped and started again with
//!   it when dockerd restarts (which stops its containers). Podman has no
//!   daemon; a sock sandbox that mounts Podman's API socket wants
//!   `podman.socket` (`Wants=`, as the socket may come from elsewhere).
//! - A system unit for a rootful engine (`WantedBy=multi-user.target`), a
//!   user unit for a rootless one (`WantedBy=default.target`; the user's
//!   manager starts at boot only with `loginctl enable-linger USER`).
//!   System units order after `network-online.target` as `podman generate
//!   systemd` does (nested containers pull and publish); a user's manager
//!   has no such target.
//! - `RequiresMountsFor=` the host paths the sandbox mounts (the workspace,
//!   the user's mounts) and the dindbox binary, which is its init: where one
//!   is on a file system of its own, the unit waits for it.
//! - `TimeoutStartSec=`: the start is bounded by the inner engine's timeout
//!   and a margin (a oneshot unit has no start timeout by default).
//! - `--engine` pinned: at boot, dindbox asks only the engine the sandbox is
//!   on. A system unit gets `HOME` (systemd sets none for root's units), so
//!   that dindbox finds its cache where it was when the sandbox was made;
//!   and `PATH` when the engine's CLI is outside systemd's default one.

use std::path::{Path, PathBuf};

use crate::engine::EngineKind;

/// systemd's default `PATH` for the units of its managers.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Seconds on top of the inner engine's own timeout: the engine starting the
/// container (and a sock sandbox's API service), the init's set-up, and the
/// wait's own margin.
const START_MARGIN_SECS: u64 = 90;

/// What the unit is made from: facts about one kept sandbox and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The sandbox's name.
    pub name: String,
    /// Its mode, as its label says (for the description).
    pub mode: String,
    pub engine: EngineKind,
    /// The engine runs as the user (rootless Podman or Docker): a unit of
    /// the user's own manager.
    pub rootless: bool,
    /// The dindbox binary the unit runs (absolute).
    pub dindbox: PathBuf,
    /// The engine's CLI, as dindbox found it.
    pub engine_binary: PathBuf,
    /// The sandbox mounts Podman's API socket, which `podman.socket` serves.
    pub podman_socket: bool,
    /// How long the inner engine may take to answer, in milliseconds.
    pub ready_timeout_ms: u64,
    /// Host paths the sandbox mounts (the workspace first).
    pub paths: Vec<String>,
    /// `HOME` for a system unit, as it was when the sandbox was made.
    pub home: Option<PathBuf>,
}

/// How a system or user unit is installed and started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

impl Scope {
    pub fn of(rootless: bool) -> Self {
        if rootless { Scope::User } else { Scope::System }
    }

    /// `systemctl`, or `systemctl --user`.
    pub fn systemctl(self) -> &'static str {
        match self {
            Scope::System => "systemctl",
            Scope::User => "systemctl --user",
        }
    }

    /// The target that pulls the unit in at boot.
    pub fn wanted_by(self) -> &'static str {
        match self {
            Scope::System => "multi-user.target",
            Scope::User => "default.target",
        }
    }

    /// Where a unit file of this scope is installed.
    pub fn unit_dir(self) -> &'static str {
        match self {
            Scope::System => "/etc/systemd/system",
            Scope::User => "~/.config/systemd/user",
        }
    }
}

/// The unit's name for sandbox `name` (Quadlet's `.container` file gets the
/// same stem, so both forms are `dindbox-NAME.service`).
pub fn unit_name(name: &str) -> String {
    format!("dindbox-{name}.service")
}

/// The unit file's text.
pub fn unit(u: &Unit) -> String {
    let scope = Scope::of(u.rootless);
    let file = unit_name(&u.name);
    let mut out = Section::default();
    out.comment(&format!(
        "{file}: keeps the dindbox sandbox {} up across reboots, starting and stopping it through dindbox.",
        u.name
    ));
    let (dir, systemctl) = (scope.unit_dir(), scope.systemctl());
    out.comment(&format!(
        "Install it in {dir}, then: {systemctl} daemon-reload && {systemctl} enable --now {file}"
    ));
    out.unit_section(scope, &u.name, &u.mode);
    match u.engine {
        EngineKind::Docker => {
            out.comment(
                "dockerd runs the sandbox: it starts after dockerd, stops before it, and restarts with it",
            );
            out.key("Requires", "docker.service");
            out.key("After", "docker.service");
        }
        EngineKind::Podman if u.podman_socket => {
            out.comment("the sandbox mounts Podman's API socket");
            out.key("Wants", "podman.socket");
            out.key("After", "podman.socket");
        }
        EngineKind::Podman => {}
    }
    if scope == Scope::System {
        out.comment("nested containers pull images and publish ports");
        out.key("Wants", "network-online.target");
        out.key("After", "network-online.target");
    }
    let mut paths: Vec<String> = u.paths.clone();
    paths.push(u.dindbox.display().to_string());
    out.requires_mounts_for(&paths);

    out.section("Service");
    out.comment("dindbox start returns once the inner engine answers");
    out.key("Type", "oneshot");
    out.key("RemainAfterExit", "yes");
    if let (Scope::System, Some(home)) = (scope, &u.home) {
        out.key("Environment", &word(&format!("HOME={}", home.display())));
    }
    if let Some(dir) = u.engine_binary.parent().filter(|d| !on_default_path(d)) {
        out.key(
            "Environment",
            &word(&format!("PATH={}:{DEFAULT_PATH}", dir.display())),
        );
    }
    let dindbox = word(&u.dindbox.display().to_string());
    let engine = u.engine.name();
    out.key(
        "ExecStart",
        &format!("{dindbox} start --engine {engine} {}", u.name),
    );
    out.comment("the inner engine shuts down cleanly first (nested containers get 5 s)");
    out.key(
        "ExecStop",
        &format!("{dindbox} stop --engine {engine} {}", u.name),
    );
    out.key(
        "TimeoutStartSec",
        &(u.ready_timeout_ms.div_ceil(1000) + START_MARGIN_SECS).to_string(),
    );

    out.section("Install");
    out.key("WantedBy", scope.wanted_by());
    out.text
}

fn on_default_path(dir: &Path) -> bool {
    DEFAULT_PATH.split(':').any(|d| Path::new(d) == dir)
}

/// A unit file, line by line.
#[derive(Default)]
pub(super) struct Section {
    pub text: String,
}

impl Section {
    pub fn section(&mut self, name: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&format!("[{name}]\n"));
    }

    /// A comment line (a reason, or how to install the file).
    pub fn comment(&mut self, text: &str) {
        self.text
            .push_str(&format!("# {}\n", text.replace('\n', " ")));
    }

    pub fn key(&mut self, key: &str, value: &str) {
        self.text.push_str(&format!("{key}={value}\n"));
    }

    /// After the file's header: how a user unit starts at boot, and the
    /// `[Unit]` section with the sandbox's description.
    pub fn unit_section(&mut self, scope: Scope, name: &str, mode: &str) {
        if scope == Scope::User {
            self.comment("The user's units start at boot only while the user lingers: loginctl enable-linger $USER");
        }
        self.section("Unit");
        self.key("Description", &format!("dindbox sandbox {name} ({mode})"));
    }

    /// `RequiresMountsFor=` the host paths the sandbox mounts and its init
    /// (those a unit file's list can carry: absolute, without blanks or quotes).
    pub fn requires_mounts_for(&mut self, paths: &[String]) {
        let paths: Vec<String> = paths
            .iter()
            .filter(|p| p.starts_with('/') && !p.contains(char::is_whitespace) && !p.contains('"'))
            .map(|p| specifiers(p))
            .collect();
        if !paths.is_empty() {
            self.comment("the sandbox's workspace and mounts, and dindbox, its init");
            self.key("RequiresMountsFor", &paths.join(" "));
        }
    }
}

/// `%` as systemd's unit files write it literally (`%%`); and `$`, which
/// systemd expands in command lines (`$$`).
pub(super) fn specifiers(s: &str) -> String {
    s.replace('%', "%%").replace('$', "$$")
}

/// One word of a command line or a `KEY=VALUE` of a unit file: as it is
/// when it needs no quoting, else in double quotes with `\` and `"` escaped.
pub(super) fn word(s: &str) -> String {
    let s = specifiers(s);
    let plain = !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'\\;".contains(c));
    if plain {
        return s;
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Several words, each quoted as it needs.
pub(super) fn words<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A kept dind sandbox `work` on rootful Docker, made in /home/u/project.
    pub(crate) fn docker_unit() -> Unit {
        Unit {
            name: "work".into(),
            mode: "dind".into(),
            engine: EngineKind::Docker,
            rootless: false,
            dindbox: "/usr/local/bin/dindbox".into(),
            engine_binary: "/usr/bin/docker".into(),
            podman_socket: false,
            ready_timeout_ms: 60_000,
            paths: vec!["/home/u/project".into(), "/srv/data".into()],
            home: Some("/root".into()),
        }
    }

    /// A kept sock sandbox `api` on rootless Podman, with the user's podman.socket.
    pub(crate) fn rootless_podman_unit() -> Unit {
        Unit {
            name: "api".into(),
            mode: "sock".into(),
            engine: EngineKind::Podman,
            rootless: true,
            dindbox: "/home/u/bin/dindbox".into(),
            engine_binary: "/opt/podman/bin/podman".into(),
            podman_socket: true,
            ready_timeout_ms: 1500,
            paths: vec!["/home/u/project".into()],
            home: Some("/home/u".into()),
        }
    }

    #[test]
    fn a_rootful_docker_sandbox_is_a_system_unit_bound_to_dockerd() {
        let text = unit(&docker_unit());
        for line in [
            "Requires=docker.service",
            "After=docker.service",
            "After=network-online.target",
            "Type=oneshot",
            "RemainAfterExit=yes",
            "ExecStart=/usr/local/bin/dindbox start --engine docker work",
            "ExecStop=/usr/local/bin/dindbox stop --engine docker work",
            "Environment=HOME=/root",
            "RequiresMountsFor=/home/u/project /srv/data /usr/local/bin/dindbox",
            "TimeoutStartSec=150",
            "WantedBy=multi-user.target",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        assert!(!text.contains("PATH="), "docker is on systemd's PATH");
        insta::assert_snapshot!("unit-docker-rootful", text);
    }

    #[test]
    fn a_rootless_podman_sandbox_is_a_user_unit_that_wants_the_users_socket() {
        let text = unit(&rootless_podman_unit());
        for line in [
            "Wants=podman.socket",
            "After=podman.socket",
            "WantedBy=default.target",
            "Environment=PATH=/opt/podman/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ExecStart=/home/u/bin/dindbox start --engine podman api",
            "TimeoutStartSec=92",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        assert!(text.contains("loginctl enable-linger"), "{text}");
        assert!(text.contains("systemctl --user daemon-reload"), "{text}");
        for absent in ["docker.service", "network-online", "HOME="] {
            assert!(!text.contains(absent), "{absent} in a user unit:\n{text}");
        }
        insta::assert_snapshot!("unit-podman-rootless", text);
    }

    #[test]
    fn a_podman_sandbox_without_the_socket_depends_on_no_unit() {
        let u = Unit {
            podman_socket: false,
            rootless: false,
            engine_binary: "/usr/bin/podman".into(),
            ..rootless_podman_unit()
        };
        let text = unit(&u);
        assert!(!text.contains("podman.socket"), "{text}");
        assert!(!text.contains("Requires="), "{text}");
        assert!(text.contains("WantedBy=multi-user.target"), "{text}");
    }

    #[test]
    fn paths_are_quoted_and_specifiers_escaped() {
        assert_eq!(word("/usr/bin/dindbox"), "/usr/bin/dindbox");
        assert_eq!(word("/opt/my tools/dindbox"), "\"/opt/my tools/dindbox\"");
        assert_eq!(word("100%"), "100%%");
        assert_eq!(word("$HOME"), "$$HOME");
        assert_eq!(word(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
        assert_eq!(word(""), "\"\"");
        let u = Unit {
            dindbox: "/opt/my tools/dindbox".into(),
            paths: vec!["/home/u/with space".into(), "/home/u/50%".into()],
            ..docker_unit()
        };
        let text = unit(&u);
        assert!(
            text.contains("ExecStart=\"/opt/my tools/dindbox\" start --engine docker work"),
            "{text}"
        );
        assert!(text.contains("RequiresMountsFor=/home/u/50%%\n"), "{text}");
    }

    /// `systemd-analyze verify` takes both units (each with ExecStart= on an
    /// executable that exists, and its dependencies perhaps missing here).
    #[test]
    fn systemd_analyze_verifies_the_units() {
        let Ok(analyze) = which::which("systemd-analyze") else {
            eprintln!("systemd-analyze is not on PATH: not verified");
            return;
        };
        let t = tempfile::tempdir().unwrap();
        for u in [docker_unit(), rootless_podman_unit()] {
            let u = Unit {
                dindbox: "/bin/true".into(),
                paths: vec!["/".into()],
                ..u
            };
            let path = t.path().join(unit_name(&u.name));
            std::fs::write(&path, unit(&u)).unwrap();
            let out = std::process::Command::new(&analyze)
                .arg("verify")
                .arg(&path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{}:\n{stderr}", path.display());
            assert!(
                !stderr.contains(&unit_name(&u.name)),
                "systemd-analyze has remarks on {}:\n{stderr}",
                path.display()
            );
        }
    }
}
