// SPDX-License-Identifier: MIT
/*
 * The ops of libtern (tern_ops.h) built into programs and run on the
 * device model's compute core, on random inputs of odd shapes, against
 * plain C references with a tolerance per dtype; every program is also
 * checked for races. Then the ops' errors.
 */
#include "ops_test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- matmul ---- */

enum layout {
	ROW_MAJOR,	/* A, B, C contiguous rows */
	A_COL_MAJOR,	/* A stored transposed: A^T is row-major */
	STRIDED,	/* rows of A, B and C padded */
};

static bool mm_case(struct env *e, uint64_t m, uint64_t k, uint64_t n, unsigned int dta,
		    unsigned int dtb, unsigned int dtc, enum layout lay)
{
	int64_t pad = lay == STRIDED ? 3 : 0;
	struct tern_tensor a, b, c;
	struct tern_program *p;
	double max_err = 0;
	char what[128];
	bool ok;

	if (lay == A_COL_MAJOR) {
		struct tern_tensor at = make_tensor(e, 0, dta, k, m, (int64_t)m, -1, 1);

		a = tern_tensor_t(at);
	} else {
		a = make_tensor(e, 0, dta, m, k, (int64_t)k + pad, -1, 1);
	}
	b = make_tensor(e, 1, dtb, k, n, (int64_t)n + pad, -1, 1);
	c = make_tensor(e, 2, dtc, m, n, (int64_t)n + pad, -1, 1);
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_matmul(p, &c, &a, &b));
	snprintf(what, sizeof(what), "matmul %llux%llux%llu %s.%s->%s%s",
		 (unsigned long long)m, (unsigned long long)k, (unsigned long long)n,
		 dt_name(dta), dt_name(dtb), dt_name(dtc),
		 lay == A_COL_MAJOR ? " (A column-major)" : lay == STRIDED ? " (strided)" : "");
	ok = env_run(e, p, what);
	tern_prog_free(p);
	CHECK(ok);
	for (uint64_t i = 0; i < m; i++) {
		for (uint64_t j = 0; j < n; j++) {
			double ref = 0, mag = 0, got = tensor_get(e, &c, i, j), tol, err;

			for (uint64_t q = 0; q < k; q++) {
				double x = (double)tensor_get(e, &a, i, q) * tensor_get(e, &b, q, j);

				ref += x;
				mag += fabs(x);
			}
			/* fp32 sums of k products, then rounding to C's dtype */
			tol = (double)(k + 2) / (1 << 23) * mag + dt_eps(dtc) * fabs(ref) + 1e-30;
			err = fabs(got - ref);
			if (err > max_err)
				max_err = err;
			if (!(err <= tol)) {
				printf("#   C[%llu][%llu] = %.9g, expected %.9g (tolerance %.3g)\n",
				       (unsigned long long)i, (unsigned long long)j, got, ref, tol);
				return false;
			}
		}
	}
	printf("# %s: max abs error %.3g\n", what, max_err);
	return true;
}

