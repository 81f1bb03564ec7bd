#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-vm.sh MODE: boot the tern guest and run MODE in it.
#   demo   8 chips in a ring: tern-ls, a DMA round trip, the MLP and
#          transformer examples, tern-run, then tern-ls --topology and
#          the data-parallel training example             (make run)
#   test   2 unlinked chips: the kselftests of tests.txt; results in
#          build/vm/out-test/                             (make test)
#   fabric 16 chips in a 4x4 torus: the kselftests of fabric.txt; results
#          in build/vm/out-fabric/                        (make test)
#   fuzz   2 unlinked chips: only the guest fuzzer tern_fuzz, for
#          TERN_FUZZ_TIME seconds; results in build/vm/out-fuzz/ (make fuzz)
#   soak   2 unlinked chips: only the soak tern_soak, for TERN_SOAK_TIME
#          seconds, with faults injected through the QMP relay; results in
#          build/vm/out-soak/ (make soak)
#   bench  16 chips in a 4x4 torus: the DMA bandwidth, matmul, submission-
#          rate and all-reduce benchmarks, and fio on an emulated NVMe
#          drive as the reference                         (make bench)
#   shell  an interactive shell in the guest (Ctrl-A x quits QEMU)
#
# The guest is Debian's Linux 6.12 under QEMU (q35, TCG) with tern chips,
# booted from a busybox initramfs that chroots into this machine's root file
# system, shared read-only over virtio-9p (see Documentation/vm-runner.rst).
# Chips of a fabric are QEMU devices tern<N> with chip-id N on one fabric
# "f0". In modes test, soak, fabric, bench and shell a QMP relay
# (tests/vm/qmp-relay.py) lets guest tests set a chip's link-down ports
# (tests/kselftest/tern_fabric_test.h).
# Needs `make linux qemu` (build/linux.path, build/qemu.path) and, for the
# modes, the build outputs; `make run|test|bench` do all of it.
#
# Environment:
#   TERN_VM_TIMEOUT=S   kill QEMU after S seconds (default: test 2400, bench 1200,
#                       fabric 3000, demo 900, fuzz and soak their time + 900;
#                       0: never)
#   TERN_TEST_TIMEOUT=S default per-kselftest timeout in the guest (300)
#   TERN_VM_KEEP=1      after the mode, an interactive shell in the guest (no timeout)
#   TERN_VM_VERBOSE=1   boot without `quiet` and show every console line
#   TERN_VM_CHIPS=N     number of tern chips (default: demo 8, fabric/bench 16,
#                       else 2; 0 boots without any)
#   TERN_VM_SOLO=0|1    one more chip, in no fabric, after the others
#                       (default: 1 in fabric mode, else 0)
#   TERN_VM_TOPOLOGY=T  ring, torus2d or none (unlinked chips); default: demo
#                       ring, fabric/bench torus2d, else none
#   TERN_VM_TORUS_WIDTH=W  width of the torus (default: the model's choice)
#   TERN_VM_HBM=SIZE    HBM per chip (default: fabric 256M, bench 512M,
#                       else the model's default, 1G)
#   TERN_VM_LINK_OPTS   more properties for every linked chip, e.g.
#                       "link-bandwidth=8000,link-pace=off"
#   TERN_FUZZ_TIME=S, TERN_FUZZ_SEED=N, TERN_FUZZ_HUGE_HOST=1, TERN_KILL_SEED=N,
#   TERN_KILL_COUNT=N
#                       passed to the guest's tern_fuzz and tern_kill
#                       (Documentation/reliability.rst)
#   TERN_SOAK_TIME=S, TERN_SOAK_SEED=N, TERN_SOAK_FAULTS=K,..., TERN_SOAK_WORKERS=N,
#   TERN_SOAK_FAULT_GAP=S
#                       passed to the guest's tern_soak (Documentation/reliability.rst)
#   TERN_KO=PATH        load this module instead of kernel/tern.ko
#   TERN_VM_NO_KO=1     do not load tern.ko (for debugging the runner itself)
#   TERN_VM_QEMU_ARGS   extra QEMU arguments, split on spaces (e.g. "-trace tern_*")
#   TERN_VM_TCG=multi|single  one TCG thread per vCPU or one for all (default:
#                       single with more than two chips, as in the demo,
#                       fabric and bench modes, else multi): single avoids a
#                       rare QEMU crash of multi-threaded TCG at boot
#                       (Documentation/vm-runner.rst, "Known issues")
#   B                   build directory (default: build/ of this checkout)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
PATH=$PATH:/usr/sbin:/sbin

