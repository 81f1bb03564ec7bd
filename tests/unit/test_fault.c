// SPDX-License-Identifier: MIT
/*
 * tern model: fault injection and RAS (include/tern_regs.h "RAS" and
 * "Fault injection"). Each fault kind is injected through the model's entry
 * points, must take effect exactly once and be reported (error code, RAS
 * registers, telemetry, interrupt, faults-injected), and the chip must work
 * afterwards. Bad arguments are refused; poisoned lines never hand out data;
 * a hung core is freed by its own reset; 64 chips with sparse HBM each keep
 * their own poison.
 */
#include "core_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define RING_OFF	0x000000u	/* DMA ring in RAM */
#define RING_SIZE	16
#define DST_OFF		0x200000u	/* copy destination in RAM */
#define SRC_OFF		0x300000u	/* copy source in RAM */
#define FENCE_OFF	0x3f0000u
#define LRING_OFF	0x400000u	/* launch ring in RAM */
#define STATUS_OFF(i)	(0x500000u + (i) * 128u)
#define LFENCE_OFF(i)	(0x580000u + (i) * 8u)
#define HSRC		0x100000u	/* HBM source of copies */
#define PROG_HBM	0x3400000u
#define SLOTTAB_HBM	0x3f00000u
#define LINE		TERN_RAS_LINE
#define T_ECC_CORR	(TERN_REG_TELEM_BASE + TERN_T_ECC_CORR_LO)
#define T_ECC_UNCORR	(TERN_REG_TELEM_BASE + TERN_T_ECC_UNCORR_LO)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t ras64(struct env *e, uint64_t lo)
{
	return rd(e, lo) | (uint64_t)rd(e, lo + 4) << 32;
}

/* HBM [HSRC + off, + size) to RAM DST_OFF, with fence and IRQ. */
static struct tern_dma_desc hbm_to_ram(uint64_t off, uint64_t size,
				       uint64_t fence)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY,
					TERN_DESC_F_SRC_HBM | TERN_DESC_F_FENCE |
					TERN_DESC_F_IRQ, HSRC + off,
					gpa(DST_OFF), size);

	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = fence;
	return d;
}

static uint32_t run_q0(struct env *e, const struct tern_dma_desc *d)
{
	if (qrd(e, 0, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		q_enable(e, 0, gpa(RING_OFF), RING_SIZE, false);
	return q_run1(e, 0, gpa(RING_OFF), RING_SIZE, d);
}

/* Acknowledge the latched error and resume queue q at its HEAD. */
static void q_resume(struct env *e, unsigned int q)
{
	wr(e, TERN_REG_ERR_ACK, 1);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
}

/* A RAM -> HBM copy of size bytes at HBM HSRC + off: an engine write. */
static uint32_t write_hbm(struct env *e, uint64_t off, uint64_t size)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_DST_HBM,
					gpa(SRC_OFF), HSRC + off, size);

	return run_q0(e, &d);
}

static bool t_ecc_ce(struct env *e)
{
	char err[160];
	struct tern_dma_desc d;
	uint64_t at = 0x1234;	/* inside line 0x1200 of the source */

	fill_pattern(e->hbm + HSRC, 0x4000, 7);
	CHECK(tern_dev_inject_ecc(e->dev, false, HSRC + at, err, sizeof(err)));
	CHECK_EQ(tern_dev_faults_injected(e->dev), 0);	/* not read yet */
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 0);
	d = hbm_to_ram(0, 0x4000, 1);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK(!memcmp(e->ram + DST_OFF, e->hbm + HSRC, 0x4000));	/* intact */
	CHECK_EQ(get64(e->ram + FENCE_OFF), 1);
	CHECK_EQ(rd(e, TERN_REG_RAS_STATUS), TERN_RAS_CE);
	CHECK_EQ(ras64(e, TERN_REG_RAS_CE_ADDR_LO), (HSRC + at) & ~63ull);
	CHECK_EQ(ras64(e, TERN_REG_RAS_UE_ADDR_LO), 0);
	CHECK_EQ(rd(e, T_ECC_CORR), 1);
	CHECK_EQ(rd(e, T_ECC_UNCORR), 0);
	CHECK(rd(e, TERN_REG_INT_STATUS) & TERN_INT_RAS);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);	/* no error */
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* exactly once: the next read of the line is clean */
	d = hbm_to_ram(0, 0x4000, 2);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, T_ECC_CORR), 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 1);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* RW1C */
	wr(e, TERN_REG_RAS_STATUS, TERN_RAS_CE);
	CHECK_EQ(rd(e, TERN_REG_RAS_STATUS), 0);
	CHECK(!(rd(e, TERN_REG_INT_STATUS) & TERN_INT_RAS));
	/* read-only registers stay */
	wr(e, TERN_REG_RAS_CE_ADDR_LO, 0);
	CHECK(log_has(e, "read-only register RAS_CE_ADDR_LO"));
	CHECK_EQ(ras64(e, TERN_REG_RAS_CE_ADDR_LO), (HSRC + at) & ~63ull);
	return true;
}

