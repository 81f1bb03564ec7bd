/* SPDX-License-Identifier: MIT */
/*
 * Force-included (-include) when the fuzz targets compile the model's
 * sources with clang: GCC's two-vector __builtin_shuffle, which clang does
 * not have, for the 4 x float vectors tern_kernels.c shuffles. Same
 * result as GCC's: index i of the mask picks element i (mod 8) of a:b.
 */
#ifndef FUZZ_CLANG_COMPAT_H
#define FUZZ_CLANG_COMPAT_H

#if defined(__clang__)
typedef float fz_vf4 __attribute__((vector_size(16)));
typedef int fz_vi4 __attribute__((vector_size(16)));

static inline fz_vf4 fz_shuffle2(fz_vf4 a, fz_vf4 b, fz_vi4 m)
{
	fz_vf4 r;

	for (int i = 0; i < 4; i++) {
		int k = m[i] & 7;

		r[i] = k < 4 ? a[k] : b[k - 4];
	}
	return r;
}

#define __builtin_shuffle(a, b, m)	fz_shuffle2((a), (b), (m))
#endif

#endif /* FUZZ_CLANG_COMPAT_H */
