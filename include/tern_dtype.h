/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tern dtype conversions: one element of a tern dtype (TERN_DT_* of
 * tern_isa.h) to and from IEEE binary32, bit for bit the way a tern core
 * converts (Documentation/chip/isa.rst, "Data types and conversions").
 * Shared by the device model (emulator/) and the runtime (lib/), so that
 * the host and the chip agree on every value. (Not for the kernel, which
 * has no floats.)
 *
 * The functions work on bit patterns (uint32_t for binary32, the element's
 * code for the narrow formats) with integer arithmetic only, so they do
 * not depend on the FPU's rounding mode or on flushing subnormals, and
 * they need no libm.
 *
 * Widening is exact. Narrowing rounds to nearest, ties to even, into
 * subnormals where needed; bf16, fp16 and E5M2 overflow to infinity,
 * E4M3 (which has no infinity) saturates to +-448, infinities included.
 * A NaN narrows to its format's canonical quiet NaN with its sign.
 */
#ifndef TERN_DTYPE_H
#define TERN_DTYPE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tern_isa.h"

/*
 * struct tern_nfmt - a narrow binary floating-point format
 * @ebits: exponent bits
 * @mbits: stored mantissa bits
 * @bias: exponent bias
 * @ieee: the all-ones exponent holds infinities and NaNs (IEEE-like);
 *	otherwise (E4M3) only the all-ones code S.1111.111 is NaN and the
 *	rest of that exponent holds normal numbers
 */
struct tern_nfmt {
	unsigned int ebits, mbits;
	int bias;
	bool ieee;
};

#define TERN_NFMT_FP16		((struct tern_nfmt){ 5, 10, 15, true })
#define TERN_NFMT_E4M3		((struct tern_nfmt){ 4, 3, 7, false })
#define TERN_NFMT_E5M2		((struct tern_nfmt){ 5, 2, 15, true })

static inline uint32_t tern_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static inline float tern_f32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/*
 * tern_nfmt_from_f32() - binary32 bits @u to the code of format @f
 *
 * The significand (with its implicit bit) is shifted right to the
 * format's precision at the value's exponent (clamped to the format's
 * smallest normal exponent, which makes subnormals), and rounded to
 * nearest even on the bits shifted out. A round up that carries out of
 * the mantissa moves into the exponent field by itself, because the code
 * is built as exponent field plus significand.
 */
static inline uint32_t tern_nfmt_from_f32(uint32_t u, struct tern_nfmt f)
{
	uint32_t sign = (u >> 31) << (f.ebits + f.mbits);
	uint32_t a = u & 0x7fffffffu;
	uint32_t inf = ((1u << f.ebits) - 1) << f.mbits;
	uint32_t maxfin = f.ieee ? inf - 1 : inf | ((1u << f.mbits) - 2);
	uint32_t sig, q, code;
	int e, te, emin = 1 - f.bias, shift;

	if (a > 0x7f800000u)		/* NaN: the canonical quiet NaN */
		return sign | inf | (f.ieee ? 1u << (f.mbits - 1) : (1u << f.mbits) - 1);
	if (a == 0x7f800000u)		/* infinity, or E4M3's saturation */
		return sign | (f.ieee ? inf : maxfin);
	sig = a & 0x7fffffu;
	if (a >> 23) {
		sig |= 0x800000u;
		e = (int)(a >> 23) - 127;
	} else {
		e = -126;		/* binary32 subnormal */
	}
	te = e < emin ? emin : e;
	shift = 23 - (int)f.mbits + (te - e);
	if (shift > 25) {
		q = 0;			/* below half the smallest subnormal */
	} else {
		uint32_t rem = sig & ((1u << shift) - 1);
		uint32_t half = 1u << (shift - 1);

		q = sig >> shift;
		if (rem > half || (rem == half && (q & 1)))
			q++;
	}
	/* te + bias - 1: q's implicit bit (if set) adds the last 1 */
	code = ((uint32_t)(te + f.bias - 1) << f.mbits) + q;
	if (code > maxfin)
		code = f.ieee ? inf : maxfin;
	return sign | code;
}

/*
 * tern_nfmt_to_f32() - code @c of format @f to binary32 bits, exactly
 *
 * NaNs keep their sign and payload and are made quiet; E4M3's NaN gives
 * 0x7fc00000 with its sign.
 */
static inline uint32_t tern_nfmt_to_f32(uint32_t c, struct tern_nfmt f)
{
	uint32_t sign = ((c >> (f.ebits + f.mbits)) & 1u) << 31;
	uint32_t emax = (1u << f.ebits) - 1;
	uint32_t ex = (c >> f.mbits) & emax;
	uint32_t mant = c & ((1u << f.mbits) - 1);
	int k;

	if (f.ieee && ex == emax)
		return sign | 0x7f800000u | mant << (23 - f.mbits) | (mant ? 0x400000u : 0);
	if (!f.ieee && ex == emax && mant == (1u << f.mbits) - 1)
		return sign | 0x7fc00000u;
	if (ex == 0) {
		/*
		 * Zero or subnormal: mant * 2^(1 - bias - mbits). With its
		 * leading one at bit k, that is 1.f * 2^(k + 1 - bias - mbits),
		 * a normal binary32 for every tern format.
		 */
		if (!mant)
			return sign;
		k = 31 - __builtin_clz(mant);
		return sign | (uint32_t)(k + 1 - f.bias - (int)f.mbits + 127) << 23 |
		       ((mant << (23 - k)) & 0x7fffffu);
	}
	return sign | (uint32_t)((int)ex - f.bias + 127) << 23 | mant << (23 - f.mbits);
}

/*
 * tern_bf16_from_f32() - binary32 bits to bfloat16, round to nearest even
 *
 * bf16 is the top half of a binary32: adding 0x7fff plus the lowest kept
 * bit rounds to nearest even, and a carry into the exponent (up to
 * infinity) is right by construction.
 */
static inline uint16_t tern_bf16_from_f32(uint32_t u)
{
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

/*
 * tern_bf16_to_f32() - bfloat16 to binary32 bits, exactly
 *
 * The bits are moved, nothing else: a core's loads do the same (a
 * signalling bf16 NaN stays signalling).
 */
static inline uint32_t tern_bf16_to_f32(uint16_t h)
{
	return (uint32_t)h << 16;
}

/*
 * tern_dtype_from_f32() - store @v as one element of dtype @dt at @p
 *
 * Rounded as above; little endian (as the host, by assumption). An
 * unknown dtype stores nothing.
 */
static inline void tern_dtype_from_f32(void *p, unsigned int dt, float v)
{
	uint32_t u = tern_f32_bits(v);
	uint16_t h;
	uint8_t b;

	switch (dt) {
	case TERN_DT_FP32:
		memcpy(p, &v, 4);
		break;
	case TERN_DT_BF16:
		h = tern_bf16_from_f32(u);
		memcpy(p, &h, 2);
		break;
	case TERN_DT_FP16:
		h = (uint16_t)tern_nfmt_from_f32(u, TERN_NFMT_FP16);
		memcpy(p, &h, 2);
		break;
	case TERN_DT_FP8_E4M3:
		b = (uint8_t)tern_nfmt_from_f32(u, TERN_NFMT_E4M3);
		memcpy(p, &b, 1);
		break;
	case TERN_DT_FP8_E5M2:
		b = (uint8_t)tern_nfmt_from_f32(u, TERN_NFMT_E5M2);
		memcpy(p, &b, 1);
		break;
	}
}

#endif /* TERN_DTYPE_H */
