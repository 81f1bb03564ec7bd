/* SPDX-License-Identifier: MIT */
/*
 * libtern program builder: write programs for a tern core (the compute ISA
 * of include/tern_isa.h, described in Documentation/chip/isa.rst).
 *
 * A program is four instruction streams, one per engine (tensor, vector,
 * scalar, DMA), that run in parallel and synchronise through the core's
 * semaphores: an instruction may wait until a semaphore has reached a value
 * before it starts, and may add one to a semaphore when it is done. HBM is
 * reached only by DMA instructions, as a buffer slot plus an offset; the
 * slots are bound to buffers when the program is launched.
 *
 * The builder collects the streams, checks every instruction as it is
 * added (shapes, dtypes, memories, tile bounds against the SBUF and PSUM
 * sizes, semaphores, slots) and emits the program image with the END of
 * each stream appended and nslots/nsems computed. tern_prog_finish() also
 * proves that the program cannot deadlock on its semaphores.
 *
 * Conventions are those of tern.h: every call returns 0 (or an index or
 * count where documented) or a negative errno value, with the detail in
 * tern_last_error(); a failed call changes nothing. -EINVAL is a bad
 * argument (wrong shape, dtype, memory, out-of-range tile, ...), -ENOSPC
 * an SBUF/PSUM allocation or semaphore that does not fit, -E2BIG a stream
 * longer than TERN_MAX_STREAM_INSNS, -EDEADLK a program whose waits can
 * never all be met, -EALREADY a builder that was already finished.
 *
 * A builder is used by one thread at a time. tern_ops.h builds whole
 * operations (matmul, softmax, ...) on top of it.
 */
#ifndef TERN_PROGRAM_H
#define TERN_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern.h"
#include "tern_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A program being built. */
struct tern_program;

/* ---- Tensors in HBM ---- */

/**
 * struct tern_tensor - a 2-D tensor in a buffer slot
 * @slot: buffer slot, 0..TERN_MAX_SLOTS-1 (bound to a buffer at launch)
 * @dtype: element type, TERN_DT_*
 * @offset: bytes from the start of the slot's buffer to element (0, 0)
 * @rows: number of rows, >= 1
 * @cols: number of columns, >= 1
 * @row_stride: elements from one row to the next (may be 0 or negative)
 * @col_stride: elements from one column to the next (may be 0 or negative)
 *
 * Element (r, c) is at byte offset + (r * row_stride + c * col_stride) *
 * size of dtype. A vector is a tensor of one row.
 */
struct tern_tensor {
	uint32_t slot;
	uint32_t dtype;
	uint64_t offset;
	uint64_t rows;
	uint64_t cols;
	int64_t row_stride;
	int64_t col_stride;
};

/** A row-major (C order) rows x cols tensor at byte 0 of slot. */
static inline struct tern_tensor tern_tensor_2d(uint32_t slot, uint32_t dtype,
						uint64_t rows, uint64_t cols)
{
	struct tern_tensor t = { slot, dtype, 0, rows, cols, (int64_t)cols, 1 };

	return t;
}

/** The transpose of a tensor: the same elements, rows and columns swapped. */
static inline struct tern_tensor tern_tensor_t(struct tern_tensor t)
{
	struct tern_tensor r = t;

	r.rows = t.cols;
	r.cols = t.rows;
	r.row_stride = t.col_stride;
	r.col_stride = t.row_stride;
	return r;
}

/**
 * tern_tensor_check() - check a tensor descriptor
 * @t: the tensor
 *
 * Return: 0, or -EINVAL for a bad slot, dtype, shape, misaligned offset or
 * a tensor whose elements would lie before byte 0 or beyond 2^63.
 */
int tern_tensor_check(const struct tern_tensor *t);

/**
 * tern_tensor_span() - bytes of the slot's buffer a tensor reaches
 * @t: a valid tensor
 *
 * Return: one past the highest byte of any element: the smallest buffer
 * size that holds the tensor.
 */
uint64_t tern_tensor_span(const struct tern_tensor *t);

/**
 * struct tern_hbm_ap - the HBM side of a DMA: an access pattern in a slot
 * @slot: buffer slot
 * @offset: byte offset in the slot's buffer of tile element (0, 0, 0)
 * @pstride: bytes between partitions
 * @stride: bytes between elements of the tile's free dimensions 0 and 1
 *
 * Tile element (p, i1, i0) is at byte offset + p * pstride + i1 * stride[1]
 * + i0 * stride[0]. Zero strides broadcast on loads.
 */
