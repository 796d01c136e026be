//! Requests refused before anything is planned: a workspace that cannot be
//! mounted, an image that is not there.

use super::{ImageFacts, Request};
use crate::error::{Error, Result};

pub(super) fn check_image(req: &Request, image: &ImageFacts) -> Result<()> {
    if image.exists {
        return Ok(());
    }
    let build = if req.systemd {
        "build the default images with `dindbox image build --systemd`"
    } else {
        "build the default images with `dindbox image build`"
    };
    Err(
        Error::usage(format!("image `{}` is not on this host", req.image))
            .hint(build)
            .hint("or name an image this engine has with `--image`"),
    )
}

/// Directories that, mounted over the image's own, would break the sandbox.
const SYSTEM_DIRS: &[&str] = &[
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin",
    "/sys", "/usr", "/var", "/var/lib", "/var/run",
];

/// The workspace is mounted at its own path inside: it must not hide a
/// system directory of the image, and engines' `-v` cannot take a `:`.
pub fn check_workspace(path: &std::path::Path) -> Result<()> {
    let text = path.display().to_string();
    let under = |dir: &str| {
        text == dir
            || ["/proc/", "/sys/", "/dev/"]
                .iter()
                .any(|p| text.starts_with(p))
    };
    if SYSTEM_DIRS.iter().any(|d| under(d)) {
        return Err(Error::usage(format!(
            "the current directory {text} would be mounted over the sandbox's own {text}"
        ))
        .hint("run dindbox from a project directory (the workspace is the current directory)"));
    }
    if text.contains(':') {
        return Err(Error::usage(format!(
            "the current directory {text} has a `:`, which engines cannot mount"
        ))
        .hint("run dindbox from a directory whose path has no `:`"));
    }
    Ok(())
}
