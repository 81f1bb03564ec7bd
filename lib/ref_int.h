/* SPDX-License-Identifier: MIT */
/*
 * libtern internals of the CPU references (tern_op_reference()): element
 * access shared by ref.c (matmul, elementwise, bias, activations, softmax,
 * the dispatch), ref_nn.c (norms, transpose, attention) and ref_grad.c
 * (the training ops); not installed.
 *
 * tern_op_reference() checks the operation (kind, inputs, every tensor
 * inside its slot) before it calls one of the ref_*() below, which may
 * therefore read and write any element of the op's tensors.
 */
#ifndef TERN_REF_INT_H
#define TERN_REF_INT_H

#include "tern_ops.h"

/* Element (r, c) of tensor t in the slots, exactly, as a double. */
double ref_get(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c);
/* Writes v, rounded once to t's dtype, as element (r, c). */
void ref_set(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c, double v);
/* The activation function TERN_ACT_* applied to x, in double. */
double ref_act(unsigned int func, double x);

/* One per kind; return 0 or -ENOMEM. */
int ref_layernorm(const struct tern_op *op, void *const *slots);
int ref_rmsnorm(const struct tern_op *op, void *const *slots);
int ref_transpose(const struct tern_op *op, void *const *slots);
int ref_attention(const struct tern_op *op, void *const *slots);
/* ref_grad.c: ACT_GRAD, SUM_ROWS, AXPY, MSE_GRAD. */
int ref_grad(const struct tern_op *op, void *const *slots);

/* Whether tern_op_act_grad() knows the derivative of TERN_ACT_* @func (ops_grad.c). */
bool ops_act_has_grad(unsigned int func);

#endif /* TERN_REF_INT_H */
