// SPDX-License-Identifier: MIT
/*
 * Ops as data (struct tern_op of tern_ops.h, lib/op_run.c and lib/ref.c)
 * on the device model's compute core: matmul, the binary ops, bias,
 * activations and softmax emitted with tern_op_emit() from random inputs
 * in [-1, 1) of every dtype and odd shapes, checked against
 * tern_op_reference() within tern_op_tolerance(). Then that the tolerance
 * is tight enough to catch a wrong result, that the references' activations
 * are the core's, and every operation the checks refuse.
 */
#include "ops_test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_int.h"
#include "tern_kernels.h"

static const unsigned int all_dts[] = {
	TERN_DT_FP32, TERN_DT_BF16, TERN_DT_FP16, TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2,
};
#define NDTS	(sizeof(all_dts) / sizeof(all_dts[0]))

/*
 * A rows x cols tensor in a new slot (rows padded by @pad elements), the
 * whole slot filled with values uniform in [lo, hi) of its dtype; with
 * @away, values nearer 0 than 1/2 are pushed to +-1/2 (divisors, and the
 * activations defined away from 0).
 */
static struct tern_tensor tensor(struct env *e, unsigned int slot, unsigned int dtype,
				 uint64_t rows, uint64_t cols, int64_t pad, float lo, float hi,
				 bool away)
{
	struct tern_tensor t = tern_tensor_2d(slot, dtype, rows, cols);
	unsigned int es = tern_dtype_size(dtype);
	uint64_t size;
	uint8_t *p;

	t.row_stride += pad;
	size = tern_tensor_span(&t);
	p = env_slot(e, slot, size);
	for (uint64_t i = 0; i < size / es; i++) {
		float v = rng_uniform(lo, hi);

		if (away && fabsf(v) < 0.5f)
			v = v < 0 ? -0.5f : 0.5f;
		tern_value_set(dtype, p + i * es, v);
	}
	return t;
}

/* The slots of the env as host memory, for tern_op_reference(). */
struct host {
	void *s[TERN_MAX_SLOTS];
	uint64_t size[TERN_MAX_SLOTS];
	unsigned int n;
};

static void host_view(struct env *e, struct host *h)
{
	h->n = e->nslots;
	for (unsigned int i = 0; i < h->n; i++) {
		h->s[i] = e->hbm + e->slots[i].offset;
		h->size[i] = e->slots[i].size;
	}
}

static bool host_copy(struct env *e, struct host *h)
{
	h->n = e->nslots;
	for (unsigned int i = 0; i < h->n; i++) {
		h->size[i] = e->slots[i].size;
		h->s[i] = malloc(h->size[i] ? h->size[i] : 1);
		if (!h->s[i])
			return false;
		memcpy(h->s[i], e->hbm + e->slots[i].offset, h->size[i]);
	}
	return true;
}

static void host_free(struct host *h)
{
	for (unsigned int i = 0; i < h->n; i++)
		free(h->s[i]);
}

/* Largest |device - reference| over the output; NaN if either has a NaN. */
static double max_error(const struct tern_op *op, struct host *dev, struct host *ref)
{
	const struct tern_tensor *o = &op->out;
	double worst = 0;

	for (uint64_t r = 0; r < o->rows; r++) {
		for (uint64_t c = 0; c < o->cols; c++) {
			double d = fabs(ref_get(dev->s, o, r, c) - ref_get(ref->s, o, r, c));

			if (!(d <= worst))
				worst = d;
		}
	}
	return worst;
}

/*
 * Runs @op on the core (emitted by tern_op_emit()), computes the reference
 * on the inputs as they were, and checks the error against the tolerance.
 * *@ref receives the reference's slots (free them with host_free()).
 */
static bool run_op(struct env *e, const struct tern_op *op, const char *what, struct host *ref)
{
	struct tern_program *p;
	struct host dev;
	double tol, err;
	bool ok;

	if (!host_copy(e, ref))
		return false;
	CHECK_OK(tern_op_reference(op, ref->s, ref->size, ref->n));
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_emit(p, op));
	ok = env_run(e, p, what);
	tern_prog_free(p);
	CHECK(ok);
	host_view(e, &dev);
	tol = tern_op_tolerance(op);
	err = max_error(op, &dev, ref);
	printf("# %s: max error %.3g, tolerance %.3g\n", what, err, tol);
	CHECK(tol >= 0);
	CHECK(err <= tol);
	return true;
}

