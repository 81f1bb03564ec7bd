// SPDX-License-Identifier: MIT
/*
 * Layer norm, RMS norm, transpose and attention (tern_ops.h, lib/ops_nn.c)
 * built into programs and run on the device model's compute core, on
 * random inputs in [-1, 1) of odd shapes, dtypes and layouts, against
 * tern_op_reference() within tern_op_tolerance(). Every program is checked
 * for races, and every byte of HBM that is not an output element for
 * being left alone. Then every rejected argument, each leaving the program
 * as it was.
 */
#include "ops_test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS		4

/* ---- tensors ---- */

enum layout {
	DENSE,		/* row-major, at byte 0 */
	PADDED,		/* rows padded by 3 elements, from element 5 */
	SLICE,		/* columns cols..2 cols-1 of a rows x 3 cols tensor (a head) */
	COLMAJOR,	/* stored transposed, columns padded by 2 */
};

static const char *const lay_str[] = { "", " padded", " slice", " col-major" };

/* A tensor in a new slot, which is filled with random values of its dtype. */
static struct tern_tensor tensor(struct env *e, unsigned int slot, unsigned int dtype,
				 uint64_t rows, uint64_t cols, enum layout lay)
{
	struct tern_tensor t = tern_tensor_2d(slot, dtype, rows, cols);
	unsigned int es = tern_dtype_size(dtype);
	uint8_t *p;
	uint64_t size;

	switch (lay) {
	case DENSE:
		break;
	case PADDED:
		t.row_stride = (int64_t)cols + 3;
		t.offset = 5 * es;
		break;
	case SLICE:
		t.row_stride = 3 * (int64_t)cols;
		t.offset = cols * es;
		break;
	case COLMAJOR:
		t.row_stride = 1;
		t.col_stride = (int64_t)rows + 2;
		break;
	}
	size = tern_tensor_span(&t);
	p = env_slot(e, slot, size);
	for (uint64_t i = 0; i < size / es; i++)
		tern_value_set(dtype, p + i * es, rng_uniform(-1, 1));
	return t;
}

/* Columns c0..c0+n-1 of t. */
static struct tern_tensor cols_of(struct tern_tensor t, uint64_t c0, uint64_t n)
{
	t.offset += c0 * (uint64_t)t.col_stride * tern_dtype_size(t.dtype);
	t.cols = n;
	return t;
}

/* ---- HBM snapshots ---- */

struct snap {
	uint8_t *s[TERN_MAX_SLOTS];
	uint64_t size[TERN_MAX_SLOTS];
	unsigned int n;
};

static bool snap_take(const struct env *e, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->n = e->nslots;
	for (unsigned int i = 0; i < s->n; i++) {
		s->size[i] = e->slots[i].size;
		if (!s->size[i])
			continue;
		s->s[i] = malloc(s->size[i]);
		if (!s->s[i])
			return false;
		memcpy(s->s[i], e->hbm + e->slots[i].offset, s->size[i]);
	}
	return true;
}

static void snap_free(struct snap *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		free(s->s[i]);
}

static uint8_t *elem(const struct snap *s, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	return s->s[t->slot] + t->offset +
	       ((int64_t)r * t->row_stride + (int64_t)c * t->col_stride) * tern_dtype_size(t->dtype);
}

/* Copies the elements of t from src to dst. */
static void copy_elems(struct snap *dst, const struct snap *src, const struct tern_tensor *t)
{
	for (uint64_t r = 0; r < t->rows; r++)
		for (uint64_t c = 0; c < t->cols; c++)
			memcpy(elem(dst, t, r, c), elem(src, t, r, c), tern_dtype_size(t->dtype));
}

/* ---- running ops and checking them ---- */

static int emit(struct tern_program *p, const struct tern_op *op)
{
	const struct tern_tensor *in = op->in;

	switch (op->kind) {
	case TERN_OPKIND_LAYERNORM:
		return tern_op_layernorm(p, &op->out, &in[0], op->nin > 1 ? &in[1] : NULL,
					 op->nin > 2 ? &in[2] : NULL, op->eps);
	case TERN_OPKIND_RMSNORM:
		return tern_op_rmsnorm(p, &op->out, &in[0], op->nin > 1 ? &in[1] : NULL, op->eps);
	case TERN_OPKIND_TRANSPOSE:
		return tern_op_transpose(p, &op->out, &in[0]);
	case TERN_OPKIND_ATTENTION:
		return tern_op_attention(p, &op->out, &in[0], &in[1], &in[2], op->scale, op->func);
	}
	return -EINVAL;
}

/*
 * Op i against the reference computed on what the device had when op i
 * ran: the HBM after the job with the outputs of ops i.. as before it.
 */
