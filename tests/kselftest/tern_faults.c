// SPDX-License-Identifier: MIT
/*
 * tern_faults: each fault kind of the chip (Documentation/chip/spec.rst,
 * "Fault injection"), injected through the QMP relay (tern_inject.h), end
 * to end: it takes effect once (faults-injected), the driver detects it,
 * reports it (the job's status, sysfs counters, uevents), recovers, the
 * next job is right, and another process running verified jobs on the same
 * chip meanwhile (tern_faults.h) has every result right. Here: DMA abort,
 * lost completions, core hang, PCIe AER. HBM ECC is in tern_faults_ras.c;
 * FLR in tern_recover; link down in tern_link and tern_coll.
 *
 * The first tern device (by minor) is QEMU device tern0 in the VM of
 * tests/vm/run-vm.sh test. Without the relay the tests SKIP.
 */
#include "tern_faults.h"

#define HANG_TIMEOUT_NS	(1000ull * 1000 * 1000)
#define LOST_TIMEOUT_MS	"3000"	/* debugfs dma_timeout_ms for the lost DMA completion */
#define AER_WAIT_S	20

/*
 * A DMA abort fails the job it hits (DEVICE_ERROR / TERN_ERR_DMA_ABORT),
 * nothing else: no reset, the other process's jobs all verified, the next
 * job on the queue moves its data.
 */
TEST_F_TIMEOUT(faults, dma_abort_fails_one_job, FT_TEST_SECS)
{
	uint32_t queue = self->info.num_queues - 1, status, code, hs, hd;
	uint64_t errors = tern_sysfs_u64(self->minor, "device_errors");
	unsigned char *src, *dst;

	ASSERT_LE(2u, self->info.num_queues);
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);

	/* bad values are refused by the relay or QEMU, not armed */
	EXPECT_EQ(-EIO, tern_inject_dma_abort(0, 64));
	EXPECT_EQ(-EIO, tern_inject_set(0, "inject-dma-abort", "x"));
	EXPECT_EQ(-EIO, tern_inject_ecc(0, true, 1ull << 40));
	EXPECT_EQ(-EIO, tern_inject_set(0, "hbm-size", "1"));

	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 0);
	ASSERT_EQ(0, tern_inject_dma_abort(0, queue)) TH_LOG("%s", tern_vm_error());
	ft_copy(_metadata, self->fd, self->tl, &self->point, queue, hd, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status);
	EXPECT_EQ((uint32_t)TERN_ERR_DMA_ABORT, code);
	EXPECT_EQ(-1, tern_first_not(dst, 0, FT_BYTES));	/* nothing moved */
	FT_EXPECT_INJECTED(1);
	EXPECT_LT(errors, tern_sysfs_u64(self->minor, "device_errors"));

	/* once: the next job on the queue is whole */
	ft_copy(_metadata, self->fd, self->tl, &self->point, queue, hd, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("device error %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	FT_EXPECT_INJECTED(1);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"))
		TH_LOG("a DMA abort reset the device");
}

/*
 * A failed job's timeline point keeps its status: the job fails (DMA
 * abort), a later point on the same timeline completes and is waited for,
 * and only then is the failed point waited for. The DRM core has dropped it
 * from the chain by then (signalled, a later point present); WAIT still
 * reports DEVICE_ERROR / TERN_ERR_DMA_ABORT, not the older point's OK.
 */
