// SPDX-License-Identifier: MIT
/*
 * tern_recover: the driver's one recovery path (Documentation/driver.rst,
 * "Recovery"). A recovery asked through debugfs "recover", a function
 * level reset through sysfs, and a DMA job past its timeout (the debugfs
 * dma_timeout_ms knob) each reset the device once, count it in sysfs
 * (resets, last_reset_reason), send a uevent, write a devcoredump, end
 * every job in flight (OK, or DRM_TERN_JOB_RESET; the culprit of a
 * timeout DRM_TERN_JOB_TIMEOUT) and leave every open file working: new
 * jobs of every process run and their data is right.
 */
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_copy_prog.h"

#define PAGE		4096ull
#define JOB_BYTES	(16ull << 20)	/* each DMA job of the load copies this */
#define LOAD_JOBS	256		/* DMA jobs each process submits */
#define READY_JOBS	8		/* ... of which these before it says it is ready */
#define TDR_COPIES	64		/* copies of one job of the timeout test */
#define LOAD_LAUNCHES	8		/* launches each process has in flight */
#define CHECK_BYTES	(1ull << 20)	/* the copy whose data is checked after */
#define UEVENT_WAIT_S	60
#define TEST_SECS	300

/* ---- uevents, devcoredumps, sysfs ---- */

/*
 * Wait for the kernel's RESET uevent of accel@minor with TERN_REASON=@reason;
 * returns its TERN_COREDUMP (0 or 1), or -1 if none came in time.
 */
static int uevent_wait_reset(int fd, unsigned int minor, const char *reason)
{
	char buf[8192], devpath[32], want[96];
	time_t end = time(NULL) + UEVENT_WAIT_S;

	snprintf(devpath, sizeof(devpath), "/accel%u", minor);
	snprintf(want, sizeof(want), "TERN_REASON=%s", reason);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int match_dev = 0, match_event = 0, match_reason = 0, dump = -1;
		ssize_t n;
		char *s;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (s = buf; s < buf + n; s += strlen(s) + 1) {
			size_t l = strlen(s);

			if (!strncmp(s, "DEVPATH=", 8) && l >= strlen(devpath) &&
			    !strcmp(s + l - strlen(devpath), devpath))
				match_dev = 1;
			else if (!strcmp(s, "TERN_EVENT=RESET"))
				match_event = 1;
			else if (!strcmp(s, want))
				match_reason = 1;
			else if (!strncmp(s, "TERN_COREDUMP=", 14))
				dump = atoi(s + 14);
		}
		if (match_dev && match_event && match_reason)
			return dump;
	}
	return -1;
}

static int debugfs_str(unsigned int minor, const char *file, const char *s)
{
	ssize_t n = tern_debugfs_write(minor, file, s, strlen(s));

	return n < 0 ? (int)n : 0;
}

/* ---- one client: BOs, load in flight, and a checked copy after ---- */

struct client {
	int fd;
	struct drm_tern_info info;
	uint32_t src, dst, back, tl, prog, status, tile_in, tile_out;
	void *src_p, *back_p, *prog_p, *status_p;
	size_t prog_size;
	uint64_t point;
};

static void client_open(struct __test_metadata *_metadata, struct client *c, unsigned int index)
{
	memset(c, 0, sizeof(*c));
	c->fd = tern_open_index(_metadata, index, NULL);
	ASSERT_EQ(0, tern_get_info(c->fd, &c->info));
	c->src_p = tern_bo_new(_metadata, c->fd, JOB_BYTES, DRM_TERN_BO_HOST, &c->src);
	ASSERT_EQ(0, tern_bo_create(c->fd, JOB_BYTES, DRM_TERN_BO_DEVICE, &c->dst));
	c->back_p = tern_bo_new(_metadata, c->fd, JOB_BYTES, DRM_TERN_BO_HOST, &c->back);
	c->tl = tern_timeline(_metadata, c->fd);
	if (c->info.num_cores) {
		c->prog_p = tern_bo_new(_metadata, c->fd, PAGE, DRM_TERN_BO_DEVICE, &c->prog);
		c->prog_size = copy_prog_init(c->prog_p, 1);
		c->status_p = tern_bo_new(_metadata, c->fd, PAGE * 4, DRM_TERN_BO_HOST, &c->status);
		ASSERT_EQ(0, tern_bo_create(c->fd, CP_BYTES, DRM_TERN_BO_DEVICE, &c->tile_in));
		ASSERT_EQ(0, tern_bo_create(c->fd, CP_BYTES, DRM_TERN_BO_DEVICE, &c->tile_out));
	}
}

