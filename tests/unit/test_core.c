// SPDX-License-Identifier: MIT
/*
 * tern compute core: golden tests of the compute instructions. Each runs a
 * real program (DMA in from HBM, compute, DMA out) on a core over the test
 * embedder's HBM and checks the result against a plain C reference computed
 * here: matmul on full and odd shapes with and without accumulation and
 * with strided operands, transpose, every ALU, unary, reduce and activation
 * op, every dtype conversion (exhaustively over the narrow codes, including
 * ties and special values), copy, memset and iota. DMA patterns,
 * semaphores and the cost model are in test_core_dma.c.
 */
#include "core_util.h"
#include "tern_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F32	TERN_DT_FP32
#define BF16	TERN_DT_BF16
#define FP16	TERN_DT_FP16
#define E4M3	TERN_DT_FP8_E4M3
#define E5M2	TERN_DT_FP8_E5M2

/* ---- vector: TENSOR_TENSOR, TENSOR_SCALAR ---- */

static double ref_alu(double a, double b, unsigned int op)
{
	switch (op) {
	case TERN_ALU_ADD: return (float)(a + b);
	case TERN_ALU_SUB: return (float)(a - b);
	case TERN_ALU_MUL: return (float)(a * b);
	case TERN_ALU_DIV: return (float)(a / b);
	case TERN_ALU_MAX:
		return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
	default:
		return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
	}
}

#define NP 128
#define NF 300

/* src0 fp32 and src1 bf16 with some special values; dst fp32 and bf16. */
static bool tt_case(struct ctx *c, unsigned int op)
{
	struct tern_ap a = tl(SB, F32, 0, NP, 0, NF, 1);
	struct tern_ap b = tl(SB, BF16, 0, NP, 2048, NF, 1);
	struct tern_ap d32 = tl(SB, F32, 0, NP, 4096, 100, 3);
	struct tern_ap d16 = tl(PS, BF16, 0, NP, 0, NF, 1);
	struct tern_ap o16 = tl(SB, BF16, 0, NP, 8192, NF, 1);
	static double va[NP * NF], vb[NP * NF];

	fill_random(c, slot_ptr(c, 0), F32, NP * NF, va, -3, 2);
	fill_random(c, slot_ptr(c, 1), BF16, NP * NF, vb, -3, 2);
	/* NaN, inf - inf, signed zeros */
	put_code(slot_ptr(c, 0), F32, 0x7fc00000u);
	put_code(slot_ptr(c, 1) + 2, BF16, 0xffc0u);
	put_code(slot_ptr(c, 0) + 8, F32, 0x7f800000u);
	put_code(slot_ptr(c, 1) + 4, BF16, 0xff80u);
	put_code(slot_ptr(c, 0) + 12, F32, 0);
	put_code(slot_ptr(c, 1) + 6, BF16, 0x8000u);
	for (unsigned int i = 0; i < 4; i++) {
		va[i] = val(c, 0, i, F32);
		vb[i] = val(c, 1, i, BF16);
	}
	load(c, a, 0);
	load(c, b, 1);
	/* d32 is [128][3][100]: the same 300 elements, split in two dims */
	after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, (uint8_t)op, d32,
			 ap(SB, F32, 0, NP, 0, 100, 3, 1, 100),
			 ap(SB, BF16, 0, NP, 2048, 100, 3, 1, 100), 0), 2);
	after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, (uint8_t)op, d16,
			 a, b, 0), 2);
	after_loads(tile(c, E_VECTOR, TERN_OP_COPY, 0, o16, d16, none, 0), 2);
	store(c, d32, 2, 3);
	store(c, o16, 3, 3);
	CHECK_EQ(run(c), TERN_JOB_OK);
	CHECK(job_ok(c));
	for (size_t i = 0; i < NP * NF; i++) {
		double want = ref_alu(va[i], vb[i], op);

		CHECK_VAL(val(c, 2, i, F32), want, i);
		CHECK_VAL(val(c, 3, i, BF16), ref_round(want, BF16), i);
	}
	return true;
}

CORE_TEST(t_tt_add) { return tt_case(c, TERN_ALU_ADD); }
CORE_TEST(t_tt_sub) { return tt_case(c, TERN_ALU_SUB); }
CORE_TEST(t_tt_mul) { return tt_case(c, TERN_ALU_MUL); }
CORE_TEST(t_tt_div) { return tt_case(c, TERN_ALU_DIV); }
CORE_TEST(t_tt_max) { return tt_case(c, TERN_ALU_MAX); }
CORE_TEST(t_tt_min) { return tt_case(c, TERN_ALU_MIN); }

