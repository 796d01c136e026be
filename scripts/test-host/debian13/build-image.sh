#!/usr/bin/env bash
# The second stage of the Debian 13 test guest's recipe (scripts/test-host.sh
# runs it as root when its digest, of both stages and files/, is not cached):
#   OUT/root.img  a copy of PKGROOT (the first stage's root) with files/ and
#                 the guest's configuration, as an ext4 disk image (the
#                 guest's /dev/ubda)
#   OUT/linux     Debian 13's user-mode kernel (user-mode-linux); it needs
#                 trixie's C library, which test-host.sh points it at (PKGROOT's)
# Usage: build-image.sh OUT PKGROOT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
pkgroot=$2
say() { printf '==> %s\n' "$*" >&2; }

root=$out/staging
rm -rf "$root"
say "copying the packages' root"
cp -a "$pkgroot" "$root"

say "configuring the guest"
cp -a "$here/files/." "$root/"
uml_release=$(ls "$root/usr/lib/uml/modules")
# modprobe looks in /lib/modules/RELEASE; user-mode-linux keeps them elsewhere.
mkdir -p "$root/usr/lib/modules"
ln -sfn "/usr/lib/uml/modules/$uml_release" "$root/usr/lib/modules/$uml_release"
chroot "$root" depmod "$uml_release"
# The rootless test user, as on the host (useradd gives it subordinate ids),
# lingering so that its systemd user manager (and podman.socket) runs from boot.
chroot "$root" id dindbox-test >/dev/null 2>&1 || chroot "$root" useradd --create-home --shell /bin/bash dindbox-test
mkdir -p "$root/var/lib/systemd/linger" && : >"$root/var/lib/systemd/linger/dindbox-test"
chroot "$root" systemctl enable dindbox-test-host-boot.service dindbox-test-host-agent.service \
    docker.service podman.socket >/dev/null 2>&1
chroot "$root" systemctl --global enable podman.socket >/dev/null 2>&1
# The user-mode kernel has iptables' NAT (CONFIG_IP_NF_NAT) but not nftables'
# (no CONFIG_NFT_NAT): `iptables -t nat` over nf_tables fails with "TABLE_ADD
# failed (Operation not supported): table nat", and dockerd with it. Debian's
# legacy iptables works with that kernel.
chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
chroot "$root" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null
# A guest without a login: no gettys; no maintenance timers that would run during tests.
chroot "$root" systemctl mask getty.target console-getty.service serial-getty@.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    fstrim.timer systemd-tmpfiles-clean.timer >/dev/null 2>&1

say "making the ext4 image"
rm -f "$out/root.img"
truncate -s 48G "$out/root.img"
mkfs.ext4 -q -F -L debian13 -d "$root" "$out/root.img"
rm -rf "$root"

say "the user-mode kernel ($uml_release)"
cp "$pkgroot/usr/bin/linux.uml" "$out/linux"
printf '%s\n' "$uml_release" >"$out/uml-release"
