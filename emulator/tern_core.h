/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern compute core: runs one program (include/tern_isa.h) on one core's
 * SBUF, PSUM, semaphores and four engines, and reports its job status with
 * modeled cycles. Plain C11, no QEMU headers; Documentation/chip/isa.rst
 * describes the behaviour.
 *
 * A core is used by one thread at a time: tern_core_run() executes a whole
 * job synchronously on the calling thread (the device's worker for that
 * core). The four engines are interleaved deterministically in modeled time;
 * the job's data effects happen in that order.
 */
#ifndef TERN_CORE_H
#define TERN_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_isa.h"

struct tern_core;

/* A buffer slot bound at launch: size bytes at offset in the HBM. */
struct tern_core_slot {
	uint64_t offset;
	uint64_t size;
};

/*
 * Check an SBUF size (bytes per core): TERN_SBUF_SIZE_MIN..MAX, a multiple
 * of TERN_SBUF_SIZE_ALIGN. On failure writes a message into err.
 */
bool tern_core_sbuf_size_check(uint64_t sbuf_size, char *err, size_t errlen);

/*
 * Create a core over the chip's HBM (hbm_size bytes at hbm, which must
 * outlive the core). Returns NULL with a message in err on failure.
 */
struct tern_core *tern_core_create(uint8_t *hbm, uint64_t hbm_size,
				   uint64_t sbuf_size, char *err,
				   size_t errlen);
void tern_core_destroy(struct tern_core *core);

/*
 * Run one job: the program of len bytes at prog (read once, at the start;
 * later changes to those bytes have no effect), with slot i of the
 * program bound to slots[i] (nslots of them; the program's header says how
 * many it uses). Fills *st and returns st->status (TERN_JOB_*).
 *
 * Every field of the program is validated before anything runs: a bad
 * header, slot or instruction ends the job with TERN_JOB_FAULT and changes
 * nothing. A deadlock is found while running; the effects of the
 * instructions completed before it stay. The core is ready for the next
 * job either way: SBUF, PSUM and semaphores read zero at the start of every
 * job.
 *
 * cancel (may be NULL) is polled before each instruction: once it reads
 * true the job stops with TERN_JOB_ABORTED. It may be set from any thread.
 */
uint32_t tern_core_run(struct tern_core *core, const void *prog, size_t len,
		       const struct tern_core_slot *slots,
		       unsigned int nslots, const atomic_bool *cancel,
		       struct tern_job_status *st);

/*
 * tern_core_run() with slot i read-only when bit i of read_only is set (a
 * slot mapped without WRITE in its context): a DMA_STORE to it is a
 * TERN_CERR_BAD_SLOT fault found before anything runs.
 */
uint32_t tern_core_run_ro(struct tern_core *core, const void *prog,
			  size_t len, const struct tern_core_slot *slots,
			  unsigned int nslots, uint64_t read_only,
			  const atomic_bool *cancel,
			  struct tern_job_status *st);

/*
 * Profiles (tern_isa.h, "Profiles"). tern_core_profile_next() asks the
 * next tern_core_run*() to record one struct tern_prof_rec per instruction
 * it completes, for a profile buffer of size bytes (>=
 * TERN_PROF_HEADER_SIZE): the records that fit are kept, the others only
 * counted. A job without it records nothing and costs nothing more.
 *
 * tern_core_profile_write() writes the last job's header and records in
 * little-endian into dst, never more than the size given before the job;
 * returns false (writing nothing) if that job was not profiled. Each
 * profile is written at most once. count and dropped (may be NULL) get the
 * header's fields.
 */
void tern_core_profile_next(struct tern_core *core, uint64_t size);
bool tern_core_profile_write(struct tern_core *core, uint8_t *dst,
			     uint32_t *count, uint32_t *dropped);

/*
 * ECC of the HBM (optional, default none): read is called before a
 * DMA_LOAD reads [off, off + len) of the HBM and returns false with the
 * offset of a poisoned line in *bad to end the job TERN_JOB_FAULT with
 * TERN_CERR_ECC (detail: that offset); write is called after a DMA_STORE
 * wrote a contiguous run. Called on the job's thread.
 */
typedef bool (*tern_core_hbm_read_fn)(void *opaque, uint64_t off,
				      uint64_t len, uint64_t *bad);
typedef void (*tern_core_hbm_write_fn)(void *opaque, uint64_t off,
				       uint64_t len);
void tern_core_set_hbm_hooks(struct tern_core *core,
			     tern_core_hbm_read_fn read,
			     tern_core_hbm_write_fn write, void *opaque);

/* The last job's fault explained in one line ("" if it did not fault). */
const char *tern_core_fault_message(const struct tern_core *core);

/* Names for messages and traces ("?" if unknown). */
const char *tern_cerr_name(uint32_t error);
const char *tern_engine_name(uint32_t engine);
const char *tern_core_opcode_name(uint32_t opcode);

/*
 * Modeled cycles of one instruction, as tern_core_run() counts them: 0 for
 * an unknown opcode, meaningful for a valid instruction. Exposed so the
 * program builder and the tests can check the cost model.
 */
uint64_t tern_core_insn_cycles(const union tern_insn *insn);

#endif /* TERN_CORE_H */
