// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern compute core: numeric kernels. dtype conversions (round to nearest
 * even, documented in Documentation/chip/isa.rst), row loads and stores,
 * elementwise arithmetic, activations, reductions, a blocked transpose,
 * and a register-tiled fp32 matmul written with GCC vector extensions
 * that reads fp32 and bf16 operands where they are. On x86-64 the matmul
 * and the bf16 row conversions are compiled for AVX-512, AVX2+FMA and the
 * baseline, and the best set for the CPU is picked at run time.
 */
#include "tern_kernels.h"
#include "tern_dtype.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/*
 * Elementwise code uses 16-byte vectors: the baseline x86-64 ISA has no
 * wider ones, and wider vector arguments would change the calling ABI.
 */
typedef float vf4 __attribute__((vector_size(16)));
typedef int32_t vi4 __attribute__((vector_size(16)));
typedef uint32_t vu8 __attribute__((vector_size(32)));
typedef uint16_t vh8 __attribute__((vector_size(16)));

/* ---- dtype conversions: the scalar ones are include/tern_dtype.h's ---- */

static float fp16_table[65536];
static float e4m3_table[256];
static float e5m2_table[256];

float tk_to_f32(const uint8_t *p, unsigned int dt)
{
	uint16_t h;
	float f;

	switch (dt) {
	case TERN_DT_FP32:
		memcpy(&f, p, 4);
		return f;
	case TERN_DT_BF16:
		memcpy(&h, p, 2);
		return tern_f32_from_bits(tern_bf16_to_f32(h));
	case TERN_DT_FP16:
		memcpy(&h, p, 2);
		return fp16_table[h];
	case TERN_DT_FP8_E4M3:
		return e4m3_table[*p];
	case TERN_DT_FP8_E5M2:
		return e5m2_table[*p];
	}
	return 0.0f;
}

void tk_from_f32(uint8_t *p, unsigned int dt, float v)
{
	tern_dtype_from_f32(p, dt, v);
}

/*
 * Contiguous bf16 rows to and from fp32, as many elements as the vector
 * code does (the rest is left to the scalar loop): the baseline versions
 * here, faster ones for AVX-512 with the matmul kernels below.
 */
static uint32_t bf16_load_vec(float *out, const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		vh8 h;
		vu8 w;

		memcpy(&h, p + 2 * i, sizeof(h));
		w = __builtin_convertvector(h, vu8) << 16;
		memcpy(out + i, &w, sizeof(w));
	}
	return i;
}

static uint32_t bf16_store_vec(uint8_t *p, const float *in, uint32_t n)
{
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		vu8 u, r, nanv, m;
		vh8 h;

		memcpy(&u, in + i, sizeof(u));
		m = (vu8)((u & 0x7fffffffu) > 0x7f800000u);
		r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
		nanv = ((u >> 16) & 0x8000u) | 0x7fc0u;
		r = (r & ~m) | (nanv & m);
		h = __builtin_convertvector(r, vh8);
		memcpy(p + 2 * i, &h, sizeof(h));
	}
	return i;
}

static uint32_t (*bf16_load)(float *out, const uint8_t *p, uint32_t n) =
	bf16_load_vec;
static uint32_t (*bf16_store)(uint8_t *p, const float *in, uint32_t n) =
	bf16_store_vec;

void tk_load(float *out, const uint8_t *p, int64_t stride, uint32_t n,
	     unsigned int dt)
{
	int64_t step = stride * (int64_t)tern_dtype_size(dt);
	uint32_t i = 0;

	if (stride == 1 && dt == TERN_DT_FP32) {
		memcpy(out, p, (size_t)n * 4);
		return;
	}
	if (stride == 1 && dt == TERN_DT_BF16)
		i = bf16_load(out, p, n);
	for (; i < n; i++)
		out[i] = tk_to_f32(p + (int64_t)i * step, dt);
}

