// SPDX-License-Identifier: MIT
/*
 * libtern ops for training (tern_ops.h): activation gradients, the
 * column sum of a bias gradient, axpy (the SGD update) and the gradient of
 * a mean squared error. The elementwise ones are computed per tile by the
 * functions below and tiled by ops.c (ops_ew_run()); the column sum plans
 * its own tiles. The scheduler of ops_sched.c adds the semaphores.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "tern_internal.h"
#include "ops_int.h"
#include "ref_int.h"

#define P		TERN_PARTITIONS
#define SR_NB		TERN_MATMUL_MAX_N	/* sum_rows: columns per PSUM block */
#define SR_XRING	3			/* sum_rows: x tiles in flight */
#define RELU_STEP	0x1p100f	/* twice: any x > 0 (even subnormal) reaches >= 1 */

/* ---- activation gradients: dx = dy * f'(x) ---- */

/*
 * f'(x) into tmp[0] (fp32), then dx = dy * tmp[0]: one rounding to dx's
 * dtype at the end. a is dy, b is x.
 */
static int act_grad_tile(struct opctx *o, const struct ops_ew *ew, struct otile *out,
			 struct tern_ap to, struct otile *dy, struct tern_ap tdy, struct otile *x,
			 struct tern_ap tx, struct otile *tmp, const struct tern_ap *tap)
{
	struct otile *d = &tmp[0], *e = &tmp[1];
	struct tern_ap td = tap[0], te = tap[1];
	int ret = 0;

	switch (ew->func) {
	case TERN_ACT_IDENTITY:
		return op_ts(o, TERN_ALU_MUL, out, to, dy, tdy, 1.0f, false);
	case TERN_ACT_RELU:
		/* min(relu(x * 2^100) * 2^100, 1): 1 for x > 0, 0 for x <= 0 */
		ret = op_act(o, TERN_ACT_RELU, d, td, x, tx, RELU_STEP, NULL, td, 0.0f);
		if (!ret)
			ret = op_ts(o, TERN_ALU_MUL, d, td, d, td, RELU_STEP, false);
		if (!ret)
			ret = op_ts(o, TERN_ALU_MIN, d, td, d, td, 1.0f, false);
		break;
	case TERN_ACT_SIGMOID:
		/* s (1 - s) */
		ret = op_act(o, TERN_ACT_SIGMOID, d, td, x, tx, 1.0f, NULL, td, 0.0f);
		if (!ret)
			ret = op_ts(o, TERN_ALU_SUB, e, te, d, td, 1.0f, true);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, d, td, d, td, e, te);
		break;
	case TERN_ACT_TANH:
		/* 1 - t^2 */
		ret = op_act(o, TERN_ACT_TANH, e, te, x, tx, 1.0f, NULL, te, 0.0f);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, e, te, e, te, e, te);
		if (!ret)
			ret = op_ts(o, TERN_ALU_SUB, d, td, e, te, 1.0f, true);
		break;
	case TERN_ACT_SILU:
		/* s (1 + x (1 - s)) */
		ret = op_act(o, TERN_ACT_SIGMOID, d, td, x, tx, 1.0f, NULL, td, 0.0f);
		if (!ret)
			ret = op_ts(o, TERN_ALU_SUB, e, te, d, td, 1.0f, true);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, e, te, e, te, x, tx);
		if (!ret)
			ret = op_ts(o, TERN_ALU_ADD, e, te, e, te, 1.0f, false);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, d, td, d, td, e, te);
		break;
	default:
		return tern_fail(-EINVAL, "%s: no gradient for function %u", o->fn, ew->func);
	}
	return ret ? ret : op_tt(o, TERN_ALU_MUL, out, to, dy, tdy, d, td);
}

bool ops_act_has_grad(unsigned int func)
{
	return func == TERN_ACT_IDENTITY || func == TERN_ACT_RELU || func == TERN_ACT_SIGMOID ||
	       func == TERN_ACT_TANH || func == TERN_ACT_SILU;
}

/* The checks of the elementwise ops: out, a and b of one shape, aliasing as allowed. */
static int ew_check(const char *fn, const struct tern_tensor *out, const char *na,
		    const struct tern_tensor *a, const char *nb, const struct tern_tensor *b)
{
	int ret;

	if ((ret = ops_check_tensor(fn, "out", out)) || (ret = ops_check_tensor(fn, na, a)) ||
	    (ret = ops_check_tensor(fn, nb, b)) ||
	    (ret = ops_check_shape(fn, na, a, out->rows, out->cols)) ||
	    (ret = ops_check_shape(fn, nb, b, out->rows, out->cols)) ||
	    (ret = ops_check_alias(fn, out, na, a)))
		return ret;
	return ops_check_alias(fn, out, nb, b);
}