static bool check_op(const struct tern_op *ops, unsigned int n, unsigned int i,
		     const struct snap *pre, const struct snap *post, const char *what)
{
	const struct tern_op *op = &ops[i];
	const struct tern_tensor *out = &op->out;
	double tol = tern_op_tolerance(op), max_err = 0;
	struct snap ref;
	bool ok = true;

	CHECK(tol >= 0);
	ref.n = post->n;
	for (unsigned int s = 0; s < post->n; s++) {
		ref.size[s] = post->size[s];
		ref.s[s] = post->s[s] ? malloc(post->size[s]) : NULL;
		if (ref.s[s])
			memcpy(ref.s[s], post->s[s], post->size[s]);
	}
	for (unsigned int j = i; j < n; j++)
		copy_elems(&ref, pre, &ops[j].out);
	if (tern_op_reference(op, (void *const *)ref.s, ref.size, ref.n)) {
		printf("#   %s: tern_op_reference: %s\n", what, tern_last_error());
		ok = false;
	}
	for (uint64_t r = 0; ok && r < out->rows; r++) {
		for (uint64_t c = 0; c < out->cols; c++) {
			double got = tern_value_get(out->dtype, elem(post, out, r, c));
			double want = tern_value_get(out->dtype, elem(&ref, out, r, c));
			double err = fabs(got - want);

			if (err > max_err || isnan(err))
				max_err = err;
			if (!(err <= tol)) {
				printf("#   %s: %s out[%llu][%llu] = %.9g, reference %.9g, tolerance %.3g\n",
				       what, tern_op_name(op->kind), (unsigned long long)r,
				       (unsigned long long)c, got, want, tol);
				ok = false;
				break;
			}
		}
	}
	if (ok)
		printf("# %s: %s max error %.3g, tolerance %.3g\n", what, tern_op_name(op->kind),
		       max_err, tol);
	snap_free(&ref);
	return ok;
}

/* Bytes outside the outputs of ops are as before the job. */
static bool untouched(const struct tern_op *ops, unsigned int n, const struct snap *pre,
		      const struct snap *post)
{
	struct snap mask;
	bool ok = true;

	mask.n = pre->n;
	for (unsigned int s = 0; s < pre->n; s++) {
		mask.size[s] = pre->size[s];
		mask.s[s] = pre->size[s] ? calloc(1, pre->size[s]) : NULL;
	}
	for (unsigned int i = 0; i < n; i++)
		for (uint64_t r = 0; r < ops[i].out.rows; r++)
			for (uint64_t c = 0; c < ops[i].out.cols; c++)
				memset(elem(&mask, &ops[i].out, r, c), 1,
				       tern_dtype_size(ops[i].out.dtype));
	for (unsigned int s = 0; s < pre->n && ok; s++) {
		for (uint64_t b = 0; b < pre->size[s]; b++) {
			if (!mask.s[s][b] && pre->s[s][b] != post->s[s][b]) {
				printf("#   byte %llu of slot %u, not an output, changed\n",
				       (unsigned long long)b, s);
				ok = false;
				break;
			}
		}
	}
	snap_free(&mask);
	return ok;
}

/*
 * Runs ops in one program on the env's current HBM and checks each; a tile
 * of the program's own leaves only @left bytes per partition of SBUF to
 * the ops, if not 0.
 */
static bool run_ops_in(struct env *e, const struct tern_op *ops, unsigned int n,
		       const char *what, uint32_t left)
{
	uint32_t part = e->sbuf_size / TERN_PARTITIONS;
	struct snap pre, post = { .n = 0 };
	struct tern_program *p;
	struct tern_ap mine;
	bool ok;

	CHECK(snap_take(e, &pre));
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	if (left)
		CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, TERN_DT_FP32, 1, (part - left) / 4, &mine));
	for (unsigned int i = 0; i < n; i++) {
		int ret = emit(p, &ops[i]);

		if (ret) {
			printf("#   %s: %s: %s (%s)\n", what, tern_op_name(ops[i].kind),
			       tern_strerror(ret), tern_last_error());
			tern_prog_free(p);
			snap_free(&pre);
			return false;
		}
	}
	ok = env_run(e, p, what);
	tern_prog_free(p);
	ok = ok && snap_take(e, &post);
	for (unsigned int i = 0; ok && i < n; i++)
		ok = check_op(ops, n, i, &pre, &post, what);
	ok = ok && untouched(ops, n, &pre, &post);
	snap_free(&pre);
	snap_free(&post);
	return ok;
}

static bool run_ops(struct env *e, const struct tern_op *ops, unsigned int n, const char *what)
{
	return run_ops_in(e, ops, n, what, 0);
}

static bool run_op(struct env *e, const struct tern_op *op, const char *what)
{
	return run_ops_in(e, op, 1, what, 0);
}

/* ---- layer norm and RMS norm ---- */

struct norm_spec {
	unsigned int kind;		/* TERN_OPKIND_LAYERNORM or _RMSNORM */
	uint64_t rows, cols;
	unsigned int dtx, dto, dtg;	/* dtg: gamma (and beta); 0 for none */
	bool beta;
	float eps;
	enum layout lx, lo;
	bool inplace;			/* out is x */
};

static bool norm_case(struct env *e, const struct norm_spec *s)
{
	struct tern_op op;
	char what[160];

	env_reset(e);
	memset(&op, 0, sizeof(op));
	op.kind = s->kind;
	op.eps = s->eps;
	op.nin = 1 + (s->dtg != 0) + s->beta;
	op.in[0] = tensor(e, 0, s->dtx, s->rows, s->cols, s->lx);
	op.out = s->inplace ? op.in[0] : tensor(e, 1, s->dto, s->rows, s->cols, s->lo);
	if (s->dtg)
		op.in[1] = tensor(e, 2, s->dtg, 1, s->cols, DENSE);
	if (s->beta)
		op.in[2] = tensor(e, 3, s->dtg, 1, s->cols, DENSE);
	snprintf(what, sizeof(what), "%s %llux%llu %s%s->%s%s%s%s%s, eps %g",
		 tern_op_name(s->kind), (unsigned long long)s->rows, (unsigned long long)s->cols,
		 dt_name(s->dtx), lay_str[s->lx], dt_name(op.out.dtype),
		 s->inplace ? " in place" : lay_str[s->lo], s->dtg ? " gamma " : "",
		 s->dtg ? dt_name(s->dtg) : "", s->beta ? " beta" : "", (double)s->eps);
	return run_op(e, &op, what);
}

