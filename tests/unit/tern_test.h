/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests of the tern device-model core: a TAP runner and a test
 * embedder. The embedder is the core's real host interface implemented over
 * a malloc'd "guest RAM" at a fixed bus address, with bounds checks, and a
 * malloc'd HBM; both are surrounded by guard bytes that every test checks.
 */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern_model.h"

#define RAM_BASE	0x100000000ull	/* guest-physical address of RAM */
#define RAM_SIZE	(64u << 20)
#define HBM_SIZE	TERN_HBM_SIZE_MIN
#define GUARD_SIZE	(64u << 10)
#define GUARD_BYTE	0xa5
#define LOG_LINES	256
#define NVEC		TERN_MSIX_VECTORS_ALL(TERN_MAX_QUEUES, TERN_MAX_CORES)

struct env {
	uint8_t *ram_alloc, *ram;	/* RAM_SIZE bytes at RAM_BASE */
	uint8_t *hbm_alloc, *hbm;	/* HBM_SIZE bytes */
	struct tern_config cfg;
	struct tern_dev *dev;

	pthread_mutex_t lock;		/* protects everything below */
	unsigned int irqs[NVEC];	/* MSI-X vectors sent */
	unsigned int nlines;		/* guest-error lines logged */
	char lines[LOG_LINES][320];
	unsigned int worker_inits, worker_exits;
	int engine_of_queue[TERN_MAX_QUEUES];	/* from trace_dma_start */
	unsigned int resets_begun, resets;
	unsigned int launches_started[TERN_MAX_CORES];	/* trace_launch_start */
	unsigned int launches_done[TERN_MAX_CORES];	/* trace_launch_done */
	unsigned int link_states[TERN_MAX_LINKS];	/* trace_link_state */
	uint32_t link_state_last[TERN_MAX_LINKS];
	unsigned int link_copies;			/* trace_link_copy */
	uint32_t link_copy_error;			/* of the last one */

	/*
	 * DMA gate: the first dma_write at or above gate_addr blocks until the
	 * gate opens (by gate_open(), by a reset if open_on_reset, or at
	 * env_fini), so a test can hold a descriptor in flight. With
	 * gate_read, the first dma_read at or above gate_addr does instead.
	 */
	pthread_cond_t gate_cv;
	bool gate_armed, gate_hit, gate_opened, open_on_reset, gate_read;
	uint64_t gate_addr;
};

/* A test: returns true on success; CHECK() prints why it fails. */
typedef bool (*test_fn)(struct env *e);

struct test_case {
	const char *name;
	test_fn fn;
	unsigned int queues;		/* 0: default config */
	unsigned int dma_engines;
	unsigned int cores;
};

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s\n",		\
			       __FILE__, __LINE__, #cond);		\
			return false;					\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long _a = (a), _b = (b);			\
		if (_a != _b) {						\
			printf("#   %s:%d: %s == 0x%llx, expected "	\
			       "%s == 0x%llx\n", __FILE__, __LINE__,	\
			       #a, _a, #b, _b);				\
			return false;					\
		}							\
	} while (0)

/* Table entries: default device, or queues/engines/cores (0: default). */
#define TEST(name, fn)			{ (name), (fn), 0, 0, 0 }
#define TEST_CFG(name, fn, q, e, c)	{ (name), (fn), (q), (e), (c) }

/* Run the cases, each on a fresh device; returns the exit status. */
int run_tests(const struct test_case *cases, unsigned int n);

/* Embedder pieces, also used directly by some tests. */
extern const struct tern_host_ops test_host_ops;
bool env_init(struct env *e, unsigned int queues, unsigned int engines,
	      unsigned int cores);
/* The same for a chip of a fabric (lc may be NULL). */
bool env_init_link(struct env *e, unsigned int queues, unsigned int engines,
		   unsigned int cores, const struct tern_link_config *lc);
bool env_fini(struct env *e);	/* destroys the device, checks guards */
bool guards_intact(const struct env *e);

/* Registers and doorbells. */
uint32_t rd(struct env *e, uint64_t off);
void wr(struct env *e, uint64_t off, uint32_t val);
uint32_t qrd(struct env *e, unsigned int q, uint64_t reg);
void qwr(struct env *e, unsigned int q, uint64_t reg, uint32_t val);
void doorbell(struct env *e, unsigned int q, uint32_t tail);
/* Core c's launch-ring registers; enabling it on a ring at guest address base. */
uint32_t crd(struct env *e, unsigned int core, uint64_t reg);
void cwr(struct env *e, unsigned int core, uint64_t reg, uint32_t val);
uint32_t c_enable(struct env *e, unsigned int core, uint64_t base, uint32_t entries);
/* Wait until core c's ring caught up with its tail or halted: its status (0xdead: stuck). */
uint32_t c_wait(struct env *e, unsigned int core);
uint64_t err_addr(struct env *e);

/* Guest memory. */
static inline uint64_t gpa(uint64_t ram_off) { return RAM_BASE + ram_off; }
void fill_pattern(uint8_t *p, size_t len, uint32_t seed);

/* Queues and descriptors. */
struct tern_dma_desc mkdesc(uint32_t opcode, uint32_t flags, uint64_t src,
			    uint64_t dst, uint64_t size);
void put_desc(struct env *e, bool in_hbm, uint64_t ring, uint32_t idx,
	      const struct tern_dma_desc *d);
void put_sg(uint8_t *at, uint32_t i, uint64_t addr, uint64_t size);
uint64_t get64(const uint8_t *p);
/* Program and enable queue q; returns Q_STATUS afterwards. */
uint32_t q_enable(struct env *e, unsigned int q, uint64_t base, uint32_t size,
		  bool in_hbm);
/* Wait until the queue has caught up with its tail or halted. */
uint32_t q_wait(struct env *e, unsigned int q);
/* Submit one descriptor at the queue's tail on a host ring and wait. */
uint32_t q_run1(struct env *e, unsigned int q, uint64_t ring, uint32_t size,
		const struct tern_dma_desc *d);

void gate_arm(struct env *e, uint64_t addr, bool open_on_reset);
void gate_arm_read(struct env *e, uint64_t addr);
bool gate_wait_hit(struct env *e);	/* false after 60 s */
void gate_open(struct env *e);

unsigned int irq_count(struct env *e, unsigned int vector);
unsigned int log_count(struct env *e);
bool log_has(struct env *e, const char *needle);
void log_clear(struct env *e);

#endif /* TERN_TEST_H */
