// SPDX-License-Identifier: MIT
/*
 * tern_ops: libtern's ops on the real driver and the emulated chips.
 *
 * Numerics: every op kind of tern_ops.h (matmul, each binary ALU op, bias
 * with and without an activation, every activation, softmax, layer norm
 * with and without gamma and beta, RMS norm, transpose, attention causal
 * and not) in every dtype (one fixture variant per dtype), on random
 * shapes with odd sizes (1, 2, 7, 127, 129, 255, about 300, and past one
 * 512 block) and on strided views (column slices of wider tensors,
 * transposed views), run with tern_op_run() and checked element by
 * element against tern_op_reference() within tern_op_tolerance(). Every
 * byte around the output (guard bytes, the gaps of a slice) and every
 * input byte must come back untouched. Each test also draws a few cases
 * at random: sizes, layouts (reversed rows and broadcast rows too) and
 * output dtypes. Cases are spread over every core of device 0; a subset
 * runs on device 1, and launches are put in flight on every core of both
 * devices at once.
 *
 * Bad programs: an illegal opcode, an SBUF and an HBM access out of range,
 * and a semaphore deadlock each end the launch with -EIO and the right
 * TERN_CERR_*, engine, instruction and detail in struct tern_launch_status;
 * the next launch on the same core gives correct data. tern_op_run() with
 * a tensor outside its buffer fails with -EINVAL and runs nothing.
 *
 * Shapes and data come from a seed that every test prints; TERN_SEED=<n>
 * repeats a run. Each test prints its case count, worst error (as a
 * fraction of the tolerance) and time. TERN_OPS_VERBOSE=1 prints every case.
 */
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

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in lo..hi, both included. */
static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

