//! A sandbox's spec spelled as a Kubernetes Pod (or Deployment) manifest:
//! the only place Kubernetes' fields are written. The manifest is built as
//! typed structs, serialized with serde, and written as YAML by `yaml`
//! (block style; every string that YAML could read as anything else is a
//! JSON string, which YAML reads as it is).
//!
//! What the spec is, item by item, maps onto the container's
//! `securityContext` (capabilities dropped to none, then exactly the plan's
//! added; seccomp and AppArmor profiles; `privileged` only where the plan
//! says so; no-new-privileges as `allowPrivilegeEscalation: false`), the
//! pod's `hostUsers: false` where the sandbox has a root of its own, volumes
//! (the inner storage as an `emptyDir` or a claim), limits and ports. The
//! reasons are comments at the top, since serialized fields carry none; so
//! is what Kubernetes has no field for.
//!
//! The sandbox's environment is never in the manifest: the container reads
//! it from a Secret (`envFrom`), which `secret` spells for the caller to
//! write (mode 0600), or which the user makes with `kubectl create secret`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::init::INIT_PATH;
use crate::spec::{Limit, Mount, Privilege, SecurityOpt, Spec, UserNsMaker, Why};

/// The container's name in the pod.
pub const CONTAINER: &str = "sandbox";

/// Where the inner storage lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage<'a> {
    /// An `emptyDir`: gone with the pod.
    EmptyDir,
    /// A PersistentVolumeClaim of this name, each volume of the plan in a
    /// directory of its own on it (`subPath`).
    Claim(&'a str),
}

/// What the manifest is made from.
#[derive(Debug, Clone, Copy)]
pub struct Kube<'a> {
    pub name: &'a str,
    /// The sandbox's mode (for the description).
    pub mode: &'a str,
    /// The image, which carries dindbox's init at `INIT_PATH`.
    pub image: &'a str,
    /// The image the plan names, which that one is made from.
    pub base_image: &'a str,
    pub spec: &'a Spec,
    /// The arguments of the init: its role and its spec.
    pub exec: &'a [String],
    /// The capabilities the engine the plan was made for grants by default,
    /// which the plan counts on (`CAP_CHOWN` or `CHOWN`).
    pub default_caps: &'a [&'a str],
    pub storage: Storage<'a>,
    /// The RuntimeClass of the plan's runtime, where Kubernetes has one.
    pub runtime_class: Option<&'a Why<String>>,
    /// The Secret the environment is read from, and its variables' names.
    pub secret: Option<(&'a str, &'a [String])>,
    pub deployment: bool,
}

/// The manifest's file name for sandbox `name`.
pub fn file_name(name: &str) -> String {
    format!("dindbox-{name}.yaml")
}

/// The Secret's file name for sandbox `name`.
pub fn secret_file_name(name: &str) -> String {
    format!("dindbox-{name}-secret.yaml")
}

/// The name of the Secret that holds sandbox `name`'s environment.
pub fn secret_name(name: &str) -> String {
    format!("dindbox-{name}-env")
}

/// The pod's (or Deployment's) name.
pub fn object_name(name: &str) -> String {
    format!("dindbox-{name}")
}

/// A published port, `[IP:]HOSTPORT:CONTAINERPORT[/PROTOCOL]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Port {
    pub container_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
    pub protocol: String,
}

