// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern compute core: life cycle, jobs, the engine scheduler with its
 * semaphores, and the cost model. Validation is in tern_core_check.c and
 * the instructions' data effects in tern_core_exec.c.
 *
 * A job runs in two passes over a private copy of the program. The first
 * decodes and checks every field of the header, the slot table and every
 * instruction, so a bad program faults before anything runs. The second is
 * a discrete-event simulation: the engine whose next instruction can start
 * earliest in modeled time (its semaphore wait satisfied) runs it, so the
 * data effects happen in modeled-time order and a wait sees exactly the
 * signals that happened before it could start. When no engine can start,
 * the job has deadlocked.
 */
#include "tern_core_int.h"
#include "tern_kernels.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

/* MATMUL reads whole vectors up to a panel width past a row's end. */
_Static_assert(PART_PAD >= TK_MM_MAX_NR * sizeof(float),
	       "partition padding too small for the matmul kernels");

/* One engine's stream and position. */
struct engine {
	const uint8_t *code;
	uint32_t count, pc;
	uint64_t t; /* modeled time its next instruction may start */
	bool done;
	struct insn cur;	/* decoded instruction pc */
};

struct sem {
	uint32_t count;		/* signals so far */
	uint32_t cap;
	uint64_t *times;	/* modeled times of those signals, sorted */
};

/* ---- cost model ---- */

