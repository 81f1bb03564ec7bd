// SPDX-License-Identifier: MIT
/*
 * tern_trace: the tern-trace tool (libbpf, tp_btf programs on the tern
 * tracepoints) against a known workload on device 0: NDMA host-to-device
 * copies of JOB_SIZE bytes, one job each (raw SUBMIT), and NLAUNCH compute
 * launches of a small program (raw EXEC), waited for. With tern-trace
 * running beside it, the test checks:
 * - --json -c: one report with exactly NDMA + NLAUNCH completions, by
 *   kind; this process's rows with the exact jobs, bytes and cycles; each
 *   histogram's buckets (non-zero, log2 bounds) add up to its count;
 * - -e --json -p <self>: exactly one submit, start and done event per job
 *   id submitted, and one dma event per copy, with their fields; per job
 *   submit <= start <= done, and queue + run time within the workload's
 *   wall time;
 * - the text output: histograms, the table and the event lines;
 * - -i: the interval reports add up to the workload;
 * - filters: -p of another process and -d of another device see nothing;
 * - bad options exit 2 with a message; as an unprivileged user, -d of a
 *   missing device: exit 1 with a message.
 * The program is $TERN_BUILD/tools/tern-trace (else the build directory
 * three levels above this executable). Nothing else may use device 0
 * while the test runs (the VM runs one test at a time).
 */
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern_copy_prog.h"

#define NDMA		6
#define NLAUNCH		3
#define JOB_SIZE	(64 * 1024ull)
#define PAGE		4096ull
#define OUT_MAX		(1u << 20)
#define SECS		300

/* ---- running tern-trace ---- */

static int tmpfile_fd(void)
{
	char name[] = "/tmp/tern_trace.XXXXXX";
	int fd = mkstemp(name);

	if (fd >= 0)
		unlink(name);
	return fd;
}

struct run {
	pid_t pid;
	int ofd;		/* stdout: a temporary file */
	int efd;		/* stderr: a pipe */
	char err[8192];
	size_t elen;
};

/*
 * Starts tern-trace with @args (NULL-terminated) as user @uid (-1: as we
 * are) and waits until it says it is tracing or exits. Returns 0 when it
 * is tracing.
 */
static int trace_start(struct run *r, const char *const *args, int uid)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *argv[24];
	unsigned int n = 0;
	int p[2];

	memset(r, 0, sizeof(*r));
	tern_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tools/tern-trace", dir);
	argv[n++] = path;
	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	r->ofd = tmpfile_fd();
	if (r->ofd < 0 || pipe(p))
		return -1;
	r->pid = fork();
	if (r->pid == 0) {
		dup2(r->ofd, 1);
		dup2(p[1], 2);
		close(p[0]);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	r->efd = p[0];
	/* Its first line on stderr: "tern-trace: tracing ..." or why not. */
	while (r->elen < sizeof(r->err) - 1) {
		ssize_t k = read(r->efd, r->err + r->elen, 1);

		if (k <= 0)
			break;
		r->elen++;
		if (r->err[r->elen - 1] == '\n')
			break;
	}
	r->err[r->elen] = '\0';
	return strstr(r->err, "tern-trace: tracing") ? 0 : -1;
}

