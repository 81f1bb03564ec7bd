/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: RAS (HBM ECC errors, include/tern_regs.h
 * "RAS") and fault injection ("Fault injection"). The injection entry points
 * are in tern_model.h; this is what the DMA engines, the launch rings and the
 * registers use.
 *
 * Locking: every field is protected by dev->lock, except `active` and
 * `poisoned` (atomics, read without the lock on the fast path of every HBM
 * access so that a chip with no ECC error pays one load) and `faults`.
 * tern_ras_read() and tern_ras_write() take dev->lock themselves: they are
 * called by workers that do not hold it.
 */
#ifndef TERN_RAS_H
#define TERN_RAS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct tern_dev;
struct tern_launch_ring;

#define TERN_RAS_MAX_LINES	1024	/* poisoned or CE-pending lines each */

struct tern_ras {
	atomic_uint active;		/* nce + nue */
	atomic_uint poisoned;		/* nue: RAS_POISONED */
	_Atomic uint64_t faults;	/* faults-injected */
	/*
	 * Line offsets (multiples of TERN_RAS_LINE). A poisoned line's bit 0
	 * is set once a read has reported it (counted in faults once).
	 */
	uint64_t ce[TERN_RAS_MAX_LINES];
	uint64_t ue[TERN_RAS_MAX_LINES];
	unsigned int nce, nue;
	uint32_t status;		/* RAS_STATUS: TERN_RAS_* */
	uint64_t ce_addr, ue_addr;	/* RAS_CE_ADDR, RAS_UE_ADDR */
	/* injected, not yet taken: bit q / bit c */
	uint64_t dma_abort, lost_queue;
	uint32_t core_hang, lost_core;
	uint32_t hung;			/* cores running a hung job */
};

/* Reads of [off, off + len) of the HBM by an engine: 0 or
 * TERN_ERR_ECC_UNCORRECTED with *bad = the first poisoned line. Counts and
 * latches CEs and UEs. Worker or MMIO caller, dev->lock NOT held. */
uint32_t tern_ras_read(struct tern_dev *dev, uint64_t off, uint64_t len,
		       uint64_t *bad);
/* tern_ras_read() as a descriptor error in f (what: what was read). */
uint32_t tern_ras_check(struct tern_dev *dev, uint64_t off, uint64_t len,
			const char *what, struct fault *f);
/* An engine wrote [off, off + len): lines it covers whole are good again. */
void tern_ras_write(struct tern_dev *dev, uint64_t off, uint64_t len);

/* ---- dev->lock held ---- */

/* Device reset: RAS_STATUS, the addresses and pending injections cleared;
 * the poison stays (the bad data is still in the HBM). */
void tern_ras_reset(struct tern_dev *dev);
bool tern_ras_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v);
bool tern_ras_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val);
/* TERN_INT_RAS if RAS_STATUS has a bit set. */
uint32_t tern_ras_int(const struct tern_dev *dev);
/* A fault took effect. Any thread. */
void tern_ras_count(struct tern_dev *dev);

/* Core c's next launch hangs? Takes the injection (counted). */
bool tern_ras_take_hang(struct tern_dev *dev, unsigned int c);
/* Core c is running a hung job: ABORT does nothing. */
bool tern_ras_core_hung(const struct tern_dev *dev, unsigned int c);
/* The hung job of r: waits (lock NOT held) until the core or the device
 * is reset; returns ERR_ABORTED. */
uint32_t tern_ras_hang(struct tern_launch_ring *r);
/* TERN_C_CTRL_RESET of r's core: drop its job, reset its ring. */
void tern_ras_core_reset(struct tern_launch_ring *r);

#endif /* TERN_RAS_H */
