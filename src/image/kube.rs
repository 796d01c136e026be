//! The image of `export kube`: a sandbox image with dindbox's init added at
//! `INIT_PATH`. A pod gets no host path for its entrypoint, as `run` mounts
//! the binary: the init comes in a layer of the image instead. The layer is
//! the binary alone (it is static), and the image is rebuilt only when the
//! parent image or the binary changes (its recipe label says which).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::plan::labels;
use crate::spec::init::INIT_PATH;

/// Bump when the way the image is made changes.
const REVISION: u32 = 1;

/// The tag of the image made from `parent`: `localhost/dindbox/kube-NAME:TAG`
/// from `…/NAME:TAG` (`latest` without a tag).
pub fn tag(parent: &str) -> String {
    let last = parent.rsplit('/').next().unwrap_or(parent);
    let last = last.split('@').next().unwrap_or(last);
    let (name, tag) = last.split_once(':').unwrap_or((last, "latest"));
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("localhost/dindbox/kube-{name}:{tag}")
}

/// The recipe digest of the image made from the image `parent_id` and the
/// binary whose digest is `binary`.
pub fn digest(parent_id: &str, binary: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "kube {REVISION}\nparent {parent_id}\nbinary {binary}\npath {INIT_PATH}\n"
    ));
    hex::encode(h.finalize())
}

/// The Containerfile that adds the binary (the build context's `dindbox`).
pub fn containerfile(parent: &str, digest: &str) -> String {
    format!(
        "FROM {parent}\nCOPY dindbox {INIT_PATH}\nLABEL {}=\"{digest}\"\n",
        labels::RECIPE
    )
}

/// Make the image of `parent` with the init `binary` in `engine`, unless it
/// is there already; its tag.
pub fn build(engine: &Engine, parent: &str, binary: &Path) -> Result<String> {
    let tag = tag(parent);
    let parent_id = crate::probe::image::inspect(engine, parent)?.id;
    if parent_id.is_empty() {
        return Err(Error::failure(format!(
            "{parent} is not in {}, so the image with dindbox's init cannot be made from it",
            engine.kind
        ))
        .hint("build it first: `dindbox image build`"));
    }
    let bytes = std::fs::read(binary).map_err(|e| Error::io("could not read", binary, e))?;
    let digest = digest(&parent_id, &hex::encode(Sha256::digest(&bytes)));
    if super::built_from(engine, &tag, &digest)? {
        return Ok(tag);
    }
    let work = tempfile::Builder::new()
        .prefix("dindbox-kube-")
        .tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let file = work.path().join("Containerfile");
    let copy = work.path().join("dindbox");
    // COPY keeps the file's mode (`--chmod` needs BuildKit).
    std::fs::write(&file, containerfile(parent, &digest))
        .and_then(|()| std::fs::write(&copy, &bytes))
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|e| Error::io("could not write to", work.path(), e))?;
    let mut cmd = engine.cmd().arg("build");
    if engine.kind == EngineKind::Podman {
        cmd = cmd.arg("--pull=never");
    }
    cmd.args(["-t", &tag, "-f"])
        .arg(file.display().to_string())
        .arg(work.path().display().to_string())
        .run_logged(&work.path().join("build.log"))?;
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_follows_the_parents_name() {
        assert_eq!(
            tag("localhost/dindbox/sandbox:0.1.0"),
            "localhost/dindbox/kube-sandbox:0.1.0"
        );
        assert_eq!(
            tag("docker.io/library/Debian"),
            "localhost/dindbox/kube-debian:latest"
        );
    }

    #[test]
    fn the_recipe_follows_the_parent_and_the_binary() {
        assert_ne!(digest("a", "b"), digest("a", "c"));
        assert_ne!(digest("a", "b"), digest("d", "b"));
        let text = containerfile("p:1", "d1");
        assert_eq!(
            text,
            format!("FROM p:1\nCOPY dindbox {INIT_PATH}\nLABEL io.dindbox.recipe=\"d1\"\n")
        );
    }
}
