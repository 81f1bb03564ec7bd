// SPDX-License-Identifier: MIT
/*
 * tern_coll: libtern's collectives across the chips of the fabric VM (16
 * chips in a 4x4 torus2d, tests/vm/run-vm.sh fabric). Every collective on
 * 1, 2, 3, 4 and 8 ranks, fp32 and bf16, sum and max, odd counts, ring and
 * tree (forced, or as TERN_COLL_AUTO chooses), in place and out of place;
 * each result is compared bit for bit with tern_coll_reference() over the
 * plan the call used, and inputs that are not outputs must come back
 * unchanged. A link taken down through the QMP relay makes a call reroute
 * (or fail with -ENOLINK when no route is left). Bad arguments get -EINVAL
 * with a message.
 *
 * Chips are found by chip id (tern_vm_chip_indices()). Torus ports: 0 east,
 * 1 west, 2 south, 3 north; chip id = y * 4 + x.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "tern_fabric_test.h"
#include "tern.h"
#include "tern_coll.h"
#include "tern_dtype.h"
#include "tern_isa.h"

#define MAX_CHIPS	16

static const unsigned int PAIR[] = { 0, 1 };
static const unsigned int THREE[] = { 0, 1, 2 };		/* no ring: AUTO takes a tree */
static const unsigned int ROW[] = { 0, 1, 2, 3 };		/* a ring through the row's wrap */
static const unsigned int SQUARE[] = { 15, 10, 14, 11 };	/* ring 10-11-15-14, ranks shuffled */
static const unsigned int BENT[] = { 0, 1, 5 };			/* a path: tree */
static const unsigned int EIGHT[] = { 0, 1, 2, 3, 4, 5, 6, 7 };	/* two rows: a ring */

struct set {
	const char *name;
	const unsigned int *chips;
	unsigned int n;
};

#define SET(a) { #a, a, sizeof(a) / sizeof(a[0]) }

static const struct set SETS[] = {
	SET(PAIR), SET(THREE), SET(ROW), SET(SQUARE), SET(BENT), SET(EIGHT),
};

