// SPDX-License-Identifier: MIT
/*
 * Host tests of the tern compute core: program builder, dtype reference and
 * test context (see core_util.h).
 */
#include "core_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- context ---- */

bool with_ctx(struct env *e, core_test_fn fn)
{
	struct ctx c;
	char err[200];
	bool ok;

	memset(&c, 0, sizeof(c));
	c.e = e;
	c.rng = 0x9e3779b97f4a7c15ull;
	c.core = tern_core_create(e->hbm, e->cfg.hbm_size, SBUF_SIZE, err,
				  sizeof(err));
	c.p = calloc(1, sizeof(*c.p));
	if (!c.core || !c.p) {
		printf("#   cannot create a core: %s\n", err);
		tern_core_destroy(c.core);
		free(c.p);
		return false;
	}
	for (unsigned int i = 0; i < NSLOTS; i++)
		c.slots[i] = (struct tern_core_slot){ SLOT_OFF(i), SLOT_SIZE };
	c.nbound = NSLOTS;
	prog_reset(&c);
	ok = fn(&c);
	tern_core_destroy(c.core);
	free(c.p);
	free(c.img);
	return ok;
}

/* ---- programs ---- */

void prog_reset(struct ctx *c)
{
	memset(c->p, 0, sizeof(*c->p));
	c->p->nslots = NSLOTS;
	c->p->nsems = 8;
}

union tern_insn *emit(struct ctx *c, unsigned int engine, uint8_t opcode)
{
	union tern_insn *i;

	if (c->p->n[engine] >= MAX_INSNS) {
		printf("#   test program too long\n");
		abort();
	}
	i = &c->p->ins[engine][c->p->n[engine]++];
	memset(i, 0, sizeof(*i));
	i->h.opcode = opcode;
	return i;
}

void wait_on(union tern_insn *i, uint8_t sem, uint32_t value)
{
	i->h.sync |= TERN_SYNC_WAIT;
	i->h.wait_sem = sem;
	i->h.wait_value = value;
}

void signal_on(union tern_insn *i, uint8_t sem)
{
	i->h.sync |= TERN_SYNC_SIGNAL;
	i->h.signal_sem = sem;
}

struct tern_ap ap(uint8_t mem, uint8_t dt, uint8_t part, uint8_t nparts,
		  uint32_t offset, uint16_t n0, uint16_t n1, int16_t s0,
		  int16_t s1)
{
	struct tern_ap a = {
		.offset = offset, .mem = mem, .dtype = dt, .part = part,
		.nparts = nparts, .n = { n0, n1 }, .s = { s0, s1 },
	};

	return a;
}

struct tern_ap tl(uint8_t mem, uint8_t dt, uint8_t part, uint8_t nparts,
		  uint32_t offset, uint16_t n0, uint16_t n1)
{
	return ap(mem, dt, part, nparts, offset, n0, n1, 1, (int16_t)n0);
}

union tern_insn *tile(struct ctx *c, unsigned int engine, uint8_t opcode,
		      uint8_t op, struct tern_ap d, struct tern_ap a,
		      struct tern_ap b, uint32_t imm)
{
	union tern_insn *i = emit(c, engine, opcode);

	i->h.op = op;
	i->t.dst = d;
	i->t.src0 = a;
	i->t.src1 = b;
	i->t.imm = imm;
	return i;
}

union tern_insn *dma(struct ctx *c, bool load, struct tern_ap t,
		     uint32_t slot, uint64_t off, int64_t pstride,
		     int64_t s1, int64_t s0)
{
	union tern_insn *i = emit(c, E_DMA, load ? TERN_OP_DMA_LOAD :
						   TERN_OP_DMA_STORE);

	i->dma.sbuf = t;
	i->dma.slot = slot;
	i->dma.hbm_offset = off;
	i->dma.pstride = pstride;
	i->dma.stride[1] = s1;
	i->dma.stride[0] = s0;
	return i;
}

union tern_insn *dma_rm(struct ctx *c, bool load, struct tern_ap t,
			uint32_t slot, uint64_t off)
{
	int64_t esz = dt_size(t.dtype);

	return dma(c, load, t, slot, off, (int64_t)t.n[0] * t.n[1] * esz,
		   (int64_t)t.n[0] * esz, esz);
}

