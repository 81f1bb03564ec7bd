// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern compute core: numeric kernels. dtype conversions (round to nearest
 * even, documented in Documentation/chip/isa.rst), row loads and stores,
 * elementwise arithmetic, activations, reductions, and a blocked,
 * register-tiled fp32 matmul written with GCC vector extensions. On x86-64
 * the matmul is compiled three times (AVX-512, AVX2+FMA, baseline) and the
 * best one for the CPU is picked at run time.
 */
#include "tern_kernels.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/*
 * Elementwise code uses 16-byte vectors: the baseline x86-64 ISA has no
 * wider ones, and wider vector arguments would change the calling ABI.
 */
typedef float vf4 __attribute__((vector_size(16)));
typedef int32_t vi4 __attribute__((vector_size(16)));
typedef uint32_t vu8 __attribute__((vector_size(32)));
typedef uint16_t vh8 __attribute__((vector_size(16)));

/* ---- bits ---- */

static inline uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static inline float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* ---- dtype conversions ---- */

/* A narrow binary floating-point format. */
struct nfmt {
	unsigned int ebits, mbits;
	int bias;
	/* all-ones exponent is inf/NaN; else only S.1111.111 is NaN */
	bool ieee;
};

static const struct nfmt fmt_fp16 = { 5, 10, 15, true };
static const struct nfmt fmt_e4m3 = { 4, 3, 7, false };
static const struct nfmt fmt_e5m2 = { 5, 2, 15, true };

/*
 * fp32 bits to a narrow format, round to nearest even. Overflow gives inf
 * (IEEE formats) or saturates to the largest finite value (E4M3, which
 * has no inf; inf saturates too). NaN gives the format's quiet NaN with the
 * sign kept.
 */
static uint32_t narrow_from_f32(uint32_t u, const struct nfmt *f)
{
	uint32_t sign = (u >> 31) << (f->ebits + f->mbits);
	uint32_t a = u & 0x7fffffffu;
	uint32_t inf = ((1u << f->ebits) - 1) << f->mbits;
	uint32_t maxfin = f->ieee ? inf - 1 : inf | ((1u << f->mbits) - 2);
	uint32_t full, q, code;
	int e, te, emin = 1 - f->bias, shift;

	if (a > 0x7f800000u)
		return sign | inf | (f->ieee ? 1u << (f->mbits - 1) :
					       (1u << f->mbits) - 1);
	if (a == 0x7f800000u)
		return sign | (f->ieee ? inf : maxfin);
	full = a & 0x7fffffu;
	if (a >> 23) {
		full |= 0x800000u;
		e = (int)(a >> 23) - 127;
	} else {
		e = -126;
	}
	te = e < emin ? emin : e;
	shift = 23 - (int)f->mbits + (te - e);
	if (shift > 25) {
		q = 0;	/* below half the smallest subnormal */
	} else {
		uint32_t rem = full & ((1u << shift) - 1);
		uint32_t half = 1u << (shift - 1);

		q = full >> shift;
		if (rem > half || (rem == half && (q & 1)))
			q++;
	}
	/* q carries into the exponent when it rounds up to 2^(mbits + 1) */
	code = ((uint32_t)(te + f->bias - 1) << f->mbits) + q;
	if (code > maxfin)
		code = f->ieee ? inf : maxfin;
	return sign | code;
}

/* Narrow format to fp32 bits: exact; NaN payloads are kept and made quiet. */
static uint32_t narrow_to_f32(uint32_t c, const struct nfmt *f)
{
	uint32_t sign = ((c >> (f->ebits + f->mbits)) & 1u) << 31;
	uint32_t emax = (1u << f->ebits) - 1;
	uint32_t ex = (c >> f->mbits) & emax;
	uint32_t mant = c & ((1u << f->mbits) - 1);

	if (f->ieee && ex == emax)
		return sign | 0x7f800000u | mant << (23 - f->mbits) |
		       (mant ? 0x400000u : 0);
	if (!f->ieee && ex == emax && mant == (1u << f->mbits) - 1)
		return sign | 0x7fc00000u;
	if (ex == 0)	/* zero or subnormal: mant * 2^(1 - bias - mbits) */
		return sign | f2u(ldexpf((float)mant,
					 1 - f->bias - (int)f->mbits));
	return sign | (uint32_t)((int)ex - f->bias + 127) << 23 |
	       mant << (23 - f->mbits);
}

static uint16_t bf16_from_f32(uint32_t u)
{
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

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
		return u2f((uint32_t)h << 16);
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
	uint32_t u = f2u(v);
	uint16_t h;

	switch (dt) {
	case TERN_DT_FP32:
		memcpy(p, &v, 4);
		break;
	case TERN_DT_BF16:
		h = bf16_from_f32(u);
		memcpy(p, &h, 2);
		break;
	case TERN_DT_FP16:
		h = (uint16_t)narrow_from_f32(u, &fmt_fp16);
		memcpy(p, &h, 2);
		break;
	case TERN_DT_FP8_E4M3:
		*p = (uint8_t)narrow_from_f32(u, &fmt_e4m3);
		break;
	case TERN_DT_FP8_E5M2:
		*p = (uint8_t)narrow_from_f32(u, &fmt_e5m2);
		break;
	}
}

