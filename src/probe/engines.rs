//! The engines on this host: each CLI on PATH, what its `info` says, and
//! which of its API sockets exist and answer.

use std::path::Path;
use std::time::Duration;

use super::cache::Cache;
use super::facts::{EngineFacts, EnvFacts, SocketFacts};
use crate::engine::socket::{ping, unix_path};
use crate::engine::{Engine, EngineKind};

/// How long a socket may take to answer `/_ping`.
const PING_LIMIT: Duration = Duration::from_millis(500);
/// Podman's socket is often socket-activated (`podman.socket`): systemd
/// accepts at once and starts the service, which answers in a second or so.
/// A socket nobody listens on refuses at once, so waiting costs nothing there.
const PODMAN_PING_LIMIT: Duration = Duration::from_secs(5);

/// One entry per engine CLI on PATH (Podman first), asked in parallel.
pub fn probe(env: &EnvFacts, uid: u32, kinds: &[EngineKind], fresh: bool) -> Vec<EngineFacts> {
    let found: Vec<(EngineKind, String)> = kinds
        .iter()
        .copied()
        .filter_map(|kind| {
            let path = which::which(kind.name()).ok()?;
            Some((kind, path.display().to_string()))
        })
        .collect();
    crate::process::in_parallel(&found, |(kind, binary)| {
        engine_facts(*kind, binary, env, uid, fresh)
    })
}

/// `info` of one engine, plus its sockets; a CLI whose `info` fails still gets facts.
fn engine_facts(
    kind: EngineKind,
    binary: &str,
    env: &EnvFacts,
    uid: u32,
    fresh: bool,
) -> EngineFacts {
    let mut facts = podman_info(kind, binary, uid, fresh)
        .unwrap_or_else(|| super::info::ask(&Engine::new(kind, binary)));
    facts.sockets = socket_candidates(kind, env, uid)
        .into_iter()
        .filter(|path| Path::new(path).exists())
        .map(|path| {
            let limit = match kind {
                EngineKind::Podman => PODMAN_PING_LIMIT,
                EngineKind::Docker => PING_LIMIT,
            };
            SocketFacts {
                answers: ping(Path::new(&path), limit),
                mode: socket_mode(Path::new(&path)),
                path,
            }
        })
        .collect();
    facts
}

/// Podman's answer, from the cache when nothing changed since it was kept
/// (unless `fresh`), else asked and kept. None for Docker, whose daemon answers
/// in milliseconds and may stop at any time.
fn podman_info(kind: EngineKind, binary: &str, uid: u32, fresh: bool) -> Option<EngineFacts> {
    if kind != EngineKind::Podman {
        return None;
    }
    let cache = Cache::for_engine(kind, binary, uid);
    if !fresh && let Some(facts) = cache.load() {
        return Some(facts);
    }
    let facts = super::info::ask(&Engine::new(kind, binary));
    cache.save(&facts);
    Some(facts)
}

/// An engine whose kernel is not this host's runs elsewhere (a VM, another
/// machine): its facts, not this host's, are what a plan for it may use.
pub fn mark_remote(engines: &mut [EngineFacts], host_kernel: &str) {
    for e in engines {
        let elsewhere = e
            .kernel
            .as_deref()
            .is_some_and(|k| !k.is_empty() && k != host_kernel);
        e.remote = e.remote || elsewhere;
    }
}

