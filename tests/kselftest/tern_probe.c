// SPDX-License-Identifier: MIT
/*
 * tern_probe: the driver found both chips and describes them consistently
 * through GET_INFO, drmGetVersion, sysfs, PCI config space and debugfs.
 */
#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"

TEST(devices_present)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	int n = tern_minors(minors, TERN_TEST_MAX_DEVS);

	ASSERT_EQ(tern_expected_devices(), n)
		TH_LOG("tern devices in /sys/class/accel: %d", n);
}

TEST(module_loaded)
{
	char version[64];

	ASSERT_EQ(0, tern_read_file("/sys/module/tern/version", version, sizeof(version)))
		TH_LOG("/sys/module/tern/version unreadable: is tern.ko loaded?");
	EXPECT_STREQ("0.1.0", version);
}

TEST(nodes_are_char_devices)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char node[64], sys[96], dev[32];
	struct stat st;
	int n, i;

	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[i]);
		ASSERT_EQ(0, stat(node, &st)) TH_LOG("stat %s: %s", node, strerror(errno));
		ASSERT_TRUE(S_ISCHR(st.st_mode));
		/* The node's numbers are the ones sysfs announces. */
		snprintf(sys, sizeof(sys), "/sys/class/accel/accel%u/dev", minors[i]);
		ASSERT_EQ(0, tern_read_file(sys, dev, sizeof(dev)));
		snprintf(sys, sizeof(sys), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
		EXPECT_STREQ(dev, sys);
		EXPECT_EQ(minors[i], minor(st.st_rdev));
	}
}

FIXTURE(dev) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
};

FIXTURE_VARIANT(dev) {
	unsigned int index;
};

FIXTURE_VARIANT_ADD(dev, dev0) { .index = 0 };
FIXTURE_VARIANT_ADD(dev, dev1) { .index = 1 };

FIXTURE_SETUP(dev)
{
	self->fd = tern_open_index(_metadata, variant->index, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, drm_version)
{
	drmVersionPtr v = drmGetVersion(self->fd);

	ASSERT_NE(NULL, v) TH_LOG("drmGetVersion: %s", strerror(errno));
	EXPECT_STREQ("tern", v->name);
	EXPECT_EQ(0, v->version_major);
	EXPECT_EQ(1, v->version_minor);
	EXPECT_EQ(0, v->version_patchlevel);
	drmFreeVersion(v);
}

TEST_F(dev, get_info_sane)
{
	const struct drm_tern_info *i = &self->info;

	EXPECT_EQ(DRM_TERN_UAPI_VERSION_MAJOR, i->uapi_major);
	EXPECT_EQ(DRM_TERN_UAPI_VERSION_MINOR, i->uapi_minor);
	EXPECT_EQ((TERN_VERSION_MAJOR << 16) | TERN_VERSION_MINOR, i->hw_version);
	EXPECT_EQ(DRM_TERN_PLATFORM_EMULATED, i->platform);
	EXPECT_EQ(1, i->revision);
	EXPECT_LE(1, i->num_cores);
	EXPECT_GE(TERN_MAX_CORES, i->num_cores);
	EXPECT_LE(1, i->num_queues);
	EXPECT_GE(TERN_MAX_QUEUES, i->num_queues);
	EXPECT_LE(1, i->num_dma_engines);
	EXPECT_GE(TERN_MAX_DMA_ENGINES, i->num_dma_engines);
	/* hbm-size is a power of two in 64 MiB..64 GiB. */
	EXPECT_LE(64ull << 20, i->hbm_size);
	EXPECT_GE(64ull << 30, i->hbm_size);
	EXPECT_EQ(0, i->hbm_size & (i->hbm_size - 1));
	EXPECT_GE(i->hbm_size, i->hbm_used);
	EXPECT_EQ(0, i->caps & ~(uint32_t)(TERN_CAP_DMA_SGL | TERN_CAP_RING_IN_HBM |
					   TERN_CAP_COMPUTE | TERN_CAP_MMU |
					   TERN_CAP_USER_QUEUES | TERN_CAP_LINKS |
					   TERN_CAP_TELEMETRY | TERN_CAP_PROFILE |
					   TERN_CAP_RAS));
	/* Register interface 1.4 and 1.5: profiles, RAS and fault injection. */
	EXPECT_NE(0, i->caps & TERN_CAP_PROFILE);
	EXPECT_NE(0, i->caps & TERN_CAP_RAS);
	/* Register interface 1.3: the emulated chip counts for telemetry. */
	EXPECT_NE(0, i->caps & TERN_CAP_TELEMETRY);
	/* UAPI 1.2: the emulated chip has a device MMU and user-mode queues. */
	EXPECT_NE(0, i->caps & TERN_CAP_MMU);
	EXPECT_NE(0, i->caps & TERN_CAP_USER_QUEUES);
	/* UAPI 1.1: the emulated chip has compute cores with an SBUF each. */
	EXPECT_NE(0, i->caps & TERN_CAP_COMPUTE);
	EXPECT_LE(TERN_SBUF_SIZE_MIN, i->sbuf_size);
	EXPECT_GE(TERN_SBUF_SIZE_MAX, i->sbuf_size);
	EXPECT_EQ(0, i->pad);
	/* UAPI 1.3: link ports with TERN_CAP_LINKS; a fabric only with them. */
	EXPECT_GE(TERN_MAX_LINKS, i->num_links);
	EXPECT_EQ(!!(i->caps & TERN_CAP_LINKS), !!i->num_links);
	if (i->fabric_id) {
		EXPECT_NE(0, i->num_links);
		EXPECT_LT(i->chip_id, i->fabric_chips);
		EXPECT_GE(TERN_MAX_CHIPS, i->fabric_chips);
	} else {
		EXPECT_EQ(0, i->chip_id);
		EXPECT_EQ(0, i->fabric_chips);
	}
	EXPECT_EQ(0, i->reserved[0]);
	EXPECT_EQ(0, i->reserved[1]);
}

TEST_F(dev, get_info_matches_sysfs)
{
	char platform[32];

	EXPECT_EQ(self->info.hbm_size, tern_sysfs_u64(self->minor, "hbm_total"));
	EXPECT_EQ(self->info.num_cores, tern_sysfs_u64(self->minor, "num_cores"));
	EXPECT_EQ(self->info.num_queues, tern_sysfs_u64(self->minor, "num_queues"));
	EXPECT_EQ(self->info.num_dma_engines, tern_sysfs_u64(self->minor, "num_dma_engines"));
	EXPECT_EQ(self->info.revision, tern_sysfs_u64(self->minor, "revision"));
	EXPECT_EQ(self->info.chip_id, tern_sysfs_u64(self->minor, "chip_id"));
	EXPECT_EQ(self->info.fabric_id, tern_sysfs_u64(self->minor, "fabric_id"));
	EXPECT_EQ(self->info.fabric_chips, tern_sysfs_u64(self->minor, "fabric_chips"));
	EXPECT_EQ(self->info.num_links, tern_sysfs_u64(self->minor, "num_links"));
	ASSERT_EQ(0, tern_sysfs_str(self->minor, "platform", platform, sizeof(platform)));
	EXPECT_STREQ("emulated", platform);
	/* No other client allocates while this test runs. */
	EXPECT_EQ(self->info.hbm_used, tern_sysfs_u64(self->minor, "hbm_used"));
}

TEST_F(dev, sysfs_counters_readable)
{
	static const char attrs[][16] = {
		"hbm_total", "hbm_used", "bo_count", "jobs_submitted", "jobs_completed",
		"jobs_failed", "device_errors", "num_cores", "num_queues", "num_dma_engines",
		"revision",
	};
	uint64_t submitted, completed;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		const char *attr = attrs[i];

		EXPECT_NE(UINT64_MAX, tern_sysfs_u64(self->minor, attr))
			TH_LOG("sysfs attribute %s missing or not decimal", attr);
	}
	/* completed is read second: it cannot overtake submitted. */
	submitted = tern_sysfs_u64(self->minor, "jobs_submitted");
	completed = tern_sysfs_u64(self->minor, "jobs_completed");
	EXPECT_LE(completed, submitted);
}

