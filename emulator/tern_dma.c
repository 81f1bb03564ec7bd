// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: the DMA engines. Each engine is a worker thread
 * that picks queues with work round robin, fetches and validates their
 * descriptors, walks SG lists, copies the data and writes fences, with
 * every address of a context != 0 translated by the device MMU (tern_mmu.c)
 * page run by page run. LINK_COPY and reduce on arrival are in tern_link.c.
 * Errors are reported through tern_model.c. See tern_model_int.h for the locking rules
 * and Documentation/chip/spec.rst for the guest-visible behaviour.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setname_np */
#endif

#include "tern_model_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static bool queue_aborted(struct tern_queue *q)
{
	return atomic_load_explicit(&q->abort, memory_order_relaxed);
}

/* ---- descriptor processing (worker, without the lock) ---- */

static void decode_desc(const uint8_t *raw, struct tern_dma_desc *d)
{
	d->opcode = get_le32(raw + 0);
	d->flags = get_le32(raw + 4);
	d->src = get_le64(raw + 8);
	d->dst = get_le64(raw + 16);
	d->size = get_le64(raw + 24);
	d->fence_addr = get_le64(raw + 32);
	d->fence_value = get_le64(raw + 40);
	if (d->flags & TERN_DESC_F_OPERAND) {
		d->operand = get_le64(raw + 48);
	} else {
		d->src_sgl_count = get_le32(raw + 48);
		d->dst_sgl_count = get_le32(raw + 52);
	}
	d->ctx = get_le32(raw + 56);
	d->link = get_le32(raw + 60);
}

#define F_HBM_DATA	(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM)
#define F_PHYS_ANY	(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM | \
			 TERN_DESC_F_FENCE_HBM | TERN_DESC_F_FENCE_PHYS)

/*
 * The context checks: qctx is the queue's Q_CTX; *ctx gets the context of
 * the descriptor's addresses (0: physical).
 */
static uint32_t validate_ctx(struct tern_dev *dev,
			     const struct tern_dma_desc *d, uint32_t qctx,
			     uint64_t daddr, uint32_t *ctx, struct fault *f)
{
	uint32_t hbm_data = d->opcode == TERN_DESC_OP_LINK_COPY ?
			    TERN_DESC_F_SRC_HBM : F_HBM_DATA;
	uint64_t va;

	if (qctx) {
		if (d->ctx)
			return tern_fail(f, TERN_ERR_RESERVED, daddr,
				    "ctx field is %" PRIu32 " on the user-mode "
				    "queue of context %" PRIu32 " (must be 0)",
				    d->ctx, qctx);
		if (d->flags & F_PHYS_ANY)
			return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
				    "flags 0x%" PRIx32 " (HBM or PHYS) on the "
				    "user-mode queue of context %" PRIu32,
				    d->flags & F_PHYS_ANY, qctx);
		*ctx = qctx;
		return 0;	/* the ring fetch proved the context usable */
	}
	*ctx = d->ctx;
	if (!d->ctx) {
		if (d->flags & TERN_DESC_F_FENCE_PHYS)
			return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
				    "FENCE_PHYS with ctx 0");
		return 0;
	}
	/* a LINK_COPY's DST_HBM is about the peer's address */
	if (d->flags & hbm_data)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "flags 0x%" PRIx32 " with ctx %" PRIu32 ": its "
			    "addresses are VAs", d->flags & hbm_data,
			    d->ctx);
	if ((d->flags & TERN_DESC_F_FENCE_HBM) &&
	    !(d->flags & TERN_DESC_F_FENCE_PHYS))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_HBM with ctx %" PRIu32 " needs FENCE_PHYS",
			    d->ctx);
	if (!tern_mmu_ctx_ok(dev, d->ctx)) {
		va = d->opcode != TERN_DESC_OP_NOP ? d->src :
		     (d->flags & TERN_DESC_F_FENCE) &&
		     !(d->flags & TERN_DESC_F_FENCE_PHYS) ? d->fence_addr : 0;
		return tern_mmu_fail(f, d->ctx, va, false,
				     TERN_FAULT_BAD_CONTEXT, "descriptor");
	}
	return 0;
}

