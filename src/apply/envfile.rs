//! The sandbox's environment, handed to the engine CLI as `--env-file PATH`
//! so that no value is on a command line: a mode-0600 file in a 0700
//! directory, removed when the run ends (on errors and signals too, as the
//! guard is dropped). Both engines read such a file line by line, split at
//! the first `=`, and take the value literally (no quotes, no escapes), so a
//! value is written as it is; one with a line break cannot be written.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::resources::EnvVar;

/// The longest line the engines' env-file readers take (Go's bufio.Scanner).
const MAX_LINE: usize = 64 * 1024 - 1;

/// `paths::env_dir`.
pub fn dir() -> PathBuf {
    crate::paths::env_dir()
}

/// The file for a run of sandbox `name` by this process.
pub fn path_for(name: &str) -> PathBuf {
    dir().join(format!("{name}.{}.env", std::process::id()))
}

/// The env file's text; a value the engines cannot read back unchanged is an error.
pub fn content(env: &[EnvVar]) -> Result<String> {
    let mut out = String::new();
    for var in env {
        let value = var.value.expose();
        if value.contains(['\n', '\r', '\0']) {
            return Err(Error::usage(format!(
                "the value of `{}` has a line break or NUL, which engines' env files cannot carry",
                var.name
            ))
            .hint("put it in a file and mount that file with `-v`"));
        }
        if var.name.len() + 1 + value.len() > MAX_LINE {
            return Err(Error::usage(format!(
                "the value of `{}` is longer than the 64 KiB engines read per env-file line",
                var.name
            ))
            .hint("put it in a file and mount that file with `-v`"));
        }
        out.push_str(&var.name);
        out.push('=');
        out.push_str(value);
        out.push('\n');
    }
    Ok(out)
}

/// Removes the file when dropped.
#[derive(Debug)]
pub struct EnvFile(PathBuf);

impl Drop for EnvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("could not create the directory", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("could not make private the directory", dir, e))
}

/// Write the plan's environment, if it has one, for the engine to read.
pub fn write(plan: &Plan) -> Result<Option<EnvFile>> {
    let Some(path) = &plan.env_file else {
        return Ok(None);
    };
    let text = content(&plan.env)?;
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let guard = EnvFile(path.clone());
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io("could not write the env file", path, e))?;
    Ok(Some(guard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::resources::Secret;

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Secret::new(value),
        }
    }

    #[test]
    fn values_are_written_literally() {
        let text = content(&[var("A", "x y"), var("B", "\"q\" $HOME #c ="), var("C", "")]).unwrap();
        assert_eq!(text, "A=x y\nB=\"q\" $HOME #c =\nC=\n");
    }

    #[test]
    fn line_breaks_cannot_be_written_and_the_value_is_not_shown() {
        let e = content(&[var("KEY", "secret\nmore")]).unwrap_err();
        assert!(e.message.contains("`KEY`"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(content(&[var("K", &"x".repeat(MAX_LINE))]).is_err());
    }

    #[test]
    fn the_file_is_private_and_removed_with_its_guard() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("env").join("box.env");
        let mut plan: Plan = crate::plan::tests::sample_plan();
        plan.env = vec![var("TOKEN", "v")];
        plan.env_file = Some(path.clone());
        let guard = write(&plan).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "TOKEN=v\n");
        drop(guard);
        assert!(!path.exists());
    }
}
