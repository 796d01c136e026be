//! What confines a dind sandbox: seccomp and AppArmor. The engines' default
//! profiles refuse what an inner engine does for every nested container
//! (mounts; keyctl, for each one's session keyring), so a dind sandbox gets
//! dindbox's own profiles (`spec::confine`), which allow exactly that on top
//! and go on refusing what reaches the whole host, instead of none at all.
//! In a user namespace of the sandbox's own the kernel refuses the host-wide
//! by itself, and the engine's default seccomp profile lets the inner engine
//! be: it stays.

use crate::probe::facts::{EngineFacts, HostFacts, ImageFacts};
use crate::spec::confine::{apparmor_name, seccomp_file_name};
use crate::spec::{Privilege, SecurityOpt, Why};

use super::{Mode, Plan, Request};

/// The command that loads dindbox's AppArmor profile.
pub const LOAD_APPARMOR: &str = "dindbox confine apparmor | sudo apparmor_parser -r";

pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    seccomp(plan, req, host, engine);
    apparmor(plan, host, engine);
}

fn seccomp(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    // A user namespace the engine makes keeps the engine's default profile;
    // one the init makes is made by a process with the host root's
    // capabilities, which dindbox's profile confines.
    let engine_userns = plan
        .spec
        .userns
        .as_ref()
        .is_some_and(|u| u.value.made_by == crate::spec::UserNsMaker::Engine);
    if !host.security.seccomp || engine.rootless || engine_userns {
        return;
    }
    if engine.remote {
        plan.spec.privileges.push(Why::new(
            vec![Privilege::Security(SecurityOpt::SeccompUnconfined)],
            "the engine's default seccomp profile blocks keyctl, which inner runtimes use to give each nested container its own session keyring; dindbox's own profile is a file on this machine, which an engine on another machine does not read",
        ));
        return;
    }
    let path = req.profiles_dir.join(seccomp_file_name());
    let needs = if req.mode == super::Mode::Dind {
        "which the inner engine needs for every nested container"
    } else {
        "which the init needs to make the sandbox's user namespace"
    };
    plan.spec.privileges.push(Why::new(
        vec![Privilege::Security(SecurityOpt::SeccompProfile(path))],
        format!("dindbox's seccomp profile for nesting, written there: the engine's default refuses keyctl, mounts and new namespaces, {needs}; this one leaves those to the sandbox's capabilities, and still refuses loading modules or a kernel, perf events, the kernel log, opening files by handle, io_uring, userfaultfd, and every bpf() command but those of cgroup device filters"),
    ));
}

fn apparmor(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) {
    if !host.security.apparmor {
        return;
    }
    let name = apparmor_name();
    let loaded = host
        .security
        .apparmor_loaded
        .as_ref()
        .is_some_and(|l| l.contains(&name));
    // Root loads it (the engines load their own default profile likewise);
    // rootless Podman applies no AppArmor profile at all.
    let loads = host.uid == 0 && host.security.apparmor_parser && !engine.remote;
    if !engine.rootless && (loaded || loads) {
        let how = if loaded {
            "loaded"
        } else {
            "loaded into the kernel before the sandbox starts"
        };
        plan.spec.privileges.push(Why::new(
            vec![Privilege::Security(SecurityOpt::Apparmor(name))],
            format!("dindbox's AppArmor profile for nesting ({how}): the engine's default denies mount, which the inner engine needs; this one allows mounts, but not of tracefs, debugfs, securityfs, bpffs or the other kernel filesystems of the whole host, nor writes to kernel settings outside the sandbox's network, to /sys outside its cgroup tree, or to a cgroup's release agent"),
        ));
        return;
    }
    plan.spec.privileges.push(Why::new(
        vec![Privilege::Security(SecurityOpt::ApparmorUnconfined)],
        "the default AppArmor profile denies mount, which the inner engine needs",
    ));
    if !engine.rootless && !engine.remote {
        plan.notes.push(format!(
            "AppArmor: dindbox's profile {name} is not loaded and only root can load it, so the sandbox is not confined by AppArmor; load it once per boot: `{LOAD_APPARMOR}`"
        ));
    }
}

/// `no-new-privileges` where nothing in the sandbox needs to gain any: a
/// common or sock sandbox of dindbox's own image, which runs as root and
/// needs no setuid binary. Not in dind, where nested containers would
/// inherit it (their images' setuid binaries, sudo or ping, would stop
/// working, and so would newuidmap for a rootless inner dockerd); not with
/// --systemd, whose units may; not in another image, which may rely on sudo.
pub fn no_new_privileges(plan: &mut Plan, req: &Request, image: &ImageFacts) {
    if req.privileged || req.systemd || req.mode == Mode::Dind || image.engines.is_none() {
        return;
    }
    plan.spec.privileges.push(Why::new(
        vec![Privilege::Security(SecurityOpt::NoNewPrivileges)],
        "no process in the sandbox gains privileges by exec (setuid binaries, file capabilities): nothing in dindbox's image needs to",
    ));
}
