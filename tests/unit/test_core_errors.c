// SPDX-License-Identifier: MIT
/*
 * tern compute core: bad programs. Every compute error code, from bad
 * headers and slot tables to each field of each instruction format, must
 * end the job with that code, the faulting engine and instruction index
 * and the documented detail; a program that fails validation must change
 * nothing; a deadlock keeps what ran before it; a cancelled job stops; and
 * after each, the next job on the same core must succeed. A mutation fuzz
 * checks that no bytes at all can crash the core or make it touch memory
 * outside SBUF, PSUM and the bound slots (the HBM guards, and ASan with
 * SAN=1).
 */
#include "core_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define F32	TERN_DT_FP32
#define BF16	TERN_DT_BF16
#define NONE_E	TERN_ENGINE_NONE
#define NONE_I	TERN_INDEX_NONE
#define MARK	0xee

/*
 * A valid program whose DMA copies 256 bytes from slot 0 to slot 1 (so a
 * run that did anything changes slot 1), with a MEMSET on the vector engine
 * and a NOP on the tensor and scalar engines.
 */
static void base(struct ctx *c)
{
	struct tern_ap x = tl(SB, F32, 0, 4, 0, 16, 1);

	signal_on(dma_rm(c, true, x, 0, 0), 0);
	wait_on(dma_rm(c, false, x, 1, 0), 0, 1);
	tile(c, E_VECTOR, TERN_OP_MEMSET, 0, tl(SB, F32, 0, 4, 1024, 16, 1),
	     none, none, 0);
	emit(c, E_TENSOR, TERN_OP_NOP);
	emit(c, E_SCALAR, TERN_OP_NOP);
}

/* A different valid job on the same core: dst = 2 * src, slot 0 -> 2. */
static bool next_ok(struct ctx *c)
{
	struct tern_ap a = tl(SB, F32, 0, 128, 0, 64, 1);
	union tern_insn *i;
	float *in = (float *)slot_ptr(c, 0), *out = (float *)slot_ptr(c, 2);

	prog_reset(c);
	c->nbound = NSLOTS;
	for (unsigned int k = 0; k < 128 * 64; k++)
		in[k] = (float)k - 100.0f;
	signal_on(dma_rm(c, true, a, 0, 0), 0);
	i = tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, TERN_ALU_MUL,
		 tl(SB, F32, 0, 128, 512, 64, 1), a, none, bits_of(2.0f));
	wait_on(i, 0, 1);
	signal_on(i, 1);
	wait_on(dma_rm(c, false, tl(SB, F32, 0, 128, 512, 64, 1), 2, 0), 1, 1);
	run(c);
	CHECK(job_ok(c));
	for (unsigned int k = 0; k < 128 * 64; k++)
		CHECK(out[k] == 2.0f * ((float)k - 100.0f));
	return true;
}

/* Run, expect the fault, check nothing ran, then a good job. */
static bool expect(struct ctx *c, uint32_t err, uint32_t engine,
		   uint32_t index, uint64_t detail)
{
	memset(slot_ptr(c, 1), MARK, 256);
	run(c);
	if (!job_fault(c, err, engine, index, detail))
		return false;
	for (unsigned int k = 0; k < 256; k++)
		CHECK_EQ(slot_ptr(c, 1)[k], MARK);
	CHECK_EQ(c->st.cycles, 0);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		CHECK_EQ(c->st.insns[e], 0);
	return next_ok(c);
}

/* ---- valid instructions to break ---- */

static union tern_insn *tt(struct ctx *c)
{
	return tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_ADD,
		    tl(SB, F32, 0, 4, 2048, 16, 1), tl(SB, F32, 0, 4, 0, 16, 1),
		    tl(SB, F32, 0, 4, 1024, 16, 1), 0);
}

static union tern_insn *mm(struct ctx *c, unsigned int engine)
{
	return tile(c, engine, TERN_OP_MATMUL, 0,
		    tl(PS, F32, 0, 8, 0, 16, 1), tl(SB, BF16, 0, 4, 4096, 8, 1),
		    tl(SB, BF16, 0, 4, 4352, 16, 1), 0);
}

static union tern_insn *tr(struct ctx *c)
{
	return tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0,
		    tl(PS, F32, 0, 16, 0, 4, 1), tl(SB, F32, 0, 4, 0, 16, 1),
		    none, 0);
}

/* UNARY, REDUCE, CAST, COPY-like: dst [4][16] fp32 from src [4][16]. */
static union tern_insn *un(struct ctx *c, uint8_t opcode)
{
	return tile(c, E_VECTOR, opcode, 0, tl(SB, F32, 0, 4, 2048, 16, 1),
		    tl(SB, F32, 0, 4, 0, 16, 1), none, 0);
}

static union tern_insn *act(struct ctx *c, bool bias_ap)
{
	union tern_insn *i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);

	i->h.op = TERN_ACT_TANH;
	i->act.dst = tl(SB, F32, 0, 4, 2048, 16, 1);
	i->act.src = tl(SB, F32, 0, 4, 0, 16, 1);
	i->act.scale = bits_of(1.0f);
	if (bias_ap) {
		i->h.flags = TERN_ACT_F_BIAS_AP;
		i->act.bias_ap = tl(SB, F32, 0, 4, 3072, 1, 1);
	}
	return i;
}

static union tern_insn *dl(struct ctx *c, unsigned int engine)
{
	union tern_insn *i = emit(c, engine, TERN_OP_DMA_LOAD);

	i->dma.sbuf = tl(SB, F32, 0, 4, 8192, 16, 1);
	i->dma.slot = 3;
	i->dma.pstride = 64;
	i->dma.stride[1] = 64;
	i->dma.stride[0] = 4;
	return i;
}