void tk_store(uint8_t *p, int64_t stride, const float *in, uint32_t n,
	      unsigned int dt)
{
	int64_t step = stride * (int64_t)tern_dtype_size(dt);
	uint32_t i = 0;

	if (stride == 1 && dt == TERN_DT_FP32) {
		memcpy(p, in, (size_t)n * 4);
		return;
	}
	if (stride == 1 && dt == TERN_DT_BF16)
		i = bf16_store(p, in, n);
	for (; i < n; i++)
		tk_from_f32(p + (int64_t)i * step, dt, in[i]);
}

/* ---- elementwise ---- */

static inline float max_nan(float a, float b)
{
	if (a != a || b != b)
		return a + b;	/* NaN */
	return a > b ? a : b;
}

static inline float min_nan(float a, float b)
{
	if (a != a || b != b)
		return a + b;
	return a < b ? a : b;
}

static inline vf4 vsel(vi4 m, vf4 a, vf4 b)
{
	return (vf4)(((vi4)a & m) | ((vi4)b & ~m));
}

static inline vf4 vmax_nan(vf4 a, vf4 b)
{
	return vsel((a != a) | (b != b), a + b, vsel(a > b, a, b));
}

static inline vf4 vmin_nan(vf4 a, vf4 b)
{
	return vsel((a != a) | (b != b), a + b, vsel(a < b, a, b));
}

static inline float alu1(float a, float b, unsigned int alu)
{
	switch (alu) {
	case TERN_ALU_ADD: return a + b;
	case TERN_ALU_SUB: return a - b;
	case TERN_ALU_MUL: return a * b;
	case TERN_ALU_DIV: return a / b;
	case TERN_ALU_MAX: return max_nan(a, b);
	default: return min_nan(a, b);
	}
}

static inline vf4 valu(vf4 a, vf4 b, unsigned int alu)
{
	switch (alu) {
	case TERN_ALU_ADD: return a + b;
	case TERN_ALU_SUB: return a - b;
	case TERN_ALU_MUL: return a * b;
	case TERN_ALU_DIV: return a / b;
	case TERN_ALU_MAX: return vmax_nan(a, b);
	default: return vmin_nan(a, b);
	}
}

/* One loop per op so the switch is outside the loop. */
#define ALU_LOOP(OP)							\
	do {								\
		for (; i + 4 <= n; i += 4) {				\
			vf4 x, y;					\
									\
			memcpy(&x, a + i, sizeof(x));			\
			memcpy(&y, b + i, sizeof(y));			\
			x = valu(x, y, OP);				\
			memcpy(d + i, &x, sizeof(x));			\
		}							\
		for (; i < n; i++)					\
			d[i] = alu1(a[i], b[i], OP);			\
	} while (0)

void tk_alu(float *d, const float *a, const float *b, uint32_t n,
	    unsigned int alu)
{
	uint32_t i = 0;

	switch (alu) {
	case TERN_ALU_ADD: ALU_LOOP(TERN_ALU_ADD); break;
	case TERN_ALU_SUB: ALU_LOOP(TERN_ALU_SUB); break;
	case TERN_ALU_MUL: ALU_LOOP(TERN_ALU_MUL); break;
	case TERN_ALU_DIV: ALU_LOOP(TERN_ALU_DIV); break;
	case TERN_ALU_MAX: ALU_LOOP(TERN_ALU_MAX); break;
	case TERN_ALU_MIN: ALU_LOOP(TERN_ALU_MIN); break;
	}
}

#define ALU_SCALAR_LOOP(OP)						\
	do {								\
		vf4 sv = (vf4){ 0 } + s;				\
									\
		for (; i + 4 <= n; i += 4) {				\
			vf4 x;						\
									\
			memcpy(&x, a + i, sizeof(x));			\
			x = reverse ? valu(sv, x, OP) : valu(x, sv, OP); \
			memcpy(d + i, &x, sizeof(x));			\
		}							\
		for (; i < n; i++)					\
			d[i] = reverse ? alu1(s, a[i], OP) :		\
					 alu1(a[i], s, OP);		\
	} while (0)

