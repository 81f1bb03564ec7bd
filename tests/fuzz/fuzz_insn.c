// SPDX-License-Identifier: MIT
/*
 * fuzz_insn: the compute core's program decoder, checker and executor
 * (emulator/tern_core.c, tern_core_check.c, tern_core_exec.c,
 * tern_kernels.c) and the launch path that feeds it (tern_launch.c).
 *
 * The first input byte picks the mode:
 *   raw        the rest of the input is the program image;
 *   structured a valid header over up to 6 instructions per engine with
 *              real opcodes, operands near the SBUF/PSUM/slot limits and
 *              semaphores, now and then a raw field: programs that get
 *              past the checker and run, on a core over a small HBM that
 *              ASan bounds exactly;
 *   launch     the same program through a launch descriptor on the
 *              device's launch ring (physical or through an MMU context).
 *
 * Besides ASan and UBSan, every direct run checks what the core promises
 * (tern_core.h): a status of OK or FAULT with a known error; a fault other
 * than a deadlock is found before anything runs, so no instruction
 * completed and the HBM is unchanged; no engine completed more
 * instructions than its stream has; SBUF and PSUM are all zero after the
 * job (nothing leaks into the next one); and with the "twice" bit, the same
 * job from the same HBM gives the same status and the same HBM.
 */
#include "fuzz_util.h"
#include "tern_core_int.h"
#include "tern_isa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORE_HBM	(256u << 10)	/* the direct core's HBM */
#define SLOT_MAX	(64u << 10)
#define NSLOT_MAX	4
#define MAX_PER_ENGINE	6
#define MAX_PROG	(TERN_PROG_HEADER_SIZE + \
			 TERN_NUM_ENGINES * MAX_PER_ENGINE * TERN_INSN_SIZE)
#define RAW_MAX		4096

/* launch path: HBM layout of the device */
#define L_SLOTTAB	0x080000u
#define L_PROG		0x100000u
#define L_SLOTS		0x200000u
#define L_VA		(FZ_VA_BASE + 0x600000u)	/* 2 MiB -> HBM 0 */
#define L_RING		FZ_RING_OFF(8)

static struct tern_core *core;
static uint8_t *hbm, *hbm_before, *hbm_after;
static const uint8_t zero[65536];
static bool verbose;

static const uint8_t ops_of[TERN_NUM_ENGINES][8] = {
	[TERN_ENGINE_TENSOR] = { TERN_OP_MATMUL, TERN_OP_TRANSPOSE },
	[TERN_ENGINE_VECTOR] = { TERN_OP_TENSOR_TENSOR, TERN_OP_TENSOR_SCALAR,
				 TERN_OP_UNARY, TERN_OP_REDUCE, TERN_OP_CAST,
				 TERN_OP_COPY, TERN_OP_MEMSET, TERN_OP_IOTA },
	[TERN_ENGINE_SCALAR] = { TERN_OP_ACTIVATE },
	[TERN_ENGINE_DMA] = { TERN_OP_DMA_LOAD, TERN_OP_DMA_STORE },
};
static const unsigned int nops_of[TERN_NUM_ENGINES] = { 2, 8, 1, 2 };

static const uint32_t imms[] = {
	0x00000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x40000000,
	0x7fc00000, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff,
	0x80000000, 0x42c80000,
};

static uint32_t imm(struct fz *f)
{
	return fz_one_in(f, 4) ? fz_u32(f) : imms[fz_below(f, 12)];
}

/* A tile near the limits of SBUF (8 KiB partitions) or PSUM (16 KiB). */
static void gen_ap(struct fz *f, uint8_t *r, bool psum_ok)
{
	struct tern_ap a;
	unsigned int esz;

	memset(&a, 0, sizeof(a));
	a.mem = psum_ok && fz_one_in(f, 3) ? TERN_AP_PSUM : TERN_AP_SBUF;
	a.dtype = 1 + fz_below(f, 5);
	esz = tern_dtype_size(a.dtype);
	a.part = fz_one_in(f, 2) ? 0 : fz_below(f, 128);
	a.nparts = 1 + fz_below(f, 128 - a.part);
	a.n[0] = 1 + (fz_one_in(f, 2) ? fz_below(f, 512) : fz_below(f, 16));
	a.n[1] = 1 + fz_below(f, 4);
	a.s[0] = fz_one_in(f, 4) ? (int16_t)fz_u16(f) : 1;
	a.s[1] = fz_one_in(f, 4) ? (int16_t)fz_u16(f) : a.n[0] * a.s[0];
	a.offset = fz_below(f, 4096 / esz) * esz;
	if (fz_one_in(f, 16)) {
		a.offset = fz_u32(f);
		a.mem = fz_u8(f);
		a.dtype = fz_u8(f);
		a.nparts = fz_u8(f);
		a.n[0] = fz_u16(f);
	}
	memcpy(r, &a, sizeof(a));
}

