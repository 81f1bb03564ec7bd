// SPDX-License-Identifier: MIT
/*
 * tern model: configuration, register file, reset, queue enable and
 * doorbell validation, error latching and interrupt status/mask.
 */
#include "tern_test.h"
#include "tern_isa.h"

#include <string.h>
#include <time.h>

#define RING	gpa(0)		/* host ring at the start of RAM */

static bool cfg_rejected(unsigned long long hbm, unsigned int cores,
			 unsigned int queues, unsigned int engines,
			 const char *prop)
{
	struct tern_config c = { .hbm_size = hbm, .cores = cores,
				 .queues = queues, .dma_engines = engines };
	char err[256] = "";

	if (tern_config_check(&c, err, sizeof(err))) {
		printf("#   accepted hbm %llu cores %u queues %u engines %u\n",
		       hbm, cores, queues, engines);
		return false;
	}
	if (strncmp(err, prop, strlen(prop))) {
		printf("#   message \"%s\" does not name %s\n", err, prop);
		return false;
	}
	return true;
}

static bool t_config_check(struct env *e)
{
	struct tern_config c = { .hbm_size = TERN_HBM_SIZE_DEFAULT,
				 .cores = 2, .queues = 8, .dma_engines = 2 };
	char err[256];

	(void)e;
	CHECK(tern_config_check(&c, err, sizeof(err)));
	c.hbm_size = TERN_HBM_SIZE_MIN;
	c.cores = TERN_MAX_CORES;
	c.queues = TERN_MAX_QUEUES;
	c.dma_engines = TERN_MAX_DMA_ENGINES;
	CHECK(tern_config_check(&c, err, sizeof(err)));
	c.hbm_size = TERN_HBM_SIZE_MAX;
	c.cores = c.queues = c.dma_engines = 1;
	CHECK(tern_config_check(&c, err, sizeof(err)));

	CHECK(cfg_rejected(100ull << 20, 2, 8, 2, "hbm-size"));
	CHECK(cfg_rejected(32ull << 20, 2, 8, 2, "hbm-size"));
	CHECK(cfg_rejected(128ull << 30, 2, 8, 2, "hbm-size"));
	CHECK(cfg_rejected(0, 2, 8, 2, "hbm-size"));
	CHECK(cfg_rejected(1ull << 30, 0, 8, 2, "cores"));
	CHECK(cfg_rejected(1ull << 30, 9, 8, 2, "cores"));
	CHECK(cfg_rejected(1ull << 30, 2, 0, 2, "queues"));
	CHECK(cfg_rejected(1ull << 30, 2, 65, 2, "queues"));
	CHECK(cfg_rejected(1ull << 30, 2, 8, 0, "dma-engines"));
	CHECK(cfg_rejected(1ull << 30, 2, 8, 9, "dma-engines"));

	/* sbuf-size: 0 is the default, else the ISA's limits */
	c.hbm = NULL;
	c.hbm_size = TERN_HBM_SIZE_DEFAULT;
	c.sbuf_size = TERN_SBUF_SIZE_MIN;
	CHECK(tern_config_check(&c, err, sizeof(err)));
	c.sbuf_size = TERN_SBUF_SIZE_MAX;
	CHECK(tern_config_check(&c, err, sizeof(err)));
	c.sbuf_size = TERN_SBUF_SIZE_MIN + 4096;
	CHECK(!tern_config_check(&c, err, sizeof(err)));
	CHECK(strstr(err, "sbuf-size"));
	c.sbuf_size = TERN_SBUF_SIZE_MAX + TERN_SBUF_SIZE_ALIGN;
	CHECK(!tern_config_check(&c, err, sizeof(err)));
	CHECK(strstr(err, "sbuf-size"));
	c.sbuf_size = 0;

	/* create refuses a missing backing store */
	c.hbm = NULL;
	CHECK(!tern_dev_create(&c, &test_host_ops, e, err, sizeof(err)));
	CHECK(strstr(err, "HBM"));
	return true;
}

