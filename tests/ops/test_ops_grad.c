// SPDX-License-Identifier: MIT
/*
 * Host tests of libtern's training ops (tern_ops.h): activation gradients,
 * the column sum, axpy/SGD, the MSE gradient and matmuls with transposed
 * operands, built with libtern, run on the device model's compute core and
 * checked against tern_op_reference() within tern_op_tolerance(); axpy and
 * the MSE gradient in fp32 also bit for bit against the same two fp32
 * operations done on the CPU. Every byte that is not an output must stay
 * as it was, and every program passes the race checker (env_run()).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_test.h"

#define F32	TERN_DT_FP32
#define BF16	TERN_DT_BF16

/* Host address of element (r, c) of t in the env's HBM. */
static uint8_t *at(const struct env *e, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	int64_t i = (int64_t)r * t->row_stride + (int64_t)c * t->col_stride;

	return e->hbm + e->slots[t->slot].offset + t->offset + i * (int64_t)tern_dtype_size(t->dtype);
}

/*
 * Runs @op alone in a program and checks it: the output within the
 * tolerance of the reference, every other byte of the slots unchanged.
 */
static bool run_check(struct env *e, const struct tern_op *op, const char *what)
{
	void *pre[TERN_MAX_SLOTS] = { NULL }, *ref[TERN_MAX_SLOTS] = { NULL };
	uint64_t size[TERN_MAX_SLOTS] = { 0 };
	const struct tern_tensor *out = &op->out;
	double tol = tern_op_tolerance(op), worst = 0;
	struct tern_program *p;
	bool ok = tol >= 0;

	for (unsigned int s = 0; s < e->nslots; s++) {
		size[s] = e->slots[s].size;
		pre[s] = malloc(size[s]);
		ref[s] = malloc(size[s]);
		CHECK(pre[s] && ref[s]);
		memcpy(pre[s], e->hbm + e->slots[s].offset, size[s]);
		memcpy(ref[s], pre[s], size[s]);
	}
	CHECK_OK(tern_op_reference(op, ref, size, e->nslots));
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_emit(p, op));
	ok = ok && env_run(e, p, what);
	tern_prog_free(p);
	for (uint64_t r = 0; ok && r < out->rows; r++) {
		for (uint64_t c = 0; c < out->cols; c++) {
			uint8_t *dp = at(e, out, r, c);
			uint64_t off = (uint64_t)(dp - (e->hbm + e->slots[out->slot].offset));
			double got = tern_value_get(out->dtype, dp);
			double want = tern_value_get(out->dtype, (uint8_t *)ref[out->slot] + off);
			double err = got == want ? 0 : fabs(got - want);

			if (!(err <= tol)) {
				printf("#   %s: out[%llu][%llu] = %.9g, reference %.9g, tolerance %.3g\n",
				       what, (unsigned long long)r, (unsigned long long)c, got, want,
				       tol);
				ok = false;
				break;
			}
			worst = fmax(worst, err);
			/* the reference's bytes are the device's now: the rest must match */
			memcpy((uint8_t *)ref[out->slot] + off, dp, tern_dtype_size(out->dtype));
		}
	}
	for (unsigned int s = 0; ok && s < e->nslots; s++) {
		if (memcmp(ref[s], e->hbm + e->slots[s].offset, size[s])) {
			printf("#   %s: a byte of slot %u outside the output changed\n", what, s);
			ok = false;
		}
	}
	ok = ok && env_guards(e);
	if (ok)
		printf("# %s: max error %.3g, tolerance %.3g\n", what, worst, tol);
	for (unsigned int s = 0; s < e->nslots; s++) {
		free(pre[s]);
		free(ref[s]);
	}
	return ok;
}

static struct tern_op op2(unsigned int kind, unsigned int func, struct tern_tensor out,
			  struct tern_tensor a, struct tern_tensor b, float scale)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	op.func = func;
	op.nin = 2;
	op.scale = scale;
	op.out = out;
	op.in[0] = a;
	op.in[1] = b;
	return op;
}

