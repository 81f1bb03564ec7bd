/* SPDX-License-Identifier: MIT */
/*
 * Fault injection from guest tests: each helper asks the host's QEMU,
 * through the QMP relay (tests/vm/qmp-relay.py, the transport of
 * tern_fabric_test.h), to set one inject-* property of chip @chip (QEMU
 * device tern<chip>; Documentation/chip/spec.rst, "Fault injection"). The
 * fault is armed at once and takes effect exactly once, when the chip next
 * does what it names; tern_inject_faults() reads how many took effect.
 *
 * Every call returns 0 or a negative errno, as tern_vm_request(): -ENOSYS
 * when no relay runs (tests then SKIP), -EIO when the relay or QEMU refused
 * the value (tern_vm_error() says why), -ETIMEDOUT without an answer.
 * link-down is tern_vm_set_link_down() of tern_fabric_test.h.
 */
#ifndef TERN_INJECT_H
#define TERN_INJECT_H

#include <stdbool.h>

#include "tern_fabric_test.h"

/* One qom-set of @prop = @value on chip @chip. */
static inline int tern_inject_set(unsigned int chip, const char *prop, const char *value)
{
	char line[160];

	if ((size_t)snprintf(line, sizeof(line), "qom-set %u %s %s", chip, prop, value) >=
	    sizeof(line))
		return tern_vm_fail(-EINVAL, "injection request too long");
	return tern_vm_request(line, NULL, 0);
}

/*
 * tern_inject_ecc() - an HBM ECC error in the 64-byte line holding @offset:
 * corrected (@uncorrected false: the next read of the line counts it, data
 * intact) or uncorrected (the line is poisoned: reads fail until it is
 * written whole).
 */
static inline int tern_inject_ecc(unsigned int chip, bool uncorrected, uint64_t offset)
{
	char v[32];

	snprintf(v, sizeof(v), "%s:0x%" PRIx64, uncorrected ? "ue" : "ce", offset);
	return tern_inject_set(chip, "inject-ecc", v);
}

/* tern_inject_dma_abort() - the next descriptor of hardware queue @queue aborts. */
static inline int tern_inject_dma_abort(unsigned int chip, unsigned int queue)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", queue);
	return tern_inject_set(chip, "inject-dma-abort", v);
}

/* tern_inject_core_hang() - the next launch of core @core never ends. */
static inline int tern_inject_core_hang(unsigned int chip, unsigned int core)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", core);
	return tern_inject_set(chip, "inject-core-hang", v);
}

/*
 * tern_inject_lost_completion() - the next job done on hardware queue @idx
 * (@core false) or core @idx writes no fence and raises no interrupt.
 */
static inline int tern_inject_lost_completion(unsigned int chip, bool core, unsigned int idx)
{
	char v[24];

	snprintf(v, sizeof(v), "%s:%u", core ? "core" : "queue", idx);
	return tern_inject_set(chip, "inject-lost-completion", v);
}

/* tern_inject_aer() - a PCIe AER error: "correctable", "nonfatal" or "fatal". */
static inline int tern_inject_aer(unsigned int chip, const char *kind)
{
	return tern_inject_set(chip, "inject-aer", kind);
}

/* tern_inject_faults() - faults that took effect on chip @chip so far. */
static inline int tern_inject_faults(unsigned int chip, uint64_t *count)
{
	return tern_vm_qom_get_u64(chip, "faults-injected", count);
}

#endif /* TERN_INJECT_H */