void tk_alu_scalar(float *d, const float *a, float s, bool reverse,
		   uint32_t n, unsigned int alu)
{
	uint32_t i = 0;

	switch (alu) {
	case TERN_ALU_ADD: ALU_SCALAR_LOOP(TERN_ALU_ADD); break;
	case TERN_ALU_SUB: ALU_SCALAR_LOOP(TERN_ALU_SUB); break;
	case TERN_ALU_MUL: ALU_SCALAR_LOOP(TERN_ALU_MUL); break;
	case TERN_ALU_DIV: ALU_SCALAR_LOOP(TERN_ALU_DIV); break;
	case TERN_ALU_MAX: ALU_SCALAR_LOOP(TERN_ALU_MAX); break;
	case TERN_ALU_MIN: ALU_SCALAR_LOOP(TERN_ALU_MIN); break;
	}
}

void tk_unary(float *d, const float *a, uint32_t n, unsigned int un)
{
	switch (un) {
	case TERN_UN_ABS:
		for (uint32_t i = 0; i < n; i++)
			d[i] = fabsf(a[i]);
		break;
	case TERN_UN_NEG:
		for (uint32_t i = 0; i < n; i++)
			d[i] = -a[i];
		break;
	case TERN_UN_SQUARE:
		for (uint32_t i = 0; i < n; i++)
			d[i] = a[i] * a[i];
		break;
	case TERN_UN_RECIPROCAL:
		for (uint32_t i = 0; i < n; i++)
			d[i] = 1.0f / a[i];
		break;
	}
}

/* ---- activations ---- */

static inline float sigmoid(float y)
{
	return 1.0f / (1.0f + expf(-y));
}

static float act1(float y, unsigned int act)
{
	switch (act) {
	case TERN_ACT_IDENTITY:
		return y;
	case TERN_ACT_RELU:
		return y > 0.0f || y != y ? y : 0.0f;
	case TERN_ACT_GELU:
		if (isinf(y))
			return y > 0 ? y : 0.0f;
		return 0.5f * y * (1.0f + erff(y * 0.70710678118654752f));
	case TERN_ACT_GELU_TANH:
		if (isinf(y))
			return y > 0 ? y : 0.0f;
		return 0.5f * y * (1.0f + tanhf(0.79788456080286536f *
					       (y + 0.044715f * y * y * y)));
	case TERN_ACT_SILU:
		if (isinf(y))
			return y > 0 ? y : 0.0f;
		return y * sigmoid(y);
	case TERN_ACT_SIGMOID:
		return sigmoid(y);
	case TERN_ACT_TANH:
		return tanhf(y);
	case TERN_ACT_EXP:
		return expf(y);
	case TERN_ACT_LOG:
		return logf(y);
	case TERN_ACT_SQRT:
		return sqrtf(y);
	case TERN_ACT_RSQRT:
		return 1.0f / sqrtf(y);
	default:
		return 1.0f / y;
	}
}

void tk_activate(float *d, const float *a, uint32_t n, unsigned int act,
		 float scale, float bias)
{
	uint32_t i = 0;

	if (act == TERN_ACT_IDENTITY || act == TERN_ACT_RELU) {
		vf4 sv = (vf4){ 0 } + scale, bv = (vf4){ 0 } + bias;

		for (; i + 4 <= n; i += 4) {
			vf4 x;

			memcpy(&x, a + i, sizeof(x));
			x = x * sv + bv;
			if (act == TERN_ACT_RELU)
				x = vsel((x > 0.0f) | (x != x), x,
					 (vf4){ 0 });
			memcpy(d + i, &x, sizeof(x));
		}
	}
	for (; i < n; i++)
		d[i] = act1(a[i] * scale + bias, act);
}

/* ---- reductions ---- */

float tk_reduce_init(unsigned int red)
{
	return red == TERN_RED_SUM ? 0.0f :
	       red == TERN_RED_MAX ? -INFINITY : INFINITY;
}