static union tern_insn *iota(struct ctx *c)
{
	union tern_insn *i = emit(c, E_VECTOR, TERN_OP_IOTA);

	i->iota.dst = tl(SB, F32, 0, 4, 2048, 16, 1);
	i->iota.fstep = 1;
	return i;
}

/*
 * One test per fault: base program, then the statements after detail
 * append the bad instruction (i) to engine's stream; it is instruction
 * number idx of that stream.
 */
#define ERR_TEST(name, err, engine, detail, ...)			\
	CORE_TEST(name)							\
	{								\
		union tern_insn *i;					\
		uint32_t idx;						\
									\
		base(c);						\
		idx = c->p->n[engine];					\
		__VA_ARGS__;						\
		(void)i;						\
		return expect(c, (err), (engine), idx, (detail));	\
	}

#define ILL	TERN_CERR_ILLEGAL_OPCODE
#define RSV	TERN_CERR_RESERVED
#define DTY	TERN_CERR_BAD_DTYPE
#define OPD	TERN_CERR_BAD_OPERAND
#define SBR	TERN_CERR_SBUF_RANGE
#define PSR	TERN_CERR_PSUM_RANGE
#define SLT	TERN_CERR_BAD_SLOT
#define HBR	TERN_CERR_HBM_RANGE

/* ---- ILLEGAL_OPCODE: detail is the opcode ---- */
ERR_TEST(t_ill_zero, ILL, E_VECTOR, 0, emit(c, E_VECTOR, 0))
ERR_TEST(t_ill_7f, ILL, E_TENSOR, 0x7f, emit(c, E_TENSOR, 0x7f))
ERR_TEST(t_ill_gap, ILL, E_TENSOR, 0x12, emit(c, E_TENSOR, 0x12))
ERR_TEST(t_ill_ff, ILL, E_DMA, 0xff, emit(c, E_DMA, 0xff))
ERR_TEST(t_ill_matmul_on_vector, ILL, E_VECTOR, TERN_OP_MATMUL, mm(c, E_VECTOR))
ERR_TEST(t_ill_dma_on_scalar, ILL, E_SCALAR, TERN_OP_DMA_LOAD, dl(c, E_SCALAR))
ERR_TEST(t_ill_activate_on_dma, ILL, E_DMA, TERN_OP_ACTIVATE,
	 i = emit(c, E_DMA, TERN_OP_ACTIVATE))

/* ---- RESERVED: detail is the byte offset ---- */
ERR_TEST(t_rsv_header, RSV, E_VECTOR, 7, i = tt(c); i->raw[7] = 1)
ERR_TEST(t_rsv_sync_bits, RSV, E_VECTOR, 3, i = tt(c); i->h.sync = 0x80)
ERR_TEST(t_rsv_wait_sem, RSV, E_VECTOR, 4, i = tt(c); i->h.wait_sem = 1)
ERR_TEST(t_rsv_wait_value, RSV, E_VECTOR, 8, i = tt(c); i->h.wait_value = 9)
ERR_TEST(t_rsv_signal_sem, RSV, E_VECTOR, 5, i = tt(c); i->h.signal_sem = 2)
ERR_TEST(t_rsv_matmul_flag, RSV, E_TENSOR, 2,
	 i = mm(c, E_TENSOR); i->h.flags = 2)
ERR_TEST(t_rsv_tt_flag, RSV, E_VECTOR, 2, i = tt(c); i->h.flags = 1)
ERR_TEST(t_rsv_cast_op, RSV, E_VECTOR, 1, i = un(c, TERN_OP_CAST); i->h.op = 1)
ERR_TEST(t_rsv_unused_src1, RSV, E_VECTOR, 50,
	 i = un(c, TERN_OP_UNARY); i->raw[50] = 4)
ERR_TEST(t_rsv_matmul_imm, RSV, E_TENSOR, 61,
	 i = mm(c, E_TENSOR); i->raw[61] = 1)
ERR_TEST(t_rsv_transpose_src1, RSV, E_TENSOR, 44, i = tr(c); i->raw[44] = 1)
ERR_TEST(t_rsv_iota_tail, RSV, E_VECTOR, 45, i = iota(c); i->raw[45] = 1)
ERR_TEST(t_rsv_activate_bias, RSV, E_SCALAR, 52,
	 i = act(c, false); i->raw[52] = 1)
ERR_TEST(t_rsv_nop_body, RSV, E_SCALAR, 20,
	 i = emit(c, E_SCALAR, TERN_OP_NOP); i->raw[20] = 1)
ERR_TEST(t_rsv_end_body, RSV, E_TENSOR, 63,
	 c->p->no_end = true; emit(c, E_VECTOR, TERN_OP_END);
	 emit(c, E_DMA, TERN_OP_END); emit(c, E_SCALAR, TERN_OP_END);
	 i = emit(c, E_TENSOR, TERN_OP_END); i->raw[63] = 0x10)

/* ---- BAD_DTYPE: detail is the dtype byte ---- */
ERR_TEST(t_dty_zero, DTY, E_VECTOR, 17, i = tt(c); i->t.dst.dtype = 0)
ERR_TEST(t_dty_six, DTY, E_VECTOR, 49, i = tt(c); i->t.src1.dtype = 6)
ERR_TEST(t_dty_matmul_dst, DTY, E_TENSOR, 17,
	 i = mm(c, E_TENSOR); i->t.dst.dtype = BF16)
ERR_TEST(t_dty_copy_mismatch, DTY, E_VECTOR, 33,
	 i = un(c, TERN_OP_COPY); i->t.src0.dtype = BF16)
