// SPDX-License-Identifier: MIT
/*
 * libtern io_uring path: jobs as IORING_OP_URING_CMD commands on the device
 * file, one ring per device (SQE128 | CQE32: the 80-byte command area holds
 * the UAPI structure, the 32-byte CQE the job's status).
 *
 * The driver posts a job's CQE when its fence signals: res 0 (done), -EIO
 * (failed; big_cqe[0] = DRM_TERN_JOB_* | error_code << 32), -ECANCELED,
 * or at once the -errno of a refused command. user_data is the fence. So a
 * job needs neither a syncobj nor a WAIT ioctl, and a thread that waits
 * reaps every CQE there is into the fences they belong to.
 *
 * Locks: sq_lock serialises the SQ (liburing's SQ is single-producer);
 * cq_lock the CQ, the io_uring fields of the fences (cqes, ustatus, ucode,
 * uerr, released) and the list of released fences. A waiter holds cq_lock
 * while it sleeps in the kernel, in slices, so that one thread reaps for
 * all. Lock order: cq_lock, then dev->lock (settling a released launch).
 *
 * liburing 2.3 has no helper for uring_cmd: the SQEs are filled by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "tern_internal.h"

#define URING_ENTRIES		256
#define URING_SLICE_NS		(20 * 1000 * 1000ll)	/* a waiter's sleep before it rechecks */
#define URING_PROBE_NS		(10 * 1000 * 1000 * 1000ll)
#define URING_SPIN_NS		(30 * 1000ll)		/* a waiter polls the CQ this long first */
#define URING_SQ_IDLE_MS	2			/* the SQ thread sleeps after this idle */

struct tern_uring {
	struct io_uring ring;
	pthread_mutex_t sq_lock;	/* the SQ */
	pthread_mutex_t cq_lock;	/* the CQ, fences' io_uring fields, @released */
	struct tern_fence *released;	/* released fences whose CQEs did not all come */
	bool sqpoll;			/* a kernel thread takes the SQEs: no enter per job */
	unsigned int hold;		/* open tern_batch_begin()s: SQEs wait; under sq_lock */
};

void tern_umem_free(struct tern_fence *f)
{
	void **block = f->umem, **next;

	/* An EXEC's block is the exec alone (f->launch); SUBMIT blocks are chained. */
	if (f->launch) {
		free(block);
		block = NULL;
	}
	for (; block; block = next) {
		next = block[0];
		free(block);
	}
	f->umem = NULL;
}

void tern_uring_fill_cmd(struct io_uring_sqe *sqe, int fd, uint32_t op, const void *cmd,
			 size_t len, uint64_t user_data)
{
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128: the command area runs into the second half */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, cmd, len);
	sqe->user_data = user_data;
}

int tern_uring_queue_init(struct io_uring *ring, unsigned int entries)
{
	struct io_uring_params params;
	int ret;

	/*
	 * Cooperative task running: the driver's completion (task work in
	 * this task) waits for the task's next entry into the kernel instead
	 * of an inter-processor interrupt to a running task; a sleeping
	 * waiter is still woken (the task work runs in the submitting thread:
	 * if it computes in user space while another thread waits, at its
	 * next tick). Older kernels refuse it.
	 */
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 |
		       IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	ret = io_uring_queue_init_params(entries, ring, &params);
	if (ret == -EINVAL) {
		memset(&params, 0, sizeof(params));
		params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
		ret = io_uring_queue_init_params(entries, ring, &params);
	}
	return ret;
}

/* Frees a released fence whose last CQE came; cq_lock held. */
static void finish_released(struct tern_uring *u, struct tern_fence *f)
{
	char saved[512];

	tern_fence_unlink(&u->released, f);
	if (f->launch && !f->done) {
		/* Settling records a message; this thread did not ask for it. */
		snprintf(saved, sizeof(saved), "%s", tern_last_error());
		tern_launch_settle(f, f->uerr, f->ustatus, f->ucode);
		tern_fail(0, "%s", saved);
	}
	tern_umem_free(f);
	free(f);
}

