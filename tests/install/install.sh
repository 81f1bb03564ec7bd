#!/bin/sh
# SPDX-License-Identifier: MIT
#
# install.sh (guest, root): `make install` into a clean DESTDIR, then, with
# the staged tree bind-mounted at its prefix (/usr/local):
#   - every file install.rst lists is there, the library with its soname;
#   - `pkg-config --cflags --libs tern` builds sample.c, which runs on
#     device 0 (DMA round trip, a matmul); the static library links too;
#   - every man page renders with `man -l` without warnings;
#   - the udev rule is the one of kernel/70-tern.rules;
# then `make uninstall` removes exactly what install added. TAP output.
set -u
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

echo "TAP version 13"
echo "1..10"

if stage_install; then
	ok "make install DESTDIR=$DEST PREFIX=$PREFIX"
else
	nok "make install DESTDIR=$DEST PREFIX=$PREFIX"
	diag <"$WORK/install.log"
	exit 1
fi
find "$DEST" ! -type d | sort >"$WORK/files"
P=$DEST$PREFIX
PYVER=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
want="$P/bin/tern-ls $P/bin/tern-run $P/lib/libtern.so.0.1.0 $P/lib/libtern.so.0 $P/lib/libtern.so
 $P/lib/libtern.a $P/lib/pkgconfig/tern.pc $P/lib/pkgconfig/libtern.pc
 $P/include/tern/tern.h $P/include/tern/tern_program.h $P/include/tern/tern_ops.h
 $P/include/tern/tern_coll.h $P/include/tern/tern_isa.h $P/include/tern/tern_accel.h
 $P/share/man/man1/tern-ls.1 $P/share/man/man1/tern-run.1 $P/share/man/man3/libtern.3
 $P/share/man/man4/tern.4 $DEST/usr/lib/udev/rules.d/70-tern.rules
 $P/lib/python$PYVER/dist-packages/tern/__init__.py"
missing=
for f in $want; do [ -e "$f" ] || missing="$missing $f"; done
soname=$(readelf -d "$P/lib/libtern.so.0.1.0" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ -z "$missing" ] && [ "$soname" = libtern.so.0 ] &&
	[ "$(readlink "$P/lib/libtern.so.0")" = libtern.so.0.1.0 ]; then
	ok "installed files (library, soname $soname, headers, tern.pc, tools, man pages, udev rule, Python package)"
else
	nok "installed files"
	echo "missing:$missing; soname '$soname'" | diag
fi

if mount_stage; then
	ok "staged install bind-mounted at $PREFIX"
else
	nok "staged install bind-mounted at $PREFIX (needs root)"
fi

# pkg-config as a user would run it: no PKG_CONFIG_PATH, the default search path.
flags=$(pkg-config --cflags --libs tern 2>&1)
case $flags in
*"-I$PREFIX/include/tern"*"-L$PREFIX/lib"*"-ltern"*) ok "pkg-config --cflags --libs tern: $flags" ;;
*) nok "pkg-config --cflags --libs tern: $flags" ;;
esac

# shellcheck disable=SC2046 # flags are words
check "cc sample.c \$(pkg-config --cflags --libs tern)" \
	cc -O2 -Wall -Werror -o "$WORK/sample" "$HERE/sample.c" $(pkg-config --cflags --libs tern)
# The dynamic linker finds /usr/local/lib through ld.so.cache after
# ldconfig; the chroot's cache is read-only, so name the directory instead.
if out=$(LD_LIBRARY_PATH=$PREFIX/lib "$WORK/sample" 2>&1) &&
	LD_LIBRARY_PATH=$PREFIX/lib ldd "$WORK/sample" | grep -q "libtern.so.0 => $PREFIX/lib/libtern.so.0"; then
	ok "sample (linked with the installed libtern.so.0) runs on device 0"
	echo "$out" | diag
else
	nok "sample (linked with the installed libtern.so.0) runs on device 0"
	echo "$out" | diag
fi
# shellcheck disable=SC2046
if cc -O2 -o "$WORK/sample-static" "$HERE/sample.c" $(pkg-config --cflags tern) \
	"$PREFIX/lib/libtern.a" $(pkg-config --static --libs tern | sed 's/-ltern//') >"$WORK/cc.log" 2>&1 &&
	! ldd "$WORK/sample-static" | grep -q libtern && "$WORK/sample-static" >"$WORK/run.log" 2>&1; then
	ok "sample linked with libtern.a (pkg-config --static) runs"
else
	nok "sample linked with libtern.a (pkg-config --static) runs"
	cat "$WORK/cc.log" "$WORK/run.log" 2>/dev/null | diag
fi

# Every man page renders: man -l, warnings on, nothing on stderr.
bad=
for p in "$P"/share/man/man*/*; do
	err=$(MANWIDTH=80 man -l --warnings "$p" 2>&1 >/dev/null)
	out=$(MANWIDTH=80 man -l "$p" 2>/dev/null | head -n 4)
	name=${p##*/}
	name=${name%.*}
	if [ -n "$err" ] || ! echo "$out" | grep -qi "^NAME"; then
		bad="$bad $p"
		echo "$err" | diag
	fi
done
pages=$(ls "$P"/share/man/man*/* | wc -l)
if [ -z "$bad" ] && [ "$pages" -ge 4 ]; then
	ok "$pages man pages render with man -l"
else
	nok "man pages render with man -l:$bad ($pages pages)"
fi

if cmp -s "$ROOT/kernel/70-tern.rules" "$DEST/usr/lib/udev/rules.d/70-tern.rules" &&
	grep -q 'GROUP="tern", MODE="0660"' "$DEST/usr/lib/udev/rules.d/70-tern.rules"; then
	ok "udev rule: group tern, mode 0660"
else
	nok "udev rule: group tern, mode 0660"
fi

unstage
make -C "$ROOT" B="$B" DESTDIR="$DEST" PREFIX="$PREFIX" uninstall >"$WORK/uninstall.log" 2>&1
left=$(find "$DEST" ! -type d | sort)
expect=$(printf '%s\n' "$DEST$PREFIX/bin/other-tool" "$DEST$PREFIX/lib/pkgconfig/other.pc")
dirs=$(find "$DEST" -type d -name tern)
if [ "$left" = "$expect" ] && [ -z "$dirs" ]; then
	ok "make uninstall removes all $(($(wc -l <"$WORK/files") - 2)) installed files and keeps the others"
else
	nok "make uninstall removes exactly what install added"
	{ echo "left:"; echo "$left"; echo "tern dirs: $dirs"; cat "$WORK/uninstall.log"; } | diag
fi
[ $failed -eq 0 ]
