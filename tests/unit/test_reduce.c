// SPDX-License-Identifier: MIT
/*
 * tern model: reduce on arrival. LINK_COPY and COPY (without SG lists)
 * with REDUCE_SUM / REDUCE_MAX, fp32 and bf16, bit for bit against a CPU
 * loop (NaNs, infinities, signed zeros, subnormals, rounding ties), in
 * every memory combination, through the MMU, over chunk boundaries and
 * with overlapping ranges; the same with an operand (TERN_DESC_F_OPERAND:
 * dst = op(operand, src), the operand in the HBM of the destination's
 * chip, the destination only written), physical and through either chip's
 * MMU, with operands overlapping the destination; and every rejected flag
 * combination.
 */
#include "link_util.h"
#include "tern_dtype.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRC_HBM		0x100000u
#define DST_HBM		0x800000u
#define OPND_HBM	0x1800000u	/* a third range: the operand */
#define PHYS		(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM)
#define SUM		TERN_DESC_F_REDUCE_SUM
#define MAX		TERN_DESC_F_REDUCE_MAX
#define BF		TERN_DESC_F_BF16
#define OPND		TERN_DESC_F_OPERAND
#define NMAX		(1u << 20)	/* elements, 4 MiB of fp32 */

/* ---- the CPU reference ---- */

static bool isnan32(uint32_t u)
{
	return (u & 0x7fffffffu) > 0x7f800000u;
}

static uint32_t ref32(uint32_t flags, uint32_t d, uint32_t s)
{
	float fd = tern_f32_from_bits(d), fs = tern_f32_from_bits(s);

	if (flags & SUM)
		return tern_f32_bits(fd + fs);
	if (isnan32(d))
		return d;
	if (isnan32(s))
		return s;
	return fs > fd ? s : d;
}

static uint16_t ref16(uint32_t flags, uint16_t d, uint16_t s)
{
	return tern_bf16_from_f32(ref32(flags, tern_bf16_to_f32(d),
					tern_bf16_to_f32(s)));
}

/*
 * dst = op(opnd, src) element by element, in address order: element i of
 * opnd and src is read before element i of dst is written, so overlapping
 * ranges give exactly the sequential loop.
 */
static void ref_reduce3(uint32_t flags, uint8_t *dst, const uint8_t *opnd,
			const uint8_t *src, size_t bytes)
{
	if (flags & BF) {
		for (size_t i = 0; i < bytes; i += 2) {
			uint16_t a, s;

			memcpy(&a, opnd + i, 2);
			memcpy(&s, src + i, 2);
			a = ref16(flags, a, s);
			memcpy(dst + i, &a, 2);
		}
		return;
	}
	for (size_t i = 0; i < bytes; i += 4) {
		uint32_t a, s;

		memcpy(&a, opnd + i, 4);
		memcpy(&s, src + i, 4);
		a = ref32(flags, a, s);
		memcpy(dst + i, &a, 4);
	}
}

/* dst = op(dst, src): the plain reduce, the destination its own operand. */
static void ref_reduce(uint32_t flags, uint8_t *dst, const uint8_t *src,
		       size_t bytes)
{
	ref_reduce3(flags, dst, dst, src, bytes);
}

/* ---- test data ---- */

static uint32_t xrnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * n fp32 values: pairs of special cases at the start (with dst), then
 * random values of nearby exponents (so sums round), some specials.
 */
static void gen32(uint32_t *d, uint32_t *s, size_t n, uint32_t seed)
{
	static const uint32_t pairs[][2] = {
		{ 0x7fc00000, 0x3f800000 }, { 0x3f800000, 0x7fc00000 },
		{ 0x7fa00001, 0x40000000 }, { 0x40000000, 0xffa00001 },
		{ 0x7fc00000, 0x7fc00000 }, { 0x7f800000, 0xff800000 },
		{ 0x7f800000, 0x3f800000 }, { 0xff800000, 0xff800000 },
		{ 0x00000000, 0x80000000 }, { 0x80000000, 0x80000000 },
		{ 0x80000000, 0x00000000 }, { 0x00000001, 0x00000001 },
		{ 0x807fffff, 0x00000001 }, { 0x7f7fffff, 0x7f7fffff },
		{ 0x3f800000, 0x33800000 }, { 0x3f800001, 0x33800000 },
		{ 0xbf800000, 0x3f800000 }, { 0x3f800000, 0xbf800000 },
		{ 0x4b800000, 0x3f800000 }, { 0xc0490fdb, 0x402df854 },
	};
	const size_t np = sizeof(pairs) / sizeof(pairs[0]);
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < n; i++) {
		if (i < np) {
			d[i] = pairs[i][0];
			s[i] = pairs[i][1];
			continue;
		}
		uint32_t e = 100 + xrnd(&x) % 50;

		d[i] = (xrnd(&x) & 0x807fffffu) | e << 23;
		s[i] = (xrnd(&x) & 0x807fffffu) | (e + xrnd(&x) % 5 - 2) << 23;
		if (xrnd(&x) % 64 == 0)
			s[i] = pairs[xrnd(&x) % np][xrnd(&x) & 1];
	}
}

