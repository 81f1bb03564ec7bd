// SPDX-License-Identifier: GPL-2.0
/*
 * tern recovery: the one way back from a fault the driver cannot handle
 * per job. Every trigger (the DMA TDR, a compute job whose core ignores
 * ABORT, a fatal error code, PCIe AER, a function level reset, debugfs
 * "recover") asks tern_recover(); one work item serves the requests: it
 * stops the rings, writes a devcoredump, resets the core or the device,
 * programs again what the reset cleared, fails the jobs in flight (the
 * culprits with their own status, the others with DRM_TERN_JOB_RESET),
 * sends a uevent and lets submitters go on. Documentation/driver.rst,
 * "Recovery", has the policy.
 */

#include <linux/ctype.h>
#include <linux/devcoredump.h>
#include <linux/interrupt.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/lockdep.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "tern_core.h"
#include "tern_hw.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_queue.h"
#include "tern_recover.h"
#include "tern_telem.h"
#include "tern_trace.h"
#include "tern_uq.h"

/* Upper bound of a devcoredump's text; a longer one ends "(truncated)". */
#define TERN_DUMP_SIZE		(512u * 1024)

static const char * const tern_recover_reasons[TERN_RECOVER_REASONS] = {
	[TERN_RECOVER_DEBUGFS] = "debugfs",
	[TERN_RECOVER_DMA_TIMEOUT] = "dma-timeout",
	[TERN_RECOVER_CORE_HANG] = "core-hang",
	[TERN_RECOVER_FATAL_ERROR] = "fatal-error",
	[TERN_RECOVER_AER] = "aer",
	[TERN_RECOVER_FLR] = "flr",
};

const char *tern_recover_reason_name(enum tern_recover_reason why)
{
	return why < TERN_RECOVER_REASONS ? tern_recover_reasons[why] : "unknown";
}

static void tern_recover_work(struct work_struct *work);

