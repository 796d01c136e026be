//! `dindbox run` and `dindbox plan`: the request, then the operation; print the plan or pass the status on.

use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::ops;
use crate::plan::{self, Plan};

pub fn run(args: RunArgs) -> Result<i32> {
    if args.json && !args.dry_run {
        return Err(
            Error::usage("--json prints a plan, and `run` prints one only with --dry-run")
                .hint("add --dry-run, or use `dindbox plan --json`"),
        );
    }
    let planned = ops::run::prepare(request(&args)?)?;
    if args.dry_run {
        return print(&planned.plan, args.json);
    }
    ops::run::run(planned, args.recreate, &mut |event| eprintln!("{event}"))
}

pub fn plan(args: RunArgs) -> Result<i32> {
    let planned = ops::run::prepare(request(&args)?)?;
    print(&planned.plan, args.json)
}

fn print(plan: &Plan, json: bool) -> Result<i32> {
    if json {
        crate::output::line(&plan::show::json(plan))?;
    } else {
        crate::output::print(&plan::show::text(plan))?;
    }
    Ok(0)
}

pub use crate::request::{request, request_from};
