// SPDX-License-Identifier: MIT
/*
 * tern_lib: libtern against the real driver, and the programs built on it
 * (tern-ls, the dma_roundtrip example) run as an operator would run them.
 */
#include <libgen.h>
#include <pthread.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern.h"

#define NOBODY	65534

FIXTURE(lib) {
	struct tern_device *dev;
	unsigned int minor;
	int count;
};

FIXTURE_SETUP(lib)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int ret;

	ASSERT_LT(0, tern_minors(minors, TERN_TEST_MAX_DEVS));
	self->minor = minors[0];
	self->count = tern_device_count();
	ret = tern_device_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("tern_device_open: %s (%s)", tern_strerror(ret),
				 tern_last_error());
}

FIXTURE_TEARDOWN(lib)
{
	tern_device_close(self->dev);
}

TEST_F(lib, count_matches_sysfs)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];

	EXPECT_EQ(tern_minors(minors, TERN_TEST_MAX_DEVS), self->count);
	EXPECT_EQ(tern_expected_devices(), self->count);
}

TEST_F(lib, info_of_every_device)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	struct tern_device_info info;
	struct drm_tern_info hw;
	struct tern_device *dev;
	char pci[32], node[64];
	int i;

	ASSERT_EQ(self->count, tern_minors(minors, TERN_TEST_MAX_DEVS));
	for (i = 0; i < self->count; i++) {
		ASSERT_EQ(0, tern_device_open(i, &dev)) TH_LOG("%s", tern_last_error());
		ASSERT_EQ(0, tern_device_info(dev, &info)) TH_LOG("%s", tern_last_error());
		ASSERT_EQ(0, tern_get_info(tern_device_fd(dev), &hw));
		EXPECT_EQ((unsigned int)i, info.index);
		EXPECT_EQ(minors[i], info.minor);
		snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[i]);
		EXPECT_STREQ(node, info.node);
		tern_pci_address(minors[i], pci, sizeof(pci));
		EXPECT_STREQ(pci, info.pci_address);
		EXPECT_EQ(hw.revision, info.revision);
		EXPECT_EQ(TERN_PLATFORM_EMULATED, info.platform);
		EXPECT_EQ(hw.num_cores, info.num_cores);
		EXPECT_EQ(hw.num_queues, info.num_queues);
		EXPECT_EQ(hw.num_dma_engines, info.num_dma_engines);
		EXPECT_EQ(hw.hbm_size, info.hbm_total);
		EXPECT_EQ(tern_sysfs_u64(minors[i], "hbm_total"), info.hbm_total);
		EXPECT_STREQ("tern", info.driver_name);
		EXPECT_STREQ("0.1.0", info.driver_version);
		EXPECT_EQ(DRM_TERN_UAPI_VERSION_MAJOR, info.uapi_major);
		EXPECT_EQ(0, tern_device_close(dev));
	}
}

TEST_F(lib, open_bad_index)
{
	struct tern_device *dev = (void *)1;

	EXPECT_EQ(-ENODEV, tern_device_open(self->count, &dev));
	EXPECT_EQ(NULL, dev);
	EXPECT_NE(NULL, strstr(tern_last_error(), "index")) TH_LOG("%s", tern_last_error());
}

