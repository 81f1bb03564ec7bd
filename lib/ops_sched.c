// SPDX-License-Identifier: MIT
/*
 * libtern ops: the tile scheduler (see ops_int.h). It makes the operations
 * of ops.c race free by construction: every read of a tile on one engine
 * comes after the write it needs on another, and every write after the
 * reads and writes before it, through semaphore waits the scheduler adds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "ops_int.h"

void ops_state_free(struct ops_state *st)
{
	if (!st)
		return;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		free(st->clock[e]);
	free(st);
}

int op_begin(struct opctx *o, struct tern_program *p, const char *fn)
{
	struct ops_state *st;

	memset(o, 0, sizeof(*o));
	o->p = p;
	o->fn = fn;
	if (!p)
		return tern_fail(-EINVAL, "%s: NULL program", fn);
	if (p->finished)
		return tern_fail(-EALREADY, "%s: the program is already finished", fn);
	prog_snapshot(p, &o->snap);
	if (!p->ops) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return tern_fail(-ENOMEM, "%s: out of memory", fn);
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			int sem = tern_prog_sem_alloc(p);

			if (sem < 0) {
				prog_rollback(p, &o->snap);
				free(st);
				return tern_fail(sem, "%s: the ops need %u free semaphores",
						 fn, TERN_NUM_ENGINES);
			}
			st->sem[e] = sem;
		}
		p->ops = st;
		o->created = true;
	}
	o->st = p->ops;
	memcpy(o->done, o->st->done, sizeof(o->done));
	memcpy(o->known, o->st->known, sizeof(o->known));
	return 0;
}

int op_end(struct opctx *o, int ret)
{
	struct tern_program *p = o->p;

	if (!o->st)
		return ret;
	if (ret >= 0) {
		/* the operation's tiles are free for the next one */
		p->mark[TERN_AP_SBUF] = o->snap.mark[TERN_AP_SBUF];
		p->mark[TERN_AP_PSUM] = o->snap.mark[TERN_AP_PSUM];
		return 0;
	}
	prog_rollback(p, &o->snap);
	if (o->created) {
		ops_state_free(o->st);
		p->ops = NULL;
	} else {
		memcpy(o->st->done, o->done, sizeof(o->done));
		memcpy(o->st->known, o->known, sizeof(o->known));
	}
	return ret;
}

uint32_t op_free(const struct opctx *o, unsigned int mem)
{
	uint32_t at = (o->p->mark[mem] + PROG_ALLOC_ALIGN - 1) / PROG_ALLOC_ALIGN *
		      PROG_ALLOC_ALIGN;

	return at < o->p->part_size[mem] ? o->p->part_size[mem] - at : 0;
}

int op_tile(struct opctx *o, struct otile *t, unsigned int mem, unsigned int dtype,
	    unsigned int nparts, uint32_t n)
{
	int ret = tern_prog_alloc(o->p, mem, dtype, nparts, n, &t->ap);

	if (ret)
		return ret;
	/* the memory may have been another operation's: wait for all of it */
	memcpy(t->wdep, o->st->done, sizeof(t->wdep));
	memcpy(t->rdep, o->st->done, sizeof(t->rdep));
	return 0;
}

/* ---- scheduling ---- */

struct use {
	struct otile *t;
	bool write;
};

/* Engine e learns that engine f reached c, and all that f knew then. */
static void learn(struct ops_state *st, unsigned int e, unsigned int f, uint32_t c)
{
	const uint32_t *vc = &st->clock[f][(size_t)(c - 1) * TERN_NUM_ENGINES];

	for (unsigned int g = 0; g < TERN_NUM_ENGINES; g++)
		if (vc[g] > st->known[e][g])
			st->known[e][g] = vc[g];
}

/* How many of the needs learning (f, need[f]) would leave unmet. */
static unsigned int unmet_after(const struct ops_state *st, unsigned int e, unsigned int f,
				const uint32_t *need)
{
	const uint32_t *vc = &st->clock[f][(size_t)(need[f] - 1) * TERN_NUM_ENGINES];
	unsigned int n = 0;

	for (unsigned int g = 0; g < TERN_NUM_ENGINES; g++)
		if (g != e && g != f && need[g] > st->known[e][g] && need[g] > vc[g])
			n++;
	return n;
}

/*
 * Make engine e wait for what the uses need: WAIT instructions for all
 * but one need, which goes into *sync with the signal of e's progress.
 */
static int schedule(struct opctx *o, unsigned int e, const struct use *u, unsigned int n,
		    struct tern_sync *sync)
{
	struct ops_state *st = o->st;
	uint32_t need[TERN_NUM_ENGINES] = { 0 };

	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int f = 0; f < TERN_NUM_ENGINES; f++) {
			if (u[i].t->wdep[f] > need[f])
				need[f] = u[i].t->wdep[f];
			if (u[i].write && u[i].t->rdep[f] > need[f])
				need[f] = u[i].t->rdep[f];
		}
	}
	for (;;) {
		unsigned int count = 0, best = 0, best_left = ~0u;

		for (unsigned int f = 0; f < TERN_NUM_ENGINES; f++) {
			unsigned int left;

			if (f == e || need[f] <= st->known[e][f])
				continue;
			count++;
			left = unmet_after(st, e, f, need);
			if (left < best_left) {
				best = f;
				best_left = left;
			}
		}
		if (!count) {
			*sync = tern_sync_signal(st->sem[e]);
			return 0;
		}
		if (count == 1) {
			*sync = tern_sync_wait_signal(st->sem[best], need[best], st->sem[e]);
			learn(st, e, best, need[best]);
			return 0;
		}
		int ret = tern_prog_wait(o->p, e, st->sem[best], need[best]);

		if (ret < 0)
			return ret;
		learn(st, e, best, need[best]);
	}
}

