// SPDX-License-Identifier: MIT
/*
 * tern_profile: libtern's profiling sessions (tern_profile_start/stop,
 * DRM_TERN_EXEC_PROFILE) and the tern-profile tool, on device 0.
 *
 * - The API: a second start is -EBUSY, a stop without a start -EINVAL;
 *   a profiled attention launch has one record per instruction its status
 *   counted, per engine, whose end - start add up to the status's busy
 *   cycles; times are ordered (ready <= start <= end <= cycles); only
 *   instructions with TERN_SYNC_WAIT wait; DMA records carry bytes; the
 *   launch is named after its op. The same launch with profiling off and on
 *   computes the same bytes in the same modeled cycles, and a launch after
 *   tern_profile_stop() is in no profile. A tiny max_insns keeps that many
 *   records and counts the rest as dropped.
 * - tern-profile on attention, matmul and softmax (between them every
 *   engine, attention all four at once): the trace is strict JSON
 *   (python3's json module, NaN, Infinity and duplicate keys refused) in
 *   the Trace Event Format; each core engine that ran has a named thread
 *   with one complete event per instruction the launch status counted,
 *   whose cycles add up to the status's busy cycles and durations to the
 *   same in microseconds; instructions of an engine do not overlap; each
 *   semaphore wait is an event that ends where its instruction starts;
 *   launches are on the core's and the host's thread, copy jobs on the
 *   host's; the --json summary agrees with the trace event by event.
 * - Its errors: bad options exit 2 with a message, no device and no
 *   permission exit 1 with one, --help exits 0.
 *
 * tern-profile is $TERN_BUILD/tools/tern-profile (else three levels above
 * this executable). The emulated chip advertises TERN_CAP_PROFILE: a
 * chip or driver without profiles fails the test.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "json_parse.h"
#include "tern_test.h"
#include "tern.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define OUT_MAX		(1u << 20)
#define NOBODY		65534

/* An attention head on device buffers of random values. */
struct attn {
	struct tern_op op;
	struct tern_buffer *dbuf[4], *hbuf[4];
	void *host[4];
};

static void attn_setup(struct __test_metadata *_metadata, struct tern_device *dev,
		       struct attn *a)
{
	uint64_t state = 12345;

	memset(a, 0, sizeof(*a));
	a->op.kind = TERN_OPKIND_ATTENTION;
	a->op.nin = 3;
	a->op.scale = 0.125f;
	a->op.in[0] = tern_tensor_2d(0, TERN_DT_FP32, 128, 64);
	a->op.in[1] = tern_tensor_2d(1, TERN_DT_FP32, 128, 64);
	a->op.in[2] = tern_tensor_2d(2, TERN_DT_FP32, 128, 64);
	a->op.out = tern_tensor_2d(3, TERN_DT_FP32, 128, 64);
	for (unsigned int s = 0; s < 4; s++) {
		const struct tern_tensor *t = s < 3 ? &a->op.in[s] : &a->op.out;
		uint64_t size = tern_tensor_span(t);
		float *f;

		ASSERT_EQ(0, tern_buffer_alloc(dev, size, TERN_MEM_DEVICE, &a->dbuf[s]));
		ASSERT_EQ(0, tern_buffer_alloc(dev, size, TERN_MEM_HOST, &a->hbuf[s]));
		ASSERT_EQ(0, tern_buffer_map(a->hbuf[s], &a->host[s]));
		f = a->host[s];
		for (uint64_t i = 0; i < size / 4; i++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			f[i] = s < 3 ? (float)((state >> 40) % 2001) / 1000.0f - 1.0f : 0.0f;
		}
		ASSERT_EQ(0, tern_copy(dev, a->dbuf[s], 0, a->hbuf[s], 0, size));
	}
}

static void attn_free(struct attn *a)
{
	for (unsigned int s = 0; s < 4; s++) {
		tern_buffer_free(a->dbuf[s]);
		tern_buffer_free(a->hbuf[s]);
	}
}

/* Runs the head on core 0 and reads its output into its host buffer. */
static void attn_run(struct __test_metadata *_metadata, struct tern_device *dev, struct attn *a,
		     struct tern_launch_status *st)
{
	ASSERT_EQ(0, tern_op_run(dev, 0, &a->op, a->dbuf, 4, st)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_copy(dev, a->hbuf[3], 0, a->dbuf[3], 0, tern_tensor_span(&a->op.out)));
}

static struct tern_device *open0(struct __test_metadata *_metadata)
{
	struct tern_device *dev = NULL;

