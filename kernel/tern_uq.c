// SPDX-License-Identifier: GPL-2.0
/*
 * tern user-mode queues: the last num_user_queues DMA queues of the chip
 * are lent to open files. A queue is bound to its file's context (Q_CTX):
 * the chip fetches its ring and every address its descriptors name through
 * that context's page tables, so the queue reaches nothing the file has not
 * mapped. The owner rings it by writing the tail to its doorbell page,
 * mapped from BAR2 with mmap(); no system call per job.
 *
 * Doorbell mappings are populated on fault, not in mmap(): a vma is only
 * linked into the file's address space after ->mmap returns, so PTEs made
 * there could escape the unmap_mapping_range() of a racing QUEUE_DESTROY.
 * The fault handler checks, under uqs->lock, that the queue is still the
 * one the vma was made for; destroy frees the slot and zaps every PTE of
 * the page under the same lock, so no stale mapping survives into the
 * queue's next owner. Documentation/userq.rst describes the policy.
 */

#include <linux/eventfd.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>

#include "tern_hw.h"
#include "tern_mmu.h"
#include "tern_uq.h"

/*
 * mmap page offset of user queue i's doorbell: TERN_UQ_PGOFF_BASE + i,
 * far below DRM_FILE_PAGE_OFFSET_START where GEM offsets start.
 */
#define TERN_UQ_PGOFF_BASE	0x100ul

/*
 * struct tern_uq - one user-mode queue slot (chip queue @hw_index)
 */
struct tern_uq {
	struct tern_uqs *uqs;
	u32 slot;			/* 0..num_user_queues - 1 */
	u32 hw_index;			/* chip queue: num_queues + slot */

	/* Under uqs->lock. */
	struct tern_file *tfile;	/* owner; NULL while the slot is free */
	u64 generation;			/* unique per QUEUE_CREATE, kept in the vmas */
	u64 ring_va;
	u32 entries;
	u32 ctx_id;
	u64 completed_base;		/* chip's COMPLETED count at create */
	bool halt_seen;			/* the error thread reported the halt */
	/*
	 * A device recovery stopped the queue: it stays disabled (QUEUE_QUERY
	 * state 0) until its owner destroys it.
	 */
	bool reset;
	u64 pause_done;			/* completed at the recovery's pause */

	/* Under tfile->uq_lock: in tfile->uq_list while owned. */
	struct list_head node;

	spinlock_t event_lock;		/* Protects eventfd (IRQ thread vs. release) */
	struct eventfd_ctx *eventfd;

	atomic64_t irqs;		/* completion interrupts while owned */
};

/*
 * struct tern_uqs - the device's user-mode queues
 *
 * Lock order: tern_file.uq_lock, then @lock, then tern_uq.event_lock.
 * The mm's mmap_lock (mmap, page faults) comes before @lock.
 */
struct tern_uqs {
	struct tern_device *tdev;
	/*
	 * Protects every slot's owner, generation and ring fields, and the
	 * queue registers of a slot while it changes owner.
	 */
	struct mutex lock;
	u64 next_generation;		/* under @lock */
	u32 count;
	struct tern_uq uq[] __counted_by(count);
};

static inline u32 tern_uq_rd(struct tern_uq *uq, u32 reg)
{
	return tern_rd32(uq->uqs->tdev, TERN_REG_QUEUE(uq->hw_index) + reg);
}

static inline void tern_uq_wr(struct tern_uq *uq, u32 reg, u32 val)
{
	tern_wr32(uq->uqs->tdev, TERN_REG_QUEUE(uq->hw_index) + reg, val);
}

static inline u64 tern_uq_doorbell_offset(struct tern_uq *uq)
{
	return (u64)(TERN_UQ_PGOFF_BASE + uq->slot) << PAGE_SHIFT;
}

/* The chip counts since its reset, for every owner the queue had. */
static u64 tern_uq_hw_completed(struct tern_uq *uq)
{
	u32 hi, lo;

	do {
		hi = tern_uq_rd(uq, TERN_Q_COMPLETED_HI);
		lo = tern_uq_rd(uq, TERN_Q_COMPLETED_LO);
	} while (hi != tern_uq_rd(uq, TERN_Q_COMPLETED_HI));
	return (u64)hi << 32 | lo;
}

