// SPDX-License-Identifier: MIT
/*
 * tern model: the device MMU. Page tables built in the test RAM translate
 * the addresses of DMA descriptors (kernel rings with a ctx, user-mode
 * queues bound to a context) and of launches: 4 KiB and 2 MiB pages onto
 * host memory and HBM, copies across pages, SG lists in VA space, every
 * fault reason with its registers, a fault isolated to its queue, TLB
 * invalidation and user-mode queues. Launches: test_mmu_launch.c.
 */
#include "mmu_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static struct tern_dma_desc vcopy(uint32_t ctx, uint64_t src, uint64_t dst,
				  uint64_t size)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY, 0, src, dst, size);

	d.ctx = ctx;
	return d;
}

static bool q_ready(struct env *e, unsigned int q)
{
	if (qrd(e, q, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, q, RING(q), RSIZE, false),
			 TERN_Q_STATE_ACTIVE);
	return true;
}

/* Run d on kernel queue q and expect success. */
static bool run_ok(struct env *e, unsigned int q, struct tern_dma_desc d)
{
	uint64_t done = qrd(e, q, TERN_Q_COMPLETED_LO);
	uint32_t errs = rd(e, TERN_REG_ERR_COUNT);

	CHECK(q_ready(e, q));
	CHECK_EQ(q_run1(e, q, RING(q), RSIZE, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), done + 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), errs);
	return true;
}

/*
 * Run d on queue q (a kernel ring unless it is enabled already) and expect
 * it to halt with code at addr; for an MMU fault, info too. The error is
 * acknowledged and the descriptor skipped after.
 */
static bool run_err(struct env *e, unsigned int q, struct tern_dma_desc d,
		    uint32_t code, uint64_t addr, uint32_t info,
		    const char *why)
{
	uint32_t idx, count = rd(e, TERN_REG_ERR_COUNT);
	uint32_t faults = rd(e, TERN_REG_MMU_FAULTS);
	unsigned int irqs = irq_count(e, TERN_MSIX_VEC_ERROR);

	CHECK(q_ready(e, q));
	idx = qrd(e, q, TERN_Q_TAIL);
	log_clear(e);
	CHECK_EQ(q_run1(e, q, RING(q), RSIZE, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), code);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), idx);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), q);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), idx);
	CHECK_EQ(err_addr(e), addr);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), info);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), irqs + 1);
	if (code == TERN_ERR_MMU_FAULT) {
		CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), faults + 1);
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_ADDR_LO), (uint32_t)addr);
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_ADDR_HI),
			 (uint32_t)(addr >> 32));
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_INFO), info);
	} else {
		CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), faults);
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_INFO), 0);
	}
	if (!log_has(e, why)) {
		printf("#   no log line with \"%s\"\n", why);
		return false;
	}
	wr(e, TERN_REG_ERR_ACK, 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), 0);
	qwr(e, q, TERN_Q_HEAD, (idx + 1) % RSIZE);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_FAULT_INFO), 0);
	CHECK_EQ(qrd(e, q, TERN_Q_FAULT_ADDR_LO), 0);
	return true;
}


/* ---- translation ---- */

static bool t_copy_4k_host(struct env *e)
{
	/* 4 source pages in reverse order, 4 destination pages scattered */
	const uint64_t sp[4] = { HOSTP(3), HOSTP(2), HOSTP(1), HOSTP(0) };
	const uint64_t dp[4] = { HOSTP(10), HOSTP(7), HOSTP(12), HOSTP(8) };
	uint8_t want[0x4000];
	struct tern_dma_desc d;

	ctx_setup(e, 1);
	map_pages(e, 1, VA_SRC, sp, 4, R);
	map_pages(e, 1, VA_DST, dp, 4, W);
	map4k(e, 1, VA_MISC, HOSTP(20), RW);
	for (unsigned int i = 0; i < 4; i++)
		fill_pattern(ram_at(e, sp[i]), 0x1000, i + 1);
	for (unsigned int i = 0; i < 4; i++)
		memcpy(want + i * 0x1000, ram_at(e, sp[i]), 0x1000);

	/* 0x2a00 bytes from VA_SRC + 0x345 to VA_DST + 0x7f0: 4 pages each */
	d = vcopy(1, VA_SRC + 0x345, VA_DST + 0x7f0, 0x2a00);
	d.flags = TERN_DESC_F_FENCE;
	d.fence_addr = VA_MISC + 0x18;	/* a fence at a VA */
	d.fence_value = 0xfeed;
	CHECK(run_ok(e, 0, d));
	for (uint64_t k = 0; k < 0x2a00; k++) {
		uint64_t to = 0x7f0 + k;

		CHECK_EQ(ram_at(e, dp[to / 0x1000])[to % 0x1000],
			 want[0x345 + k]);
	}
	/* nothing before or after */
	CHECK_EQ(ram_at(e, dp[0])[0x7ef], 0);
	CHECK_EQ(ram_at(e, dp[3])[(0x7f0 + 0x2a00) % 0x1000], 0);
	CHECK_EQ(get64(ram_at(e, HOSTP(20)) + 0x18), 0xfeed);
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 0);
	CHECK_EQ(log_count(e), 0);
	return true;
}