/* src1 with stride 0: one value per partition, broadcast along the row. */
CORE_TEST(t_tt_broadcast)
{
	struct tern_ap a = tl(SB, F32, 0, 64, 0, 50, 1);
	struct tern_ap s = tl(SB, F32, 0, 64, 1024, 1, 1);
	struct tern_ap d = tl(SB, F32, 0, 64, 2048, 50, 1);
	double va[64 * 50], vs[64];

	fill_random(c, slot_ptr(c, 0), F32, 64 * 50, va, -3, 3);
	fill_random(c, slot_ptr(c, 1), F32, 64, vs, -3, 3);
	load(c, a, 0);
	load(c, s, 1);
	after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_TENSOR, TERN_ALU_SUB, d,
			 a, ap(SB, F32, 0, 64, 1024, 50, 1, 0, 0), 0), 2);
	store(c, d, 2, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t i = 0; i < 64 * 50; i++)
		CHECK_VAL(val(c, 2, i, F32), ref_alu(va[i], vs[i / 50],
						      TERN_ALU_SUB), i);
	return true;
}

static bool ts_case(struct ctx *c, unsigned int op)
{
	struct tern_ap a = tl(SB, FP16, 0, NP, 0, NF, 1);
	struct tern_ap d = tl(SB, F32, 0, NP, 1024, NF, 1);
	struct tern_ap r = tl(SB, F32, 0, NP, 4096, NF, 1);
	const float s = -1.375f;
	static double va[NP * NF];
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), FP16, NP * NF, va, -4, 4);
	load(c, a, 0);
	after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, (uint8_t)op, d,
			 a, none, bits_of(s)), 1);
	i = after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, (uint8_t)op,
			     r, a, none, bits_of(s)), 1);
	i->h.flags = TERN_TS_F_REVERSE;
	store(c, d, 2, 2);
	store(c, r, 3, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < NP * NF; k++) {
		CHECK_VAL(val(c, 2, k, F32), ref_alu(va[k], s, op), k);
		CHECK_VAL(val(c, 3, k, F32), ref_alu(s, va[k], op), k);
	}
	return true;
}

CORE_TEST(t_ts_add) { return ts_case(c, TERN_ALU_ADD); }
CORE_TEST(t_ts_sub) { return ts_case(c, TERN_ALU_SUB); }
CORE_TEST(t_ts_mul) { return ts_case(c, TERN_ALU_MUL); }
CORE_TEST(t_ts_div) { return ts_case(c, TERN_ALU_DIV); }
CORE_TEST(t_ts_max) { return ts_case(c, TERN_ALU_MAX); }
CORE_TEST(t_ts_min) { return ts_case(c, TERN_ALU_MIN); }

/* ---- vector: UNARY, REDUCE ---- */

static bool unary_case(struct ctx *c, unsigned int op)
{
	struct tern_ap a = tl(SB, BF16, 0, NP, 0, NF, 1);
	struct tern_ap d = tl(SB, F32, 0, NP, 1024, NF, 1);
	static double va[NP * NF];

	fill_random(c, slot_ptr(c, 0), BF16, NP * NF, va, -20, 20);
	put_code(slot_ptr(c, 0), BF16, 0x8000u);	/* -0 */
	va[0] = -0.0;
	load(c, a, 0);
	after_loads(tile(c, E_VECTOR, TERN_OP_UNARY, (uint8_t)op, d, a, none,
			 0), 1);
	store(c, d, 1, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < NP * NF; k++) {
		double x = va[k], want;

		switch (op) {
		case TERN_UN_ABS: want = fabs(x); break;
		case TERN_UN_NEG: want = -x; break;
		case TERN_UN_SQUARE: want = (float)(x * x); break;
		default: want = (float)(1.0 / x); break;
		}
		CHECK_VAL(val(c, 1, k, F32), want, k);
	}
	return true;
}

CORE_TEST(t_unary_abs) { return unary_case(c, TERN_UN_ABS); }
CORE_TEST(t_unary_neg) { return unary_case(c, TERN_UN_NEG); }
CORE_TEST(t_unary_square) { return unary_case(c, TERN_UN_SQUARE); }
CORE_TEST(t_unary_reciprocal) { return unary_case(c, TERN_UN_RECIPROCAL); }

