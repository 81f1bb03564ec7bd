// SPDX-License-Identifier: MIT
/* Fabrics of test chips for the link host tests (see link_util.h). */
#include "link_util.h"

#include <string.h>

struct env chips[MAX_TEST_CHIPS];
static bool up[MAX_TEST_CHIPS];

struct tern_link_config lcfg(const char *fabric, unsigned int id,
			     unsigned int n, unsigned int topology,
			     unsigned int width)
{
	struct tern_link_config lc;

	memset(&lc, 0, sizeof(lc));
	lc.fabric = fabric;
	lc.chip_id = id;
	lc.chips = n;
	lc.topology = topology;
	lc.width = width;
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++)
		lc.peers[p] = -1;
	return lc;
}

bool chip_down(unsigned int i);

bool chip_up(unsigned int i, const struct tern_link_config *lc)
{
	if (up[i] && !chip_down(i))	/* left by a failed test */
		return false;
	if (!env_init_link(&chips[i], 2, 1, 1, lc)) {
		env_fini(&chips[i]);
		return false;
	}
	up[i] = true;
	return true;
}

bool fabric_up(const char *fabric, unsigned int n, unsigned int topology,
	       unsigned int width)
{
	for (unsigned int i = 0; i < n; i++) {
		struct tern_link_config lc = lcfg(fabric, i, n, topology,
						  width);

		if (!chip_up(i, &lc))
			return false;
	}
	return true;
}

bool chip_down(unsigned int i)
{
	if (!up[i])
		return true;
	up[i] = false;
	return env_fini(&chips[i]);
}

bool fabric_down(void)
{
	bool ok = true;

	for (unsigned int i = 0; i < MAX_TEST_CHIPS; i++)
		ok = chip_down(i) && ok;
	return ok;
}

uint64_t lrd64(struct env *e, unsigned int port, uint64_t lo)
{
	return lrd(e, port, lo) | (uint64_t)lrd(e, port, lo + 4) << 32;
}

bool port_is(unsigned int c, unsigned int p, uint32_t state, uint32_t peer,
	     uint32_t peer_port)
{
	struct env *e = &chips[c];

	if (lrd(e, p, TERN_L_STATE) != state ||
	    lrd(e, p, TERN_L_PEER_CHIP) != peer ||
	    lrd(e, p, TERN_L_PEER_PORT) != peer_port) {
		printf("#   chip %u port %u: state %u peer %u port %u, "
		       "expected %u %u %u\n", c, p, lrd(e, p, TERN_L_STATE),
		       lrd(e, p, TERN_L_PEER_CHIP),
		       lrd(e, p, TERN_L_PEER_PORT), state, peer, peer_port);
		return false;
	}
	return true;
}

struct tern_dma_desc lcopy(unsigned int port, unsigned int peer_ctx,
			   uint32_t flags, uint64_t src, uint64_t dst,
			   uint64_t size)
{
	struct tern_dma_desc d = mkdesc(TERN_DESC_OP_LINK_COPY, flags, src,
					dst, size);

	d.link = TERN_LINK_DESC(port, peer_ctx);
	return d;
}

static bool q_ready(struct env *e, unsigned int q)
{
	if (qrd(e, q, TERN_Q_STATUS) == TERN_Q_STATE_DISABLED)
		CHECK_EQ(q_enable(e, q, RING(q), RSIZE, false),
			 TERN_Q_STATE_ACTIVE);
	return true;
}

bool run_ok(struct env *e, struct tern_dma_desc d)
{
	uint64_t done = qrd(e, 0, TERN_Q_COMPLETED_LO);
	uint32_t errs = rd(e, TERN_REG_ERR_COUNT);

	CHECK(q_ready(e, 0));
	CHECK_EQ(q_run1(e, 0, RING(0), RSIZE, &d), TERN_Q_STATE_ACTIVE);
	CHECK_EQ(qrd(e, 0, TERN_Q_COMPLETED_LO), done + 1);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), errs);
	return true;
}

bool run_err(struct env *e, unsigned int q, struct tern_dma_desc d,
	     uint32_t code, uint64_t addr, uint32_t info, const char *why)
{
	uint32_t idx, count = rd(e, TERN_REG_ERR_COUNT);
	unsigned int irqs = irq_count(e, TERN_MSIX_VEC_ERROR);

	CHECK(q_ready(e, q));
	idx = qrd(e, q, TERN_Q_TAIL);
	log_clear(e);
	CHECK_EQ(q_run1(e, q, RING(q), RSIZE, &d), TERN_Q_STATE_HALTED);
	CHECK_EQ(qrd(e, q, TERN_Q_ERROR), code);
	CHECK_EQ(qrd(e, q, TERN_Q_HEAD), idx);
	CHECK_EQ(rd(e, TERN_REG_ERR_CODE), code);
	CHECK_EQ(rd(e, TERN_REG_ERR_QUEUE), q);
	CHECK_EQ(rd(e, TERN_REG_ERR_INDEX), idx);
	CHECK_EQ(err_addr(e), addr);
	CHECK_EQ(rd(e, TERN_REG_ERR_INFO), info);
	CHECK_EQ(rd(e, TERN_REG_ERR_COUNT), count + 1);
	CHECK(irq_count(e, TERN_MSIX_VEC_ERROR) >= irqs + 1);
	if (code == TERN_ERR_MMU_FAULT)
		CHECK_EQ(qrd(e, q, TERN_Q_FAULT_INFO), info);
	if (!log_has(e, why)) {
		printf("#   no log line with \"%s\"\n", why);
		return false;
	}
	wr(e, TERN_REG_ERR_ACK, 1);
	qwr(e, q, TERN_Q_HEAD, (idx + 1) % RSIZE);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
	CHECK_EQ(qrd(e, q, TERN_Q_STATUS), TERN_Q_STATE_ACTIVE);
	return true;
}

bool all_is(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}
