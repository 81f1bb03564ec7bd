// SPDX-License-Identifier: MIT
/*
 * Host test of libtern's collectives without a device: the route planner
 * (lib/coll_plan.c) on the link graph of a 4x4 torus with links down, the
 * CPU reference (lib/coll_ref.c) against hand-computed reduction orders,
 * and every algorithm's copies (lib/coll.c, lib/coll_exec.c) run on host
 * memory in random orders their dependencies allow: each run must give
 * the reference's result bit for bit, so a missing dependency or an
 * algorithm that reduces in another order than the reference shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_int.h"
#include "tern_dtype.h"
#include "tern_isa.h"

static unsigned int failures, checks;

#define CHECK(cond, ...) do {							\
	checks++;								\
	if (!(cond)) {								\
		failures++;							\
		printf("# FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);		\
		printf(__VA_ARGS__);						\
		printf("\n");							\
	}									\
} while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- a communicator over chips of a 4x4 torus, without devices ---- */

static struct tern_device fake_dev[16];

/* Port of torus chip @a wired to chip @b (0 east, 1 west, 2 south, 3 north), or -1. */
static int torus_port(unsigned int a, unsigned int b)
{
	unsigned int x = a % 4, y = a / 4;

	if (b == y * 4 + (x + 1) % 4)
		return 0;
	if (b == y * 4 + (x + 3) % 4)
		return 1;
	if (b == ((y + 1) % 4) * 4 + x)
		return 2;
	if (b == ((y + 3) % 4) * 4 + x)
		return 3;
	return -1;
}

/* @down: pairs of chips whose link is down, @ndown pairs. */
static struct tern_comm *make_comm(const unsigned int *chips, unsigned int n,
				   const unsigned int (*down)[2], unsigned int ndown)
{
	struct tern_comm *c = calloc(1, sizeof(*c));

	c->n = n;
	c->chunk = 1 << 20;
	c->graph.n = n;
	for (unsigned int r = 0; r < n; r++) {
		c->chip[r] = chips[r];
		c->dev[r] = &fake_dev[chips[r]];
		snprintf(fake_dev[chips[r]].node, sizeof(fake_dev[0].node), "/dev/accel/accel%u",
			 chips[r]);
		fake_dev[chips[r]].hw.chip_id = chips[r];
	}
	for (unsigned int r = 0; r < n; r++) {
		for (unsigned int s = 0; s < n; s++) {
			int p = r == s ? -1 : torus_port(chips[r], chips[s]);

			for (unsigned int d = 0; d < ndown && p >= 0; d++)
				if ((down[d][0] == chips[r] && down[d][1] == chips[s]) ||
				    (down[d][1] == chips[r] && down[d][0] == chips[s])) {
					p = -1;
					snprintf(c->graph.down, sizeof(c->graph.down),
						 "chip %u -> chip %u", down[d][0], down[d][1]);
				}
			c->graph.port[r][s] = p;
		}
	}
	return c;
}

static bool is_cycle(const struct tern_comm *c, const struct tern_comm_plan *p)
{
	bool seen[COMM_MAX] = { false };

	for (unsigned int i = 0; i < p->n; i++) {
		if (seen[p->order[i]])
			return false;
		seen[p->order[i]] = true;
		if (p->n > 1 && c->graph.port[p->order[i]][p->order[(i + 1) % p->n]] < 0)
			return false;
	}
	return true;
}

