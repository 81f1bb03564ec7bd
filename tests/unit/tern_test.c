// SPDX-License-Identifier: MIT
/*
 * The test embedder of the tern core and a small TAP runner.
 */
#include "tern_test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- host interface over the test "guest RAM" ---- */

/* Where [addr, addr + len) lies in RAM, or NULL if any byte is outside. */
static uint8_t *ram_ptr(struct env *e, uint64_t addr, size_t len)
{
	if (addr < RAM_BASE)
		return NULL;
	if (addr - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (addr - RAM_BASE))
		return NULL;
	return e->ram + (addr - RAM_BASE);
}

/* Block on an armed gate at or above its address (e->lock held). */
static void gate_pass(struct env *e, uint64_t addr, bool read)
{
	if (e->gate_armed && e->gate_read == read && addr >= e->gate_addr) {
		e->gate_armed = false;
		e->gate_hit = true;
		pthread_cond_broadcast(&e->gate_cv);
		while (!e->gate_opened)
			pthread_cond_wait(&e->gate_cv, &e->lock);
	}
}

static bool host_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct env *e = opaque;
	uint8_t *p = ram_ptr(e, addr, len);

	pthread_mutex_lock(&e->lock);
	gate_pass(e, addr, true);
	pthread_mutex_unlock(&e->lock);
	if (!p)
		return false;
	memcpy(buf, p, len);
	return true;
}

static bool host_dma_write(void *opaque, uint64_t addr, const void *buf,
			   size_t len)
{
	struct env *e = opaque;
	uint8_t *p = ram_ptr(e, addr, len);

	pthread_mutex_lock(&e->lock);
	gate_pass(e, addr, false);
	pthread_mutex_unlock(&e->lock);
	if (!p)
		return false;
	memcpy(p, buf, len);
	return true;
}

static void host_raise_irq(void *opaque, unsigned int vector)
{
	struct env *e = opaque;

	pthread_mutex_lock(&e->lock);
	if (vector < NVEC)
		e->irqs[vector]++;
	pthread_mutex_unlock(&e->lock);
}

static void host_guest_error(void *opaque, const char *line)
{
	struct env *e = opaque;

	pthread_mutex_lock(&e->lock);
	snprintf(e->lines[e->nlines % LOG_LINES], sizeof(e->lines[0]), "%s",
		 line);
	e->nlines++;
	pthread_mutex_unlock(&e->lock);
	if (getenv("TERN_TEST_VERBOSE"))
		printf("# log: %s\n", line);
}

static void host_worker_init(void *opaque, unsigned int engine)
{
	struct env *e = opaque;

	(void)engine;
	pthread_mutex_lock(&e->lock);
	e->worker_inits++;
	pthread_mutex_unlock(&e->lock);
}

