// SPDX-License-Identifier: MIT
/*
 * libtern submission paths: which way jobs reach the device, and the one
 * place where copies, batches and no-ops become jobs.
 *
 * Three paths, behind the same API (Documentation/runtime.rst, "Submission
 * paths"):
 *   ioctl  DRM_IOCTL_TERN_SUBMIT per job, a binary syncobj per job and
 *          DRM_IOCTL_TERN_WAIT per fence (copy.c).
 *   uring  the same jobs as io_uring commands on one ring per device; the
 *          completion comes back as a CQE with the job's status, so no
 *          syncobj and no WAIT ioctl (submit_uring.c).
 *   userq  a user-mode queue of the device: the library writes descriptors
 *          into a ring in a host buffer and rings the doorbell itself; the
 *          device writes a fence word the library polls (submit_userq.c).
 *          No system call per job at all. DMA only: launches take uring or
 *          ioctl.
 * TERN_SUBMIT=auto|ioctl|uring|userq at tern_device_open() picks one; a path
 * the driver does not offer falls back to the next slower one, found at run
 * time (an io_uring command refused, QUEUE_CREATE refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xf86drm.h>

#include "tern_internal.h"
#include "tern_regs.h"

TERN_EXPORT const char *tern_submit_path_name(int path)
{
	switch (path) {
	case TERN_SUBMIT_IOCTL:
		return "ioctl";
	case TERN_SUBMIT_URING:
		return "uring";
	case TERN_SUBMIT_USERQ:
		return "userq";
	case TERN_SUBMIT_AUTO:
		return "auto";
	}
	return "?";
}

int tern_submit_init(struct tern_device *dev)
{
	const char *env = getenv("TERN_SUBMIT");

	dev->empty_jobs = -1;
	if (!env || !*env || !strcmp(env, "auto"))
		dev->want_path = TERN_SUBMIT_AUTO;
	else if (!strcmp(env, "ioctl"))
		dev->want_path = TERN_SUBMIT_IOCTL;
	else if (!strcmp(env, "uring"))
		dev->want_path = TERN_SUBMIT_URING;
	else if (!strcmp(env, "userq"))
		dev->want_path = TERN_SUBMIT_USERQ;
	else
		return tern_fail(-EINVAL, "TERN_SUBMIT=%s: must be auto, ioctl, uring or userq",
				 env);

	dev->path = TERN_SUBMIT_IOCTL;
	if (dev->want_path == TERN_SUBMIT_IOCTL)
		return 0;
	/* The ring also carries launches when copies take the user-mode queue. */
	if (!tern_uring_init(dev))
		dev->path = TERN_SUBMIT_URING;
	if (dev->want_path != TERN_SUBMIT_URING &&
	    (dev->hw.caps & TERN_CAP_USER_QUEUES) && dev->hw.num_user_queues)
		dev->path = TERN_SUBMIT_USERQ;	/* the queue itself comes lazily */
	return 0;
}

void tern_submit_fini(struct tern_device *dev)
{
	tern_userq_fini(dev);
	tern_uring_fini(dev);
	tern_buffer_free(dev->scratch);
	dev->scratch = NULL;
}

/*
 * The path copies take now: makes the user-mode queue on first use, and
 * falls back (for good) when the driver has none to give.
 */
static int settle_path(struct tern_device *dev)
{
	int path;

	pthread_mutex_lock(&dev->lock);
	path = dev->path;
	pthread_mutex_unlock(&dev->lock);
	if (path != TERN_SUBMIT_USERQ || !tern_userq_open(dev))
		return path;
	pthread_mutex_lock(&dev->lock);
	dev->path = dev->uring ? TERN_SUBMIT_URING : TERN_SUBMIT_IOCTL;
	path = dev->path;
	pthread_mutex_unlock(&dev->lock);
	return path;
}

TERN_EXPORT int tern_submit_path(struct tern_device *dev)
{
	if (!dev)
		return tern_fail(-EINVAL, "tern_submit_path: device is NULL");
	return settle_path(dev);
}

void tern_pieces_to_uapi(const struct tern_piece *p, unsigned int n, struct drm_tern_copy *out)
{
	memset(out, 0, n * sizeof(*out));
	for (unsigned int i = 0; i < n; i++) {
		out[i].src_handle = p[i].src->handle;
		out[i].dst_handle = p[i].dst->handle;
		out[i].src_offset = p[i].src_offset;
		out[i].dst_offset = p[i].dst_offset;
		out[i].size = p[i].size;
		out[i].flags = p[i].flags;
		if (p[i].flags & DRM_TERN_COPY_OPERAND)
			out[i].operand_handle = p[i].operand->handle;
	}
}

