//! Snapshots of `plan` and `plan --json` for every fixture host × host engine ×
//! mode × inner engine × runtime × `--systemd`: what each plans, or how it is
//! refused. A change to any plan shows here as a diff to review
//! (`cargo insta review`); CI fails on a snapshot that differs.

use std::fmt::Write;

use super::tests::{our_image, request};
use super::*;
use crate::engine::EngineKind;
use crate::error::Error;
use crate::probe::fixtures;

/// The fixture hosts, and some of them with a stronger runtime installed.
fn hosts() -> Vec<(&'static str, HostFacts)> {
    let mut hosts = fixtures::all();
    let debian_runsc = ["--network=host", "--host-uds=open"];
    hosts.extend([
        (
            "this-machine-gvisor",
            fixtures::with_gvisor(fixtures::this_machine(), "0.0~20221219.0", &debian_runsc),
        ),
        (
            "this-machine-kata",
            fixtures::with_runtime(fixtures::this_machine(), "kata", "kata-runtime"),
        ),
        (
            "this-machine-runcvm",
            fixtures::with_runtime(fixtures::this_machine(), "runcvm", "runcvm"),
        ),
        (
            "ubuntu-sysbox",
            fixtures::with_runtime(fixtures::ubuntu(), "sysbox-runc", "sysbox-runc"),
        ),
    ]);
    hosts
}

const RUNTIMES: [Option<&str>; 6] = [
    None,
    Some("runc"),
    Some("runsc"),
    Some("kata"),
    Some("sysbox-runc"),
    Some("runcvm"),
];

/// Every request planned on a host, with the words of the command line that make it.
fn requests(host: &HostFacts) -> Vec<(String, Request)> {
    let modes = [
        (Mode::Common, EngineKind::Podman),
        (Mode::Sock, EngineKind::Podman),
        (Mode::Dind, EngineKind::Podman),
        (Mode::Dind, EngineKind::Docker),
    ];
    let mut out = Vec::new();
    for engine in host.engines.iter().map(|e| e.kind) {
        for (mode, inner) in modes {
            for runtime in RUNTIMES {
                for systemd in [false, true] {
                    // Kept sandboxes differ in how they start and attach,
                    // not by runtime: one kept plan per mode and engine.
                    let rms: &[bool] = if runtime.is_none() {
                        &[true, false]
                    } else {
                        &[true]
                    };
                    for &rm in rms {
                        let mut req = request(mode, Some(engine), inner);
                        req.runtime = runtime.map(String::from);
                        req.systemd = systemd;
                        req.rm = rm;
                        if systemd {
                            // Refused without (the plan's unit tests show it).
                            req.host_root = true;
                            req.image = systemd::image_tag();
                        }
                        let mut words = format!("-m {} --engine {engine}", mode.name());
                        if mode == Mode::Dind {
                            let _ = write!(words, " --inner {inner}");
                        }
                        if let Some(r) = runtime {
                            let _ = write!(words, " --runtime {r}");
                        }
                        if systemd {
                            words.push_str(" --systemd --host-root");
                        }
                        if rm {
                            words.push_str(" --rm");
                        }
                        out.push((words, req));
                    }
                }
            }
        }
    }
    out
}

fn image_for(req: &Request) -> ImageFacts {
    ImageFacts {
        systemd: req.systemd,
        ..our_image()
    }
}

fn refused(e: &Error) -> String {
    format!("refused (exit {}):\n{e}\n", e.code)
}

/// The engine each mode gets when none is named.
fn default_engines(host: &HostFacts) -> String {
    let mut out = String::new();
    for mode in [Mode::Common, Mode::Sock, Mode::Dind] {
        let req = request(mode, None, EngineKind::Podman);
        let chosen = match choose_engine(&req, host) {
            Ok(e) => e.kind.to_string(),
            Err(e) => refused(&e),
        };
        let _ = writeln!(out, "default engine for -m {}: {chosen}", mode.name());
    }
    out
}

fn snapshot(host: &HostFacts, render: fn(&Plan) -> String) -> String {
    let mut out = default_engines(host);
    for (words, req) in requests(host) {
        let _ = writeln!(out, "\n=== dindbox plan {words}");
        match make(&req, host, &image_for(&req)) {
            Ok(plan) => out.push_str(&render(&plan)),
            Err(e) => out.push_str(&refused(&e)),
        }
    }
    out
}

#[test]
fn plans_of_every_fixture_host() {
    for (name, host) in hosts() {
        insta::assert_snapshot!(format!("plan-{name}"), snapshot(&host, show::text));
    }
}

