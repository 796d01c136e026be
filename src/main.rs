//! dindbox: sandboxes that can run containers, on whatever Docker or Podman host you have.

mod apply;
mod cli;
mod commands;
mod config;
mod engine;
mod error;
mod image;
mod init;
mod ops;
mod paths;
mod plan;
mod probe;
mod process;
mod trace;

use clap::Parser;

fn main() {
    trace::mark("start");
    let cli = cli::Cli::parse();
    let code = match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{err}");
            err.code
        }
    };
    std::process::exit(code);
}
