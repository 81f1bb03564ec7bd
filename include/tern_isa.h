/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tern compute ISA: the binary format of programs run by a tern core, the
 * job status a core reports, compute error codes and the cost-model
 * parameters. Shared by the device model (emulator/) and the runtime's
 * program builder (lib/). Documentation/chip/isa.rst describes every field
 * and instruction; keep both in step.
 *
 * Everything is little endian. Every structure has a fixed layout with
 * explicit reserved fields, which must be zero. Floating-point immediates
 * travel as the bits of an IEEE-754 binary32 in a uint32_t field.
 */
#ifndef TERN_ISA_H
#define TERN_ISA_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/* ---- The core ---- */

#define TERN_ISA_VERSION_MAJOR		1
#define TERN_ISA_VERSION_MINOR		0
#define TERN_ISA_VERSION		((TERN_ISA_VERSION_MAJOR << 16) | \
					 TERN_ISA_VERSION_MINOR)

/* SBUF and PSUM are both 128 partitions; a partition is a row of bytes. */
#define TERN_PARTITIONS			128
#define TERN_SBUF_SIZE_DEFAULT		(24u << 20)	/* 192 KiB/partition */
#define TERN_SBUF_SIZE_MIN		(1u << 20)
#define TERN_SBUF_SIZE_MAX		(64u << 20)
#define TERN_SBUF_SIZE_ALIGN		(128u << 10)	/* 1 KiB/partition */
#define TERN_PSUM_PART_SIZE		(16u << 10)
#define TERN_PSUM_SIZE			(TERN_PARTITIONS * TERN_PSUM_PART_SIZE)

/* Engines, in the order of the program's streams. */
#define TERN_ENGINE_TENSOR		0	/* matmul, transpose */
#define TERN_ENGINE_VECTOR		1	/* elementwise, reduce, cast */
#define TERN_ENGINE_SCALAR		2	/* activation functions */
#define TERN_ENGINE_DMA			3	/* HBM <-> SBUF */
#define TERN_NUM_ENGINES		4
/* Job status of a fault that is not an instruction's. */
#define TERN_ENGINE_NONE		0xffffffffu
#define TERN_INDEX_NONE			0xffffffffu

#define TERN_NUM_SEMS			32	/* semaphores per core */
#define TERN_MAX_SLOTS			64	/* buffer slots per program */
#define TERN_MAX_STREAM_INSNS		(1u << 20)	/* per stream */

/* Shape limits of the tensor engine. */
/*
 * Shape limits of the tensor engine: K = input partitions (contraction),
 * M = stationary free size = output partitions, N = moving free size =
 * output free size; a transpose input has at most 128 free elements.
 */
#define TERN_MATMUL_MAX_K		128
#define TERN_MATMUL_MAX_M		128
#define TERN_MATMUL_MAX_N		512
#define TERN_TRANSPOSE_MAX		128

/* ---- Data types (tern_ap.dtype) ---- */

#define TERN_DT_FP32			1
#define TERN_DT_BF16			2
#define TERN_DT_FP16			3
#define TERN_DT_FP8_E4M3		4	/* OCP E4M3FN: no inf, 448 */
#define TERN_DT_FP8_E5M2		5	/* OCP E5M2: IEEE-like */
#define TERN_DT_COUNT			6	/* 0 is not a dtype */

static inline unsigned int tern_dtype_size(unsigned int dt)
{
	return dt == TERN_DT_FP32 ? 4 :
	       dt == TERN_DT_BF16 || dt == TERN_DT_FP16 ? 2 :
	       dt == TERN_DT_FP8_E4M3 || dt == TERN_DT_FP8_E5M2 ? 1 : 0;
}

/* ---- Tile memories (tern_ap.mem), not libtern's TERN_MEM_* ---- */

#define TERN_AP_SBUF			1
#define TERN_AP_PSUM			2

/*
 * struct tern_ap - a tile access pattern, 16 bytes.
 *
 * Addresses nparts partitions from part, and in each the elements
 *   offset + (i1 * s[1] + i0 * s[0]) * elem_size,  i0 < n[0], i1 < n[1]
 * bytes into the partition (n[0] is the inner dimension; strides are in
 * elements and may be zero or negative). The tile's free size is
 * n[0] * n[1]; its elements are taken in the order i1 outer, i0 inner.
 * offset must be a multiple of the element size. An operand slot an
 * instruction does not use must be all zero.
 */
