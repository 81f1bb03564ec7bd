// SPDX-License-Identifier: MIT
/*
 * tern model: launches through the device MMU. A launch descriptor with a
 * context names its program, slot table, slots, status and fence by VAs:
 * the program is copied through the MMU, each slot must be one HBM range,
 * a slot without WRITE is read-only, and each fault has its record.
 */
#include "mmu_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- launches with a context ---- */

#define LRING_OFF	0x180000u
#define STATUS_PG	HOSTP(60)
#define VA_PROG		0x40000000ull
#define VA_SLOTTAB	0x40100000ull
#define VA_SLOT(i)	(0x40200000ull + (uint64_t)(i) * 0x100000u)
#define VA_STATUS	0x40800000ull
#define VSLOT_SIZE	0x40000u
#define NP		128
#define PROG_PG(k)	(0x3800000u + (uint64_t)(k) * 0x2000u)	/* HBM */
#define PROG_SKEW	0xf80u	/* the program starts near a page's end */

static uint32_t launch1(struct env *e, const struct tern_launch_desc *d)
{
	uint32_t idx = crd(e, 0, TERN_C_TAIL);
	uint8_t *p = e->ram + LRING_OFF + idx * TERN_LAUNCH_DESC_SIZE;

	if (crd(e, 0, TERN_C_STATUS) == TERN_Q_STATE_DISABLED) {
		cwr(e, 0, TERN_C_RING_BASE_LO, (uint32_t)gpa(LRING_OFF));
		cwr(e, 0, TERN_C_RING_BASE_HI, (uint32_t)(gpa(LRING_OFF) >> 32));
		cwr(e, 0, TERN_C_RING_SIZE, RSIZE);
		cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ENABLE);
	}
	put64(p + 0, d->prog_addr);
	put64(p + 8, d->prog_size | (uint64_t)d->flags << 32);
	put64(p + 16, d->slot_addr);
	put64(p + 24, d->slot_count | (uint64_t)d->ctx << 32);
	put64(p + 32, d->status_addr);
	put64(p + 40, d->fence_addr);
	put64(p + 48, d->fence_value);
	put64(p + 56, d->reserved1);
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, 0),
			    (idx + 1) % RSIZE, 4);
	return c_wait(e, 0);
}

/* Copy slot 0's fp32 [128 x 300] to slot 2 through the SBUF. */
static void copy_prog(struct ctx *c)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, NP, 0, 300, 1);

	fill_random(c, slot_ptr(c, 0), TERN_DT_FP32, NP * 300, NULL, -4, 3);
	signal_on(dma_rm(c, true, a, 0, 0), 1);
	store(c, a, 2, 1);
	build(c);
}

/*
 * Context 6: the program in scattered HBM pages at VA_PROG, the slot table
 * at VA_SLOTTAB (host), slot i at VA_SLOT(i) onto SLOT_OFF(i) (4 KiB pages,
 * contiguous), status and fence at VA_STATUS (host page STATUS_PG).
 */
static void launch_setup(struct ctx *c, struct tern_launch_desc *d)
{
	struct env *e = c->e;
	unsigned int npg = (unsigned int)((PROG_SKEW + c->len + 0xfff) /
					  0x1000);
	uint8_t *tab = ram_at(e, HOSTP(50));
	uint8_t *img = calloc(npg, 0x1000);

	ctx_setup(e, 6);
	if (!img)
		abort();
	memcpy(img + PROG_SKEW, c->img, c->len);
	for (unsigned int k = 0; k < npg; k++) {
		memcpy(e->hbm + PROG_PG(npg - 1 - k), img + k * 0x1000u,
		       0x1000);
		map4k(e, 6, VA_PROG + k * 0x1000ull, PROG_PG(npg - 1 - k),
		      R | H);
	}
	free(img);
	map4k(e, 6, VA_SLOTTAB, HOSTP(50), R);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		put64(tab + i * 16, VA_SLOT(i));
		put64(tab + i * 16 + 8, VSLOT_SIZE);
		for (unsigned int k = 0; k < VSLOT_SIZE / 0x1000; k++)
			map4k(e, 6, VA_SLOT(i) + k * 0x1000ull,
			      SLOT_OFF(i) + k * 0x1000ull, RW | H);
	}
	map4k(e, 6, VA_STATUS, STATUS_PG, W);
	memset(ram_at(e, STATUS_PG), 0xee, 0x1000);
	memset(d, 0, sizeof(*d));
	d->prog_addr = VA_PROG + PROG_SKEW;
	d->prog_size = (uint32_t)c->len;
	d->slot_addr = VA_SLOTTAB;
	d->slot_count = NSLOTS;
	d->ctx = 6;
	d->status_addr = VA_STATUS;
	d->fence_addr = VA_STATUS + 0x200;
	d->fence_value = 0x1234;
	d->flags = TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ;
}

