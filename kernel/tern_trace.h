/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern tracepoints (TRACE_SYSTEM tern): a job's life (submit, start,
 * done), the copies of DMA jobs, device MMU faults, chip resets and link
 * state changes. Documentation/uapi.rst, "Tracepoints", lists the fields.
 * Every event carries the accel minor of its device.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tern

#if !defined(__TERN_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __TERN_TRACE_H__

#include <linux/tracepoint.h>
#include <linux/types.h>

TRACE_EVENT(tern_submit,
	    TP_PROTO(u32 minor, u64 job_id, const char *kind, u32 ring, u32 count, pid_t pid),
	    TP_ARGS(minor, job_id, kind, ring, count, pid),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, job_id)
			     __string(kind, kind)
			     __field(u32, ring)
			     __field(u32, count)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->job_id = job_id;
			   __assign_str(kind);
			   __entry->ring = ring;
			   __entry->count = count;
			   __entry->pid = pid;),
	    TP_printk("minor=%u job=%llu kind=%s ring=%u count=%u pid=%d",
		      __entry->minor, __entry->job_id, __get_str(kind), __entry->ring,
		      __entry->count, __entry->pid)
);

TRACE_EVENT(tern_job_start,
	    TP_PROTO(u32 minor, u64 job_id),
	    TP_ARGS(minor, job_id),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, job_id)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->job_id = job_id;),
	    TP_printk("minor=%u job=%llu", __entry->minor, __entry->job_id)
);

TRACE_EVENT(tern_job_done,
	    TP_PROTO(u32 minor, u64 job_id, int status, u32 error, u64 wall_ns, u64 cycles,
		     u64 bytes),
	    TP_ARGS(minor, job_id, status, error, wall_ns, cycles, bytes),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, job_id)
			     __field(int, status)
			     __field(u32, error)
			     __field(u64, wall_ns)
			     __field(u64, cycles)
			     __field(u64, bytes)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->job_id = job_id;
			   __entry->status = status;
			   __entry->error = error;
			   __entry->wall_ns = wall_ns;
			   __entry->cycles = cycles;
			   __entry->bytes = bytes;),
	    TP_printk("minor=%u job=%llu status=%d error=%u wall_ns=%llu cycles=%llu bytes=%llu",
		      __entry->minor, __entry->job_id, __entry->status, __entry->error,
		      __entry->wall_ns, __entry->cycles, __entry->bytes)
);

TRACE_EVENT(tern_dma,
	    TP_PROTO(u32 minor, u32 queue, u64 job_id, u64 bytes, const char *direction),
	    TP_ARGS(minor, queue, job_id, bytes, direction),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u32, queue)
			     __field(u64, job_id)
			     __field(u64, bytes)
			     __string(direction, direction)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->queue = queue;
			   __entry->job_id = job_id;
			   __entry->bytes = bytes;
			   __assign_str(direction);),
	    TP_printk("minor=%u queue=%u job=%llu bytes=%llu dir=%s", __entry->minor,
		      __entry->queue, __entry->job_id, __entry->bytes, __get_str(direction))
);

TRACE_EVENT(tern_mmu_fault,
	    TP_PROTO(u32 minor, u32 ctx, u64 va, u32 info),
	    TP_ARGS(minor, ctx, va, info),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u32, ctx)
			     __field(u64, va)
			     __field(u32, info)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->ctx = ctx;
			   __entry->va = va;
			   __entry->info = info;),
	    TP_printk("minor=%u ctx=%u va=0x%llx info=0x%x", __entry->minor, __entry->ctx,
		      __entry->va, __entry->info)
);

TRACE_EVENT(tern_reset,
	    TP_PROTO(u32 minor, const char *reason),
	    TP_ARGS(minor, reason),
	    TP_STRUCT__entry(__field(u32, minor)
			     __string(reason, reason)),
	    TP_fast_assign(__entry->minor = minor;
			   __assign_str(reason);),
	    TP_printk("minor=%u reason=%s", __entry->minor, __get_str(reason))
);

TRACE_EVENT(tern_link_state,
	    TP_PROTO(u32 minor, u32 port, u32 state),
	    TP_ARGS(minor, port, state),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u32, port)
			     __field(u32, state)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->port = port;
			   __entry->state = state;),
	    TP_printk("minor=%u port=%u state=%u", __entry->minor, __entry->port,
		      __entry->state)
);

#endif /* __TERN_TRACE_H__ */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE tern_trace
#include <trace/define_trace.h>
