// SPDX-License-Identifier: MIT
/*
 * tern_top: tern-top in a real terminal (a tmux pane), read off the screen.
 *
 * A workload process (named "tt-workload") copies 4 MiB between host and
 * device memory of device 0 in a loop, through the SUBMIT ioctl. tern-top runs in a detached tmux
 * session of 120x40 with -d 0.5; after its third refresh the pane is
 * captured and must show a header naming every tern device of
 * /sys/class/accel, a utilisation bar per DMA engine and per core of every
 * device (some DMA engine of device 0 busy), and the workload's pid in the
 * process table with DMA time. Then `q` must end tern-top with exit status
 * 0 and close the pane. Without a terminal (stdin/stdout not a tty, or TERM
 * unset) tern-top must refuse with a clear message and a non-zero exit; a
 * bad option gives exit 2; --once prints a plain frame without a terminal.
 */
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern.h"

#define COPY_SIZE	(4u << 20)
#define WORKLOAD_COMM	"tt-workload"
#define WAIT_REFRESH_S	180	/* give up waiting for the 3rd refresh (TCG guest) */
#define WAIT_EXIT_S	60	/* give up waiting for the pane to close after q */
#define SCREEN_MAX	(64 * 1024)

static const char *top_path(void)
{
	static char path[PATH_MAX];
	const char *b = getenv("TERN_BUILD");

	/* the kselftests run from $TERN_BUILD/tests/kselftest */
	snprintf(path, sizeof(path), "%s/tools/tern-top", b && *b ? b : "../..");
	return path;
}

/* Runs a shell command; returns its exit status, or -1. */
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Output of a shell command into @buf (NUL-terminated); returns its exit status. */
static int sh_out(char *buf, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	size_t n = 0, r;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && (r = fread(buf + n, 1, len - 1 - n, f)) > 0)
		n += r;
	buf[n] = '\0';
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the workload ---- */

static volatile sig_atomic_t workload_stop;

static void workload_on_term(int sig)
{
	(void)sig;
	workload_stop = 1;
}

/* Child: copies host <-> device on device 0 until SIGTERM; writes one byte
 * to @ready after the first round trip. Exit status 0, or 1 on a failure. */
static int workload(int ready)
{
	struct tern_buffer *host = NULL, *hbm = NULL;
	struct sigaction sa = { .sa_handler = workload_on_term };
	struct tern_device *dev = NULL;
	bool told = false;
	void *p;
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_NAME, WORKLOAD_COMM, 0, 0, 0);
	/*
	 * Through the kernel: it times each job of a file for drm-engine-dma.
	 * Jobs on a user-mode queue (the default path for copies) never pass
	 * through it, so their time is not in the file's fdinfo.
	 */
	setenv("TERN_SUBMIT", "ioctl", 1);
	err = tern_device_open(0, &dev);
	if (!err)
		err = tern_buffer_alloc(dev, COPY_SIZE, TERN_MEM_HOST, &host);
	if (!err)
		err = tern_buffer_alloc(dev, COPY_SIZE, TERN_MEM_DEVICE, &hbm);
	if (!err)
		err = tern_buffer_map(host, &p);
	if (!err)
		memset(p, 0x5a, COPY_SIZE);
	while (!err && !workload_stop) {
		err = tern_copy(dev, hbm, 0, host, 0, COPY_SIZE);
		if (!err)
			err = tern_copy(dev, host, 0, hbm, 0, COPY_SIZE);
		if (!err && !told) {
			told = write(ready, "r", 1) == 1;
			if (!told)
				err = -EIO;
		}
	}
	if (err)
		fprintf(stderr, "# workload: %s\n", tern_last_error());
	tern_buffer_free(hbm);
	tern_buffer_free(host);
	tern_device_close(dev);
	return err ? 1 : 0;
}

/* ---- tmux ---- */

struct term {
	char sock[128];		/* tmux server socket */
	char script[128];	/* what the pane runs */
	char rc[128];		/* the pane's script writes tern-top's exit status here */
	char err[128];		/* and its stderr here */
};

