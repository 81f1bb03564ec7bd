/* SPDX-License-Identifier: MIT */
/*
 * libtern: the tern accelerator runtime.
 *
 * Find tern devices, allocate host and device (HBM) buffers, map them, and
 * move data with the chip's DMA engines, synchronously or with fences.
 *
 * Conventions, for every function below:
 * - The return value is 0 (or a count, where documented) on success and a
 *   negative errno value on failure. tern_strerror() turns it into a message;
 *   tern_last_error() tells, for the calling thread, what exactly failed
 *   (which call, which ioctl, which argument).
 * - Errors with a tern-specific meaning:
 *     -ENODEV     no such device, or the device was removed (unbind, rmmod)
 *     -EACCES     no permission to open the device node
 *     -EIO        the device reported an error for a DMA job
 *     -ECANCELED  the job was aborted by a device reset or unbind
 *     -ETIME      a wait timed out (the job is still running)
 *     -ETIMEDOUT  a compute job ran past its timeout and was aborted
 *     -EINVAL     a bad argument (the call did nothing)
 *     -EBUSY      the device still has buffers (tern_device_close)
 *     -ENOSPC     the HBM is full
 *     -EFAULT     the device MMU refused an address of the job
 * - A failed call changes nothing: no buffer is leaked, no job is queued.
 * - A device may be used from several threads at once. A buffer or fence
 *   must not be freed while another thread uses it, and a fence is waited
 *   for by one thread at a time.
 *
 * Documentation/runtime.rst has the full guide and an example.
 */
#ifndef TERN_H
#define TERN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this library: 0.1.0. */
#define TERN_LIB_VERSION_MAJOR	0
#define TERN_LIB_VERSION_MINOR	1
#define TERN_LIB_VERSION_PATCH	0

/** An open tern device. */
struct tern_device;
/** A buffer in host memory or in device HBM. */
struct tern_buffer;
/** The completion of an asynchronous copy. */
struct tern_fence;

/* Memory kinds for tern_buffer_alloc(): exactly one of them. */
/** Host memory the device reaches by DMA. */
#define TERN_MEM_HOST		(1u << 0)
/** Device HBM, also mappable by the CPU through the PCI BAR. */
#define TERN_MEM_DEVICE		(1u << 1)

/* Values of &struct tern_device_info.platform. */
#define TERN_PLATFORM_SILICON	0
#define TERN_PLATFORM_EMULATED	1

/** Timeout for tern_fence_wait(): wait as long as it takes. */
#define TERN_TIMEOUT_INFINITE	(-1)

/** Queue argument of tern_copy_async_on(): let the library pick (round robin). */
#define TERN_QUEUE_ANY		(-1)

/**
 * struct tern_device_info - what a device is, from tern_device_info()
 * @index: position among tern devices (argument of tern_device_open())
 * @minor: N of /dev/accel/accelN
 * @node: device node path, "/dev/accel/accelN"
 * @pci_address: PCI address, "DDDD:BB:DD.F"
 * @revision: chip revision
 * @platform: TERN_PLATFORM_SILICON or TERN_PLATFORM_EMULATED
 * @hw_version: register interface version, major << 16 | minor
 * @caps: chip capability bits
 * @num_cores: compute cores
 * @num_queues: DMA queues, valid queue numbers are 0..num_queues-1
 * @num_dma_engines: DMA engines serving the queues
 * @hbm_total: device memory in bytes
 * @hbm_used: device memory allocated by all users, in bytes, at the time
 *	of the call
 * @driver_name: kernel driver name ("tern")
 * @driver_version: kernel driver version, "major.minor.patch"
 * @uapi_major: UAPI major version of the driver
 * @uapi_minor: UAPI minor version of the driver
 * @chip_id: the chip's number in its fabric (0 when @fabric_id is 0)
 * @fabric_id: non-zero tag shared by the chips wired together by links;
 *	0: the chip is in no fabric
 * @fabric_chips: chips in the fabric (0: none)
 * @num_links: link ports of the chip (tern_device_links())
 */
struct tern_device_info {
	unsigned int index;
	unsigned int minor;
	char node[32];
	char pci_address[32];
	unsigned int revision;
	unsigned int platform;
	unsigned int hw_version;
	unsigned int caps;
	unsigned int num_cores;
	unsigned int num_queues;
	unsigned int num_dma_engines;
	uint64_t hbm_total;
	uint64_t hbm_used;
	char driver_name[32];
	char driver_version[32];
	unsigned int uapi_major;
	unsigned int uapi_minor;
	unsigned int chip_id;
	unsigned int fabric_id;
	unsigned int fabric_chips;
	unsigned int num_links;
};

