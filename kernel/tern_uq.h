/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern user-mode queues: DMA queues whose ring lives in a context's memory
 * and whose doorbell page the owning process maps.
 */
#ifndef __TERN_UQ_H__
#define __TERN_UQ_H__

#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/seq_file.h>

#include "tern_drv.h"

struct drm_printer;
struct tern_uq;

/*
 * Probe, after tern_mmu_init(): set up tdev->uqs for the chip's queues
 * num_queues..num_queues + num_user_queues - 1 (drmm_ managed). Without a
 * device MMU (tdev->mmu NULL) there are no user-mode queues.
 */
int tern_uq_init(struct tern_device *tdev);
int tern_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file);
int tern_ioctl_queue_query(struct drm_device *drm, void *data, struct drm_file *file);
/* From the fops release, before DRM drops the file's handles. */
void tern_uq_file_close(struct tern_file *tfile);
/* The file's mmap: doorbells below DRM_FILE_PAGE_OFFSET_START, else GEM. */
int tern_mmap(struct file *filp, struct vm_area_struct *vma);

/* User queue @i (0..num_user_queues - 1), for its interrupt handler. */
struct tern_uq *tern_uq_get(struct tern_device *tdev, u32 i);
/* Interrupt thread of a user queue: the queue's QDONE bit was set. */
void tern_uq_irq(struct tern_uq *uq);
/* Error interrupt thread: look at halted user queues (never resumes them). */
void tern_uq_recover(struct tern_device *tdev);
/* Recovery (tern_recover.c): stop the owned queues; after the reset, mark them reset. */
void tern_uq_pause(struct tern_device *tdev);
void tern_uq_restart(struct tern_device *tdev);
void tern_uq_dump(struct tern_device *tdev, struct drm_printer *p);
/* debugfs "user_queues". */
int tern_uq_debugfs_show(struct seq_file *m, void *data);

#endif /* __TERN_UQ_H__ */
