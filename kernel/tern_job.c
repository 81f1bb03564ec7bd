// SPDX-License-Identifier: GPL-2.0
/*
 * tern DMA jobs: SUBMIT validates a list of copies and turns it into one
 * descriptor per copy, in the file's device address space (its context's
 * VAs: the device MMU does the scattering), WAIT reports how a job ended,
 * and inject_desc (in debugfs) pushes a raw descriptor. Every job ends
 * with the queue's fence write and interrupt on its last descriptor;
 * tern_queue.c retires it.
 */

#include <linux/dma-fence-chain.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/overflow.h>
#include <linux/minmax.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include "tern_gem.h"
#include "tern_job.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_points.h"
#include "tern_queue.h"
#include "tern_telem.h"
#include "tern_trace.h"

static const char *tern_fence_get_driver_name(struct dma_fence *fence)
{
	return DRIVER_NAME;
}

static const char *tern_fence_get_timeline_name(struct dma_fence *fence)
{
	return "tern-dma-queue";
}

/* No .release: dma_fence_free() frees the whole tern_fence (base is first). */
static const struct dma_fence_ops tern_fence_ops = {
	.use_64bit_seqno = true,
	.get_driver_name = tern_fence_get_driver_name,
	.get_timeline_name = tern_fence_get_timeline_name,
};

static struct tern_fence *to_tern_fence(struct dma_fence *fence)
{
	return container_of(fence, struct tern_fence, base);
}

void tern_fence_init(struct tern_fence *fence, u64 context, u64 seqno)
{
	BUILD_BUG_ON(offsetof(struct tern_fence, base) != 0);

	spin_lock_init(&fence->lock);
	dma_fence_init(&fence->base, &tern_fence_ops, &fence->lock, context, seqno);
}

/*
 * Signal the fence of a retiring job: @error 0 for success, -EIO with the
 * chip's @device_error when the chip failed it, another errno when it was
 * aborted. Called by the queue under its job_lock, in ring order.
 */
void tern_job_signal(struct tern_job *job, int error, u32 device_error)
{
	struct tern_device *tdev = job->queue->tdev;
	struct tern_fence *fence = job->fence;

	if (error) {
		fence->error_code = device_error;
		dma_fence_set_error(&fence->base, error);
		atomic64_inc(&tdev->jobs_failed);
	} else {
		atomic64_inc(&tdev->jobs_completed);
	}
	dma_fence_signal(&fence->base);
}

static struct tern_job *tern_job_alloc(struct tern_queue *q, u32 max_maps, u32 desc_count)
{
	struct tern_job *job;

	job = kzalloc(struct_size(job, maps, max_maps), GFP_KERNEL);
	if (!job)
		return NULL;
	job->max_maps = max_maps;

	INIT_LIST_HEAD(&job->node);
	job->queue = q;
	job->id = atomic64_inc_return(&q->tdev->next_job_id);
	job->submit_ns = ktime_get_ns();
	job->fence = kzalloc(sizeof(*job->fence), GFP_KERNEL);
	job->descs = kvcalloc(desc_count, sizeof(*job->descs), GFP_KERNEL);
	job->desc_count = desc_count;
	if (!job->fence || !job->descs) {
		kvfree(job->descs);
		kfree(job->fence);
		kfree(job);
		return NULL;
	}
	return job;
}

/*
 * Release what a job holds: its mappings, its context and its fence
 * reference. Used for retired jobs and for jobs never pushed.
 */
void tern_job_free(struct tern_job *job)
{
	struct device *dev = job->queue->tdev->drm.dev;
	u32 i;

	for (i = 0; i < job->map_count; i++) {
		struct sg_table *sgt = tern_mapping_sgt(job->maps[i]);

		if (sgt)
			dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
		tern_mapping_put(job->maps[i]);
	}
	tern_ctx_put(job->ctx);
	tern_client_stats_put(job->stats);
	tern_link_job_release(job);
	kvfree(job->descs);

	/* A fence is only initialised once its job was pushed. */
	if (job->fence->base.ops)
		dma_fence_put(&job->fence->base);
	else
		kfree(job->fence);
	kfree(job);
}

