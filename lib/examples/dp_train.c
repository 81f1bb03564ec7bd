// SPDX-License-Identifier: MIT
/*
 * dp_train: a data-parallel training step of a two-layer perceptron across
 * several tern chips (8 by default), checked against the CPU.
 *
 *     z = x . W1 + b1,  a = relu(z),  y = a . W2 + b2
 *     loss = mean over the global batch and outputs of (y - t)^2
 *
 * Every rank (chip) holds a full replica of W1, b1, W2, b2 (one buffer,
 * "params") and its own BATCH rows of the global batch. A step is:
 *   1. one program on each chip: the forward pass, the loss gradient
 *      dy = 2 (y - t) / (global batch x D_OUT) and the backward pass
 *      (dW2 = a^T dy, db2 = sum of dy's rows, da = dy W2^T,
 *      dz = da * relu'(z), dW1 = x^T dz, db1 = sum of dz's rows) into one
 *      buffer "grads" laid out like params;
 *   2. tern_all_reduce() of grads, summed in place across the ranks: the
 *      gradient of the global mean loss (the 1 / global batch is in dy);
 *   3. one program on each chip: params = params - lr * grads (tern_op_sgd()).
 *
 * Checked at every step, and the run fails if any is wrong:
 *   (a) the all-reduced gradient on every rank equals, bit for bit,
 *       tern_coll_reference() over the per-rank gradients read back before
 *       the all-reduce, in the order of the plan the call used;
 *   (b) every rank's new params equal, bit for bit, the CPU's
 *       fl32(p + fl32(-lr * g)) from its params and reduced gradient (the
 *       two fp32 operations tern_op_axpy() documents);
 *   (c) the params of all ranks are identical, bit for bit;
 * and after the last step
 *   (d) the loss of every step and the final weights match a CPU reference
 *       training in double (same data, same initial weights, same math)
 *       within LOSS_TOL (relative) and WEIGHT_TOL (absolute): the chips
 *       compute in fp32 (matmul sums in an order of their own), so those
 *       differ from double by fp32 roundings, far below the tolerances.
 *
 *   dp_train [-n STEPS] [-d FIRST] [--ranks N]
 *
 * Ranks are devices FIRST..FIRST+N-1, which must be chips of one fabric
 * connected through their own links (in the 4x4 torus of the fabric VM,
 * chips 0..7 are its first two rows). Exit status: 0 when every check
 * passes, 1 when one fails or something else does (too few linked chips
 * included), 2 for a bad argument.
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
#include "tern_coll.h"
#include "tern_ops.h"
#include "tern_program.h"

#define BATCH		64	/* rows per rank */
#define D_IN		32
#define D_HID		64
#define D_OUT		16
#define LR		0.5f
#define SEED		0x64707472616e31ull	/* "dptran1" */
#define LOSS_TOL	1e-4	/* relative, device against the double reference */
#define WEIGHT_TOL	1e-4	/* absolute */

/* params (and grads) of one replica: offsets in elements of one fp32 buffer */
#define OFF_W1		0
#define OFF_B1		(OFF_W1 + D_IN * D_HID)
#define OFF_W2		(OFF_B1 + D_HID)
#define OFF_B2		(OFF_W2 + D_HID * D_OUT)
#define NPARAM		(OFF_B2 + D_OUT)

/* the activations and their gradients, in a work buffer */
#define OFF_H0		0
#define OFF_Z		(OFF_H0 + BATCH * D_HID)
#define OFF_A		(OFF_Z + BATCH * D_HID)
#define OFF_DA		(OFF_A + BATCH * D_HID)
#define OFF_DZ		(OFF_DA + BATCH * D_HID)
#define OFF_Y0		(OFF_DZ + BATCH * D_HID)
#define OFF_Y		(OFF_Y0 + BATCH * D_OUT)
#define OFF_DY		(OFF_Y + BATCH * D_OUT)
#define NWORK		(OFF_DY + BATCH * D_OUT)

/* buffer slots of the programs */
enum { S_X, S_T, S_PARAMS, S_GRADS, S_WORK, NSLOTS };