struct ccase {
	unsigned int kind;		/* TERN_COLL_*, or 0 for send/recv */
	unsigned int alg;
	unsigned int dtype, op, root;
	uint64_t count;
	bool in_place;
	uint64_t chunk;			/* 0: the default */
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A finite non-zero value of varied magnitude, so that the order of a sum shows. */
static uint32_t rand_elem(unsigned int dtype)
{
	int m = (int)(rnd() % 2000001) - 1000000;
	float v = (float)(m ? m : 1) / 1000000.0f;
	int e = (int)(rnd() % 21) - 10;

	for (; e > 0; e--)
		v *= 2;
	for (; e < 0; e++)
		v /= 2;
	if (dtype == TERN_DT_BF16) {
		uint16_t h = tern_bf16_from_f32(tern_f32_bits(v));

		return h ? h : 0x3f80;
	}
	return tern_f32_bits(v);
}

FIXTURE(coll) {
	struct tern_device *dev[MAX_CHIPS];	/* by chip id */
	int relay_chip;				/* a chip whose link-down mask to clear */
};

FIXTURE_SETUP(coll)
{
	struct tern_device_info info;
	int index[MAX_CHIPS], ret;

	self->relay_chip = -1;
	memset(self->dev, 0, sizeof(self->dev));
	tern_vm_chip_indices(index, MAX_CHIPS);
	for (unsigned int c = 0; c < MAX_CHIPS; c++) {
		if (index[c] < 0)
			continue;
		ret = tern_device_open((unsigned int)index[c], &self->dev[c]);
		ASSERT_EQ(0, ret) TH_LOG("tern_device_open(%d): %s", index[c], tern_last_error());
	}
	for (unsigned int c = 0; c < 8; c++) {
		if (!self->dev[c])
			SKIP(return, "chip %u missing: run in the fabric VM (run-vm.sh fabric)", c);
		ASSERT_EQ(0, tern_device_info(self->dev[c], &info));
		if (!info.fabric_id || info.num_links < 4)
			SKIP(return, "chip %u is in no fabric: run in the fabric VM", c);
	}
}

FIXTURE_TEARDOWN(coll)
{
	if (self->relay_chip >= 0)
		tern_vm_set_link_down((unsigned int)self->relay_chip, 0);
	for (unsigned int c = 0; c < MAX_CHIPS; c++)
		tern_device_close(self->dev[c]);
}

static int make_comm(FIXTURE_DATA(coll) *self, const struct set *s, struct tern_comm **commp)
{
	struct tern_device *devs[TERN_COMM_MAX_RANKS];

	for (unsigned int r = 0; r < s->n; r++)
		devs[r] = self->dev[s->chips[r]];
	return tern_comm_create(devs, s->n, commp);
}

static void *map(struct tern_buffer *b)
{
	void *p = NULL;

	if (tern_buffer_map(b, &p))
		return NULL;
	return p;
}

static const char *kind_name(unsigned int kind)
{
	static const char *const names[] = { "send_recv", "all_reduce", "all_gather",
					     "reduce_scatter", "broadcast" };

	return kind < 5 ? names[kind] : "?";
}

/*
 * Runs collective @k on the ranks of @s and checks it against the
 * reference; returns false (having logged why) on a mismatch. @planp gets
 * the plan.
 */
static bool run_case(struct __test_metadata *_metadata, FIXTURE_DATA(coll) *self,
		     struct tern_comm *comm, const struct set *s, const struct ccase *k,
		     struct tern_comm_plan *planp)
{
	struct tern_buffer *send[TERN_COMM_MAX_RANKS] = { NULL };
	struct tern_buffer *recv[TERN_COMM_MAX_RANKS] = { NULL };
	void *in[TERN_COMM_MAX_RANKS] = { NULL }, *expect[TERN_COMM_MAX_RANKS] = { NULL };
	unsigned int n = s->n, es = tern_dtype_size(k->dtype);
	uint64_t in_bytes = k->count * es, out_bytes = k->count * es, big;
	struct tern_comm_plan plan;
	bool ok = true, in_place = k->in_place || k->kind == TERN_COLL_BROADCAST;
	int ret;

	(void)self;
	if (k->kind == TERN_COLL_ALL_GATHER)
		out_bytes *= n;
	if (k->kind == TERN_COLL_REDUCE_SCATTER)
		in_bytes *= n;
	big = in_bytes > out_bytes ? in_bytes : out_bytes;
	for (unsigned int r = 0; r < n; r++) {
		struct tern_device *dev = tern_comm_device(comm, r);
		uint8_t *p;

		ASSERT_EQ(0, tern_buffer_alloc(dev, in_place ? big : in_bytes, TERN_MEM_DEVICE,
					       &send[r])) TH_LOG("%s", tern_last_error());
		if (in_place)
			recv[r] = send[r];
		else
			ASSERT_EQ(0, tern_buffer_alloc(dev, out_bytes, TERN_MEM_DEVICE, &recv[r]));
		in[r] = malloc(in_bytes);
		expect[r] = calloc(1, big);
		ASSERT_NE(NULL, in[r]);
		ASSERT_NE(NULL, expect[r]);
		for (uint64_t i = 0; i < in_bytes / es; i++) {
			uint32_t v = rand_elem(k->dtype);

			memcpy((uint8_t *)in[r] + i * es, &v, es);
		}
		p = map(send[r]);
		ASSERT_NE(NULL, p);
		memcpy(p, in[r], in_bytes);
		if (!in_place) {
			p = map(recv[r]);
			ASSERT_NE(NULL, p);
			memset(p, 0xab, out_bytes);	/* must all be overwritten */
		}
	}

