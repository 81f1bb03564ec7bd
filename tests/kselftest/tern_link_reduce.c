// SPDX-License-Identifier: MIT
/*
 * tern_link_reduce: reduce on arrival through the raw UAPI, bit-exact
 * against a CPU loop (SUM and MAX, fp32 and bf16).
 *
 * On any VM: local copies that reduce, and reduce with an operand (UAPI
 * 1.5, dst = op(operand, src) over several DMA pieces and an odd tail, the
 * operand and source unchanged, nothing written past the range; each copy
 * of a job with its own operand; the destination as operand is the plain
 * reduce). In a fabric (tests/vm/run-vm.sh fabric): the same over a link,
 * also with an operand in the peer's HBM; without a neighbour those cases
 * SKIP. (tern_link.c: topology and link copies; tern_link_errors.c: every
 * rejected reduce flag and operand.)
 */
#include "tern_link_test.h"

/* ---- reduce data: a CPU reference ---- */

static uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* fp32 to bf16, rounded to nearest even (no NaNs in the test data). */
static uint16_t bf16_of(float f)
{
	uint32_t u = f2u(f);

	u += 0x7fff + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

static float f_of_bf16(uint16_t b)
{
	return u2f((uint32_t)b << 16);
}

/* Non-zero, non-NaN values of both signs and varied exponents. */
static float test_value(uint64_t seed, uint64_t i)
{
	uint64_t w = tern_pattern_word(seed, i);
	float v = (float)((int64_t)(w % 400001) - 200000) / (float)(1u << (w >> 59));

	return v == 0.0f ? 0.75f : v;
}

static void fill_values(void *p, uint64_t n, int bf16, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (bf16)
			((uint16_t *)p)[i] = bf16_of(test_value(seed, i));
		else
			((float *)p)[i] = test_value(seed, i);
	}
}

/* dst[i] = op(dst[i], src[i]) as the chip defines it. */
static void reduce_ref(void *dst, const void *src, uint64_t n, int max, int bf16)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (bf16) {
			uint16_t *d = dst;
			const uint16_t *s = src;
			float a = f_of_bf16(d[i]), b = f_of_bf16(s[i]);

			if (max)
				d[i] = b > a ? s[i] : d[i];
			else
				d[i] = bf16_of(a + b);
		} else {
			float *d = dst;
			const float *s = src;

			if (max)
				d[i] = s[i] > d[i] ? s[i] : d[i];
			else
				d[i] = d[i] + s[i];
		}
	}
}

struct reduce_case {
	const char *name;
	uint32_t flags;
};

static const struct reduce_case reduce_cases[] = {
	{ "sum fp32", DRM_TERN_COPY_REDUCE_SUM },
	{ "max fp32", DRM_TERN_COPY_REDUCE_MAX },
	{ "sum bf16", DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_BF16 },
	{ "max bf16", DRM_TERN_COPY_REDUCE_MAX | DRM_TERN_COPY_BF16 },
};

/* Elements compared bit for bit; logs the first difference. */
static void expect_same_elems(struct __test_metadata *_metadata, const char *what,
			      const void *got, const void *want, uint64_t n, int bf16)
{
	uint64_t i, size = n * (bf16 ? 2 : 4);
	int64_t at = tern_first_diff(got, want, size);

	if (at < 0)
		return;
	i = (uint64_t)at / (bf16 ? 2 : 4);
	if (bf16)
		TH_LOG("%s: 16-bit word %llu is 0x%04x, want 0x%04x", what,
		       (unsigned long long)i, ((const uint16_t *)got)[i],
		       ((const uint16_t *)want)[i]);
	else
		TH_LOG("%s: 32-bit word %llu is 0x%08x, want 0x%08x", what,
		       (unsigned long long)i, ((const uint32_t *)got)[i],
		       ((const uint32_t *)want)[i]);
	EXPECT_EQ(-1, at);
}

/*
 * Reduce on a local COPY (host -> device, odd element count, offsets):
 * the chip's result is the CPU loop's, bit for bit.
 */
