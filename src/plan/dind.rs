//! `dind`: an engine of the sandbox's own, with the least privilege that lets it nest.
//!
//! Without `--privileged` the sandbox gets, each for a stated reason: the
//! capabilities an inner engine needs (and those it hands on to nested
//! containers by default), no seccomp/AppArmor confinement, unmasked /proc
//! and /sys paths, a private cgroup namespace whose tree the init mounts
//! read-write, and its own volume for the inner storage.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{CgroupLayout, EngineFacts, HostFacts};

use super::inner::{CgroupSetup, InnerEngineSpec, PRELOAD_DIR};
use super::runtime::Family;
use super::{ImageFacts, Plan, Request, labels, ulimits};
use crate::spec::{Mount, Privilege, Why};

/// Capabilities an inner engine itself needs, with the reason.
const ENGINE_CAPS: &[(&str, &str)] = &[
    (
        "CAP_SYS_ADMIN",
        "mount filesystems and create namespaces and cgroups for nested containers",
    ),
    (
        "CAP_NET_ADMIN",
        "create the inner engine's bridge, veth pairs and firewall rules",
    ),
];

pub use crate::spec::init::storage_path;

pub fn storage_volume(name: &str) -> String {
    format!("{name}-storage")
}

pub fn apply(
    plan: &mut Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    image: &ImageFacts,
) -> Result<()> {
    refuse_unsupported(req, host, engine, image)?;
    let family = Family::of_request(req);
    let sysbox = family == Some(Family::Sysbox);
    if sysbox {
        plan.notes.push("sysbox: the sandbox's root holds every capability within its own user namespace, and sysbox virtualises /proc and /sys and delegates its cgroups: no capability, seccomp or mount option is added".into());
    } else if !req.privileged {
        least_privilege(plan, req, host, engine)?;
    }
    // Rootless Podman's sandboxes and those with a user namespace of their own
    // alike: the sandbox's root owns no cgroup and is not the host's root.
    let userns = engine.rootless || plan.spec.userns.is_some();
    let cgroup = if userns {
        super::rootless::apply(plan, req, host, engine.rootless);
        if plan.inner.userns.is_some() {
            plan.spec.privileges.push(Why::new(
                vec![Privilege::PrivateCgroupNs],
                "the sandbox's cgroup tree is its own, so nothing in it sees the host's cgroup paths",
            ));
        }
        if req.inner == EngineKind::Podman {
            plan.spec.env.push(Why::new(
                vec![crate::spec::Var::new("BUILDAH_ISOLATION", "chroot")],
                "`podman build` in a user namespace runs RUN steps with slirp4netns, which needs /dev/net/tun (which the sandbox is not given); chroot isolation runs them in the build's own namespaces without it",
            ));
        }
        CgroupSetup::Leave
    } else if family.is_some_and(Family::own_kernel) {
        plan.notes.push(format!(
            "{}: the sandbox has a kernel of its own, so its cgroups are set up from what it sees inside, not from this host's",
            family.map_or("", Family::title)
        ));
        CgroupSetup::Detect
    } else if sysbox {
        match host.cgroup.layout {
            CgroupLayout::V2 => CgroupSetup::NestV2,
            _ => CgroupSetup::Leave,
        }
    } else {
        cgroup_setup(plan, host)
    };
    storage(plan, req);
    for tarball in &req.preload {
        let file = tarball
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        plan.spec.mounts.push(Why::new(
            Mount::read_only(tarball.display().to_string(), format!("{PRELOAD_DIR}/{file}")),
            format!("an image ({file}) the inner engine loads at start, so nested containers run with no registry"),
        ));
    }
    plan.inner.cgroup = cgroup.clone();
    let host_network = req.network.as_deref() == Some("host");
    // sysbox's /proc/sys is its own, writable where it is namespaced.
    // In a user namespace of the init's own, /proc/sys/net is the
    // namespace's, writable by its root, and no mount may cover any of /proc
    // (the kernel then refuses nested containers a proc of their own).
    plan.inner.net_sysctls = !host_network && !sysbox && plan.inner.userns.is_none();
    plan.inner.engine = Some(InnerEngineSpec {
        kind: req.inner,
        runtime: if userns && req.inner == EngineKind::Podman {
            super::rootless::INNER_RUNTIME
        } else {
            INNER_RUNTIME
        }
        .to_string(),
        ulimits: ulimits(host),
        ready_timeout_ms: req.ready_timeout_ms,
        engine_firewall: req.engine_firewall,
        cgroups_disabled: userns,
        userns,
        nested_host_network: host_network,
        storage: None,
        canary: None,
        report: None,
    });
    Ok(())
}