TEST_F(lib, open_without_permission)
{
	int fds[2], status;
	char msg[512] = "";
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tern_device *dev;
		int ret;

		close(fds[0]);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		/* Counting works without permission; opening does not. */
		if (tern_device_count() < 1)
			_exit(3);
		ret = tern_device_open(0, &dev);
		if (write(fds[1], tern_last_error(), strlen(tern_last_error())) < 0)
			_exit(4);
		_exit(ret == -EACCES ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	if (n > 0)
		msg[n] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("message: %s", msg);
	EXPECT_NE(NULL, strstr(msg, "permission denied")) TH_LOG("message: %s", msg);
	EXPECT_NE(NULL, strstr(msg, "/dev/accel/accel")) TH_LOG("message: %s", msg);
}

TEST_F(lib, buffer_bad_arguments)
{
	uint64_t bo_count0 = tern_sysfs_u64(self->minor, "bo_count");
	struct tern_buffer *b = (void *)1;

	EXPECT_EQ(-EINVAL, tern_buffer_alloc(self->dev, 4096, 0, &b));
	EXPECT_EQ(NULL, b);
	EXPECT_EQ(-EINVAL, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST | TERN_MEM_DEVICE, &b));
	EXPECT_EQ(-EINVAL, tern_buffer_alloc(self->dev, 4096, 4, &b));
	EXPECT_EQ(-EINVAL, tern_buffer_alloc(self->dev, 0, TERN_MEM_HOST, &b));
	EXPECT_EQ(-EINVAL, tern_buffer_alloc(self->dev, UINT64_MAX, TERN_MEM_DEVICE, &b));
	EXPECT_NE(0, tern_last_error()[0]);
	EXPECT_EQ(bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
}

TEST_F(lib, buffer_too_big_for_hbm)
{
	struct tern_device_info info;
	struct tern_buffer *b;
	int ret;

	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	ret = tern_buffer_alloc(self->dev, info.hbm_total * 2, TERN_MEM_DEVICE, &b);
	EXPECT_TRUE(ret == -ENOMEM || ret == -ENOSPC) TH_LOG("%d %s", ret, tern_last_error());
	EXPECT_NE(NULL, strstr(tern_last_error(), "BO_CREATE")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(0, tern_device_close(self->dev));
	self->dev = NULL;
}

static void map_rw(struct __test_metadata *_metadata, struct tern_device *dev, unsigned int flags)
{
	const uint64_t size = 3 * 4096 + 5;
	struct tern_buffer *b;
	void *p, *q;

	ASSERT_EQ(0, tern_buffer_alloc(dev, size, flags, &b));
	EXPECT_EQ(size, tern_buffer_size(b));
	EXPECT_EQ(flags, tern_buffer_flags(b));
	ASSERT_EQ(0, tern_buffer_map(b, &p)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_buffer_map(b, &q));
	EXPECT_EQ(p, q);
	tern_fill(p, size, 7);
	{
		unsigned char ref[3 * 4096 + 5];

		tern_fill(ref, size, 7);
		EXPECT_EQ(-1, tern_first_diff(q, ref, size));
	}
	tern_buffer_free(b);
}

TEST_F(lib, map_host)
{
	map_rw(_metadata, self->dev, TERN_MEM_HOST);
}

TEST_F(lib, map_device)
{
	map_rw(_metadata, self->dev, TERN_MEM_DEVICE);
}

TEST_F(lib, hbm_used_follows_buffers)
{
	struct tern_device_info a, b, c;
	struct tern_buffer *buf;

	ASSERT_EQ(0, tern_device_info(self->dev, &a));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 1 << 20, TERN_MEM_DEVICE, &buf));
	ASSERT_EQ(0, tern_device_info(self->dev, &b));
	EXPECT_LE(a.hbm_used + (1 << 20), b.hbm_used);
	tern_buffer_free(buf);
	ASSERT_EQ(0, tern_device_info(self->dev, &c));
	EXPECT_EQ(a.hbm_used, c.hbm_used);
}

/* host[so] -> device[mo] -> host[d] with tern_copy(), verified. */
static void roundtrip(struct __test_metadata *_metadata, struct tern_device *dev, uint64_t size,
		      uint64_t so, uint64_t mo, uint64_t d)
{
	struct tern_buffer *src, *hbm, *dst;
	unsigned char *s, *t;
	void *p;
	int ret;

	ASSERT_EQ(0, tern_buffer_alloc(dev, so + size, TERN_MEM_HOST, &src));
	ASSERT_EQ(0, tern_buffer_alloc(dev, mo + size, TERN_MEM_DEVICE, &hbm));
	ASSERT_EQ(0, tern_buffer_alloc(dev, d + size, TERN_MEM_HOST, &dst));
	ASSERT_EQ(0, tern_buffer_map(src, &p));
	s = p;
	ASSERT_EQ(0, tern_buffer_map(dst, &p));
	t = p;
	tern_fill(s, so + size, tern_seed());
	memset(t, 0, d + size);
	ret = tern_copy(dev, hbm, mo, src, so, size);
	ASSERT_EQ(0, ret) TH_LOG("%s", tern_last_error());
	ret = tern_copy(dev, dst, d, hbm, mo, size);
	ASSERT_EQ(0, ret) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-1, tern_first_diff(t + d, s + so, size));
	EXPECT_EQ(-1, tern_first_not(t, 0, d));
	tern_buffer_free(src);
	tern_buffer_free(hbm);
	tern_buffer_free(dst);
}

TEST_F(lib, copy_roundtrip)
{
	roundtrip(_metadata, self->dev, 1, 0, 0, 0);
	roundtrip(_metadata, self->dev, 4097, 3, 5, 7);
	roundtrip(_metadata, self->dev, (1 << 20) + 3, 4095, 1, 2);
}

/*
 * Some tests count the kernel's jobs or queues in sysfs: reopen the device
 * on the ioctl path, whose every job is a kernel job (TERN_SUBMIT, see
 * Documentation/runtime.rst); the user-mode queue's jobs never reach them.
 */
static void reopen_on_ioctl_path(struct __test_metadata *_metadata, struct tern_device **dev)
{
	ASSERT_EQ(0, tern_device_close(*dev));
	*dev = NULL;
	ASSERT_EQ(0, setenv("TERN_SUBMIT", "ioctl", 1));
	ASSERT_EQ(0, tern_device_open(0, dev)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, unsetenv("TERN_SUBMIT"));
	ASSERT_EQ(TERN_SUBMIT_IOCTL, tern_submit_path(*dev));
}

