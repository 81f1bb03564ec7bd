#!/bin/sh
# SPDX-License-Identifier: MIT
#
# dkms.sh (host): DKMS builds tern.ko against Debian's Linux 6.12 headers
# (the ones `make linux` unpacked into the cache). `make dkms
# DESTDIR=<tmp>` lays the source out as /usr/src/tern-<version>; then
# `dkms add` and `dkms build` run with their trees in a temporary directory
# (--dkmstree, --sourcetree) and --kernelsourcedir naming the headers, so
# nothing of the machine's own DKMS state or /lib/modules is touched.
# Checks the module's version and vermagic, that dkms.conf's version is the
# driver's, and `dkms remove`. TAP output.
set -u
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

echo "TAP version 13"
echo "1..6"
LINUX_DIR=$(cat "$B/linux.path" 2>/dev/null)
KVER=$(cat "$LINUX_DIR/KVER" 2>/dev/null)
KDIR=$(readlink -f "$LINUX_DIR/kdir" 2>/dev/null)
if [ -z "$KVER" ] || [ ! -f "$KDIR/Makefile" ]; then
	for i in 1 2 3 4 5 6; do skip "no 6.12 headers in $B/linux.path (run \`make linux\`)"; done
	exit 0
fi
if ! command -v dkms >/dev/null; then
	for i in 1 2 3 4 5 6; do skip "dkms not installed (run \`make deps\`)"; done
	exit 0
fi

# dkms.conf's version is the driver's (kernel/tern_drv.h).
drv=$(sed -n 's/^#define DRIVER_\(MAJOR\|MINOR\|PATCHLEVEL\)[[:space:]]*\([0-9]*\).*/\2/p' \
	"$ROOT/kernel/tern_drv.h" | paste -sd.)
VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/kernel/dkms.conf")
if [ -n "$VER" ] && [ "$VER" = "$drv" ]; then
	ok "dkms.conf PACKAGE_VERSION $VER is the driver's version"
else
	nok "dkms.conf PACKAGE_VERSION '$VER' is not the driver's version '$drv'"
fi

SRC=$WORK/root/usr/src
if make -C "$ROOT" DESTDIR="$WORK/root" dkms >"$WORK/dkms.log" 2>&1 &&
	[ -f "$SRC/tern-$VER/dkms.conf" ] && [ -f "$SRC/tern-$VER/kernel/Kbuild" ] &&
	[ -f "$SRC/tern-$VER/include/uapi/drm/tern_accel.h" ]; then
	ok "make dkms DESTDIR=...: source in /usr/src/tern-$VER"
else
	nok "make dkms DESTDIR=...: source in /usr/src/tern-$VER"
	diag <"$WORK/dkms.log"
fi

mkdir -p "$WORK/dkms"
D="--dkmstree $WORK/dkms --sourcetree $SRC"
# shellcheck disable=SC2086 # D is options
check "dkms add -m tern -v $VER" dkms add $D -m tern -v "$VER"
t0=$(date +%s)
# shellcheck disable=SC2086
if nice dkms build $D -m tern -v "$VER" -k "$KVER" --kernelsourcedir "$KDIR" >"$WORK/build.log" 2>&1; then
	ok "dkms build for $KVER ($(($(date +%s) - t0))s)"
else
	nok "dkms build for $KVER"
	tail -n 30 "$WORK/build.log" | diag
	cat "$WORK/dkms/tern/$VER/build/make.log" 2>/dev/null | tail -n 30 | diag
fi

KO=$WORK/dkms/tern/$VER/$KVER/$(uname -m)/module/tern.ko
if [ -f "$KO" ] && [ "$(modinfo -F version "$KO")" = "$VER" ] &&
	modinfo -F vermagic "$KO" | grep -q "^$KVER "; then
	ok "tern.ko: version $VER, vermagic $KVER"
else
	nok "tern.ko built by DKMS: version $VER, vermagic $KVER"
	[ -f "$KO" ] && modinfo "$KO" | diag
fi

# shellcheck disable=SC2086
if dkms remove $D -m tern -v "$VER" --all >"$WORK/remove.log" 2>&1 &&
	[ ! -e "$WORK/dkms/tern/$VER" ]; then
	ok "dkms remove --all"
else
	nok "dkms remove --all"
	diag <"$WORK/remove.log"
fi
[ $failed -eq 0 ]
