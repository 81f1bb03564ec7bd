/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the device MMU: the test RAM's layout and page tables built
 * in it (a pool of 4 KiB table pages, 4 KiB and 2 MiB leaves), shared by
 * test_mmu (DMA) and test_mmu_launch (launches).
 */
#ifndef MMU_UTIL_H
#define MMU_UTIL_H

#include "core_util.h"

/* RAM layout (offsets into the test RAM) */
#define RING_OFF(q)	(0x000000u + (q) * 0x10000u)
#define FENCE_OFF	0x100000u	/* physical fence slots */
#define PT_OFF		0x200000u	/* page-table pool, 2 MiB */
#define PT_POOL		512u
#define HOST_OFF	0x400000u	/* 4 KiB host data pages */
#define HUGE_OFF	0x1000000u	/* 2 MiB host pages (16 MiB, aligned) */
#define RING(q)		gpa(RING_OFF(q))
#define HOSTP(i)	gpa(HOST_OFF + (uint64_t)(i) * 0x1000u)
#define RSIZE		16

/* HBM layout: HBMP(i) 4 KiB pages below 16 MiB, 2 MiB pages above */
#define HBMP(i)		(0x100000u + (uint64_t)(i) * 0x1000u)
#define HBM_HUGE	0x2000000u

#define R		TERN_PTE_READ
#define W		TERN_PTE_WRITE
#define H		TERN_PTE_HBM
#define RW		(R | W)

/* VAs */
#define VA_SRC		0x10000000ull
#define VA_DST		0x20000000ull
#define VA_MISC		0x30000000ull
#define VA_BIG		0x4000000000ull	/* L0 index 256 */

void put64(uint8_t *p, uint64_t v);
/* The test RAM at bus address @bus. */
uint8_t *ram_at(struct env *e, uint64_t bus);
/* Context n's root table (its ROOT register). */
uint64_t ctx_root(struct env *e, unsigned int n);
/* Give context n a fresh root table and enable it. */
void ctx_setup(struct env *e, unsigned int n);
/* The entry for va at level l of context n, creating the tables above. */
uint8_t *pte_at(struct env *e, unsigned int n, uint64_t va, int l);
void map4k(struct env *e, unsigned int n, uint64_t va, uint64_t pa, uint64_t perm);
void map2m(struct env *e, unsigned int n, uint64_t va, uint64_t pa, uint64_t perm);
/* npages 4 KiB pages at va onto the given page addresses. */
void map_pages(struct env *e, unsigned int n, uint64_t va, const uint64_t *pa,
	       unsigned int npages, uint64_t perm);
/* Drop context n's cached translations after a page-table change. */
void inval(struct env *e, unsigned int n);

#define FAULT(ctx, wr, why) TERN_FAULT_INFO(ctx, wr, TERN_FAULT_##why)

#endif /* MMU_UTIL_H */