/* Every field check that needs no memory access. */
static uint32_t validate_desc(struct tern_dev *dev,
			      const struct tern_dma_desc *d, uint32_t qctx,
			      uint64_t daddr, uint32_t *ctx, struct fault *f)
{
	const uint32_t sgl = TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL;
	uint32_t err;

	if (d->opcode != TERN_DESC_OP_NOP && d->opcode != TERN_DESC_OP_COPY &&
	    d->opcode != TERN_DESC_OP_LINK_COPY)
		return tern_fail(f, TERN_ERR_BAD_OPCODE, daddr,
			    "unknown opcode 0x%" PRIx32, d->opcode);
	if (d->flags & ~TERN_DESC_F_ALL)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "unknown flags 0x%" PRIx32,
			    d->flags & ~TERN_DESC_F_ALL);
	if ((d->flags & sgl) && d->opcode != TERN_DESC_OP_COPY)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "SGL flags 0x%" PRIx32 " on a non-COPY descriptor",
			    d->flags & sgl);
	if ((d->flags & TERN_DESC_F_FENCE_HBM) &&
	    !(d->flags & TERN_DESC_F_FENCE))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_HBM without FENCE");
	if ((d->flags & TERN_DESC_F_FENCE_PHYS) &&
	    !(d->flags & TERN_DESC_F_FENCE))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_PHYS without FENCE");
	err = tern_link_validate(dev, d, qctx, daddr, f);
	if (err)
		return err;
	err = validate_ctx(dev, d, qctx, daddr, ctx, f);
	if (err)
		return err;
	/* with OPERAND, bytes 48..55 are the operand (tern_link_validate()) */
	if (!(d->flags & TERN_DESC_F_OPERAND) && d->src_sgl_count &&
	    !(d->flags & TERN_DESC_F_SRC_SGL))
		return tern_fail(f, TERN_ERR_SGL, d->src,
			    "src_sgl_count %" PRIu32 " without SRC_SGL",
			    d->src_sgl_count);
	if (!(d->flags & TERN_DESC_F_OPERAND) && d->dst_sgl_count &&
	    !(d->flags & TERN_DESC_F_DST_SGL))
		return tern_fail(f, TERN_ERR_SGL, d->dst,
			    "dst_sgl_count %" PRIu32 " without DST_SGL",
			    d->dst_sgl_count);
	if ((d->flags & TERN_DESC_F_FENCE_HBM) &&
	    !hbm_range_ok(dev, d->fence_addr, 8))
		return tern_fail(f, TERN_ERR_FENCE, d->fence_addr,
			    "HBM fence at 0x%" PRIx64 " outside the HBM",
			    d->fence_addr);
	return 0;
}

/* [va, va + len) inside the VA space? Else an MMU RANGE fault. */
static uint32_t va_range(const struct copy_side *s, uint64_t va, uint64_t len,
			 bool write, const char *what, struct fault *f)
{
	if (len && (va >= TERN_VA_LIMIT || len > TERN_VA_LIMIT - va))
		return tern_mmu_fail(f, s->ctx, va < TERN_VA_LIMIT ?
				     TERN_VA_LIMIT : va, write,
				     TERN_FAULT_RANGE, what);
	return 0;
}

