//! The host's side of step-down: remember, per host facts, engine and image,
//! which inner set-up made nested containers run; start there next time
//! (without the canary), and forget it when the facts change.
//!
//! The memory is one small JSON file per engine, user, image and inner engine
//! under `~/.cache/dindbox/stepdown/`, holding the key (a digest of the facts,
//! see `plan::memory::key`) it is valid for.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::plan::memory::{self, Memory, REPORT_FILE};
use crate::plan::outer::{self, OuterStep};
use crate::plan::{Plan, labels};
use crate::probe::facts::{EngineFacts, HostFacts};

/// What happened during a run that the user should hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// The engine could not start the sandbox; the next try takes this step.
    SteppedDown { engine: EngineKind, step: OuterStep },
    /// The directory the init reports into could not be made: nothing is
    /// remembered of this start.
    ReportDirFailed { dir: PathBuf, error: String },
    /// What worked could not be written to the memory file.
    RememberFailed { path: PathBuf, error: String },
}

impl std::fmt::Display for RunEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunEvent::SteppedDown { engine, step } => write!(
                f,
                "dindbox: {engine} could not start the sandbox; stepping down outside: {}",
                step.what()
            ),
            RunEvent::ReportDirFailed { dir, error } => write!(
                f,
                "dindbox: could not create {} ({error}): this start's set-up is not remembered",
                dir.display()
            ),
            RunEvent::RememberFailed { path, error } => write!(
                f,
                "dindbox: could not remember this host's set-up in {}: {error}",
                path.display()
            ),
        }
    }
}

/// What a remembered start found in the memory.
#[derive(Debug, PartialEq, Eq)]
pub enum Recalled {
    /// Valid for these facts: start there.
    Valid(Memory),
    /// Made for other facts: dropped.
    Forgotten,
    Nothing,
}

/// The memory file of one engine, user, image, inner engine and sandbox
/// runtime (`--runtime`: what works under one says nothing of another).
pub fn slot(cache: &Path, plan: &Plan, uid: u32) -> PathBuf {
    let inner = plan
        .inner
        .engine
        .as_ref()
        .map(|e| e.kind.name())
        .unwrap_or("");
    let mut id = format!("{} {uid} {} {inner}", plan.engine, plan.image);
    if let Some(runtime) = plan.identity.get(labels::RUNTIME).filter(|r| !r.is_empty()) {
        id.push_str(&format!(" {runtime}"));
    }
    let digest = hex::encode(&Sha256::digest(id.as_bytes())[..8]);
    cache.join("stepdown").join(format!("{digest}.json"))
}

/// Read the memory for `key`; one made for another key is removed.
pub fn recall(path: &Path, key: &str) -> Recalled {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Recalled::Nothing;
    };
    let memory: Option<Memory> = serde_json::from_str(&text).ok();
    match memory::recall(memory, key) {
        Some(m) => Recalled::Valid(m),
        None => {
            let _ = std::fs::remove_file(path);
            Recalled::Forgotten
        }
    }
}

/// Keep what the init reported under `key`, atomically.
pub fn remember(path: &Path, key: &str, mut memory: Memory) -> std::io::Result<()> {
    memory.key = key.to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), serde_json::to_string_pretty(&memory)?)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A dind start's memory: where it is, what it is keyed by, and the
/// directory the init reports into.
#[derive(Debug)]
pub struct Prepared {
    pub path: PathBuf,
    pub key: String,
    pub report_dir: PathBuf,
    /// The sandbox is kept (named, without --rm): its report directory stays,
    /// as the container mounts it whenever it is started again.
    pub keep: bool,
}

/// Start a dind plan from the memory, or with the canary when there is none.
pub fn prepare(
    plan: &mut Plan,
    host: &HostFacts,
    engine: &EngineFacts,
    image_id: &str,
    cache: &Path,
    keep: bool,
) -> Option<Prepared> {
    let spec = plan.inner.engine.as_ref()?;
    let key = memory::key(host, engine, &plan.image, image_id, spec);
    let path = slot(cache, plan, host.uid);
    let recalled = match recall(&path, &key) {
        Recalled::Valid(memory) => Some(memory),
        Recalled::Forgotten | Recalled::Nothing => None,
    };
    let report_dir = report_dir(cache, &plan.name);
    memory::start_from(plan, host, engine, recalled.as_ref(), &path, &report_dir);
    Some(Prepared {
        path,
        key,
        report_dir,
        keep,
    })
}

/// Where the init of sandbox `name` reports the set-up that worked.
pub fn report_dir(cache: &Path, name: &str) -> PathBuf {
    cache.join("stepdown").join("runs").join(name)
}

/// Whether `apply::run` failed because the engine could not start the sandbox
/// at all (as opposed to the sandbox or its command failing).
fn not_started(e: &Error) -> bool {
    e.kind == crate::error::Kind::SandboxNotStarted
}

