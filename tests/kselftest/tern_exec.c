// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_TERN_EXEC: compute programs on every core of every device
 * checked against a CPU reference, the job status the core writes, faults
 * (illegal opcode, deadlock), per-job timeouts, and every rejected field.
 * Programs come from libtern's builder, or are written by hand where the
 * builder refuses them (illegal opcodes, deadlocks).
 */
#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_isa.h"
#include "tern_ops.h"
#include "tern_program.h"

#define ROWS		128
#define COLS		64
#define TENSOR_BYTES	(ROWS * COLS * sizeof(float))
#define PROG_BO_SIZE	(1u << 20)
#define DATA_BO_SIZE	(1u << 20)
#define STATUS_BO_SIZE	4096u

/* One device opened with a program buffer, data buffers and a status buffer. */
struct exec_dev {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t prog, in, out, host, status, syncobj;
	void *prog_map, *in_map, *out_map, *status_map;
};

static void exec_dev_open(struct __test_metadata *_metadata, struct exec_dev *d,
			  unsigned int index)
{
	memset(d, 0, sizeof(*d));
	d->fd = tern_open_index(_metadata, index, &d->minor);
	ASSERT_EQ(0, tern_get_info(d->fd, &d->info));
	ASSERT_NE(0, d->info.caps & TERN_CAP_COMPUTE);
	ASSERT_LE(1, d->info.num_cores);
	d->prog_map = tern_bo_new(_metadata, d->fd, PROG_BO_SIZE, DRM_TERN_BO_DEVICE, &d->prog);
	d->in_map = tern_bo_new(_metadata, d->fd, DATA_BO_SIZE, DRM_TERN_BO_DEVICE, &d->in);
	d->out_map = tern_bo_new(_metadata, d->fd, DATA_BO_SIZE, DRM_TERN_BO_DEVICE, &d->out);
	d->status_map = tern_bo_new(_metadata, d->fd, STATUS_BO_SIZE, DRM_TERN_BO_HOST,
				    &d->status);
	ASSERT_EQ(0, tern_bo_create(d->fd, 4096, DRM_TERN_BO_HOST, &d->host));
	ASSERT_EQ(0, drmSyncobjCreate(d->fd, 0, &d->syncobj));
}

static void exec_dev_close(struct exec_dev *d)
{
	if (d->fd > 0)
		close(d->fd);
}

/* EXEC of the program at offset 0 of d->prog, slots 0 = in, 1 = out. */
static void exec_args(struct exec_dev *d, struct drm_tern_exec *e, struct drm_tern_slot *slots,
		      uint32_t core, uint64_t prog_size)
{
	memset(e, 0, sizeof(*e));
	memset(slots, 0, 2 * sizeof(*slots));
	slots[0].handle = d->in;
	slots[0].size = DATA_BO_SIZE;
	slots[1].handle = d->out;
	slots[1].size = DATA_BO_SIZE;
	e->core = core;
	e->program_handle = d->prog;
	e->program_size = prog_size;
	e->slots = (uintptr_t)slots;
	e->slot_count = 2;
	e->status_handle = d->status;
	e->out_syncobj = d->syncobj;
}

static int exec_run(struct exec_dev *d, struct drm_tern_exec *e, uint32_t *status,
		    uint32_t *code)
{
	int ret;

	memset(d->status_map, 0xa5, STATUS_BO_SIZE);
	ret = tern_ioctl(d->fd, DRM_IOCTL_TERN_EXEC, e);
	if (ret)
		return ret;
	return tern_wait(d->fd, d->syncobj, 0, TERN_WAIT_LONG, status, code);
}

static struct tern_job_status *exec_status(struct exec_dev *d)
{
	return d->status_map;
}

/* Write a program image into d->prog; returns its size rounded to 64. */
static uint64_t exec_load(struct exec_dev *d, const void *image, size_t size)
{
	memcpy(d->prog_map, image, size);
	return (size + 63) & ~(uint64_t)63;
}

/* ---- hand-built programs ---- */

struct hand_prog {
	struct tern_prog_header h;
	union tern_insn insn[8];
};

