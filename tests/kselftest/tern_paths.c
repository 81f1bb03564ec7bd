// SPDX-License-Identifier: MIT
/*
 * tern_paths: libtern's submission paths (ioctl, io_uring, user-mode queue)
 * give the same results.
 *
 * Which paths the driver offers is found here by hand, with the raw UAPI
 * (an empty job through an io_uring command; QUEUE_CREATE), and libtern
 * must pick exactly those: TERN_SUBMIT=<path> gets that path when offered
 * and the next slower one when not. Then one scenario - copies of odd
 * sizes and offsets between host and device memory, batches, many copies
 * in flight waited out of order, no-ops, a matmul launch between dependent
 * copies, a faulting launch, and every argument error - runs under each
 * path; its statuses and every byte it produced must be identical to the
 * ioctl path's. Also: a fault on the user-mode queue, and a lost completion
 * there (injected through the host's QMP relay).
 */
#include <liburing.h>
#include <math.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern.h"
#include "tern_ops.h"
#include "tern_program.h"
#include "tern_inject.h"

#define WAIT_NS		(60ll * 1000 * 1000 * 1000)
#define SRC_SIZE	(3u << 20)
#define INFLIGHT	48
#define MAX_RESULTS	256
#define MM		64	/* matmul M = K = N */


/* The scenario's matmul: slot 0 = slot 1 . slot 2, MM x MM fp32. */
static struct tern_op mm_op(void)
{
	struct tern_op op;

	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_MATMUL;
	op.nin = 2;
	op.out = tern_tensor_2d(0, TERN_DT_FP32, MM, MM);
	op.in[0] = tern_tensor_2d(1, TERN_DT_FP32, MM, MM);
	op.in[1] = tern_tensor_2d(2, TERN_DT_FP32, MM, MM);
	return op;
}
static const char *const path_env[] = { "ioctl", "uring", "userq" };

/* ---- what the driver offers, by hand ---- */

