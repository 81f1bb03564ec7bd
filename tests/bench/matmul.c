// SPDX-License-Identifier: MIT
/*
 * matmul: throughput of C = A . B (square, fp32 and bf16) on a tern device
 * through libtern's ops: on one core (tern_op_run()), and on all cores at
 * once with M split between them, each computing a slice of C's rows
 * (tern_kernel_cached() and tern_launch_async() per core). M rather than
 * N: a core then turns only its own rows of A into A^T (TRANSPOSE), and
 * its matmul instructions keep all 512 columns of a B tile.
 *
 * Each case runs once to build and load its program, then repeatedly for
 * at least the given time; the rate is 2 N^3 flops over the wall time of
 * the fastest run (the least disturbed by whatever else the host runs),
 * beside the rate the chip itself would reach by the cost model (the
 * launch status's modeled time). A sample of C is checked against a CPU
 * reference computed in double, so that a wrong result cannot pass as a
 * fast one. Speed is measured, never asserted.
 *
 *   matmul [-d INDEX] [-s SIZES] [-t SECONDS] [-o FILE] [-v]
 *
 * -s takes comma-separated sizes (default 512,1024,2048); -t the least time
 * spent timing each case (default 0.5 s); -o a file for the results as
 * tab-separated lines "dtype size cores wall_gflops modeled_gflops max_err"
 * that `make bench` joins with the host's OpenBLAS figures; -v adds the
 * fastest run's time beside the host time the emulated core(s) spent on it
 * (the launch status's device_ns): the difference is the cost of the launch
 * path, guest and driver included.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "tern.h"
#include "tern_ops.h"

#define MAX_SIZES	8
#define MAX_CORES	8
#define MIN_REPS	3
#define SAMPLES		256	/* elements of C checked per run */

/* One case: C = A . B in one dtype on a device, with host copies of A, B. */
struct bench {
	struct tern_device *dev;
	unsigned int dtype, esz, ncores;
	uint64_t n;
	struct tern_buffer *buf[3];	/* slots: A, B, C on the device */
	struct tern_buffer *host;	/* staging for copies, n x n */
	void *hp;
	unsigned char *a, *b;		/* host copies of A and B */
	double secs;			/* least time to spend timing */
};

struct result {
	double wall_gflops, modeled_gflops, max_err;
	double best_ms, device_ms;	/* fastest run; the core's host time in it */
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "matmul: %s: %s\n  (%s)\n", what, tern_strerror(err), tern_last_error());
	return err ? err : -EIO;
}

/* xorshift64*: the same inputs every run. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static float rng_uniform(uint64_t *s)
{
	return (float)((double)(rng_next(s) >> 40) / (double)(1ull << 23) - 1.0);
}

/* C = A . B, or the rows [r0, r0 + nr) of it: A's and C's row slices. */
static struct tern_op mm_op(const struct bench *bn, uint64_t r0, uint64_t nr)
{
	uint64_t n = bn->n, off = r0 * n * bn->esz;
	struct tern_op op;

	memset(&op, 0, sizeof(op));	/* all bytes: the op is a cache key */
	op.kind = TERN_OPKIND_MATMUL;
	op.nin = 2;
	op.in[0] = (struct tern_tensor){ 0, bn->dtype, off, nr, n, (int64_t)n, 1 };
	op.in[1] = tern_tensor_2d(1, bn->dtype, n, n);
	op.out = (struct tern_tensor){ 2, bn->dtype, off, nr, n, (int64_t)n, 1 };
	return op;
}

static int build_op(struct tern_program *prog, void *arg)
{
	return tern_op_emit(prog, arg);
}