/* n bf16 values, with rounding ties of the fp32 sum. */
static void gen16(uint16_t *d, uint16_t *s, size_t n, uint32_t seed)
{
	static const uint16_t pairs[][2] = {
		{ 0x3f80, 0x3b80 }, { 0x3f81, 0x3b80 },	/* ties: even */
		{ 0xbf80, 0xbb80 }, { 0x3f80, 0x3b81 },
		{ 0x7fc0, 0x3f80 }, { 0x3f80, 0xffc1 },	/* NaNs */
		{ 0x7f81, 0x0000 }, { 0x7f80, 0xff80 },	/* inf - inf */
		{ 0x7f7f, 0x7f7f }, { 0x0001, 0x8001 },	/* overflow, denormals */
		{ 0x8000, 0x0000 }, { 0x8000, 0x8000 },
	};
	const size_t np = sizeof(pairs) / sizeof(pairs[0]);
	uint32_t x = seed * 2654435761u + 3;

	for (size_t i = 0; i < n; i++) {
		if (i < np) {
			d[i] = pairs[i][0];
			s[i] = pairs[i][1];
			continue;
		}
		uint32_t e = 110 + xrnd(&x) % 30;

		d[i] = (uint16_t)((xrnd(&x) & 0x807fu) | e << 7);
		s[i] = (uint16_t)((xrnd(&x) & 0x807fu) |
				  (e + xrnd(&x) % 9 - 4) << 7);
	}
}

/* fill dst and src (bytes each) with test data of the element type. */
static void gen(uint32_t flags, uint8_t *dst, uint8_t *src, size_t bytes,
		uint32_t seed)
{
	if (flags & BF)
		gen16((uint16_t *)(void *)dst, (uint16_t *)(void *)src,
		      bytes / 2, seed);
	else
		gen32((uint32_t *)(void *)dst, (uint32_t *)(void *)src,
		      bytes / 4, seed);
}

static uint8_t *want, *keep;	/* expected results; inputs kept aside */

static bool same(const uint8_t *got, const uint8_t *exp, size_t bytes,
		 size_t esz)
{
	for (size_t i = 0; i < bytes; i += esz)
		if (memcmp(got + i, exp + i, esz)) {
			uint32_t g = 0, x = 0;

			memcpy(&g, got + i, esz);
			memcpy(&x, exp + i, esz);
			printf("#   element %zu: 0x%x, expected 0x%x\n",
			       i / esz, g, x);
			return false;
		}
	return true;
}

/* ---- over a link ---- */

static bool link_reduce(const char *fab, uint32_t flags, size_t bytes)
{
	struct env *a, *b;
	size_t esz = flags & BF ? 2 : 4;

	CHECK(fabric_up(fab, 2, TERN_TOPOLOGY_RING, 0));
	a = &chips[0];
	b = &chips[1];
	gen(flags, b->hbm + DST_HBM, a->hbm + SRC_HBM, bytes, 11);
	memcpy(want, b->hbm + DST_HBM, bytes);
	ref_reduce(flags, want, a->hbm + SRC_HBM, bytes);
	CHECK(run_ok(a, lcopy(0, 0, PHYS | flags, SRC_HBM, DST_HBM, bytes)));
	CHECK(same(b->hbm + DST_HBM, want, bytes, esz));
	CHECK(all_is(b->hbm + DST_HBM + bytes, 0x100, 0));
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), bytes);
	CHECK(fabric_down());
	return true;
}

static bool t_link_sum_f32(struct env *e)
{
	(void)e;
	return link_reduce("ls32", SUM, 3 * TERN_DMA_CHUNK + 4 * 1001);
}

static bool t_link_max_f32(struct env *e)
{
	(void)e;
	return link_reduce("lm32", MAX, 4 * 4099);
}

static bool t_link_sum_bf16(struct env *e)
{
	(void)e;
	return link_reduce("ls16", SUM | BF, TERN_DMA_CHUNK + 2 * 1001);
}

static bool t_link_max_bf16(struct env *e)
{
	(void)e;
	return link_reduce("lm16", MAX | BF, 2 * 333);
}

/* Through the peer's context: pages with READ and WRITE. */
static bool t_link_va(struct env *e)
{
	struct env *a, *b;
	const uint64_t pages[2] = { HBMP(7), HBMP(3) };
	const size_t bytes = 0x1800;

	(void)e;
	CHECK(fabric_up("lva", 2, TERN_TOPOLOGY_RING, 0));
	a = &chips[0];
	b = &chips[1];
	ctx_setup(b, 4);
	map_pages(b, 4, VA_DST, pages, 2, RW | H);
	gen32((uint32_t *)(void *)want, (uint32_t *)(void *)(a->hbm + SRC_HBM),
	      bytes / 4, 12);
	memcpy(b->hbm + pages[0] + 0x800, want, 0x800);
	memcpy(b->hbm + pages[1], want + 0x800, 0x1000);
	ref_reduce(SUM, want, a->hbm + SRC_HBM, bytes);
	CHECK(run_ok(a, lcopy(1, 4, TERN_DESC_F_SRC_HBM | SUM, SRC_HBM,
			      VA_DST + 0x800, bytes)));
	CHECK(same(b->hbm + pages[0] + 0x800, want, 0x800, 4));
	CHECK(same(b->hbm + pages[1], want + 0x800, 0x1000, 4));
	CHECK(fabric_down());
	return true;
}

/* ---- local COPY ---- */

static uint8_t *mem(struct env *e, bool hbm, uint64_t addr)
{
	return hbm ? e->hbm + addr : ram_at(e, addr);
}

