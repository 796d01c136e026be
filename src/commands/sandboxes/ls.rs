//! `dindbox ls`: dindbox's sandboxes on every engine, found by label.

use comfy_table::{Table, presets::NOTHING};
use serde::Serialize;

use crate::cli::LsArgs;
use crate::error::Result;
use crate::plan::labels;

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    engine: String,
    mode: String,
    inner: String,
    status: String,
    exit_code: i64,
    image: String,
    created: String,
    workspace: String,
}

pub fn run(args: LsArgs) -> Result<i32> {
    let mut rows = Vec::new();
    for engine in super::engines(&args.engine)? {
        for c in engine.sandboxes()? {
            rows.push(Row {
                engine: engine.kind.name().to_string(),
                mode: c.label(labels::MODE).to_string(),
                inner: c.label(labels::INNER).to_string(),
                image: c.label(labels::IMAGE).to_string(),
                workspace: c.label(labels::WORKDIR).to_string(),
                status: c.status.clone(),
                exit_code: c.exit_code,
                created: c.created.clone(),
                name: c.name,
            });
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.engine.cmp(&b.engine)));
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        return Ok(0);
    }
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
    for r in &rows {
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
    println!("{table}");
    Ok(0)
}
