// SPDX-License-Identifier: MIT
/*
 * tern model: telemetry (interface 1.3). Bytes per queue by direction for
 * known copies (flat, SG lists, through the MMU, reduce, LINK_COPY between
 * two chips), descriptors done and failed, DMA engine busy time, per-core
 * modeled cycles against the launches' job statuses, launches done and
 * failed, the power and temperature model following load, the LO/HI latch,
 * ECC counts, reset, unknown offsets and register names.
 */
#include "link_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RAM layout (offsets; rings, fences, page tables: mmu_util.h) */
#define SGL_OFF		0x800000u	/* SG lists */
#define LRING_OFF	0x900000u	/* launch ring */
#define STATUS_OFF(i)	(0x910000u + (i) * 128u)
#define SRC_OFF		0x1000000u	/* 16 MiB of source data */
#define DST_OFF		0x2000000u	/* 16 MiB of destination */
/* HBM layout: data below the slots' end is free in the DMA tests */
#define HBM_A		0x100000u
#define HBM_B		0x800000u
#define PROG_HBM	0x3400000u
#define SLOTTAB_HBM	0x3f00000u
#define LRING_ENTRIES	16
#define NP		128

/*
 * The model's documented constants (Documentation/chip/spec.rst,
 * "Telemetry"), stated here on their own: idle board power, and the idle
 * steady temperature, 35 C ambient + 60 W x 0.12 C/W.
 */
#define IDLE_MW		60000u
#define IDLE_TEMP	42200u

/* ---- register helpers ---- */

/* A counter pair: LO first, which latches HI. */
static uint64_t rd64(struct env *e, uint64_t lo)
{
	uint64_t v = rd(e, lo);

	return v | (uint64_t)rd(e, lo + 4) << 32;
}

static uint64_t tq(struct env *e, unsigned int q, uint64_t reg)
{
	return rd64(e, TERN_REG_TELEM_QUEUE(q) + reg);
}

static uint64_t td(struct env *e, unsigned int en, uint64_t reg)
{
	return rd64(e, TERN_REG_TELEM_DMA(en) + reg);
}

static uint64_t tc(struct env *e, unsigned int c, uint64_t reg)
{
	return rd64(e, TERN_REG_TELEM_CORE(c) + reg);
}

static uint32_t temp(struct env *e)
{
	return rd(e, TERN_REG_TELEM_BASE + TERN_T_TEMP_MC);
}

static uint32_t power(struct env *e)
{
	return rd(e, TERN_REG_TELEM_BASE + TERN_T_POWER_MW);
}

static void nap_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Queue q's five byte counters are exactly the given ones. */
static bool q_bytes_are(struct env *e, unsigned int q, uint64_t h2d,
			uint64_t d2h, uint64_t d2d, uint64_t h2h,
			uint64_t link)
{
	CHECK_EQ(tq(e, q, TERN_TQ_H2D_LO), h2d);
	CHECK_EQ(tq(e, q, TERN_TQ_D2H_LO), d2h);
	CHECK_EQ(tq(e, q, TERN_TQ_D2D_LO), d2d);
	CHECK_EQ(tq(e, q, TERN_TQ_H2H_LO), h2h);
	CHECK_EQ(tq(e, q, TERN_TQ_LINK_LO), link);
	return true;
}

