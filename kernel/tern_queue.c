// SPDX-License-Identifier: GPL-2.0
/*
 * tern DMA queues: ring allocation, pushing jobs, retiring them when the
 * chip writes their fence value, recovering a queue the chip halted on a
 * bad descriptor, and aborting everything when the device goes away.
 */

#include <linux/blkdev.h>
#include <linux/dma-mapping.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/sched.h>

#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "tern_hw.h"
#include "tern_job.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_queue.h"
#include "tern_recover.h"
#include "tern_telem.h"
#include "tern_trace.h"

/* Fence slots sit in separate 64-byte lines so queues do not share one. */
#define TERN_FENCE_SLOT_STRIDE	64u

static inline u32 tern_ring_mask(struct tern_queue *q)
{
	return q->entries - 1;
}

static void tern_queue_tdr_work(struct work_struct *work);

int tern_queues_init(struct tern_device *tdev)
{
	struct device *dev = &tdev->pdev->dev;
	u32 entries = min(TERN_RING_ENTRIES, rounddown_pow_of_two(tdev->hw.ring_max_entries));
	u64 context;
	u32 i;
	int ret;

	tdev->queues = drmm_kcalloc(&tdev->drm, tdev->num_queues, sizeof(*tdev->queues),
				    GFP_KERNEL);
	if (!tdev->queues)
		return -ENOMEM;

	tdev->fence_slots = dmam_alloc_coherent(dev, tdev->num_queues * TERN_FENCE_SLOT_STRIDE,
						&tdev->fence_slots_dma, GFP_KERNEL);
	if (!tdev->fence_slots)
		return -ENOMEM;
	atomic64_add(tdev->num_queues * TERN_FENCE_SLOT_STRIDE, &tdev->kernel_used);

	context = dma_fence_context_alloc(tdev->num_queues);

	for (i = 0; i < tdev->num_queues; i++) {
		struct tern_queue *q = &tdev->queues[i];

		q->tdev = tdev;
		q->index = i;
		q->entries = entries;
		q->ring = dmam_alloc_coherent(dev, entries * sizeof(*q->ring), &q->ring_dma,
					      GFP_KERNEL);
		if (!q->ring)
			return -ENOMEM;
		atomic64_add(entries * sizeof(*q->ring), &tdev->kernel_used);
		q->fence_slot = tdev->fence_slots + i * (TERN_FENCE_SLOT_STRIDE / sizeof(__le64));
		q->fence_dma = tdev->fence_slots_dma + i * TERN_FENCE_SLOT_STRIDE;
		q->fence_context = context + i;
		q->next_seqno = 1;

		ret = drmm_mutex_init(&tdev->drm, &q->submit_lock);
		if (ret)
			return ret;
		ret = drmm_mutex_init(&tdev->drm, &q->job_lock);
		if (ret)
			return ret;
		INIT_LIST_HEAD(&q->pending);
		init_waitqueue_head(&q->space_wq);
		spin_lock_init(&q->doorbell_lock);
		INIT_DELAYED_WORK(&q->tdr_work, tern_queue_tdr_work);
		q->stop_head = U32_MAX;
	}
	return 0;
}