static bool norm_shapes(struct env *e, unsigned int kind)
{
	static const uint64_t shapes[][2] = {
		{ 1, 1 }, { 1, 7 }, { 7, 1 }, { 7, 13 }, { 129, 255 }, { 300, 64 }, { 255, 300 },
		{ 2, 9000 },
	};

	for (unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct norm_spec s = { kind, shapes[i][0], shapes[i][1], TERN_DT_FP32, TERN_DT_FP32,
				       TERN_DT_FP32, kind == TERN_OPKIND_LAYERNORM, 1e-5f, DENSE,
				       DENSE, false };

		if (!norm_case(e, &s))
			return false;
	}
	return true;
}

static bool t_layernorm_shapes(struct env *e)
{
	return norm_shapes(e, TERN_OPKIND_LAYERNORM);
}

static bool t_rmsnorm_shapes(struct env *e)
{
	return norm_shapes(e, TERN_OPKIND_RMSNORM);
}

static bool norm_dtypes(struct env *e, unsigned int kind)
{
	bool ln = kind == TERN_OPKIND_LAYERNORM;
	struct norm_spec s[] = {
		{ kind, 130, 200, TERN_DT_BF16, TERN_DT_BF16, TERN_DT_BF16, ln, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 130, 200, TERN_DT_FP16, TERN_DT_FP16, TERN_DT_FP16, ln, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 100, 77, TERN_DT_BF16, TERN_DT_FP32, TERN_DT_FP32, ln, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 100, 77, TERN_DT_FP32, TERN_DT_BF16, TERN_DT_BF16, ln, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 40, 96, TERN_DT_FP8_E4M3, TERN_DT_FP32, TERN_DT_FP16, ln, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 40, 96, TERN_DT_FP32, TERN_DT_FP8_E5M2, 0, false, 1e-5f, DENSE, DENSE, 0 },
	};

	for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!norm_case(e, &s[i]))
			return false;
	return true;
}

static bool t_layernorm_dtypes(struct env *e)
{
	return norm_dtypes(e, TERN_OPKIND_LAYERNORM);
}

static bool t_rmsnorm_dtypes(struct env *e)
{
	return norm_dtypes(e, TERN_OPKIND_RMSNORM);
}

/* Without gamma, gamma only, with beta; eps 0 and large; layouts; in place. */
static bool norm_variants(struct env *e, unsigned int kind)
{
	bool ln = kind == TERN_OPKIND_LAYERNORM;
	struct norm_spec s[] = {
		{ kind, 129, 100, TERN_DT_FP32, TERN_DT_FP32, 0, false, 1e-5f, DENSE, DENSE, 0 },
		{ kind, 129, 100, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, false, 0.0f, DENSE, DENSE, 0 },
		{ kind, 129, 100, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_BF16, ln, 0.5f, DENSE, DENSE, 0 },
		{ kind, 200, 64, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ln, 1e-5f, SLICE, PADDED, 0 },
		{ kind, 140, 33, TERN_DT_BF16, TERN_DT_BF16, TERN_DT_FP32, ln, 1e-5f, PADDED, SLICE, 0 },
		{ kind, 70, 50, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ln, 1e-5f, COLMAJOR, DENSE, 0 },
		{ kind, 260, 90, TERN_DT_FP32, TERN_DT_FP32, TERN_DT_FP32, ln, 1e-5f, PADDED, DENSE, 1 },
	};

	for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!norm_case(e, &s[i]))
			return false;
	return true;
}

static bool t_layernorm_variants(struct env *e)
{
	return norm_variants(e, TERN_OPKIND_LAYERNORM);
}

static bool t_rmsnorm_variants(struct env *e)
{
	return norm_variants(e, TERN_OPKIND_RMSNORM);
}

/* 1 MiB of SBUF: one set of tiles at a time. */
static bool t_norms_small_sbuf(struct env *e)
{
	struct norm_spec ln = { TERN_OPKIND_LAYERNORM, 300, 300, TERN_DT_FP32, TERN_DT_FP32,
				TERN_DT_FP32, true, 1e-5f, DENSE, DENSE, 0 };
	struct norm_spec rms = { TERN_OPKIND_RMSNORM, 300, 450, TERN_DT_FP32, TERN_DT_FP32,
				 TERN_DT_FP32, false, 1e-5f, DENSE, DENSE, 0 };

	return norm_case(e, &ln) && norm_case(e, &rms);
}

/* Rows of 40000 and 60000 elements: two tiles each, in a 64 MiB SBUF. */
static bool t_norms_long_rows(struct env *e)
{
	struct norm_spec ln = { TERN_OPKIND_LAYERNORM, 3, 40000, TERN_DT_BF16, TERN_DT_BF16, 0,
				false, 1e-5f, DENSE, DENSE, 0 };
	struct norm_spec rms = { TERN_OPKIND_RMSNORM, 130, 60000, TERN_DT_FP8_E4M3,
				 TERN_DT_FP8_E4M3, TERN_DT_BF16, false, 1e-5f, DENSE, DENSE, 0 };

	return norm_case(e, &ln) && norm_case(e, &rms);
}

/* ---- transpose ---- */

