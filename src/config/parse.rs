//! Configuration text (TOML, or JSON with comments and trailing commas) to
//! top-level entries, each with the line and column of its key, its value,
//! and its list items or map members.

use std::fmt;
use std::path::Path;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use serde_json::Value;

use crate::error::Error;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// The line and column of a byte offset.
pub fn pos_at(text: &str, offset: usize) -> Pos {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line,
        col: before[line_start..].chars().count() + 1,
    }
}

/// One top-level key of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Value,
    pub value_pos: Pos,
    /// Where each list item is, or each map member (by name).
    pub parts: Vec<(String, Pos)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// By extension; a file without a known one is JSON when it starts with `{`.
    pub fn of(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Format::Toml,
            Some("json" | "jsonc" | "json5") => Format::Json,
            _ if text.trim_start().starts_with('{') => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// A syntax error at a place in the file.
pub fn syntax_error(path: &Path, pos: Pos, what: &str, format: Format) -> Error {
    let name = match format {
        Format::Toml => "TOML",
        Format::Json => "JSON",
    };
    Error::usage(format!("{}:{pos}: {what}", path.display()))
        .cause(format!("{name} syntax error in {}", path.display()))
        .hint(format!(
            "fix the {name} at line {} column {} of {}",
            pos.line,
            pos.col,
            path.display()
        ))
}

pub fn entries(path: &Path, text: &str, format: Format) -> Result<Vec<Entry>, Error> {
    let mut out = match format {
        Format::Toml => toml_entries(path, text)?,
        Format::Json => json_entries(path, text)?,
    };
    out.sort_by_key(|e| e.key_pos);
    Ok(out)
}

fn toml_entries(path: &Path, text: &str) -> Result<Vec<Entry>, Error> {
    let located = |e: &toml::de::Error| {
        let at = e.span().map_or(0, |s| s.start);
        syntax_error(path, pos_at(text, at), e.message().trim(), Format::Toml)
    };
    let spans = toml::de::DeTable::parse(text).map_err(|e| located(&e))?;
    let table: toml::Table = toml::from_str(text).map_err(|e| located(&e))?;
    let mut out = Vec::new();
    for (key, value) in spans.get_ref() {
        let name = key.get_ref().to_string();
        let parts = match value.get_ref() {
            toml::de::DeValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), pos_at(text, v.span().start)))
                .collect(),
            toml::de::DeValue::Table(members) => members
                .iter()
                .map(|(k, _)| (k.get_ref().to_string(), pos_at(text, k.span().start)))
                .collect(),
            _ => Vec::new(),
        };
        let json = table
            .get(&name)
            .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        out.push(Entry {
            key: name,
            key_pos: pos_at(text, key.span().start),
            value: json,
            value_pos: pos_at(text, value.span().start),
            parts,
        });
    }
    Ok(out)
}

/// JSON with comments and trailing commas (and JSON5's unquoted keys and
/// single quotes), parsed with positions.
pub fn json_ast<'a>(path: &Path, text: &'a str) -> Result<Vec<ast::ObjectProp<'a>>, Error> {
    let options = jsonc_parser::ParseOptions {
        allow_missing_commas: false,
        ..Default::default()
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &options).map_err(|e| {
        syntax_error(
            path,
            pos_at(text, e.range().start),
            &e.kind().to_string(),
            Format::Json,
        )
    })?;
    match parsed.value {
        Some(ast::Value::Object(obj)) => Ok(obj.properties),
        Some(other) => Err(syntax_error(
            path,
            pos_at(text, other.range().start),
            "expected an object (`{ ... }`) at the top",
            Format::Json,
        )),
        None => Ok(Vec::new()),
    }
}

/// A JSONC object's members, in file order, as plain JSON.
pub fn json_object(path: &Path, text: &str) -> Result<Vec<(String, Value)>, Error> {
    json_ast(path, text)?
        .iter()
        .map(|p| Ok((p.name.as_str().to_string(), to_json(path, text, &p.value)?)))
        .collect()
}

