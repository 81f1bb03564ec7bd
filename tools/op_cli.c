// SPDX-License-Identifier: MIT
/*
 * The command line of ops and program images shared by tern-run and
 * tern-profile, and running them (op_cli.h): the options, the op table,
 * random inputs, the device, the launches and the check against the CPU
 * reference. What to print is each tool's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "op_cli.h"
#include "tern_program.h"

#define MAX_DIM		(1ull << 24)	/* per shape option */
#define MAX_REPEAT	100000u
#define MAX_IMAGE	(1ull << 30)	/* program file */

/* The tool whose command line this is: messages start with its name. */
static const struct op_cli_tool *tool;

const char *const op_cli_engine_names[TERN_NUM_ENGINES] = {
	"tensor", "vector", "scalar", "dma",
};

const char *const op_cli_dtype_names[TERN_DT_COUNT] = {
	[TERN_DT_FP32] = "fp32", [TERN_DT_BF16] = "bf16", [TERN_DT_FP16] = "fp16",
	[TERN_DT_FP8_E4M3] = "fp8e4m3", [TERN_DT_FP8_E5M2] = "fp8e5m2",
};

const char *const op_cli_act_names[TERN_ACT_COUNT] = {
	[TERN_ACT_IDENTITY] = "identity", [TERN_ACT_RELU] = "relu",
	[TERN_ACT_GELU] = "gelu", [TERN_ACT_GELU_TANH] = "gelu_tanh",
	[TERN_ACT_SILU] = "silu", [TERN_ACT_SIGMOID] = "sigmoid",
	[TERN_ACT_TANH] = "tanh", [TERN_ACT_EXP] = "exp", [TERN_ACT_LOG] = "log",
	[TERN_ACT_SQRT] = "sqrt", [TERN_ACT_RSQRT] = "rsqrt",
	[TERN_ACT_RECIPROCAL] = "reciprocal",
};

/* ---- the command line ---- */

/* Long options without a short form; those from OPT_M to OPT_ACT are op options. */
enum {
	OPT_M = 256, OPT_N, OPT_K, OPT_ROWS, OPT_COLS, OPT_SQ, OPT_SK, OPT_D, OPT_DV,
	OPT_CAUSAL, OPT_SCALE, OPT_EPS, OPT_ACT, OPT_DTYPE, OPT_OUT_DTYPE, OPT_SEED,
	OPT_SLOT, OPT_PROGRAM, OPT_REPEAT,
};
#define BIT(opt)	(1u << ((opt) - OPT_M))
#define OPTS_MNK	(BIT(OPT_M) | BIT(OPT_N) | BIT(OPT_K))
#define OPTS_RC		(BIT(OPT_ROWS) | BIT(OPT_COLS))
#define OPTS_ATTN	(BIT(OPT_SQ) | BIT(OPT_SK) | BIT(OPT_D) | BIT(OPT_DV) | \
			 BIT(OPT_CAUSAL) | BIT(OPT_SCALE))
#define OPTS_OP		(BIT(OPT_DTYPE) | BIT(OPT_OUT_DTYPE) | BIT(OPT_SEED))

