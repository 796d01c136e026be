//! The rules of the code's shape, read from the source tree (see
//! docs/architecture.md): no cycles between the top-level modules, and the
//! engines' `run` flags spelled only in `src/render/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`main` for src/main.rs).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// A file's code without its unit tests: test files, and what follows a
/// `#[cfg(test)]` module (they sit at the end of a file, by convention).
fn code(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let in_tests_dir = path.components().any(|c| c.as_os_str() == "tests");
    if in_tests_dir
        || [
            "tests.rs",
            "fixture_hosts.rs",
            "snapshots.rs",
            "matrix_tests.rs",
        ]
        .contains(&name.as_ref())
        || name.ends_with("_tests.rs")
    {
        return None;
    }
    let text = std::fs::read_to_string(path).unwrap();
    let end = ["#[cfg(test)]\nmod tests", "#[cfg(test)]\npub mod tests"]
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len());
    Some(text[..end].to_string())
}

/// Which top-level modules each one uses (`crate::X`).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(code) = code(file) else { continue };
        let me = module_of(file);
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != me && modules.contains(&name) {
                graph.entry(me.clone()).or_default().insert(name);
            }
        }
    }
    graph
}

/// A path from `from` back to itself, if there is one.
fn cycle_through(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    at: &str,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> bool {
    for next in graph.get(at).into_iter().flatten() {
        if next == from {
            path.push(next.clone());
            return true;
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if cycle_through(graph, from, next, path, seen) {
                return true;
            }
            path.pop();
        }
    }
    false
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let graph = graph();
    let mut cycles = Vec::new();
    for module in graph.keys() {
        let mut path = vec![module.clone()];
        if cycle_through(&graph, module, module, &mut path, &mut BTreeSet::new()) {
            cycles.push(path.join(" -> "));
        }
    }
    assert!(
        cycles.is_empty(),
        "cycles between modules:\n{}",
        cycles.join("\n")
    );
    assert!(graph.len() > 8, "the graph was read: {graph:?}");
}

#[test]
fn run_flags_are_spelled_only_by_the_renderers() {
    const FLAGS: &[&str] = &[
        "\"--cap-add\"",
        "\"--security-opt\"",
        "\"--device-cgroup-rule\"",
        "\"--cgroupns\"",
        "\"--runtime-flag\"",
        "\"--ulimit\"",
        "\"--tmpfs\"",
        "\"--stop-signal\"",
        "\"--entrypoint\"",
        "\"--hostname\"",
        "\"--privileged\"",
    ];
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let render = src().join("render");
    let mut found = Vec::new();
    let mut in_render = 0;
    for file in &files {
        let Some(code) = code(file) else { continue };
        for flag in FLAGS {
            if code.contains(flag) {
                if file.starts_with(&render) {
                    in_render += 1;
                } else {
                    found.push(format!("{}: {flag}", file.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "flags spelled outside src/render/:\n{}",
        found.join("\n")
    );
    assert!(
        in_render >= FLAGS.len(),
        "the renderers spell them ({in_render})"
    );
}
