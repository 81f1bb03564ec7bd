// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern compute core: decoding and validation. Every field of the program
 * header, the slot table and every instruction is checked before anything
 * runs, in the order Documentation/chip/isa.rst gives, so a bad program
 * faults with the first error and changes nothing.
 */
#include "tern_core_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* A fault of instruction idx of engine e (c, j, e and idx in scope). */
#define INSN_FAULT(err, detail, ...) \
	tern_core_fault(c, j, (err), e, idx, (detail), __VA_ARGS__)

/* ---- names ---- */

const char *tern_cerr_name(uint32_t error)
{
	static const char *const names[TERN_CERR_COUNT] = {
		[TERN_CERR_NONE] = "NONE",
		[TERN_CERR_BAD_PROGRAM] = "BAD_PROGRAM",
		[TERN_CERR_ILLEGAL_OPCODE] = "ILLEGAL_OPCODE",
		[TERN_CERR_RESERVED] = "RESERVED",
		[TERN_CERR_BAD_DTYPE] = "BAD_DTYPE",
		[TERN_CERR_BAD_OPERAND] = "BAD_OPERAND",
		[TERN_CERR_SBUF_RANGE] = "SBUF_RANGE",
		[TERN_CERR_PSUM_RANGE] = "PSUM_RANGE",
		[TERN_CERR_BAD_SLOT] = "BAD_SLOT",
		[TERN_CERR_HBM_RANGE] = "HBM_RANGE",
		[TERN_CERR_DEADLOCK] = "DEADLOCK",
		[TERN_CERR_ECC] = "ECC",
	};

	return error < TERN_CERR_COUNT ? names[error] : "?";
}

const char *tern_engine_name(uint32_t engine)
{
	static const char *const names[TERN_NUM_ENGINES] = {
		"tensor", "vector", "scalar", "dma",
	};

	return engine < TERN_NUM_ENGINES ? names[engine] : "?";
}

/* Flags and sub-operations an opcode takes, and the engine it runs on. */
struct opinfo {
	const char *name;
	int engine;		/* -1: any engine */
	uint8_t flags;		/* allowed flag bits */
	uint8_t nops;		/* number of sub-operations; 0: op must be 0 */
};

static const struct opinfo *opinfo(uint32_t opcode)
{
	static const struct opinfo control[] = {
		[TERN_OP_NOP] = { "NOP", -1, 0, 0 },
		[TERN_OP_END] = { "END", -1, 0, 0 },
		[TERN_OP_WAIT] = { "WAIT", -1, 0, 0 },
		[TERN_OP_SIGNAL] = { "SIGNAL", -1, 0, 0 },
	};
	static const struct opinfo tensor[] = {
		{ "MATMUL", TERN_ENGINE_TENSOR, TERN_MATMUL_F_ACCUMULATE, 0 },
		{ "TRANSPOSE", TERN_ENGINE_TENSOR, 0, 0 },
	};
	static const struct opinfo vector[] = {
		{ "TENSOR_TENSOR", TERN_ENGINE_VECTOR, 0, TERN_ALU_COUNT },
		{ "TENSOR_SCALAR", TERN_ENGINE_VECTOR, TERN_TS_F_REVERSE,
		  TERN_ALU_COUNT },
		{ "UNARY", TERN_ENGINE_VECTOR, 0, TERN_UN_COUNT },
		{ "REDUCE", TERN_ENGINE_VECTOR, TERN_REDUCE_F_INNER,
		  TERN_RED_COUNT },
		{ "CAST", TERN_ENGINE_VECTOR, 0, 0 },
		{ "COPY", TERN_ENGINE_VECTOR, 0, 0 },
		{ "MEMSET", TERN_ENGINE_VECTOR, 0, 0 },
		{ "IOTA", TERN_ENGINE_VECTOR, 0, 0 },
	};
	static const struct opinfo scalar[] = {
		{ "ACTIVATE", TERN_ENGINE_SCALAR, TERN_ACT_F_BIAS_AP,
		  TERN_ACT_COUNT },
	};
	static const struct opinfo dma[] = {
		{ "DMA_LOAD", TERN_ENGINE_DMA, 0, 0 },
		{ "DMA_STORE", TERN_ENGINE_DMA, 0, 0 },
	};

	if (opcode >= TERN_OP_NOP && opcode <= TERN_OP_SIGNAL)
		return &control[opcode];
	if (opcode >= TERN_OP_MATMUL && opcode <= TERN_OP_TRANSPOSE)
		return &tensor[opcode - TERN_OP_MATMUL];
	if (opcode >= TERN_OP_TENSOR_TENSOR && opcode <= TERN_OP_IOTA)
		return &vector[opcode - TERN_OP_TENSOR_TENSOR];
	if (opcode == TERN_OP_ACTIVATE)
		return &scalar[0];
	if (opcode >= TERN_OP_DMA_LOAD && opcode <= TERN_OP_DMA_STORE)
		return &dma[opcode - TERN_OP_DMA_LOAD];
	return NULL;
}