fn json_entries(path: &Path, text: &str) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    for prop in json_ast(path, text)? {
        let parts = match &prop.value {
            ast::Value::Array(a) => a
                .elements
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), pos_at(text, v.range().start)))
                .collect(),
            ast::Value::Object(o) => o
                .properties
                .iter()
                .map(|p| (p.name.as_str().to_string(), pos_at(text, p.range.start)))
                .collect(),
            _ => Vec::new(),
        };
        out.push(Entry {
            key: prop.name.as_str().to_string(),
            key_pos: pos_at(text, prop.name.range().start),
            value_pos: pos_at(text, prop.value.range().start),
            value: to_json(path, text, &prop.value)?,
            parts,
        });
    }
    Ok(out)
}

/// An AST value as plain JSON.
pub fn to_json(path: &Path, text: &str, v: &ast::Value) -> Result<Value, Error> {
    Ok(match v {
        ast::Value::StringLit(s) => Value::String(s.value.to_string()),
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::NumberLit(n) => number(n.value).ok_or_else(|| {
            syntax_error(
                path,
                pos_at(text, n.range.start),
                &format!("the number {} has no JSON value", n.value),
                Format::Json,
            )
        })?,
        ast::Value::Array(a) => Value::Array(
            a.elements
                .iter()
                .map(|e| to_json(path, text, e))
                .collect::<Result<_, _>>()?,
        ),
        ast::Value::Object(o) => Value::Object(
            o.properties
                .iter()
                .map(|p| Ok((p.name.as_str().to_string(), to_json(path, text, &p.value)?)))
                .collect::<Result<_, Error>>()?,
        ),
    })
}

fn number(text: &str) -> Option<Value> {
    let t = text.trim_start_matches('+');
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(Value::from);
    }
    serde_json::from_str::<serde_json::Number>(t)
        .ok()
        .map(Value::Number)
        .or_else(|| {
            t.parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<Vec<Entry>, Error> {
        entries(Path::new("p.json"), text, Format::Json)
    }

    fn toml(text: &str) -> Result<Vec<Entry>, Error> {
        entries(Path::new("p.toml"), text, Format::Toml)
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        assert_eq!(pos_at("ab\ncd", 0), Pos { line: 1, col: 1 });
        assert_eq!(pos_at("ab\ncd", 4), Pos { line: 2, col: 2 });
        assert_eq!(pos_at("é\nx", 3), Pos { line: 2, col: 1 });
    }

    #[test]
    fn json_with_comments_and_trailing_commas() {
        let e = json("// profile\n{\n  /* mode */ \"containerMode\": \"dind\",\n  \"volumes\": [\"/a:/a\",\n    \"/b:/b\",],\n}\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].key, "containerMode");
        assert_eq!(e[0].key_pos, Pos { line: 3, col: 14 });
        assert_eq!(e[0].value, Value::String("dind".into()));
        assert_eq!(e[1].parts[1], ("1".to_string(), Pos { line: 5, col: 5 }));
    }

    #[test]
    fn json_syntax_errors_name_file_line_and_column() {
        let err = json("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert!(err.message.starts_with("p.json:3:"), "{err}");
        let err = json("[1]").unwrap_err();
        assert!(err.message.contains("expected an object"), "{err}");
    }

    #[test]
    fn toml_keys_items_and_members_have_positions() {
        let e = toml("cpus = 2\nports = [\"80:80\", \"81:81\"]\n\n[env]\nA = \"1\"\n").unwrap();
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["cpus", "ports", "env"]);
        assert_eq!(e[1].parts[1].1, Pos { line: 2, col: 19 });
        assert_eq!(e[2].parts, vec![("A".to_string(), Pos { line: 5, col: 1 })]);
        assert_eq!(e[2].value, serde_json::json!({"A": "1"}));
    }

    #[test]
    fn toml_syntax_errors_name_file_line_and_column() {
        let err = toml("cpus = 2\nmemory = \n").unwrap_err();
        assert!(err.message.starts_with("p.toml:2:"), "{err}");
    }
}
