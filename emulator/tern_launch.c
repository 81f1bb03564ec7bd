// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: the compute cores' launch rings. Each core has a
 * ring of launch descriptors (include/tern_regs.h) with a doorbell in BAR2
 * and a worker thread that fetches and validates them, binds the slot table,
 * runs the program on the core (tern_core.h), writes the job status and the
 * fence and raises the core's vector. A launch with ctx != 0 names VAs of
 * that context (tern_mmu.c): its program is copied through the MMU, each
 * slot must map one HBM range, and only PHYS-flagged addresses are physical.
 * With TERN_LAUNCH_F_PROFILE the slot table's extra entry is the profile
 * buffer the core's records are written to when the job ends, before its
 * status. Bad descriptors are device errors
 * through tern_model.c; a job that faults is not: its status says why and
 * the ring goes on. See tern_model_int.h for the locking rules and
 * Documentation/chip/spec.rst for the guest-visible behaviour.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setname_np */
#endif

#include "tern_model_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_ABORTED	UINT32_MAX	/* internal: launch abandoned */
#define TERN_C_CTRL_ALL	(TERN_C_CTRL_ENABLE | TERN_C_CTRL_RING_IN_HBM | \
			 TERN_C_CTRL_RESUME | TERN_C_CTRL_ABORT | \
			 TERN_C_CTRL_RESET)

_Static_assert(sizeof(struct tern_launch_desc) == TERN_LAUNCH_DESC_SIZE,
	       "launch descriptor layout");
_Static_assert(sizeof(struct tern_launch_slot) == TERN_LAUNCH_SLOT_SIZE,
	       "launch slot layout");
_Static_assert(sizeof(struct tern_job_status) == TERN_LAUNCH_STATUS_SIZE,
	       "job status size");
_Static_assert(TERN_LAUNCH_MAX_SLOTS == TERN_MAX_SLOTS, "slot limit");
_Static_assert(TERN_REG_CORE(TERN_MAX_CORES) <= TERN_REG_WINDOW_SIZE,
	       "core registers inside the window");

struct ring {
	uint64_t base;
	uint32_t size;
	bool in_hbm;
};

/* ---- small helpers ---- */

static bool abandoned(struct tern_launch_ring *r)
{
	return atomic_load_explicit(&r->abandon, memory_order_relaxed);
}

/* ---- one launch (worker, without the lock) ---- */

static void decode_desc(const uint8_t *raw, struct tern_launch_desc *d)
{
	d->prog_addr = get_le64(raw + 0);
	d->prog_size = get_le32(raw + 8);
	d->flags = get_le32(raw + 12);
	d->slot_addr = get_le64(raw + 16);
	d->slot_count = get_le32(raw + 24);
	d->ctx = get_le32(raw + 28);
	d->status_addr = get_le64(raw + 32);
	d->fence_addr = get_le64(raw + 40);
	d->fence_value = get_le64(raw + 48);
	d->reserved1 = get_le64(raw + 56);
}

#define F_PHYS_ANY	(TERN_LAUNCH_F_SLOTS_PHYS | TERN_LAUNCH_F_STATUS_PHYS | \
			 TERN_LAUNCH_F_FENCE_PHYS)

/* Which addresses of d are physical. */
static bool slots_phys(const struct tern_launch_desc *d)
{
	return !d->ctx || (d->flags & TERN_LAUNCH_F_SLOTS_PHYS);
}

static bool status_phys(const struct tern_launch_desc *d)
{
	return !d->ctx || (d->flags & TERN_LAUNCH_F_STATUS_PHYS);
}

static bool fence_phys(const struct tern_launch_desc *d)
{
	return !d->ctx || (d->flags & TERN_LAUNCH_F_FENCE_PHYS);
}

static uint32_t validate_flags(const struct tern_launch_desc *d,
			       uint64_t daddr, struct fault *f)
{
	if (d->flags & ~TERN_LAUNCH_F_ALL)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "unknown launch flags 0x%" PRIx32,
			    d->flags & ~TERN_LAUNCH_F_ALL);
	if ((d->flags & TERN_LAUNCH_F_FENCE_HBM) &&
	    !(d->flags & TERN_LAUNCH_F_FENCE))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_HBM without FENCE");
	if ((d->flags & TERN_LAUNCH_F_FENCE_PHYS) &&
	    !(d->flags & TERN_LAUNCH_F_FENCE))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_PHYS without FENCE");
	if (!d->ctx && (d->flags & F_PHYS_ANY))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "PHYS flags 0x%" PRIx32 " with ctx 0",
			    d->flags & F_PHYS_ANY);
	if (d->ctx && (d->flags & TERN_LAUNCH_F_STATUS_HBM) &&
	    !(d->flags & TERN_LAUNCH_F_STATUS_PHYS))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "STATUS_HBM with ctx %" PRIu32 " needs "
			    "STATUS_PHYS", d->ctx);
	if (d->ctx && (d->flags & TERN_LAUNCH_F_FENCE_HBM) &&
	    !(d->flags & TERN_LAUNCH_F_FENCE_PHYS))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_HBM with ctx %" PRIu32 " needs FENCE_PHYS",
			    d->ctx);
	return 0;
}

