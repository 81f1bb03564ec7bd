// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: register file, queues, doorbells, reset, error
 * latching and interrupts, and the device's life cycle. The DMA engines are
 * in tern_dma.c, the compute cores' launch rings in tern_launch.c, the device
 * MMU in tern_mmu.c, the links in tern_fabric.c and tern_link.c, the
 * telemetry in tern_telem.c; the state they share, and the locking rules, are in
 * tern_model_int.h. See tern_model.h for the embedding contract and
 * Documentation/chip/spec.rst for the guest-visible behaviour.
 */
#include "tern_model_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERN_VERSION	((TERN_VERSION_MAJOR << 16) | TERN_VERSION_MINOR)
#define TERN_REVISION	1
#define TERN_CAPS	(TERN_CAP_DMA_SGL | TERN_CAP_RING_IN_HBM | TERN_CAP_COMPUTE | \
		 TERN_CAP_MMU | TERN_CAP_USER_QUEUES | TERN_CAP_LINKS | \
		 TERN_CAP_TELEMETRY | TERN_CAP_PROFILE | TERN_CAP_RAS)
#define TERN_INT_ALL	(TERN_INT_ERROR | TERN_INT_QUEUE | TERN_INT_CORE | \
			 TERN_INT_LINK | TERN_INT_RAS)
#define TERN_Q_CTRL_ALL	(TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RING_IN_HBM | \
			 TERN_Q_CTRL_RESUME)
#define LINE_MAX_LEN	320

/* ---- small helpers ---- */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

const char *tern_err_name(uint32_t code)
{
	static const char *const names[TERN_ERR_COUNT] = {
		[TERN_ERR_NONE] = "NONE",
		[TERN_ERR_BAD_OPCODE] = "BAD_OPCODE",
		[TERN_ERR_BAD_FLAGS] = "BAD_FLAGS",
		[TERN_ERR_RESERVED] = "RESERVED",
		[TERN_ERR_HBM_RANGE] = "HBM_RANGE",
		[TERN_ERR_HOST_DMA] = "HOST_DMA",
		[TERN_ERR_SGL] = "SGL",
		[TERN_ERR_BAD_RING] = "BAD_RING",
		[TERN_ERR_DOORBELL] = "DOORBELL",
		[TERN_ERR_RING_FETCH] = "RING_FETCH",
		[TERN_ERR_FENCE] = "FENCE",
		[TERN_ERR_BAD_LAUNCH] = "BAD_LAUNCH",
		[TERN_ERR_MMU_FAULT] = "MMU_FAULT",
		[TERN_ERR_LINK_DOWN] = "LINK_DOWN",
		[TERN_ERR_ECC_UNCORRECTED] = "ECC_UNCORRECTED",
		[TERN_ERR_DMA_ABORT] = "DMA_ABORT",
	};

	return code < TERN_ERR_COUNT ? names[code] : "?";
}