fn refuse_unsupported(
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    image: &ImageFacts,
) -> Result<()> {
    if let Some(engines) = &image.engines
        && !engines.contains(&req.inner)
    {
        let has: Vec<&str> = engines.iter().map(|e| e.name()).collect();
        let mut err = Error::usage(format!("image `{}` has no {} inside", req.image, req.inner))
            .cause(format!(
                "its label {} lists: {}",
                labels::ENGINES,
                if has.is_empty() {
                    "none".to_string()
                } else {
                    has.join(", ")
                }
            ));
        for other in engines {
            err = err.hint(format!("use `--inner {other}`"));
        }
        return Err(err.hint("or build the default image, which has both: `dindbox image build`"));
    }
    if engine.rootless && engine.kind != EngineKind::Podman {
        let err = Error::refused(format!(
            "dind on rootless {} is not supported by this version of dindbox",
            engine.kind
        ))
        .cause("a rootful inner engine needs the host's root to set up its cgroups and networks");
        return Err(err
            .hint("use the host engine's socket instead: `dindbox run -m sock`")
            .hint(format!(
                "or run dindbox as root against the rootful {}",
                engine.kind
            )));
    }
    if !host.has_cap("CAP_SYS_ADMIN") {
        return Err(Error::refused("this host cannot give a sandbox CAP_SYS_ADMIN, which every inner engine needs")
            .cause("CAP_SYS_ADMIN is not in the capability bounding set (grep CapBnd /proc/self/status)")
            .hint("use `-m sock` to reach the host's engine instead")
            .hint("or run dindbox where the bounding set is complete (not inside an unprivileged container)"));
    }
    Ok(())
}

fn least_privilege(
    plan: &mut Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
) -> Result<()> {
    let outer_defaults = engine.kind.default_caps();
    let mut missing = Vec::new();
    for (cap, why) in ENGINE_CAPS {
        push_cap(plan, host, cap, why, &mut missing);
    }
    for cap in req.inner.default_caps() {
        if outer_defaults.contains(cap) {
            continue;
        }
        let why = format!(
            "the inner {} gives it to nested containers by default, and can only give what it holds",
            req.inner
        );
        push_cap(plan, host, cap, &why, &mut missing);
    }
    if !missing.is_empty() {
        return Err(Error::refused(format!(
            "this host cannot give the sandbox {}, which the inner {} needs",
            missing.join(", "),
            req.inner
        ))
        .cause("not in the capability bounding set (grep CapBnd /proc/self/status)")
        .hint("use `-m sock` to reach the host's engine instead"));
    }
    super::confine::apply(plan, req, host, engine);
    if engine.kind == EngineKind::Podman
        && req.inner == EngineKind::Docker
        && matches!(host.cgroup.layout, CgroupLayout::V1 | CgroupLayout::Hybrid)
    {
        plan.spec.privileges.push(Why::new(
            vec![Privilege::DeviceRule("c 5:1 rwm".into())],
            "dockerd allows /dev/console to nested containers, and on cgroup v1 Podman's device cgroup does not give it to the sandbox",
        ));
    }
    Ok(())
}

fn push_cap(plan: &mut Plan, host: &HostFacts, cap: &str, why: &str, missing: &mut Vec<String>) {
    if host.has_cap(cap) {
        plan.spec.privileges.push(Why::new(
            vec![Privilege::Cap(short_cap(cap).to_string())],
            why,
        ));
    } else {
        missing.push(cap.to_string());
    }
}

pub fn short_cap(cap: &str) -> &str {
    cap.strip_prefix("CAP_").unwrap_or(cap)
}

fn cgroup_setup(plan: &mut Plan, host: &HostFacts) -> CgroupSetup {
    plan.spec.privileges.push(Why::new(
        vec![Privilege::PrivateCgroupNs],
        "the sandbox's cgroup tree is its own, so the inner engine can make cgroups for nested containers without seeing the host's",
    ));
    match host.cgroup.layout {
        CgroupLayout::V1 | CgroupLayout::Hybrid => CgroupSetup::MountV1 {
            controllers: host.cgroup.v1_controllers.clone(),
        },
        CgroupLayout::V2 => CgroupSetup::NestV2,
        CgroupLayout::Unknown => {
            plan.notes.push("the host's cgroup layout is unknown: the sandbox's cgroups are left as the engine makes them".into());
            CgroupSetup::Leave
        }
    }
}

/// The runtime of the inner engine: runc, on the v1 tree the init mounts and on
/// v2 alike; crun needs /proc/sys writable, which the sandbox does not give.
const INNER_RUNTIME: &str = "runc";

fn storage(plan: &mut Plan, req: &Request) {
    let path = storage_path(req.inner);
    if req.rm {
        plan.spec.mounts.push(Why::new(
            Mount::Anonymous {
                target: path.to_string(),
            },
            "the inner storage on an anonymous volume, removed with the sandbox (overlay cannot stack on the sandbox's own overlay root)",
        ));
    } else {
        let volume = storage_volume(&req.name);
        plan.spec.mounts.push(Why::new(
            Mount::Volume {
                name: volume.clone(),
                target: path.to_string(),
            },
            "the inner storage on the sandbox's own volume, kept with it (overlay cannot stack on the sandbox's own overlay root)",
        ));
        plan.volumes.push(volume);
    }
}