/* Slot-table entries of d: the slots and, with PROFILE, the profile buffer. */
static uint32_t table_entries(const struct tern_launch_desc *d)
{
	return d->slot_count + !!(d->flags & TERN_LAUNCH_F_PROFILE);
}

static uint32_t validate_desc(struct tern_dev *dev,
			      const struct tern_launch_desc *d, uint64_t daddr,
			      struct fault *f)
{
	uint64_t slots_len = (uint64_t)table_entries(d) * TERN_LAUNCH_SLOT_SIZE;
	uint32_t err;

	if (d->reserved1)
		return tern_fail(f, TERN_ERR_RESERVED, daddr,
			    "reserved field is 0x%" PRIx64, d->reserved1);
	err = validate_flags(d, daddr, f);
	if (err)
		return err;
	if (d->prog_size < TERN_LAUNCH_PROG_MIN ||
	    d->prog_size > TERN_LAUNCH_PROG_MAX)
		return tern_fail(f, TERN_ERR_BAD_LAUNCH, daddr,
			    "program size %" PRIu32 " is not within %u..%u",
			    d->prog_size, TERN_LAUNCH_PROG_MIN,
			    TERN_LAUNCH_PROG_MAX);
	if (d->slot_count > TERN_LAUNCH_MAX_SLOTS)
		return tern_fail(f, TERN_ERR_BAD_LAUNCH, daddr,
			    "slot count %" PRIu32 " is above %u", d->slot_count,
			    TERN_LAUNCH_MAX_SLOTS);
	if (d->ctx && !tern_mmu_ctx_ok(dev, d->ctx))
		return tern_mmu_fail(f, d->ctx, d->prog_addr, false,
				     TERN_FAULT_BAD_CONTEXT, "program");
	if (!d->ctx && !hbm_range_ok(dev, d->prog_addr, d->prog_size))
		return tern_fail(f, TERN_ERR_HBM_RANGE, d->prog_addr,
			    "program 0x%" PRIx64 "+0x%" PRIx32
			    " outside the HBM", d->prog_addr, d->prog_size);
	if (slots_phys(d) && slots_len &&
	    !hbm_range_ok(dev, d->slot_addr, slots_len))
		return tern_fail(f, TERN_ERR_HBM_RANGE, d->slot_addr,
			    "slot table 0x%" PRIx64 "+0x%" PRIx64
			    " outside the HBM", d->slot_addr, slots_len);
	if (!status_phys(d))
		;	/* a VA: checked by the MMU */
	else if ((d->flags & TERN_LAUNCH_F_STATUS_HBM) &&
	    !hbm_range_ok(dev, d->status_addr, TERN_LAUNCH_STATUS_SIZE))
		return tern_fail(f, TERN_ERR_HBM_RANGE, d->status_addr,
			    "job status at HBM 0x%" PRIx64 " outside the HBM",
			    d->status_addr);
	else if (!(d->flags & TERN_LAUNCH_F_STATUS_HBM) &&
	    !no_wrap(d->status_addr, TERN_LAUNCH_STATUS_SIZE))
		return tern_fail(f, TERN_ERR_HOST_DMA, d->status_addr,
			    "job status at host 0x%" PRIx64 " wraps",
			    d->status_addr);
	if ((d->flags & TERN_LAUNCH_F_FENCE_HBM) &&
	    !hbm_range_ok(dev, d->fence_addr, 8))
		return tern_fail(f, TERN_ERR_FENCE, d->fence_addr,
			    "HBM fence at 0x%" PRIx64 " outside the HBM",
			    d->fence_addr);
	return 0;
}

