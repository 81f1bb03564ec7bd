// SPDX-License-Identifier: MIT
/*
 * libtern collectives: communicators, the calls, and their algorithms as
 * lists of copies (Documentation/collectives.rst).
 *
 * A call checks its arguments, plans a route (coll_plan.c), writes the
 * algorithm's copies (coll_exec.c works out which wait for which) and runs
 * them; inputs that are also outputs are saved into the communicator's
 * scratch HBM by copies of the same run, before anything overwrites them.
 * When a copy meets a down link, the call waits for the others, reads the
 * links again, plans again and starts over from its inputs.
 *
 * Buffers of a call, per rank r: in[r] the input (send[r]; after a replan,
 * for a rank whose input is its output, the copy saved in scratch),
 * recv[r] the output, and for reduce-scatter a work area W[r] in
 * scratch (n * count elements: every rank's block is reduced on the way
 * round). Elements of a ring are split into n segments of count / n
 * elements, the first count % n of them one more; segment (or block) j
 * ends fully reduced at ring position j.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_int.h"
#include "tern_isa.h"

#define COLL_DEFAULT_CHUNK	(4ull << 20)
#define COLL_MIN_CHUNK		(4ull << 10)
#define COLL_MAX_CHUNK		(64ull << 20)
/*
 * TERN_COLL_AUTO: an all-reduce or broadcast of less than n * n times this
 * takes the tree (the ring's jobs grow as n * n, the tree's as n).
 */
#define COLL_TREE_BELOW		(64ull << 10)
/* ---- communicators ---- */

TERN_EXPORT int tern_comm_create(struct tern_device *const *devs, unsigned int n,
				 struct tern_comm **commp)
{
	struct tern_comm *c;
	int ret;

