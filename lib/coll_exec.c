// SPDX-License-Identifier: MIT
/*
 * libtern collectives: running a collective's copies.
 *
 * An algorithm (coll.c) writes its copies one after another, as if they
 * ran one by one. Each copy added here depends on every earlier copy that
 * writes bytes it reads or writes, or reads bytes it writes (bytes of one
 * buffer: buffers of different ranks never alias); only the copies that
 * touch the same buffers are looked at (o->touch). coll_run() then starts
 * a copy as soon as those it depends on have signalled their fences, with
 * up to COLL_INFLIGHT copies running at once on all the chips, and no
 * barrier between the steps of an algorithm. It waits for the oldest copy
 * in flight, then checks a few of the next oldest (2n + 4 for n ranks)
 * without waiting, and starts what those released. Cut into chunks, the steps of
 * chunk k overlap those of chunk k + 1: the pipeline comes from the
 * dependencies alone. Two copies that reduce into the same bytes always
 * depend on one another, so they run in program order, and the reduction
 * order is the algorithm's, whatever the timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_int.h"
#include "tern_isa.h"

#define COLL_INFLIGHT	128

void coll_ops_init(struct coll_ops *o, struct tern_comm *c, unsigned int dtype)
{
	memset(o, 0, sizeof(*o));
	o->comm = c;
	o->dtype = dtype;
}

void coll_ops_fini(struct coll_ops *o)
{
	for (unsigned int i = 0; i < o->n; i++) {
		free(o->op[i].succ);
		tern_fence_release(o->op[i].fence);
	}
	for (unsigned int i = 0; i < o->ntouch; i++)
		free(o->touch[i].ops);
	free(o->touch);
	free(o->op);
	memset(o, 0, sizeof(*o));
}

static bool overlap(const struct tern_buffer *a, uint64_t aoff, uint64_t asize,
		    const struct tern_buffer *b, uint64_t boff, uint64_t bsize)
{
	return a == b && aoff < boff + bsize && boff < aoff + asize;
}

/* Does @y (earlier) have to be done before @x starts? (An operand is read at dst_off.) */
static bool depends(const struct coll_op *x, const struct coll_op *y)
{
	return overlap(y->dst, y->dst_off, y->size, x->src, x->src_off, x->size) ||
	       overlap(y->dst, y->dst_off, y->size, x->dst, x->dst_off, x->size) ||
	       overlap(y->src, y->src_off, y->size, x->dst, x->dst_off, x->size) ||
	       overlap(y->dst, y->dst_off, y->size, x->opnd, x->dst_off, x->size) ||
	       overlap(y->opnd, y->dst_off, y->size, x->dst, x->dst_off, x->size);
}