static void encode_status(const struct tern_job_status *st, uint8_t *p)
{
	memset(p, 0, TERN_LAUNCH_STATUS_SIZE);
	put_le32(p + 0, st->status);
	put_le32(p + 4, st->error);
	put_le32(p + 8, st->engine);
	put_le32(p + 12, st->index);
	put_le64(p + 16, st->detail);
	put_le64(p + 24, st->cycles);
	for (int i = 0; i < TERN_NUM_ENGINES; i++) {
		put_le64(p + 32 + 8 * i, st->busy[i]);
		put_le32(p + 64 + 4 * i, st->insns[i]);
	}
	put_le64(p + 80, st->wall_ns);
}

/*
 * Bind slot i of a ctx != 0 launch: its VA range [va, va + size) must map
 * HBM pages with READ, contiguous in the HBM; writable if all have WRITE.
 */
static uint32_t map_slot(struct tern_launch_ring *r, uint32_t ctx,
			 const char *what, uint64_t va, uint64_t size,
			 struct tern_core_slot *out, bool *ro,
			 struct fault *f)
{
	uint64_t at = va, expect = 0;
	struct tern_xlate x;
	uint32_t reason;

	out->offset = 0;
	out->size = size;
	*ro = false;
	if (size && (va >= TERN_VA_LIMIT || size > TERN_VA_LIMIT - va))
		return tern_mmu_fail(f, ctx, va < TERN_VA_LIMIT ?
				     TERN_VA_LIMIT : va, false,
				     TERN_FAULT_RANGE, what);
	while (at - va < size) {
		reason = tern_mmu_translate(r->dev, &r->tlb, ctx, at, &x);
		if (reason)
			return tern_mmu_fail(f, ctx, at, false, reason, what);
		if (!tern_pte_hbm(x.pte) || !(x.pte & TERN_PTE_READ) ||
		    (at != va && x.pa != expect))
			return tern_mmu_fail(f, ctx, at, false,
					     TERN_FAULT_CORE_SLOT, what);
		if (at == va)
			out->offset = x.pa;
		if (!(x.pte & TERN_PTE_WRITE))
			*ro = true;
		if (x.len > size - (at - va))
			x.len = size - (at - va);
		expect = x.pa + x.len;
		at += x.len;
	}
	return 0;
}

/*
 * The profile buffer of a PROFILE launch, the slot-table entry p after the
 * slots: size >= TERN_PROF_HEADER_SIZE, in the HBM (ctx 0) or mapping one
 * writable HBM range (ctx != 0), like a slot. Its HBM range into *out.
 */
static uint32_t bind_profile(struct tern_launch_ring *r,
			     const struct tern_launch_desc *d,
			     const uint8_t *p, uint64_t daddr,
			     struct tern_core_slot *out, struct fault *f)
{
	struct tern_dev *dev = r->dev;
	uint64_t off = get_le64(p), size = get_le64(p + 8);
	uint32_t err;
	bool ro;

	if (size < TERN_PROF_HEADER_SIZE)
		return tern_fail(f, TERN_ERR_BAD_LAUNCH, daddr,
			    "profile buffer of %" PRIu64 " bytes is smaller "
			    "than its %u-byte header", size,
			    TERN_PROF_HEADER_SIZE);
	if (!d->ctx) {
		if (!hbm_range_ok(dev, off, size))
			return tern_fail(f, TERN_ERR_HBM_RANGE, off,
				    "profile buffer 0x%" PRIx64 "+0x%" PRIx64
				    " outside the HBM", off, size);
		out->offset = off;
		out->size = size;
		return 0;
	}
	err = map_slot(r, d->ctx, "profile buffer", off, size, out, &ro, f);
	if (err)
		return err;
	if (ro)
		return tern_mmu_fail(f, d->ctx, off, true,
				     TERN_FAULT_PERMISSION, "profile buffer");
	return 0;
}

/*
 * The slot table of d into slots (physical or through the MMU), and with
 * PROFILE the profile buffer into *prof.
 */
static uint32_t bind_slots(struct tern_launch_ring *r,
			   const struct tern_launch_desc *d, uint64_t daddr,
			   struct tern_core_slot *slots, uint64_t *ro_mask,
			   struct tern_core_slot *prof, struct fault *f)
{
	struct tern_dev *dev = r->dev;
	uint8_t tab[(TERN_LAUNCH_MAX_SLOTS + 1) * TERN_LAUNCH_SLOT_SIZE];
	size_t len = (size_t)table_entries(d) * TERN_LAUNCH_SLOT_SIZE;
	uint32_t err;