/* Fill A and B with uniform values in [-1, 1) and copy them to the device. */
static int setup(struct bench *bn, uint64_t seed)
{
	uint64_t bytes = bn->n * bn->n * bn->esz, s = seed;
	unsigned char *m[2];
	int err;

	m[0] = bn->a = malloc(bytes);
	m[1] = bn->b = malloc(bytes);
	if (!bn->a || !bn->b) {
		fprintf(stderr, "matmul: out of memory for %llu-byte inputs\n",
			(unsigned long long)bytes);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < 3; i++) {
		err = tern_buffer_alloc(bn->dev, bytes, TERN_MEM_DEVICE, &bn->buf[i]);
		if (err)
			return fail("cannot allocate device buffers", err);
	}
	err = tern_buffer_alloc(bn->dev, bytes, TERN_MEM_HOST, &bn->host);
	if (!err)
		err = tern_buffer_map(bn->host, &bn->hp);
	if (err)
		return fail("cannot allocate a host buffer", err);
	for (unsigned int t = 0; t < 2; t++) {
		for (uint64_t i = 0; i < bn->n * bn->n; i++)
			tern_value_set(bn->dtype, m[t] + i * bn->esz, rng_uniform(&s));
		memcpy(bn->hp, m[t], bytes);
		err = tern_copy(bn->dev, bn->buf[t], 0, bn->host, 0, bytes);
		if (err)
			return fail("cannot copy an input to the device", err);
	}
	return 0;
}

static void teardown(struct bench *bn)
{
	for (unsigned int i = 0; i < 3; i++)
		tern_buffer_free(bn->buf[i]);
	tern_buffer_free(bn->host);
	free(bn->a);
	free(bn->b);
}

/* C := zero on the device, so that a run that writes nothing fails the check. */
static int clear_c(struct bench *bn)
{
	uint64_t bytes = bn->n * bn->n * bn->esz;
	int err;

	memset(bn->hp, 0, bytes);
	err = tern_copy(bn->dev, bn->buf[2], 0, bn->host, 0, bytes);
	return err ? fail("cannot clear C", err) : 0;
}

/*
 * Fetch C and compare SAMPLES elements with a double-precision reference
 * from the host copies of A and B, against the ops library's tolerance.
 */
static int check(struct bench *bn, const char *what, double *max_err)
{
	struct tern_op op = mm_op(bn, 0, bn->n);
	double tol = tern_op_tolerance(&op);
	uint64_t n = bn->n, s = 0x5eed ^ n, bytes = n * n * bn->esz;
	const unsigned char *c = bn->hp;
	int err;

	err = tern_copy(bn->dev, bn->host, 0, bn->buf[2], 0, bytes);
	if (err)
		return fail("cannot copy C back", err);
	*max_err = 0;
	for (unsigned int q = 0; q < SAMPLES; q++) {
		uint64_t i = rng_next(&s) % n, j = rng_next(&s) % n;
		double ref = 0, got, e;

		for (uint64_t k = 0; k < n; k++)
			ref += (double)tern_value_get(bn->dtype, bn->a + (i * n + k) * bn->esz) *
			       tern_value_get(bn->dtype, bn->b + (k * n + j) * bn->esz);
		got = tern_value_get(bn->dtype, c + (i * n + j) * bn->esz);
		e = fabs(got - ref);
		if (!(e <= tol)) {
			fprintf(stderr, "matmul: %s: C[%llu][%llu] = %.9g, expected %.9g "
				"(tolerance %.3g)\n", what, (unsigned long long)i,
				(unsigned long long)j, got, ref, tol);
			return -EIO;
		}
		if (e > *max_err)
			*max_err = e;
	}
	return 0;
}

static double gflops(uint64_t n, double secs)
{
	return secs > 0 ? 2.0 * (double)n * n * n / secs / 1e9 : 0;
}

/* One core: tern_op_run(), which builds the program on first use. */
static int run_one_core(struct bench *bn, struct result *r)
{
	struct tern_op op = mm_op(bn, 0, bn->n);
	struct tern_launch_status st;
	double t0, t1, best = INFINITY;
	unsigned int reps = 0;
	int err;

	err = clear_c(bn);
	if (err)
		return err;
	err = tern_op_run(bn->dev, 0, &op, bn->buf, 3, &st);	/* build, load, warm */
	if (err)
		return fail("tern_op_run on core 0", err);
	t0 = now_s();
	do {
		double t = now_s();

		err = tern_op_run(bn->dev, 0, &op, bn->buf, 3, &st);
		if (err)
			return fail("tern_op_run on core 0", err);
		t1 = now_s();
		if (t1 - t < best)
			r->device_ms = st.device_ns / 1e6;
		best = fmin(best, t1 - t);
		reps++;
	} while (reps < MIN_REPS || t1 - t0 < bn->secs);
	r->best_ms = best * 1e3;
	r->wall_gflops = gflops(bn->n, best);
	/* the same program every time: the same modeled time */
	r->modeled_gflops = gflops(bn->n, st.modeled_ns / 1e9);
	return check(bn, "one core", &r->max_err);
}

