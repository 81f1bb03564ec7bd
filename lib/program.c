// SPDX-License-Identifier: MIT
/*
 * libtern program builder: tensors, tiles, the instruction streams, their
 * checks and the program image (tern_program.h).
 *
 * The checks follow the rules of the core (Documentation/chip/isa.rst): a
 * program the builder accepts passes the core's validation, given slots
 * large enough for its DMA patterns and a core with the SBUF size it was
 * built for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "program_int.h"

/* ---- names ---- */

const char *prog_engine_name(unsigned int engine)
{
	static const char *const names[TERN_NUM_ENGINES] = {
		"tensor", "vector", "scalar", "dma"
	};

	return engine < TERN_NUM_ENGINES ? names[engine] : "?";
}

static const char *mem_name(unsigned int mem)
{
	return mem == TERN_AP_SBUF ? "SBUF" : mem == TERN_AP_PSUM ? "PSUM" : "?";
}

TERN_EXPORT const char *tern_opcode_name(unsigned int opcode)
{
	switch (opcode) {
	case TERN_OP_NOP: return "NOP";
	case TERN_OP_END: return "END";
	case TERN_OP_WAIT: return "WAIT";
	case TERN_OP_SIGNAL: return "SIGNAL";
	case TERN_OP_MATMUL: return "MATMUL";
	case TERN_OP_TRANSPOSE: return "TRANSPOSE";
	case TERN_OP_TENSOR_TENSOR: return "TENSOR_TENSOR";
	case TERN_OP_TENSOR_SCALAR: return "TENSOR_SCALAR";
	case TERN_OP_UNARY: return "UNARY";
	case TERN_OP_REDUCE: return "REDUCE";
	case TERN_OP_CAST: return "CAST";
	case TERN_OP_COPY: return "COPY";
	case TERN_OP_MEMSET: return "MEMSET";
	case TERN_OP_IOTA: return "IOTA";
	case TERN_OP_ACTIVATE: return "ACTIVATE";
	case TERN_OP_DMA_LOAD: return "DMA_LOAD";
	case TERN_OP_DMA_STORE: return "DMA_STORE";
	}
	return "?";
}

static int64_t min0(int64_t v)
{
	return v < 0 ? v : 0;
}