/* Run d on queue q (enabled on demand) and expect success. */
static bool run_q(struct env *e, unsigned int q, struct tern_dma_desc d)
{
	if (qrd(e, q, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, q, RING(q), RSIZE, false),
			 TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, q, RING(q), RSIZE, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

static struct tern_dma_desc copy(uint32_t flags, uint64_t src, uint64_t dst,
				 uint64_t size)
{
	return mkdesc(TERN_DESC_OP_COPY, flags, src, dst, size);
}

/* ---- DMA bytes, descriptors, busy time ---- */

static bool t_bytes_by_direction(struct env *e)
{
	const uint32_t SH = TERN_DESC_F_SRC_HBM, DH = TERN_DESC_F_DST_HBM;
	uint8_t *sg = e->ram + SGL_OFF;
	struct tern_dma_desc d;
	uint64_t big = 3 * TERN_DMA_CHUNK + 5;
	uint64_t h2d = 0, d2h = 0, d2d = 0, h2h = 0;

	CHECK(q_bytes_are(e, 0, 0, 0, 0, 0, 0));
	/* flat copies, one of several pieces */
	CHECK(run_q(e, 0, copy(DH, gpa(SRC_OFF), HBM_A, 1000)));
	h2d += 1000;
	CHECK(run_q(e, 0, copy(DH, gpa(SRC_OFF), HBM_B, big)));
	h2d += big;
	CHECK(run_q(e, 0, copy(SH, HBM_A, gpa(DST_OFF), 3000)));
	d2h += 3000;
	CHECK(run_q(e, 0, copy(SH | DH, HBM_A, HBM_B + 8192, 5000)));
	d2d += 5000;
	CHECK(run_q(e, 0, copy(0, gpa(SRC_OFF), gpa(DST_OFF), 700)));
	h2h += 700;
	CHECK(q_bytes_are(e, 0, h2d, d2h, d2d, h2h, 0));

	/* SG lists: host segments into flat HBM */
	put_sg(sg, 0, gpa(SRC_OFF), 1000);
	put_sg(sg, 1, gpa(SRC_OFF + 8192), 2000);
	put_sg(sg, 2, gpa(SRC_OFF + 65536), 1096);
	d = copy(DH | TERN_DESC_F_SRC_SGL, gpa(SGL_OFF), HBM_A, 4096);
	d.src_sgl_count = 3;
	CHECK(run_q(e, 0, d));
	h2d += 4096;
	/* HBM segments to flat HBM */
	put_sg(sg, 4, HBM_B, 1500);
	put_sg(sg, 5, HBM_B + 4096, 1500);
	d = copy(SH | DH | TERN_DESC_F_SRC_SGL, gpa(SGL_OFF + 4 * 16),
		 HBM_A + 65536, 3000);
	d.src_sgl_count = 2;
	CHECK(run_q(e, 0, d));
	d2d += 3000;
	/* host to host, both sides SG lists */
	put_sg(sg, 8, gpa(SRC_OFF), 2500);
	put_sg(sg, 9, gpa(SRC_OFF + 4096), 3500);
	put_sg(sg, 12, gpa(DST_OFF), 4000);
	put_sg(sg, 13, gpa(DST_OFF + 8192), 2000);
	d = copy(TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL,
		 gpa(SGL_OFF + 8 * 16), gpa(SGL_OFF + 12 * 16), 6000);
	d.src_sgl_count = 2;
	d.dst_sgl_count = 2;
	CHECK(run_q(e, 0, d));
	h2h += 6000;
	/* reduce on arrival into the HBM */
	memset(e->ram + SRC_OFF, 0, 256);
	CHECK(run_q(e, 0, copy(DH | TERN_DESC_F_REDUCE_SUM, gpa(SRC_OFF),
			       HBM_A, 256)));
	h2d += 256;
	CHECK(q_bytes_are(e, 0, h2d, d2h, d2d, h2h, 0));

	/*
	 * Through context 1, classified after translation: VA_SRC is a
	 * host page then an HBM page, VA_DST an HBM page then a host page.
	 */
	ctx_setup(e, 1);
	map4k(e, 1, VA_SRC, HOSTP(0), RW);
	map4k(e, 1, VA_SRC + 0x1000, HBMP(0), RW | H);
	map4k(e, 1, VA_DST, HBMP(1), RW | H);
	map4k(e, 1, VA_DST + 0x1000, HOSTP(1), RW);
	d = copy(0, VA_SRC, VA_DST, 0x2000);
	d.ctx = 1;
	CHECK(run_q(e, 0, d));
	h2d += 0x1000;
	d2h += 0x1000;
	/* shifted by 0x800: host->HBM, HBM->HBM, HBM->host */
	d = copy(0, VA_SRC + 0x800, VA_DST, 0x1800);
	d.ctx = 1;
	CHECK(run_q(e, 0, d));
	h2d += 0x800;
	d2d += 0x800;
	d2h += 0x800;
	CHECK(q_bytes_are(e, 0, h2d, d2h, d2d, h2h, 0));

	/* queue 1 is served by engine 1: its own counters */
	CHECK(run_q(e, 1, copy(SH, HBM_A, gpa(DST_OFF), 12345)));
	CHECK(q_bytes_are(e, 1, 0, 12345, 0, 0, 0));
	CHECK(q_bytes_are(e, 0, h2d, d2h, d2d, h2h, 0));
	CHECK_EQ(td(e, 0, TERN_TD_BYTES_LO), h2d + d2h + d2d + h2h);
	CHECK_EQ(td(e, 1, TERN_TD_BYTES_LO), 12345);
	CHECK_EQ(tq(e, 0, TERN_TQ_DONE_LO), 11);
	CHECK_EQ(tq(e, 1, TERN_TQ_DONE_LO), 1);
	CHECK_EQ(td(e, 0, TERN_TD_DESCS_LO), 11);
	CHECK_EQ(td(e, 1, TERN_TD_DESCS_LO), 1);
	CHECK_EQ(tq(e, 0, TERN_TQ_FAILED_LO), 0);
	/* queue 2 is engine 0's too: the engine counts both */
	CHECK(run_q(e, 2, copy(0, gpa(SRC_OFF), gpa(DST_OFF), 10)));
	CHECK(q_bytes_are(e, 2, 0, 0, 0, 10, 0));
	CHECK_EQ(td(e, 0, TERN_TD_BYTES_LO), h2d + d2h + d2d + h2h + 10);
	CHECK_EQ(td(e, 0, TERN_TD_DESCS_LO), 12);
	CHECK_EQ(log_count(e), 0);
	return true;
}

static bool t_descs_done_failed(struct env *e)
{
	struct tern_dma_desc nop = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);
	struct tern_dma_desc bad = mkdesc(9, 0, 0, 0, 0);
	uint8_t *sg = e->ram + SGL_OFF;
	struct tern_dma_desc d;

	for (int i = 0; i < 3; i++)
		CHECK(run_ok(e, nop));
	CHECK(run_err(e, 0, bad, TERN_ERR_BAD_OPCODE,
		      RING(0) + 3 * TERN_DESC_SIZE, 0, "unknown opcode"));
	CHECK_EQ(tq(e, 0, TERN_TQ_DONE_LO), 3);
	CHECK_EQ(tq(e, 0, TERN_TQ_FAILED_LO), 1);
	CHECK_EQ(td(e, 0, TERN_TD_DESCS_LO), 4);
	/* a copy that fails after its first SG segment moved */
	put_sg(sg, 0, gpa(SRC_OFF), 100);
	put_sg(sg, 1, gpa(SRC_OFF), 0);
	d = copy(TERN_DESC_F_DST_HBM | TERN_DESC_F_SRC_SGL, gpa(SGL_OFF),
		 HBM_A, 200);
	d.src_sgl_count = 2;
	CHECK(run_err(e, 0, d, TERN_ERR_SGL, gpa(SGL_OFF + 16), 0,
		      "has size 0"));
	CHECK(run_ok(e, nop));
	CHECK_EQ(tq(e, 0, TERN_TQ_DONE_LO), 4);
	CHECK_EQ(tq(e, 0, TERN_TQ_FAILED_LO), 2);
	CHECK_EQ(td(e, 0, TERN_TD_DESCS_LO), 6);
	/* bytes count what moved: the first segment */
	CHECK(q_bytes_are(e, 0, 100, 0, 0, 0, 0));
	CHECK_EQ(td(e, 0, TERN_TD_BYTES_LO), 100);
	/* the other queue and engine saw nothing */
	CHECK_EQ(tq(e, 1, TERN_TQ_DONE_LO), 0);
	CHECK_EQ(td(e, 1, TERN_TD_DESCS_LO), 0);
	return true;
}

static bool t_link_bytes(struct env *e)
{
	const uint32_t SH = TERN_DESC_F_SRC_HBM, DH = TERN_DESC_F_DST_HBM;
	struct env *a = &chips[0], *b = &chips[1];

	(void)e;
	CHECK(fabric_up("telem-link", 2, TERN_TOPOLOGY_RING, 0));
	CHECK(port_is(0, 0, TERN_LINK_STATE_UP, 1, 1));
	CHECK(run_ok(a, lcopy(0, 0, SH | DH, HBM_A, HBM_B, 3 * 4096 + 7)));
	CHECK(run_ok(a, lcopy(1, 0, DH, gpa(SRC_OFF), HBM_B, 2 * TERN_DMA_CHUNK)));
	/* a local copy on the same queue keeps its own direction */
	CHECK(run_ok(a, copy(SH | DH, HBM_A, HBM_B, 64)));
	CHECK(q_bytes_are(a, 0, 0, 0, 64, 0,
			  3 * 4096 + 7 + 2 * TERN_DMA_CHUNK));
	CHECK_EQ(tq(a, 0, TERN_TQ_DONE_LO), 3);
	CHECK_EQ(td(a, 0, TERN_TD_BYTES_LO),
		 3 * 4096 + 7 + 2 * TERN_DMA_CHUNK + 64);
	/* the link's own counters agree; the receiver counts nothing */
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO) +
		 lrd64(a, 1, TERN_L_TX_BYTES_LO),
		 3 * 4096 + 7 + 2 * TERN_DMA_CHUNK);
	CHECK(q_bytes_are(b, 0, 0, 0, 0, 0, 0));
	CHECK_EQ(td(b, 0, TERN_TD_BYTES_LO), 0);
	/* a link copy to a peer that is gone fails and moves nothing */
	CHECK(chip_down(1));
	CHECK(run_err(a, 0, lcopy(0, 0, SH | DH, HBM_A, HBM_B, 4096),
		      TERN_ERR_LINK_DOWN, HBM_B, 0, "down"));
	CHECK_EQ(tq(a, 0, TERN_TQ_FAILED_LO), 1);
	CHECK_EQ(tq(a, 0, TERN_TQ_LINK_LO), 3 * 4096 + 7 + 2 * TERN_DMA_CHUNK);
	return fabric_down();
}