struct tern_ap {
	uint32_t offset;	/* byte offset inside each partition */
	uint8_t mem;		/* TERN_MEM_* */
	uint8_t dtype;		/* TERN_DT_* */
	uint8_t part;		/* first partition, 0..127 */
	uint8_t nparts;		/* partitions, 1..128 */
	uint16_t n[2];		/* free-dimension counts, each >= 1 */
	int16_t s[2];		/* free-dimension strides, in elements */
};

/* ---- Instructions: 64 bytes each ---- */

#define TERN_INSN_SIZE			64

/* Opcodes (tern_insn_hdr.opcode). 0 is never valid. */
#define TERN_OP_NOP			0x01	/* any engine */
#define TERN_OP_END			0x02	/* any engine: stream end */
#define TERN_OP_WAIT			0x03	/* any: with SYNC_WAIT */
#define TERN_OP_SIGNAL			0x04	/* any: with SYNC_SIGNAL */
#define TERN_OP_MATMUL			0x10	/* tensor */
#define TERN_OP_TRANSPOSE		0x11	/* tensor */
#define TERN_OP_TENSOR_TENSOR		0x20	/* vector: src0 alu src1 */
#define TERN_OP_TENSOR_SCALAR		0x21	/* vector: dst = src0 alu imm */
#define TERN_OP_UNARY			0x22	/* vector: dst = un(src0) */
#define TERN_OP_REDUCE			0x23	/* vector: along free axis */
#define TERN_OP_CAST			0x24	/* vector: convert dtype */
#define TERN_OP_COPY			0x25	/* vector: bit exact */
#define TERN_OP_MEMSET			0x26	/* vector: dst = imm */
#define TERN_OP_IOTA			0x27	/* vector: index pattern */
#define TERN_OP_ACTIVATE		0x30	/* scalar: f(x*scale + bias) */
#define TERN_OP_DMA_LOAD		0x40	/* DMA: HBM -> SBUF */
#define TERN_OP_DMA_STORE		0x41	/* DMA: SBUF -> HBM */

/* tern_insn_hdr.sync */
#define TERN_SYNC_WAIT			(1u << 0)	/* sem >= wait_value */
#define TERN_SYNC_SIGNAL		(1u << 1)	/* sem += 1 when done */
#define TERN_SYNC_ALL			0x03u

/*
 * tern_insn_hdr.flags, per opcode; other opcodes take none.
 * MATMUL: accumulate into PSUM (else overwrite). TENSOR_SCALAR: compute
 * imm alu src0. REDUCE: reduce n[0] only, keeping n[1]. ACTIVATE: the bias
 * is a [nparts x 1] tile.
 */
#define TERN_MATMUL_F_ACCUMULATE	(1u << 0)
#define TERN_TS_F_REVERSE		(1u << 0)
#define TERN_REDUCE_F_INNER		(1u << 0)
#define TERN_ACT_F_BIAS_AP		(1u << 0)

/* tern_insn_hdr.op: TENSOR_TENSOR and TENSOR_SCALAR */
#define TERN_ALU_ADD			0
#define TERN_ALU_SUB			1
#define TERN_ALU_MUL			2
#define TERN_ALU_DIV			3
#define TERN_ALU_MAX			4
#define TERN_ALU_MIN			5
#define TERN_ALU_COUNT			6

/* tern_insn_hdr.op: UNARY */
#define TERN_UN_ABS			0
#define TERN_UN_NEG			1
#define TERN_UN_SQUARE			2
#define TERN_UN_RECIPROCAL		3
#define TERN_UN_COUNT			4

/* tern_insn_hdr.op: REDUCE */
#define TERN_RED_SUM			0
#define TERN_RED_MAX			1
#define TERN_RED_MIN			2
#define TERN_RED_COUNT			3