/* src [64][6][50]; all-free reduction to [64][1], inner to [64][6]. */
static bool reduce_case(struct ctx *c, unsigned int op)
{
	struct tern_ap a = tl(SB, BF16, 0, 64, 0, 50, 6);
	struct tern_ap all = tl(SB, F32, 0, 64, 1024, 1, 1);
	struct tern_ap in = ap(SB, F32, 0, 64, 2048, 3, 2, 1, 3);
	static double va[64 * 300];
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), BF16, 64 * 300, va, -6, 6);
	put_code(slot_ptr(c, 0) + 2 * 300 * 5 + 2 * 77, BF16, 0x7fc0u);
	va[300 * 5 + 77] = NAN;	/* partition 5, row 1: NaN propagates */
	load(c, a, 0);
	after_loads(tile(c, E_VECTOR, TERN_OP_REDUCE, (uint8_t)op, all, a,
			 none, 0), 1);
	i = after_loads(tile(c, E_VECTOR, TERN_OP_REDUCE, (uint8_t)op, in, a,
			     none, 0), 1);
	i->h.flags = TERN_REDUCE_F_INNER;
	store(c, all, 1, 2);
	store(c, tl(SB, F32, 0, 64, 2048, 6, 1), 2, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	const double init = op == TERN_RED_SUM ? 0 :
			    op == TERN_RED_MAX ? -INFINITY : INFINITY;
	const unsigned int alu = op == TERN_RED_SUM ? TERN_ALU_ADD :
				 op == TERN_RED_MAX ? TERN_ALU_MAX :
						      TERN_ALU_MIN;

	for (unsigned int p = 0; p < 64; p++) {
		double tot = init, mag = 0;

		for (unsigned int r = 0; r < 6; r++) {
			double row = init, rmag = 0;

			for (unsigned int k = 0; k < 50; k++) {
				double x = va[p * 300 + r * 50 + k];

				row = ref_alu(row, x, alu);
				rmag += fabs(x);
			}
			tot = ref_alu(tot, row, alu);
			mag += rmag;
			/* fp32 sums in an unspecified order; max, min exact */
			CHECK_NEAR(val(c, 2, p * 6 + r, F32), row, 0,
				   op == TERN_RED_SUM ? 64 * 0x1p-24 * rmag : 0,
				   p * 6 + r);
		}
		CHECK_NEAR(val(c, 1, p, F32), tot, 0,
			   op == TERN_RED_SUM ? 400 * 0x1p-24 * mag : 0, p);
	}
	return true;
}

CORE_TEST(t_reduce_sum) { return reduce_case(c, TERN_RED_SUM); }
CORE_TEST(t_reduce_max) { return reduce_case(c, TERN_RED_MAX); }
CORE_TEST(t_reduce_min) { return reduce_case(c, TERN_RED_MIN); }

/* ---- vector: CAST ---- */

/*
 * fp32 -> dt for every finite code of dt, the midpoint to the next code
 * (a tie) and the fp32 values either side of it; then dt -> fp32 for every
 * code. 2^16 codes x 4 = one [128][2048] tile.
 */
static bool cast_case(struct ctx *c, unsigned int dt)
{
	uint32_t ncodes = 1u << (8 * dt_size(dt));
	struct tern_ap in = tl(SB, F32, 0, 128, 0, 2048, 1);
	struct tern_ap out = tl(SB, (uint8_t)dt, 0, 128, 8192, 2048, 1);
	struct tern_ap codes = tl(SB, (uint8_t)dt, 0, 128, 16384, 512, 1);
	struct tern_ap wide = tl(SB, F32, 0, 128, 32768, 512, 1);
	float *x = (float *)slot_ptr(c, 0);
	size_t n = 0;

	for (uint32_t k = 0; k < ncodes; k++) {
		double v = ref_decode(k, dt), next = ref_decode(k + 1, dt);
		float mid;

		if (isnan(v) || isinf(v))
			continue;
		x[n++] = (float)v;
		if (k + 1 == ncodes || isnan(next) || isinf(next) ||
		    signbit(next) != signbit(v) || (k & ((ncodes >> 1) - 1)) ==
		    (ncodes >> 1) - 1)
			continue;
		mid = (float)((v + next) / 2);	/* exact in fp32 */
		x[n++] = mid;
		x[n++] = nextafterf(mid, -INFINITY);
		x[n++] = nextafterf(mid, INFINITY);
	}
	/* the rest: specials and out-of-range values */
	{
		const float spec[] = {
			INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f,
			f32_of(0x7f800001u), f32_of(0x00000001u),
			f32_of(0x80400000u), 3.0e38f, -3.0e38f,
			(float)(ref_max(dt) * (1 + ldexp(1, -60))),
			(float)ref_max(dt), 1e-30f, -1e-30f,
		};

		for (size_t k = 0; k < sizeof(spec) / sizeof(spec[0]); k++)
			x[n++] = spec[k];
	}
	while (n < 128 * 2048)
		x[n++] = (float)rnd_unit(c) * 1000.0f;
	if (n > 128 * 2048) {
		printf("#   too many inputs\n");
		return false;
	}
	for (uint32_t k = 0; k < 128 * 512; k++)
		put_code(slot_ptr(c, 2) + (size_t)k * dt_size(dt), dt,
			 k % ncodes);
	load(c, in, 0);
	load(c, codes, 2);
	after_loads(tile(c, E_VECTOR, TERN_OP_CAST, 0, out, in, none, 0), 2);
	after_loads(tile(c, E_VECTOR, TERN_OP_CAST, 0, wide, codes, none, 0),
		    2);
	store(c, out, 1, 2);
	store(c, wide, 3, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < 128 * 2048; k++)
		CHECK_VAL(val(c, 1, k, dt), ref_round(x[k], dt), k);
	for (uint32_t k = 0; k < 128 * 512; k++) {
		uint32_t got = code_at(c, 3, k, F32), code = k % ncodes;
		double want = ref_decode(code, dt);

		CHECK_VAL(f32_of(got), want, k);
		/* NaN keeps its sign when widened */
		if (isnan(want))
			CHECK_EQ(got >> 31, code >> (8 * dt_size(dt) - 1));
	}
	return true;
}

