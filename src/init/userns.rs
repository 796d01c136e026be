//! The user namespace the init makes where the engine gives the sandbox none
//! (Docker). The init, PID 1 with the sandbox's capabilities, stays outside:
//! it forks a child that makes a user namespace with a mount and a network
//! namespace of its own, writes the child's id maps, id-maps the bind mounts
//! whose files must keep their host owners, and moves the sandbox's network
//! interfaces (with their addresses and routes) into the child's network
//! namespace. The child becomes the namespace's root and goes on as the init
//! of everything else (inner engine, command, `enter`'s commands); PID 1
//! forwards signals to it, reaps orphans, and exits with its status.
//!
//! Inside, root holds its capabilities only over the namespaces it owns: the
//! kernel refuses it what only the host's root may do (tracing, BPF, perf,
//! modules, raw disks, kernel settings), whatever the sandbox was given.

use std::ffi::CString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::mount::{MntFlags, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Gid, Pid, Uid, fork, setgroups, setresgid, setresuid};
use serde::{Deserialize, Serialize};

use super::netlink::{Address, Rtnl};
use crate::error::exit;
use crate::spec::init::InitUserNs;
use crate::spec::{IdRange, host_id};

/// What the init is after the split.
pub enum Role {
    /// PID 1, outside: supervise the child, then exit with this status.
    Outside(i32),
    /// The child, root of the new namespaces: go on setting up.
    Inside,
}

/// A network interface moved into the child, with what it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    /// `ADDRESS/PREFIX`, IPv4 and global IPv6.
    pub addresses: Vec<String>,
    /// Gateways of default routes through it.
    pub gateways: Vec<String>,
}

/// The uid_map / gid_map text of `ranges`.
pub fn map_text(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count))
        .collect()
}

/// Mount points under /proc and /sys that the engine put there (masks and
/// read-only binds), deepest first, from /proc/self/mountinfo; cgroup mounts
/// stay. The kernel lets a user namespace mount proc and sysfs (as nested
/// containers do) only where a whole one is visible.
pub fn covering_mounts(mountinfo: &str) -> Vec<String> {
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(unescape)
        .filter(|p| {
            (p.starts_with("/proc/") || p.starts_with("/sys/"))
                && p != "/sys/fs/cgroup"
                && !p.starts_with("/sys/fs/cgroup/")
        })
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    points.dedup();
    points
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The links to move (every one but loopback), with their global
/// addresses and default routes, from what the kernel lists.
pub fn links_of(
    links: &[(u32, String)],
    addresses: &[Address],
    gateways: &[(u32, IpAddr)],
) -> Vec<Link> {
    links
        .iter()
        .filter(|(_, name)| name != "lo")
        .map(|(index, name)| Link {
            name: name.clone(),
            addresses: addresses
                .iter()
                .filter(|a| a.index == *index && a.global)
                .map(|a| format!("{}/{}", a.ip, a.prefix))
                .collect(),
            gateways: gateways
                .iter()
                .filter(|(oif, _)| oif == index)
                .map(|(_, gw)| gw.to_string())
                .collect(),
        })
        .collect()
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe().map_err(|e| format!("could not make a pipe: {e}"))
}

/// Split: fork the child that makes the namespaces, and do the outside's part.
pub fn split(ns: &InitUserNs, mask: &SigSet) -> Result<Role, String> {
    if ns.unmask {
        unmask_proc_and_sys()?;
    }
    own_state_dir(ns)?;
    let (to_child_r, to_child_w) = pipe()?;
    let (to_parent_r, to_parent_w) = pipe()?;
    // SAFETY: the init is single-threaded here; the child only makes
    // system calls and allocates before it goes on as the init.
    match unsafe { fork() }.map_err(|e| format!("could not fork: {e}"))? {
        ForkResult::Child => {
            drop(to_child_w);
            drop(to_parent_r);
            match inside(to_child_r, to_parent_w, &ns.outside_only) {
                Ok(()) => Ok(Role::Inside),
                Err(e) => {
                    eprintln!("dindbox: the sandbox's user namespace could not be set up: {e}");
                    std::process::exit(exit::INNER_ENGINE);
                }
            }
        }
        ForkResult::Parent { child } => {
            drop(to_child_r);
            drop(to_parent_w);
            if let Err(e) = outside(ns, child, to_child_w, to_parent_r) {
                let _ = kill(child, Signal::SIGKILL);
                let _ = waitpid(child, None);
                return Err(format!(
                    "dindbox: the sandbox's user namespace could not be set up: {e}"
                ));
            }
            Ok(Role::Outside(supervise(child, mask)))
        }
    }
}

/// The init's report directory (which the engine made for the mounts under
/// it), owned by the namespace's root, who writes the report.
fn own_state_dir(ns: &InitUserNs) -> Result<(), String> {
    let dir = super::state::STATE_DIR;
    let root = |ranges: &[IdRange]| host_id(ranges, 0).and_then(|id| u32::try_from(id).ok());
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {dir}: {e}"))?;
    std::os::unix::fs::chown(dir, root(&ns.uids), root(&ns.gids))
        .map_err(|e| format!("could not give {dir} to the namespace's root: {e}"))
}

/// Take away what the engine mounted over parts of /proc and /sys.
fn unmask_proc_and_sys() -> Result<(), String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("could not read /proc/self/mountinfo: {e}"))?;
    for point in covering_mounts(&info) {
        match umount2(point.as_str(), MntFlags::MNT_DETACH) {
            Ok(()) | Err(Errno::EINVAL | Errno::ENOENT) => {}
            Err(e) => return Err(format!("could not unmount {point}: {e}")),
        }
    }
    Ok(())
}