static bool t_busy_and_time(struct env *e)
{
	struct tern_dma_desc d;
	uint64_t t0, t1, b0, b1, b2 = 0;

	t0 = rd64(e, TERN_REG_TELEM_BASE + TERN_T_TIME_NS_LO);
	CHECK_EQ(td(e, 0, TERN_TD_BUSY_NS_LO), 0);
	CHECK(run_q(e, 0, copy(TERN_DESC_F_DST_HBM, gpa(SRC_OFF), HBM_A,
			       4 * TERN_DMA_CHUNK)));
	b0 = td(e, 0, TERN_TD_BUSY_NS_LO);
	CHECK(b0 > 0);
	CHECK_EQ(td(e, 1, TERN_TD_BUSY_NS_LO), 0);	/* engine 1 idle */
	/* idle: busy time stays */
	CHECK_EQ(td(e, 0, TERN_TD_BUSY_NS_LO), b0);

	/* held in flight: the running descriptor counts and grows */
	gate_arm(e, gpa(DST_OFF + TERN_DMA_CHUNK), false);
	d = copy(0, gpa(SRC_OFF), gpa(DST_OFF), 2 * TERN_DMA_CHUNK);
	put_desc(e, false, RING(0), 1, &d);
	doorbell(e, 0, 2);
	CHECK(gate_wait_hit(e));
	b1 = td(e, 0, TERN_TD_BUSY_NS_LO);
	CHECK(b1 >= b0);
	for (int i = 0; i < 60000 && (b2 = td(e, 0, TERN_TD_BUSY_NS_LO)) <= b1;
	     i++)
		nap_ms(1);
	CHECK(b2 > b1);
	gate_open(e);
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK(td(e, 0, TERN_TD_BUSY_NS_LO) >= b2);

	t1 = rd64(e, TERN_REG_TELEM_BASE + TERN_T_TIME_NS_LO);
	CHECK(t1 > t0);
	CHECK(t1 >= td(e, 0, TERN_TD_BUSY_NS_LO));
	return true;
}

