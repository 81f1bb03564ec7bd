// SPDX-License-Identifier: MIT
/*
 * tern_dp_train: the data-parallel training example (lib/examples/dp_train)
 * passes on 8, 4 and 2 chips of the fabric.
 *
 * The test runs the built example, $TERN_BUILD/examples/dp_train (else
 * the build directory three levels above this executable), on devices
 * 0..N-1 for 5 steps and expects exit status 0 and "PASS": every step's
 * all-reduced gradient equal bit for bit to tern_coll_reference(), the SGD
 * update equal bit for bit to the CPU's, all replicas identical, and the
 * loss and final weights within the example's tolerance of a CPU training
 * in double. Its output goes to the test log. A run with a bad argument
 * must exit 2, and one asking for more chips than exist must exit 1 with a
 * message.
 *
 * Where there are fewer devices than a case needs, or devices not linked
 * into one fabric (the 2-chip VM of run-vm.sh test), the case is skipped;
 * fewer devices than the VM booted (TERN_EXPECT_DEVICES) fail it.
 */
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "tern_fabric_test.h"
#include "tern_test.h"
#include "tern.h"

#define OUT_MAX		(64 << 10)

/* Runs dp_train with @args (NULL-terminated); stdout and stderr into @out. Returns its status. */
static int run_example(const char *const *args, char *out, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], file[] = "/tmp/tern_dp_train.XXXXXX";
	const char *argv[16];
	unsigned int n = 0;
	int fd = mkstemp(file), status = -1;
	ssize_t got;
	pid_t pid;

	out[0] = '\0';
	if (fd < 0)
		return -1;
	tern_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/examples/dp_train", dir);
	argv[n++] = path;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	got = pread(fd, out, len - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	unlink(file);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Whether devices 0..n-1 are chips of one fabric with links: 0, or 1 for
 * fewer devices, 2 for devices without a fabric, with a reason in @why.
 */
static int linked_chips(unsigned int n, char *why, size_t len)
{
	int count = tern_device_count();
	struct tern_device_info info;
	struct tern_device *dev;

	if (count < (int)n) {
		snprintf(why, len, "%d tern devices, %u needed", count < 0 ? 0 : count, n);
		return 1;
	}
	if (tern_device_open(0, &dev)) {
		snprintf(why, len, "device 0: %s", tern_last_error());
		return 1;
	}
	tern_device_info(dev, &info);
	tern_device_close(dev);
	if (info.fabric_chips < n || !info.num_links) {
		snprintf(why, len, "device 0 is chip %u of a fabric of %u chips with %u links",
			 info.chip_id, info.fabric_chips, info.num_links);
		return 2;
	}
	return 0;
}

FIXTURE(dp) {
	char out[OUT_MAX];
};

FIXTURE_VARIANT(dp) {
	const char *ranks;
	unsigned int n;
};

FIXTURE_VARIANT_ADD(dp, ranks8) { .ranks = "8", .n = 8 };
FIXTURE_VARIANT_ADD(dp, ranks4) { .ranks = "4", .n = 4 };
FIXTURE_VARIANT_ADD(dp, ranks2) { .ranks = "2", .n = 2 };

FIXTURE_SETUP(dp)
{
}

FIXTURE_TEARDOWN(dp)
{
}

TEST_F_TIMEOUT(dp, train_5_steps, 600)
{
	const char *args[] = { "--ranks", variant->ranks, "-n", "5", "-d", "0", NULL };
	char why[160];
	int rc = linked_chips(variant->n, why, sizeof(why));

	if (rc) {
		/* a chip missing from a VM that booted enough is a failure */
		if (rc == 1)
			ASSERT_GT((int)variant->n, tern_expected_devices())
				TH_LOG("%s, but the VM has %d devices", why,
				       tern_expected_devices());
		SKIP(return, "%s", why);
	}
	rc = run_example(args, self->out, sizeof(self->out));
	fprintf(stderr, "%s", self->out);
	ASSERT_EQ(0, rc) TH_LOG("dp_train --ranks %s exited with %d", variant->ranks, rc);
	EXPECT_NE(NULL, strstr(self->out, "PASS"));
	EXPECT_EQ(NULL, strstr(self->out, "DIFFER"));
	/* one line per step, each with its checks */
	EXPECT_NE(NULL, strstr(self->out, "step 5: loss"));
}

/* Bad arguments exit 2; more chips than there are exit 1 with a message. */
TEST(bad_arguments)
{
	static char out[OUT_MAX];
	const char *neg[] = { "-n", "-1", NULL }, *word[] = { "--ranks", "eight", NULL };
	const char *zero[] = { "--ranks", "0", NULL }, *extra[] = { "extra", NULL };
	const char *many[] = { "--ranks", "64", "-n", "1", NULL };

	EXPECT_EQ(2, run_example(neg, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(2, run_example(word, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(2, run_example(zero, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(2, run_example(extra, out, sizeof(out))) TH_LOG("%s", out);
	if (tern_device_count() < 64) {
		EXPECT_EQ(1, run_example(many, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "tern devices")) TH_LOG("%s", out);
	}
}

TEST_HARNESS_MAIN