CORE_TEST(t_cast_bf16) { return cast_case(c, BF16); }
CORE_TEST(t_cast_fp16) { return cast_case(c, FP16); }
CORE_TEST(t_cast_e4m3) { return cast_case(c, E4M3); }
CORE_TEST(t_cast_e5m2) { return cast_case(c, E5M2); }

/* The exact codes of special conversions (isa.rst, "Conversions"). */
CORE_TEST(t_cast_special_codes)
{
	static const struct {
		uint32_t in;
		uint8_t dt;
		uint32_t out;
	} v[] = {
		{ 0x7fc00001u, BF16, 0x7fc0u },	/* NaN: canonical quiet */
		{ 0xff800001u, BF16, 0xffc0u },	/* sign kept */
		{ 0x7f7fffffu, BF16, 0x7f80u },	/* rounds up into inf */
		{ 0x00000001u, BF16, 0x0000u },	/* below half the smallest */
		{ 0x00010000u, BF16, 0x0001u },	/* fp32 subnormal kept */
		{ 0x3f808000u, BF16, 0x3f80u },	/* tie to even (down) */
		{ 0x3f818000u, BF16, 0x3f82u },	/* tie to even (up) */
		{ 0x80000000u, FP16, 0x8000u },
		{ 0x7fc00000u, FP16, 0x7e00u },
		{ 0x477ff000u, FP16, 0x7c00u },	/* 65520: ties up to inf */
		{ 0x477fefffu, FP16, 0x7bffu },	/* just below: 65504 */
		{ 0x33000000u, FP16, 0x0000u },	/* 2^-25: a tie, to 0 */
		{ 0x33000001u, FP16, 0x0001u },
		{ 0x33800000u, FP16, 0x0001u },	/* 2^-24: smallest subnormal */
		{ 0x7f800000u, E4M3, 0x7eu },	/* inf saturates to 448 */
		{ 0xc3e80000u, E4M3, 0xfeu },	/* -464 saturates */
		{ 0x7fc00000u, E4M3, 0x7fu },	/* the only NaN */
		{ 0x3a800000u, E4M3, 0x00u },	/* 2^-10: a tie, to 0 */
		{ 0x3ac00000u, E4M3, 0x01u },	/* 0.75 * 2^-9 rounds up */
		{ 0x43e00000u, E4M3, 0x7eu },	/* 448 */
		{ 0x47700000u, E5M2, 0x7cu },	/* 61440 ties to even: inf */
		{ 0xff800000u, E5M2, 0xfcu },
		{ 0x7fc00000u, E5M2, 0x7eu },
	};
	const size_t n = sizeof(v) / sizeof(v[0]);
	uint8_t *in = slot_ptr(c, 0);

	for (size_t k = 0; k < n; k++) {
		uint32_t off = (uint32_t)(4 * k);
		struct tern_ap s = tl(SB, F32, 0, 1, off, 1, 1);
		struct tern_ap d = tl(SB, v[k].dt, 1, 1, off, 1, 1);

		put_code(in + 4 * k, F32, v[k].in);
		after_loads(tile(c, E_VECTOR, TERN_OP_CAST, 0, d, s, none, 0),
			    1);
	}
	load(c, tl(SB, F32, 0, 1, 0, (uint16_t)n, 1), 0);
	store(c, tl(SB, F32, 1, 1, 0, (uint16_t)n, 1), 1, (uint32_t)n);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < n; k++) {
		uint32_t got = get_code(slot_ptr(c, 1) + 4 * k, v[k].dt);

		if (got != v[k].out) {
			printf("#   0x%08x -> dtype %u: 0x%x, expected 0x%x\n",
			       v[k].in, v[k].dt, got, v[k].out);
			return false;
		}
	}
	return true;
}

/* ---- vector: COPY, MEMSET, IOTA ---- */

/* Bit exact, NaN payloads included, with strides, through PSUM. */
CORE_TEST(t_copy)
{
	struct tern_ap a = tl(SB, F32, 0, 100, 0, 64, 1);
	struct tern_ap odd = ap(SB, F32, 0, 100, 0, 32, 1, 2, 0);
	struct tern_ap p = tl(PS, F32, 20, 100, 512, 32, 1);
	struct tern_ap d = tl(SB, F32, 0, 100, 4096, 32, 1);
	uint8_t *in = slot_ptr(c, 0);

	fill_random(c, in, F32, 100 * 64, NULL, -30, 30);
	put_code(in, F32, 0x7f800001u);		/* signalling NaN */
	put_code(in + 8, F32, 0xffc12345u);
	load(c, a, 0);
	after_loads(tile(c, E_VECTOR, TERN_OP_COPY, 0, p, odd, none, 0), 1);
	after_loads(tile(c, E_VECTOR, TERN_OP_COPY, 0, d, p, none, 0), 1);
	store(c, d, 1, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int q = 0; q < 100; q++)
		for (unsigned int i = 0; i < 32; i++)
			CHECK_EQ(code_at(c, 1, q * 32 + i, F32),
				 code_at(c, 0, q * 64 + 2 * i, F32));
	return true;
}