void build(struct ctx *c)
{
	struct prog *p = c->p;
	struct tern_prog_header h;
	union tern_insn end;
	uint32_t count[TERN_NUM_ENGINES];
	size_t off = TERN_PROG_HEADER_SIZE;

	memset(&end, 0, sizeof(end));
	end.h.opcode = TERN_OP_END;
	memset(&h, 0, sizeof(h));
	h.magic = TERN_PROG_MAGIC;
	h.version = TERN_ISA_VERSION;
	h.nslots = p->nslots;
	h.nsems = p->nsems;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		count[e] = p->n[e] + (p->n[e] && !p->no_end);
		h.stream[e].offset = count[e] ? (uint32_t)off : 0;
		h.stream[e].count = count[e];
		off += (size_t)count[e] * TERN_INSN_SIZE;
	}
	h.size = (uint32_t)off;
	free(c->img);
	c->img = calloc(1, off);
	if (!c->img)
		abort();
	c->len = off;
	memcpy(c->img, &h, sizeof(h));
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		uint8_t *at = c->img + h.stream[e].offset;

		if (!count[e])
			continue;
		memcpy(at, p->ins[e], (size_t)p->n[e] * TERN_INSN_SIZE);
		if (count[e] > p->n[e])
			memcpy(at + (size_t)p->n[e] * TERN_INSN_SIZE, &end,
			       TERN_INSN_SIZE);
	}
}

uint32_t rerun(struct ctx *c)
{
	return tern_core_run(c->core, c->img, c->len, c->slots, c->nbound,
			     NULL, &c->st);
}

uint32_t run(struct ctx *c)
{
	build(c);
	return rerun(c);
}

bool job_ok(struct ctx *c)
{
	if (c->st.status == TERN_JOB_OK && c->st.error == 0 &&
	    c->st.engine == TERN_ENGINE_NONE && c->st.index == TERN_INDEX_NONE)
		return true;
	printf("#   job status %u: %s\n", c->st.status,
	       tern_core_fault_message(c->core));
	return false;
}

bool job_fault(struct ctx *c, uint32_t error, uint32_t engine,
	       uint32_t index, uint64_t detail)
{
	const char *msg = tern_core_fault_message(c->core);

	if (c->st.status == TERN_JOB_FAULT && c->st.error == error &&
	    c->st.engine == engine && c->st.index == index &&
	    c->st.detail == detail && strstr(msg, tern_cerr_name(error)))
		return true;
	printf("#   expected %s at engine %d index %d detail 0x%llx; got status"
	       " %u error %u engine %d index %d detail 0x%llx: %s\n",
	       tern_cerr_name(error), (int)engine, (int)index,
	       (unsigned long long)detail, c->st.status, c->st.error,
	       (int)c->st.engine, (int)c->st.index,
	       (unsigned long long)c->st.detail, msg);
	return false;
}

const struct tern_ap none;

void load(struct ctx *c, struct tern_ap t, unsigned int slot)
{
	signal_on(dma_rm(c, true, t, slot, 0), 0);
}

void store(struct ctx *c, struct tern_ap t, unsigned int slot, uint32_t v)
{
	wait_on(dma_rm(c, false, t, slot, 0), 1, v);
}

union tern_insn *after_loads(union tern_insn *i, uint32_t n)
{
	wait_on(i, 0, n);
	signal_on(i, 1);
	return i;
}

/* ---- memory ---- */

uint8_t *slot_ptr(struct ctx *c, unsigned int slot)
{
	return c->e->hbm + SLOT_OFF(slot);
}

