// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: register file, queues, descriptor validation and
 * the DMA engines. See tern_model.h for the embedding contract and
 * Documentation/chip/spec.rst for the guest-visible behaviour.
 *
 * Locking: dev->lock protects every register and queue field except
 * tern_queue.abort, which workers poll without it. MMIO writes that must wait
 * for a worker (reset, queue disable/enable) sleep on dev->idle with the lock
 * released; workers never wait for the MMIO caller, so this cannot deadlock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setname_np */
#endif

#include "tern_model.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERN_VERSION	((TERN_VERSION_MAJOR << 16) | TERN_VERSION_MINOR)
#define TERN_REVISION	1
#define TERN_CAPS	(TERN_CAP_DMA_SGL | TERN_CAP_RING_IN_HBM)
#define TERN_INT_ALL	(TERN_INT_ERROR | TERN_INT_QUEUE)
#define TERN_Q_CTRL_ALL	(TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RING_IN_HBM | \
			 TERN_Q_CTRL_RESUME)
#define SG_ENTRY_SIZE	16u
#define SG_BATCH	256u	/* SG entries fetched per host read (4 KiB) */
#define ERR_ABORTED	UINT32_MAX	/* internal: descriptor abandoned */
#define LINE_MAX_LEN	320

struct tern_queue {
	uint64_t prog_base;	/* RING_BASE_LO/HI as written */
	uint32_t prog_size;	/* RING_SIZE as written */
	uint64_t base;		/* ring latched at enable */
	uint32_t size;
	bool in_hbm;
	uint32_t state;		/* TERN_Q_STATE_* */
	uint32_t head, tail, error;
	uint64_t completed;
	bool inflight;		/* a worker is running descriptor `head` */
	unsigned int quiesce;	/* MMIO callers waiting for !inflight */
	atomic_bool abort;	/* reset/destroy: abandon at the next chunk */
};

/* One side (source or destination) of a copy, walked segment by segment. */
struct copy_side {
	const char *what;	/* "src" or "dst", for messages */
	bool hbm, sgl;
	uint64_t addr, left;	/* current segment */
	uint64_t list;		/* SG list address */
	uint32_t count, next;	/* SG entries, next entry to load */
	uint32_t batch_first, batch_n;
	uint8_t batch[SG_BATCH * SG_ENTRY_SIZE];
};

struct tern_engine {
	struct tern_dev *dev;
	unsigned int index;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;	/* work may be available for this engine */
	unsigned int rr;	/* round-robin position among its queues */
	uint8_t *bounce;	/* host->host staging, TERN_DMA_CHUNK bytes */
	struct copy_side side[2];
};

struct tern_dev {
	struct tern_config cfg;
	char name[64];
	const struct tern_host_ops *ops;
	void *opaque;

	pthread_mutex_t lock;
	pthread_cond_t idle;	/* some queue's inflight went false */
	bool stopping;
	unsigned int resetting;

	uint32_t int_status;	/* latched TERN_INT_ERROR; QUEUE is derived */
	uint32_t int_mask;
	uint64_t qdone;
	uint32_t err_code, err_queue, err_index, err_count;
	uint64_t err_addr;

	struct tern_queue q[TERN_MAX_QUEUES];
	struct tern_engine eng[TERN_MAX_DMA_ENGINES];
};

/* Why a descriptor failed, filled by the worker without the lock. */
struct fault {
	uint32_t code;
	uint64_t addr;
	char why[200];
};

/* ---- small helpers ---- */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* [off, off + len) lies in the HBM, computed without overflow. */
static bool hbm_range_ok(const struct tern_dev *dev, uint64_t off,
			 uint64_t len)
{
	return off <= dev->cfg.hbm_size && len <= dev->cfg.hbm_size - off;
}

/* [addr, addr + len) does not wrap the 64-bit address space. */
static bool no_wrap(uint64_t addr, uint64_t len)
{
	return len == 0 || addr + (len - 1) >= addr;
}

static bool queue_aborted(struct tern_queue *q)
{
	return atomic_load_explicit(&q->abort, memory_order_relaxed);
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
	};

	return code < TERN_ERR_COUNT ? names[code] : "?";
}