static const uint64_t shapes[][2] = {
	{ 1, 1 }, { 7, 255 }, { 129, 127 }, { 300, 2 }, { 2, 600 }, { 128, 64 },
};
#define NSHAPES	(sizeof(shapes) / sizeof(shapes[0]))

/* ---- activation gradients ---- */

static bool act_grad_case(struct env *e, unsigned int func, unsigned int dt, uint64_t rows,
			  uint64_t cols, bool in_place)
{
	struct tern_tensor dy, x, dx;
	struct tern_op op;
	char what[96];

	env_reset(e);
	dy = make_tensor(e, 0, dt, rows, cols, (int64_t)cols, -1, 1);
	x = make_tensor(e, 1, dt, rows, cols, (int64_t)cols + 3, -1, 1);
	dx = in_place ? dy : make_tensor(e, 2, dt, rows, cols, (int64_t)cols, 0, 0);
	/* x = 0 exactly in a few places: relu' is 0 there */
	for (uint64_t r = 0; r < rows; r += 5)
		tensor_set(e, &x, r, 0, 0.0f);
	op = op2(TERN_OPKIND_ACT_GRAD, func, dx, dy, x, 0);
	snprintf(what, sizeof(what), "act_grad func %u %s %llux%llu%s", func, dt_name(dt),
		 (unsigned long long)rows, (unsigned long long)cols, in_place ? " in place" : "");
	return run_check(e, &op, what);
}

static bool t_act_grad(struct env *e)
{
	static const unsigned int funcs[] = {
		TERN_ACT_IDENTITY, TERN_ACT_RELU, TERN_ACT_SIGMOID, TERN_ACT_TANH, TERN_ACT_SILU,
	};

	for (unsigned int f = 0; f < 5; f++)
		for (unsigned int i = 0; i < NSHAPES; i++)
			CHECK(act_grad_case(e, funcs[f], i % 2 ? BF16 : F32, shapes[i][0],
					    shapes[i][1], i == 3));
	return true;
}

/* relu' exactly: dx is dy where x > 0 (the smallest subnormal too), else 0. */
static bool t_relu_grad_exact(struct env *e)
{
	struct tern_tensor dy, x, dx;
	struct tern_program *p;
	float xs[] = { 1.0f, -1.0f, 0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 3e38f, INFINITY,
		       -INFINITY, 0x1p-126f };
	unsigned int n = sizeof(xs) / sizeof(xs[0]);

	env_reset(e);
	dy = make_tensor(e, 0, F32, 1, n, n, -1, 1);
	x = make_tensor(e, 1, F32, 1, n, n, 0, 0);
	dx = make_tensor(e, 2, F32, 1, n, n, 0, 0);
	for (unsigned int i = 0; i < n; i++)
		tensor_set(e, &x, 0, i, xs[i]);
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_act_grad(p, TERN_ACT_RELU, &dx, &dy, &x));
	CHECK(env_run(e, p, "relu' of special values"));
	tern_prog_free(p);
	for (unsigned int i = 0; i < n; i++) {
		float want = xs[i] > 0 ? tensor_get(e, &dy, 0, i) : 0.0f;

		if (tensor_get(e, &dx, 0, i) != want) {
			printf("#   x = %g: dx %g, expected %g\n", xs[i], tensor_get(e, &dx, 0, i),
			       want);
			return false;
		}
	}
	return true;
}

/* ---- column sums ---- */

static bool t_sum_rows(struct env *e)
{
	static const uint64_t sr[][2] = {
		{ 1, 1 }, { 127, 3 }, { 129, 600 }, { 300, 129 }, { 1000, 7 }, { 64, 32 },
	};

	for (unsigned int i = 0; i < sizeof(sr) / sizeof(sr[0]); i++) {
		uint64_t rows = sr[i][0], cols = sr[i][1];
		unsigned int dt = i % 2 ? BF16 : F32;
		struct tern_tensor x, out;
		struct tern_op op;
		char what[96];

		env_reset(e);
		x = make_tensor(e, 0, dt, rows, cols, (int64_t)cols + (i == 2 ? 5 : 0), -1, 1);
		out = make_tensor(e, 1, i == 3 ? BF16 : F32, 1, cols, (int64_t)cols, 0, 0);
		memset(&op, 0, sizeof(op));
		op.kind = TERN_OPKIND_SUM_ROWS;
		op.nin = 1;
		op.out = out;
		op.in[0] = x;
		snprintf(what, sizeof(what), "sum_rows %s %llux%llu", dt_name(dt),
			 (unsigned long long)rows, (unsigned long long)cols);
		CHECK(run_check(e, &op, what));
	}
	return true;
}

