// SPDX-License-Identifier: MIT
/*
 * fuzz_mmu: the device MMU's page-table walker, TLB and range accessors
 * (emulator/tern_mmu.c) against a reference walker written here from the
 * specification (include/tern_regs.h, "Device MMU").
 *
 * An input is a script of up to 64 operations on the device's contexts and
 * on page tables in a pool of fake guest RAM pages: write a page-table
 * entry (a table pointer, a 4 KiB or 2 MiB leaf onto RAM or HBM with any
 * permissions, or any 64-bit value), set a context's root and CTRL through
 * the registers, invalidate one context or all, reset the device; and
 * translate, run, check, read or write a VA range through the model with
 * a TLB of the fuzzer's own. Each result is compared with the reference:
 * the reason of a fault and its address, the physical address, page
 * bytes and permission bits of a translation, the length of a contiguous
 * run, the bytes a read returns, the bytes a write leaves in RAM/HBM.
 * Results are compared only while the model has been told of every
 * page-table change (an invalidation or a context register write since):
 * before that, a stale TLB entry is allowed.
 */
#include "fuzz_util.h"
#include "tern_model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCTX		5	/* contexts 1..4 used, 0 and 5+ are invalid */
#define POOL_PAGES	16u
#define MAX_LEN		(TERN_HUGE_PAGE_SIZE + 8192)

static struct tern_tlb tlb;
static bool stale[TERN_MAX_CONTEXTS];	/* tables changed since invalidation */
static uint8_t buf[MAX_LEN], ref[MAX_LEN];

/* ---- the reference ---- */

struct rx {
	uint64_t pa, page, pte;	/* page: its size */
};

static bool ref_read(struct fz_env *e, uint64_t bus, void *dst, size_t len)
{
	if (bus < FZ_RAM_BASE || bus - FZ_RAM_BASE > FZ_RAM_SIZE ||
	    len > FZ_RAM_SIZE - (bus - FZ_RAM_BASE))
		return false;
	memcpy(dst, fz_ram(e, bus), len);
	return true;
}

/* The specification's walk: 0 and *x, or a TERN_FAULT_* reason. */
static uint32_t ref_translate(struct fz_env *e, uint32_t ctx, uint64_t va,
			      struct rx *x)
{
	const uint64_t table_ok = TERN_PTE_VALID | TERN_PTE_ADDR_MASK;
	const uint64_t leaf_ok = table_ok | TERN_PTE_READ | TERN_PTE_WRITE |
				 TERN_PTE_HBM | TERN_PTE_LEAF;
	uint64_t table;

	if (ctx == 0 || ctx >= TERN_MAX_CONTEXTS ||
	    !(fz_rd(e, TERN_REG_CTX(ctx) + TERN_CTX_CTRL) &
	      TERN_CTX_CTRL_ENABLE))
		return TERN_FAULT_BAD_CONTEXT;
	if (va >> TERN_VA_BITS)
		return TERN_FAULT_RANGE;
	table = fz_rd(e, TERN_REG_CTX(ctx) + TERN_CTX_ROOT_LO) |
		(uint64_t)fz_rd(e, TERN_REG_CTX(ctx) + TERN_CTX_ROOT_HI) << 32;
	if (table & ~TERN_PTE_ADDR_MASK)
		return TERN_FAULT_BAD_PTE;
	for (int l = 0; l < 3; l++) {
		unsigned int shift = 30 - 9 * l;
		uint64_t pte, size = 1ull << shift;
		uint8_t raw[8];

		if (!ref_read(e, table + ((va >> shift) & 511) * 8, raw, 8))
			return TERN_FAULT_BAD_PTE;
		pte = fz_get64(raw);
		if (!(pte & TERN_PTE_VALID))
			return TERN_FAULT_UNMAPPED;
		if (pte & ~leaf_ok)
			return TERN_FAULT_BAD_PTE;
		if (!(pte & TERN_PTE_LEAF)) {
			/* a table: only VALID and the address; never at L2 */
			if (l == 2 || (pte & ~table_ok))
				return TERN_FAULT_BAD_PTE;
			table = pte & TERN_PTE_ADDR_MASK;
			continue;
		}
		if (l == 0 || (pte & TERN_PTE_ADDR_MASK) % size)
			return TERN_FAULT_BAD_PTE;
		x->pte = pte;
		x->page = size;
		x->pa = (pte & TERN_PTE_ADDR_MASK) + (va & (size - 1));
		if ((pte & TERN_PTE_HBM) &&
		    (pte & TERN_PTE_ADDR_MASK) + size > FZ_HBM_SIZE)
			return TERN_FAULT_RANGE;
		return 0;
	}
	return TERN_FAULT_BAD_PTE;
}