/* One SUBMIT through a fresh SQE128/CQE32 ring: the CQE's res, or -errno. */
static int uring_submit_once(int fd, const struct drm_tern_submit *submit)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct __kernel_timespec ts = { .tv_sec = 10 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int res;

	res = io_uring_queue_init_params(4, &ring, &p);
	if (res)
		return res;
	sqe = io_uring_get_sqe(&ring);
	res = -EBUSY;
	if (sqe) {
		memset(sqe, 0, 2 * sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = fd;
		sqe->cmd_op = DRM_TERN_URING_SUBMIT;
		memcpy(sqe->cmd, submit, sizeof(*submit));
		res = io_uring_submit(&ring) == 1 ? 0 : -EIO;
		if (!res)
			res = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (!res) {
			res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
	return res;
}

/*
 * io_uring commands work: an empty job comes back done, or on a driver
 * without empty jobs (-EINVAL) a 64-byte copy in a host buffer.
 */
static bool driver_has_uring(int fd)
{
	struct drm_tern_bo_create bc = { .size = 4096, .domain = DRM_TERN_BO_HOST };
	struct drm_tern_copy copy = { .dst_offset = 64, .size = 64 };
	struct drm_tern_submit submit = { 0 };
	int res;

	res = uring_submit_once(fd, &submit);
	if (res != -EINVAL)
		return res == 0;
	if (ioctl(fd, DRM_IOCTL_TERN_BO_CREATE, &bc))
		return false;
	copy.src_handle = copy.dst_handle = bc.handle;
	submit.copies = (uintptr_t)&copy;
	submit.copy_count = 1;
	res = uring_submit_once(fd, &submit);
	drmCloseBufferHandle(fd, bc.handle);
	return res == 0;
}

static bool driver_has_userq(int fd)
{
	struct drm_tern_bo_create bc = { .size = 65536, .domain = DRM_TERN_BO_HOST };
	struct drm_tern_bo_info bi = { 0 };
	struct drm_tern_queue_create qc = { 0 };
	struct drm_tern_queue_destroy qd = { 0 };
	bool ok = false;

	if (ioctl(fd, DRM_IOCTL_TERN_BO_CREATE, &bc))
		return false;
	bi.handle = bc.handle;
	if (!ioctl(fd, DRM_IOCTL_TERN_BO_INFO, &bi) && bi.device_va) {
		qc.ring_va = bi.device_va;
		qc.ring_entries = 64;
		if (!ioctl(fd, DRM_IOCTL_TERN_QUEUE_CREATE, &qc)) {
			qd.queue_id = qc.queue_id;
			ok = !ioctl(fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &qd);
		}
	}
	drmCloseBufferHandle(fd, bc.handle);
	return ok;
}

struct offer {
	bool uring, userq;
};

static void probe_offer(struct __test_metadata *_metadata, struct offer *o)
{
	unsigned int minors[TERN_TEST_MAX_DEVS];
	char node[64];
	int fd;

	ASSERT_LT(0, tern_minors(minors, TERN_TEST_MAX_DEVS));
	snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[0]);
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	o->uring = driver_has_uring(fd);
	o->userq = driver_has_userq(fd);
	close(fd);
	TH_LOG("driver offers: ioctl%s%s", o->uring ? ", uring" : "", o->userq ? ", userq" : "");
}

/* The path libtern must take for TERN_SUBMIT=@want. */
static int expected_path(const struct offer *o, int want)
{
	if (want == TERN_SUBMIT_IOCTL)
		return TERN_SUBMIT_IOCTL;
	if (want != TERN_SUBMIT_URING && o->userq)
		return TERN_SUBMIT_USERQ;
	return o->uring ? TERN_SUBMIT_URING : TERN_SUBMIT_IOCTL;
}

static struct tern_device *open_with(struct __test_metadata *_metadata, const char *env,
				     unsigned int index)
{
	struct tern_device *dev = NULL;
	int ret;

	setenv("TERN_SUBMIT", env, 1);
	ret = tern_device_open(index, &dev);
	unsetenv("TERN_SUBMIT");
	EXPECT_EQ(0, ret) TH_LOG("TERN_SUBMIT=%s: %s", env, tern_last_error());
	return dev;
}

TEST(paths_are_the_ones_the_driver_offers)
{
	static const char *const wants[] = { "auto", "ioctl", "uring", "userq", "" };
	static const int want_val[] = { TERN_SUBMIT_AUTO, TERN_SUBMIT_IOCTL, TERN_SUBMIT_URING,
					TERN_SUBMIT_USERQ, TERN_SUBMIT_AUTO };
	struct tern_device *dev;
	struct offer o;
	int count = tern_device_count();

	probe_offer(_metadata, &o);
	for (int d = 0; d < count; d++) {
		for (unsigned int i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
			dev = open_with(_metadata, wants[i], d);
			ASSERT_NE(NULL, dev);
			EXPECT_EQ(expected_path(&o, want_val[i]), tern_submit_path(dev))
				TH_LOG("device %d, TERN_SUBMIT=%s: got %s", d, wants[i],
				       tern_submit_path_name(tern_submit_path(dev)));
			EXPECT_EQ(0, tern_device_close(dev));
		}
	}
	EXPECT_STREQ("ioctl", tern_submit_path_name(TERN_SUBMIT_IOCTL));
	EXPECT_STREQ("uring", tern_submit_path_name(TERN_SUBMIT_URING));
	EXPECT_STREQ("userq", tern_submit_path_name(TERN_SUBMIT_USERQ));
}

TEST(bad_tern_submit_is_refused)
{
	struct tern_device *dev = (struct tern_device *)1;

	setenv("TERN_SUBMIT", "fastest", 1);
	EXPECT_EQ(-EINVAL, tern_device_open(0, &dev));
	unsetenv("TERN_SUBMIT");
	EXPECT_EQ(NULL, dev);
	EXPECT_NE(NULL, strstr(tern_last_error(), "TERN_SUBMIT=fastest")) TH_LOG("%s",
									       tern_last_error());
	EXPECT_EQ(-EINVAL, tern_submit_path(NULL));
}

/* ---- the scenario ---- */

struct run {
	int path;
	int results[MAX_RESULTS];	/* every return value, in order */
	unsigned int nresults;
	uint8_t *image;			/* every byte the scenario produced */
	size_t image_size;
};

static void record(struct run *r, int v)
{
	if (r->nresults < MAX_RESULTS)
		r->results[r->nresults++] = v;
}

static struct tern_buffer *buf_new(struct __test_metadata *_metadata, struct tern_device *dev,
				   uint64_t size, unsigned int kind, uint8_t **map)
{
	struct tern_buffer *b = NULL;
	void *p = NULL;

	EXPECT_EQ(0, tern_buffer_alloc(dev, size, kind, &b)) TH_LOG("%s", tern_last_error());
	if (b && map) {
		EXPECT_EQ(0, tern_buffer_map(b, &p));
		*map = p;
	}
	return b;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static size_t hand_illegal(void *buf)
{
	struct {
		struct tern_prog_header h;
		union tern_insn insn[3];
	} *p = buf;

	memset(p, 0, sizeof(*p));
	p->h.magic = TERN_PROG_MAGIC;
	p->h.version = TERN_ISA_VERSION;
	p->h.size = TERN_PROG_HEADER_SIZE + 3 * TERN_INSN_SIZE;
	p->h.stream[TERN_ENGINE_VECTOR].offset = TERN_PROG_HEADER_SIZE;
	p->h.stream[TERN_ENGINE_VECTOR].count = 3;
	p->insn[0].h.opcode = TERN_OP_NOP;
	p->insn[1].h.opcode = 0x7f;
	p->insn[2].h.opcode = TERN_OP_END;
	return p->h.size;
}

/* Runs everything on device @index with TERN_SUBMIT=@env; fills @r. */
static void scenario(struct __test_metadata *_metadata, const char *env, unsigned int index,
		     struct run *r)
{
	struct tern_buffer *src, *dev1, *dev2, *dst, *mm[3];
	struct tern_fence *fences[INFLIGHT], *f = NULL;
	struct tern_copy_desc batch[24];
	struct tern_launch_status st;
	struct tern_device *dev;
	struct tern_kernel *k;
	uint8_t *s, *d, image_prog[1024];
	struct tern_op op;
	size_t size;
	int ret;

	memset(r, 0, sizeof(*r));
	dev = open_with(_metadata, env, index);
	ASSERT_NE(NULL, dev);
	r->path = tern_submit_path(dev);
	src = buf_new(_metadata, dev, SRC_SIZE, TERN_MEM_HOST, &s);
	dst = buf_new(_metadata, dev, SRC_SIZE, TERN_MEM_HOST, &d);
	dev1 = buf_new(_metadata, dev, SRC_SIZE, TERN_MEM_DEVICE, NULL);
	dev2 = buf_new(_metadata, dev, SRC_SIZE, TERN_MEM_HOST, NULL);
	ASSERT_TRUE(src && dst && dev1 && dev2);
	fill(s, SRC_SIZE, 7);
	memset(d, 0xa5, SRC_SIZE);

	/* Dependent copies: host -> device -> host -> host, odd sizes and offsets. */
	record(r, tern_copy(dev, dev1, 13, src, 1, SRC_SIZE - 100));
	record(r, tern_copy(dev, dev2, 4097, dev1, 13, 1000003));
	record(r, tern_copy(dev, dst, 3, dev2, 4097, 1000003));
	/* Zero bytes: a fence already done, on every path. */
	record(r, tern_copy_async(dev, dst, 0, src, 0, 0, &f));
	record(r, f ? tern_fence_queue(f) : -99);
	record(r, f ? tern_fence_wait(dev, f, 0) : -99);
	tern_fence_release(f);

	/* A batch: scattered pieces, one of them empty, into dst from 1 MiB on. */
	for (unsigned int i = 0; i < 24; i++) {
		batch[i].dst = dst;
		batch[i].dst_offset = (1u << 20) + i * 40000 + i;
		batch[i].src = i % 2 ? src : dev1;
		batch[i].src_offset = i * 77777;
		batch[i].size = i == 5 ? 0 : 1000 + i * 997;
	}
	f = NULL;
	record(r, tern_copy_batch(dev, batch, 24, &f));
	record(r, f ? tern_fence_wait(dev, f, WAIT_NS) : -99);
	tern_fence_release(f);
	record(r, tern_copy_batch(dev, batch, 3, NULL));

	/* Many in flight on all queues, each to its own place, waited in reverse. */
	for (unsigned int i = 0; i < INFLIGHT; i++) {
		fences[i] = NULL;
		record(r, tern_copy_async(dev, dst, (2u << 20) + i * 8192, src, i * 5000 + 7,
					  4096 + i, &fences[i]));
	}
	for (unsigned int i = INFLIGHT; i-- > 0;) {
		record(r, fences[i] ? tern_fence_wait(dev, fences[i], WAIT_NS) : -99);
		tern_fence_release(fences[i]);
	}
	/*
	 * The same inside tern_batch_begin/end: copies and empty jobs sent
	 * together (on io_uring, one system call and one doorbell per queue),
	 * waited newest first; a wait inside an open batch sends what waits.
	 */
	record(r, tern_batch_begin(dev));
	for (unsigned int i = 0; i < INFLIGHT; i++) {
		fences[i] = NULL;
		/* into dst between the copies above and the matmul's C */
		record(r, i % 3 ? tern_copy_async(dev, dst, (2u << 20) + INFLIGHT * 8192 + i * 2600,
						  src, i * 3001 + 5, 2048 + i, &fences[i]) :
				  tern_nop_async(dev, &fences[i]));
	}
	record(r, tern_batch_begin(dev));	/* nested: sent at the outer end */
	record(r, tern_batch_end(dev));
	record(r, fences[1] ? tern_fence_wait(dev, fences[1], WAIT_NS) : -99);
	record(r, tern_batch_end(dev));
	for (unsigned int i = INFLIGHT; i-- > 0;) {
		record(r, fences[i] ? tern_fence_wait(dev, fences[i], WAIT_NS) : -99);
		tern_fence_release(fences[i]);
	}
	record(r, tern_batch_end(dev));		/* no batch open: -EINVAL */
	record(r, tern_batch_begin(NULL));
	record(r, tern_batch_end(NULL));

	/* Empty jobs. */
	for (unsigned int i = 0; i < 8; i++) {
		f = NULL;
		record(r, tern_nop_async(dev, &f));
		record(r, f ? tern_fence_wait(dev, f, WAIT_NS) : -99);
		record(r, f ? tern_fence_wait(dev, f, 0) : -99);
		tern_fence_release(f);
	}

	/* copy in, matmul, copy out: A and B from src, C into dst at 2.5 MiB. */
	size = MM * MM * 4;
	for (unsigned int i = 0; i < 3; i++)
		mm[i] = buf_new(_metadata, dev, size, TERN_MEM_DEVICE, NULL);
	ASSERT_TRUE(mm[0] && mm[1] && mm[2]);
	for (unsigned int i = 0; i < MM * MM * 2; i++) {
		float v = (float)((int)(i * 37 % 201) - 100) / 64.0f;

		memcpy(s + 2 * 1024 * 1024 + 4 * i, &v, 4);
	}
	op = mm_op();
	batch[0] = (struct tern_copy_desc){ mm[1], 0, src, 2u << 20, size };
	batch[1] = (struct tern_copy_desc){ mm[2], 0, src, (2u << 20) + size, size };
	record(r, tern_copy_batch(dev, batch, 2, NULL));
	ret = tern_op_run(dev, 0, &op, mm, 3, &st);
	record(r, ret);
	record(r, st.result);
	record(r, tern_copy(dev, dst, (5u << 19), mm[0], 0, size));

	/* A faulting launch, then a good one on the same core. */
	size = hand_illegal(image_prog);
	ASSERT_EQ(0, tern_kernel_load(dev, image_prog, size, &k));
	memset(&st, 0, sizeof(st));
	record(r, tern_launch(dev, k, 0, NULL, 0, &st));
	record(r, (int)st.error);
	record(r, (int)st.engine);
	record(r, (int)st.index);
	f = NULL;
	record(r, tern_launch_async(dev, k, 0, NULL, 0, &f));
	record(r, f ? tern_fence_wait(dev, f, WAIT_NS) : -99);
	record(r, f ? tern_fence_launch_status(f, &st) : -99);
	record(r, st.result);
	tern_fence_release(f);
	tern_kernel_free(k);
	record(r, tern_op_run(dev, 0, &op, mm, 3, NULL));

	/* Argument errors: nothing queued, same codes everywhere. */
	f = NULL;
	record(r, tern_copy_async(dev, dst, SRC_SIZE - 10, src, 0, 11, &f));
	record(r, f == NULL);
	record(r, tern_copy(dev, dev1, 0, dev1, 100, 200));
	batch[0] = (struct tern_copy_desc){ dst, 0, src, 0, 64 };
	batch[1] = (struct tern_copy_desc){ dst, 64, src, SRC_SIZE, 1 };
	record(r, tern_copy_batch(dev, batch, 2, &f));
	record(r, strstr(tern_last_error(), "copy 1 of the batch") != NULL);
	record(r, d[0] == 0xa5);	/* copy 0 of the refused batch did not run */
	record(r, tern_copy_batch(dev, batch, 0, &f));
	record(r, tern_copy_batch(dev, batch, TERN_BATCH_MAX + 1, &f));
	record(r, tern_copy_async_on(dev, 1000, dst, 0, src, 0, 8, &f));
	record(r, tern_nop_async(dev, NULL));
	record(r, tern_nop_async(NULL, &f));
	record(r, tern_copy_async(dev, dst, 0, src, 0, 8, NULL));
	f = NULL;
	record(r, tern_copy_async(dev, dst, 0, src, 0, 8, &f));
	record(r, f ? tern_fence_wait(dev, f, -5) : -99);
	record(r, f ? tern_fence_wait(dev, f, WAIT_NS) : -99);
	tern_fence_release(f);

	/* Every byte produced. */
	r->image_size = SRC_SIZE;
	r->image = malloc(SRC_SIZE);
	ASSERT_NE(NULL, r->image);
	memcpy(r->image, d, SRC_SIZE);

	for (unsigned int i = 0; i < 3; i++)
		tern_buffer_free(mm[i]);
	tern_buffer_free(src);
	tern_buffer_free(dst);
	tern_buffer_free(dev1);
	tern_buffer_free(dev2);
	EXPECT_EQ(0, tern_device_close(dev)) TH_LOG("%s", tern_last_error());
}

static void compare(struct __test_metadata *_metadata, const struct run *ref,
		    const struct run *r)
{
	EXPECT_EQ(ref->nresults, r->nresults);
	for (unsigned int i = 0; i < ref->nresults && i < r->nresults; i++) {
		EXPECT_EQ(ref->results[i], r->results[i])
			TH_LOG("result %u: ioctl %d, %s %d", i, ref->results[i],
			       tern_submit_path_name(r->path), r->results[i]);
	}
	ASSERT_EQ(ref->image_size, r->image_size);
	for (size_t i = 0; i < ref->image_size; i++) {
		if (ref->image[i] != r->image[i]) {
			EXPECT_EQ(ref->image[i], r->image[i])
				TH_LOG("byte %zu differs on %s", i, tern_submit_path_name(r->path));
			break;
		}
	}
}

static void same_on_every_path(struct __test_metadata *_metadata, unsigned int index)
{
	struct run runs[3];
	struct offer o;

	probe_offer(_metadata, &o);
	for (unsigned int p = 0; p < 3; p++) {
		scenario(_metadata, path_env[p], index, &runs[p]);
		TH_LOG("TERN_SUBMIT=%s ran on %s: %u results", path_env[p],
		       tern_submit_path_name(runs[p].path), runs[p].nresults);
		EXPECT_EQ(expected_path(&o, (int)p), runs[p].path);
	}
	/* The reference is right in itself: the copies' bytes where they should be. */
	ASSERT_EQ(TERN_SUBMIT_IOCTL, runs[0].path);
	for (unsigned int p = 1; p < 3; p++)
		compare(_metadata, &runs[0], &runs[p]);
	for (unsigned int p = 0; p < 3; p++)
		free(runs[p].image);
}

FIXTURE(paths) {
	int unused;
};

FIXTURE_SETUP(paths)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(paths)
{
}

TEST_F_TIMEOUT(paths, same_results_on_every_path_device0, 600)
{
	same_on_every_path(_metadata, 0);
}

TEST_F_TIMEOUT(paths, same_results_on_every_path_device1, 600)
{
	if (tern_device_count() < 2)
		SKIP(return, "one device");
	same_on_every_path(_metadata, 1);
}

/* The ioctl path's own results are the right ones (not only equal across paths). */
TEST_F_TIMEOUT(paths, reference_run_is_correct, 300)
{
	static const int want[] = { 0, 0, 0, 0, -1, 0, 0, 0, 0 };
	uint8_t *src;
	struct run r;

	scenario(_metadata, "ioctl", 0, &r);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_EQ(want[i], r.results[i]) TH_LOG("result %u", i);
	}
	for (unsigned int i = 9; i < 9 + INFLIGHT * 2 + 8 * 3 + 4; i++) {
		EXPECT_EQ(0, r.results[i]) TH_LOG("result %u", i);
	}
	src = malloc(SRC_SIZE);
	ASSERT_NE(NULL, src);
	fill(src, SRC_SIZE, 7);
	/*
	 * host -> device -> host -> dst at 3: src from 1, by offsets 13 and
	 * 4097; the scenario's last copy overwrote dst[0, 8).
	 */
	EXPECT_EQ(0, memcmp(r.image + 8, src + 6, 1000003 - 5));
	EXPECT_EQ(0xa5, r.image[1000003 + 3]);
	/* the last copy of the scenario */
	EXPECT_EQ(0, memcmp(r.image, src, 8));
	/* batch copy 1 (odd: from src): dst[1 MiB + 40001] = src[77777] for 1997 bytes */
	EXPECT_EQ(0, memcmp(r.image + (1u << 20) + 40001, src + 77777, 1997));
	/* in flight copy 10 */
	EXPECT_EQ(0, memcmp(r.image + (2u << 20) + 10 * 8192, src + 10 * 5000 + 7, 4096 + 10));
	/* the matmul, against the CPU reference */
	{
		uint64_t sizes[3] = { MM * MM * 4, MM * MM * 4, MM * MM * 4 };
		float *want = calloc(MM * MM, 4), got, tol;
		void *slots[3];
		struct tern_op op;

		ASSERT_NE(NULL, want);
		op = mm_op();
		slots[0] = want;
		slots[1] = malloc(2 * sizes[1]);
		ASSERT_NE(NULL, slots[1]);
		slots[2] = (uint8_t *)slots[1] + sizes[1];
		for (unsigned int i = 0; i < MM * MM * 2; i++) {
			float v = (float)((int)(i * 37 % 201) - 100) / 64.0f;

			memcpy((uint8_t *)slots[1] + 4 * i, &v, 4);
		}
		ASSERT_EQ(0, tern_op_reference(&op, slots, sizes, 3));
		tol = (float)tern_op_tolerance(&op);
		for (unsigned int i = 0; i < MM * MM; i++) {
			memcpy(&got, r.image + (5u << 19) + 4 * i, 4);
			if (!(fabsf(got - want[i]) <= tol)) {
				EXPECT_EQ(want[i], got) TH_LOG("C[%u]", i);
				break;
			}
		}
		free(slots[1]);
		free(want);
	}
	free(src);
	free(r.image);
}

/*
 * The user-mode queue's error path: the device faults on a copy whose
 * source was freed behind the library's back (the kernel does not know of
 * user-queue jobs, so it unmaps the buffer at once). That job fails with
 * -EFAULT, the one queued after it is not run (-ECANCELED), the one before
 * it is fine, and the next copy gets a new queue and works.
 */
TEST_F_TIMEOUT(paths, userq_fault_fails_that_job_and_the_queue_comes_back, 300)
{
	const uint64_t big = 128ull << 20;
	struct tern_buffer *a, *b, *victim, *h1, *h2;
	struct tern_fence *f_long = NULL, *f_bad = NULL, *f_after = NULL;
	struct tern_device *dev;
	uint8_t *p1, *p2;
	struct offer o;
	int ret;

	probe_offer(_metadata, &o);
	if (!o.userq)
		SKIP(return, "the driver offers no user-mode queues");
	dev = open_with(_metadata, "userq", 0);
	ASSERT_NE(NULL, dev);
	ASSERT_EQ(TERN_SUBMIT_USERQ, tern_submit_path(dev));
	a = buf_new(_metadata, dev, big, TERN_MEM_DEVICE, NULL);
	b = buf_new(_metadata, dev, big, TERN_MEM_DEVICE, NULL);
	victim = buf_new(_metadata, dev, 1 << 20, TERN_MEM_HOST, NULL);
	h1 = buf_new(_metadata, dev, 4096, TERN_MEM_HOST, &p1);
	h2 = buf_new(_metadata, dev, 4096, TERN_MEM_HOST, &p2);
	ASSERT_TRUE(a && b && victim && h1 && h2);
	fill(p1, 4096, 3);
	memset(p2, 0, 4096);

	/* A long copy first, so the device reaches the victim after the free. */
	ASSERT_EQ(0, tern_copy_async(dev, b, 0, a, 0, big, &f_long)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_copy_async(dev, a, 0, victim, 0, 1 << 20, &f_bad));
	ASSERT_EQ(0, tern_copy_async(dev, h2, 0, h1, 0, 4096, &f_after));
	tern_buffer_free(victim);

	EXPECT_EQ(0, tern_fence_wait(dev, f_long, WAIT_NS)) TH_LOG("%s", tern_last_error());
	ret = tern_fence_wait(dev, f_bad, WAIT_NS);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("%s", tern_last_error());
	EXPECT_NE(NULL, strstr(tern_last_error(), "MMU fault")) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(-ECANCELED, tern_fence_wait(dev, f_after, WAIT_NS)) TH_LOG("%s",
										   tern_last_error());
	EXPECT_NE(NULL, strstr(tern_last_error(), "not run")) TH_LOG("%s", tern_last_error());
	/* The same results again, at once. */
	EXPECT_EQ(ret, tern_fence_wait(dev, f_bad, 0));
	tern_fence_release(f_long);
	tern_fence_release(f_bad);
	tern_fence_release(f_after);

	/* A new queue: the same copy works. */
	EXPECT_EQ(TERN_SUBMIT_USERQ, tern_submit_path(dev));
	EXPECT_EQ(0, tern_copy(dev, h2, 0, h1, 0, 4096)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(0, memcmp(p1, p2, 4096));

	tern_buffer_free(a);
	tern_buffer_free(b);
	tern_buffer_free(h1);
	tern_buffer_free(h2);
	EXPECT_EQ(0, tern_device_close(dev));
}

/* The chip queue of @pid's user-mode queue on accel@minor (debugfs user_queues), or -1. */
static int userq_chip_queue(unsigned int minor, pid_t pid)
{
	char path[96], line[256];
	unsigned int slot, queue;
	int owner, q = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/user_queues", minor);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u %d", &slot, &queue, &owner) == 3 && owner == pid) {
			q = (int)queue;
			break;
		}
	fclose(f);
	return q;
}

/*
 * A lost completion on the runtime's user-mode queue (injected: the copy's
 * descriptor is done but writes no fence and raises no interrupt): the
 * wait still ends, OK, with the data there, and the queue goes on. The
 * runtime finds it from QUEUE_QUERY's count of descriptors done, or a
 * later descriptor's fence covers it.
 */
TEST_F_TIMEOUT(paths, userq_lost_completion_is_found, 300)
{
	struct tern_buffer *h1, *h2;
	struct tern_device_info info;
	uint64_t before, after;
	struct tern_device *dev;
	uint8_t *p1, *p2;
	struct offer o;
	int q, ret;

	probe_offer(_metadata, &o);
	if (!o.userq)
		SKIP(return, "the driver offers no user-mode queues");
	ret = tern_inject_faults(0, &before);
	if (ret == -ENOSYS)
		SKIP(return, "%s", tern_vm_error());
	ASSERT_EQ(0, ret) TH_LOG("faults-injected: %s", tern_vm_error());
	dev = open_with(_metadata, "userq", 0);
	ASSERT_NE(NULL, dev);
	ASSERT_EQ(TERN_SUBMIT_USERQ, tern_submit_path(dev));
	h1 = buf_new(_metadata, dev, 4096, TERN_MEM_HOST, &p1);
	h2 = buf_new(_metadata, dev, 4096, TERN_MEM_HOST, &p2);
	ASSERT_TRUE(h1 && h2);
	fill(p1, 4096, 5);
	ASSERT_EQ(0, tern_copy(dev, h2, 0, h1, 0, 4096)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_device_info(dev, &info));
	q = userq_chip_queue(info.minor, getpid());
	ASSERT_LE(0, q) TH_LOG("no user queue of pid %d in debugfs user_queues", getpid());

	ASSERT_EQ(0, tern_inject_lost_completion(0, false, (unsigned int)q))
		TH_LOG("%s", tern_vm_error());
	fill(p1, 4096, 6);
	memset(p2, 0, 4096);
	EXPECT_EQ(0, tern_copy(dev, h2, 0, h1, 0, 4096)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(0, memcmp(p1, p2, 4096));
	ASSERT_EQ(0, tern_inject_faults(0, &after));
	EXPECT_EQ(before + 1, after) TH_LOG("the lost completion did not take effect");

	fill(p1, 4096, 7);
	EXPECT_EQ(0, tern_copy(dev, h2, 0, h1, 0, 4096)) TH_LOG("%s", tern_last_error());
	EXPECT_EQ(0, memcmp(p1, p2, 4096));
	tern_buffer_free(h1);
	tern_buffer_free(h2);
	EXPECT_EQ(0, tern_device_close(dev));
}

TEST_HARNESS_MAIN
