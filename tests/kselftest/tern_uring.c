// SPDX-License-Identifier: MIT
/*
 * io_uring submission (IORING_OP_URING_CMD, UAPI 1.2): DMA copies in
 * batches of 32 verified byte for byte, EXEC of a program that completes
 * and of one that faults, WAIT on a fence that signals later and on one
 * already signalled, every rejected command, cancellation when the ring or
 * its task goes away while jobs run, and the owner check after fork().
 *
 * liburing 2.3 has no uring_cmd helper: the SQEs are filled by hand.
 */
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define RING_FLAGS	(IORING_SETUP_SQE128 | IORING_SETUP_CQE32)
#define RING_ENTRIES	64u
#define CMD_AREA	80u	/* command bytes of a 128-byte SQE */
#define BATCH		32u
#define CHUNK		(32u << 10)
#define BUF_SIZE	(BATCH * CHUNK)
#define PROG_BO_SIZE	(8u << 20)
#define STATUS_BO_SIZE	4096u
/* The long job: an N x N fp32 matmul (seconds of work), cut off by its timeout. */
#define LONG_N		4096u
#define LONG_TIMEOUT_NS	(4ull * 1000 * 1000 * 1000)
/* A host BO of this size marks a file: it is freed when the file is released. */
#define MARKER_SIZE	(19u * 4096)

/* What a test keeps of one CQE. */
struct cqe {
	uint64_t user_data;
	int32_t res;
	uint64_t big[2];
};

static int ring_init(struct io_uring *ring, unsigned int flags)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	return io_uring_queue_init_params(RING_ENTRIES, ring, &p);
}

/*
 * A uring_cmd SQE: opcode, fd, cmd_op, user_data, and @len bytes of
 * @payload at sqe->cmd (at most 80 bytes on an SQE128 ring, 16 otherwise);
 * everything else zero.
 */
static struct io_uring_sqe *cmd_sqe(struct io_uring *ring, int fd, uint32_t op,
				    const void *payload, size_t len, uint64_t user_data)
{
	size_t sqe_size = ring->flags & IORING_SETUP_SQE128 ? 128 : 64;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return NULL;
	memset(sqe, 0, sqe_size);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = user_data;
	if (len)
		memcpy(sqe->cmd, payload, len);
	return sqe;
}

static int reap(struct io_uring *ring, struct cqe *out)
{
	struct io_uring_cqe *c;
	int ret;

	do {
		ret = io_uring_wait_cqe(ring, &c);
	} while (ret == -EINTR);
	if (ret)
		return ret;
	out->user_data = c->user_data;
	out->res = c->res;
	out->big[0] = out->big[1] = 0;
	if (ring->flags & IORING_SETUP_CQE32) {
		out->big[0] = c->big_cqe[0];
		out->big[1] = c->big_cqe[1];
	}
	io_uring_cqe_seen(ring, c);
	return 0;
}

/* A CQE if one is there now: 0, or -EAGAIN. */
static int peek(struct io_uring *ring, struct cqe *out)
{
	struct io_uring_cqe *c;
	int ret;

	ret = io_uring_peek_cqe(ring, &c);
	if (ret)
		return ret;
	out->user_data = c->user_data;
	out->res = c->res;
	out->big[0] = c->big_cqe[0];
	out->big[1] = c->big_cqe[1];
	io_uring_cqe_seen(ring, c);
	return 0;
}

/* One command, submitted alone, and its CQE. */
static int run_cmd(struct io_uring *ring, int fd, uint32_t op, const void *payload, size_t len,
		   struct cqe *out)
{
	int ret;

	if (!cmd_sqe(ring, fd, op, payload, len, 0x5151))
		return -EBUSY;
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	return reap(ring, out);
}

static uint64_t status_word(uint32_t status, uint32_t code)
{
	return status | (uint64_t)code << 32;
}

/* ---- kernel log: no warning while a test ran ---- */

static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Kernel messages since kmsg_open() that report a bug; logged, counted. */
static int kmsg_bad(int fd)
{
	static const char *const bad[] = { "WARNING", "BUG", "Call Trace", "refcount_t",
					   "use-after-free", "list_del corruption" };
	char rec[4096];
	int n = 0;
	ssize_t len;

	if (fd < 0)
		return 0;
	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (len <= 0)
			break;
		rec[len] = '\0';
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				fprintf(stderr, "# kernel: %s", rec);
				n++;
				break;
			}
		}
	}
	close(fd);
	return n;
}

/* ---- device setup ---- */

struct dev {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t syncobj, prog, status, in, out;
	void *prog_map, *status_map;
};

static void dev_open(struct __test_metadata *_metadata, struct dev *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = tern_open_index(_metadata, 0, &d->minor);
	ASSERT_EQ(0, tern_get_info(d->fd, &d->info));
	ASSERT_EQ(0, drmSyncobjCreate(d->fd, 0, &d->syncobj));
}