static void test_planner(void)
{
	static const unsigned int row[] = { 0, 1, 2, 3 }, three[] = { 0, 1, 2 };
	static const unsigned int two_rows[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned int bent[] = { 0, 1, 5 }, pair[] = { 0, 1 };
	static const unsigned int down01[][2] = { { 0, 1 } }, down_split[][2] = { { 0, 1 }, { 2, 3 } };
	unsigned int all[16];
	struct tern_comm_plan p;
	struct tern_comm *c;
	int ret;

	for (unsigned int i = 0; i < 16; i++)
		all[i] = i;

	c = make_comm(row, 4, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_RING && p.n == 4 && is_cycle(c, &p),
	      "row: ret %d algorithm %u", ret, p.algorithm);
	ret = coll_make_plan(c, TERN_COLL_TREE, 2, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_TREE && p.order[0] == 2 && p.parent[2] == -1,
	      "row tree from 2: ret %d root %u", ret, p.order[0]);
	free(c);

	/* A link of the row's ring down: no ring is left, the tree is a path. */
	c = make_comm(row, 4, down01, 1);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_TREE && p.order[0] == 0 && p.order[1] == 3 &&
	      p.parent[3] == 0 && p.parent[2] == 3 && p.parent[1] == 2,
	      "row 0-1 down: ret %d algorithm %u order %u %u %u %u", ret, p.algorithm,
	      p.order[0], p.order[1], p.order[2], p.order[3]);
	ret = coll_make_plan(c, TERN_COLL_RING, 0, "t", &p);
	CHECK(ret == -ENOLINK && strstr(tern_last_error(), "no ring") &&
	      strstr(tern_last_error(), "chip 0 -> chip 1"), "forced ring: %d %s", ret,
	      tern_last_error());
	ret = coll_make_path(c, 0, 1, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_PATH && p.n == 4 && p.order[0] == 0 &&
	      p.order[1] == 3 && p.order[2] == 2 && p.order[3] == 1 && p.parent[1] == 2,
	      "path 0 -> 1 around: ret %d n %u", ret, p.n);
	free(c);

	c = make_comm(row, 4, down_split, 2);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "tern_all_reduce", &p);
	CHECK(ret == -ENOLINK && strstr(tern_last_error(), "rank 1 (chip 1") &&
	      strstr(tern_last_error(), "unreachable"), "split row: %d %s", ret,
	      tern_last_error());
	CHECK(coll_check_connected(c, "t") == -ENOLINK, "split row is not connected");
	free(c);

	c = make_comm(three, 3, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_TREE, "3 in a row: tree, got %u", p.algorithm);
	CHECK(coll_make_plan(c, TERN_COLL_RING, 0, "t", &p) == -ENOLINK, "3 in a row: no ring");
	free(c);

	c = make_comm(bent, 3, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_TREE && p.parent[2] == 1 && p.parent[1] == 0,
	      "bent: ret %d", ret);
	free(c);

	c = make_comm(two_rows, 8, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_RING && is_cycle(c, &p), "two rows ring: %d", ret);
	ret = coll_make_path(c, 0, 6, "t", &p);
	CHECK(!ret && p.n == 4 && p.order[0] == 0 && p.order[3] == 6 && is_cycle(c, &p) == false,
	      "two rows path 0 -> 6: ret %d n %u", ret, p.n);
	for (unsigned int i = 0; i + 1 < p.n; i++)
		CHECK(c->graph.port[p.order[i]][p.order[i + 1]] >= 0, "path hop %u linked", i);
	free(c);

	c = make_comm(all, 16, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_RING && is_cycle(c, &p), "16 chips ring: %d", ret);
	free(c);

	c = make_comm(pair, 2, NULL, 0);
	ret = coll_make_plan(c, TERN_COLL_RING, 0, "t", &p);
	CHECK(!ret && p.algorithm == TERN_COLL_RING && p.n == 2, "pair ring: %d", ret);
	free(c);
	c = make_comm(pair, 2, down01, 1);
	ret = coll_make_plan(c, TERN_COLL_AUTO, 0, "tern_broadcast", &p);
	CHECK(ret == -ENOLINK && strstr(tern_last_error(), "tern_broadcast: no route") &&
	      strstr(tern_last_error(), "chip 0 -> chip 1"), "pair down: %d %s", ret,
	      tern_last_error());
	free(c);
}

/* ---- the reference against hand-computed orders ---- */