void tk_reduce(float *acc, const float *a, uint32_t n, unsigned int red)
{
	vf4 v = (vf4){ 0 } + tk_reduce_init(red);
	float r = *acc;
	uint32_t i = 0;

	for (; i + 4 <= n; i += 4) {
		vf4 x;

		memcpy(&x, a + i, sizeof(x));
		v = red == TERN_RED_SUM ? v + x :
		    red == TERN_RED_MAX ? vmax_nan(v, x) : vmin_nan(v, x);
	}
	for (unsigned int j = 0; j < 4; j++)
		r = red == TERN_RED_SUM ? r + v[j] :
		    red == TERN_RED_MAX ? max_nan(r, v[j]) : min_nan(r, v[j]);
	for (; i < n; i++)
		r = red == TERN_RED_SUM ? r + a[i] :
		    red == TERN_RED_MAX ? max_nan(r, a[i]) : min_nan(r, a[i]);
	*acc = r;
}

/* ---- transpose ---- */

void tk_transpose(float *d, size_t ldd, const float *s, size_t lds,
		  uint32_t rows, uint32_t cols)
{
	const vi4 lo = { 0, 4, 1, 5 }, hi = { 2, 6, 3, 7 };
	const vi4 first = { 0, 1, 4, 5 }, second = { 2, 3, 6, 7 };
	uint32_t i = 0, j;

	/* 4 x 4 blocks: two rounds of interleaving turn rows into columns */
	for (; i + 4 <= rows; i += 4) {
		for (j = 0; j + 4 <= cols; j += 4) {
			vf4 r[4], t[4], o[4];

			for (uint32_t q = 0; q < 4; q++)
				memcpy(&r[q], s + (i + q) * lds + j,
				       sizeof(vf4));
			t[0] = __builtin_shuffle(r[0], r[1], lo);
			t[1] = __builtin_shuffle(r[0], r[1], hi);
			t[2] = __builtin_shuffle(r[2], r[3], lo);
			t[3] = __builtin_shuffle(r[2], r[3], hi);
			o[0] = __builtin_shuffle(t[0], t[2], first);
			o[1] = __builtin_shuffle(t[0], t[2], second);
			o[2] = __builtin_shuffle(t[1], t[3], first);
			o[3] = __builtin_shuffle(t[1], t[3], second);
			for (uint32_t q = 0; q < 4; q++)
				memcpy(d + (j + q) * ldd + i, &o[q],
				       sizeof(vf4));
		}
		for (; j < cols; j++)
			for (uint32_t q = 0; q < 4; q++)
				d[j * ldd + i + q] = s[(i + q) * lds + j];
	}
	for (; i < rows; i++)
		for (j = 0; j < cols; j++)
			d[j * ldd + i] = s[i * lds + j];
}

/* ---- matmul ---- */

/*
 * C (+)= A^T B with A [k][m] and B [k][n] read where they are: each k is a
 * rank-1 update, so a register tile of MR rows x NV vectors of C
 * accumulates across the whole contraction (k <= 128) while, per k, NV
 * vectors of B are loaded (LOADB; widened from bf16 on the fly when ET is
 * uint16_t) and MR values of A broadcast (BCASTA). C is walked in panels
 * of VL x NV columns, m within each, so a panel of B (at most 128 rows of
 * 64 floats, 32 KiB) stays in L1 while A streams from L2; while one panel
 * is computed, the next one's rows are prefetched a few at a time. Tiles
 * at the right and bottom edges of C load and store only the columns and
 * rows that exist (the operands' rows are read in whole vectors: the
 * caller leaves room after them). MR and NV are chosen per ISA to fill the
 * vector registers.
 */
