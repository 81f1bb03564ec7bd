// SPDX-License-Identifier: MIT
/*
 * tern_soak: a long run of verified work under injected faults
 * (Documentation/reliability.rst, "Soak"; `make soak DURATION=<s>`).
 *
 * TERN_SOAK_WORKERS worker processes (fork) each open every tern device
 * through libtern and, until TERN_SOAK_TIME seconds have passed, run jobs
 * on a random device: DMA copies (host to device to host, device to
 * device, host to host; random sizes from 1 byte to 4 MiB at random
 * offsets, each step on a random queue) checked bit for bit, guard bytes
 * included, and compute ops of tern_ops.h (matmul, elementwise, the
 * activations, softmax, layer and RMS norm, transpose, bias, attention; on
 * random shapes, layouts and dtypes, on a random core) checked against
 * tern_op_reference() within tern_op_tolerance() with every byte outside
 * the output unchanged.
 *
 * An injector process arms one fault at a time, at random moments, of the
 * kinds in TERN_SOAK_FAULTS (tern_soak.h; through the VM's QMP relay,
 * tern_inject.h, and debugfs recover), on a random device and queue or
 * core; runs its own job there so that the fault takes effect even if no
 * worker is on it; reads faults-injected; and counts the fault recovered
 * once a verified job ran on that queue or core after it, within
 * SK_RECOVER_S.
 *
 * A job that fails is submitted again if an injected fault explains the
 * failure (tern_soak.h, sk_blame(): -EAGAIN after a recovery of its
 * device, -EIO of the copy an armed DMA abort hit, -ETIMEDOUT of the
 * launch an armed hang hit). Anything else is a lost result: wrong data,
 * a job not done after SK_WAIT_S, a failure no fault explains. The test
 * fails if a result was lost, a fault was not recovered, a blamed fault
 * was never claimed, the driver's counts do not return to their baseline
 * (tern_stress.h), or a device no longer works at the end.
 *
 * TERN_SOAK_TIME (seconds, default 60), TERN_SOAK_SEED (the workers' and
 * the injector's random streams), TERN_SOAK_WORKERS (default 4),
 * TERN_SOAK_FAULTS (comma-separated kinds, "all" or "none"; default
 * SK_DEFAULT_FAULTS), TERN_SOAK_FAULT_GAP (mean seconds between faults,
 * default 5).
 */
#include <math.h>

#include "tern_ops_test.h"
#include "tern_copy_prog.h"
#include "tern_stress.h"
#include "tern_inject.h"
#include "tern_soak.h"

#define SK_MARGIN_S	900		/* harness timeout beyond TERN_SOAK_TIME */
#define SK_COPY_MAX	(4u << 20)
#define SK_GUARD	256
#define SK_BUF		(SK_COPY_MAX + 2 * SK_GUARD + 4096)
#define SK_WAIT_S	400		/* a job not done by then is lost */
#define SK_WAIT_NS	((int64_t)SK_WAIT_S * 1000000000ll)
#define SK_ATTEMPTS	8		/* submissions of one job at most */
#define SK_RECOVER_S	300		/* a fault's bound to a verified job after it */
#define SK_PROBE_BYTES	(64u << 10)
#define SK_ECC_BYTES	(64u << 10)
#define SK_LOST_TIMEOUT	"20000"		/* debugfs dma_timeout_ms with lost completions */

static long sk_time_s(void)
{
	return st_env_long("TERN_SOAK_TIME", 60);
}

/* ---- one device of a process ---- */

struct sk_dev {
	struct tern_device *dev;
	unsigned int index, minor, nq, ncores;
	struct tern_buffer *hs, *hd, *da, *db;
	uint8_t *hsp, *hdp;
};