/* Descriptors completed since the queue was created. */
static u64 tern_uq_completed(struct tern_uq *uq)
{
	return tern_uq_hw_completed(uq) - uq->completed_base;
}

struct tern_uq *tern_uq_get(struct tern_device *tdev, u32 i)
{
	return &tdev->uqs->uq[i];
}

int tern_uq_init(struct tern_device *tdev)
{
	resource_size_t db_start = pci_resource_start(tdev->pdev, TERN_BAR_DOORBELL);
	struct tern_uqs *uqs;
	u32 i, count = tdev->num_user_queues;
	int ret;

	if (count && !tdev->mmu) {
		drm_info(&tdev->drm, "no device MMU: %u queues are not used as user-mode queues\n",
			 count);
		count = 0;
	}
	if (count && (tdev->hw.doorbell_stride % PAGE_SIZE || !PAGE_ALIGNED(db_start))) {
		drm_warn(&tdev->drm, "doorbells are not page aligned: no user-mode queues\n");
		count = 0;
	}
	tdev->num_user_queues = count;

	uqs = drmm_kzalloc(&tdev->drm, struct_size(uqs, uq, count), GFP_KERNEL);
	if (!uqs)
		return -ENOMEM;
	uqs->count = count;
	uqs->tdev = tdev;
	uqs->next_generation = 1;
	ret = drmm_mutex_init(&tdev->drm, &uqs->lock);
	if (ret)
		return ret;

	for (i = 0; i < count; i++) {
		struct tern_uq *uq = &uqs->uq[i];

		uq->uqs = uqs;
		uq->slot = i;
		uq->hw_index = tdev->num_queues + i;
		INIT_LIST_HEAD(&uq->node);
		spin_lock_init(&uq->event_lock);
	}
	tdev->uqs = uqs;
	return 0;
}

/* Bind the queue to context @ctx_id with its ring at @ring_va and enable it. */
static int tern_uq_hw_start(struct tern_uq *uq, u32 ctx_id, u64 ring_va, u32 entries)
{
	struct tern_device *tdev = uq->uqs->tdev;
	u32 state, code;

	lockdep_assert_held(&uq->uqs->lock);

	/* Q_CTX only changes while the queue is disabled; it is, but be sure. */
	tern_uq_wr(uq, TERN_Q_CTRL, 0);
	tern_uq_wr(uq, TERN_Q_CTX, ctx_id);
	tern_uq_wr(uq, TERN_Q_RING_BASE_LO, lower_32_bits(ring_va));
	tern_uq_wr(uq, TERN_Q_RING_BASE_HI, upper_32_bits(ring_va));
	tern_uq_wr(uq, TERN_Q_RING_SIZE, entries);
	tern_hw_qdone_clear(tdev, uq->hw_index);
	uq->completed_base = tern_uq_hw_completed(uq);
	tern_uq_wr(uq, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE);

	state = tern_uq_rd(uq, TERN_Q_STATUS);
	if (state == TERN_Q_STATE_ACTIVE)
		return 0;

	code = tern_uq_rd(uq, TERN_Q_ERROR);
	tern_err(tdev, "user queue %u (chip queue %u) is %s after enable: %s (%u)\n",
		 uq->slot, uq->hw_index, tern_hw_queue_state_name(state),
		 tern_hw_error_name(code), code);
	tern_uq_wr(uq, TERN_Q_CTRL, 0);
	tern_uq_wr(uq, TERN_Q_CTX, 0);
	return -EIO;
}

/*
 * Stop the queue: the chip finishes a descriptor in flight before the
 * CTRL write returns, then nothing of the context is touched any more.
 */
static void tern_uq_hw_stop(struct tern_uq *uq)
{
	lockdep_assert_held(&uq->uqs->lock);

	tern_uq_wr(uq, TERN_Q_CTRL, 0);
	tern_uq_wr(uq, TERN_Q_CTX, 0);
	tern_hw_qdone_clear(uq->uqs->tdev, uq->hw_index);
}

/*
 * Take the queue away from its file: stop it in the chip (unless the
 * device is gone, its reset stopped it), free the slot and remove every
 * CPU mapping of its doorbell before the slot can be lent again.
 */
