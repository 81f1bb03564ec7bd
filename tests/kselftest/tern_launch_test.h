/* SPDX-License-Identifier: MIT */
/*
 * tern_launch_test.h: what the launch kselftests share (tern_launch, the
 * launches themselves; tern_cache, the program cache): device buffers
 * filled with random values, ops (matmul) run on the device with their
 * buffers and checked against tern_op_reference(), a NOP program written
 * by hand, kernels loaded, builds of NOP programs for tern_kernel_cached(),
 * and the "launch" fixture (device 0, its NOP kernel, two device buffers).
 */
#ifndef TERN_LAUNCH_TEST_H
#define TERN_LAUNCH_TEST_H

#include <math.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define WAIT_NS		(60ll * 1000 * 1000 * 1000)

/* ---- buffers and values ---- */

static inline struct tern_buffer *buffer(struct __test_metadata *_metadata,
					 struct tern_device *dev, uint64_t size, unsigned int flags,
					 void **map)
{
	struct tern_buffer *b;
	void *p;
	int ret;

	ret = tern_buffer_alloc(dev, size, flags, &b);
	ASSERT_EQ(0, ret) TH_LOG("tern_buffer_alloc %llu: %s", (unsigned long long)size,
				 tern_last_error());
	ASSERT_EQ(0, tern_buffer_map(b, &p)) TH_LOG("%s", tern_last_error());
	if (map)
		*map = p;
	return b;
}

/* Uniform in [-1, 1) from the pattern stream. */
static inline float uniform(uint64_t seed, uint64_t i)
{
	return (float)((double)(tern_pattern_word(seed, i) >> 40) / (double)(1ull << 23) - 1.0);
}

/* Every element of a buffer of @dtype set to random values in [-1, 1). */
static inline void fill(void *p, uint64_t size, unsigned int dtype, uint64_t seed)
{
	unsigned int es = tern_dtype_size(dtype);

	for (uint64_t i = 0; i < size / es; i++)
		tern_value_set(dtype, (uint8_t *)p + i * es, uniform(seed, i));
}

static inline unsigned int num_cores(struct __test_metadata *_metadata, struct tern_device *dev)
{
	struct tern_device_info info;

	ASSERT_EQ(0, tern_device_info(dev, &info));
	ASSERT_LE(1, info.num_cores);
	return info.num_cores;
}

/* ---- ops run on the device, checked against the reference ---- */

/* The buffers of one op: slot i holds tensor i (0 = out), each its own buffer. */
struct op_bufs {
	unsigned int n;
	struct tern_buffer *b[4];
	void *map[4];
	void *pre[4];		/* host copies of the inputs before the launch */
	uint64_t size[4];
};

/* Slots 0..nin of @op: out in slot 0, input i in slot i + 1, dense. */
static inline void op_bufs_new(struct __test_metadata *_metadata, struct tern_device *dev,
			       struct tern_op *op, struct op_bufs *ob, uint64_t seed)
{
	memset(ob, 0, sizeof(*ob));
	ob->n = op->nin + 1;
	for (unsigned int i = 0; i < ob->n; i++) {
		struct tern_tensor *t = i ? &op->in[i - 1] : &op->out;

		t->slot = i;
		ob->size[i] = tern_tensor_span(t);
		ob->b[i] = buffer(_metadata, dev, ob->size[i], TERN_MEM_DEVICE, &ob->map[i]);
		fill(ob->map[i], ob->size[i], t->dtype, seed + i);
		ob->pre[i] = malloc(ob->size[i]);
		ASSERT_NE(NULL, ob->pre[i]);
		memcpy(ob->pre[i], ob->map[i], ob->size[i]);
	}
}

static inline void op_bufs_free(struct op_bufs *ob)
{
	for (unsigned int i = 0; i < ob->n; i++) {
		tern_buffer_free(ob->b[i]);
		free(ob->pre[i]);
	}
}

/* The device's output against tern_op_reference() on the inputs as they were. */
static inline void op_check(struct __test_metadata *_metadata, const struct tern_op *op,
			    struct op_bufs *ob, const char *what)
{
	const struct tern_tensor *o = &op->out;
	double tol = tern_op_tolerance(op), worst = 0;
	unsigned int es = tern_dtype_size(o->dtype);

	ASSERT_LE(0, tol);
	ASSERT_EQ(0, tern_op_reference(op, ob->pre, ob->size, ob->n)) TH_LOG("%s", tern_last_error());
	for (uint64_t r = 0; r < o->rows; r++) {
		for (uint64_t c = 0; c < o->cols; c++) {
			uint64_t at = o->offset + (r * o->row_stride + c * o->col_stride) * es;
			double got = tern_value_get(o->dtype, (uint8_t *)ob->map[0] + at);
			double want = tern_value_get(o->dtype, (uint8_t *)ob->pre[0] + at);

			ASSERT_TRUE(fabs(got - want) <= tol)
				TH_LOG("%s: out[%llu][%llu] = %.9g, reference %.9g, tolerance %.3g",
				       what, (unsigned long long)r, (unsigned long long)c, got, want,
				       tol);
			worst = fmax(worst, fabs(got - want));
		}
	}
	TH_LOG("%s: max error %.3g, tolerance %.3g", what, worst, tol);
}

