// SPDX-License-Identifier: MIT
/*
 * tern_launch: libtern's compute launches against the real driver and the
 * emulated cores. Kernels loaded and launched synchronously and
 * asynchronously on every core of every device, with results checked
 * against the CPU reference (tern_op_run() and tern_op_reference(), and a
 * program written by hand); the launch status; many launches in flight
 * waited in reverse; faults (illegal opcode, deadlock, HBM range) with the
 * next launch succeeding; TERN_CORE_ANY; a kernel freed while it runs; and
 * every rejected argument, with nothing launched. The program cache is
 * tested by tern_cache; the helpers and the fixture are tern_launch_test.h.
 */
#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"
#include "tern_launch_test.h"

/* ---- ops ---- */

static struct tern_op softmax_op(unsigned int dtype, uint64_t rows, uint64_t cols)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_SOFTMAX;
	op.nin = 1;
	op.out = tern_tensor_2d(0, dtype, rows, cols);
	op.in[0] = tern_tensor_2d(1, dtype, rows, cols);
	return op;
}

/* ---- hand-built programs ---- */

/* Vector: NOP, an opcode no engine has, END. */
static size_t hand_illegal(struct hand_prog *p)
{
	size_t size = hand_init(p, 3, 0, 0);

	hand_stream(p, TERN_ENGINE_VECTOR, 0, 3);
	p->insn[0].h.opcode = TERN_OP_NOP;
	p->insn[1].h.opcode = 0x7f;
	p->insn[2].h.opcode = TERN_OP_END;
	return size;
}

/* Scalar waits for a semaphore nobody signals. */
static size_t hand_deadlock(struct hand_prog *p)
{
	size_t size = hand_init(p, 2, 0, 1);

	hand_stream(p, TERN_ENGINE_SCALAR, 0, 2);
	p->insn[0].h.opcode = TERN_OP_WAIT;
	p->insn[0].h.sync = TERN_SYNC_WAIT;
	p->insn[0].h.wait_sem = 0;
	p->insn[0].h.wait_value = 1;
	p->insn[1].h.opcode = TERN_OP_END;
	return size;
}

static struct tern_ap relu_tile(void)
{
	struct tern_ap ap = {
		.offset = 0, .mem = TERN_AP_SBUF, .dtype = TERN_DT_FP32, .part = 0,
		.nparts = RELU_ROWS, .n = { RELU_COLS, 1 }, .s = { 1, 0 },
	};

	return ap;
}

static void hand_dma(union tern_insn *in, unsigned int opcode, unsigned int slot)
{
	in->dma.h.opcode = opcode;
	in->dma.sbuf = relu_tile();
	in->dma.slot = slot;
	in->dma.pstride = RELU_COLS * 4;
	in->dma.stride[0] = 4;
}

/*
 * slot 1 = relu(3 * slot 0 - 1), [128 x 48] fp32, in three engines' words:
 * DMA loads (signals 0), the scalar engine activates (waits 0, signals 1),
 * DMA stores (waits 1).
 */
static size_t hand_relu(struct hand_prog *p)
{
	float scale = 3.0f, bias = -1.0f;
	size_t size = hand_init(p, 5, 2, 2);

	hand_stream(p, TERN_ENGINE_DMA, 0, 3);
	hand_stream(p, TERN_ENGINE_SCALAR, 3, 2);
	hand_dma(&p->insn[0], TERN_OP_DMA_LOAD, 0);
	p->insn[0].h.sync = TERN_SYNC_SIGNAL;
	p->insn[0].h.signal_sem = 0;
	hand_dma(&p->insn[1], TERN_OP_DMA_STORE, 1);
	p->insn[1].h.sync = TERN_SYNC_WAIT;
	p->insn[1].h.wait_sem = 1;
	p->insn[1].h.wait_value = 1;
	p->insn[2].h.opcode = TERN_OP_END;
	p->insn[3].act.h.opcode = TERN_OP_ACTIVATE;
	p->insn[3].act.h.op = TERN_ACT_RELU;
	p->insn[3].act.h.sync = TERN_SYNC_ALL;
	p->insn[3].act.h.wait_sem = 0;
	p->insn[3].act.h.wait_value = 1;
	p->insn[3].act.h.signal_sem = 1;
	p->insn[3].act.dst = relu_tile();
	p->insn[3].act.src = relu_tile();
	memcpy(&p->insn[3].act.scale, &scale, 4);
	memcpy(&p->insn[3].act.bias_imm, &bias, 4);
	p->insn[4].h.opcode = TERN_OP_END;
	return size;
}

