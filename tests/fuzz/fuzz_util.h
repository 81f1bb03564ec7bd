/* SPDX-License-Identifier: MIT */
/*
 * Host libFuzzer targets of the tern device model (Documentation/
 * reliability.rst, "Fuzzing"): what the three targets share.
 *
 * - An input reader: typed values taken from the fuzzer's bytes, zero once
 *   they run out, so every input is a valid (if short) script.
 * - A fake guest RAM and HBM, each in its own mapping between inaccessible
 *   guard areas that are also poisoned for ASan: any model access outside
 *   them is an ASan report, not silent corruption. The host hooks bound
 *   every guest-RAM access to the RAM exactly as QEMU's would.
 * - One device per process (creating threads per input would dominate the
 *   run), reset and wiped at the start of every input so that an input
 *   replays the same way on its own.
 * - A page-table builder over a pool of RAM pages.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_model.h"

#define FZ_RAM_BASE	0x100000000ull	/* guest-physical address of RAM */
#define FZ_RAM_SIZE	(4u << 20)
#define FZ_HBM_SIZE	TERN_HBM_SIZE_MIN
#define FZ_GUARD	(1u << 20)	/* inaccessible bytes each side */

/* RAM layout (offsets) shared by the targets */
#define FZ_RING_OFF(q)	(0x000000u + (q) * 0x1000u)	/* 4 KiB per ring */
#define FZ_STATUS_OFF	0x030000u	/* job status / fences */
#define FZ_SGL_OFF(i)	(0x040000u + (i) * 0x1000u)
#define FZ_PT_OFF	0x080000u	/* page-table pool */
#define FZ_PT_PAGES	64u
#define FZ_DATA_OFF	0x100000u	/* the rest: data */
#define FZ_DATA_SIZE	(FZ_RAM_SIZE - FZ_DATA_OFF)

/* VA window the builders map (contexts 1..FZ_CTXS) */
#define FZ_VA_BASE	0x40000000ull	/* L0 index 1 */
#define FZ_VA_SPAN	(8u << 20)
#define FZ_CTXS		3

/* ---- input reader ---- */

struct fz {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz *f);
uint16_t fz_u16(struct fz *f);
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
/* 0..n-1 (n > 0) */
uint32_t fz_below(struct fz *f, uint32_t n);
/* true with probability about 1/n */
bool fz_one_in(struct fz *f, uint32_t n);
/* copy up to len bytes (zero-filled past the input's end) */
void fz_bytes(struct fz *f, void *dst, size_t len);

/* ---- the fake machine ---- */

struct fz_env {
	uint8_t *ram;		/* FZ_RAM_SIZE bytes at FZ_RAM_BASE */
	uint8_t *hbm;		/* FZ_HBM_SIZE bytes */
	struct tern_config cfg;
	struct tern_dev *dev;
	unsigned long guest_errors, irqs;
	bool verbose;		/* FUZZ_VERBOSE set: print guest errors */
};

/*
 * The process's device (created on first use with queues, engines, cores,
 * a 1 MiB SBUF per core) after a device reset, with RAM and HBM zero.
 */
struct fz_env *fz_begin(unsigned int queues, unsigned int engines,
			unsigned int cores);

/* Map len bytes between inaccessible, ASan-poisoned guards; zero it. */
uint8_t *fz_guarded_alloc(size_t len);
void fz_guarded_zero(uint8_t *p, size_t len);

/* RAM by bus address (must be inside) */
static inline uint8_t *fz_ram(struct fz_env *e, uint64_t bus)
{
	return e->ram + (bus - FZ_RAM_BASE);
}

static inline uint64_t fz_gpa(uint32_t off)
{
	return FZ_RAM_BASE + off;
}

uint32_t fz_rd(struct fz_env *e, uint64_t off);
void fz_wr(struct fz_env *e, uint64_t off, uint32_t val);
void fz_put32(uint8_t *p, uint32_t v);
void fz_put64(uint8_t *p, uint64_t v);
uint64_t fz_get64(const uint8_t *p);

/*
 * Wait until the model is idle as its workers see it, in one hold of its
 * lock: no descriptor or launch in flight, and every ACTIVE queue and
 * launch ring caught up with its tail (HEAD == TAIL is not enough on its
 * own: a doorbell may have moved TAIL onto the HEAD of a descriptor still
 * running). Then nothing changes until the next MMIO write or doorbell. A
 * model that does not get there in 60 s is hung: the queues' state is
 * printed and the process aborts (a fuzzer failure).
 */
void fz_wait_idle(struct fz_env *e);

/*
 * Check what must hold whatever the input was: every ring's state is
 * DISABLED, ACTIVE with nothing pending, or HALTED with an error code;
 * the latched error is a known code. Aborts with a message if not.
 */
void fz_check_state(struct fz_env *e);

/* Print a message and abort(): an invariant of the model does not hold. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						  noreturn));

/* ---- page tables in the pool ---- */

struct fz_pt {
	unsigned int next;	/* pool pages used */
	uint64_t root[FZ_CTXS + 1];
};

/* Start a pool; give contexts 1..FZ_CTXS roots (not enabled yet). */
void fz_pt_init(struct fz_env *e, struct fz_pt *pt);
/* Leaf for va at level 2 (4 KiB) or 1 (2 MiB) of context n; false if full. */
bool fz_pt_map(struct fz_env *e, struct fz_pt *pt, unsigned int n,
	       uint64_t va, int level, uint64_t pte);
/* Program context n's root and CTRL. */
void fz_ctx_set(struct fz_env *e, unsigned int n, uint64_t root,
		uint32_t ctrl);

/*
 * A random page-table setup driven by the input: contexts 1..FZ_CTXS with
 * 4 KiB and 2 MiB pages in [FZ_VA_BASE, + FZ_VA_SPAN) onto RAM data pages
 * or HBM, random permissions, and now and then a raw entry or root.
 */
void fz_mmu_random(struct fz_env *e, struct fz *f, struct fz_pt *pt);

/*
 * An address for a descriptor or launch field: guest RAM (inside, at its
 * edges, just outside), HBM (inside, at its end), a VA of the mapped
 * window, or any 64-bit value.
 */
uint64_t fz_addr(struct fz *f);
/* A size: small, page-sized, large, or any 64-bit value. */
uint64_t fz_size(struct fz *f);

#endif /* FUZZ_UTIL_H */
