// SPDX-License-Identifier: MIT
/*
 * tern model: chip-to-chip links. Fabrics of test chips in one process:
 * wiring of rings, 2D tori and explicit peers; every configuration error;
 * LINK_COPY into the peer's HBM, physical and through the peer's MMU
 * context (4 KiB and 2 MiB pages); every rejected descriptor; counters;
 * link-down injection before and during a copy, with events and
 * interrupts at both ends; a peer that joins late or leaves; 64 chips in
 * a ring. Reduce on arrival: test_reduce.c.
 */
#include "link_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRC_HBM		0x100000u	/* chip 0's source data */
#define DST_HBM		0x800000u	/* the peer's destination */
#define FENCE(i)	gpa(FENCE_OFF + (i) * 8u)

/* ---- wiring ---- */

static bool check_ring(const char *name, unsigned int n)
{
	uint32_t id;

	CHECK(fabric_up(name, n, TERN_TOPOLOGY_RING, 0));
	id = rd(&chips[0], TERN_REG_FABRIC_ID);
	CHECK(id != 0);
	for (unsigned int i = 0; i < n; i++) {
		struct env *e = &chips[i];

		CHECK_EQ(rd(e, TERN_REG_CHIP_ID), i);
		CHECK_EQ(rd(e, TERN_REG_FABRIC_ID), id);
		CHECK_EQ(rd(e, TERN_REG_FABRIC_CHIPS), n);
		CHECK_EQ(rd(e, TERN_REG_NUM_LINKS), TERN_MAX_LINKS);
		/* ports whose peer joined later came up */
		CHECK_EQ(rd(e, TERN_REG_LINK_EVENTS),
			 ((i + 1) % n > i ? 1u : 0) |
			 ((i + n - 1) % n > i ? 2u : 0));
		CHECK(port_is(i, 0, TERN_LINK_STATE_UP, (i + 1) % n, 1));
		CHECK(port_is(i, 1, TERN_LINK_STATE_UP, (i + n - 1) % n, 0));
		for (unsigned int p = 2; p < TERN_MAX_LINKS; p++)
			CHECK(port_is(i, p, TERN_LINK_STATE_NONE,
				      TERN_LINK_NO_PEER, TERN_LINK_NO_PEER));
		CHECK_EQ(lrd(e, 0, TERN_L_BANDWIDTH),
			 TERN_LINK_BANDWIDTH_DEFAULT);
		CHECK_EQ(lrd(e, 1, TERN_L_LATENCY), TERN_LINK_LATENCY_DEFAULT);
		CHECK_EQ(lrd(e, 2, TERN_L_BANDWIDTH), 0);
	}
	CHECK(fabric_down());
	return true;
}

static bool t_ring(struct env *e)
{
	(void)e;
	CHECK(check_ring("ring2", 2));
	CHECK(check_ring("ring3", 3));
	CHECK(check_ring("ring8", 8));
	return true;
}

/* Expected torus2d port p of chip i in a w x h torus. */
static bool check_torus_port(unsigned int i, unsigned int p, unsigned int w,
			     unsigned int h)
{
	unsigned int x = i % w, y = i / w, peer;

	if ((p < 2 && w < 2) || (p >= 2 && h < 2))
		return port_is(i, p, TERN_LINK_STATE_NONE, TERN_LINK_NO_PEER,
			       TERN_LINK_NO_PEER);
	switch (p) {
	case 0: peer = y * w + (x + 1) % w; break;
	case 1: peer = y * w + (x + w - 1) % w; break;
	case 2: peer = ((y + 1) % h) * w + x; break;
	default: peer = ((y + h - 1) % h) * w + x; break;
	}
	return port_is(i, p, TERN_LINK_STATE_UP, peer, p ^ 1);
}

static bool check_torus(const char *name, unsigned int w, unsigned int h,
			unsigned int width_prop)
{
	CHECK(fabric_up(name, w * h, TERN_TOPOLOGY_TORUS2D, width_prop));
	for (unsigned int i = 0; i < w * h; i++) {
		CHECK_EQ(rd(&chips[i], TERN_REG_FABRIC_CHIPS), w * h);
		for (unsigned int p = 0; p < TERN_MAX_LINKS; p++)
			CHECK(check_torus_port(i, p, w, h));
	}
	CHECK(fabric_down());
	return true;
}

static bool t_torus(struct env *e)
{
	(void)e;
	CHECK(check_torus("t4x4", 4, 4, 0));	/* width from the square */
	CHECK(check_torus("t2x2", 2, 2, 2));
	CHECK(check_torus("t4x2", 4, 2, 4));
	CHECK(check_torus("t2x4", 2, 4, 2));
	CHECK(check_torus("t8x1", 8, 1, 8));	/* a ring on ports 0/1 */
	return true;
}

