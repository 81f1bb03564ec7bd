/* SPDX-License-Identifier: MIT */
/*
 * The first half of tern_fuzz (a single user): its shared counts, argument
 * generators (valid handles, offsets and sizes mixed with boundary and
 * garbage values), the worker's pools of handles, and the ioctl operations.
 * The mappings, io_uring, valid jobs, workers and the test are in
 * tern_fuzz.c. Include after tern_test.h, tern_copy_prog.h and
 * tern_stress.h.
 */
#ifndef TERN_FUZZ_OPS_H
#define TERN_FUZZ_OPS_H

#include <liburing.h>
#include <stdarg.h>
#include <sys/eventfd.h>

#define FZ_DEFAULT_TIME	60
#define FZ_MARGIN_S	300	/* harness timeout beyond TERN_FUZZ_TIME */
#define FZ_MAX_WORKERS	16
#define FZ_MAX_DEVS	4
#define FZ_POOL		16	/* BOs per file */
#define FZ_SYNCS	8
#define FZ_QUEUES	4
#define FZ_FDS		16	/* exported dma-buf fds */
#define FZ_MAX_BO	(4ull << 20)	/* 3 workers x 2 chips x 16 BOs fit a 2 GiB guest */
#define FZ_VALID_EVERY	64	/* one valid job per this many operations */
#define FZ_HOST_CAP	(256ull << 20)	/* garbage host BO sizes, see op_bo_create_bad() */
#define FZ_WAIT_NS	(20ll * 1000 * 1000)
#define FZ_LOG_MAX	40	/* errno reports printed per worker */

enum fz_op {
	OP_GET_INFO, OP_BO_CREATE, OP_BO_CREATE_BAD, OP_BO_INFO, OP_GEM_CLOSE, OP_SUBMIT,
	OP_WAIT, OP_EXEC, OP_QUEUE_CREATE, OP_QUEUE_DESTROY, OP_QUEUE_QUERY, OP_LINK_QUERY,
	OP_SYNC_CREATE, OP_SYNC_DESTROY, OP_SYNC_WAIT, OP_SYNC_SIGNAL, OP_PRIME_EXPORT,
	OP_PRIME_IMPORT, OP_MMAP_BO, OP_MMAP_DOORBELL, OP_UQ_RING, OP_URING, OP_RAW_IOCTL,
	OP_FORK_USE, OP_REOPEN, OP_VALID, FZ_NOPS
};

static const char *const fz_op_name[FZ_NOPS] = {
	"GET_INFO", "BO_CREATE", "BO_CREATE(bad)", "BO_INFO", "GEM_CLOSE", "SUBMIT", "WAIT",
	"EXEC", "QUEUE_CREATE", "QUEUE_DESTROY", "QUEUE_QUERY", "LINK_QUERY", "SYNCOBJ_CREATE",
	"SYNCOBJ_DESTROY", "SYNCOBJ_WAIT", "SYNCOBJ_SIGNAL/RESET", "PRIME_EXPORT", "PRIME_IMPORT",
	"mmap(BO)", "mmap(doorbell)", "user-queue ring", "io_uring cmd", "raw ioctl",
	"ioctl after fork", "reopen", "valid job",
};

/* Shared with the parent: counts, and what went wrong. */
struct fz_stats {
	uint64_t iterations;
	uint64_t execs[FZ_NOPS];
	uint64_t errs[FZ_NOPS];		/* calls that returned an error (expected ones) */
	uint64_t bad[FZ_NOPS];		/* errno outside the allowed set, or wrong result */
	uint64_t sigs_caught;		/* SIGSEGV/SIGBUS of touched mappings */
	uint64_t valid_ok, valid_reset;
};

static struct fz_stats *stats;
static int fz_huge_host;	/* TERN_FUZZ_HUGE_HOST, default 1 */

struct fz_bo {
	uint32_t handle, domain;
	uint64_t size, va, mmap_off;
};

