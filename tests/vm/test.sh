#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test.sh: run every test and print one closing line "N passed, M failed"
# (what `make test` runs after building).
#   1. the host tests listed in build/tests/unit/tests.txt and
#      build/tests/ops/tests.txt, each under `timeout`; output in
#      build/test-results/{unit,ops}/<name>.tap;
#   1b. the host libFuzzer targets of the model, a short run each (below);
#   2. the kselftests in the guest (run-vm.sh test, two unlinked chips);
#      output in build/vm/out-test/<name>.tap;
#   3. the fabric kselftests in a second guest (run-vm.sh fabric, 16 chips
#      in a 4x4 torus, build/tests/kselftest/fabric.txt); output in
#      build/vm/out-fabric/<name>.tap;
#   4. counts every result with tap-count.awk (rules there and in
#      Documentation/vm-runner.rst). A listed program with no output, a VM
#      that failed, and a guest kernel warning or oops each count as failures.
# Exits 0 only when nothing failed and something passed.
#
# Environment: TERN_UNIT_TIMEOUT (seconds per host test program, default 300),
# and those of run-vm.sh (TERN_VM_TIMEOUT, TERN_TEST_TIMEOUT, ...).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
RES=$B/test-results
UNIT_TIMEOUT=${TERN_UNIT_TIMEOUT:-300}
case $UNIT_TIMEOUT in *[!0-9]* | '') echo "test.sh: TERN_UNIT_TIMEOUT must be a number" >&2; exit 2 ;; esac

rm -rf "$RES"
mkdir -p "$RES/unit" || exit 2
FAILURES=$RES/failures.txt
: >"$FAILURES"
total_pass=0
total_fail=0

# add LABEL PASSED FAILED [WHAT...]: add to the totals; WHAT are failure lines.
add() {
	label=$1 p=$2 f=$3
	shift 3
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	for w in "$@"; do echo "$label: $w" >>"$FAILURES"; done
}

# count LABEL TAP RCFILE: count one program's results.
count() {
	label=$1 tap=$2 rcfile=$3
	if [ ! -f "$tap" ]; then
		add "$label" 0 1 "no output (not run)"
		echo "$label: 0 passed, 1 failed (not run)"
		return
	fi
	out=$(awk -f "$HERE/tap-count.awk" "$tap")
	# shellcheck disable=SC2046 # two numbers
	set -- $(echo "$out" | sed -n 's/^COUNT //p')
	p=${1:-0} f=${2:-1}
	echo "$out" | sed -n 's/^FAIL //p' | while IFS= read -r w; do
		echo "$label: $w" >>"$FAILURES"
	done
	rc=$(cat "$rcfile" 2>/dev/null || echo none)
	if [ "$f" -eq 0 ]; then
		# All results passed, but the program itself did not end well.
		case $rc in
		0) ;;
		none) f=1; echo "$label: no exit status (the VM stopped while it ran?)" >>"$FAILURES" ;;
		*) f=1; echo "$label: exited with status $rc" >>"$FAILURES" ;;
		esac
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	note=
	case $rc in 124 | 137) note=" (timed out)" ;; 0 | none) ;; *) note=" (exit $rc)" ;; esac
	echo "$label: $p passed, $f failed$note"
}

# names LIST: the program names of a tests.txt (first word; no comments).
names() { awk '$1 !~ /^#/ && NF { print $1 }' "$1"; }

# 1. Host unit tests.
# Static checks: UAPI layout (pahole), checkpatch --strict, W=1 + sparse.
mkdir -p "$RES/static"
sh "$ROOT/tests/static/checks.sh" >"$RES/static/checks.tap" 2>&1
echo $? >"$RES/static/checks.rc"
count static/checks "$RES/static/checks.tap" "$RES/static/checks.rc"

# host_tests DIR [ISA]: the programs of build/tests/DIR/tests.txt, labelled
# DIR/<name>; with ISA, run with TERN_CORE_ISA=ISA (the model's compute
# kernels for a lesser CPU) and labelled DIR@ISA/<name>.
host_tests() {
	dir=$1
	isa=${2:-}
	hlabel=$dir${isa:+@$isa}
	list=$B/tests/$dir/tests.txt
	mkdir -p "$RES/$hlabel"
	if [ ! -f "$list" ]; then
		echo "test.sh: $list missing (run \`make $dir\`)" >&2
		add "$dir" 0 1 "tests.txt missing (run \`make $dir\`)"
		return
	fi
	for name in $(names "$list"); do
		prog=$B/tests/$dir/$name
		if [ ! -x "$prog" ]; then
			add "$dir/$name" 0 1 "program missing ($prog)"
			echo "$dir/$name: 0 passed, 1 failed (missing)"
			continue
		fi
		(cd "$B/tests/$dir" && TERN_CORE_ISA=$isa \
			timeout -k 10 "$UNIT_TIMEOUT" "./$name" </dev/null) \
			>"$RES/$hlabel/$name.tap" 2>&1
		echo $? >"$RES/$hlabel/$name.rc"
		count "$hlabel/$name" "$RES/$hlabel/$name.tap" "$RES/$hlabel/$name.rc"
	done
}

