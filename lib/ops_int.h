/* SPDX-License-Identifier: MIT */
/*
 * libtern internals of the ops library: the tile scheduler that puts the
 * semaphore waits and signals between the engines (ops_sched.c), used by
 * the operations (ops.c); not installed.
 *
 * Every instruction an operation adds signals its engine's progress
 * semaphore, so "engine e has finished its first c scheduled instructions"
 * is the wait sem[e] >= c (an engine runs its stream in order). Each tile
 * records which such counts must be reached before it may be read (its
 * last writer) and before it may be written (its last writer and readers);
 * an instruction waits for the counts its tiles need that its engine does
 * not already know to be reached, directly or through earlier waits (a
 * vector clock per instruction). One wait goes into the instruction, any
 * more become WAIT instructions before it.
 */
#ifndef TERN_OPS_INT_H
#define TERN_OPS_INT_H

#include "program_int.h"
#include "tern_ops.h"

struct ops_state {
	int sem[TERN_NUM_ENGINES];	/* progress semaphore of each engine */
	uint32_t done[TERN_NUM_ENGINES];	/* scheduled instructions per engine */
	uint32_t known[TERN_NUM_ENGINES][TERN_NUM_ENGINES];
	/* clock[e][i * 4 + f]: known[e][f] once e's instruction i + 1 is done */
	uint32_t *clock[TERN_NUM_ENGINES];
	uint32_t cap[TERN_NUM_ENGINES];
};

/* A tracked tile: a region of SBUF or PSUM no other tile overlaps. */
struct otile {
	struct tern_ap ap;		/* the whole region */
	uint32_t wdep[TERN_NUM_ENGINES];	/* counts before reading */
	uint32_t rdep[TERN_NUM_ENGINES];	/* counts before writing */
};

/* One operation being added to a program. */
struct opctx {
	struct tern_program *p;
	struct ops_state *st;
	const char *fn;
	struct prog_snapshot snap;
	uint32_t done[TERN_NUM_ENGINES];
	uint32_t known[TERN_NUM_ENGINES][TERN_NUM_ENGINES];
	bool created;			/* st was made by this operation */
	unsigned int flip;		/* alternates PSUM evacuation engines */
};

/* Start an operation (checks the program, sets up the scheduler). */
int op_begin(struct opctx *o, struct tern_program *p, const char *fn);
/* End it: frees its tiles; on error (ret < 0) takes back all it added. */
int op_end(struct opctx *o, int ret);

/* Reserve a tracked tile of [nparts x n] in mem. */
int op_tile(struct opctx *o, struct otile *t, unsigned int mem, unsigned int dtype,
	    unsigned int nparts, uint32_t n);
/* Bytes per partition still free in mem. */
uint32_t op_free(const struct opctx *o, unsigned int mem);

/*
 * The instructions, scheduled: each names the tracked tile of every
 * operand and the part of it used (an ap inside t->ap).
 */
int op_load(struct opctx *o, struct otile *t, struct tern_ap ap, const struct tern_hbm_ap *h);
int op_store(struct opctx *o, const struct tern_hbm_ap *h, struct otile *t, struct tern_ap ap);
int op_matmul(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *s,
	      struct tern_ap sap, struct otile *m, struct tern_ap map, bool acc);
int op_transpose(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *s,
		 struct tern_ap sap);
int op_tt(struct opctx *o, unsigned int alu, struct otile *d, struct tern_ap dap,
	  struct otile *a, struct tern_ap aap, struct otile *b, struct tern_ap bap);
int op_ts(struct opctx *o, unsigned int alu, struct otile *d, struct tern_ap dap,
	  struct otile *a, struct tern_ap aap, float imm, bool reverse);
int op_unary(struct opctx *o, unsigned int un, struct otile *d, struct tern_ap dap,
	     struct otile *a, struct tern_ap aap);
int op_reduce(struct opctx *o, unsigned int red, struct otile *d, struct tern_ap dap,
	      struct otile *a, struct tern_ap aap);
