// SPDX-License-Identifier: MIT
/*
 * tern_security: process B cannot reach process A's memory or queues.
 *
 * In each case the test's process is A and a child forked before either
 * opens the device is B; each opens its own file (its own device context).
 * A tells B its buffer handles, mmap offsets, device VAs and doorbell over
 * a pipe; B attacks with them and reports what each attempt returned; A
 * then checks its bytes and its queue are untouched and still work.
 * Also: a file inherited across fork() or exec() is refused by the driver
 * (or not inherited at all with O_CLOEXEC), and the device nodes are not
 * world accessible: with kernel/70-tern.rules a real udev run gives them
 * group tern and mode 0660.
 */
#include <grp.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_uq_test.h"

#define SECRET_BYTES	65536
#define SECRET_BYTE	0x5e
#define B_BYTE		0xb0

/* What A tells B. */
struct a_info {
	uint32_t host_handle, dev_handle;
	uint64_t host_mmap, dev_mmap;
	uint64_t host_va, dev_va, ring_va, fence_va;
	uint64_t doorbell_offset;
	uint32_t queue_id, pad;
};

/* What B reports: per attempt the return value (0 or -errno) or status. */
#define B_RESULTS	24
struct b_report {
	int64_t r[B_RESULTS];
};

/* Process A: secret buffers, a queue with its ring and doorbell. */
struct side_a {
	int fd;
	struct uq_buf host, dev, ring, fence, scratch;
	struct drm_tern_queue_create qc;
	volatile uint32_t *db;
	struct a_info info;
};

static void a_setup(struct __test_metadata *_metadata, struct side_a *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = tern_open_index(_metadata, 0, NULL);
	ASSERT_EQ(0, uq_buf_new(a->fd, SECRET_BYTES, DRM_TERN_BO_HOST, 1, &a->host));
	ASSERT_EQ(0, uq_buf_new(a->fd, SECRET_BYTES, DRM_TERN_BO_DEVICE, 1, &a->dev));
	ASSERT_EQ(0, uq_buf_new(a->fd, 4096, DRM_TERN_BO_HOST, 1, &a->ring));
	ASSERT_EQ(0, uq_buf_new(a->fd, 4096, DRM_TERN_BO_HOST, 1, &a->fence));
	ASSERT_EQ(0, uq_buf_new(a->fd, SECRET_BYTES, DRM_TERN_BO_HOST, 1, &a->scratch));
	memset(a->host.cpu, SECRET_BYTE, SECRET_BYTES);
	memset(a->dev.cpu, SECRET_BYTE, SECRET_BYTES);
	memset(a->ring.cpu, 0, 4096);
	memset(a->fence.cpu, 0, 4096);
	memset(a->scratch.cpu, 0, SECRET_BYTES);
	ASSERT_EQ(0, uq_create(a->fd, a->ring.va, 64, 0, 0, &a->qc));
	a->db = uq_doorbell_map(a->fd, a->qc.doorbell_offset);
	ASSERT_NE(MAP_FAILED, a->db);

	a->info = (struct a_info){
		.host_handle = a->host.handle, .dev_handle = a->dev.handle,
		.host_mmap = a->host.mmap_offset, .dev_mmap = a->dev.mmap_offset,
		.host_va = a->host.va, .dev_va = a->dev.va, .ring_va = a->ring.va,
		.fence_va = a->fence.va, .doorbell_offset = a->qc.doorbell_offset,
		.queue_id = a->qc.queue_id,
	};
}

/*
 * A after B's attack: the secrets and the fence are untouched, the queue
 * has not moved, and it still works (fence @value at word 1).
 */
