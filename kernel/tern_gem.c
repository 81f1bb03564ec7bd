// SPDX-License-Identifier: GPL-2.0
/*
 * tern buffer objects.
 *
 * Host BOs are shmem GEM objects: the device reaches their pages through
 * the DMA API, user space maps them through the shmem helper, and they can
 * be exported as dma-bufs (PRIME). Device BOs are ranges of the chip's HBM,
 * handed out by a drm_mm allocator; user space maps them write-combined
 * through BAR4. Device BOs cannot be exported.
 *
 * Every BO, imported ones too, is mapped in the device address space of
 * each file that has a handle to it (tern_mmu.c): the .open and .close
 * object functions below. Device BOs of 2 MiB or more get 2 MiB aligned
 * HBM when there is some, so the MMU can map them with 2 MiB pages.
 */

#include <linux/dma-buf.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_vma_manager.h>

#include "tern_gem.h"
#include "tern_mmu.h"
#include "tern_ras.h"

/* HBM is cleared through BAR4 in chunks of this size. */
#define TERN_HBM_CLEAR_CHUNK	SZ_64M

static void tern_gem_fini(struct drm_device *drm, void *arg)
{
	struct tern_device *tdev = to_tern_device(drm);

	tern_ras_retire_fini(tdev);
	drm_mm_takedown(&tdev->hbm_mm);
}

int tern_gem_init(struct tern_device *tdev)
{
	int ret;

	ret = drmm_mutex_init(&tdev->drm, &tdev->hbm_lock);
	if (ret)
		return ret;
	ret = drmm_mutex_init(&tdev->drm, &tdev->bo_list_lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&tdev->bo_list);
	INIT_LIST_HEAD(&tdev->hbm_retired);
	INIT_LIST_HEAD(&tdev->hbm_retire_pending);

	drm_mm_init(&tdev->hbm_mm, 0, tdev->hw.hbm_size);
	return drmm_add_action_or_reset(&tdev->drm, tern_gem_fini, NULL);
}

/*
 * Count a fully created BO in bo_count and the debugfs list, and a host BO
 * in host_used (device BOs count in hbm_used once they have their HBM).
 */
static void tern_bo_account(struct tern_device *tdev, struct tern_bo *bo)
{
	mutex_lock(&tdev->bo_list_lock);
	bo->id = ++tdev->next_bo_id;
	list_add_tail(&bo->list_node, &tdev->bo_list);
	mutex_unlock(&tdev->bo_list_lock);
	atomic_inc(&tdev->bo_count);
	if (!tern_bo_is_device(bo))
		atomic64_add(tern_bo_size(bo), &tdev->host_used);
}

static void tern_bo_unaccount(struct tern_device *tdev, struct tern_bo *bo)
{
	if (list_empty(&bo->list_node))
		return;

	mutex_lock(&tdev->bo_list_lock);
	list_del_init(&bo->list_node);
	mutex_unlock(&tdev->bo_list_lock);
	atomic_dec(&tdev->bo_count);
	if (!tern_bo_is_device(bo))
		atomic64_sub(tern_bo_size(bo), &tdev->host_used);
}

/*
 * Host BOs are pinned while a context maps them (from handle creation), so
 * their pages belong to no process the OOM killer could choose: all tern
 * devices together may hold at most TERN_HOST_PIN_PERCENT of RAM in host
 * BOs; BO_CREATE fails with -ENOMEM past it.
 */
#define TERN_HOST_PIN_PERCENT	50
static atomic64_t tern_host_bytes = ATOMIC64_INIT(0);

static int tern_host_reserve(u64 size)
{
	s64 limit = div_u64((u64)totalram_pages() * TERN_HOST_PIN_PERCENT, 100) << PAGE_SHIFT;

	if (size > (u64)limit)
		return -ENOMEM;
	if (atomic64_add_return(size, &tern_host_bytes) > limit) {
		atomic64_sub(size, &tern_host_bytes);
		return -ENOMEM;
	}
	return 0;
}