static bool t_ecc_ue_dma(struct env *e)
{
	char err[160];
	struct tern_dma_desc d;
	uint64_t line = HSRC + 0x2000;

	fill_pattern(e->hbm + HSRC, 0x4000, 9);
	memset(e->ram + DST_OFF, 0x77, 0x4000);
	CHECK(tern_dev_inject_ecc(e->dev, true, line + 5, err, sizeof(err)));
	CHECK(tern_dev_inject_ecc(e->dev, true, line, err, sizeof(err)));
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 1);	/* one line */
	CHECK_EQ(tern_dev_poisoned_lines(e->dev), 1);
	d = hbm_to_ram(0, 0x4000, 1);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_ECC_UNCORRECTED);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_ECC_UNCORRECTED);
	CHECK_EQ(err_addr(e), line);
	CHECK(!log_has(e, "ECC_UNCORRECTED"));	/* not a guest error */
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 0);
	/* no data handed out, no fence */
	for (unsigned int i = 0; i < 0x4000; i++)
		CHECK_EQ(e->ram[DST_OFF + i], 0x77);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0);
	CHECK_EQ(rd(e, TERN_REG_RAS_STATUS), TERN_RAS_UE);
	CHECK_EQ(ras64(e, TERN_REG_RAS_UE_ADDR_LO), line);
	CHECK_EQ(rd(e, T_ECC_UNCORR), 1);
	CHECK(rd(e, TERN_REG_INT_STATUS) & TERN_INT_RAS);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);

	/* every read fails again (counted), the fault is not counted twice */
	q_resume(e, 0);
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_HALTED);
	CHECK_EQ(rd(e, T_ECC_UNCORR), 2);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* reads beside the line are fine: skip the descriptor */
	wr(e, TERN_REG_ERR_ACK, 1);
	qwr(e, 0, TERN_Q_HEAD, 1);
	qwr(e, 0, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	d = hbm_to_ram(0, 0x2000, 2);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK(!memcmp(e->ram + DST_OFF, e->hbm + HSRC, 0x2000));

	/* a partial write leaves the poison; a whole-line write clears it */
	fill_pattern(e->ram + SRC_OFF, 0x100, 3);
	CHECK_EQ(write_hbm(e, 0x2000, 32), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 1);
	CHECK_EQ(write_hbm(e, 0x2000 - 16, LINE + 32), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 0);
	d = hbm_to_ram(0x2000 - 16, LINE + 32, 3);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, LINE + 32));
	CHECK_EQ(get64(e->ram + FENCE_OFF), 3);
	return true;
}