TEST_F_TIMEOUT(lib, copy_split_into_pieces, 300)
{
	uint64_t submitted0;

	reopen_on_ioctl_path(_metadata, &self->dev);
	submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");

	/* Bigger than one piece (64 MiB): several copies, still one job each way. */
	roundtrip(_metadata, self->dev, (65ull << 20) + 5, 1, 2, 3);
	EXPECT_EQ(submitted0 + 2, tern_sysfs_u64(self->minor, "jobs_submitted"));
}

TEST_F(lib, copy_async_on_every_queue)
{
	const uint64_t part = 64 * 1024;
	struct tern_fence *fences[TERN_MAX_QUEUES];
	struct tern_device_info info;
	struct tern_buffer *src, *dst;
	unsigned char *s, *t;
	unsigned int q;
	void *p;

	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, info.num_queues * part, TERN_MEM_HOST, &src));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, info.num_queues * part, TERN_MEM_HOST, &dst));
	ASSERT_EQ(0, tern_buffer_map(src, &p));
	s = p;
	ASSERT_EQ(0, tern_buffer_map(dst, &p));
	t = p;
	tern_fill(s, info.num_queues * part, tern_seed());
	memset(t, 0, info.num_queues * part);
	for (q = 0; q < info.num_queues; q++) {
		ASSERT_EQ(0, tern_copy_async_on(self->dev, q, dst, q * part, src, q * part, part,
						&fences[q])) TH_LOG("%s", tern_last_error());
		EXPECT_EQ((int)q, tern_fence_queue(fences[q]));
	}
	for (q = 0; q < info.num_queues; q++) {
		EXPECT_EQ(0, tern_fence_wait(self->dev, fences[q], TERN_TIMEOUT_INFINITE));
		tern_fence_release(fences[q]);
	}
	EXPECT_EQ(-1, tern_first_diff(t, s, info.num_queues * part));
	/* A queue that does not exist. */
	EXPECT_EQ(-EINVAL, tern_copy_async_on(self->dev, info.num_queues, dst, 0, src, 0, 1,
					      &fences[0]));
	EXPECT_EQ(NULL, fences[0]);
	tern_buffer_free(src);
	tern_buffer_free(dst);
}

/*
 * Many more fences in flight than the library keeps syncobjs for (128),
 * spread over every queue, waited for newest first. Each wait must report
 * its own copy: right after it returns 0, that copy's bytes are checked.
 * The last BEHIND_BUSY copies are queued behind two 64 MiB HBM copies on
 * every queue, so they are still queued when their waits start and a fence
 * that reported done too early shows as missing data. Two rounds, host ->
 * HBM then HBM -> host, so the second one reuses syncobjs the first gave
 * back.
 */
#define MANY_FENCES	1024
#define BEHIND_BUSY	64
#define BUSY_HALF	(64ull << 20)

static void many_fences_round(struct __test_metadata *_metadata, struct tern_device *dev,
			      unsigned int minor, struct tern_buffer *busy,
			      struct tern_buffer *dst, const unsigned char *d,
			      struct tern_buffer *src, const unsigned char *s, uint64_t part)
{
	struct tern_fence *busy_fences[2 * TERN_MAX_QUEUES];
	struct tern_device_info info;
	struct tern_fence **fences;
	unsigned int i, j, nbusy = 0, still_running = 0;
	uint64_t submitted0;
	int ret, q;

