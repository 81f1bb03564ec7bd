/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern.ko: DRM accel driver of the tern chip.
 *
 * Documentation/driver.rst describes the files, the locks and the job flow.
 */
#ifndef __TERN_DRV_H__
#define __TERN_DRV_H__

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_mm.h>
#include <drm/drm_print.h>

#include <uapi/drm/tern_accel.h>

#include "tern_regs.h"

#define DRIVER_NAME		"tern"
#define DRIVER_DESC		"tern AI accelerator"
#define DRIVER_DATE		"20251125"
#define DRIVER_MAJOR		0
#define DRIVER_MINOR		1
#define DRIVER_PATCHLEVEL	0
#define DRIVER_VERSION_STR	"0.1.0"

/* Descriptors in each kernel-owned ring (capped by RING_MAX_ENTRIES). */
#define TERN_RING_ENTRIES		1024u

/*
 * Internal timeouts on silicon. On the emulated chip (REVISION platform
 * EMULATED) they are multiplied by TERN_EMULATED_TIMEOUT_SCALE because the
 * DMA engines run as host threads, in a guest that may itself be emulated.
 */
#define TERN_INJECT_TIMEOUT_MS		5000u
#define TERN_RING_SPACE_TIMEOUT_MS	10000u
/* A DMA job's timeout from when it is first in its ring (TDR, tern_queue.c). */
#define TERN_DMA_TIMEOUT_MS		10000u
#define TERN_EMULATED_TIMEOUT_SCALE	10u

struct file;
struct tern_core;
struct tern_ctx;
struct tern_links;
struct tern_mmu;
struct tern_client_stats;
struct tern_queue;
struct tern_recover;
struct tern_telem;
struct tern_uqs;

/**
 * struct tern_hw_info - what the chip reports about itself, read at probe
 *
 * Constant after probe; read without locks.
 */
struct tern_hw_info {
	u32 version;		/* TERN_REG_VERSION */
	u32 revision;		/* REVISION bits 7:0 */
	u32 platform;		/* TERN_PLATFORM_* */
	u32 caps;		/* TERN_CAP_* */
	u32 num_cores;
	u32 num_queues;		/* queues the chip has */
	u32 num_dma_engines;
	u32 ring_max_entries;
	u32 doorbell_stride;
	u64 hbm_size;
	u64 sbuf_size;		/* TERN_REG_SBUF_SIZE, 0 without compute */
	/* TERN_CAP_LINKS (tern_link.c); all 0 without, or outside a fabric. */
	u32 chip_id;		/* TERN_REG_CHIP_ID */
	u32 fabric_id;		/* TERN_REG_FABRIC_ID: 0 = not in a fabric */
	u32 fabric_chips;	/* TERN_REG_FABRIC_CHIPS */
	u32 num_links;		/* link ports, at most TERN_MAX_LINKS */
};

/**
 * struct tern_device - one tern chip
 */
struct tern_device {
	struct drm_device drm;
	struct pci_dev *pdev;

	void __iomem *regs;		/* BAR0 */
	void __iomem *doorbells;	/* BAR2 */
	resource_size_t hbm_phys;	/* bus address of BAR4 (HBM offset 0) */

	struct tern_hw_info hw;
	/*
	 * Kernel-managed queues (SUBMIT): queues 0..num_queues-1. The chip's
	 * queues after them, num_user_queues of them, are lent to processes
	 * as user-mode queues (tern_uq.c).
	 */
	u32 num_queues;
	u32 num_user_queues;
	/* 1 on silicon, TERN_EMULATED_TIMEOUT_SCALE on the emulated chip. */
	unsigned int timeout_scale;

	/* Array of num_queues queues, see tern_queue.h. */
	struct tern_queue *queues;
	/* DMA-coherent fence slots, one 64-byte line per queue. */
	__le64 *fence_slots;
	dma_addr_t fence_slots_dma;

	/*
	 * Cores with a launch ring the driver drives: hw.num_cores with
	 * TERN_CAP_COMPUTE and enough MSI-X vectors and doorbells, else 0.
	 */
	u32 num_cores;
	/* Array of num_cores cores, see tern_core.h. */
	struct tern_core *cores;
	/* HBM of the cores' slot tables, in hbm_mm (not counted in hbm_used). */
	struct drm_mm_node core_hbm_node;

	/* Protects hbm_mm and the retired-page lists and counts below */
	struct mutex hbm_lock;
	struct drm_mm hbm_mm;		/* HBM offsets of device BOs */
	/*
	 * HBM pages with an uncorrected ECC error (tern_ras.c): reserved in
	 * hbm_mm for good, or waiting for the buffer that holds them to go.
	 */
	struct list_head hbm_retired;
	struct list_head hbm_retire_pending;
	u32 hbm_retired_count;
	u32 hbm_retire_pending_count;
	atomic64_t hbm_used;		/* bytes in device BOs */
	atomic64_t host_used;		/* bytes in host BOs (imported ones too) */
	/* The driver's own DMA memory: rings, statuses, fence slots, page tables. */
	atomic64_t kernel_used;
	atomic64_t mmu_faults;		/* faults of kernel-ring jobs the MMU reported */
	atomic_t bo_count;		/* live BOs of every domain */