static bool tr_case(struct env *e, uint64_t rows, uint64_t cols, unsigned int dtx,
		    unsigned int dto, enum layout lx, enum layout lo)
{
	struct tern_op op;
	char what[128];

	env_reset(e);
	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_TRANSPOSE;
	op.nin = 1;
	op.in[0] = tensor(e, 0, dtx, rows, cols, lx);
	op.out = tensor(e, 1, dto, cols, rows, lo);
	snprintf(what, sizeof(what), "transpose %llux%llu %s%s->%s%s", (unsigned long long)rows,
		 (unsigned long long)cols, dt_name(dtx), lay_str[lx], dt_name(dto), lay_str[lo]);
	return run_op(e, &op, what);
}

static bool t_transpose_shapes(struct env *e)
{
	static const uint64_t shapes[][2] = {
		{ 1, 1 }, { 1, 300 }, { 300, 1 }, { 7, 13 }, { 128, 128 }, { 129, 255 },
		{ 255, 300 }, { 513, 130 }, { 600, 1100 },
	};

	for (unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (!tr_case(e, shapes[i][0], shapes[i][1], TERN_DT_FP32, TERN_DT_FP32, DENSE,
			     DENSE))
			return false;
	return true;
}

static bool t_transpose_dtypes(struct env *e)
{
	static const unsigned int dts[][2] = {
		{ TERN_DT_BF16, TERN_DT_BF16 }, { TERN_DT_FP16, TERN_DT_FP16 },
		{ TERN_DT_FP32, TERN_DT_BF16 }, { TERN_DT_BF16, TERN_DT_FP32 },
		{ TERN_DT_FP8_E4M3, TERN_DT_FP8_E4M3 }, { TERN_DT_FP8_E5M2, TERN_DT_FP8_E5M2 },
		{ TERN_DT_FP8_E5M2, TERN_DT_FP32 }, { TERN_DT_FP32, TERN_DT_FP8_E4M3 },
		{ TERN_DT_FP16, TERN_DT_FP8_E5M2 }, { TERN_DT_FP8_E4M3, TERN_DT_BF16 },
	};

	for (unsigned int i = 0; i < sizeof(dts) / sizeof(dts[0]); i++)
		if (!tr_case(e, 200, 300, dts[i][0], dts[i][1], DENSE, DENSE))
			return false;
	return true;
}

static bool t_transpose_layouts(struct env *e)
{
	return tr_case(e, 130, 70, TERN_DT_FP32, TERN_DT_FP32, SLICE, PADDED) &&
	       tr_case(e, 300, 257, TERN_DT_BF16, TERN_DT_FP32, COLMAJOR, SLICE) &&
	       tr_case(e, 64, 700, TERN_DT_FP16, TERN_DT_FP16, PADDED, COLMAJOR);
}

/* 1 MiB of SBUF: groups of 256 instead of 512. */
static bool t_transpose_small_sbuf(struct env *e)
{
	return tr_case(e, 700, 600, TERN_DT_FP32, TERN_DT_FP32, DENSE, DENSE);
}

/* 3 KiB per partition left beside a tile of the program's: groups of 128. */
static bool t_transpose_little_left(struct env *e)
{
	struct tern_op op;

	env_reset(e);
	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_TRANSPOSE;
	op.nin = 1;
	op.in[0] = tensor(e, 0, TERN_DT_FP32, 300, 260, DENSE);
	op.out = tensor(e, 1, TERN_DT_FP32, 260, 300, DENSE);
	return run_ops_in(e, &op, 1, "transpose 300x260 fp32 in 3 KiB of SBUF", 3072);
}

/* ---- attention ---- */

#define F32	TERN_DT_FP32
#define BF16	TERN_DT_BF16
#define DEF	NAN

struct at_spec {
	uint64_t sq, sk, d, dv;
	unsigned int dtqk, dtv, dto;
	bool causal;
	float scale;			/* DEF: 1 / sqrt(D) */
	enum layout lq, lk, lv, lo;
};

static struct tern_op at_op(struct env *e, const struct at_spec *s, char *what, size_t size)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_ATTENTION;
	op.nin = 3;
	op.func = s->causal ? TERN_ATTN_CAUSAL : 0;
	op.scale = isnan(s->scale) ? (float)(1 / sqrt((double)s->d)) : s->scale;
	op.in[0] = tensor(e, 0, s->dtqk, s->sq, s->d, s->lq);
	op.in[1] = tensor(e, 1, s->dtqk, s->sk, s->d, s->lk);
	op.in[2] = tensor(e, 2, s->dtv, s->sk, s->dv, s->lv);
	op.out = tensor(e, 3, s->dto, s->sq, s->dv, s->lo);
	snprintf(what, size, "attention %llux%llu D %llu Dv %llu q.k %s%s%s v %s%s -> %s%s%s, "
		 "scale %g", (unsigned long long)s->sq, (unsigned long long)s->sk,
		 (unsigned long long)s->d, (unsigned long long)s->dv, dt_name(s->dtqk),
		 lay_str[s->lq], lay_str[s->lk], dt_name(s->dtv), lay_str[s->lv], dt_name(s->dto),
		 lay_str[s->lo], s->causal ? ", causal" : "", (double)op.scale);
	return op;
}

static bool at_case(struct env *e, const struct at_spec *s)
{
	struct tern_op op;
	char what[200];

	env_reset(e);
	op = at_op(e, s, what, sizeof(what));
	return run_op(e, &op, what);
}

static bool at_both(struct env *e, struct at_spec s)
{
	s.causal = false;
	if (!at_case(e, &s))
		return false;
	s.causal = true;
	return at_case(e, &s);
}


