// SPDX-License-Identifier: MIT
/*
 * tern-trace: why was a job slow? BPF programs on the tern driver's
 * tracepoints (tern-trace.bpf.c) follow every job from submit through
 * start to completion and keep, in BPF maps:
 *   - log2 histograms of submit -> start and start -> done, per kind
 *     (dma, compute), in microseconds;
 *   - a per-process table: jobs, bytes, modeled cycles, failures, by kind.
 * tern-trace prints them at the end (Ctrl-C, -D, -c) or every -i seconds
 * (then each report covers the interval since the previous one);
 * with -e it also prints every event as it happens. --json prints the same
 * as JSON: one object per report, or with -e one per line for each event
 * then the report.
 *
 * It needs root (CAP_BPF and CAP_PERFMON) and the tern module loaded, with
 * its BTF (/sys/kernel/btf/tern). Exit status: 0, 1 when it cannot trace
 * (the message says why), 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "json.h"
#include "tern-trace.h"
#include "tern-trace.skel.h"

#define MODULE_BTF	"/sys/kernel/btf/tern"

static const char *const kind_names[TT_KINDS] = { "dma", "compute" };
static const char *const stage_names[TT_STAGES] = { "submit_to_start", "start_to_done" };
static const char *const stage_titles[TT_STAGES] = { "submit -> start", "start -> done" };
static const char *const event_names[] = {
	[TT_EV_SUBMIT] = "submit", [TT_EV_START] = "start", [TT_EV_DONE] = "done",
	[TT_EV_DMA] = "dma", [TT_EV_FAULT] = "mmu_fault", [TT_EV_RESET] = "reset",
	[TT_EV_LINK] = "link_state",
};

static struct {
	bool events, json, verbose;
	int minor;		/* -1: every device */
	int pid;		/* 0: every process */
	double interval;	/* 0: one report at the end */
	double duration;	/* 0: until Ctrl-C or -c */
	unsigned long long count;
} opt = { .minor = -1 };

static volatile sig_atomic_t stop;
static uint64_t t0_ns;		/* CLOCK_MONOTONIC at attach, as bpf_ktime_get_ns() */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-trace [-e] [-d MINOR] [-p PID] [-i SECONDS] [-c COUNT] [-D SECONDS]\n"
		"                  [--json] [-v] [--help]\n"
		"Traces the jobs of the tern driver with BPF: latency histograms (submit -> start,\n"
		"start -> done) and jobs per process, printed at the end or every interval.\n"
		"  -e, --events          also print every event (submit, start, done, dma,\n"
		"                        mmu_fault, reset, link_state) as it happens\n"
		"  -d, --device MINOR    only the device /dev/accel/accelMINOR\n"
		"  -p, --pid PID         only the jobs of process PID (device events are left out)\n"
		"  -i, --interval SECS   print a report of the last SECS seconds every SECS (0.1 to 3600)\n"
		"  -c, --count COUNT     stop after COUNT job completions\n"
		"  -D, --duration SECS   stop after SECS seconds\n"
		"  -j, --json            JSON: one object per report; with -e one line per event\n"
		"  -v, --verbose         print libbpf's messages\n"
		"  -h, --help            print this help and exit\n"
		"Needs root (CAP_BPF, CAP_PERFMON) and tern.ko loaded. Exit status: 0; 1 when it\n"
		"cannot trace; 2 for a bad option.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tern-trace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tern-trace --help'.\n");
	return 2;
}

static bool parse_ull(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v <= max;
}

static bool parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return *s && !errno && !*end && isfinite(*v) && *v >= 0.1 && *v <= 86400 * 365;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* tern-trace says what went wrong itself; -v adds libbpf's details. */
	(void)level;
	return opt.verbose ? vfprintf(stderr, fmt, ap) : 0;
}

/* ---- events (-e) ---- */

