/* SPDX-License-Identifier: MIT */
/*
 * libtern ops: whole operations on tensors in HBM, added to a program
 * (tern_program.h) as instructions for all four engines.
 *
 * Each function checks its tensors, plans its tiles in the SBUF and PSUM
 * left free by the program's tern_prog_alloc() tiles, and appends the
 * instructions: DMA loads into rings of tiles, compute on the tensor,
 * vector and scalar engines, DMA stores. The engines overlap (the DMA
 * engine loads the next tiles while the others compute) and synchronise
 * through four semaphores the ops take from the program on first use (one
 * per engine, which each engine signals after each of its instructions):
 * every tile is read only after the write it needs and rewritten only
 * after its reads, so nothing races. Operations added one after another
 * to the same program run in that order as far as their data goes: a
 * later one may read what an earlier one wrote to HBM. Their tiles are
 * given back when each call returns.
 *
 * Tensors are struct tern_tensor: a buffer slot, dtype, shape and strides.
 * All dtypes work; arithmetic is in fp32 and results are rounded to the
 * output's dtype. An output must not overlap an input, except that an
 * elementwise output may be exactly one of its inputs (same slot, offset,
 * dtype and strides).
 *
 * Return values as in tern_program.h: 0 or a negative error code, with
 * tern_last_error() saying what was wrong; a failed call leaves the
 * program as it was. -ENOSPC: the operation's tiles do not fit in the
 * free SBUF or PSUM, or no semaphores are left.
 *
 * Hand-written instructions that use SBUF or PSUM beyond the program's
 * tern_prog_alloc() tiles must be synchronised with the ops by the caller.
 */
#ifndef TERN_OPS_H
#define TERN_OPS_H

