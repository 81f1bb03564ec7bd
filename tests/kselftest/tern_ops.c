// SPDX-License-Identifier: MIT
/*
 * tern_ops: the numerics of libtern's ops on the real driver and the
 * emulated chips.
 *
 * Every op kind of tern_ops.h (matmul, each binary ALU op, bias with and
 * without an activation, every activation, softmax, layer norm with and
 * without gamma and beta, RMS norm, transpose, attention causal and not;
 * for training: each activation gradient, the column sum, axpy, the MSE
 * gradient and the backward matmuls X^T dY, dY W^T) in every dtype (one
 * fixture variant per dtype), on random shapes with odd sizes (1, 2, 7,
 * 127, 129, 255, about 300, and past one 512 block) and on strided views
 * (column slices of wider tensors, transposed views), run with
 * tern_op_run() and checked element by element against tern_op_reference()
 * within tern_op_tolerance(). Every byte around the output (guard bytes,
 * the gaps of a slice) and every input byte must come back untouched. Each
 * test also draws a few cases at random: sizes, layouts (reversed rows and
 * broadcast rows too) and output dtypes. Cases are spread over every core
 * of device 0; a subset runs on device 1, and launches are put in flight
 * on every core of both devices at once. Programs that fault are
 * tern_badprog's; the case runner both use is in tern_ops_test.h.
 *
 * Shapes and data come from a seed that every test prints; TERN_SEED=<n>
 * repeats a run. Each test prints its case count, worst error (as a
 * fraction of the tolerance) and time. TERN_OPS_VERBOSE=1 prints every case.
 */
#include "tern_ops_test.h"

/* ---- shapes ---- */

/* Size codes: a positive number is itself; these draw one. */
#define SZ_300		-1	/* 290..310 */
#define SZ_600		-2	/* 570..630, more than one 512 block */
#define SZ_BIG		-3	/* 513..639, past one 512 block, not a multiple of 128 */
#define SZ_1100		-4	/* 1025..1151 */
#define SZ_SMALL	-5	/* 3..60 */

static uint64_t dim(struct rng *r, int code)
{
	switch (code) {
	case SZ_300: return rng_range(r, 290, 310);
	case SZ_600: return rng_range(r, 570, 630);
	case SZ_BIG: return rng_range(r, 513, 639);
	case SZ_1100: return rng_range(r, 1025, 1151);
	case SZ_SMALL: return rng_range(r, 3, 60);
	default: return (uint64_t)code;
	}
}

/* Rows x cols of the row-wise and elementwise cases: ~55k elements in all. */
static const int shapes2[][2] = {
	{ 1, 1 }, { 2, SZ_BIG }, { 7, 255 }, { 127, 129 }, { 129, 127 },
	{ 255, 7 }, { SZ_300, 2 }, { 1, SZ_1100 }, { SZ_SMALL, SZ_300 },
};
#define NSHAPES2	(sizeof(shapes2) / sizeof(shapes2[0]))

/* The other dtype of the mixed-dtype cases. */
static unsigned int partner(unsigned int dt)
{
	switch (dt) {
	case TERN_DT_FP32: return TERN_DT_BF16;
	case TERN_DT_FP8_E4M3: return TERN_DT_BF16;
	case TERN_DT_FP8_E5M2: return TERN_DT_FP16;
	default: return TERN_DT_FP32;
	}
}

/* ---- random cases ---- */

#define NRANDOM		4		/* random cases per test, after the fixed ones */
#define ELEM_BUDGET	40000		/* elements of a tensor */
#define MAC_BUDGET	1500000		/* multiply-adds of a matmul or attention */

/* A size: odd ones, either side of 128 and 512, about 300, or any up to 1100. */
static uint64_t random_dim(struct rng *r)
{
	static const int pool[] = {
		1, 2, 3, 7, 31, 127, 128, 129, 255, 256, 257, SZ_300, 383, 511, 513, SZ_BIG,
	};
	uint64_t k = rng_range(r, 0, sizeof(pool) / sizeof(pool[0]));

	return k < sizeof(pool) / sizeof(pool[0]) ? dim(r, pool[k]) : rng_range(r, 1, 1100);
}

/* @n sizes whose product is at most @budget. */
static void random_dims(struct rng *r, uint64_t *d, unsigned int n, uint64_t budget)
{
	uint64_t p;

	do {
		p = 1;
		for (unsigned int i = 0; i < n; i++) {
			d[i] = random_dim(r);
			p *= d[i];
		}
	} while (p > budget);
}

static enum layout random_layout(struct rng *r, bool input)
{
	static const enum layout l[] = {
		DENSE, DENSE, DENSE, SLICE, SLICE, TRANSPOSED, REVERSED, BROADCAST,
	};

