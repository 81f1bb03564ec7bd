// SPDX-License-Identifier: MIT
/*
 * The race checker of tests/ops: reads a program image, computes for every
 * instruction a vector clock of what it is known to start after (its own
 * stream's earlier instructions, and through each semaphore wait the
 * instruction that gave the awaited signal, with all it knew), and checks
 * every pair of instructions on different engines that touch overlapping
 * SBUF or PSUM bytes, one of them writing: one must be known to come
 * before the other. It works on the image alone, independently of the
 * builder's and the ops' bookkeeping.
 *
 * A wait's signal is a definite instruction only when one engine signals
 * the semaphore (then the v-th signal is that engine's v-th signalling
 * instruction); the checker refuses programs that signal one semaphore
 * from several engines.
 */
#include "ops_test.h"

#include <stdlib.h>
#include <string.h>

struct access {
	uint8_t mem;
	bool write;
	uint16_t p0, p1;	/* partitions [p0, p1) */
	int64_t lo, hi;		/* bytes [lo, hi) of each */
};

struct rinsn {
	union tern_insn in;
	struct access acc[3];
	unsigned int nacc;
	uint32_t vc[TERN_NUM_ENGINES];
};

static const char *const engines[] = { "tensor", "vector", "scalar", "dma" };

static void add_access(struct rinsn *r, const struct tern_ap *a, bool write)
{
	int64_t es = tern_dtype_size(a->dtype);
	int64_t d0 = (int64_t)(a->n[0] - 1) * a->s[0], d1 = (int64_t)(a->n[1] - 1) * a->s[1];
	struct access *x = &r->acc[r->nacc++];

	x->mem = a->mem;
	x->write = write;
	x->p0 = a->part;
	x->p1 = (uint16_t)(a->part + a->nparts);
	x->lo = a->offset + ((d0 < 0 ? d0 : 0) + (d1 < 0 ? d1 : 0)) * es;
	x->hi = a->offset + ((d0 > 0 ? d0 : 0) + (d1 > 0 ? d1 : 0)) * es + es;
}

static void accesses(struct rinsn *r)
{
	const union tern_insn *in = &r->in;

	switch (in->h.opcode) {
	case TERN_OP_MATMUL:
	case TERN_OP_TENSOR_TENSOR:
		add_access(r, &in->t.src0, false);
		add_access(r, &in->t.src1, false);
		add_access(r, &in->t.dst, true);
		break;
	case TERN_OP_TRANSPOSE:
	case TERN_OP_TENSOR_SCALAR:
	case TERN_OP_UNARY:
	case TERN_OP_REDUCE:
	case TERN_OP_CAST:
	case TERN_OP_COPY:
		add_access(r, &in->t.src0, false);
		add_access(r, &in->t.dst, true);
		break;
	case TERN_OP_MEMSET:
		add_access(r, &in->t.dst, true);
		break;
	case TERN_OP_IOTA:
		add_access(r, &in->iota.dst, true);
		break;
	case TERN_OP_ACTIVATE:
		add_access(r, &in->act.src, false);
		if (in->h.flags & TERN_ACT_F_BIAS_AP)
			add_access(r, &in->act.bias_ap, false);
		add_access(r, &in->act.dst, true);
		break;
	case TERN_OP_DMA_LOAD:
		add_access(r, &in->dma.sbuf, true);
		break;
	case TERN_OP_DMA_STORE:
		add_access(r, &in->dma.sbuf, false);
		break;
	}
}

static bool conflict(const struct access *a, const struct access *b)
{
	return (a->write || b->write) && a->mem == b->mem && a->p0 < b->p1 && b->p0 < a->p1 &&
	       a->lo < b->hi && b->lo < a->hi;
}