static void test_reference_order(void)
{
	float x[3][3] = { { 1, 1, 1 }, { 1e8f, 1e8f, 1e8f }, { -1e8f, -1e8f, -1e8f } };
	float out[3][3];
	const void *in[3] = { x[0], x[1], x[2] };
	void *o[3] = { out[0], out[1], out[2] };
	struct tern_comm_plan ring = { .algorithm = TERN_COLL_RING, .n = 3,
				       .order = { 0, 1, 2 }, .parent = { -1, -1, -1 } };
	struct tern_comm_plan tree = { .algorithm = TERN_COLL_TREE, .n = 3,
				       .order = { 0, 1, 2 }, .parent = { -1, 0, 0 } };
	uint16_t b[3][1], bo[3][1];
	const void *bin[3] = { b[0], b[1], b[2] };
	void *bout[3] = { bo[0], bo[1], bo[2] };
	int ret;

	/*
	 * Ring, 3 elements: element j ends at position j, starting at j + 1:
	 * element 0: (x1 + x2) + x0 = 0 + 1 = 1; element 1: (x2 + x0) + x1 =
	 * -1e8 + 1e8 = 0 (x2 + x0 rounds back to -1e8); element 2: (x0 + x1) +
	 * x2 = 1e8 - 1e8 = 0.
	 */
	ret = tern_coll_reference(TERN_COLL_ALL_REDUCE, &ring, in, o, 3, TERN_DT_FP32,
				  TERN_REDUCE_SUM, 0);
	CHECK(!ret && out[0][0] == 1 && out[0][1] == 0 && out[0][2] == 0 && out[2][0] == 1,
	      "ring order: %g %g %g", out[0][0], out[0][1], out[0][2]);
	/* Tree: rank 2 into rank 0 first (reverse BFS), then rank 1: (x0 + x2) + x1 = 0. */
	ret = tern_coll_reference(TERN_COLL_ALL_REDUCE, &tree, in, o, 3, TERN_DT_FP32,
				  TERN_REDUCE_SUM, 0);
	CHECK(!ret && out[0][0] == 0 && out[1][0] == 0, "tree order: %g", out[0][0]);

	/* bf16 rounds after each step: 256 + 1 = 257 -> 256 (even), again -> 256. */
	b[0][0] = tern_bf16_from_f32(tern_f32_bits(256));
	b[1][0] = tern_bf16_from_f32(tern_f32_bits(1));
	b[2][0] = b[1][0];
	ret = tern_coll_reference(TERN_COLL_ALL_REDUCE, &tree, bin, bout, 1, TERN_DT_BF16,
				  TERN_REDUCE_SUM, 0);
	CHECK(!ret && tern_f32_from_bits(tern_bf16_to_f32(bo[1][0])) == 256,
	      "bf16 stepwise: %g", tern_f32_from_bits(tern_bf16_to_f32(bo[1][0])));
	/* Ring, count 1: only segment 0, starting at position 1: (1 + 1) + 256 = 258. */
	ret = tern_coll_reference(TERN_COLL_ALL_REDUCE, &ring, bin, bout, 1, TERN_DT_BF16,
				  TERN_REDUCE_SUM, 0);
	CHECK(!ret && tern_f32_from_bits(tern_bf16_to_f32(bo[2][0])) == 258,
	      "bf16 ring: %g", tern_f32_from_bits(tern_bf16_to_f32(bo[2][0])));

	/* Bad arguments. */
	CHECK(tern_coll_reference(0, &ring, in, o, 3, TERN_DT_FP32, 1, 0) == -EINVAL, "kind");
	CHECK(tern_coll_reference(1, NULL, in, o, 3, TERN_DT_FP32, 1, 0) == -EINVAL, "plan");
	CHECK(tern_coll_reference(1, &ring, in, o, 3, TERN_DT_FP16, 1, 0) == -EINVAL, "dtype");
	CHECK(tern_coll_reference(1, &ring, in, o, 3, TERN_DT_FP32, 3, 0) == -EINVAL, "op");
	CHECK(tern_coll_reference(4, &ring, in, o, 3, TERN_DT_FP32, 0, 3) == -EINVAL, "root");
	CHECK(tern_coll_reference(1, &ring, NULL, o, 3, TERN_DT_FP32, 1, 0) == -EINVAL, "in");
	tree.parent[1] = 2;
	CHECK(tern_coll_reference(1, &tree, in, o, 3, TERN_DT_FP32, 1, 0) == -EINVAL,
	      "parent after child");
	ring.order[2] = 1;
	CHECK(tern_coll_reference(1, &ring, in, o, 3, TERN_DT_FP32, 1, 0) == -EINVAL,
	      "not a permutation");
}

/* ---- the algorithms' copies, run on host memory ---- */

static struct tern_buffer *host_buf(struct tern_device *dev, uint64_t size)
{
	struct tern_buffer *b = calloc(1, sizeof(*b));

	b->dev = dev;
	b->size = size;
	b->flags = TERN_MEM_DEVICE;
	b->map = calloc(1, size ? size : 1);
	return b;
}