const char *tern_core_opcode_name(uint32_t opcode)
{
	const struct opinfo *oi = opinfo(opcode);

	return oi ? oi->name : "?";
}

/* ---- faults ---- */

uint32_t tern_core_fault(struct tern_core *c, struct job *j, uint32_t error,
			 uint32_t engine, uint32_t index, uint64_t detail,
			 const char *fmt, ...)
{
	struct tern_job_status *st = j->st;
	va_list ap;
	int n = 0;

	st->status = TERN_JOB_FAULT;
	st->error = error;
	st->engine = engine;
	st->index = index;
	st->detail = detail;
	if (engine != TERN_ENGINE_NONE && index != TERN_INDEX_NONE)
		n = snprintf(c->msg, sizeof(c->msg), "%s instruction %" PRIu32
			     ": ", tern_engine_name(engine), index);
	else if (engine != TERN_ENGINE_NONE)
		n = snprintf(c->msg, sizeof(c->msg), "%s stream: ",
			     tern_engine_name(engine));
	va_start(ap, fmt);
	vsnprintf(c->msg + n, sizeof(c->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(c->msg);
	snprintf(c->msg + n, sizeof(c->msg) - (size_t)n, " (error %" PRIu32
		 " %s, detail 0x%" PRIx64 ")", error, tern_cerr_name(error),
		 detail);
	return error;
}

/* ---- decoding ---- */

static void decode_ap(const uint8_t *r, struct ap *a)
{
	a->offset = le32(r);
	a->mem = r[4];
	a->dtype = r[5];
	a->part = r[6];
	a->nparts = r[7];
	a->n0 = le16(r + 8);
	a->n1 = le16(r + 10);
	a->s0 = (int16_t)le16(r + 12);
	a->s1 = (int16_t)le16(r + 14);
}

void tern_core_decode(const uint8_t *r, struct insn *in)
{
	memset(in, 0, sizeof(*in));
	in->opcode = r[0];
	in->op = r[1];
	in->flags = r[2];
	in->sync = r[3];
	in->wait_sem = r[4];
	in->signal_sem = r[5];
	in->wait_value = le32(r + 8);
	decode_ap(r + OFF_DST, &in->dst);
	switch (in->opcode) {
	case TERN_OP_IOTA:
		in->base = (int32_t)le32(r + 28);
		in->pstep = (int32_t)le32(r + 32);
		in->fstep = (int32_t)le32(r + 36);
		break;
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		in->slot = le32(r + 28);
		in->hbm_offset = le64(r + 32);
		in->pstride = (int64_t)le64(r + 40);
		in->hstride[0] = (int64_t)le64(r + 48);
		in->hstride[1] = (int64_t)le64(r + 56);
		break;
	default:
		decode_ap(r + OFF_SRC0, &in->src0);
		decode_ap(r + OFF_SRC1, &in->src1);
		in->bias = le32(r + OFF_SRC1);
		in->imm = le32(r + OFF_IMM);
		break;
	}
}

/* ---- validation ---- */

/* Which body bytes (12..63) an instruction uses: bit i = byte i. */
static uint64_t used_bytes(const struct insn *in)
{
	const uint64_t dst = 0xffffull << OFF_DST, src0 = 0xffffull << OFF_SRC0;
	const uint64_t src1 = 0xffffull << OFF_SRC1, imm = 0xfull << OFF_IMM;

	switch (in->opcode) {
	case TERN_OP_MATMUL:
	case TERN_OP_TENSOR_TENSOR:
		return dst | src0 | src1;
	case TERN_OP_TRANSPOSE:
	case TERN_OP_UNARY:
	case TERN_OP_REDUCE:
	case TERN_OP_CAST:
	case TERN_OP_COPY:
		return dst | src0;
	case TERN_OP_TENSOR_SCALAR:
		return dst | src0 | imm;
	case TERN_OP_MEMSET:
		return dst | imm;
	case TERN_OP_IOTA:
		return dst | 0xfffull << 28;
	case TERN_OP_ACTIVATE:
		return dst | src0 | imm | (in->flags & TERN_ACT_F_BIAS_AP ?
					   src1 : 0xfull << OFF_SRC1);
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		return ~0ull << OFF_DST;
	default:
		return 0;
	}
}

struct operand {
	const struct ap *ap;
	unsigned int off;	/* byte offset in the instruction */
	const char *name;
};

/* The tiles an instruction uses, in checking order; returns how many. */
static unsigned int operands(const struct insn *in, struct operand *o)
{
	unsigned int n = 0;
	bool act = in->opcode == TERN_OP_ACTIVATE;
	bool dma = in->opcode == TERN_OP_DMA_LOAD ||
		   in->opcode == TERN_OP_DMA_STORE;
	uint64_t used = used_bytes(in);

	if (used & 1ull << OFF_DST)
		o[n++] = (struct operand){ &in->dst, OFF_DST,
					   dma ? "sbuf" : "dst" };
	if (dma || in->opcode == TERN_OP_IOTA)
		return n;
	if (used & 1ull << OFF_SRC0)
		o[n++] = (struct operand){ &in->src0, OFF_SRC0,
					   act ? "src" : "src0" };
	if (used & 1ull << (OFF_SRC1 + 4))
		o[n++] = (struct operand){ &in->src1, OFF_SRC1,
					   act ? "bias" : "src1" };
	return n;
}

/* Checks of the header and body fields, before any operand is looked at. */
static uint32_t check_fields(struct tern_core *c, struct job *j,
			     const uint8_t *r, const struct insn *in,
			     unsigned int e, uint32_t idx)
{
	const struct opinfo *oi = opinfo(in->opcode);
	uint64_t used;

	if (!oi || (oi->engine >= 0 && (unsigned int)oi->engine != e))
		return INSN_FAULT(TERN_CERR_ILLEGAL_OPCODE, in->opcode,
				  "opcode 0x%02x (%s) %s", in->opcode,
				  oi ? oi->name : "unknown",
				  oi ? "belongs to another engine" :
				       "is not defined");
	if (r[6] || r[7])
		return INSN_FAULT(TERN_CERR_RESERVED, r[6] ? 6 : 7,
				  "%s: reserved header bytes are not zero",
				  oi->name);
	if (in->sync & ~TERN_SYNC_ALL)
		return INSN_FAULT(TERN_CERR_RESERVED, 3,
				  "%s: unknown sync bits 0x%02x", oi->name,
				  in->sync & ~TERN_SYNC_ALL);
	if (!(in->sync & TERN_SYNC_WAIT) && (in->wait_sem || in->wait_value))
		return INSN_FAULT(
			TERN_CERR_RESERVED, in->wait_sem ? 4 : 8,
			"%s: wait_sem/wait_value set without SYNC_WAIT",
			oi->name);
	if (!(in->sync & TERN_SYNC_SIGNAL) && in->signal_sem)
		return INSN_FAULT(TERN_CERR_RESERVED, 5,
				  "%s: signal_sem set without SYNC_SIGNAL",
				  oi->name);
	if (in->flags & ~oi->flags)
		return INSN_FAULT(TERN_CERR_RESERVED, 2,
				  "%s: unknown flags 0x%02x", oi->name,
				  in->flags & ~oi->flags);
	if (!oi->nops && in->op)
		return INSN_FAULT(TERN_CERR_RESERVED, 1,
				  "%s takes no op, got %u", oi->name, in->op);
	used = used_bytes(in);
	for (unsigned int b = OFF_DST; b < TERN_INSN_SIZE; b++)
		if (!(used & 1ull << b) && r[b])
			return INSN_FAULT(TERN_CERR_RESERVED, b,
					  "%s: reserved byte %u is 0x%02x",
					  oi->name, b, r[b]);
	if (oi->nops && in->op >= oi->nops)
		return INSN_FAULT(TERN_CERR_BAD_OPERAND, 1,
				  "%s: op %u is not one of 0..%u", oi->name,
				  in->op, oi->nops - 1);
	if (in->opcode == TERN_OP_WAIT && !(in->sync & TERN_SYNC_WAIT))
		return INSN_FAULT(TERN_CERR_BAD_OPERAND, 3,
				  "WAIT without SYNC_WAIT");
	if (in->opcode == TERN_OP_SIGNAL && !(in->sync & TERN_SYNC_SIGNAL))
		return INSN_FAULT(TERN_CERR_BAD_OPERAND, 3,
				  "SIGNAL without SYNC_SIGNAL");
	if ((in->sync & TERN_SYNC_WAIT) && in->wait_sem >= j->nsems)
		return INSN_FAULT(
			TERN_CERR_BAD_OPERAND, 4,
			"%s: wait_sem %u >= the program's %u semaphores",
			oi->name, in->wait_sem, j->nsems);
	if ((in->sync & TERN_SYNC_SIGNAL) && in->signal_sem >= j->nsems)
		return INSN_FAULT(
			TERN_CERR_BAD_OPERAND, 5,
			"%s: signal_sem %u >= the program's %u semaphores",
			oi->name, in->signal_sem, j->nsems);
	return 0;
}

/* Shape rules between the operands of one instruction. */
static uint32_t check_shapes(struct tern_core *c, struct job *j,
			     const struct insn *in, unsigned int e,
			     uint32_t idx)
{
	const struct ap *d = &in->dst, *a = &in->src0, *b = &in->src1;
	const char *name = tern_core_opcode_name(in->opcode);

#define SHAPE_FAULT(off, ...) \
	INSN_FAULT(TERN_CERR_BAD_OPERAND, (off), __VA_ARGS__)

	switch (in->opcode) {
	case TERN_OP_MATMUL:
		if (a->mem != TERN_AP_SBUF)
			return SHAPE_FAULT(OFF_SRC0 + 4,
					   "MATMUL: src0 must be in SBUF");
		if (b->mem != TERN_AP_SBUF)
			return SHAPE_FAULT(OFF_SRC1 + 4,
					   "MATMUL: src1 must be in SBUF");
		if (d->mem != TERN_AP_PSUM)
			return SHAPE_FAULT(OFF_DST + 4,
					   "MATMUL: dst must be in PSUM");
		if (ap_free(a) > TERN_MATMUL_MAX_M)
			return SHAPE_FAULT(OFF_SRC0,
					   "MATMUL: M = src0 free size %u > %u",
					   ap_free(a), TERN_MATMUL_MAX_M);
		if (b->nparts != a->nparts)
			return SHAPE_FAULT(
				OFF_SRC1,
				"MATMUL: src1 has %u partitions, src0 %u (K)",
				b->nparts, a->nparts);
		if (ap_free(b) > TERN_MATMUL_MAX_N)
			return SHAPE_FAULT(OFF_SRC1,
					   "MATMUL: N = src1 free size %u > %u",
					   ap_free(b), TERN_MATMUL_MAX_N);
		if (d->nparts != ap_free(a) || ap_free(d) != ap_free(b))
			return SHAPE_FAULT(
				OFF_DST,
				"MATMUL: dst is %ux%u, must be M x N = %ux%u",
				d->nparts, ap_free(d), ap_free(a), ap_free(b));
		break;
	case TERN_OP_TRANSPOSE:
		if (ap_free(a) > TERN_TRANSPOSE_MAX)
			return SHAPE_FAULT(OFF_SRC0,
					   "TRANSPOSE: src0 free size %u > %u",
					   ap_free(a), TERN_TRANSPOSE_MAX);
		if (d->nparts != ap_free(a) || ap_free(d) != a->nparts)
			return SHAPE_FAULT(
				OFF_DST,
				"TRANSPOSE: dst is %ux%u, must be %ux%u",
				d->nparts, ap_free(d), ap_free(a), a->nparts);
		break;
	case TERN_OP_TENSOR_TENSOR:
		if (!same_shape(a, d))
			return SHAPE_FAULT(OFF_SRC0,
					   "%s: src0 shape differs from dst",
					   name);
		if (!same_shape(b, d))
			return SHAPE_FAULT(OFF_SRC1,
					   "%s: src1 shape differs from dst",
					   name);
		break;
	case TERN_OP_TENSOR_SCALAR:
	case TERN_OP_UNARY:
	case TERN_OP_CAST:
	case TERN_OP_COPY:
		if (!same_shape(a, d))
			return SHAPE_FAULT(OFF_SRC0,
					   "%s: src0 shape differs from dst",
					   name);
		break;
	case TERN_OP_REDUCE:
		if (d->nparts != a->nparts ||
		    ap_free(d) != (in->flags & TERN_REDUCE_F_INNER ? a->n1 : 1))
			return SHAPE_FAULT(
				OFF_DST, "REDUCE: dst is %ux%u, must be %ux%u",
				d->nparts, ap_free(d), a->nparts,
				in->flags & TERN_REDUCE_F_INNER ? a->n1 : 1);
		break;
	case TERN_OP_ACTIVATE:
		if (!same_shape(a, d))
			return SHAPE_FAULT(
				OFF_SRC0,
				"ACTIVATE: src shape differs from dst");
		if ((in->flags & TERN_ACT_F_BIAS_AP) &&
		    (b->nparts != a->nparts || ap_free(b) != 1))
			return SHAPE_FAULT(
				OFF_SRC1,
				"ACTIVATE: bias is %ux%u, must be %ux1",
				b->nparts, ap_free(b), a->nparts);
		break;
	case TERN_OP_DMA_LOAD:
	case TERN_OP_DMA_STORE:
		if (d->mem != TERN_AP_SBUF)
			return SHAPE_FAULT(OFF_DST + 4,
					   "%s: the tile must be in SBUF",
					   name);
		break;
	}
#undef SHAPE_FAULT
	return 0;
}

/* [off + lo, off + hi) inside [0, size), for DMA HBM patterns. */
static bool hbm_box(const struct insn *in, uint32_t esz, uint64_t size)
{
	const int64_t n[3] = { in->dst.nparts, in->dst.n1, in->dst.n0 };
	const int64_t s[3] = { in->pstride, in->hstride[1], in->hstride[0] };
	int64_t lo = 0, hi = esz, d;

	for (int i = 0; i < 3; i++) {
		if (__builtin_mul_overflow(n[i] - 1, s[i], &d))
			return false;
		if (__builtin_add_overflow(lo, min0(d), &lo) ||
		    __builtin_add_overflow(hi, max0(d), &hi))
			return false;
	}
	if (in->hbm_offset > (uint64_t)INT64_MAX)
		return false;
	if (__builtin_add_overflow(lo, (int64_t)in->hbm_offset, &lo) ||
	    __builtin_add_overflow(hi, (int64_t)in->hbm_offset, &hi))
		return false;
	return lo >= 0 && (uint64_t)hi <= size;
}

static uint32_t check_insn(struct tern_core *c, struct job *j,
			   const uint8_t *r, unsigned int e, uint32_t idx,
			   struct insn *in)
{
	struct operand o[3];
	unsigned int n;
	uint32_t err;

	tern_core_decode(r, in);
	err = check_fields(c, j, r, in, e, idx);
	if (err)
		return err;
	n = operands(in, o);
	for (unsigned int i = 0; i < n; i++)
		if (!tern_dtype_size(o[i].ap->dtype))
			return INSN_FAULT(TERN_CERR_BAD_DTYPE, o[i].off + 5,
					  "%s: %s dtype %u is not a dtype",
					  tern_core_opcode_name(in->opcode),
					  o[i].name, o[i].ap->dtype);
	if (in->opcode == TERN_OP_MATMUL && in->dst.dtype != TERN_DT_FP32)
		return INSN_FAULT(TERN_CERR_BAD_DTYPE, OFF_DST + 5,
				  "MATMUL: dst must be fp32, got dtype %u",
				  in->dst.dtype);
	if (in->opcode == TERN_OP_COPY && in->src0.dtype != in->dst.dtype)
		return INSN_FAULT(TERN_CERR_BAD_DTYPE, OFF_SRC0 + 5,
				  "COPY: src0 dtype %u is not dst's %u (CAST?)",
				  in->src0.dtype, in->dst.dtype);
	for (unsigned int i = 0; i < n; i++) {
		const struct ap *a = o[i].ap;
		const char *what = NULL;
		unsigned int off = o[i].off;

		if (a->mem != TERN_AP_SBUF && a->mem != TERN_AP_PSUM)
			what = "mem is neither SBUF nor PSUM", off += 4;
		else if (!a->nparts)
			what = "nparts is 0", off += 7;
		else if (!a->n0 || !a->n1)
			what = "a free count is 0", off += a->n0 ? 10 : 8;
		else if (a->offset % ap_esz(a))
			what = "offset is not a multiple of the element size";
		if (what)
			return INSN_FAULT(
				TERN_CERR_BAD_OPERAND, off, "%s: %s %s",
				tern_core_opcode_name(in->opcode), o[i].name, what);
	}
	err = check_shapes(c, j, in, e, idx);
	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++) {
		const struct ap *a = o[i].ap;
		bool sbuf = a->mem == TERN_AP_SBUF;
		uint32_t size = sbuf ? c->sbuf_part : TERN_PSUM_PART_SIZE;
		int64_t lo, hi;

		ap_extent(a, &lo, &hi);
		if (a->part + a->nparts > TERN_PARTITIONS || lo < 0 ||
		    hi > size)
			return INSN_FAULT(
				sbuf ? TERN_CERR_SBUF_RANGE :
				       TERN_CERR_PSUM_RANGE,
				o[i].off,
				"%s: %s partitions %u..%u, bytes %" PRId64
				"..%" PRId64 " exceed %u x %u bytes",
				tern_core_opcode_name(in->opcode), o[i].name,
				a->part, a->part + a->nparts - 1, lo, hi - 1,
				TERN_PARTITIONS, size);
	}
	if (in->opcode == TERN_OP_DMA_LOAD || in->opcode == TERN_OP_DMA_STORE) {
		if (in->slot >= j->nslots)
			return INSN_FAULT(TERN_CERR_BAD_SLOT, 28,
					  "%s: slot %" PRIu32
					  " >= the program's %u slots",
					  tern_core_opcode_name(in->opcode),
					  in->slot, j->nslots);
		if (in->opcode == TERN_OP_DMA_STORE &&
		    (j->read_only >> in->slot & 1))
			return INSN_FAULT(TERN_CERR_BAD_SLOT, 28,
					  "%s: slot %" PRIu32 " is read-only "
					  "(mapped without WRITE)",
					  tern_core_opcode_name(in->opcode),
					  in->slot);
		if (!hbm_box(in, ap_esz(&in->dst), j->slots[in->slot].size))
			return INSN_FAULT(TERN_CERR_HBM_RANGE, 32,
					  "%s: pattern at offset 0x%" PRIx64
					  " leaves slot %" PRIu32 " (0x%" PRIx64
					  " bytes)",
					  tern_core_opcode_name(in->opcode),
					  in->hbm_offset, in->slot,
					  j->slots[in->slot].size);
	}
	return 0;
}

/* Note what a valid instruction writes and signals. */
static void account(struct job *j, const struct insn *in)
{
	const struct ap *d = &in->dst;
	int64_t lo, hi;

	if ((in->sync & TERN_SYNC_SIGNAL))
		j->signals[in->signal_sem]++;
	if (!(used_bytes(in) & 1ull << OFF_DST) ||
	    in->opcode == TERN_OP_DMA_STORE)
		return;
	ap_extent(d, &lo, &hi);
	if (d->mem == TERN_AP_SBUF && hi > j->sbuf_hi)
		j->sbuf_hi = (uint32_t)hi;
	if (d->mem == TERN_AP_PSUM && hi > j->psum_hi)
		j->psum_hi = (uint32_t)hi;
}

static uint32_t check_program(struct tern_core *c, struct job *j,
			      const uint8_t *p, size_t size)
{
	static const unsigned int reserved[] = { 12, 20, 56 };
	uint32_t magic = le32(p), version = le32(p + 4);

	if (magic != TERN_PROG_MAGIC)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 0,
				       "bad magic 0x%08" PRIx32, magic);
	if (version >> 16 != TERN_ISA_VERSION_MAJOR ||
	    (version & 0xffff) > TERN_ISA_VERSION_MINOR)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 4,
				       "ISA version 0x%08" PRIx32
				       " is not supported (0x%08x)",
				       version, TERN_ISA_VERSION);
	for (unsigned int i = 0; i < 3; i++) {
		unsigned int off = reserved[i];
		uint64_t v = off == 56 ? le64(p + off) : le32(p + off);

		if (v)
			return tern_core_fault(
				c, j, TERN_CERR_BAD_PROGRAM, TERN_ENGINE_NONE,
				TERN_INDEX_NONE, off,
				"header %s at byte %u is not zero",
				off == 12 ? "flags" : "reserved field", off);
	}
	j->nslots = le16(p + 16);
	j->nsems = le16(p + 18);
	if (j->nslots > TERN_MAX_SLOTS)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 16,
				       "nslots %u > %u", j->nslots,
				       TERN_MAX_SLOTS);
	if (j->nsems > TERN_NUM_SEMS)
		return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM,
				       TERN_ENGINE_NONE, TERN_INDEX_NONE, 18,
				       "nsems %u > %u", j->nsems,
				       TERN_NUM_SEMS);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		struct tern_prog_stream ps = {
			le32(p + 24 + 8 * e), le32(p + 28 + 8 * e)
		};
		uint64_t end = ps.offset + (uint64_t)ps.count * TERN_INSN_SIZE;
		const char *why = NULL;
		unsigned int off = 24 + 8 * e;

		if (ps.count > TERN_MAX_STREAM_INSNS)
			why = "has too many instructions", off += 4;
		else if (!ps.count && ps.offset)
			why = "is empty but has an offset";
		else if (ps.count && (ps.offset % TERN_INSN_SIZE ||
				      ps.offset < TERN_PROG_HEADER_SIZE))
			why = "offset is not a multiple of 64 after the header";
		else if (end > size)
			why = "runs past the program's size";
		if (why)
			return tern_core_fault(c, j, TERN_CERR_BAD_PROGRAM, e,
					       TERN_INDEX_NONE, off,
					       "offset %" PRIu32
					       ", count %" PRIu32 ": %s",
					       ps.offset, ps.count, why);
	}
	return 0;
}

