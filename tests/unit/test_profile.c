// SPDX-License-Identifier: MIT
/*
 * tern model: launch profiles (include/tern_isa.h, "Profiles"). A program
 * on all four engines with semaphore waits is run on a core with a profile
 * asked for, directly and through launch rings (context 0 and a device VA
 * context); every record is checked against the program image and the
 * scheduling rules of Documentation/chip/isa.rst: ready is the engine's
 * previous end, start is ready or the wait's signal, end - start the
 * instruction's cost, and the records add up exactly to the job status.
 * Then truncation (dropped), a deadlock mid-program, a faulting and an
 * aborted job, launches refused for their profile buffer, and a profiled
 * job being byte-for-byte the same job as an unprofiled one.
 */
#include "mmu_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RAM layout (offsets into the test RAM), clear of mmu_util's */
#define LRING_OFF	0x180000u	/* core 0's launch ring */
#define STATUS_OFF(i)	(0x1c0000u + (i) * 128u)
/* HBM layout: slots at SLOT_OFF(0..5) end below 49 MiB */
#define PROG_HBM	0x3400000u
#define SLOTTAB_HBM	0x3f00000u
#define PROF_HBM	0x3800000u
#define PROF_MAX	0x100000u	/* bytes of HBM kept for a profile */
#define RING_ENTRIES	16
#define NP		128
#define MM_K		128
#define MM_M		64
#define MM_N		96
/* ctx 6 VAs */
#define VA_PROG		0x40000000ull
#define VA_PROF		0x40800000ull

