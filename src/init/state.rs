//! The init's report of the sandbox's state, for `enter` to wait on.
//!
//! One small JSON file, replaced atomically. It names the boot it belongs to
//! (the start time of PID 1), so a report left from before `stop`/`start` is
//! never taken for the current one.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub const STATE_DIR: &str = "/run/dindbox";
pub use crate::spec::init::STATE_FILE;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Start time of PID 1 (clock ticks since boot, /proc/1/stat field 22).
    pub boot: u64,
    /// Everything is up: the inner engine answers (or there is none).
    pub ready: bool,
    /// Why the inner engine did not come up, with its log's tail.
    pub error: Option<String>,
    /// The process whose user, mount and network namespaces commands run
    /// in, where the init made them (`enter` joins them).
    #[serde(default)]
    pub userns_pid: Option<u32>,
}

static USERNS_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// Reports from now on name `pid` as the user namespace's.
pub fn set_userns_pid(pid: u32) {
    let _ = USERNS_PID.set(pid);
}

/// The start time of PID 1 in this PID namespace.
pub fn boot() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/1/stat").ok()?;
    parse_starttime(&stat)
}

/// Field 22 of a /proc/PID/stat line; the command name (field 2) may hold spaces.
fn parse_starttime(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Write the report (to a temporary file first, then renamed into place).
pub fn write(ready: bool, error: Option<String>) -> std::io::Result<()> {
    let state = State {
        boot: boot().unwrap_or(0),
        ready,
        error,
        userns_pid: USERNS_PID.get().copied(),
    };
    std::fs::create_dir_all(STATE_DIR)?;
    let tmp = Path::new(STATE_DIR).join(".state.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&state).expect("state serialises"))?;
    std::fs::rename(&tmp, STATE_FILE)
}

/// Forget a report from an earlier boot, before this one's set-up starts.
pub fn clear() {
    let _ = std::fs::remove_file(STATE_FILE);
}

/// The current boot's report, if the init has written one.
pub fn read() -> Option<State> {
    let state: State = serde_json::from_slice(&std::fs::read(STATE_FILE).ok()?).ok()?;
    (Some(state.boot) == boot()).then_some(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_spaces_in_the_name() {
        let stat = "1 (my init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 100 200";
        assert_eq!(parse_starttime(stat), Some(987_654));
        assert_eq!(parse_starttime("garbage"), None);
    }
}
