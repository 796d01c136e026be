//! Start the sandbox's own engine, wait until it answers, load the preloaded images.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::engine::EngineKind;
use crate::engine::socket;
use crate::plan::inner::{InnerEngineSpec, LOG_DIR, PRELOAD_DIR, Ulimits};
use crate::probe::host::{default_route_iface, default_route_mtu};
use crate::process::{Cmd, tail};

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(10);
/// How many lines of the engine's log a failure shows.
const LOG_TAIL: usize = 25;

pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const CONTAINERS_CONF_DROPIN: &str = "/etc/containers/containers.conf.d/50-dindbox.conf";
pub const STORAGE_CONF: &str = "/etc/containers/storage.conf";

/// Why the inner engine did not come up, and the log that tells more.
#[derive(Debug)]
pub struct StartError {
    pub reason: String,
    pub log: Option<PathBuf>,
}

impl StartError {
    pub fn new(reason: impl Into<String>, log: Option<&Path>) -> Self {
        StartError {
            reason: reason.into(),
            log: log.map(Path::to_path_buf),
        }
    }

    /// The reason followed by the tail of the log.
    pub fn report(&self, kind: EngineKind) -> String {
        let mut text = format!("dindbox: the inner {kind} did not start: {}", self.reason);
        if let Some(log) = &self.log {
            let content = std::fs::read_to_string(log).unwrap_or_default();
            let last = tail(&content, LOG_TAIL);
            if !last.is_empty() {
                text.push_str(&format!(
                    "\n--- last lines of {} ---\n{last}",
                    log.display()
                ));
            }
        }
        text
    }
}

/// A started engine: dockerd runs as a child; Podman has no daemon.
pub struct Running {
    pub daemon: Option<Child>,
}

/// Runtime state an engine keeps under /run, which a boot of a real machine
/// empties. A kept sandbox's /run survives `stop` and `start`; what is left
/// there from the last run (pid files, sockets, mount counts) would make the
/// engine believe it is still running.
const STALE_RUN_STATE: [&str; 7] = [
    "/run/docker.pid",
    "/run/docker",
    "/run/containerd",
    "/run/libpod",
    "/run/containers",
    "/run/runc",
    "/run/crun",
];

/// The init is the first process of this boot: no engine can be running yet.
fn clear_stale_run_state() {
    for path in STALE_RUN_STATE {
        let path = Path::new(path);
        let _ = match path.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => Ok(()),
        };
    }
}

/// Start the engine, stepping down from the planned set-up until nested
/// containers run (see `init/stepdown.rs`).
pub fn start(spec: &InnerEngineSpec) -> Result<Running, StartError> {
    clear_stale_run_state();
    super::stepdown::start(spec)
}

/// One attempt with one set-up: the engine started, answering, and its
/// preloaded images loaded. On failure, a started daemon is returned too, to
/// be stopped before the next attempt.
pub fn start_once(spec: &InnerEngineSpec) -> Result<Running, (StartError, Option<Child>)> {
    let running = match spec.kind {
        EngineKind::Docker => start_dockerd(spec).map_err(|e| (e, None))?,
        EngineKind::Podman => configure_podman(spec).map_err(|e| (e, None))?,
    };
    crate::trace::mark("engine started");
    if let Err(e) = preload(spec) {
        return Err((e, running.daemon));
    }
    crate::trace::mark("images preloaded");
    Ok(running)
}

/// Run the canary once: the proof that nested containers run. Ok(false)
/// when the canary is not in the inner store (nothing to prove it with).
pub fn run_canary(spec: &InnerEngineSpec, image: &str) -> Result<bool, StartError> {
    let log = log_path(&format!("{}.log", spec.kind))?;
    let limit = Duration::from_millis(spec.ready_timeout_ms);
    let inspect = ["image", "inspect", "--format", "{{.Id}}", image];
    if within(spec.kind, &inspect, &log, limit).is_err() {
        return Ok(false);
    }
    let mut args = vec!["run", "--rm"];
    if spec.kind == EngineKind::Podman {
        args.push("--pull=never");
    }
    args.extend([image, "true"]);
    within(spec.kind, &args, &log, limit)?;
    crate::trace::mark("the canary ran");
    Ok(true)
}

fn find(binary: &str) -> Result<PathBuf, StartError> {
    which::which(binary).map_err(|_| {
        StartError::new(
            format!("this image has no `{binary}`: use an image with it installed (`dindbox image build` makes one), or another --inner engine"),
            None,
        )
    })
}

fn log_path(name: &str) -> Result<PathBuf, StartError> {
    std::fs::create_dir_all(LOG_DIR)
        .map_err(|e| StartError::new(format!("could not create {LOG_DIR}: {e}"), None))?;
    Ok(Path::new(LOG_DIR).join(name))
}