static bool t_copy_4k_hbm(struct env *e)
{
	/* host VA -> HBM VA (HBM pages out of order) -> host VA */
	const uint64_t hp[3] = { HBMP(9), HBMP(4), HBMP(5) };
	const uint64_t sp[3] = { HOSTP(0), HOSTP(1), HOSTP(2) };
	const uint64_t dp[3] = { HOSTP(5), HOSTP(6), HOSTP(7) };

	ctx_setup(e, 3);
	map_pages(e, 3, VA_SRC, sp, 3, RW);
	map_pages(e, 3, VA_MISC, hp, 3, RW | H);
	map_pages(e, 3, VA_DST, dp, 3, RW);
	fill_pattern(ram_at(e, HOSTP(0)), 0x3000, 7);
	CHECK(run_ok(e, 1, vcopy(3, VA_SRC + 8, VA_MISC + 0x100, 0x2e00)));
	CHECK(memcmp(e->hbm + HBMP(9) + 0x100, ram_at(e, HOSTP(0)) + 8,
		     0xf00) == 0);
	CHECK(memcmp(e->hbm + HBMP(4), ram_at(e, HOSTP(0)) + 8 + 0xf00,
		     0x1000) == 0);
	CHECK(memcmp(e->hbm + HBMP(5), ram_at(e, HOSTP(0)) + 8 + 0x1f00,
		     0xf00) == 0);
	/* HBM VA -> HBM VA, then back to host */
	CHECK(run_ok(e, 1, vcopy(3, VA_MISC + 0x100, VA_DST, 0x2e00)));
	CHECK(memcmp(ram_at(e, HOSTP(5)), ram_at(e, HOSTP(0)) + 8, 0x2e00) ==
	      0);
	return true;
}

static bool t_copy_2m(struct env *e)
{
	const uint64_t n = 3u << 20;	/* across two 2 MiB pages */
	uint8_t *src = e->ram + HUGE_OFF;

	ctx_setup(e, 2);
	map2m(e, 2, VA_SRC, gpa(HUGE_OFF + (4u << 20)), R);
	map2m(e, 2, VA_SRC + (2u << 20), gpa(HUGE_OFF), R);
	map2m(e, 2, VA_DST, HBM_HUGE + (2u << 20), RW | H);
	map2m(e, 2, VA_DST + (2u << 20), HBM_HUGE, RW | H);
	map2m(e, 2, VA_BIG, gpa(HUGE_OFF + (8u << 20)), W);
	fill_pattern(src, 6u << 20, 3);
	CHECK(run_ok(e, 0, vcopy(2, VA_SRC + 0x1000, VA_DST + 0x800, n)));
	/* VA_SRC + 0x1000.. is host HUGE_OFF + 4 MiB + 0x1000 for 2 MiB - 4K */
	CHECK(memcmp(e->hbm + HBM_HUGE + (2u << 20) + 0x800,
		     src + (4u << 20) + 0x1000, (2u << 20) - 0x1000) == 0);
	CHECK(memcmp(e->hbm + HBM_HUGE + (2u << 20) + 0x800 +
		     (2u << 20) - 0x1000, src, 0x800) == 0);
	CHECK(memcmp(e->hbm + HBM_HUGE, src + 0x800,
		     n - ((2u << 20) - 0x1000) - 0x800) == 0);
	/* and out to a host 2 MiB page at a VA past 2^38 */
	CHECK(run_ok(e, 0, vcopy(2, VA_DST + 0x800, VA_BIG + 0x10, 0x1000)));
	CHECK(memcmp(src + (8u << 20) + 0x10,
		     e->hbm + HBM_HUGE + (2u << 20) + 0x800, 0x1000) == 0);
	return true;
}