	switch (k->kind) {
	case TERN_COLL_ALL_REDUCE:
		ret = tern_all_reduce(comm, send, recv, k->count, k->dtype, k->op);
		break;
	case TERN_COLL_ALL_GATHER:
		ret = tern_all_gather(comm, send, recv, k->count, k->dtype);
		break;
	case TERN_COLL_REDUCE_SCATTER:
		ret = tern_reduce_scatter(comm, send, recv, k->count, k->dtype, k->op);
		break;
	default:
		ret = tern_broadcast(comm, send, k->count, k->dtype, k->root);
		break;
	}
	ASSERT_EQ(0, ret) TH_LOG("%s on %s, %llu elements: %s", kind_name(k->kind), s->name,
				 (unsigned long long)k->count, tern_last_error());
	ASSERT_EQ(0, tern_comm_plan(comm, &plan));
	if (n > 1)
		ASSERT_EQ(n, plan.n);
	ASSERT_EQ(0, tern_coll_reference(k->kind, &plan, (const void *const *)in, expect,
					 k->count, k->dtype, k->op, k->root))
		TH_LOG("%s", tern_last_error());
	for (unsigned int r = 0; r < n && ok; r++) {
		const uint8_t *got = map(recv[r]);

		if (memcmp(got, expect[r], out_bytes)) {
			uint64_t i = 0;

			while (!memcmp(got + i * es, (uint8_t *)expect[r] + i * es, es))
				i++;
			TH_LOG("%s on %s (%s, %s %s, %llu elements, %s): rank %u element %llu differs",
			       kind_name(k->kind), s->name,
			       plan.algorithm == TERN_COLL_RING ? "ring" : "tree",
			       k->dtype == TERN_DT_BF16 ? "bf16" : "fp32",
			       k->op == TERN_REDUCE_MAX ? "max" : "sum",
			       (unsigned long long)k->count, in_place ? "in place" : "out of place",
			       r, (unsigned long long)i);
			ok = false;
		}
		if (!in_place && memcmp(map(send[r]), in[r], in_bytes)) {
			TH_LOG("%s on %s: rank %u's input was modified", kind_name(k->kind),
			       s->name, r);
			ok = false;
		}
	}
	for (unsigned int r = 0; r < n; r++) {
		if (recv[r] != send[r])
			tern_buffer_free(recv[r]);
		tern_buffer_free(send[r]);
		free(in[r]);
		free(expect[r]);
	}
	if (planp)
		*planp = plan;
	return ok;
}

/* Every kind over @s with @alg, for each dtype, op and odd count of @counts. */
static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(coll) *self,
		  const struct set *s, unsigned int alg, const uint64_t *counts,
		  unsigned int ncounts, unsigned int want_alg)
{
	struct tern_comm_plan plan;
	struct tern_comm *comm;
	unsigned int variant = 0;

	ASSERT_EQ(0, make_comm(self, s, &comm)) TH_LOG("%s: %s", s->name, tern_last_error());
	ASSERT_EQ(0, tern_comm_set_algorithm(comm, alg));
	for (unsigned int kind = TERN_COLL_ALL_REDUCE; kind <= TERN_COLL_BROADCAST; kind++) {
		for (unsigned int c = 0; c < ncounts; c++, variant++) {
			struct ccase k = {
				.kind = kind, .alg = alg, .count = counts[c],
				.dtype = variant & 1 ? TERN_DT_BF16 : TERN_DT_FP32,
				.op = variant & 2 ? TERN_REDUCE_MAX : TERN_REDUCE_SUM,
				.in_place = variant & 4,
				.root = s->n - 1 - (unsigned int)(variant % s->n),
			};

			if (!run_case(_metadata, self, comm, s, &k, &plan)) {
				tern_comm_destroy(comm);
				ASSERT_TRUE(false);
			}
			if (want_alg && s->n > 1)
				EXPECT_EQ(want_alg, plan.algorithm) TH_LOG("%s %s", s->name,
									   kind_name(kind));
		}
	}
	tern_comm_destroy(comm);
}

TEST_F(coll, one_rank)
{
	static const unsigned int one[] = { 9 };
	static const struct set s = SET(one);
	static const uint64_t counts[] = { 1, 777 };

	sweep(_metadata, self, &s, TERN_COLL_AUTO, counts, 2, 0);
}

