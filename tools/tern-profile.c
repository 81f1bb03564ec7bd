// SPDX-License-Identifier: MIT
/*
 * tern-profile: run one operation, or a program image, with libtern's
 * profiling on, and write what every engine did as a Chrome/Perfetto trace.
 *
 *   tern-profile [options] OP [op options]
 *   tern-profile [options] --program FILE --slot SIZE...
 *
 * The op or program runs as with tern-run (the same command line, op_cli.c)
 * between tern_profile_start() and tern_profile_stop(); the profile goes
 * to -o FILE (tern-profile.json; "-" for stdout) by
 * tern_profile_write_json(), and a summary is printed: per core engine its
 * instructions, busy cycles, share of the launches' modeled time, semaphore
 * waits and the opcodes that took the most time; the DMA bytes and modeled
 * bandwidth; the copy jobs; and every launch. --json prints the summary as
 * one JSON object. Documentation/tools/tern-profile.rst has every field.
 *
 * Exit status: 0 when the op passed (or the program ran) and the trace was
 * written, 1 when something failed (no device, no permission, a chip or
 * driver without profiles, a fault, a FAIL of the check, the trace not
 * written), 2 for a bad command line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "op_cli.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define TOP_OPCODES	3
#define MAX_INSNS	(4ull << 20)	/* --max-insns: four full streams */

enum { OPT_OUTPUT = 'o', OPT_MAX_INSNS = 1 };

struct ctx {
	const char *output;		/* -o: trace file, "-" for stdout */
	size_t max_insns;		/* 0: the library's default */
	struct tern_profile *prof;	/* from tern_profile_stop() */
	int start_err;
};

static const struct option tool_opts[] = {
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "max-insns", required_argument, NULL, OPT_MAX_INSNS },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-profile [options] OP [op options]\n"
		"       tern-profile [options] --program FILE --slot SIZE [--slot SIZE]...\n"
		"Run OP (on random inputs, checked against the CPU reference) or a program\n"
		"image with profiling on, write a Chrome/Perfetto trace of every engine's\n"
		"instructions, the semaphore waits, the launches and the copy jobs, and print\n"
		"a summary per core engine, of the DMA and of the launches. Times are the\n"
		"chip's modeled cycles; copies and host walls are host time.\n"
		"\n");
	op_cli_usage_ops(f);
	fprintf(f,
		"  -o, --output FILE        the trace (tern-profile.json); - for stdout, then\n"
		"                           the summary goes to stderr\n"
		"  --max-insns N            instruction records kept per launch (65536); the\n"
		"                           others are counted as dropped\n"
		"  -j, --json               print the summary as one JSON object\n"
		"  -h, --help               print this help\n"
		"\n"
		"Open the trace in Perfetto (ui.perfetto.dev) or chrome://tracing.\n"
		"Exit status: 0 ran (and the op passed), 1 a failure while running or a chip\n"
		"or driver without profiles, 2 a bad command line.\n");
}

static int tool_option(int opt, const char *arg, void *p)
{
	struct ctx *c = p;
	unsigned long long v;
	char *end;

	switch (opt) {
	case OPT_OUTPUT:
		if (!*arg)
			return op_cli_usage_error("--output needs a file name (or -)");
		c->output = arg;
		return 0;
	case OPT_MAX_INSNS:
		errno = 0;
		v = arg[0] >= '0' && arg[0] <= '9' ? strtoull(arg, &end, 10) : 0;
		if (arg[0] < '0' || arg[0] > '9' || errno || *end || v < 1 || v > MAX_INSNS)
			return op_cli_usage_error("--max-insns \"%s\": must be 1..%llu", arg,
						  MAX_INSNS);
		c->max_insns = (size_t)v;
		return 0;
	}
	return 2;
}

/* ---- the session around the run ---- */

static int start(struct tern_device *dev, const struct tern_device_info *info, void *p)
{
	struct ctx *c = p;
	int err = tern_profile_start(dev, c->max_insns);

	if (!err)
		return 0;
	c->start_err = err;
	if (err == -EOPNOTSUPP)
		fprintf(stderr, "tern-profile: tern%u cannot profile launches: %s\n"
			"  (profiles need the tern driver's UAPI 1.4 and a chip with TERN_CAP_PROFILE,"
			" register interface 1.4)\n", info->index, tern_last_error());
	else
		fprintf(stderr, "tern-profile: tern%u: cannot start profiling: %s\n  (%s)\n",
			info->index, tern_strerror(err), tern_last_error());
	return 1;
}