	*ro_mask = 0;
	if (slots_phys(d)) {
		err = tern_ras_check(dev, d->slot_addr, len, "slot table", f);
		if (err)
			return err;
		memcpy(tab, dev->cfg.hbm + d->slot_addr, len);
	} else if (len) {
		err = tern_mmu_read(dev, &r->tlb, d->ctx, d->slot_addr, tab,
				    len, "slot table", f);
		if (err)
			return err;
	}
	for (uint32_t i = 0; i < d->slot_count; i++) {
		const uint8_t *p = tab + (size_t)i * TERN_LAUNCH_SLOT_SIZE;
		char what[32];
		bool ro;

		slots[i].offset = get_le64(p);
		slots[i].size = get_le64(p + 8);
		if (!d->ctx)
			continue;
		snprintf(what, sizeof(what), "slot %" PRIu32, i);
		err = map_slot(r, d->ctx, what, slots[i].offset,
			       slots[i].size, &slots[i], &ro, f);
		if (err)
			return err;
		if (ro)
			*ro_mask |= 1ull << i;
	}
	if (d->flags & TERN_LAUNCH_F_PROFILE)
		return bind_profile(r, d, tab + (size_t)d->slot_count *
					      TERN_LAUNCH_SLOT_SIZE,
				    daddr, prof, f);
	return 0;
}

/* The program of a ctx != 0 launch, copied through the MMU. */
static uint32_t fetch_prog(struct tern_launch_ring *r,
			   const struct tern_launch_desc *d,
			   const uint8_t **prog, struct fault *f)
{
	if (r->prog_cap < d->prog_size) {
		uint8_t *n = realloc(r->prog, d->prog_size);

		if (!n)
			return tern_fail(f, TERN_ERR_BAD_LAUNCH, d->prog_addr,
				    "no memory for a %" PRIu32 "-byte program",
				    d->prog_size);
		r->prog = n;
		r->prog_cap = d->prog_size;
	}
	*prog = r->prog;
	return tern_mmu_read(r->dev, &r->tlb, d->ctx, d->prog_addr, r->prog,
			     d->prog_size, "program", f);
}

/* Write the job status or the fence of d: physical or through the MMU. */
static uint32_t put_out(struct tern_launch_ring *r,
			const struct tern_launch_desc *d, bool fence,
			const uint8_t *buf, size_t len, struct fault *f)
{
	struct tern_dev *dev = r->dev;
	uint64_t addr = fence ? d->fence_addr : d->status_addr;

	if (!(fence ? fence_phys(d) : status_phys(d)))
		return tern_mmu_write(dev, &r->tlb, d->ctx, addr, buf, len,
				      fence ? "fence" : "job status", f);
	if (tern_put_phys(dev, d->flags & (fence ? TERN_LAUNCH_F_FENCE_HBM :
						   TERN_LAUNCH_F_STATUS_HBM),
			  addr, buf, len))
		return 0;
	if (fence)
		return tern_fail(f, TERN_ERR_FENCE, addr,
			    "cannot write the fence at host 0x%" PRIx64, addr);
	return tern_fail(f, TERN_ERR_HOST_DMA, addr,
		    "cannot write the job status at host 0x%" PRIx64, addr);
}

/* Run launch idx of core r; returns 0, a TERN_ERR_* or ERR_ABORTED. */
static uint32_t run_launch(struct tern_launch_ring *r, const struct ring *rs,
			   uint32_t idx, bool *irq, struct tern_job_status *st,
			   struct fault *f)
{
	struct tern_dev *dev = r->dev;
	uint64_t daddr = rs->base + (uint64_t)idx * TERN_LAUNCH_DESC_SIZE;
	struct tern_core_slot slots[TERN_LAUNCH_MAX_SLOTS], prof = { 0, 0 };
	uint8_t raw[TERN_LAUNCH_DESC_SIZE];
	uint8_t out[TERN_LAUNCH_STATUS_SIZE];
	struct tern_launch_desc d;
	const uint8_t *prog = NULL;
	uint64_t ro_mask;
	uint32_t err;

