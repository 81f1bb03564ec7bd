// SPDX-License-Identifier: MIT
/*
 * libtern copies: DMA jobs through DRM_IOCTL_TERN_SUBMIT and their fences.
 *
 * Every job of a device signals a point on the device's one timeline
 * syncobj. Points are taken in increasing order under dev->lock, together
 * with the SUBMIT ioctl, because a timeline only accepts increasing points.
 * A fence is the range of points of the jobs one copy was split into.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xf86drm.h>

#include "tern_internal.h"

static int check_range(struct tern_device *dev, const char *what, struct tern_buffer *buf,
		       uint64_t offset, uint64_t size)
{
	if (!buf)
		return tern_fail(-EINVAL, "copy: %s buffer is NULL", what);
	if (buf->dev != dev)
		return tern_fail(-EINVAL, "copy: %s buffer belongs to %s, not %s", what,
				 buf->dev->node, dev->node);
	if (offset > buf->size || size > buf->size - offset)
		return tern_fail(-EINVAL,
				 "copy: %s range [%llu, +%llu) outside its buffer of %llu bytes",
				 what, (unsigned long long)offset, (unsigned long long)size,
				 (unsigned long long)buf->size);
	return 0;
}

static int check_copy(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
		      struct tern_buffer *src, uint64_t src_offset, uint64_t size)
{
	int ret;

	if (!dev)
		return tern_fail(-EINVAL, "copy: device is NULL");
	ret = check_range(dev, "destination", dst, dst_offset, size);
	if (ret)
		return ret;
	ret = check_range(dev, "source", src, src_offset, size);
	if (ret)
		return ret;
	if (dst == src && size && dst_offset < src_offset + size && src_offset < dst_offset + size)
		return tern_fail(-EINVAL,
				 "copy: source [%llu, +%llu) and destination [%llu, +%llu) overlap in one buffer",
				 (unsigned long long)src_offset, (unsigned long long)size,
				 (unsigned long long)dst_offset, (unsigned long long)size);
	return 0;
}

static void fence_link(struct tern_device *dev, struct tern_fence *f)
{
	f->prev = NULL;
	f->next = dev->fences;
	if (dev->fences)
		dev->fences->prev = f;
	dev->fences = f;
}

static int wait_point(struct tern_device *dev, int queue, uint64_t point, int64_t timeout_ns)
{
	struct drm_tern_wait wait = {
		.syncobj = dev->timeline,
		.point = point,
		.timeout_ns = timeout_ns,
	};

	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_WAIT, &wait)) {
		if (errno == ETIME)
			return tern_fail(-ETIME, "%s queue %d: job at point %llu still running",
					 dev->node, queue, (unsigned long long)point);
		return tern_fail(-errno, "DRM_IOCTL_TERN_WAIT on %s point %llu: %s", dev->node,
				 (unsigned long long)point, strerror(errno));
	}
	switch (wait.status) {
	case DRM_TERN_JOB_OK:
		return 0;
	case DRM_TERN_JOB_DEVICE_ERROR:
		return tern_fail(-EIO, "%s queue %d: device reported DMA error %u (%s)", dev->node,
				 queue, wait.error_code, tern_device_error_name(wait.error_code));
	case DRM_TERN_JOB_ABORTED:
		return tern_fail(-ECANCELED, "%s queue %d: job aborted by a device reset or unbind",
				 dev->node, queue);
	}
	return tern_fail(-EPROTO, "%s: DRM_IOCTL_TERN_WAIT returned unknown status %u", dev->node,
			 wait.status);
}

/*
 * Submits the jobs of one copy; called with dev->lock held. On failure,
 * jobs already queued are recorded in @f (last_point >= first_point).
 */