static void free_buf(struct tern_buffer *b)
{
	if (b) {
		free(b->map);
		free(b);
	}
}

static uint32_t step_elem(uint32_t d, uint32_t s, unsigned int dtype, unsigned int op)
{
	float fd, fs, r;

	if (dtype == TERN_DT_BF16) {
		d = tern_bf16_to_f32((uint16_t)d);
		s = tern_bf16_to_f32((uint16_t)s);
	}
	fd = tern_f32_from_bits(d);
	fs = tern_f32_from_bits(s);
	r = op == TERN_REDUCE_SUM ? fd + fs : (fs > fd ? fs : fd);
	return dtype == TERN_DT_BF16 ? tern_bf16_from_f32(tern_f32_bits(r)) : tern_f32_bits(r);
}

/* What a DMA engine does with one copy. */
static void run_copy(const struct coll_op *x, unsigned int dtype)
{
	uint8_t *dst = (uint8_t *)x->dst->map + x->dst_off;
	const uint8_t *src = (const uint8_t *)x->src->map + x->src_off;
	unsigned int es = tern_dtype_size(dtype);

	const uint8_t *opnd = x->opnd ? (const uint8_t *)x->opnd->map + x->dst_off : dst;

	if (!x->reduce) {
		memmove(dst, src, x->size);
		return;
	}
	/* with an operand: dst = op(operand, src), element i read before it is written */
	for (uint64_t i = 0; i < x->size; i += es) {
		uint32_t d = 0, s = 0;

		memcpy(&d, opnd + i, es);
		memcpy(&s, src + i, es);
		d = step_elem(d, s, dtype, x->reduce);
		memcpy(dst + i, &d, es);
	}
}

/* Runs the copies in a random order their dependencies allow; false on a cycle. */
static bool run_random(struct coll_ops *o)
{
	unsigned int *ready = malloc((o->n + 1) * sizeof(*ready)), nready = 0, done = 0;

	for (unsigned int i = 0; i < o->n; i++)
		if (!o->op[i].npred)
			ready[nready++] = i;
	while (nready) {
		unsigned int k = (unsigned int)(rnd() % nready), i = ready[k];
		struct coll_op *x = &o->op[i];

		ready[k] = ready[--nready];
		run_copy(x, o->dtype);
		done++;
		for (unsigned int j = 0; j < x->nsucc; j++)
			if (!--o->op[x->succ[j]].npred)
				ready[nready++] = x->succ[j];
	}
	free(ready);
	return done == o->n;
}

static uint32_t rand_elem(unsigned int dtype)
{
	float v = (float)((int)(rnd() % 2000001) - 1000000) / 1000000.0f;
	int e = (int)(rnd() % 21) - 10;

	while (v == 0)
		v = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
	for (; e > 0; e--)
		v *= 2;
	for (; e < 0; e++)
		v /= 2;
	return dtype == TERN_DT_BF16 ? tern_bf16_from_f32(tern_f32_bits(v)) : tern_f32_bits(v);
}

/*
 * One collective of @kind over @chips with @algorithm, run with the
 * library's copies on host memory; checked against the reference.
 */
