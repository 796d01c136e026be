//! The rootless test user `dindbox-test` (made by `scripts/setup-host.sh`):
//! running dindbox and Podman as that user, its workspace, its clean-up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{BIN, Run};

pub const USER: &str = "dindbox-test";

/// The test user's uid (`id -u`) or gid (`id -g`).
fn id(flag: &str) -> u32 {
    let out = Command::new("id").args([flag, USER]).output().unwrap();
    assert!(
        out.status.success(),
        "the test user {USER} must exist (scripts/setup-host.sh)"
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

pub fn uid() -> u32 {
    id("-u")
}

pub fn gid() -> u32 {
    id("-g")
}

pub fn home() -> String {
    let out = Command::new("getent")
        .args(["passwd", USER])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    line.trim()
        .split(':')
        .nth(5)
        .unwrap_or_default()
        .to_string()
}

pub fn runtime_dir() -> String {
    format!("/run/user/{}", uid())
}

/// dindbox, copied where the test user can run it (the build tree may be closed to it).
pub fn user_binary() -> &'static Path {
    static BIN_COPY: OnceLock<PathBuf> = OnceLock::new();
    BIN_COPY.get_or_init(|| {
        remove_copies_of_finished_runs();
        let dir = std::env::temp_dir().join(format!("{BIN_COPY_PREFIX}{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dindbox");
        std::fs::copy(BIN, &path).unwrap();
        for p in [&dir, &path] {
            Command::new("chmod").args(["755"]).arg(p).status().unwrap();
        }
        path
    })
}

pub const BIN_COPY_PREFIX: &str = "dindbox-rootless-bin-";

/// Copies made by earlier test runs whose process is gone.
pub fn remove_copies_of_finished_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(BIN_COPY_PREFIX)
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A workspace the test user owns.
pub fn user_workspace() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dindbox-rootless-ws-")
        .tempdir()
        .unwrap();
    let status = Command::new("chown")
        .args([&format!("{USER}:{USER}")])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

pub fn as_user(program: &str, args: &[&str], dir: &Path) -> Run {
    as_user_with(program, args, dir, &[])
}

pub fn as_user_with(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Run {
    let home = home();
    let runtime = runtime_dir();
    assert!(
        Path::new(&runtime).is_dir(),
        "{runtime} must exist (scripts/setup-host.sh)"
    );
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", USER, "--", "env", "-i"])
        .arg(format!("XDG_RUNTIME_DIR={runtime}"))
        .arg(format!("HOME={home}"))
        .arg("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .args(env.iter().map(|(k, v)| format!("{k}={v}")))
        .arg(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null());
    Run::from(cmd.output().expect("runuser runs"))
}

pub fn user_dindbox(args: &[&str], dir: &Path) -> Run {
    as_user(&user_binary().display().to_string(), args, dir)
}

/// `dindbox run -n NAME -m dind --inner INNER FLAGS -x CMD` as the test user.
pub fn user_dind(
    ws: &tempfile::TempDir,
    name: &str,
    inner: &str,
    flags: &[&str],
    cmd: &str,
) -> Run {
    let mut args = vec!["run", "-n", name, "-m", "dind", "--inner", inner, "-x", cmd];
    args.extend_from_slice(flags);
    user_dindbox(&args, ws.path())
}

pub fn user_podman(args: &[&str]) -> Run {
    as_user("podman", args, Path::new("/"))
}

/// Nothing of the sandbox `name` is left in the test user's Podman.
pub fn assert_nothing_left_for_user(name: &str) {
    assert_ne!(
        user_podman(&["container", "inspect", name]).code,
        0,
        "container {name} was left in {USER}'s Podman"
    );
    let vols = user_podman(&["volume", "ls", "-q"]).ok().stdout;
    assert!(
        !vols.lines().any(|v| v.starts_with(name)),
        "a volume of {name} was left in {USER}'s Podman: {vols}"
    );
}

/// Removes what a test made in the test user's Podman, even when it fails.
pub struct UserCleanup(pub Vec<String>);

impl Drop for UserCleanup {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = user_podman(&["rm", "-f", "-v", name]);
            let _ = user_podman(&["volume", "rm", "-f", &format!("{name}-storage")]);
        }
    }
}
