/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern timeline points: the fence of each of a file's recent timeline
 * points, kept so that WAIT reports a point's own status after the DRM
 * core dropped the point from the syncobj's chain (Documentation/driver.rst,
 * "Timeline points").
 */
#ifndef __TERN_POINTS_H__
#define __TERN_POINTS_H__

#include <linux/types.h>

struct dma_fence;
struct drm_file;
struct drm_syncobj;
struct tern_points;

struct tern_points *tern_points_alloc(void);
void tern_points_free(struct tern_points *pts);
void tern_points_add(struct tern_points *pts, struct drm_syncobj *syncobj, u64 point,
		     struct dma_fence *fence);
struct dma_fence *tern_points_exact(struct drm_file *file, u32 handle, u64 point,
				    struct dma_fence *fence);

#endif /* __TERN_POINTS_H__ */