static bool local_case(struct env *e, uint32_t flags, bool shbm, bool dhbm,
		       size_t bytes, uint32_t seed)
{
	uint64_t src = shbm ? SRC_HBM : gpa(0x2000000);
	uint64_t dst = dhbm ? DST_HBM : gpa(0x1000000);
	struct tern_dma_desc d;

	d = mkdesc(TERN_DESC_OP_COPY, flags |
		   (shbm ? TERN_DESC_F_SRC_HBM : 0) |
		   (dhbm ? TERN_DESC_F_DST_HBM : 0), src, dst, bytes);
	gen(flags, mem(e, dhbm, dst), mem(e, shbm, src), bytes, seed);
	memcpy(want, mem(e, dhbm, dst), bytes);
	ref_reduce(flags, want, mem(e, shbm, src), bytes);
	CHECK(run_ok(e, d));
	CHECK(same(mem(e, dhbm, dst), want, bytes, flags & BF ? 2 : 4));
	return true;
}

static bool t_local(struct env *e)
{
	for (unsigned int k = 0; k < 4; k++) {
		bool shbm = k & 1, dhbm = k & 2;

		CHECK(local_case(e, SUM, shbm, dhbm, 2 * TERN_DMA_CHUNK + 40,
				 k));
		CHECK(local_case(e, MAX | BF, shbm, dhbm, 2 * 777, k + 9));
	}
	CHECK_EQ(log_count(e), 0);
	return true;
}

/* Overlapping HBM ranges: exactly the sequential loop. */
static bool t_local_overlap(struct env *e)
{
	static const int shifts[] = { 4, -4, 64, -256, 0 };
	const size_t bytes = 0x4000;

	for (unsigned int k = 0; k < 5; k++) {
		uint64_t src = SRC_HBM + 0x1000, dst = src + shifts[k];

		/* small integers: the sums are exact, the order shows */
		for (size_t i = 0; i < 0x8000; i += 4) {
			float v = (float)((i / 4) % 13);

			memcpy(e->hbm + SRC_HBM + i, &v, 4);
		}
		memcpy(want, e->hbm + SRC_HBM, 0x8000);
		ref_reduce(SUM, want + (dst - SRC_HBM), want + (src - SRC_HBM),
			   bytes);
		CHECK(run_ok(e, mkdesc(TERN_DESC_OP_COPY, PHYS | SUM, src, dst,
				       bytes)));
		CHECK(same(e->hbm + SRC_HBM, want, 0x8000, 4));
	}
	return true;
}

/* Through this chip's MMU: destination pages need READ and WRITE. */
static bool t_local_va(struct env *e)
{
	const size_t bytes = 0x2000;
	struct tern_dma_desc d;

	ctx_setup(e, 1);
	map4k(e, 1, VA_SRC, HOSTP(0), R);
	map4k(e, 1, VA_SRC + 0x1000, HBMP(1), R | H);
	map4k(e, 1, VA_DST, HBMP(4), RW | H);
	map4k(e, 1, VA_DST + 0x1000, HOSTP(6), RW);
	gen32((uint32_t *)(void *)want, (uint32_t *)(void *)(want + bytes),
	      bytes / 4, 5);
	memcpy(e->hbm + HBMP(4), want, 0x1000);
	memcpy(ram_at(e, HOSTP(6)), want + 0x1000, 0x1000);
	memcpy(ram_at(e, HOSTP(0)), want + bytes, 0x1000);
	memcpy(e->hbm + HBMP(1), want + bytes + 0x1000, 0x1000);
	ref_reduce(SUM, want, want + bytes, bytes);
	d = mkdesc(TERN_DESC_OP_COPY, SUM, VA_SRC, VA_DST, bytes);
	d.ctx = 1;
	CHECK(run_ok(e, d));
	CHECK(same(e->hbm + HBMP(4), want, 0x1000, 4));
	CHECK(same(ram_at(e, HOSTP(6)), want + 0x1000, 0x1000, 4));

	/* a write-only destination page faults before anything changes */
	map4k(e, 1, VA_MISC, HBMP(8), W | H);
	inval(e, 1);
	d = mkdesc(TERN_DESC_OP_COPY, SUM, VA_SRC, VA_MISC, 0x100);
	d.ctx = 1;
	CHECK(run_err(e, 0, d, TERN_ERR_MMU_FAULT, VA_MISC,
		      FAULT(1, 1, PERMISSION), "dst"));
	CHECK(all_is(e->hbm + HBMP(8), 0x1000, 0));
	return true;
}

/* ---- with an operand: dst = op(operand, src) ---- */

static struct tern_dma_desc with_opnd(struct tern_dma_desc d, uint64_t opnd)
{
	d.flags |= OPND;
	d.operand = opnd;
	return d;
}

static bool gate_was_hit(struct env *e)
{
	bool hit;

	pthread_mutex_lock(&e->lock);
	hit = e->gate_hit;
	pthread_mutex_unlock(&e->lock);
	return hit;
}

/*
 * run_ok() with a read gate at addr: fails if the device reads anything at
 * or above addr (a host destination that must only be written). A read
 * blocks the engine at the gate until it is opened here.
 */
static bool run_unread(struct env *e, struct tern_dma_desc d, uint64_t addr)
{
	const struct timespec ts = { 0, 100000 };
	uint32_t errs = rd(e, TERN_REG_ERR_COUNT), tail;
	uint64_t done;
	bool hit = false;

	if (qrd(e, 0, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, 0, RING(0), RSIZE, false),
			 TERN_Q_STATE_ACTIVE);
	done = qrd(e, 0, TERN_Q_COMPLETED_LO);
	tail = qrd(e, 0, TERN_Q_TAIL);
	gate_arm_read(e, addr);
	put_desc(e, false, RING(0), tail, &d);
	doorbell(e, 0, (tail + 1) % RSIZE);
	/* 60 s: hang detection only, never a timing assertion */
	for (int i = 0; i < 600000 && !hit; i++) {
		if (qrd(e, 0, TERN_Q_COMPLETED_LO) != done ||
		    qrd(e, 0, TERN_Q_STATUS) != TERN_Q_STATE_ACTIVE)
			break;
		hit = gate_was_hit(e);
		nanosleep(&ts, NULL);
	}
	hit = gate_was_hit(e);
	gate_open(e);
	if (hit) {
		printf("#   the destination at 0x%llx was read\n",
		       (unsigned long long)addr);
		q_wait(e, 0);
		return false;
	}
	CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), done + 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), errs);
	return true;
}

