// SPDX-License-Identifier: MIT
/*
 * tern_fuzz: a guest fuzzer of the driver's user interface
 * (Documentation/reliability.rst, "Guest fuzzer"). Worker processes
 * (fork) call every DRM_IOCTL_TERN_* and the DRM core ioctls tern uses
 * (GEM close, syncobj create/destroy/wait/signal/reset, PRIME export and
 * import, also across the two chips), mmap buffers and user-queue
 * doorbells at random offsets, lengths and protections and touch them,
 * write random descriptors into user-queue rings and ring their doorbells,
 * and send io_uring IORING_OP_URING_CMD SQEs filled by hand. Arguments mix
 * valid handles, offsets and sizes with boundary and garbage values; valid
 * jobs (a DMA round trip and a launch, data verified) run in between. The
 * parent SIGKILLs random workers and restarts them.
 *
 * Failures: an errno outside the documented set, a valid job that does not
 * complete with the right data, a worker that dies of a signal the parent
 * did not send, a hang (the harness timeout), counts that do not return to
 * their baseline, or a device that no longer works afterwards. A kernel
 * WARN/oops fails the run in the VM runner (taint).
 *
 * TERN_FUZZ_SEED replays a run's operation streams (the kill times follow
 * the seed too, but land where the workers' speed puts them);
 * TERN_FUZZ_TIME sets its length in seconds (default 60);
 * TERN_FUZZ_WORKERS the number of workers (default 3).
 */
#include <setjmp.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_copy_prog.h"
#include "tern_stress.h"

#include "tern_fuzz_ops.h"

/* ---- mappings: touched under a SIGSEGV/SIGBUS guard ---- */

static sigjmp_buf fz_jmp;
static volatile sig_atomic_t fz_guarded;

static void fz_on_fault(int sig)
{
	if (!fz_guarded) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(fz_jmp, sig);
}

static void fz_touch(struct fz_worker *w, volatile unsigned char *p, uint64_t len, int prot)
{
	uint64_t off[3] = { 0, len - 1, st_below(&w->r, len) };

	for (volatile int i = 0; i < 3; i++) {
		fz_guarded = 1;
		if (!sigsetjmp(fz_jmp, 1)) {
			if (prot & PROT_READ)
				(void)p[off[i]];
			if (prot & PROT_WRITE && w->r.s & 1)
				p[off[i]] = (unsigned char)st_next(&w->r);
		} else {
			__atomic_add_fetch(&stats->sigs_caught, 1, __ATOMIC_RELAXED);
		}
		fz_guarded = 0;
	}
}

static int fz_prot(struct st_rng *r)
{
	static const int p[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_WRITE, PROT_NONE,
				 PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC };

	return p[st_below(r, 6)];
}

static void fz_map(struct fz_worker *w, struct fz_dev *d, int op, uint64_t base, uint64_t size)
{
	uint64_t off = base, len;
	int prot = fz_prot(&w->r), flags = st_one_in(&w->r, 6) ? MAP_PRIVATE : MAP_SHARED;
	void *m;

	switch (st_below(&w->r, 5)) {
	case 0: off = base + st_below(&w->r, size / 4096 + 2) * 4096; break;
	case 1: off = base - 4096 * (1 + st_below(&w->r, 4)); break;
	case 2: off = st_below(&w->r, 1ull << 40) & ~4095ull; break;
	default: break;
	}
	len = st_one_in(&w->r, 4) ? 4096 * (1 + st_below(&w->r, 64)) :
	      size ? 1 + st_below(&w->r, size + 8192) : 4096;
	if (st_one_in(&w->r, 12)) {
		flags |= MAP_FIXED_NOREPLACE;
		m = (void *)(uintptr_t)0x7e0000000000ull;
	} else {
		m = NULL;
	}
	m = mmap(m, len, prot, flags, d->fd, (off_t)off);
	fz_note(w, op, m == MAP_FAILED ? -errno : 0, NULL);
	if (m == MAP_FAILED)
		return;
	if (st_one_in(&w->r, 4) && len > 4096)
		mprotect(m, 4096, fz_prot(&w->r));
	else
		fz_touch(w, m, len, prot);
	if (st_one_in(&w->r, 6) && len > 8192) {
		void *n = mremap(m, len, len / 2, 0);

		if (n != MAP_FAILED)
			len /= 2;
	}
	munmap(m, len);
}