	ASSERT_EQ(0, tern_device_info(dev, &info));
	ASSERT_GE(TERN_MAX_QUEUES, info.num_queues);
	fences = calloc(MANY_FENCES, sizeof(*fences));
	ASSERT_NE(NULL, fences);
	submitted0 = tern_sysfs_u64(minor, "jobs_submitted");
	for (i = 0; i < MANY_FENCES; i++) {
		if (i == MANY_FENCES - BEHIND_BUSY) {
			for (q = 0; q < (int)info.num_queues; q++)
				for (j = 0; j < 2; j++)
					ASSERT_EQ(0, tern_copy_async_on(dev, q, busy, BUSY_HALF, busy,
									0, BUSY_HALF,
									&busy_fences[nbusy++]))
						TH_LOG("%s", tern_last_error());
		}
		/* Half round robin, half on a queue named by the caller. */
		if (i % 2)
			ret = tern_copy_async_on(dev, (i / 2) % info.num_queues, dst, i * part, src,
						 i * part, part, &fences[i]);
		else
			ret = tern_copy_async(dev, dst, i * part, src, i * part, part, &fences[i]);
		ASSERT_EQ(0, ret) TH_LOG("copy %u: %s", i, tern_last_error());
		q = tern_fence_queue(fences[i]);
		ASSERT_TRUE(q >= 0 && (unsigned int)q < info.num_queues) TH_LOG("queue %d", q);
	}
	/* One job per copy: the pieces of a copy share a job. */
	EXPECT_EQ(submitted0 + MANY_FENCES + nbusy, tern_sysfs_u64(minor, "jobs_submitted"));
	for (i = MANY_FENCES; i-- > 0;) {
		if (tern_fence_wait(dev, fences[i], 0) == -ETIME)
			still_running++;
		ret = tern_fence_wait(dev, fences[i], TERN_TIMEOUT_INFINITE);
		EXPECT_EQ(0, ret) TH_LOG("fence %u: %s", i, tern_last_error());
		EXPECT_EQ(-1, tern_first_diff(d + i * part, s + i * part, part))
			TH_LOG("copy %u on queue %d not there after its fence", i,
			       tern_fence_queue(fences[i]));
		tern_fence_release(fences[i]);
	}
	/* How much the check saw; timing, so only reported. */
	TH_LOG("%u of %u copies were still running when their wait began", still_running,
	       MANY_FENCES);
	for (i = 0; i < nbusy; i++) {
		EXPECT_EQ(0, tern_fence_wait(dev, busy_fences[i], TERN_TIMEOUT_INFINITE));
		tern_fence_release(busy_fences[i]);
	}
	free(fences);
}

TEST_F_TIMEOUT(lib, many_fences_waited_in_reverse, 240)
{
	/* Not a multiple of the page size: copies straddle pages. */
	const uint64_t part = 4096 + 24, total = MANY_FENCES * part;
	struct tern_buffer *src, *hbm, *dst, *busy;
	unsigned char *s, *m, *d;
	void *p;

	/* Each fence must name the kernel queue it went to. */
	reopen_on_ioctl_path(_metadata, &self->dev);
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 2 * BUSY_HALF, TERN_MEM_DEVICE, &busy));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, total, TERN_MEM_HOST, &src));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, total, TERN_MEM_DEVICE, &hbm));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, total, TERN_MEM_HOST, &dst));
	ASSERT_EQ(0, tern_buffer_map(src, &p));
	s = p;
	ASSERT_EQ(0, tern_buffer_map(hbm, &p));
	m = p;
	ASSERT_EQ(0, tern_buffer_map(dst, &p));
	d = p;
	tern_fill(s, total, tern_seed());
	/* HBM keeps its contents across runs: make sure stale data cannot pass. */
	memset(m, 0, total);
	memset(d, 0, total);
	many_fences_round(_metadata, self->dev, self->minor, busy, hbm, m, src, s, part);
	many_fences_round(_metadata, self->dev, self->minor, busy, dst, d, hbm, m, part);
	EXPECT_EQ(-1, tern_first_diff(d, s, total));
	tern_buffer_free(busy);
	tern_buffer_free(src);
	tern_buffer_free(hbm);
	tern_buffer_free(dst);
}

/*
 * A steady stream: a window of fences in flight, the oldest waited for and
 * released before the next copy is queued, many times over the pool size.
 */
TEST_F_TIMEOUT(lib, fence_stream_reuses_syncobjs, 240)
{
	struct tern_fence *fences[24] = { NULL };
	const uint64_t part = 8192 + 8, window = ARRAY_SIZE(fences), copies = 600;
	const uint64_t total = copies * part;
	struct tern_buffer *src, *dst;
	unsigned char *s, *d;
	uint64_t i, old;
	void *p;
	int ret;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, total, TERN_MEM_HOST, &src));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, total, TERN_MEM_HOST, &dst));
	ASSERT_EQ(0, tern_buffer_map(src, &p));
	s = p;
	ASSERT_EQ(0, tern_buffer_map(dst, &p));
	d = p;
	tern_fill(s, total, tern_seed());
	memset(d, 0, total);
	for (i = 0; i < copies + window; i++) {
		if (i >= window) {
			old = i - window;
			ret = tern_fence_wait(self->dev, fences[old % window], TERN_TIMEOUT_INFINITE);
			ASSERT_EQ(0, ret) TH_LOG("fence %llu: %s", (unsigned long long)old,
						 tern_last_error());
			ASSERT_EQ(-1, tern_first_diff(d + old * part, s + old * part, part))
				TH_LOG("copy %llu not there after its fence", (unsigned long long)old);
			tern_fence_release(fences[old % window]);
			fences[old % window] = NULL;
		}
		if (i < copies) {
			ret = tern_copy_async(self->dev, dst, i * part, src, i * part, part,
					      &fences[i % window]);
			ASSERT_EQ(0, ret) TH_LOG("copy %llu: %s", (unsigned long long)i,
						 tern_last_error());
		}
	}
	EXPECT_EQ(-1, tern_first_diff(d, s, total));
	tern_buffer_free(src);
	tern_buffer_free(dst);
}

