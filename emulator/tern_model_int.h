/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: the state shared by tern_model.c (register
 * file, queues, MMIO and doorbells, reset, interrupts and errors, life cycle)
 * tern_dma.c (the DMA engines) and tern_launch.c (the compute cores' launch
 * rings), tern_mmu.c (the device MMU), tern_fabric.c and tern_link.c (the
 * links), tern_telem.c (telemetry). Not part of the embedding
 * contract, which is tern_model.h; only the files of the device-model core
 * include this.
 *
 * Locking: dev->lock protects every register, queue and launch-ring field
 * except tern_queue.abort and tern_launch_ring.cancel/abandon, which workers
 * poll without it, the MMU contexts (atomics, see tern_mmu.h), the
 * telemetry (atomics and its own leaf lock, see tern_telem.h) and the
 * worker-only fields (TLBs, staging buffers). MMIO writes that must wait
 * for a worker (reset, queue disable/enable) sleep on dev->idle with the lock
 * released; workers never wait for the MMIO caller, so this cannot deadlock.
 */
#ifndef TERN_MODEL_INT_H
#define TERN_MODEL_INT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tern_core.h"
#include "tern_fabric.h"
#include "tern_mmu.h"
#include "tern_model.h"
#include "tern_ras.h"
#include "tern_telem.h"

#define ERR_ABORTED	UINT32_MAX	/* internal: descriptor abandoned */
#define SG_ENTRY_SIZE	16u
#define SG_BATCH	256u	/* SG entries fetched per host read (4 KiB) */

struct tern_queue {
	uint64_t prog_base;	/* RING_BASE_LO/HI as written */
	uint32_t prog_size;	/* RING_SIZE as written */
	uint64_t base;		/* ring latched at enable */
	uint32_t size;
	bool in_hbm;
	uint32_t ctx;		/* Q_CTX: 0 kernel ring, n user-mode queue */
	uint32_t state;		/* TERN_Q_STATE_* */
	uint32_t head, tail, error;
	uint64_t completed;
	uint64_t fault_addr;	/* Q_FAULT_ADDR_LO/HI */
	uint32_t fault_info;	/* Q_FAULT_INFO */
	bool inflight;		/* a worker is running descriptor `head` */
	unsigned int quiesce;	/* MMIO callers waiting for !inflight */
	atomic_bool abort;	/* reset/destroy: abandon at the next chunk */
};

/* One side (source or destination) of a copy, walked segment by segment. */
struct copy_side {
	const char *what;	/* "src" or "dst", for messages */
	uint32_t ctx;		/* 0: physical; else addresses are VAs of ctx */
	bool write;		/* the destination side */
	bool hbm, sgl;
	uint64_t addr, left;	/* current segment */
	uint64_t list;		/* SG list address */
	uint32_t count, next;	/* SG entries, next entry to load */
	uint32_t batch_first, batch_n;
	uint8_t batch[SG_BATCH * SG_ENTRY_SIZE];
};

struct tern_engine {
	struct tern_dev *dev;
	unsigned int index;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;	/* work may be available for this engine */
	unsigned int rr;	/* round-robin position among its queues */
	uint8_t *bounce;	/* host->host staging, TERN_DMA_CHUNK bytes */
	uint8_t *rbuf;		/* reduce into host memory, TERN_DMA_CHUNK */
	struct copy_side side[2];
	struct tern_tlb tlb;	/* this engine's translations */
	struct tern_tlb peer_tlb;	/* translations of a peer's contexts */
	uint64_t peer_tlb_owner;	/* links.serial of that peer */
};

/* A compute core and its launch ring, served by one worker thread. */
struct tern_launch_ring {
	struct tern_dev *dev;
	unsigned int index;
	struct tern_core *core;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;	/* work may be available */
	uint64_t prog_base;	/* RING_BASE_LO/HI as written */
	uint32_t prog_size;	/* RING_SIZE as written */
	uint64_t base;		/* ring latched at enable */
	uint32_t size;
	bool in_hbm;
	uint32_t state;		/* TERN_Q_STATE_* */
	uint32_t head, tail, error;
	uint64_t completed;
	uint64_t fault_addr;	/* C_FAULT_ADDR_LO/HI */
	uint32_t fault_info;	/* C_FAULT_INFO */
	bool inflight;		/* the worker is running launch `head` */
	unsigned int quiesce;	/* MMIO callers waiting for !inflight */
	atomic_bool cancel;	/* the running job stops, ends ABORTED */
	atomic_bool abandon;	/* reset/destroy: no status, fence or IRQ */
	/* worker only: */
	struct tern_tlb tlb;	/* this core's translations */
	uint8_t *prog;		/* a ctx != 0 program, copied through the MMU */
	size_t prog_cap;
	bool lost_now;		/* under lock: this launch's completion is lost */
};

struct tern_dev {
	struct tern_config cfg;
	char name[64];
	const struct tern_host_ops *ops;
	void *opaque;

	pthread_mutex_t lock;
	pthread_cond_t idle;	/* some queue's inflight went false */
	bool stopping;
	unsigned int resetting;

	uint32_t int_status;	/* latched TERN_INT_ERROR; QUEUE is derived */
	uint32_t int_mask;
	uint64_t qdone;
	uint32_t core_done;
	uint32_t err_code, err_queue, err_index, err_count, err_info;
	uint64_t err_addr;
	uint32_t mmu_faults;	/* MMU_FAULTS */