static int submit_ioctl(struct tern_device *dev, struct tern_fence *f, int queue,
			const struct tern_piece *p, unsigned int n)
{
	struct drm_tern_copy copies[DRM_TERN_MAX_COPIES];
	struct drm_tern_submit submit;

	tern_pieces_to_uapi(p, n, copies);
	memset(&submit, 0, sizeof(submit));
	submit.copies = (uintptr_t)copies;
	submit.copy_count = n;
	submit.queue = (uint32_t)queue;
	submit.out_syncobj = f->syncobjs[f->jobs];
	submit.out_point = 0;	/* replaces the syncobj's fence */
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_SUBMIT, &submit))
		return tern_fail(-errno, "DRM_IOCTL_TERN_SUBMIT on %s queue %d: %s", dev->node,
				 queue, strerror(errno));
	f->jobs++;
	return 0;
}

static int submit_job(struct tern_device *dev, struct tern_fence *f, int queue,
		      const struct tern_piece *p, unsigned int n)
{
	switch (f->path) {
	case TERN_SUBMIT_URING:
		return tern_uring_submit(dev, f, queue, p, n);
	case TERN_SUBMIT_USERQ:
		return tern_userq_submit(dev, f, p, n);
	}
	return submit_ioctl(dev, f, queue, p, n);
}

/*
 * An empty job on a driver without them (before UAPI 1.2): a 64-byte copy
 * inside a host buffer of the library's, which is just as cheap.
 */
static int scratch_piece(struct tern_device *dev, struct tern_piece *p)
{
	struct tern_buffer *buf = NULL;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	buf = dev->scratch;
	pthread_mutex_unlock(&dev->lock);
	if (!buf) {
		ret = tern_buffer_alloc_internal(dev, 128, TERN_MEM_HOST, &buf);
		if (ret)
			return ret;
		pthread_mutex_lock(&dev->lock);
		if (dev->scratch) {
			tern_buffer_free(buf);
			buf = dev->scratch;
		} else {
			dev->scratch = buf;
		}
		pthread_mutex_unlock(&dev->lock);
	}
	p->dst = p->src = buf;
	p->src_offset = 0;
	p->dst_offset = 64;
	p->size = 64;
	p->flags = 0;
	return 0;
}

/* Pieces of the copies; *@np pieces go to @p (which holds @max). */
static void cut_pieces(const struct tern_copy_desc *c, unsigned int n, struct tern_piece *p,
		       size_t *np)
{
	size_t k = 0;

	for (unsigned int i = 0; i < n; i++) {
		for (uint64_t done = 0; done < c[i].size;) {
			uint64_t piece = c[i].size - done;

			if (piece > TERN_COPY_CHUNK)
				piece = TERN_COPY_CHUNK;
			p[k].dst = c[i].dst;
			p[k].src = c[i].src;
			p[k].dst_offset = c[i].dst_offset + done;
			p[k].src_offset = c[i].src_offset + done;
			p[k].size = piece;
			p[k].flags = 0;
			done += piece;
			k++;
		}
	}
	*np = k;
}

