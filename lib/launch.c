// SPDX-License-Identifier: MIT
/*
 * libtern launches: program images loaded into HBM (struct tern_kernel)
 * and run on a core with DRM_IOCTL_TERN_EXEC, synchronously or with a
 * fence.
 *
 * A launch is one job with a binary syncobj of its own, like a copy job
 * (copy.c has the fence machinery both use). Its struct tern_job_status
 * comes back through a status slot: 128 bytes of a host buffer into which
 * the kernel copies what the core wrote when the job ends. Each launch in
 * flight holds one slot; the slots live in host buffers of
 * TERN_STATUS_CHUNK slots, added as more launches are in flight at once.
 *
 * The job's result comes from DRM_IOCTL_TERN_WAIT (OK, FAULT with its
 * TERN_CERR_*, TIMEOUT, ABORTED; DEVICE_ERROR when the chip refused the
 * launch descriptor itself), the details (faulting engine and instruction,
 * modeled cycles, per-engine busy cycles) from the status slot.
 *
 * A launch holds a reference on its kernel until it is seen done, so a
 * kernel freed while it runs goes away afterwards (the driver also keeps
 * the program's buffer object alive for the job). A fence released before
 * its launch was seen done becomes an orphan: its status slot stays taken
 * until tern_fences_reap() finds the job done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xf86drm.h>

#include "tern_internal.h"
#include "tern_isa.h"
#include "tern_regs.h"

/* ---- program images ---- */

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * The checks a core makes of a program's header and stream layout
 * (Documentation/chip/isa.rst, "Programs"), against the image's size, and
 * that every non-empty stream ends with END: a damaged image is refused
 * here, with a message, rather than by the core.
 */
static int check_image(const void *image, size_t size)
{
	const uint8_t *p = image;
	uint32_t version, hsize, nslots, nsems;

	if (!image)
		return tern_fail(-EINVAL, "tern_kernel_load: image is NULL");
	if (size < TERN_PROG_HEADER_SIZE || size % TERN_INSN_SIZE || size > TERN_LAUNCH_PROG_MAX)
		return tern_fail(-EINVAL,
				 "tern_kernel_load: image size %zu is not a multiple of %u from %u to %u",
				 size, TERN_INSN_SIZE, TERN_PROG_HEADER_SIZE, TERN_LAUNCH_PROG_MAX);
	if (le32_at(p) != TERN_PROG_MAGIC)
		return tern_fail(-EINVAL, "tern_kernel_load: bad magic 0x%08" PRIx32
				 " (a program starts with 0x%08x)", le32_at(p), TERN_PROG_MAGIC);
	version = le32_at(p + 4);
	if (version >> 16 != TERN_ISA_VERSION_MAJOR || (version & 0xffff) > TERN_ISA_VERSION_MINOR)
		return tern_fail(-EINVAL, "tern_kernel_load: ISA version %" PRIu32 ".%" PRIu32
				 " is not supported (%u.%u)", version >> 16, version & 0xffff,
				 TERN_ISA_VERSION_MAJOR, TERN_ISA_VERSION_MINOR);
	hsize = le32_at(p + 8);
	if (hsize != size)
		return tern_fail(-EINVAL, "tern_kernel_load: header says %" PRIu32
				 " bytes, the image has %zu", hsize, size);
	if (le32_at(p + 12) || le32_at(p + 20) || le32_at(p + 56) || le32_at(p + 60))
		return tern_fail(-EINVAL, "tern_kernel_load: header flags or reserved fields not zero");
	nslots = p[16] | p[17] << 8;
	nsems = p[18] | p[19] << 8;
	if (nslots > TERN_MAX_SLOTS || nsems > TERN_NUM_SEMS)
		return tern_fail(-EINVAL, "tern_kernel_load: %" PRIu32 " slots and %" PRIu32
				 " semaphores, at most %u and %u", nslots, nsems, TERN_MAX_SLOTS,
				 TERN_NUM_SEMS);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		uint32_t off = le32_at(p + 24 + 8 * e), count = le32_at(p + 28 + 8 * e);
		uint64_t end = off + (uint64_t)count * TERN_INSN_SIZE;
		const char *why = NULL;

		if (!count && !off)
			continue;
		if (!count)
			why = "is empty but has an offset";
		else if (count > TERN_MAX_STREAM_INSNS)
			why = "has too many instructions";
		else if (off % TERN_INSN_SIZE || off < TERN_PROG_HEADER_SIZE)
			why = "does not start at a multiple of 64 after the header";
		else if (end > size)
			why = "runs past the end of the image";
		if (why)
			return tern_fail(-EINVAL, "tern_kernel_load: %s stream of %" PRIu32
					 " instructions at byte %" PRIu32 " of %zu %s",
					 tern_engine_text(e), count, off, size, why);
		if (p[end - TERN_INSN_SIZE] != TERN_OP_END)
			return tern_fail(-EINVAL, "tern_kernel_load: %s stream does not end with END",
					 tern_engine_text(e));
	}
	return 0;
}