/**
 * tern_device_count() - count the tern devices in the system
 *
 * Looks at /sys/class/accel for accel devices bound to the "tern" driver.
 * Does not open them, so it works without permission on the nodes.
 *
 * Return: the number of devices (0 when tern.ko is not loaded), or a
 * negative error code.
 */
int tern_device_count(void);

/**
 * tern_device_open() - open a device
 * @index: 0..tern_device_count()-1; devices are ordered by accel minor
 * @devp: receives the device
 *
 * Opens /dev/accel/accelN and checks that the driver is tern with a UAPI
 * major version this library speaks.
 *
 * Return: 0, -ENODEV for a bad index, -EACCES without permission on the
 * node, -EPROTO for an incompatible driver, or another negative error code.
 */
int tern_device_open(unsigned int index, struct tern_device **devp);

/**
 * tern_device_close() - close a device
 * @dev: device from tern_device_open(), may be NULL
 *
 * All buffers and kernels (tern_kernel_load()) of @dev must have been
 * freed. Fences that were not released are released (and must not be used
 * afterwards); the syncobjs, status buffers and cached kernels
 * (tern_kernel_cached()) the library kept are destroyed.
 *
 * Return: 0, or -EBUSY if buffers or kernels are still allocated (nothing
 * is closed).
 */
int tern_device_close(struct tern_device *dev);

/**
 * tern_device_info() - describe a device
 * @dev: the device
 * @info: filled on success
 *
 * @info->hbm_used is read from the driver at each call.
 *
 * Return: 0 or a negative error code.
 */
int tern_device_info(struct tern_device *dev, struct tern_device_info *info);

/**
 * tern_device_fd() - the file descriptor of the device node
 * @dev: the device
 *
 * For use with the raw UAPI (tern_accel.h) beside the library. The library
 * keeps ownership: do not close it.
 *
 * Return: the file descriptor.
 */
int tern_device_fd(struct tern_device *dev);

/**
 * tern_buffer_alloc() - allocate a buffer
 * @dev: the device
 * @size: bytes, at least 1 (the driver rounds up to whole pages)
 * @flags: TERN_MEM_HOST or TERN_MEM_DEVICE
 * @bufp: receives the buffer
 *
 * Return: 0, -EINVAL for a zero size or bad flags, -ENOSPC when the HBM is
 * full, -ENOMEM when host memory is short, or another negative error code.
 */
int tern_buffer_alloc(struct tern_device *dev, uint64_t size, unsigned int flags,
		      struct tern_buffer **bufp);

/**
 * tern_buffer_map() - map a buffer into the process
 * @buf: the buffer
 * @ptrp: receives the CPU address of byte 0
 *
 * The mapping is made on the first call and kept until tern_buffer_free();
 * later calls return the same address. Host buffers are ordinary cached
 * memory; device buffers go through the PCI BAR and are slower to read.
 * Do not write a buffer while a copy reads or writes it.
 *
 * Return: 0 or a negative error code.
 */
int tern_buffer_map(struct tern_buffer *buf, void **ptrp);

/**
 * tern_buffer_size() - size of a buffer
 * @buf: the buffer
 *
 * Return: the size given to tern_buffer_alloc(), in bytes.
 */
uint64_t tern_buffer_size(const struct tern_buffer *buf);

/**
 * tern_buffer_flags() - memory kind of a buffer
 * @buf: the buffer
 *
 * Return: TERN_MEM_HOST or TERN_MEM_DEVICE.
 */
unsigned int tern_buffer_flags(const struct tern_buffer *buf);

/**
 * tern_buffer_free() - unmap and free a buffer
 * @buf: the buffer, may be NULL
 *
 * Copies that use @buf must have completed (waited for). The memory is
 * returned to the driver once no pending job uses it.
 */
void tern_buffer_free(struct tern_buffer *buf);

/**
 * tern_copy() - copy bytes between buffers and wait for the copy
 * @dev: the device both buffers belong to
 * @dst: destination buffer
 * @dst_offset: byte offset in @dst
 * @src: source buffer
 * @src_offset: byte offset in @src
 * @size: bytes to copy; 0 does nothing
 *
 * Any combination of host and device buffers works. The two ranges must
 * lie inside their buffers and must not overlap if @dst == @src. A copy is
 * one DMA job of up to 256 pieces of 64 MiB; only a copy of more than
 * 16 GiB becomes several jobs, all on one queue.
 *
 * Return: 0, -EINVAL for a bad range (nothing copied), -EIO when the device
 * reported an error (part of the data may have been written), or another
 * negative error code.
 */
int tern_copy(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
	      struct tern_buffer *src, uint64_t src_offset, uint64_t size);

