//! Whether the workspace is a git worktree whose repository lies outside it
//! (`git worktree add`): its `.git` is a file naming the worktree's git
//! directory, whose `commondir` names the repository's. Without that
//! directory, git inside the sandbox finds no repository.

use std::path::{Path, PathBuf};

/// The repository's git directory a worktree needs, and the files in it that
/// make git run programs (hooks, configuration), which the sandbox gets
/// read-only: written from inside, they would run on the host at the user's
/// next git command there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub common_dir: PathBuf,
    pub read_only: Vec<PathBuf>,
}

/// The worktree facts of `workspace`, if its `.git` is such a file and the
/// repository's git directory is outside the workspace.
pub fn worktree(workspace: &Path) -> Option<Worktree> {
    let text = std::fs::read_to_string(workspace.join(".git")).ok()?;
    let gitdir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let gitdir = workspace.join(gitdir);
    let common = match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(c) => gitdir.join(c.trim()),
        Err(_) => gitdir.parent()?.parent()?.to_path_buf(),
    };
    let common = std::fs::canonicalize(common).ok()?;
    if common.starts_with(workspace) {
        return None;
    }
    let read_only = ["config", "hooks"]
        .iter()
        .map(|f| common.join(f))
        .chain(std::iter::once(
            std::fs::canonicalize(&gitdir).ok()?.join("config.worktree"),
        ))
        .filter(|p| p.exists())
        .collect();
    Some(Worktree {
        common_dir: common,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worktree_brings_its_repositorys_git_directory_with_hooks_and_config_read_only() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo/.git");
        let wt_git = repo.join("worktrees/feature");
        std::fs::create_dir_all(&wt_git).unwrap();
        std::fs::create_dir_all(repo.join("hooks")).unwrap();
        std::fs::write(repo.join("config"), "[core]\n").unwrap();
        std::fs::write(wt_git.join("commondir"), "../..\n").unwrap();
        let ws = tmp.path().join("feature");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
        let w = worktree(&ws).unwrap();
        let repo = std::fs::canonicalize(&repo).unwrap();
        assert_eq!(w.common_dir, repo);
        assert_eq!(w.read_only, [repo.join("config"), repo.join("hooks")]);
        // A repository's own checkout, or a .git directory: nothing to add.
        assert_eq!(worktree(tmp.path().join("repo").as_path()), None);
        assert_eq!(worktree(tmp.path()), None);
    }
}