/*
 * The mapping of the buffer @handle of @file names in @ctx (the file's
 * context: the job's own, or a link job's peer one), kept by the job (each
 * mapping once). -ENOENT without such a handle.
 */
int tern_job_add_map(struct tern_job *job, struct tern_ctx *ctx, struct drm_file *file,
		     u32 handle, struct tern_mapping **out)
{
	struct tern_bo *bo = tern_bo_lookup(file, handle);
	struct tern_mapping *map;
	u32 i;

	if (!bo)
		return -ENOENT;
	map = tern_mapping_get(ctx, bo);
	drm_gem_object_put(tern_bo_obj(bo));
	if (!map)
		return -ENOENT;

	for (i = 0; i < job->map_count; i++) {
		if (job->maps[i] == map) {
			tern_mapping_put(map);
			*out = map;
			return 0;
		}
	}
	if (WARN_ON_ONCE(job->map_count == job->max_maps)) {
		tern_mapping_put(map);
		return -EINVAL;
	}
	job->maps[job->map_count++] = map;
	*out = map;
	return 0;
}

int tern_job_check_range(u64 offset, u64 size, struct tern_mapping *map, u64 *end)
{
	if (check_add_overflow(offset, size, end) || *end > tern_bo_size(tern_mapping_bo(map)))
		return -EINVAL;
	return 0;
}

/* The direction of a copy between two buffers, for the tern_dma tracepoint. */
static const char *tern_copy_direction(struct tern_mapping *src, struct tern_mapping *dst)
{
	bool from_hbm = tern_bo_is_device(tern_mapping_bo(src));
	bool to_hbm = tern_bo_is_device(tern_mapping_bo(dst));

	if (from_hbm)
		return to_hbm ? "d2d" : "d2h";
	return to_hbm ? "h2d" : "h2h";
}

/* A copy between two buffers the file has handles to. */
static int tern_job_copy_bo(struct tern_job *job, struct drm_file *file,
			    const struct drm_tern_copy *c, u32 i, struct tern_dma_desc *d,
			    const char **dir)
{
	struct tern_device *tdev = job->queue->tdev;
	struct tern_mapping *src, *dst;
	u64 src_end, dst_end;
	int ret;

	ret = tern_job_add_map(job, job->ctx, file, c->src_handle, &src);
	if (!ret)
		ret = tern_job_add_map(job, job->ctx, file, c->dst_handle, &dst);
	if (ret) {
		tern_dbg(tdev, "copy %u: no buffer with handle %u or %u\n", i, c->src_handle,
			 c->dst_handle);
		return ret;
	}
	if (tern_job_check_range(c->src_offset, c->size, src, &src_end) ||
	    tern_job_check_range(c->dst_offset, c->size, dst, &dst_end)) {
		tern_dbg(tdev, "copy %u: range outside its buffer\n", i);
		return -EINVAL;
	}
	if (src == dst && c->src_offset < dst_end && c->dst_offset < src_end) {
		tern_dbg(tdev, "copy %u: overlapping ranges in one buffer\n", i);
		return -EINVAL;
	}
	d->src = tern_mapping_va(src) + c->src_offset;
	d->dst = tern_mapping_va(dst) + c->dst_offset;
	*dir = tern_copy_direction(src, dst);
	return tern_job_copy_operand(job, job->ctx, file, c, i, d);
}

/**
 * tern_job_copy_operand() - the operand of copy @i, if it has one
 * @job: the job
 * @ctx: the context of the destination (the peer's for a link copy)
 * @file: the file whose handle @c->operand_handle is (the peer's for a link copy)
 * @c: the copy
 * @i: its index, for debug messages
 * @d: its descriptor: gets the operand's VA in @ctx
 *
 * DRM_TERN_COPY_OPERAND: a device buffer, at the destination's offset, with
 * the destination's size; the job keeps it mapped until it ends.
 *
 * Return: 0, -ENOENT or -EINVAL.
 */