/* Launch one run on every core, each on its rows, and wait for all. */
static int launch_all(struct bench *bn, struct tern_kernel **k, uint64_t *modeled_ns,
		      uint64_t *device_ns)
{
	struct tern_fence *f[MAX_CORES] = { NULL };
	struct tern_launch_status st;
	int err = 0, ret;

	*modeled_ns = 0;
	*device_ns = 0;
	for (unsigned int i = 0; i < bn->ncores && !err; i++) {
		err = tern_launch_async(bn->dev, k[i], (int)i, bn->buf, 3, &f[i]);
		if (err)
			fail("tern_launch_async", err);
	}
	for (unsigned int i = 0; i < bn->ncores && f[i]; i++) {
		ret = tern_fence_wait(bn->dev, f[i], TERN_TIMEOUT_INFINITE);
		if (!ret)
			ret = tern_fence_launch_status(f[i], &st);
		if (ret && !err)
			err = fail("waiting for a launch", ret);
		/* the cores run at once: the job takes as long as the slowest */
		if (!ret && st.modeled_ns > *modeled_ns)
			*modeled_ns = st.modeled_ns;
		if (!ret && st.device_ns > *device_ns)
			*device_ns = st.device_ns;
		tern_fence_release(f[i]);
	}
	return err;
}

/* All cores: M split into one row slice per core. */
static int run_all_cores(struct bench *bn, struct result *r)
{
	struct tern_kernel *k[MAX_CORES];
	double t0, t1, best = INFINITY;
	unsigned int reps = 0;
	uint64_t m, dev_ns;
	int err;

	for (unsigned int i = 0; i < bn->ncores; i++) {
		uint64_t r0 = bn->n * i / bn->ncores, r1 = bn->n * (i + 1) / bn->ncores;
		struct tern_op op = mm_op(bn, r0, r1 - r0);

		err = tern_kernel_cached(bn->dev, &op, sizeof(op), build_op, &op, &k[i]);
		if (err)
			return fail("building a row slice's program", err);
	}
	err = clear_c(bn);
	if (!err)
		err = launch_all(bn, k, &m, &dev_ns);	/* warm */
	if (err)
		return err;
	t0 = now_s();
	do {
		double t = now_s();

		err = launch_all(bn, k, &m, &dev_ns);
		if (err)
			return err;
		t1 = now_s();
		if (t1 - t < best)
			r->device_ms = dev_ns / 1e6;
		best = fmin(best, t1 - t);
		reps++;
	} while (reps < MIN_REPS || t1 - t0 < bn->secs);
	r->best_ms = best * 1e3;
	r->wall_gflops = gflops(bn->n, best);
	r->modeled_gflops = gflops(bn->n, m / 1e9);
	return check(bn, "all cores", &r->max_err);
}