static const uint64_t slot_elems[NSLOTS] = {
	[S_X] = BATCH * D_IN, [S_T] = BATCH * D_OUT, [S_PARAMS] = NPARAM,
	[S_GRADS] = NPARAM, [S_WORK] = NWORK,
};

struct rank {
	struct tern_device *dev;
	unsigned int chip;
	struct tern_buffer *slot[NSLOTS];	/* device buffers */
	struct tern_buffer *stage;		/* host buffer for copies */
	float *host;				/* its mapping */
	struct tern_kernel *kstep, *kupdate;
};

struct run {
	unsigned int nranks, first, steps;
	struct rank r[TERN_COMM_MAX_RANKS];
	struct tern_comm *comm;
	float *x, *t;				/* the global batch */
	float *init;				/* initial params */
	float **grad, **reduced, **expect;	/* per rank, NPARAM each */
	float *before, *after;
	double *loss_dev;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "dp_train: %s: %s\n  (%s)\n", what, tern_strerror(err), tern_last_error());
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Uniform in [lo, hi), from a fixed sequence (splitmix64). */
static float uniform(uint64_t *s, float lo, float hi)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return lo + (hi - lo) * (float)((double)(z >> 11) / (double)(1ull << 53));
}

/* A rows x cols row-major fp32 tensor at element @off of @slot. */
static struct tern_tensor view(uint32_t slot, uint64_t off, uint64_t rows, uint64_t cols)
{
	struct tern_tensor t = tern_tensor_2d(slot, TERN_DT_FP32, rows, cols);

	t.offset = off * sizeof(float);
	return t;
}

/* ---- the programs ---- */

/* Forward, loss gradient and backward of one rank's rows. */
static int build_step(struct tern_program *p, float global_rows)
{
	struct tern_tensor x = view(S_X, 0, BATCH, D_IN), t = view(S_T, 0, BATCH, D_OUT);
	struct tern_tensor w1 = view(S_PARAMS, OFF_W1, D_IN, D_HID);
	struct tern_tensor b1 = view(S_PARAMS, OFF_B1, 1, D_HID);
	struct tern_tensor w2 = view(S_PARAMS, OFF_W2, D_HID, D_OUT);
	struct tern_tensor b2 = view(S_PARAMS, OFF_B2, 1, D_OUT);
	struct tern_tensor dw1 = view(S_GRADS, OFF_W1, D_IN, D_HID);
	struct tern_tensor db1 = view(S_GRADS, OFF_B1, 1, D_HID);
	struct tern_tensor dw2 = view(S_GRADS, OFF_W2, D_HID, D_OUT);
	struct tern_tensor db2 = view(S_GRADS, OFF_B2, 1, D_OUT);
	struct tern_tensor h0 = view(S_WORK, OFF_H0, BATCH, D_HID);
	struct tern_tensor z = view(S_WORK, OFF_Z, BATCH, D_HID);
	struct tern_tensor a = view(S_WORK, OFF_A, BATCH, D_HID);
	struct tern_tensor da = view(S_WORK, OFF_DA, BATCH, D_HID);
	struct tern_tensor dz = view(S_WORK, OFF_DZ, BATCH, D_HID);
	struct tern_tensor y0 = view(S_WORK, OFF_Y0, BATCH, D_OUT);
	struct tern_tensor y = view(S_WORK, OFF_Y, BATCH, D_OUT);
	struct tern_tensor dy = view(S_WORK, OFF_DY, BATCH, D_OUT);
	int ret;

	/* forward */
	if ((ret = tern_op_matmul(p, &h0, &x, &w1)) ||
	    (ret = tern_op_bias(p, TERN_ACT_IDENTITY, &z, &h0, &b1)) ||
	    (ret = tern_op_relu(p, &a, &z)) ||
	    (ret = tern_op_matmul(p, &y0, &a, &w2)) ||
	    (ret = tern_op_bias(p, TERN_ACT_IDENTITY, &y, &y0, &b2)) ||
	    /* the gradient of the global mean of (y - t)^2 */
	    (ret = tern_op_mse_grad(p, &dy, &y, &t, 2.0f / (global_rows * D_OUT))) ||
	    /* backward */
	    (ret = tern_op_matmul_at(p, &dw2, &a, &dy)) ||
	    (ret = tern_op_sum_rows(p, &db2, &dy)) ||
	    (ret = tern_op_matmul_bt(p, &da, &dy, &w2)) ||
	    (ret = tern_op_act_grad(p, TERN_ACT_RELU, &dz, &da, &z)) ||
	    (ret = tern_op_matmul_at(p, &dw1, &x, &dz)))
		return ret;
	return tern_op_sum_rows(p, &db1, &dz);
}

