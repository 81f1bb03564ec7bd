// SPDX-License-Identifier: MIT
/*
 * tern_faults: faults injected into the emulated chip through the QMP relay
 * (tern_inject.h) are reported to the job that met them and leave the
 * device usable. A DMA abort on a queue fails exactly the next job there
 * with DRM_TERN_JOB_DEVICE_ERROR / TERN_ERR_DMA_ABORT, counts in the chip's
 * faults-injected, and the next job on that queue moves its data.
 *
 * The first tern device (by minor) is QEMU device tern0 in the VM of
 * tests/vm/run-vm.sh test (tern<i> sits on root port i, enumerated first).
 * Without the relay the tests SKIP.
 */
#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_inject.h"
#include "tern_regs.h"

#define SIZE	(64ull << 10)

FIXTURE(faults) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t tl;
	uint64_t point;
};

FIXTURE_SETUP(faults)
{
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
}

FIXTURE_TEARDOWN(faults)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* One host-to-host copy as a job on @queue: its status and device error. */
static void copy_once(struct __test_metadata *_metadata, FIXTURE_DATA(faults) *self,
		      uint32_t queue, uint32_t dst, uint32_t src, uint32_t *status,
		      uint32_t *code)
{
	int ret;

	ret = tern_submit_copy(self->fd, queue, dst, 0, src, 0, SIZE, self->tl, ++self->point);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT on queue %u: %s", queue, strerror(-ret));
	ret = tern_wait(self->fd, self->tl, self->point, TERN_WAIT_LONG, status, code);
	ASSERT_EQ(0, ret) TH_LOG("WAIT point %llu: %s", (unsigned long long)self->point,
				 strerror(-ret));
}

TEST_F(faults, dma_abort_fails_one_job)
{
	uint32_t queue = self->info.num_queues - 1, status, code, hs, hd;
	uint64_t before, after;
	unsigned char *src, *dst;
	int ret;

	ret = tern_inject_faults(0, &before);
	if (ret == -ENOSYS)
		SKIP(return, "%s", tern_vm_error());
	ASSERT_EQ(0, ret) TH_LOG("faults-injected: %s", tern_vm_error());

	src = tern_bo_new(_metadata, self->fd, SIZE, DRM_TERN_BO_HOST, &hs);
	dst = tern_bo_new(_metadata, self->fd, SIZE, DRM_TERN_BO_HOST, &hd);
	tern_fill(src, SIZE, tern_seed());
	memset(dst, 0, SIZE);

	/* bad values are refused by the relay or QEMU, not armed */
	EXPECT_EQ(-EIO, tern_inject_dma_abort(0, 64));
	EXPECT_EQ(-EIO, tern_inject_set(0, "inject-dma-abort", "x"));
	EXPECT_EQ(-EIO, tern_inject_ecc(0, true, 1ull << 40));
	EXPECT_EQ(-EIO, tern_inject_set(0, "hbm-size", "1"));

	ASSERT_EQ(0, tern_inject_dma_abort(0, queue)) TH_LOG("%s", tern_vm_error());
	copy_once(_metadata, self, queue, hd, hs, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_DEVICE_ERROR, status);
	EXPECT_EQ((uint32_t)TERN_ERR_DMA_ABORT, code);
	EXPECT_EQ(-1, tern_first_not(dst, 0, SIZE));	/* nothing moved */
	ASSERT_EQ(0, tern_inject_faults(0, &after)) TH_LOG("%s", tern_vm_error());
	EXPECT_EQ(before + 1, after);

	/* once: the next job on the queue is whole */
	copy_once(_metadata, self, queue, hd, hs, &status, &code);
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("device error %u", code);
	EXPECT_EQ(-1, tern_first_diff(dst, src, SIZE));
	ASSERT_EQ(0, tern_inject_faults(0, &after)) TH_LOG("%s", tern_vm_error());
	EXPECT_EQ(before + 1, after);

	munmap(src, SIZE);
	munmap(dst, SIZE);
	ASSERT_EQ(0, tern_bo_close(self->fd, hs));
	ASSERT_EQ(0, tern_bo_close(self->fd, hd));
}

TEST_HARNESS_MAIN
