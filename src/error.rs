//! Errors users read: one message, what caused it, and what fixes it.
//!
//! Rendered as
//! ```text
//! error: <message>
//!   caused by: <cause>
//!   hint: <fix>
//! ```

use std::fmt;

/// Exit statuses dindbox uses for its own outcomes. A command run in a
/// sandbox exits with its own status, which dindbox passes on unchanged.
pub mod exit {
    /// Bad input: a flag, a name, a value the user can correct.
    pub const USAGE: i32 = 2;
    /// The host cannot do what was asked; the message lists what would.
    pub const REFUSED: i32 = 3;
    /// The sandbox's inner engine did not come up.
    pub const INNER_ENGINE: i32 = 121;
    /// dindbox itself, or the engine it drives, failed.
    pub const FAILURE: i32 = 125;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub causes: Vec<String>,
    pub hints: Vec<String>,
    pub code: i32,
    /// What the program may do about it (the user reads the rest).
    pub kind: Kind,
}

/// Errors dindbox itself acts on, besides reporting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Other,
    /// The engine could not start the sandbox at all (it never ran): a step
    /// down outside may get it started.
    SandboxNotStarted,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
            code,
            kind: Kind::Other,
        }
    }

    /// The engine could not start the sandbox.
    pub fn sandbox_not_started(engine: impl std::fmt::Display) -> Self {
        Error {
            kind: Kind::SandboxNotStarted,
            ..Error::failure(format!("{engine} could not start the sandbox"))
        }
    }

    /// Bad input that the user can correct.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(exit::USAGE, message)
    }

    /// A failure of dindbox or of the engine it drives.
    pub fn failure(message: impl Into<String>) -> Self {
        Error::new(exit::FAILURE, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Error::new(exit::REFUSED, message)
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        let cause = cause.into();
        if !cause.trim().is_empty() {
            self.causes.push(cause);
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// An I/O error on a path, with the path in the message.
    pub fn io(what: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        Error::failure(format!("{what} {}", path.display())).cause(err.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for cause in &self.causes {
            let mut lines = cause.lines();
            if let Some(first) = lines.next() {
                write!(f, "\n  caused by: {first}")?;
            }
            for line in lines {
                write!(f, "\n    {line}")?;
            }
        }
        for hint in &self.hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The candidate closest to `word` (by Levenshtein distance, the first of
/// equals), if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&word.to_lowercase(), c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_causes_and_hints() {
        let e = Error::usage("unknown mode `dnd`")
            .cause("line one\nline two")
            .hint("use one of: common, sock, dind");
        assert_eq!(
            e.to_string(),
            "error: unknown mode `dnd`\n  caused by: line one\n    line two\n  hint: use one of: common, sock, dind"
        );
        assert_eq!(e.code, exit::USAGE);
    }

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(suggest("dnd", &["common", "sock", "dind"]), Some("dind"));
        assert_eq!(suggest("podmn", &["podman", "docker"]), Some("podman"));
        assert_eq!(suggest("kubernetes", &["podman", "docker"]), None);
        // The word is lowered, the candidates are not.
        assert_eq!(suggest("DIND", &["common", "sock", "dind"]), Some("dind"));
        let keys = crate::config::format::KEYS;
        assert_eq!(suggest("containerMod", keys), Some("containerMode"));
        assert_eq!(suggest("volume", keys), Some("volumes"));
        assert_eq!(suggest("innerTimout", keys), Some("innerTimeout"));
        // Up to a third of the candidate's length, and at least 2, may differ.
        assert_eq!(suggest("rn", &["rm"]), Some("rm"));
        assert_eq!(suggest("xyz", &["rm"]), None);
        assert_eq!(suggest("envfle", keys), Some("envFile"));
        // Of candidates as near, the first.
        assert_eq!(suggest("pod", &["podA", "podB"]), Some("podA"));
    }
}
