// SPDX-License-Identifier: MIT
/*
 * libtern ops as data: struct tern_op checked, emitted into a program
 * (tern_op_emit()), run on a device through the program cache
 * (tern_op_run()), and the tolerance the device's result is held to
 * against the CPU reference of ref.c (tern_op_tolerance()).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ref_int.h"
#include "tern_internal.h"

/*
 * What each kind takes: its name, its inputs' names (the optional ones
 * last) and the range of nin.
 */
static const struct op_kind {
	const char *name;
	const char *in[3];
	unsigned int min_in, max_in;
} kinds[TERN_OPKIND_COUNT] = {
	[TERN_OPKIND_MATMUL] = { "matmul", { "a", "b" }, 2, 2 },
	[TERN_OPKIND_BINARY] = { "binary", { "a", "b" }, 2, 2 },
	[TERN_OPKIND_BIAS] = { "bias", { "x", "bias" }, 2, 2 },
	[TERN_OPKIND_ACTIVATION] = { "activation", { "x" }, 1, 1 },
	[TERN_OPKIND_SOFTMAX] = { "softmax", { "x" }, 1, 1 },
	[TERN_OPKIND_LAYERNORM] = { "layernorm", { "x", "gamma", "beta" }, 1, 3 },
	[TERN_OPKIND_RMSNORM] = { "rmsnorm", { "x", "gamma" }, 1, 2 },
	[TERN_OPKIND_TRANSPOSE] = { "transpose", { "x" }, 1, 1 },
	[TERN_OPKIND_ATTENTION] = { "attention", { "q", "k", "v" }, 3, 3 },
	[TERN_OPKIND_ACT_GRAD] = { "act_grad", { "dy", "x" }, 2, 2 },
	[TERN_OPKIND_SUM_ROWS] = { "sum_rows", { "x" }, 1, 1 },
	[TERN_OPKIND_AXPY] = { "axpy", { "a", "b" }, 2, 2 },
	[TERN_OPKIND_MSE_GRAD] = { "mse_grad", { "y", "t" }, 2, 2 },
};

TERN_EXPORT const char *tern_op_name(unsigned int kind)
{
	return kind && kind < TERN_OPKIND_COUNT ? kinds[kind].name : NULL;
}

const char *tern_op_tensor_name(const struct tern_op *op, unsigned int i)
{
	return i ? kinds[op->kind].in[i - 1] : "out";
}

static int check_shape(const char *fn, const struct tern_op *op, unsigned int i, uint64_t rows,
		       uint64_t cols)
{
	const struct tern_tensor *t = i ? &op->in[i - 1] : &op->out;

	if (t->rows != rows || t->cols != cols)
		return tern_fail(-EINVAL, "%s: %s %s is %llux%llu, must be %llux%llu", fn,
				 kinds[op->kind].name, tern_op_tensor_name(op, i),
				 (unsigned long long)t->rows, (unsigned long long)t->cols,
				 (unsigned long long)rows, (unsigned long long)cols);
	return 0;
}

/* The shapes @op's kind needs, given its output's (or, for matmul, its inputs'). */
static int check_shapes(const char *fn, const struct tern_op *op)
{
	const struct tern_tensor *o = &op->out, *in = op->in;
	int ret = 0;

	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		if (in[0].cols != in[1].rows)
			return tern_fail(-EINVAL, "%s: matmul a is %llux%llu and b %llux%llu: K differs",
					 fn, (unsigned long long)in[0].rows,
					 (unsigned long long)in[0].cols, (unsigned long long)in[1].rows,
					 (unsigned long long)in[1].cols);
		return check_shape(fn, op, 0, in[0].rows, in[1].cols);
	case TERN_OPKIND_BINARY:
	case TERN_OPKIND_ACT_GRAD:
	case TERN_OPKIND_AXPY:
	case TERN_OPKIND_MSE_GRAD:
		ret = check_shape(fn, op, 2, o->rows, o->cols);
		break;
	case TERN_OPKIND_SUM_ROWS:
		return check_shape(fn, op, 0, 1, in[0].cols);
	case TERN_OPKIND_BIAS:
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		/* gamma, beta and bias are rows of the output's width */
		for (unsigned int i = 2; i <= op->nin && !ret; i++)
			ret = check_shape(fn, op, i, 1, o->cols);
		break;
	case TERN_OPKIND_TRANSPOSE:
		return check_shape(fn, op, 1, o->cols, o->rows);
	case TERN_OPKIND_ATTENTION:
		/* out Sq x Dv, q Sq x D, k Sk x D, v Sk x Dv */
		if (!(ret = check_shape(fn, op, 1, o->rows, in[0].cols)) &&
		    !(ret = check_shape(fn, op, 2, in[2].rows, in[0].cols)))
			ret = check_shape(fn, op, 3, in[2].rows, o->cols);
		if (!ret && (op->func & TERN_ATTN_CAUSAL) && o->rows > in[2].rows)
			ret = tern_fail(-EINVAL, "%s: causal attention with %llu queries and %llu keys: needs Sq <= Sk",
					fn, (unsigned long long)o->rows,
					(unsigned long long)in[2].rows);
		return ret;
	}
	if (!ret)
		ret = check_shape(fn, op, 1, o->rows, o->cols);
	return ret;
}

