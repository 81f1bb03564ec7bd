// SPDX-License-Identifier: MIT
/*
 * tern model: ring processing and data movement (host<->HBM, HBM<->HBM,
 * host<->host, SG lists), fences, completion interrupts, several queues on
 * several engines, and queue disable / device reset with work in flight.
 */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RAM layout (offsets into the test RAM) */
#define RING_OFF	0x000000u	/* 16 rings of up to 64 KiB */
#define FENCE_OFF	0x100000u	/* fence slots */
#define SGL_OFF		0x110000u	/* SG lists */
#define SRC_OFF		0x200000u
#define DST_OFF		0x2000000u	/* 32 MiB */
#define RING(q)		gpa(RING_OFF + (q) * 0x10000u)
#define FENCE(i)	gpa(FENCE_OFF + (i) * 8u)

static uint64_t fence_at(struct env *e, unsigned int i)
{
	return get64(e->ram + FENCE_OFF + i * 8u);
}

/* Run one COPY on queue 0 and expect success. */
static bool copy1(struct env *e, uint32_t flags, uint64_t src, uint64_t dst,
		  uint64_t size, uint32_t src_n, uint32_t dst_n)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY,
					flags | TERN_DESC_F_FENCE, src, dst,
					size);
	uint64_t done = qrd(e, 0, TERN_Q_COMPLETED_LO);

	if (qrd(e, 0, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, 0, RING(0), 64, false),
			 TERN_Q_STATE_ACTIVE);
	d.src_sgl_count = src_n;
	d.dst_sgl_count = dst_n;
	d.fence_addr = FENCE(0);
	d.fence_value = done + 0x1000;
	CHECK_EQ(q_run1(e, 0, RING(0), 64, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), done + 1);
	CHECK_EQ(fence_at(e, 0), done + 0x1000);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

static bool t_nop_wrap(struct env *e)
{
	const uint32_t size = 4;
	uint32_t tail = 0;

	CHECK_EQ(q_enable(e, 0, RING(0), size, false), TERN_Q_STATE_ACTIVE);
	/* 10 descriptors through a 4-entry ring, at most 3 outstanding */
	for (uint32_t i = 0; i < 10; i++) {
		struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP,
						TERN_DESC_F_FENCE, 0, 0, 0);

		d.fence_addr = FENCE(i);
		d.fence_value = 0xabc00000ull + i;
		put_desc(e, false, RING(0), tail, &d);
		tail = (tail + 1) % size;
		if (i % 3 == 2 || i == 9) {
			doorbell(e, 0, tail);
			CHECK_EQ(q_wait(e, 0), TERN_Q_STATE_ACTIVE);
		}
	}
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 10 % size);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 10 % size);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 10);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_HI), 0);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ(fence_at(e, i), 0xabc00000ull + i);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 0);
	CHECK_EQ(log_count(e), 0);
	return true;
}

static bool t_fences(struct env *e)
{
	struct {
		bool hbm;
		uint64_t addr;
	} f[] = {
		{ false, FENCE(1) }, { false, FENCE(2) + 3 },
		{ false, gpa(RAM_SIZE - 8) }, { true, 4096 },
		{ true, 8193 }, { true, HBM_SIZE - 8 },
	};

	CHECK_EQ(q_enable(e, 0, RING(0), 16, false), TERN_Q_STATE_ACTIVE);
	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP,
						TERN_DESC_F_FENCE, 0, 0, 0);
		const uint8_t *p;

		if (f[i].hbm)
			d.flags |= TERN_DESC_F_FENCE_HBM;
		d.fence_addr = f[i].addr;
		d.fence_value = 0x0102030405060708ull * (i + 1);
		CHECK_EQ(q_run1(e, 0, RING(0), 16, &d), TERN_Q_STATE_ACTIVE);
		p = f[i].hbm ? e->hbm + f[i].addr
			     : e->ram + (f[i].addr - RAM_BASE);
		CHECK_EQ(get64(p), d.fence_value);
		/* little endian in memory */
		CHECK_EQ(p[0], (uint8_t)d.fence_value);
	}
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 6);
	return true;
}