/* ---- kernels ---- */

int tern_kernel_upload(struct tern_kernel *k)
{
	struct tern_device *dev = k->dev;
	struct tern_buffer *bo;
	void *map;
	int ret;

	ret = tern_buffer_alloc_internal(dev, k->size, TERN_MEM_DEVICE, &bo);
	if (ret)
		return ret;
	ret = tern_buffer_map(bo, &map);
	if (ret) {
		tern_buffer_free(bo);
		return ret;
	}
	memcpy(map, k->image, k->size);
	/* The stores through the BAR reach HBM before the core reads them. */
	__sync_synchronize();
	pthread_mutex_lock(&dev->lock);
	k->bo = bo;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

bool tern_kernel_unload(struct tern_kernel *k)
{
	struct tern_device *dev = k->dev;
	struct tern_buffer *bo = NULL;

	pthread_mutex_lock(&dev->lock);
	if (k->refs == 1) {
		bo = k->bo;
		k->bo = NULL;
	}
	pthread_mutex_unlock(&dev->lock);
	tern_buffer_free(bo);
	return bo != NULL;
}

static void kernel_destroy(struct tern_kernel *k)
{
	tern_buffer_free(k->bo);
	free(k->image);
	free(k);
}

int tern_kernel_create(struct tern_device *dev, const void *image, size_t size, bool cached,
		       struct tern_kernel **kp)
{
	struct tern_kernel *k;
	int ret;

	ret = check_image(image, size);
	if (ret)
		return ret;
	k = calloc(1, sizeof(*k));
	if (k)
		k->image = malloc(size);
	if (!k || !k->image) {
		free(k);
		return tern_fail(-ENOMEM, "tern_kernel_load: out of memory for a %zu-byte image",
				 size);
	}
	memcpy(k->image, image, size);
	k->dev = dev;
	k->size = size;
	k->nslots = ((const uint8_t *)image)[16] | ((const uint8_t *)image)[17] << 8;
	k->cached = cached;
	k->refs = 1;
	ret = tern_kernel_upload(k);
	if (ret) {
		kernel_destroy(k);
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	k->prev = NULL;
	k->next = dev->kernel_list;
	if (dev->kernel_list)
		dev->kernel_list->prev = k;
	dev->kernel_list = k;
	if (!cached)
		dev->kernels++;
	pthread_mutex_unlock(&dev->lock);
	*kp = k;
	return 0;
}

void tern_kernel_put(struct tern_kernel *k)
{
	struct tern_device *dev = k->dev;
	bool last;

	pthread_mutex_lock(&dev->lock);
	last = --k->refs == 0;
	if (last) {
		if (k->prev)
			k->prev->next = k->next;
		else
			dev->kernel_list = k->next;
		if (k->next)
			k->next->prev = k->prev;
	}
	pthread_mutex_unlock(&dev->lock);
	if (last)
		kernel_destroy(k);
}

TERN_EXPORT int tern_kernel_load(struct tern_device *dev, const void *image, size_t size,
				 struct tern_kernel **kp)
{
	if (!kp)
		return tern_fail(-EINVAL, "tern_kernel_load: kp is NULL");
	*kp = NULL;
	if (!dev)
		return tern_fail(-EINVAL, "tern_kernel_load: device is NULL");
	return tern_kernel_create(dev, image, size, false, kp);
}

TERN_EXPORT unsigned int tern_kernel_slots(const struct tern_kernel *k)
{
	return k ? k->nslots : 0;
}

TERN_EXPORT void tern_kernel_free(struct tern_kernel *k)
{
	/* The cache's kernels are the cache's to free. */
	if (!k || k->cached)
		return;
	pthread_mutex_lock(&k->dev->lock);
	k->dev->kernels--;
	pthread_mutex_unlock(&k->dev->lock);
	tern_kernel_put(k);
}

/* ---- status slots ---- */

static uint8_t *status_ptr(struct tern_device *dev, int slot)
{
	return dev->status.map[slot / TERN_STATUS_CHUNK] +
	       (size_t)(slot % TERN_STATUS_CHUNK) * TERN_STATUS_SLOT_SIZE;
}

/* Adds a host buffer of slots to the pool; called with dev->lock held, drops it meanwhile. */
static int status_grow_locked(struct tern_device *dev)
{
	struct tern_status_pool *sp = &dev->status;
	struct tern_buffer *buf;
	void *map;
	int ret;

	if (!sp->free) {
		sp->free = malloc(TERN_STATUS_CHUNKS_MAX * TERN_STATUS_CHUNK * sizeof(*sp->free));
		if (!sp->free)
			return tern_fail(-ENOMEM, "launch on %s: out of memory", dev->node);
	}
	pthread_mutex_unlock(&dev->lock);
	ret = tern_buffer_alloc_internal(dev, TERN_STATUS_CHUNK * TERN_STATUS_SLOT_SIZE,
					 TERN_MEM_HOST, &buf);
	if (!ret) {
		ret = tern_buffer_map(buf, &map);
		if (ret)
			tern_buffer_free(buf);
	}
	pthread_mutex_lock(&dev->lock);
	if (ret)
		return ret;
	if (sp->nfree || sp->nchunks == TERN_STATUS_CHUNKS_MAX) {
		/* another launch grew the pool meanwhile */
		pthread_mutex_unlock(&dev->lock);
		tern_buffer_free(buf);
		pthread_mutex_lock(&dev->lock);
		return 0;
	}
	sp->chunk[sp->nchunks] = buf;
	sp->map[sp->nchunks] = map;
	for (unsigned int i = TERN_STATUS_CHUNK; i > 0; i--)
		sp->free[sp->nfree++] = sp->nchunks * TERN_STATUS_CHUNK + i - 1;
	sp->nchunks++;
	return 0;
}

static int status_get(struct tern_device *dev, int *slotp)
{
	struct tern_status_pool *sp = &dev->status;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	while (!sp->nfree && !ret) {
		if (sp->nchunks == TERN_STATUS_CHUNKS_MAX)
			ret = tern_fail(-EAGAIN, "launch on %s: %u launches in flight, the most there can be",
					dev->node, TERN_STATUS_CHUNKS_MAX * TERN_STATUS_CHUNK);
		else
			ret = status_grow_locked(dev);
	}
	if (!ret)
		*slotp = (int)sp->free[--sp->nfree];
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void status_put(struct tern_device *dev, int slot)
{
	pthread_mutex_lock(&dev->lock);
	dev->status.free[dev->status.nfree++] = (uint32_t)slot;
	pthread_mutex_unlock(&dev->lock);
}

/* ---- launching ---- */

static int check_launch(const char *fn, struct tern_device *dev, struct tern_kernel *k, int core,
			struct tern_buffer *const *slots, unsigned int nslots)
{
	if (!dev)
		return tern_fail(-EINVAL, "%s: device is NULL", fn);
	if (!k)
		return tern_fail(-EINVAL, "%s: kernel is NULL", fn);
	if (k->dev != dev)
		return tern_fail(-EINVAL, "%s: the kernel was loaded on %s, not %s", fn, k->dev->node,
				 dev->node);
	if (!dev->hw.num_cores)
		return tern_fail(-EINVAL, "%s: %s has no compute cores", fn, dev->node);
	if (core != TERN_CORE_ANY && (core < 0 || (unsigned int)core >= dev->hw.num_cores))
		return tern_fail(-EINVAL, "%s: core %d outside 0..%u of %s", fn, core,
				 dev->hw.num_cores - 1, dev->node);
	if (nslots < k->nslots)
		return tern_fail(-EINVAL, "%s: the kernel uses %u slots, %u given", fn, k->nslots,
				 nslots);
	if (k->nslots && !slots)
		return tern_fail(-EINVAL, "%s: slots is NULL", fn);
	for (unsigned int i = 0; i < k->nslots; i++) {
		if (!slots[i])
			return tern_fail(-EINVAL, "%s: slot %u is NULL", fn, i);
		if (slots[i]->dev != dev)
			return tern_fail(-EINVAL, "%s: slot %u is a buffer of %s, not %s", fn, i,
					 slots[i]->dev->node, dev->node);
		if (slots[i]->flags != TERN_MEM_DEVICE)
			return tern_fail(-EINVAL,
					 "%s: slot %u is a host buffer; the cores reach device memory only",
					 fn, i);
	}
	return 0;
}

/* A reference on @k with its image in HBM; the image's buffer object handle. */
static int kernel_get_loaded(struct tern_kernel *k, uint32_t *handle)
{
	struct tern_device *dev = k->dev;
	bool loaded;
	int ret;

	pthread_mutex_lock(&dev->lock);
	k->refs++;
	loaded = k->bo != NULL;
	if (loaded)
		*handle = k->bo->handle;
	pthread_mutex_unlock(&dev->lock);
	if (loaded)
		return 0;
	/* Only the cache unloads kernels, and not while a reference like ours is held. */
	ret = tern_kcache_reload(k);
	if (ret) {
		tern_kernel_put(k);
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	*handle = k->bo->handle;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

TERN_EXPORT int tern_launch_async(struct tern_device *dev, struct tern_kernel *k, int core,
				  struct tern_buffer *const *slots, unsigned int nslots,
				  struct tern_fence **fencep)
{
	static const char fn[] = "tern_launch";
	struct drm_tern_slot dslots[TERN_MAX_SLOTS];
	struct drm_tern_exec exec;
	int64_t start = tern_now_ns();
	struct tern_fence *f;
	uint32_t program;
	bool orphans, uring;
	int ret;

	if (!fencep)
		return tern_fail(-EINVAL, "%s: fencep is NULL", fn);
	*fencep = NULL;
	ret = check_launch(fn, dev, k, core, slots, nslots);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->lock);
	orphans = dev->orphans != NULL;
	pthread_mutex_unlock(&dev->lock);
	if (orphans)
		tern_fences_reap(dev);

	/* Launches take io_uring unless the device was told to use the ioctls. */
	pthread_mutex_lock(&dev->lock);
	uring = dev->uring && dev->path != TERN_SUBMIT_IOCTL;
	pthread_mutex_unlock(&dev->lock);
	ret = tern_fence_new(dev, uring ? 0 : 1, &f);
	if (ret)
		return ret;
	f->launch = true;
	f->path = uring ? TERN_SUBMIT_URING : TERN_SUBMIT_IOCTL;
	f->start_ns = start;
	ret = status_get(dev, &f->status_slot);
	if (ret)
		goto err_fence;
	ret = kernel_get_loaded(k, &program);
	if (ret)
		goto err_status;
	f->kernel = k;

	pthread_mutex_lock(&dev->lock);
	if (core == TERN_CORE_ANY) {
		core = (int)dev->next_core;
		dev->next_core = (dev->next_core + 1) % dev->hw.num_cores;
	}
	pthread_mutex_unlock(&dev->lock);
	f->core = core;

	memset(status_ptr(dev, f->status_slot), 0, TERN_STATUS_SLOT_SIZE);
	memset(dslots, 0, sizeof(dslots));
	for (unsigned int i = 0; i < k->nslots; i++) {
		dslots[i].handle = slots[i]->handle;
		dslots[i].size = slots[i]->size;
	}
	memset(&exec, 0, sizeof(exec));
	exec.core = (uint32_t)core;
	exec.program_handle = program;
	exec.program_size = k->size;
	exec.slots = (uintptr_t)dslots;
	exec.slot_count = k->nslots;
	exec.status_handle = dev->status.chunk[f->status_slot / TERN_STATUS_CHUNK]->handle;
	exec.status_offset = (uint64_t)(f->status_slot % TERN_STATUS_CHUNK) * TERN_STATUS_SLOT_SIZE;
	ret = tern_prof_launch_prepare(dev, f, &exec);	/* a profiling session's flag and buffer */
	if (ret)
		goto err_kernel;
	if (uring) {
		/* The driver reads exec and slots when it takes the command: keep both. */
		struct drm_tern_exec *ue = malloc(sizeof(*ue) + k->nslots * sizeof(dslots[0]));

		if (!ue) {
			ret = tern_fail(-ENOMEM, "%s: out of memory", fn);
			goto err_kernel;
		}
		*ue = exec;
		memcpy(ue + 1, dslots, k->nslots * sizeof(dslots[0]));
		ue->slots = (uintptr_t)(ue + 1);
		f->core = core;
		ret = tern_uring_exec(dev, f, ue);
		if (ret) {
			f->jobs = 0;
			goto err_kernel;
		}
		tern_fence_publish(f);
		*fencep = f;
		return 0;
	}
	exec.out_syncobj = f->syncobjs[0];
	exec.out_point = 0;	/* replaces the syncobj's fence */
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_EXEC, &exec)) {
		ret = tern_fail(-errno, "DRM_IOCTL_TERN_EXEC on %s core %d: %s", dev->node, core,
				strerror(errno));
		goto err_kernel;
	}
	f->jobs = 1;
	tern_fence_publish(f);
	*fencep = f;
	return 0;

err_kernel:
	tern_kernel_put(k);
err_status:
	status_put(dev, f->status_slot);
err_fence:
	tern_fence_discard(f);
	return ret;
}

TERN_EXPORT int tern_launch(struct tern_device *dev, struct tern_kernel *k, int core,
			    struct tern_buffer *const *slots, unsigned int nslots,
			    struct tern_launch_status *status)
{
	struct tern_fence *f;
	int ret;

	ret = tern_launch_async(dev, k, core, slots, nslots, &f);
	if (ret)
		return ret;
	ret = tern_fence_wait(dev, f, TERN_TIMEOUT_INFINITE);
	if (status)
		*status = f->ls;
	/* Releasing a settled fence fails in no way: tern_last_error() stays. */
	tern_fence_release(f);
	return ret;
}

/* Nanoseconds of @cycles at the core clock, without overflow. */
static uint64_t cycles_to_ns(uint64_t cycles)
{
	return cycles / TERN_COST_CLOCK_HZ * 1000000000ull +
	       (cycles % TERN_COST_CLOCK_HZ) * 1000000000ull / TERN_COST_CLOCK_HZ;
}

int tern_launch_settle(struct tern_fence *f, int wait_err, uint32_t status, uint32_t code)
{
	struct tern_device *dev = f->dev;
	struct tern_launch_status *ls = &f->ls;
	struct tern_job_status js;
	int ret = 0;

	memset(ls, 0, sizeof(*ls));
	ls->core = (unsigned int)f->core;
	ls->engine = TERN_ENGINE_NONE;
	ls->index = TERN_INDEX_NONE;
	ls->wall_ns = (uint64_t)(tern_now_ns() - f->start_ns);
	memcpy(&js, status_ptr(dev, f->status_slot), sizeof(js));

	if (wait_err) {
		ret = wait_err;		/* the message is the wait's */
	} else {
		ls->cycles = js.cycles;
		ls->modeled_ns = cycles_to_ns(js.cycles);
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			ls->busy[e] = js.busy[e];
			ls->insns[e] = js.insns[e];
		}
		ls->device_ns = js.wall_ns;
		switch (status) {
		case DRM_TERN_JOB_OK:
			break;
		case DRM_TERN_JOB_FAULT:
			ls->error = code;
			snprintf(ls->error_name, sizeof(ls->error_name), "%s",
				 tern_compute_error_text(code));
			ls->engine = js.engine;
			ls->index = js.index;
			ls->detail = js.detail;
			if (js.engine < TERN_NUM_ENGINES)
				ret = tern_fail(-EIO, "launch on %s core %d: %s at %s instruction %u "
						"(detail %#" PRIx64 ")", dev->node, f->core,
						ls->error_name, tern_engine_text(js.engine),
						js.index, js.detail);
			else
				ret = tern_fail(-EIO, "launch on %s core %d: %s (detail %#" PRIx64 ")",
						dev->node, f->core, ls->error_name, js.detail);
			break;
		case DRM_TERN_JOB_TIMEOUT:
			ret = tern_fail(-ETIMEDOUT, "launch on %s core %d: ran past its timeout and was aborted",
					dev->node, f->core);
			break;
		case DRM_TERN_JOB_ABORTED:
			ret = tern_fail(-ECANCELED, "launch on %s core %d: aborted by a device reset or unbind",
					dev->node, f->core);
			break;
		case DRM_TERN_JOB_RESET:
			ret = tern_fail(-EAGAIN, "launch on %s core %d: was in flight when the device was reset to recover from another fault; submit it again",
					dev->node, f->core);
			break;
		case DRM_TERN_JOB_DEVICE_ERROR:
			snprintf(ls->error_name, sizeof(ls->error_name), "launch refused");
			ret = tern_fail(-EIO, "launch on %s core %d: the chip refused the launch: device error %u (%s)",
					dev->node, f->core, code, tern_device_error_name(code));
			break;
		default:
			ret = tern_fail(-EPROTO, "launch on %s core %d: DRM_IOCTL_TERN_WAIT returned unknown status %u",
					dev->node, f->core, status);
			break;
		}
	}
	ls->result = ret;
	tern_prof_launch_done(f, !wait_err);
	status_put(dev, f->status_slot);
	f->status_slot = -1;
	tern_kernel_put(f->kernel);
	f->kernel = NULL;
	return ret;
}

TERN_EXPORT int tern_fence_launch_status(struct tern_fence *f, struct tern_launch_status *status)
{
	if (!f || !status)
		return tern_fail(-EINVAL, "tern_fence_launch_status: NULL argument");
	if (!f->launch)
		return tern_fail(-EINVAL, "tern_fence_launch_status: the fence is a copy's");
	if (!f->done)
		return tern_fail(-EBUSY, "tern_fence_launch_status: launch on %s core %d not seen done yet; wait for it first",
				 f->dev->node, f->core);
	*status = f->ls;
	return 0;
}

void tern_launch_destroy(struct tern_device *dev)
{
	struct tern_kernel *k, *next;
	struct tern_status_pool *sp = &dev->status;

	for (k = dev->kernel_list; k; k = next) {
		next = k->next;
		kernel_destroy(k);
	}
	dev->kernel_list = NULL;
	for (unsigned int i = 0; i < sp->nchunks; i++)
		tern_buffer_free(sp->chunk[i]);
	free(sp->free);
	memset(sp, 0, sizeof(*sp));
}
