// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: the flat transfers of a DMA engine that go
 * beyond a plain copy. LINK_COPY moves local data (read exactly like a
 * COPY's source) into the HBM of the chip at the other end of a link
 * port, physical or through the peer's MMU context; reduce on arrival
 * (LINK_COPY, and COPY without SG lists) combines each destination element
 * with the source one (sum or max, fp32 or bf16). Data moves in chunks of
 * at most TERN_DMA_CHUNK bytes; between chunks the engine checks for a
 * reset and for the link going down, and paces itself to the link's
 * modeled bandwidth. See tern_fabric.h and Documentation/chip/spec.rst.
 */
#include "tern_model_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define F_REDUCE	(TERN_DESC_F_REDUCE_SUM | TERN_DESC_F_REDUCE_MAX)

/* ---- reduce kernels ---- */

/*
 * Element types that may alias the byte buffers they are read from. The
 * main loops work on blocks of a fixed count with restrict pointers, so
 * that gcc vectorizes them at -O2 (no run-time alias checks, no epilogue);
 * overlapping ranges take the plain loop, which is exactly sequential.
 */
typedef float __attribute__((may_alias)) f32a;
typedef uint16_t __attribute__((may_alias)) u16a;

#define BLK	64	/* elements per vectorized block */

static inline float max_f32(float d, float s)
{
	/* NaN wins: the destination's if it is one, else the source's */
	return (s > d || (s != s && d == d)) ? s : d;
}

static inline float bf_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* Round to nearest even; a NaN becomes the quiet NaN with its sign. */
static inline uint16_t bf_from_f32(float f)
{
	uint32_t u, r, nan;

	memcpy(&u, &f, 4);
	r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
	nan = ((u >> 16) & 0x8000u) | 0x7fc0u;
	return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : r);
}

#define OP_SUM_F32(x, y)	((x) + (y))
#define OP_MAX_F32(x, y)	max_f32(x, y)
#define OP_SUM_BF16(x, y)	bf_from_f32(bf_to_f32(x) + bf_to_f32(y))
#define OP_MAX_BF16(x, y)	bf_from_f32(max_f32(bf_to_f32(x), bf_to_f32(y)))

/*
 * name(d, s, n, overlap): d[i] = OP(d[i], s[i]); name##3(d, a, s, n,
 * overlap): d[i] = OP(a[i], s[i]) (a must not be d).
 */
#define REDUCE_FNS(name, T, OP)						\
static void name##_blk(T *restrict d, const T *restrict s)		\
{									\
	for (unsigned int i = 0; i < BLK; i++)				\
		d[i] = OP(d[i], s[i]);					\
}									\
static void name##_seq(T *d, const T *s, size_t n)			\
{									\
	for (size_t i = 0; i < n; i++)					\
		d[i] = OP(d[i], s[i]);					\
}									\
static void name(T *d, const T *s, size_t n, bool overlap)		\
{									\
	size_t i = 0;							\
									\
	if (!overlap)							\
		for (; i + BLK <= n; i += BLK)				\
			name##_blk(d + i, s + i);			\
	name##_seq(d + i, s + i, n - i);				\
}									\
static void name##3_blk(T *restrict d, const T *restrict a,		\
			const T *restrict s)				\
{									\
	for (unsigned int i = 0; i < BLK; i++)				\
		d[i] = OP(a[i], s[i]);					\
}									\
static void name##3_seq(T *d, const T *a, const T *s, size_t n)	\
{									\
	for (size_t i = 0; i < n; i++)					\
		d[i] = OP(a[i], s[i]);					\
}									\
static void name##3(T *d, const T *a, const T *s, size_t n,		\
		    bool overlap)					\
{									\
	size_t i = 0;							\
									\
	if (!overlap)							\
		for (; i + BLK <= n; i += BLK)				\
			name##3_blk(d + i, a + i, s + i);		\
	name##3_seq(d + i, a + i, s + i, n - i);			\
}

