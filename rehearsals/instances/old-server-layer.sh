#!/usr/bin/env bash
# The migration rehearsal's old server layer, built once per rootfs and package list: the Debian packages
# old-server.packages names (what a single server runs: nginx, PostgreSQL, Redis, Node.js, cron, sudo),
# installed with apt from the archive downloaded into the rootfs (no network) in an overlay over the rootfs,
# whose upper directory becomes the old server's lower layer. App instances never see it.
#   old-server-layer.sh <rootfs> <layers-dir>   (prints the layer's directory)
set -euo pipefail
rootfs="$1" store="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/old-server.packages" "$here/old-server-layer.sh" <(echo "$rootfs") | sha256sum | cut -c1-12)"
layer="$store/old-server-$key"
if [ -d "$layer/upper" ] && [ -e "$layer/complete" ]; then
  echo "$layer/upper"
  exit 0
fi
mapfile -t debs < <(grep -v '^#' "$here/old-server.packages")
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
find "$store" -mindepth 1 -maxdepth 1 -name 'old-server-*' ! -path "$layer" -exec rm -rf {} +
echo "$layer/upper"
