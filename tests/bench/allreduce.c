// SPDX-License-Identifier: MIT
/*
 * allreduce: tern_all_reduce() (lib/tern_coll.h) bandwidth across 2, 4, 8
 * and 16 chips, for messages of 4 KiB .. 64 MiB of fp32 summed, beside the
 * guest's memcpy bandwidth measured in the same run with the same sizes.
 *
 * The ranks are the chips with ids 0..n-1 (in the 4x4 torus of the bench
 * VM: {0,1}, row {0..3}, rows {0..7}, all 16; each a connected set). For
 * each size: one call whose result is checked on every rank, one warm-up
 * call, then calls back to back for at least -t seconds (0.3 by default).
 * As NCCL's tests define them:
 *   algbw = size / time per call
 *   busbw = algbw * 2 (n - 1) / n   (the bytes each rank's busiest link
 *                                    carries in a ring all-reduce)
 * Beside them: memcpy of the same size in this process (under TCG an
 * emulated CPU: slow; run.sh measures the host's own too), the ratio
 * busbw / memcpy, the modeled link bandwidth (tern_device_links()), and a
 * modeled busbw: the bytes of busbw over the modeled time of the busiest
 * link port (the largest growth of a port's busy_ns during the timed
 * calls, per call).
 *
 * The inputs are small integers, so that every sum is exact in fp32 in
 * any order: the check compares every element of every rank's result
 * with the sum computed here. (The kselftest tern_coll checks the
 * reduction order bit for bit against tern_coll_reference().)
 *
 *   allreduce [-n RANKS,...] [-s MIN_KIB] [-m MAX_MIB] [-t SECONDS] [-o FILE]
 *
 * -s: the smallest size (4 KiB times a power of 4; default 4).
 *
 * -o FILE: tab-separated lines "ranks size iters seconds algbw busbw memcpy
 * modeled_busbw link algorithm" (bandwidths in GB/s = 10^9 bytes/s) for
 * run.sh. Speed is measured, never asserted: the exit status says only
 * whether every call ran and its results checked out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "tern.h"
#include "tern_coll.h"
#include "tern_isa.h"

#define MIN_SIZE	(4ull << 10)	/* default smallest message */
#define MAX_SIZE	(64ull << 20)
#define STAGE		(4ull << 20)	/* host staging buffer per rank */
#define MAX_RANKS	16
#define MIN_ITERS	2
#define MAX_ITERS	100000

static uint64_t min_size = MIN_SIZE;	/* -s */

static int fail(const char *what, int err)
{
	fprintf(stderr, "allreduce: %s: %s\n  (%s)\n", what, tern_strerror(err),
		tern_last_error());
	return err ? err : -EIO;
}

static double gbps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? bytes / seconds / 1e9 : 0;
}

/* Element i of rank r's input: an integer in -127..127, exact in fp32. */
static inline float input(unsigned int r, uint64_t i)
{
	return (float)((int)((r * 7919u + i * 31u + (i >> 11)) % 255u) - 127);
}

/* One communicator of the chips 0..n-1 and its buffers. */
struct ranks {
	unsigned int n;
	struct tern_device *dev[MAX_RANKS];
	struct tern_buffer *send[MAX_RANKS], *recv[MAX_RANKS], *stage[MAX_RANKS];
	float *stage_ptr[MAX_RANKS];
	struct tern_comm *comm;
	unsigned int link_mbps;		/* the modeled bandwidth of rank 0's first live port */
};

/* Fill every rank's send buffer with its inputs for @count elements. */
static int fill_inputs(struct ranks *rk, uint64_t count)
{
	uint64_t off, i, n;
	unsigned int r;
	int err;

	for (r = 0; r < rk->n; r++) {
		for (off = 0; off < count; off += n) {
			n = count - off < STAGE / 4 ? count - off : STAGE / 4;
			for (i = 0; i < n; i++)
				rk->stage_ptr[r][i] = input(r, off + i);
			err = tern_copy(rk->dev[r], rk->send[r], off * 4, rk->stage[r], 0, n * 4);
			if (err)
				return fail("copying the inputs to the device", err);
		}
	}
	return 0;
}