/**
 * tern_copy_async() - start a copy and return its fence
 * @dev: the device both buffers belong to
 * @dst: destination buffer
 * @dst_offset: byte offset in @dst
 * @src: source buffer
 * @src_offset: byte offset in @src
 * @size: bytes to copy; 0 gives a fence that is already complete
 * @fencep: receives the fence; release it with tern_fence_release()
 *
 * Like tern_copy() but returns once the copy is queued, on a queue picked
 * round robin. Copies on the same queue run in order; copies on different
 * queues may run in parallel. The fence is exact: each of its jobs signals a
 * binary syncobj of its own, so a wait reports that copy's status and no
 * other's, however many copies are in flight or were waited for before.
 *
 * Return: 0 or a negative error code (then nothing was queued and *@fencep
 * is NULL).
 */
int tern_copy_async(struct tern_device *dev, struct tern_buffer *dst, uint64_t dst_offset,
		    struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		    struct tern_fence **fencep);

/**
 * tern_copy_async_on() - start a copy on a given DMA queue
 * @dev: the device
 * @queue: 0..num_queues-1, or TERN_QUEUE_ANY for round robin
 * @dst: destination buffer
 * @dst_offset: byte offset in @dst
 * @src: source buffer
 * @src_offset: byte offset in @src
 * @size: bytes to copy
 * @fencep: receives the fence
 *
 * A named queue is one of the kernel's: on the user-mode queue path
 * (tern_submit_path()) such a copy goes through io_uring or the ioctl.
 *
 * Return: as tern_copy_async(); -EINVAL for a bad queue.
 */
int tern_copy_async_on(struct tern_device *dev, int queue,
		       struct tern_buffer *dst, uint64_t dst_offset,
		       struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		       struct tern_fence **fencep);

/**
 * tern_fence_wait() - wait for an asynchronous copy or launch
 * @dev: the device the copy was started on
 * @fence: its fence
 * @timeout_ns: nanoseconds to wait at most; 0 only checks;
 *	TERN_TIMEOUT_INFINITE waits until done
 *
 * Waits for every job of the copy; when several failed, the first one's
 * error is reported. Once a wait returned something else than -ETIME, every
 * later wait on the same fence returns the same result at once.
 *
 * Return: 0 when the copy completed, -ETIME when it is still running,
 * -EIO when the device reported an error for it (a launch: the core
 * faulted), -ETIMEDOUT when a launch ran past its timeout, -ECANCELED when
 * it was aborted, or another negative error code.
 */
int tern_fence_wait(struct tern_device *dev, struct tern_fence *fence, int64_t timeout_ns);

/**
 * tern_fence_release() - forget a fence
 * @fence: the fence, may be NULL
 *
 * The copy itself goes on if it is still running. The fence's syncobjs go
 * back to the device for reuse by later copies.
 */
void tern_fence_release(struct tern_fence *fence);

/**
 * tern_fence_queue() - the DMA queue a fence's copy runs on
 * @fence: the fence
 *
 * Return: the queue number, or -1 for a zero-size copy or a copy on the
 *	user-mode queue (tern_submit_path()).
 */
int tern_fence_queue(const struct tern_fence *fence);

/* ---- Submission paths, batches and no-ops ---- */

/*
 * Paths by which jobs reach the device, fastest last. The environment
 * variable TERN_SUBMIT=auto|ioctl|uring|userq, read by tern_device_open(),
 * picks one; auto (or unset) takes the fastest the driver offers. A path
 * the driver does not offer falls back to the next slower one (userq ->
 * uring -> ioctl). Every path gives the same results and the same errors.
 */
/** tern_submit_path(): one ioctl per job, one WAIT ioctl per fence. */
#define TERN_SUBMIT_IOCTL	0
/** tern_submit_path(): io_uring commands; completions come as CQEs. */
#define TERN_SUBMIT_URING	1
/** tern_submit_path(): a user-mode queue: descriptors and doorbell from user space. */
#define TERN_SUBMIT_USERQ	2
/** Value of TERN_SUBMIT=auto, never returned by tern_submit_path(). */
#define TERN_SUBMIT_AUTO	(-1)

/**
 * tern_submit_path() - the path copies and no-ops of a device take
 * @dev: the device
 *
 * Settles the choice first (the user-mode queue is made here or at the
 * first copy; if the driver has none left, the device falls back). Launches
 * take io_uring when the driver offers it and the path is not
 * TERN_SUBMIT_IOCTL, else the ioctl (user-mode queues carry DMA only).
 *
 * Return: TERN_SUBMIT_IOCTL, TERN_SUBMIT_URING or TERN_SUBMIT_USERQ;
 * -EINVAL for a NULL @dev.
 */
int tern_submit_path(struct tern_device *dev);

/**
 * tern_submit_path_name() - name of a path
 * @path: TERN_SUBMIT_*
 *
 * Return: "ioctl", "uring", "userq", "auto", or "?".
 */