static int stop(struct tern_device *dev, void *p)
{
	struct ctx *c = p;
	int err = tern_profile_stop(dev, &c->prof);

	if (err) {
		fprintf(stderr, "tern-profile: cannot stop profiling: %s\n", tern_last_error());
		return 1;
	}
	return 0;
}

/* ---- the summary ---- */

/* One core engine over the session's launches. */
struct eng {
	uint64_t insns;			/* records */
	uint64_t status_insns;		/* what the launches' status counted */
	uint64_t busy;			/* sum of end - start */
	uint64_t wait;			/* sum of start - ready */
	uint64_t waits;			/* instructions that waited */
	uint64_t bytes;			/* DMA bytes */
	uint64_t op_cycles[256];
	uint64_t op_count[256];
	unsigned int top[TOP_OPCODES];	/* opcodes by time, op_count 0 past the last */
};

struct summary {
	unsigned int ncores;
	struct eng *eng;		/* [core * 4 + engine] */
	uint64_t *core_cycles;		/* per core: its launches' modeled cycles */
	uint64_t dropped;
	uint64_t copy_bytes[4], copy_ns[4], copies[4];	/* per TERN_PROFILE_ direction */
};

static int summarize(const struct tern_profile *p, struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->ncores = p->num_cores;
	s->eng = calloc((size_t)p->num_cores * TERN_NUM_ENGINES + 1, sizeof(*s->eng));
	s->core_cycles = calloc(p->num_cores + 1, sizeof(*s->core_cycles));
	if (!s->eng || !s->core_cycles)
		return -ENOMEM;
	for (size_t i = 0; i < p->nlaunches; i++) {
		const struct tern_profile_launch *l = &p->launches[i];

		if (l->core >= p->num_cores)
			continue;
		s->core_cycles[l->core] += l->cycles;
		s->dropped += l->dropped;
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
			s->eng[l->core * TERN_NUM_ENGINES + e].status_insns += l->insn_count[e];
		for (size_t k = 0; k < l->ninsns; k++) {
			const struct tern_profile_insn *in = &l->insns[k];
			struct eng *g;
			uint64_t cyc = in->end > in->start ? in->end - in->start : 0;

			if (in->engine >= TERN_NUM_ENGINES)
				continue;
			g = &s->eng[l->core * TERN_NUM_ENGINES + in->engine];
			g->insns++;
			g->busy += cyc;
			g->bytes += in->bytes;
			if (in->start > in->ready) {
				g->wait += in->start - in->ready;
				g->waits++;
			}
			g->op_cycles[in->opcode & 0xff] += cyc;
			g->op_count[in->opcode & 0xff]++;
		}
	}
	for (unsigned int i = 0; i < p->num_cores * TERN_NUM_ENGINES; i++) {
		struct eng *g = &s->eng[i];
		bool taken[256] = { false };

		for (unsigned int t = 0; t < TOP_OPCODES; t++) {
			int best = -1;

			for (int op = 0; op < 256; op++)
				if (g->op_count[op] && !taken[op] &&
				    (best < 0 || g->op_cycles[op] > g->op_cycles[best]))
					best = op;
			g->top[t] = best < 0 ? 0 : (unsigned int)best;
			if (best >= 0)
				taken[best] = true;
		}
	}
	for (size_t i = 0; i < p->ncopies; i++) {
		const struct tern_profile_copy *c = &p->copies[i];
		unsigned int d = c->direction & 3;

		s->copies[d]++;
		s->copy_bytes[d] += c->bytes;
		s->copy_ns[d] += c->host_end_ns - c->host_start_ns;
	}
	return 0;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double us_of(const struct tern_profile *p, uint64_t cycles)
{
	return (double)cycles * 1e6 / (double)p->clock_hz;
}

/* Bytes per modeled second of @cycles, in GB/s (0 without cycles). */
static double gbps(const struct tern_profile *p, uint64_t bytes, uint64_t cycles)
{
	return cycles ? (double)bytes / ((double)cycles / (double)p->clock_hz) / 1e9 : 0.0;
}

static bool engine_shown(const struct eng *g)
{
	return g->insns || g->status_insns;
}

static const char *const dir_names[4] = { "h2d", "d2h", "d2d", "h2h" };

static void print_text(FILE *f, const struct tern_profile *p, const struct summary *s,
		       const char *what, const char *trace)
{
	uint64_t dma_bytes = 0, dma_busy = 0;

	fprintf(f, "%s on tern%u: %zu launch%s, %zu copy job%s; trace %s\n", what, p->device,
		p->nlaunches, p->nlaunches == 1 ? "" : "es", p->ncopies,
		p->ncopies == 1 ? "" : "s", trace);
	fprintf(f, "\n%-6s %-7s %8s %12s %7s %12s  %s\n", "core", "engine", "insns",
		"busy cyc", "busy%", "sem wait cyc", "top opcodes by time");
	for (unsigned int c = 0; c < s->ncores; c++) {
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			const struct eng *g = &s->eng[c * TERN_NUM_ENGINES + e];

			if (!engine_shown(g))
				continue;
			if (e == TERN_ENGINE_DMA) {
				dma_bytes += g->bytes;
				dma_busy += g->busy;
			}
			fprintf(f, "%-6u %-7s %8" PRIu64 " %12" PRIu64 " %6.1f%% %12" PRIu64 " ",
				c, op_cli_engine_names[e], g->insns, g->busy,
				pct(g->busy, s->core_cycles[c]), g->wait);
			for (unsigned int t = 0; t < TOP_OPCODES; t++)
				if (g->op_count[g->top[t]])
					fprintf(f, " %s %.1f%%", tern_opcode_name(g->top[t]),
						pct(g->op_cycles[g->top[t]], g->busy));
			fputc('\n', f);
		}
	}
	fprintf(f, "\nDMA engines: %" PRIu64 " bytes in %" PRIu64 " busy cycles: %.1f GB/s modeled\n",
		dma_bytes, dma_busy, gbps(p, dma_bytes, dma_busy));
	for (unsigned int d = 0; d < 4; d++)
		if (s->copies[d])
			fprintf(f, "copy jobs %s: %" PRIu64 " job%s, %" PRIu64 " bytes, %.3f ms host, "
				"%.2f GB/s host\n", dir_names[d], s->copies[d],
				s->copies[d] == 1 ? "" : "s", s->copy_bytes[d], s->copy_ns[d] / 1e6,
				s->copy_ns[d] ? (double)s->copy_bytes[d] / (double)s->copy_ns[d] : 0.0);
	if (s->dropped)
		fprintf(f, "dropped:  %" PRIu64 " instruction records did not fit (--max-insns)\n",
			s->dropped);
	fprintf(f, "\n%-4s %-12s %4s %12s %12s %12s  %s\n", "#", "launch", "core", "cycles",
		"modeled us", "host us", "result");
	for (size_t i = 0; i < p->nlaunches; i++) {
		const struct tern_profile_launch *l = &p->launches[i];

		fprintf(f, "%-4zu %-12s %4u %12" PRIu64 " %12.3f %12.1f  %s\n", i, l->name, l->core,
			l->cycles, us_of(p, l->cycles), (l->host_end_ns - l->host_start_ns) / 1e3,
			l->result ? tern_strerror(l->result) : "ok");
	}
}

