//! The normal path: build from the Debian base image when a registry answers.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use crate::engine::Engine;
use crate::error::{Error, Result};

use super::progress::Step;
use super::recipe;

/// The host behind `docker.io` image references.
const REGISTRY: &str = "registry-1.docker.io:443";
/// How long the reachability check may take: seconds, not a long time-out.
const CHECK_LIMIT: Duration = Duration::from_secs(3);

/// Whether the registry answers a TCP connection within a few seconds.
/// A host with no network fails at the name lookup, at once.
pub fn reachable() -> bool {
    let Ok(addrs) = REGISTRY.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, CHECK_LIMIT).is_ok())
}

fn write_context(dir: &Path, labels: &[(String, String)]) -> Result<()> {
    let containerfile = dir.join("Containerfile");
    std::fs::write(&containerfile, recipe::containerfile(labels))
        .map_err(|e| Error::io("could not write", &containerfile, e))?;
    for (path, content) in recipe::FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("could not create", parent, e))?;
        }
        std::fs::write(&target, content).map_err(|e| Error::io("could not write", &target, e))?;
    }
    Ok(())
}

/// `build` the recipe's Containerfile in `engine`.
pub fn build(engine: &Engine, tag: &str, labels: &[(String, String)], work: &Path) -> Result<()> {
    let context = work.join(format!("context-{}", engine.kind));
    std::fs::create_dir_all(&context).map_err(|e| Error::io("could not create", &context, e))?;
    write_context(&context, labels)?;
    let step = Step::start(format!(
        "building {tag} in {} from {}",
        engine.kind,
        recipe::BASE_IMAGE
    ));
    engine
        .cmd()
        .args(["build", "-t", tag, "-f"])
        .arg(context.join("Containerfile").display().to_string())
        .arg(context.display().to_string())
        .run_logged(&work.join(format!("build-{}.log", engine.kind)))?;
    step.done();
    Ok(())
}