struct fz_dev {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	struct fz_bo bo[FZ_POOL];
	int nbo;
	uint32_t sync[FZ_SYNCS];
	int nsync;
	struct { uint32_t id; uint64_t db_off; void *ring; uint64_t ring_len; uint32_t entries; } q[FZ_QUEUES];
	int nq;
	/* the valid jobs' file: never fuzzed */
	int clean_fd;
	uint32_t c_src, c_mid, c_dst, c_tl, c_prog, c_status, c_tin, c_tout;
	void *c_srcp, *c_dstp, *c_statusp;
	uint64_t c_point, c_psize;
};

struct fz_worker {
	struct st_rng r;
	int index, ndev, logged;
	struct fz_dev dev[FZ_MAX_DEVS];
	int dmabuf[FZ_FDS];
	int ndmabuf;
	struct io_uring ring;
	int ring_ok;
};

/* ---- errors ---- */

static int fz_errno_ok(int op, int err)
{
	switch (err) {
	case EINVAL: case ENOENT: case EFAULT: case ENOMEM: case ENOSPC: case EBUSY:
	case EACCES: case EPERM: case EBADF: case ETIME: case ETIMEDOUT: case E2BIG:
	case EOVERFLOW: case EXDEV: case ENOLINK: case EAGAIN: case EINTR: case ERANGE:
	case EMFILE: case EOPNOTSUPP: case ENXIO:
		return 1;
	case ENOTTY:
		return op == OP_RAW_IOCTL;
	case EIO: case ECANCELED:
		return op == OP_URING;	/* a job that failed / a cancelled command */
	}
	return op == OP_RAW_IOCTL;	/* anything from an ioctl number we made up */
}

