// SPDX-License-Identifier: MIT
/*
 * tern_badprog: programs that fault, through libtern on the real driver
 * and the emulated chips, on every core of every device.
 *
 * An illegal opcode (through tern_launch() and tern_launch_async()), a
 * semaphore deadlock, an SBUF access out of range (a hand-written one, and
 * a builder's program made for a core with a bigger SBUF) and HBM accesses
 * out of range (a load, a store, an offset past the buffer) each end the
 * launch with -EIO and the right TERN_CERR_*, engine, instruction and
 * detail in struct tern_launch_status, having changed nothing; the next
 * launch on the same core gives correct data (checked with the case runner
 * of tern_ops_test.h, which tern_ops shares). tern_op_run() with a tensor
 * outside its buffer fails with -EINVAL and runs nothing.
 *
 * Data come from a seed that every test prints; TERN_SEED=<n> repeats a run.
 */
#include "tern_ops_test.h"

/* TERN_CERR_* by name, for messages. */
static const char *cerr_name(unsigned int e)
{
	static const char *const n[TERN_CERR_COUNT] = {
		"NONE", "BAD_PROGRAM", "ILLEGAL_OPCODE", "RESERVED", "BAD_DTYPE", "BAD_OPERAND",
		"SBUF_RANGE", "PSUM_RANGE", "BAD_SLOT", "HBM_RANGE", "DEADLOCK", "ECC",
	};

	return e < TERN_CERR_COUNT ? n[e] : "?";
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
