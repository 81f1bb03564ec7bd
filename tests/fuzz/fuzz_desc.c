// SPDX-License-Identifier: MIT
/*
 * fuzz_desc: the DMA engines' descriptor fetch, validation and execution
 * (emulator/tern_dma.c, tern_link.c, the queue registers and doorbells of
 * tern_model.c, and tern_mmu.c underneath), driven only through the
 * model's guest-facing entry points: MMIO writes and doorbells, with
 * rings, descriptors, SG lists and page tables in the fake guest RAM/HBM.
 *
 * An input is a script: MMU contexts (sometimes), then for each of up to
 * four queues its context, ring placement and size and a few descriptors
 * (structure-aware: real opcodes, flags and addresses near every
 * boundary, or raw bytes), doorbells, and then random register writes,
 * resumes of halted queues, more doorbells and device resets while the
 * engines run. Whatever the input, nothing may touch memory outside the
 * RAM and HBM (ASan), and the queues must end in a consistent state
 * (fz_check_state).
 */
#include "fuzz_util.h"

#include <string.h>

#define NQ	4

/* One descriptor at its ring slot: structured or raw. */
static void put_desc(struct fz *f, uint8_t *p)
{
	static const uint32_t ops[] = {
		TERN_DESC_OP_COPY, TERN_DESC_OP_COPY, TERN_DESC_OP_NOP,
		TERN_DESC_OP_LINK_COPY,
	};
	uint32_t op, flags;
	uint64_t size;

	if (fz_one_in(f, 8)) {
		fz_bytes(f, p, TERN_DESC_SIZE);
		return;
	}
	op = fz_one_in(f, 32) ? fz_u32(f) : ops[fz_below(f, 4)];
	flags = fz_u16(f) & TERN_DESC_F_ALL;
	if (fz_one_in(f, 32))
		flags = fz_u32(f);
	size = fz_size(f);
	memset(p, 0, TERN_DESC_SIZE);
	fz_put32(p + 0, op);
	fz_put32(p + 4, flags);
	/* an SG list lives in RAM: point the side at one of ours */
	fz_put64(p + 8, flags & TERN_DESC_F_SRC_SGL && !fz_one_in(f, 8) ?
		 fz_gpa(FZ_SGL_OFF(0)) : fz_addr(f));
	fz_put64(p + 16, flags & TERN_DESC_F_DST_SGL && !fz_one_in(f, 8) ?
		 fz_gpa(FZ_SGL_OFF(1)) : fz_addr(f));
	fz_put64(p + 24, size);
	fz_put64(p + 32, fz_one_in(f, 2) ? fz_gpa(FZ_STATUS_OFF +
						  fz_below(f, 256) * 8) :
		 fz_addr(f));
	fz_put64(p + 40, fz_u64(f));
	fz_put32(p + 48, flags & TERN_DESC_F_SRC_SGL ? fz_below(f, 9) : 0);
	fz_put32(p + 52, flags & TERN_DESC_F_DST_SGL ? fz_below(f, 9) : 0);
	if (fz_one_in(f, 16)) {
		fz_put32(p + 48, fz_u32(f));
		fz_put32(p + 52, fz_u32(f));
	}
	fz_put32(p + 56, fz_one_in(f, 3) ? fz_below(f, FZ_CTXS + 2) : 0);
	fz_put32(p + 60, op == TERN_DESC_OP_LINK_COPY || fz_one_in(f, 32) ?
		 fz_u32(f) : 0);
}

/* Two SG lists: entries with sizes that may not add up. */
static void put_sgls(struct fz_env *e, struct fz *f)
{
	for (unsigned int l = 0; l < 2; l++) {
		uint8_t *p = fz_ram(e, fz_gpa(FZ_SGL_OFF(l)));
		unsigned int n = fz_below(f, 9);

		for (unsigned int i = 0; i < n; i++) {
			fz_put64(p + i * 16, fz_addr(f));
			fz_put64(p + i * 16 + 8, fz_one_in(f, 8) ? fz_u64(f) :
				 fz_below(f, 0x3000));
		}
	}
}

struct queue {
	uint64_t base;		/* as programmed */
	uint32_t size;
	bool hbm, va;
};

static void setup_queue(struct fz_env *e, struct fz *f, unsigned int q,
			struct queue *qs, bool mmu)
{
	uint64_t qr = TERN_REG_QUEUE(q);
	uint32_t ctx = mmu && fz_one_in(f, 3) ? 1 + fz_below(f, FZ_CTXS) : 0;
	uint32_t ndesc, ctrl;
	uint8_t *ring;

