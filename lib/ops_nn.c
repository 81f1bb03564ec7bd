// SPDX-License-Identifier: MIT
/*
 * libtern ops: layer norm, RMS norm, transpose and fused attention as
 * programs for a tern core (tern_ops.h). Like ops.c, this file plans the
 * tiles and the order of the instructions in each engine's stream; the
 * scheduler of ops_sched.c adds the semaphores.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "ops_int.h"

#define P		TERN_PARTITIONS
#define ROW_CHUNK	32768	/* elements per tile of a long row (a multiple of 512) */
#define ROW_MAXCH	16	/* chunks of a row: 512 KiB of 1-byte elements */
#define NORM_NBUF	2	/* norm tile sets in flight */
#define TR_XRING	3	/* transpose: input tiles in flight */
#define TR_MAXW		512	/* transpose: input columns and rows per group */
#define AT_KB		TERN_MATMUL_MAX_N	/* attention: keys per score block */
#define AT_PRING	3	/* P^T tiles */
#define AT_KRING	2	/* streamed K^T block sets */
#define AT_VRING	3	/* streamed V tiles */
#define AT_BIG		0x1p100f	/* penalty of a hidden key, per position */

/* ---- whole rows in SBUF, in chunks of ROW_CHUNK elements ---- */

/* A row of up to ROW_MAXCH * ROW_CHUNK elements per partition. */
struct row {
	struct otile t[ROW_MAXCH];
	uint32_t nch;
};

static uint32_t row_chunks(uint64_t cols)
{
	return (uint32_t)div_up(cols, ROW_CHUNK);
}

static uint32_t chunk_len(uint64_t cols, uint32_t ch)
{
	return min_u32(cols - (uint64_t)ch * ROW_CHUNK, ROW_CHUNK);
}

/* Bytes per partition op_tile() takes for n elements of esize bytes. */
static uint64_t tile_bytes(uint64_t n, unsigned int esize)
{
	return (n * esize + PROG_ALLOC_ALIGN - 1) / PROG_ALLOC_ALIGN * PROG_ALLOC_ALIGN;
}

/* Bytes per partition row_alloc() takes. */
static uint64_t row_bytes(uint64_t cols, unsigned int esize)
{
	uint32_t nch = row_chunks(cols);

	return (nch - 1) * tile_bytes(ROW_CHUNK, esize) +
	       tile_bytes(chunk_len(cols, nch - 1), esize);
}

static int row_alloc(struct opctx *o, struct row *r, unsigned int dtype, unsigned int np,
		     uint64_t cols)
{
	int ret = 0;

	r->nch = row_chunks(cols);
	if (r->nch > ROW_MAXCH)
		return tern_fail(-ENOSPC, "%s: rows of %" PRIu64 " elements do not fit in SBUF",
				 o->fn, cols);
	for (uint32_t ch = 0; ch < r->nch && !ret; ch++)
		ret = op_tile(o, &r->t[ch], TERN_AP_SBUF, dtype, np, chunk_len(cols, ch));
	return ret;
}

/* Columns c0..c0+n-1 of the first np partitions, which lie in one chunk. */
static struct otile *row_at(struct row *r, uint64_t c0, unsigned int np, uint32_t n,
			    struct tern_ap *ap)
{
	struct otile *t = &r->t[c0 / ROW_CHUNK];

	*ap = tern_ap_cols(tern_ap_parts(t->ap, 0, np), c0 % ROW_CHUNK, n);
	return t;
}

/* dst [np x 1] = red over the first len columns, through part [np x nch]. */
static int row_reduce(struct opctx *o, unsigned int red, struct otile *d, struct row *r,
		      struct otile *part, unsigned int np, uint64_t len)
{
	uint32_t nch = row_chunks(len);
	struct tern_ap ap;
	struct otile *t;
	int ret = 0;

	if (nch == 1) {
		t = row_at(r, 0, np, (uint32_t)len, &ap);
		return op_reduce(o, red, d, sub(d, np, 1), t, ap);
	}
	for (uint32_t ch = 0; ch < nch && !ret; ch++) {
		t = row_at(r, (uint64_t)ch * ROW_CHUNK, np, chunk_len(len, ch), &ap);
		ret = op_reduce(o, red, part, tern_ap_cols(sub(part, np, nch), ch, 1), t, ap);
	}
	return ret ? ret : op_reduce(o, red, d, sub(d, np, 1), part, sub(part, np, nch));
}

/* How row_dma() moves a row. */
enum row_dir { ROW_LOAD, ROW_BCAST, ROW_STORE };

/*
 * Loads rows r0.. of t into the first np partitions, chunk by chunk, or
 * (ROW_BCAST) row 0 into each of them, or (ROW_STORE) queues their stores.
 */
static int row_dma(struct opctx *o, struct store_queue *sq, struct row *r,
		   const struct tern_tensor *t, uint64_t r0, unsigned int np, enum row_dir dir)
{
	struct tern_hbm_ap h;
	int ret = 0;

	for (uint32_t ch = 0; ch < r->nch && !ret; ch++) {
		uint64_t c0 = (uint64_t)ch * ROW_CHUNK;
		uint32_t n = chunk_len(t->cols, ch);
		struct tern_ap ap;
		struct otile *ot = row_at(r, c0, np, n, &ap);

		ret = tern_tensor_block(t, r0, c0, dir == ROW_BCAST ? 1 : np, n, &h);
		if (dir == ROW_BCAST)
			h.pstride = 0;	/* the same row in every partition */
		if (!ret)
			ret = dir == ROW_STORE ? ops_sq_push(o, sq, ot, ap, &h) :
			      op_load(o, ot, ap, &h);
	}
	return ret;
}

/* ---- layer norm and RMS norm ---- */

struct norm_set {
	struct row x, w, w2, y;		/* input, fp32 work, fp32 squares (if needed), out */
	struct row *sqr;		/* the squares: w2, or x or y when fp32 */
	struct otile part, sum, nmean, ssq, rstd;
};