	return l[rng_range(r, 0, input ? 7 : 6)];
}

/* The output's dtype: mostly the inputs', else any. */
static unsigned int random_out_dtype(struct rng *r, unsigned int dt)
{
	return rng_range(r, 0, 2) ? dt : (unsigned int)rng_range(r, 1, TERN_DT_COUNT - 1);
}

/*
 * A random case of @kind: random sizes within the budgets, random layouts,
 * sometimes another output dtype. Inputs in dtype @dt, in the order and
 * shapes tern_ops.h lists for @kind.
 */
static void random_case(struct runner *rn, struct ocase *c, unsigned int kind,
			unsigned int func, unsigned int nin, unsigned int dt)
{
	unsigned int odt = random_out_dtype(&rn->rng, dt);
	struct rng *r = &rn->rng;
	uint64_t d[4], t;

	case_init(c, kind, func, nin);
	switch (kind) {
	case TERN_OPKIND_MATMUL:	/* M, N, K */
		random_dims(r, d, 3, MAC_BUDGET);
		c->op.out = place(c, r, 0, odt, d[0], d[1], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[2], random_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, d[2], d[1], random_layout(r, true));
		break;
	case TERN_OPKIND_ATTENTION:	/* Sq, Sk, D, Dv */
		do
			random_dims(r, d, 4, UINT64_MAX);
		while (d[0] * d[1] * (d[2] + d[3]) > MAC_BUDGET);
		if (func & TERN_ATTN_CAUSAL && d[0] > d[1]) {
			t = d[0];
			d[0] = d[1];
			d[1] = t;
		}
		c->op.scale = (float)(1.0 / sqrt((double)d[2]));
		c->op.out = place(c, r, 0, odt, d[0], d[3], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[2], random_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, d[1], d[2], random_layout(r, true));
		c->op.in[2] = place(c, r, 3, dt, d[1], d[3], random_layout(r, true));
		break;
	case TERN_OPKIND_SUM_ROWS:
		random_dims(r, d, 2, ELEM_BUDGET);
		c->op.out = place(c, r, 0, odt, 1, d[1], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[1], random_layout(r, true));
		break;
	case TERN_OPKIND_TRANSPOSE:
		random_dims(r, d, 2, ELEM_BUDGET);
		c->op.out = place(c, r, 0, odt, d[1], d[0], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[1], random_layout(r, true));
		break;
	default:	/* x first; the bias, gamma and beta are 1 x cols */
		random_dims(r, d, 2, ELEM_BUDGET);
		c->op.out = place(c, r, 0, odt, d[0], d[1], random_layout(r, false));
		for (unsigned int i = 0; i < nin; i++) {
			bool vec = i > 0 && (kind == TERN_OPKIND_BIAS ||
					     kind == TERN_OPKIND_LAYERNORM ||
					     kind == TERN_OPKIND_RMSNORM);

			c->op.in[i] = place(c, r, 1 + i, dt, vec ? 1 : d[0], d[1],
					    random_layout(r, true));
		}
	}
}

/* ---- the cases of each op kind ---- */

/* Case @i of an elementwise op (binary with @nin 2, activation with 1). */
static void elementwise_case(struct runner *rn, struct ocase *c, unsigned int kind,
			     unsigned int func, unsigned int nin, unsigned int dt, unsigned int i)
{
	uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);
	/* Case 4 writes another dtype, case 5 also reads one. */
	unsigned int odt = i == 4 || i == 5 ? partner(dt) : dt;

	case_init(c, kind, func, nin);
	c->op.out = place(c, &rn->rng, 0, odt, rows, cols, i % 3 == 2 ? SLICE : DENSE);
	c->op.in[0] = place(c, &rn->rng, 1, dt, rows, cols, i % 2 ? SLICE : DENSE);
	if (nin > 1)
		c->op.in[1] = place(c, &rn->rng, 2, i == 5 ? partner(dt) : dt, rows, cols,
				    i == 3 || i == 8 ? TRANSPOSED : i == 6 ? SLICE : DENSE);
}

