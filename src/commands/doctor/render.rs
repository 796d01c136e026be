//! The matrix as a table, and the list of host changes.

use comfy_table::{ContentArrangement, Table, presets};

use crate::ops::doctor::matrix::Row;

/// The matrix section of `doctor`'s report.
pub fn matrix(rows: &[Row], changes: &[String]) -> String {
    let checked = rows.iter().any(|r| r.checked.is_some());
    let mut out = vec![if checked {
        "what works here (each combination started for real)".to_string()
    } else {
        "what works here (the planner's prediction; `dindbox doctor --check` starts each)"
            .to_string()
    }];
    if rows.is_empty() {
        out.push("  nothing: no engine is installed".to_string());
    } else {
        out.push(table(rows, checked));
    }
    if !changes.is_empty() && (rows.is_empty() || rows.iter().any(|r| !r.works())) {
        out.push(String::new());
        out.push("host changes that would help".to_string());
        out.extend(changes.iter().map(|c| format!("  - {c}")));
    }
    out.join("\n") + "\n"
}

/// The width of the table when stdout is not a terminal.
const WIDTH: u16 = 140;

fn table(rows: &[Row], checked: bool) -> String {
    let mut t = Table::new();
    t.load_style(presets::ASCII_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        // Not a terminal: lines of a width a log or a pager shows whole.
        t.set_width(WIDTH);
    }
    let mut header = vec!["ENGINE", "RUNTIME", "MODE", "INNER", "PREDICTED"];
    if checked {
        header.push("CHECKED");
    }
    header.push("WHY NOT / WHAT WOULD FIX IT");
    t.set_header(header);
    for row in rows {
        let p = &row.predicted;
        let mut cells = vec![
            row.combo.engine.to_string(),
            row.combo.runtime.clone().unwrap_or_else(|| "-".to_string()),
            row.combo.mode.name().to_string(),
            row.combo.inner.map_or("-".to_string(), |i| i.to_string()),
            if p.works {
                "works".to_string()
            } else {
                format!("no (exit {})", p.exit)
            },
        ];
        if checked {
            cells.push(row.checked.as_ref().map_or("-".to_string(), |m| {
                let what = if m.works { "works" } else { "fails" };
                let exit = m.exit.map_or(String::new(), |c| format!(", exit {c}"));
                format!("{what} in {:.2} s{exit}", m.seconds)
            }));
        }
        cells.push(why_not(row));
        t.add_row(cells);
    }
    t.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The refusal (or the failure that was measured), its causes and fixes.
fn why_not(row: &Row) -> String {
    let p = &row.predicted;
    let mut lines = Vec::new();
    if let Some(m) = &row.checked {
        if m.works != p.works {
            lines.push("differs from the prediction".to_string());
        }
        // A refusal measured as predicted is said once, below.
        if let Some(error) = m
            .error
            .as_ref()
            .filter(|e| p.why.as_ref().is_none_or(|w| !e.contains(w.as_str())))
        {
            lines.push(error.clone());
        }
        if !m.left_behind.is_empty() {
            lines.push(format!(
                "left behind (removed): {}",
                m.left_behind.join(", ")
            ));
        }
    }
    if let Some(why) = &p.why {
        lines.push(why.clone());
        lines.extend(p.causes.iter().map(|c| format!("because {c}")));
        lines.extend(p.fix.iter().map(|h| format!("fix: {h}")));
    }
    lines.join("\n")
}
