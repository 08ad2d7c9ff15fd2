#!/usr/bin/env bash
# Builds the boot rehearsal's clean system, once: a debootstrap minbase of Debian bookworm with what an Amazon
# Linux 2023 AMI has before user data runs (systemd, curl, CA certificates, Python 3), plus, downloaded but
# not installed, the Debian packages packages.tsv maps to (instances have no network to a mirror) and those the
# migration rehearsal's old single server installs with apt (old-server.packages), and the AWS CLI from PyPI in a
# venv at /opt/awscli, not on PATH until the boot's package step asks for awscli-2.
#   build-rootfs.sh <dest-dir> <awscli-version> <debian-suite>
set -euo pipefail
dest="$1" awscli="$2" suite="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mirror=http://deb.debian.org/debian
base=systemd,systemd-sysv,dbus,curl,ca-certificates,python3,python3-venv,iproute2,procps
mapfile -t archive < <({ awk -F'\t' '!/^#/ && NF == 2 { n = split($2, p, ","); for (i = 1; i <= n; i++) if (p[i] !~ /^stand-in:/) print p[i] }' "$here/packages.tsv"; grep -v '^#' "$here/old-server.packages"; } | sort -u)

tmp="$dest.tmp"
cleanup() {
  for m in proc dev/pts dev; do
    mountpoint -q "$tmp/$m" 2>/dev/null && umount "$tmp/$m"
  done
  return 0
}
trap cleanup EXIT
rm -rf "$tmp"
debootstrap --variant=minbase --include="$base" "$suite" "$tmp" "$mirror"
mount -t proc proc "$tmp/proc"
mount --bind /dev "$tmp/dev"
mount --bind /dev/pts "$tmp/dev/pts"
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
chroot "$tmp" apt-get install -y -q --download-only --no-install-recommends "${archive[@]}"
# The AWS CLI: downloaded by this machine's pip (its index and trust settings), installed offline inside.
wheels="$tmp/var/cache/awscli-wheels"
mkdir -p "$wheels"
python3 -m pip download -q --disable-pip-version-check --no-input --only-binary=:all: --implementation cp \
  --python-version "$(chroot "$tmp" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --platform "manylinux2014_$(uname -m)" --platform any -d "$wheels" "awscli==$awscli"
chroot "$tmp" python3 -m venv /opt/awscli
chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /opt/awscli/bin/pip install -q --disable-pip-version-check --no-input --no-index --find-links /var/cache/awscli-wheels "awscli==$awscli"
rm -rf "$wheels"
chroot "$tmp" /opt/awscli/bin/aws --version
rm -f "$tmp/etc/resolv.conf" "$tmp/etc/hostname"
for pkg in "${archive[@]}"; do
  if chroot "$tmp" dpkg -s "$pkg" >/dev/null 2>&1; then echo "build-rootfs: $pkg is installed, but must only be downloaded" >&2; exit 1; fi
done
cleanup
trap - EXIT
rm -rf "$dest"
mv "$tmp" "$dest"
echo "build-rootfs: $dest ($(du -sh "$dest" | cut -f1)); archive: ${archive[*]}"
