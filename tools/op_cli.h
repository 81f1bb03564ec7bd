/* SPDX-License-Identifier: MIT */
/*
 * The command line of ops and program images, and running them, shared by
 * tern-run and tern-profile (op_cli.c):
 *
 *   TOOL OP [options]                       an op of tern_ops.h on random
 *                                           inputs, checked against its CPU
 *                                           reference
 *   TOOL --program FILE --slot SIZE... [options]
 *                                           a program image on zero-filled
 *                                           device buffers
 *
 * op_cli_parse() reads the shared options (op shapes and dtypes, --program,
 * --slot, --repeat, -d, -c, -j, -h) and the tool's own (struct op_cli_tool);
 * op_cli_run() opens the device, runs, and fills a struct op_cli_result
 * the tool prints. Messages start with the tool's name.
 */
#ifndef TERN_OP_CLI_H
#define TERN_OP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tern.h"
#include "tern_ops.h"

extern const char *const op_cli_engine_names[TERN_NUM_ENGINES];	/* "tensor" .. "dma" */
extern const char *const op_cli_dtype_names[TERN_DT_COUNT];
extern const char *const op_cli_act_names[TERN_ACT_COUNT];

struct op_cli_desc;

/* What the command line asked for. */
struct op_cli_args {
	const struct op_cli_desc *op;	/* NULL with --program */
	const char *op_name;		/* its name ("matmul", ...) */
	uint64_t m, n, k, rows, cols, sq, sk, d, dv;
	bool causal;
	bool scale_given;
	float scale;
	float eps;
	unsigned int act;		/* bias: TERN_ACT_* after the addition */
	unsigned int dtype, out_dtype;
	uint64_t seed;
	const char *program;
	uint64_t slot_size[TERN_MAX_SLOTS];
	unsigned int nslots;
	unsigned int repeat;
	unsigned int device;
	int core;			/* or TERN_CORE_ANY */
	bool json;
	unsigned int given;		/* bit per op option given */
};

/* A tool's own options, besides the shared ones. */
struct op_cli_tool {
	const char *name;		/* "tern-run": messages start with it */
	void (*usage)(FILE *f);		/* --help */
	const struct option *opts;	/* its long options (values below 256), or NULL */
	const char *shortopts;		/* their short forms for getopt ("o:"), or "" */
	/* One of its options with its value (NULL if none): 0, or the exit status (2). */
	int (*option)(int opt, const char *arg, void *ctx);
	void *ctx;
};

/* Reads the command line; 0, or the exit status of a bad one (2, message printed). */
int op_cli_parse(int argc, char **argv, const struct op_cli_tool *tool, struct op_cli_args *a);

/* A bad command line: "<tool>: <message>", the --help hint, and 2. */
int op_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The help lines of OP, the op options, --program, --slot and --repeat. */
void op_cli_usage_ops(FILE *f);

/* Called around the run: after the device opened, and before it closes. */
struct op_cli_hooks {
	/* Before any buffer or launch: 0, or the exit status to stop with. */
	int (*start)(struct tern_device *dev, const struct tern_device_info *info, void *ctx);
	/* After the last launch and copy (also after a failure), if start returned 0. */
	int (*stop)(struct tern_device *dev, void *ctx);
	void *ctx;
};

/* One launch: what it cost beyond the launch itself, and the launch. */
struct op_cli_launch {
	uint64_t prepare_ns;	/* build + load on a cache miss; lookup on a hit */
	struct tern_launch_status st;
};

struct op_cli_result {
	bool report;			/* it ran far enough for the tool's report */
	struct tern_device_info info;
	struct op_cli_launch *launches;	/* a->repeat entries */
	unsigned int ran;		/* launches that succeeded */
	/* an op */
	struct tern_op op;
	double tol, err_max;		/* tern_op_tolerance(), max abs error */
	uint64_t wr, wc;		/* where the error is largest */
	double dev_at, ref_at;		/* the values there */
	bool pass;
	/* a program */
	size_t size;			/* of its image */
	unsigned int need;		/* slots it uses */
	int err;			/* the failed launch's error, else 0 */
	bool ended;			/* a launch ran and failed: st says how */
	struct tern_launch_status st;	/* of the failed launch */
	char fault[200];		/* "not launched: ..." when not @ended */
};

/*
 * Runs what @a asks for, with @hooks (NULL: none). Returns the exit status
 * so far: 0, 1 (failed while running, message printed) or 2 (--program
 * without enough --slot); r->report says whether a report is due. Free
 * @r with op_cli_result_free().
 */
int op_cli_run(const struct op_cli_args *a, const struct op_cli_hooks *hooks,
	       struct op_cli_result *r);
void op_cli_result_free(struct op_cli_result *r);

/* JSON has no NaN or infinity: those become null. */
void op_cli_json_number(double v);

#endif /* TERN_OP_CLI_H */
