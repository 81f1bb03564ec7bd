/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the fabric kselftests (tern_link, tern_coll,
 * tern_dp_train), which run in the fabric VM (tests/vm/run-vm.sh fabric):
 *
 *  - requests to the host through the QMP relay (tests/vm/qmp-relay.py):
 *    tern_vm_set_link_down() takes link ports of a chip down (or up again)
 *    at run time, tern_vm_qom_get_u64()/tern_vm_qom_get() read a property
 *    of a chip's QEMU device. The relay reads request files from
 *    $TERN_OUT/relay/ (the results share) and answers in files beside them;
 *    every call returns 0 or a negative errno: -ENOSYS when no relay runs
 *    (the tests then SKIP what needs it), -EIO when QEMU refused (the
 *    message is in tern_vm_error()), -ETIMEDOUT when no answer came.
 *  - finding a chip: tern_vm_chip_minor() / tern_vm_chip_index() map a
 *    chip id (the device's chip-id property, device tern<N> has chip-id N
 *    in the VMs of run-vm.sh) to its accel minor / libtern device index.
 *
 * Self-contained (needs only libc and the UAPI header): usable from the
 * raw-UAPI tests and from the libtern tests, before or after
 * kselftest_harness.h. Everything is static; nothing keeps state across
 * calls except the last error message (per thread).
 */
#ifndef TERN_FABRIC_TEST_H
#define TERN_FABRIC_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tern_accel.h"

/** Most tern devices the helpers look at. */
#define TERN_VM_MAX_CHIPS	64

/** Seconds to wait for the relay's answer (TERN_VM_RELAY_TIMEOUT overrides). */
#define TERN_VM_RELAY_TIMEOUT_S	20

static __thread char tern_vm_errbuf[256];

/** tern_vm_error() - what the last failing relay call of this thread said. */
static inline const char *tern_vm_error(void)
{
	return tern_vm_errbuf;
}

static inline int __attribute__((format(printf, 2, 3)))
tern_vm_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tern_vm_errbuf, sizeof(tern_vm_errbuf), fmt, ap);
	va_end(ap);
	return err;
}

/* The relay's directory in the results share, or NULL without $TERN_OUT. */
static inline const char *tern_vm_relay_dir(char *buf, size_t len)
{
	const char *out = getenv("TERN_OUT");

	if (!out || !*out)
		return NULL;
	if ((size_t)snprintf(buf, len, "%s/relay", out) >= len)
		return NULL;
	return buf;
}

/**
 * tern_vm_relay_available() - is a QMP relay serving this guest?
 *
 * Return: 1 when $TERN_OUT/relay/ready exists, else 0.
 */
static inline int tern_vm_relay_available(void)
{
	char dir[512], path[600];
	struct stat st;

	if (!tern_vm_relay_dir(dir, sizeof(dir)))
		return 0;
	snprintf(path, sizeof(path), "%s/ready", dir);
	return stat(path, &st) == 0;
}

static inline double tern_vm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * tern_vm_request() - send one request line to the relay, wait for its answer
 * @line: "qom-get CHIP PROP" or "qom-set CHIP PROP VALUE" (no newline)
 * @answer: receives what follows "ok " in the answer (may be NULL)
 * @len: bytes at @answer
 *
 * Return: 0, -ENOSYS without a relay, -EIO when the relay or QEMU refused
 * (tern_vm_error() says why), -ETIMEDOUT, or another -errno of the files.
 */