ERR_TEST(t_dty_dma, DTY, E_DMA, 17, i = dl(c, E_DMA); i->dma.sbuf.dtype = 200)
ERR_TEST(t_dty_bias, DTY, E_SCALAR, 49,
	 i = act(c, true); i->act.bias_ap.dtype = 0)

/* ---- BAD_OPERAND: detail is the offending field's byte ---- */
ERR_TEST(t_opd_alu, OPD, E_VECTOR, 1, i = tt(c); i->h.op = TERN_ALU_COUNT)
ERR_TEST(t_opd_act, OPD, E_SCALAR, 1,
	 i = act(c, false); i->h.op = TERN_ACT_COUNT)
ERR_TEST(t_opd_unary, OPD, E_VECTOR, 1,
	 i = un(c, TERN_OP_UNARY); i->h.op = TERN_UN_COUNT)
ERR_TEST(t_opd_reduce, OPD, E_VECTOR, 1,
	 i = un(c, TERN_OP_REDUCE); i->t.dst.n[0] = 1; i->h.op = TERN_RED_COUNT)
ERR_TEST(t_opd_wait_no_sync, OPD, E_TENSOR, 3, emit(c, E_TENSOR, TERN_OP_WAIT))
ERR_TEST(t_opd_signal_no_sync, OPD, E_TENSOR, 3,
	 emit(c, E_TENSOR, TERN_OP_SIGNAL))
ERR_TEST(t_opd_wait_sem, OPD, E_VECTOR, 4, i = tt(c); wait_on(i, 8, 1))
ERR_TEST(t_opd_signal_sem, OPD, E_VECTOR, 5, i = tt(c); signal_on(i, 200))
ERR_TEST(t_opd_mem_zero, OPD, E_VECTOR, 32, i = tt(c); i->t.src0.mem = 0)
ERR_TEST(t_opd_mem_three, OPD, E_VECTOR, 16, i = tt(c); i->t.dst.mem = 3)
ERR_TEST(t_opd_nparts_zero, OPD, E_VECTOR, 19, i = tt(c); i->t.dst.nparts = 0)
ERR_TEST(t_opd_n0_zero, OPD, E_VECTOR, 36, i = tt(c); i->t.src0.n[0] = 0)
ERR_TEST(t_opd_n1_zero, OPD, E_VECTOR, 54, i = tt(c); i->t.src1.n[1] = 0)
ERR_TEST(t_opd_unaligned, OPD, E_VECTOR, 12, i = tt(c); i->t.dst.offset = 2050)
ERR_TEST(t_opd_matmul_src0_psum, OPD, E_TENSOR, 32,
	 i = mm(c, E_TENSOR); i->t.src0.mem = PS)
ERR_TEST(t_opd_matmul_src1_psum, OPD, E_TENSOR, 48,
	 i = mm(c, E_TENSOR); i->t.src1.mem = PS)
ERR_TEST(t_opd_matmul_dst_sbuf, OPD, E_TENSOR, 16,
	 i = mm(c, E_TENSOR); i->t.dst.mem = SB)
ERR_TEST(t_opd_matmul_m, OPD, E_TENSOR, 28,
	 i = mm(c, E_TENSOR); i->t.src0.n[0] = 129; i->t.dst.nparts = 129)
ERR_TEST(t_opd_matmul_k, OPD, E_TENSOR, 44,
	 i = mm(c, E_TENSOR); i->t.src1.nparts = 5)
ERR_TEST(t_opd_matmul_n, OPD, E_TENSOR, 44,
	 i = mm(c, E_TENSOR); i->t.src1.n[0] = 513; i->t.dst.n[0] = 513)
ERR_TEST(t_opd_matmul_dst_shape, OPD, E_TENSOR, 12,
	 i = mm(c, E_TENSOR); i->t.dst.n[0] = 15)
ERR_TEST(t_opd_transpose_f, OPD, E_TENSOR, 28,
	 i = tr(c); i->t.src0.n[0] = 129; i->t.dst.nparts = 129)
ERR_TEST(t_opd_transpose_dst, OPD, E_TENSOR, 12,
	 i = tr(c); i->t.dst.nparts = 15)
ERR_TEST(t_opd_tt_shape, OPD, E_VECTOR, 44,
	 i = tt(c); i->t.src1.n[0] = 8; i->t.src1.n[1] = 2)
ERR_TEST(t_opd_cast_shape, OPD, E_VECTOR, 28,
	 i = un(c, TERN_OP_CAST); i->t.src0.nparts = 3)
ERR_TEST(t_opd_reduce_dst, OPD, E_VECTOR, 12, i = un(c, TERN_OP_REDUCE))
ERR_TEST(t_opd_act_shape, OPD, E_SCALAR, 28,
	 i = act(c, false); i->act.src.n[0] = 15)
ERR_TEST(t_opd_bias_shape, OPD, E_SCALAR, 44,
	 i = act(c, true); i->act.bias_ap.n[0] = 2)
ERR_TEST(t_opd_dma_psum, OPD, E_DMA, 16, i = dl(c, E_DMA); i->dma.sbuf.mem = PS)

/* ---- SBUF_RANGE, PSUM_RANGE: detail is the tile's byte ---- */
ERR_TEST(t_sbr_partitions, SBR, E_VECTOR, 12,
	 i = tt(c); i->t.dst.part = 125; i->t.src0.part = 1)
ERR_TEST(t_sbr_end, SBR, E_VECTOR, 28,
	 i = tt(c); i->t.src0.offset = SBUF_PART - 60)
ERR_TEST(t_sbr_negative, SBR, E_VECTOR, 44,
	 i = tt(c); i->t.src1.offset = 8; i->t.src1.s[0] = -1)
ERR_TEST(t_sbr_huge, SBR, E_VECTOR, 12,
	 i = un(c, TERN_OP_MEMSET); i->t.src0 = none; i->t.dst.n[1] = 65535;
	 i->t.dst.s[1] = 32767)
