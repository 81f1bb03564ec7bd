// SPDX-License-Identifier: MIT
/*
 * tern_monitor: libtern's telemetry calls (tern_device_stats(),
 * tern_clients()) and the tern-monitor tool, against a known workload.
 *
 * The workload is N host-to-device copies of a known size on device 0
 * through the ioctl path (so each is one driver job). The test checks:
 * - tern_device_stats(): jobs_completed grows by exactly N; with the
 *   telemetry attributes, the queues' h2d_bytes grow by N x size and the
 *   shape (cores, DMA engines) matches the device; hwmon values are sane;
 * - tern-monitor (JSON lines): every line is strict JSON (checked by
 *   python3's json module, NaN and Infinity refused), one object per
 *   period with every device; its jobs_completed before and after the
 *   workload differ by N, the queues' h2d_bytes by N x size; each rate
 *   times the period equals the counter's growth between two reports;
 *   groups leave out what was not asked for;
 * - tern-monitor --prometheus: every line is a HELP, TYPE, blank or
 *   sample line; every sample's family has HELP and TYPE before it;
 *   counters end in _total; the metrics carry device/queue/direction/
 *   core/engine labels; tern_jobs_completed_total matches libtern;
 * - bad options exit 2 with a message, --help exits 0;
 * - tern_clients() finds this process's own file with the memory of its
 *   buffers, and the DMA time of its copies; tern-monitor lists it too.
 *
 * The program is $TERN_BUILD/tools/tern-monitor (else the build directory
 * three levels above this executable). Nothing else may use device 0
 * while the test runs (the VM runs one test at a time).
 */
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "json_parse.h"
#include "tern_test.h"
#include "tern.h"

#define COPIES		16
#define COPY_SIZE	(1u << 20)
#define OUT_MAX		(1u << 20)

/* Runs tern-monitor with @args (NULL-terminated); output into @out, @err. */
static int run_monitor(const char *const *args, char *out, size_t olen, char *err, size_t elen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *argv[16];
	int ofd = tmpfile_fd(), efd = tmpfile_fd(), ret;
	unsigned int n = 0;

	tern_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tools/tern-monitor", dir);
	argv[n++] = path;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	ret = finish(start(argv, ofd, efd), ofd, out, olen, efd, err, elen);
	close(ofd);
	close(efd);
	return ret;
}

static uint64_t queue_h2d(const struct tern_stats *st)
{
	uint64_t sum = 0;
	unsigned int q;

	for (q = 0; q < st->num_queues; q++)
		sum += st->queue[q].h2d_bytes;
	return sum;
}

/* Sum of the queues' h2d_bytes of device 0 in report @line of a flattened output. */
static double json_h2d(const char *flat, unsigned int line)
{
	double sum = 0, v;
	unsigned int q;

	for (q = 0; q < TERN_STATS_MAX_QUEUES; q++) {
		v = getf(flat, "%u.devices.0.stats.queues.%u.h2d_bytes", line, q);
		if (isnan(v))
			break;
		sum += v;
	}
	return q ? sum : NAN;
}

FIXTURE(mon) {
	struct tern_device *dev;
	struct tern_buffer *host, *hbm;
	char out[OUT_MAX], err[8192], flat[4 * OUT_MAX];
};

FIXTURE_SETUP(mon)
{
	void *map;
	int ret;

	/* The ioctl path: each copy is one job the driver counts. */
	setenv("TERN_SUBMIT", "ioctl", 1);
	ret = tern_device_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("tern_device_open: %s", tern_last_error());
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, COPY_SIZE, TERN_MEM_HOST, &self->host));
	ASSERT_EQ(0, tern_buffer_alloc(self->dev, COPY_SIZE, TERN_MEM_DEVICE, &self->hbm));
	ASSERT_EQ(0, tern_buffer_map(self->host, &map));
	memset(map, 0x5a, COPY_SIZE);
}