/* A program of one stream on @engine with @n instructions (END included). */
static size_t hand_prog_init(struct hand_prog *p, unsigned int engine, unsigned int n,
			     unsigned int nsems)
{
	memset(p, 0, sizeof(*p));
	p->h.magic = TERN_PROG_MAGIC;
	p->h.version = TERN_ISA_VERSION;
	p->h.size = TERN_PROG_HEADER_SIZE + n * TERN_INSN_SIZE;
	p->h.nsems = nsems;
	p->h.stream[engine].offset = TERN_PROG_HEADER_SIZE;
	p->h.stream[engine].count = n;
	return p->h.size;
}

/* Vector stream: NOP, END. */
static size_t hand_prog_nop(struct hand_prog *p)
{
	size_t size = hand_prog_init(p, TERN_ENGINE_VECTOR, 2, 0);

	p->insn[0].h.opcode = TERN_OP_NOP;
	p->insn[1].h.opcode = TERN_OP_END;
	return size;
}

/* ---- builder programs ---- */

/* out = relu(in), ROWS x COLS fp32. */
static void build_relu(struct __test_metadata *_metadata, struct exec_dev *d,
		       struct tern_program **p, const void **img, size_t *size)
{
	struct tern_tensor x = tern_tensor_2d(0, TERN_DT_FP32, ROWS, COLS);
	struct tern_tensor y = tern_tensor_2d(1, TERN_DT_FP32, ROWS, COLS);

	ASSERT_EQ(0, tern_prog_create(d->info.sbuf_size, p)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_op_relu(*p, &y, &x)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(*p, img, size)) TH_LOG("%s", tern_last_error());
}

/* out = in[0:n, 0:n] . in[n:2n, 0:n] (slot 0 holds A then B), fp32. */
static void build_matmul(struct __test_metadata *_metadata, struct exec_dev *d, uint64_t n,
			 struct tern_program **p, const void **img, size_t *size)
{
	struct tern_tensor a = tern_tensor_2d(0, TERN_DT_FP32, n, n);
	struct tern_tensor b = tern_tensor_2d(0, TERN_DT_FP32, n, n);
	struct tern_tensor c = tern_tensor_2d(1, TERN_DT_FP32, n, n);

	b.offset = n * n * sizeof(float);
	ASSERT_EQ(0, tern_prog_create(d->info.sbuf_size, p)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_op_matmul(*p, &c, &a, &b)) TH_LOG("%s", tern_last_error());
	ASSERT_EQ(0, tern_prog_finish(*p, img, size)) TH_LOG("%s", tern_last_error());
}

static void expect_ok_status(struct __test_metadata *_metadata, struct exec_dev *d)
{
	struct tern_job_status *st = exec_status(d);

	EXPECT_EQ((uint32_t)TERN_JOB_OK, st->status);
	EXPECT_EQ((uint32_t)TERN_CERR_NONE, st->error);
	EXPECT_LT(0, st->cycles);
}

TEST(relu_and_matmul_on_every_core_of_every_device)
{
	int ndev = tern_expected_devices();
	uint32_t status, code;

	ASSERT_LE(1, ndev);
	for (int i = 0; i < ndev; i++) {
		struct exec_dev d;
		struct tern_program *relu, *mm;
		const void *relu_img, *mm_img;
		size_t relu_size, mm_size;
		struct drm_tern_slot slots[2];
		struct drm_tern_exec e;
		const uint64_t n = 64;
		uint64_t seed = tern_seed() + i;

		exec_dev_open(_metadata, &d, i);
		build_relu(_metadata, &d, &relu, &relu_img, &relu_size);
		build_matmul(_metadata, &d, n, &mm, &mm_img, &mm_size);

		for (uint32_t c = 0; c < d.info.num_cores; c++) {
			float *in = d.in_map, *out = d.out_map;
			uint64_t psize;

			/* relu: inputs of both signs */
			for (unsigned int k = 0; k < ROWS * COLS; k++)
				in[k] = (float)((int)(tern_pattern_word(seed + c, k) % 2001) - 1000) /
					8.0f;
			memset(out, 0x7f, TENSOR_BYTES);
			psize = exec_load(&d, relu_img, relu_size);
			exec_args(&d, &e, slots, c, psize);
			ASSERT_EQ(0, exec_run(&d, &e, &status, &code))
				TH_LOG("device %d core %u", i, c);
			ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status)
				TH_LOG("device %d core %u: status %u code %u", i, c, status, code);
			EXPECT_NE(0, e.job_id);
			expect_ok_status(_metadata, &d);
			for (unsigned int k = 0; k < ROWS * COLS; k++) {
				float ref = in[k] > 0 ? in[k] : 0.0f;

				ASSERT_EQ(0, memcmp(&ref, &out[k], sizeof(ref)))
					TH_LOG("device %d core %u relu element %u: %f, expected %f",
					       i, c, k, out[k], ref);
			}

			/* matmul of small integers: exact in fp32 */
			for (unsigned int k = 0; k < 2 * n * n; k++)
				in[k] = (float)((int)(tern_pattern_word(seed + 7 * c, k) % 5) - 2);
			memset(out, 0, n * n * sizeof(float));
			psize = exec_load(&d, mm_img, mm_size);
			exec_args(&d, &e, slots, c, psize);
			ASSERT_EQ(0, exec_run(&d, &e, &status, &code));
			ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status)
				TH_LOG("device %d core %u: status %u code %u", i, c, status, code);
			expect_ok_status(_metadata, &d);
			for (uint64_t r = 0; r < n; r++) {
				for (uint64_t col = 0; col < n; col++) {
					float ref = 0;

					for (uint64_t k = 0; k < n; k++)
						ref += in[r * n + k] * in[n * n + k * n + col];
					ASSERT_EQ(ref, out[r * n + col])
						TH_LOG("device %d core %u C[%llu][%llu]", i, c,
						       (unsigned long long)r,
						       (unsigned long long)col);
				}
			}
		}
		tern_prog_free(relu);
		tern_prog_free(mm);
		exec_dev_close(&d);
	}
}

