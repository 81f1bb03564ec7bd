// SPDX-License-Identifier: MIT
/*
 * tern_mmu: the device MMU through the raw UAPI. Every open file is its own
 * device address space: buffers are mapped there (4 KiB pages, 2 MiB pages
 * for large device buffers), copies are translated page by page, read-only
 * buffers cannot be written by the device (a copy to one faults, a compute
 * job's DMA_STORE to a slot bound to one faults with TERN_CERR_BAD_SLOT),
 * an access to an address the context does not map ends that job with
 * DRM_TERN_JOB_MMU_FAULT (reason, direction and VA reported), and nothing
 * one process does reaches another's buffers or jobs.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern_copy_prog.h"

#define PAGE		4096ull
#define HUGE		(2ull << 20)
#define GUARD_BYTE	0xa5

FIXTURE(mmu) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t tl;
	uint64_t point;
};

FIXTURE_SETUP(mmu)
{
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	ASSERT_NE(0, self->info.caps & TERN_CAP_MMU);
	ASSERT_EQ(TERN_VA_BITS, self->info.va_bits);
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
}

FIXTURE_TEARDOWN(mmu)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* One job of @n copies on queue @q; returns its timeline point. */
static uint64_t job(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self, uint32_t q,
		    struct drm_tern_copy *c, uint32_t n)
{
	int ret = tern_submit(self->fd, q, c, n, self->tl, self->point + 1);

	EXPECT_EQ(0, ret) TH_LOG("SUBMIT: %s", strerror(-ret));
	if (ret)
		return 0;
	return ++self->point;
}

/* Waits for @point and expects an MMU fault of @reason/@write at @va. */
static void expect_fault(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self,
			 uint64_t point, uint32_t reason, int write, uint64_t va)
{
	struct drm_tern_wait w;

	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, point, TERN_WAIT_LONG, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_MMU_FAULT, w.status) TH_LOG("code %#x", w.error_code);
	EXPECT_EQ(reason, (w.error_code & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT)
		TH_LOG("fault info %#x", w.error_code);
	EXPECT_EQ(write ? TERN_FAULT_WRITE : 0, w.error_code & TERN_FAULT_WRITE)
		TH_LOG("fault info %#x", w.error_code);
	EXPECT_NE(0, w.error_code & TERN_FAULT_CTX_MASK);
	EXPECT_EQ(va, w.fault_addr) TH_LOG("fault at %#llx, expected %#llx",
					   (unsigned long long)w.fault_addr,
					   (unsigned long long)va);
}

/* This process's line of debugfs "contexts" (the one with most PTEs). */
struct ctx_line {
	unsigned int id;
	int pid;
	unsigned long long mapped, ptes_4k, ptes_2m, faults;
	unsigned int maps;
};

static int read_contexts(unsigned int minor, int pid, struct ctx_line *out, int max)
{
	char path[96], line[256];
	struct ctx_line c;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/contexts", minor);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		if (sscanf(line, "%u %d %llu %u %llu %llu %llu", &c.id, &c.pid, &c.mapped,
			   &c.maps, &c.ptes_4k, &c.ptes_2m, &c.faults) != 7)
			continue;
		if (c.pid == pid)
			out[n++] = c;
	}
	fclose(f);
	return n;
}

/*
 * Copies through the MMU: host -> device -> host at offsets that cross
 * pages, by handle and by VA, every byte and the bytes around checked.
 */
