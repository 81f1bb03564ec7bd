// SPDX-License-Identifier: GPL-2.0
/*
 * tern compute cores: launch-ring allocation, pushing EXEC jobs, retiring
 * them when the chip writes their fence value, per-job timeouts (ABORT of
 * that core only), recovering a ring the chip halted on a bad descriptor,
 * and aborting everything when the device goes away.
 */

#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/sched.h>

#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "tern_core.h"
#include "tern_gem.h"
#include "tern_hw.h"
#include "tern_job.h"
#include "tern_mmu.h"
#include "tern_recover.h"
#include "tern_telem.h"
#include "tern_trace.h"

/* Each core's coherent block: ring, then statuses, then a 64-byte fence line. */
#define TERN_CORE_FENCE_LINE	64u

static inline u32 tern_core_mask(struct tern_core *core)
{
	return core->entries - 1;
}

static inline u32 tern_crd32(struct tern_core *core, u32 reg)
{
	return tern_rd32(core->tdev, TERN_REG_CORE(core->index) + reg);
}

static inline void tern_cwr32(struct tern_core *core, u32 reg, u32 val)
{
	tern_wr32(core->tdev, TERN_REG_CORE(core->index) + reg, val);
}

static void tern_core_timeout_work(struct work_struct *work);

static void tern_cores_fini(struct drm_device *drm, void *arg)
{
	struct tern_device *tdev = to_tern_device(drm);

	mutex_lock(&tdev->hbm_lock);
	if (drm_mm_node_allocated(&tdev->core_hbm_node))
		drm_mm_remove_node(&tdev->core_hbm_node);
	mutex_unlock(&tdev->hbm_lock);
}

int tern_cores_init(struct tern_device *tdev)
{
	struct device *dev = &tdev->pdev->dev;
	u32 entries = min(TERN_CORE_RING_ENTRIES,
			  rounddown_pow_of_two(tdev->hw.ring_max_entries));
	size_t ring_size = entries * sizeof(struct tern_launch_desc);
	size_t status_size = entries * sizeof(struct tern_job_status);
	u64 table_bytes = (u64)entries * TERN_CORE_SLOT_TABLE_SIZE;
	void __iomem *tables;
	u64 context;
	u32 i;
	int ret;

	if (!tdev->num_cores)
		return 0;

	tdev->cores = drmm_kcalloc(&tdev->drm, tdev->num_cores, sizeof(*tdev->cores),
				   GFP_KERNEL);
	if (!tdev->cores)
		return -ENOMEM;

	/* The slot tables must be in HBM: one region at its top for all cores. */
	mutex_lock(&tdev->hbm_lock);
	ret = drm_mm_insert_node_in_range(&tdev->hbm_mm, &tdev->core_hbm_node,
					  table_bytes * tdev->num_cores, PAGE_SIZE, 0, 0,
					  tdev->hw.hbm_size, DRM_MM_INSERT_HIGH);
	mutex_unlock(&tdev->hbm_lock);
	if (ret) {
		drm_err(&tdev->drm, "no HBM for the slot tables of %u cores: %d\n",
			tdev->num_cores, ret);
		return ret;
	}
	ret = drmm_add_action_or_reset(&tdev->drm, tern_cores_fini, NULL);
	if (ret)
		return ret;
	tables = devm_ioremap_wc(dev, tdev->hbm_phys + tdev->core_hbm_node.start,
				 table_bytes * tdev->num_cores);
	if (!tables)
		return -ENOMEM;

	context = dma_fence_context_alloc(tdev->num_cores);

	for (i = 0; i < tdev->num_cores; i++) {
		struct tern_core *core = &tdev->cores[i];
		dma_addr_t dma;
		void *cpu;

		cpu = dmam_alloc_coherent(dev, ring_size + status_size + TERN_CORE_FENCE_LINE,
					  &dma, GFP_KERNEL);
		if (!cpu)
			return -ENOMEM;
		atomic64_add(ring_size + status_size + TERN_CORE_FENCE_LINE, &tdev->kernel_used);
		core->tdev = tdev;
		core->index = i;
		core->entries = entries;
		core->ring = cpu;
		core->ring_dma = dma;
		core->status = cpu + ring_size;
		core->status_dma = dma + ring_size;
		core->fence_slot = cpu + ring_size + status_size;
		core->fence_dma = dma + ring_size + status_size;
		core->slot_tables = tables + i * table_bytes;
		core->slot_tables_hbm = tdev->core_hbm_node.start + i * table_bytes;
		core->fence_context = context + i;
		core->next_seqno = 1;

		ret = drmm_mutex_init(&tdev->drm, &core->submit_lock);
		if (ret)
			return ret;
		ret = drmm_mutex_init(&tdev->drm, &core->job_lock);
		if (ret)
			return ret;
		INIT_LIST_HEAD(&core->pending);
		init_waitqueue_head(&core->space_wq);
		INIT_DELAYED_WORK(&core->timeout_work, tern_core_timeout_work);
		core->stop_head = U32_MAX;
	}
	return 0;
}