/* Every rank's result must be the exact sum of the inputs. */
static int check_results(struct ranks *rk, uint64_t count, float *want)
{
	uint64_t off, i, n;
	unsigned int r;
	int err;

	for (off = 0; off < count; off += n) {
		n = count - off < STAGE / 4 ? count - off : STAGE / 4;
		for (i = 0; i < n; i++) {
			float s = 0;

			for (r = 0; r < rk->n; r++)
				s += input(r, off + i);
			want[i] = s;
		}
		for (r = 0; r < rk->n; r++) {
			err = tern_copy(rk->dev[r], rk->stage[r], 0, rk->recv[r], off * 4, n * 4);
			if (err)
				return fail("copying a result from the device", err);
			if (memcmp(rk->stage_ptr[r], want, n * 4)) {
				for (i = 0; i < n && rk->stage_ptr[r][i] == want[i]; i++)
					;
				fprintf(stderr, "allreduce: %u ranks, %llu elements: rank %u element "
					"%llu is %g, the sum is %g\n", rk->n,
					(unsigned long long)count, r, (unsigned long long)(off + i),
					rk->stage_ptr[r][i], want[i]);
				return -EIO;
			}
		}
	}
	return 0;
}

/* The largest busy_ns of any port of any rank (to difference over a run). */
static int read_busy(struct ranks *rk, uint64_t *busy)
{
	struct tern_link links[TERN_MAX_LINK_PORTS];
	unsigned int r, p;
	int n;

	for (r = 0; r < rk->n; r++) {
		n = tern_device_links(rk->dev[r], links, TERN_MAX_LINK_PORTS);
		if (n < 0)
			return fail("reading the links", n);
		for (p = 0; p < TERN_MAX_LINK_PORTS; p++)
			busy[r * TERN_MAX_LINK_PORTS + p] = (int)p < n ? links[p].busy_ns : 0;
	}
	return 0;
}

static void close_ranks(struct ranks *rk)
{
	unsigned int r;

	tern_comm_destroy(rk->comm);
	for (r = 0; r < rk->n; r++) {
		tern_buffer_free(rk->stage[r]);
		tern_buffer_free(rk->recv[r]);
		tern_buffer_free(rk->send[r]);
		if (rk->dev[r])
			tern_device_close(rk->dev[r]);
	}
	memset(rk, 0, sizeof(*rk));
}

/* Open the chips 0..n-1 (by chip id) and their buffers. */
static int open_ranks(struct ranks *rk, unsigned int n, const int *index_of_chip,
		      uint64_t max)
{
	struct tern_link links[TERN_MAX_LINK_PORTS];
	unsigned int r, p;
	void *ptr;
	int err, nl;

	memset(rk, 0, sizeof(*rk));
	rk->n = n;
	for (r = 0; r < n; r++) {
		err = tern_device_open(index_of_chip[r], &rk->dev[r]);
		if (err)
			goto fail;
		err = tern_buffer_alloc(rk->dev[r], max, TERN_MEM_DEVICE, &rk->send[r]);
		if (!err)
			err = tern_buffer_alloc(rk->dev[r], max, TERN_MEM_DEVICE, &rk->recv[r]);
		if (!err)
			err = tern_buffer_alloc(rk->dev[r], STAGE, TERN_MEM_HOST, &rk->stage[r]);
		if (!err)
			err = tern_buffer_map(rk->stage[r], &ptr);
		if (err)
			goto fail;
		rk->stage_ptr[r] = ptr;
	}
	err = tern_comm_create(rk->dev, n, &rk->comm);
	if (err)
		goto fail;
	nl = tern_device_links(rk->dev[0], links, TERN_MAX_LINK_PORTS);
	if (nl < 0) {
		err = nl;
		goto fail;
	}
	for (p = 0; p < (unsigned int)nl; p++) {
		if (links[p].state == TERN_LINK_UP) {
			rk->link_mbps = links[p].bandwidth_mbps;
			break;
		}
	}
	return 0;
fail:
	fail("setting up the ranks", err);
	close_ranks(rk);
	return err;
}

static const char *algo_name(unsigned int a)
{
	return a == TERN_COLL_RING ? "ring" : a == TERN_COLL_TREE ? "tree" : "?";
}

