// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: telemetry (include/tern_regs.h, "Telemetry").
 * The workers count bytes, descriptors, launches and modeled cycles in
 * atomics, and report when each descriptor or launch starts and ends; the
 * busy time between is kept per unit (a DMA engine, or one engine of a
 * core) in buckets of TERN_TELEM_BUCKET_NS. Board power is idle power plus
 * each unit's active power times its utilisation over the last
 * TERN_TELEM_WINDOW_NS; die temperature follows the power with a
 * first-order lag, advanced bucket by bucket from that history whenever
 * anyone looks (a worker or a register read), so it depends on the busy
 * history only, not on when it is read. See tern_telem.h for the locking
 * and Documentation/chip/spec.rst, "Telemetry", for the model.
 */
#include "tern_model_int.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define B_NS		TERN_TELEM_BUCKET_NS
#define WB		(TERN_TELEM_WINDOW_NS / TERN_TELEM_BUCKET_NS)
#define NB		TERN_TELEM_BUCKETS
#define NO_BUCKET	UINT64_MAX
#define MIX_ONE		65536u		/* a core engine's full share */

_Static_assert(TERN_TELEM_WINDOW_NS % TERN_TELEM_BUCKET_NS == 0,
	       "whole buckets per window");
_Static_assert(NB > WB + 1, "history covers a window and the bucket before");
_Static_assert(TERN_REG_TELEM_DMA(TERN_MAX_DMA_ENGINES) <=
	       TERN_REG_TELEM_QUEUE(0), "DMA block");
_Static_assert(TERN_REG_TELEM_QUEUE(TERN_MAX_QUEUES) <=
	       TERN_REG_TELEM_CORE(0), "queue block");
_Static_assert(TERN_REG_TELEM_END <= TERN_REG_WINDOW_SIZE, "in BAR0");