static void gen_insn(struct fz *f, uint8_t *r, unsigned int e,
		     unsigned int nsems, unsigned int nslots)
{
	union tern_insn in;
	uint8_t op;

	memset(&in, 0, sizeof(in));
	switch (fz_below(f, 16)) {
	case 0:
		op = TERN_OP_NOP;
		break;
	case 1:
		op = TERN_OP_WAIT;
		break;
	case 2:
		op = TERN_OP_SIGNAL;
		break;
	case 3:
		op = fz_u8(f);	/* unknown or another engine's */
		break;
	default:
		op = ops_of[e][fz_below(f, nops_of[e])];
		break;
	}
	in.h.opcode = op;
	in.h.op = fz_below(f, 13);
	in.h.flags = fz_one_in(f, 16) ? fz_u8(f) : fz_below(f, 2);
	in.h.sync = op == TERN_OP_WAIT ? TERN_SYNC_WAIT :
		    op == TERN_OP_SIGNAL ? TERN_SYNC_SIGNAL : fz_below(f, 4);
	if (in.h.sync & TERN_SYNC_WAIT) {
		in.h.wait_sem = fz_below(f, nsems + 1);
		in.h.wait_value = fz_below(f, 4);
	}
	if (in.h.sync & TERN_SYNC_SIGNAL)
		in.h.signal_sem = fz_below(f, nsems + 1);
	if (fz_one_in(f, 32))
		in.h.reserved = fz_u16(f);
	switch (op) {
	case TERN_OP_NOP:
	case TERN_OP_WAIT:
	case TERN_OP_SIGNAL:
	case TERN_OP_END:
		break;
	case TERN_OP_IOTA:
		gen_ap(f, (uint8_t *)&in.iota.dst, false);
		in.iota.base = (int32_t)fz_u32(f);
		in.iota.pstep = (int8_t)fz_u8(f);
		in.iota.fstep = (int8_t)fz_u8(f);
		break;
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		gen_ap(f, (uint8_t *)&in.dma.sbuf, false);
		in.dma.slot = fz_below(f, nslots + 1);
		in.dma.hbm_offset = fz_one_in(f, 8) ? fz_u64(f) :
				    fz_below(f, SLOT_MAX);
		in.dma.stride[0] = fz_one_in(f, 4) ? (int8_t)fz_u8(f) :
				   tern_dtype_size(in.dma.sbuf.dtype);
		in.dma.stride[1] = fz_one_in(f, 4) ? (int16_t)fz_u16(f) :
				   in.dma.stride[0] * in.dma.sbuf.n[0];
		in.dma.pstride = fz_one_in(f, 4) ? (int16_t)fz_u16(f) :
				 in.dma.stride[1] * in.dma.sbuf.n[1];
		if (fz_one_in(f, 32))
			fz_bytes(f, in.raw + 12, 52);
		break;
	case TERN_OP_MATMUL:
		gen_ap(f, (uint8_t *)&in.t.dst, true);
		gen_ap(f, (uint8_t *)&in.t.src0, false);
		gen_ap(f, (uint8_t *)&in.t.src1, false);
		if (!fz_one_in(f, 8)) {	/* a plausible shape */
			in.t.dst.mem = TERN_AP_PSUM;
			in.t.dst.dtype = TERN_DT_FP32;
			in.t.src1.nparts = in.t.src0.nparts;
			in.t.src1.part = in.t.src0.part;
			in.t.dst.nparts = (uint8_t)(in.t.src0.n[0] *
						    in.t.src0.n[1]);
		}
		break;
	case TERN_OP_ACTIVATE:
		gen_ap(f, (uint8_t *)&in.act.dst, true);
		gen_ap(f, (uint8_t *)&in.act.src, true);
		if (in.h.flags & TERN_ACT_F_BIAS_AP)
			gen_ap(f, (uint8_t *)&in.act.bias_ap, true);
		else
			in.act.bias_imm = imm(f);
		in.act.scale = imm(f);
		break;
	default:
		gen_ap(f, (uint8_t *)&in.t.dst, true);
		gen_ap(f, (uint8_t *)&in.t.src0, true);
		if (op == TERN_OP_TENSOR_TENSOR) {
			gen_ap(f, (uint8_t *)&in.t.src1, true);
			if (!fz_one_in(f, 4))	/* same shape as src0 */
				memcpy(in.t.src1.n, in.t.src0.n, 8),
				in.t.src1.nparts = in.t.src0.nparts;
		}
		if (!fz_one_in(f, 4))	/* dst the shape of src0 */
			memcpy(in.t.dst.n, in.t.src0.n, 8),
			in.t.dst.nparts = in.t.src0.nparts;
		if (op == TERN_OP_TENSOR_SCALAR || op == TERN_OP_MEMSET)
			in.t.imm = imm(f);
		break;
	}
	memcpy(r, in.raw, TERN_INSN_SIZE);
}