static inline int tern_vm_request(const char *line, char *answer, size_t len)
{
	static unsigned int seq;
	char dir[512], tmp[640], req[640], resp[640], buf[512];
	const char *env;
	double deadline;
	unsigned int n;
	ssize_t got;
	int fd, err;

	tern_vm_errbuf[0] = '\0';
	if (!tern_vm_relay_dir(dir, sizeof(dir)) || !tern_vm_relay_available())
		return tern_vm_fail(-ENOSYS, "no QMP relay (run in the VM of tests/vm/run-vm.sh)");
	n = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-req-%d-%ld-%u", dir, (int)getpid(),
		 (long)gettid(), n);
	snprintf(req, sizeof(req), "%s/req-%d-%ld-%u", dir, (int)getpid(), (long)gettid(), n);
	snprintf(resp, sizeof(resp), "%s/resp-%d-%ld-%u", dir, (int)getpid(), (long)gettid(), n);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return tern_vm_fail(-errno, "create %s: %s", tmp, strerror(errno));
	snprintf(buf, sizeof(buf), "%s\n", line);
	got = write(fd, buf, strlen(buf));
	err = got == (ssize_t)strlen(buf) ? 0 : (got < 0 ? -errno : -EIO);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, req))
		err = -errno;
	if (err) {
		unlink(tmp);
		return tern_vm_fail(err, "write %s: %s", req, strerror(-err));
	}

	env = getenv("TERN_VM_RELAY_TIMEOUT");
	deadline = tern_vm_now() + (env && atoi(env) > 0 ? atoi(env) : TERN_VM_RELAY_TIMEOUT_S);
	for (;;) {
		fd = open(resp, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != ENOENT)
			return tern_vm_fail(-errno, "open %s: %s", resp, strerror(errno));
		if (tern_vm_now() > deadline) {
			/* Take the request back; the relay may still answer late. */
			unlink(req);
			return tern_vm_fail(-ETIMEDOUT, "no answer from the QMP relay to \"%s\"",
					    line);
		}
		usleep(10000);
	}
	got = read(fd, buf, sizeof(buf) - 1);
	if (got < 0) {
		err = -errno;
		close(fd);
		unlink(resp);
		return tern_vm_fail(err, "read %s: %s", resp, strerror(-err));
	}
	close(fd);
	unlink(resp);
	buf[got < (ssize_t)sizeof(buf) ? got : (ssize_t)sizeof(buf) - 1] = '\0';
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		buf[--got] = '\0';
	if (!strncmp(buf, "ok", 2) && (buf[2] == '\0' || buf[2] == ' ')) {
		if (answer && len) {
			const char *val = buf[2] ? buf + 3 : "";
			size_t k = strlen(val);

			if (k >= len)
				k = len - 1;
			memcpy(answer, val, k);
			answer[k] = '\0';
		}
		return 0;
	}
	return tern_vm_fail(-EIO, "QMP relay: \"%s\": %s", line,
			    strncmp(buf, "error ", 6) ? buf : buf + 6);
}

/**
 * tern_vm_set_link_down() - set the link-down port mask of a chip
 * @chip: chip id (QEMU device tern<chip>)
 * @mask: bit p takes port p down; 0 brings every port of the chip up
 *
 * QMP qom-set /machine/peripheral/tern<chip> link-down <mask>. A link is
 * down when either end says so.
 *
 * Return: 0 or a negative errno (see tern_vm_request()).
 */
static inline int tern_vm_set_link_down(unsigned int chip, uint32_t mask)
{
	char line[96];

	snprintf(line, sizeof(line), "qom-set %u link-down %" PRIu32, chip, mask);
	return tern_vm_request(line, NULL, 0);
}

/**
 * tern_vm_qom_get() - read a property of a chip's QEMU device as text
 *
 * Return: 0 or a negative errno (see tern_vm_request()).
 */
static inline int tern_vm_qom_get(unsigned int chip, const char *prop, char *buf, size_t len)
{
	char line[160];

	if (strlen(prop) > 64)
		return tern_vm_fail(-EINVAL, "property name too long");
	snprintf(line, sizeof(line), "qom-get %u %s", chip, prop);
	return tern_vm_request(line, buf, len);
}

/**
 * tern_vm_qom_get_u64() - read a numeric property of a chip's QEMU device
 *
 * Return: 0, -EINVAL when the value is not a number, or a negative errno
 * (see tern_vm_request()).
 */
static inline int tern_vm_qom_get_u64(unsigned int chip, const char *prop, uint64_t *val)
{
	char buf[128], *end;
	unsigned long long v;
	int err;

	err = tern_vm_qom_get(chip, prop, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end || buf[0] == '-')
		return tern_vm_fail(-EINVAL, "tern%u.%s = \"%s\" is not a number", chip, prop, buf);
	*val = v;
	return 0;
}

/* ---- finding chips ---- */

static inline int tern_vm_cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/**
 * tern_vm_minors() - accel minors bound to tern.ko, sorted (libtern's
 * device index order)
 *
 * Return: how many (at most @max).
 */