/* A decoded profile record, read byte by byte (little-endian). */
struct rec {
	uint64_t ready, start, end, bytes;
	uint32_t index, wait_value;
	uint8_t engine, opcode, sync, wait_sem, signal_sem;
	uint8_t reserved[3];
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get64(p);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct rec rec_at(const uint8_t *prof, uint32_t i)
{
	const uint8_t *p = prof + TERN_PROF_HEADER_SIZE +
			   (size_t)i * TERN_PROF_REC_SIZE;
	struct rec r;

	r.ready = get64(p);
	r.start = get64(p + 8);
	r.end = get64(p + 16);
	r.bytes = get64(p + 24);
	r.index = get32(p + 32);
	r.wait_value = get32(p + 36);
	r.engine = p[40];
	r.opcode = p[41];
	r.sync = p[42];
	r.wait_sem = p[43];
	r.signal_sem = p[44];
	memcpy(r.reserved, p + 45, 3);
	return r;
}

/* Instruction index of engine's stream in the program image img. */
static const union tern_insn *insn_at(const uint8_t *img, unsigned int engine,
				      uint32_t index)
{
	const struct tern_prog_header *h = (const void *)img;

	if (index >= h->stream[engine].count)
		return NULL;
	return (const void *)(img + h->stream[engine].offset +
			      (size_t)index * TERN_INSN_SIZE);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Check the profile at prof (a buffer of size bytes) of the job that ran
 * img and ended with st; *waited gets the records that waited.
 */
static bool check_profile(const uint8_t *prof, uint64_t size,
			  const uint8_t *img, const struct tern_job_status *st,
			  unsigned int *waited)
{
	uint64_t busy[TERN_NUM_ENGINES] = { 0 }, prev_end[TERN_NUM_ENGINES] = { 0 };
	uint32_t insns[TERN_NUM_ENGINES] = { 0 }, total = 0, count, room;
	uint64_t last_start = 0, end_max = 0;
	uint64_t *sig[TERN_NUM_SEMS] = { NULL };
	uint32_t nsig[TERN_NUM_SEMS] = { 0 };
	bool ok = false;

	CHECK_EQ(get32(prof), TERN_PROF_MAGIC);
	CHECK_EQ(get32(prof + 4), TERN_PROF_VERSION);
	CHECK_EQ(get64(prof + 16), st->cycles);
	CHECK_EQ(get32(prof + 24), TERN_PROF_REC_SIZE);
	for (unsigned int k = 28; k < TERN_PROF_HEADER_SIZE; k++)
		CHECK_EQ(prof[k], 0);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		total += st->insns[e];
	count = get32(prof + 8);
	room = (uint32_t)((size - TERN_PROF_HEADER_SIZE) / TERN_PROF_REC_SIZE);
	CHECK_EQ(count, total < room ? total : room);
	CHECK_EQ(get32(prof + 12), total - count);
	*waited = 0;
	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++) {
		sig[s] = calloc(count + 1, sizeof(uint64_t));
		if (!sig[s])
			goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct rec r = rec_at(prof, i);
		const union tern_insn *in;
		uint64_t want_start, cost, bytes = 0;

		if (r.engine >= TERN_NUM_ENGINES) {
			printf("#   record %u: engine %u\n", i, r.engine);
			goto out;
		}
		in = insn_at(img, r.engine, r.index);
		cost = in ? tern_core_insn_cycles(in) : 0;
		if (in && (in->h.opcode == TERN_OP_DMA_LOAD ||
			   in->h.opcode == TERN_OP_DMA_STORE))
			bytes = (uint64_t)in->dma.sbuf.nparts *
				in->dma.sbuf.n[0] * in->dma.sbuf.n[1] *
				dt_size(in->dma.sbuf.dtype);
		want_start = r.ready;
		if (in && (in->h.sync & TERN_SYNC_WAIT) && in->h.wait_value) {
			uint32_t s = in->h.wait_sem;

			/* the wait's signal: from the records before */
			qsort(sig[s], nsig[s], sizeof(uint64_t), cmp_u64);
			if (nsig[s] < in->h.wait_value) {
				printf("#   record %u waits for a signal that "
				       "was not recorded before it\n", i);
				goto out;
			}
			if (sig[s][in->h.wait_value - 1] > want_start)
				want_start = sig[s][in->h.wait_value - 1];
		}
		if (!in || r.index != insns[r.engine] ||
		    r.ready != prev_end[r.engine] || r.start != want_start ||
		    r.end - r.start != cost || r.start < last_start ||
		    r.bytes != bytes || r.opcode != in->h.opcode ||
		    r.sync != in->h.sync || r.wait_sem != in->h.wait_sem ||
		    r.wait_value != in->h.wait_value ||
		    r.signal_sem != in->h.signal_sem || r.reserved[0] ||
		    r.reserved[1] || r.reserved[2] || !cost) {
			printf("#   record %u: engine %u index %u (expected %u)"
			       " ready %llu (%llu) start %llu (%llu) end %llu "
			       "(cost %llu) bytes %llu (%llu) opcode %u\n", i,
			       r.engine, r.index, insns[r.engine],
			       (unsigned long long)r.ready,
			       (unsigned long long)prev_end[r.engine],
			       (unsigned long long)r.start,
			       (unsigned long long)want_start,
			       (unsigned long long)r.end,
			       (unsigned long long)cost,
			       (unsigned long long)r.bytes,
			       (unsigned long long)bytes, r.opcode);
			goto out;
		}
		if (r.sync & TERN_SYNC_SIGNAL)
			sig[r.signal_sem][nsig[r.signal_sem]++] = r.end;
		*waited += r.start > r.ready;
		last_start = r.start;
		prev_end[r.engine] = r.end;
		busy[r.engine] += r.end - r.start;
		insns[r.engine]++;
		if (r.end > end_max)
			end_max = r.end;
	}
	ok = true;
	if (count == total) {
		/* complete: exactly the job status */
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			if (busy[e] != st->busy[e] || insns[e] != st->insns[e]) {
				printf("#   engine %u: busy %llu insns %u, status"
				       " %llu %u\n", e,
				       (unsigned long long)busy[e], insns[e],
				       (unsigned long long)st->busy[e],
				       st->insns[e]);
				ok = false;
			}
		}
		if (end_max != st->cycles) {
			printf("#   last end %llu, cycles %llu\n",
			       (unsigned long long)end_max,
			       (unsigned long long)st->cycles);
			ok = false;
		}
	}
out:
	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++)
		free(sig[s]);
	return ok;
}

