// SPDX-License-Identifier: MIT
/*
 * tern_bo: buffer objects in host memory and device HBM: create, describe,
 * map, export, free; the driver's counts move with them and come back; HBM
 * exhaustion fails cleanly.
 */
#include <sys/sysinfo.h>

#include "kselftest_harness.h"
#include "tern_test.h"

#define PAGE	4096ull

FIXTURE(bo) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint64_t bo_count0, hbm_used0;
};

FIXTURE_VARIANT(bo) {
	unsigned int index;
};

FIXTURE_VARIANT_ADD(bo, dev0) { .index = 0 };
FIXTURE_VARIANT_ADD(bo, dev1) { .index = 1 };

FIXTURE_SETUP(bo)
{
	self->fd = tern_open_index(_metadata, variant->index, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	self->bo_count0 = tern_sysfs_u64(self->minor, "bo_count");
	self->hbm_used0 = tern_sysfs_u64(self->minor, "hbm_used");
	ASSERT_NE(UINT64_MAX, self->bo_count0);
	ASSERT_NE(UINT64_MAX, self->hbm_used0);
}

FIXTURE_TEARDOWN(bo)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void alloc_free(struct __test_metadata *_metadata, FIXTURE_DATA(bo) *self,
		       uint32_t domain)
{
	static const uint64_t sizes[] = { 1, PAGE - 1, PAGE, PAGE + 1, 1 << 20, 3 << 20 };
	uint32_t handles[ARRAY_SIZE(sizes)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_EQ(0, tern_bo_create(self->fd, sizes[i], domain, &handles[i]));
		ASSERT_NE(0, handles[i]);
	}
	EXPECT_EQ(self->bo_count0 + ARRAY_SIZE(sizes), tern_sysfs_u64(self->minor, "bo_count"));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_EQ(0, tern_bo_close(self->fd, handles[i]));
	}
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
	/* A closed handle is gone. */
	EXPECT_EQ(-EINVAL, tern_bo_close(self->fd, handles[0]));
}

TEST_F(bo, host_alloc_free)
{
	alloc_free(_metadata, self, DRM_TERN_BO_HOST);
}

TEST_F(bo, device_alloc_free)
{
	alloc_free(_metadata, self, DRM_TERN_BO_DEVICE);
}

static void info_check(struct __test_metadata *_metadata, FIXTURE_DATA(bo) *self,
		       uint32_t domain)
{
	struct drm_tern_bo_info info;
	uint32_t h;

	ASSERT_EQ(0, tern_bo_create(self->fd, 3 * PAGE + 5, domain, &h));
	ASSERT_EQ(0, tern_bo_info(self->fd, h, &info));
	EXPECT_EQ(h, info.handle);
	EXPECT_EQ(4 * PAGE, info.size);
	EXPECT_EQ(domain, info.domain);
	EXPECT_NE(0, info.mmap_offset);
	EXPECT_EQ(0, info.mmap_offset % PAGE);
	EXPECT_EQ(0, info.bo_flags);
	EXPECT_EQ(0, info.reserved);
	/* Mapped in this file's device address space, above 4 GiB. */
	EXPECT_EQ(0, info.device_va % PAGE);
	EXPECT_LE(1ull << 32, info.device_va);
	EXPECT_GT(1ull << TERN_VA_BITS, info.device_va + info.size);
	if (domain == DRM_TERN_BO_HOST) {
		EXPECT_EQ(0, info.device_addr);
	} else {
		EXPECT_EQ(0, info.device_addr % PAGE);
		EXPECT_GE(self->info.hbm_size, info.device_addr + info.size);
	}
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F(bo, host_bo_info)
{
	info_check(_metadata, self, DRM_TERN_BO_HOST);
}

TEST_F(bo, device_bo_info)
{
	info_check(_metadata, self, DRM_TERN_BO_DEVICE);
}

static void mmap_rw(struct __test_metadata *_metadata, FIXTURE_DATA(bo) *self, uint32_t domain)
{
	const uint64_t size = (1 << 20) + 3 * PAGE;
	uint64_t seed = tern_seed();
	unsigned char *p, *q, *ref;
	uint32_t h;

	ref = malloc(size);
	ASSERT_NE(NULL, ref);
	tern_fill(ref, size, seed);
	p = tern_bo_new(_metadata, self->fd, size, domain, &h);
	memcpy(p, ref, size);
	EXPECT_EQ(-1, tern_first_diff(p, ref, size));
	ASSERT_EQ(0, munmap(p, size));
	/* A second, independent mapping sees the same memory. */
	q = tern_bo_mmap(self->fd, h, size);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, tern_first_diff(q, ref, size));
	/* Writes through it are visible through a third one. */
	memset(q + 7, 0xc3, 100);
	memset(ref + 7, 0xc3, 100);
	p = tern_bo_mmap(self->fd, h, size);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, tern_first_diff(p, ref, size));
	munmap(p, size);
	munmap(q, size);
	/* Closing the handle while mapped is fine; the mapping keeps the memory. */
	p = tern_bo_mmap(self->fd, h, size);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
	EXPECT_EQ(-1, tern_first_diff(p, ref, size));
	munmap(p, size);
	free(ref);
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
}

