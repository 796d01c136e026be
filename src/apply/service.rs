//! A host process that lives as long as the sandbox: Podman's API service,
//! when sock mode needs a socket and none answers.
//!
//! Each sandbox's service has a directory of its own, private to its owner
//! (0700): the socket in `api/` (0755, the socket 0666: bind-mounted into the
//! sandbox, where any user may use it, while on the host nobody else can reach
//! it), the service's log, configuration and pid. A throw-away sandbox's
//! service is a child of this dindbox and stops with it; a kept sandbox's
//! runs on in its own session until `dindbox rm`, and is started again by
//! `run`, `exec` and `start` when it is gone.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::engine::socket;
use crate::error::{Error, Result};
use crate::plan::{HostService, labels};
use crate::process::{quote_argv, stop_child, tail, wait_for};

/// How long the service may take to answer.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// How long it gets to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

const LOG: &str = "service.log";
const CONFIG: &str = "containers.conf";
const PID: &str = "service.pid";

/// A throw-away sandbox's service: stopped, and its directory removed, when dropped.
pub struct Running {
    child: Child,
    dir: PathBuf,
}

/// Start the service as a child of this process, for one throw-away sandbox.
pub fn start(service: &HostService) -> Result<Running> {
    let child = spawn(service, false)?;
    Ok(Running {
        child,
        dir: PathBuf::from(&service.dir),
    })
}

/// A kept sandbox's service: make sure it answers, starting it in a session
/// of its own (it outlives this dindbox) when it does not.
pub fn ensure(service: &HostService) -> Result<()> {
    if socket::ping(Path::new(&service.socket), Duration::from_millis(500)) {
        return Ok(());
    }
    let child = spawn(service, true)?;
    let pid = child.id();
    let path = Path::new(&service.dir).join(PID);
    std::fs::write(&path, pid.to_string()).map_err(|e| Error::io("could not write", &path, e))
}

/// The service a kept sandbox carries in its labels.
pub fn of(labels: &BTreeMap<String, String>) -> Option<HostService> {
    serde_json::from_str(labels.get(labels::SERVICE)?).ok()
}

/// Stop a kept sandbox's service and remove its directory. A pid that is no
/// longer that service (the host restarted since) is left alone.
pub fn stop(service: &HostService) {
    let pid = std::fs::read_to_string(Path::new(&service.dir).join(PID))
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok());
    if let Some(pid) = pid.filter(|p| serves(*p, &service.socket)) {
        // Not our child (it outlived the dindbox that started it): watched by pid.
        let pid = Pid::from_raw(pid);
        let _ = kill(pid, Signal::SIGTERM);
        wait_for(STOP_GRACE, || kill(pid, None).is_err());
        let _ = kill(pid, Signal::SIGKILL);
    }
    let _ = std::fs::remove_dir_all(&service.dir);
}

/// Whether process `pid` is the service of `socket`.
fn serves(pid: i32, socket: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(socket))
        .unwrap_or(false)
}

/// Start the service and wait until its socket answers.
fn spawn(service: &HostService, detach: bool) -> Result<Child> {
    let dir = Path::new(&service.dir);
    make_dir(dir, 0o700)?;
    make_dir(&dir.join("api"), 0o755)?;
    let socket = Path::new(&service.socket);
    let _ = std::fs::remove_file(socket);
    let log_path = dir.join(LOG);
    let log = std::fs::File::create(&log_path)
        .map_err(|e| Error::io("could not create", &log_path, e))?;
    let err = log
        .try_clone()
        .map_err(|e| Error::io("could not open", &log_path, e))?;
    let mut cmd = Command::new(&service.argv[0]);
    cmd.args(&service.argv[1..])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    if detach {
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(Into::into));
        }
    } else {
        // Its own process group: a Ctrl-C at the terminal is the sandbox's, not the service's.
        cmd.process_group(0);
    }
    if let Some(conf) = &service.config {
        let path = dir.join(CONFIG);
        std::fs::write(&path, &conf.content).map_err(|e| Error::io("could not write", &path, e))?;
        cmd.env(&conf.env, &path);
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::failure(format!("could not start `{}`", quote_argv(&service.argv)))
            .cause(e.to_string())
    })?;
    if let Err(e) = wait_ready(&mut child, service, &log_path) {
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
        return Err(e);
    }
    open_socket(socket)?;
    Ok(child)
}

fn make_dir(dir: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| Error::io("could not create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("could not set the mode of", dir, e))
}

/// Every user inside the sandbox may use the socket, not only its root: on
/// the host, its private directory keeps everyone but its owner out.
fn open_socket(socket: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| Error::io("could not open to the sandbox's users", socket, e))
}

fn wait_ready(child: &mut Child, service: &HostService, log: &Path) -> Result<()> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        if socket::ping(Path::new(&service.socket), Duration::from_millis(500)) {
            return Ok(());
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || Instant::now() >= deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let how = if exited {
                "exited"
            } else {
                "did not answer in time"
            };
            return Err(Error::failure(format!("`{}` {how}", quote_argv(&service.argv)))
                .cause(tail(&text, 12))
                .hint("or start Podman's socket yourself: `systemctl --user enable --now podman.socket` as a user, `systemctl enable --now podman.socket` as root"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        stop_child(&mut self.child, STOP_GRACE);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
