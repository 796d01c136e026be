//! Isolation on this host's real engines: what a process in a sandbox
//! reaches of the host, asked from inside by dindbox's `reach` role (tracefs
//! and the other kernel filesystems, `bpf()`, system-wide `perf_event_open`,
//! the kernel log, modules, kexec, kernel settings, sysrq, kernel memory, raw
//! disks, cgroup release agents, files by handle), for every mode, host
//! engine and inner engine, as root and as the rootless test user, and from
//! a nested container too.
//!
//! Where the plan gives the sandbox a root that is not the host's (rootless
//! Podman; a user namespace of its own on rootful Podman), nothing host-wide
//! may be reached and the capabilities are within the plan's. Where it does
//! not (Docker; a Podman that cannot keep the workspace's owners), the plan
//! must say so, and the probe must agree that the root inside is the host's.

mod common;
use common::user::*;
use common::*;

use serde_json::Value;

/// The probe, where every sandbox has dindbox.
const PROBE: &str = "/usr/local/libexec/dindbox/dindbox";
/// What divides the sandbox's report from its nested container's.
const DIVIDER: &str = "=== nested";
/// The capabilities each engine gives a container by default (Docker's set,
/// of which Podman's is a part).
const ENGINE_DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// A sandbox to probe: mode and, for dind, the inner engine.
#[derive(Clone, Copy, Debug)]
struct Case {
    mode: &'static str,
    inner: Option<&'static str>,
    /// Asked for the host's root (`--host-root`).
    host_root: bool,
}

const CASES: [Case; 5] = [
    Case {
        mode: "common",
        inner: None,
        host_root: false,
    },
    Case {
        mode: "sock",
        inner: None,
        host_root: false,
    },
    Case {
        mode: "dind",
        inner: Some("podman"),
        host_root: false,
    },
    Case {
        mode: "dind",
        inner: Some("docker"),
        host_root: false,
    },
    Case {
        mode: "dind",
        inner: Some("docker"),
        host_root: true,
    },
];

impl Case {
    fn args(self, engine: Option<&'static str>) -> Vec<&'static str> {
        let mut args = vec!["-m", self.mode];
        if let Some(e) = engine {
            args.extend(["--engine", e]);
        }
        if let Some(inner) = self.inner {
            args.extend(["--inner", inner]);
        }
        if self.host_root {
            args.push("--host-root");
        }
        args
    }

    /// The probe inside, then (dind) inside a nested container of the inner engine.
    fn command(self) -> String {
        match self.inner {
            None => format!("{PROBE} reach --json"),
            Some(inner) => format!(
                "{PROBE} reach --json && echo '{DIVIDER}' && {inner} run --rm -v {PROBE}:/reach:ro {CANARY} /reach reach --json"
            ),
        }
    }
}

/// The plan dindbox makes for `args`, as `plan --json` shows it.
fn plan_of(run: impl Fn(&[&str]) -> Run, args: &[&str]) -> Value {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let out = run(&all).ok();
    serde_json::from_str::<Value>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))["plan"]
        .clone()
}

fn notes(plan: &Value) -> Vec<String> {
    plan["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The capabilities the plan adds, by their kernel names.
fn planned_caps(plan: &Value) -> Vec<String> {
    let mut caps: Vec<String> = ENGINE_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect();
    for group in plan["spec"]["privileges"].as_array().into_iter().flatten() {
        for item in group["value"].as_array().into_iter().flatten() {
            if let Some(cap) = item["cap"].as_str() {
                caps.push(format!("CAP_{cap}"));
            }
        }
    }
    caps
}

/// Whether the plan gives the sandbox a root that is not the host's.
fn own_root(plan: &Value, rootless: bool) -> bool {
    rootless || !plan["spec"]["userns"].is_null()
}

/// The probe's reports from one run: the sandbox's, then the nested one's.
fn reports(stdout: &str) -> Vec<Value> {
    stdout
        .split(DIVIDER)
        .map(|part| {
            let json = part.trim();
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
        })
        .collect()
}

/// Checks the host itself opens to every user, by a setting `dindbox doctor`
/// names: the kernel log (kernel.dmesg_restrict=0) and BPF
/// (kernel.unprivileged_bpf_disabled=0), as the Debian 13 guest's user-mode
/// kernel has them. A sandbox reaches those as any user of the host does.
fn open_to_users() -> Vec<(&'static str, &'static str)> {
    let setting = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{name}")).is_ok_and(|t| t.trim() == "0")
    };
    [
        ("kernel log", "dmesg_restrict", "kernel.dmesg_restrict=1"),
        (
            "bpf",
            "unprivileged_bpf_disabled",
            "kernel.unprivileged_bpf_disabled=2",
        ),
    ]
    .into_iter()
    .filter(|(_, knob, _)| setting(knob))
    .map(|(check, _, fix)| (check, fix))
    .collect()
}

/// The kernel filesystems the host's root mounts with CAP_SYS_ADMIN unless
/// an AppArmor profile denies it (seccomp cannot tell one file system from another).
const KERNEL_FILESYSTEMS: [&str; 5] = ["tracefs", "debugfs", "securityfs", "bpffs", "pstore"];

/// The plan's command line has a flag value starting with `prefix`.
fn plan_has(plan: &Value, prefix: &str) -> bool {
    plan["run"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["args"].as_array().into_iter().flatten())
        .any(|a| a.as_str().is_some_and(|a| a.starts_with(prefix)))
}

fn reached(report: &Value) -> Vec<String> {
    let open = open_to_users();
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["reached"] == true)
        .filter(|c| !open.iter().any(|(check, _)| c["name"] == *check))
        .map(|c| format!("{}: {}", c["name"], c["detail"]))
        .collect()
}