int tern_job_copy_operand(struct tern_job *job, struct tern_ctx *ctx, struct drm_file *file,
			  const struct drm_tern_copy *c, u32 i, struct tern_dma_desc *d)
{
	struct tern_device *tdev = job->queue->tdev;
	struct tern_mapping *op;
	u64 end;
	int ret;

	if (!(c->flags & DRM_TERN_COPY_OPERAND))
		return 0;
	ret = tern_job_add_map(job, ctx, file, c->operand_handle, &op);
	if (ret) {
		tern_dbg(tdev, "copy %u: no operand buffer %u\n", i, c->operand_handle);
		return ret;
	}
	if (!tern_bo_is_device(tern_mapping_bo(op))) {
		tern_dbg(tdev, "copy %u: operand buffer %u is not a device buffer\n", i,
			 c->operand_handle);
		return -EINVAL;
	}
	if (tern_job_check_range(c->dst_offset, c->size, op, &end)) {
		tern_dbg(tdev, "copy %u: operand range outside its buffer\n", i);
		return -EINVAL;
	}
	d->operand = tern_mapping_va(op) + c->dst_offset;
	return 0;
}

#define TERN_COPY_FLAGS_ALL	(DRM_TERN_COPY_VA | DRM_TERN_COPY_LINK | \
				 DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_REDUCE_MAX | \
				 DRM_TERN_COPY_BF16 | DRM_TERN_COPY_OPERAND)

/*
 * Validate the copies in order and build one COPY descriptor per copy in
 * the file's context: the device MMU scatters each range over its pages.
 * DRM_TERN_COPY_LINK copies become LINK_COPY descriptors to @peer
 * (tern_link.c).
 */
static int tern_job_add_copies(struct tern_job *job, struct drm_file *file,
			       const struct tern_link_peer *peer,
			       const struct drm_tern_copy *copies, u32 count)
{
	struct tern_device *tdev = job->queue->tdev;
	struct device *dev = tdev->drm.dev;
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		const struct drm_tern_copy *c = &copies[i];
		struct tern_dma_desc *d = &job->descs[i];
		const char *dir = "va";

		if ((c->flags & ~TERN_COPY_FLAGS_ALL) || !c->size ||
		    (c->operand_handle && !(c->flags & DRM_TERN_COPY_OPERAND))) {
			tern_dbg(tdev, "copy %u: unknown flags, zero size or an operand handle without DRM_TERN_COPY_OPERAND\n",
				 i);
			return -EINVAL;
		}
		ret = tern_link_copy_flags(tdev, c, i, &d->flags);
		if (ret)
			return ret;
		d->opcode = TERN_DESC_OP_COPY;
		d->size = c->size;
		d->ctx = tern_ctx_id(job->ctx);
		if (c->flags & DRM_TERN_COPY_LINK) {
			ret = tern_link_copy(job, file, peer, c, i, d);
			if (ret)
				return ret;
			dir = "link";
		} else if (c->flags & DRM_TERN_COPY_VA) {
			/* Raw VAs: the device MMU checks them, page by page. */
			if (c->src_handle || c->dst_handle) {
				tern_dbg(tdev, "copy %u: DRM_TERN_COPY_VA with a handle\n", i);
				return -EINVAL;
			}
			d->src = c->src_offset;
			d->dst = c->dst_offset;
		} else {
			ret = tern_job_copy_bo(job, file, c, i, d, &dir);
			if (ret)
				return ret;
		}
		job->bytes += c->size;
		trace_tern_dma(tern_minor(tdev), job->queue->index, job->id, c->size, dir);
	}

	/* Hand the host pages to the device (a no-op on coherent systems). */
	for (i = 0; i < job->map_count; i++) {
		struct sg_table *sgt = tern_mapping_sgt(job->maps[i]);

		if (sgt)
			dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL);
	}
	return 0;
}