/* Takes every CQE there is into its fence; cq_lock held. */
static void reap_locked(struct tern_uring *u)
{
	struct io_uring_cqe *cqe;
	struct tern_fence *f;
	uint32_t status, code;
	int res;

	while (!io_uring_peek_cqe(&u->ring, &cqe)) {
		f = (struct tern_fence *)(uintptr_t)cqe->user_data;
		res = cqe->res;
		status = (uint32_t)cqe->big_cqe[0];
		code = (uint32_t)(cqe->big_cqe[0] >> 32);
		io_uring_cqe_seen(&u->ring, cqe);
		if (!f)
			continue;
		f->cqes++;
		if (f->uerr || f->ustatus != DRM_TERN_JOB_OK) {
			/* the first failure of the fence's jobs is its result */
		} else if (res == 0 || res == -EIO) {
			f->ustatus = status;
			f->ucode = code;
			if (res == -EIO && status == DRM_TERN_JOB_OK)
				f->uerr = -EIO;
		} else {
			f->uerr = res;
		}
		if (f->released && f->cqes >= f->jobs)
			finish_released(u, f);
	}
}

/*
 * Hands every SQE in the ring to the kernel; sq_lock held. Once in the SQ
 * ring the kernel owns an SQE: submit until it takes it.
 */
static int submit_locked(struct tern_uring *u)
{
	int ret;

	do {
		ret = io_uring_submit(&u->ring);
		if (ret == -EBUSY || ret == -EAGAIN) {
			pthread_mutex_lock(&u->cq_lock);
			reap_locked(u);
			pthread_mutex_unlock(&u->cq_lock);
		}
	} while (ret == -EBUSY || ret == -EAGAIN || ret == -EINTR);
	return ret;
}

/* Sends the SQEs a batch holds; 0 or -errno. */
static int flush_held(struct tern_device *dev)
{
	struct tern_uring *u = dev->uring;
	int ret = 0;

	pthread_mutex_lock(&u->sq_lock);
	if (io_uring_sq_ready(&u->ring))
		ret = submit_locked(u);
	pthread_mutex_unlock(&u->sq_lock);
	if (ret < 0)
		return tern_fail(ret, "io_uring_submit on %s: %s", dev->node, strerror(-ret));
	return 0;
}

void tern_uring_hold(struct tern_device *dev)
{
	struct tern_uring *u = dev->uring;

	pthread_mutex_lock(&u->sq_lock);
	u->hold++;
	pthread_mutex_unlock(&u->sq_lock);
}

/* The batch count is checked by the caller: @u->hold is not 0. */
int tern_uring_release_hold(struct tern_device *dev)
{
	struct tern_uring *u = dev->uring;
	bool last;

	pthread_mutex_lock(&u->sq_lock);
	last = !--u->hold;
	pthread_mutex_unlock(&u->sq_lock);
	return last ? flush_held(dev) : 0;
}