static void tern_uq_release(struct tern_uq *uq)
{
	struct tern_uqs *uqs = uq->uqs;
	struct tern_device *tdev = uqs->tdev;
	struct eventfd_ctx *efd;
	int idx;

	lockdep_assert_held(&uq->tfile->uq_lock);

	mutex_lock(&uqs->lock);
	if (drm_dev_enter(&tdev->drm, &idx)) {
		tern_uq_hw_stop(uq);
		drm_dev_exit(idx);
	}
	uq->tfile = NULL;
	list_del_init(&uq->node);
	unmap_mapping_range(tdev->drm.anon_inode->i_mapping, tern_uq_doorbell_offset(uq),
			    PAGE_SIZE, 1);

	spin_lock(&uq->event_lock);
	efd = uq->eventfd;
	uq->eventfd = NULL;
	spin_unlock(&uq->event_lock);
	mutex_unlock(&uqs->lock);

	if (efd)
		eventfd_ctx_put(efd);
}

/* The file's queue @queue_id, or NULL: other files' queues are not found. */
static struct tern_uq *tern_uq_lookup_locked(struct tern_uqs *uqs, struct tern_file *tfile,
					     u32 queue_id)
{
	struct tern_uq *uq;

	lockdep_assert_held(&uqs->lock);

	if (!queue_id || queue_id > uqs->count)
		return NULL;
	uq = &uqs->uq[queue_id - 1];
	return uq->tfile == tfile ? uq : NULL;
}

static int tern_uq_create_check(struct tern_device *tdev, struct drm_tern_queue_create *args)
{
	u32 max_entries = min_t(u32, DRM_TERN_USER_QUEUE_MAX_ENTRIES, tdev->hw.ring_max_entries);

	if (args->flags & ~DRM_TERN_QUEUE_EVENTFD)
		return -EINVAL;
	if (!(args->flags & DRM_TERN_QUEUE_EVENTFD) && args->eventfd)
		return -EINVAL;
	if (args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!IS_ALIGNED(args->ring_va, TERN_DESC_SIZE) || args->ring_va >> TERN_VA_BITS)
		return -EINVAL;
	if (args->ring_entries < TERN_RING_MIN_ENTRIES || args->ring_entries > max_entries ||
	    !is_power_of_2(args->ring_entries))
		return -EINVAL;
	return 0;
}

int tern_ioctl_queue_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct tern_file *tfile = to_tern_file(file);
	struct drm_tern_queue_create *args = data;
	struct tern_uqs *uqs = tdev->uqs;
	struct eventfd_ctx *efd = NULL;
	struct tern_uq *uq = NULL;
	u32 i, ctx_id;
	int idx, ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	ret = tern_uq_create_check(tdev, args);
	if (ret)
		goto out_exit;
	if (!uqs->count || !tfile->ctx) {
		ret = -EOPNOTSUPP;
		goto out_exit;
	}
	/* The device checks every fetch anyway; refuse a wrong ring up front. */
	if (!tern_ctx_range_ok(tfile->ctx, args->ring_va,
			       (u64)args->ring_entries * TERN_DESC_SIZE, false)) {
		ret = -EINVAL;
		goto out_exit;
	}
	ctx_id = tern_ctx_id(tfile->ctx);
	if (args->flags & DRM_TERN_QUEUE_EVENTFD) {
		efd = eventfd_ctx_fdget(args->eventfd);
		if (IS_ERR(efd)) {
			ret = PTR_ERR(efd);
			goto out_exit;
		}
	}

	mutex_lock(&tfile->uq_lock);
	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		if (!uqs->uq[i].tfile) {
			uq = &uqs->uq[i];
			break;
		}
	}
	if (!uq) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	ret = tern_uq_hw_start(uq, ctx_id, args->ring_va, args->ring_entries);
	if (ret)
		goto out_unlock;

	uq->tfile = tfile;
	uq->generation = uqs->next_generation++;
	uq->ring_va = args->ring_va;
	uq->entries = args->ring_entries;
	uq->ctx_id = ctx_id;
	uq->halt_seen = false;
	uq->reset = false;
	atomic64_set(&uq->irqs, 0);
	spin_lock(&uq->event_lock);
	uq->eventfd = efd;
	spin_unlock(&uq->event_lock);
	efd = NULL;
	list_add_tail(&uq->node, &tfile->uq_list);

	args->queue_id = uq->slot + 1;
	args->doorbell_offset = tern_uq_doorbell_offset(uq);

