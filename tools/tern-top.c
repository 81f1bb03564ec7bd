// SPDX-License-Identifier: MIT
/*
 * tern-top: a live view of the tern accelerators of this machine.
 *
 *   tern-top [-d SECONDS] [-n N]       full-screen view (ncurses), refreshed
 *                                      every SECONDS; q quits
 *   tern-top -b [-n N] [--json]        the same frames as plain text (or one
 *                                      JSON object per frame) on stdout
 *   tern-top --once                    one plain-text frame, then exit
 *
 * Per device: a header (index, accel node, chip id, temperature, power, HBM
 * used/total, host memory, error counts, jobs per second), a bar per DMA
 * engine and per core (percent of the refresh interval the engine was busy,
 * from the differences of the busy counters of tern_device_stats()), and
 * the traffic per second by direction. Below, the processes that hold a
 * tern device open (tern_clients(), from /proc/<pid>/fdinfo), sorted by
 * engine time over the interval.
 *
 * Exit status: 0 when it ran (q, -n reached), 1 when it cannot run (no
 * terminal, no device, no permission), 2 for a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <curses.h>

#include "json.h"
#include "tern.h"

#define MAX_DEVS	64
#define BATCH_COLS	100	/* line width of the plain-text frames */
#define CELL_MIN	34	/* narrowest utilisation cell that fits in columns */
#define NDIRS		5

static const char *const dir_names[NDIRS] = { "h2d", "d2h", "d2d", "h2h", "link" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-top [-d SECONDS] [-n N] [-b [--json]] [--once] [--help]\n"
		"Live view of the tern accelerators: per device temperature, power, memory,\n"
		"errors, DMA engine and core utilisation and traffic; per process device\n"
		"memory and engine time (from /proc/<pid>/fdinfo).\n"
		"\n"
		"  -d, --delay SECONDS  refresh interval (default 1; 0.1 to 3600)\n"
		"  -n, --iterations N   exit after N refreshes\n"
		"  -b, --batch          print plain-text frames to stdout instead of the\n"
		"                       full-screen view (no terminal needed)\n"
		"  -j, --json           with -b: one JSON object per frame\n"
		"  -1, --once           one plain-text frame, then exit (-b -n 1)\n"
		"  -h, --help           print this help\n"
		"\n"
		"Keys: q quits.\n");
}

/* ---- samples ---- */

/* One look at every device and every client. */
struct sample {
	struct timespec when;		/* CLOCK_MONOTONIC */
	int ndevs;
	unsigned int minor[MAX_DEVS];
	long chip_id[MAX_DEVS];		/* -1: unknown */
	int err[MAX_DEVS];		/* tern_device_stats() result */
	struct tern_stats st[MAX_DEVS];
	int nclients;			/* < 0: tern_clients() error */
	struct tern_client *clients;
	unsigned int cap;		/* entries allocated in clients */
};

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* Accel minors bound to tern, sorted: device index i is minor[i] (as in libtern). */
static int scan_minors(unsigned int *minors, int max)
{
	char path[128], target[256];
	struct dirent *de;
	unsigned int minor;
	int n = 0;
	char tail;
	ssize_t len;
	DIR *dir;

	dir = opendir("/sys/class/accel");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		const char *base;

		if (sscanf(de->d_name, "accel%u%c", &minor, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/driver", minor);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (!strcmp(base, "tern"))
			minors[n++] = minor;
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), cmp_uint);
	return n;
}

