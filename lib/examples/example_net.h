/* SPDX-License-Identifier: MIT */
/*
 * example_net.h: the scaffolding that mlp.c and transformer.c share.
 *
 * A network here is a set of tensors and a list of ops over them:
 *   - every tensor gets a slot of its own: a device buffer, which the
 *     program reads or writes; a host buffer of the same size, from which
 *     the inputs are uploaded and on which the CPU reference runs; and a
 *     host buffer into which the device's contents are read back;
 *   - inputs are filled with random values from a fixed sequence, results
 *     start as NaN;
 *   - the op list (struct tern_op) is run twice: on the device, every op
 *     emitted into ONE program that is loaded and launched once
 *     (device_run()), and on the CPU, step by step through
 *     tern_op_reference() (check_end_to_end()).
 *
 * An example defines EXAMPLE_NAME, its program name for messages, before
 * including this header, and keeps to itself only its network and output.
 */
#ifndef TERN_EXAMPLE_NET_H
#define TERN_EXAMPLE_NET_H

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

#ifndef EXAMPLE_NAME
#error "define EXAMPLE_NAME (the program name for messages) before example_net.h"
#endif

#define MAX_TENSORS	32
#define MAX_OPS		32

struct net {
	struct tern_device *dev;
	unsigned int nslots;
	struct tern_buffer *dbuf[MAX_TENSORS];			/* on the device */
	struct tern_buffer *hbuf[MAX_TENSORS], *bbuf[MAX_TENSORS];	/* host, read-back */
	void *host[MAX_TENSORS], *back[MAX_TENSORS];		/* their mappings */
	uint64_t size[MAX_TENSORS];
	uint64_t rng;
	struct tern_op ops[MAX_OPS];
	unsigned int nops;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, EXAMPLE_NAME ": %s: %s\n  (%s)\n", what, tern_strerror(err),
		tern_last_error());
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * -d INDEX and -t fp32|bf16; -h prints a usage line and @about. Returns 0,
 * or 2 (the exit status) for a bad argument.
 */
