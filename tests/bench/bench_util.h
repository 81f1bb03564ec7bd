/* SPDX-License-Identifier: MIT */
/*
 * Small helpers the benchmarks share: a monotonic clock, size labels and
 * a timed memcpy loop (the host reference most of them print beside tern).
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "4 KiB", "64 MiB": sizes are powers of two of at least 1 KiB. */
static inline const char *fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ull << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	return buf;
}

/*
 * Copies size bytes once to warm up, then back to back for at least min_s
 * seconds and min_iters times (at most max_iters); returns the mean
 * seconds per copy and the count in *itersp.
 */
static inline double bench_memcpy(void *dst, const void *src, uint64_t size, double min_s,
				  unsigned int min_iters, unsigned int max_iters,
				  unsigned int *itersp)
{
	unsigned int iters = 0;
	double t0, t;

	memcpy(dst, src, size);
	t0 = now_s();
	do {
		memcpy(dst, src, size);
		/* Keep the compiler from merging or dropping the copies. */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		iters++;
		t = now_s() - t0;
	} while ((t < min_s || iters < min_iters) && iters < max_iters);
	*itersp = iters;
	return t / iters;
}

#endif /* BENCH_UTIL_H */