const char *tern_reg_name(uint64_t offset)
{
	static const char *const queue_regs[TERN_REG_QUEUE_STRIDE / 4] = {
		"Q_RING_BASE_LO", "Q_RING_BASE_HI", "Q_RING_SIZE", "Q_CTRL",
		"Q_HEAD", "Q_TAIL", "Q_STATUS", "Q_ERROR",
		"Q_COMPLETED_LO", "Q_COMPLETED_HI", "Q_CTX", NULL,
		"Q_FAULT_ADDR_LO", "Q_FAULT_ADDR_HI", "Q_FAULT_INFO",
	};
	static const char *const core_regs[TERN_REG_CORE_STRIDE / 4] = {
		"C_RING_BASE_LO", "C_RING_BASE_HI", "C_RING_SIZE", "C_CTRL",
		"C_HEAD", "C_TAIL", "C_STATUS", "C_ERROR",
		"C_COMPLETED_LO", "C_COMPLETED_HI", "C_ABORT_IDX", NULL,
		"C_FAULT_ADDR_LO", "C_FAULT_ADDR_HI", "C_FAULT_INFO",
	};
	static const char *const ctx_regs[TERN_REG_CTX_STRIDE / 4] = {
		"CTX_ROOT_LO", "CTX_ROOT_HI", "CTX_CTRL",
	};
	static const char *const link_regs[TERN_REG_LINK_STRIDE / 4] = {
		"L_STATE", "L_PEER_CHIP", "L_PEER_PORT", "L_BANDWIDTH",
		"L_LATENCY", "L_ERRORS", "L_TX_BYTES_LO", "L_TX_BYTES_HI",
		"L_RX_BYTES_LO", "L_RX_BYTES_HI", "L_BUSY_NS_LO",
		"L_BUSY_NS_HI",
	};

	switch (offset) {
	case TERN_REG_MAGIC: return "MAGIC";
	case TERN_REG_VERSION: return "VERSION";
	case TERN_REG_REVISION: return "REVISION";
	case TERN_REG_CAPS: return "CAPS";
	case TERN_REG_NUM_CORES: return "NUM_CORES";
	case TERN_REG_NUM_QUEUES: return "NUM_QUEUES";
	case TERN_REG_NUM_DMA_ENGINES: return "NUM_DMA_ENGINES";
	case TERN_REG_RING_MAX_ENTRIES: return "RING_MAX_ENTRIES";
	case TERN_REG_HBM_SIZE_LO: return "HBM_SIZE_LO";
	case TERN_REG_HBM_SIZE_HI: return "HBM_SIZE_HI";
	case TERN_REG_DOORBELL_STRIDE: return "DOORBELL_STRIDE";
	case TERN_REG_SBUF_SIZE: return "SBUF_SIZE";
	case TERN_REG_RESET: return "RESET";
	case TERN_REG_STATUS: return "STATUS";
	case TERN_REG_INT_STATUS: return "INT_STATUS";
	case TERN_REG_INT_MASK: return "INT_MASK";
	case TERN_REG_QDONE_LO: return "QDONE_LO";
	case TERN_REG_QDONE_HI: return "QDONE_HI";
	case TERN_REG_CORE_DONE: return "CORE_DONE";
	case TERN_REG_ERR_CODE: return "ERR_CODE";
	case TERN_REG_ERR_QUEUE: return "ERR_QUEUE";
	case TERN_REG_ERR_INDEX: return "ERR_INDEX";
	case TERN_REG_ERR_ADDR_LO: return "ERR_ADDR_LO";
	case TERN_REG_ERR_ADDR_HI: return "ERR_ADDR_HI";
	case TERN_REG_ERR_COUNT: return "ERR_COUNT";
	case TERN_REG_ERR_ACK: return "ERR_ACK";
	case TERN_REG_ERR_INFO: return "ERR_INFO";
	case TERN_REG_MMU_INVALIDATE: return "MMU_INVALIDATE";
	case TERN_REG_NUM_CONTEXTS: return "NUM_CONTEXTS";
	case TERN_REG_MMU_FAULTS: return "MMU_FAULTS";
	case TERN_REG_CHIP_ID: return "CHIP_ID";
	case TERN_REG_FABRIC_ID: return "FABRIC_ID";
	case TERN_REG_FABRIC_CHIPS: return "FABRIC_CHIPS";
	case TERN_REG_NUM_LINKS: return "NUM_LINKS";
	case TERN_REG_LINK_EVENTS: return "LINK_EVENTS";
	case TERN_REG_LINK_ERRORS: return "LINK_ERRORS";
	case TERN_REG_RAS_STATUS: return "RAS_STATUS";
	case TERN_REG_RAS_CE_ADDR_LO: return "RAS_CE_ADDR_LO";
	case TERN_REG_RAS_CE_ADDR_HI: return "RAS_CE_ADDR_HI";
	case TERN_REG_RAS_UE_ADDR_LO: return "RAS_UE_ADDR_LO";
	case TERN_REG_RAS_UE_ADDR_HI: return "RAS_UE_ADDR_HI";
	case TERN_REG_RAS_POISONED: return "RAS_POISONED";
	}
	if (offset >= TERN_REG_QUEUE_BASE &&
	    offset < TERN_REG_QUEUE(TERN_MAX_QUEUES) && !(offset & 3)) {
		const char *n = queue_regs[(offset - TERN_REG_QUEUE_BASE) %
					   TERN_REG_QUEUE_STRIDE / 4];
		return n ? n : "?";
	}
	if (offset >= TERN_REG_CORE_BASE &&
	    offset < TERN_REG_CORE(TERN_MAX_CORES) && !(offset & 3)) {
		const char *n = core_regs[(offset - TERN_REG_CORE_BASE) %
					  TERN_REG_CORE_STRIDE / 4];
		return n ? n : "?";
	}
	if (offset >= TERN_REG_CTX(1) &&
	    offset < TERN_REG_CTX(TERN_MAX_CONTEXTS) && !(offset & 3)) {
		const char *n = ctx_regs[(offset - TERN_REG_CTX_BASE) %
					 TERN_REG_CTX_STRIDE / 4];
		return n ? n : "?";
	}
	if (offset >= TERN_REG_LINK_BASE &&
	    offset < TERN_REG_LINK(TERN_MAX_LINKS) && !(offset & 3)) {
		const char *n = link_regs[(offset - TERN_REG_LINK_BASE) %
					  TERN_REG_LINK_STRIDE / 4];
		return n ? n : "?";
	}
	if (tern_telem_reg_name(offset))
		return tern_telem_reg_name(offset);
	return "?";
}

/* ---- logging, errors, interrupts (dev->lock held unless noted) ---- */

uint32_t tern_fail(struct fault *f, uint32_t code, uint64_t addr,
		   const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	f->addr = addr;
	f->info = 0;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return code;
}