struct prog {
	uint8_t img[MAX_PROG + 64];
	size_t len;
	uint32_t count[TERN_NUM_ENGINES];
	unsigned int nslots;
};

static void gen_prog(struct fz *f, struct prog *p)
{
	struct tern_prog_header h;
	uint32_t off = TERN_PROG_HEADER_SIZE;

	memset(&h, 0, sizeof(h));
	h.magic = TERN_PROG_MAGIC;
	h.version = fz_one_in(f, 32) ? fz_u32(f) : TERN_ISA_VERSION;
	h.nslots = fz_below(f, NSLOT_MAX + 1);
	h.nsems = fz_below(f, 5);
	p->nslots = h.nslots;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		uint32_t n = fz_below(f, MAX_PER_ENGINE + 1);

		h.stream[e].offset = n ? off : 0;
		h.stream[e].count = n;
		p->count[e] = n;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t *r = p->img + off + i * TERN_INSN_SIZE;

			gen_insn(f, r, e, h.nsems, h.nslots);
			if (i == n - 1 && !fz_one_in(f, 16)) {
				memset(r, 0, TERN_INSN_SIZE);
				r[0] = TERN_OP_END;
			}
		}
		off += n * TERN_INSN_SIZE;
	}
	h.size = off;
	if (fz_one_in(f, 32)) {	/* a broken header */
		unsigned int e = fz_below(f, TERN_NUM_ENGINES);

		h.stream[e].offset = fz_u32(f);
		h.stream[e].count = fz_one_in(f, 2) ? fz_u32(f) :
				    h.stream[e].count;
		h.size = fz_one_in(f, 2) ? fz_u32(f) : h.size;
		h.flags = fz_u8(f) & 1;
		h.nsems = fz_one_in(f, 2) ? fz_u16(f) : h.nsems;
	}
	memcpy(p->img, &h, sizeof(h));
	p->len = off;
}

/* Slots: in the core's HBM, sometimes outside it or overflowing. */
static unsigned int gen_slots(struct fz *f, struct tern_core_slot *s,
			      uint64_t hbm_size, uint64_t base)
{
	unsigned int n = fz_below(f, NSLOT_MAX + 2);

	for (unsigned int i = 0; i < n; i++) {
		s[i].offset = base + (uint64_t)i * SLOT_MAX;
		s[i].size = fz_one_in(f, 4) ? fz_below(f, SLOT_MAX) : SLOT_MAX;
		if (fz_one_in(f, 16)) {
			s[i].offset = fz_one_in(f, 2) ? fz_u64(f) :
				      hbm_size - fz_below(f, 4096);
			s[i].size = fz_one_in(f, 2) ? fz_u64(f) :
				    fz_below(f, 8192);
		}
	}
	return n;
}

static void all_zero(const uint8_t *p, size_t len, const char *what)
{
	for (size_t k = 0; k < len; k += sizeof(zero)) {
		size_t n = len - k < sizeof(zero) ? len - k : sizeof(zero);

		if (memcmp(p + k, zero, n))
			fz_fail("%s not zero after the job (near byte %zu)",
				what, k);
	}
}