/* Optionally signals it, waits, reads its output; returns its exit status. */
static int trace_finish(struct run *r, int sig, char *out, size_t olen)
{
	int status = -1;
	ssize_t k;

	if (sig && r->pid > 0)
		kill(r->pid, sig);
	while (r->elen < sizeof(r->err) - 1 &&
	       (k = read(r->efd, r->err + r->elen, sizeof(r->err) - 1 - r->elen)) > 0)
		r->elen += k;
	r->err[r->elen] = '\0';
	if (r->pid > 0)
		waitpid(r->pid, &status, 0);
	k = pread(r->ofd, out, olen - 1, 0);
	out[k > 0 ? k : 0] = '\0';
	close(r->ofd);
	close(r->efd);
	if (r->pid <= 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs tern-trace to its end; its exit status. */
static int trace_run(const char *const *args, int uid, char *out, size_t olen, char *err,
		     size_t elen)
{
	struct run r;
	int ret;

	trace_start(&r, args, uid);
	ret = trace_finish(&r, 0, out, olen);
	snprintf(err, elen, "%s", r.err);
	return ret;
}

/* ---- its JSON ---- */

/*
 * Checks @json (JSON lines) with python3's json module, strictly (NaN and
 * Infinity refused, one object per line), and flattens it into @flat: one
 * "<line>.<key>.<index>... <value as JSON>" per leaf, then "lines <n>".
 * Returns python's exit status (0: every line valid).
 */
static int flatten(const char *json, char *flat, size_t len)
{
	static const char script[] =
		"import json, sys\n"
		"def bad(c):\n"
		"    raise ValueError('not JSON: ' + c)\n"
		"def walk(p, v):\n"
		"    if isinstance(v, dict):\n"
		"        for k, x in v.items():\n"
		"            walk(p + '.' + k, x)\n"
		"    elif isinstance(v, list):\n"
		"        for i, x in enumerate(v):\n"
		"            walk(p + '.' + str(i), x)\n"
		"    else:\n"
		"        print(p, json.dumps(v))\n"
		"n = 0\n"
		"for line in open(sys.argv[1]):\n"
		"    o = json.loads(line, parse_constant=bad)\n"
		"    if not isinstance(o, dict) or not line.endswith('\\n'):\n"
		"        sys.exit('line %d: not one object per line' % n)\n"
		"    walk(str(n), o)\n"
		"    n += 1\n"
		"print('lines', n)\n";
	char in[64];
	int ifd = tmpfile_fd(), ofd = tmpfile_fd(), status = -1;
	ssize_t k;
	pid_t pid;

	snprintf(in, sizeof(in), "/proc/%d/fd/%d", getpid(), ifd);
	if (ifd < 0 || ofd < 0 || write(ifd, json, strlen(json)) != (ssize_t)strlen(json))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		execl("/usr/bin/python3", "python3", "-c", script, in, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	k = pread(ofd, flat, len - 1, 0);
	flat[k > 0 ? k : 0] = '\0';
	close(ifd);
	close(ofd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *find_key(const char *flat, const char *key)
{
	size_t n = strlen(key);
	const char *p = flat;

	while ((p = strstr(p, key))) {
		if ((p == flat || p[-1] == '\n') && p[n] == ' ')
			return p + n + 1;
		p += n;
	}
	return NULL;
}

static double getf(const char *flat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *gets_(const char *flat, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The number at key printf(@fmt, ...), or NAN if it is not there. */
static double getf(const char *flat, const char *fmt, ...)
{
	char key[256];
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	v = find_key(flat, key);
	return v ? strtod(v, NULL) : NAN;
}

/* The value (as JSON, strings quoted) at key printf(@fmt, ...), or "". */
static const char *gets_(const char *flat, char *buf, size_t len, const char *fmt, ...)
{
	char key[256];
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	v = find_key(flat, key);
	buf[0] = '\0';
	if (v)
		snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
	return buf;
}

/* ---- the workload ---- */

FIXTURE(trace) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t tl, host, hbm, hbm2;
	uint64_t point;
	int nlaunch;			/* NLAUNCH, or 0 without compute cores */
	uint64_t dma_ids[NDMA], launch_ids[NLAUNCH], cycles[NLAUNCH];
	uint64_t wall_ns;		/* of the whole workload */
	char comm[32];
	char out[OUT_MAX], err[8192], flat[4 * OUT_MAX];
};

FIXTURE_SETUP(trace)
{
	FILE *f;

	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->nlaunch = (self->info.caps & TERN_CAP_COMPUTE) ? NLAUNCH : 0;
	self->tl = tern_timeline(_metadata, self->fd);
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_HOST, &self->host));
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_DEVICE, &self->hbm));
	ASSERT_EQ(0, tern_bo_create(self->fd, JOB_SIZE, DRM_TERN_BO_DEVICE, &self->hbm2));
	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	if (!fgets(self->comm, sizeof(self->comm), f))
		self->comm[0] = '\0';
	self->comm[strcspn(self->comm, "\n")] = '\0';
	fclose(f);
}

FIXTURE_TEARDOWN(trace)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* NDMA copies and nlaunch launches, waited for; their ids and cycles in @self. */
static void workload(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self)
{
	struct tern_job_status *status;
	uint32_t hprog, hstatus;
	struct copy_prog *prog;
	uint64_t t0;
	size_t size;
	int ret;

	prog = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_DEVICE, &hprog);
	size = copy_prog_init(prog, 1);
	status = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_HOST, &hstatus);
	memset(status, 0, PAGE);

	t0 = mono_ns();
	for (int i = 0; i < NDMA; i++) {
		struct drm_tern_copy c;
		struct drm_tern_submit s = { 0 };

		tern_copy_set(&c, self->hbm, 0, self->host, 0, JOB_SIZE);
		s.copies = (uintptr_t)&c;
		s.copy_count = 1;
		s.queue = 0;
		s.out_syncobj = self->tl;
		s.out_point = ++self->point;
		ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s);
		ASSERT_EQ(0, ret) TH_LOG("SUBMIT: %s", strerror(-ret));
		self->dma_ids[i] = s.job_id;
	}
	for (int i = 0; i < self->nlaunch; i++) {
		struct copy_exec ce;

		copy_exec_init(&ce, 0, hprog, size, self->hbm, self->hbm2);
		ce.e.status_handle = hstatus;
		ce.e.status_offset = i * sizeof(struct tern_job_status);
		ce.e.out_syncobj = self->tl;
		ce.e.out_point = ++self->point;
		ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_EXEC, &ce.e);
		ASSERT_EQ(0, ret) TH_LOG("EXEC: %s", strerror(-ret));
		self->launch_ids[i] = ce.e.job_id;
	}
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
	self->wall_ns = mono_ns() - t0;
	for (int i = 0; i < self->nlaunch; i++) {
		EXPECT_EQ((uint32_t)TERN_JOB_OK, status[i].status);
		self->cycles[i] = status[i].cycles;
	}
	munmap(prog, PAGE);
	munmap(status, PAGE);
	EXPECT_EQ(0, tern_bo_close(self->fd, hprog));
	EXPECT_EQ(0, tern_bo_close(self->fd, hstatus));
}