static bool t_explicit(struct env *e)
{
	/* chip 0 -> 1 twice and 2 once; chip 1 -> 0 twice and 2 */
	static const int peers[3][TERN_MAX_LINKS] = {
		{ 1, 2, 1, -1 }, { 0, -1, 0, 2 }, { -1, 0, 1, -1 },
	};
	struct tern_link_config lc[3];

	(void)e;
	for (unsigned int i = 0; i < 3; i++) {
		lc[i] = lcfg("fx", i, 3, TERN_TOPOLOGY_NONE, 0);
		memcpy(lc[i].peers, peers[i], sizeof(peers[i]));
	}
	CHECK(chip_up(0, &lc[0]));
	CHECK(chip_up(1, &lc[1]));
	/* chip 2 not there yet: its ports are down, peer port unknown */
	CHECK(port_is(0, 0, TERN_LINK_STATE_UP, 1, 0));
	CHECK(port_is(0, 1, TERN_LINK_STATE_DOWN, 2, TERN_LINK_NO_PEER));
	CHECK(port_is(0, 2, TERN_LINK_STATE_UP, 1, 2));
	CHECK(port_is(0, 3, TERN_LINK_STATE_NONE, TERN_LINK_NO_PEER,
		      TERN_LINK_NO_PEER));
	CHECK(port_is(1, 0, TERN_LINK_STATE_UP, 0, 0));
	CHECK(port_is(1, 2, TERN_LINK_STATE_UP, 0, 2));
	CHECK(port_is(1, 3, TERN_LINK_STATE_DOWN, 2, TERN_LINK_NO_PEER));
	CHECK_EQ(rd(&chips[0], TERN_REG_LINK_EVENTS), 0x5);	/* 1 came up */
	wr(&chips[0], TERN_REG_LINK_EVENTS, 0xf);
	CHECK_EQ(rd(&chips[0], TERN_REG_LINK_EVENTS), 0);

	CHECK(chip_up(2, &lc[2]));
	CHECK(port_is(0, 1, TERN_LINK_STATE_UP, 2, 1));
	CHECK(port_is(1, 3, TERN_LINK_STATE_UP, 2, 2));
	CHECK(port_is(2, 0, TERN_LINK_STATE_NONE, TERN_LINK_NO_PEER,
		      TERN_LINK_NO_PEER));
	CHECK(port_is(2, 1, TERN_LINK_STATE_UP, 0, 1));
	CHECK(port_is(2, 2, TERN_LINK_STATE_UP, 1, 3));
	CHECK_EQ(rd(&chips[0], TERN_REG_LINK_EVENTS), 1u << 1);
	CHECK_EQ(rd(&chips[1], TERN_REG_LINK_EVENTS), 1u << 3);
	CHECK_EQ(rd(&chips[2], TERN_REG_LINK_EVENTS), 0);	/* it joined */
	CHECK(fabric_down());
	return true;
}

/* ---- configuration errors ---- */

static bool expect_bad(struct env *e, const struct tern_link_config *lc,
		       const char *what)
{
	struct tern_config c = e->cfg;
	struct tern_dev *dev;
	char err[256] = "";

	if (tern_link_config_check(lc, err, sizeof(err)) ||
	    !strstr(err, what)) {
		printf("#   config check: \"%s\" lacks \"%s\"\n", err, what);
		return false;
	}
	c.link = lc;
	err[0] = 0;
	dev = tern_dev_create(&c, &test_host_ops, e, err, sizeof(err));
	if (dev) {
		tern_dev_destroy(dev);
		printf("#   created despite \"%s\"\n", what);
		return false;
	}
	if (!strstr(err, what)) {
		printf("#   create: \"%s\" lacks \"%s\"\n", err, what);
		return false;
	}
	return true;
}

