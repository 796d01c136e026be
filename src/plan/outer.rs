//! Step-down outside: when the engine cannot start the sandbox itself.

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;
use crate::probe::facts::{EngineFacts, HostFacts};
use crate::spec::{Privilege, Why};

/// runsc's flag for the kernel's network stack, as Podman passes it on.
const GVISOR_HOST_NETWORK: &str = "network=host";

/// A step outside: the sandbox itself could not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OuterStep {
    /// `--privileged` spelled out as explicit capabilities.
    ExplicitCaps,
    /// Podman's runtime for the sandbox: runc instead of crun.
    Runc,
    /// gVisor on Podman: the host kernel's network stack instead of its own
    /// (runsc `--network=host`), where runsc refuses to set up its own.
    GvisorHostNetwork,
}

impl OuterStep {
    pub fn what(&self) -> &'static str {
        match self {
            OuterStep::ExplicitCaps => "--privileged -> explicit capabilities",
            OuterStep::Runc => "the sandbox's runtime: crun -> runc",
            OuterStep::GvisorHostNetwork => {
                "gVisor's network: its own stack -> the kernel's, in the sandbox's namespace (runsc --network=host)"
            }
        }
    }

    /// Apply the step to a plan.
    pub fn apply(&self, plan: &mut super::Plan, host: &HostFacts, engine: &EngineFacts) {
        match self {
            OuterStep::ExplicitCaps => super::privileged::spell_out(plan, host, engine),
            OuterStep::Runc => {
                plan.spec.runtime = Some(Why::new(
                    "runc".to_string(),
                    "stepped down: Podman could not start the sandbox with crun",
                ))
            }
            OuterStep::GvisorHostNetwork => plan.spec.runtime_flags.push(Why::new(
                GVISOR_HOST_NETWORK.to_string(),
                "stepped down: runsc could not set up its own network stack (on some VMs it stops with `cannot run with network enabled in root network namespace`); the sandbox still has its own network namespace",
            )),
        }
    }
}

/// The next step outside after the engine could not start the sandbox with
/// `plan`, or None when there is none.
pub fn outer_step(plan: &super::Plan, host: &HostFacts, engine: &EngineFacts) -> Option<OuterStep> {
    if plan.spec.has_privilege(&Privilege::All) {
        return Some(OuterStep::ExplicitCaps);
    }
    let runtime = plan.spec.runtime.as_ref().map(|r| &r.value);
    let gvisor =
        runtime.is_some_and(|r| super::runtime::Family::of(r) == super::runtime::Family::Gvisor);
    let host_network = plan
        .spec
        .runtime_flags
        .iter()
        .any(|f| f.value == GVISOR_HOST_NETWORK);
    if engine.kind == EngineKind::Podman && gvisor && !host_network {
        return Some(OuterStep::GvisorHostNetwork);
    }
    let sets_runtime = runtime.is_some();
    (engine.kind == EngineKind::Podman
        && !sets_runtime
        && engine.default_runtime.as_deref() == Some("crun")
        && host.runtime("runc").is_some())
    .then_some(OuterStep::Runc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_privileged_is_spelled_out_then_crun_gives_way_to_runc() {
        let mut host = crate::probe::fixtures::rootless_podman();
        host.cgroup.layout = crate::probe::facts::CgroupLayout::V2;
        let engine = host.engine(EngineKind::Podman).unwrap().clone();
        let mut req = super::super::tests::request_for_steps();
        req.privileged = true;
        let image = super::super::ImageFacts {
            exists: true,
            engines: None,
            systemd: false,
        };
        let mut plan = super::super::make(&req, &host, &image).unwrap();
        assert!(
            plan.command().global.is_empty(),
            "crun is fine on cgroup v2"
        );
        let mut taken = Vec::new();
        while let Some(step) = outer_step(&plan, &host, &engine) {
            step.apply(&mut plan, &host, &engine);
            taken.push(step);
            assert!(taken.len() < 5, "{taken:?}");
        }
        assert_eq!(taken, vec![OuterStep::ExplicitCaps, OuterStep::Runc]);
        assert!(!plan.argv().contains(&"--privileged".to_string()));
        assert!(plan.argv().contains(&"SYS_ADMIN".to_string()));
        assert_eq!(plan.command().global[0].args, ["--runtime", "runc"]);
        assert!(!plan.command().global[0].why.is_empty());
    }

    #[test]
    fn gvisor_on_podman_steps_to_the_kernels_network_once() {
        let mut host = crate::probe::fixtures::this_machine();
        host.oci_runtimes.push(crate::probe::facts::OciRuntime {
            name: "runsc".into(),
            path: "/usr/bin/runsc".into(),
            version: None,
        });
        let engine = host.engine(EngineKind::Podman).unwrap().clone();
        let mut req = super::super::tests::request_for_steps();
        req.mode = super::super::Mode::Common;
        req.runtime = Some("runsc".into());
        let mut plan = super::super::tests::plan(&req, &host);
        assert_eq!(
            outer_step(&plan, &host, &engine),
            Some(OuterStep::GvisorHostNetwork),
            "an unknown gVisor release: its own network stack is tried first"
        );
        OuterStep::GvisorHostNetwork.apply(&mut plan, &host, &engine);
        assert!(
            plan.command()
                .global
                .iter()
                .any(|a| a.args == ["--runtime-flag", "network=host"])
        );
        assert_eq!(
            outer_step(&plan, &host, &engine),
            None,
            "no crun -> runc step under a runtime the user chose"
        );
    }
}
