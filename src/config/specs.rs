//! Values the user writes as text (volumes, ports, sizes, CPUs) checked and
//! turned into the request's types. `from` names where the value came from
//! (`-v`, or file:line:col), for the message.

use std::path::Path;

use crate::error::{Error, Result};
use crate::plan::resources::Volume;

use super::expand_home;

fn bad(kind: &str, value: &str, from: &str, why: impl std::fmt::Display) -> Error {
    Error::usage(format!("bad {kind} `{value}` ({from}): {why}"))
}

/// Mount options the engines share.
const VOLUME_OPTIONS: &[&str] = &[
    "ro",
    "rw",
    "z",
    "Z",
    "shared",
    "slave",
    "private",
    "rshared",
    "rslave",
    "rprivate",
    "nocopy",
    "cached",
    "delegated",
    "consistent",
];

/// `HOSTPATH:CONTAINERPATH[:OPTIONS]`; the host path absolute (or `~/...`) and existing.
pub fn volume(spec: &str, from: &str) -> Result<Volume> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, options) = match parts.as_slice() {
        [h, c] => (*h, *c, None),
        [h, c, o] => (*h, *c, Some(*o)),
        _ => {
            return Err(bad(
                "volume",
                spec,
                from,
                "expected HOSTPATH:CONTAINERPATH[:OPTIONS]",
            )
            .hint("for example `-v $HOME/.gitconfig:/root/.gitconfig:ro`"));
        }
    };
    let host_path = expand_home(host);
    if !host_path.is_absolute() {
        return Err(bad(
            "volume",
            spec,
            from,
            format!("the host path `{host}` is relative"),
        )
        .hint(format!(
            "give an absolute path, e.g. `$PWD/{host}:{container}`"
        )));
    }
    if !host_path.exists() {
        return Err(bad(
            "volume",
            spec,
            from,
            format!("the host path {} does not exist", host_path.display()),
        )
        .hint(format!(
            "create it first (`mkdir -p {}`), or fix the path",
            host_path.display()
        )));
    }
    if !container.starts_with('/') {
        return Err(bad(
            "volume",
            spec,
            from,
            format!("the container path `{container}` is not absolute"),
        )
        .hint("the path inside starts with `/`"));
    }
    if let Some(unknown) = options.and_then(|o| o.split(',').find(|o| !VOLUME_OPTIONS.contains(o)))
    {
        return Err(bad(
            "volume",
            spec,
            from,
            format!("unknown mount option `{unknown}`"),
        )
        .hint(format!("options: {}", VOLUME_OPTIONS.join(", "))));
    }
    Ok(Volume {
        host: host_path,
        container: container.to_string(),
        options: options.map(String::from),
    })
}

fn port_range(p: &str) -> Option<(u16, u16)> {
    let (a, b) = p.split_once('-').unwrap_or((p, p));
    let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
    (a >= 1 && a <= b).then_some((a, b))
}

/// `[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp|sctp]`, ports 1-65535 or ranges of equal length.
pub fn port(spec: &str, from: &str) -> Result<String> {
    let hint = "write HOSTPORT:CONTAINERPORT, e.g. `-p 8080:80` or `-p 127.0.0.1:8080:80/tcp`";
    let (addr, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
    if !["tcp", "udp", "sctp"].contains(&proto) {
        return Err(
            bad("port", spec, from, format!("unknown protocol `{proto}`"))
                .hint("use tcp, udp or sctp"),
        );
    }
    let (rest, container) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad("port", spec, from, "no host port").hint(hint))?;
    let (ip, host) = rest.rsplit_once(':').unwrap_or(("", rest));
    if !ip.is_empty()
        && ip
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_err()
    {
        return Err(bad("port", spec, from, format!("`{ip}` is not an IP address")).hint(hint));
    }
    let (Some(h), Some(c)) = (port_range(host), port_range(container)) else {
        return Err(bad(
            "port",
            spec,
            from,
            "ports are numbers from 1 to 65535 (or ranges like 8000-8003)",
        )
        .hint(hint));
    };
    if h.1 - h.0 != c.1 - c.0 {
        return Err(bad(
            "port",
            spec,
            from,
            "the host and container ranges differ in length",
        )
        .hint(hint));
    }
    Ok(spec.to_string())
}

/// The smallest limit the engines accept.
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// "512m", "1.5g", "2GiB", "1048576": bytes.
pub fn memory(text: &str, from: &str) -> Result<u64> {
    let hint = "write a size such as `512m` or `2g` (units b, k, m, g, t)";
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix("ib")
        .or_else(|| {
            t.strip_suffix('b')
                .filter(|s| s.ends_with(|c: char| c.is_ascii_alphabetic()))
        })
        .unwrap_or(&t);
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(bad("memory size", text, from, "not a number").hint(hint));
    }
    let scale: u64 = match unit {
        "" | "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(
                bad("memory size", text, from, format!("unknown unit `{unit}`")).hint(hint),
            );
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| bad("memory size", text, from, "not a number").hint(hint))?;
    let bytes = (value * scale as f64) as u64;
    if bytes < MIN_MEMORY {
        return Err(bad(
            "memory size",
            text,
            from,
            "the engines' smallest limit is 6 MiB",
        )
        .hint(hint));
    }
    Ok(bytes)
}