static int build_update(struct tern_program *p)
{
	struct tern_tensor w = view(S_PARAMS, 0, 1, NPARAM), g = view(S_GRADS, 0, 1, NPARAM);

	return tern_op_sgd(p, &w, &g, LR);
}

/* Builds a program and loads it on every rank. */
static int load_everywhere(struct run *R, bool step, const char *what)
{
	struct tern_program *p = NULL;
	const void *image;
	size_t size;
	int ret = tern_prog_create(0, &p);

	if (!ret)
		ret = step ? build_step(p, (float)(R->nranks * BATCH)) : build_update(p);
	if (!ret)
		ret = tern_prog_finish(p, &image, &size);
	for (unsigned int i = 0; i < R->nranks && !ret; i++)
		ret = tern_kernel_load(R->r[i].dev, image, size,
				       step ? &R->r[i].kstep : &R->r[i].kupdate);
	tern_prog_free(p);
	return ret ? fail(what, ret) : 0;
}

/* Launches one kernel on every rank at once and waits for all. */
static int launch_all(struct run *R, bool step)
{
	struct tern_fence *f[TERN_COMM_MAX_RANKS] = { NULL };
	struct tern_launch_status st;
	int ret = 0, r2;

	for (unsigned int i = 0; i < R->nranks && !ret; i++)
		ret = tern_launch_async(R->r[i].dev, step ? R->r[i].kstep : R->r[i].kupdate,
					TERN_CORE_ANY, R->r[i].slot, NSLOTS, &f[i]);
	if (ret)
		fail("launch", ret);
	for (unsigned int i = 0; i < R->nranks; i++) {
		if (!f[i])
			continue;
		r2 = tern_fence_wait(R->r[i].dev, f[i], TERN_TIMEOUT_INFINITE);
		if (!r2)
			r2 = tern_fence_launch_status(f[i], &st);
		if (!r2 && (st.result || st.error))
			r2 = -EIO;
		if (r2 && !ret) {
			fprintf(stderr, "dp_train: the %s program failed on rank %u (device %u)\n",
				step ? "step" : "update", i, R->first + i);
			ret = fail("launch", r2);
		}
		tern_fence_release(f[i]);
	}
	return ret ? 1 : 0;
}

/* Copies @n floats from a rank's slot to @dst, or from @src to the slot. */
static int xfer(struct rank *rk, unsigned int slot, float *dst, const float *src, uint64_t n)
{
	uint64_t bytes = n * sizeof(float);
	int ret;

	if (src) {
		memcpy(rk->host, src, bytes);
		ret = tern_copy(rk->dev, rk->slot[slot], 0, rk->stage, 0, bytes);
	} else {
		ret = tern_copy(rk->dev, rk->stage, 0, rk->slot[slot], 0, bytes);
		if (!ret)
			memcpy(dst, rk->host, bytes);
	}
	return ret ? fail(src ? "upload" : "download", ret) : 0;
}

/* ---- setup ---- */

