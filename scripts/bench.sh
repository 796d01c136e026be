#!/usr/bin/env bash
# dindbox's performance benchmark: a measurement, not a test (it exits 0 even
# when a case is above target; it exits 1 only when a command fails).
#
# What it measures: the wall-clock time, in milliseconds, of one whole command
# line from start to exit, for
#   floor              docker run --rm localhost/dindbox/canary true   (plain host run)
#   dind E/I           dindbox run --rm -m dind --engine E --inner I
#                        -x 'I run --rm localhost/dindbox/canary true'
#                      for E, I in docker, podman: start a sandbox, start its
#                      inner engine, run one nested container, remove it all
#   common docker      dindbox run --rm -m common --engine docker -x true
#   sock docker        dindbox run --rm -m sock --engine docker -x 'docker ps -q'
#   common gvisor      dindbox run --rm -m common --engine docker --runtime runsc -x true
#                      (the sandbox under gVisor, registered by setup-host.sh;
#                      left out where Docker has no runsc runtime)
#   systemd dind       dindbox run --rm --systemd --host-root -m dind --engine docker --inner docker
#                        -x 'docker run --rm localhost/dindbox/canary true'
#                      (systemd boots as PID 1, the inner engine a unit of it)
#   attach kept        dindbox run -n KEPT -m dind --engine docker --inner docker
#                        -x 'docker run --rm localhost/dindbox/canary true'
#                      into a kept sandbox made in the warm-up round (attach,
#                      no start): what each later command in a sandbox costs
#   seed recipe        (only with --with-seed-recipe, run once, after the rounds)
#                      what dindbox replaces: the container dindbox would start
#                      (the flags of `dindbox plan -m dind --engine docker
#                      --inner docker`), but with `nohup dockerd & sleep 10;
#                      docker run ...` as its command instead of dindbox's init.
# The cases run interleaved round-robin, one of each per round (the starting
# case rotates each round), so machine noise hits all of them alike; a warm-up
# round comes first and is not counted. Rounds: BENCH_ROUNDS (default 7).
#
# How to read it: per case the median and the minimum over the rounds, and
# ratio = case median / floor median. A ratio of 3.00 means the whole sandbox
# round trip costs as much as three plain `docker run`s on this machine; the
# target is that every dind case stays at or below 3.0. Ratios compare runs
# from the same invocation only; milliseconds vary from machine to machine.
#
# Each command's output goes to a log in TARGET_DIR/bench/DATE-TIME/ (one log
# per case, all rounds appended). Needs root: it runs ./scripts/setup-host.sh
# first (a quick no-op when the host is ready) and builds the release binary.
#
# Usage: scripts/bench.sh [--with-seed-recipe]
set -euo pipefail
cd "$(dirname "$0")/.."

with_seed=0
for arg in "$@"; do
    case "$arg" in
        --with-seed-recipe) with_seed=1 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "error: unknown argument: $arg (usage: scripts/bench.sh [--with-seed-recipe])" >&2; exit 2 ;;
    esac
done

rounds=${BENCH_ROUNDS:-7}
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: BENCH_ROUNDS must be a positive whole number, not '$rounds'" >&2
    exit 2
fi

say() { printf '==> %s\n' "$*" >&2; }

triple=$(sed -n 's/^target = "\(.*\)"/\1/p' .cargo/config.toml)
if [ -x /usr/local/sbin/dindbox-test-host-agent ]; then
    # In the test guest (scripts/test-host.sh debian13 run -- scripts/bench.sh):
    # `up` set it up, and the binary is the host's build, shared with the checkout.
    target_dir=${CARGO_TARGET_DIR:-$PWD/target}
    dindbox="$target_dir/$triple/release/dindbox"
    if [ ! -x "$dindbox" ]; then
        echo "error: no release binary at $dindbox in the test guest" >&2
        echo "hint: build it on the host first: cargo build --release --locked" >&2
        exit 1
    fi
else
    ./scripts/setup-host.sh
    say "building dindbox (release)"
    cargo build --release --locked -q
    target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    dindbox="$target_dir/$triple/release/dindbox"
    if [ ! -x "$dindbox" ]; then
        echo "error: no release binary at $dindbox after the build" >&2
        exit 1
    fi
fi

log_dir="$target_dir/bench/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$log_dir"

export BENCH_DINDBOX="$dindbox" BENCH_LOG_DIR="$log_dir" BENCH_ROUNDS="$rounds" \
       BENCH_WITH_SEED="$with_seed"
exec python3 - <<'PYTHON'
import atexit, json, os, statistics, subprocess, sys, time

DINDBOX = os.environ["BENCH_DINDBOX"]
LOG_DIR = os.environ["BENCH_LOG_DIR"]
ROUNDS = int(os.environ["BENCH_ROUNDS"])
WITH_SEED = os.environ["BENCH_WITH_SEED"] == "1"
TARGET = 3.0
CANARY = "localhost/dindbox/canary"
KEPT = f"dindbox-bench-kept-{os.getpid()}"