static int parse_args(int argc, char **argv, const char *about, unsigned int *index,
		      uint32_t *dtype)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:t:h")) != -1) {
		switch (opt) {
		case 'd':
			if (optarg[0] < '0' || optarg[0] > '9') {
				fprintf(stderr, EXAMPLE_NAME ": -d \"%s\": not a device index\n",
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
				fprintf(stderr, EXAMPLE_NAME ": -t \"%s\": fp32 or bf16\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: " EXAMPLE_NAME " [-d INDEX] [-t fp32|bf16]\n%s", about);
			exit(0);
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, EXAMPLE_NAME ": unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
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

/* ---- the ops, as data; each zeroed first, as struct tern_op asks ---- */

static struct tern_op *add_op(struct net *n, unsigned int kind, unsigned int func,
			      const struct tern_tensor *out, unsigned int nin)
{
	struct tern_op *op;

	if (n->nops == MAX_OPS) {
		/* a fixed list: only a change to the example can get here */
		fprintf(stderr, EXAMPLE_NAME ": more than %d ops\n", MAX_OPS);
		exit(1);
	}
	op = &n->ops[n->nops++];
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

/* ---- run 1: the op list on the device ---- */

/*
 * Every op into ONE program, loaded with tern_kernel_load() and launched
 * once with tern_launch(); then every slot is read back into n->back.
 * *insns gets the program's instructions over all engines, *t_build the
 * time taken to build and load it.
 */
static int device_run(struct net *n, struct tern_launch_status *st, unsigned int *insns,
		      double *t_build)
{
	struct tern_program *prog = NULL;
	struct tern_kernel *kernel = NULL;
	const void *image;
	size_t image_size;
	double t0 = now_s();
	unsigned int i;
	int ret;

	*insns = 0;
	*t_build = 0;
	ret = tern_prog_create(0, &prog);
	if (ret)
		return fail("tern_prog_create", ret);
	for (i = 0; i < n->nops; i++) {
		ret = tern_op_emit(prog, &n->ops[i]);
		if (ret) {
			fail(tern_op_name(n->ops[i].kind), ret);
			goto out;
		}
	}
	ret = tern_prog_finish(prog, &image, &image_size);
	if (!ret)
		ret = tern_kernel_load(n->dev, image, image_size, &kernel);
	if (ret) {
		fail("cannot finish and load the program", ret);
		goto out;
	}
	for (i = 0; i < TERN_NUM_ENGINES; i++)
		*insns += (unsigned int)tern_prog_count(prog, i);
	*t_build = now_s() - t0;

	ret = tern_launch(n->dev, kernel, TERN_CORE_ANY, n->dbuf, n->nslots, st);
	if (ret) {
		fail("the launch failed", ret);
		goto out;
	}
	for (i = 0; i < n->nslots && !ret; i++)
		ret = tern_copy(n->dev, n->bbuf[i], 0, n->dbuf[i], 0, n->size[i]);
	if (ret)
		fail("cannot read the results back", ret);
out:
	tern_kernel_free(kernel);
	tern_prog_free(prog);
	return ret ? 1 : 0;
}

/* ---- run 2: the op list on the CPU ---- */

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
 * How far the device's result of one step may be from the exact result of
 * the same inputs. tern_op_tolerance() says it for inputs in [-1, 1]; ours
 * have other sizes, so the bound is rescaled: a matmul is bilinear, its
 * error grows with max|a| * max|b| (weights of 1/sqrt(fan_in) make it
 * smaller); attention averages rows of V, its error grows with max|v|; a
 * norm divides the size of x out; the others (a bias, an add) grow at most
 * linearly with their largest input. Only a matmul is credited for inputs
 * below 1.
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
 * The op list on the CPU, over host buffers. With @nudge, every step's
 * result is then moved by its step_tolerance(), up or down at random,
 * element by element (see check_end_to_end()).
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

/*
 * The list on the CPU, from the inputs the device got (after
 * device_run()). *err gets the largest difference between the device's
 * @out and the reference's, *t_ref the reference's time.
 *
 * *tol, the tolerance: every step of the device may be off by its
 * step_tolerance(), and the later steps carry those errors on, shrunk or
 * grown. Rather than bound that growth by hand, the reference measures it:
 * a second run of the list, over copies of the inputs, moves each step's
 * result by its tolerance, up or down at random (as rounding errors go).
 * How far that moves @out, doubled for safety, is the tolerance of the
 * whole pass.
 */
static int check_end_to_end(struct net *n, const struct tern_tensor *out, double *err,
			    double *tol, double *t_ref)
{
	void *nudged[MAX_TENSORS] = { NULL };
	unsigned int i;
	double t0;
	int rc = 1;

	for (i = 0; i < n->nslots; i++) {
		nudged[i] = malloc(n->size[i]);
		if (!nudged[i]) {
			fail("out of memory", -ENOMEM);
			goto out;
		}
		memcpy(nudged[i], n->host[i], n->size[i]);
	}
	t0 = now_s();
	if (reference(n, n->host, false))
		goto out;
	*t_ref = now_s() - t0;
	if (reference(n, nudged, true))
		goto out;
	*tol = 2 * max_abs_error(out, nudged, n->host);
	*err = max_abs_error(out, n->back, n->host);
	rc = 0;
out:
	for (i = 0; i < n->nslots; i++)
		free(nudged[i]);
	return rc;
}

/* Every slot's buffers (NULL ones too), then the device. */
static void net_close(struct net *n)
{
	unsigned int i;

	for (i = 0; i < n->nslots; i++) {
		tern_buffer_free(n->bbuf[i]);
		tern_buffer_free(n->hbuf[i]);
		tern_buffer_free(n->dbuf[i]);
	}
	tern_device_close(n->dev);
}

#endif /* TERN_EXAMPLE_NET_H */