const char *tern_reg_name(uint64_t offset)
{
	static const char *const queue_regs[TERN_REG_QUEUE_STRIDE / 4] = {
		"Q_RING_BASE_LO", "Q_RING_BASE_HI", "Q_RING_SIZE", "Q_CTRL",
		"Q_HEAD", "Q_TAIL", "Q_STATUS", "Q_ERROR",
		"Q_COMPLETED_LO", "Q_COMPLETED_HI",
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
	case TERN_REG_RESET: return "RESET";
	case TERN_REG_STATUS: return "STATUS";
	case TERN_REG_INT_STATUS: return "INT_STATUS";
	case TERN_REG_INT_MASK: return "INT_MASK";
	case TERN_REG_QDONE_LO: return "QDONE_LO";
	case TERN_REG_QDONE_HI: return "QDONE_HI";
	case TERN_REG_ERR_CODE: return "ERR_CODE";
	case TERN_REG_ERR_QUEUE: return "ERR_QUEUE";
	case TERN_REG_ERR_INDEX: return "ERR_INDEX";
	case TERN_REG_ERR_ADDR_LO: return "ERR_ADDR_LO";
	case TERN_REG_ERR_ADDR_HI: return "ERR_ADDR_HI";
	case TERN_REG_ERR_COUNT: return "ERR_COUNT";
	case TERN_REG_ERR_ACK: return "ERR_ACK";
	}
	if (offset >= TERN_REG_QUEUE_BASE &&
	    offset < TERN_REG_QUEUE(TERN_MAX_QUEUES) && !(offset & 3)) {
		const char *n = queue_regs[(offset - TERN_REG_QUEUE_BASE) %
					   TERN_REG_QUEUE_STRIDE / 4];
		return n ? n : "?";
	}
	return "?";
}

/* ---- logging, errors, interrupts (dev->lock held unless noted) ---- */

static void guest_err(struct tern_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void guest_err(struct tern_dev *dev, const char *fmt, ...)
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

static uint32_t fail(struct fault *f, uint32_t code, uint64_t addr,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static uint32_t fail(struct fault *f, uint32_t code, uint64_t addr,
		     const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	f->addr = addr;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return code;
}

static void send_irq(struct tern_dev *dev, unsigned int vector, bool masked)
{
	if (dev->ops->trace_irq)
		dev->ops->trace_irq(dev->opaque, vector, masked);
	if (!masked)
		dev->ops->raise_irq(dev->opaque, vector);
}

static void trace_state(struct tern_dev *dev, unsigned int qn)
{
	if (dev->ops->trace_queue_state)
		dev->ops->trace_queue_state(dev->opaque, qn, dev->q[qn].state);
}

/*
 * A device error: latch it unless one is latched already, count it, log it
 * and send the error vector.
 */
static void device_error(struct tern_dev *dev, uint32_t queue, uint32_t index,
			 uint32_t code, uint64_t addr, const char *why)
{
	char qname[16];

	if (dev->err_code == TERN_ERR_NONE) {
		dev->err_code = code;
		dev->err_queue = queue;
		dev->err_index = index;
		dev->err_addr = addr;
	}
	dev->err_count++;
	dev->int_status |= TERN_INT_ERROR;
	if (queue == TERN_ERR_QUEUE_NONE)
		snprintf(qname, sizeof(qname), "none");
	else
		snprintf(qname, sizeof(qname), "%u", queue);
	guest_err(dev, "queue %s index %" PRIu32 ": %s (error %u %s, addr 0x%"
		  PRIx64 ")", qname, index, why, code, tern_err_name(code),
		  addr);
	send_irq(dev, TERN_MSIX_VEC_ERROR, dev->int_mask & TERN_INT_ERROR);
}

static void wake_engine(struct tern_dev *dev, unsigned int qn)
{
	pthread_cond_signal(&dev->eng[qn % dev->cfg.dma_engines].wake);
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
		q->state = TERN_Q_STATE_DISABLED;
		q->head = 0;
		q->tail = 0;
		q->error = TERN_ERR_NONE;
		q->completed = 0;
		atomic_store(&q->abort, false);
	}
	dev->int_status = 0;
	dev->int_mask = 0;
	dev->qdone = 0;
	dev->err_code = TERN_ERR_NONE;
	dev->err_queue = TERN_ERR_QUEUE_NONE;
	dev->err_index = 0;
	dev->err_addr = 0;
	dev->err_count = 0;
}

static void do_reset(struct tern_dev *dev)
{
	dev->resetting++;
	for (unsigned int i = 0; i < dev->cfg.queues; i++)
		atomic_store(&dev->q[i].abort, true);
	if (dev->ops->trace_reset)
		dev->ops->trace_reset(dev->opaque, false);
	for (unsigned int i = 0; i < dev->cfg.queues; i++)
		while (dev->q[i].inflight)
			pthread_cond_wait(&dev->idle, &dev->lock);
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

/* ---- descriptor processing (worker, without the lock) ---- */

static void decode_desc(const uint8_t *raw, struct tern_dma_desc *d)
{
	d->opcode = get_le32(raw + 0);
	d->flags = get_le32(raw + 4);
	d->src = get_le64(raw + 8);
	d->dst = get_le64(raw + 16);
	d->size = get_le64(raw + 24);
	d->fence_addr = get_le64(raw + 32);
	d->fence_value = get_le64(raw + 40);
	d->src_sgl_count = get_le32(raw + 48);
	d->dst_sgl_count = get_le32(raw + 52);
	d->reserved = get_le64(raw + 56);
}

/* Every field check that needs no memory access. */
static uint32_t validate_desc(struct tern_dev *dev,
			      const struct tern_dma_desc *d, uint64_t daddr,
			      struct fault *f)
{
	const uint32_t sgl = TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_SGL;

	if (d->opcode != TERN_DESC_OP_NOP && d->opcode != TERN_DESC_OP_COPY)
		return fail(f, TERN_ERR_BAD_OPCODE, daddr,
			    "unknown opcode 0x%" PRIx32, d->opcode);
	if (d->flags & ~TERN_DESC_F_ALL)
		return fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "unknown flags 0x%" PRIx32,
			    d->flags & ~TERN_DESC_F_ALL);
	if ((d->flags & sgl) && d->opcode != TERN_DESC_OP_COPY)
		return fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "SGL flags 0x%" PRIx32 " on a non-COPY descriptor",
			    d->flags & sgl);
	if ((d->flags & TERN_DESC_F_FENCE_HBM) &&
	    !(d->flags & TERN_DESC_F_FENCE))
		return fail(f, TERN_ERR_BAD_FLAGS, daddr,
			    "FENCE_HBM without FENCE");
	if (d->reserved)
		return fail(f, TERN_ERR_RESERVED, daddr,
			    "reserved field is 0x%" PRIx64, d->reserved);
	if (d->src_sgl_count && !(d->flags & TERN_DESC_F_SRC_SGL))
		return fail(f, TERN_ERR_SGL, d->src,
			    "src_sgl_count %" PRIu32 " without SRC_SGL",
			    d->src_sgl_count);
	if (d->dst_sgl_count && !(d->flags & TERN_DESC_F_DST_SGL))
		return fail(f, TERN_ERR_SGL, d->dst,
			    "dst_sgl_count %" PRIu32 " without DST_SGL",
			    d->dst_sgl_count);
	if ((d->flags & TERN_DESC_F_FENCE_HBM) &&
	    !hbm_range_ok(dev, d->fence_addr, 8))
		return fail(f, TERN_ERR_FENCE, d->fence_addr,
			    "HBM fence at 0x%" PRIx64 " outside the HBM",
			    d->fence_addr);
	return 0;
}

