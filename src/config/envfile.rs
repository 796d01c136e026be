//! Env files the user writes: `KEY=VALUE`, `export KEY=VALUE`, blank lines,
//! `#` comments, and values optionally in matching single or double quotes
//! (taken literally, no escapes). A bad line is an error at file:line.

use std::path::Path;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvLine {
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// A variable name engines and shells accept: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The env file at `path` means the same to an engine's `--env-file`,
/// which takes each value literally: no `export`, no quoted value.
pub fn engines_read_alike(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines().map(str::trim_start).all(|line| {
        if line.trim_end().is_empty() || line.starts_with('#') {
            return true;
        }
        let value = line.split_once('=').map_or("", |(_, v)| v);
        let quoted = value.len() >= 2
            && ['"', '\'']
                .iter()
                .any(|q| value.starts_with(*q) && value.ends_with(*q));
        !line.starts_with("export ") && !quoted
    })
}

pub fn read(path: &Path) -> Result<Vec<EnvLine>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                Error::usage(format!("env file {} does not exist", path.display())).hint(format!(
                    "create it with KEY=VALUE lines: `install -m 600 /dev/null {0} && $EDITOR {0}`",
                    path.display()
                )),
            );
        }
        Err(e) => {
            return Err(
                Error::usage(format!("could not read the env file {}", path.display()))
                    .cause(e.to_string())
                    .hint("check that it is readable UTF-8 text"),
            );
        }
    };
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Vec<EnvLine>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        // Leading blanks go, trailing ones are part of the value (as engines read env files).
        let line = raw.trim_start();
        if line.trim_end().is_empty() || line.starts_with('#') {
            continue;
        }
        let body = line.strip_prefix("export ").map_or(line, str::trim_start);
        let bad = |why: &str| {
            Error::usage(format!("{}:{}: {why}", path.display(), i + 1))
                .hint("env file lines are KEY=VALUE, `export KEY=VALUE`, blank, or `# comment`")
        };
        let Some((name, value)) = body.split_once('=') else {
            return Err(bad("expected KEY=VALUE"));
        };
        if !valid_name(name) {
            return Err(bad(&format!(
                "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
            )));
        }
        out.push(EnvLine {
            name: name.to_string(),
            value: unquote(value).to_string(),
            line: i + 1,
        });
    }
    Ok(out)
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_exports_and_quotes() {
        let text = "# keys\n  \nA=1\n  export B=x y \nC=\"two words\"\nD='it''s'\nE=a=b#c\nF=\n";
        let got = parse(Path::new("k.env"), text).unwrap();
        let pairs: Vec<(&str, &str, usize)> = got
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str(), l.line))
            .collect();
        assert_eq!(
            pairs,
            [
                ("A", "1", 3),
                ("B", "x y ", 4),
                ("C", "two words", 5),
                ("D", "it''s", 6),
                ("E", "a=b#c", 7),
                ("F", "", 8)
            ]
        );
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e = parse(Path::new("/e/k.env"), "A=1\njust words\n").unwrap_err();
        assert_eq!(e.message, "/e/k.env:2: expected KEY=VALUE");
        let e = parse(Path::new("k.env"), "1A=x\n").unwrap_err();
        assert!(
            e.message
                .starts_with("k.env:1: `1A` is not a variable name"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_file_says_how_to_create_it() {
        let e = read(Path::new("/nonexistent/dindbox/x.env")).unwrap_err();
        assert_eq!(
            e.message,
            "env file /nonexistent/dindbox/x.env does not exist"
        );
        assert!(e.hints[0].contains("install -m 600"), "{e}");
    }
}
