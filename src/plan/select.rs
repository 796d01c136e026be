//! Which host engine a sandbox runs on, and what to say when none answers.

use super::{Mode, Request};
use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::probe::facts::{EngineFacts, HostFacts};

/// The host engine: the one asked for, or the one that answers (Podman first).
/// In sock mode the engine whose API socket answers.
pub fn choose_engine<'a>(req: &Request, host: &'a HostFacts) -> Result<&'a EngineFacts> {
    if let Some(kind) = req.engine {
        return named(host, kind);
    }
    let answering: Vec<&EngineFacts> = EngineKind::ALL
        .iter()
        .filter_map(|k| host.engine(*k))
        .filter(|e| e.answers)
        .collect();
    if req.mode == Mode::Sock
        && let Some(e) = answering.iter().find(|e| e.live_socket().is_some())
    {
        return Ok(e);
    }
    answering.first().copied().ok_or_else(|| none_answers(host))
}

/// The engine the user named, when it is installed and answers.
pub fn named(host: &HostFacts, kind: EngineKind) -> Result<&EngineFacts> {
    let Some(facts) = host.engine(kind) else {
        return Err(
            Error::failure(format!("{kind} is not installed on this host"))
                .hint(install_hint(kind)),
        );
    };
    if !facts.answers {
        return Err(
            Error::failure(format!("{kind} does not answer on this host"))
                .cause(facts.error.clone().unwrap_or_default())
                .hint(start_hint(kind)),
        );
    }
    Ok(facts)
}

/// No engine answers: what each said, and how to get one.
pub fn none_answers(host: &HostFacts) -> Error {
    let said: Vec<(EngineKind, String)> = host
        .engines
        .iter()
        .map(|e| (e.kind, e.error.clone().unwrap_or_default()))
        .collect();
    none_answers_from(&said)
}

/// No engine answers: what each said (empty: nothing), and how to get one.
pub fn none_answers_from(said: &[(EngineKind, String)]) -> Error {
    let mut err = Error::failure("no container engine answers on this host");
    for (kind, said) in said {
        let said = if said.is_empty() { "no answer" } else { said };
        err = err.cause(format!("{kind}: {said}"));
    }
    if said.is_empty() {
        err = err.cause("neither `podman` nor `docker` is on PATH");
    }
    err.hint(install_hint(EngineKind::Podman))
        .hint(install_hint(EngineKind::Docker))
        .hint(start_hint(EngineKind::Docker))
}

pub fn install_hint(kind: EngineKind) -> String {
    match kind {
        EngineKind::Podman => "install Podman: `apt-get install podman` (Debian/Ubuntu) or `dnf install podman` (Fedora)".into(),
        EngineKind::Docker => "install Docker: `apt-get install docker.io` (Debian/Ubuntu) or Docker Engine from docs.docker.com".into(),
    }
}

pub fn start_hint(kind: EngineKind) -> String {
    match kind {
        EngineKind::Docker => "start Docker: `systemctl start docker`, or `dockerd >/var/log/dockerd.log 2>&1 &` where there is no systemd".into(),
        EngineKind::Podman => "check Podman with `podman info`; a rootless user needs an /etc/subuid range (`usermod --add-subuids 100000-165535 USER`)".into(),
    }
}