/* Runs the workload with tern-trace @args beside it; its exit status. */
static int traced(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self,
		  const char *const *args, int sig)
{
	struct run r;
	int ret;

	ret = trace_start(&r, args, -1);
	if (ret) {
		trace_finish(&r, SIGKILL, self->out, sizeof(self->out));
		snprintf(self->err, sizeof(self->err), "%s", r.err);
		ASSERT_EQ(0, ret) TH_LOG("tern-trace did not start: %s", r.err);
	}
	workload(_metadata, self);
	if (sig)
		usleep(300000);		/* lets it read the last events before the signal */
	ret = trace_finish(&r, sig, self->out, sizeof(self->out));
	snprintf(self->err, sizeof(self->err), "%s", r.err);
	return ret;
}

/* Checks a report (line @l of the flat JSON) for exactly the workload. */
static void check_report(struct __test_metadata *_metadata, FIXTURE_DATA(trace) *self,
			 unsigned int l)
{
	const char *flat = self->flat;
	int nk[2] = { NDMA, self->nlaunch };
	uint64_t cycles = 0;
	char s[64];
	int i, seen = 0;

	EXPECT_STREQ("\"report\"", gets_(flat, s, sizeof(s), "%u.type", l));
	EXPECT_EQ(NDMA + self->nlaunch, getf(flat, "%u.completions", l));
	EXPECT_EQ(NDMA, getf(flat, "%u.completions_by_kind.dma", l));
	EXPECT_EQ(self->nlaunch, getf(flat, "%u.completions_by_kind.compute", l));
	EXPECT_EQ(0, getf(flat, "%u.lost_jobs", l));

	/* Four histograms, each adding up to its kind's jobs. */
	for (i = 0; i < 4; i++) {
		double count = getf(flat, "%u.histograms.%d.count", l, i), sum = 0;
		int kind, b;

		gets_(flat, s, sizeof(s), "%u.histograms.%d.kind", l, i);
		kind = !strcmp(s, "\"compute\"");
		EXPECT_TRUE(kind || !strcmp(s, "\"dma\"")) TH_LOG("kind %s", s);
		gets_(flat, s, sizeof(s), "%u.histograms.%d.stage", l, i);
		EXPECT_TRUE(!strcmp(s, "\"submit_to_start\"") || !strcmp(s, "\"start_to_done\""));
		EXPECT_EQ(nk[kind], count) TH_LOG("histogram %d (%s)", i, s);
		for (b = 0; b < 32; b++) {
			double c = getf(flat, "%u.histograms.%d.buckets.%d.count", l, i, b);
			double lo = getf(flat, "%u.histograms.%d.buckets.%d.low", l, i, b);
			double hi = getf(flat, "%u.histograms.%d.buckets.%d.high", l, i, b);

			if (isnan(c))
				break;
			EXPECT_LT(0, c);
			EXPECT_EQ(lo ? 2 * lo : 1, hi);
			sum += c;
		}
		EXPECT_EQ(count, sum);
	}
	EXPECT_TRUE(isnan(getf(flat, "%u.histograms.4.count", l)));

	/* This process: one row per kind, exact. */
	for (i = 0; i < self->nlaunch; i++)
		cycles += self->cycles[i];
	for (i = 0; !isnan(getf(flat, "%u.processes.%d.pid", l, i)); i++) {
		EXPECT_EQ(getpid(), getf(flat, "%u.processes.%d.pid", l, i));
		gets_(flat, s, sizeof(s), "%u.processes.%d.comm", l, i);
		EXPECT_TRUE(strlen(s) == strlen(self->comm) + 2 && !strncmp(s + 1, self->comm,
									    strlen(self->comm)))
			TH_LOG("comm %s, not %s", s, self->comm);
		EXPECT_EQ(0, getf(flat, "%u.processes.%d.failed", l, i));
		gets_(flat, s, sizeof(s), "%u.processes.%d.kind", l, i);
		if (!strcmp(s, "\"dma\"")) {
			EXPECT_EQ(NDMA, getf(flat, "%u.processes.%d.jobs", l, i));
			EXPECT_EQ(NDMA * JOB_SIZE, getf(flat, "%u.processes.%d.bytes", l, i));
			EXPECT_EQ(0, getf(flat, "%u.processes.%d.cycles", l, i));
		} else {
			EXPECT_STREQ("\"compute\"", s);
			EXPECT_EQ(self->nlaunch, getf(flat, "%u.processes.%d.jobs", l, i));
			EXPECT_EQ(0, getf(flat, "%u.processes.%d.bytes", l, i));
			EXPECT_EQ((double)cycles, getf(flat, "%u.processes.%d.cycles", l, i));
		}
		EXPECT_LT(0, getf(flat, "%u.processes.%d.jobs_per_s", l, i));
		seen++;
	}
	EXPECT_EQ(self->nlaunch ? 2 : 1, seen);
}