struct norm {
	struct opctx *o;
	const struct tern_tensor *out, *x, *gamma, *beta;
	float eps;
	bool layer;			/* layer norm, else RMS norm */
	bool w2;			/* layer norm needs a row for its squares */
	struct row g, b;		/* gamma, beta in every partition */
};

/*
 * One tile of rows. Layer norm: w = x - mean (scalar engine), squares in
 * sqr, rstd, then w *= rstd, w *= gamma, y = w + beta in place. RMS norm:
 * squares in w, rstd, w = x * rstd, y = w * gamma.
 */
static int norm_rows(struct norm *w, struct norm_set *s, uint64_t r0, unsigned int rb,
		     struct store_queue *sq)
{
	struct opctx *o = w->o;
	uint64_t cols = w->x->cols;
	float inv = (float)(1.0 / (double)cols);
	struct row *src = w->layer ? &s->w : &s->x, *sqr = w->layer ? s->sqr : &s->w;
	struct tern_ap mean = sub(&s->nmean, rb, 1), rstd = sub(&s->rstd, rb, 1);
	int ret = row_dma(o, NULL, &s->x, w->x, r0, rb, ROW_LOAD);

	/* stores of earlier tiles go behind these loads */
	if (!ret)
		ret = ops_sq_drain(o, sq, STORE_LAG - 1);
	if (!ret && w->layer) {
		ret = row_reduce(o, TERN_RED_SUM, &s->sum, &s->x, &s->part, rb, cols);
		if (!ret)
			ret = op_ts(o, TERN_ALU_MUL, &s->nmean, mean, &s->sum, sub(&s->sum, rb, 1),
				    -inv, false);
		for (uint32_t ch = 0; ch < s->x.nch && !ret; ch++) {
			uint32_t n = chunk_len(cols, ch);

			ret = op_act(o, TERN_ACT_IDENTITY, &s->w.t[ch], sub(&s->w.t[ch], rb, n),
				     &s->x.t[ch], sub(&s->x.t[ch], rb, n), 1.0f, &s->nmean, mean,
				     0.0f);
		}
	}
	/* rstd = 1 / sqrt(sum of squares / cols + eps) */
	for (uint32_t ch = 0; ch < s->x.nch && !ret; ch++) {
		uint32_t n = chunk_len(cols, ch);
		struct tern_ap a = sub(&src->t[ch], rb, n);

		ret = op_tt(o, TERN_ALU_MUL, &sqr->t[ch], sub(&sqr->t[ch], rb, n), &src->t[ch], a,
			    &src->t[ch], a);
	}
	if (!ret)
		ret = row_reduce(o, TERN_RED_SUM, &s->ssq, sqr, &s->part, rb, cols);
	if (!ret)
		ret = op_act(o, TERN_ACT_RSQRT, &s->rstd, rstd, &s->ssq, sub(&s->ssq, rb, 1), inv,
			     NULL, rstd, w->eps);
	for (uint32_t ch = 0; ch < s->x.nch && !ret; ch++) {
		uint32_t n = chunk_len(cols, ch);
		struct otile *t = &s->w.t[ch], *y = &s->y.t[ch];
		struct tern_ap a = sub(&src->t[ch], rb, n), ta = sub(t, rb, n), ya = sub(y, rb, n);
		struct tern_ap rs = tern_ap_bcast(rstd, n);

		if (!w->gamma) {
			ret = op_tt(o, TERN_ALU_MUL, y, ya, &src->t[ch], a, &s->rstd, rs);
			continue;
		}
		ret = op_tt(o, TERN_ALU_MUL, t, ta, &src->t[ch], a, &s->rstd, rs);
		if (!ret)
			ret = op_tt(o, TERN_ALU_MUL, w->beta ? t : y, w->beta ? ta : ya, t, ta,
				    &w->g.t[ch], sub(&w->g.t[ch], rb, n));
		if (!ret && w->beta)
			ret = op_tt(o, TERN_ALU_ADD, y, ya, t, ta, &w->b.t[ch],
				    sub(&w->b.t[ch], rb, n));
	}
	return ret ? ret : row_dma(o, sq, &s->y, w->out, r0, rb, ROW_STORE);
}

static int norm_set_alloc(struct norm *w, struct norm_set *s, unsigned int np)
{
	struct otile *stats[] = { &s->sum, &s->nmean, &s->ssq, &s->rstd };
	struct opctx *o = w->o;
	uint64_t cols = w->x->cols;
	int ret;

	if ((ret = row_alloc(o, &s->x, w->x->dtype, np, cols)) ||
	    (ret = row_alloc(o, &s->w, TERN_DT_FP32, np, cols)) ||
	    (w->w2 && (ret = row_alloc(o, &s->w2, TERN_DT_FP32, np, cols))) ||
	    (ret = row_alloc(o, &s->y, w->out->dtype, np, cols)) ||
	    (ret = op_tile(o, &s->part, TERN_AP_SBUF, TERN_DT_FP32, np, ROW_MAXCH)))
		return ret;
	for (unsigned int i = 0; i < 4 && !ret; i++)
		ret = op_tile(o, stats[i], TERN_AP_SBUF, TERN_DT_FP32, np, 1);
	/* y is written only after the squares are summed, x read only before */
	s->sqr = w->w2 ? &s->w2 : w->out->dtype == TERN_DT_FP32 ? &s->y : &s->x;
	return ret;
}

