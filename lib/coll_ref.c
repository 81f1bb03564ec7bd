// SPDX-License-Identifier: MIT
/*
 * libtern collectives: what a collective computes, on the CPU, in the
 * order the plan's algorithm reduces (Documentation/collectives.rst,
 * "Reduction order"), so that a device result must equal it bit for bit.
 *
 * One reduction step is what a DMA engine does on arrival: the element
 * already there (dst) and the arriving one (src) become op(dst, src),
 * computed in binary32; for bf16 both are widened exactly and the result
 * is rounded to nearest even (tern_dtype.h). SUM is the IEEE sum; MAX
 * keeps dst unless src is greater, and a NaN on either side wins (dst's
 * first).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tern_internal.h"
#include "tern_coll.h"
#include "tern_dtype.h"
#include "tern_isa.h"

static uint32_t step_f32(uint32_t d, uint32_t s, unsigned int op)
{
	float fd = tern_f32_from_bits(d), fs = tern_f32_from_bits(s);

	if (op == TERN_REDUCE_SUM)
		return tern_f32_bits(fd + fs);
	if (fd != fd)
		return d;
	if (fs != fs)
		return s;
	return fs > fd ? s : d;
}

/* Element @i of @p. */
static uint32_t load(const void *p, uint64_t i, unsigned int dtype)
{
	uint32_t u;
	uint16_t h;

	if (dtype == TERN_DT_BF16) {
		memcpy(&h, (const uint8_t *)p + 2 * i, 2);
		return h;
	}
	memcpy(&u, (const uint8_t *)p + 4 * i, 4);
	return u;
}

static void store(void *p, uint64_t i, unsigned int dtype, uint32_t v)
{
	uint16_t h = (uint16_t)v;

	if (dtype == TERN_DT_BF16)
		memcpy((uint8_t *)p + 2 * i, &h, 2);
	else
		memcpy((uint8_t *)p + 4 * i, &v, 4);
}

/* One reduction step on element codes of @dtype: op(dst, src). */
static uint32_t step(uint32_t d, uint32_t s, unsigned int dtype, unsigned int op)
{
	if (dtype == TERN_DT_BF16)
		return tern_bf16_from_f32(step_f32(tern_bf16_to_f32((uint16_t)d),
						   tern_bf16_to_f32((uint16_t)s), op));
	return step_f32(d, s, op);
}

/*
 * Element @i of the reduction of in[*] over the plan. Ring: the element
 * belongs to the segment (block) that ends at position @end; it starts at
 * position end + 1 and each next position reduces its own value with the
 * arriving one. Tree: ranks in reverse breadth-first order reduce into
 * their parents.
 */
static uint32_t reduce_one(const struct tern_comm_plan *p, const void *const *in, uint64_t i,
			   unsigned int end, unsigned int dtype, unsigned int op)
{
	uint32_t acc[TERN_COMM_MAX_RANKS];
	unsigned int n = p->n;

	if (p->algorithm == TERN_COLL_RING) {
		uint32_t a = load(in[p->order[(end + 1) % n]], i, dtype);

		for (unsigned int k = 2; k <= n; k++)
			a = step(load(in[p->order[(end + k) % n]], i, dtype), a, dtype, op);
		return a;
	}
	for (unsigned int r = 0; r < n; r++)
		acc[r] = load(in[r], i, dtype);
	for (unsigned int k = n; k-- > 1;) {
		unsigned int v = p->order[k], u = (unsigned int)p->parent[v];

		acc[u] = step(acc[u], acc[v], dtype, op);
	}
	return acc[p->order[0]];
}