TEST_F_TIMEOUT(trace, json_counts, SECS)
{
	char count[16], minor[16];
	const char *args[] = { "--json", "-c", count, "-d", minor, "-D", "120", NULL };
	int ret;

	snprintf(count, sizeof(count), "%d", NDMA + self->nlaunch);
	snprintf(minor, sizeof(minor), "%u", self->minor);
	ret = traced(_metadata, self, args, 0);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat)))
		TH_LOG("not JSON lines:\n%s", self->out);
	EXPECT_EQ(1, getf(self->flat, "lines"));
	check_report(_metadata, self, 0);
}

/* Per job: which events were seen and when. */
struct seen {
	uint64_t id;
	int submit, start, done, dma;
	double t_submit, t_start, t_done, queue_start, queue_done, run;
};

TEST_F_TIMEOUT(trace, events_json, SECS)
{
	char count[16], minor[16], pid[16], ev[32], s[64];
	const char *args[] = { "-e", "--json", "-c", count, "-d", minor, "-p", pid, "-D", "120",
			       NULL };
	struct seen jobs[NDMA + NLAUNCH] = { 0 };
	int n, lines, ret, i, l;

	snprintf(count, sizeof(count), "%d", NDMA + self->nlaunch);
	snprintf(minor, sizeof(minor), "%u", self->minor);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ret = traced(_metadata, self, args, 0);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat)))
		TH_LOG("not JSON lines:\n%s", self->out);
	n = NDMA + self->nlaunch;
	for (i = 0; i < NDMA; i++)
		jobs[i].id = self->dma_ids[i];
	for (i = 0; i < self->nlaunch; i++)
		jobs[NDMA + i].id = self->launch_ids[i];

	/* 3 events per job and a dma event per copy, then the report. */
	lines = (int)getf(self->flat, "lines");
	ASSERT_EQ(3 * n + NDMA + 1, lines) TH_LOG("%s", self->out);
	check_report(_metadata, self, lines - 1);
	for (l = 0; l < lines - 1; l++) {
		double job = getf(self->flat, "%d.job", l), t = getf(self->flat, "%d.time", l);
		struct seen *j = NULL;
		bool compute;

		EXPECT_STREQ("\"event\"", gets_(self->flat, s, sizeof(s), "%d.type", l));
		EXPECT_EQ(self->minor, getf(self->flat, "%d.minor", l));
		EXPECT_EQ(getpid(), getf(self->flat, "%d.pid", l));
		gets_(self->flat, ev, sizeof(ev), "%d.event", l);
		for (i = 0; i < n; i++)
			if ((double)jobs[i].id == job)
				j = &jobs[i];
		ASSERT_NE(NULL, j) TH_LOG("line %d: %s of job %.0f, not submitted", l, ev, job);
		compute = j - jobs >= NDMA;
		if (strcmp(ev, "\"dma\"")) {
			gets_(self->flat, s, sizeof(s), "%d.kind", l);
			EXPECT_STREQ(compute ? "\"compute\"" : "\"dma\"", s);
		}
		if (!strcmp(ev, "\"submit\"")) {
			j->submit++;
			j->t_submit = t;
			EXPECT_EQ(0, getf(self->flat, "%d.ring", l));
			EXPECT_EQ(compute ? 2 : 1, getf(self->flat, "%d.count", l));
		} else if (!strcmp(ev, "\"start\"")) {
			j->start++;
			j->t_start = t;
			j->queue_start = getf(self->flat, "%d.queue_ns", l);
		} else if (!strcmp(ev, "\"done\"")) {
			j->done++;
			j->t_done = t;
			j->queue_done = getf(self->flat, "%d.queue_ns", l);
			j->run = getf(self->flat, "%d.run_ns", l);
			EXPECT_EQ(0, getf(self->flat, "%d.status", l));
			EXPECT_EQ(0, getf(self->flat, "%d.error", l));
			EXPECT_LT(0, getf(self->flat, "%d.wall_ns", l));
			EXPECT_EQ(compute ? 0 : JOB_SIZE, getf(self->flat, "%d.bytes", l));
			if (compute)
				EXPECT_EQ((double)self->cycles[j - jobs - NDMA],
					  getf(self->flat, "%d.cycles", l));
		} else if (!strcmp(ev, "\"dma\"")) {
			j->dma++;
			EXPECT_FALSE(compute);
			EXPECT_EQ(JOB_SIZE, getf(self->flat, "%d.bytes", l));
			EXPECT_STREQ("\"h2d\"", gets_(self->flat, s, sizeof(s), "%d.dir", l));
			EXPECT_EQ(0, getf(self->flat, "%d.queue", l));
		} else {
			EXPECT_TRUE(false) TH_LOG("line %d: event %s", l, ev);
		}
	}
	for (i = 0; i < n; i++) {
		struct seen *j = &jobs[i];

		EXPECT_EQ(1, j->submit) TH_LOG("job %llu", (unsigned long long)j->id);
		EXPECT_EQ(1, j->start) TH_LOG("job %llu", (unsigned long long)j->id);
		EXPECT_EQ(1, j->done) TH_LOG("job %llu", (unsigned long long)j->id);
		EXPECT_EQ(i < NDMA ? 1 : 0, j->dma) TH_LOG("job %llu", (unsigned long long)j->id);
		/* Sane latencies: in order, and inside the workload's wall time. */
		EXPECT_LE(j->t_submit, j->t_start);
		EXPECT_LE(j->t_start, j->t_done);
		EXPECT_EQ(j->queue_start, j->queue_done);
		EXPECT_GE((double)self->wall_ns, j->queue_done + j->run)
			TH_LOG("job %llu: queued %.0f + ran %.0f ns > workload %llu ns",
			       (unsigned long long)j->id, j->queue_done, j->run,
			       (unsigned long long)self->wall_ns);
	}
}