static void roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self,
		      uint64_t host_size, uint64_t dev_size, uint64_t src_off, uint64_t dev_off,
		      uint64_t dst_off, uint64_t len, int by_va)
{
	uint64_t seed = tern_seed(), p;
	unsigned char *src, *dev, *dst;
	struct drm_tern_copy c[2];
	uint32_t hs, hd, hh;
	int64_t at;

	src = tern_bo_new(_metadata, self->fd, host_size, DRM_TERN_BO_HOST, &hs);
	dev = tern_bo_new(_metadata, self->fd, dev_size, DRM_TERN_BO_DEVICE, &hd);
	dst = tern_bo_new(_metadata, self->fd, host_size, DRM_TERN_BO_HOST, &hh);
	tern_fill(src, host_size, seed);
	memset(dev, 0x3c, dev_size);
	memset(dst, GUARD_BYTE, host_size);

	if (by_va) {
		tern_copy_va_set(&c[0], tern_bo_va(self->fd, hd) + dev_off,
				 tern_bo_va(self->fd, hs) + src_off, len);
		tern_copy_va_set(&c[1], tern_bo_va(self->fd, hh) + dst_off,
				 tern_bo_va(self->fd, hd) + dev_off, len);
	} else {
		tern_copy_set(&c[0], hd, dev_off, hs, src_off, len);
		tern_copy_set(&c[1], hh, dst_off, hd, dev_off, len);
	}
	/* Copies of one job run in order. */
	p = job(_metadata, self, 0, c, 2);
	ASSERT_NE(0, p);
	tern_wait_ok(_metadata, self->fd, self->tl, p);

	at = tern_first_diff(dst + dst_off, src + src_off, len);
	EXPECT_EQ(-1, at) TH_LOG("byte %lld of %llu differs", (long long)at,
				 (unsigned long long)len);
	EXPECT_EQ(-1, tern_first_not(dst, GUARD_BYTE, dst_off));
	EXPECT_EQ(-1, tern_first_not(dst + dst_off + len, GUARD_BYTE,
				     host_size - dst_off - len));
	EXPECT_EQ(-1, tern_first_not(dev, 0x3c, dev_off));
	EXPECT_EQ(-1, tern_first_not(dev + dev_off + len, 0x3c, dev_size - dev_off - len));

	munmap(src, host_size);
	munmap(dev, dev_size);
	munmap(dst, host_size);
	EXPECT_EQ(0, tern_bo_close(self->fd, hs));
	EXPECT_EQ(0, tern_bo_close(self->fd, hd));
	EXPECT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(mmu, pages_4k_by_handle)
{
	/* 3 pages + 7 bytes from one byte before a page end: 5 pages touched. */
	roundtrip(_metadata, self, 16 * PAGE, 16 * PAGE, PAGE - 1, 2 * PAGE - 3, 3 * PAGE + 1,
		  3 * PAGE + 7, 0);
}

TEST_F(mmu, pages_4k_by_va)
{
	roundtrip(_metadata, self, 16 * PAGE, 16 * PAGE, PAGE - 1, 2 * PAGE - 3, 3 * PAGE + 1,
		  3 * PAGE + 7, 1);
}

TEST_F(mmu, one_byte_at_page_ends)
{
	roundtrip(_metadata, self, 2 * PAGE, 2 * PAGE, PAGE - 1, PAGE - 1, 2 * PAGE - 1, 1, 0);
}

TEST_F_TIMEOUT(mmu, pages_2m_and_4k, 240)
{
	struct ctx_line lines[8];
	int n, i, found = 0;
	uint32_t hd, hh;

	/* Kept open while the counts are read: 2 MiB pages for the 8 MiB. */
	ASSERT_EQ(0, tern_bo_create(self->fd, 4 * HUGE, DRM_TERN_BO_DEVICE, &hd));
	ASSERT_EQ(0, tern_bo_create(self->fd, 5 * PAGE, DRM_TERN_BO_HOST, &hh));
	EXPECT_EQ(0, tern_bo_va(self->fd, hd) % HUGE);
	n = read_contexts(self->minor, getpid(), lines, 8);
	ASSERT_LT(0, n) TH_LOG("no line of pid %d in debugfs contexts", getpid());
	for (i = 0; i < n; i++) {
		if (lines[i].ptes_2m >= 4 && lines[i].ptes_4k >= 5) {
			found = 1;
			EXPECT_LE(4 * HUGE + 5 * PAGE, lines[i].mapped);
			EXPECT_LE(2, lines[i].maps);
		}
	}
	EXPECT_TRUE(found) TH_LOG("no context of this process with >= 4 2M and >= 5 4K PTEs (%llu, %llu)",
				  lines[0].ptes_2m, lines[0].ptes_4k);

	/* Across the 2 MiB page boundaries of the device buffer, odd offsets. */
	roundtrip(_metadata, self, 6 * HUGE, 6 * HUGE, 3, HUGE - 5, 11, 4 * HUGE + 9, 0);
	roundtrip(_metadata, self, 6 * HUGE, 6 * HUGE, 3, HUGE - 5, 11, 4 * HUGE + 9, 1);
	EXPECT_EQ(0, tern_bo_close(self->fd, hd));
	EXPECT_EQ(0, tern_bo_close(self->fd, hh));

	/* Unmapped: the counts go back. */
	n = read_contexts(self->minor, getpid(), lines, 8);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, lines[i].ptes_2m);
}

