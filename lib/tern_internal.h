/* SPDX-License-Identifier: MIT */
/*
 * libtern internals shared by the library's .c files; not installed.
 */
#ifndef TERN_INTERNAL_H
#define TERN_INTERNAL_H

#include <pthread.h>
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

struct tern_device {
	int fd;
	unsigned int index;
	unsigned int minor;
	char node[32];
	char pci_address[32];
	char driver_name[32];
	char driver_version[32];
	struct drm_tern_info hw;	/* GET_INFO at open */

	pthread_mutex_t lock;		/* protects the fields below */
	unsigned int next_queue;	/* round robin cursor */
	unsigned int buffers;		/* buffers not yet freed */
	struct tern_fence *fences;	/* fences not yet released */
	unsigned int pool_count;	/* idle binary syncobjs in @pool */
	uint32_t pool[TERN_SYNCOBJ_POOL_MAX];
};

struct tern_buffer {
	struct tern_device *dev;
	uint32_t handle;
	unsigned int flags;		/* TERN_MEM_* */
	uint64_t size;			/* as requested */
	uint64_t alloc_size;		/* as allocated (page aligned) */
	uint64_t mmap_offset;
	void *map;			/* NULL until tern_buffer_map() */
	pthread_mutex_t map_lock;	/* protects map */
};

/*
 * The jobs of one copy. Job i signals the binary syncobj syncobjs[i], which
 * no other job uses while the fence lives: waiting on it reports exactly
 * that job's status (see copy.c for why not a shared timeline).
 */
struct tern_fence {
	struct tern_device *dev;
	struct tern_fence *prev, *next;	/* on dev->fences, under dev->lock */
	int queue;			/* -1: nothing was submitted */
	unsigned int jobs;		/* jobs submitted */
	unsigned int waited;		/* jobs 0..waited-1 are known done */
	int result;			/* final result once done */
	int done;
	char error[256];		/* tern_last_error() of a failed result */
	unsigned int nsyncobjs;		/* syncobjs held, >= jobs */
	uint32_t syncobjs[];
};

/* Records what failed for tern_last_error(); returns @code. */
int tern_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills @minors with the accel minors bound to tern, sorted. */
int tern_scan_minors(unsigned int *minors, unsigned int max);

/*
 * Frees the fences of @dev not yet released and destroys every syncobj the
 * library holds on it; for tern_device_close(), with dev->lock held.
 */
void tern_fences_destroy(struct tern_device *dev);

/* Name of a device error code (TERN_ERR_* of the register map). */
const char *tern_device_error_name(uint32_t code);

#endif /* TERN_INTERNAL_H */