const char *tern_submit_path_name(int path);

/** Most copies in one tern_copy_batch(). */
#define TERN_BATCH_MAX		256

/**
 * struct tern_copy_desc - one copy of tern_copy_batch()
 * @dst: destination buffer
 * @dst_offset: byte offset in @dst
 * @src: source buffer
 * @src_offset: byte offset in @src
 * @size: bytes; 0 copies nothing
 */
struct tern_copy_desc {
	struct tern_buffer *dst;
	uint64_t dst_offset;
	struct tern_buffer *src;
	uint64_t src_offset;
	uint64_t size;
};

/**
 * tern_copy_batch() - start several copies as one job with one fence
 * @dev: the device all buffers belong to
 * @copies: the copies, each checked as by tern_copy()
 * @n: 1..TERN_BATCH_MAX
 * @fencep: receives the fence; NULL waits for the batch before returning
 *
 * One submission on one queue (a batch whose copies add up to more than
 * 256 pieces of 64 MiB becomes several jobs, on that queue). The copies run
 * in order. If any copy is bad, nothing is queued.
 *
 * Return: 0, -EINVAL for a bad copy (tern_last_error() names which), or
 * as tern_copy_async(); with @fencep NULL, as tern_copy().
 */
int tern_copy_batch(struct tern_device *dev, const struct tern_copy_desc *copies,
		    unsigned int n, struct tern_fence **fencep);

/**
 * tern_nop_async() - queue an empty job
 * @dev: the device
 * @fencep: receives its fence
 *
 * The job moves nothing; its fence signals when the device reaches it on
 * its queue (round robin, as copies). It measures the cost of submission
 * and completion alone.
 *
 * Return: 0 or a negative error code.
 */
int tern_nop_async(struct tern_device *dev, struct tern_fence **fencep);

/**
 * tern_batch_begin() - gather the jobs that follow into one submission
 * @dev: the device
 *
 * Until the matching tern_batch_end(), asynchronous jobs queued on @dev
 * (copies, no-ops, launches: by any thread) that go through io_uring wait
 * in libtern's submission ring and reach the kernel together, in one
 * system call, where the driver rings each queue's doorbell once for the
 * lot. A wait on a fence sends what is waiting first, so nothing can wait
 * for itself. A job the driver refuses is then reported by its fence
 * instead of by the call that queued it. On the other paths jobs go at
 * once, as without a batch. Batches nest.
 *
 * Return: 0, or -EINVAL for a NULL device.
 */
int tern_batch_begin(struct tern_device *dev);

/**
 * tern_batch_end() - send the jobs gathered since tern_batch_begin()
 * @dev: the device
 *
 * Return: 0, -EINVAL for a NULL device or without a batch, or the
 * submission's error.
 */
int tern_batch_end(struct tern_device *dev);

/* ---- Compute: programs on the chip's cores ---- */

/** A program image loaded into device memory, ready to launch. */
struct tern_kernel;

/** Core argument of tern_launch(): let the library pick (round robin). */
#define TERN_CORE_ANY		(-1)

/**
 * struct tern_launch_status - how a launched program ended
 * @result: 0, -EIO when the core faulted (the fields below say where),
 *	-ETIMEDOUT when the job ran past its timeout and was aborted,
 *	-ECANCELED when a reset or unbind aborted it
 * @core: the core it ran on
 * @error: TERN_CERR_* of tern_isa.h (0 when @result is 0)
 * @error_name: @error as text, e.g. "illegal opcode" ("" when none;
 *	"launch refused" when the chip refused the launch itself, with its
 *	TERN_ERR_* code in tern_last_error())
 * @engine: faulting engine (TERN_ENGINE_*), or TERN_ENGINE_NONE
 * @index: faulting instruction's index in its engine's stream
 * @detail: a value that locates the fault (Documentation/chip/isa.rst)
 * @cycles: modeled duration on the chip, in core clock cycles
 * @modeled_ns: @cycles converted to nanoseconds at the core clock
 * @busy: modeled busy cycles per engine, indexed by TERN_ENGINE_*
 * @insns: instructions completed per engine
 * @device_ns: host time the emulated core spent on the job (0 on silicon)
 * @wall_ns: from the launch call until the library saw the job done
 */
struct tern_launch_status {
	int result;
	unsigned int core;
	unsigned int error;
	char error_name[32];
	unsigned int engine;
	unsigned int index;
	uint64_t detail;
	uint64_t cycles;
	uint64_t modeled_ns;
	uint64_t busy[4];
	uint32_t insns[4];
	uint64_t device_ns;
	uint64_t wall_ns;
};

