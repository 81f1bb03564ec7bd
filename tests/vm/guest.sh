#!/bin/sh
# SPDX-License-Identifier: MIT
#
# guest.sh MODE: runs inside the guest, chrooted into the host's root file
# system (see tests/vm/init). Loads the DRM modules and tern.ko, checks that
# every chip the host booted ($TERN_VM_CHIPS) has a device, then:
#   demo   tern-ls, a verified 256 MiB DMA round trip, the MLP and the
#          transformer-block examples, tern-run on a matmul and an
#          attention head, then tern-ls --topology and the data-parallel
#          training example across the chips
#   test   every kselftest in $TERN_BUILD/tests/kselftest/tests.txt, each
#          under `timeout`; output to $TERN_OUT/<name>.tap, exit code to
#          $TERN_OUT/<name>.rc
#   fuzz   only tern_fuzz, for $TERN_FUZZ_TIME seconds (list
#          $TERN_OUT/fuzz.txt, written here); exit 1 if it failed
#   soak   only tern_soak, for $TERN_SOAK_TIME seconds (list
#          $TERN_OUT/soak.txt, written here); exit 1 if it failed
#   fabric first a check of the QMP relay (qom-get of every chip's
#          chip-id), then every kselftest in fabric.txt, as in test
#   bench  the DMA bandwidth and matmul benchmarks (matmul results also in
#          $TERN_OUT/matmul.tsv), then twice: fio 4 KiB random reads at QD1
#          and QD32 on the NVMe drive with serial tern-bench
#          ($TERN_OUT/fio-qd{1,32}-{a,b}.json) and submit_rate
#          ($TERN_OUT/submit-{a,b}.tsv), interleaved so that both see the
#          same moments of host load; last the all-reduce benchmark across
#          2..16 chips ($TERN_OUT/allreduce.tsv)
#   shell  an interactive shell
# With TERN_VM_KEEP=1 an interactive shell follows the mode.
#
# Exit status: 0 when the mode ran (test mode: failed tests are counted by
# the host from the .tap files, not here), 1 when a demo/bench program failed
# (or, in mode fabric, the relay check), 2 when a module failed to load, 3
# when the test list is missing, 4 when chips are missing.
set -u

MODE=${1:-}
log() { echo "tern-guest: $*"; }
for v in TERN_ROOT TERN_BUILD TERN_KO TERN_OUT TERN_QEMU_LOG; do
	eval "val=\${$v:-}"
	[ -n "$val" ] || { log "$v is not set (run through tests/vm/run-vm.sh)"; exit 2; }
done
MODS=$TERN_BUILD/vm/modules

load_modules() {
	if [ ! -f "$MODS/order" ]; then
		log "$MODS/order missing (run-vm.sh prepares it)"
		return 1
	fi
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "$MODS/$m.ko" || { log "insmod $m failed"; return 1; }
	done <"$MODS/order"
	if [ "${TERN_VM_NO_KO:-}" = 1 ]; then
		log "not loading tern.ko (TERN_VM_NO_KO=1)"
		return 0
	fi
	if [ ! -f "$TERN_KO" ]; then
		log "$TERN_KO missing (run \`make module\`)"
		return 1
	fi
	if ! insmod "$TERN_KO"; then
		log "insmod $TERN_KO failed; last kernel messages:"
		# indented: the host hides lines that look like kernel messages
		dmesg | tail -n 20 | sed 's/^/    /'
		return 1
	fi
}

# interactive: a login-like shell on the console; leaving it powers off.
interactive() {
	log "interactive shell; exit it to power the VM off"
	cd "$TERN_ROOT" || true
	if [ -x /bin/bash ]; then
		/bin/bash -i
	else
		/bin/sh -i
	fi
}

save_kernel_state() {
	dmesg >"$TERN_OUT/dmesg.txt" 2>&1
	cat /proc/sys/kernel/tainted >"$TERN_OUT/tainted" 2>/dev/null
}

# run PROG ARGS...: run a program from the build tree on the console.
run() {
	if [ ! -x "$1" ]; then
		log "$1 missing (run \`make\`)"
		return 1
	fi
	"$@"
	rc=$?
	[ $rc -eq 0 ] && return 0
	log "${1##*/} failed with status $rc"
	return 1
}

