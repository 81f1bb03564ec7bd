// SPDX-License-Identifier: MIT
/*
 * tern model: the compute cores' launch rings. Programs built with the test
 * builder are put in HBM and launched through a core's ring and doorbell;
 * the tests check the data, the job status, the fence, the core's vector
 * and CORE_DONE, job faults that do not halt the ring, bad launch
 * descriptors that do, ABORT of a running job, reset, and two cores at once.
 */
#include "core_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RAM layout (offsets into the test RAM) */
#define LRING_OFF(c)	(0x000000u + (c) * 0x10000u)	/* launch rings */
#define STATUS_OFF(i)	(0x100000u + (i) * 128u)	/* job statuses */
#define LFENCE_OFF(i)	(0x180000u + (i) * 8u)
/* HBM layout: slots are at SLOT_OFF(0..5), below 49 MiB */
#define PROG_HBM(c)	(0x3400000u + (c) * 0x200000u)
#define SLOTTAB_HBM	0x3f00000u
#define RING_ENTRIES	16
#define NP		128

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

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get64(p);
}

static void cdoorbell(struct env *e, unsigned int core, uint32_t tail)
{
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, core),
			    tail, 4);
}

static uint32_t c_on(struct env *e, unsigned int core)
{
	return c_enable(e, core, gpa(LRING_OFF(core)), RING_ENTRIES);
}

/* A launch of the program at PROG_HBM(core) with the NSLOTS test slots. */
static struct tern_launch_desc mklaunch(struct ctx *c, unsigned int core,
					unsigned int n)
{
	struct tern_launch_desc d;

	memset(&d, 0, sizeof(d));
	d.prog_addr = PROG_HBM(core);
	d.prog_size = (uint32_t)c->len;
	d.slot_addr = SLOTTAB_HBM;
	d.slot_count = NSLOTS;
	d.status_addr = gpa(STATUS_OFF(n));
	d.fence_addr = gpa(LFENCE_OFF(n));
	d.fence_value = 0x5eed0000u + n;
	d.flags = TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ;
	return d;
}

static void put_launch(struct env *e, unsigned int core, uint32_t idx,
		       const struct tern_launch_desc *d)
{
	uint8_t *p = e->ram + LRING_OFF(core) + idx * TERN_LAUNCH_DESC_SIZE;

	put64(p + 0, d->prog_addr);
	put32(p + 8, d->prog_size);
	put32(p + 12, d->flags);
	put64(p + 16, d->slot_addr);
	put32(p + 24, d->slot_count);
	put32(p + 28, d->ctx);
	put64(p + 32, d->status_addr);
	put64(p + 40, d->fence_addr);
	put64(p + 48, d->fence_value);
	put64(p + 56, d->reserved1);
}

/* Build c's program into PROG_HBM(core) and bind the slot table. */
static void stage(struct ctx *c, unsigned int core)
{
	build(c);
	memcpy(c->e->hbm + PROG_HBM(core), c->img, c->len);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		put64(c->e->hbm + SLOTTAB_HBM + i * 16, c->slots[i].offset);
		put64(c->e->hbm + SLOTTAB_HBM + i * 16 + 8, c->slots[i].size);
	}
}

/* Submit launch idx (at ring index idx) on core and wait for it. */
static uint32_t launch1(struct env *e, unsigned int core, uint32_t idx,
			const struct tern_launch_desc *d)
{
	put_launch(e, core, idx % RING_ENTRIES, d);
	cdoorbell(e, core, (idx + 1) % RING_ENTRIES);
	return c_wait(e, core);
}

static uint32_t job_word(struct env *e, unsigned int n, unsigned int off)
{
	return get32(e->ram + STATUS_OFF(n) + off);
}

/* The DMA-in, relu, DMA-out program: slot 0 fp32 [128 x 300] -> slot 2. */
static void relu_prog(struct ctx *c, double *v)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, NP, 0, 300, 1);
	struct tern_ap d = tl(SB, TERN_DT_FP32, 0, NP, 4096, 300, 1);
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), TERN_DT_FP32, NP * 300, v, -4, 3);
	load(c, a, 0);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->h.op = TERN_ACT_RELU;
	i->act.dst = d;
	i->act.src = a;
	i->act.scale = bits_of(2.0f);
	i->act.bias_imm = bits_of(0.0f);
	after_loads(i, 1);
	store(c, d, 2, 1);
}