/*
 * Over a link, the operand at a third offset of the peer's HBM: the
 * destination's old contents (a pattern) must not matter.
 */
static bool link_opnd(const char *fab, uint32_t flags, size_t bytes)
{
	struct env *a, *b;
	size_t esz = flags & BF ? 2 : 4;
	struct tern_dma_desc d;

	CHECK(fabric_up(fab, 2, TERN_TOPOLOGY_RING, 0));
	a = &chips[0];
	b = &chips[1];
	gen(flags, b->hbm + OPND_HBM, a->hbm + SRC_HBM, bytes, 21);
	memcpy(keep, b->hbm + OPND_HBM, bytes);
	fill_pattern(b->hbm + DST_HBM, bytes, 22);
	ref_reduce3(flags, want, keep, a->hbm + SRC_HBM, bytes);
	d = with_opnd(lcopy(0, 0, PHYS | flags, SRC_HBM, DST_HBM, bytes),
		      OPND_HBM);
	CHECK(run_ok(a, d));
	CHECK(same(b->hbm + DST_HBM, want, bytes, esz));
	CHECK(!memcmp(b->hbm + OPND_HBM, keep, bytes));
	CHECK(all_is(b->hbm + DST_HBM - 0x100, 0x100, 0));
	CHECK(all_is(b->hbm + DST_HBM + bytes, 0x100, 0));
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), bytes);
	CHECK_EQ(log_count(a), 0);
	CHECK(fabric_down());
	return true;
}

static bool t_opnd_link_sum_f32(struct env *e)
{
	(void)e;
	return link_opnd("os32", SUM, 3 * TERN_DMA_CHUNK + 4 * 1001);
}

static bool t_opnd_link_max_bf16(struct env *e)
{
	(void)e;
	return link_opnd("om16", MAX | BF, TERN_DMA_CHUNK + 2 * 333);
}

/*
 * A local COPY with the operand in this chip's HBM. A host destination
 * is only written (a read gate on it; the source lies below it), an HBM
 * one's old contents (a pattern) must not matter.
 */
static bool local_opnd_case(struct env *e, uint32_t flags, bool shbm,
			    bool dhbm, size_t bytes, uint32_t seed)
{
	uint64_t src = shbm ? SRC_HBM : gpa(HOST_OFF);
	uint64_t dst = dhbm ? DST_HBM : gpa(0x1000000);
	uint8_t *dp = mem(e, dhbm, dst), after[0x100];
	struct tern_dma_desc d;

	d = with_opnd(mkdesc(TERN_DESC_OP_COPY, flags |
			     (shbm ? TERN_DESC_F_SRC_HBM : 0) |
			     (dhbm ? TERN_DESC_F_DST_HBM : 0), src, dst,
			     bytes), OPND_HBM);
	gen(flags, e->hbm + OPND_HBM, mem(e, shbm, src), bytes, seed);
	memcpy(keep, e->hbm + OPND_HBM, bytes);
	fill_pattern(dp, bytes, seed + 50);
	memcpy(after, dp + bytes, sizeof(after));
	ref_reduce3(flags, want, keep, mem(e, shbm, src), bytes);
	CHECK(dhbm ? run_ok(e, d) : run_unread(e, d, dst));
	CHECK(same(dp, want, bytes, flags & BF ? 2 : 4));
	CHECK(!memcmp(e->hbm + OPND_HBM, keep, bytes));
	CHECK(!memcmp(dp + bytes, after, sizeof(after)));
	return true;
}

static bool t_opnd_local(struct env *e)
{
	for (unsigned int k = 0; k < 4; k++) {
		bool shbm = k & 1, dhbm = k & 2;

		CHECK(local_opnd_case(e, SUM, shbm, dhbm,
				      2 * TERN_DMA_CHUNK + 40, k + 20));
		CHECK(local_opnd_case(e, MAX | BF, shbm, dhbm, 2 * 777,
				      k + 30));
	}
	CHECK_EQ(log_count(e), 0);
	return true;
}

/* The destination as its own operand: the plain reduce, bit for bit. */
static bool t_opnd_is_dst(struct env *e)
{
	static const struct {
		uint32_t flags;
		size_t bytes;
	} c[] = {
		{ SUM, TERN_DMA_CHUNK + 4 * 1001 },
		{ MAX | BF, 2 * 777 },
	};
	struct env *b;

	for (unsigned int k = 0; k < 2; k++) {
		uint32_t fl = c[k].flags;
		size_t n = c[k].bytes;

		gen(fl, e->hbm + DST_HBM, e->hbm + SRC_HBM, n, k + 40);
		memcpy(want, e->hbm + DST_HBM, n);
		ref_reduce(fl, want, e->hbm + SRC_HBM, n);
		CHECK(run_ok(e, with_opnd(mkdesc(TERN_DESC_OP_COPY, PHYS | fl,
						 SRC_HBM, DST_HBM, n),
					  DST_HBM)));
		CHECK(same(e->hbm + DST_HBM, want, n, fl & BF ? 2 : 4));
	}

	/* over a link: the peer's destination */
	CHECK(fabric_up("oid", 2, TERN_TOPOLOGY_RING, 0));
	b = &chips[1];
	gen(SUM | BF, b->hbm + DST_HBM, chips[0].hbm + SRC_HBM, 2 * 1001, 42);
	memcpy(want, b->hbm + DST_HBM, 2 * 1001);
	ref_reduce(SUM | BF, want, chips[0].hbm + SRC_HBM, 2 * 1001);
	CHECK(run_ok(&chips[0], with_opnd(lcopy(0, 0, PHYS | SUM | BF, SRC_HBM,
						DST_HBM, 2 * 1001), DST_HBM)));
	CHECK(same(b->hbm + DST_HBM, want, 2 * 1001, 2));
	CHECK(fabric_down());
	return true;
}