/* ---- compute cores ---- */

static void lput64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void lput32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Enable core c's launch ring in RAM. */
static uint32_t c_on(struct env *e, unsigned int c)
{
	return c_enable(e, c, gpa(LRING_OFF), LRING_ENTRIES);
}

/* Put the built program and the slot table in the HBM. */
static void stage(struct ctx *c)
{
	build(c);
	memcpy(c->e->hbm + PROG_HBM, c->img, c->len);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		lput64(c->e->hbm + SLOTTAB_HBM + i * 16, c->slots[i].offset);
		lput64(c->e->hbm + SLOTTAB_HBM + i * 16 + 8,
		       c->slots[i].size);
	}
}

/* Launch n (ring index n) on core 0 with status n; the ring's state. */
static uint32_t launch(struct ctx *c, unsigned int n, uint64_t reserved1)
{
	struct env *e = c->e;
	uint8_t *p = e->ram + LRING_OFF + n * TERN_LAUNCH_DESC_SIZE;

	memset(p, 0, TERN_LAUNCH_DESC_SIZE);
	lput64(p + 0, PROG_HBM);
	lput32(p + 8, (uint32_t)c->len);
	lput64(p + 16, SLOTTAB_HBM);
	lput32(p + 24, NSLOTS);
	lput64(p + 32, gpa(STATUS_OFF(n)));
	lput64(p + 56, reserved1);
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, 0),
			    (n + 1) % LRING_ENTRIES, 4);
	for (int i = 0; i < 120000; i++) {
		uint32_t st = crd(e, 0, TERN_C_STATUS);

		if (st != TERN_Q_STATE_ACTIVE ||
		    crd(e, 0, TERN_C_HEAD) == crd(e, 0, TERN_C_TAIL))
			return st;
		nap_ms(1);
	}
	return 0xdead;
}