/* A kernel built with the ops library. */
static struct tern_kernel *load_op(struct __test_metadata *_metadata, struct tern_device *dev,
				   const struct tern_op *op)
{
	struct tern_program *p;
	struct tern_kernel *k;
	const void *image;
	size_t size;

	ASSERT_EQ(0, tern_prog_create(0, &p));
	ASSERT_EQ(0, tern_op_emit(p, op)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(p, &image, &size)) TH_LOG("%s", tern_last_error());
	k = load(_metadata, dev, image, size);
	tern_prog_free(p);
	return k;
}

/* ---- checks ---- */

static uint64_t jobs_submitted(unsigned int minor)
{
	return tern_sysfs_u64(minor, "jobs_submitted");
}

static void expect_ok(struct __test_metadata *_metadata, struct tern_device *dev,
		      struct tern_kernel *k, int core)
{
	struct tern_launch_status st;
	int ret;

	ret = tern_launch(dev, k, core, NULL, 0, &st);
	EXPECT_EQ(0, ret) TH_LOG("core %d: %s", core, tern_last_error());
	EXPECT_EQ(0, st.result);
	EXPECT_EQ((unsigned int)core, st.core);
	EXPECT_EQ(2, st.insns[TERN_ENGINE_VECTOR]);
}

/* ---- results on every core of every device ---- */

TEST_F_TIMEOUT(launch, ops_sync_on_every_core_of_every_device, 600)
{
	int ndev = tern_expected_devices();

	for (int d = 0; d < ndev; d++) {
		struct tern_device *dev;
		unsigned int cores;

		ASSERT_EQ(0, tern_device_open(d, &dev)) TH_LOG("%s", tern_last_error());
		cores = num_cores(_metadata, dev);
		for (unsigned int c = 0; c < cores; c++) {
			struct tern_op ops[] = {
				matmul_op(TERN_DT_FP32, 70, 130, 90),
				matmul_op(TERN_DT_BF16, 129, 64, 33),
				softmax_op(TERN_DT_FP32, 100, 300),
			};

			for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
				struct tern_launch_status st;
				struct op_bufs ob;
				char what[96];
				int ret;

				op_bufs_new(_metadata, dev, &ops[i], &ob, tern_seed() + i);
				ret = tern_op_run(dev, (int)c, &ops[i], ob.b, ob.n, &st);
				ASSERT_EQ(0, ret) TH_LOG("%s", tern_last_error());
				EXPECT_EQ(c, st.core);
				EXPECT_LT(0, st.cycles);
				snprintf(what, sizeof(what), "device %d core %u %s", d, c,
					 tern_op_name(ops[i].kind));
				op_check(_metadata, &ops[i], &ob, what);
				op_bufs_free(&ob);
			}
		}
		EXPECT_EQ(0, tern_device_close(dev)) TH_LOG("%s", tern_last_error());
	}
}

TEST_F_TIMEOUT(launch, async_on_every_core_of_every_device, 600)
{
	int ndev = tern_expected_devices();

	for (int d = 0; d < ndev; d++) {
		struct tern_op op = softmax_op(TERN_DT_BF16, 130, 77);
		struct tern_device *dev;
		struct tern_kernel *k;
		unsigned int cores;

		ASSERT_EQ(0, tern_device_open(d, &dev)) TH_LOG("%s", tern_last_error());
		cores = num_cores(_metadata, dev);
		k = load_op(_metadata, dev, &op);
		EXPECT_EQ(2, tern_kernel_slots(k));
		for (unsigned int c = 0; c < cores; c++) {
			struct tern_launch_status st;
			struct tern_fence *f = NULL;
			struct op_bufs ob;
			char what[64];
			int ret;

			op_bufs_new(_metadata, dev, &op, &ob, tern_seed() + c);
			ret = tern_launch_async(dev, k, (int)c, ob.b, ob.n, &f);
			ASSERT_EQ(0, ret) TH_LOG("%s", tern_last_error());
			ASSERT_NE(NULL, f);
			/* Not known done before a wait says so. */
			EXPECT_EQ(-EBUSY, tern_fence_launch_status(f, &st));
			ret = tern_fence_wait(dev, f, 0);
			EXPECT_TRUE(ret == 0 || ret == -ETIME) TH_LOG("poll: %d", ret);
			EXPECT_EQ(0, tern_fence_wait(dev, f, WAIT_NS)) TH_LOG("%s", tern_last_error());
			/* Every later wait gives the same at once. */
			EXPECT_EQ(0, tern_fence_wait(dev, f, 0));
			EXPECT_EQ(-1, tern_fence_queue(f));
			ASSERT_EQ(0, tern_fence_launch_status(f, &st));
			EXPECT_EQ(0, st.result);
			EXPECT_EQ(c, st.core);
			tern_fence_release(f);
			snprintf(what, sizeof(what), "device %d core %u softmax async", d, c);
			op_check(_metadata, &op, &ob, what);
			op_bufs_free(&ob);
		}
		tern_kernel_free(k);
		EXPECT_EQ(0, tern_device_close(dev)) TH_LOG("%s", tern_last_error());
	}
}

