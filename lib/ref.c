// SPDX-License-Identifier: MIT
/*
 * libtern CPU references: tern_op_reference() and the references of
 * matmul, the elementwise ops, bias, activations and softmax (ref_nn.c
 * has the norms, transpose and attention).
 *
 * A reference is what the device is checked against, so it is simple
 * rather than fast and more exact than the device: every input element is
 * read exactly (tern_value_get()), the arithmetic is in double, and each
 * result is rounded once to the output's dtype. Results are computed into
 * a temporary array and written at the end, so an output that overlaps an
 * input (which the ops refuse, except elementwise in place) cannot change
 * what is read.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_int.h"
#include "tern_dtype.h"
#include "tern_internal.h"

/* Address of element (r, c); the tensor was checked to lie in its slot. */
static uint8_t *elem(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	int64_t i = (int64_t)r * t->row_stride + (int64_t)c * t->col_stride;

	return (uint8_t *)slots[t->slot] + (int64_t)t->offset +
	       i * (int64_t)tern_dtype_size(t->dtype);
}

double ref_get(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	return tern_value_get(t->dtype, elem(slots, t, r, c));
}

/*
 * @v rounded to a float "to odd": truncated, with the last bit set if
 * anything was cut off. Rounding that float to nearest even into a format
 * of at most 22 significant bits gives what rounding @v there directly
 * would: the odd last bit stands for everything below it, so a true tie
 * stays a tie and a near tie never becomes one. (Rounding @v to the
 * nearest float first could land exactly on a tie of the narrow format.)
 */
static float to_float_odd(double v)
{
	float f = (float)v;

	if (isnan(v) || (double)f == v)
		return f;
	/* f is one of the two floats around v (or inf beyond FLT_MAX): take the odd one */
	if (!(tern_f32_bits(f) & 1))
		f = nextafterf(f, v > (double)f ? INFINITY : -INFINITY);
	return f;
}

void ref_set(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c, double v)
{
	uint8_t *p = elem(slots, t, r, c);

	if (t->dtype == TERN_DT_FP32)
		tern_value_set(t->dtype, p, (float)v);
	else
		tern_value_set(t->dtype, p, to_float_odd(v));
}

static double sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

double ref_act(unsigned int func, double x)
{
	/* x * (something -> 0) at -inf is 0, not NaN: as isa.rst says */
	bool ninf = isinf(x) && x < 0;

	switch (func) {
	case TERN_ACT_IDENTITY:
		return x;
	case TERN_ACT_RELU:
		return x > 0 || isnan(x) ? x : 0.0;
	case TERN_ACT_GELU:
		return ninf ? 0.0 : isinf(x) ? x : 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
	case TERN_ACT_GELU_TANH:
		return ninf ? 0.0 : isinf(x) ? x :
		       0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
	case TERN_ACT_SILU:
		return ninf ? 0.0 : isinf(x) ? x : x * sigmoid(x);
	case TERN_ACT_SIGMOID:
		return sigmoid(x);
	case TERN_ACT_TANH:
		return tanh(x);
	case TERN_ACT_EXP:
		return exp(x);
	case TERN_ACT_LOG:
		return log(x);
	case TERN_ACT_SQRT:
		return sqrt(x);
	case TERN_ACT_RSQRT:
		return 1.0 / sqrt(x);
	case TERN_ACT_RECIPROCAL:
		return 1.0 / x;
	}
	return NAN;
}

/* ---- results through a temporary array ---- */

static double *result_alloc(const struct tern_tensor *out)
{
	return malloc(out->rows * out->cols * sizeof(double));
}

static void result_store(void *const *slots, const struct tern_tensor *out, double *res)
{
	for (uint64_t r = 0; r < out->rows; r++)
		for (uint64_t c = 0; c < out->cols; c++)
			ref_set(slots, out, r, c, res[r * out->cols + c]);
	free(res);
}

/* A tensor's elements as a dense row-major array of doubles. */
static double *load(void *const *slots, const struct tern_tensor *t)
{
	double *d = malloc(t->rows * t->cols * sizeof(double));

	if (!d)
		return NULL;
	for (uint64_t r = 0; r < t->rows; r++)
		for (uint64_t c = 0; c < t->cols; c++)
			d[r * t->cols + c] = ref_get(slots, t, r, c);
	return d;
}

/* ---- the references ---- */

static int ref_matmul(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *out = &op->out;
	uint64_t m = out->rows, n = out->cols, k = op->in[0].cols;
	double *a = load(slots, &op->in[0]), *b = load(slots, &op->in[1]);
	double *res = calloc(m * n, sizeof(double));

	if (!a || !b || !res) {
		free(a);
		free(b);
		free(res);
		return -ENOMEM;
	}
	/* i, q, j: the inner loop runs along rows of b and res */
	for (uint64_t i = 0; i < m; i++) {
		double *ri = res + i * n;

		for (uint64_t q = 0; q < k; q++) {
			double aiq = a[i * k + q];
			const double *bq = b + q * n;

			for (uint64_t j = 0; j < n; j++)
				ri[j] += aiq * bq[j];
		}
	}
	free(a);
	free(b);
	result_store(slots, out, res);
	return 0;
}