	if (rs->in_hbm && (err = tern_ras_check(dev, daddr, sizeof(raw),
						"launch descriptor", f)))
		return err;
	if (rs->in_hbm)
		memcpy(raw, dev->cfg.hbm + daddr, sizeof(raw));
	else if (!dev->ops->dma_read(dev->opaque, daddr, raw, sizeof(raw)))
		return tern_fail(f, TERN_ERR_RING_FETCH, daddr,
			    "cannot fetch the launch descriptor at 0x%" PRIx64,
			    daddr);
	decode_desc(raw, &d);
	if (dev->ops->trace_launch_start)
		dev->ops->trace_launch_start(dev->opaque, r->index, idx, &d);
	err = validate_desc(dev, &d, daddr, f);
	if (err)
		return err;
	/* a VA that cannot take the results fails before the job runs */
	if (!status_phys(&d))
		err = tern_mmu_check(dev, &r->tlb, d.ctx, d.status_addr,
				     TERN_LAUNCH_STATUS_SIZE, true,
				     "job status", f);
	if (!err && (d.flags & TERN_LAUNCH_F_FENCE) && !fence_phys(&d))
		err = tern_mmu_check(dev, &r->tlb, d.ctx, d.fence_addr, 8,
				     true, "fence", f);
	if (!err)
		err = bind_slots(r, &d, daddr, slots, &ro_mask, &prof, f);
	if (err)
		return err;
	if (d.ctx) {
		err = fetch_prog(r, &d, &prog, f);
		if (err)
			return err;
	} else {
		err = tern_ras_check(dev, d.prog_addr, d.prog_size, "program",
				     f);
		if (err)
			return err;
		prog = dev->cfg.hbm + d.prog_addr;
	}
	/*
	 * The core copies the program once and checks every slot. The slots
	 * stay bound to their HBM ranges: the driver keeps them mapped until
	 * the launch ends, so nothing is pinned while it runs.
	 */
	tern_mmu_unpin(&r->tlb);
	if (prof.size)
		tern_core_profile_next(r->core, prof.size);
	tern_core_run_ro(r->core, prog, d.prog_size, slots, d.slot_count,
			 ro_mask, &r->cancel, st);
	if (abandoned(r))
		return ERR_ABORTED;	/* nor the profile: HBM may be reset */
	/* the profile is there before the status and the fence say so */
	if (prof.size) {
		uint32_t count = 0, dropped = 0;

		tern_core_profile_write(r->core, dev->cfg.hbm + prof.offset,
					&count, &dropped);
		if (dev->ops->trace_launch_profile)
			dev->ops->trace_launch_profile(dev->opaque, r->index,
						       idx, prof.offset,
						       count, dropped);
	}
	encode_status(st, out);
	err = put_out(r, &d, false, out, sizeof(out), f);
	if (!err && (d.flags & TERN_LAUNCH_F_FENCE) && !r->lost_now) {
		uint8_t v[8];

		put_le64(v, d.fence_value);
		err = put_out(r, &d, true, v, 8, f);
	}
	if (err)
		return err;
	*irq = d.flags & TERN_LAUNCH_F_IRQ;
	return 0;
}

/* Account for a finished launch (lock held). */
static void finish_launch(struct tern_launch_ring *r, const struct ring *rs,
			  uint32_t idx, uint32_t err, bool irq,
			  const struct tern_job_status *st,
			  const struct fault *f)
{
	struct tern_dev *dev = r->dev;

	if (dev->ops->trace_launch_done)
		dev->ops->trace_launch_done(dev->opaque, r->index, idx,
					    err,
					    st->status, st->error, st->cycles);
	if (err == ERR_ABORTED || abandoned(r))
		return;
	tern_telem_launch(dev, r->index, st,
			  !err && st->status == TERN_JOB_OK);
	if (err) {
		r->state = TERN_Q_STATE_HALTED;
		r->error = err;
		r->head = idx;
		if (err == TERN_ERR_MMU_FAULT) {
			r->fault_addr = f->addr;
			r->fault_info = f->info;
		}
		tern_device_error(dev, TERN_ERR_QUEUE_CORE(r->index), idx, err,
				  f->addr, f->info, f->why);
		return;
	}
	r->head = (idx + 1) & (rs->size - 1);
	r->completed++;
	if (irq) {
		dev->core_done |= 1u << r->index;
		tern_send_irq(dev, TERN_MSIX_VEC_CORE(dev->cfg.queues,
						      r->index),
			      dev->int_mask & TERN_INT_CORE);
	}
}

