// SPDX-License-Identifier: MIT
/*
 * libtern user-mode queue path: one queue of the device per tern_device,
 * made on first use with DRM_IOCTL_TERN_QUEUE_CREATE, then driven from user
 * space with no system call per job.
 *
 * The ring (USERQ_ENTRIES descriptors) and the fence word live in host
 * buffers of the library, mapped for the CPU and known to the device by
 * their device VAs (BO_INFO.device_va). Copies name their buffers by device
 * VA too; the device MMU checks every page. Every descriptor writes its
 * sequence number (1, 2, ... in this queue) to the fence word, so the word
 * is the count of descriptors done, and a job is done when the word
 * reaches its last descriptor's number. Pushing a job: descriptors into the
 * ring, then the new tail to the doorbell page.
 *
 * Waiting spins on the fence word for a moment, then sleeps on an eventfd
 * the driver signals for descriptors with TERN_DESC_F_IRQ, and asks
 * DRM_IOCTL_TERN_QUEUE_QUERY now and then whether the queue halted. Jobs
 * carry no F_IRQ: an interrupt per job costs a vCPU's time even when
 * nobody sleeps. A waiter about to sleep pushes a NOP with F_IRQ behind its
 * job instead (the queue runs in order, so it fires once the job is done),
 * unless one is already queued behind it (irq_seq). A halted queue runs nothing more: the job at its head fails
 * as it would on the ioctl path (-EIO with the device error, -EFAULT for an
 * MMU fault), the jobs after it fail with -ECANCELED, and the queue is
 * destroyed; the next job makes a new one (a new generation).
 *
 * A lost completion (a descriptor done without its fence write, a fault
 * the chip can have) would leave a waiter asleep for good when it is the
 * last one queued. The same periodic QUEUE_QUERY finds it: the device's
 * count of descriptors done is ahead of the fence word, so the word is
 * raised to it (the count is read after the fence writes it covers).
 *
 * Lock: userq->lock protects the queue (ring, seq, gen, live) and orders
 * the settling of fences at a halt; it is taken before dev->lock.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "tern_internal.h"
#include "tern_regs.h"

#define USERQ_ENTRIES		1024
#define USERQ_SPIN_NS		(30 * 1000ll)
#define USERQ_CHECK_NS		(10 * 1000 * 1000ll)	/* QUEUE_QUERY at most this often */

