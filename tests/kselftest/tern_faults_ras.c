// SPDX-License-Identifier: MIT
/*
 * tern_faults_ras: HBM ECC errors injected into the emulated chip
 * (inject-ecc, Documentation/chip/spec.rst "RAS"), end to end, as in
 * tern_faults.c: a corrected error leaves the data right and is counted,
 * logged and sent as a uevent; an uncorrected one fails exactly the DMA
 * job or launch that reads the line (TERN_ERR_ECC_UNCORRECTED, or
 * TERN_CERR_ECC with the line's offset), poisons only that line until it
 * is written again, and resets nothing; another process's verified jobs
 * meanwhile all end OK. The page of an uncorrected error is retired.
 */
#include "tern_faults.h"

/* A device BO of FT_BYTES holding the pattern of host BO @hs; its HBM offset. */
static uint64_t dev_bo_filled(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
			      uint32_t hs, uint32_t *hdev)
{
	struct drm_tern_bo_info bi = { 0 };
	uint32_t status, code;

	EXPECT_EQ(0, tern_bo_create(self->fd, FT_BYTES, DRM_TERN_BO_DEVICE, hdev));
	EXPECT_EQ(0, tern_bo_info(self->fd, *hdev, &bi));
	ft_copy(_metadata, self->fd, self->tl, &self->point, 0, *hdev, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	return bi.device_addr;
}

/* The last ECC address sysfs shows for @kind ("ce"/"ue") is @line. */
static void expect_last_addr(struct __test_metadata *_metadata, unsigned int minor,
			     const char *kind, uint64_t line)
{
	char attr[32], buf[64], want[32];

	snprintf(attr, sizeof(attr), "ecc_last_%s_addr", kind);
	snprintf(want, sizeof(want), "0x%llx", (unsigned long long)line);
	ASSERT_EQ(0, tern_sysfs_str(minor, attr, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
}

static void expect_ecc_uevent(struct __test_metadata *_metadata, int ufd, unsigned int minor,
			      const char *kind, uint64_t line)
{
	char k[24], a[40];
	const char *want[] = { "TERN_EVENT=ECC", k, a, NULL };

	snprintf(k, sizeof(k), "TERN_ECC=%s", kind);
	snprintf(a, sizeof(a), "TERN_ADDR=0x%llx", (unsigned long long)line);
	EXPECT_EQ(0, ft_uevent_wait(ufd, minor, want))
		TH_LOG("no uevent TERN_EVENT=ECC %s %s", k, a);
}

/*
 * A corrected error in a device BO: the DMA read of it returns the right
 * data, ecc_corrected (the chip's count) and ecc_ce_events grow by one,
 * ecc_last_ce_addr names the line, a uevent says so; nothing fails.
 */
TEST_F_TIMEOUT(faults, ecc_corrected, FT_TEST_SECS)
{
	uint64_t off, line, corrected, events;
	uint32_t hs, hd, hdev, status, code;
	unsigned char *src, *dst;

	corrected = tern_sysfs_u64(self->minor, "ecc_corrected");
	events = tern_sysfs_u64(self->minor, "ecc_ce_events");
	if (events == UINT64_MAX)
		SKIP(return, "no sysfs ecc_ce_events: the chip has no TERN_CAP_RAS");
	ASSERT_NE(UINT64_MAX, corrected) TH_LOG("no sysfs ecc_corrected (telemetry)");
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	off = dev_bo_filled(_metadata, self, hs, &hdev);
	line = off + 4096;

	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 0);
	ASSERT_EQ(0, tern_inject_ecc(0, false, line + 7)) TH_LOG("%s", tern_vm_error());
	ft_copy(_metadata, self->fd, self->tl, &self->point, 1 % self->info.num_queues, hd, 0,
		hdev, 0, FT_BYTES, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(corrected + 1, tern_sysfs_u64(self->minor, "ecc_corrected"));
	EXPECT_EQ(events + 1, ft_sysfs_wait(self->minor, "ecc_ce_events", events + 1));
	expect_last_addr(_metadata, self->minor, "ce", line);
	expect_ecc_uevent(_metadata, self->ufd, self->minor, "CE", line);

	/* once: read again, nothing more */
	ft_copy(_metadata, self->fd, self->tl, &self->point, 1 % self->info.num_queues, hd, 0,
		hdev, 0, FT_BYTES, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	EXPECT_EQ(corrected + 1, tern_sysfs_u64(self->minor, "ecc_corrected"));
	FT_EXPECT_INJECTED(1);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
	EXPECT_EQ(0, tern_bo_close(self->fd, hdev));
}

/*
 * An uncorrected error: the DMA job reading the line fails
 * (DEVICE_ERROR / TERN_ERR_ECC_UNCORRECTED), a read of the rest of the BO
 * works, the line stays poisoned until a DMA write covers it, then reads
 * give the new data. Counted (ecc_uncorrected, ecc_ue_events,
 * ecc_poisoned), named (ecc_last_ue_addr, uevent), no reset.
 */
TEST_F_TIMEOUT(faults, ecc_uncorrected_dma, FT_TEST_SECS)
{
	uint32_t hs, hd, hdev, status, code, q = 1 % self->info.num_queues;
	uint64_t off, line, uncorrected, events, poisoned;
	unsigned char *src, *dst;

	uncorrected = tern_sysfs_u64(self->minor, "ecc_uncorrected");
	events = tern_sysfs_u64(self->minor, "ecc_ue_events");
	if (events == UINT64_MAX)
		SKIP(return, "no sysfs ecc_ue_events: the chip has no TERN_CAP_RAS");
	poisoned = tern_sysfs_u64(self->minor, "ecc_poisoned");
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	off = dev_bo_filled(_metadata, self, hs, &hdev);
	line = off + 8192;

	FT_BYSTANDER(0, self->info.num_cores ? 0 : -1, 0);
	ASSERT_EQ(0, tern_inject_ecc(0, true, line + 63)) TH_LOG("%s", tern_vm_error());
	EXPECT_EQ(poisoned + 1, tern_sysfs_u64(self->minor, "ecc_poisoned"));
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hd, 0, hdev, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status);
	EXPECT_EQ((uint32_t)TERN_ERR_ECC_UNCORRECTED, code);
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(uncorrected + 1, tern_sysfs_u64(self->minor, "ecc_uncorrected"));
	EXPECT_EQ(events + 1, ft_sysfs_wait(self->minor, "ecc_ue_events", events + 1));
	expect_last_addr(_metadata, self->minor, "ue", line);
	expect_ecc_uevent(_metadata, self->ufd, self->minor, "UE", line);

	/* only that line: the bytes before it read fine */
	memset(dst, 0, FT_BYTES);
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hd, 0, hdev, 0, 8192, &status,
		&code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, 8192));
	/* still poisoned: a second read fails too */
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hd, 0, hdev, 8192, 64, &status,
		&code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status);
	EXPECT_EQ((uint32_t)TERN_ERR_ECC_UNCORRECTED, code);

	/* written again by DMA: the line is good, with the new data */
	tern_fill(src, FT_BYTES, tern_seed());
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hdev, 0, hs, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(poisoned, tern_sysfs_u64(self->minor, "ecc_poisoned"));
	memset(dst, 0, FT_BYTES);
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hd, 0, hdev, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, FT_BYTES));
	FT_EXPECT_INJECTED(1);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
	EXPECT_EQ(0, tern_bo_close(self->fd, hdev));
}