TEST_F(bo, host_mmap_rw)
{
	mmap_rw(_metadata, self, DRM_TERN_BO_HOST);
}

TEST_F(bo, device_mmap_rw)
{
	mmap_rw(_metadata, self, DRM_TERN_BO_DEVICE);
}

TEST_F(bo, mmap_beyond_size_fails)
{
	struct drm_tern_bo_info info;
	void *p;
	uint32_t h;

	ASSERT_EQ(0, tern_bo_create(self->fd, 2 * PAGE, DRM_TERN_BO_DEVICE, &h));
	ASSERT_EQ(0, tern_bo_info(self->fd, h, &info));
	/* Asking for more pages than the object has must not expose other memory. */
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 (off_t)info.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 4 * PAGE);
	/* An offset that names no object fails too. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, (off_t)(1ull << 40));
	EXPECT_EQ(MAP_FAILED, p);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F(bo, counts_move_and_return)
{
	const uint64_t dsize = 5 * PAGE + 1;
	uint32_t h1, h2, h3;

	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &h1));
	EXPECT_EQ(self->bo_count0 + 1, tern_sysfs_u64(self->minor, "bo_count"));
	/* Host memory is not HBM. */
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));

	ASSERT_EQ(0, tern_bo_create(self->fd, dsize, DRM_TERN_BO_DEVICE, &h2));
	ASSERT_EQ(0, tern_bo_create(self->fd, 1 << 20, DRM_TERN_BO_DEVICE, &h3));
	EXPECT_EQ(self->bo_count0 + 3, tern_sysfs_u64(self->minor, "bo_count"));
	/* hbm_used counts at least the page-rounded sizes. */
	EXPECT_LE(self->hbm_used0 + 6 * PAGE + (1 << 20), tern_sysfs_u64(self->minor, "hbm_used"));
	{
		struct drm_tern_info info;

		ASSERT_EQ(0, tern_get_info(self->fd, &info));
		EXPECT_EQ(tern_sysfs_u64(self->minor, "hbm_used"), info.hbm_used);
	}
	ASSERT_EQ(0, tern_bo_close(self->fd, h2));
	ASSERT_EQ(0, tern_bo_close(self->fd, h3));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
	ASSERT_EQ(0, tern_bo_close(self->fd, h1));
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
}

TEST_F(bo, close_fd_frees_everything)
{
	char node[64];
	uint32_t h;
	int fd2, i;

	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, tern_bo_create(fd2, 64 * 1024, DRM_TERN_BO_HOST, &h));
		ASSERT_EQ(0, tern_bo_create(fd2, 64 * 1024, DRM_TERN_BO_DEVICE, &h));
	}
	EXPECT_EQ(self->bo_count0 + 16, tern_sysfs_u64(self->minor, "bo_count"));
	close(fd2);
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
}

