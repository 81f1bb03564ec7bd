// SPDX-License-Identifier: MIT
/*
 * libtern ops: matmul, elementwise operations, bias, activations and
 * softmax as programs for a tern core (tern_ops.h). The scheduler of
 * ops_sched.c adds the semaphores; this file plans the tiles and the order
 * of the instructions in each engine's stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "ops_int.h"

#define P		TERN_PARTITIONS
#define MM_MB		TERN_MATMUL_MAX_M	/* output rows per block */
#define MM_NB		TERN_MATMUL_MAX_N	/* output columns per block */
#define MM_KB		TERN_MATMUL_MAX_K	/* contraction per matmul */
#define MM_BRING	4	/* B tiles in flight */
#define MM_PRING	3	/* PSUM output tiles */
#define MM_ORING	2	/* SBUF output tiles */
#define MM_ARING	3	/* A^T tiles when they are not kept per block row */
#define EW_NBUF		3	/* elementwise tile sets in flight */
#define EW_MAX_FREE	2048	/* elements per partition of an elementwise tile */
#define SM_NBUF		2	/* softmax tile sets */

/* ---- tensor checks ---- */

static bool contiguous(const struct tern_tensor *t)
{
	return t->col_stride == 1 && (t->rows == 1 || t->row_stride == (int64_t)t->cols);
}

static int block(const struct tern_tensor *t, uint64_t row, uint64_t col, uint32_t nrows,
		 uint32_t ncols, struct tern_hbm_ap *h)
{
	return tern_tensor_block(t, row, col, nrows, ncols, h);
}

/* ---- matmul ---- */

struct mm {
	struct opctx *o;
	const struct tern_tensor *c, *a, *b;
	struct tern_tensor at;		/* A^T */
	uint64_t m, n, k;
	uint32_t nk;			/* blocks of K */
	bool transpose;			/* A^T by TRANSPOSE, else by DMA */
	bool panel;			/* A^T of a block row kept */
	bool bres;			/* all of B kept */
	uint32_t nm, nn;		/* blocks of M and N */
	struct otile *pan;		/* [2][nk] when panel */
	struct otile *bt;		/* [nk][nn] when bres */
	struct otile aring[MM_ARING], stage[2];
	struct otile bring[MM_BRING], pring[MM_PRING], oring[MM_ORING];
	unsigned int ai, si, bi, pi, oi;
};

/* Put A^T[k0.., m0..] (kb x mb) into dst. */
static int mm_stationary(struct mm *w, struct otile *dst, uint64_t m0, uint32_t mb, uint64_t k0,
			 uint32_t kb)
{
	struct opctx *o = w->o;
	struct tern_hbm_ap h;
	struct otile *st;
	int ret;

	if (!w->transpose) {
		ret = block(&w->at, k0, m0, kb, mb, &h);
		return ret ? ret : op_load(o, dst, sub(dst, kb, mb), &h);
	}
	/* rows of A are contiguous: load them as they are and turn them */
	st = &w->stage[w->si++ % 2];
	ret = block(w->a, m0, k0, mb, kb, &h);
	if (!ret)
		ret = op_load(o, st, sub(st, mb, kb), &h);
	if (!ret)
		ret = op_transpose(o, dst, sub(dst, kb, mb), st, sub(st, mb, kb));
	return ret;
}