TEST_F(mmu, device_va_per_file_and_stable)
{
	struct drm_tern_bo_info a, b, again;
	uint32_t h, h2, other;
	int fd2, dmabuf;
	char node[64];

	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tern_bo_create(self->fd, 4 * PAGE, DRM_TERN_BO_HOST, &h));
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf));
	ASSERT_EQ(0, drmPrimeFDToHandle(fd2, dmabuf, &h2));
	close(dmabuf);
	ASSERT_EQ(0, tern_bo_info(self->fd, h, &a));
	ASSERT_EQ(0, tern_bo_info(fd2, h2, &b));
	EXPECT_NE(0, a.device_va);
	EXPECT_NE(0, b.device_va);
	/* One buffer, two address spaces, two addresses. */
	EXPECT_NE(a.device_va, b.device_va);

	/* Other buffers coming and going do not move it. */
	ASSERT_EQ(0, tern_bo_create(self->fd, 64 * PAGE, DRM_TERN_BO_DEVICE, &other));
	EXPECT_NE(a.device_va, tern_bo_va(self->fd, other));
	ASSERT_EQ(0, tern_bo_close(self->fd, other));
	ASSERT_EQ(0, tern_bo_info(self->fd, h, &again));
	EXPECT_EQ(a.device_va, again.device_va);

	/* Closing the handle in one file leaves the other's mapping alone. */
	ASSERT_EQ(0, tern_bo_close(self->fd, h));
	ASSERT_EQ(0, tern_bo_info(fd2, h2, &again));
	EXPECT_EQ(b.device_va, again.device_va);
	close(fd2);
}

static void read_only(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self, uint32_t domain)
{
	struct drm_tern_bo_create c = { .size = 4 * PAGE, .domain = domain,
					.flags = DRM_TERN_BO_READ_ONLY };
	unsigned char *ro, *host, want[4 * PAGE];
	struct drm_tern_copy cp;
	uint64_t p, ro_va;
	uint32_t hh;

	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c));
	ro = tern_bo_mmap(self->fd, c.handle, c.size);
	ASSERT_NE(MAP_FAILED, ro);
	host = tern_bo_new(_metadata, self->fd, 4 * PAGE, DRM_TERN_BO_HOST, &hh);
	/* The CPU may write it; only the device may not. */
	tern_fill(ro, 4 * PAGE, 7);
	memcpy(want, ro, sizeof(want));
	memset(host, GUARD_BYTE, 4 * PAGE);
	ro_va = tern_bo_va(self->fd, c.handle);

	/* Reading works. */
	tern_copy_set(&cp, hh, 0, c.handle, 0, 4 * PAGE);
	p = job(_metadata, self, 0, &cp, 1);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	EXPECT_EQ(-1, tern_first_diff(host, want, sizeof(want)));

	/* Writing faults on the first byte, by handle or by VA. */
	memset(host, 0x11, 4 * PAGE);
	tern_copy_set(&cp, c.handle, 0, hh, 0, 4 * PAGE);
	p = job(_metadata, self, 0, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_PERMISSION, 1, ro_va);
	tern_copy_va_set(&cp, ro_va + PAGE + 8, tern_bo_va(self->fd, hh), 16);
	p = job(_metadata, self, 1 % self->info.num_queues, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_PERMISSION, 1, ro_va + PAGE + 8);
	EXPECT_EQ(-1, tern_first_diff(ro, want, sizeof(want)));

	/* The queues went on. */
	tern_copy_set(&cp, hh, 0, c.handle, 0, 4 * PAGE);
	p = job(_metadata, self, 0, &cp, 1);
	tern_wait_ok(_metadata, self->fd, self->tl, p);

	munmap(ro, c.size);
	munmap(host, 4 * PAGE);
	EXPECT_EQ(0, tern_bo_close(self->fd, c.handle));
	EXPECT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(mmu, read_only_device_bo)
{
	read_only(_metadata, self, DRM_TERN_BO_DEVICE);
}