TEST_F_TIMEOUT(lib, fence_wait_timeout_and_poll, 120)
{
	const uint64_t half = 64ull << 20;
	struct tern_fence *busy[16], *small;
	struct tern_buffer *big, *a, *b;
	unsigned int i;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 2 * half, TERN_MEM_DEVICE, &big));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &a));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &b));
	/* Keep queue 0 busy, then queue a small copy behind it. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, tern_copy_async_on(self->dev, 0, big, half, big, 0, half, &busy[i]));
	}
	ASSERT_EQ(0, tern_copy_async_on(self->dev, 0, b, 0, a, 0, 4096, &small));
	EXPECT_EQ(-ETIME, tern_fence_wait(self->dev, small, 0));
	EXPECT_EQ(-ETIME, tern_fence_wait(self->dev, small, 1000));
	EXPECT_EQ(-EINVAL, tern_fence_wait(self->dev, small, -5));
	EXPECT_EQ(0, tern_fence_wait(self->dev, small, TERN_TIMEOUT_INFINITE));
	/* Done stays done. */
	EXPECT_EQ(0, tern_fence_wait(self->dev, small, 0));
	tern_fence_release(small);
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(0, tern_fence_wait(self->dev, busy[i], 0));
		tern_fence_release(busy[i]);
	}
	tern_buffer_free(big);
	tern_buffer_free(a);
	tern_buffer_free(b);
}

TEST_F(lib, copy_rejects_bad_ranges)
{
	uint64_t submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	struct tern_buffer *a, *b;
	struct tern_fence *f = (void *)1;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &a));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 8192, TERN_MEM_DEVICE, &b));
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, b, 0, a, 1, 4096));
	EXPECT_NE(NULL, strstr(tern_last_error(), "outside")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, b, 8192, a, 0, 1));
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, b, UINT64_MAX, a, 0, 2));
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, b, 100, b, 0, 4096));
	EXPECT_NE(NULL, strstr(tern_last_error(), "overlap")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, NULL, 0, a, 0, 1));
	EXPECT_EQ(-EINVAL, tern_copy_async(self->dev, b, 0, a, 0, 4097, &f));
	EXPECT_EQ(NULL, f);
	EXPECT_EQ(submitted0, tern_sysfs_u64(self->minor, "jobs_submitted"));
	tern_buffer_free(a);
	tern_buffer_free(b);
}

TEST_F(lib, copy_between_devices_rejected)
{
	struct tern_buffer *mine, *theirs;
	struct tern_device *other;

	ASSERT_LE(2, self->count);
	ASSERT_EQ(0, tern_device_open(1, &other));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &mine));
	ASSERT_EQ(0, tern_buffer_alloc(other, 4096, TERN_MEM_HOST, &theirs));
	EXPECT_EQ(-EINVAL, tern_copy(self->dev, mine, 0, theirs, 0, 16));
	EXPECT_NE(NULL, strstr(tern_last_error(), "belongs")) TH_LOG("%s", tern_last_error());
	tern_buffer_free(theirs);
	tern_buffer_free(mine);
	EXPECT_EQ(0, tern_device_close(other));
}

TEST_F(lib, zero_size_copy_is_a_no_op)
{
	uint64_t submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	struct tern_buffer *a;
	struct tern_fence *f;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &a));
	EXPECT_EQ(0, tern_copy(self->dev, a, 0, a, 4096, 0));
	ASSERT_EQ(0, tern_copy_async(self->dev, a, 0, a, 0, 0, &f));
	EXPECT_EQ(-1, tern_fence_queue(f));
	EXPECT_EQ(0, tern_fence_wait(self->dev, f, 0));
	tern_fence_release(f);
	EXPECT_EQ(submitted0, tern_sysfs_u64(self->minor, "jobs_submitted"));
	tern_buffer_free(a);
}

TEST_F(lib, close_with_buffers_is_refused)
{
	struct tern_buffer *a;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4096, TERN_MEM_HOST, &a));
	EXPECT_EQ(-EBUSY, tern_device_close(self->dev));
	EXPECT_NE(NULL, strstr(tern_last_error(), "1 buffer")) TH_LOG("%s", tern_last_error());
	/* The device still works after the refusal. */
	EXPECT_EQ(0, tern_copy(self->dev, a, 0, a, 2048, 2048));
	tern_buffer_free(a);
	EXPECT_EQ(0, tern_device_close(self->dev));
	self->dev = NULL;
}