/// Run the plan; when the engine cannot start the sandbox, step down outside
/// (see `plan::outer`) and try again, saying which step was
/// taken. Returns the status and the steps that were needed.
pub fn run_stepping_down(
    mut plan: Plan,
    named: bool,
    recreate: bool,
    host: &HostFacts,
    on: &mut dyn FnMut(&RunEvent),
) -> Result<(i32, Vec<OuterStep>)> {
    let mut taken = Vec::new();
    loop {
        match super::run(&plan, named, recreate) {
            Ok(code) => return Ok((code, taken)),
            Err(e) if not_started(&e) => {
                let Some(engine) = host.engine(plan.engine) else {
                    return Err(e);
                };
                let Some(step) = outer::outer_step(&plan, host, engine) else {
                    return Err(e);
                };
                on(&RunEvent::SteppedDown {
                    engine: plan.engine,
                    step: step.clone(),
                });
                step.apply(&mut plan, host, engine);
                taken.push(step);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Around one run: the report directory exists while the sandbox runs, and
/// is read and removed after it.
pub struct Reporting<'a> {
    prepared: &'a Prepared,
}

impl<'a> Reporting<'a> {
    /// Make the report directory. Where the cache cannot be written, the
    /// sandbox starts without it (and nothing is remembered): memory is a
    /// saving, never a reason to fail.
    pub fn start(
        prepared: &'a Prepared,
        plan: &mut Plan,
        on: &mut dyn FnMut(&RunEvent),
    ) -> Option<Self> {
        let made = std::fs::create_dir_all(&prepared.report_dir).and_then(|()| {
            // The sandbox's root writes the report: in a user namespace of
            // its own, it is another host uid than the one running dindbox.
            match &plan.spec.userns {
                Some(userns) => {
                    let (uid, gid) = userns.value.root();
                    std::os::unix::fs::chown(
                        &prepared.report_dir,
                        u32::try_from(uid).ok(),
                        u32::try_from(gid).ok(),
                    )
                }
                None => Ok(()),
            }
        });
        match made {
            Ok(()) => Some(Reporting { prepared }),
            Err(e) => {
                on(&RunEvent::ReportDirFailed {
                    dir: prepared.report_dir.clone(),
                    error: e.to_string(),
                });
                memory::without_report(plan);
                None
            }
        }
    }

    /// Remember what the init reported, if anything, with the steps taken
    /// outside to start the sandbox.
    pub fn finish(self, outer: Vec<OuterStep>, on: &mut dyn FnMut(&RunEvent)) {
        let file = self.prepared.report_dir.join(REPORT_FILE);
        if let Some(mut memory) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str::<Memory>(&t).ok())
            && {
                memory.outer = outer;
                true
            }
            && let Err(e) = remember(&self.prepared.path, &self.prepared.key, memory)
        {
            on(&RunEvent::RememberFailed {
                path: self.prepared.path.clone(),
                error: e.to_string(),
            });
        }
    }
}

impl Drop for Reporting<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.prepared.report_dir.join(REPORT_FILE));
        if !self.prepared.keep {
            let _ = std::fs::remove_dir_all(&self.prepared.report_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_engine_that_never_started_the_sandbox_is_stepped_down_from() {
        assert!(not_started(&Error::sandbox_not_started("podman")));
        let same_words = Error::failure("podman could not start the sandbox");
        assert!(
            !not_started(&same_words),
            "the kind decides, not the wording"
        );
        assert!(!not_started(&Error::failure("lost `podman run`")));
    }
    use crate::plan::stepdown::{Recipe, Storage};

    fn memory(storage: Storage) -> Memory {
        Memory {
            key: String::new(),
            recipe: Recipe {
                storage: Some(storage),
                runtime: "crun".into(),
                cgroups_disabled: true,
                nested_host_network: false,
            },
            steps: vec!["storage: native overlay -> vfs".into()],
            outer: vec![],
        }
    }

    #[test]
    fn memory_is_used_on_the_second_start_and_dropped_when_its_key_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stepdown").join("slot.json");
        assert_eq!(recall(&path, "key-1"), Recalled::Nothing, "first start");
        remember(&path, "key-1", memory(Storage::Vfs)).unwrap();
        match recall(&path, "key-1") {
            Recalled::Valid(m) => {
                assert_eq!(m.key, "key-1");
                assert_eq!(m.recipe.storage, Some(Storage::Vfs));
            }
            other => panic!("second start: {other:?}"),
        }
        assert_eq!(recall(&path, "key-2"), Recalled::Forgotten, "facts changed");
        assert!(!path.exists(), "the old memory is dropped");
        assert_eq!(
            recall(&path, "key-1"),
            Recalled::Nothing,
            "and stays dropped"
        );
    }

    #[test]
    fn each_sandbox_runtime_has_a_memory_of_its_own() {
        let cache = Path::new("/cache");
        let mut plan = crate::plan::tests::sample_plan();
        let default = slot(cache, &plan, 0);
        plan.identity.insert(labels::RUNTIME.into(), String::new());
        assert_eq!(
            slot(cache, &plan, 0),
            default,
            "no runtime: the same slot as ever"
        );
        plan.identity.insert(labels::RUNTIME.into(), "kata".into());
        let kata = slot(cache, &plan, 0);
        assert_ne!(kata, default);
        assert_eq!(kata.parent(), default.parent());
        assert_ne!(slot(cache, &plan, 1000), kata, "and per user");
    }

    #[test]
    fn a_damaged_memory_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slot.json");
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(recall(&path, "k"), Recalled::Forgotten);
        assert!(!path.exists());
    }
}
