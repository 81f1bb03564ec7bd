// SPDX-License-Identifier: MIT
/*
 * tern_cache: libtern's program cache (tern_kernel_cached()) against the
 * real driver and the emulated cores. One build per key (a prefix of a key
 * is another key; a failed or empty build is not kept; cached kernels are
 * the cache's; bad arguments); more kernels than the cache keeps in HBM,
 * the oldest unloaded but not while launched, and loaded again when
 * launched without a rebuild; threads asking for the same keys at once,
 * one build and one kernel per key; and tern_op_run() reusing its program.
 * The helpers and the "launch" fixture are tern_launch_test.h.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"
#include "tern_launch_test.h"

/* ---- the program cache ---- */

TEST_F(launch, cache_builds_once_per_key)
{
	struct build_arg a = { .nops = 3 }, b = { .nops = 5 }, bad = { .fail = -ENOSPC };
	struct tern_kernel *k1, *k2, *k3, *k4 = NULL;
	struct tern_launch_status st;
	static const char key1[] = "nops:3", key2[] = "nops:5", key3[] = "failing";

	ASSERT_EQ(0, tern_kernel_cached(self->dev, key1, sizeof(key1), build_nops, &a, &k1));
	ASSERT_EQ(0, tern_kernel_cached(self->dev, key1, sizeof(key1), build_nops, &a, &k2));
	EXPECT_EQ(1, a.calls);
	EXPECT_EQ(k1, k2);
	ASSERT_EQ(0, tern_kernel_cached(self->dev, key2, sizeof(key2), build_nops, &b, &k3));
	EXPECT_EQ(1, b.calls);
	EXPECT_NE(k1, k3);
	/* A prefix of a key is another key. */
	ASSERT_EQ(0, tern_kernel_cached(self->dev, key2, 4, build_nops, &b, &k2));
	EXPECT_EQ(2, b.calls);
	EXPECT_NE(k3, k2);

	ASSERT_EQ(0, tern_launch(self->dev, k1, 0, NULL, 0, &st));
	EXPECT_EQ(4, st.insns[TERN_ENGINE_VECTOR]);
	ASSERT_EQ(0, tern_launch(self->dev, k3, 0, NULL, 0, &st));
	EXPECT_EQ(6, st.insns[TERN_ENGINE_VECTOR]);

	/* A failed build is not kept: the next call builds again. */
	EXPECT_EQ(-ENOSPC, tern_kernel_cached(self->dev, key3, sizeof(key3), build_nops, &bad,
					      &k4));
	EXPECT_EQ(NULL, k4);
	EXPECT_EQ(-ENOSPC, tern_kernel_cached(self->dev, key3, sizeof(key3), build_nops, &bad,
					      &k4));
	EXPECT_EQ(2, bad.calls);
	/* An empty program is refused by tern_prog_finish(), and not kept either. */
	bad.fail = 0;
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, key3, sizeof(key3), build_nops, &bad,
					      &k4));

	/* Cached kernels are the cache's: freeing one does nothing. */
	tern_kernel_free(k1);
	ASSERT_EQ(0, tern_launch(self->dev, k1, 0, NULL, 0, &st));

	/* Bad arguments. */
	EXPECT_EQ(-EINVAL, tern_kernel_cached(NULL, key1, sizeof(key1), build_nops, &a, &k1));
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, NULL, 4, build_nops, &a, &k1));
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, key1, 0, build_nops, &a, &k1));
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, key1, 257, build_nops, &a, &k1));
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, key1, sizeof(key1), NULL, &a, &k1));
	EXPECT_EQ(-EINVAL, tern_kernel_cached(self->dev, key1, sizeof(key1), build_nops, &a,
					      NULL));
	EXPECT_EQ(1, a.calls);
}

/*
 * More kernels than the cache keeps in HBM: the oldest are unloaded, but
 * not while launched, and they run again (loaded again) without a rebuild.
 */