CORE_TEST(t_memset)
{
	struct tern_ap d = ap(SB, BF16, 4, 20, 6, 5, 3, 2, 20);
	struct tern_ap whole = tl(SB, BF16, 4, 20, 0, 64, 1);
	union tern_insn *i;

	i = tile(c, E_VECTOR, TERN_OP_MEMSET, 0, d, none, none,
		 bits_of(3.140625f));
	signal_on(i, 1);
	store(c, whole, 0, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int p = 0; p < 20; p++)
		for (unsigned int k = 0; k < 64; k++) {
			unsigned int r = k >= 3 ? k - 3 : 999;
			uint32_t want = r < 60 && r % 20 % 2 == 0 &&
					r % 20 / 2 < 5 ? 0x4049u : 0;

			CHECK_EQ(code_at(c, 0, p * 64 + k, BF16), want);
		}
	return true;
}

CORE_TEST(t_iota)
{
	struct tern_ap d = tl(SB, F32, 0, 100, 0, 7, 3);
	struct tern_ap h = tl(SB, BF16, 0, 100, 1024, 7, 3);
	struct tern_ap g = ap(SB, F32, 0, 100, 2048, 7, 3, 1, 10); /* gaps */
	union tern_insn *i;

	i = emit(c, E_VECTOR, TERN_OP_IOTA);
	i->iota.dst = d;
	i->iota.base = -5;
	i->iota.pstep = 100;
	i->iota.fstep = 3;
	signal_on(i, 1);
	i = emit(c, E_VECTOR, TERN_OP_IOTA);
	i->iota.dst = h;
	i->iota.base = 1000000;
	i->iota.pstep = -7;
	i->iota.fstep = 1;
	signal_on(i, 1);
	i = emit(c, E_VECTOR, TERN_OP_IOTA);
	i->iota.dst = g;
	i->iota.base = -5;
	i->iota.pstep = 100;
	i->iota.fstep = 3;
	signal_on(i, 1);
	store(c, d, 0, 3);
	store(c, h, 1, 3);
	store(c, g, 2, 3);
	run(c);
	CHECK(job_ok(c));
	for (unsigned int p = 0; p < 100; p++)
		for (unsigned int j = 0; j < 21; j++) {
			CHECK_VAL(val(c, 0, p * 21 + j, F32),
				  -5.0 + p * 100.0 + j * 3.0, p * 21 + j);
			CHECK_VAL(val(c, 2, p * 21 + j, F32),
				  -5.0 + p * 100.0 + j * 3.0, p * 21 + j);
			CHECK_VAL(val(c, 1, p * 21 + j, BF16),
				  ref_round(1000000.0 - 7.0 * p + j, BF16),
				  p * 21 + j);
		}
	return true;
}

/* ---- scalar: ACTIVATE ---- */

static double ref_act(double y, unsigned int fn)
{
	switch (fn) {
	case TERN_ACT_IDENTITY: return y;
	case TERN_ACT_RELU: return y > 0 ? y : 0;
	case TERN_ACT_GELU: return 0.5 * y * (1 + erf(y / sqrt(2.0)));
	case TERN_ACT_GELU_TANH:
		return 0.5 * y * (1 + tanh(sqrt(2 / M_PI) *
					   (y + 0.044715 * y * y * y)));
	case TERN_ACT_SILU: return y / (1 + exp(-y));
	case TERN_ACT_SIGMOID: return 1 / (1 + exp(-y));
	case TERN_ACT_TANH: return tanh(y);
	case TERN_ACT_EXP: return exp(y);
	case TERN_ACT_LOG: return log(y);
	case TERN_ACT_SQRT: return sqrt(y);
	case TERN_ACT_RSQRT: return 1 / sqrt(y);
	default: return 1 / y;
	}
}

/*
 * dst = f(src * 0.75 + 0.25) into fp32; then f(src * -2 + bias) with a
 * per-partition bias tile, into bf16.
 */
