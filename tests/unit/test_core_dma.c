// SPDX-License-Identifier: MIT
/*
 * tern compute core: golden tests of the DMA engine's access patterns
 * (contiguous, transposing, three strided dimensions, negative strides,
 * broadcast, scatter, strided SBUF tiles), of semaphores and the control
 * instructions, of the fresh SBUF/PSUM every job gets, and of the cost
 * model: each instruction's modeled cycles follow the documented formula,
 * independent engines overlap, and semaphore chains serialize them.
 */
#include "core_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F32	TERN_DT_FP32
#define BF16	TERN_DT_BF16
#define FP16	TERN_DT_FP16
#define E4M3	TERN_DT_FP8_E4M3
#define INSN	TERN_COST_INSN_CYCLES

/* ---- DMA ---- */

CORE_TEST(t_dma_roundtrip)
{
	struct tern_ap t = tl(SB, F32, 0, 128, 0, 100, 1);

	fill_random(c, slot_ptr(c, 0), F32, 128 * 100, NULL, -10, 10);
	load(c, t, 0);
	wait_on(dma_rm(c, false, t, 1, 0), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK(job_ok(c));
	CHECK(!memcmp(slot_ptr(c, 0), slot_ptr(c, 1), 128 * 100 * 4));
	CHECK_EQ(c->st.insns[E_DMA], 3);
	CHECK_EQ(c->st.insns[E_TENSOR], 0);
	return true;
}

/* A row-major [64][80] bf16 matrix lands transposed: partition = column. */
CORE_TEST(t_dma_transposing_load)
{
	struct tern_ap t = tl(SB, BF16, 0, 80, 0, 64, 1);

	fill_random(c, slot_ptr(c, 0), BF16, 64 * 80, NULL, -5, 5);
	signal_on(dma(c, true, t, 0, 0, 2, 0, 160), 0);
	wait_on(dma_rm(c, false, t, 1, 0), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int p = 0; p < 80; p++)
		for (unsigned int i = 0; i < 64; i++)
			CHECK_EQ(code_at(c, 1, p * 64 + i, BF16),
				 code_at(c, 0, i * 80 + p, BF16));
	return true;
}

/* Three HBM dimensions with gaps, fp16. */
CORE_TEST(t_dma_strided_3d)
{
	struct tern_ap t = tl(SB, FP16, 3, 16, 64, 7, 5);

	fill_random(c, slot_ptr(c, 0), FP16, 16 * 1000 / 2, NULL, -5, 5);
	signal_on(dma(c, true, t, 0, 10, 1000, 100, 6), 0);
	wait_on(dma_rm(c, false, t, 1, 0), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int p = 0; p < 16; p++)
		for (unsigned int i1 = 0; i1 < 5; i1++)
			for (unsigned int i0 = 0; i0 < 7; i0++) {
				size_t o = ((p * 5 + i1) * 7 + i0) * 2;
				size_t in = 10 + p * 1000 + i1 * 100 + i0 * 6;

				CHECK_EQ(get_code(slot_ptr(c, 1) + o, FP16),
					 get_code(slot_ptr(c, 0) + in, FP16));
			}
	return true;
}

/* Negative stride (reversed rows) and partition stride 0 (broadcast). */
CORE_TEST(t_dma_reverse_broadcast)
{
	struct tern_ap t = tl(SB, F32, 0, 128, 0, 33, 1);

	fill_random(c, slot_ptr(c, 0), F32, 33, NULL, -5, 5);
	signal_on(dma(c, true, t, 0, 32 * 4, 0, 0, -4), 0);
	wait_on(dma_rm(c, false, t, 1, 0), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int p = 0; p < 128; p++)
		for (unsigned int i = 0; i < 33; i++)
			CHECK_EQ(code_at(c, 1, p * 33 + i, F32),
				 code_at(c, 0, 32 - i, F32));
	return true;
}

/* A strided store writes its elements and nothing in the gaps. */
CORE_TEST(t_dma_scatter_store)
{
	struct tern_ap t = tl(SB, F32, 0, 8, 0, 10, 1);
	uint8_t *out = slot_ptr(c, 1);

	fill_random(c, slot_ptr(c, 0), F32, 80, NULL, -5, 5);
	memset(out, 0x5a, 8 * 400);
	load(c, t, 0);
	wait_on(dma(c, false, t, 1, 0, 400, 0, 8), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int b = 0; b < 8 * 400; b++) {
		unsigned int p = b / 400, r = b % 400;
		const uint8_t *in = slot_ptr(c, 0);

		if (r < 80 && r % 8 < 4)
			CHECK_EQ(out[b], in[(p * 10 + r / 8) * 4 + r % 8]);
		else
			CHECK_EQ(out[b], 0x5a);
	}
	return true;
}

/* A strided SBUF tile: elements land at their offsets, the rest reads 0. */
CORE_TEST(t_dma_sbuf_strided)
{
	struct tern_ap t = ap(SB, E4M3, 10, 4, 5, 10, 4, 3, 50);
	struct tern_ap whole = tl(SB, E4M3, 10, 4, 0, 200, 1);
	uint8_t *in = slot_ptr(c, 0), *out = slot_ptr(c, 1);

	for (unsigned int i = 0; i < 160; i++)
		in[i] = (uint8_t)(i + 1);
	load(c, t, 0);
	wait_on(dma_rm(c, false, whole, 1, 0), 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int p = 0; p < 4; p++)
		for (unsigned int b = 0; b < 200; b++) {
			unsigned int r = b >= 5 ? b - 5 : 999;
			uint8_t want = 0;

			if (r < 200 && r / 50 < 4 && r % 50 % 3 == 0 &&
			    r % 50 / 3 < 10)
				want = in[p * 40 + r / 50 * 10 + r % 50 / 3];
			CHECK_EQ(out[p * 200 + b], want);
		}
	return true;
}

/* ---- control and semaphores ---- */

/* WAIT needs all of a semaphore's signals; NOP and SIGNAL work anywhere. */
CORE_TEST(t_wait_signal)
{
	struct tern_ap d = tl(SB, F32, 0, 1, 0, 1, 1);
	union tern_insn *i;

	/* three engines each signal sem 3; the vector engine waits for 3 */
	signal_on(emit(c, E_TENSOR, TERN_OP_SIGNAL), 3);
	emit(c, E_SCALAR, TERN_OP_NOP);
	signal_on(emit(c, E_SCALAR, TERN_OP_SIGNAL), 3);
	signal_on(emit(c, E_DMA, TERN_OP_SIGNAL), 3);
	wait_on(emit(c, E_VECTOR, TERN_OP_WAIT), 3, 3);
	i = tile(c, E_VECTOR, TERN_OP_MEMSET, 0, d, none, none, bits_of(7.0f));
	signal_on(i, 1);
	wait_on(dma_rm(c, false, d, 0, 0), 1, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK_EQ(val(c, 0, 0, F32), 7.0);
	/*
	 * Modeled time: the scalar signal lands at 2 * INSN, so the vector
	 * WAIT starts then, MEMSET at 3 * INSN; the DMA store starts after
	 * the memset, at 3 * INSN + INSN + 1.
	 */
	CHECK_EQ(c->st.busy[E_VECTOR], 3 * INSN + 1);
	CHECK_EQ(c->st.cycles, 4 * INSN + 1 +
		 tern_core_insn_cycles(&c->p->ins[E_DMA][1]) + INSN);
	CHECK_EQ(c->st.insns[E_TENSOR], 2);
	CHECK_EQ(c->st.insns[E_VECTOR], 3);
	CHECK_EQ(c->st.insns[E_SCALAR], 3);
	CHECK_EQ(c->st.insns[E_DMA], 3);
	return true;
}

/* A job never sees the SBUF or PSUM of the one before. */
CORE_TEST(t_fresh_state_per_job)
{
	struct tern_ap s = tl(SB, F32, 0, 128, 0, 512, 1);
	struct tern_ap p = tl(PS, F32, 0, 128, 0, 512, 1);
	uint8_t *out = slot_ptr(c, 1);

	fill_random(c, slot_ptr(c, 0), F32, 128 * 512, NULL, -3, 3);
	load(c, s, 0);
	after_loads(tile(c, E_VECTOR, TERN_OP_COPY, 0, p, s, none, 0), 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	prog_reset(c);
	memset(out, 0xff, 2 * 128 * 512 * 4);
	signal_on(tile(c, E_VECTOR, TERN_OP_COPY, 0,
		       tl(SB, F32, 0, 128, 4096, 512, 1), p, none, 0), 1);
	wait_on(dma_rm(c, false, s, 1, 0), 1, 1);
	wait_on(dma_rm(c, false, tl(SB, F32, 0, 128, 4096, 512, 1), 1,
		       128 * 512 * 4), 1, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < 2 * 128 * 512 * 4; k++)
		CHECK_EQ(out[k], 0);
	return true;
}

/* ---- cost model ---- */

/* A lone matmul: INSN + FILL + N x passes, then END (INSN). */
CORE_TEST(t_cost_matmul)
{
	static const struct {
		uint8_t dta, dtb;
		unsigned int n, passes;
	} v[] = {
		{ BF16, BF16, 512, 1 }, { F32, F32, 512, 4 },
		{ E4M3, BF16, 77, 1 }, { BF16, F32, 1, 4 },
		{ FP16, FP16, 300, 1 },
	};

	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		uint64_t want = INSN + TERN_COST_PE_FILL_CYCLES +
				(uint64_t)v[k].n * v[k].passes;

		prog_reset(c);
		tile(c, E_TENSOR, TERN_OP_MATMUL, 0,
		     tl(PS, F32, 0, 128, 0, (uint16_t)v[k].n, 1),
		     tl(SB, v[k].dta, 0, 128, 0, 128, 1),
		     tl(SB, v[k].dtb, 0, 128, 1024, (uint16_t)v[k].n, 1), 0);
		CHECK_EQ(run(c), TERN_JOB_OK);
		CHECK_EQ(tern_core_insn_cycles(&c->p->ins[E_TENSOR][0]), want);
		CHECK_EQ(c->st.busy[E_TENSOR], want + INSN);
		CHECK_EQ(c->st.cycles, want + INSN);
		for (unsigned int e = 1; e < TERN_NUM_ENGINES; e++)
			CHECK_EQ(c->st.busy[e], 0);
	}
	/* 128x128x512 bf16: 16.8 MFLOP in 704 cycles, 33.4 TFLOPS per core */
	return true;
}

/* Independent engines overlap; a semaphore chain serializes them. */
CORE_TEST(t_cost_overlap_and_chain)
{
	struct tern_ap a = tl(SB, BF16, 0, 128, 0, 128, 1);
	uint64_t mm = INSN + TERN_COST_PE_FILL_CYCLES + 128;
	uint64_t vec = INSN + 1000, act = INSN + 500, dm;
	union tern_insn *i;

	for (int chain = 0; chain < 2; chain++) {
		prog_reset(c);
		i = dma_rm(c, true, a, 0, 0);
		if (chain)
			signal_on(i, 0);
		dm = tern_core_insn_cycles(i);
		i = tile(c, E_TENSOR, TERN_OP_MATMUL, 0,
			 tl(PS, F32, 0, 128, 0, 128, 1), a, a, 0);
		if (chain) {
			wait_on(i, 0, 1);
			signal_on(i, 1);
		}
		i = tile(c, E_VECTOR, TERN_OP_MEMSET, 0,
			 tl(SB, F32, 0, 128, 4096, 1000, 1), none, none, 0);
		if (chain) {
			wait_on(i, 1, 1);
			signal_on(i, 2);
		}
		i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
		i->act.dst = tl(SB, F32, 0, 128, 8192, 500, 1);
		i->act.src = tl(SB, F32, 0, 128, 8192, 500, 1);
		if (chain)
			wait_on(i, 2, 1);
		CHECK_EQ(run(c), TERN_JOB_OK);
		CHECK_EQ(c->st.busy[E_DMA], dm + INSN);
		CHECK_EQ(c->st.busy[E_TENSOR], mm + INSN);
		CHECK_EQ(c->st.busy[E_VECTOR], vec + INSN);
		CHECK_EQ(c->st.busy[E_SCALAR], act + INSN);
		if (chain)
			CHECK_EQ(c->st.cycles, dm + mm + vec + act + INSN);
		else
			CHECK_EQ(c->st.cycles, INSN + (dm > vec ? dm : vec));
	}
	return true;
}

/* DMA: fixed + bursts / rate; strided elements cost a burst each. */
CORE_TEST(t_cost_dma)
{
	const uint64_t fixed = INSN + TERN_COST_DMA_FIXED_CYCLES;
	struct tern_ap t = tl(SB, BF16, 0, 128, 0, 512, 1);
	struct tern_ap one = tl(SB, BF16, 0, 1, 0, 512, 1);
	union tern_insn *i;

	/* contiguous 128 KiB: 2048 bursts at 256 B/cycle */
	i = dma_rm(c, true, t, 0, 0);
	CHECK_EQ(tern_core_insn_cycles(i), fixed + 128 * 1024 / 256);
	/* contiguous rows 1 KiB apart in HBM: the same */
	i = dma(c, true, t, 0, 0, 2048, 0, 2);
	CHECK_EQ(tern_core_insn_cycles(i), fixed + 128 * 1024 / 256);
	/* transposing: every 2-byte element is its own 64-byte burst */
	i = dma(c, true, t, 0, 0, 2, 0, 256);
	CHECK_EQ(tern_core_insn_cycles(i), fixed + 128 * 512 * 64 / 256);
	/* one partition: its SBUF port limits the rate */
	i = dma_rm(c, true, one, 0, 0);
	CHECK_EQ(tern_core_insn_cycles(i),
		 fixed + 1024 / TERN_COST_SBUF_PART_BYTES_PER_CYCLE);
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK_EQ(c->st.busy[E_DMA], 4 * fixed + 2 * 512 + 128 * 512 * 64 / 256 +
		 1024 / TERN_COST_SBUF_PART_BYTES_PER_CYCLE + INSN);
	return true;
}

/* Vector, scalar and transpose costs. */
CORE_TEST(t_cost_engines)
{
	struct tern_ap a = tl(SB, F32, 0, 64, 0, 50, 6);
	union tern_insn *i;

	i = tile(c, E_VECTOR, TERN_OP_REDUCE, TERN_RED_SUM,
		 tl(SB, F32, 0, 64, 4096, 1, 1), a, none, 0);
	CHECK_EQ(tern_core_insn_cycles(i), INSN + 300);
	i = tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_ADD, a, a, a, 0);
	CHECK_EQ(tern_core_insn_cycles(i), INSN + 300);
	i = tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0,
		 tl(PS, F32, 0, 100, 0, 64, 1), tl(SB, F32, 0, 64, 0, 100, 1),
		 none, 0);
	CHECK_EQ(tern_core_insn_cycles(i), INSN + TERN_COST_PE_FILL_CYCLES +
		 64 * TERN_COST_PE_FP32_PASSES);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->act.dst = a;
	i->act.src = a;
	CHECK_EQ(tern_core_insn_cycles(i), INSN + 300);
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK_EQ(c->st.busy[E_VECTOR], 2 * (INSN + 300) + INSN);
	return true;
}

static const struct test_case cases[] = {
	TEST("dma: contiguous round trip", t_dma_roundtrip),
	TEST("dma: transposing load (element partition stride)",
	     t_dma_transposing_load),
	TEST("dma: three strided HBM dimensions", t_dma_strided_3d),
	TEST("dma: negative stride and broadcast", t_dma_reverse_broadcast),
	TEST("dma: strided store leaves gaps", t_dma_scatter_store),
	TEST("dma: strided SBUF tile", t_dma_sbuf_strided),
	TEST("control: wait, signal, nop, end", t_wait_signal),
	TEST("core: SBUF and PSUM are zero for every job",
	     t_fresh_state_per_job),
	TEST("cost: matmul formula", t_cost_matmul),
	TEST("cost: engines overlap, semaphores chain",
	     t_cost_overlap_and_chain),
	TEST("cost: dma formula", t_cost_dma),
	TEST("cost: vector, scalar, transpose", t_cost_engines),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