static void fz_note(struct fz_worker *w, int op, int ret, const char *what)
{
	__atomic_add_fetch(&stats->execs[op], 1, __ATOMIC_RELAXED);
	if (!ret)
		return;
	if (fz_errno_ok(op, -ret)) {
		__atomic_add_fetch(&stats->errs[op], 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&stats->bad[op], 1, __ATOMIC_RELAXED);
	if (w->logged++ < FZ_LOG_MAX)
		fprintf(stderr, "# worker %d: %s%s%s: unexpected error %d (%s)\n", w->index,
			fz_op_name[op], what ? " " : "", what ? what : "", -ret, strerror(-ret));
}

static void fz_bad(struct fz_worker *w, int op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fz_bad(struct fz_worker *w, int op, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&stats->bad[op], 1, __ATOMIC_RELAXED);
	if (w->logged++ >= FZ_LOG_MAX)
		return;
	fprintf(stderr, "# worker %d: %s: ", w->index, fz_op_name[op]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- argument generators ---- */

static uint64_t fz_u64(struct st_rng *r)
{
	static const uint64_t edge[] = {
		0, 1, 2, 63, 64, 65, 4095, 4096, 4097, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ull, 1ull << 36, (1ull << 36) + 1, 1ull << 48, INT64_MAX,
		(uint64_t)INT64_MAX + 1, UINT64_MAX - 4095, UINT64_MAX,
	};

	switch (st_below(r, 4)) {
	case 0: return edge[st_below(r, sizeof(edge) / sizeof(edge[0]))];
	case 1: return st_below(r, 1 << 20);
	case 2: return 1ull << st_below(r, 64);
	default: return st_next(r);
	}
}

static uint32_t fz_u32(struct st_rng *r)
{
	return st_one_in(r, 2) ? (uint32_t)st_below(r, 8) : (uint32_t)fz_u64(r);
}

/* Usually zero; sometimes garbage (pad, reserved, flags). */
static uint64_t fz_zero(struct st_rng *r)
{
	return st_one_in(r, 12) ? fz_u64(r) : 0;
}

static struct fz_bo *fz_pick_bo(struct fz_worker *w, struct fz_dev *d, int domain)
{
	int i, start;

	if (!d->nbo)
		return NULL;
	start = (int)st_below(&w->r, d->nbo);
	for (i = 0; i < d->nbo; i++) {
		struct fz_bo *b = &d->bo[(start + i) % d->nbo];

		if (!domain || b->domain == (uint32_t)domain)
			return b;
	}
	return NULL;
}

/* A handle: one of the pool's (mostly), 0, or garbage. */
static uint32_t fz_handle(struct fz_worker *w, struct fz_dev *d, int domain)
{
	struct fz_bo *b;

	if (!st_one_in(&w->r, 8) && (b = fz_pick_bo(w, d, domain)))
		return b->handle;
	return st_one_in(&w->r, 2) ? 0 : fz_u32(&w->r);
}

static uint32_t fz_sync(struct fz_worker *w, struct fz_dev *d)
{
	if (d->nsync && !st_one_in(&w->r, 8))
		return d->sync[st_below(&w->r, d->nsync)];
	return st_one_in(&w->r, 2) ? 0 : fz_u32(&w->r);
}

/* An offset/size inside @size mostly, at its edges or past it sometimes. */
static uint64_t fz_in(struct st_rng *r, uint64_t size)
{
	switch (st_below(r, 6)) {
	case 0: return 0;
	case 1: return size;
	case 2: return size ? size - 1 : 0;
	case 3: return fz_u64(r);
	default: return size ? st_below(r, size) : 0;
	}
}

static struct fz_dev *fz_dev_pick(struct fz_worker *w)
{
	return &w->dev[st_below(&w->r, w->ndev)];
}

/* ---- pool upkeep ---- */

static void fz_bo_forget(struct fz_dev *d, uint32_t handle)
{
	for (int i = 0; i < d->nbo; i++)
		if (d->bo[i].handle == handle) {
			d->bo[i] = d->bo[--d->nbo];
			return;
		}
}

static void fz_bo_add(struct fz_dev *d, uint32_t handle)
{
	struct drm_tern_bo_info info;
	struct fz_bo *b;

	if (d->nbo == FZ_POOL) {
		tern_bo_close(d->fd, d->bo[0].handle);
		d->bo[0] = d->bo[--d->nbo];
	}
	if (tern_bo_info(d->fd, handle, &info))
		return;
	b = &d->bo[d->nbo++];
	b->handle = handle;
	b->domain = info.domain;
	b->size = info.size;
	b->va = info.device_va;
	b->mmap_off = info.mmap_offset;
}

/* ---- the operations ---- */

static void op_get_info(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_info info;

	memset(&info, 0, sizeof(info));
	if (st_one_in(&w->r, 4))
		((unsigned char *)&info)[st_below(&w->r, sizeof(info))] = (unsigned char)st_next(&w->r);
	fz_note(w, OP_GET_INFO, tern_ioctl(d->fd, DRM_IOCTL_TERN_GET_INFO, &info), NULL);
}

static void op_bo_create(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_bo_create c = {
		.size = st_one_in(&w->r, 3) ? 4096 : 1 + st_below(&w->r, FZ_MAX_BO),
		.domain = st_one_in(&w->r, 2) ? DRM_TERN_BO_HOST : DRM_TERN_BO_DEVICE,
		.flags = st_one_in(&w->r, 6) ? DRM_TERN_BO_READ_ONLY : 0,
	};
	int ret;

	if (st_one_in(&w->r, 16))
		c.pad = (uint32_t)fz_zero(&w->r);
	if (st_one_in(&w->r, 16))
		c.reserved[st_below(&w->r, 2)] = fz_zero(&w->r);
	ret = tern_ioctl(d->fd, DRM_IOCTL_TERN_BO_CREATE, &c);
	fz_note(w, OP_BO_CREATE, ret, NULL);
	if (!ret)
		fz_bo_add(d, c.handle);
}

/* Garbage sizes, domains, flags: whatever is created is closed at once. */
static void op_bo_create_bad(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_bo_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = fz_u64(&w->r);
	c.domain = st_one_in(&w->r, 2) ? (uint32_t)st_below(&w->r, 4) : fz_u32(&w->r);
	/*
	 * A host BO gets and pins all its pages at creation; the driver
	 * refuses host BOs past half of RAM (-ENOMEM), which this fuzzer
	 * found missing. TERN_FUZZ_HUGE_HOST=0 keeps garbage sizes small.
	 */
	if (c.domain == DRM_TERN_BO_HOST && c.size > FZ_HOST_CAP && !fz_huge_host)
		c.size %= FZ_HOST_CAP;
	c.flags = st_one_in(&w->r, 2) ? 0 : fz_u32(&w->r);
	c.handle = fz_u32(&w->r);
	c.pad = (uint32_t)fz_zero(&w->r);
	c.reserved[0] = fz_zero(&w->r);
	ret = tern_ioctl(d->fd, DRM_IOCTL_TERN_BO_CREATE, &c);
	fz_note(w, OP_BO_CREATE_BAD, ret, NULL);
	if (!ret)
		tern_bo_close(d->fd, c.handle);
}

static void op_bo_info(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_bo_info i;

	memset(&i, 0, sizeof(i));
	i.handle = fz_handle(w, d, 0);
	i.flags = (uint32_t)fz_zero(&w->r);
	i.reserved = fz_zero(&w->r);
	fz_note(w, OP_BO_INFO, tern_ioctl(d->fd, DRM_IOCTL_TERN_BO_INFO, &i), NULL);
}

static void op_gem_close(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_gem_close c = { .handle = fz_handle(w, d, 0), .pad = (uint32_t)fz_zero(&w->r) };
	int ret;

	ret = tern_ioctl(d->fd, DRM_IOCTL_GEM_CLOSE, &c);
	fz_note(w, OP_GEM_CLOSE, ret, NULL);
	if (!ret)
		fz_bo_forget(d, c.handle);
}

static void fz_copy(struct fz_worker *w, struct fz_dev *d, struct drm_tern_copy *c)
{
	struct fz_bo *s = fz_pick_bo(w, d, 0), *t = fz_pick_bo(w, d, 0);
	uint64_t lim;

	memset(c, 0, sizeof(*c));
	c->src_handle = s ? s->handle : fz_u32(&w->r);
	c->dst_handle = t ? t->handle : fz_u32(&w->r);
	lim = s && t ? (s->size < t->size ? s->size : t->size) : 4096;
	c->size = st_one_in(&w->r, 8) ? fz_u64(&w->r) :
		  1 + st_below(&w->r, st_one_in(&w->r, 8) || lim < 65536 ? lim : 65536);
	c->src_offset = st_one_in(&w->r, 6) ? fz_in(&w->r, s ? s->size : 0) :
			st_below(&w->r, lim - (c->size < lim ? c->size : lim) + 1);
	c->dst_offset = st_one_in(&w->r, 6) ? fz_in(&w->r, t ? t->size : 0) :
			st_below(&w->r, lim - (c->size < lim ? c->size : lim) + 1);
	if (st_one_in(&w->r, 6)) {	/* device VAs */
		c->flags = DRM_TERN_COPY_VA;
		c->src_handle = c->dst_handle = st_one_in(&w->r, 8) ? fz_u32(&w->r) : 0;
		c->src_offset += s ? s->va : fz_u64(&w->r);
		c->dst_offset += t ? t->va : fz_u64(&w->r);
	}
	if (st_one_in(&w->r, 10))
		c->flags |= 1u << st_below(&w->r, 32);
	c->operand_handle = (uint32_t)fz_zero(&w->r);
}

static void fz_submit_args(struct fz_worker *w, struct fz_dev *d, struct drm_tern_submit *sp)
{
	static struct drm_tern_copy copies[DRM_TERN_MAX_COPIES + 8];
	struct drm_tern_submit s;
	uint32_t n = st_one_in(&w->r, 16) ? (uint32_t)st_below(&w->r, DRM_TERN_MAX_COPIES + 8) :
					    (uint32_t)st_below(&w->r, 5);

	for (uint32_t i = 0; i < n; i++)
		fz_copy(w, d, &copies[i]);
	memset(&s, 0, sizeof(s));
	s.copies = st_one_in(&w->r, 20) ? fz_u64(&w->r) : (uintptr_t)copies;
	s.copy_count = st_one_in(&w->r, 20) ? fz_u32(&w->r) : n;
	s.queue = st_one_in(&w->r, 8) ? fz_u32(&w->r) : (uint32_t)st_below(&w->r, d->info.num_queues);
	s.flags = (uint32_t)fz_zero(&w->r);
	s.out_syncobj = fz_sync(w, d);
	s.out_point = st_one_in(&w->r, 2) ? 0 : st_below(&w->r, 1000);
	if (st_one_in(&w->r, 10)) {
		s.flags |= DRM_TERN_SUBMIT_LINK;
		s.peer_fd = st_one_in(&w->r, 2) ? w->dev[st_below(&w->r, w->ndev)].fd :
						  (int32_t)fz_u32(&w->r);
		s.link_port = (uint32_t)st_below(&w->r, 8);
	}
	s.job_id = fz_zero(&w->r);
	s.reserved[st_below(&w->r, 3)] = fz_zero(&w->r);
	*sp = s;
}

static void op_submit(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_submit s;

	fz_submit_args(w, d, &s);
	fz_note(w, OP_SUBMIT, tern_ioctl(d->fd, DRM_IOCTL_TERN_SUBMIT, &s), NULL);
}

static void op_wait(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_wait x;

	memset(&x, 0, sizeof(x));
	x.syncobj = fz_sync(w, d);
	x.flags = (uint32_t)fz_zero(&w->r);
	x.point = st_one_in(&w->r, 2) ? 0 : st_below(&w->r, 1000);
	x.timeout_ns = st_one_in(&w->r, 3) ? 0 : st_one_in(&w->r, 8) ? -(int64_t)st_below(&w->r, 1000) :
		       (int64_t)st_below(&w->r, FZ_WAIT_NS);
	x.reserved = fz_zero(&w->r);
	fz_note(w, OP_WAIT, tern_ioctl(d->fd, DRM_IOCTL_TERN_WAIT, &x), NULL);
}

/* A copy program, sometimes with a byte changed, in a device BO of the pool. */
static uint64_t fz_write_prog(struct fz_worker *w, struct fz_dev *d, struct fz_bo *b)
{
	struct copy_prog p;
	uint64_t size = copy_prog_init(&p, st_below(&w->r, 2)), off;
	void *m;

	if (b->size < sizeof(p))
		return 64;
	off = st_below(&w->r, (b->size - sizeof(p)) / 64 + 1) * 64;
	if (st_one_in(&w->r, 2))
		for (int k = (int)st_below(&w->r, 4); k >= 0; k--)
			((unsigned char *)&p)[st_below(&w->r, sizeof(p))] = (unsigned char)st_next(&w->r);
	m = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)b->mmap_off);
	if (m == MAP_FAILED)
		return size;
	memcpy((char *)m + off, &p, sizeof(p));
	munmap(m, b->size);
	return off << 32 | ((size + 63) & ~63ull);
}

static void fz_exec_args(struct fz_worker *w, struct fz_dev *d, struct drm_tern_exec *e,
			 struct drm_tern_slot *slots)
{
	struct fz_bo *prog = fz_pick_bo(w, d, DRM_TERN_BO_DEVICE), *st;
	uint64_t ps = 64, po = 0;
	uint32_t n = (uint32_t)st_below(&w->r, 3);

	if (prog && st_one_in(&w->r, 2)) {
		uint64_t v = fz_write_prog(w, d, prog);

		ps = v & 0xffffffff;
		po = v >> 32;
	}
	memset(e, 0, sizeof(*e));
	e->core = st_one_in(&w->r, 8) ? fz_u32(&w->r) : (uint32_t)st_below(&w->r, d->info.num_cores + 1);
	e->program_handle = prog && !st_one_in(&w->r, 10) ? prog->handle : fz_handle(w, d, 0);
	e->program_offset = st_one_in(&w->r, 8) ? fz_in(&w->r, prog ? prog->size : 4096) : po;
	e->program_size = st_one_in(&w->r, 8) ? fz_u64(&w->r) : ps;
	if (st_one_in(&w->r, 16))
		n = (uint32_t)st_below(&w->r, DRM_TERN_MAX_SLOTS + 4);
	for (uint32_t i = 0; i < n && i < DRM_TERN_MAX_SLOTS + 4; i++) {
		struct fz_bo *b = fz_pick_bo(w, d, st_one_in(&w->r, 8) ? 0 : DRM_TERN_BO_DEVICE);

		memset(&slots[i], 0, sizeof(slots[i]));
		slots[i].handle = b ? b->handle : fz_u32(&w->r);
		slots[i].offset = st_one_in(&w->r, 4) ? fz_in(&w->r, b ? b->size : 0) : 0;
		slots[i].size = st_one_in(&w->r, 4) ? fz_in(&w->r, b ? b->size : 0) :
				(b && b->size >= CP_BYTES ? CP_BYTES : b ? b->size : 1);
		slots[i].pad = (uint32_t)fz_zero(&w->r);
	}
	e->slot_count = st_one_in(&w->r, 16) ? fz_u32(&w->r) : n;
	e->slots = st_one_in(&w->r, 20) ? fz_u64(&w->r) : (uintptr_t)slots;
	st = fz_pick_bo(w, d, st_one_in(&w->r, 8) ? 0 : DRM_TERN_BO_HOST);
	e->status_handle = st_one_in(&w->r, 4) ? 0 : st ? st->handle : fz_u32(&w->r);
	e->status_offset = st_one_in(&w->r, 6) ? fz_in(&w->r, st ? st->size : 0) :
			   st && st->size >= 128 ? st_below(&w->r, (st->size - 128) / 8 + 1) * 8 : 0;
	e->out_syncobj = fz_sync(w, d);
	e->out_point = st_one_in(&w->r, 2) ? 0 : st_below(&w->r, 1000);
	e->timeout_ns = st_one_in(&w->r, 4) ? st_below(&w->r, 5000000) : 0;
	e->flags = (uint32_t)fz_zero(&w->r);
	if (st_one_in(&w->r, 8)) {
		struct fz_bo *b = fz_pick_bo(w, d, DRM_TERN_BO_DEVICE);

		e->flags |= DRM_TERN_EXEC_PROFILE;
		e->profile.handle = b ? b->handle : fz_u32(&w->r);
		e->profile.offset = st_one_in(&w->r, 2) ? 0 : fz_in(&w->r, b ? b->size : 0);
		e->profile.size = st_one_in(&w->r, 2) ? (b ? b->size : 64) : fz_u64(&w->r);
	}
	e->job_id = fz_zero(&w->r);
}

static void op_exec(struct fz_worker *w, struct fz_dev *d)
{
	static struct drm_tern_slot slots[DRM_TERN_MAX_SLOTS + 4];
	struct drm_tern_exec e;

	fz_exec_args(w, d, &e, slots);
	fz_note(w, OP_EXEC, tern_ioctl(d->fd, DRM_IOCTL_TERN_EXEC, &e), NULL);
}

static void fz_q_unmap(struct fz_dev *d, int i)
{
	if (d->q[i].ring)
		munmap(d->q[i].ring, d->q[i].ring_len);
	d->q[i].ring = NULL;
}

static void op_queue_create(struct fz_worker *w, struct fz_dev *d)
{
	struct fz_bo *b = fz_pick_bo(w, d, st_one_in(&w->r, 4) ? 0 : DRM_TERN_BO_HOST);
	struct drm_tern_queue_create c;
	int efd = -1, ret;

	memset(&c, 0, sizeof(c));
	c.ring_entries = st_one_in(&w->r, 6) ? fz_u32(&w->r) : 2u << st_below(&w->r, 8);
	c.ring_va = st_one_in(&w->r, 6) ? fz_u64(&w->r) :
		    b ? b->va + st_below(&w->r, 4) * 64 : 0;
	if (st_one_in(&w->r, 3)) {
		efd = eventfd(0, EFD_CLOEXEC);
		c.flags = DRM_TERN_QUEUE_EVENTFD;
		c.eventfd = st_one_in(&w->r, 6) ? (int32_t)fz_u32(&w->r) : efd;
	}
	c.flags |= (uint32_t)fz_zero(&w->r);
	c.queue_id = fz_u32(&w->r);
	c.reserved[st_below(&w->r, 2)] = fz_zero(&w->r);
	ret = tern_ioctl(d->fd, DRM_IOCTL_TERN_QUEUE_CREATE, &c);
	fz_note(w, OP_QUEUE_CREATE, ret, NULL);
	if (efd >= 0)
		close(efd);
	if (ret)
		return;
	if (d->nq == FZ_QUEUES) {
		struct drm_tern_queue_destroy x = { .queue_id = d->q[0].id };

		tern_ioctl(d->fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &x);
		fz_q_unmap(d, 0);
		d->q[0] = d->q[--d->nq];
	}
	d->q[d->nq].id = c.queue_id;
	d->q[d->nq].db_off = c.doorbell_offset;
	d->q[d->nq].entries = c.ring_entries;
	d->q[d->nq].ring = NULL;
	/* The ring's CPU mapping, if it starts a pool BO. */
	if (b && c.ring_va == b->va && b->size >= (uint64_t)c.ring_entries * 64) {
		void *m = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
			       (off_t)b->mmap_off);

		if (m != MAP_FAILED) {	/* kept for the queue's life */
			d->q[d->nq].ring = m;
			d->q[d->nq].ring_len = b->size;
		}
	}
	d->nq++;
}