#define DEFINE_MATMUL(NAME, ATTR, VT, VL, MR, NV, ET, BCASTA, LOADB)	\
ATTR static void NAME(float *c, size_t ldc,				\
		      const struct tk_mm_operand *a,			\
		      const struct tk_mm_operand *b, uint32_t m,	\
		      uint32_t n, uint32_t kn, bool accumulate)		\
{									\
	const uint32_t nr = (VL) * (NV);				\
	uint32_t mtiles = (m + (MR) - 1) / (MR);			\
									\
	for (uint32_t n0 = 0; n0 < n; n0 += nr) {			\
		const ET *bpanel = (const ET *)b->p + n0 * b->jstep;	\
		uint32_t nw = n - n0, tile = 0, pfrow = 0;		\
		struct mm_next next = {					\
			nw > nr ? (const uint8_t *)(bpanel +		\
						    nr * b->jstep) : NULL, \
			b->kstep * sizeof(ET),				\
			nw > nr ? kn : 0,				\
			(nw - nr < nr ? nw - nr : nr) * (uint32_t)sizeof(ET) \
		};							\
									\
		for (uint32_t m0 = 0; m0 < m; m0 += (MR)) {		\
			uint32_t mh = m - m0 < (MR) ? m - m0 : (MR);	\
			bool full = mh == (MR) && nw >= nr;		\
			const ET *ak = (const ET *)a->p + m0 * a->jstep; \
			const ET *bk = bpanel;				\
			float *ct = c + m0 * ldc + n0;			\
			VT acc[MR][NV];					\
									\
			pfrow = mm_prefetch(&next, pfrow, ++tile, mtiles); \
			_Pragma("GCC unroll 16")			\
			for (uint32_t i = 0; i < (MR); i++) {		\
				_Pragma("GCC unroll 4")			\
				for (uint32_t v = 0; v < (NV); v++) {	\
					VT x = { 0 };			\
									\
					if (accumulate && full)		\
						memcpy(&x, ct + i * ldc + \
						       v * (VL), sizeof(x)); \
					else if (accumulate)		\
						mm_edge_load(&x, ct, ldc, i, \
							     v * (VL), mh, nw, \
							     VL);	\
					acc[i][v] = x;			\
				}					\
			}						\
			for (uint32_t k = 0; k < kn; k++) {		\
				VT bv[NV];				\
									\
				_Pragma("GCC unroll 4")			\
				for (uint32_t v = 0; v < (NV); v++)	\
					bv[v] = LOADB(bk + v * (VL));	\
				_Pragma("GCC unroll 16")		\
				for (uint32_t i = 0; i < (MR); i++) {	\
					VT av = BCASTA(ak + i);	\
					_Pragma("GCC unroll 4")		\
					for (uint32_t v = 0; v < (NV); v++) \
						acc[i][v] += av * bv[v]; \
				}					\
				ak += a->kstep;				\
				bk += b->kstep;				\
			}						\
			_Pragma("GCC unroll 16")			\
			for (uint32_t i = 0; i < (MR); i++) {		\
				_Pragma("GCC unroll 4")			\
				for (uint32_t v = 0; v < (NV); v++) {	\
					VT x = acc[i][v];		\
									\
					if (full)			\
						memcpy(ct + i * ldc +	\
						       v * (VL), &x,	\
						       sizeof(x));	\
					else				\
						mm_edge_store(ct, ldc, &x, \
							      i, v * (VL), \
							      mh, nw, VL); \
				}					\
			}						\
		}							\
	}								\
}

/* The next panel of B: rows of bytes each, stride bytes apart, from p. */
struct mm_next {
	const uint8_t *p;
	size_t stride;
	uint32_t rows, bytes;
};

/*
 * Prefetch the rows of the next panel that tile (of tiles) should have
 * asked for, from row done on; returns the next row to prefetch.
 */
static inline uint32_t mm_prefetch(const struct mm_next *nx, uint32_t done,
				   uint32_t tile, uint32_t tiles)
{
	uint32_t upto = (uint32_t)((uint64_t)nx->rows * tile / tiles);

	for (; done < upto; done++)
		for (uint32_t b = 0; b < nx->bytes; b += 64)
			__builtin_prefetch(nx->p + done * nx->stride + b, 0, 0);
	return done;
}

