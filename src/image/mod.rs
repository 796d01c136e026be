//! `dindbox image build`: the sandbox image and the canary.
//!
//! The sandbox image is built from a registry's Debian base image when one
//! answers, else bootstrapped offline from the host's apt mirror. Either way it
//! carries the recipe's digest in a label, and a build is skipped when an image
//! of the same recipe is already there.

pub mod bootstrap;
pub mod canary;
pub mod kube;
pub mod progress;
pub mod recipe;
pub mod registry;
pub mod seed;
pub mod shift;
pub mod systemd;

use std::path::Path;

pub use crate::paths::cache_dir;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::labels;

use progress::Step;

pub use crate::spec::images::{default_tag, sandbox_tag};

/// Archives of dindbox's own images are readable by every user (they hold no
/// secret): a sandbox whose root is not the host's root loads them too.
const ARCHIVE_MODE: u32 = 0o644;

/// Make an archive readable to a sandbox in a user namespace.
pub fn share_archive(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(ARCHIVE_MODE))
        .map_err(|e| Error::io("could not set the mode of", path, e))
}

/// `save` an image to `path` through a temporary file, so a failure leaves no
/// half-written archive; readable by every user.
pub fn save_atomically(engine: &Engine, image: &str, path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("could not create", dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".saving-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("could not create a temporary file in", dir, e))?;
    engine.save(image, tmp.path())?;
    share_archive(tmp.path())?;
    tmp.persist(path)
        .map_err(|e| Error::io("could not write", path, e.error))?;
    Ok(())
}

/// Labels of the sandbox image.
fn sandbox_labels(digest: &str) -> Vec<(String, String)> {
    vec![
        (labels::RECIPE.to_string(), digest.to_string()),
        (labels::ENGINES.to_string(), "podman,docker".to_string()),
        (
            "io.dindbox.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]
}

/// Image settings an `import` needs, which a build would get from its Containerfile.
fn import_changes(labels: &[(String, String)]) -> Vec<String> {
    let mut changes = vec![
        format!("ENV PATH={}", recipe::PATH),
        "CMD [\"/bin/bash\"]".to_string(),
    ];
    changes.extend(labels.iter().map(|(k, v)| format!("LABEL {k}={v}")));
    changes
}

/// The image the sandbox image is made from: the recipe's packages and files,
/// before the inner engines' stores are baked in.
pub fn base_tag() -> String {
    format!(
        "localhost/dindbox/sandbox-base:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Whether `engine` has `tag`, built from the recipe of `digest` (its label).
pub fn built_from(engine: &Engine, tag: &str, digest: &str) -> Result<bool> {
    let current = engine
        .image_labels(tag)?
        .and_then(|l| l.get(labels::RECIPE).cloned());
    Ok(current.as_deref() == Some(digest))
}

/// The engines of `engines` whose `tag` was not built from `digest`.
fn stale<'a>(
    engines: &[&'a Engine],
    tag: &str,
    digest: &str,
    force: bool,
) -> Result<Vec<&'a Engine>> {
    let mut stale = Vec::new();
    for engine in engines {
        if !force && built_from(engine, tag, digest)? {
            eprintln!("    {tag} is up to date in {}", engine.kind);
        } else {
            stale.push(*engine);
        }
    }
    Ok(stale)
}

/// The canary first, then the base image, then the sandbox image with the
/// canary baked into its inner engines' stores, then (`with_systemd`) the
/// systemd image made from it; each only where it is stale.
pub fn build(engines: &[Engine], offline: bool, force: bool, with_systemd: bool) -> Result<()> {
    build_sandbox_image(engines, offline, force)?;
    if with_systemd {
        systemd::build(
            engines,
            &sandbox_tag(),
            &crate::plan::systemd::image_tag(),
            force,
        )?;
    }
    Ok(())
}

fn build_sandbox_image(engines: &[Engine], offline: bool, force: bool) -> Result<()> {
    let (canary_tar, canary_digest) = canary::build(engines, force)?;
    let all: Vec<&Engine> = engines.iter().collect();
    let tag = sandbox_tag();
    let base_digest = recipe::digest();
    let digest = seed::digest(&base_digest, &canary_digest);
    let stale_final = stale(&all, &tag, &digest, force)?;
    if stale_final.is_empty() {
        return Ok(());
    }
    let base = base_tag();
    let stale_base = stale(&stale_final, &base, &base_digest, force)?;
    if !stale_base.is_empty() {
        build_sandbox(&stale_base, &base, &base_digest, offline)?;
    }
    for engine in stale_final {
        seed::bake(engine, &base, &tag, &digest, &canary_tar)?;
        eprintln!("    built {tag} in {}", engine.kind);
    }
    Ok(())
}

fn build_sandbox(engines: &[&Engine], tag: &str, digest: &str, offline: bool) -> Result<()> {
    let work = tempfile::Builder::new()
        .prefix("dindbox-build-")
        .tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let labels = sandbox_labels(digest);
    let online = !offline && {
        let step = Step::start("checking whether a container registry answers");
        let ok = registry::reachable();
        step.done();
        ok
    };
    if online {
        let mut fell_back = Vec::new();
        for engine in engines {
            if let Err(e) = registry::build(engine, tag, &labels, work.path()) {
                eprintln!(
                    "{e}\n    falling back to the offline bootstrap for {}",
                    engine.kind
                );
                fell_back.push(*engine);
            }
        }
        if fell_back.is_empty() {
            return Ok(());
        }
        return import_bootstrapped(&fell_back, tag, &labels, work.path());
    }
    eprintln!(
        "    no registry answers{}: bootstrapping offline",
        if offline { " (--offline)" } else { "" }
    );
    import_bootstrapped(engines, tag, &labels, work.path())
}

fn import_bootstrapped(
    engines: &[&Engine],
    tag: &str,
    labels: &[(String, String)],
    work: &Path,
) -> Result<()> {
    let tarball = bootstrap::rootfs_tarball(work)?;
    for engine in engines {
        let step = Step::start(format!("importing {tag} into {}", engine.kind));
        engine.import(&tarball, tag, &import_changes(labels))?;
        step.done();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_images_get_path_cmd_and_labels() {
        let changes = import_changes(&sandbox_labels("d1"));
        assert_eq!(changes[0], format!("ENV PATH={}", recipe::PATH));
        assert_eq!(changes[1], "CMD [\"/bin/bash\"]");
        assert!(changes.contains(&"LABEL io.dindbox.recipe=d1".to_string()));
        assert!(changes.contains(&"LABEL io.dindbox.engines=podman,docker".to_string()));
    }
}