fn read_byte(fd: &OwnedFd) -> Result<u8, String> {
    let mut b = [0u8; 1];
    let mut f = std::fs::File::from(fd.try_clone().map_err(|e| e.to_string())?);
    f.read_exact(&mut b)
        .map_err(|_| "the other side of the set-up went away".to_string())?;
    Ok(b[0])
}

fn write_bytes(fd: &OwnedFd, bytes: &[u8]) -> Result<(), String> {
    let mut f = std::fs::File::from(fd.try_clone().map_err(|e| e.to_string())?);
    f.write_all(bytes).map_err(|e| e.to_string())
}

/// The child: a user namespace, then (once mapped) a mount and a network
/// namespace of its own; then root in it, with the links set up.
fn inside(from_parent: OwnedFd, to_parent: OwnedFd, outside_only: &[String]) -> Result<(), String> {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    let dropped: Vec<i32> = outside_only.iter().filter_map(|c| cap_number(c)).collect();
    let given: Vec<i32> = bounding_set()
        .into_iter()
        .filter(|c| !dropped.contains(c))
        .collect();
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
    write_bytes(&to_parent, b"u")?;
    read_byte(&from_parent)?;
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("unshare(CLONE_NEWNS|CLONE_NEWNET): {e}"))?;
    become_root()?;
    bound_to(&given)?;
    // `enter`, root outside, joins this process's mount and network
    // namespaces once it is root of its user namespace: the kernel lets it
    // open them only while this process stays dumpable, which taking the
    // namespace's ids turned off.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    write_bytes(&to_parent, b"n")?;
    let mut line = String::new();
    BufReader::new(std::fs::File::from(from_parent))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let links: Vec<Link> =
        serde_json::from_str(line.trim()).map_err(|e| format!("the links' description: {e}"))?;
    set_up_links(&links)?;
    // The working directory the engine gave is the mount under the
    // id-mapped one now over it: come to it again by its path.
    if let Ok(dir) = std::env::current_dir() {
        let _ = std::env::set_current_dir(dir);
    }
    // Orphans of the commands are the child's to reap, as PID 1's would be.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    Ok(())
}

/// Capabilities by number, as <linux/capability.h> numbers them.
const CAPS: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A capability's number from its name, with or without `CAP_`.
pub fn cap_number(name: &str) -> Option<i32> {
    let name = name.strip_prefix("CAP_").unwrap_or(name);
    CAPS.iter().position(|c| *c == name).map(|i| i as i32)
}

/// The capabilities in this process's bounding set, by number.
pub fn bounding_set() -> Vec<i32> {
    let last: i32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(40);
    // SAFETY: prctl with integer arguments only.
    (0..=last)
        .filter(|&cap| unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } == 1)
        .collect()
}

/// A new user namespace gives its root every capability, bounding set
/// included: drop from it what the sandbox was not given (`keep`), so that
/// every program run from here on holds no more than the plan lists.
pub fn bound_to(keep: &[i32]) -> Result<(), String> {
    for cap in bounding_set() {
        // SAFETY: prctl with integer arguments only.
        if !keep.contains(&cap) && unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0
        {
            return Err(format!(
                "could not drop capability {cap} from the bounding set: {}",
                Errno::last()
            ));
        }
    }
    Ok(())
}