/*
 * The part of vector (row i, columns j..j+vl) of an edge tile that lies
 * inside C (mh rows, nw columns from the tile's corner), to and from a
 * vector: bytes, so no vector type crosses a call.
 */
static inline uint32_t mm_edge_len(uint32_t i, uint32_t j, uint32_t mh,
				   uint32_t nw, uint32_t vl)
{
	if (i >= mh || j >= nw)
		return 0;
	return nw - j < vl ? nw - j : vl;
}

static inline void mm_edge_load(void *x, const float *ct, size_t ldc,
				uint32_t i, uint32_t j, uint32_t mh,
				uint32_t nw, uint32_t vl)
{
	uint32_t len = mm_edge_len(i, j, mh, nw, vl);

	if (len)
		memcpy(x, ct + i * ldc + j, len * sizeof(float));
}

static inline void mm_edge_store(float *ct, size_t ldc, const void *x,
				 uint32_t i, uint32_t j, uint32_t mh,
				 uint32_t nw, uint32_t vl)
{
	uint32_t len = mm_edge_len(i, j, mh, nw, vl);

	if (len)
		memcpy(ct + i * ldc + j, x, len * sizeof(float));
}

/*
 * Loads: vectors of B (ldVL_*) and one value of A broadcast to a vector
 * (bcVL_*), from fp32 or from bf16, which is the top half of an fp32.
 */
typedef uint32_t vu4 __attribute__((vector_size(16)));
typedef uint16_t vh4 __attribute__((vector_size(8)));

static inline vf4 ld4_f32(const float *p)
{
	vf4 x;

	memcpy(&x, p, sizeof(x));
	return x;
}

static inline vf4 ld4_bf16(const uint16_t *p)
{
	vh4 h;

	memcpy(&h, p, sizeof(h));
	return (vf4)(__builtin_convertvector(h, vu4) << 16);
}

static inline vf4 bc4_f32(const float *p)
{
	return *p - (vf4){ 0 };
}

static inline vf4 bc4_bf16(const uint16_t *p)
{
	return tern_f32_from_bits((uint32_t)*p << 16) - (vf4){ 0 };
}

typedef void matmul_fn(float *c, size_t ldc, const struct tk_mm_operand *a,
		       const struct tk_mm_operand *b, uint32_t m, uint32_t n,
		       uint32_t kn, bool accumulate);

/* The kernels for one ISA level. */
struct kernel_set {
	const char *name;
	matmul_fn *f32, *bf16;	/* for fp32 and for bf16 operands */
	uint32_t mr, nr;	/* A's and B's panel widths when packed */
	uint32_t (*bf16_load)(float *out, const uint8_t *p, uint32_t n);
	uint32_t (*bf16_store)(uint8_t *p, const float *in, uint32_t n);
};

/* Baseline x86-64 (and any other CPU): 16 registers of 4 floats. */
DEFINE_MATMUL(matmul_generic_f32, , vf4, 4, 4, 2, float, bc4_f32, ld4_f32)
DEFINE_MATMUL(matmul_generic_bf16, , vf4, 4, 4, 2, uint16_t, bc4_bf16,
	      ld4_bf16)

#if defined(__x86_64__)
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf16 __attribute__((vector_size(64)));

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512bw")))

AVX2 static inline vf8 ld8_f32(const float *p)
{
	vf8 x;

	memcpy(&x, p, sizeof(x));
	return x;
}

AVX2 static inline vf8 ld8_bf16(const uint16_t *p)
{
	__m128i h = _mm_loadu_si128((const __m128i *)p);

	return (vf8)_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
}

AVX2 static inline vf8 bc8_f32(const float *p)
{
	return *p - (vf8){ 0 };
}

