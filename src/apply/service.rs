//! A host process that lives as long as the sandbox: Podman's API service,
//! when sock mode needs a socket and none answers.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::NamedTempFile;

use crate::engine::socket;
use crate::error::{Error, Result};
use crate::plan::HostService;
use crate::process::{quote_argv, tail};

/// How long the service may take to answer.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// How long it gets to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The running service; stopped, and its socket removed, when dropped.
pub struct Running {
    child: Child,
    socket: PathBuf,
    _config: Option<NamedTempFile>,
    _log: NamedTempFile,
}

fn temp(what: &str) -> Result<NamedTempFile> {
    NamedTempFile::with_prefix(format!("dindbox-{what}-")).map_err(|e| {
        Error::failure(format!("could not create a temporary {what} file")).cause(e.to_string())
    })
}

pub fn start(service: &HostService) -> Result<Running> {
    let socket = PathBuf::from(&service.socket);
    if let Some(dir) = socket.parent() {
        private_dir(dir)?;
    }
    let log = temp("service-log")?;
    let mut cmd = Command::new(&service.argv[0]);
    // Its own process group: a Ctrl-C at the terminal is the sandbox's, not the service's.
    cmd.args(&service.argv[1..])
        .stdin(Stdio::null())
        .process_group(0);
    let config = match &service.config {
        Some(conf) => {
            let file = temp("containers-conf")?;
            std::fs::write(file.path(), &conf.content)
                .map_err(|e| Error::io("could not write", file.path(), e))?;
            cmd.env(&conf.env, file.path());
            Some(file)
        }
        None => None,
    };
    let out = log
        .reopen()
        .map_err(|e| Error::io("could not open", log.path(), e))?;
    let err = log
        .reopen()
        .map_err(|e| Error::io("could not open", log.path(), e))?;
    let child = cmd.stdout(out).stderr(err).spawn().map_err(|e| {
        Error::failure(format!("could not start `{}`", quote_argv(&service.argv)))
            .cause(e.to_string())
    })?;
    let mut running = Running {
        child,
        socket,
        _config: config,
        _log: log,
    };
    running.wait_ready(service)?;
    open_socket(&running.socket)?;
    Ok(running)
}

/// The socket's directory: only its owner may enter it.
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("could not create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("could not make private", dir, e))
}

/// Every user inside the sandbox may use the socket, not only its root: the
/// socket is bind-mounted in, so its own mode counts there, while on the host
/// its directory (0700) keeps everyone but its owner out.
fn open_socket(socket: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| Error::io("could not open to the sandbox's users", socket, e))
}

impl Running {
    fn wait_ready(&mut self, service: &HostService) -> Result<()> {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            if socket::ping(&self.socket, Duration::from_millis(500)) {
                return Ok(());
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() >= deadline {
                let log = std::fs::read_to_string(self._log.path()).unwrap_or_default();
                let how = if exited {
                    "exited"
                } else {
                    "did not answer in time"
                };
                return Err(Error::failure(format!("`{}` {how}", quote_argv(&service.argv)))
                    .cause(tail(&log, 12))
                    .hint("or start Podman's socket yourself: `systemctl --user enable --now podman.socket` as a user, `systemctl enable --now podman.socket` as root"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn remove_socket(path: &Path) {
    // Gone already is fine: the service removes it itself on a clean stop.
    let _ = std::fs::remove_file(path);
}

impl Drop for Running {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                remove_socket(&self.socket);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_socket(&self.socket);
    }
}