static uint32_t side_init(struct tern_dev *dev, struct copy_side *s,
			  const char *what, bool hbm, bool sgl, uint64_t addr,
			  uint32_t count, uint64_t size, struct fault *f)
{
	s->what = what;
	s->hbm = hbm;
	s->sgl = sgl;
	s->batch_n = 0;
	s->batch_first = 0;
	if (!sgl) {
		s->addr = addr;
		s->left = size;
		s->count = 0;
		s->next = 0;
		if (hbm && !hbm_range_ok(dev, addr, size))
			return fail(f, TERN_ERR_HBM_RANGE, addr,
				    "%s HBM range 0x%" PRIx64 "+0x%" PRIx64
				    " outside the HBM", what, addr, size);
		if (!hbm && !no_wrap(addr, size))
			return fail(f, TERN_ERR_HOST_DMA, addr,
				    "%s host range 0x%" PRIx64 "+0x%" PRIx64
				    " wraps", what, addr, size);
		return 0;
	}
	s->list = addr;
	s->count = count;
	s->next = 0;
	s->addr = 0;
	s->left = 0;
	if (count == 0 || count > TERN_SGL_MAX_ENTRIES)
		return fail(f, TERN_ERR_SGL, addr,
			    "%s SG list has %" PRIu32 " entries (1..%u "
			    "allowed)", what, count, TERN_SGL_MAX_ENTRIES);
	if (!no_wrap(addr, (uint64_t)count * SG_ENTRY_SIZE))
		return fail(f, TERN_ERR_SGL, addr,
			    "%s SG list at 0x%" PRIx64 " wraps", what, addr);
	return 0;
}

