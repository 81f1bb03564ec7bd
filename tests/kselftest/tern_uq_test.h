/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the user-mode queue kselftests (tern_userq, tern_security):
 * buffers with their device VA and CPU mapping, queues, doorbells and
 * descriptors written straight into a ring. Include after tern_test.h.
 */
#ifndef TERN_UQ_TEST_H
#define TERN_UQ_TEST_H

#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

/* Generous: the chip's engines run as threads of a TCG guest's QEMU. */
#define UQ_TIMEOUT_MS	60000

/* A buffer of the caller's context: handle, device VA, CPU mapping. */
struct uq_buf {
	uint32_t handle;
	uint64_t size;
	uint64_t va;
	uint64_t mmap_offset;
	void *cpu;		/* NULL for a buffer not mapped for the CPU */
};

/* 0 or -errno; maps the buffer for the CPU if @map. */
static inline int uq_buf_new(int fd, uint64_t size, uint32_t domain, int map, struct uq_buf *b)
{
	struct drm_tern_bo_info info;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = tern_bo_create(fd, size, domain, &b->handle);
	if (ret)
		return ret;
	ret = tern_bo_info(fd, b->handle, &info);
	if (ret)
		return ret;
	b->size = info.size;
	b->va = info.device_va;
	b->mmap_offset = info.mmap_offset;
	if (map) {
		b->cpu = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			      (off_t)info.mmap_offset);
		if (b->cpu == MAP_FAILED) {
			b->cpu = NULL;
			return -errno;
		}
	}
	return 0;
}

static inline void uq_buf_free(int fd, struct uq_buf *b)
{
	if (b->cpu)
		munmap(b->cpu, b->size);
	if (b->handle)
		tern_bo_close(fd, b->handle);
	memset(b, 0, sizeof(*b));
}

static inline int uq_create(int fd, uint64_t ring_va, uint32_t entries, uint32_t flags, int efd,
			    struct drm_tern_queue_create *qc)
{
	memset(qc, 0, sizeof(*qc));
	qc->ring_va = ring_va;
	qc->ring_entries = entries;
	qc->flags = flags;
	qc->eventfd = efd;
	return tern_ioctl(fd, DRM_IOCTL_TERN_QUEUE_CREATE, qc);
}

static inline int uq_destroy(int fd, uint32_t queue_id)
{
	struct drm_tern_queue_destroy d = { .queue_id = queue_id };

	return tern_ioctl(fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &d);
}

static inline int uq_query(int fd, uint32_t queue_id, struct drm_tern_queue_query *q)
{
	memset(q, 0, sizeof(*q));
	q->queue_id = queue_id;
	return tern_ioctl(fd, DRM_IOCTL_TERN_QUEUE_QUERY, q);
}

/* The doorbell page, or MAP_FAILED with errno. */
static inline volatile uint32_t *uq_doorbell_map(int fd, uint64_t offset)
{
	void *p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, (off_t)offset);

	return p == MAP_FAILED ? MAP_FAILED : (volatile uint32_t *)p;
}

/*
 * Ring: the descriptor stores must reach memory before the chip sees the
 * doorbell (x86 keeps store order; the fence also stops the compiler).
 */
static inline void uq_ring(volatile uint32_t *doorbell, uint32_t tail)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*doorbell = tail;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Writes a COPY of @size bytes from @src to @dst (VAs) at ring slot @idx. */
static inline void uq_desc_copy(void *ring, uint32_t idx, uint64_t dst, uint64_t src,
				uint64_t size, uint32_t flags, uint64_t fence_va,
				uint64_t fence_value)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = flags | (fence_va ? TERN_DESC_F_FENCE : 0),
		.src = src,
		.dst = dst,
		.size = size,
		.fence_addr = fence_va,
		.fence_value = fence_value,
	};

	memcpy((char *)ring + (size_t)idx * TERN_DESC_SIZE, &d, sizeof(d));
}

static inline uint64_t uq_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline uint64_t uq_now_ms(void)
{
	return uq_now_us() / 1000;
}

/* Waits until the 64-bit word at @p is at least @value: 0, or -ETIME. */
static inline int uq_wait_fence(const void *p, uint64_t value)
{
	const volatile uint64_t *f = p;
	uint64_t t0 = uq_now_ms();

	while (*f < value) {
		if (uq_now_ms() - t0 > UQ_TIMEOUT_MS)
			return -ETIME;
		sched_yield();
	}
	return 0;
}

/* Waits until the queue is halted (QUEUE_QUERY); 0, -ETIME or -errno. */
static inline int uq_wait_halted(int fd, uint32_t queue_id, struct drm_tern_queue_query *q)
{
	uint64_t t0 = uq_now_ms();
	int ret;

	for (;;) {
		ret = uq_query(fd, queue_id, q);
		if (ret)
			return ret;
		if (q->state == DRM_TERN_QUEUE_HALTED)
			return 0;
		if (uq_now_ms() - t0 > UQ_TIMEOUT_MS)
			return -ETIME;
		usleep(1000);
	}
}

static sigjmp_buf uq_jmp;
static volatile sig_atomic_t uq_sig;

static inline void uq_on_signal(int sig)
{
	uq_sig = sig;
	siglongjmp(uq_jmp, 1);
}

/*
 * What a store to @p does: 0 when it works, else the signal it raised
 * (SIGSEGV or SIGBUS), caught here. Done in the calling process: doorbell
 * mappings are not inherited by a forked child.
 */
static inline int uq_store_signal(volatile uint32_t *p, uint32_t value)
{
	struct sigaction sa = { .sa_handler = uq_on_signal }, old_segv, old_bus;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	uq_sig = 0;
	if (!sigsetjmp(uq_jmp, 1)) {
		*p = value;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return uq_sig;
}

/* Pipes between the two processes of a test; fails the test on error. */
static inline void uq_send(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		_exit(90);
}

static inline int uq_recv(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

#endif /* TERN_UQ_TEST_H */
