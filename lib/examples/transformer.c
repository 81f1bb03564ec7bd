// SPDX-License-Identifier: MIT
/*
 * transformer: the forward pass of one pre-norm transformer block on a tern
 * core, checked against the CPU.
 *
 *     a   = layernorm(x)                      (gamma g1, beta be1)
 *     qkv = a . Wqkv                          Q, K, V side by side
 *     o_h = softmax(Q_h K_h^T / sqrt(dh), causal) V_h   for each head h
 *     x1  = x + o . Wo
 *     f   = gelu(layernorm(x1) . W1 + c1) . W2 + c2
 *     y   = x1 + f
 *
 * x is SEQ tokens of D_MODEL features; HEADS heads of DH = D_MODEL / HEADS
 * dimensions; the MLP has D_FFN hidden units. The heads need no copies:
 * head h's Q is the column slice h*DH..h*DH+DH-1 of qkv, a tensor with an
 * offset and the row stride of qkv (3 * D_MODEL), and its output goes to
 * the same columns of o. One tern_op_attention() per head.
 *
 * As in mlp.c, the block is written once, as a list of struct tern_op,
 * and used three times:
 *   1. on the device: tern_op_emit() adds every op to ONE program, loaded
 *      with tern_kernel_load() and launched once;
 *   2. on the CPU: tern_op_reference() runs the list step by step from the
 *      same inputs; the largest difference from the device's y is the
 *      result, held to a tolerance derived from the steps' own;
 *   3. step by step: each op's reference over the device's own inputs
 *      (every slot read back), held to that op's tolerance, which names a
 *      wrong step where the end-to-end difference would only blur it.
 *
 *   transformer [-d INDEX] [-t fp32|bf16]
 *
 * Exit status: 0 when the device matches the reference within the
 * tolerances, end to end and step by step; 1 when it does not or something
 * failed; 2 for a bad argument.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern.h"
#include "tern_ops.h"
#include "tern_program.h"

#define SEQ		128
#define D_MODEL		256
#define HEADS		4
#define DH		(D_MODEL / HEADS)
#define D_FFN		1024
#define LN_EPS		1e-5f

#define MAX_TENSORS	32
#define MAX_OPS		(16 + HEADS)

/*
 * Every tensor gets a buffer slot of its own: a device buffer, which the
 * program reads or writes; a host buffer of the same size, from which the
 * inputs are uploaded and on which the CPU reference runs; and a host
 * buffer into which the device's contents are read back after the launch.
 */
struct net {
	struct tern_device *dev;
	unsigned int nslots;
	struct tern_buffer *dbuf[MAX_TENSORS];
	struct tern_buffer *hbuf[MAX_TENSORS], *bbuf[MAX_TENSORS];
	void *host[MAX_TENSORS], *back[MAX_TENSORS];
	uint64_t size[MAX_TENSORS];
	uint64_t rng;
	struct tern_op ops[MAX_OPS];
	unsigned int nops;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "transformer: %s: %s\n  (%s)\n", what, tern_strerror(err),
		tern_last_error());
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Uniform in [lo, hi), from a fixed sequence (splitmix64). */
static float uniform(struct net *n, float lo, float hi)
{
	uint64_t z = (n->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return lo + (hi - lo) * (float)((double)(z >> 11) / (double)(1ull << 53));
}

/*
 * A rows x cols tensor in a new slot. An input (lo < hi) is filled with
 * uniform values in [lo, hi); anything else starts as NaN (all bits set),
 * so that a result the program fails to write cannot pass the check.
 */
static int tensor(struct net *n, uint32_t dtype, uint64_t rows, uint64_t cols, float lo,
		  float hi, struct tern_tensor *t)
{
	unsigned int s = n->nslots;
	uint64_t i;
	int err;

	if (s == MAX_TENSORS)
		return fail("too many tensors", -ENOSPC);
	*t = tern_tensor_2d(s, dtype, rows, cols);
	n->size[s] = tern_tensor_span(t);
	n->nslots++;
	err = tern_buffer_alloc(n->dev, n->size[s], TERN_MEM_DEVICE, &n->dbuf[s]);
	if (!err)
		err = tern_buffer_alloc(n->dev, n->size[s], TERN_MEM_HOST, &n->hbuf[s]);
	if (!err)
		err = tern_buffer_map(n->hbuf[s], &n->host[s]);
	if (!err)
		err = tern_buffer_alloc(n->dev, n->size[s], TERN_MEM_HOST, &n->bbuf[s]);
	if (!err)
		err = tern_buffer_map(n->bbuf[s], &n->back[s]);
	if (err)
		return fail("cannot allocate a tensor", err);
	if (lo < hi) {
		for (i = 0; i < rows * cols; i++)
			tern_value_set(dtype, (uint8_t *)n->host[s] + i * tern_dtype_size(dtype),
				       uniform(n, lo, hi));
	} else {
		memset(n->host[s], 0xff, n->size[s]);
	}
	err = tern_copy(n->dev, n->dbuf[s], 0, n->hbuf[s], 0, n->size[s]);
	if (err)
		return fail("cannot upload a tensor", err);
	return 0;
}

/* Columns first..first+count-1 of a tensor: same rows, same row stride. */
static struct tern_tensor columns(struct tern_tensor t, uint64_t first, uint64_t count)
{
	t.offset += first * (uint64_t)t.col_stride * tern_dtype_size(t.dtype);
	t.cols = count;
	return t;
}

/* ---- the ops, as data; each zeroed first, as struct tern_op asks ---- */

static struct tern_op *add_op(struct net *n, unsigned int kind, unsigned int func,
			      const struct tern_tensor *out, unsigned int nin)
{
	struct tern_op *op = &n->ops[n->nops++];

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->func = func;
	op->nin = nin;
	op->out = *out;
	return op;
}

static void matmul(struct net *n, const struct tern_tensor *c, const struct tern_tensor *a,
		   const struct tern_tensor *b)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_MATMUL, 0, c, 2);

	op->in[0] = *a;
	op->in[1] = *b;
}

