#!/bin/sh
# SPDX-License-Identifier: MIT
#
# python.sh (guest, root): the Python binding as a user gets it: `make
# install` into a clean DESTDIR bind-mounted at /usr/local, then Debian's
# /usr/bin/python3 with Debian's python3-numpy imports tern from there with
# no environment, runs test_python.py (TAP) and the example
# lib/examples/py_ops.py.
set -u
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
unset PYTHONPATH TERN_LIBRARY

if ! stage_install; then
	echo "1..1"
	echo "not ok 1 make install DESTDIR=$DEST"
	diag <"$WORK/install.log"
	exit 1
fi
if ! mount_stage; then
	echo "1..1"
	echo "not ok 1 staged install bind-mounted at $PREFIX (needs root)"
	exit 1
fi
# The C compiler's view of the structures, for the ctypes layout checks.
# shellcheck disable=SC2046
cc -o "$WORK/sample" "$HERE/sample.c" $(pkg-config --cflags --libs tern) &&
	LD_LIBRARY_PATH=$PREFIX/lib "$WORK/sample" --sizes >"$WORK/sizes" 2>&1
rc=0
TERN_C_SIZES=$WORK/sizes TERN_PY_EXAMPLE=$ROOT/lib/examples/py_ops.py \
	"$PY" "$HERE/test_python.py" || rc=$?
exit $rc
