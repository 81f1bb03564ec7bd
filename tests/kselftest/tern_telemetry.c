// SPDX-License-Identifier: MIT
/*
 * tern_telemetry: a known workload (N DMA jobs of a known size in each
 * direction, M compute launches) moves the driver's telemetry exactly:
 * the chip's counters in sysfs (queue<q>/, dma<e>/, core<c>/), the
 * driver's own (tern/), hwmon, the DRM fdinfo of the file that ran it
 * (and not of another file), and the tern tracepoints.
 */
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern_copy_prog.h"

#define PAGE		4096ull
#define NJOBS		4		/* DMA jobs per direction */
#define JOB_SIZE	(192 * 1024ull)	/* bytes of each */
#define NLAUNCH		3		/* compute launches */
#define TRACEFS		"/sys/kernel/tracing"

FIXTURE(telem) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t tl;
	uint64_t point;
	uint32_t host, hbm, hbm2;	/* JOB_SIZE buffers */
};

FIXTURE_SETUP(telem)
{
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_HOST, &self->host));
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_DEVICE, &self->hbm));
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_DEVICE, &self->hbm2));
}

FIXTURE_TEARDOWN(telem)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* ---- reading sysfs, hwmon and fdinfo ---- */

/* /sys/class/accel/accelN/device/<group>/<attr> as a number; UINT64_MAX if unreadable. */
static uint64_t dev_u64(unsigned int minor, const char *group, const char *attr)
{
	char path[256], buf[64], *end;
	uint64_t v;

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/%s/%s", minor, group, attr);
	if (tern_read_file(path, buf, sizeof(buf)))
		return UINT64_MAX;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return UINT64_MAX;
	return v;
}

/* Sum of <attr> over the groups <prefix>0..<prefix>count-1; asserts each is readable. */
static uint64_t sum_u64(struct __test_metadata *_metadata, unsigned int minor,
			const char *prefix, unsigned int count, const char *attr)
{
	char group[32];
	uint64_t v, sum = 0;

	for (unsigned int i = 0; i < count; i++) {
		snprintf(group, sizeof(group), "%s%u", prefix, i);
		v = dev_u64(minor, group, attr);
		EXPECT_NE(UINT64_MAX, v) TH_LOG("%s/%s unreadable", group, attr);
		sum += v;
	}
	return sum;
}