static bool t_sgl_va(struct env *e)
{
	/* SG lists at VAs straddling a page, entries naming VAs */
	uint8_t *ls = ram_at(e, HOSTP(31)) + 0x1000 - 24;
	uint8_t *ld = ram_at(e, HOSTP(33)) + 0x1000 - 8;
	uint8_t tmp[16 * 3];
	const uint64_t lp[4] = { HOSTP(30), HOSTP(31), HOSTP(32), HOSTP(33) };
	const uint64_t hp[2] = { HBMP(1), HBMP(0) };

	ctx_setup(e, 5);
	map_pages(e, 5, VA_MISC, lp, 4, R);
	map_pages(e, 5, VA_SRC, hp, 2, R | H);
	map4k(e, 5, VA_DST, HOSTP(40), W);
	map4k(e, 5, VA_DST + 0x1000, HOSTP(41), W);
	fill_pattern(e->hbm + HBMP(0), 0x2000, 9);
	/* src: 3 entries; list crosses HOSTP(31) -> HOSTP(32) */
	put_sg(tmp, 0, VA_SRC + 0x1ff0, 0x10);	/* HBMP(0) + 0xff0 */
	put_sg(tmp, 1, VA_SRC, 0x20);		/* HBMP(1) */
	put_sg(tmp, 2, VA_SRC + 0xff8, 0x10);	/* crosses HBMP(1)->(0) */
	memcpy(ls, tmp, 24);
	memcpy(ram_at(e, HOSTP(32)), tmp + 24, 24);
	/* dst: 2 entries; the list crosses from HOSTP(33) to the next VA */
	put_sg(tmp, 0, VA_DST + 0xff8, 0x18);	/* crosses 40 -> 41 */
	put_sg(tmp, 1, VA_DST + 0x1100, 0x28);
	memcpy(ld, tmp, 8);
	/* the list's second half is past VA_MISC + 0x4000: unmapped */
	{
		struct tern_dma_desc d = vcopy(5, VA_MISC + 0x2000 - 24,
					       VA_MISC + 0x4000 - 8, 0x40);

		d.flags = TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL;
		d.src_sgl_count = 3;
		d.dst_sgl_count = 2;
		CHECK(run_err(e, 0, d, TERN_ERR_MMU_FAULT, VA_MISC + 0x4000,
			      FAULT(5, 0, UNMAPPED),
			      "ctx 5 dst SG list VA 0x30004000 (read): "
			      "unmapped"));
		map4k(e, 5, VA_MISC + 0x4000, HOSTP(34), R);
		memcpy(ram_at(e, HOSTP(34)), tmp + 8, 24);
		CHECK(run_ok(e, 0, d));
	}
	{
		uint8_t want[0x40];
		uint8_t *d0 = ram_at(e, HOSTP(40)), *d1 = ram_at(e, HOSTP(41));

		memcpy(want, e->hbm + HBMP(0) + 0xff0, 0x10);
		memcpy(want + 0x10, e->hbm + HBMP(1), 0x20);
		memcpy(want + 0x30, e->hbm + HBMP(1) + 0xff8, 8);
		memcpy(want + 0x38, e->hbm + HBMP(0), 8);
		CHECK(memcmp(d0 + 0xff8, want, 8) == 0);
		CHECK(memcmp(d1, want + 8, 0x10) == 0);
		CHECK(memcmp(d1 + 0x100, want + 0x18, 0x28) == 0);
	}
	return true;
}

/* ---- faults ---- */

