//! What makes a sandbox the one that was asked for: its mode, inner engine,
//! image, mounts, ports and environment. Kept on the container as labels (the
//! engine is the only record dindbox keeps), and compared when `run` finds a
//! sandbox of the same name.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::labels;
use super::resources::EnvVar;
use crate::render::mount_value;
use crate::spec::init::{PRELOAD_DIR, REPORT_DIR};
use crate::spec::{Mount, Spec};

/// The identity labels and how each is shown when it differs.
const KEYS: [(&str, &str); 9] = [
    (labels::MODE, "mode"),
    (labels::INNER, "inner engine"),
    (labels::IMAGE, "image"),
    (labels::RUNTIME, "runtime"),
    (labels::MOUNTS, "mounts"),
    (labels::PORTS, "published ports"),
    (labels::ENV, "environment"),
    (labels::SYSTEMD, "systemd"),
    (labels::USERNS, "user namespace"),
];

/// The environment as an identity: its names, and a digest of the values so
/// that a changed value is noticed. (The engine shows the values themselves to
/// whoever may inspect the container; the digest adds nothing to that.)
pub fn env_summary(env: &[EnvVar]) -> Vec<String> {
    if env.is_empty() {
        return Vec::new();
    }
    let mut vars: Vec<&EnvVar> = env.iter().collect();
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hash = Sha256::new();
    for v in &vars {
        hash.update(format!("{}={}\n", v.name, v.value.expose()));
    }
    let digest = hex::encode(hash.finalize());
    let mut out: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    out.push(format!("sha256:{}", &digest[..12]));
    out
}

/// Identity labels from the parts of a plan that define the sandbox.
pub fn labels(
    mode: &str,
    inner: Option<&str>,
    image: &str,
    runtime: Option<&str>,
    spec: &Spec,
    env: &[String],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert(labels::MODE.to_string(), mode.to_string());
    out.insert(labels::INNER.to_string(), inner.unwrap_or("").to_string());
    out.insert(labels::IMAGE.to_string(), image.to_string());
    out.insert(
        labels::RUNTIME.to_string(),
        runtime.unwrap_or("").to_string(),
    );
    out.insert(labels::MOUNTS.to_string(), mounts(spec).join(","));
    let ports: Vec<&str> = spec.ports.iter().map(|p| p.value.as_str()).collect();
    out.insert(labels::PORTS.to_string(), ports.join(","));
    out.insert(labels::ENV.to_string(), env.join(","));
    let userns: Vec<String> = spec
        .userns
        .iter()
        .flat_map(|u| u.value.uids.iter().map(ToString::to_string))
        .collect();
    out.insert(labels::USERNS.to_string(), userns.join(","));
    out
}

/// User-visible mounts: the workspace, the user's and the recipe's, but
/// dindbox's own (its binary, whose path changes with each build, preloaded
/// images, and the directory the init reports its set-up to).
fn mounts(spec: &Spec) -> Vec<String> {
    let (outside, inside) = &spec.workspace.value;
    let workspace = Mount::bind(outside.clone(), inside.clone());
    std::iter::once(&workspace)
        .chain(spec.binds.iter().chain(&spec.mounts).map(|m| &m.value))
        .filter(|m| {
            ![PRELOAD_DIR, REPORT_DIR]
                .iter()
                .any(|own| m.target().starts_with(own))
        })
        .map(mount_value)
        .collect()
}

/// How an existing sandbox differs from the one asked for, one line each.
/// A label the existing one lacks counts as empty (made by an older dindbox).
pub fn differences(
    existing: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Vec<String> {
    KEYS.iter()
        .filter_map(|(key, what)| {
            let want = wanted.get(*key).map(String::as_str).unwrap_or("");
            let have = existing.get(*key).map(String::as_str).unwrap_or("");
            (want != have)
                .then(|| format!("{what}: it has {}, asked for {}", show(have), show(want)))
        })
        .collect()
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "none".to_string()
    } else {
        format!("`{value}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Why;

    /// A common sandbox's spec with the workspace /home/u/p, one published
    /// port, and dindbox's own mounts (a preloaded image, the report directory).
    fn spec() -> Spec {
        let mut req = crate::plan::tests::request(
            crate::plan::Mode::Common,
            None,
            crate::engine::EngineKind::Podman,
        );
        req.workspace = "/home/u/p".into();
        req.container_workspace = "/home/u/p".into();
        req.ports = vec!["8080:80".into()];
        let mut spec = crate::plan::tests::plan(&req, &crate::probe::fixtures::this_machine()).spec;
        spec.mounts.push(Why::new(
            Mount::read_only("/c/canary.tar", "/run/dindbox/preload/canary.tar"),
            "",
        ));
        spec.mounts
            .push(Why::new(Mount::bind("/c/report", REPORT_DIR), ""));
        spec
    }

    #[test]
    fn identity_leaves_out_dindboxs_own_mounts() {
        let l = labels("dind", Some("podman"), "img", None, &spec(), &[]);
        assert_eq!(l[labels::MOUNTS], "/home/u/p:/home/u/p");
        assert_eq!(l[labels::PORTS], "8080:80");
        assert_eq!(l[labels::INNER], "podman");
    }

    #[test]
    fn a_changed_env_value_changes_the_identity_without_showing_it() {
        let var = |v: &str| EnvVar {
            name: "TOKEN".into(),
            value: crate::plan::resources::Secret::new(v.to_string()),
        };
        let a = env_summary(&[var("one")]);
        let b = env_summary(&[var("two")]);
        assert_eq!(a[0], "TOKEN");
        assert_ne!(a, b);
        assert!(!a.join(",").contains("one"));
        assert!(env_summary(&[]).is_empty());
    }

    #[test]
    fn differences_name_each_changed_part() {
        let have = labels("dind", Some("podman"), "img", None, &spec(), &[]);
        let mut other = spec();
        other.workspace.value = ("/home/u/q".into(), "/home/u/q".into());
        let want = labels(
            "sock",
            None,
            "img",
            Some("runsc"),
            &other,
            &["API_KEY".into()],
        );
        let diff = differences(&have, &want);
        assert_eq!(diff.len(), 5, "{diff:?}");
        assert!(diff[0].starts_with("mode: it has `dind`, asked for `sock`"));
        assert!(diff[1].contains("inner engine: it has `podman`, asked for none"));
        assert_eq!(diff[2], "runtime: it has none, asked for `runsc`");
        assert!(diff[3].contains("/home/u/q"));
        assert!(diff[4].contains("environment"));
        assert!(differences(&have, &have).is_empty());
    }
}