static const uint32_t core_engine_mw[TERN_NUM_ENGINES] = {
	[TERN_ENGINE_TENSOR] = TERN_TELEM_TENSOR_MW,
	[TERN_ENGINE_VECTOR] = TERN_TELEM_VECTOR_MW,
	[TERN_ENGINE_SCALAR] = TERN_TELEM_SCALAR_MW,
	[TERN_ENGINE_DMA] = TERN_TELEM_CORE_DMA_MW,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---- busy history (tm->lock held; times are ns since the epoch) ---- */

/* ns since the epoch; a clock read before the epoch counts as 0 */
static uint64_t rel_now(const struct tern_telem *tm)
{
	uint64_t t = mono_ns();

	return t > tm->epoch ? t - tm->epoch : 0;
}

static uint64_t hist_get(const struct tern_telem_hist *h, uint64_t k)
{
	return h->stamp[k % NB] == k ? h->busy[k % NB] : 0;
}

static void hist_add(struct tern_telem_hist *h, uint64_t k, uint64_t ns)
{
	unsigned int i = k % NB;

	if (h->stamp[i] != k) {
		h->stamp[i] = k;
		h->busy[i] = 0;
	}
	h->busy[i] += ns;
}

/* The weight (share of its time, 1/65536) of a running unit; 0: idle. */
static uint32_t run_weight(const struct tern_telem *tm, unsigned int u,
			   uint64_t *start)
{
	unsigned int c, n;

	if (u < TERN_MAX_DMA_ENGINES) {
		*start = tm->dma_since[u] - 1;
		return tm->dma_since[u] ? MIX_ONE : 0;
	}
	c = (u - TERN_MAX_DMA_ENGINES) / TERN_NUM_ENGINES;
	n = (u - TERN_MAX_DMA_ENGINES) % TERN_NUM_ENGINES;
	*start = tm->core_since[c] - 1;
	return tm->core_since[c] ? tm->core_mix[c][n] : 0;
}

static uint32_t unit_mw(unsigned int u)
{
	if (u < TERN_MAX_DMA_ENGINES)
		return TERN_TELEM_DMA_MW;
	return core_engine_mw[(u - TERN_MAX_DMA_ENGINES) % TERN_NUM_ENGINES];
}

/* Is unit u present in this configuration? */
static bool unit_used(const struct tern_dev *dev, unsigned int u)
{
	if (u < TERN_MAX_DMA_ENGINES)
		return u < dev->cfg.dma_engines;
	return (u - TERN_MAX_DMA_ENGINES) / TERN_NUM_ENGINES < dev->cfg.cores;
}

/*
 * Busy ns of unit u in [lo, hi), hi <= now: the recorded buckets (a bucket
 * cut by the window counts in proportion to the part of it that has
 * elapsed), plus the running piece weighted by its share.
 */
static double unit_busy(const struct tern_telem *tm, unsigned int u,
			uint64_t lo, uint64_t hi, uint64_t now)
{
	const struct tern_telem_hist *h = &tm->hist[u];
	uint64_t start;
	uint32_t w = run_weight(tm, u, &start);
	double busy = 0;

	for (uint64_t k = lo / B_NS; k * B_NS < hi; k++) {
		uint64_t b = hist_get(h, k);
		uint64_t k0 = k * B_NS, k1 = min_u64(k0 + B_NS, now);
		uint64_t a = max_u64(lo, k0), z = min_u64(hi, k1);

		if (b && z > a)
			busy += (double)b * (double)(z - a) / (double)(k1 - k0);
	}
	if (w && now > start) {
		uint64_t a = max_u64(lo, start), z = hi;

		if (z > a)
			busy += (double)(z - a) * w / MIX_ONE;
	}
	return busy;
}

/* Board power in mW over the window of TERN_TELEM_WINDOW_NS ending at hi. */
static double power_at(const struct tern_dev *dev, uint64_t hi, uint64_t now)
{
	const struct tern_telem *tm = &dev->telem;
	uint64_t lo = hi > TERN_TELEM_WINDOW_NS ? hi - TERN_TELEM_WINDOW_NS : 0;
	double p = TERN_TELEM_IDLE_MW;

	for (unsigned int u = 0; u < TERN_TELEM_UNITS; u++) {
		double util;

		if (!unit_used(dev, u))
			continue;
		util = unit_busy(tm, u, lo, hi, now) / TERN_TELEM_WINDOW_NS;
		p += unit_mw(u) * (util < 1 ? util : 1);
	}
	return p;
}

/* Steady die temperature (m°C) at a constant power p (mW). */
static double temp_target(double p)
{
	return TERN_TELEM_AMBIENT_MC + p * TERN_TELEM_RTH_MC_PER_W / 1000;
}

/*
 * Around bucket k: *next is the first bucket after k in which anything is
 * busy (recorded, or a running piece starts), UINT64_MAX if none; *last
 * the last bucket with recorded busy time or a running piece's start, 0
 * if none.
 */
static void busy_buckets(const struct tern_dev *dev, uint64_t k,
			 uint64_t *next, uint64_t *last)
{
	const struct tern_telem *tm = &dev->telem;

	*next = UINT64_MAX;
	*last = 0;
	for (unsigned int u = 0; u < TERN_TELEM_UNITS; u++) {
		const struct tern_telem_hist *h = &tm->hist[u];
		uint64_t start;

		if (!unit_used(dev, u))
			continue;
		for (unsigned int i = 0; i < NB; i++) {
			if (h->stamp[i] == NO_BUCKET || !h->busy[i])
				continue;
			if (h->stamp[i] > k)
				*next = min_u64(*next, h->stamp[i]);
			*last = max_u64(*last, h->stamp[i]);
		}
		if (run_weight(tm, u, &start)) {
			*next = min_u64(*next, max_u64(start / B_NS, k + 1));
			*last = max_u64(*last, start / B_NS);
		}
	}
}

/*
 * Advance the temperature to the start of the bucket of now: each bucket
 * moves it toward the target of the power of the window ending with the
 * bucket by 1 - exp(-bucket / tau). Stretches of constant power (idle, or
 * only pieces running since before the window) take one step.
 */
static void settle(struct tern_dev *dev, uint64_t now)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t k_now = now / B_NS;

	while (tm->th_bucket < k_now) {
		uint64_t k = tm->th_bucket, next, last, n = 1;
		double p = power_at(dev, (k + 1) * B_NS, now);
		double t = temp_target(p);

		busy_buckets(dev, k, &next, &last);
		if (k >= last + WB)	/* nothing changes in any window on */
			n = k_now - k;
		else if (p <= TERN_TELEM_IDLE_MW)	/* idle until next */
			n = min_u64(next, k_now) - k;
		tm->temp_mc = t + (tm->temp_mc - t) *
			      exp(-(double)n * B_NS / TERN_TELEM_TAU_NS);
		tm->th_bucket = k + n;
	}
}

/*
 * Record the busy piece [start, now) of unit u with share w (1/65536).
 * settle() ran at now first, so only buckets from the one before the
 * current window on are still needed; older ones are not written.
 */