static bool t_irq_qdone(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_IRQ,
					0, 0, 0);

	/* 40 queues: queue 3 in QDONE_LO, queue 35 in QDONE_HI */
	CHECK_EQ(q_enable(e, 3, RING(3), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_enable(e, 35, RING(4), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, 3, RING(3), 8, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(3)), 1);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 1u << 3);
	CHECK_EQ(rd(e, TERN_REG_QDONE_HI), 0);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), TERN_INT_QUEUE);
	CHECK_EQ(q_run1(e, 35, RING(4), 8, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(35)), 1);
	CHECK_EQ(rd(e, TERN_REG_QDONE_HI), 1u << 3);

	/* no F_IRQ: no vector, no QDONE */
	wr(e, TERN_REG_QDONE_LO, 1u << 3);
	d.flags = 0;
	CHECK_EQ(q_run1(e, 3, RING(3), 8, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(3)), 1);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 0);

	/* W1C: other bits and INT_STATUS.QUEUE writes leave it alone */
	wr(e, TERN_REG_QDONE_HI, 1u << 4);
	wr(e, TERN_REG_INT_STATUS, TERN_INT_QUEUE);
	CHECK_EQ(rd(e, TERN_REG_QDONE_HI), 1u << 3);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), TERN_INT_QUEUE);
	wr(e, TERN_REG_QDONE_HI, 1u << 3);
	CHECK_EQ(rd(e, TERN_REG_QDONE_HI), 0);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), 0);
	for (unsigned int v = 0; v < NVEC; v++)
		if (v != TERN_MSIX_VEC_QUEUE(3) && v != TERN_MSIX_VEC_QUEUE(35))
			CHECK_EQ(irq_count(e, v), 0);
	return true;
}

static bool t_int_mask_queue(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_IRQ,
					0, 0, 0);

	CHECK_EQ(q_enable(e, 2, RING(2), 8, false), TERN_Q_STATE_ACTIVE);
	wr(e, TERN_REG_INT_MASK, TERN_INT_QUEUE);
	CHECK_EQ(q_run1(e, 2, RING(2), 8, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 1u << 2);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(2)), 0);
	wr(e, TERN_REG_INT_MASK, 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(2)), 1);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 0);
	return true;
}

static bool t_ring_in_hbm(struct env *e)
{
	const uint64_t ring = HBM_SIZE - 16 * TERN_DESC_SIZE;
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_DST_HBM |
					TERN_DESC_F_FENCE |
					TERN_DESC_F_FENCE_HBM, gpa(SRC_OFF),
					0x10000, 1000);

	fill_pattern(e->ram + SRC_OFF, 1000, 1);
	CHECK_EQ(q_enable(e, 1, ring, 16, true), TERN_Q_STATE_ACTIVE);
	d.fence_addr = 0x20000;
	d.fence_value = 77;
	for (uint32_t i = 0; i < 20; i++) {	/* wraps the 16 entries */
		d.fence_value = 77 + i;
		put_desc(e, true, ring, i % 16, &d);
		doorbell(e, 1, (i + 1) % 16);
		CHECK_EQ(q_wait(e, 1), TERN_Q_STATE_ACTIVE);
		CHECK_EQ(get64(e->hbm + 0x20000), 77 + i);
	}
	CHECK(!memcmp(e->hbm + 0x10000, e->ram + SRC_OFF, 1000));
	CHECK_EQ(qrd(e, 1, TERN_Q_COMPLETED_LO), 20);
	return true;
}