FIXTURE_TEARDOWN(mon)
{
	tern_buffer_free(self->hbm);
	tern_buffer_free(self->host);
	tern_device_close(self->dev);
	unsetenv("TERN_SUBMIT");
}

static void workload(struct __test_metadata *_metadata, struct tern_device *dev,
		     struct tern_buffer *hbm, struct tern_buffer *host)
{
	unsigned int i;
	int ret;

	for (i = 0; i < COPIES; i++) {
		ret = tern_copy(dev, hbm, 0, host, 0, COPY_SIZE);
		ASSERT_EQ(0, ret) TH_LOG("copy %u: %s", i, tern_last_error());
	}
}

TEST_F(mon, stats_errors)
{
	struct tern_stats st;

	EXPECT_EQ(-ENODEV, tern_device_stats(4096, &st));
	EXPECT_NE(0, strlen(tern_last_error()));
	EXPECT_EQ(-EINVAL, tern_device_stats(0, NULL));
}

/* tern_device_stats() counts the workload exactly. */
TEST_F(mon, stats_count_workload)
{
	struct tern_device_info info;
	struct tern_stats a, b;

	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	ASSERT_EQ(0, tern_device_stats(0, &a)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(info.num_cores, a.num_cores);
	EXPECT_EQ(info.num_dma_engines, a.num_dma_engines);
	EXPECT_EQ(info.hbm_total, a.hbm_total);
	EXPECT_LE(COPY_SIZE, a.hbm_used);
	EXPECT_LE(2, a.bo_count);
	workload(_metadata, self->dev, self->hbm, self->host);
	ASSERT_EQ(0, tern_device_stats(0, &b)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(COPIES, b.jobs_completed - a.jobs_completed);
	EXPECT_EQ(COPIES, b.jobs_submitted - a.jobs_submitted);
	EXPECT_EQ(a.jobs_failed, b.jobs_failed);
}

/* With the telemetry attributes: bytes by direction, engines, time; hwmon. */
TEST_F(mon, stats_telemetry)
{
	struct tern_device_info info;
	struct tern_stats a, b;
	uint64_t bytes_a = 0, bytes_b = 0, done_a = 0, done_b = 0;
	unsigned int i;

	ASSERT_EQ(0, tern_device_info(self->dev, &info));
	ASSERT_EQ(0, tern_device_stats(0, &a)) TH_LOG("%s", tern_last_error());
	ASSERT_TRUE(a.flags & TERN_STATS_TELEMETRY)
		TH_LOG("the driver has no telemetry attributes (tern/time_ns)");
	EXPECT_LE(info.num_queues, a.num_queues);
	EXPECT_LT(0, a.time_ns);
	EXPECT_EQ(1400000000ull, a.clock_hz);
	EXPECT_LT(0, a.kernel_used);
	EXPECT_LE(COPY_SIZE, a.host_used);
	workload(_metadata, self->dev, self->hbm, self->host);
	ASSERT_EQ(0, tern_device_stats(0, &b)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ((uint64_t)COPIES * COPY_SIZE, queue_h2d(&b) - queue_h2d(&a));
	for (i = 0; i < b.num_queues; i++) {
		EXPECT_EQ(a.queue[i].d2h_bytes, b.queue[i].d2h_bytes);
		done_a += a.queue[i].descs_done;
		done_b += b.queue[i].descs_done;
	}
	EXPECT_LE(COPIES, done_b - done_a);
	for (i = 0; i < b.num_dma_engines; i++) {
		bytes_a += a.dma_bytes[i];
		bytes_b += b.dma_bytes[i];
	}
	EXPECT_EQ((uint64_t)COPIES * COPY_SIZE, bytes_b - bytes_a);
	EXPECT_LT(a.time_ns, b.time_ns);

	ASSERT_TRUE(b.flags & TERN_STATS_HWMON) TH_LOG("no hwmon device named tern");
	EXPECT_LT(0, b.temp_mc);
	EXPECT_LT(b.temp_mc, b.temp_max_mc);
	EXPECT_LT(0, b.power_mw);
	EXPECT_LE(b.power_mw, b.power_max_mw);
}

/*
 * tern-monitor's JSON: valid, every device, and the counts of the
 * workload, which runs while a two-report monitor runs beside it.
 */
TEST_F(mon, json_counts)
{
	const char *once[] = { "-n", "1", "-p", "0.2", NULL };
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *two[] = { path, "-n", "2", "-p", "0.5", NULL };
	struct tern_stats a, b;
	double before, after, v0, v1, rate, period;
	int ofd, efd, ret, ndev = tern_device_count();
	pid_t pid;
	bool tel;

	ASSERT_EQ(0, tern_device_stats(0, &a)) TH_LOG("%s", tern_last_error());
	tel = a.flags & TERN_STATS_TELEMETRY;
	ret = run_monitor(once, self->out, sizeof(self->out), self->err, sizeof(self->err));
	ASSERT_EQ(0, ret) TH_LOG("tern-monitor: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("not JSON lines: %s\n%s", self->err, self->out);
	EXPECT_EQ(1, getf(self->flat, "lines"));
	EXPECT_EQ(ndev - 1, getf(self->flat, "0.devices.%d.index", ndev - 1));
	EXPECT_TRUE(isnan(getf(self->flat, "0.devices.%d.index", ndev)));
	EXPECT_LT(0, getf(self->flat, "0.time"));
	EXPECT_LT(0, getf(self->flat, "0.period_s"));
	before = getf(self->flat, "0.devices.0.stats.jobs_completed");
	EXPECT_EQ((double)a.jobs_completed, before);
	v0 = json_h2d(self->flat, 0);
	if (tel)
		EXPECT_EQ((double)queue_h2d(&a), v0);

	/* Two reports while the copies run. */
	tern_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tools/tern-monitor", dir);
	ofd = tmpfile_fd();
	efd = tmpfile_fd();
	pid = start(two, ofd, efd);
	ASSERT_LT(0, pid);
	workload(_metadata, self->dev, self->hbm, self->host);
	ret = finish(pid, ofd, self->out, sizeof(self->out), efd, self->err, sizeof(self->err));
	close(ofd);
	close(efd);
	ASSERT_EQ(0, tern_device_stats(0, &b)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, ret) TH_LOG("tern-monitor: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("not JSON lines: %s\n%s", self->err, self->out);
	EXPECT_EQ(2, getf(self->flat, "lines"));
	v0 = getf(self->flat, "0.devices.0.stats.jobs_completed");
	v1 = getf(self->flat, "1.devices.0.stats.jobs_completed");
	EXPECT_LE(a.jobs_completed, v0);
	EXPECT_LE(v0, v1);
	EXPECT_LE(v1, b.jobs_completed);
	/* The second report's rates are its counters' growth over its period. */
	period = getf(self->flat, "1.period_s");
	rate = getf(self->flat, "1.devices.0.rates.jobs_completed");
	EXPECT_LT(0, period);
	EXPECT_GE(0.01 + 1e-3 * (v1 - v0), fabs(rate * period - (v1 - v0)))
		TH_LOG("rate %f x period %f != %f - %f", rate, period, v1, v0);
	if (tel) {
		v0 = getf(self->flat, "0.devices.0.stats.queues.0.h2d_bytes");
		v1 = getf(self->flat, "1.devices.0.stats.queues.0.h2d_bytes");
		rate = getf(self->flat, "1.devices.0.rates.queues.0.h2d_bytes");
		EXPECT_GE(0.01 + 1e-3 * (v1 - v0), fabs(rate * period - (v1 - v0)));
	}

	/* After: the counts grew by exactly the workload. */
	ret = run_monitor(once, self->out, sizeof(self->out), self->err, sizeof(self->err));
	ASSERT_EQ(0, ret) TH_LOG("tern-monitor: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("not JSON lines: %s", self->err);
	after = getf(self->flat, "0.devices.0.stats.jobs_completed");
	EXPECT_EQ(COPIES, after - before);
	if (tel)
		EXPECT_EQ((double)COPIES * COPY_SIZE, json_h2d(self->flat, 0) - (double)queue_h2d(&a));
}

/* Groups: only what was asked for. */
TEST_F(mon, json_groups)
{
	const char *dev_only[] = { "-n", "1", "-p", "0.1", "-g", "device", NULL };
	const char *cl_only[] = { "-n", "1", "-p", "0.1", "--groups=clients", NULL };
	const char *all[] = { "-n", "1", "-p", "0.1", "-g", "device,cores,dma,queues,links,clients,hw",
			      NULL };
	struct tern_stats st;

	ASSERT_EQ(0, tern_device_stats(0, &st));
	ASSERT_EQ(0, run_monitor(dev_only, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_FALSE(isnan(getf(self->flat, "0.devices.0.stats.jobs_completed")));
	EXPECT_FALSE(has_key(self->flat, ".queues."));
	EXPECT_FALSE(has_key(self->flat, ".cores."));
	EXPECT_FALSE(has_key(self->flat, ".clients"));
	EXPECT_FALSE(has_key(self->flat, "temp_mc"));

	ASSERT_EQ(0, run_monitor(cl_only, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("%s", self->err);
	EXPECT_TRUE(isnan(getf(self->flat, "0.devices.0.stats.jobs_completed")));

	ASSERT_EQ(0, run_monitor(all, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("%s", self->err);
	if (st.flags & TERN_STATS_TELEMETRY) {
		EXPECT_FALSE(isnan(getf(self->flat, "0.devices.0.stats.queues.0.h2d_bytes")));
		EXPECT_FALSE(isnan(getf(self->flat, "0.devices.0.stats.cores.%u.cycles_tensor",
					st.num_cores - 1)));
		EXPECT_FALSE(isnan(getf(self->flat, "0.devices.0.stats.dma.0.busy_ns")));
		EXPECT_FALSE(isnan(getf(self->flat, "0.devices.0.rates.dma.0.utilization")));
	}
	if (st.flags & TERN_STATS_HWMON)
		EXPECT_EQ(st.temp_max_mc, getf(self->flat, "0.devices.0.stats.temp_max_mc"));
}

/* Name of the metric of a sample or HELP/TYPE line into @name. */
static void metric_name(const char *s, char *name, size_t len)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");

	snprintf(name, len, "%.*s", (int)n, s);
}

/*
 * Checks one Prometheus exposition line by line. Returns 0 or the number
 * of the first bad line (from 1).
 */
static int check_prometheus(const char *text, char *why, size_t wlen)
{
	char help[64][96] = { { 0 } }, type[64][96] = { { 0 } }, name[96], *copy, *line, *save;
	unsigned int nhelp = 0, ntype = 0, i;
	int n = 0, bad = 0;

	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
		n++;
		if (!strncmp(line, "# HELP ", 7)) {
			metric_name(line + 7, name, sizeof(name));
			if (!name[0] || line[7 + strlen(name)] != ' ' || nhelp == 64)
				bad = snprintf(why, wlen, "bad HELP");
			else
				snprintf(help[nhelp++], 96, "%s", name);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			const char *t;

			metric_name(line + 7, name, sizeof(name));
			t = line + 7 + strlen(name);
			if (!name[0] || (strcmp(t, " counter") && strcmp(t, " gauge")) || ntype == 64)
				bad = snprintf(why, wlen, "bad TYPE");
			else if (!strcmp(t, " counter") &&
				 (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total")))
				bad = snprintf(why, wlen, "counter %s without _total", name);
			else
				snprintf(type[ntype++], 96, "%s", name);
		} else if (line[0] == '#') {
			bad = snprintf(why, wlen, "stray comment");
		} else {
			const char *p, *v;
			char *end;

			metric_name(line, name, sizeof(name));
			for (i = 0; i < nhelp && strcmp(help[i], name); i++)
				;
			if (!name[0] || i == nhelp || !nhelp || !ntype || strcmp(help[nhelp - 1], name) ||
			    strcmp(type[ntype - 1], name)) {
				bad = snprintf(why, wlen, "sample of %s outside its family", name);
				continue;
			}
			/* {label="value",...} */
			p = line + strlen(name);
			if (*p == '{') {
				p++;
				while (*p && *p != '}') {
					char lname[64];

					metric_name(p, lname, sizeof(lname));
					p += strlen(lname);
					if (!lname[0] || p[0] != '=' || p[1] != '"')
						break;
					for (p += 2; *p && *p != '"'; p++)
						if (*p == '\\' && p[1])
							p++;
					if (*p != '"')
						break;
					p++;
					if (*p == ',')
						p++;
				}
				if (*p != '}') {
					bad = snprintf(why, wlen, "bad labels");
					continue;
				}
				p++;
			}
			if (*p != ' ') {
				bad = snprintf(why, wlen, "no value");
				continue;
			}
			v = p + 1;
			strtod(v, &end);
			if (end == v || *end)
				bad = snprintf(why, wlen, "bad value \"%s\"", v);
		}
	}
	free(copy);
	return bad ? n : 0;
}

/* A sample's value, by its exact name and labels; NAN if missing. */
static double prom_get(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

TEST_F(mon, prometheus)
{
	const char *args[] = { "--prometheus", "-n", "1", "-p", "0.2", NULL };
	const char *dev_only[] = { "-P", "-n", "1", "-p", "0.1", "-g", "device", NULL };
	struct tern_stats a, b;
	char why[128] = "", series[160];
	double v;
	int line;

	ASSERT_EQ(0, tern_device_stats(0, &a));
	ASSERT_EQ(0, run_monitor(args, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	ASSERT_EQ(0, tern_device_stats(0, &b));
	line = check_prometheus(self->out, why, sizeof(why));
	ASSERT_EQ(0, line) TH_LOG("line %d: %s\n%s", line, why, self->out);
	EXPECT_NE(NULL, strstr(self->out, "# HELP tern_jobs_completed_total "));
	EXPECT_NE(NULL, strstr(self->out, "# TYPE tern_jobs_completed_total counter\n"));
	v = prom_get(self->out, "tern_jobs_completed_total{device=\"0\"}");
	EXPECT_LE(a.jobs_completed, v);
	EXPECT_GE(b.jobs_completed, v);
	EXPECT_EQ(a.hbm_total, prom_get(self->out, "tern_hbm_total_bytes{device=\"0\"}"));
	snprintf(series, sizeof(series), "tern_jobs_completed_total{device=\"%d\"}",
		 tern_device_count() - 1);
	EXPECT_FALSE(isnan(prom_get(self->out, series)));
	if (a.flags & TERN_STATS_TELEMETRY) {
		EXPECT_FALSE(isnan(prom_get(self->out,
			"tern_queue_bytes_total{device=\"0\",queue=\"0\",direction=\"h2d\"}")));
		EXPECT_FALSE(isnan(prom_get(self->out,
			"tern_core_busy_cycles_total{device=\"0\",core=\"0\",engine=\"tensor\"}")));
		EXPECT_FALSE(isnan(prom_get(self->out,
			"tern_dma_bytes_total{device=\"0\",engine=\"0\"}")));
	}
	if (a.flags & TERN_STATS_HWMON)
		EXPECT_FALSE(isnan(prom_get(self->out, "tern_temperature_celsius{device=\"0\"}")));

	ASSERT_EQ(0, run_monitor(dev_only, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	line = check_prometheus(self->out, why, sizeof(why));
	ASSERT_EQ(0, line) TH_LOG("line %d: %s", line, why);
	EXPECT_EQ(NULL, strstr(self->out, "tern_queue_"));
	EXPECT_EQ(NULL, strstr(self->out, "tern_client_"));
	EXPECT_NE(NULL, strstr(self->out, "tern_jobs_failed_total{device=\"0\"} "));
}

TEST_F(mon, bad_options)
{
	static const char *const cases[][4] = {
		{ "-g", "bogus", NULL },
		{ "-g", "device,nope", NULL },
		{ "-g", "", NULL },
		{ "-p", "0", NULL },
		{ "-p", "abc", NULL },
		{ "-p", "-1", NULL },
		{ "-n", "x", NULL },
		{ "-n", "-2", NULL },
		{ "--no-such-option", NULL },
		{ "extra", NULL },
	};
	const char *help[] = { "--help", NULL };
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = run_monitor(cases[i], self->out, sizeof(self->out), self->err,
				      sizeof(self->err));

		EXPECT_EQ(2, ret) TH_LOG("%s %s", cases[i][0], cases[i][1] ? cases[i][1] : "");
		EXPECT_NE(0, strlen(self->err)) TH_LOG("case %u: no message", i);
		EXPECT_EQ(0, strlen(self->out)) TH_LOG("case %u printed a report", i);
	}
	run_monitor(cases[0], self->out, sizeof(self->out), self->err, sizeof(self->err));
	EXPECT_NE(NULL, strstr(self->err, "bogus"));
	EXPECT_EQ(0, run_monitor(help, self->out, sizeof(self->out), self->err,
				 sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->out, "usage: tern-monitor"));
}

/* tern_clients() finds our own file, with its buffers' memory and DMA time. */
TEST_F(mon, clients_self)
{
	struct tern_client cl[256];
	const struct tern_client *me = NULL;
	struct tern_buffer *big;
	char comm[32] = "", key[96];
	const char *args[] = { "-n", "1", "-p", "0.1", "-g", "clients", NULL };
	int n, i, k;
	FILE *f;

	ASSERT_EQ(0, tern_buffer_alloc(self->dev, 4 * COPY_SIZE, TERN_MEM_DEVICE, &big));
	workload(_metadata, self->dev, self->hbm, self->host);
	n = tern_clients(cl, 256);
	ASSERT_LE(0, n) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(n, tern_clients(NULL, 0));
	for (i = 0; i < n && i < 256; i++)
		if (cl[i].pid == getpid() && cl[i].index == 0)
			me = &cl[i];
	ASSERT_NE(NULL, me) TH_LOG("%d clients, none is pid %d on device 0", n, getpid());
	f = fopen("/proc/self/comm", "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	EXPECT_STREQ(comm, me->comm);
	EXPECT_LE(5 * COPY_SIZE, me->hbm_bytes);
	EXPECT_LE(COPY_SIZE, me->host_bytes);
	EXPECT_LT(0, me->engine_ns[0]) TH_LOG("no DMA time after %d copies", COPIES);
	EXPECT_EQ(0, me->engine_ns[1]);	/* no launches */

	/* tern-monitor lists it too. */
	ASSERT_EQ(0, run_monitor(args, self->out, sizeof(self->out), self->err,
				 sizeof(self->err))) TH_LOG("%s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat), self->err,
			     sizeof(self->err))) TH_LOG("%s", self->err);
	for (k = 0; k < 256; k++) {
		snprintf(key, sizeof(key), "0.devices.0.clients.%d.pid", k);
		if (getf(self->flat, "%s", key) == getpid())
			break;
	}
	ASSERT_GT(256, k) TH_LOG("tern-monitor does not list pid %d:\n%s", getpid(), self->out);
	EXPECT_EQ((double)me->hbm_bytes, getf(self->flat, "0.devices.0.clients.%d.hbm_bytes", k));
	EXPECT_EQ((double)me->client_id, getf(self->flat, "0.devices.0.clients.%d.client_id", k));
	tern_buffer_free(big);
}

TEST_HARNESS_MAIN