#define SEP	0x7fffffff	/* a source apart from dst and operand */
#define MARGIN	0x4000		/* the largest shift */

/*
 * In an HBM region of small integers (the sums are exact in fp32, the
 * order shows): dst at MARGIN, the operand oshift bytes from it, the
 * source sshift bytes from it or (SEP) after it all. The whole region
 * must be exactly the sequential loop's.
 */
static bool opnd_overlap(struct env *e, uint32_t flags, int oshift,
			 int sshift, size_t bytes)
{
	const size_t esz = flags & BF ? 2 : 4, rsz = 2 * MARGIN + 2 * bytes;
	const uint64_t dst = SRC_HBM + MARGIN, opnd = dst + oshift;
	const uint64_t src = sshift == SEP ? SRC_HBM + 2 * MARGIN + bytes :
			     dst + sshift;
	uint8_t *r = e->hbm + SRC_HBM;

	for (size_t i = 0; i < rsz; i += esz) {
		uint32_t u = tern_f32_bits((float)((i / esz) % 13));
		uint16_t h = (uint16_t)(u >> 16);

		memcpy(r + i, esz == 2 ? (void *)&h : (void *)&u, esz);
	}
	memcpy(want, r, rsz);
	if (!oshift)	/* the plain reduce */
		ref_reduce(flags, want + MARGIN, want + (src - SRC_HBM), bytes);
	else
		ref_reduce3(flags, want + MARGIN, want + (opnd - SRC_HBM),
			    want + (src - SRC_HBM), bytes);
	CHECK(run_ok(e, with_opnd(mkdesc(TERN_DESC_OP_COPY, PHYS | flags, src,
					 dst, bytes), opnd)));
	if (!same(r, want, rsz, esz)) {
		printf("#   flags 0x%x, operand %+d, src %+d, 0x%zx bytes\n",
		       flags, oshift, sshift, bytes);
		return false;
	}
	return true;
}

static bool t_opnd_overlap(struct env *e)
{
	static const int sh[][2] = {
		{ 0, SEP }, { 4, SEP }, { -4, SEP }, { 64, SEP },
		{ -256, SEP }, { 0x3ffc, SEP }, { -0x3ffc, SEP },
		{ -4, 8 }, { 8, -4 }, { 4, 0 }, { 0, -4 }, { -64, -64 },
	};
	static const int sh16[][2] = {
		{ 2, SEP }, { -2, SEP }, { -2, 6 }, { 6, -2 },
	};
	static const uint32_t fl[] = { SUM, MAX, SUM | BF, MAX | BF };

	for (unsigned int k = 0; k < sizeof(sh) / sizeof(sh[0]); k++)
		for (unsigned int f = 0; f < 4; f++)
			CHECK(opnd_overlap(e, fl[f], sh[k][0], sh[k][1],
					   0x4000));
	for (unsigned int k = 0; k < sizeof(sh16) / sizeof(sh16[0]); k++)
		for (unsigned int f = 2; f < 4; f++)
			CHECK(opnd_overlap(e, fl[f], sh16[k][0], sh16[k][1],
					   0x4000));
	/* across a chunk boundary */
	CHECK(opnd_overlap(e, SUM, -4, SEP, TERN_DMA_CHUNK + 0x400));
	CHECK(opnd_overlap(e, SUM, 4, SEP, TERN_DMA_CHUNK + 0x400));
	CHECK(opnd_overlap(e, MAX, -4, 8, TERN_DMA_CHUNK + 0x400));
	CHECK_EQ(log_count(e), 0);
	return true;
}

/*
 * d, its operand at va of context ctx (what: "operand", "peer operand"),
 * faults on e with reason at fva before the n bytes at dst change.
 */
static bool opnd_fault(struct env *e, struct tern_dma_desc d, uint64_t va,
		       uint32_t ctx, const char *what, uint32_t reason,
		       uint64_t fva, const uint8_t *dst, size_t n)
{
	uint8_t before[0x1000];
	char why[96];

	d.operand = va;
	memcpy(before, dst, n);
	snprintf(why, sizeof(why), "ctx %u %s VA 0x%llx (read)", ctx, what,
		 (unsigned long long)fva);
	CHECK(run_err(e, 0, d, TERN_ERR_MMU_FAULT, fva,
		      TERN_FAULT_INFO(ctx, 0, reason), why));
	CHECK(!memcmp(dst, before, n));
	return true;
}

/*
 * Through this chip's MMU: the operand's pages (three, discontiguous, not
 * aligned with the others') need READ, not WRITE; then its faults.
 */
