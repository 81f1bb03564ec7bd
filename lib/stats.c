// SPDX-License-Identifier: MIT
/*
 * libtern telemetry: a device's counters from sysfs and hwmon
 * (tern_device_stats()) and the open files of every tern device from
 * /proc/<pid>/fdinfo (tern_clients()). Neither opens a device node, so both
 * work for users without access to /dev/accel.
 *
 * The attributes (Documentation/driver.rst, "Telemetry"), all under
 * /sys/class/accel/accelN/device/:
 *   tern/      hbm_total hbm_used bo_count jobs_* device_errors num_*  (required)
 *              host_used kernel_used mmu_faults time_ns ecc_* clock_hz  (telemetry)
 *   dma<e>/    busy_ns bytes descs                                      (telemetry)
 *   queue<q>/  h2d_bytes d2h_bytes d2d_bytes h2h_bytes link_bytes
 *              descs_done descs_failed                                  (telemetry)
 *   core<c>/   cycles_{tensor,vector,scalar,dma} wall_ns launches
 *              launches_failed                                          (telemetry)
 *   hwmon/hwmonN/ (name "tern") temp1_input temp1_crit power1_input power1_cap
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tern_internal.h"

/* Reads the first line of @path into @buf. Returns 0 or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

/* An integer attribute; -ENOENT if it does not exist, -EIO if it is not a number. */
static int read_s64(const char *path, int64_t *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || end == buf || *end)
		return tern_fail(-EIO, "%s: not a number: \"%s\"", path, buf);
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end || buf[0] == '-')
		return tern_fail(-EIO, "%s: not a number: \"%s\"", path, buf);
	return 0;
}

/* Error of a required attribute that could not be read. */
static int attr_error(const char *path, int err, const char *what)
{
	if (err == -ENOENT)
		return tern_fail(-EOPNOTSUPP, "%s does not exist: the tern driver has no %s",
				 path, what);
	if (err == -EIO)
		return err;	/* already described */
	return tern_fail(err, "cannot read %s: %s", path, strerror(-err));
}

/* Reads @dir/@name, which must exist, into @v. */
static int need_u64(const char *dir, const char *name, const char *what, uint64_t *v)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = read_u64(path, v);
	return ret ? attr_error(path, ret, what) : 0;
}

static int need_uint(const char *dir, const char *name, const char *what, unsigned int max,
		     unsigned int *v)
{
	uint64_t x;
	int ret = need_u64(dir, name, what, &x);

	if (ret)
		return ret;
	*v = x > max ? max : (unsigned int)x;
	return 0;
}

#define REQUIRED	"job, memory and error counters (is tern.ko too old?)"
#define TELEMETRY	"complete telemetry attributes (tern.ko and libtern differ?)"

static int read_base(const char *dev, struct tern_stats *st)
{
	char dir[PATH_MAX];
	int ret;

	snprintf(dir, sizeof(dir), "%s/tern", dev);
	if ((ret = need_u64(dir, "hbm_total", REQUIRED, &st->hbm_total)) ||
	    (ret = need_u64(dir, "hbm_used", REQUIRED, &st->hbm_used)) ||
	    (ret = need_u64(dir, "bo_count", REQUIRED, &st->bo_count)) ||
	    (ret = need_u64(dir, "jobs_submitted", REQUIRED, &st->jobs_submitted)) ||
	    (ret = need_u64(dir, "jobs_completed", REQUIRED, &st->jobs_completed)) ||
	    (ret = need_u64(dir, "jobs_failed", REQUIRED, &st->jobs_failed)) ||
	    (ret = need_u64(dir, "device_errors", REQUIRED, &st->device_errors)) ||
	    (ret = need_uint(dir, "num_cores", REQUIRED, TERN_STATS_MAX_CORES, &st->num_cores)) ||
	    (ret = need_uint(dir, "num_dma_engines", REQUIRED, TERN_STATS_MAX_ENGINES,
			     &st->num_dma_engines)))
		return ret;
	return 0;
}