static void *core_main(void *arg)
{
	struct tern_launch_ring *r = arg;
	struct tern_dev *dev = r->dev;

#ifdef __GLIBC__
	{
		char tname[16];

		snprintf(tname, sizeof(tname), "tern-core%u", r->index);
		pthread_setname_np(pthread_self(), tname);
	}
#endif
	if (dev->ops->worker_init)
		dev->ops->worker_init(dev->opaque, TERN_WORKER_CORE(r->index));

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		struct tern_job_status st;
		struct fault f;
		struct ring rs;
		bool irq = false, hang;
		uint32_t idx, err;

		if (dev->resetting || r->state != TERN_Q_STATE_ACTIVE ||
		    r->quiesce || abandoned(r) || r->head == r->tail) {
			pthread_cond_wait(&r->wake, &dev->lock);
			continue;
		}
		rs.base = r->base;
		rs.size = r->size;
		rs.in_hbm = r->in_hbm;
		idx = r->head;
		r->inflight = true;
		hang = tern_ras_take_hang(dev, r->index);
		r->lost_now = dev->ras.lost_core & (1u << r->index);
		pthread_mutex_unlock(&dev->lock);

		memset(&st, 0, sizeof(st));
		tern_telem_core_begin(dev, r->index);
		err = hang ? tern_ras_hang(r) :
		      run_launch(r, &rs, idx, &irq, &st, &f);
		tern_telem_core_end(dev, r->index, &st);
		tern_mmu_unpin(&r->tlb);	/* after a fault */

		pthread_mutex_lock(&dev->lock);
		r->inflight = false;
		if (!err && r->lost_now && !abandoned(r)) {
			/* injected: no fence was written, no IRQ now */
			dev->ras.lost_core &= ~(1u << r->index);
			tern_ras_count(dev);
			irq = false;
		}
		finish_launch(r, &rs, idx, err, irq, &st, &f);
		pthread_cond_broadcast(&dev->idle);
	}
	pthread_mutex_unlock(&dev->lock);

	if (dev->ops->worker_exit)
		dev->ops->worker_exit(dev->opaque, TERN_WORKER_CORE(r->index));
	return NULL;
}

/* ---- ring control (lock held) ---- */

static void trace_state(struct tern_launch_ring *r)
{
	struct tern_dev *dev = r->dev;

	if (dev->ops->trace_queue_state)
		dev->ops->trace_queue_state(dev->opaque,
					    TERN_ERR_QUEUE_CORE(r->index),
					    r->state);
}

/*
 * Stop the job in flight, if any: it ends ABORTED (its status, fence and
 * IRQ are still delivered) and no other job starts until this returns.
 */
static void ring_cancel(struct tern_launch_ring *r)
{
	struct tern_dev *dev = r->dev;

	if (tern_ras_core_hung(dev, r->index))
		return;	/* a hung core ignores ABORT */
	r->quiesce++;
	if (r->inflight) {
		atomic_store(&r->cancel, true);
		while (r->inflight)
			pthread_cond_wait(&dev->idle, &dev->lock);
	}
	/* quiesce keeps the next job from starting with cancel still set */
	atomic_store(&r->cancel, false);
	r->quiesce--;
	pthread_cond_signal(&r->wake);
}

static void ring_disable(struct tern_launch_ring *r)
{
	if (r->state == TERN_Q_STATE_DISABLED)
		return;
	r->quiesce++;
	ring_cancel(r);
	r->state = TERN_Q_STATE_DISABLED;
	r->quiesce--;
	trace_state(r);
}

static void ring_enable(struct tern_launch_ring *r, bool in_hbm)
{
	struct tern_dev *dev = r->dev;
	char why[160];

	ring_disable(r);
	r->error = TERN_ERR_NONE;
	r->fault_addr = 0;
	r->fault_info = 0;
	if (!tern_ring_check(dev, r->prog_base, r->prog_size, in_hbm, why,
			     sizeof(why))) {
		r->error = TERN_ERR_BAD_RING;
		tern_device_error(dev, TERN_ERR_QUEUE_CORE(r->index),
				  r->prog_size, TERN_ERR_BAD_RING, r->prog_base,
				  0, why);
		return;
	}
	r->base = r->prog_base;
	r->size = r->prog_size;
	r->in_hbm = in_hbm;
	r->head = 0;
	r->tail = 0;
	r->state = TERN_Q_STATE_ACTIVE;
	trace_state(r);
}

static void ring_ctrl_write(struct tern_launch_ring *r, uint32_t val)
{
	struct tern_dev *dev = r->dev;

	if (val & ~TERN_C_CTRL_ALL) {
		tern_guest_err(dev, "core %u: CTRL write 0x%" PRIx32 " has "
			       "unknown bits; ignored", r->index, val);
		return;
	}
	if (val & TERN_C_CTRL_RESET) {
		tern_ras_core_reset(r);	/* the write's other bits do nothing */
		return;
	}
	if (val & TERN_C_CTRL_ABORT) {
		ring_cancel(r);	/* the write's other bits do nothing */
		return;
	}
	if (!(val & TERN_C_CTRL_ENABLE)) {
		ring_disable(r);
		return;
	}
	if (!(val & TERN_C_CTRL_RESUME)) {
		ring_enable(r, val & TERN_C_CTRL_RING_IN_HBM);
		return;
	}
	switch (r->state) {
	case TERN_Q_STATE_HALTED:
		r->state = TERN_Q_STATE_ACTIVE;
		r->error = TERN_ERR_NONE;
		r->fault_addr = 0;
		r->fault_info = 0;
		trace_state(r);
		pthread_cond_signal(&r->wake);
		break;
	case TERN_Q_STATE_DISABLED:
		tern_guest_err(dev, "core %u: RESUME on a disabled launch "
			       "ring; ignored", r->index);
		break;
	default:
		break;
	}
}