static bool t_mm_1x1x1(struct env *e)
{
	return mm_case(e, 1, 1, 1, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_7x13x5(struct env *e)
{
	return mm_case(e, 7, 13, 5, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR) &&
	       mm_case(e, 7, 5, 13, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_130x129x257(struct env *e)
{
	return mm_case(e, 130, 129, 257, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_256x512x300(struct env *e)
{
	return mm_case(e, 256, 512, 300, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_256x300x512(struct env *e)
{
	return mm_case(e, 256, 300, 512, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_exact_tiles(struct env *e)
{
	return mm_case(e, 128, 128, 512, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR) &&
	       mm_case(e, 256, 256, 1024, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_wide_n(struct env *e)
{
	return mm_case(e, 129, 70, 1100, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_thin(struct env *e)
{
	return mm_case(e, 1, 700, 3, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR) &&
	       mm_case(e, 300, 1, 1, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR) &&
	       mm_case(e, 1, 1, 600, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_bf16(struct env *e)
{
	return mm_case(e, 130, 129, 257, TERN_DT_BF16, TERN_DT_BF16, TERN_DT_FP32, ROW_MAJOR) &&
	       mm_case(e, 200, 300, 100, TERN_DT_BF16, TERN_DT_BF16, TERN_DT_BF16, ROW_MAJOR);
}

static bool t_mm_mixed(struct env *e)
{
	return mm_case(e, 33, 150, 77, TERN_DT_BF16, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

static bool t_mm_a_col_major(struct env *e)
{
	return mm_case(e, 130, 129, 257, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, A_COL_MAJOR);
}

static bool t_mm_strided(struct env *e)
{
	return mm_case(e, 130, 200, 515, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, STRIDED);
}

/* With 8 KiB per partition the A^T rows of a block row do not stay. */
static bool t_mm_small_sbuf(struct env *e)
{
	return mm_case(e, 150, 2100, 130, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ROW_MAJOR);
}

/* ---- elementwise ---- */

enum ew_kind { BINARY, ACT, BIAS };

struct ew_spec {
	enum ew_kind kind;
	unsigned int op;		/* TERN_ALU_* or TERN_ACT_* */
	uint64_t rows, cols;
	unsigned int dta, dtb, dto;
	int64_t pad;			/* row padding of a, b and out */
	int inplace;			/* 1: out is a, 2: out is b */
};

static float alu_ref(unsigned int alu, float x, float y)
{
	switch (alu) {
	case TERN_ALU_ADD: return x + y;
	case TERN_ALU_SUB: return x - y;
	case TERN_ALU_MUL: return x * y;
	case TERN_ALU_DIV: return x / y;
	case TERN_ALU_MAX: return x > y ? x : y;
	case TERN_ALU_MIN: return x < y ? x : y;
	}
	abort();
}

static double act_ref(unsigned int f, double x)
{
	switch (f) {
	case TERN_ACT_IDENTITY: return x;
	case TERN_ACT_RELU: return x > 0 ? x : 0;
	case TERN_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
	case TERN_ACT_GELU_TANH:
		return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
	case TERN_ACT_SILU: return x / (1 + exp(-x));
	case TERN_ACT_SIGMOID: return 1 / (1 + exp(-x));
	case TERN_ACT_TANH: return tanh(x);
	case TERN_ACT_EXP: return exp(x);
	case TERN_ACT_LOG: return log(x);
	case TERN_ACT_SQRT: return sqrt(x);
	case TERN_ACT_RSQRT: return 1 / sqrt(x);
	case TERN_ACT_RECIPROCAL: return 1 / x;
	}
	abort();
}

static const char *const alu_names[] = { "add", "sub", "mul", "div", "max", "min" };
static const char *const act_names[] = {
	"identity", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "exp", "log",
	"sqrt", "rsqrt", "reciprocal"
};

static bool ew_case(struct env *e, const struct ew_spec *s)
{
	bool pos = s->kind == ACT && s->op >= TERN_ACT_LOG;	/* positive domain */
	float lo = pos ? 0.05f : -3.0f, hi = 3.0f;
	struct tern_tensor a, b = { 0 }, out;
	struct tern_program *p;
	float *ain, *bin = NULL;
	double max_err = 0;
	char what[160];
	bool ok;
	int ret;

	a = make_tensor(e, 0, s->dta, s->rows, s->cols, (int64_t)s->cols + s->pad, lo, hi);
	if (s->kind == BINARY)
		b = make_tensor(e, 1, s->dtb, s->rows, s->cols, (int64_t)s->cols + s->pad, lo, hi);
	if (s->kind == BIAS)
		b = make_tensor(e, 1, s->dtb, 1, s->cols, (int64_t)s->cols, lo, hi);
	/* away from 0 for DIV */
	for (uint64_t r = 0; s->kind == BINARY && s->op == TERN_ALU_DIV && r < s->rows; r++)
		for (uint64_t c = 0; c < s->cols; c++)
			if (fabsf(tensor_get(e, &b, r, c)) < 0.25f)
				tensor_set(e, &b, r, c, 0.5f);
	out = s->inplace == 1 ? a : s->inplace == 2 ? b :
	      make_tensor(e, 2, s->dto, s->rows, s->cols, (int64_t)s->cols + s->pad, -9, 9);
	/* the inputs, before an in-place op overwrites them */
	ain = malloc(s->rows * s->cols * sizeof(float));
	bin = malloc(s->rows * s->cols * sizeof(float));
	CHECK(ain && bin);
	for (uint64_t r = 0; r < s->rows; r++) {
		for (uint64_t c = 0; c < s->cols; c++) {
			ain[r * s->cols + c] = tensor_get(e, &a, r, c);
			bin[r * s->cols + c] = s->kind == BINARY ? tensor_get(e, &b, r, c) :
					       s->kind == BIAS ? tensor_get(e, &b, 0, c) : 0;
		}
	}
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	ret = s->kind == BINARY ? tern_op_binary(p, s->op, &out, &a, &b) :
	      s->kind == ACT ? tern_op_activation(p, s->op, &out, &a) :
	      tern_op_bias(p, s->op, &out, &a, &b);
	snprintf(what, sizeof(what), "%s%s %llux%llu %s%s%s->%s%s%s",
		 s->kind == BIAS ? "bias+" : "",
		 s->kind == BINARY ? alu_names[s->op] : act_names[s->op],
		 (unsigned long long)s->rows, (unsigned long long)s->cols, dt_name(s->dta),
		 s->kind == ACT ? "" : ".", s->kind == ACT ? "" : dt_name(s->dtb),
		 dt_name(out.dtype), s->pad ? " (strided)" : "", s->inplace ? " (in place)" : "");
	if (ret) {
		printf("#   %s: %s (%s)\n", what, tern_strerror(ret), tern_last_error());
		tern_prog_free(p);
		free(ain);
		free(bin);
		return false;
	}
	ok = env_run(e, p, what);
	tern_prog_free(p);
	for (uint64_t r = 0; ok && r < s->rows; r++) {
		for (uint64_t c = 0; c < s->cols; c++) {
			float x = ain[r * s->cols + c], y = bin[r * s->cols + c];
			double ref, tol, got = tensor_get(e, &out, r, c), err;

			if (s->kind == BINARY)
				ref = alu_ref(s->op, x, y);
			else if (s->kind == ACT)
				ref = act_ref(s->op, x);
			else
				ref = act_ref(s->op, (double)(x + y));
			/* fp32 math with libm (or one rounding), then out's dtype */
			tol = (s->kind == BINARY ? 0 : 4e-6 * fabs(ref) + 1e-6) +
			      dt_eps(out.dtype) * fabs(ref) * 1.01 + 1e-30;
			err = fabs(got - ref);
			if (err > max_err)
				max_err = err;
			if (!(err <= tol)) {
				printf("#   %s: out[%llu][%llu] = %.9g, expected %.9g (x %.9g, y %.9g)\n",
				       what, (unsigned long long)r, (unsigned long long)c, got, ref, x, y);
				ok = false;
				break;
			}
		}
	}
	free(ain);
	free(bin);
	if (ok)
		printf("# %s: max abs error %.3g\n", what, max_err);
	return ok;
}

static bool t_binary_ops(struct env *e)
{
	for (unsigned int alu = 0; alu < TERN_ALU_COUNT; alu++) {
		struct ew_spec s = { BINARY, alu, 130, 129, TERN_DT_FP32, TERN_DT_FP32,
				     TERN_DT_FP32, 0, 0 };

		if (!ew_case(e, &s))
			return false;
		e->next = 0;
	}
	return true;
}

static bool t_binary_shapes(struct env *e)
{
	static const uint64_t shapes[][2] = { { 1, 1 }, { 7, 13 }, { 128, 1 }, { 300, 2500 },
					      { 3, 5000 } };

	for (unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct ew_spec add = { BINARY, TERN_ALU_ADD, shapes[i][0], shapes[i][1],
				       TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 0, 0 };
		struct ew_spec mul = add;

		mul.op = TERN_ALU_MUL;
		mul.pad = 5;
		if (!ew_case(e, &add) || !ew_case(e, &mul))
			return false;
		e->next = 0;
	}
	return true;
}

static bool t_binary_dtypes(struct env *e)
{
	struct ew_spec s = { BINARY, TERN_ALU_MUL, 129, 131, TERN_DT_BF16, TERN_DT_FP32,
			     TERN_DT_BF16, 0, 0 };
	struct ew_spec t = { BINARY, TERN_ALU_ADD, 64, 300, TERN_DT_BF16, TERN_DT_BF16,
			     TERN_DT_FP32, 2, 0 };

	return ew_case(e, &s) && ew_case(e, &t);
}

static bool t_binary_inplace(struct env *e)
{
	struct ew_spec s = { BINARY, TERN_ALU_ADD, 200, 77, TERN_DT_FP32, TERN_DT_FP32,
			     TERN_DT_FP32, 0, 1 };
	struct ew_spec t = { BINARY, TERN_ALU_SUB, 130, 3000, TERN_DT_FP32, TERN_DT_FP32,
			     TERN_DT_FP32, 1, 2 };

	return ew_case(e, &s) && ew_case(e, &t);
}

static bool t_activations(struct env *e)
{
	for (unsigned int f = 0; f < TERN_ACT_COUNT; f++) {
		struct ew_spec s = { ACT, f, 130, 257, TERN_DT_FP32, 0, TERN_DT_FP32, 0, 0 };

		if (!ew_case(e, &s))
			return false;
		e->next = 0;
	}
	return true;
}

static bool t_relu_gelu_silu_shapes(struct env *e)
{
	static const unsigned int funcs[] = { TERN_ACT_RELU, TERN_ACT_GELU, TERN_ACT_SILU };
	static const uint64_t shapes[][2] = { { 1, 1 }, { 7, 13 }, { 300, 2100 }, { 129, 1 } };

	for (unsigned int i = 0; i < 3; i++) {
		for (unsigned int j = 0; j < sizeof(shapes) / sizeof(shapes[0]); j++) {
			struct ew_spec s = { ACT, funcs[i], shapes[j][0], shapes[j][1], TERN_DT_FP32,
					     0, TERN_DT_FP32, (int64_t)(j & 1) * 4, 0 };

			if (!ew_case(e, &s))
				return false;
			e->next = 0;
		}
	}
	return true;
}

static bool t_activations_bf16(struct env *e)
{
	struct ew_spec s = { ACT, TERN_ACT_GELU, 100, 100, TERN_DT_BF16, 0, TERN_DT_BF16, 0, 0 };
	struct ew_spec t = { ACT, TERN_ACT_SILU, 100, 100, TERN_DT_BF16, 0, TERN_DT_FP32, 0, 0 };
	struct ew_spec u = { ACT, TERN_ACT_RELU, 64, 64, TERN_DT_FP32, 0, TERN_DT_FP32, 0, 1 };

	return ew_case(e, &s) && ew_case(e, &t) && ew_case(e, &u);
}

static bool t_bias(struct env *e)
{
	struct ew_spec s[] = {
		{ BIAS, TERN_ACT_IDENTITY, 130, 257, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 0, 0 },
		{ BIAS, TERN_ACT_RELU, 300, 2500, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 3, 0 },
		{ BIAS, TERN_ACT_GELU, 5, 7, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 0, 0 },
		{ BIAS, TERN_ACT_SILU, 1, 1, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 0, 0 },
		{ BIAS, TERN_ACT_IDENTITY, 200, 64, TERN_DT_BF16, TERN_DT_BF16, TERN_DT_BF16, 0, 0 },
		{ BIAS, TERN_ACT_RELU, 140, 33, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, 0, 1 },
	};

	for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (!ew_case(e, &s[i]))
			return false;
		e->next = 0;
	}
	return true;
}

/* ---- softmax ---- */

static bool sm_case(struct env *e, uint64_t rows, uint64_t cols, unsigned int dtx,
		    unsigned int dto, float scale)
{
	struct tern_tensor x = make_tensor(e, 0, dtx, rows, cols, (int64_t)cols, -scale, scale);
	struct tern_tensor out = make_tensor(e, 1, dto, rows, cols, (int64_t)cols, -1, 1);
	struct tern_program *p;
	double max_err = 0;
	char what[128];
	bool ok;

	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_softmax(p, &out, &x));
	snprintf(what, sizeof(what), "softmax %llux%llu %s->%s, inputs in +-%g",
		 (unsigned long long)rows, (unsigned long long)cols, dt_name(dtx),
		 dt_name(dto), scale);
	ok = env_run(e, p, what);
	tern_prog_free(p);
	CHECK(ok);
	for (uint64_t r = 0; r < rows; r++) {
		double mx = -INFINITY, sum = 0;

		for (uint64_t c = 0; c < cols; c++)
			mx = fmax(mx, tensor_get(e, &x, r, c));
		for (uint64_t c = 0; c < cols; c++)
			sum += exp(tensor_get(e, &x, r, c) - mx);
		for (uint64_t c = 0; c < cols; c++) {
			double ref = exp(tensor_get(e, &x, r, c) - mx) / sum;
			double got = tensor_get(e, &out, r, c), err = fabs(got - ref);
			/* exp, a sum of cols terms and a reciprocal in fp32 */
			double tol = (1e-5 + (double)cols * 6e-8) * ref + dt_eps(dto) * ref * 1.01 +
				     1e-30;

			if (err > max_err)
				max_err = err;
			if (!(err <= tol)) {
				printf("#   %s: out[%llu][%llu] = %.9g, expected %.9g\n", what,
				       (unsigned long long)r, (unsigned long long)c, got, ref);
				return false;
			}
		}
	}
	printf("# %s: max abs error %.3g\n", what, max_err);
	return true;
}

static bool t_softmax(struct env *e)
{
	static const uint64_t shapes[][2] = { { 1, 1 }, { 7, 13 }, { 130, 257 }, { 300, 1000 },
					      { 2, 9000 } };

	for (unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (!sm_case(e, shapes[i][0], shapes[i][1], TERN_DT_FP32, TERN_DT_FP32, 4))
			return false;
		e->next = 0;
	}
	return true;
}

static bool t_softmax_large_values(struct env *e)
{
	/* exp of the raw inputs would overflow: the row maximum must go first */
	return sm_case(e, 129, 100, TERN_DT_FP32, TERN_DT_FP32, 500);
}

static bool t_softmax_bf16(struct env *e)
{
	return sm_case(e, 130, 300, TERN_DT_BF16, TERN_DT_BF16, 4) &&
	       sm_case(e, 50, 70, TERN_DT_BF16, TERN_DT_FP32, 4);
}

/* ---- several ops in one program ---- */

/* Y = softmax(gelu(A . B + bias)) + A . B, each op reading the last one's HBM. */
static bool t_pipeline(struct env *e)
{
	const uint64_t m = 150, k = 96, n = 200;
	struct tern_tensor a = make_tensor(e, 0, TERN_DT_FP32, m, k, k, -1, 1);
	struct tern_tensor b = make_tensor(e, 1, TERN_DT_FP32, k, n, n, -1, 1);
	struct tern_tensor bias = make_tensor(e, 2, TERN_DT_FP32, 1, n, n, -1, 1);
	struct tern_tensor c = make_tensor(e, 3, TERN_DT_FP32, m, n, n, 0, 1);
	struct tern_tensor h = make_tensor(e, 4, TERN_DT_FP32, m, n, n, 0, 1);
	struct tern_tensor y = make_tensor(e, 5, TERN_DT_FP32, m, n, n, 0, 1);
	struct tern_program *p;
	double *g = malloc(m * n * sizeof(double)), *cc = malloc(m * n * sizeof(double));
	double max_err = 0;
	bool ok;

	CHECK(g && cc);
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_matmul(p, &c, &a, &b));
	CHECK_OK(tern_op_bias(p, TERN_ACT_GELU, &h, &c, &bias));
	CHECK_OK(tern_op_softmax(p, &y, &h));
	CHECK_OK(tern_op_add(p, &y, &y, &c));
	ok = env_run(e, p, "matmul, bias+gelu, softmax, add in one program");
	tern_prog_free(p);
	for (uint64_t i = 0; ok && i < m; i++) {
		double mx = -INFINITY, sum = 0;

		for (uint64_t j = 0; j < n; j++) {
			double s = 0;

			for (uint64_t q = 0; q < k; q++)
				s += (double)tensor_get(e, &a, i, q) * tensor_get(e, &b, q, j);
			cc[i * n + j] = s;
			g[i * n + j] = act_ref(TERN_ACT_GELU, s + tensor_get(e, &bias, 0, j));
			mx = fmax(mx, g[i * n + j]);
		}
		for (uint64_t j = 0; j < n; j++)
			sum += exp(g[i * n + j] - mx);
		for (uint64_t j = 0; j < n; j++) {
			double ref = exp(g[i * n + j] - mx) / sum + cc[i * n + j];
			double err = fabs(tensor_get(e, &y, i, j) - ref);

			if (err > max_err)
				max_err = err;
			if (err > 1e-4 * (1 + fabs(ref))) {
				printf("#   Y[%llu][%llu] = %.9g, expected %.9g\n", (unsigned long long)i,
				       (unsigned long long)j, tensor_get(e, &y, i, j), ref);
				ok = false;
				break;
			}
		}
	}
	free(g);
	free(cc);
	if (ok)
		printf("# pipeline: max abs error %.3g\n", max_err);
	return ok;
}

/* ---- errors ---- */

/* An op that fails leaves the program exactly as it was. */
static bool t_op_errors(struct env *e)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, 10, 20);
	struct tern_tensor b = tern_tensor_2d(1, TERN_DT_FP32, 20, 30);
	struct tern_tensor c = tern_tensor_2d(2, TERN_DT_FP32, 10, 30);
	struct tern_tensor bad, x;
	struct tern_program *p;
	const void *img;
	size_t size;

	(void)e;
	CHECK_RET(tern_op_matmul(NULL, &c, &a, &b), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	/* a good op first, so that the failures below have something to keep */
	CHECK_OK(tern_op_matmul(p, &c, &a, &b));
	CHECK_FAILS(tern_op_matmul(p, &c, &a, &a), -EINVAL);		/* K differs */
	bad = c;
	bad.cols = 31;
	CHECK_FAILS(tern_op_matmul(p, &bad, &a, &b), -EINVAL);		/* C's shape */
	bad = c;
	bad.slot = 0;
	CHECK_FAILS(tern_op_matmul(p, &bad, &a, &b), -EINVAL);		/* C overlaps A */
	bad = a;
	bad.dtype = 9;
	CHECK_FAILS(tern_op_matmul(p, &c, &bad, &b), -EINVAL);		/* unknown dtype */
	bad = b;
	bad.slot = TERN_MAX_SLOTS;
	CHECK_FAILS(tern_op_matmul(p, &c, &a, &bad), -EINVAL);		/* bad slot */
	bad = a;
	bad.rows = 0;
	CHECK_FAILS(tern_op_matmul(p, &c, &bad, &b), -EINVAL);		/* empty */
	bad = a;
	bad.row_stride = -20;
	CHECK_FAILS(tern_op_matmul(p, &c, &bad, &b), -EINVAL);		/* before byte 0 */
	bad = a;
	bad.offset = 2;
	CHECK_FAILS(tern_op_matmul(p, &c, &bad, &b), -EINVAL);		/* misaligned */
	CHECK_FAILS(tern_op_matmul(p, NULL, &a, &b), -EINVAL);
	CHECK_FAILS(tern_op_binary(p, TERN_ALU_COUNT, &c, &c, &c), -EINVAL);
	CHECK_FAILS(tern_op_add(p, &c, &a, &a), -EINVAL);		/* shapes */
	x = tern_tensor_2d(2, TERN_DT_FP32, 10, 20);
	bad = x;
	bad.offset = 4;
	CHECK_FAILS(tern_op_add(p, &bad, &a, &x), -EINVAL);		/* partial overlap */
	CHECK_FAILS(tern_op_activation(p, TERN_ACT_COUNT, &a, &a), -EINVAL);
	CHECK_FAILS(tern_op_relu(p, &c, &a), -EINVAL);
	CHECK_FAILS(tern_op_bias(p, TERN_ACT_RELU, &c, &c, &a), -EINVAL);	/* bias shape */
	x = tern_tensor_2d(3, TERN_DT_FP32, 1, 30);
	x.slot = 2;
	CHECK_FAILS(tern_op_bias(p, TERN_ACT_RELU, &c, &c, &x), -EINVAL);	/* out is bias */
	CHECK_FAILS(tern_op_softmax(p, &c, &a), -EINVAL);
	/* a row of 40000 fp32 in three tiles does not fit in 192 KiB per partition */
	x = tern_tensor_2d(0, TERN_DT_FP32, 4, 40000);
	bad = tern_tensor_2d(1, TERN_DT_FP32, 4, 40000);
	CHECK_FAILS(tern_op_softmax(p, &bad, &x), -ENOSPC);
	/* the program still takes ops and finishes */
	CHECK_OK(tern_op_relu(p, &c, &c));
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) == 0);
	CHECK_FAILS(tern_op_relu(p, &c, &c), -EALREADY);
	tern_prog_free(p);
	return true;
}

/* The ops need four semaphores; without them they fail cleanly. */
static bool t_op_no_semaphores(struct env *e)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, 10, 20);
	struct tern_tensor b = tern_tensor_2d(1, TERN_DT_FP32, 10, 20);
	struct tern_program *p;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	for (unsigned int i = 0; i < TERN_NUM_SEMS - 3; i++)
		CHECK_EQ(tern_prog_sem_alloc(p), i);
	CHECK_FAILS(tern_op_relu(p, &b, &a), -ENOSPC);
	CHECK_EQ(tern_prog_sem_alloc(p), TERN_NUM_SEMS - 3);	/* none was kept */
	tern_prog_free(p);
	return true;
}

/* A user's tiles stay theirs: ops plan above them; too little room fails. */
static bool t_op_sbuf_full(struct env *e)
{
	struct tern_tensor a = make_tensor(e, 0, TERN_DT_FP32, 100, 100, 100, -1, 1);
	struct tern_tensor b = make_tensor(e, 1, TERN_DT_FP32, 100, 100, 100, -1, 1);
	struct tern_tensor c = make_tensor(e, 2, TERN_DT_FP32, 100, 100, 100, -1, 1);
	struct tern_program *p;
	struct tern_ap big;
	uint32_t part = e->sbuf_size / TERN_PARTITIONS;

	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	/* leave 1 KiB per partition: not enough for a matmul's tiles */
	CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 128, (part - 1024) / 4, &big));
	CHECK_FAILS(tern_op_matmul(p, &c, &a, &b), -ENOSPC);
	CHECK_FAILS(tern_op_softmax(p, &c, &a), -ENOSPC);
	/* an elementwise op adapts its tiles to what is left */
	CHECK_OK(tern_op_add(p, &c, &a, &b));
	CHECK_EQ(tern_prog_mark(p, TERN_AP_SBUF), (int)(part - 1024));
	CHECK(env_run(e, p, "add in 1 KiB of SBUF per partition"));
	tern_prog_free(p);
	for (unsigned int r = 0; r < 100; r++)
		for (unsigned int k = 0; k < 100; k++)
			CHECK(tensor_get(e, &c, r, k) ==
			      tensor_get(e, &a, r, k) + tensor_get(e, &b, r, k));
	return true;
}

static const struct test_case cases[] = {
	{ "matmul 1x1x1", t_mm_1x1x1, 0 },
	{ "matmul 7x13x5 and 7x5x13", t_mm_7x13x5, 0 },
	{ "matmul 130x129x257", t_mm_130x129x257, 0 },
	{ "matmul 256x512x300", t_mm_256x512x300, 0 },
	{ "matmul 256x300x512", t_mm_256x300x512, 0 },
	{ "matmul exact tiles 128x128x512, 256x256x1024", t_mm_exact_tiles, 0 },
	{ "matmul N over several blocks 129x70x1100", t_mm_wide_n, 0 },
	{ "matmul thin shapes", t_mm_thin, 0 },
	{ "matmul bf16 inputs, fp32 and bf16 outputs", t_mm_bf16, 0 },
	{ "matmul bf16 x fp32", t_mm_mixed, 0 },
	{ "matmul with A column-major (DMA transpose)", t_mm_a_col_major, 0 },
	{ "matmul strided rows", t_mm_strided, 0 },
	{ "matmul K=2100 in a 1 MiB SBUF (A^T streamed)", t_mm_small_sbuf, 1u << 20 },
	{ "elementwise: every alu op", t_binary_ops, 0 },
	{ "elementwise add/mul: odd shapes, strided", t_binary_shapes, 0 },
	{ "elementwise: bf16 and mixed dtypes", t_binary_dtypes, 0 },
	{ "elementwise: output is an input", t_binary_inplace, 0 },
	{ "activation: every function", t_activations, 0 },
	{ "relu, gelu, silu: odd shapes", t_relu_gelu_silu_shapes, 0 },
	{ "activation: bf16, in place", t_activations_bf16, 0 },
	{ "bias add with activation", t_bias, 0 },
	{ "softmax: odd shapes", t_softmax, 0 },
	{ "softmax: large inputs", t_softmax_large_values, 0 },
	{ "softmax: bf16", t_softmax_bf16, 0 },
	{ "four ops in one program", t_pipeline, 0 },
	{ "op errors leave the program unchanged", t_op_errors, 0 },
	{ "op without free semaphores", t_op_no_semaphores, 0 },
	{ "op with little SBUF left", t_op_sbuf_full, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