TEST_F(mmu, read_only_host_bo)
{
	read_only(_metadata, self, DRM_TERN_BO_HOST);
}

TEST_F(mmu, unmapped_va_faults)
{
	uint64_t p, gone_va, host_va, faults0 = 0;
	struct ctx_line lines[4];
	struct drm_tern_copy cp;
	uint32_t gone, hh;
	unsigned char *host;
	int n;

	host = tern_bo_new(_metadata, self->fd, 4 * PAGE, DRM_TERN_BO_HOST, &hh);
	memset(host, GUARD_BYTE, 4 * PAGE);
	host_va = tern_bo_va(self->fd, hh);
	ASSERT_EQ(0, tern_bo_create(self->fd, 4 * PAGE, DRM_TERN_BO_DEVICE, &gone));
	gone_va = tern_bo_va(self->fd, gone);
	ASSERT_NE(0, gone_va);
	ASSERT_EQ(0, tern_bo_close(self->fd, gone));
	n = read_contexts(self->minor, getpid(), lines, 4);
	ASSERT_EQ(1, n);
	faults0 = lines[0].faults;

	/* Write to an address no longer mapped. */
	tern_copy_va_set(&cp, gone_va + 0x123, host_va, 100);
	p = job(_metadata, self, 0, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_UNMAPPED, 1, gone_va + 0x123);
	/* Read from it. */
	tern_copy_va_set(&cp, host_va, gone_va + PAGE, 100);
	p = job(_metadata, self, 0, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_UNMAPPED, 0, gone_va + PAGE);
	EXPECT_EQ(-1, tern_first_not(host, GUARD_BYTE, 4 * PAGE));
	/* Running past the end of a buffer reaches its guard page. */
	tern_copy_va_set(&cp, host_va + 4 * PAGE - 8, host_va, 16);
	p = job(_metadata, self, 0, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_UNMAPPED, 1, host_va + 4 * PAGE);
	/* Beyond the VA width. */
	tern_copy_va_set(&cp, host_va, 1ull << TERN_VA_BITS, 8);
	p = job(_metadata, self, 0, &cp, 1);
	expect_fault(_metadata, self, p, TERN_FAULT_RANGE, 0, 1ull << TERN_VA_BITS);

	n = read_contexts(self->minor, getpid(), lines, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(faults0 + 4, lines[0].faults);

	/* The queue is fine afterwards. */
	tern_copy_va_set(&cp, host_va + PAGE, host_va, 64);
	p = job(_metadata, self, 0, &cp, 1);
	tern_wait_ok(_metadata, self->fd, self->tl, p);
	munmap(host, 4 * PAGE);
	EXPECT_EQ(0, tern_bo_close(self->fd, hh));
}

TEST_F(mmu, empty_job_signals_ok)
{
	struct drm_tern_submit s = { .copy_count = 0, .out_syncobj = self->tl };
	uint32_t q;

	for (q = 0; q < self->info.num_queues; q++) {
		s.queue = q;
		s.out_point = ++self->point;
		s.job_id = 0;
		ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s));
		EXPECT_NE(0, s.job_id);
	}
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
}

TEST_F(mmu, prime_import_from_other_device)
{
	const uint64_t size = 8 * PAGE;
	unsigned char *src, *dst;
	struct drm_tern_copy cp;
	uint32_t h, imp, hd, tl1;
	unsigned int minor1;
	int fd1, dmabuf;

	fd1 = tern_open_index(_metadata, 1, &minor1);
	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &h);
	tern_fill(src, size, 99);
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, h, DRM_CLOEXEC | DRM_RDWR, &dmabuf));
	ASSERT_EQ(0, drmPrimeFDToHandle(fd1, dmabuf, &imp)) TH_LOG("%s", strerror(errno));
	close(dmabuf);
	/* Mapped in the importing file's context of the other chip. */
	EXPECT_NE(0, tern_bo_va(fd1, imp));

	dst = tern_bo_new(_metadata, fd1, size, DRM_TERN_BO_DEVICE, &hd);
	tl1 = tern_timeline(_metadata, fd1);
	tern_copy_set(&cp, hd, 0, imp, 0, size);
	ASSERT_EQ(0, tern_submit(fd1, 0, &cp, 1, tl1, 1));
	tern_wait_ok(_metadata, fd1, tl1, 1);
	EXPECT_EQ(-1, tern_first_diff(dst, src, size));
	munmap(src, size);
	munmap(dst, size);
	close(fd1);
}