static bool t_identity(struct env *e)
{
	CHECK_EQ(rd(e, TERN_REG_MAGIC), TERN_MAGIC);
	CHECK_EQ(rd(e, TERN_REG_VERSION),
		 TERN_VERSION_MAJOR << 16 | TERN_VERSION_MINOR);
	CHECK_EQ((rd(e, TERN_REG_REVISION) & TERN_REVISION_PLATFORM_MASK) >>
		 TERN_REVISION_PLATFORM_SHIFT, TERN_PLATFORM_EMULATED);
	CHECK_EQ(rd(e, TERN_REG_REVISION) & TERN_REVISION_REV_MASK, 1);
	CHECK_EQ(rd(e, TERN_REG_REVISION) >> 16, 0);
	CHECK_EQ(rd(e, TERN_REG_CAPS),
		 TERN_CAP_DMA_SGL | TERN_CAP_RING_IN_HBM | TERN_CAP_COMPUTE |
		 TERN_CAP_MMU | TERN_CAP_USER_QUEUES | TERN_CAP_LINKS |
		 TERN_CAP_TELEMETRY | TERN_CAP_PROFILE | TERN_CAP_RAS);
	CHECK_EQ(TERN_VERSION_MINOR, 6);
	CHECK_EQ(rd(e, TERN_REG_NUM_CONTEXTS), TERN_MAX_CONTEXTS);
	/* no fabric: links exist, none is wired */
	CHECK_EQ(rd(e, TERN_REG_CHIP_ID), 0);
	CHECK_EQ(rd(e, TERN_REG_FABRIC_ID), 0);
	CHECK_EQ(rd(e, TERN_REG_FABRIC_CHIPS), 0);
	CHECK_EQ(rd(e, TERN_REG_NUM_LINKS), TERN_MAX_LINKS);
	CHECK_EQ(rd(e, TERN_REG_LINK_EVENTS), 0);
	CHECK_EQ(rd(e, TERN_REG_LINK_ERRORS), 0);
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		CHECK_EQ(rd(e, TERN_REG_LINK(p) + TERN_L_STATE),
			 TERN_LINK_STATE_NONE);
		CHECK_EQ(rd(e, TERN_REG_LINK(p) + TERN_L_PEER_CHIP),
			 TERN_LINK_NO_PEER);
		CHECK_EQ(rd(e, TERN_REG_LINK(p) + TERN_L_PEER_PORT),
			 TERN_LINK_NO_PEER);
		CHECK_EQ(rd(e, TERN_REG_LINK(p) + TERN_L_BANDWIDTH), 0);
		CHECK_EQ(rd(e, TERN_REG_LINK(p) + TERN_L_TX_BYTES_LO), 0);
	}
	CHECK_EQ(rd(e, TERN_REG_MMU_FAULTS), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), 0);
	CHECK_EQ(rd(e, TERN_REG_MMU_INVALIDATE), 0);
	CHECK_EQ(rd(e, TERN_REG_SBUF_SIZE), TERN_SBUF_SIZE_DEFAULT);
	CHECK_EQ(rd(e, TERN_REG_NUM_CORES), e->cfg.cores);
	CHECK_EQ(rd(e, TERN_REG_NUM_QUEUES), e->cfg.queues);
	CHECK_EQ(rd(e, TERN_REG_NUM_DMA_ENGINES), e->cfg.dma_engines);
	CHECK_EQ(rd(e, TERN_REG_RING_MAX_ENTRIES), TERN_RING_MAX_ENTRIES);
	CHECK_EQ(rd(e, TERN_REG_HBM_SIZE_LO), (uint32_t)HBM_SIZE);
	CHECK_EQ(rd(e, TERN_REG_HBM_SIZE_HI), (uint32_t)(HBM_SIZE >> 32));
	CHECK_EQ(rd(e, TERN_REG_DOORBELL_STRIDE), TERN_DOORBELL_STRIDE);
	CHECK_EQ(rd(e, TERN_REG_STATUS), TERN_STATUS_READY);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), 0);
	CHECK_EQ(rd(e, TERN_REG_INT_MASK), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	for (unsigned int q = 0; q < e->cfg.queues; q++) {
		CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
		CHECK_EQ(qrd(e, q, TERN_Q_CTRL), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_TAIL), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_CTX), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_INFO), 0);
	}
	for (unsigned int n = 1; n < TERN_MAX_CONTEXTS; n++)
		CHECK_EQ(rd(e, TERN_REG_CTX(n) + TERN_CTX_CTRL), 0);
	CHECK_EQ(log_count(e), 0);
	return true;
}