TEST_F(coll, pair_ring)
{
	static const uint64_t counts[] = { 1, 3, 1001, 65537 };

	sweep(_metadata, self, &SETS[0], TERN_COLL_AUTO, counts, 4, TERN_COLL_RING);
}

TEST_F(coll, three_auto_tree)
{
	static const uint64_t counts[] = { 1, 2, 3, 1001, 65537 };

	sweep(_metadata, self, &SETS[1], TERN_COLL_AUTO, counts, 5, TERN_COLL_TREE);
}

TEST_F(coll, bent_auto_tree)
{
	static const uint64_t counts[] = { 2, 4099 };

	sweep(_metadata, self, &SETS[4], TERN_COLL_AUTO, counts, 2, TERN_COLL_TREE);
}

TEST_F(coll, row_ring)
{
	static const uint64_t counts[] = { 1, 3, 5, 1001, 262147 };

	sweep(_metadata, self, &SETS[2], TERN_COLL_RING, counts, 5, TERN_COLL_RING);
}

/*
 * Without io_uring commands (here TERN_SUBMIT=ioctl; also a driver before
 * them) a collective's copies take syncobj fences instead of the
 * communicator's io_uring: the same results.
 */
TEST_F(coll, row_ring_without_io_uring)
{
	static const uint64_t counts[] = { 3, 1001, 262147 };
	int index[MAX_CHIPS], ret;

	tern_vm_chip_indices(index, MAX_CHIPS);
	ASSERT_EQ(0, setenv("TERN_SUBMIT", "ioctl", 1));
	for (unsigned int r = 0; r < SETS[2].n; r++) {
		unsigned int c = SETS[2].chips[r];

		tern_device_close(self->dev[c]);
		self->dev[c] = NULL;
		ret = tern_device_open((unsigned int)index[c], &self->dev[c]);
		ASSERT_EQ(0, ret) TH_LOG("tern_device_open(%d): %s", index[c], tern_last_error());
		EXPECT_EQ(TERN_SUBMIT_IOCTL, tern_submit_path(self->dev[c]));
	}
	unsetenv("TERN_SUBMIT");
	sweep(_metadata, self, &SETS[2], TERN_COLL_RING, counts, 3, TERN_COLL_RING);
}

TEST_F(coll, row_tree_forced)
{
	static const uint64_t counts[] = { 1, 3, 1001, 65537 };

	sweep(_metadata, self, &SETS[2], TERN_COLL_TREE, counts, 4, TERN_COLL_TREE);
}

TEST_F(coll, square_shuffled_ring)
{
	static const uint64_t counts[] = { 3, 4097 };

	sweep(_metadata, self, &SETS[3], TERN_COLL_RING, counts, 2, TERN_COLL_RING);
}

TEST_F(coll, eight_ring)
{
	static const uint64_t counts[] = { 1, 7, 9, 100003 };

	sweep(_metadata, self, &SETS[5], TERN_COLL_RING, counts, 4, TERN_COLL_RING);
}

TEST_F(coll, eight_tree_forced)
{
	static const uint64_t counts[] = { 7, 30011 };

	sweep(_metadata, self, &SETS[5], TERN_COLL_TREE, counts, 2, TERN_COLL_TREE);
}