static int run_ranks(unsigned int n, const int *index_of_chip, uint64_t max, double min_s,
		     const double *memcpy_s, FILE *tsv)
{
	uint64_t busy0[MAX_RANKS * TERN_MAX_LINK_PORTS], busy1[MAX_RANKS * TERN_MAX_LINK_PORTS];
	struct tern_comm_plan plan;
	struct ranks rk;
	double t0, t, per, algbw, busbw, mc, modeled, model_s;
	uint64_t size, count, worst;
	unsigned int iters, i, k;
	char sz[32];
	float *want;
	int err, si;

	want = malloc(STAGE);
	if (!want) {
		fprintf(stderr, "allreduce: out of memory\n");
		return -ENOMEM;
	}
	err = open_ranks(&rk, n, index_of_chip, max);
	if (err) {
		free(want);
		return err;
	}
	for (si = 0, size = min_size; size <= max; size *= 4, si++) {
		count = size / 4;
		err = fill_inputs(&rk, count);
		if (err)
			break;
		err = tern_all_reduce(rk.comm, rk.send, rk.recv, count, TERN_DT_FP32,
				      TERN_REDUCE_SUM);
		if (err) {
			fail("tern_all_reduce", err);
			break;
		}
		err = check_results(&rk, count, want);
		if (err)
			break;
		if (si == 0) {
			/* The algorithm may change with the size (TERN_COLL_AUTO): per row. */
			printf("all-reduce, fp32 sum, %u ranks (chips 0-%u)", n, n - 1);
			printf(", modeled link %.1f GB/s per direction\n", rk.link_mbps / 1000.0);
			printf("%9s  %6s  %10s  %8s  %8s  %8s  %8s  %12s  %s\n", "size", "iters",
			       "us/call", "algbw", "busbw", "memcpy", "bus/mcpy", "modeled bus",
			       "algorithm");
		}
		/* warm-up, then back to back for at least min_s */
		err = tern_all_reduce(rk.comm, rk.send, rk.recv, count, TERN_DT_FP32,
				      TERN_REDUCE_SUM);
		if (!err)
			err = read_busy(&rk, busy0);
		if (err) {
			fail("tern_all_reduce", err);
			break;
		}
		iters = 0;
		t0 = now_s();
		do {
			err = tern_all_reduce(rk.comm, rk.send, rk.recv, count, TERN_DT_FP32,
					      TERN_REDUCE_SUM);
			iters++;
			t = now_s() - t0;
		} while (!err && (t < min_s || iters < MIN_ITERS) && iters < MAX_ITERS);
		if (err) {
			fail("tern_all_reduce", err);
			break;
		}
		err = read_busy(&rk, busy1);
		if (err)
			break;
		tern_comm_plan(rk.comm, &plan);
		worst = 0;
		for (i = 0; i < n * TERN_MAX_LINK_PORTS; i++)
			if (busy1[i] > busy0[i] && busy1[i] - busy0[i] > worst)
				worst = busy1[i] - busy0[i];
		per = t / iters;
		algbw = gbps(size, per);
		busbw = algbw * 2.0 * (n - 1) / n;
		mc = gbps(size, memcpy_s[si]);
		model_s = worst / 1e9 / iters;
		modeled = model_s > 0 ? gbps(size, model_s) * 2.0 * (n - 1) / n : 0;
		printf("%9s  %6u  %10.1f  %8.2f  %8.2f  %8.2f  %8.3f  %12.2f  %s",
		       fmt_size(size, sz, sizeof(sz)), iters, per * 1e6, algbw, busbw, mc,
		       mc > 0 ? busbw / mc : 0, modeled, algo_name(plan.algorithm));
		if (plan.algorithm == TERN_COLL_RING)
			for (k = 0; k < plan.n; k++)
				printf("%s%u", k ? "-" : " ", plan.order[k]);
		printf("\n");
		fflush(stdout);
		if (tsv)
			fprintf(tsv, "%u\t%llu\t%u\t%.9f\t%.4f\t%.4f\t%.4f\t%.4f\t%.3f\t%s\n", n,
				(unsigned long long)size, iters, per, algbw, busbw, mc, modeled,
				rk.link_mbps / 1000.0, algo_name(plan.algorithm));
	}
	close_ranks(&rk);
	free(want);
	return err;
}

