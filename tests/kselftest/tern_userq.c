// SPDX-License-Identifier: MIT
/*
 * tern_userq: user-mode DMA queues. The test writes descriptors into a
 * ring in its own buffer and rings the doorbell page it mapped; the data
 * and the fence values appear in memory with no system call per job.
 * Also: ring wrap-around, eventfd interrupts, a bad descriptor halting only
 * its queue with the fault visible through QUEUE_QUERY, every rejected
 * QUEUE_CREATE/DESTROY/QUERY field and doorbell mmap, a destroyed
 * queue's doorbell mapping going away, and buffers closed under a copy.
 */
#include <poll.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_uq_test.h"

#define RING_BYTES	(64 * 1024)	/* ring buffer: up to 1024 descriptors */
#define DATA_BYTES	(256 * 1024)
/* Nothing is mapped this high in a fresh context (VA allocators start low). */
#define UNMAPPED_VA	(1ull << 38)

FIXTURE(userq)
{
	int fd;
	struct drm_tern_info info;
	struct uq_buf ring, src, dst, fence;
	uint64_t seed;
};

FIXTURE_SETUP(userq)
{
	self->fd = tern_open_index(_metadata, 0, NULL);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	ASSERT_LT(0, self->info.num_user_queues)
		TH_LOG("the device offers no user-mode queues (caps 0x%x)", self->info.caps);
	ASSERT_EQ(0, uq_buf_new(self->fd, RING_BYTES, DRM_TERN_BO_HOST, 1, &self->ring));
	ASSERT_EQ(0, uq_buf_new(self->fd, DATA_BYTES, DRM_TERN_BO_HOST, 1, &self->src));
	ASSERT_EQ(0, uq_buf_new(self->fd, DATA_BYTES, DRM_TERN_BO_HOST, 1, &self->dst));
	ASSERT_EQ(0, uq_buf_new(self->fd, 4096, DRM_TERN_BO_HOST, 1, &self->fence));
	ASSERT_NE(0, self->ring.va);
	ASSERT_NE(0, self->src.va);
	self->seed = tern_seed();
	tern_fill(self->src.cpu, DATA_BYTES, self->seed);
	memset(self->dst.cpu, 0xa5, DATA_BYTES);
	memset(self->ring.cpu, 0, RING_BYTES);
	memset(self->fence.cpu, 0, 4096);
}

FIXTURE_TEARDOWN(userq)
{
	uq_buf_free(self->fd, &self->fence);
	uq_buf_free(self->fd, &self->dst);
	uq_buf_free(self->fd, &self->src);
	uq_buf_free(self->fd, &self->ring);
	close(self->fd);
}

/* A queue on the fixture's ring and its mapped doorbell. */
static void new_queue(struct __test_metadata *_metadata, int fd, uint64_t ring_va,
		      uint32_t entries, uint32_t flags, int efd,
		      struct drm_tern_queue_create *qc, volatile uint32_t **db)
{
	int ret = uq_create(fd, ring_va, entries, flags, efd, qc);

	ASSERT_EQ(0, ret) TH_LOG("QUEUE_CREATE: %s", strerror(-ret));
	ASSERT_NE(0, qc->queue_id);
	*db = uq_doorbell_map(fd, qc->doorbell_offset);
	ASSERT_NE(MAP_FAILED, *db) TH_LOG("doorbell mmap at 0x%llx: %s",
					  (unsigned long long)qc->doorbell_offset,
					  strerror(errno));
}

static uint64_t *fence_word(struct uq_buf *fence, uint32_t i)
{
	return (uint64_t *)fence->cpu + i;
}