/// CPUs as the engines spell them: positive, at most two decimals.
pub fn cpus(value: f64, from: &str) -> Result<String> {
    if !(0.01..=4096.0).contains(&value) {
        return Err(bad(
            "CPU count",
            &value.to_string(),
            from,
            "expected a number from 0.01 up",
        )
        .hint("e.g. `--cpus 1.5`"));
    }
    let text = format!("{value:.2}");
    Ok(text.trim_end_matches('0').trim_end_matches('.').to_string())
}

/// A number given as a flag, read as the file format reads it.
pub fn number<T: std::str::FromStr>(text: &str, flag: &str, example: &str) -> Result<T> {
    text.trim().parse().map_err(|_| {
        Error::usage(format!("bad {flag} `{text}`: not a number"))
            .hint(format!("e.g. `{flag} {example}`"))
    })
}

pub fn pids(value: u64, from: &str) -> Result<u64> {
    if value == 0 {
        return Err(bad(
            "process limit",
            "0",
            from,
            "a sandbox needs at least one process",
        )
        .hint("e.g. `--pids-limit 1024`"));
    }
    Ok(value)
}

/// The path inside where the workspace is mounted: absolute, and not a system directory.
pub fn container_path(path: &str, from: &str) -> Result<String> {
    if !path.starts_with('/') {
        return Err(bad("container path", path, from, "not absolute")
            .hint("e.g. `--container-path /workspace`"));
    }
    let normal = Path::new(path).components().collect::<std::path::PathBuf>();
    if crate::plan::check_workspace(&normal).is_err() {
        return Err(bad(
            "container path",
            path,
            from,
            "it would hide a system directory of the sandbox",
        )
        .hint("mount the workspace elsewhere, e.g. `--container-path /workspace`"));
    }
    Ok(normal.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_need_existing_absolute_host_paths() {
        let v = volume("/tmp:/data:ro", "-v").unwrap();
        assert_eq!(crate::render::mount_value(&v.mount()), "/tmp:/data:ro");
        let e = volume("data:/data", "-v").unwrap_err();
        assert!(
            e.message.contains("the host path `data` is relative"),
            "{e}"
        );
        let e = volume("/nonexistent/x:/x", "-v").unwrap_err();
        assert!(e.message.contains("does not exist"), "{e}");
        assert!(volume("/tmp:data", "-v").is_err());
        assert!(volume("/tmp", "-v").is_err());
        let e = volume("/tmp:/d:rw,bogus", "f.toml:1:1").unwrap_err();
        assert_eq!(
            e.message,
            "bad volume `/tmp:/d:rw,bogus` (f.toml:1:1): unknown mount option `bogus`"
        );
    }

    #[test]
    fn ports_and_ranges() {
        for ok in [
            "8080:80",
            "127.0.0.1:8080:80/udp",
            "8000-8001:9000-9001",
            "[::1]:80:80",
        ] {
            assert!(port(ok, "-p").is_ok(), "{ok}");
        }
        for bad in [
            "80",
            "0:80",
            "70000:80",
            "a:80",
            "80:80/icmp",
            "8000-8002:80-81",
            "x.y:80:80",
        ] {
            assert!(port(bad, "-p").is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(memory("512m", "-").unwrap(), 512 << 20);
        assert_eq!(memory("1.5G", "-").unwrap(), 3 << 29);
        assert_eq!(memory("2GiB", "-").unwrap(), 2 << 30);
        assert_eq!(memory("10mb", "-").unwrap(), 10 << 20);
        assert_eq!(memory("8388608", "-").unwrap(), 8 << 20);
        assert!(memory("lots", "-").is_err());
        assert!(memory("5x", "-").is_err());
        let e = memory("1k", "--memory").unwrap_err();
        assert!(e.message.contains("smallest limit is 6 MiB"), "{e}");
    }

    #[test]
    fn cpus_pids_and_container_paths() {
        assert_eq!(cpus(1.5, "-").unwrap(), "1.5");
        assert_eq!(cpus(2.0, "-").unwrap(), "2");
        assert!(cpus(0.0, "-").is_err());
        assert!(pids(0, "-").is_err());
        assert_eq!(container_path("/workspace/", "-").unwrap(), "/workspace");
        assert!(container_path("workspace", "-").is_err());
        assert!(container_path("/usr", "-").is_err());
    }
}