static int64_t max0(int64_t v)
{
	return v > 0 ? v : 0;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* ---- tensors ---- */

/* Lowest and one-past-highest byte of a tensor; false on overflow. */
static bool tensor_box(const struct tern_tensor *t, int64_t *lo, int64_t *hi)
{
	int64_t es = tern_dtype_size(t->dtype), dr, dc, a, b;

	if (t->rows > INT32_MAX || t->cols > INT32_MAX || t->offset > INT64_MAX)
		return false;
	if (__builtin_mul_overflow((int64_t)t->rows - 1, t->row_stride, &dr) ||
	    __builtin_mul_overflow((int64_t)t->cols - 1, t->col_stride, &dc))
		return false;
	if (__builtin_add_overflow(min0(dr), min0(dc), &a) ||
	    __builtin_add_overflow(max0(dr), max0(dc), &b) ||
	    __builtin_mul_overflow(a, es, &a) || __builtin_mul_overflow(b, es, &b) ||
	    __builtin_add_overflow(a, (int64_t)t->offset, lo) ||
	    __builtin_add_overflow(b, (int64_t)t->offset, &b) ||
	    __builtin_add_overflow(b, es, hi))
		return false;
	return true;
}

TERN_EXPORT int tern_tensor_check(const struct tern_tensor *t)
{
	int64_t lo, hi;
	unsigned int es;

	if (!t)
		return tern_fail(-EINVAL, "tern_tensor_check: NULL tensor");
	es = tern_dtype_size(t->dtype);
	if (t->slot >= TERN_MAX_SLOTS)
		return tern_fail(-EINVAL, "tensor: slot %" PRIu32 " >= %u", t->slot,
				 TERN_MAX_SLOTS);
	if (!es)
		return tern_fail(-EINVAL, "tensor: unknown dtype %" PRIu32, t->dtype);
	if (!t->rows || !t->cols)
		return tern_fail(-EINVAL, "tensor: shape %" PRIu64 "x%" PRIu64 " is empty",
				 t->rows, t->cols);
	if (t->offset % es)
		return tern_fail(-EINVAL, "tensor: offset %" PRIu64
				 " is not a multiple of the element size %u", t->offset, es);
	if (!tensor_box(t, &lo, &hi) || lo < 0)
		return tern_fail(-EINVAL, "tensor: %" PRIu64 "x%" PRIu64 " at offset %" PRIu64
				 " with strides %" PRId64 ", %" PRId64
				 " reaches outside 0..2^63", t->rows, t->cols, t->offset,
				 t->row_stride, t->col_stride);
	return 0;
}

TERN_EXPORT uint64_t tern_tensor_span(const struct tern_tensor *t)
{
	int64_t lo, hi;

	if (!t || !tern_dtype_size(t->dtype) || !tensor_box(t, &lo, &hi))
		return 0;
	return (uint64_t)hi;
}

TERN_EXPORT int tern_tensor_block(const struct tern_tensor *t, uint64_t row, uint64_t col,
				  uint32_t nrows, uint32_t ncols, struct tern_hbm_ap *hbm)
{
	int64_t es;
	int ret;

	if (!hbm)
		return tern_fail(-EINVAL, "tern_tensor_block: NULL argument");
	ret = tern_tensor_check(t);
	if (ret)
		return ret;
	if (!nrows || nrows > TERN_PARTITIONS || !ncols || ncols > UINT16_MAX)
		return tern_fail(-EINVAL, "tern_tensor_block: block %" PRIu32 "x%" PRIu32
				 " is not 1..%u x 1..%u", nrows, ncols, TERN_PARTITIONS,
				 UINT16_MAX);
	if (row >= t->rows || t->rows - row < nrows || col >= t->cols ||
	    t->cols - col < ncols)
		return tern_fail(-EINVAL, "tern_tensor_block: block %" PRIu32 "x%" PRIu32
				 " at (%" PRIu64 ", %" PRIu64 ") is not inside the %" PRIu64
				 "x%" PRIu64 " tensor", nrows, ncols, row, col, t->rows,
				 t->cols);
	es = tern_dtype_size(t->dtype);
	hbm->slot = t->slot;
	/* inside the tensor, so inside the box tern_tensor_check() bounded */
	hbm->offset = (uint64_t)((int64_t)t->offset +
				 ((int64_t)row * t->row_stride + (int64_t)col * t->col_stride) * es);
	hbm->pstride = t->row_stride * es;
	hbm->stride[0] = t->col_stride * es;
	hbm->stride[1] = 0;
	return 0;
}

/* ---- the builder ---- */

TERN_EXPORT int tern_prog_create(uint32_t sbuf_size, struct tern_program **progp)
{
	struct tern_program *p;

	if (!progp)
		return tern_fail(-EINVAL, "tern_prog_create: NULL argument");
	*progp = NULL;
	if (!sbuf_size)
		sbuf_size = TERN_SBUF_SIZE_DEFAULT;
	if (sbuf_size < TERN_SBUF_SIZE_MIN || sbuf_size > TERN_SBUF_SIZE_MAX ||
	    sbuf_size % TERN_SBUF_SIZE_ALIGN)
		return tern_fail(-EINVAL, "tern_prog_create: SBUF size %" PRIu32
				 " is not a multiple of %u KiB from %u to %u MiB",
				 sbuf_size, TERN_SBUF_SIZE_ALIGN >> 10, TERN_SBUF_SIZE_MIN >> 20,
				 TERN_SBUF_SIZE_MAX >> 20);
	p = calloc(1, sizeof(*p));
	if (!p)
		return tern_fail(-ENOMEM, "tern_prog_create: out of memory");
	p->part_size[TERN_AP_SBUF] = sbuf_size / TERN_PARTITIONS;
	p->part_size[TERN_AP_PSUM] = TERN_PSUM_PART_SIZE;
	*progp = p;
	return 0;
}

TERN_EXPORT void tern_prog_free(struct tern_program *p)
{
	if (!p)
		return;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		free(p->s[e].insns);
	free(p->image);
	ops_state_free(p->ops);
	free(p);
}

void prog_snapshot(const struct tern_program *p, struct prog_snapshot *snap)
{
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		snap->count[e] = p->s[e].count;
	memcpy(snap->mark, p->mark, sizeof(snap->mark));
	snap->sems = p->sems;
	memcpy(snap->signals, p->signals, sizeof(snap->signals));
}

void prog_rollback(struct tern_program *p, const struct prog_snapshot *snap)
{
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		p->s[e].count = snap->count[e];
	memcpy(p->mark, snap->mark, sizeof(p->mark));
	p->sems = snap->sems;
	memcpy(p->signals, snap->signals, sizeof(p->signals));
}

TERN_EXPORT int tern_prog_sem_alloc(struct tern_program *p)
{
	if (!p)
		return tern_fail(-EINVAL, "tern_prog_sem_alloc: NULL program");
	if (p->sems >= TERN_NUM_SEMS)
		return tern_fail(-ENOSPC, "tern_prog_sem_alloc: all %u semaphores are taken",
				 TERN_NUM_SEMS);
	return (int)p->sems++;
}

TERN_EXPORT int tern_prog_signals(const struct tern_program *p, int sem)
{
	if (!p || sem < 0 || sem >= TERN_NUM_SEMS)
		return tern_fail(-EINVAL, "tern_prog_signals: bad program or semaphore %d", sem);
	return (int)p->signals[sem];
}

static bool mem_ok(unsigned int mem)
{
	return mem == TERN_AP_SBUF || mem == TERN_AP_PSUM;
}

TERN_EXPORT int tern_prog_alloc(struct tern_program *p, unsigned int mem, unsigned int dtype,
				unsigned int nparts, uint32_t n, struct tern_ap *tile)
{
	uint64_t bytes, at;

	if (!p || !tile)
		return tern_fail(-EINVAL, "tern_prog_alloc: NULL argument");
	if (!mem_ok(mem))
		return tern_fail(-EINVAL, "tern_prog_alloc: mem %u is neither TERN_AP_SBUF nor TERN_AP_PSUM",
				 mem);
	if (!tern_dtype_size(dtype))
		return tern_fail(-EINVAL, "tern_prog_alloc: unknown dtype %u", dtype);
	if (!nparts || nparts > TERN_PARTITIONS || !n || n > UINT16_MAX)
		return tern_fail(-EINVAL, "tern_prog_alloc: tile %ux%" PRIu32
				 " is not 1..%u x 1..%u", nparts, n, TERN_PARTITIONS, UINT16_MAX);
	bytes = (uint64_t)n * tern_dtype_size(dtype);
	at = (p->mark[mem] + PROG_ALLOC_ALIGN - 1) / PROG_ALLOC_ALIGN * PROG_ALLOC_ALIGN;
	if (at + bytes > p->part_size[mem])
		return tern_fail(-ENOSPC, "tern_prog_alloc: %s overflow: a tile of %" PRIu64
				 " bytes per partition at %" PRIu64 " ends %" PRIu64
				 " bytes past the %" PRIu32 " bytes of a partition", mem_name(mem),
				 bytes, at, at + bytes - p->part_size[mem], p->part_size[mem]);
	*tile = tern_tile(mem, dtype, (uint32_t)at, 0, nparts, n);
	p->mark[mem] = (uint32_t)(at + bytes);
	return 0;
}

TERN_EXPORT int tern_prog_mark(const struct tern_program *p, unsigned int mem)
{
	if (!p || !mem_ok(mem))
		return tern_fail(-EINVAL, "tern_prog_mark: bad program or memory");
	return (int)p->mark[mem];
}

TERN_EXPORT int tern_prog_release(struct tern_program *p, unsigned int mem, int mark)
{
	if (!p || !mem_ok(mem))
		return tern_fail(-EINVAL, "tern_prog_release: bad program or memory");
	if (mark < 0 || (uint32_t)mark > p->mark[mem])
		return tern_fail(-EINVAL, "tern_prog_release: mark %d is not within 0..%" PRIu32,
				 mark, p->mark[mem]);
	p->mark[mem] = (uint32_t)mark;
	return 0;
}

/* ---- checks ---- */

/* The byte range [lo, hi) a tile touches in each partition. */
static void ap_extent(const struct tern_ap *a, int64_t *lo, int64_t *hi)
{
	int64_t es = tern_dtype_size(a->dtype);
	int64_t d0 = (int64_t)(a->n[0] - 1) * a->s[0];
	int64_t d1 = (int64_t)(a->n[1] - 1) * a->s[1];

	*lo = a->offset + (min0(d0) + min0(d1)) * es;
	*hi = a->offset + (max0(d0) + max0(d1)) * es + es;
}

static int check_ap(const struct tern_program *p, const char *fn, const char *name,
		    const struct tern_ap *a)
{
	unsigned int es = tern_dtype_size(a->dtype);
	int64_t lo, hi;

	if (!mem_ok(a->mem))
		return tern_fail(-EINVAL, "%s: %s: mem %u is neither TERN_AP_SBUF nor TERN_AP_PSUM",
				 fn, name, a->mem);
	if (!es)
		return tern_fail(-EINVAL, "%s: %s: unknown dtype %u", fn, name, a->dtype);
	if (!a->nparts || a->part + a->nparts > TERN_PARTITIONS)
		return tern_fail(-EINVAL, "%s: %s: %u partitions from %u are not inside 0..%u",
				 fn, name, a->nparts, a->part, TERN_PARTITIONS - 1);
	if (!a->n[0] || !a->n[1])
		return tern_fail(-EINVAL, "%s: %s: free counts %ux%u include a 0", fn, name,
				 a->n[1], a->n[0]);
	if (a->offset % es)
		return tern_fail(-EINVAL, "%s: %s: offset %" PRIu32
				 " is not a multiple of the element size %u", fn, name,
				 a->offset, es);
	ap_extent(a, &lo, &hi);
	if (lo < 0 || hi > p->part_size[a->mem])
		return tern_fail(-EINVAL, "%s: %s: bytes %" PRId64 "..%" PRId64
				 " of each partition are outside the %s's %" PRIu32, fn, name,
				 lo, hi - 1, mem_name(a->mem), p->part_size[a->mem]);
	return 0;
}

static bool same_shape(const struct tern_ap *a, const struct tern_ap *b)
{
	return a->nparts == b->nparts && a->n[0] == b->n[0] && a->n[1] == b->n[1];
}

static int shape_fail(const char *fn, const char *name, const struct tern_ap *a,
		      const struct tern_ap *d)
{
	return tern_fail(-EINVAL, "%s: %s is %ux%ux%u (partitions x n[1] x n[0]), dst %ux%ux%u",
			 fn, name, a->nparts, a->n[1], a->n[0], d->nparts, d->n[1], d->n[0]);
}

static int set_sync(const char *fn, struct tern_insn_hdr *h, struct tern_sync s)
{
	if (s.wait_sem != -1) {
		if (s.wait_sem < 0 || s.wait_sem >= TERN_NUM_SEMS)
			return tern_fail(-EINVAL, "%s: wait semaphore %d is not -1 or 0..%u",
					 fn, s.wait_sem, TERN_NUM_SEMS - 1);
		h->sync |= TERN_SYNC_WAIT;
		h->wait_sem = (uint8_t)s.wait_sem;
		h->wait_value = s.wait_value;
	} else if (s.wait_value) {
		return tern_fail(-EINVAL, "%s: wait value %" PRIu32 " without a semaphore",
				 fn, s.wait_value);
	}
	if (s.signal_sem != -1) {
		if (s.signal_sem < 0 || s.signal_sem >= TERN_NUM_SEMS)
			return tern_fail(-EINVAL, "%s: signal semaphore %d is not -1 or 0..%u",
					 fn, s.signal_sem, TERN_NUM_SEMS - 1);
		h->sync |= TERN_SYNC_SIGNAL;
		h->signal_sem = (uint8_t)s.signal_sem;
	}
	return 0;
}

/* Append one instruction to a stream; returns its index. */
static int emit(struct tern_program *p, const char *fn, unsigned int engine,
		union tern_insn *in, struct tern_sync sync)
{
	struct prog_stream *s = &p->s[engine];
	int ret;

	if (p->finished)
		return tern_fail(-EALREADY, "%s: the program is already finished", fn);
	ret = set_sync(fn, &in->h, sync);
	if (ret)
		return ret;
	/* one place is kept for the END tern_prog_finish() adds */
	if (s->count >= TERN_MAX_STREAM_INSNS - 1)
		return tern_fail(-E2BIG, "%s: the %s stream already has %" PRIu32
				 " instructions, the most a stream takes", fn,
				 prog_engine_name(engine), s->count);
	if (s->count == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		union tern_insn *n = realloc(s->insns, (size_t)cap * sizeof(*n));

		if (!n)
			return tern_fail(-ENOMEM, "%s: out of memory", fn);
		s->insns = n;
		s->cap = cap;
	}
	s->insns[s->count] = *in;
	if (in->h.sync & TERN_SYNC_SIGNAL)
		p->signals[in->h.signal_sem]++;
	return (int)s->count++;
}

#define CHECK_PROG(fn)							\
	do {								\
		if (!p)							\
			return tern_fail(-EINVAL, "%s: NULL program", fn); \
	} while (0)

/* Common part of the tile-format instructions. */
static union tern_insn tile_insn(unsigned int opcode, unsigned int op, unsigned int flags)
{
	union tern_insn in;

	memset(&in, 0, sizeof(in));
	in.h.opcode = (uint8_t)opcode;
	in.h.op = (uint8_t)op;
	in.h.flags = (uint8_t)flags;
	return in;
}

TERN_EXPORT int tern_prog_matmul(struct tern_program *p, struct tern_ap dst,
				 struct tern_ap stationary, struct tern_ap moving,
				 bool accumulate, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_matmul";
	union tern_insn in;
	uint32_t m, n;
	int ret;

	CHECK_PROG(fn);
	if ((ret = check_ap(p, fn, "dst", &dst)) || (ret = check_ap(p, fn, "stationary", &stationary)) ||
	    (ret = check_ap(p, fn, "moving", &moving)))
		return ret;
	if (dst.mem != TERN_AP_PSUM || dst.dtype != TERN_DT_FP32)
		return tern_fail(-EINVAL, "%s: dst must be fp32 in PSUM", fn);
	if (stationary.mem != TERN_AP_SBUF || moving.mem != TERN_AP_SBUF)
		return tern_fail(-EINVAL, "%s: stationary and moving must be in SBUF", fn);
	m = tern_ap_free(stationary);
	n = tern_ap_free(moving);
	if (stationary.nparts > TERN_MATMUL_MAX_K || moving.nparts != stationary.nparts)
		return tern_fail(-EINVAL, "%s: K: stationary has %u partitions, moving %u (at most %u)",
				 fn, stationary.nparts, moving.nparts, TERN_MATMUL_MAX_K);
	if (m > TERN_MATMUL_MAX_M)
		return tern_fail(-EINVAL, "%s: M = %" PRIu32 " (stationary free size) > %u",
				 fn, m, TERN_MATMUL_MAX_M);
	if (n > TERN_MATMUL_MAX_N)
		return tern_fail(-EINVAL, "%s: N = %" PRIu32 " (moving free size) > %u",
				 fn, n, TERN_MATMUL_MAX_N);
	if (dst.nparts != m || tern_ap_free(dst) != n)
		return tern_fail(-EINVAL, "%s: dst is %ux%" PRIu32 ", must be M x N = %" PRIu32
				 "x%" PRIu32, fn, dst.nparts, tern_ap_free(dst), m, n);
	in = tile_insn(TERN_OP_MATMUL, 0, accumulate ? TERN_MATMUL_F_ACCUMULATE : 0);
	in.t.dst = dst;
	in.t.src0 = stationary;
	in.t.src1 = moving;
	return emit(p, fn, TERN_ENGINE_TENSOR, &in, sync);
}

TERN_EXPORT int tern_prog_transpose(struct tern_program *p, struct tern_ap dst,
				    struct tern_ap src, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_transpose";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if ((ret = check_ap(p, fn, "dst", &dst)) || (ret = check_ap(p, fn, "src", &src)))
		return ret;
	if (tern_ap_free(src) > TERN_TRANSPOSE_MAX)
		return tern_fail(-EINVAL, "%s: src free size %" PRIu32 " > %u", fn,
				 tern_ap_free(src), TERN_TRANSPOSE_MAX);
	if (dst.nparts != tern_ap_free(src) || tern_ap_free(dst) != src.nparts)
		return tern_fail(-EINVAL, "%s: dst is %ux%" PRIu32 ", must be %" PRIu32 "x%u",
				 fn, dst.nparts, tern_ap_free(dst), tern_ap_free(src), src.nparts);
	in = tile_insn(TERN_OP_TRANSPOSE, 0, 0);
	in.t.dst = dst;
	in.t.src0 = src;
	return emit(p, fn, TERN_ENGINE_TENSOR, &in, sync);
}

/* dst and src checked, same shape. */
static int check_unop(struct tern_program *p, const char *fn, const struct tern_ap *dst,
		      const struct tern_ap *src)
{
	int ret;

	if ((ret = check_ap(p, fn, "dst", dst)) || (ret = check_ap(p, fn, "src", src)))
		return ret;
	if (!same_shape(src, dst))
		return shape_fail(fn, "src", src, dst);
	return 0;
}

TERN_EXPORT int tern_prog_tensor_tensor(struct tern_program *p, unsigned int alu,
					struct tern_ap dst, struct tern_ap src0,
					struct tern_ap src1, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_tensor_tensor";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if (alu >= TERN_ALU_COUNT)
		return tern_fail(-EINVAL, "%s: alu %u is not a TERN_ALU_*", fn, alu);
	if ((ret = check_unop(p, fn, &dst, &src0)) || (ret = check_ap(p, fn, "src1", &src1)))
		return ret;
	if (!same_shape(&src1, &dst))
		return shape_fail(fn, "src1", &src1, &dst);
	in = tile_insn(TERN_OP_TENSOR_TENSOR, alu, 0);
	in.t.dst = dst;
	in.t.src0 = src0;
	in.t.src1 = src1;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_tensor_scalar(struct tern_program *p, unsigned int alu,
					struct tern_ap dst, struct tern_ap src, float imm,
					bool reverse, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_tensor_scalar";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if (alu >= TERN_ALU_COUNT)
		return tern_fail(-EINVAL, "%s: alu %u is not a TERN_ALU_*", fn, alu);
	ret = check_unop(p, fn, &dst, &src);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_TENSOR_SCALAR, alu, reverse ? TERN_TS_F_REVERSE : 0);
	in.t.dst = dst;
	in.t.src0 = src;
	in.t.imm = f32_bits(imm);
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_unary(struct tern_program *p, unsigned int un, struct tern_ap dst,
				struct tern_ap src, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_unary";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if (un >= TERN_UN_COUNT)
		return tern_fail(-EINVAL, "%s: op %u is not a TERN_UN_*", fn, un);
	ret = check_unop(p, fn, &dst, &src);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_UNARY, un, 0);
	in.t.dst = dst;
	in.t.src0 = src;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_reduce(struct tern_program *p, unsigned int red, struct tern_ap dst,
				 struct tern_ap src, bool inner, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_reduce";
	union tern_insn in;
	uint32_t want = inner ? src.n[1] : 1;
	int ret;

	CHECK_PROG(fn);
	if (red >= TERN_RED_COUNT)
		return tern_fail(-EINVAL, "%s: op %u is not a TERN_RED_*", fn, red);
	if ((ret = check_ap(p, fn, "dst", &dst)) || (ret = check_ap(p, fn, "src", &src)))
		return ret;
	if (dst.nparts != src.nparts || tern_ap_free(dst) != want)
		return tern_fail(-EINVAL, "%s: dst is %ux%" PRIu32 ", must be %ux%" PRIu32,
				 fn, dst.nparts, tern_ap_free(dst), src.nparts, want);
	in = tile_insn(TERN_OP_REDUCE, red, inner ? TERN_REDUCE_F_INNER : 0);
	in.t.dst = dst;
	in.t.src0 = src;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_cast(struct tern_program *p, struct tern_ap dst, struct tern_ap src,
			       struct tern_sync sync)
{
	static const char fn[] = "tern_prog_cast";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	ret = check_unop(p, fn, &dst, &src);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_CAST, 0, 0);
	in.t.dst = dst;
	in.t.src0 = src;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_copy(struct tern_program *p, struct tern_ap dst, struct tern_ap src,
			       struct tern_sync sync)
{
	static const char fn[] = "tern_prog_copy";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	ret = check_unop(p, fn, &dst, &src);
	if (ret)
		return ret;
	if (dst.dtype != src.dtype)
		return tern_fail(-EINVAL, "%s: dtypes %u and %u differ (use tern_prog_cast)",
				 fn, src.dtype, dst.dtype);
	in = tile_insn(TERN_OP_COPY, 0, 0);
	in.t.dst = dst;
	in.t.src0 = src;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_memset(struct tern_program *p, struct tern_ap dst, float value,
				 struct tern_sync sync)
{
	static const char fn[] = "tern_prog_memset";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	ret = check_ap(p, fn, "dst", &dst);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_MEMSET, 0, 0);
	in.t.dst = dst;
	in.t.imm = f32_bits(value);
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

TERN_EXPORT int tern_prog_iota(struct tern_program *p, struct tern_ap dst, int32_t base,
			       int32_t pstep, int32_t fstep, struct tern_sync sync)
{
	static const char fn[] = "tern_prog_iota";
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	ret = check_ap(p, fn, "dst", &dst);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_IOTA, 0, 0);
	in.iota.dst = dst;
	in.iota.base = base;
	in.iota.pstep = pstep;
	in.iota.fstep = fstep;
	return emit(p, fn, TERN_ENGINE_VECTOR, &in, sync);
}

static int activate(struct tern_program *p, const char *fn, unsigned int func,
		    struct tern_ap dst, struct tern_ap src, float scale,
		    const struct tern_ap *bias_ap, float bias, struct tern_sync sync)
{
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if (func >= TERN_ACT_COUNT)
		return tern_fail(-EINVAL, "%s: function %u is not a TERN_ACT_*", fn, func);
	ret = check_unop(p, fn, &dst, &src);
	if (ret)
		return ret;
	in = tile_insn(TERN_OP_ACTIVATE, func, bias_ap ? TERN_ACT_F_BIAS_AP : 0);
	in.act.dst = dst;
	in.act.src = src;
	in.act.scale = f32_bits(scale);
	if (bias_ap) {
		ret = check_ap(p, fn, "bias", bias_ap);
		if (ret)
			return ret;
		if (bias_ap->nparts != src.nparts || tern_ap_free(*bias_ap) != 1)
			return tern_fail(-EINVAL, "%s: bias is %ux%" PRIu32 ", must be %ux1",
					 fn, bias_ap->nparts, tern_ap_free(*bias_ap), src.nparts);
		in.act.bias_ap = *bias_ap;
	} else {
		in.act.bias_imm = f32_bits(bias);
	}
	return emit(p, fn, TERN_ENGINE_SCALAR, &in, sync);
}

TERN_EXPORT int tern_prog_activate(struct tern_program *p, unsigned int func, struct tern_ap dst,
				   struct tern_ap src, float scale, float bias,
				   struct tern_sync sync)
{
	return activate(p, "tern_prog_activate", func, dst, src, scale, NULL, bias, sync);
}

TERN_EXPORT int tern_prog_activate_ap(struct tern_program *p, unsigned int func,
				      struct tern_ap dst, struct tern_ap src, float scale,
				      struct tern_ap bias, struct tern_sync sync)
{
	return activate(p, "tern_prog_activate_ap", func, dst, src, scale, &bias, 0.0f, sync);
}

/* The lowest HBM byte a DMA pattern touches must not be below 0. */
static int check_hbm(const char *fn, const struct tern_ap *t, const struct tern_hbm_ap *h)
{
	const int64_t n[3] = { t->nparts, t->n[1], t->n[0] };
	const int64_t s[3] = { h->pstride, h->stride[1], h->stride[0] };
	int64_t lo = 0, hi = tern_dtype_size(t->dtype), d;
	bool bad = h->offset > INT64_MAX;

	if (h->slot >= TERN_MAX_SLOTS)
		return tern_fail(-EINVAL, "%s: slot %" PRIu32 " >= %u", fn, h->slot,
				 TERN_MAX_SLOTS);
	for (int i = 0; i < 3 && !bad; i++)
		bad = __builtin_mul_overflow(n[i] - 1, s[i], &d) ||
		      __builtin_add_overflow(lo, min0(d), &lo) ||
		      __builtin_add_overflow(hi, max0(d), &hi);
	if (!bad)
		bad = __builtin_add_overflow(lo, (int64_t)h->offset, &lo) ||
		      __builtin_add_overflow(hi, (int64_t)h->offset, &hi) || lo < 0;
	if (bad)
		return tern_fail(-EINVAL, "%s: the HBM pattern at offset %" PRIu64
				 " (strides %" PRId64 ", %" PRId64 ", %" PRId64
				 ") reaches outside 0..2^63", fn, h->offset, h->pstride,
				 h->stride[1], h->stride[0]);
	return 0;
}

static int dma(struct tern_program *p, const char *fn, unsigned int opcode, struct tern_ap tile,
	       const struct tern_hbm_ap *h, struct tern_sync sync)
{
	union tern_insn in;
	int ret;

	CHECK_PROG(fn);
	if (!h)
		return tern_fail(-EINVAL, "%s: NULL HBM pattern", fn);
	ret = check_ap(p, fn, "tile", &tile);
	if (ret)
		return ret;
	if (tile.mem != TERN_AP_SBUF)
		return tern_fail(-EINVAL, "%s: the tile must be in SBUF", fn);
	ret = check_hbm(fn, &tile, h);
	if (ret)
		return ret;
	in = tile_insn(opcode, 0, 0);
	in.dma.sbuf = tile;
	in.dma.slot = h->slot;
	in.dma.hbm_offset = h->offset;
	in.dma.pstride = h->pstride;
	in.dma.stride[0] = h->stride[0];
	in.dma.stride[1] = h->stride[1];
	return emit(p, fn, TERN_ENGINE_DMA, &in, sync);
}

TERN_EXPORT int tern_prog_dma_load(struct tern_program *p, struct tern_ap dst,
				   const struct tern_hbm_ap *src, struct tern_sync sync)
{
	return dma(p, "tern_prog_dma_load", TERN_OP_DMA_LOAD, dst, src, sync);
}

TERN_EXPORT int tern_prog_dma_store(struct tern_program *p, const struct tern_hbm_ap *dst,
				    struct tern_ap src, struct tern_sync sync)
{
	return dma(p, "tern_prog_dma_store", TERN_OP_DMA_STORE, src, dst, sync);
}

static int control(struct tern_program *p, const char *fn, unsigned int engine,
		   unsigned int opcode, struct tern_sync sync)
{
	union tern_insn in;

	CHECK_PROG(fn);
	if (engine >= TERN_NUM_ENGINES)
		return tern_fail(-EINVAL, "%s: engine %u is not a TERN_ENGINE_*", fn, engine);
	in = tile_insn(opcode, 0, 0);
	return emit(p, fn, engine, &in, sync);
}

TERN_EXPORT int tern_prog_wait(struct tern_program *p, unsigned int engine, int sem,
			       uint32_t value)
{
	if (sem < 0)
		return tern_fail(-EINVAL, "tern_prog_wait: semaphore %d", sem);
	return control(p, "tern_prog_wait", engine, TERN_OP_WAIT, tern_sync_wait(sem, value));
}

TERN_EXPORT int tern_prog_signal(struct tern_program *p, unsigned int engine, int sem)
{
	if (sem < 0)
		return tern_fail(-EINVAL, "tern_prog_signal: semaphore %d", sem);
	return control(p, "tern_prog_signal", engine, TERN_OP_SIGNAL, tern_sync_signal(sem));
}

TERN_EXPORT int tern_prog_nop(struct tern_program *p, unsigned int engine, struct tern_sync sync)
{
	return control(p, "tern_prog_nop", engine, TERN_OP_NOP, sync);
}

TERN_EXPORT int tern_prog_count(const struct tern_program *p, unsigned int engine)
{
	if (!p || engine >= TERN_NUM_ENGINES)
		return tern_fail(-EINVAL, "tern_prog_count: bad program or engine %u", engine);
	return (int)p->s[engine].count;
}

TERN_EXPORT int tern_prog_insn(const struct tern_program *p, unsigned int engine,
			       unsigned int index, union tern_insn *insn)
{
	if (!p || !insn || engine >= TERN_NUM_ENGINES || index >= p->s[engine].count)
		return tern_fail(-EINVAL, "tern_prog_insn: no instruction %u on engine %u",
				 index, engine);
	*insn = p->s[engine].insns[index];
	return 0;
}

/* ---- finishing ---- */

/*
 * Run the streams on their semaphores alone (every instruction done at
 * once): since semaphores only grow, the program deadlocks on the core
 * exactly when this gets stuck, whatever the timing.
 */
static int check_deadlock(const struct tern_program *p)
{
	uint32_t val[TERN_NUM_SEMS] = { 0 }, pc[TERN_NUM_ENGINES] = { 0 };
	unsigned int stack[TERN_NUM_ENGINES], top = 0;
	bool blocked[TERN_NUM_ENGINES] = { false };
	char msg[400];
	size_t len = 0;

	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		stack[top++] = e;
	while (top) {
		unsigned int e = stack[--top];
		const struct prog_stream *s = &p->s[e];

		for (; pc[e] < s->count; pc[e]++) {
			const struct tern_insn_hdr *h = &s->insns[pc[e]].h;

			if ((h->sync & TERN_SYNC_WAIT) && val[h->wait_sem] < h->wait_value) {
				blocked[e] = true;
				break;
			}
			if (!(h->sync & TERN_SYNC_SIGNAL))
				continue;
			val[h->signal_sem]++;
			for (unsigned int f = 0; f < TERN_NUM_ENGINES; f++) {
				const struct tern_insn_hdr *w;

				if (!blocked[f])
					continue;
				w = &p->s[f].insns[pc[f]].h;
				if (val[w->wait_sem] >= w->wait_value) {
					blocked[f] = false;
					stack[top++] = f;
				}
			}
		}
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		const struct tern_insn_hdr *h;

		if (pc[e] == p->s[e].count)
			continue;
		h = &p->s[e].insns[pc[e]].h;
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
					"%s%s instruction %" PRIu32 " (%s) waits for semaphore %u >= %"
					PRIu32 ", which reaches only %" PRIu32, len ? "; " : "",
					prog_engine_name(e), pc[e], tern_opcode_name(h->opcode),
					h->wait_sem, h->wait_value, val[h->wait_sem]);
		if (len >= sizeof(msg))
			len = sizeof(msg) - 1;
	}
	if (len)
		return tern_fail(-EDEADLK, "tern_prog_finish: the program would deadlock: %s", msg);
	return 0;
}

TERN_EXPORT int tern_prog_finish(struct tern_program *p, const void **image, size_t *size)
{
	struct tern_prog_header hdr;
	unsigned int nslots = 0, nsems = 0;
	uint64_t total = TERN_PROG_HEADER_SIZE;
	uint8_t *img, *at;
	int ret;

	if (!p || !image || !size)
		return tern_fail(-EINVAL, "tern_prog_finish: NULL argument");
	if (p->finished)
		goto out;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		if (p->s[e].count)
			total += ((uint64_t)p->s[e].count + 1) * TERN_INSN_SIZE;
	if (total == TERN_PROG_HEADER_SIZE)
		return tern_fail(-EINVAL, "tern_prog_finish: the program has no instructions");
	ret = check_deadlock(p);
	if (ret)
		return ret;
	img = calloc(1, total);
	if (!img)
		return tern_fail(-ENOMEM, "tern_prog_finish: out of memory for %" PRIu64 " bytes",
				 total);
	memset(&hdr, 0, sizeof(hdr));
	at = img + TERN_PROG_HEADER_SIZE;
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		const struct prog_stream *s = &p->s[e];

		if (!s->count)
			continue;
		for (uint32_t i = 0; i < s->count; i++) {
			const union tern_insn *in = &s->insns[i];

			if ((in->h.sync & TERN_SYNC_WAIT) && in->h.wait_sem >= nsems)
				nsems = in->h.wait_sem + 1u;
			if ((in->h.sync & TERN_SYNC_SIGNAL) && in->h.signal_sem >= nsems)
				nsems = in->h.signal_sem + 1u;
			if ((in->h.opcode == TERN_OP_DMA_LOAD || in->h.opcode == TERN_OP_DMA_STORE) &&
			    in->dma.slot >= nslots)
				nslots = in->dma.slot + 1;
		}
		hdr.stream[e].offset = (uint32_t)(at - img);
		hdr.stream[e].count = s->count + 1;
		memcpy(at, s->insns, (size_t)s->count * TERN_INSN_SIZE);
		at += (size_t)s->count * TERN_INSN_SIZE;
		((union tern_insn *)at)->h.opcode = TERN_OP_END;
		at += TERN_INSN_SIZE;
	}
	hdr.magic = TERN_PROG_MAGIC;
	hdr.version = TERN_ISA_VERSION;
	hdr.size = (uint32_t)total;
	hdr.nslots = (uint16_t)nslots;
	hdr.nsems = (uint16_t)nsems;
	memcpy(img, &hdr, sizeof(hdr));
	p->image = img;
	p->image_size = total;
	p->finished = true;
out:
	*image = p->image;
	*size = p->image_size;
	return 0;
}