/**
 * tern_kernel_load() - put a program image into device memory
 * @dev: the device
 * @image: the image (header and streams, Documentation/chip/isa.rst), for
 *	example from tern_prog_finish(); the library keeps a copy
 * @size: its size in bytes, a multiple of 64
 * @kp: receives the kernel; free it with tern_kernel_free()
 *
 * Checks the header (magic, version, stream layout against @size) so that
 * a damaged image is refused here rather than by the core.
 *
 * Return: 0, -EINVAL for a bad image, -ENOSPC when the HBM is full, or
 * another negative error code.
 */
int tern_kernel_load(struct tern_device *dev, const void *image, size_t size,
		     struct tern_kernel **kp);

/**
 * tern_kernel_slots() - buffer slots a kernel uses
 * @k: the kernel
 *
 * Return: the number of slots (highest slot used + 1) in its header.
 */
unsigned int tern_kernel_slots(const struct tern_kernel *k);

/**
 * tern_kernel_free() - free a kernel
 * @k: the kernel, may be NULL
 *
 * Launches of @k still running keep its memory until they end.
 */
void tern_kernel_free(struct tern_kernel *k);

/**
 * tern_launch() - run a kernel on a core and wait for it
 * @dev: the device
 * @k: the kernel, loaded on @dev
 * @core: 0..num_cores-1, or TERN_CORE_ANY
 * @slots: buffer bound to each slot, @nslots entries: device buffers of
 *	@dev (the core reaches HBM only; a host buffer is -EINVAL)
 * @nslots: at least tern_kernel_slots(@k)
 * @status: receives how the job ended and its modeled and wall times; may
 *	be NULL
 *
 * Launches on the same core run one after another in launch order; the
 * cores run in parallel.
 *
 * Return: 0, -EINVAL for a bad argument (nothing ran), -EIO when the core
 * faulted (tern_last_error() names the error, engine and instruction),
 * -ETIMEDOUT when the job ran past its timeout (the core was reset and is
 * usable again), -ECANCELED, or another negative error code.
 */
int tern_launch(struct tern_device *dev, struct tern_kernel *k, int core,
		struct tern_buffer *const *slots, unsigned int nslots,
		struct tern_launch_status *status);

/**
 * tern_launch_async() - start a kernel on a core and return its fence
 * @dev: the device
 * @k: the kernel
 * @core: 0..num_cores-1, or TERN_CORE_ANY
 * @slots: buffer bound to each slot
 * @nslots: entries in @slots
 * @fencep: receives the fence (an event: wait for it, poll it with a zero
 *	timeout, then read its status with tern_fence_launch_status())
 *
 * Return: 0 or a negative error code (then nothing was launched).
 */
int tern_launch_async(struct tern_device *dev, struct tern_kernel *k, int core,
		      struct tern_buffer *const *slots, unsigned int nslots,
		      struct tern_fence **fencep);

/**
 * tern_fence_launch_status() - how a launch ended
 * @fence: a fence from tern_launch_async(), waited for
 * @status: receives the status
 *
 * Return: 0, -EBUSY when the job is not known to be done yet (wait first),
 * -EINVAL for a fence of a copy.
 */
int tern_fence_launch_status(struct tern_fence *fence, struct tern_launch_status *status);

/* ---- Profiles (Documentation/runtime.rst, "Profiles"; tern-profile) ---- */

/**
 * struct tern_profile_insn - one instruction a core completed, from its profile
 * @engine: TERN_ENGINE_*
 * @opcode: TERN_OP_*
 * @index: its index in the engine's stream
 * @ready: modeled cycle its engine finished the instruction before
 * @start: modeled cycle it started (start - ready: semaphore wait)
 * @end: modeled cycle it ended
 * @bytes: bytes a DMA_LOAD/DMA_STORE moved, else 0
 * @sync: TERN_SYNC_* of the instruction
 * @wait_sem: semaphore it waited on (with TERN_SYNC_WAIT)
 * @wait_value: the value it waited for
 * @signal_sem: semaphore it signalled (with TERN_SYNC_SIGNAL)
 *
 * Cycles count from the start of the launch, at TERN_COST_CLOCK_HZ.
 */
struct tern_profile_insn {
	unsigned int engine;
	unsigned int opcode;
	uint32_t index;
	uint64_t ready;
	uint64_t start;
	uint64_t end;
	uint64_t bytes;
	unsigned int sync;
	unsigned int wait_sem;
	uint32_t wait_value;
	unsigned int signal_sem;
};

/**
 * struct tern_profile_launch - one profiled launch
 * @core: the core it ran on
 * @name: what ran: the op's name for launches of tern_ops.h, else "kernel"
 * @result: as &tern_launch_status.result
 * @cycles: its modeled duration
 * @base_cycles: where it starts on its core's modeled timeline: launches of
 *	one core follow one another in the order they ran, cores are
 *	independent timelines starting at 0
 * @busy: modeled busy cycles per engine
 * @insn_count: instructions completed per engine
 * @host_start_ns: CLOCK_MONOTONIC ns when the library submitted it
 * @host_end_ns: CLOCK_MONOTONIC ns when the library saw it done
 * @ninsns: records in @insns
 * @dropped: instructions the profile buffer had no room for
 * @insns: the instructions, in the order the core ran them
 */
