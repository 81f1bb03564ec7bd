// SPDX-License-Identifier: MIT
/*
 * libtern devices: find tern accel devices in sysfs, open and describe them.
 *
 * libdrm cannot list accel nodes (it only looks at /dev/dri), so devices are
 * found through /sys/class/accel/accelN/device/driver.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xf86drm.h>

#include "tern_internal.h"

/* Basename of the symlink @path points to, into @out. */
static int link_basename(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n;
	const char *base;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

static int is_tern_minor(unsigned int minor)
{
	char path[96], driver[64];

	snprintf(path, sizeof(path), TERN_SYSFS_ACCEL "/accel%u/device/driver", minor);
	if (link_basename(path, driver, sizeof(driver)))
		return 0;
	return strcmp(driver, TERN_DRIVER_NAME) == 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

int tern_scan_minors(unsigned int *minors, unsigned int max)
{
	struct dirent *de;
	unsigned int count = 0, minor;
	char tail;
	DIR *dir;

	dir = opendir(TERN_SYSFS_ACCEL);
	if (!dir) {
		/* No accel class at all: no accel driver is loaded. */
		if (errno == ENOENT)
			return 0;
		return tern_fail(-errno, "cannot read %s: %s", TERN_SYSFS_ACCEL, strerror(errno));
	}
	while ((de = readdir(dir))) {
		if (sscanf(de->d_name, "accel%u%c", &minor, &tail) != 1)
			continue;
		if (!is_tern_minor(minor))
			continue;
		if (count == max)
			break;
		minors[count++] = minor;
	}
	closedir(dir);
	qsort(minors, count, sizeof(*minors), cmp_uint);
	return count;
}

TERN_EXPORT int tern_device_count(void)
{
	unsigned int minors[TERN_MAX_DEVICES];

	return tern_scan_minors(minors, TERN_MAX_DEVICES);
}

static int get_info(struct tern_device *dev, struct drm_tern_info *info)
{
	memset(info, 0, sizeof(*info));
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_GET_INFO, info))
		return tern_fail(-errno, "DRM_IOCTL_TERN_GET_INFO on %s: %s", dev->node,
				 strerror(errno));
	return 0;
}

static int check_driver(struct tern_device *dev)
{
	drmVersionPtr ver;
	int ret = 0;

	ver = drmGetVersion(dev->fd);
	if (!ver)
		return tern_fail(-errno ? -errno : -EIO, "drmGetVersion on %s failed: %s",
				 dev->node, strerror(errno));
	if (!ver->name || strcmp(ver->name, TERN_DRIVER_NAME) != 0) {
		ret = tern_fail(-ENODEV, "%s is driven by \"%s\", not tern", dev->node,
				ver->name ? ver->name : "?");
	} else {
		snprintf(dev->driver_name, sizeof(dev->driver_name), "%s", ver->name);
		snprintf(dev->driver_version, sizeof(dev->driver_version), "%d.%d.%d",
			 ver->version_major, ver->version_minor, ver->version_patchlevel);
	}
	drmFreeVersion(ver);
	return ret;
}