static int tern_submit_check_args(struct tern_device *tdev, const struct drm_tern_submit *args)
{
	u32 i;

	if (args->flags & ~DRM_TERN_SUBMIT_LINK)
		return -EINVAL;
	if (!(args->flags & DRM_TERN_SUBMIT_LINK) && (args->peer_fd || args->link_port))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args->reserved); i++)
		if (args->reserved[i])
			return -EINVAL;
	if (args->queue >= tdev->num_queues)
		return -EINVAL;
	if (args->copy_count > DRM_TERN_MAX_COPIES ||
	    args->copy_count >= tdev->queues[args->queue].entries)
		return -EINVAL;
	if (!args->out_syncobj && args->out_point)
		return -EINVAL;
	return 0;
}

/*
 * Look up the syncobj a job's fence will go to, and preallocate the chain
 * link of a timeline point, before anything is queued: attaching then
 * cannot fail. Handle 0 means no syncobj.
 */
int tern_out_fence_get(struct drm_file *file, u32 handle, u64 point,
		       struct tern_out_fence *out)
{
	*out = (struct tern_out_fence){ .point = point };
	if (!handle)
		return 0;
	out->syncobj = drm_syncobj_find(file, handle);
	if (!out->syncobj)
		return -ENOENT;
	if (point) {
		out->points = to_tern_file(file)->points;
		out->chain = dma_fence_chain_alloc();
		if (!out->chain) {
			drm_syncobj_put(out->syncobj);
			out->syncobj = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/* Attach @fence to the syncobj (a timeline point or the binary fence). */
void tern_out_fence_attach(struct tern_out_fence *out, struct dma_fence *fence)
{
	if (out->chain) {
		drm_syncobj_add_point(out->syncobj, out->chain, fence, out->point);
		out->chain = NULL;
		/* WAIT reads a point's status from here once the chain dropped it. */
		tern_points_add(out->points, out->syncobj, out->point, fence);
	} else if (out->syncobj) {
		drm_syncobj_replace_fence(out->syncobj, fence);
	}
}

void tern_out_fence_put(struct tern_out_fence *out)
{
	dma_fence_chain_free(out->chain);
	if (out->syncobj)
		drm_syncobj_put(out->syncobj);
}

/*
 * Validate and queue the DMA job @args describes (the body of SUBMIT, shared
 * with io_uring). Returns a reference to the job's fence, already attached
 * to the out syncobj, and sets args->job_id; or an ERR_PTR. The caller is
 * inside drm_dev_enter().
 */
struct dma_fence *tern_submit(struct drm_file *file, struct drm_tern_submit *args)
{
	struct tern_device *tdev = to_tern_device(file->minor->dev);
	struct tern_ctx *ctx = to_tern_file(file)->ctx;
	struct drm_tern_copy *copies = NULL;
	struct tern_out_fence out = {};
	struct tern_link_peer peer;
	struct tern_job *job = NULL;
	struct dma_fence *fence = NULL;
	u64 job_id;
	int ret;

	ret = tern_submit_check_args(tdev, args);
	if (ret)
		return ERR_PTR(ret);
	/* Holds the peer's file until this returns, never longer. */
	ret = tern_link_peer_get(file, args, &peer);
	if (ret)
		return ERR_PTR(ret);

	if (args->copy_count) {
		copies = kvmalloc_array(args->copy_count, sizeof(*copies), GFP_KERNEL);
		if (!copies) {
			ret = -ENOMEM;
			goto out_put_peer;
		}
		if (copy_from_user(copies, u64_to_user_ptr(args->copies),
				   array_size(args->copy_count, sizeof(*copies)))) {
			ret = -EFAULT;
			goto out_free_copies;
		}
	}

	/* An empty job is one NOP: it moves nothing and only signals its fence. */
	job = tern_job_alloc(&tdev->queues[args->queue], 3 * args->copy_count,
			     max(args->copy_count, 1u));
	if (!job) {
		ret = -ENOMEM;
		goto out_free_copies;
	}
	job->ctx = tern_ctx_get(ctx);
	job->stats = tern_client_stats_get(to_tern_file(file)->stats);
	if (peer.file)
		tern_link_job_init(job, &peer);

	if (args->copy_count) {
		ret = tern_job_add_copies(job, file, &peer, copies, args->copy_count);
		if (ret)
			goto out_free_job;
	} else {
		job->descs[0].opcode = TERN_DESC_OP_NOP;
	}

	ret = tern_out_fence_get(file, args->out_syncobj, args->out_point, &out);
	if (ret)
		goto out_free_job;

	job_id = job->id;
	trace_tern_submit(tern_minor(tdev), job_id, "dma", args->queue, args->copy_count,
			  current->tgid);
	fence = tern_queue_push(job->queue, job);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		fence = NULL;
		goto out_put_fence;
	}
	/* The queue owns the job now. */
	job = NULL;

	tern_out_fence_attach(&out, fence);
	args->job_id = job_id;

out_put_fence:
	tern_out_fence_put(&out);
out_free_job:
	if (job)
		tern_job_free(job);
out_free_copies:
	kvfree(copies);
out_put_peer:
	tern_link_peer_put(&peer);
	return fence ?: ERR_PTR(ret);
}

int tern_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct dma_fence *fence;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	fence = tern_submit(file, data);
	drm_dev_exit(idx);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	dma_fence_put(fence);
	return 0;
}

/* Relative nanoseconds to jiffies, rounded up; at least one jiffy. */
static long tern_wait_jiffies(s64 timeout_ns)
{
	u64 j = nsecs_to_jiffies64(timeout_ns);

	if (jiffies64_to_nsecs(j) < (u64)timeout_ns)
		j++;
	return min_t(u64, j, MAX_SCHEDULE_TIMEOUT);
}

/*
 * How the job behind a signalled fence ended: DRM_TERN_JOB_* in @r->status,
 * with its error code and fault address. Shared by WAIT and io_uring.
 */
void tern_fence_result(struct dma_fence *fence, struct tern_job_result *r)
{
	/* A timeline point is a chain node: the job's fence is inside it. */
	struct dma_fence *job_fence = dma_fence_chain_contained(fence) ?: fence;
	int status;

	*r = (struct tern_job_result){ .status = DRM_TERN_JOB_OK };

	if (job_fence->ops == &tern_fence_ops) {
		/* Takes the fence lock: error_code was set before the signal. */
		status = dma_fence_get_status(job_fence);
		if (status == -EIO) {
			r->status = DRM_TERN_JOB_DEVICE_ERROR;
			r->error_code = to_tern_fence(job_fence)->error_code;
		} else if (status == -EPROTO) {
			/* EXEC: a compute fault, error_code is its TERN_CERR_*. */
			r->status = DRM_TERN_JOB_FAULT;
			r->error_code = to_tern_fence(job_fence)->error_code;
		} else if (status == -EFAULT) {
			/* The device MMU refused an address of the job. */
			r->status = DRM_TERN_JOB_MMU_FAULT;
			r->error_code = to_tern_fence(job_fence)->error_code;
			r->fault_addr = to_tern_fence(job_fence)->fault_addr;
		} else if (status == -ENOLINK) {
			/* A LINK_COPY found its link down. */
			r->status = DRM_TERN_JOB_LINK_DOWN;
			r->error_code = to_tern_fence(job_fence)->error_code;
		} else if (status == -ETIMEDOUT) {
			r->status = DRM_TERN_JOB_TIMEOUT;
		} else if (status == -EAGAIN) {
			/* In flight when a recovery reset the device or its core. */
			r->status = DRM_TERN_JOB_RESET;
		} else if (status < 0) {
			r->status = DRM_TERN_JOB_ABORTED;
		}
		return;
	}

	/* Another driver's fence: it either worked or it did not. */
	if (dma_fence_get_status(job_fence) < 0)
		r->status = DRM_TERN_JOB_ABORTED;
}

static void tern_wait_status(struct dma_fence *fence, struct drm_tern_wait *args)
{
	struct tern_job_result r;

	tern_fence_result(fence, &r);
	args->status = r.status;
	args->error_code = r.error_code;
	args->fault_addr = r.fault_addr;
}

int tern_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_tern_wait *args = data;
	struct dma_fence *fence;
	long left;
	int idx, ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags || args->reserved || args->timeout_ns < 0) {
		ret = -EINVAL;
		goto out_exit;
	}

	ret = drm_syncobj_find_fence(file, args->syncobj, args->point, 0, &fence);
	drm_dev_exit(idx);
	if (ret) {
		/* No such syncobj, no fence in it, or not that point yet. */
		return -ENOENT;
	}
	fence = tern_points_exact(file, args->syncobj, args->point, fence);

	/*
	 * The wait needs nothing of the device and may be long (or, on another
	 * driver's fence, endless): it must not hold up an unbind.
	 */
	if (!args->timeout_ns) {
		ret = dma_fence_is_signaled(fence) ? 0 : -ETIME;
	} else {
		left = dma_fence_wait_timeout(fence, true, tern_wait_jiffies(args->timeout_ns));
		if (left < 0)
			ret = left;
		else
			ret = left ? 0 : -ETIME;
	}
	if (!ret)
		tern_wait_status(fence, args);

	dma_fence_put(fence);
	return ret;

