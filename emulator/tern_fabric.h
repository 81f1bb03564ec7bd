/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tern device-model core, internal: chip-to-chip links (include/tern_regs.h,
 * "Chip-to-chip links"). A fabric is a process-global object, found by name,
 * that the chips naming it join at tern_dev_create() and leave at
 * tern_dev_destroy(); it wires their link ports from the topology or from
 * explicit peers, keeps every port's state, and lends a chip to the DMA
 * engines of its neighbours while they write its HBM (LINK_COPY).
 *
 * Locking: fabric_lock (tern_fabric.c) protects the registry, each
 * fabric's chip table, every chip's tern_links.users/leaving and the
 * wiring of explicit peers. It may be held while taking a chip's
 * dev->lock (to latch LINK_EVENTS); nothing takes fabric_lock with a
 * dev->lock held. Port states and counters are atomics: registers read
 * them under dev->lock only, and a peer's DMA engine updates RX counters
 * without any lock. LINK_EVENTS is under dev->lock.
 */
#ifndef TERN_FABRIC_H
#define TERN_FABRIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern_model.h"

struct tern_dev;
struct tern_fabric;
struct fault;

#define TERN_FABRIC_NAME_MAX	64

/* One link port of a chip. */
struct tern_port {
	int peer_chip;			/* -1: unwired (NONE); fixed at create */
	_Atomic uint32_t peer_port;	/* TERN_LINK_NO_PEER until known */
	_Atomic uint32_t state;		/* TERN_LINK_STATE_* */
	_Atomic uint32_t errors;	/* L_ERRORS */
	_Atomic uint64_t tx_bytes, rx_bytes, busy_ns;
	_Atomic uint64_t next_free_ns;	/* pacing: when the sender is free */
};

/* A chip's links: embedded in struct tern_dev. */
struct tern_links {
	struct tern_link_config cfg;	/* copy; cfg.fabric points to name */
	char name[TERN_FABRIC_NAME_MAX];
	struct tern_fabric *fab;	/* NULL: no fabric, every port NONE */
	uint32_t fabric_id;		/* FABRIC_ID; 0 without a fabric */
	uint64_t serial;		/* unique per join: peer-TLB owner tag */
	struct tern_port port[TERN_MAX_LINKS];
	_Atomic uint32_t down_mask;	/* tern_dev_set_link_down() */
	_Atomic uint32_t errors;	/* LINK_ERRORS */
	uint32_t events;		/* LINK_EVENTS (dev->lock) */
	unsigned int users;		/* fabric_lock: engines writing us */
	bool leaving;			/* fabric_lock */
};

/*
 * Join the fabric named in cfg (nothing if none): false with a message in
 * err when the chip does not fit it (same chip id twice, a different
 * size or topology, explicit peers that do not name it back). Before the
 * workers start; dev->lock not held.
 */
bool tern_fabric_join(struct tern_dev *dev, const struct tern_link_config *lc,
		      char *err, size_t errlen);
/*
 * Leave: the chip's links go down at both ends, then wait until no other
 * chip's engine uses it. dev->lock not held.
 */
void tern_fabric_leave(struct tern_dev *dev);

/* Link registers [TERN_REG_CHIP_ID..], per-port window (dev->lock held). */
bool tern_link_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v);
bool tern_link_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val);
/* Device reset: events and counters cleared (dev->lock held). */
void tern_link_reset(struct tern_dev *dev);

/*
 * The chip at the other end of port p, if the link is up, with a use
 * taken (it stays allocated until tern_link_put()); else NULL.
 */
struct tern_dev *tern_link_get(struct tern_dev *dev, unsigned int port,
			       unsigned int *peer_port);
void tern_link_put(struct tern_dev *peer);
/* Port p still up? Any thread, no lock. */
bool tern_link_up(struct tern_dev *dev, unsigned int port);

/*
 * Pacing. A piece of n bytes occupies port p's wire for n * 1000 /
 * bandwidth ns, from the time the port is next free (a window). The engine
 * opens the window (reserves it, and sleeps until it starts), moves the
 * piece during it, and closes it (sleeps until it ends): a port's wall-clock
 * throughput never exceeds the modeled bandwidth, and moving the data costs
 * no time beyond the window. With pacing off the window is empty.
 */
struct tern_link_window {
	uint64_t start, end;	/* CLOCK_MONOTONIC ns */
};

/*
 * Reserves the window of n bytes on port p and sleeps until it opens.
 * Returns false if *stop became true meanwhile (checked every millisecond).
 */
bool tern_link_window_open(struct tern_dev *dev, unsigned int port,
			   uint64_t n, _Atomic bool *stop,
			   struct tern_link_window *w);
/* The piece came out smaller (n bytes): give back the end of the window if no one reserved after it. */
void tern_link_window_trim(struct tern_dev *dev, unsigned int port,
			   uint64_t n, struct tern_link_window *w);
/* Sleeps until the window ends; false if *stop became true meanwhile. */
bool tern_link_window_close(const struct tern_link_window *w,
			    _Atomic bool *stop);

#endif /* TERN_FABRIC_H */
