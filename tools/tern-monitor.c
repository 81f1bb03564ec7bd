// SPDX-License-Identifier: MIT
/*
 * tern-monitor: periodic reports of every tern device's counters, for
 * collectors and dashboards.
 *
 *   tern-monitor                 one JSON object per line every second:
 *                                {"time", "period_s", "devices": [{"index",
 *                                "chip_id", "stats", "rates", "clients"}]}
 *   tern-monitor --prometheus    the Prometheus text exposition format
 *                                (tern_* metrics), one exposition per period
 *   -p SECONDS   period; -n COUNT  reports, then exit (0: forever)
 *   -g GROUPS    device,cores,dma,queues,links,clients,hw (default all)
 *
 * Everything is read from sysfs, hwmon (tern_device_stats()) and
 * /proc/<pid>/fdinfo (tern_clients()): no device is opened, so no
 * permission on /dev/accel is needed; only processes the caller may
 * inspect are listed as clients. Rates are differences over the period
 * divided by its length; the first report's rates cover the first period.
 *
 * Exit status: 0 after COUNT reports, 1 without devices or when a device
 * cannot be read at the start (the message says why), 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "tern.h"

#define MAX_DEVICES	64
#define MAX_LINKS	TERN_MAX_LINK_PORTS
#define MAX_CLIENTS	1024

/* Metric groups (-g). */
#define G_DEVICE	(1u << 0)
#define G_CORES		(1u << 1)
#define G_DMA		(1u << 2)
#define G_QUEUES	(1u << 3)
#define G_LINKS		(1u << 4)
#define G_CLIENTS	(1u << 5)
#define G_HW		(1u << 6)
#define G_ALL		0x7fu

static const char *const group_names[] = {
	"device", "cores", "dma", "queues", "links", "clients", "hw",
};

static const char *const engine_names[4] = { "tensor", "vector", "scalar", "dma" };
static const char *const dir_names[5] = { "h2d", "d2h", "d2d", "h2h", "link" };

struct link_stats {
	unsigned int port;
	char state[16];
	int64_t peer_chip;		/* -1: none */
	uint64_t tx_bytes, rx_bytes, busy_ns, errors;
};

/* One sample of one device. */
struct sample {
	int err;			/* tern_device_stats() failed: the message is in @msg */
	char msg[256];
	struct tern_stats st;
	unsigned int nlinks;
	struct link_stats link[MAX_LINKS];
};

struct device {
	unsigned int index, minor;
	unsigned int chip_id;
	char pci[32];
	struct sample cur, prev;
};

static struct device devs[MAX_DEVICES];
static unsigned int ndevs;
static struct tern_client clients_cur[MAX_CLIENTS], clients_prev[MAX_CLIENTS];
static unsigned int nclients_cur, nclients_prev;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-monitor [-p SECONDS] [-n COUNT] [-g GROUPS] [--prometheus] [--help]\n"
		"Report the counters of every tern device periodically: one JSON object per\n"
		"line (default) or the Prometheus text exposition format.\n"
		"\n"
		"  -p, --period SECONDS  time between reports (default 1; fractions allowed)\n"
		"  -n, --count COUNT     print COUNT reports, then exit (default 0: forever)\n"
		"  -g, --groups GROUPS   comma list of metric groups (default all):\n"
		"                          device   jobs, errors, memory used, buffers\n"
		"                          hw       temperature, power, ECC errors\n"
		"                          dma      per DMA engine: busy time, bytes, descriptors\n"
		"                          queues   per queue: bytes by direction, descriptors\n"
		"                          cores    per core: busy cycles by engine, launches\n"
		"                          links    per link port: state, bytes, errors\n"
		"                          clients  per open file: pid, memory, engine time\n"
		"  -P, --prometheus      Prometheus text format instead of JSON lines\n"
		"  -j, --json            JSON lines (the default)\n"
		"  -h, --help            print this help\n"
		"\n"
		"Exit status: 0 after COUNT reports, 1 without devices or when one cannot\n"
		"be read, 2 for a bad command line.\n");
}

