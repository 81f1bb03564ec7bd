// SPDX-License-Identifier: GPL-2.0
/*
 * tern RAS: the HBM's ECC errors (TERN_CAP_RAS, register interface 1.5).
 * The chip latches TERN_INT_RAS on the error vector when an engine's read
 * meets a corrected (CE) or an uncorrected (UE) error; the error thread
 * calls tern_ras_irq(), which acknowledges RAS_STATUS, records the lines'
 * HBM offsets (sysfs ecc_last_ce_addr / ecc_last_ue_addr), counts the
 * events, logs them (ratelimited) and sends a uevent. A UE also fails the
 * job that read the line; that is the rings' business (tern_queue.c,
 * tern_core.c): only that job fails, nothing is reset.
 *
 * The 4 KiB HBM page of a UE is retired: never handed out again (until the
 * module is loaded again). A page no buffer holds is reserved in hbm_mm at
 * once; one in a buffer when the buffer's HBM is freed (tern_gem.c).
 */

#include <linux/kobject.h>
#include <linux/slab.h>

#include <drm/drm_accel.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "tern_hw.h"
#include "tern_ras.h"

/* At most this many pages are retired (1 MiB); past it, errors are only logged. */
#define TERN_HBM_RETIRE_MAX	256

/* An HBM page with an uncorrected error, on hbm_retired or hbm_retire_pending. */
struct tern_retired_page {
	struct list_head node;
	struct drm_mm_node mm;	/* in hbm_mm once retired */
	u64 offset;
};

/* Reserve @p's page in hbm_mm if no buffer holds it: true if done. */
static bool tern_ras_reserve_locked(struct tern_device *tdev, struct tern_retired_page *p)
{
	lockdep_assert_held(&tdev->hbm_lock);

	p->mm.start = p->offset;
	p->mm.size = TERN_PAGE_SIZE;
	p->mm.color = 0;
	return !drm_mm_reserve_node(&tdev->hbm_mm, &p->mm);
}

static bool tern_ras_page_known_locked(struct tern_device *tdev, u64 offset)
{
	struct tern_retired_page *p;

	lockdep_assert_held(&tdev->hbm_lock);

	list_for_each_entry(p, &tdev->hbm_retired, node)
		if (p->offset == offset)
			return true;
	list_for_each_entry(p, &tdev->hbm_retire_pending, node)
		if (p->offset == offset)
			return true;
	return false;
}

/**
 * tern_ras_retire() - retire the HBM page of an uncorrected error
 * @tdev: device
 * @line: HBM offset of the line the chip reported
 *
 * Error IRQ thread (it may sleep). Once per page.
 */
void tern_ras_retire(struct tern_device *tdev, u64 line)
{
	u64 offset = ALIGN_DOWN(line, TERN_PAGE_SIZE);
	struct tern_retired_page *p;
	const char *what = NULL;

	if (offset >= tdev->hw.hbm_size)
		return;
	mutex_lock(&tdev->hbm_lock);
	if (tern_ras_page_known_locked(tdev, offset))
		goto unlock;
	if (tdev->hbm_retired_count + tdev->hbm_retire_pending_count >= TERN_HBM_RETIRE_MAX) {
		what = "not retired: too many retired pages already";
		goto unlock;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		what = "not retired: out of memory";
		goto unlock;
	}
	p->offset = offset;
	if (tern_ras_reserve_locked(tdev, p)) {
		list_add_tail(&p->node, &tdev->hbm_retired);
		tdev->hbm_retired_count++;
		what = "retired";
	} else {
		list_add_tail(&p->node, &tdev->hbm_retire_pending);
		tdev->hbm_retire_pending_count++;
		what = "retired when the buffer holding it is freed";
	}
unlock:
	mutex_unlock(&tdev->hbm_lock);
	if (what)
		tern_err_ratelimited(tdev, "HBM page 0x%llx %s\n", offset, what);
}

/**
 * tern_ras_retire_freed_locked() - retire the waiting pages of freed HBM
 * @tdev: device
 * @start: HBM offset of the range just removed from hbm_mm
 * @size: its size
 */
