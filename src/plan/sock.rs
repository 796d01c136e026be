//! `sock`: the host engine's API socket, mounted where Docker clients look.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{EngineFacts, HostFacts};

use super::{Arg, Plan, Request};

/// Where the socket appears inside the sandbox: where every Docker client looks first.
pub const INSIDE: &str = "/var/run/docker.sock";

pub fn apply(
    plan: &mut Plan,
    _req: &Request,
    _host: &HostFacts,
    engine: &EngineFacts,
) -> Result<()> {
    let Some(socket) = engine.live_socket() else {
        return Err(no_socket(engine));
    };
    plan.run.push(Arg::new(
        ["-v".to_string(), format!("{}:{INSIDE}", socket.path)],
        format!(
            "the host's {} API socket ({}), where Docker clients look",
            engine.kind, socket.path
        ),
    ));
    plan.run.push(Arg::new(
        ["-e".to_string(), format!("DOCKER_HOST=unix://{INSIDE}")],
        "points Docker clients (and compose, testcontainers) at the mounted socket",
    ));
    if engine.kind == EngineKind::Podman {
        plan.run.push(Arg::new(
            ["-e".to_string(), format!("CONTAINER_HOST=unix://{INSIDE}")],
            "points podman --remote at the mounted socket",
        ));
    }
    plan.notes.push(format!(
        "the socket gives the sandbox full control of the host's {}: containers it starts are the host's, and can mount any host path",
        engine.kind
    ));
    Ok(())
}

fn no_socket(engine: &EngineFacts) -> Error {
    let looked: Vec<&str> = engine.sockets.iter().map(|s| s.path.as_str()).collect();
    let mut err = Error::refused(format!(
        "sock mode needs {}'s API socket, and none answers",
        engine.kind
    ));
    err = err.cause(if looked.is_empty() {
        "no socket found".to_string()
    } else {
        format!("looked at: {}", looked.join(", "))
    });
    match engine.kind {
        EngineKind::Podman if engine.rootless => err
            .hint("start Podman's socket: `systemctl --user enable --now podman.socket`")
            .hint("or by hand: `podman system service --time=0 unix://$XDG_RUNTIME_DIR/podman/podman.sock &`"),
        EngineKind::Podman => err
            .hint("start Podman's socket: `systemctl enable --now podman.socket`")
            .hint("or by hand: `podman system service --time=0 unix:///run/podman/podman.sock &`"),
        EngineKind::Docker => err.hint("start Docker: `systemctl start docker`, or set DOCKER_HOST to its socket"),
    }
}