/* A million elements over 8 ranks, small chunks: the pipelined path at size. */
TEST_F(coll, eight_large_pipelined)
{
	struct ccase k = { .kind = TERN_COLL_ALL_REDUCE, .count = 1000003,
			   .dtype = TERN_DT_FP32, .op = TERN_REDUCE_SUM };
	struct tern_comm_plan plan;
	struct tern_comm *comm;
	struct timespec a, b;

	ASSERT_EQ(0, make_comm(self, &SETS[5], &comm)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_comm_set_algorithm(comm, TERN_COLL_RING));
	ASSERT_EQ(0, tern_comm_set_chunk(comm, 256 << 10));
	clock_gettime(CLOCK_MONOTONIC, &a);
	EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[5], &k, &plan));
	clock_gettime(CLOCK_MONOTONIC, &b);
	TH_LOG("all_reduce of %llu fp32 on 8 ranks (%s, chunk 256 KiB, with setup and checks): %.2f s",
	       (unsigned long long)k.count, plan.algorithm == TERN_COLL_RING ? "ring" : "tree",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	k.dtype = TERN_DT_BF16;
	k.in_place = true;
	ASSERT_EQ(0, tern_comm_set_chunk(comm, 4096));
	k.count = 300007;
	EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[5], &k, &plan));
	tern_comm_destroy(comm);
}

/*
 * TERN_COLL_AUTO on 8 ranks with a ring: the tree for an all-reduce or a
 * broadcast of less than 8 * 8 * 64 KiB = 4 MiB, the ring for larger
 * ones and for the other kinds.
 */
TEST_F(coll, auto_by_size)
{
	static const struct { unsigned int kind; uint64_t count; unsigned int want; } cases[] = {
		{ TERN_COLL_ALL_REDUCE, 1001, TERN_COLL_TREE },
		{ TERN_COLL_BROADCAST, 5003, TERN_COLL_TREE },
		{ TERN_COLL_ALL_GATHER, 1001, TERN_COLL_RING },
		{ TERN_COLL_REDUCE_SCATTER, 1001, TERN_COLL_RING },
		{ TERN_COLL_ALL_REDUCE, 1 << 20, TERN_COLL_RING },	/* 4 MiB */
		{ TERN_COLL_ALL_REDUCE, (1 << 20) - 1, TERN_COLL_TREE },
	};
	struct tern_comm_plan plan;
	struct tern_comm *comm;

	ASSERT_EQ(0, make_comm(self, &SETS[5], &comm)) TH_LOG("%s", tern_last_error());
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ccase k = { .kind = cases[i].kind, .count = cases[i].count,
				   .dtype = TERN_DT_FP32, .op = TERN_REDUCE_SUM, .root = 3 };

		EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[5], &k, &plan));
		EXPECT_EQ(cases[i].want, plan.algorithm) TH_LOG("%s of %llu fp32",
								kind_name(k.kind),
								(unsigned long long)k.count);
	}
	tern_comm_destroy(comm);
}

TEST_F(coll, ring_forced_without_ring)
{
	struct tern_buffer *b[3];
	struct tern_comm *comm;
	int ret;

	ASSERT_EQ(0, make_comm(self, &SETS[1], &comm));
	ASSERT_EQ(0, tern_comm_set_algorithm(comm, TERN_COLL_RING));
	for (unsigned int r = 0; r < 3; r++)
		ASSERT_EQ(0, tern_buffer_alloc(tern_comm_device(comm, r), 4096, TERN_MEM_DEVICE,
					       &b[r]));
	ret = tern_all_reduce(comm, b, b, 16, TERN_DT_FP32, TERN_REDUCE_SUM);
	EXPECT_EQ(-ENOLINK, ret);
	EXPECT_NE(NULL, strstr(tern_last_error(), "no ring")) TH_LOG("%s", tern_last_error());
	for (unsigned int r = 0; r < 3; r++)
		tern_buffer_free(b[r]);
	tern_comm_destroy(comm);
}

