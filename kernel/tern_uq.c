// SPDX-License-Identifier: GPL-2.0
/*
 * tern user-mode queues.
 */

#include <drm/drm_gem.h>

#include "tern_uq.h"

int tern_uq_init(struct tern_device *tdev)
{
	return 0;
}

int tern_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

int tern_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

int tern_ioctl_queue_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

void tern_uq_file_close(struct tern_file *tfile)
{
}

int tern_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return drm_gem_mmap(filp, vma);
}
