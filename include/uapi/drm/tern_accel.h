/* SPDX-License-Identifier: MIT */
/*
 * tern accelerator UAPI: ioctls of /dev/accel/accelN bound to tern.ko.
 *
 * Rules for every structure: all fields are naturally aligned, there are no
 * implicit holes, pointers travel as __u64, and every pad/reserved field and
 * every undefined flag bit must be zero or the ioctl fails with -EINVAL.
 * Documentation/uapi.rst explains each ioctl and its errors.
 */
#ifndef _UAPI_TERN_ACCEL_H_
#define _UAPI_TERN_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/** DRM_TERN_UAPI_VERSION_MAJOR: incompatible UAPI changes bump this. */
#define DRM_TERN_UAPI_VERSION_MAJOR	1
/** DRM_TERN_UAPI_VERSION_MINOR: compatible additions bump this. */
#define DRM_TERN_UAPI_VERSION_MINOR	5

#define DRM_TERN_GET_INFO		0x00
#define DRM_TERN_BO_CREATE		0x01
#define DRM_TERN_BO_INFO		0x02
#define DRM_TERN_SUBMIT			0x03
#define DRM_TERN_WAIT			0x04
#define DRM_TERN_EXEC			0x05
#define DRM_TERN_QUEUE_CREATE		0x06
#define DRM_TERN_QUEUE_DESTROY		0x07
#define DRM_TERN_QUEUE_QUERY		0x08
#define DRM_TERN_LINK_QUERY		0x09

/* Platform values of &drm_tern_info.platform. */
#define DRM_TERN_PLATFORM_SILICON	0
#define DRM_TERN_PLATFORM_EMULATED	1

/**
 * struct drm_tern_info - what the device and driver are (DRM_IOCTL_TERN_GET_INFO)
 *
 * All fields are outputs; the caller must pass the structure zeroed.
 */