TEST_F_TIMEOUT(trace, text, SECS)
{
	char count[16], minor[16], want[128];
	const char *args[] = { "-e", "-c", count, "-d", minor, "-D", "120", NULL };
	int ret, dones = 0;
	const char *p;

	snprintf(count, sizeof(count), "%d", NDMA + self->nlaunch);
	snprintf(minor, sizeof(minor), "%u", self->minor);
	ret = traced(_metadata, self, args, 0);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	EXPECT_EQ(0, strncmp(self->out, "TIME(s)", 7)) TH_LOG("%s", self->out);
	for (p = self->out; (p = strstr(p, " done ")); p++)
		dones++;
	EXPECT_EQ(NDMA + self->nlaunch, dones) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "\n%d jobs completed in ", NDMA + self->nlaunch);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "\nsubmit -> start, dma jobs: %d\n", NDMA);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "\nstart -> done, compute jobs: %d\n", self->nlaunch);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "\n%-7d %-16s %-8s %8d ", getpid(), self->comm, "dma", NDMA);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no \"%s\" in\n%s", want, self->out);
}

/* Interval reports cover the workload once between them. */
TEST_F_TIMEOUT(trace, interval, SECS)
{
	char minor[16];
	const char *args[] = { "--json", "-i", "0.3", "-d", minor, NULL };
	double sum = 0, dma = 0;
	int ret, lines, l;

	snprintf(minor, sizeof(minor), "%u", self->minor);
	ret = traced(_metadata, self, args, SIGINT);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat)))
		TH_LOG("not JSON lines:\n%s", self->out);
	lines = (int)getf(self->flat, "lines");
	EXPECT_LE(2, lines) TH_LOG("%s", self->out);
	for (l = 0; l < lines; l++) {
		char s[32];

		EXPECT_STREQ("\"report\"", gets_(self->flat, s, sizeof(s), "%d.type", l));
		EXPECT_LT(0, getf(self->flat, "%d.duration_s", l));
		sum += getf(self->flat, "%d.completions", l);
		dma += getf(self->flat, "%d.completions_by_kind.dma", l);
	}
	EXPECT_EQ(NDMA + self->nlaunch, sum) TH_LOG("%s", self->out);
	EXPECT_EQ(NDMA, dma);
}

