// SPDX-License-Identifier: MIT
/*
 * dma_roundtrip: copy a buffer host -> device HBM -> another host buffer with
 * the tern DMA engine, verify it byte for byte, print both bandwidths.
 *
 *   dma_roundtrip [-d INDEX] [SIZE]      SIZE like 4096, 64K, 256M, 1G
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern.h"

#define DEFAULT_SIZE	(256ull << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dma_roundtrip [-d INDEX] [SIZE]\n"
		"Copy SIZE bytes (default 256M; suffixes K, M, G) host -> device -> host\n"
		"on tern device INDEX (default 0), verify them and print the bandwidth.\n");
}

/* Parses "123", "64K", "256M", "1G" (also "256MiB"); 0 on error. */
static uint64_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || v > (UINT64_MAX >> shift))
		return 0;
	return (uint64_t)v << shift;
}

static const char *fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ull << 30) && !(n & ((1ull << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n >= (1ull << 20) && !(n & ((1ull << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= (1ull << 10) && !(n & ((1ull << 10) - 1)))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
	return buf;
}

/* The byte pattern: a splitmix64 stream keyed by @seed, so that stale data
 * from an earlier run (HBM keeps its contents) cannot pass as a copy. */
static uint64_t pattern_word(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(unsigned char *p, uint64_t size, uint64_t seed)
{
	uint64_t i, w;

	for (i = 0; i + 8 <= size; i += 8) {
		w = pattern_word(seed, i / 8);
		memcpy(p + i, &w, 8);
	}
	for (; i < size; i++)
		p[i] = (unsigned char)pattern_word(seed, i);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "dma_roundtrip: %s: %s\n  (%s)\n", what, tern_strerror(err),
		tern_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	struct tern_buffer *src = NULL, *hbm = NULL, *dst = NULL;
	struct tern_device_info info;
	struct tern_device *dev;
	unsigned char *s, *d;
	uint64_t size = DEFAULT_SIZE, seed, i;
	unsigned int index = 0;
	double t0, h2d, d2h;
	char sz[32];
	int opt, err, rc = 1;
	void *p;

	while ((opt = getopt(argc, argv, "d:h")) != -1) {
		switch (opt) {
		case 'd':
			index = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		size = parse_size(argv[optind]);
		if (!size || optind + 1 < argc) {
			fprintf(stderr, "dma_roundtrip: bad size \"%s\"\n", argv[optind]);
			usage(stderr);
			return 2;
		}
	}

	err = tern_device_open(index, &dev);
	if (err)
		return fail("cannot open the device", err);
	err = tern_device_info(dev, &info);
	if (err) {
		fail("cannot query the device", err);
		goto out_close;
	}

	err = tern_buffer_alloc(dev, size, TERN_MEM_HOST, &src);
	if (!err)
		err = tern_buffer_alloc(dev, size, TERN_MEM_DEVICE, &hbm);
	if (!err)
		err = tern_buffer_alloc(dev, size, TERN_MEM_HOST, &dst);
	if (err) {
		fail("cannot allocate the buffers", err);
		goto out_free;
	}
	err = tern_buffer_map(src, &p);
	s = p;
	if (!err)
		err = tern_buffer_map(dst, &p);
	d = p;
	if (err) {
		fail("cannot map the buffers", err);
		goto out_free;
	}

	seed = (uint64_t)time(NULL) * 0x2545f4914f6cdd1dull ^ (uint64_t)now_s();
	fill(s, size, seed);
	memset(d, 0x5a, size);

	printf("tern%u (%s, %s): round trip of %s, pattern seed %#llx\n", info.index,
	       info.pci_address, info.node, fmt_size(size, sz, sizeof(sz)),
	       (unsigned long long)seed);

	t0 = now_s();
	err = tern_copy(dev, hbm, 0, src, 0, size);
	h2d = now_s() - t0;
	if (err) {
		fail("host -> device copy failed", err);
		goto out_free;
	}
	t0 = now_s();
	err = tern_copy(dev, dst, 0, hbm, 0, size);
	d2h = now_s() - t0;
	if (err) {
		fail("device -> host copy failed", err);
		goto out_free;
	}
	printf("  host -> device: %s in %.3f s, %.2f GiB/s\n", sz, h2d,
	       size / h2d / (1u << 30));
	printf("  device -> host: %s in %.3f s, %.2f GiB/s\n", sz, d2h,
	       size / d2h / (1u << 30));

	if (memcmp(s, d, size)) {
		for (i = 0; i < size && s[i] == d[i]; i++)
			;
		fprintf(stderr, "dma_roundtrip: MISMATCH at byte %llu: sent %#04x, got back %#04x\n",
			(unsigned long long)i, s[i], d[i]);
		goto out_free;
	}
	printf("  verified: %llu bytes came back identical\n", (unsigned long long)size);
	rc = 0;

out_free:
	tern_buffer_free(dst);
	tern_buffer_free(hbm);
	tern_buffer_free(src);
out_close:
	tern_device_close(dev);
	return rc;
}
