// SPDX-License-Identifier: MIT
/*
 * tern_reload: unloading and reloading tern.ko, and unbinding a device
 * while a client still has it open. Nothing leaks: after a reload every
 * device comes back with zero buffers, zero HBM used and zero jobs.
 *
 * Runs last (tests.txt): it takes the devices away for a while.
 * TERN_KO names the tern.ko to load again.
 */
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "tern_test.h"

#define PCI_DRIVER_DIR	"/sys/bus/pci/drivers/tern"

FIXTURE(reload) {
	char pci[TERN_TEST_MAX_DEVS][32];
	int count;
	const char *ko;
};

static int module_loaded(void)
{
	return access("/sys/module/tern", F_OK) == 0;
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, "tern", O_NONBLOCK) ? -errno : 0;
}

static int load_module(const char *ko)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Accel minor of the tern device at PCI address @pci, or -1. */
static int minor_of(const char *pci)
{
	char path[128];
	struct dirent *de;
	unsigned int minor;
	int found = -1;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/accel", pci);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "accel%u", &minor) == 1)
			found = (int)minor;
	closedir(dir);
	return found;
}

static int bound(const char *pci)
{
	char path[128], drv[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	tern_link_basename(path, drv, sizeof(drv));
	return !strcmp(drv, "tern");
}

static int open_minor(int minor)
{
	char node[64];

	snprintf(node, sizeof(node), "/dev/accel/accel%d", minor);
	return open(node, O_RDWR | O_CLOEXEC);
}

/* Every device is back, with nothing allocated and no job counted. */
static void devices_fresh(struct __test_metadata *_metadata, FIXTURE_DATA(reload) *self)
{
	static const char *const zero[] = {
		"bo_count", "hbm_used", "jobs_submitted", "jobs_completed", "jobs_failed",
		"device_errors",
	};
	unsigned int minors[TERN_TEST_MAX_DEVS];
	unsigned int i;
	int d, m;

	ASSERT_EQ(self->count, tern_minors(minors, TERN_TEST_MAX_DEVS));
	for (d = 0; d < self->count; d++) {
		m = minor_of(self->pci[d]);
		ASSERT_LE(0, m) TH_LOG("%s has no accel device", self->pci[d]);
		for (i = 0; i < ARRAY_SIZE(zero); i++) {
			EXPECT_EQ(0, tern_sysfs_u64(m, zero[i]))
				TH_LOG("%s: %s not 0", self->pci[d], zero[i]);
		}
	}
}

/* host -> HBM -> host on the device at @minor, then everything freed. */
static void use_device(struct __test_metadata *_metadata, int minor)
{
	const uint64_t size = (1 << 20) + 7;
	unsigned char *src, *dst;
	uint32_t hs, hd, hh, tl;
	int fd;

	fd = open_minor(minor);
	ASSERT_LE(0, fd) TH_LOG("open accel%d: %s", minor, strerror(errno));
	tl = tern_timeline(_metadata, fd);
	src = tern_bo_new(_metadata, fd, size, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(fd, size, DRM_TERN_BO_DEVICE, &hd));
	dst = tern_bo_new(_metadata, fd, size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, size, tern_seed());
	memset(dst, 0, size);
	ASSERT_EQ(0, tern_submit_copy(fd, 0, hd, 0, hs, 0, size, tl, 1));
	ASSERT_EQ(0, tern_submit_copy(fd, 0, hh, 0, hd, 0, size, tl, 2));
	tern_wait_ok(_metadata, fd, tl, 2);
	EXPECT_EQ(-1, tern_first_diff(dst, src, size));
	EXPECT_EQ(3, tern_sysfs_u64(minor, "bo_count"));
	munmap(src, size);
	munmap(dst, size);
	ASSERT_EQ(0, tern_bo_close(fd, hs));
	ASSERT_EQ(0, tern_bo_close(fd, hd));
	ASSERT_EQ(0, tern_bo_close(fd, hh));
	close(fd);
	EXPECT_EQ(0, tern_sysfs_u64(minor, "bo_count"));
	EXPECT_EQ(0, tern_sysfs_u64(minor, "hbm_used"));
}

FIXTURE_SETUP(reload)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int i;

	self->ko = getenv("TERN_KO");
	ASSERT_NE(NULL, self->ko) TH_LOG("TERN_KO (path of tern.ko) is not set");
	ASSERT_EQ(0, access(self->ko, R_OK)) TH_LOG("%s: %s", self->ko, strerror(errno));
	self->count = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), self->count);
	for (i = 0; i < self->count; i++)
		tern_pci_address(minors[i], self->pci[i], sizeof(self->pci[i]));
}

