//! `dindbox config show`: every resolved value and where it came from; env
//! values masked.

use std::fmt::Write;

use serde_json::{Value, json};

use super::resolve::Resolved;
use super::{Source, Sourced};
use crate::plan::resources::MASK;

/// A scalar key, its value if set, and what stands in when it is not.
type Scalar<'a> = (&'static str, Option<&'a Sourced<String>>, Option<String>);

/// (key, value as shown, source)
fn rows(r: &Resolved) -> Vec<(String, String, &Source)> {
    let default_image =
        crate::spec::images::default_tag(r.systemd.as_ref().is_some_and(|s| s.value));
    let scalars: [Scalar; 11] = [
        (
            "containerName",
            r.name.as_ref(),
            Some("(a new one per run)".into()),
        ),
        ("containerMode", Some(&r.mode), None),
        ("inner", r.inner.as_ref(), Some("podman".into())),
        (
            "engine",
            r.engine.as_ref(),
            Some("(the one that answers)".into()),
        ),
        ("image", r.image.as_ref(), Some(default_image)),
        (
            "network",
            r.network.as_ref(),
            Some("(the plan's choice)".into()),
        ),
        (
            "containerPath",
            r.container_path.as_ref(),
            Some("(the host path)".into()),
        ),
        ("memory", r.memory.as_ref(), None),
        ("runtime", r.runtime.as_ref(), None),
        ("yolo", r.yolo.as_ref(), None),
        (
            "command",
            r.command.as_ref(),
            Some("(an interactive shell)".into()),
        ),
    ];
    let mut rows: Vec<(String, String, &Source)> = scalars
        .into_iter()
        .filter_map(|(k, s, default)| match (s, default) {
            (Some(s), _) => Some((k.to_string(), s.value.clone(), &s.from)),
            (None, Some(d)) => Some((k.to_string(), d, &Source::Default)),
            (None, None) => None,
        })
        .collect();
    rows.push((
        "hostPath".into(),
        r.workspace.value.display().to_string(),
        &r.workspace.from,
    ));
    if let Some(c) = &r.cpus {
        rows.push(("cpus".into(), c.value.to_string(), &c.from));
    }
    if let Some(p) = &r.pids {
        rows.push(("pids".into(), p.value.to_string(), &p.from));
    }
    let flags = [
        ("rm", &r.rm),
        ("privileged", &r.privileged),
        ("hostRoot", &r.host_root),
        ("innerIptables", &r.inner_iptables),
        ("systemd", &r.systemd),
    ];
    for (key, flag) in flags {
        if let Some(f) = flag {
            rows.push((key.into(), f.value.to_string(), &f.from));
        }
    }
    if let Some(t) = &r.inner_timeout {
        rows.push(("innerTimeout".into(), t.value.to_string(), &t.from));
    }
    for (i, f) in r.env_files.iter().enumerate() {
        rows.push((
            format!("envFile[{i}]"),
            f.value.display().to_string(),
            &f.from,
        ));
    }
    for (name, v) in &r.env {
        rows.push((format!("env.{name}"), MASK.to_string(), &v.from));
    }
    for (i, v) in r.volumes.iter().enumerate() {
        rows.push((format!("volumes[{i}]"), v.value.clone(), &v.from));
    }
    for (i, p) in r.ports.iter().enumerate() {
        rows.push((format!("ports[{i}]"), p.value.clone(), &p.from));
    }
    rows
}

pub fn text(r: &Resolved) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "files (lowest precedence first):");
    if r.files.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for (level, path) in &r.files {
        let _ = writeln!(out, "  {:8} {}", level.name(), path.display());
    }
    let rows = rows(r);
    let width = rows
        .iter()
        .map(|(k, v, _)| k.len().max(v.len().min(40)))
        .max()
        .unwrap_or(0);
    let key_width = rows.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    let _ = writeln!(out, "\nvalues:");
    for (key, value, from) in &rows {
        let _ = writeln!(out, "  {key:key_width$}  {value:width$}  # {from}");
    }
    out
}

pub fn json(r: &Resolved) -> String {
    let files: Vec<Value> = r
        .files
        .iter()
        .map(|(level, path)| json!({"level": level.name(), "path": path}))
        .collect();
    let values: Vec<Value> = rows(r)
        .into_iter()
        .map(|(key, value, from)| json!({"key": key, "value": value, "from": from.to_string()}))
        .collect();
    crate::output::json(&json!({"files": files, "values": values}))
        .expect("plain JSON always serialises")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::layer::{Layer, Level};
    use crate::config::resolve::merge;

    fn resolved() -> Resolved {
        let text = "containerMode = \"dind\"\nports = [\"80:80\"]\n[env]\nTOKEN = \"hunter2\"\n";
        let l = Layer::parse(Level::Profile, Path::new("/c/p.toml"), text).unwrap();
        merge(&[l], Path::new("/w")).unwrap()
    }

    #[test]
    fn each_value_with_its_source_and_env_masked() {
        let out = text(&resolved());
        assert!(out.contains("profile  /c/p.toml"), "{out}");
        let line = |key: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(key))
                .unwrap()
                .to_string()
        };
        assert!(line("containerMode").ends_with("# /c/p.toml:1:1"), "{out}");
        assert!(line("env.TOKEN").ends_with("# /c/p.toml:4:1"), "{out}");
        assert!(line("ports[0]").ends_with("# /c/p.toml:2:10"), "{out}");
        assert!(line("inner").ends_with("# default"), "{out}");
        assert!(!out.contains("hunter2"));
        let json = json(&resolved());
        assert!(!json.contains("hunter2"));
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["schema"], crate::output::JSON_SCHEMA);
        assert!(
            v["values"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["key"] == "env.TOKEN" && r["value"] == MASK)
        );
    }

    #[test]
    fn the_run_keys_are_shown_with_their_source() {
        let text = "network = \"none\"\nrm = true\nprivileged = false\ninnerIptables = true\ninnerTimeout = 90\n";
        let l = Layer::parse(Level::Profile, Path::new("/c/p.toml"), text).unwrap();
        let out = super::text(&merge(&[l], Path::new("/w")).unwrap());
        let line = |key: &str| {
            out.lines()
                .find(|l| l.split_whitespace().next() == Some(key))
                .unwrap_or_else(|| panic!("no {key} in {out}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(line("network"), "network none # /c/p.toml:1:1");
        assert_eq!(line("rm"), "rm true # /c/p.toml:2:1");
        assert_eq!(line("privileged"), "privileged false # /c/p.toml:3:1");
        assert_eq!(line("innerIptables"), "innerIptables true # /c/p.toml:4:1");
        assert_eq!(line("innerTimeout"), "innerTimeout 90 # /c/p.toml:5:1");
        let unset = super::text(&resolved());
        assert!(
            unset
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")
                    == "network (the plan's choice) # default"),
            "{unset}"
        );
        assert!(!unset.contains("innerTimeout"), "{unset}");
    }
}
