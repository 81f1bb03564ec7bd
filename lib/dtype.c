// SPDX-License-Identifier: MIT
/*
 * libtern host dtype conversion: tern_value_get() and tern_value_set()
 * read and write one element of a TERN_DT_* the way a core does, using the
 * conversions the device model uses too (include/tern_dtype.h), so a value
 * prepared on the host is the value the chip computes with.
 *
 * Elements are little endian, like everything the chip reads; the host
 * is assumed to be little endian too (as the device model assumes).
 */
#include <math.h>
#include <string.h>

#include "tern_dtype.h"
#include "tern_internal.h"
#include "tern_program.h"

TERN_EXPORT float tern_value_get(unsigned int dtype, const void *p)
{
	uint16_t h;
	uint8_t b;
	float f;

	switch (dtype) {
	case TERN_DT_FP32:
		memcpy(&f, p, 4);
		return f;
	case TERN_DT_BF16:
		memcpy(&h, p, 2);
		return tern_f32_from_bits(tern_bf16_to_f32(h));
	case TERN_DT_FP16:
		memcpy(&h, p, 2);
		return tern_f32_from_bits(tern_nfmt_to_f32(h, TERN_NFMT_FP16));
	case TERN_DT_FP8_E4M3:
		memcpy(&b, p, 1);
		return tern_f32_from_bits(tern_nfmt_to_f32(b, TERN_NFMT_E4M3));
	case TERN_DT_FP8_E5M2:
		memcpy(&b, p, 1);
		return tern_f32_from_bits(tern_nfmt_to_f32(b, TERN_NFMT_E5M2));
	}
	return NAN;
}

TERN_EXPORT void tern_value_set(unsigned int dtype, void *p, float v)
{
	tern_dtype_from_f32(p, dtype, v);
}