static long read_chip_id(unsigned int minor)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/tern/chip_id", minor);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Fills @s; returns 0, or a negative error code when devices cannot be listed. */
static int take_sample(struct sample *s)
{
	int count, i, n;

	clock_gettime(CLOCK_MONOTONIC, &s->when);
	count = tern_device_count();
	if (count < 0)
		return count;
	if (count > MAX_DEVS)
		count = MAX_DEVS;
	n = scan_minors(s->minor, MAX_DEVS);
	s->ndevs = count;
	for (i = 0; i < count; i++) {
		s->chip_id[i] = i < n ? read_chip_id(s->minor[i]) : -1;
		if (i >= n)
			s->minor[i] = ~0u;
		s->err[i] = tern_device_stats(i, &s->st[i]);
	}

	/* tern_clients() says how many there are: grow the array to fit. */
	if (!s->clients) {
		s->cap = 64;
		s->clients = calloc(s->cap, sizeof(*s->clients));
		if (!s->clients)
			s->cap = 0;
	}
	for (;;) {
		n = tern_clients(s->clients, s->cap);
		if (n < 0 || (unsigned int)n <= s->cap)
			break;
		s->cap = n + 16;
		free(s->clients);
		s->clients = calloc(s->cap, sizeof(*s->clients));
		if (!s->clients) {
			s->cap = 0;
			n = -ENOMEM;
			break;
		}
	}
	s->nclients = n;
	return 0;
}

/* The clients array belongs to one sample; swapping keeps both. */
static void swap_samples(struct sample **a, struct sample **b)
{
	struct sample *t = *a;

	*a = *b;
	*b = t;
}

static uint64_t delta(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;	/* a reset restarts the counter */
}

static double ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) * 1e9 + (a->tv_nsec - b->tv_nsec);
}

/* ---- what a frame shows, computed from two samples ---- */

struct dev_rates {
	bool valid;			/* a previous sample of this device exists */
	double dma_pct[TERN_STATS_MAX_ENGINES];
	double core_pct[TERN_STATS_MAX_CORES];
	double dir_bps[NDIRS];
	double jobs_ps;
};

struct client_row {
	const struct tern_client *c;
	bool valid;
	double dma_ms_s, cmp_ms_s, cycles_s;
	double key;			/* sort key: engine time */
};

static double pct(uint64_t busy, double elapsed_ns)
{
	double p = elapsed_ns > 0 ? 100.0 * (double)busy / elapsed_ns : 0;

	return p > 100 ? 100 : p;
}

static void dev_rates(const struct sample *cur, const struct sample *prev, int i,
		      struct dev_rates *r)
{
	const struct tern_stats *a = &cur->st[i], *b;
	uint64_t dirs[NDIRS] = { 0 }, before[NDIRS] = { 0 };
	double ns, secs;
	unsigned int e, q;

	memset(r, 0, sizeof(*r));
	if (!prev || i >= prev->ndevs || prev->err[i] || cur->err[i] ||
	    prev->minor[i] != cur->minor[i] ||
	    !(a->flags & prev->st[i].flags & TERN_STATS_TELEMETRY))
		return;
	b = &prev->st[i];
	/* The device's clock, or ours when it does not move. */
	ns = a->time_ns > b->time_ns ? (double)(a->time_ns - b->time_ns) :
				       ts_diff_ns(&cur->when, &prev->when);
	if (ns <= 0)
		return;
	secs = ns / 1e9;
	r->valid = true;
	for (e = 0; e < a->num_dma_engines && e < TERN_STATS_MAX_ENGINES; e++)
		r->dma_pct[e] = pct(delta(a->dma_busy_ns[e], b->dma_busy_ns[e]), ns);
	for (e = 0; e < a->num_cores && e < TERN_STATS_MAX_CORES; e++)
		r->core_pct[e] = pct(delta(a->core[e].wall_ns, b->core[e].wall_ns), ns);
	for (q = 0; q < a->num_queues && q < TERN_STATS_MAX_QUEUES; q++) {
		dirs[0] += a->queue[q].h2d_bytes;
		dirs[1] += a->queue[q].d2h_bytes;
		dirs[2] += a->queue[q].d2d_bytes;
		dirs[3] += a->queue[q].h2h_bytes;
		dirs[4] += a->queue[q].link_bytes;
	}
	for (q = 0; q < b->num_queues && q < TERN_STATS_MAX_QUEUES; q++) {
		before[0] += b->queue[q].h2d_bytes;
		before[1] += b->queue[q].d2h_bytes;
		before[2] += b->queue[q].d2d_bytes;
		before[3] += b->queue[q].h2h_bytes;
		before[4] += b->queue[q].link_bytes;
	}
	for (e = 0; e < NDIRS; e++)
		r->dir_bps[e] = (double)delta(dirs[e], before[e]) / secs;
	r->jobs_ps = (double)delta(a->jobs_completed, b->jobs_completed) / secs;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct client_row *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? 1 : -1;
	if (a->c->hbm_bytes != b->c->hbm_bytes)
		return a->c->hbm_bytes < b->c->hbm_bytes ? 1 : -1;
	return a->c->pid - b->c->pid;
}

