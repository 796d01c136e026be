//! `dindbox reach`: inside a sandbox, which host-wide kernel interfaces this
//! process reaches (the checks are `init::reach`; this renders their report).
//! The status is 0 whenever the probe ran: what is acceptable is for the
//! caller to decide.

use crate::cli::ReachArgs;
use crate::error::Result;
use crate::init::reach::{self, Report};

pub fn run(args: ReachArgs) -> Result<i32> {
    let report = reach::probe();
    let text = if args.json {
        format!("{}\n", crate::output::json(&report)?)
    } else {
        text(&report)
    };
    crate::output::print(&text)?;
    Ok(0)
}

/// A line of who this is, then `reached|refused  name  detail` per check.
fn text(report: &Report) -> String {
    let uid_map = report
        .uid_map
        .iter()
        .map(|(inside, outside, count)| format!("{inside} {outside} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let caps = if report.cap_eff.is_empty() {
        "none".to_string()
    } else {
        report.cap_eff.join(",")
    };
    let root = if report.host_root { " (host root)" } else { "" };
    let mut out = format!("uid_map {uid_map}{root}; CapEff {caps}\n");
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let verdict = if check.reached { "reached" } else { "refused" };
        out.push_str(&format!(
            "{verdict}  {:<width$}  {}\n",
            check.name, check.detail
        ));
    }
    out
}