/* tern_insn_hdr.op: ACTIVATE */
#define TERN_ACT_IDENTITY		0
#define TERN_ACT_RELU			1
#define TERN_ACT_GELU			2	/* x * Phi(x), with erf */
#define TERN_ACT_GELU_TANH		3	/* the tanh approximation */
#define TERN_ACT_SILU			4
#define TERN_ACT_SIGMOID		5
#define TERN_ACT_TANH			6
#define TERN_ACT_EXP			7
#define TERN_ACT_LOG			8
#define TERN_ACT_SQRT			9
#define TERN_ACT_RSQRT			10
#define TERN_ACT_RECIPROCAL		11
#define TERN_ACT_COUNT			12

/*
 * struct tern_insn_hdr - the first 12 bytes of every instruction.
 *
 * With TERN_SYNC_WAIT the instruction starts only once semaphore wait_sem
 * has reached wait_value; with TERN_SYNC_SIGNAL semaphore signal_sem is
 * incremented once it is done. Unused sync fields must be zero.
 */
struct tern_insn_hdr {
	uint8_t opcode;		/* TERN_OP_* */
	uint8_t op;		/* sub-operation (TERN_ALU_*, ...), else 0 */
	uint8_t flags;		/* per-opcode TERN_*_F_* */
	uint8_t sync;		/* TERN_SYNC_* */
	uint8_t wait_sem;	/* < program's nsems */
	uint8_t signal_sem;	/* < program's nsems */
	uint16_t reserved;	/* must be 0 */
	uint32_t wait_value;
};

/*
 * Tile format: MATMUL, TRANSPOSE, TENSOR_TENSOR, TENSOR_SCALAR, UNARY,
 * REDUCE, CAST, COPY, MEMSET. imm is a binary32 (TENSOR_SCALAR, MEMSET).
 * MATMUL: dst (PSUM, fp32) [M x N] (+)= src0^T [K x M] . src1 [K x N].
 */
struct tern_insn_tile {
	struct tern_insn_hdr h;
	struct tern_ap dst;
	struct tern_ap src0;
	struct tern_ap src1;
	uint32_t imm;
};

/*
 * ACTIVATE: dst = func(src * scale + bias). bias is the tile bias_ap (one
 * element per partition) with TERN_ACT_F_BIAS_AP, else the immediate
 * bias_imm with bias_reserved zero.
 */
struct tern_insn_act {
	struct tern_insn_hdr h;
	struct tern_ap dst;
	struct tern_ap src;
	union {
		struct tern_ap bias_ap;
		struct {
			uint32_t bias_imm;	/* binary32 */
			uint32_t bias_reserved[3];
		};
	};
	uint32_t scale;		/* binary32 */
};

/* IOTA: dst element (p, i1, i0) = base + p*pstep + (i1*n0 + i0)*fstep. */
struct tern_insn_iota {
	struct tern_insn_hdr h;
	struct tern_ap dst;
	int32_t base;
	int32_t pstep;
	int32_t fstep;
	uint32_t reserved[6];
};

/*
 * DMA_LOAD / DMA_STORE between the SBUF tile sbuf and HBM buffer slot
 * slot: element (p, i1, i0) of the tile is at byte
 *   hbm_offset + p * pstride + i1 * stride[1] + i0 * stride[0]
 * of the slot's buffer. Strides are in bytes and may be zero (a load then
 * broadcasts) or negative. Data is copied, not converted.
 */
struct tern_insn_dma {
	struct tern_insn_hdr h;
	struct tern_ap sbuf;
	uint32_t slot;		/* < program's nslots */
	uint64_t hbm_offset;
	int64_t pstride;
	int64_t stride[2];
};

union tern_insn {
	struct tern_insn_hdr h;
	struct tern_insn_tile t;
	struct tern_insn_act act;
	struct tern_insn_iota iota;
	struct tern_insn_dma dma;
	uint8_t raw[TERN_INSN_SIZE];
};

/* ---- Programs ---- */

#define TERN_PROG_MAGIC			0x47525054u	/* "TPRG" */
#define TERN_PROG_HEADER_SIZE		64

/* Stream of one engine: count instructions at offset (a multiple of 64). */
struct tern_prog_stream {
	uint32_t offset;	/* from the program start; 0 if count is 0 */
	uint32_t count;		/* instructions, <= TERN_MAX_STREAM_INSNS */
};

/*
 * struct tern_prog_header - the first 64 bytes of a program.
 *
 * The streams follow, in any order, inside the program's size bytes. A
 * non-empty stream ends with END (and has no other END); an empty stream's
 * engine has nothing to do. HBM addresses in instructions are buffer slots
 * plus offsets: the slots are bound to buffers at launch, which is the
 * program's relocation.
 */