struct tern_profile_launch {
	unsigned int core;
	char name[32];
	int result;
	uint64_t cycles;
	uint64_t base_cycles;
	uint64_t busy[4];
	uint32_t insn_count[4];
	uint64_t host_start_ns;
	uint64_t host_end_ns;
	size_t ninsns;
	uint32_t dropped;
	struct tern_profile_insn *insns;
};

/* Directions of &tern_profile_copy.direction. */
#define TERN_PROFILE_H2D	0	/* host -> device memory */
#define TERN_PROFILE_D2H	1
#define TERN_PROFILE_D2D	2
#define TERN_PROFILE_H2H	3

/**
 * struct tern_profile_copy - one DMA copy job of the session, timed by the host
 * @queue: the DMA queue it ran on, UINT_MAX for the user-mode queue
 * @direction: TERN_PROFILE_H2D, _D2H, _D2D or _H2H: of its first copy
 * @bytes: bytes it moved
 * @host_start_ns: CLOCK_MONOTONIC ns of its submission
 * @host_end_ns: CLOCK_MONOTONIC ns when the library saw it done
 */
struct tern_profile_copy {
	unsigned int queue;
	unsigned int direction;
	uint64_t bytes;
	uint64_t host_start_ns;
	uint64_t host_end_ns;
};

/**
 * struct tern_profile - what a profiling session recorded on one device
 * @device: device index
 * @num_cores: cores of the chip
 * @clock_hz: the core clock the cycles count at (TERN_COST_CLOCK_HZ)
 * @host_start_ns: CLOCK_MONOTONIC ns of tern_profile_start()
 * @host_end_ns: CLOCK_MONOTONIC ns of tern_profile_stop()
 * @nlaunches: entries in @launches, in completion order
 * @launches: the profiled launches
 * @ncopies: entries in @copies
 * @copies: the copy jobs
 */
struct tern_profile {
	unsigned int device;
	unsigned int num_cores;
	uint64_t clock_hz;
	uint64_t host_start_ns;
	uint64_t host_end_ns;
	size_t nlaunches;
	struct tern_profile_launch *launches;
	size_t ncopies;
	struct tern_profile_copy *copies;
};

/** Default per-launch record capacity of tern_profile_start(). */
#define TERN_PROFILE_DEFAULT_INSNS	65536

/**
 * tern_profile_start() - profile every later launch and copy on a device
 * @dev: the device
 * @max_insns: records kept per launch (0: TERN_PROFILE_DEFAULT_INSNS);
 *	instructions past it are counted as dropped
 *
 * Until tern_profile_stop(), each launch on @dev (tern_launch(), the
 * asynchronous and batched paths, and the ops of tern_ops.h) asks its core
 * for a profile, and each copy job is timed. Profiling costs one more
 * device buffer and one copy per launch; it does not change what the
 * program computes or its modeled cycles.
 *
 * Return: 0, -EBUSY when a session is already running, -EOPNOTSUPP when
 * the driver or chip cannot profile (tern_last_error() says which).
 */
int tern_profile_start(struct tern_device *dev, size_t max_insns);

/**
 * tern_profile_stop() - end the session and take what it recorded
 * @dev: the device
 * @out: receives the profile; free it with tern_profile_free()
 *
 * Waits for nothing: launches still running when it is called are not in
 * the profile.
 *
 * Return: 0, -EINVAL when no session is running.
 */
int tern_profile_stop(struct tern_device *dev, struct tern_profile **out);

/**
 * tern_profile_write_json() - write a profile as a Chrome/Perfetto trace
 * @prof: the profile
 * @f: where to write
 *
 * The Trace Event Format JSON object ("traceEvents", "displayTimeUnit"):
 * one process per device, one thread per core engine ("core 0 tensor",
 * ...) with a complete event per instruction at its modeled time in
 * microseconds, semaphore waits as their own events, and a "host" thread
 * with the copy jobs and launches at host time (Documentation/tools/
 * tern-profile.rst lists every field).
 *
 * Return: 0, or -EIO when writing failed.
 */
int tern_profile_write_json(const struct tern_profile *prof, FILE *f);

/**
 * tern_profile_free() - free a profile
 * @prof: from tern_profile_stop(), may be NULL
 */
void tern_profile_free(struct tern_profile *prof);

/* ---- Chip-to-chip links (Documentation/runtime.rst, "Links") ---- */