/*
 * The 4 KiB page of an uncorrected error is retired: it waits while its
 * buffer lives (ecc_retire_pending), is reserved when the buffer is freed
 * (ecc_retired_pages), and no buffer created after that gets it, while
 * new buffers do land around it in the freed range.
 */
TEST_F_TIMEOUT(faults, ecc_uncorrected_page_retired, FT_TEST_SECS)
{
	uint32_t hs, hd, hdev, status, code, h[256], q = 1 % self->info.num_queues;
	uint64_t off, page, retired, pending;
	struct drm_tern_bo_info bi;
	unsigned char *src, *dst;
	unsigned int n, in_range = 0;

	retired = tern_sysfs_u64(self->minor, "ecc_retired_pages");
	if (retired == UINT64_MAX)
		SKIP(return, "no sysfs ecc_retired_pages: the chip has no TERN_CAP_RAS");
	pending = tern_sysfs_u64(self->minor, "ecc_retire_pending");
	ft_host_bos(_metadata, self->fd, &hs, &hd, &src, &dst);
	off = dev_bo_filled(_metadata, self, hs, &hdev);
	page = off + 3 * 4096;

	ASSERT_EQ(0, tern_inject_ecc(0, true, page + 256)) TH_LOG("%s", tern_vm_error());
	ft_copy(_metadata, self->fd, self->tl, &self->point, q, hd, 0, hdev, 0, FT_BYTES,
		&status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status);
	EXPECT_EQ((uint32_t)TERN_ERR_ECC_UNCORRECTED, code);
	FT_EXPECT_INJECTED(1);
	EXPECT_EQ(pending + 1, ft_sysfs_wait(self->minor, "ecc_retire_pending", pending + 1));
	EXPECT_EQ(retired, tern_sysfs_u64(self->minor, "ecc_retired_pages"));

	EXPECT_EQ(0, tern_bo_close(self->fd, hdev));
	EXPECT_EQ(retired + 1, tern_sysfs_u64(self->minor, "ecc_retired_pages"));
	EXPECT_EQ(pending, tern_sysfs_u64(self->minor, "ecc_retire_pending"));

	/* One of the freed buffer's size, then pages until one lands in its range. */
	for (n = 0; n < ARRAY_SIZE(h) && in_range < 3; n++) {
		ASSERT_EQ(0, tern_bo_create(self->fd, n ? 4096 : FT_BYTES, DRM_TERN_BO_DEVICE,
					    &h[n]));
		ASSERT_EQ(0, tern_bo_info(self->fd, h[n], &bi));
		EXPECT_FALSE(bi.device_addr <= page && page < bi.device_addr + bi.size)
			TH_LOG("buffer %u at HBM 0x%llx+0x%llx holds the retired page 0x%llx", n,
			       (unsigned long long)bi.device_addr, (unsigned long long)bi.size,
			       (unsigned long long)page);
		in_range += bi.device_addr >= off && bi.device_addr < off + FT_BYTES;
	}
	EXPECT_LT(0, in_range) TH_LOG("no new buffer landed in the freed range");
	while (n)
		EXPECT_EQ(0, tern_bo_close(self->fd, h[--n]));
	EXPECT_EQ(retired + 1, tern_sysfs_u64(self->minor, "ecc_retired_pages"));
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

/*
 * An uncorrected error under a launch's input: the launch ends FAULT with
 * TERN_CERR_ECC and detail = the line's HBM offset, the core goes on; once
 * the input is written again by DMA the next launch's output is right.
 */
TEST_F_TIMEOUT(faults, ecc_uncorrected_launch, FT_TEST_SECS)
{
	struct drm_tern_bo_info bi = { 0 };
	uint32_t status, code;
	uint64_t line;
	struct prog p;

	if (!self->info.num_cores)
		SKIP(return, "no compute cores");
	if (tern_sysfs_u64(self->minor, "ecc_ue_events") == UINT64_MAX)
		SKIP(return, "no sysfs ecc_ue_events: the chip has no TERN_CAP_RAS");
	prog_setup(_metadata, self->fd, &p);
	prog_fill(_metadata, self, &p);
	ASSERT_EQ(0, tern_bo_info(self->fd, p.in, &bi));
	line = bi.device_addr + 128;

	FT_BYSTANDER(0, self->info.num_cores > 1 ? 1 : -1, 0);
	ASSERT_EQ(0, tern_inject_ecc(0, true, line)) TH_LOG("%s", tern_vm_error());
	prog_run(_metadata, self, &p, 0, 0, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_FAULT, status);
	EXPECT_EQ((uint32_t)TERN_CERR_ECC, code);
	EXPECT_EQ((uint32_t)TERN_JOB_FAULT, p.status_p->status);
	EXPECT_EQ((uint32_t)TERN_CERR_ECC, p.status_p->error);
	EXPECT_EQ(line, p.status_p->detail);
	FT_EXPECT_INJECTED(1);
	expect_ecc_uevent(_metadata, self->ufd, self->minor, "UE", line);

	prog_fill(_metadata, self, &p);
	prog_run(_metadata, self, &p, 0, 0, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	prog_check(_metadata, self, &p);
	FT_BYSTANDER_CHECK();
	EXPECT_EQ(self->resets, tern_sysfs_u64(self->minor, "resets"));
}

TEST_HARNESS_MAIN