static double alu(unsigned int op, double a, double b)
{
	switch (op) {
	case TERN_ALU_ADD:
		return a + b;
	case TERN_ALU_SUB:
		return a - b;
	case TERN_ALU_MUL:
		return a * b;
	case TERN_ALU_DIV:
		return a / b;
	case TERN_ALU_MAX:
		return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
	case TERN_ALU_MIN:
		return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
	}
	return NAN;
}

/* BINARY, BIAS and ACTIVATION: one result per element. */
static int ref_elementwise(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *out = &op->out;
	double *res = result_alloc(out);

	if (!res)
		return -ENOMEM;
	for (uint64_t r = 0; r < out->rows; r++) {
		for (uint64_t c = 0; c < out->cols; c++) {
			double x = ref_get(slots, &op->in[0], r, c), y;

			switch (op->kind) {
			case TERN_OPKIND_BINARY:
				y = alu(op->func, x, ref_get(slots, &op->in[1], r, c));
				break;
			case TERN_OPKIND_BIAS:
				y = ref_act(op->func, x + ref_get(slots, &op->in[1], 0, c));
				break;
			default:
				y = ref_act(op->func, x);
				break;
			}
			res[r * out->cols + c] = y;
		}
	}
	result_store(slots, out, res);
	return 0;
}

static int ref_softmax(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *out = &op->out;
	double *x = load(slots, &op->in[0]);

	if (!x)
		return -ENOMEM;
	for (uint64_t r = 0; r < out->rows; r++) {
		double *row = x + r * out->cols, m = -INFINITY, sum = 0;

		for (uint64_t c = 0; c < out->cols; c++)
			m = isnan(row[c]) || row[c] > m ? row[c] : m;
		for (uint64_t c = 0; c < out->cols; c++) {
			row[c] = exp(row[c] - m);
			sum += row[c];
		}
		for (uint64_t c = 0; c < out->cols; c++)
			row[c] /= sum;
	}
	result_store(slots, out, x);
	return 0;
}

TERN_EXPORT int tern_op_reference(const struct tern_op *op, void *const *slots,
				  const uint64_t *sizes, unsigned int nslots)
{
	static const char fn[] = "tern_op_reference";
	const struct tern_tensor *t;
	int ret;

	if (!op || !slots || !sizes)
		return tern_fail(-EINVAL, "%s: NULL argument", fn);
	ret = tern_op_check(fn, op);
	if (ret)
		return ret;
	for (unsigned int i = 0; i <= op->nin; i++) {
		t = i ? &op->in[i - 1] : &op->out;
		if (t->slot >= nslots || !slots[t->slot])
			return tern_fail(-EINVAL, "%s: %s %s is in slot %u, but %s", fn,
					 tern_op_name(op->kind), tern_op_tensor_name(op, i),
					 t->slot, t->slot >= nslots ? "there are fewer slots" :
					 "that slot is NULL");
		if (tern_tensor_span(t) > sizes[t->slot])
			return tern_fail(-EINVAL,
					 "%s: %s %s reaches byte %llu of slot %u, which has %llu",
					 fn, tern_op_name(op->kind), tern_op_tensor_name(op, i),
					 (unsigned long long)tern_tensor_span(t), t->slot,
					 (unsigned long long)sizes[t->slot]);
	}

	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		ret = ref_matmul(op, slots);
		break;
	case TERN_OPKIND_BINARY:
	case TERN_OPKIND_BIAS:
	case TERN_OPKIND_ACTIVATION:
		ret = ref_elementwise(op, slots);
		break;
	case TERN_OPKIND_SOFTMAX:
		ret = ref_softmax(op, slots);
		break;
	case TERN_OPKIND_LAYERNORM:
		ret = ref_layernorm(op, slots);
		break;
	case TERN_OPKIND_RMSNORM:
		ret = ref_rmsnorm(op, slots);
		break;
	case TERN_OPKIND_TRANSPOSE:
		ret = ref_transpose(op, slots);
		break;
	case TERN_OPKIND_ATTENTION:
		ret = ref_attention(op, slots);
		break;
	case TERN_OPKIND_ACT_GRAD:
	case TERN_OPKIND_SUM_ROWS:
	case TERN_OPKIND_AXPY:
	case TERN_OPKIND_MSE_GRAD:
		ret = ref_grad(op, slots);
		break;
	}
	if (ret)
		return tern_fail(ret, "%s: %s: out of memory", fn, tern_op_name(op->kind));
	return 0;
}
