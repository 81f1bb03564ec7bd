/* SPDX-License-Identifier: MIT */
/*
 * libtern internals shared by the library's .c files; not installed.
 */
#ifndef TERN_INTERNAL_H
#define TERN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tern.h"
#include "tern_accel.h"

/* Only functions marked so are visible outside libtern.so. */
#define TERN_EXPORT __attribute__((visibility("default")))

#define TERN_SYSFS_ACCEL	"/sys/class/accel"
#define TERN_DEV_ACCEL		"/dev/accel"
#define TERN_DRIVER_NAME	"tern"
#define TERN_MAX_DEVICES	64

/*
 * Largest piece of a copy in one struct drm_tern_copy. The UAPI puts no
 * limit on a copy's size, but the driver builds a scatter list per copy;
 * pieces of this size keep those lists small. DRM_TERN_MAX_COPIES pieces
 * go in one job, so a copy of up to 16 GiB is a single job.
 */
#define TERN_COPY_CHUNK		(64ull << 20)

/*
 * Most idle syncobjs a device keeps for reuse. Fences released beyond this
 * many at once give their syncobjs back to the kernel.
 */
#define TERN_SYNCOBJ_POOL_MAX	128

/*
 * Launch status slots: each launch in flight has a 128-byte slot in a host
 * buffer where the kernel copies the core's struct tern_job_status when
 * the job ends. Buffers of TERN_STATUS_CHUNK slots are added as needed.
 */
#define TERN_STATUS_SLOT_SIZE	128
#define TERN_STATUS_CHUNK	128		/* slots per host buffer (16 KiB) */
#define TERN_STATUS_CHUNKS_MAX	64		/* 8192 launches in flight */

struct tern_status_pool {
	struct tern_buffer *chunk[TERN_STATUS_CHUNKS_MAX];
	uint8_t *map[TERN_STATUS_CHUNKS_MAX];
	unsigned int nchunks;
	unsigned int nfree;
	uint32_t *free;			/* free slot numbers: chunk * CHUNK + i */
};

struct tern_kcache;
struct tern_uring;
struct tern_userq;
struct tern_prof_session;

/* How jobs reach the device (dev->path, f->path); TERN_SUBMIT_* of tern.h. */

struct tern_device {
	int fd;
	unsigned int index;
	unsigned int minor;
	char node[32];
	char pci_address[32];
	char driver_name[32];
	char driver_version[32];
	struct drm_tern_info hw;	/* GET_INFO at open */
	struct tern_kcache *kcache;	/* programs by key; has its own lock */
	struct tern_uring *uring;	/* NULL: no io_uring path; has its own locks */
	struct tern_userq *userq;	/* NULL until the first user-queue job; own lock */
	int want_path;			/* TERN_SUBMIT at open: TERN_SUBMIT_AUTO or a path */
	int path;			/* copies' path; falls back from USERQ once */
	int empty_jobs;			/* 1 the driver takes copy_count 0, 0 not, -1 unknown */
	struct tern_buffer *scratch;	/* 128 host bytes for no-ops without empty jobs */

	pthread_mutex_t lock;		/* protects the fields below */
	unsigned int next_queue;	/* round robin cursor of copies */
	unsigned int next_core;		/* round robin cursor of launches */
	unsigned int buffers;		/* user buffers not yet freed */
	unsigned int kernels;		/* tern_kernel_load() kernels not yet freed */
	unsigned int batches;		/* open tern_batch_begin()s */
	struct tern_kernel *kernel_list; /* every kernel alive, the cache's too */
	struct tern_fence *fences;	/* fences not yet released */
	struct tern_fence *orphans;	/* launches released before they were seen done */
	struct tern_status_pool status;
	unsigned int pool_count;	/* idle binary syncobjs in @pool */
	uint32_t pool[TERN_SYNCOBJ_POOL_MAX];
	struct tern_prof_session *prof;	/* tern_profile_start()'s session, or NULL */
	uint64_t prof_gen;		/* sessions started so far */
};

struct tern_buffer {
	struct tern_device *dev;
	uint32_t handle;
	unsigned int flags;		/* TERN_MEM_* */
	bool internal;			/* the library's own: not in dev->buffers */
	uint64_t size;			/* as requested */
	uint64_t alloc_size;		/* as allocated (page aligned) */
	uint64_t mmap_offset;
	uint64_t device_va;		/* BO_INFO.device_va: its address in our context */
	void *map;			/* NULL until tern_buffer_map() */
	pthread_mutex_t map_lock;	/* protects map */
};

/*
 * A program image and its copy in HBM. @refs counts the owner (the user
 * of tern_kernel_load(), or the cache) and every launch not yet known to
 * be done, so a kernel freed while it runs goes away after the launch.
 * A kernel of the cache may be unloaded (@bo NULL) to make room in HBM and
 * is loaded again from @image when it is launched or asked for.
 */
