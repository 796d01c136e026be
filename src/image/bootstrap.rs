//! The offline path: a Debian root filesystem bootstrapped from the host's apt
//! mirror with debootstrap, the recipe's packages added in a chroot, and the
//! result imported into the engines. No container registry is needed.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::process::Cmd;

use super::progress::Step;
use super::recipe;

/// Used when the host's apt sources name no Debian mirror.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The Debian mirror the host's apt uses: from deb822 `.sources` files
/// (`URIs:` of a stanza whose `Suites:` has the suite) or one-line
/// `deb URL SUITE ...` entries. Security and update suites are skipped.
pub fn mirror_from_sources(files: &[(String, String)], suite: &str) -> Option<String> {
    for (name, text) in files {
        let found = if name.ends_with(".sources") {
            deb822_mirror(text, suite)
        } else {
            one_line_mirror(text, suite)
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn deb822_mirror(text: &str, suite: &str) -> Option<String> {
    for stanza in text.split("\n\n") {
        let field = |key: &str| {
            stanza
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        };
        let types = field("Types:").unwrap_or_default();
        let suites = field("Suites:").unwrap_or_default();
        if types.split_whitespace().any(|t| t == "deb")
            && suites.split_whitespace().any(|s| s == suite)
            && let Some(uri) =
                field("URIs:").and_then(|u| u.split_whitespace().next().map(str::to_string))
        {
            return Some(uri);
        }
    }
    None
}

fn one_line_mirror(text: &str, suite: &str) -> Option<String> {
    text.lines().find_map(|line| {
        // Drop the `[option=value ...]` block, which may hold spaces.
        let line = match (line.find('['), line.find(']')) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &line[..a], &line[b + 1..]),
            _ => line.to_string(),
        };
        let mut words = line.split_whitespace();
        if words.next()? != "deb" {
            return None;
        }
        let uri = words.next()?;
        (words.next()? == suite).then(|| uri.to_string())
    })
}

/// Read the host's apt sources (sources.list and sources.list.d/*).
pub fn host_mirror(etc_apt: &Path) -> String {
    let mut files = Vec::new();
    let list = etc_apt.join("sources.list");
    if let Ok(text) = std::fs::read_to_string(&list) {
        files.push((list.display().to_string(), text));
    }
    if let Ok(dir) = std::fs::read_dir(etc_apt.join("sources.list.d")) {
        let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let name = path.display().to_string();
            if (name.ends_with(".list") || name.ends_with(".sources"))
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                files.push((name, text));
            }
        }
    }
    mirror_from_sources(&files, recipe::SUITE).unwrap_or_else(|| DEFAULT_MIRROR.to_string())
}

fn need_root_tool(tool: &str, package: &str) -> Result<()> {
    if which::which(tool).is_err() {
        return Err(Error::failure(format!(
            "the offline image build needs `{tool}`, which is not installed"
        ))
        .hint(format!("install it: `apt-get install {package}`")));
    }
    if nix::unistd::geteuid().as_raw() != 0 {
        return Err(Error::failure(
            "the offline image build runs debootstrap and chroot, which need root",
        )
        .hint("run `sudo dindbox image build`, or build where a registry answers"));
    }
    Ok(())
}

/// Build the root filesystem under `work` and pack it into a tarball; returns its path.
pub fn rootfs_tarball(work: &Path) -> Result<PathBuf> {
    need_root_tool("debootstrap", "debootstrap")?;
    let rootfs = work.join("rootfs");
    let log = work.join("build.log");
    let mirror = host_mirror(Path::new("/etc/apt"));

    let step = Step::start(format!(
        "bootstrapping Debian {} from {mirror}",
        recipe::SUITE
    ));
    Cmd::new("debootstrap")
        .args([
            "--variant=minbase",
            "--include=ca-certificates",
            recipe::SUITE,
        ])
        .arg(rootfs.display().to_string())
        .arg(mirror)
        .run_logged(&log)?;
    step.done();

    let step = Step::start(format!("installing {} packages", recipe::PACKAGES.len()));
    install_packages(&rootfs, &log)?;
    step.done();

    let step = Step::start("packing the root filesystem");
    let tarball = work.join("rootfs.tar");
    Cmd::new("tar")
        .args(["--numeric-owner", "--xattrs", "-C"])
        .arg(rootfs.display().to_string())
        .args(["-cf", &tarball.display().to_string(), "."])
        .run_logged(&log)?;
    step.done();
    Ok(tarball)
}

fn write(path: &Path, content: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("could not create", dir, e))?;
    }
    std::fs::write(path, content).map_err(|e| Error::io("could not write", path, e))
}

fn install_packages(rootfs: &Path, log: &Path) -> Result<()> {
    // Packages must not start services inside the chroot.
    let policy = rootfs.join("usr/sbin/policy-rc.d");
    write(&policy, "#!/bin/sh\nexit 101\n")?;
    std::fs::set_permissions(&policy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| Error::io("could not make executable", &policy, e))?;
    let script = format!(
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends {} \
         && apt-get clean && rm -rf /var/lib/apt/lists/*",
        recipe::PACKAGES.join(" ")
    );
    Cmd::new("chroot")
        .arg(rootfs.display().to_string())
        .args(["/bin/sh", "-c", &script])
        .env("PATH", recipe::PATH)
        .run_logged(log)?;
    std::fs::remove_file(&policy).map_err(|e| Error::io("could not remove", &policy, e))?;
    for (path, content) in recipe::FILES {
        write(&rootfs.join(path), content)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_deb822_sources_of_the_suite() {
        let debian = "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n";
        let files = vec![(
            "/etc/apt/sources.list.d/debian.sources".to_string(),
            debian.to_string(),
        )];
        assert_eq!(
            mirror_from_sources(&files, "bookworm").as_deref(),
            Some("http://deb.debian.org/debian")
        );
        assert_eq!(mirror_from_sources(&files, "trixie"), None);
    }

    #[test]
    fn reads_one_line_sources_with_options() {
        let list = "# comment\ndeb-src http://x/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n";
        let files = vec![("/etc/apt/sources.list".to_string(), list.to_string())];
        assert_eq!(
            mirror_from_sources(&files, "bookworm").as_deref(),
            Some("http://mirror.example/debian")
        );
    }
}