/* HBM -> HBM copies and an HBM ring: the same checks on every path. */
static bool t_ecc_ue_hbm_paths(struct env *e)
{
	char err[160];
	struct tern_dma_desc d;

	CHECK(tern_dev_inject_ecc(e->dev, true, HSRC + 0x100, err,
				  sizeof(err)));
	d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM,
		   HSRC, HSRC + 0x10000, 0x1000);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_ECC_UNCORRECTED);
	wr(e, TERN_REG_ERR_ACK, 1);
	/* an HBM ring whose descriptor line is poisoned */
	CHECK(tern_dev_inject_ecc(e->dev, true, 0x20000, err, sizeof(err)));
	CHECK_EQ(q_enable(e, 1, 0x20000, RING_SIZE, true), TERN_Q_STATE_ACTIVE);
	doorbell(e, 1, 1);
	CHECK_EQ(q_wait(e, 1), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 1, TERN_Q_ERROR), TERN_ERR_ECC_UNCORRECTED);
	CHECK_EQ(err_addr(e), 0x20000);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 2);
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 2);
	return true;
}

static bool t_reset_keeps_poison(struct env *e)
{
	char err[160];
	struct tern_dma_desc d;

	CHECK(tern_dev_inject_ecc(e->dev, true, HSRC, err, sizeof(err)));
	CHECK(tern_dev_inject_dma_abort(e->dev, 0, err, sizeof(err)));
	d = hbm_to_ram(0, 64, 1);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_HALTED);
	/* an armed abort is taken before any data is read */
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_DMA_ABORT);
	CHECK(tern_dev_inject_dma_abort(e->dev, 0, err, sizeof(err)));
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(rd(e, TERN_REG_RAS_STATUS), 0);
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 1);	/* bad data stays */
	/* the armed abort is gone; the poison still fails the read */
	CHECK_EQ(q_enable(e, 0, gpa(RING_OFF), RING_SIZE, false),
		 TERN_Q_STATE_ACTIVE);
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_ECC_UNCORRECTED);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 2);
	return true;
}

static bool t_dma_abort(struct env *e)
{
	char err[160];
	struct tern_dma_desc d, bad;

	CHECK(!tern_dev_inject_dma_abort(e->dev, e->cfg.queues, err,
					 sizeof(err)));
	CHECK(strstr(err, "queue"));
	CHECK(tern_dev_inject_dma_abort(e->dev, 0, err, sizeof(err)));
	/* an invalid descriptor reports its own error; the abort waits */
	bad = mkdesc(7, 0, 0, 0, 0);
	CHECK_EQ(run_q0(e, &bad), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_BAD_OPCODE);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 0);
	wr(e, TERN_REG_ERR_ACK, 1);
	qwr(e, 0, TERN_Q_HEAD, 1);
	qwr(e, 0, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);

	fill_pattern(e->ram + SRC_OFF, 0x1000, 5);
	memset(e->ram + DST_OFF, 0, 0x1000);
	d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_FENCE | TERN_DESC_F_IRQ,
		   gpa(SRC_OFF), gpa(DST_OFF), 0x1000);
	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = 9;
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, 0, TERN_Q_ERROR), TERN_ERR_DMA_ABORT);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DMA_ABORT);
	CHECK(!log_has(e, "DMA_ABORT"));	/* not a guest error */
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 1);
	for (unsigned int i = 0; i < 0x1000; i++)
		CHECK_EQ(e->ram[DST_OFF + i], 0);	/* nothing moved */
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 0);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* once: the same descriptor runs when resumed */
	q_resume(e, 0);
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, 0x1000));
	CHECK_EQ(get64(e->ram + FENCE_OFF), 9);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 1);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* other queues were never affected */
	CHECK_EQ(qrd(e, 1, TERN_Q_ERROR), TERN_ERR_NONE);
	return true;
}

static bool t_lost_completion_queue(struct env *e)
{
	char err[160];
	struct tern_dma_desc d;

	CHECK(!tern_dev_inject_lost_completion(e->dev, false, TERN_MAX_QUEUES,
					       err, sizeof(err)));
	CHECK(tern_dev_inject_lost_completion(e->dev, false, 0, err,
					      sizeof(err)));
	fill_pattern(e->ram + SRC_OFF, 0x800, 11);
	d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_FENCE | TERN_DESC_F_IRQ,
		   gpa(SRC_OFF), gpa(DST_OFF), 0x800);
	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = 1;
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, 0x800));
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 1);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 1);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0);		/* lost */
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 0);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 0);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	d.fence_value = 2;
	CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 2);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 1);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	return true;
}