static void term_init(struct term *t, const char *tag)
{
	snprintf(t->sock, sizeof(t->sock), "/tmp/tern_top.%d.%s.sock", getpid(), tag);
	snprintf(t->script, sizeof(t->script), "/tmp/tern_top.%d.%s.sh", getpid(), tag);
	snprintf(t->rc, sizeof(t->rc), "/tmp/tern_top.%d.%s.rc", getpid(), tag);
	snprintf(t->err, sizeof(t->err), "/tmp/tern_top.%d.%s.err", getpid(), tag);
	unlink(t->rc);
	unlink(t->err);
}

/* Starts tern-top with @args (and @env before it) in a detached 120x40 session. */
static int term_start(struct term *t, const char *env, const char *args)
{
	FILE *f = fopen(t->script, "w");

	if (!f)
		return -1;
	fprintf(f, "%s %s %s 2>%s\necho $? >%s\n", env, top_path(), args, t->err, t->rc);
	if (fclose(f))
		return -1;
	return sh("tmux -S %s -f /dev/null new-session -d -s top -x 120 -y 40 'sh %s'",
		  t->sock, t->script);
}

static int term_alive(struct term *t)
{
	return sh("tmux -S %s has-session -t top 2>/dev/null", t->sock) == 0;
}

static int term_capture(struct term *t, char *buf, size_t len)
{
	return sh_out(buf, len, "tmux -S %s capture-pane -p -t top", t->sock);
}

static void term_kill(struct term *t)
{
	sh("tmux -S %s kill-server 2>/dev/null", t->sock);
	unlink(t->sock);
	unlink(t->script);
	unlink(t->rc);
	unlink(t->err);
}

