//! `dindbox export kube NAME`: a Kubernetes Pod or Deployment
//! (`render::kube`) of the sandbox planned from the options given
//! (`ops::export_kube`), printed or written to `--output DIR`. Its
//! environment is a Secret the manifest names: written beside it (mode
//! 0600) with `--output`, else made by the user, as the command says. Bad
//! input is refused before anything is written.

use crate::cli::ExportKubeArgs;
use crate::error::{Error, Result};
use crate::ops;
use crate::render::kube::{self, Kube, Storage};

use super::export::{File, emit, unfit};

pub fn run(args: ExportKubeArgs) -> Result<i32> {
    if let Some(flag) = unfit(&args.run, true) {
        return Err(
            Error::usage(format!("{flag} does not fit a Kubernetes manifest")).hint(format!(
                "the sandbox is named NAME ({}), its pod {}; once it runs, `kubectl exec` runs commands in it",
                args.sandbox,
                kube::object_name(&args.sandbox)
            )),
        );
    }
    let mut run = args.run.clone();
    run.name = Some(args.sandbox.clone());
    let q = ops::export_kube::plan(super::run::request(&run)?, args.pvc.as_deref())?;
    let plan = &q.plan;
    let names: Vec<String> = plan.env.iter().map(|v| v.name.clone()).collect();
    let secret_name = kube::secret_name(&plan.name);
    let mut files = Vec::new();
    if !names.is_empty() {
        let vars: Vec<(String, String)> = plan
            .env
            .iter()
            .map(|v| (v.name.clone(), v.value.expose().to_string()))
            .collect();
        if args.output.is_some() {
            files.push(File {
                name: kube::secret_file_name(&plan.name),
                text: kube::secret(&plan.name, &vars),
                private: true,
            });
        }
    }
    ops::export_kube::prepare_host(plan)?;
    let image = ops::export_kube::image(plan)?;
    let exec = plan.init_args();
    let storage = match &args.pvc {
        Some(claim) => Storage::Claim(claim),
        None => Storage::EmptyDir,
    };
    let text = kube::manifest(&Kube {
        name: &plan.name,
        mode: plan.mode.name(),
        image: &image,
        base_image: &plan.image,
        spec: &plan.spec,
        exec: &exec,
        default_caps: q.default_caps,
        storage,
        runtime_class: q.runtime_class.as_ref(),
        secret: (!names.is_empty()).then_some((secret_name.as_str(), names.as_slice())),
        deployment: args.deployment,
    });
    if let Some(text) = kube::podman_conf(&plan.name, &plan.spec) {
        files.push(File {
            name: kube::podman_conf_file_name(&plan.name),
            text,
            private: false,
        });
    }
    files.insert(
        0,
        File {
            name: kube::file_name(&plan.name),
            text,
            private: false,
        },
    );
    emit(args.output.as_deref(), &files)?;
    if !names.is_empty() && args.output.is_none() {
        // The values are the user's: the command names the variables only.
        eprintln!(
            "note: the pod reads its environment ({}) from the Secret {secret_name}; make it from a file of NAME=value lines: `kubectl create secret generic {secret_name} --from-env-file=FILE` (or give --output DIR, which writes it as {}, mode 0600)",
            names.join(", "),
            kube::secret_file_name(&plan.name)
        );
    }
    Ok(0)
}