/* Program, status, and the long job's input and output buffers. */
static void dev_exec_bos(struct __test_metadata *_metadata, struct dev *d)
{
	ASSERT_NE(0, d->info.caps & TERN_CAP_COMPUTE);
	ASSERT_LE(1, d->info.num_cores);
	d->prog_map = tern_bo_new(_metadata, d->fd, PROG_BO_SIZE, DRM_TERN_BO_DEVICE, &d->prog);
	d->status_map = tern_bo_new(_metadata, d->fd, STATUS_BO_SIZE, DRM_TERN_BO_HOST,
				    &d->status);
	ASSERT_EQ(0, tern_bo_create(d->fd, 2ull * LONG_N * LONG_N * 4, DRM_TERN_BO_DEVICE,
				    &d->in));
	ASSERT_EQ(0, tern_bo_create(d->fd, (uint64_t)LONG_N * LONG_N * 4, DRM_TERN_BO_DEVICE,
				    &d->out));
}

struct hand_prog {
	struct tern_prog_header h;
	union tern_insn insn[4];
};

/* Vector stream NOP, @mid, END in d->prog at @offset; returns its EXEC size. */
static uint64_t load_hand_prog(struct dev *d, uint64_t offset, uint8_t mid)
{
	struct hand_prog p;

	memset(&p, 0, sizeof(p));
	p.h.magic = TERN_PROG_MAGIC;
	p.h.version = TERN_ISA_VERSION;
	p.h.size = TERN_PROG_HEADER_SIZE + 3 * TERN_INSN_SIZE;
	p.h.stream[TERN_ENGINE_VECTOR].offset = TERN_PROG_HEADER_SIZE;
	p.h.stream[TERN_ENGINE_VECTOR].count = 3;
	p.insn[0].h.opcode = TERN_OP_NOP;
	p.insn[1].h.opcode = mid;
	p.insn[2].h.opcode = TERN_OP_END;
	memcpy((char *)d->prog_map + offset, &p, p.h.size);
	return (p.h.size + 63) & ~63ull;
}

/* EXEC args for the program at @offset of d->prog, no slots. */
static void exec_args(struct dev *d, struct drm_tern_exec *e, uint64_t offset, uint64_t size,
		      uint32_t syncobj)
{
	memset(e, 0, sizeof(*e));
	e->program_handle = d->prog;
	e->program_offset = offset;
	e->program_size = size;
	e->status_handle = d->status;
	e->out_syncobj = syncobj;
}

/*
 * The long job's program at offset 0 of d->prog, and its EXEC args with
 * @slots (slot 0 = A then B, slot 1 = C). It runs for seconds, or until
 * LONG_TIMEOUT_NS cuts it off.
 */
static void long_exec_args(struct __test_metadata *_metadata, struct dev *d,
			   struct drm_tern_exec *e, struct drm_tern_slot *slots, uint32_t syncobj)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, LONG_N, LONG_N);
	struct tern_tensor b = tern_tensor_2d(0, TERN_DT_FP32, LONG_N, LONG_N);
	struct tern_tensor c = tern_tensor_2d(1, TERN_DT_FP32, LONG_N, LONG_N);
	struct tern_program *p;
	const void *img;
	size_t size;

	b.offset = (uint64_t)LONG_N * LONG_N * 4;
	ASSERT_EQ(0, tern_prog_create(d->info.sbuf_size, &p)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_op_matmul(p, &c, &a, &b)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(p, &img, &size)) TH_LOG("%s", tern_last_error());
	ASSERT_GE(PROG_BO_SIZE, size);
	memcpy(d->prog_map, img, size);
	tern_prog_free(p);

	exec_args(d, e, 0, (size + 63) & ~(uint64_t)63, syncobj);
	memset(slots, 0, 2 * sizeof(*slots));
	slots[0].handle = d->in;
	slots[0].size = 2ull * LONG_N * LONG_N * 4;
	slots[1].handle = d->out;
	slots[1].size = (uint64_t)LONG_N * LONG_N * 4;
	e->slots = (uintptr_t)slots;
	e->slot_count = 2;
	e->status_handle = 0;
	e->timeout_ns = LONG_TIMEOUT_NS;
}

/* 1 when the fence at @point of @syncobj has signalled, 0 when not yet. */
static int signalled(int fd, uint32_t syncobj, uint64_t point)
{
	int ret = tern_wait(fd, syncobj, point, 0, NULL, NULL);

	return ret == 0 ? 1 : ret == -ETIME ? 0 : ret;
}