static uint32_t side_init(struct tern_dev *dev, struct copy_side *s,
			  const char *what, uint32_t ctx, bool hbm, bool sgl,
			  uint64_t addr, uint32_t count, uint64_t size,
			  struct fault *f)
{
	s->what = what;
	s->write = what[0] == 'd';
	s->ctx = ctx;
	s->hbm = hbm;
	s->sgl = sgl;
	s->batch_n = 0;
	s->batch_first = 0;
	if (!sgl) {
		s->addr = addr;
		s->left = size;
		s->count = 0;
		s->next = 0;
		if (ctx)
			return va_range(s, addr, size, s->write, what, f);
		if (hbm && !hbm_range_ok(dev, addr, size))
			return tern_fail(f, TERN_ERR_HBM_RANGE, addr,
				    "%s HBM range 0x%" PRIx64 "+0x%" PRIx64
				    " outside the HBM", what, addr, size);
		if (!hbm && !no_wrap(addr, size))
			return tern_fail(f, TERN_ERR_HOST_DMA, addr,
				    "%s host range 0x%" PRIx64 "+0x%" PRIx64
				    " wraps", what, addr, size);
		return 0;
	}
	s->list = addr;
	s->count = count;
	s->next = 0;
	s->addr = 0;
	s->left = 0;
	if (count == 0 || count > TERN_SGL_MAX_ENTRIES)
		return tern_fail(f, TERN_ERR_SGL, addr,
			    "%s SG list has %" PRIu32 " entries (1..%u "
			    "allowed)", what, count, TERN_SGL_MAX_ENTRIES);
	if (!no_wrap(addr, (uint64_t)count * SG_ENTRY_SIZE))
		return tern_fail(f, TERN_ERR_SGL, addr,
			    "%s SG list at 0x%" PRIx64 " wraps", what, addr);
	if (ctx)
		return va_range(s, addr, (uint64_t)count * SG_ENTRY_SIZE,
				false, s->write ? "dst SG list" :
				"src SG list", f);
	return 0;
}

/* Load and check the next SG entry of s as the current segment. */
static uint32_t side_next(struct tern_engine *e, struct copy_side *s,
			  uint64_t size, struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint64_t ea, addr, len;
	const uint8_t *p;

	if (s->next >= s->count)
		return tern_fail(f, TERN_ERR_SGL, s->list,
			    "%s SG list of %" PRIu32 " entries is shorter than "
			    "the size 0x%" PRIx64, s->what, s->count, size);
	if (s->next < s->batch_first ||
	    s->next >= s->batch_first + s->batch_n) {
		uint32_t n = s->count - s->next;

		if (n > SG_BATCH)
			n = SG_BATCH;
		ea = s->list + (uint64_t)s->next * SG_ENTRY_SIZE;
		if (s->ctx) {
			uint32_t err = tern_mmu_read(
				dev, &e->tlb, s->ctx, ea, s->batch,
				(size_t)n * SG_ENTRY_SIZE,
				s->write ? "dst SG list" : "src SG list", f);

			if (err)
				return err;
		} else if (!dev->ops->dma_read(dev->opaque, ea, s->batch,
					       (size_t)n * SG_ENTRY_SIZE))
			return tern_fail(f, TERN_ERR_HOST_DMA, ea,
				    "cannot read %s SG entries at 0x%" PRIx64,
				    s->what, ea);
		s->batch_first = s->next;
		s->batch_n = n;
	}
	p = s->batch + (size_t)(s->next - s->batch_first) * SG_ENTRY_SIZE;
	addr = get_le64(p);
	len = get_le64(p + 8);
	ea = s->list + (uint64_t)s->next * SG_ENTRY_SIZE;
	if (len == 0)
		return tern_fail(f, TERN_ERR_SGL, ea,
			    "%s SG entry %" PRIu32 " has size 0", s->what,
			    s->next);
	if (s->ctx) {
		uint32_t err = va_range(s, addr, len, s->write, s->what, f);

		if (err)
			return err;
	} else if (s->hbm && !hbm_range_ok(dev, addr, len))
		return tern_fail(f, TERN_ERR_HBM_RANGE, addr,
			    "%s SG entry %" PRIu32 ": HBM range 0x%" PRIx64
			    "+0x%" PRIx64 " outside the HBM", s->what, s->next,
			    addr, len);
	if (!s->hbm && !no_wrap(addr, len))
		return tern_fail(f, TERN_ERR_HOST_DMA, addr,
			    "%s SG entry %" PRIu32 ": host range 0x%" PRIx64
			    "+0x%" PRIx64 " wraps", s->what, s->next, addr,
			    len);
	s->addr = addr;
	s->left = len;
	s->next++;
	return 0;
}