struct tern_hbm_ap {
	uint32_t slot;
	uint64_t offset;
	int64_t pstride;
	int64_t stride[2];
};

/**
 * tern_tensor_block() - the HBM pattern of a block of a tensor
 * @t: the tensor
 * @row: first row of the block
 * @col: first column
 * @nrows: rows, 1..TERN_PARTITIONS: they go to consecutive partitions
 * @ncols: columns: they go along the free dimension 0
 * @hbm: receives the pattern, for a tile of nrows partitions x ncols
 *
 * Return: 0, or -EINVAL if the block is not inside the tensor.
 */
int tern_tensor_block(const struct tern_tensor *t, uint64_t row, uint64_t col,
		      uint32_t nrows, uint32_t ncols, struct tern_hbm_ap *hbm);

/* ---- Tiles in SBUF and PSUM (struct tern_ap) ---- */

/**
 * tern_tile() - a tile of nparts partitions x n elements, contiguous
 * @mem: TERN_AP_SBUF or TERN_AP_PSUM
 * @dtype: TERN_DT_*
 * @offset: byte offset inside each partition
 * @part: first partition
 * @nparts: partitions
 * @n: elements per partition, 1..65535
 */
static inline struct tern_ap tern_tile(unsigned int mem, unsigned int dtype,
				       uint32_t offset, unsigned int part,
				       unsigned int nparts, unsigned int n)
{
	struct tern_ap ap = {
		.offset = offset, .mem = (uint8_t)mem, .dtype = (uint8_t)dtype,
		.part = (uint8_t)part, .nparts = (uint8_t)nparts,
		.n = { (uint16_t)n, 1 }, .s = { 1, 0 },
	};

	return ap;
}

/** Partitions first..first+count-1 of a tile (first counts from ap.part). */
static inline struct tern_ap tern_ap_parts(struct tern_ap ap, unsigned int first,
					   unsigned int count)
{
	ap.part = (uint8_t)(ap.part + first);
	ap.nparts = (uint8_t)count;
	return ap;
}

/** Elements first..first+count-1 of free dimension 0 (n[1] stays). */
static inline struct tern_ap tern_ap_cols(struct tern_ap ap, unsigned int first,
					  unsigned int count)
{
	ap.offset += (uint32_t)((int64_t)first * ap.s[0] * tern_dtype_size(ap.dtype));
	ap.n[0] = (uint16_t)count;
	return ap;
}

/** Element 0 of each partition repeated n times: [nparts x 1] -> [nparts x n]. */
static inline struct tern_ap tern_ap_bcast(struct tern_ap ap, unsigned int n)
{
	ap.n[0] = (uint16_t)n;
	ap.n[1] = 1;
	ap.s[0] = 0;
	ap.s[1] = 0;
	return ap;
}

/** The tile's free size, n[0] * n[1] elements per partition. */
static inline uint32_t tern_ap_free(struct tern_ap ap)
{
	return (uint32_t)ap.n[0] * ap.n[1];
}

/* ---- Building ---- */

/**
 * struct tern_sync - the synchronisation of one instruction
 * @wait_sem: semaphore to wait for, or -1 for none
 * @wait_value: start once semaphore @wait_sem >= this value
 * @signal_sem: semaphore to add one to when done, or -1 for none
 */
struct tern_sync {
	int wait_sem;
	uint32_t wait_value;
	int signal_sem;
};

/** No synchronisation. */
#define TERN_SYNC_NONE	((struct tern_sync){ -1, 0, -1 })

/** Wait until semaphore sem >= value. */
static inline struct tern_sync tern_sync_wait(int sem, uint32_t value)
{
	struct tern_sync s = { sem, value, -1 };

	return s;
}

/** Add one to semaphore sem when done. */
static inline struct tern_sync tern_sync_signal(int sem)
{
	struct tern_sync s = { -1, 0, sem };

	return s;
}

/** Wait for wait_sem >= value, then signal signal_sem when done. */
static inline struct tern_sync tern_sync_wait_signal(int wait_sem, uint32_t value,
						     int signal_sem)
{
	struct tern_sync s = { wait_sem, value, signal_sem };

	return s;
}

/**
 * tern_prog_create() - start a program
 * @sbuf_size: SBUF bytes of the core it is for (0: TERN_SBUF_SIZE_DEFAULT);
 *	tiles are checked against it, and the program runs on any core with
 *	at least this much SBUF
 * @progp: receives the builder; free it with tern_prog_free()
 *
 * Return: 0, -EINVAL for a bad SBUF size, -ENOMEM.
 */