static void a_check(struct __test_metadata *_metadata, struct side_a *a, uint64_t value)
{
	struct drm_tern_queue_query q;
	uint64_t *fence = a->fence.cpu;

	EXPECT_EQ(-1, tern_first_not(a->host.cpu, SECRET_BYTE, SECRET_BYTES));
	EXPECT_EQ(-1, tern_first_not(a->dev.cpu, SECRET_BYTE, SECRET_BYTES));
	EXPECT_EQ(-1, tern_first_not(a->scratch.cpu, 0, SECRET_BYTES));
	EXPECT_EQ(0, fence[0]);
	ASSERT_EQ(0, uq_query(a->fd, a->qc.queue_id, &q));
	EXPECT_EQ(DRM_TERN_QUEUE_ACTIVE, q.state);
	EXPECT_EQ(0, q.completed);
	EXPECT_EQ(0, q.head);

	uq_desc_copy(a->ring.cpu, 0, a->scratch.va, a->dev.va, SECRET_BYTES, 0,
		     a->fence.va + 8, value);
	uq_ring(a->db, 1);
	ASSERT_EQ(0, uq_wait_fence(&fence[1], value));
	EXPECT_EQ(-1, tern_first_not(a->scratch.cpu, SECRET_BYTE, SECRET_BYTES));
}

static int b_open(void)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char node[64];

	if (tern_minors(minors, TERN_TEST_MAX_DEVS) < 1)
		return -1;
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[0]);
	return open(node, O_RDWR | O_CLOEXEC);
}

/* 0 if the mmap worked (and was undone), else -errno. */
static int64_t try_mmap(int fd, uint64_t offset, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

typedef void (*b_attack)(int fd, const struct a_info *a, struct b_report *rep);

/*
 * Runs @attack as process B, forked before A opens anything, and returns
 * its report in @rep. @setup_a prepares A once B exists.
 */
static void run_b(struct __test_metadata *_metadata, struct side_a *a, b_attack attack,
		  struct b_report *rep)
{
	int to_b[2], to_a[2], status, fd;
	struct a_info info;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_b));
	ASSERT_EQ(0, pipe(to_a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct b_report r;

		close(to_b[1]);
		close(to_a[0]);
		memset(&r, 0x7f, sizeof(r));
		if (uq_recv(to_b[0], &info, sizeof(info)))
			_exit(91);
		fd = b_open();
		if (fd < 0)
			_exit(92);
		attack(fd, &info, &r);
		uq_send(to_a[1], &r, sizeof(r));
		_exit(0);
	}
	close(to_b[0]);
	close(to_a[1]);
	a_setup(_metadata, a);
	uq_send(to_b[1], &a->info, sizeof(a->info));
	ASSERT_EQ(0, uq_recv(to_a[0], rep, sizeof(*rep))) TH_LOG("B sent no report");
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(to_b[1]);
	close(to_a[0]);
}

/* ---- A's buffer handles ---- */

static void b_handles(int fd, const struct a_info *a, struct b_report *r)
{
	struct drm_tern_bo_info info;
	struct drm_gem_close gc = { .handle = a->host_handle };
	struct drm_prime_handle ph = { .handle = a->host_handle, .flags = DRM_CLOEXEC };
	struct drm_tern_copy c;
	uint32_t h;
	int n = 0;

	r->r[0] = tern_bo_info(fd, a->host_handle, &info);
	r->r[1] = tern_bo_info(fd, a->dev_handle, &info);
	tern_copy_set(&c, a->dev_handle, 0, a->host_handle, 0, 4096);
	r->r[2] = tern_submit(fd, 0, &c, 1, 0, 0);
	r->r[3] = tern_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph);
	r->r[4] = tern_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
	/* Guessing: no handle at all exists in B's fresh file. */
	for (h = 1; h <= 256; h++)
		n += tern_bo_info(fd, h, &info) == -ENOENT;
	r->r[5] = n;
}

TEST(a_buffer_handles)
{
	struct b_report rep;
	struct side_a a;

	run_b(_metadata, &a, b_handles, &rep);
	EXPECT_EQ(-ENOENT, rep.r[0]);
	EXPECT_EQ(-ENOENT, rep.r[1]);
	EXPECT_EQ(-ENOENT, rep.r[2]);
	EXPECT_EQ(-ENOENT, rep.r[3]);
	EXPECT_EQ(-EINVAL, rep.r[4]);
	EXPECT_EQ(256, rep.r[5]);
	a_check(_metadata, &a, 1);
}

/* ---- A's mmap offsets on B's file ---- */