/*
 * All four engines: DMA loads A [K x M] and B [K x N] (slots 0, 1) and
 * signals sem 0; TENSOR multiplies once both are in (sem 0 >= 2) into
 * PSUM, signals sem 1; VECTOR copies PSUM to the SBUF (sem 1), signals
 * sem 2; SCALAR applies relu (sem 2), signals sem 3; DMA stores the result
 * to slot 2 once sem 3 is signalled. Each engine but the first DMA waits.
 */
static void four_engines(struct ctx *c)
{
	struct tern_ap a = tl(SB, TERN_DT_BF16, 0, MM_K, 0, MM_M, 1);
	struct tern_ap b = tl(SB, TERN_DT_BF16, 0, MM_K, 1024, MM_N, 1);
	struct tern_ap p = tl(PS, TERN_DT_FP32, 0, MM_M, 0, MM_N, 1);
	struct tern_ap o = tl(SB, TERN_DT_FP32, 0, MM_M, 2048, MM_N, 1);
	struct tern_ap r = tl(SB, TERN_DT_FP32, 0, MM_M, 4096, MM_N, 1);
	union tern_insn *i;

	prog_reset(c);
	fill_random(c, slot_ptr(c, 0), TERN_DT_BF16, MM_K * MM_M, NULL, -2, 1);
	fill_random(c, slot_ptr(c, 1), TERN_DT_BF16, MM_K * MM_N, NULL, -2, 1);
	memset(slot_ptr(c, 2), 0, MM_M * MM_N * 4);
	load(c, a, 0);
	load(c, b, 1);
	after_loads(tile(c, E_TENSOR, TERN_OP_MATMUL, 0, p, a, b, 0), 2);
	i = tile(c, E_VECTOR, TERN_OP_COPY, 0, o, p, none, 0);
	wait_on(i, 1, 1);
	signal_on(i, 2);
	i = emit(c, E_SCALAR, TERN_OP_ACTIVATE);
	i->h.op = TERN_ACT_RELU;
	i->act.dst = r;
	i->act.src = o;
	i->act.scale = bits_of(1.0f);
	wait_on(i, 2, 1);
	signal_on(i, 3);
	wait_on(dma_rm(c, false, r, 2, 0), 3, 1);
	build(c);
}

/* Run c->img on the core with a profile of size bytes into buf. */
static uint32_t run_prof(struct ctx *c, uint8_t *buf, uint64_t size,
			 const atomic_bool *cancel)
{
	tern_core_profile_next(c->core, size);
	tern_core_run(c->core, c->img, c->len, c->slots, c->nbound, cancel,
		      &c->st);
	return tern_core_profile_write(c->core, buf, NULL, NULL);
}

/* The guard bytes after a profile buffer of size bytes. */
static bool untouched(const uint8_t *buf, uint64_t size, uint64_t len)
{
	for (uint64_t k = size; k < len; k++)
		if (buf[k] != GUARD_BYTE) {
			printf("#   byte %llu past the %llu-byte profile was "
			       "written\n", (unsigned long long)k,
			       (unsigned long long)size);
			return false;
		}
	return true;
}

CORE_TEST(t_prof_four_engines)
{
	uint8_t *buf = malloc(PROF_MAX);
	unsigned int waited;
	uint32_t total = 0;
	bool ok;

	CHECK(buf);
	four_engines(c);
	memset(buf, GUARD_BYTE, PROF_MAX);
	ok = run_prof(c, buf, PROF_MAX / 2, NULL) && job_ok(c) &&
	     check_profile(buf, PROF_MAX / 2, c->img, &c->st, &waited) &&
	     untouched(buf, PROF_MAX / 2, PROF_MAX);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		total += c->st.insns[e];
	/* a job without a profile asked for has none to write */
	memset(buf, GUARD_BYTE, PROF_MAX);
	ok = ok && rerun(c) == TERN_JOB_OK &&
	     !tern_core_profile_write(c->core, buf, NULL, NULL) &&
	     untouched(buf, 0, PROF_MAX);
	free(buf);
	CHECK(ok);
	/* 3 DMA, 1 of each other, an END on each stream */
	CHECK_EQ(total, 10);
	/* TENSOR, VECTOR, SCALAR and the store waited */
	CHECK_EQ(waited, 4);
	return true;
}