static uint64_t pe_passes(const struct ap *a)
{
	return a->dtype == TERN_DT_FP32 ? TERN_COST_PE_FP32_PASSES : 1;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static uint64_t dma_cycles(const struct insn *in)
{
	const struct ap *t = &in->dst;
	uint64_t esz = ap_esz(t), run = esz, bytes, eff, rate;

	/* the longest contiguous HBM run, innermost dimension first */
	if (t->n0 == 1 || in->hstride[0] == (int64_t)run) {
		run *= t->n0;
		if (t->n1 == 1 || in->hstride[1] == (int64_t)run) {
			run *= t->n1;
			if (t->nparts == 1 || in->pstride == (int64_t)run)
				run *= t->nparts;
		}
	}
	bytes = (uint64_t)t->nparts * ap_free(t) * esz;
	eff = bytes / run * div_up(run, TERN_COST_DMA_BURST) *
	      TERN_COST_DMA_BURST;
	rate = TERN_COST_DMA_BYTES_PER_CYCLE;
	if (rate > TERN_COST_HBM_BYTES_PER_CYCLE)
		rate = TERN_COST_HBM_BYTES_PER_CYCLE;
	if (rate > (uint64_t)t->nparts * TERN_COST_SBUF_PART_BYTES_PER_CYCLE)
		rate = (uint64_t)t->nparts *
		       TERN_COST_SBUF_PART_BYTES_PER_CYCLE;
	return TERN_COST_INSN_CYCLES + TERN_COST_DMA_FIXED_CYCLES +
	       div_up(eff, rate);
}

static uint64_t insn_cycles(const struct insn *in)
{
	switch (in->opcode) {
	case TERN_OP_MATMUL: {
		uint64_t passes = pe_passes(&in->src0) > pe_passes(&in->src1) ?
				  pe_passes(&in->src0) : pe_passes(&in->src1);

		return TERN_COST_INSN_CYCLES + TERN_COST_PE_FILL_CYCLES +
		       (uint64_t)ap_free(&in->src1) * passes;
	}
	case TERN_OP_TRANSPOSE:
		return TERN_COST_INSN_CYCLES + TERN_COST_PE_FILL_CYCLES +
		       (uint64_t)in->src0.nparts * pe_passes(&in->src0);
	case TERN_OP_REDUCE:
		return TERN_COST_INSN_CYCLES + ap_free(&in->src0);
	case TERN_OP_TENSOR_TENSOR:
	case TERN_OP_TENSOR_SCALAR:
	case TERN_OP_UNARY:
	case TERN_OP_CAST:
	case TERN_OP_COPY:
	case TERN_OP_MEMSET:
	case TERN_OP_IOTA:
	case TERN_OP_ACTIVATE:
		/* one element per lane per cycle; a lane per partition */
		return TERN_COST_INSN_CYCLES + ap_free(&in->dst);
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		if (!ap_esz(&in->dst))
			return 0;
		return dma_cycles(in);
	default:
		return TERN_COST_INSN_CYCLES;
	}
}

uint64_t tern_core_insn_cycles(const union tern_insn *insn)
{
	struct insn in;

	tern_core_decode(insn->raw, &in);
	return strcmp(tern_core_opcode_name(in.opcode), "?") ? insn_cycles(&in) : 0;
}

/* ---- profiles ---- */

_Static_assert(sizeof(struct tern_prof_header) == TERN_PROF_HEADER_SIZE,
	       "profile header layout");
_Static_assert(sizeof(struct tern_prof_rec) == TERN_PROF_REC_SIZE,
	       "profile record layout");
_Static_assert(offsetof(struct tern_prof_rec, engine) == 40 &&
	       offsetof(struct tern_prof_rec, signal_sem) == 44,
	       "profile record field offsets");

/* Bytes a DMA_LOAD/DMA_STORE moves between the HBM and the SBUF. */
static uint64_t dma_bytes(const struct insn *in)
{
	const struct ap *t = &in->dst;

	return (uint64_t)t->nparts * ap_free(t) * ap_esz(t);
}

/* Keep the record of an instruction that ran from start to end. */
static void prof_record(struct tern_core *c, unsigned int e, uint32_t index,
			const struct insn *in, uint64_t ready, uint64_t start,
			uint64_t end)
{
	struct tern_prof_rec *r;

	if (c->prof_n >= c->prof_room) {
		if (c->prof_dropped < UINT32_MAX)
			c->prof_dropped++;
		return;
	}
	r = &c->prof_recs[c->prof_n++];
	memset(r, 0, sizeof(*r));
	r->ready = ready;
	r->start = start;
	r->end = end;
	if (in->opcode == TERN_OP_DMA_LOAD || in->opcode == TERN_OP_DMA_STORE)
		r->bytes = dma_bytes(in);
	r->index = index;
	r->wait_value = in->wait_value;
	r->engine = (uint8_t)e;
	r->opcode = in->opcode;
	r->sync = in->sync;
	r->wait_sem = in->wait_sem;
	r->signal_sem = in->signal_sem;
}

/*
 * Room for the records of a checked program of p: those that fit the
 * buffer, at most one per instruction. Without the memory for them the
 * records that do not fit what there is are dropped.
 */
static void prof_reserve(struct tern_core *c, const uint8_t *p)
{
	uint64_t insns = 0, room;

	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		insns += le32(p + 28 + 8 * e);
	room = (c->prof_arm - TERN_PROF_HEADER_SIZE) / TERN_PROF_REC_SIZE;
	if (room > insns)
		room = insns;
	if (room > UINT32_MAX)
		room = UINT32_MAX;
	if (room * sizeof(struct tern_prof_rec) > c->prof_cap) {
		void *n = realloc(c->prof_recs,
				  room * sizeof(struct tern_prof_rec));

		if (n) {
			c->prof_recs = n;
			c->prof_cap = room * sizeof(struct tern_prof_rec);
		}
	}
	c->prof_room = c->prof_cap / sizeof(struct tern_prof_rec);
	if (c->prof_room > room)
		c->prof_room = room;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void tern_core_profile_next(struct tern_core *c, uint64_t size)
{
	c->prof_arm = size < TERN_PROF_HEADER_SIZE ? 0 : size;
}

bool tern_core_profile_write(struct tern_core *c, uint8_t *dst,
			     uint32_t *count, uint32_t *dropped)
{
	if (!c->prof_on)
		return false;
	c->prof_on = false;
	memset(dst, 0, TERN_PROF_HEADER_SIZE);
	put32(dst + 0, TERN_PROF_MAGIC);
	put32(dst + 4, TERN_PROF_VERSION);
	put32(dst + 8, c->prof_n);
	put32(dst + 12, c->prof_dropped);
	put64(dst + 16, c->prof_cycles);
	put32(dst + 24, TERN_PROF_REC_SIZE);
	dst += TERN_PROF_HEADER_SIZE;
	for (uint32_t i = 0; i < c->prof_n; i++, dst += TERN_PROF_REC_SIZE) {
		const struct tern_prof_rec *r = &c->prof_recs[i];

		memset(dst, 0, TERN_PROF_REC_SIZE);
		put64(dst + 0, r->ready);
		put64(dst + 8, r->start);
		put64(dst + 16, r->end);
		put64(dst + 24, r->bytes);
		put32(dst + 32, r->index);
		put32(dst + 36, r->wait_value);
		dst[40] = r->engine;
		dst[41] = r->opcode;
		dst[42] = r->sync;
		dst[43] = r->wait_sem;
		dst[44] = r->signal_sem;
	}
	if (count)
		*count = c->prof_n;
	if (dropped)
		*dropped = c->prof_dropped;
	return true;
}

/* ---- the scheduler ---- */

static void sem_signal(struct sem *s, uint64_t t)
{
	uint32_t i = s->count;

	/* signals arrive almost in time order: insert from the end */
	while (i > 0 && s->times[i - 1] > t) {
		s->times[i] = s->times[i - 1];
		i--;
	}
	s->times[i] = t;
	s->count++;
}

/* When the engine's next instruction can start, or false if it must wait. */
static bool ready_at(const struct engine *en, const struct sem *sems,
		     uint64_t *start)
{
	const struct insn *in = &en->cur;
	uint64_t t = en->t;

	if (in->sync & TERN_SYNC_WAIT) {
		const struct sem *s = &sems[in->wait_sem];

		if (in->wait_value > s->count)
			return false;
		if (in->wait_value && s->times[in->wait_value - 1] > t)
			t = s->times[in->wait_value - 1];
	}
	*start = t;
	return true;
}

static void deadlock(struct tern_core *c, struct job *j,
		     const struct engine *eng, const struct sem *sems)
{
	char blocked[256] = "";
	size_t n = 0;
	int first = -1;

	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		const struct insn *in = &eng[e].cur;

		if (eng[e].done)
			continue;
		if (first < 0)
			first = (int)e;
		n += (size_t)snprintf(blocked + n, sizeof(blocked) - n,
				      "%s%s %u waits sem %u >= %u (at %u)",
				      n ? ", " : "", tern_engine_name(e),
				      eng[e].pc, in->wait_sem, in->wait_value,
				      sems[in->wait_sem].count);
		if (n >= sizeof(blocked))
			n = sizeof(blocked) - 1;
	}
	tern_core_fault(c, j, TERN_CERR_DEADLOCK, (uint32_t)first,
			eng[first].pc,
			(uint64_t)eng[first].cur.wait_sem << 32 |
				eng[first].cur.wait_value,
			"deadlock: %s", blocked);
}

static void run_streams(struct tern_core *c, struct job *j, const uint8_t *p)
{
	struct tern_job_status *st = j->st;
	struct engine eng[TERN_NUM_ENGINES];
	struct sem sems[TERN_NUM_SEMS];
	uint64_t *times = c->sem_times;

	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++) {
		sems[s] = (struct sem){ 0, j->signals[s], times };
		times += j->signals[s];
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		struct engine *en = &eng[e];

		en->code = p + le32(p + 24 + 8 * e);
		en->count = le32(p + 28 + 8 * e);
		en->pc = 0;
		en->t = 0;
		en->done = !en->count;
		if (!en->done)
			tern_core_decode(en->code, &en->cur);
	}
	for (;;) {
		uint64_t best_start = UINT64_MAX, start, cost;
		int best = -1;
		bool busy = false;
		struct engine *en;

		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			if (eng[e].done)
				continue;
			busy = true;
			if (ready_at(&eng[e], sems, &start) &&
			    start < best_start) {
				best = (int)e;
				best_start = start;
			}
		}
		if (!busy)
			break;
		if (best < 0) {
			deadlock(c, j, eng, sems);
			break;
		}
		if (cancelled(j))
			break;
		en = &eng[best];
		tern_core_exec(c, j, &en->cur);
		if (j->ecc_hit) {
			tern_core_fault(c, j, TERN_CERR_ECC, (uint32_t)best,
					en->pc, j->ecc_off, "uncorrected ECC "
					"error in the HBM line at 0x%" PRIx64,
					j->ecc_off);
			break;
		}
		if (j->aborted)
			break;
		cost = insn_cycles(&en->cur);
		if (c->prof_on)
			prof_record(c, (unsigned int)best, en->pc, &en->cur,
				    en->t, best_start, best_start + cost);
		en->t = best_start + cost;
		st->busy[best] += cost;
		st->insns[best]++;
		if (en->cur.sync & TERN_SYNC_SIGNAL)
			sem_signal(&sems[en->cur.signal_sem], en->t);
		if (en->cur.opcode == TERN_OP_END || ++en->pc == en->count)
			en->done = true;
		else
			tern_core_decode(en->code + (size_t)en->pc *
							    TERN_INSN_SIZE,
					 &en->cur);
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		if (eng[e].t > st->cycles)
			st->cycles = eng[e].t;
	if (j->aborted && !j->ecc_hit) {
		st->status = TERN_JOB_ABORTED;
		snprintf(c->msg, sizeof(c->msg), "job cancelled");
	}
}