TEST_F(launch, hand_built_program_on_every_core)
{
	struct tern_buffer *slots[2] = { self->buf[0], self->buf[1] };
	float *in = self->map[0], *out = self->map[1];
	struct tern_launch_status st;
	struct hand_prog hp;
	struct tern_kernel *k = load(_metadata, self->dev, &hp, hand_relu(&hp));

	EXPECT_EQ(2, tern_kernel_slots(k));
	for (unsigned int c = 0; c < self->cores; c++) {
		fill(in, RELU_ROWS * RELU_COLS * 4, TERN_DT_FP32, tern_seed() + c);
		memset(out, 0xff, RELU_ROWS * RELU_COLS * 4);
		ASSERT_EQ(0, tern_launch(self->dev, k, (int)c, slots, 2, &st))
			TH_LOG("%s", tern_last_error());
		for (unsigned int i = 0; i < RELU_ROWS * RELU_COLS; i++) {
			float y = in[i] * 3.0f + -1.0f, want = y > 0 ? y : 0.0f;

			ASSERT_EQ(0, memcmp(&want, &out[i], 4))
				TH_LOG("core %u element %u: %g, expected %g", c, i, out[i], want);
		}
		EXPECT_EQ(3, st.insns[TERN_ENGINE_DMA]);
		EXPECT_EQ(2, st.insns[TERN_ENGINE_SCALAR]);
		EXPECT_EQ(0, st.insns[TERN_ENGINE_TENSOR]);
		EXPECT_EQ(0, st.insns[TERN_ENGINE_VECTOR]);
	}
	tern_kernel_free(k);
}

/* ---- the status ---- */

TEST_F_TIMEOUT(launch, status_fields, 120)
{
	struct tern_op op = matmul_op(TERN_DT_BF16, 200, 256, 300);
	struct tern_program *p;
	struct tern_launch_status st;
	struct op_bufs ob;
	struct tern_kernel *k;
	const void *image;
	size_t size;
	uint64_t cycles = 0;

	ASSERT_EQ(0, tern_prog_create(0, &p));
	ASSERT_EQ(0, tern_op_emit(p, &op));
	ASSERT_EQ(0, tern_prog_finish(p, &image, &size));
	k = load(_metadata, self->dev, image, size);
	op_bufs_new(_metadata, self->dev, &op, &ob, tern_seed());
	memset(&st, 0x5a, sizeof(st));
	ASSERT_EQ(0, tern_launch(self->dev, k, 0, ob.b, ob.n, &st)) TH_LOG("%s", tern_last_error());
	op_check(_metadata, &op, &ob, "matmul bf16 200x256x300");

	EXPECT_EQ(0, st.result);
	EXPECT_EQ(0, st.core);
	EXPECT_EQ(0, st.error);
	EXPECT_STREQ("", st.error_name);
	EXPECT_EQ(TERN_ENGINE_NONE, st.engine);
	EXPECT_EQ(TERN_INDEX_NONE, st.index);
	EXPECT_LT(0, st.cycles);
	/* modeled time is the cycles at the core clock */
	EXPECT_EQ(st.cycles * 1000000000ull / TERN_COST_CLOCK_HZ, st.modeled_ns);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		int count = tern_prog_count(p, e);

		/* each stream's instructions and its END ran */
		EXPECT_EQ((uint32_t)(count ? count + 1 : 0), st.insns[e]) TH_LOG("engine %u", e);
		EXPECT_GE(st.cycles, st.busy[e]) TH_LOG("engine %u", e);
		if (count) {
			EXPECT_LT(0, st.busy[e]) TH_LOG("engine %u", e);
		}
		cycles = st.busy[e] > cycles ? st.busy[e] : cycles;
	}
	/* the job lasts at least as long as its busiest engine */
	EXPECT_LE(cycles, st.cycles);
	EXPECT_LT(0, st.device_ns);
	EXPECT_LT(0, st.wall_ns);
	TH_LOG("modeled %llu ns (%llu cycles), device %llu ns, wall %llu ns",
	       (unsigned long long)st.modeled_ns, (unsigned long long)st.cycles,
	       (unsigned long long)st.device_ns, (unsigned long long)st.wall_ns);
	/* the emulated core's time is part of the launch's */
	EXPECT_LE(st.device_ns, st.wall_ns);
	op_bufs_free(&ob);
	tern_kernel_free(k);
	tern_prog_free(p);
}

