/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: the device MMU (include/tern_regs.h,
 * "Device MMU"). Contexts 1..TERN_MAX_CONTEXTS-1 translate 39-bit device
 * virtual addresses through three-level page tables in host memory into
 * host bus addresses or HBM offsets. Every worker (DMA engine, core launch
 * ring) has its own small TLB; invalidation bumps a per-context generation
 * counter, so a cached translation whose generation is stale is never used
 * again once the invalidating MMIO write has returned.
 *
 * Nor is a physical address obtained from it: a translation pins its
 * context's generation in the TLB (users[] below) until tern_mmu_unpin(),
 * and an invalidation returns only after every access pinned at the old
 * generation has finished. So once the driver's invalidating write returns
 * it may free or reuse the unmapped pages: no write in flight lands there
 * later. The pin is held for one piece of a transfer at most (a DMA chunk,
 * a fence, a descriptor); a launch binds its slots to HBM ranges at its
 * start and unpins before it runs, so the driver keeps a launch's buffers
 * mapped until the launch has ended (its job holds them).
 *
 * The context registers are written under dev->lock and read by workers
 * without it: they are atomics.
 */
#ifndef TERN_MMU_H
#define TERN_MMU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_regs.h"

struct tern_dev;
struct fault;

#define TERN_TLB_ENTRIES	32
#define TERN_VA_LIMIT		(1ull << TERN_VA_BITS)

/* One context's registers. */
struct tern_mmu_ctx {
	_Atomic uint64_t root;	/* ROOT_LO/HI: bus address of the L0 table */
	_Atomic uint32_t ctrl;	/* CTRL: TERN_CTX_CTRL_* */
	_Atomic uint32_t gen;	/* bumped by each invalidation of the context */
	/* accesses in flight pinned at an even / odd generation */
	_Atomic uint32_t users[2];
	bool draining;		/* under dev->lock: an invalidation is waiting */
};

struct tern_tlb_entry {
	uint64_t va;		/* first VA of the page */
	uint64_t mask;		/* page size - 1 */
	uint64_t pte;		/* its leaf entry */
	uint32_t ctx, gen;
	bool valid;
};

/*
 * A worker's TLB: fully associative, replaced round robin. No lock. It pins
 * one context (of one chip: a peer's through a link) at a time.
 */
struct tern_tlb {
	struct tern_tlb_entry e[TERN_TLB_ENTRIES];
	unsigned int next, last;
	struct tern_dev *pin_dev;	/* NULL: nothing pinned */
	uint32_t pin_ctx, pin_gen;
};

/* A translation: va maps to pa; len bytes from va to its page's end. */
struct tern_xlate {
	uint64_t pa;
	uint64_t len;
	uint64_t pte;
};

static inline bool tern_pte_hbm(uint64_t pte)
{
	return pte & TERN_PTE_HBM;
}

/* Name of a TERN_FAULT_* reason ("?" if unknown). */
const char *tern_fault_reason_name(uint32_t reason);

/*
 * Translate the page holding va in context ctx (no permission check).
 * Returns 0 with *x filled, or a TERN_FAULT_* reason. Worker, no lock.
 * Pins ctx in tlb (see above): x->pa may be used until tern_mmu_unpin().
 */
uint32_t tern_mmu_translate(struct tern_dev *dev, struct tern_tlb *tlb,
			    uint32_t ctx, uint64_t va, struct tern_xlate *x);

/*
 * The accesses through tlb's translations are over: an invalidation waiting
 * for them may return. Worker, no lock; nothing pinned is a no-op.
 */
void tern_mmu_unpin(struct tern_tlb *tlb);

/*
 * Record an MMU fault in f (code TERN_ERR_MMU_FAULT, addr va, info
 * TERN_FAULT_INFO) with a message naming what was accessed; returns
 * TERN_ERR_MMU_FAULT.
 */
uint32_t tern_mmu_fail(struct fault *f, uint32_t ctx, uint64_t va, bool write,
		       uint32_t reason, const char *what);

/*
 * The physical run at the start of [va, va + len) (len > 0) of context ctx
 * with READ (write: WRITE) permission: x->pa, x->pte of its first page and
 * x->len bytes (1..len) that are contiguous in one target (host or HBM).
 * Returns 0 or TERN_ERR_MMU_FAULT with f filled (what names the access).
 * Pins like tern_mmu_translate().
 */
uint32_t tern_mmu_run(struct tern_dev *dev, struct tern_tlb *tlb,
		      uint32_t ctx, uint64_t va, uint64_t len, bool write,
		      struct tern_xlate *x, const char *what, struct fault *f);

/*
 * Copy len bytes between buf and [va, va + len) of context ctx, page run by
 * page run; an aligned 8-byte write to HBM is one atomic store. A host
 * page that is not guest RAM is a TERN_FAULT_RANGE fault. Returns 0 or
 * TERN_ERR_MMU_FAULT (part of the range may have been accessed). Unpins at
 * the end unless tlb had a pin already (the caller's).
 */
uint32_t tern_mmu_read(struct tern_dev *dev, struct tern_tlb *tlb,
		       uint32_t ctx, uint64_t va, void *buf, size_t len,
		       const char *what, struct fault *f);
uint32_t tern_mmu_write(struct tern_dev *dev, struct tern_tlb *tlb,
			uint32_t ctx, uint64_t va, const void *buf,
			size_t len, const char *what, struct fault *f);

/* Every page of [va, va + len) is mapped with the permission: 0 or fault.
 * Unpins like tern_mmu_read(). */
uint32_t tern_mmu_check(struct tern_dev *dev, struct tern_tlb *tlb,
			uint32_t ctx, uint64_t va, uint64_t len, bool write,
			const char *what, struct fault *f);

/* Context ctx exists (1..63) and is enabled. Any thread. */
bool tern_mmu_ctx_ok(struct tern_dev *dev, uint32_t ctx);

/*
 * Write len bytes at an HBM offset or a host bus address (range already
 * checked): after a release fence, an aligned 8-byte HBM write is atomic.
 */
bool tern_put_phys(struct tern_dev *dev, bool hbm, uint64_t addr,
		   const void *buf, size_t len);

/* ---- registers (dev->lock held) ---- */

/* Context window [TERN_REG_CTX(0), TERN_REG_CTX(TERN_MAX_CONTEXTS)). */
bool tern_mmu_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v);
bool tern_mmu_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val);
/*
 * MMU_INVALIDATE. This and a context register write return after the
 * accesses pinned at the old generation: the lock is released meanwhile.
 */
void tern_mmu_invalidate(struct tern_dev *dev, uint32_t val);
/*
 * Device reset: contexts disabled (no translation succeeds from now on),
 * every TLB entry stale. Does not wait: the chip's own workers are idle.
 */
void tern_mmu_reset(struct tern_dev *dev);

#endif /* TERN_MMU_H */