static bool act_case(struct ctx *c, unsigned int fn)
{
	struct tern_ap a = tl(SB, F32, 0, NP, 0, 200, 1);
	struct tern_ap bias = tl(SB, BF16, 0, NP, 1024, 1, 1);
	struct tern_ap d = tl(SB, F32, 0, NP, 2048, 200, 1);
	struct tern_ap d16 = tl(SB, BF16, 0, NP, 4096, 200, 1);
	static double va[NP * 200];
	double vb[NP];
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), F32, NP * 200, va, -5, 2);
	fill_random(c, slot_ptr(c, 1), BF16, NP, vb, -3, 1);
	load(c, a, 0);
	load(c, bias, 1);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->h.op = (uint8_t)fn;
	i->act.dst = d;
	i->act.src = a;
	i->act.scale = bits_of(0.75f);
	i->act.bias_imm = bits_of(0.25f);
	after_loads(i, 2);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->h.op = (uint8_t)fn;
	i->h.flags = TERN_ACT_F_BIAS_AP;
	i->act.dst = d16;
	i->act.src = a;
	i->act.bias_ap = bias;
	i->act.scale = bits_of(-2.0f);
	after_loads(i, 2);
	store(c, d, 2, 2);
	store(c, d16, 3, 2);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (size_t k = 0; k < NP * 200; k++) {
		double y = (float)((float)(va[k] * 0.75f) + 0.25f);
		double y2 = (float)((float)(va[k] * -2.0f) +
				    (float)vb[k / 200]);
		double want = (float)ref_act(y, fn);
		double want2 = ref_round(ref_act(y2, fn), BF16);

		CHECK_NEAR(val(c, 2, k, F32), want, 1e-5, 1e-6, k);
		/* one bf16 step either way: fp32 results near a tie */
		CHECK_NEAR(val(c, 3, k, BF16), want2, 0x1p-7, 1e-6, k);
	}
	return true;
}

CORE_TEST(t_act_identity) { return act_case(c, TERN_ACT_IDENTITY); }
CORE_TEST(t_act_relu) { return act_case(c, TERN_ACT_RELU); }
CORE_TEST(t_act_gelu) { return act_case(c, TERN_ACT_GELU); }
CORE_TEST(t_act_gelu_tanh) { return act_case(c, TERN_ACT_GELU_TANH); }
CORE_TEST(t_act_silu) { return act_case(c, TERN_ACT_SILU); }
CORE_TEST(t_act_sigmoid) { return act_case(c, TERN_ACT_SIGMOID); }
CORE_TEST(t_act_tanh) { return act_case(c, TERN_ACT_TANH); }
CORE_TEST(t_act_exp) { return act_case(c, TERN_ACT_EXP); }
CORE_TEST(t_act_log) { return act_case(c, TERN_ACT_LOG); }
CORE_TEST(t_act_sqrt) { return act_case(c, TERN_ACT_SQRT); }
CORE_TEST(t_act_rsqrt) { return act_case(c, TERN_ACT_RSQRT); }
CORE_TEST(t_act_reciprocal) { return act_case(c, TERN_ACT_RECIPROCAL); }

/* ---- tensor: MATMUL, TRANSPOSE ---- */

struct mm {
	unsigned int k, m, n;
	uint8_t dta, dtb;
};

/*
 * dst [M][N] in PSUM = A^T B with A [K][M] and B [K][N] loaded from slots 0
 * and 1; copied out through SBUF to slot 2. With twice, a second product
 * of A' and B' (slots 3 and 4) accumulates (acc) or overwrites.
 */
static bool mm_case(struct ctx *c, struct mm s, bool twice, bool acc)
{
	uint8_t pk = (uint8_t)s.k, pm = (uint8_t)s.m;
	uint16_t fm = (uint16_t)s.m, fn = (uint16_t)s.n;
	struct tern_ap a = tl(SB, s.dta, 0, pk, 0, fm, 1);
	struct tern_ap b = tl(SB, s.dtb, 0, pk, 1024, fn, 1);
	struct tern_ap a2 = tl(SB, s.dta, 0, pk, 4096, fm, 1);
	struct tern_ap b2 = tl(SB, s.dtb, 0, pk, 5120, fn, 1);
	struct tern_ap p = tl(PS, F32, 0, pm, 2048, fn, 1);
	struct tern_ap o = tl(SB, F32, 0, pm, 8192, fn, 1);
	double *va = calloc(4 * 128 * 512, sizeof(double));
	double *vb = va + 128 * 512, *va2 = vb + 128 * 512;
	double *vb2 = va2 + 128 * 512;
	union tern_insn *i;
	bool ok = true;

	if (!va)
		return false;
	fill_random(c, slot_ptr(c, 0), s.dta, s.k * s.m, va, -2, 1);
	fill_random(c, slot_ptr(c, 1), s.dtb, s.k * s.n, vb, -2, 1);
	fill_random(c, slot_ptr(c, 3), s.dta, s.k * s.m, va2, -2, 1);
	fill_random(c, slot_ptr(c, 4), s.dtb, s.k * s.n, vb2, -2, 1);
	load(c, a, 0);
	load(c, b, 1);
	load(c, a2, 3);
	load(c, b2, 4);
	after_loads(tile(c, E_TENSOR, TERN_OP_MATMUL, 0, p, a, b, 0), 4);
	if (twice) {
		i = after_loads(tile(c, E_TENSOR, TERN_OP_MATMUL, 0, p, a2, b2,
				     0), 4);
		i->h.flags = acc ? TERN_MATMUL_F_ACCUMULATE : 0;
	}
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0, o, p, none, 0);
	wait_on(i, 1, twice ? 2 : 1);
	signal_on(i, 2);
	wait_on(dma_rm(c, false, o, 2, 0), 2, 1);
	if (run(c) != TERN_JOB_OK || !job_ok(c)) {
		free(va);
		return false;
	}
	for (unsigned int m = 0; m < s.m && ok; m++)
		for (unsigned int n = 0; n < s.n && ok; n++) {
			double want = 0, mag = 0;

			for (unsigned int k = 0; k < s.k; k++) {
				double x = va[k * s.m + m] * vb[k * s.n + n];
				double y = va2[k * s.m + m] * vb2[k * s.n + n];

				if (!twice || acc) {
					want += x;
					mag += fabs(x);
				}
				if (twice) {
					want += y;
					mag += fabs(y);
				}
			}
			if (!near(val(c, 2, m * s.n + n, F32), want, 0,
				  (2 * s.k + 4) * 0x1p-24 * mag + 1e-30)) {
				printf("#   C[%u][%u] = %.9g, expected %.9g\n",
				       m, n, val(c, 2, m * s.n + n, F32), want);
				ok = false;
			}
		}
	free(va);
	return ok;
}

