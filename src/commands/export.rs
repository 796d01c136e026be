//! `dindbox export systemd NAME`: the unit that keeps a kept sandbox up
//! across reboots (`render::systemd`), from the sandbox and its engine
//! (`ops::export::unit`); with `--quadlet`, a Podman Quadlet file
//! (`render::quadlet`) of the sandbox planned from the options given
//! (`ops::export::quadlet`). Printed, or written to `--output DIR`; bad
//! input is refused before anything is written. `export devcontainer`: a
//! dev container configuration (`render::devcontainer`) of the sandbox
//! planned from the options given (`ops::export::devcontainer`), written
//! to `--output DIR/.devcontainer/`.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cli::{EngineArg, ExportCommand, ExportDevcontainerArgs, ExportSystemdArgs, RunArgs};
use crate::error::{Error, Result};
use crate::ops;
use crate::render::devcontainer;
use crate::render::quadlet::{self, Quadlet};
use crate::render::systemd;

pub fn run(cmd: ExportCommand) -> Result<i32> {
    match cmd {
        ExportCommand::Systemd(args) => export_systemd(args),
        ExportCommand::Kube(args) => super::export_kube::run(args),
        ExportCommand::Devcontainer(args) => export_devcontainer(args),
    }
}

/// A file to print or write; a private one holds secrets (mode 0600, never printed).
pub(super) struct File {
    pub(super) name: String,
    pub(super) text: String,
    pub(super) private: bool,
}

fn export_systemd(args: ExportSystemdArgs) -> Result<i32> {
    let files = if args.quadlet {
        quadlet_files(&args)?
    } else {
        unit_files(&args)?
    };
    emit(args.output.as_deref(), &files)?;
    Ok(0)
}

/// Print the first file that is not private, or write them all to `output`.
pub(super) fn emit(output: Option<&Path>, files: &[File]) -> Result<()> {
    match output {
        None => {
            let shown: Vec<&File> = files.iter().filter(|f| !f.private).collect();
            crate::output::print(&shown[0].text)?;
        }
        Some(dir) => {
            for path in write(dir, files)? {
                crate::output::line(&format!("wrote {}", path.display()))?;
            }
        }
    }
    Ok(())
}

fn unit_files(args: &ExportSystemdArgs) -> Result<Vec<File>> {
    // DINDBOX_IMAGE may be set for `run`; the unit takes the sandbox as it is.
    let others = RunArgs {
        engine: None,
        image: None,
        ..args.run.clone()
    };
    if others != RunArgs::default() {
        return Err(Error::usage(
            "sandbox options are for --quadlet: the unit starts the sandbox as it was made",
        )
        .hint(format!(
            "to change the sandbox, make it again: `dindbox run -n {} --recreate OPTIONS`",
            args.sandbox
        ))
        .hint("or plan a Quadlet file from the options: add --quadlet"));
    }
    let engines = super::sandboxes::engines(&EngineArg {
        engine: args.run.engine.clone(),
    })?;
    let dindbox = crate::paths::own_executable()?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let unit = ops::export::unit(&engines, &args.sandbox, &dindbox, home)?;
    Ok(vec![File {
        name: systemd::unit_name(&unit.name),
        text: systemd::unit(&unit),
        private: false,
    }])
}

/// Options that describe no sandbox, or one that `form` cannot hold, refused.
fn refuse_unfit(run: &RunArgs, form: &str, name_too: bool, hint: String) -> Result<()> {
    match unfit(run, name_too) {
        Some(flag) => Err(Error::usage(format!("{flag} does not fit {form}")).hint(hint)),
        None => Ok(()),
    }
}

fn quadlet_files(args: &ExportSystemdArgs) -> Result<Vec<File>> {
    refuse_unfit(
        &args.run,
        "a Quadlet file",
        true,
        format!(
            "the sandbox is named NAME ({}); once its unit is up, `dindbox exec {0} CMD` runs commands in it",
            args.sandbox
        ),
    )?;
    let mut run = args.run.clone();
    run.name = Some(args.sandbox.clone());
    let q = ops::export::quadlet(super::run::request(&run)?)?;
    let mut plan = q.plan;
    let mut files = Vec::new();
    if !plan.env.is_empty() {
        let name = format!("dindbox-{}.env", plan.name);
        let Some(dir) = &args.output else {
            return Err(Error::usage(
                "the sandbox has an environment, whose values are secrets and never printed",
            )
            .hint(format!(
                "`--output DIR` writes them to DIR/{name} (mode 0600) beside the .container file, which names it"
            )));
        };
        let path = absolute(dir)?.join(&name);
        let text = ops::export::environment(&mut plan, path)?;
        files.push(File {
            name,
            text,
            private: true,
        });
    }
    ops::export::prepare_host(&plan)?;
    let exec = plan.init_args();
    let text = quadlet::container(&Quadlet {
        name: &plan.name,
        mode: plan.mode.name(),
        image: &plan.image,
        spec: &plan.spec,
        exec: &exec,
        rootless: q.rootless,
        podman_socket: q.podman_socket,
    });
    files.insert(
        0,
        File {
            name: quadlet::file_name(&plan.name),
            text,
            private: false,
        },
    );
    Ok(files)
}