static int mm_alloc(struct mm *w)
{
	struct opctx *o = w->o;
	unsigned int ea = tern_dtype_size(w->a->dtype), eb = tern_dtype_size(w->b->dtype);
	unsigned int ec = tern_dtype_size(w->c->dtype);
	uint32_t mb = min_u32(w->m, MM_MB), nb = min_u32(w->n, MM_NB), kb = min_u32(w->k, MM_KB);
	uint64_t fixed, panel, bres;
	int ret = 0;

	/* what is needed in any case, with each tile's alignment slack */
	fixed = (uint64_t)MM_BRING * (nb * eb + PROG_ALLOC_ALIGN) +
		(uint64_t)MM_ORING * (nb * ec + PROG_ALLOC_ALIGN) +
		(w->transpose ? 2ull * (kb * ea + PROG_ALLOC_ALIGN) : 0);
	panel = 2ull * w->nk * (mb * ea + PROG_ALLOC_ALIGN);
	w->panel = fixed + panel <= op_free(o, TERN_AP_SBUF);
	/* B is loaded once if it fits beside the rest (and is used again) */
	bres = (uint64_t)w->nk * w->nn * (nb * eb + PROG_ALLOC_ALIGN);
	w->bres = w->nm > 1 && w->panel && fixed + panel + bres <= op_free(o, TERN_AP_SBUF);
	if (w->bres) {
		w->bt = calloc((size_t)w->nk * w->nn, sizeof(*w->bt));
		if (!w->bt)
			return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
		for (uint32_t i = 0; i < w->nk * w->nn && !ret; i++)
			ret = op_tile(o, &w->bt[i], TERN_AP_SBUF, w->b->dtype, kb, nb);
	}
	if (w->panel && !ret) {
		w->pan = calloc(2 * (size_t)w->nk, sizeof(*w->pan));
		if (!w->pan)
			return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
		for (uint32_t i = 0; i < 2 * w->nk && !ret; i++)
			ret = op_tile(o, &w->pan[i], TERN_AP_SBUF, w->a->dtype, kb, mb);
	} else if (!w->panel) {
		for (unsigned int i = 0; i < MM_ARING && !ret; i++)
			ret = op_tile(o, &w->aring[i], TERN_AP_SBUF, w->a->dtype, kb, mb);
	}
	for (unsigned int i = 0; !w->bres && i < MM_BRING && !ret; i++)
		ret = op_tile(o, &w->bring[i], TERN_AP_SBUF, w->b->dtype, kb, nb);
	for (unsigned int i = 0; i < MM_ORING && !ret; i++)
		ret = op_tile(o, &w->oring[i], TERN_AP_SBUF, w->c->dtype, mb, nb);
	for (unsigned int i = 0; i < MM_PRING && !ret; i++)
		ret = op_tile(o, &w->pring[i], TERN_AP_PSUM, TERN_DT_FP32, mb, nb);
	for (unsigned int i = 0; w->transpose && i < 2 && !ret; i++)
		ret = op_tile(o, &w->stage[i], TERN_AP_SBUF, w->a->dtype, mb, kb);
	if (ret == -ENOSPC)
		return ops_no_space(o, "a matmul's B, C and A^T tiles");
	return ret;
}

static int mm_run(struct mm *w)
{
	struct opctx *o = w->o;
	uint32_t nm = w->nm, nn = w->nn;
	struct store_queue sq = { .n = 0 };
	struct tern_hbm_ap h;
	int ret;

	for (uint32_t mi = 0; mi < nm; mi++) {
		uint64_t m0 = (uint64_t)mi * MM_MB;
		uint32_t mb = min_u32(w->m - m0, MM_MB);
		struct otile *pan = w->panel ? &w->pan[(mi % 2) * w->nk] : NULL;

		for (uint32_t ki = 0; pan && ki < w->nk; ki++) {
			uint64_t k0 = (uint64_t)ki * MM_KB;

			ret = mm_stationary(w, &pan[ki], m0, mb, k0, min_u32(w->k - k0, MM_KB));
			if (ret)
				return ret;
		}
		for (uint32_t ni = 0; ni < nn; ni++) {
			uint64_t n0 = (uint64_t)ni * MM_NB;
			uint32_t nb = min_u32(w->n - n0, MM_NB);
			struct otile *pt = &w->pring[w->pi++ % MM_PRING];
			struct otile *ot = &w->oring[w->oi++ % MM_ORING];

			for (uint32_t ki = 0; ki < w->nk; ki++) {
				uint64_t k0 = (uint64_t)ki * MM_KB;
				uint32_t kb = min_u32(w->k - k0, MM_KB);
				struct otile *bt = w->bres ? &w->bt[ki * nn + ni] :
						   &w->bring[w->bi++ % MM_BRING];
				struct otile *st = pan ? &pan[ki] : &w->aring[w->ai++ % MM_ARING];

				if (!pan) {
					ret = mm_stationary(w, st, m0, mb, k0, kb);
					if (ret)
						return ret;
				}
				ret = block(w->b, k0, n0, kb, nb, &h);
				if (!ret && (!w->bres || mi == 0))
					ret = op_load(o, bt, sub(bt, kb, nb), &h);
				/* the last block's store goes after this block's first loads */
				if (!ret && ki == (w->nk > 1 ? 1u : 0u))
					ret = ops_sq_drain(o, &sq, 0);
				if (!ret)
					ret = op_matmul(o, pt, sub(pt, mb, nb), st, sub(st, kb, mb), bt,
							sub(bt, kb, nb), ki > 0);
				if (ret)
					return ret;
			}
			ret = op_evacuate(o, ot, sub(ot, mb, nb), pt, sub(pt, mb, nb));
			if (!ret)
				ret = block(w->c, m0, n0, mb, nb, &h);
			if (!ret)
				ret = ops_sq_push(o, &sq, ot, sub(ot, mb, nb), &h);
			if (ret)
				return ret;
		}
	}
	return ops_sq_drain(o, &sq, 0);
}