CORE_TEST(t_matmul_full_bf16)
{
	return mm_case(c, (struct mm){ 128, 128, 512, BF16, BF16 }, false,
		       false);
}

CORE_TEST(t_matmul_odd_fp32)
{
	return mm_case(c, (struct mm){ 37, 5, 77, F32, F32 }, false, false);
}

CORE_TEST(t_matmul_odd_fp16)
{
	return mm_case(c, (struct mm){ 100, 127, 33, FP16, FP16 }, false,
		       false);
}

CORE_TEST(t_matmul_fp8_mixed)
{
	return mm_case(c, (struct mm){ 64, 19, 100, E4M3, E5M2 }, false, false);
}

CORE_TEST(t_matmul_tiny)
{
	return mm_case(c, (struct mm){ 1, 1, 1, F32, BF16 }, false, false);
}

CORE_TEST(t_matmul_accumulate)
{
	return mm_case(c, (struct mm){ 128, 13, 200, BF16, F32 }, true, true);
}

CORE_TEST(t_matmul_overwrite)
{
	return mm_case(c, (struct mm){ 50, 128, 40, BF16, BF16 }, true, false);
}

/* Operands with two free dimensions and strides, dst at a partition offset. */
CORE_TEST(t_matmul_strided)
{
	/* A: M = 12 as [4][3] with row stride 10; B: N = 20 at stride 2 */
	struct tern_ap a = ap(SB, F32, 0, 9, 8, 3, 4, 1, 10);
	struct tern_ap b = ap(SB, BF16, 0, 9, 512, 20, 1, 2, 0);
	struct tern_ap p = ap(PS, F32, 3, 12, 64, 4, 5, 1, 8);
	struct tern_ap o = tl(SB, F32, 3, 12, 4096, 4, 5);
	double va[9 * 50], vb[9 * 40];
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), F32, 9 * 50, va, -2, 1);
	fill_random(c, slot_ptr(c, 1), BF16, 9 * 40, vb, -2, 1);
	/* rows of 50 fp32 at byte 8 (element 2); rows of 40 bf16 at byte 512 */
	load(c, tl(SB, F32, 0, 9, 0, 50, 1), 0);
	load(c, tl(SB, BF16, 0, 9, 512, 40, 1), 1);
	after_loads(tile(c, E_TENSOR, TERN_OP_MATMUL, 0, p, a, b, 0), 2);
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0, o, p, none, 0);
	wait_on(i, 1, 1);
	signal_on(i, 2);
	wait_on(dma_rm(c, false, o, 2, 0), 2, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int m = 0; m < 12; m++)
		for (unsigned int n = 0; n < 20; n++) {
			double want = 0, mag = 0;

			for (unsigned int k = 0; k < 9; k++) {
				double x = va[k * 50 + 2 + m / 3 * 10 + m % 3];

				x *= vb[k * 40 + 2 * n];

				want += x;
				mag += fabs(x);
			}
			CHECK_NEAR(val(c, 2, m * 20 + n, F32), want, 0,
				   30 * 0x1p-24 * mag, m * 20 + n);
		}
	return true;
}