/* The hwmon directory named "tern" under the PCI device of @minor. */
static int hwmon_dir(unsigned int minor, char *out, size_t len)
{
	char base[128], path[400], name[64];
	struct dirent *de;
	DIR *dir;
	int ret = -ENOENT;

	snprintf(base, sizeof(base), "/sys/class/accel/accel%u/device/hwmon", minor);
	dir = opendir(base);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "hwmon", 5))
			continue;
		if (strlen(de->d_name) > 32)
			continue;
		snprintf(path, sizeof(path), "%s/%.32s/name", base, de->d_name);
		if (!tern_read_file(path, name, sizeof(name)) && !strcmp(name, "tern")) {
			snprintf(out, len, "%s/%.32s", base, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int64_t hwmon_val(const char *dir, const char *attr)
{
	char path[600], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	if (tern_read_file(path, buf, sizeof(buf)))
		return INT64_MIN;
	return strtoll(buf, NULL, 10);
}

/* /proc/self/fdinfo/<fd> into @buf. */
static void fdinfo_read(struct __test_metadata *_metadata, int fd, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ASSERT_EQ(0, tern_read_file(path, buf, len)) TH_LOG("cannot read %s", path);
}

/* The text after "<key>:" and its blanks, or NULL. */
static const char *fdinfo_find(const char *buf, const char *key)
{
	size_t n = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* A numeric key: "<n>", "<n> ns", "<n> Hz", "<n> KiB" or "<n> MiB" (in bytes). */
static uint64_t fdinfo_u64(struct __test_metadata *_metadata, int fd, const char *key)
{
	char buf[4096], *end;
	const char *v;
	uint64_t n;

	fdinfo_read(_metadata, fd, buf, sizeof(buf));
	v = fdinfo_find(buf, key);
	EXPECT_NE(NULL, v) TH_LOG("no %s in fdinfo:\n%s", key, buf);
	if (!v)
		return UINT64_MAX;
	n = strtoull(v, &end, 10);
	if (!strncmp(end, " KiB", 4))
		n <<= 10;
	else if (!strncmp(end, " MiB", 4))
		n <<= 20;
	return n;
}

/* ---- workload ---- */

/* One copy as one job; returns its job id. */
static uint64_t copy(struct __test_metadata *_metadata, FIXTURE_DATA(telem) *self,
		     uint32_t queue, uint32_t dst, uint32_t src, uint64_t size)
{
	struct drm_tern_copy c;
	struct drm_tern_submit s = { 0 };
	int ret;

	tern_copy_set(&c, dst, 0, src, 0, size);
	s.copies = (uintptr_t)&c;
	s.copy_count = 1;
	s.queue = queue;
	s.out_syncobj = self->tl;
	s.out_point = ++self->point;
	ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT: %s", strerror(-ret));
	return s.job_id;
}

/* NJOBS jobs of JOB_SIZE bytes each H2D, D2H and D2D on @queue, waited for. */
static void dma_workload(struct __test_metadata *_metadata, FIXTURE_DATA(telem) *self,
			 uint32_t queue, uint64_t *ids)
{
	for (int i = 0; i < NJOBS; i++) {
		ids[3 * i] = copy(_metadata, self, queue, self->hbm, self->host, JOB_SIZE);
		ids[3 * i + 1] = copy(_metadata, self, queue, self->host, self->hbm, JOB_SIZE);
		ids[3 * i + 2] = copy(_metadata, self, queue, self->hbm2, self->hbm, JOB_SIZE);
	}
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
}

/*
 * NLAUNCH launches of the copy program on @core, waited for; their statuses
 * in @st[NLAUNCH] and their job ids in @ids.
 */
static void compute_workload(struct __test_metadata *_metadata, FIXTURE_DATA(telem) *self,
			     uint32_t core, struct tern_job_status *st, uint64_t *ids)
{
	struct tern_job_status *status;
	uint32_t hprog, hstatus;
	struct copy_prog *prog;
	size_t size;
	int ret;

	prog = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_DEVICE, &hprog);
	size = copy_prog_init(prog, 1);
	status = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hstatus);
	memset(status, 0, PAGE);

	for (int i = 0; i < NLAUNCH; i++) {
		struct copy_exec ce;

		copy_exec_init(&ce, core, hprog, size, self->hbm, self->hbm2);
		ce.e.status_handle = hstatus;
		ce.e.status_offset = i * sizeof(struct tern_job_status);
		ce.e.out_syncobj = self->tl;
		ce.e.out_point = ++self->point;
		ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_EXEC, &ce.e);
		ASSERT_EQ(0, ret) TH_LOG("EXEC on core %u: %s", core, strerror(-ret));
		ids[i] = ce.e.job_id;
	}
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
	memcpy(st, status, NLAUNCH * sizeof(*st));
	for (int i = 0; i < NLAUNCH; i++) {
		EXPECT_EQ((uint32_t)TERN_JOB_OK, st[i].status);
		EXPECT_LT(0ull, st[i].cycles);
	}
	munmap(prog, PAGE);
	munmap(status, PAGE);
	EXPECT_EQ(0, tern_bo_close(self->fd, hprog));
	EXPECT_EQ(0, tern_bo_close(self->fd, hstatus));
}

/* ---- fdinfo ---- */

