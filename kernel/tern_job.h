/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern DMA jobs: what SUBMIT builds, the fence each job signals, WAIT.
 */
#ifndef __TERN_JOB_H__
#define __TERN_JOB_H__

#include <linux/dma-fence.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "tern_drv.h"

struct drm_device;
struct dma_fence;
struct dma_fence_chain;
struct drm_file;
struct drm_syncobj;
struct tern_client_stats;
struct tern_ctx;
struct tern_mapping;
struct tern_queue;

/**
 * struct tern_fence - completion fence of one job
 *
 * Allocated separately from the job: a fence can outlive its job, its
 * queue and the device (syncobjs and sync_files keep references), so it
 * carries its own lock and nothing that points back into the device.
 */
struct tern_fence {
	struct dma_fence base;		/* must stay first: freed by dma_fence_free() */
	spinlock_t lock;		/* the dma_fence lock of @base */
	u32 error_code;			/* TERN_ERR_*, TERN_CERR_* or TERN_FAULT_INFO() */
	u64 fault_addr;			/* MMU fault (-EFAULT): the faulting VA */
};

/* How a job ended, as WAIT and io_uring completions report it. */
struct tern_job_result {
	u32 status;			/* DRM_TERN_JOB_* */
	u32 error_code;
	u64 fault_addr;
};

/**
 * struct tern_job - one DMA job on one queue
 *
 * Built without locks by SUBMIT or inject_desc, then handed to
 * tern_queue_push(). From then on the queue owns it: it sits on
 * &tern_queue.pending until it retires, is signalled under the queue's
 * job_lock and freed by tern_job_free() after that lock is dropped.
 *
 * A SUBMIT job holds a reference on its file's context and on the mapping
 * of every buffer it names by handle, so those stay mapped until it
 * retires even if the file closes the handles or itself. DRM_TERN_COPY_VA
 * copies name no buffer and keep nothing mapped: what they reach is
 * whatever the context maps while they run.
 *
 * A link job (DRM_TERN_SUBMIT_LINK, tern_link.c) also holds the peer
 * file's context and the peer's drm_device, and its maps include the
 * mappings of the peer buffers it writes, in that context.
 */
struct tern_job {
	struct list_head node;		/* in tern_queue.pending */
	struct tern_queue *queue;
	struct tern_fence *fence;	/* the job's own reference */
	struct tern_ctx *ctx;		/* a reference; NULL for inject_desc */
	struct tern_ctx *peer_ctx;	/* link job: a reference, else NULL */
	struct drm_device *peer_drm;	/* link job: a reference, else NULL */
	u32 link_port;			/* link job: the port it sends through */
	u64 id;
	u64 seqno;
	u32 ring_start;			/* ring index of the first descriptor */
	u32 desc_count;

	/* Telemetry: the file's accounting (a reference, or NULL) and times. */
	struct tern_client_stats *stats;
	u64 submit_ns;			/* ktime_get_ns() when SUBMIT took it */
	u64 start_ns;			/* when its doorbell was rung (set by the push) */
	u64 bytes;			/* bytes its copies move */

	/* TDR, under the queue's job_lock: set once the job is first in the ring. */
	unsigned long deadline;		/* jiffies */
	bool timed_out;			/* the TDR asked for a recovery */

	/* Descriptors in CPU byte order; freed once copied into the ring. */
	struct tern_dma_desc *descs;

	u32 map_count;			/* used of @maps */
	u32 max_maps;			/* allocated: three per copy (src, dst, operand) */
	struct tern_mapping *maps[] __counted_by(max_maps);
};

/**
 * struct tern_out_fence - where a submitted job's fence goes (out_syncobj)
 * @syncobj: the syncobj, or NULL when the caller asked for none
 * @chain: preallocated link for a timeline point, or NULL
 * @point: timeline point, 0 for a binary syncobj
 * @points: the submitting file's kept points (tern_points.h), for a point
 */
struct tern_out_fence {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
	struct tern_points *points;
};

int tern_out_fence_get(struct drm_file *file, u32 handle, u64 point,
		       struct tern_out_fence *out);
void tern_out_fence_attach(struct tern_out_fence *out, struct dma_fence *fence);
void tern_out_fence_put(struct tern_out_fence *out);

void tern_fence_init(struct tern_fence *fence, u64 context, u64 seqno);
void tern_job_signal(struct tern_job *job, int error, u32 device_error);
void tern_job_free(struct tern_job *job);
int tern_job_inject(struct tern_device *tdev, const struct tern_dma_desc *raw);
int tern_inject_wait(struct tern_device *tdev, struct dma_fence *fence);

int tern_job_add_map(struct tern_job *job, struct tern_ctx *ctx, struct drm_file *file,
		     u32 handle, struct tern_mapping **out);
int tern_job_check_range(u64 offset, u64 size, struct tern_mapping *map, u64 *end);
int tern_job_copy_operand(struct tern_job *job, struct tern_ctx *ctx, struct drm_file *file,
			  const struct drm_tern_copy *c, u32 i, struct tern_dma_desc *d);

void tern_fence_result(struct dma_fence *fence, struct tern_job_result *r);
struct dma_fence *tern_submit(struct drm_file *file, struct drm_tern_submit *args);
int tern_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* __TERN_JOB_H__ */