int tern_jobs_submit(struct tern_device *dev, int queue, const struct tern_copy_desc *c,
		     unsigned int n, bool nop, struct tern_fence **fencep)
{
	struct tern_piece *pieces = NULL, scratch;
	int64_t start_ns = tern_now_ns();
	size_t npieces = 0, total = 0, sent;
	unsigned int jobs;
	struct tern_fence *f;
	int path, ret;

	for (unsigned int i = 0; i < n; i++) {
		ret = tern_check_copy(dev, c[i].dst, c[i].dst_offset, c[i].src, c[i].src_offset,
				      c[i].size);
		if (ret) {
			if (n > 1)
				return tern_fail(ret, "copy %u of the batch: %s", i,
						 tern_last_error());
			return ret;
		}
		total += (c[i].size + TERN_COPY_CHUNK - 1) / TERN_COPY_CHUNK;
	}
	if (queue != TERN_QUEUE_ANY && (queue < 0 || (unsigned int)queue >= dev->hw.num_queues))
		return tern_fail(-EINVAL, "copy: queue %d outside 0..%u of %s", queue,
				 dev->hw.num_queues - 1, dev->node);
	if (total) {
		pieces = malloc(total * sizeof(*pieces));
		if (!pieces)
			return tern_fail(-ENOMEM, "copy: out of memory for %zu pieces", total);
		cut_pieces(c, n, pieces, &npieces);
	}
	jobs = (unsigned int)((npieces + DRM_TERN_MAX_COPIES - 1) / DRM_TERN_MAX_COPIES);
	if (nop)
		jobs = 1;

	path = settle_path(dev);
	/* A queue the caller names is a kernel queue: the user-mode queue is none of them. */
	if (path == TERN_SUBMIT_USERQ && queue != TERN_QUEUE_ANY)
		path = dev->uring ? TERN_SUBMIT_URING : TERN_SUBMIT_IOCTL;
	/* Every syncobj first, so that a failure here has queued nothing. */
	ret = tern_fence_new(dev, path == TERN_SUBMIT_IOCTL ? jobs : 0, &f);
	if (ret)
		goto out;
	f->path = path;
	if (!jobs) {
		f->done = 1;
		goto out_publish;
	}
	if (!nop)
		tern_prof_copy_begin(dev, f, c, n, start_ns);	/* timed in a profiling session */
	if (queue == TERN_QUEUE_ANY) {
		pthread_mutex_lock(&dev->lock);
		queue = (int)dev->next_queue;
		dev->next_queue = (dev->next_queue + 1) % dev->hw.num_queues;
		pthread_mutex_unlock(&dev->lock);
	}
	f->queue = path == TERN_SUBMIT_USERQ ? -1 : queue;

	if (nop && path != TERN_SUBMIT_USERQ && !dev->empty_jobs) {
		ret = scratch_piece(dev, &scratch);
		if (ret)
			goto err_fence;
		ret = submit_job(dev, f, queue, &scratch, 1);
	} else if (nop) {
		ret = submit_job(dev, f, queue, NULL, 0);
		if (ret == -EINVAL && dev->empty_jobs < 0 && path != TERN_SUBMIT_USERQ) {
			/* A driver before UAPI 1.2 refuses copy_count 0. */
			dev->empty_jobs = 0;
			ret = scratch_piece(dev, &scratch);
			if (!ret)
				ret = submit_job(dev, f, queue, &scratch, 1);
		} else if (!ret) {
			dev->empty_jobs = 1;
		}
	} else {
		/* No lock: each job has its own completion, and the device orders a queue. */
		for (sent = 0, ret = 0; sent < npieces && !ret; sent += DRM_TERN_MAX_COPIES) {
			size_t k = npieces - sent;

			ret = submit_job(dev, f, queue, pieces + sent,
					 k < DRM_TERN_MAX_COPIES ? (unsigned int)k :
					 DRM_TERN_MAX_COPIES);
		}
	}
	if (ret)
		goto err_fence;
out_publish:
	tern_fence_publish(f);
	*fencep = f;
	free(pieces);
	return 0;

err_fence:
	/* Part of the copy may be queued: let it finish before returning. */
	if (f->jobs) {
		char saved[512];

		snprintf(saved, sizeof(saved), "%s", tern_last_error());
		tern_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
		tern_fail(ret, "%s", saved);
	}
	tern_fence_discard(f);
out:
	free(pieces);
	return ret;
}

TERN_EXPORT int tern_copy_batch(struct tern_device *dev, const struct tern_copy_desc *copies,
				unsigned int n, struct tern_fence **fencep)
{
	struct tern_fence *f;
	int ret;

	if (fencep)
		*fencep = NULL;
	if (!dev)
		return tern_fail(-EINVAL, "tern_copy_batch: device is NULL");
	if (!copies || n < 1 || n > TERN_BATCH_MAX)
		return tern_fail(-EINVAL, "tern_copy_batch: %u copies at %p, need 1..%u", n,
				 (const void *)copies, TERN_BATCH_MAX);
	ret = tern_jobs_submit(dev, TERN_QUEUE_ANY, copies, n, false, &f);
	if (ret || fencep) {
		if (!ret)
			*fencep = f;
		return ret;
	}
	ret = tern_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
	tern_fence_release(f);
	return ret;
}

