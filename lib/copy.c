// SPDX-License-Identifier: MIT
/*
 * libtern copies: the public copy calls, DMA jobs through
 * DRM_IOCTL_TERN_SUBMIT, and the fences of copies and launches (launch.c
 * makes launch fences with tern_fence_new() and settles them when
 * tern_fence_wait() sees their job done). submit.c turns copies into jobs
 * and picks the path (ioctl here, io_uring, or the user-mode queue); the
 * syncobj machinery below is the ioctl path's.
 *
 * A copy is cut into pieces of at most TERN_COPY_CHUNK bytes, and up to
 * DRM_TERN_MAX_COPIES pieces go into one job, so nearly every copy is one
 * job; only a copy of more than 16 GiB needs several, all on one queue.
 *
 * Every job gets a binary syncobj of its own (out_point 0), and a fence
 * waits with DRM_IOCTL_TERN_WAIT on each of its syncobjs at point 0. A
 * single timeline syncobj per device would be simpler, but the DRM core
 * drops signalled points from a timeline's fence chain as it walks it, and
 * a WAIT on a dropped point reports the status of another job (or OK when
 * none is left): a failed job could pass for a good one. A binary syncobj
 * holds exactly one fence, the one of the last job submitted to it.
 *
 * Syncobjs are reused: a released fence puts them in the device's pool
 * (under dev->lock), and the next SUBMIT to a pooled syncobj replaces its
 * fence, so steady streams of copies create and destroy none. A pooled
 * syncobj may still hold the fence of a running job of a released fence;
 * nothing waits on it before a new SUBMIT replaces it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xf86drm.h>

#include "tern_internal.h"

int tern_check_range(const char *call, struct tern_device *dev, const char *what,
		     struct tern_buffer *buf, uint64_t offset, uint64_t size)
{
	if (!buf)
		return tern_fail(-EINVAL, "%s: %s buffer is NULL", call, what);
	if (buf->dev != dev)
		return tern_fail(-EINVAL, "%s: %s buffer belongs to %s, not %s", call, what,
				 buf->dev->node, dev->node);
	if (offset > buf->size || size > buf->size - offset)
		return tern_fail(-EINVAL,
				 "%s: %s range [%llu, +%llu) outside its buffer of %llu bytes",
				 call, what, (unsigned long long)offset, (unsigned long long)size,
				 (unsigned long long)buf->size);
	return 0;
}

int tern_check_copy(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
		      struct tern_buffer *src, uint64_t src_offset, uint64_t size)
{
	int ret;

	if (!dev)
		return tern_fail(-EINVAL, "copy: device is NULL");
	ret = tern_check_range("copy", dev, "destination", dst, dst_offset, size);
	if (ret)
		return ret;
	ret = tern_check_range("copy", dev, "source", src, src_offset, size);
	if (ret)
		return ret;
	if (dst == src && size && dst_offset < src_offset + size && src_offset < dst_offset + size)
		return tern_fail(-EINVAL,
				 "copy: source [%llu, +%llu) and destination [%llu, +%llu) overlap in one buffer",
				 (unsigned long long)src_offset, (unsigned long long)size,
				 (unsigned long long)dst_offset, (unsigned long long)size);
	return 0;
}

void tern_fence_link(struct tern_fence **list, struct tern_fence *f)
{
	f->prev = NULL;
	f->next = *list;
	if (*list)
		(*list)->prev = f;
	*list = f;
}

void tern_fence_unlink(struct tern_fence **list, struct tern_fence *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		*list = f->next;
	if (f->next)
		f->next->prev = f->prev;
}

/*
 * Moves up to @n syncobjs of @handles into the pool; called with dev->lock
 * held. Returns how many were taken: the caller destroys the others (after
 * dropping the lock).
 */
static unsigned int pool_put_locked(struct tern_device *dev, const uint32_t *handles,
				    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && dev->pool_count < TERN_SYNCOBJ_POOL_MAX; i++)
		dev->pool[dev->pool_count++] = handles[i];
	return i;
}

static void syncobjs_destroy(struct tern_device *dev, const uint32_t *handles, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		drmSyncobjDestroy(dev->fd, handles[i]);
}

static void syncobjs_put(struct tern_device *dev, const uint32_t *handles, unsigned int n)
{
	unsigned int pooled;

	pthread_mutex_lock(&dev->lock);
	pooled = pool_put_locked(dev, handles, n);
	pthread_mutex_unlock(&dev->lock);
	syncobjs_destroy(dev, handles + pooled, n - pooled);
}