/* A physical piece of a side: host bus address or HBM offset. */
struct seg {
	uint64_t addr;
	bool hbm;
};

/*
 * The physical piece at the current address of side c: *n is trimmed to
 * the run of contiguous pages there.
 */
static uint32_t resolve(struct tern_engine *e, const struct copy_side *c,
			uint64_t *n, struct seg *p, struct fault *f)
{
	struct tern_xlate x;
	uint32_t err;

	if (!c->ctx) {
		p->addr = c->addr;
		p->hbm = c->hbm;
		return 0;
	}
	err = tern_mmu_run(e->dev, &e->tlb, c->ctx, c->addr, *n, c->write, &x,
			   c->what, f);
	if (err)
		return err;
	p->addr = x.pa;
	p->hbm = tern_pte_hbm(x.pte);
	*n = x.len;
	return 0;
}

/*
 * Move n <= TERN_DMA_CHUNK bytes from the physical piece s to d; on a host
 * DMA failure *bad says which (0: s, 1: d).
 */
static uint32_t move_bytes(struct tern_engine *e, const struct seg *s,
			   const struct seg *d, uint64_t n, int *bad,
			   struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint8_t *hbm = dev->cfg.hbm;
	void *o = dev->opaque;
	uint32_t err;

	if (s->hbm && (err = tern_ras_check(dev, s->addr, n, "copy source", f)))
		return err;
	if (s->hbm && d->hbm) {
		memmove(hbm + d->addr, hbm + s->addr, n);
		tern_ras_write(dev, d->addr, n);
		return 0;
	}
	if (d->hbm) {
		if (!dev->ops->dma_read(o, s->addr, hbm + d->addr, n))
			goto bad_src;
		tern_ras_write(dev, d->addr, n);
		return 0;
	}
	if (s->hbm) {
		if (!dev->ops->dma_write(o, d->addr, hbm + s->addr, n))
			goto bad_dst;
		return 0;
	}
	if (!dev->ops->dma_read(o, s->addr, e->bounce, n))
		goto bad_src;
	if (!dev->ops->dma_write(o, d->addr, e->bounce, n))
		goto bad_dst;
	return 0;
bad_src:
	*bad = 0;
	return tern_fail(f, TERN_ERR_HOST_DMA, s->addr,
		    "cannot read src host memory 0x%" PRIx64 "+0x%" PRIx64,
		    s->addr, n);
bad_dst:
	*bad = 1;
	return tern_fail(f, TERN_ERR_HOST_DMA, d->addr,
		    "cannot write dst host memory 0x%" PRIx64 "+0x%" PRIx64,
		    d->addr, n);
}

/* HBM to HBM without SG lists: correct for overlapping ranges too. */
static uint32_t copy_hbm_flat(struct tern_engine *e, struct tern_queue *q,
			      const struct tern_dma_desc *d, struct fault *f)
{
	unsigned int qn = (unsigned int)(q - e->dev->q);
	uint8_t *hbm = e->dev->cfg.hbm;
	bool backward = d->dst > d->src && d->dst - d->src < d->size;
	uint64_t done = 0;

	while (done < d->size) {
		uint64_t n = min_u64(d->size - done, TERN_DMA_CHUNK);
		uint64_t off = backward ? d->size - done - n : done;

		uint32_t err;

		if (queue_aborted(q))
			return ERR_ABORTED;
		err = tern_ras_check(e->dev, d->src + off, n, "copy source", f);
		if (err)
			return err;
		memmove(hbm + d->dst + off, hbm + d->src + off, n);
		tern_ras_write(e->dev, d->dst + off, n);
		tern_telem_bytes(e->dev, e->index, qn, TERN_TELEM_D2D, n);
		done += n;
	}
	return 0;
}