/* The client rows of @cur, sorted by engine time over the interval
 * (cumulative on the first frame). Returns how many; *rowsp is malloc'ed. */
static int client_rows(const struct sample *cur, const struct sample *prev,
		       struct client_row **rowsp)
{
	struct client_row *rows;
	double secs = prev ? ts_diff_ns(&cur->when, &prev->when) / 1e9 : 0;
	int n = cur->nclients > 0 ? cur->nclients : 0, i, j;

	*rowsp = NULL;
	if (!n)
		return 0;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return 0;
	for (i = 0; i < n; i++) {
		const struct tern_client *c = &cur->clients[i];
		const struct tern_client *p = NULL;
		struct client_row *r = &rows[i];

		r->c = c;
		r->key = (double)(c->engine_ns[0] + c->engine_ns[1]);
		if (!prev || secs <= 0)
			continue;
		for (j = 0; prev->nclients > 0 && j < prev->nclients; j++) {
			if (prev->clients[j].index == c->index &&
			    prev->clients[j].client_id == c->client_id) {
				p = &prev->clients[j];
				break;
			}
		}
		/* A client new since the last sample started its counters at 0. */
		r->valid = true;
		r->dma_ms_s = (double)delta(c->engine_ns[0], p ? p->engine_ns[0] : 0) / 1e6 / secs;
		r->cmp_ms_s = (double)delta(c->engine_ns[1], p ? p->engine_ns[1] : 0) / 1e6 / secs;
		r->cycles_s = (double)delta(c->cycles, p ? p->cycles : 0) / secs;
		r->key = r->dma_ms_s + r->cmp_ms_s;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	*rowsp = rows;
	return n;
}

/* ---- formatting ---- */

static const char *human(double v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", v);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static const char *si(double v, char *buf, size_t len)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P" };
	unsigned int u = 0;

	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.2f%s" : "%.0f%s", v, units[u]);
	return buf;
}

/* ---- output: the same lines to the screen (truncated) or to stdout ---- */

struct out {
	bool curses;
	int row, rows, cols;
};

static void put_line(struct out *o, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!o->curses) {
		puts(buf);
		return;
	}
	if (o->row >= o->rows)
		return;
	move(o->row, 0);
	if (attr)
		attron(attr);
	addnstr(buf, o->cols);
	if (attr)
		attroff(attr);
	clrtoeol();
	o->row++;
}

/* "label [|||||      42.0%]" in exactly @w characters (w >= 8). */
static void bar_cell(char *dst, int w, const char *label, bool valid, double p)
{
	char num[16];
	int inner, fill, nl, i, k = 0;

	snprintf(num, sizeof(num), valid ? "%.1f%%" : "--", p);
	nl = snprintf(dst, w + 1, "%-6s[", label);
	if (nl > w)
		nl = w;
	k = nl;
	inner = w - nl - 1;		/* between the brackets */
	if (inner < 1) {
		dst[w] = '\0';
		return;
	}
	fill = valid ? (int)lround(p / 100.0 * inner) : 0;
	for (i = 0; i < inner; i++)
		dst[k + i] = i < fill ? '|' : ' ';
	/* the number, right-aligned inside the bar, over the bar */
	if ((int)strlen(num) <= inner)
		memcpy(dst + k + inner - strlen(num), num, strlen(num));
	dst[k + inner] = ']';
	dst[k + inner + 1] = '\0';
}

