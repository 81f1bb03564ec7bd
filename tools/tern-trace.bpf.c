// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tern-trace's BPF side: BTF-typed raw tracepoint programs (tp_btf) on the
 * tern driver's tracepoints. Their arguments are the TP_PROTO of
 * kernel/tern_trace.h, typed by the module's BTF, so no module structure
 * is read. A job is followed from tern_submit (who, what kind, when)
 * through tern_job_start to tern_job_done, which fills the latency
 * histograms and the per-process table; with -e every event also goes to
 * the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tern-trace.h"

/* Set by tern-trace before loading. */
const volatile bool filter_minor;
const volatile __u32 targ_minor;
const volatile __u32 targ_pid;		/* tgid; 0: every process */
const volatile bool emit_events;	/* -e */
const volatile __u64 max_done;		/* -c; 0: no limit */

/* Read by tern-trace. */
__u64 done_count;	/* completions claimed (at most max_done with -c) */
__u64 done_settled;	/* completions whose maps and event are written */
__u64 lost_jobs;	/* submits not followed: the jobs map was full */
__u64 lost_events;	/* events the ring buffer had no room for */

struct job_key {
	__u32 minor;
	__u32 pad;
	__u64 job;
};

struct job {
	__u64 submit_ns;
	__u64 start_ns;
	__u32 pid;
	__u32 kind;
	char comm[TT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_JOBS);
	__type(key, struct job_key);
	__type(value, struct job);
} jobs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TT_STAGES * TT_KINDS);
	__type(key, __u32);
	__type(value, struct tt_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_PROCS);
	__type(key, struct tt_proc_key);
	__type(value, struct tt_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* With -c, nothing is recorded once the count is reached. */
static __always_inline bool full(void)
{
	return max_done && done_count >= max_done;
}

static __always_inline bool minor_ok(__u32 minor)
{
	return !filter_minor || minor == targ_minor;
}

/* log2 bucket of @ns in microseconds: 0 for [0, 1) us, k for [2^(k-1), 2^k). */
static __always_inline __u32 slot_of(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 s = 0;

	while (us && s < TT_SLOTS - 1) {
		us >>= 1;
		s++;
	}
	return s;
}

static __always_inline void hist_add(__u32 stage, __u32 kind, __u64 ns)
{
	__u32 key = stage * TT_KINDS + kind, s = slot_of(ns);
	struct tt_hist *h = bpf_map_lookup_elem(&hists, &key);

	if (h && s < TT_SLOTS)
		__sync_fetch_and_add(&h->slots[s], 1);
}

/* A zeroed event of @type, or NULL (counted) when the ring buffer is full. */
static __always_inline struct tt_event *event_new(__u32 type, __u32 minor)
{
	struct tt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->type = type;
	e->minor = minor;
	return e;
}

SEC("tp_btf/tern_submit")
int BPF_PROG(tern_submit, u32 minor, u64 job_id, const char *kind, u32 ring, u32 count,
	     pid_t pid)
{
	struct job_key key = { .minor = minor, .job = job_id };
	struct job j = { .pid = pid };
	struct tt_event *e;
	char k[4] = {};

	if (!minor_ok(minor) || (targ_pid && (__u32)pid != targ_pid) || full())
		return 0;
	bpf_probe_read_kernel_str(k, sizeof(k), kind);
	j.kind = k[0] == 'c' ? TT_COMPUTE : TT_DMA;
	j.submit_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(j.comm, sizeof(j.comm));
	if (bpf_map_update_elem(&jobs, &key, &j, BPF_ANY)) {
		__sync_fetch_and_add(&lost_jobs, 1);
		return 0;
	}
	if (!emit_events)
		return 0;
	e = event_new(TT_EV_SUBMIT, minor);
	if (!e)
		return 0;
	e->job = job_id;
	e->pid = pid;
	e->kind = j.kind;
	e->x = ring;
	e->y = count;
	__builtin_memcpy(e->comm, j.comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/tern_job_start")
int BPF_PROG(tern_job_start, u32 minor, u64 job_id)
{
	struct job_key key = { .minor = minor, .job = job_id };
	struct tt_event *e;
	struct job *j;
	__u64 now;

	j = bpf_map_lookup_elem(&jobs, &key);
	if (!j || full())
		return 0;
	now = bpf_ktime_get_ns();
	j->start_ns = now;
	hist_add(TT_QUEUE, j->kind, now - j->submit_ns);
	if (!emit_events)
		return 0;
	e = event_new(TT_EV_START, minor);
	if (!e)
		return 0;
	e->job = job_id;
	e->pid = j->pid;
	e->kind = j->kind;
	e->queue_ns = now - j->submit_ns;
	__builtin_memcpy(e->comm, j->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/tern_job_done")
int BPF_PROG(tern_job_done, u32 minor, u64 job_id, int status, u32 error, u64 wall_ns,
	     u64 cycles, u64 bytes)
{
	struct job_key key = { .minor = minor, .job = job_id };
	struct tt_proc_key pk = {};
	struct tt_proc *p, zero = {};
	struct tt_event *e;
	__u64 now, run, queue, n;
	struct job j, *jp;

	jp = bpf_map_lookup_elem(&jobs, &key);
	if (!jp)
		return 0;
	j = *jp;
	bpf_map_delete_elem(&jobs, &key);
	n = __sync_fetch_and_add(&done_count, 1);
	if (max_done && n >= max_done)
		return 0;
	now = bpf_ktime_get_ns();
	/* A job the chip retired before its start was traced: all run. */
	if (!j.start_ns)
		j.start_ns = j.submit_ns;
	queue = j.start_ns - j.submit_ns;
	run = now - j.start_ns;
	hist_add(TT_RUN, j.kind, run);

	pk.pid = j.pid;
	pk.kind = j.kind;
	p = bpf_map_lookup_elem(&procs, &pk);
	if (!p) {
		__builtin_memcpy(zero.comm, j.comm, sizeof(zero.comm));
		bpf_map_update_elem(&procs, &pk, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&procs, &pk);
	}
	if (p) {
		__sync_fetch_and_add(&p->jobs, 1);
		if (status)
			__sync_fetch_and_add(&p->failed, 1);
		__sync_fetch_and_add(&p->bytes, bytes);
		__sync_fetch_and_add(&p->cycles, cycles);
		__sync_fetch_and_add(&p->run_ns, run);
	}

	if (emit_events) {
		e = event_new(TT_EV_DONE, minor);
		if (e) {
			e->job = job_id;
			e->pid = j.pid;
			e->kind = j.kind;
			e->status = status;
			e->x = error;
			e->a = wall_ns;
			e->b = cycles;
			e->c = bytes;
			e->queue_ns = queue;
			e->run_ns = run;
			__builtin_memcpy(e->comm, j.comm, sizeof(e->comm));
			bpf_ringbuf_submit(e, 0);
		}
	}
	__sync_fetch_and_add(&done_settled, 1);
	return 0;
}

/* One per copy of a DMA job, in the submitter's context. */
SEC("tp_btf/tern_dma")
int BPF_PROG(tern_dma, u32 minor, u32 queue, u64 job_id, u64 bytes, const char *direction)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct tt_event *e;

	if (!emit_events || !minor_ok(minor) || (targ_pid && tgid != targ_pid) || full())
		return 0;
	e = event_new(TT_EV_DMA, minor);
	if (!e)
		return 0;
	e->job = job_id;
	e->pid = tgid;
	e->x = queue;
	e->a = bytes;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->str, sizeof(e->str), direction);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The device events below belong to no process: not shown with -p. */
static __always_inline bool device_event_ok(__u32 minor)
{
	return emit_events && !targ_pid && minor_ok(minor) && !full();
}

SEC("tp_btf/tern_mmu_fault")
int BPF_PROG(tern_mmu_fault, u32 minor, u32 ctx_id, u64 va, u32 info)
{
	struct tt_event *e;

	if (!device_event_ok(minor))
		return 0;
	e = event_new(TT_EV_FAULT, minor);
	if (!e)
		return 0;
	e->x = ctx_id;
	e->a = va;
	e->y = info;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/tern_reset")
int BPF_PROG(tern_reset, u32 minor, const char *reason)
{
	struct tt_event *e;

	if (!device_event_ok(minor))
		return 0;
	e = event_new(TT_EV_RESET, minor);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->str, sizeof(e->str), reason);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/tern_link_state")
int BPF_PROG(tern_link_state, u32 minor, u32 port, u32 state)
{
	struct tt_event *e;

	if (!device_event_ok(minor))
		return 0;
	e = event_new(TT_EV_LINK, minor);
	if (!e)
		return 0;
	e->x = port;
	e->y = state;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
