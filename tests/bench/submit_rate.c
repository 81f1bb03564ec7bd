// SPDX-License-Identifier: MIT
/*
 * submit_rate: how many empty jobs per second go from submission to seen
 * done, through each of libtern's submission paths (ioctl, io_uring, the
 * user-mode queue), at depth 1 (submit, wait, again) and depth 32 (32 jobs
 * always in flight, the oldest waited for and replaced).
 *
 *   submit_rate [-d INDEX] [-t SECONDS] [-o FILE]
 *
 * Each path is opened with TERN_SUBMIT=<path> (and io_uring once more with
 * TERN_URING_SQPOLL=1, the ring with a kernel SQ thread); a path the driver
 * does not offer is reported as such and measured under the path libtern
 * fell back to, named in the table. -o writes "path depth jobs_per_s fell_back_to"
 * lines for tests/bench/run.sh. Exit status 1 when a job failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "tern.h"

/* Rows: TERN_SUBMIT, and TERN_URING_SQPOLL (NULL: unset). */
static const struct {
	const char *name, *submit, *sqpoll;
} paths[] = {
	{ "ioctl", "ioctl", NULL },
	{ "uring", "uring", NULL },
	{ "uring-sqpoll", "uring", "1" },
	{ "userq", "userq", NULL },
};
static const int depths[] = { 1, 32 };

/* Jobs per second of empty jobs at @depth for about @secs; < 0 on a failure. */
static double measure(struct tern_device *dev, int depth, double secs)
{
	struct tern_fence *ring[64] = { 0 };
	unsigned long jobs = 0;
	double t0, t;
	int ret, i;

	/* Warm up: the user queue is made, pools fill. */
	for (i = 0; i < 2 * depth; i++) {
		ret = tern_nop_async(dev, &ring[0]);
		if (!ret)
			ret = tern_fence_wait(dev, ring[0], TERN_TIMEOUT_INFINITE);
		tern_fence_release(ring[0]);
		if (ret)
			goto fail;
	}
	t0 = now_s();
	for (i = 0; i < depth; i++) {
		ret = tern_nop_async(dev, &ring[i]);
		if (ret)
			goto fail;
	}
	/*
	 * Wait for the oldest job, take every later one already done too, and
	 * queue as many new ones in one batch (tern_batch_begin()): depth jobs
	 * stay in flight, and the refills go to the kernel together, as an
	 * application keeping a device busy would send them.
	 */
	for (i = 0;;) {
		int n = 0, k;

		do {
			int j = (i + n) % depth;

			ret = tern_fence_wait(dev, ring[j], n ? 0 : TERN_TIMEOUT_INFINITE);
			if (ret == -ETIME)
				break;
			tern_fence_release(ring[j]);
			ring[j] = NULL;
			if (ret)
				goto fail;
			n++;
		} while (n < depth);
		jobs += n;
		if (now_s() - t0 >= secs)
			break;
		tern_batch_begin(dev);
		for (k = 0; k < n; k++) {
			ret = tern_nop_async(dev, &ring[(i + k) % depth]);
			if (ret) {
				tern_batch_end(dev);
				goto fail;
			}
		}
		ret = tern_batch_end(dev);
		if (ret)
			goto fail;
		i = (i + n) % depth;
	}
	t = now_s() - t0;
	/* Drain the rest (not counted). */
	for (i = 0; i < depth; i++) {
		if (ring[i])
			tern_fence_wait(dev, ring[i], TERN_TIMEOUT_INFINITE);
		tern_fence_release(ring[i]);
	}
	return jobs / t;

fail:
	fprintf(stderr, "submit_rate: %s (%s)\n", tern_strerror(ret), tern_last_error());
	for (i = 0; i < depth; i++)
		tern_fence_release(ring[i]);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned int index = 0;
	double secs = 2, rate;
	const char *out_path = NULL;
	struct tern_device *dev;
	FILE *out = NULL;
	int opt, ret, got, status = 0;

	while ((opt = getopt(argc, argv, "d:t:o:")) != -1) {
		switch (opt) {
		case 'd':
			index = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: submit_rate [-d INDEX] [-t SECONDS] [-o FILE]\n");
			return 2;
		}
	}
	if (secs <= 0) {
		fprintf(stderr, "submit_rate: -t must be positive\n");
		return 2;
	}
	if (out_path) {
		out = fopen(out_path, "w");
		if (!out) {
			fprintf(stderr, "submit_rate: %s: %s\n", out_path, strerror(errno));
			return 2;
		}
	}
	printf("empty jobs, submit -> seen done, device %u, %.1f s each\n", index, secs);
	printf("%-12s  %-6s  %12s\n", "path", "depth", "jobs/s");
	for (unsigned int p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		setenv("TERN_SUBMIT", paths[p].submit, 1);
		if (paths[p].sqpoll)
			setenv("TERN_URING_SQPOLL", paths[p].sqpoll, 1);
		ret = tern_device_open(index, &dev);
		unsetenv("TERN_SUBMIT");
		unsetenv("TERN_URING_SQPOLL");
		if (ret) {
			fprintf(stderr, "submit_rate: open: %s (%s)\n", tern_strerror(ret),
				tern_last_error());
			return 1;
		}
		got = tern_submit_path(dev);
		for (unsigned int d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
			rate = measure(dev, depths[d], secs);
			if (rate < 0)
				status = 1;
			if (strcmp(tern_submit_path_name(got), paths[p].submit))
				printf("%-12s  %-6d  %12.0f  (not offered: ran on %s)\n",
				       paths[p].name, depths[d], rate, tern_submit_path_name(got));
			else
				printf("%-12s  %-6d  %12.0f\n", paths[p].name, depths[d], rate);
			if (out)
				fprintf(out, "%s\t%d\t%.0f\t%s\n", paths[p].name, depths[d], rate,
					tern_submit_path_name(got));
		}
		tern_device_close(dev);
	}
	if (out)
		fclose(out);
	return status;
}