static int matmul(struct opctx *o, const struct tern_tensor *c, const struct tern_tensor *a,
		  const struct tern_tensor *b)
{
	struct mm *w;
	int ret;

	if ((ret = ops_check_tensor(o->fn, "c", c)) || (ret = ops_check_tensor(o->fn, "a", a)) ||
	    (ret = ops_check_tensor(o->fn, "b", b)))
		return ret;
	if (a->cols != b->rows)
		return tern_fail(-EINVAL, "%s: a is %" PRIu64 "x%" PRIu64 " and b %" PRIu64 "x%"
				 PRIu64 ": K differs", o->fn, a->rows, a->cols, b->rows, b->cols);
	ret = ops_check_shape(o->fn, "c", c, a->rows, b->cols);
	if (ret)
		return ret;
	if (ops_overlaps(c, a) || ops_overlaps(c, b))
		return tern_fail(-EINVAL, "%s: c overlaps %s in slot %" PRIu32, o->fn,
				 ops_overlaps(c, a) ? "a" : "b", c->slot);
	w = calloc(1, sizeof(*w));
	if (!w)
		return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
	w->o = o;
	w->c = c;
	w->a = a;
	w->b = b;
	w->at = tern_tensor_t(*a);
	w->m = a->rows;
	w->n = b->cols;
	w->k = a->cols;
	w->nk = (uint32_t)div_up(w->k, MM_KB);
	w->nm = (uint32_t)div_up(w->m, MM_MB);
	w->nn = (uint32_t)div_up(w->n, MM_NB);
	/* with rows of one element, A^T is as contiguous as A */
	w->transpose = a->col_stride == 1 && a->row_stride != 1 && a->cols > 1;
	ret = mm_alloc(w);
	if (!ret)
		ret = mm_run(w);
	free(w->pan);
	free(w->bt);
	free(w);
	return ret;
}

TERN_EXPORT int tern_op_matmul(struct tern_program *p, const struct tern_tensor *c,
			       const struct tern_tensor *a, const struct tern_tensor *b)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_matmul");

	if (ret)
		return ret;
	return op_end(&o, matmul(&o, c, a, b));
}

/* ---- elementwise ---- */

enum ew_kind { EW_BINARY, EW_ACT, EW_BIAS, EW_CUSTOM };

struct ew {
	struct opctx *o;
	enum ew_kind kind;
	unsigned int alu, func;
	const struct ops_ew *custom;	/* EW_CUSTOM */
};

struct ew_set {
	struct otile a, b, out, tmp[OPS_EW_MAX_TMP];
};