int main(int argc, char **argv)
{
	unsigned int want_n[8] = { 2, 4, 8, 16 }, nn = 4, i, iters, chip;
	int index_of_chip[MAX_RANKS], count, err, opt, si, ran = 0;
	struct tern_device_info info;
	double min_s = 0.3, memcpy_s[16];
	uint64_t max = MAX_SIZE, size;
	const char *out = NULL;
	struct tern_device *dev;
	unsigned int fabric = 0;
	unsigned char *a, *b;
	FILE *tsv = NULL;
	char *s, *end;

	while ((opt = getopt(argc, argv, "n:s:m:t:o:h")) != -1) {
		switch (opt) {
		case 'n':
			nn = 0;
			for (s = optarg; *s && nn < 8; s = *end ? end + 1 : end) {
				want_n[nn] = (unsigned int)strtoul(s, &end, 10);
				if (end == s || want_n[nn] < 2 || want_n[nn] > MAX_RANKS ||
				    (*end && *end != ',')) {
					fprintf(stderr, "allreduce: -n takes ranks 2..%d, "
						"comma-separated\n", MAX_RANKS);
					return 2;
				}
				nn++;
			}
			break;
		case 's':
			min_size = strtoull(optarg, NULL, 10) << 10;
			for (size = MIN_SIZE; size < min_size; size *= 4)
				;
			if (size != min_size || min_size > MAX_SIZE) {
				fprintf(stderr, "allreduce: -s takes 4, 16, 64, ... 65536 (KiB)\n");
				return 2;
			}
			break;
		case 'm':
			max = strtoull(optarg, NULL, 10) << 20;
			if (max < (1ull << 20) || max > MAX_SIZE) {
				fprintf(stderr, "allreduce: -m takes 1..64 (MiB)\n");
				return 2;
			}
			break;
		case 't':
			min_s = strtod(optarg, NULL);
			if (!(min_s >= 0 && min_s <= 60)) {
				fprintf(stderr, "allreduce: -t takes 0..60 seconds\n");
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			printf("usage: allreduce [-n RANKS,...] [-s MIN_KIB] [-m MAX_MIB] [-t SECONDS]\n"
			       "                 [-o FILE]\n"
			       "tern_all_reduce bandwidth (fp32 sum) across the chips 0..n-1 for\n"
			       "n = 2,4,8,16 and MIN (default 4 KiB) .. MAX (default 64 MiB) in\n"
			       "steps of 4, beside memcpy.\n");
			return 0;
		default:
			return 2;
		}
	}

	/* chip id -> device index, all in one fabric */
	for (i = 0; i < MAX_RANKS; i++)
		index_of_chip[i] = -1;
	count = tern_device_count();
	if (count <= 0) {
		fprintf(stderr, "allreduce: no tern devices%s\n",
			count < 0 ? ": cannot list them" : "");
		return 1;
	}
	for (i = 0; i < (unsigned int)count; i++) {
		err = tern_device_open(i, &dev);
		if (!err) {
			err = tern_device_info(dev, &info);
			tern_device_close(dev);
		}
		if (err) {
			fail("opening the devices", err);
			return 1;
		}
		if (!info.fabric_id)
			continue;
		if (fabric && info.fabric_id != fabric)
			continue;
		fabric = info.fabric_id;
		chip = info.chip_id;
		if (chip < MAX_RANKS && index_of_chip[chip] < 0)
			index_of_chip[chip] = (int)i;
	}
	if (!fabric) {
		fprintf(stderr, "allreduce: no tern device is in a fabric (chips without links)\n");
		return 1;
	}

	/* memcpy of every size, once, in this process */
	a = malloc(max);
	b = malloc(max);
	if (!a || !b) {
		fprintf(stderr, "allreduce: out of memory\n");
		return 1;
	}
	memset(a, 0x5a, max);
	memset(b, 0, max);
	for (si = 0, size = min_size; size <= max; size *= 4, si++)
		memcpy_s[si] = bench_memcpy(b, a, size, min_s, MIN_ITERS, MAX_ITERS, &iters);
	free(a);
	free(b);

	if (out) {
		tsv = fopen(out, "w");
		if (!tsv) {
			fprintf(stderr, "allreduce: cannot write %s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	printf("tern all-reduce bandwidth (GB/s = 10^9 bytes/s); memcpy: this guest's CPU,\n"
	       "emulated by TCG (run.sh shows the host's own memcpy beside it)\n");
	err = 0;
	for (i = 0; i < nn && !err; i++) {
		unsigned int n = want_n[i], c;

		for (c = 0; c < n && index_of_chip[c] >= 0; c++)
			;
		if (c < n) {
			printf("\n%u ranks: skipped, chip %u is missing\n", n, c);
			continue;
		}
		printf("\n");
		err = run_ranks(n, index_of_chip, max, min_s, memcpy_s, tsv);
		ran += !err;
	}
	if (tsv && fclose(tsv)) {
		fprintf(stderr, "allreduce: writing %s failed\n", out);
		err = -EIO;
	}
	if (!err && !ran) {
		fprintf(stderr, "allreduce: no set of ranks could run\n");
		return 1;
	}
	return err ? 1 : 0;
}
