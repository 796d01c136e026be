//! What the engine has of the sandbox image: whether it is there, what its
//! labels say (the inner engines it carries, whether it boots systemd), and
//! its ID, from one `image inspect`.

use std::collections::BTreeMap;

use super::facts::ImageFacts;
use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::spec::labels;

/// The image as the plan needs it, and its ID (which keys the step-down memory).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspected {
    pub facts: ImageFacts,
    /// Empty when the image is not there.
    pub id: String,
}

/// Inspect `image` on `engine`; an image that is not there is a fact, not an error.
pub fn inspect(engine: &Engine, image: &str) -> Result<Inspected> {
    let out = engine
        .cmd()
        .args([
            "image",
            "inspect",
            "--format",
            "{{.Id}}\t{{json .Config.Labels}}",
            image,
        ])
        .output()?;
    if !out.success() {
        return Ok(Inspected::default());
    }
    Ok(parse(&out.stdout))
}

/// The facts of an image that is there, from `ID<TAB>LABELS-JSON`.
fn parse(line: &str) -> Inspected {
    let (id, labels_json) = line
        .trim()
        .split_once('\t')
        .unwrap_or((line.trim(), "null"));
    let labels: BTreeMap<String, String> = serde_json::from_str::<Option<_>>(labels_json)
        .ok()
        .flatten()
        .unwrap_or_default();
    let engines = labels.get(labels::ENGINES).map(|list| {
        list.split(',')
            .filter_map(|e| EngineKind::parse(e.trim()))
            .collect::<Vec<_>>()
    });
    Inspected {
        facts: ImageFacts {
            exists: true,
            engines,
            systemd: labels.get(labels::SYSTEMD).is_some_and(|v| v == "true"),
        },
        id: id.to_string(),
    }
}

/// Only the facts (for the doctor, which needs no ID).
pub fn facts(engine: &Engine, image: &str) -> Result<ImageFacts> {
    inspect(engine, image).map(|i| i.facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_say_which_engines_an_image_carries_and_whether_it_boots_systemd() {
        let i = parse(
            "sha256:ab12\t{\"io.dindbox.engines\":\"podman, docker\",\"io.dindbox.systemd\":\"true\"}\n",
        );
        assert_eq!(i.id, "sha256:ab12");
        assert!(i.facts.exists && i.facts.systemd);
        assert_eq!(
            i.facts.engines,
            Some(vec![EngineKind::Podman, EngineKind::Docker])
        );
    }

    #[test]
    fn an_image_without_labels_is_there_but_says_nothing() {
        // Docker prints `null` for an image with no labels; Podman `{}` or `map[]`.
        for labels in ["null", "{}"] {
            let i = parse(&format!("sha256:cd34\t{labels}"));
            assert!(i.facts.exists);
            assert_eq!(i.facts.engines, None);
            assert!(!i.facts.systemd);
        }
    }
}