static void test_binary(struct __test_metadata *_metadata, struct runner *rn,
			unsigned int alu, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		if (i < NSHAPES2)
			elementwise_case(rn, &c, TERN_OPKIND_BINARY, alu, 2, dt, i);
		else
			random_case(rn, &c, TERN_OPKIND_BINARY, alu, 2, dt);
		if (alu == TERN_ALU_DIV)	/* divisors away from 0 */
			c.dom[1] = (struct dom){ 0.5f, 1.0f, true };
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/*
 * Inputs where each activation is defined and tame: those tern_op_tolerance()
 * is made for ([-1, 1], and only [1/2, 1] where a function blows up at 0).
 */
static struct dom act_dom(unsigned int func)
{
	switch (func) {
	case TERN_ACT_LOG:
	case TERN_ACT_RSQRT: return (struct dom){ 0.5f, 1.0f, false };
	case TERN_ACT_SQRT: return (struct dom){ 0.0f, 1.0f, false };
	case TERN_ACT_RECIPROCAL: return (struct dom){ 0.5f, 1.0f, true };
	default: return DOM_UNIT;
	}
}

static void test_activation(struct __test_metadata *_metadata, struct runner *rn,
			    unsigned int func, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		if (i < NSHAPES2)
			elementwise_case(rn, &c, TERN_OPKIND_ACTIVATION, func, 1, dt, i);
		else
			random_case(rn, &c, TERN_OPKIND_ACTIVATION, func, 1, dt);
		c.dom[0] = act_dom(func);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* The output in place of input 0 (same slot, offset, dtype and strides). */
static void test_in_place(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	static const unsigned int alus[] = { TERN_ALU_ADD, TERN_ALU_MUL, TERN_ALU_MAX };
	static const unsigned int acts[] = { TERN_ACT_RELU, TERN_ACT_SILU, TERN_ACT_TANH };
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2; i++) {
		uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);

		if (i % 2)
			case_init(&c, TERN_OPKIND_BINARY, alus[i / 2 % 3], 2);
		else
			case_init(&c, TERN_OPKIND_ACTIVATION, acts[i / 2 % 3], 1);
		c.op.in[0] = place(&c, &rn->rng, 0, dt, rows, cols, i % 3 ? SLICE : DENSE);
		c.op.out = c.op.in[0];
		if (i % 2)
			c.op.in[1] = place(&c, &rn->rng, 1, dt, rows, cols, DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		if (i % 2)
			random_case(rn, &c, TERN_OPKIND_BINARY, alus[i / 2 % 3], 2, dt);
		else
			random_case(rn, &c, TERN_OPKIND_ACTIVATION, acts[i / 2 % 3], 1, dt);
		c.op.in[0] = c.op.out;	/* slot 1 stays unused */
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* out = func(x + bias); @funcs the activations to cycle through. */
static void test_bias(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt,
		      const unsigned int *funcs, unsigned int nfuncs)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2; i++) {
		uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);

		case_init(&c, TERN_OPKIND_BIAS, funcs[i % nfuncs], 2);
		c.op.out = place(&c, &rn->rng, 0, i == 4 ? partner(dt) : dt, rows, cols,
				 i % 3 == 1 ? SLICE : DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, dt, rows, cols, i % 2 ? SLICE : DENSE);
		/* The bias: a row, or a strided one (a column of a wider tensor). */
		c.op.in[1] = place(&c, &rn->rng, 2, i == 5 ? partner(dt) : dt, 1, cols,
				   i % 3 == 2 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_BIAS, funcs[(i + 1) % nfuncs], 2, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* M, N, K of the matmul cases: each of 1, 2, 7, 127, 129, 255, ~300 in each. */
static const int mm_shapes[][3] = {
	{ 1, 1, 1 }, { 2, SZ_BIG, 7 }, { 7, 255, SZ_600 }, { 127, 2, SZ_300 },
	{ 129, 129, 2 }, { 255, 7, 129 }, { SZ_300, 1, 127 }, { 17, SZ_300, 255 },
	{ 130, 127, 63 },
};

static void test_matmul(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < sizeof(mm_shapes) / sizeof(mm_shapes[0]); i++) {
		matmul_case(rn, &c, i == 3 || i == 7 ? partner(dt) : dt, dt,
			    dim(&rn->rng, mm_shapes[i][0]), dim(&rn->rng, mm_shapes[i][1]),
			    dim(&rn->rng, mm_shapes[i][2]), DENSE, DENSE, DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_MATMUL, 0, 2, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* A as a transposed view (A^T row-major) and slices of wider tensors. */
static void test_matmul_views(struct __test_metadata *_metadata, struct runner *rn,
			      unsigned int dt)
{
	struct ocase c;

	matmul_case(rn, &c, dt, dt, 129, 65, 127, DENSE, TRANSPOSED, DENSE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, 255, 130, 33, SLICE, SLICE, SLICE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, 7, dim(&rn->rng, SZ_BIG), dim(&rn->rng, SZ_300), SLICE,
		    TRANSPOSED, SLICE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, partner(dt), dt, 1, 2, 129, DENSE, TRANSPOSED, DENSE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, dim(&rn->rng, SZ_300), 3, 255, SLICE, TRANSPOSED,
		    TRANSPOSED);
	run_case(_metadata, rn, &c, runner_next_core(rn));
}

/* Rows x cols of the row-wise ops (softmax, norms): row lengths 1..1151. */
static const int row_shapes[][2] = {
	{ 1, 1 }, { 2, 7 }, { 7, SZ_BIG }, { 127, 129 }, { 129, 127 },
	{ 255, 2 }, { SZ_300, SZ_SMALL }, { 3, SZ_1100 }, { 1, 255 },
};
#define NROW_SHAPES	(sizeof(row_shapes) / sizeof(row_shapes[0]))

/* x and out of case @i of a row-wise op. */
static void rowwise_case(struct runner *rn, struct ocase *c, unsigned int kind,
			 unsigned int nin, unsigned int dt, unsigned int i)
{
	uint64_t rows = dim(&rn->rng, row_shapes[i][0]), cols = dim(&rn->rng, row_shapes[i][1]);

	case_init(c, kind, 0, nin);
	c->op.out = place(c, &rn->rng, 0, i == 4 ? partner(dt) : dt, rows, cols,
			  i % 3 == 1 ? SLICE : DENSE);
	c->op.in[0] = place(c, &rn->rng, 1, i == 5 ? partner(dt) : dt, rows, cols,
			    i % 2 ? SLICE : i == 6 ? TRANSPOSED : DENSE);
}

static void test_softmax(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NROW_SHAPES + NRANDOM; i++) {
		if (i >= NROW_SHAPES) {
			random_case(rn, &c, TERN_OPKIND_SOFTMAX, 0, 1, dt);
			run_case(_metadata, rn, &c, runner_next_core(rn));
			continue;
		}
		rowwise_case(rn, &c, TERN_OPKIND_SOFTMAX, 1, dt, i);
		/*
		 * The last case: inputs in [99, 101], whose exp overflows fp32
		 * unless the row's maximum is taken off first. Softmax does not
		 * change with a shift, so the tolerance of [-1, 1] holds (not in
		 * fp8, which cannot hold such a shift finely enough).
		 */
		if (i == NROW_SHAPES - 1 && tern_dtype_size(dt) > 1)
			c.dom[0] = (struct dom){ 99.0f, 101.0f, false };
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Layer norm (@rms false) or RMS norm with @ngb of gamma, beta. */
static void test_norm(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt,
		      bool rms, unsigned int ngb)
{
	struct ocase c;

	for (unsigned int i = 0; i < NROW_SHAPES; i++) {
		uint64_t cols;

		rowwise_case(rn, &c, rms ? TERN_OPKIND_RMSNORM : TERN_OPKIND_LAYERNORM,
			     1 + ngb, dt, i);
		cols = c.op.in[0].cols;
		c.op.eps = i % 2 ? 1e-5f : 1e-3f;
		for (unsigned int g = 0; g < ngb; g++)
			c.op.in[1 + g] = place(&c, &rn->rng, 2 + g, dt, 1, cols,
					       i % 3 == 2 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, rms ? TERN_OPKIND_RMSNORM : TERN_OPKIND_LAYERNORM, 0, 1 + ngb,
			    dt);
		c.op.eps = 1e-5f;
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Rows x cols of x in the transpose cases. */
static const int tr_shapes[][2] = {
	{ 1, 1 }, { 1, SZ_300 }, { SZ_300, 1 }, { 2, 129 }, { 127, 7 },
	{ 129, 255 }, { 255, SZ_SMALL }, { SZ_BIG, 2 }, { 7, SZ_1100 },
};

static void test_transpose(struct __test_metadata *_metadata, struct runner *rn,
			   unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < sizeof(tr_shapes) / sizeof(tr_shapes[0]); i++) {
		uint64_t rows = dim(&rn->rng, tr_shapes[i][0]), cols = dim(&rn->rng, tr_shapes[i][1]);

		case_init(&c, TERN_OPKIND_TRANSPOSE, 0, 1);
		/* Cases 3 and 7 convert: values rounded to the output's dtype. */
		c.op.out = place(&c, &rn->rng, 0, i == 3 || i == 7 ? partner(dt) : dt, cols, rows,
				 i % 3 == 2 ? SLICE : DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, dt, rows, cols,
				   i % 2 ? SLICE : i == 6 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_TRANSPOSE, 0, 1, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Sq, Sk, D, Dv of the attention cases; causal ones need Sq <= Sk. */
static const int attn_shapes[][4] = {
	{ 1, 1, 1, 1 }, { 7, 129, 64, 33 }, { 129, 255, 16, 17 }, { 2, SZ_600, 127, 7 },
	{ 127, 130, 40, 40 }, { 255, SZ_300, 8, 8 }, { 129, 129, 32, 32 }, { 1, 129, 7, 2 },
};
/* Non-causal ones may have Sq > Sk. */
static const int attn_wide_shapes[][4] = {
	{ 255, 7, 33, 9 }, { SZ_300, 2, 2, 129 },
};

static void attention_case(struct runner *rn, struct ocase *c, unsigned int dt, bool causal,
			   const int *shape, unsigned int i)
{
	uint64_t sq = dim(&rn->rng, shape[0]), sk = dim(&rn->rng, shape[1]);
	uint64_t d = dim(&rn->rng, shape[2]), dv = dim(&rn->rng, shape[3]);
	/* Case 4 is one head of several: column slices of wider tensors. */
	enum layout l = i == 4 ? SLICE : DENSE;

	case_init(c, TERN_OPKIND_ATTENTION, causal ? TERN_ATTN_CAUSAL : 0, 3);
	c->op.scale = (float)(1.0 / sqrt((double)d));
	c->op.out = place(c, &rn->rng, 0, i == 2 ? partner(dt) : dt, sq, dv, l);
	c->op.in[0] = place(c, &rn->rng, 1, dt, sq, d, l);
	/* Case 6 has K^T stored row-major. */
	c->op.in[1] = place(c, &rn->rng, 2, dt, sk, d, i == 6 ? TRANSPOSED : l);
	c->op.in[2] = place(c, &rn->rng, 3, dt, sk, dv, l);
}

static void test_attention(struct __test_metadata *_metadata, struct runner *rn,
			   unsigned int dt, bool causal)
{
	unsigned int n = sizeof(attn_shapes) / sizeof(attn_shapes[0]);
	struct ocase c;

	for (unsigned int i = 0; i < n; i++) {
		attention_case(rn, &c, dt, causal, attn_shapes[i], i);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; !causal && i < sizeof(attn_wide_shapes) / sizeof(attn_wide_shapes[0]);
	     i++) {
		attention_case(rn, &c, dt, false, attn_wide_shapes[i], n + i);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_ATTENTION, causal ? TERN_ATTN_CAUSAL : 0, 3, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* ---- training: gradients, column sums, updates, matmuls with transposes ---- */

/*
 * The elementwise training ops (ACT_GRAD, AXPY, MSE_GRAD): the shapes and
 * layouts of the binary ops, and case 7 in place of input 0; AXPY and
 * MSE_GRAD with a scale of either sign.
 */
static void test_grad_elementwise(struct __test_metadata *_metadata, struct runner *rn,
				  unsigned int kind, unsigned int func, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		if (i < NSHAPES2)
			elementwise_case(rn, &c, kind, func, 2, dt, i);
		else
			random_case(rn, &c, kind, func, 2, dt);
		if (i == 7)
			c.op.in[0] = c.op.out;	/* slot 1 stays unused */
		if (kind == TERN_OPKIND_AXPY)
			c.op.scale = i % 2 ? -0.01f : 1.75f;
		else if (kind == TERN_OPKIND_MSE_GRAD)
			c.op.scale = (i % 2 ? -2.0f : 2.0f) /
				     (float)(c.op.out.rows * c.op.out.cols);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* out [1 x cols] = the sum of x's rows, x of the shapes of the row-wise ops. */
static void test_sum_rows(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		uint64_t rows = dim(&rn->rng, shapes2[i % NSHAPES2][0]);
		uint64_t cols = dim(&rn->rng, shapes2[i % NSHAPES2][1]);

		if (i >= NSHAPES2) {
			random_case(rn, &c, TERN_OPKIND_SUM_ROWS, 0, 1, dt);
			run_case(_metadata, rn, &c, runner_next_core(rn));
			continue;
		}
		case_init(&c, TERN_OPKIND_SUM_ROWS, 0, 1);
		c.op.out = place(&c, &rn->rng, 0, i == 4 ? partner(dt) : dt, 1, cols,
				 i % 3 == 2 ? TRANSPOSED : DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, i == 5 ? partner(dt) : dt, rows, cols,
				   i % 2 ? SLICE : i == 6 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Batch, in, out of the backward matmuls of a dense layer. */
static const int bw_shapes[][3] = {
	{ 64, 32, 16 }, { 130, 129, 7 }, { 1, 3, SZ_BIG }, { SZ_300, 64, 64 }, { 7, 255, 2 },
	{ 255, 1, 129 },
};

/* dW = X^T . dY and dX = dY . W^T through transposed views (tern_tensor_t()). */
static void test_matmul_backward(struct __test_metadata *_metadata, struct runner *rn,
				 unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < sizeof(bw_shapes) / sizeof(bw_shapes[0]); i++) {
		uint64_t nb = dim(&rn->rng, bw_shapes[i][0]), ni = dim(&rn->rng, bw_shapes[i][1]);
		uint64_t no = dim(&rn->rng, bw_shapes[i][2]);
		unsigned int odt = i == 2 ? partner(dt) : dt;

		case_init(&c, TERN_OPKIND_MATMUL, 0, 2);
		c.op.out = place(&c, &rn->rng, 0, odt, ni, no, DENSE);
		c.op.in[0] = tern_tensor_t(place(&c, &rn->rng, 1, dt, nb, ni, i % 2 ? SLICE : DENSE));
		c.op.in[1] = place(&c, &rn->rng, 2, dt, nb, no, DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));

		case_init(&c, TERN_OPKIND_MATMUL, 0, 2);
		c.op.out = place(&c, &rn->rng, 0, odt, nb, ni, DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, dt, nb, no, i % 2 ? SLICE : DENSE);
		c.op.in[1] = tern_tensor_t(place(&c, &rn->rng, 2, dt, ni, no, DENSE));
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* ---- numerics: one test per op kind and function, one variant per dtype ---- */

FIXTURE(ops) {
	struct runner rn;
	char label[96];
};

FIXTURE_VARIANT(ops) {
	unsigned int dtype;
};

FIXTURE_VARIANT_ADD(ops, fp32) { .dtype = TERN_DT_FP32 };
FIXTURE_VARIANT_ADD(ops, bf16) { .dtype = TERN_DT_BF16 };
FIXTURE_VARIANT_ADD(ops, fp16) { .dtype = TERN_DT_FP16 };
FIXTURE_VARIANT_ADD(ops, fp8_e4m3) { .dtype = TERN_DT_FP8_E4M3 };
FIXTURE_VARIANT_ADD(ops, fp8_e5m2) { .dtype = TERN_DT_FP8_E5M2 };

FIXTURE_SETUP(ops)
{
	snprintf(self->label, sizeof(self->label), "%s %s", _metadata->name,
		 dtype_name(variant->dtype));
	runner_open(_metadata, &self->rn, 0, self->label);
}

FIXTURE_TEARDOWN(ops)
{
	runner_close(&self->rn);
}

#define OPS_TEST(name) TEST_F_TIMEOUT(ops, name, TEST_SECS)
#define EXPECT_NO_FAILURES() EXPECT_EQ(0, self->rn.failures)				\
	TH_LOG("%u of %u cases failed (seed %#llx)", self->rn.failures, self->rn.cases,	\
	       (unsigned long long)self->rn.seed)

OPS_TEST(matmul)
{
	test_matmul(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(matmul_views)
{
	test_matmul_views(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

#define BINARY_TEST(alu, ALU)								\
	OPS_TEST(alu)									\
	{										\
		test_binary(_metadata, &self->rn, TERN_ALU_##ALU, variant->dtype);	\
		EXPECT_NO_FAILURES();							\
	}

BINARY_TEST(add, ADD)
BINARY_TEST(sub, SUB)
BINARY_TEST(mul, MUL)
BINARY_TEST(div, DIV)
BINARY_TEST(max, MAX)
BINARY_TEST(min, MIN)

OPS_TEST(in_place)
{
	test_in_place(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(bias)
{
	static const unsigned int none[] = { TERN_ACT_IDENTITY };

	test_bias(_metadata, &self->rn, variant->dtype, none, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(bias_activation)
{
	static const unsigned int funcs[] = {
		TERN_ACT_RELU, TERN_ACT_GELU, TERN_ACT_GELU_TANH, TERN_ACT_SILU,
		TERN_ACT_SIGMOID, TERN_ACT_TANH, TERN_ACT_EXP,
	};

	test_bias(_metadata, &self->rn, variant->dtype, funcs, sizeof(funcs) / sizeof(funcs[0]));
	EXPECT_NO_FAILURES();
}

#define ACT_TEST(name, ACT)								\
	OPS_TEST(name)									\
	{										\
		test_activation(_metadata, &self->rn, TERN_ACT_##ACT, variant->dtype);	\
		EXPECT_NO_FAILURES();							\
	}

ACT_TEST(identity, IDENTITY)
ACT_TEST(relu, RELU)
ACT_TEST(gelu, GELU)
ACT_TEST(gelu_tanh, GELU_TANH)
ACT_TEST(silu, SILU)
ACT_TEST(sigmoid, SIGMOID)
ACT_TEST(tanh, TANH)
ACT_TEST(exp, EXP)
ACT_TEST(log, LOG)
ACT_TEST(sqrt, SQRT)
ACT_TEST(rsqrt, RSQRT)
ACT_TEST(reciprocal, RECIPROCAL)

OPS_TEST(softmax)
{
	test_softmax(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 0);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm_gamma)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm_gamma_beta)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 2);
	EXPECT_NO_FAILURES();
}

OPS_TEST(rmsnorm)
{
	test_norm(_metadata, &self->rn, variant->dtype, true, 0);
	EXPECT_NO_FAILURES();
}

OPS_TEST(rmsnorm_gamma)
{
	test_norm(_metadata, &self->rn, variant->dtype, true, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(transpose)
{
	test_transpose(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

#define GRAD_TEST(name, ACT)								\
	OPS_TEST(act_grad_##name)							\
	{										\
		test_grad_elementwise(_metadata, &self->rn, TERN_OPKIND_ACT_GRAD,	\
				      TERN_ACT_##ACT, variant->dtype);			\
		EXPECT_NO_FAILURES();							\
	}

GRAD_TEST(identity, IDENTITY)
GRAD_TEST(relu, RELU)
GRAD_TEST(sigmoid, SIGMOID)
GRAD_TEST(tanh, TANH)
GRAD_TEST(silu, SILU)

OPS_TEST(sum_rows)
{
	test_sum_rows(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(axpy)
{
	test_grad_elementwise(_metadata, &self->rn, TERN_OPKIND_AXPY, 0, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(mse_grad)
{
	test_grad_elementwise(_metadata, &self->rn, TERN_OPKIND_MSE_GRAD, 0, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(matmul_backward)
{
	test_matmul_backward(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(attention)
{
	test_attention(_metadata, &self->rn, variant->dtype, false);
	EXPECT_NO_FAILURES();
}

OPS_TEST(attention_causal)
{
	test_attention(_metadata, &self->rn, variant->dtype, true);
	EXPECT_NO_FAILURES();
}

/* ---- cores and devices ---- */

FIXTURE(cores) {
	int unused;
};

FIXTURE_SETUP(cores)
{
}

FIXTURE_TEARDOWN(cores)
{
}

/*
 * One program on every core of device 0 in turn: built once, found in the
 * cache for every later core, correct on each (fresh data every time).
 */
TEST_F_TIMEOUT(cores, same_program_on_every_core, TEST_SECS)
{
	struct runner rn;
	struct ocase c;

	runner_open(_metadata, &rn, 0, "same_program_on_every_core");
	matmul_case(&rn, &c, TERN_DT_FP32, TERN_DT_FP32, 129, 131, 257, DENSE, TRANSPOSED, DENSE);
	for (unsigned int round = 0; round < 2; round++)
		for (unsigned int core = 0; core < rn.ncores; core++)
			run_case(_metadata, &rn, &c, (int)core);
	run_case(_metadata, &rn, &c, TERN_CORE_ANY);
	EXPECT_EQ(0, rn.failures);
	runner_close(&rn);
}

/* A subset of every kind on every core of device 1, and one on any core. */
TEST_F_TIMEOUT(cores, device1_subset, TEST_SECS)
{
	static const unsigned int dts[] = { TERN_DT_FP32, TERN_DT_BF16, TERN_DT_FP16,
					    TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2 };
	struct runner rn;
	struct ocase c;
	int count = tern_device_count();

	if (count < 2) {
		ASSERT_GT(2, tern_expected_devices())
			TH_LOG("%d tern devices, expected %d", count, tern_expected_devices());
		fprintf(stderr, "# one device only: nothing to run on device 1\n");
		return;
	}
	runner_open(_metadata, &rn, 1, "device1_subset");
	for (unsigned int core = 0; core < rn.ncores; core++) {
		unsigned int dt = dts[core % 5];

		test_matmul_views(_metadata, &rn, dt);
		elementwise_case(&rn, &c, TERN_OPKIND_BINARY, TERN_ALU_MUL, 2, dt, 3);
		run_case(_metadata, &rn, &c, (int)core);
		attention_case(&rn, &c, TERN_DT_BF16, true, attn_shapes[4], 4);
		run_case(_metadata, &rn, &c, (int)core);
		rowwise_case(&rn, &c, TERN_OPKIND_LAYERNORM, 3, TERN_DT_FP16, 3);
		c.op.eps = 1e-5f;
		c.op.in[1] = place(&c, &rn.rng, 2, TERN_DT_FP16, 1, c.op.in[0].cols, DENSE);
		c.op.in[2] = place(&c, &rn.rng, 3, TERN_DT_FP16, 1, c.op.in[0].cols, DENSE);
		run_case(_metadata, &rn, &c, (int)core);
		rowwise_case(&rn, &c, TERN_OPKIND_SOFTMAX, 1, TERN_DT_BF16, 7);
		run_case(_metadata, &rn, &c, (int)core);
	}
	small_matmul(&rn, &c);
	run_case(_metadata, &rn, &c, TERN_CORE_ANY);
	EXPECT_EQ(0, rn.failures);
	runner_close(&rn);
}

/* ---- launches in flight on every core of every device at once ---- */

#define PAR_JOBS	3	/* per core */

/* A case launched with tern_launch_async(), checked once its fence is done. */
struct par_job {
	struct runner *rn;
	struct ocase c;
	struct bufs b;
	int core;
	struct tern_fence *f;
};

static int build_op(struct tern_program *prog, void *arg)
{
	return tern_op_emit(prog, arg);
}

/* Uploads @j's data and launches its kernel, from the device's cache. */
static void par_start(struct __test_metadata *_metadata, struct par_job *j)
{
	struct tern_kernel *k;
	int ret;

	bufs_prepare(_metadata, j->rn, &j->c, &j->b);
	ret = tern_kernel_cached(j->rn->dev, &j->c.op, sizeof(j->c.op), build_op, &j->c.op, &k);
	ASSERT_EQ(0, ret) TH_LOG("tern_kernel_cached: %s", tern_last_error());
	ret = tern_launch_async(j->rn->dev, k, j->core, j->b.dev, j->b.n, &j->f);
	ASSERT_EQ(0, ret) TH_LOG("tern_launch_async: %s", tern_last_error());
}

/* Waits for @j and checks its status and data. */
static void par_finish(struct __test_metadata *_metadata, struct par_job *j, unsigned int n)
{
	struct tern_launch_status st;
	char what[96];
	bool ok;
	int ret;

	snprintf(what, sizeof(what), "parallel job %u on device %u core %d", n, j->rn->index,
		 j->core);
	ret = tern_fence_wait(j->rn->dev, j->f, TERN_TIMEOUT_INFINITE);
	memset(&st, 0, sizeof(st));
	ok = tern_fence_launch_status(j->f, &st) == 0 && ret == 0;
	if (!ok)
		fprintf(stderr, "# %s: %s (%s)\n", what, tern_strerror(ret), tern_last_error());
	ok = ok && status_ok(j->rn, &st, j->core, what);
	if (ok) {
		bufs_download(_metadata, j->rn, &j->b);
		ok = bufs_check(j->rn, &j->c, &j->b, what);
	}
	tern_fence_release(j->f);
	bufs_free(&j->b);
	j->rn->cases++;
	if (!ok)
		j->rn->failures++;
}

/*
 * A matmul, a causal attention and a layer norm queued on every core of
 * every device before any is waited for: the cores and chips run them at
 * the same time. Each is checked as its fence completes.
 */
TEST_F_TIMEOUT(cores, parallel_launches, TEST_SECS)
{
	static const unsigned int dts[] = { TERN_DT_BF16, TERN_DT_FP32, TERN_DT_FP16,
					    TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2 };
	int ndev = tern_device_count();
	struct runner rn[2];
	struct par_job *jobs;
	unsigned int n = 0;

	ASSERT_LE(1, ndev);
	ndev = ndev > 2 ? 2 : ndev;
	jobs = calloc((size_t)ndev * 8 * PAR_JOBS, sizeof(*jobs));
	ASSERT_NE(NULL, jobs);
	for (int d = 0; d < ndev; d++) {
		runner_open(_metadata, &rn[d], (unsigned int)d, "parallel_launches");
		for (unsigned int core = 0; core < rn[d].ncores && core < 8; core++) {
			unsigned int dt = dts[(d * 8 + core) % 5];

			for (unsigned int i = 0; i < PAR_JOBS; i++) {
				struct par_job *j = &jobs[n++];

				j->rn = &rn[d];
				j->core = (int)core;
				if (i == 0)
					random_case(&rn[d], &j->c, TERN_OPKIND_MATMUL, 0, 2, dt);
				else if (i == 1)
					random_case(&rn[d], &j->c, TERN_OPKIND_ATTENTION,
						    TERN_ATTN_CAUSAL, 3, dt);
				else
					random_case(&rn[d], &j->c, TERN_OPKIND_LAYERNORM, 0, 3, dt);
				j->c.op.eps = i == 2 ? 1e-5f : 0;
				par_start(_metadata, j);
			}
		}
	}
	for (unsigned int i = 0; i < n; i++)
		par_finish(_metadata, &jobs[i], i);
	for (int d = 0; d < ndev; d++) {
		EXPECT_EQ(0, rn[d].failures) TH_LOG("device %d: %u of %u jobs failed", d,
						    rn[d].failures, rn[d].cases);
		runner_close(&rn[d]);
	}
	free(jobs);
}

TEST_HARNESS_MAIN
