// SPDX-License-Identifier: MIT
/*
 * tern model: malformed descriptors. Each must halt its queue with the right
 * error code and address, latch and log the error, send the error vector,
 * write nothing more (no fence, no completion) and never touch memory
 * outside RAM and HBM. Also halt / resume / skip.
 */
#include "tern_test.h"

#include <stdio.h>
#include <string.h>

#define RING_OFF	0x000000u
#define FENCE_OFF	0x100000u
#define SGL_OFF		0x110000u
#define SRC_OFF		0x200000u
#define DST_OFF		0x2000000u
#define RSIZE		64u
#define RING(q)		gpa(RING_OFF + (q) * 0x10000u)
#define FENCE		gpa(FENCE_OFF)
#define RD_SRC		"cannot read src host memory"
#define WR_DST		"cannot write dst host memory"

/*
 * Run d (with FENCE|IRQ added unless no_fence) on queue q and expect error
 * code at address addr; then skip it and acknowledge, ready for the next.
 */
static bool expect_err(struct env *e, unsigned int q,
		       struct tern_dma_desc d, bool no_fence, uint32_t code,
		       uint64_t addr, const char *why)
{
	uint32_t idx, count, st;
	uint64_t done;
	unsigned int err_irqs = irq_count(e, TERN_MSIX_VEC_ERROR);
	unsigned int q_irqs = irq_count(e, TERN_MSIX_VEC_QUEUE(q));
	char prefix[64];

	if (qrd(e, q, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, q, RING(q), RSIZE, false),
			 TERN_Q_STATE_ACTIVE);
	if (!no_fence) {
		d.flags |= TERN_DESC_F_FENCE | TERN_DESC_F_IRQ;
		d.fence_addr = FENCE;
		d.fence_value = 0x5555;
	}
	memset(e->ram + FENCE_OFF, 0, 8);
	idx = qrd(e, q, TERN_Q_TAIL);
	count = rd(e, TERN_REG_ERR_COUNT);
	done = qrd(e, q, TERN_Q_COMPLETED_LO);
	log_clear(e);

	st = q_run1(e, q, RING(q), RSIZE, &d);
	if (st != TERN_Q_STATE_HALTED) {
		printf("#   %s: queue state %u, not halted\n", why, st);
		return false;
	}
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), code);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), idx);
	CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), done);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), q);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), idx);
	CHECK_EQ(err_addr(e), addr);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	CHECK(rd(e, TERN_REG_STATUS) & TERN_STATUS_ERROR);
	CHECK(rd(e, TERN_REG_INT_STATUS) & TERN_INT_ERROR);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), err_irqs + 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(q)), q_irqs);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0);
	snprintf(prefix, sizeof(prefix), "tern: unit0: queue %u index %u: ",
		 q, idx);
	if (!log_has(e, prefix) || !log_has(e, why) ||
	    !log_has(e, tern_err_name(code))) {
		printf("#   no log line \"%s...%s...%s\"; got \"%s\"\n", prefix,
		       why, tern_err_name(code), e->lines[0]);
		return false;
	}
	/* skip it */
	qwr(e, q, TERN_Q_HEAD, (idx + 1) % RSIZE);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	wr(e, TERN_REG_ERR_ACK, 1);
	wr(e, TERN_REG_INT_STATUS, TERN_INT_ERROR);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), TERN_ERR_NONE);
	return true;
}

static struct tern_dma_desc copy(uint32_t flags, uint64_t src, uint64_t dst,
				 uint64_t size)
{
	return mkdesc(TERN_DESC_OP_COPY, flags, src, dst, size);
}

static bool t_bad_opcode(struct env *e)
{
	struct tern_dma_desc d = mkdesc(3, 0, 0, 0, 0);	/* 2: LINK_COPY */

	CHECK(expect_err(e, 0, d, false, TERN_ERR_BAD_OPCODE, RING(0),
			 "unknown opcode 0x3"));
	d.opcode = 0xffffffff;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_BAD_OPCODE,
			 RING(0) + TERN_DESC_SIZE,
			 "unknown opcode 0xffffffff"));
	return true;
}