FIXTURE(exec) {
	struct exec_dev d;
	struct hand_prog hp;
	struct drm_tern_slot slots[2];
	struct drm_tern_exec e;
};

FIXTURE_SETUP(exec)
{
	exec_dev_open(_metadata, &self->d, 0);
	/* A valid program by default: the rejections below change one field. */
	exec_args(&self->d, &self->e, self->slots, 0,
		  exec_load(&self->d, &self->hp, hand_prog_nop(&self->hp)));
}

FIXTURE_TEARDOWN(exec)
{
	exec_dev_close(&self->d);
}

static void expect_next_job_ok(struct __test_metadata *_metadata, struct exec_dev *d,
			       uint32_t core)
{
	struct drm_tern_slot slots[2];
	struct drm_tern_exec e;
	struct hand_prog hp;
	uint32_t status = 99, code = 99;

	exec_args(d, &e, slots, core, exec_load(d, &hp, hand_prog_nop(&hp)));
	ASSERT_EQ(0, exec_run(d, &e, &status, &code));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	expect_ok_status(_metadata, d);
}

TEST_F(exec, nop_program_counts)
{
	uint64_t sub0 = tern_sysfs_u64(self->d.minor, "jobs_submitted");
	uint64_t done0 = tern_sysfs_u64(self->d.minor, "jobs_completed");
	uint32_t status = 99, code = 99;

	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	EXPECT_EQ(0, code);
	EXPECT_EQ(2, exec_status(&self->d)->insns[TERN_ENGINE_VECTOR]);
	EXPECT_LE(sub0 + 1, tern_sysfs_u64(self->d.minor, "jobs_submitted"));
	EXPECT_LE(done0 + 1, tern_sysfs_u64(self->d.minor, "jobs_completed"));
}

TEST_F(exec, no_status_buffer)
{
	uint32_t status = 99;

	self->e.status_handle = 0;
	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
	/* Nothing was written into the status buffer. */
	EXPECT_EQ(0xa5a5a5a5u, exec_status(&self->d)->status);
}

TEST_F(exec, illegal_opcode_faults_and_core_goes_on)
{
	struct tern_job_status *st = exec_status(&self->d);
	uint64_t failed0 = tern_sysfs_u64(self->d.minor, "jobs_failed");
	uint32_t status = 99, code = 99;
	size_t size;

	for (uint32_t c = 0; c < self->d.info.num_cores; c++) {
		size = hand_prog_init(&self->hp, TERN_ENGINE_VECTOR, 3, 0);
		self->hp.insn[0].h.opcode = TERN_OP_NOP;
		self->hp.insn[1].h.opcode = 0x7f;
		self->hp.insn[2].h.opcode = TERN_OP_END;
		exec_args(&self->d, &self->e, self->slots, c,
			  exec_load(&self->d, &self->hp, size));
		ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
		EXPECT_EQ((uint32_t)DRM_TERN_JOB_FAULT, status);
		EXPECT_EQ((uint32_t)TERN_CERR_ILLEGAL_OPCODE, code);
		EXPECT_EQ((uint32_t)TERN_JOB_FAULT, st->status);
		EXPECT_EQ((uint32_t)TERN_CERR_ILLEGAL_OPCODE, st->error);
		EXPECT_EQ((uint32_t)TERN_ENGINE_VECTOR, st->engine);
		EXPECT_EQ(1, st->index);
		expect_next_job_ok(_metadata, &self->d, c);
	}
	EXPECT_LE(failed0 + self->d.info.num_cores, tern_sysfs_u64(self->d.minor, "jobs_failed"));
}