static int norm_run(struct norm *w)
{
	struct opctx *o = w->o;
	const struct tern_tensor *x = w->x, *out = w->out;
	uint64_t cols = x->cols;
	unsigned int np = min_u32(x->rows, P), nbuf, k = 0;
	uint64_t per, fixed;
	struct norm_set set[NORM_NBUF];
	struct store_queue sq = { .n = 0 };
	int ret = 0;

	/* a set: x, one or two fp32 rows, out, and five small tiles */
	w->w2 = w->layer && x->dtype != TERN_DT_FP32 && out->dtype != TERN_DT_FP32;
	per = row_bytes(cols, tern_dtype_size(x->dtype)) + row_bytes(cols, 4) * (w->w2 ? 2 : 1) +
	      row_bytes(cols, tern_dtype_size(out->dtype)) + tile_bytes(ROW_MAXCH, 4) +
	      4 * tile_bytes(1, 4);
	fixed = (w->gamma ? row_bytes(cols, tern_dtype_size(w->gamma->dtype)) : 0) +
		(w->beta ? row_bytes(cols, tern_dtype_size(w->beta->dtype)) : 0);
	if (fixed + per > op_free(o, TERN_AP_SBUF) || row_chunks(cols) > ROW_MAXCH)
		return ops_no_space(o, "a norm's tile of whole rows");
	nbuf = fixed + per * NORM_NBUF <= op_free(o, TERN_AP_SBUF) && x->rows > P ? NORM_NBUF : 1;
	/* gamma and beta once, broadcast to every partition */
	if (w->gamma && !(ret = row_alloc(o, &w->g, w->gamma->dtype, np, cols)))
		ret = row_dma(o, NULL, &w->g, w->gamma, 0, np, ROW_BCAST);
	if (!ret && w->beta && !(ret = row_alloc(o, &w->b, w->beta->dtype, np, cols)))
		ret = row_dma(o, NULL, &w->b, w->beta, 0, np, ROW_BCAST);
	for (unsigned int i = 0; i < nbuf && !ret; i++)
		ret = norm_set_alloc(w, &set[i], np);
	for (uint64_t r0 = 0; r0 < x->rows && !ret; r0 += P)
		ret = norm_rows(w, &set[k++ % nbuf], r0, min_u32(x->rows - r0, P), &sq);
	return ret ? ret : ops_sq_drain(o, &sq, 0);
}

static int norm_check(struct norm *w)
{
	const char *fn = w->o->fn;
	int ret;

	if ((ret = ops_check_tensor(fn, "out", w->out)) || (ret = ops_check_tensor(fn, "x", w->x)) ||
	    (ret = ops_check_shape(fn, "x", w->x, w->out->rows, w->out->cols)) ||
	    (ret = ops_check_alias(fn, w->out, "x", w->x)))
		return ret;
	if (w->beta && !w->gamma)
		return tern_fail(-EINVAL, "%s: beta without gamma", fn);
	if (w->gamma && ((ret = ops_check_tensor(fn, "gamma", w->gamma)) ||
			 (ret = ops_check_shape(fn, "gamma", w->gamma, 1, w->out->cols))))
		return ret;
	if (w->beta && ((ret = ops_check_tensor(fn, "beta", w->beta)) ||
			(ret = ops_check_shape(fn, "beta", w->beta, 1, w->out->cols))))
		return ret;
	if (w->gamma && ops_overlaps(w->out, w->gamma))
		return tern_fail(-EINVAL, "%s: out overlaps gamma in slot %" PRIu32, fn,
				 w->out->slot);
	if (w->beta && ops_overlaps(w->out, w->beta))
		return tern_fail(-EINVAL, "%s: out overlaps beta in slot %" PRIu32, fn,
				 w->out->slot);
	if (!(w->eps >= 0.0f) || isinf(w->eps))
		return tern_fail(-EINVAL, "%s: eps %g is not a finite value >= 0", fn,
				 (double)w->eps);
	return 0;
}

static int norm(struct opctx *o, bool layer, const struct tern_tensor *out,
		const struct tern_tensor *x, const struct tern_tensor *gamma,
		const struct tern_tensor *beta, float eps)
{
	struct norm w = { .o = o, .out = out, .x = x, .gamma = gamma, .beta = beta,
			  .eps = eps, .layer = layer };
	int ret = norm_check(&w);

	return ret ? ret : norm_run(&w);
}

TERN_EXPORT int tern_op_layernorm(struct tern_program *p, const struct tern_tensor *out,
				  const struct tern_tensor *x, const struct tern_tensor *gamma,
				  const struct tern_tensor *beta, float eps)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_layernorm");

	if (ret)
		return ret;
	return op_end(&o, norm(&o, true, out, x, gamma, beta, eps));
}

TERN_EXPORT int tern_op_rmsnorm(struct tern_program *p, const struct tern_tensor *out,
				const struct tern_tensor *x, const struct tern_tensor *gamma,
				float eps)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_rmsnorm");

	if (ret)
		return ret;
	return op_end(&o, norm(&o, false, out, x, gamma, NULL, eps));
}

/* ---- transpose ---- */

/*
 * Groups of up to W x W elements of x: the DMA loads them as up to W / 128
 * tiles of 128 rows x W columns, the tensor engine turns each 128 x 128
 * block into one of W / 128 output tiles of 128 rows (x's columns) x W
 * (x's rows), in the output's dtype, and the DMA stores those.
 */
struct tr {
	struct opctx *o;
	const struct tern_tensor *out, *x;
	uint32_t wdt;			/* W */
	struct otile xr[TR_XRING];
	struct otile ot[2][TR_MAXW / P];
	struct pending st[TR_MAXW / P];	/* the last group's stores */
	unsigned int nst, xi, oi;
};

static int tr_flush(struct tr *w)
{
	for (unsigned int i = 0; i < w->nst; i++) {
		int ret = op_store(w->o, &w->st[i].h, w->st[i].t, w->st[i].ap);

		if (ret)
			return ret;
	}
	w->nst = 0;
	return 0;
}

