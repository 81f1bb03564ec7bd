/* SPDX-License-Identifier: MIT */
/*
 * libtern collectives: all-reduce, all-gather, reduce-scatter, broadcast
 * and send/recv across the chips of one fabric, over their links.
 *
 * One process drives every chip of a communicator (as a framework's
 * single-process multi-device backend does): it opens the devices, creates
 * a communicator over them, and passes one buffer per rank to each call.
 * Rank r is devs[r] of tern_comm_create().
 *
 * Data moves only over links (tern_link_copy_async(), tern.h), never
 * through host memory, with the reduction done on arrival by the DMA
 * engines (sum or max, fp32 or bf16). A call plans its route from the
 * links that are up (the communicator reads them at creation, and again
 * whenever a copy meets a link down):
 *  - ring: the ranks in a cycle in which each rank is wired to the next;
 *    reduce-scatter then all-gather, chunk by chunk, pipelined;
 *  - tree: a spanning tree of the ranks' live links; reduce towards the
 *    root, then broadcast back, chunk by chunk, pipelined.
 * TERN_COLL_AUTO takes the ring when one exists, else the tree, except
 * for small all-reduces and broadcasts (tern_comm_set_algorithm()). A call
 * whose link goes down part way replans around it and starts again from
 * its inputs, which it never modifies (unless they are its outputs, in
 * which case it works on a copy); when the live links leave a rank
 * unreachable it fails with -ENOLINK, naming the rank and the links down.
 *
 * Results are deterministic: each element is reduced in an order fixed
 * by the plan, and tern_coll_reference() computes the same thing on the
 * CPU in the same order, bit for bit.
 *
 * Return values: 0 or a negative error code, with tern_last_error()
 * saying what was wrong. Counts are in elements; every buffer is a
 * device buffer (TERN_MEM_DEVICE) of its rank's device, large enough from
 * offset 0 for the call.
 */
#ifndef TERN_COLL_H
#define TERN_COLL_H

#include <stdint.h>

#include "tern.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tern_comm;

/** Most ranks of a communicator. */
#define TERN_COMM_MAX_RANKS	64

/* Algorithms (tern_comm_set_algorithm()). */
#define TERN_COLL_AUTO		0	/* see tern_comm_set_algorithm() */
#define TERN_COLL_RING		1
#define TERN_COLL_TREE		2
/* Route of tern_send_recv() in struct tern_comm_plan (not an algorithm to set). */
#define TERN_COLL_PATH		3

/* Kinds of tern_coll_reference(). */
#define TERN_COLL_ALL_REDUCE		1
#define TERN_COLL_ALL_GATHER		2
#define TERN_COLL_REDUCE_SCATTER	3
#define TERN_COLL_BROADCAST		4

/**
 * tern_comm_create() - a communicator over devices of one fabric
 * @devs: @n open devices, distinct, all with the same fabric_id; rank r is
 *	devs[r]. They must stay open while the communicator exists.
 * @n: 1..TERN_COMM_MAX_RANKS
 * @commp: receives the communicator
 *
 * Reads every device's links. The ranks need not be neighbours of one
 * another, but every rank must be reachable from every other through the
 * ranks' own live links (-ENOLINK otherwise, naming the rank).
 *
 * Return: 0 or a negative error code.
 */
int tern_comm_create(struct tern_device *const *devs, unsigned int n, struct tern_comm **commp);

/** tern_comm_destroy() - free a communicator and its scratch buffers (NULL is a no-op). */
void tern_comm_destroy(struct tern_comm *comm);

/** tern_comm_size() - number of ranks. */
unsigned int tern_comm_size(const struct tern_comm *comm);

/** tern_comm_device() - the device of @rank, or NULL. */
struct tern_device *tern_comm_device(const struct tern_comm *comm, unsigned int rank);

/**
 * tern_comm_set_algorithm() - choose ring, tree or automatic
 *
 * TERN_COLL_AUTO (the default) takes the tree for an all-reduce or a
 * broadcast on n >= 4 ranks of less than n * n * 64 KiB (count * element
 * size; 1 MiB on 4 ranks, 4 MiB on 8, 16 MiB on 16), else the ring when
 * the links allow one, else the tree.
 *
 * Return: 0, -EINVAL for an unknown algorithm. A call then fails with
 * -ENOLINK if the chosen algorithm has no route over the live links.
 */
int tern_comm_set_algorithm(struct tern_comm *comm, unsigned int algorithm);