/* One 2-D pass: out = a alu b, func(a), func(a + bias), or a custom op (ops_ew_run()). */
static int ew_2d(const struct ew *w, const struct tern_tensor *out, const struct tern_tensor *a,
		 const struct tern_tensor *b)
{
	struct opctx *o = w->o;
	unsigned int ea = tern_dtype_size(a->dtype), eo = tern_dtype_size(out->dtype);
	unsigned int eb = b ? tern_dtype_size(b->dtype) : 0;
	unsigned int ntmp = w->kind == EW_CUSTOM ? w->custom->ntmp : 0;
	bool loadb = w->kind == EW_BINARY || (w->kind == EW_CUSTOM && b);
	uint32_t np = min_u32(out->rows, P), fc, per, slack;
	struct ew_set set[EW_NBUF];
	struct otile bias[2];
	struct store_queue sq = { .n = 0 };
	struct tern_hbm_ap h;
	unsigned int k = 0, nbias = 0;
	int ret = 0;

	/* bytes per element of a column chunk: the sets, and two bias tiles */
	per = EW_NBUF * (ea + eo + (loadb ? eb : 0) + 4 * ntmp) +
	      (w->kind == EW_BIAS ? 2 * eb : 0);
	slack = (EW_NBUF * (3 + ntmp) + 2) * PROG_ALLOC_ALIGN;
	fc = op_free(o, TERN_AP_SBUF) > slack ? (op_free(o, TERN_AP_SBUF) - slack) / per : 0;
	fc = min_u32(min_u32(fc, EW_MAX_FREE), out->cols);
	if (!fc)
		return ops_no_space(o, "an elementwise tile");
	for (unsigned int i = 0; i < EW_NBUF && !ret; i++) {
		ret = op_tile(o, &set[i].a, TERN_AP_SBUF, a->dtype, np, fc);
		if (!ret && loadb)
			ret = op_tile(o, &set[i].b, TERN_AP_SBUF, b->dtype, np, fc);
		if (!ret)
			ret = op_tile(o, &set[i].out, TERN_AP_SBUF, out->dtype, np, fc);
		for (unsigned int j = 0; j < ntmp && !ret; j++)
			ret = op_tile(o, &set[i].tmp[j], TERN_AP_SBUF, TERN_DT_FP32, np, fc);
	}
	for (unsigned int i = 0; w->kind == EW_BIAS && i < 2 && !ret; i++)
		ret = op_tile(o, &bias[i], TERN_AP_SBUF, b->dtype, np, fc);
	if (ret)
		return ret;

	for (uint64_t c0 = 0; c0 < out->cols; c0 += fc) {
		uint32_t cb = min_u32(out->cols - c0, fc);
		struct otile *bt = &bias[nbias++ % 2];

		if (w->kind == EW_BIAS) {
			/* the bias chunk, the same row in every partition */
			ret = block(b, 0, c0, 1, cb, &h);
			h.pstride = 0;
			if (!ret)
				ret = op_load(o, bt, sub(bt, np, cb), &h);
			if (ret)
				return ret;
		}
		for (uint64_t r0 = 0; r0 < out->rows; r0 += P) {
			uint32_t rb = min_u32(out->rows - r0, P);
			struct ew_set *s = &set[k++ % EW_NBUF];
			struct tern_ap ta = sub(&s->a, rb, cb), to = sub(&s->out, rb, cb);

			ret = block(a, r0, c0, rb, cb, &h);
			if (!ret)
				ret = op_load(o, &s->a, ta, &h);
			if (!ret && loadb) {
				ret = block(b, r0, c0, rb, cb, &h);
				if (!ret)
					ret = op_load(o, &s->b, sub(&s->b, rb, cb), &h);
			}
			/* stores of earlier tiles go behind these loads */
			if (!ret)
				ret = ops_sq_drain(o, &sq, STORE_LAG - 1);
			if (ret)
				return ret;
			switch (w->kind) {
			case EW_BINARY:
				ret = op_tt(o, w->alu, &s->out, to, &s->a, ta, &s->b,
					    sub(&s->b, rb, cb));
				break;
			case EW_ACT:
				ret = op_act(o, w->func, &s->out, to, &s->a, ta, 1.0f, NULL, ta, 0.0f);
				break;
			case EW_BIAS:
				ret = op_tt(o, TERN_ALU_ADD, &s->out, to, &s->a, ta, bt, sub(bt, rb, cb));
				if (!ret && w->func != TERN_ACT_IDENTITY)
					ret = op_act(o, w->func, &s->out, to, &s->out, to, 1.0f, NULL,
						     to, 0.0f);
				break;
			case EW_CUSTOM: {
				struct tern_ap tap[OPS_EW_MAX_TMP];

				for (unsigned int j = 0; j < ntmp; j++)
					tap[j] = sub(&s->tmp[j], rb, cb);
				ret = w->custom->compute(o, w->custom, &s->out, to, &s->a, ta,
							 loadb ? &s->b : NULL,
							 loadb ? sub(&s->b, rb, cb) : ta, s->tmp, tap);
				break;
			}
			}
			if (!ret)
				ret = block(out, r0, c0, rb, cb, &h);
			if (!ret)
				ret = ops_sq_push(o, &sq, &s->out, to, &h);
			if (ret)
				return ret;
		}
	}
	return ops_sq_drain(o, &sq, 0);
}