static bool t_copy_h2d(struct env *e)
{
	const uint64_t n = 12345, doff = 7;

	fill_pattern(e->ram + SRC_OFF + 3, n, 2);
	memset(e->hbm, 0xee, 2 * n);
	CHECK(copy1(e, TERN_DESC_F_DST_HBM, gpa(SRC_OFF + 3), doff, n, 0, 0));
	CHECK(!memcmp(e->hbm + doff, e->ram + SRC_OFF + 3, n));
	for (uint64_t i = 0; i < doff; i++)
		CHECK_EQ(e->hbm[i], 0xee);
	CHECK_EQ(e->hbm[doff + n], 0xee);
	return true;
}

static bool t_copy_d2h(struct env *e)
{
	const uint64_t n = 65536 + 13, soff = 0x12345;

	fill_pattern(e->hbm + soff, n, 3);
	memset(e->ram + DST_OFF, 0xee, n + 16);
	CHECK(copy1(e, TERN_DESC_F_SRC_HBM, soff, gpa(DST_OFF + 1), n, 0, 0));
	CHECK(!memcmp(e->ram + DST_OFF + 1, e->hbm + soff, n));
	CHECK_EQ(e->ram[DST_OFF], 0xee);
	CHECK_EQ(e->ram[DST_OFF + 1 + n], 0xee);
	return true;
}

static bool t_copy_d2d(struct env *e)
{
	const uint64_t n = 3 * TERN_DMA_CHUNK + 5;
	const uint32_t f = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM;
	uint8_t *ref = malloc(n + 4096);

	CHECK(ref);
	/* disjoint */
	fill_pattern(e->hbm + 100, n, 4);
	CHECK(copy1(e, f, 100, 0x1000001, n, 0, 0));
	CHECK(!memcmp(e->hbm + 0x1000001, e->hbm + 100, n));
	/* overlapping, dst above src: must copy backwards */
	fill_pattern(e->hbm, n + 4096, 5);
	memcpy(ref, e->hbm, n);
	CHECK(copy1(e, f, 0, 4095, n, 0, 0));
	CHECK(!memcmp(e->hbm + 4095, ref, n));
	/* overlapping, dst below src */
	fill_pattern(e->hbm + 4096, n, 6);
	memcpy(ref, e->hbm + 4096, n);
	CHECK(copy1(e, f, 4096, 1, n, 0, 0));
	CHECK(!memcmp(e->hbm + 1, ref, n));
	free(ref);
	return true;
}

static bool t_copy_h2h(struct env *e)
{
	const uint64_t n = 3 * TERN_DMA_CHUNK + 777;

	fill_pattern(e->ram + SRC_OFF + 5, n, 7);
	CHECK(copy1(e, 0, gpa(SRC_OFF + 5), gpa(DST_OFF + 11), n, 0, 0));
	CHECK(!memcmp(e->ram + DST_OFF + 11, e->ram + SRC_OFF + 5, n));
	return true;
}

static bool t_roundtrip_big(struct env *e)
{
	const uint64_t n = 5 * TERN_DMA_CHUNK + 3;

	fill_pattern(e->ram + SRC_OFF, n, 8);
	CHECK(copy1(e, TERN_DESC_F_DST_HBM, gpa(SRC_OFF), 0x100003, n, 0, 0));
	CHECK(copy1(e, TERN_DESC_F_SRC_HBM, 0x100003, gpa(DST_OFF), n, 0, 0));
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, n));
	return true;
}

/* Segment sizes that are odd, tiny, and cross the chunk size. */
static const uint64_t seg[] = {
	1, 4095, 7, 65539, 3, TERN_DMA_CHUNK + 17, 100, 1,
};
#define NSEG	(sizeof(seg) / sizeof(seg[0]))

static uint64_t seg_total(void)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < NSEG; i++)
		t += seg[i];
	return t;
}

/* Scattered host segments: segment i at SRC/DST base + i * 2 MiB + i. */
static uint64_t seg_off(uint64_t base, unsigned int i)
{
	return base + (uint64_t)i * (2u << 20) + i;
}