int tern_prog_create(uint32_t sbuf_size, struct tern_program **progp);

/** tern_prog_free() - free a builder and its image; @prog may be NULL. */
void tern_prog_free(struct tern_program *prog);

/**
 * tern_prog_sem_alloc() - allocate a semaphore
 * @prog: the builder
 *
 * Semaphores start at 0 in every job. Those allocated are numbered from 0;
 * nothing stops an instruction from using a number it did not allocate
 * (below TERN_NUM_SEMS), but allocation keeps independent code apart.
 *
 * Return: the semaphore number, or -ENOSPC when all TERN_NUM_SEMS are taken.
 */
int tern_prog_sem_alloc(struct tern_program *prog);

/**
 * tern_prog_signals() - how many signals a semaphore gets so far
 * @prog: the builder
 * @sem: the semaphore
 *
 * The value it will have once everything added so far has run: waiting for
 * it waits for all those instructions. Return: the count, or -EINVAL.
 */
int tern_prog_signals(const struct tern_program *prog, int sem);

/**
 * tern_prog_alloc() - reserve a tile in SBUF or PSUM
 * @prog: the builder
 * @mem: TERN_AP_SBUF or TERN_AP_PSUM
 * @dtype: TERN_DT_*
 * @nparts: partitions, 1..TERN_PARTITIONS, from partition 0
 * @n: elements per partition, 1..65535
 * @tile: receives the tile (tern_tile() of the reserved bytes)
 *
 * Reserves the same bytes in every partition, 64-byte aligned, after the
 * tiles already reserved. Only a plan: the core has no allocator.
 *
 * Return: 0, -EINVAL for a bad argument, -ENOSPC when the tile does not
 * fit (the message says by how much).
 */
int tern_prog_alloc(struct tern_program *prog, unsigned int mem, unsigned int dtype,
		    unsigned int nparts, uint32_t n, struct tern_ap *tile);

/**
 * tern_prog_mark() - the allocation point of a memory, for tern_prog_release()
 * @prog: the builder
 * @mem: TERN_AP_SBUF or TERN_AP_PSUM
 *
 * Return: bytes per partition reserved so far, or -EINVAL.
 */
int tern_prog_mark(const struct tern_program *prog, unsigned int mem);

/**
 * tern_prog_release() - give back the tiles reserved after a mark
 * @prog: the builder
 * @mem: TERN_AP_SBUF or TERN_AP_PSUM
 * @mark: from tern_prog_mark()
 *
 * The caller makes sure that the instructions using those tiles are done
 * before others reuse the bytes (tern_ops.h does this itself).
 *
 * Return: 0, or -EINVAL for a bad memory or a mark above the current one.
 */
int tern_prog_release(struct tern_program *prog, unsigned int mem, int mark);

/*
 * The instructions. Each function checks its operands, appends one
 * instruction to its engine's stream and returns its index in that stream
 * (>= 0), or a negative error code. Tiles in SBUF and PSUM are
 * struct tern_ap; see include/tern_isa.h for their meaning.
 */

/**
 * tern_prog_matmul() - tensor engine: dst (+)= stationary^T . moving
 * @prog: the builder
 * @dst: PSUM, fp32, [M partitions x N]
 * @stationary: SBUF, [K partitions x M], M <= TERN_MATMUL_MAX_M
 * @moving: SBUF, [K partitions x N], same dtype, N <= TERN_MATMUL_MAX_N
 * @accumulate: add to dst instead of overwriting it
 * @sync: synchronisation
 *
 * K <= TERN_MATMUL_MAX_K. Inputs fp32, bf16, fp16 or fp8; products are
 * summed in fp32.
 */
int tern_prog_matmul(struct tern_program *prog, struct tern_ap dst,
		     struct tern_ap stationary, struct tern_ap moving,
		     bool accumulate, struct tern_sync sync);

/**
 * tern_prog_transpose() - tensor engine: dst [F x P] = src [P x F]
 * @prog: the builder
 * @dst: [F partitions x P], SBUF or PSUM, any dtype (values are converted)
 * @src: [P partitions x F], F <= TERN_TRANSPOSE_MAX, SBUF or PSUM
 * @sync: synchronisation
 */
int tern_prog_transpose(struct tern_program *prog, struct tern_ap dst,
			struct tern_ap src, struct tern_sync sync);