static void b_mmap_offsets(int fd, const struct a_info *a, struct b_report *r)
{
	struct drm_tern_queue_create qc;
	struct uq_buf ring;

	r->r[0] = try_mmap(fd, a->host_mmap, SECRET_BYTES, PROT_READ);
	r->r[1] = try_mmap(fd, a->dev_mmap, SECRET_BYTES, PROT_READ);
	r->r[2] = try_mmap(fd, a->host_mmap, 4096, PROT_READ | PROT_WRITE);
	r->r[3] = try_mmap(fd, a->doorbell_offset, 4096, PROT_WRITE);
	/* Even with a queue of its own, B cannot map A's doorbell. */
	r->r[4] = uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 0, &ring);
	r->r[5] = uq_create(fd, ring.va, 64, 0, 0, &qc);
	r->r[6] = try_mmap(fd, a->doorbell_offset, 4096, PROT_WRITE);
	r->r[7] = try_mmap(fd, qc.doorbell_offset, 4096, PROT_WRITE);
}

TEST(a_mmap_offsets)
{
	struct b_report rep;
	struct side_a a;

	run_b(_metadata, &a, b_mmap_offsets, &rep);
	EXPECT_EQ(-EACCES, rep.r[0]);
	EXPECT_EQ(-EACCES, rep.r[1]);
	EXPECT_EQ(-EACCES, rep.r[2]);
	EXPECT_EQ(-EACCES, rep.r[3]);
	EXPECT_EQ(0, rep.r[4]);
	EXPECT_EQ(0, rep.r[5]);
	EXPECT_EQ(-EACCES, rep.r[6]);
	EXPECT_EQ(0, rep.r[7]);
	a_check(_metadata, &a, 2);
}

/* ---- A's device VAs in B's user-queue descriptors ---- */

/* One descriptor on a fresh queue of B; reports error, fault VA, info. */
static void b_uq_one(int fd, struct uq_buf *ring, uint64_t dst, uint64_t src, uint64_t fence_va,
		     int64_t *out)
{
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	volatile uint32_t *db;
	int ret;

	memset(ring->cpu, 0, 4096);
	ret = uq_create(fd, ring->va, 64, 0, 0, &qc);
	if (ret) {
		out[0] = ret;
		return;
	}
	db = uq_doorbell_map(fd, qc.doorbell_offset);
	if (db == MAP_FAILED) {
		out[0] = -errno;
		return;
	}
	if (src == dst && !src) {
		struct tern_dma_desc d = {
			.opcode = TERN_DESC_OP_NOP, .flags = TERN_DESC_F_FENCE,
			.fence_addr = fence_va, .fence_value = 0xbad,
		};

		memcpy(ring->cpu, &d, sizeof(d));
	} else {
		uq_desc_copy(ring->cpu, 0, dst, src, 4096, 0, fence_va, 0xbad);
	}
	uq_ring(db, 1);
	ret = uq_wait_halted(fd, qc.queue_id, &q);
	out[0] = ret ? (int64_t)ret : (int64_t)q.error;
	out[1] = (int64_t)q.fault_addr;
	out[2] = q.fault_info;
	uq_destroy(fd, qc.queue_id);
	munmap((void *)db, 4096);
}

static void b_guess_va_userq(int fd, const struct a_info *a, struct b_report *r)
{
	struct uq_buf ring, mine, fence;
	struct drm_tern_queue_create qc;

	if (uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &ring) ||
	    uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &mine) ||
	    uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &fence))
		return;
	memset(mine.cpu, B_BYTE, 4096);
	memset(fence.cpu, 0, 4096);
	/* B's own buffers must not lie where A's are, or the test proves nothing. */
	r->r[0] = (mine.va <= a->host_va + SECRET_BYTES && a->host_va <= mine.va + 4096) ||
		  (mine.va <= a->dev_va + SECRET_BYTES && a->dev_va <= mine.va + 4096);
	/* Read A's host and device buffers. */
	b_uq_one(fd, &ring, mine.va, a->host_va, fence.va, &r->r[1]);
	b_uq_one(fd, &ring, mine.va, a->dev_va + 4096, fence.va, &r->r[4]);
	/* Write them, and A's fence. */
	b_uq_one(fd, &ring, a->host_va, mine.va, fence.va, &r->r[7]);
	b_uq_one(fd, &ring, a->dev_va, mine.va, fence.va, &r->r[10]);
	b_uq_one(fd, &ring, 0, 0, a->fence_va, &r->r[13]);
	r->r[16] = tern_first_not(mine.cpu, B_BYTE, 4096);
	r->r[17] = *(uint64_t *)fence.cpu;
	/* A queue on A's ring. */
	r->r[18] = uq_create(fd, a->ring_va, 64, 0, 0, &qc);
}