TEST_F(telem, fdinfo_keys)
{
	char buf[4096];
	const char *v;

	fdinfo_read(_metadata, self->fd, buf, sizeof(buf));
	v = fdinfo_find(buf, "drm-driver");
	ASSERT_NE(NULL, v) TH_LOG("fdinfo:\n%s", buf);
	EXPECT_EQ(0, strncmp(v, "tern\n", 5));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-client-id"));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-pdev"));
	v = fdinfo_find(buf, "drm-maxfreq-compute");
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, strncmp(v, "1400000000 Hz", 13));
	v = fdinfo_find(buf, "drm-engine-dma");
	ASSERT_NE(NULL, v);
	EXPECT_NE(NULL, strstr(v, " ns\n"));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-engine-compute"));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-cycles-compute"));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-resident-hbm"));
	EXPECT_NE(NULL, fdinfo_find(buf, "drm-resident-host"));
}

/* drm-total-* count exactly the buffers the file has handles to, by region. */
TEST_F(telem, fdinfo_memory)
{
	uint64_t hbm0, host0;
	uint32_t h1, h2, h3;

	/* The fixture's buffers. */
	hbm0 = fdinfo_u64(_metadata, self->fd, "drm-total-hbm");
	host0 = fdinfo_u64(_metadata, self->fd, "drm-total-host");
	EXPECT_EQ(2 * JOB_SIZE, hbm0);
	EXPECT_EQ(JOB_SIZE, host0);
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, self->fd, "drm-shared-hbm"));

	ASSERT_EQ(0, tern_bo_create(self->fd, 3 << 20, DRM_TERN_BO_DEVICE, &h1));
	ASSERT_EQ(0, tern_bo_create(self->fd, 5 * PAGE, DRM_TERN_BO_HOST, &h2));
	/* Rounded up to a page. */
	ASSERT_EQ(0, tern_bo_create(self->fd, 100, DRM_TERN_BO_DEVICE, &h3));
	EXPECT_EQ(hbm0 + (3 << 20) + PAGE, fdinfo_u64(_metadata, self->fd, "drm-total-hbm"));
	EXPECT_EQ(host0 + 5 * PAGE, fdinfo_u64(_metadata, self->fd, "drm-total-host"));
	EXPECT_EQ(hbm0 + (3 << 20) + PAGE, fdinfo_u64(_metadata, self->fd, "drm-resident-hbm"));

	EXPECT_EQ(0, tern_bo_close(self->fd, h1));
	EXPECT_EQ(0, tern_bo_close(self->fd, h2));
	EXPECT_EQ(hbm0 + PAGE, fdinfo_u64(_metadata, self->fd, "drm-total-hbm"));
	EXPECT_EQ(host0, fdinfo_u64(_metadata, self->fd, "drm-total-host"));
	EXPECT_EQ(0, tern_bo_close(self->fd, h3));
	EXPECT_EQ(hbm0, fdinfo_u64(_metadata, self->fd, "drm-total-hbm"));
}

/* DMA jobs count in their file's drm-engine-dma, and only there. */
TEST_F(telem, fdinfo_dma_engine_per_file)
{
	uint64_t dma0, cmp0, dma1, ids[3 * NJOBS];
	int fd2;

	fd2 = tern_open_index(_metadata, 0, NULL);
	dma0 = fdinfo_u64(_metadata, self->fd, "drm-engine-dma");
	cmp0 = fdinfo_u64(_metadata, self->fd, "drm-engine-compute");
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-engine-dma"));

	dma_workload(_metadata, self, 0, ids);

	dma1 = fdinfo_u64(_metadata, self->fd, "drm-engine-dma");
	EXPECT_LT(dma0, dma1) TH_LOG("drm-engine-dma did not grow");
	EXPECT_EQ(cmp0, fdinfo_u64(_metadata, self->fd, "drm-engine-compute"));
	/* The other file ran nothing and has no buffers. */
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-engine-dma"));
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-total-hbm"));
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-total-host"));
	EXPECT_NE(fdinfo_u64(_metadata, self->fd, "drm-client-id"),
		  fdinfo_u64(_metadata, fd2, "drm-client-id"));
	close(fd2);
}