static bool t_attention_small(struct env *e)
{
	struct at_spec a = { 1, 1, 1, 1, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };
	struct at_spec b = { 7, 13, 5, 3, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };
	struct at_spec c = { 1, 300, 16, 1, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	return at_both(e, a) && at_both(e, b) && at_both(e, c);
}

static bool t_attention_odd(struct env *e)
{
	struct at_spec a = { 129, 255, 64, 64, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };
	struct at_spec b = { 129, 255, 33, 17, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };
	struct at_spec c = { 128, 128, 128, 128, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE,
			     DENSE };
	/* more queries than keys: not causal */
	struct at_spec d = { 200, 50, 7, 9, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	return at_both(e, a) && at_both(e, b) && at_both(e, c) && at_case(e, &d);
}

/* Several key blocks of 512, query blocks in flight, D and Dv over their blocks. */
static bool t_attention_blocks(struct env *e)
{
	struct at_spec a = { 300, 700, 80, 100, BF16, BF16, BF16, 0, DEF, DENSE, DENSE, DENSE, DENSE };
	struct at_spec b = { 130, 300, 200, 600, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	return at_both(e, a) && at_both(e, b);
}

static bool t_attention_dtypes(struct env *e)
{
	struct at_spec s[] = {
		{ 150, 200, 64, 64, TERN_DT_FP16, TERN_DT_FP16, TERN_DT_FP16, 1, DEF, DENSE, DENSE,
		  DENSE, DENSE },
		{ 150, 200, 64, 64, BF16, BF16, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE },
		{ 100, 130, 32, 48, TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2, BF16, 1, DEF, DENSE, DENSE,
		  DENSE, DENSE },
		{ 100, 130, 32, 48, F32, BF16, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE },
	};

	for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!at_case(e, &s[i]))
			return false;
	return true;
}

/* Q and K read transposed by the DMA, padded V and out. */
static bool t_attention_layouts(struct env *e)
{
	struct at_spec a = { 140, 260, 48, 40, F32, F32, F32, 0, DEF, COLMAJOR, COLMAJOR, PADDED,
			     PADDED };
	struct at_spec b = { 140, 260, 48, 40, BF16, BF16, BF16, 1, DEF, PADDED, SLICE, SLICE,
			     COLMAJOR };

	return at_both(e, a) && at_case(e, &b);
}

/*
 * Scale 0 (uniform weights), negative, 8; and 30 on bf16 inputs, whose
 * largest scores (~200) overflow exp unless the row maximum goes first.
 */
static bool t_attention_scales(struct env *e)
{
	static const float scales[] = { 0.0f, -0.3f, 8.0f, 30.0f };

	for (unsigned int i = 0; i < sizeof(scales) / sizeof(scales[0]); i++) {
		unsigned int dt = scales[i] > 10 ? BF16 : F32;
		struct at_spec s = { 100, 140, 64, 32, dt, dt, F32, 0, scales[i], DENSE, DENSE,
				     DENSE, DENSE };

		if (!at_both(e, s))
			return false;
	}
	return true;
}

/* 3 MiB of SBUF: K^T and V kept with one block of queries at a time, or loaded again. */
static bool t_attention_small_sbuf(struct env *e)
{
	struct at_spec s = { 300, 1500, 64, 64, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	return at_both(e, s);
}

/* 5 MiB of SBUF: K^T and V loaded again, two blocks of queries in flight. */
static bool t_attention_streamed(struct env *e)
{
	struct at_spec s = { 300, 3000, 128, 128, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE,
			     DENSE };

	return at_case(e, &s);
}

/* Sk = 40000: the scores of a block take two chunks. */
static bool t_attention_long_keys(struct env *e)
{
	struct at_spec s = { 3, 40000, 8, 8, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	return at_both(e, s);
}

/* One head of 512 queries and keys of 64: the modeled time of the op. */
static bool t_attention_head(struct env *e)
{
	struct at_spec s = { 512, 512, 64, 64, F32, F32, F32, 0, DEF, DENSE, DENSE, DENSE, DENSE };

	if (!at_both(e, s))
		return false;
	s.dtqk = s.dtv = s.dto = BF16;
	return at_both(e, s);
}

/* Four heads of a layer: column slices of [S x 4 D] tensors, one call each. */
static bool t_attention_multihead(struct env *e)
{
	const uint64_t sq = 100, sk = 150, d = 32, h = 4;
	struct tern_tensor q, k, v, o;
	struct tern_op ops[MAX_OPS];

	env_reset(e);
	q = tensor(e, 0, BF16, sq, h * d, DENSE);
	k = tensor(e, 1, BF16, sk, h * d, DENSE);
	v = tensor(e, 2, BF16, sk, h * d, DENSE);
	o = tensor(e, 3, BF16, sq, h * d, DENSE);
	for (unsigned int i = 0; i < h; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].kind = TERN_OPKIND_ATTENTION;
		ops[i].nin = 3;
		ops[i].func = i % 2 ? TERN_ATTN_CAUSAL : 0;
		ops[i].scale = (float)(1 / sqrt((double)d));
		ops[i].in[0] = cols_of(q, i * d, d);
		ops[i].in[1] = cols_of(k, i * d, d);
		ops[i].in[2] = cols_of(v, i * d, d);
		ops[i].out = cols_of(o, i * d, d);
	}
	return run_ops(e, ops, h, "attention: 4 heads of 32 in one program, odd ones causal");
}

/* x -> layer norm -> attention(x, x, x) -> transpose -> RMS norm, each reading the last. */
static bool t_pipeline(struct env *e)
{
	const uint64_t s = 200, d = 96;
	struct tern_op ops[MAX_OPS];

	env_reset(e);
	memset(ops, 0, sizeof(ops));
	ops[0].kind = TERN_OPKIND_LAYERNORM;
	ops[0].nin = 3;
	ops[0].eps = 1e-5f;
	ops[0].in[0] = tensor(e, 0, F32, s, d, DENSE);
	ops[0].in[1] = tensor(e, 1, F32, 1, d, DENSE);
	ops[0].in[2] = tensor(e, 2, F32, 1, d, DENSE);
	ops[0].out = tensor(e, 3, BF16, s, d, DENSE);
	ops[1].kind = TERN_OPKIND_ATTENTION;
	ops[1].nin = 3;
	ops[1].func = TERN_ATTN_CAUSAL;
	ops[1].scale = 0.1f;
	ops[1].in[0] = ops[1].in[1] = ops[1].in[2] = ops[0].out;
	ops[1].out = tensor(e, 4, F32, s, d, DENSE);
	ops[2].kind = TERN_OPKIND_TRANSPOSE;
	ops[2].nin = 1;
	ops[2].in[0] = ops[1].out;
	ops[2].out = tensor(e, 5, F32, d, s, DENSE);
	ops[3].kind = TERN_OPKIND_RMSNORM;
	ops[3].nin = 2;
	ops[3].eps = 1e-6f;
	ops[3].in[0] = ops[2].out;
	ops[3].in[1] = tensor(e, 6, BF16, 1, s, DENSE);
	ops[3].out = tensor(e, 7, TERN_DT_FP16, d, s, DENSE);
	return run_ops(e, ops, 4, "layernorm, attention, transpose, rmsnorm in one program");
}

/* ---- errors ---- */

/* An op that fails leaves the program exactly as it was. */
static bool t_norm_errors(struct env *e)
{
	struct tern_tensor x = tern_tensor_2d(0, F32, 10, 20), y = tern_tensor_2d(1, F32, 10, 20);
	struct tern_tensor g = tern_tensor_2d(2, F32, 1, 20), b = tern_tensor_2d(3, F32, 1, 20);
	struct tern_tensor bad;
	struct tern_program *p;
	const void *img;
	size_t size;

	(void)e;
	CHECK_RET(tern_op_layernorm(NULL, &y, &x, &g, &b, 0), -EINVAL);
	CHECK_RET(tern_op_rmsnorm(NULL, &y, &x, &g, 0), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_op_layernorm(p, &y, &x, &g, &b, 1e-5f));
	CHECK_FAILS(tern_op_layernorm(p, NULL, &x, &g, &b, 0), -EINVAL);
	CHECK_FAILS(tern_op_layernorm(p, &y, NULL, &g, &b, 0), -EINVAL);
	CHECK_FAILS(tern_op_rmsnorm(p, NULL, &x, &g, 0), -EINVAL);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, NULL, NULL, 0), -EINVAL);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, NULL, &b, 0), -EINVAL);	/* beta, no gamma */
	bad = tern_tensor_2d(0, F32, 10, 21);
	CHECK_FAILS(tern_op_layernorm(p, &y, &bad, &g, &b, 0), -EINVAL);	/* x's shape */
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &bad, NULL, 0), -EINVAL);
	bad = tern_tensor_2d(2, F32, 1, 21);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &bad, &b, 0), -EINVAL);	/* gamma's shape */
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &bad, 0), -EINVAL);
	bad = tern_tensor_2d(2, F32, 2, 20);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &bad, 0), -EINVAL);		/* two rows */
	bad = tern_tensor_2d(3, F32, 20, 1);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &g, &bad, 0), -EINVAL);	/* beta's shape */
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &g, &b, -1e-5f), -EINVAL);	/* eps */
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &g, &b, NAN), -EINVAL);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &g, INFINITY), -EINVAL);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &g, -0.5f), -EINVAL);
	bad = g;
	bad.slot = 1;
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &bad, &b, 0), -EINVAL);	/* out is gamma */
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &bad, 0), -EINVAL);
	bad = b;
	bad.slot = 1;
	bad.offset = 40;
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &g, &bad, 0), -EINVAL);	/* out is beta */
	bad = y;
	bad.slot = 0;
	bad.offset = 4;
	CHECK_FAILS(tern_op_layernorm(p, &bad, &x, &g, &b, 0), -EINVAL);	/* partly x */
	CHECK_FAILS(tern_op_rmsnorm(p, &bad, &x, &g, 0), -EINVAL);
	bad = x;
	bad.dtype = TERN_DT_COUNT;
	CHECK_FAILS(tern_op_layernorm(p, &y, &bad, &g, &b, 0), -EINVAL);	/* dtype */
	bad = g;
	bad.slot = TERN_MAX_SLOTS;
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &bad, 0), -EINVAL);		/* slot */
	bad = x;
	bad.row_stride = -20;
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &bad, NULL, 0), -EINVAL);		/* before byte 0 */
	/* rows of 40000 fp32 with two fp32 rows beside them do not fit in 192 KiB */
	x = tern_tensor_2d(0, F32, 4, 40000);
	y = tern_tensor_2d(1, F32, 4, 40000);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, NULL, NULL, 0), -ENOSPC);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, NULL, 0), -ENOSPC);
	/* in place is fine, and the program still finishes */
	x = tern_tensor_2d(0, F32, 10, 20);
	CHECK_OK(tern_op_rmsnorm(p, &x, &x, &g, 0));
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) == 0);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, &g, &b, 0), -EALREADY);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, &g, 0), -EALREADY);
	tern_prog_free(p);
	return true;
}