static void ring_head_write(struct tern_launch_ring *r, uint32_t val)
{
	struct tern_dev *dev = r->dev;

	if (r->state != TERN_Q_STATE_HALTED)
		tern_guest_err(dev, "core %u: HEAD write %" PRIu32 " while not "
			       "halted; ignored", r->index, val);
	else if (val >= r->size)
		tern_guest_err(dev, "core %u: HEAD write %" PRIu32 " out of "
			       "range for a ring of %" PRIu32 " entries; "
			       "ignored", r->index, val, r->size);
	else
		r->head = val;
}

/* ---- entry points from tern_model.c (lock held) ---- */

bool tern_launch_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	unsigned int c = (off - TERN_REG_CORE_BASE) / TERN_REG_CORE_STRIDE;
	struct tern_launch_ring *r = &dev->cr[c];

	switch ((off - TERN_REG_CORE_BASE) % TERN_REG_CORE_STRIDE) {
	case TERN_C_RING_BASE_LO: *v = (uint32_t)r->prog_base; return true;
	case TERN_C_RING_BASE_HI: *v = r->prog_base >> 32; return true;
	case TERN_C_RING_SIZE: *v = r->prog_size; return true;
	case TERN_C_CTRL:
		*v = 0;
		if (r->state != TERN_Q_STATE_DISABLED)
			*v = TERN_C_CTRL_ENABLE |
			     (r->in_hbm ? TERN_C_CTRL_RING_IN_HBM : 0);
		return true;
	case TERN_C_HEAD: *v = r->head; return true;
	case TERN_C_TAIL: *v = r->tail; return true;
	case TERN_C_STATUS: *v = r->state; return true;
	case TERN_C_ERROR: *v = r->error; return true;
	case TERN_C_COMPLETED_LO: *v = (uint32_t)r->completed; return true;
	case TERN_C_COMPLETED_HI: *v = r->completed >> 32; return true;
	case TERN_C_ABORT_IDX: *v = 0; return true;
	case TERN_C_FAULT_ADDR_LO: *v = (uint32_t)r->fault_addr; return true;
	case TERN_C_FAULT_ADDR_HI: *v = r->fault_addr >> 32; return true;
	case TERN_C_FAULT_INFO: *v = r->fault_info; return true;
	}
	return false;
}

bool tern_launch_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	unsigned int c = (off - TERN_REG_CORE_BASE) / TERN_REG_CORE_STRIDE;
	struct tern_launch_ring *r = &dev->cr[c];

	switch ((off - TERN_REG_CORE_BASE) % TERN_REG_CORE_STRIDE) {
	case TERN_C_RING_BASE_LO:
		r->prog_base = (r->prog_base & ~0xffffffffull) | val;
		return true;
	case TERN_C_RING_BASE_HI:
		r->prog_base = (r->prog_base & 0xffffffffull) |
			       (uint64_t)val << 32;
		return true;
	case TERN_C_RING_SIZE:
		r->prog_size = val;
		return true;
	case TERN_C_CTRL:
		ring_ctrl_write(r, val);
		return true;
	case TERN_C_HEAD:
		ring_head_write(r, val);
		return true;
	case TERN_C_ABORT_IDX:
		/*
		 * Only the job at ring index val: a driver whose deadline
		 * passed just as that job ended must not abort the next one.
		 */
		if (r->inflight && r->head == val)
			ring_cancel(r);
		return true;
	case TERN_C_TAIL:
	case TERN_C_STATUS:
	case TERN_C_ERROR:
	case TERN_C_COMPLETED_LO:
	case TERN_C_COMPLETED_HI:
	case TERN_C_FAULT_ADDR_LO:
	case TERN_C_FAULT_ADDR_HI:
	case TERN_C_FAULT_INFO:
		tern_guest_err(dev, "write 0x%" PRIx32 " to read-only "
			       "register %s of core %u ignored", val,
			       tern_reg_name(off), c);
		return true;
	}
	return false;
}