/// A port as Kubernetes takes it; None for what it cannot take (ranges).
pub fn port(spec: &str) -> Option<Port> {
    let (addr, protocol) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p.to_ascii_uppercase()),
        None => (spec, "TCP".to_string()),
    };
    if !["TCP", "UDP", "SCTP"].contains(&protocol.as_str()) {
        return None;
    }
    let mut parts = addr.rsplitn(3, ':');
    let container_port = parts.next()?.parse().ok()?;
    let host_port = match parts.next() {
        Some("") | None => None,
        Some(p) => Some(p.parse().ok()?),
    };
    let host_ip = parts
        .next()
        .map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_string());
    Some(Port {
        container_port,
        host_port,
        host_ip,
        protocol,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize, Default, Clone)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentSpec {
    replicas: u32,
    strategy: BTreeMap<&'static str, &'static str>,
    selector: Selector,
    template: Template,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Template {
    metadata: Metadata,
    spec: PodSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    host_users: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_class_name: Option<String>,
    hostname: String,
    restart_policy: &'static str,
    enable_service_links: bool,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: &'static str,
    image: String,
    image_pull_policy: &'static str,
    command: Vec<String>,
    args: Vec<String>,
    working_dir: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env_from: Vec<EnvFrom>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Resources>,
    security_context: SecurityContext,
    volume_mounts: Vec<VolumeMount>,
}

#[derive(Serialize)]
struct EnvVar {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvFrom {
    secret_ref: Named,
}

#[derive(Serialize)]
struct Named {
    name: String,
}

#[derive(Serialize)]
struct Resources {
    limits: BTreeMap<&'static str, String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct SecurityContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    privileged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_privilege_escalation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capabilities: Option<Capabilities>,
    seccomp_profile: Profile,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_armor_profile: Option<Profile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    se_linux_options: Option<BTreeMap<&'static str, &'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proc_mount: Option<&'static str>,
}

#[derive(Serialize)]
struct Capabilities {
    drop: Vec<String>,
    add: Vec<String>,
}

#[derive(Serialize, Default, Clone, PartialEq, Eq, Debug)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    localhost_profile: Option<String>,
}

impl Profile {
    fn of(kind: &'static str) -> Self {
        Profile {
            kind,
            localhost_profile: None,
        }
    }

    fn localhost(name: &str) -> Self {
        Profile {
            kind: "Localhost",
            localhost_profile: Some(name.to_string()),
        }
    }

    /// As the annotations of Podman's `kube play` (and Kubernetes before
    /// the fields) name it.
    fn annotation(&self) -> String {
        match (&self.localhost_profile, self.kind) {
            (Some(p), _) => format!("localhost/{p}"),
            (None, "Unconfined") => "unconfined".to_string(),
            (None, _) => "runtime/default".to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    name: String,
    mount_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_path: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    read_only: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_path: Option<HostPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty_dir: Option<BTreeMap<(), ()>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persistent_volume_claim: Option<Claim>,
}

#[derive(Serialize)]
struct HostPath {
    path: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Claim {
    claim_name: String,
}

/// The comments at the top: what the file is, and each item's reason.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, what: &str, why: &str) {
        self.0.push(format!("{what}: {why}"));
    }
}

/// A DNS label (RFC 1123), as Kubernetes names volumes.
pub fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The volumes and mounts of the spec.
fn volumes(k: &Kube, notes: &mut Notes) -> (Vec<Volume>, Vec<VolumeMount>) {
    let spec = k.spec;
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut add = |name: String, volume: Volume, target: &str, sub: Option<String>, ro: bool| {
        mounts.push(VolumeMount {
            name: name.clone(),
            mount_path: target.to_string(),
            sub_path: sub,
            read_only: ro,
        });
        volumes.push(Volume { name, ..volume });
    };
    let host = |path: &str| Volume {
        name: String::new(),
        host_path: Some(HostPath {
            path: path.to_string(),
        }),
        empty_dir: None,
        persistent_volume_claim: None,
    };
    let empty = || Volume {
        empty_dir: Some(BTreeMap::new()),
        host_path: None,
        ..host("")
    };
    let (outside, inside) = &spec.workspace.value;
    notes.add("workspace (hostPath)", &spec.workspace.why);
    add("workspace".into(), host(outside), inside, None, false);
    let binds = spec.binds.iter().map(|b| ("bind", b));
    let recipe = spec.mounts.iter().map(|m| ("mount", m));
    for (i, (kind, m)) in binds.chain(recipe).enumerate() {
        // Podman makes a volume of each emptyDir by the volume's name:
        // the sandbox's name is in it, as in the plan's own volumes.
        let name = match &m.value {
            Mount::Volume { name, .. } if dns_label(name) => name.clone(),
            _ => format!("{}-{kind}-{i}", k.name),
        };
        match &m.value {
            Mount::Bind {
                source,
                target,
                options,
            } => {
                let ro = options
                    .as_deref()
                    .is_some_and(|o| o.split(',').any(|o| o == "ro"));
                notes.add(&format!("{name} (hostPath {source})"), &m.why);
                add(name, host(source), target, None, ro);
            }
            Mount::Volume {
                name: volume,
                target,
            } => match k.storage {
                Storage::EmptyDir => {
                    notes.add(&format!("{name} (emptyDir)"), &m.why);
                    add(name, empty(), target, None, false);
                }
                Storage::Claim(claim) => {
                    notes.add(&format!("{name} (claim {claim}, subPath {volume})"), &m.why);
                    let v = Volume {
                        persistent_volume_claim: Some(Claim {
                            claim_name: claim.to_string(),
                        }),
                        host_path: None,
                        ..host("")
                    };
                    add(name, v, target, Some(volume.clone()), false);
                }
            },
            Mount::Anonymous { target } => {
                notes.add(&format!("{name} (emptyDir)"), &m.why);
                add(name, empty(), target, None, false);
            }
        }
    }
    (volumes, mounts)
}

/// The container's securityContext, and the annotations of its profiles.
fn security(k: &Kube, notes: &mut Notes) -> (SecurityContext, BTreeMap<String, String>) {
    let spec = k.spec;
    let mut sc = SecurityContext {
        seccomp_profile: Profile::of("RuntimeDefault"),
        ..Default::default()
    };
    let short = |c: &str| c.strip_prefix("CAP_").unwrap_or(c).to_string();
    let mut add: Vec<String> = k.default_caps.iter().map(|c| short(c)).collect();
    notes.add(
        "capabilities: every one dropped, then the engine's defaults added",
        "the plan counts on them, and the cluster's runtime may grant others",
    );
    for group in &spec.privileges {
        let mut what = Vec::new();
        for p in &group.value {
            match p {
                Privilege::All => {
                    sc.privileged = Some(true);
                    what.push("privileged".to_string());
                }
                Privilege::Cap(c) => {
                    if !add.contains(&short(c)) {
                        add.push(short(c));
                    }
                    what.push(format!("capability {}", short(c)));
                }
                Privilege::Security(opt) => what.push(match opt {
                    SecurityOpt::NoLabel => {
                        sc.se_linux_options = Some(BTreeMap::from([("type", "spc_t")]));
                        "seLinuxOptions type spc_t".to_string()
                    }
                    SecurityOpt::SeccompUnconfined => {
                        sc.seccomp_profile = Profile::of("Unconfined");
                        "seccompProfile Unconfined".to_string()
                    }
                    SecurityOpt::SeccompProfile(path) => {
                        let file = path.file_name().map_or_else(
                            || path.display().to_string(),
                            |f| f.to_string_lossy().into_owned(),
                        );
                        sc.seccomp_profile = Profile::localhost(&file);
                        format!(
                            "seccompProfile Localhost {file} (on each node in the kubelet's seccomp directory, /var/lib/kubelet/seccomp: `dindbox confine seccomp > /var/lib/kubelet/seccomp/{file}`)"
                        )
                    }
                    SecurityOpt::ApparmorUnconfined => {
                        sc.app_armor_profile = Some(Profile::of("Unconfined"));
                        "appArmorProfile Unconfined".to_string()
                    }
                    SecurityOpt::Apparmor(name) => {
                        sc.app_armor_profile = Some(Profile::localhost(name));
                        format!(
                            "appArmorProfile Localhost {name} (loaded on each node: `dindbox confine apparmor | apparmor_parser -r`)"
                        )
                    }
                    SecurityOpt::UnmaskPaths => {
                        sc.proc_mount = Some("Unmasked");
                        "procMount Unmasked".to_string()
                    }
                    SecurityOpt::NoNewPrivileges => {
                        sc.allow_privilege_escalation = Some(false);
                        "allowPrivilegeEscalation false".to_string()
                    }
                }),
                Privilege::DeviceRule(rule) => what.push(format!(
                    "device cgroup rule {rule}: Kubernetes has no field for it (the runtime's defaults apply)"
                )),
                Privilege::PrivateCgroupNs => {
                    what.push("a private cgroup namespace (the runtime's default on cgroup v2)".into())
                }
            }
        }
        notes.add(&what.join(", "), &group.why);
    }
    if sc.privileged.is_none() {
        sc.capabilities = Some(Capabilities {
            drop: vec!["ALL".into()],
            add,
        });
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        format!("container.seccomp.security.alpha.kubernetes.io/{CONTAINER}"),
        sc.seccomp_profile.annotation(),
    );
    if let Some(p) = &sc.app_armor_profile {
        annotations.insert(
            format!("container.apparmor.security.beta.kubernetes.io/{CONTAINER}"),
            p.annotation(),
        );
    }
    (sc, annotations)
}

/// The manifest's text.
pub fn manifest(k: &Kube) -> String {
    let spec = k.spec;
    let mut notes = Notes::default();
    let (security_context, mut annotations) = security(k, &mut notes);
    let (volumes, volume_mounts) = volumes(k, &mut notes);
    let mut env = Vec::new();
    for group in &spec.env {
        let names: Vec<&str> = group.value.iter().map(|v| v.name.as_str()).collect();
        notes.add(&format!("env {}", names.join(", ")), &group.why);
        env.extend(group.value.iter().map(|v| EnvVar {
            name: v.name.clone(),
            value: v.value.clone(),
        }));
    }
    let env_from = match k.secret {
        Some((name, vars)) => {
            notes.add(
                &format!("envFrom Secret {name} ({})", vars.join(", ")),
                "the sandbox's environment: its values are secrets, never in this file",
            );
            vec![EnvFrom {
                secret_ref: Named {
                    name: name.to_string(),
                },
            }]
        }
        None => Vec::new(),
    };
    let ports = spec
        .ports
        .iter()
        .filter_map(|p| {
            notes.add(&format!("port {}", p.value), &p.why);
            port(&p.value)
        })
        .collect();
    let mut limits = BTreeMap::new();
    for l in &spec.limits {
        match &l.value {
            Limit::Cpus(c) => {
                limits.insert("cpu", c.clone());
                notes.add(&format!("cpu limit {c}"), &l.why);
            }
            Limit::Memory(m) => {
                limits.insert("memory", m.to_string());
                notes.add(&format!("memory limit {m}"), &l.why);
            }
            Limit::Pids(n) => notes.add(
                &format!("at most {n} processes: the kubelet's podPidsLimit, no field of a pod"),
                &l.why,
            ),
            Limit::MemlockUnlimited => notes.add(
                "no memlock limit: Kubernetes has no field for it (the runtime's default applies)",
                &l.why,
            ),
        }
    }
    if let Some(ul) = &spec.ulimits {
        notes.add(
            &format!(
                "nofile {} and nproc {}: Kubernetes has no field for them (the runtime's defaults apply)",
                ul.value.nofile, ul.value.nproc
            ),
            &ul.why,
        );
    }
    if let Some(net) = &spec.network {
        notes.add(
            &format!("network {}: the pod's network instead", net.value),
            &net.why,
        );
    }
    if let Some(userns) = &spec.userns {
        let what = match userns.value.made_by {
            UserNsMaker::Engine => {
                "hostUsers false (the kubelet picks the ids of the user namespace; `podman kube play` takes them as `--userns=auto` does, from the `containers` entry of /etc/subuid and /etc/subgid, e.g. `containers:2147483647:2147483648`)"
            }
            UserNsMaker::Init => {
                "the init makes the user namespace inside the pod, as in the sandbox"
            }
        };
        notes.add(what, &userns.why);
    }
    if let Some(class) = k.runtime_class {
        notes.add(&format!("runtimeClassName {}", class.value), &class.why);
    } else if let Some(r) = &spec.runtime {
        notes.add(
            &format!(
                "runtime {}: the node's runtime instead (a RuntimeClass of the cluster's)",
                r.value
            ),
            &r.why,
        );
    }
    for f in &spec.runtime_flags {
        notes.add(
            &format!(
                "runtime flag {}: set on the RuntimeClass's handler",
                f.value
            ),
            &f.why,
        );
    }
    // What the sandbox was made from stays in comments: Podman takes no
    // annotation longer than a label's 63 characters.
    annotations.extend(spec.marks.value.iter().cloned());
    for labels in &spec.labels {
        let made: Vec<String> = labels
            .value
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        notes.add(&format!("made from {}", made.join(", ")), &labels.why);
    }
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "dindbox".to_string()),
        ("app.kubernetes.io/instance".to_string(), k.name.to_string()),
    ]);
    let container = Container {
        name: CONTAINER,
        image: k.image.to_string(),
        image_pull_policy: "IfNotPresent",
        command: vec![INIT_PATH.to_string()],
        args: k.exec.to_vec(),
        working_dir: inside(spec),
        env,
        env_from,
        ports,
        resources: (!limits.is_empty()).then_some(Resources { limits }),
        security_context,
        volume_mounts,
    };
    let pod = PodSpec {
        host_users: spec
            .userns
            .as_ref()
            .filter(|u| u.value.made_by == UserNsMaker::Engine)
            .map(|_| false),
        runtime_class_name: k.runtime_class.map(|c| c.value.clone()),
        hostname: spec.hostname.value.clone(),
        restart_policy: "Always",
        enable_service_links: false,
        containers: vec![container],
        volumes,
    };
    let metadata = Metadata {
        name: Some(object_name(k.name)),
        labels: labels.clone(),
        annotations,
    };
    let value = if k.deployment {
        let template = Template {
            metadata: Metadata {
                name: None,
                ..metadata.clone()
            },
            spec: pod,
        };
        serde_json::to_value(Object {
            api_version: "apps/v1",
            kind: "Deployment",
            metadata: Metadata {
                annotations: BTreeMap::new(),
                ..metadata
            },
            spec: DeploymentSpec {
                replicas: 1,
                strategy: BTreeMap::from([("type", "Recreate")]),
                selector: Selector {
                    match_labels: labels,
                },
                template,
            },
        })
    } else {
        serde_json::to_value(Object {
            api_version: "v1",
            kind: "Pod",
            metadata,
            spec: pod,
        })
    }
    .expect("a manifest serializes");
    let mut out = header(k);
    out.push_str("#\n# Each item of the plan, with its reason:\n");
    for n in &notes.0 {
        out.push_str(&comment(&format!("- {n}")));
    }
    out.push_str(&yaml(&value));
    out
}