static int sk_dev_open(struct sk_dev *d, unsigned int index)
{
	struct tern_device_info info;
	void *p;
	int ret;

	memset(d, 0, sizeof(*d));
	d->index = index;
	ret = tern_device_open(index, &d->dev);
	if (!ret)
		ret = tern_device_info(d->dev, &info);
	if (ret)
		return ret;
	d->minor = info.minor;
	d->nq = info.num_queues < SK_MAX_QUEUES ? info.num_queues : SK_MAX_QUEUES;
	d->ncores = info.num_cores < SK_MAX_CORES ? info.num_cores : SK_MAX_CORES;
	if ((ret = tern_buffer_alloc(d->dev, SK_BUF, TERN_MEM_HOST, &d->hs)) ||
	    (ret = tern_buffer_alloc(d->dev, SK_BUF, TERN_MEM_HOST, &d->hd)) ||
	    (ret = tern_buffer_alloc(d->dev, SK_BUF, TERN_MEM_DEVICE, &d->da)) ||
	    (ret = tern_buffer_alloc(d->dev, SK_BUF, TERN_MEM_DEVICE, &d->db)))
		return ret;
	if ((ret = tern_buffer_map(d->hs, &p)))
		return ret;
	d->hsp = p;
	if ((ret = tern_buffer_map(d->hd, &p)))
		return ret;
	d->hdp = p;
	return 0;
}

static void sk_dev_close(struct sk_dev *d)
{
	tern_buffer_free(d->hs);
	tern_buffer_free(d->hd);
	tern_buffer_free(d->da);
	tern_buffer_free(d->db);
	if (d->dev)
		tern_device_close(d->dev);
	memset(d, 0, sizeof(*d));
}

/* One copy on @queue, waited for; -ETIME when not done after SK_WAIT_S. */
static int sk_copy1(struct sk_dev *d, int queue, struct tern_buffer *dst, uint64_t doff,
		    struct tern_buffer *src, uint64_t soff, uint64_t size)
{
	struct tern_fence *f = NULL;
	int ret;

	ret = tern_copy_async_on(d->dev, queue, dst, doff, src, soff, size, &f);
	if (ret)
		return ret;
	ret = tern_fence_wait(d->dev, f, SK_WAIT_NS);
	tern_fence_release(f);
	return ret;
}

/* Logs and counts a lost result. */
static void sk_lost(uint64_t *kind, const char *who, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# LOST (%s): %s\n", who, msg);
	SK_ADD(lost, 1);
	__atomic_add_fetch(kind, 1, __ATOMIC_SEQ_CST);
}

/*
 * After a failed step with @ret: 1 when an injected fault explains it (the
 * job is to be submitted again), 0 when the result is lost (logged).
 */
static int sk_after_failure(struct sk_dev *d, const char *who, const char *what, int ret,
			    int queue, int core, uint64_t resets0, int attempt)
{
	char err[256];
	int why;

	snprintf(err, sizeof(err), "%s", tern_last_error());
	if (ret == -ETIME) {
		sk_lost(&sk->lost_hung, who, "%s on device %u: not done after %d s (%s)", what,
			d->index, SK_WAIT_S, err);
		return 0;
	}
	why = sk_blame(ret, d->index, d->minor, queue, core, resets0);
	if (why < 0) {
		sk_lost(&sk->lost_unblamed, who, "%s on device %u: %s, and no injected fault explains it (%s)",
			what, d->index, tern_strerror(ret), err);
		return 0;
	}
	SK_ADD(failed_by[why], 1);
	if (attempt + 1 >= SK_ATTEMPTS) {
		sk_lost(&sk->lost_unblamed, who, "%s on device %u: failed %d times (last: %s)",
			what, d->index, SK_ATTEMPTS, err);
		return 0;
	}
	return 1;
}

/* ---- copies ---- */

/* A size from 1 to SK_COPY_MAX, spread evenly over its powers of two. */
static uint64_t sk_size(struct rng *r)
{
	unsigned int bits = (unsigned int)rng_range(r, 0, 22);
	uint64_t s = 1 + rng_range(r, 0, (2ull << bits) - 1);

	return s > SK_COPY_MAX ? SK_COPY_MAX : s;
}

enum { DIR_H2D2H, DIR_D2D, DIR_H2H, DIR_COUNT };
static const char *const sk_dir_name[DIR_COUNT] = { "host->device->host",
	"host->device->device->host", "host->host" };