static int read_telemetry(const char *dev, struct tern_stats *st)
{
	static const char *const cycles[4] = {
		"cycles_tensor", "cycles_vector", "cycles_scalar", "cycles_dma",
	};
	char dir[PATH_MAX];
	struct stat sb;
	unsigned int i, n;
	int ret;

	snprintf(dir, sizeof(dir), "%s/tern", dev);
	if ((ret = need_u64(dir, "time_ns", TELEMETRY, &st->time_ns)) ||
	    (ret = need_u64(dir, "clock_hz", TELEMETRY, &st->clock_hz)) ||
	    (ret = need_u64(dir, "host_used", TELEMETRY, &st->host_used)) ||
	    (ret = need_u64(dir, "kernel_used", TELEMETRY, &st->kernel_used)) ||
	    (ret = need_u64(dir, "mmu_faults", TELEMETRY, &st->mmu_faults)) ||
	    (ret = need_u64(dir, "ecc_corrected", TELEMETRY, &st->ecc_corrected)) ||
	    (ret = need_u64(dir, "ecc_uncorrected", TELEMETRY, &st->ecc_uncorrected)))
		return ret;

	for (i = 0; i < st->num_dma_engines; i++) {
		snprintf(dir, sizeof(dir), "%s/dma%u", dev, i);
		if ((ret = need_u64(dir, "busy_ns", TELEMETRY, &st->dma_busy_ns[i])) ||
		    (ret = need_u64(dir, "bytes", TELEMETRY, &st->dma_bytes[i])) ||
		    (ret = need_u64(dir, "descs", TELEMETRY, &st->dma_descs[i])))
			return ret;
	}

	/* Every queue of the chip, the user queues' too: queue0, queue1, ... */
	for (n = 0; n < TERN_STATS_MAX_QUEUES; n++) {
		struct tern_queue_stats *q = &st->queue[n];

		snprintf(dir, sizeof(dir), "%s/queue%u", dev, n);
		if (stat(dir, &sb))
			break;
		if ((ret = need_u64(dir, "h2d_bytes", TELEMETRY, &q->h2d_bytes)) ||
		    (ret = need_u64(dir, "d2h_bytes", TELEMETRY, &q->d2h_bytes)) ||
		    (ret = need_u64(dir, "d2d_bytes", TELEMETRY, &q->d2d_bytes)) ||
		    (ret = need_u64(dir, "h2h_bytes", TELEMETRY, &q->h2h_bytes)) ||
		    (ret = need_u64(dir, "link_bytes", TELEMETRY, &q->link_bytes)) ||
		    (ret = need_u64(dir, "descs_done", TELEMETRY, &q->descs_done)) ||
		    (ret = need_u64(dir, "descs_failed", TELEMETRY, &q->descs_failed)))
			return ret;
	}
	if (n == 0)
		return tern_fail(-EOPNOTSUPP, "%s/queue0 does not exist: the tern driver has no %s",
				 dev, TELEMETRY);
	st->num_queues = n;

	for (i = 0; i < st->num_cores; i++) {
		struct tern_core_stats *c = &st->core[i];
		unsigned int e;

		snprintf(dir, sizeof(dir), "%s/core%u", dev, i);
		for (e = 0; e < 4; e++)
			if ((ret = need_u64(dir, cycles[e], TELEMETRY, &c->cycles[e])))
				return ret;
		if ((ret = need_u64(dir, "wall_ns", TELEMETRY, &c->wall_ns)) ||
		    (ret = need_u64(dir, "launches", TELEMETRY, &c->launches)) ||
		    (ret = need_u64(dir, "launches_failed", TELEMETRY, &c->launches_failed)))
			return ret;
	}
	st->flags |= TERN_STATS_TELEMETRY;
	return 0;
}

/* The device's hwmon directory named "tern" into @out; 0, or -ENOENT without one. */
static int find_hwmon(const char *dev, char *out, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], name[64];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/hwmon", dev);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hwmon", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", dir, de->d_name);
		if (read_line(path, name, sizeof(name)) || strcmp(name, TERN_DRIVER_NAME) != 0)
			continue;
		if (snprintf(out, len, "%s/%s", dir, de->d_name) >= (int)len)
			continue;
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