static bool relu_ok(struct ctx *c, const double *v)
{
	for (size_t k = 0; k < NP * 300; k++) {
		double y = (float)(v[k] * 2.0f);

		CHECK_VAL(val(c, 2, k, TERN_DT_FP32), y > 0 ? y : 0.0, k);
	}
	return true;
}

CORE_TEST(t_launch_relu)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d;
	unsigned int vec = TERN_MSIX_VEC_CORE(e->cfg.queues, 1);

	CHECK_EQ(rd(e, TERN_REG_SBUF_SIZE), TERN_SBUF_SIZE_DEFAULT);
	relu_prog(c, v);
	stage(c, 1);
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	d = mklaunch(c, 1, 0);
	CHECK_EQ(launch1(e, 1, 0, &d), TERN_Q_STATE_ACTIVE);
	CHECK(relu_ok(c, v));
	CHECK_EQ(job_word(e, 0, 0), TERN_JOB_OK);
	CHECK_EQ(job_word(e, 0, 4), TERN_CERR_NONE);
	CHECK_EQ(job_word(e, 0, 8), TERN_ENGINE_NONE);
	CHECK_EQ(job_word(e, 0, 12), TERN_INDEX_NONE);
	CHECK(get64(e->ram + STATUS_OFF(0) + 24) > 0);		/* cycles */
	CHECK_EQ(job_word(e, 0, 64 + 4 * E_DMA), 3);	/* 2 DMA + END */
	CHECK_EQ(job_word(e, 0, 64 + 4 * E_SCALAR), 2);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0x5eed0000u);
	CHECK_EQ(crd(e, 1, TERN_C_COMPLETED_LO), 1);
	CHECK_EQ(crd(e, 1, TERN_C_HEAD), 1);
	CHECK_EQ(irq_count(e, vec), 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 0);
	CHECK_EQ(rd(e, TERN_REG_CORE_DONE), 1u << 1);
	CHECK(rd(e, TERN_REG_INT_STATUS) & TERN_INT_CORE);
	wr(e, TERN_REG_CORE_DONE, 1u << 1);
	CHECK_EQ(rd(e, TERN_REG_CORE_DONE), 0);
	CHECK(!(rd(e, TERN_REG_INT_STATUS) & TERN_INT_CORE));

	/* INT_MASK.CORE holds the vector back; unmasking sends it */
	wr(e, TERN_REG_INT_MASK, TERN_INT_CORE);
	memset(slot_ptr(c, 2), 0, NP * 300 * 4);
	d = mklaunch(c, 1, 1);
	d.flags |= TERN_LAUNCH_F_STATUS_HBM | TERN_LAUNCH_F_FENCE_HBM;
	d.status_addr = SLOTTAB_HBM + 0x10000;
	d.fence_addr = SLOTTAB_HBM + 0x10100;
	CHECK_EQ(launch1(e, 1, 1, &d), TERN_Q_STATE_ACTIVE);
	CHECK(relu_ok(c, v));
	CHECK_EQ(get32(e->hbm + SLOTTAB_HBM + 0x10000), TERN_JOB_OK);
	CHECK_EQ(get64(e->hbm + SLOTTAB_HBM + 0x10100), 0x5eed0001u);
	CHECK_EQ(irq_count(e, vec), 1);
	wr(e, TERN_REG_INT_MASK, 0);
	CHECK_EQ(irq_count(e, vec), 2);
	CHECK_EQ(crd(e, 1, TERN_C_COMPLETED_LO), 2);
	CHECK_EQ(log_count(e), 0);
	return true;
}

