// SPDX-License-Identifier: MIT
/*
 * tern_kill: kill -9 storms during jobs (Documentation/reliability.rst,
 * "Kill storms"). Children, spread over every chip, open a device, allocate
 * and map host and device buffers, create a timeline syncobj and a
 * user-mode queue, launch a long matmul (seconds) and then tiny launches
 * behind it until the core's ring is full, submit DMA jobs until the
 * queue's ring is full, and wait on the last fence; then again. The parent
 * SIGKILLs each child at a random moment (the phase it was in is counted:
 * also blocked in WAIT and in a ring-space wait), measures the time from the
 * kill to the reaped child, and starts another.
 *
 * Afterwards every count is back at its baseline: sysfs bo_count, hbm_used,
 * host_used, kernel_used, jobs in flight, the debugfs lists of contexts and
 * buffers, the user-queue slots (all free); the device still works (a DMA
 * round trip on every queue and a launch on every core, data verified).
 * A kill that hangs fails the test through the harness timeout.
 *
 * TERN_KILL_COUNT kills (default 120), TERN_KILL_SEED replays the kill
 * times and choices.
 */
#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_copy_prog.h"
#include "tern_stress.h"
#include "tern_ops.h"
#include "tern_program.h"
#include "tern_uq_test.h"

#define KL_DEFAULT_KILLS	120
#define KL_SLOTS		4	/* children alive at a time */
#define KL_MAX_DEVS		8
#define KL_HOST_BYTES		(4ull << 20)
#define KL_JOB_COPIES		64
#define KL_COPY_BYTES		(256ull << 10)	/* 64 x 256 KiB = 16 MiB a job */
#define KL_JOBS			24		/* more than the 1024-entry ring holds */
#define KL_MM_N			1024u		/* the long launch: N x N fp32 matmul */
#define KL_MM_TIMEOUT_NS	(2ull * 1000 * 1000 * 1000)
#define KL_TINY_LAUNCHES	72		/* more than the 64-entry core ring */
#define KL_UQ_ENTRIES		64u
#define KL_TEST_TIMEOUT		540		/* below tests.txt's 600 */

enum kl_phase {
	PH_START, PH_OPEN, PH_ALLOC, PH_MAP, PH_SYNCOBJ, PH_USERQ, PH_EXEC_LONG, PH_EXEC_RING,
	PH_SUBMIT, PH_SUBMIT_RING, PH_WAIT, PH_UQ_WAIT, KL_NPHASES
};

static const char *const kl_phase_name[KL_NPHASES] = {
	"starting", "open", "BO create", "mmap", "syncobj", "user queue", "EXEC (long)",
	"EXEC (core ring full)", "SUBMIT", "SUBMIT (ring full)", "WAIT", "user-queue fence",
};

struct kl_shared {
	volatile int phase[KL_SLOTS];
	volatile int cycles[KL_SLOTS];
};

static struct kl_shared *sh;

/* A child's failure: which phase, what. */
static void __attribute__((noreturn)) kl_fail(int slot, const char *what, int err)
{
	fprintf(stderr, "# child in slot %d: %s in phase %s: %s\n", slot, what,
		kl_phase_name[sh->phase[slot]], strerror(err));
	_exit(10 + sh->phase[slot]);
}

/* The matmul image, built once by the parent (children inherit it). */
static const void *mm_img;
static size_t mm_size;

static void kl_build_matmul(struct __test_metadata *_metadata, uint32_t sbuf_size)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, KL_MM_N, KL_MM_N);
	struct tern_tensor b = tern_tensor_2d(1, TERN_DT_FP32, KL_MM_N, KL_MM_N);
	struct tern_tensor c = tern_tensor_2d(2, TERN_DT_FP32, KL_MM_N, KL_MM_N);
	struct tern_program *p;

	ASSERT_EQ(0, tern_prog_create(sbuf_size, &p)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_op_matmul(p, &c, &a, &b)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(p, &mm_img, &mm_size)) TH_LOG("%s", tern_last_error());
	/* p stays allocated: it owns the image */
}