/* Send/recv across several hops, through the scratch HBM of the ranks between. */
TEST_F(coll, send_recv_hops)
{
	static const struct { unsigned int src, dst, hops; uint64_t size; } cases[] = {
		{ 0, 6, 3, (1 << 20) + 13 }, { 7, 0, 2, 5000 }, { 3, 3, 0, 999 },
		{ 1, 2, 1, 1 }, { 5, 2, 2, 3 << 20 },
	};
	struct tern_comm_plan plan;
	struct tern_comm *comm;

	ASSERT_EQ(0, make_comm(self, &SETS[5], &comm));
	ASSERT_EQ(0, tern_comm_set_chunk(comm, 64 << 10));
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tern_buffer *a, *b;
		uint64_t size = cases[i].size;
		uint8_t *src, *pa, *pb;

		ASSERT_EQ(0, tern_buffer_alloc(tern_comm_device(comm, cases[i].src), size + 64,
					       TERN_MEM_DEVICE, &a));
		ASSERT_EQ(0, tern_buffer_alloc(tern_comm_device(comm, cases[i].dst), size + 4096,
					       TERN_MEM_DEVICE, &b));
		src = malloc(size + 64);
		ASSERT_NE(NULL, src);
		for (uint64_t j = 0; j < size + 64; j++)
			src[j] = (uint8_t)rnd();
		pa = map(a);
		pb = map(b);
		memcpy(pa, src, size + 64);
		memset(pb, 0x5a, size + 4096);
		ASSERT_EQ(0, tern_send_recv(comm, cases[i].src, a, 17, cases[i].dst, b, 4001,
					    size)) TH_LOG("%s", tern_last_error());
		ASSERT_EQ(0, tern_comm_plan(comm, &plan));
		EXPECT_EQ(TERN_COLL_PATH, plan.algorithm);
		EXPECT_EQ(cases[i].hops + 1, plan.n);
		EXPECT_EQ(cases[i].src, plan.order[0]);
		EXPECT_EQ(cases[i].dst, plan.order[plan.n - 1]);
		EXPECT_EQ(0, memcmp(pb + 4001, src + 17, size)) TH_LOG("send_recv %u -> %u",
								       cases[i].src, cases[i].dst);
		EXPECT_EQ(0x5a, pb[4000]);
		EXPECT_EQ(0x5a, pb[4001 + size]);
		EXPECT_EQ(0, memcmp(pa, src, size + 64));
		free(src);
		tern_buffer_free(a);
		tern_buffer_free(b);
	}
	tern_comm_destroy(comm);
}

static int link_down(struct __test_metadata *_metadata, FIXTURE_DATA(coll) *self,
		     unsigned int chip, uint32_t mask)
{
	int ret = tern_vm_set_link_down(chip, mask);

	(void)_metadata;
	if (!ret && mask)
		self->relay_chip = (int)chip;
	return ret;
}

/*
 * The ring of the row {0,1,2,3} loses its link 0-1 after the communicator
 * read the links: the call meets the down link, replans (no ring is left:
 * a tree) and still gives the reference's result, in place.
 */
TEST_F(coll, link_down_reroutes)
{
	/* 1.2 MB: large enough for TERN_COLL_AUTO to take the ring on 4 ranks */
	struct ccase k = { .kind = TERN_COLL_ALL_REDUCE, .count = 300007,
			   .dtype = TERN_DT_FP32, .op = TERN_REDUCE_SUM, .in_place = true };
	struct tern_comm_plan plan;
	struct tern_comm *comm;
	int ret;

	ASSERT_EQ(0, make_comm(self, &SETS[2], &comm));
	EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[2], &k, &plan));
	EXPECT_EQ(TERN_COLL_RING, plan.algorithm);
	ret = link_down(_metadata, self, 1, 1u << 1);	/* chip 1 west: the link to chip 0 */
	if (ret == -ENOSYS || ret == -ENOENT) {
		tern_comm_destroy(comm);
		SKIP(return, "no QMP relay: %s", tern_vm_error());
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", tern_vm_error());
	EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[2], &k, &plan));
	EXPECT_EQ(TERN_COLL_TREE, plan.algorithm);
	EXPECT_EQ(1, plan.replans);
	/* The next call plans from the links as read: a tree, no replan. */
	k.dtype = TERN_DT_BF16;
	k.in_place = false;
	k.kind = TERN_COLL_REDUCE_SCATTER;
	EXPECT_TRUE(run_case(_metadata, self, comm, &SETS[2], &k, &plan));
	EXPECT_EQ(TERN_COLL_TREE, plan.algorithm);
	EXPECT_EQ(0, plan.replans);
	tern_comm_destroy(comm);
	ASSERT_EQ(0, link_down(_metadata, self, 1, 0));
	self->relay_chip = -1;
}