TEST_F(bo, handles_are_per_client)
{
	struct drm_tern_bo_info info;
	char node[64];
	uint32_t h;
	int fd2;

	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_DEVICE, &h));
	/* Another client does not see this client's handle. */
	EXPECT_EQ(-ENOENT, tern_bo_info(fd2, h, &info));
	close(fd2);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F_TIMEOUT(bo, hbm_exhaustion, 120)
{
	uint64_t chunk = self->info.hbm_size / 16, n = 0, i;
	uint32_t handles[64], h;
	int ret = 0;

	/* One object larger than the whole HBM cannot fit. */
	ret = tern_bo_create(self->fd, self->info.hbm_size + PAGE, DRM_TERN_BO_DEVICE, &h);
	EXPECT_TRUE(ret == -ENOMEM || ret == -ENOSPC) TH_LOG("got %d (%s)", ret, strerror(-ret));
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));

	/* Fill the HBM until allocation fails. */
	for (n = 0; n < ARRAY_SIZE(handles); n++) {
		ret = tern_bo_create(self->fd, chunk, DRM_TERN_BO_DEVICE, &handles[n]);
		if (ret)
			break;
	}
	EXPECT_TRUE(ret == -ENOMEM || ret == -ENOSPC) TH_LOG("got %d (%s) after %llu objects",
							  ret, strerror(-ret),
							  (unsigned long long)n);
	EXPECT_LE(16, n + 1) TH_LOG("only %llu of 16 HBM sixteenths allocated",
				    (unsigned long long)n);
	EXPECT_GE(16, n);
	EXPECT_GE(self->info.hbm_size, tern_sysfs_u64(self->minor, "hbm_used"));
	EXPECT_EQ(self->bo_count0 + n, tern_sysfs_u64(self->minor, "bo_count"));
	/* Host memory still works while HBM is full. */
	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
	/* Free one: the space can be allocated again. */
	if (n) {
		ASSERT_EQ(0, tern_bo_close(self->fd, handles[--n]));
		ASSERT_EQ(0, tern_bo_create(self->fd, chunk, DRM_TERN_BO_DEVICE, &handles[n]));
		n++;
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, tern_bo_close(self->fd, handles[i]));
	}
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
}

/*
 * Host BOs are pinned while mapped: all of them together may not take
 * more than half of RAM, so one process cannot push the OOM killer onto
 * others. Past it BO_CREATE fails -ENOMEM and nothing is left behind.
 */
TEST_F(bo, host_bos_past_half_of_ram_refused)
{
	uint64_t host_used0 = tern_sysfs_u64(self->minor, "host_used");
	struct sysinfo si;
	uint64_t half;
	uint32_t h;

	ASSERT_EQ(0, sysinfo(&si));
	half = (uint64_t)si.totalram * si.mem_unit / 2;
	EXPECT_EQ(-ENOMEM, tern_bo_create(self->fd, half + (64ull << 20), DRM_TERN_BO_HOST, &h));
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(host_used0, tern_sysfs_u64(self->minor, "host_used"));
	/* A host BO that fits still works afterwards. */
	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
}

TEST_F(bo, prime_export_host)
{
	const uint64_t size = 16 * PAGE;
	unsigned char *p, *q;
	uint32_t h, h2;
	int dmabuf;

	p = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &h);
	tern_fill(p, size, 42);
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf))
		TH_LOG("drmPrimeHandleToFD: %s", strerror(errno));
	ASSERT_LE(0, dmabuf);
	/* The dma-buf has the object's size and contents. */
	EXPECT_EQ((off_t)size, lseek(dmabuf, 0, SEEK_END));
	q = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap dma-buf: %s", strerror(errno));
	EXPECT_EQ(-1, tern_first_diff(p, q, size));
	munmap(q, size);
	/* Importing it back into the same client gives the same handle. */
	ASSERT_EQ(0, drmPrimeFDToHandle(self->fd, dmabuf, &h2));
	EXPECT_EQ(h, h2);
	/* ... and the same mapping: one per buffer and file. */
	{
		struct drm_tern_bo_info a, b;

		ASSERT_EQ(0, tern_bo_info(self->fd, h, &a));
		ASSERT_EQ(0, tern_bo_info(self->fd, h2, &b));
		EXPECT_NE(0, a.device_va);
		EXPECT_EQ(a.device_va, b.device_va);
	}
	munmap(p, size);
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
	/* The dma-buf keeps the object alive until it is closed. */
	close(dmabuf);
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
}

TEST_F(bo, many_objects)
{
	uint32_t handles[512];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(handles); i++) {
		ASSERT_EQ(0, tern_bo_create(self->fd, PAGE * (1 + i % 3),
					    i % 2 ? DRM_TERN_BO_DEVICE : DRM_TERN_BO_HOST,
					    &handles[i]));
	}
	EXPECT_EQ(self->bo_count0 + ARRAY_SIZE(handles), tern_sysfs_u64(self->minor, "bo_count"));
	/* Free in an order unlike the allocation order. */
	for (i = 0; i < ARRAY_SIZE(handles); i += 2) {
		ASSERT_EQ(0, tern_bo_close(self->fd, handles[i]));
	}
	for (i = 1; i < ARRAY_SIZE(handles); i += 2) {
		ASSERT_EQ(0, tern_bo_close(self->fd, handles[ARRAY_SIZE(handles) - i]));
	}
	EXPECT_EQ(self->bo_count0, tern_sysfs_u64(self->minor, "bo_count"));
	EXPECT_EQ(self->hbm_used0, tern_sysfs_u64(self->minor, "hbm_used"));
}

TEST_HARNESS_MAIN