static inline struct tern_op matmul_op(unsigned int dtype, uint64_t m, uint64_t k, uint64_t n)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_MATMUL;
	op.nin = 2;
	op.out = tern_tensor_2d(0, dtype, m, n);
	op.in[0] = tern_tensor_2d(1, dtype, m, k);
	op.in[1] = tern_tensor_2d(2, dtype, k, n);
	return op;
}

/* ---- hand-built programs ---- */

struct hand_prog {
	struct tern_prog_header h;
	union tern_insn insn[8];
};

/* Stream @engine of @n instructions after the header (or after @at others). */
static inline void hand_stream(struct hand_prog *p, unsigned int engine, unsigned int at,
			       unsigned int n)
{
	p->h.stream[engine].offset = TERN_PROG_HEADER_SIZE + at * TERN_INSN_SIZE;
	p->h.stream[engine].count = n;
}

static inline size_t hand_init(struct hand_prog *p, unsigned int ninsns, unsigned int nslots,
			       unsigned int nsems)
{
	memset(p, 0, sizeof(*p));
	p->h.magic = TERN_PROG_MAGIC;
	p->h.version = TERN_ISA_VERSION;
	p->h.size = TERN_PROG_HEADER_SIZE + ninsns * TERN_INSN_SIZE;
	p->h.nslots = nslots;
	p->h.nsems = nsems;
	return p->h.size;
}

/* Vector: NOP, END. */
static inline size_t hand_nop(struct hand_prog *p)
{
	size_t size = hand_init(p, 2, 0, 0);

	hand_stream(p, TERN_ENGINE_VECTOR, 0, 2);
	p->insn[0].h.opcode = TERN_OP_NOP;
	p->insn[1].h.opcode = TERN_OP_END;
	return size;
}

/* The fixture's buffers: one [RELU_ROWS x RELU_COLS] fp32 tile each. */
#define RELU_ROWS	128
#define RELU_COLS	48

static inline struct tern_kernel *load(struct __test_metadata *_metadata,
				       struct tern_device *dev, const void *image, size_t size)
{
	struct tern_kernel *k = NULL;
	int ret = tern_kernel_load(dev, image, size, &k);

	ASSERT_EQ(0, ret) TH_LOG("tern_kernel_load: %s", tern_last_error());
	return k;
}

/* ---- the fixture: device 0, a NOP kernel, two device buffers ---- */

FIXTURE(launch) {
	struct tern_device *dev;
	unsigned int minor, cores;
	struct tern_kernel *nop;
	struct tern_buffer *buf[2];
	void *map[2];
};

FIXTURE_SETUP(launch)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	struct hand_prog hp;
	int ret;

	ASSERT_LT(0, tern_minors(minors, TERN_TEST_MAX_DEVS));
	self->minor = minors[0];
	ret = tern_device_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("tern_device_open: %s", tern_last_error());
	self->cores = num_cores(_metadata, self->dev);
	self->nop = load(_metadata, self->dev, &hp, hand_nop(&hp));
	for (unsigned int i = 0; i < 2; i++)
		self->buf[i] = buffer(_metadata, self->dev, RELU_ROWS * RELU_COLS * 4,
				      TERN_MEM_DEVICE, &self->map[i]);
}

FIXTURE_TEARDOWN(launch)
{
	if (!self->dev)
		return;
	tern_kernel_free(self->nop);
	tern_buffer_free(self->buf[0]);
	tern_buffer_free(self->buf[1]);
	EXPECT_EQ(0, tern_device_close(self->dev)) TH_LOG("%s", tern_last_error());
}

/* ---- builds for tern_kernel_cached(): @nops vector NOPs, END ---- */

struct build_arg {
	int calls;
	int fail;		/* returned by the build, if not 0 */
	unsigned int nops;	/* vector NOPs before END */
};

static inline int build_nops(struct tern_program *p, void *arg)
{
	struct build_arg *b = arg;

	b->calls++;
	if (b->fail)
		return b->fail;
	for (unsigned int i = 0; i < b->nops; i++) {
		int ret = tern_prog_nop(p, TERN_ENGINE_VECTOR, TERN_SYNC_NONE);

		if (ret < 0)
			return ret;
	}
	return 0;
}

#endif /* TERN_LAUNCH_TEST_H */