static void run_case(const unsigned int *chips, unsigned int n, unsigned int algorithm,
		     unsigned int kind, unsigned int dtype, unsigned int op, uint64_t count,
		     uint64_t chunk, bool in_place, unsigned int root, bool operand)
{
	struct tern_buffer *send[COMM_MAX], *recv[COMM_MAX];
	void *expect[COMM_MAX];
	const void *in[COMM_MAX];
	struct tern_comm_plan plan;
	struct coll_req q = { 0 };
	struct coll_ops o;
	unsigned int es = tern_dtype_size(dtype);
	uint64_t in_bytes = count * es, out_bytes = count * es, save;
	struct tern_comm *c = make_comm(chips, n, NULL, 0);
	bool retry;
	int ret;

	c->chunk = chunk;
	c->operand = operand;
	if (kind == TERN_COLL_ALL_GATHER)
		out_bytes *= n;
	if (kind == TERN_COLL_REDUCE_SCATTER)
		in_bytes *= n;
	if (kind == TERN_COLL_BROADCAST)
		in_place = true;
	ret = coll_make_plan(c, algorithm, kind == TERN_COLL_BROADCAST ? root : 0, "t", &plan);
	CHECK(!ret, "plan: %s", tern_last_error());
	if (ret)
		goto out_comm;
	save = in_place && kind != TERN_COLL_BROADCAST ? (in_bytes + 4095) & ~4095ull : 0;
	q.kind = kind;
	q.count = count;
	q.dtype = dtype;
	q.op = op;
	q.root = root;
	q.esize = es;
	q.in_bytes = in_bytes;
	q.out_bytes = out_bytes;
	q.work_off = save;
	q.send = send;
	q.recv = recv;
	q.saved = save != 0;
	retry = q.saved && (rnd() & 1);
	for (unsigned int r = 0; r < n; r++) {
		uint64_t big = in_bytes > out_bytes ? in_bytes : out_bytes;

		send[r] = host_buf(c->dev[r], in_place ? big : in_bytes);
		recv[r] = in_place ? send[r] : host_buf(c->dev[r], out_bytes);
		c->scratch[r] = host_buf(c->dev[r], save + in_bytes);
		for (uint64_t i = 0; i < in_bytes / es; i++) {
			uint32_t v = rand_elem(dtype);

			memcpy((uint8_t *)send[r]->map + i * es, &v, es);
		}
		expect[r] = calloc(1, out_bytes > in_bytes ? out_bytes : in_bytes);
		in[r] = malloc(in_bytes);
		memcpy((void *)in[r], send[r]->map, in_bytes);
		if (kind == TERN_COLL_BROADCAST)
			memcpy(expect[r], in[r], in_bytes);
		/*
		 * A first attempt reads the inputs where they are and saves
		 * those that are outputs with copies of its own; a replanned
		 * one starts from what was saved (here: by the test).
		 */
		if (retry)
			memcpy(c->scratch[r]->map, send[r]->map, in_bytes);
		q.in[r] = send[r];
	}
	if (retry)
		coll_use_saved(c, &q);
	if (kind == TERN_COLL_BROADCAST)
		ret = tern_coll_reference(kind, &plan, in, expect, count, dtype, op, root);
	else
		ret = tern_coll_reference(kind, &plan, in, expect, count, dtype, op, root);
	CHECK(!ret, "reference: %s", tern_last_error());

	coll_ops_init(&o, c, dtype);
	if (!retry)
		coll_add_saves(&o, &q);
	coll_build(&o, &plan, &q);
	CHECK(!o.err, "build: %s", tern_last_error());
	CHECK(run_random(&o), "dependency cycle");
	for (unsigned int r = 0; r < n; r++) {
		bool same = !memcmp(recv[r]->map, expect[r], out_bytes);

		CHECK(same, "kind %u %s n %u %s %s count %llu chunk %llu %s%s rank %u differs",
		      kind, plan.algorithm == TERN_COLL_RING ? "ring" : "tree", n,
		      dtype == TERN_DT_BF16 ? "bf16" : "fp32", op == TERN_REDUCE_MAX ? "max" : "sum",
		      (unsigned long long)count, (unsigned long long)chunk,
		      in_place ? "in place" : "out of place", operand ? ", operand" : "", r);
		if (!same)
			break;
		/* The first attempt's saved input, for a replan. */
		if (q.saved && !retry)
			CHECK(!memcmp(c->scratch[r]->map, in[r], in_bytes),
			      "kind %u n %u: rank %u's saved input differs", kind, n, r);
	}
	coll_ops_fini(&o);
	for (unsigned int r = 0; r < n; r++) {
		if (recv[r] != send[r])
			free_buf(recv[r]);
		free_buf(send[r]);
		free_buf(c->scratch[r]);
		free(expect[r]);
		free((void *)in[r]);
	}
out_comm:
	free(c);
}

