//! Whose root the sandbox's root is: never the host's, unless asked for
//! (`--host-root`, `--privileged`). On rootful Podman 5 a sandbox gets a user
//! namespace of its own from Podman: its uid 0 is the person who ran dindbox
//! (so the files it makes in the workspace are theirs), its other ids a
//! subordinate range of theirs from /etc/subuid and /etc/subgid, and the
//! kernel refuses it whatever only the host's root may do (tracing, BPF,
//! modules, raw disks, kernel settings), capabilities or not. Docker gives a
//! container no user namespace of its own, and Podman 4 cannot give one that
//! keeps the workspace its owners': there dindbox's init makes it. Rootless
//! Podman's sandboxes are in the user's namespace already. Where no way
//! works (`--systemd`, a network namespace that is not the sandbox's own,
//! a remote engine), the plan is refused with the fix, and the host-root
//! recipe is one of them, named.

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{EngineFacts, HostFacts, Invoker, SubIdRange};
use crate::spec::images::ShiftedImage;
use crate::spec::init::InitUserNs;
use crate::spec::{IdRange, Privilege, UserNs, UserNsMaker, Why};

use super::runtime::Family;
use super::{Mode, Plan, Request};

/// The ids a sandbox's namespace has: 0 to 65535, as rootless Podman gives
/// a container (room for the nobody user, 65534, of the images nested inside).
pub const SIZE: u64 = 65536;

/// What the user is told where the sandbox's root is the host's.
fn host_root_note(why: &str) -> String {
    format!(
        "the sandbox's root is the host's root ({why}): whatever runs inside as root can reach the host's kernel interfaces and every file it is given, as far as its capabilities go"
    )
}

pub fn apply(plan: &mut Plan, req: &Request, host: &HostFacts, engine: &EngineFacts) -> Result<()> {
    if engine.rootless {
        return Ok(());
    }
    let family = Family::of_request(req);
    let asked = if req.privileged {
        Some("asked for with --privileged")
    } else if req.host_root {
        Some("asked for with --host-root (hostRoot)")
    } else {
        None
    };
    if let Some(why) = asked {
        plan.notes.push(host_root_note(why));
        return Ok(());
    }
    if let Some(f) = family.filter(|f| f.isolates_by_itself()) {
        plan.notes.push(format!("{}: the sandbox's root is not the host's root by the runtime's own means, so dindbox adds no user namespace of its own", f.title()));
        return Ok(());
    }
    if req.mode == Mode::Sock {
        plan.notes.push(host_root_note("sock mode hands the sandbox the host engine, which can do as the host's root whatever the sandbox's root is"));
        return Ok(());
    }
    let cannot = if engine.remote {
        Some(Cannot::new(
            "the engine runs on another machine, whose subordinate ids this host does not know",
        ))
    } else if req.systemd && req.mode == Mode::Dind {
        Some(Cannot::new("--systemd boots systemd as the sandbox's PID 1 with the host's cgroups, which dindbox does not yet set up in a user namespace of the sandbox's own").hint("drop --systemd: the inner engine is then started by dindbox's init"))
    } else if engine.kind == EngineKind::Docker {
        init_cannot(req, host, engine.kind)
    } else {
        None
    };
    let who = host.invoker();
    // Where this Podman cannot make the namespace so that the workspace stays
    // its owners', dindbox's init makes it, as on Docker.
    let podman_cannot = (cannot.is_none() && engine.kind == EngineKind::Podman)
        .then(|| cannot_keep_owners(plan, req.runtime.as_deref(), host, engine, &who))
        .flatten();
    let cannot = match (cannot, &podman_cannot) {
        (Some(c), _) => Some(c),
        (None, Some(why)) => init_cannot(req, host, engine.kind).map(|c| c.after(why)),
        (None, None) => None,
    };
    if let Some(c) = cannot {
        return Err(c.refusal());
    }
    let (map, note) = id_map(host, &who);
    plan.notes.extend(note);
    let (uid, gid) = map.root();
    let why = if who.uid == 0 {
        format!(
            "the sandbox's own user namespace: its root is not the host's root, but host ids {uid}–{} (root's subordinate range), so the kernel refuses it what only the host's root may do; the workspace and bind mounts are id-mapped, so their files keep their owners",
            uid + SIZE - 1
        )
    } else {
        format!(
            "the sandbox's own user namespace: its root is you ({}, uid {uid}, gid {gid}), so the files it makes in the workspace are yours; its other ids are your subordinate range; the kernel refuses it what only the host's root may do",
            who.name.as_deref().unwrap_or("the invoking user")
        )
    };
    if let Some(podman) = podman_cannot {
        plan.notes.push(format!(
            "{podman}: dindbox's init makes the sandbox's user namespace instead, as on Docker"
        ));
        by_init(plan, req, host, engine, map, why);
    } else if engine.kind == EngineKind::Docker {
        by_init(plan, req, host, engine, map, why);
    } else {
        plan.spec.userns = Some(Why::new(map, why));
    }
    Ok(())
}