ERR_TEST(t_sbr_dma, SBR, E_DMA, 12,
	 i = dl(c, E_DMA); i->dma.sbuf.offset = SBUF_PART)
ERR_TEST(t_psr_end, PSR, E_TENSOR, 12,
	 i = mm(c, E_TENSOR); i->t.dst.offset = TERN_PSUM_PART_SIZE - 60)
ERR_TEST(t_psr_partitions, PSR, E_TENSOR, 12, i = tr(c); i->t.dst.part = 113)
ERR_TEST(t_psr_vector, PSR, E_VECTOR, 28,
	 i = tt(c); i->t.src0.mem = PS; i->t.src0.s[0] = 1024)

/* ---- BAD_SLOT, HBM_RANGE in instructions ---- */
ERR_TEST(t_slt_index, SLT, E_DMA, 28, i = dl(c, E_DMA); i->dma.slot = NSLOTS)
ERR_TEST(t_slt_huge, SLT, E_DMA, 28,
	 i = dl(c, E_DMA); i->dma.slot = 0xffffffffu)
ERR_TEST(t_hbr_end, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->dma.hbm_offset = SLOT_SIZE - 252)
ERR_TEST(t_hbr_negative, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->dma.stride[0] = -4)
ERR_TEST(t_hbr_overflow, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->dma.pstride = INT64_MAX)
ERR_TEST(t_hbr_min, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->dma.pstride = INT64_MIN; i->dma.hbm_offset = 64)
ERR_TEST(t_hbr_offset_top, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->dma.hbm_offset = 1ull << 63)
ERR_TEST(t_hbr_store, HBR, E_DMA, 32,
	 i = dl(c, E_DMA); i->h.opcode = TERN_OP_DMA_STORE;
	 i->dma.hbm_offset = SLOT_SIZE - 4; i->dma.stride[1] = 0;
	 i->dma.pstride = 0)

/* The last element of the slot, SBUF and PSUM are in range. */
CORE_TEST(t_edges_in_range)
{
	union tern_insn *i;

	memset(slot_ptr(c, 3) + SLOT_SIZE - 256, 0x3c, 256);
	i = dl(c, E_DMA);
	i->dma.hbm_offset = SLOT_SIZE - 256;
	i->dma.sbuf.part = 124;
	i->dma.sbuf.offset = SBUF_PART - 64;
	signal_on(i, 0);
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0,
		 tl(PS, F32, 124, 4, TERN_PSUM_PART_SIZE - 64, 16, 1),
		 tl(SB, F32, 124, 4, SBUF_PART - 64, 16, 1), none, 0);
	wait_on(i, 0, 1);
	signal_on(i, 1);
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0, tl(SB, F32, 0, 4, 0, 16, 1),
		 tl(PS, F32, 124, 4, TERN_PSUM_PART_SIZE - 64, 16, 1), none, 0);
	signal_on(i, 1);
	wait_on(dma_rm(c, false, tl(SB, F32, 0, 4, 0, 16, 1), 1, 0), 1, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int k = 0; k < 256; k++)
		CHECK_EQ(slot_ptr(c, 1)[k], 0x3c);
	return true;
}

/* ---- slot tables at launch ---- */

CORE_TEST(t_slt_too_few)
{
	base(c);
	c->nbound = 3;
	run(c);
	CHECK(job_fault(c, SLT, NONE_E, NONE_I, 3));
	return next_ok(c);
}

CORE_TEST(t_slt_outside_hbm)
{
	const uint64_t hbm = c->e->cfg.hbm_size;
	const struct tern_core_slot bad[] = {
		{ hbm - 4, 8 }, { UINT64_MAX, 1 }, { 0, hbm + 1 },
		{ hbm + 4096, 0 }, { 8, UINT64_MAX },
	};

	for (unsigned int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		prog_reset(c);
		base(c);
		c->slots[4] = bad[k];
		memset(slot_ptr(c, 1), MARK, 256);
		run(c);
		CHECK(job_fault(c, SLT, NONE_E, NONE_I, 4));
		CHECK_EQ(slot_ptr(c, 1)[0], MARK);
		c->slots[4] = (struct tern_core_slot){ SLOT_OFF(4), SLOT_SIZE };
	}
	/* an empty slot at the very end of the HBM is fine, until used */
	prog_reset(c);
	base(c);
	c->slots[3] = (struct tern_core_slot){ hbm, 0 };
	CHECK_EQ(run(c), TERN_JOB_OK);
	prog_reset(c);
	base(c);
	dl(c, E_DMA);
	run(c);
	CHECK(job_fault(c, HBR, E_DMA, 2, 32));
	c->slots[3] = (struct tern_core_slot){ SLOT_OFF(3), SLOT_SIZE };
	return next_ok(c);
}

/* A program with no slots needs none bound. */
CORE_TEST(t_no_slots)
{
	struct tern_job_status st;

	tile(c, E_VECTOR, TERN_OP_MEMSET, 0, tl(SB, F32, 0, 4, 0, 16, 1),
	     none, none, 0);
	c->p->nslots = 0;
	build(c);
	CHECK_EQ(tern_core_run(c->core, c->img, c->len, NULL, 0, NULL, &st),
		 TERN_JOB_OK);
	return next_ok(c);
}

/* ---- program headers ---- */