	if (tern_device_count() < 1)
		return NULL;
	EXPECT_EQ(0, tern_device_open(0, &dev)) TH_LOG("%s", tern_last_error());
	return dev;
}

TEST(api_session_errors)
{
	struct tern_device *dev = open0(_metadata);
	struct tern_profile *prof = (void *)1;

	ASSERT_NE(NULL, dev);
	EXPECT_EQ(-EINVAL, tern_profile_start(NULL, 0));
	EXPECT_EQ(-EINVAL, tern_profile_stop(dev, &prof));
	EXPECT_EQ(NULL, prof);
	ASSERT_EQ(0, tern_profile_start(dev, 0))
		TH_LOG("the emulated chip must profile: %s", tern_last_error());
	EXPECT_EQ(-EBUSY, tern_profile_start(dev, 16));
	EXPECT_EQ(-EINVAL, tern_profile_stop(dev, NULL));
	ASSERT_EQ(0, tern_profile_stop(dev, &prof));
	ASSERT_NE(NULL, prof);
	EXPECT_EQ(0, prof->nlaunches);
	EXPECT_EQ(0, prof->ncopies);
	EXPECT_EQ(TERN_COST_CLOCK_HZ, prof->clock_hz);
	EXPECT_LE(prof->host_start_ns, prof->host_end_ns);
	EXPECT_EQ(-EINVAL, tern_profile_stop(dev, &prof));
	EXPECT_EQ(NULL, prof);
	EXPECT_EQ(-EINVAL, tern_profile_write_json(NULL, stdout));
	tern_profile_free(NULL);
	EXPECT_EQ(0, tern_device_close(dev));
}

TEST(api_launch_profile)
{
	struct tern_device *dev = open0(_metadata);
	struct tern_launch_status off, on, after;
	const struct tern_profile_launch *l;
	struct tern_profile *prof = NULL;
	uint64_t busy[4] = { 0 };
	uint32_t count[4] = { 0 };
	size_t bytes, waits = 0;
	void *plain;
	struct attn a;

	ASSERT_NE(NULL, dev);
	attn_setup(_metadata, dev, &a);
	bytes = tern_tensor_span(&a.op.out);
	plain = malloc(bytes);
	ASSERT_NE(NULL, plain);

	/* off, then on: the same result in the same modeled cycles */
	attn_run(_metadata, dev, &a, &off);
	memcpy(plain, a.host[3], bytes);
	ASSERT_EQ(0, tern_profile_start(dev, 0)) TH_LOG("%s", tern_last_error());
	memset(a.host[3], 0, bytes);
	attn_run(_metadata, dev, &a, &on);
	ASSERT_EQ(0, tern_profile_stop(dev, &prof));
	attn_run(_metadata, dev, &a, &after);	/* after the session: in no profile */
	EXPECT_EQ(0, memcmp(plain, a.host[3], bytes));
	EXPECT_EQ(off.cycles, on.cycles);
	EXPECT_EQ(off.cycles, after.cycles);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		EXPECT_EQ(off.insns[e], on.insns[e]);
		EXPECT_EQ(off.busy[e], on.busy[e]);
	}

	ASSERT_EQ(1, prof->nlaunches);
	EXPECT_EQ(1, prof->ncopies) TH_LOG("the output copied back once in the session");
	l = &prof->launches[0];
	EXPECT_STREQ("attention", l->name);
	EXPECT_EQ(0, l->core);
	EXPECT_EQ(0, l->result);
	EXPECT_EQ(on.cycles, l->cycles);
	EXPECT_EQ(0, l->base_cycles);
	EXPECT_EQ(0, l->dropped);
	EXPECT_LE(l->host_start_ns, l->host_end_ns);
	for (size_t i = 0; i < l->ninsns; i++) {
		const struct tern_profile_insn *in = &l->insns[i];

		ASSERT_GT(TERN_NUM_ENGINES, in->engine);
		count[in->engine]++;
		busy[in->engine] += in->end - in->start;
		EXPECT_LE(in->ready, in->start);
		EXPECT_LE(in->start, in->end);
		EXPECT_LE(in->end, l->cycles);
		if (in->start > in->ready) {
			waits++;
			EXPECT_TRUE(in->sync & TERN_SYNC_WAIT) TH_LOG("record %zu waits without WAIT", i);
		}
		if (in->opcode == TERN_OP_DMA_LOAD || in->opcode == TERN_OP_DMA_STORE) {
			EXPECT_LT(0, in->bytes) TH_LOG("DMA record %zu moved nothing", i);
		} else {
			EXPECT_EQ(0, in->bytes);
		}
	}
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		EXPECT_EQ(on.insns[e], l->insn_count[e]);
		EXPECT_EQ(on.insns[e], count[e]) TH_LOG("engine %u", e);
		EXPECT_EQ(on.busy[e], busy[e]) TH_LOG("engine %u", e);
		EXPECT_LT(0, count[e]) TH_LOG("attention uses every engine; %u has none", e);
	}
	EXPECT_LT(0, waits) TH_LOG("the engines of attention wait on one another");
	tern_profile_free(prof);

	/* four records kept, the others dropped */
	ASSERT_EQ(0, tern_profile_start(dev, 4));
	attn_run(_metadata, dev, &a, &on);
	ASSERT_EQ(0, tern_profile_stop(dev, &prof));
	ASSERT_EQ(1, prof->nlaunches);
	l = &prof->launches[0];
	EXPECT_EQ(4, l->ninsns);
	EXPECT_EQ(on.insns[0] + on.insns[1] + on.insns[2] + on.insns[3] - 4, l->dropped);
	tern_profile_free(prof);

	free(plain);
	attn_free(&a);
	EXPECT_EQ(0, tern_device_close(dev));
}