/* A small copy through io_uring on a new ring, verified: the device works. */
static void expect_device_usable(struct __test_metadata *_metadata, int fd)
{
	struct drm_tern_submit s;
	struct drm_tern_copy c;
	struct io_uring ring;
	uint32_t src, dst;
	unsigned char *sp, *dp;
	struct cqe q;

	ASSERT_EQ(0, ring_init(&ring, RING_FLAGS));
	sp = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_HOST, &src);
	dp = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_HOST, &dst);
	tern_fill(sp, 4096, tern_seed());
	memset(dp, 0, 4096);
	tern_copy_set(&c, dst, 0, src, 0, 4096);
	memset(&s, 0, sizeof(s));
	s.copies = (uintptr_t)&c;
	s.copy_count = 1;
	ASSERT_EQ(0, run_cmd(&ring, fd, DRM_TERN_URING_SUBMIT, &s, sizeof(s), &q));
	EXPECT_EQ(0, q.res);
	EXPECT_EQ(0, q.big[0]);
	EXPECT_EQ(-1, tern_first_diff(sp, dp, 4096));
	io_uring_queue_exit(&ring);
	munmap(sp, 4096);
	munmap(dp, 4096);
	tern_bo_close(fd, src);
	tern_bo_close(fd, dst);
}

FIXTURE(uring) {
	struct dev d;
	struct io_uring ring;
	int kmsg;
};

FIXTURE_SETUP(uring)
{
	self->kmsg = kmsg_open();
	dev_open(_metadata, &self->d);
	ASSERT_EQ(0, ring_init(&self->ring, RING_FLAGS));
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	if (self->d.fd > 0)
		close(self->d.fd);
	EXPECT_EQ(0, kmsg_bad(self->kmsg));
}

/* ---- DMA copies ---- */

/* BATCH copies of CHUNK bytes each, in flight together, then all reaped. */
static void copy_batch(struct __test_metadata *_metadata, struct io_uring *ring, struct dev *d,
		       uint32_t dst, uint32_t src, struct drm_tern_copy *copies)
{
	uint32_t seen = 0;
	struct cqe q;

	for (uint32_t i = 0; i < BATCH; i++) {
		struct drm_tern_submit s;

		tern_copy_set(&copies[i], dst, (uint64_t)i * CHUNK, src, (uint64_t)i * CHUNK,
			      CHUNK);
		memset(&s, 0, sizeof(s));
		s.copies = (uintptr_t)&copies[i];
		s.copy_count = 1;
		s.queue = i % d->info.num_queues;
		ASSERT_NE(NULL, cmd_sqe(ring, d->fd, DRM_TERN_URING_SUBMIT, &s, sizeof(s),
					1000 + i));
	}
	ASSERT_EQ((int)BATCH, io_uring_submit(ring));
	for (uint32_t i = 0; i < BATCH; i++) {
		ASSERT_EQ(0, reap(ring, &q));
		ASSERT_LE(1000, q.user_data);
		ASSERT_GT(1000 + BATCH, q.user_data);
		EXPECT_EQ(0, q.res) TH_LOG("copy %llu: %s", (unsigned long long)q.user_data - 1000,
					   strerror(-q.res));
		EXPECT_EQ(status_word(DRM_TERN_JOB_OK, 0), q.big[0]);
		EXPECT_EQ(0, q.big[1]);
		EXPECT_EQ(0, seen & 1u << (q.user_data - 1000)) TH_LOG("two CQEs for one copy");
		seen |= 1u << (q.user_data - 1000);
	}
	EXPECT_EQ(0xffffffffu, seen);
}

TEST_F(uring, copies_in_batches_of_32)
{
	static struct drm_tern_copy copies[BATCH];
	uint32_t src, mid, dst;
	unsigned char *sp, *dp;

	sp = tern_bo_new(_metadata, self->d.fd, BUF_SIZE, DRM_TERN_BO_HOST, &src);
	dp = tern_bo_new(_metadata, self->d.fd, BUF_SIZE, DRM_TERN_BO_HOST, &dst);
	ASSERT_EQ(0, tern_bo_create(self->d.fd, BUF_SIZE, DRM_TERN_BO_DEVICE, &mid));
	tern_fill(sp, BUF_SIZE, tern_seed());
	memset(dp, 0, BUF_SIZE);

	/* host -> device, then device -> host: 64 jobs, 32 at a time */
	copy_batch(_metadata, &self->ring, &self->d, mid, src, copies);
	copy_batch(_metadata, &self->ring, &self->d, dst, mid, copies);
	EXPECT_EQ(-1, tern_first_diff(sp, dp, BUF_SIZE));
	munmap(sp, BUF_SIZE);
	munmap(dp, BUF_SIZE);
}