static void expect_fault(struct __test_metadata *_metadata, const int64_t *r, uint64_t va,
			 int write, const char *what)
{
	EXPECT_EQ(TERN_ERR_MMU_FAULT, r[0]) TH_LOG("%s", what);
	EXPECT_EQ(va, (uint64_t)r[1]) TH_LOG("%s", what);
	EXPECT_EQ(write ? TERN_FAULT_WRITE : 0, r[2] & TERN_FAULT_WRITE) TH_LOG("%s", what);
	EXPECT_EQ(TERN_FAULT_UNMAPPED, (r[2] & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT)
		TH_LOG("%s", what);
}

TEST(a_device_vas_in_user_queue)
{
	struct b_report rep;
	struct side_a a;

	run_b(_metadata, &a, b_guess_va_userq, &rep);
	ASSERT_EQ(0, rep.r[0]) TH_LOG("B's buffers overlap A's VAs");
	expect_fault(_metadata, &rep.r[1], a.info.host_va, 0, "read A's host buffer");
	expect_fault(_metadata, &rep.r[4], a.info.dev_va + 4096, 0, "read A's device buffer");
	expect_fault(_metadata, &rep.r[7], a.info.host_va, 1, "write A's host buffer");
	expect_fault(_metadata, &rep.r[10], a.info.dev_va, 1, "write A's device buffer");
	expect_fault(_metadata, &rep.r[13], a.info.fence_va, 1, "write A's fence");
	EXPECT_EQ(-1, rep.r[16]) TH_LOG("B's buffer changed");
	EXPECT_EQ(0, rep.r[17]) TH_LOG("a faulting descriptor wrote its fence");
	EXPECT_EQ(-EINVAL, rep.r[18]);
	a_check(_metadata, &a, 3);
}

/* ---- A's device VAs in B's SUBMIT (DRM_TERN_COPY_VA) ---- */

static void b_submit_va_one(int fd, uint64_t dst, uint64_t src, int64_t *out)
{
	struct drm_tern_copy c = {
		.src_offset = src, .dst_offset = dst, .size = 4096, .flags = DRM_TERN_COPY_VA,
	};
	struct drm_tern_wait w = { .timeout_ns = TERN_WAIT_LONG };
	uint32_t syncobj;
	int ret;

	if (drmSyncobjCreate(fd, 0, &syncobj)) {
		out[0] = -errno;
		return;
	}
	ret = tern_submit(fd, 0, &c, 1, syncobj, 0);
	if (!ret) {
		w.syncobj = syncobj;
		ret = tern_ioctl(fd, DRM_IOCTL_TERN_WAIT, &w);
	}
	out[0] = ret ? (int64_t)ret : (int64_t)w.status;
	out[1] = (int64_t)w.fault_addr;
	out[2] = w.error_code;
	drmSyncobjDestroy(fd, syncobj);
}

static void b_guess_va_submit(int fd, const struct a_info *a, struct b_report *r)
{
	struct uq_buf mine;

	if (uq_buf_new(fd, 8192, DRM_TERN_BO_HOST, 1, &mine))
		return;
	memset(mine.cpu, B_BYTE, 8192);
	b_submit_va_one(fd, mine.va, a->host_va, &r->r[0]);
	b_submit_va_one(fd, mine.va, a->dev_va, &r->r[3]);
	b_submit_va_one(fd, a->host_va + 4096, mine.va, &r->r[6]);
	b_submit_va_one(fd, a->dev_va + 8192, mine.va, &r->r[9]);
	r->r[12] = tern_first_not(mine.cpu, B_BYTE, 4096);
	/* B's own VAs work on the same path. */
	b_submit_va_one(fd, mine.va + 4096, mine.va, &r->r[13]);
}

static void expect_job_fault(struct __test_metadata *_metadata, const int64_t *r, uint64_t va,
			     int write, const char *what)
{
	EXPECT_EQ(DRM_TERN_JOB_MMU_FAULT, r[0]) TH_LOG("%s", what);
	EXPECT_EQ(va, (uint64_t)r[1]) TH_LOG("%s", what);
	EXPECT_EQ(write ? TERN_FAULT_WRITE : 0, r[2] & TERN_FAULT_WRITE) TH_LOG("%s", what);
}

TEST(a_device_vas_in_submit)
{
	struct b_report rep;
	struct side_a a;

	run_b(_metadata, &a, b_guess_va_submit, &rep);
	expect_job_fault(_metadata, &rep.r[0], a.info.host_va, 0, "read A's host buffer");
	expect_job_fault(_metadata, &rep.r[3], a.info.dev_va, 0, "read A's device buffer");
	expect_job_fault(_metadata, &rep.r[6], a.info.host_va + 4096, 1, "write A's host buffer");
	expect_job_fault(_metadata, &rep.r[9], a.info.dev_va + 8192, 1, "write A's device buffer");
	EXPECT_EQ(-1, rep.r[12]);
	EXPECT_EQ(DRM_TERN_JOB_OK, rep.r[13]);
	a_check(_metadata, &a, 4);
}

/* ---- A's doorbell page ---- */

static void b_doorbell(int fd, const struct a_info *a, struct b_report *r)
{
	struct drm_tern_queue_create qc;
	struct uq_buf ring, fence;
	volatile uint32_t *db;
	char *area;
	int i;

	r->r[0] = try_mmap(fd, a->doorbell_offset, 4096, PROT_WRITE);
	if (uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &ring) ||
	    uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &fence))
		return;
	memset(ring.cpu, 0, 4096);
	memset(fence.cpu, 0, 4096);
	r->r[1] = uq_create(fd, ring.va, 64, 0, 0, &qc);
	/* B's doorbell in the middle of three pages; the others inaccessible. */
	area = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	db = mmap(area + 4096, 4096, PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		  (off_t)qc.doorbell_offset);
	r->r[2] = db == MAP_FAILED ? -errno : 0;
	if (db == MAP_FAILED)
		return;
	/* Other words of B's page (the chip ignores them), then past it. */
	db[1] = 1;
	db[512] = 1;
	db[1023] = 1;
	r->r[3] = uq_store_signal((volatile uint32_t *)(area + 2 * 4096), 1);
	r->r[4] = uq_store_signal((volatile uint32_t *)area + 1023, 1);
	/* B's own queue runs B's NOPs: fence on B's side only. */
	for (i = 0; i < 3; i++) {
		struct tern_dma_desc d = {
			.opcode = TERN_DESC_OP_NOP, .flags = TERN_DESC_F_FENCE,
			.fence_addr = fence.va, .fence_value = (uint64_t)i + 1,
		};

		memcpy((char *)ring.cpu + i * 64, &d, sizeof(d));
	}
	uq_ring(db, 3);
	r->r[5] = uq_wait_fence(fence.cpu, 3);
	r->r[6] = qc.doorbell_offset != a->doorbell_offset;
}

