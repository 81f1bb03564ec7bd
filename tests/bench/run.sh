#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh: `make bench`. First the host's own matmul rate, OpenBLAS sgemm on
# one thread and on all CPUs (sgemm_host, while nothing else of ours runs);
# then the VM (tests/vm/run-vm.sh bench: dma_bw, which prints its own table
# against host memcpy, matmul, the emulated tern matmul on one core and
# on all cores, submit_rate, empty jobs per second through each submission
# path, and fio's 4 KiB random reads on QEMU's NVMe drive in the same VM);
# then sgemm_host once more, and one table of both with their ratios,
# OpenBLAS's figures the better of its two runs (so that a moment of other
# load on the host does not flatter tern); last the submission rates beside
# the NVMe IOPS, as ratios; last the all-reduce bus bandwidth on 2, 4, 8 and
# 16 chips (allreduce in the VM, 16 chips in a 4x4 torus) beside memcpy,
# both the guest's (an emulated CPU under TCG: slow) and the host's own
# (memcpy_host, run before and after the VM, the better of the two), as
# ratios. Speed is measured,
# never asserted: the exit status says only whether every benchmark ran and
# its results checked out.
#
# Environment: B (build directory, default build/ of this checkout), and
# what tests/vm/run-vm.sh takes.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
export B
BENCH=$B/tests/bench
HOST_TSV=$BENCH/sgemm.tsv
HOST_TSV2=$BENCH/sgemm-after.tsv
MEMCPY_TSV=$BENCH/memcpy.tsv
MEMCPY_TSV2=$BENCH/memcpy-after.tsv
GUEST_TSV=$B/vm/out-bench/matmul.tsv
OUTB=$B/vm/out-bench

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$BENCH/sgemm_host" ] || die "$BENCH/sgemm_host missing: run \`make bench-bins\`"
[ -x "$BENCH/memcpy_host" ] || die "$BENCH/memcpy_host missing: run \`make bench-bins\`"
rm -f "$HOST_TSV" "$HOST_TSV2" "$MEMCPY_TSV" "$MEMCPY_TSV2"
"$BENCH/sgemm_host" -o "$HOST_TSV" || die "sgemm_host failed"
echo
"$BENCH/memcpy_host" -o "$MEMCPY_TSV" || die "memcpy_host failed"
echo
sh "$ROOT/tests/vm/run-vm.sh" bench || die "the benchmarks in the VM failed"
[ -s "$GUEST_TSV" ] || die "$GUEST_TSV missing: the guest's matmul wrote no results"
for f in submit-a.tsv submit-b.tsv fio-qd1-a.json fio-qd32-a.json fio-qd1-b.json \
	fio-qd32-b.json; do
	[ -s "$OUTB/$f" ] || die "$OUTB/$f missing: the guest's submission benchmark wrote no results"
done
[ -s "$OUTB/allreduce.tsv" ] || die "$OUTB/allreduce.tsv missing: the guest's all-reduce benchmark wrote no results"
echo
"$BENCH/sgemm_host" -o "$HOST_TSV2" || die "sgemm_host failed"
echo
"$BENCH/memcpy_host" -o "$MEMCPY_TSV2" || die "memcpy_host failed"

# sgemm*.tsv: size threads gflops (1 thread, then all)
# matmul.tsv: dtype size cores wall_gflops modeled_gflops max_err (1 core, then all)
echo
awk -F '\t' '
	FILENAME != guest {
		if ($2 == 1) { if ($3 > blas1[$1]) blas1[$1] = $3 }
		else { if ($3 > blasn[$1]) blasn[$1] = $3; threads = $2 }
		next
	}
	$3 == 1 { one[$1 "," $2] = $4; mone[$1 "," $2] = $5; next }
	{
		key = $1 "," $2; cores = $3
		if (!(key in seen)) { order[n++] = key; seen[key] = 1 }
		all[key] = $4; mall[key] = $5
	}
	function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
	END {
		printf "matmul C = A . B, GFLOP/s by wall time: tern emulated in the VM on 1 and %d cores,\n", cores
		printf "OpenBLAS sgemm on the host on 1 and %d threads; ratio = tern / OpenBLAS (goal: all >= 0.8)\n", threads
		printf "%5s  %5s  %8s  %8s  %8s  %8s  %8s  %8s  %12s  %12s\n", "dtype", "size",
			"tern 1", "tern all", "BLAS 1", "BLAS all", "ratio 1", "ratio all",
			"modeled 1", "modeled all"
		for (i = 0; i < n; i++) {
			split(order[i], k, ",")
			printf "%5s  %5s  %8.1f  %8.1f  %8.1f  %8.1f  %8s  %8s  %12.1f  %12.1f\n",
				k[1], k[2], one[order[i]], all[order[i]], blas1[k[2]], blasn[k[2]],
				ratio(one[order[i]], blas1[k[2]]), ratio(all[order[i]], blasn[k[2]]),
				mone[order[i]], mall[order[i]]
		}
		print "(OpenBLAS: the better of its runs before and after the VM; modeled: the rate"
		print "of the real chip by the cost model, from the launch status)"
	}' guest="$GUEST_TSV" "$HOST_TSV" "$HOST_TSV2" "$GUEST_TSV"

# submit-{a,b}.tsv: path depth jobs_per_s path_it_ran_on; fio-qd*-{a,b}.json:
# fio's own. Each figure is the better of its two runs (interleaved in the
# guest), so that a moment of host load flatters neither side.
echo
python3 - "$OUTB" <<'EOF'
import json, sys

out = sys.argv[1]
rate, ran, order = {}, {}, []
for run in "ab":
    for line in open("%s/submit-%s.tsv" % (out, run)):
        path, depth, r, on = line.split()
        key = (path, int(depth))
        rate[key] = max(rate.get(key, 0.0), float(r))
        ran[path] = on
        if path not in order:
            order.append(path)

def iops(f):
    return sum(j["read"]["iops"] for j in json.load(open(f))["jobs"])

def ratio(a, b):
    return "%.2f" % (a / b) if b > 0 else "-"

nvme = {qd: max(iops("%s/fio-qd%d-%s.json" % (out, qd, run)) for run in "ab")
        for qd in (1, 32)}
base = {"uring-sqpoll": "uring"}
print("submission rate: empty jobs per second, submit -> seen done, in the VM, beside")
print("fio 4 KiB random reads (io_uring, O_DIRECT) on QEMU's NVMe drive in the same VM")
print("%-12s  %12s  %12s" % ("path", "depth 1", "depth 32"))
for path in order:
    note = "" if ran[path] == base.get(path, path) else "  (not offered: ran on %s)" % ran[path]
    print("%-12s  %12.0f  %12.0f%s" % (path, rate[path, 1], rate[path, 32], note))
print("%-12s  %12.0f  %12.0f  (IOPS at QD1, QD32)" % ("nvme", nvme[1], nvme[32]))
print("userq depth 1 / nvme QD1:   %s  (goal >= 5)%s" % (ratio(rate["userq", 1], nvme[1]),
      "" if ran["userq"] == "userq" else "  (userq not offered)"))
print("uring depth 32 / nvme QD32: %s  (goal >= 2; with the SQ thread: %s)%s" % (
      ratio(rate["uring", 32], nvme[32]), ratio(rate.get(("uring-sqpoll", 32), 0), nvme[32]),
      "" if ran["uring"] == "uring" else "  (uring not offered)"))
EOF

# allreduce.tsv: ranks size iters seconds algbw busbw memcpy modeled_busbw
# link algorithm; memcpy*.tsv: size gbps (the host's, better of two runs).
echo
awk -F '\t' '
	FILENAME != ar { if ($2 > host[$1]) host[$1] = $2; next }
	{ rows[n++] = $0 }
	function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "-" }
	function sz(b) { return b >= 1048576 ? sprintf("%d MiB", b / 1048576) : sprintf("%d KiB", b / 1024) }
	END {
		print "all-reduce (fp32 sum) bus bandwidth, GB/s, on n chips of the 4x4 torus, beside memcpy"
		print "of the same size: the guest'"'"'s (its CPU emulated by TCG, so slow) and the host'"'"'s own."
		print "busbw = algbw * 2(n-1)/n (as NCCL'"'"'s tests); modeled: over the modeled time of the"
		print "busiest link port; link: the modeled bandwidth of one link, per direction."
		print "Goal: busbw / memcpy >= 0.5 for large messages on 8 chips."
		printf "%5s  %9s  %5s  %8s  %8s  %11s  %8s  %11s  %9s  %6s\n", "ranks", "size", "algo",
			"busbw", "g.memcpy", "bus/g.mcpy", "h.memcpy", "bus/h.mcpy", "modeled", "link"
		for (i = 0; i < n; i++) {
			split(rows[i], f, "\t")
			printf "%5d  %9s  %5s  %8.2f  %8.2f  %11s  %8.2f  %11s  %9.2f  %6.1f\n", f[1],
				sz(f[2]), f[10], f[6], f[7], ratio(f[6], f[7]), host[f[2]],
				ratio(f[6], host[f[2]]), f[8], f[9]
		}
	}' ar="$OUTB/allreduce.tsv" "$MEMCPY_TSV" "$MEMCPY_TSV2" "$OUTB/allreduce.tsv"
