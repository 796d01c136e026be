//! `dindbox config show`: every resolved value and where it came from; env
//! values masked.

use std::fmt::Write;

use serde_json::{Value, json};

use super::resolve::Resolved;
use super::{Source, Sourced};
use crate::plan::resources::MASK;

/// (key, value as shown, source)
fn rows(r: &Resolved) -> Vec<(String, String, &Source)> {
    let scalars: [(&str, Option<&Sourced<String>>); 10] = [
        ("containerName", r.name.as_ref()),
        ("containerMode", Some(&r.mode)),
        ("inner", r.inner.as_ref()),
        ("engine", r.engine.as_ref()),
        ("image", r.image.as_ref()),
        ("containerPath", r.container_path.as_ref()),
        ("memory", r.memory.as_ref()),
        ("runtime", r.runtime.as_ref()),
        ("yolo", r.yolo.as_ref()),
        ("command", r.command.as_ref()),
    ];
    let mut rows: Vec<(String, String, &Source)> = scalars
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k.to_string(), s.value.clone(), &s.from)))
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
    serde_json::to_string_pretty(&json!({"files": files, "values": values}))
        .expect("plain JSON always serialises")
}