static bool t_config_errors(struct env *e)
{
	struct tern_link_config lc, ok = lcfg("fc", 1, 4, TERN_TOPOLOGY_RING,
					      0);
	char name[80];
	char err[256];

	CHECK(tern_link_config_check(&ok, err, sizeof(err)));
	lc = ok; lc.chips = 0;
	CHECK(expect_bad(e, &lc, "fabric-chips 0"));
	lc = ok; lc.chips = TERN_MAX_CHIPS + 1;
	CHECK(expect_bad(e, &lc, "fabric-chips 65"));
	lc = ok; lc.chip_id = 4;
	CHECK(expect_bad(e, &lc, "chip-id 4"));
	lc = ok; lc.topology = 3;
	CHECK(expect_bad(e, &lc, "topology 3"));
	lc = ok; lc.width = 2;
	CHECK(expect_bad(e, &lc, "torus-width 2 is only for"));
	lc = lcfg("fc", 0, 8, TERN_TOPOLOGY_TORUS2D, 0);
	CHECK(expect_bad(e, &lc, "torus-width is needed"));
	lc.width = 3;
	CHECK(expect_bad(e, &lc, "torus-width 3"));
	lc.width = 16;
	CHECK(expect_bad(e, &lc, "torus-width 16"));
	lc = ok; lc.peers[2] = 0;
	CHECK(expect_bad(e, &lc, "peers are only for topology none"));
	lc = lcfg("fc", 1, 4, TERN_TOPOLOGY_NONE, 0);
	lc.peers[1] = 4;
	CHECK(expect_bad(e, &lc, "peers: port 1 names chip 4"));
	lc.peers[1] = -2;
	CHECK(expect_bad(e, &lc, "peers: port 1 names chip -2"));
	lc.peers[1] = 1;
	CHECK(expect_bad(e, &lc, "the chip itself"));
	lc = ok; lc.bandwidth_mbps = 2000000;
	CHECK(expect_bad(e, &lc, "link-bandwidth 2000000"));
	lc = ok; lc.latency_ns = 2000000000u;
	CHECK(expect_bad(e, &lc, "link-latency 2000000000"));
	memset(name, 'f', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	lc = ok; lc.fabric = name;
	CHECK(expect_bad(e, &lc, "too long"));
	/* no fabric: the other fields do not matter */
	lc = ok; lc.fabric = ""; lc.chips = 0;
	CHECK(tern_link_config_check(&lc, err, sizeof(err)));
	return true;
}

static bool t_join_errors(struct env *e)
{
	struct tern_link_config lc = lcfg("fj", 0, 4, TERN_TOPOLOGY_RING, 0);
	struct tern_config c = e->cfg;
	char err[256];

	CHECK(chip_up(0, &lc));
	c.link = &lc;
#define JOIN_FAILS(what)						\
	do {								\
		struct tern_dev *d_ = tern_dev_create(&c, &test_host_ops, \
						      e, err, sizeof(err)); \
		if (d_) {						\
			tern_dev_destroy(d_);				\
			printf("#   joined despite %s\n", what);	\
			return false;					\
		}							\
		if (!strstr(err, what)) {				\
			printf("#   \"%s\" lacks \"%s\"\n", err, what);	\
			return false;					\
		}							\
	} while (0)
	JOIN_FAILS("chip-id 0 is already in fabric fj");
	lc.chip_id = 1;
	lc.chips = 5;
	JOIN_FAILS("fabric-chips 5 differs");
	lc.chips = 4;
	lc.topology = TERN_TOPOLOGY_TORUS2D;
	JOIN_FAILS("topology torus2d differs");
	CHECK(fabric_down());

	lc = lcfg("fk", 0, 8, TERN_TOPOLOGY_TORUS2D, 4);
	CHECK(chip_up(0, &lc));
	lc.chip_id = 1;
	lc.width = 2;
	JOIN_FAILS("torus-width 2 differs");
	CHECK(fabric_down());

	lc = lcfg("fp", 0, 3, TERN_TOPOLOGY_NONE, 0);
	lc.peers[0] = 1;
	lc.peers[1] = 1;
	CHECK(chip_up(0, &lc));
	lc = lcfg("fp", 1, 3, TERN_TOPOLOGY_NONE, 0);
	lc.peers[0] = 0;
	JOIN_FAILS("chip 1 names chip 0 on 1 ports, but chip 0 names chip 1 "
		   "on 2");
	/* nothing of the failed joins stayed: a right chip 1 fits */
	lc.peers[3] = 0;
	CHECK(chip_up(1, &lc));
	CHECK(port_is(0, 1, TERN_LINK_STATE_UP, 1, 3));
	CHECK(fabric_down());
#undef JOIN_FAILS
	return true;
}

/* ---- LINK_COPY ---- */

static bool t_copy_phys(struct env *e)
{
	struct tern_link_config lc[2];
	struct env *a = &chips[0], *b = &chips[1];
	const uint64_t n = 0x30000 + 0x123, m = 0x2345;
	struct tern_dma_desc d;

	(void)e;
	for (unsigned int i = 0; i < 2; i++) {
		lc[i] = lcfg("fphys", i, 2, TERN_TOPOLOGY_RING, 0);
		lc[i].bandwidth_mbps = 3000;
		lc[i].latency_ns = 777;
		CHECK(chip_up(i, &lc[i]));
	}
	fill_pattern(a->hbm + SRC_HBM, n, 1);
	fill_pattern(a->ram + HOST_OFF, m, 2);

	/* HBM -> peer HBM through port 0, fence in host memory */
	d = lcopy(0, 0, TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM |
		  TERN_DESC_F_FENCE | TERN_DESC_F_IRQ, SRC_HBM, DST_HBM + 0x11,
		  n);
	d.fence_addr = FENCE(0);
	d.fence_value = 0xabcdef;
	CHECK(run_ok(a, d));
	CHECK(!memcmp(b->hbm + DST_HBM + 0x11, a->hbm + SRC_HBM, n));
	CHECK(all_is(b->hbm + DST_HBM, 0x11, 0));
	CHECK(all_is(b->hbm + DST_HBM + 0x11 + n, 0x1000, 0));
	CHECK_EQ(get64(a->ram + FENCE_OFF), 0xabcdef);
	CHECK_EQ(irq_count(a, TERN_MSIX_VEC_QUEUE(0)), 1);
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), n);
	CHECK_EQ(lrd64(b, 1, TERN_L_RX_BYTES_LO), n);
	CHECK_EQ(lrd64(a, 0, TERN_L_BUSY_NS_LO), 777 + n * 1000 / 3000);
	CHECK_EQ(lrd64(a, 0, TERN_L_RX_BYTES_LO), 0);
	CHECK_EQ(lrd64(b, 1, TERN_L_TX_BYTES_LO), 0);
	CHECK_EQ(lrd64(b, 1, TERN_L_BUSY_NS_LO), 0);
	CHECK_EQ(a->link_copies, 1);
	CHECK_EQ(a->link_copy_error, 0);

	/* host memory -> peer HBM through port 1 (the other link to 1) */
	d = lcopy(1, 0, TERN_DESC_F_DST_HBM, gpa(HOST_OFF), DST_HBM + 0x100000,
		  m);
	CHECK(run_ok(a, d));
	CHECK(!memcmp(b->hbm + DST_HBM + 0x100000, a->ram + HOST_OFF, m));
	CHECK_EQ(lrd64(a, 1, TERN_L_TX_BYTES_LO), m);
	CHECK_EQ(lrd64(b, 0, TERN_L_RX_BYTES_LO), m);
	CHECK_EQ(lrd64(a, 1, TERN_L_BUSY_NS_LO), 777 + m * 1000 / 3000);
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), n);

	/* the other way, and a second copy adds to the counters */
	fill_pattern(b->hbm + SRC_HBM, 0x1000, 3);
	d = lcopy(0, 0, TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM, SRC_HBM,
		  0x4000000 - 0x1000, 0x1000);	/* the last page */
	CHECK(run_ok(b, d));
	CHECK(run_ok(b, d));
	CHECK(!memcmp(a->hbm + 0x4000000 - 0x1000, b->hbm + SRC_HBM, 0x1000));
	CHECK_EQ(lrd64(b, 0, TERN_L_TX_BYTES_LO), 0x2000);
	CHECK_EQ(lrd64(a, 1, TERN_L_RX_BYTES_LO), 0x2000);
	CHECK_EQ(lrd64(b, 0, TERN_L_BUSY_NS_LO), 2 * (777 + 0x1000 * 1000 /
						     3000));
	/* a reset of chip 0 clears its counters, not the link */
	wr(a, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), 0);
	CHECK_EQ(lrd64(a, 1, TERN_L_RX_BYTES_LO), 0);
	CHECK_EQ(lrd(a, 0, TERN_L_STATE), TERN_LINK_STATE_UP);
	CHECK_EQ(lrd64(b, 0, TERN_L_TX_BYTES_LO), 0x2000);
	CHECK_EQ(log_count(a) + log_count(b), 0);
	CHECK(fabric_down());
	return true;
}