TEST_F(uring, submit_attaches_out_syncobj)
{
	uint32_t src, dst, tl, status = 99;
	struct drm_tern_submit s;
	struct drm_tern_copy c;
	struct cqe q;

	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_HOST, &src));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_DEVICE, &dst));
	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &tl));
	tern_copy_set(&c, dst, 0, src, 0, 4096);
	memset(&s, 0, sizeof(s));
	s.copies = (uintptr_t)&c;
	s.copy_count = 1;
	s.out_syncobj = tl;
	s.out_point = 7;
	ASSERT_EQ(0, run_cmd(&self->ring, self->d.fd, DRM_TERN_URING_SUBMIT, &s, sizeof(s), &q));
	EXPECT_EQ(0, q.res);
	/* The CQE came after the fence: the point is there and signalled. */
	EXPECT_EQ(1, signalled(self->d.fd, tl, 7));
	EXPECT_EQ(0, tern_wait(self->d.fd, tl, 7, TERN_WAIT_LONG, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
}

/* ---- EXEC ---- */

TEST_F(uring, exec_nop_program_completes_ok)
{
	struct tern_job_status *st;
	struct drm_tern_uring_exec u;
	struct drm_tern_exec e;
	struct cqe q;

	dev_exec_bos(_metadata, &self->d);
	st = self->d.status_map;
	memset(st, 0xa5, STATUS_BO_SIZE);
	for (uint32_t core = 0; core < self->d.info.num_cores; core++) {
		exec_args(&self->d, &e, 0, load_hand_prog(&self->d, 0, TERN_OP_NOP), 0);
		e.core = core;
		memset(&u, 0, sizeof(u));
		u.exec = (uintptr_t)&e;
		ASSERT_NE(NULL, cmd_sqe(&self->ring, self->d.fd, DRM_TERN_URING_EXEC, &u,
					sizeof(u), core));
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		/* Read at submission: what it points to may change after. */
		memset(&e, 0xff, sizeof(e));
		ASSERT_EQ(0, reap(&self->ring, &q));
		EXPECT_EQ(core, q.user_data);
		EXPECT_EQ(0, q.res) TH_LOG("core %u: %s", core, strerror(-q.res));
		EXPECT_EQ(status_word(DRM_TERN_JOB_OK, 0), q.big[0]);
		EXPECT_EQ(0, q.big[1]);
		EXPECT_EQ((uint32_t)TERN_JOB_OK, st->status);
		EXPECT_EQ(3, st->insns[TERN_ENGINE_VECTOR]);
		memset(st, 0xa5, STATUS_BO_SIZE);
	}
}

TEST_F(uring, exec_fault_completes_with_eio_and_status)
{
	struct drm_tern_uring_exec u;
	struct drm_tern_exec e;
	struct cqe q;

	dev_exec_bos(_metadata, &self->d);
	exec_args(&self->d, &e, 0, load_hand_prog(&self->d, 0, 0x7f), self->d.syncobj);
	memset(&u, 0, sizeof(u));
	u.exec = (uintptr_t)&e;
	ASSERT_EQ(0, run_cmd(&self->ring, self->d.fd, DRM_TERN_URING_EXEC, &u, sizeof(u), &q));
	EXPECT_EQ(-EIO, q.res);
	EXPECT_EQ(status_word(DRM_TERN_JOB_FAULT, TERN_CERR_ILLEGAL_OPCODE), q.big[0]);
	EXPECT_EQ(0, q.big[1]);
	EXPECT_EQ((uint32_t)TERN_JOB_FAULT, ((struct tern_job_status *)self->d.status_map)->status);

	/* The core goes on. */
	exec_args(&self->d, &e, 0, load_hand_prog(&self->d, 0, TERN_OP_NOP), 0);
	ASSERT_EQ(0, run_cmd(&self->ring, self->d.fd, DRM_TERN_URING_EXEC, &u, sizeof(u), &q));
	EXPECT_EQ(0, q.res);
	EXPECT_EQ(status_word(DRM_TERN_JOB_OK, 0), q.big[0]);
}

/* ---- WAIT ---- */

TEST_F(uring, wait_on_signalled_fence_posts_at_once)
{
	struct drm_tern_uring_wait w;
	uint32_t src, dst, tl;
	struct cqe q;

	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_HOST, &src));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_DEVICE, &dst));
	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &tl));
	ASSERT_EQ(0, tern_submit_copy(self->d.fd, 0, dst, 0, src, 0, 4096, self->d.syncobj, 0));
	ASSERT_EQ(0, tern_submit_copy(self->d.fd, 0, dst, 0, src, 0, 4096, tl, 3));
	tern_wait_ok(_metadata, self->d.fd, self->d.syncobj, 0);
	tern_wait_ok(_metadata, self->d.fd, tl, 3);

	/* binary syncobj, then timeline point 3 (and 2, which 3 covers) */
	for (int i = 0; i < 3; i++) {
		memset(&w, 0, sizeof(w));
		w.syncobj = i ? tl : self->d.syncobj;
		w.point = i ? 4 - i : 0;
		ASSERT_NE(NULL, cmd_sqe(&self->ring, self->d.fd, DRM_TERN_URING_WAIT, &w,
					sizeof(w), i));
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		/* No wait: the CQE is there when io_uring_enter() returns. */
		ASSERT_EQ(0, peek(&self->ring, &q)) TH_LOG("wait %d", i);
		EXPECT_EQ(i, (int)q.user_data);
		EXPECT_EQ(0, q.res);
		EXPECT_EQ(status_word(DRM_TERN_JOB_OK, 0), q.big[0]);
		EXPECT_EQ(0, q.big[1]);
	}
}

