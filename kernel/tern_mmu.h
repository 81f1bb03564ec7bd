/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern device MMU: one context (address space) per open file, its page
 * tables, and the mappings of the file's buffers.
 */
#ifndef __TERN_MMU_H__
#define __TERN_MMU_H__

#include <linux/seq_file.h>
#include <linux/types.h>

#include "tern_drv.h"

struct drm_gem_object;
struct sg_table;
struct tern_bo;
struct tern_ctx;
struct tern_mapping;

/*
 * Probe: set up tdev->mmu (drmm_ managed). The driver needs the MMU: a chip
 * without TERN_CAP_MMU fails the probe with -ENODEV.
 */
int tern_mmu_init(struct tern_device *tdev);

/* Give @tfile a context (tfile->ctx): -EBUSY when every context is taken. */
int tern_ctx_open(struct tern_file *tfile);
/* Drop the file's reference; in-flight jobs keep the context alive. */
void tern_ctx_close(struct tern_file *tfile);

/* After a device reset: program every live context into the chip again. */
void tern_mmu_restore(struct tern_device *tdev);
/* The pid of the thread group that opened the context's file (0 for NULL). */
pid_t tern_ctx_pid(const struct tern_ctx *ctx);

/* The context's number: TERN_REG_CTX(n), descriptors' ctx and Q_CTX. */
u32 tern_ctx_id(const struct tern_ctx *ctx);

/* References held by jobs: a job keeps its context until it retires. */
struct tern_ctx *tern_ctx_get(struct tern_ctx *ctx);
void tern_ctx_put(struct tern_ctx *ctx);
struct tern_fence;

/*
 * A ring halted with TERN_ERR_MMU_FAULT at job @job_id of @ctx: read the
 * fault record of the ring whose registers start at @ring_regs
 * (TERN_REG_QUEUE(q) or TERN_REG_CORE(c)), log it, count it on the context
 * (debugfs "contexts") and keep the VA in @fence for WAIT. Returns the
 * fault info, TERN_FAULT_INFO().
 */
u32 tern_mmu_ring_fault(struct tern_device *tdev, u32 ring_regs, const char *ring,
			u32 index, u32 head, u64 job_id, struct tern_ctx *ctx,
			struct tern_fence *fence);

/*
 * True if [va, va + len) lies inside one buffer mapped in @ctx (writable
 * by the device if @write). The device's MMU checks every access anyway;
 * this lets ioctls refuse a bad address with -EINVAL up front.
 */
bool tern_ctx_range_ok(struct tern_ctx *ctx, u64 va, u64 len, bool write);

/*
 * drm_gem_object_funcs.open/.close of every tern BO: a buffer is mapped in
 * a file's context while the file has a handle to it.
 */
int tern_mmu_gem_open(struct drm_gem_object *obj, struct drm_file *file);
void tern_mmu_gem_close(struct drm_gem_object *obj, struct drm_file *file);

/*
 * A job's reference on the mapping of @bo in @ctx: the mapping (and the
 * buffer's pages) stay until the job drops it, even if the file closes
 * its handle meanwhile. NULL if @bo is not mapped in @ctx.
 */
struct tern_mapping *tern_mapping_get(struct tern_ctx *ctx, struct tern_bo *bo);
void tern_mapping_put(struct tern_mapping *map);
u64 tern_mapping_va(const struct tern_mapping *map);
struct tern_bo *tern_mapping_bo(const struct tern_mapping *map);
/* Host BOs: the DMA-mapped pages, to sync around a job; else NULL. */
struct sg_table *tern_mapping_sgt(const struct tern_mapping *map);

/* Device VA of @bo in @ctx, 0 if it is not mapped there (BO_INFO). */
u64 tern_ctx_bo_va(struct tern_ctx *ctx, struct tern_bo *bo);

/* debugfs "contexts". */
void tern_mmu_show_contexts(struct tern_device *tdev, struct seq_file *m);

#endif /* __TERN_MMU_H__ */