die() { echo "run-vm: $*" >&2; exit 1; }
say() { echo "run-vm: $*" >&2; }

MODE=${1:-}
solo=0
case $MODE in
demo) timeout_s=900 chips=8 topo=ring hbm= ;;
test) timeout_s=2400 chips=2 topo=none hbm= ;;
fuzz)
	case ${TERN_FUZZ_TIME:-60} in *[!0-9]* | '') die "TERN_FUZZ_TIME must be a number of seconds" ;; esac
	timeout_s=$((${TERN_FUZZ_TIME:-60} + 900)) chips=2 topo=none hbm= ;;
soak)
	case ${TERN_SOAK_TIME:-60} in *[!0-9]* | '') die "TERN_SOAK_TIME must be a number of seconds" ;; esac
	timeout_s=$((${TERN_SOAK_TIME:-60} + 900)) chips=2 topo=none hbm= ;;
fabric) timeout_s=3000 chips=16 topo=torus2d hbm=256M solo=1 ;;
bench) timeout_s=1200 chips=16 topo=torus2d hbm=512M ;;
shell) timeout_s=0 chips=2 topo=none hbm= ;;
*) die "usage: run-vm.sh demo|test|fuzz|soak|fabric|bench|shell" ;;
esac
TIMEOUT=${TERN_VM_TIMEOUT:-$timeout_s}
CHIPS=${TERN_VM_CHIPS:-$chips}
# fabric: one more chip after the fabric's, wired to nothing, so the tests
# also see link ports with nothing at the other end.
SOLO=${TERN_VM_SOLO:-$solo}
TOPOLOGY=${TERN_VM_TOPOLOGY:-$topo}
HBM=${TERN_VM_HBM:-$hbm}
TORUS_WIDTH=${TERN_VM_TORUS_WIDTH:-}
LINK_OPTS=${TERN_VM_LINK_OPTS:-}
KEEP=${TERN_VM_KEEP:-0}
VERBOSE=${TERN_VM_VERBOSE:-0}
NO_KO=${TERN_VM_NO_KO:-0}
TCG=${TERN_VM_TCG:-}
case $TIMEOUT in *[!0-9]* | '') die "TERN_VM_TIMEOUT must be a number of seconds" ;; esac
case $CHIPS in *[!0-9]* | '') die "TERN_VM_CHIPS must be a number" ;; esac
case $TOPOLOGY in ring | torus2d | none) ;; *) die "TERN_VM_TOPOLOGY must be ring, torus2d or none" ;; esac
case $HBM in *[!0-9KMGkmg]*) die "TERN_VM_HBM must be a size such as 256M" ;; esac
case $TORUS_WIDTH in *[!0-9]*) die "TERN_VM_TORUS_WIDTH must be a number" ;; esac
# More than two chips: one TCG thread (Documentation/vm-runner.rst, "Known issues").
[ -n "$TCG" ] || { [ "$CHIPS" -gt 2 ] && TCG=single || TCG=multi; }
case $TCG in multi | single) ;; *) die "TERN_VM_TCG must be multi or single" ;; esac
case $LINK_OPTS in *[!a-z0-9=,-]*) die "TERN_VM_LINK_OPTS: only name=value pairs separated by commas" ;; esac
[ "$TOPOLOGY" = none ] || [ "$CHIPS" -ge 2 ] || TOPOLOGY=none
INTERACTIVE=0
if [ "$MODE" = shell ] || [ "$KEEP" = 1 ]; then
	INTERACTIVE=1
	[ -t 0 ] || die "mode $MODE / TERN_VM_KEEP=1 needs a terminal on stdin"
fi

