// SPDX-License-Identifier: MIT
/*
 * tern_dma: DMA jobs through DRM_IOCTL_TERN_SUBMIT move exactly the bytes
 * asked for, between host and device buffers in every direction, from 1 B
 * to 256 MiB at unaligned offsets, many jobs at once on every queue, with
 * timeline and binary syncobjs. Every byte is verified, and so are the
 * bytes around each destination range (they must not change).
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "tern_test.h"

#define PAGE		4096ull
#define GUARD		4096ull		/* bytes checked after each destination range */
#define GUARD_BYTE	0xa5
#define HBM_BYTE	0x3c

FIXTURE(dma) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t tl;			/* timeline syncobj of the test */
	uint64_t point;			/* last point used on it */
};

FIXTURE_VARIANT(dma) {
	unsigned int index;
};

FIXTURE_VARIANT_ADD(dma, dev0) { .index = 0 };
FIXTURE_VARIANT_ADD(dma, dev1) { .index = 1 };

FIXTURE_SETUP(dma)
{
	self->fd = tern_open_index(_metadata, variant->index, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
}

FIXTURE_TEARDOWN(dma)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Submits one copy as a job on @queue and returns its timeline point. */
static uint64_t copy_job(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
			 uint32_t queue, uint32_t dst, uint64_t dst_off, uint32_t src,
			 uint64_t src_off, uint64_t size)
{
	int ret;

	ret = tern_submit_copy(self->fd, queue, dst, dst_off, src, src_off, size, self->tl,
			       self->point + 1);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT q%u %llu bytes %u+%llu -> %u+%llu: %s", queue,
				 (unsigned long long)size, src, (unsigned long long)src_off, dst,
				 (unsigned long long)dst_off, strerror(-ret));
	return ++self->point;
}

/* Asserts that @dst[off, off+size) equals @src and the guard bytes around it are intact. */
static void check_range(struct __test_metadata *_metadata, const unsigned char *dst,
			uint64_t off, const unsigned char *src, uint64_t size, int guard_byte,
			uint64_t guard_after)
{
	int64_t at;

	at = tern_first_not(dst, guard_byte, off);
	ASSERT_EQ(-1, at) TH_LOG("byte %lld before the destination range changed", (long long)at);
	at = tern_first_diff(dst + off, src, size);
	ASSERT_EQ(-1, at) TH_LOG("%llu-byte copy: byte %lld differs: %#x instead of %#x",
				 (unsigned long long)size, (long long)at, dst[off + at], src[at]);
	at = tern_first_not(dst + off + size, guard_byte, guard_after);
	ASSERT_EQ(-1, at) TH_LOG("byte %lld after the destination range changed", (long long)at);
}

/*
 * host[src_off] -> HBM[dev_off] -> host[dst_off], both jobs on @queue (jobs
 * of a queue run in order), then verify the data and the bytes around the
 * HBM and host destination ranges.
 */
