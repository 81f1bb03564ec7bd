// SPDX-License-Identifier: MIT
/*
 * The program builder of libtern (tern_program.h): the encoding of every
 * instruction, the image, a hand-written program using every instruction
 * run on the device model's core, the deadlock check, every rejected
 * argument (each leaving the program unchanged), and the race checker the
 * op tests rely on.
 */
#include "ops_test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static bool same_ap(const struct tern_ap *a, const struct tern_ap *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- encoding ---- */

static bool t_encoding(struct env *e)
{
	struct tern_ap x, y, ps, col, bf;
	struct tern_hbm_ap h = { 3, 256, 64, { 4, 1024 } };
	struct tern_program *p;
	union tern_insn in;
	int s0, s1;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_EQ(s0 = tern_prog_sem_alloc(p), 0);
	CHECK_EQ(s1 = tern_prog_sem_alloc(p), 1);
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 64, 100, &x));
	CHECK_EQ(x.offset, 0);
	CHECK_EQ(x.mem, TERN_AP_SBUF);
	CHECK_EQ(x.nparts, 64);
	CHECK_EQ(x.n[0], 100);
	CHECK_EQ(x.n[1], 1);
	CHECK_EQ(x.s[0], 1);
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 64, 100, &y));
	CHECK_EQ(y.offset, 448);	/* 400 rounded up to 64 */
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 64, 1, &col));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, 64, 100, &bf));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, 100, 64, &ps));

	CHECK_EQ(tern_prog_dma_load(p, x, &h, tern_sync_signal(s0)), 0);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_DMA, 0, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_DMA_LOAD);
	CHECK_EQ(in.h.sync, TERN_SYNC_SIGNAL);
	CHECK_EQ(in.h.signal_sem, s0);
	CHECK(same_ap(&in.dma.sbuf, &x));
	CHECK_EQ(in.dma.slot, 3);
	CHECK_EQ(in.dma.hbm_offset, 256);
	CHECK_EQ(in.dma.pstride, 64);
	CHECK_EQ(in.dma.stride[0], 4);
	CHECK_EQ(in.dma.stride[1], 1024);
	CHECK_EQ(tern_prog_dma_store(p, &h, y, TERN_SYNC_NONE), 1);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_DMA, 1, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_DMA_STORE);
	CHECK_EQ(in.h.sync, 0);

	CHECK_EQ(tern_prog_tensor_scalar(p, TERN_ALU_SUB, y, x, 2.5f, true,
					 tern_sync_wait_signal(s0, 1, s1)), 0);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_VECTOR, 0, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_TENSOR_SCALAR);
	CHECK_EQ(in.h.op, TERN_ALU_SUB);
	CHECK_EQ(in.h.flags, TERN_TS_F_REVERSE);
	CHECK_EQ(in.h.sync, TERN_SYNC_ALL);
	CHECK_EQ(in.h.wait_sem, s0);
	CHECK_EQ(in.h.wait_value, 1);
	CHECK_EQ(in.h.signal_sem, s1);
	CHECK_EQ(in.t.imm, bits(2.5f));
	CHECK(same_ap(&in.t.dst, &y) && same_ap(&in.t.src0, &x));
	CHECK_EQ(in.t.src1.mem, 0);	/* unused operands are zero */

	CHECK_EQ(tern_prog_reduce(p, TERN_RED_MAX, col, x, false, TERN_SYNC_NONE), 1);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_VECTOR, 1, &in));
	CHECK_EQ(in.h.op, TERN_RED_MAX);
	CHECK_EQ(in.h.flags, 0);
	CHECK_EQ(tern_prog_tensor_tensor(p, TERN_ALU_MAX, y, x, tern_ap_bcast(col, 100),
					 TERN_SYNC_NONE), 2);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_VECTOR, 2, &in));
	CHECK_EQ(in.t.src1.s[0], 0);
	CHECK_EQ(in.t.src1.n[0], 100);
	CHECK_EQ(tern_prog_cast(p, bf, x, TERN_SYNC_NONE), 3);
	CHECK_EQ(tern_prog_memset(p, x, -1.25f, TERN_SYNC_NONE), 4);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_VECTOR, 4, &in));
	CHECK_EQ(in.t.imm, bits(-1.25f));
	CHECK_EQ(tern_prog_iota(p, y, -3, 100, 1, TERN_SYNC_NONE), 5);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_VECTOR, 5, &in));
	CHECK_EQ(in.iota.base, -3);
	CHECK_EQ(in.iota.pstep, 100);
	CHECK_EQ(in.iota.fstep, 1);

	CHECK_EQ(tern_prog_activate_ap(p, TERN_ACT_GELU, y, x, 0.5f, col, TERN_SYNC_NONE), 0);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_SCALAR, 0, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_ACTIVATE);
	CHECK_EQ(in.h.op, TERN_ACT_GELU);
	CHECK_EQ(in.h.flags, TERN_ACT_F_BIAS_AP);
	CHECK(same_ap(&in.act.bias_ap, &col));
	CHECK_EQ(in.act.scale, bits(0.5f));
	CHECK_EQ(tern_prog_activate(p, TERN_ACT_EXP, y, x, 2.0f, -1.0f, TERN_SYNC_NONE), 1);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_SCALAR, 1, &in));
	CHECK_EQ(in.h.flags, 0);
	CHECK_EQ(in.act.bias_imm, bits(-1.0f));
	CHECK_EQ(in.act.bias_reserved[0] | in.act.bias_reserved[1] | in.act.bias_reserved[2], 0);

	CHECK_EQ(tern_prog_transpose(p, ps, x, TERN_SYNC_NONE), 0);
	CHECK_EQ(tern_prog_matmul(p, ps, x, tern_ap_cols(y, 0, 64), true, TERN_SYNC_NONE), 1);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_TENSOR, 1, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_MATMUL);
	CHECK_EQ(in.h.flags, TERN_MATMUL_F_ACCUMULATE);

	CHECK_EQ(tern_prog_wait(p, TERN_ENGINE_SCALAR, s1, 7), 2);
	CHECK_OK(tern_prog_insn(p, TERN_ENGINE_SCALAR, 2, &in));
	CHECK_EQ(in.h.opcode, TERN_OP_WAIT);
	CHECK_EQ(in.h.sync, TERN_SYNC_WAIT);
	CHECK_EQ(in.h.wait_value, 7);
	CHECK_EQ(tern_prog_signal(p, TERN_ENGINE_TENSOR, s1), 2);
	CHECK_EQ(tern_prog_nop(p, TERN_ENGINE_TENSOR, TERN_SYNC_NONE), 3);
	CHECK_EQ(tern_prog_signals(p, s1), 2);
	CHECK_EQ(tern_prog_count(p, TERN_ENGINE_VECTOR), 6);
	tern_prog_free(p);
	return true;
}