/* Build base, apply a change to the image, expect BAD_PROGRAM. */
static bool bad_header(struct ctx *c, unsigned int off, uint64_t value,
		       unsigned int width, uint32_t engine, uint64_t detail)
{
	prog_reset(c);
	base(c);
	build(c);
	for (unsigned int b = 0; b < width; b++)
		c->img[off + b] = (uint8_t)(value >> (8 * b));
	memset(slot_ptr(c, 1), MARK, 256);
	rerun(c);
	if (!job_fault(c, TERN_CERR_BAD_PROGRAM, engine, NONE_I, detail)) {
		printf("#   header byte %u = 0x%llx\n", off,
		       (unsigned long long)value);
		return false;
	}
	CHECK_EQ(slot_ptr(c, 1)[0], MARK);
	return next_ok(c);
}

CORE_TEST(t_hdr_magic) { return bad_header(c, 0, 0x47525055, 4, NONE_E, 0); }
CORE_TEST(t_hdr_version_major)
{
	return bad_header(c, 4, 2u << 16, 4, NONE_E, 4);
}
CORE_TEST(t_hdr_version_minor)
{
	return bad_header(c, 4, TERN_ISA_VERSION + 1, 4, NONE_E, 4);
}
CORE_TEST(t_hdr_flags) { return bad_header(c, 12, 1, 4, NONE_E, 12); }
CORE_TEST(t_hdr_reserved0) { return bad_header(c, 20, 0x100, 4, NONE_E, 20); }
CORE_TEST(t_hdr_reserved1) { return bad_header(c, 63, 1, 1, NONE_E, 56); }
CORE_TEST(t_hdr_nslots)
{
	return bad_header(c, 16, TERN_MAX_SLOTS + 1, 2, NONE_E, 16);
}
CORE_TEST(t_hdr_nsems)
{
	return bad_header(c, 18, TERN_NUM_SEMS + 1, 2, NONE_E, 18);
}
CORE_TEST(t_hdr_size_small) { return bad_header(c, 8, 63, 4, NONE_E, 8); }

CORE_TEST(t_hdr_size_past_len)
{
	base(c);
	build(c);
	rerun(c);
	CHECK(job_ok(c));
	CHECK_EQ(tern_core_run(c->core, c->img, c->len - 1, c->slots, NSLOTS,
			       NULL, &c->st), TERN_JOB_FAULT);
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, NONE_E, NONE_I, 8));
	CHECK_EQ(tern_core_run(c->core, c->img, 63, c->slots, NSLOTS,
			       NULL, &c->st), TERN_JOB_FAULT);
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, NONE_E, NONE_I, 8));
	CHECK_EQ(tern_core_run(c->core, c->img, 0, c->slots, NSLOTS,
			       NULL, &c->st), TERN_JOB_FAULT);
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, NONE_E, NONE_I, 8));
	return next_ok(c);
}

/* stream e's offset at 24 + 8e, count at 28 + 8e (the base program's order) */
CORE_TEST(t_hdr_stream_unaligned)
{
	/* the vector stream starts at 192, after the tensor's two */
	return bad_header(c, 24 + 8 * E_VECTOR, 200, 4, E_VECTOR,
			  24 + 8 * E_VECTOR);
}
CORE_TEST(t_hdr_stream_in_header)
{
	return bad_header(c, 24 + 8 * E_DMA, 0, 4, E_DMA, 24 + 8 * E_DMA);
}
CORE_TEST(t_hdr_stream_past_size)
{
	return bad_header(c, 28 + 8 * E_SCALAR, 200, 4, E_SCALAR,
			  24 + 8 * E_SCALAR);
}
CORE_TEST(t_hdr_stream_too_long)
{
	return bad_header(c, 28 + 8 * E_TENSOR, TERN_MAX_STREAM_INSNS + 1, 4,
			  E_TENSOR, 28 + 8 * E_TENSOR);
}
CORE_TEST(t_hdr_stream_empty_offset)
{
	base(c);
	/* no scalar stream, but an offset for it */
	c->p->n[E_SCALAR] = 0;
	build(c);
	c->img[24 + 8 * E_SCALAR] = 64;
	rerun(c);
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, E_SCALAR, NONE_I,
			24 + 8 * E_SCALAR));
	return next_ok(c);
}

CORE_TEST(t_prog_no_end)
{
	base(c);
	c->p->no_end = true;
	emit(c, E_VECTOR, TERN_OP_END);
	emit(c, E_DMA, TERN_OP_END);
	emit(c, E_SCALAR, TERN_OP_END);
	emit(c, E_TENSOR, TERN_OP_NOP);	/* tensor: NOP NOP, no END */
	memset(slot_ptr(c, 1), MARK, 256);
	run(c);
	/* detail: the instruction's byte offset in the program */
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, E_TENSOR, 1, 64 + 64));
	CHECK_EQ(slot_ptr(c, 1)[0], MARK);
	return next_ok(c);
}

CORE_TEST(t_prog_early_end)
{
	base(c);
	emit(c, E_DMA, TERN_OP_END);
	emit(c, E_DMA, TERN_OP_NOP);
	memset(slot_ptr(c, 1), MARK, 256);
	run(c);
	/* streams in engine order: tensor 2, vector 2, scalar 2, then dma */
	CHECK(job_fault(c, TERN_CERR_BAD_PROGRAM, E_DMA, 2,
			64 + 64 * 6 + 64 * 2));
	CHECK_EQ(slot_ptr(c, 1)[0], MARK);
	return next_ok(c);
}

/* An empty program (all streams empty) is a job that does nothing. */
CORE_TEST(t_prog_empty)
{
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK_EQ(c->st.cycles, 0);
	return next_ok(c);
}

/* ---- deadlocks ---- */