/*
 * One verified copy job: @src bytes at a random offset of the host source,
 * through device memory, back into the host destination at another offset,
 * then compared with the guard bytes around it. Returns 1 when verified, 0
 * when lost.
 */
static int sk_copy_job(struct rng *r, struct sk_dev *d, const char *who)
{
	uint64_t size = sk_size(r), so = rng_range(r, 0, SK_GUARD + 4000);
	uint64_t ho = SK_GUARD + rng_range(r, 0, 4000), ao = rng_range(r, 0, 4096);
	uint64_t bo = rng_range(r, 0, 4096), seed = rng_next(r), resets0;
	int dir = (int)rng_range(r, 0, DIR_COUNT - 1), attempt, q = 0, ret;
	char what[160];
	int64_t diff;

	snprintf(what, sizeof(what), "copy %s of %llu bytes", sk_dir_name[dir],
		 (unsigned long long)size);
	for (attempt = 0;; attempt++) {
		resets0 = sk_resets(d->minor);
		tern_fill(d->hsp + so, size, seed + attempt);
		memset(d->hdp + ho - SK_GUARD, 0xa5, size + 2 * SK_GUARD);
		q = (int)rng_range(r, 0, d->nq - 1);
		switch (dir) {
		case DIR_H2D2H:
			ret = sk_copy1(d, q, d->da, ao, d->hs, so, size);
			if (!ret) {
				q = (int)rng_range(r, 0, d->nq - 1);
				ret = sk_copy1(d, q, d->hd, ho, d->da, ao, size);
			}
			break;
		case DIR_D2D:
			ret = sk_copy1(d, q, d->da, ao, d->hs, so, size);
			if (!ret) {
				q = (int)rng_range(r, 0, d->nq - 1);
				ret = sk_copy1(d, q, d->db, bo, d->da, ao, size);
			}
			if (!ret) {
				q = (int)rng_range(r, 0, d->nq - 1);
				ret = sk_copy1(d, q, d->hd, ho, d->db, bo, size);
			}
			break;
		default:
			ret = sk_copy1(d, q, d->hd, ho, d->hs, so, size);
		}
		if (!ret)
			break;
		if (!sk_after_failure(d, who, what, ret, q, -1, resets0, attempt))
			return 0;
		if (attempt == 0)
			SK_ADD(retried, 1);
	}
	diff = tern_first_diff(d->hsp + so, d->hdp + ho, size);
	if (diff >= 0) {
		sk_lost(&sk->lost_wrong, who, "%s on device %u: verified OK but byte %lld differs",
			what, d->index, (long long)diff);
		return 0;
	}
	if (tern_first_not(d->hdp + ho - SK_GUARD, 0xa5, SK_GUARD) >= 0 ||
	    tern_first_not(d->hdp + ho + size, 0xa5, SK_GUARD) >= 0) {
		sk_lost(&sk->lost_wrong, who, "%s on device %u: bytes around the destination changed",
			what, d->index);
		return 0;
	}
	SK_ADD(copies, 1);
	SK_ADD(bytes, size);
	if (attempt)
		SK_ADD(retried_ok, 1);
	return 1;
}

/* ---- compute ops ---- */

static uint64_t sk_dim(struct rng *r, uint64_t max)
{
	/* small ones often, the edges of 128-row tiles sometimes */
	static const uint64_t edge[] = { 1, 2, 63, 64, 65, 127, 128, 129 };

	if (rng_range(r, 0, 3) == 0) {
		uint64_t e = edge[rng_range(r, 0, 7)];

		if (e <= max)
			return e;
	}
	return rng_range(r, 1, max);
}

static enum layout sk_layout(struct rng *r, bool input)
{
	static const enum layout l[] = { DENSE, DENSE, DENSE, SLICE, TRANSPOSED, REVERSED,
					 BROADCAST };

	return l[rng_range(r, 0, input ? 6 : 5)];
}

static unsigned int sk_dtype(struct rng *r)
{
	static const unsigned int dt[] = { TERN_DT_FP32, TERN_DT_FP32, TERN_DT_BF16,
					   TERN_DT_FP16 };

	return dt[rng_range(r, 0, 3)];
}