static bool t_fault_reasons(struct env *e)
{
	struct tern_dma_desc d;
	uint8_t *p;

	ctx_setup(e, 1);
	map4k(e, 1, VA_SRC, HOSTP(0), R);
	map4k(e, 1, VA_DST, HOSTP(1), R);		/* no WRITE */
	map4k(e, 1, VA_MISC, HOSTP(2), W);		/* no READ */

	/* unmapped at each level */
	CHECK(run_err(e, 0, vcopy(1, VA_BIG, HOSTP(0), 8), TERN_ERR_MMU_FAULT,
		      VA_BIG, FAULT(1, 0, UNMAPPED), "unmapped"));
	/* L0 has VA_SRC's table; VA_SRC + 1 GiB... no: same L0, next L1 */
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + (2u << 20), VA_DST, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + (2u << 20),
		      FAULT(1, 0, UNMAPPED), "ctx 1 src VA 0x10200000 (read): "
		      "unmapped"));
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + 0x1000, VA_DST, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + 0x1000,
		      FAULT(1, 0, UNMAPPED), "unmapped"));
	/* permissions */
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_DST + 4, 8),
		      TERN_ERR_MMU_FAULT, VA_DST + 4, FAULT(1, 1, PERMISSION),
		      "dst VA 0x20000004 (write): permission"));
	CHECK(run_err(e, 0, vcopy(1, VA_MISC + 0x10, VA_DST, 8),
		      TERN_ERR_MMU_FAULT, VA_MISC + 0x10,
		      FAULT(1, 0, PERMISSION), "(read): permission"));
	d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_FENCE, 0, 0, 0);
	d.ctx = 1;
	d.fence_addr = VA_SRC;
	CHECK(run_err(e, 0, d, TERN_ERR_MMU_FAULT, VA_SRC,
		      FAULT(1, 1, PERMISSION), "fence VA 0x10000000 (write)"));

	/* bad PTEs: reserved bits in a leaf and in a table entry */
	p = pte_at(e, 1, VA_SRC, 2);
	put64(p, get64(p) | 1ull << 60);
	inval(e, 1);	/* VA_SRC's translation is cached */
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	put64(p, get64(p) & ~(1ull << 60));
	p = pte_at(e, 1, VA_SRC, 0);
	put64(p, get64(p) | 1ull << 52);
	inval(e, 1);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	/* a table entry with permission bits */
	put64(p, (get64(p) & ~(1ull << 52)) | R);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	put64(p, get64(p) & ~R);
	/* LEAF at L0 */
	put64(pte_at(e, 1, 3ull << 30, 0),
	      gpa(0) | TERN_PTE_VALID | TERN_PTE_LEAF | R);
	CHECK(run_err(e, 0, vcopy(1, 3ull << 30, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, 3ull << 30, FAULT(1, 0, BAD_PTE),
		      "bad page-table entry"));
	/* an L2 entry without LEAF */
	put64(pte_at(e, 1, VA_SRC + 0x5000, 2),
	      HOSTP(5) | TERN_PTE_VALID | R);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + 0x5000, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + 0x5000,
		      FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	/* a 2 MiB page at an address that is not 2 MiB aligned */
	map2m(e, 1, VA_SRC + (4u << 20), gpa(HUGE_OFF + 0x1000), R);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + (4u << 20) + 8, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + (4u << 20) + 8,
		      FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	/* a table that is not guest RAM */
	put64(pte_at(e, 1, 5ull << 30, 0), 0x1000 | TERN_PTE_VALID);
	CHECK(run_err(e, 0, vcopy(1, (5ull << 30) + 0x20, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, (5ull << 30) + 0x20,
		      FAULT(1, 0, BAD_PTE), "bad page-table entry"));

	/* range: VA past 39 bits, HBM page past the HBM, host page not RAM */
	CHECK(run_err(e, 0, vcopy(1, 1ull << 39, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, 1ull << 39, FAULT(1, 0, RANGE),
		      "out of range"));
	CHECK(run_err(e, 0, vcopy(1, (1ull << 39) - 4, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, 1ull << 39, FAULT(1, 0, RANGE),
		      "out of range"));
	map4k(e, 1, VA_SRC + 0x6000, HBM_SIZE, R | H);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + 0x6000, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + 0x6000, FAULT(1, 0, RANGE),
		      "out of range"));
	map2m(e, 1, VA_DST + (2u << 20), HBM_SIZE - (1u << 20), RW | H);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_DST + (2u << 20), 8),
		      TERN_ERR_MMU_FAULT, VA_DST + (2u << 20),
		      FAULT(1, 1, BAD_PTE), "bad page-table entry"));
	map2m(e, 1, VA_DST + (2u << 20), HBM_SIZE, RW | H);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_DST + (2u << 20), 8),
		      TERN_ERR_MMU_FAULT, VA_DST + (2u << 20),
		      FAULT(1, 1, RANGE), "out of range"));
	map4k(e, 1, VA_SRC + 0x7000, 0x2000, R);	/* not guest RAM */
	CHECK(run_err(e, 0, vcopy(1, VA_SRC + 0x7000, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC + 0x7000, FAULT(1, 0, RANGE),
		      "out of range"));

	/* bad contexts: disabled, out of range; 0 has no registers */
	CHECK(run_err(e, 0, vcopy(2, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(2, 0, BAD_CONTEXT), "ctx 2 descriptor"));
	CHECK(run_err(e, 0, vcopy(TERN_MAX_CONTEXTS, VA_SRC, VA_MISC, 8),
		      TERN_ERR_MMU_FAULT, VA_SRC,
		      FAULT(TERN_MAX_CONTEXTS, 0, BAD_CONTEXT),
		      "bad context"));
	wr(e, TERN_REG_CTX(1) + TERN_CTX_CTRL, 0);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(1, 0, BAD_CONTEXT), "bad context"));
	/* a misaligned root */
	wr(e, TERN_REG_CTX(1) + TERN_CTX_ROOT_LO,
	   (uint32_t)ctx_root(e, 1) + 8);
	wr(e, TERN_REG_CTX(1) + TERN_CTX_CTRL, TERN_CTX_CTRL_ENABLE);
	CHECK(run_err(e, 0, vcopy(1, VA_SRC, VA_MISC, 8), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(1, 0, BAD_PTE), "bad page-table entry"));
	CHECK(log_has(e, "queue 0 index"));
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 23);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 23);
	return true;
}

