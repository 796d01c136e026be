//! The `reach` role: which host-wide kernel interfaces this process gets at.
//!
//! It is the probe of the isolation tests, run inside a sandbox: each check
//! asks the kernel for one thing that reaches past the sandbox (a kernel
//! filesystem, BPF, system-wide perf events, the kernel log, loading a module
//! or a kernel, kernel settings, kernel memory, raw disks, a cgroup release
//! agent, files by handle) and says what the kernel answered.
//!
//! Every check leaves things as they were: nothing is written, loaded or
//! kept. The calls that would change something are made with arguments the
//! kernel refuses right after its permission check; what is mounted or made
//! is made in a scratch directory under /tmp and removed at once.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use serde::Serialize;

use crate::probe::host::{CAP_NAMES, status_field};

/// What this process reaches, and who it is.
#[derive(Debug, Serialize)]
pub struct Report {
    /// /proc/self/uid_map: (inside, outside, count) per line.
    pub uid_map: Vec<(u64, u64, u64)>,
    /// Uid 0 here is uid 0 outside this user namespace: the map has a line `0 0 N`.
    pub host_root: bool,
    /// The effective capabilities (CapEff), by name.
    pub cap_eff: Vec<String>,
    /// No exec gains privileges here (`no-new-privileges`): NoNewPrivs is 1.
    pub no_new_privs: bool,
    pub checks: Vec<Check>,
}

/// One interface, and what the kernel answered.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub reached: bool,
    pub detail: String,
}

/// One attempt: `Ok` says how it reached, `Err` how it was refused.
type Attempt = Result<String, String>;

impl Check {
    fn of(name: &'static str, attempt: Attempt) -> Check {
        Check::any(name, vec![attempt])
    }

    /// Reached when any attempt reached; the detail tells each.
    fn any(name: &'static str, attempts: Vec<Attempt>) -> Check {
        let reached = attempts.iter().any(Result::is_ok);
        let detail = attempts
            .into_iter()
            .map(|a| a.unwrap_or_else(|e| e))
            .collect::<Vec<_>>()
            .join("; ");
        Check {
            name,
            reached,
            detail,
        }
    }
}

/// The settings a sandbox must not change, all host-wide.
const SETTINGS: [&str; 3] = [
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/swappiness",
];

const KERNEL_MEMORY: [&str; 4] = ["/proc/kcore", "/dev/mem", "/dev/port", "/dev/kmem"];

/// Files whose handle is asked for: the root, and files engines bind-mount
/// from the host's filesystems (this binary among them).
const HANDLE_PATHS: [&str; 4] = ["/", "/etc/hosts", "/etc/resolv.conf", "/proc/self/exe"];

/// How many whole disks get a node made and opened.
const DISKS_TRIED: usize = 4;

pub fn probe() -> Report {
    probe_with(Scratch::new())
}

fn probe_with(scratch: Scratch) -> Report {
    let uid_map = parse_uid_map(&fs::read_to_string("/proc/self/uid_map").unwrap_or_default());
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let checks = vec![
        Check::of("tracefs", filesystem(&scratch, "tracefs")),
        Check::of("debugfs", filesystem(&scratch, "debugfs")),
        Check::of("securityfs", filesystem(&scratch, "securityfs")),
        Check::of("bpffs", filesystem(&scratch, "bpf")),
        Check::of("pstore", filesystem(&scratch, "pstore")),
        Check::of("bpf", bpf_map()),
        Check::of("perf_event_open system-wide", perf_system_wide()),
        Check::any("kernel log", vec![kernel_log(), open_read("/dev/kmsg")]),
        Check::of("kernel modules", init_module()),
        Check::of("kexec_load", kexec_load()),
        Check::any("kernel settings", SETTINGS.map(open_write).to_vec()),
        Check::of("sysrq", open_write("/proc/sysrq-trigger")),
        Check::any("kernel memory", KERNEL_MEMORY.map(open_read).to_vec()),
        Check::any("raw disks", raw_disks(&scratch)),
        Check::of("cgroup release_agent", release_agent(&scratch)),
        Check::any("open_by_handle_at", HANDLE_PATHS.map(by_handle).to_vec()),
    ];
    Report {
        host_root: is_host_root(&uid_map),
        uid_map,
        cap_eff: cap_names(cap_eff(&status).unwrap_or(0)),
        no_new_privs: status_field(&status, "NoNewPrivs") == Some("1"),
        checks,
    }
}

