//! `dindbox ls`: dindbox's sandboxes on every engine, as a table or JSON.

use comfy_table::{Table, presets::NOTHING};
use serde::Serialize;

use crate::cli::LsArgs;
use crate::error::Result;
use crate::ops;
use crate::ops::ls::Row;
use crate::output;

/// What `ls --json` prints (with `schema` first).
#[derive(Serialize)]
struct Listing<'a> {
    sandboxes: &'a [Row],
}

pub fn run(args: LsArgs) -> Result<i32> {
    let engines = super::engines(&args.engine)?;
    let rows = ops::ls::list(&super::apis(&engines))?;
    if args.json {
        output::line(&output::json(&Listing { sandboxes: &rows })?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_schema_then_the_sandboxes() {
        let row = Row {
            name: "work".into(),
            engine: "podman".into(),
            mode: "dind".into(),
            inner: "podman".into(),
            status: "running".into(),
            exit_code: 0,
            image: "localhost/dindbox/sandbox:1".into(),
            created: "2025-01-02T03:04:05Z".into(),
            workspace: "/w".into(),
        };
        let rows = [row];
        let text = output::json(&Listing { sandboxes: &rows }).unwrap();
        assert!(
            text.starts_with("{\n  \"schema\": 1,\n  \"sandboxes\": ["),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["sandboxes"][0]["name"], "work");
        assert_eq!(v["sandboxes"][0]["mode"], "dind");
        let empty = output::json(&Listing { sandboxes: &[] }).unwrap();
        assert_eq!(empty, "{\n  \"schema\": 1,\n  \"sandboxes\": []\n}");
    }
}