TEST_F_TIMEOUT(uring, wait_posts_when_the_fence_signals, 120)
{
	struct drm_tern_slot slots[2];
	struct drm_tern_uring_wait w;
	struct drm_tern_exec e;
	uint32_t status = 99, code = 99;
	struct timespec t0, t1;
	struct cqe q;

	dev_exec_bos(_metadata, &self->d);
	long_exec_args(_metadata, &self->d, &e, slots, self->d.syncobj);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, tern_ioctl(self->d.fd, DRM_IOCTL_TERN_EXEC, &e));

	memset(&w, 0, sizeof(w));
	w.syncobj = self->d.syncobj;
	ASSERT_NE(NULL, cmd_sqe(&self->ring, self->d.fd, DRM_TERN_URING_WAIT, &w, sizeof(w), 9));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	if (!peek(&self->ring, &q)) {
		/* Posted already: then the fence must have signalled. */
		EXPECT_EQ(1, signalled(self->d.fd, self->d.syncobj, 0));
	} else {
		/* No CQE while the fence is still unsignalled (the job runs on). */
		ASSERT_EQ(0, signalled(self->d.fd, self->d.syncobj, 0))
			TH_LOG("the long job ended before the WAIT was checked");
		ASSERT_EQ(0, reap(&self->ring, &q));
		EXPECT_EQ(1, signalled(self->d.fd, self->d.syncobj, 0));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "# the long job took %.2f s\n",
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	ASSERT_EQ(0, tern_wait(self->d.fd, self->d.syncobj, 0, 0, &status, &code));
	EXPECT_EQ(9, q.user_data);
	/* Whether it finished or hit its timeout, the CQE says what WAIT says. */
	EXPECT_EQ(status == DRM_TERN_JOB_OK ? 0 : -EIO, q.res);
	EXPECT_EQ(status_word(status, code), q.big[0]);
	EXPECT_EQ(0, q.big[1]);
	EXPECT_TRUE(status == DRM_TERN_JOB_OK || status == DRM_TERN_JOB_TIMEOUT)
		TH_LOG("status %u code %u", status, code);
}

/* ---- rejected commands: -errno in the CQE, nothing queued ---- */

struct reject {
	const char *what;
	uint32_t op;
	int err;
	unsigned char area[CMD_AREA];
};

static void expect_rejected(struct __test_metadata *_metadata, struct io_uring *ring,
			    struct dev *d, const struct reject *r, size_t n)
{
	uint64_t sub0 = tern_sysfs_u64(d->minor, "jobs_submitted");
	struct cqe q;

	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(0, run_cmd(ring, d->fd, r[i].op, r[i].area, CMD_AREA, &q));
		EXPECT_EQ(-r[i].err, q.res) TH_LOG("%s: got %d (%s)", r[i].what, q.res,
						   strerror(-q.res));
		EXPECT_EQ(0, q.big[0]) TH_LOG("%s", r[i].what);
		EXPECT_EQ(0, q.big[1]) TH_LOG("%s", r[i].what);
	}
	EXPECT_EQ(sub0, tern_sysfs_u64(d->minor, "jobs_submitted"));
}

/* A command on a ring set up with @flags instead of SQE128 | CQE32. */
static void expect_ring_rejected(struct __test_metadata *_metadata, struct dev *d,
				 unsigned int flags)
{
	size_t len = flags & IORING_SETUP_SQE128 ? sizeof(struct drm_tern_uring_wait) : 16;
	struct drm_tern_uring_wait w;
	struct io_uring ring;
	struct cqe q;

	memset(&w, 0, sizeof(w));
	w.syncobj = d->syncobj;
	ASSERT_EQ(0, ring_init(&ring, flags));
	ASSERT_EQ(0, run_cmd(&ring, d->fd, DRM_TERN_URING_WAIT, &w, len, &q));
	EXPECT_EQ(-EINVAL, q.res) TH_LOG("ring flags %#x: %d", flags, q.res);
	io_uring_queue_exit(&ring);
}

TEST_F(uring, reject_ring_without_sqe128) { expect_ring_rejected(_metadata, &self->d, IORING_SETUP_CQE32); }
TEST_F(uring, reject_ring_without_cqe32) { expect_ring_rejected(_metadata, &self->d, IORING_SETUP_SQE128); }
TEST_F(uring, reject_plain_ring) { expect_ring_rejected(_metadata, &self->d, 0); }

