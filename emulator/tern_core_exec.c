// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern compute core: executing instructions on SBUF, PSUM and the bound HBM
 * slots. Only valid instructions (tern_core_check.c) get here, so every
 * address computed below is inside its memory; the arithmetic itself is in
 * tern_kernels.c.
 */
#include "tern_core_int.h"
#include "tern_kernels.h"

/* ---- execution ---- */

/* All free elements of partition p of a tile, as fp32 (free size <= 64K). */
static void ap_load_free(struct tern_core *c, const struct ap *a,
			 uint32_t p, float *out)
{
	uint8_t *row = ap_row(c, a, p);

	for (uint32_t i1 = 0; i1 < a->n1; i1++)
		tk_load(out + (size_t)i1 * a->n0,
			row + (int64_t)i1 * a->s1 * ap_esz(a), a->s0, a->n0,
			a->dtype);
}

static void ap_store_free(struct tern_core *c, const struct ap *a,
			  uint32_t p, const float *in)
{
	uint8_t *row = ap_row(c, a, p);

	for (uint32_t i1 = 0; i1 < a->n1; i1++)
		tk_store(row + (int64_t)i1 * a->s1 * ap_esz(a), a->s0,
			 in + (size_t)i1 * a->n0, a->n0, a->dtype);
}

/*
 * Walk tiles of one shape row by row in chunks of TK_CHUNK elements. The
 * two free dimensions are merged into one when every operand is contiguous
 * across them.
 */
struct walk {
	uint32_t n0, n1;
	bool merged;
};

static bool mergeable(const struct ap *a)
{
	return a->s1 == (int64_t)a->n0 * a->s0;
}

static struct walk walk_of(const struct ap *d, const struct ap *a,
			   const struct ap *b)
{
	struct walk w = { d->n0, d->n1, false };

	if (d->n1 > 1 && mergeable(d) && (!a || mergeable(a)) &&
	    (!b || mergeable(b))) {
		w.n0 = d->n0 * d->n1;
		w.n1 = 1;
		w.merged = true;
	}
	return w;
}

/* Address of element c0 of row i1 of partition p under walk w. */
static uint8_t *walk_ptr(struct tern_core *c, const struct ap *a,
			 uint32_t p, uint32_t i1, uint32_t c0)
{
	return ap_row(c, a, p) +
	       ((int64_t)i1 * a->s1 + (int64_t)c0 * a->s0) * ap_esz(a);
}

/* A chunk: len elements from element c0 of row i1 of partition p. */
struct chunk {
	uint32_t p, i1, c0, len;
};

/* COPY: bytes, not values, so NaN payloads are kept. */
static void copy_chunk(struct tern_core *c, const struct insn *in,
		       const struct chunk *k)
{
	const struct ap *d = &in->dst, *a = &in->src0;
	int64_t esz = ap_esz(d);
	uint8_t *dp = walk_ptr(c, d, k->p, k->i1, k->c0);
	uint8_t *sp = walk_ptr(c, a, k->p, k->i1, k->c0);

	if (d->s0 == 1 && a->s0 == 1) {
		memmove(dp, sp, (size_t)(k->len * esz));
		return;
	}
	for (uint32_t i = 0; i < k->len; i++)
		memmove(dp + i * d->s0 * esz, sp + i * a->s0 * esz,
			(size_t)esz);
}

/* IOTA values, computed in 64-bit two's complement (wrapping). */
static void iota_chunk(float *x, const struct insn *in,
		       const struct chunk *k, uint32_t n0)
{
	uint64_t base = (uint64_t)(int64_t)in->base;
	uint64_t pstep = (uint64_t)(int64_t)in->pstep;
	uint64_t fstep = (uint64_t)(int64_t)in->fstep;
	uint64_t j0 = (uint64_t)k->i1 * n0 + k->c0;

	for (uint32_t i = 0; i < k->len; i++)
		x[i] = (float)(int64_t)(base + k->p * pstep + (j0 + i) * fstep);
}

