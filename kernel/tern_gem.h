/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern buffer objects: host memory (shmem) and device memory (HBM).
 */
#ifndef __TERN_GEM_H__
#define __TERN_GEM_H__

#include <linux/list.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>

#include "tern_drv.h"

/**
 * struct tern_bo - a buffer object of either domain
 *
 * Host BOs use all of @shmem. Device BOs only use its GEM object
 * (shmem.base, initialised as a private object without backing pages) and
 * own @hbm_node instead.
 */
struct tern_bo {
	/* Must stay first: the shmem helper kfree()s host BOs through it. */
	struct drm_gem_shmem_object shmem;
	struct list_head list_node;	/* in tern_device.bo_list */
	u64 id;				/* for debugfs, unique per device */
	u32 domain;			/* DRM_TERN_BO_HOST or DRM_TERN_BO_DEVICE */
	u32 flags;			/* DRM_TERN_BO_* creation flags, constant */
	u64 host_reserved;		/* bytes it holds of the host-BO budget, constant */
	struct drm_mm_node hbm_node;	/* device BOs, under tern_device.hbm_lock */
};

static inline struct tern_bo *to_tern_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct tern_bo, shmem.base);
}

static inline struct drm_gem_object *tern_bo_obj(struct tern_bo *bo)
{
	return &bo->shmem.base;
}

static inline u64 tern_bo_size(struct tern_bo *bo)
{
	return bo->shmem.base.size;
}

static inline bool tern_bo_is_device(struct tern_bo *bo)
{
	return bo->domain == DRM_TERN_BO_DEVICE;
}

/* HBM offset of a device BO. */
static inline u64 tern_bo_hbm_offset(struct tern_bo *bo)
{
	return bo->hbm_node.start;
}

int tern_gem_init(struct tern_device *tdev);
struct drm_gem_object *tern_gem_create_object(struct drm_device *drm, size_t size);
struct drm_gem_object *tern_gem_prime_import_sg_table(struct drm_device *drm,
						      struct dma_buf_attachment *attach,
						      struct sg_table *sgt);
struct tern_bo *tern_bo_lookup(struct drm_file *file, u32 handle);
void tern_gem_show_bos(struct tern_device *tdev, struct seq_file *m);

int tern_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_bo_info(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* __TERN_GEM_H__ */
