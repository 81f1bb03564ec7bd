// SPDX-License-Identifier: MIT
/*
 * tern_ioctl_errors: every ioctl rejects every malformed field with its
 * errno and changes nothing when it does (no buffer created, no job
 * queued, no timeline point added). Each ioctl also has a valid control
 * case, so a rejection cannot come from a broken base argument.
 */
#include "kselftest_harness.h"
#include "tern_test.h"

#define BO_SIZE		(64 * 1024ull)

FIXTURE(err) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t hs, hd;		/* host and device BO of BO_SIZE */
	uint32_t tl;			/* timeline syncobj, no points yet */
	uint64_t submitted0, bo_count0;
	struct drm_tern_copy copy;	/* a valid copy hs -> hd */
	struct drm_tern_submit submit;	/* a valid job of that copy */
};

FIXTURE_SETUP(err)
{
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_HOST, &self->hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &self->hd));
	self->tl = tern_timeline(_metadata, self->fd);
	self->submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	self->bo_count0 = tern_sysfs_u64(self->minor, "bo_count");
	tern_copy_set(&self->copy, self->hd, 0, self->hs, 0, 4096);
	memset(&self->submit, 0, sizeof(self->submit));
	self->submit.copies = (uintptr_t)&self->copy;
	self->submit.copy_count = 1;
	self->submit.queue = 0;
	self->submit.out_syncobj = self->tl;
	self->submit.out_point = 1;
}

FIXTURE_TEARDOWN(err)
{
	if (self->fd >= 0)
		close(self->fd);
}

#define EXPECT_ERRNO(err, call) do {						\
	int __ret = (call);							\
	EXPECT_EQ(-(err), __ret) TH_LOG("%s: got %d (%s), want %s", #call,	\
					 __ret, strerror(-__ret), strerror(err));	\
} while (0)

/* The job in self->submit is rejected with @err and nothing was queued. */
static void submit_rejected(struct __test_metadata *_metadata, FIXTURE_DATA(err) *self, int err)
{
	uint64_t point = 0;

	EXPECT_ERRNO(err, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_EQ(self->submitted0, tern_sysfs_u64(self->minor, "jobs_submitted"));
	ASSERT_EQ(0, drmSyncobjQuery(self->fd, &self->tl, &point, 1));
	EXPECT_EQ(0, point);
	/* The ioctl wrote nothing back. */
	EXPECT_EQ(0, self->submit.job_id);
}

static void bo_create_rejected(struct __test_metadata *_metadata, FIXTURE_DATA(err) *self,
			       struct drm_tern_bo_create *c, int err)
{
	EXPECT_ERRNO(err, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, c));
	EXPECT_EQ(0, c->handle);
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
}

/* GET_INFO */

TEST_F(err, get_info_valid)
{
	struct drm_tern_info info = { 0 };

	EXPECT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_GET_INFO, &info));
	EXPECT_NE(0, info.hbm_size);
}

TEST_F(err, get_info_reserved)
{
	struct drm_tern_info info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(info.reserved); i++) {
		memset(&info, 0, sizeof(info));
		info.reserved[i] = 1;
		EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_GET_INFO, &info));
	}
}

TEST_F(err, get_info_pad)
{
	struct drm_tern_info info = { .pad = 1 };

	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_GET_INFO, &info));
}

/* BO_CREATE */

TEST_F(err, bo_create_valid)
{
	struct drm_tern_bo_create c = { .size = 1, .domain = DRM_TERN_BO_HOST };

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c));
	EXPECT_NE(0, c.handle);
	EXPECT_EQ(self->bo_count0 + 1, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(0, tern_bo_close(self->fd, c.handle));
}

TEST_F(err, bo_create_zero_size)
{
	struct drm_tern_bo_create c = { .size = 0, .domain = DRM_TERN_BO_HOST };

	bo_create_rejected(_metadata, self, &c, EINVAL);
	c.domain = DRM_TERN_BO_DEVICE;
	bo_create_rejected(_metadata, self, &c, EINVAL);
}