/* ---- life cycle and jobs ---- */

bool tern_core_sbuf_size_check(uint64_t sbuf_size, char *err, size_t errlen)
{
	if (sbuf_size < TERN_SBUF_SIZE_MIN || sbuf_size > TERN_SBUF_SIZE_MAX ||
	    sbuf_size % TERN_SBUF_SIZE_ALIGN) {
		snprintf(err, errlen, "sbuf-size %" PRIu64 " is invalid: it "
			 "must be a multiple of %u KiB from %u MiB to %u MiB",
			 sbuf_size, TERN_SBUF_SIZE_ALIGN >> 10,
			 TERN_SBUF_SIZE_MIN >> 20, TERN_SBUF_SIZE_MAX >> 20);
		return false;
	}
	return true;
}

/*
 * SBUF and PSUM: page-aligned (so that every partition starts on a cache
 * line, PART_PAD being whole lines) zero pages that cost no host memory
 * until they are written.
 */
static void *zalloc_lazy(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void free_lazy(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

void tern_core_destroy(struct tern_core *c)
{
	if (!c)
		return;
	free_lazy(c->sbuf, TERN_PARTITIONS * SBUF_PITCH(c));
	free_lazy(c->psum, TERN_PARTITIONS * PSUM_PITCH);
	free(c->prog);
	free(c->sem_times);
	free(c->prof_recs);
	for (unsigned int i = 0; i < 3; i++)
		free(c->buf[i]);
	free(c->mm_a);
	free(c->mm_b);
	free(c->mm_c);
	free(c);
}

static void *zalloc_aligned(size_t size)
{
	void *p = aligned_alloc(64, size);

	if (p)
		memset(p, 0, size);
	return p;
}

struct tern_core *tern_core_create(uint8_t *hbm, uint64_t hbm_size,
				   uint64_t sbuf_size, char *err,
				   size_t errlen)
{
	struct tern_core *c;
	bool ok;

	if (!tern_core_sbuf_size_check(sbuf_size, err, errlen))
		return NULL;
	tk_init();
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->hbm = hbm;
	c->hbm_size = hbm_size;
	c->sbuf_size = sbuf_size;
	c->sbuf_part = (uint32_t)(sbuf_size / TERN_PARTITIONS);
	c->sbuf = zalloc_lazy(TERN_PARTITIONS * SBUF_PITCH(c));
	c->psum = zalloc_lazy(TERN_PARTITIONS * PSUM_PITCH);
	ok = c->sbuf && c->psum;
	for (unsigned int i = 0; i < 3; i++) {
		c->buf[i] = zalloc_aligned(TK_CHUNK * sizeof(float));
		ok = ok && c->buf[i];
	}
	c->mm_a = zalloc_aligned(MM_A_FLOATS * sizeof(float));
	c->mm_b = zalloc_aligned(MM_B_FLOATS * sizeof(float));
	c->mm_c = zalloc_aligned(TERN_MATMUL_MAX_M * MM_LDB * sizeof(float));
	if (!ok || !c->mm_a || !c->mm_b || !c->mm_c) {
		tern_core_destroy(c);
		snprintf(err, errlen, "out of memory for a %" PRIu64
			 "-byte SBUF", sbuf_size);
		return NULL;
	}
	return c;
}

const char *tern_core_fault_message(const struct tern_core *c)
{
	return c->msg;
}

static bool grow(void **p, size_t *cap, size_t need)
{
	void *n;

	if (need <= *cap)
		return true;
	n = realloc(*p, need);
	if (!n)
		return false;
	*p = n;
	*cap = need;
	return true;
}

static uint32_t run_job(struct tern_core *c, struct job *j,
			const uint8_t *prog, size_t len,
			const struct tern_core_slot *slots, unsigned int nslots)
{
	uint64_t nsig = 0;
	uint32_t size;
	uint32_t err;

	if (len < TERN_PROG_HEADER_SIZE)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 8,
				       "%zu bytes are too short for "
				       "a program header",
				       len);
	size = le32(prog + 8);
	if (size < TERN_PROG_HEADER_SIZE || size > len)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 8,
				       "program size %" PRIu32
				       " is not within %u..%zu",
				       size, TERN_PROG_HEADER_SIZE, len);
	/* read once: the bytes may change under us (guest memory) */
	if (!grow((void **)&c->prog, &c->prog_cap, size))
		return tern_core_fault(
			c, j, TERN_CERR_BAD_PROGRAM, TERN_ENGINE_NONE,
			TERN_INDEX_NONE, 8,
			"no memory for a %" PRIu32 "-byte program", size);
	memcpy(c->prog, prog, size);
	if (le32(c->prog + 8) != size)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 8,
				       "program size changed while "
				       "it was read");
	err = tern_core_check(c, j, c->prog, size, slots, nslots);
	if (err)
		return err;
	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++)
		nsig += j->signals[s];
	if (!grow((void **)&c->sem_times, &c->sem_cap,
		  (size_t)nsig * sizeof(uint64_t) + 1))
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 0,
				       "no memory for %" PRIu64 " signals",
				       nsig);
	if (c->prof_on)
		prof_reserve(c, c->prog);
	c->sbuf_dirty = j->sbuf_hi;
	c->psum_dirty = j->psum_hi;
	run_streams(c, j, c->prog);
	return j->st->error;
}