static void h2d2h(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self, uint64_t size,
		  uint64_t src_off, uint64_t dev_off, uint64_t dst_off, uint32_t queue)
{
	uint64_t src_size = src_off + size, dev_size = dev_off + size + GUARD;
	uint64_t dst_size = dst_off + size + GUARD, seed = tern_seed();
	unsigned char *src, *dev, *dst;
	uint32_t hs, hd, hh;
	uint64_t p1, p2;

	src = tern_bo_new(_metadata, self->fd, src_size, DRM_TERN_BO_HOST, &hs);
	dev = tern_bo_new(_metadata, self->fd, dev_size, DRM_TERN_BO_DEVICE, &hd);
	dst = tern_bo_new(_metadata, self->fd, dst_size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, src_size, seed);
	/* Only the HBM bytes around the range are set: the range is overwritten. */
	memset(dev, HBM_BYTE, dev_off);
	memset(dev + dev_off + size, HBM_BYTE, GUARD);
	memset(dst, GUARD_BYTE, dst_size);

	p1 = copy_job(_metadata, self, queue, hd, dev_off, hs, src_off, size);
	p2 = copy_job(_metadata, self, queue, hh, dst_off, hd, dev_off, size);
	tern_wait_ok(_metadata, self->fd, self->tl, p2);
	tern_wait_ok(_metadata, self->fd, self->tl, p1);

	check_range(_metadata, dst, dst_off, src + src_off, size, GUARD_BYTE, GUARD);
	EXPECT_EQ(-1, tern_first_not(dev, HBM_BYTE, dev_off));
	EXPECT_EQ(-1, tern_first_not(dev + dev_off + size, HBM_BYTE, GUARD));

	munmap(src, src_size);
	munmap(dev, dev_size);
	munmap(dst, dst_size);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(dma, h2d2h_small)
{
	static const uint64_t sizes[] = {
		1, 2, 3, 7, 8, 63, 64, 65, 511, 4095, 4096, 4097, 8191, 12289, 65543,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* Offsets: 0, odd, page-crossing; different on each side. */
		uint64_t so = (i * 7) % 4099, mo = (i * 13) % 8191, d = (i * 4093) % 4103;

		h2d2h(_metadata, self, sizes[i], so, mo, d, i % self->info.num_queues);
	}
}

TEST_F_TIMEOUT(dma, h2d2h_medium, 120)
{
	static const uint64_t sizes[] = {
		(1 << 20) - 1, (1 << 20) + 13, (4 << 20) + 1, (16 << 20) + 5,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		h2d2h(_metadata, self, sizes[i], 4096 - i - 1, 3 + i * 4096, 1 + 2 * i,
		      (i + 1) % self->info.num_queues);
}

TEST_F_TIMEOUT(dma, h2d2h_256m, 600)
{
	h2d2h(_metadata, self, 256ull << 20, 5, 11, 4093, self->info.num_queues - 1);
}

/* host -> HBM A -> HBM B -> host, at odd offsets in every buffer. */
static void h2d2d2h(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self, uint64_t size,
		    uint64_t a_off, uint64_t b_off, uint32_t queue)
{
	uint64_t seed = tern_seed(), bsize = b_off + size + GUARD;
	unsigned char *src, *dst, *b;
	uint32_t hs, ha, hb, hh;
	uint64_t p;

	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(self->fd, a_off + size, DRM_TERN_BO_DEVICE, &ha));
	b = tern_bo_new(_metadata, self->fd, bsize, DRM_TERN_BO_DEVICE, &hb);
	dst = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, size, seed);
	memset(b, HBM_BYTE, bsize);
	memset(dst, GUARD_BYTE, size);

	copy_job(_metadata, self, queue, ha, a_off, hs, 0, size);
	copy_job(_metadata, self, queue, hb, b_off, ha, a_off, size);
	p = copy_job(_metadata, self, queue, hh, 0, hb, b_off, size);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	check_range(_metadata, dst, 0, src, size, GUARD_BYTE, 0);
	/* Read the HBM destination back through the BAR mapping too. */
	check_range(_metadata, b, b_off, src, size, HBM_BYTE, GUARD);

	munmap(src, size);
	munmap(b, bsize);
	munmap(dst, size);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, ha));
	ASSERT_EQ(0, tern_bo_close(self->fd, hb));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F_TIMEOUT(dma, d2d, 120)
{
	static const uint64_t sizes[] = { 1, 3, 4096, 4099, (1 << 20) + 7, (64 << 20) + 3 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		h2d2d2h(_metadata, self, sizes[i], 1 + i * 1000, 4095 - i,
			(i + 2) % self->info.num_queues);
}

/* src -> dst inside one buffer of @domain, non-overlapping ranges. */
static void same_bo(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self, uint32_t domain)
{
	const uint64_t size = (3 << 20) + 17, src_off = 1, dst_off = size + 4093;
	const uint64_t bo_size = dst_off + size + GUARD;
	unsigned char *p, *ref;
	uint32_t h;
	uint64_t pt;

	ref = malloc(size);
	ASSERT_NE(NULL, ref);
	p = tern_bo_new(_metadata, self->fd, bo_size, domain, &h);
	memset(p, GUARD_BYTE, bo_size);
	tern_fill(ref, size, tern_seed());
	memcpy(p + src_off, ref, size);
	/* Both directions: later in the buffer, then back to before the source. */
	pt = copy_job(_metadata, self, 0, h, dst_off, h, src_off, size);
	tern_wait_ok(_metadata, self->fd, self->tl, pt);
	ASSERT_EQ(-1, tern_first_diff(p + dst_off, ref, size));
	ASSERT_EQ(-1, tern_first_not(p + dst_off + size, GUARD_BYTE, GUARD));
	ASSERT_EQ(-1, tern_first_not(p + src_off + size, GUARD_BYTE, dst_off - src_off - size));
	memset(p + src_off, 0, size);
	pt = copy_job(_metadata, self, 1 % self->info.num_queues, h, 0, h, dst_off, size);
	tern_wait_ok(_metadata, self->fd, self->tl, pt);
	ASSERT_EQ(-1, tern_first_diff(p, ref, size));
	munmap(p, bo_size);
	free(ref);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F(dma, d2d_same_bo)
{
	same_bo(_metadata, self, DRM_TERN_BO_DEVICE);
}

TEST_F(dma, h2h_same_bo)
{
	same_bo(_metadata, self, DRM_TERN_BO_HOST);
}

TEST_F_TIMEOUT(dma, h2h, 120)
{
	static const uint64_t sizes[] = { 1, 5, 4096, 4097, 65535, (8 << 20) + 9 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t size = sizes[i], so = 4095 - i, d = 1 + 3 * i;
		uint64_t dsize = d + size + GUARD;
		unsigned char *src, *dst;
		uint32_t hs, hd;
		uint64_t p;

		src = tern_bo_new(_metadata, self->fd, so + size, DRM_TERN_BO_HOST, &hs);
		dst = tern_bo_new(_metadata, self->fd, dsize, DRM_TERN_BO_HOST, &hd);
		tern_fill(src, so + size, tern_seed());
		memset(dst, GUARD_BYTE, dsize);
		p = copy_job(_metadata, self, i % self->info.num_queues, hd, d, hs, so, size);
		tern_wait_ok(_metadata, self->fd, self->tl, p);
		check_range(_metadata, dst, d, src + so, size, GUARD_BYTE, GUARD);
		munmap(src, so + size);
		munmap(dst, dsize);
		ASSERT_EQ(0, tern_bo_close(self->fd, hs));
		ASSERT_EQ(0, tern_bo_close(self->fd, hd));
	}
}

TEST_F(dma, max_copies_in_one_job)
{
	const unsigned int n = DRM_TERN_MAX_COPIES;
	const uint64_t slot = 8192, size = n * slot;
	struct drm_tern_copy *copies;
	unsigned char *src, *dst;
	uint32_t hs, hd, hh;
	unsigned int i;
	uint64_t p;
	int ret;

	copies = calloc(n, sizeof(*copies));
	ASSERT_NE(NULL, copies);
	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(self->fd, size, DRM_TERN_BO_DEVICE, &hd));
	dst = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, size, tern_seed());
	memset(dst, GUARD_BYTE, size);
	/* Piece i of the source goes to slot n-1-i, at odd offsets and sizes. */
	for (i = 0; i < n; i++)
		tern_copy_set(&copies[i], hd, (n - 1 - i) * slot + i % 13, hs, i * slot + i % 7,
			      1000 + i * 25);
	ret = tern_submit(self->fd, 0, copies, n, self->tl, ++self->point);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT of %u copies: %s", n, strerror(-ret));
	p = copy_job(_metadata, self, 0, hh, 0, hd, 0, size);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	tern_wait_ok(_metadata, self->fd, self->tl, p - 1);
	for (i = 0; i < n; i++) {
		const struct drm_tern_copy *c = &copies[i];

		ASSERT_EQ(-1, tern_first_diff(dst + c->dst_offset, src + c->src_offset, c->size))
			TH_LOG("copy %u of the job", i);
	}
	munmap(src, size);
	munmap(dst, size);
	free(copies);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F_TIMEOUT(dma, many_jobs_all_queues, 180)
{
	const unsigned int jobs = 512;
	const uint64_t slot = 4096, size = jobs * slot;
	uint64_t submitted0, completed0, failed0, first, p;
	unsigned char *src, *dst;
	uint32_t hs, hd, hh, q, nq = self->info.num_queues;
	unsigned int i;

	submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	completed0 = tern_sysfs_u64(self->minor, "jobs_completed");
	failed0 = tern_sysfs_u64(self->minor, "jobs_failed");
	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(self->fd, size, DRM_TERN_BO_DEVICE, &hd));
	dst = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, size, tern_seed());
	memset(dst, GUARD_BYTE, size);

	/* All uploads in flight at once, spread over every queue. */
	first = self->point + 1;
	for (i = 0; i < jobs; i++) {
		q = i % nq;
		copy_job(_metadata, self, q, hd, i * slot + q, hs, i * slot + q, slot - 2 * q - 1);
	}
	for (p = first; p <= self->point; p++)
		tern_wait_ok(_metadata, self->fd, self->tl, p);
	/* Then all downloads, each on another queue than its upload. */
	first = self->point + 1;
	for (i = 0; i < jobs; i++) {
		q = i % nq;
		copy_job(_metadata, self, (q + 1) % nq, hh, i * slot + q, hd, i * slot + q,
			 slot - 2 * q - 1);
	}
	/* The last point first: then the others must all be complete too. */
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
	for (p = first; p <= self->point; p++)
		tern_wait_ok(_metadata, self->fd, self->tl, p);
	for (i = 0; i < jobs; i++) {
		q = i % nq;
		ASSERT_EQ(-1, tern_first_diff(dst + i * slot + q, src + i * slot + q,
					      slot - 2 * q - 1)) TH_LOG("job %u", i);
		ASSERT_EQ(-1, tern_first_not(dst + i * slot, GUARD_BYTE, q));
	}
	EXPECT_EQ(submitted0 + 2 * jobs, tern_sysfs_u64(self->minor, "jobs_submitted"));
	EXPECT_EQ(completed0 + 2 * jobs, tern_sysfs_u64(self->minor, "jobs_completed"));
	EXPECT_EQ(failed0, tern_sysfs_u64(self->minor, "jobs_failed"));
	munmap(src, size);
	munmap(dst, size);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(dma, wait_timeline_points)
{
	const unsigned int jobs = 16;
	uint32_t hs, hd, status;
	uint64_t p, last = 0;
	unsigned int i;

	ASSERT_EQ(0, tern_bo_create(self->fd, jobs * PAGE, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, jobs * PAGE, DRM_TERN_BO_DEVICE, &hd));
	/* Points need not be consecutive, only increasing. */
	for (i = 0; i < jobs; i++) {
		self->point += 1 + i % 3;
		ASSERT_EQ(0, tern_submit_copy(self->fd, i % self->info.num_queues, hd, i * PAGE, hs,
					      i * PAGE, PAGE, self->tl, self->point));
	}
	last = self->point;
	tern_wait_ok(_metadata, self->fd, self->tl, last);
	/* Every point is signalled once the last one is. */
	ASSERT_EQ(0, drmSyncobjTimelineWait(self->fd, &self->tl, &last, 1, 0,
					    DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL))
		TH_LOG("drmSyncobjTimelineWait: %s", strerror(errno));
	p = 0;
	ASSERT_EQ(0, drmSyncobjQuery(self->fd, &self->tl, &p, 1));
	EXPECT_EQ(last, p);
	/* An early point still reports its job's status after later ones signalled. */
	for (p = 1; p <= 3; p++) {
		status = 99;
		EXPECT_EQ(0, tern_wait(self->fd, self->tl, p, 0, &status, NULL));
		EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	}
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

TEST_F_TIMEOUT(dma, poll_with_zero_timeout, 120)
{
	const uint64_t half = 32ull << 20;
	uint32_t h, status = 99;
	unsigned long polls = 0;
	unsigned char *p;
	uint64_t pt;
	int ret;

	p = tern_bo_new(_metadata, self->fd, 2 * half, DRM_TERN_BO_DEVICE, &h);
	tern_fill(p, half, tern_seed());
	pt = copy_job(_metadata, self, 0, h, half, h, 0, half);
	/* A timeout of 0 never sleeps: it answers ETIME until the job is done. */
	while ((ret = tern_wait(self->fd, self->tl, pt, 0, &status, NULL)) == -ETIME)
		polls++;
	ASSERT_EQ(0, ret) TH_LOG("%s after %lu polls", strerror(-ret), polls);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	TH_LOG("%lu polls returned ETIME before the job completed", polls);
	ASSERT_EQ(-1, tern_first_diff(p + half, p, half));
	munmap(p, 2 * half);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

/* UAPI 1.2: a job of no copies signals its fence, after the jobs before it. */
TEST_F(dma, empty_job)
{
	const uint64_t size = 1 << 20;
	struct drm_tern_submit s = { .copy_count = 0, .out_syncobj = self->tl };
	unsigned char *src, *dst;
	uint32_t hs, hh;
	uint64_t p;

	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, size, tern_seed());
	p = copy_job(_metadata, self, 0, hh, 0, hs, 0, size);
	s.out_point = p + 1;
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s));
	EXPECT_NE(0, s.job_id);
	self->point = p + 1;
	tern_wait_ok(_metadata, self->fd, self->tl, p + 1);
	/* Same queue, in order: the copy is done when the empty job is. */
	EXPECT_EQ(-1, tern_first_diff(dst, src, size));
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	munmap(src, size);
	munmap(dst, size);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(dma, binary_syncobj)
{
	uint32_t bin, hs, hd, status = 99;
	unsigned char *src, *dst;

	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &bin));
	src = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hd);
	tern_fill(src, PAGE, tern_seed());
	memset(dst, 0, PAGE);
	/* Point 0 replaces the fence of a binary syncobj. */
	ASSERT_EQ(0, tern_submit_copy(self->fd, 0, hd, 0, hs, 0, PAGE, bin, 0));
	ASSERT_EQ(0, tern_wait(self->fd, bin, 0, TERN_WAIT_LONG, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	ASSERT_EQ(0, drmSyncobjWait(self->fd, &bin, 1, INT64_MAX, 0, NULL));
	EXPECT_EQ(-1, tern_first_diff(dst, src, PAGE));
	/* Reused for a second job. */
	memset(dst, 0, PAGE);
	ASSERT_EQ(0, tern_submit_copy(self->fd, 1 % self->info.num_queues, hd, 0, hs, 0, PAGE, bin,
				      0));
	ASSERT_EQ(0, tern_wait(self->fd, bin, 0, TERN_WAIT_LONG, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	EXPECT_EQ(-1, tern_first_diff(dst, src, PAGE));
	munmap(src, PAGE);
	munmap(dst, PAGE);
	ASSERT_EQ(0, drmSyncobjDestroy(self->fd, bin));
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

TEST_F(dma, job_without_syncobj)
{
	unsigned char *src, *dst;
	uint32_t hs, hd;
	uint64_t p;

	src = tern_bo_new(_metadata, self->fd, 2 * PAGE, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, 2 * PAGE, DRM_TERN_BO_HOST, &hd);
	tern_fill(src, 2 * PAGE, tern_seed());
	memset(dst, 0, 2 * PAGE);
	/* No fence for the first job; the next job of the same queue runs after it. */
	ASSERT_EQ(0, tern_submit_copy(self->fd, 2 % self->info.num_queues, hd, 0, hs, 0, PAGE, 0,
				      0));
	p = copy_job(_metadata, self, 2 % self->info.num_queues, hd, PAGE, hs, PAGE, PAGE);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	EXPECT_EQ(-1, tern_first_diff(dst, src, 2 * PAGE));
	munmap(src, 2 * PAGE);
	munmap(dst, 2 * PAGE);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

TEST_F(dma, close_buffers_while_job_runs)
{
	const uint64_t size = 64ull << 20;
	uint64_t bo_count0 = tern_sysfs_u64(self->minor, "bo_count");
	uint64_t hbm_used0 = tern_sysfs_u64(self->minor, "hbm_used");
	uint32_t hs, hd;
	uint64_t p;
	int i;

	ASSERT_EQ(0, tern_bo_create(self->fd, size, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, size, DRM_TERN_BO_DEVICE, &hd));
	p = copy_job(_metadata, self, 0, hd, 0, hs, 0, size);
	/* The job holds the objects: closing the handles now is safe. */
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	/* The job's references go when it is retired, shortly after its fence. */
	for (i = 0; i < 200 && tern_sysfs_u64(self->minor, "bo_count") != bo_count0; i++)
		usleep(10000);
	EXPECT_EQ(bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
}

struct thread_arg {
	int fd;
	uint32_t queue, src, dst;
	uint64_t off, size;
	int jobs;
	int result;		/* 0 or -errno of the first failure */
};

static void *submit_thread(void *p)
{
	struct thread_arg *a = p;
	uint32_t tl, status;
	int i, ret = 0;

	if (drmSyncobjCreate(a->fd, 0, &tl)) {
		a->result = -errno;
		return NULL;
	}
	for (i = 0; i < a->jobs && !ret; i++)
		ret = tern_submit_copy(a->fd, a->queue, a->dst, a->off, a->src, a->off, a->size, tl,
				       i + 1);
	for (i = 1; i <= a->jobs && !ret; i++) {
		ret = tern_wait(a->fd, tl, i, TERN_WAIT_LONG, &status, NULL);
		if (!ret && status != DRM_TERN_JOB_OK)
			ret = -EIO;
	}
	drmSyncobjDestroy(a->fd, tl);
	a->result = ret;
	return NULL;
}

TEST_F_TIMEOUT(dma, threads_share_a_client, 120)
{
	const unsigned int nthreads = 4;
	const uint64_t part = 256 * 1024;
	struct thread_arg args[4];
	pthread_t threads[4];
	unsigned char *src, *dst;
	uint32_t hs, hd;
	unsigned int i;

	src = tern_bo_new(_metadata, self->fd, nthreads * part, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, nthreads * part, DRM_TERN_BO_HOST, &hd);
	tern_fill(src, nthreads * part, tern_seed());
	memset(dst, 0, nthreads * part);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct thread_arg){
			.fd = self->fd, .queue = i % self->info.num_queues, .src = hs, .dst = hd,
			.off = i * part, .size = part, .jobs = 64,
		};
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, submit_thread, &args[i]));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(threads[i], NULL);
		EXPECT_EQ(0, args[i].result) TH_LOG("thread %u: %s", i, strerror(-args[i].result));
	}
	EXPECT_EQ(-1, tern_first_diff(dst, src, nthreads * part));
	munmap(src, nthreads * part);
	munmap(dst, nthreads * part);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

TEST_F(dma, counters_count_jobs)
{
	uint64_t submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	uint64_t completed0 = tern_sysfs_u64(self->minor, "jobs_completed");
	uint64_t failed0 = tern_sysfs_u64(self->minor, "jobs_failed");
	uint64_t errors0 = tern_sysfs_u64(self->minor, "device_errors");
	uint32_t hs, hd;
	uint64_t p = 0;
	int i;

	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_DEVICE, &hd));
	for (i = 0; i < 10; i++)
		p = copy_job(_metadata, self, i % self->info.num_queues, hd, 0, hs, 0, PAGE);
	for (; p > self->point - 10; p--)
		tern_wait_ok(_metadata, self->fd, self->tl, p);
	EXPECT_EQ(submitted0 + 10, tern_sysfs_u64(self->minor, "jobs_submitted"));
	EXPECT_EQ(completed0 + 10, tern_sysfs_u64(self->minor, "jobs_completed"));
	EXPECT_EQ(failed0, tern_sysfs_u64(self->minor, "jobs_failed"));
	EXPECT_EQ(errors0, tern_sysfs_u64(self->minor, "device_errors"));
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

/* Both chips copy at the same time, each its own data. */
TEST_F_TIMEOUT(dma, both_devices_at_once, 120)
{
	const uint64_t size = 8ull << 20;
	unsigned char *src[2], *dst[2];
	uint32_t hs[2], hd[2], hh[2], tl[2];
	uint64_t seed = tern_seed();
	int fd[2], d;

	/* The fixture's device and the other one; the dev1 variant submits in the other order. */
	fd[0] = self->fd;
	fd[1] = tern_open_index(_metadata, variant->index ^ 1, NULL);
	for (d = 0; d < 2; d++) {
		tl[d] = tern_timeline(_metadata, fd[d]);
		src[d] = tern_bo_new(_metadata, fd[d], size, DRM_TERN_BO_HOST, &hs[d]);
		ASSERT_EQ(0, tern_bo_create(fd[d], size, DRM_TERN_BO_DEVICE, &hd[d]));
		dst[d] = tern_bo_new(_metadata, fd[d], size, DRM_TERN_BO_HOST, &hh[d]);
		tern_fill(src[d], size, seed + d);
		memset(dst[d], 0, size);
	}
	for (d = 0; d < 2; d++) {
		ASSERT_EQ(0, tern_submit_copy(fd[d], 0, hd[d], 0, hs[d], 0, size, tl[d], 1));
		ASSERT_EQ(0, tern_submit_copy(fd[d], 0, hh[d], 0, hd[d], 0, size, tl[d], 2));
	}
	for (d = 0; d < 2; d++) {
		tern_wait_ok(_metadata, fd[d], tl[d], 2);
		EXPECT_EQ(-1, tern_first_diff(dst[d], src[d], size)) TH_LOG("device %d", d);
	}
	for (d = 0; d < 2; d++) {
		munmap(src[d], size);
		munmap(dst[d], size);
	}
	close(fd[1]);
}

TEST_HARNESS_MAIN