TEST_F(err, bo_create_huge_size)
{
	static const uint64_t sizes[] = {
		DRM_TERN_BO_MAX_SIZE + 1, UINT64_MAX, UINT64_MAX - 4095, 1ull << 63,
	};
	struct drm_tern_bo_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		c = (struct drm_tern_bo_create){ .size = sizes[i], .domain = DRM_TERN_BO_HOST };
		bo_create_rejected(_metadata, self, &c, EINVAL);
		c = (struct drm_tern_bo_create){ .size = sizes[i], .domain = DRM_TERN_BO_DEVICE };
		bo_create_rejected(_metadata, self, &c, EINVAL);
	}
}

TEST_F(err, bo_create_bad_domain)
{
	static const uint32_t domains[] = {
		0, DRM_TERN_BO_HOST | DRM_TERN_BO_DEVICE, 4, 0x80000000u, UINT32_MAX,
	};
	struct drm_tern_bo_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(domains); i++) {
		c = (struct drm_tern_bo_create){ .size = 4096, .domain = domains[i] };
		bo_create_rejected(_metadata, self, &c, EINVAL);
	}
}

TEST_F(err, bo_create_flags)
{
	struct drm_tern_bo_create c = { .size = 4096, .domain = DRM_TERN_BO_HOST, .flags = 2 };

	bo_create_rejected(_metadata, self, &c, EINVAL);
	c.flags = 0x80000000u;
	bo_create_rejected(_metadata, self, &c, EINVAL);
	c.flags = DRM_TERN_BO_READ_ONLY | 2;
	bo_create_rejected(_metadata, self, &c, EINVAL);
	c.domain = DRM_TERN_BO_DEVICE;
	bo_create_rejected(_metadata, self, &c, EINVAL);
}

TEST_F(err, bo_create_read_only_is_valid)
{
	struct drm_tern_bo_create c = {
		.size = 4096, .domain = DRM_TERN_BO_DEVICE, .flags = DRM_TERN_BO_READ_ONLY,
	};
	struct drm_tern_bo_info i;

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c));
	ASSERT_EQ(0, tern_bo_info(self->fd, c.handle, &i));
	EXPECT_EQ(DRM_TERN_BO_READ_ONLY, i.bo_flags);
	EXPECT_NE(0, i.device_va);
	ASSERT_EQ(0, tern_bo_info(self->fd, self->hs, &i));
	EXPECT_EQ(0, i.bo_flags);
	EXPECT_EQ(0, tern_bo_close(self->fd, c.handle));
}

TEST_F(err, bo_create_pad)
{
	struct drm_tern_bo_create c = { .size = 4096, .domain = DRM_TERN_BO_DEVICE, .pad = 1 };

	bo_create_rejected(_metadata, self, &c, EINVAL);
}

TEST_F(err, bo_create_reserved)
{
	struct drm_tern_bo_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c.reserved); i++) {
		c = (struct drm_tern_bo_create){ .size = 4096, .domain = DRM_TERN_BO_HOST };
		c.reserved[i] = 1;
		bo_create_rejected(_metadata, self, &c, EINVAL);
	}
}

TEST_F(err, bo_create_handle_input_ignored_or_rejected)
{
	/* handle is an output: a caller's garbage there must not matter. */
	struct drm_tern_bo_create c = { .size = 4096, .domain = DRM_TERN_BO_HOST,
					.handle = 0xdeadbeef };
	int ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c);

	if (ret == 0) {
		EXPECT_NE(0xdeadbeef, c.handle);
		EXPECT_EQ(0, tern_bo_close(self->fd, c.handle));
	} else {
		EXPECT_EQ(-EINVAL, ret);
	}
}

/* BO_INFO */

TEST_F(err, bo_info_valid)
{
	struct drm_tern_bo_info i = { .handle = self->hd };

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_INFO, &i));
	EXPECT_EQ(BO_SIZE, i.size);
	EXPECT_EQ((uint32_t)DRM_TERN_BO_DEVICE, i.domain);
}

TEST_F(err, bo_info_bad_handle)
{
	static const uint32_t handles[] = { 0, 0xffff, 0x7fffffff, UINT32_MAX };
	struct drm_tern_bo_info i;
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(handles); n++) {
		i = (struct drm_tern_bo_info){ .handle = handles[n] };
		EXPECT_ERRNO(ENOENT, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_INFO, &i));
	}
}