static void add(struct net *n, const struct tern_tensor *out, const struct tern_tensor *a,
		const struct tern_tensor *b)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_BINARY, TERN_ALU_ADD, out, 2);

	op->in[0] = *a;
	op->in[1] = *b;
}

static void bias(struct net *n, unsigned int act, const struct tern_tensor *out,
		 const struct tern_tensor *x, const struct tern_tensor *b)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_BIAS, act, out, 2);

	op->in[0] = *x;
	op->in[1] = *b;
}

static void layernorm(struct net *n, const struct tern_tensor *out, const struct tern_tensor *x,
		      const struct tern_tensor *gamma, const struct tern_tensor *beta)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_LAYERNORM, 0, out, 3);

	op->eps = LN_EPS;
	op->in[0] = *x;
	op->in[1] = *gamma;
	op->in[2] = *beta;
}

static void attention(struct net *n, const struct tern_tensor *out, const struct tern_tensor *q,
		      const struct tern_tensor *k, const struct tern_tensor *v)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_ATTENTION, TERN_ATTN_CAUSAL, out, 3);

	op->scale = 1 / sqrtf(DH);
	op->in[0] = *q;
	op->in[1] = *k;
	op->in[2] = *v;
}

/* Address of element (r, c) of a tensor in host buffers. */
static uint8_t *element(void *const *slots, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	return (uint8_t *)slots[t->slot] + t->offset +
	       (r * t->row_stride + c * t->col_stride) * tern_dtype_size(t->dtype);
}

/* Largest |element| of a tensor in host buffers. */
static double max_abs(void *const *slots, const struct tern_tensor *t)
{
	double m = 0;
	uint64_t r, c;

	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->cols; c++)
			m = fmax(m, fabs(tern_value_get(t->dtype, element(slots, t, r, c))));
	return m;
}

/*
 * How far the device's result of one step may be from the exact result of
 * the same inputs. tern_op_tolerance() says it for inputs in [-1, 1]; ours
 * have other sizes, so the bound is rescaled: a matmul is bilinear, its
 * error grows with max|a| * max|b| (weights of 1/sqrt(fan_in) make it
 * smaller); attention averages rows of V, its error grows with max|v|; a
 * norm divides the size of x out; the others grow at most linearly with
 * their largest input. Only a matmul is credited for inputs below 1.
 */
static double step_tolerance(void *const *slots, const struct tern_op *op)
{
	double tol = tern_op_tolerance(op), scale = 1;
	unsigned int j;

	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		scale = max_abs(slots, &op->in[0]) * max_abs(slots, &op->in[1]);
		break;
	case TERN_OPKIND_ATTENTION:
		scale = fmax(1, max_abs(slots, &op->in[2]));
		break;
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		break;
	default:
		for (j = 0; j < op->nin; j++)
			scale = fmax(scale, max_abs(slots, &op->in[j]));
		break;
	}
	return tol < 0 ? tol : tol * scale;
}

