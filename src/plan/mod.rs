//! The plan: request + host facts → the exact engine command, the inner
//! set-up, and the reason for every flag; or a refusal that says what would
//! make it work. Pure: nothing here touches the host.

pub mod attach;
pub mod common;
pub mod confine;
pub mod dind;
pub mod identity;
pub mod memlock;
pub mod memory;
pub mod name;
pub mod nat;
pub mod outer;
pub mod privileged;
pub mod remote;
pub mod resources;
pub mod rootless;
pub mod runtime;
pub mod show;
pub mod sock;
pub mod stepdown;
pub mod systemd;
pub mod userns;

mod base;
mod checks;
mod model;
pub mod select;

use crate::error::Result;
use crate::probe::facts::{EngineFacts, HostFacts};
use crate::spec::Why;
/// The init's spec, which the plan writes and the init reads.
pub use crate::spec::init as inner;
pub use base::{runtime_override, ulimits};
pub use checks::check_workspace;
use inner::INIT_PATH;
pub use model::*;
pub use name::check_name;
pub use select::{choose_engine, install_hint, none_answers_from, start_hint};

pub use crate::spec::labels;

/// The limit engines ask for by default, above many hosts' hard limits.
pub const ENGINE_DEFAULT_NOFILE: u64 = 1_048_576;

/// Make the plan, or refuse with the reasons and what would fix them.
pub fn make(req: &Request, host: &HostFacts, image: &ImageFacts) -> Result<Plan> {
    make_on(req, host, choose_engine(req, host)?, image)
}

/// Make the plan on the engine `choose_engine` chose.
pub fn make_on(
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    image: &ImageFacts,
) -> Result<Plan> {
    check_workspace(&req.workspace)?;
    if !req.systemd {
        // With --systemd, after what no image changes (systemd::apply).
        checks::check_image(req, image)?;
    }
    let view = remote::view(host, engine);
    let host = view.as_ref();
    runtime::check(req, host, engine)?;
    let mut plan = base::base(req, host, engine);
    if req.runtime.is_none() {
        base::outer_runtime(&mut plan, host, engine)?;
    }
    if req.privileged {
        privileged::apply(&mut plan, host, engine);
    }
    userns::apply(&mut plan, req, host, engine)?;
    match req.mode {
        Mode::Common => common::apply(&mut plan, req, host, engine)?,
        Mode::Sock => sock::apply(&mut plan, req, host, engine)?,
        Mode::Dind => dind::apply(&mut plan, req, host, engine, image)?,
    }
    if req.systemd {
        systemd::apply(&mut plan, req, host, engine, image)?;
    }
    confine::no_new_privileges(&mut plan, req, image);
    nat::apply(&mut plan, req, host, engine);
    memlock::apply(&mut plan, req, host, engine);
    runtime::apply(&mut plan, req, host, engine);
    remote::notes(&mut plan, req, host, engine);
    label_identity(&mut plan, req);
    Ok(plan)
}

/// Put what defines the sandbox on it as labels, last, once every item is known.
fn label_identity(plan: &mut Plan, req: &Request) {
    let inner = plan.inner.engine.as_ref().map(|e| e.kind.name());
    let env = identity::env_summary(&req.env);
    // The image asked for, not a copy made of it for the user namespace.
    let image = plan
        .shift
        .as_ref()
        .map_or(req.image.clone(), |s| s.source.clone());
    plan.identity = identity::labels(
        req.mode.name(),
        inner,
        &image,
        req.runtime.as_deref(),
        &plan.spec,
        &env,
    );
    plan.identity.insert(
        labels::SYSTEMD.to_string(),
        if req.systemd { "true" } else { "" }.to_string(),
    );
    let mut all: Vec<(String, String)> = plan
        .identity
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    all.extend([
        (
            labels::WORKDIR.to_string(),
            req.container_workspace.display().to_string(),
        ),
        (
            labels::TIMEOUT.to_string(),
            req.ready_timeout_ms.to_string(),
        ),
    ]);
    plan.spec.labels.push(Why::new(
        all,
        "what the sandbox was made from: `run` compares it when it finds a sandbox of this name, `exec` finds the workspace and timeout there",
    ));
}

#[cfg(test)]
mod fixture_hosts;
#[cfg(test)]
mod snapshots;
#[cfg(test)]
pub mod tests;