/* ---- the image ---- */

static bool t_image(struct env *e)
{
	struct tern_hbm_ap h = { 5, 0, 16, { 4, 0 } };
	struct tern_prog_header hdr;
	struct tern_program *p;
	const void *img, *img2;
	size_t size, size2;
	union tern_insn in;
	struct tern_ap t;
	int s;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 8, 4, &t));
	s = tern_prog_sem_alloc(p);
	s = tern_prog_sem_alloc(p);	/* only semaphore 1 is used */
	CHECK_EQ(tern_prog_dma_load(p, t, &h, tern_sync_signal(s)), 0);
	CHECK_EQ(tern_prog_unary(p, TERN_UN_ABS, t, t, tern_sync_wait(s, 1)), 0);
	CHECK_EQ(tern_prog_unary(p, TERN_UN_SQUARE, t, t, TERN_SYNC_NONE), 1);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	memcpy(&hdr, img, sizeof(hdr));
	CHECK_EQ(hdr.magic, TERN_PROG_MAGIC);
	CHECK_EQ(hdr.version, TERN_ISA_VERSION);
	CHECK_EQ(hdr.size, size);
	CHECK_EQ(size, 64 + 3 * 64 + 2 * 64);
	CHECK_EQ(hdr.flags, 0);
	CHECK_EQ(hdr.nslots, 6);
	CHECK_EQ(hdr.nsems, 2);
	CHECK_EQ(hdr.reserved0, 0);
	CHECK_EQ(hdr.reserved1, 0);
	CHECK_EQ(hdr.stream[TERN_ENGINE_TENSOR].count, 0);
	CHECK_EQ(hdr.stream[TERN_ENGINE_TENSOR].offset, 0);
	CHECK_EQ(hdr.stream[TERN_ENGINE_SCALAR].count, 0);
	CHECK_EQ(hdr.stream[TERN_ENGINE_VECTOR].count, 3);
	CHECK_EQ(hdr.stream[TERN_ENGINE_VECTOR].offset, 64);
	CHECK_EQ(hdr.stream[TERN_ENGINE_DMA].count, 2);
	CHECK_EQ(hdr.stream[TERN_ENGINE_DMA].offset, 64 + 3 * 64);
	memcpy(&in, (const uint8_t *)img + 64 + 2 * 64, 64);
	CHECK_EQ(in.h.opcode, TERN_OP_END);
	memcpy(&in, (const uint8_t *)img + 64 + 4 * 64, 64);
	CHECK_EQ(in.h.opcode, TERN_OP_END);
	for (unsigned int i = 1; i < 64; i++)
		CHECK_EQ(in.raw[i], 0);
	memcpy(&in, (const uint8_t *)img + 64 + 3 * 64, 64);
	CHECK_EQ(in.h.opcode, TERN_OP_DMA_LOAD);
	/* finished: the same image again, and no more instructions */
	CHECK_OK(tern_prog_finish(p, &img2, &size2));
	CHECK(img2 == img && size2 == size);
	CHECK_RET(tern_prog_nop(p, TERN_ENGINE_VECTOR, TERN_SYNC_NONE), -EALREADY);
	tern_prog_free(p);
	return true;
}

/* ---- every instruction on the core ---- */

