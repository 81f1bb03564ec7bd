/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tern kselftests: finding devices in sysfs, reading
 * the driver's sysfs counters, and thin wrappers of the raw UAPI ioctls.
 *
 * Include after kselftest_harness.h. Functions that take _metadata may use
 * ASSERT_*(); the others return 0 or -errno so tests can check the errno.
 */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <xf86drm.h>

#include "tern_accel.h"
#include "tern_regs.h"

#define TERN_TEST_MAX_DEVS	64

/*
 * The build directory the tests' programs come from: $TERN_BUILD, else
 * three levels above this executable (build/tests/kselftest/<test>).
 */
static inline void tern_build_dir(char *out, size_t len)
{
	char exe[PATH_MAX];
	const char *env = getenv("TERN_BUILD");
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s", dirname(dirname(dirname(exe))));
}

/*
 * A socket of the kernel's uevent broadcast group (with a large receive
 * buffer, so a burst of uevents is not lost), or -errno.
 */
static inline int tern_uevent_open(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, size = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* How many tern devices the VM has; TERN_EXPECT_DEVICES overrides. */
static inline int tern_expected_devices(void)
{
	const char *s = getenv("TERN_EXPECT_DEVICES");

	return s ? atoi(s) : 2;
}

static inline int tern_cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* Basename of the symlink target of @path, or "" on error. */
static inline void tern_link_basename(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	out[0] = '\0';
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < len)
		strcpy(out, base);
}

/* Accel minors bound to tern, sorted; returns how many. */
static inline int tern_minors(unsigned int *minors, int max)
{
	char path[128], driver[64];
	struct dirent *de;
	unsigned int minor;
	int n = 0;
	char tail;
	DIR *dir;

	dir = opendir("/sys/class/accel");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		if (sscanf(de->d_name, "accel%u%c", &minor, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/driver", minor);
		tern_link_basename(path, driver, sizeof(driver));
		if (!strcmp(driver, "tern"))
			minors[n++] = minor;
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), tern_cmp_uint);
	return n;
}

/* PCI address of accel minor @minor. */
static inline void tern_pci_address(unsigned int minor, char *out, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device", minor);
	tern_link_basename(path, out, len);
}

static inline int tern_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* Writes the string @s to the file @path in one write(); 0 or -errno. */
static inline int tern_write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/*
 * Writes @len bytes of @buf to /sys/kernel/debug/accel/<minor>/<file> (the
 * driver's root-only inject files) in one write(); returns the bytes
 * written or -errno.
 */
static inline ssize_t tern_debugfs_write(unsigned int minor, const char *file, const void *buf,
					 size_t len)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/%s", minor, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

/* A file of the driver's sysfs group, /sys/class/accel/accelN/device/tern/<attr>. */
static inline int tern_sysfs_str(unsigned int minor, const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/tern/%s", minor, attr);
	return tern_read_file(path, buf, len);
}

/* A decimal attribute of the group; UINT64_MAX if it cannot be read. */
static inline uint64_t tern_sysfs_u64(unsigned int minor, const char *attr)
{
	char buf[64], *end;
	uint64_t v;

	if (tern_sysfs_str(minor, attr, buf, sizeof(buf)))
		return UINT64_MAX;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return UINT64_MAX;
	return v;
}

/* Opens the @index-th tern device (by minor order) read-write. */
static inline int tern_open_index(struct __test_metadata *_metadata, unsigned int index,
				  unsigned int *minorp)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char node[64];
	int n, fd;

	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_LT(index, (unsigned int)n)
		TH_LOG("tern device %u missing: %d tern devices in /sys/class/accel", index, n);
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[index]);
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", node, strerror(errno));
	if (minorp)
		*minorp = minors[index];
	return fd;
}

static inline int tern_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret ? -errno : 0;
}

static inline int tern_get_info(int fd, struct drm_tern_info *info)
{
	memset(info, 0, sizeof(*info));
	return tern_ioctl(fd, DRM_IOCTL_TERN_GET_INFO, info);
}

static inline int tern_bo_create(int fd, uint64_t size, uint32_t domain, uint32_t *handle)
{
	struct drm_tern_bo_create c = { .size = size, .domain = domain };
	int ret;

	ret = tern_ioctl(fd, DRM_IOCTL_TERN_BO_CREATE, &c);
	if (!ret)
		*handle = c.handle;
	return ret;
}

