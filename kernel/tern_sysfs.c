// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs group "tern" on the PCI device: read-only counters and identity,
 * found at /sys/class/accel/accelN/device/tern/. The link ports' groups,
 * device/link<p>/, are made by tern_link.c; the telemetry groups dma<e>/,
 * queue<q>/ and core<c>/ by tern_telem.c. The attributes read from the
 * chip's telemetry counters exist only with TERN_CAP_TELEMETRY.
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>

#include "tern_drv.h"
#include "tern_hw.h"
#include "tern_isa.h"
#include "tern_recover.h"
#include "tern_telem.h"

static struct tern_device *tern_sysfs_dev(struct device *dev)
{
	return dev_get_drvdata(dev);
}

#define TERN_ATTR_U64(_name, _expr)						\
static ssize_t _name##_show(struct device *dev, struct device_attribute *attr,	\
			    char *buf)						\
{										\
	struct tern_device *tdev = tern_sysfs_dev(dev);				\
										\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));		\
}										\
static DEVICE_ATTR_RO(_name)

TERN_ATTR_U64(hbm_total, tdev->hw.hbm_size);
TERN_ATTR_U64(hbm_used, atomic64_read(&tdev->hbm_used));
TERN_ATTR_U64(bo_count, atomic_read(&tdev->bo_count));
TERN_ATTR_U64(jobs_submitted, atomic64_read(&tdev->jobs_submitted));
TERN_ATTR_U64(jobs_completed, atomic64_read(&tdev->jobs_completed));
TERN_ATTR_U64(jobs_failed, atomic64_read(&tdev->jobs_failed));
TERN_ATTR_U64(device_errors, atomic64_read(&tdev->device_errors));
TERN_ATTR_U64(num_cores, tdev->hw.num_cores);
TERN_ATTR_U64(num_queues, tdev->num_queues);
TERN_ATTR_U64(num_dma_engines, tdev->hw.num_dma_engines);
TERN_ATTR_U64(revision, tdev->hw.revision);
/* Links (tern_link.c): each port has its own group, link<p>, beside this one. */
TERN_ATTR_U64(chip_id, tdev->hw.chip_id);
TERN_ATTR_U64(fabric_id, tdev->hw.fabric_id);
TERN_ATTR_U64(fabric_chips, tdev->hw.fabric_chips);
TERN_ATTR_U64(num_links, tdev->hw.num_links);
TERN_ATTR_U64(host_used, atomic64_read(&tdev->host_used));
TERN_ATTR_U64(kernel_used, atomic64_read(&tdev->kernel_used));
TERN_ATTR_U64(mmu_faults, atomic64_read(&tdev->mmu_faults));
TERN_ATTR_U64(utilization, tern_telem_utilization(tdev));
/* Recovery (tern_recover.c). */
TERN_ATTR_U64(resets, atomic64_read(&tdev->rec->resets));
TERN_ATTR_U64(lost_completions, atomic64_read(&tdev->rec->lost_completions));

/* RAS (tern_ras.c): the events the driver saw, and the last line of each kind. */
TERN_ATTR_U64(ecc_ce_events, atomic64_read(&tdev->ras_ce_events));
TERN_ATTR_U64(ecc_ue_events, atomic64_read(&tdev->ras_ue_events));
/* 4 KiB HBM pages retired after an uncorrected error, and those waiting for their buffer. */
TERN_ATTR_U64(ecc_retired_pages, READ_ONCE(tdev->hbm_retired_count));
TERN_ATTR_U64(ecc_retire_pending, READ_ONCE(tdev->hbm_retire_pending_count));

/* "none" before the first event of the kind, else the line's HBM offset. */
static ssize_t tern_sysfs_ras_addr(char *buf, atomic64_t *events, atomic64_t *addr)
{
	if (!atomic64_read(events))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "0x%llx\n", (unsigned long long)atomic64_read(addr));
}

static ssize_t ecc_last_ce_addr_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	struct tern_device *tdev = tern_sysfs_dev(dev);

	return tern_sysfs_ras_addr(buf, &tdev->ras_ce_events, &tdev->ras_last_ce);
}
static DEVICE_ATTR_RO(ecc_last_ce_addr);

static ssize_t ecc_last_ue_addr_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	struct tern_device *tdev = tern_sysfs_dev(dev);

	return tern_sysfs_ras_addr(buf, &tdev->ras_ue_events, &tdev->ras_last_ue);
}
static DEVICE_ATTR_RO(ecc_last_ue_addr);

/* HBM lines poisoned now (RAS_POISONED), read live. */
static ssize_t ecc_poisoned_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tern_device *tdev = tern_sysfs_dev(dev);
	u32 v;
	int idx;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	v = tern_rd32(tdev, TERN_REG_RAS_POISONED);
	drm_dev_exit(idx);
	return sysfs_emit(buf, "%u\n", v);
}
static DEVICE_ATTR_RO(ecc_poisoned);

