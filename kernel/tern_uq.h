/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern user-mode queues: DMA queues whose ring lives in a context's memory
 * and whose doorbell page the owning process maps.
 */
#ifndef __TERN_UQ_H__
#define __TERN_UQ_H__

#include <linux/fs.h>
#include <linux/mm_types.h>

#include "tern_drv.h"

/*
 * Probe, after tern_mmu_init(): set up tdev->uqs for the chip's queues
 * num_queues..num_queues + num_user_queues - 1 (drmm_ managed).
 */
int tern_uq_init(struct tern_device *tdev);
int tern_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_queue_query(struct drm_device *drm, void *data, struct drm_file *file);
void tern_uq_file_close(struct tern_file *tfile);
int tern_mmap(struct file *filp, struct vm_area_struct *vma);

#endif /* __TERN_UQ_H__ */