static void run_send_recv(const unsigned int *chips, unsigned int n, unsigned int src,
			  unsigned int dst, uint64_t size, uint64_t chunk)
{
	struct tern_comm *c = make_comm(chips, n, NULL, 0);
	struct tern_buffer *a = host_buf(c->dev[src], size + 100);
	struct tern_buffer *b = host_buf(c->dev[dst], size + 100);
	struct tern_comm_plan plan;
	struct coll_req q = { 0 };
	struct coll_ops o;

	c->chunk = chunk;
	for (unsigned int r = 0; r < n; r++)
		c->scratch[r] = host_buf(c->dev[r], COLL_FWD_SLOTS * chunk);
	for (uint64_t i = 0; i < size + 100; i++)
		((uint8_t *)a->map)[i] = (uint8_t)rnd();
	CHECK(!coll_make_path(c, src, dst, "t", &plan), "path");
	q.kind = COLL_SEND_RECV;
	q.src_rank = src;
	q.dst_rank = dst;
	q.src = a;
	q.dst = b;
	q.src_off = 7;
	q.dst_off = 93;
	q.in_bytes = q.out_bytes = size;
	coll_ops_init(&o, c, TERN_DT_FP32);
	coll_build(&o, &plan, &q);
	CHECK(run_random(&o), "cycle");
	CHECK(!memcmp((uint8_t *)b->map + 93, (uint8_t *)a->map + 7, size),
	      "send_recv %u -> %u of %llu bytes (%u hops)", src, dst, (unsigned long long)size,
	      plan.n - 1);
	coll_ops_fini(&o);
	free_buf(a);
	free_buf(b);
	for (unsigned int r = 0; r < n; r++)
		free_buf(c->scratch[r]);
	free(c);
}

static void test_algorithms(void)
{
	static const unsigned int one[] = { 5 }, pair[] = { 0, 1 }, three[] = { 0, 1, 2 };
	static const unsigned int row[] = { 0, 1, 2, 3 }, eight[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const struct { const unsigned int *chips; unsigned int n; } sets[] = {
		{ one, 1 }, { pair, 2 }, { three, 3 }, { row, 4 }, { eight, 8 },
	};
	static const unsigned int kinds[] = { TERN_COLL_ALL_REDUCE, TERN_COLL_ALL_GATHER,
					      TERN_COLL_REDUCE_SCATTER, TERN_COLL_BROADCAST };

	for (unsigned int si = 0; si < sizeof(sets) / sizeof(sets[0]); si++) {
		unsigned int n = sets[si].n;
		uint64_t counts[] = { 1, 3, n > 1 ? n - 1 : 2, 1000, 3001 };

		for (unsigned int ki = 0; ki < 4; ki++)
			for (unsigned int alg = TERN_COLL_AUTO; alg <= TERN_COLL_TREE; alg++)
				for (unsigned int ci = 0; ci < 5; ci++)
					for (unsigned int v = 0; v < 4; v++) {
						unsigned int dt = v & 1 ? TERN_DT_BF16 : TERN_DT_FP32;
						unsigned int op = v & 2 ? TERN_REDUCE_MAX :
								  TERN_REDUCE_SUM;

						if (alg == TERN_COLL_RING && n == 3)
							continue;	/* no ring */
						run_case(sets[si].chips, n, alg, kinds[ki], dt, op,
							 counts[ci], ci % 2 ? 256 : 4096, v == 1,
							 n - 1, false);
						/* all-reduce also with the chips' reduce with an operand */
						if (kinds[ki] == TERN_COLL_ALL_REDUCE)
							run_case(sets[si].chips, n, alg, kinds[ki], dt,
								 op, counts[ci], ci % 2 ? 256 : 4096,
								 v == 1, n - 1, true);
					}
	}
	run_send_recv(eight, 8, 0, 6, 10000, 1024);
	run_send_recv(eight, 8, 5, 5, 3000, 1024);
	run_send_recv(row, 4, 3, 1, 1, 4096);
	run_send_recv(pair, 2, 1, 0, 70000, 4096);
}

/* One TAP result per part, from the checks that failed in it. */
static void part(unsigned int n, const char *name, void (*fn)(void))
{
	unsigned int f0 = failures, c0 = checks;

	fn();
	printf("# %s: %u checks, %u failed\n", name, checks - c0, failures - f0);
	printf("%s %u - %s\n", failures == f0 ? "ok" : "not ok", n, name);
}

int main(void)
{
	printf("1..3\n");
	part(1, "planner: rings, trees, paths, links down", test_planner);
	part(2, "reference: reduction order, bf16 rounding", test_reference_order);
	part(3, "algorithms: every collective on host memory in dependency order",
	     test_algorithms);
	return failures ? 1 : 0;
}