	if (!commp)
		return tern_fail(-EINVAL, "tern_comm_create: commp is NULL");
	*commp = NULL;
	if (!devs || n < 1 || n > TERN_COMM_MAX_RANKS)
		return tern_fail(-EINVAL, "tern_comm_create: %u devices at %p, need 1..%u", n,
				 (const void *)devs, TERN_COMM_MAX_RANKS);
	for (unsigned int r = 0; r < n; r++) {
		if (!devs[r])
			return tern_fail(-EINVAL, "tern_comm_create: device of rank %u is NULL", r);
		for (unsigned int s = 0; s < r; s++)
			if (devs[s] == devs[r])
				return tern_fail(-EINVAL,
						 "tern_comm_create: ranks %u and %u are both %s", s,
						 r, devs[r]->node);
		if (n > 1 && !devs[r]->hw.fabric_id)
			return tern_fail(-EINVAL,
					 "tern_comm_create: %s (rank %u) is in no fabric (no chip-to-chip links)",
					 devs[r]->node, r);
		if (devs[r]->hw.fabric_id != devs[0]->hw.fabric_id)
			return tern_fail(-EINVAL,
					 "tern_comm_create: %s (rank %u) is in fabric %#x, %s (rank 0) in fabric %#x",
					 devs[r]->node, r, devs[r]->hw.fabric_id, devs[0]->node,
					 devs[0]->hw.fabric_id);
		for (unsigned int s = 0; s < r && n > 1; s++)
			if (devs[s]->hw.chip_id == devs[r]->hw.chip_id)
				return tern_fail(-EINVAL,
						 "tern_comm_create: %s and %s are both chip %u",
						 devs[s]->node, devs[r]->node, devs[r]->hw.chip_id);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return tern_fail(-ENOMEM, "tern_comm_create: out of memory");
	c->n = n;
	c->chunk = COLL_DEFAULT_CHUNK;
	c->operand = true;
	for (unsigned int r = 0; r < n; r++)
		c->operand = c->operand && tern_has_operand(devs[r]);
	for (unsigned int r = 0; r < n; r++) {
		c->dev[r] = devs[r];
		c->chip[r] = devs[r]->hw.chip_id;
	}
	ret = coll_read_links(c);
	if (!ret)
		ret = coll_check_connected(c, "tern_comm_create");
	if (ret) {
		free(c);
		return ret;
	}
	*commp = c;
	return 0;
}

TERN_EXPORT void tern_comm_destroy(struct tern_comm *c)
{
	if (!c)
		return;
	coll_ring_put(c);
	for (unsigned int r = 0; r < c->n; r++)
		tern_buffer_free(c->scratch[r]);
	free(c);
}

TERN_EXPORT unsigned int tern_comm_size(const struct tern_comm *c)
{
	return c ? c->n : 0;
}

TERN_EXPORT struct tern_device *tern_comm_device(const struct tern_comm *c, unsigned int rank)
{
	return c && rank < c->n ? c->dev[rank] : NULL;
}

TERN_EXPORT int tern_comm_set_algorithm(struct tern_comm *c, unsigned int algorithm)
{
	if (!c)
		return tern_fail(-EINVAL, "tern_comm_set_algorithm: communicator is NULL");
	if (algorithm > TERN_COLL_TREE)
		return tern_fail(-EINVAL,
				 "tern_comm_set_algorithm: algorithm %u (TERN_COLL_AUTO, _RING or _TREE)",
				 algorithm);
	c->algorithm = algorithm;
	return 0;
}

TERN_EXPORT int tern_comm_set_chunk(struct tern_comm *c, uint64_t bytes)
{
	if (!c)
		return tern_fail(-EINVAL, "tern_comm_set_chunk: communicator is NULL");
	if (bytes < COLL_MIN_CHUNK || bytes > COLL_MAX_CHUNK)
		return tern_fail(-EINVAL, "tern_comm_set_chunk: %llu bytes, need %llu..%llu",
				 (unsigned long long)bytes, COLL_MIN_CHUNK, COLL_MAX_CHUNK);
	c->chunk = bytes & ~63ull;	/* whole elements, aligned copies */
	return 0;
}

TERN_EXPORT int tern_comm_plan(const struct tern_comm *c, struct tern_comm_plan *plan)
{
	if (!c || !plan)
		return tern_fail(-EINVAL, "tern_comm_plan: NULL argument");
	*plan = c->plan;
	return 0;
}

/* ---- arguments and scratch ---- */

static int check_bufs(const struct tern_comm *c, const char *fn, const char *what,
		      struct tern_buffer *const *bufs, uint64_t bytes)
{
	if (!bufs)
		return tern_fail(-EINVAL, "%s: %s is NULL", fn, what);
	for (unsigned int r = 0; r < c->n; r++) {
		struct tern_buffer *b = bufs[r];

		if (!b)
			return tern_fail(-EINVAL, "%s: %s[%u] is NULL", fn, what, r);
		if (b->dev != c->dev[r])
			return tern_fail(-EINVAL, "%s: %s[%u] is a buffer of %s, rank %u is %s", fn,
					 what, r, b->dev->node, r, c->dev[r]->node);
		if (b->flags != TERN_MEM_DEVICE)
			return tern_fail(-EINVAL, "%s: %s[%u] is a host buffer (device buffers only)",
					 fn, what, r);
		if (b->size < bytes)
			return tern_fail(-EINVAL, "%s: %s[%u] has %llu bytes, the call needs %llu",
					 fn, what, r, (unsigned long long)b->size,
					 (unsigned long long)bytes);
	}
	return 0;
}

static int check_common(struct tern_comm *c, struct coll_req *q, bool reduce)
{
	uint64_t blocks;

	if (!c)
		return tern_fail(-EINVAL, "%s: communicator is NULL", q->fn);
	if (q->dtype != TERN_DT_FP32 && q->dtype != TERN_DT_BF16)
		return tern_fail(-EINVAL, "%s: dtype %u (TERN_DT_FP32 or TERN_DT_BF16 only)",
				 q->fn, q->dtype);
	if (reduce && q->op != TERN_REDUCE_SUM && q->op != TERN_REDUCE_MAX)
		return tern_fail(-EINVAL, "%s: reduction %u (TERN_REDUCE_SUM or _MAX)", q->fn,
				 q->op);
	q->esize = tern_dtype_size(q->dtype);
	blocks = q->kind == TERN_COLL_ALL_GATHER || q->kind == TERN_COLL_REDUCE_SCATTER ?
		 c->n : 1;
	if (q->count > UINT64_MAX / 2 / blocks / q->esize)
		return tern_fail(-EINVAL, "%s: %llu elements is too many", q->fn,
				 (unsigned long long)q->count);
	q->in_bytes = q->count * q->esize;
	q->out_bytes = q->in_bytes;
	if (q->kind == TERN_COLL_ALL_GATHER)
		q->out_bytes *= c->n;
	if (q->kind == TERN_COLL_REDUCE_SCATTER)
		q->in_bytes *= c->n;
	return 0;
}

static uint64_t round_page(uint64_t x)
{
	return (x + 4095) & ~4095ull;
}

/* Makes rank @r's scratch at least @bytes (its contents are not kept). */
static int grow_scratch(struct tern_comm *c, const char *fn, unsigned int r, uint64_t bytes)
{
	int ret;

	if (!bytes || (c->scratch[r] && c->scratch[r]->size >= bytes))
		return 0;
	tern_buffer_free(c->scratch[r]);
	c->scratch[r] = NULL;
	ret = tern_buffer_alloc(c->dev[r], round_page(bytes), TERN_MEM_DEVICE, &c->scratch[r]);
	if (ret)
		return tern_fail(ret, "%s: scratch of %llu bytes on %s (rank %u): %s", fn,
				 (unsigned long long)bytes, c->dev[r]->node, r, tern_last_error());
	return 0;
}

/* ---- algorithms ---- */

/* Segment @j of @count elements split over @n: first element and length. */
static void segment(uint64_t count, unsigned int n, unsigned int j, uint64_t *off, uint64_t *len)
{
	uint64_t base = count / n, extra = count % n;

	*off = j * base + (j < extra ? j : extra);
	*len = base + (j < extra);
}

/* Ring position of rank @r in plan @p. */
static unsigned int position(const struct tern_comm_plan *p, unsigned int r)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (p->order[i] == r)
			return i;
	return 0;
}