/* Fills in the syncobjs of @f not taken from the pool; none on failure. */
static int syncobjs_create(struct tern_device *dev, struct tern_fence *f, unsigned int pooled)
{
	unsigned int i;
	int err;

	for (i = pooled; i < f->nsyncobjs; i++) {
		if (drmSyncobjCreate(dev->fd, 0, &f->syncobjs[i])) {
			err = -errno;
			syncobjs_put(dev, f->syncobjs, i);
			return tern_fail(err, "drmSyncobjCreate on %s: %s", dev->node,
					 strerror(-err));
		}
	}
	return 0;
}

int tern_fence_new(struct tern_device *dev, unsigned int nsyncobjs, struct tern_fence **fp)
{
	unsigned int pooled = 0;
	struct tern_fence *f;
	int ret;

	f = calloc(1, sizeof(*f) + nsyncobjs * sizeof(f->syncobjs[0]));
	if (!f)
		return tern_fail(-ENOMEM, "%s: out of memory for a fence", dev->node);
	f->dev = dev;
	f->queue = -1;
	f->core = -1;
	f->status_slot = -1;
	f->nsyncobjs = nsyncobjs;

	pthread_mutex_lock(&dev->lock);
	while (pooled < nsyncobjs && dev->pool_count)
		f->syncobjs[pooled++] = dev->pool[--dev->pool_count];
	pthread_mutex_unlock(&dev->lock);
	ret = syncobjs_create(dev, f, pooled);
	if (ret) {
		free(f);
		return ret;
	}
	*fp = f;
	return 0;
}

void tern_fence_publish(struct tern_fence *f)
{
	pthread_mutex_lock(&f->dev->lock);
	tern_fence_link(&f->dev->fences, f);
	pthread_mutex_unlock(&f->dev->lock);
}

void tern_fence_discard(struct tern_fence *f)
{
	tern_prof_fence_drop(f);
	syncobjs_put(f->dev, f->syncobjs, f->nsyncobjs);
	tern_umem_free(f);
	free(f);
}

static void fence_list_destroy(struct tern_device *dev, struct tern_fence *list)
{
	struct tern_fence *f, *next;

	for (f = list; f; f = next) {
		next = f->next;
		syncobjs_destroy(dev, f->syncobjs, f->nsyncobjs);
		/* A launch still running: its job holds the profile buffer in the driver. */
		tern_buffer_free(f->prof_buf);
		tern_umem_free(f);
		free(f);
	}
}

void tern_fences_destroy(struct tern_device *dev)
{
	/* Kernels and status slots the launches hold go with the device. */
	fence_list_destroy(dev, dev->fences);
	fence_list_destroy(dev, dev->orphans);
	dev->fences = NULL;
	dev->orphans = NULL;
	syncobjs_destroy(dev, dev->pool, dev->pool_count);
	dev->pool_count = 0;
}

void tern_fences_reap(struct tern_device *dev)
{
	struct tern_fence *f, *next, *list, *done = NULL;
	uint32_t status, code;
	int ret;

	pthread_mutex_lock(&dev->lock);
	list = dev->orphans;
	dev->orphans = NULL;
	pthread_mutex_unlock(&dev->lock);

	for (f = list; f; f = next) {
		next = f->next;
		ret = tern_wait_syncobj(dev, f->syncobjs[0], 0, &status, &code);
		if (ret == -ETIME) {
			pthread_mutex_lock(&dev->lock);
			tern_fence_link(&dev->orphans, f);
			pthread_mutex_unlock(&dev->lock);
			continue;
		}
		tern_launch_settle(f, ret, status, code);
		f->next = done;
		done = f;
	}
	for (f = done; f; f = next) {
		next = f->next;
		tern_fence_discard(f);
	}
}

int tern_wait_syncobj(struct tern_device *dev, uint32_t syncobj, int64_t timeout_ns,
		      uint32_t *status, uint32_t *code)
{
	struct drm_tern_wait wait = {
		.syncobj = syncobj,
		.point = 0,
		.timeout_ns = timeout_ns,
	};

	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_WAIT, &wait)) {
		if (errno == ETIME)
			return -ETIME;
		return tern_fail(-errno, "DRM_IOCTL_TERN_WAIT on %s syncobj %u: %s", dev->node,
				 syncobj, strerror(errno));
	}
	*status = wait.status;
	*code = wait.error_code;
	return 0;
}

