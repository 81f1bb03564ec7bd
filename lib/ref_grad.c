// SPDX-License-Identifier: MIT
/*
 * libtern CPU references of the training ops (tern_op_reference(),
 * ref_int.h): activation gradients, the column sum, axpy and the MSE
 * gradient. Inputs read exactly, arithmetic in double, every result
 * rounded once to the output's dtype; all inputs are read before the
 * output is written, so an output in place of an input reads what it was.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ref_int.h"

/* f'(x) of the functions tern_op_act_grad() takes; NaN stays NaN. */
static double act_deriv(unsigned int func, double x)
{
	double s, t;

	if (isnan(x))
		return x;
	switch (func) {
	case TERN_ACT_IDENTITY:
		return 1;
	case TERN_ACT_RELU:
		return x > 0 ? 1 : 0;
	case TERN_ACT_SIGMOID:
		s = ref_act(TERN_ACT_SIGMOID, x);
		return s * (1 - s);
	case TERN_ACT_TANH:
		t = tanh(x);
		return 1 - t * t;
	case TERN_ACT_SILU:
		s = ref_act(TERN_ACT_SIGMOID, x);
		return s * (1 + x * (1 - s));
	}
	return NAN;
}

int ref_grad(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *out = &op->out, *a = &op->in[0], *b = &op->in[1];
	double *res = malloc(out->rows * out->cols * sizeof(*res));

	if (!res)
		return -ENOMEM;
	if (op->kind == TERN_OPKIND_SUM_ROWS) {
		for (uint64_t c = 0; c < a->cols; c++) {
			double sum = 0;

			for (uint64_t r = 0; r < a->rows; r++)
				sum += ref_get(slots, a, r, c);
			res[c] = sum;
		}
	}
	for (uint64_t r = 0; op->kind != TERN_OPKIND_SUM_ROWS && r < out->rows; r++) {
		for (uint64_t c = 0; c < out->cols; c++) {
			double x = ref_get(slots, a, r, c), y = ref_get(slots, b, r, c), v;

			switch (op->kind) {
			case TERN_OPKIND_ACT_GRAD:
				v = x * act_deriv(op->func, y);
				break;
			case TERN_OPKIND_AXPY:
				v = x + (double)op->scale * y;
				break;
			default:	/* MSE_GRAD */
				v = (double)op->scale * (x - y);
				break;
			}
			res[r * out->cols + c] = v;
		}
	}
	for (uint64_t r = 0; r < out->rows; r++)
		for (uint64_t c = 0; c < out->cols; c++)
			ref_set(slots, out, r, c, res[r * out->cols + c]);
	free(res);
	return 0;
}
