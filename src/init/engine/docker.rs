//! dockerd inside the sandbox: its flags, the iptables backend, and NAT for
//! nested containers when dockerd leaves iptables alone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{POLL, Running, StartError, describe, find, log_path};
use crate::engine::socket;
use crate::probe::host::{default_route_iface, default_route_mtu};
use crate::process::Cmd;
use crate::spec::init::{InnerEngineSpec, Ulimits};

pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";

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
    ];
    if spec.userns {
        // In a user namespace: dockerd's rootless mode runs nested containers
        // without cgroups where none can be written (cgroup v1), and leaves
        // alone what only the host's root may set.
        args.push("--rootless".to_string());
    } else {
        args.push("--exec-opt=native.cgroupdriver=cgroupfs".to_string());
    }
    args.push(format!("--default-runtime={}", spec.runtime));
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

pub(super) fn start_dockerd(spec: &InnerEngineSpec) -> Result<Running, StartError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    fn spec(kind: EngineKind) -> InnerEngineSpec {
        super::super::test_spec(kind)
    }

    #[test]
    fn in_a_user_namespace_dockerd_runs_in_its_rootless_mode_without_a_cgroup_driver() {
        let mut s = spec(EngineKind::Docker);
        let driver = "--exec-opt=native.cgroupdriver=cgroupfs".to_string();
        assert!(dockerd_args(&s, None).contains(&driver));
        assert!(!dockerd_args(&s, None).contains(&"--rootless".to_string()));
        s.userns = true;
        let args = dockerd_args(&s, None);
        assert!(
            args.contains(&"--rootless".to_string()) && !args.contains(&driver),
            "{args:?}"
        );
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
}
