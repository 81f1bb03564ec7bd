/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fault tests (tern_faults.c, tern_faults_ras.c): a
 * bystander process that runs verified jobs on the same chip while a fault
 * is injected, uevent and sysfs helpers, and a fixture on the first chip
 * (QEMU device tern0 of tests/vm/run-vm.sh test).
 *
 * The bystander is a forked process with its own open file: it copies a
 * fresh pattern host -> device -> host on one kernel queue and, with
 * compute, runs the copy program (tern_copy_prog.h) on one core between
 * two copies, and checks every byte. A job that ends DRM_TERN_JOB_RESET is
 * allowed only when the test says a device reset is the documented
 * response; the round is then submitted again and verified. Anything else
 * (another status, a wrong byte, an errno) fails the test.
 */
#ifndef TERN_FAULTS_H
#define TERN_FAULTS_H

#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_inject.h"
#include "tern_copy_prog.h"
#include "tern_regs.h"

#define FT_BYTES	(256ull << 10)	/* bystander copies and the tests' buffers */
#define FT_UEVENT_S	60		/* how long a uevent may take */
#define FT_TEST_SECS	300

/* ---- uevents ---- */

/*
 * Wait for a uevent of accel@minor that has every "KEY=VALUE" of @want
 * (NULL-terminated); 0 when it came, -1 if none in FT_UEVENT_S.
 */
static inline int ft_uevent_wait(int fd, unsigned int minor, const char *const *want)
{
	char buf[8192], devpath[32];
	time_t end = time(NULL) + FT_UEVENT_S;

	snprintf(devpath, sizeof(devpath), "/accel%u", minor);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int dev = 0, got = 0, nwant = 0, i;
		ssize_t n;
		char *s;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (i = 0; want[i]; i++)
			nwant++;
		for (s = buf; s < buf + n; s += strlen(s) + 1) {
			size_t l = strlen(s);

			if (!strncmp(s, "DEVPATH=", 8) && l >= strlen(devpath) &&
			    !strcmp(s + l - strlen(devpath), devpath))
				dev = 1;
			for (i = 0; want[i]; i++)
				if (!strcmp(s, want[i]))
					got++;
		}
		if (dev && got == nwant)
			return 0;
	}
	return -1;
}

/* ---- sysfs, debugfs, devcoredump ---- */

static inline void ft_expect_reason(struct __test_metadata *_metadata, unsigned int minor,
				    const char *reason)
{
	char buf[96];

	ASSERT_EQ(0, tern_sysfs_str(minor, "last_reset_reason", buf, sizeof(buf)));
	EXPECT_STREQ(reason, buf);
}

static inline int ft_debugfs_str(unsigned int minor, const char *file, const char *s)
{
	ssize_t n = tern_debugfs_write(minor, file, s, strlen(s));

	return n < 0 ? (int)n : 0;
}

/*
 * Poll sysfs tern/@attr until it is at least @want (an interrupt thread
 * may count a little after the job ended), at most FT_UEVENT_S; its value.
 */
static inline uint64_t ft_sysfs_wait(unsigned int minor, const char *attr, uint64_t want)
{
	time_t end = time(NULL) + FT_UEVENT_S;
	uint64_t v;

	do {
		v = tern_sysfs_u64(minor, attr);
		if (v != UINT64_MAX && v >= want)
			break;
		usleep(50 * 1000);
	} while (time(NULL) < end);
	return v;
}

/* A RESET uevent of accel@minor with TERN_REASON=@reason came. */
static inline void ft_expect_reset_uevent(struct __test_metadata *_metadata, int ufd,
					  unsigned int minor, const char *reason)
{
	char r[80];
	const char *want[] = { "TERN_EVENT=RESET", r, NULL };

	snprintf(r, sizeof(r), "TERN_REASON=%s", reason);
	EXPECT_EQ(0, ft_uevent_wait(ufd, minor, want))
		TH_LOG("no uevent TERN_EVENT=RESET %s for accel%u", r, minor);
}

/* ---- the bystander ---- */

struct ft_bystander {
	pid_t pid;
	int stop[2];		/* the parent closes [1]: stop */
	int result[2];		/* the child writes its counts */
};

struct ft_result {
	uint64_t rounds;	/* verified rounds */
	uint64_t resets;	/* jobs that ended RESET and were submitted again */
	int failed;		/* 1: a check failed (printed by the child) */
};