/* ---- many launches in flight ---- */

#define INFLIGHT_PER_CORE	24

TEST_F_TIMEOUT(launch, many_in_flight_on_all_cores_waited_in_reverse, 600)
{
	unsigned int n = INFLIGHT_PER_CORE * self->cores;
	uint64_t bytes = RELU_ROWS * RELU_COLS * 4, seed = tern_seed();
	struct tern_buffer **in, **out;
	struct tern_fence **f;
	struct hand_prog hp;
	struct tern_kernel *k = load(_metadata, self->dev, &hp, hand_relu(&hp));
	void **inmap, **outmap;

	in = calloc(n, sizeof(*in));
	out = calloc(n, sizeof(*out));
	inmap = calloc(n, sizeof(*inmap));
	outmap = calloc(n, sizeof(*outmap));
	f = calloc(n, sizeof(*f));
	ASSERT_TRUE(in && out && inmap && outmap && f);
	for (unsigned int i = 0; i < n; i++) {
		in[i] = buffer(_metadata, self->dev, bytes, TERN_MEM_DEVICE, &inmap[i]);
		out[i] = buffer(_metadata, self->dev, bytes, TERN_MEM_DEVICE, &outmap[i]);
		fill(inmap[i], bytes, TERN_DT_FP32, seed + i);
		memset(outmap[i], 0, bytes);
	}
	for (unsigned int i = 0; i < n; i++) {
		struct tern_buffer *slots[2] = { in[i], out[i] };

		ASSERT_EQ(0, tern_launch_async(self->dev, k, (int)(i % self->cores), slots, 2, &f[i]))
			TH_LOG("launch %u: %s", i, tern_last_error());
	}
	/* The kernel may go: the launches hold it. */
	tern_kernel_free(k);
	for (unsigned int i = n; i-- > 0;) {
		struct tern_launch_status st;
		const float *x = inmap[i], *y = outmap[i];

		ASSERT_EQ(0, tern_fence_wait(self->dev, f[i], WAIT_NS))
			TH_LOG("launch %u: %s", i, tern_last_error());
		ASSERT_EQ(0, tern_fence_launch_status(f[i], &st));
		EXPECT_EQ(0, st.result);
		EXPECT_EQ(i % self->cores, st.core);
		EXPECT_LT(0, st.cycles);
		tern_fence_release(f[i]);
		for (unsigned int e = 0; e < RELU_ROWS * RELU_COLS; e++) {
			float v = x[e] * 3.0f - 1.0f, want = v > 0 ? v : 0.0f;

			ASSERT_EQ(0, memcmp(&want, &y[e], 4))
				TH_LOG("launch %u element %u: %g, expected %g", i, e, y[e], want);
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		tern_buffer_free(in[i]);
		tern_buffer_free(out[i]);
	}
	free(in);
	free(out);
	free(inmap);
	free(outmap);
	free(f);
}

/* ---- faults ---- */

static void expect_fault(struct __test_metadata *_metadata, struct tern_device *dev,
			 struct tern_kernel *k, unsigned int core, struct tern_buffer *const *slots,
			 unsigned int nslots, unsigned int error, const char *name,
			 unsigned int engine, unsigned int index)
{
	struct tern_launch_status st;
	struct tern_fence *f;
	char where[160];
	int ret;

	memset(&st, 0, sizeof(st));
	ret = tern_launch(dev, k, (int)core, slots, nslots, &st);
	EXPECT_EQ(-EIO, ret) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EIO, st.result);
	EXPECT_EQ(core, st.core);
	EXPECT_EQ(error, st.error);
	EXPECT_STREQ(name, st.error_name);
	EXPECT_EQ(engine, st.engine);
	if (engine != TERN_ENGINE_NONE) {
		EXPECT_EQ(index, st.index);
	}
	/* "launch on /dev/accel/accelN core C: <error> at <engine> instruction <i>" */
	snprintf(where, sizeof(where), "core %u: %s", core, name);
	EXPECT_NE(NULL, strstr(tern_last_error(), where)) TH_LOG("%s", tern_last_error());
	EXPECT_NE(NULL, strstr(tern_last_error(), "/dev/accel/accel")) TH_LOG("%s",
									   tern_last_error());

	/* The same through a fence. */
	ASSERT_EQ(0, tern_launch_async(dev, k, (int)core, slots, nslots, &f));
	EXPECT_EQ(-EIO, tern_fence_wait(dev, f, WAIT_NS));
	EXPECT_EQ(-EIO, tern_fence_wait(dev, f, 0));
	ASSERT_EQ(0, tern_fence_launch_status(f, &st));
	EXPECT_EQ(-EIO, st.result);
	EXPECT_EQ(error, st.error);
	tern_fence_release(f);
}

