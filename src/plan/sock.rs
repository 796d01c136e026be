//! `sock`: the host engine's API socket, mounted where Docker clients look.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{EngineFacts, HostFacts};

use super::{HostService, Plan, Request, ServiceConfig, ulimits};
use crate::spec::{Mount, Var, Why};

/// Where the socket appears inside the sandbox: where every Docker client looks first.
pub const INSIDE: &str = "/var/run/docker.sock";
/// Inside the sandbox: where the directory of a socket dindbox serves is mounted.
pub const SERVED_DIR_INSIDE: &str = "/run/dindbox/api";
/// The served socket's name in that directory.
const SERVED_SOCKET: &str = "podman.sock";

pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    let path = match engine.live_socket() {
        _ if engine.remote => super::remote::socket(engine)?,
        Some(socket) => {
            if let Some(note) = closed_to_users(socket) {
                plan.notes.push(note);
            }
            socket.path.clone()
        }
        None if engine.kind == EngineKind::Podman => {
            let service =
                podman_service(plan, req, host, engine).ok_or_else(|| no_socket(engine))?;
            plan.notes.push(format!(
                "no Podman API socket answers: this sandbox gets one of its own; to have Podman's socket always there, run `{}`",
                enable_socket_line(engine)
            ));
            serve(plan, req, service);
            String::new()
        }
        None => return Err(no_socket(engine)),
    };
    if !path.is_empty() {
        plan.spec.mounts.push(Why::new(
            Mount::bind(path.clone(), INSIDE),
            format!(
                "the host's {} API socket ({path}), where Docker clients look",
                engine.kind
            ),
        ));
    }
    plan.spec.env.push(Why::new(
        vec![Var::new("DOCKER_HOST", format!("unix://{INSIDE}"))],
        "points Docker clients (and compose, testcontainers) at the mounted socket",
    ));
    if engine.kind == EngineKind::Podman {
        plan.spec.env.push(Why::new(
            vec![Var::new("CONTAINER_HOST", format!("unix://{INSIDE}"))],
            "points podman --remote at the mounted socket",
        ));
    }
    if engine.rootless && !super::rootless::user_net_works(host, engine) {
        plan.notes.push("containers started through the socket are rootless Podman's too, and slirp4netns cannot start here: give them `--network none` or `--network host` (`docker run --network host ...`)".into());
    }
    plan.notes.push(format!(
        "the socket gives the sandbox full control of the host's {}: containers it starts are the host's, and can mount any host path",
        engine.kind
    ));
    Ok(())
}

/// A socket dindbox serves: its directory is mounted (not the socket file,
/// so that a service started again later is reached through the same
/// mount), /var/run/docker.sock inside links to it, and a kept sandbox
/// carries the service as a label, so that `exec` and `start` can start it
/// again when it is gone (after the host restarted, say).
fn serve(plan: &mut Plan, req: &Request, service: HostService) {
    plan.spec.mounts.push(Why::new(
        Mount::bind(format!("{}/api", service.dir), SERVED_DIR_INSIDE),
        format!(
            "the directory of the Podman API socket dindbox serves for this sandbox ({}); /var/run/docker.sock inside links to it",
            service.socket
        ),
    ));
    plan.inner.socket_link = Some(format!("{SERVED_DIR_INSIDE}/{SERVED_SOCKET}"));
    if !req.rm {
        plan.spec.labels.push(Why::new(
            vec![(
                super::labels::SERVICE.to_string(),
                serde_json::to_string(&service).expect("a service serialises"),
            )],
            "the API service this kept sandbox needs: started again by `exec` and `start` when it is not running, stopped by `rm`",
        ));
    }
    plan.service = Some(service);
}

/// The directory of a sandbox's own Podman API service: beside the user's
/// runtime files, one per sandbox, so no system service is touched.
pub fn service_dir(host: &HostFacts, name: &str) -> Option<String> {
    let base = if host.uid == 0 {
        "/run/dindbox".to_string()
    } else {
        format!("{}/dindbox", host.env.xdg_runtime_dir.as_deref()?)
    };
    // A unix socket's path fits in 108 bytes: long names are shortened to a digest.
    let leaf = if base.len() + name.len() + 6 + SERVED_SOCKET.len() > 100 {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(name.as_bytes())[..8])
    } else {
        name.to_string()
    };
    Some(format!("{base}/{leaf}"))
}

/// Where a sandbox's own Podman API service listens.
pub fn service_socket(host: &HostFacts, name: &str) -> Option<String> {
    Some(format!("{}/api/{SERVED_SOCKET}", service_dir(host, name)?))
}

/// No Podman API socket answers: serve one for the sandbox's lifetime, with
/// the settings this host needs for the containers it will start (the
/// runtime, and limits within the host's), since the service reads only its
/// configuration, not dindbox's flags.
fn podman_service(
    plan: &Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
) -> Option<HostService> {
    let dir = service_dir(host, &req.name)?;
    let socket = service_socket(host, &req.name)?;
    // The runtime this host needs for the containers the service starts,
    // whatever runs the sandbox itself (`--runtime`).
    let runtime = super::runtime_override(host, engine).ok().flatten();
    let argv = crate::render::podman::service_argv(
        &plan.engine_binary,
        runtime.as_ref().map(|r| r.value.as_str()),
        &socket,
    );
    let config = ulimits(host).map(|u| ServiceConfig {
        env: crate::engine::podman::config_env(engine.server_version.as_deref()).to_string(),
        content: crate::render::podman::containers_conf([(
            "containers",
            toml::Table::from_iter([(
                "default_ulimits".to_string(),
                crate::render::podman::default_ulimits(u),
            )]),
        )]),
    });
    let why = if req.rm {
        "no Podman API socket answers on this host: dindbox serves one for this sandbox and stops it afterwards"
    } else {
        "no Podman API socket answers on this host: dindbox serves one for this kept sandbox, in the background, until `dindbox rm` removes the sandbox"
    };
    Some(HostService {
        argv,
        socket,
        dir,
        config,
        why: why.into(),
    })
}

/// A note when an existing socket is closed to users other than its owner and
/// group: inside the sandbox it is bind-mounted as it is, so only root (and
/// that group) can use it there. dindbox does not change a socket it did not make.
fn closed_to_users(socket: &crate::probe::facts::SocketFacts) -> Option<String> {
    let mode = socket.mode?;
    (!crate::probe::facts::open_to_others(mode)).then(|| format!(
        "{} is mode {mode:04o}: inside the sandbox only root can use it (the socket is mounted as it is); for a non-root user inside, stop that service, and dindbox serves a socket of its own that every user inside may use",
        socket.path
    ))
}

/// The line that makes Podman's API socket permanent (socket activation).
pub fn enable_socket_line(engine: &EngineFacts) -> &'static str {
    if engine.rootless {
        "systemctl --user enable --now podman.socket"
    } else {
        "systemctl enable --now podman.socket"
    }
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
            .hint(format!("start Podman's socket: `{}`", enable_socket_line(engine)))
            .hint("or by hand: `podman system service --time=0 unix://$XDG_RUNTIME_DIR/podman/podman.sock &`"),
        EngineKind::Podman => err
            .hint(format!("start Podman's socket: `{}`", enable_socket_line(engine)))
            .hint("or by hand: `podman system service --time=0 unix:///run/podman/podman.sock &`"),
        EngineKind::Docker => err.hint("start Docker: `systemctl start docker`, or set DOCKER_HOST to its socket"),
    }
}