static int open_ranks(struct run *R)
{
	struct tern_device *devs[TERN_COMM_MAX_RANKS];
	struct tern_device_info info;
	int count = tern_device_count(), ret;
	uint64_t stage = NWORK * sizeof(float);

	if (count < 0 || (unsigned int)count < R->first + R->nranks) {
		fprintf(stderr, "dp_train: %u ranks from device %u need %u tern devices, %d found\n"
			"  (run it where %u chips of one fabric are linked, e.g. the fabric VM)\n",
			R->nranks, R->first, R->first + R->nranks, count < 0 ? 0 : count,
			R->nranks);
		return 1;
	}
	for (unsigned int i = 0; i < R->nranks; i++) {
		struct rank *rk = &R->r[i];

		ret = tern_device_open(R->first + i, &rk->dev);
		if (ret)
			return fail("cannot open a device", ret);
		ret = tern_device_info(rk->dev, &info);
		if (ret)
			return fail("tern_device_info", ret);
		rk->chip = info.chip_id;
		devs[i] = rk->dev;
		for (unsigned int s = 0; s < NSLOTS && !ret; s++)
			ret = tern_buffer_alloc(rk->dev, slot_elems[s] * sizeof(float),
						TERN_MEM_DEVICE, &rk->slot[s]);
		if (!ret)
			ret = tern_buffer_alloc(rk->dev, stage, TERN_MEM_HOST, &rk->stage);
		if (!ret)
			ret = tern_buffer_map(rk->stage, (void **)&rk->host);
		if (ret)
			return fail("cannot allocate buffers", ret);
	}
	ret = tern_comm_create(devs, R->nranks, &R->comm);
	if (ret) {
		fprintf(stderr, "dp_train: devices %u..%u are not %u chips linked to one another\n",
			R->first, R->first + R->nranks - 1, R->nranks);
		return fail("tern_comm_create", ret);
	}
	return 0;
}

/* The data and initial weights; every rank gets the weights and its rows. */
static int init_data(struct run *R)
{
	unsigned int gb = R->nranks * BATCH;
	uint64_t s = SEED;
	float *teacher = malloc(D_IN * D_OUT * sizeof(float));
	int ret = 0;

	if (!teacher)
		return fail("out of memory", -ENOMEM);
	/* x uniform, t a smooth function of x the network can learn */
	for (unsigned int i = 0; i < gb * D_IN; i++)
		R->x[i] = uniform(&s, -1, 1);
	for (unsigned int i = 0; i < D_IN * D_OUT; i++)
		teacher[i] = uniform(&s, -1, 1) / sqrtf(D_IN);
	for (unsigned int i = 0; i < gb; i++) {
		for (unsigned int o = 0; o < D_OUT; o++) {
			double v = 0;

			for (unsigned int k = 0; k < D_IN; k++)
				v += R->x[i * D_IN + k] * teacher[k * D_OUT + o];
			R->t[i * D_OUT + o] = (float)tanh(2 * v);
		}
	}
	free(teacher);
	for (unsigned int i = 0; i < NPARAM; i++) {
		float scale = i < OFF_B1 ? 1 / sqrtf(D_IN) : i < OFF_W2 ? 0.1f :
			      i < OFF_B2 ? 1 / sqrtf(D_HID) : 0.1f;

		R->init[i] = uniform(&s, -scale, scale);
	}
	for (unsigned int i = 0; i < R->nranks && !ret; i++) {
		struct rank *rk = &R->r[i];

		ret = xfer(rk, S_X, NULL, R->x + i * BATCH * D_IN, BATCH * D_IN) ||
		      xfer(rk, S_T, NULL, R->t + i * BATCH * D_OUT, BATCH * D_OUT) ||
		      xfer(rk, S_PARAMS, NULL, R->init, NPARAM);
	}
	return ret;
}

/* ---- the CPU reference: the same training in double ---- */

struct cpu {
	double p[NPARAM];
};