/*
 * Ring reduce-scatter on W (@buf per rank): the block at byte @off[j] of
 * @len[j] bytes ends reduced at position j, having started at j + 1, which
 * sends it from @first (at the same offset). With @opnd, each arrival is
 * buf[b] = op(opnd[b], incoming) at the same offset, so buf[b] need not
 * hold b's own block first; without, buf[b] = op(buf[b], incoming).
 */
static void ring_reduce(struct coll_ops *o, const struct tern_comm_plan *p,
			struct tern_buffer *const *first, struct tern_buffer *const *buf,
			struct tern_buffer *const *opnd, uint64_t base, const uint64_t *off,
			const uint64_t *len, unsigned int op)
{
	unsigned int n = p->n;

	for (unsigned int s = 0; s + 1 < n; s++) {
		for (unsigned int j = 0; j < n; j++) {
			unsigned int a = p->order[(j + 1 + s) % n], b = p->order[(j + 2 + s) % n];
			struct tern_buffer *src = s ? buf[a] : first[a];

			coll_add_operand_chunked(o, a, src, base + off[j], b, buf[b],
						 base + off[j], len[j], op,
						 opnd ? opnd[b] : NULL);
		}
	}
}

/* Ring all-gather: the block at @off[j] held by position j goes round. */
static void ring_gather(struct coll_ops *o, const struct tern_comm_plan *p,
			struct tern_buffer *const *buf, uint64_t base, const uint64_t *off,
			const uint64_t *len)
{
	unsigned int n = p->n;

	for (unsigned int s = 0; s + 1 < n; s++) {
		for (unsigned int j = 0; j < n; j++) {
			unsigned int a = p->order[(j + s) % n], b = p->order[(j + 1 + s) % n];

			coll_add_chunked(o, a, buf[a], base + off[j], b, buf[b], base + off[j],
					 len[j], TERN_REDUCE_NONE);
		}
	}
}

