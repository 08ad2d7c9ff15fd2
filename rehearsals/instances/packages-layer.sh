#!/usr/bin/env bash
# The fleet rehearsal's packages layer, built once per rootfs and package table: the Debian packages
# packages.tsv maps to, installed (from the archive downloaded into the rootfs, no network) in an overlay over
# the rootfs, whose upper directory becomes a lower layer of every fleet instance. The boot's dnf stand-in
# then finds them installed and returns in seconds, as dnf does on an instance that has them; what the boot
# installs and how is proven by the boot rehearsal, which starts from the bare rootfs.
#   packages-layer.sh <rootfs> <layers-dir>   (prints the layer's directory)
set -euo pipefail
rootfs="$1" store="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/packages.tsv" "$here/packages-layer.sh" <(echo "$rootfs") | sha256sum | cut -c1-12)"
layer="$store/packages-$key"
if [ -d "$layer/upper" ] && [ -e "$layer/complete" ]; then
  echo "$layer/upper"
  exit 0
fi
# What the boot installs; the operator packages at the end of the table are installed by the runbook's own step.
mapfile -t debs < <(awk -F'\t' '/^# operator packages/ { exit } !/^#/ && NF == 2 { n = split($2, p, ","); for (i = 1; i <= n; i++) if (p[i] !~ /^stand-in:/) print p[i] }' "$here/packages.tsv" | sort -u)
tmp="$layer.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/upper" "$tmp/work" "$tmp/root"
cleanup() {
  local m
  for m in proc dev; do mountpoint -q "$tmp/root/$m" && umount "$tmp/root/$m"; done
  mountpoint -q "$tmp/root" && umount "$tmp/root"
  return 0
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/root"
mount -t proc proc "$tmp/root/proc"
mount --bind /dev "$tmp/root/dev"
printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/root/usr/sbin/policy-rc.d"
chroot "$tmp/root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download --no-install-recommends \
  -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-unsafe-io "${debs[@]}" >"$tmp/apt.log" 2>&1 \
  || { tail -n 20 "$tmp/apt.log" >&2; exit 1; }
rm -f "$tmp/root/usr/sbin/policy-rc.d"
cleanup
trap - EXIT
rm -rf "$tmp/work" "$tmp/root" "$layer"
touch "$tmp/complete"
mv "$tmp" "$layer"
# Older layers are replaced, not kept.
find "$store" -mindepth 1 -maxdepth 1 -name 'packages-*' ! -path "$layer" -exec rm -rf {} +
echo "$layer/upper"
