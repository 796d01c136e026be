//! `dindbox man`: the manual page dindbox(1) as roff, made from the command
//! line's definition; with `--dir`, that page and one for every command that
//! is not hidden (dindbox-run(1), dindbox-image-build(1), ...) written there.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result};
use crate::output;

pub fn run(args: ManArgs) -> Result<i32> {
    match args.dir {
        None => output::print(&pages().swap_remove(0).1)?,
        Some(dir) => {
            for path in write(&dir)? {
                output::line(&format!("wrote {}", path.display()))?;
            }
        }
    }
    Ok(0)
}

/// Each page's file name and roff: dindbox.1 first, then every visible
/// command's, a parent before its children.
pub fn pages() -> Vec<(String, String)> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let mut out = Vec::new();
    collect(&cli, &mut out);
    out
}

fn collect(cmd: &clap::Command, out: &mut Vec<(String, String)>) {
    let man = Man::new(cmd.clone()).source(format!("dindbox {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)
        .expect("writing to memory cannot fail");
    out.push((
        man.get_filename(),
        String::from_utf8(roff).expect("clap_mangen writes UTF-8"),
    ));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, out);
    }
}

/// Write every page to `dir` (made if missing); the paths written.
fn write(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::failure(format!("could not create {}", dir.display())).cause(e.to_string())
    })?;
    pages()
        .into_iter()
        .map(|(file, text)| {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| {
                Error::failure(format!("could not write {}", path.display())).cause(e.to_string())
            })?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_page_has_a_title_and_names_every_visible_command() {
        let text = pages().swap_remove(0).1;
        assert!(text.contains(".TH dindbox 1"), "{text}");
        let cli = Cli::command();
        let mut visible = 0;
        for sub in cli.get_subcommands() {
            let reference = format!("dindbox\\-{}(1)", sub.get_name().replace('-', "\\-"));
            assert_eq!(
                text.contains(&reference),
                !sub.is_hide_set(),
                "{reference} in dindbox(1)"
            );
            visible += usize::from(!sub.is_hide_set());
        }
        assert!(visible >= 15);
        assert!(!text.contains("dindbox\\-help"), "{text}");
    }

    #[test]
    fn every_visible_command_has_a_page_of_its_own() {
        let pages = pages();
        let files: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
        for file in [
            "dindbox.1",
            "dindbox-run.1",
            "dindbox-ls.1",
            "dindbox-image.1",
            "dindbox-image-build.1",
            "dindbox-completions.1",
            "dindbox-man.1",
        ] {
            assert!(files.contains(&file), "{file} not in {files:?}");
        }
        for hidden in ["dindbox-init.1", "dindbox-reach.1", "dindbox-help.1"] {
            assert!(!files.contains(&hidden), "{hidden} in {files:?}");
        }
        let (_, run) = pages.iter().find(|(f, _)| f == "dindbox-run.1").unwrap();
        let title = format!(
            ".TH dindbox-run 1  \"dindbox {}\"",
            env!("CARGO_PKG_VERSION")
        );
        assert!(run.contains(&title), "{run}");
        assert!(run.contains("\\-\\-dry\\-run"), "{run}");
    }

    #[test]
    fn dir_writes_every_page_into_a_new_directory() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("man/man1");
        let written = write(&dir).unwrap();
        assert_eq!(written.len(), pages().len());
        assert_eq!(written[0], dir.join("dindbox.1"));
        let run = std::fs::read_to_string(dir.join("dindbox-run.1")).unwrap();
        assert!(run.starts_with(".ie"), "{run}");
        assert!(run.contains(".TH dindbox-run 1 "), "{run}");
    }
}
