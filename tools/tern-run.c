// SPDX-License-Identifier: MIT
/*
 * tern-run: run one operation, or a program image, on a core of a tern chip.
 *
 *   tern-run OP [options]          an op of tern_ops.h on random inputs,
 *                                  checked against its CPU reference
 *   tern-run --program FILE --slot SIZE... [options]
 *                                  a program image, on zero-filled buffers
 *
 * Prints the max abs error against tern_op_reference() and the tolerance of
 * tern_op_tolerance() (PASS/FAIL), the modeled time of the launch (cycles,
 * per-engine busy), the emulator's device time and the wall time, and for
 * matmul and attention the achieved GFLOP/s. --json prints one JSON object.
 *
 * Exit status: 0 when the op passed (or the program ran), 1 when something
 * failed while running (no device, no permission, an unreadable or refused
 * program, a fault, a FAIL of the check), 2 for a bad command line.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "op_cli.h"
#include "tern.h"
#include "tern_ops.h"

#define engine_names	op_cli_engine_names
#define dtype_names	op_cli_dtype_names
#define act_names	op_cli_act_names
#define json_number	op_cli_json_number

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-run OP [options]\n"
		"       tern-run --program FILE --slot SIZE [--slot SIZE]... [options]\n"
		"Run OP on random inputs in [-1, 1] on a core of a tern chip, check it against\n"
		"the CPU reference, and print the max abs error, the modeled time of the chip,\n"
		"the emulator's device time and the wall time. With --program, run a program\n"
		"image (as written by tern_prog_finish()) on zero-filled device buffers.\n"
		"\n");
	op_cli_usage_ops(f);
	fprintf(f,
		"  -j, --json               print one JSON object instead of text\n"
		"  -h, --help               print this help\n"
		"\n"
		"Exit status: 0 PASS (or the program ran), 1 FAIL or a failure while running,\n"
		"2 a bad command line.\n");
}

static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000)
		snprintf(buf, len, "%.3f us", ns / 1e3);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 10000000)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_status_text(const struct tern_launch_status *st, double flops)
{
	char b1[32], b2[32];
	unsigned int e;

	printf("  modeled   %s, %" PRIu64 " cycles", fmt_ns(st->modeled_ns, b1, sizeof(b1)),
	       st->cycles);
	if (flops > 0 && st->modeled_ns)
		printf(", %.1f GFLOP/s", flops / (double)st->modeled_ns);
	printf("\n  busy     ");
	for (e = 0; e < TERN_NUM_ENGINES; e++)
		printf("%s %s %.1f%% (%u insns)", e ? "," : "", engine_names[e],
		       pct(st->busy[e], st->cycles), st->insns[e]);
	printf("\n  device    %s (host time the emulated core computed)\n",
	       fmt_ns(st->device_ns, b1, sizeof(b1)));
	printf("  wall      %s", fmt_ns(st->wall_ns, b2, sizeof(b2)));
	if (flops > 0 && st->wall_ns)
		printf(", %.2f GFLOP/s", flops / (double)st->wall_ns);
	printf("\n");
}

static void print_launches_text(const struct op_cli_launch *l, unsigned int n, const char *what)
{
	char b1[32], b2[32], b3[32];
	unsigned int i;

	if (n == 1) {
		printf("  %-9s %s before the first launch\n", what,
		       fmt_ns(l[0].prepare_ns, b1, sizeof(b1)));
		return;
	}
	for (i = 0; i < n; i++)
		printf("  launch %-2u %s %s, launch %s, device %s\n", i + 1, what,
		       fmt_ns(l[i].prepare_ns, b1, sizeof(b1)),
		       fmt_ns(l[i].st.wall_ns, b2, sizeof(b2)),
		       fmt_ns(l[i].st.device_ns, b3, sizeof(b3)));
}

static void print_status_json(const struct tern_launch_status *st, double flops)
{
	unsigned int e;

	printf(", \"core\": %u, \"cycles\": %" PRIu64 ", \"modeled_ns\": %" PRIu64
	       ", \"busy_pct\": {", st->core, st->cycles, st->modeled_ns);
	for (e = 0; e < TERN_NUM_ENGINES; e++) {
		printf("%s\"%s\": ", e ? ", " : "", engine_names[e]);
		json_number(pct(st->busy[e], st->cycles));
	}
	printf("}, \"insns\": {");
	for (e = 0; e < TERN_NUM_ENGINES; e++)
		printf("%s\"%s\": %u", e ? ", " : "", engine_names[e], st->insns[e]);
	printf("}, \"device_ns\": %" PRIu64 ", \"wall_ns\": %" PRIu64, st->device_ns,
	       st->wall_ns);
	if (flops > 0) {
		printf(", \"flops\": %.0f, \"gflops_modeled\": ", flops);
		json_number(st->modeled_ns ? flops / (double)st->modeled_ns : NAN);
		printf(", \"gflops_wall\": ");
		json_number(st->wall_ns ? flops / (double)st->wall_ns : NAN);
	}
}

static void print_launches_json(const struct op_cli_launch *l, unsigned int n)
{
	unsigned int i;

	printf(", \"launches\": [");
	for (i = 0; i < n; i++)
		printf("%s{\"prepare_ns\": %" PRIu64 ", \"wall_ns\": %" PRIu64
		       ", \"device_ns\": %" PRIu64 ", \"modeled_ns\": %" PRIu64 "}",
		       i ? ", " : "", l[i].prepare_ns, l[i].st.wall_ns, l[i].st.device_ns,
		       l[i].st.modeled_ns);
	printf("]");
}


static void describe_shape(const struct op_cli_args *a, unsigned int kind, char *buf, size_t len)
{
	switch (kind) {
	case TERN_OPKIND_MATMUL:
		snprintf(buf, len, "m=%" PRIu64 " n=%" PRIu64 " k=%" PRIu64, a->m, a->n, a->k);
		break;
	case TERN_OPKIND_ATTENTION:
		snprintf(buf, len, "sq=%" PRIu64 " sk=%" PRIu64 " d=%" PRIu64 " dv=%" PRIu64
			 "%s scale=%g", a->sq, a->sk, a->d, a->dv, a->causal ? " causal" : "",
			 a->scale);
		break;
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		snprintf(buf, len, "rows=%" PRIu64 " cols=%" PRIu64 " eps=%g", a->rows, a->cols,
			 a->eps);
		break;
	case TERN_OPKIND_BIAS:
		snprintf(buf, len, "rows=%" PRIu64 " cols=%" PRIu64 " act=%s", a->rows, a->cols,
			 op_cli_act_names[a->act]);
		break;
	default:
		snprintf(buf, len, "rows=%" PRIu64 " cols=%" PRIu64, a->rows, a->cols);
		break;
	}
}

static void json_shape(const struct op_cli_args *a, unsigned int kind)
{
	switch (kind) {
	case TERN_OPKIND_MATMUL:
		printf("{\"m\": %" PRIu64 ", \"n\": %" PRIu64 ", \"k\": %" PRIu64 "}", a->m, a->n,
		       a->k);
		break;
	case TERN_OPKIND_ATTENTION:
		printf("{\"sq\": %" PRIu64 ", \"sk\": %" PRIu64 ", \"d\": %" PRIu64 ", \"dv\": %"
		       PRIu64 ", \"causal\": %s, \"scale\": ", a->sq, a->sk, a->d, a->dv,
		       a->causal ? "true" : "false");
		op_cli_json_number(a->scale);
		printf("}");
		break;
	default:
		printf("{\"rows\": %" PRIu64 ", \"cols\": %" PRIu64, a->rows, a->cols);
		if (kind == TERN_OPKIND_LAYERNORM || kind == TERN_OPKIND_RMSNORM) {
			printf(", \"eps\": ");
			op_cli_json_number(a->eps);
		}
		if (kind == TERN_OPKIND_BIAS)
			printf(", \"act\": \"%s\"", op_cli_act_names[a->act]);
		printf("}");
		break;
	}
}

/* The fault of a launch that failed, from its status. */
static void describe_fault(const struct tern_launch_status *st, char *buf, size_t len)
{
	switch (st->result) {
	case -EIO:
		if (st->engine < TERN_NUM_ENGINES)
			snprintf(buf, len, "FAULT: %s (error %u), %s engine, instruction %u, "
				 "detail %#" PRIx64, st->error_name, st->error,
				 op_cli_engine_names[st->engine], st->index, st->detail);
		else
			snprintf(buf, len, "FAULT: %s (error %u), no instruction, detail %#" PRIx64,
				 st->error_name, st->error, st->detail);
		break;
	case -ETIMEDOUT:
		snprintf(buf, len, "TIMEOUT: the job ran past its timeout; the core was reset");
		break;
	case -ECANCELED:
		snprintf(buf, len, "CANCELED: a reset or unbind aborted the job");
		break;
	default:
		snprintf(buf, len, "%s", tern_strerror(st->result));
		break;
	}
}

