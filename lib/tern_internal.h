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
 * pieces of this size keep those lists small and let a long copy be waited
 * for piece by piece.
 */
#define TERN_COPY_CHUNK		(64ull << 20)

struct tern_device {
	int fd;
	unsigned int index;
	unsigned int minor;
	char node[32];
	char pci_address[32];
	char driver_name[32];
	char driver_version[32];
	struct drm_tern_info hw;	/* GET_INFO at open */
	uint32_t timeline;		/* syncobj receiving every job's fence */

	pthread_mutex_t lock;		/* protects the fields below */
	uint64_t last_point;		/* last timeline point used */
	unsigned int next_queue;	/* round robin cursor */
	unsigned int buffers;		/* buffers not yet freed */
	struct tern_fence *fences;	/* fences not yet released */
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

struct tern_fence {
	struct tern_device *dev;
	struct tern_fence *prev, *next;	/* on dev->fences, under dev->lock */
	int queue;			/* -1: nothing was submitted */
	uint64_t first_point;		/* timeline points of the fence's jobs */
	uint64_t last_point;
	uint64_t waited_point;		/* points up to this one are known done */
	int result;			/* final result once done */
	int done;
	char error[256];		/* tern_last_error() of a failed result */
};

/* Records what failed for tern_last_error(); returns @code. */
int tern_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills @minors with the accel minors bound to tern, sorted. */
int tern_scan_minors(unsigned int *minors, unsigned int max);

/* Name of a device error code (TERN_ERR_* of the register map). */
const char *tern_device_error_name(uint32_t code);

#endif /* TERN_INTERNAL_H */