/* Packs the utilisation cells of one device into lines. */
static void draw_bars(struct out *o, const struct tern_stats *st, const struct dev_rates *r)
{
	char line[1024], cell[256], label[16];
	int ndma = st->num_dma_engines < TERN_STATS_MAX_ENGINES ?
		   (int)st->num_dma_engines : TERN_STATS_MAX_ENGINES;
	int ncore = st->num_cores < TERN_STATS_MAX_CORES ?
		    (int)st->num_cores : TERN_STATS_MAX_CORES;
	int total = ndma + ncore, avail = o->cols - 4, ncol, cw, k, used = 0;

	if (avail < 10)
		avail = 10;
	ncol = avail / (CELL_MIN + 2);
	if (ncol < 1)
		ncol = 1;
	cw = avail / ncol - 2;
	if (cw > 60)
		cw = 60;
	if (cw < 8)
		cw = 8;
	line[0] = '\0';
	for (k = 0; k < total; k++) {
		bool dma = k < ndma;
		int idx = dma ? k : k - ndma;

		snprintf(label, sizeof(label), "%s%d", dma ? "dma" : "core", idx);
		bar_cell(cell, cw, label, r->valid, dma ? r->dma_pct[idx] : r->core_pct[idx]);
		used += snprintf(line + used, sizeof(line) - used, "%s%s",
				 used ? "  " : "    ", cell);
		if (used >= (int)sizeof(line))
			used = sizeof(line) - 1;
		/* a new line after every ncol cells, and DMA engines and cores apart */
		if ((idx + 1) % ncol == 0 || k + 1 == ndma || k + 1 == total) {
			put_line(o, 0, "%s", line);
			line[0] = '\0';
			used = 0;
		}
	}
}

static void draw_device(struct out *o, const struct sample *cur, const struct sample *prev, int i)
{
	const struct tern_stats *st = &cur->st[i];
	char node[24], chip[24], a[32], b[32], c[32], hw[96], line[512];
	struct dev_rates r;
	int used = 0;
	unsigned int d;

	if (cur->minor[i] != ~0u)
		snprintf(node, sizeof(node), "accel%u", cur->minor[i]);
	else
		snprintf(node, sizeof(node), "accel?");
	if (cur->chip_id[i] >= 0)
		snprintf(chip, sizeof(chip), "%ld", cur->chip_id[i]);
	else
		snprintf(chip, sizeof(chip), "?");
	if (cur->err[i]) {
		put_line(o, A_BOLD, "tern%d %s  unavailable: %s", i, node, tern_strerror(cur->err[i]));
		return;
	}
	dev_rates(cur, prev, i, &r);
	if (st->flags & TERN_STATS_HWMON)
		snprintf(hw, sizeof(hw), "temp %.1f/%.0f C  power %.1f/%.0f W",
			 st->temp_mc / 1000.0, st->temp_max_mc / 1000.0,
			 st->power_mw / 1000.0, st->power_max_mw / 1000.0);
	else
		snprintf(hw, sizeof(hw), "temp --  power --");
	put_line(o, A_BOLD, "tern%d %s  chip %s  %s  HBM %s / %s  host %s", i, node, chip, hw,
		 human((double)st->hbm_used, a, sizeof(a)), human((double)st->hbm_total, b, sizeof(b)),
		 human((double)st->host_used, c, sizeof(c)));
	if (!(st->flags & TERN_STATS_TELEMETRY)) {
		put_line(o, 0, "    errors: device %llu  failed jobs %llu   (this driver has no "
			 "utilisation counters)", (unsigned long long)st->device_errors,
			 (unsigned long long)st->jobs_failed);
		return;
	}
	if (r.valid)
		snprintf(a, sizeof(a), "%.1f", r.jobs_ps);
	else
		snprintf(a, sizeof(a), "--");
	put_line(o, 0,
		 "    errors: device %llu  mmu faults %llu  failed jobs %llu  ecc %llu corr %llu uncorr"
		 "   jobs/s %s",
		 (unsigned long long)st->device_errors, (unsigned long long)st->mmu_faults,
		 (unsigned long long)st->jobs_failed, (unsigned long long)st->ecc_corrected,
		 (unsigned long long)st->ecc_uncorrected, a);
	draw_bars(o, st, &r);
	used = snprintf(line, sizeof(line), "    traffic/s:");
	for (d = 0; d < NDIRS; d++)
		used += snprintf(line + used, sizeof(line) - used, "  %s %s", dir_names[d],
				 r.valid ? human(r.dir_bps[d], a, sizeof(a)) : "--");
	put_line(o, 0, "%s", line);
}