void tern_guest_err(struct tern_dev *dev, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	if (!dev->ops->guest_error)
		return;
	n = snprintf(line, sizeof(line), "tern: %s: ", dev->name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	dev->ops->guest_error(dev->opaque, line);
}

void tern_send_irq(struct tern_dev *dev, unsigned int vector, bool masked)
{
	if (dev->ops->trace_irq)
		dev->ops->trace_irq(dev->opaque, vector, masked);
	if (!masked)
		dev->ops->raise_irq(dev->opaque, vector);
}

void tern_trace_state(struct tern_dev *dev, unsigned int qn)
{
	if (dev->ops->trace_queue_state)
		dev->ops->trace_queue_state(dev->opaque, qn, dev->q[qn].state);
}

/*
 * A device error: latch it unless one is latched already, count it, log it
 * and send the error vector.
 */
void tern_device_error(struct tern_dev *dev, uint32_t queue, uint32_t index,
		       uint32_t code, uint64_t addr, uint32_t info,
		       const char *why)
{
	char qname[24];

	if (dev->err_code == TERN_ERR_NONE) {
		dev->err_code = code;
		dev->err_queue = queue;
		dev->err_index = index;
		dev->err_addr = addr;
		dev->err_info = info;
	}
	dev->err_count++;
	if (code == TERN_ERR_MMU_FAULT) {
		dev->mmu_faults++;
		if (dev->ops->trace_mmu_fault)
			dev->ops->trace_mmu_fault(dev->opaque, queue, index,
						  addr, info);
	}
	dev->int_status |= TERN_INT_ERROR;
	/*
	 * An ECC error or a DMA abort is the chip's fault (injected), not the
	 * guest's: the RAS registers and trace events report it, not the
	 * guest-error log.
	 */
	if (code == TERN_ERR_ECC_UNCORRECTED || code == TERN_ERR_DMA_ABORT)
		goto irq;
	if (queue == TERN_ERR_QUEUE_NONE)
		snprintf(qname, sizeof(qname), "queue none");
	else if (queue >= TERN_ERR_QUEUE_CORE_BASE)
		snprintf(qname, sizeof(qname), "core %u",
			 queue - TERN_ERR_QUEUE_CORE_BASE);
	else
		snprintf(qname, sizeof(qname), "queue %u", queue);
	tern_guest_err(dev, "%s index %" PRIu32 ": %s (error %u %s, addr 0x%"
		  PRIx64 ")", qname, index, why, code, tern_err_name(code),
		  addr);
irq:
	tern_send_irq(dev, TERN_MSIX_VEC_ERROR, dev->int_mask & TERN_INT_ERROR);
}

/* Wait until q has no descriptor in flight; none starts until _end. */
static void quiesce_begin(struct tern_dev *dev, struct tern_queue *q)
{
	q->quiesce++;
	while (q->inflight)
		pthread_cond_wait(&dev->idle, &dev->lock);
}

static void quiesce_end(struct tern_queue *q)
{
	q->quiesce--;
}

/* Register state after reset; every queue must be idle. */
static void reset_state(struct tern_dev *dev)
{
	for (unsigned int i = 0; i < TERN_MAX_QUEUES; i++) {
		struct tern_queue *q = &dev->q[i];

		q->prog_base = 0;
		q->prog_size = 0;
		q->base = 0;
		q->size = 0;
		q->in_hbm = false;
		q->ctx = 0;
		q->state = TERN_Q_STATE_DISABLED;
		q->head = 0;
		q->tail = 0;
		q->error = TERN_ERR_NONE;
		q->completed = 0;
		q->fault_addr = 0;
		q->fault_info = 0;
		atomic_store(&q->abort, false);
	}
	tern_mmu_reset(dev);
	dev->int_status = 0;
	dev->int_mask = 0;
	dev->qdone = 0;
	tern_launch_reset_state(dev);
	dev->err_code = TERN_ERR_NONE;
	dev->err_queue = TERN_ERR_QUEUE_NONE;
	dev->err_index = 0;
	dev->err_addr = 0;
	dev->err_info = 0;
	dev->err_count = 0;
	tern_link_reset(dev);
	tern_telem_reset(dev);
	tern_ras_reset(dev);
}

static void do_reset(struct tern_dev *dev)
{
	dev->resetting++;
	for (unsigned int i = 0; i < dev->cfg.queues; i++)
		atomic_store(&dev->q[i].abort, true);
	tern_launch_reset_begin(dev);
	for (unsigned int c = 0; c < dev->cfg.cores; c++)
		pthread_cond_broadcast(&dev->cr[c].wake);	/* hung jobs */
	if (dev->ops->trace_reset)
		dev->ops->trace_reset(dev->opaque, false);
	for (unsigned int i = 0; i < dev->cfg.queues; i++)
		while (dev->q[i].inflight)
			pthread_cond_wait(&dev->idle, &dev->lock);
	tern_launch_wait_idle(dev);
	reset_state(dev);
	dev->resetting--;
	if (dev->ops->trace_reset)
		dev->ops->trace_reset(dev->opaque, true);
}

void tern_dev_reset(struct tern_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	do_reset(dev);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- queue control (lock held) ---- */

static void queue_disable(struct tern_dev *dev, unsigned int qn)
{
	struct tern_queue *q = &dev->q[qn];

	if (q->state == TERN_Q_STATE_DISABLED)
		return;
	quiesce_begin(dev, q);
	q->state = TERN_Q_STATE_DISABLED;
	quiesce_end(q);
	tern_trace_state(dev, qn);
}

bool tern_ring_check(const struct tern_dev *dev, uint64_t base, uint32_t size,
		     bool in_hbm, char *why, size_t len)
{
	why[0] = 0;
	if (!is_pow2(size) || size < TERN_RING_MIN_ENTRIES ||
	    size > TERN_RING_MAX_ENTRIES)
		snprintf(why, len, "ring size %" PRIu32 " is not a "
			 "power of two in [%u, %u]", size,
			 TERN_RING_MIN_ENTRIES, TERN_RING_MAX_ENTRIES);
	else if (base % TERN_DESC_SIZE)
		snprintf(why, len, "ring base 0x%" PRIx64 " is not "
			 "%u-byte aligned", base, TERN_DESC_SIZE);
	else if (in_hbm &&
		 !hbm_range_ok(dev, base, (uint64_t)size * TERN_DESC_SIZE))
		snprintf(why, len, "HBM ring 0x%" PRIx64 "+0x%" PRIx64
			 " outside the HBM", base,
			 (uint64_t)size * TERN_DESC_SIZE);
	else if (!in_hbm && !no_wrap(base, (uint64_t)size * TERN_DESC_SIZE))
		snprintf(why, len, "host ring 0x%" PRIx64 "+0x%" PRIx64
			 " wraps", base, (uint64_t)size * TERN_DESC_SIZE);
	return !why[0];
}

static void queue_enable(struct tern_dev *dev, unsigned int qn, bool in_hbm)
{
	struct tern_queue *q = &dev->q[qn];
	uint64_t base = q->prog_base;
	uint32_t size = q->prog_size;
	char why[160];

	queue_disable(dev, qn);
	q->error = TERN_ERR_NONE;
	q->fault_addr = 0;
	q->fault_info = 0;
	if (q->ctx && in_hbm) {
		snprintf(why, sizeof(why), "RING_IN_HBM on the user-mode "
			 "queue of context %" PRIu32 " (its ring is a VA)",
			 q->ctx);
	} else if (!tern_ring_check(dev, base, size, in_hbm, why,
				    sizeof(why))) {
		/* why is set */
	} else if (q->ctx && (base >= TERN_VA_LIMIT ||
			      (uint64_t)size * TERN_DESC_SIZE >
			      TERN_VA_LIMIT - base)) {
		snprintf(why, sizeof(why), "ring VA 0x%" PRIx64 "+0x%" PRIx64
			 " of context %" PRIu32 " passes the %u-bit VA space",
			 base, (uint64_t)size * TERN_DESC_SIZE, q->ctx,
			 TERN_VA_BITS);
	}
	if (why[0]) {
		q->error = TERN_ERR_BAD_RING;
		tern_device_error(dev, qn, size, TERN_ERR_BAD_RING, base, 0,
				  why);
		return;
	}
	q->base = base;
	q->size = size;
	q->in_hbm = in_hbm;
	q->head = 0;
	q->tail = 0;
	q->state = TERN_Q_STATE_ACTIVE;
	tern_trace_state(dev, qn);
}

static void queue_ctrl_write(struct tern_dev *dev, unsigned int qn,
			     uint32_t val)
{
	struct tern_queue *q = &dev->q[qn];

	if (val & ~TERN_Q_CTRL_ALL) {
		tern_guest_err(dev, "queue %u: CTRL write 0x%" PRIx32 " has unknown "
			  "bits; ignored", qn, val);
		return;
	}
	if (!(val & TERN_Q_CTRL_ENABLE)) {
		queue_disable(dev, qn);
		return;
	}
	if (!(val & TERN_Q_CTRL_RESUME)) {
		queue_enable(dev, qn, val & TERN_Q_CTRL_RING_IN_HBM);
		return;
	}
	switch (q->state) {
	case TERN_Q_STATE_HALTED:
		q->state = TERN_Q_STATE_ACTIVE;
		q->error = TERN_ERR_NONE;
		q->fault_addr = 0;
		q->fault_info = 0;
		tern_trace_state(dev, qn);
		tern_dma_wake(dev, qn);
		break;
	case TERN_Q_STATE_DISABLED:
		tern_guest_err(dev, "queue %u: RESUME on a disabled queue; ignored",
			  qn);
		break;
	default:
		break;	/* already running: nothing to resume */
	}
}

static void queue_head_write(struct tern_dev *dev, unsigned int qn,
			     uint32_t val)
{
	struct tern_queue *q = &dev->q[qn];

	if (q->state != TERN_Q_STATE_HALTED)
		tern_guest_err(dev, "queue %u: HEAD write %" PRIu32 " while not "
			  "halted; ignored", qn, val);
	else if (val >= q->size)
		tern_guest_err(dev, "queue %u: HEAD write %" PRIu32 " out of range "
			  "for a ring of %" PRIu32 " entries; ignored", qn, val,
			  q->size);
	else
		q->head = val;
}

static void queue_ctx_write(struct tern_dev *dev, unsigned int qn,
			    uint32_t val)
{
	struct tern_queue *q = &dev->q[qn];

	if (q->state != TERN_Q_STATE_DISABLED)
		tern_guest_err(dev, "queue %u: Q_CTX write %" PRIu32 " while "
			       "enabled; ignored (disable the queue first)",
			       qn, val);
	else if (val >= TERN_MAX_CONTEXTS)
		tern_guest_err(dev, "queue %u: Q_CTX write %" PRIu32 " is not "
			       "a context (0..%u); ignored", qn, val,
			       TERN_MAX_CONTEXTS - 1);
	else
		q->ctx = val;
}

/* ---- register file (lock held) ---- */

static bool queue_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	unsigned int qn = (off - TERN_REG_QUEUE_BASE) / TERN_REG_QUEUE_STRIDE;
	struct tern_queue *q = &dev->q[qn];

	switch ((off - TERN_REG_QUEUE_BASE) % TERN_REG_QUEUE_STRIDE) {
	case TERN_Q_RING_BASE_LO: *v = (uint32_t)q->prog_base; return true;
	case TERN_Q_RING_BASE_HI: *v = q->prog_base >> 32; return true;
	case TERN_Q_RING_SIZE: *v = q->prog_size; return true;
	case TERN_Q_CTRL:
		*v = 0;
		if (q->state != TERN_Q_STATE_DISABLED)
			*v = TERN_Q_CTRL_ENABLE |
			     (q->in_hbm ? TERN_Q_CTRL_RING_IN_HBM : 0);
		return true;
	case TERN_Q_HEAD: *v = q->head; return true;
	case TERN_Q_TAIL: *v = q->tail; return true;
	case TERN_Q_STATUS: *v = q->state; return true;
	case TERN_Q_ERROR: *v = q->error; return true;
	case TERN_Q_COMPLETED_LO: *v = (uint32_t)q->completed; return true;
	case TERN_Q_COMPLETED_HI: *v = q->completed >> 32; return true;
	case TERN_Q_CTX: *v = q->ctx; return true;
	case TERN_Q_FAULT_ADDR_LO: *v = (uint32_t)q->fault_addr; return true;
	case TERN_Q_FAULT_ADDR_HI: *v = q->fault_addr >> 32; return true;
	case TERN_Q_FAULT_INFO: *v = q->fault_info; return true;
	}
	return false;
}

static bool reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	switch (off) {
	case TERN_REG_MAGIC: *v = TERN_MAGIC; return true;
	case TERN_REG_VERSION: *v = TERN_VERSION; return true;
	case TERN_REG_REVISION:
		*v = TERN_PLATFORM_EMULATED << TERN_REVISION_PLATFORM_SHIFT |
		     TERN_REVISION;
		return true;
	case TERN_REG_CAPS: *v = TERN_CAPS; return true;
	case TERN_REG_NUM_CORES: *v = dev->cfg.cores; return true;
	case TERN_REG_NUM_QUEUES: *v = dev->cfg.queues; return true;
	case TERN_REG_NUM_DMA_ENGINES: *v = dev->cfg.dma_engines; return true;
	case TERN_REG_RING_MAX_ENTRIES: *v = TERN_RING_MAX_ENTRIES; return true;
	case TERN_REG_HBM_SIZE_LO:
		*v = (uint32_t)dev->cfg.hbm_size;
		return true;
	case TERN_REG_HBM_SIZE_HI: *v = dev->cfg.hbm_size >> 32; return true;
	case TERN_REG_DOORBELL_STRIDE: *v = TERN_DOORBELL_STRIDE; return true;
	case TERN_REG_SBUF_SIZE: *v = (uint32_t)dev->cfg.sbuf_size; return true;
	case TERN_REG_RESET: *v = 0; return true;
	case TERN_REG_STATUS:
		*v = TERN_STATUS_READY |
		     (dev->err_code != TERN_ERR_NONE ? TERN_STATUS_ERROR : 0);
		return true;
	case TERN_REG_INT_STATUS:
		*v = dev->int_status | (dev->qdone ? TERN_INT_QUEUE : 0) |
		     (dev->core_done ? TERN_INT_CORE : 0) |
		     (dev->links.events ? TERN_INT_LINK : 0) |
		     tern_ras_int(dev);
		return true;
	case TERN_REG_INT_MASK: *v = dev->int_mask; return true;
	case TERN_REG_QDONE_LO: *v = (uint32_t)dev->qdone; return true;
	case TERN_REG_QDONE_HI: *v = dev->qdone >> 32; return true;
	case TERN_REG_CORE_DONE: *v = dev->core_done; return true;
	case TERN_REG_ERR_CODE: *v = dev->err_code; return true;
	case TERN_REG_ERR_QUEUE: *v = dev->err_queue; return true;
	case TERN_REG_ERR_INDEX: *v = dev->err_index; return true;
	case TERN_REG_ERR_ADDR_LO: *v = (uint32_t)dev->err_addr; return true;
	case TERN_REG_ERR_ADDR_HI: *v = dev->err_addr >> 32; return true;
	case TERN_REG_ERR_COUNT: *v = dev->err_count; return true;
	case TERN_REG_ERR_ACK: *v = 0; return true;
	case TERN_REG_ERR_INFO: *v = dev->err_info; return true;
	case TERN_REG_MMU_INVALIDATE: *v = 0; return true;
	case TERN_REG_NUM_CONTEXTS: *v = TERN_MAX_CONTEXTS; return true;
	case TERN_REG_MMU_FAULTS: *v = dev->mmu_faults; return true;
	}
	if (off >= TERN_REG_RAS_STATUS && off <= TERN_REG_RAS_POISONED)
		return tern_ras_reg_read(dev, off, v);
	if (off >= TERN_REG_QUEUE_BASE && off < TERN_REG_QUEUE(dev->cfg.queues))
		return queue_reg_read(dev, off, v);
	if (off >= TERN_REG_CORE_BASE && off < TERN_REG_CORE(dev->cfg.cores))
		return tern_launch_reg_read(dev, off, v);
	if (off >= TERN_REG_CTX_BASE && off < TERN_REG_CTX(TERN_MAX_CONTEXTS))
		return tern_mmu_reg_read(dev, off, v);
	if (off >= TERN_REG_TELEM_BASE && off < TERN_REG_TELEM_END)
		return tern_telem_reg_read(dev, off, v);
	return tern_link_reg_read(dev, off, v);
}