static int client_exec(struct client *c, uint32_t core, uint32_t status_index)
{
	struct copy_exec ce;

	copy_exec_init(&ce, core, c->prog, c->prog_size, c->tile_in, c->tile_out);
	ce.e.status_handle = c->status;
	ce.e.status_offset = status_index * sizeof(struct tern_job_status);
	ce.e.out_syncobj = c->tl;
	ce.e.out_point = ++c->point;
	return tern_ioctl(c->fd, DRM_IOCTL_TERN_EXEC, &ce.e);
}

/*
 * Submit DMA jobs @from..@to-1 of the load, and launches among the first
 * LOAD_LAUNCHES; returns the first point, 0 on error. The DMA engines are
 * slower than the submitter: the ring fills, and the jobs stay in flight.
 */
static uint64_t client_load_range(struct __test_metadata *_metadata, struct client *c,
				  uint32_t queue, uint32_t core, int from, int to)
{
	uint64_t first = c->point + 1;
	int i, ret;

	if (!from)
		tern_fill(c->src_p, JOB_BYTES, tern_seed());
	for (i = from; i < to; i++) {
		ret = tern_submit_copy(c->fd, queue, c->dst, 0, c->src, 0, JOB_BYTES, c->tl,
				       ++c->point);
		EXPECT_EQ(0, ret) TH_LOG("SUBMIT %d: %s", i, strerror(-ret));
		if (ret)
			return 0;
		if (c->info.num_cores && i < LOAD_LAUNCHES) {
			ret = client_exec(c, core, i);
			EXPECT_EQ(0, ret) TH_LOG("EXEC %d: %s", i, strerror(-ret));
			if (ret)
				return 0;
		}
	}
	return first;
}

static uint64_t client_load(struct __test_metadata *_metadata, struct client *c,
			    uint32_t queue, uint32_t core)
{
	return client_load_range(_metadata, c, queue, core, 0, LOAD_JOBS);
}

/* @jobs jobs of TDR_COPIES copies of JOB_BYTES each on @queue. */
static uint64_t client_load_long(struct __test_metadata *_metadata, struct client *c,
				 uint32_t queue, int jobs)
{
	struct drm_tern_copy copies[TDR_COPIES];
	uint64_t first = c->point + 1;
	int i, j, ret;

	/*
	 * Every copy moves the whole JOB_BYTES again: a job of a GiB that
	 * takes the emulated chip far longer than the 1 ms (one tick) timeout,
	 * however fast the host is, and a recovery that catches it running.
	 */
	for (j = 0; j < TDR_COPIES; j++)
		tern_copy_set(&copies[j], c->dst, 0, c->src, 0, JOB_BYTES);
	for (i = 0; i < jobs; i++) {
		ret = tern_submit(c->fd, queue, copies, TDR_COPIES, c->tl, ++c->point);
		EXPECT_EQ(0, ret) TH_LOG("SUBMIT %d: %s", i, strerror(-ret));
		if (ret)
			return 0;
	}
	return first;
}

/*
 * Wait for every point from @first on: each must end OK or RESET (or, if
 * @allow_timeout, TIMEOUT). Counts the RESET ones.
 */