uint32_t tern_core_run(struct tern_core *c, const void *prog, size_t len,
		       const struct tern_core_slot *slots,
		       unsigned int nslots, const atomic_bool *cancel,
		       struct tern_job_status *st)
{
	return tern_core_run_ro(c, prog, len, slots, nslots, 0, cancel, st);
}

uint32_t tern_core_run_ro(struct tern_core *c, const void *prog, size_t len,
			  const struct tern_core_slot *slots,
			  unsigned int nslots, uint64_t read_only,
			  const atomic_bool *cancel,
			  struct tern_job_status *st)
{
	struct job j = { .st = st, .cancel = cancel, .read_only = read_only };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(st, 0, sizeof(*st));
	st->engine = TERN_ENGINE_NONE;
	st->index = TERN_INDEX_NONE;
	c->msg[0] = '\0';
	/* a profile asked for is this job's; the last one's is gone */
	c->prof_on = c->prof_arm != 0;
	c->prof_n = 0;
	c->prof_dropped = 0;
	c->prof_room = 0;
	run_job(c, &j, prog, len, slots, slots ? nslots : 0);
	c->prof_arm = 0;
	c->prof_cycles = st->cycles;
	/* leave SBUF and PSUM zero for the next job: only what was written */
	for (unsigned int p = 0; c->sbuf_dirty && p < TERN_PARTITIONS; p++)
		memset(c->sbuf + p * SBUF_PITCH(c), 0, c->sbuf_dirty);
	for (unsigned int p = 0; c->psum_dirty && p < TERN_PARTITIONS; p++)
		memset(c->psum + p * PSUM_PITCH, 0, c->psum_dirty);
	c->sbuf_dirty = 0;
	c->psum_dirty = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->wall_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
		      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	return st->status;
}