/* Tree: every rank's bytes reduced into its parent's, deepest first. */
static void tree_reduce(struct coll_ops *o, const struct tern_comm_plan *p,
			struct tern_buffer *const *buf, uint64_t base, uint64_t bytes,
			unsigned int op)
{
	for (unsigned int i = p->n; i-- > 1;) {
		unsigned int v = p->order[i], u = (unsigned int)p->parent[v];

		coll_add_chunked(o, v, buf[v], base, u, buf[u], base, bytes, op);
	}
}

/* Tree: the root's bytes to every rank, parents first. */
static void tree_bcast(struct coll_ops *o, const struct tern_comm_plan *p,
		       struct tern_buffer *const *buf, uint64_t base, uint64_t bytes)
{
	for (unsigned int i = 1; i < p->n; i++) {
		unsigned int v = p->order[i], u = (unsigned int)p->parent[v];

		coll_add_chunked(o, u, buf[u], base, v, buf[v], base, bytes, TERN_REDUCE_NONE);
	}
}

/* Is @b in the subtree of @v? */
static bool in_subtree(const struct tern_comm_plan *p, unsigned int v, unsigned int b)
{
	for (int x = (int)b; x >= 0; x = p->parent[x])
		if ((unsigned int)x == v)
			return true;
	return false;
}

static void all_reduce_ops(struct coll_ops *o, const struct tern_comm_plan *p,
			   const struct coll_req *q)
{
	uint64_t off[COMM_MAX] = { 0 }, len[COMM_MAX] = { 0 };
	unsigned int n = p->n;

	if (p->algorithm == TERN_COLL_TREE || n == 1) {
		for (unsigned int r = 0; r < n; r++)
			coll_add_chunked(o, r, q->in[r], 0, r, q->recv[r], 0, q->in_bytes,
					 TERN_REDUCE_NONE);
		if (n > 1) {
			tree_reduce(o, p, q->recv, 0, q->in_bytes, q->op);
			tree_bcast(o, p, q->recv, 0, q->in_bytes);
		}
		return;
	}
	for (unsigned int j = 0; j < n; j++) {
		segment(q->count, n, j, &off[j], &len[j]);
		off[j] *= q->esize;
		len[j] *= q->esize;
	}
	if (o->comm->operand) {
		/* Each arrival reduces the rank's own input with what came: recv = op(in, incoming). */
		ring_reduce(o, p, q->in, q->recv, q->in, 0, off, len, q->op);
		ring_gather(o, p, q->recv, 0, off, len);
		return;
	}
	/*
	 * Each position's input, in the order its segments arrive: at step s
	 * position i reduces segment i - 2 - s into its own. The segment it
	 * starts (i - 1) it sends straight from its input, and gets back
	 * reduced: no copy of it.
	 */
	for (unsigned int s = 0; s + 1 < n; s++) {
		for (unsigned int i = 0; i < n; i++) {
			unsigned int r = p->order[i], j = (i + 2 * n - 2 - s) % n;

			coll_add_chunked(o, r, q->in[r], off[j], r, q->recv[r], off[j], len[j],
					 TERN_REDUCE_NONE);
		}
	}
	ring_reduce(o, p, q->in, q->recv, NULL, 0, off, len, q->op);
	ring_gather(o, p, q->recv, 0, off, len);
}

static void all_gather_ops(struct coll_ops *o, const struct tern_comm_plan *p,
			   const struct coll_req *q)
{
	uint64_t off[COMM_MAX] = { 0 }, len[COMM_MAX] = { 0 }, blk = q->in_bytes;
	unsigned int n = p->n;

	for (unsigned int r = 0; r < n; r++)
		coll_add_chunked(o, r, q->in[r], 0, r, q->recv[r], r * blk, blk,
				 TERN_REDUCE_NONE);
	if (p->algorithm == TERN_COLL_RING) {
		for (unsigned int j = 0; j < n; j++) {
			off[j] = p->order[j] * blk;
			len[j] = blk;
		}
		ring_gather(o, p, q->recv, 0, off, len);
		return;
	}
	/* Each block up its path to the root, then down to the ranks without it. */
	for (unsigned int b = 0; b < n; b++)
		for (unsigned int v = b; p->parent[v] >= 0; v = (unsigned int)p->parent[v])
			coll_add_chunked(o, v, q->recv[v], b * blk, (unsigned int)p->parent[v],
					 q->recv[p->parent[v]], b * blk, blk, TERN_REDUCE_NONE);
	for (unsigned int i = 1; i < n; i++) {
		unsigned int v = p->order[i], u = (unsigned int)p->parent[v];

		for (unsigned int b = 0; b < n; b++)
			if (!in_subtree(p, v, b))
				coll_add_chunked(o, u, q->recv[u], b * blk, v, q->recv[v], b * blk,
						 blk, TERN_REDUCE_NONE);
	}
}