void tern_ras_retire_freed_locked(struct tern_device *tdev, u64 start, u64 size)
{
	struct tern_retired_page *p, *tmp;

	lockdep_assert_held(&tdev->hbm_lock);

	list_for_each_entry_safe(p, tmp, &tdev->hbm_retire_pending, node) {
		if (p->offset < start || p->offset - start >= size ||
		    !tern_ras_reserve_locked(tdev, p))
			continue;
		list_move_tail(&p->node, &tdev->hbm_retired);
		tdev->hbm_retire_pending_count--;
		tdev->hbm_retired_count++;
	}
}

/* Teardown, before hbm_mm goes: give the retired pages back. */
void tern_ras_retire_fini(struct tern_device *tdev)
{
	struct tern_retired_page *p, *tmp;

	mutex_lock(&tdev->hbm_lock);
	list_for_each_entry_safe(p, tmp, &tdev->hbm_retired, node) {
		drm_mm_remove_node(&p->mm);
		list_del(&p->node);
		kfree(p);
	}
	list_for_each_entry_safe(p, tmp, &tdev->hbm_retire_pending, node) {
		list_del(&p->node);
		kfree(p);
	}
	tdev->hbm_retired_count = 0;
	tdev->hbm_retire_pending_count = 0;
	mutex_unlock(&tdev->hbm_lock);
}

static u64 tern_ras_addr(struct tern_device *tdev, u32 lo)
{
	return tern_rd32(tdev, lo) | (u64)tern_rd32(tdev, lo + 4) << 32;
}

/* KOBJ_CHANGE on the accel device: TERN_EVENT=ECC TERN_ECC=CE|UE TERN_ADDR=0x... */
static void tern_ras_uevent(struct tern_device *tdev, bool ue, u64 addr)
{
	char env_kind[16], env_addr[40];
	char env_event[] = "TERN_EVENT=ECC";
	char *envp[4] = { env_event, env_kind, env_addr, NULL };

	snprintf(env_kind, sizeof(env_kind), "TERN_ECC=%s", ue ? "UE" : "CE");
	snprintf(env_addr, sizeof(env_addr), "TERN_ADDR=0x%llx", addr);
	if (tdev->drm.accel && tdev->drm.accel->kdev)
		kobject_uevent_env(&tdev->drm.accel->kdev->kobj, KOBJ_CHANGE, envp);
}

/**
 * tern_ras_irq() - the RAS part of the error interrupt thread
 * @tdev: device
 *
 * Reads the addresses before it acknowledges RAS_STATUS: an error met
 * after that latches again and raises the vector again. Several
 * errors of one kind between two interrupts are one event here (the chip's
 * counters, sysfs ecc_corrected / ecc_uncorrected, count each).
 */
void tern_ras_irq(struct tern_device *tdev)
{
	u32 status;
	u64 ce, ue;

	if (!(tdev->hw.caps & TERN_CAP_RAS))
		return;
	status = tern_rd32(tdev, TERN_REG_RAS_STATUS) & (TERN_RAS_CE | TERN_RAS_UE);
	/* All ones is a device that does not answer (AER): nothing to read. */
	if (!status || status == U32_MAX)
		return;
	ce = tern_ras_addr(tdev, TERN_REG_RAS_CE_ADDR_LO);
	ue = tern_ras_addr(tdev, TERN_REG_RAS_UE_ADDR_LO);
	tern_wr32(tdev, TERN_REG_RAS_STATUS, status);

	if (status & TERN_RAS_CE) {
		atomic64_set(&tdev->ras_last_ce, ce);
		atomic64_inc(&tdev->ras_ce_events);
		dev_warn_ratelimited(tdev->drm.dev, "HBM ECC error corrected in the line at 0x%llx\n",
				     ce);
		tern_ras_uevent(tdev, false, ce);
	}
	if (status & TERN_RAS_UE) {
		atomic64_set(&tdev->ras_last_ue, ue);
		atomic64_inc(&tdev->ras_ue_events);
		tern_err_ratelimited(tdev, "HBM ECC error not corrected in the line at 0x%llx: the read failed; the line is poisoned until it is written (%u lines poisoned)\n",
				     ue, tern_rd32(tdev, TERN_REG_RAS_POISONED));
		tern_ras_uevent(tdev, true, ue);
		tern_ras_retire(tdev, ue);
	}
}