static void draw_frame(struct out *o, const struct sample *cur, const struct sample *prev,
		       unsigned long refresh, double delay)
{
	struct client_row *rows;
	char when[16], a[32], b[32], cyc[32];
	time_t now = time(NULL);
	struct tm tm;
	int i, n;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	o->row = 0;
	if (o->curses && (o->cols < 20 || o->rows < 2)) {
		erase();
		mvaddnstr(0, 0, "tern-top: terminal too small", o->cols);
		refresh();
		return;
	}
	put_line(o, A_REVERSE, "tern-top  %s  %d device%s  every %.2gs  refresh %lu%s",
		 when, cur->ndevs, cur->ndevs == 1 ? "" : "s", delay, refresh,
		 o->curses ? "  (q quits)" : "");
	for (i = 0; i < cur->ndevs; i++)
		draw_device(o, cur, prev, i);

	put_line(o, 0, "");
	if (cur->nclients < 0) {
		put_line(o, 0, "processes: %s", tern_last_error());
	} else {
		n = client_rows(cur, prev, &rows);
		put_line(o, A_REVERSE, "%7s %-16s %4s %10s %10s %9s %9s %10s", "PID", "COMMAND",
			 "DEV", "HBM", "HOST", "DMA ms/s", "CMP ms/s", "CYCLES/s");
		for (i = 0; i < n; i++) {
			const struct client_row *r = &rows[i];
			char dma[16], cmp[16];

			if (r->valid) {
				snprintf(dma, sizeof(dma), "%.1f", r->dma_ms_s);
				snprintf(cmp, sizeof(cmp), "%.1f", r->cmp_ms_s);
				si(r->cycles_s, cyc, sizeof(cyc));
			} else {
				snprintf(dma, sizeof(dma), "--");
				snprintf(cmp, sizeof(cmp), "--");
				snprintf(cyc, sizeof(cyc), "--");
			}
			put_line(o, 0, "%7d %-16.16s %4u %10s %10s %9s %9s %10s", r->c->pid,
				 r->c->comm, r->c->index,
				 human((double)r->c->hbm_bytes, a, sizeof(a)),
				 human((double)r->c->host_bytes, b, sizeof(b)), dma, cmp, cyc);
		}
		if (!n)
			put_line(o, 0, "%7s (no process has a tern device open%s)", "",
				 geteuid() ? " that you may see" : "");
		free(rows);
	}
	if (o->curses) {
		while (o->row < o->rows) {
			move(o->row++, 0);
			clrtoeol();
		}
		refresh();
	}
}

/* ---- JSON frames (-b --json) ---- */