static bool all_zero(const void *p, size_t size)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < size; i++)
		if (b[i])
			return false;
	return true;
}

int tern_op_check(const char *fn, const struct tern_op *op)
{
	const struct op_kind *kd;
	unsigned int func_max;
	char msg[320];
	int ret;

	if (!op)
		return tern_fail(-EINVAL, "%s: op is NULL", fn);
	if (!op->kind || op->kind >= TERN_OPKIND_COUNT)
		return tern_fail(-EINVAL, "%s: kind %u is not a TERN_OPKIND_*", fn, op->kind);
	kd = &kinds[op->kind];
	if (op->nin < kd->min_in || op->nin > kd->max_in)
		return tern_fail(-EINVAL, "%s: %s takes %u..%u inputs, nin is %u", fn, kd->name,
				 kd->min_in, kd->max_in, op->nin);
	if (op->pad || !all_zero(&op->in[op->nin], (3 - op->nin) * sizeof(op->in[0])))
		return tern_fail(-EINVAL, "%s: %s: pad and the unused inputs must be zero", fn,
				 kd->name);

	func_max = op->kind == TERN_OPKIND_BINARY ? TERN_ALU_COUNT - 1 :
		   op->kind == TERN_OPKIND_BIAS || op->kind == TERN_OPKIND_ACTIVATION ||
		   op->kind == TERN_OPKIND_ACT_GRAD ?
		   TERN_ACT_COUNT - 1 :
		   op->kind == TERN_OPKIND_ATTENTION ? TERN_ATTN_CAUSAL : 0;
	if (op->func > func_max || (op->kind == TERN_OPKIND_ATTENTION && op->func & ~TERN_ATTN_CAUSAL))
		return tern_fail(-EINVAL, "%s: %s: func %u is not %s", fn, kd->name, op->func,
				 op->kind == TERN_OPKIND_BINARY ? "a TERN_ALU_*" :
				 func_max == TERN_ACT_COUNT - 1 ? "a TERN_ACT_*" :
				 op->kind == TERN_OPKIND_ATTENTION ? "0 or TERN_ATTN_CAUSAL" : "0");
	if (op->kind == TERN_OPKIND_ACT_GRAD && !ops_act_has_grad(op->func))
		return tern_fail(-EINVAL, "%s: act_grad: no gradient for function %u (identity, "
				 "relu, sigmoid, tanh and silu have one)", fn, op->func);
	if (op->kind == TERN_OPKIND_LAYERNORM || op->kind == TERN_OPKIND_RMSNORM) {
		if (!(op->eps >= 0) || isinf(op->eps))
			return tern_fail(-EINVAL, "%s: %s: eps %g is not a finite value >= 0", fn,
					 kd->name, (double)op->eps);
	} else if (op->eps != 0 || signbit(op->eps)) {
		return tern_fail(-EINVAL, "%s: %s: eps must be zero", fn, kd->name);
	}
	if (op->kind == TERN_OPKIND_ATTENTION || op->kind == TERN_OPKIND_AXPY ||
	    op->kind == TERN_OPKIND_MSE_GRAD) {
		if (!isfinite(op->scale))
			return tern_fail(-EINVAL, "%s: %s: scale %g is not finite", fn, kd->name,
					 (double)op->scale);
	} else if (op->scale != 0 || signbit(op->scale)) {
		return tern_fail(-EINVAL, "%s: %s: scale must be zero", fn, kd->name);
	}

	for (unsigned int i = 0; i <= op->nin; i++) {
		ret = tern_tensor_check(i ? &op->in[i - 1] : &op->out);
		if (ret) {
			snprintf(msg, sizeof(msg), "%s", tern_last_error());
			return tern_fail(ret, "%s: %s %s: %s", fn, kd->name,
					 tern_op_tensor_name(op, i), msg);
		}
	}
	return check_shapes(fn, op);
}