static void op_mmap_bo(struct fz_worker *w, struct fz_dev *d)
{
	struct fz_bo *b = fz_pick_bo(w, d, 0);

	fz_map(w, d, OP_MMAP_BO, b ? b->mmap_off : fz_u64(&w->r), b ? b->size : 4096);
}

static void op_mmap_doorbell(struct fz_worker *w, struct fz_dev *d)
{
	uint64_t off = d->nq ? d->q[st_below(&w->r, d->nq)].db_off : fz_u64(&w->r) & ~4095ull;

	fz_map(w, d, OP_MMAP_DOORBELL, off, 4096);
}

/* Random descriptors (mostly copies between pool VAs) into a ring, doorbell at a random tail. */
static void op_uq_ring(struct fz_worker *w, struct fz_dev *d)
{
	volatile uint32_t *db;
	int i, ret;
	uint32_t n, tail;

	if (!d->nq)
		return;
	i = (int)st_below(&w->r, d->nq);
	if (d->q[i].ring) {
		n = (uint32_t)st_below(&w->r, 4);
		for (uint32_t k = 0; k < n; k++) {
			struct fz_bo *s = fz_pick_bo(w, d, 0), *t = fz_pick_bo(w, d, 0);
			struct tern_dma_desc desc = {
				.opcode = st_one_in(&w->r, 8) ? fz_u32(&w->r) : TERN_DESC_OP_COPY,
				.flags = st_one_in(&w->r, 4) ? fz_u32(&w->r) & TERN_DESC_F_ALL : 0,
				.src = s ? s->va + fz_in(&w->r, s->size) % (s->size + 1) : fz_u64(&w->r),
				.dst = t ? t->va + fz_in(&w->r, t->size) % (t->size + 1) : fz_u64(&w->r),
				.size = st_one_in(&w->r, 4) ? fz_u64(&w->r) : 1 + st_below(&w->r, 8192),
				.ctx = (uint32_t)fz_zero(&w->r),
			};

			memcpy((char *)d->q[i].ring + st_below(&w->r, d->q[i].entries) * 64, &desc,
			       sizeof(desc));
		}
	}
	db = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, d->fd, (off_t)d->q[i].db_off);
	ret = db == MAP_FAILED ? -errno : 0;
	fz_note(w, OP_UQ_RING, ret, NULL);
	if (ret)
		return;
	tail = st_one_in(&w->r, 6) ? fz_u32(&w->r) : (uint32_t)st_below(&w->r, d->q[i].entries);
	fz_guarded = 1;
	if (!sigsetjmp(fz_jmp, 1)) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		*db = tail;
	}
	else
		__atomic_add_fetch(&stats->sigs_caught, 1, __ATOMIC_RELAXED);
	fz_guarded = 0;
	munmap((void *)db, 4096);
}

/* ---- io_uring: IORING_OP_URING_CMD SQEs filled by hand (liburing 2.3 has no helper) ---- */

#define FZ_RING_FLAGS	(IORING_SETUP_SQE128 | IORING_SETUP_CQE32)

static void fz_ring_reset(struct fz_worker *w)
{
	struct io_uring_params p;

	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);	/* cancels what is still pending */
	memset(&p, 0, sizeof(p));
	/* now and then a ring without 128-byte SQEs: every command is refused */
	p.flags = st_one_in(&w->r, 10) ? 0 : FZ_RING_FLAGS;
	w->ring_ok = !io_uring_queue_init_params(32, &w->ring, &p);
}

static void fz_reap(struct fz_worker *w)
{
	struct io_uring_cqe *c;

	while (w->ring_ok && !io_uring_peek_cqe(&w->ring, &c)) {
		fz_note(w, OP_URING, c->res > 0 ? 0 : c->res, "CQE");
		io_uring_cqe_seen(&w->ring, c);
	}
}

