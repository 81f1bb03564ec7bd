// SPDX-License-Identifier: MIT
/*
 * The test environment of tests/ops: a compute core over a malloc'd HBM,
 * slots with guard bytes, running programs, random tensors and a TAP
 * runner.
 */
#include "ops_test.h"

#include <stdlib.h>
#include <string.h>

/* ---- random numbers and dtypes ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void rng_seed(uint64_t seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
}

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

float rng_uniform(float lo, float hi)
{
	return lo + (hi - lo) * (float)((double)(rng_next() >> 40) / (double)(1ull << 24));
}

const char *dt_name(unsigned int dtype)
{
	static const char *const names[TERN_DT_COUNT] = {
		"?", "fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2",
	};

	return dtype < TERN_DT_COUNT ? names[dtype] : "?";
}

float dt_get(const void *base, unsigned int dtype, uint64_t i)
{
	return tern_value_get(dtype, (const uint8_t *)base + i * tern_dtype_size(dtype));
}

void dt_set(void *base, unsigned int dtype, uint64_t i, float v)
{
	tern_value_set(dtype, (uint8_t *)base + i * tern_dtype_size(dtype), v);
}

float dt_round(float v, unsigned int dtype)
{
	uint8_t b[4];

	tern_value_set(dtype, b, v);
	return tern_value_get(dtype, b);
}

double dt_eps(unsigned int dtype)
{
	return dtype == TERN_DT_BF16 ? 1.0 / 256 : 1.0 / (1 << 24);
}

/* ---- HBM slots ---- */

void env_reset(struct env *e)
{
	e->next = 0;
	e->nslots = 0;
	memset(e->slots, 0, sizeof(e->slots));
}

void *env_slot(struct env *e, unsigned int slot, uint64_t size)
{
	uint64_t at = (e->next + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;

	if (slot >= TERN_MAX_SLOTS || at + size + GUARD_SIZE > HBM_SIZE) {
		printf("# env_slot: no room for %llu bytes in slot %u\n",
		       (unsigned long long)size, slot);
		abort();
	}
	e->slots[slot] = (struct tern_core_slot){ at, size };
	if (slot >= e->nslots)
		e->nslots = slot + 1;
	memset(e->hbm + at + size, GUARD_BYTE, GUARD_SIZE);
	e->next = at + size + GUARD_SIZE;
	return e->hbm + at;
}

bool env_guards(const struct env *e)
{
	for (unsigned int s = 0; s < e->nslots; s++) {
		const uint8_t *g = e->hbm + e->slots[s].offset + e->slots[s].size;

		if (!e->slots[s].size)
			continue;
		for (unsigned int i = 0; i < GUARD_SIZE; i++) {
			if (g[i] != GUARD_BYTE) {
				printf("#   guard byte %u after slot %u overwritten\n", i, s);
				return false;
			}
		}
	}
	return true;
}

struct tern_tensor make_tensor(struct env *e, unsigned int slot, unsigned int dtype,
			       uint64_t rows, uint64_t cols, int64_t row_stride,
			       float lo, float hi)
{
	struct tern_tensor t = { slot, dtype, 0, rows, cols, row_stride, 1 };
	uint64_t size = tern_tensor_span(&t);
	void *p = env_slot(e, slot, size);

	/* the gaps of a strided tensor hold values too, which must not leak in */
	for (uint64_t i = 0; i < size / tern_dtype_size(dtype); i++)
		dt_set(p, dtype, i, rng_uniform(lo, hi));
	return t;
}

static uint64_t elem_index(const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	return (uint64_t)((int64_t)t->offset / tern_dtype_size(t->dtype) +
			  (int64_t)r * t->row_stride + (int64_t)c * t->col_stride);
}

float tensor_get(const struct env *e, const struct tern_tensor *t, uint64_t r, uint64_t c)
{
	return dt_get(e->hbm + e->slots[t->slot].offset, t->dtype, elem_index(t, r, c));
}

void tensor_set(struct env *e, const struct tern_tensor *t, uint64_t r, uint64_t c, float v)
{
	dt_set(e->hbm + e->slots[t->slot].offset, t->dtype, elem_index(t, r, c), v);
}

/* ---- running ---- */

uint32_t env_run_image(struct env *e, const void *image, size_t size)
{
	return tern_core_run(e->core, image, size, e->slots, e->nslots, NULL, &e->st);
}

bool env_run(struct env *e, struct tern_program *p, const char *what)
{
	const struct tern_job_status *st = &e->st;
	const void *image;
	size_t size;
	int ret = tern_prog_finish(p, &image, &size);

	if (ret) {
		printf("#   %s: tern_prog_finish: %s (%s)\n", what, tern_strerror(ret),
		       tern_last_error());
		return false;
	}
	if (race_check(image, size))
		return false;
	if (env_run_image(e, image, size) != TERN_JOB_OK) {
		printf("#   %s: job status %u: %s\n", what, st->status,
		       tern_core_fault_message(e->core));
		return false;
	}
	printf("# %s: %u+%u+%u+%u instructions, modeled %.2f us (%llu cycles; busy tensor %llu, "
	       "vector %llu, scalar %llu, dma %llu), wall %.3f ms\n", what,
	       st->insns[0], st->insns[1], st->insns[2], st->insns[3],
	       (double)st->cycles * 1e6 / (double)TERN_COST_CLOCK_HZ,
	       (unsigned long long)st->cycles, (unsigned long long)st->busy[0],
	       (unsigned long long)st->busy[1], (unsigned long long)st->busy[2],
	       (unsigned long long)st->busy[3], (double)st->wall_ns / 1e6);
	return env_guards(e);
}

/* ---- runner ---- */

static bool env_init(struct env *e, uint32_t sbuf_size)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	e->sbuf_size = sbuf_size ? sbuf_size : TERN_SBUF_SIZE_DEFAULT;
	/* calloc: the pages no test touches cost nothing */
	e->hbm = calloc(1, HBM_SIZE);
	if (!e->hbm)
		return false;
	e->core = tern_core_create(e->hbm, HBM_SIZE, e->sbuf_size, err, sizeof(err));
	if (!e->core) {
		printf("#   tern_core_create: %s\n", err);
		free(e->hbm);
		return false;
	}
	return true;
}

static void env_fini(struct env *e)
{
	tern_core_destroy(e->core);
	free(e->hbm);
}

int run_tests(const struct test_case *cases, unsigned int n)
{
	unsigned int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		struct env e;
		bool ok = env_init(&e, cases[i].sbuf_size);

		if (ok) {
			rng_seed(i + 1);
			ok = cases[i].fn(&e);
			env_fini(&e);
		}
		printf("%s %u - %s\n", ok ? "ok" : "not ok", i + 1, cases[i].name);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
