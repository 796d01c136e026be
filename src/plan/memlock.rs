//! Locked memory for crun inside a sandbox on cgroup v2.
//!
//! On cgroup v2 a runtime enforces a container's device rules with an eBPF
//! program. crun (1.8, Debian 12's, as in the sandbox image) raises its own
//! RLIMIT_MEMLOCK to unlimited before it loads one, and fails when it cannot
//! ("crun: setrlimit (RLIM_MEMLOCK): Operation not permitted"): the sandbox
//! has no CAP_SYS_RESOURCE, and its hard limit is the engine's (8 MiB under
//! systemd's default LimitMEMLOCK). runc does not raise it. So where the inner
//! engine makes cgroups on a v2 tree, the sandbox starts with no memlock
//! limit, which the engine (root, outside) can set: then an inner engine
//! that steps down to crun, or is told to use it, starts its containers. The
//! memory stays charged to the sandbox's memory cgroup.

use crate::probe::facts::{EngineFacts, HostFacts};
use crate::spec::init::CgroupSetup;
use crate::spec::{Limit, Privilege, Why};

use super::{Mode, Plan, Request};

pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) {
    let nested_cgroups = plan
        .inner
        .engine
        .as_ref()
        .is_some_and(|e| !e.cgroups_disabled);
    if req.mode != Mode::Dind
        || !nested_cgroups
        || engine.rootless
        || plan.inner.cgroup != CgroupSetup::NestV2
        || plan.spec.has_privilege(&Privilege::All)
    {
        return;
    }
    if !host.has_cap("CAP_SYS_RESOURCE") {
        plan.notes.push("the capability bounding set lacks CAP_SYS_RESOURCE, so the sandbox keeps the engine's memlock limit: crun inside cannot load its cgroup v2 device filter (`setrlimit (RLIM_MEMLOCK)`), and the inner engine's containers run with runc only".into());
        return;
    }
    plan.spec.limits.push(Why::new(
        Limit::MemlockUnlimited,
        "crun raises its memlock limit to unlimited to load the cgroup v2 device filter of each nested container, and the sandbox may not raise its hard limit itself (no CAP_SYS_RESOURCE); the memory stays charged to the sandbox's cgroup",
    ));
}

#[cfg(test)]
mod tests {
    use crate::engine::EngineKind;
    use crate::plan::Mode;
    use crate::plan::tests::{has, plan, request};
    use crate::probe::fixtures::{
        debian13_rootful, debian13_rootless, fedora_rootful, this_machine,
    };

    const FLAG: [&str; 2] = ["--ulimit", "memlock=-1:-1"];

    #[test]
    fn dind_whose_inner_engine_nests_cgroup_v2_has_no_memlock_limit() {
        for inner in [EngineKind::Podman, EngineKind::Docker] {
            // Docker's sandbox with the host's root: its inner engine makes cgroups.
            let mut req = request(Mode::Dind, Some(EngineKind::Docker), inner);
            req.host_root = true;
            let p = plan(&req, &debian13_rootful());
            assert!(has(&p, &FLAG), "{inner}: {:?}", p.argv());
            req.privileged = true;
            assert!(
                !has(&plan(&req, &debian13_rootful()), &FLAG),
                "{inner}: --privileged has CAP_SYS_RESOURCE"
            );
        }
        let common = plan(
            &request(Mode::Common, Some(EngineKind::Docker), EngineKind::Podman),
            &debian13_rootful(),
        );
        assert!(!has(&common, &FLAG), "no inner engine");
    }

    #[test]
    fn not_on_v1_nor_where_the_inner_engine_makes_no_cgroups() {
        let mut h = this_machine();
        h.caps.bounding.push("CAP_SYS_RESOURCE".into());
        for engine in [EngineKind::Docker, EngineKind::Podman] {
            let p = plan(&request(Mode::Dind, Some(engine), EngineKind::Podman), &h);
            assert!(!has(&p, &FLAG), "{engine}: hybrid cgroups, v1 devices");
        }
        // A user namespace (rootful Podman's own for the sandbox, rootless
        // Podman's, the one the init makes on Docker): the inner engine runs
        // with cgroups disabled.
        for (host, engine) in [
            (fedora_rootful(), EngineKind::Podman),
            (debian13_rootful(), EngineKind::Podman),
            (debian13_rootless(), EngineKind::Podman),
            (debian13_rootful(), EngineKind::Docker),
        ] {
            let p = plan(
                &request(Mode::Dind, Some(engine), EngineKind::Podman),
                &host,
            );
            assert!(
                p.inner.engine.as_ref().is_some_and(|e| e.cgroups_disabled),
                "{:?}",
                p.inner.engine
            );
            assert!(!has(&p, &FLAG), "{:?}", p.argv());
        }
    }

    #[test]
    fn without_cap_sys_resource_the_plan_says_crun_cannot() {
        let mut h = debian13_rootful();
        h.caps.bounding.retain(|c| c != "CAP_SYS_RESOURCE");
        let mut req = request(Mode::Dind, Some(EngineKind::Docker), EngineKind::Podman);
        req.host_root = true;
        let p = plan(&req, &h);
        assert!(!has(&p, &FLAG));
        assert!(
            p.notes.iter().any(|n| n.contains("RLIM_MEMLOCK")),
            "{:#?}",
            p.notes
        );
    }
}