/* Host BOs: the shmem helper's object functions, with our own free. */
static void tern_host_bo_free(struct drm_gem_object *obj)
{
	struct tern_bo *bo = to_tern_bo(obj);

	tern_bo_unaccount(to_tern_device(obj->dev), bo);
	/* Imported BOs hold none: their pages are their exporter's. */
	atomic64_sub(bo->host_reserved, &tern_host_bytes);
	drm_gem_shmem_free(&bo->shmem);
}

static const struct drm_gem_object_funcs tern_host_bo_funcs = {
	.free = tern_host_bo_free,
	.open = tern_mmu_gem_open,
	.close = tern_mmu_gem_close,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/*
 * &drm_driver.gem_create_object: allocates every shmem object of this
 * device, ours and imported ones. The helper frees it itself (kfree) if its
 * own setup fails, so accounting happens only once creation succeeded.
 */
struct drm_gem_object *tern_gem_create_object(struct drm_device *drm, size_t size)
{
	struct tern_bo *bo;

	BUILD_BUG_ON(offsetof(struct tern_bo, shmem) != 0);

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);

	INIT_LIST_HEAD(&bo->list_node);
	bo->domain = DRM_TERN_BO_HOST;
	bo->shmem.base.funcs = &tern_host_bo_funcs;
	return &bo->shmem.base;
}

/* PRIME import of a foreign dma-buf: a host BO over the exporter's pages. */
struct drm_gem_object *tern_gem_prime_import_sg_table(struct drm_device *drm,
						      struct dma_buf_attachment *attach,
						      struct sg_table *sgt)
{
	struct drm_gem_object *obj;

	obj = drm_gem_shmem_prime_import_sg_table(drm, attach, sgt);
	if (!IS_ERR(obj))
		tern_bo_account(to_tern_device(drm), to_tern_bo(obj));
	return obj;
}

static struct tern_bo *tern_host_bo_create(struct tern_device *tdev, u64 size)
{
	struct drm_gem_shmem_object *shmem;
	struct tern_bo *bo;
	int ret;

	ret = tern_host_reserve(size);
	if (ret) {
		tern_dbg(tdev, "host BO of %llu bytes: past %u%% of RAM in host BOs\n", size,
			 TERN_HOST_PIN_PERCENT);
		return ERR_PTR(ret);
	}
	shmem = drm_gem_shmem_create(&tdev->drm, size);
	if (IS_ERR(shmem)) {
		atomic64_sub(size, &tern_host_bytes);
		return ERR_CAST(shmem);
	}

	bo = to_tern_bo(&shmem->base);
	bo->host_reserved = size;
	tern_bo_account(tdev, bo);
	return bo;
}

/* Device BOs */

/* Reserve a page-aligned HBM range of @size bytes for @bo. */
static int tern_hbm_alloc(struct tern_device *tdev, struct tern_bo *bo, u64 size)
{
	int ret = -ENOSPC;

	mutex_lock(&tdev->hbm_lock);
	if (size >= TERN_HUGE_PAGE_SIZE)
		ret = drm_mm_insert_node_generic(&tdev->hbm_mm, &bo->hbm_node, size,
						 TERN_HUGE_PAGE_SIZE, 0, DRM_MM_INSERT_BEST);
	if (ret)
		ret = drm_mm_insert_node_generic(&tdev->hbm_mm, &bo->hbm_node, size, PAGE_SIZE,
						 0, DRM_MM_INSERT_BEST);
	mutex_unlock(&tdev->hbm_lock);
	if (ret)
		return -ENOSPC;

	atomic64_add(size, &tdev->hbm_used);
	return 0;
}