TEST_F(launch, illegal_opcode_faults_and_the_core_goes_on)
{
	struct hand_prog hp;
	struct tern_kernel *k = load(_metadata, self->dev, &hp, hand_illegal(&hp));

	for (unsigned int c = 0; c < self->cores; c++) {
		expect_fault(_metadata, self->dev, k, c, NULL, 0, TERN_CERR_ILLEGAL_OPCODE,
			     "illegal opcode", TERN_ENGINE_VECTOR, 1);
		EXPECT_NE(NULL, strstr(tern_last_error(), "at vector instruction 1"))
			TH_LOG("%s", tern_last_error());
		expect_ok(_metadata, self->dev, self->nop, (int)c);
	}
	tern_kernel_free(k);
}

TEST_F(launch, deadlock_faults_and_the_core_goes_on)
{
	struct hand_prog hp;
	struct tern_kernel *k = load(_metadata, self->dev, &hp, hand_deadlock(&hp));

	for (unsigned int c = 0; c < self->cores; c++) {
		expect_fault(_metadata, self->dev, k, c, NULL, 0, TERN_CERR_DEADLOCK,
			     "semaphore deadlock", TERN_ENGINE_SCALAR, 0);
		expect_ok(_metadata, self->dev, self->nop, (int)c);
	}
	tern_kernel_free(k);
}

TEST_F(launch, access_past_a_slot_faults)
{
	struct tern_buffer *small;
	struct hand_prog hp;
	struct tern_kernel *k;
	struct tern_buffer *slots[2];

	/* The relu program reads 24 KiB from slot 0: bind 4 KiB there. */
	small = buffer(_metadata, self->dev, 4096, TERN_MEM_DEVICE, NULL);
	k = load(_metadata, self->dev, &hp, hand_relu(&hp));
	slots[0] = small;
	slots[1] = self->buf[1];
	expect_fault(_metadata, self->dev, k, 0, slots, 2, TERN_CERR_HBM_RANGE,
		     "HBM access out of range", TERN_ENGINE_DMA, 0);
	expect_ok(_metadata, self->dev, self->nop, 0);
	tern_kernel_free(k);
	tern_buffer_free(small);
}

/* ---- cores ---- */

TEST_F(launch, core_any_goes_round_robin)
{
	unsigned int n = 3 * self->cores, seen[8] = { 0 };
	struct tern_fence *f[24];
	struct tern_launch_status st;
	unsigned int first = 0;

	ASSERT_GE(8, self->cores);
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, tern_launch_async(self->dev, self->nop, TERN_CORE_ANY, NULL, 0, &f[i]));
	}
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, tern_fence_wait(self->dev, f[i], WAIT_NS));
		ASSERT_EQ(0, tern_fence_launch_status(f[i], &st));
		ASSERT_GT(self->cores, st.core);
		if (i == 0)
			first = st.core;
		EXPECT_EQ((first + i) % self->cores, st.core);
		seen[st.core]++;
		tern_fence_release(f[i]);
	}
	for (unsigned int c = 0; c < self->cores; c++) {
		EXPECT_EQ(3, seen[c]) TH_LOG("core %u", c);
	}
}

/* ---- lifetimes ---- */