static bool t_fault_regs_first_latched(struct env *e)
{
	/* two faults: ERR_* keep the first, each queue its own */
	ctx_setup(e, 1);
	ctx_setup(e, 2);
	CHECK(q_ready(e, 0));
	CHECK(q_ready(e, 1));
	{
		struct tern_dma_desc a = vcopy(1, VA_SRC, VA_DST, 8);
		struct tern_dma_desc b = vcopy(2, VA_MISC, VA_DST, 8);

		CHECK_EQ(q_run1(e, 0, RING(0), RSIZE, &a), TERN_Q_STATE_HALTED);
		CHECK_EQ(q_run1(e, 1, RING(1), RSIZE, &b), TERN_Q_STATE_HALTED);
	}
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), 0);
	CHECK_EQ(err_addr(e), VA_SRC);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), FAULT(1, 0, UNMAPPED));
	CHECK_EQ(qrd(e, 1, TERN_Q_FAULT_ADDR_LO), (uint32_t)VA_MISC);
	CHECK_EQ(qrd(e, 1, TERN_Q_FAULT_INFO), FAULT(2, 0, UNMAPPED));
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 2);
	CHECK(log_has(e, "queue 1 index 0: MMU fault: ctx 2 src VA 0x30000000 "
		      "(read): unmapped (error 12 MMU_FAULT"));
	/* a reset clears it all */
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), 0);
	CHECK_EQ(qrd(e, 1, TERN_Q_FAULT_INFO), 0);
	CHECK_EQ(rd(e, TERN_REG_CTX(1) + TERN_CTX_CTRL), 0);
	CHECK_EQ(ctx_root(e, 2), 0);
	return true;
}

static bool t_fault_isolated(struct env *e)
{
	/* queue 0 (ctx 1) faults, queue 1 (ctx 2) keeps copying */
	uint32_t tail = 0;

	ctx_setup(e, 1);
	ctx_setup(e, 2);
	map4k(e, 2, VA_SRC, HOSTP(0), R);
	map4k(e, 2, VA_DST, HOSTP(1), W);
	fill_pattern(ram_at(e, HOSTP(0)), 0x1000, 5);
	CHECK(q_ready(e, 0));
	CHECK(q_ready(e, 1));
	for (unsigned int i = 0; i < 4; i++) {
		struct tern_dma_desc a = vcopy(1, VA_SRC, VA_DST, 0x100);
		struct tern_dma_desc b = vcopy(2, VA_SRC + i * 0x100,
					       VA_DST + i * 0x100, 0x100);

		put_desc(e, false, RING(0), i, &a);
		put_desc(e, false, RING(1), i, &b);
	}
	tail = 4;
	doorbell(e, 0, tail);
	doorbell(e, 1, tail);
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_HALTED);
	CHECK_EQ(q_wait(e, 1), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_MMU_FAULT);
	CHECK_EQ(qrd(e, 1, TERN_Q_COMPLETED_LO), 4);
	CHECK(memcmp(ram_at(e, HOSTP(1)), ram_at(e, HOSTP(0)), 0x400) == 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 1);
	return true;
}

/* ---- TLB ---- */

