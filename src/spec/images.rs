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

/// A copy of an image whose files' owners are shifted into a user
/// namespace's ids: uid N of the image is the host id that N is in the map
/// (ids outside the map are the namespace's overflow id, nobody). Docker
/// cannot id-map an image's overlay, so a user namespace the sandbox's init
/// makes needs its root filesystem owned so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShiftedImage {
    pub source: String,
    pub tag: String,
    pub uids: Vec<super::IdRange>,
    pub gids: Vec<super::IdRange>,
}

impl ShiftedImage {
    pub fn new(source: &str, uids: &[super::IdRange], gids: &[super::IdRange]) -> Self {
        use sha2::{Digest, Sha256};
        let text = format!("{}/{}", map_line(uids), map_line(gids));
        let digest = hex::encode(&Sha256::digest(text.as_bytes())[..6]);
        let suffix = format!("-userns-{digest}");
        // A copy named again (as an exported configuration names it) is the same copy.
        let source = source.strip_suffix(&suffix).unwrap_or(source);
        let (repo, tag) = split_tag(source);
        ShiftedImage {
            source: source.to_string(),
            tag: format!("{repo}:{tag}{suffix}"),
            uids: uids.to_vec(),
            gids: gids.to_vec(),
        }
    }

    /// The map as a label's value: `0:1000:1,1:100000:65535/0:1000:1,...`.
    pub fn maps_label(&self) -> String {
        format!("{}/{}", map_line(&self.uids), map_line(&self.gids))
    }
}

fn map_line(ranges: &[super::IdRange]) -> String {
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// An image reference's repository and tag (`latest` when it has none); a
/// digest reference keeps its digest's hex as the tag.
fn split_tag(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        let hex = digest.rsplit(':').next().unwrap_or(digest);
        return (repo.to_string(), hex.chars().take(12).collect());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::IdRange;

    #[test]
    fn a_shifted_copy_is_tagged_by_its_source_and_map() {
        let u = [IdRange {
            inside: 0,
            outside: 100000,
            count: 65536,
        }];
        let a = ShiftedImage::new("localhost/dindbox/sandbox:0.1.0", &u, &u);
        assert!(
            a.tag.starts_with("localhost/dindbox/sandbox:0.1.0-userns-"),
            "{}",
            a.tag
        );
        assert_eq!(a.maps_label(), "0:100000:65536/0:100000:65536");
        let b = ShiftedImage::new("localhost:5000/app", &u, &u);
        assert!(
            b.tag.starts_with("localhost:5000/app:latest-userns-"),
            "{}",
            b.tag
        );
        let mut v = u;
        v[0].outside = 200000;
        assert_ne!(
            ShiftedImage::new("localhost/dindbox/sandbox:0.1.0", &v, &u).tag,
            a.tag
        );
        let again = ShiftedImage::new(&a.tag, &u, &u);
        assert_eq!(again.source, "localhost/dindbox/sandbox:0.1.0");
        assert_eq!(again.tag, a.tag);
    }
}