/// The iptables backend for the sandbox's own network namespace: legacy where
/// the kernel's ip_tables is active already (loaded or built in, which
/// /proc/net/ip_tables_names shows), as nothing else holds rules in this
/// namespace and legacy rules are set up faster; else nft. Never probed by
/// running `iptables-legacy`, which would try to load the module.
pub fn iptables_backend(ip_tables_names: Option<&str>) -> &'static str {
    if ip_tables_names.is_some() {
        "legacy"
    } else {
        "nft"
    }
}

fn select_iptables() -> String {
    let names = std::fs::read_to_string("/proc/net/ip_tables_names").ok();
    let backend = iptables_backend(names.as_deref());
    for tool in ["iptables", "ip6tables"] {
        let target = format!("/usr/sbin/{tool}-{backend}");
        let current = std::fs::read_link(format!("/etc/alternatives/{tool}")).ok();
        if Path::new(&target).exists() && current.as_deref() != Some(Path::new(&target)) {
            // Where update-alternatives is missing the image's default stays: not fatal.
            let _ = Cmd::new("update-alternatives")
                .args(["--set", tool, &target])
                .output();
        }
    }
    backend.to_string()
}

pub fn dockerd_args(spec: &InnerEngineSpec, mtu: Option<u32>) -> Vec<String> {
    let mut args = vec![
        format!("--host=unix://{DOCKER_SOCKET}"),
        "--data-root=/var/lib/docker".to_string(),
        "--exec-opt=native.cgroupdriver=cgroupfs".to_string(),
        format!("--default-runtime={}", spec.runtime),
    ];
    if spec.runtime != "runc" {
        // dockerd knows runc by itself; any other runtime is named to it.
        args.push(format!("--add-runtime={0}={0}", spec.runtime));
    }
    if let Some(Ulimits { nofile, nproc }) = spec.ulimits {
        args.push(format!("--default-ulimit=nofile={nofile}:{nofile}"));
        args.push(format!("--default-ulimit=nproc={nproc}:{nproc}"));
    }
    if let Some(mtu) = mtu {
        args.push(format!("--mtu={mtu}"));
    }
    if !spec.engine_firewall {
        args.push("--iptables=false".to_string());
    }
    // Nested containers get 5 s to stop, so that dockerd is down within the
    // init's grace period when the sandbox is stopped.
    args.push("--shutdown-timeout=5".to_string());
    args
}

/// Nested containers' traffic leaves through the sandbox's uplink under the
/// sandbox's address: the one rule dockerd would otherwise add among dozens.
fn masquerade() -> Result<(), StartError> {
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let Some(iface) = default_route_iface(&route) else {
        return Ok(()); // no default route: nothing to reach outside anyway
    };
    Cmd::new("iptables")
        .args([
            "-t",
            "nat",
            "-A",
            "POSTROUTING",
            "-o",
            &iface,
            "-j",
            "MASQUERADE",
        ])
        .run()
        .map(|_| ())
        .map_err(|e| {
            StartError::new(
                format!("could not set up NAT for nested containers: {e}"),
                None,
            )
        })
}

fn start_dockerd(spec: &InnerEngineSpec) -> Result<Running, StartError> {
    let dockerd = find("dockerd")?;
    let log = log_path("dockerd.log")?;
    let backend = select_iptables();
    if !spec.engine_firewall {
        masquerade()?;
    }
    crate::trace::mark("iptables backend chosen");
    let args = dockerd_args(
        spec,
        default_route_mtu(Path::new("/proc"), Path::new("/sys")),
    );
    let file = std::fs::File::create(&log)
        .map_err(|e| StartError::new(format!("could not create {}: {e}", log.display()), None))?;
    let err = file
        .try_clone()
        .map_err(|e| StartError::new(e.to_string(), None))?;
    use std::io::Write;
    let _ = writeln!(
        &file,
        "dindbox: iptables backend {backend}; dockerd {}",
        args.join(" ")
    );
    let mut child = Command::new(dockerd)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| StartError::new(format!("could not start dockerd: {e}"), Some(&log)))?;
    let deadline = Instant::now() + Duration::from_millis(spec.ready_timeout_ms);
    loop {
        if socket::ping(Path::new(DOCKER_SOCKET), Duration::from_millis(500)) {
            crate::trace::mark("dockerd answers");
            return Ok(Running {
                daemon: Some(child),
            });
        }
        match child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => {
                return Err(StartError::new(
                    format!("dockerd exited ({})", describe(status)),
                    Some(&log),
                ));
            }
            Err(e) => return Err(StartError::new(format!("lost dockerd: {e}"), Some(&log))),
        }
        if Instant::now() >= deadline {
            return Err(StartError::new(
                format!(
                    "dockerd did not answer on {DOCKER_SOCKET} within {} ms",
                    spec.ready_timeout_ms
                ),
                Some(&log),
            ));
        }
        std::thread::sleep(POLL);
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// containers.conf settings that depend on the host: the runtime and the limits.
pub fn podman_dropin(spec: &InnerEngineSpec) -> String {
    let mut text = String::from("# Written by dindbox init at sandbox start.\n[containers]\n");
    if let Some(Ulimits { nofile, nproc }) = spec.ulimits {
        text.push_str(&format!(
            "default_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n"
        ));
    }
    if spec.cgroups_disabled {
        text.push_str("cgroups = \"disabled\"\n");
    }
    if spec.nested_host_network {
        text.push_str("netns = \"host\"\n");
    }
    text.push_str(&format!(
        "\n[engine]\nruntime = \"{}\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        spec.runtime
    ));
    text
}