static void int_mask_write(struct tern_dev *dev, uint32_t val)
{
	uint32_t unmasked = dev->int_mask & ~val;

	if (val & ~TERN_INT_ALL)
		tern_guest_err(dev, "INT_MASK write 0x%" PRIx32 ": unknown bits "
			  "ignored", val);
	dev->int_mask = val & TERN_INT_ALL;
	/* A cause still pending when unmasked is signalled now. */
	if (((unmasked & TERN_INT_ERROR) &&
	     (dev->int_status & TERN_INT_ERROR)) ||
	    ((unmasked & TERN_INT_LINK) && dev->links.events) ||
	    ((unmasked & TERN_INT_RAS) && tern_ras_int(dev)))
		tern_send_irq(dev, TERN_MSIX_VEC_ERROR, false);
	if (unmasked & TERN_INT_QUEUE)
		for (unsigned int i = 0; i < dev->cfg.queues; i++)
			if (dev->qdone & (1ull << i))
				tern_send_irq(dev, TERN_MSIX_VEC_QUEUE(i),
					      false);
	if (unmasked & TERN_INT_CORE)
		for (unsigned int c = 0; c < dev->cfg.cores; c++)
			if (dev->core_done & (1u << c))
				tern_send_irq(dev, TERN_MSIX_VEC_CORE(
						      dev->cfg.queues, c),
					      false);
}

