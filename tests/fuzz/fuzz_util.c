// SPDX-License-Identifier: MIT
/* What the host fuzz targets of the tern device model share (fuzz_util.h). */
#include "fuzz_util.h"
#include "tern_isa.h"
#include "tern_model_int.h"	/* the workers' own idea of idle */

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef FZ_POISON
#define FZ_POISON(p, n)	((void)(p), (void)(n))
#endif

/* ---- input reader ---- */

uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

uint64_t fz_u64(struct fz *f)
{
	return (uint64_t)fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

uint32_t fz_below(struct fz *f, uint32_t n)
{
	return n <= 256 ? fz_u8(f) % n : fz_u32(f) % n;
}

bool fz_one_in(struct fz *f, uint32_t n)
{
	/* zero bytes (and the end of the input) mean "no" */
	return n > 1 && fz_below(f, n) == n - 1;
}

void fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t k = len < f->n ? len : f->n;

	memcpy(dst, f->p, k);
	memset((uint8_t *)dst + k, 0, len - k);
	f->p += k;
	f->n -= k;
}

/* ---- failures ---- */

void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "==FUZZ== model invariant violated: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- guarded memory ---- */

uint8_t *fz_guarded_alloc(size_t len)
{
	size_t total = len + 2 * (size_t)FZ_GUARD;
	uint8_t *base = mmap(NULL, total, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			     0);

	if (base == MAP_FAILED)
		fz_fail("cannot map %zu bytes", total);
	if (mprotect(base + FZ_GUARD, len, PROT_READ | PROT_WRITE))
		fz_fail("mprotect failed");
	/* an access just outside is named by ASan; further out, SIGSEGV */
	FZ_POISON(base, FZ_GUARD);
	FZ_POISON(base + FZ_GUARD + len, FZ_GUARD);
	return base + FZ_GUARD;
}

void fz_guarded_zero(uint8_t *p, size_t len)
{
	/* back to zero pages: costs only the pages the last input touched */
	if (madvise(p, len, MADV_DONTNEED))
		memset(p, 0, len);
}

/* ---- host interface ---- */

static bool ram_range(struct fz_env *e, uint64_t addr, size_t len,
		      uint8_t **p)
{
	if (addr < FZ_RAM_BASE || addr - FZ_RAM_BASE > FZ_RAM_SIZE ||
	    len > FZ_RAM_SIZE - (addr - FZ_RAM_BASE))
		return false;
	*p = e->ram + (addr - FZ_RAM_BASE);
	return true;
}

static bool host_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	uint8_t *p;

	if (!ram_range(opaque, addr, len, &p))
		return false;
	memcpy(buf, p, len);
	return true;
}

static bool host_write(void *opaque, uint64_t addr, const void *buf,
		       size_t len)
{
	uint8_t *p;

	if (!ram_range(opaque, addr, len, &p))
		return false;
	memcpy(p, buf, len);
	return true;
}

static void host_irq(void *opaque, unsigned int vector)
{
	struct fz_env *e = opaque;

	(void)vector;
	__atomic_fetch_add(&e->irqs, 1, __ATOMIC_RELAXED);
}

static void host_guest_error(void *opaque, const char *line)
{
	struct fz_env *e = opaque;

	__atomic_fetch_add(&e->guest_errors, 1, __ATOMIC_RELAXED);
	if (strncmp(line, "tern:", 5))
		fz_fail("guest-error line does not start with \"tern:\": %s",
			line);
	if (e->verbose)
		fprintf(stderr, "# %s\n", line);
}

static const struct tern_host_ops fz_ops = {
	.dma_read = host_read,
	.dma_write = host_write,
	.raise_irq = host_irq,
	.guest_error = host_guest_error,
};

static struct fz_env env;