static void op_uring(struct fz_worker *w, struct fz_dev *d)
{
	static struct drm_tern_exec e;
	static struct drm_tern_slot slots[DRM_TERN_MAX_SLOTS + 4];
	unsigned char cmd[80];
	struct io_uring_sqe *sqe;
	struct __kernel_timespec ts = { .tv_nsec = st_below(&w->r, FZ_WAIT_NS) };
	struct io_uring_cqe *c;
	uint32_t op = 1 + (uint32_t)st_below(&w->r, 3);
	size_t len;
	int ret;

	if (!w->ring_ok || st_one_in(&w->r, 40))
		fz_ring_reset(w);
	if (!w->ring_ok)
		return;
	memset(cmd, 0, sizeof(cmd));
	if (op == DRM_TERN_URING_SUBMIT) {
		struct drm_tern_submit s;

		fz_submit_args(w, d, &s);
		memcpy(cmd, &s, sizeof(s));
	} else if (op == DRM_TERN_URING_EXEC) {
		struct drm_tern_uring_exec x = { .exec = (uintptr_t)&e };

		fz_exec_args(w, d, &e, slots);
		if (st_one_in(&w->r, 16))
			x.exec = fz_u64(&w->r);
		x.reserved[st_below(&w->r, 3)] = fz_zero(&w->r);
		memcpy(cmd, &x, sizeof(x));
	} else {
		struct drm_tern_uring_wait x = {
			.syncobj = fz_sync(w, d),
			.flags = (uint32_t)fz_zero(&w->r),
			.point = st_one_in(&w->r, 2) ? 0 : st_below(&w->r, 1000),
		};

		x.reserved[st_below(&w->r, 2)] = fz_zero(&w->r);
		memcpy(cmd, &x, sizeof(x));
	}
	if (st_one_in(&w->r, 8))
		cmd[st_below(&w->r, sizeof(cmd))] = (unsigned char)st_next(&w->r);
	if (st_one_in(&w->r, 16))
		op = fz_u32(&w->r);
	sqe = io_uring_get_sqe(&w->ring);
	if (!sqe) {
		fz_ring_reset(w);
		return;
	}
	len = w->ring.flags & IORING_SETUP_SQE128 ? 128 : 64;
	memset(sqe, 0, len);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = st_one_in(&w->r, 20) ? (int)fz_u32(&w->r) : d->fd;
	sqe->cmd_op = op;
	sqe->user_data = st_next(&w->r);
	if (st_one_in(&w->r, 20))
		sqe->uring_cmd_flags = fz_u32(&w->r);
	memcpy(sqe->cmd, cmd, len == 128 ? sizeof(cmd) : 16);
	ret = io_uring_submit(&w->ring);
	fz_note(w, OP_URING, ret < 0 ? ret : 0, "submit");
	if (!io_uring_wait_cqe_timeout(&w->ring, &c, &ts)) {
		fz_note(w, OP_URING, c->res > 0 ? 0 : c->res, "CQE");
		io_uring_cqe_seen(&w->ring, c);
	}
	fz_reap(w);
}

/* Any driver ioctl number, direction and size, with garbage in it. */
static void op_raw_ioctl(struct fz_worker *w, struct fz_dev *d)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE };
	unsigned char buf[512];
	unsigned long req;
	unsigned int nr = DRM_COMMAND_BASE + (unsigned int)st_below(&w->r, 0x20);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = st_one_in(&w->r, 2) ? 0 : (unsigned char)st_next(&w->r);
	req = _IOC(dirs[st_below(&w->r, 4)], DRM_IOCTL_BASE, nr, st_below(&w->r, sizeof(buf)));
	fz_note(w, OP_RAW_IOCTL, tern_ioctl(d->fd, req, st_one_in(&w->r, 16) ? NULL : buf), NULL);
}