static int tr_group(struct tr *w, uint64_t g0, uint32_t gw, uint64_t c0, uint32_t cw)
{
	struct opctx *o = w->o;
	struct otile *ot = w->ot[w->oi++ % 2];
	uint32_t nj = (uint32_t)div_up(cw, P);
	struct tern_hbm_ap h;
	int ret = 0;

	for (uint64_t r0 = g0; r0 < g0 + gw && !ret; r0 += P) {
		uint32_t rb = min_u32(g0 + gw - r0, P);
		struct otile *xt = &w->xr[w->xi++ % TR_XRING];

		ret = tern_tensor_block(w->x, r0, c0, rb, cw, &h);
		if (!ret)
			ret = op_load(o, xt, sub(xt, rb, cw), &h);
		/* the last group's stores go behind this group's first load */
		if (!ret && r0 == g0)
			ret = tr_flush(w);
		for (uint32_t j = 0; j < nj && !ret; j++) {
			uint32_t cb = min_u32(cw - j * P, P);
			struct tern_ap src = tern_ap_cols(sub(xt, rb, cw), j * P, cb);
			struct tern_ap dst = tern_ap_cols(tern_ap_parts(ot[j].ap, 0, cb),
							  (uint32_t)(r0 - g0), rb);

			ret = op_transpose(o, &ot[j], dst, xt, src);
		}
	}
	for (uint32_t j = 0; j < nj && !ret; j++) {
		uint32_t cb = min_u32(cw - j * P, P);

		ret = tern_tensor_block(w->out, c0 + j * P, g0, cb, gw, &w->st[j].h);
		w->st[j].t = &ot[j];
		w->st[j].ap = sub(&ot[j], cb, gw);
		w->nst = j + 1;
	}
	return ret;
}

static int transpose(struct opctx *o, const struct tern_tensor *out, const struct tern_tensor *x)
{
	unsigned int ex = tern_dtype_size(x->dtype), eo = tern_dtype_size(out->dtype);
	struct tr w = { .o = o, .out = out, .x = x };
	int ret = 0;

	/* the widest groups that fit: 512, 256 or 128 */
	for (w.wdt = TR_MAXW; w.wdt >= P; w.wdt /= 2) {
		uint64_t need = TR_XRING * tile_bytes(min_u32(x->cols, w.wdt), ex) +
				2ull * (w.wdt / P) * tile_bytes(min_u32(x->rows, w.wdt), eo);

		if (need <= op_free(o, TERN_AP_SBUF))
			break;
	}
	if (w.wdt < P)
		return ops_no_space(o, "a transpose's smallest set of tiles");
	for (unsigned int i = 0; i < TR_XRING && !ret; i++)
		ret = op_tile(o, &w.xr[i], TERN_AP_SBUF, x->dtype, min_u32(x->rows, P),
			      min_u32(x->cols, w.wdt));
	for (unsigned int i = 0; i < 2 * (w.wdt / P) && !ret; i++)
		ret = op_tile(o, &w.ot[i / (w.wdt / P)][i % (w.wdt / P)], TERN_AP_SBUF, out->dtype,
			      min_u32(x->cols, P), min_u32(x->rows, w.wdt));
	for (uint64_t c0 = 0; c0 < x->cols && !ret; c0 += w.wdt)
		for (uint64_t g0 = 0; g0 < x->rows && !ret; g0 += w.wdt)
			ret = tr_group(&w, g0, min_u32(x->rows - g0, w.wdt), c0,
				       min_u32(x->cols - c0, w.wdt));
	return ret ? ret : tr_flush(&w);
}

TERN_EXPORT int tern_op_transpose(struct tern_program *p, const struct tern_tensor *out,
				  const struct tern_tensor *x)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_transpose");

	if (ret)
		return ret;
	if (!(ret = ops_check_tensor(o.fn, "out", out)) && !(ret = ops_check_tensor(o.fn, "x", x)) &&
	    !(ret = ops_check_shape(o.fn, "out", out, x->cols, x->rows))) {
		if (ops_overlaps(out, x))
			ret = tern_fail(-EINVAL, "%s: out overlaps x in slot %" PRIu32, o.fn,
					out->slot);
		else
			ret = transpose(&o, out, x);
	}
	return op_end(&o, ret);
}

/* ---- attention ---- */

/* The tiles of one block of up to 128 queries. */
struct at_set {
	struct row s;			/* scaled scores, fp32 [qb x Sk] */
	struct row pown;		/* exp(s - max) when not fp32 */
	struct row *pr;			/* exp(s - max): pown, or s itself */
	struct otile qs;		/* Q rows [qb x D] */
	struct otile *qt;		/* Q^T [dc x qb], per block of 128 of D */
	struct otile *o;		/* PSUM [qb x 512] per block of 512 of Dv */
	struct otile out;		/* [qb x Dv] */
	struct otile mx, nmx, sum, rcp, part;
};

struct at {
	struct opctx *o;
	const struct tern_tensor *out, *q, *k, *v;
	struct tern_tensor qt, kt;	/* Q^T and K^T views */
	float scale;
	bool causal;
	uint64_t sq, sk, d, dv, off;	/* off = Sk - Sq when causal */
	uint32_t ndc, ndv, nq, nkb, nkc;
	unsigned int pdt;		/* dtype of P = exp(S - max) */
	bool qtr, ktr;			/* Q^T, K^T by TRANSPOSE, else by DMA */
	bool res;			/* K^T and V kept for all query blocks */
	unsigned int nset;
	struct at_set set[2];
	struct otile *ktile;		/* K^T [dc x 512]: [nkb][ndc], or [AT_KRING][ndc] */
	struct otile *vtile;		/* V [128 x Dv]: [nkc], or a ring [AT_VRING] */
	bool *kbuilt, *vbuilt;
	struct otile kstage[2], mask, pt[AT_PRING], ps[2];
	unsigned int ksi, kri, vri, pti, psi;
	struct store_queue stores;
};

/* Keys visible to query block qi: causal rows see up to q0 + p + off. */
static uint64_t at_len(const struct at *w, uint32_t qi)
{
	uint64_t end = (uint64_t)qi * P + min_u32(w->sq - (uint64_t)qi * P, P) + w->off;

	return w->causal && end < w->sk ? end : w->sk;
}