static bool t_opnd_local_va(struct env *e)
{
	const uint64_t opages[3] = { HBMP(9), HBMP(5), HBMP(12) };
	const uint64_t lim = 1ull << TERN_VA_BITS;
	const size_t bytes = 0x2000;
	uint8_t *o = keep, *s = keep + bytes, *d0 = e->hbm + HBMP(4);
	struct tern_dma_desc d;

	ctx_setup(e, 1);
	map4k(e, 1, VA_SRC, HOSTP(0), R);
	map4k(e, 1, VA_SRC + 0x1000, HBMP(1), R | H);
	map4k(e, 1, VA_DST, HBMP(4), RW | H);
	map4k(e, 1, VA_DST + 0x1000, HOSTP(6), RW);
	map_pages(e, 1, VA_MISC, opages, 3, R | H);
	gen32((uint32_t *)(void *)o, (uint32_t *)(void *)s, bytes / 4, 23);
	memcpy(e->hbm + HBMP(9) + 0x400, o, 0xc00);
	memcpy(e->hbm + HBMP(5), o + 0xc00, 0x1000);
	memcpy(e->hbm + HBMP(12), o + 0x1c00, 0x400);
	memcpy(ram_at(e, HOSTP(0)), s, 0x1000);
	memcpy(e->hbm + HBMP(1), s + 0x1000, 0x1000);
	fill_pattern(d0, 0x1000, 24);
	fill_pattern(ram_at(e, HOSTP(6)), 0x1000, 25);
	ref_reduce3(SUM, want, o, s, bytes);
	d = with_opnd(mkdesc(TERN_DESC_OP_COPY, SUM, VA_SRC, VA_DST, bytes),
		      VA_MISC + 0x400);
	d.ctx = 1;
	CHECK(run_ok(e, d));
	CHECK(same(d0, want, 0x1000, 4));
	CHECK(same(ram_at(e, HOSTP(6)), want + 0x1000, 0x1000, 4));
	CHECK(!memcmp(e->hbm + HBMP(9) + 0x400, o, 0xc00));
	CHECK(!memcmp(e->hbm + HBMP(5), o + 0xc00, 0x1000));
	CHECK(!memcmp(e->hbm + HBMP(12), o + 0x1c00, 0x400));

	/* a host page, a page without READ, no page, past the VA space */
	map4k(e, 1, VA_MISC + 0x100000, HOSTP(8), R);
	map4k(e, 1, VA_MISC + 0x200000, HBMP(10), W | H);
	inval(e, 1);
	d.size = 0x1000;
	CHECK(opnd_fault(e, d, VA_MISC + 0x100000, 1, "operand",
			 TERN_FAULT_RANGE, VA_MISC + 0x100000, d0, 0x1000));
	CHECK(opnd_fault(e, d, VA_MISC + 0x200000, 1, "operand",
			 TERN_FAULT_PERMISSION, VA_MISC + 0x200000, d0,
			 0x1000));
	CHECK(opnd_fault(e, d, VA_MISC + 0x300000, 1, "operand",
			 TERN_FAULT_UNMAPPED, VA_MISC + 0x300000, d0, 0x1000));
	CHECK(opnd_fault(e, d, lim - 0x800, 1, "operand", TERN_FAULT_RANGE,
			 lim, d0, 0x1000));
	return true;
}

/* Through the peer's context: its pages, then its faults. */
static bool t_opnd_link_va(struct env *e)
{
	const uint64_t dpages[2] = { HBMP(7), HBMP(3) };
	const uint64_t opages[3] = { HBMP(11), HBMP(2), HBMP(13) };
	const size_t bytes = 0x1800;
	struct env *a, *b;
	struct tern_dma_desc d;
	uint8_t *o = keep, *d0;

	(void)e;
	CHECK(fabric_up("olva", 2, TERN_TOPOLOGY_RING, 0));
	a = &chips[0];
	b = &chips[1];
	d0 = b->hbm + HBMP(7) + 0x800;
	ctx_setup(b, 4);
	map_pages(b, 4, VA_DST, dpages, 2, RW | H);
	map_pages(b, 4, VA_MISC, opages, 3, R | H);
	gen32((uint32_t *)(void *)o, (uint32_t *)(void *)(a->hbm + SRC_HBM),
	      bytes / 4, 26);
	memcpy(b->hbm + HBMP(11) + 0xc00, o, 0x400);
	memcpy(b->hbm + HBMP(2), o + 0x400, 0x1000);
	memcpy(b->hbm + HBMP(13), o + 0x1400, 0x400);
	fill_pattern(b->hbm + HBMP(7), 0x1000, 27);
	fill_pattern(b->hbm + HBMP(3), 0x1000, 28);
	ref_reduce3(SUM, want, o, a->hbm + SRC_HBM, bytes);
	d = with_opnd(lcopy(1, 4, TERN_DESC_F_SRC_HBM | SUM, SRC_HBM,
			    VA_DST + 0x800, bytes), VA_MISC + 0xc00);
	CHECK(run_ok(a, d));
	CHECK(same(d0, want, 0x800, 4));
	CHECK(same(b->hbm + HBMP(3), want + 0x800, 0x1000, 4));
	CHECK(!memcmp(b->hbm + HBMP(11) + 0xc00, o, 0x400));
	CHECK(!memcmp(b->hbm + HBMP(2), o + 0x400, 0x1000));
	CHECK(!memcmp(b->hbm + HBMP(13), o + 0x1400, 0x400));
	CHECK_EQ(lrd64(a, 1, TERN_L_TX_BYTES_LO), bytes);

	/* a host page of the peer, a page without READ: nothing sent */
	map4k(b, 4, VA_MISC + 0x100000, HOSTP(8), R);
	map4k(b, 4, VA_MISC + 0x200000, HBMP(10), W | H);
	inval(b, 4);
	d.size = 0x800;
	CHECK(opnd_fault(a, d, VA_MISC + 0x100000, 4, "peer operand",
			 TERN_FAULT_RANGE, VA_MISC + 0x100000, d0, 0x800));
	CHECK(opnd_fault(a, d, VA_MISC + 0x200000, 4, "peer operand",
			 TERN_FAULT_PERMISSION, VA_MISC + 0x200000, d0,
			 0x800));
	CHECK_EQ(lrd64(a, 1, TERN_L_TX_BYTES_LO), bytes);
	CHECK(fabric_down());
	return true;
}

