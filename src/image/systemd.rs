//! The image of `--systemd`: the sandbox image with systemd added from the
//! image's own apt sources (the host's mirror, for an offline build), and the
//! units that make no sense in a sandbox masked. dindbox's unit for the inner
//! engine is not in the image: the init writes it under /run at each start,
//! so it always matches the dindbox that runs the sandbox.

use sha2::{Digest, Sha256};

use crate::engine::{Engine, EngineKind};
use crate::error::{Error, Result};
use crate::plan::labels;

use super::progress::Step;

/// Packages added to the sandbox image: systemd, and systemd as /sbin/init.
pub const PACKAGES: &[&str] = &["systemd", "systemd-sysv"];

/// Units masked in the image, in groups, each with the reason.
pub const MASKED: &[(&str, &[&str])] = &[
    (
        "the inner engine is dindbox's unit, which starts it with the sandbox's set-up",
        &[
            "docker.service",
            "docker.socket",
            "containerd.service",
            "podman.service",
            "podman.socket",
            "podman-auto-update.service",
            "podman-auto-update.timer",
            "podman-restart.service",
        ],
    ),
    (
        "a container has no consoles, devices or kernel modules of its own",
        &[
            "getty.target",
            "console-getty.service",
            "systemd-udevd.service",
            "systemd-udevd-control.socket",
            "systemd-udevd-kernel.socket",
            "systemd-udev-trigger.service",
            "systemd-udev-settle.service",
            "systemd-hwdb-update.service",
            "systemd-modules-load.service",
            "kmod-static-nodes.service",
            "systemd-pstore.service",
            "systemd-journald-audit.socket",
        ],
    ),
    (
        "the engine mounts the sandbox's filesystems, and kernel settings stay the host's",
        &[
            "systemd-remount-fs.service",
            "sys-kernel-debug.mount",
            "sys-kernel-tracing.mount",
            "sys-kernel-config.mount",
            "sys-fs-fuse-connections.mount",
            "dev-hugepages.mount",
            "dev-mqueue.mount",
            "proc-sys-fs-binfmt_misc.automount",
            "systemd-binfmt.service",
            "systemd-sysctl.service",
            "systemd-firstboot.service",
        ],
    ),
    (
        "the workspace and mounted volumes are the host's files: no boot or timer cleans them",
        &[
            "systemd-tmpfiles-setup.service",
            "systemd-tmpfiles-clean.service",
            "systemd-tmpfiles-clean.timer",
        ],
    ),
    (
        "no logins (it would need D-Bus) and no maintenance timers in a sandbox",
        &[
            "systemd-logind.service",
            "apt-daily.timer",
            "apt-daily-upgrade.timer",
            "dpkg-db-backup.timer",
            "e2scrub_all.timer",
            "e2scrub_reap.service",
            "fstrim.timer",
        ],
    ),
];

/// Bump when the way the image is made changes without the lists changing.
const REVISION: u32 = 1;

/// The recipe digest of the systemd image made from the image `parent_id`.
pub fn digest(parent_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("systemd {REVISION}\nparent {parent_id}\n"));
    for p in PACKAGES {
        h.update(format!("package {p}\n"));
    }
    for (_, units) in MASKED {
        for u in *units {
            h.update(format!("mask {u}\n"));
        }
    }
    hex::encode(h.finalize())
}

/// The Containerfile that makes the systemd image from `parent`.
pub fn containerfile(parent: &str, digest: &str) -> String {
    let mut text = format!(
        "FROM {parent}\n\
         RUN apt-get update -q \\\n \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends {} \\\n \
         && apt-get clean && rm -rf /var/lib/apt/lists/*\n",
        PACKAGES.join(" ")
    );
    for (why, units) in MASKED {
        text.push_str(&format!(
            "# {why}\nRUN systemctl mask {}\n",
            units.join(" ")
        ));
    }
    text.push_str(&format!(
        "LABEL {}=\"{digest}\" {}=\"true\"\nSTOPSIGNAL SIGRTMIN+3\nCMD [\"/sbin/init\"]\n",
        labels::RECIPE,
        labels::SYSTEMD
    ));
    text
}

/// The image's ID in `engine`, if it has the image.
fn image_id(engine: &Engine, image: &str) -> Option<String> {
    let id = crate::probe::image::inspect(engine, image).ok()?.id;
    (!id.is_empty()).then_some(id)
}

/// Make `tag` from `parent` in every engine where it is missing or made from
/// another parent or recipe.
pub fn build(engines: &[Engine], parent: &str, tag: &str, force: bool) -> Result<()> {
    for engine in engines {
        let Some(parent_id) = image_id(engine, parent) else {
            return Err(Error::failure(format!(
                "{parent} is not in {}, so {tag} cannot be made from it",
                engine.kind
            ))
            .hint("build it first: `dindbox image build`"));
        };
        let digest = digest(&parent_id);
        if !force && super::built_from(engine, tag, &digest)? {
            eprintln!("    {tag} is up to date in {}", engine.kind);
            continue;
        }
        build_in(engine, parent, tag, &digest)?;
    }
    Ok(())
}

fn build_in(engine: &Engine, parent: &str, tag: &str, digest: &str) -> Result<()> {
    let work = tempfile::Builder::new()
        .prefix("dindbox-systemd-")
        .tempdir()
        .map_err(|e| Error::failure("could not make a temporary directory").cause(e.to_string()))?;
    let file = work.path().join("Containerfile");
    std::fs::write(&file, containerfile(parent, digest))
        .map_err(|e| Error::io("could not write", &file, e))?;
    let step = Step::start(format!(
        "building {tag} in {} (systemd from the image's apt sources)",
        engine.kind
    ));
    let mut cmd = engine.cmd().arg("build");
    if engine.kind == EngineKind::Podman {
        cmd = cmd.arg("--pull=never");
    }
    cmd.args(["-t", tag, "-f"])
        .arg(file.display().to_string())
        .arg(work.path().display().to_string())
        .run_logged(&work.path().join("build.log"))
        .map_err(|e| {
            e.hint("the image's apt sources must answer: the build installs systemd from them")
        })?;
    step.done();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipe_follows_the_parent_image() {
        assert_eq!(digest("sha256:a"), digest("sha256:a"));
        assert_ne!(digest("sha256:a"), digest("sha256:b"));
    }

    #[test]
    fn the_containerfile_installs_systemd_masks_units_and_labels_the_image() {
        let text = containerfile("localhost/dindbox/sandbox:0.1.0", "d1");
        assert!(
            text.starts_with("FROM localhost/dindbox/sandbox:0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("--no-install-recommends systemd systemd-sysv"),
            "{text}"
        );
        for (_, units) in MASKED {
            for u in *units {
                assert!(text.contains(&format!(" {u}")), "{u} not masked:\n{text}");
            }
        }
        assert!(text.contains("systemd-tmpfiles-setup.service"), "{text}");
        assert!(
            text.contains("LABEL io.dindbox.recipe=\"d1\" io.dindbox.systemd=\"true\"\n"),
            "{text}"
        );
        assert!(text.contains("STOPSIGNAL SIGRTMIN+3\n"), "{text}");
    }
}