static void op_queue_destroy(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_queue_destroy x;
	int i = d->nq ? (int)st_below(&w->r, d->nq) : -1, ret;

	memset(&x, 0, sizeof(x));
	x.queue_id = i >= 0 && !st_one_in(&w->r, 8) ? d->q[i].id : fz_u32(&w->r);
	x.flags = (uint32_t)fz_zero(&w->r);
	x.reserved[0] = fz_zero(&w->r);
	ret = tern_ioctl(d->fd, DRM_IOCTL_TERN_QUEUE_DESTROY, &x);
	fz_note(w, OP_QUEUE_DESTROY, ret, NULL);
	if (!ret && i >= 0 && x.queue_id == d->q[i].id) {
		fz_q_unmap(d, i);
		d->q[i] = d->q[--d->nq];
	}
}

static void op_queue_query(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_queue_query x;

	memset(&x, 0, sizeof(x));
	x.queue_id = d->nq && !st_one_in(&w->r, 8) ? d->q[st_below(&w->r, d->nq)].id : fz_u32(&w->r);
	x.flags = (uint32_t)fz_zero(&w->r);
	x.reserved[1] = fz_zero(&w->r);
	fz_note(w, OP_QUEUE_QUERY, tern_ioctl(d->fd, DRM_IOCTL_TERN_QUEUE_QUERY, &x), NULL);
}