# Inputs from `make linux` / `make qemu`.
LINUX_DIR=$(cat "$B/linux.path" 2>/dev/null || true)
[ -n "$LINUX_DIR" ] || die "$B/linux.path missing: run \`make linux\` (or \`make run\`) first"
QEMU=$(cat "$B/qemu.path" 2>/dev/null || true)
[ -n "$QEMU" ] || die "$B/qemu.path missing: run \`make qemu\` (or \`make run\`) first"
[ -x "$QEMU" ] || die "$QEMU missing: run \`make qemu\`"
KVER=$(cat "$LINUX_DIR/KVER" 2>/dev/null) || die "$LINUX_DIR/KVER missing: run \`make linux\`"
KERNEL=$LINUX_DIR/vmlinuz
MODDIR=$LINUX_DIR/root/lib/modules/$KVER
[ -f "$KERNEL" ] || die "$KERNEL missing: run \`make linux\`"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin; do
	[ -f "$f" ] || die "$f missing (packages seabios, qemu-system-data): run \`make deps\`"
done
command -v timeout >/dev/null || die "timeout (coreutils) not found"

KO=${TERN_KO:-$ROOT/kernel/tern.ko}
[ "$NO_KO" = 1 ] || [ -f "$KO" ] || die "$KO missing: run \`make module\` (or \`make\`) first"
need() { [ -e "$1" ] || die "$1 missing: run \`make\` first"; }
case $MODE in
demo)
	for f in tools/tern-ls tools/tern-run examples/dma_roundtrip examples/mlp \
		examples/transformer examples/dp_train; do
		need "$B/$f"
	done ;;
test) need "$B/tests/kselftest/tests.txt" ;;
fuzz) need "$B/tests/kselftest/tern_fuzz" ;;
soak) need "$B/tests/kselftest/tern_soak" ;;
fabric) need "$B/tests/kselftest/fabric.txt" ;;
bench) need "$B/tests/bench/dma_bw"; need "$B/tests/bench/matmul"
	need "$B/tests/bench/submit_rate"; need "$B/tests/bench/allreduce"
	command -v fio >/dev/null || die "fio not found: run \`make deps\`" ;;
esac
if [ "$CHIPS" -gt 0 ] && ! "$QEMU" -device help 2>/dev/null | grep -q '^name "tern"'; then
	die "$QEMU has no tern device: run \`make qemu\`"
fi
# Links need the model's fabric properties (register interface 1.2).
if [ "$CHIPS" -gt 0 ] && [ "$TOPOLOGY" != none ] &&
	! "$QEMU" -device tern,help 2>/dev/null | grep -q '^ *fabric='; then
	die "$QEMU: the tern device has no fabric properties (an emulator without links): run \`make qemu\`, or TERN_VM_TOPOLOGY=none"
fi

# Guest boot files, cached in $B/vm and rebuilt only when an input changes.
VM=$B/vm
mkdir -p "$VM"
lock() {
	if command -v flock >/dev/null; then flock "$1"; fi
}
exec 9>"$VM/.prepare.lock"
lock 9
sh "$HERE/mkinitramfs.sh" "$LINUX_DIR" "$VM/initramfs.cpio.gz"
# bench mode also drives QEMU's NVMe device (the reference for submit_rate).
EXTRA_MODS=
[ "$MODE" = bench ] && EXTRA_MODS=nvme
if [ "$NO_KO" = 1 ]; then
	sh "$HERE/guest-modules.sh" "$MODDIR" "$VM/modules" drm drm_kms_helper drm_shmem_helper \
		$EXTRA_MODS
else
	sh "$HERE/guest-modules.sh" "$MODDIR" "$VM/modules" drm drm_kms_helper drm_shmem_helper \
		$EXTRA_MODS "$KO"
fi
exec 9>&-

# Per-run results directory, shared writable with the guest.
OUT=$VM/out-$MODE
exec 8>"$VM/.out-$MODE.lock"
if command -v flock >/dev/null && ! flock -n 8; then
	die "another run-vm.sh $MODE is using $OUT"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
QEMU_LOG=$OUT/qemu.log