TEST_F(link, reduce_local)
{
	const uint64_t n = 4093, src_off = 8, dst_off = 12;
	uint8_t *src, *dst, *want;
	struct drm_tern_copy c;
	uint32_t hs, hd;
	unsigned int k;

	/* Reduce on arrival came with links, in register interface 1.2. */
	if ((self->info.hw_version & 0xffff) < 2 || !(self->info.caps & TERN_CAP_LINKS))
		SKIP(return, "the chip has no reduce on arrival (interface 1.2 with links)");
	src = tern_bo_new(_metadata, self->fd, BO_SIZE, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hd);
	want = malloc(BO_SIZE);
	ASSERT_NE(NULL, want);
	for (k = 0; k < ARRAY_SIZE(reduce_cases); k++) {
		int bf16 = !!(reduce_cases[k].flags & DRM_TERN_COPY_BF16);
		int max = !!(reduce_cases[k].flags & DRM_TERN_COPY_REDUCE_MAX);
		uint64_t size = n * (bf16 ? 2 : 4), seed = tern_seed();

		memset(dst, 0x5a, BO_SIZE);
		fill_values(src + src_off, n, bf16, seed);
		fill_values(dst + dst_off, n, bf16, seed ^ 0x1234);
		memcpy(want, dst, BO_SIZE);
		reduce_ref(want + dst_off, src + src_off, n, max, bf16);

		tern_copy_set(&c, hd, dst_off, hs, src_off, size);
		c.flags = reduce_cases[k].flags;
		ASSERT_EQ(0, tern_submit(self->fd, 0, &c, 1, self->tl, self->point + 1));
		tern_wait_ok(_metadata, self->fd, self->tl, ++self->point);
		/* The whole buffer: bytes around the range are untouched. */
		expect_same_elems(_metadata, reduce_cases[k].name, dst, want,
				  BO_SIZE / (bf16 ? 2 : 4), bf16);
	}
	free(want);
}

/*
 * Reduce with an operand (UAPI 1.5) came in register interface 1.6, on
 * chips with reduce on arrival.
 */
#define NEED_REDUCE_OPERAND() do {						\
	if (!(self->info.caps & TERN_CAP_LINKS))				\
		SKIP(return, "the chip has no reduce on arrival (TERN_CAP_LINKS)");	\
	NEED_OPERAND();								\
} while (0)

/*
 * What a reduce with an operand leaves in a buffer that held @dst: @dst
 * but for [dst_off, dst_off + n elements) = op(operand, src there).
 */
static void operand_ref(void *want, const void *dst, const void *operand, uint64_t dst_off,
			const void *src, uint64_t n, uint64_t buf_size, int max, int bf16)
{
	memcpy(want, dst, buf_size);
	memcpy((uint8_t *)want + dst_off, (const uint8_t *)operand + dst_off, n * (bf16 ? 2 : 4));
	reduce_ref((uint8_t *)want + dst_off, src, n, max, bf16);
}

/* The buffers of operand_cases(): mapped, with their handles, @size bytes each. */
struct operand_bufs {
	uint8_t *a, *s, *d;
	uint32_t ha, hs, hd;
	uint64_t size;
};

/*
 * D = op(A, S) at @dst_off (S read at @src_off) for every reduce case,
 * locally or, with @link, from this chip's S to the neighbour's A and D.
 * Whole buffers of values, so an operand read at another offset differs;
 * D starts as 0x7f7f7f7f, a large finite fp32 and bf16, so a result that
 * read D instead of A differs. A and S must stay as they were, and nothing
 * of D outside the range may move.
 */