/* A 2-chip ring "fm" with context 2 on chip 1. */
static bool mmu_fabric(const char *name)
{
	CHECK(fabric_up(name, 2, TERN_TOPOLOGY_RING, 0));
	ctx_setup(&chips[1], 2);
	return true;
}

static bool t_copy_peer_va(struct env *e)
{
	struct env *a = &chips[0], *b = &chips[1];
	const uint64_t pages[3] = { HBMP(5), HBMP(2), HBMP(9) };
	const uint64_t n = 0x2400;
	struct tern_dma_desc d;

	(void)e;
	CHECK(mmu_fabric("fva"));
	map_pages(b, 2, VA_DST, pages, 3, W | H);
	map2m(b, 2, VA_BIG, HBM_HUGE, RW | H);
	map2m(b, 2, VA_BIG + TERN_HUGE_PAGE_SIZE,
	      HBM_HUGE + 2 * TERN_HUGE_PAGE_SIZE, W | H);
	fill_pattern(a->hbm + SRC_HBM, 0x400000, 4);

	/* 4 KiB pages: 0x2400 bytes from VA_DST + 0x300 over 3 pages */
	d = lcopy(0, 2, TERN_DESC_F_SRC_HBM | TERN_DESC_F_FENCE, SRC_HBM,
		  VA_DST + 0x300, n);
	d.fence_addr = FENCE(1);
	d.fence_value = 7;
	CHECK(run_ok(a, d));
	for (uint64_t k = 0; k < n; k++) {
		uint64_t at = 0x300 + k;

		CHECK_EQ(b->hbm[pages[at / 0x1000] + at % 0x1000],
			 a->hbm[SRC_HBM + k]);
	}
	CHECK(all_is(b->hbm + pages[0], 0x300, 0));
	CHECK(all_is(b->hbm + pages[2] + (0x300 + n) % 0x1000, 0x100, 0));
	CHECK_EQ(get64(a->ram + FENCE_OFF + 8), 7);

	/* 2 MiB pages: across the boundary of two non-adjacent ones */
	d = lcopy(0, 2, TERN_DESC_F_SRC_HBM, SRC_HBM,
		  VA_BIG + TERN_HUGE_PAGE_SIZE - 0x180000, 0x300000);
	CHECK(run_ok(a, d));
	CHECK(!memcmp(b->hbm + HBM_HUGE + TERN_HUGE_PAGE_SIZE - 0x180000,
		      a->hbm + SRC_HBM, 0x180000));
	CHECK(!memcmp(b->hbm + HBM_HUGE + 2 * TERN_HUGE_PAGE_SIZE,
		      a->hbm + SRC_HBM + 0x180000, 0x180000));
	CHECK(all_is(b->hbm + HBM_HUGE + TERN_HUGE_PAGE_SIZE, 0x1000, 0));
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), n + 0x300000);
	CHECK_EQ(rd(a, TERN_REG_MMU_FAULTS), 0);
	CHECK_EQ(rd(b, TERN_REG_MMU_FAULTS), 0);
	CHECK(fabric_down());
	return true;
}

/* ---- rejected LINK_COPY descriptors: nothing moves ---- */

/*
 * Run d on chip 0 of a 2-chip ring (chip 1 with context 2) and expect the
 * error; the peer's HBM at DST_HBM and its pages stay zero, no fence, no
 * bytes counted.
 */
static bool reject(const char *fab, struct tern_dma_desc d, uint32_t code,
		   uint64_t addr, uint32_t info, const char *why,
		   void (*setup)(void))
{
	struct env *a = &chips[0], *b = &chips[1];

	CHECK(mmu_fabric(fab));
	if (setup)
		setup();
	fill_pattern(a->hbm + SRC_HBM, 0x10000, 5);
	d.flags |= TERN_DESC_F_FENCE;
	d.fence_addr = FENCE(2);
	d.fence_value = 99;
	if (!run_err(a, 0, d, code, addr, info, why))
		return false;
	CHECK(all_is(b->hbm + DST_HBM, 0x10000, 0));
	CHECK(all_is(b->hbm + HBMP(0), 0x10000, 0));
	CHECK(all_is(b->hbm + HBM_SIZE - 0x1000, 0x1000, 0));
	CHECK(all_is(b->ram + HOST_OFF, 0x4000, 0));
	CHECK_EQ(get64(a->ram + FENCE_OFF + 16), 0);
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		CHECK_EQ(lrd64(a, p, TERN_L_TX_BYTES_LO), 0);
		CHECK_EQ(lrd64(b, p, TERN_L_RX_BYTES_LO), 0);
	}
	CHECK(fabric_down());
	return true;
}

#define PHYS	(TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM)

static bool t_rej_port(struct env *e)
{
	(void)e;
	return reject("r1", lcopy(4, 0, PHYS, SRC_HBM, DST_HBM, 64),
		      TERN_ERR_RESERVED, RING(0), 0,
		      "link port 4 does not exist", NULL);
}

static bool t_rej_link_reserved(struct env *e)
{
	struct tern_dma_desc d = lcopy(0, 0, PHYS, SRC_HBM, DST_HBM, 64);

	(void)e;
	d.link |= 1u << 20;
	return reject("r2", d, TERN_ERR_RESERVED, RING(0), 0,
		      "has reserved bits 0x100000", NULL);
}