/* Buffers too small for every record keep the first ones. */
CORE_TEST(t_prof_truncated)
{
	static const uint64_t sizes[] = {
		TERN_PROF_HEADER_SIZE, TERN_PROF_HEADER_SIZE + 47,
		TERN_PROF_HEADER_SIZE + 3 * TERN_PROF_REC_SIZE,
		TERN_PROF_HEADER_SIZE + 9 * TERN_PROF_REC_SIZE + 47,
		TERN_PROF_HEADER_SIZE + 10 * TERN_PROF_REC_SIZE,
	};
	static const uint32_t dropped[] = { 10, 10, 7, 1, 0 };
	uint8_t full[4096], buf[4096];
	unsigned int waited;
	uint32_t count, drop;

	four_engines(c);
	tern_core_profile_next(c->core, sizeof(full));
	CHECK_EQ(rerun(c), TERN_JOB_OK);
	CHECK(tern_core_profile_write(c->core, full, &count, &drop));
	CHECK_EQ(count, 10);
	CHECK_EQ(drop, 0);
	for (unsigned int k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t n = sizes[k];

		memset(buf, GUARD_BYTE, sizeof(buf));
		CHECK(run_prof(c, buf, n, NULL));
		CHECK(job_ok(c));
		CHECK(untouched(buf, n, sizeof(buf)));
		CHECK(check_profile(buf, n, c->img, &c->st, &waited));
		CHECK_EQ(get32(buf + 12), dropped[k]);
		/* the records kept are the first of the whole profile */
		CHECK(!memcmp(buf + TERN_PROF_HEADER_SIZE,
			      full + TERN_PROF_HEADER_SIZE,
			      (size_t)(10 - dropped[k]) * TERN_PROF_REC_SIZE));
	}
	/* below the header: no profile at all */
	tern_core_profile_next(c->core, TERN_PROF_HEADER_SIZE - 1);
	CHECK_EQ(rerun(c), TERN_JOB_OK);
	CHECK(!tern_core_profile_write(c->core, buf, NULL, NULL));
	return true;
}

/* A deadlock mid-program: the profile of what ran before it. */
CORE_TEST(t_prof_deadlock)
{
	struct tern_ap a = tl(SB, TERN_DT_FP32, 0, NP, 0, 300, 1);
	uint8_t buf[4096];
	unsigned int waited;
	union tern_insn *i;

	load(c, a, 0);
	tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, TERN_ALU_ADD, a, a, none,
	     bits_of(1.0f));
	after_loads(tile(c, E_VECTOR, TERN_OP_TENSOR_SCALAR, TERN_ALU_MUL, a,
			 a, none, bits_of(2.0f)), 1);
	/* sem 5 is never signalled */
	i = emit(c, E_SCALAR, TERN_OP_NOP);
	wait_on(i, 5, 1);
	signal_on(tile(c, E_TENSOR, TERN_OP_TRANSPOSE, 0,
		       tl(PS, TERN_DT_FP32, 0, 16, 0, 16, 1),
		       tl(SB, TERN_DT_FP32, 0, 16, 0, 16, 1), none, 0), 4);
	build(c);
	memset(buf, GUARD_BYTE, sizeof(buf));
	CHECK(run_prof(c, buf, sizeof(buf) - 8, NULL));
	CHECK(job_fault(c, TERN_CERR_DEADLOCK, E_SCALAR, 0, 5ull << 32 | 1));
	/* DMA: load + END; VECTOR: 2 + END; TENSOR: 1 + END */
	CHECK_EQ(get32(buf + 8), 7);
	CHECK(check_profile(buf, sizeof(buf) - 8, c->img, &c->st, &waited));
	CHECK(untouched(buf, sizeof(buf) - 8, sizeof(buf)));
	CHECK_EQ(waited, 1);
	CHECK(c->st.cycles > 0);
	return true;
}

