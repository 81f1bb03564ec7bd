#!/bin/sh
# SPDX-License-Identifier: MIT
# Static checks as TAP, run by `make test` on the host:
#  - the UAPI and register-map structures have no implicit holes (pahole);
#  - the driver is clean under checkpatch.pl --strict (from linux-source);
#  - the driver builds with W=1 and sparse (C=2) without a warning.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build}
L=$(cat "$B/linux.path" 2>/dev/null || true)
T=$B/tests/static
mkdir -p "$T"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf "%s\n" "$l" | sed "s/^/# /"; done; }

echo "TAP version 13"
echo "1..5"

# 1, 2: pahole reports holes as "XXX ... hole"; every struct must be a
# multiple of 8 bytes so 32- and 64-bit user space agree.
layout() { # name header structs...
	name=$1 hdr=$2
	shift 2
	src=$T/$name.c
	{
		echo "#include \"$hdr\""
		for s in "$@"; do echo "struct $s v_$s;"; done
	} >"$src"
	if ! cc -g -c -I"$ROOT/include" -I"$ROOT/include/uapi/drm" \
		$(pkg-config --cflags libdrm) "$src" -o "$T/$name.o" 2>"$T/$name.err"; then
		not_ok "$name: layout" "compile failed: $(head -n1 "$T/$name.err")"
		return
	fi
	bad=
	for s in "$@"; do
		out=$(pahole -C "$s" "$T/$name.o" 2>&1)
		size=$(echo "$out" | sed -n 's/.*size: \([0-9]*\),.*/\1/p' | head -n1)
		if [ -z "$size" ]; then
			bad="$bad $s(not found)"
		elif echo "$out" | grep -q 'XXX'; then
			bad="$bad $s(hole)"
		elif [ $((size % 8)) -ne 0 ]; then
			bad="$bad $s(size $size)"
		fi
	done
	if [ -z "$bad" ]; then ok "$name: no holes in $*"; else not_ok "$name: layout" "bad:$bad"; fi
}
layout uapi tern_accel.h drm_tern_info drm_tern_bo_create drm_tern_bo_info \
	drm_tern_copy drm_tern_submit drm_tern_wait drm_tern_slot drm_tern_exec \
	drm_tern_queue_create drm_tern_queue_destroy drm_tern_queue_query \
	drm_tern_uring_exec drm_tern_uring_wait
layout regs tern_regs.h tern_dma_desc tern_sg_entry tern_launch_desc tern_launch_slot
layout isa tern_isa.h tern_ap tern_insn_tile tern_insn_act tern_insn_iota tern_insn_dma \
	tern_prog_stream tern_prog_header tern_job_status

if [ -z "$L" ] || [ ! -d "$L/kdir" ]; then
	not_ok "checkpatch --strict" "build/linux.path missing: run \`make linux\`"
	not_ok "W=1 and sparse" "build/linux.path missing: run \`make linux\`"
	exit 1
fi

# 3: checkpatch on the driver sources (not the generated *.mod.c).
files=$(ls "$ROOT"/kernel/*.c "$ROOT"/kernel/*.h | grep -v '\.mod\.c$')
out=$(cd "$ROOT" && perl "$L/scripts/checkpatch.pl" --no-tree --strict --terse -f $files 2>&1)
if echo "$out" | grep -qE '(ERROR|WARNING|CHECK):'; then
	not_ok "checkpatch --strict kernel/" "$(echo "$out" | grep -E '(ERROR|WARNING|CHECK):' | head -n 20)"
else
	ok "checkpatch --strict kernel/"
fi

# 4: W=1 + sparse on every driver file (C=2 checks even up-to-date objects).
log=$T/w1-sparse.log
# A fresh make: an inherited jobserver (make -jN test) only adds warnings.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$L/kdir" M="$ROOT" W=1 C=2 modules >"$log" 2>&1; then
	not_ok "W=1 and sparse" "build failed: $(grep -m1 -E 'error' "$log")"
elif grep -qE 'warning:|error:' "$log"; then
	not_ok "W=1 and sparse" "$(grep -E 'warning:|error:' "$log" | head -n 20)"
else
	ok "W=1 and sparse build of kernel/"
fi
[ "$failed" -eq 0 ]