static bool t_rej_sgl(struct env *e)
{
	struct tern_dma_desc d = lcopy(0, 0, PHYS | TERN_DESC_F_SRC_SGL,
				       SRC_HBM, DST_HBM, 64);

	(void)e;
	d.src_sgl_count = 1;
	return reject("r3", d, TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "on a non-COPY descriptor", NULL);
}

static bool t_rej_dst_hbm_with_ctx(struct env *e)
{
	(void)e;
	return reject("r4", lcopy(0, 2, PHYS, SRC_HBM, VA_DST, 64),
		      TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "peer context 2 with DST_HBM", NULL);
}

static bool t_rej_no_dst_hbm(struct env *e)
{
	(void)e;
	return reject("r5", lcopy(0, 0, TERN_DESC_F_SRC_HBM, SRC_HBM,
				  DST_HBM, 64),
		      TERN_ERR_BAD_FLAGS, RING(0), 0,
		      "peer context 0 without DST_HBM", NULL);
}

static bool t_rej_peer_ctx_range(struct env *e)
{
	(void)e;
	return reject("r6", lcopy(0, TERN_MAX_CONTEXTS, TERN_DESC_F_SRC_HBM,
				  SRC_HBM, VA_DST, 64),
		      TERN_ERR_MMU_FAULT, VA_DST,
		      FAULT(TERN_MAX_CONTEXTS, 1, BAD_CONTEXT), "peer dst",
		      NULL);
}

static bool t_rej_peer_ctx_off(struct env *e)
{
	(void)e;
	return reject("r7", lcopy(0, 3, TERN_DESC_F_SRC_HBM, SRC_HBM, VA_DST,
				  64),
		      TERN_ERR_MMU_FAULT, VA_DST, FAULT(3, 1, BAD_CONTEXT),
		      "ctx 3 peer dst", NULL);
}

static bool t_rej_link_on_nop_copy(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, 0, 0, 0, 0);

	(void)e;
	d.link = TERN_LINK_DESC(1, 0);
	CHECK(reject("r8", d, TERN_ERR_RESERVED, RING(0), 0,
		     "reserved field is 0x1", NULL));
	d = mkdesc(TERN_DESC_OP_COPY, PHYS, SRC_HBM, DST_HBM, 64);
	d.link = TERN_LINK_DESC(0, 1);
	return reject("r9", d, TERN_ERR_RESERVED, RING(0), 0,
		      "reserved field is 0x100", NULL);
}

static void setup_user_queue(void)
{
	struct env *a = &chips[0];

	/* queue 1 bound to context 1, its ring VA = its bus address */
	ctx_setup(a, 1);
	map4k(a, 1, RING(1), RING(1), R);
	qwr(a, 1, TERN_Q_CTX, 1);
}

static bool t_rej_user_queue(struct env *e)
{
	struct env *a = &chips[0], *b = &chips[1];
	struct tern_dma_desc d = lcopy(0, 2, 0, VA_SRC, VA_DST, 64);

	(void)e;
	CHECK(mmu_fabric("r10"));
	setup_user_queue();
	CHECK(run_err(a, 1, d, TERN_ERR_BAD_OPCODE, RING(1), 0,
		      "LINK_COPY on the user-mode queue of context 1"));
	CHECK(all_is(b->hbm, 0x1000000, 0));
	CHECK(fabric_down());
	return true;
}

static bool t_rej_peer_hbm_range(struct env *e)
{
	(void)e;
	CHECK(reject("r11", lcopy(0, 0, PHYS, SRC_HBM, HBM_SIZE - 0x100,
				  0x200),
		     TERN_ERR_HBM_RANGE, HBM_SIZE - 0x100, 0,
		     "peer dst HBM range 0x3ffff00+0x200 outside the HBM",
		     NULL));
	return reject("r12", lcopy(0, 0, PHYS, SRC_HBM, UINT64_MAX - 8, 0x10),
		      TERN_ERR_HBM_RANGE, UINT64_MAX - 8, 0, "peer dst HBM",
		      NULL);
}

static bool t_rej_src_hbm_range(struct env *e)
{
	(void)e;
	return reject("r13", lcopy(0, 0, PHYS, HBM_SIZE - 8, DST_HBM, 0x10),
		      TERN_ERR_HBM_RANGE, HBM_SIZE - 8, 0, "src HBM range",
		      NULL);
}

static bool t_rej_unwired(struct env *e)
{
	(void)e;
	return reject("r14", lcopy(2, 0, PHYS, SRC_HBM, DST_HBM, 64),
		      TERN_ERR_LINK_DOWN, DST_HBM, 0,
		      "link port 2 is not wired", NULL);
}

static void setup_ro_page(void)
{
	map4k(&chips[1], 2, VA_DST, HBMP(1), R | H);
}

static bool t_rej_peer_no_write(struct env *e)
{
	(void)e;
	return reject("r15", lcopy(0, 2, TERN_DESC_F_SRC_HBM, SRC_HBM, VA_DST,
				   64),
		      TERN_ERR_MMU_FAULT, VA_DST, FAULT(2, 1, PERMISSION),
		      "peer dst", setup_ro_page);
}

static void setup_host_page(void)
{
	map4k(&chips[1], 2, VA_DST, HOSTP(1), RW);
}

static bool t_rej_peer_host_page(struct env *e)
{
	(void)e;
	return reject("r16", lcopy(0, 2, TERN_DESC_F_SRC_HBM, SRC_HBM, VA_DST,
				   64),
		      TERN_ERR_MMU_FAULT, VA_DST, FAULT(2, 1, RANGE),
		      "out of range", setup_host_page);
}

