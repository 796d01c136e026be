//! How Docker spells what differs: systemd's boot, the runtime after `run`.

use super::{Arg, Command, Spelling};
use crate::spec::{Boot, Spec};

pub struct Docker;

impl Spelling for Docker {
    fn boot(&self, boot: Boot) -> Vec<Arg> {
        match boot {
            Boot::Systemd => vec![
                Arg::new(
                    ["--tmpfs", "/run:exec", "--tmpfs", "/run/lock"],
                    "systemd expects /run and /run/lock to be empty tmpfs at boot; /run executable, as on a machine (Docker's tmpfs is noexec by default)",
                ),
                Arg::new(
                    ["-e", "container=docker"],
                    "tells systemd it runs in a container, so it skips what only a machine's boot does",
                ),
                Arg::new(
                    ["--stop-signal", "SIGRTMIN+3"],
                    "systemd shuts down cleanly on SIGRTMIN+3 (on SIGTERM it would only re-execute itself): `dindbox stop` stops every unit, the inner engine first",
                ),
            ],
        }
    }

    /// Docker takes the runtime as a flag of `run`; it has no runtime flags.
    fn runtime(&self, spec: &Spec, command: &mut Command) {
        if let Some(rt) = &spec.runtime {
            command
                .run
                .push(Arg::new(["--runtime", rt.value.as_str()], rt.why.as_str()));
        }
    }
}