static bool queue_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	unsigned int qn = (off - TERN_REG_QUEUE_BASE) / TERN_REG_QUEUE_STRIDE;
	struct tern_queue *q = &dev->q[qn];

	switch ((off - TERN_REG_QUEUE_BASE) % TERN_REG_QUEUE_STRIDE) {
	case TERN_Q_RING_BASE_LO:
		q->prog_base = (q->prog_base & ~0xffffffffull) | val;
		return true;
	case TERN_Q_RING_BASE_HI:
		q->prog_base = (q->prog_base & 0xffffffffull) |
			       (uint64_t)val << 32;
		return true;
	case TERN_Q_RING_SIZE:
		q->prog_size = val;
		return true;
	case TERN_Q_CTRL:
		queue_ctrl_write(dev, qn, val);
		return true;
	case TERN_Q_HEAD:
		queue_head_write(dev, qn, val);
		return true;
	case TERN_Q_CTX:
		queue_ctx_write(dev, qn, val);
		return true;
	case TERN_Q_TAIL:
	case TERN_Q_STATUS:
	case TERN_Q_ERROR:
	case TERN_Q_COMPLETED_LO:
	case TERN_Q_COMPLETED_HI:
	case TERN_Q_FAULT_ADDR_LO:
	case TERN_Q_FAULT_ADDR_HI:
	case TERN_Q_FAULT_INFO:
		tern_guest_err(dev, "write 0x%" PRIx32 " to read-only register "
			  "%s of queue %u ignored", val, tern_reg_name(off),
			  qn);
		return true;
	}
	return false;
}