int tern_copy_result(struct tern_device *dev, int queue, uint32_t status, uint32_t code,
		     uint64_t fault_addr)
{
	char where[48];

	/* The common case first: no message to format. */
	if (status == DRM_TERN_JOB_OK)
		return 0;
	if (queue < 0)
		snprintf(where, sizeof(where), "user queue");
	else
		snprintf(where, sizeof(where), "queue %d", queue);
	switch (status) {
	case DRM_TERN_JOB_DEVICE_ERROR:
		return tern_fail(-EIO, "%s %s: device reported DMA error %u (%s)", dev->node,
				 where, code, tern_device_error_name(code));
	case DRM_TERN_JOB_ABORTED:
		return tern_fail(-ECANCELED, "%s %s: job aborted by a device reset or unbind",
				 dev->node, where);
	case DRM_TERN_JOB_TIMEOUT:
		return tern_fail(-ETIMEDOUT, "%s %s: job ran past its timeout and was aborted",
				 dev->node, where);
	case DRM_TERN_JOB_MMU_FAULT:
		return tern_fail(-EFAULT, "%s %s: device MMU fault (info %#x) at VA %#llx",
				 dev->node, where, code, (unsigned long long)fault_addr);
	case DRM_TERN_JOB_LINK_DOWN:
		return tern_fail(-ENOLINK, "%s %s: the job's link went down (device error %u)",
				 dev->node, where, code);
	case DRM_TERN_JOB_RESET:
		return tern_fail(-EAGAIN, "%s %s: job was in flight when the device was reset to recover from another fault; submit it again",
				 dev->node, where);
	}
	return tern_fail(-EPROTO, "%s: job status %u unknown to libtern", dev->node, status);
}

/* Waits for one job of a copy and turns its status into a result. */
static int wait_job(struct tern_device *dev, const struct tern_fence *f, unsigned int job,
		    int64_t timeout_ns)
{
	struct drm_tern_wait wait = {
		.syncobj = f->syncobjs[job],
		.timeout_ns = timeout_ns,
	};

	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_WAIT, &wait)) {
		if (errno == ETIME)
			return tern_fail(-ETIME, "%s queue %d: copy still running (job %u of %u)",
					 dev->node, f->queue, job + 1, f->jobs);
		return tern_fail(-errno, "DRM_IOCTL_TERN_WAIT on %s syncobj %u: %s", dev->node,
				 wait.syncobj, strerror(errno));
	}
	return tern_copy_result(dev, f->queue, wait.status, wait.error_code, wait.fault_addr);
}

/* Waits for a launch's job; once it signalled (or the wait failed), settles it. */
static int wait_launch(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	uint32_t status = 0, code = 0;
	int ret;

	ret = tern_wait_syncobj(dev, f->syncobjs[0], timeout_ns, &status, &code);
	if (ret == -ETIME)
		return tern_fail(-ETIME, "launch on %s core %d: still running", dev->node,
				 f->core);
	f->waited = 1;
	f->done = 1;
	f->result = tern_launch_settle(f, ret, status, code);
	if (f->result)
		snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
	return f->result;
}

/* Waits for the CQEs of a fence of the io_uring path, then settles it. */
static int wait_uring(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	int ret;

	ret = tern_uring_wait(dev, f, timeout_ns);
	if (ret == -ETIME) {
		if (f->launch)
			return tern_fail(-ETIME, "launch on %s core %d: still running", dev->node,
					 f->core);
		return tern_fail(-ETIME, "%s queue %d: copy still running", dev->node, f->queue);
	}
	if (ret)
		return ret;
	if (f->launch) {
		if (f->uerr)
			tern_fail(f->uerr, "DRM_TERN_URING_EXEC on %s core %d: %s", dev->node,
				  f->core, strerror(-f->uerr));
		f->result = tern_launch_settle(f, f->uerr, f->ustatus, f->ucode);
	} else if (f->uerr) {
		f->result = tern_fail(f->uerr, "DRM_TERN_URING_SUBMIT on %s queue %d: %s",
				      dev->node, f->queue, strerror(-f->uerr));
	} else {
		f->result = tern_copy_result(dev, f->queue, f->ustatus, f->ucode, 0);
	}
	f->waited = f->jobs;
	f->done = 1;
	if (f->result)
		snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
	return f->result;
}

TERN_EXPORT int tern_copy_async_on(struct tern_device *dev, int queue,
				   struct tern_buffer *dst, uint64_t dst_offset,
				   struct tern_buffer *src, uint64_t src_offset, uint64_t size,
				   struct tern_fence **fencep)
{
	const struct tern_copy_desc c = {
		.dst = dst, .dst_offset = dst_offset,
		.src = src, .src_offset = src_offset, .size = size,
	};

