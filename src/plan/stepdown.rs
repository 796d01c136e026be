//! Step-down: when nested containers cannot run with the planned inner
//! set-up, the init tries the next less demanding one and says which step it
//! took (the host remembers what worked: `memory.rs`; steps outside the
//! sandbox: `outer.rs`).
//!
//! Pure: the ladder, and the choice of step from a failure.

use serde::{Deserialize, Serialize};

use crate::engine::EngineKind;

use crate::spec::init::InnerEngineSpec;

pub use crate::spec::init::Storage;

/// The parts of the inner set-up that step-down changes, as remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    /// None: the image's own storage.conf.
    pub storage: Option<Storage>,
    pub runtime: String,
    pub cgroups_disabled: bool,
    pub nested_host_network: bool,
}

impl Recipe {
    pub fn of(spec: &InnerEngineSpec) -> Self {
        Recipe {
            storage: spec.storage,
            runtime: spec.runtime.clone(),
            cgroups_disabled: spec.cgroups_disabled,
            nested_host_network: spec.nested_host_network,
        }
    }

    pub fn set(&self, spec: &mut InnerEngineSpec) {
        spec.storage = self.storage;
        spec.runtime = self.runtime.clone();
        spec.cgroups_disabled = self.cgroups_disabled;
        spec.nested_host_network = self.nested_host_network;
    }

    pub fn describe(&self) -> String {
        format!(
            "storage {}, runtime {}, cgroups {}, nested containers on {} network",
            self.storage.map_or("as the image sets it", Storage::name),
            self.runtime,
            if self.cgroups_disabled {
                "disabled"
            } else {
                "on"
            },
            if self.nested_host_network {
                "the sandbox's"
            } else {
                "their own"
            }
        )
    }
}

/// What the init found inside the sandbox that decides which steps exist.
#[derive(Debug, Clone, Default)]
pub struct Inside {
    /// /dev/fuse can be opened (fuse-overlayfs can work).
    pub fuse: bool,
    /// OCI runtimes installed in the image.
    pub runtimes: Vec<String>,
    /// The driver the image's storage.conf asks for, when it has one.
    pub image_driver: Option<String>,
}

/// Kinds of step, in the order they are tried when a failure names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Storage,
    Runtime,
    Cgroups,
    Network,
}

const ORDER: [Kind; 4] = [Kind::Storage, Kind::Runtime, Kind::Cgroups, Kind::Network];

/// The kind of step a failure's message points at first.
fn kind_of(failure: &str) -> Option<Kind> {
    let f = failure.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| f.contains(w));
    if any(&["cgroup", "devices.allow", "devices.deny"]) {
        Some(Kind::Cgroups)
    } else if any(&["oci runtime", "runc:", "crun:"]) {
        Some(Kind::Runtime)
    } else if any(&[
        "storage",
        "graph driver",
        "overlay",
        "mount_program",
        "fuse",
        "driver not supported",
        "layer",
    ]) {
        Some(Kind::Storage)
    } else if any(&[
        "netavark",
        "slirp4netns",
        "/dev/net/tun",
        "iptables",
        "network",
        "cni",
    ]) {
        Some(Kind::Network)
    } else if any(&["oci runtime", "crun", "runc", "runtime"]) {
        Some(Kind::Runtime)
    } else {
        None
    }
}

/// One step down: the new set-up and what was stepped, e.g.
/// "storage: native overlay -> fuse-overlayfs".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub spec: InnerEngineSpec,
    pub what: String,
}

fn storage_step(spec: &InnerEngineSpec, inside: &Inside) -> Option<Step> {
    // The image's own configuration counts as native overlay when it asks for overlay.
    let current = spec.storage.or_else(|| {
        (inside.image_driver.as_deref() == Some("overlay")).then_some(Storage::Overlay)
    });
    let from = current.map_or_else(
        || {
            format!(
                "the image's {}",
                inside.image_driver.as_deref().unwrap_or("default")
            )
        },
        |s| s.name().to_string(),
    );
    let next = [Storage::Overlay, Storage::FuseOverlayfs, Storage::Vfs]
        .into_iter()
        .filter(|s| current.is_none_or(|c| *s > c))
        .find(|s| *s != Storage::FuseOverlayfs || inside.fuse)?;
    let mut spec = spec.clone();
    spec.storage = Some(next);
    Some(Step {
        spec,
        what: format!("storage: {from} -> {}", next.name()),
    })
}