static int client_wait_all(struct __test_metadata *_metadata, struct client *c, uint64_t first,
			   int allow_timeout, int *timeouts)
{
	struct drm_tern_wait w;
	int resets = 0, ret;
	uint64_t p;

	for (p = first; p && p <= c->point; p++) {
		ret = tern_wait_result(c->fd, c->tl, p, TERN_WAIT_LONG, &w);
		EXPECT_EQ(0, ret) TH_LOG("WAIT point %llu: %s (a job hangs)",
					 (unsigned long long)p, strerror(-ret));
		if (ret)
			continue;
		if (w.status == DRM_TERN_JOB_RESET)
			resets++;
		else if (allow_timeout && w.status == DRM_TERN_JOB_TIMEOUT)
			++*timeouts;
		else
			EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, w.status)
				TH_LOG("point %llu: status %u code %u", (unsigned long long)p,
				       w.status, w.error_code);
	}
	return resets;
}

/* New jobs work: a copy there and back with its data checked, and a launch. */
static void client_check(struct __test_metadata *_metadata, struct client *c, uint32_t queue,
			 uint32_t core)
{
	struct tern_job_status *st = c->status_p;
	int64_t diff;
	int ret;

	tern_fill(c->src_p, CHECK_BYTES, tern_seed());
	memset(c->back_p, 0, CHECK_BYTES);
	ret = tern_submit_copy(c->fd, queue, c->dst, 0, c->src, 0, CHECK_BYTES, c->tl, ++c->point);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT after the recovery: %s", strerror(-ret));
	ret = tern_submit_copy(c->fd, queue, c->back, 0, c->dst, 0, CHECK_BYTES, c->tl,
			       ++c->point);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT after the recovery: %s", strerror(-ret));
	tern_wait_ok(_metadata, c->fd, c->tl, c->point);
	diff = tern_first_diff(c->src_p, c->back_p, CHECK_BYTES);
	ASSERT_EQ(-1, diff) TH_LOG("data differs at byte %lld after the recovery",
				   (long long)diff);

	if (!c->info.num_cores)
		return;
	memset(st, 0, sizeof(*st));
	ret = client_exec(c, core, 0);
	ASSERT_EQ(0, ret) TH_LOG("EXEC after the recovery: %s", strerror(-ret));
	tern_wait_ok(_metadata, c->fd, c->tl, c->point);
	ASSERT_EQ((uint32_t)TERN_JOB_OK, st->status);
}

/* ---- tests ---- */

/* No state: the fixture only gives the tests a timeout longer than 30 s. */
FIXTURE(rec) {
	int unused;
};

FIXTURE_SETUP(rec)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(rec)
{
}

struct dev_id {
	unsigned int minor;
	char pci[32];
	uint64_t resets;
};

static void dev_id_get(struct __test_metadata *_metadata, struct dev_id *d)
{
	int fd = tern_open_index(_metadata, 0, &d->minor);

	close(fd);
	tern_pci_address(d->minor, d->pci, sizeof(d->pci));
	d->resets = tern_sysfs_u64(d->minor, "resets");
	ASSERT_NE(UINT64_MAX, d->resets) TH_LOG("no sysfs tern/resets");
	/* A dump left by an earlier test would keep this test's out. */
	tern_coredump_take(d->pci, NULL);
}

static void expect_reason(struct __test_metadata *_metadata, struct dev_id *d, const char *reason)
{
	char buf[96];

	ASSERT_EQ(0, tern_sysfs_str(d->minor, "last_reset_reason", buf, sizeof(buf)));
	EXPECT_STREQ(reason, buf);
}

/* A recovery's uevent came, and its devcoredump names the reason (then it is freed). */
static void expect_report(struct __test_metadata *_metadata, struct dev_id *d, int ufd,
			  const char *reason)
{
	char want[96];
	int dump, got;

	dump = uevent_wait_reset(ufd, d->minor, reason);
	ASSERT_NE(-1, dump) TH_LOG("no uevent TERN_EVENT=RESET TERN_REASON=%s for accel%u",
				   reason, d->minor);
	snprintf(want, sizeof(want), "reason: %s", reason);
	got = tern_coredump_take(d->pci, want);
	EXPECT_NE(-1, got);
	if (dump == 1)
		EXPECT_LE(1, got) TH_LOG("the uevent says TERN_COREDUMP=1 but there is no dump");
	if (!got)
		TH_LOG("no devcoredump (TERN_COREDUMP=%d)", dump);
}