static const struct option long_opts[] = {
	{ "m", required_argument, NULL, OPT_M },
	{ "n", required_argument, NULL, OPT_N },
	{ "k", required_argument, NULL, OPT_K },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "cols", required_argument, NULL, OPT_COLS },
	{ "sq", required_argument, NULL, OPT_SQ },
	{ "sk", required_argument, NULL, OPT_SK },
	{ "d", required_argument, NULL, OPT_D },
	{ "dv", required_argument, NULL, OPT_DV },
	{ "causal", no_argument, NULL, OPT_CAUSAL },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "eps", required_argument, NULL, OPT_EPS },
	{ "act", required_argument, NULL, OPT_ACT },
	{ "dtype", required_argument, NULL, OPT_DTYPE },
	{ "out-dtype", required_argument, NULL, OPT_OUT_DTYPE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "slot", required_argument, NULL, OPT_SLOT },
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "device", required_argument, NULL, 'd' },
	{ "core", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The shared options and the tool's, for getopt_long(). */
static struct option all_opts[64];

/* The option's name as typed, for messages. */
static const char *opt_name(int opt)
{
	const struct option *o;

	for (o = all_opts; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* The tool's own option @opt, or NULL. */
static const struct option *tool_opt(int opt)
{
	const struct option *o;

	for (o = tool->opts; o && o->name; o++)
		if (o->val == opt)
			return o;
	return NULL;
}

/* How the inputs of an op are drawn (all within [-1, 1]). */
enum range {
	R_FULL,		/* uniform in [-1, 1] */
	R_POS,		/* uniform in [1/2, 1]: log, sqrt, rsqrt */
	R_AWAY,		/* uniform in [-1, -1/2] or [1/2, 1]: divisors, reciprocal */
};

/* An op the tools know, and what its command line looks like. */
struct op_cli_desc {
	const char *name;
	unsigned int kind;		/* TERN_OPKIND_* */
	unsigned int func;		/* TERN_ALU_* or TERN_ACT_* */
	unsigned int takes;		/* op options it accepts */
	enum range range[3];		/* per input */
};

static const struct op_cli_desc op_descs[] = {
	{ "matmul", TERN_OPKIND_MATMUL, 0, OPTS_MNK, { 0 } },
	{ "add", TERN_OPKIND_BINARY, TERN_ALU_ADD, OPTS_RC, { 0 } },
	{ "sub", TERN_OPKIND_BINARY, TERN_ALU_SUB, OPTS_RC, { 0 } },
	{ "mul", TERN_OPKIND_BINARY, TERN_ALU_MUL, OPTS_RC, { 0 } },
	{ "div", TERN_OPKIND_BINARY, TERN_ALU_DIV, OPTS_RC, { R_FULL, R_AWAY } },
	{ "max", TERN_OPKIND_BINARY, TERN_ALU_MAX, OPTS_RC, { 0 } },
	{ "min", TERN_OPKIND_BINARY, TERN_ALU_MIN, OPTS_RC, { 0 } },
	{ "bias", TERN_OPKIND_BIAS, TERN_ACT_IDENTITY, OPTS_RC | BIT(OPT_ACT), { 0 } },
	{ "identity", TERN_OPKIND_ACTIVATION, TERN_ACT_IDENTITY, OPTS_RC, { 0 } },
	{ "relu", TERN_OPKIND_ACTIVATION, TERN_ACT_RELU, OPTS_RC, { 0 } },
	{ "gelu", TERN_OPKIND_ACTIVATION, TERN_ACT_GELU, OPTS_RC, { 0 } },
	{ "gelu_tanh", TERN_OPKIND_ACTIVATION, TERN_ACT_GELU_TANH, OPTS_RC, { 0 } },
	{ "silu", TERN_OPKIND_ACTIVATION, TERN_ACT_SILU, OPTS_RC, { 0 } },
	{ "sigmoid", TERN_OPKIND_ACTIVATION, TERN_ACT_SIGMOID, OPTS_RC, { 0 } },
	{ "tanh", TERN_OPKIND_ACTIVATION, TERN_ACT_TANH, OPTS_RC, { 0 } },
	{ "exp", TERN_OPKIND_ACTIVATION, TERN_ACT_EXP, OPTS_RC, { 0 } },
	{ "log", TERN_OPKIND_ACTIVATION, TERN_ACT_LOG, OPTS_RC, { R_POS } },
	{ "sqrt", TERN_OPKIND_ACTIVATION, TERN_ACT_SQRT, OPTS_RC, { R_POS } },
	{ "rsqrt", TERN_OPKIND_ACTIVATION, TERN_ACT_RSQRT, OPTS_RC, { R_POS } },
	{ "reciprocal", TERN_OPKIND_ACTIVATION, TERN_ACT_RECIPROCAL, OPTS_RC, { R_AWAY } },
	{ "softmax", TERN_OPKIND_SOFTMAX, 0, OPTS_RC, { 0 } },
	{ "layernorm", TERN_OPKIND_LAYERNORM, 0, OPTS_RC | BIT(OPT_EPS), { 0 } },
	{ "rmsnorm", TERN_OPKIND_RMSNORM, 0, OPTS_RC | BIT(OPT_EPS), { 0 } },
	{ "transpose", TERN_OPKIND_TRANSPOSE, 0, OPTS_RC, { 0 } },
	{ "attention", TERN_OPKIND_ATTENTION, 0, OPTS_ATTN, { 0 } },
};
#define NUM_OPS		(sizeof(op_descs) / sizeof(op_descs[0]))

/* Names of the inputs, per kind, for messages. */
static const char *const input_names[TERN_OPKIND_COUNT][3] = {
	[TERN_OPKIND_MATMUL] = { "a", "b" },
	[TERN_OPKIND_BINARY] = { "a", "b" },
	[TERN_OPKIND_BIAS] = { "x", "bias" },
	[TERN_OPKIND_ACTIVATION] = { "x" },
	[TERN_OPKIND_SOFTMAX] = { "x" },
	[TERN_OPKIND_LAYERNORM] = { "x", "gamma", "beta" },
	[TERN_OPKIND_RMSNORM] = { "x", "gamma" },
	[TERN_OPKIND_TRANSPOSE] = { "x" },
	[TERN_OPKIND_ATTENTION] = { "q", "k", "v" },
};

void op_cli_usage_ops(FILE *f)
{
	fputs("OP: matmul; add sub mul div max min; bias; identity relu gelu gelu_tanh silu\n"
	      "    sigmoid tanh exp log sqrt rsqrt reciprocal; softmax layernorm rmsnorm\n"
	      "    transpose; attention\n"
	      "\n"
	      "  --m M --n N --k K        matmul: C [M x N] = A [M x K] . B [K x N] (256 each)\n"
	      "  --rows R --cols C        the other ops: the input's shape (256 x 1024)\n"
	      "  --sq S --sk S --d D --dv D  attention: queries, keys, head and value\n"
	      "                           dimensions (256, 256, 64, --d)\n"
	      "  --causal                 attention: query i sees keys 0..i + sk - sq\n"
	      "  --scale X                attention: score scale (1/sqrt(d))\n"
	      "  --eps X                  layernorm, rmsnorm: added to the variance (1e-5)\n"
	      "  --act F                  bias: activation after the addition (identity)\n"
	      "  --dtype T                input dtype: fp32 bf16 fp16 fp8e4m3 fp8e5m2 (fp32)\n"
	      "  --out-dtype T            output dtype (--dtype)\n"
	      "  --seed N                 seed of the random inputs (1)\n"
	      "  --program FILE           run the program image in FILE instead of an op\n"
	      "  --slot SIZE              a device buffer of SIZE bytes (suffix K, M, G) for\n"
	      "                           the next slot of --program; one per slot\n"
	      "  --repeat N               launch N times (1): the first launch builds and\n"
	      "                           loads the program, later ones reuse it\n"
	      "  -d, --device N           tern device index (0)\n"
	      "  -c, --core N|any         core to run on (any: the library picks)\n", f);
}

/* "<tool>: " and the message, on stderr. */
static void __attribute__((format(printf, 1, 2))) errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int op_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tool->name);
	return 2;
}

/* A whole number min..max, digits only (no sign, no spaces). */
static int parse_uint(int opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end)
		goto bad;
	if (v < min || v > max)
		return op_cli_usage_error("--%s %s: must be %llu..%llu", opt_name(opt), s,
				   (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
bad:
	return op_cli_usage_error("--%s \"%s\": not a %s whole number", opt_name(opt), s,
			   min ? "positive" : "non-negative");
}

static int parse_count(int opt, const char *s, uint64_t max, uint64_t *out)
{
	return parse_uint(opt, s, 1, max, out);
}

/* A byte size like 4096, 64K, 16M, 1G (also KiB, MiB, GiB), at least 1. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		goto bad;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || v > (UINT64_MAX >> shift))
		goto bad;
	if (v == 0)
		return op_cli_usage_error("--slot %s: a buffer needs at least 1 byte", s);
	*out = (uint64_t)v << shift;
	return 0;
bad:
	return op_cli_usage_error("--slot \"%s\": not a size (bytes, or with K, M, G)", s);
}

static int parse_float(int opt, const char *s, float *out)
{
	char *end;
	float v;

	errno = 0;
	v = strtof(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v))
		return op_cli_usage_error("--%s \"%s\": not a finite number", opt_name(opt), s);
	*out = v;
	return 0;
}

static int parse_name(int opt, const char *s, const char *const *names, unsigned int count,
		      unsigned int *out)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	errmsg("--%s \"%s\": not one of", opt_name(opt), s);
	for (i = 0; i < count; i++)
		if (names[i])
			fprintf(stderr, " %s", names[i]);
	fprintf(stderr, "\nTry '%s --help'.\n", tool->name);
	return 2;
}

int op_cli_parse(int argc, char **argv, const struct op_cli_tool *t, struct op_cli_args *a)
{
	const struct option *o;
	char shortopts[64];
	unsigned int i, n = 0;
	int opt, ret = 0;
	uint64_t v;

	tool = t;
	for (o = long_opts; o->name; o++)
		all_opts[n++] = *o;
	for (o = t->opts; o && o->name && n + 1 < sizeof(all_opts) / sizeof(all_opts[0]); o++)
		all_opts[n++] = *o;
	memset(&all_opts[n], 0, sizeof(all_opts[n]));
	snprintf(shortopts, sizeof(shortopts), ":d:c:jh%s", t->shortopts ? t->shortopts : "");

	memset(a, 0, sizeof(*a));
	a->m = a->n = a->k = 256;
	a->rows = 256;
	a->cols = 1024;
	a->sq = a->sk = 256;
	a->d = 64;
	a->eps = 1e-5f;
	a->dtype = TERN_DT_FP32;
	a->seed = 1;
	a->repeat = 1;
	a->core = TERN_CORE_ANY;

	/* options may come before or after the OP name */
	opterr = 0;	/* our own messages, below */
	while ((opt = getopt_long(argc, argv, shortopts, all_opts, NULL)) != -1) {
		if (opt >= OPT_M && opt <= OPT_SEED)
			a->given |= BIT(opt);
		if (opt != ':' && opt != '?' && tool_opt(opt)) {
			ret = t->option(opt, optarg, t->ctx);
			if (ret)
				return ret;
			continue;
		}
		switch (opt) {
		case OPT_M: ret = parse_count(opt, optarg, MAX_DIM, &a->m); break;
		case OPT_N: ret = parse_count(opt, optarg, MAX_DIM, &a->n); break;
		case OPT_K: ret = parse_count(opt, optarg, MAX_DIM, &a->k); break;
		case OPT_ROWS: ret = parse_count(opt, optarg, MAX_DIM, &a->rows); break;
		case OPT_COLS: ret = parse_count(opt, optarg, MAX_DIM, &a->cols); break;
		case OPT_SQ: ret = parse_count(opt, optarg, MAX_DIM, &a->sq); break;
		case OPT_SK: ret = parse_count(opt, optarg, MAX_DIM, &a->sk); break;
		case OPT_D: ret = parse_count(opt, optarg, MAX_DIM, &a->d); break;
		case OPT_DV: ret = parse_count(opt, optarg, MAX_DIM, &a->dv); break;
		case OPT_CAUSAL: a->causal = true; break;
		case OPT_SCALE:
			ret = parse_float(opt, optarg, &a->scale);
			a->scale_given = true;
			break;
		case OPT_EPS:
			ret = parse_float(opt, optarg, &a->eps);
			if (!ret && a->eps < 0)
				ret = op_cli_usage_error("--eps %s: must be >= 0", optarg);
			break;
		case OPT_ACT:
			ret = parse_name(opt, optarg, op_cli_act_names, TERN_ACT_COUNT, &a->act);
			break;
		case OPT_DTYPE:
			ret = parse_name(opt, optarg, op_cli_dtype_names, TERN_DT_COUNT, &a->dtype);
			break;
		case OPT_OUT_DTYPE:
			ret = parse_name(opt, optarg, op_cli_dtype_names, TERN_DT_COUNT, &a->out_dtype);
			break;
		case OPT_SEED:
			errno = 0;
			if (optarg[0] >= '0' && optarg[0] <= '9') {
				char *end;

				a->seed = strtoull(optarg, &end, 0);
				if (!errno && !*end)
					break;
			}
			ret = op_cli_usage_error("--seed \"%s\": not a whole number", optarg);
			break;
		case OPT_SLOT:
			if (a->nslots == TERN_MAX_SLOTS) {
				ret = op_cli_usage_error("more than %u --slot options (a program has at "
						  "most %u slots)", TERN_MAX_SLOTS, TERN_MAX_SLOTS);
				break;
			}
			ret = parse_size(optarg, &a->slot_size[a->nslots]);
			a->nslots++;
			break;
		case OPT_PROGRAM:
			a->program = optarg;
			break;
		case OPT_REPEAT:
			ret = parse_count(opt, optarg, MAX_REPEAT, &v);
			a->repeat = (unsigned int)v;
			break;
		case 'd':
			ret = parse_uint('d', optarg, 0, 1u << 20, &v);
			a->device = (unsigned int)v;
			break;
		case 'c':
			if (!strcmp(optarg, "any")) {
				a->core = TERN_CORE_ANY;
				break;
			}
			if (optarg[0] < '0' || optarg[0] > '9')
				ret = op_cli_usage_error("--core \"%s\": a core number or \"any\"",
						  optarg);
			else
				ret = parse_uint('c', optarg, 0, 255, &v);
			a->core = (int)v;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			t->usage(stdout);
			exit(0);
		case ':':
			return op_cli_usage_error("--%s needs a value", opt_name(optopt));
		default:
			if (optopt >= OPT_M || optopt == 'j' || optopt == 'h' ||
			    (tool_opt(optopt) && tool_opt(optopt)->has_arg == no_argument))
				return op_cli_usage_error("--%s takes no value", opt_name(optopt));
			if (optopt)
				return op_cli_usage_error("unknown option -%c", optopt);
			return op_cli_usage_error("unknown or ambiguous option \"%s\"", argv[optind - 1]);
		}
		if (ret)
			return ret;
	}

	if (a->program) {
		if (optind < argc)
			return op_cli_usage_error("--program runs a program file, not an op (\"%s\")",
					   argv[optind]);
		if (!a->nslots)
			return op_cli_usage_error("--program needs a --slot SIZE per buffer slot");
		if (a->given & ~BIT(OPT_SLOT)) {
			for (i = OPT_M; i <= OPT_SEED; i++)
				if (a->given & BIT(i) & ~BIT(OPT_SLOT))
					break;
			return op_cli_usage_error("--%s is an op option; it does not apply to --program",
					   opt_name((int)i));
		}
		return 0;
	}
	if (optind >= argc)
		return op_cli_usage_error("no OP given (matmul, add, ..., attention) and no --program");
	if (optind + 1 < argc)
		return op_cli_usage_error("one OP at a time (\"%s\", then \"%s\")", argv[optind],
				   argv[optind + 1]);
	for (i = 0; i < NUM_OPS; i++)
		if (!strcmp(argv[optind], op_descs[i].name))
			a->op = &op_descs[i];
	a->op_name = argv[optind];
	if (!a->op)
		return op_cli_usage_error("unknown OP \"%s\"; %s --help lists them", argv[optind],
					  tool->name);
	if (a->given & ~(a->op->takes | OPTS_OP)) {
		for (i = OPT_M; i <= OPT_SEED; i++)
			if (a->given & BIT(i) & ~(a->op->takes | OPTS_OP))
				break;
		return op_cli_usage_error("--%s does not apply to %s", opt_name((int)i), a->op->name);
	}
	if (!a->dv)
		a->dv = a->d;
	if (!a->out_dtype)
		a->out_dtype = a->dtype;
	if (!a->scale_given)
		a->scale = (float)(1.0 / sqrt((double)a->d));
	if (a->causal && a->sq > a->sk)
		return op_cli_usage_error("--causal needs --sq <= --sk (query i sees keys up to "
				   "i + sk - sq)");
	return 0;
}

/* ---- helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a fixed sequence per seed, so a run can be repeated exactly. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) / (double)(1ull << 53);
}

static float rng_value(uint64_t *state, enum range r)
{
	double u = rng_unit(state);

	switch (r) {
	case R_POS:
		return (float)(0.5 + u / 2);
	case R_AWAY:
		u = u * 2 - 1;
		return (float)(u < 0 ? u / 2 - 0.5 : u / 2 + 0.5);
	case R_FULL:
		break;
	}
	return (float)(u * 2 - 1);
}

/* JSON has no NaN or infinity: those become null. */
void op_cli_json_number(double v)
{
	if (isfinite(v))
		printf("%.6g", v);
	else
		printf("null");
}

/* ---- the device ---- */

static int open_device(const struct op_cli_args *a, struct tern_device **devp,
		       struct tern_device_info *info)
{
	int count, err;

	count = tern_device_count();
	if (count < 0) {
		errmsg("cannot list devices: %s\n", tern_last_error());
		return 1;
	}
	if (count == 0) {
		errmsg("no tern devices found (is tern.ko loaded?)\n");
		return 1;
	}
	if (a->device >= (unsigned int)count) {
		errmsg("--device %u: there %s %d tern device%s (0..%d)\n",
			a->device, count == 1 ? "is" : "are", count, count == 1 ? "" : "s",
			count - 1);
		return 1;
	}
	err = tern_device_open(a->device, devp);
	if (err) {
		/* the library's detail names the node and the reason */
		errmsg("device %u: %s\n", a->device, tern_last_error());
		return 1;
	}
	err = tern_device_info(*devp, info);
	if (err) {
		errmsg("device %u: %s\n", a->device, tern_last_error());
		tern_device_close(*devp);
		return 1;
	}
	if (a->core != TERN_CORE_ANY && (unsigned int)a->core >= info->num_cores) {
		errmsg("--core %d: tern%u has %u core%s (0..%u)\n", a->core,
			info->index, info->num_cores, info->num_cores == 1 ? "" : "s",
			info->num_cores - 1);
		tern_device_close(*devp);
		return 1;
	}
	return 0;
}

/* ---- running an op ---- */

/* A tensor's slot: its device buffer and a host buffer for staging and the reference. */
struct slot {
	const char *name;
	uint64_t size;
	struct tern_buffer *dbuf, *hbuf;
	void *host;
};

/* The op the command line describes: input i in slot i, the output in slot nin. */
static void describe_op(const struct op_cli_args *a, struct tern_op *op)
{
	uint32_t dt = a->dtype, odt = a->out_dtype;
	unsigned int i;

	memset(op, 0, sizeof(*op));
	op->kind = a->op->kind;
	op->func = a->op->func;
	switch (op->kind) {
	case TERN_OPKIND_MATMUL:
		op->nin = 2;
		op->in[0] = tern_tensor_2d(0, dt, a->m, a->k);
		op->in[1] = tern_tensor_2d(1, dt, a->k, a->n);
		op->out = tern_tensor_2d(2, odt, a->m, a->n);
		break;
	case TERN_OPKIND_BINARY:
		op->nin = 2;
		op->in[0] = tern_tensor_2d(0, dt, a->rows, a->cols);
		op->in[1] = tern_tensor_2d(1, dt, a->rows, a->cols);
		op->out = tern_tensor_2d(2, odt, a->rows, a->cols);
		break;
	case TERN_OPKIND_BIAS:
		op->func = a->act;
		op->nin = 2;
		op->in[0] = tern_tensor_2d(0, dt, a->rows, a->cols);
		op->in[1] = tern_tensor_2d(1, dt, 1, a->cols);
		op->out = tern_tensor_2d(2, odt, a->rows, a->cols);
		break;
	case TERN_OPKIND_LAYERNORM:
	case TERN_OPKIND_RMSNORM:
		/* with gamma (and beta): the form a model uses */
		op->nin = op->kind == TERN_OPKIND_LAYERNORM ? 3 : 2;
		op->eps = a->eps;
		op->in[0] = tern_tensor_2d(0, dt, a->rows, a->cols);
		for (i = 1; i < op->nin; i++)
			op->in[i] = tern_tensor_2d(i, dt, 1, a->cols);
		op->out = tern_tensor_2d(op->nin, odt, a->rows, a->cols);
		break;
	case TERN_OPKIND_TRANSPOSE:
		op->nin = 1;
		op->in[0] = tern_tensor_2d(0, dt, a->rows, a->cols);
		op->out = tern_tensor_2d(1, odt, a->cols, a->rows);
		break;
	case TERN_OPKIND_ATTENTION:
		op->nin = 3;
		op->func = a->causal ? TERN_ATTN_CAUSAL : 0;
		op->scale = a->scale;
		op->in[0] = tern_tensor_2d(0, dt, a->sq, a->d);
		op->in[1] = tern_tensor_2d(1, dt, a->sk, a->d);
		op->in[2] = tern_tensor_2d(2, dt, a->sk, a->dv);
		op->out = tern_tensor_2d(3, odt, a->sq, a->dv);
		break;
	default:	/* ACTIVATION, SOFTMAX */
		op->nin = 1;
		op->in[0] = tern_tensor_2d(0, dt, a->rows, a->cols);
		op->out = tern_tensor_2d(1, odt, a->rows, a->cols);
		break;
	}
}

static int alloc_slot(struct tern_device *dev, struct slot *s)
{
	int err;

	err = tern_buffer_alloc(dev, s->size, TERN_MEM_DEVICE, &s->dbuf);
	if (!err)
		err = tern_buffer_alloc(dev, s->size, TERN_MEM_HOST, &s->hbuf);
	if (!err)
		err = tern_buffer_map(s->hbuf, &s->host);
	if (err)
		errmsg("cannot allocate %" PRIu64 " bytes for %s: %s\n  (%s)\n",
			s->size, s->name, tern_strerror(err), tern_last_error());
	return err;
}

/*
 * |device - reference| over the output's elements: NaN where one is NaN
 * and the other not counts as infinitely wrong, equal infinities as right.
 */
static double max_error(const struct tern_tensor *t, const void *dev, const void *ref,
			uint64_t *wr, uint64_t *wc)
{
	unsigned int size = tern_dtype_size(t->dtype);
	double worst = 0, e;
	uint64_t r, c, off;
	float x, y;

	*wr = *wc = 0;
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++) {
			off = t->offset + (r * (uint64_t)t->row_stride + c) * size;
			x = tern_value_get(t->dtype, (const uint8_t *)dev + off);
			y = tern_value_get(t->dtype, (const uint8_t *)ref + off);
			if (isnan(x) || isnan(y))
				e = isnan(x) && isnan(y) ? 0 : INFINITY;
			else if (x == y)
				e = 0;	/* also equal infinities */
			else
				e = fabs((double)x - (double)y);
			if (e > worst || (isinf(e) && !isinf(worst))) {
				worst = e;
				*wr = r;
				*wc = c;
			}
		}
	}
	return worst;
}