/* ---- cores ---- */

static uint32_t c_on(struct env *e, unsigned int core)
{
	return c_enable(e, core, gpa(LRING_OFF + core * 0x10000u), RING_SIZE);
}

/* Launch n (status/fence slot n) of the staged program at ring index idx. */
static void submit(struct ctx *c, unsigned int core, uint32_t idx,
		   unsigned int n)
{
	struct env *e = c->e;
	uint8_t *p = e->ram + LRING_OFF + core * 0x10000u +
		     (idx % RING_SIZE) * TERN_LAUNCH_DESC_SIZE;

	memset(p, 0, TERN_LAUNCH_DESC_SIZE);
	put64(p + 0, PROG_HBM);
	put32(p + 8, (uint32_t)c->len);
	put32(p + 12, TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ);
	put64(p + 16, SLOTTAB_HBM);
	put32(p + 24, NSLOTS);
	put64(p + 32, gpa(STATUS_OFF(n)));
	put64(p + 40, gpa(LFENCE_OFF(n)));
	put64(p + 48, 0x5eed0000u + n);
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, core),
			    (idx + 1) % RING_SIZE, 4);
}

/* Slot 0 -> SBUF -> slot 2: a load and a store of 128 x 64 fp32. */
static void stage_copy(struct ctx *c)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, 128, 0, 64, 1);

	fill_pattern(slot_ptr(c, 0), 128 * 64 * 4, 21);
	load(c, a, 0);
	wait_on(dma_rm(c, false, a, 2, 0), 0, 1);
	build(c);
	memcpy(c->e->hbm + PROG_HBM, c->img, c->len);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		put64(c->e->hbm + SLOTTAB_HBM + i * 16, c->slots[i].offset);
		put64(c->e->hbm + SLOTTAB_HBM + i * 16 + 8, c->slots[i].size);
	}
}

static uint32_t status_word(struct env *e, unsigned int n, unsigned int off)
{
	return (uint32_t)get64(e->ram + STATUS_OFF(n) + off);
}

CORE_TEST(t_ecc_core_load)
{
	struct env *e = c->e;
	uint64_t line = SLOT_OFF(0) + 0x4000;
	unsigned int vec = TERN_MSIX_VEC_CORE(e->cfg.queues, 0);
	char err[160];

	stage_copy(c);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK(tern_dev_inject_ecc(e->dev, true, line, err, sizeof(err)));
	submit(c, 0, 0, 0);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);	/* a job fault */
	CHECK_EQ(status_word(e, 0, 0), TERN_JOB_FAULT);
	CHECK_EQ(status_word(e, 0, 4), TERN_CERR_ECC);
	CHECK_EQ(status_word(e, 0, 8), E_DMA);
	CHECK_EQ(status_word(e, 0, 12), 0);		/* the load */
	CHECK_EQ(get64(e->ram + STATUS_OFF(0) + 16), line);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0x5eed0000u);
	CHECK_EQ(irq_count(e, vec), 1);
	CHECK_EQ(rd(e, TERN_REG_RAS_STATUS), TERN_RAS_UE);
	CHECK_EQ(ras64(e, TERN_REG_RAS_UE_ADDR_LO), line);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* nothing stored from the poisoned load */
	for (unsigned int i = 0; i < 128 * 64 * 4; i++)
		CHECK_EQ(slot_ptr(c, 2)[i], 0);
	/* a store over the whole line clears it: the next job runs */
	memcpy(e->hbm + line, slot_ptr(c, 1), LINE);	/* CPU: not seen */
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 1);
	{
		struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY,
						TERN_DESC_F_DST_HBM,
						gpa(SRC_OFF), line, LINE);

		memcpy(e->ram + SRC_OFF, e->hbm + line, LINE);
		CHECK_EQ(run_q0(e, &d), TERN_Q_STATE_ACTIVE);
	}
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 0);
	submit(c, 0, 1, 1);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, 1, 0), TERN_JOB_OK);
	CHECK(!memcmp(slot_ptr(c, 2), slot_ptr(c, 0), 128 * 64 * 4));
	return true;
}

