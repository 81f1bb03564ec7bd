/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the chip-to-chip links: fabrics of test chips in one
 * process (each a struct env with its own RAM and HBM), descriptors run
 * on a chip's kernel ring, and checks of the link registers. Shared by
 * test_link (fabric, LINK_COPY, link state) and test_reduce (reduce on
 * arrival).
 */
#ifndef LINK_UTIL_H
#define LINK_UTIL_H

#include "mmu_util.h"

#define MAX_TEST_CHIPS	TERN_MAX_CHIPS

/* The chips of the current test; chips[i] has chip id i. */
extern struct env chips[MAX_TEST_CHIPS];

/* A link configuration: no explicit peers, default bandwidth, no pacing. */
struct tern_link_config lcfg(const char *fabric, unsigned int id,
			     unsigned int n, unsigned int topology,
			     unsigned int width);
/* Create chip i of a configuration (2 queues, 1 engine, 1 core). */
bool chip_up(unsigned int i, const struct tern_link_config *lc);
/* Create chips 0..n-1 of a fabric. */
bool fabric_up(const char *fabric, unsigned int n, unsigned int topology,
	       unsigned int width);
/* Destroy the chips still up; false if a chip's guards were hit. */
bool fabric_down(void);
bool chip_down(unsigned int i);

static inline uint32_t lrd(struct env *e, unsigned int port, uint64_t reg)
{
	return rd(e, TERN_REG_LINK(port) + reg);
}

uint64_t lrd64(struct env *e, unsigned int port, uint64_t lo);

/* Port p of chip c: state, peer chip and peer port. */
bool port_is(unsigned int c, unsigned int p, uint32_t state, uint32_t peer,
	     uint32_t peer_port);

/* A LINK_COPY through port of size bytes; flags as given. */
struct tern_dma_desc lcopy(unsigned int port, unsigned int peer_ctx,
			   uint32_t flags, uint64_t src, uint64_t dst,
			   uint64_t size);
/* Run d on queue 0 of chip e (enabled on demand); expect success. */
bool run_ok(struct env *e, struct tern_dma_desc d);
/*
 * Run d on queue q of chip e and expect it to halt with code at addr
 * (and info for an MMU fault), a log line holding why; acknowledged
 * and skipped after.
 */
bool run_err(struct env *e, unsigned int q, struct tern_dma_desc d,
	     uint32_t code, uint64_t addr, uint32_t info, const char *why);
/* Every byte of [p, p + n) is b. */
bool all_is(const uint8_t *p, size_t n, uint8_t b);

#endif /* LINK_UTIL_H */