/// uid and gid 0 of the namespace, with no supplementary groups.
pub fn become_root() -> Result<(), String> {
    let zero_g = Gid::from_raw(0);
    let zero_u = Uid::from_raw(0);
    setresgid(zero_g, zero_g, zero_g).map_err(|e| format!("setresgid(0): {e}"))?;
    setgroups(&[zero_g]).map_err(|e| format!("setgroups([0]): {e}"))?;
    setresuid(zero_u, zero_u, zero_u).map_err(|e| format!("setresuid(0): {e}"))
}

fn set_up_links(links: &[Link]) -> Result<(), String> {
    let mut rtnl = Rtnl::new()?;
    let lo = rtnl.index_of("lo")?;
    rtnl.set_up(lo)?;
    for link in links {
        let index = rtnl.index_of(&link.name)?;
        for address in &link.addresses {
            let (ip, prefix) = address
                .split_once('/')
                .and_then(|(ip, p)| Some((ip.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?)))
                .ok_or_else(|| format!("not an address: {address}"))?;
            rtnl.add_address(index, ip, prefix)?;
        }
        rtnl.set_up(index)?;
        for gw in &link.gateways {
            let gw: IpAddr = gw.parse().map_err(|_| format!("not an address: {gw}"))?;
            rtnl.add_default_route(index, gw)?;
        }
    }
    Ok(())
}

/// PID 1's part: maps, id-mapped mounts, links into the child's namespace.
fn outside(
    ns: &InitUserNs,
    child: Pid,
    to_child: OwnedFd,
    from_child: OwnedFd,
) -> Result<(), String> {
    read_byte(&from_child)?;
    let proc = format!("/proc/{child}");
    let write = |file: &str, text: &str| {
        std::fs::write(format!("{proc}/{file}"), text)
            .map_err(|e| format!("could not write {proc}/{file} ({}): {e}", text.trim()))
    };
    write("uid_map", &map_text(&ns.uids))?;
    write("gid_map", &map_text(&ns.gids))?;
    let userns = std::fs::File::open(format!("{proc}/ns/user"))
        .map_err(|e| format!("could not open {proc}/ns/user: {e}"))?;
    for path in &ns.idmap {
        idmap_mount(path, userns.as_raw_fd())?;
    }
    keep_userns(&format!("{proc}/ns/user"))?;
    write_bytes(&to_child, b"m")?;
    read_byte(&from_child)?;
    let mut rtnl = Rtnl::new()?;
    let all = rtnl.links()?;
    let links = links_of(&all, &rtnl.addresses()?, &rtnl.default_gateways()?);
    for (index, name) in &all {
        if name != "lo" {
            rtnl.move_to(*index, child.as_raw() as u32)?;
        }
    }
    let mut line = serde_json::to_string(&links).expect("links serialise");
    line.push('\n');
    write_bytes(&to_child, line.as_bytes())
}

/// Where `enter` finds the user namespace (a bind mount of it): once the
/// child has other ids than root outside, only a process with capabilities
/// in the namespace may open it through /proc.
pub const USERNS_FILE: &str = "/run/dindbox/userns";

fn keep_userns(ns: &str) -> Result<(), String> {
    std::fs::write(USERNS_FILE, "").map_err(|e| format!("could not create {USERNS_FILE}: {e}"))?;
    nix::mount::mount(
        Some(ns),
        USERNS_FILE,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| format!("could not bind {ns} to {USERNS_FILE}: {e}"))
}

/// Mount `path` again over itself, id-mapped through the user namespace
/// `userns`: a file the host's uid N owns is seen inside as owned by the id
/// that N is in the namespace, and what the namespace's root makes is the
/// host's root's again on the host.
fn idmap_mount(path: &str, userns: i32) -> Result<(), String> {
    let c = CString::new(path).map_err(|e| e.to_string())?;
    // SAFETY: open_tree with a valid C string; the result is checked.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint
                | libc::AT_RECURSIVE as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(format!("open_tree({path}): {}", Errno::last()));
    }
    // SAFETY: fd was just returned to us by the kernel.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns as u64,
    };
    let empty = CString::new("").expect("no NUL");
    // SAFETY: mount_setattr on our own detached tree, with a sized struct.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if r < 0 {
        return Err(format!(
            "could not id-map {path} ({}): its file system may not support id-mapped mounts",
            Errno::last()
        ));
    }
    // SAFETY: move_mount of our detached tree onto a path, checked.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(format!("move_mount({path}): {}", Errno::last()));
    }
    Ok(())
}

