//! `--privileged`, when the user asks for it, in any mode. Where the engine's
//! own --privileged cannot work (the host's bounding set lacks a capability
//! Docker asks for), it is spelled out from what the host has.

use crate::engine::EngineKind;
use crate::probe::facts::{EngineFacts, HostFacts};

use super::Plan;
use super::dind::short_cap;
use crate::spec::{Privilege, SecurityOpt, Why};

/// `--privileged` as the user asked; on Docker spelled out from the bounding set.
pub fn apply(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) {
    if engine.kind == EngineKind::Podman {
        plan.spec.privileges.push(Why::new(
            vec![Privilege::All],
            "asked for with --privileged (Podman clamps it to the host's bounding set)",
        ));
        return;
    }
    if host.caps.missing.is_empty() {
        plan.spec.privileges.push(Why::new(
            vec![Privilege::All],
            "asked for with --privileged",
        ));
        return;
    }
    spell_out(plan, host, engine);
}

/// `--privileged` as explicit capabilities (every one in the host's bounding
/// set that the engine knows) and the options it implies. Also the outer
/// step-down when an engine's own `--privileged` cannot start the sandbox.
pub fn spell_out(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) {
    plan.spec.privileges.retain(|p| p.value != [Privilege::All]);
    let caps = |list: &[&String]| -> Vec<Privilege> {
        list.iter()
            .map(|cap| Privilege::Cap(short_cap(cap).to_string()))
            .collect()
    };
    if engine.kind == EngineKind::Podman {
        let all: Vec<&String> = host.caps.bounding.iter().collect();
        plan.spec.privileges.push(Why::new(
            caps(&all),
            "asked for with --privileged, which Podman could not apply here: each capability of the host's bounding set instead",
        ));
        plan.spec.privileges.push(Why::new(
            vec![
                Privilege::Security(SecurityOpt::SeccompUnconfined),
                Privilege::Security(SecurityOpt::UnmaskPaths),
            ],
            "the rest of what --privileged means",
        ));
        return;
    }
    let version = engine.server_version.as_deref();
    let (known, unknown): (Vec<&String>, Vec<&String>) = host
        .caps
        .bounding
        .iter()
        .partition(|cap| crate::engine::docker::knows_cap(version, cap));
    let mut why = format!(
        "asked for with --privileged; Docker would ask for every capability and fail (`unable to apply caps`), since this host's bounding set lacks {}: each capability it has is listed instead",
        host.caps.missing.join(", ")
    );
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|c| c.as_str()).collect();
        why.push_str(&format!(
            " (but {}, which this Docker does not know by name)",
            names.join(", ")
        ));
    }
    plan.spec.privileges.push(Why::new(caps(&known), why));
    plan.spec.privileges.push(Why::new(
        vec![
            Privilege::Security(SecurityOpt::SeccompUnconfined),
            Privilege::Security(SecurityOpt::ApparmorUnconfined),
            Privilege::Security(SecurityOpt::UnmaskPaths),
            Privilege::DeviceRule("a *:* rwm".into()),
        ],
        "the rest of what --privileged means",
    ));
    plan.notes.push(format!(
        "--privileged was spelled out as {} explicit capabilities: {} is not in this host's bounding set",
        known.len(),
        host.caps.missing.join(", ")
    ));
}