/* A faulting job reports FAULT and the next job on the ring runs. */
CORE_TEST(t_launch_fault_then_ok)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d;

	relu_prog(c, v);
	stage(c, 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	/* slot 3 bound outside the HBM: BAD_SLOT, a job fault */
	put64(e->hbm + SLOTTAB_HBM + 3 * 16, HBM_SIZE - 16);
	d = mklaunch(c, 0, 0);
	CHECK_EQ(launch1(e, 0, 0, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 0, 0), TERN_JOB_FAULT);
	CHECK_EQ(job_word(e, 0, 4), TERN_CERR_BAD_SLOT);
	CHECK_EQ(job_word(e, 0, 8), TERN_ENGINE_NONE);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0x5eed0000u);
	CHECK_EQ(val(c, 2, 0, TERN_DT_FP32), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);

	/* an illegal opcode in the program: FAULT with its index */
	put64(e->hbm + SLOTTAB_HBM + 3 * 16, SLOT_OFF(3));
	e->hbm[PROG_HBM(0) + c->len - TERN_INSN_SIZE] = 0x7f;
	d = mklaunch(c, 0, 1);
	CHECK_EQ(launch1(e, 0, 1, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 1, 0), TERN_JOB_FAULT);
	CHECK_EQ(job_word(e, 1, 4), TERN_CERR_ILLEGAL_OPCODE);

	/* fixed again: the next job runs */
	stage(c, 0);
	d = mklaunch(c, 0, 2);
	CHECK_EQ(launch1(e, 0, 2, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 2, 0), TERN_JOB_OK);
	CHECK(relu_ok(c, v));
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 3);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(e->cfg.queues, 0)), 3);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

/* One bad field: the ring halts at it with the error; nothing is written. */
static bool bad_launch(struct ctx *c, struct tern_launch_desc *d,
		       uint32_t code, uint64_t addr, const char *msg)
{
	struct env *e = c->e;
	uint32_t idx = crd(e, 0, TERN_C_HEAD);
	uint32_t count = rd(e, TERN_REG_ERR_COUNT);

	memset(e->ram + STATUS_OFF(9), 0xee, 128);
	d->status_addr = gpa(STATUS_OFF(9));
	log_clear(e);
	CHECK_EQ(launch1(e, 0, idx, d), TERN_Q_STATE_HALTED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), code);
	CHECK_EQ(crd(e, 0, TERN_C_HEAD), idx);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_CORE(0));
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), idx);
	CHECK_EQ(err_addr(e), addr);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), count + 1);
	CHECK(log_has(e, "tern: unit0: core 0 index"));
	if (!log_has(e, msg)) {
		printf("#   no log line with \"%s\"\n", msg);
		return false;
	}
	CHECK_EQ(e->ram[STATUS_OFF(9)], 0xee);
	/* skip it: move HEAD past it, resume */
	wr(e, TERN_REG_ERR_ACK, 1);
	cwr(e, 0, TERN_C_HEAD, (idx + 1) % RING_ENTRIES);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_ACTIVE);
	return true;
}