/* The run at va: its length (<= len) or a fault reason in *reason. */
static uint64_t ref_run(struct fz_env *e, uint32_t ctx, uint64_t va,
			uint64_t len, bool write, struct rx *first,
			uint32_t *reason)
{
	uint64_t perm = write ? TERN_PTE_WRITE : TERN_PTE_READ;
	uint64_t run;
	struct rx n;

	*reason = ref_translate(e, ctx, va, first);
	if (!*reason && !(first->pte & perm))
		*reason = TERN_FAULT_PERMISSION;
	if (*reason)
		return 0;
	run = first->page - (va & (first->page - 1));
	while (run < len && !ref_translate(e, ctx, va + run, &n) &&
	       (n.pte & perm) &&
	       (n.pte & TERN_PTE_HBM) == (first->pte & TERN_PTE_HBM) &&
	       n.pa == first->pa + run)
		run += n.page;
	return run < len ? run : len;
}

/* Where a walk of [va, va + len) faults first: 0 or reason, *at. */
static uint32_t ref_check(struct fz_env *e, uint32_t ctx, uint64_t va,
			  uint64_t len, bool write, uint64_t *at)
{
	uint32_t reason;
	struct rx x;

	*at = va;
	if (len && va + (len - 1) < va)
		return TERN_FAULT_RANGE;
	while (len) {
		uint64_t n = ref_run(e, ctx, va, len, write, &x, &reason);

		if (reason) {
			*at = va;
			return reason;
		}
		va += n;
		len -= n;
	}
	return 0;
}

