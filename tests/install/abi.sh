#!/bin/sh
# SPDX-License-Identifier: MIT
#
# abi.sh (host): the ABI of the built libtern.so: soname libtern.so.0; every
# exported symbol versioned under a TERN_ node (lib/libtern.map); the
# exported functions are exactly those the public headers declare (tern.h,
# tern_program.h, tern_ops.h, tern_coll.h), so a function added to a header
# but not exported, or exported but not declared, is caught; the library's
# version (tern.h) and the pkg-config file's agree. TAP output.
set -u
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

SO=$B/lib/libtern.so
echo "TAP version 13"
echo "1..4"
soname=$(readelf -d "$SO" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
major=$(sed -n 's/^#define TERN_LIB_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/lib/tern.h")
if [ "$soname" = "libtern.so.$major" ]; then
	ok "soname $soname (major $major of tern.h)"
else
	nok "soname '$soname' is not libtern.so.$major"
fi

nm -D --defined-only "$SO" | awk '$2 != "A" { print $3 }' >"$WORK/dynsyms"
unversioned=$(grep -v '@@TERN_[0-9]*\.[0-9]*$' "$WORK/dynsyms" | head -n 5)
if [ -s "$WORK/dynsyms" ] && [ -z "$unversioned" ]; then
	ok "all $(wc -l <"$WORK/dynsyms") exported symbols versioned: $(sed 's/.*@@//' "$WORK/dynsyms" | sort -u | paste -sd' ')"
else
	nok "exported symbols without a TERN_ version: $unversioned"
fi

for h in tern.h tern_program.h tern_ops.h tern_coll.h; do
	grep -v '^static' "$ROOT/lib/$h" |
		sed -n 's/^[a-z][a-z0-9_ *]*[ *]\(tern_[a-z0-9_]*\)(.*/\1/p'
done | sort -u >"$WORK/declared"
sed 's/@.*//' "$WORK/dynsyms" | sort -u >"$WORK/exported"
if [ -s "$WORK/declared" ] && cmp -s "$WORK/declared" "$WORK/exported"; then
	ok "the $(wc -l <"$WORK/exported") exported functions are those the public headers declare"
else
	nok "exported functions differ from the public headers' declarations"
	echo "< declared only, > exported only:" | diag
	diff "$WORK/declared" "$WORK/exported" | grep '^[<>]' | diag
fi

ver=$(sed -n 's/^#define TERN_LIB_VERSION_[A-Z]*[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/lib/tern.h" | paste -sd.)
if make -C "$ROOT" B="$B" DESTDIR="$WORK/d" install >"$WORK/install.log" 2>&1 &&
	[ "$(PKG_CONFIG_PATH=$WORK/d/usr/local/lib/pkgconfig pkg-config --modversion tern)" = "$ver" ] &&
	[ -e "$WORK/d/usr/local/lib/libtern.so.$ver" ]; then
	ok "tern.pc version and libtern.so.$ver agree with tern.h"
else
	nok "tern.pc version and libtern.so.$ver agree with tern.h"
	tail -n 20 "$WORK/install.log" | diag
fi
[ $failed -eq 0 ]