# Values for the guest's /init, sourced by busybox sh: single-quote them.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "TERN_VM_MODE=$(q "$MODE")"
	echo "TERN_ROOT=$(q "$ROOT")"
	echo "TERN_BUILD=$(q "$B")"
	echo "TERN_KO=$(q "$KO")"
	echo "TERN_OUT=$(q "$OUT")"
	echo "TERN_QEMU_LOG=$(q "$QEMU_LOG")"
	echo "TERN_TEST_TIMEOUT=$(q "${TERN_TEST_TIMEOUT:-300}")"
	echo "TERN_VM_NO_KO=$(q "$NO_KO")"
	echo "TERN_VM_KEEP=$(q "$KEEP")"
	echo "TERN_VM_INTERACTIVE=$(q "$INTERACTIVE")"
	echo "TERN_VM_CHIPS=$(q "$CHIPS")"
	echo "TERN_VM_SOLO=$(q "$SOLO")"
	echo "TERN_VM_TOPOLOGY=$(q "$TOPOLOGY")"
	echo "TERN_FUZZ_TIME=$(q "${TERN_FUZZ_TIME:-}")"
	echo "TERN_FUZZ_SEED=$(q "${TERN_FUZZ_SEED:-}")"
	echo "TERN_FUZZ_HUGE_HOST=$(q "${TERN_FUZZ_HUGE_HOST:-}")"
	echo "TERN_KILL_SEED=$(q "${TERN_KILL_SEED:-}")"
	echo "TERN_KILL_COUNT=$(q "${TERN_KILL_COUNT:-}")"
	echo "TERN_SOAK_TIME=$(q "${TERN_SOAK_TIME:-}")"
	echo "TERN_SOAK_SEED=$(q "${TERN_SOAK_SEED:-}")"
	echo "TERN_SOAK_FAULTS=$(q "${TERN_SOAK_FAULTS:-}")"
	echo "TERN_SOAK_WORKERS=$(q "${TERN_SOAK_WORKERS:-}")"
	echo "TERN_SOAK_FAULT_GAP=$(q "${TERN_SOAK_FAULT_GAP:-}")"
} >"$OUT/vm.env"

# QEMU option values use "," as a separator; a literal comma is doubled.
qopt() { printf '%s' "$1" | sed 's/,/,,/g'; }

