// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: the device MMU. Page-table walks (three levels,
 * 4 KiB and 2 MiB pages, include/tern_regs.h "Device MMU"), the workers'
 * TLBs with generation-counter invalidation, reads and writes of device
 * virtual ranges page run by page run, and the context registers. See
 * tern_mmu.h and Documentation/chip/spec.rst.
 */
#include "tern_model_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PTE_TABLE_BITS	(TERN_PTE_VALID | TERN_PTE_ADDR_MASK)
#define PTE_LEAF_BITS	(TERN_PTE_VALID | TERN_PTE_READ | TERN_PTE_WRITE | \
			 TERN_PTE_HBM | TERN_PTE_LEAF | TERN_PTE_ADDR_MASK)

_Static_assert(TERN_REG_CTX(TERN_MAX_CONTEXTS) <= TERN_REG_WINDOW_SIZE,
	       "context registers inside the window");

const char *tern_fault_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[TERN_FAULT_UNMAPPED] = "unmapped",
		[TERN_FAULT_PERMISSION] = "permission",
		[TERN_FAULT_BAD_PTE] = "bad page-table entry",
		[TERN_FAULT_BAD_CONTEXT] = "bad context",
		[TERN_FAULT_RANGE] = "out of range",
		[TERN_FAULT_CORE_SLOT] = "slot not one HBM range",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

bool tern_mmu_ctx_ok(struct tern_dev *dev, uint32_t ctx)
{
	return ctx && ctx < TERN_MAX_CONTEXTS &&
	       (atomic_load_explicit(&dev->ctx[ctx].ctrl,
				     memory_order_acquire) &
		TERN_CTX_CTRL_ENABLE);
}

uint32_t tern_mmu_fail(struct fault *f, uint32_t ctx, uint64_t va, bool write,
		       uint32_t reason, const char *what)
{
	tern_fail(f, TERN_ERR_MMU_FAULT, va, "MMU fault: ctx %" PRIu32
		  " %s VA 0x%" PRIx64 " (%s): %s", ctx, what, va,
		  write ? "write" : "read", tern_fault_reason_name(reason));
	f->info = TERN_FAULT_INFO(ctx & TERN_FAULT_CTX_MASK, write, reason);
	return TERN_ERR_MMU_FAULT;
}

/* ---- the walk ---- */

static bool read_pte(struct tern_dev *dev, uint64_t table, unsigned int i,
		     uint64_t *pte)
{
	uint8_t b[8];

	if (!dev->ops->dma_read(dev->opaque, table + (uint64_t)i * 8, b, 8))
		return false;
	*pte = get_le64(b);
	return true;
}

/* Walk ctx's tables for va; 0 with the leaf in *pte, or a reason. */
static uint32_t walk(struct tern_dev *dev, uint64_t root, uint64_t va,
		     uint64_t *leaf, uint64_t *mask)
{
	uint64_t table = root, pte;

	if (root & ~TERN_PTE_ADDR_MASK)
		return TERN_FAULT_BAD_PTE;	/* root not a 4 KiB table */
	for (int l = 0; l < TERN_PT_LEVELS; l++) {
		if (!read_pte(dev, table, TERN_PT_INDEX(va, l), &pte))
			return TERN_FAULT_BAD_PTE;
		if (!(pte & TERN_PTE_VALID))
			return TERN_FAULT_UNMAPPED;
		if (pte & ~PTE_LEAF_BITS)
			return TERN_FAULT_BAD_PTE;
		if (pte & TERN_PTE_LEAF) {
			uint64_t size = 1ull << TERN_PT_SHIFT(l);

			if (l == 0)
				return TERN_FAULT_BAD_PTE;
			if ((pte & TERN_PTE_ADDR_MASK) & (size - 1))
				return TERN_FAULT_BAD_PTE;
			*leaf = pte;
			*mask = size - 1;
			return 0;
		}
		if (l == TERN_PT_LEVELS - 1 || (pte & ~PTE_TABLE_BITS))
			return TERN_FAULT_BAD_PTE;
		table = pte & TERN_PTE_ADDR_MASK;
	}
	return TERN_FAULT_BAD_PTE;
}

/*
 * Pin ctx's current generation in tlb (Dekker with invalidate_ctx(): count
 * this access, then check that the generation did not move meanwhile).
 */
