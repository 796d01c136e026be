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
mod output;
mod paths;
mod plan;
mod probe;
mod process;
mod render;
mod request;
mod signals;
mod spec;
mod trace;

use clap::Parser;

fn main() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|role| role == "init")
    {
        // PID 1 of a sandbox: the kernel drops signals it has no handler for,
        // so the ones it forwards are held from the first instruction on (a
        // `docker stop` or Ctrl-C right after the start is not lost).
        init::hold_signals();
    }
    trace::mark("start");
    let cli = cli::Cli::parse();
    // The roles inside a sandbox keep std's behaviour.
    if !matches!(
        cli.command,
        cli::Command::Init(_) | cli::Command::Enter(_) | cli::Command::EngineUnit(_)
    ) {
        output::quiet_on_closed_stdout();
    }
    let code = match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{err}");
            err.code
        }
    };
    std::process::exit(code);
}