static void check_job(const struct tern_job_status *st, const uint32_t *count)
{
	bool ran = false;

	if (st->status != TERN_JOB_OK && st->status != TERN_JOB_FAULT)
		fz_fail("job status %u without a cancel", st->status);
	if ((st->status == TERN_JOB_OK) != (st->error == TERN_CERR_NONE))
		fz_fail("job status %u with error %u", st->status, st->error);
	if (st->error >= TERN_CERR_COUNT)
		fz_fail("unknown compute error %u", st->error);
	if (st->engine >= TERN_NUM_ENGINES && st->engine != TERN_ENGINE_NONE)
		fz_fail("fault engine %u", st->engine);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		if (count && st->insns[e] > count[e])
			fz_fail("engine %u completed %u of %u instructions",
				e, st->insns[e], count[e]);
		ran = ran || st->insns[e];
	}
	if (st->status == TERN_JOB_FAULT && st->error != TERN_CERR_DEADLOCK) {
		if (ran)
			fz_fail("fault %u (%s) found after instructions ran",
				st->error, tern_core_fault_message(core));
		if (memcmp(hbm, hbm_before, CORE_HBM))
			fz_fail("fault %u (%s) but the HBM changed", st->error,
				tern_core_fault_message(core));
	}
	all_zero(core->sbuf, TERN_PARTITIONS * SBUF_PITCH(core), "SBUF");
	all_zero(core->psum, TERN_PARTITIONS * PSUM_PITCH, "PSUM");
}

static void setup_core(void)
{
	char err[256];

	if (core)
		return;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	hbm = malloc(CORE_HBM);	/* exactly: ASan bounds it */
	hbm_before = malloc(CORE_HBM);
	hbm_after = malloc(CORE_HBM);
	if (!hbm || !hbm_before || !hbm_after)
		fz_fail("out of memory");
	core = tern_core_create(hbm, CORE_HBM, TERN_SBUF_SIZE_MIN, err,
				sizeof(err));
	if (!core)
		fz_fail("tern_core_create: %s", err);
}

static void run_direct(struct fz *f, const uint8_t *prog, size_t len,
		       const uint32_t *count, bool twice)
{
	struct tern_core_slot slots[NSLOT_MAX + 1];
	struct tern_job_status st, st2;
	unsigned int n = gen_slots(f, slots, CORE_HBM, 0);
	uint64_t ro = fz_one_in(f, 4) ? fz_u8(f) : 0;

	memset(hbm, 0, CORE_HBM);
	fz_bytes(f, hbm, f->n < 8192 ? f->n : 8192);	/* some data */
	memcpy(hbm_before, hbm, CORE_HBM);
	tern_core_run_ro(core, prog, len, slots, n, ro, NULL, &st);
	if (verbose)
		fprintf(stderr, "# job: status %u error %u insns %u/%u/%u/%u:"
			" %s\n", st.status, st.error, st.insns[0],
			st.insns[1], st.insns[2], st.insns[3],
			tern_core_fault_message(core));
	check_job(&st, count);
	if (!twice)
		return;
	memcpy(hbm_after, hbm, CORE_HBM);
	memcpy(hbm, hbm_before, CORE_HBM);
	tern_core_run_ro(core, prog, len, slots, n, ro, NULL, &st2);
	check_job(&st2, count);
	st.wall_ns = st2.wall_ns = 0;
	if (memcmp(&st, &st2, sizeof(st)))
		fz_fail("the same job gave status %u/%u then %u/%u",
			st.status, st.error, st2.status, st2.error);
	if (memcmp(hbm, hbm_after, CORE_HBM))
		fz_fail("the same job from the same HBM wrote different data");
}