static void json_frame(const struct sample *cur, const struct sample *prev, unsigned long refresh)
{
	struct client_row *rows;
	struct dev_rates r;
	unsigned int e, d;
	int i, n;

	printf("{\"refresh\": %lu, \"time\": %lld, \"devices\": [", refresh, (long long)time(NULL));
	for (i = 0; i < cur->ndevs; i++) {
		const struct tern_stats *st = &cur->st[i];

		printf("%s{\"index\": %d, \"minor\": %d, \"chip_id\": %ld", i ? ", " : "", i,
		       cur->minor[i] == ~0u ? -1 : (int)cur->minor[i], cur->chip_id[i]);
		if (cur->err[i]) {
			printf(", \"error\": ");
			json_string(tern_strerror(cur->err[i]));
			printf("}");
			continue;
		}
		dev_rates(cur, prev, i, &r);
		if (st->flags & TERN_STATS_HWMON)
			printf(", \"temp_mc\": %lld, \"power_mw\": %llu",
			       (long long)st->temp_mc, (unsigned long long)st->power_mw);
		printf(", \"hbm_used\": %llu, "
		       "\"hbm_total\": %llu, \"host_used\": %llu, \"device_errors\": %llu, "
		       "\"mmu_faults\": %llu, \"jobs_failed\": %llu, \"ecc_corrected\": %llu, "
		       "\"ecc_uncorrected\": %llu",
		       (unsigned long long)st->hbm_used, (unsigned long long)st->hbm_total,
		       (unsigned long long)st->host_used, (unsigned long long)st->device_errors,
		       (unsigned long long)st->mmu_faults, (unsigned long long)st->jobs_failed,
		       (unsigned long long)st->ecc_corrected,
		       (unsigned long long)st->ecc_uncorrected);
		if (r.valid) {
			printf(", \"dma_util\": [");
			for (e = 0; e < st->num_dma_engines && e < TERN_STATS_MAX_ENGINES; e++)
				printf("%s%.1f", e ? ", " : "", r.dma_pct[e]);
			printf("], \"core_util\": [");
			for (e = 0; e < st->num_cores && e < TERN_STATS_MAX_CORES; e++)
				printf("%s%.1f", e ? ", " : "", r.core_pct[e]);
			printf("], \"bytes_per_s\": {");
			for (d = 0; d < NDIRS; d++)
				printf("%s\"%s\": %.0f", d ? ", " : "", dir_names[d], r.dir_bps[d]);
			printf("}, \"jobs_per_s\": %.1f", r.jobs_ps);
		}
		printf("}");
	}
	printf("], \"clients\": [");
	n = client_rows(cur, prev, &rows);
	for (i = 0; i < n; i++) {
		const struct client_row *c = &rows[i];

		printf("%s{\"pid\": %d, \"comm\": ", i ? ", " : "", c->c->pid);
		json_string(c->c->comm);
		printf(", \"device\": %u, \"hbm_bytes\": %llu, \"host_bytes\": %llu", c->c->index,
		       (unsigned long long)c->c->hbm_bytes, (unsigned long long)c->c->host_bytes);
		if (c->valid)
			printf(", \"dma_ms_per_s\": %.1f, \"compute_ms_per_s\": %.1f, "
			       "\"cycles_per_s\": %.0f", c->dma_ms_s, c->cmp_ms_s, c->cycles_s);
		printf("}");
	}
	free(rows);
	printf("]}\n");
}