static struct tern_op op_of(unsigned int kind, unsigned int func, const struct tern_tensor *out,
			    const struct tern_tensor *a, const struct tern_tensor *b)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	op.func = func;
	op.nin = b ? 2 : 1;
	op.out = *out;
	op.in[0] = *a;
	if (b)
		op.in[1] = *b;
	return op;
}

/* ---- the ops against their references ---- */

static bool t_matmul(struct env *e)
{
	static const uint64_t shapes[][3] = {
		{ 1, 1, 1 }, { 7, 1, 5 }, { 33, 130, 17 }, { 129, 64, 600 }, { 20, 300, 40 },
	};
	char what[96];

	for (unsigned int s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (unsigned int d = 0; d < NDTS; d++) {
			uint64_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
			unsigned int din = all_dts[d], dout = all_dts[(d + s) % NDTS];
			struct tern_tensor a, b, c;
			struct tern_op op;
			struct host ref;
			bool ok;

			env_reset(e);
			a = tensor(e, 0, din, m, k, s & 1, -1, 1, false);
			b = tensor(e, 1, din, k, n, 0, -1, 1, false);
			c = tensor(e, 2, dout, m, n, 2, -1, 1, false);
			op = op_of(TERN_OPKIND_MATMUL, 0, &c, &a, &b);
			snprintf(what, sizeof(what), "matmul %llux%llux%llu %s -> %s",
				 (unsigned long long)m, (unsigned long long)k,
				 (unsigned long long)n, dt_name(din), dt_name(dout));
			ok = run_op(e, &op, what, &ref);
			host_free(&ref);
			CHECK(ok);
		}
	}
	return true;
}

static bool t_binary(struct env *e)
{
	char what[96];

	for (unsigned int alu = 0; alu < TERN_ALU_COUNT; alu++) {
		for (unsigned int d = 0; d < NDTS; d++) {
			unsigned int da = all_dts[d], db = all_dts[(d + alu) % NDTS];
			unsigned int dout = all_dts[(d + 2 * alu + 1) % NDTS];
			struct tern_tensor a, b, o;
			struct tern_op op;
			struct host ref;
			bool ok;

			env_reset(e);
			a = tensor(e, 0, da, 70, 45, 1, -1, 1, false);
			b = tensor(e, 1, db, 70, 45, 0, -1, 1, alu == TERN_ALU_DIV);
			o = tensor(e, 2, dout, 70, 45, 0, -1, 1, false);
			op = op_of(TERN_OPKIND_BINARY, alu, &o, &a, &b);
			snprintf(what, sizeof(what), "binary alu %u %s, %s -> %s", alu, dt_name(da),
				 dt_name(db), dt_name(dout));
			ok = run_op(e, &op, what, &ref);
			host_free(&ref);
			CHECK(ok);
		}
	}
	return true;
}

/* Functions defined (or bounded) away from 0 get inputs of magnitude >= 1/2. */
static bool away_from_zero(unsigned int func)
{
	return func == TERN_ACT_LOG || func == TERN_ACT_SQRT || func == TERN_ACT_RSQRT ||
	       func == TERN_ACT_RECIPROCAL;
}

static bool t_activation(struct env *e)
{
	char what[96];

	for (unsigned int f = 0; f < TERN_ACT_COUNT; f++) {
		for (unsigned int d = 0; d < NDTS; d++) {
			unsigned int din = all_dts[d], dout = all_dts[(d + f) % NDTS];
			bool pos = f == TERN_ACT_LOG || f == TERN_ACT_SQRT || f == TERN_ACT_RSQRT;
			struct tern_tensor x, o;
			struct tern_op op;
			struct host ref;
			bool ok;

			env_reset(e);
			x = tensor(e, 0, din, 131, 9, 0, pos ? 0.5f : -1, 1, away_from_zero(f));
			o = tensor(e, 1, dout, 131, 9, 3, -1, 1, false);
			op = op_of(TERN_OPKIND_ACTIVATION, f, &o, &x, NULL);
			snprintf(what, sizeof(what), "activation %u %s -> %s", f, dt_name(din),
				 dt_name(dout));
			ok = run_op(e, &op, what, &ref);
			host_free(&ref);
			CHECK(ok);
		}
	}
	return true;
}