/**
 * tern_prog_tensor_tensor() - vector engine: dst = src0 alu src1
 * @prog: the builder
 * @alu: TERN_ALU_*
 * @dst: the result; all three tiles have the same partitions count and
 *	free size (a [P x 1] source broadcast with tern_ap_bcast() counts
 *	as the full size)
 * @src0: left operand
 * @src1: right operand
 * @sync: synchronisation
 */
int tern_prog_tensor_tensor(struct tern_program *prog, unsigned int alu,
			    struct tern_ap dst, struct tern_ap src0,
			    struct tern_ap src1, struct tern_sync sync);

/**
 * tern_prog_tensor_scalar() - vector engine: dst = src alu imm (or imm alu src)
 * @prog: the builder
 * @alu: TERN_ALU_*
 * @dst: the result
 * @src: the tile operand, same shape
 * @imm: the scalar
 * @reverse: compute imm alu src (for SUB, DIV)
 * @sync: synchronisation
 */
int tern_prog_tensor_scalar(struct tern_program *prog, unsigned int alu,
			    struct tern_ap dst, struct tern_ap src, float imm,
			    bool reverse, struct tern_sync sync);

/** tern_prog_unary() - vector engine: dst = un(src), un a TERN_UN_*. */
int tern_prog_unary(struct tern_program *prog, unsigned int un, struct tern_ap dst,
		    struct tern_ap src, struct tern_sync sync);

/**
 * tern_prog_reduce() - vector engine: reduce along the free axis
 * @prog: the builder
 * @red: TERN_RED_*
 * @dst: [P x 1], or [P x n[1] of src] with @inner
 * @src: [P x n[1] x n[0]]
 * @inner: reduce n[0] only, one result per i1
 * @sync: synchronisation
 */
int tern_prog_reduce(struct tern_program *prog, unsigned int red, struct tern_ap dst,
		     struct tern_ap src, bool inner, struct tern_sync sync);

/** tern_prog_cast() - vector engine: dst = src converted to dst's dtype. */
int tern_prog_cast(struct tern_program *prog, struct tern_ap dst, struct tern_ap src,
		   struct tern_sync sync);

/** tern_prog_copy() - vector engine: dst = src, same dtype, bit exact. */
int tern_prog_copy(struct tern_program *prog, struct tern_ap dst, struct tern_ap src,
		   struct tern_sync sync);

/** tern_prog_memset() - vector engine: every element of dst = value. */
int tern_prog_memset(struct tern_program *prog, struct tern_ap dst, float value,
		     struct tern_sync sync);

/**
 * tern_prog_iota() - vector engine: an index pattern
 * @prog: the builder
 * @dst: the tile
 * @base: value of element (0, 0, 0)
 * @pstep: added per partition
 * @fstep: added per element along the free axis (i1 * n[0] + i0)
 * @sync: synchronisation
 */
int tern_prog_iota(struct tern_program *prog, struct tern_ap dst, int32_t base,
		   int32_t pstep, int32_t fstep, struct tern_sync sync);

/**
 * tern_prog_activate() - scalar engine: dst = func(src * scale + bias)
 * @prog: the builder
 * @func: TERN_ACT_*
 * @dst: the result
 * @src: the input, same shape
 * @scale: multiplies the input
 * @bias: added after the scale
 * @sync: synchronisation
 */
int tern_prog_activate(struct tern_program *prog, unsigned int func, struct tern_ap dst,
		       struct tern_ap src, float scale, float bias,
		       struct tern_sync sync);

/**
 * tern_prog_activate_ap() - scalar engine: dst = func(src * scale + bias[p])
 * @prog: the builder
 * @func: TERN_ACT_*
 * @dst: the result
 * @src: the input, same shape
 * @scale: multiplies the input
 * @bias: a [P x 1] tile: one bias per partition
 * @sync: synchronisation
 */
int tern_prog_activate_ap(struct tern_program *prog, unsigned int func,
			  struct tern_ap dst, struct tern_ap src, float scale,
			  struct tern_ap bias, struct tern_sync sync);

/**
 * tern_prog_dma_load() - DMA engine: HBM -> SBUF tile, bytes copied as is
 * @prog: the builder
 * @dst: SBUF tile
 * @src: where each element comes from (tern_tensor_block() makes one)
 * @sync: synchronisation
 */
int tern_prog_dma_load(struct tern_program *prog, struct tern_ap dst,
		       const struct tern_hbm_ap *src, struct tern_sync sync);