	struct mutex bo_list_lock;	/* Protects bo_list and next_bo_id */
	struct list_head bo_list;	/* every live BO, for debugfs */
	u64 next_bo_id;

	atomic64_t next_job_id;
	atomic64_t jobs_submitted;
	atomic64_t jobs_completed;	/* finished without error */
	atomic64_t jobs_failed;		/* finished with an error or aborted */
	atomic64_t device_errors;	/* errors the chip counted (ERR_COUNT) */
	/*
	 * ERR_COUNT already added to device_errors: updated by the error IRQ
	 * thread (which never runs concurrently with itself), zeroed by the
	 * resets of probe and remove.
	 */
	u32 err_count_seen;

	/*
	 * RAS (tern_ras.c), written by the error IRQ thread: HBM ECC events
	 * it acknowledged, and the HBM offset of the last line of each kind.
	 */
	atomic64_t ras_ce_events;
	atomic64_t ras_ue_events;
	atomic64_t ras_last_ce;
	atomic64_t ras_last_ue;

	/* Device MMU: context ids and page tables, see tern_mmu.h. */
	struct tern_mmu *mmu;
	/* User-mode queues, see tern_uq.h. */
	struct tern_uqs *uqs;
	/* Link ports and this chip's place in its fabric, see tern_link.h. */
	struct tern_links *links;
	/* Counters, sampler and hwmon (TERN_CAP_TELEMETRY), see tern_telem.c. */
	struct tern_telem *telem;
	/* The one recovery path: its work, state and counters, see tern_recover.h. */
	struct tern_recover *rec;

	struct dentry *debugfs_minor_link;
	/*
	 * debugfs uapi_major_override: when non-zero, GET_INFO reports this
	 * UAPI major instead of the driver's, so tests can show how user
	 * space refuses a driver it does not speak. Read once per ioctl.
	 */
	u32 uapi_major_override;
	/*
	 * debugfs dma_timeout_ms: when non-zero, the timeout of DMA jobs in
	 * milliseconds, not scaled (tests make a job exceed it). Read when a
	 * job becomes first in its ring.
	 */
	u32 dma_timeout_ms;
};

/**
 * struct tern_file - one open file: one context of the device
 *
 * Created at open and freed at postclose (drm_file.driver_priv). Each file
 * has its own device address space (@ctx) where its buffers are mapped, and
 * its own user-mode queues. The file belongs to the process that opened
 * it: another process holding it (after fork, or passed over a socket)
 * gets -EACCES from the driver's ioctls and mmaps (tern_file_check_owner()).
 */
struct tern_file {
	struct tern_device *tdev;
	struct tern_ctx *ctx;		/* see tern_mmu.h; NULL without an MMU */
	struct pid *owner;		/* thread group that opened the file */
	struct mutex uq_lock;		/* Protects uq_list */
	struct list_head uq_list;	/* this file's user-mode queues, tern_uq.c */
	struct tern_client_stats *stats;	/* fdinfo accounting, tern_telem.h */
	struct tern_points *points;	/* recent timeline points, tern_points.h */
};

static inline struct tern_file *to_tern_file(struct drm_file *file)
{
	return file->driver_priv;
}

int tern_file_check_owner(struct drm_file *file);
bool tern_file_is_tern(const struct file *filp);

static inline struct tern_device *to_tern_device(struct drm_device *drm)
{
	return container_of(drm, struct tern_device, drm);
}

static inline unsigned long tern_timeout_jiffies(struct tern_device *tdev,
						 unsigned int silicon_ms)
{
	return msecs_to_jiffies(silicon_ms * tdev->timeout_scale);
}

#define tern_err(tdev, fmt, ...) \
	drm_err(&(tdev)->drm, "%s(): " fmt, __func__, ##__VA_ARGS__)
#define tern_err_ratelimited(tdev, fmt, ...) \
	drm_err_ratelimited(&(tdev)->drm, fmt, ##__VA_ARGS__)
#define tern_dbg(tdev, fmt, ...) \
	drm_dbg_driver(&(tdev)->drm, fmt, ##__VA_ARGS__)

/* tern_sysfs.c */
int tern_sysfs_init(struct tern_device *tdev);

/* tern_debugfs.c */
void tern_debugfs_init(struct tern_device *tdev);
void tern_debugfs_link_minor(struct tern_device *tdev);
void tern_debugfs_unlink_minor(struct tern_device *tdev);

#endif /* __TERN_DRV_H__ */