static bool t_bias(struct env *e)
{
	static const unsigned int funcs[] = {
		TERN_ACT_IDENTITY, TERN_ACT_RELU, TERN_ACT_GELU, TERN_ACT_GELU_TANH,
		TERN_ACT_SILU, TERN_ACT_SIGMOID, TERN_ACT_TANH, TERN_ACT_EXP,
	};
	char what[96];

	for (unsigned int f = 0; f < sizeof(funcs) / sizeof(funcs[0]); f++) {
		for (unsigned int d = 0; d < NDTS; d++) {
			unsigned int dx = all_dts[d], db = all_dts[(d + 1) % NDTS];
			unsigned int dout = all_dts[(d + f) % NDTS];
			struct tern_tensor x, b, o;
			struct tern_op op;
			struct host ref;
			bool ok;

			env_reset(e);
			x = tensor(e, 0, dx, 140, 37, 0, -1, 1, false);
			b = tensor(e, 1, db, 1, 37, 0, -1, 1, false);
			o = tensor(e, 2, dout, 140, 37, 0, -1, 1, false);
			op = op_of(TERN_OPKIND_BIAS, funcs[f], &o, &x, &b);
			snprintf(what, sizeof(what), "bias act %u %s + %s -> %s", funcs[f],
				 dt_name(dx), dt_name(db), dt_name(dout));
			ok = run_op(e, &op, what, &ref);
			host_free(&ref);
			CHECK(ok);
		}
	}
	return true;
}

static bool t_softmax(struct env *e)
{
	static const uint64_t shapes[][2] = { { 1, 1 }, { 3, 2 }, { 130, 77 }, { 40, 1000 } };
	char what[96];

	for (unsigned int s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (unsigned int d = 0; d < NDTS; d++) {
			unsigned int din = all_dts[d], dout = all_dts[(d + s) % NDTS];
			struct tern_tensor x, o;
			struct tern_op op;
			struct host ref;
			bool ok;

			env_reset(e);
			x = tensor(e, 0, din, shapes[s][0], shapes[s][1], 2, -1, 1, false);
			o = tensor(e, 1, dout, shapes[s][0], shapes[s][1], 0, -1, 1, false);
			op = op_of(TERN_OPKIND_SOFTMAX, 0, &o, &x, NULL);
			snprintf(what, sizeof(what), "softmax %llux%llu %s -> %s",
				 (unsigned long long)shapes[s][0], (unsigned long long)shapes[s][1],
				 dt_name(din), dt_name(dout));
			ok = run_op(e, &op, what, &ref);
			host_free(&ref);
			CHECK(ok);
		}
	}
	return true;
}

/* out = a + out, in place: the reference reads every input before it writes. */
static bool t_in_place(struct env *e)
{
	struct tern_tensor a = tensor(e, 0, TERN_DT_BF16, 50, 60, 0, -1, 1, false);
	struct tern_tensor o = tensor(e, 1, TERN_DT_BF16, 50, 60, 0, -1, 1, false);
	struct tern_op op = op_of(TERN_OPKIND_BINARY, TERN_ALU_SUB, &o, &a, &o);
	struct host ref;
	bool ok = run_op(e, &op, "binary sub, out = a - out", &ref);

	host_free(&ref);
	return ok;
}

/* ---- the tolerance catches wrong results ---- */

/*
 * The device's result against a reference computed from inputs that
 * differ in one element by @delta: the error must exceed the tolerance.
 */
static bool wrong_input_caught(struct env *e, struct tern_op *op, unsigned int input,
			       uint64_t r, uint64_t c, double delta, const char *what)
{
	struct tern_program *p;
	struct host dev, ref;
	double tol, err;
	bool ok;

	CHECK(host_copy(e, &ref));
	ref_set(ref.s, &op->in[input], r, c, ref_get(ref.s, &op->in[input], r, c) + delta);
	CHECK_OK(tern_op_reference(op, ref.s, ref.size, ref.n));
	CHECK_OK(tern_prog_create(e->sbuf_size, &p));
	CHECK_OK(tern_op_emit(p, op));
	ok = env_run(e, p, what);
	tern_prog_free(p);
	CHECK(ok);
	host_view(e, &dev);
	tol = tern_op_tolerance(op);
	err = max_error(op, &dev, &ref);
	host_free(&ref);
	printf("# %s: input (%llu, %llu) off by %g: error %.3g, tolerance %.3g\n", what,
	       (unsigned long long)r, (unsigned long long)c, delta, err, tol);
	CHECK(err > tol);
	return true;
}

