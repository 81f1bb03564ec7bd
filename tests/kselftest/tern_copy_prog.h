/* SPDX-License-Identifier: MIT */
/*
 * A compute program written by hand, shared by the tests that need a known
 * launch without libtern: one DMA stream that loads a [64 partitions x 64
 * fp32] tile (16 KiB of HBM) from slot 0 and, optionally, stores it to
 * slot 1.
 */
#ifndef TERN_COPY_PROG_H
#define TERN_COPY_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tern_accel.h"
#include "tern_isa.h"

#define CP_PARTS	64
#define CP_ELEMS	64
#define CP_BYTES	(CP_PARTS * CP_ELEMS * 4ull)

struct copy_prog {
	struct tern_prog_header h;
	union tern_insn insn[3];
};

/* DMA_LOAD/STORE of the whole tile at SBUF offset 0 and HBM offset 0 of @slot. */
static inline void cp_dma_insn(union tern_insn *in, uint8_t opcode, uint32_t slot)
{
	memset(in, 0, sizeof(*in));
	in->dma.h.opcode = opcode;
	in->dma.sbuf.mem = TERN_AP_SBUF;
	in->dma.sbuf.dtype = TERN_DT_FP32;
	in->dma.sbuf.nparts = CP_PARTS;
	in->dma.sbuf.n[0] = CP_ELEMS;
	in->dma.sbuf.n[1] = 1;
	in->dma.sbuf.s[0] = 1;
	in->dma.slot = slot;
	in->dma.pstride = CP_ELEMS * 4;
	in->dma.stride[0] = 4;
}

/*
 * DMA_LOAD slot 0, then with @store DMA_STORE slot 1, END. Returns the
 * image size (a multiple of 64).
 */
static inline size_t copy_prog_init(struct copy_prog *p, int store)
{
	unsigned int n = store ? 3 : 2;

	memset(p, 0, sizeof(*p));
	p->h.magic = TERN_PROG_MAGIC;
	p->h.version = TERN_ISA_VERSION;
	p->h.size = TERN_PROG_HEADER_SIZE + n * TERN_INSN_SIZE;
	p->h.nslots = store ? 2 : 1;
	p->h.stream[TERN_ENGINE_DMA].offset = TERN_PROG_HEADER_SIZE;
	p->h.stream[TERN_ENGINE_DMA].count = n;
	cp_dma_insn(&p->insn[0], TERN_OP_DMA_LOAD, 0);
	if (store)
		cp_dma_insn(&p->insn[1], TERN_OP_DMA_STORE, 1);
	p->insn[n - 1].h.opcode = TERN_OP_END;
	return p->h.size;
}

/* An EXEC of the copy program with its two tiles; the slots travel with it. */
struct copy_exec {
	struct drm_tern_slot slots[2];
	struct drm_tern_exec e;
};

/*
 * EXEC of the copy program @prog (@prog_size bytes) on @core, tile @in in
 * slot 0 and tile @out in slot 1; every other field zero. e.slots points
 * into @x: a copy of @x would still use @x's slots.
 */
static inline void copy_exec_init(struct copy_exec *x, uint32_t core, uint32_t prog,
				  uint64_t prog_size, uint32_t in, uint32_t out)
{
	memset(x, 0, sizeof(*x));
	x->slots[0].handle = in;
	x->slots[0].size = CP_BYTES;
	x->slots[1].handle = out;
	x->slots[1].size = CP_BYTES;
	x->e.core = core;
	x->e.program_handle = prog;
	x->e.program_size = prog_size;
	x->e.slots = (uintptr_t)x->slots;
	x->e.slot_count = 2;
}

#endif /* TERN_COPY_PROG_H */