/* drm-cycles-compute grows by exactly the launches' status cycles. */
TEST_F(telem, fdinfo_compute_cycles)
{
	struct tern_job_status st[NLAUNCH];
	uint64_t cyc0, ns0, ids[NLAUNCH], want = 0;
	int fd2;

	ASSERT_NE(0, self->info.caps & TERN_CAP_COMPUTE);
	fd2 = tern_open_index(_metadata, 0, NULL);
	cyc0 = fdinfo_u64(_metadata, self->fd, "drm-cycles-compute");
	ns0 = fdinfo_u64(_metadata, self->fd, "drm-engine-compute");

	compute_workload(_metadata, self, 0, st, ids);
	for (int i = 0; i < NLAUNCH; i++)
		want += st[i].cycles;

	EXPECT_EQ(cyc0 + want, fdinfo_u64(_metadata, self->fd, "drm-cycles-compute"));
	EXPECT_LT(ns0, fdinfo_u64(_metadata, self->fd, "drm-engine-compute"));
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-cycles-compute"));
	EXPECT_EQ(0ull, fdinfo_u64(_metadata, fd2, "drm-engine-compute"));
	close(fd2);
}

/* ---- the driver's own counters in tern/ ---- */

TEST_F(telem, driver_counters)
{
	uint64_t host0, sub0, done0, ids[3 * NJOBS];
	uint32_t h;

	EXPECT_EQ(1400000000ull, dev_u64(self->minor, "tern", "clock_hz"));
	EXPECT_LT(0ull, dev_u64(self->minor, "tern", "kernel_used"));
	EXPECT_NE(UINT64_MAX, dev_u64(self->minor, "tern", "kernel_used"));
	EXPECT_NE(UINT64_MAX, dev_u64(self->minor, "tern", "mmu_faults"));

	host0 = dev_u64(self->minor, "tern", "host_used");
	ASSERT_LE(JOB_SIZE, host0);
	ASSERT_EQ(0, tern_bo_create(self->fd, 7 * PAGE, DRM_TERN_BO_HOST, &h));
	EXPECT_EQ(host0 + 7 * PAGE, dev_u64(self->minor, "tern", "host_used"));
	EXPECT_EQ(0, tern_bo_close(self->fd, h));
	EXPECT_EQ(host0, dev_u64(self->minor, "tern", "host_used"));

	/* A copy to an unmapped VA faults: one more MMU fault. */
	{
		uint64_t faults = dev_u64(self->minor, "tern", "mmu_faults");
		struct drm_tern_copy c;
		struct drm_tern_wait w;

		tern_copy_va_set(&c, 0x1000, tern_bo_va(self->fd, self->host), PAGE);
		ASSERT_EQ(0, tern_submit(self->fd, 0, &c, 1, self->tl, ++self->point));
		ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, self->point, TERN_WAIT_LONG, &w));
		EXPECT_EQ((uint32_t)DRM_TERN_JOB_MMU_FAULT, w.status);
		EXPECT_EQ(faults + 1, dev_u64(self->minor, "tern", "mmu_faults"));
	}

	sub0 = dev_u64(self->minor, "tern", "jobs_submitted");
	done0 = dev_u64(self->minor, "tern", "jobs_completed");
	dma_workload(_metadata, self, 0, ids);
	EXPECT_EQ(sub0 + 3 * NJOBS, dev_u64(self->minor, "tern", "jobs_submitted"));
	EXPECT_EQ(done0 + 3 * NJOBS, dev_u64(self->minor, "tern", "jobs_completed"));
}

/* ---- the chip's counters (TERN_CAP_TELEMETRY) ---- */

