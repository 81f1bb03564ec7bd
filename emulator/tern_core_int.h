/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern compute core, internal: the state shared by tern_core.c (life cycle,
 * jobs, the engine scheduler and the cost model), tern_core_check.c
 * (decoding and validation) and tern_core_exec.c (executing instructions).
 * Not part of the embedding contract, which is tern_core.h.
 *
 * A core is used by one thread at a time (the job's), so nothing here is
 * locked; only the cancel flag is read atomically.
 */
#ifndef TERN_CORE_INT_H
#define TERN_CORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tern_core.h"

#define MSG_LEN		320
/*
 * Host bytes between partitions: the partition's size plus room for the
 * matmul kernel's whole-vector reads past the end of a row, an odd number
 * of cache lines so that the same columns of consecutive partitions (what
 * MATMUL reads) do not all fall in one cache set.
 */
#define PART_PAD	(5 * 64)
#define SBUF_PITCH(c)	((size_t)(c)->sbuf_part + PART_PAD)
#define PSUM_PITCH	((size_t)TERN_PSUM_PART_SIZE + PART_PAD)

/* Packed matmul panels and the staging copy of dst (rows of MM_LDB). */
#define MM_A_FLOATS	\
	(TERN_MATMUL_MAX_K * (TERN_MATMUL_MAX_M + TK_MM_MAX_MR))
#define MM_B_FLOATS	\
	(TERN_MATMUL_MAX_K * (TERN_MATMUL_MAX_N + TK_MM_MAX_NR))
#define MM_LDB		TERN_MATMUL_MAX_N

/* Byte offsets of the operand tiles inside an instruction. */
#define OFF_DST		12
#define OFF_SRC0	28
#define OFF_SRC1	44
#define OFF_IMM		60

/* A decoded tile access pattern. */
struct ap {
	uint32_t offset;
	uint8_t mem, dtype, part, nparts;
	uint32_t n0, n1;
	int32_t s0, s1;
};

/* A decoded instruction; which fields matter depends on the opcode. */
struct insn {
	uint8_t opcode, op, flags, sync, wait_sem, signal_sem;
	uint32_t wait_value;
	struct ap dst, src0, src1;	/* ACTIVATE: src, bias; DMA: dst */
	uint32_t imm;			/* tile imm; ACTIVATE scale */
	uint32_t bias;			/* ACTIVATE bias immediate */
	int32_t base, pstep, fstep;	/* IOTA */
	uint32_t slot;			/* DMA */
	uint64_t hbm_offset;
	int64_t pstride, hstride[2];
};

struct tern_core {
	uint8_t *hbm;
	uint64_t hbm_size;
	uint8_t *sbuf;		/* partitions SBUF_PITCH() apart */
	uint64_t sbuf_size;
	uint32_t sbuf_part;	/* bytes per SBUF partition */
	uint8_t *psum;		/* partitions PSUM_PITCH apart */
	/* bytes per partition the running job may write, zeroed after it */
	uint32_t sbuf_dirty, psum_dirty;

	uint8_t *prog;		/* private copy of the running program */
	size_t prog_cap;
	uint64_t *sem_times;
	size_t sem_cap;

	/*
	 * Profile (tern_core_profile_next/_write): prof_arm is the buffer
	 * size asked for the next job; prof_on whether the running (or last)
	 * job records, into prof_recs (room for prof_room), prof_n kept and
	 * prof_dropped counted beyond them.
	 */
	uint64_t prof_arm;
	bool prof_on;
	struct tern_prof_rec *prof_recs;
	size_t prof_cap;	/* bytes allocated at prof_recs */
	uint64_t prof_room;
	uint32_t prof_n, prof_dropped;
	uint64_t prof_cycles;

	float *buf[3];		/* row buffers, TK_CHUNK floats each */
	float *mm_a, *mm_b;	/* packed operands */
	float *mm_c;		/* staging: MATMUL dst, TRANSPOSE */

	char msg[MSG_LEN];

	/* ECC hooks, tern_core_set_hbm_hooks() */
	tern_core_hbm_read_fn hbm_read;
	tern_core_hbm_write_fn hbm_write;
	void *hbm_opaque;
};

/* What a job needs besides the core. */
struct job {
	struct tern_job_status *st;
	const struct tern_core_slot *slots;
	uint64_t read_only;			/* bit i: slot i is read-only */
	unsigned int nslots, nsems;
	uint32_t signals[TERN_NUM_SEMS];	/* SIGNALs per semaphore */
	uint32_t sbuf_hi, psum_hi;		/* bytes/partition written */
	const atomic_bool *cancel;
	bool aborted;
	bool ecc_hit;		/* a DMA_LOAD read a poisoned HBM line */
	uint64_t ecc_off;	/* its offset */
};

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline float imm_f32(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

static inline int64_t min0(int64_t v)
{
	return v < 0 ? v : 0;
}

static inline int64_t max0(int64_t v)
{
	return v > 0 ? v : 0;
}

static inline uint32_t ap_free(const struct ap *a)
{
	return a->n0 * a->n1;
}

static inline uint32_t ap_esz(const struct ap *a)
{
	return tern_dtype_size(a->dtype);
}

static inline bool same_shape(const struct ap *a, const struct ap *b)
{
	return a->nparts == b->nparts && a->n0 == b->n0 && a->n1 == b->n1;
}

/* Byte range [lo, hi) a tile touches inside each of its partitions. */
static inline void ap_extent(const struct ap *a, int64_t *lo, int64_t *hi)
{
	int64_t esz = ap_esz(a);
	int64_t d0 = (int64_t)(a->n0 - 1) * a->s0;
	int64_t d1 = (int64_t)(a->n1 - 1) * a->s1;

	*lo = a->offset + (min0(d0) + min0(d1)) * esz;
	*hi = a->offset + (max0(d0) + max0(d1)) * esz + esz;
}

/* Host bytes from one partition of a tile's memory to the next. */
static inline size_t ap_pitch(const struct tern_core *c, const struct ap *a)
{
	return a->mem == TERN_AP_SBUF ? SBUF_PITCH(c) : PSUM_PITCH;
}

/* Start of partition p (0-based within the tile) of a tile, at its offset. */
static inline uint8_t *ap_row(struct tern_core *c, const struct ap *a,
			      uint32_t p)
{
	uint8_t *base = a->mem == TERN_AP_SBUF ? c->sbuf : c->psum;

	return base + (size_t)(a->part + p) * ap_pitch(c, a) + a->offset;
}

/* Element j (in free order) of partition p of a tile. */
static inline uint8_t *ap_elem(struct tern_core *c, const struct ap *a,
			       uint32_t p, uint32_t j)
{
	int64_t e = (int64_t)(j / a->n0) * a->s1 + (int64_t)(j % a->n0) * a->s0;

	return ap_row(c, a, p) + e * ap_esz(a);
}

static inline bool cancelled(struct job *j)
{
	if (!j->aborted && j->cancel &&
	    atomic_load_explicit(j->cancel, memory_order_relaxed))
		j->aborted = true;
	return j->aborted;
}

/* ---- tern_core_check.c ---- */

/* Decode an instruction (no checks). */
void tern_core_decode(const uint8_t *r, struct insn *in);

/*
 * Check the program (size bytes at p, the core's private copy) and the slot
 * table; fill j's nslots, nsems, signals and written extents. Returns 0, or
 * the error after recording the fault in j->st and the core's message.
 */
uint32_t tern_core_check(struct tern_core *c, struct job *j, const uint8_t *p,
			 size_t size, const struct tern_core_slot *slots,
			 unsigned int nslots);

/* Record a fault in j->st and the core's message; returns error. */
uint32_t tern_core_fault(struct tern_core *c, struct job *j, uint32_t error,
			 uint32_t engine, uint32_t index, uint64_t detail,
			 const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* ---- tern_core_exec.c ---- */

/* Run one valid instruction's data effects (stops early if cancelled). */
void tern_core_exec(struct tern_core *c, struct job *j, const struct insn *in);

#endif /* TERN_CORE_INT_H */