/* A random op of a random kind on small random shapes. */
static void sk_random_op(struct rng *r, struct ocase *c)
{
	static const unsigned int acts[] = { TERN_ACT_RELU, TERN_ACT_GELU, TERN_ACT_SILU,
					     TERN_ACT_SIGMOID, TERN_ACT_TANH, TERN_ACT_IDENTITY };
	static const unsigned int alus[] = { TERN_ALU_ADD, TERN_ALU_SUB, TERN_ALU_MUL,
					     TERN_ALU_MAX, TERN_ALU_MIN, TERN_ALU_DIV };
	unsigned int dt = sk_dtype(r), odt = rng_range(r, 0, 2) ? dt : sk_dtype(r);
	uint64_t m, n, k, dv;

	switch (rng_range(r, 0, 8)) {
	case 0:
		m = sk_dim(r, 96), n = sk_dim(r, 160), k = sk_dim(r, 160);
		case_init(c, TERN_OPKIND_MATMUL, 0, 2);
		c->op.out = place(c, r, 0, odt, m, n, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, k, sk_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, k, n, sk_layout(r, true));
		break;
	case 1: {
		unsigned int alu = alus[rng_range(r, 0, 5)];

		m = sk_dim(r, 160), n = sk_dim(r, 256);
		case_init(c, TERN_OPKIND_BINARY, alu, 2);
		if (alu == TERN_ALU_DIV)
			c->dom[1] = (struct dom){ 0.5f, 1.0f, true };
		c->op.out = place(c, r, 0, odt, m, n, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, n, sk_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, m, n, sk_layout(r, true));
		break;
	}
	case 2:
		m = sk_dim(r, 160), n = sk_dim(r, 256);
		case_init(c, TERN_OPKIND_ACTIVATION, acts[rng_range(r, 0, 5)], 1);
		c->op.out = place(c, r, 0, odt, m, n, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, n, sk_layout(r, true));
		break;
	case 3:
	case 4:
	case 5: {
		static const unsigned int kinds[] = { TERN_OPKIND_SOFTMAX, TERN_OPKIND_LAYERNORM,
						      TERN_OPKIND_RMSNORM };
		unsigned int kind = kinds[rng_range(r, 0, 2)];
		unsigned int nin = kind == TERN_OPKIND_SOFTMAX ? 1 :
				   kind == TERN_OPKIND_LAYERNORM ? 3 : 2;

		m = sk_dim(r, 160), n = sk_dim(r, 256);
		case_init(c, kind, 0, nin);
		c->op.eps = kind == TERN_OPKIND_SOFTMAX ? 0 : 1e-5f;
		c->op.out = place(c, r, 0, odt, m, n, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, n, sk_layout(r, true));
		for (unsigned int i = 1; i < nin; i++)
			c->op.in[i] = place(c, r, 1 + i, dt, 1, n, DENSE);
		break;
	}
	case 6:
		m = sk_dim(r, 160), n = sk_dim(r, 160);
		case_init(c, TERN_OPKIND_TRANSPOSE, 0, 1);
		c->op.out = place(c, r, 0, odt, n, m, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, n, sk_layout(r, true));
		break;
	case 7:
		m = sk_dim(r, 160), n = sk_dim(r, 256);
		case_init(c, TERN_OPKIND_BIAS, acts[rng_range(r, 0, 5)], 2);
		c->op.out = place(c, r, 0, odt, m, n, sk_layout(r, false));
		c->op.in[0] = place(c, r, 1, dt, m, n, sk_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, 1, n, DENSE);
		break;
	default: {
		bool causal = rng_range(r, 0, 1);
		uint64_t sq = sk_dim(r, 64), sk_ = sk_dim(r, 96);

		k = sk_dim(r, 64), dv = sk_dim(r, 64);
		if (causal && sq > sk_) {
			uint64_t t = sq;

			sq = sk_;
			sk_ = t;
		}
		case_init(c, TERN_OPKIND_ATTENTION, causal ? TERN_ATTN_CAUSAL : 0, 3);
		c->op.scale = (float)(1.0 / sqrt((double)k));
		c->op.out = place(c, r, 0, odt, sq, dv, DENSE);
		c->op.in[0] = place(c, r, 1, dt, sq, k, sk_layout(r, true));
		c->op.in[1] = place(c, r, 2, dt, sk_, k, sk_layout(r, true));
		c->op.in[2] = place(c, r, 3, dt, sk_, dv, sk_layout(r, true));
	}
	}
}

