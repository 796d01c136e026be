//! Where dindbox keeps files on the host.

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/dindbox`, else `~/.cache/dindbox`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("dindbox")
}