int race_check(const void *image, size_t size)
{
	struct tern_prog_header h;
	struct rinsn *r[TERN_NUM_ENGINES] = { NULL };
	uint32_t count[TERN_NUM_ENGINES], pc[TERN_NUM_ENGINES] = { 0 };
	uint32_t *sig[TERN_NUM_SEMS] = { NULL }, nsig[TERN_NUM_SEMS] = { 0 };
	int sig_engine[TERN_NUM_SEMS];
	int ret = -1;
	bool progress = true;

	if (size < sizeof(h)) {
		printf("#   race_check: image of %zu bytes\n", size);
		return -1;
	}
	memcpy(&h, image, sizeof(h));
	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++) {
		sig_engine[s] = -1;
		sig[s] = calloc(1 + size / TERN_INSN_SIZE, sizeof(uint32_t));
		if (!sig[s])
			goto out;
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		count[e] = h.stream[e].count;
		r[e] = calloc(count[e] + 1, sizeof(*r[e]));
		if (!r[e])
			goto out;
		for (uint32_t i = 0; i < count[e]; i++) {
			struct rinsn *x = &r[e][i];

			memcpy(&x->in, (const uint8_t *)image + h.stream[e].offset +
			       (size_t)i * TERN_INSN_SIZE, TERN_INSN_SIZE);
			accesses(x);
			if (!(x->in.h.sync & TERN_SYNC_SIGNAL))
				continue;
			unsigned int s = x->in.h.signal_sem;

			if (sig_engine[s] >= 0 && sig_engine[s] != (int)e) {
				printf("#   race_check: semaphore %u is signalled by the %s and %s engines\n",
				       s, engines[sig_engine[s]], engines[e]);
				goto out;
			}
			sig_engine[s] = (int)e;
			sig[s][nsig[s]++] = i;
		}
	}
	/* vector clocks, in any order the semaphores allow */
	while (progress) {
		progress = false;
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			for (; pc[e] < count[e]; pc[e]++) {
				struct rinsn *x = &r[e][pc[e]];
				const struct tern_insn_hdr *hd = &x->in.h;

				if (pc[e])
					memcpy(x->vc, r[e][pc[e] - 1].vc, sizeof(x->vc));
				if ((hd->sync & TERN_SYNC_WAIT) && hd->wait_value) {
					unsigned int s = hd->wait_sem;
					struct rinsn *y;

					if (hd->wait_value > nsig[s]) {
						printf("#   race_check: %s %u waits for semaphore %u >= %u, "
						       "which gets %u signals\n", engines[e], pc[e], s,
						       hd->wait_value, nsig[s]);
						goto out;
					}
					if (sig[s][hd->wait_value - 1] >= pc[sig_engine[s]])
						break;	/* not reached yet */
					y = &r[sig_engine[s]][sig[s][hd->wait_value - 1]];
					for (unsigned int f = 0; f < TERN_NUM_ENGINES; f++)
						if (y->vc[f] > x->vc[f])
							x->vc[f] = y->vc[f];
				}
				x->vc[e] = pc[e] + 1;
				progress = true;
			}
		}
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		if (pc[e] < count[e]) {
			printf("#   race_check: deadlock at %s instruction %u\n", engines[e], pc[e]);
			goto out;
		}
	}
	/* every conflicting pair of instructions on two engines is ordered */
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		for (unsigned int f = e + 1; f < TERN_NUM_ENGINES; f++) {
			for (uint32_t i = 0; i < count[e]; i++) {
				const struct rinsn *x = &r[e][i];

				for (uint32_t j = 0; j < count[f]; j++) {
					const struct rinsn *y = &r[f][j];
					bool hit = false;

					for (unsigned int a = 0; a < x->nacc && !hit; a++)
						for (unsigned int b = 0; b < y->nacc && !hit; b++)
							hit = conflict(&x->acc[a], &y->acc[b]);
					if (!hit || y->vc[e] >= i + 1 || x->vc[f] >= j + 1)
						continue;
					printf("#   race: %s instruction %u (opcode 0x%02x) and %s "
					       "instruction %u (opcode 0x%02x) touch the same bytes "
					       "unordered\n", engines[e], i, x->in.h.opcode, engines[f], j,
					       y->in.h.opcode);
					goto out;
				}
			}
		}
	}
	ret = 0;
out:
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		free(r[e]);
	for (unsigned int s = 0; s < TERN_NUM_SEMS; s++)
		free(sig[s]);
	return ret;
}
