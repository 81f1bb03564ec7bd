#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mkinitramfs.sh LINUX_DIR OUT
#
# Build the guest's initramfs OUT (a gzipped newc cpio): a static busybox,
# tests/vm/init as /init, and the 9p modules of the kernel unpacked in
# LINUX_DIR (netfs, 9pnet, 9pnet_virtio, 9p, decompressed) with their load
# order in /lib/modules/order. Rebuilt only when an input changes: the kernel
# release, busybox, init or these scripts (OUT.key records them).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: mkinitramfs.sh LINUX_DIR OUT"
LINUX_DIR=$1 OUT=$2
kver=$(cat "$LINUX_DIR/KVER" 2>/dev/null) || die "$LINUX_DIR/KVER missing (run \`make linux\`)"
MODDIR=$LINUX_DIR/root/lib/modules/$kver
[ -d "$MODDIR" ] || die "$MODDIR missing (run \`make linux\`)"

BUSYBOX=
for f in /bin/busybox /usr/bin/busybox; do
	[ -x "$f" ] && { BUSYBOX=$f; break; }
done
[ -n "$BUSYBOX" ] || die "busybox not found (package busybox-static; run \`make deps\`)"
# The initramfs has no C library: busybox must be the static build.
if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter'; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi
command -v cpio >/dev/null || die "cpio not found (run \`make deps\`)"

key="$kver $(cat "$BUSYBOX" "$HERE/init" "$HERE/mkinitramfs.sh" "$HERE/guest-modules.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$OUT" ] && [ "$(cat "$OUT.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi

echo "mkinitramfs: building $OUT for $kver" >&2
stage=$(mktemp -d "${OUT%/*}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/proc" "$stage/sys" \
	"$stage/dev" "$stage/host" "$stage/out" "$stage/keep"
cp "$BUSYBOX" "$stage/bin/busybox"
cp "$HERE/init" "$stage/init"
chmod 755 "$stage/init" "$stage/bin/busybox"
sh "$HERE/guest-modules.sh" "$MODDIR" "$stage/lib/modules" 9pnet_virtio 9p
rm -f "$stage/lib/modules/kver"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
echo "$key" >"$OUT.key"