TEST_F(exec, deadlock_faults)
{
	struct tern_job_status *st = exec_status(&self->d);
	uint32_t status = 99, code = 99;
	size_t size;

	/* The vector engine waits for semaphore 0 to reach 1; nobody signals. */
	size = hand_prog_init(&self->hp, TERN_ENGINE_VECTOR, 2, 1);
	self->hp.insn[0].h.opcode = TERN_OP_WAIT;
	self->hp.insn[0].h.sync = TERN_SYNC_WAIT;
	self->hp.insn[0].h.wait_sem = 0;
	self->hp.insn[0].h.wait_value = 1;
	self->hp.insn[1].h.opcode = TERN_OP_END;
	self->e.program_size = exec_load(&self->d, &self->hp, size);
	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_FAULT, status);
	EXPECT_EQ((uint32_t)TERN_CERR_DEADLOCK, code);
	EXPECT_EQ((uint32_t)TERN_JOB_FAULT, st->status);
	EXPECT_EQ((uint32_t)TERN_CERR_DEADLOCK, st->error);
	expect_next_job_ok(_metadata, &self->d, 0);
}

TEST_F_TIMEOUT(exec, timeout_aborts_only_that_job, 300)
{
	struct tern_job_status *st = exec_status(&self->d);
	/* About a billion multiply-adds: far longer than the timeout below. */
	uint64_t n = 1024, psize;
	struct tern_program *p;
	uint32_t in2, out2;
	uint32_t status = 99, code = 99;
	const void *img;
	size_t size;

	/* A big matmul: its own buffers, slot 0 = A then B, slot 1 = C. */
	ASSERT_EQ(0, tern_bo_create(self->d.fd, 2 * n * n * 4, DRM_TERN_BO_DEVICE, &in2));
	ASSERT_EQ(0, tern_bo_create(self->d.fd, n * n * 4, DRM_TERN_BO_DEVICE, &out2));
	build_matmul(_metadata, &self->d, n, &p, &img, &size);
	ASSERT_GE(PROG_BO_SIZE, size);
	psize = exec_load(&self->d, img, size);
	exec_args(&self->d, &self->e, self->slots, 0, psize);
	self->slots[0].handle = in2;
	self->slots[0].size = 2 * n * n * 4;
	self->slots[1].handle = out2;
	self->slots[1].size = n * n * 4;
	self->e.timeout_ns = 1000;
	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_TIMEOUT, status)
		TH_LOG("code %u, job took %llu ns", code, (unsigned long long)st->wall_ns);
	EXPECT_EQ((uint32_t)TERN_JOB_ABORTED, st->status);
	tern_prog_free(p);
	expect_next_job_ok(_metadata, &self->d, 0);
}

/* ---- launch descriptors the chip rejects (debugfs inject_launch) ---- */

/* Writes @d to inject_launch of @minor: bytes written or -errno. */
static ssize_t inject_launch(unsigned int minor, const struct tern_launch_desc *d, size_t len)
{
	return tern_debugfs_write(minor, "inject_launch", d, len);
}

/* A valid descriptor for the NOP program in d->prog, no slots. */
static struct tern_launch_desc injected_nop(struct __test_metadata *_metadata,
					    struct exec_dev *d)
{
	struct tern_launch_desc ld = { 0 };
	struct drm_tern_bo_info info;
	struct hand_prog hp;

	memset(&info, 0, sizeof(info));
	info.handle = d->prog;
	EXPECT_EQ(0, tern_bo_info(d->fd, d->prog, &info));
	ld.prog_addr = info.device_addr;
	ld.prog_size = (uint32_t)exec_load(d, &hp, hand_prog_nop(&hp));
	ld.slot_addr = info.device_addr;
	return ld;
}