/* ---- compute jobs: read-only buffers in slots ---- */

#define CP_STATUS_SIZE	PAGE

/* A device buffer of CP_BYTES with @flags, filled from @seed through its mapping. */
static unsigned char *cp_buffer(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self,
				uint32_t flags, uint64_t seed, uint32_t *handle)
{
	struct drm_tern_bo_create c = { .size = CP_BYTES, .domain = DRM_TERN_BO_DEVICE,
					.flags = flags };
	unsigned char *m;

	*handle = 0;
	EXPECT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_BO_CREATE, &c));
	if (!c.handle)
		return NULL;
	*handle = c.handle;
	m = tern_bo_mmap(self->fd, c.handle, CP_BYTES);
	EXPECT_NE(MAP_FAILED, m);
	if (m == MAP_FAILED)
		return NULL;
	tern_fill(m, CP_BYTES, seed);
	return m;
}

/*
 * EXECs the copy program on @core with slot 0 = a buffer with @in_flags and,
 * with @store, slot 1 = one with @out_flags. A job expected to fail must
 * fault on the DMA_STORE (instruction 1 of the DMA stream) with @want_code
 * and leave slot 1's bytes as they were; one expected to succeed must
 * leave a copy of slot 0 in slot 1. Slot 0 is never changed.
 */
static void compute_copy(struct __test_metadata *_metadata, FIXTURE_DATA(mmu) *self,
			 uint32_t core, uint32_t in_flags, uint32_t out_flags, int store,
			 uint32_t want_status, uint32_t want_code)
{
	unsigned char *in, *out = NULL, in_want[CP_BYTES], out_want[CP_BYTES];
	uint32_t hin, hout = 0, hprog, hstatus;
	uint64_t seed = tern_seed() + self->point;
	struct copy_exec ce;
	struct tern_job_status *st;
	struct drm_tern_wait w;
	struct copy_prog *prog;
	size_t size;
	int ret;

	in = cp_buffer(_metadata, self, in_flags, seed, &hin);
	ASSERT_NE(NULL, in);
	memcpy(in_want, in, CP_BYTES);
	if (store) {
		out = cp_buffer(_metadata, self, out_flags, seed + 1, &hout);
		ASSERT_NE(NULL, out);
		memcpy(out_want, out, CP_BYTES);
	}
	prog = tern_bo_new(_metadata, self->fd, PAGE, DRM_TERN_BO_DEVICE, &hprog);
	size = copy_prog_init(prog, store);
	st = tern_bo_new(_metadata, self->fd, CP_STATUS_SIZE, DRM_TERN_BO_HOST, &hstatus);
	memset(st, 0xa5, CP_STATUS_SIZE);

	copy_exec_init(&ce, core, hprog, size, hin, hout);
	/* the load-only program has no slot 1 */
	ce.e.slot_count = store ? 2 : 1;
	ce.e.status_handle = hstatus;
	ce.e.out_syncobj = self->tl;
	ce.e.out_point = ++self->point;
	ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_EXEC, &ce.e);
	ASSERT_EQ(0, ret) TH_LOG("EXEC: %s", strerror(-ret));
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, ce.e.out_point, TERN_WAIT_LONG, &w));

	EXPECT_EQ(want_status, w.status) TH_LOG("core %u: status %u code %u", core, w.status,
						w.error_code);
	EXPECT_EQ(want_code, w.error_code) TH_LOG("core %u", core);
	if (want_status == DRM_TERN_JOB_OK) {
		EXPECT_EQ((uint32_t)TERN_JOB_OK, st->status);
		EXPECT_EQ((uint32_t)TERN_CERR_NONE, st->error);
		/* LOAD, (STORE,) END */
		EXPECT_EQ(store ? 3u : 2u, st->insns[TERN_ENGINE_DMA]);
		if (store)
			EXPECT_EQ(-1, tern_first_diff(out, in_want, CP_BYTES));
	} else {
		EXPECT_EQ((uint32_t)TERN_JOB_FAULT, st->status);
		EXPECT_EQ(want_code, st->error);
		EXPECT_EQ((uint32_t)TERN_ENGINE_DMA, st->engine);
		EXPECT_EQ(1, st->index);
		if (store)
			EXPECT_EQ(-1, tern_first_diff(out, out_want, CP_BYTES));
	}
	EXPECT_EQ(-1, tern_first_diff(in, in_want, CP_BYTES));

	munmap(in, CP_BYTES);
	if (out)
		munmap(out, CP_BYTES);
	munmap(prog, PAGE);
	munmap(st, CP_STATUS_SIZE);
	EXPECT_EQ(0, tern_bo_close(self->fd, hin));
	if (hout)
		EXPECT_EQ(0, tern_bo_close(self->fd, hout));
	EXPECT_EQ(0, tern_bo_close(self->fd, hprog));
	EXPECT_EQ(0, tern_bo_close(self->fd, hstatus));
}