AVX2 static inline vf8 bc8_bf16(const uint16_t *p)
{
	return tern_f32_from_bits((uint32_t)*p << 16) - (vf8){ 0 };
}

AVX512 static inline vf16 ld16_f32(const float *p)
{
	vf16 x;

	memcpy(&x, p, sizeof(x));
	return x;
}

AVX512 static inline vf16 ld16_bf16(const uint16_t *p)
{
	__m256i h = _mm256_loadu_si256((const __m256i *)p);

	return (vf16)_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
}

AVX512 static inline vf16 bc16_f32(const float *p)
{
	return *p - (vf16){ 0 };
}

/* bf16 into the top half of every 32-bit lane, zeros below: one insn */
AVX512 static inline vf16 bc16_bf16(const uint16_t *p)
{
	return (vf16)_mm512_maskz_set1_epi16(0xaaaaaaaau, (short)*p);
}

/* bf16_load_vec() and bf16_store_vec() 16 elements at a time. */
AVX512 static uint32_t bf16_load_avx512(float *out, const uint8_t *p,
					uint32_t n)
{
	uint32_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(out + i, ld16_bf16((const uint16_t *)p + i));
	return i;
}

AVX512 static uint32_t bf16_store_avx512(uint8_t *p, const float *in,
					 uint32_t n)
{
	const __m512i one = _mm512_set1_epi32(1);
	const __m512i half = _mm512_set1_epi32(0x7fff);
	const __m512i abs = _mm512_set1_epi32(0x7fffffff);
	const __m512i inf = _mm512_set1_epi32(0x7f800000);
	const __m512i sign = _mm512_set1_epi32(0x8000);
	const __m512i qnan = _mm512_set1_epi32(0x7fc0);
	uint32_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m512i u = _mm512_loadu_si512(in + i);
		__m512i hi = _mm512_srli_epi32(u, 16);
		/* round to nearest even: add 0x7fff plus the kept lsb */
		__m512i r = _mm512_srli_epi32(
			_mm512_add_epi32(_mm512_add_epi32(u, half),
					 _mm512_and_si512(hi, one)), 16);
		__mmask16 nan = _mm512_cmpgt_epu32_mask(
			_mm512_and_si512(u, abs), inf);

		r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(
			_mm512_and_si512(hi, sign), qnan));
		_mm256_storeu_si256((__m256i *)(p + 2 * i),
				    _mm512_cvtepi32_epi16(r));
	}
	return i;
}

/* 16 ymm: 12 accumulators, 2 of B, 1 broadcast */
DEFINE_MATMUL(matmul_avx2_f32, AVX2, vf8, 8, 6, 2, float, bc8_f32, ld8_f32)
DEFINE_MATMUL(matmul_avx2_bf16, AVX2, vf8, 8, 6, 2, uint16_t, bc8_bf16,
	      ld8_bf16)
/*
 * 32 zmm: 16 accumulators, 4 of B, 1 broadcast, so 128 x 512 splits evenly;
 * for bf16, whose B loads cost a widening each, 5 rows amortise them better
 * (measured: about 3 % more, the 128th row's tile partly empty).
 */
DEFINE_MATMUL(matmul_avx512_f32, AVX512, vf16, 16, 4, 4, float, bc16_f32,
	      ld16_f32)
DEFINE_MATMUL(matmul_avx512_bf16, AVX512, vf16, 16, 5, 4, uint16_t,
	      bc16_bf16, ld16_bf16)
#endif

/* Best first. */
static const struct kernel_set kernel_sets[] = {
#if defined(__x86_64__)
	{ "avx512", matmul_avx512_f32, matmul_avx512_bf16, 4, 64,
	  bf16_load_avx512, bf16_store_avx512 },
	{ "avx2", matmul_avx2_f32, matmul_avx2_bf16, 6, 16,
	  bf16_load_vec, bf16_store_vec },
#endif
	{ "generic", matmul_generic_f32, matmul_generic_bf16, 4, 8,
	  bf16_load_vec, bf16_store_vec },
};