/* Waits for the pane to close; returns tern-top's exit status, or -1. */
static int term_wait_exit(struct term *t)
{
	char buf[64];
	int i;

	for (i = 0; i < WAIT_EXIT_S * 10 && term_alive(t); i++)
		sleep_ms(100);
	if (term_alive(t))
		return -1;
	if (tern_read_file(t->rc, buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

/* The refresh counter of the title line ("... refresh N ..."), or -1. */
static int screen_refresh(const char *screen)
{
	const char *p = strstr(screen, " refresh ");
	int n;

	if (!p || sscanf(p, " refresh %d", &n) != 1)
		return -1;
	return n;
}

/* Lines of @screen that start with @prefix after leading blanks. */
static int count_lines(const char *screen, const char *prefix)
{
	const char *l = screen;
	int n = 0;

	while (l && *l) {
		const char *s = l + strspn(l, " ");

		if (!strncmp(s, prefix, strlen(prefix)))
			n++;
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return n;
}

/* Bytes of one unit tern-top prints ("B", "KiB", ... "TiB"); 0 if unknown. */
static double unit_bytes(const char *unit)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = 1;
	unsigned int i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++, v *= 1024)
		if (!strcmp(unit, units[i]))
			return v;
	return 0;
}

/* Whether a "dmaN [...  P%]" bar of the device whose header starts with
 * @header shows P > 0 (the device's lines end at the next header or at a
 * blank line). */
static bool section_dma_busy(const char *screen, const char *header)
{
	const char *start = strstr(screen, header), *end, *p, *close, *num;

	if (!start)
		return false;
	end = strstr(start + 1, "\ntern");
	if (!end)
		end = strstr(start, "\n\n");
	if (!end)
		end = start + strlen(start);
	for (p = strstr(start, "dma"); p && p < end; p = strstr(p + 1, "dma")) {
		const char *q = p + 3;

		if (*q < '0' || *q > '9')
			continue;
		q += strspn(q, "0123456789");
		q += strspn(q, " ");
		if (*q != '[')
			continue;
		close = strchr(q, ']');
		if (!close || close >= end || close[-1] != '%')
			continue;
		/* the percentage printed right-aligned before the ']' */
		for (num = close - 1; num > q && (num[-1] == '.' || (num[-1] >= '0' && num[-1] <= '9'));)
			num--;
		if (strtod(num, NULL) > 0)
			return true;
	}
	return false;
}

/* ---- without a terminal ---- */

/* Runs tern-top with @args, stdin from /dev/null, stdout and stderr to
 * @out: returns its exit status. */
static int run_piped(char *out, size_t len, const char *args)
{
	return sh_out(out, len, "%s %s </dev/null 2>&1", top_path(), args);
}

TEST(no_terminal)
{
	char out[SCREEN_MAX], name[32];
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int n, i;

	ASSERT_EQ(0, access(top_path(), X_OK)) TH_LOG("%s missing", top_path());

	/* stdin/stdout are no terminal: a message saying so, exit 1 */
	EXPECT_EQ(1, run_piped(out, sizeof(out), "-n 1"));
	EXPECT_NE(NULL, strstr(out, "not a terminal")) TH_LOG("said: %s", out);
	EXPECT_NE(NULL, strstr(out, "--once")) TH_LOG("said: %s", out);

	/* bad options: exit 2 with the reason */
	EXPECT_EQ(2, run_piped(out, sizeof(out), "-d 0"));
	EXPECT_NE(NULL, strstr(out, "bad refresh interval")) TH_LOG("said: %s", out);
	EXPECT_EQ(2, run_piped(out, sizeof(out), "-n -3"));
	EXPECT_NE(NULL, strstr(out, "bad refresh count")) TH_LOG("said: %s", out);
	EXPECT_EQ(2, run_piped(out, sizeof(out), "--json"));
	EXPECT_EQ(2, run_piped(out, sizeof(out), "--no-such-option"));
	EXPECT_EQ(0, run_piped(out, sizeof(out), "--help"));
	EXPECT_NE(NULL, strstr(out, "usage: tern-top")) TH_LOG("said: %s", out);

	/* --once needs no terminal: one plain frame naming every device */
	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), n);
	EXPECT_EQ(0, run_piped(out, sizeof(out), "--once -d 0.2"));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "accel%u ", minors[i]);
		EXPECT_NE(NULL, strstr(out, name)) TH_LOG("no %s in: %s", name, out);
	}
	EXPECT_EQ(NULL, strchr(out, '\033')) TH_LOG("escape sequences in a plain frame");

	/* -b --json: one object per frame, every device with its rates */
	EXPECT_EQ(0, run_piped(out, sizeof(out), "-b -n 2 -d 0.2 --json"));
	TH_LOG("tern-top -b -n 2 --json:\n%s", out);
	EXPECT_EQ(0, sh("%s -b -n 2 -d 0.2 --json | python3 -c '"
			"import json, sys\n"
			"frames = [json.loads(l) for l in sys.stdin]\n"
			"assert [f[\"refresh\"] for f in frames] == [1, 2], frames\n"
			"for f in frames:\n"
			"    assert [d[\"index\"] for d in f[\"devices\"]] == list(range(%d)), f\n"
			"    for d in f[\"devices\"]:\n"
			"        assert d[\"minor\"] >= 0 and d[\"hbm_total\"] > 0, d\n"
			"        assert all(0 <= u <= 100 for u in d[\"dma_util\"] + d[\"core_util\"]), d\n"
			"        assert d[\"dma_util\"] and d[\"core_util\"], d\n"
			"'", top_path(), n));
}

/* In a terminal but without TERM: refused with a message, exit 1. */
TEST(no_term_type)
{
	char msg[1024] = "";
	struct term t;

	term_init(&t, "noterm");
	ASSERT_EQ(0, term_start(&t, "env -u TERM", "-n 1"));
	EXPECT_EQ(1, term_wait_exit(&t));
	tern_read_file(t.err, msg, sizeof(msg));
	EXPECT_NE(NULL, strstr(msg, "TERM is not set")) TH_LOG("said: %s", msg);
	term_kill(&t);
}

/* ---- the live view ---- */

FIXTURE(live) {
	pid_t workload;
	struct term t;
};