/// The permission bits of a socket file.
fn socket_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// Where `kind`'s API socket may be, preferred first, without duplicates.
/// Paths are kept as given (/var/run/docker.sock is often a link to /run/docker.sock).
pub fn socket_candidates(kind: EngineKind, env: &EnvFacts, uid: u32) -> Vec<String> {
    let runtime_dir = env
        .xdg_runtime_dir
        .clone()
        .unwrap_or_else(|| format!("/run/user/{uid}"));
    let (from_env, defaults) = match kind {
        EngineKind::Docker => (
            &env.docker_host,
            vec![
                "/var/run/docker.sock".to_string(),
                format!("{runtime_dir}/docker.sock"),
            ],
        ),
        EngineKind::Podman if uid == 0 => (
            &env.container_host,
            vec!["/run/podman/podman.sock".to_string()],
        ),
        EngineKind::Podman => (
            &env.container_host,
            vec![format!("{runtime_dir}/podman/podman.sock")],
        ),
    };
    let mut candidates: Vec<String> = Vec::new();
    let from_env = from_env.as_deref().and_then(unix_path).map(str::to_string);
    for path in from_env.into_iter().chain(defaults) {
        if !candidates.contains(&path) {
            candidates.push(path);
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(docker_host: Option<&str>, container_host: Option<&str>, xdg: Option<&str>) -> EnvFacts {
        EnvFacts {
            docker_host: docker_host.map(str::to_string),
            container_host: container_host.map(str::to_string),
            xdg_runtime_dir: xdg.map(str::to_string),
            sudo: None,
        }
    }

    #[test]
    fn a_cli_that_fails_info_still_gets_facts_and_its_live_socket() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.read(&mut [0u8; 128]).unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\n\r\nOK").unwrap();
        });
        let e = env(
            Some(&format!("unix://{}", sock.display())),
            None,
            Some("/nonexistent"),
        );
        // `false info --format ...` exits 1: a CLI found whose `info` fails.
        let facts = engine_facts(EngineKind::Docker, "false", &e, 0, true);
        server.join().unwrap();
        assert_eq!(facts.binary, "false");
        assert!(!facts.answers);
        assert!(facts.error.is_some());
        // /var/run/docker.sock is left out when it does not exist on the machine running the test.
        assert_eq!(
            facts.sockets[0],
            SocketFacts {
                path: sock.display().to_string(),
                answers: true,
                mode: socket_mode(&sock),
            }
        );
        assert!(facts.sockets.iter().all(|s| Path::new(&s.path).exists()));
    }

    #[test]
    fn an_engine_on_another_kernel_is_remote() {
        let mut local = EngineFacts::new(EngineKind::Docker, "docker");
        local.kernel = Some("6.8.0-45-generic".into());
        let mut vm = EngineFacts::new(EngineKind::Docker, "docker");
        vm.kernel = Some("6.10.14-linuxkit".into());
        let mut machine = EngineFacts::new(EngineKind::Podman, "podman");
        machine.remote = true;
        let silent = EngineFacts::new(EngineKind::Podman, "podman");
        let mut engines = [local, vm, machine, silent];
        mark_remote(&mut engines, "6.8.0-45-generic");
        let remote: Vec<bool> = engines.iter().map(|e| e.remote).collect();
        assert_eq!(remote, [false, true, true, false]);
    }

    #[test]
    fn docker_candidates_as_root_without_environment() {
        assert_eq!(
            socket_candidates(EngineKind::Docker, &env(None, None, None), 0),
            vec!["/var/run/docker.sock", "/run/user/0/docker.sock"]
        );
    }

    #[test]
    fn docker_host_comes_first_and_is_not_repeated() {
        let e = env(
            Some("unix:///var/run/docker.sock"),
            None,
            Some("/run/user/1000"),
        );
        assert_eq!(
            socket_candidates(EngineKind::Docker, &e, 1000),
            vec!["/var/run/docker.sock", "/run/user/1000/docker.sock"]
        );
        let e = env(
            Some("unix:///run/user/1000/docker.sock"),
            None,
            Some("/run/user/1000"),
        );
        assert_eq!(
            socket_candidates(EngineKind::Docker, &e, 1000),
            vec!["/run/user/1000/docker.sock", "/var/run/docker.sock"]
        );
    }

    #[test]
    fn non_unix_hosts_are_not_sockets() {
        let e = env(
            Some("tcp://10.0.0.1:2375"),
            Some("ssh://core@host/run/podman/podman.sock"),
            None,
        );
        assert_eq!(
            socket_candidates(EngineKind::Docker, &e, 0),
            vec!["/var/run/docker.sock", "/run/user/0/docker.sock"]
        );
        assert_eq!(
            socket_candidates(EngineKind::Podman, &e, 0),
            vec!["/run/podman/podman.sock"]
        );
    }

    #[test]
    fn podman_rootful_and_rootless_sockets() {
        assert_eq!(
            socket_candidates(EngineKind::Podman, &env(None, None, Some("/run/user/0")), 0),
            vec!["/run/podman/podman.sock"]
        );
        assert_eq!(
            socket_candidates(EngineKind::Podman, &env(None, None, Some("/tmp/xdg")), 1000),
            vec!["/tmp/xdg/podman/podman.sock"]
        );
        assert_eq!(
            socket_candidates(EngineKind::Podman, &env(None, None, None), 1000),
            vec!["/run/user/1000/podman/podman.sock"]
        );
        let e = env(None, Some("unix:///srv/podman.sock"), None);
        assert_eq!(
            socket_candidates(EngineKind::Podman, &e, 1000),
            vec!["/srv/podman.sock", "/run/user/1000/podman/podman.sock"]
        );
    }
}