static void host_worker_exit(void *opaque, unsigned int engine)
{
	struct env *e = opaque;

	(void)engine;
	pthread_mutex_lock(&e->lock);
	e->worker_exits++;
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_dma_start(void *opaque, unsigned int engine,
				 unsigned int queue, uint32_t index,
				 const struct tern_dma_desc *d)
{
	struct env *e = opaque;

	(void)index;
	(void)d;
	pthread_mutex_lock(&e->lock);
	e->engine_of_queue[queue] = (int)engine;
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_launch_start(void *opaque, unsigned int core,
				    uint32_t index,
				    const struct tern_launch_desc *d)
{
	struct env *e = opaque;

	(void)index;
	(void)d;
	pthread_mutex_lock(&e->lock);
	e->launches_started[core]++;
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_launch_done(void *opaque, unsigned int core,
				   uint32_t index, uint32_t error,
				   uint32_t job_status, uint32_t job_error,
				   uint64_t cycles)
{
	struct env *e = opaque;

	(void)index;
	(void)error;
	(void)job_status;
	(void)job_error;
	(void)cycles;
	pthread_mutex_lock(&e->lock);
	e->launches_done[core]++;
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_reset(void *opaque, bool done)
{
	struct env *e = opaque;

	pthread_mutex_lock(&e->lock);
	if (done) {
		e->resets++;
	} else {
		e->resets_begun++;
		if (e->open_on_reset) {
			e->gate_opened = true;
			pthread_cond_broadcast(&e->gate_cv);
		}
	}
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_link_state(void *opaque, unsigned int port,
				  uint32_t state)
{
	struct env *e = opaque;

	pthread_mutex_lock(&e->lock);
	e->link_states[port]++;
	e->link_state_last[port] = state;
	pthread_mutex_unlock(&e->lock);
}

static void host_trace_link_copy(void *opaque, unsigned int port,
				 unsigned int peer_chip, uint64_t size,
				 uint32_t error)
{
	struct env *e = opaque;

	(void)port;
	(void)peer_chip;
	(void)size;
	pthread_mutex_lock(&e->lock);
	e->link_copies++;
	e->link_copy_error = error;
	pthread_mutex_unlock(&e->lock);
}

const struct tern_host_ops test_host_ops = {
	.dma_read = host_dma_read,
	.dma_write = host_dma_write,
	.raise_irq = host_raise_irq,
	.trace_launch_start = host_trace_launch_start,
	.trace_launch_done = host_trace_launch_done,
	.guest_error = host_guest_error,
	.worker_init = host_worker_init,
	.worker_exit = host_worker_exit,
	.trace_dma_start = host_trace_dma_start,
	.trace_reset = host_trace_reset,
	.trace_link_state = host_trace_link_state,
	.trace_link_copy = host_trace_link_copy,
};

/* ---- environment ---- */

bool env_init(struct env *e, unsigned int queues, unsigned int engines,
	      unsigned int cores)
{
	return env_init_link(e, queues, engines, cores, NULL);
}

bool env_init_link(struct env *e, unsigned int queues, unsigned int engines,
		   unsigned int cores, const struct tern_link_config *lc)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->gate_cv, NULL);
	for (unsigned int i = 0; i < TERN_MAX_QUEUES; i++)
		e->engine_of_queue[i] = -1;
	e->ram_alloc = calloc(1, RAM_SIZE + 2 * GUARD_SIZE);
	e->hbm_alloc = calloc(1, HBM_SIZE + 2 * GUARD_SIZE);
	if (!e->ram_alloc || !e->hbm_alloc) {
		printf("# out of memory\n");
		return false;
	}
	e->ram = e->ram_alloc + GUARD_SIZE;
	e->hbm = e->hbm_alloc + GUARD_SIZE;
	memset(e->ram_alloc, GUARD_BYTE, GUARD_SIZE);
	memset(e->ram + RAM_SIZE, GUARD_BYTE, GUARD_SIZE);
	memset(e->hbm_alloc, GUARD_BYTE, GUARD_SIZE);
	memset(e->hbm + HBM_SIZE, GUARD_BYTE, GUARD_SIZE);

	e->cfg.hbm = e->hbm;
	e->cfg.hbm_size = HBM_SIZE;
	e->cfg.cores = cores ? cores : TERN_CORES_DEFAULT;
	e->cfg.queues = queues ? queues : TERN_QUEUES_DEFAULT;
	e->cfg.dma_engines = engines ? engines : TERN_DMA_ENGINES_DEFAULT;
	e->cfg.name = "unit0";
	e->cfg.link = lc;
	e->dev = tern_dev_create(&e->cfg, &test_host_ops, e, err, sizeof(err));
	if (!e->dev) {
		printf("# tern_dev_create: %s\n", err);
		return false;
	}
	return true;
}

static bool all_guard(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != GUARD_BYTE)
			return false;
	return true;
}

bool guards_intact(const struct env *e)
{
	return all_guard(e->ram_alloc, GUARD_SIZE) &&
	       all_guard(e->ram + RAM_SIZE, GUARD_SIZE) &&
	       all_guard(e->hbm_alloc, GUARD_SIZE) &&
	       all_guard(e->hbm + HBM_SIZE, GUARD_SIZE);
}

bool env_fini(struct env *e)
{
	bool ok = true;

	gate_open(e);	/* a failed test may have left a worker waiting */
	if (e->dev) {
		tern_dev_destroy(e->dev);
		e->dev = NULL;
		unsigned int nw = e->cfg.dma_engines + e->cfg.cores;

		if (e->worker_inits != nw || e->worker_exits != nw) {
			printf("# worker hooks: %u inits, %u exits for %u "
			       "engines and %u cores\n", e->worker_inits,
			       e->worker_exits, e->cfg.dma_engines,
			       e->cfg.cores);
			ok = false;
		}
	}
	if (e->ram_alloc && e->hbm_alloc && !guards_intact(e)) {
		printf("# guard bytes around RAM or HBM were overwritten\n");
		ok = false;
	}
	free(e->ram_alloc);
	free(e->hbm_alloc);
	pthread_cond_destroy(&e->gate_cv);
	pthread_mutex_destroy(&e->lock);
	return ok;
}

/* ---- registers ---- */

uint32_t rd(struct env *e, uint64_t off)
{
	return (uint32_t)tern_mmio_read(e->dev, off, 4);
}

void wr(struct env *e, uint64_t off, uint32_t val)
{
	tern_mmio_write(e->dev, off, val, 4);
}

uint32_t qrd(struct env *e, unsigned int q, uint64_t reg)
{
	return rd(e, TERN_REG_QUEUE(q) + reg);
}

void qwr(struct env *e, unsigned int q, uint64_t reg, uint32_t val)
{
	wr(e, TERN_REG_QUEUE(q) + reg, val);
}

uint32_t crd(struct env *e, unsigned int core, uint64_t reg)
{
	return rd(e, TERN_REG_CORE(core) + reg);
}

void cwr(struct env *e, unsigned int core, uint64_t reg, uint32_t val)
{
	wr(e, TERN_REG_CORE(core) + reg, val);
}

uint32_t c_enable(struct env *e, unsigned int core, uint64_t base, uint32_t entries)
{
	cwr(e, core, TERN_C_RING_BASE_LO, (uint32_t)base);
	cwr(e, core, TERN_C_RING_BASE_HI, (uint32_t)(base >> 32));
	cwr(e, core, TERN_C_RING_SIZE, entries);
	cwr(e, core, TERN_C_CTRL, TERN_C_CTRL_ENABLE);
	return crd(e, core, TERN_C_STATUS);
}

uint32_t c_wait(struct env *e, unsigned int core)
{
	for (int i = 0; i < 120000; i++) {
		uint32_t st = crd(e, core, TERN_C_STATUS);
		struct timespec ts = { 0, 500000 };

		if (st != TERN_Q_STATE_ACTIVE ||
		    crd(e, core, TERN_C_HEAD) == crd(e, core, TERN_C_TAIL))
			return st;
		nanosleep(&ts, NULL);
	}
	return 0xdead;
}

void doorbell(struct env *e, unsigned int q, uint32_t tail)
{
	tern_doorbell_write(e->dev, (uint64_t)q * TERN_DOORBELL_STRIDE, tail,
			    4);
}

uint64_t err_addr(struct env *e)
{
	return rd(e, TERN_REG_ERR_ADDR_LO) |
	       (uint64_t)rd(e, TERN_REG_ERR_ADDR_HI) << 32;
}

void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* ---- descriptors and queues ---- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct tern_dma_desc mkdesc(uint32_t opcode, uint32_t flags, uint64_t src,
			    uint64_t dst, uint64_t size)
{
	struct tern_dma_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = opcode;
	d.flags = flags;
	d.src = src;
	d.dst = dst;
	d.size = size;
	return d;
}

void put_desc(struct env *e, bool in_hbm, uint64_t ring, uint32_t idx,
	      const struct tern_dma_desc *d)
{
	uint8_t *p = in_hbm ? e->hbm + ring : e->ram + (ring - RAM_BASE);

	p += (size_t)idx * TERN_DESC_SIZE;
	put32(p + 0, d->opcode);
	put32(p + 4, d->flags);
	put64(p + 8, d->src);
	put64(p + 16, d->dst);
	put64(p + 24, d->size);
	put64(p + 32, d->fence_addr);
	put64(p + 40, d->fence_value);
	put32(p + 48, d->src_sgl_count);
	put32(p + 52, d->dst_sgl_count);
	put32(p + 56, d->ctx);
	put32(p + 60, d->link);
}

void put_sg(uint8_t *at, uint32_t i, uint64_t addr, uint64_t size)
{
	put64(at + (size_t)i * 16, addr);
	put64(at + (size_t)i * 16 + 8, size);
}

uint32_t q_enable(struct env *e, unsigned int q, uint64_t base, uint32_t size,
		  bool in_hbm)
{
	qwr(e, q, TERN_Q_RING_BASE_LO, (uint32_t)base);
	qwr(e, q, TERN_Q_RING_BASE_HI, (uint32_t)(base >> 32));
	qwr(e, q, TERN_Q_RING_SIZE, size);
	qwr(e, q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE |
	    (in_hbm ? TERN_Q_CTRL_RING_IN_HBM : 0));
	return qrd(e, q, TERN_Q_STATUS);
}

uint32_t q_wait(struct env *e, unsigned int q)
{
	struct timespec ts = { 0, 100000 };

	/* 60 s: hang detection only, never a timing assertion. */
	for (int i = 0; i < 600000; i++) {
		uint32_t st = qrd(e, q, TERN_Q_STATUS);

		if (st != TERN_Q_STATE_ACTIVE ||
		    qrd(e, q, TERN_Q_HEAD) == qrd(e, q, TERN_Q_TAIL))
			return st;
		nanosleep(&ts, NULL);
	}
	printf("# queue %u did not finish\n", q);
	return 0xdead;
}

uint32_t q_run1(struct env *e, unsigned int q, uint64_t ring, uint32_t size,
		const struct tern_dma_desc *d)
{
	uint32_t tail = qrd(e, q, TERN_Q_TAIL);

	put_desc(e, false, ring, tail, d);
	doorbell(e, q, (tail + 1) % size);
	return q_wait(e, q);
}

/* ---- DMA gate ---- */

void gate_arm(struct env *e, uint64_t addr, bool open_on_reset)
{
	pthread_mutex_lock(&e->lock);
	e->gate_addr = addr;
	e->gate_read = false;
	e->gate_armed = true;
	e->gate_hit = false;
	e->gate_opened = false;
	e->open_on_reset = open_on_reset;
	pthread_mutex_unlock(&e->lock);
}

bool gate_wait_hit(struct env *e)
{
	struct timespec ts;
	bool hit;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_mutex_lock(&e->lock);
	while (!e->gate_hit &&
	       pthread_cond_timedwait(&e->gate_cv, &e->lock, &ts) == 0)
		;
	hit = e->gate_hit;
	pthread_mutex_unlock(&e->lock);
	return hit;
}

void gate_arm_read(struct env *e, uint64_t addr)
{
	pthread_mutex_lock(&e->lock);
	e->gate_addr = addr;
	e->gate_read = true;
	e->gate_armed = true;
	e->gate_hit = false;
	e->gate_opened = false;
	e->open_on_reset = false;
	pthread_mutex_unlock(&e->lock);
}

void gate_open(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	e->gate_armed = false;
	e->gate_opened = true;
	pthread_cond_broadcast(&e->gate_cv);
	pthread_mutex_unlock(&e->lock);
}

/* ---- observations ---- */

unsigned int irq_count(struct env *e, unsigned int vector)
{
	unsigned int n;

	pthread_mutex_lock(&e->lock);
	n = e->irqs[vector];
	pthread_mutex_unlock(&e->lock);
	return n;
}

unsigned int log_count(struct env *e)
{
	unsigned int n;

	pthread_mutex_lock(&e->lock);
	n = e->nlines;
	pthread_mutex_unlock(&e->lock);
	return n;
}

bool log_has(struct env *e, const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&e->lock);
	for (unsigned int i = 0; i < e->nlines && i < LOG_LINES; i++)
		if (strstr(e->lines[i], needle))
			found = true;
	pthread_mutex_unlock(&e->lock);
	return found;
}

void log_clear(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	e->nlines = 0;
	pthread_mutex_unlock(&e->lock);
}

/* ---- TAP runner ---- */

int run_tests(const struct test_case *cases, unsigned int n)
{
	unsigned int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct test_case *t = &cases[i];
		struct env e;
		bool ok = env_init(&e, t->queues, t->dma_engines, t->cores);

		if (ok)
			ok = t->fn(&e);
		ok = env_fini(&e) && ok;
		printf("%s %u - %s\n", ok ? "ok" : "not ok", i + 1, t->name);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