static bool t_tlb_invalidate(struct env *e)
{
	uint8_t *a = ram_at(e, HOSTP(0)), *b = ram_at(e, HOSTP(1));
	uint8_t *out = ram_at(e, HOSTP(2));

	memset(a, 0xaa, 0x1000);
	memset(b, 0xbb, 0x1000);
	ctx_setup(e, 4);
	map4k(e, 4, VA_SRC, HOSTP(0), R);
	map4k(e, 4, VA_DST, HOSTP(2), W);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xaa);
	/*
	 * Remapped without invalidation: the engine may keep using the old
	 * translation (here it does: queue 0's engine cached it).
	 */
	map4k(e, 4, VA_SRC, HOSTP(1), R);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xaa);
	/* invalidating another context changes nothing */
	wr(e, TERN_REG_MMU_INVALIDATE, 5);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xaa);
	wr(e, TERN_REG_MMU_INVALIDATE, 4);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xbb);
	/* ALL */
	map4k(e, 4, VA_SRC, HOSTP(0), R);
	wr(e, TERN_REG_MMU_INVALIDATE, TERN_MMU_INVALIDATE_ALL);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xaa);
	/* a write of the context's CTRL invalidates too */
	map4k(e, 4, VA_SRC, HOSTP(1), R);
	wr(e, TERN_REG_CTX(4) + TERN_CTX_CTRL, TERN_CTX_CTRL_ENABLE);
	CHECK(run_ok(e, 0, vcopy(4, VA_SRC, VA_DST, 16)));
	CHECK_EQ(out[0], 0xbb);
	/* and unmapping + invalidating faults */
	put64(pte_at(e, 4, VA_SRC, 2), 0);
	wr(e, TERN_REG_MMU_INVALIDATE, 4);
	CHECK(run_err(e, 0, vcopy(4, VA_SRC, VA_DST, 16), TERN_ERR_MMU_FAULT,
		      VA_SRC, FAULT(4, 0, UNMAPPED), "unmapped"));
	/* bad invalidations are guest errors */
	log_clear(e);
	wr(e, TERN_REG_MMU_INVALIDATE, 0);
	wr(e, TERN_REG_MMU_INVALIDATE, TERN_MAX_CONTEXTS);
	CHECK_EQ(log_count(e), 2);
	CHECK(log_has(e, "MMU_INVALIDATE write 0x40 is not a context"));
	return true;
}

/*
 * An invalidation returns only after every access that uses the old
 * translations has finished: the engine is held inside its write of the
 * first destination page (the gate) while the second page is unmapped and
 * the context invalidated from another thread. The write finishes, the
 * next page faults, and nothing lands after the invalidation returned.
 */
struct inval_arg {
	struct env *e;
	uint32_t val;
	atomic_bool done;
};

static void *inval_thread(void *p)
{
	struct inval_arg *a = p;

	wr(a->e, TERN_REG_MMU_INVALIDATE, a->val);
	atomic_store(&a->done, true);
	return NULL;
}

static bool t_invalidate_waits_for_access(struct env *e)
{
	struct inval_arg a = { .e = e, .val = 3 };
	struct tern_dma_desc d = vcopy(3, VA_SRC, VA_DST, 0x2000);
	uint8_t *src = ram_at(e, HOSTP(0)), *dst = ram_at(e, HOSTP(4));
	uint8_t *dst2 = ram_at(e, HOSTP(6));
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	pthread_t t;

	ctx_setup(e, 3);
	map4k(e, 3, VA_SRC, HOSTP(0), R);
	map4k(e, 3, VA_SRC + 0x1000, HOSTP(1), R);
	/* not contiguous: the second page is a piece of its own */
	map4k(e, 3, VA_DST, HOSTP(4), W);
	map4k(e, 3, VA_DST + 0x1000, HOSTP(6), W);
	fill_pattern(src, 0x2000, 21);
	memset(dst, 0, 0x1000);
	memset(dst2, 0, 0x1000);
	CHECK(q_ready(e, 0));
	gate_arm(e, HOSTP(4), false);
	put_desc(e, false, RING(0), qrd(e, 0, TERN_Q_TAIL), &d);
	doorbell(e, 0, qrd(e, 0, TERN_Q_TAIL) + 1);
	CHECK(gate_wait_hit(e));

	put64(pte_at(e, 3, VA_DST + 0x1000, 2), 0);
	CHECK_EQ(pthread_create(&t, NULL, inval_thread, &a), 0);
	nanosleep(&pause, NULL);
	/* the write in flight used the old translations: still waited for */
	CHECK(!atomic_load(&a.done));
	gate_open(e);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK(atomic_load(&a.done));
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_MMU_FAULT);
	CHECK_EQ(qrd(e, 0, TERN_Q_FAULT_ADDR_LO), (uint32_t)(VA_DST + 0x1000));
	CHECK(memcmp(dst, src, 0x1000) == 0);
	for (unsigned int i = 0; i < 0x1000; i++)
		CHECK_EQ(dst2[i], 0);
	return true;
}