/*
 * Every way a launch descriptor can be wrong halts core 0's ring with a
 * device error; the driver fails that job (-EIO, or -EFAULT for an MMU
 * fault), resumes the ring after it, and the next job on the core runs.
 */
TEST_F(exec, injected_bad_launch_descriptors_halt_and_recover)
{
	struct tern_launch_desc good = injected_nop(_metadata, &self->d);
	uint64_t hbm = self->d.info.hbm_size;
	struct {
		const char *what;
		struct tern_launch_desc d;
		int err;
	} cases[] = {
		{ "context not enabled", good, -EFAULT },
		{ "reserved1 set", good, -EIO },
		{ "unknown flag", good, -EIO },
		{ "program size 0", good, -EIO },
		{ "program size above the maximum", good, -EIO },
		{ "slot count above the maximum", good, -EIO },
		{ "program outside the HBM", good, -EIO },
		{ "program runs past the HBM end", good, -EIO },
		{ "slot table outside the HBM", good, -EIO },
		{ "PHYS flag in context 0", good, -EIO },
		{ "context out of range", good, -EFAULT },
	};
	uint64_t errors0, failed0;
	unsigned int i;
	ssize_t n;

	/* No test opens 63 files at once: the last context is off. */
	cases[0].d.ctx = TERN_MAX_CONTEXTS - 1;
	cases[1].d.reserved1 = 1;
	cases[2].d.flags = 1u << 9;
	cases[3].d.prog_size = 0;
	cases[4].d.prog_size = TERN_LAUNCH_PROG_MAX + 64;
	cases[5].d.slot_count = TERN_LAUNCH_MAX_SLOTS + 1;
	cases[6].d.prog_addr = hbm;
	cases[7].d.prog_addr = hbm - 64;
	cases[7].d.prog_size = 128;
	cases[8].d.slot_count = 2;
	cases[8].d.slot_addr = hbm - 16;
	cases[9].d.flags = TERN_LAUNCH_F_SLOTS_PHYS;
	cases[10].d.ctx = TERN_MAX_CONTEXTS;

	/* The unchanged descriptor runs: the path itself works. */
	n = inject_launch(self->d.minor, &good, sizeof(good));
	ASSERT_EQ((ssize_t)sizeof(good), n) TH_LOG("%s", n < 0 ? strerror(-n) : "short");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		errors0 = tern_sysfs_u64(self->d.minor, "device_errors");
		failed0 = tern_sysfs_u64(self->d.minor, "jobs_failed");
		n = inject_launch(self->d.minor, &cases[i].d, sizeof(cases[i].d));
		EXPECT_EQ(cases[i].err, n) TH_LOG("%s: write returned %zd", cases[i].what, n);
		EXPECT_EQ(errors0 + 1, tern_sysfs_u64(self->d.minor, "device_errors"))
			TH_LOG("%s", cases[i].what);
		EXPECT_EQ(failed0 + 1, tern_sysfs_u64(self->d.minor, "jobs_failed"))
			TH_LOG("%s", cases[i].what);
		expect_next_job_ok(_metadata, &self->d, 0);
	}
	/* Only whole descriptors are taken. */
	EXPECT_EQ(-EINVAL, inject_launch(self->d.minor, &good, sizeof(good) - 1));
}

/* ---- profiles (DRM_TERN_EXEC_PROFILE) ---- */

#define EXPECT_REJECT(err)							\
	EXPECT_EQ(-(err), tern_ioctl(self->d.fd, DRM_IOCTL_TERN_EXEC, &self->e))

#define PROFILE_OFFSET	(DATA_BO_SIZE / 2)

/* Ask for a profile into the second half of d->out. */
static void exec_profile_args(struct __test_metadata *_metadata, struct exec_dev *d,
			      struct drm_tern_exec *e, uint64_t size)
{
	if (!(d->info.caps & TERN_CAP_PROFILE))
		SKIP(return, "the chip has no TERN_CAP_PROFILE");
	e->flags = DRM_TERN_EXEC_PROFILE;
	e->profile.handle = d->out;
	e->profile.offset = PROFILE_OFFSET;
	e->profile.size = size;
}

static const struct tern_prof_header *exec_profile(struct exec_dev *d)
{
	return (const struct tern_prof_header *)((const char *)d->out_map + PROFILE_OFFSET);
}

