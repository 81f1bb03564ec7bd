#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build QEMU 10.0 from Debian's source package with the tern device added.
#
# The source and build tree live in $TERN_CACHE/qemu-<version>/ so a warm
# build only recompiles the files of emulator/ that changed. QEMU is patched
# only to add our device: hw/tern/ (a copy of emulator/), one Kconfig
# "source", one meson "subdir" and one trace-events directory.
#
# Usage: qemu-build.sh <repo-root>   (prints the path of qemu-system-x86_64)
set -eu

ROOT=$(cd "${1:-.}" && pwd)
CACHE=${TERN_CACHE:-$HOME/.cache/tern}
. /etc/os-release
log() { echo "qemu-build: $*" >&2; }

# 1. Source: the +ds orig tarball is enough (the .dsc may be missing).
TARBALL=$(ls "$CACHE"/qemu-10.0.*/dl/qemu_10.0.*+ds.orig.tar.xz 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$TARBALL" ]; then
	tmp=$CACHE/qemu-download.$$
	mkdir -p "$tmp"
	log "downloading QEMU 10.0 source package"
	if [ "$VERSION_CODENAME" = bookworm ]; then
		(cd "$tmp" && apt-get source --download-only -t bookworm-backports qemu >/dev/null 2>&1) || true
	else
		(cd "$tmp" && apt-get source --download-only qemu >/dev/null 2>&1) || true
	fi
	f=$(ls "$tmp"/qemu_10.0.*+ds.orig.tar.xz 2>/dev/null | head -n1 || true)
	[ -n "$f" ] || { log "could not download the QEMU 10.0 orig tarball (is deb-src set up? run tests/vm/deps.sh)"; exit 1; }
	v=$(basename "$f" | sed -e 's/^qemu_//' -e 's/+ds.orig.tar.xz$//')
	mkdir -p "$CACHE/qemu-$v/dl"
	mv "$f" "$CACHE/qemu-$v/dl/"
	rm -rf "$tmp"
	TARBALL=$CACHE/qemu-$v/dl/$(basename "$f")
fi
QVER=$(basename "$TARBALL" | sed -e 's/^qemu_//' -e 's/+ds.orig.tar.xz$//')
Q=$CACHE/qemu-$QVER
SRC=$Q/qemu-$QVER
BUILD=$Q/build

if [ ! -f "$SRC/.tern-patched" ]; then
	log "unpacking QEMU $QVER"
	rm -rf "$SRC"
	tar -C "$Q" -xf "$TARBALL"
	mkdir -p "$SRC/hw/tern"
	echo "source tern/Kconfig" >>"$SRC/hw/Kconfig"
	echo "subdir('tern')" >>"$SRC/hw/meson.build"
	sed -i "s|^    'hw/misc',$|    'hw/misc',\n    'hw/tern',|" "$SRC/meson.build"
	grep -q "'hw/tern'" "$SRC/meson.build" || { log "cannot add hw/tern to trace_events_subdirs"; exit 1; }
	touch "$SRC/.tern-patched"
fi

# Several checkouts (or parallel builds) may share the cache: one at a time
# from here on.
if command -v flock >/dev/null; then
	exec 9>"$Q/.build.lock"
	flock 9
fi

# 2. Sync emulator/ into hw/tern, touching only files whose content changed.
sync_file() {
	cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"
}
for f in "$ROOT"/emulator/*.c "$ROOT"/emulator/*.h "$ROOT"/emulator/meson.build \
	 "$ROOT"/emulator/Kconfig "$ROOT"/emulator/trace-events "$ROOT"/include/tern_regs.h \
	 "$ROOT"/include/tern_isa.h "$ROOT"/include/tern_dtype.h; do
	[ -f "$f" ] && sync_file "$f" "$SRC/hw/tern/$(basename "$f")"
done
for f in "$SRC"/hw/tern/*; do
	b=$(basename "$f")
	[ -f "$ROOT/emulator/$b" ] || [ -f "$ROOT/include/$b" ] || rm -f "$f"
done

# 3. Configure once: minimal x86_64 system emulator, TCG, virtfs for 9p.
if [ ! -f "$BUILD/build.ninja" ]; then
	log "configuring QEMU $QVER"
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	# The +ds tarball lacks the EDK2 firmware blobs that meson wants as
	# inputs; empty placeholders satisfy configure. They are never built:
	# only the qemu-system-x86_64 target is.
	for f in $(sed -n "s/^ *'\\(edk2-.*\\.fd\\)',$/\\1/p" "$SRC/pc-bios/meson.build"); do
		[ -e "$SRC/pc-bios/$f.bz2" ] || : >"$SRC/pc-bios/$f.bz2"
	done
	(cd "$BUILD" && "$SRC/configure" --python=/usr/bin/python3 \
		--target-list=x86_64-softmmu --without-default-features \
		--enable-tcg --enable-virtfs --enable-attr --enable-cap-ng \
		--enable-trace-backends=log \
		--disable-docs --disable-tools --disable-user --disable-werror \
		--disable-install-blobs >"$Q/configure.log" 2>&1) ||
		{ log "configure failed, see $Q/configure.log"; tail -20 "$Q/configure.log" >&2; exit 1; }
fi

log "building qemu-system-x86_64"
ninja -C "$BUILD" qemu-system-x86_64 >"$Q/ninja.log" 2>&1 ||
	{ log "build failed, see $Q/ninja.log"; grep -E 'error|Error' "$Q/ninja.log" | head -30 >&2; exit 1; }
echo "$BUILD/qemu-system-x86_64"