/* Whatever a test did, leave the module loaded and every device bound. */
FIXTURE_TEARDOWN(reload)
{
	int i;

	if (!module_loaded())
		load_module(self->ko);
	for (i = 0; i < self->count; i++)
		if (!bound(self->pci[i]))
			tern_write_file(PCI_DRIVER_DIR "/bind", self->pci[i]);
}

TEST_F(reload, refcount_follows_open_files)
{
	char buf[32];
	long base, with1, with2;
	int fd1, fd2, m = minor_of(self->pci[0]);

	ASSERT_EQ(0, tern_read_file("/sys/module/tern/refcnt", buf, sizeof(buf)));
	base = atol(buf);
	fd1 = open_minor(m);
	fd2 = open_minor(m);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tern_read_file("/sys/module/tern/refcnt", buf, sizeof(buf)));
	with2 = atol(buf);
	close(fd2);
	ASSERT_EQ(0, tern_read_file("/sys/module/tern/refcnt", buf, sizeof(buf)));
	with1 = atol(buf);
	close(fd1);
	EXPECT_EQ(base + 2, with2);
	EXPECT_EQ(base + 1, with1);
}

TEST_F(reload, rmmod_with_open_fd_fails)
{
	struct drm_tern_info info;
	int fd, ret;

	fd = open_minor(minor_of(self->pci[0]));
	ASSERT_LE(0, fd);
	/* The open file holds the module: the kernel says "in use" (EWOULDBLOCK). */
	ret = unload_module();
	EXPECT_EQ(-EWOULDBLOCK, ret) TH_LOG("delete_module: %s", strerror(-ret));
	EXPECT_TRUE(module_loaded());
	EXPECT_EQ(0, tern_get_info(fd, &info));
	close(fd);
}

TEST_F_TIMEOUT(reload, rmmod_insmod_no_leaks, 120)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int ret, d;

	ret = unload_module();
	ASSERT_EQ(0, ret) TH_LOG("delete_module(tern): %s", strerror(-ret));
	EXPECT_FALSE(module_loaded());
	EXPECT_EQ(0, tern_minors(minors, TERN_TEST_MAX_DEVS));
	ret = load_module(self->ko);
	ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", self->ko, strerror(-ret));
	devices_fresh(_metadata, self);
	for (d = 0; d < self->count; d++)
		use_device(_metadata, minor_of(self->pci[d]));
}

TEST_F_TIMEOUT(reload, reload_cycles, 300)
{
	int cycle, ret, d;

	for (cycle = 0; cycle < 3; cycle++) {
		ret = unload_module();
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: delete_module: %s", cycle, strerror(-ret));
		ret = load_module(self->ko);
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: finit_module: %s", cycle, strerror(-ret));
		devices_fresh(_metadata, self);
		for (d = 0; d < self->count; d++)
			use_device(_metadata, minor_of(self->pci[d]));
	}
}

