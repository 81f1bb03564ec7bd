// SPDX-License-Identifier: MIT
/*
 * libtern's host dtype conversions (tern_value_get/tern_value_set of
 * tern_program.h) against the device model's own (tk_to_f32/tk_from_f32
 * of emulator/tern_kernels.c), bit for bit: every code of every narrow
 * dtype, fp32 values built to hit each format's rounding position (ties,
 * sticky bits, carries into the exponent, subnormals, overflow), random
 * bits, and the special cases isa.rst spells out. Then both against an
 * oracle that knows nothing of bits: the nearest value of a table of all
 * the dtype's values, ties to the even code. Then the CPU references'
 * single rounding of a double (ref_set of lib/ref_int.h).
 */
#include "ops_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_int.h"
#include "tern_kernels.h"

static const unsigned int narrow_dts[] = {
	TERN_DT_BF16, TERN_DT_FP16, TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2,
};
#define NARROW_DTS	(sizeof(narrow_dts) / sizeof(narrow_dts[0]))

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* The code tern_value_set() and tk_from_f32() give for v; false if they differ. */
static bool same_narrowing(unsigned int dt, uint32_t u, uint32_t *code)
{
	uint32_t lib = 0, emu = 0;

	tern_value_set(dt, &lib, from_bits(u));
	tk_from_f32((uint8_t *)&emu, dt, from_bits(u));
	if (lib != emu) {
		printf("#   %s: fp32 0x%08x (%.9g) -> libtern 0x%x, model 0x%x\n", dt_name(dt), u,
		       (double)from_bits(u), lib, emu);
		return false;
	}
	if (code)
		*code = lib;
	return true;
}

/* ---- widening ---- */

static bool t_widen_every_code(struct env *e)
{
	(void)e;
	for (unsigned int d = 0; d < NARROW_DTS; d++) {
		unsigned int dt = narrow_dts[d];
		uint32_t ncodes = 1u << (8 * tern_dtype_size(dt));

		for (uint32_t c = 0; c < ncodes; c++) {
			uint32_t lib = bits(tern_value_get(dt, &c));
			uint32_t emu = bits(tk_to_f32((const uint8_t *)&c, dt));

			if (lib != emu) {
				printf("#   %s code 0x%x: libtern 0x%08x, model 0x%08x\n", dt_name(dt),
				       c, lib, emu);
				return false;
			}
		}
	}
	return true;
}

static bool t_fp32_bits_unchanged(struct env *e)
{
	static const uint32_t specials[] = {
		0, 0x80000000u, 1, 0x807fffffu, 0x7f7fffffu, 0x7f800000u, 0xff800000u,
		0x7fc00000u, 0x7f800001u, 0xffbfffffu, 0x3f800000u,
	};

	(void)e;
	for (unsigned int i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		uint32_t out = 0, in = specials[i];

		CHECK_EQ(bits(tern_value_get(TERN_DT_FP32, &in)), in);
		tern_value_set(TERN_DT_FP32, &out, from_bits(in));
		CHECK_EQ(out, in);
	}
	return true;
}

/* Every code that is not NaN survives widening and narrowing again. */
static bool t_roundtrip_every_code(struct env *e)
{
	(void)e;
	for (unsigned int d = 0; d < NARROW_DTS; d++) {
		unsigned int dt = narrow_dts[d];
		uint32_t ncodes = 1u << (8 * tern_dtype_size(dt));

		for (uint32_t c = 0; c < ncodes; c++) {
			float v = tern_value_get(dt, &c);
			uint32_t back = 0;

			if (isnan(v))
				continue;
			tern_value_set(dt, &back, v);
			if (back != c) {
				printf("#   %s code 0x%x -> %.9g -> 0x%x\n", dt_name(dt), c, (double)v,
				       back);
				return false;
			}
		}
	}
	return true;
}

/* ---- narrowing against the model ---- */

/*
 * Every sign, exponent and top 7 mantissa bits (the high half), with low
 * halves made of every combination of bits 15..11 and then 0, 1 or
 * 0x7ff below: bf16 rounds at bit 15, fp16 normals at bit 12, and the
 * subnormals and fp8 formats higher up, whose rounding bits the high
 * half enumerates in full; the low bits are the sticky bits.
 */
static bool t_narrow_patterns(struct env *e)
{
	static const uint32_t low[] = { 0, 1, 0x7ff };

	(void)e;
	for (uint32_t hi = 0; hi < 0x10000u; hi++) {
		for (uint32_t top = 0; top < 32; top++) {
			for (unsigned int l = 0; l < 3; l++) {
				uint32_t u = hi << 16 | top << 11 | low[l];

				for (unsigned int d = 0; d < NARROW_DTS; d++)
					if (!same_narrowing(narrow_dts[d], u, NULL))
						return false;
			}
		}
	}
	return true;
}