/* One job's end: 0 OK, 1 RESET (if allowed), -1 failure. */
static inline int ft_by_wait(int fd, uint32_t tl, uint64_t point, int allow_reset,
			     const char *what)
{
	uint32_t status, code;
	int ret;

	ret = tern_wait(fd, tl, point, TERN_WAIT_LONG, &status, &code);
	if (ret) {
		fprintf(stderr, "# bystander: WAIT %s: %s\n", what, strerror(-ret));
		return -1;
	}
	if (status == DRM_TERN_JOB_OK)
		return 0;
	if (allow_reset && status == DRM_TERN_JOB_RESET)
		return 1;
	fprintf(stderr, "# bystander: %s ended with status %u code %u\n", what, status, code);
	return -1;
}

struct ft_by_bufs {
	int fd;
	uint32_t src, dev, back, tl, prog, tout;
	void *src_p, *back_p;
	size_t prog_size;
	uint64_t point;
	uint64_t prev_seed;	/* of the last verified round, for diagnostics */
};

static inline int ft_by_bo(int fd, uint64_t size, uint32_t domain, uint32_t *h, void **p)
{
	if (tern_bo_create(fd, size, domain, h))
		return -1;
	if (!p)
		return 0;
	*p = tern_bo_mmap(fd, *h, size);
	return *p == MAP_FAILED ? -1 : 0;
}

static inline int ft_by_setup(struct ft_by_bufs *b, unsigned int minor, int compute)
{
	struct drm_syncobj_create sc = { .flags = 0 };
	char path[64];
	void *prog_p;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "/dev/accel/accel%u", minor);
	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		return -1;
	if (ft_by_bo(b->fd, FT_BYTES, DRM_TERN_BO_HOST, &b->src, &b->src_p) ||
	    ft_by_bo(b->fd, FT_BYTES, DRM_TERN_BO_DEVICE, &b->dev, NULL) ||
	    ft_by_bo(b->fd, FT_BYTES, DRM_TERN_BO_HOST, &b->back, &b->back_p))
		return -1;
	if (ioctl(b->fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc))
		return -1;
	b->tl = sc.handle;
	if (!compute)
		return 0;
	if (ft_by_bo(b->fd, 4096, DRM_TERN_BO_DEVICE, &b->prog, &prog_p) ||
	    ft_by_bo(b->fd, CP_BYTES, DRM_TERN_BO_DEVICE, &b->tout, NULL))
		return -1;
	b->prog_size = copy_prog_init(prog_p, 1);
	return 0;
}

/* Bytes of [0, n) where a and b differ. */
static inline uint64_t ft_count_diff(const unsigned char *a, const unsigned char *b, uint64_t n)
{
	uint64_t c = 0;

	for (uint64_t i = 0; i < n; i++)
		c += a[i] != b[i];
	return c;
}

/* What a wrong round got: which part differs, and whether it is old data. */
static inline void ft_by_explain(struct ft_by_bufs *b, int compute, uint64_t seed, uint64_t p_in,
				 uint64_t p_exec, uint64_t p_out)
{
	uint64_t split = compute ? CP_BYTES : FT_BYTES, zeros = 0;
	unsigned char *prev = malloc(FT_BYTES);
	const unsigned char *got = b->back_p;

	if (!prev)
		return;
	fprintf(stderr, "# bystander: seed 0x%llx points in %llu exec %llu out %llu\n",
		(unsigned long long)seed, (unsigned long long)p_in,
		(unsigned long long)p_exec, (unsigned long long)p_out);
	fprintf(stderr, "# bystander: [0, 0x%llx) %llu bytes differ, [0x%llx, 0x%llx) %llu\n",
		(unsigned long long)split,
		(unsigned long long)ft_count_diff(b->src_p, got, split),
		(unsigned long long)split, (unsigned long long)FT_BYTES,
		(unsigned long long)ft_count_diff((unsigned char *)b->src_p + split, got + split,
						  FT_BYTES - split));
	for (uint64_t i = 0; i < split; i++)
		zeros += !got[i];
	fprintf(stderr, "# bystander: got %02x %02x %02x %02x, zero bytes in the first part %llu\n",
		got[0], got[1], got[2], got[3], (unsigned long long)zeros);
	if (b->prev_seed) {
		tern_fill(prev, FT_BYTES, b->prev_seed);
		fprintf(stderr, "# bystander: vs the previous round's data: %llu and %llu bytes differ\n",
			(unsigned long long)ft_count_diff(prev, got, split),
			(unsigned long long)ft_count_diff(prev + split, got + split,
							  FT_BYTES - split));
	}
	free(prev);
}

