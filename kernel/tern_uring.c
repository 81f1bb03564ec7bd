// SPDX-License-Identifier: GPL-2.0
/*
 * tern io_uring commands: DRM_TERN_URING_SUBMIT, _EXEC and _WAIT as
 * IORING_OP_URING_CMD on the device file (Documentation/io_uring.rst).
 *
 * At issue the 80-byte command area of the 128-byte SQE is copied and
 * checked, the job is queued (or the syncobj's fence looked up), and a
 * dma_fence callback is armed. The callback runs when the fence signals,
 * possibly in IRQ context, and hands the command to task work in the ring's
 * task, which posts the CQE. When the ring or its task goes away first,
 * io_uring calls tern_uring_cmd() again with IO_URING_F_CANCEL: the command
 * completes with -ECANCELED and the job runs on (its fence still signals
 * for the syncobjs and other waiters).
 */

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_syncobj.h>

#include "tern_compat.h"
#include "tern_core.h"
#include "tern_drv.h"
#include "tern_job.h"
#include "tern_points.h"
#include "tern_uring.h"

/* Bytes of the command area of a 128-byte SQE (sqe->cmd). */
#define TERN_URING_CMD_SIZE	80

/*
 * Who completes a command, decided once by an atomic compare-and-exchange
 * on &tern_uring_op.state (no lock):
 *
 *   ISSUING --issuer armed the callback--> ARMED
 *   ISSUING --callback ran first---------> SIGNALLED  (the issuer completes)
 *   ARMED   --callback ran---------------> FIRED      (task work completes)
 *   ARMED   --IO_URING_F_CANCEL----------> CANCELLED  (the canceller completes)
 *
 * Whoever makes the last move posts the CQE (tern_uring_cmd_done()) and then
 * frees the op. io_uring serializes the cancel handler with the task work
 * and with io_uring_cmd_done() removing the command from its cancelable
 * list (all under the ring's uring_lock), so the op is still there whenever
 * the cancel handler looks at it.
 */
enum tern_uring_state {
	TERN_URING_ISSUING,
	TERN_URING_ARMED,
	TERN_URING_SIGNALLED,
	TERN_URING_FIRED,
	TERN_URING_CANCELLED,
};

/**
 * struct tern_uring_op - one command waiting for its fence
 * @cmd: the io_uring command; its pdu points back here
 * @fence: the job's fence (or the syncobj point's), our reference
 * @cb: armed on @fence
 * @state: enum tern_uring_state
 *
 * Allocated at issue before anything is queued, freed exactly once by
 * whoever completes the command.
 */
struct tern_uring_op {
	struct io_uring_cmd *cmd;
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	atomic_t state;
};

/* What the command keeps in io_uring_cmd.pdu while it is in flight. */
struct tern_uring_pdu {
	struct tern_uring_op *op;
};

static struct tern_uring_pdu *tern_uring_pdu(struct io_uring_cmd *cmd)
{
	return io_uring_cmd_to_pdu(cmd, struct tern_uring_pdu);
}

/*
 * Post the CQE of a command whose fence signalled: res 0 when the job
 * completed, else -EIO; big_cqe[0] = DRM_TERN_JOB_* | error_code << 32.
 * Then drop the op.
 */
static void tern_uring_complete(struct tern_uring_op *op, unsigned int issue_flags)
{
	struct tern_job_result r;

	tern_fence_result(op->fence, &r);
	tern_uring_cmd_done(op->cmd, r.status == DRM_TERN_JOB_OK ? 0 : -EIO,
			    r.status | (u64)r.error_code << 32, issue_flags);
	dma_fence_put(op->fence);
	kfree(op);
}

static void tern_uring_task_complete(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	tern_uring_complete(tern_uring_pdu(cmd)->op, issue_flags);
}

TERN_URING_TASK_WORK(tern_uring_task_work, tern_uring_task_complete)