TERN_EXPORT int tern_op_emit(struct tern_program *prog, const struct tern_op *op)
{
	const struct tern_tensor *in = op ? op->in : NULL;
	int ret;

	if (!prog)
		return tern_fail(-EINVAL, "tern_op_emit: prog is NULL");
	ret = tern_op_check("tern_op_emit", op);
	if (ret)
		return ret;
	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		return tern_op_matmul(prog, &op->out, &in[0], &in[1]);
	case TERN_OPKIND_BINARY:
		return tern_op_binary(prog, op->func, &op->out, &in[0], &in[1]);
	case TERN_OPKIND_BIAS:
		return tern_op_bias(prog, op->func, &op->out, &in[0], &in[1]);
	case TERN_OPKIND_ACTIVATION:
		return tern_op_activation(prog, op->func, &op->out, &in[0]);
	case TERN_OPKIND_SOFTMAX:
		return tern_op_softmax(prog, &op->out, &in[0]);
	case TERN_OPKIND_LAYERNORM:
		return tern_op_layernorm(prog, &op->out, &in[0], op->nin > 1 ? &in[1] : NULL,
					 op->nin > 2 ? &in[2] : NULL, op->eps);
	case TERN_OPKIND_RMSNORM:
		return tern_op_rmsnorm(prog, &op->out, &in[0], op->nin > 1 ? &in[1] : NULL,
				       op->eps);
	case TERN_OPKIND_TRANSPOSE:
		return tern_op_transpose(prog, &op->out, &in[0]);
	case TERN_OPKIND_ATTENTION:
		return tern_op_attention(prog, &op->out, &in[0], &in[1], &in[2], op->scale,
					 op->func);
	case TERN_OPKIND_ACT_GRAD:
		return tern_op_act_grad(prog, op->func, &op->out, &in[0], &in[1]);
	case TERN_OPKIND_SUM_ROWS:
		return tern_op_sum_rows(prog, &op->out, &in[0]);
	case TERN_OPKIND_AXPY:
		return tern_op_axpy(prog, &op->out, &in[0], &in[1], op->scale);
	case TERN_OPKIND_MSE_GRAD:
		return tern_op_mse_grad(prog, &op->out, &in[0], &in[1], op->scale);
	}
	return tern_fail(-EINVAL, "tern_op_emit: kind %u", op->kind);
}

/* ---- tolerance ---- */

/* Unit roundoff of a dtype: half the spacing of its values at 1. */
static double unit_roundoff(unsigned int dtype)
{
	switch (dtype) {
	case TERN_DT_BF16:
		return 0x1p-8;
	case TERN_DT_FP16:
		return 0x1p-11;
	case TERN_DT_FP8_E4M3:
		return 0x1p-4;
	case TERN_DT_FP8_E5M2:
		return 0x1p-3;
	}
	return 0x1p-24;
}

/* Smallest positive value of a dtype: the spacing of its values near 0. */
static double smallest(unsigned int dtype)
{
	switch (dtype) {
	case TERN_DT_BF16:
		return 0x1p-133;
	case TERN_DT_FP16:
		return 0x1p-24;
	case TERN_DT_FP8_E4M3:
		return 0x1p-9;
	case TERN_DT_FP8_E5M2:
		return 0x1p-16;
	}
	return 0x1p-149;
}

/*
 * The largest |f(x)| and |f'(x)| of activation @func for |x| <= @r,
 * measured on the reference in steps of r / 1024. LOG, SQRT, RSQRT and
 * RECIPROCAL are unbounded (or NaN) near and below 0: for them only
 * 1/2 <= x <= r counts (RECIPROCAL is odd: its negative side is the same).
 */