/* Copy or cast (by the dtypes) on the vector engine. */
int op_convert(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *a,
	       struct tern_ap aap);
/* func(a * scale + bias), bias a tile (b != NULL) or the immediate. */
int op_act(struct opctx *o, unsigned int func, struct otile *d, struct tern_ap dap,
	   struct otile *a, struct tern_ap aap, float scale, struct otile *b,
	   struct tern_ap bap, float bias);
/* Move a PSUM tile to SBUF, on the vector and scalar engine in turn. */
int op_evacuate(struct opctx *o, struct otile *d, struct tern_ap dap, struct otile *a,
		struct tern_ap aap);

/* ---- elementwise operations of other files (ops.c runs them) ---- */

#define OPS_EW_MAX_TMP	2	/* fp32 scratch tiles of a custom elementwise op */

/*
 * An elementwise operation defined elsewhere (ops_grad.c), run by ops.c's
 * tiling of elementwise ops: @compute adds the instructions of one tile,
 * out[to] from a[ta] and (when the op has one) b[tb], with @ntmp fp32
 * scratch tiles tmp[i] whose [rows x cols] part is tap[i].
 */
struct ops_ew {
	int (*compute)(struct opctx *o, const struct ops_ew *ew, struct otile *out,
		       struct tern_ap to, struct otile *a, struct tern_ap ta, struct otile *b,
		       struct tern_ap tb, struct otile *tmp, const struct tern_ap *tap);
	unsigned int ntmp;
	unsigned int func;
	float scale;
};

/* Runs @ew over the tensors (checked by the caller); @b may be NULL. */
int ops_ew_run(struct opctx *o, const struct ops_ew *ew, const struct tern_tensor *out,
	       const struct tern_tensor *a, const struct tern_tensor *b);

/* ---- shared by the operations (ops_common.c) ---- */

static inline uint32_t min_u32(uint64_t a, uint64_t b)
{
	return (uint32_t)(a < b ? a : b);
}

static inline uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* A [nparts x n] corner of a tracked tile. */
static inline struct tern_ap sub(const struct otile *t, unsigned int nparts, unsigned int n)
{
	return tern_ap_cols(tern_ap_parts(t->ap, 0, nparts), 0, n);
}

/* @t is a valid tensor; the message names @fn and @name otherwise. */
int ops_check_tensor(const char *fn, const char *name, const struct tern_tensor *t);
/* @t is rows x cols. */
int ops_check_shape(const char *fn, const char *name, const struct tern_tensor *t,
		    uint64_t rows, uint64_t cols);
/* An elementwise output may be an input exactly, or else not touch it. */
int ops_check_alias(const char *fn, const struct tern_tensor *out, const char *name,
		    const struct tern_tensor *in);
/* Whether two valid tensors may share bytes (by their bounding ranges). */
bool ops_overlaps(const struct tern_tensor *x, const struct tern_tensor *y);
/* The same elements in the same places. */
bool ops_same_layout(const struct tern_tensor *x, const struct tern_tensor *y);
/* -ENOSPC: @what does not fit in the free SBUF. */
int ops_no_space(const struct opctx *o, const char *what);

/*
 * Stores kept behind the next tile's loads: the DMA engine issues the
 * loads the compute engines wait for before a store that waits for them.
 */
#define STORE_LAG	1	/* tiles whose stores wait behind the next loads */

struct pending {
	struct otile *t;
	struct tern_ap ap;
	struct tern_hbm_ap h;
};

struct store_queue {
	struct pending q[STORE_LAG + 1];
	unsigned int n;
};

/* Emit the stores queued, but the newest @keep of them. */
int ops_sq_drain(struct opctx *o, struct store_queue *sq, unsigned int keep);
/* Queue a store of @ap of @t to @h, emitting the oldest beyond STORE_LAG. */
int ops_sq_push(struct opctx *o, struct store_queue *sq, struct otile *t, struct tern_ap ap,
		const struct tern_hbm_ap *h);

#endif /* TERN_OPS_INT_H */