/* Called with the fence's lock held, possibly in IRQ context. */
static void tern_uring_fence_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct tern_uring_op *op = container_of(cb, struct tern_uring_op, cb);
	int old;

	old = atomic_cmpxchg(&op->state, TERN_URING_ISSUING, TERN_URING_SIGNALLED);
	if (old != TERN_URING_ARMED)
		return;		/* the issuer completes, or a cancel did */
	if (atomic_cmpxchg(&op->state, TERN_URING_ARMED, TERN_URING_FIRED) == TERN_URING_ARMED)
		io_uring_cmd_do_in_task_lazy(op->cmd, tern_uring_task_work);
}

/*
 * IO_URING_F_CANCEL: the ring is being torn down or its task is exiting.
 * Called under the ring's uring_lock, maybe several times for one command
 * until it completes; cmd->sqe may be gone.
 */
static int tern_uring_cancel(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct tern_uring_op *op = tern_uring_pdu(cmd)->op;

	if (atomic_cmpxchg(&op->state, TERN_URING_ARMED, TERN_URING_CANCELLED) !=
	    TERN_URING_ARMED)
		return 0;	/* being issued, or the task work will post it */

	/* Takes the fence lock: once it returns the callback is not running. */
	dma_fence_remove_callback(op->fence, &op->cb);
	tern_uring_cmd_done(cmd, -ECANCELED, 0, issue_flags);
	dma_fence_put(op->fence);
	kfree(op);
	return 0;
}

/*
 * Arm @op on its fence. The command is on io_uring's cancelable list first:
 * from the moment the callback is armed it may complete the command.
 */
static void tern_uring_arm(struct io_uring_cmd *cmd, struct tern_uring_op *op,
			   unsigned int issue_flags)
{
	op->cmd = cmd;
	atomic_set(&op->state, TERN_URING_ISSUING);
	tern_uring_pdu(cmd)->op = op;
	io_uring_cmd_mark_cancelable(cmd, issue_flags);

	if (!dma_fence_add_callback(op->fence, &op->cb, tern_uring_fence_cb) &&
	    atomic_cmpxchg(&op->state, TERN_URING_ISSUING, TERN_URING_ARMED) ==
	    TERN_URING_ISSUING)
		return;

	/* Signalled already, or while we armed: post the CQE now. */
	tern_uring_complete(op, issue_flags);
}

/* Bytes after the structure in the command area must be zero. */
static bool tern_uring_tail_clear(const u8 *area, size_t used)
{
	return !memchr_inv(area + used, 0, TERN_URING_CMD_SIZE - used);
}

static struct dma_fence *tern_uring_submit(struct drm_file *file, const u8 *area)
{
	struct drm_tern_submit args;

	BUILD_BUG_ON(sizeof(args) > TERN_URING_CMD_SIZE);
	memcpy(&args, area, sizeof(args));
	/* job_id is an output of the ioctl; here it is unused and must be 0. */
	if (args.job_id || !tern_uring_tail_clear(area, sizeof(args)))
		return ERR_PTR(-EINVAL);
	return tern_submit(file, &args);
}

static struct dma_fence *tern_uring_exec(struct drm_file *file, const u8 *area)
{
	struct drm_tern_uring_exec cmd;
	struct drm_tern_exec args;
	u32 i;

	BUILD_BUG_ON(sizeof(cmd) > TERN_URING_CMD_SIZE);
	memcpy(&cmd, area, sizeof(cmd));
	for (i = 0; i < ARRAY_SIZE(cmd.reserved); i++)
		if (cmd.reserved[i])
			return ERR_PTR(-EINVAL);
	if (!tern_uring_tail_clear(area, sizeof(cmd)))
		return ERR_PTR(-EINVAL);
	if (copy_from_user(&args, u64_to_user_ptr(cmd.exec), sizeof(args)))
		return ERR_PTR(-EFAULT);
	return tern_exec(file, &args);
}

static struct dma_fence *tern_uring_wait(struct drm_file *file, const u8 *area)
{
	struct drm_tern_uring_wait cmd;
	struct dma_fence *fence;
	u32 i;

