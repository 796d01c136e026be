//! The canary: a busybox image of a few MB that every dind sandbox's inner
//! engine gets preloaded, so nested containers can be tested with no registry.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::labels;
use crate::process::Cmd;

pub use crate::spec::images::CANARY as TAG;
/// Applets linked in the canary besides busybox itself.
const APPLETS: &[&str] = &[
    "sh", "echo", "true", "false", "ls", "cat", "sleep", "env", "id", "uname",
];

/// The cached docker-archive of the canary that sandboxes preload, when it exists.
pub fn tarball() -> Option<PathBuf> {
    let path = super::cache_dir().join("preload").join("canary.tar");
    path.is_file().then_some(path)
}

/// Whether an ELF file is statically linked (has no PT_INTERP program header).
pub fn is_static_elf(bytes: &[u8]) -> bool {
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return false; // only 64-bit little-endian ELF is considered
    }
    let u64_at =
        |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8])) as usize;
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let (phoff, phentsize, phnum) = (u64_at(32), u16_at(54), u16_at(56));
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        at + 4 <= bytes.len()
            && u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4])) != 3
    })
}

/// Host busybox, which must be static to run alone in an empty image.
fn busybox() -> Result<(PathBuf, Vec<u8>)> {
    let hint = "install a static busybox: `apt-get install busybox-static`";
    let path = which::which("busybox").map_err(|_| {
        Error::failure("the canary image needs busybox, which is not installed").hint(hint)
    })?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io("could not read", &path, e))?;
    if !is_static_elf(&bytes) {
        return Err(
            Error::failure(format!("{} is not statically linked", path.display())).hint(hint),
        );
    }
    Ok((path, bytes))
}

/// The recipe digest of the canary: the busybox binary and the applet list.
fn digest(busybox: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(busybox);
    h.update(APPLETS.join(",").as_bytes());
    hex::encode(h.finalize())
}

fn make_rootfs(dir: &Path, busybox: &Path) -> Result<PathBuf> {
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).map_err(|e| Error::io("could not create", &bin, e))?;
    std::fs::copy(busybox, bin.join("busybox"))
        .map_err(|e| Error::io("could not copy", busybox, e))?;
    for applet in APPLETS {
        let link = bin.join(applet);
        std::os::unix::fs::symlink("busybox", &link)
            .map_err(|e| Error::io("could not link", &link, e))?;
    }
    let tar = dir.join("canary-rootfs.tar");
    Cmd::new("tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(dir.join("rootfs").display().to_string())
        .args(["-cf", &tar.display().to_string(), "."])
        .run()?;
    Ok(tar)
}

/// Build the canary into `engines` (skipping those that have this recipe) and
/// refresh the cached archive that sandboxes preload; returns that archive and
/// the canary's recipe digest.
pub fn build(engines: &[Engine], force: bool) -> Result<(PathBuf, String)> {
    let (path, bytes) = busybox()?;
    let digest = digest(&bytes);
    let work = tempfile::tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let mut rootfs = None;
    let cache = super::cache_dir().join("preload");
    let archive = cache.join("canary.tar");
    let mut archive_fresh = archive.is_file()
        && std::fs::read_to_string(cache.join("canary.digest"))
            .ok()
            .as_deref()
            == Some(&digest);
    for engine in engines {
        if !force && super::built_from(engine, TAG, &digest)? {
            eprintln!("    {TAG} is up to date in {}", engine.kind);
        } else {
            if rootfs.is_none() {
                rootfs = Some(make_rootfs(work.path(), &path)?);
            }
            let tar = rootfs.as_ref().expect("made above");
            let changes = vec![
                "CMD [\"/bin/sh\"]".to_string(),
                format!("LABEL {}={digest}", labels::RECIPE),
            ];
            engine.import(tar, TAG, &changes)?;
            eprintln!("    built {TAG} in {}", engine.kind);
            archive_fresh = false;
        }
        if !archive_fresh {
            super::save_atomically(engine, TAG, &archive)?;
            std::fs::write(cache.join("canary.digest"), &digest)
                .map_err(|e| Error::io("could not write", &cache, e))?;
            archive_fresh = true;
        }
    }
    if archive.is_file() {
        // Archives saved before they were made readable to every user.
        super::share_archive(&archive)?;
    }
    Ok((archive, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit little-endian ELF header with one program header of type `ptype`.
    fn elf(ptype: u32) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        b[64..68].copy_from_slice(&ptype.to_le_bytes());
        b
    }

    #[test]
    fn recognises_static_and_dynamic_elf() {
        assert!(is_static_elf(&elf(1)), "PT_LOAD only");
        assert!(!is_static_elf(&elf(3)), "PT_INTERP means dynamic");
        assert!(!is_static_elf(b"#!/bin/sh\n"));
    }

    #[test]
    fn canary_digest_depends_on_busybox() {
        assert_ne!(digest(b"one"), digest(b"two"));
        assert_eq!(digest(b"one"), digest(b"one"));
    }
}