#include "tern_program.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * tern_op_matmul() - C = A . B
 * @prog: the program
 * @c: the result, M x N
 * @a: M x K
 * @b: K x N
 *
 * Any M, N and K. The product is computed in blocks of 128 x 512 outputs
 * over blocks of K of 128, summed in fp32 in PSUM. The stationary operand
 * A^T is made on chip by the tensor engine's TRANSPOSE when A is row-major
 * (col_stride 1); any other layout is read transposed by the DMA (fastest
 * when A^T is row-major, i.e. A's row_stride is 1). The A^T blocks of one
 * block row of C stay in SBUF while B streams through, and all of B stays
 * too when it fits.
 */
int tern_op_matmul(struct tern_program *prog, const struct tern_tensor *c,
		   const struct tern_tensor *a, const struct tern_tensor *b);

/**
 * tern_op_binary() - out = a alu b, elementwise
 * @prog: the program
 * @alu: TERN_ALU_ADD, _SUB, _MUL, _DIV, _MAX, _MIN
 * @out: the result
 * @a: left operand, same shape as @out
 * @b: right operand, same shape
 */
int tern_op_binary(struct tern_program *prog, unsigned int alu, const struct tern_tensor *out,
		   const struct tern_tensor *a, const struct tern_tensor *b);

/** tern_op_add() - out = a + b, elementwise. */
static inline int tern_op_add(struct tern_program *prog, const struct tern_tensor *out,
			      const struct tern_tensor *a, const struct tern_tensor *b)
{
	return tern_op_binary(prog, TERN_ALU_ADD, out, a, b);
}

/** tern_op_mul() - out = a * b, elementwise. */
static inline int tern_op_mul(struct tern_program *prog, const struct tern_tensor *out,
			      const struct tern_tensor *a, const struct tern_tensor *b)
{
	return tern_op_binary(prog, TERN_ALU_MUL, out, a, b);
}

/**
 * tern_op_bias() - out[r][c] = func(x[r][c] + bias[c])
 * @prog: the program
 * @func: TERN_ACT_* applied after the addition (TERN_ACT_IDENTITY: none)
 * @out: the result, rows x cols
 * @x: the input, rows x cols
 * @bias: a 1 x cols tensor, added to every row
 */
int tern_op_bias(struct tern_program *prog, unsigned int func, const struct tern_tensor *out,
		 const struct tern_tensor *x, const struct tern_tensor *bias);

/**
 * tern_op_activation() - out = func(x), elementwise, on the scalar engine
 * @prog: the program
 * @func: TERN_ACT_*
 * @out: the result
 * @x: the input, same shape
 */
int tern_op_activation(struct tern_program *prog, unsigned int func,
		       const struct tern_tensor *out, const struct tern_tensor *x);

/** tern_op_relu() - out = max(x, 0). */
static inline int tern_op_relu(struct tern_program *prog, const struct tern_tensor *out,
			       const struct tern_tensor *x)
{
	return tern_op_activation(prog, TERN_ACT_RELU, out, x);
}

/** tern_op_gelu() - out = x * Phi(x) (the erf form). */
static inline int tern_op_gelu(struct tern_program *prog, const struct tern_tensor *out,
			       const struct tern_tensor *x)
{
	return tern_op_activation(prog, TERN_ACT_GELU, out, x);
}

/** tern_op_silu() - out = x * sigmoid(x). */
static inline int tern_op_silu(struct tern_program *prog, const struct tern_tensor *out,
			       const struct tern_tensor *x)
{
	return tern_op_activation(prog, TERN_ACT_SILU, out, x);
}

/**
 * tern_op_softmax() - softmax of each row
 * @prog: the program
 * @out: the result, rows x cols
 * @x: the input, same shape
 *
 * out[r][c] = exp(x[r][c] - m) / sum over c' of exp(x[r][c'] - m), m the
 * row's maximum. A tile holds 128 whole rows: -ENOSPC if a row does not
 * fit in the free SBUF.
 */
int tern_op_softmax(struct tern_program *prog, const struct tern_tensor *out,
		    const struct tern_tensor *x);

/**
 * tern_op_layernorm() - layer normalisation of each row
 * @prog: the program
 * @out: the result, rows x cols
 * @x: the input, same shape
 * @gamma: 1 x cols scale, or NULL for none
 * @beta: 1 x cols shift, or NULL for none (only with @gamma)
 * @eps: added to the variance, >= 0
 *
 * out[r][c] = (x[r][c] - mean_r) / sqrt(var_r + eps) * gamma[c] + beta[c],
 * with the mean and the (biased) variance of row r. -ENOSPC if a row does
 * not fit in the free SBUF.
 */
int tern_op_layernorm(struct tern_program *prog, const struct tern_tensor *out,
		      const struct tern_tensor *x, const struct tern_tensor *gamma,
		      const struct tern_tensor *beta, float eps);

/**
 * tern_op_rmsnorm() - RMS normalisation of each row
 * @prog: the program
 * @out: the result, rows x cols
 * @x: the input, same shape
 * @gamma: 1 x cols scale, or NULL for none
 * @eps: added to the mean square, >= 0
 *
 * out[r][c] = x[r][c] / sqrt(mean over c' of x[r][c']^2 + eps) * gamma[c].
 */
int tern_op_rmsnorm(struct tern_program *prog, const struct tern_tensor *out,
		    const struct tern_tensor *x, const struct tern_tensor *gamma, float eps);

/**
 * tern_op_transpose() - out = x^T
 * @prog: the program
 * @out: the result, cols x rows of @x (its dtype may differ: values are
 *	converted)
 * @x: the input
 *
 * Through the tensor engine's TRANSPOSE in blocks of 128 x 128, so both
 * tensors are read and written along their rows.
 */
int tern_op_transpose(struct tern_program *prog, const struct tern_tensor *out,
		      const struct tern_tensor *x);

/* ---- Training: matmuls with transposed operands, gradients, updates ---- */

/**
 * tern_op_matmul_at() - C = A^T . B (e.g. dW = X^T . dY)
 * @prog: the program
 * @c: the result, M x N
 * @a: K x M: its transpose is used
 * @b: K x N
 *
 * tern_op_matmul() of the view tern_tensor_t(*@a): no copy is made. With
 * @a row-major, that view has row_stride 1, the layout the tensor engine
 * takes without a TRANSPOSE (see tern_op_matmul()). As data, a
 * TERN_OPKIND_MATMUL whose in[0] is tern_tensor_t(a).
 */
static inline int tern_op_matmul_at(struct tern_program *prog, const struct tern_tensor *c,
				    const struct tern_tensor *a, const struct tern_tensor *b)
{
	struct tern_tensor at = tern_tensor_t(*a);

	return tern_op_matmul(prog, c, &at, b);
}

/**
 * tern_op_matmul_bt() - C = A . B^T (e.g. dX = dY . W^T)
 * @prog: the program
 * @c: the result, M x N
 * @a: M x K
 * @b: N x K: its transpose is used
 *
 * tern_op_matmul() of the view tern_tensor_t(*@b): the DMA reads B^T's
 * blocks with a column stride. As data, a TERN_OPKIND_MATMUL whose in[1]
 * is tern_tensor_t(b).
 */
static inline int tern_op_matmul_bt(struct tern_program *prog, const struct tern_tensor *c,
				    const struct tern_tensor *a, const struct tern_tensor *b)
{
	struct tern_tensor bt = tern_tensor_t(*b);

	return tern_op_matmul(prog, c, a, &bt);
}

/**
 * tern_op_act_grad() - dx = dy * func'(x), elementwise
 * @prog: the program
 * @func: TERN_ACT_IDENTITY, _RELU, _SIGMOID, _TANH or _SILU (-EINVAL for
 *	the others)
 * @dx: the result
 * @dy: the gradient of the activation's output, same shape
 * @x: the activation's input, same shape
 *
 * The backward pass of tern_op_activation() (and, with @x the sum x +
 * bias, of tern_op_bias()). The derivative is computed in fp32: relu' is
 * 1 for x > 0, else 0; sigmoid' = s (1 - s); tanh' = 1 - t^2; silu' =
 * s (1 + x (1 - s)), s = sigmoid(x), t = tanh(x). @dx may be @dy or @x in
 * place.
 */
int tern_op_act_grad(struct tern_program *prog, unsigned int func, const struct tern_tensor *dx,
		     const struct tern_tensor *dy, const struct tern_tensor *x);

/**
 * tern_op_sum_rows() - out[0][c] = sum over r of x[r][c]
 * @prog: the program
 * @out: the result, 1 x cols
 * @x: rows x cols
 *
 * The column reduction of a bias gradient (db = the sum of dY over the
 * batch). On the tensor engine: a row of ones times x, 128 rows at a time,
 * summed in fp32 in PSUM.
 */
int tern_op_sum_rows(struct tern_program *prog, const struct tern_tensor *out,
		     const struct tern_tensor *x);

/**
 * tern_op_axpy() - out = a + alpha * b, elementwise
 * @prog: the program
 * @out: the result (may be @a in place)
 * @a: same shape as @out
 * @b: same shape
 * @alpha: a finite scalar
 *
 * Computed as fl32(a + fl32(alpha * b)): the product is rounded to fp32,
 * then the sum, then the result to @out's dtype, so a CPU can repeat it bit
 * for bit with the same two fp32 operations (see tern_op_sgd()).
 */
int tern_op_axpy(struct tern_program *prog, const struct tern_tensor *out,
		 const struct tern_tensor *a, const struct tern_tensor *b, float alpha);

/** tern_op_sgd() - w = w - lr * g in place: tern_op_axpy(w, w, g, -lr). */
static inline int tern_op_sgd(struct tern_program *prog, const struct tern_tensor *w,
			      const struct tern_tensor *g, float lr)
{
	return tern_op_axpy(prog, w, w, g, -lr);
}

/**
 * tern_op_mse_grad() - out = scale * (y - t), elementwise
 * @prog: the program
 * @out: the result
 * @y: the prediction
 * @t: the target, same shape
 * @scale: a finite scalar; 2 / (number of elements) makes @out the gradient
 *	of the mean squared error mean((y - t)^2) with respect to @y
 *
 * Computed as fl32(scale * fl32(y - t)), then rounded to @out's dtype.
 */
int tern_op_mse_grad(struct tern_program *prog, const struct tern_tensor *out,
		     const struct tern_tensor *y, const struct tern_tensor *t, float scale);

/* Flags of tern_op_attention(). */
/** Query i sees keys 0..i + (Sk - Sq) only (needs Sq <= Sk). */
#define TERN_ATTN_CAUSAL	(1u << 0)

/**
 * tern_op_attention() - one attention head: out = softmax(scale . Q K^T) V
 * @prog: the program
 * @out: the result, Sq x Dv
 * @q: queries, Sq x D
 * @k: keys, Sk x D
 * @v: values, Sk x Dv
 * @scale: multiplies Q K^T before the softmax (usually 1 / sqrt(D))
 * @flags: 0 or TERN_ATTN_CAUSAL
 *
 * Fused on chip: the scores of 128 queries at a time stay in SBUF/PSUM,
 * never in HBM. Heads of a multi-head layer are column slices of wider
 * tensors (offset and row_stride), one call per head. -ENOSPC when a
 * block of scores (128 x Sk) does not fit in the free SBUF.
 */
int tern_op_attention(struct tern_program *prog, const struct tern_tensor *out,
		      const struct tern_tensor *q, const struct tern_tensor *k,
		      const struct tern_tensor *v, float scale, unsigned int flags);

/* ---- Whole operations as data: build, run, check ---- */

/* Kinds of struct tern_op. */
#define TERN_OPKIND_MATMUL		1	/* in: a, b */
#define TERN_OPKIND_BINARY		2	/* in: a, b; func: TERN_ALU_* */
#define TERN_OPKIND_BIAS		3	/* in: x, bias; func: TERN_ACT_* */
#define TERN_OPKIND_ACTIVATION	4	/* in: x; func: TERN_ACT_* */
#define TERN_OPKIND_SOFTMAX		5	/* in: x */
#define TERN_OPKIND_LAYERNORM	6	/* in: x [, gamma [, beta]]; eps */
#define TERN_OPKIND_RMSNORM		7	/* in: x [, gamma]; eps */
#define TERN_OPKIND_TRANSPOSE	8	/* in: x */
#define TERN_OPKIND_ATTENTION	9	/* in: q, k, v; scale; func: TERN_ATTN_* */
#define TERN_OPKIND_ACT_GRAD	10	/* in: dy, x; func: TERN_ACT_* */
#define TERN_OPKIND_SUM_ROWS	11	/* in: x */
#define TERN_OPKIND_AXPY		12	/* in: a, b; scale: alpha */
#define TERN_OPKIND_MSE_GRAD	13	/* in: y, t; scale */
#define TERN_OPKIND_COUNT		14	/* 0 is not an op */

/**
 * struct tern_op - one operation and its tensors, as data
 * @kind: TERN_OPKIND_*
 * @func: the ALU op, activation or flags, as listed for @kind (else 0)
 * @nin: inputs used in @in, as listed for @kind
 * @eps: LAYERNORM, RMSNORM (else 0)
 * @scale: ATTENTION, AXPY (alpha), MSE_GRAD (else 0)
 * @pad: must be zero
 * @out: the result
 * @in: the inputs, in the order listed for @kind; unused entries zero
 *
 * The same operation as the tern_op_*() function of its kind, in a form
 * that can be kept, compared and hashed: two equal structures (all bytes,
 * so zero it before filling it) are the same program.
 */
struct tern_op {
	uint32_t kind;
	uint32_t func;
	uint32_t nin;
	float eps;
	float scale;
	uint32_t pad;
	struct tern_tensor out;
	struct tern_tensor in[3];
};

/** tern_op_name() - "matmul", "softmax", ... for TERN_OPKIND_*; NULL if unknown. */
const char *tern_op_name(unsigned int kind);

/**
 * tern_op_emit() - add an operation to a program
 * @prog: the program
 * @op: the operation
 *
 * Calls the tern_op_*() function of @op->kind. Return: as that function,
 * or -EINVAL for a bad kind, input count or non-zero padding.
 */
int tern_op_emit(struct tern_program *prog, const struct tern_op *op);

/**
 * tern_op_run() - run one operation on a device and wait for it
 * @dev: the device
 * @core: 0..num_cores-1, or TERN_CORE_ANY
 * @op: the operation
 * @slots: the device buffer of each slot the tensors use
 * @nslots: entries in @slots
 * @status: receives the launch status (modeled and wall time), may be NULL
 *
 * The program is built once per distinct @op (tern_kernel_cached()), so
 * running the same shapes again launches at once.
 *
 * Return: as tern_op_emit() and tern_launch(); -EINVAL also when a tensor
 * does not fit in its slot's buffer.
 */
int tern_op_run(struct tern_device *dev, int core, const struct tern_op *op,
		struct tern_buffer *const *slots, unsigned int nslots,
		struct tern_launch_status *status);

/**
 * tern_op_reference() - compute an operation on the CPU
 * @op: the operation
 * @slots: host memory of each slot (the bytes the device buffers would
 *	hold); the output tensor's elements are written, nothing else
 * @sizes: bytes at each of @slots
 * @nslots: entries in @slots and @sizes
 *
 * The reference the device is checked against: inputs read exactly, the
 * arithmetic in double, the result rounded once to the output's dtype
 * (tern_value_set()).
 *
 * Return: 0, or -EINVAL for a bad operation or a tensor outside its slot.
 */
int tern_op_reference(const struct tern_op *op, void *const *slots, const uint64_t *sizes,
		      unsigned int nslots);

/**
 * tern_op_tolerance() - largest acceptable |device - reference|
 * @op: the operation
 *
 * For inputs drawn uniformly from [-1, 1]: from the dtypes of the inputs
 * and output (their unit roundoff) and the length of the reductions the
 * operation does (K of a matmul, the row length of a norm or softmax).
 * What tern-run and the tests check against.
 *
 * Return: the bound, or a negative value for a bad operation.
 */
double tern_op_tolerance(const struct tern_op *op);

#ifdef __cplusplus
}
#endif

#endif /* TERN_OPS_H */