/* The program through the device's launch ring. */
static void run_launch(struct fz *f, const struct prog *p)
{
	struct fz_env *e = fz_begin(1, 1, 1);
	uint64_t cr = TERN_REG_CORE(0);
	struct tern_core_slot slots[NSLOT_MAX + 1];
	uint8_t *d = e->ram + L_RING;
	uint32_t ctx = 0, flags;
	uint64_t base = 0;
	unsigned int n;
	struct fz_pt pt;

	if (fz_one_in(f, 3)) {	/* through context 1..3 */
		fz_mmu_random(e, f, &pt);
		ctx = 1 + fz_below(f, FZ_CTXS);
		fz_pt_map(e, &pt, ctx, L_VA, 1, TERN_PTE_VALID |
			  TERN_PTE_LEAF | TERN_PTE_HBM | TERN_PTE_READ |
			  (fz_one_in(f, 8) ? 0 : TERN_PTE_WRITE));
		base = L_VA;
	}
	memcpy(e->hbm + L_PROG, p->img, p->len);
	n = gen_slots(f, slots, FZ_HBM_SIZE, L_SLOTS);
	for (unsigned int i = 0; i < n; i++) {
		fz_put64(e->hbm + L_SLOTTAB + i * 16, base + slots[i].offset);
		fz_put64(e->hbm + L_SLOTTAB + i * 16 + 8, slots[i].size);
	}
	fz_bytes(f, e->hbm + L_SLOTS, f->n < 8192 ? f->n : 8192);
	flags = TERN_LAUNCH_F_FENCE | TERN_LAUNCH_F_IRQ;
	if (ctx)
		flags |= TERN_LAUNCH_F_STATUS_PHYS | TERN_LAUNCH_F_FENCE_PHYS;
	if (fz_one_in(f, 4))
		flags = fz_u8(f);
	memset(d, 0, TERN_LAUNCH_DESC_SIZE);
	fz_put64(d + 0, fz_one_in(f, 16) ? fz_addr(f) : base + L_PROG);
	fz_put32(d + 8, fz_one_in(f, 16) ? fz_u32(f) : (uint32_t)p->len);
	fz_put32(d + 12, flags);
	fz_put64(d + 16, fz_one_in(f, 16) ? fz_addr(f) : base + L_SLOTTAB);
	fz_put32(d + 24, fz_one_in(f, 16) ? fz_u32(f) : n);
	fz_put32(d + 28, fz_one_in(f, 16) ? fz_u32(f) : ctx);
	fz_put64(d + 32, fz_one_in(f, 8) ? fz_addr(f) : fz_gpa(FZ_STATUS_OFF));
	fz_put64(d + 40, fz_one_in(f, 8) ? fz_addr(f) :
		 fz_gpa(FZ_STATUS_OFF + 0x100));
	fz_put64(d + 48, fz_u64(f));
	fz_put64(d + 56, fz_one_in(f, 32) ? fz_u64(f) : 0);
	/* the same descriptor once more behind it, to abort or not */
	memcpy(d + TERN_LAUNCH_DESC_SIZE, d, TERN_LAUNCH_DESC_SIZE);

	fz_wr(e, cr + TERN_C_RING_BASE_LO, (uint32_t)fz_gpa(L_RING));
	fz_wr(e, cr + TERN_C_RING_BASE_HI, (uint32_t)(fz_gpa(L_RING) >> 32));
	fz_wr(e, cr + TERN_C_RING_SIZE, 4);
	fz_wr(e, cr + TERN_C_CTRL, TERN_C_CTRL_ENABLE);
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(1, 0),
			    1 + fz_below(f, 2), 4);
	switch (fz_below(f, 8)) {
	case 0:
		fz_wr(e, cr + TERN_C_CTRL, TERN_C_CTRL_ENABLE |
		      TERN_C_CTRL_ABORT);
		break;
	case 1:
		fz_wr(e, cr + TERN_C_ABORT_IDX, fz_below(f, 2));
		break;
	case 2:
		fz_wr(e, TERN_REG_RESET, TERN_RESET_KEY);
		break;
	}
	fz_wait_idle(e);
	fz_check_state(e);
	if (fz_rd(e, cr + TERN_C_COMPLETED_LO) &&
	    fz_rd(e, cr + TERN_C_STATUS) == TERN_Q_STATE_ACTIVE &&
	    !(flags & TERN_LAUNCH_F_STATUS_HBM) &&
	    fz_get64(e->ram + FZ_STATUS_OFF + 24)) {
		uint32_t status = (uint32_t)fz_get64(e->ram + FZ_STATUS_OFF);
		uint32_t error = (uint32_t)(fz_get64(e->ram + FZ_STATUS_OFF) >>
					    32);

		/* a completed launch wrote its status (cycles != 0) */
		if (status > TERN_JOB_ABORTED || error >= TERN_CERR_COUNT)
			fz_fail("launch wrote status %u error %u", status,
				error);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prog p;
	struct fz f = { data, size };
	uint8_t mode = fz_u8(&f);

	setup_core();
	switch (mode & 3) {
	case 0: {	/* the rest is the program */
		size_t len = size - 1 < RAW_MAX ? size - 1 : RAW_MAX;

		if (!size)
			return 0;
		f.p += len;
		f.n -= len;
		run_direct(&f, data + 1, len, NULL, mode & 4);
		break;
	}
	case 3:
		gen_prog(&f, &p);
		run_launch(&f, &p);
		break;
	default:
		gen_prog(&f, &p);
		run_direct(&f, p.img, p.len, p.count, mode & 4);
		break;
	}
	return 0;
}