/* The instruction was added: e reached one more, the tiles know it. */
static int commit(struct opctx *o, unsigned int e, const struct use *u, unsigned int n)
{
	struct ops_state *st = o->st;
	uint32_t c = st->done[e] + 1;
	uint32_t *vc;

	if (c > st->cap[e]) {
		uint32_t cap = st->cap[e] ? st->cap[e] * 2 : 256;
		uint32_t *nc = realloc(st->clock[e], (size_t)cap * TERN_NUM_ENGINES * sizeof(*nc));

		if (!nc)
			return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
		st->clock[e] = nc;
		st->cap[e] = cap;
	}
	st->done[e] = c;
	st->known[e][e] = c;
	vc = &st->clock[e][(size_t)(c - 1) * TERN_NUM_ENGINES];
	memcpy(vc, st->known[e], TERN_NUM_ENGINES * sizeof(*vc));
	/* reads first: a tile both read and written ends up written */
	for (unsigned int i = 0; i < n; i++)
		if (!u[i].write && u[i].t->rdep[e] < c)
			u[i].t->rdep[e] = c;
	for (unsigned int i = 0; i < n; i++) {
		if (!u[i].write)
			continue;
		memset(u[i].t->wdep, 0, sizeof(u[i].t->wdep));
		memset(u[i].t->rdep, 0, sizeof(u[i].t->rdep));
		u[i].t->wdep[e] = c;
		u[i].t->rdep[e] = c;
	}
	return 0;
}

/* Schedule, add (the statement ADD, which sets ret), commit. */
#define SCHEDULED(o, e, u, ADD)						\
	do {								\
		struct tern_sync sync;					\
		int ret = schedule((o), (e), (u), sizeof(u) / sizeof((u)[0]), &sync); \
									\
		if (ret)						\
			return ret;					\
		ret = (ADD);						\
		if (ret < 0)						\
			return ret;					\
		return commit((o), (e), (u), sizeof(u) / sizeof((u)[0])); \
	} while (0)

int op_load(struct opctx *o, struct otile *t, struct tern_ap ap, const struct tern_hbm_ap *h)
{
	struct use u[] = { { t, true } };

	SCHEDULED(o, TERN_ENGINE_DMA, u, tern_prog_dma_load(o->p, ap, h, sync));
}

int op_store(struct opctx *o, const struct tern_hbm_ap *h, struct otile *t, struct tern_ap ap)
{
	struct use u[] = { { t, false } };

	SCHEDULED(o, TERN_ENGINE_DMA, u, tern_prog_dma_store(o->p, h, ap, sync));
}

int op_matmul(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *s,
	      struct tern_ap sap, struct otile *m, struct tern_ap map, bool acc)
{
	struct use u[] = { { s, false }, { m, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_TENSOR, u, tern_prog_matmul(o->p, dap, sap, map, acc, sync));
}

int op_transpose(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *s,
		 struct tern_ap sap)
{
	struct use u[] = { { s, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_TENSOR, u, tern_prog_transpose(o->p, dap, sap, sync));
}

int op_tt(struct opctx *o, unsigned int alu, struct otile *d, struct tern_ap dap,
	  struct otile *a, struct tern_ap aap, struct otile *b, struct tern_ap bap)
{
	struct use u[] = { { a, false }, { b, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_VECTOR, u,
		  tern_prog_tensor_tensor(o->p, alu, dap, aap, bap, sync));
}

int op_ts(struct opctx *o, unsigned int alu, struct otile *d, struct tern_ap dap,
	  struct otile *a, struct tern_ap aap, float imm, bool reverse)
{
	struct use u[] = { { a, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_VECTOR, u,
		  tern_prog_tensor_scalar(o->p, alu, dap, aap, imm, reverse, sync));
}

int op_unary(struct opctx *o, unsigned int un, struct otile *d, struct tern_ap dap,
	     struct otile *a, struct tern_ap aap)
{
	struct use u[] = { { a, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_VECTOR, u, tern_prog_unary(o->p, un, dap, aap, sync));
}

int op_reduce(struct opctx *o, unsigned int red, struct otile *d, struct tern_ap dap,
	      struct otile *a, struct tern_ap aap)
{
	struct use u[] = { { a, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_VECTOR, u, tern_prog_reduce(o->p, red, dap, aap, false, sync));
}

int op_convert(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *a,
	       struct tern_ap aap)
{
	struct use u[] = { { a, false }, { d, true } };

	SCHEDULED(o, TERN_ENGINE_VECTOR, u, dap.dtype == aap.dtype ?
		  tern_prog_copy(o->p, dap, aap, sync) : tern_prog_cast(o->p, dap, aap, sync));
}

int op_act(struct opctx *o, unsigned int func, struct otile *d, struct tern_ap dap,
	   struct otile *a, struct tern_ap aap, float scale, struct otile *b,
	   struct tern_ap bap, float bias)
{
	if (b) {
		struct use u[] = { { a, false }, { b, false }, { d, true } };

		SCHEDULED(o, TERN_ENGINE_SCALAR, u,
			  tern_prog_activate_ap(o->p, func, dap, aap, scale, bap, sync));
	} else {
		struct use u[] = { { a, false }, { d, true } };

		SCHEDULED(o, TERN_ENGINE_SCALAR, u,
			  tern_prog_activate(o->p, func, dap, aap, scale, bias, sync));
	}
}

int op_evacuate(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *a,
		struct tern_ap aap)
{
	if (o->flip++ & 1)
		return op_act(o, TERN_ACT_IDENTITY, d, dap, a, aap, 1.0f, NULL, aap, 0.0f);
	return op_convert(o, d, dap, a, aap);
}