static inline int tern_bo_info(int fd, uint32_t handle, struct drm_tern_bo_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return tern_ioctl(fd, DRM_IOCTL_TERN_BO_INFO, info);
}

static inline int tern_bo_close(int fd, uint32_t handle)
{
	return drmCloseBufferHandle(fd, handle) ? -errno : 0;
}

/* Maps a whole BO; MAP_FAILED on error (errno set). */
static inline void *tern_bo_mmap(int fd, uint32_t handle, uint64_t size)
{
	struct drm_tern_bo_info info;
	int ret;

	ret = tern_bo_info(fd, handle, &info);
	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)info.mmap_offset);
}

/* A BO created and mapped, with ASSERTs. */
static inline void *tern_bo_new(struct __test_metadata *_metadata, int fd, uint64_t size,
				uint32_t domain, uint32_t *handle)
{
	void *p;
	int ret;

	ret = tern_bo_create(fd, size, domain, handle);
	ASSERT_EQ(0, ret) TH_LOG("BO_CREATE of %llu bytes in domain %u: %s",
				 (unsigned long long)size, domain, strerror(-ret));
	p = tern_bo_mmap(fd, *handle, size);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of BO %u: %s", *handle, strerror(errno));
	return p;
}

static inline void tern_copy_set(struct drm_tern_copy *c, uint32_t dst, uint64_t dst_off,
				 uint32_t src, uint64_t src_off, uint64_t size)
{
	memset(c, 0, sizeof(*c));
	c->dst_handle = dst;
	c->dst_offset = dst_off;
	c->src_handle = src;
	c->src_offset = src_off;
	c->size = size;
}

static inline int tern_submit(int fd, uint32_t queue, struct drm_tern_copy *copies,
			      uint32_t count, uint32_t syncobj, uint64_t point)
{
	struct drm_tern_submit s = {
		.copies = (uintptr_t)copies,
		.copy_count = count,
		.queue = queue,
		.out_syncobj = syncobj,
		.out_point = point,
	};

	return tern_ioctl(fd, DRM_IOCTL_TERN_SUBMIT, &s);
}

/* One copy as one job signalling @point on @syncobj. */
static inline int tern_submit_copy(int fd, uint32_t queue, uint32_t dst, uint64_t dst_off,
				   uint32_t src, uint64_t src_off, uint64_t size,
				   uint32_t syncobj, uint64_t point)
{
	struct drm_tern_copy c;

	tern_copy_set(&c, dst, dst_off, src, src_off, size);
	return tern_submit(fd, queue, &c, 1, syncobj, point);
}

/* DRM_IOCTL_TERN_WAIT; -ETIME on timeout. Fills status and device error code. */
static inline int tern_wait(int fd, uint32_t syncobj, uint64_t point, int64_t timeout_ns,
			    uint32_t *status, uint32_t *code)
{
	struct drm_tern_wait w = {
		.syncobj = syncobj,
		.point = point,
		.timeout_ns = timeout_ns,
	};
	int ret;

	ret = tern_ioctl(fd, DRM_IOCTL_TERN_WAIT, &w);
	if (status)
		*status = w.status;
	if (code)
		*code = w.error_code;
	return ret;
}

#define TERN_WAIT_LONG	(60ll * 1000 * 1000 * 1000)

/* DRM_IOCTL_TERN_WAIT with the whole result (status, error_code, fault_addr) in @w. */
static inline int tern_wait_result(int fd, uint32_t syncobj, uint64_t point, int64_t timeout_ns,
				   struct drm_tern_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->syncobj = syncobj;
	w->point = point;
	w->timeout_ns = timeout_ns;
	return tern_ioctl(fd, DRM_IOCTL_TERN_WAIT, w);
}

/* A DRM_TERN_COPY_VA copy: device VAs of the caller's context, no handles. */
static inline void tern_copy_va_set(struct drm_tern_copy *c, uint64_t dst_va, uint64_t src_va,
				    uint64_t size)
{
	memset(c, 0, sizeof(*c));
	c->flags = DRM_TERN_COPY_VA;
	c->dst_offset = dst_va;
	c->src_offset = src_va;
	c->size = size;
}