/// `uid_map` lines as (inside, outside, count); malformed lines are skipped.
fn parse_uid_map(text: &str) -> Vec<(u64, u64, u64)> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<u64> = line
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            match fields[..] {
                [inside, outside, count] => Some((inside, outside, count)),
                _ => None,
            }
        })
        .collect()
}

fn is_host_root(uid_map: &[(u64, u64, u64)]) -> bool {
    uid_map
        .iter()
        .any(|&(inside, outside, count)| inside == 0 && outside == 0 && count > 0)
}

/// The CapEff mask of a /proc/PID/status text.
fn cap_eff(status: &str) -> Option<u64> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// The names of a mask's bits; a bit this binary has no name for is `cap_N`.
fn cap_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| match CAP_NAMES.get(bit) {
            Some(name) => name.to_string(),
            None => format!("cap_{bit}"),
        })
        .collect()
}

/// How a failed call reads in a detail: `mount: Operation not permitted (EPERM)`.
fn said(call: &str, errno: Errno) -> String {
    // The C library's wording (nix's differs for some, e.g. EOPNOTSUPP).
    let text = std::io::Error::from_raw_os_error(errno as i32).to_string();
    let desc = text
        .rsplit_once(" (os error")
        .map_or(text.as_str(), |(d, _)| d);
    format!("{call}: {desc} ({errno:?})")
}

fn said_io(call: &str, err: &std::io::Error) -> String {
    said(call, Errno::from_raw(err.raw_os_error().unwrap_or(0)))
}

/// A directory under /tmp for what the checks mount and make. Each check
/// removes what it made; the directory itself goes on drop.
struct Scratch(Result<PathBuf, String>);

impl Scratch {
    fn new() -> Scratch {
        Scratch(
            nix::unistd::mkdtemp("/tmp/dindbox-reach.XXXXXX")
                .map_err(|e| said("scratch directory under /tmp", e)),
        )
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.0.as_ref().map(|d| d.join(name)).map_err(Clone::clone)
    }

    /// Mounts `fstype` on a new directory; unmounted and removed when the result drops.
    fn mount(&self, fstype: &str, data: Option<&str>) -> Result<Mounted, String> {
        let dir = self.path(fstype)?;
        nix::unistd::mkdir(&dir, Mode::S_IRWXU).map_err(|e| said("mkdir", e))?;
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        match mount(Some(fstype), &dir, Some(fstype), flags, data) {
            Ok(()) => Ok(Mounted(dir)),
            Err(e) => {
                let _ = fs::remove_dir(&dir);
                Err(said("mount", e))
            }
        }
    }

    /// Makes a block node for `major:minor`; removed when the result drops.
    fn block_node(&self, major: u64, minor: u64) -> Result<Made, String> {
        let path = self.path(&format!("block-{major}-{minor}"))?;
        mknod(&path, SFlag::S_IFBLK, Mode::S_IRUSR, makedev(major, minor))
            .map_err(|e| said("mknod", e))?;
        Ok(Made(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(dir) = &self.0 {
            // Only when empty: a mount left behind is never recursed into.
            let _ = fs::remove_dir(dir);
        }
    }
}

struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        if umount2(&self.0, MntFlags::empty()).is_err() {
            let _ = umount2(&self.0, MntFlags::MNT_DETACH);
        }
        let _ = fs::remove_dir(&self.0);
    }
}

struct Made(PathBuf);