/*
 * Python, after JSON_STRICT_PY: the summary (--json) in sys.argv[1], the
 * trace in TRACE; checks one against the other and prints "engines ...",
 * "waits N", then "FAIL ..." per disagreement (exit 1) or "ok".
 */
static const char check_py[] =
	"s = strict_loads(open(sys.argv[1]).read())\n"
	"t = strict_loads(open(TRACE).read())\n"
	"errs = []\n"
	"def check(c, m):\n"
	"    if not c: errs.append(m)\n"
	"check(sorted(t) == ['displayTimeUnit', 'otherData', 'traceEvents'], 'top keys %s' % sorted(t))\n"
	"check(t['displayTimeUnit'] == 'ns', 'displayTimeUnit')\n"
	"hz = t['otherData']['clock_hz']\n"
	"check(hz == s['clock_hz'], 'clock_hz')\n"
	"names, procs, agg, ins, evs = {}, {}, {}, {}, []\n"
	"def add(k, v): agg[k] = agg.get(k, 0) + v\n"
	"for e in t['traceEvents']:\n"
	"    for k in ('name', 'ph', 'pid', 'tid'): check(k in e, 'event without %s: %s' % (k, e))\n"
	"    if e['ph'] == 'M':\n"
	"        if e['name'] == 'thread_name': names[e['tid']] = e['args']['name'].replace(' ', '_')\n"
	"        if e['name'] == 'process_name': procs[e['pid']] = e['args']['name']\n"
	"    else:\n"
	"        check(e['ph'] == 'X' and e['dur'] >= 0 and e['ts'] >= 0, 'bad event %s' % e)\n"
	"        evs.append(e)\n"
	"check(procs.get(s['device']) == 'tern%d' % s['device'], 'process name %s' % procs)\n"
	"for e in evs:\n"
	"    th = names.get(e['tid'])\n"
	"    check(th is not None, 'event on an unnamed thread: %s' % e)\n"
	"    c, a = e.get('cat'), e['args']\n"
	"    if c == 'insn':\n"
	"        add('n.' + th, 1); add('cyc.' + th, a['cycles']); add('dur.' + th, e['dur'])\n"
	"        ins[(e['tid'], a['launch'], a['index'])] = e\n"
	"    elif c == 'wait':\n"
	"        check(e['name'] == 'wait sem %d' % a['sem'], 'wait name %s' % e)\n"
	"        add('w.' + th, 1); add('wc.' + th, a['cycles'])\n"
	"    elif c == 'launch': add('l.' + th, 1)\n"
	"    elif c == 'copy': add('c.' + th, 1); add('cb', a['bytes'])\n"
	"    else: check(False, 'unknown cat %s' % e)\n"
	"for e in evs:\n"
	"    if e.get('cat') == 'wait':\n"
	"        i = ins.get((e['tid'], e['args']['launch'], e['args']['index']))\n"
	"        check(i is not None and abs(e['ts'] + e['dur'] - i['ts']) < 1e-5,\n"
	"              'wait %s does not end at its instruction %s' % (e, i))\n"
	"by = {}\n"
	"for e in evs:\n"
	"    if e.get('cat') == 'insn': by.setdefault((e['tid'], e['args']['launch']), []).append(e)\n"
	"for k, v in by.items():\n"
	"    v.sort(key=lambda e: e['ts'])\n"
	"    for x, y in zip(v, v[1:]):\n"
	"        check(x['ts'] + x['dur'] <= y['ts'] + 1e-5, 'overlap on %s: %s %s' % (names[k[0]], x, y))\n"
	"L = s['launches']\n"
	"ENG = ['tensor', 'vector', 'scalar', 'dma']\n"
	"check(len(L) >= 1 and all(l['result'] == 0 for l in L), 'launches %s' % L)\n"
	"want = {}\n"
	"for l in L:\n"
	"    for e in ENG:\n"
	"        w = want.setdefault('core_%d_%s' % (l['core'], e), [0, 0])\n"
	"        w[0] += l['insns'][e]; w[1] += l['busy'][e]\n"
	"for k, (n, b) in want.items():\n"
	"    check((k in names.values()) == (n > 0), 'thread %s with %d insns' % (k, n))\n"
	"    check(agg.get('n.' + k, 0) == n, '%s: %d insn events, the status says %d' % (k, agg.get('n.' + k, 0), n))\n"
	"    check(agg.get('cyc.' + k, 0) == b, '%s: %d cycles, the status says busy %d' % (k, agg.get('cyc.' + k, 0), b))\n"
	"    check(abs(agg.get('dur.' + k, 0) - b * 1e6 / hz) <= 1e-5 * (n + 1), '%s: durations %s us, busy %s us' % (k, agg.get('dur.' + k, 0), b * 1e6 / hz))\n"
	"for g in s['engines']:\n"
	"    k = 'core_%d_%s' % (g['core'], g['engine'])\n"
	"    check(g['insns'] == agg.get('n.' + k, 0) == g['status_insns'], 'summary insns %s' % g)\n"
	"    check(g['busy_cycles'] == agg.get('cyc.' + k, 0), 'summary busy %s' % g)\n"
	"    check(g['waits'] == agg.get('w.' + k, 0) and g['wait_cycles'] == agg.get('wc.' + k, 0), 'summary waits %s' % g)\n"
	"cores = set('core_%d' % l['core'] for l in L)\n"
	"check(sum(agg.get('l.' + c, 0) for c in cores) == len(L), 'launch events on the cores')\n"
	"check(agg.get('l.host', 0) == len(L), 'launch events on the host')\n"
	"jobs = sum(v['jobs'] for v in s['copies'].values())\n"
	"check(agg.get('c.host', 0) == jobs and agg.get('cb', 0) == sum(v['bytes'] for v in s['copies'].values()), 'copies %s' % s['copies'])\n"
	"check(jobs >= 1, 'no copy job')\n"
	"print('engines', ' '.join(e for e in ENG if any(l['insns'][e] for l in L)))\n"
	"print('waits', sum(v for k, v in agg.items() if k.startswith('w.')))\n"
	"for m in errs: print('FAIL', m)\n"
	"print('ok' if not errs else 'failed')\n"
	"sys.exit(1 if errs else 0)\n";