CORE_TEST(t_ecc_program)
{
	struct env *e = c->e;
	char err[160];

	stage_copy(c);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK(tern_dev_inject_ecc(e->dev, true, PROG_HBM + 64, err,
				  sizeof(err)));
	submit(c, 0, 0, 0);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_HALTED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), TERN_ERR_ECC_UNCORRECTED);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_CORE(0));
	CHECK_EQ(err_addr(e), PROG_HBM + 64);
	CHECK_EQ(status_word(e, 0, 0), 0);	/* never ran */
	return true;
}

CORE_TEST(t_core_hang)
{
	struct env *e = c->e;
	unsigned int vec = TERN_MSIX_VEC_CORE(e->cfg.queues, 1);
	char err[160];

	stage_copy(c);
	CHECK(!tern_dev_inject_core_hang(e->dev, e->cfg.cores, err,
					 sizeof(err)));
	CHECK(strstr(err, "core"));
	CHECK(tern_dev_inject_core_hang(e->dev, 1, err, sizeof(err)));
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	submit(c, 1, 0, 0);
	/* the other core goes on */
	submit(c, 0, 0, 1);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, 1, 0), TERN_JOB_OK);
	/* ABORT and ABORT_IDX are ignored by the hung core (and return) */
	cwr(e, 1, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_ABORT);
	cwr(e, 1, TERN_C_ABORT_IDX, 0);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	CHECK_EQ(crd(e, 1, TERN_C_HEAD), 0);
	CHECK_EQ(crd(e, 1, TERN_C_COMPLETED_LO), 0);
	CHECK_EQ(status_word(e, 0, 0), 0);
	/* the per-core reset drops it: no status, fence or IRQ */
	cwr(e, 1, TERN_C_CTRL, TERN_C_CTRL_RESET);
	CHECK_EQ(crd(e, 1, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(crd(e, 1, TERN_C_HEAD), 0);
	CHECK_EQ(crd(e, 1, TERN_C_TAIL), 0);
	CHECK_EQ(crd(e, 1, TERN_C_RING_SIZE), 0);	/* program it again */
	CHECK_EQ(status_word(e, 0, 0), 0);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0);
	CHECK_EQ(irq_count(e, vec), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);
	/* and the core works again */
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	submit(c, 1, 0, 2);
	CHECK_EQ(c_wait(e, 1), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, 2, 0), TERN_JOB_OK);
	CHECK_EQ(irq_count(e, vec), 1);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	/* a device reset ends a hang too */
	CHECK(tern_dev_inject_core_hang(e->dev, 1, err, sizeof(err)));
	submit(c, 1, 1, 3);
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(crd(e, 1, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(status_word(e, 3, 0), 0);
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	submit(c, 1, 0, 4);
	CHECK_EQ(c_wait(e, 1), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, 4, 0), TERN_JOB_OK);
	return true;
}

/* TERN_C_CTRL_RESET from every other state: disabled, idle, halted. */
CORE_TEST(t_core_reset_states)
{
	struct env *e = c->e;

	stage_copy(c);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_RESET);	/* disabled */
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	submit(c, 0, 0, 0);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_RESET);	/* idle */
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(crd(e, 0, TERN_C_HEAD), 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	/* a bad launch halts the ring; the reset clears the halt */
	{
		uint8_t *p = e->ram + LRING_OFF;

		memset(p, 0, 64);
		put32(p + 8, 1);	/* program too small */
		tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, 0),
				    1, 4);
	}
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_HALTED);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_RESET);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), TERN_ERR_NONE);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	submit(c, 0, 0, 1);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, 1, 0), TERN_JOB_OK);
	return true;
}