struct fz_env *fz_begin(unsigned int queues, unsigned int engines,
			unsigned int cores)
{
	struct fz_env *e = &env;
	char err[256];

	if (!e->dev) {
		e->ram = fz_guarded_alloc(FZ_RAM_SIZE);
		e->hbm = fz_guarded_alloc(FZ_HBM_SIZE);
		e->cfg.hbm = e->hbm;
		e->cfg.hbm_size = FZ_HBM_SIZE;
		e->cfg.queues = queues;
		e->cfg.dma_engines = engines;
		e->cfg.cores = cores;
		e->cfg.sbuf_size = TERN_SBUF_SIZE_MIN;
		e->cfg.name = "fuzz0";
		e->verbose = getenv("FUZZ_VERBOSE") != NULL;
		if (!tern_config_check(&e->cfg, err, sizeof(err)))
			fz_fail("config: %s", err);
		e->dev = tern_dev_create(&e->cfg, &fz_ops, e, err,
					 sizeof(err));
		if (!e->dev)
			fz_fail("tern_dev_create: %s", err);
		return e;
	}
	tern_dev_reset(e->dev);
	fz_guarded_zero(e->ram, FZ_RAM_SIZE);
	fz_guarded_zero(e->hbm, FZ_HBM_SIZE);
	return e;
}

/* ---- registers ---- */

uint32_t fz_rd(struct fz_env *e, uint64_t off)
{
	return (uint32_t)tern_mmio_read(e->dev, off, 4);
}

void fz_wr(struct fz_env *e, uint64_t off, uint32_t val)
{
	tern_mmio_write(e->dev, off, val, 4);
}

void fz_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void fz_put64(uint8_t *p, uint64_t v)
{
	fz_put32(p, (uint32_t)v);
	fz_put32(p + 4, (uint32_t)(v >> 32));
}

uint64_t fz_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Ring registers of queue i (< queues) or core i - queues. */
static uint64_t ring_reg(struct fz_env *e, unsigned int i, uint64_t reg)
{
	if (i < e->cfg.queues)
		return TERN_REG_QUEUE(i) + reg;
	return TERN_REG_CORE(i - e->cfg.queues) + reg;
}

/*
 * Work the model still has, seen in one hold of dev->lock as its workers see
 * it: a descriptor or launch in flight (a worker marks it from pick to
 * finish under the lock), or an ACTIVE ring with HEAD != TAIL. HEAD == TAIL
 * alone is not idle: a doorbell may move TAIL onto the HEAD of a descriptor
 * in flight (ringing past what the device consumed, which the fuzzer does);
 * when that descriptor completes HEAD passes TAIL and the ring runs on. Nor
 * are registers read one by one a snapshot. Once this is false, nothing
 * changes until the next MMIO write or doorbell.
 */
static bool model_busy(struct fz_env *e)
{
	struct tern_dev *dev = e->dev;
	bool busy = false;

	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < dev->cfg.queues && !busy; i++) {
		const struct tern_queue *q = &dev->q[i];

		busy = q->inflight || (q->state == TERN_Q_STATE_ACTIVE &&
				       q->head != q->tail);
	}
	for (unsigned int c = 0; c < dev->cfg.cores && !busy; c++) {
		const struct tern_launch_ring *r = &dev->cr[c];

		busy = r->inflight || (r->state == TERN_Q_STATE_ACTIVE &&
				       r->head != r->tail);
	}
	pthread_mutex_unlock(&dev->lock);
	return busy;
}

/* For the hang report: ring i (as ring_reg) has a descriptor in flight. */
static bool ring_inflight(struct fz_env *e, unsigned int i)
{
	struct tern_dev *dev = e->dev;
	bool r;

	pthread_mutex_lock(&dev->lock);
	r = i < dev->cfg.queues ? dev->q[i].inflight :
	    dev->cr[i - dev->cfg.queues].inflight;
	pthread_mutex_unlock(&dev->lock);
	return r;
}