CORE_TEST(t_launch_bad_desc)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d, g;
	uint64_t ring = gpa(LRING_OFF(0));

	relu_prog(c, v);
	stage(c, 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	g = mklaunch(c, 0, 0);
#define DADDR	(ring + crd(e, 0, TERN_C_HEAD) * 64ull)
	/* ctx 1 is not enabled: an MMU fault at the program's VA */
	d = g; d.ctx = 1;
	CHECK(bad_launch(c, &d, TERN_ERR_MMU_FAULT, d.prog_addr,
			 "bad context"));
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), 0);	/* acknowledged */
	CHECK_EQ(crd(e, 0, TERN_C_FAULT_INFO), 0);	/* cleared by resume */
	d = g; d.ctx = TERN_MAX_CONTEXTS;
	CHECK(bad_launch(c, &d, TERN_ERR_MMU_FAULT, d.prog_addr,
			 "bad context"));
	d = g; d.reserved1 = 1ull << 40;
	CHECK(bad_launch(c, &d, TERN_ERR_RESERVED, DADDR, "reserved"));
	d = g; d.flags |= TERN_LAUNCH_F_ALL + 1;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR, "unknown launch"));
	/* PHYS flags mean nothing in the physical context 0 */
	d = g; d.flags |= TERN_LAUNCH_F_SLOTS_PHYS;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR, "with ctx 0"));
	d = g; d.flags |= TERN_LAUNCH_F_STATUS_PHYS;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR, "with ctx 0"));
	d = g; d.flags |= TERN_LAUNCH_F_FENCE_PHYS;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR, "with ctx 0"));
	d = g; d.flags = TERN_LAUNCH_F_FENCE_PHYS;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR,
			 "FENCE_PHYS without FENCE"));
	d = g; d.flags = TERN_LAUNCH_F_FENCE_HBM;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_FLAGS, DADDR,
			 "FENCE_HBM without FENCE"));
	d = g; d.prog_size = 32;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_LAUNCH, DADDR, "program size"));
	d = g; d.prog_size = TERN_LAUNCH_PROG_MAX + 1;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_LAUNCH, DADDR, "program size"));
	d = g; d.slot_count = TERN_LAUNCH_MAX_SLOTS + 1;
	CHECK(bad_launch(c, &d, TERN_ERR_BAD_LAUNCH, DADDR, "slot count"));
	d = g; d.prog_addr = HBM_SIZE - 64;
	CHECK(bad_launch(c, &d, TERN_ERR_HBM_RANGE, HBM_SIZE - 64,
			 "outside the HBM"));
	d = g; d.prog_addr = ~0ull - 32;
	CHECK(bad_launch(c, &d, TERN_ERR_HBM_RANGE, ~0ull - 32, "program"));
	d = g; d.slot_addr = HBM_SIZE - 16;
	CHECK(bad_launch(c, &d, TERN_ERR_HBM_RANGE, HBM_SIZE - 16,
			 "slot table"));
	d = g; d.flags |= TERN_LAUNCH_F_FENCE_HBM; d.fence_addr = HBM_SIZE - 4;
	CHECK(bad_launch(c, &d, TERN_ERR_FENCE, HBM_SIZE - 4, "HBM fence"));

	/* host status outside guest RAM: the job ran, the write fails */
	d = g;
	d.status_addr = 0x1000;
	log_clear(e);
	{
		uint32_t idx = crd(e, 0, TERN_C_HEAD);

		CHECK_EQ(launch1(e, 0, idx, &d), TERN_Q_STATE_HALTED);
		CHECK_EQ(crd(e, 0, TERN_C_ERROR), TERN_ERR_HOST_DMA);
		CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_HOST_DMA);
		CHECK(log_has(e, "cannot write the job status"));
		wr(e, TERN_REG_ERR_ACK, 1);
		cwr(e, 0, TERN_C_HEAD, (idx + 1) % RING_ENTRIES);
		cwr(e, 0, TERN_C_CTRL,
		    TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);
	}

	/* after all that, a good launch still runs */
	d = mklaunch(c, 0, 3);
	CHECK_EQ(launch1(e, 0, crd(e, 0, TERN_C_HEAD), &d),
		 TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 3, 0), TERN_JOB_OK);
	CHECK(relu_ok(c, v));
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 1);
#undef DADDR
	return true;
}