static void pin(struct tern_dev *dev, struct tern_tlb *tlb, uint32_t ctx)
{
	struct tern_mmu_ctx *c = &dev->ctx[ctx];
	uint32_t gen;

	if (tlb->pin_dev == dev && tlb->pin_ctx == ctx)
		return;
	tern_mmu_unpin(tlb);
	for (;;) {
		gen = atomic_load(&c->gen);
		atomic_fetch_add(&c->users[gen & 1], 1);
		if (atomic_load(&c->gen) == gen)
			break;
		atomic_fetch_sub(&c->users[gen & 1], 1);
	}
	tlb->pin_dev = dev;
	tlb->pin_ctx = ctx;
	tlb->pin_gen = gen;
}

void tern_mmu_unpin(struct tern_tlb *tlb)
{
	struct tern_dev *dev = tlb->pin_dev;

	if (!dev)
		return;
	atomic_fetch_sub_explicit(&dev->ctx[tlb->pin_ctx].users[tlb->pin_gen & 1],
				  1, memory_order_release);
	tlb->pin_dev = NULL;
}

uint32_t tern_mmu_translate(struct tern_dev *dev, struct tern_tlb *tlb,
			    uint32_t ctx, uint64_t va, struct tern_xlate *x)
{
	struct tern_mmu_ctx *c;
	struct tern_tlb_entry *t;
	uint64_t pte, mask, pa;
	uint32_t gen, reason;

	if (!ctx || ctx >= TERN_MAX_CONTEXTS)
		return TERN_FAULT_BAD_CONTEXT;
	c = &dev->ctx[ctx];
	/* the generation first: a walk racing an invalidation is stale */
	pin(dev, tlb, ctx);
	gen = tlb->pin_gen;
	if (!(atomic_load_explicit(&c->ctrl, memory_order_acquire) &
	      TERN_CTX_CTRL_ENABLE))
		return TERN_FAULT_BAD_CONTEXT;
	if (va >= TERN_VA_LIMIT)
		return TERN_FAULT_RANGE;

	t = &tlb->e[tlb->last];
	if (!(t->valid && t->ctx == ctx && t->gen == gen &&
	      (va & ~t->mask) == t->va)) {
		t = NULL;
		for (unsigned int i = 0; i < TERN_TLB_ENTRIES; i++) {
			struct tern_tlb_entry *u = &tlb->e[i];

			if (u->valid && u->ctx == ctx && u->gen == gen &&
			    (va & ~u->mask) == u->va) {
				t = u;
				tlb->last = i;
				break;
			}
		}
	}
	if (!t) {
		reason = walk(dev, atomic_load_explicit(&c->root,
							memory_order_acquire),
			      va, &pte, &mask);
		if (reason)
			return reason;
		pa = pte & TERN_PTE_ADDR_MASK;
		if ((pte & TERN_PTE_HBM) && !hbm_range_ok(dev, pa, mask + 1))
			return TERN_FAULT_RANGE;
		t = &tlb->e[tlb->next];
		tlb->last = tlb->next;
		tlb->next = (tlb->next + 1) % TERN_TLB_ENTRIES;
		t->va = va & ~mask;
		t->mask = mask;
		t->pte = pte;
		t->ctx = ctx;
		t->gen = gen;
		t->valid = true;
	}
	x->pte = t->pte;
	x->pa = (t->pte & TERN_PTE_ADDR_MASK) + (va & t->mask);
	x->len = t->mask + 1 - (va & t->mask);
	return 0;
}

static uint64_t perm_bit(bool write)
{
	return write ? TERN_PTE_WRITE : TERN_PTE_READ;
}

uint32_t tern_mmu_run(struct tern_dev *dev, struct tern_tlb *tlb,
		      uint32_t ctx, uint64_t va, uint64_t len, bool write,
		      struct tern_xlate *x, const char *what, struct fault *f)
{
	struct tern_xlate n;
	uint32_t reason;

	reason = tern_mmu_translate(dev, tlb, ctx, va, x);
	if (!reason && !(x->pte & perm_bit(write)))
		reason = TERN_FAULT_PERMISSION;
	if (reason)
		return tern_mmu_fail(f, ctx, va, write, reason, what);
	/* merge the following pages while they continue the same run */
	while (x->len < len) {
		uint64_t next = va + x->len;

		if (tern_mmu_translate(dev, tlb, ctx, next, &n) ||
		    !(n.pte & perm_bit(write)) ||
		    tern_pte_hbm(n.pte) != tern_pte_hbm(x->pte) ||
		    n.pa != x->pa + x->len)
			break;	/* a fault there is reported when reached */
		x->len += n.len;
	}
	if (x->len > len)
		x->len = len;
	return 0;
}