impl Drop for Made {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Mounting a kernel filesystem of its own: tracefs, debugfs, securityfs, bpf, pstore.
fn filesystem(scratch: &Scratch, fstype: &str) -> Attempt {
    scratch
        .mount(fstype, None)
        .map(|_mounted| format!("mount {fstype}: mounted (and unmounted)"))
}

/// A new cgroup v1 hierarchy, whose release agent the kernel runs as root on the host.
fn release_agent(scratch: &Scratch) -> Attempt {
    const DATA: &str = "none,name=dindboxreach";
    let mounted = scratch
        .mount("cgroup", Some(DATA))
        .map_err(|e| format!("cgroup ({DATA}): {e}"))?;
    match OpenOptions::new()
        .write(true)
        .open(mounted.0.join("release_agent"))
    {
        Ok(_) => Ok(format!(
            "mount cgroup ({DATA}): mounted; release_agent opened for writing"
        )),
        Err(e) => Err(format!(
            "mount cgroup ({DATA}): mounted; {}",
            said_io("open release_agent", &e)
        )),
    }
}

/// An fd the kernel returned, closed at once; or the errno it said.
fn fd_or_errno(call: &str, ret: libc::c_long, what: &str) -> Attempt {
    if ret < 0 {
        return Err(said(call, Errno::last()));
    }
    // SAFETY: the call returned a new descriptor that nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) });
    Ok(format!("{call}: {what}"))
}

/// Creating the smallest BPF map: what BPF programs, and BPF tokens, start from.
fn bpf_map() -> Attempt {
    const BPF_MAP_CREATE: libc::c_long = 0;
    const BPF_MAP_TYPE_ARRAY: u32 = 2;
    // union bpf_attr for BPF_MAP_CREATE: map type, key size, value size,
    // entries; the rest zero.
    let mut attr = [0u32; 16];
    attr[..4].copy_from_slice(&[BPF_MAP_TYPE_ARRAY, 4, 4, 1]);
    // SAFETY: attr is a readable buffer of the size passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_CREATE,
            attr.as_mut_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    fd_or_errno("bpf(BPF_MAP_CREATE)", ret, "made an array map")
}

/// struct perf_event_attr as of its first version (PERF_ATTR_SIZE_VER0).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// Bit 0: disabled.
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

/// A disabled CPU clock counting on CPU 0 for every process: system-wide perf events.
fn perf_system_wide() -> Attempt {
    const PERF_TYPE_SOFTWARE: u32 = 1;
    const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
    const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
    let attr = PerfEventAttr {
        kind: PERF_TYPE_SOFTWARE,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: PERF_COUNT_SW_CPU_CLOCK,
        flags: 1,
        ..PerfEventAttr::default()
    };
    let (pid, cpu, group): (libc::pid_t, libc::c_int, libc::c_int) = (-1, 0, -1);
    // SAFETY: attr is a perf_event_attr of the size it says.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid,
            cpu,
            group,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    fd_or_errno("perf_event_open(pid -1, cpu 0)", ret, "opened a counter")
}

/// Reading the kernel's log buffer (which does not clear it).
fn kernel_log() -> Attempt {
    const SYSLOG_ACTION_READ_ALL: libc::c_int = 3;
    let mut buf = [0 as libc::c_char; 1024];
    // SAFETY: buf is writable for the length passed.
    let n = unsafe { libc::klogctl(SYSLOG_ACTION_READ_ALL, buf.as_mut_ptr(), buf.len() as _) };
    if n < 0 {
        return Err(said("syslog(READ_ALL)", Errno::last()));
    }
    Ok(format!("syslog(READ_ALL): read {n} bytes"))
}

/// Whether a call made to fail just past its permission check got past it.
/// EPERM and EACCES are the check saying no (or seccomp, or lockdown);
/// ENOSYS, a kernel without the call. Any other error is about the
/// arguments, so the caller was allowed.
fn past_permission_check(call: &str, ret: libc::c_long) -> Attempt {
    let errno = if ret < 0 {
        Errno::last()
    } else {
        Errno::UnknownErrno
    };
    classify(call, errno)
}

fn classify(call: &str, errno: Errno) -> Attempt {
    match errno {
        Errno::EPERM | Errno::EACCES | Errno::ENOSYS => Err(said(call, errno)),
        Errno::UnknownErrno => Ok(format!("{call}: succeeded")),
        _ => Ok(format!(
            "{}: the permission check passed",
            said(call, errno)
        )),
    }
}

/// init_module of an empty image: ENOEXEC once CAP_SYS_MODULE is granted.
fn init_module() -> Attempt {
    // SAFETY: a null image of length 0 is read by nobody; the params are "".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_ulong,
            c"".as_ptr(),
        )
    };
    past_permission_check("init_module", ret)
}

/// kexec_load with more segments than the kernel takes: EINVAL once
/// CAP_SYS_BOOT is granted. (With none it would unload a loaded kernel.)
fn kexec_load() -> Attempt {
    const KEXEC_SEGMENT_MAX: libc::c_ulong = 16;
    // SAFETY: the segment count is refused before the null segments are read.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_kexec_load,
            0 as libc::c_ulong,
            KEXEC_SEGMENT_MAX + 1,
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_ulong,
        )
    };
    past_permission_check("kexec_load", ret)
}