static void setup_wo_page(void)
{
	map4k(&chips[1], 2, VA_DST, HBMP(1), W | H);
}

static bool t_rej_peer_reduce_no_read(struct env *e)
{
	(void)e;
	return reject("r17", lcopy(0, 2, TERN_DESC_F_SRC_HBM |
				   TERN_DESC_F_REDUCE_SUM, SRC_HBM, VA_DST, 64),
		      TERN_ERR_MMU_FAULT, VA_DST, FAULT(2, 1, PERMISSION),
		      "peer dst", setup_wo_page);
}

static bool t_rej_peer_unmapped(struct env *e)
{
	(void)e;
	return reject("r18", lcopy(0, 2, TERN_DESC_F_SRC_HBM, SRC_HBM,
				   VA_MISC, 64),
		      TERN_ERR_MMU_FAULT, VA_MISC, FAULT(2, 1, UNMAPPED),
		      "unmapped", NULL);
}

/* ---- link state ---- */

static bool t_link_down(struct env *e)
{
	struct env *a = &chips[0], *b = &chips[1];
	struct tern_dma_desc d = lcopy(0, 0, PHYS, SRC_HBM, DST_HBM, 0x1000);
	unsigned int ia, ib;
	char err[128];

	(void)e;
	CHECK(fabric_up("fdown", 2, TERN_TOPOLOGY_RING, 0));
	wr(a, TERN_REG_LINK_EVENTS, 0xf);	/* chip 1 came up */
	fill_pattern(a->hbm + SRC_HBM, 0x1000, 6);
	ia = irq_count(a, TERN_MSIX_VEC_ERROR);
	ib = irq_count(b, TERN_MSIX_VEC_ERROR);

	CHECK(tern_dev_set_link_down(a->dev, 1u << 0, err, sizeof(err)));
	CHECK_EQ(tern_dev_link_down(a->dev), 1);
	CHECK(port_is(0, 0, TERN_LINK_STATE_DOWN, 1, 1));
	CHECK(port_is(1, 1, TERN_LINK_STATE_DOWN, 0, 0));
	CHECK(port_is(0, 1, TERN_LINK_STATE_UP, 1, 0));	/* the other link */
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 1u << 0);
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 1u << 1);
	CHECK(rd(a, TERN_REG_INT_STATUS) & TERN_INT_LINK);
	CHECK(rd(b, TERN_REG_INT_STATUS) & TERN_INT_LINK);
	CHECK_EQ(irq_count(a, TERN_MSIX_VEC_ERROR), ia + 1);
	CHECK_EQ(irq_count(b, TERN_MSIX_VEC_ERROR), ib + 1);
	CHECK_EQ(a->link_states[0], 2);	/* up when 1 joined, down */
	CHECK_EQ(a->link_state_last[0], TERN_LINK_STATE_DOWN);
	CHECK_EQ(b->link_state_last[1], TERN_LINK_STATE_DOWN);
	CHECK_EQ(rd(a, TERN_REG_STATUS) & TERN_STATUS_ERROR, 0);

	CHECK(run_err(a, 0, d, TERN_ERR_LINK_DOWN, DST_HBM, 0,
		      "link port 0 to chip 1 is down"));
	CHECK(all_is(b->hbm + DST_HBM, 0x1000, 0));
	CHECK_EQ(lrd(a, 0, TERN_L_ERRORS), 1);
	CHECK_EQ(rd(a, TERN_REG_LINK_ERRORS), 1);
	CHECK_EQ(lrd(a, 1, TERN_L_ERRORS), 0);
	CHECK_EQ(a->link_copies, 1);
	CHECK_EQ(a->link_copy_error, TERN_ERR_LINK_DOWN);

	/* RW1C: the events and the interrupt cause clear */
	wr(a, TERN_REG_LINK_EVENTS, 1u << 0);
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 0);
	CHECK_EQ(rd(a, TERN_REG_INT_STATUS) & TERN_INT_LINK, 0);
	wr(b, TERN_REG_LINK_EVENTS, 0xff);	/* bits past port 3 logged */
	CHECK(log_has(b, "LINK_EVENTS write 0xff"));
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 0);

	/* the far end forcing its port down too: still down; then restore */
	CHECK(tern_dev_set_link_down(b->dev, 1u << 1, err, sizeof(err)));
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 0);	/* no change */
	CHECK(tern_dev_set_link_down(a->dev, 0, err, sizeof(err)));
	CHECK(port_is(0, 0, TERN_LINK_STATE_DOWN, 1, 1));
	CHECK(tern_dev_set_link_down(b->dev, 0, err, sizeof(err)));
	CHECK(port_is(0, 0, TERN_LINK_STATE_UP, 1, 1));
	CHECK(port_is(1, 1, TERN_LINK_STATE_UP, 0, 0));
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 1u << 0);
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 1u << 1);
	CHECK_EQ(a->link_state_last[0], TERN_LINK_STATE_UP);
	CHECK(run_ok(a, d));
	CHECK(!memcmp(b->hbm + DST_HBM, a->hbm + SRC_HBM, 0x1000));

	/* a mask past the ports is refused and changes nothing */
	CHECK(!tern_dev_set_link_down(a->dev, 1u << 4, err, sizeof(err)));
	CHECK(strstr(err, "link-down 0x10"));
	CHECK_EQ(tern_dev_link_down(a->dev), 0);
	CHECK(fabric_down());
	return true;
}

