/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core: the chip's registers, queues and DMA engines in
 * plain C11 + pthreads, with no QEMU headers, so the host unit tests run it
 * exactly as QEMU does. The embedder (the QEMU adapter tern_pci.c, or a test)
 * provides guest-memory access, interrupts and logging through
 * struct tern_host_ops; Documentation/chip/spec.rst describes the behaviour.
 *
 * Threads: the MMIO/doorbell entry points may be called from any thread
 * (QEMU calls them under the BQL); each DMA engine and each compute core's
 * launch ring runs on its own worker thread created by tern_dev_create().
 * Workers never call back into anything that could wait for the MMIO caller.
 */
#ifndef TERN_MODEL_H
#define TERN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_regs.h"

/* Limits of the configuration, the same as the QEMU properties'. */
#define TERN_HBM_SIZE_MIN		(64ull << 20)
#define TERN_HBM_SIZE_MAX		(64ull << 30)
#define TERN_HBM_SIZE_DEFAULT		(1ull << 30)
#define TERN_CORES_DEFAULT		2
#define TERN_QUEUES_DEFAULT		8
#define TERN_DMA_ENGINES_DEFAULT	2

/* Size of the register window in BAR0, below the MSI-X table. */
#define TERN_REG_WINDOW_SIZE		TERN_MSIX_TABLE_OFFSET

/* worker_init/worker_exit engine number of core c's launch worker. */
#define TERN_WORKER_CORE(c)		(TERN_MAX_DMA_ENGINES + (c))

/* Largest piece a DMA engine moves before checking for a device reset. */
#define TERN_DMA_CHUNK			(1u << 20)

struct tern_dev;

/* Fabric topologies (struct tern_link_config.topology). */
#define TERN_TOPOLOGY_NONE	0	/* only explicit peers, or no links */
#define TERN_TOPOLOGY_RING	1
#define TERN_TOPOLOGY_TORUS2D	2

#define TERN_LINK_BANDWIDTH_DEFAULT	2000	/* MB/s per direction */
#define TERN_LINK_LATENCY_DEFAULT	2000	/* ns */

/*
 * Where a chip sits in a fabric (include/tern_regs.h, "Chip-to-chip
 * links"). Chips that name the same fabric in one process share it: each
 * registers itself at tern_dev_create() and leaves at tern_dev_destroy();
 * a port whose peer is not (yet) registered reads DOWN. Every chip of a
 * fabric must give the same chips, topology and width.
 */
struct tern_link_config {
	const char *fabric;	/* fabric name; NULL or "": no fabric, no links */
	unsigned int chip_id;	/* 0..chips-1, unique in the fabric */
	unsigned int chips;	/* 1..TERN_MAX_CHIPS */
	unsigned int topology;	/* TERN_TOPOLOGY_* */
	unsigned int width;	/* torus2d: chips per row (0: square root of chips) */
	/*
	 * TERN_TOPOLOGY_NONE: the chip at the other end of each port, or -1.
	 * The peer's port is the one of its ports that names this chip, the
	 * k-th such for this chip's k-th port naming the peer.
	 */
	int peers[TERN_MAX_LINKS];
	unsigned int bandwidth_mbps;	/* per link and direction; 0: default */
	unsigned int latency_ns;	/* per transfer; 0: default */
	bool pace;		/* hold transfers to the modeled bandwidth in wall time */
};

struct tern_config {
	uint8_t *hbm;		/* the HBM backing store, hbm_size bytes */
	uint64_t hbm_size;	/* power of two, TERN_HBM_SIZE_MIN..MAX */
	unsigned int cores;	/* 1..TERN_MAX_CORES */
	unsigned int queues;	/* 1..TERN_MAX_QUEUES */
	unsigned int dma_engines; /* 1..TERN_MAX_DMA_ENGINES */
	uint64_t sbuf_size;	/* SBUF bytes per core; 0: TERN_SBUF_SIZE_DEFAULT */
	const char *name;	/* device name in guest-error lines; copied */
	const struct tern_link_config *link;	/* NULL: no fabric; copied */
};

/*
 * Services of the embedder. Unless noted, a hook may be called from a DMA
 * worker thread or from the MMIO caller, possibly with the device's lock
 * held: it must not call any tern_* function of the same device and must not
 * wait for the MMIO caller (in QEMU: must not take the BQL).
 */
