//! A sandbox that boots systemd (`--systemd`).
//!
//! PID 1 starts as dindbox's init and sets the sandbox up as for any dind
//! sandbox (cgroups, /proc/sys/net). It then writes the inner engine's spec
//! and the unit that starts it under /run, where systemd reads runtime units,
//! and execs systemd, which becomes PID 1. The unit runs the `engine-unit`
//! role: it starts the inner engine (step-down and canary included), tells
//! systemd it is ready, writes the state file `enter` waits on, and on stop
//! shuts the engine down cleanly.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};

use super::{state, stepdown};
use crate::error::exit;
use crate::plan::inner::{CgroupSetup, INIT_PATH, InnerSpec};
use crate::trace;

/// The inner set-up, for the unit; written at every boot.
pub use crate::spec::init::SYSTEMD_SPEC_FILE as SPEC_FILE;
/// The unit that runs the inner engine.
pub use crate::spec::init::SYSTEMD_UNIT as UNIT;
/// Runtime units: emptied at every start of the sandbox, read by systemd at boot.
const UNIT_DIR: &str = "/run/systemd/system";
/// The init every systemd image has.
const SYSTEMD: &str = "/sbin/init";
/// How long systemd may take to mark the unit active once it said it is ready.
const ACTIVE_LIMIT: Duration = Duration::from_secs(5);
/// Within the 10 s that `docker stop` and `podman stop` wait before they
/// kill: the inner engine gets 5 s to stop (the unit 6 s), and the processes
/// left after the units (nested containers' own) are killed after 3 s.
const STOP_GRACE: Duration = Duration::from_secs(5);
const MANAGER_CONF: &str = "/run/systemd/system.conf.d/dindbox.conf";
const MANAGER_SETTINGS: &str = "# Written by dindbox init at each start of the sandbox.\n\
     # Processes left at shutdown (nested containers') are killed after 3 s,\n\
     # so that the sandbox stops within the engine's stop timeout.\n\
     [Manager]\nDefaultTimeoutStopSec=3s\n";

/// The unit file. The role's own time limits apply to the start, so systemd's
/// is off; stopping gets the engine's grace period and a margin.
pub fn unit_file() -> String {
    format!(
        "# Written by dindbox init at each start of the sandbox.\n\
         [Unit]\n\
         Description=dindbox: the sandbox's inner container engine\n\
         DefaultDependencies=no\n\
         After=local-fs.target systemd-journald.socket\n\
         Conflicts=shutdown.target\n\
         Before=shutdown.target\n\
         \n\
         [Service]\n\
         Type=notify\n\
         NotifyAccess=main\n\
         ExecStart={INIT_PATH} engine-unit --spec {SPEC_FILE}\n\
         PassEnvironment={}\n\
         TimeoutStartSec=infinity\n\
         TimeoutStopSec=6\n\
         KillMode=mixed\n\
         Delegate=yes\n\
         TasksMax=infinity\n\
         StandardOutput=journal\n\
         StandardError=journal\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        trace::ENV
    )
}

/// The report when the boot cannot go on: shown, and left for `enter`.
fn fail(report: String) -> i32 {
    eprintln!("{report}");
    let _ = state::write(false, Some(report));
    exit::INNER_ENGINE
}

/// PID 1 of a systemd sandbox: the set-up, the unit, then systemd itself.
pub fn boot(spec: &InnerSpec) -> i32 {
    let systemd = match std::fs::canonicalize(SYSTEMD) {
        Ok(path) => path,
        Err(e) => {
            return fail(format!(
                "dindbox: cannot boot systemd: this image has no {SYSTEMD} ({e}); build the systemd image with `dindbox image build --systemd`, or run without --systemd"
            ));
        }
    };
    if let Err(report) = super::prepare(spec) {
        return fail(report);
    }
    if let Err(e) = install(spec) {
        return fail(format!("dindbox: cannot boot systemd: {e}"));
    }
    trace::mark("booting systemd");
    // The path itself, not the /sbin/init link, so that PID 1 is named systemd.
    let err = Command::new(&systemd).exec();
    fail(format!(
        "dindbox: cannot boot systemd: could not run {}: {err}",
        systemd.display()
    ))
}