/* A contiguous tensor of n elements seen as rows x cols, from element first. */
static struct tern_tensor flat_view(const struct tern_tensor *t, uint64_t first, uint64_t rows,
				    uint64_t cols)
{
	struct tern_tensor v = *t;

	v.offset = t->offset + first * tern_dtype_size(t->dtype);
	v.rows = rows;
	v.cols = cols;
	v.row_stride = (int64_t)cols;
	v.col_stride = 1;
	return v;
}

static int ew_run(const struct ew *w, const struct tern_tensor *out, const struct tern_tensor *a,
		  const struct tern_tensor *b)
{
	uint64_t n = out->rows * out->cols, full;
	int mark = tern_prog_mark(w->o->p, TERN_AP_SBUF);
	struct tern_tensor vo, va, vb;
	int ret;

	/*
	 * Contiguous tensors whose rows would leave partitions idle are seen
	 * as 128 rows (and a last short row) instead; not with a bias, which
	 * goes with the columns.
	 */
	if (w->kind == EW_BIAS || out->rows % P == 0 || !contiguous(out) || !contiguous(a) ||
	    (b && !contiguous(b)) || n < P)
		return ew_2d(w, out, a, b);
	full = n / P * P;
	vo = flat_view(out, 0, P, n / P);
	va = flat_view(a, 0, P, n / P);
	if (b)
		vb = flat_view(b, 0, P, n / P);
	ret = ew_2d(w, &vo, &va, b ? &vb : NULL);
	if (ret || full == n)
		return ret;
	/* the last row reuses the tiles' bytes (the scheduler orders it) */
	tern_prog_release(w->o->p, TERN_AP_SBUF, mark);
	vo = flat_view(out, full, 1, n - full);
	va = flat_view(a, full, 1, n - full);
	if (b)
		vb = flat_view(b, full, 1, n - full);
	return ew_2d(w, &vo, &va, b ? &vb : NULL);
}

int ops_ew_run(struct opctx *o, const struct ops_ew *ew, const struct tern_tensor *out,
	       const struct tern_tensor *a, const struct tern_tensor *b)
{
	struct ew w = { o, EW_CUSTOM, 0, ew->func, ew };

	if (ew->ntmp > OPS_EW_MAX_TMP)
		return tern_fail(-EINVAL, "%s: %u scratch tiles", o->fn, ew->ntmp);
	return ew_run(&w, out, a, b);
}