struct tern_host_ops {
	/*
	 * Guest (bus) memory access, required. Return true only if all of
	 * [addr, addr + len) is guest RAM and was copied; on false, part of the
	 * range may have been accessed but nothing outside guest RAM was.
	 * Called without the device lock.
	 */
	bool (*dma_read)(void *opaque, uint64_t addr, void *buf, size_t len);
	bool (*dma_write)(void *opaque, uint64_t addr, const void *buf,
			  size_t len);
	/* Send MSI-X vector, required. Must not block. */
	void (*raise_irq)(void *opaque, unsigned int vector);
	/* One guest-error line, starting with "tern:", no newline. Optional. */
	void (*guest_error)(void *opaque, const char *line);
	/*
	 * Called first and last on each worker thread. Optional. engine is
	 * the DMA engine, or TERN_WORKER_CORE(c) for core c's launch worker.
	 */
	void (*worker_init)(void *opaque, unsigned int engine);
	void (*worker_exit)(void *opaque, unsigned int engine);

	/* Trace points, all optional. */
	void (*trace_doorbell)(void *opaque, unsigned int queue, uint32_t tail);
	void (*trace_dma_start)(void *opaque, unsigned int engine,
				unsigned int queue, uint32_t index,
				const struct tern_dma_desc *desc);
	void (*trace_dma_done)(void *opaque, unsigned int queue,
			       uint32_t index, uint32_t error);
	void (*trace_irq)(void *opaque, unsigned int vector, bool masked);
	void (*trace_queue_state)(void *opaque, unsigned int queue,
				  uint32_t state);
	/* Core c starts launch descriptor index / ended it (error: TERN_ERR_*). */
	void (*trace_launch_start)(void *opaque, unsigned int core,
				   uint32_t index,
				   const struct tern_launch_desc *desc);
	void (*trace_launch_done)(void *opaque, unsigned int core,
				  uint32_t index, uint32_t error,
				  uint32_t job_status, uint32_t job_error,
				  uint64_t cycles);
	/*
	 * The profile of core c's launch index was written at HBM offset
	 * hbm_offset: count records, dropped more that did not fit.
	 */
	void (*trace_launch_profile)(void *opaque, unsigned int core,
				     uint32_t index, uint64_t hbm_offset,
				     uint32_t count, uint32_t dropped);
	/*
	 * An MMU fault halted queue (a queue number, or TERN_ERR_QUEUE_CORE(c)
	 * for core c's launch ring) at ring index: va, and info as in
	 * Q_FAULT_INFO (TERN_FAULT_INFO). Called with the device lock held.
	 */
	void (*trace_mmu_fault)(void *opaque, uint32_t queue, uint32_t index,
				uint64_t va, uint32_t info);
	/* done=false: in-flight work told to stop; done=true: reset over */
	void (*trace_reset)(void *opaque, bool done);
	/* A link copy of size bytes left through port toward peer_chip. */
	void (*trace_link_copy)(void *opaque, unsigned int port,
				unsigned int peer_chip, uint64_t size,
				uint32_t error);
	/* Port's state became TERN_LINK_STATE_*. */
	void (*trace_link_state)(void *opaque, unsigned int port,
				 uint32_t state);
};

/*
 * Check the numbers of a configuration (not cfg->hbm). Returns true if
 * valid; otherwise writes a message naming the QEMU property ("hbm-size",
 * "cores", "queues", "dma-engines", "sbuf-size") into err and returns false.
 */
bool tern_config_check(const struct tern_config *cfg, char *err,
		       size_t errlen);

/*
 * Create a device in its reset state and start its DMA workers. Returns
 * NULL with a message in err on failure. ops and opaque must outlive it.
 */
struct tern_dev *tern_dev_create(const struct tern_config *cfg,
				 const struct tern_host_ops *ops, void *opaque,
				 char *err, size_t errlen);

/* Stop and join the workers (an in-flight descriptor is abandoned), free. */
void tern_dev_destroy(struct tern_dev *dev);

/* Device reset, as a write of TERN_RESET_KEY to TERN_REG_RESET. */
void tern_dev_reset(struct tern_dev *dev);

/*
 * BAR0 register window [0, TERN_REG_WINDOW_SIZE). Only naturally aligned
 * 32-bit accesses are registers: any other size or alignment is a guest
 * error, reads return 0 and writes are dropped.
 */
uint64_t tern_mmio_read(struct tern_dev *dev, uint64_t offset,
			unsigned int size);
void tern_mmio_write(struct tern_dev *dev, uint64_t offset, uint64_t value,
		     unsigned int size);

/*
 * BAR2 doorbells: a 32-bit write at q * TERN_DOORBELL_STRIDE, or for core
 * c's launch ring at TERN_CORE_DOORBELL(queues, c). Anything else
 * is a guest error and is ignored; reads return 0.
 */
uint64_t tern_doorbell_read(struct tern_dev *dev, uint64_t offset,
			    unsigned int size);
void tern_doorbell_write(struct tern_dev *dev, uint64_t offset,
			 uint64_t value, unsigned int size);

