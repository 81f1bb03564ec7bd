/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern recovery: the driver's one way back from a fault it cannot handle
 * per job (Documentation/driver.rst, "Recovery").
 */
#ifndef __TERN_RECOVER_H__
#define __TERN_RECOVER_H__

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "tern_drv.h"

/* Why a recovery runs; tern_recover_reason_name() gives the uevent's TERN_REASON. */
enum tern_recover_reason {
	TERN_RECOVER_DEBUGFS,		/* debugfs "recover" was written */
	TERN_RECOVER_DMA_TIMEOUT,	/* TDR: a DMA job exceeded its timeout */
	TERN_RECOVER_CORE_HANG,		/* a timed-out EXEC job ignored ABORT */
	TERN_RECOVER_FATAL_ERROR,	/* a fatal error code (tern_recover_fatal_code()) */
	TERN_RECOVER_AER,		/* PCIe AER: error_detected .. slot_reset */
	TERN_RECOVER_FLR,		/* function level reset: reset_prepare/reset_done */
	TERN_RECOVER_REASONS
};

/**
 * struct tern_recover_culprit - the job a recovery is for
 * @core: true for a job of core @index, false for one of DMA queue @index
 * @index: the ring
 * @job_id: the job (tern_job.id / tern_exec_job.id)
 * @error: its fence error: -ETIMEDOUT (DRM_TERN_JOB_TIMEOUT), -EIO
 *	(DRM_TERN_JOB_DEVICE_ERROR with @code), ...
 * @code: the error code WAIT reports
 */
struct tern_recover_culprit {
	bool core;
	u32 index;
	u64 job_id;
	int error;
	u32 code;
};

#define TERN_RECOVER_MAX_CULPRITS	16
#define TERN_RECOVER_REASON_LEN		48

/**
 * struct tern_recover - the recovery state of one device
 *
 * Lock order: @run_lock, then the rings' submit_lock and job_lock; @lock
 * is innermost (taken under job_lock by the triggers).
 */
struct tern_recover {
	struct tern_device *tdev;
	struct work_struct work;	/* runs the recovery the requests asked for */

	/*
	 * Protects the requests: @pending, @dead, @why, @text, @culprits,
	 * @num_culprits, and @last_reason.
	 */
	spinlock_t lock;
	bool pending;			/* a request the next reset has not served */
	bool dead;			/* unbind: no more requests */
	enum tern_recover_reason why;	/* of the first pending request */
	char text[TERN_RECOVER_REASON_LEN];
	u32 num_culprits;
	struct tern_recover_culprit culprits[TERN_RECOVER_MAX_CULPRITS];
	char last_reason[TERN_RECOVER_REASON_LEN];

	/* Serialises recoveries (work, PCI callbacks); protects @pci_paused, @pci_dumped. */
	struct mutex run_lock;
	bool pci_paused;		/* between reset_prepare/error_detected and the reset */
	bool pci_dumped;		/* the PCI pause wrote a devcoredump */

	atomic64_t resets;		/* recoveries that reset the device or a core */
	atomic64_t lost_completions;	/* jobs the chip finished without completing them */
};

int tern_recover_init(struct tern_device *tdev);
void tern_recover_fini(struct tern_device *tdev);
void tern_recover(struct tern_device *tdev, enum tern_recover_reason why,
		  const struct tern_recover_culprit *c);
int tern_recover_debugfs(struct tern_device *tdev, const char *text);
void tern_recover_lost_completion(struct tern_device *tdev);
const char *tern_recover_reason_name(enum tern_recover_reason why);

/*
 * The error codes a ring cannot simply go on after: a code this driver
 * does not know, or a DMA abort that keeps coming (the queue's
 * TERN_DMA_ABORTS_PER_JOB before it fail one job each). Everything else
 * (descriptor errors, MMU faults, ECC on a read) fails the one job.
 */
static inline bool tern_recover_fatal_code(u32 code)
{
	return code == TERN_ERR_DMA_ABORT || code >= TERN_ERR_COUNT;
}

extern const struct pci_error_handlers tern_pci_err_handlers;

#endif /* __TERN_RECOVER_H__ */
