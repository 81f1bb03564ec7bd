// SPDX-License-Identifier: MIT
/*
 * libtern error reporting: messages for error codes and the per-thread
 * detail of the last failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tern_internal.h"
#include "tern_isa.h"
#include "tern_regs.h"

static __thread char last_error[512];
static __thread char strerror_buf[64];

int tern_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

TERN_EXPORT const char *tern_last_error(void)
{
	return last_error;
}

TERN_EXPORT const char *tern_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case -ENODEV:
		return "no such tern device, or the device was removed";
	case -EACCES:
		return "permission denied on the tern device node";
	case -EIO:
		return "device reported an error for the job (a DMA error or a core fault)";
	case -ECANCELED:
		return "job aborted by a device reset or unbind";
	case -ETIME:
		return "timed out waiting for the device";
	case -ETIMEDOUT:
		return "compute job ran past its timeout and was aborted";
	case -EPROTO:
		return "kernel driver speaks an incompatible tern UAPI";
	case -EBUSY:
		return "busy: the device still has buffers or kernels, or the job is not done";
	}
	if (code < 0) {
		/* GNU strerror_r: returns a static string or fills our buffer. */
		return strerror_r(-code, strerror_buf, sizeof(strerror_buf));
	}
	snprintf(strerror_buf, sizeof(strerror_buf), "not an error code (%d)", code);
	return strerror_buf;
}

const char *tern_device_error_name(uint32_t code)
{
	static const char *const names[TERN_ERR_COUNT] = {
		[TERN_ERR_NONE] = "no error",
		[TERN_ERR_BAD_OPCODE] = "unknown descriptor opcode",
		[TERN_ERR_BAD_FLAGS] = "unknown or conflicting descriptor flags",
		[TERN_ERR_RESERVED] = "reserved descriptor field not zero",
		[TERN_ERR_HBM_RANGE] = "HBM range outside the HBM",
		[TERN_ERR_HOST_DMA] = "host address is not RAM",
		[TERN_ERR_SGL] = "malformed scatter-gather list",
		[TERN_ERR_BAD_RING] = "bad ring base or size",
		[TERN_ERR_DOORBELL] = "bad doorbell",
		[TERN_ERR_RING_FETCH] = "descriptor fetch failed",
		[TERN_ERR_FENCE] = "fence write failed",
		[TERN_ERR_BAD_LAUNCH] = "launch: program size or slot count out of range",
	};

	if (code < TERN_ERR_COUNT && names[code])
		return names[code];
	return "unknown device error";
}

const char *tern_compute_error_text(uint32_t code)
{
	/* At most 31 characters: they go into tern_launch_status.error_name. */
	static const char *const names[TERN_CERR_COUNT] = {
		[TERN_CERR_NONE] = "",
		[TERN_CERR_BAD_PROGRAM] = "bad program header",
		[TERN_CERR_ILLEGAL_OPCODE] = "illegal opcode",
		[TERN_CERR_RESERVED] = "reserved field not zero",
		[TERN_CERR_BAD_DTYPE] = "bad dtype",
		[TERN_CERR_BAD_OPERAND] = "bad operand",
		[TERN_CERR_SBUF_RANGE] = "SBUF access out of range",
		[TERN_CERR_PSUM_RANGE] = "PSUM access out of range",
		[TERN_CERR_BAD_SLOT] = "bad buffer slot",
		[TERN_CERR_HBM_RANGE] = "HBM access out of range",
		[TERN_CERR_DEADLOCK] = "semaphore deadlock",
		[TERN_CERR_ECC] = "uncorrectable HBM ECC error",
	};

	if (code < TERN_CERR_COUNT)
		return names[code];
	return "unknown compute error";
}

const char *tern_engine_text(uint32_t engine)
{
	static const char *const names[TERN_NUM_ENGINES] = {
		[TERN_ENGINE_TENSOR] = "tensor",
		[TERN_ENGINE_VECTOR] = "vector",
		[TERN_ENGINE_SCALAR] = "scalar",
		[TERN_ENGINE_DMA] = "DMA",
	};

	return engine < TERN_NUM_ENGINES ? names[engine] : "?";
}