/* [37][100] bf16 -> [100][37] fp32 in PSUM, and -> bf16 in SBUF. */
CORE_TEST(t_transpose)
{
	struct tern_ap a = tl(SB, BF16, 0, 37, 0, 100, 1);
	struct tern_ap p = tl(PS, F32, 0, 100, 0, 37, 1);
	struct tern_ap o = tl(SB, F32, 0, 100, 1024, 37, 1);
	struct tern_ap s = tl(SB, BF16, 0, 100, 2048, 37, 1);
	double va[37 * 100];
	union tern_insn *i;

	fill_random(c, slot_ptr(c, 0), BF16, 37 * 100, va, -9, 9);
	load(c, a, 0);
	after_loads(tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0, p, a, none, 0), 1);
	after_loads(tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0, s, a, none, 0), 1);
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0, o, p, none, 0);
	wait_on(i, 1, 2);
	signal_on(i, 2);
	wait_on(dma_rm(c, false, o, 1, 0), 2, 1);
	wait_on(dma_rm(c, false, s, 2, 0), 2, 1);
	CHECK_EQ(run(c), TERN_JOB_OK);
	for (unsigned int f = 0; f < 100; f++)
		for (unsigned int q = 0; q < 37; q++) {
			CHECK_VAL(val(c, 1, f * 37 + q, F32), va[q * 100 + f],
				  f * 37 + q);
			CHECK_VAL(val(c, 2, f * 37 + q, BF16), va[q * 100 + f],
				  f * 37 + q);
		}
	return true;
}

static const struct test_case cases[] = {
	TEST("vector: tensor_tensor add", t_tt_add),
	TEST("vector: tensor_tensor sub", t_tt_sub),
	TEST("vector: tensor_tensor mul", t_tt_mul),
	TEST("vector: tensor_tensor div", t_tt_div),
	TEST("vector: tensor_tensor max", t_tt_max),
	TEST("vector: tensor_tensor min", t_tt_min),
	TEST("vector: tensor_tensor broadcast (stride 0)", t_tt_broadcast),
	TEST("vector: tensor_scalar add", t_ts_add),
	TEST("vector: tensor_scalar sub", t_ts_sub),
	TEST("vector: tensor_scalar mul", t_ts_mul),
	TEST("vector: tensor_scalar div", t_ts_div),
	TEST("vector: tensor_scalar max", t_ts_max),
	TEST("vector: tensor_scalar min", t_ts_min),
	TEST("vector: unary abs", t_unary_abs),
	TEST("vector: unary neg", t_unary_neg),
	TEST("vector: unary square", t_unary_square),
	TEST("vector: unary reciprocal", t_unary_reciprocal),
	TEST("vector: reduce sum", t_reduce_sum),
	TEST("vector: reduce max", t_reduce_max),
	TEST("vector: reduce min", t_reduce_min),
	TEST("vector: cast fp32<->bf16, every code and tie", t_cast_bf16),
	TEST("vector: cast fp32<->fp16, every code and tie", t_cast_fp16),
	TEST("vector: cast fp32<->fp8 e4m3, every code and tie", t_cast_e4m3),
	TEST("vector: cast fp32<->fp8 e5m2, every code and tie", t_cast_e5m2),
	TEST("vector: cast special values, exact codes", t_cast_special_codes),
	TEST("vector: copy, bit exact, strided, via PSUM", t_copy),
	TEST("vector: memset strided", t_memset),
	TEST("vector: iota", t_iota),
	TEST("scalar: activate identity", t_act_identity),
	TEST("scalar: activate relu", t_act_relu),
	TEST("scalar: activate gelu", t_act_gelu),
	TEST("scalar: activate gelu (tanh)", t_act_gelu_tanh),
	TEST("scalar: activate silu", t_act_silu),
	TEST("scalar: activate sigmoid", t_act_sigmoid),
	TEST("scalar: activate tanh", t_act_tanh),
	TEST("scalar: activate exp", t_act_exp),
	TEST("scalar: activate log", t_act_log),
	TEST("scalar: activate sqrt", t_act_sqrt),
	TEST("scalar: activate rsqrt", t_act_rsqrt),
	TEST("scalar: activate reciprocal", t_act_reciprocal),
	TEST("tensor: matmul 128x128x512 bf16", t_matmul_full_bf16),
	TEST("tensor: matmul odd shape fp32", t_matmul_odd_fp32),
	TEST("tensor: matmul odd shape fp16", t_matmul_odd_fp16),
	TEST("tensor: matmul fp8 e4m3 x e5m2", t_matmul_fp8_mixed),
	TEST("tensor: matmul 1x1x1", t_matmul_tiny),
	TEST("tensor: matmul accumulate", t_matmul_accumulate),
	TEST("tensor: matmul overwrite", t_matmul_overwrite),
	TEST("tensor: matmul strided operands", t_matmul_strided),
	TEST("tensor: transpose", t_transpose),
};

int main(void)
{
	tk_init();
	/* which compute kernels ran (TERN_CORE_ISA picks a lesser set) */
	printf("# compute kernels: %s\n", tk_kernels_name());
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