static int check_plan(const struct tern_comm_plan *p, bool reduce)
{
	bool seen[TERN_COMM_MAX_RANKS] = { false };

	if (!p || p->n < 1 || p->n > TERN_COMM_MAX_RANKS)
		return tern_fail(-EINVAL, "tern_coll_reference: no plan, or a plan of %u ranks",
				 p ? p->n : 0);
	if (reduce && p->algorithm != TERN_COLL_RING && p->algorithm != TERN_COLL_TREE)
		return tern_fail(-EINVAL,
				 "tern_coll_reference: plan algorithm %u (a reduction needs a ring or a tree)",
				 p->algorithm);
	for (unsigned int i = 0; i < p->n; i++) {
		unsigned int v = p->order[i];

		if (v >= p->n || seen[v])
			return tern_fail(-EINVAL,
					 "tern_coll_reference: plan order is not a permutation of 0..%u",
					 p->n - 1);
		if (reduce && p->algorithm == TERN_COLL_TREE &&
		    (i ? p->parent[v] < 0 || !seen[p->parent[v]] : p->parent[v] != -1))
			return tern_fail(-EINVAL,
					 "tern_coll_reference: rank %u's parent %d does not come before it in the plan",
					 v, p->parent[v]);
		seen[v] = true;
	}
	return 0;
}

TERN_EXPORT int tern_coll_reference(unsigned int kind, const struct tern_comm_plan *plan,
				    const void *const *in, void *const *out, uint64_t count,
				    unsigned int dtype, unsigned int op, unsigned int root)
{
	bool reduce = kind == TERN_COLL_ALL_REDUCE || kind == TERN_COLL_REDUCE_SCATTER;
	unsigned int n, es;
	uint64_t base, len;
	int ret;

	if (kind < TERN_COLL_ALL_REDUCE || kind > TERN_COLL_BROADCAST)
		return tern_fail(-EINVAL, "tern_coll_reference: kind %u", kind);
	ret = check_plan(plan, reduce);
	if (ret)
		return ret;
	n = plan->n;
	if (!in || !out)
		return tern_fail(-EINVAL, "tern_coll_reference: in or out is NULL");
	for (unsigned int r = 0; r < n; r++)
		if (!in[r] || !out[r])
			return tern_fail(-EINVAL, "tern_coll_reference: in[%u] or out[%u] is NULL",
					 r, r);
	if (dtype != TERN_DT_FP32 && dtype != TERN_DT_BF16)
		return tern_fail(-EINVAL, "tern_coll_reference: dtype %u", dtype);
	if (reduce && op != TERN_REDUCE_SUM && op != TERN_REDUCE_MAX)
		return tern_fail(-EINVAL, "tern_coll_reference: reduction %u", op);
	if (kind == TERN_COLL_BROADCAST && root >= n)
		return tern_fail(-EINVAL, "tern_coll_reference: root %u of %u ranks", root, n);
	es = tern_dtype_size(dtype);

	switch (kind) {
	case TERN_COLL_ALL_REDUCE:
		/* Ring: segment j (count / n elements, the first count % n one more) ends at j. */
		for (unsigned int j = 0; j < n; j++) {
			base = j * (count / n) + (j < count % n ? j : count % n);
			len = count / n + (j < count % n);
			if (plan->algorithm == TERN_COLL_TREE) {
				base = j ? count : 0;
				len = j ? 0 : count;
			}
			for (uint64_t i = base; i < base + len; i++) {
				uint32_t v = reduce_one(plan, in, i, j, dtype, op);

				for (unsigned int r = 0; r < n; r++)
					store(out[r], i, dtype, v);
			}
		}
		break;
	case TERN_COLL_REDUCE_SCATTER:
		/* Ring: rank order[j]'s block ends at position j. */
		for (unsigned int j = 0; j < n; j++) {
			unsigned int b = plan->order[j];

			for (uint64_t i = 0; i < count; i++)
				store(out[b], i, dtype,
				      reduce_one(plan, in, b * count + i, j, dtype, op));
		}
		break;
	case TERN_COLL_ALL_GATHER:
		for (unsigned int r = 0; r < n; r++)
			for (unsigned int b = 0; b < n; b++)
				memcpy((uint8_t *)out[r] + b * count * es, in[b], count * es);
		break;
	case TERN_COLL_BROADCAST:
		for (unsigned int r = 0; r < n; r++)
			if (out[r] != in[root])
				memmove(out[r], in[root], count * es);
		break;
	}
	return 0;
}