/* Program and enable every ring. The chip was reset, so all rings are empty. */
int tern_queues_start(struct tern_device *tdev)
{
	u32 i;
	int ret;

	for (i = 0; i < tdev->num_queues; i++) {
		ret = tern_hw_queue_enable(&tdev->queues[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static bool tern_ring_has_space(struct tern_queue *q, u32 count)
{
	u32 used = (q->tail - READ_ONCE(q->retired)) & tern_ring_mask(q);

	return READ_ONCE(q->stopped) || READ_ONCE(q->paused) || q->entries - 1 - used >= count;
}

/* The timeout of a DMA job: the debugfs override, else the scaled default. */
static unsigned long tern_queue_timeout(struct tern_device *tdev)
{
	u32 ms = READ_ONCE(tdev->dma_timeout_ms);

	return ms ? msecs_to_jiffies(ms) : tern_timeout_jiffies(tdev, TERN_DMA_TIMEOUT_MS);
}

/* Start the clock of the first job in the ring, if it has none yet. */
static void tern_queue_arm_tdr_locked(struct tern_queue *q)
{
	struct tern_job *job;
	unsigned long timeout;

	lockdep_assert_held(&q->job_lock);

	job = list_first_entry_or_null(&q->pending, struct tern_job, node);
	if (!job || q->stopped || q->paused || job->deadline)
		return;
	timeout = tern_queue_timeout(q->tdev);
	job->deadline = (jiffies + timeout) ?: 1;
	mod_delayed_work(system_wq, &q->tdr_work, timeout);
}

/*
 * Wait, interruptibly and at most the ring-space timeout, until a recovery
 * of the device ends: -EAGAIN if it does not.
 */
static int tern_queue_wait_resumed(struct tern_queue *q)
{
	long left;

	left = wait_event_interruptible_timeout(q->space_wq,
						!READ_ONCE(q->paused) || READ_ONCE(q->stopped),
						tern_timeout_jiffies(q->tdev,
								     TERN_RING_SPACE_TIMEOUT_MS));
	if (left < 0)
		return left;
	return left ? 0 : -EAGAIN;
}

/* Copy one descriptor into the ring in the chip's (little endian) order. */
static void tern_desc_write(struct tern_dma_desc *slot, const struct tern_dma_desc *d)
{
	slot->opcode = (__force u32)cpu_to_le32(d->opcode);
	slot->flags = (__force u32)cpu_to_le32(d->flags);
	slot->src = (__force u64)cpu_to_le64(d->src);
	slot->dst = (__force u64)cpu_to_le64(d->dst);
	slot->size = (__force u64)cpu_to_le64(d->size);
	slot->fence_addr = (__force u64)cpu_to_le64(d->fence_addr);
	slot->fence_value = (__force u64)cpu_to_le64(d->fence_value);
	if (d->flags & TERN_DESC_F_OPERAND) {
		slot->operand = (__force u64)cpu_to_le64(d->operand);
	} else {
		slot->src_sgl_count = (__force u32)cpu_to_le32(d->src_sgl_count);
		slot->dst_sgl_count = (__force u32)cpu_to_le32(d->dst_sgl_count);
	}
	slot->ctx = (__force u32)cpu_to_le32(d->ctx);
	slot->link = (__force u32)cpu_to_le32(d->link);
}

/*
 * Give @job the next seqno and the slots from the tail on, end it with the
 * queue's fence write and interrupt, and copy its descriptors into the
 * ring. Returns the new tail; the doorbell is not rung yet.
 */
static u32 tern_ring_write_locked(struct tern_queue *q, struct tern_job *job)
{
	struct tern_dma_desc *last = &job->descs[job->desc_count - 1];
	u32 i, idx = q->tail;

	lockdep_assert_held(&q->submit_lock);

	job->seqno = q->next_seqno;
	job->ring_start = q->tail;
	last->flags |= TERN_DESC_F_FENCE | TERN_DESC_F_IRQ;
	/* In a context, the kernel's fence slot is still a physical address. */
	if (last->ctx)
		last->flags |= TERN_DESC_F_FENCE_PHYS;
	last->fence_addr = q->fence_dma;
	last->fence_value = job->seqno;

	for (i = 0; i < job->desc_count; i++) {
		tern_desc_write(&q->ring[idx], &job->descs[i]);
		idx = (idx + 1) & tern_ring_mask(q);
	}
	kvfree(job->descs);
	job->descs = NULL;
	return idx;
}

/* Tell the chip the newest tail, unless the queue was stopped. */
static void tern_queue_ring(struct tern_queue *q)
{
	spin_lock(&q->doorbell_lock);
	if (!q->doorbell_off)
		tern_hw_doorbell(q, q->doorbell_tail);
	spin_unlock(&q->doorbell_lock);
}

static void tern_queue_unplug(struct blk_plug_cb *cb, bool from_schedule)
{
	tern_queue_ring(cb->data);
	kfree(cb);
}

/*
 * The ring now ends at @tail. io_uring issues a batch of commands under
 * the submitter's block plug (IORING_OP_URING_CMD is a plugging op): then
 * the doorbell is rung once, when the batch ends or the submitter sleeps,
 * so a batch of jobs costs one MMIO write. Without a plug (the ioctls) it
 * is rung at once.
 */
static void tern_queue_doorbell_locked(struct tern_queue *q, u32 tail)
{
	lockdep_assert_held(&q->job_lock);

	/* blk_check_plugged() allocates with GFP_ATOMIC: fine under the lock. */
	spin_lock(&q->doorbell_lock);
	q->doorbell_tail = tail;
	if (!q->doorbell_off &&
	    !blk_check_plugged(tern_queue_unplug, q, sizeof(struct blk_plug_cb)))
		tern_hw_doorbell(q, tail);
	spin_unlock(&q->doorbell_lock);
}

/**
 * tern_queue_push() - write a job into the ring of @q and ring the doorbell
 * @q: queue
 * @job: job with its descriptors built; its last descriptor gets the
 *	 queue's fence and interrupt here
 *
 * Waits (interruptibly, with a timeout) for ring space, and while a
 * recovery runs for it to end. On success the queue owns @job and the
 * caller must not touch it again.
 *
 * Return: a reference to the job's fence, or an ERR_PTR: -EINTR or
 * -ERESTARTSYS when interrupted, -EBUSY when the ring stayed full,
 * -EAGAIN when a recovery did not end in time, -ENODEV when the device
 * is gone. On error the caller still owns @job.
 */
struct dma_fence *tern_queue_push(struct tern_queue *q, struct tern_job *job)
{
	struct tern_device *tdev = q->tdev;
	struct dma_fence *fence;
	long left, timeout;
	int ret;
	u32 idx;

	if (!job->desc_count || job->desc_count >= q->entries)
		return ERR_PTR(-EINVAL);

retry:
	ret = tern_queue_wait_resumed(q);
	if (ret)
		return ERR_PTR(ret);
	ret = mutex_lock_interruptible(&q->submit_lock);
	if (ret)
		return ERR_PTR(ret);

	timeout = tern_timeout_jiffies(tdev, TERN_RING_SPACE_TIMEOUT_MS);
	left = wait_event_interruptible_timeout(q->space_wq,
						tern_ring_has_space(q, job->desc_count),
						timeout);
	if (left <= 0) {
		ret = left ? left : -EBUSY;
		goto err_unlock;
	}
	/* Recovery needs submit_lock to rewind the ring: wait without it. */
	if (READ_ONCE(q->paused) && !READ_ONCE(q->stopped)) {
		mutex_unlock(&q->submit_lock);
		goto retry;
	}

	idx = tern_ring_write_locked(q, job);

	mutex_lock(&q->job_lock);
	if (q->stopped) {
		mutex_unlock(&q->job_lock);
		ret = -ENODEV;
		goto err_unlock;
	}
	tern_fence_init(job->fence, q->fence_context, job->seqno);
	fence = dma_fence_get(&job->fence->base);
	list_add_tail(&job->node, &q->pending);
	tern_queue_arm_tdr_locked(q);
	q->next_seqno++;
	q->tail = idx;
	atomic64_inc(&q->submitted);
	atomic64_inc(&tdev->jobs_submitted);
	job->start_ns = ktime_get_ns();
	trace_tern_job_start(tern_minor(tdev), job->id);
	/*
	 * Under job_lock, and doorbell_off for a deferred one: once
	 * tern_queues_stop() or a recovery's pause has run, no doorbell
	 * reaches the chip, which is about to be reset. A job pushed while
	 * paused (it got past the check above first) stays pending, and the
	 * recovery fails it with DRM_TERN_JOB_RESET.
	 */
	tern_queue_doorbell_locked(q, idx);
	mutex_unlock(&q->job_lock);

	mutex_unlock(&q->submit_lock);
	return fence;

err_unlock:
	mutex_unlock(&q->submit_lock);
	return ERR_PTR(ret);
}

/* Take @job off the ring and signal it; it is freed later from @done. */
static void tern_queue_finish_locked(struct tern_queue *q, struct tern_job *job,
				     int error, u32 device_error, struct list_head *done)
{
	u64 now;

	lockdep_assert_held(&q->job_lock);

	now = tern_telem_busy(&q->busy_until, job->start_ns, job->stats, TERN_CLASS_DMA);
	trace_tern_job_done(tern_minor(q->tdev), job->id, error, device_error,
			    now - job->submit_ns, 0, job->bytes);
	list_move_tail(&job->node, done);
	WRITE_ONCE(q->retired, (job->ring_start + job->desc_count) & tern_ring_mask(q));
	atomic64_inc(error ? &q->failed : &q->completed);
	if (!error)
		q->aborts_in_row = 0;
	tern_job_signal(job, error, device_error);
}

/* Retire, in order, every job whose seqno the chip wrote to the fence slot. */
static void tern_queue_retire_locked(struct tern_queue *q, struct list_head *done)
{
	struct tern_job *job, *tmp;
	u64 finished;

	lockdep_assert_held(&q->job_lock);

	finished = le64_to_cpu(READ_ONCE(*q->fence_slot));
	/* The chip wrote the jobs' data before their fence value. */
	dma_rmb();

	list_for_each_entry_safe(job, tmp, &q->pending, node) {
		if (job->seqno > finished)
			break;
		tern_queue_finish_locked(q, job, 0, 0, done);
	}
	tern_queue_arm_tdr_locked(q);
}

/* Free retired jobs (BO references, pins, SG lists) outside job_lock. */
static void tern_queue_free_done(struct tern_queue *q, struct list_head *done)
{
	struct tern_job *job, *tmp;

	if (list_empty(done))
		return;

	wake_up_all(&q->space_wq);
	list_for_each_entry_safe(job, tmp, done, node) {
		list_del(&job->node);
		tern_job_free(job);
	}
}

/* Completion interrupt of @q: retire what the chip finished. */
void tern_queue_retire(struct tern_queue *q)
{
	LIST_HEAD(done);

	mutex_lock(&q->job_lock);
	tern_queue_retire_locked(q, &done);
	mutex_unlock(&q->job_lock);

	tern_queue_free_done(q, &done);
}

/*
 * Error interrupt: if the chip halted @q on a bad descriptor, fail the job
 * that descriptor belongs to (fence error -EIO, the chip's error code kept
 * for WAIT; for an MMU fault -EFAULT with the fault record and the VA; for
 * a LINK_COPY on a link that is down -ENOLINK) and resume the queue after
 * that job, so later jobs still run.
 */
void tern_queue_recover(struct tern_queue *q)
{
	struct tern_device *tdev = q->tdev;
	struct tern_job *job, *tmp, *bad = NULL;
	u32 mask = tern_ring_mask(q);
	u32 state, head, code, next;
	LIST_HEAD(done);

	mutex_lock(&q->job_lock);

	state = tern_qrd32(q, TERN_Q_STATUS);
	/* While a recovery runs, it owns the ring. */
	if (state != TERN_Q_STATE_HALTED || q->stopped || q->paused)
		goto unlock;
	head = tern_qrd32(q, TERN_Q_HEAD) & mask;
	code = tern_qrd32(q, TERN_Q_ERROR);

	/* Halted, the fence slot no longer moves: retire what finished first. */
	tern_queue_retire_locked(q, &done);

	list_for_each_entry(job, &q->pending, node) {
		if (((head - job->ring_start) & mask) < job->desc_count) {
			bad = job;
			break;
		}
	}

	if (!bad) {
		/*
		 * The slots from retired to tail all belong to pending jobs,
		 * so the chip stopped on a descriptor the driver already
		 * counts as done (a raw descriptor that wrote the fence slot
		 * can do that). Continue with the first pending job.
		 */
		tern_err_ratelimited(tdev, "queue %u halted at ring index %u outside any pending job: %s (code %u); resuming at %u\n",
				     q->index, head, tern_hw_error_name(code), code, q->retired);
		tern_hw_queue_resume(q, q->retired);
		goto unlock;
	}

	/* The chip went past the jobs before the bad one: they completed. */
	list_for_each_entry_safe(job, tmp, &q->pending, node) {
		if (job == bad)
			break;
		tern_queue_finish_locked(q, job, 0, 0, &done);
	}

	next = (bad->ring_start + bad->desc_count) & mask;
	/*
	 * A DMA abort ends the transfer it hit and halts the queue like a bad
	 * descriptor: the job fails, the queue goes on. Only aborts that keep
	 * coming on the queue (no job OK between them) say the engine is
	 * broken: then the device is recovered.
	 */
	if (code == TERN_ERR_DMA_ABORT && ++q->aborts_in_row <= TERN_DMA_ABORTS_PER_JOB) {
		tern_err_ratelimited(tdev, "queue %u: job %llu: %s (code %u, %u in a row); the queue continues with the next job\n",
				     q->index, bad->id, tern_hw_error_name(code), code,
				     q->aborts_in_row);
		tern_queue_finish_locked(q, bad, -EIO, code, &done);
		tern_hw_queue_resume(q, next);
		goto unlock;
	}
	if (tern_recover_fatal_code(code)) {
		struct tern_recover_culprit c = {
			.index = q->index, .job_id = bad->id, .error = -EIO, .code = code,
		};

		/* The engine's state is unknown: the device is reset, the job fails. */
		tern_err_ratelimited(tdev, "queue %u: job %llu: %s (code %u); recovering the device\n",
				     q->index, bad->id, tern_hw_error_name(code), code);
		tern_recover(tdev, TERN_RECOVER_FATAL_ERROR, &c);
		goto unlock;
	}
	if (code == TERN_ERR_MMU_FAULT) {
		u32 info = tern_mmu_ring_fault(tdev, TERN_REG_QUEUE(q->index), "queue",
					       q->index, head, bad->id, bad->ctx,
					       bad->fence);

		tern_queue_finish_locked(q, bad, -EFAULT, info, &done);
	} else if (code == TERN_ERR_LINK_DOWN) {
		tern_link_job_failed(bad, head);
		tern_queue_finish_locked(q, bad, -ENOLINK, code, &done);
	} else {
		tern_err_ratelimited(tdev, "queue %u: job %llu failed at ring index %u: %s (code %u); the queue continues with the next job\n",
				     q->index, bad->id, head, tern_hw_error_name(code), code);
		tern_queue_finish_locked(q, bad, -EIO, code, &done);
	}
	tern_hw_queue_resume(q, next);

unlock:
	mutex_unlock(&q->job_lock);
	tern_queue_free_done(q, &done);
}

/*
 * The device is going away: accept no new job and ring no doorbell any
 * more, and wake submitters waiting for ring space (they fail with
 * -ENODEV). Jobs already pushed stay pending until tern_queues_abort().
 */
void tern_queues_stop(struct tern_device *tdev)
{
	u32 i;

	for (i = 0; i < tdev->num_queues; i++) {
		struct tern_queue *q = &tdev->queues[i];

		mutex_lock(&q->job_lock);
		WRITE_ONCE(q->stopped, true);
		spin_lock(&q->doorbell_lock);
		q->doorbell_off = true;
		spin_unlock(&q->doorbell_lock);
		mutex_unlock(&q->job_lock);
		cancel_delayed_work_sync(&q->tdr_work);
		wake_up_all(&q->space_wq);
	}
}

/*
 * After tern_queues_stop() and a chip reset: jobs the chip finished before
 * the reset complete normally, every other job fails with @error.
 */
void tern_queues_abort(struct tern_device *tdev, int error)
{
	struct tern_job *job, *tmp;
	u32 i;

	for (i = 0; i < tdev->num_queues; i++) {
		struct tern_queue *q = &tdev->queues[i];
		LIST_HEAD(done);

		mutex_lock(&q->job_lock);
		WARN_ON(!q->stopped);
		tern_queue_retire_locked(q, &done);
		list_for_each_entry_safe(job, tmp, &q->pending, node)
			tern_queue_finish_locked(q, job, error, 0, &done);
		mutex_unlock(&q->job_lock);

		tern_queue_free_done(q, &done);
	}
}

void tern_queue_show(struct tern_queue *q, struct seq_file *m)
{
	u32 state = tern_qrd32(q, TERN_Q_STATUS);

	seq_printf(m, "%5u %-8s %6u %6u %6u %10lld %10lld %8lld %s\n",
		   q->index, tern_hw_queue_state_name(state),
		   tern_qrd32(q, TERN_Q_HEAD), tern_qrd32(q, TERN_Q_TAIL), q->entries,
		   atomic64_read(&q->submitted), atomic64_read(&q->completed),
		   atomic64_read(&q->failed),
		   state == TERN_Q_STATE_HALTED ?
		   tern_hw_error_name(tern_qrd32(q, TERN_Q_ERROR)) : "-");
}

/* True if the job's last descriptor lies before ring index @head (after @q->retired). */
static bool tern_queue_job_before(struct tern_queue *q, struct tern_job *job, u32 head)
{
	u32 mask = tern_ring_mask(q);
	u32 end = (job->ring_start + job->desc_count - q->retired) & mask;

	return end && end <= ((head - q->retired) & mask);
}

/*
 * TDR: the first job of @q ran past its deadline. If the chip finished it
 * after all (its fence is written, or HEAD is past its last descriptor: a
 * lost completion), it completes as usual and the device is left alone;
 * otherwise the device is recovered with the job as the culprit
 * (DRM_TERN_JOB_TIMEOUT).
 */
static void tern_queue_tdr_work(struct work_struct *work)
{
	struct tern_queue *q = container_of(to_delayed_work(work), struct tern_queue, tdr_work);
	struct tern_device *tdev = q->tdev;
	struct tern_recover_culprit c = { .index = q->index, .error = -ETIMEDOUT };
	struct tern_job *job;
	bool recover = false;
	LIST_HEAD(done);
	u32 head;

	mutex_lock(&q->job_lock);
	tern_queue_retire_locked(q, &done);
	job = list_first_entry_or_null(&q->pending, struct tern_job, node);
	if (!job || q->stopped || q->paused || job->timed_out || !job->deadline)
		goto unlock;
	if (time_before(jiffies, job->deadline)) {
		mod_delayed_work(system_wq, &q->tdr_work, job->deadline - jiffies);
		goto unlock;
	}
	/* A halted ring is the error interrupt's business. */
	if (tern_qrd32(q, TERN_Q_STATUS) != TERN_Q_STATE_ACTIVE)
		goto unlock;
	head = tern_qrd32(q, TERN_Q_HEAD) & tern_ring_mask(q);
	/* The chip writes a fence before it moves HEAD past it: look again. */
	tern_queue_retire_locked(q, &done);
	if (list_first_entry_or_null(&q->pending, struct tern_job, node) != job)
		goto unlock;
	if (tern_queue_job_before(q, job, head)) {
		tern_err_ratelimited(tdev, "queue %u: job %llu finished without its completion; completing it\n",
				     q->index, job->id);
		tern_recover_lost_completion(tdev);
		tern_queue_finish_locked(q, job, 0, 0, &done);
		tern_queue_arm_tdr_locked(q);
		goto unlock;
	}
	tern_err_ratelimited(tdev, "queue %u: job %llu exceeded its timeout; recovering the device\n",
			     q->index, job->id);
	job->timed_out = true;
	atomic64_inc(&q->timeouts);
	c.job_id = job->id;
	recover = true;
unlock:
	mutex_unlock(&q->job_lock);
	tern_queue_free_done(q, &done);
	if (recover)
		tern_recover(tdev, TERN_RECOVER_DMA_TIMEOUT, &c);
}

/*
 * Recovery, first step: take no new job (submitters wait), ring no
 * doorbell, stop the TDR, and disable every ring. Disabling lets the
 * descriptor in flight finish, so HEAD then tells which jobs the chip
 * completed even if their completion was lost.
 */
void tern_queues_pause(struct tern_device *tdev)
{
	u32 i, head;

	for (i = 0; i < tdev->num_queues; i++) {
		struct tern_queue *q = &tdev->queues[i];

		mutex_lock(&q->job_lock);
		WRITE_ONCE(q->paused, true);
		spin_lock(&q->doorbell_lock);
		q->doorbell_off = true;
		spin_unlock(&q->doorbell_lock);
		tern_qwr32(q, TERN_Q_CTRL, 0);
		head = tern_qrd32(q, TERN_Q_HEAD);
		/* All ones: the device does not answer (AER), HEAD says nothing. */
		q->stop_head = head == U32_MAX ? U32_MAX : head & tern_ring_mask(q);
		mutex_unlock(&q->job_lock);
		cancel_delayed_work_sync(&q->tdr_work);
		wake_up_all(&q->space_wq);
	}
}

/*
 * Recovery, after the chip reset: jobs the chip finished complete (their
 * fence was written, or HEAD was past them: a lost completion), the
 * culprit jobs of @c fail with their error, every other job in flight
 * fails with -EAGAIN (DRM_TERN_JOB_RESET). Then the ring starts again
 * empty and submitters go on. Jobs are failed, not replayed: replaying a
 * copy that was half done is not always idempotent (Documentation/driver.rst).
 */
void tern_queues_restart(struct tern_device *tdev, const struct tern_recover_culprit *c, u32 nc)
{
	struct tern_job *job, *tmp;
	u32 i, k;

	for (i = 0; i < tdev->num_queues; i++) {
		struct tern_queue *q = &tdev->queues[i];
		bool finished = true;
		LIST_HEAD(done);

		mutex_lock(&q->submit_lock);
		mutex_lock(&q->job_lock);
		tern_queue_retire_locked(q, &done);
		list_for_each_entry_safe(job, tmp, &q->pending, node) {
			int error = -EAGAIN;
			u32 code = 0;

			/* The chip runs a ring in order: only a prefix can be done. */
			if (finished && q->stop_head != U32_MAX &&
			    tern_queue_job_before(q, job, q->stop_head)) {
				tern_recover_lost_completion(tdev);
				tern_queue_finish_locked(q, job, 0, 0, &done);
				continue;
			}
			finished = false;
			for (k = 0; k < nc; k++) {
				if (c[k].core || c[k].index != q->index || c[k].job_id != job->id)
					continue;
				error = c[k].error;
				code = c[k].code;
			}
			tern_queue_finish_locked(q, job, error, code, &done);
		}
		q->tail = 0;
		WRITE_ONCE(q->retired, 0);
		q->stop_head = U32_MAX;
		q->aborts_in_row = 0;
		if (!q->stopped && tern_hw_queue_enable(q))
			WRITE_ONCE(q->stopped, true);
		spin_lock(&q->doorbell_lock);
		q->doorbell_tail = 0;
		q->doorbell_off = q->stopped;
		spin_unlock(&q->doorbell_lock);
		WRITE_ONCE(q->paused, false);
		mutex_unlock(&q->job_lock);
		mutex_unlock(&q->submit_lock);

		tern_queue_free_done(q, &done);
		wake_up_all(&q->space_wq);
	}
}

/* devcoredump: the ring's registers and the jobs in flight on it. */
void tern_queue_dump(struct tern_queue *q, struct drm_printer *p)
{
	struct tern_job *job;

	mutex_lock(&q->job_lock);
	drm_printf(p, "queue %u: state %s head %u tail %u error %u",
		   q->index, tern_hw_queue_state_name(tern_qrd32(q, TERN_Q_STATUS)),
		   tern_qrd32(q, TERN_Q_HEAD), tern_qrd32(q, TERN_Q_TAIL),
		   tern_qrd32(q, TERN_Q_ERROR));
	drm_printf(p, " driver tail %u retired %u fence %llu\n", q->tail, q->retired,
		   le64_to_cpu(READ_ONCE(*q->fence_slot)));
	list_for_each_entry(job, &q->pending, node)
		drm_printf(p, "  job %llu seqno %llu ring %u+%u bytes %llu pid %d%s\n",
			   job->id, job->seqno, job->ring_start, job->desc_count, job->bytes,
			   tern_ctx_pid(job->ctx), job->timed_out ? " timed-out" : "");
	mutex_unlock(&q->job_lock);
}