/* Opens the device and calls the start hook; 0 or the exit status. */
static int begin(const struct op_cli_args *a, const struct op_cli_hooks *h,
		 struct tern_device **devp, struct op_cli_result *r)
{
	int rc;

	rc = open_device(a, devp, &r->info);
	if (rc)
		return rc;
	if (h && h->start) {
		rc = h->start(*devp, &r->info, h->ctx);
		if (rc) {
			tern_device_close(*devp);
			*devp = NULL;
		}
	}
	return rc;
}

/* Calls the stop hook; the exit status @rc, or the hook's when @rc is 0. */
static int end(const struct op_cli_hooks *h, struct tern_device *dev, int rc)
{
	int hrc = h && h->stop ? h->stop(dev, h->ctx) : 0;

	return rc ? rc : hrc;
}

static int run_op(const struct op_cli_args *a, const struct op_cli_hooks *h,
		  struct op_cli_result *r)
{
	struct tern_buffer *bufs[4] = { NULL }, *got = NULL;
	struct slot slots[4] = { { 0 } };
	struct tern_device *dev;
	struct tern_op *op = &r->op;
	uint64_t sizes[4], state = a->seed, i, t0;
	void *hosts[4], *gotp;
	unsigned int nslots, s;
	size_t off;
	int err, rc;