fn runtime_step(spec: &InnerEngineSpec, inside: &Inside, planned: &str) -> Option<Step> {
    if spec.runtime != planned {
        return None; // swapped once already
    }
    let other = if planned == "crun" { "runc" } else { "crun" };
    // runc cannot run Podman's containers without cgroups.
    let fits = !(other == "runc" && spec.cgroups_disabled && spec.kind == EngineKind::Podman);
    if !fits || !inside.runtimes.iter().any(|r| r == other) {
        return None;
    }
    let mut spec = spec.clone();
    spec.runtime = other.to_string();
    Some(Step {
        spec,
        what: format!("runtime: {planned} -> {other}"),
    })
}

fn cgroups_step(spec: &InnerEngineSpec, inside: &Inside) -> Option<Step> {
    if spec.cgroups_disabled
        || spec.kind != EngineKind::Podman
        || !inside.runtimes.iter().any(|r| r == "crun")
    {
        return None;
    }
    let mut spec = spec.clone();
    spec.cgroups_disabled = true;
    let mut what = "cgroups: on -> disabled for nested containers".to_string();
    if spec.runtime != "crun" {
        what.push_str(&format!(
            " (runtime {} -> crun, which runs without them)",
            spec.runtime
        ));
        spec.runtime = "crun".into();
    }
    Some(Step { spec, what })
}

fn network_step(spec: &InnerEngineSpec) -> Option<Step> {
    if spec.nested_host_network || spec.kind != EngineKind::Podman {
        return None;
    }
    let mut spec = spec.clone();
    spec.nested_host_network = true;
    Some(Step {
        spec,
        what: "network: a private namespace per nested container -> the sandbox's own".into(),
    })
}

/// Failures that no other set-up fixes: a configuration file that does not
/// parse is the user's to fix (never replaced behind their back), and an
/// engine that does not answer in time is not a recipe problem.
fn not_a_recipe_failure(failure: &str) -> bool {
    let f = failure.to_lowercase();
    [
        "toml",
        "unable to configure the docker daemon",
        "did not answer",
        "did not finish within",
        "has no `",
        "cannot be proven",
    ]
    .iter()
    .any(|w| f.contains(w))
}

/// The next step down after `failure`, or None when there is none left.
/// `planned_runtime` is the runtime the plan chose (swapped at most once).
pub fn next_step(
    spec: &InnerEngineSpec,
    failure: &str,
    inside: &Inside,
    planned_runtime: &str,
) -> Option<Step> {
    if not_a_recipe_failure(failure) {
        return None;
    }
    let first = kind_of(failure);
    let kinds = first
        .into_iter()
        .chain(ORDER.into_iter().filter(|k| Some(*k) != first));
    for kind in kinds {
        let step = match kind {
            Kind::Storage if spec.kind == EngineKind::Podman => storage_step(spec, inside),
            Kind::Storage => None,
            Kind::Runtime => runtime_step(spec, inside, planned_runtime),
            Kind::Cgroups => cgroups_step(spec, inside),
            Kind::Network => network_step(spec),
        };
        if step.is_some() {
            return step;
        }
    }
    None
}

/// The inner set-up's step-down parts, as lines of the plan's text.
pub fn describe(spec: &InnerEngineSpec) -> Vec<String> {
    let mut lines = Vec::new();
    if spec.cgroups_disabled || spec.nested_host_network || spec.storage.is_some() {
        lines.push(format!("set-up: {}", Recipe::of(spec).describe()));
    }
    lines.push(match &spec.canary {
        Some(canary) => format!(
            "prove nested containers run: `{} run --rm {canary} true`; when the set-up fails, step down (storage, runtime, cgroups, network) and say which step was taken",
            spec.kind
        ),
        None => "no canary: this set-up is remembered to work on this host; a failing engine start still steps down".to_string(),
    });
    if let Some(dir) = &spec.report {
        lines.push(format!(
            "report the set-up that worked in {dir}, for the host to remember"
        ));
    }
    lines
}