TEST(a_doorbell_page)
{
	struct b_report rep;
	struct side_a a;

	run_b(_metadata, &a, b_doorbell, &rep);
	EXPECT_EQ(-EACCES, rep.r[0]);
	EXPECT_EQ(0, rep.r[1]);
	EXPECT_EQ(0, rep.r[2]);
	EXPECT_EQ(SIGSEGV, rep.r[3]);
	EXPECT_EQ(SIGSEGV, rep.r[4]);
	EXPECT_EQ(0, rep.r[5]);
	EXPECT_EQ(1, rep.r[6]);
	/* A's queue was not rung by any of it; its doorbell still works. */
	a_check(_metadata, &a, 5);
}

/* ---- A's file inherited across fork() ---- */

TEST(fd_inherited_across_fork)
{
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	struct drm_tern_info info;
	struct side_a a;
	int status;
	pid_t pid;

	a_setup(_metadata, &a);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_tern_bo_info bi;
		uint32_t h;

		if (tern_get_info(a.fd, &info) != -EACCES)
			_exit(1);
		if (tern_bo_create(a.fd, 4096, DRM_TERN_BO_HOST, &h) != -EACCES)
			_exit(2);
		if (tern_bo_info(a.fd, a.host.handle, &bi) != -EACCES)
			_exit(3);
		if (uq_create(a.fd, a.ring.va, 64, 0, 0, &qc) != -EACCES)
			_exit(4);
		if (uq_query(a.fd, a.qc.queue_id, &q) != -EACCES)
			_exit(5);
		if (uq_destroy(a.fd, a.qc.queue_id) != -EACCES)
			_exit(6);
		if (try_mmap(a.fd, a.qc.doorbell_offset, 4096, PROT_WRITE) != -EACCES)
			_exit(7);
		/* The parent's doorbell mapping is not in the child (VM_DONTCOPY). */
		if (msync((void *)a.db, 4096, MS_ASYNC) != -1 || errno != ENOMEM)
			_exit(8);
		if (uq_store_signal(a.db, 1) != SIGSEGV)
			_exit(9);
		/* DRM's core ioctls and buffer mmaps are the opener's too. */
		if (try_mmap(a.fd, a.host.mmap_offset, 4096, PROT_READ) != -EACCES)
			_exit(10);
		{
			struct drm_prime_handle ph = { .handle = a.host.handle,
						       .flags = DRM_CLOEXEC };
			struct drm_gem_close gc = { .handle = a.host.handle };

			if (tern_ioctl(a.fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph) != -EACCES)
				_exit(11);
			if (tern_ioctl(a.fd, DRM_IOCTL_GEM_CLOSE, &gc) != -EACCES)
				_exit(12);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child: check %d failed", WEXITSTATUS(status));
	/* The parent keeps its file, queue and mapping. */
	EXPECT_EQ(0, tern_get_info(a.fd, &info));
	a_check(_metadata, &a, 6);
}

/* ---- A's file across exec() ---- */

#define EXEC_PROBE	"--tern-exec-probe"

/*
 * The exec'd program: @cloexec_fd must be gone; @kept_fd (opened without
 * O_CLOEXEC by another process) must be refused. Exit 0 or the failed step.
 */
static int exec_probe(int cloexec_fd, int kept_fd, uint64_t doorbell_offset)
{
	struct drm_tern_info info;

	if (fcntl(cloexec_fd, F_GETFD) != -1 || errno != EBADF)
		return 1;
	if (fcntl(kept_fd, F_GETFD) == -1)
		return 2;
	if (tern_get_info(kept_fd, &info) != -EACCES)
		return 3;
	if (try_mmap(kept_fd, doorbell_offset, 4096, PROT_WRITE) != -EACCES)
		return 4;
	return 0;
}

TEST(fd_across_exec)
{
	char a1[16], a2[16], a3[32];
	struct drm_tern_queue_create qc;
	struct uq_buf ring;
	unsigned int minor;
	char node[64];
	struct side_a a;
	int kept, status;
	pid_t pid;

	a_setup(_metadata, &a);
	ASSERT_NE(-1, fcntl(a.fd, F_GETFD));
	ASSERT_TRUE(fcntl(a.fd, F_GETFD) & FD_CLOEXEC) TH_LOG("test files open with O_CLOEXEC");
	/* A second file without O_CLOEXEC, with a queue. */
	close(tern_open_index(_metadata, 0, &minor));
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minor);
	kept = open(node, O_RDWR);
	ASSERT_LE(0, kept);
	ASSERT_EQ(0, uq_buf_new(kept, 4096, DRM_TERN_BO_HOST, 0, &ring));
	ASSERT_EQ(0, uq_create(kept, ring.va, 64, 0, 0, &qc));

	snprintf(a1, sizeof(a1), "%d", a.fd);
	snprintf(a2, sizeof(a2), "%d", kept);
	snprintf(a3, sizeof(a3), "%llu", (unsigned long long)qc.doorbell_offset);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execl("/proc/self/exe", "tern_security", EXEC_PROBE, a1, a2, a3, (char *)NULL);
		_exit(100);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("exec'd program: step %d failed",
						 WEXITSTATUS(status));
	EXPECT_EQ(0, uq_destroy(kept, qc.queue_id));
	close(kept);
	a_check(_metadata, &a, 7);
}