static uint32_t do_copy(struct tern_engine *e, struct tern_queue *q,
			const struct tern_dma_desc *d, uint32_t ctx,
			struct fault *f)
{
	struct copy_side *s = &e->side[0], *t = &e->side[1];
	unsigned int qn = (unsigned int)(q - e->dev->q);
	uint64_t left = d->size;
	uint32_t err;

	err = side_init(e->dev, s, "src", ctx, d->flags & TERN_DESC_F_SRC_HBM,
			d->flags & TERN_DESC_F_SRC_SGL, d->src,
			d->src_sgl_count, d->size, f);
	if (!err)
		err = side_init(e->dev, t, "dst", ctx,
				d->flags & TERN_DESC_F_DST_HBM,
				d->flags & TERN_DESC_F_DST_SGL, d->dst,
				d->dst_sgl_count, d->size, f);
	if (err)
		return err;
	if (!ctx && s->hbm && t->hbm && !s->sgl && !t->sgl)
		return copy_hbm_flat(e, q, d, f);

	while (left) {
		struct seg ps, pt;
		int bad = 0;
		uint64_t n;

		if (queue_aborted(q))
			return ERR_ABORTED;
		if (!s->left && (err = side_next(e, s, d->size, f)))
			return err;
		if (!t->left && (err = side_next(e, t, d->size, f)))
			return err;
		n = min_u64(min_u64(left, TERN_DMA_CHUNK),
			    min_u64(s->left, t->left));
		err = resolve(e, s, &n, &ps, f);
		if (!err)
			err = resolve(e, t, &n, &pt, f);
		if (err)
			return err;
		err = move_bytes(e, &ps, &pt, n, &bad, f);
		/* the piece has landed: an invalidation may return */
		tern_mmu_unpin(&e->tlb);
		if (err == TERN_ERR_HOST_DMA && ctx) {
			/* a mapped host page that is not guest RAM */
			const struct copy_side *c = bad ? t : s;

			return tern_mmu_fail(f, ctx, c->addr, c->write,
					     TERN_FAULT_RANGE, c->what);
		}
		if (err)
			return err;
		/* classified after translation: each piece on its own */
		tern_telem_bytes(e->dev, e->index, qn,
				 tern_telem_dir_of(ps.hbm, pt.hbm), n);
		s->addr += n;
		s->left -= n;
		t->addr += n;
		t->left -= n;
		left -= n;
	}
	/* Entries past the size are never used but must still be valid. */
	for (int i = 0; i < 2; i++) {
		struct copy_side *c = &e->side[i];

		while (c->sgl && c->next < c->count) {
			if (queue_aborted(q))
				return ERR_ABORTED;
			err = side_next(e, c, d->size, f);
			if (err)
				return err;
		}
	}
	return 0;
}

static uint32_t write_fence(struct tern_engine *e,
			    const struct tern_dma_desc *d, uint32_t ctx,
			    struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint8_t v[8];

	put_le64(v, d->fence_value);
	/* The fence must not be seen before the data it stands for. */
	if (ctx && !(d->flags & TERN_DESC_F_FENCE_PHYS))
		return tern_mmu_write(dev, &e->tlb, ctx, d->fence_addr, v, 8,
				      "fence", f);
	if (!tern_put_phys(dev, d->flags & TERN_DESC_F_FENCE_HBM,
			   d->fence_addr, v, 8))
		return tern_fail(f, TERN_ERR_FENCE, d->fence_addr,
			    "cannot write the fence at host 0x%" PRIx64,
			    d->fence_addr);
	return 0;
}

struct ring {
	uint64_t base;
	uint32_t size;
	bool in_hbm;
	uint32_t ctx;		/* Q_CTX */
	bool abort;		/* injected: this descriptor aborts */
	bool lost;		/* injected: its completion is lost */
};

/* Run descriptor idx of queue qn; returns 0, a TERN_ERR_* or ERR_ABORTED. */
static uint32_t run_desc(struct tern_engine *e, unsigned int qn,
			 const struct ring *r, uint32_t idx, bool *irq,
			 struct fault *f)
{
	struct tern_dev *dev = e->dev;
	struct tern_queue *q = &dev->q[qn];
	uint64_t daddr = r->base + (uint64_t)idx * TERN_DESC_SIZE;
	uint8_t raw[TERN_DESC_SIZE];
	struct tern_dma_desc d;
	uint32_t err, ctx = 0;

