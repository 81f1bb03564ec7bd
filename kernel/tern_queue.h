/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern DMA queues: kernel-owned descriptor rings, their fence slots and the
 * jobs in flight on them.
 */
#ifndef __TERN_QUEUE_H__
#define __TERN_QUEUE_H__

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "tern_drv.h"

struct dma_fence;
struct drm_printer;
struct tern_job;

/**
 * struct tern_queue - one DMA queue of the chip
 *
 * Ring indices: the driver writes descriptors at @tail and rings the
 * doorbell with the new tail; the chip consumes them and advances its HEAD.
 * @retired is the ring index after the last job the driver has retired, so
 * the ring slots in [@retired, @tail) belong to jobs in @pending. One slot
 * stays unused so that a full ring is not mistaken for an empty one.
 *
 * Lock order: @submit_lock, then @job_lock.
 */
struct tern_queue {
	struct tern_device *tdev;
	u32 index;
	u32 entries;			/* ring size, power of two */

	struct tern_dma_desc *ring;	/* DMA-coherent, @entries descriptors */
	dma_addr_t ring_dma;
	__le64 *fence_slot;		/* the chip writes the last finished seqno */
	dma_addr_t fence_dma;
	u64 fence_context;

	struct mutex submit_lock;	/* Protects tail, next_seqno, ring writes */
	u32 tail;
	u64 next_seqno;

	/*
	 * Protects pending, retired (writes), stopped, paused, stop_head,
	 * busy_until, aborts_in_row, the jobs' deadlines, the doorbell.
	 */
	struct mutex job_lock;
	struct list_head pending;	/* tern_job.node, in ring order */
	u32 retired;			/* read locklessly by ring-space waiters */
	bool stopped;			/* device gone: no new jobs */
	/*
	 * Recovery (tern_recover.c) runs: submitters wait for it to end
	 * (read locklessly by them, written under job_lock).
	 */
	bool paused;
	/* HEAD when recovery disabled the ring (U32_MAX: not read). */
	u32 stop_head;
	u64 busy_until;			/* end of the last retired job, for fdinfo */
	/* DMA aborts since the last job that ended OK here (tern_queue_recover()). */
	u32 aborts_in_row;

	/* Woken when jobs retire, the queue stops, or recovery ends. */
	wait_queue_head_t space_wq;
	/* TDR: looks at the first job once its deadline passed. */
	struct delayed_work tdr_work;

	/*
	 * Protects doorbell_tail and doorbell_off. A spinlock: the doorbell of
	 * an io_uring batch is rung from a block-plug callback, which may run
	 * as the submitter goes to sleep.
	 */
	spinlock_t doorbell_lock;
	u32 doorbell_tail;		/* the tail the chip is to be told */
	bool doorbell_off;		/* tern_queues_stop() ran: ring no more */

	atomic64_t submitted;
	atomic64_t completed;
	atomic64_t failed;
	atomic64_t timeouts;		/* jobs the TDR found past their deadline */
};

/*
 * DMA aborts in a row on one queue that are failed one job at a time; the
 * next one recovers the device (Documentation/driver.rst, "Recovery").
 */
#define TERN_DMA_ABORTS_PER_JOB		3u

struct tern_recover_culprit;

int tern_queues_init(struct tern_device *tdev);
int tern_queues_start(struct tern_device *tdev);
void tern_queues_stop(struct tern_device *tdev);
void tern_queues_abort(struct tern_device *tdev, int error);

struct dma_fence *tern_queue_push(struct tern_queue *q, struct tern_job *job);
void tern_queue_retire(struct tern_queue *q);
void tern_queue_recover(struct tern_queue *q);
void tern_queue_show(struct tern_queue *q, struct seq_file *m);
void tern_queue_dump(struct tern_queue *q, struct drm_printer *p);

/* Recovery (tern_recover.c): pause, then, after the reset, restart. */
void tern_queues_pause(struct tern_device *tdev);
void tern_queues_restart(struct tern_device *tdev, const struct tern_recover_culprit *c,
			 u32 nc);

#endif /* __TERN_QUEUE_H__ */