	qs->size = 1u << (1 + fz_below(f, 6));
	qs->hbm = !ctx && fz_one_in(f, 4);
	qs->va = ctx != 0;
	/* a user-mode queue's ring is a VA: 4 KiB pages of the window */
	if (qs->va)
		qs->base = FZ_VA_BASE + (fz_one_in(f, 8) ? fz_below(f, 16) :
					 q) * 0x1000ull;
	else if (qs->hbm)
		qs->base = 0x1000ull * q;
	else
		qs->base = fz_gpa(FZ_RING_OFF(q));
	if (fz_one_in(f, 16))
		qs->base = fz_one_in(f, 2) ? fz_u64(f) : qs->base + 8;
	if (fz_one_in(f, 16))
		qs->size = fz_u32(f);
	fz_wr(e, qr + TERN_Q_CTX, ctx);
	fz_wr(e, qr + TERN_Q_RING_BASE_LO, (uint32_t)qs->base);
	fz_wr(e, qr + TERN_Q_RING_BASE_HI, (uint32_t)(qs->base >> 32));
	fz_wr(e, qr + TERN_Q_RING_SIZE, qs->size);
	ctrl = TERN_Q_CTRL_ENABLE | (qs->hbm ? TERN_Q_CTRL_RING_IN_HBM : 0);
	if (fz_one_in(f, 16))
		ctrl = fz_u32(f);
	/* descriptors where a physical ring's fetch will find them */
	ring = qs->hbm ? e->hbm + 0x1000ull * q :
	       e->ram + FZ_RING_OFF(q);
	ndesc = 1 + fz_below(f, 8);
	for (uint32_t i = 0; i < ndesc && i < 64; i++)
		put_desc(f, ring + i * TERN_DESC_SIZE);
	fz_wr(e, qr + TERN_Q_CTRL, ctrl);
	tern_doorbell_write(e->dev, (uint64_t)q * TERN_DOORBELL_STRIDE,
			    fz_one_in(f, 8) ? fz_u32(f) :
			    ndesc % (qs->size ? qs->size : 1), 4);
}

/* Something more while the engines run. */
static void action(struct fz_env *e, struct fz *f, struct queue *qs)
{
	unsigned int q = fz_below(f, NQ);
	uint64_t qr = TERN_REG_QUEUE(q);

	switch (fz_below(f, 8)) {
	case 0:	/* any register */
		fz_wr(e, fz_below(f, TERN_REG_WINDOW_SIZE / 4) * 4ull,
		      fz_u32(f));
		break;
	case 1:	/* a queue register */
		fz_wr(e, qr + fz_below(f, TERN_REG_QUEUE_STRIDE / 4) * 4ull,
		      fz_u32(f));
		break;
	case 2:	/* the driver's recovery: skip or retry, then resume */
		fz_wait_idle(e);
		if (fz_rd(e, qr + TERN_Q_STATUS) == TERN_Q_STATE_HALTED) {
			uint32_t head = fz_rd(e, qr + TERN_Q_HEAD);

			fz_wr(e, qr + TERN_Q_HEAD, head + fz_below(f, 2));
			fz_wr(e, TERN_REG_ERR_ACK, 1);
			fz_wr(e, qr + TERN_Q_CTRL, TERN_Q_CTRL_ENABLE |
			      TERN_Q_CTRL_RESUME |
			      (qs[q].hbm ? TERN_Q_CTRL_RING_IN_HBM : 0));
		}
		break;
	case 3:	/* a new descriptor and a doorbell */
		if (!qs[q].va && qs[q].size >= 2 && qs[q].size <= 64) {
			uint32_t tail = fz_rd(e, qr + TERN_Q_TAIL);
			uint8_t *ring = qs[q].hbm ? e->hbm + 0x1000ull * q :
					e->ram + FZ_RING_OFF(q);

			put_desc(f, ring + (tail % qs[q].size) *
				 TERN_DESC_SIZE);
			tern_doorbell_write(e->dev, (uint64_t)q *
					    TERN_DOORBELL_STRIDE,
					    (tail + 1) % qs[q].size, 4);
		}
		break;
	case 4:	/* any doorbell write, any size */
		tern_doorbell_write(e->dev, fz_below(f, 0x10000),
				    fz_u32(f), 1u << fz_below(f, 4));
		break;
	case 5:	/* invalidate */
		fz_wr(e, TERN_REG_MMU_INVALIDATE, fz_one_in(f, 2) ?
		      TERN_MMU_INVALIDATE_ALL : fz_below(f, 70));
		break;
	case 6:	/* a device reset, maybe with work in flight */
		if (fz_one_in(f, 4))
			fz_wr(e, TERN_REG_RESET, TERN_RESET_KEY);
		break;
	default:	/* change the data under the engines */
		fz_bytes(f, e->ram + FZ_DATA_OFF + fz_below(f, 0x10000), 64);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct fz_env *e = fz_begin(NQ, 2, 1);
	struct queue qs[NQ];
	struct fz_pt pt;
	uint8_t mode = fz_u8(&f);
	unsigned int nq = 1 + (mode & 3);
	bool mmu = mode & 4;

	memset(qs, 0, sizeof(qs));
	if (mmu) {
		fz_mmu_random(e, &f, &pt);
		/* user-mode rings: map the VA window's first pages onto them */
		for (unsigned int q = 0; q < NQ; q++)
			for (unsigned int n = 1; n <= FZ_CTXS; n++)
				fz_pt_map(e, &pt, n, FZ_VA_BASE + q * 0x1000ull,
					  2, fz_gpa(FZ_RING_OFF(q)) |
					  TERN_PTE_READ | TERN_PTE_VALID |
					  TERN_PTE_LEAF);
	}
	put_sgls(e, &f);
	if (mode & 8)
		fz_wr(e, TERN_REG_INT_MASK, fz_u32(&f));
	for (unsigned int q = 0; q < nq; q++)
		setup_queue(e, &f, q, &qs[q], mmu);
	for (unsigned int i = 0; i < 16 && f.n; i++)
		action(e, &f, qs);
	/* the rest of the input is data the copies move */
	fz_bytes(&f, e->ram + FZ_DATA_OFF, f.n < 0x10000 ? f.n : 0x10000);
	fz_wait_idle(e);
	fz_check_state(e);
	return 0;
}
