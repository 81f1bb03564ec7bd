// SPDX-License-Identifier: MIT
/* Page tables in the test RAM for the device MMU's host tests. */
#include "mmu_util.h"

#include <stdlib.h>
#include <string.h>

static unsigned int pt_next;

void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t *ram_at(struct env *e, uint64_t bus)
{
	return e->ram + (bus - RAM_BASE);
}

/* A zeroed 4 KiB page-table page from the pool. */
static uint64_t pt_alloc(struct env *e)
{
	uint64_t t;

	if (pt_next >= PT_POOL) {
		printf("#   page-table pool exhausted\n");
		abort();
	}
	t = gpa(PT_OFF + (uint64_t)pt_next++ * 0x1000u);

	memset(ram_at(e, t), 0, 0x1000);
	return t;
}

uint64_t ctx_root(struct env *e, unsigned int n)
{
	return rd(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_LO) |
	       (uint64_t)rd(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_HI) << 32;
}

void ctx_setup(struct env *e, unsigned int n)
{
	uint64_t root;
	bool first = true;

	/* the first context of a test starts the pool over */
	for (unsigned int k = 1; k < TERN_MAX_CONTEXTS; k++)
		if (rd(e, TERN_REG_CTX(k) + TERN_CTX_CTRL))
			first = false;
	if (first)
		pt_next = 0;
	root = pt_alloc(e);

	wr(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_LO, (uint32_t)root);
	wr(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_HI, (uint32_t)(root >> 32));
	wr(e, TERN_REG_CTX(n) + TERN_CTX_CTRL, TERN_CTX_CTRL_ENABLE);
}

/* The entry for va at level l of context n, creating the tables above. */
uint8_t *pte_at(struct env *e, unsigned int n, uint64_t va, int l)
{
	uint64_t table = ctx_root(e, n);

	for (int k = 0; k < l; k++) {
		uint8_t *p = ram_at(e, table) + TERN_PT_INDEX(va, k) * 8;
		uint64_t pte = get64(p);

		if (!(pte & TERN_PTE_VALID)) {
			pte = pt_alloc(e) | TERN_PTE_VALID;
			put64(p, pte);
		}
		table = pte & TERN_PTE_ADDR_MASK;
	}
	return ram_at(e, table) + TERN_PT_INDEX(va, l) * 8;
}

void map4k(struct env *e, unsigned int n, uint64_t va, uint64_t pa,
		  uint64_t perm)
{
	put64(pte_at(e, n, va, 2), pa | perm | TERN_PTE_VALID | TERN_PTE_LEAF);
}

void map2m(struct env *e, unsigned int n, uint64_t va, uint64_t pa,
		  uint64_t perm)
{
	put64(pte_at(e, n, va, 1), pa | perm | TERN_PTE_VALID | TERN_PTE_LEAF);
}

/* npages 4 KiB pages at va onto the given page addresses. */
void map_pages(struct env *e, unsigned int n, uint64_t va,
		      const uint64_t *pa, unsigned int npages, uint64_t perm)
{
	for (unsigned int i = 0; i < npages; i++)
		map4k(e, n, va + i * 0x1000ull, pa[i], perm);
}

/* Drop context n's cached translations after a page-table change. */
void inval(struct env *e, unsigned int n)
{
	wr(e, TERN_REG_MMU_INVALIDATE, n);
}
