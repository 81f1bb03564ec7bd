// SPDX-License-Identifier: GPL-2.0
/*
 * tern device MMU: contexts, page tables and buffer mappings.
 *
 * Every open file is one context of the chip (ids 1..NUM_CONTEXTS-1, at
 * most TERN_MAX_CONTEXTS): a three-level page table in DMA-coherent host
 * pages and a VA allocator over [4 GiB, 2^TERN_VA_BITS). A buffer is mapped
 * in a file's context while the file has a handle to it: the handles
 * together hold one reference on the mapping, and each job of that file
 * that names the buffer holds another until it retires. The last
 * reference clears the page-table entries, invalidates the context's TLB
 * entries (MMU_INVALIDATE) and only then gives the pages and the VA range
 * back. A mapping holds a reference on its context, and jobs hold one
 * too, so a context lives on after its file closes until the last job
 * retires; then it is disabled, invalidated and freed.
 *
 * Each context's VAs start at its own base, 4 GiB + id GiB + a random
 * multiple of 2 MiB below 1 GiB: two files' buffers never share a VA and
 * a VA from another process is not a good guess. Each mapping is followed
 * by one unmapped guard page, so an access that runs past a buffer faults
 * instead of reaching the next one. Page tables
 * are kept until the context is freed: the VA allocator reuses ranges, so
 * they never exceed what the context's peak mappings needed.
 */

#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_mm.h>

#include "tern_gem.h"
#include "tern_hw.h"
#include "tern_job.h"
#include "tern_mmu.h"
#include "tern_telem.h"
#include "tern_trace.h"

#define TERN_VA_START		SZ_4G
#define TERN_VA_END		BIT_ULL(TERN_VA_BITS)
#define TERN_VA_GUARD		TERN_PAGE_SIZE
/* Context n's VAs start at TERN_VA_START + n * TERN_VA_SLICE + random. */
#define TERN_VA_SLICE		SZ_1G

/* One 4 KiB page table, and the tables below it (L0 and L1 only). */
struct tern_pt {
	__le64 *entries;		/* DMA-coherent, TERN_PT_ENTRIES */
	dma_addr_t dma;
	struct tern_pt **next;		/* by index; NULL in L2 tables */
};

/*
 * struct tern_mmu - the contexts of one chip
 */
struct tern_mmu {
	struct tern_device *tdev;
	u32 num_contexts;		/* ids 1..num_contexts-1 */
	struct ida ids;			/* has its own lock */
	struct mutex list_lock;		/* Protects contexts and their CTX registers */
	struct list_head contexts;	/* tern_ctx.node, for debugfs */
};

/*
 * struct tern_ctx - one device address space (one open file)
 */
struct tern_ctx {
	struct tern_device *tdev;
	struct kref ref;		/* the file, each mapping, each job */
	u32 id;
	struct pid *owner;		/* thread group that opened the file */
	struct list_head node;		/* in tern_mmu.contexts */

	/* Protects root (and every table below), va_mm, maps and the counts. */
	struct mutex lock;
	struct tern_pt root;		/* L0 */
	struct drm_mm va_mm;		/* tern_mapping.va */
	struct xarray maps;		/* handle mappings, by tern_bo.id */
	u64 mapped_bytes;
	u64 ptes_4k;
	u64 ptes_2m;
	u32 num_maps;
	atomic64_t faults;
};

/*
 * struct tern_mapping - one buffer mapped in one context
 */
struct tern_mapping {
	struct kref ref;		/* the file's handles (one), each job (one) */
	struct tern_ctx *ctx;		/* holds a context reference */
	struct tern_bo *bo;		/* holds a GEM reference (and a pin) */
	struct drm_mm_node va;		/* the buffer and its guard page */
	u32 handles;			/* under ctx->lock: the file's handles to bo */
	bool pinned;
	struct sg_table *sgt;		/* host BOs */
	u64 ptes_4k;
	u64 ptes_2m;
};