static bool t_bad_flags(struct env *e)
{
	struct tern_dma_desc d = copy(1u << 12, gpa(SRC_OFF), gpa(DST_OFF), 8);

	CHECK(expect_err(e, 1, d, false, TERN_ERR_BAD_FLAGS, RING(1),
			 "unknown flags 0x1000"));
	d.flags = 1u << 31;
	CHECK(expect_err(e, 1, d, false, TERN_ERR_BAD_FLAGS,
			 RING(1) + TERN_DESC_SIZE, "unknown flags 0x80000000"));
	/* SGL flags only with COPY */
	d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_SRC_SGL, 0, 0, 0);
	CHECK(expect_err(e, 1, d, false, TERN_ERR_BAD_FLAGS,
			 RING(1) + 2 * TERN_DESC_SIZE, "non-COPY"));
	d.flags = TERN_DESC_F_DST_SGL;
	CHECK(expect_err(e, 1, d, false, TERN_ERR_BAD_FLAGS,
			 RING(1) + 3 * TERN_DESC_SIZE, "non-COPY"));
	/* FENCE_HBM only with FENCE */
	d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_FENCE_HBM, 0, 0, 0);
	CHECK(expect_err(e, 1, d, true, TERN_ERR_BAD_FLAGS,
			 RING(1) + 4 * TERN_DESC_SIZE, "FENCE_HBM without"));
	return true;
}

static bool t_reserved(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);

	d.link = 1u << 31;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_RESERVED, RING(0),
			 "reserved field is 0x80000000"));
	return true;
}

static bool t_sgl_count_without_flag(struct env *e)
{
	struct tern_dma_desc d = copy(0, gpa(SRC_OFF), gpa(DST_OFF), 8);

	d.src_sgl_count = 1;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SRC_OFF),
			 "src_sgl_count 1 without SRC_SGL"));
	d.src_sgl_count = 0;
	d.dst_sgl_count = 3;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(DST_OFF),
			 "dst_sgl_count 3 without DST_SGL"));
	/* also on NOP */
	d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);
	d.dst_sgl_count = 1;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, 0, "without DST_SGL"));
	return true;
}

static bool t_hbm_range(struct env *e)
{
	const uint32_t s = TERN_DESC_F_SRC_HBM, t = TERN_DESC_F_DST_HBM;

	memset(e->ram + DST_OFF, 0x77, 64);
	/* one byte past the end */
	CHECK(expect_err(e, 2, copy(s, HBM_SIZE - 10, gpa(DST_OFF), 11), false,
			 TERN_ERR_HBM_RANGE, HBM_SIZE - 10, "src HBM range"));
	/* nothing was copied: HBM ranges are checked before any data */
	CHECK_EQ(e->ram[DST_OFF], 0x77);
	/* offset + size wraps 2^64 */
	CHECK(expect_err(e, 2, copy(t, gpa(SRC_OFF), ~0ull - 4, 16), false,
			 TERN_ERR_HBM_RANGE, ~0ull - 4, "dst HBM range"));
	CHECK(expect_err(e, 2, copy(t, gpa(SRC_OFF), 16, HBM_SIZE), false,
			 TERN_ERR_HBM_RANGE, 16, "dst HBM range"));
	/* larger than the HBM; offset at the end */
	CHECK(expect_err(e, 2, copy(s | t, 0, 0, HBM_SIZE + 1), false,
			 TERN_ERR_HBM_RANGE, 0, "src HBM range"));
	CHECK(expect_err(e, 2, copy(s | t, 0, HBM_SIZE, 1), false,
			 TERN_ERR_HBM_RANGE, HBM_SIZE, "dst HBM range"));
	CHECK(expect_err(e, 2, copy(s, HBM_SIZE + 1, gpa(DST_OFF), 0), false,
			 TERN_ERR_HBM_RANGE, HBM_SIZE + 1, "src HBM range"));
	return true;
}

