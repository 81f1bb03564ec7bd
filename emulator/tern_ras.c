// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: RAS and fault injection. HBM ECC errors (a
 * corrected error pending on a line until it is read, an uncorrected one
 * poisoning the line until it is written), the RAS registers, the injected
 * DMA aborts, core hangs and lost completions, the per-core reset, and the
 * parsers of the QEMU properties' strings. See tern_ras.h for the locking
 * and Documentation/chip/spec.rst ("Fault injection", "RAS") for the
 * behaviour.
 */
#include "tern_model_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MASK	(~(uint64_t)(TERN_RAS_LINE - 1))
#define REPORTED	1ull	/* bit 0 of a ue[] entry */

static uint64_t line_of(uint64_t e)
{
	return e & LINE_MASK;
}

/* Line at l overlaps [off, off + len)? (len > 0, no wrap: inside HBM) */
static bool overlaps(uint64_t l, uint64_t off, uint64_t len)
{
	return l < off + len && off < l + TERN_RAS_LINE;
}

static void raise_ras(struct tern_dev *dev)
{
	tern_send_irq(dev, TERN_MSIX_VEC_ERROR, dev->int_mask & TERN_INT_RAS);
}

void tern_ras_count(struct tern_dev *dev)
{
	atomic_fetch_add(&dev->ras.faults, 1);
}