static void __attribute__((noreturn)) kl_child(int slot, unsigned int minor, uint64_t seed)
{
	struct uq_buf src, dst, mid, ring, fence, mprog, ma, mb, mc, tprog, tin, tout;
	struct drm_tern_copy copies[KL_JOB_COPIES];
	struct drm_tern_queue_create qc;
	struct drm_tern_info info;
	volatile uint32_t *db;
	uint64_t point = 0, mm_bytes = (uint64_t)KL_MM_N * KL_MM_N * 4, tsize;
	uint32_t tl, core, queue;
	struct st_rng r;
	char node[64];
	int fd, ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	st_rng_init(&r, seed);
	sh->phase[slot] = PH_OPEN;
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minor);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		kl_fail(slot, node, errno);
	if ((ret = tern_get_info(fd, &info)))
		kl_fail(slot, "GET_INFO", -ret);
	core = info.num_cores ? (uint32_t)st_below(&r, info.num_cores) : 0;
	queue = (uint32_t)st_below(&r, info.num_queues);

	sh->phase[slot] = PH_ALLOC;
	if ((ret = uq_buf_new(fd, KL_HOST_BYTES, DRM_TERN_BO_HOST, 1, &src)) ||
	    (ret = uq_buf_new(fd, KL_HOST_BYTES, DRM_TERN_BO_HOST, 1, &dst)) ||
	    (ret = uq_buf_new(fd, KL_JOB_COPIES * KL_COPY_BYTES, DRM_TERN_BO_DEVICE, 0, &mid)) ||
	    (ret = uq_buf_new(fd, KL_UQ_ENTRIES * TERN_DESC_SIZE, DRM_TERN_BO_HOST, 1, &ring)) ||
	    (ret = uq_buf_new(fd, 4096, DRM_TERN_BO_HOST, 1, &fence)))
		kl_fail(slot, "BO_CREATE", -ret);
	if (info.num_cores &&
	    ((ret = uq_buf_new(fd, (mm_size + 4095) & ~4095ull, DRM_TERN_BO_DEVICE, 0, &mprog)) ||
	     (ret = uq_buf_new(fd, mm_bytes, DRM_TERN_BO_DEVICE, 0, &ma)) ||
	     (ret = uq_buf_new(fd, mm_bytes, DRM_TERN_BO_DEVICE, 0, &mb)) ||
	     (ret = uq_buf_new(fd, mm_bytes, DRM_TERN_BO_DEVICE, 0, &mc)) ||
	     (ret = uq_buf_new(fd, 4096, DRM_TERN_BO_DEVICE, 1, &tprog)) ||
	     (ret = uq_buf_new(fd, CP_BYTES, DRM_TERN_BO_DEVICE, 0, &tin)) ||
	     (ret = uq_buf_new(fd, CP_BYTES, DRM_TERN_BO_DEVICE, 0, &tout))))
		kl_fail(slot, "BO_CREATE (compute)", -ret);

	sh->phase[slot] = PH_MAP;
	tern_fill(src.cpu, KL_HOST_BYTES, seed);
	memset(dst.cpu, 0, KL_HOST_BYTES);
	memset(fence.cpu, 0, 4096);
	if (info.num_cores) {
		void *m = tern_bo_mmap(fd, mprog.handle, mprog.size);

		if (m == MAP_FAILED)
			kl_fail(slot, "mmap of the program", errno);
		memcpy(m, mm_img, mm_size);
		munmap(m, mprog.size);
		tsize = (copy_prog_init(tprog.cpu, 1) + 63) & ~63ull;
	}

	sh->phase[slot] = PH_SYNCOBJ;
	if (drmSyncobjCreate(fd, 0, &tl))
		kl_fail(slot, "SYNCOBJ_CREATE", errno);

	sh->phase[slot] = PH_USERQ;
	if ((ret = uq_create(fd, ring.va, KL_UQ_ENTRIES, 0, 0, &qc)))
		kl_fail(slot, "QUEUE_CREATE", -ret);
	db = uq_doorbell_map(fd, qc.doorbell_offset);
	if (db == MAP_FAILED)
		kl_fail(slot, "doorbell mmap", errno);

	for (uint64_t cycle = 1;; cycle++) {
		sh->cycles[slot]++;
		/* user queue: 16 copies of 64 KiB src -> dst, a fence on the last */
		sh->phase[slot] = PH_USERQ;
		for (uint32_t i = 0; i < 16; i++)
			uq_desc_copy(ring.cpu, (uint32_t)(((cycle - 1) * 16 + i) % KL_UQ_ENTRIES),
				     dst.va + i * 65536, src.va + i * 65536, 65536, 0,
				     i == 15 ? fence.va : 0, cycle);
		uq_ring(db, (uint32_t)((cycle * 16) % KL_UQ_ENTRIES));

		if (info.num_cores) {
			struct drm_tern_slot ms[3] = {
				{ .handle = ma.handle, .size = mm_bytes },
				{ .handle = mb.handle, .size = mm_bytes },
				{ .handle = mc.handle, .size = mm_bytes },
			};
			struct drm_tern_exec e = {
				.core = core, .program_handle = mprog.handle,
				.program_size = (mm_size + 63) & ~63ull, .slots = (uintptr_t)ms,
				.slot_count = 3, .out_syncobj = tl, .out_point = ++point,
				.timeout_ns = KL_MM_TIMEOUT_NS,
			};
			struct copy_exec ce;

			sh->phase[slot] = PH_EXEC_LONG;
			if ((ret = tern_ioctl(fd, DRM_IOCTL_TERN_EXEC, &e)))
				kl_fail(slot, "EXEC", -ret);
			copy_exec_init(&ce, core, tprog.handle, tsize, tin.handle, tout.handle);
			ce.e.out_syncobj = tl;
			for (int i = 0; i < KL_TINY_LAUNCHES; i++) {
				/* past the ring's 64 entries this waits for space */
				sh->phase[slot] = i >= 60 ? PH_EXEC_RING : PH_EXEC_LONG;
				ce.e.out_point = ++point;
				if ((ret = tern_ioctl(fd, DRM_IOCTL_TERN_EXEC, &ce.e)))
					kl_fail(slot, "EXEC (tiny)", -ret);
			}
		}

		for (int j = 0; j < KL_JOB_COPIES; j++)
			tern_copy_set(&copies[j], mid.handle, j * KL_COPY_BYTES, src.handle,
				      (j * KL_COPY_BYTES) % KL_HOST_BYTES, KL_COPY_BYTES);
		for (int i = 0; i < KL_JOBS; i++) {
			/* a job takes 65 descriptors: from the 15th on, the ring is full */
			sh->phase[slot] = i >= 14 ? PH_SUBMIT_RING : PH_SUBMIT;
			ret = tern_submit(fd, queue, copies, KL_JOB_COPIES, tl, ++point);
			if (ret)
				kl_fail(slot, "SUBMIT", -ret);
		}
		sh->phase[slot] = PH_WAIT;
		ret = tern_wait(fd, tl, point, TERN_WAIT_LONG, NULL, NULL);
		if (ret)
			kl_fail(slot, "WAIT", -ret);
		sh->phase[slot] = PH_UQ_WAIT;
		if ((ret = uq_wait_fence(fence.cpu, cycle)))
			kl_fail(slot, "user-queue fence", -ret);
	}
}