static void record(struct tern_telem *tm, unsigned int u, uint64_t start,
		   uint64_t now, uint32_t w)
{
	uint64_t k_now = now / B_NS;
	uint64_t k = start / B_NS;

	if (!w || now <= start)
		return;
	if (k_now >= WB && k < k_now - WB)
		k = k_now - WB;
	for (; k <= k_now; k++) {
		uint64_t a = max_u64(start, k * B_NS);
		uint64_t z = min_u64(now, (k + 1) * B_NS);

		if (z > a)
			hist_add(&tm->hist[u], k, (z - a) * w / MIX_ONE);
	}
}

/* ---- workers ---- */

void tern_telem_dma_begin(struct tern_dev *dev, unsigned int e)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t now;

	pthread_mutex_lock(&tm->lock);
	now = rel_now(tm);
	settle(dev, now);
	tm->dma_since[e] = now + 1;
	pthread_mutex_unlock(&tm->lock);
}

void tern_telem_dma_end(struct tern_dev *dev, unsigned int e)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t now, start;

	pthread_mutex_lock(&tm->lock);
	now = rel_now(tm);
	settle(dev, now);
	if (tm->dma_since[e]) {
		start = tm->dma_since[e] - 1;
		tm->dma_since[e] = 0;
		if (now > start) {
			tm->dma_busy[e] += now - start;
			record(tm, e, start, now, MIX_ONE);
		}
	}
	pthread_mutex_unlock(&tm->lock);
}

void tern_telem_bytes(struct tern_dev *dev, unsigned int e, unsigned int q,
		      enum tern_telem_dir dir, uint64_t n)
{
	struct tern_telem *tm = &dev->telem;

	atomic_fetch_add_explicit(&tm->dma_bytes[e], n, memory_order_relaxed);
	atomic_fetch_add_explicit(&tm->q_bytes[q][dir], n,
				  memory_order_relaxed);
}

void tern_telem_desc(struct tern_dev *dev, unsigned int e, unsigned int q,
		     bool ok)
{
	struct tern_telem *tm = &dev->telem;

	atomic_fetch_add_explicit(&tm->dma_descs[e], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(ok ? &tm->q_done[q] : &tm->q_failed[q], 1,
				  memory_order_relaxed);
}

void tern_telem_core_begin(struct tern_dev *dev, unsigned int c)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t now;

	pthread_mutex_lock(&tm->lock);
	now = rel_now(tm);
	settle(dev, now);
	tm->core_since[c] = now + 1;
	pthread_mutex_unlock(&tm->lock);
}

void tern_telem_core_end(struct tern_dev *dev, unsigned int c,
			 const struct tern_job_status *st)
{
	struct tern_telem *tm = &dev->telem;
	uint32_t mix[TERN_NUM_ENGINES] = { 0 };
	uint64_t now, start;

	/* each engine's share of the launch: its modeled busy / duration */
	for (unsigned int n = 0; st->cycles && n < TERN_NUM_ENGINES; n++)
		mix[n] = st->busy[n] >= st->cycles ? MIX_ONE :
			 (uint32_t)((double)st->busy[n] * MIX_ONE /
				    (double)st->cycles);
	pthread_mutex_lock(&tm->lock);
	now = rel_now(tm);
	settle(dev, now);
	if (tm->core_since[c]) {
		start = tm->core_since[c] - 1;
		tm->core_since[c] = 0;
		if (now > start)
			tm->core_wall[c] += now - start;
		for (unsigned int n = 0; n < TERN_NUM_ENGINES; n++)
			record(tm, TERN_TELEM_UNIT_CORE(c, n), start, now,
			       mix[n]);
	}
	/* a running launch is assumed to look like the last one that ran */
	if (st->cycles)
		memcpy(tm->core_mix[c], mix, sizeof(mix));
	pthread_mutex_unlock(&tm->lock);
}