/* Bytes per partition of the SBUF tiles at_alloc() takes. */
static uint64_t at_sbuf(const struct at *w, bool res, unsigned int nset)
{
	unsigned int eq = tern_dtype_size(w->q->dtype), ek = tern_dtype_size(w->k->dtype);
	unsigned int ev = tern_dtype_size(w->v->dtype), eo = tern_dtype_size(w->out->dtype);
	unsigned int ep = tern_dtype_size(w->pdt);
	uint64_t kbw = min_u32(w->sk, AT_KB), qbm = min_u32(w->sq, P), set, fixed, kv;

	fixed = AT_PRING * tile_bytes(qbm, ep) + (w->ktr ? 2 * tile_bytes(w->d, ek) : 0) +
		(w->causal ? tile_bytes(2 * kbw + P, 4) : 0);
	set = (w->qtr ? tile_bytes(w->d, eq) : 0) + w->ndc * tile_bytes(qbm, eq) +
	      row_bytes(w->sk, 4) + (w->pdt != TERN_DT_FP32 ? row_bytes(w->sk, ep) : 0) +
	      tile_bytes(w->dv, eo) + tile_bytes(ROW_MAXCH, 4) + 4 * tile_bytes(1, 4);
	kv = res ? (uint64_t)w->nkb * w->ndc * tile_bytes(kbw, ek) +
		   w->nkc * tile_bytes(w->dv, ev) :
		   AT_KRING * w->ndc * tile_bytes(kbw, ek) + AT_VRING * tile_bytes(w->dv, ev);
	return fixed + nset * set + kv;
}

/* Bytes per partition of the PSUM tiles: two of scores, the output's per set. */
static uint64_t at_psum(const struct at *w, unsigned int nset)
{
	return 2 * tile_bytes(min_u32(w->sk, AT_KB), 4) +
	       (uint64_t)nset * w->ndv * tile_bytes(min_u32(w->dv, AT_KB), 4);
}

/* The K^T tiles [ndc] of key block kb, loaded and turned on first use. */
static int at_keys(struct at *w, uint32_t kb, struct otile **ktp)
{
	struct opctx *o = w->o;
	uint64_t n0 = (uint64_t)kb * AT_KB;
	uint32_t nb = min_u32(w->sk - n0, AT_KB);
	struct otile *kt = w->res ? &w->ktile[kb * w->ndc] :
			   &w->ktile[(w->kri++ % AT_KRING) * w->ndc];
	struct tern_hbm_ap h;
	int ret = 0;

	*ktp = kt;
	if (w->res && w->kbuilt[kb])
		return 0;
	if (w->res)
		w->kbuilt[kb] = true;
	for (uint32_t di = 0; di < w->ndc && !w->ktr && !ret; di++) {
		uint32_t dc = min_u32(w->d - di * P, P);

		ret = tern_tensor_block(&w->kt, di * P, n0, dc, nb, &h);
		if (!ret)
			ret = op_load(o, &kt[di], sub(&kt[di], dc, nb), &h);
	}
	/* rows of K are contiguous: load 128 keys at a time and turn them */
	for (uint32_t j0 = 0; j0 < nb && w->ktr && !ret; j0 += P) {
		uint32_t jb = min_u32(nb - j0, P);
		struct otile *st = &w->kstage[w->ksi++ % 2];

		ret = tern_tensor_block(w->k, n0 + j0, 0, jb, (uint32_t)w->d, &h);
		if (!ret)
			ret = op_load(o, st, sub(st, jb, (uint32_t)w->d), &h);
		for (uint32_t di = 0; di < w->ndc && !ret; di++) {
			uint32_t dc = min_u32(w->d - di * P, P);
			struct tern_ap ka = sub(st, jb, (uint32_t)w->d);

			ret = op_transpose(o, &kt[di], tern_ap_cols(sub(&kt[di], dc, nb), j0, jb),
					   st, tern_ap_cols(ka, di * P, dc));
		}
	}
	return ret;
}

/* The V tile of keys kc * 128.., loaded on first use. */
static int at_values(struct at *w, uint32_t kc, struct otile **vtp)
{
	uint64_t k0 = (uint64_t)kc * P;
	uint32_t kb = min_u32(w->sk - k0, P);
	struct otile *vt = w->res ? &w->vtile[kc] : &w->vtile[w->vri++ % AT_VRING];
	struct tern_hbm_ap h;
	int ret;

	*vtp = vt;
	if (w->res && w->vbuilt[kc])
		return 0;
	if (w->res)
		w->vbuilt[kc] = true;
	ret = tern_tensor_block(w->v, k0, 0, kb, (uint32_t)w->dv, &h);
	return ret ? ret : op_load(w->o, vt, sub(vt, kb, (uint32_t)w->dv), &h);
}

/* Q^T of query block qi into the set's qt tiles. */
static int at_queries(struct at *w, struct at_set *s, uint64_t q0, uint32_t qb)
{
	struct opctx *o = w->o;
	struct tern_hbm_ap h;
	int ret = 0;

	if (w->qtr) {
		ret = tern_tensor_block(w->q, q0, 0, qb, (uint32_t)w->d, &h);
		if (!ret)
			ret = op_load(o, &s->qs, sub(&s->qs, qb, (uint32_t)w->d), &h);
	}
	if (!ret)
		ret = ops_sq_drain(o, &w->stores, 0);	/* the last output goes behind the load */
	for (uint32_t di = 0; di < w->ndc && !ret; di++) {
		uint32_t dc = min_u32(w->d - di * P, P);

		if (w->qtr) {
			struct tern_ap qs = sub(&s->qs, qb, (uint32_t)w->d);

			ret = op_transpose(o, &s->qt[di], sub(&s->qt[di], dc, qb), &s->qs,
					   tern_ap_cols(qs, di * P, dc));
			continue;
		}
		ret = tern_tensor_block(&w->qt, di * P, q0, dc, qb, &h);
		if (!ret)
			ret = op_load(o, &s->qt[di], sub(&s->qt[di], dc, qb), &h);
	}
	return ret;
}