TEST_F_TIMEOUT(reload, unbind_with_open_fd, 120)
{
	struct drm_tern_info info;
	uint32_t hs, hd, tl;
	int fd, ret, m;

	m = minor_of(self->pci[0]);
	fd = open_minor(m);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tern_bo_create(fd, 1 << 20, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(fd, 1 << 20, DRM_TERN_BO_DEVICE, &hd));
	tl = tern_timeline(_metadata, fd);

	ret = tern_write_file(PCI_DRIVER_DIR "/unbind", self->pci[0]);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->pci[0], strerror(-ret));
	EXPECT_FALSE(bound(self->pci[0]));
	/* The client's file stays valid, but the device is gone. */
	EXPECT_EQ(-ENODEV, tern_get_info(fd, &info));
	EXPECT_EQ(-ENODEV, tern_bo_create(fd, 4096, DRM_TERN_BO_HOST, &hs));
	EXPECT_EQ(-ENODEV, tern_submit_copy(fd, 0, hd, 0, hs, 0, 4096, tl, 1));
	{
		struct drm_tern_bo_info bi;

		EXPECT_EQ(-ENODEV, tern_bo_info(fd, hd, &bi));
	}
	/* The other device did not notice. */
	if (self->count > 1) {
		int fd1 = open_minor(minor_of(self->pci[1]));

		ASSERT_LE(0, fd1);
		EXPECT_EQ(0, tern_get_info(fd1, &info));
		close(fd1);
	}
	close(fd);

	ret = tern_write_file(PCI_DRIVER_DIR "/bind", self->pci[0]);
	ASSERT_EQ(0, ret) TH_LOG("bind %s: %s", self->pci[0], strerror(-ret));
	ASSERT_TRUE(bound(self->pci[0]));
	m = minor_of(self->pci[0]);
	ASSERT_LE(0, m);
	EXPECT_EQ(0, tern_sysfs_u64(m, "bo_count"));
	EXPECT_EQ(0, tern_sysfs_u64(m, "hbm_used"));
	use_device(_metadata, m);
}

TEST_F_TIMEOUT(reload, unbind_with_job_in_flight, 120)
{
	const uint64_t half = 64ull << 20;
	struct drm_tern_copy copies[16];
	uint32_t h, tl, status = 99;
	unsigned int i;
	int fd, ret, m;

	m = minor_of(self->pci[0]);
	fd = open_minor(m);
	ASSERT_LE(0, fd);
	tl = tern_timeline(_metadata, fd);
	ASSERT_EQ(0, tern_bo_create(fd, 2 * half, DRM_TERN_BO_DEVICE, &h));
	for (i = 0; i < ARRAY_SIZE(copies); i++)
		tern_copy_set(&copies[i], h, half, h, 0, half);
	ASSERT_EQ(0, tern_submit(fd, 0, copies, ARRAY_SIZE(copies), tl, 1));

	/* Unbind while the device is busy with the job. */
	ret = tern_write_file(PCI_DRIVER_DIR "/unbind", self->pci[0]);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->pci[0], strerror(-ret));
	/* The job either finished or was aborted; its waiter is not left hanging. */
	ret = tern_wait(fd, tl, 1, TERN_WAIT_LONG, &status, NULL);
	if (ret == 0) {
		EXPECT_TRUE(status == DRM_TERN_JOB_OK || status == DRM_TERN_JOB_ABORTED)
			TH_LOG("status %u", status);
	} else {
		EXPECT_EQ(-ENODEV, ret) TH_LOG("WAIT after unbind: %s", strerror(-ret));
	}
	close(fd);

	ret = tern_write_file(PCI_DRIVER_DIR "/bind", self->pci[0]);
	ASSERT_EQ(0, ret) TH_LOG("bind %s: %s", self->pci[0], strerror(-ret));
	m = minor_of(self->pci[0]);
	ASSERT_LE(0, m);
	EXPECT_EQ(0, tern_sysfs_u64(m, "bo_count"));
	use_device(_metadata, m);
}

TEST_F_TIMEOUT(reload, final_state_clean, 120)
{
	int ret;

	/* Leave the driver freshly loaded for whatever runs next. */
	ret = unload_module();
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	ret = load_module(self->ko);
	ASSERT_EQ(0, ret) TH_LOG("finit_module: %s", strerror(-ret));
	devices_fresh(_metadata, self);
}

TEST_HARNESS_MAIN