/* One step over the whole global batch; returns the loss before the update. */
static double cpu_step(struct cpu *c, const float *x, const float *t, unsigned int gb)
{
	static double g[NPARAM];
	double loss = 0, *w1 = c->p + OFF_W1, *b1 = c->p + OFF_B1, *w2 = c->p + OFF_W2;
	double *b2 = c->p + OFF_B2, scale = 2.0 / ((double)gb * D_OUT);

	memset(g, 0, sizeof(g));
	for (unsigned int i = 0; i < gb; i++) {
		double z[D_HID], a[D_HID], y[D_OUT], dy[D_OUT];

		for (unsigned int h = 0; h < D_HID; h++) {
			z[h] = b1[h];
			for (unsigned int k = 0; k < D_IN; k++)
				z[h] += x[i * D_IN + k] * w1[k * D_HID + h];
			a[h] = z[h] > 0 ? z[h] : 0;
		}
		for (unsigned int o = 0; o < D_OUT; o++) {
			y[o] = b2[o];
			for (unsigned int h = 0; h < D_HID; h++)
				y[o] += a[h] * w2[h * D_OUT + o];
			loss += (y[o] - t[i * D_OUT + o]) * (y[o] - t[i * D_OUT + o]);
			dy[o] = scale * (y[o] - t[i * D_OUT + o]);
			g[OFF_B2 + o] += dy[o];
		}
		for (unsigned int h = 0; h < D_HID; h++) {
			double da = 0;

			for (unsigned int o = 0; o < D_OUT; o++) {
				g[OFF_W2 + h * D_OUT + o] += a[h] * dy[o];
				da += dy[o] * w2[h * D_OUT + o];
			}
			if (z[h] <= 0)
				continue;
			g[OFF_B1 + h] += da;
			for (unsigned int k = 0; k < D_IN; k++)
				g[OFF_W1 + k * D_HID + h] += x[i * D_IN + k] * da;
		}
	}
	for (unsigned int i = 0; i < NPARAM; i++)
		c->p[i] -= LR * g[i];
	return loss / ((double)gb * D_OUT);
}

/* ---- one step on the chips, with checks (a), (b), (c) ---- */

static double device_loss(struct run *R)
{
	static float y[BATCH * D_OUT];
	double loss = 0;

	for (unsigned int i = 0; i < R->nranks; i++) {
		struct rank *rk = &R->r[i];

		if (tern_copy(rk->dev, rk->stage, 0, rk->slot[S_WORK], 0, NWORK * sizeof(float)))
			return NAN;
		memcpy(y, rk->host + OFF_Y, sizeof(y));
		for (unsigned int k = 0; k < BATCH * D_OUT; k++) {
			double d = (double)y[k] - R->t[i * BATCH * D_OUT + k];

			loss += d * d;
		}
	}
	return loss / ((double)R->nranks * BATCH * D_OUT);
}

static void print_plan(const struct tern_comm_plan *pl)
{
	printf("%s [", pl->algorithm == TERN_COLL_RING ? "ring" :
	       pl->algorithm == TERN_COLL_TREE ? "tree" : "?");
	for (unsigned int i = 0; i < pl->n && i < TERN_COMM_MAX_RANKS; i++)
		printf("%s%u", i ? " " : "", pl->order[i]);
	printf("]");
}

