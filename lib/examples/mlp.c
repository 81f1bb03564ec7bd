// SPDX-License-Identifier: MIT
/*
 * mlp: the forward pass of a two-layer perceptron on a tern core, checked
 * against the CPU.
 *
 *     y = gelu(x . W1 + b1) . W2 + b2
 *
 * x is a batch of BATCH rows of D_IN features; the hidden layer has D_HID
 * units. The pass is written once, as a list of struct tern_op, and run
 * twice:
 *   1. on the device: tern_op_emit() adds each op to ONE program, which is
 *      loaded with tern_kernel_load() and launched once with tern_launch();
 *   2. on the CPU: tern_op_reference() runs the same list step by step over
 *      host copies of the same inputs.
 * It prints the largest difference between the two, the tolerance derived
 * from the steps' own, the chip's modeled time and the wall time.
 *
 *   mlp [-d INDEX] [-t fp32|bf16]
 *
 * Exit status: 0 when the device matches the reference within the
 * tolerance, 1 when it does not or something failed, 2 for a bad argument.
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

#define BATCH		128
#define D_IN		256
#define D_HID		1024
#define D_OUT		256

#define MAX_TENSORS	16
#define MAX_OPS		8

/*
 * Every tensor gets a buffer slot of its own: a device buffer, which the
 * program reads or writes, and a host buffer of the same size, from which
 * the inputs are uploaded and on which the CPU reference runs.
 */
struct net {
	struct tern_device *dev;
	unsigned int nslots;
	struct tern_buffer *dbuf[MAX_TENSORS];
	struct tern_buffer *hbuf[MAX_TENSORS];
	void *host[MAX_TENSORS];
	uint64_t size[MAX_TENSORS];
	uint64_t rng;
	struct tern_op ops[MAX_OPS];
	unsigned int nops;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "mlp: %s: %s\n  (%s)\n", what, tern_strerror(err), tern_last_error());
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

/* Append an op to the list; zeroed first, as struct tern_op asks. */
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

static void bias(struct net *n, unsigned int act, const struct tern_tensor *out,
		 const struct tern_tensor *x, const struct tern_tensor *b)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_BIAS, act, out, 2);

	op->in[0] = *x;
	op->in[1] = *b;
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
 * smaller); a bias grows at most linearly with its largest input (and is
 * not credited for inputs below 1).
 */
static double step_tolerance(void *const *slots, const struct tern_op *op)
{
	double tol = tern_op_tolerance(op), scale;

	if (op->kind == TERN_OPKIND_MATMUL)
		scale = max_abs(slots, &op->in[0]) * max_abs(slots, &op->in[1]);
	else
		scale = fmax(1, fmax(max_abs(slots, &op->in[0]), max_abs(slots, &op->in[1])));
	return tol < 0 ? tol : tol * scale;
}

/*
 * Execution 2: the op list on the CPU, over host buffers. With @nudge,
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

/* Largest |device - reference| over a tensor (NaN anywhere: infinite). */
static double max_abs_error(const struct tern_tensor *t, const void *dev, const void *ref)
{
	unsigned int size = tern_dtype_size(t->dtype);
	double worst = 0, e;
	uint64_t i;

	for (i = 0; i < t->rows * t->cols; i++) {
		e = fabs((double)tern_value_get(t->dtype, (const uint8_t *)dev + i * size) -
			 (double)tern_value_get(t->dtype, (const uint8_t *)ref + i * size));
		if (isnan(e))
			return INFINITY;
		if (e > worst)
			worst = e;
	}
	return worst;
}