static bool t_readonly(struct env *e)
{
	static const uint64_t ro[] = {
		TERN_REG_MAGIC, TERN_REG_VERSION, TERN_REG_REVISION,
		TERN_REG_CAPS, TERN_REG_NUM_CORES, TERN_REG_NUM_QUEUES,
		TERN_REG_NUM_DMA_ENGINES, TERN_REG_RING_MAX_ENTRIES,
		TERN_REG_HBM_SIZE_LO, TERN_REG_HBM_SIZE_HI,
		TERN_REG_DOORBELL_STRIDE, TERN_REG_STATUS, TERN_REG_ERR_CODE,
		TERN_REG_ERR_QUEUE, TERN_REG_ERR_INDEX, TERN_REG_ERR_ADDR_LO,
		TERN_REG_ERR_ADDR_HI, TERN_REG_ERR_COUNT, TERN_REG_ERR_INFO,
		TERN_REG_NUM_CONTEXTS, TERN_REG_MMU_FAULTS, TERN_REG_CHIP_ID,
		TERN_REG_FABRIC_ID, TERN_REG_FABRIC_CHIPS, TERN_REG_NUM_LINKS,
		TERN_REG_LINK_ERRORS, TERN_REG_LINK(0) + TERN_L_STATE,
		TERN_REG_LINK(1) + TERN_L_PEER_CHIP,
		TERN_REG_LINK(2) + TERN_L_PEER_PORT,
		TERN_REG_LINK(3) + TERN_L_BUSY_NS_HI,
	};
	static const uint64_t qro[] = {
		TERN_Q_TAIL, TERN_Q_STATUS, TERN_Q_ERROR, TERN_Q_COMPLETED_LO,
		TERN_Q_COMPLETED_HI, TERN_Q_FAULT_ADDR_LO, TERN_Q_FAULT_ADDR_HI,
		TERN_Q_FAULT_INFO,
	};
	unsigned int nq = sizeof(qro) / sizeof(qro[0]);
	uint32_t before[sizeof(ro) / sizeof(ro[0])];
	unsigned int n = sizeof(ro) / sizeof(ro[0]);

	for (unsigned int i = 0; i < n; i++)
		before[i] = rd(e, ro[i]);
	for (unsigned int i = 0; i < n; i++)
		wr(e, ro[i], 0x12345678);
	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(rd(e, ro[i]), before[i]);
	CHECK_EQ(log_count(e), n);
	CHECK(log_has(e, "read-only register MAGIC"));

	CHECK_EQ(q_enable(e, 1, RING, 8, false), TERN_Q_STATE_ACTIVE);
	log_clear(e);
	for (unsigned int i = 0; i < nq; i++)
		qwr(e, 1, qro[i], 3);
	CHECK_EQ(qrd(e, 1, TERN_Q_TAIL), 0);
	CHECK_EQ(qrd(e, 1, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 1, TERN_Q_ERROR), 0);
	CHECK_EQ(qrd(e, 1, TERN_Q_COMPLETED_LO), 0);
	CHECK_EQ(qrd(e, 1, TERN_Q_FAULT_INFO), 0);
	CHECK_EQ(log_count(e), nq);
	/* HEAD is read-only unless the queue is halted */
	qwr(e, 1, TERN_Q_HEAD, 2);
	CHECK_EQ(qrd(e, 1, TERN_Q_HEAD), 0);
	CHECK_EQ(log_count(e), nq + 1);
	/* write-only registers read 0 */
	CHECK_EQ(rd(e, TERN_REG_RESET), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_ACK), 0);
	return true;
}