static bool t_link_int_mask(struct env *e)
{
	struct env *b = &chips[1];
	unsigned int ib;
	char err[128];

	(void)e;
	CHECK(fabric_up("fmask", 2, TERN_TOPOLOGY_RING, 0));
	wr(b, TERN_REG_INT_MASK, TERN_INT_LINK);
	CHECK_EQ(rd(b, TERN_REG_INT_MASK), TERN_INT_LINK);
	ib = irq_count(b, TERN_MSIX_VEC_ERROR);
	CHECK(tern_dev_set_link_down(chips[0].dev, 0x3, err, sizeof(err)));
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 0x3);
	CHECK_EQ(irq_count(b, TERN_MSIX_VEC_ERROR), ib);
	wr(b, TERN_REG_INT_MASK, 0);	/* pending: sent on unmask */
	CHECK_EQ(irq_count(b, TERN_MSIX_VEC_ERROR), ib + 1);
	/* a reset clears the events; the forced state stays */
	wr(b, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 0);
	CHECK_EQ(rd(b, TERN_REG_INT_STATUS), 0);
	CHECK(port_is(1, 0, TERN_LINK_STATE_DOWN, 0, 1));
	CHECK(fabric_down());
	return true;
}

static bool t_link_down_mid_copy(struct env *e)
{
	struct env *a = &chips[0], *b = &chips[1];
	const uint64_t src = gpa(0x2000000), n = 4u << 20;
	struct tern_dma_desc d = lcopy(0, 0, TERN_DESC_F_DST_HBM |
				       TERN_DESC_F_FENCE, src, DST_HBM, n);
	char err[128];

	(void)e;
	CHECK(fabric_up("fmid", 2, TERN_TOPOLOGY_RING, 0));
	wr(a, TERN_REG_LINK_EVENTS, 0xf);	/* chip 1 came up */
	fill_pattern(a->ram + 0x2000000, n, 7);
	CHECK_EQ(q_enable(a, 0, RING(0), RSIZE, false), TERN_Q_STATE_ACTIVE);
	d.fence_addr = FENCE(3);
	d.fence_value = 5;
	put_desc(a, false, RING(0), 0, &d);
	/* hold the engine on the read of the second chunk */
	gate_arm_read(a, src + TERN_DMA_CHUNK);
	doorbell(a, 0, 1);
	CHECK(gate_wait_hit(a));
	CHECK(tern_dev_set_link_down(b->dev, 1u << 1, err, sizeof(err)));
	gate_open(a);
	CHECK_EQ(q_wait(a, 0), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(a, 0, TERN_Q_ERROR), TERN_ERR_LINK_DOWN);
	CHECK(log_has(a, "went down after 0x200000 of 0x400000 bytes"));
	/* two chunks arrived, not one byte more; no fence */
	CHECK(!memcmp(b->hbm + DST_HBM, a->ram + 0x2000000,
		      2 * TERN_DMA_CHUNK));
	CHECK(all_is(b->hbm + DST_HBM + 2 * TERN_DMA_CHUNK, n -
		     2 * TERN_DMA_CHUNK, 0));
	CHECK_EQ(get64(a->ram + FENCE_OFF + 24), 0);
	CHECK_EQ(lrd64(a, 0, TERN_L_TX_BYTES_LO), 2 * TERN_DMA_CHUNK);
	CHECK_EQ(lrd64(b, 1, TERN_L_RX_BYTES_LO), 2 * TERN_DMA_CHUNK);
	CHECK_EQ(lrd64(a, 0, TERN_L_BUSY_NS_LO), TERN_LINK_LATENCY_DEFAULT +
		 2ull * TERN_DMA_CHUNK * 1000 / TERN_LINK_BANDWIDTH_DEFAULT);
	CHECK_EQ(lrd(a, 0, TERN_L_ERRORS), 1);
	CHECK_EQ(rd(a, TERN_REG_LINK_ERRORS), 1);
	CHECK_EQ(a->link_copy_error, TERN_ERR_LINK_DOWN);
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 1u << 0);
	CHECK_EQ(rd(b, TERN_REG_LINK_EVENTS), 1u << 1);
	CHECK(fabric_down());
	return true;
}

static bool t_peer_late(struct env *e)
{
	struct tern_link_config l0 = lcfg("flate", 0, 2, TERN_TOPOLOGY_RING, 0);
	struct tern_link_config l1 = lcfg("flate", 1, 2, TERN_TOPOLOGY_RING, 0);
	struct env *a = &chips[0];
	struct tern_dma_desc d = lcopy(1, 0, PHYS, SRC_HBM, DST_HBM, 64);
	unsigned int ia;

	(void)e;
	CHECK(chip_up(0, &l0));
	CHECK(port_is(0, 0, TERN_LINK_STATE_DOWN, 1, 1));
	CHECK(port_is(0, 1, TERN_LINK_STATE_DOWN, 1, 0));
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 0);
	CHECK(run_err(a, 0, d, TERN_ERR_LINK_DOWN, DST_HBM, 0,
		      "link port 1 to chip 1 is down"));
	ia = irq_count(a, TERN_MSIX_VEC_ERROR);
	CHECK(chip_up(1, &l1));
	CHECK(port_is(0, 0, TERN_LINK_STATE_UP, 1, 1));
	CHECK(port_is(0, 1, TERN_LINK_STATE_UP, 1, 0));
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 0x3);
	CHECK_EQ(irq_count(a, TERN_MSIX_VEC_ERROR), ia + 2);
	CHECK(run_ok(a, d));
	CHECK(chip_down(1));
	wr(a, TERN_REG_LINK_EVENTS, 0x3);
	CHECK(chip_up(1, &l1));
	CHECK(chip_down(1));
	CHECK(port_is(0, 0, TERN_LINK_STATE_DOWN, 1, 1));
	CHECK_EQ(rd(a, TERN_REG_LINK_EVENTS), 0x3);
	CHECK_EQ(a->link_state_last[1], TERN_LINK_STATE_DOWN);
	CHECK(fabric_down());
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Pacing holds the engine for at least the modeled transfer time. */
static bool t_pace(struct env *e)
{
	struct tern_link_config lc[2];
	const uint64_t n = 3u << 20;
	struct tern_dma_desc d = lcopy(0, 0, PHYS, SRC_HBM, DST_HBM, n);
	uint64_t t0;

	(void)e;
	for (unsigned int i = 0; i < 2; i++) {
		lc[i] = lcfg("fpace", i, 2, TERN_TOPOLOGY_RING, 0);
		lc[i].bandwidth_mbps = 100;	/* 3 MiB: >= 31.4 ms */
		lc[i].pace = true;
		CHECK(chip_up(i, &lc[i]));
	}
	t0 = now_ns();
	CHECK(run_ok(&chips[0], d));
	CHECK(now_ns() - t0 >= n * 1000 / 100);
	CHECK_EQ(lrd64(&chips[0], 0, TERN_L_BUSY_NS_LO),
		 TERN_LINK_LATENCY_DEFAULT + n * 1000 / 100);
	CHECK(fabric_down());
	return true;
}