static pid_t kl_spawn(int slot, unsigned int minor, uint64_t seed)
{
	pid_t pid;

	sh->phase[slot] = PH_START;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		kl_child(slot, minor, seed);
	return pid;
}

TEST(storm)
{
	unsigned int minors[KL_MAX_DEVS];
	struct st_counts base[KL_MAX_DEVS];
	uint64_t seed = st_seed_from_env("TERN_KILL_SEED"), worst = 0, sum = 0, t_start;
	uint64_t at_phase[KL_NPHASES] = { 0 };
	long kills = st_env_long("TERN_KILL_COUNT", KL_DEFAULT_KILLS);
	struct drm_tern_info info;
	pid_t pid[KL_SLOTS];
	int ndev, early = 0, worst_phase = 0;
	struct st_rng r;
	int fd;

	ndev = tern_minors(minors, KL_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), ndev);
	for (int i = 0; i < ndev; i++) {
		st_counts_get(minors[i], &base[i]);
		st_counts_log("baseline", minors[i], &base[i]);
	}
	fd = tern_open_index(_metadata, 0, NULL);
	ASSERT_EQ(0, tern_get_info(fd, &info));
	close(fd);
	if (info.num_cores)
		kl_build_matmul(_metadata, (uint32_t)info.sbuf_size);
	/* the parent's own file is gone: wait until that shows, then the baseline holds */
	for (int i = 0; i < ndev; i++)
		ASSERT_LE(0, st_wait_baseline(minors[i], &base[i], 30));

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset((void *)sh, 0, sizeof(*sh));
	st_rng_init(&r, seed);
	fprintf(stderr, "# seed 0x%016llx (replay: TERN_KILL_SEED=0x%016llx), %ld kills, %d children at a time over %d devices\n",
		(unsigned long long)seed, (unsigned long long)seed, kills, KL_SLOTS, ndev);

	t_start = st_now_ns();
	for (int s = 0; s < KL_SLOTS; s++) {
		pid[s] = kl_spawn(s, minors[s % ndev], st_next(&r));
		ASSERT_LT(0, pid[s]);
	}
	for (long k = 0; k < kills; k++) {
		int s = (int)st_below(&r, KL_SLOTS), status = 0, phase;
		/* a quarter right after the start (open, alloc, map), else up to 4 s in */
		uint64_t delay = st_one_in(&r, 4) ? st_below(&r, 60) : 60 + st_below(&r, 4000);
		uint64_t t0, dt;

		st_sleep_ms(delay);
		phase = sh->phase[s];
		t0 = st_now_ns();
		kill(pid[s], SIGKILL);
		while (waitpid(pid[s], &status, 0) < 0 && errno == EINTR)
			;
		dt = st_now_ns() - t0;
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			early++;
			fprintf(stderr, "# child in slot %d ended by itself (status 0x%x) before its kill\n",
				s, status);
		} else {
			at_phase[phase]++;
		}
		sum += dt;
		if (dt > worst) {
			worst = dt;
			worst_phase = phase;
		}
		if ((k + 1) % 20 == 0)
			fprintf(stderr, "# %ld kills after %.0f s, worst %.1f ms so far\n", k + 1,
				(st_now_ns() - t_start) / 1e9, worst / 1e6);
		pid[s] = kl_spawn(s, minors[(s + k) % ndev], st_next(&r));
		ASSERT_LT(0, pid[s]);
	}
	for (int s = 0; s < KL_SLOTS; s++) {
		kill(pid[s], SIGKILL);
		waitpid(pid[s], NULL, 0);
	}
	fprintf(stderr, "# %ld kills in %.0f s: worst %.1f ms (in phase %s), mean %.1f ms from SIGKILL to reaped child\n",
		kills, (st_now_ns() - t_start) / 1e9, worst / 1e6, kl_phase_name[worst_phase],
		kills ? sum / 1e6 / kills : 0.0);
	fprintf(stderr, "# kills by phase:");
	for (int p = 0; p < KL_NPHASES; p++)
		fprintf(stderr, " %s %llu%s", kl_phase_name[p], (unsigned long long)at_phase[p],
			p + 1 < KL_NPHASES ? "," : "\n");
	EXPECT_EQ(0, early);

	for (int i = 0; i < ndev; i++) {
		int64_t ms = st_wait_baseline(minors[i], &base[i], 240);

		EXPECT_LE(0, ms) TH_LOG("accel%u: counts not back to their baseline", minors[i]);
		if (ms >= 0)
			fprintf(stderr, "# accel%u: counts back to baseline %lld ms after the last kill\n",
				minors[i], (long long)ms);
	}
	for (int i = 0; i < ndev; i++)
		st_device_check(_metadata, i);
	for (int i = 0; i < ndev; i++)
		EXPECT_LE(0, st_wait_baseline(minors[i], &base[i], 60));
}

/* The harness has no TEST() with a timeout: set it before main(). */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST + 1))) kl_set_timeout(void)
{
	_storm_object.timeout = KL_TEST_TIMEOUT;
}

TEST_HARNESS_MAIN