# QMP sockets: qmp.sock for tools that talk to the running VM, relay.sock
# for the QMP relay of guest tests. A unix socket path is limited to 107
# bytes; a long checkout path gets a short directory under /tmp and symlinks
# in $OUT.
QMP=$OUT/qmp.sock
RELAY_SOCK=$OUT/relay.sock
qmp_dir=
relay_pid=
cleanup() {
	if [ -n "$relay_pid" ]; then
		kill "$relay_pid" 2>/dev/null || true
		wait "$relay_pid" 2>/dev/null || true
	fi
	if [ -n "$qmp_dir" ]; then
		rm -rf "$qmp_dir" || true
		rm -f "$OUT/qmp.sock" "$OUT/relay.sock" || true
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ ${#RELAY_SOCK} -gt 100 ]; then
	qmp_dir=$(mktemp -d /tmp/tern-qmp.XXXXXX)
	QMP=$qmp_dir/qmp.sock
	RELAY_SOCK=$qmp_dir/relay.sock
	ln -s "$QMP" "$OUT/qmp.sock"
	ln -s "$RELAY_SOCK" "$OUT/relay.sock"
fi
RELAY=0
case $MODE in test | soak | fabric | bench | shell) RELAY=1 ;; esac
if [ $RELAY = 1 ] && ! command -v python3 >/dev/null; then
	say "python3 not found: no QMP relay (guest tests skip their link-down cases)"
	RELAY=0
fi

# An oops powers the guest off at once (the splat is on the console) rather
# than leaving later tests to hang on whatever the oops left locked.
APPEND="console=ttyS0 panic=-1 oops=panic"
[ "$VERBOSE" = 1 ] || APPEND="$APPEND quiet"

# -nodefaults: the default q35 CD-ROM alone costs 30 s of SeaBIOS timeouts.
set -- -nodefaults -M q35,dump-guest-core=off -accel tcg,thread=$TCG -cpu max -smp 2 -m 2G \
	-display none -no-reboot -nic none \
	-L /usr/share/seabios -L /usr/share/qemu \
	-kernel "$KERNEL" -initrd "$VM/initramfs.cpio.gz" -append "$APPEND" \
	-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on" \
	-virtfs "local,path=$(qopt "$OUT"),mount_tag=out,security_model=none" \
	-d guest_errors -D "$QEMU_LOG" \
	-qmp "unix:$(qopt "$QMP"),server=on,wait=off"
[ $RELAY = 0 ] || set -- "$@" -qmp "unix:$(qopt "$RELAY_SOCK"),server=on,wait=off"
# One root port per chip; device tern<N> is chip N of fabric f0.
chip_opts=
[ -z "$HBM" ] || chip_opts=",hbm-size=$HBM"
if [ "$TOPOLOGY" != none ]; then
	chip_opts="$chip_opts,fabric=f0,fabric-chips=$CHIPS,topology=$TOPOLOGY"
	[ -z "$TORUS_WIDTH" ] || chip_opts="$chip_opts,torus-width=$TORUS_WIDTH"
	[ -z "$LINK_OPTS" ] || chip_opts="$chip_opts,$LINK_OPTS"
fi
i=0
while [ $i -lt "$CHIPS" ]; do
	cid=
	[ "$TOPOLOGY" = none ] || cid=",chip-id=$i"
	set -- "$@" -device "pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1))" \
		-device "tern,bus=rp$i,id=tern$i$cid$chip_opts"
	i=$((i + 1))
done
if [ "$SOLO" = 1 ]; then
	set -- "$@" -device "pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1))" \
		-device "tern,bus=rp$i,id=tern$i${HBM:+,hbm-size=$HBM}"
fi
# bench: an NVMe drive backed by a file of the build directory, for fio.
if [ "$MODE" = bench ]; then
	NVME_IMG=$VM/nvme-bench.img
	[ -f "$NVME_IMG" ] || truncate -s 1G "$NVME_IMG"
	set -- "$@" -drive "file=$(qopt "$NVME_IMG"),if=none,id=nvm,format=raw" \
		-device nvme,serial=tern-bench,drive=nvm
fi
# The console: stdio, also logged to console.log. Interactive runs get the
# QEMU monitor multiplexed in (Ctrl-A c) and keep Ctrl-C for the guest.
CON="stdio,id=con,logfile=$(qopt "$OUT/console.log")"
if [ $INTERACTIVE = 1 ]; then
	set -- "$@" -chardev "$CON,mux=on,signal=off" -serial chardev:con -mon chardev=con
else
	set -- "$@" -chardev "$CON" -serial chardev:con -monitor none
fi
# Split on spaces on purpose, but no globbing: "-trace tern_*" stays as is.
set -f
# shellcheck disable=SC2086
set -- "$@" ${TERN_VM_QEMU_ARGS:-}
set +f
printf '%s\n' "$QEMU" "$@" >"$OUT/qemu.cmdline"

# mawk reads pipes in blocks unless told it is interactive.
AWK_LIVE="awk"
awk -W version 2>/dev/null | grep -q mawk && AWK_LIVE="awk -W interactive"
# console_filter: show the guest console, without the kernel's own lines
# unless they report trouble (an oops/panic splat is shown whole) or come from
# tern.ko outside the test, fuzz and fabric modes (the tests provoke device errors on purpose; they
# stay in console.log and dmesg.txt).
console_filter() {
	$AWK_LIVE -v all="$VERBOSE" -v mode="$MODE" '
		{ sub(/\r$/, "") }
		all == 1 { print; fflush(); next }
		/^\[ *[0-9]+\.[0-9]+\] / {
			if ($0 ~ /(WARNING:|BUG:|Oops|general protection|Kernel panic|Call Trace:|blocked for more than|soft lockup)/)
				splat = 1
			if (splat || ($0 ~ /\] tern[ :]/ && mode != "test" && mode != "fabric" && mode != "fuzz" && mode != "soak"))
				{ print; fflush() }
			if ($0 ~ /(---\[ end |<\/TASK>)/)
				splat = 0
			next
		}
		{ print; fflush() }'
}

# The relay connects once QEMU listens, and ends when QEMU does.
if [ $RELAY = 1 ]; then
	python3 "$HERE/qmp-relay.py" "$OUT" "$RELAY_SOCK" 2>"$OUT/relay.log" &
	relay_pid=$!
fi

topo_note=
[ "$TOPOLOGY" = none ] || topo_note=" in a $TOPOLOGY"
t0=$(date +%s)
if [ $INTERACTIVE = 0 ]; then
	limit="timeout ${TIMEOUT}s"
	[ "$TIMEOUT" -gt 0 ] || limit="no timeout"
	say "booting ($MODE, $CHIPS chips$topo_note, $limit); results in $OUT"
	{
		rc=0
		# A QEMU crash leaves its core in $OUT (guest RAM left out by
		# dump-guest-core=off; idle HBM is sparse) for gdb.
		rm -f "$OUT"/core "$OUT"/core.*
		if [ "$TIMEOUT" -gt 0 ]; then
			(cd "$OUT" && { ulimit -c unlimited 2>/dev/null || true; } &&
				exec timeout -k 10 "$TIMEOUT" "$QEMU" "$@" </dev/null) || rc=$?
		else
			(cd "$OUT" && { ulimit -c unlimited 2>/dev/null || true; } &&
				exec "$QEMU" "$@" </dev/null) || rc=$?
		fi
		echo $rc >"$OUT/qemu.rc"
	} | console_filter
else
	say "booting ($MODE, $CHIPS chips$topo_note, interactive); Ctrl-A x quits, Ctrl-A c is the monitor"
	rc=0
	"$QEMU" "$@" || rc=$?
	echo $rc >"$OUT/qemu.rc"
fi
t1=$(date +%s)

qemu_rc=$(cat "$OUT/qemu.rc" 2>/dev/null || echo 255)
guest_rc=$(cat "$OUT/guest.rc" 2>/dev/null || echo none)
status=0
case $qemu_rc in
0) ;;
124 | 137) say "TIMEOUT: the VM was killed after ${TIMEOUT}s"; status=1 ;;
*) say "QEMU failed with status $qemu_rc (see $QEMU_LOG)"; status=1
	for c in "$OUT"/core "$OUT"/core.*; do
		[ -f "$c" ] && say "QEMU left a core: gdb $QEMU $c"
	done ;;