/* Where the golden program stores each result in slot 1, [R x C] each. */
#define R		4
#define C		8
enum { O_IOTA, O_SUM, O_TS, O_NEG, O_RED, O_SET, O_BF, O_BFC, O_ACT, O_EXP, O_TP, O_MM, O_N };

static bool t_every_instruction(struct env *e)
{
	struct tern_tensor x = make_tensor(e, 0, TERN_DT_FP32, R, C, C, -2, 2);
	struct tern_tensor out = make_tensor(e, 1, TERN_DT_FP32, O_N * C, C, C, 0, 0);
	struct tern_ap xt, io, s1, s2, s3, red, ms, bf, bc, act, act2, tp, mm, tps, mms;
	struct tern_ap *outs[O_N] = { &io, &s1, &s2, &s3, &red, &ms, &bf, &bc, &act, &act2,
				      &tps, &mms };
	struct tern_program *p;
	struct tern_hbm_ap h;
	float xv[R][C], want;
	int L, V, S, T, D;
	bool ok;

	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &xt));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &io));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &s1));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &s2));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &s3));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, 1, &red));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &ms));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, R, C, &bf));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, R, C, &bc));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &act));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, R, C, &act2));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, C, R, &tps));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, C, C, &mms));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, C, R, &tp));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, C, C, &mm));
	L = tern_prog_sem_alloc(p);
	V = tern_prog_sem_alloc(p);
	S = tern_prog_sem_alloc(p);
	T = tern_prog_sem_alloc(p);
	D = tern_prog_sem_alloc(p);
	CHECK(L >= 0 && V >= 0 && S >= 0 && T >= 0 && D >= 0);

	/* DMA: x in */
	CHECK_OK(tern_tensor_block(&x, 0, 0, R, C, &h));
	CHECK(tern_prog_dma_load(p, xt, &h, tern_sync_signal(L)) >= 0);
	/* vector: everything but the PSUM copies, then V = 1 */
	CHECK(tern_prog_iota(p, io, 10, 100, -1, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_tensor_tensor(p, TERN_ALU_ADD, s1, xt, io, tern_sync_wait(L, 1)) >= 0);
	CHECK(tern_prog_tensor_scalar(p, TERN_ALU_DIV, s2, s1, 4.0f, true, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_unary(p, TERN_UN_NEG, s3, s2, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_reduce(p, TERN_RED_SUM, red, xt, false, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_memset(p, ms, 1.5f, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_cast(p, bf, s1, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_copy(p, bc, bf, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_nop(p, TERN_ENGINE_VECTOR, tern_sync_signal(V)) >= 0);
	/* scalar: two activations, then S = 1 */
	CHECK(tern_prog_activate_ap(p, TERN_ACT_RELU, act, xt, -0.5f, red,
				    tern_sync_wait(V, 1)) >= 0);
	CHECK(tern_prog_activate(p, TERN_ACT_EXP, act2, xt, 0.5f, 0.25f, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_signal(p, TERN_ENGINE_SCALAR, S) >= 0);
	/* tensor: transpose x; mm = x^T . x + x^T . ms; T = 1 */
	CHECK(tern_prog_transpose(p, tp, xt, tern_sync_wait(L, 1)) >= 0);
	CHECK(tern_prog_matmul(p, mm, xt, xt, false, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_wait(p, TERN_ENGINE_TENSOR, V, 1) >= 0);
	CHECK(tern_prog_matmul(p, mm, xt, ms, true, tern_sync_signal(T)) >= 0);
	/* vector: PSUM to SBUF, V = 2 */
	CHECK(tern_prog_copy(p, tps, tp, tern_sync_wait(T, 1)) >= 0);
	CHECK(tern_prog_copy(p, mms, mm, tern_sync_signal(V)) >= 0);
	/* DMA: everything out once vector and scalar are done */
	CHECK(tern_prog_wait(p, TERN_ENGINE_DMA, V, 2) >= 0);
	CHECK(tern_prog_wait(p, TERN_ENGINE_DMA, S, 1) >= 0);
	for (unsigned int i = 0; i < O_N; i++) {
		struct tern_tensor o = out;

		o.dtype = outs[i]->dtype;
		o.offset = (uint64_t)i * C * C * 4;
		o.row_stride = outs[i]->n[0];
		CHECK_OK(tern_tensor_block(&o, 0, 0, outs[i]->nparts, outs[i]->n[0], &h));
		CHECK(tern_prog_dma_store(p, &h, *outs[i], tern_sync_signal(D)) >= 0);
	}
	CHECK(tern_prog_count(p, TERN_ENGINE_DMA) == 3 + O_N);
	ok = env_run(e, p, "every instruction");
	tern_prog_free(p);
	CHECK(ok);

	const uint8_t *ob = e->hbm + e->slots[1].offset;
#define OUT(i, r, c, n) dt_get(ob + (size_t)(i) * C * C * 4, outs[i]->dtype, (r) * (n) + (c))
	for (unsigned int r = 0; r < R; r++)
		for (unsigned int c = 0; c < C; c++)
			xv[r][c] = tensor_get(e, &x, r, c);
	for (unsigned int r = 0; r < R; r++) {
		float sum = 0;

		for (unsigned int c = 0; c < C; c++) {
			float iov = (float)(10 + 100 * (int)r - (int)c);
			float s1v = xv[r][c] + iov, s2v = 4.0f / s1v;

			CHECK(OUT(O_IOTA, r, c, C) == iov);
			CHECK(OUT(O_SUM, r, c, C) == s1v);
			CHECK(OUT(O_TS, r, c, C) == s2v);
			CHECK(OUT(O_NEG, r, c, C) == -s2v);
			CHECK(OUT(O_SET, r, c, C) == 1.5f);
			CHECK(OUT(O_BF, r, c, C) == dt_round(s1v, TERN_DT_BF16));
			CHECK(OUT(O_BFC, r, c, C) == dt_round(s1v, TERN_DT_BF16));
			CHECK(OUT(O_TP, c, r, R) == xv[r][c]);
			sum += xv[r][c];
		}
		CHECK(fabsf(OUT(O_RED, r, 0, 1) - sum) <= 1e-5f * (1 + fabsf(sum)));
		for (unsigned int c = 0; c < C; c++) {
			want = fmaxf(xv[r][c] * -0.5f + OUT(O_RED, r, 0, 1), 0.0f);
			CHECK(fabsf(OUT(O_ACT, r, c, C) - want) <= 1e-6f * (1 + fabsf(want)));
			want = expf(xv[r][c] * 0.5f + 0.25f);
			CHECK(fabsf(OUT(O_EXP, r, c, C) - want) <= 1e-6f * want);
		}
	}
	for (unsigned int i = 0; i < C; i++) {
		for (unsigned int j = 0; j < C; j++) {
			double ref = 0;

			for (unsigned int k = 0; k < R; k++)
				ref += (double)xv[k][i] * xv[k][j] + (double)xv[k][i] * 1.5;
			CHECK(fabs(OUT(O_MM, i, j, C) - ref) <= 1e-5 * (1 + fabs(ref)));
		}
	}
#undef OUT
	return true;
}

/* ---- semaphores ---- */

static bool t_handshake(struct env *e)
{
	struct tern_tensor t = make_tensor(e, 0, TERN_DT_FP32, 128, 64, 64, -1, 1);
	struct tern_hbm_ap h;
	struct tern_program *p;
	struct tern_ap a, b;
	int s0, s1;

	CHECK_OK(tern_prog_create(0, &p));
	s0 = tern_prog_sem_alloc(p);
	s1 = tern_prog_sem_alloc(p);
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 64, &a));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 64, &b));
	/* vector and scalar take turns on a and b, 20 rounds */
	for (uint32_t i = 0; i < 20; i++) {
		CHECK(tern_prog_tensor_scalar(p, TERN_ALU_ADD, a, b, 1.0f, false,
					      tern_sync_wait_signal(s1, i, s0)) >= 0);
		CHECK(tern_prog_activate(p, TERN_ACT_IDENTITY, b, a, 2.0f, 0.0f,
					 tern_sync_wait_signal(s0, i + 1, s1)) >= 0);
	}
	CHECK(tern_prog_wait(p, TERN_ENGINE_TENSOR, s1, 20) >= 0);
	CHECK(tern_prog_wait(p, TERN_ENGINE_TENSOR, s0, 0) >= 0);	/* met at once */
	/* b doubles a + 1 each round: 2, 6, 14, ..., 2^21 - 2 */
	CHECK_OK(tern_tensor_block(&t, 0, 0, 128, 64, &h));
	CHECK(tern_prog_dma_store(p, &h, b, tern_sync_wait(s1, 20)) >= 0);
	CHECK(env_run(e, p, "vector/scalar handshake"));
	tern_prog_free(p);
	for (unsigned int r = 0; r < 128; r++)
		for (unsigned int c = 0; c < 64; c++)
			CHECK(tensor_get(e, &t, r, c) == 2097150.0f);
	return true;
}

static bool t_deadlock(struct env *e)
{
	struct tern_program *p;
	const void *img;
	size_t size;
	int s0, s1;

	(void)e;
	/* a wait no signal meets */
	CHECK_OK(tern_prog_create(0, &p));
	s0 = tern_prog_sem_alloc(p);
	CHECK(tern_prog_signal(p, TERN_ENGINE_DMA, s0) >= 0);
	CHECK(tern_prog_wait(p, TERN_ENGINE_VECTOR, s0, 2) >= 0);
	CHECK_RET(tern_prog_finish(p, &img, &size), -EDEADLK);
	printf("#   %s\n", tern_last_error());
	CHECK(strstr(tern_last_error(), "vector instruction 0"));
	/* not finished: one more signal makes it whole */
	CHECK(tern_prog_signal(p, TERN_ENGINE_SCALAR, s0) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	tern_prog_free(p);

	/* two engines each waiting for the other */
	CHECK_OK(tern_prog_create(0, &p));
	s0 = tern_prog_sem_alloc(p);
	s1 = tern_prog_sem_alloc(p);
	CHECK(tern_prog_nop(p, TERN_ENGINE_TENSOR, tern_sync_wait_signal(s0, 1, s1)) >= 0);
	CHECK(tern_prog_nop(p, TERN_ENGINE_SCALAR, tern_sync_wait_signal(s1, 1, s0)) >= 0);
	CHECK_RET(tern_prog_finish(p, &img, &size), -EDEADLK);
	printf("#   %s\n", tern_last_error());
	CHECK(strstr(tern_last_error(), "tensor instruction 0") &&
	      strstr(tern_last_error(), "scalar instruction 0"));
	tern_prog_free(p);

	/* a signal behind its own wait on the same engine */
	CHECK_OK(tern_prog_create(0, &p));
	s0 = tern_prog_sem_alloc(p);
	CHECK(tern_prog_wait(p, TERN_ENGINE_DMA, s0, 1) >= 0);
	CHECK(tern_prog_signal(p, TERN_ENGINE_DMA, s0) >= 0);
	CHECK_RET(tern_prog_finish(p, &img, &size), -EDEADLK);
	tern_prog_free(p);
	return true;
}

/* ---- rejected arguments ---- */

#define CHECK_REJECTS(call, err)					\
	do {								\
		int _c[TERN_NUM_ENGINES], _sig = tern_prog_signals(p, 0); \
		for (unsigned int _i = 0; _i < TERN_NUM_ENGINES; _i++)	\
			_c[_i] = tern_prog_count(p, _i);		\
		CHECK_RET(call, err);					\
		printf("#   %s -> %s\n", #call, tern_last_error());	\
		CHECK(tern_last_error()[0]);				\
		for (unsigned int _i = 0; _i < TERN_NUM_ENGINES; _i++)	\
			CHECK_EQ(tern_prog_count(p, _i), _c[_i]);	\
		CHECK_EQ(tern_prog_signals(p, 0), _sig);		\
	} while (0)

static bool t_matmul_limits(struct env *e)
{
	struct tern_ap st, mv, ps, big;
	struct tern_program *p;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, 128, 128, &st));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, 128, 600, &mv));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 512, &big));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, 128, 512, &ps));
	/* the largest matmul is fine */
	CHECK_EQ(tern_prog_matmul(p, ps, st, tern_ap_cols(mv, 0, 512), false,
				  tern_sync_signal(0)), 0);
	/* K > 128: more than 128 partitions */
	CHECK_REJECTS(tern_prog_matmul(p, ps, tern_ap_parts(st, 0, 129),
				       tern_ap_parts(tern_ap_cols(mv, 0, 512), 0, 129), false,
				       TERN_SYNC_NONE), -EINVAL);
	/* K differs between the operands */
	CHECK_REJECTS(tern_prog_matmul(p, tern_ap_parts(ps, 0, 128), st,
				       tern_ap_parts(tern_ap_cols(mv, 0, 512), 0, 64), false,
				       TERN_SYNC_NONE), -EINVAL);
	/* M > 128 */
	CHECK_REJECTS(tern_prog_matmul(p, tern_ap_parts(ps, 0, 128), tern_ap_cols(mv, 0, 129),
				       tern_ap_cols(mv, 0, 512), false, TERN_SYNC_NONE), -EINVAL);
	/* N > 512 */
	CHECK_REJECTS(tern_prog_matmul(p, tern_ap_cols(ps, 0, 512), st, tern_ap_cols(mv, 0, 513),
				       false, TERN_SYNC_NONE), -EINVAL);
	/* dst not M x N */
	CHECK_REJECTS(tern_prog_matmul(p, tern_ap_cols(ps, 0, 511), st, tern_ap_cols(mv, 0, 512),
				       false, TERN_SYNC_NONE), -EINVAL);
	/* dst in SBUF, dst not fp32, operand in PSUM */
	CHECK_REJECTS(tern_prog_matmul(p, big, st, tern_ap_cols(mv, 0, 512), false,
				       TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_matmul(p, tern_tile(TERN_AP_PSUM, TERN_DT_BF16, 0, 0, 128, 512),
				       st, tern_ap_cols(mv, 0, 512), false, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_matmul(p, tern_ap_cols(ps, 0, 128), st,
				       tern_tile(TERN_AP_PSUM, TERN_DT_FP32, 0, 0, 128, 128), false,
				       TERN_SYNC_NONE), -EINVAL);
	/* TRANSPOSE: free size > 128, wrong dst shape; SBUF to SBUF is fine */
	CHECK_REJECTS(tern_prog_transpose(p, ps, tern_ap_cols(mv, 0, 129), TERN_SYNC_NONE),
		      -EINVAL);
	CHECK_REJECTS(tern_prog_transpose(p, tern_ap_cols(ps, 0, 64), st, TERN_SYNC_NONE), -EINVAL);
	CHECK_EQ(tern_prog_transpose(p, tern_ap_cols(big, 0, 128), st, TERN_SYNC_NONE), 1);
	tern_prog_free(p);
	return true;
}

static bool t_tile_errors(struct env *e)
{
	struct tern_ap a, b, col, ps, bad;
	struct tern_program *p;
	uint32_t part = TERN_SBUF_SIZE_DEFAULT / TERN_PARTITIONS;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 100, &a));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 100, &b));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 1, &col));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, 128, 100, &ps));
	CHECK_EQ(tern_prog_copy(p, b, a, TERN_SYNC_NONE), 0);
	/* unknown dtype, memory */
	bad = a;
	bad.dtype = 0;
	CHECK_REJECTS(tern_prog_copy(p, b, bad, TERN_SYNC_NONE), -EINVAL);
	bad.dtype = TERN_DT_COUNT;
	CHECK_REJECTS(tern_prog_unary(p, TERN_UN_ABS, bad, a, TERN_SYNC_NONE), -EINVAL);
	bad = a;
	bad.mem = 3;
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	/* partitions: none, or past 127 */
	bad = a;
	bad.nparts = 0;
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	bad = tern_ap_parts(a, 100, 29);
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	/* a free count of 0, a misaligned offset */
	bad = a;
	bad.n[1] = 0;
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	bad = a;
	bad.offset = 2;
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	/* out of the SBUF at either end, out of the PSUM */
	bad = tern_tile(TERN_AP_SBUF, TERN_DT_FP32, part - 396, 0, 128, 100);
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	bad = tern_tile(TERN_AP_SBUF, TERN_DT_FP32, part - 400, 0, 128, 100);
	CHECK(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE) >= 0);	/* just fits */
	bad = a;
	bad.s[0] = -1;		/* runs below byte 0 */
	CHECK_REJECTS(tern_prog_memset(p, bad, 0, TERN_SYNC_NONE), -EINVAL);
	bad = tern_tile(TERN_AP_PSUM, TERN_DT_FP32, TERN_PSUM_PART_SIZE - 200, 0, 128, 100);
	CHECK_REJECTS(tern_prog_copy(p, bad, a, TERN_SYNC_NONE), -EINVAL);
	/* shapes */
	CHECK_REJECTS(tern_prog_tensor_tensor(p, TERN_ALU_ADD, a, b, tern_ap_cols(b, 0, 99),
					      TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_tensor_tensor(p, TERN_ALU_ADD, a, tern_ap_parts(b, 0, 127), b,
					      TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_tensor_scalar(p, TERN_ALU_ADD, a, col, 1, false, TERN_SYNC_NONE),
		      -EINVAL);
	CHECK_REJECTS(tern_prog_reduce(p, TERN_RED_SUM, tern_ap_cols(b, 0, 2), a, false,
				       TERN_SYNC_NONE), -EINVAL);
	bad = a;
	bad.n[0] = 50;
	bad.n[1] = 2;
	bad.s[1] = 50;
	CHECK_REJECTS(tern_prog_reduce(p, TERN_RED_SUM, col, bad, true, TERN_SYNC_NONE), -EINVAL);
	CHECK(tern_prog_reduce(p, TERN_RED_SUM, tern_ap_cols(b, 0, 2), bad, true,
			       TERN_SYNC_NONE) >= 0);
	CHECK_REJECTS(tern_prog_activate_ap(p, TERN_ACT_EXP, a, b, 1, tern_ap_cols(b, 0, 2),
					    TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_activate_ap(p, TERN_ACT_EXP, a, b, 1, tern_ap_parts(col, 0, 64),
					    TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_cast(p, a, tern_ap_cols(b, 1, 99), TERN_SYNC_NONE), -EINVAL);
	/* COPY needs one dtype */
	bad = b;
	bad.dtype = TERN_DT_BF16;
	CHECK_REJECTS(tern_prog_copy(p, bad, a, TERN_SYNC_NONE), -EINVAL);
	/* sub-operations */
	CHECK_REJECTS(tern_prog_tensor_tensor(p, TERN_ALU_COUNT, a, a, b, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_tensor_scalar(p, 99, a, a, 1, false, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_unary(p, TERN_UN_COUNT, a, a, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_reduce(p, TERN_RED_COUNT, col, a, false, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_activate(p, TERN_ACT_COUNT, a, a, 1, 0, TERN_SYNC_NONE), -EINVAL);
	/* DMA: a PSUM tile, a slot past the last, an HBM pattern below byte 0 */
	struct tern_hbm_ap h = { 0, 0, 400, { 4, 0 } };

	CHECK_EQ(tern_prog_dma_load(p, a, &h, TERN_SYNC_NONE), 0);
	CHECK_REJECTS(tern_prog_dma_load(p, ps, &h, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_dma_load(p, a, NULL, TERN_SYNC_NONE), -EINVAL);
	h.slot = TERN_MAX_SLOTS;
	CHECK_REJECTS(tern_prog_dma_store(p, &h, a, TERN_SYNC_NONE), -EINVAL);
	h.slot = 0;
	h.pstride = -400;
	h.offset = 400 * 126;	/* partition 127 would be at -400 */
	CHECK_REJECTS(tern_prog_dma_store(p, &h, a, TERN_SYNC_NONE), -EINVAL);
	h.offset = 400 * 127;
	CHECK_EQ(tern_prog_dma_store(p, &h, a, TERN_SYNC_NONE), 1);
	/* synchronisation fields */
	CHECK_REJECTS(tern_prog_copy(p, b, a, tern_sync_wait(TERN_NUM_SEMS, 1)), -EINVAL);
	CHECK_REJECTS(tern_prog_copy(p, b, a, tern_sync_signal(-2)), -EINVAL);
	CHECK_REJECTS(tern_prog_copy(p, b, a, (struct tern_sync){ -1, 3, -1 }), -EINVAL);
	CHECK_REJECTS(tern_prog_wait(p, TERN_ENGINE_VECTOR, -1, 1), -EINVAL);
	CHECK_REJECTS(tern_prog_signal(p, TERN_ENGINE_VECTOR, TERN_NUM_SEMS), -EINVAL);
	CHECK_REJECTS(tern_prog_nop(p, TERN_NUM_ENGINES, TERN_SYNC_NONE), -EINVAL);
	CHECK_REJECTS(tern_prog_copy(NULL, b, a, TERN_SYNC_NONE), -EINVAL);
	tern_prog_free(p);
	return true;
}

static bool t_builder_errors(struct env *e)
{
	struct tern_program *p;
	struct tern_ap t;
	struct tern_tensor x = tern_tensor_2d(0, TERN_DT_FP32, 10, 20);
	struct tern_hbm_ap h;
	const void *img;
	size_t size;
	int mark;

	(void)e;
	CHECK_RET(tern_prog_create(12345, &p), -EINVAL);
	CHECK(p == NULL);
	CHECK_RET(tern_prog_create((64u << 20) + (128u << 10), &p), -EINVAL);
	CHECK_RET(tern_prog_create(0, NULL), -EINVAL);
	CHECK_OK(tern_prog_create(1u << 20, &p));
	/* empty program */
	CHECK_RET(tern_prog_finish(p, &img, &size), -EINVAL);
	/* SBUF planning: 8 KiB per partition here */
	CHECK_RET(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 2049, &t), -ENOSPC);
	printf("#   %s\n", tern_last_error());
	CHECK(strstr(tern_last_error(), "SBUF overflow"));
	CHECK_EQ(tern_prog_mark(p, TERN_AP_SBUF), 0);
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 1000, &t));
	mark = tern_prog_mark(p, TERN_AP_SBUF);
	CHECK_EQ(mark, 4000);
	CHECK_RET(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 1041, &t), -ENOSPC);
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_BF16, 128, 2048, &t));
	CHECK_EQ(t.offset, 4032);
	CHECK_RET(tern_prog_alloc(p, TERN_AP_PSUM, TERN_DT_FP32, 128, 4097, &t), -ENOSPC);
	CHECK_RET(tern_prog_alloc(p, TERN_AP_SBUF, 7, 128, 1, &t), -EINVAL);	/* dtype */
	CHECK_RET(tern_prog_alloc(p, 0, TERN_DT_FP32, 128, 1, &t), -EINVAL);	/* memory */
	CHECK_RET(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 129, 1, &t), -EINVAL);
	CHECK_RET(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, 0, &t), -EINVAL);
	CHECK_RET(tern_prog_release(p, TERN_AP_SBUF, 99999), -EINVAL);
	CHECK_OK(tern_prog_release(p, TERN_AP_SBUF, mark));
	CHECK_EQ(tern_prog_mark(p, TERN_AP_SBUF), 4000);
	/* a tile beyond this program's 8 KiB partitions */
	CHECK_RET(tern_prog_memset(p, tern_tile(TERN_AP_SBUF, TERN_DT_FP32, 8192, 0, 1, 1), 0,
				   TERN_SYNC_NONE), -EINVAL);
	/* semaphores run out */
	for (unsigned int i = 0; i < TERN_NUM_SEMS; i++)
		CHECK_EQ(tern_prog_sem_alloc(p), i);
	CHECK_RET(tern_prog_sem_alloc(p), -ENOSPC);
	CHECK_RET(tern_prog_signals(p, TERN_NUM_SEMS), -EINVAL);
	/* tensors */
	CHECK_OK(tern_tensor_check(&x));
	CHECK_EQ(tern_tensor_span(&x), 800);
	CHECK_OK(tern_tensor_block(&x, 2, 3, 8, 17, &h));
	CHECK_EQ(h.offset, (2 * 20 + 3) * 4);
	CHECK_EQ(h.pstride, 80);
	CHECK_EQ(h.stride[0], 4);
	CHECK_RET(tern_tensor_block(&x, 3, 3, 8, 17, &h), -EINVAL);	/* rows 3..10 */
	CHECK_RET(tern_tensor_block(&x, 2, 3, 8, 18, &h), -EINVAL);	/* cols 3..20 */
	CHECK_RET(tern_tensor_block(&x, 0, 0, 129, 1, &h), -EINVAL);
	x = tern_tensor_t(x);
	CHECK_OK(tern_tensor_block(&x, 1, 2, 3, 4, &h));
	CHECK_EQ(h.offset, (2 * 20 + 1) * 4);
	CHECK_EQ(h.pstride, 4);
	CHECK_EQ(h.stride[0], 80);
	x.dtype = 0;
	CHECK_RET(tern_tensor_check(&x), -EINVAL);
	CHECK_EQ(tern_tensor_span(&x), 0);
	tern_prog_free(p);
	tern_prog_free(NULL);
	CHECK(strcmp(tern_strerror(-EDEADLK), "") != 0);
	return true;
}

