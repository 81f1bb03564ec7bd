// SPDX-License-Identifier: GPL-2.0
/*
 * tern.ko: DRM accel driver of the tern chip.
 *
 * This file holds the module, the PCI driver (probe, remove) and the DRM
 * driver (ioctl table, GET_INFO). Documentation/driver.rst has the map.
 */

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>

#include "tern_core.h"
#include "tern_drv.h"
#include "tern_gem.h"
#include "tern_hw.h"
#include "tern_job.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_points.h"
#include "tern_queue.h"
#include "tern_recover.h"
#include "tern_telem.h"
#include "tern_uq.h"
#include "tern_uring.h"

static int tern_ioctl_get_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct drm_tern_info *args = data;
	int idx, ret = 0;
	u32 i;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->pad) {
		ret = -EINVAL;
		goto out_exit;
	}
	for (i = 0; i < ARRAY_SIZE(args->reserved); i++) {
		if (args->reserved[i]) {
			ret = -EINVAL;
			goto out_exit;
		}
	}

	args->uapi_major = READ_ONCE(tdev->uapi_major_override) ?: DRM_TERN_UAPI_VERSION_MAJOR;
	args->uapi_minor = DRM_TERN_UAPI_VERSION_MINOR;
	args->hw_version = tdev->hw.version;
	args->revision = tdev->hw.revision;
	args->platform = tdev->hw.platform == TERN_PLATFORM_EMULATED ?
			 DRM_TERN_PLATFORM_EMULATED : DRM_TERN_PLATFORM_SILICON;
	args->num_cores = tdev->hw.num_cores;
	args->num_queues = tdev->num_queues;
	args->num_dma_engines = tdev->hw.num_dma_engines;
	args->hbm_size = tdev->hw.hbm_size;
	args->hbm_used = atomic64_read(&tdev->hbm_used);
	args->caps = tdev->hw.caps;
	args->sbuf_size = tdev->hw.sbuf_size;
	args->num_user_queues = tdev->num_user_queues;
	args->va_bits = tdev->mmu ? TERN_VA_BITS : 0;
	args->chip_id = tdev->hw.chip_id;
	args->fabric_id = tdev->hw.fabric_id;
	args->fabric_chips = tdev->hw.fabric_chips;
	args->num_links = tdev->hw.num_links;

out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* Accel nodes have no master or render distinction: no DRM_AUTH. */
static const struct drm_ioctl_desc tern_drm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(TERN_GET_INFO, tern_ioctl_get_info, 0),
	DRM_IOCTL_DEF_DRV(TERN_BO_CREATE, tern_ioctl_bo_create, 0),
	DRM_IOCTL_DEF_DRV(TERN_BO_INFO, tern_ioctl_bo_info, 0),
	DRM_IOCTL_DEF_DRV(TERN_SUBMIT, tern_ioctl_submit, 0),
	DRM_IOCTL_DEF_DRV(TERN_WAIT, tern_ioctl_wait, 0),
	DRM_IOCTL_DEF_DRV(TERN_EXEC, tern_ioctl_exec, 0),
	DRM_IOCTL_DEF_DRV(TERN_QUEUE_CREATE, tern_ioctl_queue_create, 0),
	DRM_IOCTL_DEF_DRV(TERN_QUEUE_DESTROY, tern_ioctl_queue_destroy, 0),
	DRM_IOCTL_DEF_DRV(TERN_QUEUE_QUERY, tern_ioctl_queue_query, 0),
	DRM_IOCTL_DEF_DRV(TERN_LINK_QUERY, tern_ioctl_link_query, 0),
};

/*
 * The policy of Documentation/userq.rst: a file is its opener's. A forked
 * child or a process that received the file over a socket may close it,
 * but every ioctl, io_uring command and mmap refuses it.
 */
int tern_file_check_owner(struct drm_file *file)
{
	return to_tern_file(file)->owner == task_tgid(current) ? 0 : -EACCES;
}

static int tern_open(struct drm_device *drm, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct tern_file *tfile;
	int idx, ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	tfile = kzalloc(sizeof(*tfile), GFP_KERNEL);
	if (!tfile) {
		ret = -ENOMEM;
		goto out_exit;
	}
	tfile->tdev = tdev;
	tfile->owner = get_task_pid(current, PIDTYPE_TGID);
	mutex_init(&tfile->uq_lock);
	INIT_LIST_HEAD(&tfile->uq_list);
	tfile->stats = tern_client_stats_alloc();
	tfile->points = tern_points_alloc();
	if (!tfile->stats || !tfile->points) {
		ret = -ENOMEM;
		goto out_free;
	}

	ret = tern_ctx_open(tfile);
	if (ret)
		goto out_free;
	file->driver_priv = tfile;
	drm_dev_exit(idx);
	return 0;

out_free:
	tern_points_free(tfile->points);
	tern_client_stats_put(tfile->stats);
	put_pid(tfile->owner);
	mutex_destroy(&tfile->uq_lock);
	kfree(tfile);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/*
 * Every ioctl checks the file's owner first, DRM's core ones (handles,
 * syncobjs, PRIME export) too: another process holding the file could
 * otherwise export or close the opener's buffers.
 */
static long tern_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct drm_file *file = filp->private_data;

	if (tern_file_check_owner(file))
		return -EACCES;
	return drm_ioctl(filp, cmd, arg);
}