/*
 * Use 2: the op list on the CPU, over host buffers. With @nudge,
 * every step's result is then moved by its step_tolerance(), up or down
 * at random, element by element (see main()).
 */
static int reference(struct net *n, void *const *slots, bool nudge)
{
	const struct tern_tensor *o;
	double tol = 0, v;
	unsigned int i;
	uint64_t r, c;
	int ret;

	for (i = 0; i < n->nops; i++) {
		o = &n->ops[i].out;
		if (nudge) {
			tol = step_tolerance(slots, &n->ops[i]);
			if (tol < 0)
				return fail("tern_op_tolerance", -EINVAL);
		}
		ret = tern_op_reference(&n->ops[i], slots, n->size, n->nslots);
		if (ret)
			return fail("the CPU reference failed", ret);
		for (r = 0; nudge && r < o->rows; r++) {
			for (c = 0; c < o->cols; c++) {
				v = tern_value_get(o->dtype, element(slots, o, r, c));
				v += uniform(n, 0, 1) < 0.5f ? -tol : tol;
				tern_value_set(o->dtype, element(slots, o, r, c), (float)v);
			}
		}
	}
	return 0;
}

/* Largest |a - b| over a tensor in two sets of slots (a NaN: infinite). */
static double max_abs_error(const struct tern_tensor *t, void *const *a, void *const *b)
{
	double worst = 0, e;
	uint64_t r, c;

	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++) {
			e = fabs((double)tern_value_get(t->dtype, element(a, t, r, c)) -
				 (double)tern_value_get(t->dtype, element(b, t, r, c)));
			if (isnan(e))
				return INFINITY;
			worst = fmax(worst, e);
		}
	}
	return worst;
}

/*
 * Use 3: every step's reference over the device's own inputs, against
 * the device's output of that step. Prints the steps out of tolerance and
 * returns their number, or -1 on an error; *closest gets the step nearest
 * to its tolerance.
 */
static int check_steps(struct net *n, unsigned int *closest, double *err, double *tol)
{
	void *slots[MAX_TENSORS];
	unsigned int i, s;
	double e, t;
	int bad = 0;

	*closest = 0;
	*err = 0;
	*tol = 1;
	for (i = 0; i < n->nops; i++) {
		const struct tern_op *op = &n->ops[i];

		/* the device's slots, but the output goes to a copy */
		s = op->out.slot;
		memcpy(slots, n->back, sizeof(slots));
		slots[s] = malloc(n->size[s]);
		if (!slots[s]) {
			fail("out of memory", -ENOMEM);
			return -1;
		}
		memcpy(slots[s], n->back[s], n->size[s]);
		if (tern_op_reference(op, slots, n->size, n->nslots)) {
			fail("the CPU reference failed", -EINVAL);
			free(slots[s]);
			return -1;
		}
		e = max_abs_error(&op->out, slots, n->back);
		t = step_tolerance(n->back, op);
		free(slots[s]);
		if (!(e <= t)) {
			printf("  step %u (%s): max abs error %.3g, tolerance %.3g: FAIL\n", i + 1,
			       tern_op_name(op->kind), e, t);
			bad++;
		}
		if (e / t > *err / *tol) {
			*closest = i;
			*err = e;
			*tol = t;
		}
	}
	return bad;
}

/* Multiply-adds of the block, times two. */
static double block_flops(void)
{
	double proj = 2.0 * SEQ * D_MODEL * (3 * D_MODEL + D_MODEL);
	double ffn = 2.0 * 2 * SEQ * D_MODEL * D_FFN;
	/* causal: query i sees i + 1 keys; Q K^T and P V */
	double attn = 2.0 * 2 * DH * HEADS * (SEQ * (SEQ + 1) / 2.0);

	return proj + ffn + attn;
}