/// Where the kernel has ip_tables but no nftables NAT (Debian 13's
/// user-mode Linux has CONFIG_IP_NF_NAT but not CONFIG_NFT_NAT),
/// iptables-nft cannot make the nat table ("TABLE_ADD failed (Operation not
/// supported): table nat"); the legacy backend can. Elsewhere the image's
/// default stays.
fn legacy_iptables_where_nft_has_no_nat() {
    if !Path::new("/proc/net/ip_tables_names").exists()
        || !Path::new("/usr/sbin/iptables-nft").exists()
    {
        return;
    }
    // Listing the nat table works either way; making a chain in it (in the
    // sandbox's own network namespace, as netavark would) shows whether it can be.
    const PROBE: &str = "DINDBOX-NAT-PROBE";
    let unsupported = Cmd::new("iptables-nft")
        .args(["-t", "nat", "-N", PROBE])
        .output()
        .is_ok_and(|out| !out.success() && out.stderr.contains("Operation not supported"));
    let _ = Cmd::new("iptables-nft").args(["-t", "nat", "-X", PROBE]).output();
    if unsupported {
        for tool in ["iptables", "ip6tables"] {
            let _ = Cmd::new("update-alternatives")
                .args(["--set", tool, &format!("/usr/sbin/{tool}-legacy")])
                .output();
        }
    }
}

fn configure_podman(spec: &InnerEngineSpec) -> Result<Running, StartError> {
    find("podman")?;
    // netavark runs `iptables` for nested containers' networks.
    legacy_iptables_where_nft_has_no_nat();
    let path = Path::new(CONTAINERS_CONF_DROPIN);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            StartError::new(format!("could not create {}: {e}", dir.display()), None)
        })?;
    }
    std::fs::write(path, podman_dropin(spec))
        .map_err(|e| StartError::new(format!("could not write {}: {e}", path.display()), None))?;
    if let Some(storage) = spec.storage {
        std::fs::write(STORAGE_CONF, storage.storage_conf())
            .map_err(|e| StartError::new(format!("could not write {STORAGE_CONF}: {e}"), None))?;
    }
    Ok(Running { daemon: None })
}

/// In the inner engine's store: one line per tarball already loaded into it
/// (`NAME SIZE`). A store baked into the image by `dindbox image build` comes
/// with the canary listed, so a sandbox's start does not load it again.
pub const PRELOADED: &str = ".dindbox-preloaded";

/// The tarballs (name, size) that the marker's text does not list.
pub fn not_preloaded<'a>(tarballs: &'a [(String, u64)], marker: &str) -> Vec<&'a (String, u64)> {
    tarballs
        .iter()
        .filter(|(name, size)| !marker.lines().any(|l| l == format!("{name} {size}")))
        .collect()
}

/// Run an engine command inside the readiness deadline, its output going to `log`.
fn within(kind: EngineKind, args: &[&str], log: &Path, limit: Duration) -> Result<(), StartError> {
    let cmd = Cmd::new(kind.name()).args(args.iter().copied());
    let out = cmd
        .output_within(limit)
        .map_err(|e| StartError::new(e.message, Some(log)))?;
    let Some(out) = out else {
        return Err(StartError::new(
            format!(
                "`{}` did not finish within {} ms",
                cmd.display(),
                limit.as_millis()
            ),
            Some(log),
        ));
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        use std::io::Write;
        let _ = write!(file, "{}{}", out.stdout, out.stderr);
    }
    if out.success() {
        Ok(())
    } else {
        Err(StartError::new(
            cmd.failed(&out.status, &out.stderr).message,
            Some(log),
        ))
    }
}