static void tern_hbm_free(struct tern_device *tdev, struct tern_bo *bo)
{
	u64 start = bo->hbm_node.start, size = bo->hbm_node.size;

	mutex_lock(&tdev->hbm_lock);
	drm_mm_remove_node(&bo->hbm_node);
	if (!list_empty(&tdev->hbm_retire_pending))
		tern_ras_retire_freed_locked(tdev, start, size);
	mutex_unlock(&tdev->hbm_lock);

	atomic64_sub(size, &tdev->hbm_used);
}

static void tern_hbm_bo_free(struct drm_gem_object *obj)
{
	struct tern_device *tdev = to_tern_device(obj->dev);
	struct tern_bo *bo = to_tern_bo(obj);

	tern_bo_unaccount(tdev, bo);
	if (drm_mm_node_allocated(&bo->hbm_node))
		tern_hbm_free(tdev, bo);
	drm_gem_object_release(obj);
	kfree(bo);
}

static int tern_hbm_bo_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct tern_device *tdev = to_tern_device(obj->dev);
	struct tern_bo *bo = to_tern_bo(obj);
	unsigned long pfn;
	int idx, ret;

	/* BAR pages cannot be copied on write. */
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;

	/* BAR4 is released when the device is unbound. */
	if (!drm_dev_enter(obj->dev, &idx))
		return -ENODEV;

	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
	/* drm_gem_mmap() only maps whole objects from their start. */
	pfn = PHYS_PFN(tdev->hbm_phys + tern_bo_hbm_offset(bo));
	ret = io_remap_pfn_range(vma, vma->vm_start, pfn, vma->vm_end - vma->vm_start,
				 vma->vm_page_prot);

	drm_dev_exit(idx);
	return ret;
}

static struct dma_buf *tern_hbm_bo_export(struct drm_gem_object *obj, int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static const struct vm_operations_struct tern_hbm_vm_ops = {
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static const struct drm_gem_object_funcs tern_hbm_bo_funcs = {
	.free = tern_hbm_bo_free,
	.open = tern_mmu_gem_open,
	.close = tern_mmu_gem_close,
	.mmap = tern_hbm_bo_mmap,
	.export = tern_hbm_bo_export,
	.vm_ops = &tern_hbm_vm_ops,
};

/* New device BOs read as zeros: HBM may hold another process's data. */
static int tern_hbm_clear(struct tern_device *tdev, u64 offset, u64 size)
{
	while (size) {
		u64 chunk = min_t(u64, size, TERN_HBM_CLEAR_CHUNK);
		void __iomem *p;

		if (fatal_signal_pending(current))
			return -EINTR;

		p = ioremap_wc(tdev->hbm_phys + offset, chunk);
		if (!p)
			return -ENOMEM;
		memset_io(p, 0, chunk);
		iounmap(p);

		offset += chunk;
		size -= chunk;
		cond_resched();
	}
	return 0;
}

static struct tern_bo *tern_hbm_bo_create(struct tern_device *tdev, u64 size)
{
	struct drm_gem_object *obj;
	struct tern_bo *bo;
	int ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);

	INIT_LIST_HEAD(&bo->list_node);
	bo->domain = DRM_TERN_BO_DEVICE;
	obj = tern_bo_obj(bo);
	obj->funcs = &tern_hbm_bo_funcs;
	drm_gem_private_object_init(&tdev->drm, obj, size);
	/* From here on tern_hbm_bo_free() undoes whatever was done. */
	tern_bo_account(tdev, bo);

	ret = tern_hbm_alloc(tdev, bo, size);
	if (ret)
		goto err_put;

	ret = tern_hbm_clear(tdev, tern_bo_hbm_offset(bo), size);
	if (ret)
		goto err_put;

	ret = drm_gem_create_mmap_offset(obj);
	if (ret)
		goto err_put;

	return bo;

err_put:
	drm_gem_object_put(obj);
	return ERR_PTR(ret);
}

struct tern_bo *tern_bo_lookup(struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	return obj ? to_tern_bo(obj) : NULL;
}

int tern_ioctl_bo_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct drm_tern_bo_create *args = data;
	struct drm_gem_object *obj;
	struct tern_bo *bo;
	u64 size;
	int idx, ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if ((args->flags & ~DRM_TERN_BO_READ_ONLY) || args->pad || args->reserved[0] ||
	    args->reserved[1] ||
	    (args->domain != DRM_TERN_BO_HOST && args->domain != DRM_TERN_BO_DEVICE) ||
	    !args->size || args->size > DRM_TERN_BO_MAX_SIZE ||
	    check_add_overflow(args->size, (u64)PAGE_SIZE - 1, &size)) {
		ret = -EINVAL;
		goto out_exit;
	}
	size &= PAGE_MASK;

	if (args->domain == DRM_TERN_BO_HOST)
		bo = tern_host_bo_create(tdev, size);
	else
		bo = tern_hbm_bo_create(tdev, size);
	if (IS_ERR(bo)) {
		ret = PTR_ERR(bo);
		goto out_exit;
	}
	/* Before the handle: creating it maps the BO in the file's context. */
	bo->flags = args->flags;

	obj = tern_bo_obj(bo);
	ret = drm_gem_handle_create(file, obj, &args->handle);
	/* The handle holds its own reference; on failure this frees the BO. */
	drm_gem_object_put(obj);

out_exit:
	drm_dev_exit(idx);
	return ret;
}