REDUCE_FNS(sum_f32, f32a, OP_SUM_F32)
REDUCE_FNS(max_f32v, f32a, OP_MAX_F32)
REDUCE_FNS(sum_bf16, u16a, OP_SUM_BF16)
REDUCE_FNS(max_bf16, u16a, OP_MAX_BF16)

static bool overlaps(const uint8_t *x, const uint8_t *y, size_t n)
{
	return x < y + n && y < x + n;
}

/*
 * dst = op(opnd, src) over n bytes (a multiple of the element size); with
 * no operand (NULL) or the destination as operand, dst = op(dst, src).
 */
static void reduce(uint32_t flags, uint8_t *dst, const uint8_t *opnd,
		   const uint8_t *src, size_t n)
{
	bool bf16 = flags & TERN_DESC_F_BF16, sum = flags & TERN_DESC_F_REDUCE_SUM;
	bool overlap = overlaps(dst, src, n);
	size_t k = n / (bf16 ? 2 : 4);
	u16a *d16 = (u16a *)(void *)dst;
	f32a *d32 = (f32a *)(void *)dst;
	const u16a *s16 = (const u16a *)(const void *)src;
	const f32a *s32 = (const f32a *)(const void *)src;

	if (opnd && opnd != dst) {
		const u16a *a16 = (const u16a *)(const void *)opnd;
		const f32a *a32 = (const f32a *)(const void *)opnd;

		overlap = overlap || overlaps(dst, opnd, n);
		if (bf16 && sum)
			sum_bf163(d16, a16, s16, k, overlap);
		else if (bf16)
			max_bf163(d16, a16, s16, k, overlap);
		else if (sum)
			sum_f323(d32, a32, s32, k, overlap);
		else
			max_f32v3(d32, a32, s32, k, overlap);
		return;
	}
	if (bf16 && sum)
		sum_bf16(d16, s16, k, overlap);
	else if (bf16)
		max_bf16(d16, s16, k, overlap);
	else if (sum)
		sum_f32(d32, s32, k, overlap);
	else
		max_f32v(d32, s32, k, overlap);
}

/* ---- the two ends of a flat transfer ---- */

struct end {
	struct tern_dev *dev;	/* whose memory: this chip or the peer */
	struct tern_tlb *tlb;	/* translations of dev's contexts */
	const char *what;	/* "src", "dst", "peer dst" */
	uint32_t ctx;		/* 0: physical */
	uint64_t perm;		/* TERN_PTE_READ/WRITE the pages need */
	bool hbm;		/* ctx 0: an HBM offset, else a host address */
	bool need_hbm;		/* ctx != 0: pages must map dev's HBM */
	bool write;
	uint64_t addr;
};

/* A physical piece. */
struct piece {
	uint64_t addr;
	bool hbm;
};

/* The range [addr, addr + size) of the end is addressable. */
static uint32_t end_check(const struct end *x, uint64_t size, struct fault *f)
{
	if (x->ctx) {
		if (size && (x->addr >= TERN_VA_LIMIT ||
			     size > TERN_VA_LIMIT - x->addr))
			return tern_mmu_fail(f, x->ctx, x->addr < TERN_VA_LIMIT ?
					     TERN_VA_LIMIT : x->addr, x->write,
					     TERN_FAULT_RANGE, x->what);
		if (!tern_mmu_ctx_ok(x->dev, x->ctx))
			return tern_mmu_fail(f, x->ctx, x->addr, x->write,
					     TERN_FAULT_BAD_CONTEXT, x->what);
		return 0;
	}
	if (x->hbm && !hbm_range_ok(x->dev, x->addr, size))
		return tern_fail(f, TERN_ERR_HBM_RANGE, x->addr,
			    "%s HBM range 0x%" PRIx64 "+0x%" PRIx64 " outside "
			    "the HBM of %s (0x%" PRIx64 " bytes)", x->what,
			    x->addr, size, x->dev->name, x->dev->cfg.hbm_size);
	if (!x->hbm && !no_wrap(x->addr, size))
		return tern_fail(f, TERN_ERR_HOST_DMA, x->addr,
			    "%s host range 0x%" PRIx64 "+0x%" PRIx64 " wraps",
			    x->what, x->addr, size);
	return 0;
}

