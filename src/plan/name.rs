//! Sandbox names: the default one, the checks engines make, the host name.

use chrono::DateTime;

use super::Mode;
use crate::error::{Error, Result};

/// `dindbox-MODE-YYYYMMDD-HHMMSS-XXXXXX`: readable, sortable, and unique even
/// for many runs in one second.
pub fn default_name(mode: Mode) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut random = [0u8; 3];
    // SAFETY: getrandom writes at most `len` bytes into the buffer.
    let got = unsafe { libc::getrandom(random.as_mut_ptr().cast(), random.len(), 0) };
    if got != random.len() as isize {
        let nanos = now.subsec_nanos().to_le_bytes();
        random.copy_from_slice(&nanos[..3]);
    }
    format!(
        "dindbox-{}-{}-{}",
        mode.name(),
        timestamp(now.as_secs()),
        hex::encode(random)
    )
}

/// UTC `YYYYMMDD-HHMMSS` from seconds since the epoch.
fn timestamp(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_else(|| "00000000-000000".into())
}

/// A host name from a sandbox name (at most 63 characters of [a-z0-9-]).
pub fn hostname(name: &str) -> String {
    let h: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    h.trim_matches('-').to_string()
}

/// Check a user-given sandbox name the way engines do.
pub fn check_name(name: &str) -> Result<()> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_rest = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok_first && ok_rest && name.len() <= 128 {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid sandbox name `{name}`")).hint(
            "a name starts with a letter or digit and has only letters, digits, `_`, `.` and `-`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(1_795_582_861), "20261125-050101");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
    }

    #[test]
    fn default_names_differ_within_one_second() {
        let a = default_name(Mode::Dind);
        let b = default_name(Mode::Dind);
        assert!(a.starts_with("dindbox-dind-"), "{a}");
        assert_ne!(a, b);
        assert!(check_name(&a).is_ok());
    }
}
