// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/accel/<PCI address>/ (and the <minor> link to
 * it) holds "queues", "bos", "contexts", "user_queues", "links" and the
 * root-only "inject_desc", "inject_launch", "recover" and "dma_timeout_ms".
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/uaccess.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "tern_core.h"
#include "tern_drv.h"
#include "tern_gem.h"
#include "tern_job.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_queue.h"
#include "tern_recover.h"
#include "tern_uq.h"

static struct tern_device *tern_debugfs_dev(struct seq_file *m)
{
	struct drm_debugfs_entry *entry = m->private;

	return to_tern_device(entry->dev);
}

static int tern_debugfs_queues_show(struct seq_file *m, void *data)
{
	struct tern_device *tdev = tern_debugfs_dev(m);
	int idx;
	u32 i;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;

	seq_puts(m, "queue state      head   tail  slots  submitted  completed   failed error\n");
	for (i = 0; i < tdev->num_queues; i++)
		tern_queue_show(&tdev->queues[i], m);

	drm_dev_exit(idx);
	return 0;
}

static int tern_debugfs_bos_show(struct seq_file *m, void *data)
{
	tern_gem_show_bos(tern_debugfs_dev(m), m);
	return 0;
}

/*
 * contexts: one line per device address space (open file, or closed file
 * whose jobs still run): id, owner pid, bytes mapped, mappings, 4 KiB and
 * 2 MiB page-table entries, MMU faults of its jobs.
 */
static int tern_debugfs_contexts_show(struct seq_file *m, void *data)
{
	tern_mmu_show_contexts(tern_debugfs_dev(m), m);
	return 0;
}

/*
 * links: the chip's place in its fabric, then per link port its state,
 * peer chip, port and device, modeled bandwidth and latency, the chip's
 * counters, the state changes the driver saw and the jobs that failed on
 * it with the link down.
 */
static int tern_debugfs_links_show(struct seq_file *m, void *data)
{
	struct tern_device *tdev = tern_debugfs_dev(m);
	int idx;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	tern_link_show(tdev, m);
	drm_dev_exit(idx);
	return 0;
}

/*
 * The inject files take exactly one 64-byte descriptor per write, as the
 * chip reads it, and return 64 when the job ended OK. Nothing is checked:
 * they are the way to hand the chip malformed jobs (root only).
 */
static ssize_t tern_inject_write(struct file *file, const char __user *ubuf, size_t count,
				 int (*inject)(struct tern_device *tdev, const void *raw))
{
	struct tern_device *tdev = file->private_data;
	u8 raw[64] __aligned(8);
	int idx, ret;

	BUILD_BUG_ON(sizeof(struct tern_dma_desc) != sizeof(raw));
	BUILD_BUG_ON(sizeof(struct tern_launch_desc) != sizeof(raw));

	if (count != sizeof(raw))
		return -EINVAL;
	if (copy_from_user(raw, ubuf, sizeof(raw)))
		return -EFAULT;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	ret = inject(tdev, raw);
	drm_dev_exit(idx);

	return ret ? ret : sizeof(raw);
}

/*
 * inject_desc: a struct tern_dma_desc. It runs unchanged on queue 0,
 * followed by the driver's fence descriptor. -EIO when the chip rejected
 * it, -ETIMEDOUT when it did not finish in time.
 */
static int tern_inject_desc(struct tern_device *tdev, const void *raw)
{
	return tern_job_inject(tdev, raw);
}

static ssize_t tern_inject_desc_write(struct file *file, const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	return tern_inject_write(file, ubuf, count, tern_inject_desc);
}

static const struct file_operations tern_inject_desc_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tern_inject_desc_write,
	.llseek = noop_llseek,
};

/*
 * inject_launch: a struct tern_launch_desc. It runs on core 0 with its
 * program, slot table, flags and reserved fields unchanged; the driver
 * fills in the status and fence so the job retires. -EIO when the chip
 * rejected the descriptor (the ring halted and the driver resumed it after
 * the job), -EPROTO when the program faulted.
 */
static int tern_inject_launch(struct tern_device *tdev, const void *raw)
{
	return tdev->num_cores ? tern_core_inject(tdev, raw) : -ENODEV;
}

static ssize_t tern_inject_launch_write(struct file *file, const char __user *ubuf,
					size_t count, loff_t *ppos)
{
	return tern_inject_write(file, ubuf, count, tern_inject_launch);
}

static const struct file_operations tern_inject_launch_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tern_inject_launch_write,
	.llseek = noop_llseek,
};

/*
 * recover: any write (text of [A-Za-z0-9._-], up to a space or newline)
 * runs one recovery with reason "debugfs:<text>" and returns once it is
 * done (root only).
 */
static ssize_t tern_recover_write(struct file *file, const char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	struct tern_device *tdev = file->private_data;
	char text[TERN_RECOVER_REASON_LEN - 8];
	int idx, ret;

	if (!count || count >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, ubuf, count))
		return -EFAULT;
	text[count] = '\0';

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	ret = tern_recover_debugfs(tdev, text);
	drm_dev_exit(idx);
	return ret ? ret : count;
}

static const struct file_operations tern_recover_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tern_recover_write,
	.llseek = noop_llseek,
};

/* Called before drm_dev_register(); drm_dev_unregister() removes it all. */
void tern_debugfs_init(struct tern_device *tdev)
{
	struct drm_device *drm = &tdev->drm;

	drm_debugfs_add_file(drm, "queues", tern_debugfs_queues_show, NULL);
	drm_debugfs_add_file(drm, "bos", tern_debugfs_bos_show, NULL);
	drm_debugfs_add_file(drm, "contexts", tern_debugfs_contexts_show, NULL);
	drm_debugfs_add_file(drm, "user_queues", tern_uq_debugfs_show, NULL);
	drm_debugfs_add_file(drm, "links", tern_debugfs_links_show, NULL);
	debugfs_create_file("inject_desc", 0200, drm->debugfs_root, tdev,
			    &tern_inject_desc_fops);
	debugfs_create_file("inject_launch", 0200, drm->debugfs_root, tdev,
			    &tern_inject_launch_fops);
	debugfs_create_u32("uapi_major_override", 0600, drm->debugfs_root,
			   &tdev->uapi_major_override);
	debugfs_create_file("recover", 0200, drm->debugfs_root, tdev, &tern_recover_fops);
	debugfs_create_u32("dma_timeout_ms", 0600, drm->debugfs_root, &tdev->dma_timeout_ms);
}

/*
 * The DRM core names an accel device's debugfs directory after its PCI
 * address. Like it does for /sys/kernel/debug/dri/<minor>, add
 * accel/<minor> pointing there, so tools can go from accelN to debugfs.
 */
void tern_debugfs_link_minor(struct tern_device *tdev)
{
	struct drm_device *drm = &tdev->drm;
	struct dentry *accel_root;
	char name[16];

	if (IS_ERR_OR_NULL(drm->debugfs_root) || !drm->accel)
		return;

	accel_root = debugfs_lookup("accel", NULL);
	if (IS_ERR_OR_NULL(accel_root))
		return;

	snprintf(name, sizeof(name), "%d", drm->accel->index);
	tdev->debugfs_minor_link = debugfs_create_symlink(name, accel_root, drm->unique);
	dput(accel_root);
}

void tern_debugfs_unlink_minor(struct tern_device *tdev)
{
	debugfs_remove(tdev->debugfs_minor_link);
	tdev->debugfs_minor_link = NULL;
}