/*
 * One round: src -> dev on @queue; with compute, the program copies the
 * first CP_BYTES of dev to tout on @core and tout goes back to back[0..];
 * dev[CP_BYTES..] goes back as is. 0 verified, 1 a job ended RESET, -1 bad.
 */
static inline int ft_by_round(struct ft_by_bufs *b, uint32_t queue, int core, int allow_reset)
{
	uint64_t seed = tern_seed(), p_in, p_exec = 0, p_out;
	int r, reset = 0;
	int64_t diff;

	tern_fill(b->src_p, FT_BYTES, seed);
	memset(b->back_p, 0, FT_BYTES);
	if (tern_submit_copy(b->fd, queue, b->dev, 0, b->src, 0, FT_BYTES, b->tl, ++b->point))
		return -1;
	p_in = b->point;
	r = ft_by_wait(b->fd, b->tl, p_in, allow_reset, "copy in");
	if (r)
		return r;
	if (core >= 0) {
		struct copy_exec ce;

		copy_exec_init(&ce, core, b->prog, b->prog_size, b->dev, b->tout);
		ce.e.out_syncobj = b->tl;
		ce.e.out_point = ++b->point;
		if (tern_ioctl(b->fd, DRM_IOCTL_TERN_EXEC, &ce.e)) {
			fprintf(stderr, "# bystander: EXEC: %s\n", strerror(errno));
			return -1;
		}
		p_exec = b->point;
		r = ft_by_wait(b->fd, b->tl, p_exec, allow_reset, "launch");
		if (r)
			return r;
		/*
		 * Each point is waited for before the next is submitted: once a
		 * later point exists, the DRM core may drop a signalled one from
		 * the chain, and WAIT then reports an older point's status
		 * (Documentation/uapi.rst, WAIT): a copy that ended RESET in a
		 * recovery would read as OK.
		 */
		if (tern_submit_copy(b->fd, queue, b->back, 0, b->tout, 0, CP_BYTES, b->tl,
				     ++b->point))
			return -1;
		r = ft_by_wait(b->fd, b->tl, b->point, allow_reset, "copy out");
		reset |= r == 1;
		if (r < 0)
			return r;
		if (tern_submit_copy(b->fd, queue, b->back, CP_BYTES, b->dev, CP_BYTES,
				     FT_BYTES - CP_BYTES, b->tl, ++b->point))
			return -1;
	} else {
		if (tern_submit_copy(b->fd, queue, b->back, 0, b->dev, 0, FT_BYTES, b->tl,
				     ++b->point))
			return -1;
	}
	p_out = b->point;
	r = ft_by_wait(b->fd, b->tl, p_out, allow_reset, "copy out");
	if (r || reset)
		return r < 0 ? r : 1;
	diff = tern_first_diff(b->src_p, b->back_p, FT_BYTES);
	if (diff >= 0) {
		fprintf(stderr, "# bystander: data differs at byte %lld\n", (long long)diff);
		ft_by_explain(b, core >= 0, seed, p_in, p_exec, p_out);
		return -1;
	}
	b->prev_seed = seed;
	return 0;
}