static ssize_t last_reset_reason_show(struct device *dev, struct device_attribute *attr,
				      char *buf)
{
	struct tern_recover *rec = tern_sysfs_dev(dev)->rec;
	char reason[TERN_RECOVER_REASON_LEN];

	spin_lock(&rec->lock);
	strscpy(reason, rec->last_reason);
	spin_unlock(&rec->lock);
	return sysfs_emit(buf, "%s\n", reason);
}
static DEVICE_ATTR_RO(last_reset_reason);

/* A global telemetry counter, read live (TERN_CAP_TELEMETRY only). */
#define TERN_ATTR_TELEM(_name, _reg)						\
static ssize_t _name##_show(struct device *dev, struct device_attribute *attr,	\
			    char *buf)						\
{										\
	struct tern_device *tdev = tern_sysfs_dev(dev);				\
	u64 v;									\
	int idx;								\
										\
	if (!drm_dev_enter(&tdev->drm, &idx))					\
		return -ENODEV;							\
	v = tern_telem_global(tdev, _reg);					\
	drm_dev_exit(idx);							\
	return sysfs_emit(buf, "%llu\n", v);					\
}										\
static DEVICE_ATTR_RO(_name)

TERN_ATTR_TELEM(time_ns, TERN_T_TIME_NS_LO);
TERN_ATTR_TELEM(ecc_corrected, TERN_T_ECC_CORR_LO);
TERN_ATTR_TELEM(ecc_uncorrected, TERN_T_ECC_UNCORR_LO);

static ssize_t clock_hz_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", TERN_COST_CLOCK_HZ);
}
static DEVICE_ATTR_RO(clock_hz);

static ssize_t platform_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tern_device *tdev = tern_sysfs_dev(dev);

	return sysfs_emit(buf, "%s\n",
			  tdev->hw.platform == TERN_PLATFORM_EMULATED ? "emulated" : "silicon");
}
static DEVICE_ATTR_RO(platform);

static struct attribute *tern_sysfs_attrs[] = {
	&dev_attr_hbm_total.attr,
	&dev_attr_hbm_used.attr,
	&dev_attr_bo_count.attr,
	&dev_attr_jobs_submitted.attr,
	&dev_attr_jobs_completed.attr,
	&dev_attr_jobs_failed.attr,
	&dev_attr_device_errors.attr,
	&dev_attr_num_cores.attr,
	&dev_attr_num_queues.attr,
	&dev_attr_num_dma_engines.attr,
	&dev_attr_revision.attr,
	&dev_attr_platform.attr,
	&dev_attr_chip_id.attr,
	&dev_attr_fabric_id.attr,
	&dev_attr_fabric_chips.attr,
	&dev_attr_num_links.attr,
	&dev_attr_host_used.attr,
	&dev_attr_kernel_used.attr,
	&dev_attr_mmu_faults.attr,
	&dev_attr_clock_hz.attr,
	&dev_attr_time_ns.attr,
	&dev_attr_ecc_corrected.attr,
	&dev_attr_ecc_uncorrected.attr,
	&dev_attr_utilization.attr,
	&dev_attr_resets.attr,
	&dev_attr_last_reset_reason.attr,
	&dev_attr_lost_completions.attr,
	&dev_attr_ecc_ce_events.attr,
	&dev_attr_ecc_ue_events.attr,
	&dev_attr_ecc_last_ce_addr.attr,
	&dev_attr_ecc_last_ue_addr.attr,
	&dev_attr_ecc_poisoned.attr,
	&dev_attr_ecc_retired_pages.attr,
	&dev_attr_ecc_retire_pending.attr,
	NULL
};

static umode_t tern_sysfs_is_visible(struct kobject *kobj, struct attribute *attr, int n)
{
	struct tern_device *tdev = tern_sysfs_dev(kobj_to_dev(kobj));

	if (attr == &dev_attr_time_ns.attr || attr == &dev_attr_ecc_corrected.attr ||
	    attr == &dev_attr_ecc_uncorrected.attr || attr == &dev_attr_utilization.attr)
		return tdev->telem ? attr->mode : 0;
	if (attr == &dev_attr_ecc_ce_events.attr || attr == &dev_attr_ecc_ue_events.attr ||
	    attr == &dev_attr_ecc_last_ce_addr.attr || attr == &dev_attr_ecc_last_ue_addr.attr ||
	    attr == &dev_attr_ecc_poisoned.attr || attr == &dev_attr_ecc_retired_pages.attr ||
	    attr == &dev_attr_ecc_retire_pending.attr)
		return (tdev->hw.caps & TERN_CAP_RAS) ? attr->mode : 0;
	return attr->mode;
}

static const struct attribute_group tern_sysfs_group = {
	.name = "tern",
	.attrs = tern_sysfs_attrs,
	.is_visible = tern_sysfs_is_visible,
};

int tern_sysfs_init(struct tern_device *tdev)
{
	int ret = devm_device_add_group(&tdev->pdev->dev, &tern_sysfs_group);

	if (ret)
		drm_err(&tdev->drm, "cannot create the sysfs group: %d\n", ret);
	return ret;
}