/* One copy, host to host: data and fence arrive without a system call. */
TEST_F(userq, copy_host_to_host)
{
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	volatile uint32_t *db;

	new_queue(_metadata, self->fd, self->ring.va, 64, 0, 0, &qc, &db);
	uq_desc_copy(self->ring.cpu, 0, self->dst.va + 4096, self->src.va + 8192, 12345, 0,
		     self->fence.va + 8, 0x1234567890abcdefull);
	uq_ring(db, 1);
	ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, 1), 0x1234567890abcdefull));

	EXPECT_EQ(-1, tern_first_diff((char *)self->dst.cpu + 4096, (char *)self->src.cpu + 8192,
				      12345));
	EXPECT_EQ(-1, tern_first_not(self->dst.cpu, 0xa5, 4096));
	EXPECT_EQ(-1, tern_first_not((char *)self->dst.cpu + 4096 + 12345, 0xa5,
				     DATA_BYTES - 4096 - 12345));
	EXPECT_EQ(0, *fence_word(&self->fence, 0));

	ASSERT_EQ(0, uq_query(self->fd, qc.queue_id, &q));
	EXPECT_EQ(DRM_TERN_QUEUE_ACTIVE, q.state);
	EXPECT_EQ(0, q.error);
	EXPECT_EQ(1, q.head);
	EXPECT_EQ(1, q.completed);
	EXPECT_EQ(0, q.fault_addr);
	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
}

/* Host -> HBM -> host through a device buffer, by its VA only. */
TEST_F(userq, copy_through_hbm)
{
	struct drm_tern_queue_create qc;
	volatile uint32_t *db;
	struct uq_buf dev;

	ASSERT_EQ(0, uq_buf_new(self->fd, DATA_BYTES, DRM_TERN_BO_DEVICE, 0, &dev));
	new_queue(_metadata, self->fd, self->ring.va, 4, 0, 0, &qc, &db);
	uq_desc_copy(self->ring.cpu, 0, dev.va, self->src.va, DATA_BYTES, 0, self->fence.va, 1);
	uq_desc_copy(self->ring.cpu, 1, self->dst.va, dev.va, DATA_BYTES, 0, self->fence.va, 2);
	uq_ring(db, 2);
	ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, 0), 2));
	EXPECT_EQ(-1, tern_first_diff(self->dst.cpu, self->src.cpu, DATA_BYTES));
	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
	uq_buf_free(self->fd, &dev);
}

/*
 * Many descriptors in batches of 5 on an 8-entry ring: the tail wraps
 * around again and again, batches straddle the end of the ring, and every
 * descriptor writes its own fence word.
 */
TEST_F(userq, many_with_wrap)
{
	const uint32_t entries = 8, batch = 5, n = 200, chunk = DATA_BYTES / n & ~63u;
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	volatile uint32_t *db;
	uint32_t i, j, tail = 0;

	new_queue(_metadata, self->fd, self->ring.va, entries, 0, 0, &qc, &db);
	for (i = 0; i < n; i += batch) {
		for (j = i; j < i + batch && j < n; j++) {
			uq_desc_copy(self->ring.cpu, tail, self->dst.va + (uint64_t)j * chunk,
				     self->src.va + (uint64_t)j * chunk, chunk, 0,
				     self->fence.va + 8ull * j, j + 1);
			tail = (tail + 1) % entries;
		}
		uq_ring(db, tail);
		ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, j - 1), j))
			TH_LOG("descriptor %u did not complete", j - 1);
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(i + 1, *fence_word(&self->fence, i)) TH_LOG("fence %u", i);
	EXPECT_EQ(-1, tern_first_diff(self->dst.cpu, self->src.cpu, (uint64_t)n * chunk));
	ASSERT_EQ(0, uq_query(self->fd, qc.queue_id, &q));
	EXPECT_EQ(DRM_TERN_QUEUE_ACTIVE, q.state);
	EXPECT_EQ(n, q.completed);
	EXPECT_EQ(n % entries, q.head);
	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
}

/* TERN_DESC_F_IRQ signals the queue's eventfd; a poll() wakes up. */
TEST_F(userq, irq_eventfd)
{
	struct pollfd pfd = { .events = POLLIN };
	struct drm_tern_queue_create qc;
	volatile uint32_t *db;
	uint64_t v = 0;
	int efd;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	pfd.fd = efd;
	new_queue(_metadata, self->fd, self->ring.va, 16, DRM_TERN_QUEUE_EVENTFD, efd, &qc, &db);

	/* Without F_IRQ the fence arrives and the eventfd stays quiet. */
	uq_desc_copy(self->ring.cpu, 0, self->dst.va, self->src.va, 4096, 0, self->fence.va, 1);
	uq_ring(db, 1);
	ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, 0), 1));
	EXPECT_EQ(0, poll(&pfd, 1, 200));

	uq_desc_copy(self->ring.cpu, 1, self->dst.va + 4096, self->src.va + 4096, 4096,
		     TERN_DESC_F_IRQ, self->fence.va, 2);
	uq_ring(db, 2);
	ASSERT_EQ(1, poll(&pfd, 1, UQ_TIMEOUT_MS)) TH_LOG("no eventfd wakeup");
	ASSERT_EQ(sizeof(v), read(efd, &v, sizeof(v)));
	EXPECT_LE(1, v);
	EXPECT_EQ(2, *fence_word(&self->fence, 0));
	EXPECT_EQ(-1, tern_first_diff(self->dst.cpu, self->src.cpu, 8192));

	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
	close(efd);
}