/* A job that faults before it runs, or is cancelled: a header only. */
CORE_TEST(t_prof_fault_abort)
{
	atomic_bool cancel = true;
	uint8_t buf[1024];
	unsigned int waited;

	four_engines(c);
	c->img[TERN_PROG_HEADER_SIZE] = 0x7f;	/* DMA 0: illegal opcode */
	memset(buf, GUARD_BYTE, sizeof(buf));
	CHECK(run_prof(c, buf, sizeof(buf), NULL));
	CHECK_EQ(c->st.status, TERN_JOB_FAULT);
	CHECK_EQ(c->st.error, TERN_CERR_ILLEGAL_OPCODE);
	CHECK_EQ(get32(buf + 8), 0);
	CHECK_EQ(get32(buf + 12), 0);
	CHECK(check_profile(buf, sizeof(buf), c->img, &c->st, &waited));
	CHECK(untouched(buf, TERN_PROF_HEADER_SIZE, sizeof(buf)));

	four_engines(c);
	memset(buf, GUARD_BYTE, sizeof(buf));
	CHECK(run_prof(c, buf, sizeof(buf), &cancel));
	CHECK_EQ(c->st.status, TERN_JOB_ABORTED);
	CHECK_EQ(get32(buf + 8), 0);
	CHECK(check_profile(buf, sizeof(buf), c->img, &c->st, &waited));
	return true;
}

/* Profiling changes nothing of the job: data, status and cycles. */
CORE_TEST(t_prof_same_job)
{
	size_t out = MM_M * MM_N * 4;
	struct tern_job_status st;
	uint8_t *data = malloc(out), buf[1024];

	CHECK(data);
	four_engines(c);
	CHECK_EQ(rerun(c), TERN_JOB_OK);
	memcpy(data, slot_ptr(c, 2), out);
	st = c->st;
	memset(slot_ptr(c, 2), 0, out);
	CHECK(run_prof(c, buf, sizeof(buf), NULL));
	CHECK(job_ok(c));
	st.wall_ns = c->st.wall_ns;
	CHECK(!memcmp(&st, &c->st, sizeof(st)));
	CHECK(!memcmp(data, slot_ptr(c, 2), out));
	free(data);
	return true;
}

/* ---- through the launch ring ---- */

/* Submit d at core 0's tail (enabling the ring first) and wait. */
static uint32_t launch1(struct env *e, const struct tern_launch_desc *d)
{
	uint32_t idx;
	uint8_t *p;

	if (crd(e, 0, TERN_C_STATUS) == TERN_Q_STATE_DISABLED) {
		cwr(e, 0, TERN_C_RING_BASE_LO, (uint32_t)gpa(LRING_OFF));
		cwr(e, 0, TERN_C_RING_BASE_HI, (uint32_t)(gpa(LRING_OFF) >> 32));
		cwr(e, 0, TERN_C_RING_SIZE, RING_ENTRIES);
		cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ENABLE);
	}
	idx = crd(e, 0, TERN_C_TAIL);
	p = e->ram + LRING_OFF + idx * TERN_LAUNCH_DESC_SIZE;
	put64(p + 0, d->prog_addr);
	put32(p + 8, d->prog_size);
	put32(p + 12, d->flags);
	put64(p + 16, d->slot_addr);
	put32(p + 24, d->slot_count);
	put32(p + 28, d->ctx);
	put64(p + 32, d->status_addr);
	put64(p + 40, d->fence_addr);
	put64(p + 48, d->fence_value);
	put64(p + 56, d->reserved1);
	tern_doorbell_write(e->dev, TERN_CORE_DOORBELL(e->cfg.queues, 0),
			    (idx + 1) % RING_ENTRIES, 4);
	return c_wait(e, 0);
}

/* The job status at RAM offset off, decoded. */
static struct tern_job_status status_at(struct env *e, size_t off)
{
	const uint8_t *p = e->ram + off;
	struct tern_job_status st;

	memset(&st, 0, sizeof(st));
	st.status = get32(p);
	st.error = get32(p + 4);
	st.engine = get32(p + 8);
	st.index = get32(p + 12);
	st.detail = get64(p + 16);
	st.cycles = get64(p + 24);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		st.busy[e] = get64(p + 32 + 8 * e);
		st.insns[e] = get32(p + 64 + 4 * e);
	}
	return st;
}

/*
 * Context 0: the program at PROG_HBM, the slot table at SLOTTAB_HBM with
 * the profile entry (PROF_HBM, size) after the six slots, status n.
 */