/* -p of another process and -d of another device: nothing. */
TEST_F_TIMEOUT(trace, filters, SECS)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	const char *other_pid[] = { "-e", "--json", "-p", "1", NULL };
	char other[16];
	const char *other_dev[] = { "-e", "--json", "-d", other, NULL };
	int ret;

	ret = traced(_metadata, self, other_pid, SIGINT);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat))) TH_LOG("%s", self->out);
	EXPECT_EQ(1, getf(self->flat, "lines")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, getf(self->flat, "0.completions"));
	EXPECT_TRUE(isnan(getf(self->flat, "0.processes.0.pid")));

	if (tern_minors(minors, TERN_TEST_MAX_DEVS) < 2)
		SKIP(return, "one device: no other device to filter on");
	snprintf(other, sizeof(other), "%u", minors[1] == self->minor ? minors[0] : minors[1]);
	ret = traced(_metadata, self, other_dev, SIGINT);
	ASSERT_EQ(0, ret) TH_LOG("tern-trace: %s", self->err);
	ASSERT_EQ(0, flatten(self->out, self->flat, sizeof(self->flat))) TH_LOG("%s", self->out);
	EXPECT_EQ(1, getf(self->flat, "lines")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, getf(self->flat, "0.completions"));
}

TEST_F(trace, bad_options)
{
	static const char *const cases[][4] = {
		{ "-x", NULL },
		{ "--no-such-option", NULL },
		{ "-c", NULL },
		{ "-c", "0", NULL },
		{ "-c", "abc", NULL },
		{ "-c", "-1", NULL },
		{ "-i", "0", NULL },
		{ "-i", "4000", NULL },
		{ "-D", "x", NULL },
		{ "-d", "zero", NULL },
		{ "-p", "0", NULL },
		{ "extra", NULL },
	};
	const char *help[] = { "--help", NULL };
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = trace_run(cases[i], -1, self->out, sizeof(self->out), self->err,
				    sizeof(self->err));

		EXPECT_EQ(2, ret) TH_LOG("%s %s", cases[i][0], cases[i][1] ? cases[i][1] : "");
		EXPECT_NE(NULL, strstr(self->err, "Try 'tern-trace --help'")) TH_LOG("case %u", i);
		EXPECT_EQ(0, strlen(self->out)) TH_LOG("case %u printed something", i);
	}
	EXPECT_EQ(0, trace_run(help, -1, self->out, sizeof(self->out), self->err,
			       sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->out, "usage: tern-trace"));
}

/* It cannot trace: says why, exits 1. */
TEST_F(trace, cannot_trace)
{
	const char *args[] = { "-D", "1", NULL };
	const char *no_dev[] = { "-d", "4000", "-D", "1", NULL };

	EXPECT_EQ(1, trace_run(args, 65534, self->out, sizeof(self->out), self->err,
			       sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "permission denied")) TH_LOG("%s", self->err);
	EXPECT_EQ(0, strlen(self->out));
	EXPECT_EQ(1, trace_run(no_dev, -1, self->out, sizeof(self->out), self->err,
			       sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "no device /dev/accel/accel4000")) TH_LOG("%s", self->err);
}

TEST_HARNESS_MAIN