static void operand_cases(struct __test_metadata *_metadata, FIXTURE_DATA(link) *self,
			  bool link, struct operand_bufs b, uint64_t size, uint64_t src_off,
			  uint64_t dst_off, uint64_t seed)
{
	uint8_t *want = malloc(b.size), *a0 = malloc(b.size), *s0 = malloc(b.size);
	struct drm_tern_copy c;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, a0);
	ASSERT_NE(NULL, s0);
	for (unsigned int k = 0; k < ARRAY_SIZE(reduce_cases); k++) {
		int bf16 = !!(reduce_cases[k].flags & DRM_TERN_COPY_BF16);
		int max = !!(reduce_cases[k].flags & DRM_TERN_COPY_REDUCE_MAX);
		uint64_t esz = bf16 ? 2 : 4, n = size / esz;

		fill_values(b.a, b.size / esz, bf16, seed + 0x50 + k);
		fill_values(b.s, b.size / esz, bf16, seed + k);
		memset(b.d, 0x7f, b.size);
		memcpy(a0, b.a, b.size);
		memcpy(s0, b.s, b.size);
		operand_ref(want, b.d, a0, dst_off, s0 + src_off, n, b.size, max, bf16);

		tern_copy_set(&c, b.hd, dst_off, b.hs, src_off, size);
		c.flags = reduce_cases[k].flags | DRM_TERN_COPY_OPERAND |
			  (link ? DRM_TERN_COPY_LINK : 0);
		c.operand_handle = b.ha;
		if (link) {
			ASSERT_NE(0, link_job(_metadata, self, &c, 1));
		} else {
			ASSERT_EQ(0, tern_submit(self->fd, 0, &c, 1, self->tl, ++self->point));
		}
		tern_wait_ok(_metadata, self->fd, self->tl, self->point);
		/* The whole buffer: the bytes just past the range are still 0x7f. */
		expect_same_elems(_metadata, reduce_cases[k].name, b.d, want, b.size / esz, bf16);
		EXPECT_EQ(-1, tern_first_diff(b.a, a0, b.size))
			TH_LOG("%s: the operand changed at byte %lld", reduce_cases[k].name,
			       (long long)tern_first_diff(b.a, a0, b.size));
		EXPECT_EQ(-1, tern_first_diff(b.s, s0, b.size))
			TH_LOG("%s: the source changed at byte %lld", reduce_cases[k].name,
			       (long long)tern_first_diff(b.s, s0, b.size));
	}
	free(s0);
	free(a0);
	free(want);
}

/*
 * D = op(A, S), all device buffers, over three 1 MiB DMA pieces and more
 * with an odd tail, at a source offset that is not the destination's (the
 * operand is at the destination's). D starts as 0x7f7f7f7f, a large
 * finite fp32 and bf16: a result that read D instead of A differs. A and
 * S stay as they were, and nothing of D outside the range moves. (4 MiB
 * buffers filled and checked by the CPU: slow under TCG.)
 */
TEST_F_TIMEOUT(link, reduce_operand_local, 120)
{
	const uint64_t size = (3 << 20) + 4096 + 12, src_off = 20, dst_off = 4096 + 8;
	uint8_t *a, *s, *d;
	uint32_t ha, hs, hd;

	NEED_REDUCE_OPERAND();
	a = tern_bo_new(_metadata, self->fd, BIG, DRM_TERN_BO_DEVICE, &ha);
	s = tern_bo_new(_metadata, self->fd, BIG, DRM_TERN_BO_DEVICE, &hs);
	d = tern_bo_new(_metadata, self->fd, BIG, DRM_TERN_BO_DEVICE, &hd);
	operand_cases(_metadata, self, false, (struct operand_bufs){ a, s, d, ha, hs, hd, BIG },
		      size, src_off, dst_off, 0x50);
}

#define OPERAND_COPIES	16

/*
 * One job of copies that each have three buffers of their own (the job
 * holds three mappings per copy) and their own reduce: every destination
 * gets its own operand. Odd copies write a host buffer: the destination is
 * only written, wherever it is.
 */