# The device model's unit tests, then libtern's builder and ops on its core;
# again with the model's AVX2 and generic compute kernels, which the best
# kernels of this CPU would otherwise leave untested.
host_tests unit
host_tests ops
for isa in avx2 generic; do
	host_tests unit $isa
	host_tests ops $isa
done

# 1b. Host fuzzers: a short fixed-seed run of each libFuzzer target of the
# model (tests/fuzz/run.sh smoke, TERN_FUZZ_SMOKE_TIME seconds each,
# default 20), one at a time; output in build/test-results/fuzz/<name>.tap
# (execs, coverage, corpus as TAP comments), logs and any crash input in
# build/tests/fuzz/{logs,artifacts}/.
FUZZ_SMOKE_TIME=${TERN_FUZZ_SMOKE_TIME:-20}
case $FUZZ_SMOKE_TIME in *[!0-9]* | '' | 0) echo "test.sh: TERN_FUZZ_SMOKE_TIME must be a positive number" >&2; exit 2 ;; esac
fuzz_list=$B/tests/fuzz/tests.txt
mkdir -p "$RES/fuzz"
if [ ! -f "$fuzz_list" ]; then
	add fuzz 0 1 "tests.txt missing (run \`make fuzz-bins\`)"
else
	for name in $(names "$fuzz_list"); do
		nice -n 10 sh "$ROOT/tests/fuzz/run.sh" smoke "$B/tests/fuzz" \
			"$FUZZ_SMOKE_TIME" "$name" >"$RES/fuzz/$name.tap" 2>&1
		echo $? >"$RES/fuzz/$name.rc"
		count "fuzz/$name" "$RES/fuzz/$name.tap" "$RES/fuzz/$name.rc"
	done
fi

# 2, 3. Kselftests in the guests: LABEL MODE LIST.
vm_tests() {
	vlabel=$1 mode=$2 klist=$B/tests/kselftest/$3
	VMOUT=$B/vm/out-$mode
	if ! sh "$HERE/run-vm.sh" "$mode"; then
		add "vm-$mode" 0 1 "run-vm.sh $mode failed (see $VMOUT/console.log)"
	fi
	if [ ! -f "$klist" ]; then
		add "$vlabel" 0 1 "$3 missing (run \`make kselftest\`)"
	else
		for name in $(names "$klist"); do
			count "$vlabel/$name" "$VMOUT/$name.tap" "$VMOUT/$name.rc"
		done
	fi
	# A kernel warning or oops during the tests fails the run even when
	# every test passed: taint bits W (512) and D (128).
	if [ -f "$VMOUT/tainted" ]; then
		t=$(cat "$VMOUT/tainted")
		if [ $((t & 640)) -ne 0 ]; then
			first=$(grep -m1 -E 'WARNING:|BUG:|Oops' "$VMOUT/dmesg.txt" 2>/dev/null | sed 's/^\[[^]]*\] //')
			add "guest-kernel-$mode" 0 1 "kernel warning/oops (taint $t): ${first:-see dmesg.txt} ($VMOUT/dmesg.txt)"
			echo "guest-kernel-$mode: 0 passed, 1 failed"
		fi
	fi
}
vm_tests kselftest test tests.txt
# The install tests: tests/install/host.txt here, guest.txt ran in the test guest.
for name in $(names "$ROOT/tests/install/host.txt"); do
	mkdir -p "$RES/install"
	(cd "$RES/install" && B=$B timeout -k 10 600 sh "$ROOT/tests/install/$name" </dev/null) \
		>"$RES/install/$name.tap" 2>&1
	echo $? >"$RES/install/$name.rc"
	count "install/$name" "$RES/install/$name.tap" "$RES/install/$name.rc"
done
for name in $(names "$ROOT/tests/install/guest.txt"); do
	count "install/$name" "$B/vm/out-test/install-$name.tap" "$B/vm/out-test/install-$name.rc"
done
vm_tests fabric fabric fabric.txt

if [ -s "$FAILURES" ]; then
	echo "Failed:"
	sed 's/^/  /' "$FAILURES"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