static int parse_sizes(const char *s, uint64_t *sizes, unsigned int *count)
{
	char *end;

	*count = 0;
	while (*s) {
		unsigned long long v = strtoull(s, &end, 10);

		if (end == s || v < 1 || v > 16384 || (*end && *end != ',') ||
		    *count == MAX_SIZES)
			return -EINVAL;
		sizes[(*count)++] = v;
		s = *end ? end + 1 : end;
	}
	return *count ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static const unsigned int dtypes[] = { TERN_DT_FP32, TERN_DT_BF16 };
	uint64_t sizes[MAX_SIZES] = { 512, 1024, 2048 };
	unsigned int nsizes = 3, index = 0;
	struct tern_device_info info;
	struct tern_device *dev;
	const char *out = NULL;
	double secs = 0.5;
	bool verbose = false;
	FILE *tsv = NULL;
	int opt, err, rc = 1;

	while ((opt = getopt(argc, argv, "d:s:t:o:vh")) != -1) {
		switch (opt) {
		case 'd':
			index = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (parse_sizes(optarg, sizes, &nsizes)) {
				fprintf(stderr, "matmul: -s needs up to %u sizes 1..16384, "
					"comma-separated, not '%s'\n", MAX_SIZES, optarg);
				return 2;
			}
			break;
		case 't':
			secs = strtod(optarg, NULL);
			if (!(secs >= 0 && secs <= 60)) {
				fprintf(stderr, "matmul: -t needs 0..60 seconds, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			printf("usage: matmul [-d INDEX] [-s SIZES] [-t SECONDS] [-o FILE] [-v]\n"
			       "C = A . B throughput on tern device INDEX, fp32 and bf16, square\n"
			       "SIZES (default 512,1024,2048), on one core and on all cores;\n"
			       "results also as tab-separated lines in FILE; -v: the fastest\n"
			       "run's time beside the host time the emulated core spent on it.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (out) {
		tsv = fopen(out, "w");
		if (!tsv) {
			fprintf(stderr, "matmul: cannot create %s: %s\n", out, strerror(errno));
			return 1;
		}
	}

	err = tern_device_open(index, &dev);
	if (err) {
		fail("cannot open the device", err);
		goto out_file;
	}
	err = tern_device_info(dev, &info);
	if (err) {
		fail("cannot query the device", err);
		goto out_close;
	}
	if (info.num_cores < 1 || info.num_cores > MAX_CORES) {
		fprintf(stderr, "matmul: device %u has %u cores (1..%u supported)\n", info.index,
			info.num_cores, MAX_CORES);
		goto out_close;
	}

	printf("tern matmul C = A . B: device %u (%s, %s), %u cores; GFLOP/s by wall time "
	       "and by the cost model\n", info.index, info.pci_address, info.node,
	       info.num_cores);
	printf("%5s  %5s  %11s  %11s  %12s  %12s  %9s\n", "dtype", "size", "wall 1 core",
	       "wall all", "model 1 core", "model all", "max err");
	for (unsigned int d = 0; d < 2; d++) {
		for (unsigned int s = 0; s < nsizes; s++) {
			/* every core a row at least: with fewer rows, fewer cores */
			struct bench bn = {
				.dev = dev, .dtype = dtypes[d], .esz = tern_dtype_size(dtypes[d]),
				.ncores = sizes[s] < info.num_cores ? (unsigned int)sizes[s] :
								      info.num_cores,
				.n = sizes[s], .secs = secs,
			};
			struct result one, all;
			const char *name = dtypes[d] == TERN_DT_FP32 ? "fp32" : "bf16";

			err = setup(&bn, sizes[s] * 2 + d);
			if (!err)
				err = run_one_core(&bn, &one);
			if (!err)
				err = run_all_cores(&bn, &all);
			teardown(&bn);
			if (err) {
				fprintf(stderr, "matmul: %s %llu failed\n", name,
					(unsigned long long)sizes[s]);
				goto out_close;
			}
			printf("%5s  %5llu  %11.1f  %11.1f  %12.1f  %12.1f  %9.2g\n", name,
			       (unsigned long long)sizes[s], one.wall_gflops, all.wall_gflops,
			       one.modeled_gflops, all.modeled_gflops,
			       fmax(one.max_err, all.max_err));
			if (verbose)
				printf("    fastest run: 1 core %.2f ms (core busy %.2f ms), "
				       "all cores %.2f ms (slowest core busy %.2f ms)\n",
				       one.best_ms, one.device_ms, all.best_ms, all.device_ms);
			fflush(stdout);
			if (tsv)
				fprintf(tsv, "%s\t%llu\t1\t%.2f\t%.2f\t%.3g\n"
					"%s\t%llu\t%u\t%.2f\t%.2f\t%.3g\n",
					name, (unsigned long long)sizes[s], one.wall_gflops,
					one.modeled_gflops, one.max_err, name,
					(unsigned long long)sizes[s], bn.ncores,
					all.wall_gflops, all.modeled_gflops, all.max_err);
		}
	}
	rc = 0;

out_close:
	tern_device_close(dev);
out_file:
	if (tsv && fclose(tsv)) {
		fprintf(stderr, "matmul: cannot write %s\n", out);
		rc = 1;
	}
	return rc;
}