struct tern_kernel {
	struct tern_device *dev;
	struct tern_kernel *prev, *next; /* on dev->kernel_list, under dev->lock */
	void *image;			/* the library's copy */
	size_t size;
	unsigned int nslots;		/* from the header */
	bool cached;			/* owned by dev->kcache */
	struct tern_buffer *bo;		/* under dev->lock; NULL while unloaded */
	unsigned int refs;		/* under dev->lock */
	void *entry;			/* the cache's entry of a cached kernel */
};

/*
 * The jobs of one copy, or the one job of a launch. Job i signals the
 * binary syncobj syncobjs[i], which no other job uses while the fence
 * lives: waiting on it reports exactly that job's status (see copy.c for
 * why not a shared timeline).
 */
struct tern_fence {
	struct tern_device *dev;
	struct tern_fence *prev, *next;	/* on dev->fences or dev->orphans, under dev->lock */
	int queue;			/* a copy's queue; -1: none, or a launch */
	unsigned int jobs;		/* jobs submitted */
	unsigned int waited;		/* jobs 0..waited-1 are known done */
	int result;			/* final result once done */
	int done;
	char error[256];		/* tern_last_error() of a failed result */

	/* A launch (@kernel not NULL until it is seen done) */
	bool launch;
	int core;
	struct tern_kernel *kernel;	/* a reference, dropped when done */
	int status_slot;		/* in dev->status; -1 once given back */
	int64_t start_ns;		/* CLOCK_MONOTONIC at the launch call */
	struct tern_launch_status ls;	/* once done */

	/* How its jobs were submitted: TERN_SUBMIT_IOCTL, _URING or _USERQ. */
	int path;
	/* A link copy (tern_link_copy_async()): its port and the chip at the other end. */
	bool link;
	unsigned int link_port;
	unsigned int link_peer_chip;
	/* io_uring (submit_uring.c), under the ring's cq_lock */
	unsigned int cqes;		/* CQEs reaped, one per job */
	bool released;			/* released before its last CQE: the reaper frees it */
	uint32_t ustatus, ucode;	/* DRM_TERN_JOB_* and code of the first failed job */
	int uerr;			/* a rejected command's -errno, else 0 */
	void *umem;			/* copies / exec arguments kept until the CQEs */
	/* user-mode queue (submit_userq.c) */
	uint64_t uq_gen;		/* queue generation the jobs went to */
	uint64_t uq_first, uq_seq;	/* first and last descriptor sequence numbers */

	/*
	 * Profiling (profile.c): the session the job belongs to (0: none), a
	 * launch's profile buffer in HBM and its name, a copy's bytes and
	 * TERN_PROFILE_* direction (start_ns is its submission).
	 */
	uint64_t prof_gen;
	struct tern_buffer *prof_buf;
	void *prof_map;
	char prof_name[32];
	uint64_t prof_bytes;
	unsigned int prof_dir;

	unsigned int nsyncobjs;		/* syncobjs held, >= jobs */
	uint32_t syncobjs[];
};

/* Records what failed for tern_last_error(); returns @code. */
int tern_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills @minors with the accel minors bound to tern, sorted. */
int tern_scan_minors(unsigned int *minors, unsigned int max);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t tern_now_ns(void);

/* ---- buffers (buffer.c) ---- */

/* A buffer of the library's own (kernels, status slots): not counted as a user's. */
int tern_buffer_alloc_internal(struct tern_device *dev, uint64_t size, unsigned int flags,
			       struct tern_buffer **bufp);

/* ---- fences (copy.c) ---- */

/* A fence with @nsyncobjs syncobjs from the pool or new, not yet on dev->fences. */
int tern_fence_new(struct tern_device *dev, unsigned int nsyncobjs, struct tern_fence **fp);
/* Puts a fence made by tern_fence_new() on dev->fences. */
void tern_fence_publish(struct tern_fence *f);
/* Gives the syncobjs of an unpublished or unlinked fence back and frees it. */
void tern_fence_discard(struct tern_fence *f);

/*
 * DRM_IOCTL_TERN_WAIT on one syncobj: 0 with *@status and *@code when it
 * signalled, -ETIME, or another error (with tern_last_error() set).
 */
int tern_wait_syncobj(struct tern_device *dev, uint32_t syncobj, int64_t timeout_ns,
		      uint32_t *status, uint32_t *code);

/*
 * Settles and frees the launches released before they were seen done
 * (dev->orphans) whose jobs are done now; the others stay.
 */
void tern_fences_reap(struct tern_device *dev);

/*
 * Frees the fences of @dev not yet released and the orphaned launches, and
 * destroys every syncobj the library holds on it; for tern_device_close(),
 * with dev->lock held.
 */
void tern_fences_destroy(struct tern_device *dev);