/* DMA in, relu on the scalar engine, add on the vector engine, DMA out. */
static void prog_two_engines(struct ctx *c)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, NP, 0, 256, 1);
	struct tern_ap r = tl(SB, TERN_DT_FP32, 0, NP, 4096, 256, 1);
	struct tern_ap s = tl(SB, TERN_DT_FP32, 0, NP, 8192, 256, 1);
	union tern_insn *i;

	memset(slot_ptr(c, 0), 0, NP * 256 * 4);
	load(c, a, 0);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->h.op = TERN_ACT_RELU;
	i->act.dst = r;
	i->act.src = a;
	i->act.scale = bits_of(1.0f);
	i->act.bias_imm = bits_of(0.0f);
	after_loads(i, 1);
	i = tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_ADD, s, r, a, 0);
	wait_on(i, 1, 1);
	signal_on(i, 2);
	i = dma_rm(c, false, s, 2, 0);
	wait_on(i, 2, 1);
}

static uint64_t status64(struct env *e, unsigned int n, unsigned int off)
{
	return get64(e->ram + STATUS_OFF(n) + off);
}

CORE_TEST(t_core_counters)
{
	struct env *e = c->e;
	uint64_t busy[TERN_NUM_ENGINES] = { 0 }, cycles = 0;

	prog_two_engines(c);
	stage(c);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(tc(e, 0, TERN_TC_WALL_NS_LO), 0);
	CHECK_EQ(launch(c, 0, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(launch(c, 1, 0), TERN_Q_STATE_ACTIVE);
	/* slot 3 outside the HBM: a job fault, the ring goes on */
	lput64(e->hbm + SLOTTAB_HBM + 3 * 16, HBM_SIZE - 16);
	CHECK_EQ(launch(c, 2, 0), TERN_Q_STATE_ACTIVE);
	lput64(e->hbm + SLOTTAB_HBM + 3 * 16, SLOT_OFF(3));
	CHECK_EQ(status64(e, 0, 0) & 0xffffffffu, TERN_JOB_OK);
	CHECK_EQ(status64(e, 1, 0) & 0xffffffffu, TERN_JOB_OK);
	CHECK_EQ(status64(e, 2, 0) & 0xffffffffu, TERN_JOB_FAULT);
	for (unsigned int n = 0; n < 3; n++) {
		cycles += status64(e, n, 24);
		for (unsigned int g = 0; g < TERN_NUM_ENGINES; g++)
			busy[g] += status64(e, n, 32 + 8 * g);
	}
	/* the program keeps DMA, vector and scalar busy, not tensor */
	CHECK(busy[E_DMA] > 0 && busy[E_VECTOR] > 0 && busy[E_SCALAR] > 0);
	CHECK_EQ(busy[E_TENSOR], 0);
	for (unsigned int g = 0; g < TERN_NUM_ENGINES; g++)
		CHECK_EQ(tc(e, 0, TERN_TC_CYCLES_LO(g)), busy[g]);
	CHECK_EQ(tc(e, 0, TERN_TC_MODELED_LO), cycles);
	CHECK_EQ(tc(e, 0, TERN_TC_DONE_LO), 2);
	CHECK_EQ(tc(e, 0, TERN_TC_FAILED_LO), 1);
	CHECK(tc(e, 0, TERN_TC_WALL_NS_LO) > 0);

	/* a bad launch descriptor halts the ring: failed, no cycles */
	CHECK_EQ(launch(c, 3, 1), TERN_Q_STATE_HALTED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), TERN_ERR_RESERVED);
	CHECK_EQ(tc(e, 0, TERN_TC_DONE_LO), 2);
	CHECK_EQ(tc(e, 0, TERN_TC_FAILED_LO), 2);
	CHECK_EQ(tc(e, 0, TERN_TC_MODELED_LO), cycles);
	/* core 1 ran nothing */
	CHECK_EQ(tc(e, 1, TERN_TC_MODELED_LO), 0);
	CHECK_EQ(tc(e, 1, TERN_TC_WALL_NS_LO), 0);
	CHECK_EQ(tc(e, 1, TERN_TC_DONE_LO), 0);
	return true;
}

/* ---- power and temperature ---- */

/* Poll until cond holds; 60 s is a hang guard, not a timing check. */
#define WAIT_UNTIL(cond)						\
	do {								\
		for (int _i = 0; _i < 60000 && !(cond); _i++)		\
			nap_ms(1);					\
		CHECK(cond);						\
	} while (0)

static bool t_power_temperature(struct env *e)
{
	struct tern_dma_desc d;
	uint32_t t0, t1, t2;

	/* constants, and a fresh chip at its idle steady state */
	CHECK_EQ(rd(e, TERN_REG_TELEM_BASE + TERN_T_TEMP_MAX_MC), 105000);
	CHECK_EQ(rd(e, TERN_REG_TELEM_BASE + TERN_T_POWER_MAX_MW), 500000);
	CHECK_EQ(power(e), IDLE_MW);
	CHECK_EQ(temp(e), IDLE_TEMP);

	/* a copy held in flight keeps engine 0 busy */
	CHECK_EQ(q_enable(e, 0, RING(0), RSIZE, false), TERN_Q_STATE_ACTIVE);
	gate_arm(e, gpa(DST_OFF + TERN_DMA_CHUNK), false);
	d = copy(0, gpa(SRC_OFF), gpa(DST_OFF), 2 * TERN_DMA_CHUNK);
	put_desc(e, false, RING(0), 0, &d);
	doorbell(e, 0, 1);
	CHECK(gate_wait_hit(e));
	WAIT_UNTIL(power(e) > IDLE_MW);
	CHECK(power(e) <= IDLE_MW + 8000);	/* one engine */
	WAIT_UNTIL(temp(e) > IDLE_TEMP);
	t0 = temp(e);
	/* busy: it only rises (toward its target, above) */
	WAIT_UNTIL(temp(e) > t0);
	gate_open(e);
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_ACTIVE);

	/* idle again: power back to idle once the window has passed */
	WAIT_UNTIL(power(e) == IDLE_MW);
	t1 = temp(e);
	CHECK(t1 > IDLE_TEMP);
	/* and the die cools toward the idle temperature, not below */
	WAIT_UNTIL(temp(e) < t1);
	t2 = temp(e);
	CHECK(t2 >= IDLE_TEMP);
	CHECK_EQ(power(e), IDLE_MW);
	return true;
}