struct tern_userq {
	pthread_mutex_t lock;		/* everything below */
	bool live;			/* a queue exists */
	uint32_t queue_id;
	struct tern_buffer *ring_bo, *fence_bo;
	struct tern_dma_desc *ring;
	uint64_t *fence;		/* written by the device: descriptors done */
	volatile uint32_t *doorbell;
	uint64_t seq;			/* descriptors pushed in this generation */
	uint64_t gen;			/* queues made so far */
	uint64_t irq_seq;		/* last descriptor with F_IRQ in this generation */
	int efd;			/* eventfd for F_IRQ, or -1 */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t fence_word(struct tern_userq *u)
{
	return __atomic_load_n(u->fence, __ATOMIC_ACQUIRE);
}

static int map_internal(struct tern_device *dev, uint64_t size, struct tern_buffer **bop,
			void **mapp)
{
	int ret;

	ret = tern_buffer_alloc_internal(dev, size, TERN_MEM_HOST, bop);
	if (ret)
		return ret;
	ret = tern_buffer_map(*bop, mapp);
	if (ret) {
		tern_buffer_free(*bop);
		*bop = NULL;
	}
	return ret;
}

/* Makes the queue; u->lock held. */
static int open_locked(struct tern_device *dev, struct tern_userq *u)
{
	struct drm_tern_queue_create qc;
	void *map;
	int ret;

	if (u->live)
		return 0;
	if (!u->ring_bo) {
		ret = map_internal(dev, USERQ_ENTRIES * sizeof(struct tern_dma_desc), &u->ring_bo,
				   &map);
		if (ret)
			return ret;
		u->ring = map;
	}
	if (!u->fence_bo) {
		ret = map_internal(dev, 4096, &u->fence_bo, &map);
		if (ret)
			return ret;
		u->fence = map;
	}
	if (!u->ring_bo->device_va || !u->fence_bo->device_va)
		return tern_fail(-EOPNOTSUPP, "%s: the driver gives buffers no device VA", dev->node);
	memset(&qc, 0, sizeof(qc));
	qc.ring_va = u->ring_bo->device_va;
	qc.ring_entries = USERQ_ENTRIES;
	if (u->efd >= 0) {
		qc.flags = DRM_TERN_QUEUE_EVENTFD;
		qc.eventfd = u->efd;
	}
	ret = drmIoctl(dev->fd, DRM_IOCTL_TERN_QUEUE_CREATE, &qc) ? -errno : 0;
	if (ret == -EINVAL && u->efd >= 0) {
		/* No eventfd support: poll the fence word instead. */
		close(u->efd);
		u->efd = -1;
		qc.flags = 0;
		qc.eventfd = 0;
		ret = drmIoctl(dev->fd, DRM_IOCTL_TERN_QUEUE_CREATE, &qc) ? -errno : 0;
	}
	if (ret)
		return tern_fail(ret, "DRM_IOCTL_TERN_QUEUE_CREATE on %s: %s", dev->node,
				 strerror(-ret));
	map = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, dev->fd, (off_t)qc.doorbell_offset);
	if (map == MAP_FAILED) {
		struct drm_tern_queue_destroy qd = { .queue_id = qc.queue_id };

		ret = tern_fail(-errno, "mmap of the doorbell of %s user queue %u: %s", dev->node,
				qc.queue_id, strerror(errno));
		drmIoctl(dev->fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &qd);
		return ret;
	}
	u->doorbell = map;
	u->queue_id = qc.queue_id;
	__atomic_store_n(u->fence, 0, __ATOMIC_RELEASE);
	u->seq = 0;
	u->irq_seq = 0;
	u->gen++;
	u->live = true;
	return 0;
}

static void close_locked(struct tern_device *dev, struct tern_userq *u)
{
	struct drm_tern_queue_destroy qd = { .queue_id = u->queue_id };

	if (!u->live)
		return;
	munmap((void *)u->doorbell, 4096);
	drmIoctl(dev->fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &qd);
	u->live = false;
}

