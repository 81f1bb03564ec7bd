/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern device MMU: one context (address space) per open file, its page
 * tables, and the mappings of the file's buffers.
 */
#ifndef __TERN_MMU_H__
#define __TERN_MMU_H__

#include "tern_drv.h"

/* Probe: set up tdev->mmu with TERN_CAP_MMU (drmm_ managed), else leave it NULL. */
int tern_mmu_init(struct tern_device *tdev);

/* Give @tfile a context (tfile->ctx), or leave it NULL without an MMU. */
int tern_ctx_open(struct tern_file *tfile);
/* Drop the file's reference; in-flight jobs keep the context alive. */
void tern_ctx_close(struct tern_file *tfile);

/* The context's number: TERN_REG_CTX(n), descriptors' ctx and Q_CTX. */
u32 tern_ctx_id(const struct tern_ctx *ctx);

/*
 * True if [va, va + len) lies inside one buffer mapped in @ctx (writable
 * by the device if @write). The device's MMU checks every access anyway;
 * this lets ioctls refuse a bad address with -EINVAL up front.
 */
bool tern_ctx_range_ok(struct tern_ctx *ctx, u64 va, u64 len, bool write);

#endif /* __TERN_MMU_H__ */