/* In a child with its own file: a user queue copy works. Exit 0 if it did. */
static int other_process_copies(void)
{
	struct uq_buf ring, src, dst, fence;
	struct drm_tern_queue_create qc;
	unsigned int minors[TERN_TEST_MAX_DEVS];
	volatile uint32_t *db;
	char node[64];
	int fd;

	if (tern_minors(minors, TERN_TEST_MAX_DEVS) < 1)
		return 10;
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[0]);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 11;
	if (uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &ring) ||
	    uq_buf_new(fd, 65536, DRM_TERN_BO_HOST, 1, &src) ||
	    uq_buf_new(fd, 65536, DRM_TERN_BO_HOST, 1, &dst) ||
	    uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &fence))
		return 12;
	if (uq_create(fd, ring.va, 64, 0, 0, &qc))
		return 13;
	db = uq_doorbell_map(fd, qc.doorbell_offset);
	if (db == MAP_FAILED)
		return 14;
	tern_fill(src.cpu, 65536, 77);
	uq_desc_copy(ring.cpu, 0, dst.va, src.va, 65536, 0, fence.va, 9);
	uq_ring(db, 1);
	if (uq_wait_fence(fence.cpu, 9))
		return 15;
	if (memcmp(dst.cpu, src.cpu, 65536))
		return 16;
	return 0;
}

static void expect_other_process_ok(struct __test_metadata *_metadata)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(other_process_copies());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("other process: step %d failed",
						 WEXITSTATUS(status));
}

/*
 * A descriptor reading a VA its context does not map halts the queue with
 * TERN_ERR_MMU_FAULT at that descriptor: the ones before it completed, the
 * ones after it did not run, QUEUE_QUERY has the VA, the eventfd wakes.
 * Another queue of the file, the kernel queues and another process work.
 */