static bool t_sgl_src_host(struct env *e)
{
	uint64_t total = seg_total(), at = 0;
	uint8_t *list = e->ram + SGL_OFF;

	for (unsigned int i = 0; i < NSEG; i++) {
		fill_pattern(e->ram + seg_off(SRC_OFF, i), seg[i], 10 + i);
		put_sg(list, i, gpa(seg_off(SRC_OFF, i)), seg[i]);
	}
	CHECK(copy1(e, TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_HBM,
		    gpa(SGL_OFF), 33, total, NSEG, 0));
	for (unsigned int i = 0; i < NSEG; i++) {
		CHECK(!memcmp(e->hbm + 33 + at, e->ram + seg_off(SRC_OFF, i),
			      seg[i]));
		at += seg[i];
	}
	return true;
}

static bool t_sgl_dst_host(struct env *e)
{
	uint64_t total = seg_total(), at = 0;
	uint8_t *list = e->ram + SGL_OFF + 8;	/* unaligned list */

	fill_pattern(e->hbm + 5, total, 20);
	for (unsigned int i = 0; i < NSEG; i++)
		put_sg(list, i, gpa(seg_off(DST_OFF / 2, i)), seg[i]);
	CHECK(copy1(e, TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_SGL, 5,
		    gpa(SGL_OFF + 8), total, 0, NSEG));
	for (unsigned int i = 0; i < NSEG; i++) {
		CHECK(!memcmp(e->ram + seg_off(DST_OFF / 2, i),
			      e->hbm + 5 + at, seg[i]));
		at += seg[i];
	}
	return true;
}

static bool t_sgl_both(struct env *e)
{
	/* src: HBM entries; dst: host entries; both lists longer than size */
	static const uint64_t s_len[] = { 10, 1, 5000, 300, 4 };
	static const uint64_t d_len[] = { 3, 7000, 1, 2, 9 };
	const uint64_t size = 10 + 1 + 5000 + 280;	/* ends mid-entry */
	uint8_t *sl = e->ram + SGL_OFF, *dl = e->ram + SGL_OFF + 0x1000;
	uint8_t *want = calloc(1, size), *got = calloc(1, size);
	uint64_t at = 0;

	CHECK(want && got);
	for (unsigned int i = 0; i < 5; i++) {
		uint64_t off = 0x300000 + i * 0x10001;

		fill_pattern(e->hbm + off, s_len[i], 30 + i);
		put_sg(sl, i, off, s_len[i]);
		for (uint64_t j = 0; j < s_len[i] && at < size; j++)
			want[at++] = e->hbm[off + j];
	}
	for (unsigned int i = 0; i < 5; i++)
		put_sg(dl, i, gpa(DST_OFF + i * 0x10003), d_len[i]);
	CHECK(copy1(e, TERN_DESC_F_SRC_SGL | TERN_DESC_F_SRC_HBM |
		    TERN_DESC_F_DST_SGL, gpa(SGL_OFF), gpa(SGL_OFF + 0x1000),
		    size, 5, 5));
	at = 0;
	for (unsigned int i = 0; i < 5 && at < size; i++) {
		uint64_t n = d_len[i] < size - at ? d_len[i] : size - at;

		memcpy(got + at, e->ram + DST_OFF + i * 0x10003, n);
		at += n;
	}
	CHECK(!memcmp(got, want, size));
	free(want);
	free(got);
	return true;
}