/*
 * BAR2 size: one page per queue, then one per core (launch rings), rounded
 * up to a power of two.
 */
uint64_t tern_doorbell_bar_size(unsigned int queues, unsigned int cores);

/*
 * Link-down fault injection: force ports (bit p = port p) down, or clear
 * the force. Both ends of each affected link then read DOWN (or UP again)
 * and latch TERN_INT_LINK. Any thread; returns false with a message in
 * err for bits past TERN_MAX_LINKS.
 */
bool tern_dev_set_link_down(struct tern_dev *dev, uint32_t mask, char *err,
			    size_t errlen);

/* The mask last set by tern_dev_set_link_down(). */
uint32_t tern_dev_link_down(struct tern_dev *dev);

/*
 * Fault injection (include/tern_regs.h, "Fault injection"; the QEMU
 * properties inject-*). Any thread, never with the device's lock held.
 * Each returns false with a message in err for a bad argument (an offset
 * outside the HBM, a queue or core the chip does not have) and changes
 * nothing then. A fault is armed until it takes effect, exactly once:
 *  - ECC: "corrected" makes the next engine read of the 64-byte line at
 *    offset count a CE (data intact); "uncorrected" poisons the line: every
 *    engine read of it fails until an engine writes the whole line.
 *  - DMA abort: the queue's next descriptor that passes validation ends
 *    TERN_ERR_DMA_ABORT without moving data.
 *  - core hang: the core's next launch never ends; ABORT is ignored;
 *    TERN_C_CTRL_RESET of the core or a device reset drops it.
 *  - lost completion: the next job done on the queue (core: launch) moves
 *    its data and HEAD but writes no fence and raises no interrupt.
 * A device reset drops the armed DMA aborts, hangs and lost completions,
 * not the ECC errors (the bad data stays in the HBM).
 */
bool tern_dev_inject_ecc(struct tern_dev *dev, bool uncorrected,
			 uint64_t offset, char *err, size_t errlen);
bool tern_dev_inject_dma_abort(struct tern_dev *dev, unsigned int queue,
			       char *err, size_t errlen);
bool tern_dev_inject_core_hang(struct tern_dev *dev, unsigned int core,
			       char *err, size_t errlen);
bool tern_dev_inject_lost_completion(struct tern_dev *dev, bool core,
				     unsigned int idx, char *err,
				     size_t errlen);

/* PCIe AER kinds: the adapter reports the error, the core counts it. */
#define TERN_AER_CORRECTABLE	0
#define TERN_AER_NONFATAL	1
#define TERN_AER_FATAL		2
bool tern_dev_note_aer(struct tern_dev *dev, unsigned int kind, char *err,
		       size_t errlen);

/*
 * Faults that took effect since the device was created (not cleared by a
 * reset): a CE or UE line read for the first time, a DMA abort, a hang or
 * a lost completion taken, an AER error reported, link-down set.
 */
uint64_t tern_dev_faults_injected(struct tern_dev *dev);
/* HBM lines poisoned now (RAS_POISONED). */
uint32_t tern_dev_poisoned_lines(struct tern_dev *dev);

/*
 * The property strings: "ce:<off>" / "ue:<off>" (decimal or 0x hex),
 * "queue:<q>" / "core:<c>", "correctable" / "nonfatal" / "fatal". False
 * with a message in err if malformed (range is checked on injection).
 */
bool tern_inject_parse_ecc(const char *s, bool *uncorrected, uint64_t *off,
			   char *err, size_t errlen);
bool tern_inject_parse_target(const char *s, bool *core, unsigned int *idx,
			      char *err, size_t errlen);
bool tern_inject_parse_aer(const char *s, unsigned int *kind, char *err,
			   size_t errlen);

/*
 * Check a link configuration alone (chip id, chips, topology, width,
 * peers). Returns true if valid; otherwise writes a message naming the
 * QEMU property ("chip-id", "fabric-chips", "topology", "torus-width",
 * "peers", "link-bandwidth", "link-latency") into err.
 */
bool tern_link_config_check(const struct tern_link_config *lc, char *err,
			    size_t errlen);

/*
 * Count an HBM ECC error in ECC_CORR (corrected) or ECC_UNCORR (telemetry,
 * interface 1.3). Any thread, no lock needed; for fault injection.
 */
void tern_telem_ecc(struct tern_dev *dev, bool corrected);

/* Register name for traces ("MAGIC", "Q_CTRL", ...; "?" if none). */
const char *tern_reg_name(uint64_t offset);

/* Error-code name ("BAD_OPCODE", ...; "?" if unknown). */
const char *tern_err_name(uint32_t code);

#endif /* TERN_MODEL_H */