def say(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


def dind(engine, inner):
    return [DINDBOX, "run", "--rm", "-m", "dind", "--engine", engine, "--inner", inner,
            "-x", f"{inner} run --rm {CANARY} true"]


# (case name, log file stem, argv); the first one is the floor.
CASES = [
    ("floor docker run", "floor", ["docker", "run", "--rm", CANARY, "true"]),
    ("dind docker/podman", "dind-docker-podman", dind("docker", "podman")),
    ("dind docker/docker", "dind-docker-docker", dind("docker", "docker")),
    ("dind podman/podman", "dind-podman-podman", dind("podman", "podman")),
    ("dind podman/docker", "dind-podman-docker", dind("podman", "docker")),
    ("common docker", "common-docker",
     [DINDBOX, "run", "--rm", "-m", "common", "--engine", "docker", "-x", "true"]),
    ("sock docker", "sock-docker",
     [DINDBOX, "run", "--rm", "-m", "sock", "--engine", "docker", "-x", "docker ps -q >/dev/null"]),
    ("common gvisor docker", "common-gvisor-docker",
     [DINDBOX, "run", "--rm", "-m", "common", "--engine", "docker", "--runtime", "runsc",
      "-x", "true"]),
    ("systemd dind docker/docker", "systemd-dind-docker-docker",
     [DINDBOX, "run", "--rm", "--systemd", "--host-root", "-m", "dind", "--engine", "docker", "--inner",
      "docker", "-x", f"docker run --rm {CANARY} true"]),
    ("attach kept docker/docker", "attach-kept",
     [DINDBOX, "run", "-n", KEPT, "-m", "dind", "--engine", "docker", "--inner", "docker",
      "-x", f"docker run --rm {CANARY} true"]),
]

# gVisor only where Docker has it registered (setup-host.sh does on the build
# machine; the Debian 13 test guest has none: runsc cannot run under user-mode Linux).
def docker_has_runsc():
    out = subprocess.run(["docker", "info", "--format", "{{json .Runtimes}}"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return out.returncode == 0 and '"runsc"' in out.stdout


if not docker_has_runsc():
    say("Docker has no runsc runtime here: the gVisor case is left out")
    CASES = [c for c in CASES if c[1] != "common-gvisor-docker"]


def tail(path, n=20):
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:])


def timed(name, stem, argv, label):
    """Run argv once, its output appended to its log; return (ms, status)."""
    path = os.path.join(LOG_DIR, stem + ".log")
    with open(path, "a") as log:
        log.write(f"\n=== {label}: {subprocess.list2cmdline(argv)}\n")
        log.flush()
        start = time.perf_counter()
        status = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        ms = (time.perf_counter() - start) * 1000.0
        log.write(f"=== exit status {status}, {ms:.0f} ms\n")
    return ms, status, path


def run_or_die(name, stem, argv, label):
    ms, status, path = timed(name, stem, argv, label)
    if status != 0:
        print(f"error: case '{name}' failed ({label}) with exit status {status}:\n"
              f"  {subprocess.list2cmdline(argv)}\n"
              f"the end of {path}:\n{tail(path)}", file=sys.stderr)
        sys.exit(1)
    return ms


def names(engine, kind):
    """dindbox-* containers (kind "ps") or volumes (kind "volume") of an engine."""
    cmd = [engine, "ps", "-a"] if kind == "ps" else [engine, "volume", "ls"]
    fmt = "{{.Names}}" if kind == "ps" else "{{.Name}}"
    try:
        out = subprocess.run(cmd + ["--format", fmt], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return {n for n in out.stdout.split() if n.startswith("dindbox-")}, ""


def leftovers():
    return {(e, k): names(e, k)[0] for e in ("docker", "podman") for k in ("ps", "volume")}


def seed_argv():
    """The container `dindbox plan` would start, with the seeds' dockerd+sleep command."""
    plan_out = subprocess.run([DINDBOX, "plan", "-m", "dind", "--engine", "docker",
                               "--inner", "docker", "--json"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if plan_out.returncode != 0:
        print("error: `dindbox plan -m dind --engine docker --inner docker --json` failed:\n"
              + plan_out.stderr, file=sys.stderr)
        sys.exit(1)
    doc = json.loads(plan_out.stdout)
    argv, plan = doc["argv"], doc["plan"]
    image = plan["image"]
    head = argv[:argv.index(image)]          # drops the image and `init --spec ...`
    name = f"dindbox-bench-seed-{os.getpid()}"
    volumes = set(plan.get("volumes", []))
    out = [head[0], "run", "--rm"]
    i = 2                                    # after ENGINE run
    while i < len(head):
        a = head[i]
        nxt = head[i + 1] if i + 1 < len(head) else ""
        if a == "--entrypoint":              # dindbox's init as entrypoint
            i += 2
        elif a == "-v" and nxt.endswith(":/usr/local/libexec/dindbox/dindbox:ro"):
            i += 2                           # dindbox's binary, mounted for the init
        elif a == "--label":                 # dindbox's own labels: not the recipe's
            i += 2
        elif a in ("--name", "--hostname"):
            out += [a, name]
            i += 2
        elif a == "-v" and nxt.split(":", 1)[0] in volumes:
            # the named storage volume becomes anonymous, so --rm removes it
            out += ["-v", nxt.split(":", 1)[1]]
            i += 2
        else:
            out.append(a)
            i += 1
    # The preloaded canary.tar (mounted by the plan) stands in for a registry pull.
    script = ("nohup dockerd >/var/log/dockerd.log 2>&1 & sleep 10; "
              "docker load -q -i /run/dindbox/preload/canary.tar >/dev/null && "
              f"docker run --rm {CANARY} true; rc=$?; "
              "[ $rc = 0 ] || { echo '--- inner dockerd log:'; tail -n 5 /var/log/dockerd.log; }; "
              "exit $rc")
    return out + ["--entrypoint", "/bin/sh", image, "-c", script]


def drop_kept():
    subprocess.call([DINDBOX, "rm", "-f", "--engine", "docker", KEPT], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


atexit.register(drop_kept)  # also when a case fails and the benchmark stops early
before = leftovers()

say(f"warm-up round (not counted); logs in {LOG_DIR}")
for name, stem, argv in CASES:
    run_or_die(name, stem, argv, "warm-up")

times = {name: [] for name, _, _ in CASES}
n = len(CASES)
for r in range(ROUNDS):
    say(f"round {r + 1}/{ROUNDS}")
    for k in range(n):
        name, stem, argv = CASES[(r + k) % n]
        times[name].append(run_or_die(name, stem, argv, f"round {r + 1}"))

seed = None
if WITH_SEED:
    say("seed recipe, once (10+ s)")
    argv = seed_argv()
    ms, status, path = timed("seed recipe", "seed-recipe", argv, "once")
    seed = (ms, status, path, argv)

floor = statistics.median(times[CASES[0][0]])
rows = []
print()
print(f"dindbox benchmark: {ROUNDS} round{'s' if ROUNDS != 1 else ''} (+1 warm-up), wall clock per command, "
      f"ratio = median / floor median")
print(f"{'case':<30}{'median':>8}{'min':>8}{'ratio':>8}")
above = []
for name, _, _ in CASES:
    med, low = statistics.median(times[name]), min(times[name])
    ratio = med / floor
    flag = ""
    if name != CASES[0][0] and ratio > TARGET:
        flag = f"  ABOVE {TARGET:.1f}"
        above.append(name)
    print(f"{name:<30}{med:>8.0f}{low:>8.0f}{ratio:>8.2f}{flag}")
if seed is not None:
    ms, status, path, argv = seed
    label = "seed recipe (1 run)"
    if status == 0:
        print(f"{label:<30}{ms:>8.0f}{ms:>8.0f}{ms / floor:>8.2f}  reference, not a target")
    else:
        print(f"{label:<30}{'FAILED':>8}{'':>8}{'':>8}  exit status {status} after {ms:.0f} ms")

dind_cases = [name for name, _, _ in CASES if name.startswith("dind ")]
worst = max(dind_cases, key=lambda c: statistics.median(times[c]))
worst_ratio = statistics.median(times[worst]) / floor
verdict = "met" if worst_ratio <= TARGET else "NOT met"
print()
print(f"target: dind ratio <= {TARGET:.1f} — worst dind case {worst_ratio:.2f} ({worst}): {verdict}")
if above:
    print(f"cases above {TARGET:.1f}: {', '.join(above)}")
else:
    print(f"no case above {TARGET:.1f}")

if seed is not None and seed[1] != 0:
    ms, status, path, argv = seed
    print(f"\nnote: the seed recipe failed (exit status {status}); this is the reference, "
          f"not dindbox, so the benchmark goes on.\n  {subprocess.list2cmdline(argv)}\n"
          f"the end of {path}:\n{tail(path, 8)}", end="")

drop_kept()
after = leftovers()
print()
clean = True
for (engine, kind), now in after.items():
    what = "containers" if kind == "ps" else "volumes"
    if now is None:
        print(f"warning: could not list {engine} {what}: {names(engine, kind)[1]}")
        clean = False
        continue
    new = sorted(now - (before.get((engine, kind)) or set()))
    old = sorted(now & (before.get((engine, kind)) or set()))
    if new:
        print(f"LEFTOVER: {engine} {what} named dindbox-* appeared during the benchmark: {' '.join(new)}")
        clean = False
    if old:
        print(f"note: {engine} {what} named dindbox-* were there before the benchmark "
              f"(left alone): {' '.join(old)}")
if clean:
    print("no dindbox-* container or volume left in docker or podman")
print(f"logs: {LOG_DIR}")
PYTHON