/* Floating-point operations of a matmul or attention (0 for the others). */
static double op_flops(const struct op_cli_args *a, unsigned int kind)
{
	double pairs = 0;
	uint64_t i;

	if (kind == TERN_OPKIND_MATMUL)
		return 2.0 * a->m * a->n * a->k;
	if (kind != TERN_OPKIND_ATTENTION)
		return 0;
	/* Q K^T and P V over the (query, key) pairs that count: causal skips half */
	for (i = 0; i < a->sq; i++)
		pairs += a->causal ? (double)(i + a->sk - a->sq + 1) : (double)a->sk;
	return 2.0 * pairs * (double)(a->d + a->dv);
}

/* The report of an op that ran: 0 PASS, 1 FAIL. */
static int report_op(const struct op_cli_args *a, const struct op_cli_result *r)
{
	const struct tern_launch_status *st = &r->launches[a->repeat - 1].st;
	double flops = op_flops(a, r->op.kind);
	char shape[160], dts[40];

	describe_shape(a, r->op.kind, shape, sizeof(shape));
	snprintf(dts, sizeof(dts), "%s->%s", dtype_names[a->dtype], dtype_names[a->out_dtype]);
	if (a->json) {
		printf("{\"op\": ");
		json_string(a->op_name);
		printf(", \"shape\": ");
		json_shape(a, r->op.kind);
		printf(", \"dtype\": \"%s\", \"out_dtype\": \"%s\", \"device\": %u, \"seed\": %"
		       PRIu64 ", \"max_abs_error\": ", dtype_names[a->dtype],
		       dtype_names[a->out_dtype], r->info.index, a->seed);
		json_number(r->err_max);
		printf(", \"worst\": [%" PRIu64 ", %" PRIu64 "], \"tolerance\": ", r->wr, r->wc);
		json_number(r->tol);
		printf(", \"pass\": %s", r->pass ? "true" : "false");
		print_status_json(st, flops);
		print_launches_json(r->launches, a->repeat);
		printf("}\n");
	} else {
		printf("%s %s %s on tern%u core %u, seed %" PRIu64 "\n", a->op_name, shape, dts,
		       r->info.index, st->core, a->seed);
		printf("  error     max abs %.3g", r->err_max);
		if (r->err_max > 0)
			printf(" at [%" PRIu64 ", %" PRIu64 "]", r->wr, r->wc);
		printf(", tolerance %.3g: %s\n", r->tol, r->pass ? "PASS" : "FAIL");
		print_status_text(st, flops);
		print_launches_text(r->launches, a->repeat, "build+load");
	}
	if (!r->pass) {
		fprintf(stderr, "tern-run: %s FAILED: max abs error %.3g at [%" PRIu64 ", %" PRIu64
			"] (device %.6g, reference %.6g) exceeds the tolerance %.3g\n",
			a->op_name, r->err_max, r->wr, r->wc, r->dev_at, r->ref_at, r->tol);
		return 1;
	}
	return 0;
}