static bool t_unknown_offsets(struct env *e)
{
	static const uint64_t holes[] = {
		0x030, 0x03c, 0x05c, 0x08c, 0x800, 0xffc,
		TERN_REG_QUEUE(0) + 0x2c, TERN_REG_QUEUE(0) + 0x3c,
		TERN_REG_QUEUE(3) + 0x3c, TERN_REG_CTX(0),
		TERN_REG_CTX(0) + TERN_CTX_CTRL, TERN_REG_CTX(5) + 0xc,
		TERN_REG_LINK(0) + 0x30, TERN_REG_LINK(3) + 0x3c,
		TERN_REG_LINK(4), TERN_REG_LINK_ERRORS + 4,
	};
	unsigned int n = sizeof(holes) / sizeof(holes[0]);

	/* 4 queues: the registers of queue 4 and up do not exist */
	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(rd(e, holes[i]), 0);
	CHECK_EQ(rd(e, TERN_REG_QUEUE(4) + TERN_Q_STATUS), 0);
	CHECK_EQ(rd(e, TERN_REG_QUEUE(63) + TERN_Q_HEAD), 0);
	CHECK_EQ(rd(e, TERN_REG_WINDOW_SIZE - 4), 0);
	CHECK_EQ(log_count(e), n + 3);
	CHECK(log_has(e, "tern: unit0: BAR0 read of unknown register 0x30"));

	log_clear(e);
	wr(e, 0x800, 1);
	wr(e, TERN_REG_QUEUE(4) + TERN_Q_RING_SIZE, 8);
	wr(e, TERN_REG_QUEUE(4) + TERN_Q_CTRL, TERN_Q_CTRL_ENABLE);
	CHECK_EQ(log_count(e), 3);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	CHECK_EQ(rd(e, 0x800), 0);
	return true;
}

static bool t_access_size(struct env *e)
{
	/* only aligned 32-bit accesses reach registers */
	CHECK_EQ(tern_mmio_read(e->dev, TERN_REG_MAGIC, 8), 0);
	CHECK_EQ(tern_mmio_read(e->dev, TERN_REG_MAGIC, 2), 0);
	CHECK_EQ(tern_mmio_read(e->dev, TERN_REG_MAGIC, 1), 0);
	CHECK_EQ(tern_mmio_read(e->dev, TERN_REG_MAGIC + 1, 4), 0);
	CHECK_EQ(log_count(e), 4);
	CHECK(log_has(e, "8-byte read at 0x0"));

	tern_mmio_write(e->dev, TERN_REG_INT_MASK, TERN_INT_ERROR, 2);
	tern_mmio_write(e->dev, TERN_REG_INT_MASK, TERN_INT_ERROR, 8);
	tern_mmio_write(e->dev, TERN_REG_INT_MASK + 2, TERN_INT_ERROR, 4);
	tern_mmio_write(e->dev, TERN_REG_QUEUE(0) + TERN_Q_RING_BASE_LO,
			0x1111111122222240ull, 8);
	CHECK_EQ(rd(e, TERN_REG_INT_MASK), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_RING_BASE_LO), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_RING_BASE_HI), 0);
	CHECK_EQ(log_count(e), 8);
	return true;
}

static bool t_doorbell_bar(struct env *e)
{
	/* a page per queue, then one per core, rounded up to a power of 2 */
	CHECK_EQ(tern_doorbell_bar_size(1, 0), 4096);
	CHECK_EQ(tern_doorbell_bar_size(2, 0), 8192);
	CHECK_EQ(tern_doorbell_bar_size(3, 0), 16384);
	CHECK_EQ(tern_doorbell_bar_size(8, 0), 32768);
	CHECK_EQ(tern_doorbell_bar_size(33, 0), 256 * 1024);
	CHECK_EQ(tern_doorbell_bar_size(64, 0), 256 * 1024);
	CHECK_EQ(tern_doorbell_bar_size(1, 1), 8192);
	CHECK_EQ(tern_doorbell_bar_size(6, 2), 32768);
	CHECK_EQ(tern_doorbell_bar_size(8, 2), 65536);
	CHECK_EQ(tern_doorbell_bar_size(64, 8), 512 * 1024);

	/* reads are 0; writes off a page start or not 32-bit are ignored */
	CHECK_EQ(q_enable(e, 0, RING, 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(tern_doorbell_read(e->dev, 0, 4), 0);
	tern_doorbell_write(e->dev, 4, 1, 4);
	tern_doorbell_write(e->dev, 0, 1, 8);
	tern_doorbell_write(e->dev, 0, 1, 2);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	CHECK_EQ(log_count(e), 4);
	return true;
}

static bool bad_ring(struct env *e, unsigned int q, uint64_t base,
		     uint32_t size, bool in_hbm, const char *why)
{
	uint32_t count = rd(e, TERN_REG_ERR_COUNT);

	wr(e, TERN_REG_ERR_ACK, 1);
	if (q_enable(e, q, base, size, in_hbm) != TERN_Q_STATE_DISABLED) {
		printf("#   %s: queue enabled\n", why);
		return false;
	}
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), TERN_ERR_BAD_RING);
	CHECK_EQ(qrd(e, q, TERN_Q_CTRL), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_BAD_RING);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), q);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), size);
	CHECK_EQ(err_addr(e), base);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	CHECK(rd(e, TERN_REG_STATUS) & TERN_STATUS_ERROR);
	CHECK(log_has(e, why));
	return true;
}