static void reduce_scatter_ops(struct coll_ops *o, const struct tern_comm_plan *p,
			       const struct coll_req *q)
{
	struct tern_buffer *w[COMM_MAX] = { NULL };
	uint64_t off[COMM_MAX] = { 0 }, len[COMM_MAX] = { 0 };
	uint64_t blk = q->out_bytes, base = q->work_off;
	unsigned int n = p->n, path[COMM_MAX], hops;

	for (unsigned int r = 0; r < n; r++) {
		w[r] = o->comm->scratch[r];
		coll_add_chunked(o, r, q->in[r], 0, r, w[r], base, q->in_bytes, TERN_REDUCE_NONE);
	}
	if (p->algorithm == TERN_COLL_RING) {
		for (unsigned int j = 0; j < n; j++) {
			off[j] = p->order[j] * blk;
			len[j] = blk;
		}
		ring_reduce(o, p, w, w, NULL, base, off, len, q->op);
		for (unsigned int r = 0; r < n; r++)
			coll_add_chunked(o, r, w[r], base + r * blk, r, q->recv[r], 0, blk,
					 TERN_REDUCE_NONE);
		return;
	}
	tree_reduce(o, p, w, base, q->in_bytes, q->op);
	/* Block b from the root down its path, straight into recv[b] at the end. */
	for (unsigned int b = 0; b < n; b++) {
		hops = 0;
		for (int x = (int)b; x >= 0; x = p->parent[x])
			path[hops++] = (unsigned int)x;
		/* path[hops - 1] is the root, path[0] is b */
		if (hops == 1)
			coll_add_chunked(o, b, w[b], base + b * blk, b, q->recv[b], 0, blk,
					 TERN_REDUCE_NONE);
		for (unsigned int h = hops - 1; h > 0; h--) {
			unsigned int u = path[h], v = path[h - 1];

			if (v == b)
				coll_add_chunked(o, u, w[u], base + b * blk, v, q->recv[v], 0, blk,
						 TERN_REDUCE_NONE);
			else
				coll_add_chunked(o, u, w[u], base + b * blk, v, w[v],
						 base + b * blk, blk, TERN_REDUCE_NONE);
		}
	}
}

static void broadcast_ops(struct coll_ops *o, const struct tern_comm_plan *p,
			  const struct coll_req *q)
{
	unsigned int n = p->n, first = position(p, q->root);
	struct tern_buffer *const *b = q->recv;

	if (p->algorithm == TERN_COLL_TREE) {
		tree_bcast(o, p, b, 0, q->out_bytes);
		return;
	}
	for (unsigned int s = 0; s + 1 < n; s++) {
		unsigned int u = p->order[(first + s) % n], v = p->order[(first + s + 1) % n];

		coll_add_chunked(o, u, b[u], 0, v, b[v], 0, q->out_bytes, TERN_REDUCE_NONE);
	}
}