/// The spec for the unit, and the unit enabled for this boot.
fn install(spec: &InnerSpec) -> std::io::Result<()> {
    let with_path = |path: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    };
    std::fs::create_dir_all(state::STATE_DIR)
        .map_err(|e| with_path(Path::new(state::STATE_DIR), e))?;
    std::fs::write(SPEC_FILE, spec.to_json()).map_err(|e| with_path(Path::new(SPEC_FILE), e))?;
    let dir = Path::new(UNIT_DIR);
    let wants = dir.join("multi-user.target.wants");
    std::fs::create_dir_all(&wants).map_err(|e| with_path(&wants, e))?;
    let unit = dir.join(UNIT);
    std::fs::write(&unit, unit_file()).map_err(|e| with_path(&unit, e))?;
    let link = wants.join(UNIT);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&unit, &link).map_err(|e| with_path(&link, e))?;
    let conf = Path::new(MANAGER_CONF);
    if let Some(dir) = conf.parent() {
        std::fs::create_dir_all(dir).map_err(|e| with_path(dir, e))?;
    }
    std::fs::write(conf, MANAGER_SETTINGS).map_err(|e| with_path(conf, e))
}

/// Tell systemd about the service's state (`sd_notify`) through `socket`
/// (NOTIFY_SOCKET); false when there is none.
fn notify(socket_path: Option<&std::ffi::OsStr>, message: &str) -> bool {
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(path) = socket_path else {
        return false;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return false;
    };
    let bytes = path.as_bytes();
    let sent = match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)
                .and_then(|addr| socket.send_to_addr(message.as_bytes(), &addr))
        }
        None => socket.send_to(message.as_bytes(), path),
    };
    sent.is_ok()
}

/// Once systemd has the unit active, so that a command that asks systemd
/// finds the engine's unit active as soon as `enter` lets it run.
fn wait_active() {
    let deadline = Instant::now() + ACTIVE_LIMIT;
    while Instant::now() < deadline {
        match Command::new("systemctl")
            .args(["is-active", "--quiet", UNIT])
            .status()
        {
            Ok(status) if !status.success() => {}
            // Active, or no systemctl to ask.
            _ => return,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `engine-unit` role: start the inner engine, report, serve until stopped.
pub fn unit(spec_file: &Path) -> i32 {
    trace::mark("engine unit started");
    // Only this process speaks for the unit: the engine must not inherit it.
    let notify_socket = std::env::var_os("NOTIFY_SOCKET");
    // SAFETY: no other thread runs yet.
    unsafe { std::env::remove_var("NOTIFY_SOCKET") };
    let notify = |message: &str| notify(notify_socket.as_deref(), message);
    let spec = match std::fs::read_to_string(spec_file)
        .map_err(|e| e.to_string())
        .and_then(|text| InnerSpec::from_json(&text).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            return fail(format!(
                "dindbox: could not read the inner set-up from {}: {e}",
                spec_file.display()
            ));
        }
    };
    if matches!(spec.cgroup, CgroupSetup::MountV1 { .. })
        && let Err(e) = super::cgroup::drop_unmounted_v1_dirs()
    {
        eprintln!("dindbox: {e}");
    }
    let daemon = match &spec.engine {
        Some(engine) => match stepdown::start(engine) {
            Ok(running) => running.daemon,
            Err(e) => {
                notify(&format!("STATUS={}", e.reason));
                return fail(e.report(engine.kind));
            }
        },
        None => None,
    };
    if notify("READY=1") {
        wait_active();
    }
    if let Err(e) = state::write(true, None) {
        eprintln!("dindbox: could not write {}: {e}", state::STATE_FILE);
    }
    trace::mark("engine unit ready");
    serve(daemon)
}

/// Until systemd stops the unit: then the engine stops cleanly. An engine
/// that exits by itself fails the unit.
fn serve(mut daemon: Option<Child>) -> i32 {
    let mut mask = SigSet::empty();
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGCHLD] {
        mask.add(sig);
    }
    if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None) {
        eprintln!("dindbox: could not block signals: {e}");
        return exit::FAILURE;
    }
    loop {
        if let Some(child) = daemon.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            eprintln!("dindbox: the inner engine exited ({status})");
            return exit::INNER_ENGINE;
        }
        match mask.wait() {
            Ok(Signal::SIGTERM | Signal::SIGINT) => {
                if let Some(child) = daemon {
                    super::stop(child, STOP_GRACE);
                }
                return 0;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("dindbox: waiting for signals failed: {e}");
                return exit::FAILURE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_the_engine_role_and_reports_readiness() {
        let unit = unit_file();
        assert!(unit.contains("Type=notify\n"), "{unit}");
        assert!(
            unit.contains(&format!(
                "ExecStart={INIT_PATH} engine-unit --spec {SPEC_FILE}\n"
            )),
            "{unit}"
        );
        assert!(unit.contains("KillMode=mixed\n"), "{unit}");
        assert!(unit.contains("WantedBy=multi-user.target\n"), "{unit}");
    }
}
