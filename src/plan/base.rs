//! What every sandbox gets, whatever its mode: name, marks, init,
//! workspace, the user's mounts, ports and limits, the host's ulimits, the
//! network, and the runtime Podman needs on hybrid cgroup hosts.

use super::inner::{CgroupSetup, InnerSpec, Ulimits};
use super::name::hostname;
use super::{ENGINE_DEFAULT_NOFILE, Plan, Request, attach, labels, resources, rootless};
use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};
use crate::spec::{Attach, Privilege, SecurityOpt, Spec, Var, Why};

/// What every sandbox gets, whatever its mode.
pub(super) fn base(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Plan {
    let ws = req.workspace.display().to_string();
    let inside = req.container_workspace.display().to_string();
    let workspace_why = if ws == inside {
        "the workspace, at the same absolute path inside as outside (so bind mounts given to an engine from inside name real host paths)"
    } else {
        "the workspace, at the path asked for (containerPath, --container-path); paths given to an engine from inside differ from the host's"
    };
    let attach = if !req.rm {
        Why::new(
            Attach::Detached,
            "kept sandbox: it runs in the background, and commands run in it through `exec` (this one and later ones)",
        )
    } else if req.tty {
        Why::new(Attach::Terminal, "stdin and stdout are a terminal")
    } else {
        Why::new(Attach::Stdin, "pass stdin through; no terminal")
    };
    let mut privileges = Vec::new();
    if host.security.selinux != crate::probe::facts::SelinuxMode::Absent
        && host.security.selinux != crate::probe::facts::SelinuxMode::Disabled
    {
        privileges.push(Why::new(
            vec![Privilege::Security(SecurityOpt::NoLabel)],
            "SELinux is on: the workspace and sockets are bind-mounted without relabelling them",
        ));
    }
    let mut env = Vec::new();
    if req.trace {
        env.push(Why::new(
            vec![Var::new(crate::trace::ENV, "1")],
            "DINDBOX_TRACE is set: the init prints how long each phase took",
        ));
    }
    let spec = Spec {
        remove: req.rm.then(|| {
            "throw-away sandbox: removed with its storage when the command ends".to_string()
        }),
        attach,
        marks: Why::new(
            vec![
                (labels::MANAGED.to_string(), "true".to_string()),
                (labels::SANDBOX.to_string(), req.name.clone()),
            ],
            "marks the sandbox as dindbox's, so listing and cleaning up never touch other containers",
        ),
        hostname: Why::new(hostname(&req.name), "the sandbox's name, as a host name"),
        init: Why::new(
            req.init_binary.clone(),
            "dindbox itself is the sandbox's init: it reaps zombies, sets up and waits for the inner engine, and passes the command's exit status on",
        ),
        workspace: Why::new((ws, inside.clone()), workspace_why),
        binds: resources::binds(req),
        ports: resources::ports(req),
        limits: resources::limits(req),
        env_file: resources::env_file(req),
        ulimits: ulimits(host).map(|ul| {
            Why::new(
                ul,
                format!(
                    "the host's hard limits are nofile={} nproc={}; engines ask for {ENGINE_DEFAULT_NOFILE} by default and setrlimit would fail",
                    ul.nofile, ul.nproc
                ),
            )
        }),
        network: network(req, host, engine),
        userns: None,
        env,
        privileges,
        mounts: Vec::new(),
        boot: None,
        runtime: None,
        runtime_flags: Vec::new(),
        labels: Vec::new(),
    };
    let command = match &req.command {
        Some(c) => vec!["/bin/sh".to_string(), "-c".to_string(), c.clone()],
        None => Vec::new(),
    };
    let exec = (!req.rm)
        .then(|| attach::exec_args(&req.name, &inside, req.tty, req.ready_timeout_ms, &command));
    Plan {
        mode: req.mode,
        engine: engine.kind,
        engine_binary: engine.binary.clone(),
        name: req.name.clone(),
        spec,
        image: req.image.clone(),
        inner: InnerSpec {
            cgroup: CgroupSetup::Leave,
            net_sysctls: false,
            engine: None,
            command: if req.rm { command } else { Vec::new() },
            graceful_stop: !req.rm,
            serve: !req.rm,
            socket_link: None,
            systemd: false,
            userns: None,
        },
        volumes: Vec::new(),
        notes: Vec::new(),
        rm: req.rm,
        service: None,
        identity: Default::default(),
        exec,
        env: req.env.clone(),
        env_file: (!req.env.is_empty()).then(|| req.env_file.clone()),
        shift: None,
    }
}

/// Podman's default runtime crun refuses hybrid cgroup hosts: runc there,
/// for every container Podman starts on this host (sandboxes and builds alike).
pub fn runtime_override(host: &HostFacts, engine: &EngineFacts) -> Result<Option<Why<String>>> {
    let uses_crun = engine.default_runtime.as_deref() == Some("crun");
    if engine.kind != EngineKind::Podman || host.cgroup.layout != CgroupLayout::Hybrid || !uses_crun
    {
        return Ok(None);
    }
    if host.runtime("runc").is_none() {
        return Err(Error::refused("Podman's runtime crun does not support this host's hybrid cgroups, and runc is not installed")
            .hint("install runc: `apt-get install runc`")
            .hint("or boot the host with pure cgroup v2 (systemd.unified_cgroup_hierarchy=1)"));
    }
    Ok(Some(Why::new(
        "runc".to_string(),
        "crun refuses hybrid cgroup hosts (`cgroups in hybrid mode not supported`); runc runs there",
    )))
}

pub(super) fn outer_runtime(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    plan.spec.runtime = runtime_override(host, engine)?;
    Ok(())
}

/// The sandbox's network: the user's choice; on rootful Podman slirp4netns,
/// which starts much faster than its bridge; else the engine's default.
fn network(req: &Request, host: &HostFacts, engine: &EngineFacts) -> Option<Why<String>> {
    if let Some(net) = &req.network {
        return Some(Why::new(net.clone(), "asked for with --network"));
    }
    if let Some(none) = rootless::network(host, engine) {
        return Some(none);
    }
    let slirp = host.network_helper("slirp4netns").is_some() && host.devices.net_tun.is_some();
    (engine.kind == EngineKind::Podman && !engine.rootless && slirp).then(|| {
        Why::new(
            "slirp4netns".to_string(),
            "outbound network in user space, as rootless Podman has it: Podman's bridge (netavark and its firewall rules) adds about 0.2 s to every start; `--network bridge` for the bridge",
        )
    })
}

/// Explicit limits when the host's hard limits are below what engines ask for.
/// nproc stays within kernel.pid_max too: Podman lowers its own limit to it,
/// and a container may not be given more than the engine has.
pub fn ulimits(host: &HostFacts) -> Option<Ulimits> {
    let nofile = host
        .limits
        .nofile_hard
        .filter(|n| *n < ENGINE_DEFAULT_NOFILE)?;
    let nproc = [
        host.limits.nproc_hard,
        host.limits.pid_max,
        Some(ENGINE_DEFAULT_NOFILE),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(nofile);
    Some(Ulimits { nofile, nproc })
}
