//! `plan` and `run` as operations: a request in; the plan, or the status of
//! the command that ran, out. What happens on the way (a step down outside,
//! a memory that could not be kept) is reported as events; the caller
//! renders them.

use crate::apply;
use crate::engine::Engine;
use crate::error::Result;
use crate::plan::{self, Plan, Request};
use crate::probe::{self, facts::HostFacts};
use crate::trace;

/// A request planned on this host, with what the run needs besides the plan.
pub struct Planned {
    pub request: Request,
    pub plan: Plan,
    /// The id of the image the plan asked for, as the engine inspected it.
    pub image_id: String,
    /// The memory of earlier starts to update after this one (dind).
    memory: Option<apply::stepdown::Prepared>,
    host: HostFacts,
}

pub use crate::apply::stepdown::RunEvent;

impl Planned {
    /// What the plan's engine said of itself.
    pub fn engine_facts(&self) -> Option<&crate::probe::facts::EngineFacts> {
        self.host.engine(self.plan.engine)
    }
}

/// Probe the host (once), inspect the image (once), and plan `request`,
/// starting from what earlier starts on this host taught.
pub fn prepare(request: Request) -> Result<Planned> {
    let mut host = probe::probe_for(request.engine);
    if plan::runtime::needs_versions(&request) {
        probe::runtime_versions(&mut host);
    }
    trace::mark("probed the host");
    let engine = plan::choose_engine(&request, &host)?;
    let image = probe::image::inspect(&Engine::new(engine.kind, &engine.binary), &request.image)?;
    trace::mark("inspected the image");
    let mut plan = plan::make_on(&request, &host, engine, &image.facts)?;
    let memory = if plan.inner.engine.is_some() {
        // A kept sandbox mounts its report directory at every start.
        let keep = !request.rm;
        apply::stepdown::prepare(
            &mut plan,
            &host,
            engine,
            &image.id,
            &crate::paths::cache_dir(),
            keep,
        )
    } else {
        None
    };
    Ok(Planned {
        request,
        plan,
        image_id: image.id,
        memory,
        host,
    })
}

/// Make the image the plan runs where it is made from another: a copy with
/// its owners shifted into the user namespace's ids.
pub fn ensure_image(plan: &Plan, image_id: &str) -> Result<()> {
    if let Some(shift) = &plan.shift {
        crate::image::shift::ensure(&apply::engine_for(plan), shift, image_id)?;
        trace::mark("the shifted image is there");
    }
    Ok(())
}

/// Run a planned sandbox (stepping down outside when the engine cannot
/// start it) and remember what worked; the command's exit status.
pub fn run(planned: Planned, recreate: bool, on: &mut dyn FnMut(&RunEvent)) -> Result<i32> {
    let Planned {
        request,
        mut plan,
        image_id,
        memory,
        host,
    } = planned;
    ensure_image(&plan, &image_id)?;
    let reporting = memory
        .as_ref()
        .and_then(|m| apply::stepdown::Reporting::start(m, &mut plan, on));
    let (code, outer) =
        apply::stepdown::run_stepping_down(plan, request.named, recreate, &host, on)?;
    if let Some(reporting) = reporting {
        reporting.finish(outer, on);
    }
    Ok(code)
}