static int submit_copy(struct tern_device *dev, unsigned int queue,
		       struct tern_buffer *dst, uint64_t dst_offset,
		       struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		       struct tern_fence *f)
{
	struct drm_tern_copy copies[DRM_TERN_MAX_COPIES];
	struct drm_tern_submit submit;
	uint64_t done = 0, piece;
	unsigned int n;

	f->first_point = dev->last_point + 1;
	f->last_point = dev->last_point;
	while (done < size) {
		memset(copies, 0, sizeof(copies));
		for (n = 0; n < DRM_TERN_MAX_COPIES && done < size; n++) {
			piece = size - done < TERN_COPY_CHUNK ? size - done : TERN_COPY_CHUNK;
			copies[n].src_handle = src->handle;
			copies[n].dst_handle = dst->handle;
			copies[n].src_offset = src_offset + done;
			copies[n].dst_offset = dst_offset + done;
			copies[n].size = piece;
			done += piece;
		}
		memset(&submit, 0, sizeof(submit));
		submit.copies = (uintptr_t)copies;
		submit.copy_count = n;
		submit.queue = queue;
		submit.out_syncobj = dev->timeline;
		submit.out_point = dev->last_point + 1;
		if (drmIoctl(dev->fd, DRM_IOCTL_TERN_SUBMIT, &submit))
			return tern_fail(-errno, "DRM_IOCTL_TERN_SUBMIT on %s queue %u: %s",
					 dev->node, queue, strerror(errno));
		dev->last_point++;
		f->last_point = dev->last_point;
	}
	return 0;
}

TERN_EXPORT int tern_copy_async_on(struct tern_device *dev, int queue,
				   struct tern_buffer *dst, uint64_t dst_offset,
				   struct tern_buffer *src, uint64_t src_offset, uint64_t size,
				   struct tern_fence **fencep)
{
	struct tern_fence *f;
	int ret;

	if (!fencep)
		return tern_fail(-EINVAL, "copy: fencep is NULL");
	*fencep = NULL;
	ret = check_copy(dev, dst, dst_offset, src, src_offset, size);
	if (ret)
		return ret;
	if (queue != TERN_QUEUE_ANY && (queue < 0 || (unsigned int)queue >= dev->hw.num_queues))
		return tern_fail(-EINVAL, "copy: queue %d outside 0..%u of %s", queue,
				 dev->hw.num_queues - 1, dev->node);

	f = calloc(1, sizeof(*f));
	if (!f)
		return tern_fail(-ENOMEM, "copy: out of memory");
	f->dev = dev;
	f->queue = -1;

	pthread_mutex_lock(&dev->lock);
	if (size == 0) {
		f->done = 1;
	} else {
		if (queue == TERN_QUEUE_ANY) {
			queue = dev->next_queue;
			dev->next_queue = (dev->next_queue + 1) % dev->hw.num_queues;
		}
		f->queue = queue;
		ret = submit_copy(dev, queue, dst, dst_offset, src, src_offset, size, f);
		f->waited_point = f->first_point - 1;
	}
	if (!ret)
		fence_link(dev, f);
	pthread_mutex_unlock(&dev->lock);

	if (ret) {
		/* Part of the copy may be queued: let it finish before returning. */
		if (f->last_point >= f->first_point) {
			char saved[512];

			strncpy(saved, tern_last_error(), sizeof(saved) - 1);
			saved[sizeof(saved) - 1] = '\0';
			tern_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
			tern_fail(ret, "%s", saved);
		}
		free(f);
		return ret;
	}
	*fencep = f;
	return 0;
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

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

TERN_EXPORT int tern_fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	int64_t deadline = 0, left;
	uint64_t point;
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
		deadline = now_ns() + timeout_ns;
	}
	/* Wait for every job of the copy: each one may have failed on its own. */
	for (point = f->waited_point + 1; point <= f->last_point; point++) {
		left = INT64_MAX;
		if (timeout_ns != TERN_TIMEOUT_INFINITE) {
			left = deadline - now_ns();
			if (left < 0)
				left = 0;
		}
		ret = wait_point(dev, f->queue, point, left);
		if (ret == -ETIME)
			return ret;
		if (ret && ret != -EIO && ret != -ECANCELED) {
			/* The job's state cannot be known (device gone): give up on it. */
			f->done = 1;
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
			return ret;
		}
		if (ret && !f->result) {
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
		}
		f->waited_point = point;
	}
	f->done = 1;
	if (f->result)
		tern_fail(f->result, "%s", f->error);
	return f->result;
}

TERN_EXPORT void tern_fence_release(struct tern_fence *f)
{
	struct tern_device *dev;

	if (!f)
		return;
	dev = f->dev;
	pthread_mutex_lock(&dev->lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		dev->fences = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&dev->lock);
	free(f);
}

TERN_EXPORT int tern_fence_queue(const struct tern_fence *f)
{
	return f->queue;
}