/* Picks a core for a launch, not one the injector is about to hang; marks it busy. */
static int sk_core_get(struct rng *r, struct sk_dev *d)
{
	for (;;) {
		int c = (int)rng_range(r, 0, d->ncores - 1);

		__atomic_add_fetch(&sk->core_busy[d->index][c], 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&sk->hang_block[d->index][c], __ATOMIC_SEQ_CST))
			return c;
		__atomic_sub_fetch(&sk->core_busy[d->index][c], 1, __ATOMIC_SEQ_CST);
		st_sleep_ms(5);
	}
}

static void sk_core_put(struct sk_dev *d, int c)
{
	__atomic_sub_fetch(&sk->core_busy[d->index][c], 1, __ATOMIC_SEQ_CST);
}

/* Inputs, the reference and the buffers of @c; an error (logged) when not set up. */
static int sk_bufs_init(struct rng *r, struct sk_dev *d, const struct ocase *c,
			  struct bufs *b)
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
		if (!b->init[s] || !b->ref[s])
			return -ENOMEM;
		tern_fill(b->init[s], b->size[s], rng_next(r));
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
					       draw(r, c->dom[k]));
	}
	for (unsigned int s = 0; s < b->n; s++)
		memcpy(b->ref[s], b->init[s], b->size[s]);
	ret = tern_op_reference(op, (void *const *)b->ref, b->size, b->n);
	if (ret)
		return ret;
	for (unsigned int s = 0; s < b->n; s++) {
		ret = tern_buffer_alloc(d->dev, b->size[s], TERN_MEM_DEVICE, &b->dev[s]);
		if (!ret)
			ret = tern_buffer_alloc(d->dev, b->size[s], TERN_MEM_HOST, &b->host[s]);
		if (!ret)
			ret = tern_buffer_map(b->host[s], &p);
		if (ret)
			return ret;
		b->hmap[s] = p;
	}
	return 0;
}

/*
 * One verified op job on core @want_core (-1: a random one): 1 when
 * verified, 0 when lost, -1 when the case was refused before it ran.
 */
static int sk_op_job(struct rng *r, struct sk_dev *d, const char *who, unsigned int widx,
		     int want_core)
{
	struct runner rn = { .index = d->index, .ncores = d->ncores };
	struct tern_launch_status st;
	struct bufs b;
	struct ocase c;
	char what[700], desc[640];
	uint64_t resets0;
	int attempt, ret, q = -1, core = -1, result = 0;

	sk_random_op(r, &c);
	op_desc(desc, sizeof(desc), &c.op);
	snprintf(what, sizeof(what), "op %s", desc);
	ret = sk_bufs_init(r, d, &c, &b);
	if (ret) {
		/* memory, not the device: the job did not run */
		fprintf(stderr, "# %s: setting up %s: %s (%s)\n", who, what, tern_strerror(ret),
			tern_last_error());
		bufs_free(&b);
		return -1;
	}
	for (attempt = 0;; attempt++) {
		resets0 = sk_resets(d->minor);
		ret = 0;
		core = -1;
		for (unsigned int s = 0; s < b.n && !ret; s++) {
			memcpy(b.hmap[s], b.init[s], b.size[s]);
			q = (int)rng_range(r, 0, d->nq - 1);
			ret = sk_copy1(d, q, b.dev[s], 0, b.host[s], 0, b.size[s]);
		}
		if (!ret) {
			q = -1;
			core = want_core >= 0 ? want_core : sk_core_get(r, d);
			memset(&st, 0, sizeof(st));
			ret = tern_op_run(d->dev, core, &c.op, b.dev, b.n, &st);
			if (want_core < 0)
				sk_core_put(d, core);
			if (ret == -EINVAL || ret == -ENOSPC) {
				/* the library refused the op before launching it */
				fprintf(stderr, "# %s: %s refused: %s (%s)\n", who, what,
					tern_strerror(ret), tern_last_error());
				result = -1;
				goto out;
			}
		}
		for (unsigned int s = 0; s < b.n && !ret; s++) {
			memset(b.hmap[s], 0x5a, b.size[s]);
			q = (int)rng_range(r, 0, d->nq - 1);
			core = -1;
			ret = sk_copy1(d, q, b.host[s], 0, b.dev[s], 0, b.size[s]);
		}
		if (!ret)
			break;
		if (!sk_after_failure(d, who, what, ret, q, core, resets0, attempt))
			goto out;
		if (attempt == 0)
			SK_ADD(retried, 1);
	}
	snprintf(what, sizeof(what), "%s on device %u core %d", who, d->index, core);
	if (!bufs_check(&rn, &c, &b, what)) {
		sk_lost(&sk->lost_wrong, who, "op on device %u: result outside the tolerance",
			d->index);
		goto out;
	}
	if (rn.worst > sk->worst_by_worker[widx])
		sk->worst_by_worker[widx] = rn.worst;
	if (widx < SK_MAX_WORKERS - 1)	/* the injector's probes are not counted */
		SK_ADD(ops, 1);
	if (attempt)
		SK_ADD(retried_ok, 1);
	result = 1;
out:
	bufs_free(&b);
	return result;
}

