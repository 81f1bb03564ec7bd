// SPDX-License-Identifier: GPL-2.0
/*
 * tern EXEC: validate a compute launch from user space, take a reference
 * on the mapping of every buffer it names in the file's context, and push
 * it to the core's launch ring. The kernel builds the slot table (device
 * VAs of the context) and the descriptor itself (tern_core.c).
 */

#include <linux/jiffies.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "tern_core.h"
#include "tern_gem.h"
#include "tern_job.h"
#include "tern_mmu.h"
#include "tern_telem.h"
#include "tern_trace.h"

static int tern_exec_check_args(struct tern_device *tdev, const struct drm_tern_exec *args)
{
	u64 end;

	const struct drm_tern_slot *p = &args->profile;

	if (args->flags & ~DRM_TERN_EXEC_PROFILE)
		return -EINVAL;
	if (!(args->flags & DRM_TERN_EXEC_PROFILE)) {
		if (p->handle || p->pad || p->offset || p->size)
			return -EINVAL;
	} else {
		if (!(tdev->hw.caps & TERN_CAP_PROFILE))
			return -EOPNOTSUPP;
		if (p->pad || p->size < TERN_PROF_HEADER_SIZE || !IS_ALIGNED(p->offset, 64) ||
		    check_add_overflow(p->offset, p->size, &end))
			return -EINVAL;
	}
	if (args->core >= tdev->num_cores)
		return -EINVAL;
	if (args->slot_count > DRM_TERN_MAX_SLOTS)
		return -EINVAL;
	if (!IS_ALIGNED(args->program_offset, 64) || !IS_ALIGNED(args->program_size, 64) ||
	    args->program_size < TERN_LAUNCH_PROG_MIN ||
	    args->program_size > TERN_LAUNCH_PROG_MAX ||
	    check_add_overflow(args->program_offset, args->program_size, &end))
		return -EINVAL;
	if (!args->out_syncobj && args->out_point)
		return -EINVAL;
	return 0;
}

/*
 * The mapping, in the job's context, of the device buffer @handle names;
 * the job keeps the reference.
 */
static int tern_exec_add_map(struct tern_exec_job *job, struct drm_file *file, u32 handle,
			     struct tern_mapping **out)
{
	struct tern_bo *bo = tern_bo_lookup(file, handle);
	struct tern_mapping *map;

	if (!bo)
		return -ENOENT;
	if (!tern_bo_is_device(bo)) {
		drm_gem_object_put(tern_bo_obj(bo));
		return -EINVAL;
	}
	map = tern_mapping_get(job->ctx, bo);
	drm_gem_object_put(tern_bo_obj(bo));
	if (!map)
		return -ENOENT;
	job->maps[job->map_count++] = map;
	*out = map;
	return 0;
}

static int tern_exec_add_slots(struct tern_exec_job *job, struct drm_file *file,
			       const struct drm_tern_slot *slots, u32 count)
{
	struct tern_device *tdev = job->core->tdev;
	struct tern_mapping *map;
	u64 end;
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		const struct drm_tern_slot *s = &slots[i];

		if (s->pad || !s->size) {
			tern_dbg(tdev, "slot %u: non-zero pad or zero size\n", i);
			return -EINVAL;
		}
		ret = tern_exec_add_map(job, file, s->handle, &map);
		if (ret) {
			tern_dbg(tdev, "slot %u: handle %u is not a device buffer\n", i, s->handle);
			return ret;
		}
		if (check_add_overflow(s->offset, s->size, &end) ||
		    end > tern_bo_size(tern_mapping_bo(map))) {
			tern_dbg(tdev, "slot %u: range outside its buffer\n", i);
			return -EINVAL;
		}
		job->slots[i].offset = tern_mapping_va(map) + s->offset;
		job->slots[i].size = s->size;
	}
	job->slot_count = count;
	return 0;
}

/* The profile buffer of DRM_TERN_EXEC_PROFILE, a range of a device buffer. */
static int tern_exec_add_profile(struct tern_exec_job *job, struct drm_file *file,
				 const struct drm_tern_slot *p)
{
	struct tern_mapping *map;
	int ret;

	ret = tern_exec_add_map(job, file, p->handle, &map);
	if (ret)
		return ret;
	/* check_args made sure offset + size does not overflow */
	if (p->offset + p->size > tern_bo_size(tern_mapping_bo(map)))
		return -EINVAL;
	job->profile = true;
	job->profile_slot.offset = tern_mapping_va(map) + p->offset;
	job->profile_slot.size = p->size;
	return 0;
}

static int tern_exec_add_status(struct tern_exec_job *job, struct drm_file *file,
				const struct drm_tern_exec *args)
{
	struct tern_bo *bo;
	u64 end;

	if (!args->status_handle)
		return 0;
	bo = tern_bo_lookup(file, args->status_handle);
	if (!bo)
		return -ENOENT;
	/* From here on tern_exec_job_free() drops the reference. */
	job->status_bo = bo;
	if (tern_bo_is_device(bo) || !IS_ALIGNED(args->status_offset, 8) ||
	    check_add_overflow(args->status_offset, (u64)TERN_LAUNCH_STATUS_SIZE, &end) ||
	    end > tern_bo_size(bo))
		return -EINVAL;

	/* The chip writes into a kernel status area; retiring copies it here. */
	job->status_offset = args->status_offset;
	return drm_gem_vmap_unlocked(tern_bo_obj(bo), &job->status_map);
}