/// Opening a file, then closing it without reading or writing a byte. A
/// kernel file of /proc or /sys that opens as a device node is masked: the
/// engine mounted one (/dev/null) over it, and nothing of the kernel's opened.
fn open_with(path: &str, options: &mut OpenOptions, how: &str) -> Attempt {
    match options
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) if masked(path, &file) => {
            Err(format!("{path}: masked (a device node is mounted over it)"))
        }
        Ok(_) => Ok(format!("{path}: opened {how}")),
        Err(e) => Err(said_io(path, &e)),
    }
}

fn masked(path: &str, file: &File) -> bool {
    (path.starts_with("/proc/") || path.starts_with("/sys/"))
        && file
            .metadata()
            .is_ok_and(|m| m.file_type().is_char_device() || m.file_type().is_block_device())
}

fn open_read(path: &str) -> Attempt {
    open_with(path, OpenOptions::new().read(true), "for reading")
}

fn open_write(path: &str) -> Attempt {
    open_with(path, OpenOptions::new().write(true), "for writing")
}

/// A whole disk the kernel has: its device number and name.
#[derive(Debug, PartialEq)]
struct Disk {
    major: u64,
    minor: u64,
    name: String,
}

/// Whole disks in /sys/dev/block (not partitions, loop devices or RAM disks).
fn whole_disks(sys_dev_block: &Path) -> Vec<Disk> {
    const RAM: u64 = 1;
    const LOOP: u64 = 7;
    let Ok(entries) = fs::read_dir(sys_dev_block) else {
        return Vec::new();
    };
    let mut disks: Vec<Disk> = entries
        .flatten()
        .filter(|e| !e.path().join("partition").exists())
        .filter_map(|e| {
            let number = e.file_name().to_string_lossy().into_owned();
            let (major, minor) = number.split_once(':')?;
            let name = fs::read_link(e.path()).ok()?;
            Some(Disk {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                name: name.file_name()?.to_string_lossy().into_owned(),
            })
        })
        .filter(|d| d.major != RAM && d.major != LOOP)
        .collect();
    disks.sort_by_key(|d| (d.major, d.minor));
    disks
}

/// A node made for each of the first whole disks, opened; and the block nodes already in /dev.
fn raw_disks(scratch: &Scratch) -> Vec<Attempt> {
    let mut attempts: Vec<Attempt> = whole_disks(Path::new("/sys/dev/block"))
        .iter()
        .take(DISKS_TRIED)
        .map(|disk| disk_node(scratch, disk))
        .collect();
    if attempts.is_empty() {
        attempts.push(Err("/sys/dev/block: no whole disk".into()));
    }
    let in_dev: Vec<String> = fs::read_dir("/dev")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_block_device()))
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    if in_dev.is_empty() {
        attempts.push(Err("/dev: no block nodes".into()));
    }
    attempts.extend(in_dev.iter().map(|p| open_read(p)));
    attempts
}

fn disk_node(scratch: &Scratch, disk: &Disk) -> Attempt {
    let Disk { major, minor, name } = disk;
    let label = format!("{name} ({major}:{minor})");
    let node = scratch
        .block_node(*major, *minor)
        .map_err(|e| format!("{label}: {e}"))?;
    match File::open(&node.0) {
        Ok(_) => Ok(format!("{label}: node made and opened for reading")),
        Err(e) => Err(format!("{label}: node made; {}", said_io("open", &e))),
    }
}

/// struct file_handle with room for the largest handle.
#[repr(C)]
struct FileHandle {
    bytes: u32,
    kind: libc::c_int,
    data: [u8; libc::MAX_HANDLE_SZ as usize],
}