static bool t_sgl_h2h(struct env *e)
{
	uint64_t total = seg_total(), at = 0;
	uint8_t *sl = e->ram + SGL_OFF, *dl = e->ram + SGL_OFF + 0x1000;

	/* src: contiguous memory cut into odd entries; dst: two entries */
	fill_pattern(e->ram + SRC_OFF, total, 40);
	for (unsigned int i = 0; i < NSEG; i++) {
		put_sg(sl, i, gpa(SRC_OFF + at), seg[i]);
		at += seg[i];
	}
	put_sg(dl, 0, gpa(DST_OFF + 1), total / 2);
	put_sg(dl, 1, gpa(DST_OFF + 0x800000), total - total / 2);
	CHECK(copy1(e, TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL,
		    gpa(SGL_OFF), gpa(SGL_OFF + 0x1000), total, NSEG, 2));
	CHECK(!memcmp(e->ram + DST_OFF + 1, e->ram + SRC_OFF, total / 2));
	CHECK(!memcmp(e->ram + DST_OFF + 0x800000,
		      e->ram + SRC_OFF + total / 2, total - total / 2));
	return true;
}

static bool t_size_zero(struct env *e)
{
	/* nothing is accessed: host addresses outside RAM are fine */
	CHECK(copy1(e, 0, 0x10, 0x20, 0, 0, 0));
	CHECK(copy1(e, TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM, HBM_SIZE,
		    HBM_SIZE, 0, 0, 0));
	/* an SG list is still read and checked */
	put_sg(e->ram + SGL_OFF, 0, gpa(DST_OFF), 16);
	CHECK(copy1(e, TERN_DESC_F_DST_SGL, 0x10, gpa(SGL_OFF), 0, 0, 1));
	return true;
}

static bool t_engine_mapping(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);

	/* 5 queues on 2 engines: queue q is served by engine q % 2 */
	for (unsigned int q = 0; q < 5; q++) {
		CHECK_EQ(q_enable(e, q, RING(q), 4, false),
			 TERN_Q_STATE_ACTIVE);
		CHECK_EQ(q_run1(e, q, RING(q), 4, &d), TERN_Q_STATE_ACTIVE);
	}
	for (unsigned int q = 0; q < 5; q++)
		CHECK_EQ(e->engine_of_queue[q], q % 2);
	return true;
}

static bool t_parallel(struct env *e)
{
	const unsigned int nq = 8, per = 32;
	const uint64_t blk = 64 * 1024;
	const uint32_t rsize = 128;

	/* every queue: per H2D copies then per D2H copies, all in flight */
	fill_pattern(e->ram + SRC_OFF, nq * per * blk, 50);
	memset(e->ram + DST_OFF, 0, nq * per * blk);
	for (unsigned int q = 0; q < nq; q++) {
		CHECK_EQ(q_enable(e, q, RING(q), rsize, false),
			 TERN_Q_STATE_ACTIVE);
		for (unsigned int i = 0; i < 2 * per; i++) {
			unsigned int k = q * per + i % per;
			uint64_t hbm = 0x400000 + k * blk;
			struct tern_dma_desc d;

			if (i < per)
				d = mkdesc(TERN_DESC_OP_COPY,
					   TERN_DESC_F_DST_HBM, gpa(SRC_OFF +
					   k * blk), hbm, blk);
			else
				d = mkdesc(TERN_DESC_OP_COPY,
					   TERN_DESC_F_SRC_HBM, hbm,
					   gpa(DST_OFF + k * blk), blk);
			d.flags |= TERN_DESC_F_FENCE;
			if (i % 4 == 3)
				d.flags |= TERN_DESC_F_IRQ;
			d.fence_addr = FENCE(q);
			d.fence_value = i + 1;
			put_desc(e, false, RING(q), i, &d);
		}
	}
	for (unsigned int q = 0; q < nq; q++)
		doorbell(e, q, 2 * per);
	for (unsigned int q = 0; q < nq; q++) {
		CHECK_EQ(q_wait(e, q), TERN_Q_STATE_ACTIVE);
		CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), 2 * per);
		CHECK_EQ(fence_at(e, q), 2 * per);
		CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(q)), 2 * per / 4);
	}
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, nq * per * blk));
	/* 8 queues on 4 engines */
	for (unsigned int q = 0; q < nq; q++)
		CHECK_EQ(e->engine_of_queue[q], q % 4);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 0xff);
	CHECK_EQ(log_count(e), 0);
	return true;
}

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A long host->host copy; returns its fence value. */
static uint64_t start_big_copy(struct env *e, uint64_t n)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_COPY, TERN_DESC_F_FENCE |
					TERN_DESC_F_IRQ, gpa(SRC_OFF),
					gpa(DST_OFF), n);

	fill_pattern(e->ram + SRC_OFF, n, 60);
	memset(e->ram + DST_OFF, 0, n);
	d.fence_addr = FENCE(0);
	d.fence_value = 0xfeed;
	q_enable(e, 0, RING(0), 8, false);
	put_desc(e, false, RING(0), 0, &d);
	doorbell(e, 0, 1);
	return d.fence_value;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void *open_gate_later(void *arg)
{
	sleep_ms(20);
	gate_open(arg);
	return NULL;
}