static unsigned long tern_exec_timeout(struct tern_device *tdev, u64 timeout_ns)
{
	u64 j;

	if (!timeout_ns)
		return tern_timeout_jiffies(tdev, TERN_EXEC_TIMEOUT_MS);
	j = nsecs_to_jiffies64(timeout_ns);
	return clamp_t(u64, j, 1, MAX_JIFFY_OFFSET);
}

static int tern_exec_build(struct tern_exec_job *job, struct drm_file *file,
			   const struct drm_tern_exec *args)
{
	struct tern_device *tdev = job->core->tdev;
	struct drm_tern_slot *slots = NULL;
	struct tern_mapping *prog;
	int ret;

	ret = tern_exec_add_map(job, file, args->program_handle, &prog);
	if (ret) {
		tern_dbg(tdev, "program handle %u is not a device buffer\n", args->program_handle);
		return ret;
	}
	if (args->program_offset + args->program_size > tern_bo_size(tern_mapping_bo(prog))) {
		tern_dbg(tdev, "program outside its buffer\n");
		return -EINVAL;
	}
	job->prog_addr = tern_mapping_va(prog) + args->program_offset;
	job->prog_size = args->program_size;

	if (args->slot_count) {
		slots = kmalloc_array(args->slot_count, sizeof(*slots), GFP_KERNEL);
		if (!slots)
			return -ENOMEM;
		if (copy_from_user(slots, u64_to_user_ptr(args->slots),
				   array_size(args->slot_count, sizeof(*slots)))) {
			ret = -EFAULT;
			goto out_free;
		}
		ret = tern_exec_add_slots(job, file, slots, args->slot_count);
		if (ret)
			goto out_free;
	}

	if (args->flags & DRM_TERN_EXEC_PROFILE) {
		ret = tern_exec_add_profile(job, file, &args->profile);
		if (ret) {
			tern_dbg(tdev, "profile handle %u range: %d\n", args->profile.handle, ret);
			goto out_free;
		}
	}

	ret = tern_exec_add_status(job, file, args);
	if (ret)
		tern_dbg(tdev, "status handle %u offset %llu: %d\n", args->status_handle,
			 args->status_offset, ret);
	job->timeout = tern_exec_timeout(tdev, args->timeout_ns);
out_free:
	kfree(slots);
	return ret;
}

/*
 * Validate and queue the compute job @args describes (the body of EXEC,
 * shared with io_uring). Returns a reference to the job's fence, attached
 * to the out syncobj, and sets args->job_id; or an ERR_PTR. The caller is
 * inside drm_dev_enter().
 */
struct dma_fence *tern_exec(struct drm_file *file, struct drm_tern_exec *args)
{
	struct tern_device *tdev = to_tern_device(file->minor->dev);
	struct tern_out_fence out = {};
	struct tern_exec_job *job;
	struct dma_fence *fence = NULL;
	u64 job_id;
	int ret;

	ret = tern_exec_check_args(tdev, args);
	if (ret)
		return ERR_PTR(ret);

	/* The mappings of the program, the slots and the profile buffer. */
	job = kzalloc(struct_size(job, maps, args->slot_count + 2), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	job->fence = kzalloc(sizeof(*job->fence), GFP_KERNEL);
	if (!job->fence) {
		kfree(job);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&job->node);
	job->core = &tdev->cores[args->core];
	job->id = atomic64_inc_return(&tdev->next_job_id);
	job->submit_ns = ktime_get_ns();
	job->ctx = tern_ctx_get(to_tern_file(file)->ctx);
	job->stats = tern_client_stats_get(to_tern_file(file)->stats);

	ret = tern_exec_build(job, file, args);
	if (ret)
		goto out_free_job;

	ret = tern_out_fence_get(file, args->out_syncobj, args->out_point, &out);
	if (ret)
		goto out_free_job;

	job_id = job->id;
	trace_tern_submit(tern_minor(tdev), job_id, "compute", args->core, args->slot_count,
			  current->tgid);
	fence = tern_core_push(job->core, job);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		fence = NULL;
		goto out_put_fence;
	}
	/* The core owns the job now. */
	job = NULL;

	tern_out_fence_attach(&out, fence);
	args->job_id = job_id;

out_put_fence:
	tern_out_fence_put(&out);
out_free_job:
	if (job)
		tern_exec_job_free(job);
	return fence ?: ERR_PTR(ret);
}

int tern_ioctl_exec(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct dma_fence *fence;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	fence = tern_exec(file, data);
	drm_dev_exit(idx);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	dma_fence_put(fence);
	return 0;
}