static void print_event_text(const struct tt_event *e)
{
	static bool header;
	double t = (double)(e->ts - t0_ns) / 1e9;

	if (!header) {
		printf("%-12s %-5s %-7s %-16s %-10s %-8s %s\n", "TIME(s)", "DEV", "PID", "COMM",
		       "EVENT", "JOB", "DETAILS");
		header = true;
	}
	printf("%-12.6f %-5u %-7u %-16s %-10s ", t, e->minor, e->pid, e->pid ? e->comm : "-",
	       event_names[e->type]);
	if (e->type <= TT_EV_DMA)
		printf("%-8" PRIu64 " ", (uint64_t)e->job);
	else
		printf("%-8s ", "-");
	switch (e->type) {
	case TT_EV_SUBMIT:
		printf("kind=%s ring=%u count=%u", kind_names[e->kind], e->x, e->y);
		break;
	case TT_EV_START:
		printf("kind=%s queued_us=%.3f", kind_names[e->kind], e->queue_ns / 1e3);
		break;
	case TT_EV_DONE:
		printf("kind=%s status=%d error=%u run_us=%.3f wall_us=%.3f cycles=%" PRIu64
		       " bytes=%" PRIu64, kind_names[e->kind], e->status, e->x, e->run_ns / 1e3,
		       e->a / 1e3, (uint64_t)e->b, (uint64_t)e->c);
		break;
	case TT_EV_DMA:
		printf("queue=%u bytes=%" PRIu64 " dir=%s", e->x, (uint64_t)e->a, e->str);
		break;
	case TT_EV_FAULT:
		printf("ctx=%u va=0x%" PRIx64 " info=0x%x", e->x, (uint64_t)e->a, e->y);
		break;
	case TT_EV_RESET:
		printf("reason=%s", e->str);
		break;
	case TT_EV_LINK:
		printf("port=%u state=%u", e->x, e->y);
		break;
	}
	putchar('\n');
}

static void print_event_json(const struct tt_event *e)
{
	printf("{\"type\": \"event\", \"time\": %.9f, \"minor\": %u, \"event\": \"%s\"",
	       (double)(e->ts - t0_ns) / 1e9, e->minor, event_names[e->type]);
	if (e->pid) {
		printf(", \"pid\": %u, \"comm\": ", e->pid);
		json_string(e->comm);
	}
	if (e->type <= TT_EV_DMA)
		printf(", \"job\": %" PRIu64, (uint64_t)e->job);
	if (e->type <= TT_EV_DONE)
		printf(", \"kind\": \"%s\"", kind_names[e->kind]);
	switch (e->type) {
	case TT_EV_SUBMIT:
		printf(", \"ring\": %u, \"count\": %u", e->x, e->y);
		break;
	case TT_EV_START:
		printf(", \"queue_ns\": %" PRIu64, (uint64_t)e->queue_ns);
		break;
	case TT_EV_DONE:
		printf(", \"status\": %d, \"error\": %u, \"queue_ns\": %" PRIu64 ", \"run_ns\": %"
		       PRIu64 ", \"wall_ns\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"bytes\": %"
		       PRIu64, e->status, e->x, (uint64_t)e->queue_ns, (uint64_t)e->run_ns,
		       (uint64_t)e->a, (uint64_t)e->b, (uint64_t)e->c);
		break;
	case TT_EV_DMA:
		printf(", \"queue\": %u, \"bytes\": %" PRIu64 ", \"dir\": ", e->x, (uint64_t)e->a);
		json_string(e->str);
		break;
	case TT_EV_FAULT:
		printf(", \"ctx\": %u, \"va\": %" PRIu64 ", \"info\": %u", e->x, (uint64_t)e->a,
		       e->y);
		break;
	case TT_EV_RESET:
		printf(", \"reason\": ");
		json_string(e->str);
		break;
	case TT_EV_LINK:
		printf(", \"port\": %u, \"state\": %u", e->x, e->y);
		break;
	}
	printf("}\n");
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct tt_event e;

	(void)ctx;
	if (len < sizeof(e))
		return 0;
	/* A copy: the ring buffer is mapped read-only. */
	memcpy(&e, data, sizeof(e));
	if (e.type > TT_EV_LINK)
		return 0;
	e.comm[TT_COMM_LEN - 1] = '\0';
	e.str[TT_STR_LEN - 1] = '\0';
	if (opt.json)
		print_event_json(&e);
	else
		print_event_text(&e);
	return 0;
}

/* ---- reports ---- */

struct proc_row {
	struct tt_proc_key key;
	struct tt_proc val;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	if (x->val.jobs != y->val.jobs)
		return x->val.jobs < y->val.jobs ? 1 : -1;
	if (x->key.pid != y->key.pid)
		return x->key.pid < y->key.pid ? -1 : 1;
	return (int)x->key.kind - (int)y->key.kind;
}