/* The column sums of a transposed view: the row sums of what is stored. */
static bool t_sum_rows_transposed(struct env *e)
{
	struct tern_tensor x, out;
	struct tern_op op;

	env_reset(e);
	x = make_tensor(e, 0, F32, 77, 200, 200, -1, 1);
	out = make_tensor(e, 1, F32, 1, 77, 77, 0, 0);
	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_SUM_ROWS;
	op.nin = 1;
	op.out = out;
	op.in[0] = tern_tensor_t(x);
	return run_check(e, &op, "sum_rows of a transposed view");
}

/* ---- axpy and the MSE gradient: within tolerance, and bit exact in fp32 ---- */

static bool t_axpy(struct env *e)
{
	for (unsigned int i = 0; i < NSHAPES; i++) {
		uint64_t rows = shapes[i][0], cols = shapes[i][1];
		unsigned int dt = i % 2 ? BF16 : F32;
		bool in_place = i % 3 == 0;
		struct tern_tensor a, b, out;
		struct tern_op op;
		char what[96];

		env_reset(e);
		a = make_tensor(e, 0, dt, rows, cols, (int64_t)cols, -1, 1);
		b = make_tensor(e, 1, dt, rows, cols, (int64_t)cols, -1, 1);
		out = in_place ? a : make_tensor(e, 2, dt, rows, cols, (int64_t)cols, 0, 0);
		op = op2(TERN_OPKIND_AXPY, 0, out, a, b, i == 2 ? 3.5f : -0.0625f * (float)(i + 1));
		snprintf(what, sizeof(what), "axpy %s %llux%llu alpha %g%s", dt_name(dt),
			 (unsigned long long)rows, (unsigned long long)cols, op.scale,
			 in_place ? " in place" : "");
		CHECK(run_check(e, &op, what));
	}
	return true;
}

static bool t_mse_grad(struct env *e)
{
	for (unsigned int i = 0; i < NSHAPES; i++) {
		uint64_t rows = shapes[i][0], cols = shapes[i][1];
		unsigned int dt = i % 2 ? BF16 : F32;
		struct tern_tensor y, t, out;
		struct tern_op op;
		char what[96];

		env_reset(e);
		y = make_tensor(e, 0, dt, rows, cols, (int64_t)cols, -1, 1);
		t = make_tensor(e, 1, dt, rows, cols, (int64_t)cols + 1, -1, 1);
		out = i == 4 ? y : make_tensor(e, 2, F32, rows, cols, (int64_t)cols, 0, 0);
		op = op2(TERN_OPKIND_MSE_GRAD, 0, out, y, t, 2.0f / (float)(rows * cols));
		snprintf(what, sizeof(what), "mse_grad %s %llux%llu", dt_name(dt),
			 (unsigned long long)rows, (unsigned long long)cols);
		CHECK(run_check(e, &op, what));
	}
	return true;
}