/* After the file's handles are gone (drm_gem_release()). */
static void tern_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct tern_file *tfile = to_tern_file(file);

	tern_ctx_close(tfile);
	tern_points_free(tfile->points);
	/* Jobs still in flight keep their own references. */
	tern_client_stats_put(tfile->stats);
	put_pid(tfile->owner);
	mutex_destroy(&tfile->uq_lock);
	kfree(tfile);
}

/*
 * Stop the file's user-mode queues before DRM releases its handles: their
 * rings live in the file's buffers.
 */
static int tern_release(struct inode *inode, struct file *filp)
{
	struct drm_file *file = filp->private_data;

	tern_uq_file_close(to_tern_file(file));
	return drm_release(inode, filp);
}

/* .owner makes every open file hold a reference on this module. */
static const struct file_operations tern_fops = {
	.owner = THIS_MODULE,
	.open = accel_open,
	.release = tern_release,
	.unlocked_ioctl = tern_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = tern_mmap,
	.uring_cmd = tern_uring_cmd,
	.show_fdinfo = drm_show_fdinfo,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

/* A file of a tern device (any chip), e.g. the peer_fd of a link job. */
bool tern_file_is_tern(const struct file *filp)
{
	return filp->f_op == &tern_fops;
}

static const struct drm_driver tern_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,

	.open = tern_open,
	.postclose = tern_postclose,

	.show_fdinfo = tern_show_fdinfo,

	.gem_create_object = tern_gem_create_object,
	.gem_prime_import_sg_table = tern_gem_prime_import_sg_table,

	.ioctls = tern_drm_ioctls,
	.num_ioctls = ARRAY_SIZE(tern_drm_ioctls),
	.fops = &tern_fops,

	.name = DRIVER_NAME,
	.desc = DRIVER_DESC,
	.date = DRIVER_DATE,
	.major = DRIVER_MAJOR,
	.minor = DRIVER_MINOR,
	.patchlevel = DRIVER_PATCHLEVEL,
};

static int tern_pci_init(struct tern_device *tdev)
{
	struct pci_dev *pdev = tdev->pdev;
	static const int bars[] = { TERN_BAR_REGS, TERN_BAR_DOORBELL, TERN_BAR_HBM };
	unsigned int i;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret) {
		drm_err(&tdev->drm, "cannot enable the PCI device: %d\n", ret);
		return ret;
	}
	pci_set_master(pdev);

	for (i = 0; i < ARRAY_SIZE(bars); i++) {
		if (!(pci_resource_flags(pdev, bars[i]) & IORESOURCE_MEM)) {
			drm_err(&tdev->drm, "BAR%d is not a memory BAR\n", bars[i]);
			return -ENODEV;
		}
	}
	if (pci_resource_len(pdev, TERN_BAR_REGS) < TERN_BAR_REGS_SIZE) {
		drm_err(&tdev->drm, "BAR%d is smaller than the register file\n", TERN_BAR_REGS);
		return -ENODEV;
	}

	tdev->regs = pcim_iomap_region(pdev, TERN_BAR_REGS, DRIVER_NAME);
	if (IS_ERR(tdev->regs)) {
		ret = PTR_ERR(tdev->regs);
		drm_err(&tdev->drm, "cannot map BAR%d: %d\n", TERN_BAR_REGS, ret);
		return ret;
	}
	tdev->doorbells = pcim_iomap_region(pdev, TERN_BAR_DOORBELL, DRIVER_NAME);
	if (IS_ERR(tdev->doorbells)) {
		ret = PTR_ERR(tdev->doorbells);
		drm_err(&tdev->drm, "cannot map BAR%d: %d\n", TERN_BAR_DOORBELL, ret);
		return ret;
	}
	/* HBM is only mapped on demand: into user space, or to clear it. */
	ret = pcim_request_region(pdev, TERN_BAR_HBM, DRIVER_NAME);
	if (ret) {
		drm_err(&tdev->drm, "cannot reserve BAR%d: %d\n", TERN_BAR_HBM, ret);
		return ret;
	}
	tdev->hbm_phys = pci_resource_start(pdev, TERN_BAR_HBM);

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		drm_err(&tdev->drm, "cannot set a 64-bit DMA mask: %d\n", ret);
	return ret;
}