FIXTURE_SETUP(live)
{
	int fds[2];
	char c;

	self->workload = -1;
	term_init(&self->t, "live");
	ASSERT_EQ(0, access(top_path(), X_OK)) TH_LOG("%s missing", top_path());
	ASSERT_EQ(0, sh("command -v tmux >/dev/null")) TH_LOG("tmux is not installed");
	ASSERT_EQ(0, pipe(fds));
	self->workload = fork();
	ASSERT_LE(0, self->workload);
	if (self->workload == 0) {
		close(fds[0]);
		_exit(workload(fds[1]));
	}
	close(fds[1]);
	/* the first round trip done (or the workload failed: EOF) */
	ASSERT_EQ(1, read(fds[0], &c, 1)) TH_LOG("the workload failed to start");
	close(fds[0]);
}

FIXTURE_TEARDOWN(live)
{
	int status;

	term_kill(&self->t);
	if (self->workload > 0) {
		kill(self->workload, SIGTERM);
		waitpid(self->workload, &status, 0);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("workload ended with status 0x%x", status);
	}
}

TEST_F(live, screen)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	static char screen[SCREEN_MAX];
	char name[32], comm[64], *l;
	bool busy, row = false;
	double dma_ms;
	int n, i, refresh = -1, pid;

	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), n);

	ASSERT_EQ(0, term_start(&self->t, "", "-d 0.5"));
	/* wait for the third refresh: rates over a whole interval are on screen */
	for (i = 0; i < WAIT_REFRESH_S * 10 && refresh < 3; i++) {
		sleep_ms(100);
		ASSERT_TRUE(term_alive(&self->t)) TH_LOG("tern-top ended early");
		ASSERT_EQ(0, term_capture(&self->t, screen, sizeof(screen)));
		refresh = screen_refresh(screen);
	}
	ASSERT_LE(3, refresh) TH_LOG("no third refresh; screen:\n%s", screen);
	TH_LOG("screen after refresh %d:\n%s", refresh, screen);

	/* a header per device naming it */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "tern%d accel%u ", i, minors[i]);
		EXPECT_EQ(1, count_lines(screen, name)) TH_LOG("no header \"%s\"", name);
	}
	snprintf(name, sizeof(name), "tern%d ", n);
	EXPECT_EQ(0, count_lines(screen, name)) TH_LOG("more headers than devices");
	/* a bar for DMA engine 0 and core 0 of every device, with a percentage */
	EXPECT_EQ(n, count_lines(screen, "dma0  ["));
	EXPECT_EQ(n, count_lines(screen, "core0 ["));
	EXPECT_NE(NULL, strstr(screen, "%]"));

	/* some DMA engine of device 0 (the first header) is busy */
	busy = section_dma_busy(screen, "tern0 ");
	EXPECT_TRUE(busy) TH_LOG("no DMA engine of device 0 busy while the workload copies");

	/* the workload in the process table, with its memory and DMA time */
	for (l = screen; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char hbm_unit[16], host_unit[16];
		double hbm, host;
		unsigned int dev;

		if (sscanf(l, "%d %63s %u %lf %15s %lf %15s %lf", &pid, comm, &dev, &hbm, hbm_unit,
			   &host, host_unit, &dma_ms) != 8 || pid != self->workload)
			continue;
		row = true;
		EXPECT_STREQ(WORKLOAD_COMM, comm);
		EXPECT_EQ(0, dev);
		EXPECT_LE((double)COPY_SIZE, hbm * unit_bytes(hbm_unit))
			TH_LOG("HBM %.1f %s", hbm, hbm_unit);
		EXPECT_LE((double)COPY_SIZE, host * unit_bytes(host_unit))
			TH_LOG("host %.1f %s", host, host_unit);
		EXPECT_LT(0.0, dma_ms) TH_LOG("no DMA time for the workload");
	}
	EXPECT_TRUE(row) TH_LOG("pid %d not in the table", self->workload);

	/* q ends it with status 0 and the pane closes */
	ASSERT_EQ(0, sh("tmux -S %s send-keys -t top q", self->t.sock));
	EXPECT_EQ(0, term_wait_exit(&self->t));
}

TEST_HARNESS_MAIN
