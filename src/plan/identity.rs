//! What makes a sandbox the one that was asked for: its mode, inner engine,
//! image, mounts, ports and environment. Kept on the container as labels (the
//! engine is the only record dindbox keeps), and compared when `run` finds a
//! sandbox of the same name.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::resources::EnvVar;
use super::{Arg, INIT_PATH, labels};
use crate::plan::inner::PRELOAD_DIR;
use crate::plan::memory::REPORT_DIR;

/// The identity labels and how each is shown when it differs.
const KEYS: [(&str, &str); 8] = [
    (labels::MODE, "mode"),
    (labels::INNER, "inner engine"),
    (labels::IMAGE, "image"),
    (labels::RUNTIME, "runtime"),
    (labels::MOUNTS, "mounts"),
    (labels::PORTS, "published ports"),
    (labels::ENV, "environment"),
    (labels::SYSTEMD, "systemd"),
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
    run: &[Arg],
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
    out.insert(labels::MOUNTS.to_string(), mounts(run).join(","));
    out.insert(
        labels::PORTS.to_string(),
        values_of(run, &["-p", "--publish"]).join(","),
    );
    out.insert(labels::ENV.to_string(), env.join(","));
    out
}

/// User-visible mounts: every `-v`/`--volume`/`--mount` of the plan except
/// dindbox's own (its binary, whose path changes with each build, preloaded
/// images, and the directory the init reports its set-up to).
fn mounts(run: &[Arg]) -> Vec<String> {
    values_of(run, &["-v", "--volume", "--mount"])
        .into_iter()
        .filter(|m| {
            ![INIT_PATH, PRELOAD_DIR, REPORT_DIR]
                .iter()
                .any(|own| m.contains(own))
        })
        .collect()
}

/// The values given to any of `flags` across the plan's arguments.
fn values_of(run: &[Arg], flags: &[&str]) -> Vec<String> {
    let args: Vec<&String> = run.iter().flat_map(|a| a.args.iter()).collect();
    args.windows(2)
        .filter(|w| flags.contains(&w[0].as_str()))
        .map(|w| w[1].clone())
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

    fn run_args() -> Vec<Arg> {
        vec![
            Arg::new(["--name", "box"], ""),
            Arg::new(
                [
                    "-v",
                    "/usr/bin/dindbox:/usr/local/libexec/dindbox/dindbox:ro",
                ],
                "",
            ),
            Arg::new(["-v", "/home/u/p:/home/u/p", "-w", "/home/u/p"], ""),
            Arg::new(
                ["-v", "/c/canary.tar:/run/dindbox/preload/canary.tar:ro"],
                "",
            ),
            Arg::new(["-p", "8080:80"], ""),
        ]
    }

    #[test]
    fn identity_leaves_out_dindboxs_own_mounts() {
        let l = labels("dind", Some("podman"), "img", None, &run_args(), &[]);
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
        let have = labels("dind", Some("podman"), "img", None, &run_args(), &[]);
        let mut other = run_args();
        other[2] = Arg::new(["-v", "/home/u/q:/home/u/q"], "");
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