void fz_wait_idle(struct fz_env *e)
{
	unsigned int n = e->cfg.queues + e->cfg.cores;
	struct timespec t0, now, nap = { 0, 20000 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long spin = 0;; spin++) {
		if (!model_busy(e))
			return;
		if (spin < 200) {
			sched_yield();
			continue;
		}
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 60) {
			for (unsigned int i = 0; i < n; i++)
				fprintf(stderr, "# ring %u: status %u head %u "
					"tail %u%s\n", i,
					fz_rd(e, ring_reg(e, i, TERN_Q_STATUS)),
					fz_rd(e, ring_reg(e, i, TERN_Q_HEAD)),
					fz_rd(e, ring_reg(e, i, TERN_Q_TAIL)),
					ring_inflight(e, i) ? " (in flight)" :
					"");
			fz_fail("the model did not finish its rings in 60 s");
		}
	}
}

void fz_check_state(struct fz_env *e)
{
	unsigned int n = e->cfg.queues + e->cfg.cores;
	uint32_t code = fz_rd(e, TERN_REG_ERR_CODE);

	if (code >= TERN_ERR_COUNT)
		fz_fail("ERR_CODE %u is not a known error", code);
	if (code && !(fz_rd(e, TERN_REG_STATUS) & TERN_STATUS_ERROR))
		fz_fail("ERR_CODE %u latched but STATUS.ERROR clear", code);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t st = fz_rd(e, ring_reg(e, i, TERN_Q_STATUS));
		uint32_t err = fz_rd(e, ring_reg(e, i, TERN_Q_ERROR));
		uint32_t head = fz_rd(e, ring_reg(e, i, TERN_Q_HEAD));
		uint32_t tail = fz_rd(e, ring_reg(e, i, TERN_Q_TAIL));

		switch (st) {
		case TERN_Q_STATE_DISABLED:
			break;
		case TERN_Q_STATE_ACTIVE:
			if (head != tail)
				fz_fail("ring %u active and idle with head %u "
					"!= tail %u", i, head, tail);
			if (head >= TERN_RING_MAX_ENTRIES ||
			    tail >= TERN_RING_MAX_ENTRIES)
				fz_fail("ring %u: head %u / tail %u outside "
					"any ring", i, head, tail);
			break;
		case TERN_Q_STATE_HALTED:
			if (!err || err >= TERN_ERR_COUNT)
				fz_fail("ring %u halted with error %u", i,
					err);
			if (head >= TERN_RING_MAX_ENTRIES)
				fz_fail("ring %u halted at head %u", i, head);
			break;
		default:
			fz_fail("ring %u in state %u", i, st);
		}
	}
}

/* ---- page tables ---- */

static uint64_t pt_alloc(struct fz_env *e, struct fz_pt *pt)
{
	uint64_t t;

	if (pt->next >= FZ_PT_PAGES)
		return 0;
	t = fz_gpa(FZ_PT_OFF + pt->next++ * 0x1000u);
	memset(fz_ram(e, t), 0, 0x1000);
	return t;
}

void fz_pt_init(struct fz_env *e, struct fz_pt *pt)
{
	pt->next = 0;
	for (unsigned int n = 1; n <= FZ_CTXS; n++)
		pt->root[n] = pt_alloc(e, pt);
}

bool fz_pt_map(struct fz_env *e, struct fz_pt *pt, unsigned int n,
	       uint64_t va, int level, uint64_t pte)
{
	uint64_t table = pt->root[n];

	for (int l = 0; l < level; l++) {
		uint8_t *p = fz_ram(e, table) + TERN_PT_INDEX(va, l) * 8;
		uint64_t ent = fz_get64(p);

		if (!(ent & TERN_PTE_VALID) || (ent & TERN_PTE_LEAF)) {
			uint64_t t = pt_alloc(e, pt);

			if (!t)
				return false;
			ent = t | TERN_PTE_VALID;
			fz_put64(p, ent);
		}
		table = ent & TERN_PTE_ADDR_MASK;
		if (table < fz_gpa(FZ_PT_OFF) ||
		    table >= fz_gpa(FZ_PT_OFF + FZ_PT_PAGES * 0x1000u))
			return false;	/* a raw entry points elsewhere */
	}
	fz_put64(fz_ram(e, table) + TERN_PT_INDEX(va, level) * 8, pte);
	return true;
}