static bool t_ring_enable(struct env *e)
{
	uint64_t hbm = HBM_SIZE;

	CHECK(bad_ring(e, 0, RING, 3, false, "ring size 3"));
	CHECK(bad_ring(e, 0, RING, 0, false, "ring size 0"));
	CHECK(bad_ring(e, 1, RING, 1, false, "ring size 1 "));
	CHECK(bad_ring(e, 1, RING, 131072, false, "ring size 131072"));
	CHECK(bad_ring(e, 2, RING + 32, 8, false, "not 64-byte aligned"));
	CHECK(bad_ring(e, 2, 65, 8, true, "not 64-byte aligned"));
	CHECK(bad_ring(e, 3, hbm - 7 * 64, 8, true, "outside the HBM"));
	CHECK(bad_ring(e, 3, hbm, 2, true, "outside the HBM"));
	CHECK(bad_ring(e, 3, ~0ull - 63, 4, true, "outside the HBM"));
	CHECK(bad_ring(e, 4, ~0ull - 63, 4, false, "wraps"));
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 10);

	/* valid: extremes of size, HBM ring ending exactly at the end */
	wr(e, TERN_REG_ERR_ACK, 1);
	CHECK_EQ(q_enable(e, 0, RING, 2, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_enable(e, 1, RING, 65536, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_enable(e, 2, hbm - 8 * 64, 8, true), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 2, TERN_Q_CTRL),
		 TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RING_IN_HBM);
	CHECK_EQ(qrd(e, 2, TERN_Q_ERROR), TERN_ERR_NONE);
	CHECK_EQ(qrd(e, 2, TERN_Q_RING_BASE_LO), (uint32_t)(hbm - 8 * 64));
	CHECK_EQ(qrd(e, 2, TERN_Q_RING_SIZE), 8);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);

	/* an invalid re-enable of a running queue leaves it disabled */
	CHECK(bad_ring(e, 0, RING, 6, false, "ring size 6"));
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	/* CTRL with unknown bits is ignored */
	log_clear(e);
	qwr(e, 1, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | 0x100);
	CHECK_EQ(qrd(e, 1, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK(log_has(e, "unknown bits"));
	/* CTRL = 0 disables */
	qwr(e, 1, TERN_Q_CTRL, 0);
	CHECK_EQ(qrd(e, 1, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	return true;
}

static bool t_doorbell_errors(struct env *e)
{
	/*
	 * 5 queues, 2 cores: the doorbell BAR has 8 pages, pages 5 and 6 are
	 * the cores' launch rings, page 7 has neither
	 */
	doorbell(e, 0, 1);
	CHECK_EQ(qrd(e, 0, TERN_Q_TAIL), 0);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 1);
	CHECK(log_has(e, "tern: unit0: queue 0 index 1: doorbell tail 1 on "
		      "a disabled queue"));
	wr(e, TERN_REG_ERR_ACK, 1);

	CHECK_EQ(q_enable(e, 2, RING, 8, false), TERN_Q_STATE_ACTIVE);
	doorbell(e, 2, 8);
	CHECK_EQ(qrd(e, 2, TERN_Q_TAIL), 0);
	CHECK_EQ(qrd(e, 2, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 2, TERN_Q_ERROR), TERN_ERR_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), 2);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 8);
	CHECK_EQ(err_addr(e), 2 * TERN_DOORBELL_STRIDE);
	CHECK(log_has(e, "out of range"));
	wr(e, TERN_REG_ERR_ACK, 1);

	tern_doorbell_write(e->dev, 7 * TERN_DOORBELL_STRIDE, 0, 4);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_NONE);
	CHECK(log_has(e, "doorbell page 7 has no queue or core"));
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 3);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 3);

	/* a valid doorbell on an empty ring just moves the tail */
	doorbell(e, 2, 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 3);
	return true;
}