/** tern_prog_dma_store() - DMA engine: SBUF tile -> HBM, bytes as is. */
int tern_prog_dma_store(struct tern_program *prog, const struct tern_hbm_ap *dst,
			struct tern_ap src, struct tern_sync sync);

/** tern_prog_wait() - @engine waits until semaphore @sem >= @value. */
int tern_prog_wait(struct tern_program *prog, unsigned int engine, int sem,
		   uint32_t value);

/** tern_prog_signal() - @engine adds one to @sem once its earlier work is done. */
int tern_prog_signal(struct tern_program *prog, unsigned int engine, int sem);

/** tern_prog_nop() - @engine does nothing, with @sync. */
int tern_prog_nop(struct tern_program *prog, unsigned int engine, struct tern_sync sync);

/**
 * tern_prog_count() - instructions in a stream so far
 * @prog: the builder
 * @engine: TERN_ENGINE_*
 *
 * Return: the count (without the END that tern_prog_finish() adds), or -EINVAL.
 */
int tern_prog_count(const struct tern_program *prog, unsigned int engine);

/**
 * tern_prog_insn() - read back an instruction already added
 * @prog: the builder
 * @engine: TERN_ENGINE_*
 * @index: its index in the stream
 * @insn: receives a copy
 *
 * Return: 0 or -EINVAL.
 */
int tern_prog_insn(const struct tern_program *prog, unsigned int engine, unsigned int index,
		   union tern_insn *insn);

/**
 * tern_prog_finish() - end the streams and emit the program image
 * @prog: the builder
 * @image: receives the image (header then streams), owned by @prog
 * @size: receives its size in bytes
 *
 * Appends END to every non-empty stream, computes nslots (highest slot used
 * + 1) and nsems (highest semaphore used + 1), and checks that every wait
 * is met: -EDEADLK names a wait that would never be (the program is not
 * emitted). After success the builder takes no more instructions; calling
 * this again returns the same image.
 *
 * Return: 0, -EINVAL for an empty program, -EDEADLK, -ENOMEM.
 */
int tern_prog_finish(struct tern_program *prog, const void **image, size_t *size);

/**
 * tern_opcode_name() - an instruction's opcode as text
 * @opcode: TERN_OP_* of tern_isa.h
 *
 * Return: its name as in Documentation/chip/isa.rst ("MATMUL", "DMA_LOAD",
 * ...), or "?" for a value that is not an opcode.
 */
const char *tern_opcode_name(unsigned int opcode);

/* ---- Values on the host ---- */

/**
 * tern_value_get() - read one element of a dtype as a float
 * @dtype: TERN_DT_*
 * @p: the element
 *
 * Exact: every value of every dtype is a float. Return: the value (NaN for
 * a bad dtype).
 */
float tern_value_get(unsigned int dtype, const void *p);

/**
 * tern_value_set() - write a float as one element of a dtype
 * @dtype: TERN_DT_*
 * @p: the element
 * @v: the value, rounded to nearest even the way the core rounds
 *	(Documentation/chip/isa.rst: fp8 E4M3 saturates to +-448)
 */
void tern_value_set(unsigned int dtype, void *p, float v);

/* ---- Program cache ---- */

/** Builds a program into @prog for tern_kernel_cached(); returns 0 or an error. */
typedef int (*tern_build_fn)(struct tern_program *prog, void *arg);

/**
 * tern_kernel_cached() - a kernel for a key, built and loaded once
 * @dev: the device
 * @key: bytes that identify the program (op, shapes, dtypes, strides...)
 * @key_size: 1..256 bytes
 * @build: adds the program's instructions, called only on a miss, with a
 *	fresh builder sized for @dev's SBUF; the library finishes and loads it
 * @arg: passed to @build
 * @kp: receives the kernel, owned by the device's cache (do not free it);
 *	valid until tern_device_close()
 *
 * A later call with the same key returns the same kernel without calling
 * @build: relaunching a shape costs no rebuild. Thread-safe. At most 256
 * cached kernels hold HBM at a time: beyond that the least recently used
 * one not being launched gives its HBM back, keeping its image in host
 * memory, and is loaded again when it is next used.
 *
 * Return: 0, what @build or tern_kernel_load() returned, or -EINVAL.
 */
int tern_kernel_cached(struct tern_device *dev, const void *key, size_t key_size,
		       tern_build_fn build, void *arg, struct tern_kernel **kp);

#ifdef __cplusplus
}
#endif

#endif /* TERN_PROGRAM_H */
