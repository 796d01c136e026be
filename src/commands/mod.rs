//! One file per subcommand; `dispatch` is all `main` calls.

pub mod completions;
pub mod config;
pub mod doctor;
pub mod export;
pub mod export_kube;
pub mod image;
pub mod import;
pub mod init;
pub mod man;
pub mod reach;
pub mod run;
pub mod sandboxes;

use crate::cli::Command;
use crate::error::Result;

/// Run a subcommand; the result is the exit status.
pub fn dispatch(command: Command) -> Result<i32> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Plan(args) => run::plan(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Image(cmd) => image::run(cmd),
        Command::Init(args) => init::run(args),
        Command::Enter(args) => Ok(crate::init::enter::run(
            std::time::Duration::from_millis(args.timeout_ms),
            &args.command,
        )),
        Command::EngineUnit(args) => Ok(crate::init::systemd::unit(&args.spec)),
        Command::Reach(args) => reach::run(args),
        Command::Exec(args) => sandboxes::exec::run(args),
        Command::Ls(args) => sandboxes::ls::run(args),
        Command::Start(args) => sandboxes::start::start(args),
        Command::Stop(args) => sandboxes::start::stop(args),
        Command::Rm(args) => sandboxes::rm::run(args),
        Command::Logs(args) => sandboxes::logs::run(args),
        Command::Prune(args) => sandboxes::prune::run(args),
        Command::Config(cmd) => config::run(cmd),
        Command::Import(cmd) => import::run(cmd),
        Command::Export(cmd) => export::run(cmd),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Confine(cmd) => {
            let text = match cmd {
                crate::cli::ConfineCommand::Apparmor => crate::spec::confine::apparmor_text(),
                crate::cli::ConfineCommand::Seccomp => crate::spec::confine::seccomp_text(),
            };
            print!("{text}");
            Ok(0)
        }
    }
}