/// Probe `case` and hold it to what its plan says of its root.
fn probe(run: &dyn Fn(&[&str]) -> Run, case: Case, engine: Option<&'static str>, rootless: bool) {
    let args = case.args(engine);
    let plan = plan_of(run, &args);
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(&args);
    let cmd = case.command();
    all.extend(["-x", &cmd]);
    let out = run(&all).ok();
    let reports = reports(&out.stdout);
    assert_eq!(
        reports.len(),
        if case.inner.is_some() { 2 } else { 1 },
        "{}",
        out.stdout
    );
    let sandbox = &reports[0];
    assert_eq!(
        sandbox["no_new_privs"],
        plan_has(&plan, "no-new-privileges"),
        "{case:?} on {engine:?}: no-new-privileges as the plan says"
    );
    if !own_root(&plan, rootless) {
        assert!(
            notes(&plan)
                .iter()
                .any(|n| n.starts_with("the sandbox's root is the host's root (")),
            "{case:?} on {engine:?}: a host-root plan must say so: {:?}",
            notes(&plan)
        );
        assert_eq!(
            sandbox["host_root"], true,
            "{case:?} on {engine:?}: the plan says the root is the host's"
        );
        // The host's root, confined: dindbox's seccomp profile (every dind
        // plan whose root is the host's) refuses all but mounting kernel
        // filesystems, which its AppArmor profile refuses where it is planned.
        let confined_by_apparmor = plan_has(&plan, "apparmor=dindbox-nesting-");
        let mountable: &[&str] = if case.mode == "dind" && !confined_by_apparmor {
            &KERNEL_FILESYSTEMS
        } else {
            &[]
        };
        let beyond: Vec<String> = reached(sandbox)
            .into_iter()
            .filter(|r| {
                !mountable
                    .iter()
                    .any(|m| r.starts_with(&format!("\"{m}\": ")))
            })
            .collect();
        assert!(
            beyond.is_empty(),
            "{case:?} on {engine:?}: the host's root reaches past its confinement: {beyond:#?}"
        );
        let has_tracefs = std::fs::read_to_string("/proc/filesystems")
            .is_ok_and(|f| f.lines().any(|l| l.ends_with("\ttracefs")));
        if mountable.contains(&"tracefs") && has_tracefs {
            // What the plan's warning means there, as the README says.
            let tracefs = sandbox["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == "tracefs");
            assert_eq!(
                tracefs.map(|c| &c["reached"]),
                Some(&Value::Bool(true)),
                "{case:?} on {engine:?}: {tracefs:?}"
            );
        }
        return;
    }
    for (i, report) in reports.iter().enumerate() {
        let whose = if i == 0 {
            "the sandbox"
        } else {
            "a nested container"
        };
        assert_eq!(
            report["host_root"], false,
            "{case:?} on {engine:?}: {whose}'s root is the host's: {report}"
        );
        let reached = reached(report);
        assert!(
            reached.is_empty(),
            "{case:?} on {engine:?}: {whose} reaches the host: {reached:#?}"
        );
    }
    let allowed = planned_caps(&plan);
    let extra: Vec<&Value> = sandbox["cap_eff"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| !allowed.iter().any(|a| c.as_str() == Some(a)))
        .collect();
    assert!(
        extra.is_empty(),
        "{case:?} on {engine:?}: capabilities beyond the plan's: {extra:?}"
    );
}

#[test]
fn rootful_sandboxes_reach_nothing_of_the_host_or_their_plan_says_their_root_is_the_hosts() {
    let _lock = shared();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| dindbox_in(dir.path(), args, &[]);
    for engine in ENGINES {
        for case in CASES {
            probe(&run, case, Some(engine), false);
        }
    }
    let open = open_to_users();
    if !open.is_empty() {
        let doctor = run(&["doctor", "--json"]).ok();
        for (check, fix) in open {
            assert!(
                doctor.stdout.contains(fix),
                "doctor names the setting that closes {check} to users: {}",
                doctor.stdout
            );
        }
    }
}

#[test]
fn rootless_sandboxes_reach_nothing_of_the_host_in_any_mode() {
    let _lock = shared();
    let ws = user_workspace();
    let run = |args: &[&str]| user_dindbox(args, ws.path());
    // Rootless Podman's sandboxes have no host root to ask for.
    for case in CASES.into_iter().filter(|c| !c.host_root) {
        probe(&run, case, None, true);
    }
}

/// Files the sandbox's root makes in the workspace belong, on the host, to
/// whoever ran dindbox: root, or the user sudo was run by. Where the plan
/// gives the sandbox the host's root, a file made through sudo is root's, and
/// the plan says why the sandbox could not have a root of its own there.
#[test]
fn workspace_files_made_inside_belong_to_who_ran_dindbox() {
    use std::os::unix::fs::MetadataExt;
    let _lock = shared();
    let user = [
        ("SUDO_UID", uid().to_string()),
        ("SUDO_GID", gid().to_string()),
        ("SUDO_USER", "dindbox-test".to_string()),
    ];
    for (engine, mode) in ENGINES.iter().flat_map(|e| [(*e, "common"), (*e, "dind")]) {
        for sudo in [false, true] {
            let ws = user_workspace();
            let env: Vec<(&str, &str)> = if sudo {
                user.iter().map(|(k, v)| (*k, v.as_str())).collect()
            } else {
                Vec::new()
            };
            let args = ["-m", mode, "--engine", engine];
            let plan = plan_of(|a| dindbox_in(ws.path(), a, &env), &args);
            let mut all = vec!["run", "--rm"];
            all.extend(args);
            all.extend([
                "-x",
                "touch made-inside && echo user-file-writable >> existing",
            ]);
            // The workspace and a file in it are the invoker's, as their own would be.
            std::fs::write(ws.path().join("existing"), "").unwrap();
            let (owner, group) = if sudo { (uid(), gid()) } else { (0, 0) };
            for path in [ws.path().to_path_buf(), ws.path().join("existing")] {
                std::os::unix::fs::chown(&path, Some(owner), Some(group)).unwrap();
            }
            dindbox_in(ws.path(), &all, &env).ok();
            let meta = std::fs::metadata(ws.path().join("made-inside")).unwrap();
            let expect = if !sudo {
                (0, 0)
            } else if own_root(&plan, false) {
                (uid(), gid())
            } else {
                assert!(
                    notes(&plan)
                        .iter()
                        .any(|n| n.starts_with("the sandbox's root is the host's root (")),
                    "{engine} {mode}: {:?}",
                    notes(&plan)
                );
                (0, 0)
            };
            assert_eq!(
                (meta.uid(), meta.gid()),
                expect,
                "{engine} {mode}, through sudo: {sudo}"
            );
            assert_eq!(
                std::fs::read_to_string(ws.path().join("existing")).unwrap(),
                "user-file-writable\n",
                "{engine} {mode}, through sudo: {sudo}: the user's own file stays writable inside"
            );
        }
    }
}

/// A git worktree as the workspace brings its repository's git directory, so
/// that git works inside (status, commit), and the repository's hooks and
/// configuration, which git on the host would run, stay read-only inside.
#[test]
fn a_git_worktree_works_inside_and_its_hooks_and_config_stay_read_only() {
    let _lock = shared();
    let tmp = tempfile::tempdir().unwrap();
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("a"), "a\n").unwrap();
    git(&repo, &["add", "a"]);
    git(&repo, &["commit", "-qm", "first"]);
    git(&repo, &["worktree", "add", "-q", "../feature"]);
    let ws = tmp.path().join("feature");
    let hook = repo.join(".git/hooks/post-checkout");
    let config = repo.join(".git/config");
    let cases = [
        ("docker", "common"),
        ("podman", "common"),
        ("docker", "dind"),
    ];
    for (i, (engine, mode)) in cases.iter().enumerate() {
        let script = format!(
            "git status --short && echo {i} > b && git add b \
             && git -c user.name=t -c user.email=t@t commit -qm inside-{i} && echo committed; \
             (echo '#!/bin/sh' > {hook}) 2>/dev/null && echo hook-written; \
             (echo '[core]' >> {config}) 2>/dev/null && echo config-written; true",
            hook = hook.display(),
            config = config.display()
        );
        let out = dindbox_in(
            &ws,
            &["run", "--rm", "-m", mode, "--engine", engine, "-x", &script],
            &[],
        )
        .ok();
        let case = format!("{engine} {mode}");
        assert!(
            out.stdout.contains("committed"),
            "{case}: {}{}",
            out.stdout,
            out.stderr
        );
        assert!(
            !out.stdout.contains("hook-written"),
            "{case}: {}",
            out.stdout
        );
        assert!(
            !out.stdout.contains("config-written"),
            "{case}: {}",
            out.stdout
        );
        assert!(!hook.exists(), "{case}: a hook was written");
        assert!(
            git(&repo, &["log", "--all", "--format=%s"]).contains(&format!("inside-{i}")),
            "{case}: the commit made inside is in the repository"
        );
    }
}