static uint32_t status_word(struct env *e, uint64_t bus, unsigned int off)
{
	return (uint32_t)get64(ram_at(e, bus) + off);
}

/* A launch that halts the ring with an MMU fault; resumed after. */
static bool launch_fault(struct env *e, struct tern_launch_desc *d,
			 uint32_t code, uint64_t va, uint32_t info,
			 const char *why)
{
	uint32_t idx = crd(e, 0, TERN_C_TAIL);

	log_clear(e);
	memset(ram_at(e, STATUS_PG), 0xee, 0x1000);
	CHECK_EQ(launch1(e, d), TERN_Q_STATE_HALTED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_CORE(0));
	CHECK_EQ(err_addr(e), va);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), info);
	if (code == TERN_ERR_MMU_FAULT) {
		CHECK_EQ(crd(e, 0, TERN_C_FAULT_ADDR_LO), (uint32_t)va);
		CHECK_EQ(crd(e, 0, TERN_C_FAULT_ADDR_HI),
			 (uint32_t)(va >> 32));
		CHECK_EQ(crd(e, 0, TERN_C_FAULT_INFO), info);
	}
	if (!log_has(e, why)) {
		printf("#   no log line with \"%s\"\n", why);
		return false;
	}
	CHECK(log_has(e, "core 0 index"));
	CHECK_EQ(ram_at(e, STATUS_PG)[0], 0xee);	/* nothing written */
	wr(e, TERN_REG_ERR_ACK, 1);
	cwr(e, 0, TERN_C_HEAD, (idx + 1) % RSIZE);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);
	CHECK_EQ(crd(e, 0, TERN_C_FAULT_INFO), 0);
	return true;
}

CORE_TEST(t_launch_va)
{
	struct env *e = c->e;
	struct tern_launch_desc d;

	copy_prog(c);
	launch_setup(c, &d);
	CHECK(c->len > 0x1000 - PROG_SKEW);	/* the program spans pages */
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, STATUS_PG, 0), TERN_JOB_OK);
	CHECK_EQ(get64(ram_at(e, STATUS_PG) + 0x200), 0x1234);
	CHECK(memcmp(slot_ptr(c, 2), slot_ptr(c, 0), NP * 300 * 4) == 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_CORE(e->cfg.queues, 0)), 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);

	/* PHYS status and fence: host, then HBM */
	memset(slot_ptr(c, 2), 0, NP * 300 * 4);
	d.flags |= TERN_LAUNCH_F_STATUS_PHYS | TERN_LAUNCH_F_FENCE_PHYS;
	d.status_addr = gpa(FENCE_OFF + 0x100);
	d.fence_addr = gpa(FENCE_OFF);
	d.fence_value = 0x4321;
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, gpa(FENCE_OFF + 0x100), 0), TERN_JOB_OK);
	CHECK_EQ(get64(e->ram + FENCE_OFF), 0x4321);
	CHECK(memcmp(slot_ptr(c, 2), slot_ptr(c, 0), NP * 300 * 4) == 0);
	d.flags |= TERN_LAUNCH_F_STATUS_HBM | TERN_LAUNCH_F_FENCE_HBM;
	d.status_addr = 0x3000;
	d.fence_addr = 0x3100;
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ((uint32_t)get64(e->hbm + 0x3000), TERN_JOB_OK);
	CHECK_EQ(get64(e->hbm + 0x3100), 0x4321);

	/* SLOTS_PHYS: the table at an HBM offset, its entries still VAs */
	memcpy(e->hbm + 0x4000, ram_at(e, HOSTP(50)), NSLOTS * 16);
	d.flags |= TERN_LAUNCH_F_SLOTS_PHYS;
	d.slot_addr = 0x4000;
	memset(slot_ptr(c, 2), 0, NP * 300 * 4);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ((uint32_t)get64(e->hbm + 0x3000), TERN_JOB_OK);
	CHECK(memcmp(slot_ptr(c, 2), slot_ptr(c, 0), NP * 300 * 4) == 0);
	CHECK_EQ(crd(e, 0, TERN_C_COMPLETED_LO), 4);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