/* ---- kernel rings: flags with a ctx ---- */

static bool t_kernel_ctx_flags(struct env *e)
{
	struct tern_dma_desc d;

	ctx_setup(e, 1);
	map4k(e, 1, VA_SRC, HOSTP(0), RW);
	d = vcopy(1, 0, VA_SRC, 8);
	d.flags = TERN_DESC_F_SRC_HBM;
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "addresses are VAs"));
	d = vcopy(1, VA_SRC, 0, 8);
	d.flags = TERN_DESC_F_DST_HBM;
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0) + 64, 0,
		      "addresses are VAs"));
	d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_FENCE | TERN_DESC_F_FENCE_HBM,
		   0, 0, 0);
	d.ctx = 1;
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0) + 128, 0,
		      "needs FENCE_PHYS"));
	d.ctx = 0;
	d.flags = TERN_DESC_F_FENCE | TERN_DESC_F_FENCE_PHYS;
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0) + 192, 0,
		      "FENCE_PHYS with ctx 0"));
	d.ctx = 1;
	d.flags = TERN_DESC_F_FENCE_PHYS;
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0) + 256, 0,
		      "FENCE_PHYS without FENCE"));
	/* physical fences of a ctx 1 copy: host and HBM */
	d = vcopy(1, VA_SRC, VA_SRC + 0x800, 8);
	d.flags = TERN_DESC_F_FENCE | TERN_DESC_F_FENCE_PHYS;
	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = 0x77;
	CHECK(run_ok(e, 0, d));
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0x77);
	d.flags |= TERN_DESC_F_FENCE_HBM;
	d.fence_addr = 0x1000;
	d.fence_value = 0x88;
	CHECK(run_ok(e, 0, d));
	CHECK_EQ(get64(e->hbm + 0x1000), 0x88);
	return true;
}

/* ---- user-mode queues ---- */

#define UQ	2
#define VA_RING	0x50000000ull

static bool uq_enable(struct env *e, unsigned int ctx)
{
	qwr(e, UQ, TERN_Q_CTX, ctx);
	CHECK_EQ(qrd(e, UQ, TERN_Q_CTX), ctx);
	CHECK_EQ(q_enable(e, UQ, VA_RING, RSIZE, false), TERN_Q_STATE_ACTIVE);
	return true;
}