	describe_op(a, op);
	nslots = op->nin + 1;
	r->tol = tern_op_tolerance(op);
	if (r->tol < 0) {
		errmsg("%s: %s\n", a->op->name, tern_last_error());
		return 1;
	}
	rc = begin(a, h, &dev, r);
	if (rc)
		return rc;
	rc = 1;

	/* buffers: inputs filled with random values, the output with NaN */
	for (s = 0; s < nslots; s++) {
		const struct tern_tensor *t = s < op->nin ? &op->in[s] : &op->out;

		slots[s].name = s < op->nin ? input_names[op->kind][s] : "the output";
		slots[s].size = tern_tensor_span(t);
		if (alloc_slot(dev, &slots[s]))
			goto out;
		bufs[s] = slots[s].dbuf;
		hosts[s] = slots[s].host;
		sizes[s] = slots[s].size;
		if (s == op->nin) {
			/* all ones is NaN in every dtype: a result never written fails */
			memset(slots[s].host, 0xff, slots[s].size);
		} else {
			for (i = 0; i < t->rows * t->cols; i++)
				tern_value_set(t->dtype, (uint8_t *)slots[s].host +
					       i * tern_dtype_size(t->dtype),
					       rng_value(&state, a->op->range[s]));
		}
		err = tern_copy(dev, slots[s].dbuf, 0, slots[s].hbuf, 0, slots[s].size);
		if (err) {
			errmsg("cannot copy %s to the device: %s\n  (%s)\n",
			       slots[s].name, tern_strerror(err), tern_last_error());
			goto out;
		}
	}
	err = tern_buffer_alloc(dev, sizes[op->nin], TERN_MEM_HOST, &got);
	if (!err)
		err = tern_buffer_map(got, &gotp);
	if (err) {
		errmsg("cannot allocate the result buffer: %s\n  (%s)\n",
		       tern_strerror(err), tern_last_error());
		goto out;
	}

