/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern compute cores: kernel-owned launch rings, their fence slots, job
 * status areas and slot tables, the EXEC jobs in flight and their timeouts.
 */
#ifndef __TERN_CORE_H__
#define __TERN_CORE_H__

#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "tern_drv.h"
#include "tern_isa.h"

struct dma_fence;
struct tern_bo;
struct tern_client_stats;
struct tern_ctx;
struct tern_fence;
struct tern_mapping;

/* Launch descriptors in each core's ring; each has its own slot table. */
#define TERN_CORE_RING_ENTRIES		64u
/* HBM bytes of one slot table: TERN_LAUNCH_MAX_SLOTS entries and a profile buffer. */
#define TERN_CORE_SLOT_TABLE_SIZE	((TERN_LAUNCH_MAX_SLOTS + 1) * TERN_LAUNCH_SLOT_SIZE)
/* Default EXEC timeout on silicon, scaled like the other timeouts. */
#define TERN_EXEC_TIMEOUT_MS		10000u
/* How long a core may ignore the ABORT of a timed-out job before it is reset. */
#define TERN_CORE_ABORT_BOUND_MS	1000u

/**
 * struct tern_exec_job - one EXEC job on one core
 *
 * Built without locks by the EXEC ioctl, then handed to tern_core_push().
 * From then on the core owns it: it sits on &tern_core.pending until it
 * retires, is signalled under the core's job_lock and freed by
 * tern_exec_job_free() after that lock is dropped. Until then it holds
 * a reference on its file's context, on the mappings of its program and
 * slot buffers there (they stay mapped even if the file closes them), and
 * a GEM reference on its status buffer.
 */
struct tern_exec_job {
	struct list_head node;		/* in tern_core.pending */
	struct tern_core *core;
	struct tern_fence *fence;	/* the job's own reference */
	u64 id;
	u64 seqno;
	u32 ring_idx;			/* its descriptor, status and slot table */

	/* Telemetry: the file's accounting (a reference, or NULL) and times. */
	struct tern_client_stats *stats;
	u64 submit_ns;			/* ktime_get_ns() when EXEC took it */
	u64 start_ns;			/* when its doorbell was rung (set by the push) */
	u64 cycles;			/* modeled cycles, from the status the chip wrote */

	unsigned long timeout;		/* jiffies it may run */
	unsigned long deadline;		/* jiffies, set once it is first in the ring */
	bool timed_out;			/* the timeout aborted it */
	/* jiffies of the first ABORT that did not end it (0: none): a hung core */
	unsigned long abort_since;
	/* debugfs inject_launch: the descriptor as given, unchecked; read once by the push */
	const struct tern_launch_desc *raw;

	struct tern_ctx *ctx;		/* a reference; NULL for inject_launch */
	u64 prog_addr;			/* device VA in ctx */
	u32 prog_size;
	u32 slot_count;
	struct tern_launch_slot slots[TERN_LAUNCH_MAX_SLOTS];	/* VAs, CPU order */
	bool profile;			/* DRM_TERN_EXEC_PROFILE: profile_slot is set */
	struct tern_launch_slot profile_slot;	/* VA and size of the profile buffer */

	struct tern_bo *status_bo;	/* a GEM reference, or NULL */
	struct iosys_map status_map;	/* vmap of status_bo */
	u64 status_offset;

	u32 map_count;
	struct tern_mapping *maps[] __counted_by(map_count);
};

/**
 * struct tern_core - the launch ring of one compute core
 *
 * Ring indices as for &struct tern_queue: the driver writes at @tail, the
 * chip advances its HEAD, [@retired, @tail) belong to jobs in @pending,
 * one slot stays unused. Ring index i owns status entry i and slot table i.
 *
 * Lock order: @submit_lock, then @job_lock.
 */
struct tern_core {
	struct tern_device *tdev;
	u32 index;
	u32 entries;			/* ring size, power of two */

	struct tern_launch_desc *ring;	/* DMA-coherent, @entries descriptors */
	dma_addr_t ring_dma;
	struct tern_job_status *status;	/* DMA-coherent, one per ring entry */
	dma_addr_t status_dma;
	__le64 *fence_slot;		/* the chip writes the last finished seqno */
	dma_addr_t fence_dma;
	void __iomem *slot_tables;	/* BAR4, write-combined: @entries tables */
	u64 slot_tables_hbm;		/* their HBM offset */
	u64 fence_context;

	struct mutex submit_lock;	/* Protects tail, next_seqno, ring writes */
	u32 tail;
	u64 next_seqno;

	/*
	 * Protects pending, retired (writes), stopped, paused, stop_head,
	 * busy_until, the doorbell, ABORT.
	 */
	struct mutex job_lock;
	struct list_head pending;	/* tern_exec_job.node, in ring order */
	u32 retired;			/* read locklessly by ring-space waiters */
	bool stopped;			/* device gone: no new jobs */
	/* A recovery runs (tern_recover.c): submitters wait; read locklessly. */
	bool paused;
	u32 stop_head;			/* HEAD at the recovery's pause, U32_MAX: unknown */
	u64 busy_until;			/* end of the last retired job, for fdinfo */

	wait_queue_head_t space_wq;	/* woken when jobs retire or the core stops */
	struct delayed_work timeout_work;	/* aborts the first job past its deadline */

	atomic64_t submitted;
	atomic64_t completed;
	atomic64_t failed;
	atomic64_t timeouts;
};

struct drm_printer;
struct tern_recover_culprit;

int tern_cores_init(struct tern_device *tdev);
int tern_cores_start(struct tern_device *tdev);
void tern_cores_stop(struct tern_device *tdev);
void tern_cores_abort(struct tern_device *tdev, int error);

struct dma_fence *tern_core_push(struct tern_core *core, struct tern_exec_job *job);
void tern_core_retire(struct tern_core *core);
void tern_core_recover(struct tern_core *core);
void tern_exec_job_free(struct tern_exec_job *job);

/* Recovery (tern_recover.c): cores in @mask pause, reset, restart. */
void tern_cores_pause(struct tern_device *tdev, u32 mask);
bool tern_core_reset_one(struct tern_core *core);
void tern_cores_restart(struct tern_device *tdev, u32 mask,
			const struct tern_recover_culprit *c, u32 nc);
void tern_core_dump(struct tern_core *core, struct drm_printer *p);
int tern_core_inject(struct tern_device *tdev, const struct tern_launch_desc *raw);

struct dma_fence *tern_exec(struct drm_file *file, struct drm_tern_exec *args);
int tern_ioctl_exec(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* __TERN_CORE_H__ */