/* Every row op but COPY: load as fp32, compute, store converted. */
static void compute_chunk(struct tern_core *c, const struct insn *in,
			  const struct chunk *k, uint32_t n0, float bias)
{
	const struct ap *d = &in->dst, *a = &in->src0, *b = &in->src1;
	float *x = c->buf[0], *y = c->buf[1];
	float imm = imm_f32(in->imm);
	bool reverse = in->flags & TERN_TS_F_REVERSE;

	if (in->opcode != TERN_OP_MEMSET && in->opcode != TERN_OP_IOTA)
		tk_load(x, walk_ptr(c, a, k->p, k->i1, k->c0), a->s0, k->len,
			a->dtype);
	switch (in->opcode) {
	case TERN_OP_TENSOR_TENSOR:
		tk_load(y, walk_ptr(c, b, k->p, k->i1, k->c0), b->s0, k->len,
			b->dtype);
		tk_alu(x, x, y, k->len, in->op);
		break;
	case TERN_OP_TENSOR_SCALAR:
		tk_alu_scalar(x, x, imm, reverse, k->len, in->op);
		break;
	case TERN_OP_UNARY:
		tk_unary(x, x, k->len, in->op);
		break;
	case TERN_OP_ACTIVATE:
		tk_activate(x, x, k->len, in->op, imm, bias);
		break;
	case TERN_OP_MEMSET:
		for (uint32_t i = 0; i < k->len; i++)
			x[i] = imm;
		break;
	case TERN_OP_IOTA:
		iota_chunk(x, in, k, n0);
		break;
	}
	tk_store(walk_ptr(c, d, k->p, k->i1, k->c0), d->s0, x, k->len,
		 d->dtype);
}

static void exec_rows(struct tern_core *c, struct job *j,
		      const struct insn *in)
{
	const struct ap *d = &in->dst, *a = &in->src0, *b = &in->src1;
	bool has_a = in->opcode != TERN_OP_MEMSET && in->opcode != TERN_OP_IOTA;
	bool has_b = in->opcode == TERN_OP_TENSOR_TENSOR;
	bool bias_ap = in->opcode == TERN_OP_ACTIVATE &&
		       (in->flags & TERN_ACT_F_BIAS_AP);
	struct walk w = walk_of(d, has_a ? a : NULL, has_b ? b : NULL);
	struct chunk k;

	for (k.p = 0; k.p < d->nparts; k.p++) {
		float bias = imm_f32(in->bias);

		if (bias_ap)
			bias = tk_to_f32(ap_elem(c, b, k.p, 0), b->dtype);

		for (k.i1 = 0; k.i1 < w.n1; k.i1++) {
			for (k.c0 = 0; k.c0 < w.n0; k.c0 += TK_CHUNK) {
				k.len = w.n0 - k.c0 < TK_CHUNK ? w.n0 - k.c0 :
								 TK_CHUNK;
				if (cancelled(j))
					return;
				if (in->opcode == TERN_OP_COPY)
					copy_chunk(c, in, &k);
				else
					compute_chunk(c, in, &k, w.n0, bias);
			}
		}
	}
}

static void exec_reduce(struct tern_core *c, struct job *j,
			const struct insn *in)
{
	const struct ap *d = &in->dst, *a = &in->src0;
	bool inner = in->flags & TERN_REDUCE_F_INNER;
	struct walk w = inner ? (struct walk){ a->n0, a->n1, false } :
				walk_of(a, NULL, NULL);
	float *x = c->buf[0];

	for (uint32_t p = 0; p < a->nparts; p++) {
		float acc = tk_reduce_init(in->op);

		for (uint32_t i1 = 0; i1 < w.n1; i1++) {
			for (uint32_t c0 = 0; c0 < w.n0; c0 += TK_CHUNK) {
				uint32_t len = w.n0 - c0 < TK_CHUNK ?
					       w.n0 - c0 : TK_CHUNK;

				if (cancelled(j))
					return;
				tk_load(x, walk_ptr(c, a, p, i1, c0), a->s0,
					len, a->dtype);
				tk_reduce(&acc, x, len, in->op);
			}
			if (inner) {
				tk_from_f32(ap_elem(c, d, p, i1), d->dtype,
					    acc);
				acc = tk_reduce_init(in->op);
			}
		}
		if (!inner)
			tk_from_f32(ap_elem(c, d, p, 0), d->dtype, acc);
	}
}

/* Pitch of TRANSPOSE's staging rows: an odd number of cache lines. */
#define TR_LD	(TERN_PARTITIONS + 16)
_Static_assert(2 * TERN_PARTITIONS * TR_LD <= TERN_MATMUL_MAX_M * MM_LDB,
	       "TRANSPOSE's staging does not fit in mm_c");

