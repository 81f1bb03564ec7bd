/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: telemetry (include/tern_regs.h,
 * "Telemetry"). Counters of the DMA engines, queues and cores, ECC counts,
 * and the modeled board power and die temperature, which follow the busy
 * history of the engines. Documentation/chip/spec.rst, "Telemetry",
 * describes the model and its constants.
 *
 * Locking: the byte, descriptor, launch, cycle and ECC counters are
 * atomics that the workers update without any lock (relaxed: each is a
 * count on its own). The busy times, the busy history (buckets) and the
 * thermal state are under tern_telem.lock, a leaf lock: it may be taken
 * with dev->lock held (register reads, reset) and without it (the workers,
 * once at the start and once at the end of each descriptor or launch);
 * nothing else is taken while it is held. The LO/HI latches are under
 * dev->lock (register reads).
 */
#ifndef TERN_TELEM_H
#define TERN_TELEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tern_isa.h"
#include "tern_regs.h"

struct tern_dev;
struct tern_job_status;

/* ---- the power and temperature model (spec.rst, "Telemetry") ---- */

#define TERN_TELEM_IDLE_MW		60000u	/* board at idle */
#define TERN_TELEM_DMA_MW		8000u	/* one DMA engine fully busy */
#define TERN_TELEM_TENSOR_MW		28000u	/* one core's tensor engine */
#define TERN_TELEM_VECTOR_MW		8000u	/* ... vector engine */
#define TERN_TELEM_SCALAR_MW		6000u	/* ... scalar engine */
#define TERN_TELEM_CORE_DMA_MW		4000u	/* ... DMA (HBM <-> SBUF) engine */
#define TERN_TELEM_POWER_MAX_MW		500000u	/* POWER_MAX_MW: board limit */
#define TERN_TELEM_AMBIENT_MC		35000u	/* inlet air, m°C */
#define TERN_TELEM_RTH_MC_PER_W		120u	/* thermal resistance, m°C per W */
#define TERN_TELEM_TAU_NS		4000000000ull	/* thermal time constant */
#define TERN_TELEM_TEMP_MAX_MC		105000u	/* TEMP_MAX_MC: critical */
#define TERN_TELEM_BUCKET_NS		(TERN_TELEM_WINDOW_NS / 10)
#define TERN_TELEM_BUCKETS		32	/* history kept per unit */

/* Busy-history units: the DMA engines, then core c's engine n. */
#define TERN_TELEM_UNIT_CORE(c, n)	(TERN_MAX_DMA_ENGINES + \
					 (c) * TERN_NUM_ENGINES + (n))
#define TERN_TELEM_UNITS		TERN_TELEM_UNIT_CORE(TERN_MAX_CORES, 0)

/* Directions of the per-queue byte counters, in register order. */
enum tern_telem_dir {
	TERN_TELEM_H2D, TERN_TELEM_D2H, TERN_TELEM_D2D, TERN_TELEM_H2H,
	TERN_TELEM_LINK, TERN_TELEM_DIRS
};

/* A unit's busy time per bucket of TERN_TELEM_BUCKET_NS since the epoch. */
struct tern_telem_hist {
	uint64_t stamp[TERN_TELEM_BUCKETS];	/* bucket number held */
	uint64_t busy[TERN_TELEM_BUCKETS];	/* busy ns in it */
};

struct tern_telem {
	/* atomics: workers, no lock */
	_Atomic uint64_t dma_bytes[TERN_MAX_DMA_ENGINES];
	_Atomic uint64_t dma_descs[TERN_MAX_DMA_ENGINES];
	_Atomic uint64_t q_bytes[TERN_MAX_QUEUES][TERN_TELEM_DIRS];
	_Atomic uint64_t q_done[TERN_MAX_QUEUES], q_failed[TERN_MAX_QUEUES];
	_Atomic uint64_t core_cycles[TERN_MAX_CORES][TERN_NUM_ENGINES];
	_Atomic uint64_t core_modeled[TERN_MAX_CORES];
	_Atomic uint64_t core_done[TERN_MAX_CORES], core_failed[TERN_MAX_CORES];
	_Atomic uint64_t ecc_corr, ecc_uncorr;

	/* under lock */
	pthread_mutex_t lock;
	uint64_t epoch;				/* CLOCK_MONOTONIC ns at reset */
	uint64_t dma_busy[TERN_MAX_DMA_ENGINES];	/* ended descriptors */
	uint64_t dma_since[TERN_MAX_DMA_ENGINES];	/* running: start + 1 */
	uint64_t core_wall[TERN_MAX_CORES];		/* ended launches */
	uint64_t core_since[TERN_MAX_CORES];		/* running: start + 1 */
	/* engine share of a running launch: its core's last mix, 1/65536 */
	uint32_t core_mix[TERN_MAX_CORES][TERN_NUM_ENGINES];
	struct tern_telem_hist hist[TERN_TELEM_UNITS];
	uint64_t th_bucket;	/* temperature is settled up to this bucket */
	double temp_mc;		/* at the start of th_bucket */

	/* under dev->lock: HI halves latched by LO reads, per register pair */
	uint32_t latch[(TERN_REG_TELEM_CORE(TERN_MAX_CORES) -
			TERN_REG_TELEM_BASE) / 8];
};

/* End of the telemetry register block. */
#define TERN_REG_TELEM_END	TERN_REG_TELEM_CORE(TERN_MAX_CORES)

/* Life cycle: init at create, fini at free, reset with dev->lock held. */
void tern_telem_init(struct tern_dev *dev);
void tern_telem_fini(struct tern_dev *dev);
void tern_telem_reset(struct tern_dev *dev);

/* DMA engine e starts / ends a descriptor (worker, no dev->lock). */
void tern_telem_dma_begin(struct tern_dev *dev, unsigned int e);
void tern_telem_dma_end(struct tern_dev *dev, unsigned int e);
/* n bytes moved by engine e for queue q in direction dir (any thread). */
void tern_telem_bytes(struct tern_dev *dev, unsigned int e, unsigned int q,
		      enum tern_telem_dir dir, uint64_t n);
/* The direction of a piece from (src_hbm) to (dst_hbm). */
static inline enum tern_telem_dir tern_telem_dir_of(bool src_hbm,
						    bool dst_hbm)
{
	if (src_hbm)
		return dst_hbm ? TERN_TELEM_D2D : TERN_TELEM_D2H;
	return dst_hbm ? TERN_TELEM_H2D : TERN_TELEM_H2H;
}
/* A descriptor of queue q on engine e ended: done or halted the queue. */
void tern_telem_desc(struct tern_dev *dev, unsigned int e, unsigned int q,
		     bool ok);

/* Core c starts / ends a launch (worker, no dev->lock); st: its status. */
void tern_telem_core_begin(struct tern_dev *dev, unsigned int c);
void tern_telem_core_end(struct tern_dev *dev, unsigned int c,
			 const struct tern_job_status *st);
/*
 * A launch of core c ended and was accounted (not abandoned by a reset):
 * ok = TERN_JOB_OK with no device error; st's cycles are added.
 */
void tern_telem_launch(struct tern_dev *dev, unsigned int c,
		       const struct tern_job_status *st, bool ok);

/* Telemetry register block (dev->lock held): false for a hole. */
bool tern_telem_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v);
bool tern_telem_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val);
/* Register name of a telemetry offset, or NULL. */
const char *tern_telem_reg_name(uint64_t off);

#endif /* TERN_TELEM_H */
