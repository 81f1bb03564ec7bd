#!/bin/sh
# SPDX-License-Identifier: MIT
#
# version.sh (guest, root): a driver of another UAPI major version is
# refused with a clear message. The driver's debugfs file
# /sys/kernel/debug/accel/<minor>/uapi_major_override makes GET_INFO report
# another major (0: off). For a newer and an older driver, tern-ls and the
# Python binding must fail and say: both versions, which side is older, what
# to install. Then, with the override off, the device opens again.
set -u
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
export PYTHONDONTWRITEBYTECODE=1

echo "TAP version 13"
echo "1..4"
minor=
for d in /sys/class/accel/accel*; do
	[ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = tern ] || continue
	minor=${d##*accel}
	break
done
OVR=/sys/kernel/debug/accel/$minor/uapi_major_override
if [ -z "$minor" ] || [ ! -w "$OVR" ]; then
	for i in 1 2 3 4; do
		skip "${minor:+$OVR }no uapi_major_override in the driver's debugfs (a driver without the version-mismatch hook)"
	done
	exit 0
fi
restore() { echo 0 >"$OVR"; }
trap 'restore; cleanup' EXIT
LS=$B/tools/tern-ls

# mismatch MAJOR SIDE ADVICE: tern-ls fails with the whole message.
mismatch() {
	echo "$1" >"$OVR" || { nok "write $1 to $OVR"; return; }
	out=$("$LS" 2>&1)
	rc=$?
	echo "$out" | diag
	case $out in
	*"version mismatch"*"tern.ko "[0-9]*"speaks UAPI $1."*"libtern 0.1.0 speaks UAPI 1.x"*"driver is $2"*"$3"*)
		[ $rc -ne 0 ] && ok "driver UAPI $1: tern-ls refuses (exit $rc): driver $2, $3" ||
			nok "driver UAPI $1: tern-ls exit 0 with the message" ;;
	*) nok "driver UAPI $1: tern-ls message (exit $rc) lacks the versions or the advice" ;;
	esac
}
mismatch 2 newer "install the libtern and tools of the driver's tern release"
mismatch 99 newer "install the libtern"

# The Python binding raises TernError(EPROTO) with the same message.
echo 99 >"$OVR"
out=$(PYTHONPATH=$ROOT/lib/python TERN_LIBRARY=$B/lib/libtern.so.0 /usr/bin/python3 -c '
import errno, tern
try:
    tern.Device(0)
except tern.TernError as e:
    assert e.errno == errno.EPROTO, e
    print(e)
else:
    raise SystemExit("opened")' 2>&1)
rc=$?
echo "$out" | diag
case $rc:$out in
0:*"version mismatch"*"UAPI 99."*"libtern"*) ok "Python: TernError EPROTO with the message" ;;
*) nok "Python: TernError EPROTO with the message" ;;
esac
restore
check "override off: tern-ls opens the device again" "$LS"
# (An older driver cannot be made: this driver's major, 1, is the lowest and
# 0 turns the override off. That branch of the message says "install tern.ko
# from this libtern's tern release (make dkms)".)
[ $failed -eq 0 ]