#[test]
fn json_plans_of_every_fixture_host() {
    let json = |plan: &Plan| format!("{}\n", show::json(plan));
    for (name, host) in hosts() {
        insta::assert_snapshot!(format!("plan-json-{name}"), snapshot(&host, json));
    }
}

/// The modes and inner engines an export is made of.
const KEPT_MODES: [(Mode, EngineKind); 4] = [
    (Mode::Common, EngineKind::Podman),
    (Mode::Sock, EngineKind::Podman),
    (Mode::Dind, EngineKind::Podman),
    (Mode::Dind, EngineKind::Docker),
];

/// A kept sandbox `work` as an export plans it, and the words `-m MODE
/// [--inner INNER]`.
fn kept(mode: Mode, engine: EngineKind, inner: EngineKind) -> (Request, String) {
    let mut req = request(mode, Some(engine), inner);
    req.rm = false;
    req.named = true;
    req.command = None;
    req.name = "work".into();
    // As exports name it: where it lasts past a boot.
    req.profiles_dir = "/root/.cache/dindbox/profiles".into();
    let mut words = format!("-m {}", mode.name());
    if mode == Mode::Dind {
        let _ = write!(words, " --inner {inner}");
    }
    (req, words)
}

/// The Quadlet file (`dindbox export systemd NAME --quadlet`) of a kept
/// sandbox of every mode and inner engine on each fixture host's Podman, or
/// why there is none.
fn quadlet_snapshot(host: &HostFacts) -> Option<String> {
    let engine = host.engine(EngineKind::Podman)?;
    let mut out = String::new();
    for (mode, inner) in KEPT_MODES {
        let (req, words) = kept(mode, EngineKind::Podman, inner);
        let _ = writeln!(out, "\n=== dindbox export systemd work --quadlet {words}");
        match make(&req, host, &image_for(&req)) {
            Ok(_) if engine.remote => out.push_str("refused: Podman runs under another kernel\n"),
            Ok(plan) if plan.service.is_some() => out.push_str(
                "refused: the sandbox would mount a Podman API socket that dindbox serves itself\n",
            ),
            Ok(mut plan) => {
                memory::without_report(&mut plan);
                let exec = plan.init_args();
                out.push_str(&crate::render::quadlet::container(
                    &crate::render::quadlet::Quadlet {
                        name: &plan.name,
                        mode: plan.mode.name(),
                        image: &plan.image,
                        spec: &plan.spec,
                        exec: &exec,
                        rootless: engine.rootless,
                        podman_socket: plan.mode == Mode::Sock,
                    },
                ));
            }
            Err(e) => out.push_str(&refused(&e)),
        }
    }
    Some(out)
}

#[test]
fn quadlet_files_of_every_fixture_host_with_podman() {
    let mut made = 0;
    for (name, host) in fixtures::all() {
        if let Some(text) = quadlet_snapshot(&host) {
            insta::assert_snapshot!(format!("quadlet-{name}"), text);
            made += 1;
        }
    }
    assert!(made >= 5, "hosts with Podman: {made}");
}

/// The dev container configuration (`dindbox export devcontainer`) of a
/// kept sandbox of every mode and inner engine on each fixture host's
/// engines: devcontainer.json and its Dockerfile, or why there is none.
fn devcontainer_snapshot(host: &HostFacts) -> String {
    use crate::render::devcontainer;
    let mut out = String::new();
    for engine in host.engines.iter().map(|e| e.kind) {
        for (mode, inner) in KEPT_MODES {
            let (req, words) = kept(mode, engine, inner);
            let _ = writeln!(
                out,
                "\n=== dindbox export devcontainer -n work --engine {engine} {words}"
            );
            match make(&req, host, &image_for(&req)) {
                Ok(plan) if plan.service.is_some() => out.push_str(
                    "refused: the sandbox would mount a Podman API socket that dindbox serves itself\n",
                ),
                Ok(plan) if !plan.command().global.is_empty() => {
                    out.push_str("refused: the sandbox needs flags before `run`\n")
                }
                Ok(mut plan) => {
                    memory::without_report(&mut plan);
                    let exec = plan.init_args();
                    let d = plan.devcontainer(&exec, &[], &[]);
                    out.push_str(&devcontainer::config(&d));
                    out.push_str("--- Dockerfile\n");
                    out.push_str(&devcontainer::dockerfile(&d));
                }
                Err(e) => out.push_str(&refused(&e)),
            }
        }
    }
    out
}

#[test]
fn devcontainer_configurations_of_every_fixture_host() {
    for (name, host) in fixtures::all() {
        insta::assert_snapshot!(format!("devcontainer-{name}"), devcontainer_snapshot(&host));
    }
}