TERN_EXPORT int tern_device_open(unsigned int index, struct tern_device **devp)
{
	unsigned int minors[TERN_MAX_DEVICES];
	struct tern_device *dev;
	char path[96];
	int count, ret;

	if (!devp)
		return tern_fail(-EINVAL, "tern_device_open: devp is NULL");
	*devp = NULL;
	count = tern_scan_minors(minors, TERN_MAX_DEVICES);
	if (count < 0)
		return count;
	if (index >= (unsigned int)count)
		return tern_fail(-ENODEV, "no tern device with index %u (%d found%s)", index, count,
				 count ? "" : "; is tern.ko loaded?");

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return tern_fail(-ENOMEM, "tern_device_open: out of memory");
	dev->index = index;
	dev->minor = minors[index];
	snprintf(dev->node, sizeof(dev->node), TERN_DEV_ACCEL "/accel%u", dev->minor);
	snprintf(path, sizeof(path), TERN_SYSFS_ACCEL "/accel%u/device", dev->minor);
	if (link_basename(path, dev->pci_address, sizeof(dev->pci_address)))
		strcpy(dev->pci_address, "unknown");
	pthread_mutex_init(&dev->lock, NULL);

	dev->fd = open(dev->node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			ret = tern_fail(-EACCES,
					"cannot open %s: permission denied (run as root or get access to the node)",
					dev->node);
		else if (ret == -ENOENT)
			ret = tern_fail(-ENODEV, "cannot open %s: no such node (is devtmpfs mounted?)",
					dev->node);
		else
			ret = tern_fail(ret, "cannot open %s: %s", dev->node, strerror(-ret));
		goto err_free;
	}
	ret = check_driver(dev);
	if (ret)
		goto err_close;
	ret = get_info(dev, &dev->hw);
	if (ret)
		goto err_close;
	if (dev->hw.uapi_major != DRM_TERN_UAPI_VERSION_MAJOR) {
		/* Say which side is older and what to install (install.rst, "Versions"). */
		bool newer = dev->hw.uapi_major > DRM_TERN_UAPI_VERSION_MAJOR;

		ret = tern_fail(-EPROTO,
				"%s: version mismatch: the tern driver (tern.ko %s) speaks UAPI %u.%u, this libtern %d.%d.%d speaks UAPI %u.x; "
				"the driver is %s: %s (`modinfo tern` shows the installed driver's version)",
				dev->node, dev->driver_version, dev->hw.uapi_major, dev->hw.uapi_minor,
				TERN_LIB_VERSION_MAJOR, TERN_LIB_VERSION_MINOR, TERN_LIB_VERSION_PATCH,
				DRM_TERN_UAPI_VERSION_MAJOR, newer ? "newer" : "older",
				newer ? "install the libtern and tools of the driver's tern release"
				      : "install tern.ko from this libtern's tern release (make dkms), then reload it");
		goto err_close;
	}
	if (dev->hw.num_queues == 0) {
		ret = tern_fail(-ENODEV, "%s: driver reports no DMA queues", dev->node);
		goto err_close;
	}
	ret = tern_submit_init(dev);
	if (ret)
		goto err_close;
	ret = tern_kcache_create(dev);
	if (ret)
		goto err_submit;
	*devp = dev;
	return 0;

err_submit:
	tern_submit_fini(dev);

err_close:
	close(dev->fd);
err_free:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

TERN_EXPORT int tern_device_close(struct tern_device *dev)
{
	unsigned int buffers, kernels;

	if (!dev)
		return 0;
	pthread_mutex_lock(&dev->lock);
	buffers = dev->buffers;
	kernels = dev->kernels;
	if (buffers || kernels) {
		pthread_mutex_unlock(&dev->lock);
		if (!buffers)
			return tern_fail(-EBUSY, "tern_device_close on %s: %u kernel%s still loaded",
					 dev->node, kernels, kernels == 1 ? "" : "s");
		return tern_fail(-EBUSY, "tern_device_close on %s: %u buffer%s still allocated",
				 dev->node, buffers, buffers == 1 ? "" : "s");
	}
	/* Unreleased fences and the syncobj pool; closing the fd would free them too. */
	tern_fences_destroy(dev);
	pthread_mutex_unlock(&dev->lock);
	tern_prof_destroy(dev);		/* a profiling session never stopped */

	/*
	 * The cache's kernels, kernels freed while they ran, the launch status
	 * buffers. Jobs still running keep what they use in the driver.
	 */
	tern_kcache_destroy(dev);
	tern_launch_destroy(dev);
	tern_submit_fini(dev);
	close(dev->fd);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return 0;
}

TERN_EXPORT int tern_device_info(struct tern_device *dev, struct tern_device_info *info)
{
	struct drm_tern_info hw;
	int ret;

	if (!dev || !info)
		return tern_fail(-EINVAL, "tern_device_info: NULL argument");
	ret = get_info(dev, &hw);
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->index = dev->index;
	info->minor = dev->minor;
	snprintf(info->node, sizeof(info->node), "%s", dev->node);
	snprintf(info->pci_address, sizeof(info->pci_address), "%s", dev->pci_address);
	info->revision = hw.revision;
	info->platform = hw.platform;
	info->hw_version = hw.hw_version;
	info->caps = hw.caps;
	info->num_cores = hw.num_cores;
	info->num_queues = hw.num_queues;
	info->num_dma_engines = hw.num_dma_engines;
	info->hbm_total = hw.hbm_size;
	info->hbm_used = hw.hbm_used;
	snprintf(info->driver_name, sizeof(info->driver_name), "%s", dev->driver_name);
	snprintf(info->driver_version, sizeof(info->driver_version), "%s", dev->driver_version);
	info->uapi_major = hw.uapi_major;
	info->uapi_minor = hw.uapi_minor;
	info->chip_id = hw.chip_id;
	info->fabric_id = hw.fabric_id;
	info->fabric_chips = hw.fabric_chips;
	info->num_links = hw.num_links;
	return 0;
}

TERN_EXPORT int tern_device_fd(struct tern_device *dev)
{
	return dev->fd;
}