int tern_userq_open(struct tern_device *dev)
{
	struct tern_userq *u;
	int ret;

	pthread_mutex_lock(&dev->lock);
	u = dev->userq;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (u) {
			pthread_mutex_init(&u->lock, NULL);
			u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			dev->userq = u;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (!u)
		return tern_fail(-ENOMEM, "%s: out of memory for a user queue", dev->node);
	pthread_mutex_lock(&u->lock);
	ret = open_locked(dev, u);
	pthread_mutex_unlock(&u->lock);
	return ret;
}

void tern_userq_fini(struct tern_device *dev)
{
	struct tern_userq *u = dev->userq;

	if (!u)
		return;
	close_locked(dev, u);
	tern_buffer_free(u->ring_bo);
	tern_buffer_free(u->fence_bo);
	if (u->efd >= 0)
		close(u->efd);
	pthread_mutex_destroy(&u->lock);
	free(u);
	dev->userq = NULL;
}

/* Raise the fence word to @to unless the device wrote more already. */
static void raise_fence_word(struct tern_userq *u, uint64_t to)
{
	uint64_t cur = fence_word(u);

	while (cur < to && !__atomic_compare_exchange_n(u->fence, &cur, to, false,
							 __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
		;
}

/*
 * If the queue halted: settles every fence of its generation (done, failed
 * at the head, or not run) and destroys it. If it runs but finished more
 * descriptors than the fence word says: completions were lost, the word
 * catches up. u->lock held.
 */
static void check_halt_locked(struct tern_device *dev, struct tern_userq *u)
{
	struct drm_tern_queue_query qq = { .queue_id = u->queue_id };
	char failed[200], cancelled[320];
	uint64_t done, bad;
	struct tern_fence *f;
	int err;

	if (!u->live)
		return;
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_QUEUE_QUERY, &qq)) {
		/* The device went away (unbind): nothing of the queue runs any more. */
		err = tern_fail(-errno, "DRM_IOCTL_TERN_QUEUE_QUERY on %s: %s", dev->node,
				strerror(errno));
		if (err != -ENODEV)
			return;
		qq.state = DRM_TERN_QUEUE_HALTED;
		qq.error = 0;
	}
	if (qq.state != DRM_TERN_QUEUE_HALTED) {
		if (qq.completed > fence_word(u))
			raise_fence_word(u, qq.completed);
		return;
	}
	done = fence_word(u);
	bad = done + 1;
	if (qq.error == TERN_ERR_MMU_FAULT)
		err = tern_copy_result(dev, -1, DRM_TERN_JOB_MMU_FAULT, qq.fault_info,
				       qq.fault_addr);
	else if (qq.error)
		err = tern_copy_result(dev, -1, DRM_TERN_JOB_DEVICE_ERROR, qq.error, 0);
	else
		err = tern_copy_result(dev, -1, DRM_TERN_JOB_ABORTED, 0, 0);
	snprintf(failed, sizeof(failed), "%s", tern_last_error());
	snprintf(cancelled, sizeof(cancelled),
		 "%s user queue: not run: an earlier job on the queue failed (%s)", dev->node,
		 failed);

	pthread_mutex_lock(&dev->lock);
	for (f = dev->fences; f; f = f->next) {
		if (f->path != TERN_SUBMIT_USERQ || f->done || !f->jobs || f->uq_gen != u->gen)
			continue;
		if (f->uq_seq <= done) {
			f->result = 0;
		} else if (f->uq_first <= bad) {
			f->result = err;
			snprintf(f->error, sizeof(f->error), "%s", failed);
		} else {
			f->result = -ECANCELED;
			snprintf(f->error, sizeof(f->error), "%.255s", cancelled);
		}
		f->waited = f->jobs;
		f->done = 1;
	}
	pthread_mutex_unlock(&dev->lock);
	close_locked(dev, u);
	/* Fences of this generation not on dev->fences are being published or released. */
	u->gen++;
}

/* Waits for room for @n descriptors; u->lock held (dropped while it yields). */
static int wait_room_locked(struct tern_device *dev, struct tern_userq *u, uint64_t n)
{
	int64_t last = tern_now_ns();
	int ret;

	for (;;) {
		if (!u->live) {
			ret = open_locked(dev, u);
			if (ret)
				return ret;
		}
		if (u->seq + n - fence_word(u) < USERQ_ENTRIES)
			return 0;
		if (tern_now_ns() - last > USERQ_CHECK_NS) {
			check_halt_locked(dev, u);
			last = tern_now_ns();
		}
		pthread_mutex_unlock(&u->lock);
		sched_yield();
		pthread_mutex_lock(&u->lock);
	}
}

int tern_userq_submit(struct tern_device *dev, struct tern_fence *f,
		      const struct tern_piece *p, unsigned int n)
{
	struct tern_userq *u = dev->userq;
	unsigned int ndesc = n ? n : 1;
	struct tern_dma_desc *d;
	int ret;

	pthread_mutex_lock(&u->lock);
	ret = wait_room_locked(dev, u, ndesc);
	if (ret) {
		pthread_mutex_unlock(&u->lock);
		return ret;
	}
	f->uq_gen = u->gen;
	f->uq_first = u->seq + 1;
	for (unsigned int i = 0; i < ndesc; i++) {
		d = &u->ring[u->seq % USERQ_ENTRIES];
		memset(d, 0, sizeof(*d));
		if (n) {
			d->opcode = TERN_DESC_OP_COPY;
			d->src = p[i].src->device_va + p[i].src_offset;
			d->dst = p[i].dst->device_va + p[i].dst_offset;
			d->size = p[i].size;
		} else {
			d->opcode = TERN_DESC_OP_NOP;
		}
		d->flags = TERN_DESC_F_FENCE;
		d->fence_addr = u->fence_bo->device_va;
		d->fence_value = ++u->seq;
	}
	f->uq_seq = u->seq;
	f->jobs = 1;
	/* The descriptors are in memory before the device hears of them. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*u->doorbell = (uint32_t)(u->seq % USERQ_ENTRIES);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/*
 * Makes sure an F_IRQ descriptor follows @f's job: a NOP, unless one is
 * queued already (or the ring is full: then the waiter polls).
 */
static void arm_irq(struct tern_userq *u, struct tern_fence *f)
{
	struct tern_dma_desc *d;

	pthread_mutex_lock(&u->lock);
	if (u->live && u->gen == f->uq_gen && u->irq_seq < f->uq_seq &&
	    u->seq + 1 - fence_word(u) < USERQ_ENTRIES) {
		d = &u->ring[u->seq % USERQ_ENTRIES];
		memset(d, 0, sizeof(*d));
		d->opcode = TERN_DESC_OP_NOP;
		d->flags = TERN_DESC_F_FENCE | TERN_DESC_F_IRQ;
		d->fence_addr = u->fence_bo->device_va;
		d->fence_value = ++u->seq;
		u->irq_seq = u->seq;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		*u->doorbell = (uint32_t)(u->seq % USERQ_ENTRIES);
	}
	pthread_mutex_unlock(&u->lock);
}

/* 1 if @f is done (f->result set), else 0. */
static int fence_done(struct tern_userq *u, struct tern_fence *f)
{
	int done;

	if (__atomic_load_n(&u->gen, __ATOMIC_RELAXED) == f->uq_gen && fence_word(u) >= f->uq_seq) {
		/* The word is this generation's only while the gen holds: check again. */
		pthread_mutex_lock(&u->lock);
		done = f->done || (u->gen == f->uq_gen && fence_word(u) >= f->uq_seq);
		if (done && !f->done) {
			f->result = 0;
			f->waited = f->jobs;
			f->done = 1;
		}
		pthread_mutex_unlock(&u->lock);
		return done;
	}
	if (__atomic_load_n(&u->gen, __ATOMIC_RELAXED) != f->uq_gen) {
		/* Its queue halted: check_halt_locked() settled it. */
		pthread_mutex_lock(&u->lock);
		done = f->done;
		pthread_mutex_unlock(&u->lock);
		return done;
	}
	return 0;
}

int tern_userq_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	struct tern_userq *u = dev->userq;
	int64_t start = tern_now_ns(), now, last = start, left;
	struct pollfd pfd;
	uint64_t count;

	for (;;) {
		if (fence_done(u, f))
			break;
		now = tern_now_ns();
		if (now - start < USERQ_SPIN_NS && (timeout_ns == TERN_TIMEOUT_INFINITE ||
						    now - start < timeout_ns)) {
			cpu_relax();
			continue;
		}
		if (timeout_ns != TERN_TIMEOUT_INFINITE && now - start >= timeout_ns)
			return tern_fail(-ETIME, "%s user queue: copy still running", dev->node);
		if (now - last >= USERQ_CHECK_NS) {
			pthread_mutex_lock(&u->lock);
			if (u->gen == f->uq_gen)
				check_halt_locked(dev, u);
			pthread_mutex_unlock(&u->lock);
			last = now;
			continue;
		}
		left = USERQ_CHECK_NS - (now - last);
		if (timeout_ns != TERN_TIMEOUT_INFINITE && timeout_ns - (now - start) < left)
			left = timeout_ns - (now - start);
		if (u->efd < 0) {
			usleep(20);
			continue;
		}
		arm_irq(u, f);
		if (fence_done(u, f))
			break;
		pfd.fd = u->efd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) > 0 &&
		    read(u->efd, &count, sizeof(count)) < 0)
			count = 0;
	}
	if (f->result)
		tern_fail(f->result, "%s", f->error);
	return f->result;
}