static void op_link_query(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_tern_link_query x;

	memset(&x, 0, sizeof(x));
	x.port = st_one_in(&w->r, 2) ? (uint32_t)st_below(&w->r, d->info.num_links + 2) : fz_u32(&w->r);
	x.flags = (uint32_t)fz_zero(&w->r);
	x.reserved[0] = fz_zero(&w->r);
	fz_note(w, OP_LINK_QUERY, tern_ioctl(d->fd, DRM_IOCTL_TERN_LINK_QUERY, &x), NULL);
}

static void op_sync_create(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_syncobj_create c = { .flags = st_one_in(&w->r, 3) ? fz_u32(&w->r) : 0 };
	int ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);

	fz_note(w, OP_SYNC_CREATE, ret, NULL);
	if (ret)
		return;
	if (d->nsync == FZ_SYNCS) {
		struct drm_syncobj_destroy x = { .handle = d->sync[0] };

		tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_DESTROY, &x);
		d->sync[0] = d->sync[--d->nsync];
	}
	d->sync[d->nsync++] = c.handle;
}

static void op_sync_destroy(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_syncobj_destroy x = { .handle = fz_sync(w, d), .pad = (uint32_t)fz_zero(&w->r) };
	int ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_DESTROY, &x);

	fz_note(w, OP_SYNC_DESTROY, ret, NULL);
	for (int i = 0; !ret && i < d->nsync; i++)
		if (d->sync[i] == x.handle) {
			d->sync[i] = d->sync[--d->nsync];
			break;
		}
}