TEST_F(telem, queue_and_engine_bytes)
{
	unsigned int ne = self->info.num_dma_engines, q = self->info.num_queues - 1;
	uint64_t h2d, d2h, d2d, h2h, done, failed, bytes, descs, ids[3 * NJOBS];
	char g[16];

	ASSERT_NE(0, self->info.caps & TERN_CAP_TELEMETRY);
	snprintf(g, sizeof(g), "queue%u", q);
	h2d = dev_u64(self->minor, g, "h2d_bytes");
	d2h = dev_u64(self->minor, g, "d2h_bytes");
	d2d = dev_u64(self->minor, g, "d2d_bytes");
	h2h = dev_u64(self->minor, g, "h2h_bytes");
	done = dev_u64(self->minor, g, "descs_done");
	failed = dev_u64(self->minor, g, "descs_failed");
	ASSERT_NE(UINT64_MAX, h2d) TH_LOG("no %s/h2d_bytes", g);
	bytes = sum_u64(_metadata, self->minor, "dma", ne, "bytes");
	descs = sum_u64(_metadata, self->minor, "dma", ne, "descs");

	dma_workload(_metadata, self, q, ids);

	EXPECT_EQ(h2d + NJOBS * JOB_SIZE, dev_u64(self->minor, g, "h2d_bytes"));
	EXPECT_EQ(d2h + NJOBS * JOB_SIZE, dev_u64(self->minor, g, "d2h_bytes"));
	EXPECT_EQ(d2d + NJOBS * JOB_SIZE, dev_u64(self->minor, g, "d2d_bytes"));
	EXPECT_EQ(h2h, dev_u64(self->minor, g, "h2h_bytes"));
	EXPECT_EQ(0ull, dev_u64(self->minor, g, "link_bytes"));
	EXPECT_EQ(done + 3 * NJOBS, dev_u64(self->minor, g, "descs_done"));
	EXPECT_EQ(failed, dev_u64(self->minor, g, "descs_failed"));
	/* The device is idle but for this test: the engines moved just that. */
	EXPECT_EQ(bytes + 3 * NJOBS * JOB_SIZE, sum_u64(_metadata, self->minor, "dma", ne, "bytes"));
	EXPECT_EQ(descs + 3 * NJOBS, sum_u64(_metadata, self->minor, "dma", ne, "descs"));
	EXPECT_NE(UINT64_MAX, dev_u64(self->minor, "dma0", "busy_ns"));
}

TEST_F(telem, core_cycles_and_launches)
{
	static const char * const eng[TERN_NUM_ENGINES] = {
		"cycles_tensor", "cycles_vector", "cycles_scalar", "cycles_dma" };
	uint64_t cyc[TERN_NUM_ENGINES], want[TERN_NUM_ENGINES] = { 0 };
	uint64_t launches, failed, wall, ids[NLAUNCH];
	struct tern_job_status st[NLAUNCH];
	unsigned int c = self->info.num_cores - 1;
	char g[16];

	ASSERT_NE(0, self->info.caps & TERN_CAP_TELEMETRY);
	snprintf(g, sizeof(g), "core%u", c);
	for (int n = 0; n < TERN_NUM_ENGINES; n++)
		cyc[n] = dev_u64(self->minor, g, eng[n]);
	launches = dev_u64(self->minor, g, "launches");
	failed = dev_u64(self->minor, g, "launches_failed");
	wall = dev_u64(self->minor, g, "wall_ns");
	ASSERT_NE(UINT64_MAX, launches) TH_LOG("no %s/launches", g);

	compute_workload(_metadata, self, c, st, ids);
	for (int i = 0; i < NLAUNCH; i++)
		for (int n = 0; n < TERN_NUM_ENGINES; n++)
			want[n] += st[i].busy[n];

	EXPECT_LT(0ull, want[TERN_ENGINE_DMA]);
	for (int n = 0; n < TERN_NUM_ENGINES; n++) {
		EXPECT_EQ(cyc[n] + want[n], dev_u64(self->minor, g, eng[n])) TH_LOG("%s", eng[n]);
	}
	EXPECT_EQ(launches + NLAUNCH, dev_u64(self->minor, g, "launches"));
	EXPECT_EQ(failed, dev_u64(self->minor, g, "launches_failed"));
	EXPECT_LT(wall, dev_u64(self->minor, g, "wall_ns"));
}

