/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the tern compute core (emulator/tern_core.c): a small
 * program builder, an independent reference for the dtypes (decoding by
 * formula, rounding with rint() in double), and a per-test context holding a
 * core over the test embedder's HBM with six buffer slots.
 */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include "tern_test.h"
#include "tern_core.h"
#include "tern_isa.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SBUF_SIZE	TERN_SBUF_SIZE_DEFAULT
#define SBUF_PART	(SBUF_SIZE / TERN_PARTITIONS)
#define MAX_INSNS	2048
#define NSLOTS		6
#define SLOT_SIZE	(8u << 20)
#define SLOT_OFF(i)	((1u << 20) + (uint64_t)(i) * SLOT_SIZE)
#define SB		TERN_AP_SBUF
#define PS		TERN_AP_PSUM
#define E_TENSOR	TERN_ENGINE_TENSOR
#define E_VECTOR	TERN_ENGINE_VECTOR
#define E_SCALAR	TERN_ENGINE_SCALAR
#define E_DMA		TERN_ENGINE_DMA

struct prog {
	union tern_insn ins[TERN_NUM_ENGINES][MAX_INSNS];
	uint32_t n[TERN_NUM_ENGINES];
	uint16_t nslots, nsems;
	bool no_end;		/* do not append END to the streams */
};

struct ctx {
	struct env *e;
	struct tern_core *core;
	struct prog *p;
	struct tern_core_slot slots[NSLOTS];
	unsigned int nbound;	/* slots passed to the run */
	struct tern_job_status st;
	uint8_t *img;		/* the last program built */
	size_t len;
	uint64_t rng;
};

typedef bool (*core_test_fn)(struct ctx *c);

/* Run fn with a fresh context (core, empty program) and free it after. */
bool with_ctx(struct env *e, core_test_fn fn);

/* A test of the core: declares name(struct env *) for the TEST() table. */
#define CORE_TEST(name)							\
	static bool name##_body(struct ctx *c);				\
	static bool name(struct env *e) { return with_ctx(e, name##_body); } \
	static bool name##_body(struct ctx *c)

/* ---- programs ---- */

void prog_reset(struct ctx *c);
union tern_insn *emit(struct ctx *c, unsigned int engine, uint8_t opcode);
void wait_on(union tern_insn *i, uint8_t sem, uint32_t value);
void signal_on(union tern_insn *i, uint8_t sem);

struct tern_ap ap(uint8_t mem, uint8_t dt, uint8_t part, uint8_t nparts,
		  uint32_t offset, uint16_t n0, uint16_t n1, int16_t s0,
		  int16_t s1);
/* Contiguous [nparts][n1][n0] tile. */
struct tern_ap tl(uint8_t mem, uint8_t dt, uint8_t part, uint8_t nparts,
		  uint32_t offset, uint16_t n0, uint16_t n1);

union tern_insn *tile(struct ctx *c, unsigned int engine, uint8_t opcode,
		      uint8_t op, struct tern_ap d, struct tern_ap a,
		      struct tern_ap b, uint32_t imm);
union tern_insn *dma(struct ctx *c, bool load, struct tern_ap t,
		     uint32_t slot, uint64_t off, int64_t pstride,
		     int64_t s1, int64_t s0);
/* DMA of a tile to or from a row-major [nparts][n1][n0] array in a slot. */
union tern_insn *dma_rm(struct ctx *c, bool load, struct tern_ap t,
			uint32_t slot, uint64_t off);

/* Serialize into c->img; each non-empty stream gets END unless no_end. */
void build(struct ctx *c);
/* Build and run with c->nbound slots; returns st.status. */
uint32_t run(struct ctx *c);
/* Run the already built c->img again. */
uint32_t rerun(struct ctx *c);
/* Check a run ended OK, printing the fault if not. */
bool job_ok(struct ctx *c);
/* Check the last run faulted with error at engine/index with detail. */
bool job_fault(struct ctx *c, uint32_t error, uint32_t engine,
	       uint32_t index, uint64_t detail);

/* An all-zero tile: an operand slot an instruction does not use. */
extern const struct tern_ap none;
/* DMA tile t in from a row-major array in slot; signals sem 0. */
void load(struct ctx *c, struct tern_ap t, unsigned int slot);
/* DMA tile t out to a row-major array in slot once sem 1 reaches v. */
void store(struct ctx *c, struct tern_ap t, unsigned int slot, uint32_t v);
/* Make i wait for n signals of sem 0 and signal sem 1. */
union tern_insn *after_loads(union tern_insn *i, uint32_t n);

/* ---- memory ---- */

uint8_t *slot_ptr(struct ctx *c, unsigned int slot);
uint64_t rnd(struct ctx *c);
double rnd_unit(struct ctx *c);	/* [-1, 1) */

/* ---- dtype reference ---- */

unsigned int dt_size(unsigned int dt);
uint32_t get_code(const uint8_t *p, unsigned int dt);
void put_code(uint8_t *p, unsigned int dt, uint32_t code);
/* The value of a code (NaN for NaN codes). */
double ref_decode(uint32_t code, unsigned int dt);
/* x rounded to dt's values, nearest even; overflow per isa.rst. */
double ref_round(double x, unsigned int dt);
double ref_max(unsigned int dt);
/* A random finite code with unbiased exponent in [elo, ehi]. */
uint32_t rnd_code(struct ctx *c, unsigned int dt, int elo, int ehi);
/* Fill n elements at p with random codes, returning their values in v. */
void fill_random(struct ctx *c, uint8_t *p, unsigned int dt, size_t n,
		 double *v, int elo, int ehi);
/* Equal as values: both NaN, or same value and same sign of zero. */
bool same_value(double got, double want);
/* |got - want| <= rel * |want| + abs_tol; NaN and inf must match. */
bool near(double got, double want, double rel, double abs_tol);
/* Element i of dtype dt in slot: its code, its value. */
uint32_t code_at(struct ctx *c, unsigned int slot, size_t i, unsigned int dt);
double val(struct ctx *c, unsigned int slot, size_t i, unsigned int dt);

#define CHECK_VAL(got, want, i)						\
	do {								\
		double _g = (got), _w = (want);				\
		if (!same_value(_g, _w)) {				\
			printf("#   %s:%d: element %zu is %.9g, "	\
			       "expected %.9g\n", __FILE__, __LINE__,	\
			       (size_t)(i), _g, _w);			\
			return false;					\
		}							\
	} while (0)

#define CHECK_NEAR(got, want, rel, abs_tol, i)				\
	do {								\
		double _g = (got), _w = (want);				\
		if (!near(_g, _w, (rel), (abs_tol))) {			\
			printf("#   %s:%d: element %zu is %.9g, "	\
			       "expected %.9g\n", __FILE__, __LINE__,	\
			       (size_t)(i), _g, _w);			\
			return false;					\
		}							\
	} while (0)

float f32_of(uint32_t bits);
uint32_t bits_of(float f);

#endif /* CORE_UTIL_H */