struct drm_tern_info {
	/** @uapi_major: DRM_TERN_UAPI_VERSION_MAJOR of the driver. */
	__u32 uapi_major;
	/** @uapi_minor: DRM_TERN_UAPI_VERSION_MINOR of the driver. */
	__u32 uapi_minor;
	/** @hw_version: chip register interface version, major << 16 | minor. */
	__u32 hw_version;
	/** @revision: chip revision (0..255). */
	__u32 revision;
	/** @platform: DRM_TERN_PLATFORM_*. */
	__u32 platform;
	/** @num_cores: compute cores on the chip. */
	__u32 num_cores;
	/** @num_queues: DMA queues usable through DRM_IOCTL_TERN_SUBMIT. */
	__u32 num_queues;
	/** @num_dma_engines: DMA engines serving the queues. */
	__u32 num_dma_engines;
	/** @hbm_size: device memory in bytes. */
	__u64 hbm_size;
	/** @hbm_used: device memory currently allocated, in bytes. */
	__u64 hbm_used;
	/** @caps: chip capability bits (TERN_CAP_* of the register map). */
	__u32 caps;
	/** @pad: must be zero. */
	__u32 pad;
	/** @sbuf_size: SBUF bytes per compute core (UAPI 1.1; 0 before). */
	__u64 sbuf_size;
	/**
	 * @num_user_queues: user-mode queues the device offers to all
	 * processes together (DRM_IOCTL_TERN_QUEUE_CREATE; UAPI 1.2).
	 */
	__u32 num_user_queues;
	/** @va_bits: width of a context's device virtual addresses (UAPI 1.2). */
	__u32 va_bits;
	/**
	 * @chip_id: the chip's number in its fabric, 0..@fabric_chips-1
	 * (UAPI 1.3). Chips with the same @fabric_id are wired by links.
	 */
	__u32 chip_id;
	/** @fabric_id: non-zero tag of the chip's fabric; 0: no fabric (UAPI 1.3). */
	__u32 fabric_id;
	/** @fabric_chips: chips in the fabric; 0: no fabric (UAPI 1.3). */
	__u32 fabric_chips;
	/** @num_links: link ports of the chip (DRM_IOCTL_TERN_LINK_QUERY; UAPI 1.3). */
	__u32 num_links;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/* Domains of &drm_tern_bo_create.domain. */
/** DRM_TERN_BO_HOST: host memory (shmem), reachable by the device's DMA. */
#define DRM_TERN_BO_HOST		1
/** DRM_TERN_BO_DEVICE: device HBM, mappable through BAR4. */
#define DRM_TERN_BO_DEVICE		2

/* Flags of &drm_tern_bo_create.flags. */
/** DRM_TERN_BO_READ_ONLY: the device may read the buffer but never write it. */
#define DRM_TERN_BO_READ_ONLY		(1u << 0)

/** DRM_TERN_BO_MAX_SIZE: largest single buffer (64 GiB). */
#define DRM_TERN_BO_MAX_SIZE		(1ull << 36)

/**
 * struct drm_tern_bo_create - allocate a buffer object (DRM_IOCTL_TERN_BO_CREATE)
 */
struct drm_tern_bo_create {
	/** @size: in: bytes, 1..DRM_TERN_BO_MAX_SIZE; rounded up to pages. */
	__u64 size;
	/** @domain: in: DRM_TERN_BO_HOST or DRM_TERN_BO_DEVICE. */
	__u32 domain;
	/** @flags: in: DRM_TERN_BO_READ_ONLY or zero. */
	__u32 flags;
	/** @handle: out: GEM handle. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/**
 * struct drm_tern_bo_info - describe a buffer object (DRM_IOCTL_TERN_BO_INFO)
 */
struct drm_tern_bo_info {
	/** @handle: in: GEM handle. */
	__u32 handle;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @size: out: size in bytes (page aligned). */
	__u64 size;
	/** @mmap_offset: out: offset to pass to mmap() on the device fd. */
	__u64 mmap_offset;
	/** @device_addr: out: HBM offset for DRM_TERN_BO_DEVICE, else 0. */
	__u64 device_addr;
	/** @domain: out: DRM_TERN_BO_HOST or DRM_TERN_BO_DEVICE. */
	__u32 domain;
	/** @bo_flags: out: the buffer's DRM_TERN_BO_* creation flags (UAPI 1.2). */
	__u32 bo_flags;
	/**
	 * @device_va: out: where the buffer is mapped in the caller's device
	 * address space (UAPI 1.2). Each open file is its own context with its
	 * own addresses; a buffer is mapped in a context while the file has a
	 * handle to it.
	 */
	__u64 device_va;
	/** @reserved: must be zero. */
	__u64 reserved;
};

/**
 * struct drm_tern_copy - one copy of a DMA job
 *
 * Copies @size bytes from (@src_handle, @src_offset) to (@dst_handle,
 * @dst_offset). Both ranges must lie inside their buffers; in one buffer
 * they must not overlap. With DRM_TERN_COPY_VA the handles must be 0 and
 * the offsets are device virtual addresses of the caller's context: the
 * kernel does not look at them, the device MMU checks every page, and a
 * page the context does not map ends the job with DRM_TERN_JOB_MMU_FAULT.
 */
struct drm_tern_copy {
	/** @src_handle: source GEM handle. */
	__u32 src_handle;
	/** @dst_handle: destination GEM handle. */
	__u32 dst_handle;
	/** @src_offset: byte offset in the source buffer. */
	__u64 src_offset;
	/** @dst_offset: byte offset in the destination buffer. */
	__u64 dst_offset;
	/** @size: bytes to copy, at least 1. */
	__u64 size;
	/** @flags: DRM_TERN_COPY_* or zero. */
	__u32 flags;
	/**
	 * @operand_handle: with DRM_TERN_COPY_OPERAND, the GEM handle of the
	 * operand's buffer (of the peer file for a DRM_TERN_COPY_LINK copy);
	 * otherwise must be zero (UAPI 1.5; before, a pad that had to be zero).
	 */
	__u32 operand_handle;
};

/** DRM_TERN_COPY_VA: @src_offset and @dst_offset are device VAs (UAPI 1.2). */
#define DRM_TERN_COPY_VA		(1u << 0)
/**
 * DRM_TERN_COPY_LINK: the destination is on the peer chip of the job
 * (&drm_tern_submit.peer_fd) and the data goes over the link port
 * &drm_tern_submit.link_port (UAPI 1.3). @dst_handle is a handle of the
 * peer file and must name a DRM_TERN_BO_DEVICE buffer; with
 * DRM_TERN_COPY_VA, @dst_offset is a VA of the peer file's context. The
 * job needs DRM_TERN_SUBMIT_LINK.
 */
#define DRM_TERN_COPY_LINK		(1u << 1)
/**
 * DRM_TERN_COPY_REDUCE_SUM, DRM_TERN_COPY_REDUCE_MAX: reduce on arrival
 * (UAPI 1.3): each destination element becomes dst + src (or max(dst,
 * src)), fp32 elements, or bf16 with DRM_TERN_COPY_BF16 (summed in fp32,
 * rounded to nearest even). @size and both offsets must be multiples of the
 * element size. At most one REDUCE flag; BF16 only with one.
 */
#define DRM_TERN_COPY_REDUCE_SUM	(1u << 2)
#define DRM_TERN_COPY_REDUCE_MAX	(1u << 3)
#define DRM_TERN_COPY_BF16		(1u << 4)
/**
 * DRM_TERN_COPY_OPERAND: reduce with an operand (UAPI 1.5): with a REDUCE
 * flag, each destination element becomes op(operand, src) instead of
 * op(dst, src); the destination is only written. The operand is the range
 * at @dst_offset, @size bytes, of the device buffer @operand_handle (of the
 * peer file for a link copy): the same offset as the destination, in
 * another buffer, so that dst = a + b needs no copy of a first. Errors:
 * -EINVAL without a REDUCE flag, with DRM_TERN_COPY_VA, for a host buffer
 * or a range outside the buffer; -ENOENT for a handle that names nothing;
 * -EOPNOTSUPP on a chip before register interface 1.6.
 */
#define DRM_TERN_COPY_OPERAND		(1u << 5)

/** DRM_TERN_MAX_COPIES: most copies in one job. */
#define DRM_TERN_MAX_COPIES		256

/**
 * struct drm_tern_submit - queue a DMA job (DRM_IOCTL_TERN_SUBMIT)
 *
 * The kernel validates every copy, builds the descriptors itself and writes
 * them to a kernel-owned ring. The job's fence is attached to @out_syncobj.
 */
struct drm_tern_submit {
	/** @copies: in: user pointer to an array of &struct drm_tern_copy. */
	__u64 copies;
	/**
	 * @copy_count: in: entries in @copies, 0..DRM_TERN_MAX_COPIES; 0
	 * makes a job that moves nothing and only signals its fence (UAPI 1.2).
	 */
	__u32 copy_count;
	/** @queue: in: DMA queue index, below &drm_tern_info.num_queues. */
	__u32 queue;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @out_syncobj: in: syncobj handle that receives the job fence, or 0. */
	__u32 out_syncobj;
	/**
	 * @out_point: in: timeline point to add on @out_syncobj; 0 replaces
	 * the fence of a binary syncobj.
	 */
	__u64 out_point;
	/** @job_id: out: identifies the job in traces and debugfs. */
	__u64 job_id;
	/**
	 * @peer_fd: in: with DRM_TERN_SUBMIT_LINK, an open tern file of the
	 * same process for the chip at the other end of @link_port, whose
	 * buffers and context the DRM_TERN_COPY_LINK copies write; else 0
	 * (UAPI 1.3).
	 */
	__s32 peer_fd;
	/** @link_port: in: with DRM_TERN_SUBMIT_LINK, the port to send through; else 0. */
	__u32 link_port;
	/** @reserved: must be zero. */
	__u64 reserved[3];
};

/**
 * DRM_TERN_SUBMIT_LINK: the job has DRM_TERN_COPY_LINK copies to the chip
 * at the other end of @link_port, named by @peer_fd (UAPI 1.3). Errors:
 * -EINVAL for a port past &drm_tern_info.num_links, -EBADF for a peer_fd
 * that is not open, -EINVAL for a file that is not a tern device,
 * -EACCES for a file another process opened, -EXDEV for a chip that is
 * not the one at the other end of the port, -ENOLINK when the link is not
 * up.
 */
#define DRM_TERN_SUBMIT_LINK		(1u << 0)

/* Status of &drm_tern_wait.status. */
#define DRM_TERN_JOB_OK			0	/* completed */
#define DRM_TERN_JOB_DEVICE_ERROR	1	/* the device reported @error_code */
#define DRM_TERN_JOB_ABORTED		2	/* cancelled by a reset or unbind */
#define DRM_TERN_JOB_FAULT		3	/* compute fault: @error_code is a TERN_CERR_* */
#define DRM_TERN_JOB_TIMEOUT		4	/* exceeded its timeout; only it was aborted */
#define DRM_TERN_JOB_MMU_FAULT		5	/* @error_code is TERN_FAULT_INFO(), @fault_addr the VA */
#define DRM_TERN_JOB_LINK_DOWN		6	/* its link went down (UAPI 1.3); retry on another route */
/*
 * DRM_TERN_JOB_RESET: the job was in flight when the driver reset the chip
 * (or a core) to recover from another job's fault; it was not at fault and
 * did not complete: submit it again (UAPI 1.4).
 */
#define DRM_TERN_JOB_RESET		7

/**
 * struct drm_tern_wait - wait for a job fence and get its status (DRM_IOCTL_TERN_WAIT)
 *
 * Returns 0 when the fence signalled (whatever the job's status), -ETIME when
 * @timeout_ns passed first, -ENOENT when the syncobj point has no fence.
 */
struct drm_tern_wait {
	/** @syncobj: in: syncobj handle. */
	__u32 syncobj;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @point: in: timeline point, or 0 for a binary syncobj. */
	__u64 point;
	/** @timeout_ns: in: relative timeout in nanoseconds; 0 polls. */
	__s64 timeout_ns;
	/** @status: out: DRM_TERN_JOB_*. */
	__u32 status;
	/**
	 * @error_code: out: TERN_ERR_* for DEVICE_ERROR, TERN_CERR_* for
	 * FAULT, the fault record TERN_FAULT_INFO(context, write, reason) for
	 * MMU_FAULT, else 0.
	 */
	__u32 error_code;
	/** @fault_addr: out: the faulting device VA for MMU_FAULT, else 0 (UAPI 1.2). */
	__u64 fault_addr;
	/** @reserved: must be zero. */
	__u64 reserved;
};

/**
 * struct drm_tern_slot - a device buffer range bound to a program's buffer slot
 */
struct drm_tern_slot {
	/** @handle: GEM handle of a DRM_TERN_BO_DEVICE buffer. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @offset: start of the range in the buffer. */
	__u64 offset;
	/** @size: bytes of the range, at least 1; offset + size within the buffer. */
	__u64 size;
};

/** DRM_TERN_MAX_SLOTS: most buffer slots of one program (TERN_MAX_SLOTS). */
#define DRM_TERN_MAX_SLOTS		64

/**
 * struct drm_tern_exec - run a compute program on a core (DRM_IOCTL_TERN_EXEC)
 *
 * The program image (Documentation/chip/isa.rst) lies in a device buffer.
 * Slot i of the program is bound to &slots[i]: that binding is the
 * program's relocation. When the job ends the kernel copies the 128-byte
 * struct tern_job_status the device wrote (status, error, faulting engine
 * and instruction, modeled cycles) into the host buffer @status_handle at
 * @status_offset, and
 * the job's fence is attached to @out_syncobj as for DRM_IOCTL_TERN_SUBMIT.
 *
 * With DRM_TERN_EXEC_PROFILE (UAPI 1.4) the core also writes a profile of
 * the job, a struct tern_prof_header and one record per completed
 * instruction (tern_isa.h, Documentation/chip/isa.rst "Profiles"), into the
 * device buffer range @profile, which must hold at least the 64-byte header;
 * records that do not fit are counted as dropped.
 */
struct drm_tern_exec {
	/** @core: in: compute core, below &drm_tern_info.num_cores. */
	__u32 core;
	/** @flags: in: DRM_TERN_EXEC_PROFILE or zero. */
	__u32 flags;
	/** @program_handle: in: GEM handle of the device buffer holding the program. */
	__u32 program_handle;
	/** @slot_count: in: entries in @slots, 0..DRM_TERN_MAX_SLOTS. */
	__u32 slot_count;
	/** @program_offset: in: program start in its buffer, a multiple of 64. */
	__u64 program_offset;
	/** @program_size: in: bytes of the program image, 64..1 GiB, a multiple of 64. */
	__u64 program_size;
	/** @slots: in: user pointer to an array of &struct drm_tern_slot. */
	__u64 slots;
	/** @status_handle: in: GEM handle of a DRM_TERN_BO_HOST buffer, or 0 for no status. */
	__u32 status_handle;
	/** @out_syncobj: in: syncobj handle that receives the job fence, or 0. */
	__u32 out_syncobj;
	/** @status_offset: in: where the status goes, a multiple of 8; 128 bytes must fit. */
	__u64 status_offset;
	/** @out_point: in: timeline point on @out_syncobj; 0 replaces a binary syncobj's fence. */
	__u64 out_point;
	/** @timeout_ns: in: timeout from when the job is first on its core; 0: driver default. */
	__u64 timeout_ns;
	/** @job_id: out: identifies the job in traces and debugfs. */
	__u64 job_id;
	/**
	 * @profile: in: with DRM_TERN_EXEC_PROFILE, the device buffer range
	 * the profile goes to (size at least 64, offset a multiple of 64);
	 * otherwise all zero (UAPI 1.4).
	 */
	struct drm_tern_slot profile;
};

/** DRM_TERN_EXEC_PROFILE: the core writes a profile of the job to &drm_tern_exec.profile. */
#define DRM_TERN_EXEC_PROFILE		(1u << 0)

/** DRM_TERN_USER_QUEUE_MAX_ENTRIES: largest user-mode ring, in descriptors. */
#define DRM_TERN_USER_QUEUE_MAX_ENTRIES	65536

/* Flags of &drm_tern_queue_create.flags. */
/** DRM_TERN_QUEUE_EVENTFD: descriptors with TERN_DESC_F_IRQ signal @eventfd. */
#define DRM_TERN_QUEUE_EVENTFD		(1u << 0)

/**
 * struct drm_tern_queue_create - make a user-mode DMA queue (DRM_IOCTL_TERN_QUEUE_CREATE)
 *
 * The ring of @ring_entries 64-byte struct tern_dma_desc (tern_regs.h) lies
 * at device VA @ring_va of the caller's context, inside one of its buffers.
 * The caller writes descriptors there and rings the doorbell by writing the
 * new tail index, as a 32-bit store, at offset 0 of the page it maps with
 * mmap(@doorbell_offset, 4096, PROT_WRITE, MAP_SHARED) on the same file.
 * The device fetches and checks every descriptor through the context's MMU;
 * descriptors must have ctx 0 and none of the *_HBM or *_PHYS flags. A
 * descriptor with TERN_DESC_F_FENCE writes its fence value to a VA of the
 * context. Only the process that created the queue can map its doorbell; the
 * mapping is not inherited across fork() and ends when the queue is
 * destroyed. The queue is destroyed when its file is closed.
 */
struct drm_tern_queue_create {
	/** @ring_va: in: device VA of the ring, 64-byte aligned. */
	__u64 ring_va;
	/** @ring_entries: in: power of two, 2..DRM_TERN_USER_QUEUE_MAX_ENTRIES. */
	__u32 ring_entries;
	/** @flags: in: DRM_TERN_QUEUE_EVENTFD or zero. */
	__u32 flags;
	/** @eventfd: in: eventfd with DRM_TERN_QUEUE_EVENTFD, else must be zero. */
	__s32 eventfd;
	/** @queue_id: out: identifies the queue in this file. */
	__u32 queue_id;
	/** @doorbell_offset: out: mmap offset of the doorbell page. */
	__u64 doorbell_offset;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/**
 * struct drm_tern_queue_destroy - remove a user-mode queue (DRM_IOCTL_TERN_QUEUE_DESTROY)
 *
 * Stops the queue (a descriptor in flight finishes first), and unmaps its
 * doorbell from every process.
 */
struct drm_tern_queue_destroy {
	/** @queue_id: in: from &drm_tern_queue_create.queue_id. */
	__u32 queue_id;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/* States of &drm_tern_queue_query.state. */
#define DRM_TERN_QUEUE_ACTIVE		1	/* fetching descriptors */
#define DRM_TERN_QUEUE_HALTED		2	/* stopped at @head by @error */

/**
 * struct drm_tern_queue_query - state of a user-mode queue (DRM_IOCTL_TERN_QUEUE_QUERY)
 *
 * A queue halts on the first descriptor the device rejects; the descriptors
 * after it are not run. The owner reads why here and destroys the queue.
 */
struct drm_tern_queue_query {
	/** @queue_id: in: from &drm_tern_queue_create.queue_id. */
	__u32 queue_id;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @state: out: DRM_TERN_QUEUE_ACTIVE or DRM_TERN_QUEUE_HALTED. */
	__u32 state;
	/** @error: out: TERN_ERR_* that halted the queue, else 0. */
	__u32 error;
	/** @head: out: ring index of the next descriptor the device fetches. */
	__u32 head;
	/** @fault_info: out: TERN_FAULT_INFO() when @error is TERN_ERR_MMU_FAULT. */
	__u32 fault_info;
	/** @fault_addr: out: faulting device VA when @error is TERN_ERR_MMU_FAULT. */
	__u64 fault_addr;
	/** @completed: out: descriptors the device completed on this queue. */
	__u64 completed;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/*
 * io_uring (IORING_OP_URING_CMD on the device file; the ring must be set up
 * with IORING_SETUP_SQE128 | IORING_SETUP_CQE32). sqe->cmd_op is one of
 * DRM_TERN_URING_*; the 80-byte command area holds the structure named.
 * The CQE is posted when the job's fence signals (or at once if the command
 * is rejected): res is 0 for a job that completed, -EIO for a job that
 * failed, -ECANCELED when the ring or task went away first, or the -errno
 * the ioctl would have returned. big_cqe[0] is DRM_TERN_JOB_* |
 * (u64)error_code << 32 (0 when the command was rejected or cancelled);
 * big_cqe[1] is 0: io_uring lets a driver fill only one extra word, so the
 * job id is not reported (user_data identifies the command). In the
 * command area, drm_tern_submit.job_id must be 0, and the bytes after the
 * structure up to byte 79 must be 0.
 */
/** DRM_TERN_URING_SUBMIT: command area holds a &struct drm_tern_submit. */
#define DRM_TERN_URING_SUBMIT		0x01
/** DRM_TERN_URING_EXEC: command area holds a &struct drm_tern_uring_exec. */
#define DRM_TERN_URING_EXEC		0x02
/** DRM_TERN_URING_WAIT: command area holds a &struct drm_tern_uring_wait. */
#define DRM_TERN_URING_WAIT		0x03

/**
 * struct drm_tern_uring_exec - DRM_TERN_URING_EXEC: run a compute program
 */
struct drm_tern_uring_exec {
	/** @exec: user pointer to a &struct drm_tern_exec; read at submission. */
	__u64 exec;
	/** @reserved: must be zero. */
	__u64 reserved[3];
};

/**
 * struct drm_tern_uring_wait - DRM_TERN_URING_WAIT: a CQE when a fence signals
 */
struct drm_tern_uring_wait {
	/** @syncobj: in: syncobj handle. */
	__u32 syncobj;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @point: in: timeline point, or 0 for a binary syncobj. */
	__u64 point;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

/* Values of &drm_tern_link_query.state: TERN_LINK_STATE_* of the chip. */
#define DRM_TERN_LINK_NONE		0	/* nothing wired to the port */
#define DRM_TERN_LINK_UP		1
#define DRM_TERN_LINK_DOWN		2	/* wired, but unusable */

/** DRM_TERN_LINK_NO_PEER: &drm_tern_link_query.peer_chip of an unwired port. */
#define DRM_TERN_LINK_NO_PEER		0xffffffffu

/**
 * struct drm_tern_link_query - state of one link port (DRM_IOCTL_TERN_LINK_QUERY)
 *
 * UAPI 1.3. -EINVAL for @port >= &drm_tern_info.num_links.
 */
struct drm_tern_link_query {
	/** @port: in: link port, below &drm_tern_info.num_links. */
	__u32 port;
	/** @flags: in: must be zero. */
	__u32 flags;
	/** @state: out: DRM_TERN_LINK_*. */
	__u32 state;
	/** @peer_chip: out: chip id at the other end, or DRM_TERN_LINK_NO_PEER. */
	__u32 peer_chip;
	/** @peer_port: out: the peer's port of this link. */
	__u32 peer_port;
	/** @bandwidth_mbps: out: modeled bandwidth per direction, 10^6 bytes/s. */
	__u32 bandwidth_mbps;
	/** @latency_ns: out: modeled latency of one transfer. */
	__u32 latency_ns;
	/** @errors: out: link copies that failed on the port since reset. */
	__u32 errors;
	/** @tx_bytes: out: bytes sent through the port since reset. */
	__u64 tx_bytes;
	/** @rx_bytes: out: bytes received through the port since reset. */
	__u64 rx_bytes;
	/** @busy_ns: out: modeled time the port spent sending. */
	__u64 busy_ns;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

#define DRM_IOCTL_TERN_GET_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_GET_INFO, struct drm_tern_info)
#define DRM_IOCTL_TERN_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_BO_CREATE, struct drm_tern_bo_create)
#define DRM_IOCTL_TERN_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_BO_INFO, struct drm_tern_bo_info)
#define DRM_IOCTL_TERN_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_SUBMIT, struct drm_tern_submit)
#define DRM_IOCTL_TERN_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_WAIT, struct drm_tern_wait)
#define DRM_IOCTL_TERN_EXEC \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_EXEC, struct drm_tern_exec)
#define DRM_IOCTL_TERN_QUEUE_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_QUEUE_CREATE, struct drm_tern_queue_create)
#define DRM_IOCTL_TERN_QUEUE_DESTROY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_QUEUE_DESTROY, struct drm_tern_queue_destroy)
#define DRM_IOCTL_TERN_QUEUE_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_QUEUE_QUERY, struct drm_tern_queue_query)
#define DRM_IOCTL_TERN_LINK_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TERN_LINK_QUERY, struct drm_tern_link_query)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_TERN_ACCEL_H_ */
