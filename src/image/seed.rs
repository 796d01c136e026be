//! Bake each inner engine's store, with the canary already loaded, into the
//! sandbox image. Engines copy an image's content into a new volume, so every
//! dind sandbox's storage volume starts with the canary and its start loads
//! nothing.
//!
//! The stores are made by the inner engines themselves, in real dind
//! sandboxes started the normal way (plan, then apply), from the base image.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::apply;
use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::plan::{self, ImageFacts, Mode, Request, labels};
use crate::probe;

use super::progress::Step;

/// Bump when the way stores are baked changes.
const SEED_REVISION: u32 = 1;

/// The recipe digest of a seeded image: its base's and the canary's.
pub fn digest(base: &str, canary: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "seed {SEED_REVISION}\nbase {base}\ncanary {canary}\n"
    ));
    hex::encode(h.finalize())
}

/// What the seeding sandbox runs once its init has loaded the canary: stop
/// the engine cleanly, then pack its store into the workspace.
pub fn pack_script(inner: EngineKind, out: &Path) -> String {
    let dir = crate::spec::init::storage_path(inner).trim_start_matches("/var/lib/");
    let stop = match inner {
        EngineKind::Docker => {
            "kill -TERM \"$(cat /var/run/docker.pid)\" && while [ -e /var/run/docker.pid ]; do sleep 0.05; done && "
        }
        EngineKind::Podman => "",
    };
    format!(
        "{stop}tar --numeric-owner -C /var/lib -cf {} {dir}",
        out.display()
    )
}

/// Run a dind sandbox of `base` with `inner` inside, which packs its store into `work`.
fn pack_store(
    engine: &Engine,
    base: &str,
    inner: EngineKind,
    canary: &Path,
    work: &Path,
) -> Result<PathBuf> {
    let out = work.join(format!("{inner}-store.tar"));
    let req = Request {
        engine: Some(engine.kind),
        inner,
        command: Some(pack_script(inner, &out)),
        preload: vec![canary.to_path_buf()],
        trace: crate::trace::enabled(),
        env_file: apply::envfile::path_for("seed"),
        // The store is packed with the ids it has inside; Docker's sandboxes
        // run in a user namespace of the init's only from an image whose
        // owners are shifted, which is made from this one.
        host_root: engine.kind == EngineKind::Docker,
        ..Request::new(
            Mode::Dind,
            base,
            &crate::plan::name::default_name(Mode::Dind),
            work.to_path_buf(),
            crate::paths::own_executable()?,
        )
    };
    let host = probe::probe_for(Some(engine.kind));
    let image = ImageFacts {
        exists: true,
        engines: Some(vec![EngineKind::Podman, EngineKind::Docker]),
        systemd: false,
    };
    let plan = plan::make(&req, &host, &image)?;
    let code = apply::run(&plan, false, false)?;
    if code != 0 || !out.is_file() {
        return Err(Error::failure(format!(
            "could not prepare the {inner} store for {base} in {} (exit status {code})",
            engine.kind
        ))
        .hint("the output above shows why; `dindbox doctor` shows what this host allows"));
    }
    Ok(out)
}

/// Removes the container the image is committed from, whatever happens.
struct Scratch<'a> {
    engine: &'a Engine,
    name: String,
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = self.engine.remove_container(&self.name);
    }
}

/// Make `tag` from `base` with both inner engines' stores baked in.
pub fn bake(engine: &Engine, base: &str, tag: &str, recipe: &str, canary: &Path) -> Result<()> {
    let step = Step::start(format!(
        "preloading the canary into the inner engines' stores ({})",
        engine.kind
    ));
    let work = tempfile::Builder::new()
        .prefix("dindbox-seed-")
        .tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let mut stores = Vec::new();
    for inner in [EngineKind::Docker, EngineKind::Podman] {
        match pack_store(engine, base, inner, canary, work.path()) {
            Ok(store) => stores.push(store),
            // Where this host cannot run dind, sandboxes load the canary at start instead.
            Err(e) if e.code == crate::error::exit::REFUSED => {
                eprintln!("    no {inner} store baked in: {}", e.message);
            }
            Err(e) => return Err(e),
        }
    }
    let scratch = Scratch {
        engine,
        name: crate::plan::name::default_name(Mode::Common).replace("-common-", "-bake-"),
    };
    engine
        .cmd()
        .args(["create", "--name", &scratch.name, base])
        .run()?;
    for store in &stores {
        engine.copy_into(&scratch.name, "/var/lib/", store)?;
    }
    engine
        .cmd()
        .args([
            "commit",
            "--change",
            &format!("LABEL {}={recipe}", labels::RECIPE),
            &scratch.name,
            tag,
        ])
        .run()?;
    step.done();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_digest_follows_base_and_canary() {
        assert_eq!(digest("b", "c"), digest("b", "c"));
        assert_ne!(digest("b", "c"), digest("b2", "c"));
        assert_ne!(digest("b", "c"), digest("b", "c2"));
    }

    #[test]
    fn pack_scripts_stop_dockerd_and_pack_each_store() {
        let docker = pack_script(EngineKind::Docker, Path::new("/w/docker-store.tar"));
        assert!(
            docker.starts_with("kill -TERM \"$(cat /var/run/docker.pid)\""),
            "{docker}"
        );
        assert!(
            docker.ends_with("tar --numeric-owner -C /var/lib -cf /w/docker-store.tar docker"),
            "{docker}"
        );
        let podman = pack_script(EngineKind::Podman, Path::new("/w/p.tar"));
        assert_eq!(
            podman,
            "tar --numeric-owner -C /var/lib -cf /w/p.tar containers"
        );
    }
}