static bool t_wrong_results_fail(struct env *e)
{
	struct tern_tensor a, b, c, x, o;
	struct tern_op op;
	struct host ref;
	bool ok;

	/* matmul: one product term of 64 missing or doubled is too much */
	for (unsigned int d = 0; d < 2; d++) {
		unsigned int dt = d ? TERN_DT_BF16 : TERN_DT_FP32;

		env_reset(e);
		a = tensor(e, 0, dt, 96, 64, 0, -1, 1, false);
		b = tensor(e, 1, dt, 64, 80, 0, -1, 1, false);
		c = tensor(e, 2, dt, 96, 80, 0, -1, 1, false);
		ref_set((void *[]){ e->hbm + e->slots[0].offset }, &a, 5, 7, 0.75);
		op = op_of(TERN_OPKIND_MATMUL, 0, &c, &a, &b);
		CHECK(wrong_input_caught(e, &op, 0, 5, 7, -0.75, "matmul, a[5][7] dropped"));
	}
	/* softmax: one input of a 300-wide row off by 0.05 */
	env_reset(e);
	x = tensor(e, 0, TERN_DT_BF16, 20, 300, 0, -1, 1, false);
	o = tensor(e, 1, TERN_DT_BF16, 20, 300, 0, -1, 1, false);
	op = op_of(TERN_OPKIND_SOFTMAX, 0, &o, &x, NULL);
	CHECK(wrong_input_caught(e, &op, 0, 3, 100, 0.0625, "softmax bf16"));
	/* gelu: one input off by a sixteenth */
	env_reset(e);
	x = tensor(e, 0, TERN_DT_FP32, 20, 30, 0, -1, 1, false);
	o = tensor(e, 1, TERN_DT_FP32, 20, 30, 0, -1, 1, false);
	op = op_of(TERN_OPKIND_ACTIVATION, TERN_ACT_GELU, &o, &x, NULL);
	CHECK(wrong_input_caught(e, &op, 0, 0, 0, 0.0625, "gelu fp32"));

	/* a flipped output element fails the comparison */
	env_reset(e);
	a = tensor(e, 0, TERN_DT_BF16, 64, 128, 0, -1, 1, false);
	b = tensor(e, 1, TERN_DT_BF16, 128, 64, 0, -1, 1, false);
	c = tensor(e, 2, TERN_DT_BF16, 64, 64, 0, -1, 1, false);
	op = op_of(TERN_OPKIND_MATMUL, 0, &c, &a, &b);
	ok = run_op(e, &op, "matmul bf16 before a flip", &ref);
	if (ok) {
		struct host dev;
		double v;

		host_view(e, &dev);
		v = ref_get(dev.s, &c, 10, 20);
		ref_set(dev.s, &c, 10, 20, -v);
		printf("# element (10, 20) %g flipped: error %.3g, tolerance %.3g\n", v,
		       max_error(&op, &dev, &ref), tern_op_tolerance(&op));
		ok = max_error(&op, &dev, &ref) > tern_op_tolerance(&op) || fabs(v) < 0.05;
	}
	host_free(&ref);
	CHECK(ok);
	return true;
}

static bool t_tolerance_shape(struct env *e)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, 16, 16);
	struct tern_tensor b = tern_tensor_2d(1, TERN_DT_FP32, 16, 16);
	struct tern_tensor c = tern_tensor_2d(2, TERN_DT_FP32, 16, 16);
	struct tern_op op = op_of(TERN_OPKIND_MATMUL, 0, &c, &a, &b);
	double small, big, narrow;

	(void)e;
	small = tern_op_tolerance(&op);
	op.in[0].cols = op.in[1].rows = 4096;
	big = tern_op_tolerance(&op);
	op.out.dtype = TERN_DT_BF16;
	narrow = tern_op_tolerance(&op);
	printf("# matmul tolerance: K 16 %.3g, K 4096 %.3g, K 4096 to bf16 %.3g\n", small, big,
	       narrow);
	CHECK(small > 0 && small < 1e-4);
	CHECK(big > small);
	CHECK(narrow > big);
	op.kind = 0;
	CHECK(tern_op_tolerance(&op) < 0);
	CHECK(tern_op_tolerance(NULL) < 0);
	return true;
}

