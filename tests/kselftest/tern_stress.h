/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the stress kselftests (tern_fuzz, tern_kill): the driver's
 * leak-relevant counts (sysfs tern/ and the debugfs lists) taken as a
 * baseline and waited for afterwards, a small PRNG, and the "device still
 * works" check (a DMA round trip and a launch on every core, data
 * verified). Include after tern_test.h and tern_copy_prog.h.
 */
#ifndef TERN_STRESS_H
#define TERN_STRESS_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* ---- PRNG: splitmix64 seeding xorshift64* (reproducible from a seed) ---- */

static inline uint64_t st_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct st_rng {
	uint64_t s;
};

static inline void st_rng_init(struct st_rng *r, uint64_t seed)
{
	r->s = st_mix(seed) | 1;
}

static inline uint64_t st_next(struct st_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) (n > 0). */
static inline uint64_t st_below(struct st_rng *r, uint64_t n)
{
	return n ? st_next(r) % n : 0;
}

/* True with probability 1/n. */
static inline int st_one_in(struct st_rng *r, uint64_t n)
{
	return st_below(r, n) == 0;
}

/* The seed of a run: TERN_<NAME>_SEED (decimal or 0x hex) or the clock. */
static inline uint64_t st_seed_from_env(const char *var)
{
	const char *s = getenv(var);

	if (s && *s)
		return strtoull(s, NULL, 0);
	return tern_seed();
}

/* A positive integer from the environment, or @def. */
static inline long st_env_long(const char *var, long def)
{
	const char *s = getenv(var);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return (*end || v <= 0) ? def : v;
}

static inline uint64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void st_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- leak-relevant counts of one device ---- */

struct st_counts {
	uint64_t bo_count, hbm_used, host_used, kernel_used;
	int64_t inflight;	/* jobs_submitted - jobs_completed - jobs_failed */
	int contexts;		/* lines of debugfs contexts */
	int bos;		/* lines of debugfs bos */
	int uq_busy;		/* user-queue slots of debugfs user_queues not "free" */
	int uq_slots;
};

/* Lines of debugfs accel/<minor>/<file> after @skip header lines; -1 on error. */
static inline int st_debugfs_lines(unsigned int minor, const char *file, int skip,
				   const char *not_containing, int *total)
{
	char path[96], line[512];
	int n = 0, all = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/%s", minor, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (skip > 0) {
			skip--;
			continue;
		}
		all++;
		if (!not_containing || !strstr(line, not_containing))
			n++;
	}
	fclose(f);
	if (total)
		*total = all;
	return n;
}

static inline void st_counts_get(unsigned int minor, struct st_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->bo_count = tern_sysfs_u64(minor, "bo_count");
	c->hbm_used = tern_sysfs_u64(minor, "hbm_used");
	c->host_used = tern_sysfs_u64(minor, "host_used");
	c->kernel_used = tern_sysfs_u64(minor, "kernel_used");
	c->inflight = (int64_t)(tern_sysfs_u64(minor, "jobs_submitted") -
				tern_sysfs_u64(minor, "jobs_completed") -
				tern_sysfs_u64(minor, "jobs_failed"));
	c->contexts = st_debugfs_lines(minor, "contexts", 1, NULL, NULL);
	c->bos = st_debugfs_lines(minor, "bos", 2, NULL, NULL);
	c->uq_busy = st_debugfs_lines(minor, "user_queues", 1, " free", &c->uq_slots);
}