/* The run's seed: TERN_SEED, else a fixed one. */
static uint64_t base_seed(void)
{
	const char *s = getenv("TERN_SEED");

	return s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool verbose(void)
{
	const char *s = getenv("TERN_OPS_VERBOSE");

	return s && *s && *s != '0';
}

/* ---- names for messages ---- */

static const char *dtype_name(unsigned int dt)
{
	static const char *const n[TERN_DT_COUNT] = {
		[TERN_DT_FP32] = "fp32", [TERN_DT_BF16] = "bf16", [TERN_DT_FP16] = "fp16",
		[TERN_DT_FP8_E4M3] = "fp8_e4m3", [TERN_DT_FP8_E5M2] = "fp8_e5m2",
	};

	return dt < TERN_DT_COUNT && n[dt] ? n[dt] : "?";
}

static const char *act_name(unsigned int f)
{
	static const char *const n[TERN_ACT_COUNT] = {
		"identity", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "exp",
		"log", "sqrt", "rsqrt", "reciprocal",
	};

	return f < TERN_ACT_COUNT ? n[f] : "?";
}

static const char *alu_name(unsigned int a)
{
	static const char *const n[TERN_ALU_COUNT] = { "add", "sub", "mul", "div", "max", "min" };

	return a < TERN_ALU_COUNT ? n[a] : "?";
}

static const char *cerr_name(unsigned int e)
{
	static const char *const n[TERN_CERR_COUNT] = {
		"NONE", "BAD_PROGRAM", "ILLEGAL_OPCODE", "RESERVED", "BAD_DTYPE", "BAD_OPERAND",
		"SBUF_RANGE", "PSUM_RANGE", "BAD_SLOT", "HBM_RANGE", "DEADLOCK",
	};

	return e < TERN_CERR_COUNT ? n[e] : "?";
}

/* "12x300 bf16 @slot1+68 rs 311 cs 1" */
static const char *tensor_desc(char *buf, size_t len, const struct tern_tensor *t)
{
	snprintf(buf, len, "%llux%llu %s @slot%u+%llu rs %lld cs %lld",
		 (unsigned long long)t->rows, (unsigned long long)t->cols, dtype_name(t->dtype),
		 t->slot, (unsigned long long)t->offset, (long long)t->row_stride,
		 (long long)t->col_stride);
	return buf;
}

/* "binary div: out 7x255 fp32 @slot0+64 rs 255 cs 1, in0 ...", for messages. */
static void op_desc(char *buf, size_t len, const struct tern_op *op)
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
		n = snprintf(buf, len, "%s %s", name, act_name(op->func));
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

static void case_init(struct ocase *c, unsigned int kind, unsigned int func, unsigned int nin)
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
static struct tern_tensor place(struct ocase *c, struct rng *r, uint32_t slot, uint32_t dtype,
				uint64_t rows, uint64_t cols, enum layout l)
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
static uint64_t elem_off(const struct tern_tensor *t, uint64_t i, uint64_t j)
{
	int64_t e = (int64_t)i * t->row_stride + (int64_t)j * t->col_stride;

	return t->offset + (uint64_t)(e * (int64_t)tern_dtype_size(t->dtype));
}

/* An input value from @d, before rounding to the tensor's dtype. */
static float draw(struct rng *r, struct dom d)
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
static void runner_open(struct __test_metadata *_metadata, struct runner *rn,
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
static void runner_close(struct runner *rn)
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
static int runner_next_core(struct runner *rn)
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

static void bufs_free(struct bufs *b)
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
static void bufs_prepare(struct __test_metadata *_metadata, struct runner *rn,
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
static void bufs_download(struct __test_metadata *_metadata, struct runner *rn, struct bufs *b)
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
static bool bufs_check(struct runner *rn, const struct ocase *c, struct bufs *b,
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
static bool status_ok(struct runner *rn, const struct tern_launch_status *st, int core,
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
static bool run_case(struct __test_metadata *_metadata, struct runner *rn,
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

/* ---- shapes ---- */

/* Size codes: a positive number is itself; these draw one. */
#define SZ_300		-1	/* 290..310 */
#define SZ_600		-2	/* 570..630, more than one 512 block */
#define SZ_BIG		-3	/* 513..639, past one 512 block, not a multiple of 128 */
#define SZ_1100		-4	/* 1025..1151 */
#define SZ_SMALL	-5	/* 3..60 */

static uint64_t dim(struct rng *r, int code)
{
	switch (code) {
	case SZ_300: return rng_range(r, 290, 310);
	case SZ_600: return rng_range(r, 570, 630);
	case SZ_BIG: return rng_range(r, 513, 639);
	case SZ_1100: return rng_range(r, 1025, 1151);
	case SZ_SMALL: return rng_range(r, 3, 60);
	default: return (uint64_t)code;
	}
}

/* Rows x cols of the row-wise and elementwise cases: ~55k elements in all. */
static const int shapes2[][2] = {
	{ 1, 1 }, { 2, SZ_BIG }, { 7, 255 }, { 127, 129 }, { 129, 127 },
	{ 255, 7 }, { SZ_300, 2 }, { 1, SZ_1100 }, { SZ_SMALL, SZ_300 },
};
#define NSHAPES2	(sizeof(shapes2) / sizeof(shapes2[0]))

/* The other dtype of the mixed-dtype cases. */
static unsigned int partner(unsigned int dt)
{
	switch (dt) {
	case TERN_DT_FP32: return TERN_DT_BF16;
	case TERN_DT_FP8_E4M3: return TERN_DT_BF16;
	case TERN_DT_FP8_E5M2: return TERN_DT_FP16;
	default: return TERN_DT_FP32;
	}
}

/* ---- random cases ---- */

#define NRANDOM		4		/* random cases per test, after the fixed ones */
#define ELEM_BUDGET	40000		/* elements of a tensor */
#define MAC_BUDGET	1500000		/* multiply-adds of a matmul or attention */

/* A size: odd ones, either side of 128 and 512, about 300, or any up to 1100. */
static uint64_t random_dim(struct rng *r)
{
	static const int pool[] = {
		1, 2, 3, 7, 31, 127, 128, 129, 255, 256, 257, SZ_300, 383, 511, 513, SZ_BIG,
	};
	uint64_t k = rng_range(r, 0, sizeof(pool) / sizeof(pool[0]));

	return k < sizeof(pool) / sizeof(pool[0]) ? dim(r, pool[k]) : rng_range(r, 1, 1100);
}

/* @n sizes whose product is at most @budget. */
static void random_dims(struct rng *r, uint64_t *d, unsigned int n, uint64_t budget)
{
	uint64_t p;

	do {
		p = 1;
		for (unsigned int i = 0; i < n; i++) {
			d[i] = random_dim(r);
			p *= d[i];
		}
	} while (p > budget);
}

static enum layout random_layout(struct rng *r, bool input)
{
	static const enum layout l[] = {
		DENSE, DENSE, DENSE, SLICE, SLICE, TRANSPOSED, REVERSED, BROADCAST,
	};

	return l[rng_range(r, 0, input ? 7 : 6)];
}

/* The output's dtype: mostly the inputs', else any. */
static unsigned int random_out_dtype(struct rng *r, unsigned int dt)
{
	return rng_range(r, 0, 2) ? dt : (unsigned int)rng_range(r, 1, TERN_DT_COUNT - 1);
}

/*
 * A random case of @kind: random sizes within the budgets, random layouts,
 * sometimes another output dtype. Inputs in dtype @dt, in the order and
 * shapes tern_ops.h lists for @kind.
 */
static void random_case(struct runner *rn, struct ocase *c, unsigned int kind,
			unsigned int func, unsigned int nin, unsigned int dt)
{
	unsigned int odt = random_out_dtype(&rn->rng, dt);
	struct rng *r = &rn->rng;
	uint64_t d[4], t;

	case_init(c, kind, func, nin);
	switch (kind) {
	case TERN_OPKIND_MATMUL:	/* M, N, K */
		random_dims(r, d, 3, MAC_BUDGET);
		c->op.out = place(c, r, 0, odt, d[0], d[1], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[2], random_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, d[2], d[1], random_layout(r, true));
		break;
	case TERN_OPKIND_ATTENTION:	/* Sq, Sk, D, Dv */
		do
			random_dims(r, d, 4, UINT64_MAX);
		while (d[0] * d[1] * (d[2] + d[3]) > MAC_BUDGET);
		if (func & TERN_ATTN_CAUSAL && d[0] > d[1]) {
			t = d[0];
			d[0] = d[1];
			d[1] = t;
		}
		c->op.scale = (float)(1.0 / sqrt((double)d[2]));
		c->op.out = place(c, r, 0, odt, d[0], d[3], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[2], random_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, d[1], d[2], random_layout(r, true));
		c->op.in[2] = place(c, r, 3, dt, d[1], d[3], random_layout(r, true));
		break;
	case TERN_OPKIND_TRANSPOSE:
		random_dims(r, d, 2, ELEM_BUDGET);
		c->op.out = place(c, r, 0, odt, d[1], d[0], random_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, d[0], d[1], random_layout(r, true));
		break;
	default:	/* x first; the bias, gamma and beta are 1 x cols */
		random_dims(r, d, 2, ELEM_BUDGET);
		c->op.out = place(c, r, 0, odt, d[0], d[1], random_layout(r, false));
		for (unsigned int i = 0; i < nin; i++) {
			bool vec = i > 0 && kind != TERN_OPKIND_BINARY;

			c->op.in[i] = place(c, r, 1 + i, dt, vec ? 1 : d[0], d[1],
					    random_layout(r, true));
		}
	}
}

/* ---- the cases of each op kind ---- */

/* Case @i of an elementwise op (binary with @nin 2, activation with 1). */
static void elementwise_case(struct runner *rn, struct ocase *c, unsigned int kind,
			     unsigned int func, unsigned int nin, unsigned int dt, unsigned int i)
{
	uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);
	/* Case 4 writes another dtype, case 5 also reads one. */
	unsigned int odt = i == 4 || i == 5 ? partner(dt) : dt;

	case_init(c, kind, func, nin);
	c->op.out = place(c, &rn->rng, 0, odt, rows, cols, i % 3 == 2 ? SLICE : DENSE);
	c->op.in[0] = place(c, &rn->rng, 1, dt, rows, cols, i % 2 ? SLICE : DENSE);
	if (nin > 1)
		c->op.in[1] = place(c, &rn->rng, 2, i == 5 ? partner(dt) : dt, rows, cols,
				    i == 3 || i == 8 ? TRANSPOSED : i == 6 ? SLICE : DENSE);
}

static void test_binary(struct __test_metadata *_metadata, struct runner *rn,
			unsigned int alu, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		if (i < NSHAPES2)
			elementwise_case(rn, &c, TERN_OPKIND_BINARY, alu, 2, dt, i);
		else
			random_case(rn, &c, TERN_OPKIND_BINARY, alu, 2, dt);
		if (alu == TERN_ALU_DIV)	/* divisors away from 0 */
			c.dom[1] = (struct dom){ 0.5f, 1.0f, true };
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/*
 * Inputs where each activation is defined and tame: those tern_op_tolerance()
 * is made for ([-1, 1], and only [1/2, 1] where a function blows up at 0).
 */
static struct dom act_dom(unsigned int func)
{
	switch (func) {
	case TERN_ACT_LOG:
	case TERN_ACT_RSQRT: return (struct dom){ 0.5f, 1.0f, false };
	case TERN_ACT_SQRT: return (struct dom){ 0.0f, 1.0f, false };
	case TERN_ACT_RECIPROCAL: return (struct dom){ 0.5f, 1.0f, true };
	default: return DOM_UNIT;
	}
}

static void test_activation(struct __test_metadata *_metadata, struct runner *rn,
			    unsigned int func, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2 + NRANDOM; i++) {
		if (i < NSHAPES2)
			elementwise_case(rn, &c, TERN_OPKIND_ACTIVATION, func, 1, dt, i);
		else
			random_case(rn, &c, TERN_OPKIND_ACTIVATION, func, 1, dt);
		c.dom[0] = act_dom(func);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* The output in place of input 0 (same slot, offset, dtype and strides). */
static void test_in_place(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	static const unsigned int alus[] = { TERN_ALU_ADD, TERN_ALU_MUL, TERN_ALU_MAX };
	static const unsigned int acts[] = { TERN_ACT_RELU, TERN_ACT_SILU, TERN_ACT_TANH };
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2; i++) {
		uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);

		if (i % 2)
			case_init(&c, TERN_OPKIND_BINARY, alus[i / 2 % 3], 2);
		else
			case_init(&c, TERN_OPKIND_ACTIVATION, acts[i / 2 % 3], 1);
		c.op.in[0] = place(&c, &rn->rng, 0, dt, rows, cols, i % 3 ? SLICE : DENSE);
		c.op.out = c.op.in[0];
		if (i % 2)
			c.op.in[1] = place(&c, &rn->rng, 1, dt, rows, cols, DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		if (i % 2)
			random_case(rn, &c, TERN_OPKIND_BINARY, alus[i / 2 % 3], 2, dt);
		else
			random_case(rn, &c, TERN_OPKIND_ACTIVATION, acts[i / 2 % 3], 1, dt);
		c.op.in[0] = c.op.out;	/* slot 1 stays unused */
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* out = func(x + bias); @funcs the activations to cycle through. */
static void test_bias(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt,
		      const unsigned int *funcs, unsigned int nfuncs)
{
	struct ocase c;

	for (unsigned int i = 0; i < NSHAPES2; i++) {
		uint64_t rows = dim(&rn->rng, shapes2[i][0]), cols = dim(&rn->rng, shapes2[i][1]);

		case_init(&c, TERN_OPKIND_BIAS, funcs[i % nfuncs], 2);
		c.op.out = place(&c, &rn->rng, 0, i == 4 ? partner(dt) : dt, rows, cols,
				 i % 3 == 1 ? SLICE : DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, dt, rows, cols, i % 2 ? SLICE : DENSE);
		/* The bias: a row, or a strided one (a column of a wider tensor). */
		c.op.in[1] = place(&c, &rn->rng, 2, i == 5 ? partner(dt) : dt, 1, cols,
				   i % 3 == 2 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_BIAS, funcs[(i + 1) % nfuncs], 2, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* M, N, K of the matmul cases: each of 1, 2, 7, 127, 129, 255, ~300 in each. */
static const int mm_shapes[][3] = {
	{ 1, 1, 1 }, { 2, SZ_BIG, 7 }, { 7, 255, SZ_600 }, { 127, 2, SZ_300 },
	{ 129, 129, 2 }, { 255, 7, 129 }, { SZ_300, 1, 127 }, { 17, SZ_300, 255 },
	{ 130, 127, 63 },
};

static void matmul_case(struct runner *rn, struct ocase *c, unsigned int odt, unsigned int dt,
			uint64_t m, uint64_t n, uint64_t k, enum layout lc, enum layout la,
			enum layout lb)
{
	case_init(c, TERN_OPKIND_MATMUL, 0, 2);
	c->op.out = place(c, &rn->rng, 0, odt, m, n, lc);
	c->op.in[0] = place(c, &rn->rng, 1, dt, m, k, la);
	c->op.in[1] = place(c, &rn->rng, 2, dt, k, n, lb);
}

static void test_matmul(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < sizeof(mm_shapes) / sizeof(mm_shapes[0]); i++) {
		matmul_case(rn, &c, i == 3 || i == 7 ? partner(dt) : dt, dt,
			    dim(&rn->rng, mm_shapes[i][0]), dim(&rn->rng, mm_shapes[i][1]),
			    dim(&rn->rng, mm_shapes[i][2]), DENSE, DENSE, DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_MATMUL, 0, 2, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* A as a transposed view (A^T row-major) and slices of wider tensors. */
static void test_matmul_views(struct __test_metadata *_metadata, struct runner *rn,
			      unsigned int dt)
{
	struct ocase c;

	matmul_case(rn, &c, dt, dt, 129, 65, 127, DENSE, TRANSPOSED, DENSE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, 255, 130, 33, SLICE, SLICE, SLICE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, 7, dim(&rn->rng, SZ_BIG), dim(&rn->rng, SZ_300), SLICE,
		    TRANSPOSED, SLICE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, partner(dt), dt, 1, 2, 129, DENSE, TRANSPOSED, DENSE);
	run_case(_metadata, rn, &c, runner_next_core(rn));
	matmul_case(rn, &c, dt, dt, dim(&rn->rng, SZ_300), 3, 255, SLICE, TRANSPOSED,
		    TRANSPOSED);
	run_case(_metadata, rn, &c, runner_next_core(rn));
}

/* Rows x cols of the row-wise ops (softmax, norms): row lengths 1..1151. */
static const int row_shapes[][2] = {
	{ 1, 1 }, { 2, 7 }, { 7, SZ_BIG }, { 127, 129 }, { 129, 127 },
	{ 255, 2 }, { SZ_300, SZ_SMALL }, { 3, SZ_1100 }, { 1, 255 },
};
#define NROW_SHAPES	(sizeof(row_shapes) / sizeof(row_shapes[0]))

/* x and out of case @i of a row-wise op. */
static void rowwise_case(struct runner *rn, struct ocase *c, unsigned int kind,
			 unsigned int nin, unsigned int dt, unsigned int i)
{
	uint64_t rows = dim(&rn->rng, row_shapes[i][0]), cols = dim(&rn->rng, row_shapes[i][1]);

	case_init(c, kind, 0, nin);
	c->op.out = place(c, &rn->rng, 0, i == 4 ? partner(dt) : dt, rows, cols,
			  i % 3 == 1 ? SLICE : DENSE);
	c->op.in[0] = place(c, &rn->rng, 1, i == 5 ? partner(dt) : dt, rows, cols,
			    i % 2 ? SLICE : i == 6 ? TRANSPOSED : DENSE);
}

static void test_softmax(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < NROW_SHAPES + NRANDOM; i++) {
		if (i >= NROW_SHAPES) {
			random_case(rn, &c, TERN_OPKIND_SOFTMAX, 0, 1, dt);
			run_case(_metadata, rn, &c, runner_next_core(rn));
			continue;
		}
		rowwise_case(rn, &c, TERN_OPKIND_SOFTMAX, 1, dt, i);
		/*
		 * The last case: inputs in [99, 101], whose exp overflows fp32
		 * unless the row's maximum is taken off first. Softmax does not
		 * change with a shift, so the tolerance of [-1, 1] holds (not in
		 * fp8, which cannot hold such a shift finely enough).
		 */
		if (i == NROW_SHAPES - 1 && tern_dtype_size(dt) > 1)
			c.dom[0] = (struct dom){ 99.0f, 101.0f, false };
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Layer norm (@rms false) or RMS norm with @ngb of gamma, beta. */
static void test_norm(struct __test_metadata *_metadata, struct runner *rn, unsigned int dt,
		      bool rms, unsigned int ngb)
{
	struct ocase c;

	for (unsigned int i = 0; i < NROW_SHAPES; i++) {
		uint64_t cols;

		rowwise_case(rn, &c, rms ? TERN_OPKIND_RMSNORM : TERN_OPKIND_LAYERNORM,
			     1 + ngb, dt, i);
		cols = c.op.in[0].cols;
		c.op.eps = i % 2 ? 1e-5f : 1e-3f;
		for (unsigned int g = 0; g < ngb; g++)
			c.op.in[1 + g] = place(&c, &rn->rng, 2 + g, dt, 1, cols,
					       i % 3 == 2 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, rms ? TERN_OPKIND_RMSNORM : TERN_OPKIND_LAYERNORM, 0, 1 + ngb,
			    dt);
		c.op.eps = 1e-5f;
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Rows x cols of x in the transpose cases. */
static const int tr_shapes[][2] = {
	{ 1, 1 }, { 1, SZ_300 }, { SZ_300, 1 }, { 2, 129 }, { 127, 7 },
	{ 129, 255 }, { 255, SZ_SMALL }, { SZ_BIG, 2 }, { 7, SZ_1100 },
};

static void test_transpose(struct __test_metadata *_metadata, struct runner *rn,
			   unsigned int dt)
{
	struct ocase c;

	for (unsigned int i = 0; i < sizeof(tr_shapes) / sizeof(tr_shapes[0]); i++) {
		uint64_t rows = dim(&rn->rng, tr_shapes[i][0]), cols = dim(&rn->rng, tr_shapes[i][1]);

		case_init(&c, TERN_OPKIND_TRANSPOSE, 0, 1);
		/* Cases 3 and 7 convert: values rounded to the output's dtype. */
		c.op.out = place(&c, &rn->rng, 0, i == 3 || i == 7 ? partner(dt) : dt, cols, rows,
				 i % 3 == 2 ? SLICE : DENSE);
		c.op.in[0] = place(&c, &rn->rng, 1, dt, rows, cols,
				   i % 2 ? SLICE : i == 6 ? TRANSPOSED : DENSE);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_TRANSPOSE, 0, 1, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* Sq, Sk, D, Dv of the attention cases; causal ones need Sq <= Sk. */
static const int attn_shapes[][4] = {
	{ 1, 1, 1, 1 }, { 7, 129, 64, 33 }, { 129, 255, 16, 17 }, { 2, SZ_600, 127, 7 },
	{ 127, 130, 40, 40 }, { 255, SZ_300, 8, 8 }, { 129, 129, 32, 32 }, { 1, 129, 7, 2 },
};
/* Non-causal ones may have Sq > Sk. */
static const int attn_wide_shapes[][4] = {
	{ 255, 7, 33, 9 }, { SZ_300, 2, 2, 129 },
};

static void attention_case(struct runner *rn, struct ocase *c, unsigned int dt, bool causal,
			   const int *shape, unsigned int i)
{
	uint64_t sq = dim(&rn->rng, shape[0]), sk = dim(&rn->rng, shape[1]);
	uint64_t d = dim(&rn->rng, shape[2]), dv = dim(&rn->rng, shape[3]);
	/* Case 4 is one head of several: column slices of wider tensors. */
	enum layout l = i == 4 ? SLICE : DENSE;

	case_init(c, TERN_OPKIND_ATTENTION, causal ? TERN_ATTN_CAUSAL : 0, 3);
	c->op.scale = (float)(1.0 / sqrt((double)d));
	c->op.out = place(c, &rn->rng, 0, i == 2 ? partner(dt) : dt, sq, dv, l);
	c->op.in[0] = place(c, &rn->rng, 1, dt, sq, d, l);
	/* Case 6 has K^T stored row-major. */
	c->op.in[1] = place(c, &rn->rng, 2, dt, sk, d, i == 6 ? TRANSPOSED : l);
	c->op.in[2] = place(c, &rn->rng, 3, dt, sk, dv, l);
}

static void test_attention(struct __test_metadata *_metadata, struct runner *rn,
			   unsigned int dt, bool causal)
{
	unsigned int n = sizeof(attn_shapes) / sizeof(attn_shapes[0]);
	struct ocase c;

	for (unsigned int i = 0; i < n; i++) {
		attention_case(rn, &c, dt, causal, attn_shapes[i], i);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; !causal && i < sizeof(attn_wide_shapes) / sizeof(attn_wide_shapes[0]);
	     i++) {
		attention_case(rn, &c, dt, false, attn_wide_shapes[i], n + i);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
	for (unsigned int i = 0; i < NRANDOM; i++) {
		random_case(rn, &c, TERN_OPKIND_ATTENTION, causal ? TERN_ATTN_CAUSAL : 0, 3, dt);
		run_case(_metadata, rn, &c, runner_next_core(rn));
	}
}

/* ---- numerics: one test per op kind and function, one variant per dtype ---- */

FIXTURE(ops) {
	struct runner rn;
	char label[96];
};

FIXTURE_VARIANT(ops) {
	unsigned int dtype;
};

FIXTURE_VARIANT_ADD(ops, fp32) { .dtype = TERN_DT_FP32 };
FIXTURE_VARIANT_ADD(ops, bf16) { .dtype = TERN_DT_BF16 };
FIXTURE_VARIANT_ADD(ops, fp16) { .dtype = TERN_DT_FP16 };
FIXTURE_VARIANT_ADD(ops, fp8_e4m3) { .dtype = TERN_DT_FP8_E4M3 };
FIXTURE_VARIANT_ADD(ops, fp8_e5m2) { .dtype = TERN_DT_FP8_E5M2 };

FIXTURE_SETUP(ops)
{
	snprintf(self->label, sizeof(self->label), "%s %s", _metadata->name,
		 dtype_name(variant->dtype));
	runner_open(_metadata, &self->rn, 0, self->label);
}

FIXTURE_TEARDOWN(ops)
{
	runner_close(&self->rn);
}

#define OPS_TEST(name) TEST_F_TIMEOUT(ops, name, TEST_SECS)
#define EXPECT_NO_FAILURES() EXPECT_EQ(0, self->rn.failures)				\
	TH_LOG("%u of %u cases failed (seed %#llx)", self->rn.failures, self->rn.cases,	\
	       (unsigned long long)self->rn.seed)

OPS_TEST(matmul)
{
	test_matmul(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(matmul_views)
{
	test_matmul_views(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

#define BINARY_TEST(alu, ALU)								\
	OPS_TEST(alu)									\
	{										\
		test_binary(_metadata, &self->rn, TERN_ALU_##ALU, variant->dtype);	\
		EXPECT_NO_FAILURES();							\
	}

BINARY_TEST(add, ADD)
BINARY_TEST(sub, SUB)
BINARY_TEST(mul, MUL)
BINARY_TEST(div, DIV)
BINARY_TEST(max, MAX)
BINARY_TEST(min, MIN)

OPS_TEST(in_place)
{
	test_in_place(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(bias)
{
	static const unsigned int none[] = { TERN_ACT_IDENTITY };

	test_bias(_metadata, &self->rn, variant->dtype, none, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(bias_activation)
{
	static const unsigned int funcs[] = {
		TERN_ACT_RELU, TERN_ACT_GELU, TERN_ACT_GELU_TANH, TERN_ACT_SILU,
		TERN_ACT_SIGMOID, TERN_ACT_TANH, TERN_ACT_EXP,
	};

	test_bias(_metadata, &self->rn, variant->dtype, funcs, sizeof(funcs) / sizeof(funcs[0]));
	EXPECT_NO_FAILURES();
}

#define ACT_TEST(name, ACT)								\
	OPS_TEST(name)									\
	{										\
		test_activation(_metadata, &self->rn, TERN_ACT_##ACT, variant->dtype);	\
		EXPECT_NO_FAILURES();							\
	}

ACT_TEST(identity, IDENTITY)
ACT_TEST(relu, RELU)
ACT_TEST(gelu, GELU)
ACT_TEST(gelu_tanh, GELU_TANH)
ACT_TEST(silu, SILU)
ACT_TEST(sigmoid, SIGMOID)
ACT_TEST(tanh, TANH)
ACT_TEST(exp, EXP)
ACT_TEST(log, LOG)
ACT_TEST(sqrt, SQRT)
ACT_TEST(rsqrt, RSQRT)
ACT_TEST(reciprocal, RECIPROCAL)

OPS_TEST(softmax)
{
	test_softmax(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 0);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm_gamma)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(layernorm_gamma_beta)
{
	test_norm(_metadata, &self->rn, variant->dtype, false, 2);
	EXPECT_NO_FAILURES();
}

OPS_TEST(rmsnorm)
{
	test_norm(_metadata, &self->rn, variant->dtype, true, 0);
	EXPECT_NO_FAILURES();
}

OPS_TEST(rmsnorm_gamma)
{
	test_norm(_metadata, &self->rn, variant->dtype, true, 1);
	EXPECT_NO_FAILURES();
}

OPS_TEST(transpose)
{
	test_transpose(_metadata, &self->rn, variant->dtype);
	EXPECT_NO_FAILURES();
}

OPS_TEST(attention)
{
	test_attention(_metadata, &self->rn, variant->dtype, false);
	EXPECT_NO_FAILURES();
}

OPS_TEST(attention_causal)
{
	test_attention(_metadata, &self->rn, variant->dtype, true);
	EXPECT_NO_FAILURES();
}

/* ---- cores and devices ---- */

FIXTURE(cores) {
	int unused;
};

FIXTURE_SETUP(cores)
{
}

FIXTURE_TEARDOWN(cores)
{
}

/* A small matmul with odd sizes: the "next job" after a fault. */
static void small_matmul(struct runner *rn, struct ocase *c)
{
	matmul_case(rn, c, TERN_DT_FP32, TERN_DT_BF16, 33, 130, 129, DENSE, DENSE, SLICE);
}

/*
 * One program on every core of device 0 in turn: built once, found in the
 * cache for every later core, correct on each (fresh data every time).
 */
TEST_F_TIMEOUT(cores, same_program_on_every_core, TEST_SECS)
{
	struct runner rn;
	struct ocase c;

	runner_open(_metadata, &rn, 0, "same_program_on_every_core");
	matmul_case(&rn, &c, TERN_DT_FP32, TERN_DT_FP32, 129, 131, 257, DENSE, TRANSPOSED, DENSE);
	for (unsigned int round = 0; round < 2; round++)
		for (unsigned int core = 0; core < rn.ncores; core++)
			run_case(_metadata, &rn, &c, (int)core);
	run_case(_metadata, &rn, &c, TERN_CORE_ANY);
	EXPECT_EQ(0, rn.failures);
	runner_close(&rn);
}

/* A subset of every kind on every core of device 1, and one on any core. */
TEST_F_TIMEOUT(cores, device1_subset, TEST_SECS)
{
	static const unsigned int dts[] = { TERN_DT_FP32, TERN_DT_BF16, TERN_DT_FP16,
					    TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2 };
	struct runner rn;
	struct ocase c;
	int count = tern_device_count();

	if (count < 2) {
		ASSERT_GT(2, tern_expected_devices())
			TH_LOG("%d tern devices, expected %d", count, tern_expected_devices());
		fprintf(stderr, "# one device only: nothing to run on device 1\n");
		return;
	}
	runner_open(_metadata, &rn, 1, "device1_subset");
	for (unsigned int core = 0; core < rn.ncores; core++) {
		unsigned int dt = dts[core % 5];

		test_matmul_views(_metadata, &rn, dt);
		elementwise_case(&rn, &c, TERN_OPKIND_BINARY, TERN_ALU_MUL, 2, dt, 3);
		run_case(_metadata, &rn, &c, (int)core);
		attention_case(&rn, &c, TERN_DT_BF16, true, attn_shapes[4], 4);
		run_case(_metadata, &rn, &c, (int)core);
		rowwise_case(&rn, &c, TERN_OPKIND_LAYERNORM, 3, TERN_DT_FP16, 3);
		c.op.eps = 1e-5f;
		c.op.in[1] = place(&c, &rn.rng, 2, TERN_DT_FP16, 1, c.op.in[0].cols, DENSE);
		c.op.in[2] = place(&c, &rn.rng, 3, TERN_DT_FP16, 1, c.op.in[0].cols, DENSE);
		run_case(_metadata, &rn, &c, (int)core);
		rowwise_case(&rn, &c, TERN_OPKIND_SOFTMAX, 1, TERN_DT_BF16, 7);
		run_case(_metadata, &rn, &c, (int)core);
	}
	small_matmul(&rn, &c);
	run_case(_metadata, &rn, &c, TERN_CORE_ANY);
	EXPECT_EQ(0, rn.failures);
	runner_close(&rn);
}

/* ---- launches in flight on every core of every device at once ---- */

#define PAR_JOBS	3	/* per core */

/* A case launched with tern_launch_async(), checked once its fence is done. */
struct par_job {
	struct runner *rn;
	struct ocase c;
	struct bufs b;
	int core;
	struct tern_fence *f;
};

static int build_op(struct tern_program *prog, void *arg)
{
	return tern_op_emit(prog, arg);
}

/* Uploads @j's data and launches its kernel, from the device's cache. */
static void par_start(struct __test_metadata *_metadata, struct par_job *j)
{
	struct tern_kernel *k;
	int ret;

	bufs_prepare(_metadata, j->rn, &j->c, &j->b);
	ret = tern_kernel_cached(j->rn->dev, &j->c.op, sizeof(j->c.op), build_op, &j->c.op, &k);
	ASSERT_EQ(0, ret) TH_LOG("tern_kernel_cached: %s", tern_last_error());
	ret = tern_launch_async(j->rn->dev, k, j->core, j->b.dev, j->b.n, &j->f);
	ASSERT_EQ(0, ret) TH_LOG("tern_launch_async: %s", tern_last_error());
}

/* Waits for @j and checks its status and data. */
static void par_finish(struct __test_metadata *_metadata, struct par_job *j, unsigned int n)
{
	struct tern_launch_status st;
	char what[96];
	bool ok;
	int ret;

	snprintf(what, sizeof(what), "parallel job %u on device %u core %d", n, j->rn->index,
		 j->core);
	ret = tern_fence_wait(j->rn->dev, j->f, TERN_TIMEOUT_INFINITE);
	memset(&st, 0, sizeof(st));
	ok = tern_fence_launch_status(j->f, &st) == 0 && ret == 0;
	if (!ok)
		fprintf(stderr, "# %s: %s (%s)\n", what, tern_strerror(ret), tern_last_error());
	ok = ok && status_ok(j->rn, &st, j->core, what);
	if (ok) {
		bufs_download(_metadata, j->rn, &j->b);
		ok = bufs_check(j->rn, &j->c, &j->b, what);
	}
	tern_fence_release(j->f);
	bufs_free(&j->b);
	j->rn->cases++;
	if (!ok)
		j->rn->failures++;
}

/*
 * A matmul, a causal attention and a layer norm queued on every core of
 * every device before any is waited for: the cores and chips run them at
 * the same time. Each is checked as its fence completes.
 */
TEST_F_TIMEOUT(cores, parallel_launches, TEST_SECS)
{
	static const unsigned int dts[] = { TERN_DT_BF16, TERN_DT_FP32, TERN_DT_FP16,
					    TERN_DT_FP8_E4M3, TERN_DT_FP8_E5M2 };
	int ndev = tern_device_count();
	struct runner rn[2];
	struct par_job *jobs;
	unsigned int n = 0;

	ASSERT_LE(1, ndev);
	ndev = ndev > 2 ? 2 : ndev;
	jobs = calloc((size_t)ndev * 8 * PAR_JOBS, sizeof(*jobs));
	ASSERT_NE(NULL, jobs);
	for (int d = 0; d < ndev; d++) {
		runner_open(_metadata, &rn[d], (unsigned int)d, "parallel_launches");
		for (unsigned int core = 0; core < rn[d].ncores && core < 8; core++) {
			unsigned int dt = dts[(d * 8 + core) % 5];

			for (unsigned int i = 0; i < PAR_JOBS; i++) {
				struct par_job *j = &jobs[n++];

				j->rn = &rn[d];
				j->core = (int)core;
				if (i == 0)
					random_case(&rn[d], &j->c, TERN_OPKIND_MATMUL, 0, 2, dt);
				else if (i == 1)
					random_case(&rn[d], &j->c, TERN_OPKIND_ATTENTION,
						    TERN_ATTN_CAUSAL, 3, dt);
				else
					random_case(&rn[d], &j->c, TERN_OPKIND_LAYERNORM, 0, 3, dt);
				j->c.op.eps = i == 2 ? 1e-5f : 0;
				par_start(_metadata, j);
			}
		}
	}
	for (unsigned int i = 0; i < n; i++)
		par_finish(_metadata, &jobs[i], i);
	for (int d = 0; d < ndev; d++) {
		EXPECT_EQ(0, rn[d].failures) TH_LOG("device %d: %u of %u jobs failed", d,
						    rn[d].failures, rn[d].cases);
		runner_close(&rn[d]);
	}
	free(jobs);
}

/* ---- bad programs: a clean fault, then a correct next job ---- */

FIXTURE(bad) {
	int unused;
};

FIXTURE_SETUP(bad)
{
}

FIXTURE_TEARDOWN(bad)
{
}

struct hand_prog {
	struct tern_prog_header h;
	union tern_insn insn[8];
};

static void hand_init(struct hand_prog *p, unsigned int nsems)
{
	memset(p, 0, sizeof(*p));
	p->h.magic = TERN_PROG_MAGIC;
	p->h.version = TERN_ISA_VERSION;
	p->h.size = TERN_PROG_HEADER_SIZE;
	p->h.nsems = (uint16_t)nsems;
}

/* Appends a stream of @n instructions (END included) for @engine. */
static union tern_insn *hand_stream(struct hand_prog *p, unsigned int engine, unsigned int n)
{
	union tern_insn *first = &p->insn[(p->h.size - TERN_PROG_HEADER_SIZE) / TERN_INSN_SIZE];

	p->h.stream[engine].offset = p->h.size;
	p->h.stream[engine].count = n;
	p->h.size += n * TERN_INSN_SIZE;
	first[n - 1].h.opcode = TERN_OP_END;
	return first;
}

/* What a fault must look like. */
struct fault {
	unsigned int error, engine, index;
	uint64_t detail;
};

/*
 * Checks a faulted launch: its return value and status and, for
 * tern_launch() (@sync), that tern_last_error() names the error.
 */
static void expect_fault(struct __test_metadata *_metadata, int ret,
			 const struct tern_launch_status *st, unsigned int core,
			 const struct fault *f, bool sync, const char *what)
{
	EXPECT_EQ(-EIO, ret) TH_LOG("%s: returned %d (%s)", what, ret, tern_last_error());
	EXPECT_EQ(-EIO, st->result) TH_LOG("%s", what);
	EXPECT_EQ(core, st->core) TH_LOG("%s", what);
	EXPECT_EQ(f->error, st->error) TH_LOG("%s: error %u %s (\"%s\"), expected %u %s", what,
					     st->error, cerr_name(st->error), st->error_name,
					     f->error, cerr_name(f->error));
	EXPECT_EQ(f->engine, st->engine) TH_LOG("%s: engine", what);
	EXPECT_EQ(f->index, st->index) TH_LOG("%s: instruction index", what);
	EXPECT_EQ(f->detail, st->detail) TH_LOG("%s: detail %#llx, expected %#llx", what,
					       (unsigned long long)st->detail,
					       (unsigned long long)f->detail);
	EXPECT_NE(0, st->error_name[0]) TH_LOG("%s: no error name", what);
	if (sync) {
		EXPECT_NE(NULL, strstr(tern_last_error(), st->error_name))
			TH_LOG("%s: tern_last_error() \"%s\" does not name \"%s\"", what,
			       tern_last_error(), st->error_name);
		fprintf(stderr, "# %s: %s\n", what, tern_last_error());
	}
}

/* A small matmul with odd sizes: the job after a fault. */
static void next_job_ok(struct __test_metadata *_metadata, struct runner *rn,
			unsigned int core, const char *after)
{
	struct ocase c;

	small_matmul(rn, &c);
	EXPECT_TRUE(run_case(_metadata, rn, &c, (int)core)) TH_LOG("the job after %s", after);
}

/* A bad-program check on one core of rn's device: fault, then a good job. */
typedef void (*core_fn)(struct __test_metadata *_metadata, struct runner *rn,
			unsigned int core, const void *arg);

/* Runs @fn on every core of every device. */
static void for_every_core(struct __test_metadata *_metadata, const char *label, core_fn fn,
			   const void *arg)
{
	int ndev = tern_device_count();
	struct runner rn;

	ASSERT_LE(1, ndev) TH_LOG("no tern device");
	EXPECT_EQ(tern_expected_devices(), ndev);
	for (int di = 0; di < ndev; di++) {
		runner_open(_metadata, &rn, (unsigned int)di, label);
		for (unsigned int core = 0; core < rn.ncores; core++)
			fn(_metadata, &rn, core, arg);
		EXPECT_EQ(0, rn.failures) TH_LOG("%s: %u of %u cases failed", label,
						 rn.failures, rn.cases);
		runner_close(&rn);
	}
}

/* A hand-written program and the fault it must give. */
struct bad_prog {
	struct hand_prog p;
	struct fault f;
	const char *name;
};

/* Loads @arg's program, launches it on @core: the fault, then a good job. */
static void bad_prog_on_core(struct __test_metadata *_metadata, struct runner *rn,
			     unsigned int core, const void *arg)
{
	const struct bad_prog *bp = arg;
	struct tern_launch_status st;
	struct tern_buffer *buf;
	struct tern_kernel *k;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "%s on device %u core %u", bp->name, rn->index, core);
	ret = tern_kernel_load(rn->dev, &bp->p, bp->p.h.size, &k);
	ASSERT_EQ(0, ret) TH_LOG("%s: tern_kernel_load: %s", what, tern_last_error());
	ASSERT_EQ(0, tern_buffer_alloc(rn->dev, 4096, TERN_MEM_DEVICE, &buf));
	memset(&st, 0, sizeof(st));
	ret = tern_launch(rn->dev, k, (int)core, &buf, 1, &st);
	expect_fault(_metadata, ret, &st, core, &bp->f, true, what);
	tern_buffer_free(buf);
	tern_kernel_free(k);
	next_job_ok(_metadata, rn, core, what);
}

/* Vector stream: NOP, opcode 0x7f, END. */
static void illegal_opcode_prog(struct bad_prog *bp)
{
	union tern_insn *v;

	hand_init(&bp->p, 0);
	v = hand_stream(&bp->p, TERN_ENGINE_VECTOR, 3);
	v[0].h.opcode = TERN_OP_NOP;
	v[1].h.opcode = 0x7f;
	bp->f = (struct fault){ TERN_CERR_ILLEGAL_OPCODE, TERN_ENGINE_VECTOR, 1, 0x7f };
	bp->name = "illegal opcode";
}

TEST_F_TIMEOUT(bad, illegal_opcode, TEST_SECS)
{
	struct bad_prog bp;

	illegal_opcode_prog(&bp);
	for_every_core(_metadata, "illegal_opcode", bad_prog_on_core, &bp);
}

/* The same through tern_launch_async(), the fence and its launch status. */
static void illegal_opcode_async_on_core(struct __test_metadata *_metadata,
					 struct runner *rn, unsigned int core, const void *arg)
{
	const struct bad_prog *bp = arg;
	struct tern_launch_status st;
	struct tern_buffer *buf;
	struct tern_kernel *k;
	struct tern_fence *f;
	int ret;

	ASSERT_EQ(0, tern_kernel_load(rn->dev, &bp->p, bp->p.h.size, &k))
		TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_buffer_alloc(rn->dev, 4096, TERN_MEM_DEVICE, &buf));
	ret = tern_launch_async(rn->dev, k, (int)core, &buf, 1, &f);
	ASSERT_EQ(0, ret) TH_LOG("tern_launch_async: %s", tern_last_error());
	ret = tern_fence_wait(rn->dev, f, TERN_TIMEOUT_INFINITE);
	memset(&st, 0, sizeof(st));
	EXPECT_EQ(0, tern_fence_launch_status(f, &st)) TH_LOG("%s", tern_last_error());
	expect_fault(_metadata, ret, &st, core, &bp->f, false, "illegal opcode, async");
	/* Waiting again gives the same result at once. */
	EXPECT_EQ(-EIO, tern_fence_wait(rn->dev, f, 0));
	tern_fence_release(f);
	tern_buffer_free(buf);
	tern_kernel_free(k);
	next_job_ok(_metadata, rn, core, "illegal opcode, async");
}

TEST_F_TIMEOUT(bad, illegal_opcode_async, TEST_SECS)
{
	struct bad_prog bp;

	illegal_opcode_prog(&bp);
	for_every_core(_metadata, "illegal_opcode_async", illegal_opcode_async_on_core, &bp);
}

/*
 * A semaphore deadlock, which the builder refuses to emit: the tensor
 * engine signals semaphore 1 once, the vector engine waits for 2.
 */
TEST_F_TIMEOUT(bad, deadlock, TEST_SECS)
{
	union tern_insn *t, *v;
	struct bad_prog bp;

	hand_init(&bp.p, 2);
	t = hand_stream(&bp.p, TERN_ENGINE_TENSOR, 2);
	t[0].h.opcode = TERN_OP_NOP;
	t[0].h.sync = TERN_SYNC_SIGNAL;
	t[0].h.signal_sem = 1;
	v = hand_stream(&bp.p, TERN_ENGINE_VECTOR, 3);
	v[0].h.opcode = TERN_OP_NOP;
	v[1].h.opcode = TERN_OP_WAIT;
	v[1].h.sync = TERN_SYNC_WAIT;
	v[1].h.wait_sem = 1;
	v[1].h.wait_value = 2;
	bp.f = (struct fault){ TERN_CERR_DEADLOCK, TERN_ENGINE_VECTOR, 1, (1ull << 32) | 2 };
	bp.name = "deadlock";
	for_every_core(_metadata, "deadlock", bad_prog_on_core, &bp);
}

/*
 * A vector MEMSET of a tile that runs past the end of the core's SBUF
 * partitions (the builder refuses it for the core's SBUF size).
 */
static void sbuf_range_on_core(struct __test_metadata *_metadata, struct runner *rn,
			       unsigned int core, const void *arg)
{
	uint32_t part = rn->sbuf_size / TERN_PARTITIONS;
	struct bad_prog bp;
	float one = 1.0f;
	union tern_insn *v;

	(void)arg;
	hand_init(&bp.p, 0);
	v = hand_stream(&bp.p, TERN_ENGINE_VECTOR, 3);
	v[0].h.opcode = TERN_OP_NOP;
	v[1].h.opcode = TERN_OP_MEMSET;
	/* 32 fp32 from 64 bytes before the end: half of it outside. */
	v[1].t.dst = tern_tile(TERN_AP_SBUF, TERN_DT_FP32, part - 64, 0, TERN_PARTITIONS, 32);
	memcpy(&v[1].t.imm, &one, 4);
	bp.f = (struct fault){ TERN_CERR_SBUF_RANGE, TERN_ENGINE_VECTOR, 1, 12 };
	bp.name = "SBUF out of range";
	bad_prog_on_core(_metadata, rn, core, &bp);
}

TEST_F_TIMEOUT(bad, sbuf_out_of_range, TEST_SECS)
{
	for_every_core(_metadata, "sbuf_out_of_range", sbuf_range_on_core, NULL);
}

/*
 * A program the builder made for a core with more SBUF than this one: its
 * DMA load lands past the end of this core's SBUF.
 */
static void bigger_sbuf_on_core(struct __test_metadata *_metadata, struct runner *rn,
				unsigned int core, const void *arg)
{
	static const struct fault f = { TERN_CERR_SBUF_RANGE, TERN_ENGINE_DMA, 0, 12 };
	struct tern_tensor x = tern_tensor_2d(0, TERN_DT_FP32, 128, 64);
	uint32_t part = rn->sbuf_size / TERN_PARTITIONS, n;
	struct tern_launch_status st;
	struct tern_program *prog;
	struct tern_buffer *buf;
	struct tern_ap pad, tile;
	struct tern_hbm_ap h;
	struct tern_kernel *k;
	const void *img;
	size_t size;
	int ret;

	(void)arg;
	ASSERT_LT(rn->sbuf_size, TERN_SBUF_SIZE_MAX) TH_LOG("the core has the largest SBUF");
	ASSERT_EQ(0, tern_prog_create(TERN_SBUF_SIZE_MAX, &prog));
	/* Fill this core's partitions with fp8 tiles of at most 65472 bytes... */
	for (uint32_t used = 0; used < part; used += n) {
		n = part - used < 65472 ? part - used : 65472;
		ASSERT_EQ(0, tern_prog_alloc(prog, TERN_AP_SBUF, TERN_DT_FP8_E4M3,
					     TERN_PARTITIONS, n, &pad))
			TH_LOG("%s", tern_last_error());
	}
	/* ...so that this one lies past them. */
	ASSERT_EQ(0, tern_prog_alloc(prog, TERN_AP_SBUF, TERN_DT_FP32, 128, 64, &tile));
	ASSERT_LE(part, tile.offset);
	ASSERT_EQ(0, tern_tensor_block(&x, 0, 0, 128, 64, &h));
	ASSERT_LE(0, tern_prog_dma_load(prog, tile, &h, TERN_SYNC_NONE))
		TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(prog, &img, &size)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_kernel_load(rn->dev, img, size, &k)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_buffer_alloc(rn->dev, 128 * 64 * 4, TERN_MEM_DEVICE, &buf));
	memset(&st, 0, sizeof(st));
	ret = tern_launch(rn->dev, k, (int)core, &buf, 1, &st);
	expect_fault(_metadata, ret, &st, core, &f, true, "program for a bigger SBUF");
	tern_buffer_free(buf);
	tern_kernel_free(k);
	tern_prog_free(prog);
	next_job_ok(_metadata, rn, core, "program for a bigger SBUF");
}

TEST_F_TIMEOUT(bad, sbuf_program_for_bigger_core, TEST_SECS)
{
	for_every_core(_metadata, "sbuf_program_for_bigger_core", bigger_sbuf_on_core, NULL);
}

/* Lowest and one past the highest byte a DMA instruction's pattern reaches. */
static void dma_range(const struct tern_insn_dma *d, int64_t *lo, int64_t *hi)
{
	int64_t span[3] = {
		((int64_t)d->sbuf.nparts - 1) * d->pstride,
		((int64_t)d->sbuf.n[1] - 1) * d->stride[1],
		((int64_t)d->sbuf.n[0] - 1) * d->stride[0],
	};

	*lo = *hi = (int64_t)d->hbm_offset;
	for (unsigned int i = 0; i < 3; i++) {
		if (span[i] < 0)
			*lo += span[i];
		else
			*hi += span[i];
	}
	*hi += tern_dtype_size(d->sbuf.dtype);
}

/* Index of the first DMA instruction of @prog reaching past @size of @slot. */
static int first_dma_past(const struct tern_program *prog, uint32_t slot, uint64_t size)
{
	union tern_insn in;
	int64_t lo, hi;

	for (int i = 0; i < tern_prog_count(prog, TERN_ENGINE_DMA); i++) {
		if (tern_prog_insn(prog, TERN_ENGINE_DMA, (unsigned int)i, &in))
			return -1;
		if (in.h.opcode != TERN_OP_DMA_LOAD && in.h.opcode != TERN_OP_DMA_STORE)
			continue;
		if (in.dma.slot != slot)
			continue;
		dma_range(&in.dma, &lo, &hi);
		if (lo < 0 || (uint64_t)hi > size)
			return i;
	}
	return -1;
}

/* y = relu(x), 300 x 257 fp32: out in slot 0, x in slot 1 at @x_offset (0: a guard). */
static void relu_case(struct runner *rn, struct ocase *c, uint64_t x_offset)
{
	case_init(c, TERN_OPKIND_ACTIVATION, TERN_ACT_RELU, 1);
	c->op.out = place(c, &rn->rng, 0, TERN_DT_FP32, 300, 257, DENSE);
	c->op.in[0] = place(c, &rn->rng, 1, TERN_DT_FP32, 300, 257, DENSE);
	if (x_offset) {
		c->op.in[0].offset = x_offset;
		c->size[1] = tern_tensor_span(&c->op.in[0]) + 64;
	}
}

/* A relu built for bigger buffers than those bound. */
struct hbm_bad {
	uint64_t x_offset;	/* of x in slot 1; 0 for a guard's worth */
	uint32_t slot;		/* the slot bound to too small a buffer */
	unsigned int fraction;	/* its size: 1/fraction of the right one, whole pages */
	uint64_t size;		/* or this many bytes */
	const char *name;
};

/*
 * Launches the relu of @arg with one slot bound to a buffer too small: the
 * first DMA instruction past its end faults, before anything ran. Then the
 * same kernel with the right buffers on the same core gives correct data.
 */
static void hbm_range_on_core(struct __test_metadata *_metadata, struct runner *rn,
			      unsigned int core, const void *arg)
{
	const struct hbm_bad *hb = arg;
	struct tern_buffer *slots[MAX_SLOTS], *small;
	struct tern_launch_status st;
	struct tern_program *prog;
	struct tern_kernel *k;
	uint64_t bad_size;
	struct ocase c;
	struct fault f;
	const void *img;
	char what[160];
	struct bufs b;
	size_t size;
	int idx, ret;

	snprintf(what, sizeof(what), "%s on device %u core %u", hb->name, rn->index, core);
	rn->cases++;
	relu_case(rn, &c, hb->x_offset);
	bad_size = hb->size ? hb->size : (c.size[hb->slot] / hb->fraction) & ~4095ull;
	ASSERT_EQ(0, tern_prog_create(rn->sbuf_size, &prog));
	ASSERT_EQ(0, tern_op_emit(prog, &c.op)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(prog, &img, &size)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_kernel_load(rn->dev, img, size, &k)) TH_LOG("%s", tern_last_error());
	idx = first_dma_past(prog, hb->slot, bad_size);
	ASSERT_LE(0, idx) TH_LOG("%s: no DMA instruction reaches past byte %llu", what,
				 (unsigned long long)bad_size);
	f = (struct fault){ TERN_CERR_HBM_RANGE, TERN_ENGINE_DMA, (unsigned int)idx, 32 };

	bufs_prepare(_metadata, rn, &c, &b);
	ASSERT_EQ(0, tern_buffer_alloc(rn->dev, bad_size, TERN_MEM_DEVICE, &small));
	memcpy(slots, b.dev, sizeof(slots));
	slots[hb->slot] = small;
	memset(&st, 0, sizeof(st));
	ret = tern_launch(rn->dev, k, (int)core, slots, b.n, &st);
	expect_fault(_metadata, ret, &st, core, &f, true, what);
	/* Nothing ran: the output is as it was. */
	bufs_download(_metadata, rn, &b);
	if (hb->slot != 0)
		EXPECT_EQ(-1, tern_first_diff(b.hmap[0], b.init[0], b.size[0]))
			TH_LOG("%s: the output buffer changed", what);

	/* The same kernel on the same core with the right buffers. */
	memset(&st, 0, sizeof(st));
	ret = tern_launch(rn->dev, k, (int)core, b.dev, b.n, &st);
	EXPECT_EQ(0, ret) TH_LOG("%s, next launch: %s", what, tern_last_error());
	if (ret || !status_ok(rn, &st, (int)core, what)) {
		rn->failures++;
	} else {
		bufs_download(_metadata, rn, &b);
		if (!bufs_check(rn, &c, &b, what))
			rn->failures++;
	}
	tern_buffer_free(small);
	bufs_free(&b);
	tern_kernel_free(k);
	tern_prog_free(prog);
}

TEST_F_TIMEOUT(bad, hbm_out_of_range_load, TEST_SECS)
{
	static const struct hbm_bad hb = { 0, 1, 3, 0, "x past the end of a small buffer" };

	for_every_core(_metadata, "hbm_out_of_range_load", hbm_range_on_core, &hb);
}

TEST_F_TIMEOUT(bad, hbm_out_of_range_store, TEST_SECS)
{
	static const struct hbm_bad hb = { 0, 0, 2, 0, "out past the end of a small buffer" };

	for_every_core(_metadata, "hbm_out_of_range_store", hbm_range_on_core, &hb);
}

TEST_F_TIMEOUT(bad, hbm_offset_past_buffer, TEST_SECS)
{
	static const struct hbm_bad hb = { 1 << 20, 1, 0, 64 << 10,
					   "x's offset past the end of its buffer" };

	for_every_core(_metadata, "hbm_offset_past_buffer", hbm_range_on_core, &hb);
}

/* tern_op_run() with a tensor past the end of its buffer: -EINVAL, nothing ran. */
TEST_F_TIMEOUT(bad, op_run_tensor_outside_buffer, TEST_SECS)
{
	struct tern_buffer *slots[MAX_SLOTS], *small;
	struct runner rn;
	struct ocase c;
	struct bufs b;

	runner_open(_metadata, &rn, 0, "op_run_tensor_outside_buffer");
	relu_case(&rn, &c, 0);
	bufs_prepare(_metadata, &rn, &c, &b);
	/* x's buffer one byte short of x. */
	ASSERT_EQ(0, tern_buffer_alloc(rn.dev, tern_tensor_span(&c.op.in[0]) - 1,
				       TERN_MEM_DEVICE, &small));
	memcpy(slots, b.dev, sizeof(slots));
	slots[1] = small;
	EXPECT_EQ(-EINVAL, tern_op_run(rn.dev, 0, &c.op, slots, b.n, NULL));
	EXPECT_NE(0, tern_last_error()[0]);
	fprintf(stderr, "# x one byte past its buffer: %s\n", tern_last_error());
	/* A slot missing. */
	EXPECT_EQ(-EINVAL, tern_op_run(rn.dev, 0, &c.op, b.dev, 1, NULL));
	fprintf(stderr, "# slot 1 missing: %s\n", tern_last_error());
	bufs_download(_metadata, &rn, &b);
	EXPECT_EQ(-1, tern_first_diff(b.hmap[0], b.init[0], b.size[0]))
		TH_LOG("the output buffer changed");
	tern_buffer_free(small);
	bufs_free(&b);
	/* The same op with the right buffers. */
	EXPECT_TRUE(run_case(_metadata, &rn, &c, 0));
	runner_close(&rn);
}

TEST_HARNESS_MAIN