int tern_mmu_init(struct tern_device *tdev)
{
	struct tern_mmu *mmu;
	int ret;

	if (!(tdev->hw.caps & TERN_CAP_MMU)) {
		drm_err(&tdev->drm, "the chip has no device MMU (TERN_CAP_MMU): not supported\n");
		return -ENODEV;
	}

	mmu = drmm_kzalloc(&tdev->drm, sizeof(*mmu), GFP_KERNEL);
	if (!mmu)
		return -ENOMEM;
	mmu->tdev = tdev;
	mmu->num_contexts = min_t(u32, tern_rd32(tdev, TERN_REG_NUM_CONTEXTS), TERN_MAX_CONTEXTS);
	if (mmu->num_contexts < 2) {
		drm_err(&tdev->drm, "the chip reports %u MMU contexts, at least 2 needed\n",
			mmu->num_contexts);
		return -ENODEV;
	}
	/* Nothing is allocated in it before the last context is gone. */
	ida_init(&mmu->ids);
	ret = drmm_mutex_init(&tdev->drm, &mmu->list_lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&mmu->contexts);
	tdev->mmu = mmu;
	return 0;
}

u32 tern_ctx_id(const struct tern_ctx *ctx)
{
	return ctx ? ctx->id : 0;
}

/*
 * Drop the chip's cached translations of @ctx. The read flushes the posted
 * write: the chip has dropped them when it returns. Without the device
 * (unbound, so reset) there is nothing cached.
 */
static void tern_ctx_invalidate(struct tern_ctx *ctx)
{
	struct tern_device *tdev = ctx->tdev;
	int idx;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return;
	tern_wr32(tdev, TERN_REG_MMU_INVALIDATE, ctx->id);
	tern_rd32(tdev, TERN_REG_STATUS);
	drm_dev_exit(idx);
}

