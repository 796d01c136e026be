//! The configuration file format: one struct, the source of the key names,
//! their types and the JSON Schema (`dindbox config schema`).

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A dindbox configuration file (global `config.toml`, a profile, or a
/// project's `.dindbox.toml`/`.dindbox.json`). Every key is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "dindbox configuration")]
pub struct FileConfig {
    /// Name of the sandbox (`-n`).
    pub container_name: Option<String>,
    /// common, sock or dind (`-m`).
    pub container_mode: Option<String>,
    /// Engine inside a dind sandbox: podman or docker (`--inner`).
    pub inner: Option<String>,
    /// Host engine: docker or podman (`--engine`).
    pub engine: Option<String>,
    /// Sandbox image (`--image`).
    pub image: Option<String>,
    /// The sandbox's network, as the engine names it: bridge, slirp4netns, none, host, or a network's name (`--network`).
    pub network: Option<String>,
    /// Remove the sandbox and its storage when the command ends (`--rm`).
    pub rm: Option<bool>,
    /// Give the sandbox every privilege the host has (`--privileged`).
    pub privileged: Option<bool>,
    /// Let the sandbox's root be the host's root instead of a user namespace of its own (`--host-root`).
    pub host_root: Option<bool>,
    /// Let an inner dockerd manage iptables itself (`--inner-iptables`; dind only).
    pub inner_iptables: Option<bool>,
    /// Seconds the inner engine may take to answer, 1 or more; default 60 (`--inner-timeout`; dind only).
    pub inner_timeout: Option<u64>,
    /// Image name without its tag; with `imageVersion`, an alternative to `image`.
    pub image_name: Option<String>,
    /// Image tag, used with `imageName`.
    pub image_version: Option<String>,
    /// Environment variables: a map, or a list of "KEY=VALUE" (`-e`).
    #[schemars(with = "EnvSchema")]
    pub env: Option<EnvMap>,
    /// Env files: a NAME means CONFIGDIR/env/NAME.env; a value with a `/` is a path (`--env-file`).
    pub env_file: Option<Vec<String>>,
    /// Bind mounts "HOSTPATH:CONTAINERPATH[:OPTIONS]" (`-v`).
    pub volumes: Option<Vec<String>>,
    /// Published ports "[IP:]HOSTPORT:CONTAINERPORT[/PROTOCOL]" (`-p`).
    pub ports: Option<Vec<String>>,
    /// Host directory mounted as the workspace (`--workspace`; default: the current directory).
    pub host_path: Option<String>,
    /// Where the workspace is mounted inside (`--container-path`; default: the host path).
    pub container_path: Option<String>,
    /// CPUs the sandbox may use (`--cpus`).
    pub cpus: Option<f64>,
    /// Memory limit: "512m", "2g", or a number of bytes (`--memory`).
    #[schemars(with = "SizeSchema")]
    pub memory: Option<Size>,
    /// Most processes at once (`--pids-limit`).
    pub pids: Option<u64>,
    /// OCI runtime for the sandbox (`--runtime`).
    pub runtime: Option<String>,
    /// Boot systemd as the sandbox's PID 1, the inner engine a unit of it (`--systemd`; dind only).
    pub systemd: Option<bool>,
    /// Agent preset run as the command: c|claude, gm|gemini, cx|codex, oc|opencode (`-y`).
    pub yolo: Option<String>,
    /// Shell command line to run (`-x`).
    pub command: Option<String>,
}

/// Every key, as the files spell it.
pub const KEYS: &[&str] = &[
    "containerName",
    "containerMode",
    "inner",
    "engine",
    "image",
    "network",
    "rm",
    "privileged",
    "hostRoot",
    "innerIptables",
    "innerTimeout",
    "imageName",
    "imageVersion",
    "env",
    "envFile",
    "volumes",
    "ports",
    "hostPath",
    "containerPath",
    "cpus",
    "memory",
    "pids",
    "runtime",
    "systemd",
    "yolo",
    "command",
];

/// The key as files spell it, for that spelling or its snake_case or kebab-case alias.
pub fn canonical(key: &str) -> Option<&'static str> {
    let mut camel = String::new();
    let mut upper = false;
    for c in key.chars() {
        if c == '_' || c == '-' {
            upper = true;
        } else if upper {
            camel.extend(c.to_uppercase());
            upper = false;
        } else {
            camel.push(c);
        }
    }
    KEYS.iter().find(|k| **k == key || **k == camel).copied()
}

/// Environment variables in file order; values kept as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnvMap(pub Vec<(String, String)>);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EnvSchema {
    Map(BTreeMap<String, String>),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for EnvMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EnvVisitor)
    }
}

struct EnvVisitor;

impl<'de> Visitor<'de> for EnvVisitor {
    type Value = EnvMap;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of variables to strings, or a list of \"KEY=VALUE\" strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvMap, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            let value = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(de::Error::custom(format!(
                        "env `{k}`: expected a string, found {}",
                        kind(&other)
                    )));
                }
            };
            out.push((k, value));
        }
        Ok(EnvMap(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnvMap, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            let Some((k, v)) = item.split_once('=') else {
                return Err(de::Error::custom(format!(
                    "env entry `{item}` has no `=`: write \"KEY=VALUE\""
                )));
            };
            out.push((k.to_string(), v.to_string()));
        }
        Ok(EnvMap(out))
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
        _ => "a scalar",
    }
}

/// A memory size: "512m", "1.5g", "1024k", or a number of bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Size(pub String);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SizeSchema {
    Text(String),
    Bytes(u64),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"512m\" or \"2g\", or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Size, E> {
                Ok(Size(s.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Size, E> {
                Ok(Size(n.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The JSON Schema of the file format.
pub fn schema() -> String {
    let schema = schemars::schema_for!(FileConfig);
    serde_json::to_string_pretty(&schema).expect("a schema always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_schemas_properties() {
        let schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
        let mut props: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = KEYS.to_vec();
        props.sort();
        keys.sort();
        assert_eq!(props, keys);
        assert_eq!(schema["additionalProperties"], false);
        for (key, kind) in [
            ("network", "string"),
            ("rm", "boolean"),
            ("privileged", "boolean"),
            ("hostRoot", "boolean"),
            ("innerIptables", "boolean"),
            ("innerTimeout", "integer"),
        ] {
            let types = &schema["properties"][key]["type"];
            assert!(types.to_string().contains(kind), "{key}: {types}");
        }
    }

    #[test]
    fn snake_and_kebab_spellings_are_aliases() {
        assert_eq!(canonical("containerMode"), Some("containerMode"));
        assert_eq!(canonical("container_mode"), Some("containerMode"));
        assert_eq!(canonical("env-file"), Some("envFile"));
        assert_eq!(canonical("containermode"), None);
        assert_eq!(canonical("inner_timeout"), Some("innerTimeout"));
        assert_eq!(canonical("inner-iptables"), Some("innerIptables"));
    }

    #[test]
    fn env_is_a_map_or_a_list_of_assignments() {
        let m: FileConfig = serde_json::from_str(r#"{"env": {"A": "1", "B": 2}}"#).unwrap();
        assert_eq!(
            m.env.unwrap().0,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        let l: FileConfig = serde_json::from_str(r#"{"env": ["CI=true", "X=a=b"]}"#).unwrap();
        assert_eq!(
            l.env.unwrap().0,
            vec![("CI".into(), "true".into()), ("X".into(), "a=b".into())]
        );
        let bad = serde_json::from_str::<FileConfig>(r#"{"env": ["CI"]}"#).unwrap_err();
        assert!(bad.to_string().contains("has no `=`"), "{bad}");
    }
}