/* The vector engine waits for a semaphore nobody signals. */
CORE_TEST(t_deadlock_unsignalled)
{
	base(c);
	wait_on(emit(c, E_VECTOR, TERN_OP_WAIT), 2, 1);
	tile(c, E_VECTOR, TERN_OP_MEMSET, 0, tl(SB, F32, 0, 4, 0, 16, 1),
	     none, none, 0);
	memset(slot_ptr(c, 1), MARK, 256);
	fill_random(c, slot_ptr(c, 0), F32, 64, NULL, -3, 3);
	run(c);
	CHECK(job_fault(c, TERN_CERR_DEADLOCK, E_VECTOR, 1, 2ull << 32 | 1));
	CHECK(strstr(tern_core_fault_message(c->core),
		     "vector 1 waits sem 2 >= 1"));
	/* what ran before it stays: the DMA copy finished */
	CHECK(!memcmp(slot_ptr(c, 1), slot_ptr(c, 0), 256));
	CHECK_EQ(c->st.insns[E_DMA], 3);
	CHECK_EQ(c->st.insns[E_VECTOR], 1);
	CHECK(c->st.cycles > 0);
	return next_ok(c);
}

/* Two engines each wait for the other's signal. */
CORE_TEST(t_deadlock_cycle)
{
	union tern_insn *i;

	emit(c, E_SCALAR, TERN_OP_NOP);
	i = emit(c, E_SCALAR, TERN_OP_NOP);
	wait_on(i, 1, 1);
	signal_on(i, 0);
	i = emit(c, E_TENSOR, TERN_OP_NOP);
	wait_on(i, 0, 1);
	signal_on(i, 1);
	run(c);
	CHECK(job_fault(c, TERN_CERR_DEADLOCK, E_TENSOR, 0, 0ull << 32 | 1));
	CHECK_EQ(c->st.insns[E_SCALAR], 1);
	return next_ok(c);
}

/* Waiting for more signals than the program ever sends. */
CORE_TEST(t_deadlock_count)
{
	union tern_insn *i;

	signal_on(emit(c, E_VECTOR, TERN_OP_SIGNAL), 5);
	signal_on(emit(c, E_DMA, TERN_OP_SIGNAL), 5);
	emit(c, E_SCALAR, TERN_OP_NOP);
	i = emit(c, E_SCALAR, TERN_OP_WAIT);
	wait_on(i, 5, 3);
	run(c);
	CHECK(job_fault(c, TERN_CERR_DEADLOCK, E_SCALAR, 1, 5ull << 32 | 3));
	CHECK(strstr(tern_core_fault_message(c->core), "(at 2)"));
	CHECK_EQ(c->st.insns[E_VECTOR], 2);
	CHECK_EQ(c->st.insns[E_DMA], 2);
	return next_ok(c);
}

/* ---- cancel ---- */

CORE_TEST(t_cancel_before)
{
	atomic_bool cancel = true;

	base(c);
	build(c);
	memset(slot_ptr(c, 1), MARK, 256);
	CHECK_EQ(tern_core_run(c->core, c->img, c->len, c->slots, NSLOTS,
			       &cancel, &c->st), TERN_JOB_ABORTED);
	CHECK_EQ(c->st.error, 0);
	CHECK_EQ(c->st.engine, NONE_E);
	CHECK_EQ(c->st.insns[E_DMA], 0);
	CHECK_EQ(slot_ptr(c, 1)[0], MARK);
	cancel = false;
	CHECK_EQ(tern_core_run(c->core, c->img, c->len, c->slots, NSLOTS,
			       &cancel, &c->st), TERN_JOB_OK);
	return next_ok(c);
}

struct runner {
	struct ctx *c;
	atomic_bool cancel;
	uint32_t status;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->status = tern_core_run(r->c->core, r->c->img, r->c->len,
				  r->c->slots, NSLOTS, &r->cancel, &r->c->st);
	return NULL;
}

/* Cancel from another thread while a long job runs. */
CORE_TEST(t_cancel_running)
{
	struct tern_ap a = tl(SB, F32, 0, 128, 0, 4096, 1);
	struct runner r = { .c = c };
	pthread_t th;

	/* ~1e9 element operations: far longer than setting a flag */
	for (unsigned int k = 0; k < 2000; k++)
		tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_MUL, a, a, a,
		     0);
	build(c);
	atomic_init(&r.cancel, false);
	CHECK_EQ(pthread_create(&th, NULL, run_thread, &r), 0);
	atomic_store(&r.cancel, true);
	pthread_join(th, NULL);
	CHECK_EQ(r.status, TERN_JOB_ABORTED);
	CHECK(c->st.insns[E_VECTOR] < 2001);
	CHECK(strstr(tern_core_fault_message(c->core), "cancelled"));
	return next_ok(c);
}

/*
 * One DMA of 128 x 2^32 elements (all strides 0) is cancelled while it
 * runs: the flag is set 50 ms in, when the DMA has (almost surely) started.
 * Were it set earlier, the job would end ABORTED all the same.
 */
CORE_TEST(t_cancel_huge_dma)
{
	struct tern_ap t = ap(SB, F32, 0, 128, 0, 65535, 65535, 0, 0);
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	struct runner r = { .c = c };
	pthread_t th;

	dma(c, true, t, 0, 0, 0, 0, 0);
	build(c);
	atomic_init(&r.cancel, false);
	CHECK_EQ(pthread_create(&th, NULL, run_thread, &r), 0);
	nanosleep(&ms50, NULL);
	atomic_store(&r.cancel, true);
	pthread_join(th, NULL);
	CHECK_EQ(r.status, TERN_JOB_ABORTED);
	CHECK_EQ(c->st.insns[E_DMA], 0);
	return next_ok(c);
}

/* ---- robustness ---- */