static int read_hwmon(const char *dev, struct tern_stats *st)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int64_t v[4];
	static const char *const names[4] = {
		"temp1_input", "temp1_crit", "power1_input", "power1_cap",
	};
	unsigned int i;
	int ret;

	if (find_hwmon(dev, dir, sizeof(dir)))
		return 0;	/* no hwmon (a kernel without it): flags say so */
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = read_s64(path, &v[i]);
		if (ret)
			return attr_error(path, ret, "complete hwmon attributes");
	}
	st->temp_mc = v[0];
	st->temp_max_mc = v[1];
	st->power_mw = v[2] > 0 ? (uint64_t)v[2] / 1000 : 0;	/* hwmon power is in uW */
	st->power_max_mw = v[3] > 0 ? (uint64_t)v[3] / 1000 : 0;
	st->flags |= TERN_STATS_HWMON;
	return 0;
}

TERN_EXPORT int tern_device_stats(unsigned int index, struct tern_stats *st)
{
	unsigned int minors[TERN_MAX_DEVICES];
	char dev[128], path[160];
	struct stat sb;
	int count, ret;

	if (!st)
		return tern_fail(-EINVAL, "tern_device_stats: st is NULL");
	memset(st, 0, sizeof(*st));
	count = tern_scan_minors(minors, TERN_MAX_DEVICES);
	if (count < 0)
		return count;
	if (index >= (unsigned int)count)
		return tern_fail(-ENODEV, "no tern device with index %u (%d found%s)", index, count,
				 count ? "" : "; is tern.ko loaded?");
	snprintf(dev, sizeof(dev), TERN_SYSFS_ACCEL "/accel%u/device", minors[index]);

	ret = read_base(dev, st);
	if (ret)
		goto gone;
	/* The telemetry attributes come as a whole: tern/time_ns says whether. */
	snprintf(path, sizeof(path), "%s/tern/time_ns", dev);
	if (stat(path, &sb) == 0) {
		ret = read_telemetry(dev, st);
		if (ret)
			goto gone;
	}
	ret = read_hwmon(dev, st);
	if (ret)
		goto gone;
	return 0;

gone:
	/* The device was unbound while we read it: say so rather than blame the driver. */
	snprintf(path, sizeof(path), "%s/tern", dev);
	if (stat(path, &sb) && errno == ENOENT)
		ret = tern_fail(-ENODEV, "tern device %u (accel%u) went away while being read",
				index, minors[index]);
	memset(st, 0, sizeof(*st));
	return ret;
}

/* ---- tern_clients() ---- */

struct tern_node {
	dev_t rdev;
	unsigned int index;
};

/* The char device numbers of the tern devices (sysfs accelN/dev). */
static int tern_nodes(struct tern_node *nodes, unsigned int max)
{
	unsigned int minors[TERN_MAX_DEVICES], maj, mnr;
	char path[96], buf[32];
	int count, i, n = 0;

	count = tern_scan_minors(minors, TERN_MAX_DEVICES);
	if (count < 0)
		return count;
	for (i = 0; i < count && (unsigned int)n < max; i++) {
		snprintf(path, sizeof(path), TERN_SYSFS_ACCEL "/accel%u/dev", minors[i]);
		if (read_line(path, buf, sizeof(buf)) || sscanf(buf, "%u:%u", &maj, &mnr) != 2)
			continue;	/* unbound meanwhile */
		nodes[n].rdev = makedev(maj, mnr);
		nodes[n].index = (unsigned int)i;
		n++;
	}
	return n;
}

/* "1234 KiB" and the like: a size in bytes (drm-usage-stats: no unit = bytes). */
static int parse_size(const char *s, uint64_t *v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	char *end;
	unsigned int u;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (!*end)
		return 0;
	for (u = 0; u < 4; u++)
		if (strcmp(end, units[u]) == 0) {
			*v <<= 10 * (u + 1);
			return 0;
		}
	return -EINVAL;
}

/* "1234 ns" (drm-engine-*) or "1234" (drm-cycles-*, drm-client-id). */
static int parse_num(const char *s, const char *unit, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (unit && strcmp(end, unit) == 0)
		return 0;
	return *end ? -EINVAL : 0;
}

/*
 * Parses /proc/<pid>/fdinfo/<fd> of a tern file into @c. Returns 1 when it
 * is a tern DRM client, 0 when it is not (or is gone), never an error: a
 * process may close its file while we read.
 */
