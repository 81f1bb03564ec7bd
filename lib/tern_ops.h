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

#ifdef __cplusplus
}
#endif

#endif /* TERN_OPS_H */