out_unlock:
	mutex_unlock(&uqs->lock);
	mutex_unlock(&tfile->uq_lock);
	if (efd)
		eventfd_ctx_put(efd);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

int tern_ioctl_queue_destroy(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct tern_file *tfile = to_tern_file(file);
	struct drm_tern_queue_destroy *args = data;
	struct tern_uq *uq;
	int idx, ret = 0;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags || args->reserved[0] || args->reserved[1]) {
		ret = -EINVAL;
		goto out_exit;
	}

	mutex_lock(&tfile->uq_lock);
	mutex_lock(&tdev->uqs->lock);
	uq = tern_uq_lookup_locked(tdev->uqs, tfile, args->queue_id);
	mutex_unlock(&tdev->uqs->lock);
	/* Only this file adds or removes its queues, under uq_lock. */
	if (uq)
		tern_uq_release(uq);
	else
		ret = -ENOENT;
	mutex_unlock(&tfile->uq_lock);

out_exit:
	drm_dev_exit(idx);
	return ret;
}

int tern_ioctl_queue_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct tern_file *tfile = to_tern_file(file);
	struct drm_tern_queue_query *args = data;
	struct tern_uq *uq;
	int idx, ret = 0;
	u32 state, error;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags || args->reserved[0] || args->reserved[1]) {
		ret = -EINVAL;
		goto out_exit;
	}

	mutex_lock(&tdev->uqs->lock);
	uq = tern_uq_lookup_locked(tdev->uqs, tfile, args->queue_id);
	if (!uq) {
		ret = -ENOENT;
		goto out_unlock;
	}
	state = tern_uq_rd(uq, TERN_Q_STATUS);
	error = state == TERN_Q_STATE_HALTED ? tern_uq_rd(uq, TERN_Q_ERROR) : 0;
	/*
	 * DISABLED (0) only after a device reset took the queue down
	 * (tern_uq_restart()): the owner destroys it and makes a new one.
	 */
	args->state = state == TERN_Q_STATE_ACTIVE ? DRM_TERN_QUEUE_ACTIVE :
		      state == TERN_Q_STATE_HALTED ? DRM_TERN_QUEUE_HALTED : 0;
	args->error = error;
	args->head = tern_uq_rd(uq, TERN_Q_HEAD);
	args->completed = tern_uq_completed(uq);
	if (error == TERN_ERR_MMU_FAULT) {
		args->fault_info = tern_uq_rd(uq, TERN_Q_FAULT_INFO);
		args->fault_addr = tern_uq_rd(uq, TERN_Q_FAULT_ADDR_LO) |
				   (u64)tern_uq_rd(uq, TERN_Q_FAULT_ADDR_HI) << 32;
	} else {
		args->fault_info = 0;
		args->fault_addr = 0;
	}

out_unlock:
	mutex_unlock(&tdev->uqs->lock);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/*
 * Release: the file is going away. No doorbell vma of it is left (a vma
 * holds a file reference), but the chip may still fetch from its ring.
 */
void tern_uq_file_close(struct tern_file *tfile)
{
	struct tern_uq *uq, *tmp;

	mutex_lock(&tfile->uq_lock);
	list_for_each_entry_safe(uq, tmp, &tfile->uq_list, node)
		tern_uq_release(uq);
	mutex_unlock(&tfile->uq_lock);
}

static void tern_uq_signal(struct tern_uq *uq)
{
	spin_lock(&uq->event_lock);
	if (uq->eventfd)
		eventfd_signal(uq->eventfd);
	spin_unlock(&uq->event_lock);
}

/*
 * Clear the done bit first: a descriptor finishing after it sets it again
 * and interrupts again, so no wakeup is lost.
 */