TEST_F_TIMEOUT(launch, cache_unloads_and_reloads, 300)
{
	enum { N = 320, KEPT = 256 };
	struct build_arg args[N];
	struct tern_kernel *k[N];
	struct tern_launch_status st;
	struct tern_fence *f = NULL;
	struct tern_device_info info;
	uint64_t base, one = 0, used;

	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	base = info.hbm_used;
	for (unsigned int i = 0; i < N; i++) {
		uint32_t key = i;

		args[i] = (struct build_arg){ .nops = 1 + i % 7 };
		ASSERT_EQ(0, tern_kernel_cached(self->dev, &key, sizeof(key), build_nops, &args[i],
						&k[i])) TH_LOG("%u: %s", i, tern_last_error());
		if (i == 0) {
			/* what one kernel takes in HBM */
			ASSERT_EQ(0, tern_device_info(self->dev, &info));
			one = info.hbm_used - base;
			ASSERT_LT(0, one);
			/* kernel 0 stays launched while the others come */
			ASSERT_EQ(0, tern_launch_async(self->dev, k[0], 0, NULL, 0, &f));
		}
	}
	/* At most KEPT in HBM, and kernel 0 is one of them if it still runs. */
	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	used = info.hbm_used - base;
	TH_LOG("HBM used by %d cached kernels: %llu bytes, %llu each", N,
	       (unsigned long long)used, (unsigned long long)one);
	EXPECT_GE((KEPT + 1) * one, used);
	EXPECT_LE((KEPT - 1) * one, used);
	ASSERT_EQ(0, tern_fence_wait(self->dev, f, WAIT_NS));
	tern_fence_release(f);

	/* Every one runs, the unloaded ones loaded again, none built again. */
	for (unsigned int i = 0; i < N; i++) {
		uint32_t key = i;
		struct tern_kernel *again;

		ASSERT_EQ(0, tern_launch(self->dev, k[i], (int)(i % self->cores), NULL, 0, &st))
			TH_LOG("kernel %u: %s", i, tern_last_error());
		EXPECT_EQ(2 + i % 7, st.insns[TERN_ENGINE_VECTOR]);
		ASSERT_EQ(0, tern_kernel_cached(self->dev, &key, sizeof(key), build_nops, &args[i],
						&again));
		EXPECT_EQ(k[i], again);
		EXPECT_EQ(1, args[i].calls) TH_LOG("kernel %u built %d times", i, args[i].calls);
	}
	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	EXPECT_GE((KEPT + 1) * one, info.hbm_used - base);
}

/* Threads asking for the same keys at once: one build per key, one kernel. */
#define CT_THREADS	4
#define CT_KEYS		24

struct ct_shared {
	struct tern_device *dev;
	struct build_arg args[CT_KEYS];
	struct tern_kernel *k[CT_THREADS][CT_KEYS];
	int result[CT_THREADS];
};

struct ct_thread {
	struct ct_shared *sh;
	unsigned int id;
};

static int build_nops_atomic(struct tern_program *p, void *arg)
{
	struct build_arg *b = arg;

	__atomic_fetch_add(&b->calls, 1, __ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < b->nops; i++) {
		int ret = tern_prog_nop(p, TERN_ENGINE_VECTOR, TERN_SYNC_NONE);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static void *ct_worker(void *p)
{
	struct ct_thread *t = p;
	struct ct_shared *sh = t->sh;
	struct tern_launch_status st;
	int ret = 0;

	for (unsigned int j = 0; j < CT_KEYS && !ret; j++) {
		/* each thread in its own order */
		unsigned int key = (j * 7 + t->id * 5) % CT_KEYS;

		ret = tern_kernel_cached(sh->dev, &key, sizeof(key), build_nops_atomic,
					 &sh->args[key], &sh->k[t->id][key]);
		if (!ret)
			ret = tern_launch(sh->dev, sh->k[t->id][key], TERN_CORE_ANY, NULL, 0, &st);
		if (!ret && st.insns[TERN_ENGINE_VECTOR] != sh->args[key].nops + 1)
			ret = -EPROTO;
	}
	sh->result[t->id] = ret;
	return NULL;
}

TEST_F_TIMEOUT(launch, cache_shared_by_threads, 300)
{
	struct ct_shared sh = { .dev = self->dev };
	struct ct_thread t[CT_THREADS];
	pthread_t tid[CT_THREADS];

	for (unsigned int j = 0; j < CT_KEYS; j++)
		sh.args[j].nops = 1 + j % 5;
	for (unsigned int i = 0; i < CT_THREADS; i++) {
		t[i] = (struct ct_thread){ &sh, i };
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, ct_worker, &t[i]));
	}
	for (unsigned int i = 0; i < CT_THREADS; i++) {
		pthread_join(tid[i], NULL);
		EXPECT_EQ(0, sh.result[i]) TH_LOG("thread %u: %s", i, tern_strerror(sh.result[i]));
	}
	for (unsigned int j = 0; j < CT_KEYS; j++) {
		EXPECT_EQ(1, sh.args[j].calls) TH_LOG("key %u built %d times", j, sh.args[j].calls);
		for (unsigned int i = 1; i < CT_THREADS; i++) {
			EXPECT_EQ(sh.k[0][j], sh.k[i][j]) TH_LOG("key %u, thread %u", j, i);
		}
	}
}

TEST_F_TIMEOUT(launch, op_run_reuses_its_program, 300)
{
	struct tern_op op = matmul_op(TERN_DT_FP32, 60, 70, 80);
	struct tern_launch_status st;
	struct op_bufs ob;

	op_bufs_new(_metadata, self->dev, &op, &ob, tern_seed());
	for (unsigned int i = 0; i < 3; i++) {
		ASSERT_EQ(0, tern_op_run(self->dev, TERN_CORE_ANY, &op, ob.b, ob.n, &st))
			TH_LOG("%s", tern_last_error());
		op_check(_metadata, &op, &ob, "matmul 60x70x80, again");
	}
	op_bufs_free(&ob);
}

TEST_HARNESS_MAIN