void fz_ctx_set(struct fz_env *e, unsigned int n, uint64_t root,
		uint32_t ctrl)
{
	fz_wr(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_LO, (uint32_t)root);
	fz_wr(e, TERN_REG_CTX(n) + TERN_CTX_ROOT_HI, (uint32_t)(root >> 32));
	fz_wr(e, TERN_REG_CTX(n) + TERN_CTX_CTRL, ctrl);
}

void fz_mmu_random(struct fz_env *e, struct fz *f, struct fz_pt *pt)
{
	unsigned int maps = fz_below(f, 24);

	fz_pt_init(e, pt);
	for (unsigned int n = 1; n <= FZ_CTXS; n++) {
		uint64_t root = pt->root[n];
		uint32_t ctrl = TERN_CTX_CTRL_ENABLE;

		if (fz_one_in(f, 16))
			root = fz_u64(f);	/* unaligned, outside RAM, ... */
		if (fz_one_in(f, 16))
			ctrl = fz_u32(f);
		fz_ctx_set(e, n, root, ctrl);
	}
	for (unsigned int i = 0; i < maps; i++) {
		unsigned int n = 1 + fz_below(f, FZ_CTXS);
		uint8_t how = fz_u8(f);
		int level = how & 1 ? 1 : 2;
		uint64_t page = level == 1 ? TERN_HUGE_PAGE_SIZE :
			       TERN_PAGE_SIZE;
		uint64_t va = FZ_VA_BASE +
			      (fz_below(f, FZ_VA_SPAN / TERN_PAGE_SIZE) *
			       TERN_PAGE_SIZE & ~(page - 1));
		uint64_t perm = (how >> 1) & (TERN_PTE_READ | TERN_PTE_WRITE);
		uint64_t pa, pte;

		if (how & 0x10) {	/* HBM */
			pa = (uint64_t)fz_below(f, FZ_HBM_SIZE / page) * page;
			perm |= TERN_PTE_HBM;
		} else if (level == 2) {
			pa = fz_gpa(FZ_DATA_OFF + fz_below(f, FZ_DATA_SIZE /
							   0x1000) * 0x1000);
		} else {	/* 2 MiB of host memory, partly outside RAM */
			pa = FZ_RAM_BASE + (uint64_t)fz_below(f, 4) * page;
		}
		pte = pa | perm | TERN_PTE_VALID | TERN_PTE_LEAF;
		if ((how & 0xe0) == 0xe0)
			pte = fz_u64(f);	/* anything */
		if (!fz_pt_map(e, pt, n, va, level, pte))
			break;
		/* several pages in a row: contiguous runs to merge */
		for (unsigned int k = 1; level == 2 && k < (how >> 5 & 3) &&
		     fz_pt_map(e, pt, n, va + k * page, 2,
			       pte + k * page); k++)
			;
	}
}

/* ---- addresses and sizes ---- */

uint64_t fz_addr(struct fz *f)
{
	switch (fz_below(f, 10)) {
	case 0:
	case 1:
		return fz_gpa(FZ_DATA_OFF + fz_below(f, FZ_DATA_SIZE));
	case 2:
		return FZ_RAM_BASE + FZ_RAM_SIZE - fz_below(f, 0x2000);
	case 3:
		return FZ_RAM_BASE - 1 - fz_below(f, 0x100);
	case 4:
	case 5:
		return fz_below(f, 0x200000);
	case 6:
		return FZ_HBM_SIZE - fz_below(f, 0x2000);
	case 7:
	case 8:
		return FZ_VA_BASE + fz_below(f, FZ_VA_SPAN + 0x1000);
	default:
		return fz_u64(f);
	}
}

uint64_t fz_size(struct fz *f)
{
	switch (fz_below(f, 8)) {
	case 0:
	case 1:
		return fz_u8(f);
	case 2:
	case 3:
		return fz_u16(f);
	case 4:
		return (uint64_t)(1 + fz_below(f, 4)) << 12;
	case 5:
		return fz_below(f, 1u << 22);
	case 6:
		return (uint64_t)fz_u8(f) << 20;
	default:
		return fz_u64(f);
	}
}
