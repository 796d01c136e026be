#!/usr/bin/env bash
# A second real-engine test host: a Debian 13 (trixie) guest under Debian's
# user-mode Linux kernel (6.12), with a cgroup v2 hierarchy of its own,
# AppArmor, systemd as PID 1, dockerd (docker.io 26) and podman.socket (Podman
# 5, crun, pasta) as Debian enables them, and the rootless user dindbox-test.
#
#   scripts/test-host.sh debian13 up           build once (cached), boot, set up
#   scripts/test-host.sh debian13 run -- CMD   CMD as root in this checkout in the
#                                              guest; its stdout, stderr, status
#   scripts/test-host.sh debian13 down         stop the guest
#   scripts/test-host.sh debian13 status       up or down
#   scripts/test-host.sh debian13 build        build (or find cached) the image; print its directory
#   scripts/test-host.sh debian13 boot         build and boot only, no set-up of images
#   scripts/test-host.sh debian13 tools        install what building it needs here (apt)
#
# The guest's root is built from Debian's packages (debootstrap from the apt
# mirror, no image download) by scripts/test-host/debian13/build-packages.sh
# (cached under /var/cache/dindbox-test-host/packages-DIGEST) and
# build-image.sh (under /var/cache/dindbox-test-host/DIGEST), each DIGEST
# that of its recipe: a changed recipe builds again (the image stage alone,
# about 20 s, when only files/ or build-image.sh changed). The guest
# writes to a copy-on-write file beside its state (/var/lib/dindbox-test-host/
# debian13), so the cached image is never changed, and the guest's engines keep
# their images from one `up` to the next. This checkout (and the cargo target
# directory, when it is elsewhere) is shared at the same absolute path (hostfs).
# The guest's network is a dummy uplink: it reaches nothing, and the host's
# network is not touched. dindbox's images are exported from the host's
# engines (run scripts/setup-host.sh first; `up` does) and loaded into the
# guest's when their IDs differ.
#
# Environment: DINDBOX_TEST_HOST_MEM (guest memory, default 6G),
# DINDBOX_TEST_HOST_MIRROR (default: the host's Debian mirror).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/.." && pwd)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$1" >&2; [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2; exit "${3:-1}"; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