/// PID 1 outside: forward signals to the child, reap whatever exits, and
/// end with the child's status.
fn supervise(child: Pid, mask: &SigSet) -> i32 {
    loop {
        let sig = match mask.wait() {
            Ok(sig) => sig,
            Err(e) => {
                eprintln!("dindbox: waiting for signals failed: {e}");
                let _ = kill(child, Signal::SIGKILL);
                return exit::FAILURE;
            }
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
        } else if let Some(code) = super::reap(child) {
            return code;
        }
    }
}

/// `enter`'s part: join the namespaces of the init's child `pid` (user
/// first, whose root may then join the rest), become its root, and come
/// back to the working directory as the new mount namespace has it.
pub fn join(pid: i32) -> Result<(), String> {
    let cwd = std::env::current_dir().ok();
    let given = bounding_set();
    for (path, flag) in [
        (USERNS_FILE.to_string(), CloneFlags::CLONE_NEWUSER),
        (format!("/proc/{pid}/ns/mnt"), CloneFlags::CLONE_NEWNS),
        (format!("/proc/{pid}/ns/net"), CloneFlags::CLONE_NEWNET),
    ] {
        let file = std::fs::File::open(&path).map_err(|e| format!("could not open {path}: {e}"))?;
        setns(&file, flag).map_err(|e| format!("could not join {path}: {e}"))?;
    }
    become_root()?;
    bound_to(&given)?;
    if let Some(dir) = cwd {
        let _ = std::env::set_current_dir(dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_numbered_as_the_kernel_numbers_them() {
        assert_eq!(cap_number("CAP_CHOWN"), Some(0));
        assert_eq!(cap_number("NET_ADMIN"), Some(12));
        assert_eq!(cap_number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(cap_number("CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(cap_number("NOPE"), None);
    }

    #[test]
    fn maps_are_one_line_per_range() {
        let r = crate::spec::sample_map();
        assert_eq!(map_text(&r), "0 1000 1\n1 100000 65535\n");
    }

    #[test]
    fn the_engines_masks_go_deepest_first_and_cgroups_stay() {
        // Recorded in a Docker 20.10 dind sandbox on a hybrid-cgroup host.
        let info = "\
129 128 0:29 / /sys/fs/cgroup/cpu ro,nosuid - cgroup cgroup rw,cpu
73 117 0:47 /bus /proc/bus ro,nosuid,nodev,noexec,relatime shared:24 - proc proc rw
84 117 0:47 /sys /proc/sys ro,nosuid,nodev,noexec,relatime shared:27 - proc proc rw
85 117 0:50 / /proc/acpi ro,relatime shared:28 - tmpfs tmpfs ro
88 115 0:51 / /sys/firmware ro,relatime shared:17 - tmpfs tmpfs ro
70 84 0:47 /sys/net /proc/sys/net rw,nosuid,nodev,noexec,relatime shared:27 - proc proc rw
95 128 0:55 / /sys/fs/cgroup rw,nosuid - tmpfs cgroup rw,mode=755
117 110 0:47 / /proc rw - proc proc rw
60 50 0:40 / /a\\040b rw - tmpfs tmpfs rw
";
        let points = covering_mounts(info);
        assert_eq!(points[0], "/proc/sys/net");
        assert!(points.contains(&"/proc/sys".to_string()));
        assert!(points.contains(&"/sys/firmware".to_string()));
        assert!(
            !points
                .iter()
                .any(|p| p.starts_with("/sys/fs/cgroup") || p == "/proc")
        );
        assert_eq!(unescape("/a\\040b"), "/a b");
    }

    #[test]
    fn links_carry_their_global_addresses_and_default_routes() {
        let links = [(1, "lo".to_string()), (7, "eth0".to_string())];
        let addr = |index, ip: &str, prefix, global| Address {
            index,
            ip: ip.parse().unwrap(),
            prefix,
            global,
        };
        let addresses = [
            addr(1, "127.0.0.1", 8, false),
            addr(7, "172.17.0.2", 16, true),
            addr(7, "fe80::42:acff:fe11:2", 64, false),
            addr(7, "fd00::2", 64, true),
        ];
        let gateways = [
            (7, "172.17.0.1".parse().unwrap()),
            (7, "fd00::1".parse().unwrap()),
            (9, "10.0.0.1".parse().unwrap()),
        ];
        assert_eq!(
            links_of(&links, &addresses, &gateways),
            [Link {
                name: "eth0".into(),
                addresses: vec!["172.17.0.2/16".into(), "fd00::2/64".into()],
                gateways: vec!["172.17.0.1".into(), "fd00::1".into()],
            }]
        );
    }
}