/* Queues one command for @f (f->jobs counts it); 0 or -errno of the ring. */
static int push(struct tern_device *dev, struct tern_fence *f, uint32_t op, const void *cmd,
		size_t len)
{
	struct tern_uring *u = dev->uring;
	struct io_uring_sqe *sqe;
	int ret;

	/* Before the SQE goes: its CQE may be reaped by another thread at once. */
	f->jobs++;
	pthread_mutex_lock(&u->sq_lock);
	sqe = io_uring_get_sqe(&u->ring);
	for (int tries = 0; !sqe && tries < 1000; tries++) {
		/* The SQ thread has not taken the SQEs yet (without it: cannot happen). */
		io_uring_submit(&u->ring);
		if (u->sqpoll)
			io_uring_sqring_wait(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (!sqe) {
		pthread_mutex_unlock(&u->sq_lock);
		f->jobs--;
		return tern_fail(-EBUSY, "io_uring of %s: no free SQE", dev->node);
	}
	tern_uring_fill_cmd(sqe, dev->fd, op, cmd, len, (uintptr_t)f);
	if (u->hold) {
		/* A batch is open: the SQE goes with the others at its end. */
		pthread_mutex_unlock(&u->sq_lock);
		return 0;
	}
	ret = submit_locked(u);
	pthread_mutex_unlock(&u->sq_lock);
	if (ret < 0)
		return tern_fail(ret, "io_uring_submit on %s: %s", dev->node, strerror(-ret));

	/*
	 * A refused command has its CQE at once: report it here, as the ioctl
	 * would, and count the job as never queued. Another thread reaping
	 * (and sleeping) holds cq_lock: then the refusal shows at the wait.
	 */
	if (pthread_mutex_trylock(&u->cq_lock))
		return 0;
	reap_locked(u);
	ret = f->uerr;
	if (ret && ret != -ECANCELED && ret != -EIO && f->cqes == f->jobs) {
		f->jobs--;
		f->cqes--;
		f->uerr = 0;
	} else {
		ret = 0;
	}
	pthread_mutex_unlock(&u->cq_lock);
	return ret;
}

int tern_uring_submit(struct tern_device *dev, struct tern_fence *f, int queue,
		      const struct tern_piece *p, unsigned int n)
{
	struct drm_tern_submit submit;
	struct drm_tern_copy *copies = NULL;
	void **block = NULL;
	int ret;

	if (n) {
		/*
		 * The driver reads the copies when it takes the command: keep them
		 * till the fence goes, chained behind f->umem (a pointer, then the
		 * copies).
		 */
		block = malloc(2 * sizeof(void *) + n * sizeof(*copies));
		if (!block)
			return tern_fail(-ENOMEM, "copy: out of memory");
		copies = (struct drm_tern_copy *)(block + 2);
		tern_pieces_to_uapi(p, n, copies);
	}
	memset(&submit, 0, sizeof(submit));
	submit.copies = (uintptr_t)copies;
	submit.copy_count = n;
	submit.queue = (uint32_t)queue;
	ret = push(dev, f, DRM_TERN_URING_SUBMIT, &submit, sizeof(submit));
	if (ret) {
		free(block);
		return tern_fail(ret, "DRM_TERN_URING_SUBMIT on %s queue %d: %s", dev->node, queue,
				 strerror(-ret));
	}
	if (block) {
		block[0] = f->umem;
		f->umem = block;
	}
	return 0;
}

int tern_uring_exec(struct tern_device *dev, struct tern_fence *f, struct drm_tern_exec *exec)
{
	struct drm_tern_uring_exec cmd = { .exec = (uintptr_t)exec };
	int ret;

	f->umem = exec;
	ret = push(dev, f, DRM_TERN_URING_EXEC, &cmd, sizeof(cmd));
	if (ret)
		return tern_fail(ret, "DRM_TERN_URING_EXEC on %s core %u: %s", dev->node, exec->core,
				 strerror(-ret));
	return 0;
}

int tern_uring_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	struct tern_uring *u = dev->uring;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int64_t deadline = 0, left, start;
	int ret = 0;

	/* The fence's job may still wait in an open batch: send it first. */
	ret = flush_held(dev);
	if (ret)
		return ret;
	if (timeout_ns != TERN_TIMEOUT_INFINITE)
		deadline = tern_now_ns() + timeout_ns;
	pthread_mutex_lock(&u->cq_lock);
	start = tern_now_ns();
	for (;;) {
		reap_locked(u);
		if (f->cqes >= f->jobs)
			break;
		/* With the SQ thread the CQEs come without us: poll a moment before sleeping. */
		if (u->sqpoll && tern_now_ns() - start < URING_SPIN_NS &&
		    (timeout_ns == TERN_TIMEOUT_INFINITE || tern_now_ns() < deadline))
			continue;
		left = URING_SLICE_NS;
		if (timeout_ns != TERN_TIMEOUT_INFINITE) {
			left = deadline - tern_now_ns();
			if (left <= 0) {
				ret = -ETIME;
				break;
			}
			if (left > URING_SLICE_NS)
				left = URING_SLICE_NS;
		}
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		ret = io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
		if (ret && ret != -ETIME && ret != -EINTR) {
			ret = tern_fail(ret, "io_uring wait on %s: %s", dev->node, strerror(-ret));
			break;
		}
		ret = 0;
	}
	pthread_mutex_unlock(&u->cq_lock);
	return ret;
}

bool tern_uring_release(struct tern_fence *f)
{
	struct tern_uring *u = f->dev->uring;
	bool kept = false;

	pthread_mutex_lock(&u->cq_lock);
	reap_locked(u);
	if (f->cqes < f->jobs) {
		f->released = true;
		tern_fence_link(&u->released, f);
		kept = true;
	} else if (f->launch && !f->done) {
		tern_launch_settle(f, f->uerr, f->ustatus, f->ucode);
		f->done = 1;
	}
	pthread_mutex_unlock(&u->cq_lock);
	return kept;
}

/* One command through a fresh ring, waited for: its CQE's res, or -errno. */
static int probe_cmd(struct tern_device *dev, struct io_uring *ring,
		     const struct drm_tern_submit *submit)
{
	struct __kernel_timespec ts = { .tv_sec = URING_PROBE_NS / 1000000000 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return -EBUSY;
	tern_uring_fill_cmd(sqe, dev->fd, DRM_TERN_URING_SUBMIT, submit, sizeof(*submit), 0);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/*
 * The ring, if the driver takes io_uring commands: an empty job must come
 * back done. A driver without io_uring commands refuses it (-EOPNOTSUPP);
 * one without empty jobs (before UAPI 1.2) with -EINVAL, and then a
 * 64-byte copy in a host buffer of the library decides. A kernel without
 * io_uring fails the setup.
 */
int tern_uring_init(struct tern_device *dev)
{
	struct drm_tern_submit probe = { .queue = 0 };
	struct drm_tern_copy copy = { .src_offset = 0, .dst_offset = 64, .size = 64 };
	struct io_uring_params params;
	struct tern_buffer *scratch;
	struct tern_uring *u;
	const char *env;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	/*
	 * With an SQ thread, queuing a job is a store to the SQ ring and its
	 * CQE is posted by that thread: no system call per job while it is
	 * awake (URING_SQ_IDLE_MS after the last job). But the thread spins
	 * on a CPU while awake, so it is opt-in: TERN_URING_SQPOLL=1. A kernel
	 * that refuses it gets a plain ring.
	 */
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_SQPOLL;
	params.sq_thread_idle = URING_SQ_IDLE_MS;
	env = getenv("TERN_URING_SQPOLL");
	ret = -EINVAL;
	if (env && !strcmp(env, "1"))
		ret = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &params);
	u->sqpoll = !ret;
	if (ret)
		ret = tern_uring_queue_init(&u->ring, URING_ENTRIES);
	if (ret) {
		free(u);
		return ret;
	}
	ret = probe_cmd(dev, &u->ring, &probe);
	if (!ret)
		dev->empty_jobs = 1;
	if (ret == -EINVAL && !tern_buffer_alloc_internal(dev, 128, TERN_MEM_HOST, &scratch)) {
		dev->scratch = scratch;
		copy.src_handle = copy.dst_handle = scratch->handle;
		probe.copies = (uintptr_t)&copy;
		probe.copy_count = 1;
		ret = probe_cmd(dev, &u->ring, &probe);
		if (!ret)
			dev->empty_jobs = 0;
	}
	if (ret) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return ret;
	}
	pthread_mutex_init(&u->sq_lock, NULL);
	pthread_mutex_init(&u->cq_lock, NULL);
	dev->uring = u;
	return 0;
}

void tern_uring_fini(struct tern_device *dev)
{
	struct tern_uring *u = dev->uring;
	struct tern_fence *f, *next;

	if (!u)
		return;
	/* Jobs still running go on in the driver; their fences go now. */
	for (f = u->released; f; f = next) {
		next = f->next;
		tern_umem_free(f);
		free(f);
	}
	io_uring_queue_exit(&u->ring);
	pthread_mutex_destroy(&u->sq_lock);
	pthread_mutex_destroy(&u->cq_lock);
	free(u);
	dev->uring = NULL;
}