static bool t_error_latch_ack(struct env *e)
{
	/* first unacknowledged error stays latched, count goes on */
	doorbell(e, 1, 5);
	doorbell(e, 3, 6);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 5);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 2);
	CHECK_EQ(rd(e, TERN_REG_STATUS), TERN_STATUS_READY | TERN_STATUS_ERROR);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), TERN_INT_ERROR);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 2);

	/* ERR_ACK without bit 0 does nothing */
	wr(e, TERN_REG_ERR_ACK, 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);
	/* INT_STATUS.ERROR is W1C and independent of the latch */
	wr(e, TERN_REG_INT_STATUS, TERN_INT_QUEUE);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), TERN_INT_ERROR);
	wr(e, TERN_REG_INT_STATUS, TERN_INT_ERROR);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_DOORBELL);

	wr(e, TERN_REG_ERR_ACK, 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), TERN_ERR_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 0);
	CHECK_EQ(err_addr(e), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 2);
	CHECK_EQ(rd(e, TERN_REG_STATUS), TERN_STATUS_READY);

	/* the next error latches again */
	doorbell(e, 2, 7);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), 2);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), 7);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 3);
	return true;
}

static bool t_int_mask_error(struct env *e)
{
	wr(e, TERN_REG_INT_MASK, TERN_INT_ERROR | TERN_INT_QUEUE | 0xe0);
	CHECK_EQ(rd(e, TERN_REG_INT_MASK), TERN_INT_ERROR | TERN_INT_QUEUE);
	CHECK(log_has(e, "INT_MASK"));
	doorbell(e, 0, 1);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), TERN_INT_ERROR);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 0);
	/* unmasking a pending cause sends its vector */
	wr(e, TERN_REG_INT_MASK, TERN_INT_QUEUE);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 1);
	wr(e, TERN_REG_INT_MASK, 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 1);
	/* clear the cause: no vector on a later unmask */
	wr(e, TERN_REG_INT_STATUS, TERN_INT_ERROR);
	wr(e, TERN_REG_INT_MASK, TERN_INT_ERROR);
	wr(e, TERN_REG_INT_MASK, 0);
	CHECK_EQ(irq_count(e, TERN_MSIX_VEC_ERROR), 1);
	return true;
}

static bool t_reset(struct env *e)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_NOP, TERN_DESC_F_IRQ,
					0, 0, 0);
	unsigned int resets = e->resets;

	memset(e->hbm + 4096, 0x5a, 4096);
	CHECK_EQ(q_enable(e, 0, RING, 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_enable(e, 1, 0, 4, true), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, 0, RING, 8, &d), TERN_Q_STATE_ACTIVE);
	d.opcode = 9;
	CHECK_EQ(q_run1(e, 0, RING, 8, &d), TERN_Q_STATE_HALTED);
	wr(e, TERN_REG_INT_MASK, TERN_INT_QUEUE);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 1);
	CHECK(rd(e, TERN_REG_STATUS) & TERN_STATUS_ERROR);

	/* a wrong key does nothing */
	wr(e, TERN_REG_RESET, 0x1234);
	CHECK(log_has(e, "not the reset key"));
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_HALTED);
	CHECK_EQ(e->resets, resets);

	wr(e, TERN_REG_RESET, TERN_RESET_KEY);
	CHECK_EQ(e->resets, resets + 1);
	for (unsigned int q = 0; q < e->cfg.queues; q++) {
		CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
		CHECK_EQ(qrd(e, q, TERN_Q_CTRL), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_HEAD), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_TAIL), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_ERROR), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_COMPLETED_LO), 0);
		CHECK_EQ(qrd(e, q, TERN_Q_RING_SIZE), 0);
	}
	CHECK_EQ(rd(e, TERN_REG_STATUS), TERN_STATUS_READY);
	CHECK_EQ(rd(e, TERN_REG_INT_STATUS), 0);
	CHECK_EQ(rd(e, TERN_REG_INT_MASK), 0);
	CHECK_EQ(rd(e, TERN_REG_QDONE_LO), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), 0);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), TERN_ERR_QUEUE_NONE);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), 0);
	CHECK_EQ(rd(e, TERN_REG_MAGIC), TERN_MAGIC);
	/* HBM contents are kept */
	for (unsigned int i = 0; i < 4096; i++)
		CHECK_EQ(e->hbm[4096 + i], 0x5a);
	/* and the device works again */
	d.opcode = TERN_DESC_OP_NOP;
	CHECK_EQ(q_enable(e, 0, RING, 8, false), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(q_run1(e, 0, RING, 8, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), 1);
	/* the embedder's reset entry point is the same reset */
	tern_dev_reset(e->dev);
	CHECK_EQ(qrd(e, 0, TERN_Q_STATUS), TERN_Q_STATE_DISABLED);
	CHECK_EQ(e->resets, resets + 2);
	return true;
}

