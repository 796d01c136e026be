//! The memory of dind starts: what it is keyed by (the host facts that
//! decide whether an inner set-up works), and what it holds. Pure; the files
//! are read and written by `apply/stepdown.rs`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::EngineKind;
use crate::probe::facts::{EngineFacts, HostFacts};

use super::outer::OuterStep;
use super::stepdown::Recipe;
use std::path::Path;

use super::Plan;
use crate::spec::images::CANARY;
use crate::spec::init::InnerEngineSpec;
use crate::spec::{Mount, Why};

pub use crate::spec::init::{REPORT_DIR, REPORT_FILE};

/// What the memory of a start is keyed by: the host facts that decide
/// whether a set-up works, the engine and its version, the image and the
/// inner engine. When any of them changes, the memory no longer applies.
#[derive(Serialize)]
struct KeyFacts<'a> {
    kernel: &'a str,
    uid: u32,
    cgroup: &'a crate::probe::facts::CgroupFacts,
    devices: &'a crate::probe::facts::DeviceFacts,
    security: &'a crate::probe::facts::SecurityFacts,
    filesystems: &'a crate::probe::facts::FsFacts,
    runtimes: Vec<&'a str>,
    engine: EngineKind,
    engine_version: Option<&'a str>,
    rootless: bool,
    storage_driver: Option<&'a str>,
    default_runtime: Option<&'a str>,
    image: &'a str,
    image_id: &'a str,
    planned: Recipe,
}

pub fn key(
    host: &HostFacts,
    engine: &EngineFacts,
    image: &str,
    image_id: &str,
    planned: &InnerEngineSpec,
) -> String {
    let facts = KeyFacts {
        kernel: &host.kernel,
        uid: host.uid,
        cgroup: &host.cgroup,
        devices: &host.devices,
        security: &host.security,
        filesystems: &host.filesystems,
        runtimes: host.oci_runtimes.iter().map(|r| r.name.as_str()).collect(),
        engine: engine.kind,
        engine_version: engine.server_version.as_deref(),
        rootless: engine.rootless,
        storage_driver: engine.storage_driver.as_deref(),
        default_runtime: engine.default_runtime.as_deref(),
        image,
        image_id,
        planned: Recipe::of(planned),
    };
    let json = serde_json::to_string(&(planned.kind, facts)).expect("key facts serialise");
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// What the init reports, and the host keeps under its cache directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub key: String,
    pub recipe: Recipe,
    /// The steps taken to get there, in order (empty when the plan worked as made).
    pub steps: Vec<String>,
    /// Steps outside that let the sandbox start, in order.
    #[serde(default)]
    pub outer: Vec<OuterStep>,
}

/// Start a dind plan from what is remembered for this host (`memory`, read
/// from `slot`), or with the canary when nothing is; the init reports what
/// worked into `report_dir`, mounted in.
pub fn start_from(
    plan: &mut Plan,
    host: &HostFacts,
    engine: &EngineFacts,
    memory: Option<&Memory>,
    slot: &Path,
    report_dir: &Path,
) {
    let Some(inner) = plan.inner.engine.as_ref().map(|e| e.kind) else {
        return;
    };
    let (canary, note) = match memory {
        Some(memory) => {
            if let Some(spec) = plan.inner.engine.as_mut() {
                memory.recipe.set(spec);
            }
            for step in &memory.outer {
                step.apply(plan, host, engine);
            }
            let mut steps: Vec<&str> = memory.outer.iter().map(OuterStep::what).collect();
            steps.extend(memory.steps.iter().map(String::as_str));
            let how = if steps.is_empty() {
                "as planned".to_string()
            } else {
                format!("after stepping down: {}", steps.join("; "))
            };
            (
                None,
                format!(
                    "remembered from an earlier start on this host ({}): nested {inner} containers ran {how}; the canary is skipped",
                    slot.display()
                ),
            )
        }
        None => (
            Some(CANARY.to_string()),
            format!(
                "no remembered set-up for these host facts: the start ends with a nested run of {CANARY}, stepping down until it works"
            ),
        ),
    };
    plan.notes.push(note);
    if let Some(spec) = plan.inner.engine.as_mut() {
        spec.canary = canary;
        spec.report = Some(REPORT_DIR.to_string());
    }
    plan.spec.mounts.push(Why::new(
        Mount::bind(report_dir.display().to_string(), REPORT_DIR),
        "where the init reports the inner set-up that worked, which dindbox remembers for this host",
    ));
}

/// The report directory could not be made: the sandbox starts without it,
/// and nothing is remembered.
pub fn without_report(plan: &mut Plan) {
    plan.spec.mounts.retain(|m| m.value.target() != REPORT_DIR);
    if let Some(spec) = plan.inner.engine.as_mut() {
        spec.report = None;
    }
}

/// The remembered recipe when its key is this start's; None otherwise.
pub fn recall(memory: Option<Memory>, key: &str) -> Option<Memory> {
    memory.filter(|m| m.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::stepdown::test_spec as spec;

    #[test]
    fn memory_applies_only_to_its_own_key() {
        let memory = Memory {
            key: "abc".into(),
            recipe: Recipe::of(&spec(EngineKind::Podman, "crun", true)),
            steps: vec![],
            outer: vec![],
        };
        assert_eq!(recall(Some(memory.clone()), "abc"), Some(memory.clone()));
        assert_eq!(recall(Some(memory), "abd"), None);
        assert_eq!(recall(None, "abc"), None);
    }

    #[test]
    fn the_key_follows_the_facts_that_decide_a_set_up() {
        let host = crate::probe::fixtures::this_machine();
        let engine = host.engine(EngineKind::Podman).unwrap().clone();
        let s = spec(EngineKind::Podman, "runc", false);
        let k = key(&host, &engine, "img", "id1", &s);
        assert_eq!(k, key(&host, &engine, "img", "id1", &s), "stable");
        assert_ne!(k, key(&host, &engine, "img", "id2", &s), "another image");
        let mut newer = engine.clone();
        newer.server_version = Some("5.0.0".into());
        assert_ne!(
            k,
            key(&host, &newer, "img", "id1", &s),
            "another engine version"
        );
        let mut other = host.clone();
        other.devices.fuse = None;
        assert_ne!(
            k,
            key(&other, &engine, "img", "id1", &s),
            "another device set"
        );
        let docker = spec(EngineKind::Docker, "runc", false);
        assert_ne!(
            k,
            key(&host, &engine, "img", "id1", &docker),
            "another inner engine"
        );
    }
}