static void op_sync_wait(struct fz_worker *w, struct fz_dev *d)
{
	uint32_t h[4];
	uint64_t pts[4];
	uint32_t n = (uint32_t)st_below(&w->r, 5);
	struct timespec now;
	int64_t deadline;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
	/* absolute: now + at most 20 ms, or in the past */
	deadline += st_one_in(&w->r, 4) ? -(int64_t)st_below(&w->r, 1000000) :
		    (int64_t)st_below(&w->r, FZ_WAIT_NS);
	for (uint32_t i = 0; i < n; i++) {
		h[i] = fz_sync(w, d);
		pts[i] = st_below(&w->r, 50);
	}
	if (st_one_in(&w->r, 2)) {
		struct drm_syncobj_wait x = {
			.handles = st_one_in(&w->r, 20) ? fz_u64(&w->r) : (uintptr_t)h,
			.timeout_nsec = deadline,
			.count_handles = n,
			.flags = (uint32_t)st_below(&w->r, 8) | (uint32_t)fz_zero(&w->r),
		};
		ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_WAIT, &x);
	} else {
		struct drm_syncobj_timeline_wait x = {
			.handles = (uintptr_t)h,
			.points = st_one_in(&w->r, 20) ? fz_u64(&w->r) : (uintptr_t)pts,
			.timeout_nsec = deadline,
			.count_handles = n,
			.flags = (uint32_t)st_below(&w->r, 16) | (uint32_t)fz_zero(&w->r),
		};
		ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &x);
	}
	fz_note(w, OP_SYNC_WAIT, ret, NULL);
}