static int device_step(struct run *R, unsigned int step, bool *ok)
{
	const void *in[TERN_COMM_MAX_RANKS];
	void *out[TERN_COMM_MAX_RANKS];
	struct tern_buffer *g[TERN_COMM_MAX_RANKS];
	struct tern_comm_plan plan;
	bool a_ok = true, b_ok = true, c_ok = true;
	int ret;

	if (launch_all(R, true))
		return 1;
	R->loss_dev[step] = device_loss(R);
	for (unsigned int i = 0; i < R->nranks; i++) {
		if (xfer(&R->r[i], S_GRADS, R->grad[i], NULL, NPARAM))
			return 1;
		g[i] = R->r[i].slot[S_GRADS];
		in[i] = R->grad[i];
		out[i] = R->expect[i];
	}
	ret = tern_all_reduce(R->comm, g, g, NPARAM, TERN_DT_FP32, TERN_REDUCE_SUM);
	if (ret)
		return fail("tern_all_reduce", ret);
	ret = tern_comm_plan(R->comm, &plan);
	if (!ret)
		ret = tern_coll_reference(TERN_COLL_ALL_REDUCE, &plan, in, out, NPARAM,
					  TERN_DT_FP32, TERN_REDUCE_SUM, 0);
	if (ret)
		return fail("tern_coll_reference", ret);
	/* (a) */
	for (unsigned int i = 0; i < R->nranks; i++) {
		if (xfer(&R->r[i], S_GRADS, R->reduced[i], NULL, NPARAM))
			return 1;
		if (memcmp(R->reduced[i], R->expect[i], NPARAM * sizeof(float))) {
			fprintf(stderr, "dp_train: step %u: rank %u's all-reduced gradient differs from "
				"tern_coll_reference()\n", step + 1, i);
			a_ok = false;
		}
	}
	/* (b), (c): params before, the update, params after */
	if (launch_all(R, false))
		return 1;
	for (unsigned int i = 0; i < R->nranks; i++) {
		if (xfer(&R->r[i], S_PARAMS, R->after, NULL, NPARAM))
			return 1;
		for (unsigned int k = 0; k < NPARAM; k++) {
			volatile float prod = -LR * R->reduced[i][k];
			volatile float want = R->before[k] + prod;

			if (memcmp(&R->after[k], (const void *)&want, sizeof(float))) {
				fprintf(stderr, "dp_train: step %u: rank %u param %u = %a, the CPU's "
					"update gives %a\n", step + 1, i, k, R->after[k], want);
				b_ok = false;
				break;
			}
		}
		/* rank 0's params are the reference of the others */
		if (i == 0)
			memcpy(R->expect[0], R->after, NPARAM * sizeof(float));
		else if (memcmp(R->expect[0], R->after, NPARAM * sizeof(float))) {
			fprintf(stderr, "dp_train: step %u: rank %u's weights differ from rank 0's\n",
				step + 1, i);
			c_ok = false;
		}
	}
	memcpy(R->before, R->expect[0], NPARAM * sizeof(float));
	printf("  step %u: loss %.9f | all-reduce ", step + 1, R->loss_dev[step]);
	print_plan(&plan);
	printf(" %s | update %s | replicas %s\n", a_ok ? "= reference" : "DIFFERS",
	       b_ok ? "= CPU" : "DIFFERS", c_ok ? "identical" : "DIFFER");
	*ok = a_ok && b_ok && c_ok;
	return 0;
}

/* ---- main ---- */

