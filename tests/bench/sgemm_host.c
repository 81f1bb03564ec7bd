// SPDX-License-Identifier: MIT
/*
 * sgemm_host: the host's own matmul rate, the reference `make bench` holds
 * the emulated tern matmul against: OpenBLAS cblas_sgemm, C = A . B
 * square in fp32, on one thread and on all of the host's CPUs. Each size
 * runs once to warm up, then repeatedly for at least the given time; the
 * rate is 2 N^3 flops over the wall time of the fastest call (the least
 * disturbed by whatever else the host runs). A sample of C is
 * checked against a double-precision reference.
 *
 *   sgemm_host [-s SIZES] [-t SECONDS] [-o FILE]
 *
 * Prints which BLAS it runs (OpenBLAS's build configuration and the CPU
 * kernel it picked) and a table; with -o also tab-separated lines
 * "size threads gflops" for `make bench` to join with the device's.
 */
/* OpenBLAS's own cblas.h: it also declares the openblas_*() calls */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define MAX_SIZES	8
#define MIN_REPS	3
#define SAMPLES		256

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void sgemm(int n, const float *a, const float *b, float *c)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
		    c, n);
}

/* Sampled elements of C against double sums, with an fp32 bound. */
static int check(int n, const float *a, const float *b, const float *c)
{
	uint64_t s = 0x5eed ^ (uint64_t)n;

	for (unsigned int q = 0; q < SAMPLES; q++) {
		uint64_t i = rng_next(&s) % (uint64_t)n, j = rng_next(&s) % (uint64_t)n;
		double ref = 0, mag = 0;

		for (uint64_t k = 0; k < (uint64_t)n; k++) {
			double x = (double)a[i * n + k] * b[k * n + j];

			ref += x;
			mag += fabs(x);
		}
		if (!(fabs(c[i * n + j] - ref) <= (n + 2) * 0x1p-23 * mag + 1e-30)) {
			fprintf(stderr, "sgemm_host: n %d: C[%llu][%llu] = %.9g, expected %.9g\n",
				n, (unsigned long long)i, (unsigned long long)j, c[i * n + j], ref);
			return -1;
		}
	}
	return 0;
}

/* GFLOP/s of n x n x n on the current thread count, by the fastest call. */
static double rate(int n, const float *a, const float *b, float *c, double secs)
{
	unsigned int reps = 0;
	double t0, t1, best = INFINITY;

	sgemm(n, a, b, c);
	t0 = now_s();
	do {
		double t = now_s();

		sgemm(n, a, b, c);
		t1 = now_s();
		best = fmin(best, t1 - t);
		reps++;
	} while (reps < MIN_REPS || t1 - t0 < secs);
	return 2.0 * n * n * (double)n / best / 1e9;
}

static int parse_sizes(const char *s, int *sizes, unsigned int *count)
{
	char *end;

	*count = 0;
	while (*s) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 1 || v > 16384 || (*end && *end != ',') ||
		    *count == MAX_SIZES)
			return -EINVAL;
		sizes[(*count)++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return *count ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	int sizes[MAX_SIZES] = { 512, 1024, 2048 }, all = openblas_get_num_procs();
	unsigned int nsizes = 3;
	const char *out = NULL;
	double secs = 0.5;
	FILE *tsv = NULL;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "s:t:o:h")) != -1) {
		switch (opt) {
		case 's':
			if (parse_sizes(optarg, sizes, &nsizes)) {
				fprintf(stderr, "sgemm_host: -s needs up to %u sizes 1..16384, "
					"comma-separated, not '%s'\n", MAX_SIZES, optarg);
				return 2;
			}
			break;
		case 't':
			secs = strtod(optarg, NULL);
			if (!(secs >= 0 && secs <= 60)) {
				fprintf(stderr, "sgemm_host: -t needs 0..60 seconds, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			printf("usage: sgemm_host [-s SIZES] [-t SECONDS] [-o FILE]\n"
			       "OpenBLAS sgemm GFLOP/s, square SIZES (default 512,1024,2048),\n"
			       "on 1 thread and on all CPUs; results also as tab-separated\n"
			       "lines in FILE.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (out) {
		tsv = fopen(out, "w");
		if (!tsv) {
			fprintf(stderr, "sgemm_host: cannot create %s: %s\n", out, strerror(errno));
			return 1;
		}
	}

	printf("host sgemm: %s; kernel %s; 1 and %d threads\n", openblas_get_config(),
	       openblas_get_corename(), all);
	printf("%5s  %10s  %10s\n", "size", "1 thread", "all");
	for (unsigned int s = 0; s < nsizes && !rc; s++) {
		int n = sizes[s];
		size_t elems = (size_t)n * n;
		float *a = malloc(elems * sizeof(float)), *b = malloc(elems * sizeof(float));
		float *c = malloc(elems * sizeof(float));
		uint64_t st = (uint64_t)n * 2 + 1;
		double r1 = 0, rn = 0;

		if (!a || !b || !c) {
			fprintf(stderr, "sgemm_host: out of memory for n %d\n", n);
			rc = 1;
		}
		for (size_t i = 0; !rc && i < elems; i++) {
			a[i] = (float)((double)(rng_next(&st) >> 40) / (1 << 23) - 1);
			b[i] = (float)((double)(rng_next(&st) >> 40) / (1 << 23) - 1);
		}
		if (!rc) {
			openblas_set_num_threads(1);
			r1 = rate(n, a, b, c, secs);
			rc = check(n, a, b, c) ? 1 : 0;
		}
		if (!rc) {
			openblas_set_num_threads(all);
			rn = rate(n, a, b, c, secs);
			rc = check(n, a, b, c) ? 1 : 0;
			if (openblas_get_num_threads() != all) {
				fprintf(stderr, "sgemm_host: OpenBLAS runs %d threads, not %d\n",
					openblas_get_num_threads(), all);
				rc = 1;
			}
		}
		if (!rc) {
			printf("%5d  %10.1f  %10.1f\n", n, r1, rn);
			fflush(stdout);
			if (tsv)
				fprintf(tsv, "%d\t1\t%.2f\n%d\t%d\t%.2f\n", n, r1, n, all, rn);
		}
		free(a);
		free(b);
		free(c);
	}
	if (tsv && fclose(tsv)) {
		fprintf(stderr, "sgemm_host: cannot write %s\n", out);
		rc = 1;
	}
	return rc;
}