TERN_EXPORT int tern_batch_begin(struct tern_device *dev)
{
	if (!dev)
		return tern_fail(-EINVAL, "tern_batch_begin: device is NULL");
	pthread_mutex_lock(&dev->lock);
	dev->batches++;
	pthread_mutex_unlock(&dev->lock);
	if (dev->uring)
		tern_uring_hold(dev);
	return 0;
}

TERN_EXPORT int tern_batch_end(struct tern_device *dev)
{
	bool open;

	if (!dev)
		return tern_fail(-EINVAL, "tern_batch_end: device is NULL");
	pthread_mutex_lock(&dev->lock);
	open = dev->batches > 0;
	if (open)
		dev->batches--;
	pthread_mutex_unlock(&dev->lock);
	if (!open)
		return tern_fail(-EINVAL, "tern_batch_end on %s: no batch is open", dev->node);
	return dev->uring ? tern_uring_release_hold(dev) : 0;
}

TERN_EXPORT int tern_nop_async(struct tern_device *dev, struct tern_fence **fencep)
{
	if (!fencep)
		return tern_fail(-EINVAL, "tern_nop_async: fencep is NULL");
	*fencep = NULL;
	if (!dev)
		return tern_fail(-EINVAL, "tern_nop_async: device is NULL");
	return tern_jobs_submit(dev, TERN_QUEUE_ANY, NULL, 0, true, fencep);
}

/*
 * Link copies: DRM_TERN_SUBMIT_LINK jobs by the ioctl. The copies' source
 * handles are of @dev's file, their destination handles of @peer's (the
 * driver looks them up in the file @peer_fd names).
 */
static int submit_link_ioctl(struct tern_device *dev, struct tern_fence *f, int queue,
			     struct tern_device *peer, unsigned int port,
			     const struct tern_piece *p, unsigned int n)
{
	struct drm_tern_copy copies[DRM_TERN_MAX_COPIES];
	struct drm_tern_submit submit;
	int err;

	tern_pieces_to_uapi(p, n, copies);
	memset(&submit, 0, sizeof(submit));
	submit.copies = (uintptr_t)copies;
	submit.copy_count = n;
	submit.queue = (uint32_t)queue;
	submit.flags = DRM_TERN_SUBMIT_LINK;
	submit.peer_fd = peer->fd;
	submit.link_port = port;
	submit.out_syncobj = f->syncobjs[f->jobs];
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_SUBMIT, &submit)) {
		err = -errno;
		if (err == -ENOLINK)
			return tern_link_down_error(dev, port, peer->hw.chip_id, "link copy");
		if (err == -EXDEV)
			return tern_fail(err,
					 "link copy on %s port %u: %s (chip %u) is not at the other end of the port",
					 dev->node, port, peer->node, peer->hw.chip_id);
		return tern_fail(err, "DRM_IOCTL_TERN_SUBMIT (link) on %s queue %d port %u to %s: %s",
				 dev->node, queue, port, peer->node, strerror(-err));
	}
	f->jobs++;
	return 0;
}

int tern_link_jobs_submit(struct tern_device *dev, int queue, struct tern_device *peer,
			  unsigned int port, const struct tern_piece *p, size_t n,
			  struct tern_fence **fencep)
{
	unsigned int jobs = (unsigned int)((n + DRM_TERN_MAX_COPIES - 1) / DRM_TERN_MAX_COPIES);
	struct tern_fence *f;
	size_t sent;
	int ret;

	ret = tern_fence_new(dev, jobs, &f);
	if (ret)
		return ret;
	f->path = TERN_SUBMIT_IOCTL;
	f->queue = queue;
	f->link = true;
	f->link_port = port;
	f->link_peer_chip = peer->hw.chip_id;
	if (!jobs)
		f->done = 1;
	for (sent = 0, ret = 0; sent < n && !ret; sent += DRM_TERN_MAX_COPIES) {
		size_t k = n - sent;

		ret = submit_link_ioctl(dev, f, queue, peer, port, p + sent,
					k < DRM_TERN_MAX_COPIES ? (unsigned int)k :
					DRM_TERN_MAX_COPIES);
	}
	if (ret) {
		if (f->jobs) {
			char saved[512];

			snprintf(saved, sizeof(saved), "%s", tern_last_error());
			tern_link_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
			tern_fail(ret, "%s", saved);
		}
		tern_fence_discard(f);
		return ret;
	}
	tern_fence_publish(f);
	*fencep = f;
	return 0;
}
