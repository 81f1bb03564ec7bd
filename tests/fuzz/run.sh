#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh MODE DIR SECONDS TARGET...: run host fuzz targets one at a time
# (Documentation/reliability.rst, "Fuzzing").
#   smoke  what `make test` runs: each target for SECONDS from its seeds
#          with a fixed seed (FUZZ_SEED, default 1) and a fresh corpus;
#          TAP on stdout, one result per target, figures as comments.
#   long   what `make fuzz` runs: each target for SECONDS on its kept
#          corpus DIR/corpus/<target> with a seed taken from the clock
#          (printed, to rerun the same way); a summary line per target.
# Either way, any crash, sanitizer report, leak, timeout (-timeout=60 s per
# input) or model abort fails the target; its input is saved as
# DIR/artifacts/<target>/crash-* (rerun: DIR/<target> <that file>) and its
# log is DIR/logs/<target>.log. Exits non-zero if any target failed.
set -u

mode=${1:-} dir=${2:-} secs=${3:-}
if [ $# -lt 4 ] || { [ "$mode" != smoke ] && [ "$mode" != long ]; }; then
	echo "usage: run.sh smoke|long DIR SECONDS TARGET..." >&2
	exit 2
fi
case $secs in *[!0-9]* | '' | 0) echo "run.sh: SECONDS must be a positive number, not '$secs'" >&2; exit 2 ;; esac
shift 3

failed=0 n=0
[ "$mode" = smoke ] && echo "1..$#"
for t in "$@"; do
	n=$((n + 1))
	bin=$dir/$t
	log=$dir/logs/$t.log
	art=$dir/artifacts/$t
	mkdir -p "$dir/logs" "$art"
	if [ "$mode" = smoke ]; then
		seed=${FUZZ_SEED:-1}
		corpus=$dir/corpus-smoke/$t
		rm -rf "$corpus"
	else
		seed=$(( $(date +%s) % 2147483647 + 1 ))
		corpus=$dir/corpus/$t
	fi
	mkdir -p "$corpus"
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $t # not built ($bin)"
		failed=1
		continue
	fi
	start=$(date +%s)
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -seed="$seed" -max_total_time="$secs" -timeout=60 \
		-rss_limit_mb=3072 -print_final_stats=1 \
		-artifact_prefix="$art/" "$corpus" "$dir/seeds/$t" \
		>"$log" 2>&1 </dev/null
	rc=$?
	took=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) .*/\1/p')
	units=$(find "$corpus" -type f | wc -l)
	reports=$(grep -cE '^==[0-9]+==ERROR|runtime error:|^==FUZZ==|deadly signal|ERROR: libFuzzer' "$log")
	if [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]; then
		result=ok
	else
		result="not ok"
		failed=1
	fi
	if [ "$mode" = smoke ]; then
		echo "# $t: seed $seed, ${took} s, ${execs:-0} execs (${rate:-0}/s), coverage ${cov:-?}, corpus $units, sanitizer/model reports $reports"
		[ "$result" = ok ] || grep -E -m 5 'ERROR|runtime error|==FUZZ==|SUMMARY|Test unit written' "$log" | sed 's/^/#   /'
		echo "$result $n - $t"
	else
		echo "$t: $result: ${execs:-0} execs in ${took} s (${rate:-0}/s), seed $seed, coverage ${cov:-?}, corpus $units, reports $reports, log $log"
		[ "$result" = ok ] || grep -E -m 5 'ERROR|runtime error|==FUZZ==|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
	fi
done
exit $failed