/* Puts @f on / takes @f off a list of fences; the caller holds the list's lock. */
void tern_fence_link(struct tern_fence **list, struct tern_fence *f);
void tern_fence_unlink(struct tern_fence **list, struct tern_fence *f);

/*
 * Result of a copy job that ended with WAIT @status, @code and @fault_addr:
 * 0, -EIO, -EFAULT (MMU fault), -ETIMEDOUT, -ECANCELED or -EPROTO, with
 * tern_last_error() set for a failure. @queue names the queue, -1 the
 * user-mode queue.
 */
int tern_copy_result(struct tern_device *dev, int queue, uint32_t status, uint32_t code,
		     uint64_t fault_addr);

/* ---- submission paths (submit.c, submit_uring.c, submit_userq.c) ---- */

/*
 * The pieces of one job: copies already checked, each at most
 * TERN_COPY_CHUNK bytes, at most DRM_TERN_MAX_COPIES of them (0: an empty
 * job).
 */
struct tern_piece {
	struct tern_buffer *dst, *src;
	uint64_t dst_offset, src_offset, size;
	uint32_t flags;			/* DRM_TERN_COPY_*: link copies and reductions */
	struct tern_buffer *operand;	/* with DRM_TERN_COPY_OPERAND only */
};

/*
 * Checks that [offset, offset + size) of buf lies in it and that buf belongs
 * to dev; otherwise fails with -EINVAL and "<call>: <what> ..." as the message.
 */
int tern_check_range(const char *call, struct tern_device *dev, const char *what,
		     struct tern_buffer *buf, uint64_t offset, uint64_t size);

/* Checks one copy's buffers and ranges (-EINVAL with a message). */
int tern_check_copy(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
		    struct tern_buffer *src, uint64_t src_offset, uint64_t size);
/*
 * Queues the @n copies (checked here; none queued if one is bad) as jobs
 * on @queue (TERN_QUEUE_ANY: round robin) by the device's path, or with
 * @nop one empty job; the fence goes to *@fencep.
 */
int tern_jobs_submit(struct tern_device *dev, int queue, const struct tern_copy_desc *c,
		     unsigned int n, bool nop, struct tern_fence **fencep);

/* Reads TERN_SUBMIT and sets up the paths at tern_device_open(). */
int tern_submit_init(struct tern_device *dev);
/* Tears the io_uring and the user-mode queue down at close. */
void tern_submit_fini(struct tern_device *dev);
/* Fills @out (DRM_TERN_MAX_COPIES entries) from @p; returns how many. */
void tern_pieces_to_uapi(const struct tern_piece *p, unsigned int n, struct drm_tern_copy *out);

/*
 * Queues the @n pieces (checked by the caller; DRM_TERN_COPY_LINK set in
 * their flags) as jobs with DRM_TERN_SUBMIT_LINK through @port to @peer on
 * @queue, by the ioctl; the fence (f->link set) goes to *@fencep. @n 0
 * gives a fence that is already complete.
 */
int tern_link_jobs_submit(struct tern_device *dev, int queue, struct tern_device *peer,
			  unsigned int port, const struct tern_piece *p, size_t n,
			  struct tern_fence **fencep);

int tern_uring_init(struct tern_device *dev);
void tern_uring_fini(struct tern_device *dev);
struct io_uring;
struct io_uring_sqe;
/* A ring for tern commands (SQE128 | CQE32, cooperative task running if the kernel has it); 0 or -errno. */
int tern_uring_queue_init(struct io_uring *ring, unsigned int entries);
/* @sqe (an SQE128 pair) as the io_uring command @op on file @fd, its area @cmd of @len bytes. */
void tern_uring_fill_cmd(struct io_uring_sqe *sqe, int fd, uint32_t op, const void *cmd,
			 size_t len, uint64_t user_data);
/* One SUBMIT job of @n pieces on @queue through the ring, for fence @f. */
int tern_uring_submit(struct tern_device *dev, struct tern_fence *f, int queue,
		      const struct tern_piece *p, unsigned int n);
/* One EXEC through the ring; takes ownership of @exec (malloc'ed, with its slots after it). */
int tern_uring_exec(struct tern_device *dev, struct tern_fence *f, struct drm_tern_exec *exec);
/* Waits until every job of @f has its CQE; 0 or -ETIME. */
int tern_uring_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns);
/* tern_batch_begin/end on the io_uring path: hold SQEs, then send them. */
void tern_uring_hold(struct tern_device *dev);
int tern_uring_release_hold(struct tern_device *dev);
/* Frees what f->umem holds. */
void tern_umem_free(struct tern_fence *f);
/* tern_fence_release() of a fence of the ring: true if the reaper will free it. */
bool tern_uring_release(struct tern_fence *f);

