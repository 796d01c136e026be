//! The names of dindbox's own images, which the plan defaults to, `image
//! build` makes, and the inner engines preload.

/// The default sandbox image of this version of dindbox.
pub fn sandbox_tag() -> String {
    format!("localhost/dindbox/sandbox:{}", env!("CARGO_PKG_VERSION"))
}

/// The sandbox image that boots systemd (`image build --systemd`).
pub fn systemd_tag() -> String {
    format!(
        "localhost/dindbox/sandbox-systemd:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The image a sandbox runs when none is named: with `--systemd`, the one
/// `image build --systemd` makes.
pub fn default_tag(systemd: bool) -> String {
    if systemd {
        systemd_tag()
    } else {
        sandbox_tag()
    }
}

/// The tiny image nested engines run to prove they work.
pub const CANARY: &str = "localhost/dindbox/canary:latest";
