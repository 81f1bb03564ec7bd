// SPDX-License-Identifier: MIT
/*
 * memcpy_host: the host's own memcpy bandwidth, for the sizes of the
 * all-reduce benchmark (4 KiB .. 64 MiB, x4), the native reference `make
 * bench` shows beside the guest's memcpy (which TCG emulates, slowly).
 * Each size is copied once to warm up, then back to back for at least the
 * given time; the figure is bytes copied per second of the mean call.
 *
 *   memcpy_host [-m MAX_MIB] [-t SECONDS] [-o FILE]
 *
 * Prints a table; with -o also tab-separated lines "size gbps" (GB/s =
 * 10^9 bytes/s). It checks that the last copy of each size arrived.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define MIN_SIZE	(4ull << 10)
#define MAX_SIZE	(64ull << 20)
#define MIN_ITERS	2

int main(int argc, char **argv)
{
	uint64_t max = MAX_SIZE, size, i;
	unsigned int iters;
	char sz[16];
	const char *out = NULL;
	unsigned char *a, *b;
	double min_s = 0.3, t;
	FILE *tsv = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "m:t:o:h")) != -1) {
		switch (opt) {
		case 'm':
			max = strtoull(optarg, NULL, 10) << 20;
			if (max < (1ull << 20) || max > (1ull << 30)) {
				fprintf(stderr, "memcpy_host: -m takes 1..1024 (MiB)\n");
				return 2;
			}
			break;
		case 't':
			min_s = strtod(optarg, NULL);
			if (!(min_s >= 0 && min_s <= 60)) {
				fprintf(stderr, "memcpy_host: -t takes 0..60 seconds\n");
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			printf("usage: memcpy_host [-m MAX_MIB] [-t SECONDS] [-o FILE]\n");
			return 0;
		default:
			return 2;
		}
	}
	a = malloc(max);
	b = malloc(max);
	if (!a || !b) {
		fprintf(stderr, "memcpy_host: out of memory\n");
		return 1;
	}
	for (i = 0; i < max; i++)
		a[i] = (unsigned char)(i * 131 + (i >> 12));
	memset(b, 0, max);
	if (out && !(tsv = fopen(out, "w"))) {
		perror(out);
		return 1;
	}
	printf("host memcpy bandwidth, one thread (GB/s = 10^9 bytes/s)\n");
	printf("%9s  %8s  %8s\n", "size", "iters", "GB/s");
	for (size = MIN_SIZE; size <= max; size *= 4) {
		t = bench_memcpy(b, a, size, min_s, MIN_ITERS, UINT32_MAX, &iters) * iters;
		if (memcmp(a, b, size)) {
			fprintf(stderr, "memcpy_host: the copy of %llu bytes differs\n",
				(unsigned long long)size);
			return 1;
		}
		printf("%9s  %8u  %8.2f\n", fmt_size(size, sz, sizeof(sz)), iters,
		       size * iters / t / 1e9);
		if (tsv)
			fprintf(tsv, "%llu\t%.4f\n", (unsigned long long)size, size * iters / t / 1e9);
	}
	free(a);
	free(b);
	if (tsv && fclose(tsv)) {
		perror(out);
		return 1;
	}
	return 0;
}