	if (r->ctx) {
		err = tern_mmu_read(dev, &e->tlb, r->ctx, daddr, raw,
				    sizeof(raw), "ring", f);
		if (err)
			return err;
	} else if (r->in_hbm) {
		err = tern_ras_check(dev, daddr, sizeof(raw), "descriptor", f);
		if (err)
			return err;
		memcpy(raw, dev->cfg.hbm + daddr, sizeof(raw));
	} else if (!dev->ops->dma_read(dev->opaque, daddr, raw, sizeof(raw)))
		return tern_fail(f, TERN_ERR_RING_FETCH, daddr,
			    "cannot fetch the descriptor at 0x%" PRIx64, daddr);
	decode_desc(raw, &d);
	if (dev->ops->trace_dma_start)
		dev->ops->trace_dma_start(dev->opaque, e->index, qn, idx, &d);

	err = validate_desc(dev, &d, r->ctx, daddr, &ctx, f);
	if (err)
		return err;
	if (r->abort)
		return tern_fail(f, TERN_ERR_DMA_ABORT, daddr, "the DMA engine "
			    "aborted the transfer (injected fault)");
	if (d.opcode == TERN_DESC_OP_COPY &&
	    (d.flags & (TERN_DESC_F_REDUCE_SUM | TERN_DESC_F_REDUCE_MAX)))
		err = tern_reduce_copy(e, q, &d, ctx, f);
	else if (d.opcode == TERN_DESC_OP_COPY)
		err = do_copy(e, q, &d, ctx, f);
	else if (d.opcode == TERN_DESC_OP_LINK_COPY)
		err = tern_link_copy(e, q, &d, ctx, f);
	if (err)
		return err;
	if ((d.flags & TERN_DESC_F_FENCE) && !r->lost) {
		if (queue_aborted(q))
			return ERR_ABORTED;
		err = write_fence(e, &d, ctx, f);
		if (err)
			return err;
	}
	*irq = d.flags & TERN_DESC_F_IRQ;
	return 0;
}

/* Next queue of this engine with work, round robin (lock held). */
static unsigned int pick_queue(struct tern_engine *e)
{
	struct tern_dev *dev = e->dev;
	unsigned int ne = dev->cfg.dma_engines;
	unsigned int n;

	if (dev->resetting || e->index >= dev->cfg.queues)
		return TERN_MAX_QUEUES;
	n = (dev->cfg.queues - e->index + ne - 1) / ne;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int k = (e->rr + i) % n;
		unsigned int qn = e->index + k * ne;
		struct tern_queue *q = &dev->q[qn];

		if (q->state == TERN_Q_STATE_ACTIVE && !q->quiesce &&
		    !queue_aborted(q) && q->head != q->tail) {
			e->rr = (k + 1) % n;
			return qn;
		}
	}
	return TERN_MAX_QUEUES;
}

/* Account for a finished descriptor of engine en (lock held). */
static void finish_desc(struct tern_dev *dev, unsigned int en, unsigned int qn,
			const struct ring *r, uint32_t idx, uint32_t err,
			bool irq, const struct fault *f)
{
	struct tern_queue *q = &dev->q[qn];

	if (dev->ops->trace_dma_done)
		dev->ops->trace_dma_done(dev->opaque, qn, idx, err);
	if (err == ERR_ABORTED || queue_aborted(q))
		return;
	tern_telem_desc(dev, en, qn, !err);
	if (err == TERN_ERR_DMA_ABORT && r->abort) {
		dev->ras.dma_abort &= ~(1ull << qn);
		tern_ras_count(dev);
	}
	if (!err && r->lost) {
		dev->ras.lost_queue &= ~(1ull << qn);
		tern_ras_count(dev);
		irq = false;	/* no fence was written either */
	}
	if (err) {
		q->state = TERN_Q_STATE_HALTED;
		q->error = err;
		q->head = idx;
		if (err == TERN_ERR_MMU_FAULT) {
			q->fault_addr = f->addr;
			q->fault_info = f->info;
		}
		tern_trace_state(dev, qn);
		tern_device_error(dev, qn, idx, err, f->addr, f->info, f->why);
		return;
	}
	q->head = (idx + 1) & (r->size - 1);
	q->completed++;
	if (irq) {
		dev->qdone |= 1ull << qn;
		tern_send_irq(dev, TERN_MSIX_VEC_QUEUE(qn),
			      dev->int_mask & TERN_INT_QUEUE);
	}
}

