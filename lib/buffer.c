// SPDX-License-Identifier: MIT
/*
 * libtern buffers: GEM buffer objects in host memory or device HBM.
 *
 * The library makes buffers of its own too (kernels' program images,
 * launch status slots): those are "internal" and do not count as the
 * user's buffers that tern_device_close() insists are freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "tern_internal.h"

static int buffer_alloc(struct tern_device *dev, uint64_t size, unsigned int flags,
			bool internal, struct tern_buffer **bufp)
{
	struct drm_tern_bo_create create = { 0 };
	struct drm_tern_bo_info info = { 0 };
	struct tern_buffer *buf;
	int ret;

	if (!dev || !bufp)
		return tern_fail(-EINVAL, "tern_buffer_alloc: NULL argument");
	*bufp = NULL;
	if (flags != TERN_MEM_HOST && flags != TERN_MEM_DEVICE)
		return tern_fail(-EINVAL,
				 "tern_buffer_alloc: flags 0x%x must be TERN_MEM_HOST or TERN_MEM_DEVICE",
				 flags);
	if (size == 0 || size > DRM_TERN_BO_MAX_SIZE)
		return tern_fail(-EINVAL, "tern_buffer_alloc: size %llu outside 1..%llu",
				 (unsigned long long)size, (unsigned long long)DRM_TERN_BO_MAX_SIZE);

	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return tern_fail(-ENOMEM, "tern_buffer_alloc: out of memory");

	create.size = size;
	create.domain = flags == TERN_MEM_HOST ? DRM_TERN_BO_HOST : DRM_TERN_BO_DEVICE;
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_BO_CREATE, &create)) {
		ret = tern_fail(-errno, "DRM_IOCTL_TERN_BO_CREATE of %llu bytes of %s memory on %s: %s",
				(unsigned long long)size, flags == TERN_MEM_HOST ? "host" : "device",
				dev->node, strerror(errno));
		goto err_free;
	}
	info.handle = create.handle;
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_BO_INFO, &info)) {
		ret = tern_fail(-errno, "DRM_IOCTL_TERN_BO_INFO on %s: %s", dev->node,
				strerror(errno));
		goto err_close;
	}

	buf->dev = dev;
	buf->handle = create.handle;
	buf->flags = flags;
	buf->internal = internal;
	buf->size = size;
	buf->alloc_size = info.size;
	buf->mmap_offset = info.mmap_offset;
	buf->device_va = info.device_va;
	pthread_mutex_init(&buf->map_lock, NULL);

	if (!internal) {
		pthread_mutex_lock(&dev->lock);
		dev->buffers++;
		pthread_mutex_unlock(&dev->lock);
	}
	*bufp = buf;
	return 0;

err_close:
	drmCloseBufferHandle(dev->fd, create.handle);
err_free:
	free(buf);
	return ret;
}

TERN_EXPORT int tern_buffer_alloc(struct tern_device *dev, uint64_t size, unsigned int flags,
				  struct tern_buffer **bufp)
{
	return buffer_alloc(dev, size, flags, false, bufp);
}

int tern_buffer_alloc_internal(struct tern_device *dev, uint64_t size, unsigned int flags,
			       struct tern_buffer **bufp)
{
	return buffer_alloc(dev, size, flags, true, bufp);
}

TERN_EXPORT int tern_buffer_map(struct tern_buffer *buf, void **ptrp)
{
	int ret = 0;
	void *p;

	if (!buf || !ptrp)
		return tern_fail(-EINVAL, "tern_buffer_map: NULL argument");
	pthread_mutex_lock(&buf->map_lock);
	if (!buf->map) {
		p = mmap(NULL, buf->alloc_size, PROT_READ | PROT_WRITE, MAP_SHARED, buf->dev->fd,
			 (off_t)buf->mmap_offset);
		if (p == MAP_FAILED)
			ret = tern_fail(-errno, "mmap of %llu bytes of buffer %u on %s: %s",
					(unsigned long long)buf->alloc_size, buf->handle,
					buf->dev->node, strerror(errno));
		else
			buf->map = p;
	}
	*ptrp = buf->map;
	pthread_mutex_unlock(&buf->map_lock);
	return ret;
}

TERN_EXPORT uint64_t tern_buffer_size(const struct tern_buffer *buf)
{
	return buf->size;
}

TERN_EXPORT unsigned int tern_buffer_flags(const struct tern_buffer *buf)
{
	return buf->flags;
}

TERN_EXPORT void tern_buffer_free(struct tern_buffer *buf)
{
	struct tern_device *dev;
	bool internal;

	if (!buf)
		return;
	dev = buf->dev;
	internal = buf->internal;
	if (buf->map)
		munmap(buf->map, buf->alloc_size);
	/* The kernel keeps the object alive while a queued job uses it. */
	drmCloseBufferHandle(dev->fd, buf->handle);
	pthread_mutex_destroy(&buf->map_lock);
	free(buf);

	if (internal)
		return;
	pthread_mutex_lock(&dev->lock);
	dev->buffers--;
	pthread_mutex_unlock(&dev->lock);
}