TERN_EXPORT int tern_op_act_grad(struct tern_program *p, unsigned int func,
				 const struct tern_tensor *dx, const struct tern_tensor *dy,
				 const struct tern_tensor *x)
{
	struct ops_ew ew = { act_grad_tile, 2, func, 0.0f };
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_act_grad");

	if (ret)
		return ret;
	if (func >= TERN_ACT_COUNT)
		ret = tern_fail(-EINVAL, "%s: function %u is not a TERN_ACT_*", o.fn, func);
	else if (!ops_act_has_grad(func))
		ret = tern_fail(-EINVAL, "%s: no gradient for function %u (identity, relu, "
				"sigmoid, tanh and silu have one)", o.fn, func);
	if (!ret && !(ret = ew_check(o.fn, dx, "dy", dy, "x", x)))
		ret = ops_ew_run(&o, &ew, dx, dy, x);
	return op_end(&o, ret);
}

/* ---- axpy and the MSE gradient ---- */

/* out = a + alpha * b: fp32 product in tmp[0], then the fp32 sum. */
static int axpy_tile(struct opctx *o, const struct ops_ew *ew, struct otile *out,
		     struct tern_ap to, struct otile *a, struct tern_ap ta, struct otile *b,
		     struct tern_ap tb, struct otile *tmp, const struct tern_ap *tap)
{
	int ret = op_ts(o, TERN_ALU_MUL, &tmp[0], tap[0], b, tb, ew->scale, false);

	return ret ? ret : op_tt(o, TERN_ALU_ADD, out, to, a, ta, &tmp[0], tap[0]);
}

/* out = scale * (y - t): fp32 difference in tmp[0], then the product. */
static int mse_grad_tile(struct opctx *o, const struct ops_ew *ew, struct otile *out,
			 struct tern_ap to, struct otile *y, struct tern_ap ty, struct otile *t,
			 struct tern_ap tt, struct otile *tmp, const struct tern_ap *tap)
{
	int ret = op_tt(o, TERN_ALU_SUB, &tmp[0], tap[0], y, ty, t, tt);

	return ret ? ret : op_ts(o, TERN_ALU_MUL, out, to, &tmp[0], tap[0], ew->scale, false);
}

static int scaled_op(struct tern_program *p, const char *fn, struct ops_ew *ew,
		     const struct tern_tensor *out, const char *na, const struct tern_tensor *a,
		     const char *nb, const struct tern_tensor *b)
{
	struct opctx o;
	int ret = op_begin(&o, p, fn);

	if (ret)
		return ret;
	if (!isfinite(ew->scale))
		ret = tern_fail(-EINVAL, "%s: %s %g is not finite", fn,
				ew->compute == axpy_tile ? "alpha" : "scale", (double)ew->scale);
	if (!ret && !(ret = ew_check(fn, out, na, a, nb, b)))
		ret = ops_ew_run(&o, ew, out, a, b);
	return op_end(&o, ret);
}

TERN_EXPORT int tern_op_axpy(struct tern_program *p, const struct tern_tensor *out,
			     const struct tern_tensor *a, const struct tern_tensor *b, float alpha)
{
	struct ops_ew ew = { axpy_tile, 1, 0, alpha };

	return scaled_op(p, "tern_op_axpy", &ew, out, "a", a, "b", b);
}

TERN_EXPORT int tern_op_mse_grad(struct tern_program *p, const struct tern_tensor *out,
				 const struct tern_tensor *y, const struct tern_tensor *t,
				 float scale)
{
	struct ops_ew ew = { mse_grad_tile, 1, 0, scale };

	return scaled_op(p, "tern_op_mse_grad", &ew, out, "y", y, "t", t);
}

/* ---- sum over rows ---- */

/*
 * A [np x 1] tile of ones in x's dtype (the matmul's operands share one):
 * the memset is not a scheduled instruction, so it goes between two that
 * are, on the same (in-order) vector engine: the first orders it after
 * earlier users of the bytes, the second publishes it to the tensor engine.
 */