static void act_bounds(unsigned int func, double r, double *fb, double *db)
{
	bool near0 = func == TERN_ACT_LOG || func == TERN_ACT_SQRT || func == TERN_ACT_RSQRT ||
		     func == TERN_ACT_RECIPROCAL;
	double lo = near0 ? 0.5 : -r, h = r / 1024, prev = 0;

	*fb = 0;
	*db = 0;
	for (double x = lo; x <= r; x += h) {
		double y = ref_act(func, x);

		if (fabs(y) > *fb)
			*fb = fabs(y);
		if (x > lo && fabs(y - prev) / h > *db)
			*db = fabs(y - prev) / h;
		prev = y;
	}
	/* finite differences see the slope of a chord: a little less than the most */
	*db *= 1.1;
}

/*
 * tern_op_tolerance() - the bound, for inputs uniform in [-1, 1]:
 *
 *	tol = M * (2 u_out + (16 + 4 sqrt(N)) u_32) + I + s_out
 *
 * u_out is the output dtype's unit roundoff, u_32 = 2^-24 (the core works
 * in fp32), N the reduction's length, M a bound on |output|, I the
 * roundings of intermediate values, s_out the output dtype's smallest
 * positive value (its subnormal spacing).
 *
 * 2 u_out M: the device's fp32 result and the exact one may round to
 * neighbouring values of the output dtype, up to 2 u |y| apart. The fp32
 * term: a few ulp of the math library and conversions, and the rounding
 * errors of a sum of N terms, which grow like a random walk (sqrt(N)), not
 * like the worst case (N). M, N and I per kind are below and in
 * Documentation/runtime.rst ("Ops as data").
 */
TERN_EXPORT double tern_op_tolerance(const struct tern_op *op)
{
	double uo, ui = 0, u = 0x1p-24, m, n = 1, inter = 0, fbound, dbound;

	if (tern_op_check("tern_op_tolerance", op))
		return -1;
	uo = unit_roundoff(op->out.dtype);
	for (unsigned int i = 0; i < op->nin; i++)
		ui = fmax(ui, unit_roundoff(op->in[i].dtype));

	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		/* sums of K products of [-1, 1]: 1.5 sqrt(K) is 4.5 standard deviations */
		n = (double)op->in[0].cols;
		m = 1.5 * sqrt(n);
		break;
	case TERN_OPKIND_BINARY:
		/* DIV: for divisors of magnitude >= 1/2 */
		m = op->func == TERN_ALU_ADD || op->func == TERN_ALU_SUB ||
		    op->func == TERN_ALU_DIV ? 2 : 1;
		break;
	case TERN_OPKIND_BIAS:
		/* x + bias in [-2, 2] is rounded to the output's dtype, then f is applied */
		act_bounds(op->func, 2, &fbound, &dbound);
		m = fbound;
		inter = op->func == TERN_ACT_IDENTITY ? 0 : 2 * uo * 2 * dbound;
		break;
	case TERN_OPKIND_ACTIVATION:
		act_bounds(op->func, 1, &fbound, &dbound);
		m = fbound;
		break;
	case TERN_OPKIND_SOFTMAX:
		/* each exp(x - max) is in [e^-2, 1]: outputs are at most e^2 / cols */
		n = (double)op->out.cols;
		m = fmin(1, exp(2) / n);
		break;
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		/*
		 * A normalised value is at most sqrt(cols) (and, for uniform
		 * inputs, not beyond 4), times gamma, plus beta; intermediate
		 * values may be rounded once to an input's or the output's dtype.
		 */
		n = (double)op->out.cols;
		m = fmin(sqrt(n), 4) + (op->kind == TERN_OPKIND_LAYERNORM && op->nin == 3 ? 1 : 0);
		inter = 2 * fmax(ui, uo) * m;
		/*
		 * Layer norm: the fp32 rounding of the mean (up to u |mean| <= u)
		 * is divided by sqrt(var + eps), which for a row of nearly equal
		 * values is sqrt(eps): short rows get there (eps 0: at most u^-1/2).
		 */
		if (op->kind == TERN_OPKIND_LAYERNORM)
			inter += 2 * u / fmax(sqrt((double)op->eps), sqrt(u));
		break;
	case TERN_OPKIND_TRANSPOSE:
		/* one conversion, the same on both sides */
		return 0;
	case TERN_OPKIND_ATTENTION: {
		/*
		 * Outputs are weighted means of V: at most 1. A score is a dot
		 * product of D terms, bounded like a matmul's and scaled; an error
		 * in the scores moves the weights by as much, relatively (twice:
		 * the row's maximum is subtracted). P = exp(score - max) goes into
		 * the second matmul at V's precision, at least bf16's.
		 */
		double d = (double)op->in[0].cols;
		double ds = fabs(op->scale) * 1.5 * sqrt(d) * (16 + 4 * sqrt(d)) * u;
		double up = op->in[2].dtype == TERN_DT_FP32 ? u :
			    fmin(unit_roundoff(op->in[2].dtype), 0x1p-8);

		n = (double)op->in[1].rows;
		m = 1;
		inter = 2 * up + 2 * ds;
		break;
	}
	case TERN_OPKIND_ACT_GRAD:
		/*
		 * dy in [-1, 1] times a derivative of at most 1 on [-1, 1],
		 * computed in a few fp32 steps of values up to 2.
		 */
		m = 1;
		inter = 8 * u;
		break;
	case TERN_OPKIND_SUM_ROWS:
		/* a matmul of a row of ones by x: K = rows */
		n = (double)op->in[0].rows;
		m = 1.5 * sqrt(n);
		break;
	case TERN_OPKIND_AXPY:
		/* a + alpha b: two fp32 roundings of values up to 1 + |alpha| */
		m = 1 + fabs(op->scale);
		break;
	case TERN_OPKIND_MSE_GRAD:
		m = 2 * fabs(op->scale);
		break;
	default:
		return -1;
	}
	return m * (2 * uo + (16 + 4 * sqrt(n)) * u) + inter + smallest(op->out.dtype);
}