static int add_succ(struct coll_op *y, unsigned int x)
{
	if (y->nsucc == y->succ_cap) {
		unsigned int cap = y->succ_cap ? 2 * y->succ_cap : 4;
		unsigned int *s = realloc(y->succ, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		y->succ = s;
		y->succ_cap = cap;
	}
	y->succ[y->nsucc++] = x;
	return 0;
}

/* Index in o->touch of the list of copies touching @buf (made on first use), or -ENOMEM. */
static int touch_of(struct coll_ops *o, const struct tern_buffer *buf)
{
	struct coll_touch *t;

	for (unsigned int i = 0; i < o->ntouch; i++)
		if (o->touch[i].buf == buf)
			return (int)i;
	if (o->ntouch == o->touch_cap) {
		unsigned int cap = o->touch_cap ? 2 * o->touch_cap : 16;

		t = realloc(o->touch, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		o->touch = t;
		o->touch_cap = cap;
	}
	t = &o->touch[o->ntouch];
	memset(t, 0, sizeof(*t));
	t->buf = buf;
	return (int)o->ntouch++;
}

static int touch_add(struct coll_touch *t, unsigned int op)
{
	if (t->n && t->ops[t->n - 1] == op)
		return 0;	/* a copy within one buffer */
	if (t->n == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 64;
		unsigned int *ops = realloc(t->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		t->ops = ops;
		t->cap = cap;
	}
	t->ops[t->n++] = op;
	return 0;
}

/*
 * Adds the dependencies of new copy @x on the earlier copies of @t. A copy
 * in the lists of both of x's buffers gets two edges to x, which is
 * harmless: x's count of predecessors counts both, and so does the copy's
 * list of successors.
 */
static int deps_from(struct coll_ops *o, struct coll_op *x, const struct coll_touch *t)
{
	for (unsigned int k = 0; k < t->n; k++) {
		unsigned int i = t->ops[k];

		if (!depends(x, &o->op[i]))
			continue;
		if (add_succ(&o->op[i], o->n))
			return -ENOMEM;
		x->npred++;
	}
	return 0;
}

static void add_op(struct coll_ops *o, unsigned int src_rank, struct tern_buffer *src,
		   uint64_t src_off, unsigned int dst_rank, struct tern_buffer *dst,
		   uint64_t dst_off, uint64_t size, unsigned int reduce, struct tern_buffer *opnd)
{
	struct coll_touch *ts, *td, *to = NULL;
	int its, itd, ito = -1;
	struct coll_op *x;
	int port = -1;

	if (o->err || !size || (src == dst && src_off == dst_off && !reduce))
		return;
	if (opnd && (src_rank == dst_rank || !reduce)) {
		/* Only link copies that reduce take an operand: a bug if it happens. */
		o->err = tern_fail(-EPROTO, "collective: an operand on a %s copy",
				   reduce ? "local" : "plain");
		return;
	}
	if (src_rank != dst_rank) {
		port = o->comm->graph.port[src_rank][dst_rank];
		if (port < 0) {
			/* The plan only uses live links: a bug if it happens. */
			o->err = tern_fail(-EPROTO, "collective: no link from rank %u to rank %u",
					   src_rank, dst_rank);
			return;
		}
	}
	if (o->n == o->cap) {
		unsigned int cap = o->cap ? 2 * o->cap : 64;
		struct coll_op *op = realloc(o->op, cap * sizeof(*op));

		if (!op) {
			o->err = tern_fail(-ENOMEM, "collective: out of memory for %u copies", cap);
			return;
		}
		o->op = op;
		o->cap = cap;
	}
	x = &o->op[o->n];
	memset(x, 0, sizeof(*x));
	x->src_rank = src_rank;
	x->dst_rank = dst_rank;
	x->port = port;
	x->reduce = reduce;
	x->src = src;
	x->dst = dst;
	x->src_off = src_off;
	x->dst_off = dst_off;
	x->size = size;
	x->opnd = opnd == dst ? NULL : opnd;	/* the destination as operand: a plain reduce */
	its = touch_of(o, src);
	itd = touch_of(o, dst);
	if (x->opnd)
		ito = touch_of(o, x->opnd);
	/* touch_of() may move o->touch: pointers only now */
	ts = its < 0 ? NULL : &o->touch[its];
	td = itd < 0 ? NULL : &o->touch[itd];
	if (ito >= 0)
		to = &o->touch[ito];
	if (!ts || !td || (x->opnd && !to) || deps_from(o, x, ts) ||
	    (td != ts && deps_from(o, x, td)) ||
	    (to && to != ts && to != td && deps_from(o, x, to)) ||
	    touch_add(ts, o->n) || touch_add(td, o->n) || (to && touch_add(to, o->n))) {
		o->err = tern_fail(-ENOMEM, "collective: out of memory for dependencies");
		return;
	}
	o->n++;
}

void coll_add(struct coll_ops *o, unsigned int src_rank, struct tern_buffer *src,
	      uint64_t src_off, unsigned int dst_rank, struct tern_buffer *dst, uint64_t dst_off,
	      uint64_t size, unsigned int reduce)
{
	add_op(o, src_rank, src, src_off, dst_rank, dst, dst_off, size, reduce, NULL);
}

void coll_add_chunked(struct coll_ops *o, unsigned int src_rank, struct tern_buffer *src,
		      uint64_t src_off, unsigned int dst_rank, struct tern_buffer *dst,
		      uint64_t dst_off, uint64_t size, unsigned int reduce)
{
	coll_add_operand_chunked(o, src_rank, src, src_off, dst_rank, dst, dst_off, size, reduce,
				 NULL);
}

void coll_add_operand_chunked(struct coll_ops *o, unsigned int src_rank,
			      struct tern_buffer *src, uint64_t src_off, unsigned int dst_rank,
			      struct tern_buffer *dst, uint64_t dst_off, uint64_t size,
			      unsigned int reduce, struct tern_buffer *opnd)
{
	uint64_t chunk = o->comm->chunk;

	for (uint64_t done = 0; done < size; done += chunk)
		add_op(o, src_rank, src, src_off + done, dst_rank, dst, dst_off + done,
		       size - done < chunk ? size - done : chunk, reduce, opnd);
}

/*
 * DMA queues. A chip's DMA engine e serves the queues e, e + engines, ...;
 * a link copy holds its engine for as long as the modeled link takes (it
 * is paced), then moves the data. So each port gets one queue per engine,
 * port p the queues p * engines + e, and its copies take them in turn:
 * while one engine waits out the link's time, another moves its data. The
 * local copies take the queues of the port the rank sends least on (one
 * it does not use at all, in a ring of a torus), so that they do not wait
 * behind paced link copies.
 */
struct lanes {
	unsigned int local_port[COMM_MAX];
	unsigned int turn[COMM_MAX][TERN_MAX_LINK_PORTS + 1];
};

static void lanes_init(const struct coll_ops *o, struct lanes *l)
{
	unsigned int sends[COMM_MAX][TERN_MAX_LINK_PORTS] = { { 0 } };
	const struct tern_comm *c = o->comm;

	memset(l, 0, sizeof(*l));
	for (unsigned int i = 0; i < o->n; i++)
		if (o->op[i].port >= 0 && o->op[i].port < TERN_MAX_LINK_PORTS)
			sends[o->op[i].src_rank][o->op[i].port]++;
	for (unsigned int r = 0; r < c->n; r++) {
		unsigned int nl = c->dev[r]->hw.num_links, best = 0;

		for (unsigned int p = 1; p < nl && p < TERN_MAX_LINK_PORTS; p++)
			if (sends[r][p] < sends[r][best])
				best = p;
		l->local_port[r] = best;
	}
}

static int lane_queue(struct lanes *l, const struct tern_device *dev, unsigned int rank,
		      int port)
{
	unsigned int ne = dev->hw.num_dma_engines ? dev->hw.num_dma_engines : 1;
	unsigned int lane = port < 0 ? TERN_MAX_LINK_PORTS : (unsigned int)port;
	unsigned int p = port < 0 ? l->local_port[rank] : (unsigned int)port;
	unsigned int turn = l->turn[rank][lane]++;

	return (int)((p * ne + turn % ne) % dev->hw.num_queues);
}

static int start(struct coll_ops *o, struct lanes *l, unsigned int i)
{
	struct tern_comm *c = o->comm;
	struct coll_op *x = &o->op[i];
	struct tern_device *dev = c->dev[x->src_rank];

	x->queue = lane_queue(l, dev, x->src_rank, x->port);
	if (c->ring)
		return coll_ring_start(o, x, i);
	if (x->port < 0)
		return tern_copy_async_on(dev, x->queue, x->dst, x->dst_off, x->src, x->src_off,
					  x->size, &x->fence);
	return tern_link_copy_on(dev, x->queue, (unsigned int)x->port, c->dev[x->dst_rank],
				 x->dst, x->dst_off, x->src, x->src_off, x->size, x->reduce,
				 x->reduce ? o->dtype : 0, x->opnd, &x->fence);
}

struct run_state {
	unsigned int *ready, nready, rhead;
	unsigned int *inflight, ninflight;
	unsigned int done;
	int err;
	bool linkdown;
	char error[512];
};

static void note_error(struct run_state *s, int err)
{
	if (err == -ENOLINK)
		s->linkdown = true;
	/* The first error is reported, but a link down wins: it can be routed around. */
	if (!s->err || (err == -ENOLINK && s->err != -ENOLINK)) {
		s->err = err;
		snprintf(s->error, sizeof(s->error), "%s", tern_last_error());
	}
}

/* In-flight copy number @k ended with @ret: release what it holds and what waited for it. */
static void finish(struct coll_ops *o, struct run_state *s, unsigned int k, int ret)
{
	struct coll_op *x = &o->op[s->inflight[k]];

	if (ret)
		note_error(s, ret);
	tern_fence_release(x->fence);
	x->fence = NULL;
	s->done++;
	/* Keep the others in the order they started: [0] is the oldest. */
	memmove(&s->inflight[k], &s->inflight[k + 1],
		(--s->ninflight - k) * sizeof(s->inflight[0]));
	x->done = !ret;
	if (!ret)
		for (unsigned int i = 0; i < x->nsucc; i++)
			if (!--o->op[x->succ[i]].npred)
				s->ready[s->nready++] = x->succ[i];
}

/* Settles in-flight copy number @k by its fence (0 when done, -ETIME when not yet). */
static int settle(struct coll_ops *o, struct run_state *s, unsigned int k, int64_t timeout)
{
	struct coll_op *x = &o->op[s->inflight[k]];
	int ret;

	ret = tern_link_fence_wait(o->comm->dev[x->src_rank], x->fence, timeout);
	if (ret == -ETIME)
		return ret;
	finish(o, s, k, ret);
	return 0;
}

/*
 * With the communicator's io_uring: send what was started, sleep until a
 * copy ends (any copy, on any chip), then settle every copy that has.
 * Return: 0, or an error of the ring itself (the copies' own go to @s).
 */
static int settle_ring(struct coll_ops *o, struct run_state *s)
{
	unsigned int index;
	int ret, result;

	ret = coll_ring_wait(o->comm);
	if (ret)
		return ret;
	while (!coll_ring_reap(o, &index, &result)) {
		for (unsigned int k = 0; k < s->ninflight; k++)
			if (s->inflight[k] == index) {
				finish(o, s, k, result);
				break;
			}
	}
	return 0;
}

int coll_run(struct coll_ops *o, bool *linkdown)
{
	bool ring = coll_ring_get(o->comm) != NULL;
	unsigned int budget = 2 * o->comm->n + 4;
	struct run_state s = { 0 };
	struct lanes lanes;
	int ret;

	*linkdown = false;
	if (o->err)
		return o->err;
	s.ready = malloc(o->n * sizeof(*s.ready) + 1);
	s.inflight = malloc(COLL_INFLIGHT * sizeof(*s.inflight));
	if (!s.ready || !s.inflight) {
		free(s.ready);
		free(s.inflight);
		return tern_fail(-ENOMEM, "collective: out of memory to run %u copies", o->n);
	}
	lanes_init(o, &lanes);
	for (unsigned int i = 0; i < o->n; i++)
		if (!o->op[i].npred)
			s.ready[s.nready++] = i;

	for (;;) {
		while (!s.err && s.rhead < s.nready && s.ninflight < COLL_INFLIGHT) {
			unsigned int i = s.ready[s.rhead++];

			ret = start(o, &lanes, i);
			if (ret) {
				note_error(&s, ret);
				break;
			}
			s.inflight[s.ninflight++] = i;
		}
		if (!s.ninflight)
			break;
		if (ring) {
			ret = settle_ring(o, &s);
			if (ret) {
				/* The ring broke: its copies cannot be followed any more. */
				note_error(&s, ret);
				break;
			}
			continue;
		}
		/*
		 * The oldest copy first, then whatever else of the oldest is done
		 * by now. Copies end roughly in the order they started (a step of
		 * every rank at a time), and each check is a system call: look at
		 * no more than a few per rank.
		 */
		settle(o, &s, 0, TERN_TIMEOUT_INFINITE);
		for (unsigned int k = 0, looked = 0; k < s.ninflight && looked < budget; looked++)
			if (settle(o, &s, k, 0))
				k++;
	}
	free(s.ready);
	free(s.inflight);
	*linkdown = s.linkdown;
	if (s.err)
		return tern_fail(s.err, "%s", s.error);
	if (s.done != o->n)
		return tern_fail(-EPROTO, "collective: %u of %u copies ran (dependency cycle)",
				 s.done, o->n);
	return 0;
}