TEST_F(userq, mmu_fault_halts_only_this_queue)
{
	struct pollfd pfd = { .events = POLLIN };
	struct drm_tern_queue_create qc, qc2;
	struct drm_tern_queue_query q;
	volatile uint32_t *db, *db2;
	uint32_t syncobj;
	int efd;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	pfd.fd = efd;
	new_queue(_metadata, self->fd, self->ring.va, 16, DRM_TERN_QUEUE_EVENTFD, efd, &qc, &db);
	uq_desc_copy(self->ring.cpu, 0, self->dst.va, self->src.va, 4096, 0, self->fence.va, 1);
	uq_desc_copy(self->ring.cpu, 1, self->dst.va + 4096, UNMAPPED_VA + 0x240, 4096, 0,
		     self->fence.va, 2);
	uq_desc_copy(self->ring.cpu, 2, self->dst.va + 8192, self->src.va + 8192, 4096, 0,
		     self->fence.va, 3);
	uq_ring(db, 3);
	ASSERT_EQ(0, uq_wait_halted(self->fd, qc.queue_id, &q));
	EXPECT_EQ(TERN_ERR_MMU_FAULT, q.error);
	EXPECT_EQ(UNMAPPED_VA + 0x240, q.fault_addr);
	EXPECT_EQ(TERN_FAULT_UNMAPPED,
		  (q.fault_info & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT);
	EXPECT_EQ(0, q.fault_info & TERN_FAULT_WRITE);
	EXPECT_NE(0, q.fault_info & TERN_FAULT_CTX_MASK);
	EXPECT_EQ(1, q.head);
	EXPECT_EQ(1, q.completed);
	EXPECT_EQ(1, *fence_word(&self->fence, 0));
	EXPECT_EQ(-1, tern_first_diff(self->dst.cpu, self->src.cpu, 4096));
	EXPECT_EQ(-1, tern_first_not((char *)self->dst.cpu + 4096, 0xa5, 8192));
	EXPECT_EQ(1, poll(&pfd, 1, UQ_TIMEOUT_MS)) TH_LOG("halt did not signal the eventfd");

	/* Another queue of the same file. */
	new_queue(_metadata, self->fd, self->ring.va + 4096, 16, 0, 0, &qc2, &db2);
	uq_desc_copy((char *)self->ring.cpu + 4096, 0, self->dst.va + 65536,
		     self->src.va + 65536, 4096, 0, self->fence.va + 64, 5);
	uq_ring(db2, 1);
	ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, 8), 5));
	EXPECT_EQ(-1, tern_first_diff((char *)self->dst.cpu + 65536,
				      (char *)self->src.cpu + 65536, 4096));

	/* A kernel queue of the same file. */
	syncobj = tern_timeline(_metadata, self->fd);
	ASSERT_EQ(0, tern_submit_copy(self->fd, 0, self->dst.handle, 131072, self->src.handle,
				      131072, 4096, syncobj, 1));
	tern_wait_ok(_metadata, self->fd, syncobj, 1);
	EXPECT_EQ(-1, tern_first_diff((char *)self->dst.cpu + 131072,
				      (char *)self->src.cpu + 131072, 4096));

	/* Another process. */
	expect_other_process_ok(_metadata);

	/* The faulted queue stays halted until destroyed. */
	ASSERT_EQ(0, uq_query(self->fd, qc.queue_id, &q));
	EXPECT_EQ(DRM_TERN_QUEUE_HALTED, q.state);
	EXPECT_EQ(TERN_ERR_MMU_FAULT, q.error);
	EXPECT_EQ(1, *fence_word(&self->fence, 0));

	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	EXPECT_EQ(0, uq_destroy(self->fd, qc2.queue_id));
	drmSyncobjDestroy(self->fd, syncobj);
	munmap((void *)db, 4096);
	munmap((void *)db2, 4096);
	close(efd);
}

/*
 * A buffer closed while a user-mode copy is writing into it, at a random
 * point of a 16 MiB copy, again and again: the copy either finished before
 * the close or stops with an MMU fault, and the HBM handed out next reads
 * as zeros. The chip finishes the piece it is moving but the close (its
 * MMU invalidation) waits for that; the exact race is pinned down by the
 * host test test_mmu "invalidation waits for accesses".
 */
#define RACE_BYTES	(16u << 20)
#define RACE_ROUNDS	24

TEST_F(userq, closed_buffer_gets_no_stray_write)
{
	unsigned int completed = 0, faulted = 0;
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	struct uq_buf src, dst, fresh;
	volatile uint32_t *db;
	uint64_t rnd = self->seed;

	ASSERT_EQ(0, uq_buf_new(self->fd, RACE_BYTES, DRM_TERN_BO_DEVICE, 1, &src));
	memset(src.cpu, 0x5a, RACE_BYTES);
	for (unsigned int r = 0; r < RACE_ROUNDS; r++) {
		uint64_t t0, spin_us;
		int64_t stray;

		ASSERT_EQ(0, uq_buf_new(self->fd, RACE_BYTES, DRM_TERN_BO_DEVICE, 0, &dst));
		memset(self->fence.cpu, 0, 64);
		new_queue(_metadata, self->fd, self->ring.va, 4, 0, 0, &qc, &db);
		uq_desc_copy(self->ring.cpu, 0, dst.va, src.va, RACE_BYTES, 0, self->fence.va, 1);
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		spin_us = (rnd >> 33) % 4000;
		uq_ring(db, 1);
		for (t0 = uq_now_us(); uq_now_us() - t0 < spin_us;)
			;
		uq_buf_free(self->fd, &dst);
		ASSERT_EQ(0, uq_buf_new(self->fd, RACE_BYTES, DRM_TERN_BO_DEVICE, 1, &fresh));

		/* the copy ends: done before the close, or faulted after it */
		t0 = uq_now_ms();
		for (;;) {
			ASSERT_EQ(0, uq_query(self->fd, qc.queue_id, &q));
			if (q.state == DRM_TERN_QUEUE_HALTED || q.completed == 1)
				break;
			ASSERT_GT(UQ_TIMEOUT_MS, uq_now_ms() - t0);
			usleep(1000);
		}
		if (q.state == DRM_TERN_QUEUE_HALTED) {
			EXPECT_EQ(TERN_ERR_MMU_FAULT, q.error);
			faulted++;
		} else {
			completed++;
		}
		stray = tern_first_not(fresh.cpu, 0, RACE_BYTES);
		EXPECT_EQ(-1, stray)
			TH_LOG("round %u (closed %llu us after the doorbell, copy %s): a new buffer "
			       "holds the closed one's data at byte %lld", r,
			       (unsigned long long)spin_us, q.completed ? "done" : "faulted",
			       (long long)stray);
		EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
		munmap((void *)db, 4096);
		uq_buf_free(self->fd, &fresh);
	}
	TH_LOG("%u rounds: %u copies finished before the close, %u faulted after it",
	       RACE_ROUNDS, completed, faulted);
	uq_buf_free(self->fd, &src);
}

