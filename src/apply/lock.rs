//! One `run` at a time per sandbox name and engine, on this host: the second
//! of two `run -n same` waits until the first has created the sandbox, then
//! finds it and attaches. An advisory lock, released by the kernel when the
//! process ends; it records nothing.

use std::fs::{File, OpenOptions};

use nix::fcntl::{Flock, FlockArg};

use crate::engine::EngineKind;
use crate::error::{Error, Result};

pub struct Lock {
    _file: Flock<File>,
}

impl Lock {
    pub fn acquire(engine: EngineKind, name: &str) -> Result<Lock> {
        let dir = crate::paths::cache_dir().join("locks");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("could not create", &dir, e))?;
        let path = dir.join(format!("{engine}-{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("could not open", &path, e))?;
        let file = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| {
            Error::failure(format!("could not lock {}", path.display())).cause(e.to_string())
        })?;
        Ok(Lock { _file: file })
    }
}