	struct tern_mmu_ctx ctx[TERN_MAX_CONTEXTS];	/* atomics, see tern_mmu.h */

	struct tern_queue q[TERN_MAX_QUEUES];
	struct tern_engine eng[TERN_MAX_DMA_ENGINES];
	struct tern_launch_ring cr[TERN_MAX_CORES];

	struct tern_links links;	/* see tern_fabric.h for its locking */
	struct tern_telem telem;	/* see tern_telem.h for its locking */
	struct tern_ras ras;		/* see tern_ras.h for its locking */
};

/* ---- small helpers ---- */

/* [off, off + len) lies in the HBM, computed without overflow. */
static inline bool hbm_range_ok(const struct tern_dev *dev, uint64_t off,
				uint64_t len)
{
	return off <= dev->cfg.hbm_size && len <= dev->cfg.hbm_size - off;
}

/* [addr, addr + len) does not wrap the 64-bit address space. */
static inline bool no_wrap(uint64_t addr, uint64_t len)
{
	return len == 0 || addr + (len - 1) >= addr;
}

/* ---- tern_model.c: interrupts and errors (dev->lock held) ---- */

void tern_guest_err(struct tern_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tern_send_irq(struct tern_dev *dev, unsigned int vector, bool masked);
void tern_trace_state(struct tern_dev *dev, unsigned int qn);
/*
 * A device error: latched (with info in ERR_INFO) unless one is, counted,
 * logged, the error vector sent. info is the TERN_FAULT_INFO of a
 * TERN_ERR_MMU_FAULT (counted in MMU_FAULTS too), else 0.
 */
void tern_device_error(struct tern_dev *dev, uint32_t queue, uint32_t index,
		       uint32_t code, uint64_t addr, uint32_t info,
		       const char *why);
/* Ring base/size valid for enable? Else false with a reason in why. */
bool tern_ring_check(const struct tern_dev *dev, uint64_t base, uint32_t size,
		     bool in_hbm, char *why, size_t len);

/* ---- tern_dma.c: the DMA engines ---- */

/*
 * Start one worker thread per DMA engine; returns 0 or the pthread_create()
 * error. On failure, the workers that did start must be stopped with
 * tern_dma_stop_workers().
 */
int tern_dma_start_workers(struct tern_dev *dev);

/* Stop the workers and join those that started (lock not held). */
void tern_dma_stop_workers(struct tern_dev *dev);

/* Work may be available on queue qn (lock held). */
void tern_dma_wake(struct tern_dev *dev, unsigned int qn);

/* ---- tern_link.c: LINK_COPY and reduce on arrival (worker, no lock) ---- */

/*
 * The link word and reduce flags of a descriptor (qctx: the queue's
 * Q_CTX): 0 or a TERN_ERR_* in f.
 */
uint32_t tern_link_validate(struct tern_dev *dev,
			    const struct tern_dma_desc *d, uint32_t qctx,
			    uint64_t daddr, struct fault *f);
/* A COPY without SG lists with a reduce flag. */
uint32_t tern_reduce_copy(struct tern_engine *e, struct tern_queue *q,
			  const struct tern_dma_desc *d, uint32_t ctx,
			  struct fault *f);
/* A LINK_COPY; 0, a TERN_ERR_* or ERR_ABORTED. */
uint32_t tern_link_copy(struct tern_engine *e, struct tern_queue *q,
			const struct tern_dma_desc *d, uint32_t ctx,
			struct fault *f);

/* ---- tern_launch.c: the compute cores' launch rings ---- */

/* Create the cores (not locked); false with a message in err. */
bool tern_launch_init(struct tern_dev *dev, char *err, size_t errlen);
/* Destroy the cores; the workers must be stopped. */
void tern_launch_fini(struct tern_dev *dev);
/* Start one worker per core; 0 or the pthread_create() error. */
int tern_launch_start_workers(struct tern_dev *dev);
/* Stop the workers and join those that started (lock not held). */
void tern_launch_stop_workers(struct tern_dev *dev);
/* Core register window [TERN_REG_CORE(0), TERN_REG_CORE(cores)) (lock held). */
bool tern_launch_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v);
bool tern_launch_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val);
/* Doorbell of core c's launch ring (lock held). */
void tern_launch_doorbell(struct tern_dev *dev, unsigned int c, uint32_t tail,
			  uint64_t offset);
/* Reset (lock held): tell jobs to stop, wait for them, clear the state. */
void tern_launch_reset_begin(struct tern_dev *dev);
void tern_launch_wait_idle(struct tern_dev *dev);
void tern_launch_reset_state(struct tern_dev *dev);
/* A launch ring's registers as after reset: disabled, empty, no error. */
void tern_launch_ring_clear(struct tern_launch_ring *r);

/* Block asynchronous signals around creating worker threads. */
void tern_block_signals(sigset_t *old);

/* ---- shared by the DMA engines and the launch rings ---- */

/* Why a descriptor or launch failed, filled by a worker without the lock. */
struct fault {
	uint32_t code;
	uint64_t addr;		/* a VA for TERN_ERR_MMU_FAULT */
	uint32_t info;		/* TERN_FAULT_INFO of an MMU fault, else 0 */
	char why[200];
};

/* Record a fault in @f and return its code. */
uint32_t tern_fail(struct fault *f, uint32_t code, uint64_t addr,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif /* TERN_MODEL_INT_H */