TEST_F(err, bo_info_closed_handle)
{
	struct drm_tern_bo_info i;
	uint32_t h;

	ASSERT_EQ(0, tern_bo_create(self->fd, 4096, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
	i = (struct drm_tern_bo_info){ .handle = h };
	EXPECT_ERRNO(ENOENT, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_INFO, &i));
}

TEST_F(err, bo_info_flags)
{
	struct drm_tern_bo_info i = { .handle = self->hs, .flags = 1 };

	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_INFO, &i));
}

TEST_F(err, bo_info_reserved)
{
	struct drm_tern_bo_info i = { .handle = self->hs, .reserved = 1 };

	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_INFO, &i));
}

/* SUBMIT */

TEST_F(err, submit_valid)
{
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_NE(0, self->submit.job_id);
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
	EXPECT_EQ(self->submitted0 + 1, tern_sysfs_u64(self->minor, "jobs_submitted"));
}

TEST_F(err, submit_bad_queue)
{
	self->submit.queue = self->info.num_queues;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.queue = TERN_MAX_QUEUES;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.queue = UINT32_MAX;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_copy_count_zero_is_valid)
{
	/* UAPI 1.2: an empty job; @copies is not read. */
	self->submit.copy_count = 0;
	self->submit.copies = 0;
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_NE(0, self->submit.job_id);
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(err, submit_copy_count_zero_checks_the_rest)
{
	self->submit.copy_count = 0;
	self->submit.flags = 2;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.flags = 0;
	/* UAPI 1.3: the link fields need DRM_TERN_SUBMIT_LINK. */
	self->submit.peer_fd = self->fd;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.peer_fd = 0;
	self->submit.queue = self->info.num_queues;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_copy_count_too_large)
{
	struct drm_tern_copy *copies;
	unsigned int i;

	/* Valid copies, one too many of them. */
	copies = calloc(DRM_TERN_MAX_COPIES + 1, sizeof(*copies));
	ASSERT_NE(NULL, copies);
	for (i = 0; i <= DRM_TERN_MAX_COPIES; i++)
		copies[i] = self->copy;
	self->submit.copies = (uintptr_t)copies;
	self->submit.copy_count = DRM_TERN_MAX_COPIES + 1;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.copy_count = UINT32_MAX;
	submit_rejected(_metadata, self, EINVAL);
	free(copies);
}

TEST_F(err, submit_bad_copies_pointer)
{
	void *page;

	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	self->submit.copies = (uintptr_t)page;
	submit_rejected(_metadata, self, EFAULT);
	self->submit.copies = 0;
	submit_rejected(_metadata, self, EFAULT);
	/* A kernel address is not user memory. */
	self->submit.copies = 0xffffffff81000000ull;
	submit_rejected(_metadata, self, EFAULT);
	munmap(page, 4096);
}

TEST_F(err, submit_copies_cross_into_unmapped_page)
{
	struct drm_tern_copy *c;
	char *pages;

	/* Copy 0 readable, copy 1 on a page that is not. */
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + 4096, 4096, PROT_NONE));
	c = (struct drm_tern_copy *)(pages + 4096) - 1;
	*c = self->copy;
	self->submit.copies = (uintptr_t)c;
	self->submit.copy_count = 2;
	submit_rejected(_metadata, self, EFAULT);
	munmap(pages, 8192);
}

TEST_F(err, submit_bad_src_handle)
{
	self->copy.src_handle = 0xffff;
	submit_rejected(_metadata, self, ENOENT);
	self->copy.src_handle = 0;
	submit_rejected(_metadata, self, ENOENT);
}

TEST_F(err, submit_bad_dst_handle)
{
	self->copy.dst_handle = 0xffff;
	submit_rejected(_metadata, self, ENOENT);
	self->copy.dst_handle = 0;
	submit_rejected(_metadata, self, ENOENT);
}

TEST_F(err, submit_bad_handle_in_last_copy)
{
	struct drm_tern_copy copies[DRM_TERN_MAX_COPIES];
	unsigned int i;

	/* Every copy is checked before anything is queued. */
	for (i = 0; i < DRM_TERN_MAX_COPIES; i++)
		copies[i] = self->copy;
	copies[DRM_TERN_MAX_COPIES - 1].dst_handle = 0xffff;
	self->submit.copies = (uintptr_t)copies;
	self->submit.copy_count = DRM_TERN_MAX_COPIES;
	submit_rejected(_metadata, self, ENOENT);
}

