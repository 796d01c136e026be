//! `dindbox completions SHELL`: a completion script for the shell, made from
//! the command line's definition (hidden commands left out).

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

pub fn run(args: CompletionsArgs) -> Result<i32> {
    crate::output::print(&script(args.shell))?;
    Ok(0)
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut visible(), "dindbox", &mut out);
    String::from_utf8(out).expect("clap_complete writes UTF-8")
}

/// The command line without its hidden commands, which clap_complete would
/// offer too; clap cannot drop a subcommand, so the top is made anew.
fn visible() -> clap::Command {
    let cli = Cli::command();
    clap::Command::new("dindbox")
        .version(env!("CARGO_PKG_VERSION"))
        .about(cli.get_about().cloned().unwrap_or_default())
        .subcommands(cli.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use clap::{CommandFactory, ValueEnum};

    use super::*;

    fn visible(cmd: &clap::Command) -> Vec<String> {
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect()
    }

    #[test]
    fn every_shell_gets_a_script_that_names_dindbox_and_its_commands() {
        for shell in Shell::value_variants() {
            let text = script(*shell);
            assert!(text.contains("dindbox"), "{shell}: {text}");
            for name in ["run", "completions", "man", "--dry-run"] {
                assert!(text.contains(name), "{shell} lacks {name}");
            }
            assert!(
                !text.contains("engine-unit"),
                "{shell} offers a hidden command"
            );
        }
    }

    #[test]
    fn the_zsh_and_fish_scripts_are_for_dindbox() {
        assert!(script(Shell::Zsh).starts_with("#compdef dindbox\n"));
        let fish = script(Shell::Fish);
        assert!(
            fish.contains("complete -c dindbox -n \"__fish_dindbox_needs_command\" -f -a \"run\""),
            "{fish}"
        );
    }

    #[test]
    fn bash_completes_every_visible_command_and_the_flags_of_run() {
        let text = script(Shell::Bash);
        let cli = Cli::command();
        let names = visible(&cli);
        assert!(names.len() >= 15, "{names:?}");
        for name in &names {
            assert!(
                text.contains(&format!("dindbox__subcmd__{}", name.replace('-', "__"))),
                "no case for {name}"
            );
        }
        for hidden in ["init", "enter", "engine-unit", "reach"] {
            assert!(!names.contains(&hidden.to_string()));
            assert!(
                !text.contains(&format!("dindbox__subcmd__{}", hidden.replace('-', "__"))),
                "the hidden {hidden} is completed"
            );
        }
        let run = cli.find_subcommand("run").unwrap();
        let flags: Vec<String> = run
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect();
        assert!(flags.contains(&"--dry-run".to_string()), "{flags:?}");
        let top = text
            .lines()
            .find(|l| l.contains("opts=") && l.contains(" --version "))
            .expect("the line of the top level's words");
        for name in names.iter().chain(["ps".to_string()].iter()) {
            assert!(
                top.split_whitespace().any(|w| w.trim_matches('"') == name),
                "{name} is not completed: {top}"
            );
        }
        let run_line = text
            .lines()
            .find(|l| l.contains("opts=") && l.contains("--dry-run"))
            .expect("the line of run's options");
        for flag in &flags {
            assert!(
                run_line
                    .split_whitespace()
                    .any(|w| w.trim_matches('"') == flag),
                "run's {flag} is not completed: {run_line}"
            );
        }
    }

    fn bash(args: &[&str], stdin: &str) -> std::process::Output {
        let mut bash = Command::new("bash")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash runs");
        bash.stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        bash.wait_with_output().unwrap()
    }

    #[test]
    fn the_bash_script_parses_and_completes_commands_and_flags() {
        let text = script(Shell::Bash);
        let out = bash(&["-n"], &text);
        assert!(
            out.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("dindbox.bash");
        std::fs::write(&file, &text).unwrap();
        let session = format!(
            "source {}\n\
             COMP_WORDS=(dindbox r); COMP_CWORD=1; _dindbox dindbox r dindbox; echo \"${{COMPREPLY[*]}}\"\n\
             COMP_WORDS=(dindbox run --dr); COMP_CWORD=2; _dindbox dindbox --dr run; echo \"${{COMPREPLY[*]}}\"\n\
             COMP_WORDS=(dindbox completions f); COMP_CWORD=2; _dindbox dindbox f completions; echo \"${{COMPREPLY[*]}}\"\n",
            file.display()
        );
        let out = bash(&[], &session);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "run rm\n--dry-run\nfish\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