void tern_uq_irq(struct tern_uq *uq)
{
	tern_hw_qdone_clear(uq->uqs->tdev, uq->hw_index);
	atomic64_inc(&uq->irqs);
	tern_uq_signal(uq);
}

/*
 * A user queue the chip halted stays halted: its descriptors are the
 * owner's business, and QUEUE_QUERY reads why from the queue's registers.
 * The owner's eventfd is signalled once so a poll() on it wakes up.
 */
void tern_uq_recover(struct tern_device *tdev)
{
	struct tern_uqs *uqs = tdev->uqs;
	u32 i;

	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		struct tern_uq *uq = &uqs->uq[i];
		u32 code;

		if (!uq->tfile || uq->halt_seen ||
		    tern_uq_rd(uq, TERN_Q_STATUS) != TERN_Q_STATE_HALTED)
			continue;
		uq->halt_seen = true;
		code = tern_uq_rd(uq, TERN_Q_ERROR);
		tern_dbg(tdev, "user queue %u (context %u, pid %d) halted at ring index %u: %s (code %u)\n",
			 uq->slot, uq->ctx_id, pid_nr(uq->tfile->owner),
			 tern_uq_rd(uq, TERN_Q_HEAD), tern_hw_error_name(code), code);
		tern_uq_signal(uq);
	}
	mutex_unlock(&uqs->lock);
}

/*
 * Recovery, first step: stop every owned user queue (the descriptor in
 * flight finishes), so nothing of a context is touched during the reset.
 */
void tern_uq_pause(struct tern_device *tdev)
{
	struct tern_uqs *uqs = tdev->uqs;
	u32 i;

	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		struct tern_uq *uq = &uqs->uq[i];

		if (!uq->tfile || uq->reset)
			continue;
		tern_uq_wr(uq, TERN_Q_CTRL, 0);
		uq->pause_done = tern_uq_completed(uq);
	}
	mutex_unlock(&uqs->lock);
}

/*
 * Recovery, after the device reset: a user queue's ring and its tail are
 * its owner's, and the reset lost the chip's HEAD, so the driver cannot
 * restart it where it was. The queue stays disabled and bound to its
 * owner, who sees state 0 in QUEUE_QUERY (and a wakeup on its eventfd),
 * destroys it and creates a new one. Its completed count goes on from
 * where it was.
 */
void tern_uq_restart(struct tern_device *tdev)
{
	struct tern_uqs *uqs = tdev->uqs;
	u32 i;

	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		struct tern_uq *uq = &uqs->uq[i];

		if (!uq->tfile || uq->reset)
			continue;
		/* COMPLETED restarted at 0 with the reset. */
		uq->completed_base = tern_uq_hw_completed(uq) - uq->pause_done;
		uq->reset = true;
		tern_uq_signal(uq);
	}
	mutex_unlock(&uqs->lock);
}

/* devcoredump: the owned user queues' registers. */
void tern_uq_dump(struct tern_device *tdev, struct drm_printer *p)
{
	struct tern_uqs *uqs = tdev->uqs;
	u32 i;

	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		struct tern_uq *uq = &uqs->uq[i];

		if (!uq->tfile)
			continue;
		drm_printf(p, "user queue %u (chip queue %u): pid %d context %u",
			   i, uq->hw_index, pid_nr(uq->tfile->owner), uq->ctx_id);
		drm_printf(p, " state %s head %u tail %u error %u completed %llu%s\n",
			   tern_hw_queue_state_name(tern_uq_rd(uq, TERN_Q_STATUS)),
			   tern_uq_rd(uq, TERN_Q_HEAD), tern_uq_rd(uq, TERN_Q_TAIL),
			   tern_uq_rd(uq, TERN_Q_ERROR), tern_uq_completed(uq),
			   uq->reset ? " reset" : "");
	}
	mutex_unlock(&uqs->lock);
}