uint64_t rnd(struct ctx *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

double rnd_unit(struct ctx *c)
{
	return (double)(rnd(c) >> 11) / (double)(1ull << 52) - 1.0;
}

/* ---- dtype reference ---- */

struct rfmt {
	int ebits, mbits, bias;
	bool ieee;
	unsigned int bytes;
};

static const struct rfmt rfmts[TERN_DT_COUNT] = {
	[TERN_DT_FP32] = { 8, 23, 127, true, 4 },
	[TERN_DT_BF16] = { 8, 7, 127, true, 2 },
	[TERN_DT_FP16] = { 5, 10, 15, true, 2 },
	[TERN_DT_FP8_E4M3] = { 4, 3, 7, false, 1 },
	[TERN_DT_FP8_E5M2] = { 5, 2, 15, true, 1 },
};

unsigned int dt_size(unsigned int dt)
{
	return dt < TERN_DT_COUNT ? rfmts[dt].bytes : 0;
}

uint32_t get_code(const uint8_t *p, unsigned int dt)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < dt_size(dt); i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

void put_code(uint8_t *p, unsigned int dt, uint32_t code)
{
	for (unsigned int i = 0; i < dt_size(dt); i++)
		p[i] = (uint8_t)(code >> (8 * i));
}

double ref_decode(uint32_t code, unsigned int dt)
{
	const struct rfmt *f = &rfmts[dt];
	uint32_t emax = (1u << f->ebits) - 1;
	uint32_t mant = code & ((1u << f->mbits) - 1);
	uint32_t ex = (code >> f->mbits) & emax;
	double s = (code >> (f->ebits + f->mbits)) & 1 ? -1.0 : 1.0;

	if (f->ieee && ex == emax)
		return mant ? NAN : s * INFINITY;
	if (!f->ieee && ex == emax && mant == (1u << f->mbits) - 1)
		return NAN;
	if (ex == 0)
		return s * ldexp(mant, 1 - f->bias - f->mbits);
	return s * ldexp((1u << f->mbits) + mant,
			 (int)ex - f->bias - f->mbits);
}

double ref_max(unsigned int dt)
{
	const struct rfmt *f = &rfmts[dt];
	uint32_t top = (((1u << f->ebits) - 1) << f->mbits) |
		       ((1u << f->mbits) - 1);

	/* IEEE: the code below inf; E4M3: the code below NaN */
	return ref_decode(f->ieee ? (top & ~((1u << f->mbits) - 1)) - 1 :
			  top - 1, dt);
}

double ref_round(double x, unsigned int dt)
{
	const struct rfmt *f = &rfmts[dt];
	double ulp, r;
	int ex;

	if (isnan(x) || x == 0)
		return x;
	if (isinf(x))
		return f->ieee ? x : copysign(ref_max(dt), x);
	if (dt == TERN_DT_FP32)
		return (float)x;
	frexp(x, &ex);	/* |x| = m * 2^ex, m in [0.5, 1) */
	if (ex - 1 < 1 - f->bias)
		ex = 2 - f->bias;
	ulp = ldexp(1.0, ex - 1 - f->mbits);
	r = nearbyint(x / ulp) * ulp;	/* ties to even */
	if (fabs(r) > ref_max(dt))
		r = f->ieee ? copysign(INFINITY, x) : copysign(ref_max(dt), x);
	return r == 0 ? copysign(0.0, x) : r;
}

uint32_t rnd_code(struct ctx *c, unsigned int dt, int elo, int ehi)
{
	const struct rfmt *f = &rfmts[dt];
	int e = elo + (int)(rnd(c) % (uint64_t)(ehi - elo + 1));
	uint32_t mant = (uint32_t)rnd(c) & ((1u << f->mbits) - 1);
	uint32_t sign = (uint32_t)(rnd(c) & 1) << (f->ebits + f->mbits);
	uint32_t code = sign | (uint32_t)(e + f->bias) << f->mbits | mant;

	if (isnan(ref_decode(code, dt)))	/* E4M3's S.1111.111 */
		code--;
	return code;
}

void fill_random(struct ctx *c, uint8_t *p, unsigned int dt, size_t n,
		 double *v, int elo, int ehi)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t code = rnd_code(c, dt, elo, ehi);

		put_code(p + i * dt_size(dt), dt, code);
		if (v)
			v[i] = ref_decode(code, dt);
	}
}

bool same_value(double got, double want)
{
	if (isnan(want))
		return isnan(got);
	return got == want && signbit(got) == signbit(want);
}

bool near(double got, double want, double rel, double abs_tol)
{
	if (isnan(want) || isinf(want))
		return same_value(got, want);
	return fabs(got - want) <= rel * fabs(want) + abs_tol;
}

uint32_t code_at(struct ctx *c, unsigned int slot, size_t i, unsigned int dt)
{
	return get_code(slot_ptr(c, slot) + i * dt_size(dt), dt);
}

double val(struct ctx *c, unsigned int slot, size_t i, unsigned int dt)
{
	return ref_decode(code_at(c, slot, i, dt), dt);
}

float f32_of(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

uint32_t bits_of(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}