/* ---- the references' activations are the core's ---- */

static bool t_ref_act_is_the_isa(struct env *e)
{
	enum { N = 4096 };
	static float x[N], got[N];

	(void)e;
	for (unsigned int f = 0; f < TERN_ACT_COUNT; f++) {
		double worst = 0;

		for (unsigned int i = 0; i < N; i++)
			x[i] = -8.0f + 16.0f * (float)i / N;
		x[0] = INFINITY;
		x[1] = -INFINITY;
		x[2] = 0.0f;
		tk_activate(got, x, N, f, 1.0f, 0.0f);
		for (unsigned int i = 0; i < N; i++) {
			double want = ref_act(f, x[i]);
			double err = fabs(got[i] - want) / fmax(fabs(want), 1);

			if (isnan(want) != isnan(got[i]) || (isinf(want) && want != got[i])) {
				printf("#   function %u at %g: core %g, reference %g\n", f,
				       (double)x[i], (double)got[i], want);
				return false;
			}
			if (isfinite(want) && err > worst)
				worst = err;
		}
		/* the core's fp32 math library: a few ulp (of 1, near 0) */
		printf("# function %u: largest difference %.3g\n", f, worst);
		CHECK(worst < 1e-5);
	}
	return true;
}

/* ---- refused operations ---- */

/* A valid bias op in slots 0..2 over host memory of 4 KiB each. */
static struct tern_op valid_bias(void)
{
	struct tern_tensor x = tern_tensor_2d(0, TERN_DT_FP32, 8, 16);
	struct tern_tensor b = tern_tensor_2d(1, TERN_DT_FP32, 1, 16);
	struct tern_tensor o = tern_tensor_2d(2, TERN_DT_FP32, 8, 16);

	return op_of(TERN_OPKIND_BIAS, TERN_ACT_RELU, &o, &x, &b);
}

/* Mutation @i of a valid bias op into one the checks refuse; NULL past the last. */
static const char *refuse(struct tern_op *o, unsigned int i)
{
	const struct tern_tensor x = o->in[0];

	switch (i) {
	case 0: o->kind = 0; return "kind 0";
	case 1: o->kind = TERN_OPKIND_COUNT; return "kind past the last";
	case 2: o->nin = 1; return "too few inputs";
	case 3: o->nin = 3; return "too many inputs";
	case 4: o->pad = 1; return "pad not zero";
	case 5: o->in[2].rows = 1; return "an unused input not zero";
	case 6: o->func = TERN_ACT_COUNT; return "func not an activation";
	case 7: o->eps = 1e-5f; return "eps not zero";
	case 8: o->scale = 1.0f; return "scale not zero";
	case 9: o->eps = -0.0f; return "eps negative zero";
	case 10: o->in[0].dtype = 9; return "bad dtype";
	case 11: o->out.slot = TERN_MAX_SLOTS; return "bad slot";
	case 12: o->in[0].rows = 0; return "empty tensor";
	case 13: o->in[0].cols = 15; return "x's shape";
	case 14: o->in[1].rows = 2; return "bias not one row";
	case 15: o->in[1].cols = 17; return "bias's width";
	case 16: o->in[0].offset = 2; return "misaligned offset";
	case 17: o->in[0].row_stride = -16; return "tensor before byte 0";
	case 18:
		o->kind = TERN_OPKIND_MATMUL;
		o->func = 0;
		o->in[1] = tern_tensor_2d(1, TERN_DT_FP32, 8, 16);
		return "matmul K differs";
	case 19:
		o->kind = TERN_OPKIND_BINARY;
		o->func = TERN_ALU_COUNT;
		o->in[1] = x;
		o->in[1].slot = 1;
		return "binary func";
	case 20:
		o->kind = TERN_OPKIND_SOFTMAX;
		o->nin = 1;
		memset(&o->in[1], 0, sizeof(o->in[1]));
		return "softmax with a func";
	case 21:
	case 22:
		o->kind = TERN_OPKIND_LAYERNORM;
		o->func = 0;
		o->nin = 1;
		memset(&o->in[1], 0, sizeof(o->in[1]));
		o->eps = i == 21 ? -1.0f : NAN;
		return i == 21 ? "layernorm eps < 0" : "layernorm eps NaN";
	case 23:
		o->kind = TERN_OPKIND_ATTENTION;
		o->func = 2;
		o->nin = 3;
		o->in[1] = x;
		o->in[2] = x;
		return "attention flags";
	case 24:
		o->kind = TERN_OPKIND_TRANSPOSE;
		o->func = 0;
		o->nin = 1;
		memset(&o->in[1], 0, sizeof(o->in[1]));
		return "transpose of the wrong shape";
	}
	return NULL;
}