static bool t_disable_inflight(struct env *e)
{
	const uint64_t n = 24u << 20;
	uint64_t fence, h;
	pthread_t opener;

	/* hold the descriptor in flight in its second chunk, then disable */
	gate_arm(e, gpa(DST_OFF + TERN_DMA_CHUNK), false);
	fence = start_big_copy(e, n);
	CHECK(gate_wait_hit(e));
	CHECK(!pthread_create(&opener, NULL, open_gate_later, e));
	qwr(e, 0, TERN_Q_CTRL, 0);
	pthread_join(opener, NULL);
	/* the disable returned after the descriptor ran to completion */
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 1);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 1);
	CHECK_EQ(fence_at(e, 0), fence);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, n));
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 1);

	/* a disabled queue refuses doorbells and runs nothing */
	CHECK_EQ(q_enable(e, 0, RING(0), 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 0);
	memset(e->ram + DST_OFF, 0, n);
	memset(e->ram + FENCE_OFF, 0, 8);
	qwr(e, 0, TERN_Q_CTRL, 0);
	doorbell(e, 0, 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	h = hash(e->ram + DST_OFF, n);
	sleep_ms(20);
	CHECK_EQ(hash(e->ram + DST_OFF, n), h);
	CHECK_EQ(fence_at(e, 0), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 1);
	return true;
}

static bool t_reset_inflight(struct env *e)
{
	const uint64_t n = 24u << 20, c = TERN_DMA_CHUNK;
	uint64_t h;

	/*
	 * Hold the copy in its second chunk; the reset opens the gate once
	 * it has told the engines to stop. The chunk being written finishes,
	 * nothing after it is written: no more data, no fence, no IRQ.
	 */
	gate_arm(e, gpa(DST_OFF + c), true);
	start_big_copy(e, n);
	CHECK(gate_wait_hit(e));
	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(e->resets_begun, 1);
	CHECK_EQ(e->resets, 1);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 0);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 0);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, 2 * c));
	CHECK(all_zero(e->ram + DST_OFF + 2 * c, n - 2 * c));
	CHECK_EQ(fence_at(e, 0), 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_QUEUE(0)), 0);
	/* engines are idle: memory does not change any more */
	h = hash(e->ram + DST_OFF, n);
	sleep_ms(20);
	CHECK_EQ(hash(e->ram + DST_OFF, n), h);
	CHECK_EQ(fence_at(e, 0), 0);
	/* and the device works again */
	CHECK(copy1(e, 0, gpa(SRC_OFF), gpa(DST_OFF + 2 * c), 4096, 0, 0));
	CHECK(!memcmp(e->ram + DST_OFF + 2 * c, e->ram + SRC_OFF, 4096));
	return true;
}

static bool t_destroy_inflight(struct env *e)
{
	/* env_fini opens the gate and destroys the device mid-copy */
	gate_arm(e, gpa(DST_OFF + TERN_DMA_CHUNK), false);
	start_big_copy(e, 24u << 20);
	CHECK(gate_wait_hit(e));
	return true;
}