static uint32_t reason_of(const struct fault *f)
{
	return (f->info & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT;
}

/* ---- operations ---- */

static uint64_t pool(unsigned int i)
{
	return fz_gpa(FZ_PT_OFF + (i % POOL_PAGES) * 0x1000u);
}

static uint64_t gen_pte(struct fz *f)
{
	uint8_t how = fz_u8(f);
	uint64_t perm = (uint64_t)(how >> 4 & 7) << 1;	/* R, W, HBM */

	switch (how & 7) {
	case 0:
	case 1:	/* a table */
		return pool(fz_u8(f)) | TERN_PTE_VALID;
	case 2:
	case 3:	/* a 4 KiB page */
		return ((perm & TERN_PTE_HBM ?
			 (uint64_t)fz_below(f, FZ_HBM_SIZE >> 12) << 12 :
			 fz_gpa(FZ_DATA_OFF) + (fz_below(f, 0x400) << 12)) |
			perm | TERN_PTE_LEAF | TERN_PTE_VALID);
	case 4:	/* a 2 MiB page */
		return ((perm & TERN_PTE_HBM ?
			 (uint64_t)fz_below(f, (FZ_HBM_SIZE >> 21) + 1) << 21 :
			 FZ_RAM_BASE + ((uint64_t)fz_below(f, 3) << 21)) |
			perm | TERN_PTE_LEAF | TERN_PTE_VALID);
	case 5:	/* a leaf onto a page-table page */
		return pool(fz_u8(f)) | perm | TERN_PTE_LEAF | TERN_PTE_VALID;
	default:
		return fz_u64(f);
	}
}

static uint64_t gen_va(struct fz *f)
{
	switch (fz_below(f, 4)) {
	case 0:	/* L0 index 0..3, any L1/L2 index, any offset */
		return (uint64_t)fz_below(f, 4) << 30 |
		       (uint64_t)fz_below(f, 512) << 21 |
		       (uint64_t)fz_below(f, 512) << 12 | fz_below(f, 4096);
	case 1:	/* near a page end */
		return ((uint64_t)fz_below(f, 4) << 30 |
			(uint64_t)fz_below(f, 4) << 21 |
			(uint64_t)fz_below(f, 4) << 12) + 4096 - fz_below(f, 64);
	case 2:	/* at the end of the VA space */
		return TERN_VA_LIMIT - 1 - fz_below(f, 8192);
	default:
		return fz_u64(f);
	}
}

static uint32_t gen_ctx(struct fz *f)
{
	return fz_one_in(f, 16) ? fz_u32(f) : 1 + fz_below(f, NCTX);
}

static void all_stale(bool v)
{
	for (unsigned int n = 0; n < TERN_MAX_CONTEXTS; n++)
		stale[n] = v;
}

static void op_translate(struct fz_env *e, struct fz *f)
{
	uint32_t ctx = gen_ctx(f);
	uint64_t va = gen_va(f);
	struct tern_xlate x;
	uint32_t got;
	struct rx r;
	uint32_t want = ref_translate(e, ctx, va, &r);

	got = tern_mmu_translate(e->dev, &tlb, ctx, va, &x);
	tern_mmu_unpin(&tlb);	/* the access is over, as a worker's would be */
	if (ctx < TERN_MAX_CONTEXTS && stale[ctx])
		return;
	if (got != want)
		fz_fail("translate ctx %u va 0x%llx: reason %u, reference %u",
			ctx, (unsigned long long)va, got, want);
	if (!got && (x.pa != r.pa || x.pte != r.pte ||
		     x.len != r.page - (va & (r.page - 1))))
		fz_fail("translate ctx %u va 0x%llx: pa 0x%llx len 0x%llx "
			"pte 0x%llx, reference pa 0x%llx page 0x%llx "
			"pte 0x%llx", ctx, (unsigned long long)va,
			(unsigned long long)x.pa, (unsigned long long)x.len,
			(unsigned long long)x.pte, (unsigned long long)r.pa,
			(unsigned long long)r.page,
			(unsigned long long)r.pte);
}

static void op_run(struct fz_env *e, struct fz *f)
{
	uint32_t ctx = gen_ctx(f), got, want;
	uint64_t va = gen_va(f), len = 1 + fz_below(f, MAX_LEN), n;
	bool write = fz_u8(f) & 1;
	struct tern_xlate x;
	struct fault flt;
	struct rx r;

	memset(&flt, 0, sizeof(flt));
	got = tern_mmu_run(e->dev, &tlb, ctx, va, len, write, &x, "fuzz",
			   &flt);
	tern_mmu_unpin(&tlb);
	n = ref_run(e, ctx, va, len, write, &r, &want);
	if (ctx < TERN_MAX_CONTEXTS && stale[ctx])
		return;
	if (got && (got != TERN_ERR_MMU_FAULT || reason_of(&flt) != want ||
		    flt.addr != va))
		fz_fail("run ctx %u va 0x%llx: error %u reason %u at 0x%llx, "
			"reference reason %u", ctx, (unsigned long long)va,
			got, reason_of(&flt), (unsigned long long)flt.addr,
			want);
	if (!got && (want || x.pa != r.pa || x.len != n))
		fz_fail("run ctx %u va 0x%llx len 0x%llx: pa 0x%llx len "
			"0x%llx, reference reason %u pa 0x%llx len 0x%llx",
			ctx, (unsigned long long)va, (unsigned long long)len,
			(unsigned long long)x.pa, (unsigned long long)x.len,
			want, (unsigned long long)r.pa,
			(unsigned long long)n);
}

static void op_check(struct fz_env *e, struct fz *f)
{
	uint32_t ctx = gen_ctx(f), got, want;
	uint64_t va = gen_va(f), at;
	uint64_t len = fz_one_in(f, 8) ? fz_u64(f) : fz_below(f, MAX_LEN);
	bool write = fz_u8(f) & 1;
	struct fault flt;

	memset(&flt, 0, sizeof(flt));
	if (len > 64 * TERN_HUGE_PAGE_SIZE && !fz_one_in(f, 2))
		len = 64 * TERN_HUGE_PAGE_SIZE;	/* bound the walk */
	got = tern_mmu_check(e->dev, &tlb, ctx, va, len, write, "fuzz", &flt);
	want = ref_check(e, ctx, va, len, write, &at);
	if (ctx < TERN_MAX_CONTEXTS && stale[ctx])
		return;
	if (!!got != !!want || (got && (reason_of(&flt) != want ||
					 flt.addr != at)))
		fz_fail("check ctx %u va 0x%llx len 0x%llx: reason %u at "
			"0x%llx, reference %u at 0x%llx", ctx,
			(unsigned long long)va, (unsigned long long)len,
			got ? reason_of(&flt) : 0,
			(unsigned long long)flt.addr, want,
			(unsigned long long)at);
}

#define MAX_CHUNKS	64

struct chunk {
	uint64_t pa, n;
	bool hbm;
};

/*
 * Bytes of [va, va + len) as the reference sees them now, and the physical
 * chunks they come from: 0, FAULT (some page faults, lacks the permission
 * or is not RAM/HBM), or ODD for a write (the range maps a page-table
 * page, so the write could move the tables under itself, or it has too
 * many chunks to compare).
 */
enum { REF_OK, REF_FAULT, REF_ODD };

static int ref_bytes(struct fz_env *e, uint32_t ctx, uint64_t va,
		     size_t len, bool write, uint8_t *out, struct chunk *c,
		     unsigned int *nc)
{
	uint64_t perm = write ? TERN_PTE_WRITE : TERN_PTE_READ;
	uint64_t pt_lo = fz_gpa(FZ_PT_OFF);
	uint64_t pt_hi = fz_gpa(FZ_PT_OFF + FZ_PT_PAGES * 0x1000u);
	size_t done = 0;
	int rc = REF_OK;

	*nc = 0;
	if (len && va + (len - 1) < va)
		return REF_FAULT;
	while (done < len) {
		struct rx r;
		uint64_t n;

		if (ref_translate(e, ctx, va + done, &r) || !(r.pte & perm))
			return REF_FAULT;
		n = r.page - ((va + done) & (r.page - 1));
		if (n > len - done)
			n = len - done;
		if (r.pte & TERN_PTE_HBM) {
			memcpy(out + done, e->hbm + r.pa, n);
		} else {
			if (!ref_read(e, r.pa, out + done, n))
				return REF_FAULT;
			if (write && r.pa < pt_hi && r.pa + n > pt_lo)
				rc = REF_ODD;
		}
		if (*nc < MAX_CHUNKS)
			c[*nc] = (struct chunk){ r.pa, n, r.pte & TERN_PTE_HBM };
		else
			rc = REF_ODD;
		++*nc;
		done += n;
	}
	return rc;
}

static void op_read(struct fz_env *e, struct fz *f)
{
	uint32_t ctx = gen_ctx(f), got;
	uint64_t va = gen_va(f);
	size_t len = fz_one_in(f, 4) ? fz_below(f, MAX_LEN) : fz_below(f, 64);
	struct chunk c[MAX_CHUNKS];
	struct fault flt;
	unsigned int nc;
	int rc = ref_bytes(e, ctx, va, len, false, ref, c, &nc);

	memset(&flt, 0, sizeof(flt));
	got = tern_mmu_read(e->dev, &tlb, ctx, va, buf, len, "fuzz", &flt);
	if (ctx < TERN_MAX_CONTEXTS && stale[ctx])
		return;
	if ((rc == REF_FAULT) != (got != 0))
		fz_fail("read ctx %u va 0x%llx len 0x%zx: error %u (reason "
			"%u), the reference %s", ctx, (unsigned long long)va,
			len, got, reason_of(&flt),
			rc == REF_FAULT ? "faults" : "reads");
	if (!got && memcmp(buf, ref, len))
		fz_fail("read ctx %u va 0x%llx len 0x%zx: other bytes than "
			"the reference", ctx, (unsigned long long)va, len);
}

static bool overlap(const struct chunk *a, const struct chunk *b)
{
	return a->hbm == b->hbm && a->pa < b->pa + b->n && b->pa < a->pa + a->n;
}

static void op_write(struct fz_env *e, struct fz *f)
{
	uint32_t ctx = gen_ctx(f), got;
	uint64_t va = gen_va(f);
	size_t len = fz_one_in(f, 4) ? fz_below(f, MAX_LEN) : fz_below(f, 64);
	struct chunk c[MAX_CHUNKS];
	struct fault flt;
	unsigned int nc;
	int rc = ref_bytes(e, ctx, va, len, true, ref, c, &nc);
	bool fresh = ctx >= TERN_MAX_CONTEXTS || !stale[ctx];

	memset(&flt, 0, sizeof(flt));
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(fz_u8(f) ^ i);
	got = tern_mmu_write(e->dev, &tlb, ctx, va, buf, len, "fuzz", &flt);
	if (rc == REF_ODD || !fresh) {
		/* it may have written page tables: trust nothing cached */
		all_stale(true);
		return;
	}
	if ((rc == REF_FAULT) != (got != 0))
		fz_fail("write ctx %u va 0x%llx len 0x%zx: error %u (reason "
			"%u), the reference %s", ctx, (unsigned long long)va,
			len, got, reason_of(&flt),
			rc == REF_FAULT ? "faults" : "writes");
	if (got)
		return;
	/* pages of the range that alias each other: later bytes win */
	for (unsigned int i = 0; i < nc; i++)
		for (unsigned int k = i + 1; k < nc; k++)
			if (overlap(&c[i], &c[k]))
				return;
	if (ref_bytes(e, ctx, va, len, true, ref, c, &nc) != REF_OK)
		fz_fail("write ctx %u va 0x%llx: range unreadable after it",
			ctx, (unsigned long long)va);
	if (memcmp(ref, buf, len))
		fz_fail("write ctx %u va 0x%llx len 0x%zx: memory holds other "
			"bytes than written", ctx, (unsigned long long)va,
			len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct fz_env *e = fz_begin(1, 1, 1);

	memset(&tlb, 0, sizeof(tlb));
	all_stale(false);
	/* contexts 1..NCTX on pool pages 0..NCTX-1, enabled */
	for (unsigned int n = 1; n <= NCTX; n++)
		fz_ctx_set(e, n, pool(n - 1), TERN_CTX_CTRL_ENABLE);
	for (unsigned int i = 0; i < 64 && f.n; i++) {
		switch (fz_below(&f, 12)) {
		case 0:
		case 1:
		case 2: {	/* a page-table entry */
			uint64_t at = pool(fz_u8(&f)) + fz_below(&f, 512) * 8;

			fz_put64(fz_ram(e, at), gen_pte(&f));
			all_stale(true);
			break;
		}
		case 3: {	/* a context's registers */
			uint32_t n = 1 + fz_below(&f, NCTX);
			uint64_t root = fz_one_in(&f, 8) ? fz_u64(&f) :
					pool(fz_u8(&f));

			fz_ctx_set(e, n, root, fz_one_in(&f, 4) ? fz_u32(&f) :
				   TERN_CTX_CTRL_ENABLE);
			stale[n] = false;	/* CTRL/ROOT writes invalidate */
			break;
		}
		case 4: {
			uint32_t n = fz_one_in(&f, 2) ? TERN_MMU_INVALIDATE_ALL :
				     fz_below(&f, NCTX + 2);

			fz_wr(e, TERN_REG_MMU_INVALIDATE, n);
			if (n == TERN_MMU_INVALIDATE_ALL)
				all_stale(false);
			else if (n)
				stale[n] = false;
			break;
		}
		case 5:
			op_translate(e, &f);
			break;
		case 6:
			op_run(e, &f);
			break;
		case 7:
			op_check(e, &f);
			break;
		case 8:
			op_read(e, &f);
			break;
		case 9:
			op_write(e, &f);
			break;
		case 10:	/* data under the mappings */
			fz_bytes(&f, e->ram + FZ_DATA_OFF +
				 fz_below(&f, FZ_DATA_SIZE - 64), 64);
			break;
		default:
			if (fz_one_in(&f, 8)) {
				tern_dev_reset(e->dev);
				all_stale(false);
			}
			break;
		}
	}
	return 0;
}