TEST_F(uring, reject_bad_cmd_op)
{
	static const uint32_t ops[] = { 0, 4, 0x101, 0x80000001u, ~0u };
	struct reject r[5];

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 5; i++) {
		r[i].what = "cmd_op";
		r[i].op = ops[i];
		r[i].err = EINVAL;
	}
	expect_rejected(_metadata, &self->ring, &self->d, r, 5);
}

/* A valid SUBMIT in r->area with one change made by the caller. */
static struct drm_tern_submit *submit_area(struct reject *r, const char *what, int err,
					   struct drm_tern_copy *c)
{
	struct drm_tern_submit *s = (struct drm_tern_submit *)r->area;

	memset(r, 0, sizeof(*r));
	r->what = what;
	r->op = DRM_TERN_URING_SUBMIT;
	r->err = err;
	s->copies = (uintptr_t)c;
	s->copy_count = 1;
	return s;
}

TEST_F(uring, reject_submit_fields)
{
	struct drm_tern_copy c, bad_handle;
	uint32_t src, dst;
	struct reject r[13];
	struct cqe q;
	int n = 0;

	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_HOST, &src));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_DEVICE, &dst));
	tern_copy_set(&c, dst, 0, src, 0, 4096);
	tern_copy_set(&bad_handle, dst, 0, 0xdead, 0, 4096);

	submit_area(&r[n++], "flags", EINVAL, &c)->flags = 1;
	for (int i = 0; i < 4; i++)
		submit_area(&r[n++], "reserved[i]", EINVAL, &c)->reserved[i] = 1;
	submit_area(&r[n++], "job_id (unused here)", EINVAL, &c)->job_id = 1;
	submit_area(&r[n], "byte 72, after the structure", EINVAL, &c);
	r[n++].area[sizeof(struct drm_tern_submit)] = 1;
	submit_area(&r[n], "byte 79, the last of the area", EINVAL, &c);
	r[n++].area[CMD_AREA - 1] = 0x80;
	submit_area(&r[n++], "queue", EINVAL, &c)->queue = self->d.info.num_queues;
	submit_area(&r[n++], "copy_count", EINVAL, &c)->copy_count = DRM_TERN_MAX_COPIES + 1;
	submit_area(&r[n++], "copies pointer", EFAULT, &c)->copies = 8;
	submit_area(&r[n++], "source handle", ENOENT, &bad_handle);
	submit_area(&r[n++], "out_syncobj", ENOENT, &c)->out_syncobj = 0xdead;
	expect_rejected(_metadata, &self->ring, &self->d, r, n);

	/* The same command, valid, goes through. */
	submit_area(&r[0], "valid", 0, &c);
	ASSERT_EQ(0, run_cmd(&self->ring, self->d.fd, DRM_TERN_URING_SUBMIT, r[0].area, CMD_AREA,
			     &q));
	EXPECT_EQ(0, q.res);
}

TEST_F(uring, reject_exec_fields)
{
	struct drm_tern_exec e_flags, e_handle, e_ok;
	struct drm_tern_uring_exec *u;
	struct reject r[9];
	struct cqe q;
	int n = 0;

	dev_exec_bos(_metadata, &self->d);
	exec_args(&self->d, &e_ok, 0, load_hand_prog(&self->d, 0, TERN_OP_NOP), 0);
	e_flags = e_ok;
	e_flags.flags = 1;
	e_handle = e_ok;
	e_handle.program_handle = 0xdead;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 9; i++) {
		r[i].op = DRM_TERN_URING_EXEC;
		r[i].err = EINVAL;
		((struct drm_tern_uring_exec *)r[i].area)->exec = (uintptr_t)&e_ok;
	}
	for (int i = 0; i < 3; i++) {
		r[n].what = "reserved[i]";
		((struct drm_tern_uring_exec *)r[n++].area)->reserved[i] = 1;
	}
	r[n].what = "byte 32, after the structure";
	r[n++].area[sizeof(struct drm_tern_uring_exec)] = 1;
	r[n].what = "byte 79";
	r[n++].area[CMD_AREA - 1] = 1;
	u = (struct drm_tern_uring_exec *)r[n].area;
	u->exec = 0;
	r[n].what = "exec pointer NULL";
	r[n++].err = EFAULT;
	u = (struct drm_tern_uring_exec *)r[n].area;
	u->exec = 8;
	r[n].what = "exec pointer bad";
	r[n++].err = EFAULT;
	u = (struct drm_tern_uring_exec *)r[n].area;
	u->exec = (uintptr_t)&e_flags;
	r[n++].what = "exec.flags";
	u = (struct drm_tern_uring_exec *)r[n].area;
	u->exec = (uintptr_t)&e_handle;
	r[n].what = "exec.program_handle";
	r[n++].err = ENOENT;
	expect_rejected(_metadata, &self->ring, &self->d, r, n);

	u = (struct drm_tern_uring_exec *)r[0].area;
	memset(r[0].area, 0, CMD_AREA);
	u->exec = (uintptr_t)&e_ok;
	ASSERT_EQ(0, run_cmd(&self->ring, self->d.fd, DRM_TERN_URING_EXEC, r[0].area, CMD_AREA,
			     &q));
	EXPECT_EQ(0, q.res);
}

