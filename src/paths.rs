//! Where dindbox keeps files on the host.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where dindbox keeps what need not outlive a boot: `$XDG_RUNTIME_DIR/dindbox`,
/// else `/run/dindbox` for root (both in memory, never on a disk), else the
/// cache directory. Sandboxes' API services have a directory each there,
/// named as the sandbox; dindbox's own start with a dot, which no sandbox's
/// name does.
pub fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .map(|p| p.join("dindbox"))
        .or_else(|| {
            nix::unistd::geteuid()
                .is_root()
                .then(|| PathBuf::from("/run/dindbox"))
        })
        .unwrap_or_else(cache_dir)
}

/// Env files, while the run that wrote them lasts.
pub fn env_dir() -> PathBuf {
    runtime_dir().join(".env")
}

/// dindbox's seccomp profile, where engines read it when a sandbox is made.
pub fn profiles_dir() -> PathBuf {
    runtime_dir().join(".profiles")
}

/// `$XDG_CACHE_HOME/dindbox`, else `~/.cache/dindbox`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("dindbox")
}

/// dindbox's own executable, which every sandbox gets as its init.
pub fn own_executable() -> Result<PathBuf> {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::failure("could not find dindbox's own executable").cause(e.to_string()))
}
