#!/usr/bin/env bash
# Make this Debian machine (as root) a dindbox host and test host:
#   - engines and tools from Debian's packages, installed only when missing;
#   - kubernetes-validate from PyPI, when missing;
#   - dockerd started when `docker info` does not answer (log: /var/log/dockerd.log);
#   - a rootless test user with subordinate id ranges;
#   - the devcontainer CLI for tests/devcontainer.rs, under $TOOLS_DIR;
#   - dindbox built, and its images built (skipped when up to date).
# A quick no-op when all of it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(docker.io podman runc crun uidmap fuse-overlayfs slirp4netns iptables
          debootstrap busybox-static catatonit containernetworking-plugins runsc)
TEST_USER=dindbox-test
# The devcontainer CLI (npm's @devcontainers/cli, which needs Node.js 20 or
# later) that tests/devcontainer.rs runs, installed once per version.
TOOLS_DIR=/var/cache/dindbox-test-tools
DEVCONTAINER_CLI_VERSION=0.89.0
DOCKERD_LOG=/var/log/dockerd.log

say() { printf '==> %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
    echo "error: setup-host.sh installs packages and starts dockerd: run it as root" >&2
    exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The schema check of `export kube`'s manifests (tests/export_kube.rs).
if ! command -v kubernetes-validate >/dev/null; then
    say "installing kubernetes-validate (pip)"
    python3 -m pip install --quiet kubernetes-validate 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages kubernetes-validate
fi

devcontainer_dir="$TOOLS_DIR/devcontainer-cli-$DEVCONTAINER_CLI_VERSION"
if [ ! -x "$devcontainer_dir/node_modules/.bin/devcontainer" ]; then
    if ! command -v npm >/dev/null; then
        say "installing nodejs and npm"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
    fi
    say "installing the devcontainer CLI $DEVCONTAINER_CLI_VERSION in $devcontainer_dir"
    mkdir -p "$devcontainer_dir"
    npm install --silent --no-audit --no-fund --prefix "$devcontainer_dir" "@devcontainers/cli@$DEVCONTAINER_CLI_VERSION" >/dev/null
fi

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# gVisor registered with Docker as `runsc`: with the kernel's network stack
# (Debian's runsc predates the fix for kernels after 6.6) and access to
# bind-mounted host sockets (sock mode). Podman needs no registration.
DAEMON_JSON=/etc/docker/daemon.json
RUNSC_ENTRY='"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=host", "--host-uds=open"]}'
registered=false
if [ ! -s "$DAEMON_JSON" ]; then
    say "registering gVisor (runsc) with Docker in $DAEMON_JSON"
    mkdir -p "$(dirname "$DAEMON_JSON")"
    printf '{\n  "runtimes": {\n    %s\n  }\n}\n' "$RUNSC_ENTRY" >"$DAEMON_JSON"
    registered=true
elif ! grep -q '"runsc"' "$DAEMON_JSON"; then
    echo "error: $DAEMON_JSON exists without a runsc runtime; add to its \"runtimes\": $RUNSC_ENTRY" >&2
    exit 1
fi
if ! docker_answers; then
    if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null && docker_answers; then
        say "started docker with systemctl"
    else
        say "starting dockerd (log: $DOCKERD_LOG)"
        nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
        deadline=$((SECONDS + 60))
        until docker_answers; do
            if ! kill -0 $! 2>/dev/null || [ $SECONDS -ge $deadline ]; then
                echo "error: dockerd did not answer; the end of $DOCKERD_LOG:" >&2
                tail -n 20 "$DOCKERD_LOG" >&2
                exit 1
            fi
            sleep 0.2
        done
    fi
fi

if $registered && [ -n "$(pidof dockerd)" ]; then
    # dockerd reads its runtimes again on SIGHUP; running containers are not touched.
    kill -HUP $(pidof dockerd)
    deadline=$((SECONDS + 20))
    until docker info --format '{{json .Runtimes}}' | grep -q -- '--host-uds=open'; do
        [ $SECONDS -lt $deadline ] || { echo "error: dockerd did not take the runsc runtime from $DAEMON_JSON" >&2; exit 1; }
        sleep 0.2
    done
fi

if ! id "$TEST_USER" >/dev/null 2>&1; then
    say "creating the rootless test user $TEST_USER"
    useradd --create-home --shell /bin/bash "$TEST_USER"
fi
grep -q "^$TEST_USER:" /etc/subuid 2>/dev/null || usermod --add-subuids 200000-265535 "$TEST_USER"
grep -q "^$TEST_USER:" /etc/subgid 2>/dev/null || usermod --add-subgids 200000-265535 "$TEST_USER"

if ! command -v cargo >/dev/null; then
    echo "error: cargo is not installed; install a Rust toolchain (rustup.rs) first" >&2
    exit 1
fi
say "building dindbox"
cargo build --quiet --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
triple=$(sed -n 's/^target = "\(.*\)"/\1/p' .cargo/config.toml)
dindbox="$target_dir/$triple/debug/dindbox"
say "building dindbox's images, the --systemd one too (skipped when up to date)"
"$dindbox" image build --systemd

# The rootless test user: a runtime directory as logind would make it, native
# overlay storage (Debian's rootless default without a storage.conf is vfs,
# which copies the whole sandbox image for every container), and dindbox's
# images in the user's own store, loaded when the user's copy differs.
test_uid=$(id -u "$TEST_USER")
as_test_user() {
    (cd / && runuser -u "$TEST_USER" -- env XDG_RUNTIME_DIR="/run/user/$test_uid" HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" "$@")
}
install -d -m 700 -o "$TEST_USER" -g "$TEST_USER" "/run/user/$test_uid"
test_home=$(getent passwd "$TEST_USER" | cut -d: -f6)
if [ ! -e "$test_home/.config/containers/storage.conf" ] && [ ! -e "$test_home/.local/share/containers/storage" ]; then
    as_test_user mkdir -p "$test_home/.config/containers"
    printf '[storage]\ndriver = "overlay"\n' | as_test_user tee "$test_home/.config/containers/storage.conf" >/dev/null
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
for image in "localhost/dindbox/sandbox:$version" localhost/dindbox/canary:latest; do
    want=$(podman image inspect --format '{{.Id}}' "$image")
    have=$(as_test_user podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        say "loading $image into $TEST_USER's Podman store"
        podman save --format docker-archive "$image" | as_test_user podman load -q >/dev/null
    fi
done
if [ -f "$HOME/.cache/dindbox/preload/canary.tar" ]; then
    as_test_user mkdir -p "$test_home/.cache/dindbox/preload"
    install -m 644 -o "$TEST_USER" -g "$TEST_USER" "$HOME/.cache/dindbox/preload/canary.tar" "$test_home/.cache/dindbox/preload/canary.tar"
fi