TEST_F(uring, reject_wait_fields)
{
	struct drm_tern_uring_wait *w;
	uint32_t empty, tl, src, dst;
	struct reject r[9];
	int n = 0;

	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &empty));
	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &tl));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_HOST, &src));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_DEVICE, &dst));
	ASSERT_EQ(0, tern_submit_copy(self->d.fd, 0, dst, 0, src, 0, 4096, self->d.syncobj, 0));
	ASSERT_EQ(0, tern_submit_copy(self->d.fd, 0, dst, 0, src, 0, 4096, tl, 2));
	tern_wait_ok(_metadata, self->d.fd, self->d.syncobj, 0);

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 9; i++) {
		r[i].op = DRM_TERN_URING_WAIT;
		r[i].err = EINVAL;
		((struct drm_tern_uring_wait *)r[i].area)->syncobj = self->d.syncobj;
	}
	r[n].what = "flags";
	((struct drm_tern_uring_wait *)r[n++].area)->flags = 1;
	for (int i = 0; i < 2; i++) {
		r[n].what = "reserved[i]";
		((struct drm_tern_uring_wait *)r[n++].area)->reserved[i] = 1;
	}
	r[n].what = "byte 32, after the structure";
	r[n++].area[sizeof(struct drm_tern_uring_wait)] = 1;
	r[n].what = "byte 79";
	r[n++].area[CMD_AREA - 1] = 1;
	w = (struct drm_tern_uring_wait *)r[n].area;
	w->syncobj = 0xdead;
	r[n].what = "no such syncobj";
	r[n++].err = ENOENT;
	w = (struct drm_tern_uring_wait *)r[n].area;
	w->syncobj = 0;
	r[n].what = "syncobj 0";
	r[n++].err = ENOENT;
	w = (struct drm_tern_uring_wait *)r[n].area;
	w->syncobj = empty;
	r[n].what = "syncobj without a fence";
	r[n++].err = ENOENT;
	w = (struct drm_tern_uring_wait *)r[n].area;
	w->syncobj = tl;
	w->point = 3;
	r[n].what = "timeline point not submitted";
	r[n++].err = ENOENT;
	expect_rejected(_metadata, &self->ring, &self->d, r, n);
}

/* ---- cancellation ---- */

/*
 * Syncobj @handle of file @fd as a file descriptor, to import into another
 * file. Exported by the file's owner: a forked child may not use the
 * parent's file.
 */
static int syncobj_export(struct __test_metadata *_metadata, int fd, uint32_t handle)
{
	int sfd = -1;

	EXPECT_EQ(0, drmSyncobjHandleToFD(fd, handle, &sfd));
	return sfd;
}

/* Whether debugfs "bos" of @minor lists a BO of MARKER_SIZE bytes. */
static int marker_listed(unsigned int minor)
{
	char path[96], line[256], size[32];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/bos", minor);
	snprintf(size, sizeof(size), " %u ", MARKER_SIZE);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, size))
			found = 1;
	fclose(f);
	return found;
}

/*
 * A second file @d2 on device 0, with a marker BO, running on @ring: an
 * EXEC of the long job, whose fence goes to the syncobj exported as
 * @out_fd, and eight WAITs on it. All in flight when this returns.
 */
static void queue_long_commands(struct __test_metadata *_metadata, struct io_uring *ring,
				int out_fd, struct dev *d2)
{
	static struct drm_tern_slot slots[2];
	static struct drm_tern_exec e;
	struct drm_tern_uring_exec u;
	struct drm_tern_uring_wait w;
	uint32_t marker;

	dev_open(_metadata, d2);
	dev_exec_bos(_metadata, d2);
	ASSERT_EQ(0, tern_bo_create(d2->fd, MARKER_SIZE, DRM_TERN_BO_HOST, &marker));
	ASSERT_EQ(0, ring_init(ring, RING_FLAGS));

	memset(&w, 0, sizeof(w));
	ASSERT_EQ(0, drmSyncobjFDToHandle(d2->fd, out_fd, &w.syncobj));
	long_exec_args(_metadata, d2, &e, slots, w.syncobj);
	memset(&u, 0, sizeof(u));
	u.exec = (uintptr_t)&e;
	ASSERT_NE(NULL, cmd_sqe(ring, d2->fd, DRM_TERN_URING_EXEC, &u, sizeof(u), 8));
	/* Issued in order: the EXEC has put its fence in the syncobj. */
	for (int i = 0; i < 8; i++)
		ASSERT_NE(NULL, cmd_sqe(ring, d2->fd, DRM_TERN_URING_WAIT, &w, sizeof(w), i));
	ASSERT_EQ(9, io_uring_submit(ring));
	ASSERT_EQ(0, signalled(d2->fd, w.syncobj, 0)) TH_LOG("the long job already ended");
}