int tern_recover_init(struct tern_device *tdev)
{
	struct tern_recover *rec;
	int ret;

	rec = drmm_kzalloc(&tdev->drm, sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	rec->tdev = tdev;
	spin_lock_init(&rec->lock);
	INIT_WORK(&rec->work, tern_recover_work);
	ret = drmm_mutex_init(&tdev->drm, &rec->run_lock);
	if (ret)
		return ret;
	strscpy(rec->last_reason, "none");
	tdev->rec = rec;
	/* AER's slot_reset restores this configuration space. */
	pci_save_state(tdev->pdev);
	return 0;
}

/* Unbind or shutdown: no more requests, and none running. */
void tern_recover_fini(struct tern_device *tdev)
{
	struct tern_recover *rec = tdev->rec;

	spin_lock(&rec->lock);
	rec->dead = true;
	spin_unlock(&rec->lock);
	cancel_work_sync(&rec->work);
}

void tern_recover_lost_completion(struct tern_device *tdev)
{
	atomic64_inc(&tdev->rec->lost_completions);
}

/* Record a request; true if the work must be queued for it. */
static bool tern_recover_request(struct tern_recover *rec, enum tern_recover_reason why,
				 const char *text, const struct tern_recover_culprit *c)
{
	bool queue = false;

	spin_lock(&rec->lock);
	if (rec->dead)
		goto unlock;
	if (c) {
		if (rec->num_culprits < TERN_RECOVER_MAX_CULPRITS)
			rec->culprits[rec->num_culprits++] = *c;
		else
			tern_err_ratelimited(rec->tdev, "recovery: too many culprits; job %llu fails as reset\n",
					     c->job_id);
	}
	if (!rec->pending) {
		rec->pending = true;
		rec->why = why;
		strscpy(rec->text, text);
		queue = true;
	}
unlock:
	spin_unlock(&rec->lock);
	return queue;
}

/**
 * tern_recover() - ask for a recovery of the device
 * @tdev: device
 * @why: the trigger
 * @c: the job at fault, or NULL
 *
 * Returns at once; the recovery work does the rest. Requests made before
 * that work takes the culprits (after its reset) are served by that one
 * reset: concurrent triggers cause one recovery. Callable from any
 * context that may take a spinlock, with rings' job_locks held.
 */
void tern_recover(struct tern_device *tdev, enum tern_recover_reason why,
		  const struct tern_recover_culprit *c)
{
	struct tern_recover *rec = tdev->rec;

	if (tern_recover_request(rec, why, tern_recover_reason_name(why), c))
		queue_work(system_unbound_wq, &rec->work);
}

/*
 * debugfs "recover": a recovery with reason "debugfs:<text>" (<text> the
 * written text up to the first space or newline, at most 39 bytes, of
 * [A-Za-z0-9._-]); returns once it is done.
 */
int tern_recover_debugfs(struct tern_device *tdev, const char *text)
{
	struct tern_recover *rec = tdev->rec;
	char reason[TERN_RECOVER_REASON_LEN];
	size_t n = strlen("debugfs:");
	const char *s;

	strscpy(reason, "debugfs:");
	for (s = text; *s && n < sizeof(reason) - 1; s++) {
		if (*s == '\n' || *s == ' ')
			break;
		if (!isalnum(*s) && *s != '.' && *s != '_' && *s != '-')
			return -EINVAL;
		reason[n++] = *s;
	}
	reason[n] = '\0';

	if (tern_recover_request(rec, TERN_RECOVER_DEBUGFS, reason, NULL))
		queue_work(system_unbound_wq, &rec->work);
	flush_work(&rec->work);
	return 0;
}

/*
 * Take the culprits of this recovery: all of them for a device reset,
 * those of the cores in @core_mask for a reset of these cores. Returns
 * how many; *@more is true if requests for other rings are left (they
 * need another run).
 */
static u32 tern_recover_take(struct tern_recover *rec, bool all, u32 core_mask,
			     struct tern_recover_culprit *out, bool *more)
{
	u32 i, n = 0, keep = 0;

	spin_lock(&rec->lock);
	for (i = 0; i < rec->num_culprits; i++) {
		struct tern_recover_culprit *c = &rec->culprits[i];

		if (all || (c->core && (core_mask & BIT(c->index))))
			out[n++] = *c;
		else
			rec->culprits[keep++] = *c;
	}
	rec->num_culprits = keep;
	*more = keep && !rec->dead;
	if (!keep)
		rec->pending = false;
	spin_unlock(&rec->lock);
	return n;
}

/* ---- devcoredump ---- */

struct tern_dump {
	char *buf;
	size_t len;
	size_t size;
};

static void tern_dump_printfn(struct drm_printer *p, struct va_format *vaf)
{
	struct tern_dump *d = p->arg;

	if (d->len < d->size)
		d->len += vscnprintf(d->buf + d->len, d->size - d->len, vaf->fmt, *vaf->va);
}

static void tern_dump_regs(struct tern_device *tdev, struct drm_printer *p)
{
	static const struct { const char *name; u32 reg; } regs[] = {
		{ "STATUS", TERN_REG_STATUS },
		{ "INT_STATUS", TERN_REG_INT_STATUS },
		{ "INT_MASK", TERN_REG_INT_MASK },
		{ "QDONE_LO", TERN_REG_QDONE_LO },
		{ "QDONE_HI", TERN_REG_QDONE_HI },
		{ "CORE_DONE", TERN_REG_CORE_DONE },
		{ "ERR_CODE", TERN_REG_ERR_CODE },
		{ "ERR_QUEUE", TERN_REG_ERR_QUEUE },
		{ "ERR_INDEX", TERN_REG_ERR_INDEX },
		{ "ERR_ADDR_LO", TERN_REG_ERR_ADDR_LO },
		{ "ERR_ADDR_HI", TERN_REG_ERR_ADDR_HI },
		{ "ERR_COUNT", TERN_REG_ERR_COUNT },
	};
	u32 i;

	drm_printf(p, "registers:\n");
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		drm_printf(p, "  %-12s 0x%08x\n", regs[i].name, tern_rd32(tdev, regs[i].reg));
	if (tdev->hw.caps & TERN_CAP_RAS) {
		drm_printf(p, "  %-12s 0x%08x\n", "RAS_STATUS",
			   tern_rd32(tdev, TERN_REG_RAS_STATUS));
		drm_printf(p, "  %-12s %u\n", "RAS_POISONED",
			   tern_rd32(tdev, TERN_REG_RAS_POISONED));
	}
}

/*
 * Write a devcoredump on the PCI device: reason, culprits, the chip's
 * registers, every ring's registers and its jobs in flight with their
 * processes. False when none was written: devcoredump is not built in,
 * the memory is short, or the previous dump was not read and freed yet
 * (devcoredump keeps one per device).
 */
static bool tern_recover_dump(struct tern_device *tdev, const char *reason)
{
	struct tern_recover *rec = tdev->rec;
	struct device *dev = &tdev->pdev->dev;
	struct tern_dump d = { .size = TERN_DUMP_SIZE };
	struct drm_printer p = { .printfn = tern_dump_printfn, .arg = &d };
	struct kernfs_node *kn;
	u32 i;

	if (!IS_ENABLED(CONFIG_DEV_COREDUMP))
		return false;
	kn = sysfs_get_dirent(dev->kobj.sd, "devcoredump");
	if (kn) {
		kernfs_put(kn);
		drm_warn(&tdev->drm, "the previous devcoredump was not freed yet: no new one\n");
		return false;
	}
	d.buf = vmalloc(d.size);
	if (!d.buf)
		return false;

	drm_printf(&p, "tern devcoredump\nreason: %s\ndevice: %s, interface %u.%u, driver %s\n",
		   reason, pci_name(tdev->pdev), tdev->hw.version >> 16,
		   tdev->hw.version & 0xffff, DRIVER_VERSION_STR);
	drm_printf(&p, "resets before: %lld\nculprits:\n", atomic64_read(&rec->resets));
	spin_lock(&rec->lock);
	for (i = 0; i < rec->num_culprits; i++)
		drm_printf(&p, "  %s %u job %llu error %d code %u\n",
			   rec->culprits[i].core ? "core" : "queue", rec->culprits[i].index,
			   rec->culprits[i].job_id, rec->culprits[i].error, rec->culprits[i].code);
	spin_unlock(&rec->lock);
	tern_dump_regs(tdev, &p);
	for (i = 0; i < tdev->num_queues; i++)
		tern_queue_dump(&tdev->queues[i], &p);
	for (i = 0; i < tdev->num_cores; i++)
		tern_core_dump(&tdev->cores[i], &p);
	tern_uq_dump(tdev, &p);
	if (d.len >= d.size - 1) {
		static const char trunc[] = "\n(truncated)\n";

		memcpy(d.buf + d.size - sizeof(trunc), trunc, sizeof(trunc));
		d.len = d.size - 1;
	}

	/* devcoredump owns the buffer now and vfree()s it. */
	dev_coredumpv(dev, d.buf, d.len, GFP_KERNEL);
	return true;
}

/* ---- the steps ---- */

/* Count the recovery, remember why, and tell user space. */
static void tern_recover_report(struct tern_device *tdev, const char *reason, bool dumped)
{
	struct tern_recover *rec = tdev->rec;
	char env_reason[16 + TERN_RECOVER_REASON_LEN], env_dump[24];
	char env_event[] = "TERN_EVENT=RESET";
	char *envp[4] = { env_event, env_reason, env_dump, NULL };

	atomic64_inc(&rec->resets);
	spin_lock(&rec->lock);
	strscpy(rec->last_reason, reason);
	spin_unlock(&rec->lock);
	drm_warn(&tdev->drm, "recovered (%s)%s; jobs in flight failed, new jobs run\n",
		 reason, dumped ? ", devcoredump written" : "");

	snprintf(env_reason, sizeof(env_reason), "TERN_REASON=%s", reason);
	snprintf(env_dump, sizeof(env_dump), "TERN_COREDUMP=%d", dumped);
	if (tdev->drm.accel && tdev->drm.accel->kdev)
		kobject_uevent_env(&tdev->drm.accel->kdev->kobj, KOBJ_CHANGE, envp);
}

/* Stop every ring: kernel queues, cores and user queues. */
static void tern_recover_pause_all(struct tern_device *tdev)
{
	lockdep_assert_held(&tdev->rec->run_lock);

	tern_queues_pause(tdev);
	tern_cores_pause(tdev, GENMASK(TERN_MAX_CORES - 1, 0));
	tern_uq_pause(tdev);
}

/*
 * Reset the device and bring it back: the same programming as the probe's
 * (rings, contexts, link baseline), then the jobs of the rings fail or
 * complete and submitters go on.
 */
static void tern_recover_reset_all(struct tern_device *tdev, const char *reason, bool dumped)
{
	struct tern_recover *rec = tdev->rec;
	struct tern_recover_culprit c[TERN_RECOVER_MAX_CULPRITS];
	int vec = pci_irq_vector(tdev->pdev, TERN_MSIX_VEC_ERROR);
	bool more;
	u32 n;

	lockdep_assert_held(&rec->run_lock);

	/* The error thread keeps err_count_seen; none runs across the reset. */
	if (vec >= 0)
		disable_irq(vec);
	if (tern_hw_reset(tdev, reason))
		tern_err(tdev, "the chip did not come back from its reset: rings stay stopped\n");
	if (vec >= 0)
		enable_irq(vec);

	tern_mmu_restore(tdev);
	tern_link_restore(tdev);
	n = tern_recover_take(rec, true, 0, c, &more);
	tern_queues_restart(tdev, c, n);
	tern_cores_restart(tdev, GENMASK(TERN_MAX_CORES - 1, 0), c, n);
	tern_uq_restart(tdev);
	tern_recover_report(tdev, reason, dumped);
}

/*
 * Reset only the cores in @mask (their hung jobs are the culprits); the
 * DMA queues and other cores go on. False if a core cannot be reset
 * alone: then its rings are paused and the caller resets the device.
 */
static bool tern_recover_cores(struct tern_device *tdev, u32 mask, const char *reason,
			       bool *dumped)
{
	struct tern_recover *rec = tdev->rec;
	struct tern_recover_culprit c[TERN_RECOVER_MAX_CULPRITS];
	bool more;
	u32 i, n;

	lockdep_assert_held(&rec->run_lock);

	*dumped = tern_recover_dump(tdev, reason);
	tern_cores_pause(tdev, mask);
	for (i = 0; i < tdev->num_cores; i++)
		if ((mask & BIT(i)) && !tern_core_reset_one(&tdev->cores[i]))
			return false;
	trace_tern_reset(tern_minor(tdev), reason);

	n = tern_recover_take(rec, false, mask, c, &more);
	tern_cores_restart(tdev, mask, c, n);
	tern_recover_report(tdev, reason, *dumped);
	if (more)
		queue_work(system_unbound_wq, &rec->work);
	return true;
}

/*
 * Cores whose hung jobs alone are the culprits of a core-hang request:
 * only they need a reset. 0 when the device must be reset.
 */
static u32 tern_recover_core_mask(struct tern_recover *rec)
{
	u32 i, mask = 0;

	spin_lock(&rec->lock);
	if (rec->why == TERN_RECOVER_CORE_HANG) {
		for (i = 0; i < rec->num_culprits; i++) {
			if (!rec->culprits[i].core) {
				mask = 0;
				break;
			}
			mask |= BIT(rec->culprits[i].index);
		}
	}
	spin_unlock(&rec->lock);
	return mask;
}

static void tern_recover_work(struct work_struct *work)
{
	struct tern_recover *rec = container_of(work, struct tern_recover, work);
	struct tern_device *tdev = rec->tdev;
	char reason[TERN_RECOVER_REASON_LEN];
	bool dumped = false, pending;
	u32 mask;
	int idx;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return;
	mutex_lock(&rec->run_lock);
	/* A PCI reset is under way: its reset_done or slot_reset serves the requests. */
	if (rec->pci_paused)
		goto unlock;
	spin_lock(&rec->lock);
	pending = rec->pending;
	strscpy(reason, rec->text);
	spin_unlock(&rec->lock);
	/* Served already (by a PCI reset that took the requests). */
	if (!pending)
		goto unlock;

	mask = tern_recover_core_mask(rec);
	if (mask && tern_recover_cores(tdev, mask, reason, &dumped))
		goto unlock;
	if (!dumped)
		dumped = tern_recover_dump(tdev, reason);
	tern_recover_pause_all(tdev);
	tern_recover_reset_all(tdev, reason, dumped);
unlock:
	mutex_unlock(&rec->run_lock);
	drm_dev_exit(idx);
}

/* ---- PCI: AER and function level reset ---- */

/* The PCI core is about to reset the function, or found it failing. */
static void tern_recover_pci_pause(struct tern_device *tdev, enum tern_recover_reason why,
				   bool alive)
{
	struct tern_recover *rec = tdev->rec;
	const char *reason = tern_recover_reason_name(why);
	bool dumped;

	mutex_lock(&rec->run_lock);
	if (!rec->pci_paused) {
		/* The dump reads registers: only while the device answers. */
		dumped = alive && tern_recover_dump(tdev, reason);
		tern_recover_pause_all(tdev);
		spin_lock(&rec->lock);
		if (!rec->pending) {
			rec->pending = true;
			strscpy(rec->text, reason);
		}
		rec->why = why;
		spin_unlock(&rec->lock);
		rec->pci_paused = true;
		rec->pci_dumped = dumped;
	}
	mutex_unlock(&rec->run_lock);
}

/* The function was reset: program it again and go on. */
static void tern_recover_pci_resume(struct tern_device *tdev, const char *reason)
{
	struct tern_recover *rec = tdev->rec;

	mutex_lock(&rec->run_lock);
	if (rec->pci_paused) {
		tern_recover_reset_all(tdev, reason, rec->pci_dumped);
		rec->pci_paused = false;
	}
	mutex_unlock(&rec->run_lock);
}

static pci_ers_result_t tern_pci_error_detected(struct pci_dev *pdev, pci_channel_state_t state)
{
	struct tern_device *tdev = pci_get_drvdata(pdev);

	drm_err(&tdev->drm, "PCIe error (channel state %d): stopping the device\n", state);
	tern_recover_pci_pause(tdev, TERN_RECOVER_AER, state == pci_channel_io_normal);
	/* A dead link: the PCI core removes the device, remove() fails the jobs. */
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t tern_pci_mmio_enabled(struct pci_dev *pdev)
{
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t tern_pci_slot_reset(struct pci_dev *pdev)
{
	struct tern_device *tdev = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_save_state(pdev);
	if (tern_rd32(tdev, TERN_REG_MAGIC) != TERN_MAGIC) {
		drm_err(&tdev->drm, "the device does not answer after its reset\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	tern_recover_pci_resume(tdev, "aer");
	return PCI_ERS_RESULT_RECOVERED;
}

static void tern_pci_resume(struct pci_dev *pdev)
{
	struct tern_device *tdev = pci_get_drvdata(pdev);

	drm_info(&tdev->drm, "resumed after the PCIe error\n");
}

/* FLR (e.g. /sys/bus/pci/devices/<bdf>/reset) with clients open. */
static void tern_pci_reset_prepare(struct pci_dev *pdev)
{
	tern_recover_pci_pause(pci_get_drvdata(pdev), TERN_RECOVER_FLR, true);
}

static void tern_pci_reset_done(struct pci_dev *pdev)
{
	tern_recover_pci_resume(pci_get_drvdata(pdev), "flr");
}

const struct pci_error_handlers tern_pci_err_handlers = {
	.error_detected = tern_pci_error_detected,
	.mmio_enabled = tern_pci_mmio_enabled,
	.slot_reset = tern_pci_slot_reset,
	.resume = tern_pci_resume,
	.reset_prepare = tern_pci_reset_prepare,
	.reset_done = tern_pci_reset_done,
};