/*
 * Two processes with DMA copies and launches in flight; debugfs recover:
 * one reset, the uevent and dump, every job ends OK or RESET, and both
 * processes' files keep working.
 */
TEST_F_TIMEOUT(rec, debugfs_two_processes, TEST_SECS)
{
	int ready[2], ufd, status, i;
	char reason[96], msg[48];
	struct dev_id d;
	pid_t pid[2];

	dev_id_get(_metadata, &d);
	ufd = tern_uevent_open();
	ASSERT_LE(0, ufd) TH_LOG("uevent socket: %s", strerror(-ufd));
	ASSERT_EQ(0, pipe(ready));

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			uint32_t q, core;
			struct client c;
			uint64_t first;
			int resets, t = 0;

			close(ready[0]);
			client_open(_metadata, &c, 0);
			q = i % c.info.num_queues;
			core = c.info.num_cores ? i % c.info.num_cores : 0;
			first = client_load_range(_metadata, &c, q, core, 0, READY_JOBS);
			ASSERT_NE(0ull, first);
			ASSERT_EQ(1, write(ready[1], "r", 1));
			/* These overlap the recovery: they wait for it, or go in before. */
			ASSERT_NE(0ull, client_load_range(_metadata, &c, q, core, READY_JOBS,
							  LOAD_JOBS));
			resets = client_wait_all(_metadata, &c, first, 0, &t);
			fprintf(stderr, "# process %d: %d of %llu jobs ended RESET\n", i, resets,
				(unsigned long long)(c.point - first + 1));
			client_check(_metadata, &c, i % c.info.num_queues,
				     c.info.num_cores ? (i + 1) % c.info.num_cores : 0);
			_exit(_metadata->exit_code ? 1 : 0);
		}
	}
	close(ready[1]);
	for (i = 0; i < 2; i++) {
		char b;

		ASSERT_EQ(1, read(ready[0], &b, 1)) TH_LOG("a process failed before its load");
	}

	snprintf(msg, sizeof(msg), "kselftest-%d", getpid());
	snprintf(reason, sizeof(reason), "debugfs:%s", msg);
	ASSERT_EQ(0, debugfs_str(d.minor, "recover", msg));
	EXPECT_EQ(d.resets + 1, tern_sysfs_u64(d.minor, "resets"));
	expect_reason(_metadata, &d, reason);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("process %d failed (status 0x%x)", i, status);
	}
	expect_report(_metadata, &d, ufd, reason);
	close(ufd);
}

/* debugfs recover rejects a reason that is not [A-Za-z0-9._-], and resets nothing. */
TEST_F_TIMEOUT(rec, debugfs_bad_reason, TEST_SECS)
{
	struct dev_id d;

	dev_id_get(_metadata, &d);
	EXPECT_EQ(-EINVAL, debugfs_str(d.minor, "recover", "a/b"));
	EXPECT_EQ(d.resets, tern_sysfs_u64(d.minor, "resets"));
}

struct trigger {
	unsigned int minor;
	const char *text;
	int ret;
};

static void *trigger_thread(void *arg)
{
	struct trigger *t = arg;

	t->ret = debugfs_str(t->minor, "recover", t->text);
	return NULL;
}