# The block device of the NVMe drive run-vm.sh adds in bench mode.
nvme_dev() {
	i=0
	while [ $i -lt 50 ]; do
		# the namespace's device is its controller, or with multipath its subsystem
		for b in /sys/block/nvme*n1; do
			[ -e "$b/device/serial" ] || continue
			[ "$(tr -d ' ' <"$b/device/serial")" = tern-bench ] || continue
			[ -e "/dev/${b##*/}" ] && { echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# fio QD RUN: 4 KiB random reads, io_uring, O_DIRECT, on the NVMe drive.
run_fio() {
	dev=$(nvme_dev) || { log "no NVMe drive with serial tern-bench"; return 1; }
	command -v fio >/dev/null || { log "fio missing"; return 1; }
	fio --name="qd$1" --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread \
		--bs=4k --iodepth="$1" --size=256M --runtime=5 --time_based --ramp_time=1 \
		--output-format=json --output="$TERN_OUT/fio-qd$1-$2.json" >/dev/null || {
		log "fio at QD$1 failed"; return 1; }
	log "fio on $dev, 4 KiB random reads, QD$1: done"
}

# The tern devices bound by the driver.
tern_devices() {
	n=0
	for d in /sys/class/accel/accel*; do
		[ -e "$d/device/driver" ] || continue
		[ "$(basename "$(readlink "$d/device/driver")")" = tern ] && n=$((n + 1))
	done
	echo $n
}

# Every chip the host booted must have probed (a BAR the firmware could
# not place fails the probe).
check_chips() {
	want=${TERN_VM_CHIPS:-}
	[ -n "$want" ] && [ "$want" -gt 0 ] || return 0
	want=$((want + ${TERN_VM_SOLO:-0}))
	have=$(tern_devices)
	if [ "$have" -ne "$want" ]; then
		log "only $have of $want tern chips have a device; kernel messages:"
		dmesg | grep -iE 'tern|BAR|no space|failed to assign' | tail -n 20 | sed 's/^/    /'
		return 1
	fi
	log "$have tern chips${TERN_VM_TOPOLOGY:+ (topology $TERN_VM_TOPOLOGY)}"
}

# relay_get CHIP PROP: ask the host's QMP relay for a property of device
# tern<CHIP> (the protocol of tests/vm/qmp-relay.py); prints the value.
relay_get() {
	d=$TERN_OUT/relay
	name=sh-$$-$1-$2
	echo "qom-get $1 $2" >"$d/.tmp-req-$name" && mv "$d/.tmp-req-$name" "$d/req-$name" ||
		return 1
	i=0
	while [ ! -e "$d/resp-$name" ]; do
		i=$((i + 1))
		[ $i -lt 1000 ] || { rm -f "$d/req-$name"; echo "timeout"; return 1; }
		sleep 0.02
	done
	ans=$(cat "$d/resp-$name")
	rm -f "$d/resp-$name"
	case $ans in "ok "*) echo "${ans#ok }" ;; *) echo "$ans"; return 1 ;; esac
}

# The relay answers for every chip, and each device tern<N> says chip-id N.
check_relay() {
	if [ ! -e "$TERN_OUT/relay/ready" ]; then
		log "no QMP relay: the link-down cases will be skipped"
		return 0
	fi
	want=${TERN_VM_CHIPS:-0}
	prop=chip-id
	[ "${TERN_VM_TOPOLOGY:-none}" != none ] || prop=hbm-size
	c=0
	while [ $c -lt "$want" ]; do
		v=$(relay_get $c $prop) || { log "QMP relay: qom-get tern$c $prop: $v"; return 1; }
		if [ $prop = chip-id ] && [ "$v" != $c ]; then
			log "QMP relay: tern$c has chip-id $v"
			return 1
		fi
		c=$((c + 1))
	done
	# and refuses what is not allowed
	if v=$(relay_get 0 no-such-prop); then
		log "QMP relay: qom-get of a missing property answered '$v'"
		return 1
	fi
	log "QMP relay: $prop of $want chips read back"
}

