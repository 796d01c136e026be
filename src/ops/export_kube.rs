//! `export kube` as operations: the plan a Kubernetes manifest is spelled
//! from (made from the same options as `dindbox plan`'s, as a kept sandbox
//! that nothing on the host runs beside), the image that carries dindbox's
//! init into the pod, and what the host needs for `podman kube play`.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::runtime::Family;
use crate::plan::{Plan, Request};
use crate::render::kube::dns_label;
use crate::spec::Why;

/// A sandbox planned for Kubernetes.
#[derive(Debug, Clone)]
pub struct KubePlan {
    pub plan: Plan,
    /// The RuntimeClass of the plan's runtime, where there is one.
    pub runtime_class: Option<Why<String>>,
    /// What the plan's engine grants by default, which the plan counts on.
    pub default_caps: &'static [&'static str],
}

/// A DNS subdomain (RFC 1123), as Kubernetes names claims.
fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label)
}

/// The RuntimeClass that Kubernetes clusters name a runtime's handler by
/// (their own choice: the names of the runtimes' documentation).
fn runtime_class(runtime: &str) -> Option<&'static str> {
    match Family::of(runtime) {
        Family::Gvisor => Some("gvisor"),
        Family::Kata => Some("kata"),
        Family::Sysbox => Some("sysbox-runc"),
        _ => None,
    }
}

/// Bad input that can be told before the host is probed.
fn check_request(request: &Request, claim: Option<&str>) -> Result<()> {
    let name = &request.name;
    if !dns_label(&crate::render::kube::object_name(name)) {
        return Err(Error::usage(format!(
            "`{name}` cannot name a Kubernetes object: dindbox-{name} must be at most 63 lowercase letters, digits and `-`"
        ))
        .hint("choose a name of lowercase letters, digits and `-`, at most 55 of them"));
    }
    if let Some(claim) = claim.filter(|c| !dns_subdomain(c)) {
        return Err(Error::usage(format!(
            "`{claim}` cannot name a PersistentVolumeClaim: lowercase letters, digits, `-` and `.`"
        ))
        .hint("give the name of an existing claim: `--pvc NAME` (`kubectl get pvc`)"));
    }
    if request.systemd {
        return Err(Error::usage(
            "--systemd does not fit a Kubernetes pod: systemd needs the engine's systemd mode, which Kubernetes has no field for",
        )
        .hint("export the sandbox without --systemd"));
    }
    if let Some(p) = request
        .ports
        .iter()
        .find(|p| crate::render::kube::port(p).is_none())
    {
        return Err(Error::usage(format!(
            "port `{p}` has no Kubernetes form: a pod publishes one port at a time, over TCP, UDP or SCTP"
        ))
        .hint("publish each port alone: `-p HOSTPORT:CONTAINERPORT`"));
    }
    Ok(())
}

/// The plan of `request` as a kept sandbox in a pod: nothing runs beside it
/// on the host, and its init reports to no `run` that waits for it.
pub fn plan(request: Request, claim: Option<&str>) -> Result<KubePlan> {
    check_request(&request, claim)?;
    let planned = super::run::prepare(super::export::kept_request(request))?;
    let remote = planned.engine_facts().is_some_and(|e| e.remote);
    let image_id = planned.image_id;
    let mut plan = planned.plan;
    if remote {
        return Err(Error::refused(
            "the engine runs under another kernel (a `podman machine` or another machine), whose paths the manifest's host paths would not be",
        )
        .hint("export from the machine the engine runs on"));
    }
    if plan.service.is_some() {
        return Err(Error::refused(
            "the sandbox would mount a Podman API socket that dindbox serves itself, and a pod cannot start that service",
        )
        .hint("start Podman's own socket, which the sandbox then mounts, and export again: `systemctl enable --now podman.socket`"));
    }
    crate::plan::memory::without_report(&mut plan);
    super::run::ensure_image(&plan, &image_id)?;
    let runtime_class = plan.spec.runtime.as_ref().and_then(|r| {
        runtime_class(&r.value).map(|class| {
            Why::new(
                class.to_string(),
                format!(
                    "{} (a RuntimeClass of this name must exist in the cluster, its handler that runtime)",
                    r.why
                ),
            )
        })
    });
    Ok(KubePlan {
        default_caps: plan.engine.default_caps(),
        plan,
        runtime_class,
    })
}

/// The image with dindbox's init, made from the plan's image in its engine.
pub fn image(plan: &Plan) -> Result<String> {
    let engine = Engine::new(plan.engine, &plan.engine_binary);
    let binary = crate::paths::own_executable()?;
    crate::image::kube::build(&engine, &plan.image, &binary)
}

/// What `podman kube play` on this host needs: dindbox's seccomp profile
/// written where the plan names it, its AppArmor profile loaded.
pub fn prepare_host(plan: &Plan) -> Result<()> {
    crate::apply::confine::prepare(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Mode;

    fn request(name: &str) -> Request {
        Request::new(
            Mode::Dind,
            "img",
            name,
            "/tmp".into(),
            "/usr/local/bin/dindbox".into(),
        )
    }

    #[test]
    fn names_kubernetes_cannot_take_are_refused_before_anything_is_probed() {
        for name in ["Work", "a_b", &"x".repeat(56)] {
            let e = plan(request(name), None).unwrap_err();
            assert_eq!(e.code, crate::error::exit::USAGE, "{e}");
            assert!(e.message.contains("cannot name a Kubernetes object"), "{e}");
        }
        let e = plan(request("work"), Some("Bad_Claim")).unwrap_err();
        assert!(e.message.contains("PersistentVolumeClaim"), "{e}");
        let mut ports = request("work");
        ports.ports = vec!["8000-8010:8000-8010".into()];
        let e = plan(ports, None).unwrap_err();
        assert!(e.hints[0].contains("-p HOSTPORT:CONTAINERPORT"), "{e}");
    }

    #[test]
    fn runtimes_with_a_runtime_class() {
        assert_eq!(runtime_class("runsc"), Some("gvisor"));
        assert_eq!(runtime_class("/usr/bin/kata-runtime"), Some("kata"));
        assert_eq!(runtime_class("sysbox-runc"), Some("sysbox-runc"));
        assert_eq!(runtime_class("runc"), None);
        assert!(dns_subdomain("work-storage.v1"));
    }
}