out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* A descriptor from user space is little endian; jobs hold CPU order. */
static void tern_desc_from_le(struct tern_dma_desc *d, const struct tern_dma_desc *raw)
{
	d->opcode = le32_to_cpu((__force __le32)raw->opcode);
	d->flags = le32_to_cpu((__force __le32)raw->flags);
	d->src = le64_to_cpu((__force __le64)raw->src);
	d->dst = le64_to_cpu((__force __le64)raw->dst);
	d->size = le64_to_cpu((__force __le64)raw->size);
	d->fence_addr = le64_to_cpu((__force __le64)raw->fence_addr);
	d->fence_value = le64_to_cpu((__force __le64)raw->fence_value);
	if (d->flags & TERN_DESC_F_OPERAND) {
		d->operand = le64_to_cpu((__force __le64)raw->operand);
	} else {
		d->src_sgl_count = le32_to_cpu((__force __le32)raw->src_sgl_count);
		d->dst_sgl_count = le32_to_cpu((__force __le32)raw->dst_sgl_count);
	}
	d->ctx = le32_to_cpu((__force __le32)raw->ctx);
	d->link = le32_to_cpu((__force __le32)raw->link);
}

/**
 * tern_job_inject() - run one raw descriptor on queue 0 (debugfs inject_desc)
 * @tdev: device
 * @raw: the descriptor, as the chip reads it; submitted unchanged, followed
 *	 by the driver's own fence descriptor
 *
 * Return: 0 when the chip completed it, -EIO when the chip rejected it (the
 * job failed and the queue went on after it), -ETIMEDOUT when it did not
 * finish in time, -EINTR on a signal, -ENODEV when the device went away.
 */
