//! `dindbox ls`: dindbox's sandboxes on every engine, as a table or JSON.

use comfy_table::{Table, presets::NOTHING};

use crate::cli::LsArgs;
use crate::error::Result;
use crate::ops;
use crate::ops::ls::Row;

pub fn run(args: LsArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let rows = ops::ls::list(&super::apis(&engines))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
    } else {
        println!("{}", table(&rows));
    }
    Ok(0)
}

fn table(rows: &[Row]) -> Table {
    let mut table = Table::new();
    table.load_style(NOTHING).set_header([
        "NAME",
        "ENGINE",
        "MODE",
        "INNER",
        "STATUS",
        "CREATED",
        "WORKSPACE",
    ]);
    for r in rows {
        let status = if r.status == "running" {
            r.status.clone()
        } else {
            format!("{} ({})", r.status, r.exit_code)
        };
        let created = r.created.get(..19).unwrap_or(&r.created).replace('T', " ");
        table.add_row([
            r.name.as_str(),
            &r.engine,
            &r.mode,
            if r.inner.is_empty() { "-" } else { &r.inner },
            &status,
            &created,
            &r.workspace,
        ]);
    }
    table
}