TERN_EXPORT int tern_op_binary(struct tern_program *p, unsigned int alu,
			       const struct tern_tensor *out, const struct tern_tensor *a,
			       const struct tern_tensor *b)
{
	struct opctx o;
	struct ew w = { &o, EW_BINARY, alu, 0, NULL };
	int ret = op_begin(&o, p, "tern_op_binary");

	if (ret)
		return ret;
	if (alu >= TERN_ALU_COUNT)
		ret = tern_fail(-EINVAL, "%s: alu %u is not a TERN_ALU_*", o.fn, alu);
	if (!ret && !(ret = ops_check_tensor(o.fn, "out", out)) &&
	    !(ret = ops_check_tensor(o.fn, "a", a)) && !(ret = ops_check_tensor(o.fn, "b", b)) &&
	    !(ret = ops_check_shape(o.fn, "a", a, out->rows, out->cols)) &&
	    !(ret = ops_check_shape(o.fn, "b", b, out->rows, out->cols)) &&
	    !(ret = ops_check_alias(o.fn, out, "a", a)) && !(ret = ops_check_alias(o.fn, out, "b", b)))
		ret = ew_run(&w, out, a, b);
	return op_end(&o, ret);
}

TERN_EXPORT int tern_op_activation(struct tern_program *p, unsigned int func,
				   const struct tern_tensor *out, const struct tern_tensor *x)
{
	struct opctx o;
	struct ew w = { &o, EW_ACT, 0, func, NULL };
	int ret = op_begin(&o, p, "tern_op_activation");

	if (ret)
		return ret;
	if (func >= TERN_ACT_COUNT)
		ret = tern_fail(-EINVAL, "%s: function %u is not a TERN_ACT_*", o.fn, func);
	if (!ret && !(ret = ops_check_tensor(o.fn, "out", out)) &&
	    !(ret = ops_check_tensor(o.fn, "x", x)) &&
	    !(ret = ops_check_shape(o.fn, "x", x, out->rows, out->cols)) &&
	    !(ret = ops_check_alias(o.fn, out, "x", x)))
		ret = ew_run(&w, out, x, NULL);
	return op_end(&o, ret);
}

TERN_EXPORT int tern_op_bias(struct tern_program *p, unsigned int func,
			     const struct tern_tensor *out, const struct tern_tensor *x,
			     const struct tern_tensor *bias)
{
	struct opctx o;
	struct ew w = { &o, EW_BIAS, TERN_ALU_ADD, func, NULL };
	int ret = op_begin(&o, p, "tern_op_bias");

	if (ret)
		return ret;
	if (func >= TERN_ACT_COUNT)
		ret = tern_fail(-EINVAL, "%s: function %u is not a TERN_ACT_*", o.fn, func);
	if (!ret && !(ret = ops_check_tensor(o.fn, "out", out)) &&
	    !(ret = ops_check_tensor(o.fn, "x", x)) && !(ret = ops_check_tensor(o.fn, "bias", bias)) &&
	    !(ret = ops_check_shape(o.fn, "x", x, out->rows, out->cols)) &&
	    !(ret = ops_check_shape(o.fn, "bias", bias, 1, out->cols)) &&
	    !(ret = ops_check_alias(o.fn, out, "x", x)))
		ret = ops_overlaps(out, bias) ?
		      tern_fail(-EINVAL, "%s: out overlaps bias in slot %" PRIu32, o.fn, out->slot) :
		      ew_run(&w, out, x, bias);
	return op_end(&o, ret);
}

/* ---- softmax ---- */

struct sm_set {
	struct otile x, e, out, mx, nmx, sum, rcp;
};