	/*
	 * Launch. tern_op_run() builds and loads the program on its first call
	 * (tern_kernel_cached()); what a call takes beyond the launch's own wall
	 * time is that preparation, which a cached program does not need.
	 */
	for (i = 0; i < a->repeat; i++) {
		struct op_cli_launch *l = &r->launches[i];
		uint64_t total;

		t0 = now_ns();
		err = tern_op_run(dev, a->core, op, bufs, nslots, &l->st);
		total = now_ns() - t0;
		if (err) {
			errmsg("%s: launch %" PRIu64 " failed: %s\n  (%s)\n",
			       a->op->name, i + 1, tern_strerror(err), tern_last_error());
			goto out;
		}
		l->prepare_ns = total > l->st.wall_ns ? total - l->st.wall_ns : 0;
		r->ran++;
	}
	err = tern_copy(dev, got, 0, slots[op->nin].dbuf, 0, sizes[op->nin]);
	if (err) {
		errmsg("cannot copy the result back: %s\n  (%s)\n",
		       tern_strerror(err), tern_last_error());
		goto out;
	}

	/* the same op on the CPU, over the same inputs */
	err = tern_op_reference(op, hosts, sizes, nslots);
	if (err) {
		errmsg("the CPU reference failed: %s\n", tern_last_error());
		goto out;
	}
	r->err_max = max_error(&op->out, gotp, hosts[op->nin], &r->wr, &r->wc);
	r->pass = r->err_max <= r->tol;
	off = op->out.offset + (r->wr * (uint64_t)op->out.row_stride + r->wc) *
	      tern_dtype_size(op->out.dtype);
	r->dev_at = tern_value_get(op->out.dtype, (uint8_t *)gotp + off);
	r->ref_at = tern_value_get(op->out.dtype, (uint8_t *)hosts[op->nin] + off);
	r->report = true;
	rc = 0;
out:
	rc = end(h, dev, rc);
	tern_buffer_free(got);
	for (s = 0; s < 4; s++) {
		tern_buffer_free(slots[s].hbuf);
		tern_buffer_free(slots[s].dbuf);
	}
	tern_device_close(dev);
	return rc;
}