/* A write to a read-only buffer: permission fault, a write, nothing written. */
TEST_F(userq, write_to_read_only_buffer_faults)
{
	struct drm_tern_bo_create c = { .size = 8192, .domain = DRM_TERN_BO_HOST,
					.flags = DRM_TERN_BO_READ_ONLY };
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	struct drm_tern_bo_info info;
	volatile uint32_t *db;
	void *ro;

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c));
	ASSERT_EQ(0, tern_bo_info(self->fd, c.handle, &info));
	ro = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		  (off_t)info.mmap_offset);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0x3c, 8192);

	new_queue(_metadata, self->fd, self->ring.va, 4, 0, 0, &qc, &db);
	/* Reading it is fine. */
	uq_desc_copy(self->ring.cpu, 0, self->dst.va, info.device_va, 8192, 0, self->fence.va, 1);
	uq_desc_copy(self->ring.cpu, 1, info.device_va + 4096, self->src.va, 4096, 0,
		     self->fence.va, 2);
	uq_ring(db, 2);
	ASSERT_EQ(0, uq_wait_halted(self->fd, qc.queue_id, &q));
	EXPECT_EQ(TERN_ERR_MMU_FAULT, q.error);
	EXPECT_EQ(info.device_va + 4096, q.fault_addr);
	EXPECT_EQ(TERN_FAULT_PERMISSION,
		  (q.fault_info & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT);
	EXPECT_NE(0, q.fault_info & TERN_FAULT_WRITE);
	EXPECT_EQ(1, q.head);
	EXPECT_EQ(1, *fence_word(&self->fence, 0));
	EXPECT_EQ(-1, tern_first_not(self->dst.cpu, 0x3c, 8192));
	EXPECT_EQ(-1, tern_first_not(ro, 0x3c, 8192));

	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
	munmap(ro, 8192);
	tern_bo_close(self->fd, c.handle);
}

/*
 * The ring's buffer handle closed while the queue lives: the buffer leaves
 * the context, and the next fetch faults at the ring's VA.
 */
TEST_F(userq, ring_unmapped_faults_on_fetch)
{
	struct drm_tern_queue_create qc;
	struct drm_tern_queue_query q;
	volatile uint32_t *db;
	struct uq_buf ring;

	ASSERT_EQ(0, uq_buf_new(self->fd, 4096, DRM_TERN_BO_HOST, 1, &ring));
	new_queue(_metadata, self->fd, ring.va, 64, 0, 0, &qc, &db);
	uq_desc_copy(ring.cpu, 0, self->dst.va, self->src.va, 4096, 0, self->fence.va, 1);
	ASSERT_EQ(0, tern_bo_close(self->fd, ring.handle));
	ring.handle = 0;
	uq_ring(db, 1);
	ASSERT_EQ(0, uq_wait_halted(self->fd, qc.queue_id, &q));
	EXPECT_EQ(TERN_ERR_MMU_FAULT, q.error);
	EXPECT_EQ(ring.va, q.fault_addr);
	EXPECT_EQ(0, q.head);
	EXPECT_EQ(0, *fence_word(&self->fence, 0));
	EXPECT_EQ(-1, tern_first_not(self->dst.cpu, 0xa5, 4096));
	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	munmap((void *)db, 4096);
	uq_buf_free(self->fd, &ring);
}

