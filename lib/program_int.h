/* SPDX-License-Identifier: MIT */
/*
 * libtern internals of the program builder (program.c), shared with the
 * ops library (ops.c, ops_sched.c); not installed.
 */
#ifndef TERN_PROGRAM_INT_H
#define TERN_PROGRAM_INT_H

#include "tern_program.h"

/* Tile memories the builder plans: index TERN_AP_SBUF, TERN_AP_PSUM. */
#define PROG_NMEM	3

/* Alignment of tern_prog_alloc() tiles, in bytes per partition. */
#define PROG_ALLOC_ALIGN	64

struct prog_stream {
	union tern_insn *insns;
	uint32_t count;		/* instructions added, without END */
	uint32_t cap;
};

/* Everything tern_ops.h changes, saved and put back around an operation. */
struct prog_snapshot {
	uint32_t count[TERN_NUM_ENGINES];
	uint32_t mark[PROG_NMEM];
	unsigned int sems;
	uint32_t signals[TERN_NUM_SEMS];
};

struct ops_state;

struct tern_program {
	uint32_t part_size[PROG_NMEM];	/* bytes per partition of each memory */
	struct prog_stream s[TERN_NUM_ENGINES];
	uint32_t mark[PROG_NMEM];	/* bytes per partition allocated */
	unsigned int sems;		/* semaphores allocated: 0..sems-1 */
	uint32_t signals[TERN_NUM_SEMS];	/* SIGNALs added per semaphore */
	bool finished;
	void *image;
	size_t image_size;
	struct ops_state *ops;		/* the ops library's scheduler, or NULL */
};

void prog_snapshot(const struct tern_program *p, struct prog_snapshot *snap);
void prog_rollback(struct tern_program *p, const struct prog_snapshot *snap);

/* The ops library's part of tern_prog_free(); in ops_sched.c. */
void ops_state_free(struct ops_state *st);

/* Names for messages. */
const char *prog_engine_name(unsigned int engine);

#endif /* TERN_PROGRAM_INT_H */