/* Runs tern-profile --json on @args with the trace in a file; checks both; "engines ..." in @res. */
static void profile_op(struct __test_metadata *_metadata, const char *const *args, char *res,
		       size_t rlen)
{
	char trace[] = "/tmp/tern_profile.XXXXXX", *out, *err, *script;
	const char *argv[24];
	unsigned int n = 0;
	int fd, rc;

	out = malloc(OUT_MAX);
	err = malloc(OUT_MAX);
	script = malloc(sizeof(check_py) + 8192);
	ASSERT_TRUE(out && err && script);
	fd = mkstemp(trace);
	ASSERT_LE(0, fd);
	close(fd);
	argv[n++] = "--json";
	argv[n++] = "-c";
	argv[n++] = "0";
	argv[n++] = "-o";
	argv[n++] = trace;
	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = run_tool("tern-profile", argv, -1, out, OUT_MAX, err, OUT_MAX);
	ASSERT_EQ(0, rc) TH_LOG("tern-profile %s: %s%s", argv[5], out, err);
	snprintf(script, sizeof(check_py) + 8192, "%sTRACE = '%s'\n%s", JSON_STRICT_PY, trace,
		 check_py);
	rc = json_py(out, script, res, rlen, err, OUT_MAX);
	EXPECT_EQ(0, rc) TH_LOG("%s: %s\n%s", argv[5], res, err);
	TH_LOG("tern-profile %s: %s", argv[5], res);
	unlink(trace);
	free(out);
	free(err);
	free(script);
}

TEST(tool_attention_every_engine)
{
	const char *const args[] = { "attention", "--sq", "128", "--sk", "128", "--d", "64", NULL };
	char res[8192];

	ASSERT_LT(0, tern_device_count());
	profile_op(_metadata, args, res, sizeof(res));
	EXPECT_NE(NULL, strstr(res, "engines tensor vector scalar dma\n")) TH_LOG("%s", res);
	EXPECT_EQ(NULL, strstr(res, "waits 0\n")) TH_LOG("no semaphore wait: %s", res);
}