/* Descriptors of a user queue: ctx 0, no *_HBM or *_PHYS flag. */
TEST_F(userq, descriptor_rules)
{
	static const struct {
		const char *what;
		uint32_t flags, ctx, error;
	} bad[] = {
		{ "ctx 1", 0, 1, TERN_ERR_RESERVED },
		{ "SRC_HBM", TERN_DESC_F_SRC_HBM, 0, TERN_ERR_BAD_FLAGS },
		{ "DST_HBM", TERN_DESC_F_DST_HBM, 0, TERN_ERR_BAD_FLAGS },
		{ "FENCE_HBM", TERN_DESC_F_FENCE_HBM, 0, TERN_ERR_BAD_FLAGS },
		{ "FENCE_PHYS", TERN_DESC_F_FENCE_PHYS, 0, TERN_ERR_BAD_FLAGS },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drm_tern_queue_create qc;
		struct drm_tern_queue_query q;
		struct tern_dma_desc *d = self->ring.cpu;
		volatile uint32_t *db;

		new_queue(_metadata, self->fd, self->ring.va, 4, 0, 0, &qc, &db);
		uq_desc_copy(self->ring.cpu, 0, self->dst.va, self->src.va, 4096,
			     bad[i].flags, self->fence.va, i + 1);
		d->ctx = bad[i].ctx;
		uq_ring(db, 1);
		ASSERT_EQ(0, uq_wait_halted(self->fd, qc.queue_id, &q)) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(bad[i].error, q.error) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(0, q.head);
		EXPECT_EQ(0, *fence_word(&self->fence, 0)) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(-1, tern_first_not(self->dst.cpu, 0xa5, 4096)) TH_LOG("%s", bad[i].what);
		EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
		munmap((void *)db, 4096);
	}
}

/* Every rejected QUEUE_CREATE field; the slots stay free (ENOSPC test). */
TEST_F(userq, create_rejects)
{
	struct drm_tern_queue_create qc;
	struct uq_buf small;
	int efd;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, uq_buf_new(self->fd, 4096, DRM_TERN_BO_HOST, 0, &small));

#define CREATE(expect, mod) do {						\
	memset(&qc, 0, sizeof(qc));						\
	qc.ring_va = self->ring.va;						\
	qc.ring_entries = 64;							\
	mod;									\
	EXPECT_EQ(expect, tern_ioctl(self->fd, DRM_IOCTL_TERN_QUEUE_CREATE, &qc))	\
		TH_LOG("%s", #mod);						\
	EXPECT_EQ(0, qc.queue_id) TH_LOG("%s", #mod);				\
} while (0)
	CREATE(-EINVAL, qc.flags = 1u << 1);
	CREATE(-EINVAL, qc.flags = 1u << 31);
	CREATE(-EINVAL, qc.eventfd = efd);
	CREATE(-EINVAL, qc.eventfd = -1);
	CREATE(-EBADF, (qc.flags = DRM_TERN_QUEUE_EVENTFD, qc.eventfd = -1));
	CREATE(-EBADF, (qc.flags = DRM_TERN_QUEUE_EVENTFD, qc.eventfd = 100000));
	CREATE(-EINVAL, (qc.flags = DRM_TERN_QUEUE_EVENTFD, qc.eventfd = self->fd));
	CREATE(-EINVAL, qc.reserved[0] = 1);
	CREATE(-EINVAL, qc.reserved[1] = 1ull << 63);
	CREATE(-EINVAL, qc.ring_va += 8);
	CREATE(-EINVAL, qc.ring_va += 32);
	CREATE(-EINVAL, qc.ring_entries = 0);
	CREATE(-EINVAL, qc.ring_entries = 1);
	CREATE(-EINVAL, qc.ring_entries = 3);
	CREATE(-EINVAL, qc.ring_entries = 96);
	CREATE(-EINVAL, qc.ring_entries = DRM_TERN_USER_QUEUE_MAX_ENTRIES + 1);
	CREATE(-EINVAL, qc.ring_entries = DRM_TERN_USER_QUEUE_MAX_ENTRIES * 2);
	CREATE(-EINVAL, qc.ring_entries = 1u << 31);
	/* Ring not inside one buffer of this context. */
	CREATE(-EINVAL, qc.ring_va = UNMAPPED_VA);
	CREATE(-EINVAL, qc.ring_va = 0);
	CREATE(-EINVAL, qc.ring_va = 1ull << 39);
	CREATE(-EINVAL, qc.ring_va = ~63ull);
	CREATE(-EINVAL, (qc.ring_va = small.va, qc.ring_entries = 128));
	CREATE(-EINVAL, (qc.ring_va = small.va + 4096 - 64, qc.ring_entries = 2));
	CREATE(-EINVAL, (qc.ring_va = self->ring.va + RING_BYTES - 64, qc.ring_entries = 2));
#undef CREATE

	/* A buffer whose handle is closed is not in the context any more. */
	ASSERT_EQ(0, tern_bo_close(self->fd, small.handle));
	EXPECT_EQ(-EINVAL, uq_create(self->fd, small.va, 2, 0, 0, &qc));
	small.handle = 0;
	close(efd);
}