static inline int tern_vm_minors(unsigned int *minors, int max)
{
	char path[128], target[256];
	struct dirent *de;
	unsigned int minor;
	const char *base;
	int n = 0;
	ssize_t len;
	char tail;
	DIR *dir;

	dir = opendir("/sys/class/accel");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		if (sscanf(de->d_name, "accel%u%c", &minor, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/driver", minor);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		base = strrchr(target, '/');
		if (!strcmp(base ? base + 1 : target, "tern"))
			minors[n++] = minor;
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), tern_vm_cmp_uint);
	return n;
}

/* A decimal sysfs file; 0 or -errno. */
static inline int tern_vm_read_uint(const char *path, unsigned int *val)
{
	char buf[32], *end;
	unsigned long v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n') || v > UINT32_MAX)
		return -EINVAL;
	*val = (unsigned int)v;
	return 0;
}

/**
 * tern_vm_minor_chip_id() - chip id of accel minor @minor
 *
 * From sysfs (device/tern/chip_id, or device/chip_id), else from
 * DRM_IOCTL_TERN_GET_INFO on /dev/accel/accel<minor>.
 *
 * Return: 0 or a negative errno.
 */
static inline int tern_vm_minor_chip_id(unsigned int minor, unsigned int *chip_id)
{
	static const char *const attrs[] = { "tern/chip_id", "chip_id" };
	struct drm_tern_info info;
	char path[128];
	unsigned int i;
	int fd, ret;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/%s", minor, attrs[i]);
		if (!tern_vm_read_uint(path, chip_id))
			return 0;
	}
	snprintf(path, sizeof(path), "/dev/accel/accel%u", minor);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = ioctl(fd, DRM_IOCTL_TERN_GET_INFO, &info) ? -errno : 0;
	close(fd);
	if (!ret)
		*chip_id = info.chip_id;
	return ret;
}

/**
 * tern_vm_chip_index() - libtern device index (position in minor order) of
 * the device with chip id @chip_id
 * @minorp: receives its accel minor (may be NULL)
 *
 * Return: the index, or -ENOENT when no tern device has that chip id.
 */
static inline int tern_vm_chip_index(unsigned int chip_id, unsigned int *minorp)
{
	unsigned int minors[TERN_VM_MAX_CHIPS], id = 0;
	int n, i;

	n = tern_vm_minors(minors, TERN_VM_MAX_CHIPS);
	for (i = 0; i < n; i++) {
		if (tern_vm_minor_chip_id(minors[i], &id) || id != chip_id)
			continue;
		if (minorp)
			*minorp = minors[i];
		return i;
	}
	return -ENOENT;
}

/**
 * tern_vm_chip_minor() - accel minor of the device with chip id @chip_id
 *
 * Return: the minor, or -ENOENT.
 */
static inline int tern_vm_chip_minor(unsigned int chip_id)
{
	unsigned int minor;
	int idx = tern_vm_chip_index(chip_id, &minor);

	return idx < 0 ? idx : (int)minor;
}

/**
 * tern_vm_chip_node() - "/dev/accel/accelN" of the device with chip id @chip_id
 *
 * Return: 0 or -ENOENT.
 */
static inline int tern_vm_chip_node(unsigned int chip_id, char *node, size_t len)
{
	int minor = tern_vm_chip_minor(chip_id);

	if (minor < 0)
		return minor;
	snprintf(node, len, "/dev/accel/accel%d", minor);
	return 0;
}

/**
 * tern_vm_chip_indices() - libtern device index of each chip id
 * @index: index[c] receives the device index of chip c, or -1
 * @max: entries of @index
 *
 * Return: how many devices were found with a chip id below @max.
 */
static inline int tern_vm_chip_indices(int *index, unsigned int max)
{
	unsigned int minors[TERN_VM_MAX_CHIPS], id = 0;
	int n, i, found = 0;

	for (id = 0; id < max; id++)
		index[id] = -1;
	n = tern_vm_minors(minors, TERN_VM_MAX_CHIPS);
	for (i = 0; i < n; i++) {
		if (tern_vm_minor_chip_id(minors[i], &id) || id >= max || index[id] >= 0)
			continue;
		index[id] = i;
		found++;
	}
	return found;
}

#endif /* TERN_FABRIC_TEST_H */