/* ---- Reading ---- */

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_num(const char *path, int64_t *v)
{
	char buf[64], *end;

	if (read_line(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return errno || end == buf || *end ? -1 : 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/*
 * The tern devices in libtern's order (accel minors bound to tern, sorted),
 * with what sysfs says of them. Returns how many.
 */
static unsigned int find_devices(void)
{
	unsigned int minors[MAX_DEVICES], n = 0, i, minor;
	char path[300], target[PATH_MAX], *base, tail;
	struct dirent *de;
	int64_t v;
	DIR *dir;

	dir = opendir("/sys/class/accel");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < MAX_DEVICES) {
		ssize_t len;

		if (sscanf(de->d_name, "accel%u%c", &minor, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/driver", minor);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		base = strrchr(target, '/');
		if (strcmp(base ? base + 1 : target, "tern") == 0)
			minors[n++] = minor;
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), cmp_uint);
	for (i = 0; i < n; i++) {
		struct device *d = &devs[i];
		ssize_t len;

		d->index = i;
		d->minor = minors[i];
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/tern/chip_id",
			 d->minor);
		d->chip_id = read_num(path, &v) ? 0 : (unsigned int)v;
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device", d->minor);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		base = strrchr(target, '/');
		snprintf(d->pci, sizeof(d->pci), "%.31s", base ? base + 1 : target);
	}
	return n;
}

/* The link ports from sysfs device/link<p>/; ports that cannot be read are left out. */
static void read_links(struct device *d, struct sample *s)
{
	char dir[128], path[192];
	int64_t num, v[5];
	static const char *const names[5] = {
		"peer_chip", "tx_bytes", "rx_bytes", "busy_ns", "errors",
	};
	unsigned int p, i;

	s->nlinks = 0;
	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/tern/num_links", d->minor);
	if (read_num(path, &num) || num <= 0)
		return;
	for (p = 0; p < (unsigned int)num && s->nlinks < MAX_LINKS; p++) {
		struct link_stats *l = &s->link[s->nlinks];

		snprintf(dir, sizeof(dir), "/sys/class/accel/accel%u/device/link%u", d->minor, p);
		snprintf(path, sizeof(path), "%s/state", dir);
		if (read_line(path, l->state, sizeof(l->state)))
			continue;
		for (i = 0; i < 5; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (read_num(path, &v[i]))
				v[i] = -1;
		}
		l->port = p;
		l->peer_chip = v[0];
		l->tx_bytes = v[1] > 0 ? (uint64_t)v[1] : 0;
		l->rx_bytes = v[2] > 0 ? (uint64_t)v[2] : 0;
		l->busy_ns = v[3] > 0 ? (uint64_t)v[3] : 0;
		l->errors = v[4] > 0 ? (uint64_t)v[4] : 0;
		s->nlinks++;
	}
}

static void sample_device(struct device *d, unsigned int groups)
{
	struct sample *s = &d->cur;

	s->err = tern_device_stats(d->index, &s->st);
	if (s->err)
		snprintf(s->msg, sizeof(s->msg), "%s", tern_last_error());
	else
		s->msg[0] = '\0';
	if (groups & G_LINKS)
		read_links(d, s);
	else
		s->nlinks = 0;
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A counter's growth; a counter that went back (the device was reset) counts from 0. */
static uint64_t delta(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : cur;
}

/* ---- JSON ---- */

/* Rates are per second over @dt; @busy is a share of @dt_ns as a percentage. */
struct period {
	double dt;			/* seconds between the two samples */
	double dev_dt;			/* the device clock's seconds, or dt */
};

static double rate(uint64_t cur, uint64_t prev, double dt)
{
	return dt > 0 ? (double)delta(cur, prev) / dt : 0;
}

static double percent(uint64_t cur, uint64_t prev, double dt)
{
	double p = dt > 0 ? (double)delta(cur, prev) / (dt * 1e9) * 100 : 0;

	return p > 100 ? 100 : p;	/* the counters and the clock are read apart */
}

#define U64(name, v)	printf(",\"%s\":%" PRIu64, name, (uint64_t)(v))
#define RATE(name, v)	printf(",\"%s\":%.3f", name, (double)(v))

static void json_stats(const struct device *d, unsigned int groups)
{
	const struct tern_stats *st = &d->cur.st;
	unsigned int i, e;

	printf("\"stats\":{\"telemetry\":%s,\"hwmon\":%s",
	       st->flags & TERN_STATS_TELEMETRY ? "true" : "false",
	       st->flags & TERN_STATS_HWMON ? "true" : "false");
	if (groups & G_DEVICE) {
		U64("jobs_submitted", st->jobs_submitted);
		U64("jobs_completed", st->jobs_completed);
		U64("jobs_failed", st->jobs_failed);
		U64("device_errors", st->device_errors);
		U64("hbm_total", st->hbm_total);
		U64("hbm_used", st->hbm_used);
		U64("bo_count", st->bo_count);
		if (st->flags & TERN_STATS_TELEMETRY) {
			U64("host_used", st->host_used);
			U64("kernel_used", st->kernel_used);
			U64("mmu_faults", st->mmu_faults);
			U64("time_ns", st->time_ns);
			U64("clock_hz", st->clock_hz);
		}
	}
	if (groups & G_HW) {
		if (st->flags & TERN_STATS_HWMON) {
			printf(",\"temp_mc\":%" PRId64 ",\"temp_max_mc\":%" PRId64,
			       st->temp_mc, st->temp_max_mc);
			U64("power_mw", st->power_mw);
			U64("power_max_mw", st->power_max_mw);
		}
		if (st->flags & TERN_STATS_TELEMETRY) {
			U64("ecc_corrected", st->ecc_corrected);
			U64("ecc_uncorrected", st->ecc_uncorrected);
		}
	}
	if ((groups & G_DMA) && (st->flags & TERN_STATS_TELEMETRY)) {
		printf(",\"dma\":[");
		for (i = 0; i < st->num_dma_engines; i++)
			printf("%s{\"engine\":%u,\"busy_ns\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"descs\":%" PRIu64 "}", i ? "," : "", i, st->dma_busy_ns[i],
			       st->dma_bytes[i], st->dma_descs[i]);
		printf("]");
	}
	if ((groups & G_QUEUES) && (st->flags & TERN_STATS_TELEMETRY)) {
		printf(",\"queues\":[");
		for (i = 0; i < st->num_queues; i++) {
			const struct tern_queue_stats *q = &st->queue[i];

			printf("%s{\"queue\":%u", i ? "," : "", i);
			U64("h2d_bytes", q->h2d_bytes);
			U64("d2h_bytes", q->d2h_bytes);
			U64("d2d_bytes", q->d2d_bytes);
			U64("h2h_bytes", q->h2h_bytes);
			U64("link_bytes", q->link_bytes);
			U64("descs_done", q->descs_done);
			U64("descs_failed", q->descs_failed);
			printf("}");
		}
		printf("]");
	}
	if ((groups & G_CORES) && (st->flags & TERN_STATS_TELEMETRY)) {
		printf(",\"cores\":[");
		for (i = 0; i < st->num_cores; i++) {
			const struct tern_core_stats *c = &st->core[i];
			char name[32];

			printf("%s{\"core\":%u", i ? "," : "", i);
			for (e = 0; e < 4; e++) {
				snprintf(name, sizeof(name), "cycles_%s", engine_names[e]);
				U64(name, c->cycles[e]);
			}
			U64("wall_ns", c->wall_ns);
			U64("launches", c->launches);
			U64("launches_failed", c->launches_failed);
			printf("}");
		}
		printf("]");
	}
	if (groups & G_LINKS) {
		printf(",\"links\":[");
		for (i = 0; i < d->cur.nlinks; i++) {
			const struct link_stats *l = &d->cur.link[i];

			printf("%s{\"port\":%u,\"state\":", i ? "," : "", l->port);
			json_string(l->state);
			printf(",\"peer_chip\":%" PRId64, l->peer_chip);
			U64("tx_bytes", l->tx_bytes);
			U64("rx_bytes", l->rx_bytes);
			U64("busy_ns", l->busy_ns);
			U64("errors", l->errors);
			printf("}");
		}
		printf("]");
	}
	printf("}");
}

static const struct link_stats *prev_link(const struct sample *s, unsigned int port)
{
	unsigned int i;

	for (i = 0; i < s->nlinks; i++)
		if (s->link[i].port == port)
			return &s->link[i];
	return NULL;
}

static void json_rates(const struct device *d, unsigned int groups, const struct period *pd)
{
	const struct tern_stats *c = &d->cur.st, *p = &d->prev.st;
	bool tel = (c->flags & p->flags & TERN_STATS_TELEMETRY) != 0;
	double dt = pd->dt, ddt = pd->dev_dt;
	unsigned int i, e;

	/* The period by the device's clock, which the utilisations divide by. */
	printf("\"rates\":{\"device_period_s\":%.6f", ddt);
	if (groups & G_DEVICE) {
		RATE("jobs_submitted", rate(c->jobs_submitted, p->jobs_submitted, dt));
		RATE("jobs_completed", rate(c->jobs_completed, p->jobs_completed, dt));
		RATE("jobs_failed", rate(c->jobs_failed, p->jobs_failed, dt));
		RATE("device_errors", rate(c->device_errors, p->device_errors, dt));
		if (tel)
			RATE("mmu_faults", rate(c->mmu_faults, p->mmu_faults, dt));
	}
	if ((groups & G_HW) && tel) {
		RATE("ecc_corrected", rate(c->ecc_corrected, p->ecc_corrected, dt));
		RATE("ecc_uncorrected", rate(c->ecc_uncorrected, p->ecc_uncorrected, dt));
	}
	if ((groups & G_DMA) && tel && c->num_dma_engines == p->num_dma_engines) {
		printf(",\"dma\":[");
		for (i = 0; i < c->num_dma_engines; i++)
			printf("%s{\"engine\":%u,\"bytes\":%.3f,\"descs\":%.3f,\"utilization\":%.2f}",
			       i ? "," : "", i, rate(c->dma_bytes[i], p->dma_bytes[i], dt),
			       rate(c->dma_descs[i], p->dma_descs[i], dt),
			       percent(c->dma_busy_ns[i], p->dma_busy_ns[i], ddt));
		printf("]");
	}
	if ((groups & G_QUEUES) && tel && c->num_queues == p->num_queues) {
		printf(",\"queues\":[");
		for (i = 0; i < c->num_queues; i++) {
			const struct tern_queue_stats *q = &c->queue[i], *o = &p->queue[i];

			printf("%s{\"queue\":%u", i ? "," : "", i);
			RATE("h2d_bytes", rate(q->h2d_bytes, o->h2d_bytes, dt));
			RATE("d2h_bytes", rate(q->d2h_bytes, o->d2h_bytes, dt));
			RATE("d2d_bytes", rate(q->d2d_bytes, o->d2d_bytes, dt));
			RATE("h2h_bytes", rate(q->h2h_bytes, o->h2h_bytes, dt));
			RATE("link_bytes", rate(q->link_bytes, o->link_bytes, dt));
			RATE("descs_done", rate(q->descs_done, o->descs_done, dt));
			RATE("descs_failed", rate(q->descs_failed, o->descs_failed, dt));
			printf("}");
		}
		printf("]");
	}
	if ((groups & G_CORES) && tel && c->num_cores == p->num_cores) {
		printf(",\"cores\":[");
		for (i = 0; i < c->num_cores; i++) {
			const struct tern_core_stats *k = &c->core[i], *o = &p->core[i];
			char name[32];

			printf("%s{\"core\":%u,\"utilization\":%.2f", i ? "," : "", i,
			       percent(k->wall_ns, o->wall_ns, ddt));
			for (e = 0; e < 4; e++) {
				snprintf(name, sizeof(name), "cycles_%s", engine_names[e]);
				RATE(name, rate(k->cycles[e], o->cycles[e], dt));
			}
			RATE("launches", rate(k->launches, o->launches, dt));
			RATE("launches_failed", rate(k->launches_failed, o->launches_failed, dt));
			printf("}");
		}
		printf("]");
	}
	if (groups & G_LINKS) {
		bool first = true;

		printf(",\"links\":[");
		for (i = 0; i < d->cur.nlinks; i++) {
			const struct link_stats *l = &d->cur.link[i], *o = prev_link(&d->prev, l->port);

			if (!o)
				continue;
			printf("%s{\"port\":%u", first ? "" : ",", l->port);
			RATE("tx_bytes", rate(l->tx_bytes, o->tx_bytes, dt));
			RATE("rx_bytes", rate(l->rx_bytes, o->rx_bytes, dt));
			printf(",\"utilization\":%.2f", percent(l->busy_ns, o->busy_ns, dt));
			RATE("errors", rate(l->errors, o->errors, dt));
			printf("}");
			first = false;
		}
		printf("]");
	}
	printf("}");
}

static const struct tern_client *prev_client(const struct tern_client *c)
{
	unsigned int i;

	for (i = 0; i < nclients_prev; i++)
		if (clients_prev[i].index == c->index && clients_prev[i].client_id == c->client_id)
			return &clients_prev[i];
	return NULL;
}

static void json_clients(const struct device *d, double dt)
{
	bool first = true;
	unsigned int i;

	printf("\"clients\":[");
	for (i = 0; i < nclients_cur; i++) {
		const struct tern_client *c = &clients_cur[i], *o;

		if (c->index != d->index)
			continue;
		o = prev_client(c);
		printf("%s{\"pid\":%d,\"comm\":", first ? "" : ",", c->pid);
		json_string(c->comm);
		U64("client_id", c->client_id);
		U64("hbm_bytes", c->hbm_bytes);
		U64("host_bytes", c->host_bytes);
		U64("dma_ns", c->engine_ns[0]);
		U64("compute_ns", c->engine_ns[1]);
		U64("cycles_compute", c->cycles);
		/* A client new in this period: its whole time counts in the period. */
		printf(",\"dma_utilization\":%.2f,\"compute_utilization\":%.2f",
		       percent(c->engine_ns[0], o ? o->engine_ns[0] : 0, dt),
		       percent(c->engine_ns[1], o ? o->engine_ns[1] : 0, dt));
		printf("}");
		first = false;
	}
	printf("]");
}

static void report_json(unsigned int groups, const struct period *pd, double wall)
{
	unsigned int i;

	printf("{\"time\":%.3f,\"period_s\":%.6f,\"devices\":[", wall, pd->dt);
	for (i = 0; i < ndevs; i++) {
		const struct device *d = &devs[i];
		struct period dp = *pd;

		printf("%s{\"index\":%u,\"minor\":%u,\"chip_id\":%u,\"pci\":", i ? "," : "",
		       d->index, d->minor, d->chip_id);
		json_string(d->pci);
		if (d->cur.err) {
			printf(",\"error\":");
			json_string(d->cur.msg);
			printf("}");
			continue;
		}
		printf(",");
		json_stats(d, groups);
		if (!d->prev.err) {
			const struct tern_stats *c = &d->cur.st, *p = &d->prev.st;

			if ((c->flags & p->flags & TERN_STATS_TELEMETRY) && c->time_ns > p->time_ns)
				dp.dev_dt = (double)(c->time_ns - p->time_ns) / 1e9;
			printf(",");
			json_rates(d, groups, &dp);
		}
		if (groups & G_CLIENTS) {
			printf(",");
			json_clients(d, pd->dt);
		}
		printf("}");
	}
	printf("]}\n");
}

/* ---- Prometheus text exposition format ---- */

static void prom_family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped (backslash, double quote, newline). */
static void prom_value(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

/* Samples of one family: name{device="i"<extra>} value, for every readable device. */
#define FOR_DEVS(d)	for (unsigned int _i = 0; _i < ndevs; _i++) \
				if ((d = &devs[_i])->cur.err == 0)

/* Whether a readable device has @flag (TERN_STATS_*): families without samples are left out. */
static bool any_flag(unsigned int flag)
{
	unsigned int i;

	for (i = 0; i < ndevs; i++)
		if (!devs[i].cur.err && (devs[i].cur.st.flags & flag))
			return true;
	return false;
}

static bool any_links(void)
{
	unsigned int i;

	for (i = 0; i < ndevs; i++)
		if (!devs[i].cur.err && devs[i].cur.nlinks)
			return true;
	return false;
}

static void prom_dev_u64(const char *name, const char *type, const char *help, bool tel,
			 size_t off)
{
	const struct device *d;

	if (tel && !any_flag(TERN_STATS_TELEMETRY))
		return;
	prom_family(name, type, help);
	FOR_DEVS(d) {
		if (tel && !(d->cur.st.flags & TERN_STATS_TELEMETRY))
			continue;
		printf("%s{device=\"%u\"} %" PRIu64 "\n", name, d->index,
		       *(const uint64_t *)((const char *)&d->cur.st + off));
	}
}

#define DEV_U64(name, type, help, tel, field) \
	prom_dev_u64(name, type, help, tel, offsetof(struct tern_stats, field))

/*
 * A family with one sample per unit (DMA engine, core or queue: @label)
 * of every device that has @flag, @count units each, the value @value
 * (%.15g prints counters below 10^15 exactly, as integers).
 */
static void prom_units(const char *name, const char *type, const char *help, unsigned int flag,
		       const char *label, unsigned int (*count)(const struct tern_stats *),
		       double (*value)(const struct tern_stats *, unsigned int))
{
	const struct device *d;
	unsigned int i;

	if (!any_flag(flag))
		return;
	prom_family(name, type, help);
	FOR_DEVS(d) {
		if (!(d->cur.st.flags & flag))
			continue;
		if (!label) {
			printf("%s{device=\"%u\"} %.15g\n", name, d->index, value(&d->cur.st, 0));
			continue;
		}
		for (i = 0; i < count(&d->cur.st); i++)
			printf("%s{device=\"%u\",%s=\"%u\"} %.15g\n", name, d->index, label, i,
			       value(&d->cur.st, i));
	}
}

static unsigned int n_engines(const struct tern_stats *st) { return st->num_dma_engines; }
static unsigned int n_cores(const struct tern_stats *st) { return st->num_cores; }
static unsigned int n_queues(const struct tern_stats *st) { return st->num_queues; }
static double temp_c(const struct tern_stats *st, unsigned int i) { (void)i; return st->temp_mc / 1000.0; }
static double temp_crit_c(const struct tern_stats *st, unsigned int i) { (void)i; return st->temp_max_mc / 1000.0; }
static double power_w(const struct tern_stats *st, unsigned int i) { (void)i; return st->power_mw / 1000.0; }
static double power_cap_w(const struct tern_stats *st, unsigned int i) { (void)i; return st->power_max_mw / 1000.0; }
static double dma_busy_s(const struct tern_stats *st, unsigned int i) { return st->dma_busy_ns[i] / 1e9; }
static double dma_bytes(const struct tern_stats *st, unsigned int i) { return st->dma_bytes[i]; }
static double dma_descs(const struct tern_stats *st, unsigned int i) { return st->dma_descs[i]; }
static double q_done(const struct tern_stats *st, unsigned int i) { return st->queue[i].descs_done; }
static double q_failed(const struct tern_stats *st, unsigned int i) { return st->queue[i].descs_failed; }
static double core_busy_s(const struct tern_stats *st, unsigned int i) { return st->core[i].wall_ns / 1e9; }
static double core_launches(const struct tern_stats *st, unsigned int i) { return st->core[i].launches; }
static double core_failed(const struct tern_stats *st, unsigned int i) { return st->core[i].launches_failed; }

static void report_prom(unsigned int groups)
{
	const struct device *d;
	unsigned int i, e;

	prom_family("tern_up", "gauge", "1 if the device's counters could be read, else 0.");
	for (i = 0; i < ndevs; i++)
		printf("tern_up{device=\"%u\",chip_id=\"%u\",pci=\"%s\"} %d\n", devs[i].index,
		       devs[i].chip_id, devs[i].pci, devs[i].cur.err ? 0 : 1);

	if (groups & G_DEVICE) {
		DEV_U64("tern_jobs_submitted_total", "counter", "Jobs submitted to the device.",
			false, jobs_submitted);
		DEV_U64("tern_jobs_completed_total", "counter", "Jobs that completed.", false,
			jobs_completed);
		DEV_U64("tern_jobs_failed_total", "counter", "Jobs that failed.", false,
			jobs_failed);
		DEV_U64("tern_device_errors_total", "counter", "Errors the chip reported.", false,
			device_errors);
		DEV_U64("tern_mmu_faults_total", "counter", "Device MMU faults.", true, mmu_faults);
		DEV_U64("tern_hbm_total_bytes", "gauge", "Device memory (HBM) size.", false,
			hbm_total);
		DEV_U64("tern_hbm_used_bytes", "gauge", "Device memory (HBM) in buffers.", false,
			hbm_used);
		DEV_U64("tern_host_used_bytes", "gauge", "Host memory in the device's buffers.",
			true, host_used);
		DEV_U64("tern_kernel_used_bytes", "gauge",
			"The driver's own DMA memory (rings, page tables, fences).", true,
			kernel_used);
		DEV_U64("tern_buffers", "gauge", "Buffers alive.", false, bo_count);
		DEV_U64("tern_clock_hertz", "gauge", "Clock of the modeled cycles.", true,
			clock_hz);
	}
	if (groups & G_HW) {
		prom_units("tern_temperature_celsius", "gauge", "Die temperature.",
			   TERN_STATS_HWMON, NULL, NULL, temp_c);
		prom_units("tern_temperature_crit_celsius", "gauge", "Critical die temperature.",
			   TERN_STATS_HWMON, NULL, NULL, temp_crit_c);
		prom_units("tern_power_watts", "gauge", "Board power.", TERN_STATS_HWMON, NULL, NULL,
			   power_w);
		prom_units("tern_power_cap_watts", "gauge", "Board power limit.", TERN_STATS_HWMON,
			   NULL, NULL, power_cap_w);
	}
	if (groups & G_HW) {
		DEV_U64("tern_ecc_corrected_total", "counter", "HBM ECC errors corrected.", true,
			ecc_corrected);
		DEV_U64("tern_ecc_uncorrected_total", "counter", "HBM ECC errors not corrected.",
			true, ecc_uncorrected);
	}
	if (groups & G_DMA) {
		prom_units("tern_dma_busy_seconds_total", "counter",
			   "Time a DMA engine spent on descriptors.", TERN_STATS_TELEMETRY, "engine",
			   n_engines, dma_busy_s);
		prom_units("tern_dma_bytes_total", "counter", "Bytes a DMA engine moved.",
			   TERN_STATS_TELEMETRY, "engine", n_engines, dma_bytes);
		prom_units("tern_dma_descriptors_total", "counter", "Descriptors a DMA engine ended.",
			   TERN_STATS_TELEMETRY, "engine", n_engines, dma_descs);
	}
	if ((groups & G_QUEUES) && any_flag(TERN_STATS_TELEMETRY)) {
		prom_family("tern_queue_bytes_total", "counter",
			    "Bytes a DMA queue moved, by direction.");
		FOR_DEVS(d) {
			if (!(d->cur.st.flags & TERN_STATS_TELEMETRY))
				continue;
			for (i = 0; i < d->cur.st.num_queues; i++) {
				const struct tern_queue_stats *q = &d->cur.st.queue[i];
				const uint64_t v[5] = { q->h2d_bytes, q->d2h_bytes, q->d2d_bytes,
							q->h2h_bytes, q->link_bytes };

				for (e = 0; e < 5; e++)
					printf("tern_queue_bytes_total{device=\"%u\",queue=\"%u\",direction=\"%s\"} %" PRIu64 "\n",
					       d->index, i, dir_names[e], v[e]);
			}
		}
		prom_units("tern_queue_descriptors_done_total", "counter",
			   "Descriptors a DMA queue completed.", TERN_STATS_TELEMETRY, "queue",
			   n_queues, q_done);
		prom_units("tern_queue_descriptors_failed_total", "counter",
			   "Descriptors that failed on a DMA queue.", TERN_STATS_TELEMETRY, "queue",
			   n_queues, q_failed);
	}
	if ((groups & G_CORES) && any_flag(TERN_STATS_TELEMETRY)) {
		prom_family("tern_core_busy_cycles_total", "counter",
			    "Modeled busy cycles of a core's engine.");
		FOR_DEVS(d)
			if (d->cur.st.flags & TERN_STATS_TELEMETRY)
				for (i = 0; i < d->cur.st.num_cores; i++)
					for (e = 0; e < 4; e++)
						printf("tern_core_busy_cycles_total{device=\"%u\",core=\"%u\",engine=\"%s\"} %" PRIu64 "\n",
						       d->index, i, engine_names[e],
						       d->cur.st.core[i].cycles[e]);
		prom_units("tern_core_busy_seconds_total", "counter", "Wall time a core ran launches.",
			   TERN_STATS_TELEMETRY, "core", n_cores, core_busy_s);
		prom_units("tern_core_launches_total", "counter", "Launches that completed on a core.",
			   TERN_STATS_TELEMETRY, "core", n_cores, core_launches);
		prom_units("tern_core_launches_failed_total", "counter",
			   "Launches that failed on a core.", TERN_STATS_TELEMETRY, "core", n_cores,
			   core_failed);
	}
	if ((groups & G_LINKS) && any_links()) {
		prom_family("tern_link_up", "gauge", "1 if a link port is up, else 0.");
		FOR_DEVS(d)
			for (i = 0; i < d->cur.nlinks; i++)
				printf("tern_link_up{device=\"%u\",port=\"%u\"} %d\n", d->index,
				       d->cur.link[i].port, strcmp(d->cur.link[i].state, "up") == 0);
		prom_family("tern_link_bytes_total", "counter",
			    "Bytes through a link port, by direction (tx, rx).");
		FOR_DEVS(d)
			for (i = 0; i < d->cur.nlinks; i++) {
				const struct link_stats *l = &d->cur.link[i];

				printf("tern_link_bytes_total{device=\"%u\",port=\"%u\",direction=\"tx\"} %" PRIu64 "\n",
				       d->index, l->port, l->tx_bytes);
				printf("tern_link_bytes_total{device=\"%u\",port=\"%u\",direction=\"rx\"} %" PRIu64 "\n",
				       d->index, l->port, l->rx_bytes);
			}
		prom_family("tern_link_errors_total", "counter", "Link copies that failed on a port.");
		FOR_DEVS(d)
			for (i = 0; i < d->cur.nlinks; i++)
				printf("tern_link_errors_total{device=\"%u\",port=\"%u\"} %" PRIu64 "\n",
				       d->index, d->cur.link[i].port, d->cur.link[i].errors);
	}
	if ((groups & G_CLIENTS) && nclients_cur) {
		static const char *const region[2] = { "hbm", "host" };
		static const char *const engine[2] = { "dma", "compute" };

		prom_family("tern_client_memory_bytes", "gauge",
			    "Memory of an open file's buffers, by region.");
		for (i = 0; i < nclients_cur; i++) {
			const struct tern_client *c = &clients_cur[i];
			const uint64_t v[2] = { c->hbm_bytes, c->host_bytes };

			for (e = 0; e < 2; e++) {
				printf("tern_client_memory_bytes{device=\"%u\",pid=\"%d\",client=\"%" PRIu64 "\",comm=\"",
				       c->index, c->pid, c->client_id);
				prom_value(c->comm);
				printf("\",region=\"%s\"} %" PRIu64 "\n", region[e], v[e]);
			}
		}
		prom_family("tern_client_engine_seconds_total", "counter",
			    "Time an open file's jobs spent on the device, by engine class.");
		for (i = 0; i < nclients_cur; i++) {
			const struct tern_client *c = &clients_cur[i];

			for (e = 0; e < 2; e++) {
				printf("tern_client_engine_seconds_total{device=\"%u\",pid=\"%d\",client=\"%" PRIu64 "\",comm=\"",
				       c->index, c->pid, c->client_id);
				prom_value(c->comm);
				printf("\",engine=\"%s\"} %.9f\n", engine[e], c->engine_ns[e] / 1e9);
			}
		}
	}
	printf("\n");
}

/* ---- Main loop ---- */

static int parse_groups(const char *arg, unsigned int *groups)
{
	char buf[256], *tok, *save = NULL;
	unsigned int g;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "tern-monitor: -g: list too long\n");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	*groups = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (g = 0; g < sizeof(group_names) / sizeof(group_names[0]); g++)
			if (strcmp(tok, group_names[g]) == 0)
				break;
		if (g == sizeof(group_names) / sizeof(group_names[0])) {
			if (strcmp(tok, "all") == 0) {
				*groups |= G_ALL;
				continue;
			}
			fprintf(stderr, "tern-monitor: unknown group \"%s\" (groups: device, cores, "
				"dma, queues, links, clients, hw, all)\n", tok);
			return -1;
		}
		*groups |= 1u << g;
	}
	if (!*groups) {
		fprintf(stderr, "tern-monitor: -g: no group given\n");
		return -1;
	}
	return 0;
}

static void sample_all(unsigned int groups)
{
	unsigned int i;
	int n;

	for (i = 0; i < ndevs; i++)
		sample_device(&devs[i], groups);
	nclients_cur = 0;
	if (groups & G_CLIENTS) {
		n = tern_clients(clients_cur, MAX_CLIENTS);
		nclients_cur = n < 0 ? 0 : n > MAX_CLIENTS ? MAX_CLIENTS : (unsigned int)n;
	}
}

static void keep_sample(void)
{
	unsigned int i;

	for (i = 0; i < ndevs; i++)
		devs[i].prev = devs[i].cur;
	memcpy(clients_prev, clients_cur, nclients_cur * sizeof(clients_cur[0]));
	nclients_prev = nclients_cur;
}

static void add_seconds(struct timespec *ts, double s)
{
	double whole = floor(s);

	ts->tv_sec += (time_t)whole;
	ts->tv_nsec += (long)((s - whole) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "groups", required_argument, NULL, 'g' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int groups = G_ALL, i;
	unsigned long count = 0, done;
	double period = 1, t0, t1;
	struct timespec next;
	bool prometheus = false;
	char *end;
	int opt, n;

	while ((opt = getopt_long(argc, argv, "p:n:g:Pjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			errno = 0;
			period = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(period >= 0.001) || period > 86400) {
				fprintf(stderr, "tern-monitor: -p: \"%s\" is not a period in "
					"seconds (0.001 to 86400)\n", optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "tern-monitor: -n: \"%s\" is not a count "
					"(0 = forever)\n", optarg);
				return 2;
			}
			break;
		case 'g':
			if (parse_groups(optarg, &groups))
				return 2;
			break;
		case 'P':
			prometheus = true;
			break;
		case 'j':
			prometheus = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tern-monitor: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	n = tern_device_count();
	if (n < 0) {
		fprintf(stderr, "tern-monitor: cannot list devices: %s\n", tern_last_error());
		return 1;
	}
	ndevs = find_devices();
	if (!ndevs) {
		fprintf(stderr, "tern-monitor: no tern device found (is tern.ko loaded?)\n");
		return 1;
	}
	sample_all(groups);
	for (i = 0; i < ndevs; i++)
		if (devs[i].cur.err) {
			fprintf(stderr, "tern-monitor: device %u: %s\n", i, devs[i].cur.msg);
			return 1;
		}
	keep_sample();
	t0 = now(CLOCK_MONOTONIC);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (done = 0; count == 0 || done < count; done++) {
		struct period pd;

		add_seconds(&next, period);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		sample_all(groups);
		t1 = now(CLOCK_MONOTONIC);
		pd.dt = t1 - t0;
		pd.dev_dt = pd.dt;
		if (prometheus)
			report_prom(groups);
		else
			report_json(groups, &pd, now(CLOCK_REALTIME));
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "tern-monitor: cannot write the report: %s\n",
				strerror(errno));
			return 1;
		}
		keep_sample();
		t0 = t1;
	}
	return 0;
}