CORE_TEST(t_power_core)
{
	struct env *e = c->e;
	uint32_t p = 0;

	/* launches one after another: core engines raise the power */
	prog_two_engines(c);
	stage(c);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	for (unsigned int n = 0; n < 200 && p <= IDLE_MW; n++) {
		CHECK_EQ(launch(c, n % LRING_ENTRIES, 0), TERN_Q_STATE_ACTIVE);
		p = power(e);
	}
	CHECK(p > IDLE_MW);
	/* below one core's four engines with no DMA engine busy */
	CHECK(p <= IDLE_MW + 28000 + 8000 + 6000 + 4000);
	WAIT_UNTIL(power(e) == IDLE_MW);
	return true;
}

/* ---- latch, ECC, reset, registers ---- */

static bool t_latch(struct env *e)
{
	const uint32_t F = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM |
			   TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL;
	uint64_t bytes = TERN_REG_TELEM_DMA(0) + TERN_TD_BYTES_LO;
	uint64_t d2d = TERN_REG_TELEM_QUEUE(0) + TERN_TQ_D2D_LO;
	const uint64_t seg = 32ull << 20;
	uint8_t *sg = e->ram + SGL_OFF;
	struct tern_dma_desc d;
	uint32_t n = 0;

	/*
	 * 2^32 + 4096 bytes, HBM onto itself through SG lists of 32 MiB
	 * segments: the counters pass 2^32.
	 */
	for (; (uint64_t)n * seg < (1ull << 32); n++)
		put_sg(sg, n, 0, seg);
	put_sg(sg, n++, 0, 4096);
	d = copy(F, gpa(SGL_OFF), gpa(SGL_OFF), (1ull << 32) + 4096);
	d.src_sgl_count = n;
	d.dst_sgl_count = n;

	CHECK_EQ(rd(e, bytes), 0);	/* latches HI = 0 */
	CHECK_EQ(rd(e, d2d), 0);
	CHECK(run_q(e, 0, d));
	/* HI still reads what the LO read latched */
	CHECK_EQ(rd(e, bytes + 4), 0);
	CHECK_EQ(rd(e, bytes + 4), 0);
	/* another pair's LO does not touch this pair's latch */
	CHECK_EQ(rd(e, TERN_REG_TELEM_DMA(0) + TERN_TD_DESCS_LO), 1);
	CHECK_EQ(rd(e, d2d + 4), 0);
	/* a new LO read latches the current HI */
	CHECK_EQ(rd(e, bytes), 4096);
	CHECK_EQ(rd(e, bytes + 4), 1);
	CHECK_EQ(rd(e, d2d), 4096);
	CHECK_EQ(rd(e, d2d + 4), 1);
	CHECK_EQ(rd64(e, bytes), (1ull << 32) + 4096);
	/* the latch is per pair: engine 1's is its own */
	CHECK_EQ(rd(e, TERN_REG_TELEM_DMA(1) + TERN_TD_BYTES_HI), 0);
	/* a reset clears the latches with the counters */
	tern_dev_reset(e->dev);
	CHECK_EQ(rd(e, bytes + 4), 0);
	CHECK_EQ(rd64(e, bytes), 0);
	return true;
}