/*
 * The profile of relu has one record per completed instruction, in the
 * order the core ran them, with each engine's record costs adding up to
 * its busy cycles in the job status.
 */
TEST_F(exec, profile_records_every_instruction)
{
	const struct tern_prof_header *h = exec_profile(&self->d);
	const struct tern_prof_rec *r = (const void *)(h + 1);
	uint64_t busy[TERN_NUM_ENGINES] = { 0 }, last_start = 0, end_max = 0;
	uint32_t insns[TERN_NUM_ENGINES] = { 0 }, total = 0;
	struct tern_job_status *st = exec_status(&self->d);
	uint32_t status = 99, code = 99;
	struct tern_program *p;
	const void *img;
	size_t size;

	exec_profile_args(_metadata, &self->d, &self->e, PROFILE_OFFSET);
	build_relu(_metadata, &self->d, &p, &img, &size);
	self->e.program_size = exec_load(&self->d, img, size);
	tern_prog_free(p);
	memset((char *)self->d.out_map + PROFILE_OFFSET, 0xa5, PROFILE_OFFSET);
	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	expect_ok_status(_metadata, &self->d);

	ASSERT_EQ(TERN_PROF_MAGIC, h->magic);
	EXPECT_EQ((uint32_t)TERN_PROF_VERSION, h->version);
	EXPECT_EQ((uint32_t)TERN_PROF_REC_SIZE, h->rec_size);
	EXPECT_EQ(0, h->dropped);
	EXPECT_EQ(st->cycles, h->cycles);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++)
		total += st->insns[e];
	ASSERT_EQ(total, h->count);
	for (uint32_t i = 0; i < h->count; i++, r++) {
		ASSERT_GT(TERN_NUM_ENGINES, r->engine) TH_LOG("record %u", i);
		EXPECT_LE(r->ready, r->start) TH_LOG("record %u", i);
		EXPECT_LT(r->start, r->end) TH_LOG("record %u", i);
		EXPECT_LE(last_start, r->start) TH_LOG("record %u: out of order", i);
		EXPECT_EQ(insns[r->engine], r->index) TH_LOG("record %u", i);
		if (r->opcode == TERN_OP_DMA_LOAD || r->opcode == TERN_OP_DMA_STORE) {
			EXPECT_NE(0, r->bytes) TH_LOG("record %u", i);
		} else {
			EXPECT_EQ(0, r->bytes) TH_LOG("record %u", i);
		}
		last_start = r->start;
		busy[r->engine] += r->end - r->start;
		insns[r->engine]++;
		if (r->end > end_max)
			end_max = r->end;
	}
	EXPECT_EQ(st->cycles, end_max);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		EXPECT_EQ(st->busy[e], busy[e]) TH_LOG("engine %u", e);
		EXPECT_EQ(st->insns[e], insns[e]) TH_LOG("engine %u", e);
	}
	/* relu loads, activates and stores: three engines at least */
	EXPECT_NE(0, insns[TERN_ENGINE_DMA]);
	EXPECT_NE(0, insns[TERN_ENGINE_SCALAR]);
}

/* A buffer with room for one record of the two keeps one and counts the other. */
TEST_F(exec, profile_counts_dropped_records)
{
	const struct tern_prof_header *h = exec_profile(&self->d);
	uint32_t status = 99, code = 99;

	exec_profile_args(_metadata, &self->d, &self->e,
			  TERN_PROF_HEADER_SIZE + 1 * TERN_PROF_REC_SIZE);
	memset((char *)self->d.out_map + PROFILE_OFFSET, 0xa5, 4096);
	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, &code));
	ASSERT_EQ((uint32_t)DRM_TERN_JOB_OK, status) TH_LOG("code %u", code);
	ASSERT_EQ(TERN_PROF_MAGIC, h->magic);
	EXPECT_EQ(1, h->count);
	EXPECT_EQ(1, h->dropped);	/* NOP, END */
	/* Nothing past the buffer was written. */
	EXPECT_EQ(0xa5, ((unsigned char *)h)[TERN_PROF_HEADER_SIZE + TERN_PROF_REC_SIZE]);
}