/* Program and enable the launch ring of @core: at probe and after a reset. */
static int tern_core_hw_start(struct tern_core *core)
{
	u32 state, code;

	tern_cwr32(core, TERN_C_RING_BASE_LO, lower_32_bits(core->ring_dma));
	tern_cwr32(core, TERN_C_RING_BASE_HI, upper_32_bits(core->ring_dma));
	tern_cwr32(core, TERN_C_RING_SIZE, core->entries);
	tern_cwr32(core, TERN_C_CTRL, TERN_C_CTRL_ENABLE);

	state = tern_crd32(core, TERN_C_STATUS);
	if (state != TERN_Q_STATE_ACTIVE) {
		code = tern_crd32(core, TERN_C_ERROR);
		drm_err(&core->tdev->drm, "core %u launch ring is %s after enable: %s (%u)\n",
			core->index, tern_hw_queue_state_name(state), tern_hw_error_name(code),
			code);
		return -EIO;
	}
	return 0;
}

/* Program and enable every launch ring. The chip was reset: all are empty. */
int tern_cores_start(struct tern_device *tdev)
{
	u32 i;
	int ret;

	for (i = 0; i < tdev->num_cores; i++) {
		ret = tern_core_hw_start(&tdev->cores[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static bool tern_core_has_space(struct tern_core *core)
{
	u32 used = (core->tail - READ_ONCE(core->retired)) & tern_core_mask(core);

	return READ_ONCE(core->stopped) || READ_ONCE(core->paused) ||
	       core->entries - 1 - used >= 1;
}

/* As tern_queue_wait_resumed(): -EAGAIN if a recovery does not end in time. */
static int tern_core_wait_resumed(struct tern_core *core)
{
	unsigned long timeout = tern_timeout_jiffies(core->tdev, TERN_RING_SPACE_TIMEOUT_MS);
	long left;

	left = wait_event_interruptible_timeout(core->space_wq,
						!READ_ONCE(core->paused) ||
						READ_ONCE(core->stopped), timeout);
	if (left < 0)
		return left;
	return left ? 0 : -EAGAIN;
}

/* Start the clock of the first job in the ring (job_lock held). */
static void tern_core_arm_timeout_locked(struct tern_core *core)
{
	struct tern_exec_job *job;

	lockdep_assert_held(&core->job_lock);

	job = list_first_entry_or_null(&core->pending, struct tern_exec_job, node);
	if (!job || core->stopped || core->paused)
		return;
	job->deadline = jiffies + job->timeout;
	mod_delayed_work(system_wq, &core->timeout_work, job->timeout);
}

/* Write the slot table and descriptor of @job at ring index @idx. */
static void tern_core_write_locked(struct tern_core *core, struct tern_exec_job *job, u32 idx)
{
	void __iomem *table = core->slot_tables + (size_t)idx * TERN_CORE_SLOT_TABLE_SIZE;
	struct tern_launch_desc *d = &core->ring[idx];
	u64 status_addr = core->status_dma + (u64)idx * sizeof(struct tern_job_status);
	u32 i;

	lockdep_assert_held(&core->submit_lock);

	for (i = 0; i < job->slot_count; i++) {
		writeq(job->slots[i].offset, table + i * TERN_LAUNCH_SLOT_SIZE);
		writeq(job->slots[i].size, table + i * TERN_LAUNCH_SLOT_SIZE + 8);
	}
	/* The profile buffer is the entry after the program's slots. */
	if (job->profile) {
		writeq(job->profile_slot.offset, table + i * TERN_LAUNCH_SLOT_SIZE);
		writeq(job->profile_slot.size, table + i * TERN_LAUNCH_SLOT_SIZE + 8);
	}
	/* Flush the write-combined slot table before the doorbell. */
	wmb();

	memset(&core->status[idx], 0, sizeof(core->status[idx]));
	if (job->raw) {
		/* Little endian already; only the completion is the driver's. */
		*d = *job->raw;
		job->raw = NULL;	/* the caller's, valid only until the push */
		d->flags &= ~(__force u32)cpu_to_le32(TERN_LAUNCH_F_STATUS_HBM |
						      TERN_LAUNCH_F_FENCE_HBM);
		d->flags |= (__force u32)cpu_to_le32(TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ);
		/* In a context, the kernel's status and fence stay physical. */
		if (d->ctx)
			d->flags |= (__force u32)cpu_to_le32(TERN_LAUNCH_F_STATUS_PHYS |
							     TERN_LAUNCH_F_FENCE_PHYS);
	} else {
		/*
		 * Program and slots are VAs of the job's context; the slot
		 * table itself, the status and the fence are the kernel's.
		 */
		d->prog_addr = (__force u64)cpu_to_le64(job->prog_addr);
		d->prog_size = (__force u32)cpu_to_le32(job->prog_size);
		d->flags = (__force u32)cpu_to_le32(TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ |
						    TERN_LAUNCH_F_SLOTS_PHYS |
						    TERN_LAUNCH_F_STATUS_PHYS |
						    TERN_LAUNCH_F_FENCE_PHYS);
		d->slot_addr = (__force u64)cpu_to_le64(core->slot_tables_hbm +
							(u64)idx * TERN_CORE_SLOT_TABLE_SIZE);
		d->slot_count = (__force u32)cpu_to_le32(job->slot_count);
		d->ctx = (__force u32)cpu_to_le32(tern_ctx_id(job->ctx));
		d->reserved1 = 0;
		if (job->profile)
			d->flags |= (__force u32)cpu_to_le32(TERN_LAUNCH_F_PROFILE);
	}
	d->status_addr = (__force u64)cpu_to_le64(status_addr);
	d->fence_addr = (__force u64)cpu_to_le64(core->fence_dma);
	d->fence_value = (__force u64)cpu_to_le64(job->seqno);
}

/**
 * tern_core_push() - write an EXEC job into the launch ring of @core
 * @core: core
 * @job: validated job
 *
 * Waits (interruptibly, with a timeout) for ring space, and while a
 * recovery runs for it to end. On success the core owns @job and the
 * caller must not touch it again.
 *
 * Return: a reference to the job's fence, or an ERR_PTR (-EINTR,
 * -ERESTARTSYS, -EBUSY, -EAGAIN when a recovery did not end in time,
 * -ENODEV); on error the caller still owns @job.
 */
struct dma_fence *tern_core_push(struct tern_core *core, struct tern_exec_job *job)
{
	struct tern_device *tdev = core->tdev;
	struct dma_fence *fence;
	long left;
	int ret;
	u32 idx;

retry:
	ret = tern_core_wait_resumed(core);
	if (ret)
		return ERR_PTR(ret);
	ret = mutex_lock_interruptible(&core->submit_lock);
	if (ret)
		return ERR_PTR(ret);

	left = wait_event_interruptible_timeout(core->space_wq, tern_core_has_space(core),
						tern_timeout_jiffies(tdev,
								     TERN_RING_SPACE_TIMEOUT_MS));
	if (left <= 0) {
		ret = left ? left : -EBUSY;
		goto err_unlock;
	}
	/* Recovery needs submit_lock to rewind the ring: wait without it. */
	if (READ_ONCE(core->paused) && !READ_ONCE(core->stopped)) {
		mutex_unlock(&core->submit_lock);
		goto retry;
	}

	idx = core->tail;
	job->seqno = core->next_seqno;
	job->ring_idx = idx;

	mutex_lock(&core->job_lock);
	if (core->stopped) {
		mutex_unlock(&core->job_lock);
		ret = -ENODEV;
		goto err_unlock;
	}
	tern_core_write_locked(core, job, idx);
	tern_fence_init(job->fence, core->fence_context, job->seqno);
	fence = dma_fence_get(&job->fence->base);
	list_add_tail(&job->node, &core->pending);
	if (list_is_singular(&core->pending))
		tern_core_arm_timeout_locked(core);
	core->next_seqno++;
	core->tail = (idx + 1) & tern_core_mask(core);
	atomic64_inc(&core->submitted);
	atomic64_inc(&tdev->jobs_submitted);
	job->start_ns = ktime_get_ns();
	trace_tern_job_start(tern_minor(tdev), job->id);
	/*
	 * writel() orders the ring stores before the doorbell. A job pushed
	 * while a recovery pauses the core rings nothing; the recovery fails
	 * it with DRM_TERN_JOB_RESET.
	 */
	if (!core->paused)
		writel(core->tail, tdev->doorbells +
		       (size_t)(tdev->hw.num_queues + core->index) * tdev->hw.doorbell_stride);
	mutex_unlock(&core->job_lock);

	mutex_unlock(&core->submit_lock);
	return fence;

err_unlock:
	mutex_unlock(&core->submit_lock);
	return ERR_PTR(ret);
}

/*
 * Signal @job: @error 0 (OK), -EPROTO (FAULT, @code a TERN_CERR_*),
 * -ETIMEDOUT, -EIO (device error, @code a TERN_ERR_*) or another errno
 * (aborted). Copies the job's status into the user's buffer first.
 */
static void tern_core_finish_locked(struct tern_core *core, struct tern_exec_job *job,
				    int error, u32 code, struct list_head *done)
{
	struct tern_device *tdev = core->tdev;
	u64 now;

	lockdep_assert_held(&core->job_lock);

	now = tern_telem_busy(&core->busy_until, job->start_ns, job->stats, TERN_CLASS_COMPUTE);
	if (job->stats)
		atomic64_add(job->cycles, &job->stats->cycles);
	trace_tern_job_done(tern_minor(tdev), job->id, error, code, now - job->submit_ns,
			    job->cycles, 0);
	list_move_tail(&job->node, done);
	WRITE_ONCE(core->retired, (job->ring_idx + 1) & tern_core_mask(core));
	if (error) {
		job->fence->error_code = code;
		dma_fence_set_error(&job->fence->base, error);
		atomic64_inc(&core->failed);
		atomic64_inc(&tdev->jobs_failed);
	} else {
		atomic64_inc(&core->completed);
		atomic64_inc(&tdev->jobs_completed);
	}
	dma_fence_signal(&job->fence->base);
}

/* How a job the chip finished ended, from the status it wrote. */
static int tern_core_job_result(struct tern_core *core, struct tern_exec_job *job, u32 *code)
{
	struct tern_job_status *st = &core->status[job->ring_idx];
	u32 status = le32_to_cpu((__force __le32)READ_ONCE(st->status));

	*code = le32_to_cpu((__force __le32)READ_ONCE(st->error));
	job->cycles = le64_to_cpu((__force __le64)READ_ONCE(st->cycles));
	if (job->status_bo)
		iosys_map_memcpy_to(&job->status_map, job->status_offset, st, sizeof(*st));

	switch (status) {
	case TERN_JOB_OK:
		*code = 0;
		return 0;
	case TERN_JOB_FAULT:
		return -EPROTO;
	default:
		*code = 0;
		return job->timed_out ? -ETIMEDOUT : -ECANCELED;
	}
}

/* Retire, in order, every job whose seqno the chip wrote to the fence slot. */
static void tern_core_retire_locked(struct tern_core *core, struct list_head *done)
{
	struct tern_exec_job *job, *tmp;
	bool any = false;
	u64 finished;
	u32 code;
	int error;

	lockdep_assert_held(&core->job_lock);

	finished = le64_to_cpu(READ_ONCE(*core->fence_slot));
	/* The chip wrote the status before the fence value. */
	dma_rmb();

	list_for_each_entry_safe(job, tmp, &core->pending, node) {
		if (job->seqno > finished)
			break;
		error = tern_core_job_result(core, job, &code);
		tern_core_finish_locked(core, job, error, code, done);
		any = true;
	}
	if (any)
		tern_core_arm_timeout_locked(core);
}

void tern_exec_job_free(struct tern_exec_job *job)
{
	u32 i;

	if (job->status_bo) {
		if (!iosys_map_is_null(&job->status_map))
			drm_gem_vunmap_unlocked(tern_bo_obj(job->status_bo), &job->status_map);
		drm_gem_object_put(tern_bo_obj(job->status_bo));
	}
	for (i = 0; i < job->map_count; i++)
		tern_mapping_put(job->maps[i]);
	tern_ctx_put(job->ctx);
	tern_client_stats_put(job->stats);

	/* A fence is only initialised once its job was pushed. */
	if (job->fence->base.ops)
		dma_fence_put(&job->fence->base);
	else
		kfree(job->fence);
	kfree(job);
}

/**
 * tern_core_inject() - run one raw launch descriptor on core 0 (debugfs)
 * @tdev: device
 * @raw: the descriptor as the chip reads it (little endian). Its program,
 *	 slot table, flags and reserved fields go to the chip unchecked; the
 *	 driver supplies the status and fence addresses so the job retires.
 *
 * Return: 0 when the job ended OK, the fence error otherwise (-EIO when the
 * chip rejected the descriptor and halted the ring, which recovery resumes;
 * -EPROTO for a program fault), -ETIMEDOUT, -EINTR or -ENODEV.
 */
int tern_core_inject(struct tern_device *tdev, const struct tern_launch_desc *raw)
{
	struct tern_exec_job *job;
	struct dma_fence *fence;

	job = kzalloc(struct_size(job, maps, 0), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	job->fence = kzalloc(sizeof(*job->fence), GFP_KERNEL);
	if (!job->fence) {
		kfree(job);
		return -ENOMEM;
	}
	INIT_LIST_HEAD(&job->node);
	job->core = &tdev->cores[0];
	job->id = atomic64_inc_return(&tdev->next_job_id);
	job->submit_ns = ktime_get_ns();
	job->raw = raw;
	job->timeout = tern_timeout_jiffies(tdev, TERN_EXEC_TIMEOUT_MS);

	fence = tern_core_push(job->core, job);
	if (IS_ERR(fence))
		tern_exec_job_free(job);
	return tern_inject_wait(tdev, fence);
}

static void tern_core_free_done(struct tern_core *core, struct list_head *done)
{
	struct tern_exec_job *job, *tmp;

	if (list_empty(done))
		return;

	wake_up_all(&core->space_wq);
	list_for_each_entry_safe(job, tmp, done, node) {
		list_del(&job->node);
		tern_exec_job_free(job);
	}
}

/* Completion interrupt of @core: retire what the chip finished. */
void tern_core_retire(struct tern_core *core)
{
	LIST_HEAD(done);

	mutex_lock(&core->job_lock);
	tern_core_retire_locked(core, &done);
	mutex_unlock(&core->job_lock);

	tern_core_free_done(core, &done);
}

/*
 * The first job of the ring ran past its deadline: abort it, and only it.
 * C_ABORT_IDX names the job's ring index, so the write ends nothing else
 * even if the job finished meanwhile and the next one started; it returns
 * once the job ended (status, fence and vector delivered). The status the
 * chip wrote says whether the abort hit: if the job had not started yet,
 * try again a little later. A core that still has not ended the job
 * TERN_CORE_ABORT_BOUND_MS after the first try ignores ABORT (it hangs):
 * then the core is recovered (tern_recover()) with the job as culprit.
 */
static void tern_core_timeout_work(struct work_struct *work)
{
	struct tern_core *core = container_of(to_delayed_work(work), struct tern_core,
					      timeout_work);
	struct tern_device *tdev = core->tdev;
	struct tern_recover_culprit c = { .core = true, .index = core->index,
					  .error = -ETIMEDOUT };
	struct tern_exec_job *job;
	bool recover = false;
	u32 status, head, code;
	LIST_HEAD(done);
	u64 finished;
	int error;

	mutex_lock(&core->job_lock);
	job = list_first_entry_or_null(&core->pending, struct tern_exec_job, node);
	if (!job || core->stopped || core->paused || job->timed_out)
		goto unlock;
	if (time_before(jiffies, job->deadline)) {
		mod_delayed_work(system_wq, &core->timeout_work, job->deadline - jiffies);
		goto unlock;
	}

	finished = le64_to_cpu(READ_ONCE(*core->fence_slot));
	if (finished >= job->seqno)
		goto unlock;	/* its interrupt is on the way */
	if (tern_crd32(core, TERN_C_STATUS) != TERN_Q_STATE_ACTIVE) {
		mod_delayed_work(system_wq, &core->timeout_work, msecs_to_jiffies(10));
		goto unlock;
	}
	head = tern_crd32(core, TERN_C_HEAD) & tern_core_mask(core);
	if (head != job->ring_idx) {
		/*
		 * The first job is past HEAD: the chip ended it. The chip
		 * writes the fence before it moves HEAD, so a fence still
		 * short of the job now was lost with its interrupt: the job
		 * ends as its status says.
		 */
		if (le64_to_cpu(READ_ONCE(*core->fence_slot)) >= job->seqno) {
			tern_core_retire_locked(core, &done);
			goto unlock;
		}
		dma_rmb();
		tern_err_ratelimited(tdev, "core %u: job %llu finished without its completion; completing it\n",
				     core->index, job->id);
		tern_recover_lost_completion(tdev);
		error = tern_core_job_result(core, job, &code);
		tern_core_finish_locked(core, job, error, code, &done);
		tern_core_arm_timeout_locked(core);
		goto unlock;
	}

	/* Set first: the retire that reads it needs job_lock, held here. */
	job->timed_out = true;
	tern_cwr32(core, TERN_C_ABORT_IDX, job->ring_idx);

	finished = le64_to_cpu(READ_ONCE(*core->fence_slot));
	dma_rmb();
	status = le32_to_cpu((__force __le32)READ_ONCE(core->status[job->ring_idx].status));
	if (finished < job->seqno) {
		/* Nothing ended: the job has not started yet, or the core hangs. */
		if (!job->abort_since) {
			job->abort_since = jiffies ?: 1;
		} else if (time_after(jiffies, job->abort_since +
				      tern_timeout_jiffies(tdev, TERN_CORE_ABORT_BOUND_MS))) {
			tern_err_ratelimited(tdev, "core %u: job %llu exceeded its timeout and ABORT does not end it; recovering the core\n",
					     core->index, job->id);
			atomic64_inc(&core->timeouts);
			c.job_id = job->id;
			recover = true;
			goto unlock;
		}
		job->timed_out = false;
		mod_delayed_work(system_wq, &core->timeout_work, msecs_to_jiffies(10));
	} else if (status == TERN_JOB_ABORTED) {
		tern_err_ratelimited(tdev, "core %u: job %llu exceeded its timeout; aborted it\n",
				     core->index, job->id);
		atomic64_inc(&core->timeouts);
	} else {
		job->timed_out = false;	/* it ended on its own just in time */
	}
unlock:
	mutex_unlock(&core->job_lock);
	tern_core_free_done(core, &done);
	if (recover)
		tern_recover(tdev, TERN_RECOVER_CORE_HANG, &c);
}

/*
 * Error interrupt: if the chip halted @core's ring on a bad descriptor,
 * fail that job (fence error -EIO with the chip's code; for an MMU fault
 * -EFAULT with the fault record and the VA) and resume after it.
 */
void tern_core_recover(struct tern_core *core)
{
	struct tern_device *tdev = core->tdev;
	struct tern_exec_job *job, *bad = NULL;
	u32 mask = tern_core_mask(core);
	u32 state, head, code;
	LIST_HEAD(done);

	mutex_lock(&core->job_lock);

	state = tern_crd32(core, TERN_C_STATUS);
	if (state != TERN_Q_STATE_HALTED || core->stopped || core->paused)
		goto unlock;
	head = tern_crd32(core, TERN_C_HEAD) & mask;
	code = tern_crd32(core, TERN_C_ERROR);

	tern_core_retire_locked(core, &done);
	list_for_each_entry(job, &core->pending, node) {
		if (job->ring_idx == head) {
			bad = job;
			break;
		}
	}
	if (!bad) {
		tern_err_ratelimited(tdev, "core %u halted at ring index %u outside any pending job: %s (code %u); resuming at %u\n",
				     core->index, head, tern_hw_error_name(code), code,
				     core->retired);
		tern_cwr32(core, TERN_C_HEAD, core->retired);
		tern_cwr32(core, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);
		goto unlock;
	}

	if (tern_recover_fatal_code(code)) {
		struct tern_recover_culprit c = { .core = true, .index = core->index,
						  .job_id = bad->id, .error = -EIO, .code = code };

		tern_err_ratelimited(tdev, "core %u: job %llu: %s (code %u); recovering the device\n",
				     core->index, bad->id, tern_hw_error_name(code), code);
		tern_recover(tdev, TERN_RECOVER_FATAL_ERROR, &c);
		goto unlock;
	}
	if (code == TERN_ERR_MMU_FAULT) {
		u32 info = tern_mmu_ring_fault(tdev, TERN_REG_CORE(core->index), "core",
					       core->index, head, bad->id, bad->ctx,
					       bad->fence);

		tern_core_finish_locked(core, bad, -EFAULT, info, &done);
	} else {
		tern_err_ratelimited(tdev, "core %u: job %llu failed at ring index %u: %s (code %u); the core continues with the next job\n",
				     core->index, bad->id, head, tern_hw_error_name(code), code);
		tern_core_finish_locked(core, bad, -EIO, code, &done);
	}
	tern_core_arm_timeout_locked(core);
	tern_cwr32(core, TERN_C_HEAD, (head + 1) & mask);
	tern_cwr32(core, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);

unlock:
	mutex_unlock(&core->job_lock);
	tern_core_free_done(core, &done);
}

/* The device is going away: no new jobs, no doorbells, no timeouts. */
void tern_cores_stop(struct tern_device *tdev)
{
	u32 i;

	for (i = 0; i < tdev->num_cores; i++) {
		struct tern_core *core = &tdev->cores[i];

		mutex_lock(&core->job_lock);
		WRITE_ONCE(core->stopped, true);
		mutex_unlock(&core->job_lock);
		cancel_delayed_work_sync(&core->timeout_work);
		wake_up_all(&core->space_wq);
	}
}

/* After tern_cores_stop() and a reset: unfinished jobs fail with @error. */
void tern_cores_abort(struct tern_device *tdev, int error)
{
	struct tern_exec_job *job, *tmp;
	u32 i;

	for (i = 0; i < tdev->num_cores; i++) {
		struct tern_core *core = &tdev->cores[i];
		LIST_HEAD(done);

		mutex_lock(&core->job_lock);
		WARN_ON(!core->stopped);
		tern_core_retire_locked(core, &done);
		list_for_each_entry_safe(job, tmp, &core->pending, node)
			tern_core_finish_locked(core, job, error, 0, &done);
		mutex_unlock(&core->job_lock);

		tern_core_free_done(core, &done);
	}
}

/* Recovery, first step: cores in @mask take no new job and time none out. */
void tern_cores_pause(struct tern_device *tdev, u32 mask)
{
	u32 i, head;

	for (i = 0; i < tdev->num_cores; i++) {
		struct tern_core *core = &tdev->cores[i];

		if (!(mask & BIT(i)))
			continue;
		mutex_lock(&core->job_lock);
		WRITE_ONCE(core->paused, true);
		/* The job at HEAD may run on (a hung core): the ones before it ended. */
		head = tern_crd32(core, TERN_C_HEAD);
		core->stop_head = head == U32_MAX ? U32_MAX : head & tern_core_mask(core);
		mutex_unlock(&core->job_lock);
		cancel_delayed_work_sync(&core->timeout_work);
		wake_up_all(&core->space_wq);
	}
}

/*
 * Reset @core alone (TERN_C_CTRL_RESET, interface 1.5): its running job is
 * dropped, the ring left disabled. False when the chip does not have it
 * (older interface, or the ring is still enabled after the write): then
 * the caller resets the device.
 */
bool tern_core_reset_one(struct tern_core *core)
{
	struct tern_device *tdev = core->tdev;

	if ((tdev->hw.version & 0xffff) < 5)
		return false;
	tern_cwr32(core, TERN_C_CTRL, TERN_C_CTRL_RESET);
	return tern_crd32(core, TERN_C_STATUS) == TERN_Q_STATE_DISABLED;
}

/*
 * Recovery, after the core or device reset: as tern_queues_restart() for
 * the cores in @mask. A job before the HEAD of the pause ended: its
 * status says how.
 */
void tern_cores_restart(struct tern_device *tdev, u32 mask,
			const struct tern_recover_culprit *c, u32 nc)
{
	struct tern_exec_job *job, *tmp;
	u32 i, k, code, mask_ring;
	int error;

	for (i = 0; i < tdev->num_cores; i++) {
		struct tern_core *core = &tdev->cores[i];
		bool finished = true;
		LIST_HEAD(done);

		if (!(mask & BIT(i)))
			continue;
		mask_ring = tern_core_mask(core);
		mutex_lock(&core->submit_lock);
		mutex_lock(&core->job_lock);
		tern_core_retire_locked(core, &done);
		list_for_each_entry_safe(job, tmp, &core->pending, node) {
			/* Only a prefix of the ring can be done. */
			if (finished && core->stop_head != U32_MAX &&
			    ((job->ring_idx - core->retired) & mask_ring) <
			    ((core->stop_head - core->retired) & mask_ring)) {
				tern_recover_lost_completion(tdev);
				error = tern_core_job_result(core, job, &code);
				tern_core_finish_locked(core, job, error, code, &done);
				continue;
			}
			finished = false;
			error = -EAGAIN;
			code = 0;
			for (k = 0; k < nc; k++) {
				if (c[k].core && c[k].index == i && c[k].job_id == job->id) {
					error = c[k].error;
					code = c[k].code;
				}
			}
			tern_core_finish_locked(core, job, error, code, &done);
		}
		core->tail = 0;
		WRITE_ONCE(core->retired, 0);
		core->stop_head = U32_MAX;
		if (!core->stopped && tern_core_hw_start(core))
			WRITE_ONCE(core->stopped, true);
		WRITE_ONCE(core->paused, false);
		mutex_unlock(&core->job_lock);
		mutex_unlock(&core->submit_lock);

		tern_core_free_done(core, &done);
		wake_up_all(&core->space_wq);
	}
}

/* devcoredump: the launch ring's registers and its jobs in flight. */
void tern_core_dump(struct tern_core *core, struct drm_printer *p)
{
	struct tern_exec_job *job;

	mutex_lock(&core->job_lock);
	drm_printf(p, "core %u: state %s head %u tail %u error %u",
		   core->index, tern_hw_queue_state_name(tern_crd32(core, TERN_C_STATUS)),
		   tern_crd32(core, TERN_C_HEAD), tern_crd32(core, TERN_C_TAIL),
		   tern_crd32(core, TERN_C_ERROR));
	drm_printf(p, " driver tail %u retired %u fence %llu\n", core->tail, core->retired,
		   le64_to_cpu(READ_ONCE(*core->fence_slot)));
	list_for_each_entry(job, &core->pending, node)
		drm_printf(p, "  job %llu seqno %llu ring %u prog 0x%llx+%u pid %d%s\n",
			   job->id, job->seqno, job->ring_idx, job->prog_addr, job->prog_size,
			   tern_ctx_pid(job->ctx), job->timed_out ? " timed-out" : "");
	mutex_unlock(&core->job_lock);
}
