//! Before a sandbox starts: the confinement profiles its spec names are
//! where the engine looks for them. The seccomp profile is a file the
//! engine's CLI reads (written once; its name has its digest); the AppArmor
//! profile is loaded into the kernel by `apparmor_parser`, unless it is.

use std::path::Path;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::process::Cmd;
use crate::spec::confine::{apparmor_text, seccomp_text};
use crate::spec::{Privilege, SecurityOpt};

/// Where the kernel lists the AppArmor profiles it has loaded.
const LOADED: &str = "/sys/kernel/security/apparmor/profiles";

pub fn prepare(plan: &Plan) -> Result<()> {
    for p in plan.spec.privilege_items() {
        match p {
            Privilege::Security(SecurityOpt::SeccompProfile(path)) => {
                write_once(path, &seccomp_text())?
            }
            Privilege::Security(SecurityOpt::Apparmor(name)) => ensure_apparmor(name)?,
            _ => {}
        }
    }
    Ok(())
}

/// Write `text` to `path` unless it holds it already; by rename, so that a
/// concurrent start never reads half a profile.
fn write_once(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("could not create", dir, e))?;
    let tmp = dir.join(format!(".{}.{}", std::process::id(), file_name(path)));
    std::fs::write(&tmp, text).map_err(|e| Error::io("could not write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("could not write", path, e)
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Load dindbox's AppArmor profile `name` unless the kernel has it (it
/// forgets it at reboot).
pub fn ensure_apparmor(name: &str) -> Result<()> {
    let loaded = std::fs::read_to_string(LOADED).is_ok_and(|t| {
        crate::probe::host::dindbox_profiles(&t)
            .iter()
            .any(|n| n == name)
    });
    if loaded {
        return Ok(());
    }
    let out = Cmd::new("apparmor_parser")
        .args(["--replace", "--quiet"])
        .stdin_text(apparmor_text())
        .output()?;
    if out.success() {
        return Ok(());
    }
    Err(
        Error::failure(format!("could not load dindbox's AppArmor profile {name}"))
            .cause(out.stderr.trim().to_string())
            .hint(format!(
                "load it as root: `{}`",
                crate::plan::confine::LOAD_APPARMOR
            )),
    )
}