/* Two ranks whose only link is down: no route, -ENOLINK naming it. */
TEST_F(coll, link_down_no_route)
{
	struct tern_buffer *b[2];
	struct tern_comm *comm;
	int ret;

	ASSERT_EQ(0, make_comm(self, &SETS[0], &comm));
	for (unsigned int r = 0; r < 2; r++)
		ASSERT_EQ(0, tern_buffer_alloc(tern_comm_device(comm, r), 1 << 20,
					       TERN_MEM_DEVICE, &b[r]));
	ret = link_down(_metadata, self, 0, 1u << 0);	/* chip 0 east: the link to chip 1 */
	if (ret == -ENOSYS || ret == -ENOENT) {
		for (unsigned int r = 0; r < 2; r++)
			tern_buffer_free(b[r]);
		tern_comm_destroy(comm);
		SKIP(return, "no QMP relay: %s", tern_vm_error());
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", tern_vm_error());
	ret = tern_all_reduce(comm, b, b, 1 << 18, TERN_DT_FP32, TERN_REDUCE_SUM);
	EXPECT_EQ(-ENOLINK, ret);
	EXPECT_NE(NULL, strstr(tern_last_error(), "no route")) TH_LOG("%s", tern_last_error());
	EXPECT_NE(NULL, strstr(tern_last_error(), "chip 0 port 0 -> chip 1"))
		TH_LOG("%s", tern_last_error());
	TH_LOG("as expected: %s", tern_last_error());
	ret = tern_send_recv(comm, 0, b[0], 0, 1, b[1], 0, 4096);
	EXPECT_EQ(-ENOLINK, ret);
	for (unsigned int r = 0; r < 2; r++)
		tern_buffer_free(b[r]);
	tern_comm_destroy(comm);
	/* A new communicator sees it at once. */
	EXPECT_EQ(-ENOLINK, make_comm(self, &SETS[0], &comm));
	EXPECT_NE(NULL, strstr(tern_last_error(), "unreachable")) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, link_down(_metadata, self, 0, 0));
	self->relay_chip = -1;
}

