#!/usr/bin/env bash
# The first stage of the Debian 13 test guest's recipe (scripts/test-host.sh
# runs it as root when its digest, of this file and `packages`, is not cached):
# OUT/root, trixie debootstrapped from MIRROR with the packages of `packages`.
# Usage: build-packages.sh OUT MIRROR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mirror=$2
root=$out/root
say() { printf '==> %s\n' "$*" >&2; }

mapfile -t packages < <(grep -v '^\s*\(#\|$\)' "$here/packages")

say "debootstrap trixie from $mirror into $root"
debootstrap --variant=minbase trixie "$root" "$mirror" >"$out/debootstrap.log" 2>&1 || {
    echo "error: debootstrap failed; the end of $out/debootstrap.log:" >&2
    tail -n 20 "$out/debootstrap.log" >&2
    exit 1
}
mount --bind /proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
# No service starts in the chroot; the packages' units are still enabled.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
say "installing ${#packages[@]} packages"
chroot "$root" apt-get update -q >"$out/apt.log" 2>&1
if ! DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends \
        "${packages[@]}" >>"$out/apt.log" 2>&1; then
    echo "error: apt-get install in the guest's root failed; the end of $out/apt.log:" >&2
    tail -n 20 "$out/apt.log" >&2
    exit 1
fi
rm -f "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"*
umount "$root/proc"
trap - EXIT