/* ---- rejected flags: nothing changes ---- */

static bool rej(struct env *e, struct tern_dma_desc d, const char *why)
{
	fill_pattern(e->hbm + SRC_HBM, 0x1000, 1);
	CHECK(run_err(e, 0, d, TERN_ERR_BAD_FLAGS, RING(0) +
		      (uint64_t)qrd(e, 0, TERN_Q_TAIL) * TERN_DESC_SIZE, 0,
		      why));
	CHECK(all_is(e->hbm + DST_HBM, 0x2000, 0));
	return true;
}

static bool t_rej_sum_max(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_COPY, PHYS | SUM | MAX, SRC_HBM,
			     DST_HBM, 64), "REDUCE_SUM and REDUCE_MAX");
}

static bool t_rej_bf16_alone(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_COPY, PHYS | BF, SRC_HBM, DST_HBM,
			     64), "BF16 without");
}

static bool t_rej_sgl(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY,
					TERN_DESC_F_SRC_HBM |
					TERN_DESC_F_DST_SGL | SUM, SRC_HBM,
					gpa(HOST_OFF), 64);

	d.dst_sgl_count = 1;
	put_sg(ram_at(e, gpa(HOST_OFF)), 0, DST_HBM, 64);
	return rej(e, d, "with an SG list");
}

static bool t_rej_nop(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_NOP, MAX, 0, 0, 0),
		   "reduce flags on a NOP");
}

static bool t_rej_size(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_COPY, PHYS | SUM, SRC_HBM, DST_HBM,
			     66), "must be multiples of 4");
}

static bool t_rej_src_align(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_COPY, PHYS | MAX, SRC_HBM + 2,
			     DST_HBM, 64), "src 0x100002");
}

static bool t_rej_dst_align(struct env *e)
{
	return rej(e, mkdesc(TERN_DESC_OP_COPY, PHYS | SUM | BF, SRC_HBM,
			     DST_HBM + 1, 64), "must be multiples of 2");
}

static bool t_rej_link_align(struct env *e)
{
	struct tern_dma_desc d = lcopy(0, 0, PHYS | SUM, SRC_HBM, DST_HBM, 6);

	(void)e;
	CHECK(fabric_up("rla", 2, TERN_TOPOLOGY_RING, 0));
	CHECK(run_err(&chips[0], 0, d, TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "size 0x6"));
	CHECK(all_is(chips[1].hbm + DST_HBM, 0x1000, 0));
	CHECK_EQ(lrd64(&chips[0], 0, TERN_L_TX_BYTES_LO), 0);
	CHECK(fabric_down());
	return true;
}

static bool t_rej_opnd_alone(struct env *e)
{
	CHECK(rej(e, with_opnd(mkdesc(TERN_DESC_OP_COPY, PHYS, SRC_HBM,
				      DST_HBM, 64), OPND_HBM),
		  "OPERAND without REDUCE_SUM or REDUCE_MAX"));
	return rej(e, with_opnd(mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0), 0),
		   "OPERAND without REDUCE_SUM or REDUCE_MAX");
}

static bool t_rej_opnd_align(struct env *e)
{
	CHECK(rej(e, with_opnd(mkdesc(TERN_DESC_OP_COPY, PHYS | SUM, SRC_HBM,
				      DST_HBM, 64), OPND_HBM + 2),
		  "operand 0x1800002"));
	return rej(e, with_opnd(mkdesc(TERN_DESC_OP_COPY, PHYS | MAX | BF,
				       SRC_HBM, DST_HBM, 64), OPND_HBM + 1),
		   "operand 0x1800001");
}

/* Outside the HBM or wrapping, also with a host destination. */
static bool t_rej_opnd_range(struct env *e)
{
	static const uint64_t bad[] = {
		HBM_SIZE - 0x80, HBM_SIZE, UINT64_MAX - 0xff,
	};
	char why[96];

	for (unsigned int k = 0; k < 4; k++) {
		uint64_t op = bad[k % 3];
		bool host = k == 3;
		struct tern_dma_desc d;

		d = with_opnd(mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_SRC_HBM |
				     (host ? 0 : TERN_DESC_F_DST_HBM) | SUM,
				     SRC_HBM, host ? gpa(HOST_OFF) : DST_HBM,
				     0x100), op);
		fill_pattern(e->hbm + SRC_HBM, 0x1000, 1);
		snprintf(why, sizeof(why), "operand HBM range 0x%llx+0x100 "
			 "outside the HBM", (unsigned long long)op);
		CHECK(run_err(e, 0, d, TERN_ERR_HBM_RANGE, op, 0, why));
		CHECK(all_is(e->hbm + DST_HBM, 0x2000, 0));
		CHECK(all_is(ram_at(e, gpa(HOST_OFF)), 0x1000, 0));
	}
	return true;
}

/*
 * The operand takes the place of the SG counts, not of the other checks:
 * an HBM fence outside the HBM is still refused before anything moves.
 */