/* Is the page of a translation acceptable to the end? Else a reason. */
static uint32_t page_ok(const struct end *x, uint64_t pte)
{
	if ((pte & x->perm) != x->perm)
		return TERN_FAULT_PERMISSION;
	if (x->need_hbm && !tern_pte_hbm(pte))
		return TERN_FAULT_RANGE;	/* host memory: not over a link */
	return 0;
}

/* The physical piece at the end's address; *n trimmed to its run. */
static uint32_t resolve(const struct end *x, uint64_t *n, struct piece *p,
			struct fault *f)
{
	struct tern_xlate t, u;
	uint32_t reason;

	if (!x->ctx) {
		p->addr = x->addr;
		p->hbm = x->hbm;
		return 0;
	}
	reason = tern_mmu_translate(x->dev, x->tlb, x->ctx, x->addr, &t);
	if (!reason)
		reason = page_ok(x, t.pte);
	if (reason)
		return tern_mmu_fail(f, x->ctx, x->addr, x->write, reason,
				     x->what);
	while (t.len < *n) {
		uint64_t next = x->addr + t.len;

		if (tern_mmu_translate(x->dev, x->tlb, x->ctx, next, &u) ||
		    page_ok(x, u.pte) ||
		    tern_pte_hbm(u.pte) != tern_pte_hbm(t.pte) ||
		    u.pa != t.pa + t.len)
			break;	/* a fault there is reported when reached */
		t.len += u.len;
	}
	if (t.len < *n)
		*n = t.len;
	p->addr = t.pa;
	p->hbm = tern_pte_hbm(t.pte);
	return 0;
}

/* A host access of an end failed: a fault through a context, else DMA. */
static uint32_t host_fail(const struct end *x, uint64_t pa, uint64_t n,
			  struct fault *f)
{
	if (x->ctx)	/* a mapped host page that is not guest RAM */
		return tern_mmu_fail(f, x->ctx, x->addr, x->write,
				     TERN_FAULT_RANGE, x->what);
	return tern_fail(f, TERN_ERR_HOST_DMA, pa, "cannot %s %s host memory "
		    "0x%" PRIx64 "+0x%" PRIx64, x->write ? "write" : "read",
		    x->what, pa, n);
}

/*
 * Move (or reduce) n <= TERN_DMA_CHUNK bytes from piece ps to pt; with an
 * operand (o), reduce the operand's piece po (always HBM) with ps into pt.
 */
static uint32_t move(struct tern_engine *e, uint32_t flags,
		     const struct end *s, const struct piece *ps,
		     const struct end *t, const struct piece *pt,
		     const struct end *o, const struct piece *po, uint64_t n,
		     struct fault *f)
{
	struct tern_dev *sd = s->dev, *td = t->dev;
	const uint8_t *src, *opnd = o ? o->dev->cfg.hbm + po->addr : NULL;
	uint8_t *dst;