TEST_F(dev, pci_identity)
{
	char path[128], buf[32], pci[32];

	tern_pci_address(self->minor, pci, sizeof(pci));
	ASSERT_NE(0, pci[0]);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", pci);
	ASSERT_EQ(0, tern_read_file(path, buf, sizeof(buf)));
	EXPECT_EQ(TERN_PCI_VENDOR_ID, strtoul(buf, NULL, 16));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", pci);
	ASSERT_EQ(0, tern_read_file(path, buf, sizeof(buf)));
	EXPECT_EQ(TERN_PCI_DEVICE_ID, strtoul(buf, NULL, 16));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", pci);
	ASSERT_EQ(0, tern_read_file(path, buf, sizeof(buf)));
	EXPECT_EQ(TERN_PCI_CLASS, strtoul(buf, NULL, 16) >> 8);
	/* BAR4 (HBM) is as large as the HBM the driver reports. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource4", pci);
	{
		struct stat st;

		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(self->info.hbm_size, (uint64_t)st.st_size);
	}
}

TEST_F(dev, drm_caps)
{
	uint64_t v = 0;

	ASSERT_EQ(0, drmGetCap(self->fd, DRM_CAP_SYNCOBJ, &v));
	EXPECT_EQ(1, v);
	v = 0;
	ASSERT_EQ(0, drmGetCap(self->fd, DRM_CAP_SYNCOBJ_TIMELINE, &v));
	EXPECT_EQ(1, v);
	v = 0;
	ASSERT_EQ(0, drmGetCap(self->fd, DRM_CAP_PRIME, &v));
	EXPECT_NE(0, v & DRM_PRIME_CAP_EXPORT);
}

TEST_F(dev, debugfs_queues)
{
	char path[96], *buf, *p;
	unsigned int lines = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/queues", self->minor);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s (is debugfs mounted?)", path, strerror(errno));
	buf = calloc(1, 65536);
	ASSERT_NE(NULL, buf);
	n = read(fd, buf, 65535);
	close(fd);
	ASSERT_LT(0, n);
	/* One line per queue, plus at most a header line. */
	for (p = buf; *p; p++)
		lines += *p == '\n';
	if (lines < self->info.num_queues || lines > self->info.num_queues + 1)
		tern_log_block("queues:", buf);
	EXPECT_LE(self->info.num_queues, lines);
	EXPECT_GE(self->info.num_queues + 1, lines);
	free(buf);

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/bos", self->minor);
	EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/links", self->minor);
	EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/inject_desc", self->minor);
	EXPECT_EQ(0, access(path, W_OK)) TH_LOG("%s: %s", path, strerror(errno));
}

TEST_F(dev, two_clients)
{
	struct drm_tern_info again;
	char node[64];
	int fd2;

	/* A second open of the same node is an independent client. */
	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tern_get_info(fd2, &again));
	EXPECT_EQ(self->info.hbm_size, again.hbm_size);
	EXPECT_EQ(self->info.num_queues, again.num_queues);
	close(fd2);
}

TEST(devices_distinct)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char a[32], b[32];
	int n;

	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	ASSERT_LE(2, n);
	tern_pci_address(minors[0], a, sizeof(a));
	tern_pci_address(minors[1], b, sizeof(b));
	EXPECT_STRNE(a, b);
}

TEST_HARNESS_MAIN