TEST_F(exec, reject_profile_no_handle)
{
	exec_profile_args(_metadata, &self->d, &self->e, 4096);
	self->e.profile.handle = 0xdead;
	EXPECT_REJECT(ENOENT);
}
TEST_F(exec, reject_profile_host_bo)
{
	exec_profile_args(_metadata, &self->d, &self->e, 4096);
	self->e.profile.handle = self->d.host;
	self->e.profile.offset = 0;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_profile_pad)
{
	exec_profile_args(_metadata, &self->d, &self->e, 4096);
	self->e.profile.pad = 1;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_profile_size_below_header)
{
	exec_profile_args(_metadata, &self->d, &self->e, TERN_PROF_HEADER_SIZE - 1);
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_profile_offset_unaligned)
{
	exec_profile_args(_metadata, &self->d, &self->e, 4096);
	self->e.profile.offset += 32;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_profile_outside_bo)
{
	exec_profile_args(_metadata, &self->d, &self->e, PROFILE_OFFSET + 64);
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_profile_offset_overflow)
{
	exec_profile_args(_metadata, &self->d, &self->e, 4096);
	self->e.profile.offset = ~0ull - 63;
	EXPECT_REJECT(EINVAL);
}

/* ---- rejected fields: one test each ---- */

TEST_F(exec, valid_baseline_accepted)
{
	uint32_t status = 99;

	ASSERT_EQ(0, exec_run(&self->d, &self->e, &status, NULL));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_OK, status);
}

TEST_F(exec, reject_flags) { self->e.flags = 1u << 1; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_flags_high) { self->e.flags = 1u << 31; EXPECT_REJECT(EINVAL); }
/* Without DRM_TERN_EXEC_PROFILE the profile range must be all zero. */
TEST_F(exec, reject_profile_handle_unflagged) { self->e.profile.handle = self->d.out; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_profile_pad_unflagged) { self->e.profile.pad = 1; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_profile_offset_unflagged) { self->e.profile.offset = 64; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_profile_size_unflagged) { self->e.profile.size = 4096; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_core) { self->e.core = self->d.info.num_cores; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_core_huge) { self->e.core = ~0u; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_program_no_handle) { self->e.program_handle = 0xdead; EXPECT_REJECT(ENOENT); }
TEST_F(exec, reject_program_host_bo) { self->e.program_handle = self->d.host; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_program_offset_unaligned) { self->e.program_offset = 8; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_program_size_unaligned) { self->e.program_size = 96; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_program_size_zero) { self->e.program_size = 0; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_program_size_too_big)
{
	self->e.program_size = (1ull << 30) + 64;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_program_outside_bo)
{
	self->e.program_offset = PROG_BO_SIZE - 64;
	self->e.program_size = 128;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_program_offset_overflow)
{
	self->e.program_offset = ~(uint64_t)63;
	self->e.program_size = 128;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_slot_count) { self->e.slot_count = DRM_TERN_MAX_SLOTS + 1; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_slots_fault) { self->e.slots = 8; EXPECT_REJECT(EFAULT); }
TEST_F(exec, reject_slot_no_handle) { self->slots[1].handle = 0xdead; EXPECT_REJECT(ENOENT); }
TEST_F(exec, reject_slot_host_bo) { self->slots[0].handle = self->d.host; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_slot_pad) { self->slots[0].pad = 1; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_slot_size_zero) { self->slots[1].size = 0; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_slot_outside_bo)
{
	self->slots[1].offset = 64;
	self->slots[1].size = DATA_BO_SIZE;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_slot_overflow)
{
	self->slots[0].offset = ~(uint64_t)0;
	self->slots[0].size = 2;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_status_no_handle) { self->e.status_handle = 0xdead; EXPECT_REJECT(ENOENT); }
TEST_F(exec, reject_status_device_bo) { self->e.status_handle = self->d.in; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_status_offset_unaligned) { self->e.status_offset = 4; EXPECT_REJECT(EINVAL); }
TEST_F(exec, reject_status_does_not_fit)
{
	self->e.status_offset = STATUS_BO_SIZE - 64;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_status_offset_overflow)
{
	self->e.status_offset = ~(uint64_t)7;
	EXPECT_REJECT(EINVAL);
}
TEST_F(exec, reject_out_syncobj) { self->e.out_syncobj = 0xdead; EXPECT_REJECT(ENOENT); }
TEST_F(exec, reject_out_point_without_syncobj)
{
	self->e.out_syncobj = 0;
	self->e.out_point = 1;
	EXPECT_REJECT(EINVAL);
}

TEST_HARNESS_MAIN