/// Load the tarballs under the preload directory that the store lacks. For
/// Podman, which has no daemon to wait for, a `load` or else a listing of its
/// images is the readiness check: either opens its storage. All of it within
/// the readiness deadline.
fn preload(spec: &InnerEngineSpec) -> Result<(), StartError> {
    let kind = spec.kind;
    let limit = Duration::from_millis(spec.ready_timeout_ms);
    let mut tarballs: Vec<(String, u64)> = std::fs::read_dir(PRELOAD_DIR)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len())))
                .collect()
        })
        .unwrap_or_default();
    tarballs.sort();
    // A store of its own (vfs) has its own list of what was loaded into it.
    let marker = match spec.storage {
        Some(storage @ crate::plan::stepdown::Storage::Vfs) => {
            let _ = std::fs::create_dir_all(storage.graphroot());
            Path::new(storage.graphroot()).join(PRELOADED)
        }
        _ => Path::new(crate::plan::dind::storage_path(kind)).join(PRELOADED),
    };
    let listed = std::fs::read_to_string(&marker).unwrap_or_default();
    let todo = not_preloaded(&tarballs, &listed);
    let log = log_path(&format!("{kind}.log"))?;
    if todo.is_empty() && kind == EngineKind::Podman {
        return within(kind, &["images", "--quiet"], &log, limit);
    }
    for (name, size) in todo {
        let path = Path::new(PRELOAD_DIR).join(name).display().to_string();
        within(kind, &["load", "-q", "-i", &path], &log, limit)?;
        // A store that cannot take the note just loads the image again next time.
        let mut text = std::fs::read_to_string(&marker).unwrap_or_default();
        text.push_str(&format!("{name} {size}\n"));
        let _ = std::fs::write(&marker, text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: EngineKind) -> InnerEngineSpec {
        InnerEngineSpec {
            kind,
            runtime: "runc".into(),
            ulimits: Some(Ulimits {
                nofile: 20000,
                nproc: 9000,
            }),
            ready_timeout_ms: 1000,
            engine_firewall: true,
            cgroups_disabled: false,
            nested_host_network: false,
            storage: None,
            canary: None,
            report: None,
        }
    }

    #[test]
    fn preloads_only_what_the_store_lacks() {
        let tarballs = vec![
            ("canary.tar".to_string(), 2_004_992),
            ("app.tar".to_string(), 10),
        ];
        let todo = not_preloaded(&tarballs, "canary.tar 2004992\n");
        assert_eq!(todo, vec![&("app.tar".to_string(), 10)]);
        let changed = not_preloaded(&tarballs, "canary.tar 1999\napp.tar 10\n");
        assert_eq!(
            changed,
            vec![&("canary.tar".to_string(), 2_004_992)],
            "another size is another image"
        );
        assert_eq!(not_preloaded(&tarballs, "").len(), 2);
    }

    #[test]
    fn without_its_firewall_dockerd_gets_iptables_false() {
        let mut s = spec(EngineKind::Docker);
        assert!(!dockerd_args(&s, None).contains(&"--iptables=false".to_string()));
        s.engine_firewall = false;
        assert!(dockerd_args(&s, None).contains(&"--iptables=false".to_string()));
    }

    #[test]
    fn iptables_backend_follows_the_kernel() {
        assert_eq!(
            iptables_backend(None),
            "nft",
            "no ip_tables in the kernel: nft"
        );
        assert_eq!(
            iptables_backend(Some("")),
            "legacy",
            "ip_tables active, no tables yet"
        );
        assert_eq!(iptables_backend(Some("filter\nnat\n")), "legacy");
    }

    #[test]
    fn dockerd_gets_the_limits_runtime_and_mtu() {
        let args = dockerd_args(&spec(EngineKind::Docker), Some(1400));
        assert_eq!(
            args,
            vec![
                "--host=unix:///var/run/docker.sock",
                "--data-root=/var/lib/docker",
                "--exec-opt=native.cgroupdriver=cgroupfs",
                "--default-runtime=runc",
                "--default-ulimit=nofile=20000:20000",
                "--default-ulimit=nproc=9000:9000",
                "--mtu=1400",
                "--shutdown-timeout=5",
            ]
        );
    }

    #[test]
    fn podman_dropin_sets_runtime_and_limits() {
        let text = podman_dropin(&spec(EngineKind::Podman));
        assert!(
            text.contains("default_ulimits = [\"nofile=20000:20000\", \"nproc=9000:9000\"]"),
            "{text}"
        );
        assert!(text.contains("runtime = \"runc\""), "{text}");
        assert!(text.contains("cgroup_manager = \"cgroupfs\""), "{text}");
    }

    #[test]
    fn start_error_report_includes_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dockerd.log");
        std::fs::write(&log, "starting\nfailed to start daemon: invalid config\n").unwrap();
        let report = StartError::new("dockerd exited (exit status 1)", Some(&log))
            .report(EngineKind::Docker);
        assert!(
            report.starts_with(
                "dindbox: the inner docker did not start: dockerd exited (exit status 1)"
            ),
            "{report}"
        );
        assert!(
            report.ends_with("starting\nfailed to start daemon: invalid config"),
            "{report}"
        );
    }
}