TEST_F_TIMEOUT(faults, failed_point_keeps_its_status, FT_TEST_SECS)
{
	uint32_t queue = self->info.num_queues - 1, hs, hd;
	uint64_t bad, good;
	struct drm_tern_wait w;
	unsigned char *src, *dst;

	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	/* an older point that ended OK: what a dropped point used to report */
	ASSERT_EQ(0, tern_submit_copy(self->fd, queue, hd, 0, hs, 0, 4096, self->tl,
				      ++self->point));
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, self->point, TERN_WAIT_LONG, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, w.status);

	ASSERT_EQ(0, tern_inject_dma_abort(0, queue)) TH_LOG("%s", tern_vm_error());
	bad = ++self->point;
	ASSERT_EQ(0, tern_submit_copy(self->fd, queue, hd, 0, hs, 0, FT_BYTES, self->tl, bad));
	good = ++self->point;
	ASSERT_EQ(0, tern_submit_copy(self->fd, queue, hd, 0, hs, 0, FT_BYTES, self->tl, good));
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, good, TERN_WAIT_LONG, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, w.status) TH_LOG("code %u", w.error_code);
	FT_EXPECT_INJECTED(1);

	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, bad, 0, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, w.status);
	EXPECT_EQ((uint32_t)TERN_ERR_DMA_ABORT, w.error_code);
	/* again, and the later point still reads OK */
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, bad, 0, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, w.status);
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, good, 0, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, w.status);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

/*
 * DMA aborts that keep coming on one queue: TERN_DMA_ABORTS_PER_JOB (3)
 * fail one job each, the next one recovers the device (reason
 * fatal-error, uevent; the other process's jobs in flight may end RESET and
 * are submitted again), and the queue then works.
 */