/* A forked child may not use its parent's file: -EACCES. */
static void op_fork_use(struct fz_worker *w, struct fz_dev *d)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct drm_tern_info info;

		memset(&info, 0, sizeof(info));
		_exit(tern_ioctl(d->fd, DRM_IOCTL_TERN_GET_INFO, &info) == -EACCES ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return;
	fz_note(w, OP_FORK_USE, 0, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fz_bad(w, OP_FORK_USE, "a child used its parent's file (status 0x%x)", status);
}

static int fz_open(unsigned int minor)
{
	char node[64];

	snprintf(node, sizeof(node), "/dev/accel/accel%u", minor);
	return open(node, O_RDWR | O_CLOEXEC);
}

/* Close the file with everything in it (jobs, queues, maps) and open it again. */
static void op_reopen(struct fz_worker *w, struct fz_dev *d)
{
	for (int i = 0; i < d->nq; i++)
		fz_q_unmap(d, i);
	if (w->ring_ok && st_one_in(&w->r, 2)) {
		io_uring_queue_exit(&w->ring);
		w->ring_ok = 0;
	}
	close(d->fd);
	d->nbo = d->nsync = d->nq = 0;
	d->fd = fz_open(d->minor);
	fz_note(w, OP_REOPEN, d->fd < 0 ? -errno : 0, NULL);
	if (d->fd < 0)
		_exit(3);
}

/* ---- valid jobs on the worker's clean file, data verified ---- */

#define FZ_VALID_BYTES	(64u << 10)

/* A BO created and mapped whole: 0 or -1. */
static int fz_alloc(int fd, uint64_t size, uint32_t domain, uint32_t *h, void **p)
{
	if (tern_bo_create(fd, size, domain, h))
		return -1;
	*p = tern_bo_mmap(fd, *h, size);
	return *p == MAP_FAILED ? -1 : 0;
}

static int fz_clean_setup(struct fz_dev *d)
{
	void *pp;

	d->clean_fd = fz_open(d->minor);
	if (d->clean_fd < 0 || drmSyncobjCreate(d->clean_fd, 0, &d->c_tl))
		return -1;
	if (fz_alloc(d->clean_fd, FZ_VALID_BYTES, DRM_TERN_BO_HOST, &d->c_src, &d->c_srcp) ||
	    fz_alloc(d->clean_fd, FZ_VALID_BYTES, DRM_TERN_BO_HOST, &d->c_dst, &d->c_dstp) ||
	    tern_bo_create(d->clean_fd, FZ_VALID_BYTES, DRM_TERN_BO_DEVICE, &d->c_mid))
		return -1;
	if (!d->info.num_cores)
		return 0;
	if (fz_alloc(d->clean_fd, 4096, DRM_TERN_BO_DEVICE, &d->c_prog, &pp) ||
	    fz_alloc(d->clean_fd, 4096, DRM_TERN_BO_HOST, &d->c_status, &d->c_statusp) ||
	    tern_bo_create(d->clean_fd, CP_BYTES, DRM_TERN_BO_DEVICE, &d->c_tin) ||
	    tern_bo_create(d->clean_fd, CP_BYTES, DRM_TERN_BO_DEVICE, &d->c_tout))
		return -1;
	d->c_psize = (copy_prog_init(pp, 1) + 63) & ~63ull;
	munmap(pp, 4096);
	return 0;
}

/* Waits for the last point: 1 OK, 0 RESET (not at fault: not checked), -1 wrong. */
static int fz_clean_wait(struct fz_worker *w, struct fz_dev *d, const char *what)
{
	struct drm_tern_wait x;
	int ret = tern_wait_result(d->clean_fd, d->c_tl, d->c_point, 120ll * 1000000000, &x);

	if (ret) {
		fz_bad(w, OP_VALID, "%s on accel%u: WAIT %s", what, d->minor, strerror(-ret));
		return -1;
	}
	if (x.status == DRM_TERN_JOB_RESET) {
		__atomic_add_fetch(&stats->valid_reset, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (x.status != DRM_TERN_JOB_OK) {
		fz_bad(w, OP_VALID, "%s on accel%u: status %u error %u", what, d->minor, x.status,
		       x.error_code);
		return -1;
	}
	return 1;
}

static void op_valid(struct fz_worker *w, struct fz_dev *d)
{
	uint32_t q = (uint32_t)st_below(&w->r, d->info.num_queues);
	uint64_t seed = st_next(&w->r), n = FZ_VALID_BYTES;
	int64_t diff;
	int ret;

	fz_note(w, OP_VALID, 0, NULL);
	tern_fill(d->c_srcp, n, seed);
	memset(d->c_dstp, 0, n);
	ret = tern_submit_copy(d->clean_fd, q, d->c_mid, 0, d->c_src, 0, n, d->c_tl, ++d->c_point);
	if (!ret)
		ret = tern_submit_copy(d->clean_fd, q, d->c_dst, 0, d->c_mid, 0, n, d->c_tl,
				       ++d->c_point);
	if (ret) {
		fz_bad(w, OP_VALID, "SUBMIT on accel%u: %s", d->minor, strerror(-ret));
		return;
	}
	if (fz_clean_wait(w, d, "DMA round trip") != 1)
		return;
	diff = tern_first_diff(d->c_srcp, d->c_dstp, n);
	if (diff >= 0) {
		fz_bad(w, OP_VALID, "accel%u queue %u: copy differs at byte %lld", d->minor, q,
		       (long long)diff);
		return;
	}
	if (!d->info.num_cores)
		goto ok;
	{
		struct copy_exec ce;

		copy_exec_init(&ce, (uint32_t)st_below(&w->r, d->info.num_cores), d->c_prog,
			       d->c_psize, d->c_tin, d->c_tout);
		ce.e.status_handle = d->c_status;
		ce.e.out_syncobj = d->c_tl;

		/* DMA queues and cores do not wait for each other: one step at a time */
		memset(d->c_dstp, 0, n);
		ret = tern_submit_copy(d->clean_fd, q, d->c_tin, 0, d->c_src, 0, CP_BYTES, d->c_tl,
				       ++d->c_point);
		if (ret)
			goto err;
		if (fz_clean_wait(w, d, "copy to the launch's input") != 1)
			return;
		ce.e.out_point = ++d->c_point;
		ret = tern_ioctl(d->clean_fd, DRM_IOCTL_TERN_EXEC, &ce.e);
		if (ret)
			goto err;
		if (fz_clean_wait(w, d, "launch") != 1)
			return;
		ret = tern_submit_copy(d->clean_fd, q, d->c_dst, 0, d->c_tout, 0, CP_BYTES, d->c_tl,
				       ++d->c_point);
		if (ret)
			goto err;
		if (fz_clean_wait(w, d, "copy of the launch's output") != 1)
			return;
		diff = tern_first_diff(d->c_srcp, d->c_dstp, CP_BYTES);
		if (diff >= 0) {
			fz_bad(w, OP_VALID, "accel%u core %u: launch output differs at byte %lld",
			       d->minor, ce.e.core, (long long)diff);
			return;
		}
	}
ok:
	__atomic_add_fetch(&stats->valid_ok, 1, __ATOMIC_RELAXED);
	return;
err:
	fz_bad(w, OP_VALID, "launch on accel%u: %s", d->minor, strerror(-ret));
}

/* ---- a worker ---- */

typedef void (*fz_fn)(struct fz_worker *w, struct fz_dev *d);

static const struct { fz_fn fn; int weight; } fz_ops[FZ_NOPS] = {
	[OP_GET_INFO] = { op_get_info, 2 },	[OP_BO_CREATE] = { op_bo_create, 8 },
	[OP_BO_CREATE_BAD] = { op_bo_create_bad, 4 }, [OP_BO_INFO] = { op_bo_info, 4 },
	[OP_GEM_CLOSE] = { op_gem_close, 4 },	[OP_SUBMIT] = { op_submit, 12 },
	[OP_WAIT] = { op_wait, 6 },		[OP_EXEC] = { op_exec, 10 },
	[OP_QUEUE_CREATE] = { op_queue_create, 4 }, [OP_QUEUE_DESTROY] = { op_queue_destroy, 2 },
	[OP_QUEUE_QUERY] = { op_queue_query, 3 }, [OP_LINK_QUERY] = { op_link_query, 2 },
	[OP_SYNC_CREATE] = { op_sync_create, 3 }, [OP_SYNC_DESTROY] = { op_sync_destroy, 2 },
	[OP_SYNC_WAIT] = { op_sync_wait, 4 },	[OP_SYNC_SIGNAL] = { op_sync_signal, 3 },
	[OP_PRIME_EXPORT] = { op_prime_export, 3 }, [OP_PRIME_IMPORT] = { op_prime_import, 3 },
	[OP_MMAP_BO] = { op_mmap_bo, 8 },	[OP_MMAP_DOORBELL] = { op_mmap_doorbell, 4 },
	[OP_UQ_RING] = { op_uq_ring, 5 },	[OP_URING] = { op_uring, 10 },
	[OP_RAW_IOCTL] = { op_raw_ioctl, 4 },	[OP_FORK_USE] = { op_fork_use, 1 },
	[OP_REOPEN] = { op_reopen, 1 },		[OP_VALID] = { op_valid, 0 },
};

static int fz_pick_op(struct st_rng *r)
{
	int total = 0, i;
	int64_t x;

	for (i = 0; i < FZ_NOPS; i++)
		total += fz_ops[i].weight;
	x = (int64_t)st_below(r, total);
	for (i = 0; i < FZ_NOPS; i++) {
		x -= fz_ops[i].weight;
		if (x < 0)
			break;
	}
	return i;
}

static void __attribute__((noreturn)) fz_worker_main(int index, uint64_t seed, uint64_t end_ns)
{
	unsigned int minors[FZ_MAX_DEVS];
	struct sigaction sa = { .sa_handler = fz_on_fault };
	static struct fz_worker w;
	uint64_t it = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	memset(&w, 0, sizeof(w));
	w.index = index;
	st_rng_init(&w.r, seed);
	w.ndev = tern_minors(minors, FZ_MAX_DEVS);
	if (w.ndev <= 0)
		_exit(2);
	for (int i = 0; i < w.ndev; i++) {
		struct fz_dev *d = &w.dev[i];

		d->minor = minors[i];
		d->fd = fz_open(d->minor);
		if (d->fd < 0 || tern_get_info(d->fd, &d->info) || fz_clean_setup(d)) {
			fprintf(stderr, "# worker %d: cannot set up accel%u: %s\n", index, d->minor,
				strerror(errno));
			_exit(2);
		}
	}
	while (st_now_ns() < end_ns) {
		struct fz_dev *d = fz_dev_pick(&w);
		int op = ++it % FZ_VALID_EVERY ? fz_pick_op(&w.r) : OP_VALID;

		fz_ops[op].fn(&w, d);
		__atomic_add_fetch(&stats->iterations, 1, __ATOMIC_RELAXED);
	}
	fz_reap(&w);
	_exit(0);
}

/* ---- the test: workers, random kills, then leaks and a working device ---- */

static long fz_time_s(void)
{
	return st_env_long("TERN_FUZZ_TIME", FZ_DEFAULT_TIME);
}

static pid_t fz_spawn(int index, int gen, uint64_t seed, uint64_t end_ns)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		fz_worker_main(index, st_mix(seed ^ ((uint64_t)index << 32 | (uint32_t)gen)), end_ns);
	return pid;
}

TEST(fuzz)
{
	unsigned int minors[FZ_MAX_DEVS];
	struct st_counts base[FZ_MAX_DEVS];
	pid_t pid[FZ_MAX_WORKERS];
	int gen[FZ_MAX_WORKERS];
	uint64_t seed = st_seed_from_env("TERN_FUZZ_SEED"), t_start, end_ns, next_kill;
	uint64_t kills = 0, worst_kill_ns = 0, sum_kill_ns = 0, total_execs = 0, total_bad = 0;
	long secs = fz_time_s();
	int nworkers = (int)st_env_long("TERN_FUZZ_WORKERS", 3), ndev, deaths = 0, stragglers = 0;
	struct st_rng r;

	fz_huge_host = st_env_long("TERN_FUZZ_HUGE_HOST", 1) == 1;
	if (nworkers > FZ_MAX_WORKERS)
		nworkers = FZ_MAX_WORKERS;
	ndev = tern_minors(minors, FZ_MAX_DEVS);
	ASSERT_EQ(tern_expected_devices(), ndev);
	for (int i = 0; i < ndev; i++) {
		st_counts_get(minors[i], &base[i]);
		st_counts_log("baseline", minors[i], &base[i]);
	}
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	memset(stats, 0, sizeof(*stats));
	st_rng_init(&r, ~seed);
	fprintf(stderr, "# seed 0x%016llx (replay: TERN_FUZZ_SEED=0x%016llx), %ld s, %d workers, %d devices\n",
		(unsigned long long)seed, (unsigned long long)seed, secs, nworkers, ndev);

	t_start = st_now_ns();
	end_ns = t_start + (uint64_t)secs * 1000000000ull;
	for (int i = 0; i < nworkers; i++) {
		gen[i] = 0;
		pid[i] = fz_spawn(i, 0, seed, end_ns);
		ASSERT_LT(0, pid[i]);
	}
	next_kill = st_now_ns() + (100 + st_below(&r, 2900)) * 1000000ull;
	while (st_now_ns() < end_ns) {
		int status, i;
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p > 0) {	/* a worker ended on its own: only at the end, with status 0 */
			for (i = 0; i < nworkers && pid[i] != p; i++)
				;
			if (i == nworkers)
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				deaths++;
				fprintf(stderr, "# worker %d (generation %d) died: %s %d\n", i, gen[i],
					WIFSIGNALED(status) ? "signal" : "exit status",
					WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			}
			pid[i] = fz_spawn(i, ++gen[i], seed, end_ns);
			continue;
		}
		if (st_now_ns() < next_kill) {
			st_sleep_ms(20);
			continue;
		}
		i = (int)st_below(&r, nworkers);
		{
			uint64_t t0 = st_now_ns(), dt;

			kill(pid[i], SIGKILL);
			while (waitpid(pid[i], &status, 0) < 0 && errno == EINTR)
				;
			dt = st_now_ns() - t0;
			kills++;
			sum_kill_ns += dt;
			if (dt > worst_kill_ns)
				worst_kill_ns = dt;
			if (WIFEXITED(status) && WEXITSTATUS(status)) {
				deaths++;
				fprintf(stderr, "# worker %d (generation %d) had exited with status %d\n",
					i, gen[i], WEXITSTATUS(status));
			} else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
				deaths++;
				fprintf(stderr, "# worker %d (generation %d) died of signal %d\n", i,
					gen[i], WTERMSIG(status));
			}
		}
		pid[i] = fz_spawn(i, ++gen[i], seed, end_ns);
		next_kill = st_now_ns() + (100 + st_below(&r, 2900)) * 1000000ull;
	}
	/* The end: workers stop by themselves; one still running after 60 s is killed. */
	for (int i = 0; i < nworkers; i++) {
		uint64_t limit = st_now_ns() + 60000000000ull;
		int status = 0;
		pid_t p;

		while ((p = waitpid(pid[i], &status, WNOHANG)) == 0 && st_now_ns() < limit)
			st_sleep_ms(50);
		if (p == 0) {
			stragglers++;
			kill(pid[i], SIGKILL);
			waitpid(pid[i], &status, 0);
			fprintf(stderr, "# worker %d still ran 60 s after the end: killed\n", i);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			deaths++;
			fprintf(stderr, "# worker %d (generation %d) ended with status 0x%x\n", i,
				gen[i], status);
		}
	}

	for (int op = 0; op < FZ_NOPS; op++) {
		total_execs += stats->execs[op];
		total_bad += stats->bad[op];
		fprintf(stderr, "# %-22s execs %8llu  errors %8llu  unexpected %llu\n",
			fz_op_name[op], (unsigned long long)stats->execs[op],
			(unsigned long long)stats->errs[op], (unsigned long long)stats->bad[op]);
	}
	fprintf(stderr, "# iterations %llu, execs %llu, in %.0f s; kills %llu (worst %.1f ms, mean %.1f ms from SIGKILL to reaped); worker restarts %llu\n",
		(unsigned long long)stats->iterations, (unsigned long long)total_execs,
		(st_now_ns() - t_start) / 1e9, (unsigned long long)kills, worst_kill_ns / 1e6,
		kills ? sum_kill_ns / 1e6 / kills : 0.0, (unsigned long long)kills + deaths);
	fprintf(stderr, "# valid jobs verified %llu (and %llu ended RESET); faults caught in touched mappings %llu; unexpected results %llu; bad worker ends %d; stragglers %d\n",
		(unsigned long long)stats->valid_ok, (unsigned long long)stats->valid_reset,
		(unsigned long long)stats->sigs_caught, (unsigned long long)total_bad, deaths,
		stragglers);
	EXPECT_EQ(0, total_bad);
	EXPECT_EQ(0, deaths);
	EXPECT_LT(0, stats->valid_ok) TH_LOG("no valid job ran");

	/* No leak: every count back at its baseline (killed workers' jobs may still end). */
	for (int i = 0; i < ndev; i++) {
		int64_t ms = st_wait_baseline(minors[i], &base[i], 180);

		EXPECT_LE(0, ms) TH_LOG("accel%u: counts not back to their baseline", minors[i]);
		if (ms >= 0)
			fprintf(stderr, "# accel%u: counts back to baseline %lld ms after the end\n",
				minors[i], (long long)ms);
	}
	/* The device still works, and that left nothing behind either. */
	for (int i = 0; i < ndev; i++)
		st_device_check(_metadata, i);
	for (int i = 0; i < ndev; i++)
		EXPECT_LE(0, st_wait_baseline(minors[i], &base[i], 60));
}

/* The harness's timeout follows TERN_FUZZ_TIME (it is fixed before main()). */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST + 1))) fz_set_timeout(void)
{
	_fuzz_object.timeout = (int)fz_time_s() + FZ_MARGIN_S;
}

TEST_HARNESS_MAIN