[ $# -ge 2 ] || { usage >&2; exit 2; }
guest=$1 action=$2
shift 2
[ "$guest" = debian13 ] || die "unknown test host '$guest'" "the one test host is debian13" 2
[ "$(id -u)" = 0 ] || die "the test host boots a kernel and mounts images: run this as root" "sudo $0 $guest $action" 2

recipe=$here/test-host/$guest
state=/var/lib/dindbox-test-host/$guest
cache_root=/var/cache/dindbox-test-host
mem=${DINDBOX_TEST_HOST_MEM:-6G}
ctl=$state/ctl

# The two stages' digests: packages (first stage and its list, and the mirror),
# image (that, the second stage and files/).
packages_digest() {
    (cd "$recipe" && sha256sum build-packages.sh packages; echo "mirror $(mirror)") | sha256sum | cut -c1-16
}
image_digest() {
    (packages_digest; cd "$recipe" && find build-image.sh files -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16
}

mirror() {
    if [ -n "${DINDBOX_TEST_HOST_MIRROR:-}" ]; then echo "$DINDBOX_TEST_HOST_MIRROR"; return; fi
    local m
    m=$(grep -hs '^URIs:\|^deb ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
        | grep -o 'https\?://[^ ]*/debian/\?' | grep -v security | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}

need_tools() {
    local missing=() cmd pkg
    for pair in debootstrap:debootstrap patchelf:patchelf mkfs.ext4:e2fsprogs python3:python3; do
        cmd=${pair%%:*} pkg=${pair#*:}
        command -v "$cmd" >/dev/null || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]} (to build and run the test guest)"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

image_dir() { echo "$cache_root/$(image_digest)"; }
packages_dir() { echo "$cache_root/packages-$(packages_digest)"; }

# Run stage $1 (its script's name) into $2 unless done; $3... its arguments.
stage() {
    local script=$1 dir=$2 tmp start
    shift 2
    [ -f "$dir/done" ] && return 0
    start=$SECONDS
    tmp=$dir.building
    rm -rf "$tmp"
    mkdir -p "$tmp"
    say "building the $guest guest: $script ($(basename "$dir"))"
    "$recipe/$script" "$tmp" "$@"
    echo "$((SECONDS - start))" >"$tmp/build-seconds"
    : >"$tmp/done"
    mv "$tmp" "$dir"
    say "$script: $((SECONDS - start)) s"
}

build() {
    [ -f "$(image_dir)/done" ] && return 0
    need_tools
    mkdir -p "$cache_root"
    exec 9>"$cache_root/.lock"
    flock 9
    stage build-packages.sh "$(packages_dir)" "$(mirror)"
    stage build-image.sh "$(image_dir)" "$(packages_dir)/root"
    echo "$(packages_dir)" >"$(image_dir)/packages"
    flock -u 9
}

pid_alive() { [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }
agent_up() { pid_alive && [ -f "$ctl/agent-ready" ]; }

target_dir() {
    # Where cargo builds (and so where the test binaries are), when it is not in the checkout.
    local t=${CARGO_TARGET_DIR:-$checkout/target}
    case "$t" in "$checkout"/*) ;; *) echo "$t" ;; esac
}

boot() {
    local dir shares release start
    dir=$(image_dir)
    mkdir -p "$state"
    if [ "$(cat "$state/image" 2>/dev/null)" != "$dir" ]; then
        rm -f "$state/root.cow" "$state/images.loaded"
        echo "$dir" >"$state/image"
    fi
    rm -rf "$ctl"
    mkdir -p "$ctl/jobs"
    shares="$checkout,$state"
    [ -z "$(target_dir)" ] || { mkdir -p "$(target_dir)"; shares+=",$(target_dir)"; }
    release=$(cat "$dir/uml-release")
    # The kernel is linked against trixie's C library, newer than this host's:
    # a copy of it that loads the one in the image's root.
    cp "$dir/linux" "$state/linux"
    local libroot
    libroot=$(cat "$dir/packages")/root
    patchelf --set-interpreter "$libroot/lib64/ld-linux-x86-64.so.2" \
        --set-rpath "$libroot/usr/lib/x86_64-linux-gnu" "$state/linux"
    # Where the CPU's XSAVE area is larger than the one the user-mode kernel
    # sizes (AMX), the host takes its processes' registers only whole: a shim
    # between them (scripts/test-host/xstate-shim.c).
    local preload=
    if grep -qw amx_tile /proc/cpuinfo; then
        local shim=$state/xstate-shim.so
        if [ ! -f "$shim" ] || [ "$here/test-host/xstate-shim.c" -nt "$shim" ]; then
            gcc -O2 -Wall -shared -fPIC -o "$shim" "$here/test-host/xstate-shim.c" -ldl
        fi
        preload=LD_PRELOAD=$shim
    fi
    say "booting the $guest guest (user-mode Linux $release, $mem; console: $state/console.log)"
    start=$(date +%s.%N)
    # Its memory file goes to /dev/shm (tmpfs, exec allowed); a session of its own,
    # so that `down` can stop every process of it by its process group.
    (
        cd "$state"
        exec setsid env TMPDIR=/dev/shm $preload "$state/linux" \
            "mem=$mem" umid="dindbox-$guest" uml_dir="$state" \
            "ubd0=$state/root.cow,$dir/root.img" root=/dev/ubda rw \
            init=/usr/lib/systemd/systemd \
            lsm=landlock,lockdown,yama,integrity,apparmor apparmor=1 \
            "dindbox.share=$shares" "dindbox.ctl=$ctl" \
            con=null con0=null,fd:1 ssl=null quiet systemd.show_status=error
    ) </dev/null >"$state/console.log" 2>&1 &
    echo $! >"$state/pid"
    local deadline=$((SECONDS + 60))
    until [ -f "$ctl/agent-ready" ]; do
        pid_alive || { tail -n 30 "$state/console.log" >&2; die "the $guest guest stopped while booting" "its console: $state/console.log"; }
        [ $SECONDS -lt $deadline ] || { tail -n 30 "$state/console.log" >&2; die "the $guest guest's agent did not start in 60 s" "its console: $state/console.log; stop it with: $0 $guest down"; }
        sleep 0.1
    done
    echo "$(date +%s.%N) $start" | awk '{printf "%.1f\n", $1 - $2}' >"$state/boot-seconds"
    say "agent answers after $(cat "$state/boot-seconds") s (guest uptime $(cat "$ctl/agent-ready") s)"
}

# Run argv in the guest: stream its output back, return its status.
run_in_guest() {
    agent_up || die "the $guest guest is not up" "$0 $guest up"
    local id job
    id=$(date +%s%N)-$$
    job=$ctl/jobs/$id
    mkdir -p "$ctl/jobs/.new-$id"
    printf '%s\0' "$@" >"$ctl/jobs/.new-$id/argv"
    pwd >"$ctl/jobs/.new-$id/cwd"
    env | grep -E '^(DINDBOX_[A-Z_]*|BENCH_[A-Z_]*|CARGO_TARGET_DIR|RUST_BACKTRACE|RUST_TEST_THREADS|NO_COLOR)=' | tr '\n' '\0' >"$ctl/jobs/.new-$id/env" || true
    mv "$ctl/jobs/.new-$id" "$job"
    python3 - "$job" "$state/pid" <<'PYTHON'
import os, signal, sys, time
job, pidfile = sys.argv[1], sys.argv[2]
cancelled = 0
def cancel(signum, frame):
    global cancelled
    cancelled = signum
    open(os.path.join(job, "cancel"), "w").close()
signal.signal(signal.SIGINT, cancel)
signal.signal(signal.SIGTERM, cancel)
streams = [(os.path.join(job, "out"), sys.stdout.buffer, [0]),
           (os.path.join(job, "err"), sys.stderr.buffer, [0])]
def drain():
    for path, sink, pos in streams:
        try:
            with open(path, "rb") as f:
                f.seek(pos[0])
                data = f.read()
        except FileNotFoundError:
            continue
        if data:
            sink.write(data)
            sink.flush()
            pos[0] += len(data)
uml = int(open(pidfile).read())
while True:
    done = os.path.exists(os.path.join(job, "rc"))
    drain()
    if done:
        break
    try:
        os.kill(uml, 0)
    except ProcessLookupError:
        print("error: the test guest stopped while the command ran", file=sys.stderr)
        sys.exit(125)
    time.sleep(0.05)
rc = int(open(os.path.join(job, "rc")).read().strip() or "125")
sys.exit(128 + cancelled if cancelled and rc == 0 else rc)
PYTHON
    local rc=$?
    rm -rf "$job"
    return $rc
}

# dindbox's images from the host's engines, as archives the guest loads; kept
# (named by the images' IDs) until the images change.
export_images() {
    local version ids images=() out
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$checkout/Cargo.toml" | head -n 1)
    images=("localhost/dindbox/sandbox:$version" "localhost/dindbox/sandbox-systemd:$version" localhost/dindbox/canary:latest)
    mkdir -p "$state/images"
    for eng in docker podman; do
        ids=$("$eng" image inspect --format '{{.Id}}' "${images[@]}") \
            || die "$eng on this host lacks dindbox's images" "./scripts/setup-host.sh builds them"
        out=$state/images/$eng-$(echo "$ids" | sha256sum | cut -c1-16).tar
        if [ ! -f "$out" ]; then
            rm -f "$state/images/$eng-"*.tar
            say "saving dindbox's images from this host's $eng for the guest"
            if [ "$eng" = docker ]; then
                docker save -o "$out.tmp" "${images[@]}"
            else
                podman save -q -m --format docker-archive -o "$out.tmp" "${images[@]}"
            fi
            mv "$out.tmp" "$out"
        fi
        echo "$ids" >"$state/images/$eng.ids"
    done
    # The canary's preload cache and the static busybox it was made from, so
    # that the guest's `dindbox image build` finds the same recipe digests.
    install -m 644 "$HOME/.cache/dindbox/preload/canary.tar" "$HOME/.cache/dindbox/preload/canary.digest" "$state/images/"
    install -m 755 "$(command -v busybox)" "$state/images/busybox"
}

up() {
    build
    if agent_up; then
        say "the $guest guest is up"
    else
        [ ! -f "$state/pid" ] || down
        boot
    fi
    (cd "$checkout" && ./scripts/setup-host.sh)
    export_images
    (cd "$checkout" && run_in_guest "$recipe/guest-setup.sh" "$state/images")
}

down() {
    if ! pid_alive; then
        rm -f "$state/pid"
        say "the $guest guest is not running"
        return 0
    fi
    local pid deadline
    pid=$(cat "$state/pid")
    if [ -f "$ctl/agent-ready" ]; then
        say "stopping the $guest guest (systemctl poweroff)"
        run_in_guest systemctl --no-block poweroff >/dev/null 2>&1 || true
    fi
    deadline=$((SECONDS + 30))
    [ -f "$ctl/agent-ready" ] || deadline=$SECONDS
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        say "the guest did not power off: killing its processes (session $pid)"
        kill -KILL -- "-$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$state/pid" "$ctl/agent-ready"
}

case "$action" in
    tools) need_tools ;;   # what building and booting the guest needs here, from apt
    build) build; image_dir ;;
    boot) build; agent_up || boot ;;    # boot only: no set-up of images (for debugging)
    up) up ;;
    run)
        [ "${1:-}" = -- ] && shift
        [ $# -gt 0 ] || die "run needs a command" "$0 $guest run -- CMD ARGS..." 2
        cd "$checkout"
        set +e
        run_in_guest "$@"
        exit $?
        ;;
    down) down ;;
    status)
        if agent_up; then echo "up (pid $(cat "$state/pid"), image $(cat "$state/image"))"; else echo down; fi ;;
    *) usage >&2; exit 2 ;;
esac