static struct tern_launch_desc phys_launch(struct ctx *c, unsigned int n,
					   uint64_t prof_off, uint64_t size)
{
	struct env *e = c->e;
	struct tern_launch_desc d;

	memcpy(e->hbm + PROG_HBM, c->img, c->len);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		put64(e->hbm + SLOTTAB_HBM + i * 16, c->slots[i].offset);
		put64(e->hbm + SLOTTAB_HBM + i * 16 + 8, c->slots[i].size);
	}
	put64(e->hbm + SLOTTAB_HBM + NSLOTS * 16, prof_off);
	put64(e->hbm + SLOTTAB_HBM + NSLOTS * 16 + 8, size);
	memset(e->ram + STATUS_OFF(n), 0xee, 128);
	memset(&d, 0, sizeof(d));
	d.prog_addr = PROG_HBM;
	d.prog_size = (uint32_t)c->len;
	d.slot_addr = SLOTTAB_HBM;
	d.slot_count = NSLOTS;
	d.status_addr = gpa(STATUS_OFF(n));
	d.flags = TERN_LAUNCH_F_PROFILE;
	return d;
}

CORE_TEST(t_prof_launch)
{
	struct env *e = c->e;
	struct tern_launch_desc d;
	struct tern_job_status st, st0;
	unsigned int waited;
	uint8_t status[80];

	four_engines(c);
	memset(e->hbm + PROF_HBM, GUARD_BYTE, PROF_MAX);
	d = phys_launch(c, 0, PROF_HBM, 4096);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	st = status_at(e, STATUS_OFF(0));
	CHECK_EQ(st.status, TERN_JOB_OK);
	CHECK(check_profile(e->hbm + PROF_HBM, 4096, c->img, &st, &waited));
	CHECK_EQ(get32(e->hbm + PROF_HBM + 8), 10);
	CHECK_EQ(waited, 4);
	CHECK(untouched(e->hbm + PROF_HBM, 4096, PROF_MAX));

	/* the same launch without PROFILE: the same status, no profile */
	memcpy(status, e->ram + STATUS_OFF(0), sizeof(status));
	memset(e->hbm + PROF_HBM, GUARD_BYTE, PROF_MAX);
	d = phys_launch(c, 1, PROF_HBM, 4096);
	d.flags = 0;
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	st0 = status_at(e, STATUS_OFF(1));
	CHECK_EQ(st0.status, TERN_JOB_OK);
	CHECK(!memcmp(status, e->ram + STATUS_OFF(1), sizeof(status)));
	CHECK(untouched(e->hbm + PROF_HBM, 0, PROF_MAX));

	/* a profile with room for two records; slot_count 0 works too */
	prog_reset(c);
	c->p->nslots = 0;
	emit(c, E_VECTOR, TERN_OP_NOP);
	emit(c, E_VECTOR, TERN_OP_NOP);
	build(c);
	d = phys_launch(c, 2, PROF_HBM, TERN_PROF_HEADER_SIZE + 2 * 48);
	d.slot_count = 0;
	put64(e->hbm + SLOTTAB_HBM, PROF_HBM);
	put64(e->hbm + SLOTTAB_HBM + 8, TERN_PROF_HEADER_SIZE + 2 * 48);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	st = status_at(e, STATUS_OFF(2));
	CHECK_EQ(st.status, TERN_JOB_OK);
	CHECK_EQ(get32(e->hbm + PROF_HBM + 8), 2);
	CHECK_EQ(get32(e->hbm + PROF_HBM + 12), 1);
	CHECK(check_profile(e->hbm + PROF_HBM, TERN_PROF_HEADER_SIZE + 96,
			    c->img, &st, &waited));
	CHECK(untouched(e->hbm + PROF_HBM, TERN_PROF_HEADER_SIZE + 96,
			PROF_MAX));
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	CHECK_EQ(log_count(e), 0);
	return true;
}