	if (!(flags & F_REDUCE)) {
		/* LINK_COPY: the destination is the peer's HBM */
		dst = td->cfg.hbm + pt->addr;
		if (ps->hbm)
			memmove(dst, sd->cfg.hbm + ps->addr, n);
		else if (!sd->ops->dma_read(sd->opaque, ps->addr, dst, n))
			return host_fail(s, ps->addr, n, f);
		return 0;
	}
	if (ps->hbm) {
		src = sd->cfg.hbm + ps->addr;
	} else {
		if (!sd->ops->dma_read(sd->opaque, ps->addr, e->bounce, n))
			return host_fail(s, ps->addr, n, f);
		src = e->bounce;
	}
	if (pt->hbm) {
		reduce(flags, td->cfg.hbm + pt->addr, opnd, src, n);
		return 0;
	}
	/* a host destination: read (unless an operand replaces it), combine, write back */
	if (!opnd && !td->ops->dma_read(td->opaque, pt->addr, e->rbuf, n))
		return host_fail(t, pt->addr, n, f);
	reduce(flags, e->rbuf, opnd, src, n);
	if (!td->ops->dma_write(td->opaque, pt->addr, e->rbuf, n))
		return host_fail(t, pt->addr, n, f);
	return 0;
}

/*
 * Move size bytes from s to t chunk by chunk. With a link (port >= 0):
 * paced, the link checked before each chunk, counted in *sent.
 */
static uint32_t xfer(struct tern_engine *e, struct tern_queue *q,
		     uint32_t flags, uint64_t size, struct end *s,
		     struct end *t, struct end *o, int port,
		     struct tern_dev *peer, unsigned int peer_port,
		     uint64_t *sent, struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint64_t left = size;
	uint32_t err;

	while (left) {
		uint64_t n = left < TERN_DMA_CHUNK ? left : TERN_DMA_CHUNK;
		struct tern_link_window w = { 0 };
		struct piece ps, pt, po = { 0 };

		if (atomic_load_explicit(&q->abort, memory_order_relaxed))
			return ERR_ABORTED;
		/*
		 * Wait for the piece's window before translating: no MMU pin
		 * is held while the engine sleeps, so an invalidation never
		 * waits for the link's pace.
		 */
		if (port >= 0 &&
		    !tern_link_window_open(dev, (unsigned int)port, n,
					   &q->abort, &w))
			return ERR_ABORTED;
		err = resolve(s, &n, &ps, f);
		if (!err)
			err = resolve(t, &n, &pt, f);
		if (!err && o)
			err = resolve(o, &n, &po, f);
		if (err)
			return err;
		if (port >= 0) {
			tern_link_window_trim(dev, (unsigned int)port, n, &w);
			if (!tern_link_up(dev, (unsigned int)port))
				return tern_fail(f, TERN_ERR_LINK_DOWN, t->addr,
					    "link port %d to chip %d went down "
					    "after 0x%" PRIx64 " of 0x%" PRIx64
					    " bytes", port,
					    dev->links.port[port].peer_chip,
					    size - left, size);
		}
		err = move(e, flags, s, &ps, t, &pt, o, &po, n, f);
		tern_mmu_unpin(s->tlb);
		tern_mmu_unpin(t->tlb);
		if (err)
			return err;
		tern_telem_bytes(dev, e->index, (unsigned int)(q - dev->q),
				 port >= 0 ? TERN_TELEM_LINK :
				 tern_telem_dir_of(ps.hbm, pt.hbm), n);
		if (port >= 0) {
			atomic_fetch_add(&dev->links.port[port].tx_bytes, n);
			atomic_fetch_add(&peer->links.port[peer_port].rx_bytes,
					 n);
			*sent += n;
		}
		s->addr += n;
		t->addr += n;
		if (o)
			o->addr += n;
		left -= n;
		/* the piece is on the wire until its window ends */
		if (port >= 0 && !tern_link_window_close(&w, &q->abort))
			return ERR_ABORTED;
	}
	return 0;
}

static void end_local(struct end *x, struct tern_engine *e, const char *what,
		      uint32_t ctx, bool hbm, uint64_t addr, bool write,
		      bool reduce_dst)
{
	x->dev = e->dev;
	x->tlb = &e->tlb;
	x->what = what;
	x->ctx = ctx;
	x->hbm = hbm;
	x->need_hbm = false;
	x->write = write;
	x->perm = write ? TERN_PTE_WRITE : TERN_PTE_READ;
	if (reduce_dst)
		x->perm |= TERN_PTE_READ;
	x->addr = addr;
}