	BUILD_BUG_ON(sizeof(cmd) > TERN_URING_CMD_SIZE);
	memcpy(&cmd, area, sizeof(cmd));
	if (cmd.flags || !tern_uring_tail_clear(area, sizeof(cmd)))
		return ERR_PTR(-EINVAL);
	for (i = 0; i < ARRAY_SIZE(cmd.reserved); i++)
		if (cmd.reserved[i])
			return ERR_PTR(-EINVAL);
	/* No such syncobj, no fence in it, or not that point yet: as WAIT. */
	if (drm_syncobj_find_fence(file, cmd.syncobj, cmd.point, 0, &fence))
		return ERR_PTR(-ENOENT);
	return tern_points_exact(file, cmd.syncobj, cmd.point, fence);
}

/**
 * tern_uring_cmd() - file_operations.uring_cmd of the device file
 * @cmd: the command; cmd_op is DRM_TERN_URING_*
 * @issue_flags: IO_URING_F_*, passed on unchanged to io_uring
 *
 * Return: -EIOCBQUEUED when the CQE is or will be posted by the driver,
 * else the -errno io_uring posts at once: -EINVAL for a ring without
 * IORING_SETUP_SQE128 | IORING_SETUP_CQE32, an unknown cmd_op or a non-zero
 * reserved field, -EACCES from a process that does not own the file,
 * -ENODEV after unplug, and the errors of SUBMIT, EXEC and WAIT. -EAGAIN
 * makes io_uring issue the command again from a worker that may block.
 */
int tern_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	const unsigned int ring_flags = IO_URING_F_SQE128 | IO_URING_F_CQE32;
	struct drm_file *file = cmd->file->private_data;
	u8 area[TERN_URING_CMD_SIZE];
	struct tern_uring_op *op;
	struct dma_fence *fence;
	int idx, ret;

	if (issue_flags & IO_URING_F_CANCEL)
		return tern_uring_cancel(cmd, issue_flags);

	/* Without SQE128 the command area is 16 bytes: read nothing. */
	if ((issue_flags & ring_flags) != ring_flags)
		return -EINVAL;
	if (cmd->cmd_op != DRM_TERN_URING_SUBMIT && cmd->cmd_op != DRM_TERN_URING_EXEC &&
	    cmd->cmd_op != DRM_TERN_URING_WAIT)
		return -EINVAL;
	/* No registered buffers: the commands name GEM handles. */
	if (cmd->flags & IORING_URING_CMD_FIXED)
		return -EINVAL;
	ret = tern_file_check_owner(file);
	if (ret)
		return ret;

	/* The SQE is shared with user space: one copy, then only the copy. */
	memcpy(area, io_uring_sqe_cmd(cmd->sqe), sizeof(area));

	/* Before the job is queued: nothing can fail after that. */
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;

	if (!drm_dev_enter(file->minor->dev, &idx)) {
		kfree(op);
		return -ENODEV;
	}
	if (cmd->cmd_op == DRM_TERN_URING_SUBMIT)
		fence = tern_uring_submit(file, area);
	else if (cmd->cmd_op == DRM_TERN_URING_EXEC)
		fence = tern_uring_exec(file, area);
	else
		fence = tern_uring_wait(file, area);
	drm_dev_exit(idx);

	if (IS_ERR(fence)) {
		kfree(op);
		ret = PTR_ERR(fence);
		/*
		 * A wait for ring space interrupted, maybe only by io_uring's
		 * own task work notification: nothing was queued. Retry from
		 * a worker when we may not block, else report it.
		 */
		if (ret == -ERESTARTSYS || ret == -EINTR)
			return issue_flags & IO_URING_F_NONBLOCK ? -EAGAIN : -EINTR;
		return ret;
	}

	op->fence = fence;
	tern_uring_arm(cmd, op, issue_flags);
	return -EIOCBQUEUED;
}