TEST_F(coll, bad_arguments)
{
	struct tern_device *devs[3] = { self->dev[0], self->dev[1], self->dev[0] };
	struct tern_buffer *a[2], *small[2], *host[2], *swapped[2];
	struct tern_comm *comm = (struct tern_comm *)1;
	uint8_t *p;

	EXPECT_EQ(-EINVAL, tern_comm_create(devs, 3, &comm));
	EXPECT_EQ(NULL, comm);
	EXPECT_NE(NULL, strstr(tern_last_error(), "both")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_comm_create(NULL, 2, &comm));
	EXPECT_EQ(-EINVAL, tern_comm_create(devs, 0, &comm));
	EXPECT_EQ(-EINVAL, tern_comm_create(devs, TERN_COMM_MAX_RANKS + 1, &comm));
	EXPECT_EQ(-EINVAL, tern_comm_create(devs, 2, NULL));

	ASSERT_EQ(0, make_comm(self, &SETS[0], &comm));
	EXPECT_EQ(-EINVAL, tern_comm_set_algorithm(comm, 7));
	EXPECT_EQ(-EINVAL, tern_comm_set_chunk(comm, 100));
	EXPECT_EQ(-EINVAL, tern_comm_set_chunk(comm, 1ull << 40));
	EXPECT_EQ(-EINVAL, tern_comm_plan(comm, NULL));
	EXPECT_EQ(2u, tern_comm_size(comm));
	EXPECT_EQ(NULL, tern_comm_device(comm, 2));
	for (unsigned int r = 0; r < 2; r++) {
		struct tern_device *dev = tern_comm_device(comm, r);

		ASSERT_EQ(0, tern_buffer_alloc(dev, 4096, TERN_MEM_DEVICE, &a[r]));
		ASSERT_EQ(0, tern_buffer_alloc(dev, 64, TERN_MEM_DEVICE, &small[r]));
		ASSERT_EQ(0, tern_buffer_alloc(dev, 4096, TERN_MEM_HOST, &host[r]));
		p = map(a[r]);
		memset(p, 0x11 * (r + 1), 4096);
	}
	swapped[0] = a[1];
	swapped[1] = a[0];

	EXPECT_EQ(-EINVAL, tern_all_reduce(NULL, a, a, 16, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, NULL, a, 16, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, NULL, 16, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, a, 16, TERN_DT_FP16, TERN_REDUCE_SUM));
	EXPECT_NE(NULL, strstr(tern_last_error(), "dtype")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, a, 16, TERN_DT_FP32, 3));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, a, 16, TERN_DT_FP32, TERN_REDUCE_NONE));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, swapped, a, 16, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_NE(NULL, strstr(tern_last_error(), "send[0] is a buffer of"))
		TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, small, 1024, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_NE(NULL, strstr(tern_last_error(), "recv[0] has 64 bytes"))
		TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, host, a, 16, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_EQ(-EINVAL, tern_all_reduce(comm, a, a, 1ull << 62, TERN_DT_FP32,
					   TERN_REDUCE_SUM));
	EXPECT_EQ(-EINVAL, tern_all_gather(comm, a, a, 1024, TERN_DT_FP32));	/* needs 8 KiB */
	EXPECT_EQ(-EINVAL, tern_reduce_scatter(comm, a, a, 1024, TERN_DT_FP32, TERN_REDUCE_MAX));
	EXPECT_EQ(-EINVAL, tern_broadcast(comm, a, 16, TERN_DT_FP32, 2));
	EXPECT_EQ(-EINVAL, tern_broadcast(comm, a, 16, 0, 0));
	EXPECT_EQ(-EINVAL, tern_send_recv(comm, 2, a[0], 0, 1, a[1], 0, 16));
	EXPECT_EQ(-EINVAL, tern_send_recv(comm, 0, a[1], 0, 1, a[1], 0, 16));
	EXPECT_EQ(-EINVAL, tern_send_recv(comm, 0, a[0], 4000, 1, a[1], 0, 100));
	EXPECT_EQ(-EINVAL, tern_send_recv(comm, 0, a[0], 0, 0, a[0], 8, 16));	/* overlap */
	EXPECT_EQ(-EINVAL, tern_send_recv(comm, 0, NULL, 0, 1, a[1], 0, 16));
	/* A count of 0 is a call that does nothing. */
	EXPECT_EQ(0, tern_all_reduce(comm, a, a, 0, TERN_DT_FP32, TERN_REDUCE_SUM));
	EXPECT_EQ(0, tern_send_recv(comm, 0, a[0], 0, 1, a[1], 0, 0));
	/* Nothing above changed anything. */
	for (unsigned int r = 0; r < 2; r++) {
		p = map(a[r]);
		for (unsigned int i = 0; i < 4096; i++)
			if (p[i] != 0x11 * (r + 1)) {
				EXPECT_EQ(0x11 * (r + 1), p[i]) TH_LOG("rank %u byte %u", r, i);
				break;
			}
	}
	/* The reference refuses a send/recv plan for a reduction. */
	{
		struct tern_comm_plan pl = { .algorithm = TERN_COLL_PATH, .n = 2,
					     .order = { 0, 1 } };
		const void *in[2] = { p, p };
		void *out[2] = { p, p };

		EXPECT_EQ(-EINVAL, tern_coll_reference(TERN_COLL_ALL_REDUCE, &pl, in, out, 1,
						       TERN_DT_FP32, TERN_REDUCE_SUM, 0));
	}
	for (unsigned int r = 0; r < 2; r++) {
		tern_buffer_free(a[r]);
		tern_buffer_free(small[r]);
		tern_buffer_free(host[r]);
	}
	tern_comm_destroy(comm);
}

TEST_HARNESS_MAIN
