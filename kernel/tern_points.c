// SPDX-License-Identifier: GPL-2.0
/*
 * tern timeline points. The DRM core keeps a timeline syncobj's points as a
 * chain of fences and drops signalled ones whenever the chain is walked, so
 * a later lookup of a dropped point finds an older point (or a stub): WAIT
 * would report that one's status, and a job that failed would read as OK.
 * Each file therefore keeps the fence of its last TERN_POINTS_KEPT timeline
 * points (a syncobj and a fence reference each); for a dropped point, WAIT
 * and io_uring WAIT take the status from that fence. Older points fall
 * back to the DRM core's answer (Documentation/driver.rst).
 */

#include <linux/dma-fence-chain.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_syncobj.h>

#include "tern_drv.h"
#include "tern_points.h"

#define TERN_POINTS_KEPT	256

struct tern_point {
	struct drm_syncobj *syncobj;	/* a reference, or NULL for a free slot */
	u64 point;
	struct dma_fence *fence;	/* a reference to the job's fence */
};

struct tern_points {
	struct mutex lock;		/* Protects ring and next */
	struct tern_point ring[TERN_POINTS_KEPT];
	u32 next;			/* the slot the next point takes */
};

struct tern_points *tern_points_alloc(void)
{
	struct tern_points *pts = kzalloc(sizeof(*pts), GFP_KERNEL);

	if (pts)
		mutex_init(&pts->lock);
	return pts;
}

static void tern_point_clear(struct tern_point *p)
{
	if (!p->syncobj)
		return;
	drm_syncobj_put(p->syncobj);
	dma_fence_put(p->fence);
	*p = (struct tern_point){};
}

void tern_points_free(struct tern_points *pts)
{
	u32 i;

	if (!pts)
		return;
	for (i = 0; i < TERN_POINTS_KEPT; i++)
		tern_point_clear(&pts->ring[i]);
	mutex_destroy(&pts->lock);
	kfree(pts);
}

/* Keep @fence as @point of @syncobj, in place of the oldest point kept. */
void tern_points_add(struct tern_points *pts, struct drm_syncobj *syncobj, u64 point,
		     struct dma_fence *fence)
{
	struct tern_point *p;

	mutex_lock(&pts->lock);
	p = &pts->ring[pts->next];
	pts->next = (pts->next + 1) % TERN_POINTS_KEPT;
	tern_point_clear(p);
	drm_syncobj_get(syncobj);
	p->syncobj = syncobj;
	p->point = point;
	p->fence = dma_fence_get(fence);
	mutex_unlock(&pts->lock);
}

/* The newest kept fence of @point of @syncobj, referenced, or NULL. */
static struct dma_fence *tern_points_find(struct tern_points *pts, struct drm_syncobj *syncobj,
					  u64 point)
{
	struct dma_fence *fence = NULL;
	u32 i, k;

	mutex_lock(&pts->lock);
	for (i = 1; i <= TERN_POINTS_KEPT && !fence; i++) {
		k = (pts->next + TERN_POINTS_KEPT - i) % TERN_POINTS_KEPT;
		if (pts->ring[k].syncobj == syncobj && pts->ring[k].point == point)
			fence = dma_fence_get(pts->ring[k].fence);
	}
	mutex_unlock(&pts->lock);
	return fence;
}

/**
 * tern_points_exact() - the fence whose status is that of a timeline point
 * @file: the file that waits
 * @handle: its syncobj handle
 * @point: the point (0: a binary syncobj)
 * @fence: what drm_syncobj_find_fence() found for it (a reference, taken over)
 *
 * A point the DRM core dropped was signalled: if @file kept its fence, that
 * fence (signalled too) replaces @fence. Otherwise @fence is returned.
 *
 * Return: a fence reference.
 */
struct dma_fence *tern_points_exact(struct drm_file *file, u32 handle, u64 point,
				    struct dma_fence *fence)
{
	struct tern_points *pts = to_tern_file(file)->points;
	struct drm_syncobj *syncobj;
	struct dma_fence *exact;

	if (!point || !pts || !dma_fence_is_signaled(fence))
		return fence;
	/* The point itself is still in the chain. */
	if (to_dma_fence_chain(fence) && fence->seqno == point)
		return fence;
	syncobj = drm_syncobj_find(file, handle);
	if (!syncobj)
		return fence;
	exact = tern_points_find(pts, syncobj, point);
	drm_syncobj_put(syncobj);
	if (!exact)
		return fence;
	dma_fence_put(fence);
	return exact;
}