CORE_TEST(t_lost_completion_core)
{
	struct env *e = c->e;
	unsigned int vec = TERN_MSIX_VEC_CORE(e->cfg.queues, 0);
	char err[160];

	stage_copy(c);
	CHECK(!tern_dev_inject_lost_completion(e->dev, true, TERN_MAX_CORES,
					       err, sizeof(err)));
	CHECK(tern_dev_inject_lost_completion(e->dev, true, 0, err,
					      sizeof(err)));
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	submit(c, 0, 0, 0);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(crd(e, 0, TERN_C_HEAD), 1);
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 1);
	CHECK_EQ(status_word(e, 0, 0), TERN_JOB_OK);	/* status written */
	CHECK(!memcmp(slot_ptr(c, 2), slot_ptr(c, 0), 128 * 64 * 4));
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0);	/* no fence */
	CHECK_EQ(irq_count(e, vec), 0);
	CHECK_EQ(rd(e, TERN_REG_CORE_DONE), 0);
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);
	submit(c, 0, 1, 1);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(1)), 0x5eed0001u);
	CHECK_EQ(irq_count(e, vec), 1);
	return true;
}

/* ---- arguments ---- */

static bool t_bad_arguments(struct env *e)
{
	static const char *const bad_ecc[] = {
		"", "ce", "ce:", "ue:-1", "ue: 1", "xe:1", "ce:1x", "CE:1",
		"ue:0x", "ue:99999999999999999999", NULL,
	};
	static const char *const bad_target[] = {
		"", "queue", "queue:", "core:-1", "cores:1", "queue:1 ",
		"core:4294967296", NULL,
	};
	char err[160];
	bool ue, core;
	uint64_t off;
	unsigned int idx, kind;

	for (unsigned int i = 0; bad_ecc[i]; i++) {
		err[0] = 0;
		CHECK(!tern_inject_parse_ecc(bad_ecc[i], &ue, &off, err,
					     sizeof(err)));
		CHECK(strstr(err, "inject-ecc"));
	}
	CHECK(!tern_inject_parse_ecc(NULL, &ue, &off, err, sizeof(err)));
	CHECK(tern_inject_parse_ecc("ue:0x1040", &ue, &off, err, sizeof(err)));
	CHECK(ue && off == 0x1040);
	CHECK(tern_inject_parse_ecc("ce:4096", &ue, &off, err, sizeof(err)));
	CHECK(!ue && off == 4096);
	for (unsigned int i = 0; bad_target[i]; i++) {
		err[0] = 0;
		CHECK(!tern_inject_parse_target(bad_target[i], &core, &idx, err,
						sizeof(err)));
		CHECK(strstr(err, "inject-lost-completion"));
	}
	CHECK(tern_inject_parse_target("core:1", &core, &idx, err,
				       sizeof(err)));
	CHECK(core && idx == 1);
	CHECK(tern_inject_parse_target("queue:7", &core, &idx, err,
				       sizeof(err)));
	CHECK(!core && idx == 7);
	CHECK(tern_inject_parse_aer("fatal", &kind, err, sizeof(err)));
	CHECK_EQ(kind, TERN_AER_FATAL);
	CHECK(tern_inject_parse_aer("nonfatal", &kind, err, sizeof(err)));
	CHECK_EQ(kind, TERN_AER_NONFATAL);
	CHECK(!tern_inject_parse_aer("Fatal", &kind, err, sizeof(err)));
	CHECK(strstr(err, "inject-aer"));
	CHECK(!tern_dev_note_aer(e->dev, 3, err, sizeof(err)));
	CHECK(tern_dev_note_aer(e->dev, TERN_AER_CORRECTABLE, err,
				sizeof(err)));
	CHECK_EQ(tern_dev_faults_injected(e->dev), 1);

	/* range: refused without side effects */
	CHECK(!tern_dev_inject_ecc(e->dev, true, HBM_SIZE, err, sizeof(err)));
	CHECK(strstr(err, "outside the HBM"));
	CHECK(!tern_dev_inject_ecc(e->dev, false, UINT64_MAX, err,
				   sizeof(err)));
	CHECK(tern_dev_inject_ecc(e->dev, true, HBM_SIZE - 1, err,
				  sizeof(err)));
	CHECK_EQ(rd(e, TERN_REG_RAS_POISONED), 1);
	CHECK(!tern_dev_inject_lost_completion(e->dev, false, e->cfg.queues,
					       err, sizeof(err)));
	CHECK(!tern_dev_inject_lost_completion(e->dev, true, e->cfg.cores,
					       err, sizeof(err)));
	/* too many lines is an error, not a crash */
	for (unsigned int i = 1; i < 2000; i++)
		if (!tern_dev_inject_ecc(e->dev, true, (uint64_t)i * LINE, err,
					 sizeof(err)))
			break;
	CHECK(strstr(err, "pending"));
	CHECK(rd(e, TERN_REG_RAS_POISONED) >= 1000);
	/* link-down counts when a port goes down */
	CHECK(tern_dev_set_link_down(e->dev, 1, err, sizeof(err)));
	CHECK_EQ(tern_dev_faults_injected(e->dev), 2);
	return true;
}