/* Two triggers at once: one or two resets, never a wedge; the device works after. */
TEST_F_TIMEOUT(rec, concurrent_triggers, TEST_SECS)
{
	struct trigger t[2];
	pthread_t th[2];
	struct client c;
	struct dev_id d;
	uint64_t n, first;
	int i, x = 0;

	dev_id_get(_metadata, &d);
	client_open(_metadata, &c, 0);
	first = client_load(_metadata, &c, 0, 0);
	ASSERT_NE(0ull, first);
	for (i = 0; i < 2; i++) {
		t[i] = (struct trigger){ .minor = d.minor, .text = i ? "twin-b" : "twin-a" };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, trigger_thread, &t[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, t[i].ret);
	}
	n = tern_sysfs_u64(d.minor, "resets") - d.resets;
	EXPECT_TRUE(n == 1 || n == 2) TH_LOG("%llu resets for two triggers", (unsigned long long)n);
	client_wait_all(_metadata, &c, first, 0, &x);
	client_check(_metadata, &c, 0, 0);
	tern_coredump_take(d.pci, NULL);
	close(c.fd);
}

/* A function level reset through sysfs with a client and its jobs: the same recovery. */
TEST_F_TIMEOUT(rec, flr_live_client, TEST_SECS)
{
	char path[128];
	struct client c;
	struct dev_id d;
	uint64_t first;
	int ufd, ret, x = 0;

	dev_id_get(_metadata, &d);
	ufd = tern_uevent_open();
	ASSERT_LE(0, ufd);
	client_open(_metadata, &c, 0);
	first = client_load(_metadata, &c, 0, 0);
	ASSERT_NE(0ull, first);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", d.pci);
	ret = tern_write_file(path, "1");
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", path, strerror(-ret));
	EXPECT_EQ(d.resets + 1, tern_sysfs_u64(d.minor, "resets"));
	expect_reason(_metadata, &d, "flr");
	client_wait_all(_metadata, &c, first, 0, &x);
	client_check(_metadata, &c, 0, 0);
	expect_report(_metadata, &d, ufd, "flr");
	close(c.fd);
	close(ufd);
}

/*
 * TDR: with debugfs dma_timeout_ms at 1 ms, a large copy runs past its
 * timeout: it ends TIMEOUT (the chip had not finished it), the device is
 * recovered with reason dma-timeout, and the file keeps working.
 */
TEST_F_TIMEOUT(rec, dma_timeout, TEST_SECS)
{
	struct client c;
	struct dev_id d;
	uint64_t first, resets;
	int ufd, timeouts = 0, tries;

	dev_id_get(_metadata, &d);
	ufd = tern_uevent_open();
	ASSERT_LE(0, ufd);
	client_open(_metadata, &c, 0);
	ASSERT_EQ(0, debugfs_str(d.minor, "dma_timeout_ms", "1"));

	/* A job may finish within 1 ms; a few rounds make one that does not. */
	for (tries = 0; tries < 5 && !timeouts; tries++) {
		first = client_load_long(_metadata, &c, 0, 16);
		if (!first)
			break;
		client_wait_all(_metadata, &c, first, 1, &timeouts);
	}
	EXPECT_EQ(0, debugfs_str(d.minor, "dma_timeout_ms", "0"));
	ASSERT_LT(0, timeouts) TH_LOG("no DMA job exceeded a 1 ms timeout");
	resets = tern_sysfs_u64(d.minor, "resets") - d.resets;
	/*
	 * At most one recovery per job that timed out; the count can exceed
	 * the TIMEOUT statuses: a culprit the chip finished while it was
	 * being stopped completes OK.
	 */
	EXPECT_LE(1ull, resets);
	EXPECT_GE(16ull * tries, resets) TH_LOG("%llu resets in %d rounds of 16 jobs",
						(unsigned long long)resets, tries);
	expect_reason(_metadata, &d, "dma-timeout");
	TH_LOG("%d timed out, %llu resets, %llu lost completions so far", timeouts,
	       (unsigned long long)resets,
	       (unsigned long long)tern_sysfs_u64(d.minor, "lost_completions"));
	expect_report(_metadata, &d, ufd, "dma-timeout");
	tern_coredump_take(d.pci, NULL);
	client_check(_metadata, &c, 0, 0);
	close(c.fd);
	close(ufd);
}

TEST_HARNESS_MAIN
