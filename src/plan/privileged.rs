//! `--privileged`, when the user asks for it, in any mode. Where the engine's
//! own --privileged cannot work (the host's bounding set lacks a capability
//! Docker asks for), it is spelled out from what the host has.

use crate::engine::EngineKind;
use crate::probe::facts::{EngineFacts, HostFacts};

use super::dind::short_cap;
use super::{Arg, Plan};

/// `--privileged` as the user asked; on Docker spelled out from the bounding set.
pub fn apply(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) {
    if engine.kind == EngineKind::Podman {
        plan.run.push(Arg::new(
            ["--privileged"],
            "asked for with --privileged (Podman clamps it to the host's bounding set)",
        ));
        return;
    }
    if host.caps.missing.is_empty() {
        plan.run
            .push(Arg::new(["--privileged"], "asked for with --privileged"));
        return;
    }
    spell_out(plan, host, engine);
}

/// `--privileged` as explicit capabilities (every one in the host's bounding
/// set that the engine knows) and the options it implies. Also the outer
/// step-down when an engine's own `--privileged` cannot start the sandbox.
pub fn spell_out(plan: &mut Plan, host: &HostFacts, engine: &EngineFacts) {
    plan.run.retain(|a| a.args != ["--privileged"]);
    if engine.kind == EngineKind::Podman {
        let mut args = Vec::new();
        for cap in &host.caps.bounding {
            args.extend(["--cap-add".to_string(), short_cap(cap).to_string()]);
        }
        plan.run.push(Arg::new(
            args,
            "asked for with --privileged, which Podman could not apply here: each capability of the host's bounding set instead",
        ));
        plan.run.push(Arg::new(
            [
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "unmask=ALL",
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
    let mut args = Vec::new();
    for cap in &known {
        args.push("--cap-add".to_string());
        args.push(short_cap(cap).to_string());
    }
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
    plan.run.push(Arg::new(args, why));
    plan.run.push(Arg::new(
        [
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "apparmor=unconfined",
            "--security-opt",
            "systempaths=unconfined",
            "--device-cgroup-rule",
            "a *:* rwm",
        ],
        "the rest of what --privileged means",
    ));
    plan.notes.push(format!(
        "--privileged was spelled out as {} explicit capabilities: {} is not in this host's bounding set",
        known.len(),
        host.caps.missing.join(", ")
    ));
}