/* A valid program using every opcode, with semaphores between engines. */
static void every_opcode(struct ctx *c)
{
	struct tern_ap x = tl(SB, F32, 0, 16, 0, 32, 1);
	struct tern_ap y = tl(SB, BF16, 0, 16, 256, 32, 1);
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), F32, 16 * 32, NULL, -3, 3);
	signal_on(dma_rm(c, true, x, 0, 0), 0);
	i = tile(c, E_VECTOR, TERN_OP_CAST, 0, y, x, none, 0);
	wait_on(i, 0, 1);
	tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_MAX, x, x, x, 0);
	tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, TERN_ALU_DIV, x, x, none,
	     bits_of(3.0f));
	tile(c, E_VECTOR, TERN_OP_UNARY, TERN_UN_SQUARE, x, x, none, 0);
	tile(c, E_VECTOR, TERN_OP_REDUCE, TERN_RED_MAX,
	     tl(SB, F32, 0, 16, 512, 1, 1), x, none, 0);
	tile(c, E_VECTOR, TERN_OP_COPY, 0, tl(SB, F32, 0, 16, 1024, 32, 1), x,
	     none, 0);
	tile(c, E_VECTOR, TERN_OP_MEMSET, 0, tl(SB, F32, 0, 16, 2048, 32, 1),
	     none, none, bits_of(1.0f));
	iota(c);
	signal_on(emit(c, E_VECTOR, TERN_OP_SIGNAL), 1);
	i = tile(c, E_TENSOR, TERN_OP_MATMUL, 0, tl(PS, F32, 0, 32, 0, 32, 1),
		 y, y, 0);
	wait_on(i, 1, 1);
	i = tile(c, E_TENSOR, TERN_OP_MATMUL, 0, tl(PS, F32, 0, 32, 0, 32, 1),
		 y, y, 0);
	i->h.flags = TERN_MATMUL_F_ACCUMULATE;
	tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0, tl(PS, F32, 0, 32, 1024, 16, 1),
	     x, none, 0);
	signal_on(emit(c, E_TENSOR, TERN_OP_NOP), 2);
	i = act(c, true);
	wait_on(i, 2, 1);
	act(c, false);
	signal_on(emit(c, E_SCALAR, TERN_OP_NOP), 3);
	wait_on(dma_rm(c, false, x, 1, 0), 3, 1);
	dl(c, E_DMA);
}

CORE_TEST(t_fuzz_mutations)
{
	uint8_t *orig;
	size_t len;
	unsigned int counts[3] = { 0 };

	every_opcode(c);
	CHECK_EQ(run(c), TERN_JOB_OK);
	len = c->len;
	orig = malloc(len);
	CHECK(orig);
	memcpy(orig, c->img, len);
	for (unsigned int it = 0; it < 4000; it++) {
		unsigned int flips = 1 + (unsigned int)(rnd(c) % 4);
		uint32_t st;

		memcpy(c->img, orig, len);
		for (unsigned int f = 0; f < flips; f++) {
			/* mostly instruction bytes, sometimes the header */
			size_t pos = rnd(c) % 16 ? 64 + rnd(c) % (len - 64) :
						   rnd(c) % 64;

			if (rnd(c) % 3)
				c->img[pos] ^= (uint8_t)(1u << (rnd(c) % 8));
			else
				c->img[pos] = (uint8_t)rnd(c);
		}
		st = rerun(c);
		if (st == TERN_JOB_OK) {
			CHECK_EQ(c->st.error, 0);
		} else {
			CHECK_EQ(st, TERN_JOB_FAULT);
			CHECK(c->st.error > 0 && c->st.error < TERN_CERR_COUNT);
			CHECK(c->st.engine == NONE_E ||
			      c->st.engine < TERN_NUM_ENGINES);
			CHECK(tern_core_fault_message(c->core)[0]);
		}
		counts[st]++;
	}
	free(orig);
	printf("#   %u ran, %u faulted\n", counts[0], counts[1]);
	/* both outcomes happen, so the mutations reach execution */
	CHECK(counts[0] > 0 && counts[1] > 0);
	return next_ok(c);
}