/* The long job ends (finished or cut off by its timeout), then the device works. */
static void expect_job_ends(struct __test_metadata *_metadata, struct dev *d, uint32_t out)
{
	uint32_t status = 99, code = 99;

	ASSERT_EQ(0, tern_wait(d->fd, out, 0, TERN_WAIT_LONG, &status, &code));
	EXPECT_TRUE(status == DRM_TERN_JOB_OK || status == DRM_TERN_JOB_TIMEOUT)
		TH_LOG("status %u code %u", status, code);
	expect_device_usable(_metadata, d->fd);
}

TEST_F_TIMEOUT(uring, ring_exit_cancels_commands_and_jobs_run_on, 120)
{
	struct io_uring ring;
	struct dev d2;
	uint32_t out;
	int i, out_fd;

	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &out));
	out_fd = syncobj_export(_metadata, self->d.fd, out);
	queue_long_commands(_metadata, &ring, out_fd, &d2);
	close(out_fd);
	ASSERT_EQ(1, marker_listed(self->d.minor));

	/*
	 * Commands in flight: the ring goes away, they complete -ECANCELED and
	 * drop the file; it is released (its marker BO freed) while the job
	 * still runs.
	 */
	io_uring_queue_exit(&ring);
	/* The mappings hold the file too. */
	munmap(d2.prog_map, PROG_BO_SIZE);
	munmap(d2.status_map, STATUS_BO_SIZE);
	close(d2.fd);
	for (i = 0; i < 400 && marker_listed(self->d.minor) == 1; i++)
		usleep(10000);
	EXPECT_EQ(0, marker_listed(self->d.minor)) TH_LOG("the file was not released");
	EXPECT_EQ(0, signalled(self->d.fd, out, 0))
		TH_LOG("the long job ended before the commands were cancelled");

	/* The job was not cancelled: its fence signals for the others. */
	expect_job_ends(_metadata, &self->d, out);
}

TEST_F_TIMEOUT(uring, task_exit_with_commands_in_flight, 120)
{
	int wstatus = 0, out_fd;
	uint32_t out;
	pid_t pid;

	ASSERT_EQ(0, drmSyncobjCreate(self->d.fd, 0, &out));
	out_fd = syncobj_export(_metadata, self->d.fd, out);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's own file and ring; it exits with all in flight. */
		struct io_uring ring;
		struct dev d2;

		queue_long_commands(_metadata, &ring, out_fd, &d2);
		_exit(__test_passed(_metadata) ? 0 : 1);
	}
	close(out_fd);
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus));
	ASSERT_EQ(0, WEXITSTATUS(wstatus));
	/* Its exit cancelled the commands; it did not wait for the job. */
	EXPECT_EQ(0, signalled(self->d.fd, out, 0))
		TH_LOG("the long job ended before the child was gone");
	expect_job_ends(_metadata, &self->d, out);
}

/* ---- owner check ---- */

TEST_F(uring, forked_child_gets_eacces)
{
	int wstatus = 0;
	pid_t pid;
	uint32_t src, dst;

	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_HOST, &src));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 4096, DRM_TERN_BO_DEVICE, &dst));
	ASSERT_EQ(0, tern_submit_copy(self->d.fd, 0, dst, 0, src, 0, 4096, self->d.syncobj, 0));
	tern_wait_ok(_metadata, self->d.fd, self->d.syncobj, 0);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The parent's file on the child's own ring. */
		struct drm_tern_uring_wait w;
		struct drm_tern_submit s;
		struct drm_tern_copy c;
		struct io_uring ring;
		struct cqe q;
		int bad = 0;

		if (ring_init(&ring, RING_FLAGS))
			_exit(2);
		tern_copy_set(&c, dst, 0, src, 0, 4096);
		memset(&s, 0, sizeof(s));
		s.copies = (uintptr_t)&c;
		s.copy_count = 1;
		if (run_cmd(&ring, self->d.fd, DRM_TERN_URING_SUBMIT, &s, sizeof(s), &q) ||
		    q.res != -EACCES)
			bad |= 4;
		memset(&w, 0, sizeof(w));
		w.syncobj = self->d.syncobj;
		if (run_cmd(&ring, self->d.fd, DRM_TERN_URING_WAIT, &w, sizeof(w), &q) ||
		    q.res != -EACCES)
			bad |= 8;
		io_uring_queue_exit(&ring);
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus)) TH_LOG("4: SUBMIT not -EACCES, 8: WAIT not -EACCES");
	/* The owner still can. */
	expect_device_usable(_metadata, self->d.fd);
}

TEST_HARNESS_MAIN