static int parse_args(int argc, char **argv, unsigned int *index, uint32_t *dtype)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:t:h")) != -1) {
		switch (opt) {
		case 'd':
			if (optarg[0] < '0' || optarg[0] > '9') {
				fprintf(stderr, "transformer: -d \"%s\": not a device index\n",
					optarg);
				return 2;
			}
			*index = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 't':
			if (!strcmp(optarg, "fp32")) {
				*dtype = TERN_DT_FP32;
			} else if (!strcmp(optarg, "bf16")) {
				*dtype = TERN_DT_BF16;
			} else {
				fprintf(stderr, "transformer: -t \"%s\": fp32 or bf16\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: transformer [-d INDEX] [-t fp32|bf16]\n"
			       "One pre-norm transformer block (causal self-attention, gelu\n"
			       "MLP) on tern device INDEX (0), in bf16 (or fp32), checked\n"
			       "against the CPU reference.\n");
			exit(0);
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "transformer: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tern_tensor x, g1, be1, wqkv, wo, g2, be2, w1, c1, w2, c2, y;
	struct tern_tensor a, qkv, o, p, x1, a2, h0, h1, f0, f;
	struct tern_launch_status st;
	struct tern_program *prog = NULL;
	struct tern_kernel *kernel = NULL;
	struct net n = { .rng = 7 };
	uint32_t dt = TERN_DT_BF16;
	unsigned int index = 0, i, h, insns = 0, closest;
	double t0, t_build, t_ref, err, tol, step_err, step_tol;
	const float ws = 1 / sqrtf(D_MODEL), w2s = 1 / sqrtf(D_FFN);
	const void *image;
	size_t image_size;
	void *nudged[MAX_TENSORS] = { NULL };
	int rc = 1, ret, bad;
	bool pass;

	ret = parse_args(argc, argv, &index, &dt);
	if (ret)
		return ret;
	ret = tern_device_open(index, &n.dev);
	if (ret)
		return fail("cannot open the device", ret);

	/* Inputs and weights: random; weights scaled by 1/sqrt(fan_in). */
	if (tensor(&n, dt, SEQ, D_MODEL, -1, 1, &x) ||
	    tensor(&n, dt, 1, D_MODEL, 0.5f, 1.0f, &g1) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &be1) ||
	    tensor(&n, dt, D_MODEL, 3 * D_MODEL, -ws, ws, &wqkv) ||
	    tensor(&n, dt, D_MODEL, D_MODEL, -ws, ws, &wo) ||
	    tensor(&n, dt, 1, D_MODEL, 0.5f, 1.0f, &g2) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &be2) ||
	    tensor(&n, dt, D_MODEL, D_FFN, -ws, ws, &w1) ||
	    tensor(&n, dt, 1, D_FFN, -0.5f, 0.5f, &c1) ||
	    tensor(&n, dt, D_FFN, D_MODEL, -w2s, w2s, &w2) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &c2) ||
	    /* the result and the intermediates, each in a slot of its own */
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &y) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &a) ||
	    tensor(&n, dt, SEQ, 3 * D_MODEL, 0, 0, &qkv) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &o) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &p) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &x1) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &a2) ||
	    tensor(&n, dt, SEQ, D_FFN, 0, 0, &h0) ||
	    tensor(&n, dt, SEQ, D_FFN, 0, 0, &h1) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &f0) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &f))
		goto out;

	/* The block, as data. Attention: */
	layernorm(&n, &a, &x, &g1, &be1);		/* a = layernorm(x) */
	matmul(&n, &qkv, &a, &wqkv);			/* [Q K V] = a . Wqkv */
	for (h = 0; h < HEADS; h++) {
		struct tern_tensor oh = columns(o, h * DH, DH);
		struct tern_tensor qh = columns(qkv, h * DH, DH);
		struct tern_tensor kh = columns(qkv, D_MODEL + h * DH, DH);
		struct tern_tensor vh = columns(qkv, 2 * D_MODEL + h * DH, DH);

		attention(&n, &oh, &qh, &kh, &vh);	/* o_h = attention(Q_h, K_h, V_h) */
	}
	matmul(&n, &p, &o, &wo);			/* p = o . Wo */
	add(&n, &x1, &x, &p);				/* x1 = x + p */
	/* MLP: */
	layernorm(&n, &a2, &x1, &g2, &be2);		/* a2 = layernorm(x1) */
	matmul(&n, &h0, &a2, &w1);			/* h0 = a2 . W1 */
	bias(&n, TERN_ACT_GELU, &h1, &h0, &c1);		/* h1 = gelu(h0 + c1) */
	matmul(&n, &f0, &h1, &w2);			/* f0 = h1 . W2 */
	bias(&n, TERN_ACT_IDENTITY, &f, &f0, &c2);	/* f = f0 + c2 */
	add(&n, &y, &x1, &f);				/* y = x1 + f */

	/* Use 1: one program on the device. */
	t0 = now_s();
	ret = tern_prog_create(0, &prog);
	if (ret) {
		fail("tern_prog_create", ret);
		goto out;
	}
	for (i = 0; i < n.nops; i++) {
		ret = tern_op_emit(prog, &n.ops[i]);
		if (ret) {
			fail(tern_op_name(n.ops[i].kind), ret);
			goto out;
		}
	}
	ret = tern_prog_finish(prog, &image, &image_size);
	if (!ret)
		ret = tern_kernel_load(n.dev, image, image_size, &kernel);
	if (ret) {
		fail("cannot finish and load the program", ret);
		goto out;
	}
	for (i = 0; i < TERN_NUM_ENGINES; i++)
		insns += (unsigned int)tern_prog_count(prog, i);
	t_build = now_s() - t0;

	ret = tern_launch(n.dev, kernel, TERN_CORE_ANY, n.dbuf, n.nslots, &st);
	if (ret) {
		fail("the launch failed", ret);
		goto out;
	}
	for (i = 0; i < n.nslots && !ret; i++)
		ret = tern_copy(n.dev, n.bbuf[i], 0, n.dbuf[i], 0, n.size[i]);
	if (ret) {
		fail("cannot read the results back", ret);
		goto out;
	}

	/*
	 * Use 2: the list on the CPU, from the inputs the device got.
	 *
	 * Its tolerance: every step of the device may be off by its
	 * step_tolerance(), and the later steps carry those errors on, shrunk
	 * or grown. Rather than bound that growth by hand, the reference
	 * measures it: a second run of the list, over copies of the inputs,
	 * moves each step's result by its tolerance, up or down at random (as
	 * rounding errors go). How far that moves y, doubled for safety, is
	 * the tolerance of the whole block.
	 */
	for (i = 0; i < n.nslots; i++) {
		nudged[i] = malloc(n.size[i]);
		if (!nudged[i]) {
			fail("out of memory", -ENOMEM);
			goto out;
		}
		memcpy(nudged[i], n.host[i], n.size[i]);
	}
	t0 = now_s();
	if (reference(&n, n.host, false))
		goto out;
	t_ref = now_s() - t0;
	if (reference(&n, nudged, true))
		goto out;
	tol = 2 * max_abs_error(&y, nudged, n.host);
	err = max_abs_error(&y, n.back, n.host);

	printf("transformer block: seq %d, d_model %d, %d heads, ffn %d, causal, %s: %u ops in one "
	       "program of %u instructions, built and loaded in %.1f ms\n", SEQ, D_MODEL, HEADS,
	       D_FFN, dt == TERN_DT_BF16 ? "bf16" : "fp32", n.nops, insns, t_build * 1e3);
	printf("  device:    tern%u core %u, modeled %.1f us (%.0f GFLOP/s), device %.1f ms, "
	       "wall %.1f ms\n", index, st.core, st.modeled_ns / 1e3,
	       block_flops() / (double)st.modeled_ns, st.device_ns / 1e6, st.wall_ns / 1e6);
	printf("  reference: %.2f s on the CPU\n", t_ref);

	/* Use 3: step by step. */
	bad = check_steps(&n, &closest, &step_err, &step_tol);
	if (bad < 0)
		goto out;
	if (bad)
		printf("  steps:     %d of %u beyond their tolerances\n", bad, n.nops);
	else
		printf("  steps:     all %u within their tolerances (closest: step %u, %s, error "
		       "%.3g of %.3g)\n", n.nops, closest + 1, tern_op_name(n.ops[closest].kind),
		       step_err, step_tol);
	pass = err <= tol && !bad;
	printf("transformer block: max abs error %.3g (tolerance %.3g), modeled %.1f us, "
	       "wall %.1f ms: %s\n", err, tol, st.modeled_ns / 1e3, st.wall_ns / 1e6,
	       pass ? "PASS" : "FAIL");
	rc = pass ? 0 : 1;

out:
	tern_kernel_free(kernel);
	tern_prog_free(prog);
	for (i = 0; i < n.nslots; i++) {
		free(nudged[i]);
		tern_buffer_free(n.bbuf[i]);
		tern_buffer_free(n.hbuf[i]);
		tern_buffer_free(n.dbuf[i]);
	}
	tern_device_close(n.dev);
	return rc;
}