run_tests() {
	case $1 in /*) list=$1 ;; *) list=$TERN_BUILD/tests/kselftest/$1 ;; esac
	if [ ! -f "$list" ]; then
		log "$list missing (run \`make kselftest\`)"
		return 3
	fi
	cd "$TERN_BUILD/tests/kselftest" || return 3
	total=$(grep -cvE '^[[:space:]]*(#|$)' "$list")
	n=0
	# A line is "name [timeout-seconds]"; the default is TERN_TEST_TIMEOUT.
	while read -r name secs _; do
		case $name in '' | '#'*) continue ;; esac
		n=$((n + 1))
		secs=${secs:-${TERN_TEST_TIMEOUT:-300}}
		tap=$TERN_OUT/$name.tap
		t0=$(date +%s)
		if [ -x "./$name" ]; then
			timeout -k 10 "$secs" "./$name" >"$tap" 2>&1 </dev/null
			rc=$?
		else
			echo "# $name: program missing in $PWD" >"$tap"
			rc=127
		fi
		echo "$rc" >"$TERN_OUT/$name.rc"
		t1=$(date +%s)
		ok=$(grep -cE '^[[:space:]]*ok( |$)' "$tap")
		nok=$(grep -cE '^[[:space:]]*not ok( |$)' "$tap")
		note=
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && note=" TIMEOUT after ${secs}s"
		log "[$n/$total] $name: exit $rc, $ok ok, $nok not ok, $((t1 - t0))s$note"
	done <"$list"
	return 0
}

# The install tests (tests/install/guest.txt, "name [timeout]"), run from
# the source tree after the kselftests; output to $TERN_OUT/install-<name>.tap.
run_install_tests() {
	ilist=$TERN_ROOT/tests/install/guest.txt
	[ -f "$ilist" ] || return 0
	while read -r name secs _; do
		case $name in '' | '#'*) continue ;; esac
		timeout -k 10 "${secs:-300}" sh "$TERN_ROOT/tests/install/$name" \
			>"$TERN_OUT/install-$name.tap" 2>&1 </dev/null
		echo $? >"$TERN_OUT/install-$name.rc"
		log "install/$name: exit $(cat "$TERN_OUT/install-$name.rc"), $(grep -c '^ok ' "$TERN_OUT/install-$name.tap") ok, $(grep -c '^not ok ' "$TERN_OUT/install-$name.tap") not ok"
	done <"$ilist"
}

case $MODE in
demo | test | fuzz | soak | fabric | bench | shell) ;;
*) log "unknown mode '$MODE' (demo, test, fuzz, soak, fabric, bench, shell)"; exit 2 ;;
esac
# The kselftests that count devices expect those the host booted.
[ -n "${TERN_VM_CHIPS:-}" ] && export TERN_EXPECT_DEVICES="$((TERN_VM_CHIPS + ${TERN_VM_SOLO:-0}))"

log "mode $MODE, kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, up $(cut -d" " -f1 /proc/uptime)s"
status=0
if ! load_modules; then
	status=2
	if [ "$MODE" != shell ] && [ "${TERN_VM_KEEP:-}" != 1 ]; then
		save_kernel_state
		exit $status
	fi
fi

if [ $status -eq 0 ] && [ "${TERN_VM_NO_KO:-}" != 1 ] && ! check_chips; then
	status=4
fi
if [ $status -eq 0 ]; then
	case $MODE in
	demo)
		run "$TERN_BUILD/tools/tern-ls" &&
			run "$TERN_BUILD/examples/dma_roundtrip" 256M &&
			run "$TERN_BUILD/examples/mlp" &&
			run "$TERN_BUILD/examples/transformer" &&
			run "$TERN_BUILD/tools/tern-run" matmul --m 512 --n 512 --k 512 --dtype bf16 &&
			run "$TERN_BUILD/tools/tern-run" attention --sq 256 --sk 256 --d 64 --causal \
				--dtype bf16 &&
			run "$TERN_BUILD/tools/tern-ls" --topology &&
			run "$TERN_BUILD/examples/dp_train"
		status=$? ;;
	bench)
		run "$TERN_BUILD/tests/bench/dma_bw" &&
			run "$TERN_BUILD/tests/bench/matmul" -v -o "$TERN_OUT/matmul.tsv" &&
			run_fio 1 a && run_fio 32 a &&
			run "$TERN_BUILD/tests/bench/submit_rate" -o "$TERN_OUT/submit-a.tsv" &&
			run_fio 1 b && run_fio 32 b &&
			run "$TERN_BUILD/tests/bench/submit_rate" -o "$TERN_OUT/submit-b.tsv" &&
			run "$TERN_BUILD/tests/bench/allreduce" -o "$TERN_OUT/allreduce.tsv"
		status=$? ;;
	test)
		run_tests tests.txt
		status=$?
		[ $status -ne 0 ] || run_install_tests ;;
	fuzz)
		echo "tern_fuzz $((${TERN_FUZZ_TIME:-60} + 600))" >"$TERN_OUT/fuzz.txt"
		run_tests "$TERN_OUT/fuzz.txt"
		status=$?
		[ $status -ne 0 ] || [ "$(cat "$TERN_OUT/tern_fuzz.rc")" = 0 ] || status=1 ;;
	soak)
		echo "tern_soak $((${TERN_SOAK_TIME:-60} + 840))" >"$TERN_OUT/soak.txt"
		run_tests "$TERN_OUT/soak.txt"
		status=$?
		[ $status -ne 0 ] || [ "$(cat "$TERN_OUT/tern_soak.rc")" = 0 ] || status=1
		# the report: the TAP comments after the baseline lines
		grep -E '^# (soak|fault |jobs|injector|lost|accel)' "$TERN_OUT/tern_soak.tap" ;;
	fabric)
		if check_relay; then
			run_tests fabric.txt
			status=$?
		else
			status=1
		fi ;;
	esac
fi
save_kernel_state
if [ "$MODE" = shell ] || [ "${TERN_VM_KEEP:-}" = 1 ]; then
	interactive
fi
exit $status
