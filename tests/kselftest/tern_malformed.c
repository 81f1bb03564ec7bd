// SPDX-License-Identifier: MIT
/*
 * tern_malformed: malformed DMA descriptors reach the device through the
 * most permissive path, debugfs inject_desc (the driver submits the 64
 * bytes unchanged). The device must reject each one: the write fails with
 * EIO, the driver counts a device error and a failed job, QEMU logs a
 * "tern:" guest error, and the same queue keeps working afterwards.
 *
 * TERN_QEMU_LOG names QEMU's guest-error log, readable from the guest.
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"

#define PAGE	4096ull

FIXTURE(bad) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t hd;			/* device BO of 2 pages */
	uint64_t hbm_addr;		/* its HBM offset */
	unsigned char *map;
	uint32_t tl;
	uint64_t point;
	uint64_t errors0, failed0;
	off_t log0;			/* QEMU log size before the test */
};

FIXTURE_VARIANT(bad) {
	unsigned int index;
};

FIXTURE_VARIANT_ADD(bad, dev0) { .index = 0 };
FIXTURE_VARIANT_ADD(bad, dev1) { .index = 1 };

static const char *qemu_log(void)
{
	return getenv("TERN_QEMU_LOG");
}

static off_t file_size(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 ? st.st_size : -1;
}

FIXTURE_SETUP(bad)
{
	struct drm_tern_bo_info bi;

	self->fd = tern_open_index(_metadata, variant->index, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->map = tern_bo_new(_metadata, self->fd, 2 * PAGE, DRM_TERN_BO_DEVICE, &self->hd);
	ASSERT_EQ(0, tern_bo_info(self->fd, self->hd, &bi));
	self->hbm_addr = bi.device_addr;
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
	self->errors0 = tern_sysfs_u64(self->minor, "device_errors");
	self->failed0 = tern_sysfs_u64(self->minor, "jobs_failed");
	ASSERT_NE(UINT64_MAX, self->errors0);
	ASSERT_NE(NULL, qemu_log()) TH_LOG("TERN_QEMU_LOG is not set");
	self->log0 = file_size(qemu_log());
	ASSERT_LE(0, self->log0) TH_LOG("%s: %s", qemu_log(), strerror(errno));
}

FIXTURE_TEARDOWN(bad)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Writes @len bytes to inject_desc; returns bytes written or -errno. */
static ssize_t inject(unsigned int minor, const void *buf, size_t len)
{
	return tern_debugfs_write(minor, "inject_desc", buf, len);
}

/*
 * Waits up to 10 s for a line with "tern:" after byte @from of the QEMU log
 * (QEMU writes it from its own thread; the file is read over 9p).
 */
static int log_has_tern_line(const char *path, off_t from, char *line, size_t len)
{
	char *buf, *p, *end;
	ssize_t n;
	int fd, i, found = 0;

	buf = malloc(1 << 20);
	if (!buf)
		return 0;
	for (i = 0; i < 100 && !found; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = pread(fd, buf, (1 << 20) - 1, from);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			p = strstr(buf, "tern:");
			if (p) {
				end = strchr(p, '\n');
				if (end)
					*end = '\0';
				snprintf(line, len, "%s", p);
				found = 1;
				break;
			}
		}
		usleep(100000);
	}
	free(buf);
	return found;
}

/* A normal DMA round through queue 0 (the queue inject_desc uses) works. */
static void queue0_works(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self)
{
	unsigned char *src, *dst;
	uint32_t hs, hh;
	uint64_t p;

	src = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, PAGE, tern_seed());
	memset(dst, 0, PAGE);
	p = ++self->point;
	ASSERT_EQ(0, tern_submit_copy(self->fd, 0, self->hd, 1, hs, 0, PAGE - 1, self->tl, p));
	p = ++self->point;
	ASSERT_EQ(0, tern_submit_copy(self->fd, 0, hh, 0, self->hd, 1, PAGE - 1, self->tl, p));
	tern_wait_ok(_metadata, self->fd, self->tl, p - 1);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	EXPECT_EQ(-1, tern_first_diff(dst, src, PAGE - 1));
	munmap(src, PAGE);
	munmap(dst, PAGE);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hh));
}

/* @d is rejected by the device, with every visible consequence. */
static void rejected(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		     const struct tern_dma_desc *d)
{
	char line[512] = "";
	ssize_t n;

	n = inject(self->minor, d, sizeof(*d));
	ASSERT_EQ(-EIO, n) TH_LOG("inject_desc write: %zd (%s)", n, n < 0 ? strerror(-n) : "ok");
	EXPECT_EQ(self->errors0 + 1, tern_sysfs_u64(self->minor, "device_errors"));
	EXPECT_EQ(self->failed0 + 1, tern_sysfs_u64(self->minor, "jobs_failed"));
	EXPECT_TRUE(log_has_tern_line(qemu_log(), self->log0, line, sizeof(line)))
		TH_LOG("no \"tern:\" line appeared in %s", qemu_log());
	TH_LOG("QEMU: %s", line);
	/* The device and the queue go on. */
	queue0_works(_metadata, self);
}

TEST_F(bad, hbm_range_beyond_end)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM,
		.src = self->info.hbm_size - 16,
		.dst = self->hbm_addr,
		.size = PAGE,
	};

	rejected(_metadata, self, &d);
}

TEST_F(bad, hbm_range_wraps)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM,
		.src = self->hbm_addr,
		.dst = UINT64_MAX - 100,
		.size = PAGE,
	};

	rejected(_metadata, self, &d);
}