/* Scores of keys n0.. (nb) into the set's row: scale Q K^T, causal mask. */
static int at_score_block(struct at *w, struct at_set *s, uint64_t q0, uint32_t qb, uint32_t kb)
{
	struct opctx *o = w->o;
	uint64_t n0 = (uint64_t)kb * AT_KB;
	uint32_t nb = min_u32(at_len(w, (uint32_t)(q0 / P)) - n0, AT_KB);
	struct otile *ps = &w->ps[w->psi++ % 2], *kt, *st;
	struct tern_ap sap;
	int ret = at_keys(w, kb, &kt);

	for (uint32_t di = 0; di < w->ndc && !ret; di++) {
		uint32_t dc = min_u32(w->d - di * P, P);

		ret = op_matmul(o, ps, sub(ps, qb, nb), &s->qt[di], sub(&s->qt[di], dc, qb),
				&kt[di], sub(&kt[di], dc, nb), di > 0);
	}
	st = row_at(&s->s, n0, qb, nb, &sap);
	if (!ret)
		ret = op_act(o, TERN_ACT_IDENTITY, st, sap, ps, sub(ps, qb, nb), w->scale, NULL,
			     sap, 0.0f);
	/* key n0 + c is hidden from query q0 + p when c - p + d > 0 */
	if (!ret && w->causal && n0 + nb - 1 > q0 + w->off) {
		int64_t d = (int64_t)n0 - (int64_t)q0 - (int64_t)w->off;
		uint32_t at = (uint32_t)(d + min_u32(w->sk, AT_KB) - 1);

		ret = op_tt(o, TERN_ALU_SUB, st, sap, st, sap, &w->mask,
			    tern_ap_cols(sub(&w->mask, qb, nb), at, nb));
	}
	return ret;
}

/* Stage one of query block qi: Q^T, the scores, their softmax but the division. */
static int at_stage_scores(struct at *w, uint32_t qi)
{
	struct opctx *o = w->o;
	struct at_set *s = &w->set[qi % w->nset];
	uint64_t q0 = (uint64_t)qi * P, len = at_len(w, qi);
	uint32_t qb = min_u32(w->sq - q0, P);
	int ret = at_queries(w, s, q0, qb);

	for (uint32_t kb = 0; kb < div_up(len, AT_KB) && !ret; kb++)
		ret = at_score_block(w, s, q0, qb, kb);
	/* p = exp(s - max), its row sums and their reciprocals */
	if (!ret)
		ret = row_reduce(o, TERN_RED_MAX, &s->mx, &s->s, &s->part, qb, len);
	if (!ret)
		ret = op_ts(o, TERN_ALU_MUL, &s->nmx, sub(&s->nmx, qb, 1), &s->mx,
			    sub(&s->mx, qb, 1), -1.0f, false);
	for (uint32_t ch = 0; ch < row_chunks(len) && !ret; ch++) {
		uint32_t n = chunk_len(len, ch);

		ret = op_act(o, TERN_ACT_EXP, &s->pr->t[ch], sub(&s->pr->t[ch], qb, n), &s->s.t[ch],
			     sub(&s->s.t[ch], qb, n), 1.0f, &s->nmx, sub(&s->nmx, qb, 1), 0.0f);
	}
	if (!ret)
		ret = row_reduce(o, TERN_RED_SUM, &s->sum, s->pr, &s->part, qb, len);
	if (!ret)
		ret = op_unary(o, TERN_UN_RECIPROCAL, &s->rcp, sub(&s->rcp, qb, 1), &s->sum,
			       sub(&s->sum, qb, 1));
	return ret;
}

/* Stage two: O = P V through P^T in blocks of 128 keys, out = O / sum. */
static int at_stage_output(struct at *w, uint32_t qi)
{
	struct opctx *o = w->o;
	struct at_set *s = &w->set[qi % w->nset];
	uint64_t q0 = (uint64_t)qi * P, len = at_len(w, qi);
	uint32_t qb = min_u32(w->sq - q0, P);
	struct tern_hbm_ap h;
	int ret = 0;

	for (uint32_t kc = 0; kc < div_up(len, P) && !ret; kc++) {
		uint32_t kb = min_u32(len - (uint64_t)kc * P, P);
		struct otile *pt = &w->pt[w->pti++ % AT_PRING], *vt, *et;
		struct tern_ap eap;

		et = row_at(s->pr, (uint64_t)kc * P, qb, kb, &eap);
		ret = op_transpose(o, pt, sub(pt, kb, qb), et, eap);
		if (!ret)
			ret = at_values(w, kc, &vt);
		for (uint32_t vi = 0; vi < w->ndv && !ret; vi++) {
			uint32_t vb = min_u32(w->dv - (uint64_t)vi * AT_KB, AT_KB);

			struct tern_ap va = sub(vt, kb, (uint32_t)w->dv);

			ret = op_matmul(o, &s->o[vi], sub(&s->o[vi], qb, vb), pt, sub(pt, kb, qb),
					vt, tern_ap_cols(va, vi * AT_KB, vb), kc > 0);
		}
	}
	for (uint32_t vi = 0; vi < w->ndv && !ret; vi++) {
		uint32_t vb = min_u32(w->dv - (uint64_t)vi * AT_KB, AT_KB);
		struct tern_ap oa = sub(&s->out, qb, (uint32_t)w->dv);
		struct tern_ap rcp = tern_ap_bcast(sub(&s->rcp, qb, 1), vb);

		ret = op_tt(o, TERN_ALU_MUL, &s->out, tern_ap_cols(oa, vi * AT_KB, vb), &s->o[vi],
			    sub(&s->o[vi], qb, vb), &s->rcp, rcp);
	}
	if (!ret)
		ret = tern_tensor_block(w->out, q0, 0, qb, (uint32_t)w->dv, &h);
	return ret ? ret : ops_sq_push(o, &w->stores, &s->out, sub(&s->out, qb, (uint32_t)w->dv), &h);
}

/*
 * The causal mask: mask[p][j] = AT_BIG * relu(j - p - B), B = min(Sk, 512)
 * - 1, so that the penalty of key n0 + c for query q0 + p, AT_BIG * relu(c
 * - p + d), is column c + d + B of it (0 <= d + B < 512 + 128 where it is
 * used). The index pattern is made by IOTA: ops_int.h has no scheduled
 * IOTA, so it goes between two scheduled vector instructions on the tile,
 * the first ordering it after earlier users of the bytes, the second
 * (relu) publishing it to the other engines.
 */
