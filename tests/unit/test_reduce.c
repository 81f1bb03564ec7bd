// SPDX-License-Identifier: MIT
/*
 * tern model: reduce on arrival. LINK_COPY and COPY (without SG lists)
 * with REDUCE_SUM / REDUCE_MAX, fp32 and bf16, bit for bit against a CPU
 * loop (NaNs, infinities, signed zeros, subnormals, rounding ties), in
 * every memory combination, through the MMU, over chunk boundaries and
 * with overlapping ranges; and every rejected flag combination.
 */
#include "link_util.h"
#include "tern_dtype.h"

#include <stdlib.h>
#include <string.h>

#define SRC_HBM		0x100000u
#define DST_HBM		0x800000u
#define PHYS		(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM)
#define SUM		TERN_DESC_F_REDUCE_SUM
#define MAX		TERN_DESC_F_REDUCE_MAX
#define BF		TERN_DESC_F_BF16
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

/* dst = op(dst, src) element by element, in address order. */
static void ref_reduce(uint32_t flags, uint8_t *dst, const uint8_t *src,
		       size_t bytes)
{
	if (flags & BF) {
		for (size_t i = 0; i < bytes; i += 2) {
			uint16_t d, s;

			memcpy(&d, dst + i, 2);
			memcpy(&s, src + i, 2);
			d = ref16(flags, d, s);
			memcpy(dst + i, &d, 2);
		}
		return;
	}
	for (size_t i = 0; i < bytes; i += 4) {
		uint32_t d, s;

		memcpy(&d, dst + i, 4);
		memcpy(&s, src + i, 4);
		d = ref32(flags, d, s);
		memcpy(dst + i, &d, 4);
	}
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

static uint8_t *want;

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
};

int main(void)
{
	want = malloc(4 * NMAX);
	if (!want)
		return 1;
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
