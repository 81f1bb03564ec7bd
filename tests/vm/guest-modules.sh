#!/bin/sh
# SPDX-License-Identifier: MIT
#
# guest-modules.sh MODDIR DEST NAME...
#
# Copy the kernel modules NAME... and every module they depend on (read with
# `modinfo -F depends` from the modules themselves) out of the unpacked
# Debian image tree MODDIR (.../lib/modules/<kver>), decompressed, into DEST,
# and write DEST/order: one module name per line, dependencies first, the
# order in which the guest insmods them. Modules built into the kernel are
# left out. A NAME may also be the path of a .ko outside MODDIR (tern.ko):
# only its dependencies are taken, not the file itself.
#
# Decompressed files are reused while DEST/kver matches MODDIR's release, so
# a warm run only re-reads the dependency lists.
set -eu

PATH=$PATH:/usr/sbin:/sbin
die() { echo "guest-modules: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: guest-modules.sh MODDIR DEST NAME..."
MODDIR=$1 DEST=$2
shift 2
[ -f "$MODDIR/modules.order" ] || die "$MODDIR/modules.order missing (run \`make linux\`)"
command -v modinfo >/dev/null || die "modinfo not found (package kmod; run \`make deps\`)"
command -v xz >/dev/null || die "xz not found (package xz-utils; run \`make deps\`)"
kver=$(basename "$MODDIR")

mkdir -p "$DEST"
if [ "$(cat "$DEST/kver" 2>/dev/null)" != "$kver" ]; then
	rm -f "$DEST"/*.ko "$DEST/order" "$DEST/kver"
	echo "$kver" >"$DEST/kver"
fi

# relpath NAME FILE: the modules.order / modules.builtin entry of module NAME
# ("-" and "_" are the same in module names).
relpath() {
	awk -v n="$1" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
		if (b == n) { print; exit } }' "$2"
}

# modfile RELPATH: the module file as shipped (compressed or not).
modfile() {
	for f in "$MODDIR/$1.xz" "$MODDIR/$1.zst" "$MODDIR/$1.gz" "$MODDIR/$1"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

seen='' order=''
# visit NAME: depth first, so every module follows its dependencies. It
# recurses, hence `local` (dash, bash and busybox sh all have it).
visit() {
	local n rel src d
	n=$(echo "$1" | tr - _)
	case " $seen " in *" $n "*) return 0 ;; esac
	seen="$seen $n"
	[ -n "$(relpath "$n" "$MODDIR/modules.builtin")" ] && return 0
	rel=$(relpath "$n" "$MODDIR/modules.order")
	[ -n "$rel" ] || die "module '$n' is not in $MODDIR"
	src=$(modfile "$rel") || die "module file for '$n' missing under $MODDIR"
	for d in $(modinfo -F depends "$src" | tr , ' '); do
		visit "$d"
	done
	if [ ! -f "$DEST/$n.ko" ]; then
		case $src in
		*.xz) xz -dc "$src" ;;
		*.zst) zstd -dc "$src" ;;
		*.gz) gzip -dc "$src" ;;
		*) cat "$src" ;;
		esac >"$DEST/$n.ko.tmp.$$"
		mv "$DEST/$n.ko.tmp.$$" "$DEST/$n.ko"
	fi
	order="$order $n"
}

for name in "$@"; do
	case $name in
	*/*.ko)
		[ -f "$name" ] || die "$name missing"
		for d in $(modinfo -F depends "$name" | tr , ' '); do
			visit "$d"
		done ;;
	*) visit "$name" ;;
	esac
done

for n in $order; do echo "$n"; done >"$DEST/order.tmp.$$"
mv "$DEST/order.tmp.$$" "$DEST/order"