/* Store and forward along the path, through COLL_FWD_SLOTS chunk slots per hop. */
static void send_recv_ops(struct coll_ops *o, const struct tern_comm_plan *p,
			  const struct coll_req *q)
{
	uint64_t chunk = o->comm->chunk, size = q->in_bytes;
	struct tern_buffer *const *sc = o->comm->scratch;

	if (p->n == 1) {
		coll_add(o, q->src_rank, q->src, q->src_off, q->dst_rank, q->dst, q->dst_off, size,
			 TERN_REDUCE_NONE);
		return;
	}
	for (uint64_t k = 0, done = 0; done < size; k++, done += chunk) {
		uint64_t piece = size - done < chunk ? size - done : chunk;
		uint64_t slot = q->work_off + (k % COLL_FWD_SLOTS) * chunk;

		for (unsigned int h = 0; h + 1 < p->n; h++) {
			unsigned int u = p->order[h], v = p->order[h + 1];
			struct tern_buffer *src = h ? sc[u] : q->src;
			struct tern_buffer *dst = h + 2 < p->n ? sc[v] : q->dst;
			uint64_t soff = h ? slot : q->src_off + done;
			uint64_t doff = h + 2 < p->n ? slot : q->dst_off + done;

			coll_add(o, u, src, soff, v, dst, doff, piece, TERN_REDUCE_NONE);
		}
	}
}

void coll_build(struct coll_ops *o, const struct tern_comm_plan *p, const struct coll_req *q)
{
	switch (q->kind) {
	case TERN_COLL_ALL_REDUCE:
		all_reduce_ops(o, p, q);
		break;
	case TERN_COLL_ALL_GATHER:
		all_gather_ops(o, p, q);
		break;
	case TERN_COLL_REDUCE_SCATTER:
		reduce_scatter_ops(o, p, q);
		break;
	case TERN_COLL_BROADCAST:
		broadcast_ops(o, p, q);
		break;
	default:
		send_recv_ops(o, p, q);
		break;
	}
}

/* ---- running a call ---- */

/*
 * The algorithm of a call. TERN_COLL_AUTO: an all-reduce or broadcast of
 * less than n * n * 64 KiB on 4 ranks or more takes the tree, whose 2 (n -
 * 1) copies of the whole message beat the ring's 2 n (n - 1) copies of
 * small segments, each a job of its own; everything else the ring if
 * there is one.
 */
static unsigned int choose(const struct tern_comm *c, const struct coll_req *q)
{
	if (c->algorithm != TERN_COLL_AUTO || c->n < 4)
		return c->algorithm;
	if ((q->kind == TERN_COLL_ALL_REDUCE || q->kind == TERN_COLL_BROADCAST) &&
	    q->out_bytes < (uint64_t)c->n * c->n * COLL_TREE_BELOW)
		return TERN_COLL_TREE;
	return TERN_COLL_AUTO;
}

static int plan_call(struct tern_comm *c, const struct coll_req *q, struct tern_comm_plan *p)
{
	if (q->kind == COLL_SEND_RECV)
		return coll_make_path(c, q->src_rank, q->dst_rank, q->fn, p);
	return coll_make_plan(c, choose(c, q), q->kind == TERN_COLL_BROADCAST ? q->root : 0,
			      q->fn, p);
}

/*
 * Scratch for the saved inputs and the work area. A rank whose input is
 * its output (in place) has its input saved at scratch offset 0 by the
 * first attempt's copies, so that a replan can start over from it.
 */
static int prepare(struct tern_comm *c, struct coll_req *q)
{
	uint64_t save = 0, work = 0;
	int ret;

	if (q->kind == TERN_COLL_REDUCE_SCATTER)
		work = q->in_bytes;
	if (q->kind == COLL_SEND_RECV)
		work = q->in_bytes < COLL_FWD_SLOTS * c->chunk ? q->in_bytes :
		       COLL_FWD_SLOTS * c->chunk;
	q->saved = false;
	if (q->kind != TERN_COLL_BROADCAST && q->kind != COLL_SEND_RECV)
		for (unsigned int r = 0; r < c->n; r++)
			if (q->send[r] == q->recv[r])
				q->saved = true;
	if (q->saved)
		save = round_page(q->in_bytes);
	q->work_off = save;
	for (unsigned int r = 0; r < c->n; r++) {
		ret = grow_scratch(c, q->fn, r, save + work);
		if (ret)
			return ret;
		if (q->kind != COLL_SEND_RECV)
			q->in[r] = q->send[r];
	}
	return 0;
}

void coll_add_saves(struct coll_ops *o, const struct coll_req *q)
{
	struct tern_comm *c = o->comm;

	if (!q->saved)
		return;
	for (unsigned int r = 0; r < c->n; r++)
		if (q->send[r] == q->recv[r])
			coll_add_chunked(o, r, q->send[r], 0, r, c->scratch[r], 0, q->in_bytes,
					 TERN_REDUCE_NONE);
}