TEST_F(telem, utilization_and_globals)
{
	char g[16];
	uint64_t v, t0;

	ASSERT_NE(0, self->info.caps & TERN_CAP_TELEMETRY);
	v = dev_u64(self->minor, "tern", "utilization");
	EXPECT_GE(100ull, v);
	for (unsigned int e = 0; e < self->info.num_dma_engines; e++) {
		snprintf(g, sizeof(g), "dma%u", e);
		EXPECT_GE(100ull, dev_u64(self->minor, g, "utilization")) TH_LOG("%s", g);
	}
	for (unsigned int c = 0; c < self->info.num_cores; c++) {
		snprintf(g, sizeof(g), "core%u", c);
		EXPECT_GE(100ull, dev_u64(self->minor, g, "utilization")) TH_LOG("%s", g);
	}
	t0 = dev_u64(self->minor, "tern", "time_ns");
	ASSERT_NE(UINT64_MAX, t0);
	EXPECT_LT(t0, dev_u64(self->minor, "tern", "time_ns"));
	EXPECT_NE(UINT64_MAX, dev_u64(self->minor, "tern", "ecc_corrected"));
	EXPECT_NE(UINT64_MAX, dev_u64(self->minor, "tern", "ecc_uncorrected"));
}

/* hwmon: readable; board power above idle while a burst of DMA runs. */
TEST_F_TIMEOUT(telem, hwmon_power_follows_load, 120)
{
	const uint64_t big = 32 << 20;
	int64_t temp, crit, idle, cap, p, peak;
	uint32_t hs, hd, status;
	char dir[512];
	int ret;

	ASSERT_NE(0, self->info.caps & TERN_CAP_TELEMETRY);
	ASSERT_EQ(0, hwmon_dir(self->minor, dir, sizeof(dir))) TH_LOG("no hwmon named tern");
	temp = hwmon_val(dir, "temp1_input");
	crit = hwmon_val(dir, "temp1_crit");
	cap = hwmon_val(dir, "power1_cap");
	ASSERT_NE(INT64_MIN, temp);
	EXPECT_LT(0, temp);
	EXPECT_LT(temp, crit);
	EXPECT_LT(0, cap);

	ASSERT_EQ(0, tern_bo_create(self->fd, big, DRM_TERN_BO_DEVICE, &hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, big, DRM_TERN_BO_DEVICE, &hd));
	/* Earlier jobs out of the chip's utilisation window. */
	usleep(300 * 1000);
	idle = hwmon_val(dir, "power1_input");
	ASSERT_LT(0, idle);
	EXPECT_GE(cap, idle);

	/* Jobs on every queue; read power until the last of them is done. */
	for (int i = 0; i < 16; i++)
		copy(_metadata, self, i % self->info.num_queues, i & 1 ? hs : hd, i & 1 ? hd : hs,
		     big);
	peak = idle;
	do {
		p = hwmon_val(dir, "power1_input");
		if (p > peak)
			peak = p;
		ret = tern_wait(self->fd, self->tl, self->point, 0, &status, NULL);
	} while (ret == -ETIME);
	ASSERT_EQ(0, ret);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	p = hwmon_val(dir, "power1_input");
	if (p > peak)
		peak = p;
	EXPECT_LT(idle, peak) TH_LOG("power %lld uW idle, %lld uW at most under load",
				     (long long)idle, (long long)peak);
}

/* ---- tracepoints ---- */