TEST_F(bad, bad_opcode)
{
	struct tern_dma_desc d = { .opcode = 7 };

	rejected(_metadata, self, &d);
}

TEST_F(bad, link_on_nop)
{
	struct tern_dma_desc d = { .opcode = TERN_DESC_OP_NOP, .link = 1 };

	rejected(_metadata, self, &d);
}

TEST_F(bad, unknown_flag)
{
	struct tern_dma_desc d = { .opcode = TERN_DESC_OP_NOP, .flags = ~TERN_DESC_F_ALL };

	rejected(_metadata, self, &d);
}

TEST_F(bad, sgl_flag_on_nop)
{
	struct tern_dma_desc d = { .opcode = TERN_DESC_OP_NOP, .flags = TERN_DESC_F_SRC_SGL };

	rejected(_metadata, self, &d);
}

TEST_F(bad, fence_hbm_without_fence)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_NOP,
		.flags = TERN_DESC_F_FENCE_HBM,
		.fence_addr = self->hbm_addr,
	};

	rejected(_metadata, self, &d);
}

TEST_F(bad, host_address_not_ram)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_DST_HBM,
		.src = 1ull << 50,
		.dst = self->hbm_addr,
		.size = PAGE,
	};

	rejected(_metadata, self, &d);
}

/* Bus address of BAR4 (HBM) of /dev/accel/accel<minor>, or 0. */
static uint64_t hbm_bar_address(unsigned int minor)
{
	unsigned long long start = 0, end, flags;
	char path[128];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/resource", minor);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= TERN_BAR_HBM; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

/*
 * Another chip's HBM BAR is RAM inside QEMU but neither guest RAM nor this
 * chip's HBM: the device must refuse it as a host address.
 */
TEST_F(bad, peer_hbm_bar_refused)
{
	unsigned int other = self->minor ^ 1;
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_DST_HBM,
		.dst = self->hbm_addr,
		.size = PAGE,
	};

	d.src = hbm_bar_address(other);
	ASSERT_NE(0, d.src) TH_LOG("no BAR4 address for accel%u", other);
	rejected(_metadata, self, &d);
}

TEST_F(bad, sgl_with_zero_entries)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_SRC_SGL | TERN_DESC_F_DST_HBM,
		.src = 0,
		.dst = self->hbm_addr,
		.size = PAGE,
		.src_sgl_count = 0,
	};

	rejected(_metadata, self, &d);
}

TEST_F(bad, sgl_count_without_sgl_flag)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM,
		.src = self->hbm_addr,
		.dst = self->hbm_addr + PAGE,
		.size = 16,
		.dst_sgl_count = 1,
	};

	rejected(_metadata, self, &d);
}

TEST_F(bad, two_in_a_row)
{
	struct tern_dma_desc d = { .opcode = 99 };

	ASSERT_EQ(-EIO, inject(self->minor, &d, sizeof(d)));
	ASSERT_EQ(-EIO, inject(self->minor, &d, sizeof(d)));
	EXPECT_EQ(self->errors0 + 2, tern_sysfs_u64(self->minor, "device_errors"));
	EXPECT_EQ(self->failed0 + 2, tern_sysfs_u64(self->minor, "jobs_failed"));
	queue0_works(_metadata, self);
}

TEST_F(bad, valid_nop_succeeds)
{
	struct tern_dma_desc d = { .opcode = TERN_DESC_OP_NOP };

	EXPECT_EQ((ssize_t)sizeof(d), inject(self->minor, &d, sizeof(d)));
	EXPECT_EQ(self->errors0, tern_sysfs_u64(self->minor, "device_errors"));
	EXPECT_EQ(self->failed0, tern_sysfs_u64(self->minor, "jobs_failed"));
}

TEST_F(bad, valid_copy_moves_data)
{
	struct tern_dma_desc d = {
		.opcode = TERN_DESC_OP_COPY,
		.flags = TERN_DESC_F_SRC_HBM | TERN_DESC_F_DST_HBM,
		.src = self->hbm_addr + 3,
		.dst = self->hbm_addr + PAGE,
		.size = PAGE - 3,
	};

	/* The descriptor really runs: the data moves inside our own buffer. */
	tern_fill(self->map, PAGE, tern_seed());
	memset(self->map + PAGE, 0, PAGE);
	ASSERT_EQ((ssize_t)sizeof(d), inject(self->minor, &d, sizeof(d)));
	EXPECT_EQ(-1, tern_first_diff(self->map + PAGE, self->map + 3, PAGE - 3));
	EXPECT_EQ(0, self->map[2 * PAGE - 1]);
	EXPECT_EQ(self->errors0, tern_sysfs_u64(self->minor, "device_errors"));
}

TEST_F(bad, write_not_64_bytes)
{
	unsigned char buf[128] = { 0 };

	EXPECT_EQ(-EINVAL, inject(self->minor, buf, 63));
	EXPECT_EQ(-EINVAL, inject(self->minor, buf, 65));
	EXPECT_EQ(-EINVAL, inject(self->minor, buf, 1));
	EXPECT_EQ(self->errors0, tern_sysfs_u64(self->minor, "device_errors"));
	EXPECT_EQ(self->failed0, tern_sysfs_u64(self->minor, "jobs_failed"));
}

TEST_F(bad, inject_is_root_only)
{
	char path[96];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/inject_desc", self->minor);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(path, O_WRONLY);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("an unprivileged user could open %s", path);
}

TEST_HARNESS_MAIN