/* Whether a tile's free elements are contiguous in each partition. */
static bool contiguous(const struct ap *a)
{
	return a->s0 == 1 && (a->n1 == 1 || mergeable(a));
}

/* Whether two tiles may share bytes (by partitions and byte extents). */
static bool overlap(const struct ap *a, const struct ap *b)
{
	int64_t alo, ahi, blo, bhi;

	if (a->mem != b->mem || a->part + a->nparts <= b->part ||
	    b->part + b->nparts <= a->part)
		return false;
	ap_extent(a, &alo, &ahi);
	ap_extent(b, &blo, &bhi);
	return alo < bhi && blo < ahi;
}

/*
 * fp32 to fp32 between separate contiguous tiles is a plain move, done in
 * place; anything else goes through fp32 staging copies (so that dst may
 * overlap src0, and values are converted).
 */
static void exec_transpose(struct tern_core *c, const struct insn *in)
{
	const struct ap *d = &in->dst, *a = &in->src0;
	uint32_t f = ap_free(a);
	float *src = c->mm_c, *dst = c->mm_c + TERN_PARTITIONS * TR_LD;

	if (a->dtype == TERN_DT_FP32 && d->dtype == TERN_DT_FP32 &&
	    contiguous(a) && contiguous(d) && !overlap(a, d)) {
		tk_transpose((float *)ap_row(c, d, 0), ap_pitch(c, d) / 4,
			     (const float *)ap_row(c, a, 0), ap_pitch(c, a) / 4,
			     a->nparts, f);
		return;
	}
	for (uint32_t p = 0; p < a->nparts; p++)
		ap_load_free(c, a, p, src + (size_t)p * TR_LD);
	tk_transpose(dst, TR_LD, src, TR_LD, a->nparts, f);
	for (uint32_t k = 0; k < f; k++)
		ap_store_free(c, d, k, dst + (size_t)k * TR_LD);
}

/*
 * A MATMUL input as the kernel reads it: in place when it is of dtype dt
 * with contiguous rows, else converted to fp32 and packed into panels of
 * width columns at buf.
 */
static struct tk_mm_operand mm_operand(struct tern_core *c, const struct ap *t,
				       unsigned int dt, uint32_t width,
				       float *buf)
{
	uint32_t kn = t->nparts, n = ap_free(t);

	if (t->dtype == dt && contiguous(t))
		return (struct tk_mm_operand){ ap_row(c, t, 0), dt,
					       ap_pitch(c, t) / ap_esz(t), 1 };
	for (uint32_t k = 0; k < kn; k++) {
		const float *row = (const float *)ap_row(c, t, k);

		if (t->dtype != TERN_DT_FP32 || !contiguous(t)) {
			ap_load_free(c, t, k, c->buf[0]);
			row = c->buf[0];
		}
		tk_mm_pack(buf, width, kn, k, row, n);
	}
	return (struct tk_mm_operand){ buf, TERN_DT_FP32, width, kn };
}

/*
 * The kernel reads fp32 and bf16 rows in place; anything else is packed
 * into fp32 panels first (both inputs, unless both are bf16). The product
 * goes straight into PSUM when dst's rows are contiguous there, else
 * through a staging copy.
 */
static void exec_matmul(struct tern_core *c, const struct insn *in)
{
	const struct ap *d = &in->dst, *a = &in->src0, *b = &in->src1;
	uint32_t m = ap_free(a), n = ap_free(b), mr, nr;
	bool acc = in->flags & TERN_MATMUL_F_ACCUMULATE;
	bool direct = contiguous(d);
	float *cp = direct ? (float *)ap_row(c, d, 0) : c->mm_c;
	size_t ldc = direct ? ap_pitch(c, d) / sizeof(float) : MM_LDB;
	unsigned int dt = TERN_DT_FP32;
	struct tk_mm_operand oa, ob;

	if (a->dtype == TERN_DT_BF16 && b->dtype == TERN_DT_BF16 &&
	    contiguous(a) && contiguous(b))
		dt = TERN_DT_BF16;
	tk_mm_widths(&mr, &nr);
	oa = mm_operand(c, a, dt, mr, c->mm_a);
	ob = mm_operand(c, b, dt, nr, c->mm_b);
	for (uint32_t i = 0; !direct && acc && i < m; i++)
		ap_load_free(c, d, i, c->mm_c + (size_t)i * MM_LDB);
	tk_matmul(cp, ldc, &oa, &ob, m, n, a->nparts, acc);
	for (uint32_t i = 0; !direct && i < m; i++)
		ap_store_free(c, d, i, c->mm_c + (size_t)i * MM_LDB);
}