static int parse(int argc, char **argv, struct run *R)
{
	static const struct option longopts[] = {
		{ "ranks", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int opt;

	R->nranks = 8;
	R->steps = 5;
	while ((opt = getopt_long(argc, argv, "n:d:r:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: dp_train [-n STEPS] [-d FIRST] [--ranks N]\n"
			       "Data-parallel MLP training across N (8) linked chips, devices FIRST (0)\n"
			       "to FIRST+N-1, STEPS (5) steps, checked against the CPU.\n");
			exit(0);
		}
		if (opt != 'n' && opt != 'd' && opt != 'r')
			return 2;
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-' || v > 100000) {
			fprintf(stderr, "dp_train: %s \"%s\": not a number\n",
				opt == 'r' ? "--ranks" : opt == 'n' ? "-n" : "-d", optarg);
			return 2;
		}
		if (opt == 'n')
			R->steps = (unsigned int)v;
		else if (opt == 'd')
			R->first = (unsigned int)v;
		else
			R->nranks = (unsigned int)v;
	}
	if (optind < argc) {
		fprintf(stderr, "dp_train: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (R->nranks < 1 || R->nranks > TERN_COMM_MAX_RANKS || R->steps < 1 || R->steps > 1000) {
		fprintf(stderr, "dp_train: --ranks 1..%u and -n 1..1000\n", TERN_COMM_MAX_RANKS);
		return 2;
	}
	return 0;
}

static int alloc_host(struct run *R)
{
	unsigned int gb = R->nranks * BATCH;
	bool ok;

	R->x = malloc(gb * D_IN * sizeof(float));
	R->t = malloc(gb * D_OUT * sizeof(float));
	R->init = malloc(NPARAM * sizeof(float));
	R->before = malloc(NPARAM * sizeof(float));
	R->after = malloc(NPARAM * sizeof(float));
	R->loss_dev = calloc(R->steps, sizeof(double));
	R->grad = calloc(R->nranks, sizeof(float *));
	R->reduced = calloc(R->nranks, sizeof(float *));
	R->expect = calloc(R->nranks, sizeof(float *));
	ok = R->x && R->t && R->init && R->before && R->after && R->loss_dev && R->grad &&
	     R->reduced && R->expect;
	for (unsigned int i = 0; ok && i < R->nranks; i++) {
		R->grad[i] = malloc(NPARAM * sizeof(float));
		R->reduced[i] = malloc(NPARAM * sizeof(float));
		R->expect[i] = malloc(NPARAM * sizeof(float));
		ok = R->grad[i] && R->reduced[i] && R->expect[i];
	}
	return ok ? 0 : fail("out of memory", -ENOMEM);
}

static void cleanup(struct run *R)
{
	tern_comm_destroy(R->comm);
	for (unsigned int i = 0; i < R->nranks; i++) {
		struct rank *rk = &R->r[i];

		tern_kernel_free(rk->kstep);
		tern_kernel_free(rk->kupdate);
		tern_buffer_free(rk->stage);
		for (unsigned int s = 0; s < NSLOTS; s++)
			tern_buffer_free(rk->slot[s]);
		tern_device_close(rk->dev);
		if (R->grad)
			free(R->grad[i]);
		if (R->reduced)
			free(R->reduced[i]);
		if (R->expect)
			free(R->expect[i]);
	}
	free(R->grad);
	free(R->reduced);
	free(R->expect);
	free(R->x);
	free(R->t);
	free(R->init);
	free(R->before);
	free(R->after);
	free(R->loss_dev);
}

int main(int argc, char **argv)
{
	static struct run R;
	static struct cpu cpu;
	double t0 = now_s(), loss_cpu, worst_loss = 0, worst_w = 0;
	bool all_ok = true, ok;
	int rc = 1;

	rc = parse(argc, argv, &R);
	if (rc)
		return rc;
	rc = 1;
	if (alloc_host(&R) || open_ranks(&R) || init_data(&R) ||
	    load_everywhere(&R, true, "the step program") ||
	    load_everywhere(&R, false, "the update program"))
		goto out;
	printf("dp_train: %u ranks (devices %u..%u, chips", R.nranks, R.first,
	       R.first + R.nranks - 1);
	for (unsigned int i = 0; i < R.nranks; i++)
		printf(" %u", R.r[i].chip);
	printf("), batch %u per rank (%u in all), %u -> %u (relu) -> %u, MSE, SGD lr %g, "
	       "%u steps\n", BATCH, R.nranks * BATCH, D_IN, D_HID, D_OUT, (double)LR, R.steps);

	memcpy(R.before, R.init, NPARAM * sizeof(float));
	for (unsigned int s = 0; s < R.steps; s++) {
		if (device_step(&R, s, &ok))
			goto out;
		all_ok = all_ok && ok;
	}

	/* (d) the CPU reference training */
	for (unsigned int i = 0; i < NPARAM; i++)
		cpu.p[i] = R.init[i];
	printf("  loss per step, chips against the CPU (double):\n");
	for (unsigned int s = 0; s < R.steps; s++) {
		double rel;

		loss_cpu = cpu_step(&cpu, R.x, R.t, R.nranks * BATCH);
		rel = fabs(R.loss_dev[s] - loss_cpu) / fmax(fabs(loss_cpu), 1e-30);
		worst_loss = isnan(rel) ? INFINITY : fmax(worst_loss, rel);
		printf("    step %u: chips %.9f  cpu %.9f  (relative difference %.2g)\n", s + 1,
		       R.loss_dev[s], loss_cpu, rel);
	}
	for (unsigned int i = 0; i < NPARAM; i++) {
		double d = fabs((double)R.before[i] - cpu.p[i]);

		worst_w = isnan(d) ? INFINITY : fmax(worst_w, d);
	}
	ok = worst_loss <= LOSS_TOL && worst_w <= WEIGHT_TOL;
	printf("  after %u steps: loss relative difference %.2g (tolerance %g), max |w_chips - "
	       "w_cpu| %.2g (tolerance %g)\n", R.steps, worst_loss, LOSS_TOL, worst_w, WEIGHT_TOL);
	all_ok = all_ok && ok;
	printf("dp_train: %u ranks, %u steps, %.1f s: %s\n", R.nranks, R.steps, now_s() - t0,
	       all_ok ? "PASS" : "FAIL");
	rc = all_ok ? 0 : 1;
out:
	cleanup(&R);
	return rc;
}