/* ---- workers ---- */

static void __attribute__((noreturn))
sk_worker_main(unsigned int widx, unsigned int ndev, uint64_t seed, uint64_t end_ns)
{
	struct sk_dev devs[SK_MAX_DEVS];
	struct rng r = { .s = st_mix(seed ^ ((uint64_t)widx + 1) << 40) };
	char who[32];
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(who, sizeof(who), "worker %u", widx);
	for (unsigned int i = 0; i < ndev; i++) {
		ret = sk_dev_open(&devs[i], i);
		if (ret) {
			fprintf(stderr, "# %s: opening device %u: %s (%s)\n", who, i,
				tern_strerror(ret), tern_last_error());
			_exit(2);
		}
	}
	while (st_now_ns() < end_ns) {
		struct sk_dev *d = &devs[rng_range(&r, 0, ndev - 1)];
		int ok;

		if (rng_range(&r, 0, 2))
			ok = sk_copy_job(&r, d, who);
		else
			ok = sk_op_job(&r, d, who, widx, -1);
		if (ok < 0)
			continue;
		SK_ADD(jobs, 1);
		if (ok)
			SK_ADD(jobs_ok, 1);
	}
	for (unsigned int i = 0; i < ndev; i++)
		sk_dev_close(&devs[i]);
	_exit(0);
}

#include "tern_soak_inject.h"

/* ---- the test ---- */

