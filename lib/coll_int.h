/* SPDX-License-Identifier: MIT */
/*
 * libtern collectives internals, shared by coll.c (the calls and their
 * algorithms), coll_plan.c (the link graph and the routes), coll_exec.c
 * (copies with their dependencies, and running them); not installed.
 */
#ifndef TERN_COLL_INT_H
#define TERN_COLL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tern_coll.h"
#include "tern_internal.h"
#include "tern_regs.h"

#define COMM_MAX	TERN_COMM_MAX_RANKS

/* Replans of one call before it gives up (each needs a link to go down). */
#define COLL_MAX_REPLANS	16

/*
 * The links among the ranks, as last read: port[r][s] is the port of rank
 * r's chip wired to rank s's chip with the link up at both ends, or -1.
 * @down lists the links between ranks that are wired but not up, for
 * messages.
 */
struct coll_graph {
	unsigned int n;
	int port[COMM_MAX][COMM_MAX];
	char down[256];
};

struct io_uring;

struct tern_comm {
	unsigned int n;
	struct tern_device *dev[COMM_MAX];
	unsigned int chip[COMM_MAX];
	unsigned int algorithm;			/* TERN_COLL_* */
	uint64_t chunk;				/* bytes per pipelined copy */
	struct tern_buffer *scratch[COMM_MAX];	/* per rank, grown as needed */
	bool operand;				/* every chip reduces with an operand */
	struct io_uring *ring;			/* coll_ring.c: made on first use */
	bool ring_failed;			/* no io_uring: copies take fences */
	struct coll_graph graph;
	struct tern_comm_plan plan;		/* of the last call */
};

#define COLL_FWD_SLOTS		4	/* chunks a forwarding rank holds at once */
#define COLL_SEND_RECV		5	/* internal kind of tern_send_recv() */

/* One call: its arguments and where its input and work areas are. */
struct coll_req {
	const char *fn;
	unsigned int kind;		/* TERN_COLL_ALL_REDUCE.._BROADCAST, COLL_SEND_RECV */
	struct tern_buffer *const *send, *const *recv;
	uint64_t count;			/* elements (see each call) */
	unsigned int dtype, op, root, esize;
	uint64_t in_bytes, out_bytes;	/* per rank */
	bool saved;			/* some input is its output: saved in scratch at 0 */
	struct tern_buffer *in[COMM_MAX];
	uint64_t work_off;		/* scratch offset of the work area */
	/* send/recv */
	unsigned int src_rank, dst_rank;
	struct tern_buffer *src, *dst;
	uint64_t src_off, dst_off;
};

/* ---- coll.c ---- */

struct coll_ops;
/* Writes the copies of call @q over route @p into @o. */
void coll_build(struct coll_ops *o, const struct tern_comm_plan *p, const struct coll_req *q);
/* The first attempt's copies that save the inputs that are outputs (into scratch at 0). */
void coll_add_saves(struct coll_ops *o, const struct coll_req *q);
/* After a replan: those ranks' input is the saved copy. */
void coll_use_saved(struct tern_comm *c, struct coll_req *q);

/* ---- coll_plan.c ---- */

/* Reads the links of every rank into comm->graph. */
int coll_read_links(struct tern_comm *c);
/*
 * -ENOLINK (with the message) when some rank cannot reach rank 0 over the
 * graph, naming it and the links down; else 0. @fn names the call.
 */
int coll_check_connected(const struct tern_comm *c, const char *fn);
/*
 * The route of a collective: @algorithm TERN_COLL_AUTO, _RING or _TREE;
 * @root the tree's root. Fills @plan (replans untouched). -ENOLINK with a
 * message when there is none.
 */
int coll_make_plan(const struct tern_comm *c, unsigned int algorithm, unsigned int root,
		   const char *fn, struct tern_comm_plan *plan);
/* The shortest live route from @src to @dst (a TERN_COLL_PATH plan), or -ENOLINK. */
int coll_make_path(const struct tern_comm *c, unsigned int src, unsigned int dst,
		   const char *fn, struct tern_comm_plan *plan);

/* ---- link.c ---- */

/*
 * tern_link_copy_async() on DMA queue @queue of @dev (-1: the port's own
 * queue, port modulo the queues).
 */
int tern_link_copy_on(struct tern_device *dev, int queue, unsigned int port,
		      struct tern_device *peer, struct tern_buffer *dst, uint64_t dst_offset,
		      struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		      unsigned int reduce, unsigned int dtype, struct tern_buffer *operand,
		      struct tern_fence **fencep);
