// SPDX-License-Identifier: MIT
/*
 * libtern collectives: the live-link graph among the ranks of a
 * communicator, and the routes over it (Documentation/collectives.rst).
 *
 *  - ring: a Hamiltonian cycle of the graph through every rank, found by a
 *    depth-first search from rank 0 that tries neighbours in rank order
 *    and gives up after COLL_RING_STEPS steps. One or two ranks are a ring
 *    as soon as they are connected (two ranks use their link both ways).
 *  - tree: the breadth-first spanning tree from a root, neighbours taken
 *    in rank order.
 *  - path: the shortest route between two ranks (breadth-first, ditto).
 *
 * Only links whose two ends are ranks count, and only when both ends read
 * up: nothing is forwarded through chips outside the communicator.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coll_int.h"

#define COLL_RING_STEPS		200000

int coll_read_links(struct tern_comm *c)
{
	struct tern_link links[COMM_MAX][TERN_MAX_LINK_PORTS];
	struct coll_graph *g = &c->graph;
	int nl[COMM_MAX];
	size_t len = 0;

	for (unsigned int r = 0; r < c->n; r++) {
		nl[r] = tern_device_links(c->dev[r], links[r], TERN_MAX_LINK_PORTS);
		if (nl[r] < 0)
			return nl[r];
	}
	g->n = c->n;
	g->down[0] = '\0';
	for (unsigned int r = 0; r < c->n; r++)
		for (unsigned int s = 0; s < c->n; s++)
			g->port[r][s] = -1;
	for (unsigned int r = 0; r < c->n; r++) {
		for (int p = 0; p < nl[r]; p++) {
			const struct tern_link *l = &links[r][p];
			unsigned int s;

			if (l->state == TERN_LINK_NONE)
				continue;
			for (s = 0; s < c->n; s++)
				if (s != r && c->chip[s] == l->peer_chip)
					break;
			if (s == c->n)
				continue;	/* a chip outside the communicator */
			if (l->state != TERN_LINK_UP) {
				if (len < sizeof(g->down) - 40)
					len += (size_t)snprintf(g->down + len, sizeof(g->down) - len,
								"%schip %u port %d -> chip %u",
								len ? ", " : "", c->chip[r], p,
								l->peer_chip);
				continue;
			}
			/* Up here; the far end must say up too (checked below). */
			if (g->port[r][s] < 0)
				g->port[r][s] = p;
		}
	}
	for (unsigned int r = 0; r < c->n; r++)
		for (unsigned int s = 0; s < c->n; s++)
			if (g->port[r][s] >= 0 && g->port[s][r] < 0)
				g->port[r][s] = -1;
	return 0;
}

static bool linked(const struct tern_comm *c, unsigned int r, unsigned int s)
{
	return c->graph.port[r][s] >= 0;
}

/* Breadth-first from @root: order[], parent[]; returns how many ranks it reached. */
static unsigned int bfs(const struct tern_comm *c, unsigned int root, unsigned int *order,
			int *parent)
{
	unsigned int head = 0, tail = 0;
	bool seen[COMM_MAX] = { false };

	for (unsigned int r = 0; r < c->n; r++)
		parent[r] = -1;
	order[tail++] = root;
	seen[root] = true;
	while (head < tail) {
		unsigned int v = order[head++];

		for (unsigned int s = 0; s < c->n; s++) {
			if (seen[s] || !linked(c, v, s))
				continue;
			seen[s] = true;
			parent[s] = (int)v;
			order[tail++] = s;
		}
	}
	return tail;
}

static int unreachable(const struct tern_comm *c, const char *fn, unsigned int from,
		       const unsigned int *order, unsigned int reached)
{
	bool seen[COMM_MAX] = { false };
	unsigned int r;

	for (unsigned int i = 0; i < reached; i++)
		seen[order[i]] = true;
	for (r = 0; r < c->n && seen[r]; r++)
		;
	return tern_fail(-ENOLINK,
			 "%s: no route: rank %u (chip %u, %s) is unreachable from rank %u (chip %u) over the ranks' live links; links down: %s",
			 fn, r, c->chip[r], c->dev[r]->node, from, c->chip[from],
			 c->graph.down[0] ? c->graph.down : "none (the ranks are not wired together)");
}