TEST_F_TIMEOUT(launch, kernels_freed_while_they_run, 300)
{
	struct tern_op big = matmul_op(TERN_DT_FP32, 512, 512, 512);
	struct tern_op op = matmul_op(TERN_DT_FP32, 64, 96, 80);
	struct tern_kernel *kbig = load_op(_metadata, self->dev, &big);
	struct tern_kernel *k = load_op(_metadata, self->dev, &op);
	struct tern_buffer *bb[3];
	struct tern_launch_status st;
	struct tern_fence *fbig, *f;
	struct op_bufs ob;
	bool queued;

	/* The big matmul's inputs are whatever HBM holds: only its time matters. */
	for (unsigned int i = 0; i < 3; i++)
		bb[i] = buffer(_metadata, self->dev, 512 * 512 * 4, TERN_MEM_DEVICE, NULL);
	op_bufs_new(_metadata, self->dev, &op, &ob, tern_seed());
	ASSERT_EQ(0, tern_launch_async(self->dev, kbig, 0, bb, 3, &fbig));
	/* queued behind the big one on the same core */
	ASSERT_EQ(0, tern_launch_async(self->dev, k, 0, ob.b, ob.n, &f));
	queued = tern_fence_wait(self->dev, f, 0) == -ETIME;
	tern_kernel_free(k);
	tern_kernel_free(kbig);
	TH_LOG("the small launch was %s when the kernels were freed",
	       queued ? "still to run" : "already done");
	ASSERT_EQ(0, tern_fence_wait(self->dev, f, WAIT_NS)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_fence_launch_status(f, &st));
	EXPECT_EQ(0, st.result);
	tern_fence_release(f);
	op_check(_metadata, &op, &ob, "matmul of a freed kernel");
	ASSERT_EQ(0, tern_fence_wait(self->dev, fbig, WAIT_NS)) TH_LOG("%s", tern_last_error());
	tern_fence_release(fbig);
	op_bufs_free(&ob);
	for (unsigned int i = 0; i < 3; i++)
		tern_buffer_free(bb[i]);
}

TEST_F_TIMEOUT(launch, fences_released_before_the_launch_ends, 300)
{
	struct tern_op op = matmul_op(TERN_DT_FP32, 128, 256, 256);
	struct tern_kernel *k = load_op(_metadata, self->dev, &op);
	struct tern_fence *f;
	struct op_bufs ob;

	op_bufs_new(_metadata, self->dev, &op, &ob, tern_seed());
	for (unsigned int i = 0; i < 8; i++) {
		ASSERT_EQ(0, tern_launch_async(self->dev, k, 0, ob.b, ob.n, &f));
		tern_fence_release(f);
	}
	/* The released launches are still tracked; later launches work beside them. */
	tern_kernel_free(k);
	expect_ok(_metadata, self->dev, self->nop, 0);
	/* Same core, in order: when this one is done, the released ones on core 0 are too. */
	op_check(_metadata, &op, &ob, "matmul after released launches");
	op_bufs_free(&ob);
}

TEST(close_with_cached_or_loaded_kernels)
{
	struct build_arg a = { .nops = 1 };
	struct tern_device *dev;
	struct tern_kernel *k;
	struct hand_prog hp;
	size_t size;

	/* Cached kernels do not keep a device open. */
	ASSERT_EQ(0, tern_device_open(0, &dev));
	ASSERT_EQ(0, tern_kernel_cached(dev, "k", 1, build_nops, &a, &k));
	ASSERT_EQ(0, tern_launch(dev, k, 0, NULL, 0, NULL));
	EXPECT_EQ(0, tern_device_close(dev)) TH_LOG("%s", tern_last_error());

	/* A loaded kernel does, like a buffer, until it is freed. */
	ASSERT_EQ(0, tern_device_open(0, &dev));
	size = hand_nop(&hp);
	ASSERT_EQ(0, tern_kernel_load(dev, &hp, size, &k));
	EXPECT_EQ(-EBUSY, tern_device_close(dev));
	EXPECT_NE(NULL, strstr(tern_last_error(), "1 kernel")) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_launch(dev, k, 0, NULL, 0, NULL));
	tern_kernel_free(k);
	EXPECT_EQ(0, tern_device_close(dev)) TH_LOG("%s", tern_last_error());
}

/* ---- rejected arguments: -EINVAL and nothing launched ---- */

#define EXPECT_REFUSED(call)							\
	do {									\
		uint64_t _jobs = jobs_submitted(self->minor);			\
		EXPECT_EQ(-EINVAL, (call)) TH_LOG("%s", tern_last_error());	\
		EXPECT_NE(0, tern_last_error()[0]);				\
		EXPECT_EQ(_jobs, jobs_submitted(self->minor));			\
	} while (0)

