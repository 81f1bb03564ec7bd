/* SPDX-License-Identifier: MIT */
/*
 * tern_ops_test.h: what the op kselftests share (tern_ops, the numerics of
 * every op; tern_badprog, programs that fault): the run's seed and random
 * numbers, names for messages, cases (one op, its buffers and value
 * ranges), and a runner that puts a case on a core with tern_op_run() and
 * checks every output element against tern_op_reference() and every other
 * byte against what it was.
 *
 * Shapes and data come from a seed that every test prints; TERN_SEED=<n>
 * repeats a run. TERN_OPS_VERBOSE=1 prints every case.
 */
#ifndef TERN_OPS_TEST_H
#define TERN_OPS_TEST_H

#include <math.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define DEFAULT_SEED	0x7465726e6f707331ull	/* "ternops1" */
#define MAX_SLOTS	4
#define GUARD		64	/* bytes before a tensor, at least */
#define TEST_SECS	300	/* per test; they take a few seconds each */

/* ---- random numbers: splitmix64 ---- */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in lo..hi, both included. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static inline uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

/* The run's seed: TERN_SEED, else a fixed one. */
static inline uint64_t base_seed(void)
{
	const char *s = getenv("TERN_SEED");

	return s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline bool verbose(void)
{
	const char *s = getenv("TERN_OPS_VERBOSE");

	return s && *s && *s != '0';
}

/* ---- names for messages ---- */

static inline const char *dtype_name(unsigned int dt)
{
	static const char *const n[TERN_DT_COUNT] = {
		[TERN_DT_FP32] = "fp32", [TERN_DT_BF16] = "bf16", [TERN_DT_FP16] = "fp16",
		[TERN_DT_FP8_E4M3] = "fp8_e4m3", [TERN_DT_FP8_E5M2] = "fp8_e5m2",
	};

	return dt < TERN_DT_COUNT && n[dt] ? n[dt] : "?";
}

static inline const char *act_name(unsigned int f)
{
	static const char *const n[TERN_ACT_COUNT] = {
		"identity", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "exp",
		"log", "sqrt", "rsqrt", "reciprocal",
	};

	return f < TERN_ACT_COUNT ? n[f] : "?";
}

static inline const char *alu_name(unsigned int a)
{
	static const char *const n[TERN_ALU_COUNT] = { "add", "sub", "mul", "div", "max", "min" };

	return a < TERN_ALU_COUNT ? n[a] : "?";
}

/* "12x300 bf16 @slot1+68 rs 311 cs 1" */
static inline const char *tensor_desc(char *buf, size_t len, const struct tern_tensor *t)
{
	snprintf(buf, len, "%llux%llu %s @slot%u+%llu rs %lld cs %lld",
		 (unsigned long long)t->rows, (unsigned long long)t->cols, dtype_name(t->dtype),
		 t->slot, (unsigned long long)t->offset, (long long)t->row_stride,
		 (long long)t->col_stride);
	return buf;
}

/* "binary div: out 7x255 fp32 @slot0+64 rs 255 cs 1, in0 ...", for messages. */
static inline void op_desc(char *buf, size_t len, const struct tern_op *op)
{
	const char *name = tern_op_name(op->kind);
	char ts[4][96];
	int n;

	name = name ? name : "?";
	switch (op->kind) {
	case TERN_OPKIND_BINARY:
		n = snprintf(buf, len, "%s %s", name, alu_name(op->func));
		break;
	case TERN_OPKIND_BIAS:
	case TERN_OPKIND_ACTIVATION:
	case TERN_OPKIND_ACT_GRAD:
		n = snprintf(buf, len, "%s %s", name, act_name(op->func));
		break;
	case TERN_OPKIND_AXPY:
	case TERN_OPKIND_MSE_GRAD:
		n = snprintf(buf, len, "%s scale %g", name, op->scale);
		break;
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		n = snprintf(buf, len, "%s eps %g", name, op->eps);
		break;
	case TERN_OPKIND_ATTENTION:
		n = snprintf(buf, len, "%s%s scale %g", name,
			     op->func & TERN_ATTN_CAUSAL ? " causal" : "", op->scale);
		break;
	default:
		n = snprintf(buf, len, "%s", name);
	}
	snprintf(buf + n, len - n, ": out %s%s%s%s%s%s%s", tensor_desc(ts[0], 96, &op->out),
		 op->nin > 0 ? ", in0 " : "", op->nin > 0 ? tensor_desc(ts[1], 96, &op->in[0]) : "",
		 op->nin > 1 ? ", in1 " : "", op->nin > 1 ? tensor_desc(ts[2], 96, &op->in[1]) : "",
		 op->nin > 2 ? ", in2 " : "", op->nin > 2 ? tensor_desc(ts[3], 96, &op->in[2]) : "");
}

/* ---- cases: one operation, its buffers and input value ranges ---- */

/* Input values are drawn from [lo, hi], or from +-[lo, hi] with both_signs. */
struct dom {
	float lo, hi;
	bool both_signs;
};

#define DOM_UNIT	((struct dom){ -1.0f, 1.0f, false })

struct ocase {
	struct tern_op op;
	unsigned int nslots;
	uint64_t size[MAX_SLOTS];	/* bytes of each slot's buffer */
	struct dom dom[3];		/* of op.in[i] */
};

/* How a tensor sits in its buffer. */
enum layout {
	DENSE,		/* row-major */
	SLICE,		/* a column slice of a wider row-major tensor */
	TRANSPOSED,	/* a transposed view: stored column-major */
	REVERSED,	/* rows in reverse order: a negative row stride */
	BROADCAST,	/* one row repeated: a zero row stride (inputs only) */
};

static inline void case_init(struct ocase *c, unsigned int kind, unsigned int func,
			     unsigned int nin)
{
	memset(c, 0, sizeof(*c));
	c->op.kind = kind;
	c->op.func = func;
	c->op.nin = nin;
	for (unsigned int i = 0; i < 3; i++)
		c->dom[i] = DOM_UNIT;
}

/*
 * A rows x cols tensor alone in buffer slot @slot of @c, after at least
 * GUARD bytes and before a few more, laid out as @l.
 */
static inline struct tern_tensor place(struct ocase *c, struct rng *r, uint32_t slot,
				       uint32_t dtype, uint64_t rows, uint64_t cols,
				       enum layout l)
{
	struct tern_tensor t = tern_tensor_2d(slot, dtype, rows, cols);
	unsigned int es = tern_dtype_size(dtype);
	uint64_t pad = rng_range(r, 1, 37);

	t.offset = GUARD + rng_range(r, 0, 15) * es;
	if (l == SLICE) {
		t.row_stride = (int64_t)(cols + pad);
		t.offset += rng_range(r, 0, pad) * es;
	} else if (l == TRANSPOSED) {
		t.row_stride = 1;
		t.col_stride = (int64_t)(rows + pad);
		t.offset += rng_range(r, 0, pad) * es;
	} else if (l == REVERSED) {
		t.row_stride = -(int64_t)(cols + pad);
		t.offset += (rows - 1) * (cols + pad) * es;
	} else if (l == BROADCAST) {
		t.row_stride = 0;
	}
	c->size[slot] = tern_tensor_span(&t) + rng_range(r, 1, 3 * GUARD);
	if (slot + 1 > c->nslots)
		c->nslots = slot + 1;
	return t;
}

/* Byte offset of element (i, j) of a valid tensor. */
static inline uint64_t elem_off(const struct tern_tensor *t, uint64_t i, uint64_t j)
{
	int64_t e = (int64_t)i * t->row_stride + (int64_t)j * t->col_stride;

	return t->offset + (uint64_t)(e * (int64_t)tern_dtype_size(t->dtype));
}

/* An input value from @d, before rounding to the tensor's dtype. */
static inline float draw(struct rng *r, struct dom d)
{
	float v = d.lo + (d.hi - d.lo) * (float)rng_unit(r);

	return d.both_signs && (rng_next(r) & 1) ? -v : v;
}

/* ---- a runner: one device, its cores, the cases of one test ---- */

struct runner {
	struct tern_device *dev;
	unsigned int index;		/* of the device */
	unsigned int ncores;
	uint32_t sbuf_size;
	const char *label;
	uint64_t seed;
	struct rng rng;
	unsigned int next_core;
	unsigned int cases, failures;
	double worst;			/* largest error / tolerance */
	uint64_t modeled_ns, device_ns;
	double t0;
};

/* Opens device @index for the cases of test @label, seeded from the run's seed. */
static inline void runner_open(struct __test_metadata *_metadata, struct runner *rn,
			       unsigned int index, const char *label)
{
	struct tern_device_info info;
	struct drm_tern_info hw;
	int ret;

	memset(rn, 0, sizeof(*rn));
	rn->t0 = now_s();
	rn->index = index;
	rn->label = label;
	rn->seed = base_seed();
	rn->rng.s = rn->seed ^ hash_str(label);
	ret = tern_device_open(index, &rn->dev);
	ASSERT_EQ(0, ret) TH_LOG("tern_device_open(%u): %s", index, tern_last_error());
	ASSERT_EQ(0, tern_device_info(rn->dev, &info)) TH_LOG("%s", tern_last_error());
	ASSERT_LE(1, info.num_cores);
	ASSERT_EQ(0, tern_get_info(tern_device_fd(rn->dev), &hw));
	rn->ncores = info.num_cores;
	rn->sbuf_size = hw.sbuf_size;
	/* Start each test on another core, so that every core sees every op. */
	rn->next_core = (unsigned int)(hash_str(label) % rn->ncores);
	fprintf(stderr, "# %s: device %u (%u cores), seed %#llx (TERN_SEED=%#llx repeats it)\n",
		label, index, rn->ncores, (unsigned long long)rn->seed,
		(unsigned long long)rn->seed);
}

/* Prints the test's summary (cases, worst error, times) and closes the device. */
static inline void runner_close(struct runner *rn)
{
	if (!rn->dev)
		return;
	fprintf(stderr, "# %s: %u cases, %u failed, worst error %.3f of the tolerance; "
		"%.3f ms modeled on the chip, %.3f s in the model, %.2f s in all\n", rn->label,
		rn->cases, rn->failures, rn->worst, rn->modeled_ns * 1e-6, rn->device_ns * 1e-9,
		now_s() - rn->t0);
	tern_device_close(rn->dev);
	rn->dev = NULL;
}

/* The core of the next case: round robin over the device's cores. */
static inline int runner_next_core(struct runner *rn)
{
	return (int)(rn->next_core++ % rn->ncores);
}

/* The host and device memory of a case. */
struct bufs {
	unsigned int n;
	uint64_t size[MAX_SLOTS];
	uint8_t *init[MAX_SLOTS];	/* what the device buffers start with */
	uint8_t *ref[MAX_SLOTS];	/* init, with the reference output */
	struct tern_buffer *dev[MAX_SLOTS];
	struct tern_buffer *host[MAX_SLOTS];	/* staging for tern_copy() */
	uint8_t *hmap[MAX_SLOTS];
};

static inline void bufs_free(struct bufs *b)
{
	for (unsigned int s = 0; s < b->n; s++) {
		free(b->init[s]);
		free(b->ref[s]);
		tern_buffer_free(b->dev[s]);
		tern_buffer_free(b->host[s]);
	}
	memset(b, 0, sizeof(*b));
}

/*
 * Fills the buffers of @c: random bytes everywhere (the guards), NaN
 * (0xff in every dtype) in the output's elements so that an element the
 * device does not write shows, then random values in the inputs. Computes
 * the reference and uploads init to device buffers.
 */
static inline void bufs_prepare(struct __test_metadata *_metadata, struct runner *rn,
				const struct ocase *c, struct bufs *b)
{
	const struct tern_op *op = &c->op;
	const struct tern_tensor *t;
	void *p;
	int ret;

	memset(b, 0, sizeof(*b));
	b->n = c->nslots;
	for (unsigned int s = 0; s < b->n; s++) {
		b->size[s] = c->size[s];
		b->init[s] = malloc(b->size[s]);
		b->ref[s] = malloc(b->size[s]);
		ASSERT_TRUE(b->init[s] && b->ref[s]);
		tern_fill(b->init[s], b->size[s], rng_next(&rn->rng));
	}
	t = &op->out;
	for (uint64_t i = 0; i < t->rows; i++)
		for (uint64_t j = 0; j < t->cols; j++)
			memset(b->init[t->slot] + elem_off(t, i, j), 0xff, tern_dtype_size(t->dtype));
	for (unsigned int k = 0; k < op->nin; k++) {
		t = &op->in[k];
		for (uint64_t i = 0; i < t->rows; i++)
			for (uint64_t j = 0; j < t->cols; j++)
				tern_value_set(t->dtype, b->init[t->slot] + elem_off(t, i, j),
					       draw(&rn->rng, c->dom[k]));
	}
	for (unsigned int s = 0; s < b->n; s++)
		memcpy(b->ref[s], b->init[s], b->size[s]);
	ret = tern_op_reference(op, (void *const *)b->ref, b->size, b->n);
	ASSERT_EQ(0, ret) TH_LOG("tern_op_reference: %s", tern_last_error());

	for (unsigned int s = 0; s < b->n; s++) {
		ret = tern_buffer_alloc(rn->dev, b->size[s], TERN_MEM_DEVICE, &b->dev[s]);
		ASSERT_EQ(0, ret) TH_LOG("device buffer of %llu bytes: %s",
					 (unsigned long long)b->size[s], tern_last_error());
		ret = tern_buffer_alloc(rn->dev, b->size[s], TERN_MEM_HOST, &b->host[s]);
		ASSERT_EQ(0, ret) TH_LOG("host buffer: %s", tern_last_error());
		ASSERT_EQ(0, tern_buffer_map(b->host[s], &p)) TH_LOG("%s", tern_last_error());
		b->hmap[s] = p;
		memcpy(p, b->init[s], b->size[s]);
		ret = tern_copy(rn->dev, b->dev[s], 0, b->host[s], 0, b->size[s]);
		ASSERT_EQ(0, ret) TH_LOG("upload of slot %u: %s", s, tern_last_error());
	}
}

/* Copies every device buffer back into its staging buffer. */
static inline void bufs_download(struct __test_metadata *_metadata, struct runner *rn,
				 struct bufs *b)
{
	for (unsigned int s = 0; s < b->n; s++) {
		memset(b->hmap[s], 0x5a, b->size[s]);
		ASSERT_EQ(0, tern_copy(rn->dev, b->host[s], 0, b->dev[s], 0, b->size[s]))
			TH_LOG("download of slot %u: %s", s, tern_last_error());
	}
}

/*
 * Compares the downloaded buffers with the reference: each output element
 * within the tolerance, every other byte exactly as it was. Logs what is
 * wrong under @what; returns whether all is right.
 */
static inline bool bufs_check(struct runner *rn, const struct ocase *c, struct bufs *b,
			      const char *what)
{
	const struct tern_tensor *t = &c->op.out;
	unsigned int es = tern_dtype_size(t->dtype);
	uint64_t nbad = 0, wi = 0, wj = 0, total = t->rows * t->cols;
	double tol = tern_op_tolerance(&c->op), worst = -1, wdev = 0, wref = 0;
	uint8_t *mask, *got = b->hmap[t->slot];
	char desc[640];
	bool ok = true;

	op_desc(desc, sizeof(desc), &c->op);
	if (!(tol >= 0)) {
		fprintf(stderr, "# %s: tern_op_tolerance() = %g for %s\n", what, tol, desc);
		return false;
	}
	mask = calloc(1, b->size[t->slot]);
	if (!mask)
		return false;
	for (uint64_t i = 0; i < t->rows; i++) {
		for (uint64_t j = 0; j < t->cols; j++) {
			uint64_t off = elem_off(t, i, j);
			double dv = tern_value_get(t->dtype, got + off);
			double rv = tern_value_get(t->dtype, b->ref[t->slot] + off);
			double err = dv == rv ? 0 : fabs(dv - rv);

			if (isnan(err) || isnan(rv))
				err = INFINITY;
			memset(mask + off, 1, es);
			if (err > tol)
				nbad++;
			if (err > worst) {
				worst = err;
				wi = i;
				wj = j;
				wdev = dv;
				wref = rv;
			}
		}
	}
	if (tol > 0 && worst / tol > rn->worst)
		rn->worst = worst / tol;
	if (nbad) {
		fprintf(stderr, "# %s: %s\n#   %llu of %llu elements off by more than the "
			"tolerance %.6g; worst out[%llu][%llu]: device %.9g, reference %.9g "
			"(error %.6g)\n", what, desc, (unsigned long long)nbad,
			(unsigned long long)total, tol, (unsigned long long)wi,
			(unsigned long long)wj, wdev, wref, worst);
		ok = false;
	}
	for (unsigned int s = 0; s < b->n; s++) {
		for (uint64_t k = 0; k < b->size[s]; k++) {
			if (s == t->slot && mask[k])
				continue;
			if (b->hmap[s][k] != b->init[s][k]) {
				fprintf(stderr, "# %s: %s\n#   slot %u byte %llu outside the output "
					"changed: %#04x, was %#04x\n", what, desc, s,
					(unsigned long long)k, b->hmap[s][k], b->init[s][k]);
				ok = false;
				break;
			}
		}
	}
	free(mask);
	return ok;
}

/* Checks a successful launch's status; logs and returns false if wrong. */
static inline bool status_ok(struct runner *rn, const struct tern_launch_status *st, int core,
			     const char *what)
{
	if (st->result || st->error || st->cycles == 0 || st->modeled_ns == 0 ||
	    st->core >= rn->ncores || (core != TERN_CORE_ANY && st->core != (unsigned int)core)) {
		fprintf(stderr, "# %s: bad launch status: result %d core %u error %u cycles %llu "
			"modeled %llu ns\n", what, st->result, st->core, st->error,
			(unsigned long long)st->cycles, (unsigned long long)st->modeled_ns);
		return false;
	}
	rn->modeled_ns += st->modeled_ns;
	rn->device_ns += st->device_ns;
	return true;
}

/*
 * Runs case @c on @core with tern_op_run() and checks it. Failures are
 * logged and counted in @rn (the test goes on with its other cases);
 * returns whether the case passed.
 */
static inline bool run_case(struct __test_metadata *_metadata, struct runner *rn,
			    const struct ocase *c, int core)
{
	struct tern_launch_status st;
	char what[160], desc[640];
	struct bufs b;
	bool ok = false;
	int ret;

	snprintf(what, sizeof(what), "%s case %u on device %u core %d", rn->label, rn->cases,
		 rn->index, core);
	rn->cases++;
	bufs_prepare(_metadata, rn, c, &b);
	if (verbose()) {
		op_desc(desc, sizeof(desc), &c->op);
		fprintf(stderr, "# %s: %s\n", what, desc);
	}
	memset(&st, 0, sizeof(st));
	ret = tern_op_run(rn->dev, core, &c->op, b.dev, b.n, &st);
	if (ret) {
		op_desc(desc, sizeof(desc), &c->op);
		fprintf(stderr, "# %s: tern_op_run: %s (%s)\n#   %s\n", what, tern_strerror(ret),
			tern_last_error(), desc);
		goto out;
	}
	if (!status_ok(rn, &st, core, what))
		goto out;
	bufs_download(_metadata, rn, &b);
	ok = bufs_check(rn, c, &b, what);
out:
	bufs_free(&b);
	if (!ok)
		rn->failures++;
	return ok;
}

/* ---- cases both use ---- */

/* out [m x n] = in0 [m x k] . in1 [k x n] in slots 0, 1, 2, laid out as lc, la, lb. */
static inline void matmul_case(struct runner *rn, struct ocase *c, unsigned int odt,
			       unsigned int dt, uint64_t m, uint64_t n, uint64_t k,
			       enum layout lc, enum layout la, enum layout lb)
{
	case_init(c, TERN_OPKIND_MATMUL, 0, 2);
	c->op.out = place(c, &rn->rng, 0, odt, m, n, lc);
	c->op.in[0] = place(c, &rn->rng, 1, dt, m, k, la);
	c->op.in[1] = place(c, &rn->rng, 2, dt, k, n, lb);
}

/* A small matmul with odd sizes: the "next job" after a fault. */
static inline void small_matmul(struct runner *rn, struct ocase *c)
{
	matmul_case(rn, c, TERN_DT_FP32, TERN_DT_BF16, 33, 130, 129, DENSE, DENSE, SLICE);
}

#endif /* TERN_OPS_TEST_H */