/*
 * Checks a link copy as tern_link_copy_on() does and cuts it into at most
 * *@np pieces at @p (*@np: how many).
 */
int tern_link_pieces(struct tern_device *dev, int queue, unsigned int port,
		     struct tern_device *peer, struct tern_buffer *dst, uint64_t dst_offset,
		     struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		     unsigned int reduce, unsigned int dtype, struct tern_buffer *operand,
		     struct tern_piece *p, size_t *np);
/*
 * Can @dev reduce with an operand (DRM_TERN_COPY_OPERAND: driver UAPI 1.5,
 * register interface 1.6)?
 */
static inline bool tern_has_operand(const struct tern_device *dev)
{
	return (dev->hw.uapi_major > 1 || (dev->hw.uapi_major == 1 && dev->hw.uapi_minor >= 5)) &&
	       dev->hw.hw_version >= TERN_VERSION_OPERAND;
}

/* ---- coll_exec.c ---- */

/*
 * One copy: over the link @port of @src_rank's chip to @dst_rank's, with
 * @reduce on arrival; or, with @port -1, a local copy on @src_rank.
 */
struct coll_op {
	unsigned int src_rank, dst_rank;
	int port;
	unsigned int reduce;
	struct tern_buffer *src, *dst;
	uint64_t src_off, dst_off, size;
	struct tern_buffer *opnd;	/* reduce with an operand: @dst = op(@opnd, @src) at @dst_off */
	/* running */
	unsigned int npred;		/* predecessors not yet done */
	unsigned int nsucc, succ_cap;
	unsigned int *succ;
	int queue;			/* DMA queue of @src_rank's chip it runs on */
	bool done;			/* ran to completion */
	struct tern_fence *fence;	/* without the communicator's io_uring */
	struct drm_tern_copy uapi;	/* with it: the copy its SUBMIT command names */
};

/*
 * Copies in program order. Each added copy depends on every earlier one
 * that writes what it reads or writes, or reads what it writes; so the
 * copies may run in any order those dependencies allow and still give
 * what running them one by one in program order gives.
 */
struct coll_ops {
	struct tern_comm *comm;
	unsigned int dtype;
	struct coll_op *op;
	unsigned int n, cap;
	int err;			/* first error while adding */
	/* per buffer, the copies that touch it: where to look for dependencies */
	struct coll_touch {
		const struct tern_buffer *buf;
		unsigned int *ops, n, cap;
	} *touch;
	unsigned int ntouch, touch_cap;
};

void coll_ops_init(struct coll_ops *o, struct tern_comm *c, unsigned int dtype);
void coll_ops_fini(struct coll_ops *o);
/*
 * Adds one copy of @size bytes (0, or a plain copy of bytes onto
 * themselves: nothing); errors are kept in o->err.
 */
void coll_add(struct coll_ops *o, unsigned int src_rank, struct tern_buffer *src,
	      uint64_t src_off, unsigned int dst_rank, struct tern_buffer *dst, uint64_t dst_off,
	      uint64_t size, unsigned int reduce);
/* Adds a copy cut into pieces of at most comm->chunk bytes. */
void coll_add_chunked(struct coll_ops *o, unsigned int src_rank, struct tern_buffer *src,
		      uint64_t src_off, unsigned int dst_rank, struct tern_buffer *dst,
		      uint64_t dst_off, uint64_t size, unsigned int reduce);
/*
 * The same with an operand (comm->operand only): a link copy whose
 * destination becomes op(@opnd, src), @opnd a buffer of @dst_rank read at
 * @dst_off: the destination need not hold @opnd's bytes first.
 */
void coll_add_operand_chunked(struct coll_ops *o, unsigned int src_rank,
			      struct tern_buffer *src, uint64_t src_off, unsigned int dst_rank,
			      struct tern_buffer *dst, uint64_t dst_off, uint64_t size,
			      unsigned int reduce, struct tern_buffer *opnd);
/*
 * Runs the copies: each starts once those it depends on are done. On a
 * failure no more start, and those running are waited for. Return: 0, or
 * the first failure's error (tern_last_error() set); *@linkdown tells
 * whether a copy met a down link.
 */
int coll_run(struct coll_ops *o, bool *linkdown);

/* ---- coll_ring.c ---- */

struct io_uring *coll_ring_get(struct tern_comm *c);
void coll_ring_put(struct tern_comm *c);
int coll_ring_start(struct coll_ops *o, struct coll_op *x, unsigned int index);
int coll_ring_wait(struct tern_comm *c);
int coll_ring_reap(struct coll_ops *o, unsigned int *index, int *result);

#endif /* TERN_COLL_INT_H */