/* Reads the per-process table into @rows; returns how many. */
static int read_procs(int fd, struct proc_row *rows, int max)
{
	struct tt_proc_key key, next, *prev = NULL;
	int n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &rows[n].val)) {
			rows[n].key = next;
			rows[n].val.comm[TT_COMM_LEN - 1] = '\0';
			n++;
		}
		key = next;
		prev = &key;
	}
	return n;
}

static int read_hists(int fd, struct tt_hist *h)
{
	for (__u32 k = 0; k < TT_STAGES * TT_KINDS; k++)
		if (bpf_map_lookup_elem(fd, &k, &h[k]))
			return -errno;
	return 0;
}

static uint64_t hist_total(const struct tt_hist *h)
{
	uint64_t sum = 0;

	for (int s = 0; s < TT_SLOTS; s++)
		sum += h->slots[s];
	return sum;
}

/* Bucket @s covers [low, high) microseconds. */
static uint64_t slot_low(int s)
{
	return s ? 1ull << (s - 1) : 0;
}

static uint64_t slot_high(int s)
{
	return 1ull << s;
}

static void print_hist_text(const struct tt_hist *h, int stage, int kind)
{
	uint64_t max = 0, total = hist_total(h);
	int first = -1, last = -1;
	char range[48];

	for (int s = 0; s < TT_SLOTS; s++) {
		if (!h->slots[s])
			continue;
		if (first < 0)
			first = s;
		last = s;
		if (h->slots[s] > max)
			max = h->slots[s];
	}
	printf("\n%s, %s jobs: %" PRIu64 "\n", stage_titles[stage], kind_names[kind], total);
	if (!total)
		return;
	printf("%24s : %-8s %s\n", "usecs", "count", "distribution");
	for (int s = first; s <= last; s++) {
		int bar = (int)(h->slots[s] * 40 / max);

		snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64, slot_low(s), slot_high(s));
		printf("%24s : %-8" PRIu64 " |%-40.*s|\n", range, (uint64_t)h->slots[s], bar,
		       "****************************************");
	}
}

static void print_report_text(const struct tt_hist *h, const struct proc_row *rows, int n,
			      double secs, uint64_t lost_jobs, uint64_t lost_events)
{
	uint64_t done = 0;

	for (int i = 0; i < n; i++)
		done += rows[i].val.jobs;
	printf("\n%" PRIu64 " jobs completed in %.3f s", done, secs);
	if (lost_jobs || lost_events)
		printf(" (not followed: %" PRIu64 " jobs, %" PRIu64 " events)", lost_jobs,
		       lost_events);
	putchar('\n');
	for (int s = 0; s < TT_STAGES; s++)
		for (int k = 0; k < TT_KINDS; k++)
			print_hist_text(&h[s * TT_KINDS + k], s, k);
	printf("\n%-7s %-16s %-8s %8s %10s %14s %14s %7s %12s\n", "PID", "COMM", "KIND", "JOBS",
	       "JOBS/S", "BYTES", "CYCLES", "FAILED", "AVG RUN us");
	for (int i = 0; i < n; i++) {
		const struct tt_proc *p = &rows[i].val;

		printf("%-7u %-16s %-8s %8" PRIu64 " %10.1f %14" PRIu64 " %14" PRIu64 " %7" PRIu64
		       " %12.1f\n", rows[i].key.pid, p->comm, kind_names[rows[i].key.kind & 1],
		       (uint64_t)p->jobs, secs > 0 ? p->jobs / secs : 0.0, (uint64_t)p->bytes,
		       (uint64_t)p->cycles, (uint64_t)p->failed,
		       p->jobs ? p->run_ns / 1e3 / p->jobs : 0.0);
	}
	fflush(stdout);
}