/** Link port states (struct tern_link.state). */
#define TERN_LINK_NONE		0	/* nothing wired to the port */
#define TERN_LINK_UP		1
#define TERN_LINK_DOWN		2	/* wired, but unusable */

/** Most link ports of a chip. */
#define TERN_MAX_LINK_PORTS	4

/**
 * struct tern_link - one link port, from tern_device_links()
 * @port: port number
 * @state: TERN_LINK_*
 * @peer_chip: chip id at the other end (meaningless for TERN_LINK_NONE)
 * @peer_port: the peer's port of this link
 * @bandwidth_mbps: modeled bandwidth per direction, 10^6 bytes/s
 * @latency_ns: modeled latency of one transfer
 * @errors: link copies that failed on the port
 * @tx_bytes: bytes sent through the port
 * @rx_bytes: bytes received through the port
 * @busy_ns: modeled time the port spent sending
 */
struct tern_link {
	unsigned int port;
	unsigned int state;
	unsigned int peer_chip;
	unsigned int peer_port;
	unsigned int bandwidth_mbps;
	unsigned int latency_ns;
	unsigned int errors;
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint64_t busy_ns;
};

/**
 * tern_device_links() - read the link ports of a device
 * @dev: device
 * @links: array of at least @max entries
 * @max: entries in @links
 *
 * Return: the number of ports filled (min(num_links, max)), or a negative
 * error code.
 */
int tern_device_links(struct tern_device *dev, struct tern_link *links, unsigned int max);

/** Reduce-on-arrival operations (flags of tern_link_copy_async()). */
#define TERN_REDUCE_NONE	0
#define TERN_REDUCE_SUM		1
#define TERN_REDUCE_MAX		2

/**
 * tern_link_copy_async() - send device memory over a link to a neighbour
 * @dev: sending device
 * @port: link port of @dev whose other end is @peer's chip
 * @peer: the receiving device, opened by this process
 * @dst: device buffer of @peer
 * @dst_offset: byte offset in @dst
 * @src: device (or host) buffer of @dev
 * @src_offset: byte offset in @src
 * @size: bytes
 * @reduce: TERN_REDUCE_NONE to overwrite, or TERN_REDUCE_SUM/MAX to
 *	reduce each element of @dst with the arriving one
 * @dtype: element type when reducing: TERN_DT_FP32 or TERN_DT_BF16
 *	(tern_isa.h); 0 with TERN_REDUCE_NONE
 * @fencep: receives the job's fence; release it with tern_fence_release()
 *
 * Return: 0, or a negative error code: -ENOLINK when the link is not up,
 * -EXDEV when @peer is not at the other end of @port. A link that goes
 * down while the copy runs fails its fence with -ENOLINK.
 */
int tern_link_copy_async(struct tern_device *dev, unsigned int port, struct tern_device *peer,
			 struct tern_buffer *dst, uint64_t dst_offset, struct tern_buffer *src,
			 uint64_t src_offset, uint64_t size, unsigned int reduce,
			 unsigned int dtype, struct tern_fence **fencep);

/* ---- Telemetry (Documentation/runtime.rst, "Telemetry") ---- */

/** Most cores, DMA engines and queues struct tern_stats holds. */
#define TERN_STATS_MAX_CORES	8
#define TERN_STATS_MAX_ENGINES	8
#define TERN_STATS_MAX_QUEUES	64

/*
 * struct tern_stats.flags: which counters the driver provides. A driver
 * older than the telemetry attributes gives only the job, memory and error
 * counters (the others read 0); a kernel without hwmon gives no
 * temperature or power.
 */
#define TERN_STATS_TELEMETRY	(1u << 0)	/* time, ECC, faults, dma<e>, queue<q>, core<c> */
#define TERN_STATS_HWMON	(1u << 1)	/* temperature and power */

/**
 * struct tern_core_stats - one compute core's counters
 * @cycles: modeled busy cycles per engine (TERN_ENGINE_*: tensor, vector,
 *	scalar, dma), at @clock_hz of struct tern_stats
 * @wall_ns: wall time the core ran launches
 * @launches: launches that completed without error
 * @launches_failed: launches that ended with a fault or were aborted
 */
struct tern_core_stats {
	uint64_t cycles[4];
	uint64_t wall_ns;
	uint64_t launches;
	uint64_t launches_failed;
};

/**
 * struct tern_queue_stats - one DMA queue's traffic
 * @h2d_bytes, @d2h_bytes, @d2d_bytes, @h2h_bytes, @link_bytes: bytes by
 *	direction (host->device, device->host, device->device, host->host,
 *	over a link)
 * @descs_done: descriptors completed
 * @descs_failed: descriptors that failed
 */
struct tern_queue_stats {
	uint64_t h2d_bytes, d2h_bytes, d2d_bytes, h2h_bytes, link_bytes;
	uint64_t descs_done, descs_failed;
};

