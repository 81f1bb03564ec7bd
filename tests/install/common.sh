# SPDX-License-Identifier: MIT
#
# Shared by the install tests (sourced): TAP helpers, and a staged
# `make install` made visible at its prefix.
#
# stage_install: `make install DESTDIR=$DEST` (PREFIX=/usr/local), then,
# in the guest (root, on the read-only host root), bind-mounts
# $DEST/usr/local over /usr/local so that pkg-config, the compiler and
# python3 find the install where it would be on a real system; unstage
# undoes the mount. Needs ROOT and B.

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
# check NAME CMD...: one result from a command's exit status; its output
# becomes diagnostics.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		nok "$name"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	fi
}
diag() { sed 's/^/# /'; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${TERN_ROOT:-$(cd "$HERE/../.." && pwd)}
B=${TERN_BUILD:-${B:-$ROOT/build}}
PREFIX=/usr/local
WORK=$(mktemp -d /tmp/tern-install.XXXXXX)
DEST=$WORK/dest
MOUNTED=0

stage_install() {
	# A sentinel of someone else's in a directory we share: uninstall must keep it.
	mkdir -p "$DEST$PREFIX/lib/pkgconfig" "$DEST$PREFIX/bin"
	echo other >"$DEST$PREFIX/lib/pkgconfig/other.pc"
	echo other >"$DEST$PREFIX/bin/other-tool"
	make -C "$ROOT" B="$B" DESTDIR="$DEST" PREFIX="$PREFIX" install >"$WORK/install.log" 2>&1
}

mount_stage() {
	[ "$(id -u)" -eq 0 ] || return 1
	mount --bind "$DEST$PREFIX" "$PREFIX" || return 1
	MOUNTED=1
}

unstage() {
	if [ $MOUNTED = 1 ]; then
		umount "$PREFIX" && MOUNTED=0
	fi
}

cleanup() {
	unstage
	rm -rf "$WORK"
}
trap cleanup EXIT