void tern_launch_doorbell(struct tern_dev *dev, unsigned int c, uint32_t tail,
			  uint64_t offset)
{
	struct tern_launch_ring *r = &dev->cr[c];
	char why[128];

	if (dev->ops->trace_doorbell)
		dev->ops->trace_doorbell(dev->opaque, TERN_ERR_QUEUE_CORE(c),
					 tail);
	if (r->state == TERN_Q_STATE_DISABLED) {
		snprintf(why, sizeof(why), "doorbell tail %" PRIu32 " on a "
			 "disabled launch ring", tail);
		tern_device_error(dev, TERN_ERR_QUEUE_CORE(c), tail,
				  TERN_ERR_DOORBELL, offset, 0, why);
	} else if (tail >= r->size) {
		snprintf(why, sizeof(why), "doorbell tail %" PRIu32 " out of "
			 "range for a ring of %" PRIu32 " entries", tail,
			 r->size);
		tern_device_error(dev, TERN_ERR_QUEUE_CORE(c), tail,
				  TERN_ERR_DOORBELL, offset, 0, why);
	} else {
		r->tail = tail;
		pthread_cond_signal(&r->wake);
	}
}

void tern_launch_reset_begin(struct tern_dev *dev)
{
	for (unsigned int c = 0; c < dev->cfg.cores; c++) {
		atomic_store(&dev->cr[c].abandon, true);
		atomic_store(&dev->cr[c].cancel, true);
	}
}

void tern_launch_wait_idle(struct tern_dev *dev)
{
	for (unsigned int c = 0; c < dev->cfg.cores; c++)
		while (dev->cr[c].inflight)
			pthread_cond_wait(&dev->idle, &dev->lock);
}

void tern_launch_ring_clear(struct tern_launch_ring *r)
{
	r->prog_base = 0;
	r->prog_size = 0;
	r->base = 0;
	r->size = 0;
	r->in_hbm = false;
	r->state = TERN_Q_STATE_DISABLED;
	r->head = 0;
	r->tail = 0;
	r->error = TERN_ERR_NONE;
	r->completed = 0;
	r->fault_addr = 0;
	r->fault_info = 0;
}

void tern_launch_reset_state(struct tern_dev *dev)
{
	for (unsigned int c = 0; c < TERN_MAX_CORES; c++) {
		struct tern_launch_ring *r = &dev->cr[c];

		tern_launch_ring_clear(r);
		atomic_store(&r->cancel, false);
		atomic_store(&r->abandon, false);
	}
	dev->core_done = 0;
}

/* ---- life cycle ---- */

bool tern_launch_init(struct tern_dev *dev, char *err, size_t errlen)
{
	uint64_t sbuf = dev->cfg.sbuf_size;

	for (unsigned int c = 0; c < dev->cfg.cores; c++) {
		struct tern_launch_ring *r = &dev->cr[c];

		r->dev = dev;
		r->index = c;
		pthread_cond_init(&r->wake, NULL);
		r->core = tern_core_create(dev->cfg.hbm, dev->cfg.hbm_size,
					   sbuf, err, errlen);
		if (!r->core)
			return false;
	}
	return true;
}

void tern_launch_fini(struct tern_dev *dev)
{
	for (unsigned int c = 0; c < dev->cfg.cores; c++) {
		struct tern_launch_ring *r = &dev->cr[c];

		if (r->dev)
			pthread_cond_destroy(&r->wake);
		tern_core_destroy(r->core);
		r->core = NULL;
		free(r->prog);
		r->prog = NULL;
		r->prog_cap = 0;
	}
}

int tern_launch_start_workers(struct tern_dev *dev)
{
	sigset_t old;
	int rc = 0;

	tern_block_signals(&old);
	for (unsigned int c = 0; c < dev->cfg.cores && !rc; c++) {
		rc = pthread_create(&dev->cr[c].thread, NULL, core_main,
				    &dev->cr[c]);
		dev->cr[c].started = !rc;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void tern_launch_stop_workers(struct tern_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	dev->stopping = true;
	tern_launch_reset_begin(dev);
	for (unsigned int c = 0; c < dev->cfg.cores; c++)
		if (dev->cr[c].dev)
			pthread_cond_broadcast(&dev->cr[c].wake);
	pthread_mutex_unlock(&dev->lock);
	for (unsigned int c = 0; c < dev->cfg.cores; c++)
		if (dev->cr[c].started)
			pthread_join(dev->cr[c].thread, NULL);
}