/* Load and check the next SG entry of s as the current segment. */
static uint32_t side_next(struct tern_engine *e, struct copy_side *s,
			  uint64_t size, struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint64_t ea, addr, len;
	const uint8_t *p;

	if (s->next >= s->count)
		return fail(f, TERN_ERR_SGL, s->list,
			    "%s SG list of %" PRIu32 " entries is shorter than "
			    "the size 0x%" PRIx64, s->what, s->count, size);
	if (s->next < s->batch_first ||
	    s->next >= s->batch_first + s->batch_n) {
		uint32_t n = s->count - s->next;

		if (n > SG_BATCH)
			n = SG_BATCH;
		ea = s->list + (uint64_t)s->next * SG_ENTRY_SIZE;
		if (!dev->ops->dma_read(dev->opaque, ea, s->batch,
					(size_t)n * SG_ENTRY_SIZE))
			return fail(f, TERN_ERR_HOST_DMA, ea,
				    "cannot read %s SG entries at 0x%" PRIx64,
				    s->what, ea);
		s->batch_first = s->next;
		s->batch_n = n;
	}
	p = s->batch + (size_t)(s->next - s->batch_first) * SG_ENTRY_SIZE;
	addr = get_le64(p);
	len = get_le64(p + 8);
	ea = s->list + (uint64_t)s->next * SG_ENTRY_SIZE;
	if (len == 0)
		return fail(f, TERN_ERR_SGL, ea,
			    "%s SG entry %" PRIu32 " has size 0", s->what,
			    s->next);
	if (s->hbm && !hbm_range_ok(dev, addr, len))
		return fail(f, TERN_ERR_HBM_RANGE, addr,
			    "%s SG entry %" PRIu32 ": HBM range 0x%" PRIx64
			    "+0x%" PRIx64 " outside the HBM", s->what, s->next,
			    addr, len);
	if (!s->hbm && !no_wrap(addr, len))
		return fail(f, TERN_ERR_HOST_DMA, addr,
			    "%s SG entry %" PRIu32 ": host range 0x%" PRIx64
			    "+0x%" PRIx64 " wraps", s->what, s->next, addr,
			    len);
	s->addr = addr;
	s->left = len;
	s->next++;
	return 0;
}

/* Move n <= TERN_DMA_CHUNK bytes from the current segment of s to d's. */
static uint32_t move_bytes(struct tern_engine *e, const struct copy_side *s,
			   const struct copy_side *d, uint64_t n,
			   struct fault *f)
{
	struct tern_dev *dev = e->dev;
	uint8_t *hbm = dev->cfg.hbm;
	void *o = dev->opaque;

	if (s->hbm && d->hbm) {
		memmove(hbm + d->addr, hbm + s->addr, n);
		return 0;
	}
	if (d->hbm) {
		if (!dev->ops->dma_read(o, s->addr, hbm + d->addr, n))
			goto bad_src;
		return 0;
	}
	if (s->hbm) {
		if (!dev->ops->dma_write(o, d->addr, hbm + s->addr, n))
			goto bad_dst;
		return 0;
	}
	if (!dev->ops->dma_read(o, s->addr, e->bounce, n))
		goto bad_src;
	if (!dev->ops->dma_write(o, d->addr, e->bounce, n))
		goto bad_dst;
	return 0;
bad_src:
	return fail(f, TERN_ERR_HOST_DMA, s->addr,
		    "cannot read src host memory 0x%" PRIx64 "+0x%" PRIx64,
		    s->addr, n);
bad_dst:
	return fail(f, TERN_ERR_HOST_DMA, d->addr,
		    "cannot write dst host memory 0x%" PRIx64 "+0x%" PRIx64,
		    d->addr, n);
}

/* HBM to HBM without SG lists: correct for overlapping ranges too. */
static uint32_t copy_hbm_flat(struct tern_engine *e, struct tern_queue *q,
			      const struct tern_dma_desc *d)
{
	uint8_t *hbm = e->dev->cfg.hbm;
	bool backward = d->dst > d->src && d->dst - d->src < d->size;
	uint64_t done = 0;

	while (done < d->size) {
		uint64_t n = min_u64(d->size - done, TERN_DMA_CHUNK);
		uint64_t off = backward ? d->size - done - n : done;

		if (queue_aborted(q))
			return ERR_ABORTED;
		memmove(hbm + d->dst + off, hbm + d->src + off, n);
		done += n;
	}
	return 0;
}

static uint32_t do_copy(struct tern_engine *e, struct tern_queue *q,
			const struct tern_dma_desc *d, struct fault *f)
{
	struct copy_side *s = &e->side[0], *t = &e->side[1];
	uint64_t left = d->size;
	uint32_t err;

	err = side_init(e->dev, s, "src", d->flags & TERN_DESC_F_SRC_HBM,
			d->flags & TERN_DESC_F_SRC_SGL, d->src,
			d->src_sgl_count, d->size, f);
	if (!err)
		err = side_init(e->dev, t, "dst",
				d->flags & TERN_DESC_F_DST_HBM,
				d->flags & TERN_DESC_F_DST_SGL, d->dst,
				d->dst_sgl_count, d->size, f);
	if (err)
		return err;
	if (s->hbm && t->hbm && !s->sgl && !t->sgl)
		return copy_hbm_flat(e, q, d);

	while (left) {
		uint64_t n;

		if (queue_aborted(q))
			return ERR_ABORTED;
		if (!s->left && (err = side_next(e, s, d->size, f)))
			return err;
		if (!t->left && (err = side_next(e, t, d->size, f)))
			return err;
		n = min_u64(min_u64(left, TERN_DMA_CHUNK),
			    min_u64(s->left, t->left));
		err = move_bytes(e, s, t, n, f);
		if (err)
			return err;
		s->addr += n;
		s->left -= n;
		t->addr += n;
		t->left -= n;
		left -= n;
	}
	/* Entries past the size are never used but must still be valid. */
	for (int i = 0; i < 2; i++) {
		struct copy_side *c = &e->side[i];

		while (c->sgl && c->next < c->count) {
			if (queue_aborted(q))
				return ERR_ABORTED;
			err = side_next(e, c, d->size, f);
			if (err)
				return err;
		}
	}
	return 0;
}