/// Why the sandbox cannot have a user namespace of its own, and what to do.
struct Cannot {
    why: String,
    hints: Vec<String>,
}

impl Cannot {
    fn new(why: impl Into<String>) -> Self {
        Cannot {
            why: why.into(),
            hints: Vec::new(),
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The same, after a first reason (the engine's own way was out already).
    fn after(mut self, first: &str) -> Self {
        self.why = format!("{first}; {}", self.why);
        self
    }

    /// The refusal: the host-root recipe is there only when asked for.
    fn refusal(self) -> Error {
        let mut err = Error::refused("this sandbox cannot have a user namespace of its own, so its root would be the host's root")
            .cause(self.why);
        for hint in self.hints {
            err = err.hint(hint);
        }
        err.hint("or ask for the host's root with `--host-root` (config key hostRoot): whatever runs inside as root can then reach the host's kernel interfaces")
    }
}

/// Why dindbox's init cannot make the sandbox's user namespace (`by_init`),
/// if so: where it lacks the capabilities to, or the sandbox has no network
/// of its own whose interfaces it could move into the namespace.
fn init_cannot(req: &Request, host: &HostFacts, engine: EngineKind) -> Option<Cannot> {
    let missing: Vec<&str> = OUTSIDE_ONLY
        .iter()
        .map(|(cap, _)| *cap)
        .filter(|cap| !host.has_cap(&format!("CAP_{cap}")))
        .collect();
    if req.mode == Mode::Common && !missing.is_empty() {
        return Some(Cannot::new(format!(
            "dindbox's init needs {} to make the sandbox's user namespace, which this host's bounding set lacks",
            missing.join(", ")
        )).hint("run dindbox where the bounding set is complete (not inside an unprivileged container)"));
    }
    let net = req.network.as_deref()?;
    let drop_it = format!(
        "drop `--network {net}`: the sandbox's own network namespace can be moved into the user namespace"
    );
    match net {
        "bridge" | "default" | "none" | "slirp4netns" => None,
        "host" => Some(Cannot::new("with --network host the sandbox has no network interfaces of its own to move into a user namespace").hint(drop_it)),
        _ if net.starts_with("container:") => Some(Cannot::new(format!("with --network {net} the network namespace is another container's")).hint(drop_it)),
        _ if engine == EngineKind::Podman => None,
        _ => Some(Cannot::new(format!("on the user-defined network `{net}`, Docker's resolver at 127.0.0.11 answers only in the sandbox's first network namespace, not in a user namespace's; the default bridge network has none")).hint(format!("{drop_it}, and publish ports (-p) to reach other containers"))),
    }
}

/// What the init of a common sandbox needs to make the user namespace,
/// held by it alone outside (everything inside has them dropped).
const OUTSIDE_ONLY: [(&str, &str); 2] = [
    (
        "SYS_ADMIN",
        "the init's alone, outside the user namespace it makes (dropped from everything inside): new namespaces, and the bind and id-mapped mounts it sets up",
    ),
    (
        "NET_ADMIN",
        "the init's alone, outside the user namespace it makes (dropped from everything inside): it moves the sandbox's interfaces into the namespace's network",
    ),
];

/// Docker: the init makes the user namespace and runs everything in it. The
/// image's files must be owned by the namespace's ids (Docker cannot id-map
/// an image's overlay), so the sandbox runs from a copy of the image with
/// its owners shifted, made once per id map; where root runs dindbox, the
/// workspace and bind mounts are id-mapped by the init.
fn by_init(
    plan: &mut Plan,
    req: &Request,
    host: &HostFacts,
    engine: &EngineFacts,
    mut map: UserNs,
    why: String,
) {
    let idmap = if map.idmap_mounts {
        outermost(
            std::iter::once(plan.spec.workspace.value.1.clone())
                .chain(plan.spec.binds.iter().filter_map(|b| match &b.value {
                    crate::spec::Mount::Bind { target, .. } => Some(target.clone()),
                    _ => None,
                }))
                .collect(),
        )
    } else {
        Vec::new()
    };
    map.idmap_mounts = false;
    map.made_by = UserNsMaker::Init;
    let shift = ShiftedImage::new(&req.image, &map.uids, &map.gids);
    plan.notes.push(format!(
        "{} runs the sandbox from {}, a copy of {} whose files' owners are shifted into the user namespace's ids (made once, then reused)",
        match plan.engine {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "Podman",
        },
        shift.tag,
        shift.source
    ));
    plan.image = shift.tag.clone();
    plan.shift = Some(shift);
    let common = req.mode == Mode::Common;
    if common {
        for (cap, why) in OUTSIDE_ONLY {
            plan.spec
                .privileges
                .push(Why::new(vec![Privilege::Cap(cap.to_string())], why));
        }
        // The init holds the capabilities: dindbox's profiles confine it as
        // they do a dind sandbox's (Docker's default AppArmor profile denies
        // the mounts it makes).
        super::confine::apply(plan, req, host, engine);
    }
    plan.inner.userns = Some(InitUserNs {
        uids: map.uids.clone(),
        gids: map.gids.clone(),
        idmap,
        // Nested containers' proc and sysfs: dind only.
        unmask: !common,
        outside_only: if common {
            OUTSIDE_ONLY.iter().map(|(c, _)| c.to_string()).collect()
        } else {
            Vec::new()
        },
    });
    plan.spec.userns = Some(Why::new(
        map,
        format!(
            "{why}. dindbox's init makes it: the init stays outside, and every process of the sandbox runs inside"
        ),
    ));
}

/// Why this Podman could not keep the workspace's files their owners' in a
/// user namespace (without which its root could not write them), if so:
/// a user's map has two ranges (them, then their subordinate ids), which
/// Podman 4 cannot start (`creating overlay mount to .../mapped/0/...: no
/// such file or directory`, measured on Podman 4.3); root's map is one range
/// with the workspace id-mapped, which the runtime must do (crun; runc from 1.2).
fn cannot_keep_owners(
    plan: &Plan,
    req_runtime: Option<&str>,
    host: &HostFacts,
    engine: &EngineFacts,
    who: &Invoker,
) -> Option<String> {
    let version = engine.server_version.as_deref().unwrap_or("?");
    if who.uid != 0 {
        return (crate::engine::major_version(engine.server_version.as_deref()) < 5).then(|| format!(
            "Podman {version} cannot start a container whose id map has two ranges, which mapping the sandbox's root to you needs so that the workspace stays yours; Podman 5 can"
        ));
    }
    let runtime = req_runtime
        .or(plan.spec.runtime.as_ref().map(|r| r.value.as_str()))
        .or(engine.default_runtime.as_deref())
        .unwrap_or("crun");
    let runc_version = host.runtime("runc").and_then(|r| r.version.as_deref());
    let idmaps = match runtime {
        "crun" => true,
        "runc" => runc_version.is_some_and(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 2)
        }),
        _ => false,
    };
    (!idmaps).then(|| format!(
        "the runtime {runtime}{} cannot id-map the workspace, without which the sandbox's root could not write your files; crun, or runc from 1.2, can",
        runc_version.filter(|_| runtime == "runc").map(|v| format!(" {v}")).unwrap_or_default()
    ))
}

/// Mount points without those under another of them: the init id-maps each
/// with the mounts under it, and a mount cannot be id-mapped twice.
fn outermost(targets: Vec<String>) -> Vec<String> {
    let under =
        |t: &str, o: &str| t != o && t.starts_with(&format!("{}/", o.trim_end_matches('/')));
    targets
        .iter()
        .filter(|t| !targets.iter().any(|o| under(t, o)))
        .cloned()
        .collect()
}

/// Where the invoking user has no subordinate range: ids far above those
/// `adduser` hands out (100000 on, 65536 a user), as LXD does for root.
pub const DEFAULT_RANGE_START: u64 = 1_000_000_000;

/// The id map for `who`: uid 0 inside is them (unless they are root), the
/// rest a subordinate range of theirs; a note when that range is dindbox's
/// default, for want of one in /etc/subuid and /etc/subgid.
fn id_map(host: &HostFacts, who: &Invoker) -> (UserNs, Option<String>) {
    let root = who.uid == 0;
    let need = if root { SIZE } else { SIZE - 1 };
    let names: Vec<String> = if root {
        // Podman's own --userns=auto takes its ids from `containers`.
        vec!["root".into(), "0".into(), "containers".into()]
    } else {
        who.name
            .iter()
            .cloned()
            .chain([who.uid.to_string()])
            .collect()
    };
    let pick = |ranges: &[SubIdRange]| {
        names.iter().find_map(|n| {
            ranges
                .iter()
                .find(|r| &r.user == n && r.count >= need)
                .map(|r| r.start)
        })
    };
    let (sub_uid, sub_gid, note) = match (pick(&host.userns.subuid), pick(&host.userns.subgid)) {
        (Some(u), Some(g)) => (u, g, None),
        _ => {
            let user = who.name.clone().unwrap_or_else(|| who.uid.to_string());
            let note = format!(
                "/etc/subuid and /etc/subgid give {user} no range of {need} ids: the sandbox's ids are host ids {DEFAULT_RANGE_START}–{}, which no user is given by adduser (to choose others: `usermod --add-subuids 300000-365535 --add-subgids 300000-365535 {user}`)",
                DEFAULT_RANGE_START + SIZE - 1
            );
            (DEFAULT_RANGE_START, DEFAULT_RANGE_START, Some(note))
        }
    };
    let ranges = |own: u32, sub: u64| {
        if root {
            vec![IdRange {
                inside: 0,
                outside: sub,
                count: SIZE,
            }]
        } else {
            vec![
                IdRange {
                    inside: 0,
                    outside: own.into(),
                    count: 1,
                },
                IdRange {
                    inside: 1,
                    outside: sub,
                    count: SIZE - 1,
                },
            ]
        }
    };
    let map = UserNs {
        uids: ranges(who.uid, sub_uid),
        gids: ranges(who.gid, sub_gid),
        idmap_mounts: root,
        made_by: UserNsMaker::Engine,
    };
    (map, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(subids: &[(&str, u64, u64)], who: Invoker) -> HostFacts {
        let ranges: Vec<SubIdRange> = subids
            .iter()
            .map(|(user, start, count)| SubIdRange {
                user: user.to_string(),
                start: *start,
                count: *count,
            })
            .collect();
        let mut h = HostFacts::default();
        h.userns.subuid = ranges.clone();
        h.userns.subgid = ranges;
        h.invoker = Some(who);
        h
    }

    fn user(uid: u32, name: &str, sudo: bool) -> Invoker {
        Invoker {
            uid,
            gid: uid + 1,
            name: Some(name.into()),
            sudo,
        }
    }

    fn lines(r: &[IdRange]) -> Vec<String> {
        r.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_users_sandbox_root_is_the_user_and_the_rest_their_range() {
        let h = host(&[("ada", 100000, 65536)], user(1000, "ada", true));
        let (map, note) = id_map(&h, &h.invoker());
        assert_eq!(lines(&map.uids), ["0:1000:1", "1:100000:65535"]);
        assert_eq!(lines(&map.gids), ["0:1001:1", "1:100000:65535"]);
        assert_eq!(map.root(), (1000, 1001));
        assert!(!map.idmap_mounts && note.is_none());
    }

    #[test]
    fn roots_sandbox_is_roots_range_or_podmans_containers_range_with_idmapped_mounts() {
        let root = user(0, "root", false);
        let h = host(
            &[("ada", 100000, 65536), ("root", 300000, 65536)],
            root.clone(),
        );
        let (map, _) = id_map(&h, &root);
        assert_eq!(lines(&map.uids), ["0:300000:65536"]);
        assert!(map.idmap_mounts);
        let h = host(&[("containers", 2147483647, 2147483648)], root.clone());
        assert_eq!(id_map(&h, &root).0.root(), (2147483647, 2147483647));
    }

    #[test]
    fn without_a_range_big_enough_the_default_range_is_taken_and_said_how_to_choose() {
        let h = host(&[("ada", 100000, 1000)], user(1000, "ada", true));
        let (map, note) = id_map(&h, &h.invoker());
        assert_eq!(lines(&map.uids), ["0:1000:1", "1:1000000000:65535"]);
        let note = note.unwrap();
        assert!(
            note.contains("usermod --add-subuids 300000-365535 --add-subgids 300000-365535 ada"),
            "{note}"
        );
        let root = user(0, "root", false);
        let (map, note) = id_map(&host(&[], root.clone()), &root);
        assert_eq!(lines(&map.gids), ["0:1000000000:65536"]);
        assert!(note.unwrap().contains("give root no range of 65536 ids"));
    }

    #[test]
    fn mounts_under_another_are_id_mapped_with_it() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            outermost(t(&[
                "/w",
                "/repo/.git",
                "/repo/.git/config",
                "/wx",
                "/w/sub"
            ])),
            t(&["/w", "/repo/.git", "/wx"])
        );
    }

    #[test]
    fn a_range_named_by_uid_counts_as_the_users() {
        let h = host(&[("1000", 500000, 65536)], user(1000, "ada", false));
        assert_eq!(id_map(&h, &h.invoker()).0.uids[1].outside, 500000);
    }
}