struct tern_prog_header {
	uint32_t magic;		/* TERN_PROG_MAGIC */
	uint32_t version;	/* same major, minor <= the core's */
	uint32_t size;		/* bytes of the program, header included */
	uint32_t flags;		/* must be 0 */
	uint16_t nslots;	/* buffer slots used, <= TERN_MAX_SLOTS */
	uint16_t nsems;		/* semaphores used, <= TERN_NUM_SEMS */
	uint32_t reserved0;	/* must be 0 */
	struct tern_prog_stream stream[TERN_NUM_ENGINES];
	uint64_t reserved1;	/* must be 0 */
};

/* ---- Job status ---- */

#define TERN_JOB_OK			0
#define TERN_JOB_FAULT			1	/* error, engine, index: why */
#define TERN_JOB_ABORTED		2	/* cancelled before it ended */

/* Compute error codes (tern_job_status.error). */
#define TERN_CERR_NONE			0
#define TERN_CERR_BAD_PROGRAM		1	/* header or stream layout */
#define TERN_CERR_ILLEGAL_OPCODE	2	/* unknown, or other engine's */
#define TERN_CERR_RESERVED		3	/* reserved field/flag not 0 */
#define TERN_CERR_BAD_DTYPE		4	/* unknown or not allowed */
#define TERN_CERR_BAD_OPERAND		5	/* op, shape, mem, semaphore */
#define TERN_CERR_SBUF_RANGE		6	/* tile outside the SBUF */
#define TERN_CERR_PSUM_RANGE		7	/* tile outside the PSUM */
#define TERN_CERR_BAD_SLOT		8	/* not bound, or not in HBM */
#define TERN_CERR_HBM_RANGE		9	/* outside the slot's buffer */
#define TERN_CERR_DEADLOCK		10	/* no engine can progress */
#define TERN_CERR_ECC			11	/* read an HBM line with an uncorrectable error */
#define TERN_CERR_COUNT			12

/*
 * struct tern_job_status - what a core reports for a job, 128 bytes.
 *
 * On a fault, engine and index name the faulting instruction (TERN_*_NONE
 * when the fault is not an instruction's: a bad header or slot table).
 * detail is a value that locates the fault (see isa.rst). cycles is the
 * modeled duration of the job, busy[] each engine's modeled busy cycles.
 */
struct tern_job_status {
	uint32_t status;	/* TERN_JOB_* */
	uint32_t error;		/* TERN_CERR_* */
	uint32_t engine;	/* TERN_ENGINE_* or TERN_ENGINE_NONE */
	uint32_t index;		/* instruction index in its stream */
	uint64_t detail;
	uint64_t cycles;	/* modeled duration, at TERN_COST_CLOCK_HZ */
	uint64_t busy[TERN_NUM_ENGINES];
	uint32_t insns[TERN_NUM_ENGINES];	/* instructions completed */
	uint64_t wall_ns;	/* host time the model spent on the job */
	uint64_t reserved[5];
};

/*
 * ---- Profiles (Documentation/chip/isa.rst, "Profiles") ----
 *
 * A launch with TERN_LAUNCH_F_PROFILE (tern_regs.h) has one more entry in
 * its slot table, after the program's slot_count entries: the profile
 * buffer, an HBM buffer like any slot (at least TERN_PROF_HEADER_SIZE
 * bytes). When the job ends the core writes there a struct tern_prof_header
 * and then one struct tern_prof_rec per instruction it completed, in the
 * order the core's scheduler ran them, as many as fit; records that do not
 * fit are counted in dropped. Times are modeled cycles (TERN_COST_CLOCK_HZ)
 * from the start of the job, the same clock as tern_job_status.cycles.
 * A program that faults still gets its profile up to the fault.
 */
#define TERN_PROF_MAGIC			0x46525054u	/* "TPRF" */
#define TERN_PROF_VERSION		1
#define TERN_PROF_HEADER_SIZE		64
#define TERN_PROF_REC_SIZE		48