/* 64 chips with sparse 64 GiB HBMs each keep their own poison. */
static bool t_many_chips(struct env *e)
{
	enum { N = 64 };
	const uint64_t size = TERN_HBM_SIZE_MAX;
	struct tern_dev *dev[N] = { 0 };
	uint8_t *hbm[N] = { 0 };
	static struct tern_host_ops ops;	/* not counted in e's workers */
	char err[200], name[16];
	bool ok = true;

	ops = test_host_ops;
	ops.worker_init = NULL;
	ops.worker_exit = NULL;

	for (unsigned int i = 0; i < N && ok; i++) {
		struct tern_config cfg = e->cfg;

		hbm[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			      0);
		if (hbm[i] == MAP_FAILED) {
			hbm[i] = NULL;
			printf("# cannot map a sparse HBM\n");
			ok = false;
			break;
		}
		snprintf(name, sizeof(name), "chip%u", i);
		cfg.hbm = hbm[i];
		cfg.hbm_size = size;
		cfg.cores = 1;
		cfg.queues = 1;
		cfg.dma_engines = 1;
		cfg.name = name;
		cfg.link = NULL;
		dev[i] = tern_dev_create(&cfg, &ops, e, err,
					 sizeof(err));
		if (!dev[i]) {
			printf("# chip %u: %s\n", i, err);
			ok = false;
			break;
		}
		ok = tern_dev_inject_ecc(dev[i], true, size - LINE * (i + 1),
					 err, sizeof(err)) &&
		     !tern_dev_inject_ecc(dev[i], true, size, err, sizeof(err));
	}
	for (unsigned int i = 0; i < N && ok; i++) {
		ok = tern_dev_poisoned_lines(dev[i]) == 1 &&
		     tern_mmio_read(dev[i], TERN_REG_RAS_POISONED, 4) == 1;
		if (!ok)
			printf("# chip %u: poisoned lines wrong\n", i);
	}
	for (unsigned int i = 0; i < N; i++) {
		tern_dev_destroy(dev[i]);
		if (hbm[i])
			munmap(hbm[i], size);
	}
	CHECK(ok);
	return true;
}

static const struct test_case cases[] = {
	TEST("a corrected ECC error is counted once, the data intact",
	     t_ecc_ce),
	TEST("a poisoned line fails every DMA read until written whole",
	     t_ecc_ue_dma),
	TEST("HBM-to-HBM copies and HBM rings see the poison",
	     t_ecc_ue_hbm_paths),
	TEST("a device reset keeps the poison and drops armed faults",
	     t_reset_keeps_poison),
	TEST("DMA abort: once, nothing moved, the queue resumes",
	     t_dma_abort),
	TEST("lost completion on a queue: data and HEAD, no fence, no IRQ",
	     t_lost_completion_queue),
	TEST("a core's DMA_LOAD of a poisoned line faults the job TERN_CERR_ECC",
	     t_ecc_core_load),
	TEST("a poisoned program fails the launch", t_ecc_program),
	TEST("a hung core ignores ABORT; its reset frees it", t_core_hang),
	TEST("C_CTRL_RESET in every core state", t_core_reset_states),
	TEST("lost completion on a core", t_lost_completion_core),
	TEST("bad arguments and strings are refused", t_bad_arguments),
	TEST("64 chips with sparse HBM keep their own poison", t_many_chips),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