static int softmax(struct opctx *o, const struct tern_tensor *out, const struct tern_tensor *x)
{
	uint32_t np = min_u32(out->rows, P), cols;
	unsigned int ex = tern_dtype_size(x->dtype), eo = tern_dtype_size(out->dtype);
	struct sm_set set[SM_NBUF];
	struct store_queue sq = { .n = 0 };
	struct tern_hbm_ap h;
	unsigned int nbuf, k = 0;
	uint64_t need;
	int ret = 0;

	if (out->cols > UINT16_MAX)
		return tern_fail(-ENOSPC, "%s: rows of %" PRIu64 " elements are longer than a tile's %u",
				 o->fn, out->cols, UINT16_MAX);
	cols = (uint32_t)out->cols;
	need = (uint64_t)cols * (ex + 4 + eo) + 7 * PROG_ALLOC_ALIGN + 4 * 4;
	nbuf = need * SM_NBUF <= op_free(o, TERN_AP_SBUF) ? SM_NBUF : 1;
	if (need > op_free(o, TERN_AP_SBUF))
		return ops_no_space(o, "a softmax tile of whole rows");
	for (unsigned int i = 0; i < nbuf && !ret; i++) {
		struct sm_set *s = &set[i];

		if (!(ret = op_tile(o, &s->x, TERN_AP_SBUF, x->dtype, np, cols)) &&
		    !(ret = op_tile(o, &s->e, TERN_AP_SBUF, TERN_DT_FP32, np, cols)) &&
		    !(ret = op_tile(o, &s->out, TERN_AP_SBUF, out->dtype, np, cols)) &&
		    !(ret = op_tile(o, &s->mx, TERN_AP_SBUF, TERN_DT_FP32, np, 1)) &&
		    !(ret = op_tile(o, &s->nmx, TERN_AP_SBUF, TERN_DT_FP32, np, 1)) &&
		    !(ret = op_tile(o, &s->sum, TERN_AP_SBUF, TERN_DT_FP32, np, 1)))
			ret = op_tile(o, &s->rcp, TERN_AP_SBUF, TERN_DT_FP32, np, 1);
	}
	if (ret)
		return ret;
	for (uint64_t r0 = 0; r0 < out->rows; r0 += P) {
		uint32_t rb = min_u32(out->rows - r0, P);
		struct sm_set *s = &set[k++ % nbuf];
		struct tern_ap tx = sub(&s->x, rb, cols), te = sub(&s->e, rb, cols);
		struct tern_ap to = sub(&s->out, rb, cols), mx = sub(&s->mx, rb, 1);
		struct tern_ap nmx = sub(&s->nmx, rb, 1), sum = sub(&s->sum, rb, 1);
		struct tern_ap rcp = sub(&s->rcp, rb, 1);

		ret = block(x, r0, 0, rb, cols, &h);
		if (!ret)
			ret = op_load(o, &s->x, tx, &h);
		if (!ret)
			ret = ops_sq_drain(o, &sq, STORE_LAG - 1);
		/* m = max(x); e = exp(x - m); out = e * (1 / sum(e)) */
		if (!ret)
			ret = op_reduce(o, TERN_RED_MAX, &s->mx, mx, &s->x, tx);
		if (!ret)
			ret = op_ts(o, TERN_ALU_MUL, &s->nmx, nmx, &s->mx, mx, -1.0f, false);
		if (!ret)
			ret = op_act(o, TERN_ACT_EXP, &s->e, te, &s->x, tx, 1.0f, &s->nmx, nmx, 0.0f);
		if (!ret)
			ret = op_reduce(o, TERN_RED_SUM, &s->sum, sum, &s->e, te);
		if (!ret)
			ret = op_unary(o, TERN_UN_RECIPROCAL, &s->rcp, rcp, &s->sum, sum);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, &s->out, to, &s->e, te, &s->rcp,
				    tern_ap_bcast(rcp, cols));
		if (!ret)
			ret = block(out, r0, 0, rb, cols, &h);
		if (!ret)
			ret = ops_sq_push(o, &sq, &s->out, to, &h);
		if (ret)
			return ret;
	}
	return ops_sq_drain(o, &sq, 0);
}

TERN_EXPORT int tern_op_softmax(struct tern_program *p, const struct tern_tensor *out,
				const struct tern_tensor *x)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_softmax");

	if (ret)
		return ret;
	if (!(ret = ops_check_tensor(o.fn, "out", out)) && !(ret = ops_check_tensor(o.fn, "x", x)) &&
	    !(ret = ops_check_shape(o.fn, "x", x, out->rows, out->cols)) &&
	    !(ret = ops_check_alias(o.fn, out, "x", x)))
		ret = softmax(&o, out, x);
	return op_end(&o, ret);
}