/* ---- running a program file ---- */

static int read_image(const char *path, void **imagep, size_t *sizep)
{
	struct stat sb;
	size_t done = 0;
	ssize_t n;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		errmsg("cannot read %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0 || (uint64_t)sb.st_size > MAX_IMAGE) {
		errmsg("%s: %s\n", path,
			!S_ISREG(sb.st_mode) ? "not a regular file" :
			sb.st_size == 0 ? "empty file, not a program image" :
			"larger than 1 GiB, not a program image");
		close(fd);
		return 1;
	}
	buf = malloc((size_t)sb.st_size);
	if (!buf) {
		errmsg("out of memory for %s\n", path);
		close(fd);
		return 1;
	}
	while (done < (size_t)sb.st_size) {
		n = read(fd, (char *)buf + done, (size_t)sb.st_size - done);
		if (n <= 0) {
			errmsg("cannot read %s: %s\n", path,
				n < 0 ? strerror(errno) : "file shrank while read");
			free(buf);
			close(fd);
			return 1;
		}
		done += (size_t)n;
	}
	close(fd);
	*imagep = buf;
	*sizep = done;
	return 0;
}

static int run_program(const struct op_cli_args *a, const struct op_cli_hooks *h,
		       struct op_cli_result *r)
{
	struct tern_buffer *bufs[TERN_MAX_SLOTS] = { NULL }, *zero = NULL;
	struct tern_launch_status st;
	struct tern_kernel *k = NULL;
	struct tern_device *dev;
	uint64_t t0, load_ns, zsize = 0;
	unsigned int i;
	void *image, *zp;
	int err, rc;