esac
if [ -s "$OUT/init.err" ]; then
	say "guest init failed: $(cat "$OUT/init.err")"
	status=1
fi
case $guest_rc in
0) ;;
1) say "a $MODE program failed in the guest"; status=1 ;;
2) say "loading the kernel modules failed in the guest (see $OUT/dmesg.txt)"; status=1 ;;
3) say "the test list is missing"; status=1 ;;
4) say "the guest found fewer tern chips than the $CHIPS booted (see $OUT/console.log)"; status=1 ;;
none)
	if [ $status -eq 0 ]; then
		say "the guest stopped before finishing (panic or crash?); last console lines:"
		tail -n 25 "$OUT/console.log" | tr -d '\r' >&2
	fi
	status=1 ;;
*) say "the guest reported status $guest_rc"; status=1 ;;
esac
# Kernel warnings are below the quiet console level: report them from the
# taint flags (W = 512, D = 128). In test mode test.sh counts them.
taint=$(cat "$OUT/tainted" 2>/dev/null || echo 0)
case $taint in *[!0-9]* | '') taint=0 ;; esac
if [ $((taint & 640)) -ne 0 ]; then
	say "the guest kernel logged a warning or oops (taint $taint), from $OUT/dmesg.txt:"
	grep -E -A3 'WARNING:|BUG:|Oops' "$OUT/dmesg.txt" | head -n 12 >&2
	case $MODE in test | fabric) ;; *) status=1 ;; esac
fi
nerr=$(grep -c '^tern:' "$QEMU_LOG" 2>/dev/null || true)
[ "${nerr:-0}" -eq 0 ] || say "QEMU logged $nerr tern guest error(s) in $QEMU_LOG"
if [ $status -eq 0 ]; then
	say "$MODE done in $((t1 - t0))s"
else
	say "$MODE FAILED after $((t1 - t0))s; console log $OUT/console.log"
fi
exit $status