static int at_mask(struct at *w)
{
	struct opctx *o = w->o;
	uint32_t b = min_u32(w->sk, AT_KB) - 1;
	struct tern_ap ap = sub(&w->mask, min_u32(w->sq, P), 2 * (b + 1) + P);
	int ret = op_ts(o, TERN_ALU_MUL, &w->mask, ap, &w->mask, ap, 0.0f, false);

	if (!ret)
		ret = tern_prog_iota(o->p, ap, -(int32_t)b, -1, 1, TERN_SYNC_NONE);
	if (ret >= 0)
		ret = op_ts(o, TERN_ALU_MAX, &w->mask, ap, &w->mask, ap, 0.0f, false);
	return ret < 0 ? ret : op_ts(o, TERN_ALU_MUL, &w->mask, ap, &w->mask, ap, AT_BIG, false);
}

static int at_alloc_set(struct at *w, struct at_set *s)
{
	struct otile *stats[] = { &s->mx, &s->nmx, &s->sum, &s->rcp };
	struct opctx *o = w->o;
	unsigned int qbm = min_u32(w->sq, P);
	int ret = row_alloc(o, &s->s, TERN_DT_FP32, qbm, w->sk);

	s->pr = &s->s;
	if (!ret && w->pdt != TERN_DT_FP32) {
		ret = row_alloc(o, &s->pown, w->pdt, qbm, w->sk);
		s->pr = &s->pown;
	}
	if (!ret && w->qtr)
		ret = op_tile(o, &s->qs, TERN_AP_SBUF, w->q->dtype, qbm, (uint32_t)w->d);
	for (uint32_t i = 0; i < w->ndc && !ret; i++)
		ret = op_tile(o, &s->qt[i], TERN_AP_SBUF, w->q->dtype, min_u32(w->d - i * P, P),
			      qbm);
	for (uint32_t i = 0; i < w->ndv && !ret; i++)
		ret = op_tile(o, &s->o[i], TERN_AP_PSUM, TERN_DT_FP32, qbm, min_u32(w->dv, AT_KB));
	if (!ret)
		ret = op_tile(o, &s->out, TERN_AP_SBUF, w->out->dtype, qbm, (uint32_t)w->dv);
	if (!ret)
		ret = op_tile(o, &s->part, TERN_AP_SBUF, TERN_DT_FP32, qbm, ROW_MAXCH);
	for (unsigned int i = 0; i < 4 && !ret; i++)
		ret = op_tile(o, stats[i], TERN_AP_SBUF, TERN_DT_FP32, qbm, 1);
	return ret;
}

static int at_alloc(struct at *w)
{
	struct opctx *o = w->o;
	uint32_t nk = w->res ? w->nkb : AT_KRING, nv = w->res ? w->nkc : AT_VRING;
	uint32_t kbw = min_u32(w->sk, AT_KB), qbm = min_u32(w->sq, P), kcm = min_u32(w->sk, P);
	int ret = 0;

	w->ktile = calloc((size_t)nk * w->ndc, sizeof(*w->ktile));
	w->vtile = calloc(nv, sizeof(*w->vtile));
	w->kbuilt = calloc(w->nkb, sizeof(*w->kbuilt));
	w->vbuilt = calloc(w->nkc, sizeof(*w->vbuilt));
	for (unsigned int i = 0; i < w->nset; i++) {
		w->set[i].qt = calloc(w->ndc, sizeof(*w->set[i].qt));
		w->set[i].o = calloc(w->ndv, sizeof(*w->set[i].o));
		if (!w->set[i].qt || !w->set[i].o)
			ret = -ENOMEM;
	}
	if (ret || !w->ktile || !w->vtile || !w->kbuilt || !w->vbuilt)
		return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
	for (uint32_t i = 0; i < 2 && !ret; i++)
		ret = op_tile(o, &w->ps[i], TERN_AP_PSUM, TERN_DT_FP32, qbm, kbw);
	for (unsigned int i = 0; i < w->nset && !ret; i++)
		ret = at_alloc_set(w, &w->set[i]);
	for (uint32_t i = 0; i < nk * w->ndc && !ret; i++)
		ret = op_tile(o, &w->ktile[i], TERN_AP_SBUF, w->k->dtype,
			      min_u32(w->d - (i % w->ndc) * P, P), kbw);
	for (uint32_t i = 0; i < nv && !ret; i++)
		ret = op_tile(o, &w->vtile[i], TERN_AP_SBUF, w->v->dtype, kcm, (uint32_t)w->dv);
	for (uint32_t i = 0; i < 2 && w->ktr && !ret; i++)
		ret = op_tile(o, &w->kstage[i], TERN_AP_SBUF, w->k->dtype, kcm, (uint32_t)w->d);
	for (uint32_t i = 0; i < AT_PRING && !ret; i++)
		ret = op_tile(o, &w->pt[i], TERN_AP_SBUF, w->pdt, kcm, qbm);
	if (w->causal && !ret)
		ret = op_tile(o, &w->mask, TERN_AP_SBUF, TERN_DT_FP32, qbm, 2 * kbw + P);
	return ret;
}

/* Tiles: what fits, preferring K^T and V kept, then two query blocks in flight. */
static int at_plan(struct at *w)
{
	struct opctx *o = w->o;
	static const struct { bool res; unsigned int nset; } plans[] = {
		{ true, 2 }, { true, 1 }, { false, 2 }, { false, 1 },
	};

	if (w->d > UINT16_MAX || w->dv > UINT16_MAX || row_chunks(w->sk) > ROW_MAXCH)
		return tern_fail(-ENOSPC, "%s: D = %" PRIu64 ", Dv = %" PRIu64 ", Sk = %" PRIu64
				 ": a row of Q, V or the scores does not fit in a tile", o->fn,
				 w->d, w->dv, w->sk);
	if (at_psum(w, 1) > op_free(o, TERN_AP_PSUM))
		return tern_fail(-ENOSPC, "%s: Dv = %" PRIu64 " needs %" PRIu64
				 " PSUM bytes per partition, %" PRIu32 " are free", o->fn, w->dv,
				 at_psum(w, 1), op_free(o, TERN_AP_PSUM));
	for (unsigned int i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		/* one query block: nothing to keep, nothing to overlap */
		if ((w->nq == 1 && (plans[i].res || plans[i].nset > 1)) ||
		    at_psum(w, plans[i].nset) > op_free(o, TERN_AP_PSUM) ||
		    at_sbuf(w, plans[i].res, plans[i].nset) > op_free(o, TERN_AP_SBUF))
			continue;
		w->res = plans[i].res;
		w->nset = plans[i].nset;
		return 0;
	}
	return ops_no_space(o, "a block of 128 x Sk attention scores");
}