/// How long `enter` waits for the inner engine, as the plan's label says.
fn timeout_ms(spec: &Spec) -> &str {
    spec.labels
        .iter()
        .flat_map(|l| l.value.iter())
        .find(|(k, _)| k == crate::spec::labels::TIMEOUT)
        .map_or("60000", |(_, v)| v.as_str())
}

fn inside(spec: &Spec) -> String {
    spec.workspace.value.1.clone()
}

fn header(k: &Kube) -> String {
    let object = object_name(k.name);
    let kind = if k.deployment { "Deployment" } else { "Pod" };
    let mut out = String::new();
    for line in [
        format!(
            "{}: the dindbox sandbox {} ({} mode) as a Kubernetes {kind}, {object}.",
            file_name(k.name),
            k.name,
            k.mode
        ),
        format!(
            "Run it: `kubectl apply -f {0}`, or on this host `podman kube play {0}` (`podman kube down {0}` stops and removes it).",
            file_name(k.name)
        ),
        format!(
            "The image {} is {} with dindbox's init added at {INIT_PATH} (made by `dindbox export kube`, on this host only): push it to a registry the cluster pulls from, and name it below.",
            k.image, k.base_image
        ),
        format!(
            "Commands run in the sandbox through its init, which waits for the inner engine: `kubectl exec {object} -- {INIT_PATH} enter --timeout-ms {} -- CMD`.",
            timeout_ms(k.spec)
        ),
    ] {
        out.push_str(&comment(&line));
    }
    let seccomp_root = k.spec.privilege_items().find_map(|p| match p {
        Privilege::Security(SecurityOpt::SeccompProfile(path)) => path.parent(),
        _ => None,
    });
    let mut play = Vec::new();
    if podman_conf(k.name, k.spec).is_some() {
        play.push(format!(
            "CONTAINERS_CONF_OVERRIDE={} (before Podman 4.4: CONTAINERS_CONF)",
            podman_conf_file_name(k.name)
        ));
    }
    play.push("podman kube play".to_string());
    if let Some(root) = seccomp_root {
        play.push(format!("--seccomp-profile-root {}", root.display()));
    }
    play.push(file_name(k.name));
    out.push_str(&comment(&format!(
        "On the host it was planned on, as planned: `{}` (`--output DIR` writes the containers.conf it names, with the limits and the runtime that a pod has no field for).",
        play.join(" ")
    )));
    if let Some((name, _)) = k.secret {
        out.push_str(&comment(&format!(
            "The environment is the Secret {name}, which must exist before the pod starts."
        )));
    }
    out
}