TEST(strerror_messages)
{
	EXPECT_NE(NULL, strstr(tern_strerror(-EIO), "device"));
	EXPECT_NE(NULL, strstr(tern_strerror(-ETIME), "timed out"));
	EXPECT_STREQ(strerror(ENOENT), tern_strerror(-ENOENT));
	EXPECT_NE(NULL, strstr(tern_strerror(5), "not an error code"));
	EXPECT_STREQ("success", tern_strerror(0));
}

struct worker {
	struct tern_device *dev;
	struct tern_buffer *src, *dst;
	uint64_t off, size;
	int copies;			/* in flight at once, waited newest first */
	int result;
};

static void *worker_fn(void *p)
{
	struct worker *w = p;
	uint64_t piece = w->size / w->copies;
	struct tern_fence **fences;
	int i, ret = 0, r;

	fences = calloc(w->copies, sizeof(*fences));
	if (!fences) {
		w->result = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < w->copies && !ret; i++)
		ret = tern_copy_async(w->dev, w->dst, w->off + i * piece, w->src, w->off + i * piece,
				      piece, &fences[i]);
	for (i--; i >= 0; i--) {
		if (!fences[i])
			continue;
		r = tern_fence_wait(w->dev, fences[i], TERN_TIMEOUT_INFINITE);
		ret = ret ? ret : r;
		tern_fence_release(fences[i]);
	}
	free(fences);
	w->result = ret;
	return NULL;
}

static void threads_copy(struct __test_metadata *_metadata, struct tern_device *dev, int copies)
{
	const uint64_t part = 1 << 20;
	struct worker w[4];
	pthread_t t[4];
	struct tern_buffer *src, *dst;
	unsigned char *s, *d;
	unsigned int i;
	void *p;

	ASSERT_EQ(0, tern_buffer_alloc(dev, 4 * part, TERN_MEM_HOST, &src));
	ASSERT_EQ(0, tern_buffer_alloc(dev, 4 * part, TERN_MEM_DEVICE, &dst));
	ASSERT_EQ(0, tern_buffer_map(src, &p));
	s = p;
	ASSERT_EQ(0, tern_buffer_map(dst, &p));
	d = p;
	tern_fill(s, 4 * part, tern_seed());
	memset(d, 0, 4 * part);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .dev = dev, .src = src, .dst = dst,
					.off = i * part, .size = part, .copies = copies };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_fn, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].result) TH_LOG("thread %u: %s", i, tern_strerror(w[i].result));
	}
	EXPECT_EQ(-1, tern_first_diff(d, s, 4 * part));
	tern_buffer_free(src);
	tern_buffer_free(dst);
}

TEST_F_TIMEOUT(lib, threads_share_a_device, 120)
{
	threads_copy(_metadata, self->dev, 32);
}

/* 4 x 256 fences in flight from four threads: the syncobj pool is shared. */
TEST_F_TIMEOUT(lib, threads_many_fences, 240)
{
	threads_copy(_metadata, self->dev, 256);
}

