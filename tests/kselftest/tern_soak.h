/* SPDX-License-Identifier: MIT */
/*
 * tern_soak's shared state and its error accounting (tern_soak.c; the
 * guide is Documentation/reliability.rst, "Soak"): the counters every
 * process adds to (one MAP_SHARED page set up before the fork), the fault
 * kinds of TERN_SOAK_FAULTS, and the rule that decides whether a failed
 * job is explained by an injected fault (then it is submitted again) or
 * is a lost result.
 */
#ifndef TERN_SOAK_H
#define TERN_SOAK_H

#include "tern.h"

#define SK_MAX_DEVS	4
#define SK_MAX_WORKERS	32
#define SK_MAX_QUEUES	64
#define SK_MAX_CORES	8

/* Fault kinds, in the order of sk_kind_name[]. */
enum sk_kind {
	K_DMA_ABORT,		/* inject-dma-abort <queue>: that job fails -EIO */
	K_LOST_QUEUE,		/* inject-lost-completion queue:<q>: the TDR completes it */
	K_LOST_CORE,		/* inject-lost-completion core:<c> */
	K_CORE_HANG,		/* inject-core-hang <core>: timeout, per-core reset */
	K_ECC_CE,		/* inject-ecc ce:<off>: counted, data intact */
	K_ECC_UE,		/* inject-ecc ue:<off>: the read fails, a rewrite heals */
	K_RECOVER,		/* debugfs recover: a device reset, jobs in flight RESET */
	K_AER_CE,		/* inject-aer correctable */
	K_AER_NF,		/* inject-aer nonfatal */
	K_AER_FATAL,		/* inject-aer fatal */
	K_COUNT
};

static const char *const sk_kind_name[K_COUNT] = {
	"dma-abort", "lost-completion", "lost-completion-core", "core-hang", "ecc-ce",
	"ecc-ue", "recover", "aer-correctable", "aer-nonfatal", "aer-fatal",
};

/* TERN_SOAK_FAULTS when unset or empty: every kind. */
#define SK_DEFAULT_FAULTS	"dma-abort,lost-completion,lost-completion-core,core-hang," \
				"ecc-ce,ecc-ue,recover,aer-correctable,aer-nonfatal,aer-fatal"

/* Why a job failed, for the report. */
enum sk_why {
	W_RESET,		/* -EAGAIN: in flight during a recovery */
	W_ABORT,		/* -EIO: the injected DMA abort hit it */
	W_HANG,			/* -ETIMEDOUT: the injected core hang hit it */
	W_ECC,			/* -EIO: an injected uncorrected ECC error */
	W_COUNT
};

static const char *const sk_why_name[W_COUNT] = {
	"reset (-EAGAIN)", "DMA abort (-EIO)", "core hang (-ETIMEDOUT)", "ECC UE (-EIO)",
};

struct sk_shared {
	/* faults armed by the injector and not yet blamed for a failed job */
	int armed_abort[SK_MAX_DEVS][SK_MAX_QUEUES];
	int armed_hang[SK_MAX_DEVS][SK_MAX_CORES];
	/* the injector is about to hang this core: workers launch elsewhere */
	int hang_block[SK_MAX_DEVS][SK_MAX_CORES];
	/* workers' launches on each core not yet waited for */
	int core_busy[SK_MAX_DEVS][SK_MAX_CORES];

	/* worker jobs */
	uint64_t jobs;			/* jobs finished (verified or lost) */
	uint64_t jobs_ok;		/* verified, first try or after retries */
	uint64_t copies, ops, bytes;
	uint64_t retried;		/* jobs submitted again after a blamed failure */
	uint64_t retried_ok;		/* ... and then verified */
	uint64_t failed_by[W_COUNT];	/* blamed failures, by cause (workers and probes) */
	uint64_t lost;			/* wrong data, never done, or failed with no fault to blame */
	uint64_t lost_wrong, lost_unblamed, lost_hung;
	double worst_by_worker[SK_MAX_WORKERS];	/* largest op error / tolerance */

	/* the injector */
	uint64_t injected[K_COUNT];	/* faults armed (or recoveries asked) */
	uint64_t took_effect[K_COUNT];	/* faults-injected grew (relay kinds) */
	uint64_t recovered[K_COUNT];	/* a verified job ran after it within the bound */
	uint64_t not_recovered[K_COUNT];
	uint64_t refused;		/* the relay or QEMU refused an injection */
	uint64_t probes, probes_ok;
	uint64_t recover_ms_sum, recover_ms_max;
	uint64_t lost_probe;		/* the injector's own verified jobs that were wrong */
};

static struct sk_shared *sk;

#define SK_ADD(field, n)	__atomic_add_fetch(&sk->field, (n), __ATOMIC_SEQ_CST)

/* Takes one armed fault from *@slot if there is one. */
static inline bool sk_claim(int *slot)
{
	int v = __atomic_load_n(slot, __ATOMIC_SEQ_CST);

	while (v > 0)
		if (__atomic_compare_exchange_n(slot, &v, v - 1, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return true;
	return false;
}

/* Parses a comma-separated list of kinds ("all", "none"); -1 names a bad one. */
static inline int sk_parse_faults(const char *s, unsigned int *mask, char *bad, size_t badlen)
{
	char buf[512], *tok, *save = NULL;

	*mask = 0;
	if (!strcmp(s, "none"))
		return 0;
	if (!strcmp(s, "all")) {
		*mask = (1u << K_COUNT) - 1;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int k;

		for (k = 0; k < K_COUNT && strcmp(tok, sk_kind_name[k]); k++)
			;
		if (k == K_COUNT) {
			snprintf(bad, badlen, "%s", tok);
			return -1;
		}
		*mask |= 1u << k;
	}
	return 0;
}

/* The device's recovery count (sysfs tern/resets). */
static inline uint64_t sk_resets(unsigned int minor)
{
	return tern_sysfs_u64(minor, "resets");
}

/*
 * Is a failure with @ret of a job on (@dev, @queue) or (@dev, @core) (one
 * of them -1) explained by an injected fault? -EAGAIN needs a recovery of
 * the device after @resets0 was read (its count grows just after the jobs
 * in flight are failed: wait a little for it); -EIO of a copy an armed DMA
 * abort of that queue; -ETIMEDOUT of a launch an armed hang of that core.
 * Returns the cause, or -1 when the result is lost.
 */
static inline int sk_blame(int ret, unsigned int dev, unsigned int minor, int queue, int core,
			   uint64_t resets0)
{
	uint64_t end;

	switch (ret) {
	case -EAGAIN:
		end = st_now_ns() + 30ull * 1000000000ull;
		while (sk_resets(minor) == resets0) {
			if (st_now_ns() > end)
				return -1;
			st_sleep_ms(20);
		}
		return W_RESET;
	case -EIO:
		if (queue >= 0 && queue < SK_MAX_QUEUES && sk_claim(&sk->armed_abort[dev][queue]))
			return W_ABORT;
		return -1;
	case -ETIMEDOUT:
		if (core >= 0 && core < SK_MAX_CORES && sk_claim(&sk->armed_hang[dev][core]))
			return W_HANG;
		return -1;
	}
	return -1;
}

#endif /* TERN_SOAK_H */