void tk_load(float *out, const uint8_t *p, int64_t stride, uint32_t n,
	     unsigned int dt)
{
	int64_t step = stride * (int64_t)tern_dtype_size(dt);
	uint32_t i = 0;

	if (stride == 1 && dt == TERN_DT_FP32) {
		memcpy(out, p, (size_t)n * 4);
		return;
	}
	if (stride == 1 && dt == TERN_DT_BF16) {
		for (; i + 8 <= n; i += 8) {
			vh8 h;
			vu8 w;

			memcpy(&h, p + 2 * i, sizeof(h));
			w = __builtin_convertvector(h, vu8) << 16;
			memcpy(out + i, &w, sizeof(w));
		}
	}
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
	if (stride == 1 && dt == TERN_DT_BF16) {
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
	}
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

/* ---- matmul ---- */

/*
 * C = A^T B with A [k][m] and B [k][n]: each k is a rank-1 update, so a
 * register tile of MR rows x NV vectors of C accumulates across the whole
 * contraction (k <= 128) while B's NV vectors are loaded once per k and
 * A's MR values broadcast. The B panel (k x NV vectors) stays in L1 across
 * the m loop. MR and NV are chosen per ISA to fill the vector registers.
 */
#define DEFINE_MATMUL(NAME, ATTR, VT, VL, MR, NV)			\
ATTR static void NAME(float *c, size_t ldc, const float *a, size_t lda,	\
		      const float *b, size_t ldb, uint32_t mp,		\
		      uint32_t np, uint32_t kn)				\
{									\
	for (uint32_t n0 = 0; n0 < np; n0 += (VL) * (NV)) {		\
		for (uint32_t m0 = 0; m0 < mp; m0 += (MR)) {		\
			VT acc[MR][NV];					\
			const float *ak = a + m0;			\
			const float *bk = b + n0;			\
									\
			memset(acc, 0, sizeof(acc));			\
			for (uint32_t k = 0; k < kn; k++) {		\
				VT bv[NV];				\
									\
				_Pragma("GCC unroll 4")			\
				for (uint32_t v = 0; v < (NV); v++)	\
					memcpy(&bv[v], bk + v * (VL),	\
					       sizeof(VT));		\
				_Pragma("GCC unroll 16")		\
				for (uint32_t i = 0; i < (MR); i++) {	\
					VT av = ak[i] - (VT){ 0 };	\
					_Pragma("GCC unroll 4")		\
					for (uint32_t v = 0; v < (NV); v++) \
						acc[i][v] += av * bv[v]; \
				}					\
				ak += lda;				\
				bk += ldb;				\
			}						\
			for (uint32_t i = 0; i < (MR); i++)		\
				for (uint32_t v = 0; v < (NV); v++)	\
					memcpy(c + (m0 + i) * ldc + n0 + \
					       v * (VL), &acc[i][v],	\
					       sizeof(VT));		\
		}							\
	}								\
}

typedef void matmul_fn(float *c, size_t ldc, const float *a, size_t lda,
		       const float *b, size_t ldb, uint32_t mp, uint32_t np,
		       uint32_t kn);

DEFINE_MATMUL(matmul_generic, , vf4, 4, 4, 2)

#if defined(__x86_64__)
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf16 __attribute__((vector_size(64)));
DEFINE_MATMUL(matmul_avx2, __attribute__((target("avx2,fma"))), vf8, 8, 6, 2)
DEFINE_MATMUL(matmul_avx512, __attribute__((target("avx512f"))), vf16, 16,
	      12, 2)
#endif

static matmul_fn *matmul_kernel = matmul_generic;
static const char *matmul_name = "generic";

void tk_matmul(float *c, size_t ldc, const float *a, size_t lda,
	       const float *b, size_t ldb, uint32_t mp, uint32_t np,
	       uint32_t kn)
{
	matmul_kernel(c, ldc, a, lda, b, ldb, mp, np, kn);
}

const char *tk_matmul_kernel(void)
{
	return matmul_name;
}

/* ---- set-up ---- */

static void init_once(void)
{
	for (uint32_t c = 0; c < 65536; c++)
		fp16_table[c] = u2f(narrow_to_f32(c, &fmt_fp16));
	for (uint32_t c = 0; c < 256; c++) {
		e4m3_table[c] = u2f(narrow_to_f32(c, &fmt_e4m3));
		e5m2_table[c] = u2f(narrow_to_f32(c, &fmt_e5m2));
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) {
		matmul_kernel = matmul_avx512;
		matmul_name = "avx512";
	} else if (__builtin_cpu_supports("avx2") &&
		   __builtin_cpu_supports("fma")) {
		matmul_kernel = matmul_avx2;
		matmul_name = "avx2";
	}
#endif
}

void tk_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
}
