#!/usr/bin/env bash
# Run the whole test suite on two real-engine hosts:
#   - this machine: set up (engines, dockerd, test user, images), then every
#     unit test and every real-engine test;
#   - the Debian 13 guest (scripts/test-host.sh debian13: cgroup v2, AppArmor,
#     Docker 26, Podman 5 with crun and pasta, systemd): the real-engine tests
#     that the guest can run in the time (see GUEST_TESTS below), with the very
#     test binaries built here once.
# Both run at the same time (the guest has one CPU of its own); a failure on
# either host fails the run. DINDBOX_TEST_HOSTS=this or =debian13 runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${DINDBOX_TEST_HOSTS:-this,debian13}
threads=${DINDBOX_TEST_THREADS:-2}
# The guest has one CPU: its tests run one at a time, so that no test waits on
# another's nested engines (a clean stop within the engines' 10 s, say).
guest_threads=${DINDBOX_GUEST_TEST_THREADS:-1}
say() { printf '==> %s\n' "$*" >&2; }

log_dir=$(mktemp -d /tmp/dindbox-test.XXXXXX)
build_pid=
if [[ ",$hosts," == *,debian13,* ]]; then
    # The guest's image (minutes, when not cached) builds meanwhile; its
    # tools are installed first, so that apt runs once at a time.
    ./scripts/test-host.sh debian13 tools
    ./scripts/test-host.sh debian13 build >"$log_dir/debian13-build.log" 2>&1 &
    build_pid=$!
fi

./scripts/setup-host.sh

say "building the test binaries (once, for both hosts)"
binaries=$(cargo test --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["target"]["kind"][0], m["target"]["name"], m["executable"])
') || { cargo test --locked --no-run; exit 1; }
[ -n "$binaries" ] || { echo "error: cargo built no test binary" >&2; exit 1; }

# The real-engine tests the guest runs (binary: filters; none = all of it).
# A user-mode kernel has one CPU and every system call of the guest costs a
# round trip through the host, so the guest runs what differs between the
# hosts: the nested matrix (both host engines x both inner engines), nested
# networking, sock and common, rootless Podman with each inner engine,
# --systemd rootful and rootless, step-down, doctor --check, and the units
# and Quadlet files of `export systemd` under systemd as PID 1, and the
# isolation suite. The rest (configuration files, lifecycle commands, bad
# input) is the same code on any kernel and runs here only, as does
# tests/devcontainer.rs (the devcontainer CLI needs Node.js, which the guest
# has not) and the git worktree test (the guest has no git). The pod of
# `export kube` does not come up under the guest's `podman kube play`
# (Podman 5.4, AppArmor: its init's bind of /proc/sys/net is refused with
# EACCES), so only that export's bad-input and manifest tests run there. gVisor's tests are skipped
# there: the guest has no runsc, which cannot run under user-mode Linux ("None of the address space
# sizes could be successfully mmaped").
# Where its kernel and engines differ from this machine's, the plans make up
# for it and the same tests run: no nftables NAT (CONFIG_NFT_NAT unset), so
# inner engines use legacy iptables, whose raw socket needs NET_RAW, which
# Podman sandboxes get there (src/plan/nat.rs); cgroup v2, where crun inside
# a sandbox raises its memlock limit to load its device filter, so dind
# sandboxes start with none (src/plan/memlock.rs).
GUEST_SKIP=(--skip gvisor)
GUEST_TESTS=(
    "engines: docker_host_runs_nested podman_host_runs_nested nested_ sock_mode common_mode workspace_is privileged_when_asked dind_sandbox_cannot exit_status_is"
    "rootless:"
    "systemd:"
    "doctor:"
    "isolation: rootful_ rootless_ workspace_"
    "export:"
    "export_kube: bad_input the_manifests"
)

guest_pid=
if [[ ",$hosts," == *,debian13,* ]]; then
    wait "$build_pid" || { cat "$log_dir/debian13-build.log" >&2; echo "error: the debian13 guest's image did not build" >&2; exit 1; }
    ./scripts/test-host.sh debian13 up
    (
        status=0
        for entry in "${GUEST_TESTS[@]}"; do
            name=${entry%%:*}
            read -ra filters <<<"${entry#*:}"
            path=$(awk -v n="$name" '$1 == "test" && $2 == n {print $3}' <<<"$binaries")
            [ -n "$path" ] || { echo "error: no test binary '$name'" >&2; status=1; continue; }
            echo "==> [debian13] $name ${filters[*]}"
            ./scripts/test-host.sh debian13 run -- "$path" --test-threads="$guest_threads" "${GUEST_SKIP[@]}" "${filters[@]}" 2>&1 || status=1
        done
        exit $status
    ) >"$log_dir/debian13.log" 2>&1 &
    guest_pid=$!
    say "the debian13 guest runs its tests meanwhile (log: $log_dir/debian13.log)"
fi

this_status=0
if [[ ",$hosts," == *,this,* ]]; then
    while read -r kind name path; do
        say "this host: $kind $name"
        # This host checks `export kube`'s manifests against Kubernetes'
        # schema (setup-host.sh installs the tool); the guest has no pip.
        DINDBOX_REQUIRE_KUBE_VALIDATE=1 "$path" --test-threads="$threads" || this_status=1
    done <<<"$binaries"
fi

guest_status=0
if [ -n "$guest_pid" ]; then
    say "waiting for the debian13 guest's tests"
    wait "$guest_pid" || guest_status=1
    sed 's/^/[debian13] /' "$log_dir/debian13.log"
    ./scripts/test-host.sh debian13 down
fi

[ "$this_status" = 0 ] && say "this host: passed" || say "this host: FAILED"
[ -z "$guest_pid" ] || { [ "$guest_status" = 0 ] && say "debian13 guest: passed" || say "debian13 guest: FAILED (log: $log_dir/debian13.log)"; }
[ "$this_status" = 0 ] && [ "$guest_status" = 0 ]