/**
 * tern_comm_set_chunk() - bytes per pipelined step (default 4 MiB)
 *
 * Rounded down to a multiple of 64.
 *
 * Return: 0, -EINVAL unless 4 KiB <= @bytes <= 64 MiB.
 */
int tern_comm_set_chunk(struct tern_comm *comm, uint64_t bytes);

/**
 * struct tern_comm_plan - the route the last call used
 * @algorithm: TERN_COLL_RING or TERN_COLL_TREE; TERN_COLL_PATH after
 *	tern_send_recv() (0 before any call)
 * @n: ranks in @order: the communicator's size; for a path, the ranks on
 *	the route, both ends included
 * @order: ring: ranks in cycle order from rank 0; tree: ranks in
 *	breadth-first order from the root (order[0]: rank 0, or the root of
 *	tern_broadcast()); path: the ranks from the source to the destination
 * @parent: tree: parent rank of each rank (-1 for the root); path: the
 *	rank before it on the route (-1 for the source and ranks off the
 *	route); ring: -1
 * @replans: times the last call replanned because a link went down
 */
struct tern_comm_plan {
	unsigned int algorithm;
	unsigned int n;
	unsigned int order[TERN_COMM_MAX_RANKS];
	int parent[TERN_COMM_MAX_RANKS];
	unsigned int replans;
};

/** tern_comm_plan() - describe the route of the last call. Return: 0. */
int tern_comm_plan(const struct tern_comm *comm, struct tern_comm_plan *plan);

/**
 * tern_all_reduce() - recv[r] = reduction over all ranks of send[r]
 * @send: per rank, @count elements of @dtype at offset 0
 * @recv: per rank, the result; may be the same buffers as @send (in place)
 * @dtype: TERN_DT_FP32 or TERN_DT_BF16 (tern_isa.h)
 * @op: TERN_REDUCE_SUM or TERN_REDUCE_MAX
 */
int tern_all_reduce(struct tern_comm *comm, struct tern_buffer *const *send,
		    struct tern_buffer *const *recv, uint64_t count, unsigned int dtype,
		    unsigned int op);

/**
 * tern_all_gather() - recv[r] = send[0] | send[1] | ... | send[n-1]
 * @count: elements each rank contributes; recv holds n * @count
 */
int tern_all_gather(struct tern_comm *comm, struct tern_buffer *const *send,
		    struct tern_buffer *const *recv, uint64_t count, unsigned int dtype);

/**
 * tern_reduce_scatter() - recv[r] = reduction over ranks k of send[k][r*count..]
 * @count: elements each rank receives; send holds n * @count
 */
int tern_reduce_scatter(struct tern_comm *comm, struct tern_buffer *const *send,
			struct tern_buffer *const *recv, uint64_t count, unsigned int dtype,
			unsigned int op);

/** tern_broadcast() - bufs[r] = bufs[root] for every rank, @count elements. */
int tern_broadcast(struct tern_comm *comm, struct tern_buffer *const *bufs, uint64_t count,
		   unsigned int dtype, unsigned int root);

/**
 * tern_send_recv() - copy bytes from one rank's buffer to another's
 *
 * Over the links along the shortest live route, through the scratch
 * memory of the ranks on the way.
 */
int tern_send_recv(struct tern_comm *comm, unsigned int src_rank, struct tern_buffer *src,
		   uint64_t src_offset, unsigned int dst_rank, struct tern_buffer *dst,
		   uint64_t dst_offset, uint64_t size);

/**
 * tern_coll_reference() - what a collective computes, on the CPU
 * @kind: TERN_COLL_ALL_REDUCE, _ALL_GATHER, _REDUCE_SCATTER or _BROADCAST
 * @plan: the route (tern_comm_plan() after the call); only the reduction
 *	order of ALL_REDUCE and REDUCE_SCATTER depends on it
 * @in: per rank, its input (count elements; n * count for REDUCE_SCATTER)
 * @out: per rank, where its expected output is written
 * @count, @dtype, @op: as for the collective; @root for BROADCAST
 *	(@in and @out must not overlap, except in[root] and out[root])
 *
 * Reduces every element in the order the plan's algorithm does, rounding
 * bf16 after each step as the DMA engines do, so that the device's result
 * must equal it bit for bit.
 *
 * Return: 0, or -EINVAL for bad arguments.
 */
int tern_coll_reference(unsigned int kind, const struct tern_comm_plan *plan,
			const void *const *in, void *const *out, uint64_t count,
			unsigned int dtype, unsigned int op, unsigned int root);

#ifdef __cplusplus
}
#endif

#endif /* TERN_COLL_H */