TEST_F_TIMEOUT(faults, dma_abort_repeated_recovers, FT_TEST_SECS)
{
	uint32_t queue = self->info.num_queues - 1, status, code, hs, hd;
	unsigned char *src, *dst;
	int i;

	ASSERT_LE(2u, self->info.num_queues);
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	tern_coredump_take(self->pci, NULL);
	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 1);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, tern_inject_dma_abort(0, queue)) TH_LOG("%s", tern_vm_error());
		ft_copy(_metadata, self->fd, self->tl, &self->point, queue, hd, 0, hs, 0, FT_BYTES,
			&status, &code);
		EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status) TH_LOG("abort %d", i);
		EXPECT_EQ((uint32_t)TERN_ERR_DMA_ABORT, code);
		/* The recovery counts itself after it ended the jobs: wait for it. */
		EXPECT_EQ(self->resets + (i == 3),
			  i == 3 ? ft_sysfs_wait(self->minor, "resets", self->resets + 1) :
			  tern_sysfs_u64(self->minor, "resets"))
			TH_LOG("after abort %d in a row", i + 1);
	}
	FT_EXPECT_INJECTED(4);
	ft_expect_reason(_metadata, self->minor, "fatal-error");
	ft_expect_reset_uevent(_metadata, self->ufd, self->minor, "fatal-error");

	ft_copy(_metadata, self->fd, self->tl, &self->point, queue, hd, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("device error %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	FT_BYSTANDER_CHECK();
	tern_coredump_take(self->pci, NULL);
}

/*
 * A DMA job whose fence and interrupt are lost: the TDR (debugfs
 * dma_timeout_ms) finds the chip finished it and completes it OK; counted
 * in lost_completions, no reset, the data is there.
 */
TEST_F_TIMEOUT(faults, lost_completion_queue, FT_TEST_SECS)
{
	uint32_t queue = self->info.num_queues - 1, status, code, hs, hd;
	unsigned char *src, *dst;

	ASSERT_LE(2u, self->info.num_queues);
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	ASSERT_EQ(0, ft_debugfs_str(self->minor, "dma_timeout_ms", LOST_TIMEOUT_MS));
	self->dma_timeout_set = 1;
	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 0);
	ASSERT_EQ(0, tern_inject_lost_completion(0, false, queue)) TH_LOG("%s", tern_vm_error());
	ft_copy(_metadata, self->fd, self->tl, &self->point, queue, hd, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(self->lost + 1, tern_sysfs_u64(self->minor, "lost_completions"));
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(0, ft_debugfs_str(self->minor, "dma_timeout_ms", "0"));
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

/*
 * A launch whose fence and interrupt are lost: its timeout (EXEC
 * timeout_ns) finds the core past it and completes it with the status the
 * core wrote (OK); lost_completions +1, no reset, the output is right.
 */
TEST_F_TIMEOUT(faults, lost_completion_core, FT_TEST_SECS)
{
	uint32_t status, code;
	struct prog p;

	if (!self->info.num_cores)
		SKIP(return, "no compute cores");
	prog_setup(_metadata, self->fd, &p);
	prog_fill(_metadata, self, &p);
	FT_BYSTANDER(0, self->info.num_cores > 1 ? 1 : -1, 0);
	ASSERT_EQ(0, tern_inject_lost_completion(0, true, 0)) TH_LOG("%s", tern_vm_error());
	prog_run(_metadata, self, &p, 0, HANG_TIMEOUT_NS, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(self->lost + 1, tern_sysfs_u64(self->minor, "lost_completions"));
	prog_check(_metadata, self, &p);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

/*
 * A core that hangs: the launch passes its timeout, ABORT does nothing,
 * the driver resets that core alone (TERN_C_CTRL_RESET): the job ends
 * TIMEOUT, resets +1 with reason core-hang and a uevent; the other
 * process's DMA jobs and launches on the other core all end OK (no RESET
 * allowed), and the hung core runs the next launch right.
 */
TEST_F_TIMEOUT(faults, core_hang_resets_the_core, FT_TEST_SECS)
{
	uint32_t status, code;
	struct prog p;

	if (self->info.num_cores < 1)
		SKIP(return, "no compute cores");
	prog_setup(_metadata, self->fd, &p);
	prog_fill(_metadata, self, &p);
	tern_coredump_take(self->pci, NULL);
	FT_BYSTANDER(0, self->info.num_cores > 1 ? 1 : -1, 0);
	ASSERT_EQ(0, tern_inject_core_hang(0, 0)) TH_LOG("%s", tern_vm_error());
	prog_run(_metadata, self, &p, 0, HANG_TIMEOUT_NS, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_TIMEOUT, status) TH_LOG("code %u", code);
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(self->resets + 1, ft_sysfs_wait(self->minor, "resets", self->resets + 1));
	ft_expect_reason(_metadata, self->minor, "core-hang");
	ft_expect_reset_uevent(_metadata, self->ufd, self->minor, "core-hang");

	prog_fill(_metadata, self, &p);
	prog_run(_metadata, self, &p, 0, 0, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	prog_check(_metadata, self, &p);
	FT_BYSTANDER_CHECK();
	tern_coredump_take(self->pci, NULL);
}

/* ---- PCIe AER ---- */

/*
 * The AER service of the port above @pci is bound (the kernel handles AER
 * natively): 1; else 0 with @why set.
 */
static int aer_service_bound(const char *pci, char *port, char *why, size_t len)
{
	char path[128], real[PATH_MAX], *slash;
	struct dirent *de;
	int found = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pci);
	if (!realpath(path, real)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return 0;
	}
	slash = strrchr(real, '/');
	*slash = '\0';
	slash = strrchr(real, '/');
	snprintf(port, 32, "%s", slash + 1);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/aer_dev_correctable", pci);
	if (access(path, R_OK)) {
		snprintf(why, len, "no %s: the device has no AER statistics", path);
		return 0;
	}
	dir = opendir("/sys/bus/pci_express/drivers/aer");
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, port, strlen(port)) && de->d_name[strlen(port)] == ':')
			found = 1;
	if (dir)
		closedir(dir);
	if (!found)
		snprintf(why, len, "the kernel's AER service is not bound to root port %s (no native AER: firmware kept AER control, or pcie_ports=compat / CONFIG_PCIEAER off)",
			 port);
	return found;
}

/* Config space of @pci (the first @len bytes); bytes read, or -1. */
static int cfg_read(const char *pci, uint8_t *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", pci);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, 0);
	close(fd);
	return (int)n;
}

static uint32_t cfg32(const uint8_t *c, unsigned int off)
{
	return c[off] | c[off + 1] << 8 | c[off + 2] << 16 | (uint32_t)c[off + 3] << 24;
}

/* Offset of PCI capability @id (@ext: extended capability), 0 if none. */
static unsigned int cfg_cap(const uint8_t *c, int n, unsigned int id, int ext)
{
	unsigned int off, guard = 0;

	if (!ext) {
		for (off = c[0x34] & ~3u; off && off + 2 <= (unsigned int)n && guard++ < 48;
		     off = c[off + 1] & ~3u)
			if (c[off] == id)
				return off;
		return 0;
	}
	for (off = 0x100; off && off + 4 <= (unsigned int)n && guard++ < 64;
	     off = cfg32(c, off) >> 20)
		if ((cfg32(c, off) & 0xffff) == id)
			return off;
	return 0;
}

/* What AER needs, as the guest programmed it: for the log when an error does not arrive. */
static void aer_log_regs(struct __test_metadata *_metadata, const char *pci, const char *port)
{
	uint8_t d[4096], r[4096];
	int nd = cfg_read(pci, d, sizeof(d)), nr = cfg_read(port, r, sizeof(r));
	unsigned int de, da, re, ra;

	if (nd < 256 || nr < 256) {
		TH_LOG("config space not readable (%d, %d bytes)", nd, nr);
		return;
	}
	de = cfg_cap(d, nd, 0x10, 0);
	da = cfg_cap(d, nd, 0x1, 1);
	re = cfg_cap(r, nr, 0x10, 0);
	ra = cfg_cap(r, nr, 0x1, 1);
	TH_LOG("device %s: COMMAND 0x%04x DEVCTL 0x%04x AER at 0x%x UNCOR_STATUS 0x%08x COR_STATUS 0x%08x",
	       pci, cfg32(d, 4) & 0xffff, de ? cfg32(d, de + 8) & 0xffff : 0xffff, da,
	       da ? cfg32(d, da + 4) : 0, da ? cfg32(d, da + 0x10) : 0);
	TH_LOG("root port %s: COMMAND 0x%04x BRIDGE_CONTROL 0x%04x DEVCTL 0x%04x RTCTL 0x%04x AER at 0x%x ROOT_COMMAND 0x%08x ROOT_STATUS 0x%08x",
	       port, cfg32(r, 4) & 0xffff, cfg32(r, 0x3c) >> 16,
	       re ? cfg32(r, re + 8) & 0xffff : 0xffff, re ? cfg32(r, re + 0x1c) & 0xffff : 0xffff,
	       ra, ra ? cfg32(r, ra + 0x2c) : 0, ra ? cfg32(r, ra + 0x30) : 0);
}

/* The TOTAL_ERR_* line of /sys/bus/pci/devices/@pci/aer_dev_@kind; UINT64_MAX if none. */
static uint64_t aer_total(const char *pci, const char *kind)
{
	char path[160], buf[2048], *s;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/aer_dev_%s", pci, kind);
	if (tern_read_file(path, buf, sizeof(buf)))
		return UINT64_MAX;
	s = strstr(buf, "TOTAL_ERR_");
	if (!s || !(s = strchr(s, ' ')))
		return UINT64_MAX;
	return strtoull(s + 1, NULL, 10);
}

/*
 * The root port's count of fatal errors it received
 * (aer_rootport_total_err_fatal); UINT64_MAX if none.
 */
static uint64_t aer_port_fatal(const char *port)
{
	char path[160], buf[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/aer_rootport_total_err_fatal",
		 port);
	if (tern_read_file(path, buf, sizeof(buf)))
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

/*
 * Where the PCI core counts an error of @kind of device @pci below root
 * port @port: the device's aer_dev_<kind> total; for a fatal one the root
 * port's count, because after a fatal error the kernel does not read the
 * device's AER registers (its link is not trusted) and so does not count
 * it on the device.
 */
static uint64_t aer_count(const char *pci, const char *port, const char *kind)
{
	return strcmp(kind, "fatal") ? aer_total(pci, kind) : aer_port_fatal(port);
}

/* Poll until the count of @kind passes @before or AER_WAIT_S pass. */
static uint64_t aer_wait_total(const char *pci, const char *port, const char *kind,
			       uint64_t before)
{
	time_t end = time(NULL) + AER_WAIT_S;
	uint64_t now;

	do {
		now = aer_count(pci, port, kind);
		if (now != UINT64_MAX && now > before)
			break;
		usleep(100 * 1000);
	} while (time(NULL) < end);
	return now;
}

/* The device works after: a copy and a launch, verified. */
static void device_works(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self)
{
	uint32_t status, code, hs, hd;
	unsigned char *src, *dst;
	struct prog p;

	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	ft_copy(_metadata, self->fd, self->tl, &self->point, 0, hd, 0, hs, 0, FT_BYTES, &status,
		&code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	if (!self->info.num_cores)
		return;
	prog_setup(_metadata, self->fd, &p);
	prog_fill(_metadata, self, &p);
	prog_run(_metadata, self, &p, 0, 0, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	prog_check(_metadata, self, &p);
}

/* A correctable AER error: the PCI core counts it; the driver does nothing, no reset. */
TEST_F_TIMEOUT(faults, aer_correctable, FT_TEST_SECS)
{
	uint64_t before, now;
	char why[512], port[32];

	if (!aer_service_bound(self->pci, port, why, sizeof(why)))
		SKIP(return, "%s", why);
	before = aer_total(self->pci, "correctable");
	ASSERT_NE(UINT64_MAX, before);
	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 0);
	ASSERT_EQ(0, tern_inject_aer(0, "correctable")) TH_LOG("%s", tern_vm_error());
	now = aer_wait_total(self->pci, port, "correctable", before);
	EXPECT_EQ(before + 1, now) TH_LOG("aer_dev_correctable TOTAL_ERR_COR");
	if (now != before + 1)
		aer_log_regs(_metadata, self->pci, port);
	FT_EXPECT_INJECTED(1);
	device_works(_metadata, self);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

/*
 * An uncorrectable AER error (@kind nonfatal or fatal): the PCI core calls
 * error_detected, the driver pauses, the link or function is reset
 * (fatal) or not (nonfatal), slot_reset recovers the device (reason aer,
 * uevent), resume; the other process's jobs end OK or RESET (then redone
 * and verified), and the device works after.
 */
static void aer_uncorrectable(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
			      const char *kind)
{
	uint64_t before, now, resets;
	time_t end;
	char why[512], port[32];

	if (!aer_service_bound(self->pci, port, why, sizeof(why)))
		SKIP(return, "%s", why);
	before = aer_count(self->pci, port, kind);
	ASSERT_NE(UINT64_MAX, before);
	tern_coredump_take(self->pci, NULL);
	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 1);
	ASSERT_EQ(0, tern_inject_aer(0, kind)) TH_LOG("%s", tern_vm_error());
	now = aer_wait_total(self->pci, port, kind, before);
	EXPECT_EQ(before + 1, now) TH_LOG("the PCI core's count of %s errors", kind);
	if (now != before + 1)
		aer_log_regs(_metadata, self->pci, port);
	end = time(NULL) + AER_WAIT_S;
	do {
		resets = tern_sysfs_u64(self->minor, "resets");
		if (resets != UINT64_MAX && resets > self->resets)
			break;
		usleep(100 * 1000);
	} while (time(NULL) < end);
	EXPECT_EQ(self->resets + 1, resets);
	ft_expect_reason(_metadata, self->minor, "aer");
	ft_expect_reset_uevent(_metadata, self->ufd, self->minor, "aer");
	FT_EXPECT_INJECTED(1);
	device_works(_metadata, self);
	FT_BYSTANDER_CHECK();
	tern_coredump_take(self->pci, NULL);
}

TEST_F_TIMEOUT(faults, aer_nonfatal, FT_TEST_SECS)
{
	aer_uncorrectable(_metadata, self, "nonfatal");
}

TEST_F_TIMEOUT(faults, aer_fatal, FT_TEST_SECS)
{
	aer_uncorrectable(_metadata, self, "fatal");
}

TEST_HARNESS_MAIN