/* ---- running ---- */

/* The cache key of an op: its bytes and the SBUF size it was planned for. */
struct op_key {
	unsigned char bytes[sizeof(struct tern_op) + sizeof(uint32_t)];
};

static int build_op(struct tern_program *prog, void *arg)
{
	return tern_op_emit(prog, arg);
}

TERN_EXPORT int tern_op_run(struct tern_device *dev, int core, const struct tern_op *op,
			    struct tern_buffer *const *slots, unsigned int nslots,
			    struct tern_launch_status *status)
{
	static const char fn[] = "tern_op_run";
	struct tern_kernel *k;
	struct op_key key;
	uint32_t sbuf;
	int ret;

	if (!dev)
		return tern_fail(-EINVAL, "%s: device is NULL", fn);
	ret = tern_op_check(fn, op);
	if (ret)
		return ret;
	/* before the cache builds anything */
	if (core != TERN_CORE_ANY && (core < 0 || (unsigned int)core >= dev->hw.num_cores))
		return tern_fail(-EINVAL, "%s: core %d outside 0..%u of %s", fn, core,
				 dev->hw.num_cores - 1, dev->node);
	if (!slots && nslots)
		return tern_fail(-EINVAL, "%s: slots is NULL", fn);
	for (unsigned int i = 0; i <= op->nin; i++) {
		const struct tern_tensor *t = i ? &op->in[i - 1] : &op->out;
		struct tern_buffer *b = t->slot < nslots ? slots[t->slot] : NULL;

		if (!b)
			return tern_fail(-EINVAL, "%s: %s %s is in slot %u, which has no buffer", fn,
					 tern_op_name(op->kind), tern_op_tensor_name(op, i), t->slot);
		if (tern_tensor_span(t) > b->size)
			return tern_fail(-EINVAL,
					 "%s: %s %s reaches byte %llu of slot %u, whose buffer has %llu",
					 fn, tern_op_name(op->kind), tern_op_tensor_name(op, i),
					 (unsigned long long)tern_tensor_span(t), t->slot,
					 (unsigned long long)b->size);
	}

	sbuf = (uint32_t)dev->hw.sbuf_size;
	memcpy(key.bytes, op, sizeof(*op));
	memcpy(key.bytes + sizeof(*op), &sbuf, sizeof(sbuf));
	ret = tern_kernel_cached(dev, key.bytes, sizeof(key.bytes), build_op, (void *)op, &k);
	if (ret)
		return ret;
	/* A profiling session names the launch after the op. */
	tern_prof_launch_name = tern_op_name(op->kind);
	ret = tern_launch(dev, k, core, slots, nslots, status);
	tern_prof_launch_name = NULL;
	return ret;
}