/// The file name of what `podman kube play` needs on top of the manifest.
pub fn podman_conf_file_name(name: &str) -> String {
    format!("dindbox-{name}-containers.conf")
}

/// What the spec sets that a pod has no field for and Podman reads from a
/// containers.conf (limits within the host's hard limits, the runtime):
/// for `podman kube play` on the host the plan was made on. None where the
/// spec sets none of it.
pub fn podman_conf(name: &str, spec: &Spec) -> Option<String> {
    let mut ulimits = Vec::new();
    if let Some(ul) = &spec.ulimits {
        ulimits.push(format!("nofile={0}:{0}", ul.value.nofile));
        ulimits.push(format!("nproc={0}:{0}", ul.value.nproc));
    }
    if spec
        .limits
        .iter()
        .any(|l| l.value == Limit::MemlockUnlimited)
    {
        ulimits.push("memlock=-1:-1".to_string());
    }
    if ulimits.is_empty() && spec.runtime.is_none() {
        return None;
    }
    let quoted = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "# {}: what the sandbox {name} is planned with that a pod has no field for, for `podman kube play` on this host:\n# CONTAINERS_CONF_OVERRIDE=THIS_FILE podman kube play ... (Podman before 4.4: CONTAINERS_CONF=THIS_FILE)\n",
        podman_conf_file_name(name)
    );
    if !ulimits.is_empty() {
        let list: Vec<String> = ulimits.iter().map(|u| quoted(u)).collect();
        out.push_str(&format!(
            "[containers]\ndefault_ulimits = [{}]\n",
            list.join(", ")
        ));
    }
    if let Some(r) = &spec.runtime {
        out.push_str(&format!("[engine]\nruntime = {}\n", quoted(&r.value)));
    }
    Some(out)
}