int tern_job_inject(struct tern_device *tdev, const struct tern_dma_desc *raw)
{
	struct tern_queue *q = &tdev->queues[0];
	struct dma_fence *fence;
	struct tern_job *job;

	job = tern_job_alloc(q, 0, 2);
	if (!job)
		return -ENOMEM;

	tern_desc_from_le(&job->descs[0], raw);
	job->descs[1].opcode = TERN_DESC_OP_NOP;

	fence = tern_queue_push(q, job);
	if (IS_ERR(fence))
		tern_job_free(job);
	return tern_inject_wait(tdev, fence);
}

/**
 * tern_inject_wait() - wait for an injected job and drop its fence
 * @tdev: device
 * @fence: the job's fence from the push, or the push's ERR_PTR
 *
 * Return: 0 when the job ended OK, the fence's error, the push's error,
 * -ETIMEDOUT after TERN_INJECT_TIMEOUT_MS, or -EINTR on a signal (never
 * -ERESTARTSYS: a restarted write() would inject the job again).
 */
int tern_inject_wait(struct tern_device *tdev, struct dma_fence *fence)
{
	long left;
	int ret;

	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		return ret == -ERESTARTSYS ? -EINTR : ret;
	}
	left = dma_fence_wait_timeout(fence, true,
				      tern_timeout_jiffies(tdev, TERN_INJECT_TIMEOUT_MS));
	if (left < 0)
		ret = -EINTR;
	else if (!left)
		ret = -ETIMEDOUT;
	else
		ret = min(dma_fence_get_status(fence), 0);

	dma_fence_put(fence);
	return ret;
}