#define NUM_SETS	(sizeof(kernel_sets) / sizeof(kernel_sets[0]))

static const struct kernel_set *kernels = &kernel_sets[NUM_SETS - 1];

void tk_mm_widths(uint32_t *mr, uint32_t *nr)
{
	*mr = kernels->mr;
	*nr = kernels->nr;
}

/*
 * One panel row of w floats; with w a constant (the full-width cases
 * below) the copy is unrolled into vector moves rather than a libc call
 * per panel.
 */
static inline __attribute__((always_inline)) void
pack_panel_row(float *d, const float *s, uint32_t w)
{
	uint32_t i = 0;

	for (; i + 4 <= w; i += 4)
		memcpy(d + i, s + i, 4 * sizeof(float));
	for (; i < w; i++)
		d[i] = s[i];
}

#define PACK_FULL(W)							\
	for (; j + (W) <= n; j += (W))					\
		pack_panel_row(panels + ((size_t)(j / (W)) * kn + k) * (W), \
			       row + j, (W))

void tk_mm_pack(float *panels, uint32_t width, uint32_t kn, uint32_t k,
		const float *row, uint32_t n)
{
	uint32_t j = 0;
	float *d;

	switch (width) {
	case 4: PACK_FULL(4); break;
	case 6: PACK_FULL(6); break;
	case 8: PACK_FULL(8); break;
	case 16: PACK_FULL(16); break;
	case 64: PACK_FULL(64); break;
	default: PACK_FULL(width); break;
	}
	if (j == n)
		return;
	/* the last panel, zero-padded */
	d = panels + ((size_t)(j / width) * kn + k) * width;
	pack_panel_row(d, row + j, n - j);
	memset(d + (n - j), 0, (width - (n - j)) * sizeof(float));
}

void tk_matmul(float *c, size_t ldc, const struct tk_mm_operand *a,
	       const struct tk_mm_operand *b, uint32_t m, uint32_t n,
	       uint32_t kn, bool accumulate)
{
	if (a->dtype == TERN_DT_BF16)
		kernels->bf16(c, ldc, a, b, m, n, kn, accumulate);
	else
		kernels->f32(c, ldc, a, b, m, n, kn, accumulate);
}

const char *tk_kernels_name(void)
{
	return kernels->name;
}

/* ---- set-up ---- */

static bool cpu_has(const char *name)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (!strcmp(name, "avx512"))
		return __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512bw");
	if (!strcmp(name, "avx2"))
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma");
#endif
	return !strcmp(name, "generic");
}

/*
 * The best kernel set this CPU runs, or the one named by TERN_CORE_ISA if
 * the CPU runs it (so that the tests can exercise every set on one
 * machine).
 */
static void pick_kernels(void)
{
	const char *want = getenv("TERN_CORE_ISA");
	size_t pick = NUM_SETS - 1;	/* generic runs anywhere */

	for (size_t i = NUM_SETS; i-- > 0;)
		if (cpu_has(kernel_sets[i].name))
			pick = i;
	for (size_t i = 0; want && i < NUM_SETS; i++)
		if (!strcmp(want, kernel_sets[i].name) &&
		    cpu_has(kernel_sets[i].name))
			pick = i;
	kernels = &kernel_sets[pick];
	bf16_load = kernels->bf16_load;
	bf16_store = kernels->bf16_store;
}

static void init_once(void)
{
	for (uint32_t c = 0; c < 65536; c++)
		fp16_table[c] = tern_f32_from_bits(tern_nfmt_to_f32(c, TERN_NFMT_FP16));
	for (uint32_t c = 0; c < 256; c++) {
		e4m3_table[c] = tern_f32_from_bits(tern_nfmt_to_f32(c, TERN_NFMT_E4M3));
		e5m2_table[c] = tern_f32_from_bits(tern_nfmt_to_f32(c, TERN_NFMT_E5M2));
	}
	pick_kernels();
}

void tk_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
}