/* 64 chips in a ring: data goes all the way round, a sum along it. */
static bool t_ring64(struct env *e)
{
	const unsigned int n = TERN_MAX_CHIPS, cnt = 1024;
	static float want[1024];

	(void)e;
	CHECK(fabric_up("f64", n, TERN_TOPOLOGY_RING, 0));
	fill_pattern(chips[0].hbm + SRC_HBM, 0x10000, 8);
	for (unsigned int i = 0; i < n; i++) {
		float *v = (float *)(void *)(chips[i].hbm + DST_HBM);

		for (unsigned int k = 0; k < cnt; k++)
			v[k] = (float)((i * 7 + k) % 97) * 0.25f - 3.0f;
	}
	memcpy(want, chips[0].hbm + DST_HBM, sizeof(want));
	for (unsigned int i = 0; i < n; i++) {
		struct tern_dma_desc d = lcopy(0, 0, PHYS, SRC_HBM,
					       i == n - 1 ? SRC_HBM + 0x10000 :
					       SRC_HBM, 0x10000);

		CHECK(run_ok(&chips[i], d));
		if (i == n - 1)
			break;
		/* chip i adds its running sum into chip i + 1's vector */
		const float *nv = (const float *)(const void *)
				  (chips[i + 1].hbm + DST_HBM);
		for (unsigned int k = 0; k < cnt; k++)
			want[k] = nv[k] + want[k];
		d = lcopy(0, 0, PHYS | TERN_DESC_F_REDUCE_SUM, DST_HBM,
			  DST_HBM, cnt * 4);
		CHECK(run_ok(&chips[i], d));
	}
	CHECK(!memcmp(chips[0].hbm + SRC_HBM + 0x10000,
		      chips[0].hbm + SRC_HBM, 0x10000));
	CHECK(!memcmp(chips[n - 1].hbm + DST_HBM, want, sizeof(want)));
	for (unsigned int i = 0; i < n; i++) {
		CHECK_EQ(lrd64(&chips[i], 0, TERN_L_TX_BYTES_LO),
			 0x10000 + (i < n - 1 ? cnt * 4 : 0));
		CHECK_EQ(lrd64(&chips[(i + 1) % n], 1, TERN_L_RX_BYTES_LO),
			 0x10000 + (i < n - 1 ? cnt * 4 : 0));
	}
	CHECK(fabric_down());
	return true;
}

static const struct test_case cases[] = {
	TEST("ring wiring of 2, 3 and 8 chips", t_ring),
	TEST("torus2d wiring 4x4, 2x2, 4x2, 2x4, 8x1", t_torus),
	TEST("explicit peers, peer ports, a late peer", t_explicit),
	TEST("every link configuration error", t_config_errors),
	TEST("chips that do not fit their fabric", t_join_errors),
	TEST("LINK_COPY to peer HBM: data, fence, counters", t_copy_phys),
	TEST("LINK_COPY through the peer's MMU, 4K and 2M pages",
	     t_copy_peer_va),
	TEST("reject: port past 3", t_rej_port),
	TEST("reject: reserved link bits", t_rej_link_reserved),
	TEST("reject: SG list on LINK_COPY", t_rej_sgl),
	TEST("reject: DST_HBM with a peer context", t_rej_dst_hbm_with_ctx),
	TEST("reject: no DST_HBM with peer context 0", t_rej_no_dst_hbm),
	TEST("reject: peer context past 63", t_rej_peer_ctx_range),
	TEST("reject: peer context not enabled", t_rej_peer_ctx_off),
	TEST("reject: link word on NOP and COPY", t_rej_link_on_nop_copy),
	TEST("reject: LINK_COPY on a user-mode queue", t_rej_user_queue),
	TEST("reject: peer HBM range", t_rej_peer_hbm_range),
	TEST("reject: source HBM range", t_rej_src_hbm_range),
	TEST("reject: unwired port", t_rej_unwired),
	TEST("reject: peer page without WRITE", t_rej_peer_no_write),
	TEST("reject: peer page in host memory", t_rej_peer_host_page),
	TEST("reject: reduce into a peer page without READ",
	     t_rej_peer_reduce_no_read),
	TEST("reject: peer VA unmapped", t_rej_peer_unmapped),
	TEST("link down and up: both ends, events, IRQs, errors",
	     t_link_down),
	TEST("masked link interrupt, reset clears events", t_link_int_mask),
	TEST("link down in the middle of a copy", t_link_down_mid_copy),
	TEST("a peer that joins late and leaves", t_peer_late),
	TEST("pacing to the modeled bandwidth", t_pace),
	TEST("64 chips in a ring", t_ring64),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