/* A DMA_STORE to a read-only slot faults, on every core; the core goes on. */
TEST_F(mmu, compute_store_to_read_only_slot_faults)
{
	ASSERT_NE(0, self->info.caps & TERN_CAP_COMPUTE);
	for (uint32_t c = 0; c < self->info.num_cores; c++) {
		compute_copy(_metadata, self, c, 0, DRM_TERN_BO_READ_ONLY, 1,
			     DRM_TERN_JOB_FAULT, TERN_CERR_BAD_SLOT);
		compute_copy(_metadata, self, c, 0, 0, 1, DRM_TERN_JOB_OK, 0);
	}
}

TEST_F(mmu, compute_store_to_writable_slot)
{
	ASSERT_NE(0, self->info.caps & TERN_CAP_COMPUTE);
	compute_copy(_metadata, self, 0, 0, 0, 1, DRM_TERN_JOB_OK, 0);
}

TEST_F(mmu, compute_load_from_read_only_slot)
{
	ASSERT_NE(0, self->info.caps & TERN_CAP_COMPUTE);
	/* Only a load, and a read-only source copied to a writable slot. */
	compute_copy(_metadata, self, 0, DRM_TERN_BO_READ_ONLY, 0, 0, DRM_TERN_JOB_OK, 0);
	compute_copy(_metadata, self, 0, DRM_TERN_BO_READ_ONLY, 0, 1, DRM_TERN_JOB_OK, 0);
}

/* ---- two processes ---- */

/* Child side: plain C, exit status 0 = all good; the reason on stderr. */
#define CHILD_CHECK(cond, ...) do {						\
	if (!(cond)) {								\
		fprintf(stderr, "# child %d line %d: ", getpid(), __LINE__);	\
		fprintf(stderr, __VA_ARGS__);					\
		fprintf(stderr, "\n");						\
		_exit(1);							\
	}									\
} while (0)

static int child_open(unsigned int minor)
{
	char node[64];

	snprintf(node, sizeof(node), "/dev/accel/accel%u", minor);
	return open(node, O_RDWR | O_CLOEXEC);
}

static void expect_child_ok(struct __test_metadata *_metadata, pid_t pid)
{
	int status = 0;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
}

/*
 * B: @jobs jobs that each fault, on every queue in turn. Each job has a
 * binary syncobj of its own: points of one timeline on several queues
 * could signal out of order and be dropped before they are waited for.
 */
#define MAX_CHILD_JOBS	64

