//! `dindbox config show|command|schema`.

use crate::cli::ConfigCommand;
use crate::config;
use crate::error::{Error, Result};
use crate::output;
use crate::process::quote_argv;

pub fn run(cmd: ConfigCommand) -> Result<i32> {
    match cmd {
        ConfigCommand::Show(args) => {
            let cwd = std::env::current_dir().map_err(|e| {
                Error::failure("could not read the current directory").cause(e.to_string())
            })?;
            let resolved = config::resolve::resolve(&args, &cwd)?;
            // Every value checked as a run would check it, before anything is shown.
            super::run::request_from(&args, &resolved)?;
            if args.json {
                output::line(&config::show::json(&resolved))?;
            } else {
                output::print(&config::show::text(&resolved))?;
            }
        }
        ConfigCommand::Command(args) => {
            let plan = crate::ops::run::prepare(super::run::request(&args)?)?.plan;
            output::line(&quote_argv(&plan.argv()))?;
        }
        ConfigCommand::Schema => output::line(&config::format::schema())?,
    }
    Ok(0)
}
