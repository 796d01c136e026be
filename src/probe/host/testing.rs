//! Fixtures the host probe's tests share: a tree of files under fake roots,
//! and this machine's mountinfo.

use std::path::PathBuf;

use crate::probe::Roots;

pub const HYBRID: &str =
    include_str!("../../../tests/fixtures/proc/mountinfo-debian12-firecracker-hybrid");

/// A fixture tree: `files` are (path under the tempdir, content).
pub fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Roots) {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
    let at = |p: &str| -> PathBuf { dir.path().join(p) };
    let roots = Roots {
        proc: at("proc"),
        sys: at("sys"),
        etc: at("etc"),
        dev: at("dev"),
        root: at("root"),
    };
    (dir, roots)
}

pub fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}