int tern_ioctl_bo_info(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_tern_bo_info *args = data;
	struct drm_gem_object *obj;
	struct tern_bo *bo;
	int idx, ret;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags || args->reserved) {
		ret = -EINVAL;
		goto out_exit;
	}

	bo = tern_bo_lookup(file, args->handle);
	if (!bo) {
		ret = -ENOENT;
		goto out_exit;
	}
	obj = tern_bo_obj(bo);

	ret = drm_gem_create_mmap_offset(obj);
	if (!ret) {
		args->size = obj->size;
		args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
		args->device_addr = tern_bo_is_device(bo) ? tern_bo_hbm_offset(bo) : 0;
		args->domain = bo->domain;
		args->bo_flags = bo->flags;
		args->device_va = tern_ctx_bo_va(to_tern_file(file)->ctx, bo);
	}
	drm_gem_object_put(obj);

out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* @bo stays alive while it is on bo_list: its free takes it off first. */
static void tern_gem_show_bo_locked(struct tern_device *tdev, struct tern_bo *bo,
				    struct seq_file *m)
{
	struct drm_gem_object *obj = tern_bo_obj(bo);

	lockdep_assert_held(&tdev->bo_list_lock);

	if (tern_bo_is_device(bo))
		seq_printf(m, "%8llu device %12zu 0x%010llx %4u no       %s\n", bo->id,
			   obj->size, tern_bo_hbm_offset(bo), kref_read(&obj->refcount),
			   bo->flags & DRM_TERN_BO_READ_ONLY ? "ro" : "rw");
	else
		seq_printf(m, "%8llu host   %12zu %12s %4u %-8s %s\n", bo->id, obj->size, "-",
			   kref_read(&obj->refcount), obj->import_attach ? "yes" : "no",
			   bo->flags & DRM_TERN_BO_READ_ONLY ? "ro" : "rw");
}

void tern_gem_show_bos(struct tern_device *tdev, struct seq_file *m)
{
	struct tern_bo *bo;

	seq_printf(m, "bo_count %d hbm_used %lld hbm_total %llu\n",
		   atomic_read(&tdev->bo_count), atomic64_read(&tdev->hbm_used),
		   tdev->hw.hbm_size);
	seq_puts(m, "      id domain         size   hbm_offset refs imported access\n");

	mutex_lock(&tdev->bo_list_lock);
	list_for_each_entry(bo, &tdev->bo_list, list_node)
		tern_gem_show_bo_locked(tdev, bo, m);
	mutex_unlock(&tdev->bo_list_lock);
}