static bool t_ecc(struct env *e)
{
	uint64_t corr = TERN_REG_TELEM_BASE + TERN_T_ECC_CORR_LO;
	uint64_t uncorr = TERN_REG_TELEM_BASE + TERN_T_ECC_UNCORR_LO;

	CHECK_EQ(rd64(e, corr), 0);
	CHECK_EQ(rd64(e, uncorr), 0);
	for (int i = 0; i < 5; i++)
		tern_telem_ecc(e->dev, true);
	tern_telem_ecc(e->dev, false);
	tern_telem_ecc(e->dev, false);
	CHECK_EQ(rd64(e, corr), 5);
	CHECK_EQ(rd64(e, uncorr), 2);
	/* not device errors */
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 0);
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(rd64(e, corr), 0);
	CHECK_EQ(rd64(e, uncorr), 0);
	return true;
}

CORE_TEST(t_reset_clears)
{
	struct env *e = c->e;
	uint64_t before, t;

	prog_two_engines(c);
	stage(c);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(launch(c, 0, 0), TERN_Q_STATE_ACTIVE);
	CHECK(run_q(e, 0, copy(TERN_DESC_F_DST_HBM, gpa(SRC_OFF), HBM_A,
			       1000)));
	CHECK(run_err(e, 1, mkdesc(9, 0, 0, 0, 0), TERN_ERR_BAD_OPCODE,
		      RING(1), 0, "unknown opcode"));
	tern_telem_ecc(e->dev, true);
	CHECK(tc(e, 0, TERN_TC_MODELED_LO) > 0);
	CHECK(tq(e, 0, TERN_TQ_H2D_LO) == 1000);
	CHECK(td(e, 0, TERN_TD_BUSY_NS_LO) > 0);

	before = mono();
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	t = rd64(e, TERN_REG_TELEM_BASE + TERN_T_TIME_NS_LO);
	/* the clock restarted at the reset */
	CHECK(t <= mono() - before);
	CHECK_EQ(rd64(e, TERN_REG_TELEM_BASE + TERN_T_ECC_CORR_LO), 0);
	for (unsigned int en = 0; en < e->cfg.dma_engines; en++) {
		CHECK_EQ(td(e, en, TERN_TD_BUSY_NS_LO), 0);
		CHECK_EQ(td(e, en, TERN_TD_BYTES_LO), 0);
		CHECK_EQ(td(e, en, TERN_TD_DESCS_LO), 0);
	}
	for (unsigned int q = 0; q < e->cfg.queues; q++) {
		CHECK(q_bytes_are(e, q, 0, 0, 0, 0, 0));
		CHECK_EQ(tq(e, q, TERN_TQ_DONE_LO), 0);
		CHECK_EQ(tq(e, q, TERN_TQ_FAILED_LO), 0);
	}
	for (unsigned int k = 0; k < e->cfg.cores; k++)
		for (uint64_t r = 0; r <= TERN_TC_FAILED_LO; r += 8)
			CHECK_EQ(tc(e, k, r), 0);
	/* and they count again */
	CHECK(run_q(e, 0, copy(TERN_DESC_F_DST_HBM, gpa(SRC_OFF), HBM_A,
			       77)));
	CHECK_EQ(tq(e, 0, TERN_TQ_H2D_LO), 77);
	CHECK_EQ(tq(e, 0, TERN_TQ_DONE_LO), 1);
	return true;
}