/* Makes the user-mode queue if there is none; -errno when the driver has none to give. */
int tern_userq_open(struct tern_device *dev);
void tern_userq_fini(struct tern_device *dev);
/* Pushes the @n pieces (0: a no-op) as one job of @f. */
int tern_userq_submit(struct tern_device *dev, struct tern_fence *f,
		      const struct tern_piece *p, unsigned int n);
/* Waits for the job(s) of @f; sets f->done and f->result when they ended. */
int tern_userq_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns);

/* ---- links (link.c) ---- */

/*
 * tern_fence_wait() that also knows the end of a link copy: a job whose
 * link went down (DRM_TERN_JOB_LINK_DOWN) is -ENOLINK, with a message
 * naming the port and the chips. Any other fence: as tern_fence_wait().
 */
int tern_link_fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns);

/* The -ENOLINK message for @port of @dev, reading the port's state for it. */
int tern_link_down_error(struct tern_device *dev, unsigned int port, unsigned int peer_chip,
			 const char *what);

/* ---- launches (launch.c) ---- */

/*
 * Ends a launch fence whose job signalled with WAIT @status and @code, or
 * whose wait failed with @wait_err (then the job's fate is unknown): fills
 * f->ls, gives back its status slot and kernel reference, and returns the
 * result (0, -EIO, -ETIMEDOUT, -ECANCELED or @wait_err) with
 * tern_last_error() set for a failure.
 */
int tern_launch_settle(struct tern_fence *f, int wait_err, uint32_t status, uint32_t code);
/* Frees every kernel and the status slots; for tern_device_close(), nothing in flight. */
void tern_launch_destroy(struct tern_device *dev);

/* A new kernel of @image (checked), loaded into HBM, with one reference. */
int tern_kernel_create(struct tern_device *dev, const void *image, size_t size, bool cached,
		       struct tern_kernel **kp);
/* Drops a reference; the last one frees the kernel. */
void tern_kernel_put(struct tern_kernel *k);
/* Puts an unloaded kernel's image into HBM again; the caller holds a reference. */
int tern_kernel_upload(struct tern_kernel *k);
/* Frees the HBM copy of @k if nothing but its owner holds it; true if it did. */
bool tern_kernel_unload(struct tern_kernel *k);

/* ---- the program cache (kcache.c) ---- */

int tern_kcache_create(struct tern_device *dev);
/* Forgets every entry; the kernels themselves go with tern_launch_destroy(). */
void tern_kcache_destroy(struct tern_device *dev);
/* A launch of cached kernel @k found it unloaded: load it again, as the cache's. */
int tern_kcache_reload(struct tern_kernel *k);

/* ---- ops as data (op_run.c) ---- */

struct tern_op;
/*
 * Checks @op for @fn: kind, input count, func, eps, scale, padding, unused
 * inputs zero, every tensor valid and their shapes as @op->kind needs.
 */
int tern_op_check(const char *fn, const struct tern_op *op);
/* "out" for @i 0, else the name of input @i - 1 of @op's kind ("a", "x", ...). */
const char *tern_op_tensor_name(const struct tern_op *op, unsigned int i);

/* ---- profiles (profile.c) ---- */

/* The launch name tern_op_run() sets around its launch ("kernel" when NULL). */
extern __thread const char *tern_prof_launch_name;
/*
 * While a session runs: gives launch @f a profile buffer and asks for the
 * profile in @exec (flag and range). 0 (also with no session) or -errno.
 */
int tern_prof_launch_prepare(struct tern_device *dev, struct tern_fence *f,
			     struct drm_tern_exec *exec);
/*
 * From tern_launch_settle(), f->ls filled: records the launch and gives its
 * buffer back (frees it unless the job is known to have @ended).
 */
void tern_prof_launch_done(struct tern_fence *f, bool ended);
/* Gives back the profile buffer of a launch that will not be recorded. */
void tern_prof_fence_drop(struct tern_fence *f);
/* While a session runs: marks copy fence @f (@n copies @c, submitted at @start_ns). */
void tern_prof_copy_begin(struct tern_device *dev, struct tern_fence *f,
			  const struct tern_copy_desc *c, unsigned int n, int64_t start_ns);
/* tern_fence_wait() saw copy fence @f done: records it. */
void tern_prof_copy_done(struct tern_fence *f);
/* Ends a session still running at tern_device_close(). */
void tern_prof_destroy(struct tern_device *dev);

/* ---- names (error.c) ---- */

/* Name of a device error code (TERN_ERR_* of the register map). */
const char *tern_device_error_name(uint32_t code);
/* Name of a compute error code (TERN_CERR_* of the ISA), "" for none. */
const char *tern_compute_error_text(uint32_t code);
/* "tensor", "vector", "scalar", "DMA", or "?" */
const char *tern_engine_text(uint32_t engine);

#endif /* TERN_INTERNAL_H */
