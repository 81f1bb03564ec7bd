/* SPDX-License-Identifier: MIT */
/*
 * tern-trace: what its BPF programs (tern-trace.bpf.c) and the tool
 * (tern-trace.c) share: the map layouts and the events of the ring buffer.
 * Types are the kernel's __u32/__u64 so that both vmlinux.h and the
 * user-space headers can define them.
 */
#ifndef TERN_TRACE_H
#define TERN_TRACE_H

#define TT_SLOTS	32	/* log2 buckets of microseconds: [0,1), [1,2), [2,4), ... */
#define TT_COMM_LEN	16
#define TT_STR_LEN	16
#define TT_MAX_JOBS	16384	/* jobs in flight the programs follow */
#define TT_MAX_PROCS	4096	/* (pid, kind) pairs in the per-process table */

enum tt_kind { TT_DMA, TT_COMPUTE, TT_KINDS };

/* Histograms: submit -> start (queue), start -> done (run). */
enum tt_stage { TT_QUEUE, TT_RUN, TT_STAGES };

enum tt_type {
	TT_EV_SUBMIT,
	TT_EV_START,
	TT_EV_DONE,
	TT_EV_DMA,
	TT_EV_FAULT,
	TT_EV_RESET,
	TT_EV_LINK,
};

/* Value of the hists array map; its key is stage * TT_KINDS + kind. */
struct tt_hist {
	__u64 slots[TT_SLOTS];
};

/* Key and value of the procs hash map. */
struct tt_proc_key {
	__u32 pid;
	__u32 kind;
};

struct tt_proc {
	__u64 jobs;		/* completed */
	__u64 failed;		/* of them with a non-zero status */
	__u64 bytes;		/* DMA bytes of the completed jobs */
	__u64 cycles;		/* modeled cycles of the completed launches */
	__u64 run_ns;		/* sum of start -> done */
	char comm[TT_COMM_LEN];	/* of the submitting thread */
};

/* One event of the ring buffer (-e). Unused fields are 0. */
struct tt_event {
	__u64 ts;		/* bpf_ktime_get_ns() */
	__u64 job;		/* job id (0 for fault, reset, link) */
	__u64 a;		/* done: wall_ns; dma: bytes; fault: va */
	__u64 b;		/* done: cycles */
	__u64 c;		/* done: bytes */
	__u64 queue_ns;		/* start, done: submit -> start */
	__u64 run_ns;		/* done: start -> done */
	__u32 type;		/* enum tt_type */
	__u32 minor;		/* accel minor */
	__u32 pid;		/* submitter (tgid), 0 if none */
	__u32 kind;		/* enum tt_kind for submit, start, done */
	__s32 status;		/* done: 0 or -errno */
	__u32 x;		/* submit: ring; done: error; dma: queue; fault: ctx; link: port */
	__u32 y;		/* submit: count; fault: info; link: state */
	__u32 pad;
	char comm[TT_COMM_LEN];
	char str[TT_STR_LEN];	/* dma: direction; reset: reason */
};

#endif /* TERN_TRACE_H */