void coll_use_saved(struct tern_comm *c, struct coll_req *q)
{
	for (unsigned int r = 0; r < c->n; r++)
		if (q->saved && q->send[r] == q->recv[r])
			q->in[r] = c->scratch[r];
}

/*
 * The saving copies of an attempt that stopped (ops [0, @nsave) of @o)
 * and did not run: they go first in the next attempt. Their bytes are
 * still the input, as every copy that writes them waits for the save.
 */
static int pending_saves(struct coll_ops *o, unsigned int nsave, struct coll_op **pend,
			 unsigned int *npend)
{
	struct coll_op *p = *pend;
	unsigned int k = 0;

	for (unsigned int i = 0; i < nsave; i++)
		if (!o->op[i].done)
			k++;
	if (k) {
		p = realloc(p, (*npend + k) * sizeof(*p));
		if (!p)
			return tern_fail(-ENOMEM, "collective: out of memory");
		*pend = p;
	}
	k = 0;
	for (unsigned int i = 0; i < nsave; i++)
		if (!o->op[i].done)
			p[k++] = o->op[i];
	*npend = k;
	return 0;
}

static int coll_call(struct tern_comm *c, struct coll_req *q)
{
	struct tern_comm_plan plan;
	struct coll_op *pend = NULL;
	unsigned int replans = 0, npend = 0, nsave;
	struct coll_ops o;
	bool linkdown;
	int ret;

	ret = prepare(c, q);
	if (ret)
		return ret;
	for (;;) {
		memset(&plan, 0, sizeof(plan));
		ret = plan_call(c, q, &plan);
		plan.replans = replans;
		if (ret)
			break;
		coll_ops_init(&o, c, q->dtype);
		if (!replans)
			coll_add_saves(&o, q);
		for (unsigned int i = 0; i < npend; i++)
			coll_add(&o, pend[i].src_rank, pend[i].src, pend[i].src_off,
				 pend[i].dst_rank, pend[i].dst, pend[i].dst_off, pend[i].size,
				 TERN_REDUCE_NONE);
		nsave = o.n;
		coll_build(&o, &plan, q);
		ret = coll_run(&o, &linkdown);
		if (ret && linkdown && replans < COLL_MAX_REPLANS) {
			int err = pending_saves(&o, nsave, &pend, &npend);

			if (err)
				ret = err;
		}
		coll_ops_fini(&o);
		if (!ret || !linkdown)
			break;
		if (replans == COLL_MAX_REPLANS) {
			ret = tern_fail(ret, "%s: gave up after %u replans: %s", q->fn, replans,
					tern_last_error());
			break;
		}
		/* A link went down: read them again and start over from the inputs. */
		replans++;
		coll_use_saved(c, q);
		ret = coll_read_links(c);
		if (ret)
			break;
	}
	free(pend);
	c->plan = plan;
	return ret;
}

/* The calls with a send and a receive buffer per rank: check them, then run. */
static int send_recv_call(struct tern_comm *comm, struct coll_req *q, bool reduces)
{
	int ret;

	ret = check_common(comm, q, reduces);
	if (!ret)
		ret = check_bufs(comm, q->fn, "send", q->send, q->in_bytes);
	if (!ret)
		ret = check_bufs(comm, q->fn, "recv", q->recv, q->out_bytes);
	if (ret || !q->count)
		return ret;
	return coll_call(comm, q);
}

/* ---- the calls ---- */

TERN_EXPORT int tern_all_reduce(struct tern_comm *comm, struct tern_buffer *const *send,
				struct tern_buffer *const *recv, uint64_t count, unsigned int dtype,
				unsigned int op)
{
	struct coll_req q = {
		.fn = "tern_all_reduce", .kind = TERN_COLL_ALL_REDUCE, .send = send,
		.recv = recv, .count = count, .dtype = dtype, .op = op,
	};

	return send_recv_call(comm, &q, true);
}