	rc = read_image(a->program, &image, &r->size);
	if (rc)
		return rc;
	rc = begin(a, h, &dev, r);
	if (rc) {
		free(image);
		return rc;
	}
	rc = 1;

	t0 = now_ns();
	err = tern_kernel_load(dev, image, r->size, &k);
	load_ns = now_ns() - t0;
	if (err) {
		errmsg("%s: not loaded: %s\n  (%s)\n", a->program,
		       tern_strerror(err), tern_last_error());
		goto out;
	}
	r->need = tern_kernel_slots(k);
	if (r->need > a->nslots) {
		errmsg("%s uses %u buffer slot%s; give one --slot SIZE for each (%u given)\n",
		       a->program, r->need, r->need == 1 ? "" : "s", a->nslots);
		rc = 2;
		goto out;
	}

	/* device buffers of the given sizes, zero-filled from one host buffer */
	for (i = 0; i < a->nslots; i++)
		zsize = a->slot_size[i] > zsize ? a->slot_size[i] : zsize;
	err = tern_buffer_alloc(dev, zsize, TERN_MEM_HOST, &zero);
	if (!err)
		err = tern_buffer_map(zero, &zp);
	if (err) {
		errmsg("cannot allocate %" PRIu64 " bytes of host memory: %s\n  (%s)\n", zsize,
		       tern_strerror(err), tern_last_error());
		goto out;
	}
	memset(zp, 0, zsize);
	for (i = 0; i < a->nslots; i++) {
		err = tern_buffer_alloc(dev, a->slot_size[i], TERN_MEM_DEVICE, &bufs[i]);
		if (!err)
			err = tern_copy(dev, bufs[i], 0, zero, 0, a->slot_size[i]);
		if (err) {
			errmsg("slot %u: cannot allocate and clear %" PRIu64 " bytes: %s\n  (%s)\n",
			       i, a->slot_size[i], tern_strerror(err), tern_last_error());
			goto out;
		}
	}