static uint32_t write_fence(struct tern_dev *dev,
			    const struct tern_dma_desc *d, struct fault *f)
{
	uint8_t v[8];

	put_le64(v, d->fence_value);
	/* The fence must not be seen before the data it stands for. */
	atomic_thread_fence(memory_order_release);
	if (d->flags & TERN_DESC_F_FENCE_HBM) {
		uint8_t *p = dev->cfg.hbm + d->fence_addr;

		if (!((uintptr_t)p & 7)) {
			uint64_t raw;

			memcpy(&raw, v, 8);
			__atomic_store_n((uint64_t *)(void *)p, raw,
					 __ATOMIC_RELEASE);
		} else {
			memcpy(p, v, 8);
		}
		return 0;
	}
	if (!dev->ops->dma_write(dev->opaque, d->fence_addr, v, 8))
		return fail(f, TERN_ERR_FENCE, d->fence_addr,
			    "cannot write the fence at host 0x%" PRIx64,
			    d->fence_addr);
	return 0;
}

struct ring {
	uint64_t base;
	uint32_t size;
	bool in_hbm;
};

/* Run descriptor idx of queue qn; returns 0, a TERN_ERR_* or ERR_ABORTED. */
static uint32_t run_desc(struct tern_engine *e, unsigned int qn,
			 const struct ring *r, uint32_t idx, bool *irq,
			 struct fault *f)
{
	struct tern_dev *dev = e->dev;
	struct tern_queue *q = &dev->q[qn];
	uint64_t daddr = r->base + (uint64_t)idx * TERN_DESC_SIZE;
	uint8_t raw[TERN_DESC_SIZE];
	struct tern_dma_desc d;
	uint32_t err;

	if (r->in_hbm)
		memcpy(raw, dev->cfg.hbm + daddr, sizeof(raw));
	else if (!dev->ops->dma_read(dev->opaque, daddr, raw, sizeof(raw)))
		return fail(f, TERN_ERR_RING_FETCH, daddr,
			    "cannot fetch the descriptor at 0x%" PRIx64, daddr);
	decode_desc(raw, &d);
	if (dev->ops->trace_dma_start)
		dev->ops->trace_dma_start(dev->opaque, e->index, qn, idx, &d);

	err = validate_desc(dev, &d, daddr, f);
	if (err)
		return err;
	if (d.opcode == TERN_DESC_OP_COPY) {
		err = do_copy(e, q, &d, f);
		if (err)
			return err;
	}
	if (d.flags & TERN_DESC_F_FENCE) {
		if (queue_aborted(q))
			return ERR_ABORTED;
		err = write_fence(dev, &d, f);
		if (err)
			return err;
	}
	*irq = d.flags & TERN_DESC_F_IRQ;
	return 0;
}

/* Next queue of this engine with work, round robin (lock held). */
static unsigned int pick_queue(struct tern_engine *e)
{
	struct tern_dev *dev = e->dev;
	unsigned int ne = dev->cfg.dma_engines;
	unsigned int n;

	if (dev->resetting || e->index >= dev->cfg.queues)
		return TERN_MAX_QUEUES;
	n = (dev->cfg.queues - e->index + ne - 1) / ne;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int k = (e->rr + i) % n;
		unsigned int qn = e->index + k * ne;
		struct tern_queue *q = &dev->q[qn];

		if (q->state == TERN_Q_STATE_ACTIVE && !q->quiesce &&
		    !queue_aborted(q) && q->head != q->tail) {
			e->rr = (k + 1) % n;
			return qn;
		}
	}
	return TERN_MAX_QUEUES;
}

/* Account for a finished descriptor (lock held). */
static void finish_desc(struct tern_dev *dev, unsigned int qn,
			const struct ring *r, uint32_t idx, uint32_t err,
			bool irq, const struct fault *f)
{
	struct tern_queue *q = &dev->q[qn];

	if (dev->ops->trace_dma_done)
		dev->ops->trace_dma_done(dev->opaque, qn, idx, err);
	if (err == ERR_ABORTED || queue_aborted(q))
		return;
	if (err) {
		q->state = TERN_Q_STATE_HALTED;
		q->error = err;
		q->head = idx;
		trace_state(dev, qn);
		device_error(dev, qn, idx, err, f->addr, f->why);
		return;
	}
	q->head = (idx + 1) & (r->size - 1);
	q->completed++;
	if (irq) {
		dev->qdone |= 1ull << qn;
		send_irq(dev, TERN_MSIX_VEC_QUEUE(qn),
			 dev->int_mask & TERN_INT_QUEUE);
	}
}