/* d is refused with code at addr: halted, logged, nothing written. */
static bool refused(struct ctx *c, const struct tern_launch_desc *d,
		    uint32_t code, uint64_t addr, uint32_t info,
		    const char *msg)
{
	struct env *e = c->e;
	uint32_t idx = crd(e, 0, TERN_C_TAIL);
	uint32_t count = rd(e, TERN_REG_ERR_COUNT);

	memset(e->hbm + PROF_HBM, GUARD_BYTE, PROF_MAX);
	memset(e->ram + STATUS_OFF(9), 0xee, 128);
	log_clear(e);
	CHECK_EQ(launch1(e, d), TERN_Q_STATE_HALTED);
	CHECK_EQ(crd(e, 0, TERN_C_ERROR), code);
	CHECK_EQ(crd(e, 0, TERN_C_HEAD), idx);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_CORE(0));
	CHECK_EQ(err_addr(e), addr);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), info);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	if (!log_has(e, msg)) {
		printf("#   no log line with \"%s\"\n", msg);
		return false;
	}
	CHECK_EQ(e->ram[STATUS_OFF(9)], 0xee);
	CHECK(untouched(e->hbm + PROF_HBM, 0, PROF_MAX));
	/* skip it */
	wr(e, TERN_REG_ERR_ACK, 1);
	cwr(e, 0, TERN_C_HEAD, (idx + 1) % RING_ENTRIES);
	cwr(e, 0, TERN_C_CTRL, TERN_C_CTRL_ENABLE | TERN_C_CTRL_RESUME);
	CHECK_EQ(crd(e, 0, TERN_C_STATUS), TERN_Q_STATE_ACTIVE);
	return true;
}

CORE_TEST(t_prof_launch_refused)
{
	struct env *e = c->e;
	struct tern_launch_desc d;
	uint64_t daddr;
	unsigned int waited;
	struct tern_job_status st;

	four_engines(c);
#define DADDR	(gpa(LRING_OFF) + crd(e, 0, TERN_C_TAIL) * 64ull)
	d = phys_launch(c, 9, PROF_HBM, TERN_PROF_HEADER_SIZE - 1);
	daddr = DADDR;
	CHECK(refused(c, &d, TERN_ERR_BAD_LAUNCH, daddr, 0,
		      "profile buffer of 63 bytes"));
	d = phys_launch(c, 9, PROF_HBM, 0);
	daddr = DADDR;
	CHECK(refused(c, &d, TERN_ERR_BAD_LAUNCH, daddr, 0,
		      "smaller than its 64-byte header"));
	d = phys_launch(c, 9, HBM_SIZE - 32, TERN_PROF_HEADER_SIZE);
	CHECK(refused(c, &d, TERN_ERR_HBM_RANGE, HBM_SIZE - 32, 0,
		      "profile buffer 0x3ffffe0+0x40 outside the HBM"));
	d = phys_launch(c, 9, ~0ull - 63, 4096);
	CHECK(refused(c, &d, TERN_ERR_HBM_RANGE, ~0ull - 63, 0,
		      "outside the HBM"));
	d = phys_launch(c, 9, PROF_HBM, ~0ull);
	CHECK(refused(c, &d, TERN_ERR_HBM_RANGE, PROF_HBM, 0,
		      "outside the HBM"));
	/* the extra entry takes the slot table past the HBM's end */
	d = phys_launch(c, 9, PROF_HBM, 4096);
	d.slot_addr = HBM_SIZE - NSLOTS * 16;
	CHECK(refused(c, &d, TERN_ERR_HBM_RANGE, HBM_SIZE - NSLOTS * 16, 0,
		      "slot table"));
	/* after all that, a good one */
	memset(e->hbm + PROF_HBM, GUARD_BYTE, PROF_MAX);
	d = phys_launch(c, 3, PROF_HBM, PROF_MAX);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	st = status_at(e, STATUS_OFF(3));
	CHECK_EQ(st.status, TERN_JOB_OK);
	CHECK(check_profile(e->hbm + PROF_HBM, PROF_MAX, c->img, &st,
			    &waited));
#undef DADDR
	return true;
}

/*
 * Context 6: the program at VA_PROG (HBM pages), slot i at VA_SLOT-like
 * addresses onto SLOT_OFF(i), the profile buffer at VA_PROF onto PROF_HBM
 * with perm; a physical slot table in HBM and status in RAM.
 */