uint32_t tern_ras_read(struct tern_dev *dev, uint64_t off, uint64_t len,
		       uint64_t *bad)
{
	struct tern_ras *ras = &dev->ras;
	uint64_t first = UINT64_MAX;
	unsigned int hit = 0, i;
	bool ce = false;

	if (!len || !atomic_load(&ras->active))
		return 0;
	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < ras->nue; i++)
		if (overlaps(line_of(ras->ue[i]), off, len) &&
		    line_of(ras->ue[i]) < first) {
			first = line_of(ras->ue[i]);
			hit = i;
		}
	if (first != UINT64_MAX) {
		if (!(ras->ue[hit] & REPORTED)) {
			ras->ue[hit] |= REPORTED;
			tern_ras_count(dev);
		}
		ras->status |= TERN_RAS_UE;
		ras->ue_addr = first;
		tern_telem_ecc(dev, false);
		raise_ras(dev);
		pthread_mutex_unlock(&dev->lock);
		*bad = first;
		return TERN_ERR_ECC_UNCORRECTED;
	}
	/* corrected on the way: the data read is right */
	for (i = 0; i < ras->nce;) {
		if (!overlaps(ras->ce[i], off, len)) {
			i++;
			continue;
		}
		ras->status |= TERN_RAS_CE;
		ras->ce_addr = ras->ce[i];
		tern_telem_ecc(dev, true);
		tern_ras_count(dev);
		ras->ce[i] = ras->ce[--ras->nce];
		atomic_fetch_sub(&ras->active, 1);
		ce = true;
	}
	if (ce)
		raise_ras(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

uint32_t tern_ras_check(struct tern_dev *dev, uint64_t off, uint64_t len,
			const char *what, struct fault *f)
{
	uint64_t bad;

	if (!tern_ras_read(dev, off, len, &bad))
		return 0;
	return tern_fail(f, TERN_ERR_ECC_UNCORRECTED, bad, "uncorrected "
		    "ECC error in the HBM line at 0x%" PRIx64 " (%s)", bad,
		    what);
}

void tern_ras_write(struct tern_dev *dev, uint64_t off, uint64_t len)
{
	struct tern_ras *ras = &dev->ras;

	if (len < TERN_RAS_LINE || !atomic_load(&ras->active))
		return;
	pthread_mutex_lock(&dev->lock);
	/* a line written whole gets new data and new check bits */
	for (unsigned int i = 0; i < ras->nue;) {
		uint64_t l = line_of(ras->ue[i]);

		if (l >= off && l + TERN_RAS_LINE <= off + len) {
			ras->ue[i] = ras->ue[--ras->nue];
			atomic_fetch_sub(&ras->poisoned, 1);
			atomic_fetch_sub(&ras->active, 1);
		} else {
			i++;
		}
	}
	for (unsigned int i = 0; i < ras->nce;) {
		uint64_t l = ras->ce[i];

		if (l >= off && l + TERN_RAS_LINE <= off + len) {
			ras->ce[i] = ras->ce[--ras->nce];
			atomic_fetch_sub(&ras->active, 1);
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

/* ---- registers and reset (dev->lock held) ---- */

void tern_ras_reset(struct tern_dev *dev)
{
	struct tern_ras *ras = &dev->ras;

	ras->status = 0;
	ras->ce_addr = 0;
	ras->ue_addr = 0;
	ras->dma_abort = 0;
	ras->lost_queue = 0;
	ras->core_hang = 0;
	ras->lost_core = 0;
	ras->hung = 0;
}

uint32_t tern_ras_int(const struct tern_dev *dev)
{
	return dev->ras.status ? TERN_INT_RAS : 0;
}

bool tern_ras_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	struct tern_ras *ras = &dev->ras;

	switch (off) {
	case TERN_REG_RAS_STATUS: *v = ras->status; return true;
	case TERN_REG_RAS_CE_ADDR_LO: *v = (uint32_t)ras->ce_addr; return true;
	case TERN_REG_RAS_CE_ADDR_HI: *v = ras->ce_addr >> 32; return true;
	case TERN_REG_RAS_UE_ADDR_LO: *v = (uint32_t)ras->ue_addr; return true;
	case TERN_REG_RAS_UE_ADDR_HI: *v = ras->ue_addr >> 32; return true;
	case TERN_REG_RAS_POISONED: *v = atomic_load(&ras->poisoned); return true;
	}
	return false;
}

bool tern_ras_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	switch (off) {
	case TERN_REG_RAS_STATUS:
		if (val & ~(TERN_RAS_CE | TERN_RAS_UE))
			tern_guest_err(dev, "RAS_STATUS write 0x%" PRIx32
				       ": unknown bits ignored", val);
		dev->ras.status &= ~val;
		return true;
	case TERN_REG_RAS_CE_ADDR_LO:
	case TERN_REG_RAS_CE_ADDR_HI:
	case TERN_REG_RAS_UE_ADDR_LO:
	case TERN_REG_RAS_UE_ADDR_HI:
	case TERN_REG_RAS_POISONED:
		tern_guest_err(dev, "write 0x%" PRIx32 " to read-only "
			       "register %s ignored", val, tern_reg_name(off));
		return true;
	}
	return false;
}

/* ---- core hang and per-core reset ---- */

bool tern_ras_take_hang(struct tern_dev *dev, unsigned int c)
{
	if (!(dev->ras.core_hang & (1u << c)))
		return false;
	dev->ras.core_hang &= ~(1u << c);
	dev->ras.hung |= 1u << c;
	tern_ras_count(dev);
	return true;
}

bool tern_ras_core_hung(const struct tern_dev *dev, unsigned int c)
{
	return dev->ras.hung & (1u << c);
}

uint32_t tern_ras_hang(struct tern_launch_ring *r)
{
	struct tern_dev *dev = r->dev;

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping && !atomic_load(&r->abandon))
		pthread_cond_wait(&r->wake, &dev->lock);
	pthread_mutex_unlock(&dev->lock);
	return ERR_ABORTED;
}

void tern_ras_core_reset(struct tern_launch_ring *r)
{
	struct tern_dev *dev = r->dev;
	unsigned int c = r->index;

	r->quiesce++;
	atomic_store(&r->abandon, true);
	atomic_store(&r->cancel, true);
	pthread_cond_broadcast(&r->wake);	/* a hung job waits on it */
	while (r->inflight)
		pthread_cond_wait(&dev->idle, &dev->lock);
	/*
	 * The job was dropped without status, fence or IRQ; the core cleared
	 * the SBUF and PSUM rows it wrote when it stopped (semaphores live
	 * only as long as a job).
	 */
	atomic_store(&r->cancel, false);
	atomic_store(&r->abandon, false);
	r->quiesce--;
	dev->ras.hung &= ~(1u << c);
	dev->ras.core_hang &= ~(1u << c);
	dev->ras.lost_core &= ~(1u << c);
	tern_launch_ring_clear(r);
	dev->core_done &= ~(1u << c);
	if (dev->ops->trace_queue_state)
		dev->ops->trace_queue_state(dev->opaque, TERN_ERR_QUEUE_CORE(c),
					    r->state);
	pthread_cond_signal(&r->wake);
}

/* ---- injection entry points (tern_model.h) ---- */

bool tern_dev_inject_ecc(struct tern_dev *dev, bool uncorrected,
			 uint64_t offset, char *err, size_t errlen)
{
	struct tern_ras *ras = &dev->ras;
	uint64_t l = offset & LINE_MASK;
	bool ok = true;

	if (offset >= dev->cfg.hbm_size) {
		snprintf(err, errlen, "HBM offset 0x%" PRIx64 " is outside "
			 "the HBM of 0x%" PRIx64 " bytes", offset,
			 dev->cfg.hbm_size);
		return false;
	}
	pthread_mutex_lock(&dev->lock);
	if (uncorrected) {
		for (unsigned int i = 0; i < ras->nue; i++)
			if (line_of(ras->ue[i]) == l)
				goto out;	/* poisoned already */
		if (ras->nue == TERN_RAS_MAX_LINES) {
			ok = false;
		} else {
			ras->ue[ras->nue++] = l;
			atomic_fetch_add(&ras->poisoned, 1);
			atomic_fetch_add(&ras->active, 1);
		}
	} else {
		for (unsigned int i = 0; i < ras->nce; i++)
			if (ras->ce[i] == l)
				goto out;
		if (ras->nce == TERN_RAS_MAX_LINES) {
			ok = false;
		} else {
			ras->ce[ras->nce++] = l;
			atomic_fetch_add(&ras->active, 1);
		}
	}
	if (!ok)
		snprintf(err, errlen, "already %u HBM lines with %s errors "
			 "pending", TERN_RAS_MAX_LINES,
			 uncorrected ? "uncorrected" : "corrected");
out:
	pthread_mutex_unlock(&dev->lock);
	return ok;
}

static bool index_ok(unsigned int idx, unsigned int n, const char *what,
		     char *err, size_t errlen)
{
	if (idx < n)
		return true;
	snprintf(err, errlen, "%s %u does not exist (the chip has %u)", what,
		 idx, n);
	return false;
}

bool tern_dev_inject_dma_abort(struct tern_dev *dev, unsigned int queue,
			       char *err, size_t errlen)
{
	if (!index_ok(queue, dev->cfg.queues, "queue", err, errlen))
		return false;
	pthread_mutex_lock(&dev->lock);
	dev->ras.dma_abort |= 1ull << queue;
	pthread_mutex_unlock(&dev->lock);
	return true;
}

bool tern_dev_inject_core_hang(struct tern_dev *dev, unsigned int core,
			       char *err, size_t errlen)
{
	if (!index_ok(core, dev->cfg.cores, "core", err, errlen))
		return false;
	pthread_mutex_lock(&dev->lock);
	dev->ras.core_hang |= 1u << core;
	pthread_mutex_unlock(&dev->lock);
	return true;
}

bool tern_dev_inject_lost_completion(struct tern_dev *dev, bool core,
				     unsigned int idx, char *err,
				     size_t errlen)
{
	if (!index_ok(idx, core ? dev->cfg.cores : dev->cfg.queues,
		      core ? "core" : "queue", err, errlen))
		return false;
	pthread_mutex_lock(&dev->lock);
	if (core)
		dev->ras.lost_core |= 1u << idx;
	else
		dev->ras.lost_queue |= 1ull << idx;
	pthread_mutex_unlock(&dev->lock);
	return true;
}

bool tern_dev_note_aer(struct tern_dev *dev, unsigned int kind, char *err,
		       size_t errlen)
{
	if (kind > TERN_AER_FATAL) {
		snprintf(err, errlen, "AER kind %u is not correctable (0), "
			 "nonfatal (1) or fatal (2)", kind);
		return false;
	}
	tern_ras_count(dev);
	return true;
}

uint64_t tern_dev_faults_injected(struct tern_dev *dev)
{
	return atomic_load(&dev->ras.faults);
}

uint32_t tern_dev_poisoned_lines(struct tern_dev *dev)
{
	return atomic_load(&dev->ras.poisoned);
}

/* ---- property strings ---- */

/* A whole unsigned number (0x hex or decimal) up to max. */
static bool parse_num(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end && *v <= max;
}

bool tern_inject_parse_ecc(const char *s, bool *uncorrected, uint64_t *off,
			   char *err, size_t errlen)
{
	if (s && (!strncmp(s, "ce:", 3) || !strncmp(s, "ue:", 3)) &&
	    parse_num(s + 3, UINT64_MAX, off)) {
		*uncorrected = s[0] == 'u';
		return true;
	}
	snprintf(err, errlen, "inject-ecc '%s' is not \"ce:<hbm offset>\" "
		 "or \"ue:<hbm offset>\"", s ? s : "");
	return false;
}

bool tern_inject_parse_target(const char *s, bool *core, unsigned int *idx,
			      char *err, size_t errlen)
{
	uint64_t v;

	if (s && !strncmp(s, "queue:", 6) &&
	    parse_num(s + 6, UINT32_MAX, &v)) {
		*core = false;
		*idx = (unsigned int)v;
		return true;
	}
	if (s && !strncmp(s, "core:", 5) && parse_num(s + 5, UINT32_MAX, &v)) {
		*core = true;
		*idx = (unsigned int)v;
		return true;
	}
	snprintf(err, errlen, "inject-lost-completion '%s' is not "
		 "\"queue:<q>\" or \"core:<c>\"", s ? s : "");
	return false;
}

bool tern_inject_parse_aer(const char *s, unsigned int *kind, char *err,
			   size_t errlen)
{
	static const char *const names[] = {
		[TERN_AER_CORRECTABLE] = "correctable",
		[TERN_AER_NONFATAL] = "nonfatal",
		[TERN_AER_FATAL] = "fatal",
	};

	for (unsigned int k = 0; s && k <= TERN_AER_FATAL; k++)
		if (!strcmp(s, names[k])) {
			*kind = k;
			return true;
		}
	snprintf(err, errlen, "inject-aer '%s' is not \"correctable\", "
		 "\"nonfatal\" or \"fatal\"", s ? s : "");
	return false;
}