static inline void ft_by_child(struct ft_bystander *by, unsigned int minor, uint32_t queue,
			       int core, int allow_reset)
{
	struct ft_result res = { 0 };
	struct ft_by_bufs b;

	close(by->stop[1]);
	close(by->result[0]);
	if (ft_by_setup(&b, minor, core >= 0)) {
		fprintf(stderr, "# bystander: setup: %s\n", strerror(errno));
		res.failed = 1;
	}
	/* Tell the parent it runs: the first result byte. */
	if (write(by->result[1], "r", 1) != 1)
		_exit(2);
	while (!res.failed) {
		struct pollfd p = { .fd = by->stop[0], .events = POLLIN };
		int r = ft_by_round(&b, queue, core, allow_reset);

		if (r < 0)
			res.failed = 1;
		else if (r == 1)
			res.resets++;
		else
			res.rounds++;
		/* Stop once asked, after at least one verified round. */
		if (res.rounds && poll(&p, 1, 0) > 0)
			break;
	}
	if (write(by->result[1], &res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(res.failed);
}

/*
 * Start a bystander on accel@minor: DMA on kernel queue @queue, launches on
 * core @core (-1: none). Returns once it has its buffers.
 */
static inline int ft_bystander_start(struct ft_bystander *by, unsigned int minor,
				     uint32_t queue, int core, int allow_reset)
{
	char c;

	if (pipe(by->stop) || pipe(by->result))
		return -errno;
	by->pid = fork();
	if (by->pid < 0)
		return -errno;
	if (!by->pid)
		ft_by_child(by, minor, queue, core, allow_reset);
	close(by->stop[0]);
	close(by->result[1]);
	if (read(by->result[0], &c, 1) != 1)
		return -EIO;
	return 0;
}

/* Stop it (after its round in progress) and collect its counts; 0 if all held. */
static inline int ft_bystander_stop(struct ft_bystander *by, struct ft_result *res)
{
	int status;

	memset(res, 0, sizeof(*res));
	close(by->stop[1]);
	if (read(by->result[0], res, sizeof(*res)) != sizeof(*res))
		res->failed = 1;
	close(by->result[0]);
	if (waitpid(by->pid, &status, 0) != by->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		res->failed = 1;
	return res->failed ? -1 : 0;
}

/* ---- the fixture: the first chip, a timeline, and the counters before ---- */

FIXTURE(faults) {
	int fd;
	unsigned int minor;
	char pci[32];
	struct drm_tern_info info;
	uint32_t tl;
	uint64_t point;
	uint64_t injected, resets, lost;
	int ufd;
	struct ft_bystander by;
	int by_running;
	int dma_timeout_set;	/* debugfs dma_timeout_ms changed: put back 0 */
};

FIXTURE_SETUP(faults)
{
	int ret;

	self->by_running = 0;
	self->dma_timeout_set = 0;
	self->ufd = -1;
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	tern_pci_address(self->minor, self->pci, sizeof(self->pci));
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
	ret = tern_inject_faults(0, &self->injected);
	if (ret == -ENOSYS)
		SKIP(return, "%s", tern_vm_error());
	ASSERT_EQ(0, ret) TH_LOG("faults-injected: %s", tern_vm_error());
	self->resets = tern_sysfs_u64(self->minor, "resets");
	self->lost = tern_sysfs_u64(self->minor, "lost_completions");
	ASSERT_NE(UINT64_MAX, self->resets);
	self->ufd = tern_uevent_open();
	ASSERT_LE(0, self->ufd) TH_LOG("uevent socket: %s", strerror(-self->ufd));
}

FIXTURE_TEARDOWN(faults)
{
	struct ft_result res;
	uint64_t now = 0;

	/* For the figures of Documentation/reliability.rst. */
	if (self->ufd >= 0 && !tern_inject_faults(0, &now))
		TH_LOG("faults injected by this test: %llu",
		       (unsigned long long)(now - self->injected));

	if (self->by_running)
		ft_bystander_stop(&self->by, &res);
	if (self->dma_timeout_set)
		tern_debugfs_write(self->minor, "dma_timeout_ms", "0", 1);
	if (self->ufd >= 0)
		close(self->ufd);
	if (self->fd >= 0)
		close(self->fd);
}

/* Start the fixture's bystander (see ft_bystander_start()). */
#define FT_BYSTANDER(queue, core, allow_reset) do {					\
	ASSERT_EQ(0, ft_bystander_start(&self->by, self->minor, (queue), (core),	\
					(allow_reset)));				\
	self->by_running = 1;								\
} while (0)

/* Stop it: every one of its results was right. */
#define FT_BYSTANDER_CHECK() do {							\
	struct ft_result _r;								\
											\
	self->by_running = 0;								\
	EXPECT_EQ(0, ft_bystander_stop(&self->by, &_r))					\
		TH_LOG("the other process's jobs went wrong (see its lines above)");	\
	TH_LOG("other process: %llu rounds verified, %llu jobs RESET and redone",	\
	       (unsigned long long)_r.rounds, (unsigned long long)_r.resets);		\
	EXPECT_LT(0ull, _r.rounds);							\
} while (0)

/* Faults that took effect since the fixture started: @n. */
#define FT_EXPECT_INJECTED(n) do {							\
	uint64_t _now;									\
											\
	ASSERT_EQ(0, tern_inject_faults(0, &_now)) TH_LOG("%s", tern_vm_error());	\
	EXPECT_EQ(self->injected + (n), _now);						\
} while (0)