/*
 * The operand of @d (NULL without TERN_DESC_F_OPERAND) in @x: in the HBM of
 * the destination's chip, through the destination's context (physical: an
 * HBM offset), read only. *@err: its range is not addressable.
 */
static struct end *end_operand(struct end *x, const struct end *t, const char *what,
			       const struct tern_dma_desc *d, uint32_t *err,
			       struct fault *f)
{
	if (!(d->flags & TERN_DESC_F_OPERAND))
		return NULL;
	*x = *t;
	x->what = what;
	x->perm = TERN_PTE_READ;
	x->write = false;
	x->hbm = true;
	x->need_hbm = true;
	x->addr = d->operand;
	*err = end_check(x, d->size, f);
	return x;
}

/* ---- entry points (worker, without the lock) ---- */

uint32_t tern_reduce_copy(struct tern_engine *e, struct tern_queue *q,
			  const struct tern_dma_desc *d, uint32_t ctx,
			  struct fault *f)
{
	struct end s, t, o, *op = NULL;
	uint64_t sent = 0;
	uint32_t err;

	end_local(&s, e, "src", ctx, d->flags & TERN_DESC_F_SRC_HBM, d->src,
		  false, false);
	end_local(&t, e, "dst", ctx, d->flags & TERN_DESC_F_DST_HBM, d->dst,
		  true, true);
	err = end_check(&s, d->size, f);
	if (!err)
		err = end_check(&t, d->size, f);
	if (!err)
		op = end_operand(&o, &t, "operand", d, &err, f);
	if (err)
		return err;
	return xfer(e, q, d->flags, d->size, &s, &t, op, -1, NULL, 0, &sent, f);
}

static uint32_t link_copy(struct tern_engine *e, struct tern_queue *q,
			  const struct tern_dma_desc *d, uint32_t ctx,
			  unsigned int port, struct fault *f)
{
	struct tern_dev *dev = e->dev, *peer;
	const struct tern_link_config *lc = &dev->links.cfg;
	uint32_t pctx = TERN_LINK_PEER_CTX(d->link), err;
	unsigned int pp = 0;
	uint64_t sent = 0;
	struct end s, t, o, *op = NULL;

	if (dev->links.port[port].peer_chip < 0)
		return tern_fail(f, TERN_ERR_LINK_DOWN, d->dst, "link port %u "
			    "is not wired to any chip", port);
	peer = tern_link_get(dev, port, &pp);
	if (!peer)
		return tern_fail(f, TERN_ERR_LINK_DOWN, d->dst, "link port %u "
			    "to chip %d is down", port,
			    dev->links.port[port].peer_chip);
	if (e->peer_tlb_owner != peer->links.serial) {
		memset(&e->peer_tlb, 0, sizeof(e->peer_tlb));
		e->peer_tlb_owner = peer->links.serial;
	}
	end_local(&s, e, "src", ctx, d->flags & TERN_DESC_F_SRC_HBM, d->src,
		  false, false);
	end_local(&t, e, "peer dst", pctx, true, d->dst, true,
		  d->flags & F_REDUCE);
	t.dev = peer;
	t.tlb = &e->peer_tlb;
	t.need_hbm = true;
	err = end_check(&s, d->size, f);
	if (!err)
		err = end_check(&t, d->size, f);
	if (!err)
		op = end_operand(&o, &t, "peer operand", d, &err, f);
	if (!err)
		err = xfer(e, q, d->flags, d->size, &s, &t, op, (int)port, peer,
			   pp, &sent, f);
	if (sent)
		atomic_fetch_add(&dev->links.port[port].busy_ns,
				 lc->latency_ns +
				 sent * 1000 / lc->bandwidth_mbps);
	tern_link_put(peer);
	return err;
}

