/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern compute core, internal: the numeric kernels behind the instructions
 * (tern_kernels.c): dtype conversions, loads and stores of tile rows as
 * fp32, elementwise arithmetic, activation functions, reductions and the
 * blocked matmul. Everything works on fp32 in registers; only the loads
 * and stores see the tile's dtype. Only tern_core.c includes this.
 */
#ifndef TERN_KERNELS_H
#define TERN_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_isa.h"

/* Elements per chunk that the core's row buffers hold. */
#define TK_CHUNK		4096

/* Matmul operands are packed with M and N padded to these multiples. */
#define TK_MM_M_ALIGN		12
#define TK_MM_N_ALIGN		32

/* Make the conversion tables and pick the kernels for this CPU; idempotent. */
void tk_init(void);

/* One value of dtype dt (TERN_DT_*) to and from fp32 (rules: isa.rst). */
float tk_to_f32(const uint8_t *p, unsigned int dt);
void tk_from_f32(uint8_t *p, unsigned int dt, float v);

/*
 * n elements of dtype dt at p, stride elements apart, to fp32 in out; and
 * back, converting with round to nearest even.
 */
void tk_load(float *out, const uint8_t *p, int64_t stride, uint32_t n,
	     unsigned int dt);
void tk_store(uint8_t *p, int64_t stride, const float *in, uint32_t n,
	      unsigned int dt);

/* d[i] = a[i] alu b[i]; d may be a or b. */
void tk_alu(float *d, const float *a, const float *b, uint32_t n,
	    unsigned int alu);
/* d[i] = a[i] alu s, or s alu a[i] if reverse. */
void tk_alu_scalar(float *d, const float *a, float s, bool reverse,
		   uint32_t n, unsigned int alu);
void tk_unary(float *d, const float *a, uint32_t n, unsigned int un);
/* d[i] = act(a[i] * scale + bias) */
void tk_activate(float *d, const float *a, uint32_t n, unsigned int act,
		 float scale, float bias);
/* Fold n values into *acc (TERN_RED_*); NaN in, NaN out. */
void tk_reduce(float *acc, const float *a, uint32_t n, unsigned int red);
float tk_reduce_init(unsigned int red);

/*
 * c[m][n] = sum over k of a[k][m] * b[k][n], in fp32, for m < mp, n < np,
 * k < kn. mp is a multiple of TK_MM_M_ALIGN and np of TK_MM_N_ALIGN; a has
 * rows of lda floats, b and c of ldb and ldc; all three 64-byte aligned
 * with lda, ldb, ldc multiples of 16.
 */
void tk_matmul(float *c, size_t ldc, const float *a, size_t lda,
	       const float *b, size_t ldb, uint32_t mp, uint32_t np,
	       uint32_t kn);

/* Which matmul kernel tk_init() picked ("avx512", "avx2", "generic"). */
const char *tk_matmul_kernel(void);

#endif /* TERN_KERNELS_H */