TEST_F(err, submit_zero_size)
{
	self->copy.size = 0;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_src_offset_out_of_range)
{
	self->copy.src_offset = BO_SIZE;
	self->copy.size = 1;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.src_offset = BO_SIZE - 10;
	self->copy.size = 11;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_dst_offset_out_of_range)
{
	self->copy.dst_offset = BO_SIZE;
	self->copy.size = 1;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = 1;
	self->copy.size = BO_SIZE;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_size_beyond_buffer)
{
	self->copy.size = BO_SIZE + 1;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_offset_size_overflow)
{
	/* offset + size wraps to a small number. */
	self->copy.src_offset = 8;
	self->copy.size = UINT64_MAX - 4;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.src_offset = 0;
	self->copy.dst_offset = UINT64_MAX;
	self->copy.size = 2;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_overlap_in_one_bo)
{
	self->copy.src_handle = self->hs;
	self->copy.dst_handle = self->hs;
	self->copy.src_offset = 0;
	self->copy.dst_offset = 100;
	self->copy.size = 4096;
	submit_rejected(_metadata, self, EINVAL);
	/* Same range exactly. */
	self->copy.dst_offset = 0;
	submit_rejected(_metadata, self, EINVAL);
	/* Overlap from the other side, in a device buffer. */
	self->copy.src_handle = self->hd;
	self->copy.dst_handle = self->hd;
	self->copy.src_offset = 4095;
	self->copy.dst_offset = 0;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_adjacent_in_one_bo_is_valid)
{
	/* Control for the overlap case: touching ranges do not overlap. */
	self->copy.src_handle = self->hs;
	self->copy.dst_handle = self->hs;
	self->copy.src_offset = 0;
	self->copy.dst_offset = 4096;
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(err, submit_copy_flags)
{
	/* Bits 6.. are undefined (UAPI 1.5 defines 0..5). */
	self->copy.flags = 1u << 6;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = 0x80000000u;
	submit_rejected(_metadata, self, EINVAL);
	/* DRM_TERN_COPY_LINK in a job without DRM_TERN_SUBMIT_LINK. */
	self->copy.flags = DRM_TERN_COPY_LINK;
	submit_rejected(_metadata, self, EINVAL);
	/* BF16 without a reduce flag, and both reduce flags. */
	self->copy.flags = DRM_TERN_COPY_BF16;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_REDUCE_MAX;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_VA | (1u << 6);
	self->copy.src_handle = 0;
	self->copy.dst_handle = 0;
	submit_rejected(_metadata, self, EINVAL);
}

/* The VAs of the fixture's copy, for DRM_TERN_COPY_VA. */
static void copy_to_va(struct __test_metadata *_metadata, FIXTURE_DATA(err) *self)
{
	struct drm_tern_bo_info hs, hd;

	ASSERT_EQ(0, tern_bo_info(self->fd, self->hs, &hs));
	ASSERT_EQ(0, tern_bo_info(self->fd, self->hd, &hd));
	self->copy.flags = DRM_TERN_COPY_VA;
	self->copy.src_handle = 0;
	self->copy.dst_handle = 0;
	self->copy.src_offset = hs.device_va;
	self->copy.dst_offset = hd.device_va;
}

TEST_F(err, submit_copy_va_is_valid)
{
	copy_to_va(_metadata, self);
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(err, submit_copy_va_with_a_handle)
{
	copy_to_va(_metadata, self);
	self->copy.src_handle = self->hs;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.src_handle = 0;
	self->copy.dst_handle = self->hd;
	submit_rejected(_metadata, self, EINVAL);
	/* Even a handle that does not exist: the field must be 0. */
	self->copy.dst_handle = 0x7fffffff;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_copy_va_size_zero)
{
	copy_to_va(_metadata, self);
	self->copy.size = 0;
	submit_rejected(_metadata, self, EINVAL);
}

/* operand_handle was a pad before UAPI 1.5: without DRM_TERN_COPY_OPERAND it must be 0. */
TEST_F(err, submit_copy_va_operand_handle)
{
	copy_to_va(_metadata, self);
	self->copy.operand_handle = 1;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_copy_operand_handle_without_flag)
{
	/* Even a handle that names a device buffer. */
	self->copy.operand_handle = self->hd;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.operand_handle = 0x7fffffff;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_flags)
{
	/* Bit 0 is DRM_TERN_SUBMIT_LINK (UAPI 1.3; tern_link tests it). */
	self->submit.flags = 2;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.flags = 0x80000000u;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, submit_link_fields_without_flag)
{
	self->submit.peer_fd = self->fd;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.peer_fd = -1;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.peer_fd = 0;
	self->submit.link_port = 1;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(err, link_query_bad_port)
{
	struct drm_tern_link_query q = { .port = self->info.num_links };

	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
	q.port = UINT32_MAX;
	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
}

TEST_F(err, submit_reserved)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->submit.reserved); i++) {
		self->submit.reserved[i] = 1;
		submit_rejected(_metadata, self, EINVAL);
		self->submit.reserved[i] = 0;
	}
}