static bool t_transpose_errors(struct env *e)
{
	struct tern_tensor x = tern_tensor_2d(0, F32, 10, 20), y = tern_tensor_2d(1, BF16, 20, 10);
	struct tern_tensor bad;
	struct tern_program *p;
	struct tern_ap big;
	uint32_t part = e->sbuf_size / TERN_PARTITIONS;

	CHECK_RET(tern_op_transpose(NULL, &y, &x), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_op_transpose(p, &y, &x));
	CHECK_FAILS(tern_op_transpose(p, NULL, &x), -EINVAL);
	CHECK_FAILS(tern_op_transpose(p, &y, NULL), -EINVAL);
	bad = tern_tensor_2d(1, F32, 10, 20);
	CHECK_FAILS(tern_op_transpose(p, &bad, &x), -EINVAL);		/* not transposed */
	bad = tern_tensor_2d(1, F32, 20, 11);
	CHECK_FAILS(tern_op_transpose(p, &bad, &x), -EINVAL);
	bad = y;
	bad.slot = 0;
	bad.offset = 780;
	CHECK_FAILS(tern_op_transpose(p, &bad, &x), -EINVAL);		/* overlaps x */
	bad = tern_tensor_t(x);
	CHECK_FAILS(tern_op_transpose(p, &bad, &x), -EINVAL);		/* x's own bytes */
	bad = y;
	bad.dtype = 0;
	CHECK_FAILS(tern_op_transpose(p, &bad, &x), -EINVAL);
	bad = x;
	bad.offset = 2;
	CHECK_FAILS(tern_op_transpose(p, &y, &bad), -EINVAL);		/* misaligned */
	tern_prog_free(p);
	/*
	 * 300 x 260 fp32 in groups of 128 take three input and two output
	 * tiles of 512 bytes per partition: 2560 bytes fit, 2496 do not
	 */
	x = tern_tensor_2d(0, F32, 300, 260);
	y = tern_tensor_2d(1, F32, 260, 300);
	for (uint32_t left = 2560; left >= 2496; left -= 64) {
		CHECK_OK(tern_prog_create(e->sbuf_size, &p));
		CHECK_OK(tern_prog_alloc(p, TERN_AP_SBUF, F32, 128, (part - left) / 4, &big));
		if (left == 2560)
			CHECK_OK(tern_op_transpose(p, &y, &x));
		else
			CHECK_FAILS(tern_op_transpose(p, &y, &x), -ENOSPC);
		tern_prog_free(p);
	}
	return true;
}