/// An inner engine spec for tests of step-down and its memory.
#[cfg(test)]
pub(crate) fn test_spec(
    kind: EngineKind,
    runtime: &str,
    cgroups_disabled: bool,
) -> InnerEngineSpec {
    InnerEngineSpec {
        kind,
        runtime: runtime.into(),
        ulimits: None,
        ready_timeout_ms: 1000,
        engine_firewall: false,
        cgroups_disabled,
        userns: false,
        nested_host_network: false,
        storage: None,
        canary: None,
        report: None,
    }
}

#[cfg(test)]
mod tests {
    use super::test_spec as spec;
    use super::*;

    fn inside(fuse: bool, driver: &str) -> Inside {
        Inside {
            fuse,
            runtimes: vec!["crun".into(), "runc".into()],
            image_driver: Some(driver.into()),
        }
    }

    fn walk(mut s: InnerEngineSpec, failure: &str, inside: &Inside) -> Vec<String> {
        let planned = s.runtime.clone();
        let mut steps = Vec::new();
        while let Some(step) = next_step(&s, failure, inside, &planned) {
            steps.push(step.what);
            s = step.spec;
            assert!(steps.len() < 10, "the ladder ends: {steps:?}");
        }
        steps
    }

    #[test]
    fn storage_failures_step_overlay_then_fuse_then_vfs_then_the_rest() {
        let steps = walk(
            spec(EngineKind::Podman, "runc", false),
            "Error: kernel does not support overlay fs: 'overlay' is not supported over extfs",
            &inside(true, "overlay"),
        );
        assert_eq!(
            steps,
            vec![
                "storage: native overlay -> fuse-overlayfs",
                "storage: fuse-overlayfs -> vfs",
                "runtime: runc -> crun",
                "cgroups: on -> disabled for nested containers",
                "network: a private namespace per nested container -> the sandbox's own",
            ]
        );
    }

    #[test]
    fn without_fuse_storage_goes_straight_to_vfs_and_a_foreign_driver_to_overlay_first() {
        let steps = walk(
            spec(EngineKind::Podman, "crun", true),
            "driver not supported",
            &inside(false, "btrfs"),
        );
        assert_eq!(
            steps[..2],
            [
                "storage: the image's btrfs -> native overlay",
                "storage: native overlay -> vfs"
            ]
        );
        assert!(
            !steps.iter().any(|s| s.contains("-> runc")),
            "runc cannot run without cgroups: {steps:?}"
        );
    }

    #[test]
    fn the_failure_picks_the_first_step() {
        let s = spec(EngineKind::Podman, "runc", false);
        let i = inside(true, "overlay");
        let first = |f: &str| next_step(&s, f, &i, "runc").unwrap().what;
        assert!(first("crun: cannot open cgroup").starts_with("cgroups:"));
        assert!(first("OCI runtime error: runc: exec failed").starts_with("runtime:"));
        assert!(first("netavark: iptables: permission denied").starts_with("network:"));
        assert!(first("something else entirely").starts_with("storage:"));
        assert!(
            first("OCI runtime error: runc: this runc is broken (overlay storage)")
                .starts_with("runtime:"),
            "the runtime's own error wins over words about storage"
        );
    }

    #[test]
    fn broken_configuration_and_silence_are_not_stepped_down() {
        let s = spec(EngineKind::Podman, "runc", false);
        let i = inside(true, "overlay");
        for failure in [
            "Error: /etc/containers/storage.conf: toml: line 12: unexpected EOF",
            "unable to configure the Docker daemon with file /etc/docker/daemon.json: invalid character",
            "dockerd did not answer on /var/run/docker.sock within 2000 ms",
        ] {
            assert_eq!(next_step(&s, failure, &i, "runc"), None, "{failure}");
        }
    }

    #[test]
    fn docker_inside_only_swaps_its_runtime() {
        let steps = walk(
            spec(EngineKind::Docker, "runc", false),
            "OCI runtime create failed",
            &inside(true, "overlay"),
        );
        assert_eq!(steps, vec!["runtime: runc -> crun"]);
    }
}