TEST(tool_matmul_softmax_repeat)
{
	const char *const mm[] = { "matmul", "--m", "128", "--n", "256", "--k", "192",
				   "--repeat", "2", NULL };
	const char *const sm[] = { "softmax", "--rows", "64", "--cols", "512", NULL };
	char res[8192];

	ASSERT_LT(0, tern_device_count());
	profile_op(_metadata, mm, res, sizeof(res));
	EXPECT_NE(NULL, strstr(res, "tensor")) TH_LOG("%s", res);
	EXPECT_NE(NULL, strstr(res, "dma")) TH_LOG("%s", res);
	profile_op(_metadata, sm, res, sizeof(res));
	EXPECT_NE(NULL, strstr(res, "vector")) TH_LOG("%s", res);
}

/* The text summary and the trace on stdout with -o -. */
TEST(tool_text_and_stdout)
{
	const char *const text[] = { "-c", "0", "attention", "--sq", "128", "--sk", "128",
				     "--d", "64", "-o", "/dev/null", NULL };
	const char *const std[] = { "relu", "--rows", "32", "--cols", "256", "-o", "-", NULL };
	char *out = malloc(OUT_MAX), *err = malloc(OUT_MAX), res[256];

	ASSERT_TRUE(out && err);
	ASSERT_LT(0, tern_device_count());
	ASSERT_EQ(0, run_tool("tern-profile", text, -1, out, OUT_MAX, err, OUT_MAX)) TH_LOG("%s", err);
	TH_LOG("tern-profile -c 0 attention --sq 128 --sk 128 --d 64:\n%s", out);
	EXPECT_NE(NULL, strstr(out, "attention (PASS) on tern0")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "busy cyc")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "DMA engines:")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "0      scalar")) TH_LOG("%s", out);
	ASSERT_EQ(0, run_tool("tern-profile", std, -1, out, OUT_MAX, err, OUT_MAX)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "relu (PASS)")) TH_LOG("the summary goes to stderr: %s", err);
	EXPECT_EQ(0, json_py(out, JSON_STRICT_PY "t = strict_loads(open(sys.argv[1]).read())\n"
			     "print(len(t['traceEvents']) > 0)\n", res, sizeof(res), err, OUT_MAX))
		TH_LOG("%s", err);
	EXPECT_EQ(0, strncmp(res, "True", 4)) TH_LOG("%s", res);
	free(out);
	free(err);
}

TEST(tool_errors)
{
	const char *const usage[][6] = {
		{ "--max-insns", "0", "relu", NULL },
		{ "--bogus", "relu", NULL },
		{ "relu", "-o", NULL },
		{ "relu", "--json", "-o", "-", NULL },
		{ "frobnicate", NULL },
		{ "--program", "/nonexistent", NULL },
		{ "relu", "--causal", NULL },
	};
	const char *const nodev[] = { "relu", "-d", "63", "-o", "/dev/null", NULL };
	const char *const noperm[] = { "relu", "-o", "/dev/null", NULL };
	const char *const help[] = { "--help", NULL };
	char *out = malloc(OUT_MAX), *err = malloc(OUT_MAX);

	ASSERT_TRUE(out && err);
	for (unsigned int i = 0; i < ARRAY_SIZE(usage); i++) {
		EXPECT_EQ(2, run_tool("tern-profile", usage[i], -1, out, OUT_MAX, err, OUT_MAX))
			TH_LOG("case %u: %s", i, err);
		EXPECT_NE(NULL, strstr(err, "tern-profile: ")) TH_LOG("case %u: no message", i);
	}
	EXPECT_EQ(1, run_tool("tern-profile", nodev, -1, out, OUT_MAX, err, OUT_MAX));
	EXPECT_NE(NULL, strstr(err, "tern device")) TH_LOG("%s", err);
	EXPECT_EQ(1, run_tool("tern-profile", noperm, NOBODY, out, OUT_MAX, err, OUT_MAX));
	EXPECT_NE(NULL, strstr(err, "permission denied")) TH_LOG("%s", err);
	EXPECT_EQ(0, run_tool("tern-profile", help, -1, out, OUT_MAX, err, OUT_MAX));
	EXPECT_NE(NULL, strstr(out, "usage: tern-profile")) TH_LOG("%s", out);
	free(out);
	free(err);
}

TEST_HARNESS_MAIN