static int trace_write(const char *file, const char *s)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The whole trace buffer, malloc()ed. */
static char *trace_read(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Lines of @event for job @id of @minor in @trace. */
static int trace_count(const char *trace, const char *event, unsigned int minor, uint64_t id)
{
	char pat[128];
	const char *line, *end;
	int n = 0;

	snprintf(pat, sizeof(pat), " %s: minor=%u job=%llu", event, minor,
		 (unsigned long long)id);
	for (line = trace; *line; line = end + 1) {
		const char *m;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		m = memmem(line, end - line, pat, strlen(pat));
		/* job=1 must not match job=12 */
		if (m && (m + strlen(pat) == end || m[strlen(pat)] == ' '))
			n++;
		if (!*end)
			break;
	}
	return n;
}

TEST_F(telem, tracepoints)
{
	uint64_t ids[3 * NJOBS], cids[NLAUNCH];
	struct tern_job_status st[NLAUNCH];
	char *trace, pat[160];
	int done = 0;

	if (access(TRACEFS "/events", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events", F_OK))
		SKIP(return, "no tracefs at " TRACEFS);
	ASSERT_EQ(0, access(TRACEFS "/events/tern/tern_job_done", F_OK))
		TH_LOG("no tern events in tracefs");
	ASSERT_EQ(0, access(TRACEFS "/events/tern/tern_mmu_fault", F_OK));
	ASSERT_EQ(0, access(TRACEFS "/events/tern/tern_reset", F_OK));
	ASSERT_EQ(0, access(TRACEFS "/events/tern/tern_link_state", F_OK));

	ASSERT_EQ(0, trace_write("tracing_on", "1"));
	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(0, trace_write("events/tern/enable", "1"));
	dma_workload(_metadata, self, 0, ids);
	if (self->info.caps & TERN_CAP_COMPUTE)
		compute_workload(_metadata, self, 0, st, cids);
	EXPECT_EQ(0, trace_write("events/tern/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	for (int i = 0; i < 3 * NJOBS; i++) {
		EXPECT_EQ(1, trace_count(trace, "tern_submit", self->minor, ids[i]))
			TH_LOG("job %llu", (unsigned long long)ids[i]);
		EXPECT_EQ(1, trace_count(trace, "tern_job_start", self->minor, ids[i]));
		EXPECT_EQ(1, trace_count(trace, "tern_job_done", self->minor, ids[i]));
		done++;
		/* One copy each, JOB_SIZE bytes. */
		snprintf(pat, sizeof(pat), " tern_dma: minor=%u queue=0 job=%llu bytes=%llu dir=%s",
			 self->minor, (unsigned long long)ids[i], JOB_SIZE,
			 i % 3 == 0 ? "h2d" : i % 3 == 1 ? "d2h" : "d2d");
		EXPECT_NE(NULL, strstr(trace, pat)) TH_LOG("no \"%s\"", pat);
		snprintf(pat, sizeof(pat), " tern_job_done: minor=%u job=%llu status=0 error=0 ",
			 self->minor, (unsigned long long)ids[i]);
		EXPECT_NE(NULL, strstr(trace, pat)) TH_LOG("no \"%s\"", pat);
	}
	EXPECT_EQ(3 * NJOBS, done);
	for (int i = 0; i < NLAUNCH && (self->info.caps & TERN_CAP_COMPUTE); i++) {
		EXPECT_EQ(1, trace_count(trace, "tern_job_done", self->minor, cids[i]));
		snprintf(pat, sizeof(pat), "job=%llu kind=compute ring=0 count=2 pid=%d",
			 (unsigned long long)cids[i], getpid());
		EXPECT_NE(NULL, strstr(trace, pat)) TH_LOG("no \"%s\"", pat);
		/* The modeled cycles of its status. */
		snprintf(pat, sizeof(pat), "job=%llu status=0 error=0 wall_ns=",
			 (unsigned long long)cids[i]);
		{
			const char *p = strstr(trace, pat), *c;

			ASSERT_NE(NULL, p);
			c = strstr(p, " cycles=");
			ASSERT_NE(NULL, c);
			EXPECT_EQ(st[i].cycles, strtoull(c + 8, NULL, 10));
		}
	}
	free(trace);
}

TEST_HARNESS_MAIN