	if (!fencep)
		return tern_fail(-EINVAL, "copy: fencep is NULL");
	*fencep = NULL;
	if (!dev)
		return tern_fail(-EINVAL, "copy: device is NULL");
	return tern_jobs_submit(dev, queue, &c, 1, false, fencep);
}

TERN_EXPORT int tern_copy_async(struct tern_device *dev, struct tern_buffer *dst,
				uint64_t dst_offset, struct tern_buffer *src, uint64_t src_offset,
				uint64_t size, struct tern_fence **fencep)
{
	return tern_copy_async_on(dev, TERN_QUEUE_ANY, dst, dst_offset, src, src_offset, size,
				  fencep);
}

TERN_EXPORT int tern_copy(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
			  struct tern_buffer *src, uint64_t src_offset, uint64_t size)
{
	struct tern_fence *f;
	int ret;

	ret = tern_copy_async(dev, dst, dst_offset, src, src_offset, size, &f);
	if (ret)
		return ret;
	ret = tern_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
	tern_fence_release(f);
	return ret;
}

int64_t tern_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns);

TERN_EXPORT int tern_fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	int ret = fence_wait(dev, f, timeout_ns);

	/* A copy job of a profiling session, seen done: the session times it. */
	if (f && f->prof_gen && f->done && !f->launch)
		tern_prof_copy_done(f);
	return ret;
}

static int fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	int64_t deadline = 0, left;
	int ret;

	if (!dev || !f || f->dev != dev)
		return tern_fail(-EINVAL, "tern_fence_wait: NULL fence or fence of another device");
	if (f->done) {
		if (f->result)
			tern_fail(f->result, "%s", f->error);
		return f->result;
	}
	if (timeout_ns != TERN_TIMEOUT_INFINITE) {
		if (timeout_ns < 0)
			return tern_fail(-EINVAL, "tern_fence_wait: negative timeout %lld",
					 (long long)timeout_ns);
		deadline = tern_now_ns() + timeout_ns;
	}
	if (f->path == TERN_SUBMIT_URING)
		return wait_uring(dev, f, timeout_ns);
	if (f->path == TERN_SUBMIT_USERQ)
		return tern_userq_wait(dev, f, timeout_ns);
	if (f->launch)
		return wait_launch(dev, f, timeout_ns == TERN_TIMEOUT_INFINITE ? INT64_MAX :
				   timeout_ns);
	/* Wait for every job of the copy: each one may have failed on its own. */
	while (f->waited < f->jobs) {
		left = INT64_MAX;
		if (timeout_ns != TERN_TIMEOUT_INFINITE) {
			left = deadline - tern_now_ns();
			if (left < 0)
				left = 0;
		}
		ret = wait_job(dev, f, f->waited, left);
		if (ret == -ETIME)
			return ret;
		if (ret && ret != -EIO && ret != -ECANCELED && ret != -EFAULT &&
		    ret != -ETIMEDOUT) {
			/* The job's state cannot be known (device gone): give up on it. */
			f->done = 1;
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
			return ret;
		}
		/* The first failed job gives the result; the others are still waited for. */
		if (ret && !f->result) {
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
		}
		f->waited++;
	}
	f->done = 1;
	if (f->result)
		tern_fail(f->result, "%s", f->error);
	return f->result;
}

TERN_EXPORT void tern_fence_release(struct tern_fence *f)
{
	struct tern_device *dev;
	unsigned int pooled;

	if (!f)
		return;
	dev = f->dev;
	pthread_mutex_lock(&dev->lock);
	tern_fence_unlink(&dev->fences, f);
	if (f->path == TERN_SUBMIT_URING) {
		pthread_mutex_unlock(&dev->lock);
		/* Its CQEs may still come: then the reaper settles and frees it. */
		if (!tern_uring_release(f)) {
			tern_umem_free(f);
			free(f);
		}
		return;
	}
	if (f->launch && !f->done) {
		/*
		 * The kernel writes its status slot when the job ends: the slot
		 * (and the kernel reference) stay taken until tern_fences_reap()
		 * sees it done.
		 */
		tern_fence_link(&dev->orphans, f);
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	pooled = pool_put_locked(dev, f->syncobjs, f->nsyncobjs);
	pthread_mutex_unlock(&dev->lock);
	syncobjs_destroy(dev, f->syncobjs + pooled, f->nsyncobjs - pooled);
	free(f);
}

TERN_EXPORT int tern_fence_queue(const struct tern_fence *f)
{
	return f->queue;
}
