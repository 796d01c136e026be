#!/usr/bin/env bash
# Inside the test guest, as root (scripts/test-host.sh runs it after each
# boot): wait for the engines that systemd started, and give them, and the
# rootless test user's Podman, dindbox's images from IMAGES (archives the host
# saved), loading only what differs. A quick no-op when all is there.
# This is the guest's part of scripts/setup-host.sh: the guest has no network
# and no Rust toolchain, so the images come from the host instead of being built.
# Usage: guest-setup.sh IMAGES
set -euo pipefail
images=$1
test_user=dindbox-test
say() { printf '==> [guest] %s\n' "$*" >&2; }

wait_for() {
    local what=$1 deadline=$((SECONDS + 60))
    shift
    until timeout 20 "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { echo "error: $what did not answer in 60 s ($*)" >&2; systemctl status --no-pager -l docker.service podman.socket >&2 || true; exit 1; }
        sleep 0.2
    done
}
# The user-mode kernel has iptables' NAT but not nftables' (no CONFIG_NFT_NAT),
# and Podman 5's netavark defaults to nftables: without this, every rootful
# bridge container fails with "netavark: nftables error: nft did not return
# successfully while applying ruleset" (nft: "Could not process rule:
# Operation not supported"). dockerd uses iptables-legacy (build-image.sh).
conf=/etc/containers/containers.conf.d/50-test-guest-iptables.conf
if [ ! -f "$conf" ]; then
    mkdir -p "$(dirname "$conf")"
    printf '[network]\nfirewall_driver = "iptables"\n' >"$conf"
fi
# `podman kube play` gives a pod with `hostUsers: false` a user namespace as
# `--userns=auto` does: from the `containers` entry of /etc/subuid and
# /etc/subgid (the range Podman's documentation gives).
for f in /etc/subuid /etc/subgid; do
    grep -q '^containers:' "$f" 2>/dev/null || echo 'containers:2147483647:2147483648' >>"$f"
done
start=$SECONDS
wait_for dockerd docker info
wait_for "podman (root)" podman info
say "engines answer ($((SECONDS - start)) s after the agent): $(docker version --format 'docker {{.Server.Version}}'), $(podman version --format 'podman {{.Server.Version}}' 2>/dev/null || podman --version)"

# The canary is made from the host's static busybox, so its recipe digest
# (the busybox binary) is the host's, and `dindbox image build` finds it up to date.
install -m 755 "$images/busybox" /usr/local/bin/busybox
install -d /root/.cache/dindbox/preload
install -m 644 "$images/canary.tar" "$images/canary.digest" /root/.cache/dindbox/preload/

load_if_differs() {  # ENGINE-CMD... -- : loads $images/ENGINE-*.tar when the IDs differ
    local eng=$1 want have
    shift
    want=$(cat "$images/$eng.ids")
    have=$("$@" image inspect --format '{{.Id}}' $(docker_names) 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        say "loading dindbox's images into $* ($(du -h "$images/$eng"-*.tar | cut -f1))"
        "$@" load -q -i "$(ls "$images/$eng"-*.tar)" >/dev/null
    fi
}
docker_names() {
    local version
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
    echo "localhost/dindbox/sandbox:$version localhost/dindbox/sandbox-systemd:$version localhost/dindbox/canary:latest"
}
load_if_differs docker docker
load_if_differs podman podman

test_uid=$(id -u "$test_user")
test_home=$(getent passwd "$test_user" | cut -d: -f6)
as_test_user() {
    (cd / && runuser -u "$test_user" -- env XDG_RUNTIME_DIR="/run/user/$test_uid" HOME="$test_home" "$@")
}
deadline=$((SECONDS + 30))
until [ -d "/run/user/$test_uid" ]; do
    [ $SECONDS -lt $deadline ] || { echo "error: /run/user/$test_uid did not appear (the user's lingering systemd)" >&2; exit 1; }
    sleep 0.2
done
if [ ! -e "$test_home/.config/containers/storage.conf" ] && [ ! -e "$test_home/.local/share/containers/storage" ]; then
    as_test_user mkdir -p "$test_home/.config/containers"
    printf '[storage]\ndriver = "overlay"\n' | as_test_user tee "$test_home/.config/containers/storage.conf" >/dev/null
fi
want=$(cat "$images/podman.ids")
have=$(as_test_user podman image inspect --format '{{.Id}}' $(docker_names) 2>/dev/null || true)
if [ "$want" != "$have" ]; then
    say "loading dindbox's images into $test_user's Podman store"
    as_test_user podman load -q -i "$(ls "$images/podman"-*.tar)" >/dev/null
fi
as_test_user mkdir -p "$test_home/.cache/dindbox/preload"
install -m 644 -o "$test_user" -g "$test_user" "$images/canary.tar" "$test_home/.cache/dindbox/preload/canary.tar"
say "ready ($((SECONDS - start)) s)"