static bool reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	switch (off) {
	case TERN_REG_MAGIC:
	case TERN_REG_VERSION:
	case TERN_REG_REVISION:
	case TERN_REG_CAPS:
	case TERN_REG_NUM_CORES:
	case TERN_REG_NUM_QUEUES:
	case TERN_REG_NUM_DMA_ENGINES:
	case TERN_REG_RING_MAX_ENTRIES:
	case TERN_REG_HBM_SIZE_LO:
	case TERN_REG_HBM_SIZE_HI:
	case TERN_REG_DOORBELL_STRIDE:
	case TERN_REG_SBUF_SIZE:
	case TERN_REG_STATUS:
	case TERN_REG_ERR_CODE:
	case TERN_REG_ERR_QUEUE:
	case TERN_REG_ERR_INDEX:
	case TERN_REG_ERR_ADDR_LO:
	case TERN_REG_ERR_ADDR_HI:
	case TERN_REG_ERR_COUNT:
	case TERN_REG_ERR_INFO:
	case TERN_REG_NUM_CONTEXTS:
	case TERN_REG_MMU_FAULTS:
		tern_guest_err(dev, "write 0x%" PRIx32 " to read-only register %s "
			  "ignored", val, tern_reg_name(off));
		return true;
	case TERN_REG_RESET:
		if (val == TERN_RESET_KEY)
			do_reset(dev);
		else
			tern_guest_err(dev, "RESET write 0x%" PRIx32 " is not the "
				  "reset key; ignored", val);
		return true;
	case TERN_REG_INT_STATUS:
		dev->int_status &= ~(val & TERN_INT_ERROR);
		return true;
	case TERN_REG_INT_MASK:
		int_mask_write(dev, val);
		return true;
	case TERN_REG_QDONE_LO:
		dev->qdone &= ~(uint64_t)val;
		return true;
	case TERN_REG_QDONE_HI:
		dev->qdone &= ~((uint64_t)val << 32);
		return true;
	case TERN_REG_CORE_DONE:
		dev->core_done &= ~val;
		return true;
	case TERN_REG_ERR_ACK:
		if (val & ~1u)
			tern_guest_err(dev, "ERR_ACK write 0x%" PRIx32 ": unknown "
				  "bits ignored", val);
		if (val & 1) {
			dev->err_code = TERN_ERR_NONE;
			dev->err_queue = TERN_ERR_QUEUE_NONE;
			dev->err_index = 0;
			dev->err_addr = 0;
			dev->err_info = 0;
		}
		return true;
	case TERN_REG_MMU_INVALIDATE:
		tern_mmu_invalidate(dev, val);
		return true;
	}
	if (off >= TERN_REG_RAS_STATUS && off <= TERN_REG_RAS_POISONED)
		return tern_ras_reg_write(dev, off, val);
	if (off >= TERN_REG_QUEUE_BASE && off < TERN_REG_QUEUE(dev->cfg.queues))
		return queue_reg_write(dev, off, val);
	if (off >= TERN_REG_CORE_BASE && off < TERN_REG_CORE(dev->cfg.cores))
		return tern_launch_reg_write(dev, off, val);
	if (off >= TERN_REG_CTX_BASE && off < TERN_REG_CTX(TERN_MAX_CONTEXTS))
		return tern_mmu_reg_write(dev, off, val);
	if (off >= TERN_REG_TELEM_BASE && off < TERN_REG_TELEM_END)
		return tern_telem_reg_write(dev, off, val);
	return tern_link_reg_write(dev, off, val);
}