/**
 * struct tern_stats - a device's counters, from tern_device_stats()
 *
 * Counters count from the device's last reset. Rates are differences of
 * two snapshots over @time_ns. Read from sysfs: needs no permission on the
 * device node.
 */
struct tern_stats {
	/** @flags: TERN_STATS_*: the groups of counters below that are real */
	unsigned int flags;
	/** @time_ns: device wall clock (ns since reset) when read */
	uint64_t time_ns;
	/** @clock_hz: the cost model's clock for the modeled cycles */
	uint64_t clock_hz;
	/** @temp_mc: die temperature, milli-degrees C; @temp_max_mc: critical */
	int64_t temp_mc, temp_max_mc;
	/** @power_mw: board power, mW; @power_max_mw: its limit */
	uint64_t power_mw, power_max_mw;
	/** @ecc_corrected, @ecc_uncorrected: HBM ECC errors */
	uint64_t ecc_corrected, ecc_uncorrected;
	/** @jobs_submitted, @jobs_completed, @jobs_failed: driver job counters */
	uint64_t jobs_submitted, jobs_completed, jobs_failed;
	/** @device_errors: errors the chip reported; @mmu_faults: MMU faults */
	uint64_t device_errors, mmu_faults;
	/** @hbm_total, @hbm_used: device memory; @host_used: host BOs' bytes */
	uint64_t hbm_total, hbm_used, host_used;
	/** @kernel_used: the driver's own DMA memory (rings, page tables, fences) */
	uint64_t kernel_used;
	/** @bo_count: buffers alive */
	uint64_t bo_count;
	/** @num_dma_engines, @dma_busy_ns, @dma_bytes, @dma_descs: per DMA engine */
	unsigned int num_dma_engines;
	uint64_t dma_busy_ns[TERN_STATS_MAX_ENGINES];
	uint64_t dma_bytes[TERN_STATS_MAX_ENGINES];
	uint64_t dma_descs[TERN_STATS_MAX_ENGINES];
	/** @num_queues, @queue: per DMA queue (all of the chip's, user queues too) */
	unsigned int num_queues;
	struct tern_queue_stats queue[TERN_STATS_MAX_QUEUES];
	/** @num_cores, @core: per compute core */
	unsigned int num_cores;
	struct tern_core_stats core[TERN_STATS_MAX_CORES];
};

/**
 * tern_device_stats() - read a device's counters
 * @index: device index as for tern_device_open() (the device need not be open)
 * @st: filled
 *
 * The job, memory and error counters are required: a driver without one of
 * them fails with -EOPNOTSUPP and tern_last_error() names the file. The
 * telemetry counters are all there or all missing (@st->flags says which).
 *
 * Return: 0 or a negative error code (-ENODEV: no such device).
 */
int tern_device_stats(unsigned int index, struct tern_stats *st);

/**
 * struct tern_client - one open file of a tern device, from its fdinfo
 * @pid: process holding it
 * @comm: the process's name
 * @index: device index
 * @client_id: DRM client id (drm-client-id)
 * @engine_ns: busy ns by engine class: [0] dma (drm-engine-dma),
 *	[1] compute (drm-engine-compute)
 * @cycles: modeled compute cycles (drm-cycles-compute)
 * @hbm_bytes: device memory of its buffers (drm-total-hbm)
 * @host_bytes: host memory of its buffers (drm-total-host)
 */
struct tern_client {
	int pid;
	char comm[32];
	unsigned int index;
	uint64_t client_id;
	uint64_t engine_ns[2];
	uint64_t cycles;
	uint64_t hbm_bytes, host_bytes;
};

/**
 * tern_clients() - the open files of every tern device, from /proc/<pid>/fdinfo
 * @clients: array of @max entries
 * @max: entries
 *
 * Lists only processes whose /proc entries the caller may read. One entry
 * per DRM client (a file open in several processes, or through several
 * fds, is listed once, under the first pid seen).
 *
 * Return: the number of clients found (may exceed @max; only @max are
 * filled), or a negative error code.
 */
int tern_clients(struct tern_client *clients, unsigned int max);

/**
 * tern_strerror() - message for an error code
 * @code: a negative error code returned by this library
 *
 * Return: a constant string, never NULL.
 */
const char *tern_strerror(int code);

/**
 * tern_last_error() - what the last failing call of this thread did
 *
 * For example "DRM_IOCTL_TERN_SUBMIT on /dev/accel/accel0 queue 3: Invalid
 * argument". Only meaningful right after a call returned an error; the
 * string is overwritten by the next failure in the same thread.
 *
 * Return: a string owned by the library, never NULL ("" if nothing failed).
 */
const char *tern_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* TERN_H */