uint32_t tern_mmu_check(struct tern_dev *dev, struct tern_tlb *tlb,
			uint32_t ctx, uint64_t va, uint64_t len, bool write,
			const char *what, struct fault *f)
{
	bool pinned = tlb->pin_dev != NULL;
	struct tern_xlate x;
	uint32_t err = 0;

	if (len && va + (len - 1) < va)
		return tern_mmu_fail(f, ctx, va, write, TERN_FAULT_RANGE, what);
	while (len) {
		err = tern_mmu_run(dev, tlb, ctx, va, len, write, &x, what, f);
		if (err)
			break;
		va += x.len;
		len -= x.len;
	}
	if (!pinned)
		tern_mmu_unpin(tlb);
	return err;
}

bool tern_put_phys(struct tern_dev *dev, bool hbm, uint64_t addr,
		   const void *buf, size_t len)
{
	/* Nothing written must be seen before what it stands for. */
	atomic_thread_fence(memory_order_release);
	if (!hbm)
		return dev->ops->dma_write(dev->opaque, addr, buf, len);
	if (len == 8 && !((uintptr_t)(dev->cfg.hbm + addr) & 7)) {
		uint64_t raw;

		memcpy(&raw, buf, 8);
		__atomic_store_n((uint64_t *)(void *)(dev->cfg.hbm + addr),
				 raw, __ATOMIC_RELEASE);
	} else {
		memcpy(dev->cfg.hbm + addr, buf, len);
	}
	tern_ras_write(dev, addr, len);	/* whole lines written are good */
	return true;
}

static uint32_t mmu_copy(struct tern_dev *dev, struct tern_tlb *tlb,
			 uint32_t ctx, uint64_t va, uint8_t *rbuf,
			 const uint8_t *wbuf, size_t len, const char *what,
			 struct fault *f)
{
	bool write = wbuf != NULL;
	struct tern_xlate x;
	size_t done = 0;
	uint32_t err;

	while (done < len) {
		uint64_t at = va + done;
		bool ok;

		err = tern_mmu_run(dev, tlb, ctx, at, len - done, write, &x,
				   what, f);
		if (err)
			return err;
		if (write)
			ok = tern_put_phys(dev, tern_pte_hbm(x.pte), x.pa,
					   wbuf + done, x.len);
		else if (tern_pte_hbm(x.pte)) {
			uint64_t bad;

			if (tern_ras_read(dev, x.pa, x.len, &bad))
				return tern_fail(f, TERN_ERR_ECC_UNCORRECTED,
					    bad, "uncorrected ECC error in the "
					    "HBM line at 0x%" PRIx64 " (%s)",
					    bad, what);
			memcpy(rbuf + done, dev->cfg.hbm + x.pa, x.len);
			ok = true;
		}
		else
			ok = dev->ops->dma_read(dev->opaque, x.pa, rbuf + done,
						x.len);
		if (!ok)	/* the page is not guest RAM */
			return tern_mmu_fail(f, ctx, at, write,
					     TERN_FAULT_RANGE, what);
		done += x.len;
	}
	return 0;
}

static uint32_t mmu_access(struct tern_dev *dev, struct tern_tlb *tlb,
			   uint32_t ctx, uint64_t va, uint8_t *rbuf,
			   const uint8_t *wbuf, size_t len, const char *what,
			   struct fault *f)
{
	bool write = wbuf != NULL, pinned = tlb->pin_dev != NULL;
	uint32_t err;

	if (len && va + (len - 1) < va)
		return tern_mmu_fail(f, ctx, va, write, TERN_FAULT_RANGE, what);
	err = mmu_copy(dev, tlb, ctx, va, rbuf, wbuf, len, what, f);
	if (!pinned)
		tern_mmu_unpin(tlb);
	return err;
}

uint32_t tern_mmu_read(struct tern_dev *dev, struct tern_tlb *tlb,
		       uint32_t ctx, uint64_t va, void *buf, size_t len,
		       const char *what, struct fault *f)
{
	return mmu_access(dev, tlb, ctx, va, buf, NULL, len, what, f);
}