int coll_check_connected(const struct tern_comm *c, const char *fn)
{
	unsigned int order[COMM_MAX], reached;
	int parent[COMM_MAX];

	reached = bfs(c, 0, order, parent);
	if (reached < c->n)
		return unreachable(c, fn, 0, order, reached);
	return 0;
}

struct ring_search {
	const struct tern_comm *c;
	unsigned int path[COMM_MAX];
	bool used[COMM_MAX];
	unsigned long steps;
};

/* Extends the path of @depth ranks to a cycle; true when found. */
static bool ring_extend(struct ring_search *rs, unsigned int depth)
{
	const struct tern_comm *c = rs->c;
	unsigned int last = rs->path[depth - 1];

	if (depth == c->n)
		return linked(c, last, rs->path[0]);
	for (unsigned int s = 0; s < c->n; s++) {
		if (rs->used[s] || !linked(c, last, s))
			continue;
		if (++rs->steps > COLL_RING_STEPS)
			return false;
		rs->used[s] = true;
		rs->path[depth] = s;
		if (ring_extend(rs, depth + 1))
			return true;
		rs->used[s] = false;
	}
	return false;
}

static bool find_ring(const struct tern_comm *c, unsigned int *order)
{
	struct ring_search rs = { .c = c };

	order[0] = 0;
	if (c->n == 1)
		return true;
	if (c->n == 2) {
		order[1] = 1;
		return linked(c, 0, 1);
	}
	rs.path[0] = 0;
	rs.used[0] = true;
	if (!ring_extend(&rs, 1))
		return false;
	memcpy(order, rs.path, c->n * sizeof(*order));
	return true;
}

int coll_make_plan(const struct tern_comm *c, unsigned int algorithm, unsigned int root,
		   const char *fn, struct tern_comm_plan *plan)
{
	unsigned int reached;

	plan->n = c->n;
	if (algorithm != TERN_COLL_TREE) {
		if (find_ring(c, plan->order)) {
			plan->algorithm = TERN_COLL_RING;
			for (unsigned int r = 0; r < c->n; r++)
				plan->parent[r] = -1;
			return 0;
		}
		if (algorithm == TERN_COLL_RING) {
			int ret = coll_check_connected(c, fn);

			if (ret)
				return ret;
			return tern_fail(-ENOLINK,
					 "%s: no ring through the %u ranks over their live links (links down: %s); TERN_COLL_TREE or TERN_COLL_AUTO would take a tree",
					 fn, c->n, c->graph.down[0] ? c->graph.down : "none");
		}
	}
	reached = bfs(c, root, plan->order, plan->parent);
	if (reached < c->n)
		return unreachable(c, fn, root, plan->order, reached);
	plan->algorithm = TERN_COLL_TREE;
	return 0;
}

int coll_make_path(const struct tern_comm *c, unsigned int src, unsigned int dst,
		   const char *fn, struct tern_comm_plan *plan)
{
	unsigned int order[COMM_MAX], reached, hops = 0, v;
	int parent[COMM_MAX];

	reached = bfs(c, src, order, parent);
	for (unsigned int i = 0; i < reached; i++)
		if (order[i] == dst)
			goto found;
	return tern_fail(-ENOLINK,
			 "%s: no route: rank %u (chip %u, %s) is unreachable from rank %u (chip %u) over the ranks' live links; links down: %s",
			 fn, dst, c->chip[dst], c->dev[dst]->node, src, c->chip[src],
			 c->graph.down[0] ? c->graph.down : "none (the ranks are not wired together)");
found:
	for (v = dst; v != src; v = (unsigned int)parent[v])
		hops++;
	plan->algorithm = TERN_COLL_PATH;
	plan->n = hops + 1;
	for (unsigned int r = 0; r < COMM_MAX; r++)
		plan->parent[r] = -1;
	for (v = dst, hops = plan->n; hops-- > 0; v = (unsigned int)parent[v]) {
		plan->order[hops] = v;
		if (v == src)
			break;
	}
	for (unsigned int i = 1; i < plan->n; i++)
		plan->parent[plan->order[i]] = (int)plan->order[i - 1];
	return 0;
}
