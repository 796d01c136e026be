//! Agent presets (`-y`, `yolo`): a short name for the command that runs an
//! agent without its permission prompts, as MANYOYO spells them.

use crate::error::{Error, Result, suggest};

/// (names, command line)
const PRESETS: &[(&[&str], &str)] = &[
    (
        &["c", "claude"],
        "IS_SANDBOX=1 claude --dangerously-skip-permissions",
    ),
    (&["gm", "gemini"], "gemini --yolo"),
    (
        &["cx", "codex"],
        "codex --dangerously-bypass-approvals-and-sandbox",
    ),
    (
        &["oc", "opencode"],
        "OPENCODE_PERMISSION='{\"*\":\"allow\"}' opencode",
    ),
];

/// The command line of a preset.
pub fn command(preset: &str) -> Result<&'static str> {
    if let Some((_, cmd)) = PRESETS.iter().find(|(names, _)| names.contains(&preset)) {
        return Ok(cmd);
    }
    let names: Vec<&str> = PRESETS
        .iter()
        .flat_map(|(n, _)| n.iter().copied())
        .collect();
    let mut e = Error::usage(format!("unknown yolo preset `{preset}`"));
    if let Some(near) = suggest(preset, &names) {
        e = e.hint(format!("did you mean `{near}`?"));
    }
    Err(e.hint("valid presets: c|claude, gm|gemini, cx|codex, oc|opencode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_by_short_and_long_name() {
        assert_eq!(command("c").unwrap(), command("claude").unwrap());
        assert_eq!(
            command("cx").unwrap(),
            "codex --dangerously-bypass-approvals-and-sandbox"
        );
        assert!(command("oc").unwrap().starts_with("OPENCODE_PERMISSION="));
    }

    #[test]
    fn unknown_presets_suggest_the_nearest() {
        let e = command("gemnii").unwrap_err();
        assert_eq!(e.message, "unknown yolo preset `gemnii`");
        assert_eq!(e.hints[0], "did you mean `gemini`?");
    }
}
