// SPDX-License-Identifier: MIT
/*
 * dma_bw: tern DMA bandwidth host -> device (H2D) and device -> host (D2H)
 * for sizes 4 KiB .. 256 MiB, beside host memcpy bandwidth measured in the
 * same run with the same sizes, and their ratio. Prints a table; speed is
 * measured, never asserted. It does check that the data arrived.
 *
 *   dma_bw [-d INDEX] [-m MAX_SIZE_MIB]
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

#define MIN_SIZE	(4ull << 10)
#define MAX_SIZE	(256ull << 20)
/* Iterations per size: enough bytes to average out per-job cost, bounded. */
#define BYTES_PER_SIZE	(512ull << 20)
#define MIN_ITERS	3
#define MAX_ITERS	200

static int die(const char *what, int err)
{
	fprintf(stderr, "dma_bw: %s: %s\n  (%s)\n", what, tern_strerror(err), tern_last_error());
	return 1;
}

static double gibps(uint64_t bytes, double seconds)
{
	return seconds > 0 ? bytes / seconds / (1u << 30) : 0;
}

/* Mean seconds of one tern_copy() of @size bytes, after one warm-up copy. */
static int time_copy(struct tern_device *dev, struct tern_buffer *dst, struct tern_buffer *src,
		     uint64_t size, unsigned int iters, double *secs)
{
	unsigned int i;
	double t0;
	int err;

	err = tern_copy(dev, dst, 0, src, 0, size);
	if (err)
		return err;
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		err = tern_copy(dev, dst, 0, src, 0, size);
		if (err)
			return err;
	}
	*secs = (now_s() - t0) / iters;
	return 0;
}

static double time_memcpy(void *dst, const void *src, uint64_t size, unsigned int iters)
{
	unsigned int i;
	double t0;

	memcpy(dst, src, size);
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		memcpy(dst, src, size);
		/* Keep the compiler from merging or dropping the copies. */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
	}
	return (now_s() - t0) / iters;
}

int main(int argc, char **argv)
{
	struct tern_buffer *hsrc = NULL, *hbm = NULL, *hdst = NULL;
	struct tern_device_info info;
	struct tern_device *dev;
	double h2d, d2h, mc;
	unsigned char *s, *d, *msrc = NULL, *mdst = NULL;
	uint64_t max = MAX_SIZE, size, i;
	unsigned int index = 0, iters;
	int opt, err, rc = 1;
	char sz[32];
	void *p;

	while ((opt = getopt(argc, argv, "d:m:h")) != -1) {
		switch (opt) {
		case 'd':
			index = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			max = strtoull(optarg, NULL, 10) << 20;
			if (max < MIN_SIZE) {
				fprintf(stderr, "dma_bw: -m needs at least 1 (MiB)\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: dma_bw [-d INDEX] [-m MAX_SIZE_MIB]\n"
			       "H2D and D2H DMA bandwidth of tern device INDEX for 4 KiB .. MAX\n"
			       "(default 256 MiB), beside host memcpy bandwidth.\n");
			return 0;
		default:
			return 2;
		}
	}

	err = tern_device_open(index, &dev);
	if (err)
		return die("cannot open the device", err);
	err = tern_device_info(dev, &info);
	if (err) {
		die("cannot query the device", err);
		goto out_close;
	}
	err = tern_buffer_alloc(dev, max, TERN_MEM_HOST, &hsrc);
	if (!err)
		err = tern_buffer_alloc(dev, max, TERN_MEM_DEVICE, &hbm);
	if (!err)
		err = tern_buffer_alloc(dev, max, TERN_MEM_HOST, &hdst);
	if (err) {
		die("cannot allocate buffers", err);
		goto out_free;
	}
	err = tern_buffer_map(hsrc, &p);
	s = p;
	if (!err)
		err = tern_buffer_map(hdst, &p);
	d = p;
	if (err) {
		die("cannot map buffers", err);
		goto out_free;
	}
	msrc = malloc(max);
	mdst = malloc(max);
	if (!msrc || !mdst) {
		fprintf(stderr, "dma_bw: cannot allocate %llu bytes for memcpy\n",
			(unsigned long long)max);
		goto out_free;
	}
	/* Touch every page so no run pays for first faults. */
	for (i = 0; i < max; i++)
		s[i] = msrc[i] = (unsigned char)(i * 131 + (i >> 12));
	memset(d, 0, max);
	memset(mdst, 0, max);

	printf("tern DMA bandwidth: device %u (%s, %s), GiB/s, mean per copy\n", info.index,
	       info.pci_address, info.node);
	printf("%9s  %5s  %8s  %8s  %8s  %10s  %10s\n", "size", "iters", "H2D", "D2H", "memcpy",
	       "H2D/memcpy", "D2H/memcpy");
	for (size = MIN_SIZE; size <= max; size *= 4) {
		iters = BYTES_PER_SIZE / size;
		iters = iters < MIN_ITERS ? MIN_ITERS : iters > MAX_ITERS ? MAX_ITERS : iters;
		err = time_copy(dev, hbm, hsrc, size, iters, &h2d);
		if (err) {
			die("host -> device copy failed", err);
			goto out_free;
		}
		err = time_copy(dev, hdst, hbm, size, iters, &d2h);
		if (err) {
			die("device -> host copy failed", err);
			goto out_free;
		}
		if (memcmp(s, d, size)) {
			fprintf(stderr, "dma_bw: data of the %llu-byte round trip differs\n",
				(unsigned long long)size);
			goto out_free;
		}
		mc = time_memcpy(mdst, msrc, size, iters);
		printf("%9s  %5u  %8.2f  %8.2f  %8.2f  %10.3f  %10.3f\n",
		       fmt_size(size, sz, sizeof(sz)), iters, gibps(size, h2d), gibps(size, d2h),
		       gibps(size, mc), mc / h2d, mc / d2h);
		fflush(stdout);
	}
	rc = 0;

out_free:
	free(mdst);
	free(msrc);
	tern_buffer_free(hdst);
	tern_buffer_free(hbm);
	tern_buffer_free(hsrc);
out_close:
	tern_device_close(dev);
	return rc;
}