/* Ring and doorbell errors of a core's launch ring. */
static bool t_launch_ring_errors(struct env *e)
{
	cdoorbell(e, 1, 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_CORE(1));
	CHECK(log_has(e, "core 1 index 1: doorbell tail 1 on a disabled"));
	wr(e, TERN_REG_ERR_ACK, 1);
	cwr(e, 1, TERN_C_RING_SIZE, 3);
	cwr(e, 1, TERN_C_CTRL, TERN_C_CTRL_ENABLE);
	CHECK_EQ(crd(e, 1, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(crd(e, 1, TERN_C_ERROR), TERN_ERR_BAD_RING);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_BAD_RING);
	wr(e, TERN_REG_ERR_ACK, 1);
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	cdoorbell(e, 1, RING_ENTRIES);
	CHECK_EQ(crd(e, 1, TERN_C_TAIL), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	log_clear(e);
	cwr(e, 1, TERN_C_TAIL, 3);
	CHECK(log_has(e, "read-only register C_TAIL of core 1"));
	cwr(e, 1, TERN_C_CTRL, 0x100);
	CHECK(log_has(e, "unknown bits"));
	CHECK_EQ(crd(e, 1, TERN_C_CTRL), TERN_C_CTRL_ENABLE);
	/* the registers of cores >= NUM_CORES do not exist */
	log_clear(e);
	CHECK_EQ(rd(e, TERN_REG_CORE(2) + TERN_C_STATUS), 0);
	CHECK(log_has(e, "unknown register"));
	cwr(e, 1, TERN_C_CTRL, 0);
	CHECK_EQ(crd(e, 1, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	return true;
}

/* A long job: 2000 big multiplies on the vector engine. */
static void long_prog(struct ctx *c)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, NP, 0, 4096, 1);

	for (unsigned int k = 0; k < 2000; k++)
		tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_MUL, a, a, a,
		     0);
}

static bool wait_started(struct env *e, unsigned int core, unsigned int n)
{
	for (int i = 0; i < 120000; i++) {
		struct timespec ts = { 0, 500000 };
		unsigned int got;

		pthread_mutex_lock(&e->lock);
		got = e->launches_started[core];
		pthread_mutex_unlock(&e->lock);
		if (got >= n)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

CORE_TEST(t_launch_abort)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d;

	long_prog(c);
	stage(c, 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	d = mklaunch(c, 0, 0);
	put_launch(e, 0, 0, &d);
	/* a second, short job queued behind it */
	prog_reset(c);
	relu_prog(c, v);
	build(c);
	memcpy(e->hbm + PROG_HBM(1), c->img, c->len);
	d = mklaunch(c, 0, 1);
	d.prog_addr = PROG_HBM(1);
	put_launch(e, 0, 1, &d);
	cdoorbell(e, 0, 2);
	CHECK(wait_started(e, 0, 1));
	/* ABORT returns once the job ended; its other bits do nothing */
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ABORT);
	CHECK_EQ(job_word(e, 0, 0), TERN_JOB_ABORTED);
	CHECK(job_word(e, 0, 64 + 4 * E_VECTOR) < 2000);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(0)), 0x5eed0000u);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 1, 0), TERN_JOB_OK);
	CHECK(relu_ok(c, v));
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 2);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(e->cfg.queues, 0)), 2);
	/* ABORT with nothing running is harmless */
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ABORT | TERN_C_CTRL_ENABLE);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

/* ABORT_IDX ends the running job only if it is at the index named. */
CORE_TEST(t_launch_abort_idx)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d;

	long_prog(c);
	stage(c, 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	memset(e->ram + STATUS_OFF(0), 0xee, 128);
	d = mklaunch(c, 0, 0);
	put_launch(e, 0, 0, &d);
	prog_reset(c);
	relu_prog(c, v);
	build(c);
	memcpy(e->hbm + PROG_HBM(1), c->img, c->len);
	d = mklaunch(c, 0, 1);
	d.prog_addr = PROG_HBM(1);
	put_launch(e, 0, 1, &d);
	cdoorbell(e, 0, 2);
	CHECK(wait_started(e, 0, 1));
	/* the queued job's index: nothing happens to the running one */
	cwr(e, 0, TERN_C_ABORT_IDX, 1);
	CHECK_EQ(crd(e, 0, TERN_C_HEAD), 0);
	CHECK_EQ(e->ram[STATUS_OFF(0)], 0xee);
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 0);
	CHECK_EQ(crd(e, 0, TERN_C_ABORT_IDX), 0);
	/* its own index: it ends ABORTED, the next job runs and is left alone */
	cwr(e, 0, TERN_C_ABORT_IDX, 0);
	CHECK_EQ(job_word(e, 0, 0), TERN_JOB_ABORTED);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	cwr(e, 0, TERN_C_ABORT_IDX, 1);
	CHECK_EQ(job_word(e, 1, 0), TERN_JOB_OK);
	CHECK(relu_ok(c, v));
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 2);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

/* Reset and ring disable with a long job running return promptly. */
CORE_TEST(t_launch_reset_disable)
{
	struct env *e = c->e;
	struct tern_launch_desc d;

	long_prog(c);
	stage(c, 0);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	/* reset: the running job is abandoned, nothing written */
	memset(e->ram + STATUS_OFF(1), 0xee, 128);
	d = mklaunch(c, 0, 1);
	put_launch(e, 0, 0, &d);
	cdoorbell(e, 0, 1);
	CHECK(wait_started(e, 0, 1));
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 0);
	CHECK_EQ(e->ram[STATUS_OFF(1)], 0xee);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(1)), 0);
	/* disable: the running job ends ABORTED and reports it */
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	d = mklaunch(c, 0, 2);
	put_launch(e, 0, 0, &d);
	cdoorbell(e, 0, 1);
	CHECK(wait_started(e, 0, 2));
	cwr(e, 0, TERN_C_CTRL, 0);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(job_word(e, 2, 0), TERN_JOB_ABORTED);
	CHECK_EQ(get64(e->ram + LFENCE_OFF(2)), 0x5eed0002u);
	return true;
}