static bool t_host_range(struct env *e)
{
	const uint64_t end = gpa(RAM_SIZE);

	/* below RAM, above RAM, wrapping */
	CHECK(expect_err(e, 0, copy(TERN_DESC_F_DST_HBM, 0x1000, 0, 64), false,
			 TERN_ERR_HOST_DMA, 0x1000, RD_SRC));
	CHECK(expect_err(e, 0, copy(TERN_DESC_F_SRC_HBM, 0, end, 1), false,
			 TERN_ERR_HOST_DMA, end, WR_DST));
	CHECK(expect_err(e, 0, copy(0, ~0ull - 10, gpa(DST_OFF), 100), false,
			 TERN_ERR_HOST_DMA, ~0ull - 10, "wraps"));
	/* straddling the end of RAM, both directions */
	fill_pattern(e->hbm, 8192, 1);
	CHECK(expect_err(e, 0, copy(TERN_DESC_F_SRC_HBM, 0, end - 100, 4096),
			 false, TERN_ERR_HOST_DMA, end - 100,
			 WR_DST));
	CHECK(expect_err(e, 0, copy(TERN_DESC_F_DST_HBM, end - 100, 0, 4096),
			 false, TERN_ERR_HOST_DMA, end - 100,
			 RD_SRC));
	/* host->host: destination outside RAM after a good source */
	CHECK(expect_err(e, 0, copy(0, gpa(SRC_OFF), end - 8, 16), false,
			 TERN_ERR_HOST_DMA, end - 8, WR_DST));
	CHECK(guards_intact(e));
	return true;
}

static bool t_sgl_errors(struct env *e)
{
	const uint32_t ss = TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_HBM;
	uint8_t *l = e->ram + SGL_OFF;
	struct tern_dma_desc d;

	/* entry of size 0 */
	put_sg(l, 0, gpa(SRC_OFF), 100);
	put_sg(l, 1, gpa(SRC_OFF + 100), 0);
	d = copy(ss, gpa(SGL_OFF), 0, 200);
	d.src_sgl_count = 2;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SGL_OFF + 16),
			 "src SG entry 1 has size 0"));
	/* size 0 entry past the covered size: every entry is checked */
	d.size = 100;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SGL_OFF + 16),
			 "src SG entry 1 has size 0"));
	/* short list */
	put_sg(l, 1, gpa(SRC_OFF + 100), 50);
	d.size = 151;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SGL_OFF),
			 "shorter than the size"));
	/* count 0 and too many entries */
	d.size = 100;
	d.src_sgl_count = 0;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SGL_OFF),
			 "has 0 entries"));
	d.src_sgl_count = TERN_SGL_MAX_ENTRIES + 1;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, gpa(SGL_OFF),
			 "has 1048577 entries"));
	/* the list itself outside RAM, and wrapping */
	d.src_sgl_count = 2;
	d.src = gpa(RAM_SIZE - 16);
	CHECK(expect_err(e, 0, d, false, TERN_ERR_HOST_DMA, gpa(RAM_SIZE - 16),
			 "cannot read src SG entries"));
	d.src = ~0ull - 15;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_SGL, ~0ull - 15, "wraps"));
	/* an HBM entry outside the HBM */
	put_sg(l, 0, 64, 100);
	put_sg(l, 1, HBM_SIZE - 10, 50);
	d = copy(ss | TERN_DESC_F_SRC_HBM, gpa(SGL_OFF), 0, 150);
	d.flags &= ~TERN_DESC_F_DST_HBM;
	d.dst = gpa(DST_OFF);
	d.src_sgl_count = 2;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_HBM_RANGE, HBM_SIZE - 10,
			 "src SG entry 1: HBM range"));
	/* a host entry outside RAM, on the destination side */
	put_sg(l, 0, gpa(DST_OFF), 100);
	put_sg(l, 1, 0x2000, 50);
	d = copy(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_SGL, 0, gpa(SGL_OFF),
		 150);
	d.dst_sgl_count = 2;
	CHECK(expect_err(e, 0, d, false, TERN_ERR_HOST_DMA, 0x2000,
			 WR_DST));
	/* a host entry that wraps */
	put_sg(l, 1, ~0ull - 1, 50);
	CHECK(expect_err(e, 0, d, false, TERN_ERR_HOST_DMA, ~0ull - 1,
			 "dst SG entry 1: host range"));
	return true;
}

static bool t_fence_errors(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_FENCE,
					0, 0, 0);

	d.fence_addr = gpa(RAM_SIZE - 4);
	CHECK(expect_err(e, 0, d, true, TERN_ERR_FENCE, gpa(RAM_SIZE - 4),
			 "cannot write the fence"));
	d.flags |= TERN_DESC_F_FENCE_HBM;
	d.fence_addr = HBM_SIZE - 4;
	CHECK(expect_err(e, 0, d, true, TERN_ERR_FENCE, HBM_SIZE - 4,
			 "HBM fence at"));
	d.fence_addr = ~0ull - 3;
	CHECK(expect_err(e, 0, d, true, TERN_ERR_FENCE, ~0ull - 3,
			 "HBM fence at"));
	/* a fence error after a good copy: the data is there, no completion */
	fill_pattern(e->ram + SRC_OFF, 512, 9);
	d = copy(TERN_DESC_F_DST_HBM | TERN_DESC_F_FENCE, gpa(SRC_OFF), 0x100,
		 512);
	d.fence_addr = 8;
	CHECK(expect_err(e, 0, d, true, TERN_ERR_FENCE, 8,
			 "cannot write the fence"));
	CHECK(!memcmp(e->hbm + 0x100, e->ram + SRC_OFF, 512));
	return true;
}