static int tern_pt_alloc(struct tern_device *tdev, struct tern_pt *pt, bool with_next)
{
	pt->entries = dma_alloc_coherent(tdev->drm.dev, TERN_PAGE_SIZE, &pt->dma, GFP_KERNEL);
	if (!pt->entries)
		return -ENOMEM;
	atomic64_add(TERN_PAGE_SIZE, &tdev->kernel_used);
	if (with_next) {
		pt->next = kcalloc(TERN_PT_ENTRIES, sizeof(*pt->next), GFP_KERNEL);
		if (!pt->next) {
			dma_free_coherent(tdev->drm.dev, TERN_PAGE_SIZE, pt->entries, pt->dma);
			atomic64_sub(TERN_PAGE_SIZE, &tdev->kernel_used);
			pt->entries = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/* Free @pt and the tables below it; @pt itself is not freed. */
static void tern_pt_free(struct tern_device *tdev, struct tern_pt *pt)
{
	u32 i;

	if (pt->next) {
		for (i = 0; i < TERN_PT_ENTRIES; i++) {
			if (!pt->next[i])
				continue;
			tern_pt_free(tdev, pt->next[i]);
			kfree(pt->next[i]);
		}
		kfree(pt->next);
	}
	if (pt->entries) {
		dma_free_coherent(tdev->drm.dev, TERN_PAGE_SIZE, pt->entries, pt->dma);
		atomic64_sub(TERN_PAGE_SIZE, &tdev->kernel_used);
	}
}

/* The table below entry @i of @pt, allocated and linked if missing. */
static struct tern_pt *tern_pt_next(struct tern_ctx *ctx, struct tern_pt *pt, u32 i,
				    bool with_next)
{
	struct tern_pt *child = pt->next[i];

	lockdep_assert_held(&ctx->lock);

	if (child)
		return child;
	child = kzalloc(sizeof(*child), GFP_KERNEL);
	if (!child)
		return NULL;
	if (tern_pt_alloc(ctx->tdev, child, with_next)) {
		kfree(child);
		return NULL;
	}
	pt->next[i] = child;
	/* The table is zeroed before the device can see the link. */
	dma_wmb();
	WRITE_ONCE(pt->entries[i], cpu_to_le64(TERN_PTE_VALID | (child->dma & TERN_PTE_ADDR_MASK)));
	return child;
}

/* Write (or with @pte 0 clear) the leaf of @va: a 2 MiB page if @huge. */
static int tern_pt_set(struct tern_ctx *ctx, u64 va, bool huge, u64 pte)
{
	struct tern_pt *l1, *l2;
	u32 i1 = TERN_PT_INDEX(va, 1), i2 = TERN_PT_INDEX(va, 2);

	lockdep_assert_held(&ctx->lock);

	l1 = tern_pt_next(ctx, &ctx->root, TERN_PT_INDEX(va, 0), true);
	if (!l1)
		return -ENOMEM;
	if (huge) {
		/*
		 * An L2 table left here by earlier 4 KiB pages is empty (the
		 * range was free) and its translations were invalidated when
		 * they were unmapped: the 2 MiB page replaces it.
		 */
		if (pte && l1->next[i1]) {
			tern_pt_free(ctx->tdev, l1->next[i1]);
			kfree(l1->next[i1]);
			l1->next[i1] = NULL;
		}
		WRITE_ONCE(l1->entries[i1], cpu_to_le64(pte));
		return 0;
	}
	l2 = tern_pt_next(ctx, l1, i1, false);
	if (!l2)
		return -ENOMEM;
	WRITE_ONCE(l2->entries[i2], cpu_to_le64(pte));
	return 0;
}

/* Bytes the page at @off of @map covers: 2 MiB where VA and HBM allow it. */
static u64 tern_map_step(struct tern_mapping *map, u64 off)
{
	u64 va = map->va.start + off, size = tern_bo_size(map->bo);

	if (tern_bo_is_device(map->bo) && IS_ALIGNED(va, TERN_HUGE_PAGE_SIZE) &&
	    IS_ALIGNED(tern_bo_hbm_offset(map->bo) + off, TERN_HUGE_PAGE_SIZE) &&
	    size - off >= TERN_HUGE_PAGE_SIZE)
		return TERN_HUGE_PAGE_SIZE;
	return TERN_PAGE_SIZE;
}

/* Clear the first @len bytes of @map's pages (its table, not the TLB). */
static void tern_map_clear(struct tern_mapping *map, u64 len)
{
	u64 off, step;

	for (off = 0; off < len; off += step) {
		step = tern_map_step(map, off);
		/* Tables on the way exist: these pages were mapped. */
		tern_pt_set(map->ctx, map->va.start + off, step == TERN_HUGE_PAGE_SIZE, 0);
		if (step == TERN_HUGE_PAGE_SIZE)
			map->ptes_2m--;
		else
			map->ptes_4k--;
	}
}

static int tern_map_page(struct tern_mapping *map, u64 off, u64 step, u64 addr, u64 bits)
{
	bool huge = step == TERN_HUGE_PAGE_SIZE;
	int ret;

	/* L2 entries and 2 MiB L1 entries are both leaves. */
	ret = tern_pt_set(map->ctx, map->va.start + off, huge,
			  bits | TERN_PTE_LEAF | (addr & TERN_PTE_ADDR_MASK));
	if (ret)
		return ret;
	if (huge)
		map->ptes_2m++;
	else
		map->ptes_4k++;
	return 0;
}

/* Write @map's page-table entries; on failure clear what was written. */
static int tern_map_fill(struct tern_mapping *map)
{
	struct tern_bo *bo = map->bo;
	u64 size = tern_bo_size(bo), off = 0, step;
	u64 bits = TERN_PTE_VALID | TERN_PTE_READ;
	struct scatterlist *sg;
	unsigned int i;
	int ret = 0;

	if (!(bo->flags & DRM_TERN_BO_READ_ONLY))
		bits |= TERN_PTE_WRITE;

	if (tern_bo_is_device(bo)) {
		for (off = 0; off < size; off += step) {
			step = tern_map_step(map, off);
			ret = tern_map_page(map, off, step, tern_bo_hbm_offset(bo) + off,
					    bits | TERN_PTE_HBM);
			if (ret)
				goto err_clear;
		}
		return 0;
	}

	for_each_sgtable_dma_sg(map->sgt, sg, i) {
		u64 addr = sg_dma_address(sg), len = sg_dma_len(sg), done;

		if (!IS_ALIGNED(addr | len, TERN_PAGE_SIZE)) {
			ret = -EINVAL;
			goto err_clear;
		}
		for (done = 0; done < len && off < size; done += TERN_PAGE_SIZE) {
			ret = tern_map_page(map, off, TERN_PAGE_SIZE, addr + done, bits);
			if (ret)
				goto err_clear;
			off += TERN_PAGE_SIZE;
		}
	}
	if (off < size) {
		ret = -EINVAL;
		goto err_clear;
	}
	return 0;

err_clear:
	tern_map_clear(map, off);
	return ret;
}

/* Pin a host BO's pages and get them DMA-mapped for as long as it is mapped. */
static int tern_map_pin(struct tern_mapping *map)
{
	struct drm_gem_shmem_object *shmem = &map->bo->shmem;
	struct sg_table *sgt;
	int ret;

	if (tern_bo_is_device(map->bo))
		return 0;
	/* Imported BOs are pinned by their exporter. */
	if (!shmem->base.import_attach) {
		ret = drm_gem_shmem_pin(shmem);
		if (ret)
			return ret;
		map->pinned = true;
	}
	sgt = drm_gem_shmem_get_pages_sgt(shmem);
	if (IS_ERR(sgt)) {
		if (map->pinned)
			drm_gem_shmem_unpin(shmem);
		map->pinned = false;
		return PTR_ERR(sgt);
	}
	map->sgt = sgt;
	return 0;
}

static void tern_map_unpin(struct tern_mapping *map)
{
	if (map->pinned)
		drm_gem_shmem_unpin(&map->bo->shmem);
}

/* Map @bo in @ctx at a new VA: the handles' reference, one handle. */
static struct tern_mapping *tern_map_create_locked(struct tern_ctx *ctx, struct tern_bo *bo)
{
	struct drm_gem_object *obj = tern_bo_obj(bo);
	u64 size = tern_bo_size(bo), align = TERN_PAGE_SIZE;
	struct tern_mapping *map;
	int ret;

	lockdep_assert_held(&ctx->lock);

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	kref_init(&map->ref);
	map->ctx = ctx;
	map->bo = bo;
	map->handles = 1;

	/* Large device buffers get 2 MiB aligned VAs, for 2 MiB pages. */
	if (tern_bo_is_device(bo) && size >= TERN_HUGE_PAGE_SIZE)
		align = TERN_HUGE_PAGE_SIZE;
	ret = drm_mm_insert_node_generic(&ctx->va_mm, &map->va, size + TERN_VA_GUARD, align,
					 0, DRM_MM_INSERT_BEST);
	if (ret) {
		ret = -ENOSPC;
		goto err_free;
	}
	ret = tern_map_pin(map);
	if (ret)
		goto err_remove;
	ret = tern_map_fill(map);
	if (ret)
		goto err_unpin;
	ret = xa_err(xa_store(&ctx->maps, bo->id, map, GFP_KERNEL));
	if (ret)
		goto err_clear;

	drm_gem_object_get(obj);
	kref_get(&ctx->ref);
	ctx->mapped_bytes += size;
	ctx->ptes_4k += map->ptes_4k;
	ctx->ptes_2m += map->ptes_2m;
	ctx->num_maps++;
	return map;

err_clear:
	/* Never visible to a job: no translation of it can be cached. */
	tern_map_clear(map, size);
err_unpin:
	tern_map_unpin(map);
err_remove:
	drm_mm_remove_node(&map->va);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}

static void tern_ctx_release(struct kref *ref);

/* The last reference: unmap, invalidate, then give everything back. */
static void tern_mapping_release(struct kref *ref)
{
	struct tern_mapping *map = container_of(ref, struct tern_mapping, ref);
	struct tern_ctx *ctx = map->ctx;
	u64 size = tern_bo_size(map->bo);

	mutex_lock(&ctx->lock);
	ctx->ptes_4k -= map->ptes_4k;
	ctx->ptes_2m -= map->ptes_2m;
	tern_map_clear(map, size);
	/* Before the pages and the VA range can be reused. */
	tern_ctx_invalidate(ctx);
	drm_mm_remove_node(&map->va);
	ctx->mapped_bytes -= size;
	ctx->num_maps--;
	mutex_unlock(&ctx->lock);

	tern_map_unpin(map);
	drm_gem_object_put(tern_bo_obj(map->bo));
	kfree(map);
	kref_put(&ctx->ref, tern_ctx_release);
}

void tern_mapping_put(struct tern_mapping *map)
{
	if (map)
		kref_put(&map->ref, tern_mapping_release);
}

struct tern_mapping *tern_mapping_get(struct tern_ctx *ctx, struct tern_bo *bo)
{
	struct tern_mapping *map;

	mutex_lock(&ctx->lock);
	map = xa_load(&ctx->maps, bo->id);
	if (map)
		kref_get(&map->ref);
	mutex_unlock(&ctx->lock);
	return map;
}

u64 tern_mapping_va(const struct tern_mapping *map)
{
	return map->va.start;
}

struct tern_bo *tern_mapping_bo(const struct tern_mapping *map)
{
	return map->bo;
}

struct sg_table *tern_mapping_sgt(const struct tern_mapping *map)
{
	return map->sgt;
}

u64 tern_ctx_bo_va(struct tern_ctx *ctx, struct tern_bo *bo)
{
	struct tern_mapping *map;
	u64 va = 0;

	mutex_lock(&ctx->lock);
	map = xa_load(&ctx->maps, bo->id);
	if (map)
		va = map->va.start;
	mutex_unlock(&ctx->lock);
	return va;
}

int tern_mmu_gem_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct tern_ctx *ctx = to_tern_file(file)->ctx;
	struct tern_bo *bo = to_tern_bo(obj);
	struct tern_mapping *map;
	int ret = 0;

	mutex_lock(&ctx->lock);
	map = xa_load(&ctx->maps, bo->id);
	if (map) {
		map->handles++;
	} else {
		map = tern_map_create_locked(ctx, bo);
		if (IS_ERR(map)) {
			ret = PTR_ERR(map);
			tern_dbg(ctx->tdev, "cannot map BO %llu in context %u: %d\n", bo->id,
				 ctx->id, ret);
		}
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

void tern_mmu_gem_close(struct drm_gem_object *obj, struct drm_file *file)
{
	struct tern_ctx *ctx = to_tern_file(file)->ctx;
	struct tern_bo *bo = to_tern_bo(obj);
	struct tern_mapping *map;

	mutex_lock(&ctx->lock);
	map = xa_load(&ctx->maps, bo->id);
	if (map && --map->handles == 0)
		xa_erase(&ctx->maps, bo->id);
	else
		map = NULL;
	mutex_unlock(&ctx->lock);

	/* Jobs still in flight keep it mapped until they retire. */
	tern_mapping_put(map);
}

bool tern_ctx_range_ok(struct tern_ctx *ctx, u64 va, u64 len, bool write)
{
	struct tern_mapping *map;
	struct drm_mm_node *node;
	bool ok = false;
	u64 end;

	if (!ctx || !len || check_add_overflow(va, len, &end))
		return false;

	mutex_lock(&ctx->lock);
	drm_mm_for_each_node_in_range(node, &ctx->va_mm, va, end) {
		map = container_of(node, struct tern_mapping, va);
		ok = node->start <= va && end <= node->start + tern_bo_size(map->bo) &&
		     (!write || !(map->bo->flags & DRM_TERN_BO_READ_ONLY));
		break;
	}
	mutex_unlock(&ctx->lock);
	return ok;
}

/* Point the chip's context registers at @ctx's page tables and enable it. */
static void tern_ctx_hw_enable(struct tern_ctx *ctx)
{
	struct tern_device *tdev = ctx->tdev;
	u32 id = ctx->id;

	lockdep_assert_held(&tdev->mmu->list_lock);

	/* Its translations are dropped when the CTX registers are written. */
	tern_wr32(tdev, TERN_REG_CTX(id) + TERN_CTX_ROOT_LO, lower_32_bits(ctx->root.dma));
	tern_wr32(tdev, TERN_REG_CTX(id) + TERN_CTX_ROOT_HI, upper_32_bits(ctx->root.dma));
	tern_wr32(tdev, TERN_REG_CTX(id) + TERN_CTX_CTRL, TERN_CTX_CTRL_ENABLE);
}

/*
 * After a device reset (tern_recover.c): the chip forgot every context;
 * program the live ones again. Their page tables are in host memory and
 * did not change.
 */
void tern_mmu_restore(struct tern_device *tdev)
{
	struct tern_mmu *mmu = tdev->mmu;
	struct tern_ctx *ctx;

	mutex_lock(&mmu->list_lock);
	list_for_each_entry(ctx, &mmu->contexts, node)
		tern_ctx_hw_enable(ctx);
	mutex_unlock(&mmu->list_lock);
}

/* Thread group that opened @ctx's file, for logs and devcoredumps; 0 for none. */
pid_t tern_ctx_pid(const struct tern_ctx *ctx)
{
	return ctx ? pid_nr(ctx->owner) : 0;
}

int tern_ctx_open(struct tern_file *tfile)
{
	struct tern_device *tdev = tfile->tdev;
	struct tern_mmu *mmu = tdev->mmu;
	struct tern_ctx *ctx;
	u64 va_base;
	int ret, id;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;

	id = ida_alloc_range(&mmu->ids, 1, mmu->num_contexts - 1, GFP_KERNEL);
	if (id < 0) {
		ret = id == -ENOSPC ? -EBUSY : id;
		if (ret == -EBUSY)
			tern_dbg(tdev, "all %u contexts are in use\n", mmu->num_contexts - 1);
		goto err_free;
	}
	ret = tern_pt_alloc(tdev, &ctx->root, true);
	if (ret)
		goto err_id;

	ctx->tdev = tdev;
	ctx->id = id;
	kref_init(&ctx->ref);
	ctx->owner = get_pid(tfile->owner);
	mutex_init(&ctx->lock);
	va_base = TERN_VA_START + (u64)id * TERN_VA_SLICE +
		  ((u64)get_random_u32_below(TERN_VA_SLICE / TERN_HUGE_PAGE_SIZE) <<
		   TERN_HUGE_PAGE_SHIFT);
	drm_mm_init(&ctx->va_mm, va_base, TERN_VA_END - va_base);
	xa_init(&ctx->maps);
	atomic64_set(&ctx->faults, 0);

	/*
	 * Under list_lock with the list: a recovery re-programs every listed
	 * context after its reset (tern_mmu_restore()).
	 */
	mutex_lock(&mmu->list_lock);
	tern_ctx_hw_enable(ctx);
	list_add_tail(&ctx->node, &mmu->contexts);
	mutex_unlock(&mmu->list_lock);

	tfile->ctx = ctx;
	return 0;

err_id:
	ida_free(&mmu->ids, id);
err_free:
	kfree(ctx);
	return ret;
}

/* No mapping and no job is left: switch the context off and free it. */
static void tern_ctx_release(struct kref *ref)
{
	struct tern_ctx *ctx = container_of(ref, struct tern_ctx, ref);
	struct tern_device *tdev = ctx->tdev;
	struct tern_mmu *mmu = tdev->mmu;
	int idx;

	/* Off the list first, so a recovery does not switch it on again. */
	mutex_lock(&mmu->list_lock);
	list_del(&ctx->node);
	if (drm_dev_enter(&tdev->drm, &idx)) {
		tern_wr32(tdev, TERN_REG_CTX(ctx->id) + TERN_CTX_CTRL, 0);
		tern_wr32(tdev, TERN_REG_CTX(ctx->id) + TERN_CTX_ROOT_LO, 0);
		tern_wr32(tdev, TERN_REG_CTX(ctx->id) + TERN_CTX_ROOT_HI, 0);
		drm_dev_exit(idx);
	}
	mutex_unlock(&mmu->list_lock);
	tern_ctx_invalidate(ctx);

	tern_pt_free(tdev, &ctx->root);
	drm_mm_takedown(&ctx->va_mm);
	xa_destroy(&ctx->maps);
	mutex_destroy(&ctx->lock);
	put_pid(ctx->owner);
	ida_free(&mmu->ids, ctx->id);
	kfree(ctx);
}

struct tern_ctx *tern_ctx_get(struct tern_ctx *ctx)
{
	kref_get(&ctx->ref);
	return ctx;
}

void tern_ctx_put(struct tern_ctx *ctx)
{
	if (ctx)
		kref_put(&ctx->ref, tern_ctx_release);
}

/* After the file's handles are gone: their mappings went with them. */
void tern_ctx_close(struct tern_file *tfile)
{
	tern_ctx_put(tfile->ctx);
	tfile->ctx = NULL;
}

u32 tern_mmu_ring_fault(struct tern_device *tdev, u32 ring_regs, const char *ring,
			u32 index, u32 head, u64 job_id, struct tern_ctx *ctx,
			struct tern_fence *fence)
{
	u32 info;
	u64 va;

	/* TERN_C_FAULT_* are at the same offsets as TERN_Q_FAULT_* (tern_regs.h). */
	info = tern_rd32(tdev, ring_regs + TERN_Q_FAULT_INFO);
	va = tern_rd32(tdev, ring_regs + TERN_Q_FAULT_ADDR_LO) |
	     (u64)tern_rd32(tdev, ring_regs + TERN_Q_FAULT_ADDR_HI) << 32;

	tern_err_ratelimited(tdev, "%s %u: job %llu faulted at ring index %u: context %u %s VA 0x%llx, reason %u; the %s continues with the next job\n",
			     ring, index, job_id, head, info & TERN_FAULT_CTX_MASK,
			     info & TERN_FAULT_WRITE ? "write" : "read", va,
			     (info & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT, ring);
	if (ctx)
		atomic64_inc(&ctx->faults);
	atomic64_inc(&tdev->mmu_faults);
	trace_tern_mmu_fault(tern_minor(tdev), info & TERN_FAULT_CTX_MASK, va, info);
	fence->fault_addr = va;
	return info;
}

void tern_mmu_show_contexts(struct tern_device *tdev, struct seq_file *m)
{
	struct tern_mmu *mmu = tdev->mmu;
	struct tern_ctx *ctx;

	seq_puts(m, "ctx     pid     mapped_bytes mappings  ptes_4k  ptes_2m   faults\n");
	mutex_lock(&mmu->list_lock);
	list_for_each_entry(ctx, &mmu->contexts, node) {
		mutex_lock(&ctx->lock);
		seq_printf(m, "%3u %7d %16llu %8u %8llu %8llu %8lld\n", ctx->id,
			   pid_nr(ctx->owner), ctx->mapped_bytes, ctx->num_maps, ctx->ptes_4k,
			   ctx->ptes_2m, atomic64_read(&ctx->faults));
		mutex_unlock(&ctx->lock);
	}
	mutex_unlock(&mmu->list_lock);
}