	for (i = 0; i < a->repeat; i++) {
		memset(&st, 0, sizeof(st));
		err = tern_launch(dev, k, a->core, bufs, a->nslots, &st);
		if (err) {
			r->ended = st.result == err && err != -EINVAL;
			if (!r->ended)
				snprintf(r->fault, sizeof(r->fault), "not launched: %s",
					 tern_strerror(err));
			errmsg("%s: launch %u failed: %s\n  (%s)\n", a->program, i + 1,
			       tern_strerror(err), tern_last_error());
			break;
		}
		r->launches[i].st = st;
		r->launches[i].prepare_ns = i ? 0 : load_ns;
		r->ran++;
	}
	r->err = err;
	r->st = st;
	r->report = true;
	rc = err ? 1 : 0;
out:
	rc = end(h, dev, rc);
	for (i = 0; i < TERN_MAX_SLOTS; i++)
		tern_buffer_free(bufs[i]);
	tern_buffer_free(zero);
	tern_kernel_free(k);
	tern_device_close(dev);
	free(image);
	return rc;
}

int op_cli_run(const struct op_cli_args *a, const struct op_cli_hooks *hooks,
	       struct op_cli_result *r)
{
	memset(r, 0, sizeof(*r));
	r->launches = calloc(a->repeat, sizeof(*r->launches));
	if (!r->launches) {
		errmsg("out of memory\n");
		return 1;
	}
	return a->program ? run_program(a, hooks, r) : run_op(a, hooks, r);
}

void op_cli_result_free(struct op_cli_result *r)
{
	free(r->launches);
	r->launches = NULL;
}
