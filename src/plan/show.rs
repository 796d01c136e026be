//! Show a plan: the exact command, each flag with its reason, and the inner set-up.

use std::fmt::Write;

use serde_json::json;

use super::Plan;
use crate::process::{quote, quote_argv};
use crate::spec::init::CgroupSetup;

pub fn json(plan: &Plan) -> String {
    let value = json!({
        "argv": plan.argv(),
        "plan": plan,
    });
    crate::output::json(&value).expect("a plan always serialises")
}

/// Width of the flag column before the reasons.
const FLAG_COLUMN: usize = 44;

pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let inner = plan
        .inner
        .engine
        .as_ref()
        .map(|e| format!(" with {} inside", e.kind))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "sandbox {} on {}: mode {}{inner}",
        plan.name,
        plan.engine,
        plan.mode.name()
    );
    if let Some(service) = &plan.service {
        let _ = writeln!(
            out,
            "\nbefore the sandbox, on the host (stopped after it):\n  {}\n  # {}",
            quote_argv(&service.argv),
            service.why
        );
    }
    let _ = writeln!(out, "\ncommand:\n  {}", quote_argv(&plan.argv()));
    let _ = writeln!(out, "\nflags:");
    let _ = writeln!(out, "  {}", quote(&plan.engine_binary));
    let command = plan.command();
    for arg in &command.global {
        flag_line(&mut out, &quote_argv(&arg.args), &arg.why);
    }
    flag_line(&mut out, "run", "");
    for arg in &command.run {
        flag_line(&mut out, &quote_argv(&arg.args), &arg.why);
    }
    flag_line(&mut out, &quote(&plan.image), "the sandbox image");
    flag_line(
        &mut out,
        "init --spec SPEC",
        "dindbox's init role, with the inner set-up below as SPEC",
    );
    let by = if plan.inner.systemd {
        format!(
            "dindbox init, PID 1 in the sandbox, then systemd's unit {}",
            crate::spec::init::SYSTEMD_UNIT
        )
    } else {
        "dindbox init, PID 1 in the sandbox".to_string()
    };
    let _ = writeln!(out, "\ninner set-up (done by {by}):");
    for step in inner_steps(plan) {
        let _ = writeln!(out, "  - {step}");
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for note in &plan.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    out
}

fn flag_line(out: &mut String, flag: &str, why: &str) {
    if why.is_empty() {
        let _ = writeln!(out, "    {flag}");
    } else if flag.len() >= FLAG_COLUMN {
        let _ = writeln!(out, "    {flag}\n    {:FLAG_COLUMN$}  # {why}", "");
    } else {
        let _ = writeln!(out, "    {flag:FLAG_COLUMN$}  # {why}");
    }
}

/// The user namespace the init makes, step by step.
fn userns_steps(ns: &crate::spec::init::InitUserNs, why: Option<&str>) -> Vec<String> {
    let map = |r: &[crate::spec::IdRange]| {
        r.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut steps = Vec::new();
    if ns.unmask {
        steps.push("user namespace: take away the engine's mounts over parts of /proc and /sys (the kernel lets a user namespace mount proc and sysfs, as nested containers do, only where a whole one is visible)".to_string());
    }
    let dropped = if ns.outside_only.is_empty() {
        String::new()
    } else {
        format!(
            ", and {}, which only the init outside holds",
            ns.outside_only.join(" ")
        )
    };
    steps.push(format!(
        "user namespace: fork a child that makes a user namespace with its own mount and network namespaces; write its maps (uids {}, gids {}); drop from its bounding set what the sandbox was not given{dropped}",
        map(&ns.uids),
        map(&ns.gids)
    ));
    if !ns.idmap.is_empty() {
        steps.push(format!(
            "user namespace: mount {} again id-mapped through it, so that their files keep their owners on the host",
            ns.idmap.join(" ")
        ));
    }
    steps.push("user namespace: move the sandbox's network interfaces, with their addresses and default routes, into the child's network namespace; the child, root of the namespace, does all that follows, and `dindbox exec` joins it; PID 1 stays outside, forwards signals to it and exits with its status".into());
    if let Some(why) = why {
        steps.push(format!("user namespace: why: {why}"));
    }
    steps
}

fn inner_steps(plan: &Plan) -> Vec<String> {
    let mut steps = Vec::new();
    match &plan.inner.cgroup {
        CgroupSetup::Leave => {}
        CgroupSetup::MountV1 { controllers } => steps.push(format!(
            "cgroups: remount /sys read-write and mount the sandbox's own v1 controllers ({}) on a tmpfs at /sys/fs/cgroup",
            controllers.join(" ")
        )),
        CgroupSetup::NestV2 => steps.push(
            "cgroups: remount /sys/fs/cgroup read-write, move every process into init/, enable every controller for nested containers".into(),
        ),
        CgroupSetup::Detect => steps.push(
            "cgroups: as the sandbox's own kernel has them: v1 controllers mounted afresh, or v2 nested under init/".into(),
        ),
    }
    if let Some(ns) = &plan.inner.userns {
        steps.extend(userns_steps(
            ns,
            plan.spec.userns.as_ref().map(|u| u.why.as_str()),
        ));
    }
    if plan.inner.net_sysctls {
        steps.push("sysctls: make /proc/sys/net writable (the sandbox's own network namespace); the rest of /proc/sys stays read-only".into());
    }
    if plan.inner.systemd {
        steps.push(format!(
            "systemd: write the inner set-up to {} and the unit {} to /run/systemd/system, then exec /sbin/init: systemd becomes PID 1 and its unit does what follows",
            crate::spec::init::SYSTEMD_SPEC_FILE,
            crate::spec::init::SYSTEMD_UNIT
        ));
    }
    if let Some(engine) = &plan.inner.engine {
        let limits = engine
            .ulimits
            .map(|u| {
                format!(
                    ", nested containers get nofile={} nproc={}",
                    u.nofile, u.nproc
                )
            })
            .unwrap_or_default();
        steps.push(format!(
            "engine: start {} with runtime {}{limits}",
            engine.kind, engine.runtime
        ));
        if engine.kind == crate::engine::EngineKind::Docker && !engine.engine_firewall {
            steps.push(
                "network: dockerd without its own iptables rules (--iptables=false) and one MASQUERADE rule on the sandbox's uplink: nested containers reach out, resolve each other and publish ports as usual, networks inside the sandbox are not firewalled from one another, and the start is about 0.1 s faster (`--inner-iptables` for dockerd's own rules)".into(),
            );
        }
        steps.push(format!(
            "wait until {} answers (at most {} s), then load the images mounted under {}",
            engine.kind,
            engine.ready_timeout_ms / 1000,
            crate::spec::init::PRELOAD_DIR
        ));
        steps.extend(super::stepdown::describe(engine));
    }
    if plan.inner.systemd {
        steps.push(format!(
            "tell systemd the unit is ready and report it in {}; the command runs through `exec` once it is there{}",
            crate::spec::init::STATE_FILE,
            if plan.rm {
                ", and the sandbox is removed with its storage after it"
            } else {
                ""
            }
        ));
        return steps;
    }
    steps.push(match plan.inner.command.as_slice() {
        [] => "run an interactive shell".to_string(),
        argv => format!("run {}", quote_argv(argv)),
    });
    steps.push("reap orphans, forward signals, exit with the command's status".into());
    steps
}