static void faulting_child(unsigned int minor, uint32_t queues, int jobs)
{
	uint32_t hh, sync[MAX_CHILD_JOBS];
	struct drm_tern_copy cp;
	struct drm_tern_wait w;
	uint64_t va;
	int fd, i, ret;

	CHILD_CHECK(jobs <= MAX_CHILD_JOBS, "too many jobs");
	fd = child_open(minor);
	CHILD_CHECK(fd >= 0, "open: %s", strerror(errno));
	CHILD_CHECK(!tern_bo_create(fd, PAGE, DRM_TERN_BO_HOST, &hh), "BO_CREATE");
	va = tern_bo_va(fd, hh);
	for (i = 0; i < jobs; i++) {
		CHILD_CHECK(!drmSyncobjCreate(fd, 0, &sync[i]), "syncobj");
		/* Past the buffer and its guard page: unmapped. */
		tern_copy_va_set(&cp, va + 2 * PAGE + 64 * (uint64_t)i, va, 64);
		ret = tern_submit(fd, (uint32_t)i % queues, &cp, 1, sync[i], 0);
		CHILD_CHECK(!ret, "SUBMIT %d: %s", i, strerror(-ret));
	}
	for (i = 0; i < jobs; i++) {
		ret = tern_wait_result(fd, sync[i], 0, TERN_WAIT_LONG, &w);
		CHILD_CHECK(!ret, "WAIT %d: %s", i, strerror(-ret));
		CHILD_CHECK(w.status == DRM_TERN_JOB_MMU_FAULT, "job %d status %u", i, w.status);
		CHILD_CHECK(w.fault_addr == va + 2 * PAGE + 64 * (uint64_t)i,
			    "job %d fault at %#llx", i, (unsigned long long)w.fault_addr);
	}
	close(fd);
	_exit(0);
}

TEST_F_TIMEOUT(mmu, faults_are_contained, 300)
{
	const uint64_t size = 16 * PAGE;
	const int jobs = 48;
	unsigned char *src, *dst;
	struct drm_tern_copy cp[2];
	uint32_t hs, hd, hh;
	uint64_t seed, p;
	pid_t pid;
	int i;

	src = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(self->fd, size, DRM_TERN_BO_DEVICE, &hd));
	dst = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_HOST, &hh);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		faulting_child(self->minor, self->info.num_queues, jobs);

	/* A: a stream of copies on the same queues, each checked. */
	for (i = 0; i < jobs; i++) {
		uint32_t q = (uint32_t)i % self->info.num_queues;

		seed = tern_seed() + i;
		tern_fill(src, size, seed);
		memset(dst, 0, size);
		tern_copy_set(&cp[0], hd, 0, hs, 0, size);
		tern_copy_set(&cp[1], hh, 0, hd, 0, size);
		p = job(_metadata, self, q, cp, 2);
		ASSERT_NE(0, p);
		tern_wait_ok(_metadata, self->fd, self->tl, p);
		ASSERT_EQ(-1, tern_first_diff(dst, src, size)) TH_LOG("job %d", i);
	}
	expect_child_ok(_metadata, pid);
	munmap(src, size);
	munmap(dst, size);
}

/*
 * B learns A's device VA, handle and mmap offset over a pipe and tries
 * them on its own file: its copies fault, the handle does not exist for
 * it, the mmap fails; A's bytes are unchanged.
 */
struct leak {
	uint64_t va;
	uint64_t mmap_offset;
	uint32_t handle;
	uint32_t pad;
};

static void snooping_child(unsigned int minor, int rfd)
{
	struct drm_tern_bo_info info;
	struct drm_tern_copy cp;
	struct drm_tern_wait w;
	uint32_t hh, rd = 0, wr = 0;
	struct leak l;
	uint64_t va;
	void *m;
	int fd, ret;

	CHILD_CHECK(read(rfd, &l, sizeof(l)) == sizeof(l), "pipe read");
	fd = child_open(minor);
	CHILD_CHECK(fd >= 0, "open: %s", strerror(errno));

	/* Before B has any handle of its own. */
	ret = tern_bo_info(fd, l.handle, &info);
	CHILD_CHECK(ret == -ENOENT, "BO_INFO of A's handle: %d", ret);
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)l.mmap_offset);
	CHILD_CHECK(m == MAP_FAILED, "mmap of A's offset on B's file worked");
	tern_copy_set(&cp, l.handle, 2 * PAGE, l.handle, 0, PAGE);
	ret = tern_submit(fd, 0, &cp, 1, 0, 0);
	CHILD_CHECK(ret == -ENOENT, "SUBMIT with A's handle: %d", ret);

	CHILD_CHECK(!tern_bo_create(fd, 4 * PAGE, DRM_TERN_BO_HOST, &hh), "BO_CREATE");
	/* A binary syncobj per job: both reports are kept until read. */
	CHILD_CHECK(!drmSyncobjCreate(fd, 0, &rd) && !drmSyncobjCreate(fd, 0, &wr), "syncobj");
	va = tern_bo_va(fd, hh);

	/* Read A's VA. */
	tern_copy_va_set(&cp, va, l.va, PAGE);
	CHILD_CHECK(!tern_submit(fd, 0, &cp, 1, rd, 0), "SUBMIT read");
	/* Write A's VA. */
	tern_copy_va_set(&cp, l.va + 16, va, PAGE);
	CHILD_CHECK(!tern_submit(fd, 0, &cp, 1, wr, 0), "SUBMIT write");
	ret = tern_wait_result(fd, rd, 0, TERN_WAIT_LONG, &w);
	CHILD_CHECK(!ret && w.status == DRM_TERN_JOB_MMU_FAULT && w.fault_addr == l.va,
		    "read of A's VA: %d status %u at %#llx", ret, w.status,
		    (unsigned long long)w.fault_addr);
	ret = tern_wait_result(fd, wr, 0, TERN_WAIT_LONG, &w);
	CHILD_CHECK(!ret && w.status == DRM_TERN_JOB_MMU_FAULT && w.fault_addr == l.va + 16 &&
		    (w.error_code & TERN_FAULT_WRITE),
		    "write of A's VA: %d status %u at %#llx", ret, w.status,
		    (unsigned long long)w.fault_addr);
	close(fd);
	_exit(0);
}