/* All user queues taken: -ENOSPC; destroyed or closed, they are free again. */
TEST_F(userq, enospc_and_reuse)
{
	uint32_t ids[TERN_MAX_QUEUES], i, n = self->info.num_user_queues;
	struct drm_tern_queue_create qc;
	int fd2;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, uq_create(self->fd, self->ring.va + i * 1024ull, 16, 0, 0, &qc))
			TH_LOG("queue %u of %u", i, n);
		ids[i] = qc.queue_id;
	}
	EXPECT_EQ(-ENOSPC, uq_create(self->fd, self->ring.va, 16, 0, 0, &qc));
	EXPECT_EQ(0, qc.queue_id);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, uq_destroy(self->fd, ids[i]));

	/* A file closed with active queues gives them back. */
	fd2 = tern_open_index(_metadata, 0, NULL);
	{
		struct uq_buf r2;

		ASSERT_EQ(0, uq_buf_new(fd2, 65536, DRM_TERN_BO_HOST, 0, &r2));
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, uq_create(fd2, r2.va + i * 1024ull, 16, 0, 0, &qc));
	}
	EXPECT_EQ(-ENOSPC, uq_create(self->fd, self->ring.va, 16, 0, 0, &qc));
	close(fd2);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, uq_create(self->fd, self->ring.va + i * 1024ull, 16, 0, 0, &qc));
		ids[i] = qc.queue_id;
	}
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, uq_destroy(self->fd, ids[i]));
}

/* Every rejected QUEUE_DESTROY and QUEUE_QUERY field; the queue survives. */
TEST_F(userq, destroy_query_rejects)
{
	struct drm_tern_queue_destroy d;
	struct drm_tern_queue_query q;
	struct drm_tern_queue_create qc;

	ASSERT_EQ(0, uq_create(self->fd, self->ring.va, 16, 0, 0, &qc));

#define DESTROY(expect, mod) do {						\
	memset(&d, 0, sizeof(d));						\
	d.queue_id = qc.queue_id;						\
	mod;									\
	EXPECT_EQ(expect, tern_ioctl(self->fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &d))	\
		TH_LOG("%s", #mod);						\
} while (0)
#define QUERY(expect, mod) do {							\
	memset(&q, 0, sizeof(q));						\
	q.queue_id = qc.queue_id;						\
	mod;									\
	EXPECT_EQ(expect, tern_ioctl(self->fd, DRM_IOCTL_TERN_QUEUE_QUERY, &q))	\
		TH_LOG("%s", #mod);						\
} while (0)
	DESTROY(-EINVAL, d.flags = 1);
	DESTROY(-EINVAL, d.reserved[0] = 1);
	DESTROY(-EINVAL, d.reserved[1] = 1);
	DESTROY(-ENOENT, d.queue_id = 0);
	DESTROY(-ENOENT, d.queue_id = qc.queue_id + TERN_MAX_QUEUES);
	DESTROY(-ENOENT, d.queue_id = ~0u);
	QUERY(-EINVAL, q.flags = 1);
	QUERY(-EINVAL, q.reserved[0] = 1);
	QUERY(-EINVAL, q.reserved[1] = 1);
	QUERY(-ENOENT, q.queue_id = 0);
	QUERY(-ENOENT, q.queue_id = ~0u);
	/* Another queue id of this device, not created by this file. */
	if (self->info.num_user_queues > 1)
		QUERY(-ENOENT, q.queue_id = qc.queue_id % self->info.num_user_queues + 1);

	QUERY(0, (void)0);
	EXPECT_EQ(DRM_TERN_QUEUE_ACTIVE, q.state);
	DESTROY(0, (void)0);
	DESTROY(-ENOENT, (void)0);
	QUERY(-ENOENT, (void)0);
#undef DESTROY
#undef QUERY
}