uint32_t tern_link_copy(struct tern_engine *e, struct tern_queue *q,
			const struct tern_dma_desc *d, uint32_t ctx,
			struct fault *f)
{
	unsigned int port = TERN_LINK_PORT(d->link);
	struct tern_links *l = &e->dev->links;
	uint32_t err = link_copy(e, q, d, ctx, port, f);

	if (e->dev->ops->trace_link_copy)
		e->dev->ops->trace_link_copy(e->dev->opaque, port,
					     (unsigned int)l->port[port].peer_chip,
					     d->size, err);
	if (err && err != ERR_ABORTED) {
		atomic_fetch_add(&l->port[port].errors, 1);
		atomic_fetch_add(&l->errors, 1);
	}
	return err;
}

uint32_t tern_link_validate(struct tern_dev *dev,
			    const struct tern_dma_desc *d, uint32_t qctx,
			    uint64_t daddr, struct fault *f)
{
	uint32_t port = TERN_LINK_PORT(d->link);
	uint32_t pctx = TERN_LINK_PEER_CTX(d->link);
	uint32_t esz = d->flags & TERN_DESC_F_BF16 ? 2 : 4;

	(void)dev;
	if (d->opcode != TERN_DESC_OP_LINK_COPY) {
		if (d->link)
			return tern_fail(f, TERN_ERR_RESERVED, daddr,
				    "reserved field is 0x%" PRIx32, d->link);
	} else {
		if (qctx)
			return tern_fail(f, TERN_ERR_BAD_OPCODE, daddr,
				    "LINK_COPY on the user-mode queue of "
				    "context %" PRIu32 " (kernel rings only)",
				    qctx);
		if (d->link & TERN_LINK_RESERVED_MASK)
			return tern_fail(f, TERN_ERR_RESERVED, daddr,
				    "link word 0x%" PRIx32 " has reserved bits "
				    "0x%" PRIx32, d->link,
				    d->link & TERN_LINK_RESERVED_MASK);
		if (port >= TERN_MAX_LINKS)
			return tern_fail(f, TERN_ERR_RESERVED, daddr,
				    "link port %" PRIu32 " does not exist "
				    "(0..%u)", port, TERN_MAX_LINKS - 1);
		if (!pctx != !!(d->flags & TERN_DESC_F_DST_HBM))
			return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
				    "LINK_COPY to peer context %" PRIu32 " %s "
				    "DST_HBM", pctx, pctx ? "with" : "without");
		if (pctx >= TERN_MAX_CONTEXTS)
			return tern_mmu_fail(f, pctx, d->dst, true,
					     TERN_FAULT_BAD_CONTEXT,
					     "peer dst");
	}
	if (!(d->flags & (F_REDUCE | TERN_DESC_F_BF16 | TERN_DESC_F_OPERAND)))
		return 0;
	if ((d->flags & F_REDUCE) == F_REDUCE)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "REDUCE_SUM and REDUCE_MAX together");
	if (!(d->flags & F_REDUCE))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "%s without REDUCE_SUM or REDUCE_MAX",
			    d->flags & TERN_DESC_F_BF16 ? "BF16" : "OPERAND");
	if (d->opcode == TERN_DESC_OP_NOP)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "reduce flags on a NOP");
	if (d->flags & (TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL))
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "reduce flags with an SG list");
	if (d->size % esz || d->src % esz || d->dst % esz)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "reduce of %u-byte elements: size 0x%" PRIx64
			    ", src 0x%" PRIx64 " and dst 0x%" PRIx64 " must "
			    "be multiples of %u", esz, d->size, d->src, d->dst,
			    esz);
	if ((d->flags & TERN_DESC_F_OPERAND) && d->operand % esz)
		return tern_fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "reduce of %u-byte elements: operand 0x%" PRIx64
			    " must be a multiple of %u", esz, d->operand, esz);
	return 0;
}
