//! Step-down outside: when the engine cannot start the sandbox itself.

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;
use crate::probe::facts::{EngineFacts, HostFacts};

/// A step outside: the sandbox itself could not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OuterStep {
    /// `--privileged` spelled out as explicit capabilities.
    ExplicitCaps,
    /// Podman's runtime for the sandbox: runc instead of crun.
    Runc,
}

impl OuterStep {
    pub fn what(&self) -> &'static str {
        match self {
            OuterStep::ExplicitCaps => "--privileged -> explicit capabilities",
            OuterStep::Runc => "the sandbox's runtime: crun -> runc",
        }
    }

    /// Apply the step to a plan.
    pub fn apply(&self, plan: &mut super::Plan, host: &HostFacts, engine: &EngineFacts) {
        match self {
            OuterStep::ExplicitCaps => super::privileged::spell_out(plan, host, engine),
            OuterStep::Runc => plan.global.push(super::Arg::new(
                ["--runtime", "runc"],
                "stepped down: Podman could not start the sandbox with crun",
            )),
        }
    }
}

/// The next step outside after the engine could not start the sandbox with
/// `plan`, or None when there is none.
pub fn outer_step(plan: &super::Plan, host: &HostFacts, engine: &EngineFacts) -> Option<OuterStep> {
    if plan.run.iter().any(|a| a.args == ["--privileged"]) {
        return Some(OuterStep::ExplicitCaps);
    }
    let sets_runtime = plan
        .global
        .iter()
        .any(|a| a.args.first().is_some_and(|f| f == "--runtime"));
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
        assert!(plan.global.is_empty(), "crun is fine on cgroup v2");
        let mut taken = Vec::new();
        while let Some(step) = outer_step(&plan, &host, &engine) {
            step.apply(&mut plan, &host, &engine);
            taken.push(step);
            assert!(taken.len() < 5, "{taken:?}");
        }
        assert_eq!(taken, vec![OuterStep::ExplicitCaps, OuterStep::Runc]);
        assert!(!plan.argv().contains(&"--privileged".to_string()));
        assert!(plan.argv().contains(&"SYS_ADMIN".to_string()));
        assert_eq!(plan.global[0].args, ["--runtime", "runc"]);
        assert!(!plan.global[0].why.is_empty());
    }
}