TEST_F(link, reduce_operand_per_copy)
{
	const uint64_t size = (16 << 10) + 4, off = 64;
	uint8_t *a[OPERAND_COPIES], *s[OPERAND_COPIES], *d[OPERAND_COPIES];
	uint32_t ha[OPERAND_COPIES], hs[OPERAND_COPIES], hd[OPERAND_COPIES];
	struct drm_tern_copy c[OPERAND_COPIES];
	uint8_t *want, *d0, *ra, *rs;
	unsigned int i;

	NEED_REDUCE_OPERAND();
	want = malloc(BO_SIZE);
	d0 = malloc(BO_SIZE);
	ra = malloc(BO_SIZE);
	rs = malloc(BO_SIZE);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, d0);
	ASSERT_NE(NULL, ra);
	ASSERT_NE(NULL, rs);
	memset(d0, 0x7f, BO_SIZE);
	for (i = 0; i < OPERAND_COPIES; i++) {
		uint32_t flags = reduce_cases[i % ARRAY_SIZE(reduce_cases)].flags;
		uint64_t esz = flags & DRM_TERN_COPY_BF16 ? 2 : 4;

		a[i] = tern_bo_new(_metadata, self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &ha[i]);
		s[i] = tern_bo_new(_metadata, self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hs[i]);
		d[i] = tern_bo_new(_metadata, self->fd, BO_SIZE,
				   i & 1 ? DRM_TERN_BO_HOST : DRM_TERN_BO_DEVICE, &hd[i]);
		fill_values(a[i], BO_SIZE / esz, esz == 2, 0x1000 + i);
		fill_values(s[i], BO_SIZE / esz, esz == 2, 0x2000 + i);
		memcpy(d[i], d0, BO_SIZE);
		tern_copy_set(&c[i], hd[i], off, hs[i], off + 8, size);
		c[i].flags = flags | DRM_TERN_COPY_OPERAND;
		c[i].operand_handle = ha[i];
	}
	ASSERT_EQ(0, tern_submit(self->fd, 0, c, OPERAND_COPIES, self->tl, self->point + 1));
	tern_wait_ok(_metadata, self->fd, self->tl, ++self->point);
	for (i = 0; i < OPERAND_COPIES; i++) {
		const struct reduce_case *rc = &reduce_cases[i % ARRAY_SIZE(reduce_cases)];
		int bf16 = !!(rc->flags & DRM_TERN_COPY_BF16);
		int max = !!(rc->flags & DRM_TERN_COPY_REDUCE_MAX);
		uint64_t esz = bf16 ? 2 : 4;
		char what[64];

		/* The same values again, from their seeds. */
		fill_values(ra, BO_SIZE / esz, bf16, 0x1000 + i);
		fill_values(rs, BO_SIZE / esz, bf16, 0x2000 + i);
		operand_ref(want, d0, ra, off, rs + off + 8, size / esz, BO_SIZE, max, bf16);
		snprintf(what, sizeof(what), "copy %u (%s)", i, rc->name);
		expect_same_elems(_metadata, what, d[i], want, BO_SIZE / esz, bf16);
		EXPECT_EQ(-1, tern_first_diff(a[i], ra, BO_SIZE))
			TH_LOG("%s: the operand changed", what);
	}
	free(rs);
	free(ra);
	free(d0);
	free(want);
}

/*
 * The destination as its own operand: the chip reads element i of the
 * operand before it writes element i of the destination, so the result is
 * the plain reduce, bit for bit, over several DMA pieces.
 */
TEST_F(link, reduce_operand_is_destination)
{
	const uint64_t size = (1 << 20) + 4096 + 12, src_off = 4, dst_off = 40;
	const uint64_t buf = 2 << 20;
	uint8_t *s, *d, *d2, *want;
	struct drm_tern_copy c[2];
	uint32_t hs, hd, hd2;
	unsigned int k;

	NEED_REDUCE_OPERAND();
	s = tern_bo_new(_metadata, self->fd, buf, DRM_TERN_BO_DEVICE, &hs);
	d = tern_bo_new(_metadata, self->fd, buf, DRM_TERN_BO_DEVICE, &hd);
	d2 = tern_bo_new(_metadata, self->fd, buf, DRM_TERN_BO_DEVICE, &hd2);
	want = malloc(buf);
	ASSERT_NE(NULL, want);
	for (k = 0; k < ARRAY_SIZE(reduce_cases); k++) {
		int bf16 = !!(reduce_cases[k].flags & DRM_TERN_COPY_BF16);
		int max = !!(reduce_cases[k].flags & DRM_TERN_COPY_REDUCE_MAX);
		uint64_t esz = bf16 ? 2 : 4, n = size / esz;

		fill_values(s, buf / esz, bf16, 0x300 + k);
		fill_values(d, buf / esz, bf16, 0x400 + k);
		memcpy(d2, d, buf);
		memcpy(want, d, buf);
		reduce_ref(want + dst_off, s + src_off, n, max, bf16);

		/* The same reduce twice in one job: with D as operand, and plain into D2. */
		tern_copy_set(&c[0], hd, dst_off, hs, src_off, size);
		c[0].flags = reduce_cases[k].flags | DRM_TERN_COPY_OPERAND;
		c[0].operand_handle = hd;
		tern_copy_set(&c[1], hd2, dst_off, hs, src_off, size);
		c[1].flags = reduce_cases[k].flags;
		ASSERT_EQ(0, tern_submit(self->fd, 0, c, 2, self->tl, self->point + 1));
		tern_wait_ok(_metadata, self->fd, self->tl, ++self->point);
		expect_same_elems(_metadata, reduce_cases[k].name, d, want, buf / esz, bf16);
		expect_same_elems(_metadata, reduce_cases[k].name, d, d2, buf / esz, bf16);
	}
	free(want);
}