static void print_json(const struct tern_profile *p, const struct summary *s,
		       const struct op_cli_args *a, const char *trace, int pass)
{
	uint64_t dma_bytes = 0, dma_busy = 0;
	bool first = true;

	printf("{\"device\": %u, ", p->device);
	if (a->program) {
		printf("\"program\": ");
		json_string(a->program);
	} else {
		printf("\"op\": ");
		json_string(a->op_name);
		printf(", \"pass\": %s", pass ? "true" : "false");
	}
	printf(", \"trace\": ");
	json_string(trace);
	printf(", \"clock_hz\": %" PRIu64 ", \"engines\": [", p->clock_hz);
	for (unsigned int c = 0; c < s->ncores; c++) {
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			const struct eng *g = &s->eng[c * TERN_NUM_ENGINES + e];

			if (!engine_shown(g))
				continue;
			if (e == TERN_ENGINE_DMA) {
				dma_bytes += g->bytes;
				dma_busy += g->busy;
			}
			printf("%s{\"core\": %u, \"engine\": \"%s\", \"insns\": %" PRIu64
			       ", \"status_insns\": %" PRIu64 ", \"busy_cycles\": %" PRIu64
			       ", \"busy_pct\": ", first ? "" : ", ", c, op_cli_engine_names[e],
			       g->insns, g->status_insns, g->busy);
			op_cli_json_number(pct(g->busy, s->core_cycles[c]));
			printf(", \"wait_cycles\": %" PRIu64 ", \"waits\": %" PRIu64 ", \"bytes\": %"
			       PRIu64 ", \"top\": [", g->wait, g->waits, g->bytes);
			for (unsigned int t = 0; t < TOP_OPCODES; t++)
				if (g->op_count[g->top[t]])
					printf("%s{\"opcode\": \"%s\", \"count\": %" PRIu64
					       ", \"cycles\": %" PRIu64 "}", t ? ", " : "",
					       tern_opcode_name(g->top[t]), g->op_count[g->top[t]],
					       g->op_cycles[g->top[t]]);
			printf("]}");
			first = false;
		}
	}
	printf("], \"dma\": {\"bytes\": %" PRIu64 ", \"busy_cycles\": %" PRIu64 ", \"gbps_modeled\": ",
	       dma_bytes, dma_busy);
	op_cli_json_number(gbps(p, dma_bytes, dma_busy));
	printf("}, \"copies\": {");
	for (unsigned int d = 0; d < 4; d++)
		printf("%s\"%s\": {\"jobs\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"wall_ns\": %"
		       PRIu64 "}", d ? ", " : "", dir_names[d], s->copies[d], s->copy_bytes[d],
		       s->copy_ns[d]);
	printf("}, \"dropped\": %" PRIu64 ", \"launches\": [", s->dropped);
	for (size_t i = 0; i < p->nlaunches; i++) {
		const struct tern_profile_launch *l = &p->launches[i];

		printf("%s{\"name\": ", i ? ", " : "");
		json_string(l->name);
		printf(", \"core\": %u, \"result\": %d, \"cycles\": %" PRIu64 ", \"modeled_us\": ",
		       l->core, l->result, l->cycles);
		op_cli_json_number(us_of(p, l->cycles));
		printf(", \"wall_ns\": %" PRIu64 ", \"records\": %zu, \"dropped\": %u, \"insns\": {",
		       l->host_end_ns - l->host_start_ns, l->ninsns, l->dropped);
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
			printf("%s\"%s\": %u", e ? ", " : "", op_cli_engine_names[e], l->insn_count[e]);
		printf("}, \"busy\": {");
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
			printf("%s\"%s\": %" PRIu64, e ? ", " : "", op_cli_engine_names[e], l->busy[e]);
		printf("}}");
	}
	printf("]}\n");
}