static bool t_attention_errors(struct env *e)
{
	struct tern_tensor q = tern_tensor_2d(0, F32, 10, 16), k = tern_tensor_2d(1, F32, 12, 16);
	struct tern_tensor v = tern_tensor_2d(2, F32, 12, 8), o = tern_tensor_2d(3, F32, 10, 8);
	struct tern_tensor bad, bq, bk, bv;
	struct tern_program *p;
	const void *img;
	size_t size;

	(void)e;
	CHECK_RET(tern_op_attention(NULL, &o, &q, &k, &v, 0.25f, 0), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_OK(tern_op_attention(p, &o, &q, &k, &v, 0.25f, TERN_ATTN_CAUSAL));
	CHECK_FAILS(tern_op_attention(p, NULL, &q, &k, &v, 0.25f, 0), -EINVAL);
	CHECK_FAILS(tern_op_attention(p, &o, NULL, &k, &v, 0.25f, 0), -EINVAL);
	CHECK_FAILS(tern_op_attention(p, &o, &q, NULL, &v, 0.25f, 0), -EINVAL);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, NULL, 0.25f, 0), -EINVAL);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &v, 0.25f, 2), -EINVAL);	/* flags */
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &v, 0.25f, 0x80000001u), -EINVAL);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &v, NAN, 0), -EINVAL);	/* scale */
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &v, -INFINITY, 0), -EINVAL);
	bad = tern_tensor_2d(1, F32, 12, 15);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &bad, &v, 0.25f, 0), -EINVAL);	/* D */
	bad = tern_tensor_2d(2, F32, 13, 8);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &bad, 0.25f, 0), -EINVAL);	/* Sk */
	bad = tern_tensor_2d(3, F32, 11, 8);
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &v, 0.25f, 0), -EINVAL);	/* Sq */
	bad = tern_tensor_2d(3, F32, 10, 9);
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &v, 0.25f, 0), -EINVAL);	/* Dv */
	/* causal needs Sq <= Sk */
	bq = tern_tensor_2d(0, F32, 13, 16);
	bad = tern_tensor_2d(3, F32, 13, 8);
	CHECK_OK(tern_op_attention(p, &bad, &bq, &k, &v, 0.25f, 0));
	CHECK_FAILS(tern_op_attention(p, &bad, &bq, &k, &v, 0.25f, TERN_ATTN_CAUSAL), -EINVAL);
	/* out overlapping each input */
	bad = o;
	bad.slot = 0;
	bad.offset = 600;
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &v, 0.25f, 0), -EINVAL);
	bad.slot = 1;
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &v, 0.25f, 0), -EINVAL);
	bad.slot = 2;
	bad.offset = 0;
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &v, 0.25f, 0), -EINVAL);
	bad = v;
	bad.dtype = 7;
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &bad, 0.25f, 0), -EINVAL);
	bad = k;
	bad.rows = 0;
	CHECK_FAILS(tern_op_attention(p, &o, &q, &bad, &v, 0.25f, 0), -EINVAL);
	/* 128 x 60000 fp32 scores are 240 KB per partition */
	bk = tern_tensor_2d(1, F32, 60000, 16);
	bv = tern_tensor_2d(2, F32, 60000, 8);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &bk, &bv, 0.25f, 0), -ENOSPC);
	/* Dv = 4000: eight PSUM accumulators of 512 do not fit beside the scores' */
	bv = tern_tensor_2d(2, F32, 12, 4000);
	bad = tern_tensor_2d(3, F32, 10, 4000);
	CHECK_FAILS(tern_op_attention(p, &bad, &q, &k, &bv, 0.25f, 0), -ENOSPC);
	/* D beyond a tile's 65535 elements */
	bq = tern_tensor_2d(0, TERN_DT_FP8_E4M3, 10, 70000);
	bk = tern_tensor_2d(1, TERN_DT_FP8_E4M3, 12, 70000);
	CHECK_FAILS(tern_op_attention(p, &o, &bq, &bk, &v, 0.25f, 0), -ENOSPC);
	CHECK_OK(tern_op_attention(p, &o, &q, &k, &v, 0.25f, 0));
	CHECK_OK(tern_prog_finish(p, &img, &size));
	CHECK(race_check(img, size) == 0);
	CHECK_FAILS(tern_op_attention(p, &o, &q, &k, &v, 0.25f, 0), -EALREADY);
	CHECK_FAILS(tern_op_transpose(p, &k, &q), -EALREADY);
	tern_prog_free(p);
	return true;
}