TEST_F(mmu, guessed_va_handle_and_offset)
{
	const uint64_t size = 4 * PAGE;
	struct drm_tern_bo_info info;
	unsigned char *a, want[4 * PAGE];
	struct leak l = { 0 };
	uint32_t h;
	int pfd[2];
	pid_t pid;

	a = tern_bo_new(_metadata, self->fd, size, DRM_TERN_BO_DEVICE, &h);
	tern_fill(a, size, 1234);
	memcpy(want, a, size);
	ASSERT_EQ(0, tern_bo_info(self->fd, h, &info));
	l.va = info.device_va;
	l.mmap_offset = info.mmap_offset;
	l.handle = h;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pfd[1]);
		snooping_child(self->minor, pfd[0]);
	}
	close(pfd[0]);
	ASSERT_EQ((ssize_t)sizeof(l), write(pfd[1], &l, sizeof(l)));
	close(pfd[1]);
	expect_child_ok(_metadata, pid);
	EXPECT_EQ(-1, tern_first_diff(a, want, size));
	munmap(a, size);
}

TEST_F(mmu, forked_child_cannot_use_parent_file)
{
	pid_t pid;
	uint32_t h;

	ASSERT_EQ(0, tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &h));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct drm_tern_submit s = { .copy_count = 0 };
		struct drm_tern_info info;
		struct drm_tern_bo_info bi;
		uint32_t h2;
		int ret;

		ret = tern_get_info(self->fd, &info);
		CHILD_CHECK(ret == -EACCES, "GET_INFO: %d", ret);
		ret = tern_bo_create(self->fd, PAGE, DRM_TERN_BO_HOST, &h2);
		CHILD_CHECK(ret == -EACCES, "BO_CREATE: %d", ret);
		ret = tern_bo_info(self->fd, h, &bi);
		CHILD_CHECK(ret == -EACCES, "BO_INFO: %d", ret);
		ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s);
		CHILD_CHECK(ret == -EACCES, "SUBMIT: %d", ret);
		_exit(0);
	}
	expect_child_ok(_metadata, pid);
	/* The parent still can. */
	EXPECT_NE(0, tern_bo_va(self->fd, h));
}

TEST_F(mmu, context_goes_with_the_file)
{
	struct ctx_line lines[8];
	int fd2, n0, n;
	char node[64];
	uint32_t h;

	n0 = read_contexts(self->minor, getpid(), lines, 8);
	ASSERT_LE(1, n0);
	snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
	fd2 = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tern_bo_create(fd2, 3 * PAGE, DRM_TERN_BO_HOST, &h));
	n = read_contexts(self->minor, getpid(), lines, 8);
	EXPECT_EQ(n0 + 1, n);
	close(fd2);
	n = read_contexts(self->minor, getpid(), lines, 8);
	EXPECT_EQ(n0, n);
}

TEST_HARNESS_MAIN