TEST_F(launch, launch_rejects_bad_arguments)
{
	struct tern_buffer *slots[2] = { self->buf[0], self->buf[1] };
	struct tern_buffer *host, *other_buf, *bad[2];
	struct tern_device *other = NULL;
	struct tern_kernel *k, *other_k = NULL;
	struct tern_launch_status st;
	struct tern_fence *f = (void *)1;
	struct hand_prog hp;

	k = load(_metadata, self->dev, &hp, hand_relu(&hp));
	host = buffer(_metadata, self->dev, 4 * RELU_ROWS * RELU_COLS, TERN_MEM_HOST, NULL);
	memset(&st, 0x5a, sizeof(st));

	EXPECT_REFUSED(tern_launch(NULL, k, 0, slots, 2, &st));
	EXPECT_REFUSED(tern_launch(self->dev, NULL, 0, slots, 2, &st));
	EXPECT_REFUSED(tern_launch(self->dev, k, (int)self->cores, slots, 2, &st));
	EXPECT_REFUSED(tern_launch(self->dev, k, -2, slots, 2, &st));
	EXPECT_REFUSED(tern_launch(self->dev, k, 0, slots, 1, &st));
	EXPECT_REFUSED(tern_launch(self->dev, k, 0, NULL, 2, &st));
	bad[0] = self->buf[0];
	bad[1] = NULL;
	EXPECT_REFUSED(tern_launch(self->dev, k, 0, bad, 2, &st));
	bad[1] = host;
	EXPECT_REFUSED(tern_launch(self->dev, k, 0, bad, 2, &st));
	EXPECT_NE(NULL, strstr(tern_last_error(), "host buffer")) TH_LOG("%s", tern_last_error());
	EXPECT_REFUSED(tern_launch_async(self->dev, k, 0, slots, 2, NULL));
	EXPECT_REFUSED(tern_launch_async(self->dev, k, 99, slots, 2, &f));
	EXPECT_EQ(NULL, f);
	/* A refused launch leaves the status alone. */
	EXPECT_EQ(0x5a5a5a5a, st.result);

	/* Buffers and kernels of another device. */
	if (tern_expected_devices() > 1) {
		ASSERT_EQ(0, tern_device_open(1, &other));
		other_buf = buffer(_metadata, other, 4 * RELU_ROWS * RELU_COLS, TERN_MEM_DEVICE, NULL);
		bad[0] = self->buf[0];
		bad[1] = other_buf;
		EXPECT_REFUSED(tern_launch(self->dev, k, 0, bad, 2, &st));
		other_k = load(_metadata, other, &hp, hand_relu(&hp));
		EXPECT_REFUSED(tern_launch(self->dev, other_k, 0, slots, 2, &st));
		tern_kernel_free(other_k);
		tern_buffer_free(other_buf);
		EXPECT_EQ(0, tern_device_close(other));
	}

	/* The fence of a copy has no launch status. */
	ASSERT_EQ(0, tern_copy_async(self->dev, self->buf[1], 0, self->buf[0], 0, 64, &f));
	ASSERT_EQ(0, tern_fence_wait(self->dev, f, WAIT_NS));
	EXPECT_EQ(-EINVAL, tern_fence_launch_status(f, &st));
	EXPECT_EQ(-EINVAL, tern_fence_launch_status(NULL, &st));
	EXPECT_EQ(-EINVAL, tern_fence_launch_status(f, NULL));
	tern_fence_release(f);

	/* After all that, the kernel runs. */
	EXPECT_EQ(0, tern_launch(self->dev, k, 0, slots, 2, &st)) TH_LOG("%s", tern_last_error());
	tern_buffer_free(host);
	tern_kernel_free(k);
}