/* fp32: exactly fl(a + fl(alpha b)) and fl(s fl(y - t)), as tern_ops.h says. */
static bool t_fp32_bit_exact(struct env *e)
{
	const uint64_t rows = 200, cols = 77;
	const float alpha = -0.0123f, s = 2.0f / 3.0f;
	struct tern_tensor a, b, o1, o2;
	struct tern_program *p;

	env_reset(e);
	a = make_tensor(e, 0, F32, rows, cols, cols, -3, 3);
	b = make_tensor(e, 1, F32, rows, cols, cols, -3, 3);
	o1 = make_tensor(e, 2, F32, rows, cols, cols, 0, 0);
	o2 = make_tensor(e, 3, F32, rows, cols, cols, 0, 0);
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_axpy(p, &o1, &a, &b, alpha));
	CHECK_OK(tern_op_mse_grad(p, &o2, &a, &b, s));
	CHECK(env_run(e, p, "axpy and mse_grad, fp32"));
	tern_prog_free(p);
	for (uint64_t r = 0; r < rows; r++) {
		for (uint64_t c = 0; c < cols; c++) {
			volatile float va = tensor_get(e, &a, r, c), vb = tensor_get(e, &b, r, c);
			volatile float prod = alpha * vb, sum = va + prod;
			volatile float diff = va - vb, mse = s * diff;
			float g1 = tensor_get(e, &o1, r, c), g2 = tensor_get(e, &o2, r, c);

			if (memcmp(&g1, (const void *)&sum, 4) || memcmp(&g2, (const void *)&mse, 4)) {
				printf("#   [%llu][%llu]: axpy %a (cpu %a), mse_grad %a (cpu %a)\n",
				       (unsigned long long)r, (unsigned long long)c, g1, sum, g2, mse);
				return false;
			}
		}
	}
	return true;
}

/* ---- the matmuls of a backward pass: dW = X^T dY, dX = dY W^T ---- */

static bool t_matmul_transposed(struct env *e)
{
	static const uint64_t dims[][3] = {	/* batch, in, out */
		{ 64, 32, 16 }, { 130, 129, 7 }, { 1, 3, 600 }, { 300, 64, 64 },
	};

	for (unsigned int i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		uint64_t nb = dims[i][0], ni = dims[i][1], no = dims[i][2];
		unsigned int dt = i % 2 ? BF16 : F32;
		struct tern_tensor x, dy, w, dw, dx;
		struct tern_op op;
		char what[96];

		env_reset(e);
		x = make_tensor(e, 0, dt, nb, ni, (int64_t)ni, -1, 1);
		dy = make_tensor(e, 1, dt, nb, no, (int64_t)no, -1, 1);
		w = make_tensor(e, 2, dt, ni, no, (int64_t)no, -1, 1);
		dw = make_tensor(e, 3, F32, ni, no, (int64_t)no, 0, 0);
		dx = make_tensor(e, 4, F32, nb, ni, (int64_t)ni, 0, 0);
		memset(&op, 0, sizeof(op));
		op.kind = TERN_OPKIND_MATMUL;
		op.nin = 2;
		op.out = dw;
		op.in[0] = tern_tensor_t(x);
		op.in[1] = dy;
		snprintf(what, sizeof(what), "dW = X^T dY %s, batch %llu", dt_name(dt),
			 (unsigned long long)nb);
		CHECK(run_check(e, &op, what));
		op.out = dx;
		op.in[0] = dy;
		op.in[1] = tern_tensor_t(w);
		snprintf(what, sizeof(what), "dX = dY W^T %s, batch %llu", dt_name(dt),
			 (unsigned long long)nb);
		CHECK(run_check(e, &op, what));
	}
	return true;
}

/* ---- bad arguments: clear errors, the program unchanged ---- */

