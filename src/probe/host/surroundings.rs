//! Where dindbox itself runs: inside a container or not, and the default
//! route's MTU.

use std::path::Path;

use super::read;

/// The engine of the container dindbox runs in, from its marker files or PID 1's `container=`.
pub(super) fn in_container(root: &Path, proc: &Path) -> Option<String> {
    if root.join(".dockerenv").exists() {
        return Some("docker".to_string());
    }
    if root.join("run/.containerenv").exists() {
        return Some("podman".to_string());
    }
    let environ = std::fs::read(proc.join("1/environ")).ok()?;
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"container="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// MTU of the default route's interface; also what a sandbox's init reads of itself.
pub fn default_route_mtu(proc: &Path, sys: &Path) -> Option<u32> {
    let iface = default_route_iface(&read(&proc.join("net/route"))?)?;
    read(&sys.join("class/net").join(iface).join("mtu"))?
        .trim()
        .parse()
        .ok()
}

/// The interface of the route whose destination is 0.0.0.0 in /proc/net/route.
pub fn default_route_iface(route: &str) -> Option<String> {
    route.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let iface = cols.next()?;
        (cols.next()? == "00000000").then(|| iface.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::host::testing::tree;

    #[test]
    fn container_markers_then_pid1_environment() {
        let (_dir, roots) = tree(&[("root/.dockerenv", ""), ("root/run/.containerenv", "")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("docker")
        );
        let (_dir, roots) = tree(&[("root/run/.containerenv", "engine=\"podman-4.3.1\"\n")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("podman")
        );
        let (_dir, roots) = tree(&[("proc/1/environ", "PATH=/bin\0container=lxc\0TERM=xterm\0")]);
        assert_eq!(
            in_container(&roots.root, &roots.proc).as_deref(),
            Some("lxc")
        );
        let (_dir, roots) = tree(&[("proc/1/environ", "PATH=/bin\0")]);
        assert_eq!(in_container(&roots.root, &roots.proc), None);
    }

    #[test]
    fn mtu_of_the_default_routes_interface() {
        let route = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
";
        let (_dir, roots) = tree(&[
            ("proc/net/route", route),
            ("sys/class/net/eth0/mtu", "1400\n"),
            ("sys/class/net/docker0/mtu", "1500\n"),
        ]);
        assert_eq!(default_route_mtu(&roots.proc, &roots.sys), Some(1400));
        assert_eq!(
            default_route_iface("Iface\tDestination\neth0\t000200C0\n"),
            None
        );
    }
}
