/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: the state shared by tern_model.c (register
 * file, queues, MMIO and doorbells, reset, interrupts and errors, life cycle)
 * and tern_dma.c (the DMA engines). Not part of the embedding contract, which
 * is tern_model.h; only the two files of the core include this.
 *
 * Locking: dev->lock protects every register and queue field except
 * tern_queue.abort, which workers poll without it. MMIO writes that must wait
 * for a worker (reset, queue disable/enable) sleep on dev->idle with the lock
 * released; workers never wait for the MMIO caller, so this cannot deadlock.
 */
#ifndef TERN_MODEL_INT_H
#define TERN_MODEL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tern_model.h"

#define SG_ENTRY_SIZE	16u
#define SG_BATCH	256u	/* SG entries fetched per host read (4 KiB) */

struct tern_queue {
	uint64_t prog_base;	/* RING_BASE_LO/HI as written */
	uint32_t prog_size;	/* RING_SIZE as written */
	uint64_t base;		/* ring latched at enable */
	uint32_t size;
	bool in_hbm;
	uint32_t state;		/* TERN_Q_STATE_* */
	uint32_t head, tail, error;
	uint64_t completed;
	bool inflight;		/* a worker is running descriptor `head` */
	unsigned int quiesce;	/* MMIO callers waiting for !inflight */
	atomic_bool abort;	/* reset/destroy: abandon at the next chunk */
};

/* One side (source or destination) of a copy, walked segment by segment. */
struct copy_side {
	const char *what;	/* "src" or "dst", for messages */
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
	struct copy_side side[2];
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
	uint32_t err_code, err_queue, err_index, err_count;
	uint64_t err_addr;

	struct tern_queue q[TERN_MAX_QUEUES];
	struct tern_engine eng[TERN_MAX_DMA_ENGINES];
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

void tern_send_irq(struct tern_dev *dev, unsigned int vector, bool masked);
void tern_trace_state(struct tern_dev *dev, unsigned int qn);
void tern_device_error(struct tern_dev *dev, uint32_t queue, uint32_t index,
		       uint32_t code, uint64_t addr, const char *why);

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

#endif /* TERN_MODEL_INT_H */