static struct tern_launch_desc va_launch(struct ctx *c, uint64_t size,
					 uint64_t perm)
{
	struct env *e = c->e;
	struct tern_launch_desc d;
	uint64_t len = (c->len + 0xfff) & ~0xfffull;

	d = phys_launch(c, 9, VA_PROF, size);
	for (uint64_t k = 0; k < len; k += 0x1000)
		map4k(e, 6, VA_PROG + k, PROG_HBM + k, R | H);
	for (unsigned int i = 0; i < NSLOTS; i++) {
		uint64_t va = 0x50000000ull + i * 0x1000000ull;

		put64(e->hbm + SLOTTAB_HBM + i * 16, va);
		put64(e->hbm + SLOTTAB_HBM + i * 16 + 8, 0x40000);
		for (uint64_t k = 0; k < 0x40000; k += 0x1000)
			map4k(e, 6, va + k, SLOT_OFF(i) + k, RW | H);
	}
	for (uint64_t k = 0; k < 0x4000; k += 0x1000)
		map4k(e, 6, VA_PROF + k, PROF_HBM + k, perm);
	inval(e, 6);
	d.ctx = 6;
	d.prog_addr = VA_PROG;
	d.flags |= TERN_LAUNCH_F_SLOTS_PHYS | TERN_LAUNCH_F_STATUS_PHYS;
	return d;
}

CORE_TEST(t_prof_launch_va)
{
	struct env *e = c->e;
	struct tern_launch_desc d;
	struct tern_job_status st;
	unsigned int waited;

	ctx_setup(e, 6);
	four_engines(c);
	memset(e->hbm + PROF_HBM, GUARD_BYTE, PROF_MAX);
	d = va_launch(c, 0x2000, RW | H);
	CHECK_EQ(launch1(e, &d), TERN_Q_STATE_ACTIVE);
	st = status_at(e, STATUS_OFF(9));
	CHECK_EQ(st.status, TERN_JOB_OK);
	CHECK(check_profile(e->hbm + PROF_HBM, 0x2000, c->img, &st, &waited));
	CHECK_EQ(get32(e->hbm + PROF_HBM + 8), 10);
	CHECK(untouched(e->hbm + PROF_HBM, 0x2000, PROF_MAX));

	/* read-only, unmapped past its end, host memory, too small */
	d = va_launch(c, 0x2000, R | H);
	CHECK(refused(c, &d, TERN_ERR_MMU_FAULT, VA_PROF,
		      FAULT(6, true, PERMISSION), "profile buffer"));
	d = va_launch(c, 0x5000, RW | H);
	CHECK(refused(c, &d, TERN_ERR_MMU_FAULT, VA_PROF + 0x4000,
		      FAULT(6, false, UNMAPPED), "profile buffer"));
	for (uint64_t k = 0; k < 0x4000; k += 0x1000)
		map4k(e, 6, VA_PROF + k, HOSTP(k / 0x1000), RW);
	inval(e, 6);
	CHECK(refused(c, &d, TERN_ERR_MMU_FAULT, VA_PROF,
		      FAULT(6, false, CORE_SLOT), "profile buffer"));
	d = va_launch(c, 32, RW | H);
	CHECK(refused(c, &d, TERN_ERR_BAD_LAUNCH,
		      gpa(LRING_OFF) + crd(e, 0, TERN_C_TAIL) * 64ull, 0,
		      "smaller than its 64-byte header"));
	return true;
}

static const struct test_case cases[] = {
	TEST("a profile of four engines: every record, waits, the status",
	     t_prof_four_engines),
	TEST("small profile buffers keep the first records, count the rest",
	     t_prof_truncated),
	TEST("a deadlock: the profile up to it", t_prof_deadlock),
	TEST("a faulting and an aborted job get an empty profile",
	     t_prof_fault_abort),
	TEST("profiling does not change the job", t_prof_same_job),
	TEST("PROFILE launches in context 0", t_prof_launch),
	TEST("launches refused for their profile buffer",
	     t_prof_launch_refused),
	TEST("a PROFILE launch through a VA context", t_prof_launch_va),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