/* ---- Device node permissions ---- */

static int node_of(unsigned int minor, char *node, size_t len)
{
	return snprintf(node, len, "/dev/accel/accel%u", minor);
}

/* In a child as user nobody, with @gid as its only group: open's result. */
static int open_as_nobody(const char *node, gid_t gid)
{
	int status, fd;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(1, &gid) || setgid(gid) || setuid(65534))
			_exit(100);
		fd = open(node, O_RDWR | O_CLOEXEC);
		_exit(fd < 0 ? (errno == EACCES ? 1 : 2) : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(node_not_world_accessible)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char node[64];
	struct stat st;
	int i, n;

	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		node_of(minors[i], node, sizeof(node));
		ASSERT_EQ(0, stat(node, &st)) TH_LOG("%s: %s", node, strerror(errno));
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(0, st.st_mode & 0007) TH_LOG("%s has mode %o", node, st.st_mode & 07777);
		/* Someone outside the owner and group cannot open it. */
		EXPECT_EQ(1, open_as_nobody(node, 65534)) TH_LOG("%s", node);
	}
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A real udev run with kernel/70-tern.rules: the nodes, reset to the
 * kernel's 0600 root:root first, get group tern and mode 0660; a member
 * of the group can open them, nobody else can.
 */
TEST(udev_rule_group_tern_0660)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	const char *root = getenv("TERN_ROOT");
	int i, n, started = 0;
	char node[64], cmd[PATH_MAX + 128];
	struct group *gr;
	struct stat st;

	ASSERT_NE(NULL, root) TH_LOG("TERN_ROOT is not set");
	gr = getgrnam("tern");
	ASSERT_NE(NULL, gr) TH_LOG("no group tern: run tests/vm/deps.sh (groupadd --system tern)");
	ASSERT_EQ(0, access("/usr/bin/udevadm", X_OK)) TH_LOG("udev missing: run tests/vm/deps.sh");
	ASSERT_EQ(0, access("/lib/systemd/systemd-udevd", X_OK));
	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		node_of(minors[i], node, sizeof(node));
		ASSERT_EQ(0, chown(node, 0, 0));
		ASSERT_EQ(0, chmod(node, 0600));
	}

	/* The guest runs in a chroot, which udevadm would otherwise refuse. */
	ASSERT_EQ(0, setenv("SYSTEMD_IGNORE_CHROOT", "1", 1));
	ASSERT_EQ(0, sh("mkdir -p /run/udev/rules.d"));
	snprintf(cmd, sizeof(cmd), "cp '%s/kernel/70-tern.rules' /run/udev/rules.d/", root);
	ASSERT_EQ(0, sh(cmd));
	if (sh("udevadm control --ping >/dev/null 2>&1") != 0) {
		ASSERT_EQ(0, sh("/lib/systemd/systemd-udevd --daemon >/tmp/tern-udevd.log 2>&1"));
		started = 1;
	}
	EXPECT_EQ(0, sh("udevadm control --reload"));
	EXPECT_EQ(0, sh("udevadm trigger --action=add --subsystem-match=accel"));
	EXPECT_EQ(0, sh("udevadm settle --timeout=120"));

	for (i = 0; i < n; i++) {
		node_of(minors[i], node, sizeof(node));
		ASSERT_EQ(0, stat(node, &st));
		EXPECT_EQ(gr->gr_gid, st.st_gid) TH_LOG("%s: group %u", node, st.st_gid);
		EXPECT_EQ(0660, st.st_mode & 07777) TH_LOG("%s: mode %o", node, st.st_mode & 07777);
		EXPECT_EQ(0, open_as_nobody(node, gr->gr_gid)) TH_LOG("%s, group tern", node);
		EXPECT_EQ(1, open_as_nobody(node, 65534)) TH_LOG("%s, not in group tern", node);
	}

	if (started) {
		sh("udevadm control --exit");
		sh("sed 's/^/# udevd: /' /tmp/tern-udevd.log >&2");
	}
	unlink("/run/udev/rules.d/70-tern.rules");
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], EXEC_PROBE))
		return exec_probe(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 0));
	return test_harness_run(argc, argv);
}