static bool t_errors(struct env *e)
{
	struct tern_tensor x = tern_tensor_2d(0, F32, 10, 20), y = tern_tensor_2d(1, F32, 10, 20);
	struct tern_tensor o = tern_tensor_2d(2, F32, 10, 20), row = tern_tensor_2d(2, F32, 1, 20);
	struct tern_tensor bad = tern_tensor_2d(2, F32, 10, 21), part = x;
	struct tern_program *p;
	struct tern_op op;
	void *slots[3] = { NULL };
	uint64_t sizes[3] = { 4096, 4096, 4096 };

	(void)e;
	part.offset = 4;	/* overlaps x without being it */
	CHECK_RET(tern_op_act_grad(NULL, TERN_ACT_RELU, &o, &x, &y), -EINVAL);
	CHECK_RET(tern_op_sum_rows(NULL, &row, &x), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_op_act_grad(p, TERN_ACT_RELU, &o, &x, &y));
	CHECK_FAILS(tern_op_act_grad(p, TERN_ACT_GELU, &o, &x, &y), -EINVAL);	/* no gradient */
	CHECK_FAILS(tern_op_act_grad(p, TERN_ACT_COUNT, &o, &x, &y), -EINVAL);
	CHECK_FAILS(tern_op_act_grad(p, TERN_ACT_RELU, &bad, &x, &y), -EINVAL);
	CHECK_FAILS(tern_op_act_grad(p, TERN_ACT_RELU, &o, NULL, &y), -EINVAL);
	CHECK_FAILS(tern_op_act_grad(p, TERN_ACT_RELU, &part, &x, &y), -EINVAL);	/* overlap */
	CHECK_FAILS(tern_op_sum_rows(p, &o, &x), -EINVAL);			/* 10 rows out */
	CHECK_FAILS(tern_op_sum_rows(p, &bad, &x), -EINVAL);
	part = tern_tensor_2d(0, F32, 1, 20);
	CHECK_FAILS(tern_op_sum_rows(p, &part, &x), -EINVAL);		/* out overlaps x */
	CHECK_FAILS(tern_op_axpy(p, &o, &x, &y, NAN), -EINVAL);
	CHECK_FAILS(tern_op_axpy(p, &o, &x, &y, INFINITY), -EINVAL);
	CHECK_FAILS(tern_op_axpy(p, &o, &x, &bad, 1), -EINVAL);
	CHECK_FAILS(tern_op_mse_grad(p, &o, &x, &y, -INFINITY), -EINVAL);
	CHECK_FAILS(tern_op_mse_grad(p, &o, &x, &bad, 1), -EINVAL);
	CHECK_OK(tern_op_sgd(p, &x, &y, 0.5f));		/* in place is fine */
	tern_prog_free(p);

	/* as data: tern_op_reference() (tern_op_check()) refuses the same */
	slots[0] = calloc(1, 4096);
	slots[1] = calloc(1, 4096);
	slots[2] = calloc(1, 4096);
	CHECK(slots[0] && slots[1] && slots[2]);
	op = op2(TERN_OPKIND_ACT_GRAD, TERN_ACT_EXP, o, x, y, 0);
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);
	op.func = TERN_ACT_TANH;
	op.scale = 1;					/* scale must be 0 */
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);
	op = op2(TERN_OPKIND_AXPY, 0, o, x, y, NAN);
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);
	op = op2(TERN_OPKIND_MSE_GRAD, 1, o, x, y, 1);	/* func must be 0 */
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);
	op = op2(TERN_OPKIND_SUM_ROWS, 0, o, x, y, 0);	/* one input */
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);
	op.nin = 1;
	memset(&op.in[1], 0, sizeof(op.in[1]));
	CHECK_RET(tern_op_reference(&op, slots, sizes, 3), -EINVAL);	/* out 10 rows */
	op.out = row;
	CHECK_OK(tern_op_reference(&op, slots, sizes, 3));
	for (unsigned int i = 0; i < 3; i++)
		free(slots[i]);
	return true;
}

static const struct test_case cases[] = {
	{ "act_grad: identity, relu, sigmoid, tanh, silu; shapes, in place", t_act_grad, 0 },
	{ "act_grad: relu' of 0, -0, subnormals, infinities", t_relu_grad_exact, 0 },
	{ "sum_rows: shapes, dtypes", t_sum_rows, 0 },
	{ "sum_rows of a transposed view", t_sum_rows_transposed, 0 },
	{ "sum_rows in a 1 MiB SBUF", t_sum_rows, 1u << 20 },
	{ "axpy: shapes, dtypes, in place", t_axpy, 0 },
	{ "mse_grad: shapes, dtypes, in place", t_mse_grad, 0 },
	{ "axpy and mse_grad in fp32: bit exact", t_fp32_bit_exact, 0 },
	{ "matmul with transposed views: dW, dX", t_matmul_transposed, 0 },
	{ "errors leave the program unchanged", t_errors, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