static void *worker_main(void *arg)
{
	struct tern_engine *e = arg;
	struct tern_dev *dev = e->dev;

#ifdef __GLIBC__
	{
		char tname[16];

		snprintf(tname, sizeof(tname), "tern-dma%u", e->index);
		pthread_setname_np(pthread_self(), tname);
	}
#endif
	if (dev->ops->worker_init)
		dev->ops->worker_init(dev->opaque, e->index);

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		unsigned int qn = pick_queue(e);
		struct tern_queue *q;
		struct fault f;
		struct ring r;
		bool irq = false;
		uint32_t idx, err;

		if (qn == TERN_MAX_QUEUES) {
			pthread_cond_wait(&e->wake, &dev->lock);
			continue;
		}
		q = &dev->q[qn];
		r.base = q->base;
		r.size = q->size;
		r.in_hbm = q->in_hbm;
		idx = q->head;
		q->inflight = true;
		pthread_mutex_unlock(&dev->lock);

		err = run_desc(e, qn, &r, idx, &irq, &f);

		pthread_mutex_lock(&dev->lock);
		q->inflight = false;
		finish_desc(dev, qn, &r, idx, err, irq, &f);
		pthread_cond_broadcast(&dev->idle);
	}
	pthread_mutex_unlock(&dev->lock);

	if (dev->ops->worker_exit)
		dev->ops->worker_exit(dev->opaque, e->index);
	return NULL;
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
	trace_state(dev, qn);
}

static void queue_enable(struct tern_dev *dev, unsigned int qn, bool in_hbm)
{
	struct tern_queue *q = &dev->q[qn];
	uint64_t base = q->prog_base;
	uint32_t size = q->prog_size;
	char why[160];

	queue_disable(dev, qn);
	q->error = TERN_ERR_NONE;
	why[0] = 0;
	if (!is_pow2(size) || size < TERN_RING_MIN_ENTRIES ||
	    size > TERN_RING_MAX_ENTRIES)
		snprintf(why, sizeof(why), "ring size %" PRIu32 " is not a "
			 "power of two in [%u, %u]", size,
			 TERN_RING_MIN_ENTRIES, TERN_RING_MAX_ENTRIES);
	else if (base % TERN_DESC_SIZE)
		snprintf(why, sizeof(why), "ring base 0x%" PRIx64 " is not "
			 "%u-byte aligned", base, TERN_DESC_SIZE);
	else if (in_hbm &&
		 !hbm_range_ok(dev, base, (uint64_t)size * TERN_DESC_SIZE))
		snprintf(why, sizeof(why), "HBM ring 0x%" PRIx64 "+0x%" PRIx64
			 " outside the HBM", base,
			 (uint64_t)size * TERN_DESC_SIZE);
	else if (!in_hbm && !no_wrap(base, (uint64_t)size * TERN_DESC_SIZE))
		snprintf(why, sizeof(why), "host ring 0x%" PRIx64 "+0x%" PRIx64
			 " wraps", base, (uint64_t)size * TERN_DESC_SIZE);
	if (why[0]) {
		q->error = TERN_ERR_BAD_RING;
		device_error(dev, qn, size, TERN_ERR_BAD_RING, base, why);
		return;
	}
	q->base = base;
	q->size = size;
	q->in_hbm = in_hbm;
	q->head = 0;
	q->tail = 0;
	q->state = TERN_Q_STATE_ACTIVE;
	trace_state(dev, qn);
}