/* A copy job on @queue signalling the next point; its status and code. */
static inline void ft_copy(struct __test_metadata *_metadata, int fd, uint32_t tl,
			   uint64_t *point, uint32_t queue, uint32_t dst, uint64_t dst_off,
			   uint32_t src, uint64_t src_off, uint64_t size, uint32_t *status,
			   uint32_t *code)
{
	int ret;

	ret = tern_submit_copy(fd, queue, dst, dst_off, src, src_off, size, tl, ++*point);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT on queue %u: %s", queue, strerror(-ret));
	ret = tern_wait(fd, tl, *point, TERN_WAIT_LONG, status, code);
	ASSERT_EQ(0, ret) TH_LOG("WAIT point %llu: %s", (unsigned long long)*point,
				 strerror(-ret));
}

/* Host BOs src (a pattern) and dst (zeros) of FT_BYTES. */
static inline void ft_host_bos(struct __test_metadata *_metadata, int fd, uint32_t *hs,
			       uint32_t *hd, unsigned char **src, unsigned char **dst)
{
	*src = tern_bo_new(_metadata, fd, FT_BYTES, DRM_TERN_BO_HOST, hs);
	*dst = tern_bo_new(_metadata, fd, FT_BYTES, DRM_TERN_BO_HOST, hd);
	tern_fill(*src, FT_BYTES, tern_seed());
	memset(*dst, 0, FT_BYTES);
}

/* Compute side of the tests: the copy program from tile @in to tile @out. */
struct prog {
	uint32_t prog, in, out, host, status;
	void *host_p;
	struct tern_job_status *status_p;
	size_t size;
};

static inline void prog_setup(struct __test_metadata *_metadata, int fd, struct prog *p)
{
	void *prog_p = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_DEVICE, &p->prog);

	p->size = copy_prog_init(prog_p, 1);
	ASSERT_EQ(0, tern_bo_create(fd, CP_BYTES, DRM_TERN_BO_DEVICE, &p->in));
	ASSERT_EQ(0, tern_bo_create(fd, CP_BYTES, DRM_TERN_BO_DEVICE, &p->out));
	p->host_p = tern_bo_new(_metadata, fd, 2 * CP_BYTES, DRM_TERN_BO_HOST, &p->host);
	p->status_p = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_HOST, &p->status);
}

static inline int prog_exec(int fd, struct prog *p, uint32_t core, uint64_t timeout_ns, uint32_t tl,
		     uint64_t point)
{
	struct copy_exec ce;

	copy_exec_init(&ce, core, p->prog, p->size, p->in, p->out);
	ce.e.timeout_ns = timeout_ns;
	ce.e.status_handle = p->status;
	ce.e.out_syncobj = tl;
	ce.e.out_point = point;
	return tern_ioctl(fd, DRM_IOCTL_TERN_EXEC, &ce.e);
}

/* A pattern into tile in (host[0..CP_BYTES) holds it); out cleared from host zeros. */
static inline void prog_fill(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
		      struct prog *p)
{
	uint32_t status, code;

	tern_fill(p->host_p, CP_BYTES, tern_seed());
	memset((char *)p->host_p + CP_BYTES, 0, CP_BYTES);
	ft_copy(_metadata, self->fd, self->tl, &self->point, 0, p->in, 0, p->host, 0, CP_BYTES,
		&status, &code);
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	ft_copy(_metadata, self->fd, self->tl, &self->point, 0, p->out, 0, p->host, CP_BYTES,
		CP_BYTES, &status, &code);
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
}

/* Tile out back into host[CP_BYTES..]: equal to the pattern. */
static inline void prog_check(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
		       struct prog *p)
{
	uint32_t status, code;

	ft_copy(_metadata, self->fd, self->tl, &self->point, 0, p->host, CP_BYTES, p->out, 0,
		CP_BYTES, &status, &code);
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	EXPECT_EQ(-1, tern_first_diff(p->host_p, (char *)p->host_p + CP_BYTES, CP_BYTES))
		TH_LOG("the launch's output is wrong");
}

/* One launch on @core: its WAIT status and code. */
static inline void prog_run(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
		     struct prog *p, uint32_t core, uint64_t timeout_ns, uint32_t *status,
		     uint32_t *code)
{
	int ret = prog_exec(self->fd, p, core, timeout_ns, self->tl, ++self->point);

	ASSERT_EQ(0, ret) TH_LOG("EXEC on core %u: %s", core, strerror(-ret));
	ret = tern_wait(self->fd, self->tl, self->point, TERN_WAIT_LONG, status, code);
	ASSERT_EQ(0, ret) TH_LOG("WAIT: %s", strerror(-ret));
}

#endif /* TERN_FAULTS_H */