TEST_F(err, submit_bad_out_syncobj)
{
	self->submit.out_syncobj = 0xffff;
	submit_rejected(_metadata, self, ENOENT);
}

TEST_F(err, submit_handle_of_other_client)
{
	char node[64];
	uint32_t h;
	int fd2;

	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	/* Give the other client more handles than this one so the number is free here. */
	ASSERT_EQ(0, tern_bo_create(fd2, 4096, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, tern_bo_create(fd2, 4096, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, tern_bo_create(fd2, 4096, DRM_TERN_BO_HOST, &h));
	self->copy.src_handle = h;
	submit_rejected(_metadata, self, ENOENT);
	close(fd2);
}

/* WAIT */

TEST_F(err, wait_valid)
{
	uint32_t status = 99;

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_EQ(0, tern_wait(self->fd, self->tl, 1, TERN_WAIT_LONG, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
}

TEST_F(err, wait_bad_syncobj)
{
	EXPECT_ERRNO(ENOENT, tern_wait(self->fd, 0xffff, 1, 0, NULL, NULL));
	EXPECT_ERRNO(ENOENT, tern_wait(self->fd, 0, 0, 0, NULL, NULL));
}

TEST_F(err, wait_flags)
{
	struct drm_tern_wait w = { .syncobj = self->tl, .point = 1, .flags = 1 };

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_WAIT, &w));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(err, wait_reserved)
{
	struct drm_tern_wait w;
	unsigned int i;

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
	(void)i;
	w = (struct drm_tern_wait){ .syncobj = self->tl, .point = 1, .reserved = 1 };
	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_WAIT, &w));
}

TEST_F(err, wait_point_without_fence)
{
	uint32_t bin;

	/* A fresh timeline has no point 1; a fresh binary syncobj no fence. */
	EXPECT_ERRNO(ENOENT, tern_wait(self->fd, self->tl, 1, 0, NULL, NULL));
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &bin));
	EXPECT_ERRNO(ENOENT, tern_wait(self->fd, bin, 0, 0, NULL, NULL));
	/* A point beyond the last one added. */
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
	EXPECT_ERRNO(ENOENT, tern_wait(self->fd, self->tl, 2, 0, NULL, NULL));
}

TEST_F_TIMEOUT(err, wait_timeout_on_unsignalled_point, 120)
{
	const uint64_t half = 64ull << 20;
	struct drm_tern_copy copies[16];
	uint32_t h;
	unsigned int i;
	int ret;

	/* A long job (1 GiB moved inside HBM) and a short one queued behind it. */
	ASSERT_EQ(0, tern_bo_create(self->fd, 2 * half, DRM_TERN_BO_DEVICE, &h));
	for (i = 0; i < ARRAY_SIZE(copies); i++)
		tern_copy_set(&copies[i], h, half, h, 0, half);
	ret = tern_submit(self->fd, 0, copies, ARRAY_SIZE(copies), self->tl, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	self->submit.out_point = 2;
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_ERRNO(ETIME, tern_wait(self->fd, self->tl, 2, 0, NULL, NULL));
	EXPECT_ERRNO(ETIME, tern_wait(self->fd, self->tl, 1, 1000, NULL, NULL));
	tern_wait_ok(_metadata, self->fd, self->tl, 2);
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
	EXPECT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F(err, unknown_driver_ioctl)
{
	char buf[64] = { 0 };

	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOWR(DRM_COMMAND_BASE + 0x20, char[64]),
					buf));
}

TEST_HARNESS_MAIN