static bool t_ring_fetch(struct env *e)
{
	const uint64_t base = gpa(RAM_SIZE);	/* just past RAM */

	CHECK_EQ(q_enable(e, 4, base, 8, false), TERN_Q_STATE_ACTIVE);
	doorbell(e, 4, 3);
	CHECK_EQ(q_wait(e, 4), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 4, TERN_Q_ERROR), TERN_ERR_RING_FETCH);
	CHECK_EQ(qrd(e, 4, TERN_Q_HEAD), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_RING_FETCH);
	CHECK_EQ(err_addr(e), base);
	CHECK(log_has(e, "tern: unit0: queue 4 index 0: cannot fetch"));
	/* ring half inside RAM: fetch of index 1 fails */
	qwr(e, 4, TERN_Q_CTRL, 0);
	wr(e, TERN_REG_ERR_ACK, 1);
	{
		struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);

		put_desc(e, false, gpa(RAM_SIZE - 64), 0, &d);
	}
	CHECK_EQ(q_enable(e, 4, gpa(RAM_SIZE - 64), 2, false),
		 TERN_Q_STATE_ACTIVE);
	doorbell(e, 4, 1);
	CHECK_EQ(q_wait(e, 4), TERN_Q_STATE_ACTIVE);
	doorbell(e, 4, 0);
	CHECK_EQ(q_wait(e, 4), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 4, TERN_Q_HEAD), 1);
	CHECK_EQ(err_addr(e), gpa(RAM_SIZE));
	return true;
}

static void put_fence_nop(struct env *e, unsigned int q, uint32_t idx,
			  uint32_t opcode)
{
	struct tern_dma_desc d = mkdesc(opcode, TERN_DESC_F_FENCE, 0, 0, 0);

	d.fence_addr = gpa(FENCE_OFF + 8 * idx);
	d.fence_value = 100 + idx;
	put_desc(e, false, RING(q), idx, &d);
}

static uint64_t fence_of(struct env *e, uint32_t idx)
{
	return get64(e->ram + FENCE_OFF + 8 * idx);
}

static bool t_halt_resume_skip(struct env *e)
{
	const unsigned int q = 1;

	CHECK_EQ(q_enable(e, q, RING(q), 8, false), TERN_Q_STATE_ACTIVE);
	put_fence_nop(e, q, 0, TERN_DESC_OP_NOP);
	put_fence_nop(e, q, 1, 7);			/* bad */
	put_fence_nop(e, q, 2, TERN_DESC_OP_NOP);
	put_fence_nop(e, q, 3, TERN_DESC_OP_NOP);
	doorbell(e, q, 4);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 1);
	CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), 1);
	CHECK_EQ(qrd(e, q, TERN_Q_CTRL), TERN_Q_CTRL_ENABLE);
	CHECK_EQ(fence_of(e, 0), 100);
	CHECK_EQ(fence_of(e, 1), 0);
	CHECK_EQ(fence_of(e, 2), 0);

	/* doorbells are accepted while halted; nothing runs */
	put_fence_nop(e, q, 4, TERN_DESC_OP_NOP);
	doorbell(e, q, 5);
	CHECK_EQ(qrd(e, q, TERN_Q_TAIL), 5);
	CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_HALTED);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 1);
	/* HEAD out of range is ignored */
	qwr(e, q, TERN_Q_HEAD, 8);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 1);
	CHECK(log_has(e, "out of range"));

	/* resume without fixing: halts again on the same descriptor */
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 2);

	/* fix it in memory and resume: 1..4 run */
	put_fence_nop(e, q, 1, TERN_DESC_OP_NOP);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), TERN_ERR_NONE);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 5);
	CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), 5);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(fence_of(e, i), 100 + i);

	/* skip: bad 5, good 6 and 7 (wrapping to 0) */
	put_fence_nop(e, q, 5, 3);
	put_fence_nop(e, q, 6, TERN_DESC_OP_NOP);
	put_fence_nop(e, q, 7, TERN_DESC_OP_NOP);
	doorbell(e, q, 0);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 5);
	qwr(e, q, TERN_Q_HEAD, 6);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 6);
	/* RESUME keeps the ring, whatever RING_IN_HBM says */
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME |
	    TERN_Q_CTRL_RING_IN_HBM);
	CHECK_EQ(q_wait(e, q), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), 7);
	CHECK_EQ(fence_of(e, 5), 0);
	CHECK_EQ(fence_of(e, 7), 107);
	CHECK_EQ(qrd(e, q, TERN_Q_CTRL), TERN_Q_CTRL_ENABLE);

	/* first error stays latched until ERR_ACK */
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 3);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 1);
	wr(e, TERN_REG_ERR_ACK, 1);
	CHECK_EQ(rd(e, TERN_REG_STATUS), TERN_STATUS_READY);

	/* RESUME of an active queue does nothing; of a disabled one logs */
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 0);
	qwr(e, q, TERN_Q_CTRL, 0);
	log_clear(e);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK(log_has(e, "RESUME on a disabled queue"));
	return true;
}