/* Device VA of @handle in @fd's context, 0 on error. */
static inline uint64_t tern_bo_va(int fd, uint32_t handle)
{
	struct drm_tern_bo_info info;

	return tern_bo_info(fd, handle, &info) ? 0 : info.device_va;
}

/* Waits for @point and asserts that the job completed without error. */
static inline void tern_wait_ok(struct __test_metadata *_metadata, int fd, uint32_t syncobj,
				uint64_t point)
{
	uint32_t status = 99, code = 99;
	int ret;

	ret = tern_wait(fd, syncobj, point, TERN_WAIT_LONG, &status, &code);
	ASSERT_EQ(0, ret) TH_LOG("WAIT point %llu: %s", (unsigned long long)point,
				 strerror(-ret));
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("point %llu: status %u device error %u",
						   (unsigned long long)point, status, code);
}

static inline uint32_t tern_timeline(struct __test_metadata *_metadata, int fd)
{
	uint32_t h = 0;

	ASSERT_EQ(0, drmSyncobjCreate(fd, 0, &h)) TH_LOG("drmSyncobjCreate: %s", strerror(errno));
	return h;
}

/* Test data: a splitmix64 stream; @seed makes stale data from earlier runs differ. */
static inline uint64_t tern_pattern_word(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void tern_fill(void *p, uint64_t size, uint64_t seed)
{
	unsigned char *b = p;
	uint64_t i, w;

	for (i = 0; i + 8 <= size; i += 8) {
		w = tern_pattern_word(seed, i >> 3);
		memcpy(b + i, &w, 8);
	}
	for (; i < size; i++)
		b[i] = (unsigned char)tern_pattern_word(seed, i);
}

static inline uint64_t tern_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x2545f4914f6cdd1dull ^ (uint64_t)getpid() << 32 ^
	       (uint64_t)ts.tv_sec;
}

/* Index of the first byte where @a and @b differ, or -1. */
static inline int64_t tern_first_diff(const void *a, const void *b, uint64_t size)
{
	const unsigned char *x = a, *y = b;
	uint64_t i;

	if (!memcmp(a, b, size))
		return -1;
	for (i = 0; i < size && x[i] == y[i]; i++)
		;
	return (int64_t)i;
}

/* Index of the first byte of @p that is not @c, or -1. */
static inline int64_t tern_first_not(const void *p, int c, uint64_t size)
{
	const unsigned char *b = p;
	uint64_t i;

	for (i = 0; i < size; i++)
		if (b[i] != (unsigned char)c)
			return (int64_t)i;
	return -1;
}

/* Logs several lines of program output as TAP diagnostics ("# " lines). */
static inline void tern_log_block(const char *title, const char *text)
{
	const char *p = text, *nl;

	fprintf(stderr, "# %s\n", title);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		fprintf(stderr, "#   %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/*
 * Free the devcoredumps of PCI device @pci (a recovery writes one). With
 * @reason, each one's text must contain it (else it is logged). Returns how
 * many were freed, or -1 if one lacked @reason or could not be freed.
 */
static inline int tern_coredump_take(const char *pci, const char *reason)
{
	char path[300], dev[64], *text;
	int freed = 0, bad = 0, fd;
	struct dirent *de;
	DIR *dir;

	dir = opendir("/sys/class/devcoredump");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		size_t len = 0, cap = 1 << 20;
		ssize_t n;

		if (strncmp(de->d_name, "devcd", 5))
			continue;
		snprintf(path, sizeof(path), "/sys/class/devcoredump/%s/failing_device",
			 de->d_name);
		tern_link_basename(path, dev, sizeof(dev));
		if (strcmp(dev, pci))
			continue;
		snprintf(path, sizeof(path), "/sys/class/devcoredump/%s/data", de->d_name);
		fd = open(path, (reason ? O_RDWR : O_WRONLY) | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (reason) {
			text = calloc(1, cap + 1);
			while (text && len < cap && (n = read(fd, text + len, cap - len)) > 0)
				len += n;
			if (!text || !strstr(text, reason)) {
				bad = 1;
				tern_log_block("devcoredump without the reason", text ? text : "");
			}
			free(text);
		}
		if (write(fd, "1", 1) == 1)
			freed++;
		else
			bad = 1;
		close(fd);
	}
	closedir(dir);
	return bad ? -1 : freed;
}

#endif /* TERN_TEST_H */