static bool t_user_queue(struct env *e)
{
	struct tern_dma_desc d;
	unsigned int vec = TERN_MSIX_VEC_QUEUE(UQ);

	ctx_setup(e, 7);
	/* the ring VA's page is the physical RING(UQ) */
	map4k(e, 7, VA_RING, RING(UQ), R);
	map4k(e, 7, VA_SRC, HOSTP(0), R);
	map4k(e, 7, VA_DST, HBMP(3), W | H);
	map4k(e, 7, VA_MISC, HOSTP(9), RW);
	fill_pattern(ram_at(e, HOSTP(0)), 0x1000, 11);
	CHECK(uq_enable(e, 7));
	/* Q_CTX may not change while the queue is enabled */
	log_clear(e);
	qwr(e, UQ, TERN_Q_CTX, 3);
	CHECK_EQ(qrd(e, UQ, TERN_Q_CTX), 7);
	CHECK(log_has(e, "Q_CTX write 3 while enabled"));

	d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_FENCE | TERN_DESC_F_IRQ,
		   VA_SRC + 0x10, VA_DST + 0x20, 0x200);
	d.fence_addr = VA_MISC + 0x40;
	d.fence_value = 0xabcdef;
	CHECK(run_ok(e, UQ, d));
	CHECK(memcmp(e->hbm + HBMP(3) + 0x20, ram_at(e, HOSTP(0)) + 0x10,
		     0x200) == 0);
	CHECK_EQ(get64(ram_at(e, HOSTP(9)) + 0x40), 0xabcdef);
	CHECK_EQ(irq_count(e, vec), 1);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 1u << UQ);

	/* descriptors of a user-mode queue: ctx 0, no HBM or PHYS flags */
	d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);
	d.ctx = 7;
	CHECK(run_err(e, UQ, d, TERN_ERR_RESERVED, VA_RING + 64, 0,
		      "ctx field is 7 on the user-mode queue of context 7"));
	{
		static const uint32_t bad[] = {
			TERN_DESC_F_SRC_HBM, TERN_DESC_F_DST_HBM,
			TERN_DESC_F_FENCE | TERN_DESC_F_FENCE_HBM,
			TERN_DESC_F_FENCE | TERN_DESC_F_FENCE_PHYS,
		};

		for (unsigned int i = 0; i < 4; i++) {
			d = mkdesc(TERN_DESC_OP_COPY, bad[i], VA_SRC, VA_DST,
				   8);
			CHECK(run_err(e, UQ, d, TERN_ERR_BAD_FLAGS,
				      VA_RING + 64 * (2 + i), 0,
				      "on the user-mode queue"));
		}
	}
	/* ring page unmapped: the fetch faults at the descriptor's VA */
	put64(pte_at(e, 7, VA_RING, 2), 0);
	wr(e, TERN_REG_MMU_INVALIDATE, 7);
	d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);
	CHECK(run_err(e, UQ, d, TERN_ERR_MMU_FAULT, VA_RING + 64 * 6,
		      FAULT(7, 0, UNMAPPED), "ctx 7 ring VA 0x50000180"));
	map4k(e, 7, VA_RING, RING(UQ), R);
	wr(e, TERN_REG_MMU_INVALIDATE, 7);
	/* a fault in the copy itself */
	d = mkdesc(TERN_DESC_OP_COPY, 0, VA_SRC, VA_SRC, 8);
	CHECK(run_err(e, UQ, d, TERN_ERR_MMU_FAULT, VA_SRC,
		      FAULT(7, 1, PERMISSION), "dst VA 0x10000000 (write)"));
	CHECK(run_ok(e, UQ, mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0)));

	/* enabling: RING_IN_HBM is not for user queues; Q_CTX range */
	qwr(e, UQ, TERN_Q_CTRL, 0);
	log_clear(e);
	qwr(e, UQ, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RING_IN_HBM);
	CHECK_EQ(qrd(e, UQ, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(qrd(e, UQ, TERN_Q_ERROR), TERN_ERR_BAD_RING);
	CHECK(log_has(e, "RING_IN_HBM on the user-mode queue"));
	qwr(e, UQ, TERN_Q_RING_BASE_HI, 0x80);	/* VA 2^39 + ... */
	qwr(e, UQ, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE);
	CHECK_EQ(qrd(e, UQ, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK(log_has(e, "passes the 39-bit VA space"));
	qwr(e, UQ, TERN_Q_CTX, TERN_MAX_CONTEXTS);
	CHECK_EQ(qrd(e, UQ, TERN_Q_CTX), 7);
	CHECK(log_has(e, "Q_CTX write 64 is not a context"));
	/* back to a kernel ring */
	qwr(e, UQ, TERN_Q_CTX, 0);
	CHECK_EQ(q_enable(e, UQ, RING(UQ), RSIZE, false), TERN_Q_STATE_ACTIVE);
	wr(e, TERN_REG_ERR_ACK, 1);
	d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_FENCE, 0, 0, 0);
	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = 5;
	CHECK_EQ(q_run1(e, UQ, RING(UQ), RSIZE, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 5);
	return true;
}

static bool t_user_queue_disabled_ctx(struct env *e)
{
	/* the context is not enabled: the first fetch faults */
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);

	CHECK(uq_enable(e, 9));
	CHECK(run_err(e, UQ, d, TERN_ERR_MMU_FAULT, VA_RING,
		      FAULT(9, 0, BAD_CONTEXT), "ctx 9 ring"));
	return true;
}

static const struct test_case cases[] = {
	TEST("4 KiB pages: host to host, scattered, across pages",
	     t_copy_4k_host),
	TEST("4 KiB pages: host and HBM targets", t_copy_4k_hbm),
	TEST("2 MiB pages: host to HBM across pages", t_copy_2m),
	TEST("SG lists and entries in VA space", t_sgl_va),
	TEST("every fault reason with its registers", t_fault_reasons),
	TEST("fault registers: first latched, per queue, reset",
	     t_fault_regs_first_latched),
	TEST("a faulting queue halts, another context's completes",
	     t_fault_isolated),
	TEST("TLB invalidation", t_tlb_invalidate),
	TEST("invalidation waits for accesses", t_invalidate_waits_for_access),
	TEST("kernel ring ctx flags and PHYS fences", t_kernel_ctx_flags),
	TEST("user-mode queue", t_user_queue),
	TEST("user-mode queue of a disabled context", t_user_queue_disabled_ctx),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