/* Runs @argv (as @uid unless -1) with stdout/stderr into @out/@err; returns exit status. */
static int run(const char *const argv[], int uid, char *out, size_t olen, char *err, size_t elen)
{
	char ofile[] = "/tmp/tern_lib_out.XXXXXX", efile[] = "/tmp/tern_lib_err.XXXXXX";
	int ofd = mkstemp(ofile), efd = mkstemp(efile), status = -1;
	ssize_t n;
	pid_t pid;

	if (ofd < 0 || efd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	n = pread(ofd, out, olen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(efd, err, elen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(ofd);
	close(efd);
	unlink(ofile);
	unlink(efile);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(prog) {
	char build[PATH_MAX];
	char path[PATH_MAX + 64];
	char out[16384], err[4096];
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int count;
};

FIXTURE_SETUP(prog)
{
	tern_build_dir(self->build, sizeof(self->build));
	self->count = tern_minors(self->minors, TERN_TEST_MAX_DEVS);
	ASSERT_LT(0, self->count);
}

FIXTURE_TEARDOWN(prog)
{
}

TEST_F(prog, tern_ls_table)
{
	const char *argv[] = { self->path, NULL };
	char pci[32], node[64];
	int i, rc;

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-ls", self->build);
	rc = run(argv, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", self->path, self->err);
	tern_log_block("tern-ls:", self->out);
	EXPECT_NE(NULL, strstr(self->out, "PCI"));
	for (i = 0; i < self->count; i++) {
		tern_pci_address(self->minors[i], pci, sizeof(pci));
		snprintf(node, sizeof(node), "/dev/accel/accel%u ", self->minors[i]);
		EXPECT_NE(NULL, strstr(self->out, pci)) TH_LOG("%s missing", pci);
		EXPECT_NE(NULL, strstr(self->out, node)) TH_LOG("%s missing", node);
	}
	EXPECT_NE(NULL, strstr(self->out, "emulated"));
	EXPECT_NE(NULL, strstr(self->out, "tern 0.1.0"));
}

TEST_F(prog, tern_ls_json)
{
	const char *argv[] = { self->path, "--json", NULL };
	char want[128], pci[32];
	int i, rc;

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-ls", self->build);
	rc = run(argv, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	ASSERT_EQ(0, rc) TH_LOG("%s", self->err);
	tern_log_block("tern-ls --json:", self->out);
	EXPECT_EQ(0, strncmp(self->out, "{\"devices\": [", 13));
	for (i = 0; i < self->count; i++) {
		tern_pci_address(self->minors[i], pci, sizeof(pci));
		snprintf(want, sizeof(want), "\"pci_address\": \"%s\"", pci);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s missing in %s", want, self->out);
		snprintf(want, sizeof(want), "\"hbm_total\": %llu",
			 (unsigned long long)tern_sysfs_u64(self->minors[i], "hbm_total"));
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s missing", want);
	}
	EXPECT_NE(NULL, strstr(self->out, "\"platform\": \"emulated\""));
	EXPECT_NE(NULL, strstr(self->out, "\"driver_version\": \"0.1.0\""));

	/* The whole output parses as JSON (python3 is on the host root the guest uses). */
	if (access("/usr/bin/python3", X_OK) == 0) {
		char script[PATH_MAX + 256], count[16];
		const char *py[] = { "/usr/bin/python3", "-c", script, NULL };

		snprintf(script, sizeof(script),
			 "import json, subprocess; d = json.loads(subprocess.check_output(['%s', '--json']));"
			 " print(len(d['devices']))", self->path);
		rc = run(py, -1, count, sizeof(count), self->err, sizeof(self->err));
		EXPECT_EQ(0, rc) TH_LOG("not valid JSON: %s", self->err);
		EXPECT_EQ(self->count, atoi(count));
	}
}

TEST_F(prog, tern_ls_without_permission)
{
	const char *argv[] = { self->path, NULL };
	int rc;

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-ls", self->build);
	rc = run(argv, NOBODY, self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_EQ(1, rc);
	EXPECT_NE(NULL, strstr(self->err, "permission denied")) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "/dev/accel/accel")) TH_LOG("stderr: %s", self->err);
}

TEST_F(prog, tern_ls_usage)
{
	const char *help[] = { self->path, "--help", NULL };
	const char *bad[] = { self->path, "--no-such-option", NULL };

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-ls", self->build);
	EXPECT_EQ(0, run(help, -1, self->out, sizeof(self->out), self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->out, "--json"));
	EXPECT_EQ(2, run(bad, -1, self->out, sizeof(self->out), self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "usage"));
}

TEST_F_TIMEOUT(prog, dma_roundtrip_example, 300)
{
	const char *argv0[] = { self->path, "16M", NULL };
	const char *argv1[] = { self->path, "-d", "1", "5K", NULL };
	const char *bad[] = { self->path, "12X", NULL };
	int rc;

	snprintf(self->path, sizeof(self->path), "%s/examples/dma_roundtrip", self->build);
	rc = run(argv0, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	ASSERT_EQ(0, rc) TH_LOG("%s%s", self->out, self->err);
	tern_log_block("dma_roundtrip 16M:", self->out);
	EXPECT_NE(NULL, strstr(self->out, "verified"));
	EXPECT_NE(NULL, strstr(self->out, "GiB/s"));
	rc = run(argv1, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_EQ(0, rc) TH_LOG("%s%s", self->out, self->err);
	EXPECT_NE(NULL, strstr(self->out, "verified"));
	EXPECT_EQ(2, run(bad, -1, self->out, sizeof(self->out), self->err, sizeof(self->err)));
}

/* tern-run: ops on odd shapes pass against the CPU reference. */
TEST_F_TIMEOUT(prog, tern_run_ops, 300)
{
	const char *mm[] = { self->path, "matmul", "--m", "129", "--n", "70", "--k", "300",
			     "--dtype", "bf16", "--out-dtype", "fp32", "--core", "any", NULL };
	const char *sm[] = { self->path, "softmax", "--rows", "7", "--cols", "1000", NULL };
	const char *at[] = { self->path, "attention", "--sq", "100", "--sk", "200", "--d", "64",
			     "--causal", "--dtype", "bf16", "-d", "1", "--repeat", "3", NULL };
	const char *const *cmds[] = { mm, sm, at };
	unsigned int i;
	int rc;

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-run", self->build);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (i == 2 && self->count < 2)
			at[12] = "0";	/* one device only */
		rc = run(cmds[i], -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
		EXPECT_EQ(0, rc) TH_LOG("tern-run %s: %s%s", cmds[i][1], self->out, self->err);
		tern_log_block("tern-run:", self->out);
		EXPECT_NE(NULL, strstr(self->out, "PASS"));
		EXPECT_NE(NULL, strstr(self->out, "modeled"));
	}
}

TEST_F_TIMEOUT(prog, tern_run_json, 120)
{
	char script[PATH_MAX + 256], res[64];
	const char *py[] = { "/usr/bin/python3", "-c", script, NULL };

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-run", self->build);
	if (access("/usr/bin/python3", X_OK))
		SKIP(return, "no python3");
	snprintf(script, sizeof(script),
		 "import json, subprocess; d = json.loads(subprocess.check_output(['%s', 'layernorm',"
		 " '--rows', '33', '--cols', '257', '--json'])); print(d['pass'], d['modeled_ns'] > 0)",
		 self->path);
	EXPECT_EQ(0, run(py, -1, res, sizeof(res), self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
	EXPECT_EQ(0, strncmp(res, "True True", 9)) TH_LOG("got %s", res);
}

/* A program image that faults: its error is decoded, exit status 1. */
TEST_F(prog, tern_run_faulting_program)
{
	struct {
		struct tern_prog_header h;
		union tern_insn insn[2];
	} img;
	char file[] = "/tmp/tern_run_prog.XXXXXX";
	const char *argv[] = { self->path, "--program", file, "--slot", "4K", NULL };
	int fd, rc;

	memset(&img, 0, sizeof(img));
	img.h.magic = TERN_PROG_MAGIC;
	img.h.version = TERN_ISA_VERSION;
	img.h.size = sizeof(img);
	img.h.stream[TERN_ENGINE_VECTOR].offset = TERN_PROG_HEADER_SIZE;
	img.h.stream[TERN_ENGINE_VECTOR].count = 2;
	img.insn[0].h.opcode = 0x7f;	/* no such opcode */
	img.insn[1].h.opcode = TERN_OP_END;
	fd = mkstemp(file);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(img), write(fd, &img, sizeof(img)));
	close(fd);

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-run", self->build);
	rc = run(argv, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	unlink(file);
	EXPECT_EQ(1, rc) TH_LOG("%s%s", self->out, self->err);
	EXPECT_NE(NULL, strstr(self->out, "illegal opcode")) TH_LOG("%s%s", self->out, self->err);
}

TEST_F(prog, tern_run_bad_arguments)
{
	const char *unknown[] = { self->path, "frobnicate", NULL };
	const char *dtype[] = { self->path, "relu", "--dtype", "fp64", NULL };
	const char *size[] = { self->path, "matmul", "--m", "0", NULL };
	const char *num[] = { self->path, "softmax", "--rows", "12abc", NULL };
	const char *missing[] = { self->path, "softmax", "--cols", NULL };
	const char *other[] = { self->path, "relu", "--causal", NULL };
	const char *const *usage[] = { unknown, dtype, size, num, missing, other };
	const char *nodev[] = { self->path, "relu", "-d", "63", NULL };
	const char *noperm[] = { self->path, "relu", NULL };
	unsigned int i;

	snprintf(self->path, sizeof(self->path), "%s/tools/tern-run", self->build);
	for (i = 0; i < ARRAY_SIZE(usage); i++) {
		EXPECT_EQ(2, run(usage[i], -1, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("case %u: %s", i, self->out);
		EXPECT_NE(0, self->err[0]) TH_LOG("case %u: no message", i);
		TH_LOG("%s", self->err);
	}
	EXPECT_EQ(1, run(nodev, -1, self->out, sizeof(self->out), self->err, sizeof(self->err)));
	EXPECT_NE(0, self->err[0]);
	EXPECT_EQ(1, run(noperm, NOBODY, self->out, sizeof(self->out), self->err,
			 sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "permission denied")) TH_LOG("stderr: %s", self->err);
}

/* The examples of lib/examples/ pass against their CPU references. */
TEST_F_TIMEOUT(prog, mlp_and_transformer_examples, 600)
{
	const char *mlp[] = { self->path, NULL };
	int rc;

	snprintf(self->path, sizeof(self->path), "%s/examples/mlp", self->build);
	rc = run(mlp, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_EQ(0, rc) TH_LOG("%s%s", self->out, self->err);
	tern_log_block("mlp:", self->out);
	EXPECT_NE(NULL, strstr(self->out, "PASS"));

	snprintf(self->path, sizeof(self->path), "%s/examples/transformer", self->build);
	rc = run(mlp, -1, self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_EQ(0, rc) TH_LOG("%s%s", self->out, self->err);
	tern_log_block("transformer:", self->out);
	EXPECT_NE(NULL, strstr(self->out, "max abs error"));
	EXPECT_NE(NULL, strstr(self->out, "PASS"));
}

TEST_HARNESS_MAIN