static int parse_args(int argc, char **argv, unsigned int *index, uint32_t *dtype)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:t:h")) != -1) {
		switch (opt) {
		case 'd':
			if (optarg[0] < '0' || optarg[0] > '9') {
				fprintf(stderr, "mlp: -d \"%s\": not a device index\n", optarg);
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
				fprintf(stderr, "mlp: -t \"%s\": fp32 or bf16\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: mlp [-d INDEX] [-t fp32|bf16]\n"
			       "y = gelu(x . W1 + b1) . W2 + b2 on tern device INDEX (0), in bf16\n"
			       "(or fp32), checked against the CPU reference.\n");
			exit(0);
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mlp: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tern_tensor x, w1, b1, w2, b2, h0, h1, y0, y;
	struct tern_buffer *result = NULL;
	struct tern_launch_status st;
	struct tern_program *prog = NULL;
	struct tern_kernel *kernel = NULL;
	struct net n = { .rng = 42 };
	uint32_t dtype = TERN_DT_BF16;
	unsigned int index = 0, i, insns = 0;
	double t0, t_build, t_ref, err, tol;
	const float w1s = 1 / sqrtf(D_IN), w2s = 1 / sqrtf(D_HID);
	const void *image;
	size_t image_size;
	void *res, *nudged[MAX_TENSORS] = { NULL };
	int rc = 1, ret;

	ret = parse_args(argc, argv, &index, &dtype);
	if (ret)
		return ret;
	ret = tern_device_open(index, &n.dev);
	if (ret)
		return fail("cannot open the device", ret);

	/* The tensors: inputs and weights random, weights scaled by 1/sqrt(fan_in). */
	if (tensor(&n, dtype, BATCH, D_IN, -1, 1, &x) ||
	    tensor(&n, dtype, D_IN, D_HID, -w1s, w1s, &w1) ||
	    tensor(&n, dtype, 1, D_HID, -0.5f, 0.5f, &b1) ||
	    tensor(&n, dtype, D_HID, D_OUT, -w2s, w2s, &w2) ||
	    tensor(&n, dtype, 1, D_OUT, -0.5f, 0.5f, &b2) ||
	    /* results, in slots of their own */
	    tensor(&n, dtype, BATCH, D_HID, 0, 0, &h0) ||
	    tensor(&n, dtype, BATCH, D_HID, 0, 0, &h1) ||
	    tensor(&n, dtype, BATCH, D_OUT, 0, 0, &y0) ||
	    tensor(&n, dtype, BATCH, D_OUT, 0, 0, &y))
		goto out;

	/* The pass, as data. */
	matmul(&n, &h0, &x, &w1);			/* h0 = x . W1 */
	bias(&n, TERN_ACT_GELU, &h1, &h0, &b1);		/* h1 = gelu(h0 + b1) */
	matmul(&n, &y0, &h1, &w2);			/* y0 = h1 . W2 */
	bias(&n, TERN_ACT_IDENTITY, &y, &y0, &b2);	/* y = y0 + b2 */

	/* Execution 1: one program on the device. */
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
	ret = tern_buffer_alloc(n.dev, n.size[y.slot], TERN_MEM_HOST, &result);
	if (!ret)
		ret = tern_buffer_map(result, &res);
	if (!ret)
		ret = tern_copy(n.dev, result, 0, n.dbuf[y.slot], 0, n.size[y.slot]);
	if (ret) {
		fail("cannot read the result back", ret);
		goto out;
	}

	/*
	 * Execution 2: the same list on the CPU, from the inputs the device
	 * got.
	 *
	 * Its tolerance: every step of the device may be off by its
	 * step_tolerance(), and the later steps carry those errors on, shrunk
	 * or grown. Rather than bound that growth by hand, the reference
	 * measures it: a second run of the list, over copies of the inputs,
	 * moves each step's result by its tolerance, up or down at random (as
	 * rounding errors go). How far that moves the final output, doubled
	 * for safety, is the tolerance of the whole pass.
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
	tol = 2 * max_abs_error(&y, nudged[y.slot], n.host[y.slot]);
	err = max_abs_error(&y, res, n.host[y.slot]);

	printf("mlp: batch %d, %d -> %d (gelu) -> %d, %s: %u ops in one program of %u "
	       "instructions, built and loaded in %.1f ms\n", BATCH, D_IN, D_HID, D_OUT,
	       dtype == TERN_DT_BF16 ? "bf16" : "fp32", n.nops, insns, t_build * 1e3);
	printf("  device:    tern%u core %u, modeled %.1f us (%.0f GFLOP/s), device %.1f ms, "
	       "wall %.1f ms\n", index, st.core, st.modeled_ns / 1e3,
	       2.0 * BATCH * D_HID * (D_IN + D_OUT) / (double)st.modeled_ns,
	       st.device_ns / 1e6, st.wall_ns / 1e6);
	printf("  reference: %.2f s on the CPU\n", t_ref);
	printf("mlp: max abs error %.3g (tolerance %.3g), modeled %.1f us, wall %.1f ms: %s\n",
	       err, tol, st.modeled_ns / 1e3, st.wall_ns / 1e6, err <= tol ? "PASS" : "FAIL");
	rc = err <= tol ? 0 : 1;

out:
	tern_buffer_free(result);
	tern_kernel_free(kernel);
	tern_prog_free(prog);
	for (i = 0; i < n.nslots; i++) {
		free(nudged[i]);
		tern_buffer_free(n.hbuf[i]);
		tern_buffer_free(n.dbuf[i]);
	}
	tern_device_close(n.dev);
	return rc;
}