static bool t_halt_is_per_queue(struct env *e)
{
	struct tern_dma_desc bad = mkdesc(5, 0, 0, 0, 0);
	struct tern_dma_desc ok = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_IRQ,
					 0, 0, 0);

	CHECK_EQ(q_enable(e, 0, RING(0), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_enable(e, 1, RING(1), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, 0, RING(0), 8, &bad), TERN_Q_STATE_HALTED);
	CHECK_EQ(q_run1(e, 1, RING(1), 8, &ok), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, 1, RING(1), 8, &ok), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 1, TERN_Q_COMPLETED_LO), 2);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(1)), 2);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_HALTED);
	/* disabling a halted queue, then enabling it, starts clean */
	qwr(e, 0, TERN_Q_CTRL, 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(q_enable(e, 0, RING(0), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_NONE);
	return true;
}

static bool t_guards_after_failures(struct env *e)
{
	/*
	 * Failed copies at both edges of RAM and HBM, two chunks long: the
	 * first chunk of the first copy fits, the second fails whole.
	 */
	const uint64_t n = 2 * TERN_DMA_CHUNK;

	CHECK(expect_err(e, 3, copy(TERN_DESC_F_SRC_HBM, HBM_SIZE - n,
				    gpa(RAM_SIZE - n / 2), n), false,
			 TERN_ERR_HOST_DMA, gpa(RAM_SIZE), WR_DST));
	CHECK(expect_err(e, 3, copy(TERN_DESC_F_DST_HBM, RAM_BASE - n / 2,
				    0, n), false, TERN_ERR_HOST_DMA,
			 RAM_BASE - n / 2, RD_SRC));
	CHECK(expect_err(e, 3, copy(0, gpa(0), gpa(RAM_SIZE - 1), n), false,
			 TERN_ERR_HOST_DMA, gpa(RAM_SIZE - 1), WR_DST));
	CHECK(expect_err(e, 3, copy(TERN_DESC_F_DST_HBM, gpa(0),
				    HBM_SIZE - n + 1, n), false,
			 TERN_ERR_HBM_RANGE, HBM_SIZE - n + 1, "dst HBM"));
	CHECK(guards_intact(e));
	return true;
}

static const struct test_case cases[] = {
	TEST("bad opcode", t_bad_opcode),
	TEST("unknown or conflicting flags", t_bad_flags),
	TEST("reserved field not zero", t_reserved),
	TEST("SG count without its flag", t_sgl_count_without_flag),
	TEST("HBM range outside the HBM or wrapping", t_hbm_range),
	TEST("host address outside guest RAM", t_host_range),
	TEST("malformed SG lists", t_sgl_errors),
	TEST("fence write failures", t_fence_errors),
	TEST("descriptor fetch failure", t_ring_fetch),
	TEST("halt, resume and skip", t_halt_resume_skip),
	TEST("a halted queue does not stop the others", t_halt_is_per_queue),
	TEST("failed copies leave guard bytes intact", t_guards_after_failures),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