static void print_report_json(const struct tt_hist *h, const struct proc_row *rows, int n,
			      double secs, uint64_t lost_jobs, uint64_t lost_events)
{
	uint64_t by_kind[TT_KINDS] = { 0 };
	const char *sep = "";

	for (int i = 0; i < n; i++)
		by_kind[rows[i].key.kind & 1] += rows[i].val.jobs;
	printf("{\"type\": \"report\", \"duration_s\": %.6f, \"completions\": %" PRIu64
	       ", \"completions_by_kind\": {\"dma\": %" PRIu64 ", \"compute\": %" PRIu64 "}"
	       ", \"lost_jobs\": %" PRIu64 ", \"lost_events\": %" PRIu64 ", \"histograms\": [",
	       secs, by_kind[TT_DMA] + by_kind[TT_COMPUTE], by_kind[TT_DMA], by_kind[TT_COMPUTE],
	       lost_jobs, lost_events);
	for (int s = 0; s < TT_STAGES; s++) {
		for (int k = 0; k < TT_KINDS; k++) {
			const struct tt_hist *hh = &h[s * TT_KINDS + k];
			const char *bsep = "";

			printf("%s{\"stage\": \"%s\", \"kind\": \"%s\", \"unit\": \"usecs\", "
			       "\"count\": %" PRIu64 ", \"buckets\": [", sep, stage_names[s],
			       kind_names[k], hist_total(hh));
			for (int b = 0; b < TT_SLOTS; b++) {
				if (!hh->slots[b])
					continue;
				printf("%s{\"low\": %" PRIu64 ", \"high\": %" PRIu64 ", \"count\": %"
				       PRIu64 "}", bsep, slot_low(b), slot_high(b),
				       (uint64_t)hh->slots[b]);
				bsep = ", ";
			}
			printf("]}");
			sep = ", ";
		}
	}
	printf("], \"processes\": [");
	for (int i = 0; i < n; i++) {
		const struct tt_proc *p = &rows[i].val;

		printf("%s{\"pid\": %u, \"comm\": ", i ? ", " : "", rows[i].key.pid);
		json_string(p->comm);
		printf(", \"kind\": \"%s\", \"jobs\": %" PRIu64 ", \"jobs_per_s\": %.3f, \"bytes\": %"
		       PRIu64 ", \"cycles\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"run_ns\": %"
		       PRIu64 "}", kind_names[rows[i].key.kind & 1], (uint64_t)p->jobs,
		       secs > 0 ? p->jobs / secs : 0.0, (uint64_t)p->bytes, (uint64_t)p->cycles,
		       (uint64_t)p->failed, (uint64_t)p->run_ns);
	}
	printf("]}\n");
	fflush(stdout);
}

/*
 * Prints what happened since the previous report: the maps only grow, and
 * each report is the difference from the values the previous one read (so
 * nothing is lost to a job that completes while the maps are read).
 */
static int report(struct tern_trace_bpf *skel, double secs)
{
	static struct proc_row cur[TT_MAX_PROCS], prev[TT_MAX_PROCS], rows[TT_MAX_PROCS];
	static struct tt_hist prev_h[TT_STAGES * TT_KINDS];
	static int nprev;
	struct tt_hist h[TT_STAGES * TT_KINDS], d[TT_STAGES * TT_KINDS];
	int n, nrows = 0, ret;

	ret = read_hists(bpf_map__fd(skel->maps.hists), h);
	if (ret) {
		fprintf(stderr, "tern-trace: cannot read the histograms: %s\n", strerror(-ret));
		return ret;
	}
	for (int k = 0; k < TT_STAGES * TT_KINDS; k++)
		for (int s = 0; s < TT_SLOTS; s++)
			d[k].slots[s] = h[k].slots[s] - prev_h[k].slots[s];
	memcpy(prev_h, h, sizeof(h));

	n = read_procs(bpf_map__fd(skel->maps.procs), cur, TT_MAX_PROCS);
	for (int i = 0; i < n; i++) {
		struct proc_row r = cur[i];

		for (int j = 0; j < nprev; j++) {
			const struct tt_proc *p = &prev[j].val;

			if (prev[j].key.pid != r.key.pid || prev[j].key.kind != r.key.kind)
				continue;
			r.val.jobs -= p->jobs;
			r.val.failed -= p->failed;
			r.val.bytes -= p->bytes;
			r.val.cycles -= p->cycles;
			r.val.run_ns -= p->run_ns;
			break;
		}
		if (r.val.jobs)
			rows[nrows++] = r;
	}
	memcpy(prev, cur, n * sizeof(*cur));
	nprev = n;
	qsort(rows, nrows, sizeof(*rows), cmp_rows);

	if (opt.json)
		print_report_json(d, rows, nrows, secs, skel->bss->lost_jobs,
				  skel->bss->lost_events);
	else
		print_report_text(d, rows, nrows, secs, skel->bss->lost_jobs,
				  skel->bss->lost_events);
	return 0;
}