/* Doorbell mmap: one page, shared, not executable, only this file's queue. */
TEST_F(userq, doorbell_mmap_rejects)
{
	uint64_t off, base;
	struct drm_tern_queue_create qc;
	void *p;

	ASSERT_EQ(0, uq_create(self->fd, self->ring.va, 16, 0, 0, &qc));
	off = qc.doorbell_offset;
	ASSERT_EQ(0, off % 4096);
	ASSERT_GT(1ull << 32, off) TH_LOG("doorbells lie below the GEM offsets");
	base = off - (uint64_t)(qc.queue_id - 1) * 4096;

	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8192, PROT_WRITE, MAP_SHARED, self->fd, (off_t)off));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_PRIVATE, self->fd, (off_t)off));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE | PROT_EXEC, MAP_SHARED, self->fd,
				   (off_t)off));
	EXPECT_EQ(EPERM, errno);
	/* Offsets that are no doorbell, or another (free) queue's. */
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd,
				   (off_t)(base - 4096)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd,
				   (off_t)(base + self->info.num_user_queues * 4096ull)));
	EXPECT_EQ(EINVAL, errno);
	if (self->info.num_user_queues > 1) {
		uint64_t other = qc.queue_id == 1 ? base + 4096 : base;

		errno = 0;
		EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd,
					   (off_t)other));
		EXPECT_EQ(EACCES, errno);
	}

	/* The good mapping can never become executable. */
	p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd, (off_t)off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, 4096, PROT_WRITE | PROT_EXEC));
	EXPECT_EQ(MAP_FAILED, mremap(p, 4096, 8192, 0));
	EXPECT_EQ(0, uq_store_signal(p, 0));
	munmap(p, 4096);
	EXPECT_EQ(0, uq_destroy(self->fd, qc.queue_id));
}

/*
 * After QUEUE_DESTROY the old doorbell mapping is gone: a store faults,
 * also after a new queue took the same slot (and offset) again.
 */
TEST_F(userq, destroy_revokes_doorbell)
{
	struct drm_tern_queue_create qc, qc2;
	volatile uint32_t *db, *db2;

	new_queue(_metadata, self->fd, self->ring.va, 16, 0, 0, &qc, &db);
	EXPECT_EQ(0, uq_store_signal(db, 0));
	ASSERT_EQ(0, uq_destroy(self->fd, qc.queue_id));
	EXPECT_EQ(SIGBUS, uq_store_signal(db, 0));

	new_queue(_metadata, self->fd, self->ring.va, 16, 0, 0, &qc2, &db2);
	EXPECT_EQ(SIGBUS, uq_store_signal(db, 0));
	if (qc2.doorbell_offset == qc.doorbell_offset)
		TH_LOG("the new queue has the old queue's doorbell offset");
	EXPECT_EQ(0, uq_store_signal(db2, 0));

	/* And the new queue works through the new mapping only. */
	uq_desc_copy(self->ring.cpu, 0, self->dst.va, self->src.va, 4096, 0, self->fence.va, 1);
	uq_ring(db2, 1);
	ASSERT_EQ(0, uq_wait_fence(fence_word(&self->fence, 0), 1));
	EXPECT_EQ(-1, tern_first_diff(self->dst.cpu, self->src.cpu, 4096));
	EXPECT_EQ(0, uq_destroy(self->fd, qc2.queue_id));
	EXPECT_EQ(SIGBUS, uq_store_signal(db2, 0));
	munmap((void *)db, 4096);
	munmap((void *)db2, 4096);
}

TEST_HARNESS_MAIN