static bool t_rej_opnd_fence(struct env *e)
{
	struct tern_dma_desc d = with_opnd(mkdesc(TERN_DESC_OP_COPY,
						  PHYS | SUM | TERN_DESC_F_FENCE |
						  TERN_DESC_F_FENCE_HBM,
						  SRC_HBM, DST_HBM, 64), OPND_HBM);

	d.fence_addr = HBM_SIZE;
	fill_pattern(e->hbm + SRC_HBM, 0x1000, 1);
	CHECK(run_err(e, 0, d, TERN_ERR_FENCE, HBM_SIZE, 0,
		      "outside the HBM"));
	CHECK(all_is(e->hbm + DST_HBM, 0x2000, 0));
	return true;
}

static bool t_rej_opnd_nop(struct env *e)
{
	return rej(e, with_opnd(mkdesc(TERN_DESC_OP_NOP, MAX, 0, 0, 0), 0),
		   "reduce flags on a NOP");
}

static bool t_rej_opnd_sgl(struct env *e)
{
	/* the operand's high word is where dst_sgl_count was: 1 */
	struct tern_dma_desc d = with_opnd(mkdesc(TERN_DESC_OP_COPY,
						  TERN_DESC_F_SRC_HBM |
						  TERN_DESC_F_DST_SGL | SUM,
						  SRC_HBM, gpa(HOST_OFF), 64),
					   1ull << 32);

	put_sg(ram_at(e, gpa(HOST_OFF)), 0, DST_HBM, 64);
	return rej(e, d, "with an SG list");
}

/* Over a link: no REDUCE flag, not aligned, past the peer's HBM. */
static bool t_rej_opnd_link(struct env *e)
{
	struct env *a;
	char why[96];

	(void)e;
	CHECK(fabric_up("rol", 2, TERN_TOPOLOGY_RING, 0));
	a = &chips[0];
	fill_pattern(a->hbm + SRC_HBM, 0x1000, 1);
	CHECK(run_err(a, 0, with_opnd(lcopy(0, 0, PHYS, SRC_HBM, DST_HBM,
					    0x100), OPND_HBM),
		      TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "OPERAND without REDUCE_SUM or REDUCE_MAX"));
	CHECK(run_err(a, 0, with_opnd(lcopy(0, 0, PHYS | SUM | BF, SRC_HBM,
					    DST_HBM, 0x100), OPND_HBM + 1),
		      TERN_ERR_BAD_FLAGS, RING(0) + TERN_DESC_SIZE, 0,
		      "operand 0x1800001"));
	snprintf(why, sizeof(why), "peer operand HBM range 0x%llx+0x100 "
		 "outside the HBM", (unsigned long long)HBM_SIZE - 0x80);
	CHECK(run_err(a, 0, with_opnd(lcopy(0, 0, PHYS | SUM, SRC_HBM,
					    DST_HBM, 0x100), HBM_SIZE - 0x80),
		      TERN_ERR_HBM_RANGE, HBM_SIZE - 0x80, 0, why));
	CHECK(all_is(chips[1].hbm + DST_HBM, 0x1000, 0));
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), 0);
	CHECK(fabric_down());
	return true;
}

static const struct test_case cases[] = {
	TEST("link reduce SUM fp32, over chunks", t_link_sum_f32),
	TEST("link reduce MAX fp32", t_link_max_f32),
	TEST("link reduce SUM bf16 (RNE ties)", t_link_sum_bf16),
	TEST("link reduce MAX bf16", t_link_max_bf16),
	TEST("link reduce through the peer's MMU", t_link_va),
	TEST("local COPY reduce, host and HBM both sides", t_local),
	TEST("local COPY reduce with overlapping ranges", t_local_overlap),
	TEST("local COPY reduce through the MMU", t_local_va),
	TEST("reject: SUM and MAX", t_rej_sum_max),
	TEST("reject: BF16 alone", t_rej_bf16_alone),
	TEST("reject: reduce with an SG list", t_rej_sgl),
	TEST("reject: reduce on a NOP", t_rej_nop),
	TEST("reject: size not a multiple of 4", t_rej_size),
	TEST("reject: src not aligned", t_rej_src_align),
	TEST("reject: dst not aligned (bf16)", t_rej_dst_align),
	TEST("reject: LINK_COPY reduce not aligned", t_rej_link_align),
	TEST("link reduce with an operand: SUM fp32, over chunks",
	     t_opnd_link_sum_f32),
	TEST("link reduce with an operand: MAX bf16", t_opnd_link_max_bf16),
	TEST("local COPY reduce with an operand, host and HBM both sides",
	     t_opnd_local),
	TEST("operand == dst: the plain reduce", t_opnd_is_dst),
	TEST("operand overlapping dst: the sequential loop", t_opnd_overlap),
	TEST("operand through the MMU, and its faults", t_opnd_local_va),
	TEST("operand through the peer's MMU, and its faults", t_opnd_link_va),
	TEST("reject: OPERAND without REDUCE", t_rej_opnd_alone),
	TEST("reject: operand not aligned", t_rej_opnd_align),
	TEST("reject: operand outside the HBM", t_rej_opnd_range),
	TEST("reject: OPERAND with an HBM fence outside the HBM",
	     t_rej_opnd_fence),
	TEST("reject: OPERAND with MAX on a NOP", t_rej_opnd_nop),
	TEST("reject: OPERAND with an SG list", t_rej_opnd_sgl),
	TEST("reject: LINK_COPY with an operand", t_rej_opnd_link),
};

int main(void)
{
	want = malloc(4 * NMAX);
	keep = malloc(4 * NMAX);
	if (!want || !keep)
		return 1;
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