static uint64_t rng64(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static bool t_narrow_random_bits(struct env *e)
{
	uint64_t s = 0x1234567887654321ull;

	(void)e;
	for (unsigned int i = 0; i < (1u << 22); i++) {
		uint32_t u = (uint32_t)(rng64(&s) >> 32);

		for (unsigned int d = 0; d < NARROW_DTS; d++)
			if (!same_narrowing(narrow_dts[d], u, NULL))
				return false;
	}
	return true;
}

/* The cases Documentation/chip/isa.rst names, with the codes it gives. */
static bool t_narrow_documented(struct env *e)
{
	static const struct {
		unsigned int dt;
		float v;
		uint32_t code;
	} cases[] = {
		{ TERN_DT_FP16, 65519.99f, 0x7bff },	/* 65504 */
		{ TERN_DT_FP16, 65520.0f, 0x7c00 },	/* inf */
		{ TERN_DT_FP16, -65520.0f, 0xfc00 },
		{ TERN_DT_FP16, INFINITY, 0x7c00 },
		{ TERN_DT_FP16, NAN, 0x7e00 },
		{ TERN_DT_FP16, -NAN, 0xfe00 },
		{ TERN_DT_BF16, NAN, 0x7fc0 },
		{ TERN_DT_BF16, -NAN, 0xffc0 },
		{ TERN_DT_BF16, 1.0f + 1.0f / 256, 0x3f80 },	/* tie, to even */
		{ TERN_DT_BF16, 1.0f + 3.0f / 256, 0x3f82 },	/* tie, to even (up) */
		{ TERN_DT_FP8_E4M3, 448.0f, 0x7e },
		{ TERN_DT_FP8_E4M3, 464.0f, 0x7e },	/* tie above the largest */
		{ TERN_DT_FP8_E4M3, 1e6f, 0x7e },	/* saturates */
		{ TERN_DT_FP8_E4M3, INFINITY, 0x7e },
		{ TERN_DT_FP8_E4M3, -INFINITY, 0xfe },
		{ TERN_DT_FP8_E4M3, NAN, 0x7f },
		{ TERN_DT_FP8_E4M3, -NAN, 0xff },
		{ TERN_DT_FP8_E4M3, 0x1p-9f, 0x01 },	/* smallest subnormal */
		{ TERN_DT_FP8_E4M3, 0x1p-10f, 0x00 },	/* tie to even: 0 */
		{ TERN_DT_FP8_E5M2, 57344.0f, 0x7b },
		{ TERN_DT_FP8_E5M2, 61440.0f, 0x7c },	/* tie above the largest: inf */
		{ TERN_DT_FP8_E5M2, INFINITY, 0x7c },
		{ TERN_DT_FP8_E5M2, NAN, 0x7e },
		{ TERN_DT_FP8_E5M2, -NAN, 0xfe },
		{ TERN_DT_FP8_E5M2, 0x1p-16f, 0x01 },	/* smallest subnormal */
		{ TERN_DT_FP8_E5M2, 0x3p-17f, 0x02 },	/* 1.5 x smallest: tie, to even */
	};

	(void)e;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t code;

		if (!same_narrowing(cases[i].dt, bits(cases[i].v), &code))
			return false;
		if (code != cases[i].code) {
			printf("#   %s %.9g: code 0x%x, isa.rst says 0x%x\n", dt_name(cases[i].dt),
			       (double)cases[i].v, code, cases[i].code);
			return false;
		}
	}
	return true;
}

/* ---- an oracle without bits: the nearest value in a sorted table ---- */

struct table {
	unsigned int dt;
	double maxfin;		/* largest finite value */
	double ulp_max;		/* spacing just below it */
	bool has_inf;
	uint32_t n;		/* non-negative finite codes, by value */
	double val[32768];
	uint32_t code[32768];
};

static void table_fill(struct table *t, unsigned int dt)
{
	uint32_t ncodes = 1u << (8 * tern_dtype_size(dt)), half = ncodes / 2;

	t->dt = dt;
	t->n = 0;
	t->has_inf = false;
	/* Codes 0..half-1 are the non-negative ones, already in value order. */
	for (uint32_t c = 0; c < half; c++) {
		float v = tern_value_get(dt, &c);

		if (isinf(v))
			t->has_inf = true;
		if (!isfinite(v))
			continue;
		t->val[t->n] = v;
		t->code[t->n++] = c;
	}
	t->maxfin = t->val[t->n - 1];
	t->ulp_max = t->val[t->n - 1] - t->val[t->n - 2];
}

/*
 * The code of |x| rounded to nearest, ties to the even code; overflow
 * (at or beyond half a spacing above the largest finite value) to inf,
 * or to the largest value for a format without infinities. Then the sign.
 */
static uint32_t table_round(const struct table *t, double x)
{
	uint32_t sign = x < 0 || (x == 0 && signbit(x)) ? 1u << (8 * tern_dtype_size(t->dt) - 1) : 0;
	double a = fabs(x);
	uint32_t lo = 0, hi = t->n - 1, code;

	if (a >= t->maxfin + t->ulp_max / 2) {
		if (t->has_inf)
			return sign | (t->code[t->n - 1] + 1);	/* the code after the largest */
		return sign | t->code[t->n - 1];
	}
	if (a >= t->maxfin) {
		code = t->code[t->n - 1];
	} else {
		/* val[lo] <= a < val[lo + 1] */
		while (hi - lo > 1) {
			uint32_t mid = (lo + hi) / 2;

			if (t->val[mid] <= a)
				lo = mid;
			else
				hi = mid;
		}
		if (a - t->val[lo] < t->val[lo + 1] - a)
			code = t->code[lo];
		else if (a - t->val[lo] > t->val[lo + 1] - a)
			code = t->code[lo + 1];
		else
			code = t->code[lo] & 1 ? t->code[lo + 1] : t->code[lo];
	}
	return sign | code;
}

