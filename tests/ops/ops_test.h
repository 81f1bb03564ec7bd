/* SPDX-License-Identifier: MIT */
/*
 * Host tests of libtern's program builder and ops: programs are built with
 * the real library and run on the real compute core of the device model
 * (emulator/tern_core.c) over a malloc'd HBM, then checked against plain C
 * references. Also a race checker that proves, from a program image alone,
 * that every two instructions of different engines touching the same SBUF
 * or PSUM bytes (one of them writing) are ordered by semaphores.
 */
#ifndef OPS_TEST_H
#define OPS_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern_core.h"
#include "tern_ops.h"
#include "tern_program.h"

#define HBM_SIZE	(64u << 20)
#define SLOT_ALIGN	4096u
#define GUARD_SIZE	4096u		/* checked bytes after every slot */
#define GUARD_BYTE	0xa5

/* The core, its HBM and the slots of the next job. */
struct env {
	uint8_t *hbm;
	struct tern_core *core;
	uint32_t sbuf_size;
	struct tern_core_slot slots[TERN_MAX_SLOTS];
	unsigned int nslots;
	uint64_t next;			/* first free HBM byte */
	struct tern_job_status st;	/* of the last run */
};

/* A test: true on success; CHECK() says why not. */
typedef bool (*test_fn)(struct env *e);

struct test_case {
	const char *name;
	test_fn fn;
	uint32_t sbuf_size;		/* 0: TERN_SBUF_SIZE_DEFAULT */
};

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s\n",		\
			       __FILE__, __LINE__, #cond);		\
			return false;					\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b) {						\
			printf("#   %s:%d: %s == %lld, expected %s == %lld\n", \
			       __FILE__, __LINE__, #a, _a, #b, _b);	\
			return false;					\
		}							\
	} while (0)

/* Check that a libtern call returns ret; prints tern_last_error() if not. */
#define CHECK_RET(call, ret)						\
	do {								\
		int _r = (call), _w = (ret);				\
		if (_r != _w) {						\
			printf("#   %s:%d: %s returned %d (%s), expected %d\n", \
			       __FILE__, __LINE__, #call, _r,		\
			       _r < 0 ? tern_last_error() : "", _w);	\
			return false;					\
		}							\
	} while (0)

#define CHECK_OK(call)	CHECK_RET(call, 0)

int run_tests(const struct test_case *cases, unsigned int n);

/* Bind the next slot to a fresh HBM range of size bytes; returns it. */
void *env_slot(struct env *e, unsigned int slot, uint64_t size);
/* The guard bytes after every slot are intact. */
bool env_guards(const struct env *e);
/*
 * Finish p, check it for races, run it and expect TERN_JOB_OK. Prints the
 * modeled and wall time as a TAP comment, prefixed with what.
 */
bool env_run(struct env *e, struct tern_program *p, const char *what);
/* Run a finished image and return the job status (no checks). */
uint32_t env_run_image(struct env *e, const void *image, size_t size);

/*
 * The race checker: 0 if the program's semaphores order every conflicting
 * pair of instructions, else prints the first race (or a semaphore with
 * signals from several engines, which it cannot reason about) and returns
 * -1.
 */
int race_check(const void *image, size_t size);

/* Random numbers: a fixed sequence per seed. */
void rng_seed(uint64_t seed);
float rng_uniform(float lo, float hi);

/* Elements of a dtype in memory, as float. */
float dt_get(const void *base, unsigned int dtype, uint64_t i);
void dt_set(void *base, unsigned int dtype, uint64_t i, float v);
/* v rounded to a dtype (round to nearest even), as float. */
float dt_round(float v, unsigned int dtype);

/*
 * A tensor in slot: rows x cols with the given row stride (elements), in a
 * new HBM range, filled with uniform values in [lo, hi) rounded to dtype.
 */
struct tern_tensor make_tensor(struct env *e, unsigned int slot, unsigned int dtype,
			       uint64_t rows, uint64_t cols, int64_t row_stride,
			       float lo, float hi);
/* Element (r, c) of a tensor in the env's HBM. */
float tensor_get(const struct env *e, const struct tern_tensor *t, uint64_t r, uint64_t c);
void tensor_set(struct env *e, const struct tern_tensor *t, uint64_t r, uint64_t c, float v);

/* "fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2" ("?" for anything else). */
const char *dt_name(unsigned int dtype);

/* Empty the env's HBM and slots: every test case starts from nothing. */
void env_reset(struct env *e);

/* Relative precision of a dtype: half a unit in the last place at 1. */
double dt_eps(unsigned int dtype);

/* The program has the instruction counts and SBUF/PSUM marks given. */
static inline bool prog_unchanged(struct tern_program *p, const int *counts, int sbuf,
				  int psum)
{
	for (unsigned int i = 0; i < TERN_NUM_ENGINES; i++)
		CHECK_EQ(tern_prog_count(p, i), counts[i]);
	CHECK_EQ(tern_prog_mark(p, TERN_AP_SBUF), sbuf);
	CHECK_EQ(tern_prog_mark(p, TERN_AP_PSUM), psum);
	return true;
}

/* call on program p fails with err, says why, and leaves p as it was. */
#define CHECK_FAILS(call, err)						\
	do {								\
		int _c[TERN_NUM_ENGINES], _s = tern_prog_mark(p, TERN_AP_SBUF); \
		int _p = tern_prog_mark(p, TERN_AP_PSUM);		\
		for (unsigned int _i = 0; _i < TERN_NUM_ENGINES; _i++)	\
			_c[_i] = tern_prog_count(p, _i);		\
		CHECK_RET(call, err);					\
		printf("#   %s -> %s\n", #call, tern_last_error());	\
		CHECK(tern_last_error()[0]);				\
		CHECK(prog_unchanged(p, _c, _s, _p));			\
	} while (0)

#endif /* OPS_TEST_H */
