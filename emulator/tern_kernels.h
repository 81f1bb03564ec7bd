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

/* Bounds on the panel widths of every matmul kernel (tk_mm_widths()). */
#define TK_MM_MAX_MR		8
#define TK_MM_MAX_NR		64

/*
 * Make the conversion tables and pick the kernels for this CPU (or for
 * the ISA level TERN_CORE_ISA names, if the CPU has it); idempotent.
 */
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

/* d[j][i] = s[i][j] for i < rows, j < cols; rows ldd and lds floats apart. */
void tk_transpose(float *d, size_t ldd, const float *s, size_t lds,
		  uint32_t rows, uint32_t cols);

/*
 * A matmul operand [kn][n]: element [k][j] of the tile whose columns start
 * at j0 (a multiple of the kernel's panel width) is at
 * p + j0 * jstep + k * kstep + (j - j0), counted in elements of dtype
 * (TERN_DT_FP32 or TERN_DT_BF16). Rows where they are in SBUF have
 * jstep 1 and kstep the partition pitch; packed panels (tk_mm_pack()) have
 * jstep kn and kstep the panel width. The kernel reads whole vectors: up
 * to a panel width of elements past the end of a row must be readable.
 */
struct tk_mm_operand {
	const void *p;
	unsigned int dtype;
	size_t kstep, jstep;
};

/*
 * Panel widths for packing, as the kernel picked for this CPU wants them:
 * mr for A (the stationary operand), nr for B (the moving one).
 */
void tk_mm_widths(uint32_t *mr, uint32_t *nr);

/*
 * Pack row k (n floats at row) of a kn-row operand into panels: column j
 * goes to panel j / width, which holds kn rows of width floats; columns
 * past n in the last panel are zero.
 */
void tk_mm_pack(float *panels, uint32_t width, uint32_t kn, uint32_t k,
		const float *row, uint32_t n);

/*
 * c[i][j] (+)= sum over k < kn of a[k][i] * b[k][j] for i < m, j < n, in
 * fp32, a and b of the same dtype: c's rows are ldc floats apart and
 * nothing else of c is touched. With accumulate the sum starts from c's
 * values, else from zero.
 */
void tk_matmul(float *c, size_t ldc, const struct tk_mm_operand *a,
	       const struct tk_mm_operand *b, uint32_t m, uint32_t n,
	       uint32_t kn, bool accumulate);

/*
 * Which kernels tk_init() picked for this CPU: "avx512", "avx2" or
 * "generic" (TERN_CORE_ISA in the environment picks a lesser one).
 */
const char *tk_kernels_name(void);

#endif /* TERN_KERNELS_H */