/// The first option given that makes no sense for a sandbox that a file
/// describes (it is named by NAME, where `name_too`, and runs no command of
/// `run`'s).
pub(super) fn unfit(run: &RunArgs, name_too: bool) -> Option<&'static str> {
    let unfit = [
        (name_too && run.name.is_some(), "-n/--name"),
        (run.command.is_some(), "-x/--exec"),
        (run.yolo.is_some(), "-y/--yolo"),
        (run.rm, "--rm"),
        (run.dry_run, "--dry-run"),
        (run.json, "--json"),
        (run.recreate, "--recreate"),
    ];
    unfit
        .iter()
        .find(|(given, _)| *given)
        .map(|(_, flag)| *flag)
}

fn export_devcontainer(args: ExportDevcontainerArgs) -> Result<i32> {
    refuse_unfit(
        &args.run,
        "a dev container",
        false,
        "devcontainer runs commands in it: `devcontainer exec --workspace-folder DIR CMD`".into(),
    )?;
    let cwd = std::env::current_dir()
        .map_err(|e| Error::failure("could not read the current directory").cause(e.to_string()))?;
    let cfg = crate::config::resolve::resolve(&args.run, &cwd)?;
    let plan = ops::export::devcontainer(super::run::request_from(&args.run, &cfg)?)?;
    let env = crate::config::devcontainer::environment(&cfg);
    ops::export::prepare_host(&plan)?;
    let exec = plan.init_args();
    let d = plan.devcontainer(&exec, &env.names, &env.files);
    let files = [
        File {
            name: devcontainer::CONFIG_FILE.into(),
            text: devcontainer::config(&d),
            private: false,
        },
        File {
            name: devcontainer::DOCKERFILE.into(),
            text: devcontainer::dockerfile(&d),
            private: false,
        },
    ];
    for path in write(&args.output.join(devcontainer::CONFIG_DIR), &files)? {
        crate::output::line(&format!("wrote {}", path.display()))?;
    }
    for note in env.notes {
        eprintln!("dindbox: {note}");
    }
    if plan.inner.userns.is_some() {
        eprintln!(
            "dindbox: the sandbox's init makes its user namespace, and `devcontainer exec` (and an editor's terminal) runs commands beside it, as the container's root with the sandbox's capabilities; run them inside it through dindbox: `devcontainer exec --workspace-folder DIR {} enter --timeout-ms {} -- CMD`",
            crate::spec::init::INIT_PATH,
            plan.inner
                .engine
                .as_ref()
                .map_or(60_000, |e| e.ready_timeout_ms)
        );
    }
    Ok(0)
}

pub(super) fn absolute(dir: &Path) -> Result<PathBuf> {
    std::path::absolute(dir).map_err(|e| Error::io("could not find the directory", dir, e))
}

/// Write `files` to `dir` (made if missing); the paths written.
pub(super) fn write(dir: &Path, files: &[File]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("could not create", dir, e))?;
    let dir = absolute(dir)?;
    files
        .iter()
        .map(|f| {
            let path = dir.join(&f.name);
            let mode = if f.private { 0o600 } else { 0o644 };
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(&path)
                .map_err(|e| Error::io("could not write", &path, e))?;
            // An existing file keeps its mode through open: set it.
            file.set_permissions(std::fs::Permissions::from_mode(mode))
                .and_then(|()| file.write_all(f.text.as_bytes()))
                .map_err(|e| Error::io("could not write", &path, e))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_written_mode_0600_and_others_0644() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("units");
        let files = [
            File {
                name: "dindbox-w.container".into(),
                text: "[Container]\n".into(),
                private: false,
            },
            File {
                name: "dindbox-w.env".into(),
                text: "TOKEN=v\n".into(),
                private: true,
            },
        ];
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dindbox-w.env"), "old").unwrap();
        std::fs::set_permissions(
            dir.join("dindbox-w.env"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let written = write(&dir, &files).unwrap();
        assert_eq!(
            written,
            vec![dir.join("dindbox-w.container"), dir.join("dindbox-w.env")]
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&written[0]), 0o644);
        assert_eq!(mode(&written[1]), 0o600);
        assert_eq!(std::fs::read_to_string(&written[1]).unwrap(), "TOKEN=v\n");
    }
}