void tern_telem_launch(struct tern_dev *dev, unsigned int c,
		       const struct tern_job_status *st, bool ok)
{
	struct tern_telem *tm = &dev->telem;

	for (unsigned int n = 0; n < TERN_NUM_ENGINES; n++)
		atomic_fetch_add_explicit(&tm->core_cycles[c][n], st->busy[n],
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&tm->core_modeled[c], st->cycles,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(ok ? &tm->core_done[c] : &tm->core_failed[c],
				  1, memory_order_relaxed);
}

void tern_telem_ecc(struct tern_dev *dev, bool corrected)
{
	struct tern_telem *tm = &dev->telem;

	atomic_fetch_add_explicit(corrected ? &tm->ecc_corr : &tm->ecc_uncorr,
				  1, memory_order_relaxed);
}

/* ---- life cycle ---- */

static void hist_clear(struct tern_telem *tm)
{
	for (unsigned int u = 0; u < TERN_TELEM_UNITS; u++)
		for (unsigned int i = 0; i < NB; i++) {
			tm->hist[u].stamp[i] = NO_BUCKET;
			tm->hist[u].busy[i] = 0;
		}
}

void tern_telem_init(struct tern_dev *dev)
{
	struct tern_telem *tm = &dev->telem;

	pthread_mutex_init(&tm->lock, NULL);
	tm->epoch = mono_ns();
	tm->th_bucket = 0;
	/* the die starts at its idle steady state */
	tm->temp_mc = temp_target(TERN_TELEM_IDLE_MW);
	hist_clear(tm);
}

void tern_telem_fini(struct tern_dev *dev)
{
	pthread_mutex_destroy(&dev->telem.lock);
}

/*
 * Device reset (dev->lock held, no descriptor or launch running): every
 * counter and the busy history restart from 0 with a new epoch. The
 * temperature is a physical state: it carries over.
 */
void tern_telem_reset(struct tern_dev *dev)
{
	struct tern_telem *tm = &dev->telem;

	for (unsigned int e = 0; e < TERN_MAX_DMA_ENGINES; e++) {
		atomic_store(&tm->dma_bytes[e], 0);
		atomic_store(&tm->dma_descs[e], 0);
	}
	for (unsigned int q = 0; q < TERN_MAX_QUEUES; q++) {
		for (unsigned int d = 0; d < TERN_TELEM_DIRS; d++)
			atomic_store(&tm->q_bytes[q][d], 0);
		atomic_store(&tm->q_done[q], 0);
		atomic_store(&tm->q_failed[q], 0);
	}
	for (unsigned int c = 0; c < TERN_MAX_CORES; c++) {
		for (unsigned int n = 0; n < TERN_NUM_ENGINES; n++)
			atomic_store(&tm->core_cycles[c][n], 0);
		atomic_store(&tm->core_modeled[c], 0);
		atomic_store(&tm->core_done[c], 0);
		atomic_store(&tm->core_failed[c], 0);
	}
	atomic_store(&tm->ecc_corr, 0);
	atomic_store(&tm->ecc_uncorr, 0);
	memset(tm->latch, 0, sizeof(tm->latch));

	pthread_mutex_lock(&tm->lock);
	settle(dev, rel_now(tm));
	tm->epoch = mono_ns();
	tm->th_bucket = 0;
	memset(tm->dma_busy, 0, sizeof(tm->dma_busy));
	memset(tm->dma_since, 0, sizeof(tm->dma_since));
	memset(tm->core_wall, 0, sizeof(tm->core_wall));
	memset(tm->core_since, 0, sizeof(tm->core_since));
	for (unsigned int c = 0; c < TERN_MAX_CORES; c++)
		for (unsigned int n = 0; n < TERN_NUM_ENGINES; n++)
			tm->core_mix[c][n] = MIX_ONE;
	hist_clear(tm);
	pthread_mutex_unlock(&tm->lock);
}

/* ---- registers (dev->lock held) ---- */

#define REL_DMA(e)	(TERN_REG_TELEM_DMA(e) - TERN_REG_TELEM_BASE)
#define REL_QUEUE(q)	(TERN_REG_TELEM_QUEUE(q) - TERN_REG_TELEM_BASE)
#define REL_CORE(c)	(TERN_REG_TELEM_CORE(c) - TERN_REG_TELEM_BASE)
#define DMA_STRIDE	(REL_DMA(1) - REL_DMA(0))
#define QUEUE_STRIDE	(REL_QUEUE(1) - REL_QUEUE(0))
#define CORE_STRIDE	(REL_CORE(1) - REL_CORE(0))

enum reg_kind { HOLE, R32, R64 };

/*
 * The register at rel (offset in the block) for this many engines, queues
 * and cores: a 32-bit register or one half of a 64-bit pair; *unit and
 * *reg are the engine, queue or core and the offset in its block.
 */
static enum reg_kind reg_at(uint64_t rel, unsigned int engines,
			    unsigned int queues, unsigned int cores,
			    unsigned int *unit, uint64_t *reg)
{
	*unit = 0;
	*reg = rel;
	if (rel < REL_DMA(0)) {
		switch (rel & ~4ull) {
		case TERN_T_TIME_NS_LO:
		case TERN_T_ECC_CORR_LO:
		case TERN_T_ECC_UNCORR_LO:
			return R64;
		case TERN_T_TEMP_MC:	/* and POWER_MW at + 4 */
		case TERN_T_TEMP_MAX_MC:	/* and POWER_MAX_MW */
			return R32;
		}
		return HOLE;
	}
	if (rel < REL_DMA(engines)) {
		*unit = (rel - REL_DMA(0)) / DMA_STRIDE;
		*reg = (rel - REL_DMA(0)) % DMA_STRIDE;
		return *reg <= TERN_TD_DESCS_HI ? R64 : HOLE;
	}
	if (rel >= REL_QUEUE(0) && rel < REL_QUEUE(queues)) {
		*unit = (rel - REL_QUEUE(0)) / QUEUE_STRIDE;
		*reg = (rel - REL_QUEUE(0)) % QUEUE_STRIDE;
		return *reg <= TERN_TQ_FAILED_HI ? R64 : HOLE;
	}
	if (rel >= REL_CORE(0) && rel < REL_CORE(cores)) {
		*unit = (rel - REL_CORE(0)) / CORE_STRIDE;
		*reg = (rel - REL_CORE(0)) % CORE_STRIDE;
		return *reg <= TERN_TC_FAILED_HI ? R64 : HOLE;
	}
	return HOLE;
}

static uint64_t ld(_Atomic uint64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* The value of a 32-bit register or of the pair whose LO is at reg. */
static uint64_t reg_value(struct tern_dev *dev, uint64_t rel,
			  unsigned int i, uint64_t reg)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t now, v = 0;

	if (rel < REL_DMA(0)) {
		switch (reg) {
		case TERN_T_TIME_NS_LO:
			pthread_mutex_lock(&tm->lock);
			v = rel_now(tm);
			pthread_mutex_unlock(&tm->lock);
			return v;
		case TERN_T_TEMP_MC:
		case TERN_T_POWER_MW: {
			double p, t;

			pthread_mutex_lock(&tm->lock);
			now = rel_now(tm);
			settle(dev, now);
			p = power_at(dev, now, now);
			t = temp_target(p);
			t += (tm->temp_mc - t) *
			     exp(-(double)(now - tm->th_bucket * B_NS) /
				 TERN_TELEM_TAU_NS);
			pthread_mutex_unlock(&tm->lock);
			return (uint64_t)llround(reg == TERN_T_POWER_MW ? p : t);
		}
		case TERN_T_ECC_CORR_LO: return ld(&tm->ecc_corr);
		case TERN_T_ECC_UNCORR_LO: return ld(&tm->ecc_uncorr);
		case TERN_T_TEMP_MAX_MC: return TERN_TELEM_TEMP_MAX_MC;
		case TERN_T_POWER_MAX_MW: return TERN_TELEM_POWER_MAX_MW;
		}
		return 0;
	}
	if (rel < REL_QUEUE(0)) {
		switch (reg) {
		case TERN_TD_BUSY_NS_LO:
			pthread_mutex_lock(&tm->lock);
			now = rel_now(tm);
			v = tm->dma_busy[i];
			if (tm->dma_since[i] && now > tm->dma_since[i] - 1)
				v += now - (tm->dma_since[i] - 1);
			pthread_mutex_unlock(&tm->lock);
			return v;
		case TERN_TD_BYTES_LO: return ld(&tm->dma_bytes[i]);
		case TERN_TD_DESCS_LO: return ld(&tm->dma_descs[i]);
		}
		return 0;
	}
	if (rel < REL_CORE(0)) {
		switch (reg) {
		case TERN_TQ_H2D_LO: return ld(&tm->q_bytes[i][TERN_TELEM_H2D]);
		case TERN_TQ_D2H_LO: return ld(&tm->q_bytes[i][TERN_TELEM_D2H]);
		case TERN_TQ_D2D_LO: return ld(&tm->q_bytes[i][TERN_TELEM_D2D]);
		case TERN_TQ_H2H_LO: return ld(&tm->q_bytes[i][TERN_TELEM_H2H]);
		case TERN_TQ_LINK_LO:
			return ld(&tm->q_bytes[i][TERN_TELEM_LINK]);
		case TERN_TQ_DONE_LO: return ld(&tm->q_done[i]);
		case TERN_TQ_FAILED_LO: return ld(&tm->q_failed[i]);
		}
		return 0;
	}
	if (reg < TERN_TC_CYCLES_LO(TERN_NUM_ENGINES))
		return ld(&tm->core_cycles[i][reg / 8]);
	switch (reg) {
	case TERN_TC_WALL_NS_LO:
		pthread_mutex_lock(&tm->lock);
		now = rel_now(tm);
		v = tm->core_wall[i];
		if (tm->core_since[i] && now > tm->core_since[i] - 1)
			v += now - (tm->core_since[i] - 1);
		pthread_mutex_unlock(&tm->lock);
		return v;
	case TERN_TC_MODELED_LO: return ld(&tm->core_modeled[i]);
	case TERN_TC_DONE_LO: return ld(&tm->core_done[i]);
	case TERN_TC_FAILED_LO: return ld(&tm->core_failed[i]);
	}
	return 0;
}

bool tern_telem_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	struct tern_telem *tm = &dev->telem;
	uint64_t rel = off - TERN_REG_TELEM_BASE, reg, val;
	unsigned int i;
	enum reg_kind k = reg_at(rel, dev->cfg.dma_engines, dev->cfg.queues,
				 dev->cfg.cores, &i, &reg);

	if (k == HOLE)
		return false;
	if (k == R32) {
		*v = (uint32_t)reg_value(dev, rel, i, reg);
		return true;
	}
	if (reg & 4) {		/* HI: as latched by the pair's LO */
		*v = tm->latch[rel / 8];
		return true;
	}
	val = reg_value(dev, rel, i, reg);
	tm->latch[rel / 8] = (uint32_t)(val >> 32);
	*v = (uint32_t)val;
	return true;
}