static int sr_ones(struct opctx *o, struct otile *ones, unsigned int np)
{
	struct tern_ap ap = sub(ones, np, 1);
	int ret = op_ts(o, TERN_ALU_MUL, ones, ap, ones, ap, 0.0f, false);

	if (!ret)
		ret = tern_prog_memset(o->p, ap, 1.0f, TERN_SYNC_NONE);
	if (ret >= 0)
		ret = op_ts(o, TERN_ALU_MUL, ones, ap, ones, ap, 1.0f, false);
	return ret < 0 ? ret : 0;
}

static int sum_rows(struct opctx *o, const struct tern_tensor *out, const struct tern_tensor *x)
{
	unsigned int np = min_u32(x->rows, P);
	unsigned int per = SR_XRING * tern_dtype_size(x->dtype) + 2 * tern_dtype_size(out->dtype);
	uint32_t slack = (SR_XRING + 3) * PROG_ALLOC_ALIGN, avail = op_free(o, TERN_AP_SBUF);
	uint32_t nb = min_u32(min_u32(x->cols, SR_NB), avail > slack ? (avail - slack) / per : 0);
	struct otile ones, xr[SR_XRING], ps[2], ot[2];
	struct store_queue sq = { .n = 0 };
	struct tern_hbm_ap h;
	unsigned int xi = 0, k = 0;
	int ret;

	/* blocks of up to 512 columns, fewer if the SBUF left is short */
	if (!nb)
		return ops_no_space(o, "a column sum's tiles");
	ret = op_tile(o, &ones, TERN_AP_SBUF, x->dtype, np, 1);
	for (unsigned int i = 0; i < SR_XRING && !ret; i++)
		ret = op_tile(o, &xr[i], TERN_AP_SBUF, x->dtype, np, nb);
	for (unsigned int i = 0; i < 2 && !ret; i++)
		ret = op_tile(o, &ot[i], TERN_AP_SBUF, out->dtype, 1, nb);
	for (unsigned int i = 0; i < 2 && !ret; i++)
		ret = op_tile(o, &ps[i], TERN_AP_PSUM, TERN_DT_FP32, 1, nb);
	if (ret == -ENOSPC)
		return ops_no_space(o, "a column sum's tiles");
	if (!ret)
		ret = sr_ones(o, &ones, np);
	for (uint64_t c0 = 0; c0 < x->cols && !ret; c0 += nb) {
		uint32_t cb = min_u32(x->cols - c0, nb);
		struct otile *pt = &ps[k % 2], *t = &ot[k % 2];

		k++;
		for (uint64_t r0 = 0; r0 < x->rows && !ret; r0 += P) {
			uint32_t rb = min_u32(x->rows - r0, P);
			struct otile *xt = &xr[xi++ % SR_XRING];

			ret = tern_tensor_block(x, r0, c0, rb, cb, &h);
			if (!ret)
				ret = op_load(o, xt, sub(xt, rb, cb), &h);
			/* the last block's store goes behind this block's first load */
			if (!ret && r0 == 0)
				ret = ops_sq_drain(o, &sq, 0);
			if (!ret)
				ret = op_matmul(o, pt, sub(pt, 1, cb), &ones, sub(&ones, rb, 1), xt,
						sub(xt, rb, cb), r0 > 0);
		}
		if (!ret)
			ret = op_evacuate(o, t, sub(t, 1, cb), pt, sub(pt, 1, cb));
		if (!ret)
			ret = tern_tensor_block(out, 0, c0, 1, cb, &h);
		if (!ret)
			ret = ops_sq_push(o, &sq, t, sub(t, 1, cb), &h);
	}
	return ret ? ret : ops_sq_drain(o, &sq, 0);
}

TERN_EXPORT int tern_op_sum_rows(struct tern_program *p, const struct tern_tensor *out,
				 const struct tern_tensor *x)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_sum_rows");

	if (ret)
		return ret;
	if (!(ret = ops_check_tensor(o.fn, "out", out)) && !(ret = ops_check_tensor(o.fn, "x", x)) &&
	    !(ret = ops_check_shape(o.fn, "out", out, 1, x->cols))) {
		if (ops_overlaps(out, x))
			ret = tern_fail(-EINVAL, "%s: out overlaps x in slot %" PRIu32, o.fn,
					out->slot);
		else
			ret = sum_rows(&o, out, x);
	}
	return op_end(&o, ret);
}