/* ---- setup ---- */

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", no_argument, NULL, 'e' },
		{ "device", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ed:p:i:c:D:jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			opt.events = true;
			break;
		case 'd':
			if (!parse_ull(optarg, 1u << 20, &v))
				return bad_usage("bad device minor \"%s\" (N of /dev/accel/accelN)",
						 optarg);
			opt.minor = (int)v;
			break;
		case 'p':
			if (!parse_ull(optarg, 1u << 22, &v) || !v)
				return bad_usage("bad pid \"%s\"", optarg);
			opt.pid = (int)v;
			break;
		case 'i':
			if (!parse_secs(optarg, &opt.interval) || opt.interval > 3600)
				return bad_usage("bad interval \"%s\" (seconds, 0.1 to 3600)", optarg);
			break;
		case 'c':
			if (!parse_ull(optarg, 1ull << 40, &opt.count) || !opt.count)
				return bad_usage("bad count \"%s\" (job completions, 1 or more)",
						 optarg);
			break;
		case 'D':
			if (!parse_secs(optarg, &opt.duration))
				return bad_usage("bad duration \"%s\" (seconds, 0.1 or more)", optarg);
			break;
		case 'j':
			opt.json = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			if (optopt) {
				char o[3] = { '-', (char)optopt, '\0' };

				return bad_usage("%s needs a value", o);
			}
			return bad_usage("%s needs a value", argv[optind - 1]);
		default:
			if (optopt) {
				char o[3] = { '-', (char)optopt, '\0' };

				return bad_usage("unknown option \"%s\"", o);
			}
			return bad_usage("unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* Says why loading or attaching failed, from libbpf's -errno. */
static int explain(const char *what, int err)
{
	err = err < 0 ? -err : err;
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "tern-trace: %s: permission denied (run as root, or with CAP_BPF "
			"and CAP_PERFMON)\n", what);
	else if (err == ESRCH || err == ENOENT)
		fprintf(stderr, "tern-trace: %s: the tern tracepoints are not there (is tern.ko "
			"loaded, with BTF in " MODULE_BTF "?)\n", what);
	else
		fprintf(stderr, "tern-trace: %s: %s (-v shows libbpf's messages)\n", what,
			strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct tern_trace_bpf *skel;
	uint64_t start, last, now;
	int ret;

	ret = parse_args(argc, argv);
	if (ret)
		return ret;
	if (access(MODULE_BTF, F_OK)) {
		fprintf(stderr, "tern-trace: the tern module is not loaded (no %s)\n", MODULE_BTF);
		return 1;
	}
	if (opt.minor >= 0) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/class/accel/accel%d", opt.minor);
		if (access(path, F_OK)) {
			fprintf(stderr, "tern-trace: -d %d: no device /dev/accel/accel%d\n",
				opt.minor, opt.minor);
			return 1;
		}
	}
	libbpf_set_print(libbpf_print);

	skel = tern_trace_bpf__open();
	if (!skel)
		return explain("opening the BPF object", errno);
	skel->rodata->filter_minor = opt.minor >= 0;
	skel->rodata->targ_minor = opt.minor >= 0 ? (__u32)opt.minor : 0;
	skel->rodata->targ_pid = (__u32)opt.pid;
	skel->rodata->emit_events = opt.events;
	skel->rodata->max_done = opt.count;
	ret = tern_trace_bpf__load(skel);
	if (ret) {
		ret = explain("loading the BPF programs", ret);
		goto out;
	}
	if (opt.events) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
		if (!rb) {
			ret = explain("creating the ring buffer", errno);
			goto out;
		}
	}
	ret = tern_trace_bpf__attach(skel);
	if (ret) {
		ret = explain("attaching to the tern tracepoints", ret);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0_ns = start = last = now_ns();
	fprintf(stderr, "tern-trace: tracing tern jobs%s; Ctrl-C to end\n",
		opt.events ? " and events" : "");

	while (!stop) {
		if (rb) {
			ret = ring_buffer__poll(rb, 100);
			if (ret < 0 && ret != -EINTR) {
				ret = explain("reading events", ret);
				goto out;
			}
			fflush(stdout);
		} else {
			usleep(100000);
		}
		now = now_ns();
		if (opt.count && skel->bss->done_settled >= opt.count)
			break;
		if (opt.duration && now - start >= (uint64_t)(opt.duration * 1e9))
			break;
		if (opt.interval && now - last >= (uint64_t)(opt.interval * 1e9)) {
			if (report(skel, (now - last) / 1e9))
				break;
			last = now;
		}
	}
	if (rb)
		ring_buffer__consume(rb);
	now = now_ns();
	ret = report(skel, (now - last) / 1e9) ? 1 : 0;
out:
	ring_buffer__free(rb);
	tern_trace_bpf__destroy(skel);
	return ret;
}