/* Writes the trace to c->output; 0 or 1 (message printed). */
static int write_trace(const struct ctx *c)
{
	bool out = !strcmp(c->output, "-");
	FILE *f = out ? stdout : fopen(c->output, "w");
	int err;

	if (!f) {
		fprintf(stderr, "tern-profile: cannot write %s: %s\n", c->output, strerror(errno));
		return 1;
	}
	err = tern_profile_write_json(c->prof, f);
	if (!out && fclose(f))
		err = -EIO;
	if (err) {
		fprintf(stderr, "tern-profile: writing %s failed\n", out ? "stdout" : c->output);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c = { .output = "tern-profile.json" };
	const struct op_cli_tool tool = {
		.name = "tern-profile", .usage = usage, .opts = tool_opts, .shortopts = "o:",
		.option = tool_option, .ctx = &c,
	};
	const struct op_cli_hooks hooks = { .start = start, .stop = stop, .ctx = &c };
	struct op_cli_result r;
	struct op_cli_args a;
	struct summary s;
	char what[256];
	int ret, wret;
	bool pass;

	ret = op_cli_parse(argc, argv, &tool, &a);
	if (ret)
		return ret;
	if (a.json && !strcmp(c.output, "-"))
		return op_cli_usage_error("--json and -o - would both write to stdout");
	ret = op_cli_run(&a, &hooks, &r);
	pass = r.report && (a.program ? !r.err : r.pass);
	if (!c.prof) {
		op_cli_result_free(&r);
		return ret ? ret : 1;
	}
	wret = write_trace(&c);
	if (summarize(c.prof, &s)) {
		fprintf(stderr, "tern-profile: out of memory\n");
		wret = 1;
	} else if (a.json) {
		print_json(c.prof, &s, &a, c.output, pass);
	} else {
		if (a.program)
			snprintf(what, sizeof(what), "program %s", a.program);
		else
			snprintf(what, sizeof(what), "%s%s", a.op_name,
				 r.report ? (r.pass ? " (PASS)" : " (FAIL)") : "");
		print_text(strcmp(c.output, "-") ? stdout : stderr, c.prof, &s, what,
			   strcmp(c.output, "-") ? c.output : "on stdout");
	}
	if (r.report && !a.program && !r.pass) {
		fprintf(stderr, "tern-profile: %s FAILED: max abs error %.3g exceeds the tolerance %.3g\n",
			a.op_name, r.err_max, r.tol);
		ret = 1;
	}
	free(s.eng);
	free(s.core_cycles);
	tern_profile_free(c.prof);
	op_cli_result_free(&r);
	return ret ? ret : wret;
}
