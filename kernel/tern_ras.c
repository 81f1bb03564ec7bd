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
 */

#include <linux/kobject.h>

#include <drm/drm_accel.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "tern_hw.h"
#include "tern_ras.h"

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
	}
}