static void queue_ctrl_write(struct tern_dev *dev, unsigned int qn,
			     uint32_t val)
{
	struct tern_queue *q = &dev->q[qn];

	if (val & ~TERN_Q_CTRL_ALL) {
		guest_err(dev, "queue %u: CTRL write 0x%" PRIx32 " has unknown "
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
		trace_state(dev, qn);
		wake_engine(dev, qn);
		break;
	case TERN_Q_STATE_DISABLED:
		guest_err(dev, "queue %u: RESUME on a disabled queue; ignored",
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
		guest_err(dev, "queue %u: HEAD write %" PRIu32 " while not "
			  "halted; ignored", qn, val);
	else if (val >= q->size)
		guest_err(dev, "queue %u: HEAD write %" PRIu32 " out of range "
			  "for a ring of %" PRIu32 " entries; ignored", qn, val,
			  q->size);
	else
		q->head = val;
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
	case TERN_REG_RESET: *v = 0; return true;
	case TERN_REG_STATUS:
		*v = TERN_STATUS_READY |
		     (dev->err_code != TERN_ERR_NONE ? TERN_STATUS_ERROR : 0);
		return true;
	case TERN_REG_INT_STATUS:
		*v = dev->int_status | (dev->qdone ? TERN_INT_QUEUE : 0);
		return true;
	case TERN_REG_INT_MASK: *v = dev->int_mask; return true;
	case TERN_REG_QDONE_LO: *v = (uint32_t)dev->qdone; return true;
	case TERN_REG_QDONE_HI: *v = dev->qdone >> 32; return true;
	case TERN_REG_ERR_CODE: *v = dev->err_code; return true;
	case TERN_REG_ERR_QUEUE: *v = dev->err_queue; return true;
	case TERN_REG_ERR_INDEX: *v = dev->err_index; return true;
	case TERN_REG_ERR_ADDR_LO: *v = (uint32_t)dev->err_addr; return true;
	case TERN_REG_ERR_ADDR_HI: *v = dev->err_addr >> 32; return true;
	case TERN_REG_ERR_COUNT: *v = dev->err_count; return true;
	case TERN_REG_ERR_ACK: *v = 0; return true;
	}
	if (off >= TERN_REG_QUEUE_BASE && off < TERN_REG_QUEUE(dev->cfg.queues))
		return queue_reg_read(dev, off, v);
	return false;
}

static void int_mask_write(struct tern_dev *dev, uint32_t val)
{
	uint32_t unmasked = dev->int_mask & ~val;

	if (val & ~TERN_INT_ALL)
		guest_err(dev, "INT_MASK write 0x%" PRIx32 ": unknown bits "
			  "ignored", val);
	dev->int_mask = val & TERN_INT_ALL;
	/* A cause still pending when unmasked is signalled now. */
	if ((unmasked & TERN_INT_ERROR) && (dev->int_status & TERN_INT_ERROR))
		send_irq(dev, TERN_MSIX_VEC_ERROR, false);
	if (unmasked & TERN_INT_QUEUE)
		for (unsigned int i = 0; i < dev->cfg.queues; i++)
			if (dev->qdone & (1ull << i))
				send_irq(dev, TERN_MSIX_VEC_QUEUE(i), false);
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
	case TERN_Q_TAIL:
	case TERN_Q_STATUS:
	case TERN_Q_ERROR:
	case TERN_Q_COMPLETED_LO:
	case TERN_Q_COMPLETED_HI:
		guest_err(dev, "write 0x%" PRIx32 " to read-only register "
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
	case TERN_REG_STATUS:
	case TERN_REG_ERR_CODE:
	case TERN_REG_ERR_QUEUE:
	case TERN_REG_ERR_INDEX:
	case TERN_REG_ERR_ADDR_LO:
	case TERN_REG_ERR_ADDR_HI:
	case TERN_REG_ERR_COUNT:
		guest_err(dev, "write 0x%" PRIx32 " to read-only register %s "
			  "ignored", val, tern_reg_name(off));
		return true;
	case TERN_REG_RESET:
		if (val == TERN_RESET_KEY)
			do_reset(dev);
		else
			guest_err(dev, "RESET write 0x%" PRIx32 " is not the "
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
	case TERN_REG_ERR_ACK:
		if (val & ~1u)
			guest_err(dev, "ERR_ACK write 0x%" PRIx32 ": unknown "
				  "bits ignored", val);
		if (val & 1) {
			dev->err_code = TERN_ERR_NONE;
			dev->err_queue = TERN_ERR_QUEUE_NONE;
			dev->err_index = 0;
			dev->err_addr = 0;
		}
		return true;
	}
	if (off >= TERN_REG_QUEUE_BASE && off < TERN_REG_QUEUE(dev->cfg.queues))
		return queue_reg_write(dev, off, val);
	return false;
}

uint64_t tern_mmio_read(struct tern_dev *dev, uint64_t offset,
			unsigned int size)
{
	uint32_t v = 0;
	bool known;

	if (size != 4 || (offset & 3) || offset >= TERN_REG_WINDOW_SIZE) {
		pthread_mutex_lock(&dev->lock);
		guest_err(dev, "BAR0 %u-byte read at 0x%" PRIx64 ": only "
			  "aligned 32-bit register reads are supported; "
			  "reads 0", size, offset);
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	pthread_mutex_lock(&dev->lock);
	known = reg_read(dev, offset, &v);
	if (!known)
		guest_err(dev, "BAR0 read of unknown register 0x%" PRIx64
			  "; reads 0", offset);
	pthread_mutex_unlock(&dev->lock);
	return known ? v : 0;
}

void tern_mmio_write(struct tern_dev *dev, uint64_t offset, uint64_t value,
		     unsigned int size)
{
	pthread_mutex_lock(&dev->lock);
	if (size != 4 || (offset & 3) || offset >= TERN_REG_WINDOW_SIZE)
		guest_err(dev, "BAR0 %u-byte write 0x%" PRIx64 " at 0x%" PRIx64
			  ": only aligned 32-bit register writes are "
			  "supported; ignored", size, value, offset);
	else if (!reg_write(dev, offset, (uint32_t)value))
		guest_err(dev, "BAR0 write 0x%" PRIx64 " to unknown register "
			  "0x%" PRIx64 " ignored", value, offset);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- doorbells ---- */

uint64_t tern_doorbell_bar_size(unsigned int queues)
{
	uint64_t need = (uint64_t)(queues ? queues : 1) * TERN_DOORBELL_STRIDE;
	uint64_t size = TERN_DOORBELL_STRIDE;

	while (size < need)
		size <<= 1;
	return size;
}

uint64_t tern_doorbell_read(struct tern_dev *dev, uint64_t offset,
			    unsigned int size)
{
	pthread_mutex_lock(&dev->lock);
	guest_err(dev, "BAR2 %u-byte read at 0x%" PRIx64 ": doorbells are "
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
		guest_err(dev, "BAR2 %u-byte write 0x%" PRIx64 " at 0x%" PRIx64
			  ": not a doorbell (32-bit write at a queue's page "
			  "start); ignored", size, value, offset);
	} else if (qn64 >= dev->cfg.queues) {
		snprintf(why, sizeof(why), "doorbell for queue %" PRIu64
			 " which does not exist", qn64);
		device_error(dev, TERN_ERR_QUEUE_NONE, tail, TERN_ERR_DOORBELL,
			     offset, why);
	} else {
		unsigned int qn = (unsigned int)qn64;
		struct tern_queue *q = &dev->q[qn];

		if (dev->ops->trace_doorbell)
			dev->ops->trace_doorbell(dev->opaque, qn, tail);
		if (q->state == TERN_Q_STATE_DISABLED) {
			snprintf(why, sizeof(why), "doorbell tail %" PRIu32
				 " on a disabled queue", tail);
			device_error(dev, qn, tail, TERN_ERR_DOORBELL, offset,
				     why);
		} else if (tail >= q->size) {
			snprintf(why, sizeof(why), "doorbell tail %" PRIu32
				 " out of range for a ring of %" PRIu32
				 " entries", tail, q->size);
			device_error(dev, qn, tail, TERN_ERR_DOORBELL, offset,
				     why);
		} else {
			q->tail = tail;
			wake_engine(dev, qn);
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
	return true;
}

static void stop_workers(struct tern_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	dev->stopping = true;
	for (unsigned int i = 0; i < TERN_MAX_QUEUES; i++)
		atomic_store(&dev->q[i].abort, true);
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++)
		pthread_cond_broadcast(&dev->eng[i].wake);
	pthread_mutex_unlock(&dev->lock);
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++)
		if (dev->eng[i].started)
			pthread_join(dev->eng[i].thread, NULL);
}

static void free_dev(struct tern_dev *dev)
{
	for (unsigned int i = 0; i < dev->cfg.dma_engines; i++) {
		pthread_cond_destroy(&dev->eng[i].wake);
		free(dev->eng[i].bounce);
	}
	pthread_cond_destroy(&dev->idle);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

struct tern_dev *tern_dev_create(const struct tern_config *cfg,
				 const struct tern_host_ops *ops, void *opaque,
				 char *err, size_t errlen)
{
	struct tern_dev *dev;
	sigset_t block, old;
	int rc = 0;

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
	snprintf(dev->name, sizeof(dev->name), "%s",
		 cfg->name && cfg->name[0] ? cfg->name : "tern");
	dev->cfg.name = dev->name;
	dev->ops = ops;
	dev->opaque = opaque;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->idle, NULL);
	for (unsigned int i = 0; i < cfg->dma_engines; i++) {
		struct tern_engine *e = &dev->eng[i];

		e->dev = dev;
		e->index = i;
		pthread_cond_init(&e->wake, NULL);
	}
	for (unsigned int i = 0; i < cfg->dma_engines; i++) {
		dev->eng[i].bounce = malloc(TERN_DMA_CHUNK);
		if (!dev->eng[i].bounce) {
			snprintf(err, errlen, "out of memory");
			free_dev(dev);
			return NULL;
		}
	}
	reset_state(dev);

	/*
	 * Workers take no asynchronous signals: the embedder's threads handle
	 * them (QEMU blocks them in its own threads the same way).
	 */
	sigfillset(&block);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	for (unsigned int i = 0; i < cfg->dma_engines && !rc; i++) {
		rc = pthread_create(&dev->eng[i].thread, NULL, worker_main,
				    &dev->eng[i]);
		dev->eng[i].started = !rc;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start DMA worker threads: %s",
			 strerror(rc));
		stop_workers(dev);
		free_dev(dev);
		return NULL;
	}
	return dev;
}

void tern_dev_destroy(struct tern_dev *dev)
{
	if (!dev)
		return;
	stop_workers(dev);
	free_dev(dev);
}