static void dma_elem(uint8_t *s, uint8_t *h, int64_t esz, bool load)
{
	if (load)
		memcpy(s, h, (size_t)esz);
	else
		memcpy(h, s, (size_t)esz);
}

void tern_core_set_hbm_hooks(struct tern_core *c,
			     tern_core_hbm_read_fn read,
			     tern_core_hbm_write_fn write, void *opaque)
{
	c->hbm_read = read;
	c->hbm_write = write;
	c->hbm_opaque = opaque;
}

/* A DMA_LOAD may read [h, h + n) of the HBM? Else the job ends. */
static bool hbm_readable(struct tern_core *c, struct job *j,
			 const uint8_t *h, uint64_t n)
{
	if (!c->hbm_read ||
	    c->hbm_read(c->hbm_opaque, (uint64_t)(h - c->hbm), n, &j->ecc_off))
		return true;
	j->ecc_hit = true;
	j->aborted = true;	/* stops the job; tern_core.c reports it */
	return false;
}

static void exec_dma(struct tern_core *c, struct job *j,
		     const struct insn *in)
{
	const struct ap *t = &in->dst;
	int64_t esz = ap_esz(t);
	bool load = in->opcode == TERN_OP_DMA_LOAD;
	uint8_t *hbm = c->hbm + j->slots[in->slot].offset;
	uint32_t n0 = t->n0, n1 = t->n1;
	int64_t hs0 = in->hstride[0];

	/* one run per partition when both sides are contiguous across rows */
	if (n1 > 1 && mergeable(t) && in->hstride[1] == (int64_t)n0 * hs0) {
		n0 *= n1;
		n1 = 1;
	}
	for (uint32_t p = 0; p < t->nparts; p++) {
		for (uint32_t i1 = 0; i1 < n1; i1++) {
			uint8_t *s = walk_ptr(c, t, p, i1, 0);
			/* inside the slot: the whole box was validated */
			int64_t ho = (int64_t)in->hbm_offset +
				     (int64_t)p * in->pstride +
				     (int64_t)i1 * in->hstride[1];
			uint8_t *h = hbm + ho;

			if (cancelled(j))
				return;
			if (t->s0 == 1 && hs0 == esz) {
				if (load && !hbm_readable(c, j, h,
							  (uint64_t)n0 * esz))
					return;
				if (load)
					memcpy(s, h, (size_t)n0 * esz);
				else
					memcpy(h, s, (size_t)n0 * esz);
				if (!load && c->hbm_write)
					c->hbm_write(c->hbm_opaque,
						     (uint64_t)(h - c->hbm),
						     (uint64_t)n0 * esz);
				continue;
			}
			for (uint32_t k0 = 0; k0 < n0; k0 += TK_CHUNK) {
				uint32_t end = n0 - k0 < TK_CHUNK ?
					       n0 : k0 + TK_CHUNK;

				/* zero strides make rows of 2^32 elements */
				if (cancelled(j))
					return;
				for (uint32_t k = k0; k < end; k++) {
					uint8_t *he = hbm + ho +
						      (int64_t)k * hs0;

					if (load && !hbm_readable(c, j, he,
								  esz))
						return;
					dma_elem(s + (int64_t)k * t->s0 * esz,
						 he, esz, load);
				}
			}
		}
	}
}

void tern_core_exec(struct tern_core *c, struct job *j, const struct insn *in)
{
	switch (in->opcode) {
	case TERN_OP_MATMUL:
		exec_matmul(c, in);
		break;
	case TERN_OP_TRANSPOSE:
		exec_transpose(c, in);
		break;
	case TERN_OP_REDUCE:
		exec_reduce(c, j, in);
		break;
	case TERN_OP_TENSOR_TENSOR:
	case TERN_OP_TENSOR_SCALAR:
	case TERN_OP_UNARY:
	case TERN_OP_CAST:
	case TERN_OP_COPY:
	case TERN_OP_MEMSET:
	case TERN_OP_IOTA:
	case TERN_OP_ACTIVATE:
		exec_rows(c, j, in);
		break;
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		exec_dma(c, j, in);
		break;
	}
}