static void *worker_main(void *arg)
{
	struct tern_engine *e = arg;
	struct tern_dev *dev = e->dev;

#ifdef __GLIBC__
	{
		char tname[16];

		snprintf(tname, sizeof(tname), "tern-dma%u", e->index);
		pthread_setname_np(pthread_self(), tname);
	}
#endif
	if (dev->ops->worker_init)
		dev->ops->worker_init(dev->opaque, e->index);

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		unsigned int qn = pick_queue(e);
		struct tern_queue *q;
		struct fault f;
		struct ring r;
		bool irq = false;
		uint32_t idx, err;

		if (qn == TERN_MAX_QUEUES) {
			pthread_cond_wait(&e->wake, &dev->lock);
			continue;
		}
		q = &dev->q[qn];
		r.base = q->base;
		r.size = q->size;
		r.in_hbm = q->in_hbm;
		r.ctx = q->ctx;
		r.abort = dev->ras.dma_abort & (1ull << qn);
		r.lost = dev->ras.lost_queue & (1ull << qn);
		idx = q->head;
		q->inflight = true;
		pthread_mutex_unlock(&dev->lock);

		tern_telem_dma_begin(dev, e->index);
		err = run_desc(e, qn, &r, idx, &irq, &f);
		tern_telem_dma_end(dev, e->index);
		/* a fault may leave a translation pinned */
		tern_mmu_unpin(&e->tlb);
		tern_mmu_unpin(&e->peer_tlb);

		pthread_mutex_lock(&dev->lock);
		q->inflight = false;
		finish_desc(dev, e->index, qn, &r, idx, err, irq, &f);
		pthread_cond_broadcast(&dev->idle);
	}
	pthread_mutex_unlock(&dev->lock);

	if (dev->ops->worker_exit)
		dev->ops->worker_exit(dev->opaque, e->index);
	return NULL;
}

/* ---- worker threads ---- */

void tern_dma_wake(struct tern_dev *dev, unsigned int qn)
{
	pthread_cond_signal(&dev->eng[qn % dev->cfg.dma_engines].wake);
}

/*
 * Workers take no asynchronous signals: the embedder's threads handle them
 * (QEMU blocks them in its own threads the same way). Threads created until
 * the mask is restored from *old inherit this.
 */
void tern_block_signals(sigset_t *old)
{
	sigset_t block;

	sigfillset(&block);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	pthread_sigmask(SIG_SETMASK, &block, old);
}

int tern_dma_start_workers(struct tern_dev *dev)
{
	sigset_t old;
	int rc = 0;

	tern_block_signals(&old);
	for (unsigned int i = 0; i < dev->cfg.dma_engines && !rc; i++) {
		rc = pthread_create(&dev->eng[i].thread, NULL, worker_main,
				    &dev->eng[i]);
		dev->eng[i].started = !rc;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void tern_dma_stop_workers(struct tern_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	dev->stopping = true;
	for (unsigned int i = 0; i < TERN_MAX_QUEUES; i++)
		atomic_store(&dev->q[i].abort, true);
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++)
		pthread_cond_broadcast(&dev->eng[i].wake);
	pthread_mutex_unlock(&dev->lock);
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++)
		if (dev->eng[i].started)
			pthread_join(dev->eng[i].thread, NULL);
}
