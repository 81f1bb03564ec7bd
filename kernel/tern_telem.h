/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern telemetry: the chip's counters in sysfs (dma<e>/, queue<q>/,
 * core<c>/ and the tern/ additions), the utilisation sampler, hwmon, and
 * the per-file accounting behind fdinfo.
 */
#ifndef __TERN_TELEM_H__
#define __TERN_TELEM_H__

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/types.h>

#include "tern_drv.h"

struct drm_file;
struct drm_printer;

/* Engine classes of fdinfo's drm-engine-<class>. */
enum tern_engine_class {
	TERN_CLASS_DMA,
	TERN_CLASS_COMPUTE,
	TERN_CLASS_COUNT
};

/**
 * struct tern_client_stats - what one open file's jobs used
 *
 * Allocated at open. The file and each of its jobs in flight hold a
 * reference, so jobs that retire after the file closed still have it.
 * Counters only grow; atomics, no lock.
 */
struct tern_client_stats {
	struct kref ref;
	/* Engine busy ns, each ring counting one job at a time (tern_telem_busy()). */
	atomic64_t engine_ns[TERN_CLASS_COUNT];
	/* Modeled cycles of the file's launches, from their statuses. */
	atomic64_t cycles;
};

struct tern_client_stats *tern_client_stats_alloc(void);
struct tern_client_stats *tern_client_stats_get(struct tern_client_stats *st);
void tern_client_stats_put(struct tern_client_stats *st);

/**
 * tern_telem_busy() - account the end of a job on one ring
 * @busy_until: the ring's end of its last job, in ktime_get_ns(); under the
 *	ring's job_lock
 * @start_ns: when the job was handed to the chip
 * @st: the job's file, or NULL
 * @class: TERN_CLASS_*
 *
 * Jobs of one ring run one after the other: a job is busy from its start
 * or the previous job's end, whichever is later, until now.
 *
 * Return: now, in ktime_get_ns().
 */
u64 tern_telem_busy(u64 *busy_until, u64 start_ns, struct tern_client_stats *st,
		    enum tern_engine_class class);

static inline u32 tern_minor(struct tern_device *tdev)
{
	return tdev->drm.accel ? tdev->drm.accel->index : 0;
}

int tern_telem_init(struct tern_device *tdev);
u64 tern_telem_global(struct tern_device *tdev, u32 reg);
u32 tern_telem_utilization(struct tern_device *tdev);
void tern_show_fdinfo(struct drm_printer *p, struct drm_file *file);

#endif /* __TERN_TELEM_H__ */