/// A comment, wrapped at about 100 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split(' ') {
        if line.len() + word.len() > 100 && line.len() > 4 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A Secret of the sandbox's environment (`vars`: name and value), for the
/// caller to write mode 0600.
pub fn secret(name: &str, vars: &[(String, String)]) -> String {
    let data: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let value = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(name),
            "labels": {
                "app.kubernetes.io/name": "dindbox",
                "app.kubernetes.io/instance": name,
            },
        },
        "type": "Opaque",
        "stringData": data,
    });
    let mut out = comment(&format!(
        "{}: the environment of the dindbox sandbox {name}. Its values are secrets: keep this file private (mode 0600).",
        secret_file_name(name)
    ));
    out.push_str(&yaml(&value));
    out
}

/// A value as block-style YAML.
pub fn yaml(value: &serde_json::Value) -> String {
    let mut out = String::new();
    block(value, 0, &mut out);
    out
}

fn block(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push_str(&format!("{pad}{}:", scalar(&Value::String(k.clone()))));
                nested(v, indent + 2, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // The first key on the dash's line, the rest under it.
                        let mut text = String::new();
                        block(item, indent + 2, &mut text);
                        out.push(' ');
                        out.push_str(&text[indent + 2..]);
                    }
                    _ => nested(item, indent + 2, out),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// What follows a key or a dash: a scalar on the same line, else a block.
fn nested(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            block(value, indent, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            block(value, indent, out);
        }
        other => out.push_str(&format!(" {}\n", scalar(other))),
    }
}