CORE_TEST(t_launch_va_faults)
{
	struct env *e = c->e;
	struct tern_launch_desc d, g;

	copy_prog(c);
	launch_setup(c, &g);

	/* slot 2 not contiguous in the HBM: CORE_SLOT at the bad page */
	map4k(e, 6, VA_SLOT(2) + 0x5000, SLOT_OFF(2) + 0x9000, RW | H);
	d = g;
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOT(2) + 0x5000,
			   FAULT(6, 0, CORE_SLOT), "ctx 6 slot 2 VA"));
	/* a host page in a slot */
	map4k(e, 6, VA_SLOT(2) + 0x5000, HOSTP(3), RW);
	inval(e, 6);
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOT(2) + 0x5000,
			   FAULT(6, 0, CORE_SLOT), "slot not one HBM range"));
	/* a page without READ */
	map4k(e, 6, VA_SLOT(2) + 0x5000, SLOT_OFF(2) + 0x5000, W | H);
	inval(e, 6);
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOT(2) + 0x5000,
			   FAULT(6, 0, CORE_SLOT), "slot 2"));
	/* an unmapped page keeps its own reason */
	put64(pte_at(e, 6, VA_SLOT(2) + 0x5000, 2), 0);
	inval(e, 6);
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOT(2) + 0x5000,
			   FAULT(6, 0, UNMAPPED), "unmapped"));

	/* slot 2 read-only: the job faults BAD_SLOT, the ring goes on */
	map4k(e, 6, VA_SLOT(2) + 0x5000, SLOT_OFF(2) + 0x5000, R | H);
	wr(e, TERN_REG_MMU_INVALIDATE, 6);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, STATUS_PG, 0), TERN_JOB_FAULT);
	CHECK_EQ(status_word(e, STATUS_PG, 4), TERN_CERR_BAD_SLOT);
	CHECK_EQ(get64(ram_at(e, STATUS_PG) + 0x200), 0x1234);
	CHECK_EQ(*slot_ptr(c, 2), 0);
	/* slot 0 read-only is fine: it is only loaded */
	map4k(e, 6, VA_SLOT(2) + 0x5000, SLOT_OFF(2) + 0x5000, RW | H);
	map4k(e, 6, VA_SLOT(0), SLOT_OFF(0), R | H);
	wr(e, TERN_REG_MMU_INVALIDATE, 6);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(status_word(e, STATUS_PG, 0), TERN_JOB_OK);

	/* program, slot table, status and fence VAs that fault */
	d = g;
	d.prog_addr = VA_PROG + 0x80000;
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, d.prog_addr,
			   FAULT(6, 0, UNMAPPED), "ctx 6 program VA"));
	d = g;
	d.slot_addr = VA_SLOTTAB + 0xff0;	/* crosses into nothing */
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOTTAB + 0x1000,
			   FAULT(6, 0, UNMAPPED), "slot table"));
	d = g;
	d.status_addr = VA_STATUS + 0xfc0;
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_STATUS + 0x1000,
			   FAULT(6, 1, UNMAPPED), "job status"));
	d = g;
	d.fence_addr = VA_SLOTTAB;			/* read-only */
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, VA_SLOTTAB,
			   FAULT(6, 1, PERMISSION), "fence"));

	/* flags with a ctx */
	d = g;
	d.flags |= TERN_LAUNCH_F_STATUS_HBM;
	CHECK(launch_fault(e, &d, TERN_ERR_BAD_FLAGS, gpa(LRING_OFF) +
			   crd(e, 0, TERN_C_TAIL) * 64ull, 0,
			   "STATUS_HBM with ctx 6 needs STATUS_PHYS"));
	d = g;
	d.flags |= TERN_LAUNCH_F_FENCE_HBM;
	CHECK(launch_fault(e, &d, TERN_ERR_BAD_FLAGS, gpa(LRING_OFF) +
			   crd(e, 0, TERN_C_TAIL) * 64ull, 0,
			   "FENCE_HBM with ctx 6 needs FENCE_PHYS"));
	/* a disabled context */
	wr(e, TERN_REG_CTX(6) + TERN_CTX_CTRL, 0);
	d = g;
	CHECK(launch_fault(e, &d, TERN_ERR_MMU_FAULT, g.prog_addr,
			   FAULT(6, 0, BAD_CONTEXT), "bad context"));
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 9);
	return true;
}


static const struct test_case cases[] = {
	TEST("launch with ctx: program, slots, status, fence at VAs",
	     t_launch_va),
	TEST("launch with ctx: slot, program, status faults, read-only slot",
	     t_launch_va_faults),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