static inline int st_counts_equal(const struct st_counts *a, const struct st_counts *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline void st_counts_log(const char *what, unsigned int minor, const struct st_counts *c)
{
	fprintf(stderr,
		"# accel%u %s: bo_count %llu hbm_used %llu host_used %llu kernel_used %llu "
		"jobs_in_flight %lld contexts %d bos %d user_queues_busy %d/%d\n",
		minor, what, (unsigned long long)c->bo_count, (unsigned long long)c->hbm_used,
		(unsigned long long)c->host_used, (unsigned long long)c->kernel_used,
		(long long)c->inflight, c->contexts, c->bos, c->uq_busy, c->uq_slots);
}

static inline void st_debugfs_dump(unsigned int minor, const char *file)
{
	char path[96], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/%s", minor, file);
	f = fopen(path, "re");
	if (!f)
		return;
	fprintf(stderr, "# %s:\n", path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "#   %s", line);
	fclose(f);
}

/*
 * Polls until every count of @minor is back at @base (jobs of killed
 * processes may still be finishing), at most @limit_s seconds. Returns the
 * milliseconds it took, or -1 (counts and lists logged) if they never did.
 */
static inline int64_t st_wait_baseline(unsigned int minor, const struct st_counts *base,
				       int limit_s)
{
	uint64_t t0 = st_now_ns(), end = t0 + (uint64_t)limit_s * 1000000000ull;
	struct st_counts now;

	for (;;) {
		st_counts_get(minor, &now);
		if (st_counts_equal(&now, base))
			return (int64_t)((st_now_ns() - t0) / 1000000);
		if (st_now_ns() > end)
			break;
		st_sleep_ms(100);
	}
	st_counts_log("baseline", minor, base);
	st_counts_log("now     ", minor, &now);
	st_debugfs_dump(minor, "contexts");
	st_debugfs_dump(minor, "bos");
	st_debugfs_dump(minor, "user_queues");
	st_debugfs_dump(minor, "queues");
	return -1;
}

/* ---- the device still works ---- */

#define ST_CHECK_BYTES	(1ull << 20)

/*
 * On the @index-th device: a DMA copy host -> device -> host of 1 MiB and,
 * on every core, a launch of the copy program (slot 0 -> SBUF -> slot 1),
 * each verified byte for byte. Fails the test on any error.
 */
static inline void st_device_check(struct __test_metadata *_metadata, unsigned int index)
{
	uint32_t src, mid, dst, tl, prog, status, tin, tout, tback;
	unsigned char *sp, *dp, *tbp;
	struct drm_tern_info info;
	struct copy_prog *pp;
	struct tern_job_status *st;
	uint64_t point = 0, psize;
	int64_t diff;
	int fd, ret;

	fd = tern_open_index(_metadata, index, NULL);
	ASSERT_EQ(0, tern_get_info(fd, &info));
	sp = tern_bo_new(_metadata, fd, ST_CHECK_BYTES, DRM_TERN_BO_HOST, &src);
	dp = tern_bo_new(_metadata, fd, ST_CHECK_BYTES, DRM_TERN_BO_HOST, &dst);
	ASSERT_EQ(0, tern_bo_create(fd, ST_CHECK_BYTES, DRM_TERN_BO_DEVICE, &mid));
	tl = tern_timeline(_metadata, fd);
	tern_fill(sp, ST_CHECK_BYTES, tern_seed());
	memset(dp, 0, ST_CHECK_BYTES);
	for (uint32_t q = 0; q < info.num_queues; q++) {
		ret = tern_submit_copy(fd, q, mid, 0, src, 0, ST_CHECK_BYTES, tl, ++point);
		ASSERT_EQ(0, ret) TH_LOG("SUBMIT on queue %u: %s", q, strerror(-ret));
		ret = tern_submit_copy(fd, q, dst, 0, mid, 0, ST_CHECK_BYTES, tl, ++point);
		ASSERT_EQ(0, ret) TH_LOG("SUBMIT on queue %u: %s", q, strerror(-ret));
		tern_wait_ok(_metadata, fd, tl, point);
		diff = tern_first_diff(sp, dp, ST_CHECK_BYTES);
		ASSERT_EQ(-1, diff) TH_LOG("queue %u: copied data differs at byte %lld", q,
					   (long long)diff);
		memset(dp, 0, ST_CHECK_BYTES);
	}

	if (info.num_cores) {
		pp = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_DEVICE, &prog);
		psize = copy_prog_init(pp, 1);
		st = tern_bo_new(_metadata, fd, 4096, DRM_TERN_BO_HOST, &status);
		ASSERT_EQ(0, tern_bo_create(fd, CP_BYTES, DRM_TERN_BO_DEVICE, &tin));
		ASSERT_EQ(0, tern_bo_create(fd, CP_BYTES, DRM_TERN_BO_DEVICE, &tout));
		tbp = tern_bo_new(_metadata, fd, CP_BYTES, DRM_TERN_BO_HOST, &tback);
		for (uint32_t c = 0; c < info.num_cores; c++) {
			struct copy_exec ce;

			tern_fill(sp, CP_BYTES, tern_seed());
			memset(tbp, 0, CP_BYTES);
			memset(st, 0, sizeof(*st));
			ret = tern_submit_copy(fd, 0, tin, 0, src, 0, CP_BYTES, tl, ++point);
			ASSERT_EQ(0, ret) TH_LOG("SUBMIT: %s", strerror(-ret));
			tern_wait_ok(_metadata, fd, tl, point);
			copy_exec_init(&ce, c, prog, (psize + 63) & ~63ull, tin, tout);
			ce.e.status_handle = status;
			ce.e.out_syncobj = tl;
			ce.e.out_point = ++point;
			ret = tern_ioctl(fd, DRM_IOCTL_TERN_EXEC, &ce.e);
			ASSERT_EQ(0, ret) TH_LOG("EXEC on core %u: %s", c, strerror(-ret));
			tern_wait_ok(_metadata, fd, tl, point);
			ASSERT_EQ((uint32_t)TERN_JOB_OK, st->status)
				TH_LOG("core %u: job status %u error %u", c, st->status, st->error);
			ret = tern_submit_copy(fd, 0, tback, 0, tout, 0, CP_BYTES, tl, ++point);
			ASSERT_EQ(0, ret) TH_LOG("SUBMIT: %s", strerror(-ret));
			tern_wait_ok(_metadata, fd, tl, point);
			diff = tern_first_diff(sp, tbp, CP_BYTES);
			ASSERT_EQ(-1, diff) TH_LOG("core %u: launch output differs at byte %lld", c,
						   (long long)diff);
		}
		munmap(pp, 4096);
		munmap(st, 4096);
		munmap(tbp, CP_BYTES);
	}
	munmap(sp, ST_CHECK_BYTES);
	munmap(dp, ST_CHECK_BYTES);
	close(fd);
}

#endif /* TERN_STRESS_H */