/* devm action: stop the DMA engines before the rings they read are freed. */
static void tern_hw_stop_action(void *arg)
{
	tern_hw_reset(arg, "unbind");
}

static int tern_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct tern_device *tdev;
	int ret;

	tdev = devm_drm_dev_alloc(dev, &tern_drm_driver, struct tern_device, drm);
	if (IS_ERR(tdev))
		return PTR_ERR(tdev);
	tdev->pdev = pdev;
	pci_set_drvdata(pdev, tdev);

	/* Everything below is devm_ or drmm_ managed: nothing to unwind here. */
	ret = tern_pci_init(tdev);
	if (ret)
		return ret;
	ret = tern_hw_init(tdev);
	if (ret)
		return ret;
	ret = tern_recover_init(tdev);
	if (ret)
		return ret;
	ret = tern_gem_init(tdev);
	if (ret)
		return ret;
	ret = tern_link_init(tdev);
	if (ret)
		return ret;
	ret = tern_hw_irq_init(tdev);
	if (ret)
		return ret;
	ret = tern_queues_init(tdev);
	if (ret)
		return ret;
	ret = tern_cores_init(tdev);
	if (ret)
		return ret;
	ret = tern_mmu_init(tdev);
	if (ret)
		return ret;
	ret = tern_uq_init(tdev);
	if (ret)
		return ret;
	ret = tern_hw_irq_request(tdev);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(dev, tern_hw_stop_action, tdev);
	if (ret)
		return ret;
	ret = tern_queues_start(tdev);
	if (ret)
		return ret;
	ret = tern_cores_start(tdev);
	if (ret)
		return ret;
	ret = tern_telem_init(tdev);
	if (ret)
		return ret;
	ret = tern_sysfs_init(tdev);
	if (ret)
		return ret;
	ret = tern_link_sysfs_init(tdev);
	if (ret)
		return ret;
	tern_debugfs_init(tdev);

	ret = drm_dev_register(&tdev->drm, 0);
	if (ret) {
		drm_err(&tdev->drm, "cannot register the DRM device: %d\n", ret);
		return ret;
	}
	tern_debugfs_link_minor(tdev);

	drm_info(&tdev->drm, "tern rev %u (%s), interface %u.%u, %u cores, %u queues, %u DMA engines, %llu MiB HBM\n",
		 tdev->hw.revision,
		 tdev->hw.platform == TERN_PLATFORM_EMULATED ? "emulated" : "silicon",
		 tdev->hw.version >> 16, tdev->hw.version & 0xffff, tdev->hw.num_cores,
		 tdev->num_queues, tdev->hw.num_dma_engines, tdev->hw.hbm_size >> 20);
	return 0;
}

/*
 * Unbind, with or without open files. First recovery ends (no new one
 * starts), then the queues stop taking jobs
 * and the chip is reset, which stops its DMA engines; jobs it had not
 * finished fail with -ENODEV. That also ends every wait an ioctl or
 * inject_desc may be blocked in, so drm_dev_unplug() does not wait for
 * them: after it, no ioctl, mmap or debugfs file is running or can start
 * (they get -ENODEV) and CPU mappings of BOs are zapped. Open files keep
 * the drm_device (and this module) alive until they are closed.
 */
static void tern_remove(struct pci_dev *pdev)
{
	struct tern_device *tdev = pci_get_drvdata(pdev);

	tern_recover_fini(tdev);
	tern_queues_stop(tdev);
	tern_cores_stop(tdev);
	tern_hw_reset(tdev, "remove");
	tern_queues_abort(tdev, -ENODEV);
	tern_cores_abort(tdev, -ENODEV);

	tern_debugfs_unlink_minor(tdev);
	drm_dev_unplug(&tdev->drm);
}

/* Reboot or kexec: make sure the chip stops writing to memory. */
static void tern_shutdown(struct pci_dev *pdev)
{
	struct tern_device *tdev = pci_get_drvdata(pdev);

	tern_recover_fini(tdev);
	tern_queues_stop(tdev);
	tern_cores_stop(tdev);
	tern_hw_reset(tdev, "shutdown");
}

static const struct pci_device_id tern_pci_ids[] = {
	{ PCI_DEVICE(TERN_PCI_VENDOR_ID, TERN_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, tern_pci_ids);

static struct pci_driver tern_pci_driver = {
	.name = DRIVER_NAME,
	.id_table = tern_pci_ids,
	.probe = tern_probe,
	.remove = tern_remove,
	.shutdown = tern_shutdown,
	.err_handler = &tern_pci_err_handlers,
};
module_pci_driver(tern_pci_driver);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
MODULE_VERSION(DRIVER_VERSION_STR);