TERN_EXPORT int tern_all_gather(struct tern_comm *comm, struct tern_buffer *const *send,
				struct tern_buffer *const *recv, uint64_t count, unsigned int dtype)
{
	struct coll_req q = {
		.fn = "tern_all_gather", .kind = TERN_COLL_ALL_GATHER, .send = send,
		.recv = recv, .count = count, .dtype = dtype,
	};

	return send_recv_call(comm, &q, false);
}

TERN_EXPORT int tern_reduce_scatter(struct tern_comm *comm, struct tern_buffer *const *send,
				    struct tern_buffer *const *recv, uint64_t count,
				    unsigned int dtype, unsigned int op)
{
	struct coll_req q = {
		.fn = "tern_reduce_scatter", .kind = TERN_COLL_REDUCE_SCATTER, .send = send,
		.recv = recv, .count = count, .dtype = dtype, .op = op,
	};

	return send_recv_call(comm, &q, true);
}

TERN_EXPORT int tern_broadcast(struct tern_comm *comm, struct tern_buffer *const *bufs,
			       uint64_t count, unsigned int dtype, unsigned int root)
{
	struct coll_req q = {
		.fn = "tern_broadcast", .kind = TERN_COLL_BROADCAST, .send = bufs,
		.recv = bufs, .count = count, .dtype = dtype, .root = root,
	};
	int ret;

	ret = check_common(comm, &q, false);
	if (!ret && root >= comm->n)
		ret = tern_fail(-EINVAL, "%s: root %u, the communicator has ranks 0..%u", q.fn,
				root, comm->n - 1);
	if (!ret)
		ret = check_bufs(comm, q.fn, "bufs", bufs, q.out_bytes);
	if (ret || !count || comm->n == 1)
		return ret;
	return coll_call(comm, &q);
}

static int check_one(const struct tern_comm *c, const char *what, unsigned int rank,
		     struct tern_buffer *b, uint64_t off, uint64_t size)
{
	if (rank >= c->n)
		return tern_fail(-EINVAL, "tern_send_recv: %s rank %u, the communicator has ranks 0..%u",
				 what, rank, c->n - 1);
	if (!b)
		return tern_fail(-EINVAL, "tern_send_recv: %s buffer is NULL", what);
	if (b->dev != c->dev[rank])
		return tern_fail(-EINVAL, "tern_send_recv: %s buffer is of %s, rank %u is %s", what,
				 b->dev->node, rank, c->dev[rank]->node);
	if (b->flags != TERN_MEM_DEVICE)
		return tern_fail(-EINVAL, "tern_send_recv: %s buffer is a host buffer", what);
	if (off > b->size || size > b->size - off)
		return tern_fail(-EINVAL,
				 "tern_send_recv: %s range [%llu, +%llu) outside its buffer of %llu bytes",
				 what, (unsigned long long)off, (unsigned long long)size,
				 (unsigned long long)b->size);
	return 0;
}

TERN_EXPORT int tern_send_recv(struct tern_comm *comm, unsigned int src_rank,
			       struct tern_buffer *src, uint64_t src_offset, unsigned int dst_rank,
			       struct tern_buffer *dst, uint64_t dst_offset, uint64_t size)
{
	struct coll_req q = {
		.fn = "tern_send_recv", .kind = COLL_SEND_RECV, .dtype = TERN_DT_FP32,
		.src_rank = src_rank, .dst_rank = dst_rank, .src = src, .dst = dst,
		.src_off = src_offset, .dst_off = dst_offset, .in_bytes = size, .out_bytes = size,
	};
	int ret;

	if (!comm)
		return tern_fail(-EINVAL, "tern_send_recv: communicator is NULL");
	ret = check_one(comm, "source", src_rank, src, src_offset, size);
	if (!ret)
		ret = check_one(comm, "destination", dst_rank, dst, dst_offset, size);
	if (!ret && src == dst && size && src_offset < dst_offset + size &&
	    dst_offset < src_offset + size)
		ret = tern_fail(-EINVAL, "tern_send_recv: source and destination overlap");
	if (ret || !size)
		return ret;
	return coll_call(comm, &q);
}