fn scalar(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) if plain(s) => s.clone(),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        other => other.to_string(),
    }
}

/// A string YAML reads as that string when written plainly.
fn plain(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let first = s.chars().next();
    first.is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use crate::plan::{Mode, Request};
    use crate::probe::fixtures;
    use crate::spec::UserNs;

    fn exec() -> Vec<String> {
        vec!["init".into(), "--spec".into(), r#"{"a":"b: c"}"#.into()]
    }

    fn kube<'a>(spec: &'a Spec, exec: &'a [String]) -> Kube<'a> {
        Kube {
            name: "work",
            mode: "dind",
            image: "localhost/dindbox/kube-sandbox:0.1.0",
            base_image: "localhost/dindbox/sandbox:0.1.0",
            spec,
            exec,
            default_caps: &["CAP_CHOWN", "CAP_KILL"],
            storage: Storage::EmptyDir,
            runtime_class: None,
            secret: None,
            deployment: false,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::trim)
            .collect()
    }

    /// The plan of a kept sandbox on a fixture host, as `export kube` plans it.
    fn planned(mode: Mode, host: &crate::probe::facts::HostFacts) -> crate::plan::Plan {
        let mut req = Request::new(
            mode,
            "localhost/dindbox/sandbox:0.1.0",
            "work",
            "/home/u/project".into(),
            "/usr/local/bin/dindbox".into(),
        );
        req.engine = Some(EngineKind::Podman);
        req.rm = false;
        req.named = true;
        req.profiles_dir = "/root/.cache/dindbox/profiles".into();
        let image = crate::plan::ImageFacts {
            exists: true,
            engines: Some(vec![EngineKind::Podman, EngineKind::Docker]),
            systemd: false,
        };
        crate::plan::make(&req, host, &image).unwrap_or_else(|e| panic!("refused: {e}"))
    }

    fn snapshot_of(plan: &crate::plan::Plan, storage: Storage, deployment: bool) -> String {
        let exec = plan.init_args();
        manifest(&Kube {
            mode: plan.mode.name(),
            storage,
            deployment,
            default_caps: EngineKind::Podman.default_caps(),
            ..kube(&plan.spec, &exec)
        })
    }

    #[test]
    fn a_dind_sandbox_on_debian_13_rootful_podman() {
        let plan = planned(Mode::Dind, &fixtures::debian13_rootful());
        let text = snapshot_of(&plan, Storage::EmptyDir, false);
        assert!(lines(&text).contains(&"hostUsers: false"), "{text}");
        insta::assert_snapshot!("kube-dind-debian13-rootful", text);
    }

    #[test]
    fn a_dind_sandbox_on_this_machines_podman_as_a_deployment_with_a_claim() {
        let plan = planned(Mode::Dind, &fixtures::this_machine());
        let text = snapshot_of(&plan, Storage::Claim("work-storage"), true);
        let l = lines(&text);
        assert!(!l.contains(&"hostUsers: false"), "the host's root:\n{text}");
        assert!(l.contains(&"type: Localhost"), "{text}");
        insta::assert_snapshot!("kube-dind-this-machine-deployment", text);
    }

    #[test]
    fn capabilities_are_dropped_then_exactly_the_plans_added() {
        let mut s = crate::plan::tests::sample_plan().spec;
        s.privileges = vec![Why::new(
            vec![
                Privilege::Cap("SYS_ADMIN".into()),
                Privilege::Cap("CHOWN".into()),
                Privilege::Security(SecurityOpt::NoNewPrivileges),
                Privilege::Security(SecurityOpt::SeccompProfile(
                    "/p/seccomp-nesting-1.json".into(),
                )),
                Privilege::Security(SecurityOpt::Apparmor("dindbox-nesting-1".into())),
            ],
            "nesting",
        )];
        let exec = exec();
        let text = manifest(&kube(&s, &exec));
        assert!(
            text.contains(
                "capabilities:\n          add:\n            - CHOWN\n            - KILL\n            - SYS_ADMIN\n          drop:\n            - ALL\n"
            ),
            "{text}"
        );
        let l = lines(&text);
        for want in [
            "allowPrivilegeEscalation: false",
            "localhostProfile: seccomp-nesting-1.json",
            "localhostProfile: dindbox-nesting-1",
            "container.seccomp.security.alpha.kubernetes.io/sandbox: localhost/seccomp-nesting-1.json",
            "container.apparmor.security.beta.kubernetes.io/sandbox: localhost/dindbox-nesting-1",
            "seccompProfile:",
        ] {
            assert!(l.contains(&want), "no {want:?} in:\n{text}");
        }
        assert!(!text.contains("privileged: true"), "{text}");
        assert!(!text.contains("hostUsers"), "{text}");
    }

    #[test]
    fn privileged_only_where_the_plan_is() {
        let mut s = crate::plan::tests::sample_plan().spec;
        s.privileges = vec![Why::new(vec![Privilege::All], "asked for")];
        s.userns = Some(Why::new(
            UserNs {
                uids: vec![],
                gids: vec![],
                idmap_mounts: false,
                made_by: UserNsMaker::Engine,
            },
            "its own root",
        ));
        let exec = exec();
        let class = Why::new("gvisor".to_string(), "asked for");
        let text = manifest(&Kube {
            runtime_class: Some(&class),
            ..kube(&s, &exec)
        });
        let l = lines(&text);
        assert!(l.contains(&"runtimeClassName: gvisor"), "{text}");
        assert!(l.contains(&"privileged: true"), "{text}");
        assert!(!l.contains(&"- ALL"), "{text}");
        assert!(l.contains(&"hostUsers: false"), "{text}");
    }

    #[test]
    fn the_environment_is_a_secret_reference_and_plain_values_stay() {
        let s = crate::plan::tests::sample_plan().spec;
        let exec = exec();
        let names = ["TOKEN".to_string()];
        let text = manifest(&Kube {
            secret: Some(("dindbox-work-env", &names)),
            ..kube(&s, &exec)
        });
        assert!(
            text.contains("envFrom:\n        - secretRef:\n            name: dindbox-work-env\n"),
            "{text}"
        );
        let secret = secret("work", &[("TOKEN".into(), "s3: cr#t".into())]);
        assert!(
            secret.contains("stringData:\n  TOKEN: \"s3: cr#t\"\n"),
            "{secret}"
        );
        assert!(secret.contains("name: dindbox-work-env\n"), "{secret}");
    }

    #[test]
    fn ports_are_read_as_kubernetes_takes_them() {
        assert_eq!(
            port("127.0.0.1:8080:80/udp"),
            Some(Port {
                container_port: 80,
                host_port: Some(8080),
                host_ip: Some("127.0.0.1".into()),
                protocol: "UDP".into()
            })
        );
        assert_eq!(port("80").unwrap().host_port, None);
        assert_eq!(port("8080:80").unwrap().host_port, Some(8080));
        assert_eq!(port("8000-8010:8000-8010"), None);
        assert_eq!(port("80/icmp"), None);
    }

    #[test]
    fn strings_yaml_could_misread_are_quoted() {
        let v = serde_json::json!({
            "a": "plain/path-1.2_x",
            "b": "yes",
            "c": "1",
            "d": "{\"x\": 1}",
            "e": [],
            "f": {},
            "g": [{"h": 1, "i": [true]}],
            "j": "",
        });
        assert_eq!(
            yaml(&v),
            "a: plain/path-1.2_x\nb: \"yes\"\nc: \"1\"\nd: \"{\\\"x\\\": 1}\"\ne: []\nf: {}\ng:\n  - h: 1\n    i:\n      - true\nj: \"\"\n"
        );
    }
}