bool tern_telem_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	uint64_t reg;
	unsigned int i;

	if (reg_at(off - TERN_REG_TELEM_BASE, dev->cfg.dma_engines,
		   dev->cfg.queues, dev->cfg.cores, &i, &reg) == HOLE)
		return false;
	tern_guest_err(dev, "write 0x%" PRIx32 " to read-only register %s "
		       "ignored", val, tern_reg_name(off));
	return true;
}

const char *tern_telem_reg_name(uint64_t off)
{
	static const char *const global[] = {
		"T_TIME_NS_LO", "T_TIME_NS_HI", "T_TEMP_MC", "T_POWER_MW",
		"T_ECC_CORR_LO", "T_ECC_CORR_HI", "T_ECC_UNCORR_LO",
		"T_ECC_UNCORR_HI", "T_TEMP_MAX_MC", "T_POWER_MAX_MW",
	};
	static const char *const dma[] = {
		"TD_BUSY_NS_LO", "TD_BUSY_NS_HI", "TD_BYTES_LO", "TD_BYTES_HI",
		"TD_DESCS_LO", "TD_DESCS_HI",
	};
	static const char *const queue[] = {
		"TQ_H2D_LO", "TQ_H2D_HI", "TQ_D2H_LO", "TQ_D2H_HI",
		"TQ_D2D_LO", "TQ_D2D_HI", "TQ_H2H_LO", "TQ_H2H_HI",
		"TQ_LINK_LO", "TQ_LINK_HI", "TQ_DONE_LO", "TQ_DONE_HI",
		"TQ_FAILED_LO", "TQ_FAILED_HI",
	};
	static const char *const core[] = {
		"TC_CYCLES_TENSOR_LO", "TC_CYCLES_TENSOR_HI",
		"TC_CYCLES_VECTOR_LO", "TC_CYCLES_VECTOR_HI",
		"TC_CYCLES_SCALAR_LO", "TC_CYCLES_SCALAR_HI",
		"TC_CYCLES_DMA_LO", "TC_CYCLES_DMA_HI",
		"TC_WALL_NS_LO", "TC_WALL_NS_HI", "TC_MODELED_LO",
		"TC_MODELED_HI", "TC_DONE_LO", "TC_DONE_HI", "TC_FAILED_LO",
		"TC_FAILED_HI",
	};
	uint64_t reg;
	unsigned int i;

	if (off < TERN_REG_TELEM_BASE || off >= TERN_REG_TELEM_END ||
	    (off & 3) ||
	    reg_at(off - TERN_REG_TELEM_BASE, TERN_MAX_DMA_ENGINES,
		   TERN_MAX_QUEUES, TERN_MAX_CORES, &i, &reg) == HOLE)
		return NULL;
	if (off < TERN_REG_TELEM_DMA(0))
		return global[reg / 4];
	if (off < TERN_REG_TELEM_QUEUE(0))
		return dma[reg / 4];
	if (off < TERN_REG_TELEM_CORE(0))
		return queue[reg / 4];
	return core[reg / 4];
}