static bool t_worker_hooks(struct env *e)
{
	/* every engine thread ran the embedder's init hook (exit: env_fini) */
	for (int i = 0; i < 60000; i++) {
		unsigned int n;

		pthread_mutex_lock(&e->lock);
		n = e->worker_inits;
		pthread_mutex_unlock(&e->lock);
		if (n == e->cfg.dma_engines + e->cfg.cores)
			return true;
		{
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	printf("#   only %u of %u workers started\n", e->worker_inits,
	       e->cfg.dma_engines + e->cfg.cores);
	return false;
}

static bool t_names(struct env *e)
{
	(void)e;
	CHECK(!strcmp(tern_reg_name(TERN_REG_MAGIC), "MAGIC"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_ERR_ACK), "ERR_ACK"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_QUEUE(5) + TERN_Q_CTRL),
		      "Q_CTRL"));
	CHECK(!strcmp(tern_reg_name(0x800), "?"));
	CHECK(!strcmp(tern_err_name(TERN_ERR_FENCE), "FENCE"));
	CHECK(!strcmp(tern_err_name(TERN_ERR_BAD_LAUNCH), "BAD_LAUNCH"));
	CHECK(!strcmp(tern_err_name(TERN_ERR_COUNT), "?"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_CORE(7) + TERN_C_CTRL),
		      "C_CTRL"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_CORE_DONE), "CORE_DONE"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_SBUF_SIZE), "SBUF_SIZE"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_LINK_EVENTS), "LINK_EVENTS"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_CHIP_ID), "CHIP_ID"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_LINK(3) + TERN_L_RX_BYTES_HI),
		      "L_RX_BYTES_HI"));
	CHECK(!strcmp(tern_reg_name(TERN_REG_LINK(0) + 0x30), "?"));
	CHECK(!strcmp(tern_err_name(TERN_ERR_LINK_DOWN), "LINK_DOWN"));
	return true;
}

static const struct test_case cases[] = {
	TEST("config_check rejects bad properties", t_config_check),
	TEST_CFG("identity registers", t_identity, 5, 3, 3),
	TEST("read-only registers ignore writes and log", t_readonly),
	TEST_CFG("unknown offsets read 0 and log", t_unknown_offsets, 4, 0, 0),
	TEST("non-32-bit or unaligned accesses are ignored", t_access_size),
	TEST("doorbell BAR size and bad doorbell accesses", t_doorbell_bar),
	TEST("ring enable validation", t_ring_enable),
	TEST_CFG("doorbell errors", t_doorbell_errors, 5, 0, 0),
	TEST("error latch, ERR_ACK and ERR_COUNT", t_error_latch_ack),
	TEST("INT_MASK suppresses and unmask resends the error vector",
	     t_int_mask_error),
	TEST("reset clears state and keeps HBM", t_reset),
	TEST_CFG("worker init hook on every engine", t_worker_hooks, 8, 8, 0),
	TEST("register and error names", t_names),
};

int main(void)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
