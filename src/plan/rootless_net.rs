//! Rootless Podman's network: slirp4netns or pasta, in user space, which open
//! /dev/net/tun as the user. Where the user cannot, every sandbox fails to
//! start, so the plan says so before anything starts.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{EngineFacts, HostFacts};

use super::Plan;

/// Refuse a plan whose sandbox would get rootless Podman's default network
/// where this user cannot open /dev/net/tun. A network the plan names
/// (`--network`, asked for or chosen) is left to the engine.
pub fn check(plan: &Plan, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    let applies = engine.kind == EngineKind::Podman && engine.rootless && !engine.remote;
    let named = plan
        .run
        .iter()
        .any(|a| a.args.first().is_some_and(|f| f.starts_with("--network")));
    if !applies || named {
        return Ok(());
    }
    let state = match &host.devices.net_tun {
        Some(d) if d.mode & 0o006 == 0o006 => return Ok(()),
        Some(d) => format!("/dev/net/tun is {:04o}: only its owner can open it", d.mode),
        None => "/dev/net/tun does not exist".to_string(),
    };
    Err(
        Error::refused("rootless Podman cannot give this sandbox a network")
            .cause(format!(
                "its user-space network (slirp4netns or pasta) opens /dev/net/tun as this user, and {state}"
            ))
            .hint("as root, once: `chmod 666 /dev/net/tun` (after `modprobe tun` where it does not exist)")
            .hint("or start the sandbox without a network: `--network none`")
            .hint("or on the host's network: `--network host`"),
    )
}