/* The report of a program file that was launched (or failed to). */
static void report_program(const struct op_cli_args *a, struct op_cli_result *r)
{
	const struct tern_launch_status *st = &r->st, *last = NULL;
	unsigned int i;

	if (r->ended)
		describe_fault(st, r->fault, sizeof(r->fault));
	if (r->ran)
		last = &r->launches[r->ran - 1].st;
	if (a->json) {
		printf("{\"program\": ");
		json_string(a->program);
		printf(", \"size\": %zu, \"slots\": [", r->size);
		for (i = 0; i < a->nslots; i++)
			printf("%s%" PRIu64, i ? ", " : "", a->slot_size[i]);
		printf("], \"device\": %u, \"result\": ", r->info.index);
		if (r->err)
			json_string(r->fault);
		else
			printf("\"ok\"");
		if (r->ended) {
			printf(", \"error\": %u, \"error_name\": ", st->error);
			json_string(st->error_name);
			if (st->engine < TERN_NUM_ENGINES)
				printf(", \"engine\": \"%s\", \"index\": %u",
				       engine_names[st->engine], st->index);
			else
				printf(", \"engine\": null, \"index\": null");
			printf(", \"detail\": %" PRIu64, st->detail);
		}
		if (!r->err || r->ended)
			print_status_json(r->err ? st : last, 0);
		print_launches_json(r->launches, r->ran);
		printf("}\n");
	} else {
		printf("program %s (%zu bytes, %u slot%s) on tern%u", a->program, r->size, r->need,
		       r->need == 1 ? "" : "s", r->info.index);
		if (!r->err || r->ended)
			printf(" core %u\n", r->err ? st->core : last->core);
		else
			printf("\n");
		printf("  result    %s\n", r->err ? r->fault : "ok");
		if (!r->err || st->result == -EIO) {
			print_status_text(r->err ? st : last, 0);
			if (r->ran)
				print_launches_text(r->launches, r->ran, "load");
		}
	}
}

int main(int argc, char **argv)
{
	static const struct op_cli_tool tool = { .name = "tern-run", .usage = usage };
	struct op_cli_result r;
	struct op_cli_args a;
	int ret;

	ret = op_cli_parse(argc, argv, &tool, &a);
	if (ret)
		return ret;
	ret = op_cli_run(&a, NULL, &r);
	if (r.report) {
		if (a.program)
			report_program(&a, &r);
		else
			ret = report_op(&a, &r);
	}
	op_cli_result_free(&r);
	return ret;
}