/* ---- main loop ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9) };

	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int run_batch(struct sample **cur, struct sample **prev, double delay,
		     unsigned long limit, bool json)
{
	struct out o = { .curses = false, .rows = 0, .cols = BATCH_COLS };
	unsigned long refresh;
	int err;

	for (refresh = 1; !stop && (!limit || refresh <= limit); refresh++) {
		sleep_s(delay);
		if (stop)
			break;
		swap_samples(cur, prev);
		err = take_sample(*cur);
		if (err < 0) {
			fprintf(stderr, "tern-top: cannot list devices: %s\n", tern_last_error());
			return 1;
		}
		if (json) {
			json_frame(*cur, *prev, refresh);
		} else {
			if (refresh > 1)
				putchar('\n');
			draw_frame(&o, *cur, *prev, refresh, delay);
		}
		fflush(stdout);
	}
	return 0;
}

static int run_curses(struct sample **cur, struct sample **prev, double delay,
		      unsigned long limit)
{
	struct out o = { .curses = true };
	struct timespec next, now;
	unsigned long refresh = 0;
	bool have_prev = false;
	SCREEN *scr;
	int ch, ms, err, ret = 0;

	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr, "tern-top: cannot use the terminal \"%s\" (try -b)\n",
			getenv("TERM"));
		return 1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);

	o.rows = LINES;
	o.cols = COLS;
	draw_frame(&o, *cur, NULL, 0, delay);
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += (time_t)delay;
	next.tv_nsec += (long)((delay - floor(delay)) * 1e9);
	if (next.tv_nsec >= 1000000000) {
		next.tv_sec++;
		next.tv_nsec -= 1000000000;
	}
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (int)(ts_diff_ns(&next, &now) / 1e6);
		if (ms > 0) {
			timeout(ms);
			ch = getch();
			if (ch == 'q' || ch == 'Q')
				break;
			if (ch == KEY_RESIZE) {
				o.rows = LINES;
				o.cols = COLS;
				erase();
				draw_frame(&o, *cur, have_prev ? *prev : NULL, refresh, delay);
			}
			continue;
		}
		swap_samples(cur, prev);
		have_prev = true;
		err = take_sample(*cur);
		if (err < 0) {
			endwin();
			delscreen(scr);
			fprintf(stderr, "tern-top: cannot list devices: %s\n", tern_last_error());
			return 1;
		}
		refresh++;
		o.rows = LINES;
		o.cols = COLS;
		draw_frame(&o, *cur, *prev, refresh, delay);
		if (limit && refresh >= limit)
			break;
		/* the next refresh one interval after this one was due, never in the past */
		next.tv_sec += (time_t)delay;
		next.tv_nsec += (long)((delay - floor(delay)) * 1e9);
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		if (ts_diff_ns(&next, &now) <= 0)
			next = now;
	}
	endwin();
	delscreen(scr);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sample samples[2];
	struct sample *cur = &samples[0], *prev = &samples[1];
	bool batch = false, json = false;
	unsigned long limit = 0;
	double delay = 1.0;
	struct sigaction sa;
	const char *term;
	char *end;
	int opt, err, i, ret;

	while ((opt = getopt_long(argc, argv, "d:n:bj1h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(delay) || delay < 0.1 ||
			    delay > 3600) {
				fprintf(stderr, "tern-top: bad refresh interval \"%s\" (seconds, 0.1 to 3600)\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			limit = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !limit || optarg[0] == '-') {
				fprintf(stderr, "tern-top: bad refresh count \"%s\" (a number >= 1)\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			batch = true;
			break;
		case 'j':
			json = true;
			break;
		case '1':
			batch = true;
			limit = 1;
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
		fprintf(stderr, "tern-top: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (json && !batch) {
		fprintf(stderr, "tern-top: --json needs -b or --once (the full-screen view is not data)\n");
		return 2;
	}
	if (!batch) {
		term = getenv("TERM");
		if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
			fprintf(stderr, "tern-top: not a terminal (standard %s is not a tty); "
				"use -b or --once for plain-text output\n",
				isatty(STDIN_FILENO) ? "output" : "input");
			return 1;
		}
		if (!term || !*term || !strcmp(term, "dumb")) {
			fprintf(stderr, "tern-top: TERM is %s; the full-screen view needs a "
				"terminal type (or use -b for plain-text output)\n",
				term && *term ? "\"dumb\"" : "not set");
			return 1;
		}
	}

	err = take_sample(cur);
	if (err < 0) {
		fprintf(stderr, "tern-top: cannot list devices: %s\n", tern_last_error());
		return 1;
	}
	if (cur->ndevs == 0) {
		fprintf(stderr, "tern-top: no tern devices found (is tern.ko loaded? "
			"nothing bound to tern in /sys/class/accel)\n");
		return 1;
	}
	for (i = 0; i < cur->ndevs; i++) {
		if (!cur->err[i])
			break;
	}
	if (i == cur->ndevs) {
		fprintf(stderr, "tern-top: cannot read the counters of any device: %s%s\n",
			tern_last_error(),
			cur->err[0] == -EACCES || cur->err[0] == -EPERM ? " (permission denied)" : "");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (batch)
		ret = run_batch(&cur, &prev, delay, limit, json);
	else
		ret = run_curses(&cur, &prev, delay, limit);
	free(samples[0].clients);
	free(samples[1].clients);
	return ret;
}