static const struct test_case cases[] = {
	TEST("illegal opcode 0x00", t_ill_zero),
	TEST("illegal opcode 0x7f", t_ill_7f),
	TEST("illegal opcode in a gap (0x12)", t_ill_gap),
	TEST("illegal opcode 0xff", t_ill_ff),
	TEST("illegal: MATMUL on the vector engine", t_ill_matmul_on_vector),
	TEST("illegal: DMA_LOAD on the scalar engine", t_ill_dma_on_scalar),
	TEST("illegal: ACTIVATE on the DMA engine", t_ill_activate_on_dma),
	TEST("reserved: header bytes", t_rsv_header),
	TEST("reserved: unknown sync bits", t_rsv_sync_bits),
	TEST("reserved: wait_sem without SYNC_WAIT", t_rsv_wait_sem),
	TEST("reserved: wait_value without SYNC_WAIT", t_rsv_wait_value),
	TEST("reserved: signal_sem without SYNC_SIGNAL", t_rsv_signal_sem),
	TEST("reserved: unknown MATMUL flag", t_rsv_matmul_flag),
	TEST("reserved: flag on TENSOR_TENSOR", t_rsv_tt_flag),
	TEST("reserved: op on CAST", t_rsv_cast_op),
	TEST("reserved: unused src1 of UNARY", t_rsv_unused_src1),
	TEST("reserved: imm of MATMUL", t_rsv_matmul_imm),
	TEST("reserved: src1 of TRANSPOSE", t_rsv_transpose_src1),
	TEST("reserved: tail of IOTA", t_rsv_iota_tail),
	TEST("reserved: bias_reserved of ACTIVATE", t_rsv_activate_bias),
	TEST("reserved: body of NOP", t_rsv_nop_body),
	TEST("reserved: body of END", t_rsv_end_body),
	TEST("bad dtype 0", t_dty_zero),
	TEST("bad dtype 6", t_dty_six),
	TEST("bad dtype: MATMUL dst not fp32", t_dty_matmul_dst),
	TEST("bad dtype: COPY between dtypes", t_dty_copy_mismatch),
	TEST("bad dtype: DMA tile", t_dty_dma),
	TEST("bad dtype: ACTIVATE bias tile", t_dty_bias),
	TEST("bad operand: ALU op", t_opd_alu),
	TEST("bad operand: activation function", t_opd_act),
	TEST("bad operand: unary op", t_opd_unary),
	TEST("bad operand: reduce op", t_opd_reduce),
	TEST("bad operand: WAIT without SYNC_WAIT", t_opd_wait_no_sync),
	TEST("bad operand: SIGNAL without SYNC_SIGNAL", t_opd_signal_no_sync),
	TEST("bad operand: wait_sem >= nsems", t_opd_wait_sem),
	TEST("bad operand: signal_sem >= nsems", t_opd_signal_sem),
	TEST("bad operand: mem 0", t_opd_mem_zero),
	TEST("bad operand: mem 3", t_opd_mem_three),
	TEST("bad operand: nparts 0", t_opd_nparts_zero),
	TEST("bad operand: n0 0", t_opd_n0_zero),
	TEST("bad operand: n1 0", t_opd_n1_zero),
	TEST("bad operand: unaligned offset", t_opd_unaligned),
	TEST("bad operand: MATMUL src0 in PSUM", t_opd_matmul_src0_psum),
	TEST("bad operand: MATMUL src1 in PSUM", t_opd_matmul_src1_psum),
	TEST("bad operand: MATMUL dst in SBUF", t_opd_matmul_dst_sbuf),
	TEST("bad operand: MATMUL M > 128", t_opd_matmul_m),
	TEST("bad operand: MATMUL K mismatch", t_opd_matmul_k),
	TEST("bad operand: MATMUL N > 512", t_opd_matmul_n),
	TEST("bad operand: MATMUL dst shape", t_opd_matmul_dst_shape),
	TEST("bad operand: TRANSPOSE free > 128", t_opd_transpose_f),
	TEST("bad operand: TRANSPOSE dst shape", t_opd_transpose_dst),
	TEST("bad operand: TENSOR_TENSOR shapes", t_opd_tt_shape),
	TEST("bad operand: CAST shapes", t_opd_cast_shape),
	TEST("bad operand: REDUCE dst shape", t_opd_reduce_dst),
	TEST("bad operand: ACTIVATE shapes", t_opd_act_shape),
	TEST("bad operand: ACTIVATE bias shape", t_opd_bias_shape),
	TEST("bad operand: DMA tile in PSUM", t_opd_dma_psum),
	TEST("SBUF range: partitions past 127", t_sbr_partitions),
	TEST("SBUF range: past the partition end", t_sbr_end),
	TEST("SBUF range: negative stride below 0", t_sbr_negative),
	TEST("SBUF range: huge pattern", t_sbr_huge),
	TEST("SBUF range: DMA tile", t_sbr_dma),
	TEST("PSUM range: past the partition end", t_psr_end),
	TEST("PSUM range: partitions past 127", t_psr_partitions),
	TEST("PSUM range: vector operand", t_psr_vector),
	TEST("bad slot: index >= nslots", t_slt_index),
	TEST("bad slot: index 0xffffffff", t_slt_huge),
	TEST("HBM range: past the slot", t_hbr_end),
	TEST("HBM range: negative stride", t_hbr_negative),
	TEST("HBM range: stride overflow", t_hbr_overflow),
	TEST("HBM range: INT64_MIN stride", t_hbr_min),
	TEST("HBM range: offset 2^63", t_hbr_offset_top),
	TEST("HBM range: DMA store", t_hbr_store),
	TEST("last byte of slot, SBUF and PSUM are in range", t_edges_in_range),
	TEST("bad slot: fewer bound than used", t_slt_too_few),
	TEST("bad slot: outside the HBM", t_slt_outside_hbm),
	TEST("no slots used, none bound", t_no_slots),
	TEST("bad program: magic", t_hdr_magic),
	TEST("bad program: version major", t_hdr_version_major),
	TEST("bad program: version minor", t_hdr_version_minor),
	TEST("bad program: flags", t_hdr_flags),
	TEST("bad program: reserved0", t_hdr_reserved0),
	TEST("bad program: reserved1", t_hdr_reserved1),
	TEST("bad program: nslots", t_hdr_nslots),
	TEST("bad program: nsems", t_hdr_nsems),
	TEST("bad program: size below the header", t_hdr_size_small),
	TEST("bad program: size past the buffer", t_hdr_size_past_len),
	TEST("bad program: stream offset unaligned", t_hdr_stream_unaligned),
	TEST("bad program: stream inside the header", t_hdr_stream_in_header),
	TEST("bad program: stream past the size", t_hdr_stream_past_size),
	TEST("bad program: stream too long", t_hdr_stream_too_long),
	TEST("bad program: empty stream with offset",
	     t_hdr_stream_empty_offset),
	TEST("bad program: stream without END", t_prog_no_end),
	TEST("bad program: END before the end", t_prog_early_end),
	TEST("empty program", t_prog_empty),
	TEST("deadlock: unsignalled semaphore", t_deadlock_unsignalled),
	TEST("deadlock: engines wait for each other", t_deadlock_cycle),
	TEST("deadlock: more waits than signals", t_deadlock_count),
	TEST("cancel before the job", t_cancel_before),
	TEST("cancel a running job", t_cancel_running),
	TEST("cancel a huge DMA", t_cancel_huge_dma),
	TEST("fuzz: 4000 mutated programs", t_fuzz_mutations),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