/* Both cores run their own programs at the same time. */
CORE_TEST(t_launch_two_cores)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d0, d1;

	relu_prog(c, v);
	stage(c, 0);
	stage(c, 1);
	CHECK_EQ(c_on(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(c_on(e, 1), TERN_Q_STATE_ACTIVE);
	for (uint32_t k = 0; k < 6; k++) {
		d0 = mklaunch(c, 0, 2 * k);
		d1 = mklaunch(c, 1, 2 * k + 1);
		put_launch(e, 0, k, &d0);
		put_launch(e, 1, k, &d1);
	}
	cdoorbell(e, 0, 6);
	cdoorbell(e, 1, 6);
	CHECK_EQ(c_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(c_wait(e, 1), TERN_Q_STATE_ACTIVE);
	for (unsigned int n = 0; n < 12; n++) {
		CHECK_EQ(job_word(e, n, 0), TERN_JOB_OK);
		CHECK_EQ(get64(e->ram + LFENCE_OFF(n)), 0x5eed0000u + n);
	}
	CHECK(relu_ok(c, v));
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 6);
	CHECK_EQ(crd(e, 1, TERN_C_COMPLETED_LO), 6);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(e->cfg.queues, 0)), 6);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(e->cfg.queues, 1)), 6);
	CHECK_EQ(rd(e, TERN_REG_CORE_DONE), 3);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

/* A launch ring in HBM on the last of 8 cores, with 3 queues. */
CORE_TEST(t_launch_ring_in_hbm)
{
	static double v[NP * 300];
	struct env *e = c->e;
	struct tern_launch_desc d;
	const uint64_t ring = 0x3e00000u;
	uint8_t *p = e->hbm + ring;

	relu_prog(c, v);
	stage(c, 0);
	d = mklaunch(c, 0, 0);
	memset(p, 0, 64);
	put64(p + 0, d.prog_addr);
	put32(p + 8, d.prog_size);
	put32(p + 12, d.flags);
	put64(p + 16, d.slot_addr);
	put32(p + 24, d.slot_count);
	put64(p + 32, d.status_addr);
	put64(p + 40, d.fence_addr);
	put64(p + 48, d.fence_value);
	cwr(e, 7, TERN_C_RING_BASE_LO, ring);
	cwr(e, 7, TERN_C_RING_SIZE, 4);
	cwr(e, 7, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RING_IN_HBM);
	CHECK_EQ(crd(e, 7, TERN_C_CTRL),
		 TERN_C_CTRL_ENABLE | TERN_C_CTRL_RING_IN_HBM);
	cdoorbell(e, 7, 1);
	CHECK_EQ(c_wait(e, 7), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(job_word(e, 0, 0), TERN_JOB_OK);
	CHECK(relu_ok(c, v));
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(3, 7)), 1);
	CHECK_EQ(rd(e, TERN_REG_CORE_DONE), 1u << 7);
	return true;
}

static const struct test_case cases[] = {
	TEST("launch a DMA/relu/DMA program: data, status, fence, vector",
	     t_launch_relu),
	TEST("a faulting job reports FAULT and the next job runs",
	     t_launch_fault_then_ok),
	TEST("bad launch descriptors halt the ring with their error",
	     t_launch_bad_desc),
	TEST("launch ring and doorbell errors", t_launch_ring_errors),
	TEST("ABORT ends a running job ABORTED; the next one runs",
	     t_launch_abort),
	TEST("ABORT_IDX aborts only the job at its index",
	     t_launch_abort_idx),
	TEST("reset abandons, disable aborts a running job",
	     t_launch_reset_disable),
	TEST("two cores in parallel", t_launch_two_cores),
	TEST_CFG("launch ring in HBM on core 7", t_launch_ring_in_hbm,
		 3, 1, 8),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