static vm_fault_t tern_uq_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_file *file = vma->vm_file->private_data;
	struct tern_file *tfile = to_tern_file(file);
	struct tern_device *tdev = tfile->tdev;
	struct tern_uqs *uqs = tdev->uqs;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long slot = vma->vm_pgoff - TERN_UQ_PGOFF_BASE;
	struct tern_uq *uq;
	unsigned long pfn;
	int idx;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return VM_FAULT_SIGBUS;

	mutex_lock(&uqs->lock);
	uq = &uqs->uq[slot];
	/* The queue this vma was made for, still alive, and its owner asking. */
	if (uq->tfile != tfile || uq->generation != (uintptr_t)vma->vm_private_data ||
	    tern_file_check_owner(file))
		goto out_unlock;
	pfn = (pci_resource_start(tdev->pdev, TERN_BAR_DOORBELL) +
	       (resource_size_t)uq->hw_index * tdev->hw.doorbell_stride) >> PAGE_SHIFT;
	ret = vmf_insert_pfn(vma, vma->vm_start, pfn);

out_unlock:
	mutex_unlock(&uqs->lock);
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct tern_uq_vm_ops = {
	.fault = tern_uq_fault,
};

static int tern_uq_mmap(struct tern_device *tdev, struct drm_file *file,
			struct vm_area_struct *vma)
{
	struct tern_uqs *uqs = tdev->uqs;
	unsigned long slot;
	struct tern_uq *uq;
	int ret = 0;

	if (tern_file_check_owner(file))
		return -EACCES;
	if (vma->vm_pgoff < TERN_UQ_PGOFF_BASE || vma->vm_pgoff - TERN_UQ_PGOFF_BASE >= uqs->count)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start != PAGE_SIZE || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	slot = vma->vm_pgoff - TERN_UQ_PGOFF_BASE;

	mutex_lock(&uqs->lock);
	uq = &uqs->uq[slot];
	if (uq->tfile != to_tern_file(file)) {
		ret = -EACCES;
		goto out_unlock;
	}
	/*
	 * Not inherited by fork() (VM_DONTCOPY; VM_IO also refuses
	 * MADV_DOFORK), never grown by mremap(), never executable, not in
	 * core dumps. Uncached: every store reaches the chip.
	 */
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_page_prot = pgprot_noncached(vm_get_page_prot(vma->vm_flags));
	vma->vm_private_data = (void *)(uintptr_t)uq->generation;
	vma->vm_ops = &tern_uq_vm_ops;

out_unlock:
	mutex_unlock(&uqs->lock);
	return ret;
}

int tern_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct drm_file *file = filp->private_data;
	struct tern_device *tdev = to_tern_device(file->minor->dev);
	int idx, ret;

	/* The file is its opener's: no mapping of any kind for another process. */
	if (tern_file_check_owner(file))
		return -EACCES;
	if (vma->vm_pgoff >= DRM_FILE_PAGE_OFFSET_START)
		return drm_gem_mmap(filp, vma);

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	ret = tern_uq_mmap(tdev, file, vma);
	drm_dev_exit(idx);
	return ret;
}

int tern_uq_debugfs_show(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct tern_device *tdev = to_tern_device(entry->dev);
	struct tern_uqs *uqs = tdev->uqs;
	int idx;
	u32 i;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;

	seq_puts(m, "slot queue     pid ctx state    head   tail  slots  completed       irqs error\n");
	mutex_lock(&uqs->lock);
	for (i = 0; i < uqs->count; i++) {
		struct tern_uq *uq = &uqs->uq[i];
		u32 state;

		if (!uq->tfile) {
			seq_printf(m, "%4u %5u       - free\n", i, uq->hw_index);
			continue;
		}
		state = tern_uq_rd(uq, TERN_Q_STATUS);
		seq_printf(m, "%4u %5u %7d %3u %-8s %6u %6u %6u %10llu %10lld %s\n",
			   i, uq->hw_index, pid_nr(uq->tfile->owner), uq->ctx_id,
			   uq->reset ? "reset" : tern_hw_queue_state_name(state),
			   tern_uq_rd(uq, TERN_Q_HEAD),
			   tern_uq_rd(uq, TERN_Q_TAIL), uq->entries, tern_uq_completed(uq),
			   atomic64_read(&uq->irqs),
			   state == TERN_Q_STATE_HALTED ?
			   tern_hw_error_name(tern_uq_rd(uq, TERN_Q_ERROR)) : "-");
	}
	mutex_unlock(&uqs->lock);

	drm_dev_exit(idx);
	return 0;
}