TEST(soak)
{
	unsigned int minors[SK_MAX_DEVS], faults = 0;
	struct st_counts base[SK_MAX_DEVS];
	uint64_t fi0[SK_MAX_DEVS] = { 0 }, fi1[SK_MAX_DEVS] = { 0 }, resets0[SK_MAX_DEVS];
	pid_t pid[SK_MAX_WORKERS], inj = -1;
	const char *fenv = getenv("TERN_SOAK_FAULTS");
	uint64_t seed = st_seed_from_env("TERN_SOAK_SEED"), t0, end_ns, injected = 0;
	uint64_t recovered = 0, not_recovered = 0, effect = 0, unclaimed = 0;
	long secs = sk_time_s();
	int nworkers = (int)st_env_long("TERN_SOAK_WORKERS", 4), ndev, bad_ends = 0;
	bool relay, lost_timeout_set[SK_MAX_DEVS] = { false };
	char bad[64] = "";
	double worst = 0;

	/* the last slot of worst_by_worker[] is the injector's */
	if (nworkers > SK_MAX_WORKERS - 1)
		nworkers = SK_MAX_WORKERS - 1;
	if (!fenv || !*fenv)
		fenv = SK_DEFAULT_FAULTS;
	ASSERT_EQ(0, sk_parse_faults(fenv, &faults, bad, sizeof(bad)))
		TH_LOG("TERN_SOAK_FAULTS: unknown fault kind '%s'", bad);
	ndev = tern_minors(minors, SK_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), ndev);
	ASSERT_LE(1, ndev);
	relay = tern_vm_relay_available() == 1;
	if (faults & ~(1u << K_RECOVER) && !relay) {
		fprintf(stderr, "# no QMP relay: only debugfs recover can be injected\n");
		faults &= 1u << K_RECOVER;
	}
	sk = mmap(NULL, sizeof(*sk), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sk);
	memset(sk, 0, sizeof(*sk));
	for (int i = 0; i < ndev; i++) {
		if (faults & (1u << K_LOST_QUEUE))
			lost_timeout_set[i] = tern_debugfs_write(minors[i], "dma_timeout_ms",
					SK_LOST_TIMEOUT, strlen(SK_LOST_TIMEOUT)) > 0;
		st_counts_get(minors[i], &base[i]);
		st_counts_log("baseline", minors[i], &base[i]);
		resets0[i] = sk_resets(minors[i]);
		if (relay)
			ASSERT_EQ(0, tern_inject_faults(i, &fi0[i])) TH_LOG("%s", tern_vm_error());
	}
	fprintf(stderr, "# soak: %ld s, %d workers, %d devices, seed %#llx (TERN_SOAK_SEED=%#llx repeats the streams), faults:",
		secs, nworkers, ndev, (unsigned long long)seed, (unsigned long long)seed);
	for (int k = 0; k < K_COUNT; k++)
		if (faults & (1u << k))
			fprintf(stderr, " %s", sk_kind_name[k]);
	fprintf(stderr, "%s\n", faults ? "" : " none");

	t0 = st_now_ns();
	end_ns = t0 + (uint64_t)secs * 1000000000ull;
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < nworkers; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			sk_worker_main((unsigned int)i, (unsigned int)ndev, seed, end_ns);
		ASSERT_LT(0, pid[i]);
	}
	if (faults) {
		inj = fork();
		if (inj == 0)
			sk_injector_main((unsigned int)ndev, faults, seed, end_ns);
		ASSERT_LT(0, inj);
	}
	/* Everyone stops by itself; a job in flight may take SK_WAIT_S, a fault SK_RECOVER_S. */
	for (int i = 0; i <= nworkers; i++) {
		pid_t p = i < nworkers ? pid[i] : inj;
		uint64_t limit = end_ns + (uint64_t)(SK_RECOVER_S + 120) * 1000000000ull;
		int status = 0;
		pid_t w;

		if (p <= 0)
			continue;
		while ((w = waitpid(p, &status, WNOHANG)) == 0 && st_now_ns() < limit)
			st_sleep_ms(100);
		if (w == 0) {
			kill(p, SIGKILL);
			waitpid(p, &status, 0);
			fprintf(stderr, "# %s %d still ran long after the end: killed\n",
				p == inj ? "injector" : "worker", i);
			bad_ends++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "# %s %d ended with status %#x\n",
				p == inj ? "injector" : "worker", i, status);
			bad_ends++;
		}
	}

	/* The report. */
	for (int i = 0; i < ndev; i++) {
		if (relay)
			EXPECT_EQ(0, tern_inject_faults(i, &fi1[i])) TH_LOG("%s", tern_vm_error());
		effect += fi1[i] - fi0[i];
		fprintf(stderr, "# accel%u: %llu faults took effect in the chip, %llu recoveries, %llu lost completions counted\n",
			minors[i], (unsigned long long)(fi1[i] - fi0[i]),
			(unsigned long long)(sk_resets(minors[i]) - resets0[i]),
			(unsigned long long)tern_sysfs_u64(minors[i], "lost_completions"));
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (!sk->injected[k])
			continue;
		injected += sk->injected[k];
		recovered += sk->recovered[k];
		not_recovered += sk->not_recovered[k];
		fprintf(stderr, "# fault %-21s injected %4llu  took effect %4llu  recovered %4llu  not recovered %llu\n",
			sk_kind_name[k], (unsigned long long)sk->injected[k],
			(unsigned long long)sk->took_effect[k], (unsigned long long)sk->recovered[k],
			(unsigned long long)sk->not_recovered[k]);
	}
	for (int w = 0; w < W_COUNT; w++)
		fprintf(stderr, "# jobs failed by %-24s %llu (submitted again)\n", sk_why_name[w],
			(unsigned long long)sk->failed_by[w]);
	for (int i = 0; i < ndev; i++) {
		for (int q = 0; q < SK_MAX_QUEUES; q++)
			unclaimed += (uint64_t)sk->armed_abort[i][q];
		for (int c = 0; c < SK_MAX_CORES; c++)
			unclaimed += (uint64_t)sk->armed_hang[i][c];
	}
	for (int w = 0; w < SK_MAX_WORKERS; w++)
		if (sk->worst_by_worker[w] > worst)
			worst = sk->worst_by_worker[w];
	fprintf(stderr, "# jobs %llu: verified %llu (%llu copies, %.1f MiB; %llu ops, worst error %.3f of the tolerance); %llu submitted again after an injected fault, %llu of them then verified\n",
		(unsigned long long)sk->jobs, (unsigned long long)sk->jobs_ok,
		(unsigned long long)sk->copies, sk->bytes / 1048576.0, (unsigned long long)sk->ops,
		worst, (unsigned long long)sk->retried, (unsigned long long)sk->retried_ok);
	fprintf(stderr, "# injector: %llu verified jobs of its own (%llu OK), recovery in %.1f ms mean, %.1f ms worst; %llu injections refused; %llu blamed faults never claimed\n",
		(unsigned long long)sk->probes, (unsigned long long)sk->probes_ok,
		recovered ? (double)sk->recover_ms_sum / (double)recovered : 0.0,
		(double)sk->recover_ms_max, (unsigned long long)sk->refused,
		(unsigned long long)unclaimed);
	fprintf(stderr, "# lost %llu: %llu wrong data, %llu never done, %llu failed with no fault to blame\n",
		(unsigned long long)(sk->lost + sk->lost_probe), (unsigned long long)sk->lost_wrong,
		(unsigned long long)sk->lost_hung, (unsigned long long)sk->lost_unblamed);
	fprintf(stderr, "# soak: %.0f s, %llu jobs, %llu faults injected, %llu recovered, %llu lost\n",
		(st_now_ns() - t0) / 1e9, (unsigned long long)sk->jobs,
		(unsigned long long)injected, (unsigned long long)recovered,
		(unsigned long long)(sk->lost + sk->lost_probe));

	EXPECT_EQ(0, sk->lost + sk->lost_probe);
	EXPECT_EQ(0, not_recovered);
	EXPECT_EQ(injected, recovered);
	EXPECT_EQ(0, unclaimed);
	EXPECT_EQ(0, bad_ends);
	EXPECT_EQ(0, sk->refused);
	EXPECT_LT(0, sk->jobs_ok) TH_LOG("no job was verified");
	EXPECT_EQ(sk->jobs, sk->jobs_ok);

	for (int i = 0; i < ndev; i++)
		if (lost_timeout_set[i])
			tern_debugfs_write(minors[i], "dma_timeout_ms", "0", 1);
	for (int i = 0; i < ndev; i++) {
		int64_t ms = st_wait_baseline(minors[i], &base[i], 180);

		EXPECT_LE(0, ms) TH_LOG("accel%u: counts not back to their baseline", minors[i]);
	}
	for (int i = 0; i < ndev; i++)
		st_device_check(_metadata, i);
	for (int i = 0; i < ndev; i++)
		EXPECT_LE(0, st_wait_baseline(minors[i], &base[i], 60));
}

/* The harness's timeout follows TERN_SOAK_TIME (it is fixed before main()). */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST + 1))) sk_set_timeout(void)
{
	_soak_object.timeout = (int)sk_time_s() + SK_MARGIN_S;
}

TEST_HARNESS_MAIN