struct tern_prof_header {
	uint32_t magic;		/* TERN_PROF_MAGIC */
	uint32_t version;	/* TERN_PROF_VERSION */
	uint32_t count;		/* records written */
	uint32_t dropped;	/* records that did not fit */
	uint64_t cycles;	/* the job's modeled duration */
	uint32_t rec_size;	/* TERN_PROF_REC_SIZE */
	uint32_t reserved0;	/* 0 */
	uint64_t reserved[4];	/* 0 */
};

/*
 * struct tern_prof_rec - one completed instruction, 48 bytes.
 *
 * ready is when its engine finished the instruction before (0 for the
 * first), start when it began: start - ready is the time it waited on its
 * semaphore (nonzero only with TERN_SYNC_WAIT), end - start its cost.
 * bytes is what a DMA_LOAD/DMA_STORE moved between HBM and the SBUF (0 for
 * other opcodes).
 */
struct tern_prof_rec {
	uint64_t ready;		/* cycle its engine was free */
	uint64_t start;		/* cycle it started */
	uint64_t end;		/* cycle it ended */
	uint64_t bytes;		/* DMA bytes, else 0 */
	uint32_t index;		/* instruction index in its stream */
	uint32_t wait_value;	/* copied from the instruction header */
	uint8_t engine;		/* TERN_ENGINE_* */
	uint8_t opcode;		/* TERN_OP_* */
	uint8_t sync;		/* TERN_SYNC_* of the instruction */
	uint8_t wait_sem;
	uint8_t signal_sem;
	uint8_t reserved[3];	/* 0 */
};

/*
 * ---- Cost model (Documentation/chip/isa.rst, "Cost model") ----
 *
 * CLOCK_HZ: the core clock; cycles count at it.
 * PE_ROWS x PE_COLS: the systolic array (contraction x stationary columns).
 * INSN_CYCLES: fixed cost of every instruction (issue, decode, sync).
 * PE_FILL_CYCLES: loading the stationary tile and draining the array.
 * PE_FP32_PASSES: cycles per moving column with an fp32 input (else 1).
 * LANES: vector and scalar lanes, one per partition, 1 element/cycle each.
 * DMA_FIXED_CYCLES: DMA setup and latency.
 * DMA_BYTES_PER_CYCLE: the core's DMA engines together (358 GB/s).
 * HBM_BYTES_PER_CYCLE: the chip's HBM (820 GB/s).
 * SBUF_PART_BYTES_PER_CYCLE: the DMA port of one SBUF partition.
 * DMA_BURST: the smallest HBM transfer, in bytes.
 */
#define TERN_COST_CLOCK_HZ		1400000000ull
#define TERN_COST_PE_ROWS		128
#define TERN_COST_PE_COLS		128
#define TERN_COST_INSN_CYCLES		64
#define TERN_COST_PE_FILL_CYCLES	128
#define TERN_COST_PE_FP32_PASSES	4
#define TERN_COST_LANES			128
#define TERN_COST_DMA_FIXED_CYCLES	256
#define TERN_COST_DMA_BYTES_PER_CYCLE	256
#define TERN_COST_HBM_BYTES_PER_CYCLE	585
#define TERN_COST_SBUF_PART_BYTES_PER_CYCLE 8
#define TERN_COST_DMA_BURST		64

_Static_assert(sizeof(struct tern_ap) == 16, "tern_ap layout");
_Static_assert(sizeof(struct tern_insn_hdr) == 12, "tern_insn_hdr layout");
_Static_assert(sizeof(struct tern_insn_tile) == 64, "tern_insn_tile layout");
_Static_assert(sizeof(struct tern_insn_act) == 64, "tern_insn_act layout");
_Static_assert(sizeof(struct tern_insn_iota) == 64, "tern_insn_iota layout");
_Static_assert(sizeof(struct tern_insn_dma) == 64, "tern_insn_dma layout");
_Static_assert(sizeof(union tern_insn) == 64, "tern_insn layout");
_Static_assert(sizeof(struct tern_prog_header) == 64, "program header layout");
_Static_assert(sizeof(struct tern_job_status) == 128, "job status layout");
_Static_assert(sizeof(struct tern_prof_header) == TERN_PROF_HEADER_SIZE, "profile header layout");
_Static_assert(sizeof(struct tern_prof_rec) == TERN_PROF_REC_SIZE, "profile record layout");

#endif /* TERN_ISA_H */