static int parse_fdinfo(const char *path, struct tern_client *c)
{
	char line[256], *val;
	bool tern = false, id = false;
	uint64_t v;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		val = strchr(line, ':');
		if (!val)
			continue;
		*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		if (strcmp(line, "drm-driver") == 0)
			tern = strcmp(val, TERN_DRIVER_NAME) == 0;
		else if (strcmp(line, "drm-client-id") == 0)
			id = parse_num(val, NULL, &c->client_id) == 0;
		else if (strcmp(line, "drm-engine-dma") == 0 && !parse_num(val, "ns", &v))
			c->engine_ns[0] = v;
		else if (strcmp(line, "drm-engine-compute") == 0 && !parse_num(val, "ns", &v))
			c->engine_ns[1] = v;
		else if (strcmp(line, "drm-cycles-compute") == 0 && !parse_num(val, NULL, &v))
			c->cycles = v;
		else if (strcmp(line, "drm-total-hbm") == 0 && !parse_size(val, &v))
			c->hbm_bytes = v;
		else if (strcmp(line, "drm-total-host") == 0 && !parse_size(val, &v))
			c->host_bytes = v;
	}
	fclose(f);
	return tern && id;
}

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_line(path, comm, len))
		snprintf(comm, len, "?");
}

/* Adds the tern files of process @pid; returns the new count. */
static unsigned int scan_pid(int pid, const struct tern_node *nodes, unsigned int nnodes,
			     struct tern_client *clients, unsigned int max, unsigned int count,
			     uint64_t **seen, unsigned int *nseen, unsigned int *cap)
{
	char dir[64], path[128];
	struct tern_client c;
	struct dirent *de;
	struct stat sb;
	unsigned int i;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return count;	/* another user's process, or gone */
	while ((de = readdir(d))) {
		char *end;
		long fd;

		errno = 0;
		fd = strtol(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end || errno || fd > INT_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%ld", dir, fd);
		/* stat() follows the fd to the node, wherever it was opened from. */
		if (stat(path, &sb) || !S_ISCHR(sb.st_mode))
			continue;
		for (i = 0; i < nnodes; i++)
			if (nodes[i].rdev == sb.st_rdev)
				break;
		if (i == nnodes)
			continue;
		memset(&c, 0, sizeof(c));
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%ld", pid, fd);
		if (!parse_fdinfo(path, &c))
			continue;
		c.pid = pid;
		c.index = nodes[i].index;
		/* One entry per client: (device, client id) seen before? */
		for (i = 0; i < *nseen; i++)
			if ((*seen)[2 * i] == c.index && (*seen)[2 * i + 1] == c.client_id)
				break;
		if (i < *nseen)
			continue;
		if (*nseen == *cap) {
			unsigned int ncap = *cap ? *cap * 2 : 64;
			uint64_t *n = realloc(*seen, ncap * 2 * sizeof(**seen));

			if (!n)
				continue;	/* counted twice at worst */
			*seen = n;
			*cap = ncap;
		}
		(*seen)[2 * *nseen] = c.index;
		(*seen)[2 * *nseen + 1] = c.client_id;
		(*nseen)++;
		read_comm(pid, c.comm, sizeof(c.comm));
		if (count < max)
			clients[count] = c;
		count++;
	}
	closedir(d);
	return count;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct tern_client *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

TERN_EXPORT int tern_clients(struct tern_client *clients, unsigned int max)
{
	struct tern_node nodes[TERN_MAX_DEVICES];
	unsigned int count = 0, nseen = 0, cap = 0;
	uint64_t *seen = NULL;
	struct dirent *de;
	int nnodes, pid;
	char *end;
	DIR *d;

	if (!clients && max)
		return tern_fail(-EINVAL, "tern_clients: clients is NULL");
	nnodes = tern_nodes(nodes, TERN_MAX_DEVICES);
	if (nnodes <= 0)
		return nnodes;
	d = opendir("/proc");
	if (!d)
		return tern_fail(-errno, "cannot read /proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		errno = 0;
		pid = (int)strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || errno)
			continue;
		count = scan_pid(pid, nodes, (unsigned int)nnodes, clients, max, count,
				 &seen, &nseen, &cap);
	}
	closedir(d);
	free(seen);
	if (max)
		qsort(clients, count < max ? count : max, sizeof(*clients), cmp_pid);
	return count > INT_MAX ? INT_MAX : (int)count;
}