static int at_run(struct at *w)
{
	int ret = at_plan(w);

	if (!ret)
		ret = at_alloc(w);
	if (!ret && w->causal)
		ret = at_mask(w);
	/* with two sets, block i + 1's scores are computed before block i's output */
	for (uint32_t i = 0; i <= w->nq && !ret; i++) {
		if (w->nset == 2 && i < w->nq)
			ret = at_stage_scores(w, i);
		if (!ret && i > 0)
			ret = at_stage_output(w, i - 1);
		if (!ret && w->nset == 1 && i < w->nq)
			ret = at_stage_scores(w, i);
	}
	return ret ? ret : ops_sq_drain(w->o, &w->stores, 0);
}

static int at_check(struct opctx *o, const struct tern_tensor *out, const struct tern_tensor *q,
		    const struct tern_tensor *k, const struct tern_tensor *v, float scale,
		    unsigned int flags)
{
	const char *fn = o->fn;
	int ret;

	if ((ret = ops_check_tensor(fn, "out", out)) || (ret = ops_check_tensor(fn, "q", q)) ||
	    (ret = ops_check_tensor(fn, "k", k)) || (ret = ops_check_tensor(fn, "v", v)))
		return ret;
	if (flags & ~TERN_ATTN_CAUSAL)
		return tern_fail(-EINVAL, "%s: flags 0x%x: only TERN_ATTN_CAUSAL is defined", fn,
				 flags);
	if (!isfinite(scale))
		return tern_fail(-EINVAL, "%s: scale %g is not finite", fn, (double)scale);
	if (k->cols != q->cols)
		return tern_fail(-EINVAL, "%s: q is %" PRIu64 "x%" PRIu64 " and k %" PRIu64 "x%"
				 PRIu64 ": D differs", fn, q->rows, q->cols, k->rows, k->cols);
	if (v->rows != k->rows)
		return tern_fail(-EINVAL, "%s: k has %" PRIu64 " rows and v %" PRIu64
				 ": Sk differs", fn, k->rows, v->rows);
	if ((ret = ops_check_shape(fn, "out", out, q->rows, v->cols)))
		return ret;
	if ((flags & TERN_ATTN_CAUSAL) && q->rows > k->rows)
		return tern_fail(-EINVAL, "%s: causal with Sq = %" PRIu64 " > Sk = %" PRIu64, fn,
				 q->rows, k->rows);
	if (ops_overlaps(out, q) || ops_overlaps(out, k) || ops_overlaps(out, v))
		return tern_fail(-EINVAL, "%s: out overlaps %s in slot %" PRIu32, fn,
				 ops_overlaps(out, q) ? "q" : ops_overlaps(out, k) ? "k" : "v", out->slot);
	return 0;
}

static int attention(struct opctx *o, const struct tern_tensor *out, const struct tern_tensor *q,
		     const struct tern_tensor *k, const struct tern_tensor *v, float scale,
		     unsigned int flags)
{
	struct at *w;
	unsigned int vdt;
	int ret = at_check(o, out, q, k, v, scale, flags);

	if (ret)
		return ret;
	w = calloc(1, sizeof(*w));
	if (!w)
		return tern_fail(-ENOMEM, "%s: out of memory", o->fn);
	*w = (struct at){ .o = o, .out = out, .q = q, .k = k, .v = v, .scale = scale,
			  .causal = flags & TERN_ATTN_CAUSAL, .sq = q->rows, .sk = k->rows,
			  .d = q->cols, .dv = v->cols };
	w->off = w->causal ? w->sk - w->sq : 0;
	w->qt = tern_tensor_t(*q);
	w->kt = tern_tensor_t(*k);
	w->ndc = (uint32_t)div_up(w->d, P);
	w->ndv = (uint32_t)div_up(w->dv, AT_KB);
	w->nq = (uint32_t)div_up(w->sq, P);
	w->nkb = (uint32_t)div_up(w->sk, AT_KB);
	w->nkc = (uint32_t)div_up(w->sk, P);
	/* P goes into the PV matmul at V's precision, at least bf16's */
	vdt = v->dtype;
	w->pdt = vdt == TERN_DT_BF16 || vdt == TERN_DT_FP16 ? vdt :
		 vdt == TERN_DT_FP32 ? TERN_DT_FP32 : TERN_DT_BF16;
	/* with rows of one element, Q^T and K^T are as contiguous as Q and K */
	w->qtr = q->col_stride == 1 && q->row_stride != 1 && q->cols > 1;
	w->ktr = k->col_stride == 1 && k->row_stride != 1 && k->cols > 1;
	ret = at_run(w);
	for (unsigned int i = 0; i < 2; i++) {
		free(w->set[i].qt);
		free(w->set[i].o);
	}
	free(w->ktile);
	free(w->vtile);
	free(w->kbuilt);
	free(w->vbuilt);
	free(w);
	return ret;
}

TERN_EXPORT int tern_op_attention(struct tern_program *p, const struct tern_tensor *out,
				  const struct tern_tensor *q, const struct tern_tensor *k,
				  const struct tern_tensor *v, float scale, unsigned int flags)
{
	struct opctx o;
	int ret = op_begin(&o, p, "tern_op_attention");

	if (ret)
		return ret;
	return op_end(&o, attention(&o, out, q, k, v, scale, flags));
}