/* A double with a random sign, exponent around the format's range and random bits. */
static double random_value(uint64_t *s, const struct table *t)
{
	uint64_t r = rng64(s);
	int emax = (int)ilogb(t->maxfin);
	int e = (int)(r % (uint64_t)(2 * emax + 30)) - emax - 25;
	double m = 1.0 + (double)(rng64(s) >> 11) / 9007199254740992.0;

	/* a quarter exactly halfway between two neighbours, to test ties */
	if ((r >> 20) % 4 == 0) {
		uint32_t i = (uint32_t)((r >> 24) % (t->n - 1));

		return ((r >> 40) & 1 ? -1 : 1) * (t->val[i] + t->val[i + 1]) / 2;
	}
	return ((r >> 40) & 1 ? -1 : 1) * ldexp(m, e);
}

static struct table oracle;

static bool t_narrow_nearest(struct env *e)
{
	uint64_t s = 42;

	(void)e;
	for (unsigned int d = 0; d < NARROW_DTS; d++) {
		unsigned int dt = narrow_dts[d];

		table_fill(&oracle, dt);
		for (unsigned int i = 0; i < (1u << 18); i++) {
			float v = (float)random_value(&s, &oracle);
			uint32_t got = 0, want = table_round(&oracle, v);

			tern_value_set(dt, &got, v);
			if (got != want) {
				printf("#   %s %.9g: code 0x%x, nearest is 0x%x\n", dt_name(dt),
				       (double)v, got, want);
				return false;
			}
		}
	}
	return true;
}

/*
 * ref_set() rounds a double once: a double halfway between two values of
 * the dtype is not a float, and rounding it to a float first could land
 * exactly on the halfway point and round to even the wrong way.
 */
static bool t_ref_set_rounds_once(struct env *e)
{
	uint64_t s = 7;
	uint8_t slot[8];
	void *slots[1] = { slot };

	(void)e;
	for (unsigned int d = 0; d < NARROW_DTS + 1; d++) {
		unsigned int dt = d < NARROW_DTS ? narrow_dts[d] : TERN_DT_FP32;
		struct tern_tensor t = tern_tensor_2d(0, dt, 1, 1);

		if (dt != TERN_DT_FP32)
			table_fill(&oracle, dt);
		for (unsigned int i = 0; i < (1u << 18); i++) {
			double v;
			uint32_t want, got = 0;

			if (dt == TERN_DT_FP32) {
				v = ldexp(1.0 + (double)(rng64(&s) >> 11) / 9007199254740992.0,
					  (int)(rng64(&s) % 200) - 100);
				want = bits((float)v);
			} else {
				v = random_value(&s, &oracle);
				/* just off a tie: the double's low bits decide */
				if (i & 1)
					v = nextafter(v, (i & 2) ? INFINITY : -INFINITY);
				want = table_round(&oracle, v);
			}
			memset(slot, 0, sizeof(slot));
			ref_set(slots, &t, 0, 0, v);
			memcpy(&got, slot, tern_dtype_size(dt));
			if (got != want) {
				printf("#   %s %.17g: ref_set wrote 0x%x, nearest is 0x%x\n",
				       dt_name(dt), v, got, want);
				return false;
			}
			if (ref_get(slots, &t, 0, 0) != (double)tern_value_get(dt, slot)) {
				printf("#   %s: ref_get of 0x%x is not tern_value_get\n", dt_name(dt),
				       got);
				return false;
			}
		}
	}
	return true;
}

static bool t_bad_dtype(struct env *e)
{
	uint32_t word = 0x5a5a5a5au;

	(void)e;
	CHECK(isnan(tern_value_get(0, &word)));
	CHECK(isnan(tern_value_get(TERN_DT_COUNT, &word)));
	tern_value_set(0, &word, 1.0f);
	tern_value_set(TERN_DT_COUNT, &word, 1.0f);
	CHECK_EQ(word, 0x5a5a5a5au);
	return true;
}

static const struct test_case cases[] = {
	{ "widen every code like the model", t_widen_every_code, 0 },
	{ "fp32 bits unchanged", t_fp32_bits_unchanged, 0 },
	{ "every code round trips", t_roundtrip_every_code, 0 },
	{ "narrow rounding patterns like the model", t_narrow_patterns, 0 },
	{ "narrow random bits like the model", t_narrow_random_bits, 0 },
	{ "narrow the documented cases", t_narrow_documented, 0 },
	{ "narrow to the nearest value, ties to even", t_narrow_nearest, 0 },
	{ "ref_set rounds a double once", t_ref_set_rounds_once, 0 },
	{ "bad dtype", t_bad_dtype, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