/* ---- in a fabric: reduce over a link ---- */

TEST_F(link, reduce_over_link)
{
	const uint64_t n = 20011, src_off = 4, dst_off = 64;
	uint8_t *src, *peer, *want;
	struct drm_tern_copy c;
	uint32_t hs, hp;
	unsigned int k;

	NEED_NEIGHBOUR();
	src = tern_bo_new(_metadata, self->fd, 256 << 10, DRM_TERN_BO_HOST, &hs);
	peer = tern_bo_new(_metadata, self->peer_fd, 256 << 10, DRM_TERN_BO_DEVICE, &hp);
	want = malloc(256 << 10);
	ASSERT_NE(NULL, want);
	for (k = 0; k < ARRAY_SIZE(reduce_cases); k++) {
		int bf16 = !!(reduce_cases[k].flags & DRM_TERN_COPY_BF16);
		int max = !!(reduce_cases[k].flags & DRM_TERN_COPY_REDUCE_MAX);
		uint64_t size = n * (bf16 ? 2 : 4), seed = tern_seed();

		memset(peer, 0xa5, 256 << 10);
		fill_values(src + src_off, n, bf16, seed);
		fill_values(peer + dst_off, n, bf16, seed + 99);
		memcpy(want, peer, 256 << 10);
		reduce_ref(want + dst_off, src + src_off, n, max, bf16);

		tern_copy_set(&c, hp, dst_off, hs, src_off, size);
		c.flags = DRM_TERN_COPY_LINK | reduce_cases[k].flags;
		ASSERT_NE(0, link_job(_metadata, self, &c, 1));
		tern_wait_ok(_metadata, self->fd, self->tl, self->point);
		expect_same_elems(_metadata, reduce_cases[k].name, peer, want,
				  (256 << 10) / (bf16 ? 2 : 4), bf16);
	}
	free(want);
}

/*
 * A link copy with an operand: the neighbour's D = op(the neighbour's A,
 * this chip's S), over two DMA pieces and an odd tail. D starts as
 * 0x7f7f7f7f; A and S stay as they were, nothing of D outside the range
 * moves.
 */
TEST_F(link, reduce_operand_over_link)
{
	const uint64_t size = (1 << 20) + 4096 + 12, src_off = 12, dst_off = 4096 + 16;
	const uint64_t buf = 2 << 20;
	uint8_t *a, *s, *d;
	uint32_t ha, hs, hd;

	NEED_REDUCE_OPERAND();
	NEED_NEIGHBOUR();
	s = tern_bo_new(_metadata, self->fd, buf, DRM_TERN_BO_DEVICE, &hs);
	a = tern_bo_new(_metadata, self->peer_fd, buf, DRM_TERN_BO_DEVICE, &ha);
	d = tern_bo_new(_metadata, self->peer_fd, buf, DRM_TERN_BO_DEVICE, &hd);
	operand_cases(_metadata, self, true, (struct operand_bufs){ a, s, d, ha, hs, hd, buf },
		      size, src_off, dst_off, 0x600);
}

TEST_HARNESS_MAIN