TEST_F(launch, load_rejects_bad_images)
{
	struct hand_prog good, hp;
	struct tern_kernel *k = (void *)1;
	size_t size = hand_relu(&good);
	struct tern_device_info before, after;
	unsigned int i;
	struct {
		const char *what;
		size_t size;
	} cases[] = {
		{ "size 0", 0 }, { "size not a multiple of 64", 100 }, { "bad magic", 0 },
		{ "major version 2", 0 }, { "minor version above the ISA's", 0 },
		{ "header size differs", 0 }, { "flags", 0 }, { "reserved0", 0 },
		{ "reserved1", 0 }, { "65 slots", 0 }, { "33 semaphores", 0 },
		{ "stream past the end", 0 }, { "stream offset in the header", 0 },
		{ "stream offset unaligned", 0 }, { "empty stream with an offset", 0 },
		{ "stream without END", 0 },
	};

	ASSERT_EQ(0, tern_device_info(self->dev, &before));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t sz = cases[i].size ? cases[i].size : size;

		hp = good;
		switch (i) {
		case 0: sz = 0; break;
		case 2: hp.h.magic ^= 1; break;
		case 3: hp.h.version = 2u << 16; break;
		case 4: hp.h.version = TERN_ISA_VERSION + 1; break;
		case 5: hp.h.size += 64; break;
		case 6: hp.h.flags = 1; break;
		case 7: hp.h.reserved0 = 1; break;
		case 8: hp.h.reserved1 = 1; break;
		case 9: hp.h.nslots = TERN_MAX_SLOTS + 1; break;
		case 10: hp.h.nsems = TERN_NUM_SEMS + 1; break;
		case 11: hp.h.stream[TERN_ENGINE_DMA].count = 6; break;
		case 12: hp.h.stream[TERN_ENGINE_DMA].offset = 0; break;
		case 13: hp.h.stream[TERN_ENGINE_DMA].offset += 8; break;
		case 14: hp.h.stream[TERN_ENGINE_TENSOR].offset = 64; break;
		case 15: hp.insn[2].h.opcode = TERN_OP_NOP; break;
		}
		k = (void *)1;
		EXPECT_EQ(-EINVAL, tern_kernel_load(self->dev, &hp, sz, &k))
			TH_LOG("%s: %s", cases[i].what, tern_last_error());
		EXPECT_EQ(NULL, k) TH_LOG("%s", cases[i].what);
		TH_LOG("%s: %s", cases[i].what, tern_last_error());
	}
	EXPECT_EQ(-EINVAL, tern_kernel_load(NULL, &good, size, &k));
	EXPECT_EQ(-EINVAL, tern_kernel_load(self->dev, NULL, size, &k));
	EXPECT_EQ(-EINVAL, tern_kernel_load(self->dev, &good, size, NULL));
	/* Nothing was allocated. */
	ASSERT_EQ(0, tern_device_info(self->dev, &after));
	EXPECT_EQ(before.hbm_used, after.hbm_used);
	EXPECT_EQ(0, tern_kernel_slots(NULL));
	tern_kernel_free(NULL);
	/* And the good one loads. */
	ASSERT_EQ(0, tern_kernel_load(self->dev, &good, size, &k));
	EXPECT_EQ(2, tern_kernel_slots(k));
	tern_kernel_free(k);
}

TEST_F(launch, op_run_rejects_bad_arguments)
{
	struct tern_op op = softmax_op(TERN_DT_FP32, RELU_ROWS, RELU_COLS);
	struct tern_buffer *slots[2] = { self->buf[0], self->buf[1] };
	struct tern_buffer *small, *bad[2];

	small = buffer(_metadata, self->dev, 4096, TERN_MEM_DEVICE, NULL);
	EXPECT_REFUSED(tern_op_run(NULL, 0, &op, slots, 2, NULL));
	EXPECT_REFUSED(tern_op_run(self->dev, 0, NULL, slots, 2, NULL));
	EXPECT_REFUSED(tern_op_run(self->dev, 0, &op, slots, 1, NULL));
	EXPECT_REFUSED(tern_op_run(self->dev, 0, &op, NULL, 2, NULL));
	bad[0] = self->buf[0];
	bad[1] = small;
	EXPECT_REFUSED(tern_op_run(self->dev, 0, &op, bad, 2, NULL));
	EXPECT_NE(NULL, strstr(tern_last_error(), "reaches byte")) TH_LOG("%s", tern_last_error());
	EXPECT_REFUSED(tern_op_run(self->dev, (int)self->cores, &op, slots, 2, NULL));
	op.pad = 1;
	EXPECT_REFUSED(tern_op_run(self->dev, 0, &op, slots, 2, NULL));
	op.pad = 0;
	op.kind = TERN_OPKIND_COUNT;
	EXPECT_REFUSED(tern_op_run(self->dev, 0, &op, slots, 2, NULL));
	op.kind = TERN_OPKIND_SOFTMAX;
	EXPECT_EQ(0, tern_op_run(self->dev, 0, &op, slots, 2, NULL)) TH_LOG("%s", tern_last_error());
	tern_buffer_free(small);
}

TEST_HARNESS_MAIN