static bool t_registers(struct env *e)
{
	/* 3 queues, 2 engines, 1 core: blocks past those are holes */
	static const uint64_t holes[] = {
		TERN_REG_TELEM_BASE + 0x28, TERN_REG_TELEM_BASE + 0xfc,
		TERN_REG_TELEM_DMA(0) + 0x18, TERN_REG_TELEM_DMA(1) + 0x1c,
		TERN_REG_TELEM_DMA(2), TERN_REG_TELEM_DMA(7) + 0x10,
		TERN_REG_TELEM_QUEUE(0) + 0x38, TERN_REG_TELEM_QUEUE(3),
		TERN_REG_TELEM_QUEUE(63) + 0x34, TERN_REG_TELEM_CORE(0) + 0x40,
		TERN_REG_TELEM_CORE(1), TERN_REG_TELEM_CORE(7) + 0x3c,
		TERN_REG_TELEM_CORE(8), TERN_REG_TELEM_DMA(8),
	};
	unsigned int n = sizeof(holes) / sizeof(holes[0]);
	uint64_t t = TERN_REG_TELEM_QUEUE(2) + TERN_TQ_FAILED_HI;

	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(rd(e, holes[i]), 0);
	CHECK_EQ(log_count(e), n);
	CHECK(log_has(e, "BAR0 read of unknown register 0x5028"));
	log_clear(e);
	/* every register of the block is read-only */
	wr(e, TERN_REG_TELEM_BASE + TERN_T_POWER_MW, 1);
	wr(e, TERN_REG_TELEM_CORE(0) + TERN_TC_DONE_LO, 1);
	wr(e, t, 1);
	CHECK_EQ(log_count(e), 3);
	CHECK(log_has(e, "read-only register T_POWER_MW"));
	CHECK(log_has(e, "read-only register TQ_FAILED_HI"));
	CHECK_EQ(tc(e, 0, TERN_TC_DONE_LO), 0);
	CHECK_EQ(rd(e, t), 0);
	wr(e, TERN_REG_TELEM_DMA(2), 1);
	CHECK(log_has(e, "write 0x1 to unknown register 0x5140"));

	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_BASE), "T_TIME_NS_LO"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_BASE + TERN_T_TEMP_MC),
		      "T_TEMP_MC"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_BASE +
				    TERN_T_POWER_MAX_MW), "T_POWER_MAX_MW"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_DMA(7) +
				    TERN_TD_DESCS_HI), "TD_DESCS_HI"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_QUEUE(63) +
				    TERN_TQ_LINK_LO), "TQ_LINK_LO"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_CORE(7) +
				    TERN_TC_CYCLES_HI(TERN_ENGINE_SCALAR)),
		      "TC_CYCLES_SCALAR_HI"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_CORE(2) +
				    TERN_TC_WALL_NS_LO), "TC_WALL_NS_LO"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_BASE + 0x28), "?"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_CORE(0) + 0x40), "?"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_TELEM_CORE(8)), "?"));
	return true;
}

static const struct test_case cases[] = {
	TEST("queue bytes by direction, engine bytes and descriptors",
	     t_bytes_by_direction),
	TEST("descriptors done and failed; bytes of a failed copy",
	     t_descs_done_failed),
	TEST("LINK_COPY bytes between two chips", t_link_bytes),
	TEST("engine busy time and TIME_NS move", t_busy_and_time),
	TEST("core cycles are the job statuses' sums; launches done/failed",
	     t_core_counters),
	TEST("power and temperature follow a busy DMA engine",
	     t_power_temperature),
	TEST("power follows launches on a core", t_power_core),
	TEST("reading LO latches HI of the same value, per pair", t_latch),
	TEST("ECC counters count tern_telem_ecc() calls", t_ecc),
	TEST("reset clears the counters", t_reset_clears),
	TEST_CFG("unknown offsets, read-only writes and register names",
		 t_registers, 3, 2, 1),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