/*
 * A doorbell that moves TAIL onto the HEAD of the descriptor in flight
 * (the driver rang past what the device consumed: 8 descriptors in an
 * 8-entry ring). The registers read ACTIVE with HEAD == TAIL, as if idle,
 * while the copy runs; when it completes HEAD passes TAIL and the queue
 * runs the rest of the ring, a whole lap. Why an idle check must also ask
 * whether a descriptor is in flight (tests/fuzz/fuzz_util.c).
 */
static bool t_tail_onto_inflight_head(struct env *e)
{
	const uint64_t n = 24u << 20;
	struct timespec ts = { 0, 100000 };
	uint64_t fence;
	int i;

	gate_arm(e, gpa(DST_OFF + TERN_DMA_CHUNK), false);
	fence = start_big_copy(e, n);	/* index 0 of 8, TAIL 1 */
	CHECK(gate_wait_hit(e));
	for (uint32_t k = 1; k < 8; k++) {
		struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP,
						TERN_DESC_F_FENCE, 0, 0, 0);

		d.fence_addr = FENCE(k);
		d.fence_value = 0x7a110000ull + k;
		memset(e->ram + FENCE_OFF + k * 8u, 0, 8);
		put_desc(e, false, RING(0), k, &d);
	}
	doorbell(e, 0, 0);
	/* accepted, and it looks idle although index 0 is still running */
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 0);
	gate_open(e);
	/* 60 s: hang detection only, never a timing assertion */
	for (i = 0; i < 600000 && qrd(e, 0, TERN_Q_COMPLETED_LO) < 8; i++)
		nanosleep(&ts, NULL);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 8);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_HEAD), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 0);
	CHECK_EQ(fence_at(e, 0), fence);
	CHECK(!memcmp(e->ram + DST_OFF, e->ram + SRC_OFF, n));
	for (uint32_t k = 1; k < 8; k++)
		CHECK_EQ(fence_at(e, k), 0x7a110000ull + k);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	return true;
}

static const struct test_case cases[] = {
	TEST("NOP ring with wrap-around and fences", t_nop_wrap),
	TEST("fences in host memory and HBM, aligned and not", t_fences),
	TEST_CFG("completion IRQ vector, QDONE W1C, INT_STATUS.QUEUE",
		 t_irq_qdone, 40, 0, 0),
	TEST("INT_MASK.QUEUE suppresses, unmask resends", t_int_mask_queue),
	TEST("ring in HBM", t_ring_in_hbm),
	TEST("copy host->HBM, odd size and offsets", t_copy_h2d),
	TEST("copy HBM->host", t_copy_d2h),
	TEST("copy HBM->HBM, disjoint and overlapping", t_copy_d2d),
	TEST("copy host->host across chunks", t_copy_h2h),
	TEST("5 MiB round trip host->HBM->host", t_roundtrip_big),
	TEST("SG list on the host source side", t_sgl_src_host),
	TEST("SG list on the host destination side", t_sgl_dst_host),
	TEST("SG lists on both sides, HBM entries, longer than size",
	     t_sgl_both),
	TEST("SG lists host->host", t_sgl_h2h),
	TEST("COPY of size 0", t_size_zero),
	TEST_CFG("queue q is served by engine q % engines",
		 t_engine_mapping, 5, 2, 0),
	TEST_CFG("8 queues in parallel on 4 engines", t_parallel, 8, 4, 0),
	TEST("queue disable waits for the in-flight descriptor",
	     t_disable_inflight),
	TEST("reset with a copy in flight leaves engines idle",
	     t_reset_inflight),
	TEST("destroy with a copy in flight", t_destroy_inflight),
	TEST("doorbell onto the in-flight HEAD: HEAD passes TAIL, a lap",
	     t_tail_onto_inflight_head),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