/// A file opened by its handle, as the "shocker" escape opens the host's
/// root: the kernel takes a handle only from CAP_DAC_READ_SEARCH.
fn by_handle(path: &str) -> Attempt {
    let cpath = CString::new(path).map_err(|e| e.to_string())?;
    let mut handle = FileHandle {
        bytes: libc::MAX_HANDLE_SZ as u32,
        kind: 0,
        data: [0; libc::MAX_HANDLE_SZ as usize],
    };
    let handle_ptr = (&mut handle as *mut FileHandle).cast::<libc::file_handle>();
    let mut mount_id: libc::c_int = 0;
    // SAFETY: handle has room for MAX_HANDLE_SZ bytes, as its size field says.
    let ret = unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            cpath.as_ptr(),
            handle_ptr,
            &mut mount_id,
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if ret < 0 {
        return Err(said(&format!("{path}: name_to_handle_at"), Errno::last()));
    }
    let mount_fd = File::open(path).map_err(|e| said_io(&format!("{path}: open"), &e))?;
    // SAFETY: handle was filled in by name_to_handle_at.
    let fd = unsafe {
        libc::open_by_handle_at(
            mount_fd.as_raw_fd(),
            handle_ptr,
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    fd_or_errno(
        &format!("{path}: open_by_handle_at"),
        fd.into(),
        "opened by handle",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_map_lines_parse_and_host_root_is_a_0_0_line() {
        let host = parse_uid_map("         0          0 4294967295\n");
        assert_eq!(host, vec![(0, 0, 4294967295)]);
        assert!(is_host_root(&host));

        let rootless =
            parse_uid_map("         0       1000          1\n         1     100000      65536\n");
        assert_eq!(rootless, vec![(0, 1000, 1), (1, 100000, 65536)]);
        assert!(!is_host_root(&rootless));

        // Host uids mapped, but not onto 0: not root outside.
        assert!(!is_host_root(&parse_uid_map("1000 1000 1\n0 5000 1\n")));
        assert!(parse_uid_map("0 0\nx y z\n\n").is_empty());
    }

    #[test]
    fn cap_eff_masks_decode_to_names() {
        let status = "Name:\tsh\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n";
        let docker_default = cap_names(cap_eff(status).unwrap());
        assert_eq!(
            docker_default,
            [
                "CAP_CHOWN",
                "CAP_DAC_OVERRIDE",
                "CAP_FOWNER",
                "CAP_FSETID",
                "CAP_KILL",
                "CAP_SETGID",
                "CAP_SETUID",
                "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE",
                "CAP_NET_RAW",
                "CAP_SYS_CHROOT",
                "CAP_MKNOD",
                "CAP_AUDIT_WRITE",
                "CAP_SETFCAP",
            ]
        );
        let full = cap_names(0x0000_01ff_ffff_ffff);
        assert_eq!(full.len(), 41);
        assert_eq!(full[21], "CAP_SYS_ADMIN");
        assert_eq!(cap_names(1 << 41), ["cap_41"]);
        assert!(cap_names(0).is_empty());
        assert_eq!(cap_eff("CapEff:\tnothex\n"), None);
    }

    #[test]
    fn errnos_past_the_permission_check_count_as_reached() {
        for refused in [Errno::EPERM, Errno::EACCES, Errno::ENOSYS] {
            let attempt = classify("init_module", refused);
            assert!(attempt.is_err(), "{refused:?}: {attempt:?}");
        }
        assert_eq!(
            classify("init_module", Errno::EPERM),
            Err("init_module: Operation not permitted (EPERM)".into())
        );
        for reached in [Errno::ENOEXEC, Errno::EFAULT, Errno::EINVAL] {
            let attempt = classify("kexec_load", reached);
            assert!(attempt.is_ok(), "{reached:?}: {attempt:?}");
        }
        assert_eq!(
            classify("kexec_load", Errno::EINVAL),
            Ok("kexec_load: Invalid argument (EINVAL): the permission check passed".into())
        );
        assert_eq!(
            said("name_to_handle_at", Errno::EOPNOTSUPP),
            "name_to_handle_at: Operation not supported (EOPNOTSUPP)"
        );
    }

    #[test]
    fn any_attempt_reaching_reaches_and_the_detail_tells_each() {
        let check = Check::any("x", vec![Err("a: no".into()), Ok("b: yes".into())]);
        assert!(check.reached);
        assert_eq!(check.detail, "a: no; b: yes");
        assert!(!Check::of("x", Err("no".into())).reached);
    }

    /// The whole probe, in this process: outside a sandbox, as root, the
    /// host's kernel is in reach.
    #[test]
    fn probe_runs_and_every_check_says_what_happened() {
        let scratch = Scratch::new();
        let dir = scratch.0.clone().expect("a scratch directory under /tmp");
        let report = probe_with(scratch);
        assert!(!dir.exists(), "{} left behind", dir.display());
        assert_eq!(
            report.host_root,
            report.uid_map.iter().any(|&(i, o, _)| i == 0 && o == 0),
            "{report:?}"
        );
        assert_eq!(report.checks.len(), 16);
        for check in &report.checks {
            assert!(!check.detail.is_empty(), "{check:?}");
        }
        let reached = |name| report.checks.iter().any(|c| c.name == name && c.reached);
        if report.host_root && report.cap_eff.iter().any(|c| c == "CAP_SYS_ADMIN") {
            assert!(reached("tracefs") || reached("bpf"), "{report:#?}");
        }
    }
}