/* A stream takes TERN_MAX_STREAM_INSNS with its END, no more. */
static bool t_stream_limit(struct env *e)
{
	struct tern_program *p;
	const void *img;
	size_t size;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	for (uint32_t i = 0; i < TERN_MAX_STREAM_INSNS - 1; i++)
		if (tern_prog_nop(p, TERN_ENGINE_SCALAR, TERN_SYNC_NONE) != (int)i)
			CHECK(!"nop");
	CHECK_REJECTS(tern_prog_nop(p, TERN_ENGINE_SCALAR, TERN_SYNC_NONE), -E2BIG);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK_EQ(size, 64 + (uint64_t)TERN_MAX_STREAM_INSNS * 64);
	CHECK_EQ(env_run_image(e, img, size), TERN_JOB_OK);
	CHECK_EQ(e->st.insns[TERN_ENGINE_SCALAR], TERN_MAX_STREAM_INSNS);
	tern_prog_free(p);
	return true;
}

/* What the builder accepts for its SBUF size, a core with less refuses. */
static bool t_sbuf_size(struct env *e)
{
	struct tern_program *p;
	struct tern_ap t = tern_tile(TERN_AP_SBUF, TERN_DT_FP32, 16384, 0, 128, 16);
	const void *img;
	size_t size;

	CHECK_EQ(e->sbuf_size, 1u << 20);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK(tern_prog_memset(p, t, 1, TERN_SYNC_NONE) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK_EQ(env_run_image(e, img, size), TERN_JOB_FAULT);
	CHECK_EQ(e->st.error, TERN_CERR_SBUF_RANGE);
	printf("#   core: %s\n", tern_core_fault_message(e->core));
	tern_prog_free(p);
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_RET(tern_prog_memset(p, t, 1, TERN_SYNC_NONE), -EINVAL);
	tern_prog_free(p);
	return true;
}

/* ---- the race checker ---- */

static bool t_race_checker(struct env *e)
{
	struct tern_hbm_ap h = { 0, 0, 16, { 4, 0 } };
	struct tern_program *p;
	struct tern_ap a, b;
	const void *img;
	size_t size;
	int s;

	(void)e;
	/* read after write, unordered */
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 8, 4, &a));
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 8, 4, &b));
	CHECK(tern_prog_dma_load(p, a, &h, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_copy(p, b, a, TERN_SYNC_NONE) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) != 0);
	tern_prog_free(p);
	/* ordered */
	CHECK_OK(tern_prog_create(0, &p));
	s = tern_prog_sem_alloc(p);
	CHECK(tern_prog_dma_load(p, a, &h, tern_sync_signal(s)) >= 0);
	CHECK(tern_prog_copy(p, b, a, tern_sync_wait(s, 1)) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) == 0);
	tern_prog_free(p);
	/* write after read: the load must wait for the copy's read of a */
	CHECK_OK(tern_prog_create(0, &p));
	s = tern_prog_sem_alloc(p);
	CHECK(tern_prog_dma_load(p, a, &h, tern_sync_signal(s)) >= 0);
	CHECK(tern_prog_copy(p, b, a, tern_sync_wait(s, 1)) >= 0);
	CHECK(tern_prog_dma_load(p, a, &h, TERN_SYNC_NONE) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) != 0);
	tern_prog_free(p);
	/* disjoint partitions do not conflict */
	CHECK_OK(tern_prog_create(0, &p));
	CHECK(tern_prog_dma_load(p, tern_ap_parts(a, 0, 4), &h, TERN_SYNC_NONE) >= 0);
	CHECK(tern_prog_copy(p, tern_ap_parts(b, 4, 4), tern_ap_parts(a, 4, 4),
			     TERN_SYNC_NONE) >= 0);
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) == 0);
	tern_prog_free(p);
	return true;
}

static const struct test_case cases[] = {
	{ "encoding of every instruction", t_encoding, 0 },
	{ "program image: header, streams, END", t_image, 0 },
	{ "every instruction on the core", t_every_instruction, 0 },
	{ "semaphore handshake on the core", t_handshake, 0 },
	{ "deadlocks refused by tern_prog_finish", t_deadlock, 0 },
	{ "matmul and transpose shape limits", t_matmul_limits, 0 },
	{ "tile, shape, op, DMA and sync errors", t_tile_errors, 0 },
	{ "builder, allocation and tensor errors", t_builder_errors, 0 },
	{ "a stream of the most instructions", t_stream_limit, 0 },
	{ "program SBUF size against a 1 MiB core", t_sbuf_size, 1u << 20 },
	{ "the race checker finds races", t_race_checker, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
