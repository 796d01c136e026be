//! `dindbox doctor`: what this host is and allows, and what follows from it
//! (the operation is `ops::doctor`; this renders its report).

pub(crate) mod facts;
pub(crate) mod render;

use crate::cli::DoctorArgs;
use crate::error::Result;
use crate::ops::doctor;
use facts::report;

pub fn run(args: DoctorArgs) -> Result<i32> {
    let found = doctor::doctor(args.check)?;
    let text = if args.json {
        format!("{}\n", crate::output::json(&found)?)
    } else {
        format!(
            "{}\n{}",
            report(&found.facts),
            render::matrix(&found.matrix, &found.host_changes)
        )
    };
    crate::output::print(&text)?;
    Ok(0)
}