static void op_sync_signal(struct fz_worker *w, struct fz_dev *d)
{
	uint32_t h[2] = { fz_sync(w, d), fz_sync(w, d) };
	uint64_t pts[2] = { st_below(&w->r, 1000), st_below(&w->r, 1000) };
	struct drm_syncobj_array a = { .handles = (uintptr_t)h, .count_handles = 1 + st_below(&w->r, 2) };
	struct drm_syncobj_timeline_array t = {
		.handles = (uintptr_t)h, .points = (uintptr_t)pts,
		.count_handles = 1 + st_below(&w->r, 2), .flags = (uint32_t)fz_zero(&w->r),
	};
	int ret;

	switch (st_below(&w->r, 4)) {
	case 0: ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &a); break;
	case 1: ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_RESET, &a); break;
	case 2: ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &t); break;
	default: ret = tern_ioctl(d->fd, DRM_IOCTL_SYNCOBJ_QUERY, &t); break;
	}
	fz_note(w, OP_SYNC_SIGNAL, ret, NULL);
}

static void op_prime_export(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_prime_handle p = {
		.handle = fz_handle(w, d, 0),
		.flags = st_one_in(&w->r, 6) ? fz_u32(&w->r) : DRM_CLOEXEC | (st_one_in(&w->r, 2) ? DRM_RDWR : 0),
		.fd = -1,
	};
	int ret = tern_ioctl(d->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	fz_note(w, OP_PRIME_EXPORT, ret, NULL);
	if (ret || p.fd < 0)
		return;
	if (w->ndmabuf == FZ_FDS) {
		close(w->dmabuf[0]);
		w->dmabuf[0] = w->dmabuf[--w->ndmabuf];
	}
	w->dmabuf[w->ndmabuf++] = p.fd;
}

/* Import a dma-buf of this or the other chip (or any fd): a new or the same handle. */
static void op_prime_import(struct fz_worker *w, struct fz_dev *d)
{
	struct drm_prime_handle p = { .flags = (uint32_t)fz_zero(&w->r) };
	int ret;

	if (w->ndmabuf && !st_one_in(&w->r, 6))
		p.fd = w->dmabuf[st_below(&w->r, w->ndmabuf)];
	else
		p.fd = st_one_in(&w->r, 2) ? w->dev[st_below(&w->r, w->ndev)].fd : (int32_t)fz_u32(&w->r);
	ret = tern_ioctl(d->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);
	fz_note(w, OP_PRIME_IMPORT, ret, NULL);
	if (!ret) {
		int known = 0;

		for (int i = 0; i < d->nbo; i++)
			known |= d->bo[i].handle == p.handle;
		if (!known)
			fz_bo_add(d, p.handle);
	}
	if (w->ndmabuf && st_one_in(&w->r, 3)) {
		close(w->dmabuf[0]);
		w->dmabuf[0] = w->dmabuf[--w->ndmabuf];
	}
}

#endif /* TERN_FUZZ_OPS_H */