static bool t_refused(struct env *e)
{
	static uint8_t mem[3][4096];
	void *slots[3] = { mem[0], mem[1], mem[2] };
	uint64_t sizes[3] = { 4096, 4096, 4096 };
	struct tern_program *p;
	struct tern_op ok_op = valid_bias(), op;
	const char *what;

	(void)e;
	/* the valid op passes everything */
	CHECK_OK(tern_op_reference(&ok_op, slots, sizes, 3));
	CHECK(tern_op_tolerance(&ok_op) >= 0);
	for (unsigned int i = 0; op = ok_op, (what = refuse(&op, i)); i++) {
		memset(mem[2], 0x5a, sizeof(mem[2]));
		CHECK_OK(tern_prog_create(0, &p));
		if (tern_op_emit(p, &op) != -EINVAL ||
		    tern_prog_count(p, TERN_ENGINE_DMA) != 0 ||
		    tern_op_reference(&op, slots, sizes, 3) != -EINVAL ||
		    tern_op_tolerance(&op) >= 0) {
			printf("#   %s: not refused (%s)\n", what, tern_last_error());
			tern_prog_free(p);
			return false;
		}
		printf("# %s: %s\n", what, tern_last_error());
		tern_prog_free(p);
		for (unsigned int b = 0; b < sizeof(mem[2]); b++)
			CHECK_EQ(mem[2][b], 0x5a);
	}

	/* slots the reference cannot use */
	CHECK_RET(tern_op_reference(&ok_op, slots, sizes, 2), -EINVAL);
	sizes[0] = 8 * 16 * 4 - 1;
	CHECK_RET(tern_op_reference(&ok_op, slots, sizes, 3), -EINVAL);
	sizes[0] = 4096;
	slots[1] = NULL;
	CHECK_RET(tern_op_reference(&ok_op, slots, sizes, 3), -EINVAL);
	slots[1] = mem[1];
	CHECK_RET(tern_op_reference(NULL, slots, sizes, 3), -EINVAL);
	CHECK_RET(tern_op_reference(&ok_op, NULL, sizes, 3), -EINVAL);
	CHECK_RET(tern_op_reference(&ok_op, slots, NULL, 3), -EINVAL);
	CHECK_RET(tern_op_emit(NULL, &ok_op), -EINVAL);
	CHECK_OK(tern_prog_create(0, &p));
	CHECK_RET(tern_op_emit(p, NULL), -EINVAL);
	tern_prog_free(p);
	CHECK(tern_op_name(0) == NULL);
	CHECK(tern_op_name(TERN_OPKIND_COUNT) == NULL);
	CHECK(!strcmp(tern_op_name(TERN_OPKIND_SOFTMAX), "softmax"));
	return true;
}

static const struct test_case cases[] = {
	{ "matmul as data, every dtype", t_matmul, 0 },
	{ "binary ops as data, every dtype", t_binary, 0 },
	{ "activations as data, every dtype", t_activation, 0 },
	{ "bias as data, every dtype", t_bias, 0 },
	{ "softmax as data, every dtype", t_softmax, 0 },
	{ "elementwise in place", t_in_place, 0 },
	{ "wrong results exceed the tolerance", t_wrong_results_fail, 0 },
	{ "the tolerance grows with K and narrower outputs", t_tolerance_shape, 0 },
	{ "reference activations are the core's", t_ref_act_is_the_isa, 0 },
	{ "refused operations change nothing", t_refused, 0 },
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