uint32_t tern_mmu_write(struct tern_dev *dev, struct tern_tlb *tlb,
			uint32_t ctx, uint64_t va, const void *buf,
			size_t len, const char *what, struct fault *f)
{
	return mmu_access(dev, tlb, ctx, va, NULL, buf, len, what, f);
}

/* ---- registers (dev->lock held) ---- */

/* Let the workers run for a moment: they may need the lock to finish. */
static void wait_unlocked(struct tern_dev *dev)
{
	struct timespec pause = { 0, 20 * 1000 };

	pthread_mutex_unlock(&dev->lock);
	nanosleep(&pause, NULL);
	pthread_mutex_lock(&dev->lock);
}

/*
 * Make context n's translations stale, then wait until no access pinned at
 * the old generation is left. One invalidation of a context at a time, so
 * an access is always pinned at the current generation's parity or the
 * one being drained (a reset keeps the parity).
 */
static void invalidate_ctx(struct tern_dev *dev, unsigned int n)
{
	struct tern_mmu_ctx *c = &dev->ctx[n];
	uint32_t old;

	while (c->draining)
		wait_unlocked(dev);
	c->draining = true;
	old = atomic_fetch_add(&c->gen, 1);
	while (atomic_load(&c->users[old & 1]))
		wait_unlocked(dev);
	c->draining = false;
}

void tern_mmu_invalidate(struct tern_dev *dev, uint32_t val)
{
	if (val == TERN_MMU_INVALIDATE_ALL) {
		for (unsigned int n = 1; n < TERN_MAX_CONTEXTS; n++)
			invalidate_ctx(dev, n);
	} else if (val && val < TERN_MAX_CONTEXTS) {
		invalidate_ctx(dev, val);
	} else {
		tern_guest_err(dev, "MMU_INVALIDATE write 0x%" PRIx32 " is "
			       "not a context (1..%u) or ALL; ignored", val,
			       TERN_MAX_CONTEXTS - 1);
	}
}

bool tern_mmu_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	unsigned int n = (off - TERN_REG_CTX_BASE) / TERN_REG_CTX_STRIDE;
	struct tern_mmu_ctx *c = &dev->ctx[n];

	if (!n)
		return false;	/* context 0 has no registers */
	switch ((off - TERN_REG_CTX_BASE) % TERN_REG_CTX_STRIDE) {
	case TERN_CTX_ROOT_LO:
		*v = (uint32_t)atomic_load(&c->root);
		return true;
	case TERN_CTX_ROOT_HI:
		*v = atomic_load(&c->root) >> 32;
		return true;
	case TERN_CTX_CTRL:
		*v = atomic_load(&c->ctrl);
		return true;
	}
	return false;
}

bool tern_mmu_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	unsigned int n = (off - TERN_REG_CTX_BASE) / TERN_REG_CTX_STRIDE;
	struct tern_mmu_ctx *c = &dev->ctx[n];
	uint64_t root = atomic_load(&c->root);

	if (!n)
		return false;
	switch ((off - TERN_REG_CTX_BASE) % TERN_REG_CTX_STRIDE) {
	case TERN_CTX_ROOT_LO:
		atomic_store(&c->root, (root & ~0xffffffffull) | val);
		break;
	case TERN_CTX_ROOT_HI:
		atomic_store(&c->root, (root & 0xffffffffull) |
				       (uint64_t)val << 32);
		break;
	case TERN_CTX_CTRL:
		if (val & ~TERN_CTX_CTRL_ENABLE)
			tern_guest_err(dev, "context %u: CTRL write 0x%" PRIx32
				       ": unknown bits ignored", n, val);
		atomic_store(&c->ctrl, val & TERN_CTX_CTRL_ENABLE);
		break;
	default:
		return false;
	}
	/* the context's cached translations are stale from now on */
	invalidate_ctx(dev, n);
	return true;
}

void tern_mmu_reset(struct tern_dev *dev)
{
	for (unsigned int n = 0; n < TERN_MAX_CONTEXTS; n++) {
		atomic_store(&dev->ctx[n].root, 0);
		atomic_store(&dev->ctx[n].ctrl, 0);
		/* by two: accesses pinned now still count where they did */
		atomic_fetch_add(&dev->ctx[n].gen, 2);
	}
	dev->mmu_faults = 0;
}