static uint32_t check_slots(struct tern_core *c, struct job *j,
			    const struct tern_core_slot *slots,
			    unsigned int nslots)
{
	if (nslots < j->nslots)
		return tern_core_fault(
			c, j, TERN_CERR_BAD_SLOT, TERN_ENGINE_NONE,
			TERN_INDEX_NONE, nslots,
			"the program uses %u slots, %u are bound", j->nslots,
			nslots);
	for (unsigned int i = 0; i < j->nslots; i++)
		if (slots[i].offset > c->hbm_size ||
		    slots[i].size > c->hbm_size - slots[i].offset)
			return tern_core_fault(
				c, j, TERN_CERR_BAD_SLOT, TERN_ENGINE_NONE,
				TERN_INDEX_NONE, i,
				"slot %u (0x%" PRIx64 "+0x%" PRIx64
				") is not inside the HBM (0x%" PRIx64 " bytes)",
				i, slots[i].offset, slots[i].size, c->hbm_size);
	return 0;
}

/* END is the last instruction of a stream, and only there. */
static uint32_t check_end(struct tern_core *c, struct job *j,
			  const struct insn *in, unsigned int e, uint32_t idx,
			  uint32_t count, uint32_t off)
{
	bool last = idx == count - 1;

	if ((in->opcode == TERN_OP_END) == last)
		return 0;
	return INSN_FAULT(TERN_CERR_BAD_PROGRAM,
			  off + (uint64_t)idx * TERN_INSN_SIZE,
			  last ? "the stream does not end with END" :
				 "END before the end of the stream");
}

static uint32_t check_streams(struct tern_core *c, struct job *j,
			      const uint8_t *p)
{
	struct insn in;

	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		uint32_t off = le32(p + 24 + 8 * e);
		uint32_t count = le32(p + 28 + 8 * e);

		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *r = p + off + (size_t)i * TERN_INSN_SIZE;
			uint32_t err = check_insn(c, j, r, e, i, &in);

			if (!err)
				err = check_end(c, j, &in, e, i, count, off);
			if (err)
				return err;
			account(j, &in);
		}
	}
	return 0;
}

uint32_t tern_core_check(struct tern_core *c, struct job *j, const uint8_t *p,
			 size_t size, const struct tern_core_slot *slots,
			 unsigned int nslots)
{
	uint32_t err = check_program(c, j, p, size);

	if (!err)
		err = check_slots(c, j, slots, nslots);
	j->slots = slots;
	if (!err)
		err = check_streams(c, j, p);
	return err;
}