/* Each op fails cleanly without the ops' four semaphores. */
static bool t_no_semaphores(struct env *e)
{
	struct tern_tensor x = tern_tensor_2d(0, F32, 10, 20), y = tern_tensor_2d(1, F32, 10, 20);
	struct tern_tensor t = tern_tensor_2d(1, F32, 20, 10), v = tern_tensor_2d(2, F32, 10, 20);
	struct tern_program *p;

	(void)e;
	CHECK_OK(tern_prog_create(0, &p));
	for (unsigned int i = 0; i < TERN_NUM_SEMS - 3; i++)
		CHECK_EQ(tern_prog_sem_alloc(p), i);
	CHECK_FAILS(tern_op_layernorm(p, &y, &x, NULL, NULL, 0), -ENOSPC);
	CHECK_FAILS(tern_op_rmsnorm(p, &y, &x, NULL, 0), -ENOSPC);
	CHECK_FAILS(tern_op_transpose(p, &t, &x), -ENOSPC);
	y = tern_tensor_2d(3, F32, 10, 20);
	CHECK_FAILS(tern_op_attention(p, &y, &x, &x, &v, 1, 0), -ENOSPC);
	CHECK_EQ(tern_prog_sem_alloc(p), TERN_NUM_SEMS - 3);	/* none was kept */
	tern_prog_free(p);
	return true;
}

static const struct test_case cases[] = {
	{ "layernorm: odd shapes", t_layernorm_shapes, 0 },
	{ "layernorm: dtypes", t_layernorm_dtypes, 0 },
	{ "layernorm: gamma, beta, eps, layouts, in place", t_layernorm_variants, 0 },
	{ "rmsnorm: odd shapes", t_rmsnorm_shapes, 0 },
	{ "rmsnorm: dtypes", t_rmsnorm_dtypes, 0 },
	{ "rmsnorm: gamma, eps, layouts, in place", t_rmsnorm_variants, 0 },
	{ "norms in a 1 MiB SBUF", t_norms_small_sbuf, 1u << 20 },
	{ "norms: rows over 32768 elements, 64 MiB SBUF", t_norms_long_rows, 64u << 20 },
	{ "transpose: odd shapes", t_transpose_shapes, 0 },
	{ "transpose: every dtype in and out", t_transpose_dtypes, 0 },
	{ "transpose: slices, padding, column-major", t_transpose_layouts, 0 },
	{ "transpose in a 1 MiB SBUF", t_transpose_small_sbuf, 1u << 20 },
	{ "transpose beside a program's own tile", t_transpose_little_left, 0 },
	{ "attention: tiny shapes", t_attention_small, 0 },
	{ "attention: odd shapes, Sq != Sk", t_attention_odd, 0 },
	{ "attention: many blocks of keys, D and Dv", t_attention_blocks, 0 },
	{ "attention: dtypes", t_attention_dtypes, 0 },
	{ "attention: layouts", t_attention_layouts, 0 },
	{ "attention: scales", t_attention_scales, 0 },
	{ "attention in a 3 MiB SBUF", t_attention_small_sbuf, 3u << 20 },
	{ "attention in a 5 MiB SBUF", t_attention_streamed, 5u << 20 },
	{ "attention: Sk = 40000", t_attention_long_keys, 0 },
	{ "attention: a 512 x 64 head, fp32 and bf16", t_attention_head, 0 },
	{ "attention: four heads", t_attention_multihead, 0 },
	{ "four ops in one program", t_pipeline, 0 },
	{ "norm errors leave the program unchanged", t_norm_errors, 0 },
	{ "transpose errors", t_transpose_errors, 0 },
	{ "attention errors", t_attention_errors, 0 },
	{ "ops without free semaphores", t_no_semaphores, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