uint64_t tern_mmio_read(struct tern_dev *dev, uint64_t offset,
			unsigned int size)
{
	uint32_t v = 0;
	bool known;

	if (size != 4 || (offset & 3) || offset >= TERN_REG_WINDOW_SIZE) {
		pthread_mutex_lock(&dev->lock);
		tern_guest_err(dev, "BAR0 %u-byte read at 0x%" PRIx64 ": only "
			  "aligned 32-bit register reads are supported; "
			  "reads 0", size, offset);
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	pthread_mutex_lock(&dev->lock);
	known = reg_read(dev, offset, &v);
	if (!known)
		tern_guest_err(dev, "BAR0 read of unknown register 0x%" PRIx64
			  "; reads 0", offset);
	pthread_mutex_unlock(&dev->lock);
	return known ? v : 0;
}

void tern_mmio_write(struct tern_dev *dev, uint64_t offset, uint64_t value,
		     unsigned int size)
{
	pthread_mutex_lock(&dev->lock);
	if (size != 4 || (offset & 3) || offset >= TERN_REG_WINDOW_SIZE)
		tern_guest_err(dev, "BAR0 %u-byte write 0x%" PRIx64 " at 0x%" PRIx64
			  ": only aligned 32-bit register writes are "
			  "supported; ignored", size, value, offset);
	else if (!reg_write(dev, offset, (uint32_t)value))
		tern_guest_err(dev, "BAR0 write 0x%" PRIx64 " to unknown register "
			  "0x%" PRIx64 " ignored", value, offset);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- doorbells ---- */

uint64_t tern_doorbell_bar_size(unsigned int queues, unsigned int cores)
{
	uint64_t pages = (uint64_t)queues + cores;
	uint64_t need = (pages ? pages : 1) * TERN_DOORBELL_STRIDE;
	uint64_t size = TERN_DOORBELL_STRIDE;

	while (size < need)
		size <<= 1;
	return size;
}

uint64_t tern_doorbell_read(struct tern_dev *dev, uint64_t offset,
			    unsigned int size)
{
	pthread_mutex_lock(&dev->lock);
	tern_guest_err(dev, "BAR2 %u-byte read at 0x%" PRIx64 ": doorbells are "
		  "write-only; reads 0", size, offset);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

void tern_doorbell_write(struct tern_dev *dev, uint64_t offset,
			 uint64_t value, unsigned int size)
{
	uint64_t qn64 = offset / TERN_DOORBELL_STRIDE;
	uint32_t tail = (uint32_t)value;
	char why[128];

	pthread_mutex_lock(&dev->lock);
	if (size != 4 || offset % TERN_DOORBELL_STRIDE) {
		tern_guest_err(dev, "BAR2 %u-byte write 0x%" PRIx64 " at 0x%" PRIx64
			  ": not a doorbell (32-bit write at a queue's page "
			  "start); ignored", size, value, offset);
	} else if (qn64 >= dev->cfg.queues &&
		   qn64 < (uint64_t)dev->cfg.queues + dev->cfg.cores) {
		tern_launch_doorbell(dev, (unsigned int)(qn64 - dev->cfg.queues),
				     tail, offset);
	} else if (qn64 >= dev->cfg.queues) {
		snprintf(why, sizeof(why), "doorbell page %" PRIu64
			 " has no queue or core", qn64);
		tern_device_error(dev, TERN_ERR_QUEUE_NONE, tail,
				  TERN_ERR_DOORBELL, offset, 0, why);
	} else {
		unsigned int qn = (unsigned int)qn64;
		struct tern_queue *q = &dev->q[qn];

		if (dev->ops->trace_doorbell)
			dev->ops->trace_doorbell(dev->opaque, qn, tail);
		if (q->state == TERN_Q_STATE_DISABLED) {
			snprintf(why, sizeof(why), "doorbell tail %" PRIu32
				 " on a disabled queue", tail);
			tern_device_error(dev, qn, tail, TERN_ERR_DOORBELL,
					  offset, 0, why);
		} else if (tail >= q->size) {
			snprintf(why, sizeof(why), "doorbell tail %" PRIu32
				 " out of range for a ring of %" PRIu32
				 " entries", tail, q->size);
			tern_device_error(dev, qn, tail, TERN_ERR_DOORBELL,
					  offset, 0, why);
		} else {
			q->tail = tail;
			tern_dma_wake(dev, qn);
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

/* ---- life cycle ---- */

bool tern_config_check(const struct tern_config *cfg, char *err,
		       size_t errlen)
{
	if (!is_pow2(cfg->hbm_size) || cfg->hbm_size < TERN_HBM_SIZE_MIN ||
	    cfg->hbm_size > TERN_HBM_SIZE_MAX) {
		snprintf(err, errlen, "hbm-size %" PRIu64 " is invalid: it "
			 "must be a power of two from 64 MiB to 64 GiB",
			 cfg->hbm_size);
		return false;
	}
	if (cfg->cores < 1 || cfg->cores > TERN_MAX_CORES) {
		snprintf(err, errlen, "cores %u is invalid: it must be 1..%u",
			 cfg->cores, TERN_MAX_CORES);
		return false;
	}
	if (cfg->queues < 1 || cfg->queues > TERN_MAX_QUEUES) {
		snprintf(err, errlen, "queues %u is invalid: it must be 1..%u",
			 cfg->queues, TERN_MAX_QUEUES);
		return false;
	}
	if (cfg->dma_engines < 1 || cfg->dma_engines > TERN_MAX_DMA_ENGINES) {
		snprintf(err, errlen, "dma-engines %u is invalid: it must be "
			 "1..%u", cfg->dma_engines, TERN_MAX_DMA_ENGINES);
		return false;
	}
	if (cfg->sbuf_size && !tern_core_sbuf_size_check(cfg->sbuf_size, err,
							 errlen))
		return false;
	return true;
}

/* ECC of the cores' DMA_LOAD / DMA_STORE (tern_core.h). */
static bool core_hbm_read(void *opaque, uint64_t off, uint64_t len,
			  uint64_t *bad)
{
	return !tern_ras_read(opaque, off, len, bad);
}

static void core_hbm_write(void *opaque, uint64_t off, uint64_t len)
{
	tern_ras_write(opaque, off, len);
}

static void free_dev(struct tern_dev *dev)
{
	tern_launch_fini(dev);
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++) {
		pthread_cond_destroy(&dev->eng[i].wake);
		free(dev->eng[i].bounce);
		free(dev->eng[i].rbuf);
	}
	tern_telem_fini(dev);
	pthread_cond_destroy(&dev->idle);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

struct tern_dev *tern_dev_create(const struct tern_config *cfg,
				 const struct tern_host_ops *ops, void *opaque,
				 char *err, size_t errlen)
{
	struct tern_dev *dev;
	int rc;

	if (!tern_config_check(cfg, err, errlen))
		return NULL;
	if (!cfg->hbm) {
		snprintf(err, errlen, "no HBM backing store");
		return NULL;
	}
	if (!ops || !ops->dma_read || !ops->dma_write || !ops->raise_irq) {
		snprintf(err, errlen, "host interface lacks DMA or IRQ hooks");
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dev->cfg = *cfg;
	if (!dev->cfg.sbuf_size)
		dev->cfg.sbuf_size = TERN_SBUF_SIZE_DEFAULT;
	snprintf(dev->name, sizeof(dev->name), "%s",
		 cfg->name && cfg->name[0] ? cfg->name : "tern");
	dev->cfg.name = dev->name;
	dev->ops = ops;
	dev->opaque = opaque;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->idle, NULL);
	tern_telem_init(dev);
	for (unsigned int i = 0; i < cfg->dma_engines; i++) {
		struct tern_engine *e = &dev->eng[i];

		e->dev = dev;
		e->index = i;
		pthread_cond_init(&e->wake, NULL);
	}
	for (unsigned int i = 0; i < cfg->dma_engines; i++) {
		/* untouched until used: costs no memory before */
		dev->eng[i].bounce = malloc(TERN_DMA_CHUNK);
		dev->eng[i].rbuf = malloc(TERN_DMA_CHUNK);
		if (!dev->eng[i].bounce || !dev->eng[i].rbuf) {
			snprintf(err, errlen, "out of memory");
			free_dev(dev);
			return NULL;
		}
	}
	if (!tern_launch_init(dev, err, errlen)) {
		free_dev(dev);
		return NULL;
	}
	for (unsigned int c = 0; c < cfg->cores; c++)
		tern_core_set_hbm_hooks(dev->cr[c].core, core_hbm_read,
					core_hbm_write, dev);
	reset_state(dev);
	if (!tern_fabric_join(dev, cfg->link, err, errlen)) {
		free_dev(dev);
		return NULL;
	}
	dev->cfg.link = dev->links.fab ? &dev->links.cfg : NULL;

	rc = tern_dma_start_workers(dev);
	if (!rc)
		rc = tern_launch_start_workers(dev);
	if (rc) {
		snprintf(err, errlen, "cannot start worker threads: %s",
			 strerror(rc));
		tern_launch_stop_workers(dev);
		tern_dma_stop_workers(dev);
		tern_fabric_leave(dev);
		free_dev(dev);
		return NULL;
	}
	return dev;
}

void tern_dev_destroy(struct tern_dev *dev)
{
	if (!dev)
		return;
	tern_launch_stop_workers(dev);
	tern_dma_stop_workers(dev);
	tern_fabric_leave(dev);	/* waits for other chips' copies to it */
	free_dev(dev);
}
