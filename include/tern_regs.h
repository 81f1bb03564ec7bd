/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tern chip register map, DMA descriptor format and error codes.
 *
 * This one header is shared by the device model (emulator/) and the driver
 * (kernel/). Everything is little endian. Documentation/chip/registers.rst
 * describes each register; keep both in step.
 */
#ifndef TERN_REGS_H
#define TERN_REGS_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef u32 tern_u32;
typedef u64 tern_u64;
#else
#include <stdint.h>
typedef uint32_t tern_u32;
typedef uint64_t tern_u64;
#endif

/* PCI identity. 0x7e4e is not PCI-SIG assigned: it names the emulated chip. */
#define TERN_PCI_VENDOR_ID		0x7e4e
#define TERN_PCI_DEVICE_ID		0x0001
#define TERN_PCI_CLASS			0x1200	/* processing accelerator */

/* BARs */
#define TERN_BAR_REGS			0	/* registers, MSI-X table and PBA */
#define TERN_BAR_DOORBELL		2	/* one 4 KiB page per queue */
#define TERN_BAR_HBM			4	/* HBM, 64-bit prefetchable */
#define TERN_BAR_REGS_SIZE		0x10000
#define TERN_MSIX_TABLE_OFFSET		0x8000
#define TERN_MSIX_PBA_OFFSET		0xc000
#define TERN_DOORBELL_STRIDE		0x1000

/* Limits */
#define TERN_MAX_QUEUES			64
#define TERN_MAX_CORES			8
#define TERN_MAX_DMA_ENGINES		8
#define TERN_RING_MIN_ENTRIES		2
#define TERN_RING_MAX_ENTRIES		65536
#define TERN_SGL_MAX_ENTRIES		(1u << 20)

/* MSI-X vectors: 0 for errors, 1 + q for queue q completions. */
#define TERN_MSIX_VEC_ERROR		0
#define TERN_MSIX_VEC_QUEUE(q)		(1 + (q))
#define TERN_MSIX_VECTORS(nq)		(1 + (nq))

/* Global registers (BAR0), 32 bits wide. */
#define TERN_REG_MAGIC			0x000	/* RO: TERN_MAGIC */
#define TERN_REG_VERSION		0x004	/* RO: register interface major << 16 | minor */
#define TERN_REG_REVISION		0x008	/* RO: see TERN_REVISION_* */
#define TERN_REG_CAPS			0x00c	/* RO: TERN_CAP_* */
#define TERN_REG_NUM_CORES		0x010	/* RO */
#define TERN_REG_NUM_QUEUES		0x014	/* RO */
#define TERN_REG_NUM_DMA_ENGINES	0x018	/* RO */
#define TERN_REG_RING_MAX_ENTRIES	0x01c	/* RO */
#define TERN_REG_HBM_SIZE_LO		0x020	/* RO: HBM bytes, low 32 bits */
#define TERN_REG_HBM_SIZE_HI		0x024	/* RO */
#define TERN_REG_DOORBELL_STRIDE	0x028	/* RO: bytes between doorbells */
#define TERN_REG_RESET			0x040	/* WO: write TERN_RESET_KEY: device reset */
#define TERN_REG_STATUS			0x044	/* RO: TERN_STATUS_* */
#define TERN_REG_INT_STATUS		0x048	/* RW1C: TERN_INT_* causes latched */
#define TERN_REG_INT_MASK		0x04c	/* RW: TERN_INT_* set = no MSI-X for it */
#define TERN_REG_QDONE_LO		0x050	/* RW1C: bit q = queue q completed (0..31) */
#define TERN_REG_QDONE_HI		0x054	/* RW1C: queues 32..63 */
#define TERN_REG_ERR_CODE		0x060	/* RO: first unacknowledged TERN_ERR_* */
#define TERN_REG_ERR_QUEUE		0x064	/* RO: its queue, or TERN_ERR_QUEUE_NONE */
#define TERN_REG_ERR_INDEX		0x068	/* RO: its ring index */
#define TERN_REG_ERR_ADDR_LO		0x070	/* RO: offending address */
#define TERN_REG_ERR_ADDR_HI		0x074	/* RO */
#define TERN_REG_ERR_COUNT		0x078	/* RO: errors since reset */
#define TERN_REG_ERR_ACK		0x07c	/* WO: write 1 to clear the latched error */

#define TERN_MAGIC			0x4e524554u	/* "TERN" */
#define TERN_VERSION_MAJOR		1
#define TERN_VERSION_MINOR		6	/* 1.1: MMU, user queues; 1.2: links; 1.3: telemetry;
						 * 1.4: launch profiles; 1.5: RAS, core reset;
						 * 1.6: reduce with an operand */
#define TERN_RESET_KEY			0x52534554u	/* "TESR" */

#define TERN_REVISION_REV_MASK		0x000000ffu
#define TERN_REVISION_PLATFORM_SHIFT	8
#define TERN_REVISION_PLATFORM_MASK	0x0000ff00u
#define TERN_PLATFORM_SILICON		0
#define TERN_PLATFORM_EMULATED		1

#define TERN_CAP_DMA_SGL		(1u << 0)	/* scatter-gather descriptors */
#define TERN_CAP_RING_IN_HBM		(1u << 1)	/* rings may live in HBM */

#define TERN_STATUS_READY		(1u << 0)
#define TERN_STATUS_ERROR		(1u << 1)	/* an error is latched */

#define TERN_INT_ERROR			(1u << 0)
#define TERN_INT_QUEUE			(1u << 1)	/* some QDONE bit is set */

#define TERN_ERR_QUEUE_NONE		0xffffffffu

/* Per-queue registers: TERN_REG_QUEUE(q) + offset. */
#define TERN_REG_QUEUE_BASE		0x1000
#define TERN_REG_QUEUE_STRIDE		0x40
#define TERN_REG_QUEUE(q)		(TERN_REG_QUEUE_BASE + (q) * TERN_REG_QUEUE_STRIDE)
#define TERN_Q_RING_BASE_LO		0x00	/* RW: ring address, 64-byte aligned */
#define TERN_Q_RING_BASE_HI		0x04	/* RW */
#define TERN_Q_RING_SIZE		0x08	/* RW: entries, power of two */
#define TERN_Q_CTRL			0x0c	/* RW: TERN_Q_CTRL_* */
#define TERN_Q_HEAD			0x10	/* RO; RW while halted: next index to fetch */
#define TERN_Q_TAIL			0x14	/* RO: last doorbell value */
#define TERN_Q_STATUS			0x18	/* RO: TERN_Q_STATE_* */
#define TERN_Q_ERROR			0x1c	/* RO: TERN_ERR_* that halted the queue */
#define TERN_Q_COMPLETED_LO		0x20	/* RO: descriptors completed */
#define TERN_Q_COMPLETED_HI		0x24	/* RO */

#define TERN_Q_CTRL_ENABLE		(1u << 0)
#define TERN_Q_CTRL_RING_IN_HBM		(1u << 1)	/* ring base is an HBM offset */
#define TERN_Q_CTRL_RESUME		(1u << 2)	/* WO: leave HALTED, fetch from HEAD */

#define TERN_Q_STATE_DISABLED		0
#define TERN_Q_STATE_ACTIVE		1
#define TERN_Q_STATE_HALTED		2

/* DMA descriptor: 64 bytes in the ring. */
struct tern_dma_desc {
	tern_u32 opcode;	/* TERN_DESC_OP_* */
	tern_u32 flags;		/* TERN_DESC_F_* */
	tern_u64 src;		/* source address, or SG list address */
	tern_u64 dst;		/* destination address, or SG list address */
	tern_u64 size;		/* bytes to copy */
	tern_u64 fence_addr;	/* where TERN_DESC_F_FENCE writes fence_value */
	tern_u64 fence_value;
	union {
		struct {
			tern_u32 src_sgl_count;	/* SG entries at src when TERN_DESC_F_SRC_SGL */
			tern_u32 dst_sgl_count;	/* SG entries at dst when TERN_DESC_F_DST_SGL */
		};
		tern_u64 operand;	/* with TERN_DESC_F_OPERAND (1.6): see below */
	};
	tern_u32 ctx;		/* kernel rings: address context; user queues: 0 */
	tern_u32 link;		/* LINK_COPY: TERN_LINK_DESC(); otherwise must be 0 */
};
#define TERN_DESC_SIZE			64

#define TERN_DESC_OP_NOP		0	/* no data moved; flags still apply */
#define TERN_DESC_OP_COPY		1

#define TERN_DESC_F_SRC_HBM		(1u << 0)	/* src addresses are HBM offsets */
#define TERN_DESC_F_DST_HBM		(1u << 1)	/* dst addresses are HBM offsets */
#define TERN_DESC_F_SRC_SGL		(1u << 2)	/* src is a host SG list */
#define TERN_DESC_F_DST_SGL		(1u << 3)	/* dst is a host SG list */
#define TERN_DESC_F_FENCE		(1u << 4)	/* write fence_value when done */
#define TERN_DESC_F_FENCE_HBM		(1u << 5)	/* fence_addr is an HBM offset */
#define TERN_DESC_F_IRQ			(1u << 6)	/* raise the queue interrupt when done */
#define TERN_DESC_F_FENCE_PHYS		(1u << 7)	/* ctx != 0, kernel ring: fence_addr is physical */
#define TERN_DESC_F_ALL			0xfffu	/* with the reduce flags below */

/*
 * Scatter-gather entry, 16 bytes. An SG list always lives in host memory;
 * its entries address HBM or host memory as the SRC_HBM/DST_HBM flag says.
 * Entries must have a non-zero size; the list must cover the descriptor size.
 */
struct tern_sg_entry {
	tern_u64 addr;
	tern_u64 size;
};

/* Error codes, in TERN_REG_ERR_CODE and TERN_Q_ERROR. */
#define TERN_ERR_NONE			0
#define TERN_ERR_BAD_OPCODE		1	/* unknown descriptor opcode */
#define TERN_ERR_BAD_FLAGS		2	/* unknown or conflicting flags */
#define TERN_ERR_RESERVED		3	/* reserved field not zero */
#define TERN_ERR_HBM_RANGE		4	/* HBM range outside the HBM, or wraps */
#define TERN_ERR_HOST_DMA		5	/* host address is not guest RAM */
#define TERN_ERR_SGL			6	/* malformed or short SG list */
#define TERN_ERR_BAD_RING		7	/* ring base/size invalid at enable */
#define TERN_ERR_DOORBELL		8	/* doorbell: queue off or tail out of range */
#define TERN_ERR_RING_FETCH		9	/* descriptor fetch failed */
#define TERN_ERR_FENCE			10	/* fence write failed */
#define TERN_ERR_BAD_LAUNCH		11	/* launch size or slot count out of range */
#define TERN_ERR_MMU_FAULT		12	/* translation or permission fault: see ERR_INFO */
#define TERN_ERR_LINK_DOWN		13	/* link port down, unconnected or no peer chip */
#define TERN_ERR_ECC_UNCORRECTED	14	/* read an HBM line with an uncorrectable error (1.5) */
#define TERN_ERR_DMA_ABORT		15	/* the DMA engine aborted the transfer (1.5) */
#define TERN_ERR_COUNT			16

/* ---- Compute cores: launch rings (TERN_CAP_COMPUTE) ---- */

#define TERN_CAP_COMPUTE		(1u << 2)	/* cores take launch rings */

/*
 * BAR2 with compute: the doorbell of core c's launch ring is the page after
 * the queues', at TERN_CORE_DOORBELL(nq, c); BAR2 holds queues + cores pages,
 * rounded up to a power of two.
 */
#define TERN_CORE_DOORBELL(nq, c)	(((nq) + (c)) * TERN_DOORBELL_STRIDE)

/*
 * MSI-X with compute: vector 1 + nq + c for core c's launch completions,
 * after the queues' (TERN_MSIX_VECTORS(nq) still counts the error and queue
 * vectors only).
 */
#define TERN_MSIX_VEC_CORE(nq, c)	(1 + (nq) + (c))
#define TERN_MSIX_VECTORS_ALL(nq, nc)	(1 + (nq) + (nc))

/* Global registers added with compute. */
#define TERN_REG_SBUF_SIZE		0x02c	/* RO: SBUF bytes per core */
#define TERN_REG_CORE_DONE		0x058	/* RW1C: bit c = core c completed */

#define TERN_INT_CORE			(1u << 2)	/* some CORE_DONE bit is set */

/* ERR_QUEUE of an error of core c's launch ring. */
#define TERN_ERR_QUEUE_CORE_BASE	0x100u
#define TERN_ERR_QUEUE_CORE(c)		(TERN_ERR_QUEUE_CORE_BASE + (c))

/* Per-core launch-ring registers: TERN_REG_CORE(c) + offset. */
#define TERN_REG_CORE_BASE		0x3000
#define TERN_REG_CORE_STRIDE		0x40
#define TERN_REG_CORE(c)		(TERN_REG_CORE_BASE + (c) * TERN_REG_CORE_STRIDE)
#define TERN_C_RING_BASE_LO		0x00	/* RW: ring address, 64-byte aligned */
#define TERN_C_RING_BASE_HI		0x04	/* RW */
#define TERN_C_RING_SIZE		0x08	/* RW: entries, power of two */
#define TERN_C_CTRL			0x0c	/* RW: TERN_C_CTRL_* */
#define TERN_C_HEAD			0x10	/* RO; RW while halted: next index */
#define TERN_C_TAIL			0x14	/* RO: last doorbell value */
#define TERN_C_STATUS			0x18	/* RO: TERN_Q_STATE_* */
#define TERN_C_ERROR			0x1c	/* RO: TERN_ERR_* that halted the ring */
#define TERN_C_COMPLETED_LO		0x20	/* RO: jobs completed (any status) */
#define TERN_C_COMPLETED_HI		0x24	/* RO */
#define TERN_C_ABORT_IDX		0x28	/* WO: abort the running job if at this index */

#define TERN_C_CTRL_ENABLE		(1u << 0)
#define TERN_C_CTRL_RING_IN_HBM		(1u << 1)	/* ring base is an HBM offset */
#define TERN_C_CTRL_RESUME		(1u << 2)	/* WO: leave HALTED, fetch from HEAD */
#define TERN_C_CTRL_ABORT		(1u << 3)	/* WO: end the running job ABORTED */
/*
 * WO, interface 1.5: reset this core alone. Its running job (even a hung
 * one, which ignores ABORT) is dropped without status, fence or interrupt;
 * SBUF, PSUM and semaphores are cleared; the ring is disabled with HEAD =
 * TAIL = 0 and must be programmed again. Other cores and queues go on.
 */
#define TERN_C_CTRL_RESET		(1u << 4)

/*
 * Launch descriptor: 64 bytes in a core's launch ring. Runs the program of
 * prog_size bytes at HBM offset prog_addr with its slot i bound to entry i of
 * the slot table (slot_count struct tern_launch_slot at HBM offset
 * slot_addr), writes the 128-byte struct tern_job_status (tern_isa.h) at
 * status_addr, then the fence, then raises the core's vector.
 */
struct tern_launch_desc {
	tern_u64 prog_addr;	/* HBM offset of the program */
	tern_u32 prog_size;	/* bytes, TERN_LAUNCH_PROG_MIN..MAX */
	tern_u32 flags;		/* TERN_LAUNCH_F_* */
	tern_u64 slot_addr;	/* HBM offset of the slot table */
	tern_u32 slot_count;	/* entries, <= TERN_LAUNCH_MAX_SLOTS */
	tern_u32 ctx;		/* address context of every address but PHYS ones */
	tern_u64 status_addr;	/* host bus address, or HBM with STATUS_HBM */
	tern_u64 fence_addr;	/* where TERN_LAUNCH_F_FENCE writes fence_value */
	tern_u64 fence_value;
	tern_u64 reserved1;	/* must be 0 */
};
#define TERN_LAUNCH_DESC_SIZE		64

/* Slot-table entry, 16 bytes: a buffer in the HBM. */
struct tern_launch_slot {
	tern_u64 offset;	/* HBM offset */
	tern_u64 size;		/* bytes */
};
#define TERN_LAUNCH_SLOT_SIZE		16

#define TERN_LAUNCH_PROG_MIN		64		/* a program header */
#define TERN_LAUNCH_PROG_MAX		(1u << 30)
#define TERN_LAUNCH_MAX_SLOTS		64		/* TERN_MAX_SLOTS */
#define TERN_LAUNCH_STATUS_SIZE		128		/* struct tern_job_status */

#define TERN_LAUNCH_F_FENCE		(1u << 0)	/* write fence_value when done */
#define TERN_LAUNCH_F_FENCE_HBM		(1u << 1)	/* fence_addr is an HBM offset */
#define TERN_LAUNCH_F_IRQ		(1u << 2)	/* raise the core's vector */
#define TERN_LAUNCH_F_STATUS_HBM	(1u << 3)	/* status_addr is an HBM offset */
#define TERN_LAUNCH_F_SLOTS_PHYS	(1u << 4)	/* ctx != 0: slot table at an HBM offset */
#define TERN_LAUNCH_F_STATUS_PHYS	(1u << 5)	/* ctx != 0: status_addr is physical */
#define TERN_LAUNCH_F_FENCE_PHYS	(1u << 6)	/* ctx != 0: fence_addr is physical */
/*
 * Interface 1.4 (TERN_CAP_PROFILE): the slot table has slot_count + 1
 * entries, the last being the profile buffer the core fills when the job
 * ends (struct tern_prof_header and records, tern_isa.h). A profile buffer
 * smaller than TERN_PROF_HEADER_SIZE or outside the HBM refuses the launch
 * with TERN_ERR_BAD_LAUNCH / TERN_ERR_HBM_RANGE like a slot would.
 */
#define TERN_LAUNCH_F_PROFILE		(1u << 7)
#define TERN_LAUNCH_F_ALL		0xffu
#define TERN_CAP_PROFILE		(1u << 7)	/* TERN_LAUNCH_F_PROFILE */

/* ---- Device MMU: per-context address spaces (TERN_CAP_MMU) ---- */

/*
 * Every address a descriptor names is translated through the page tables
 * of its context. Context 0 is the kernel's physical context: no
 * translation, the *_HBM flags say HBM offset or host bus address, exactly
 * as before the MMU. Contexts 1..NUM_CONTEXTS-1 are device virtual address
 * spaces of TERN_VA_BITS bits, each with a three-level page table in host
 * memory: L0 indexes VA bits 38:30, L1 bits 29:21, L2 bits 20:12. An L1
 * entry with TERN_PTE_LEAF maps a 2 MiB page; an L2 entry maps a 4 KiB
 * page. Each page maps host memory (bus address) or, with TERN_PTE_HBM,
 * HBM (offset). A walk that fails ends the access with TERN_ERR_MMU_FAULT
 * and a fault record: address, context, access and reason.
 *
 * On a kernel ring (Q_CTX = 0, every launch ring) a descriptor's ctx field
 * picks its context, and PHYS flags mark the addresses the kernel owns
 * (fences, status, slot tables), which stay physical. A user-mode queue
 * (Q_CTX != 0) is bound to its context: its ring is fetched through it,
 * descriptors must have ctx 0 and no PHYS or *_HBM flags.
 *
 * The TLB caches translations per engine; a write of a context number to
 * MMU_INVALIDATE drops that context's entries before the write completes.
 */
#define TERN_CAP_MMU			(1u << 3)	/* device MMU, contexts */
#define TERN_CAP_USER_QUEUES		(1u << 4)	/* Q_CTX: user-mode queues */

#define TERN_MAX_CONTEXTS		64
#define TERN_VA_BITS			39
#define TERN_PAGE_SHIFT			12
#define TERN_PAGE_SIZE			(1ull << TERN_PAGE_SHIFT)
#define TERN_HUGE_PAGE_SHIFT		21
#define TERN_HUGE_PAGE_SIZE		(1ull << TERN_HUGE_PAGE_SHIFT)
#define TERN_PT_ENTRIES			512	/* 8-byte entries per 4 KiB table */
#define TERN_PT_LEVELS			3
/* VA bits indexing level l (0..2): 30, 21, 12. */
#define TERN_PT_SHIFT(l)		(30 - 9 * (l))
#define TERN_PT_INDEX(va, l)		(((va) >> TERN_PT_SHIFT(l)) & 511)

/* Page-table entry. Bits not defined here are reserved and must be 0. */
#define TERN_PTE_VALID			(1ull << 0)
#define TERN_PTE_READ			(1ull << 1)	/* leaf: device may read */
#define TERN_PTE_WRITE			(1ull << 2)	/* leaf: device may write */
#define TERN_PTE_HBM			(1ull << 3)	/* leaf: address is an HBM offset */
#define TERN_PTE_LEAF			(1ull << 4)	/* L1: 2 MiB page; L2: required; L0: never */
#define TERN_PTE_ADDR_MASK		0x000ffffffffff000ull	/* bits 51:12 */
/*
 * A table entry (L0, or L1 without LEAF) has only VALID and the host bus
 * address of the next 4 KiB table. A 2 MiB page's address is 2 MiB aligned.
 */

/* Global MMU registers. */
#define TERN_REG_ERR_INFO		0x06c	/* RO: TERN_FAULT_* of a latched MMU_FAULT */
#define TERN_REG_MMU_INVALIDATE		0x080	/* WO: context number, or TERN_MMU_INVALIDATE_ALL */
#define TERN_REG_NUM_CONTEXTS		0x084	/* RO: TERN_MAX_CONTEXTS */
#define TERN_REG_MMU_FAULTS		0x088	/* RO: MMU faults since reset */
#define TERN_MMU_INVALIDATE_ALL		0xffffffffu

/* Fault record: ERR_INFO, and Q_FAULT_INFO / C_FAULT_INFO of a ring. */
#define TERN_FAULT_CTX_MASK		0x000000ffu	/* context */
#define TERN_FAULT_WRITE		(1u << 8)	/* the access was a write */
#define TERN_FAULT_REASON_SHIFT		12
#define TERN_FAULT_REASON_MASK		0x0000f000u
#define TERN_FAULT_INFO(ctx, write, reason) \
	((tern_u32)(ctx) | ((write) ? TERN_FAULT_WRITE : 0) | \
	 ((tern_u32)(reason) << TERN_FAULT_REASON_SHIFT))
#define TERN_FAULT_UNMAPPED		1	/* no valid entry on the walk */
#define TERN_FAULT_PERMISSION		2	/* the page lacks READ or WRITE */
#define TERN_FAULT_BAD_PTE		3	/* reserved bits, misplaced LEAF, table not in RAM */
#define TERN_FAULT_BAD_CONTEXT		4	/* context out of range or not enabled */
#define TERN_FAULT_RANGE		5	/* VA past TERN_VA_BITS, or page outside HBM/RAM */
#define TERN_FAULT_CORE_SLOT		6	/* a core slot is not one HBM range */

/* Per-context registers: TERN_REG_CTX(n) + offset, n = 1..NUM_CONTEXTS-1. */
#define TERN_REG_CTX_BASE		0x4000
#define TERN_REG_CTX_STRIDE		0x10
#define TERN_REG_CTX(n)			(TERN_REG_CTX_BASE + (n) * TERN_REG_CTX_STRIDE)
#define TERN_CTX_ROOT_LO		0x00	/* RW: host bus address of the L0 table */
#define TERN_CTX_ROOT_HI		0x04	/* RW */
#define TERN_CTX_CTRL			0x08	/* RW: TERN_CTX_CTRL_* */
#define TERN_CTX_CTRL_ENABLE		(1u << 0)	/* the context translates */

/*
 * Per-queue and per-core registers added with the MMU. Q_CTX may only
 * change while the queue is disabled: 0 makes a kernel ring, n binds the
 * queue to context n as a user-mode queue (ring base is a VA of n).
 * The FAULT registers keep the ring's last MMU fault until it is resumed.
 */
#define TERN_Q_CTX			0x28	/* RW while disabled */
#define TERN_Q_FAULT_ADDR_LO		0x30	/* RO */
#define TERN_Q_FAULT_ADDR_HI		0x34	/* RO */
#define TERN_Q_FAULT_INFO		0x38	/* RO: TERN_FAULT_* */
#define TERN_C_FAULT_ADDR_LO		0x30	/* RO */
#define TERN_C_FAULT_ADDR_HI		0x34	/* RO */
#define TERN_C_FAULT_INFO		0x38	/* RO: TERN_FAULT_* */

/* ---- Chip-to-chip links (TERN_CAP_LINKS, interface 1.2) ---- */

/*
 * Each chip has TERN_MAX_LINKS link ports. The chips of one fabric (one
 * server) are numbered 0..FABRIC_CHIPS-1 and wired by their ports into a
 * ring, a 2D torus or any other graph; a link joins port p of one chip to
 * port q of another, both ways, with a modeled bandwidth per direction and
 * a latency. LINK_COPY descriptors write (or reduce) local data into the
 * HBM of the chip at the other end of a port; nothing is routed through a
 * third chip, so software moves data across several hops itself.
 *
 * Ports: ring: 0 = next chip (id + 1), 1 = previous. torus2d (W x H, id =
 * y * W + x): 0 = east (x + 1), 1 = west, 2 = south (y + 1), 3 = north,
 * all wrapping around. Unused ports read TERN_LINK_STATE_NONE.
 *
 * A link goes down when the fabric says so (link-down fault injection, a
 * peer leaving): both ends then read DOWN, every LINK_COPY on it ends with
 * TERN_ERR_LINK_DOWN (the ring halts as for any descriptor error, the
 * link's ERRORS count), and each end latches TERN_INT_LINK with the port's
 * bit in LINK_EVENTS. A link that comes back up latches the same.
 */
#define TERN_CAP_LINKS			(1u << 5)	/* link ports, LINK_COPY */

#define TERN_MAX_LINKS			4
#define TERN_MAX_CHIPS			64	/* chips in one fabric */

#define TERN_INT_LINK			(1u << 3)	/* a link changed state: LINK_EVENTS */

#define TERN_REG_CHIP_ID		0x090	/* RO: this chip's number in its fabric */
#define TERN_REG_FABRIC_ID		0x094	/* RO: non-zero tag of the fabric; 0: none */
#define TERN_REG_FABRIC_CHIPS		0x098	/* RO: chips in the fabric; 0: none */
#define TERN_REG_NUM_LINKS		0x09c	/* RO: TERN_MAX_LINKS */
#define TERN_REG_LINK_EVENTS		0x0a0	/* RW1C: bit p = port p changed state */
#define TERN_REG_LINK_ERRORS		0x0a4	/* RO: LINK_COPY descriptors failed, all ports */

/* Per-port registers: TERN_REG_LINK(p) + offset. */
#define TERN_REG_LINK_BASE		0x4800
#define TERN_REG_LINK_STRIDE		0x40
#define TERN_REG_LINK(p)		(TERN_REG_LINK_BASE + (p) * TERN_REG_LINK_STRIDE)
#define TERN_L_STATE			0x00	/* RO: TERN_LINK_STATE_* */
#define TERN_L_PEER_CHIP		0x04	/* RO: chip at the other end, or TERN_LINK_NO_PEER */
#define TERN_L_PEER_PORT		0x08	/* RO: its port of this link */
#define TERN_L_BANDWIDTH		0x0c	/* RO: modeled MB/s (10^6 bytes) per direction */
#define TERN_L_LATENCY			0x10	/* RO: modeled ns per transfer */
#define TERN_L_ERRORS			0x14	/* RO: LINK_COPY descriptors failed on the port */
#define TERN_L_TX_BYTES_LO		0x18	/* RO: bytes sent through the port */
#define TERN_L_TX_BYTES_HI		0x1c	/* RO */
#define TERN_L_RX_BYTES_LO		0x20	/* RO: bytes received through the port */
#define TERN_L_RX_BYTES_HI		0x24	/* RO */
#define TERN_L_BUSY_NS_LO		0x28	/* RO: modeled ns the port spent sending */
#define TERN_L_BUSY_NS_HI		0x2c	/* RO */

#define TERN_LINK_STATE_NONE		0	/* nothing wired to the port */
#define TERN_LINK_STATE_UP		1
#define TERN_LINK_STATE_DOWN		2	/* wired, but unusable */
#define TERN_LINK_NO_PEER		0xffffffffu

/*
 * LINK_COPY: copies size bytes from src (a local address, exactly as the
 * source of a COPY: the ctx field and SRC_HBM say how it is translated;
 * no SG list) to dst on the chip at the other end of port
 * TERN_LINK_PORT(link). With TERN_LINK_PEER_CTX(link) = 0, dst is an HBM
 * offset of the peer and DST_HBM must be set; with a peer context n != 0,
 * DST_HBM must be clear and dst is a VA of the peer's context n, translated
 * by the peer's MMU, whose pages must map the peer's HBM with WRITE (and
 * READ when reducing). A fault there ends the descriptor with
 * TERN_ERR_MMU_FAULT, recorded on this chip's ring with the peer context
 * in the fault info. The fence is this chip's, written after the data has
 * arrived. The descriptor word `link` holds port and peer context; it must
 * be 0 for other opcodes.
 */
#define TERN_DESC_OP_LINK_COPY		2
#define TERN_LINK_DESC(port, peer_ctx)	((tern_u32)(port) | ((tern_u32)(peer_ctx) << 8))
#define TERN_LINK_PORT(link)		((link) & 0xffu)
#define TERN_LINK_PEER_CTX(link)	(((link) >> 8) & 0xffu)
#define TERN_LINK_RESERVED_MASK		0xffff0000u

/*
 * Reduce on arrival (COPY without SG lists, and LINK_COPY): instead of
 * overwriting, each destination element becomes op(destination, source),
 * element by element in address order; fp32 by default, bf16 with
 * TERN_DESC_F_BF16 (computed in fp32 and rounded to nearest even). Size,
 * src and dst must be multiples of the element size. SUM and MAX together,
 * BF16 without either, or either with an SG list are TERN_ERR_BAD_FLAGS.
 * NaNs: SUM follows IEEE; MAX returns the NaN.
 */
#define TERN_DESC_F_REDUCE_SUM		(1u << 8)
#define TERN_DESC_F_REDUCE_MAX		(1u << 9)
#define TERN_DESC_F_BF16		(1u << 10)
/*
 * Reduce with an operand (interface 1.6): with a REDUCE flag, each
 * destination element becomes op(operand, source) instead of
 * op(destination, source); the destination is only written. The 64-bit
 * field `operand` (bytes 48..55, in the place of the SG counts, so no SG
 * list) addresses the operand in the HBM of the chip the destination is
 * on: an HBM offset when the addresses are physical (ctx 0; for a
 * LINK_COPY, peer context 0), else a VA of the same context as the
 * destination (for a LINK_COPY the peer's), whose pages must map HBM with
 * READ. It must be a multiple of the element size. OPERAND without a
 * REDUCE flag is TERN_ERR_BAD_FLAGS. Element i of the operand is read
 * before element i of the destination is written, in address order, so
 * an operand that is the destination gives the plain reduce.
 */
#define TERN_DESC_F_OPERAND		(1u << 11)
#define TERN_VERSION_OPERAND		(TERN_VERSION_MAJOR << 16 | 6)	/* first with F_OPERAND */

/* ---- Telemetry (TERN_CAP_TELEMETRY, interface 1.3) ---- */

/*
 * Counters for operators and profilers. All are read-only, 64 bits as a
 * LO/HI pair (read LO first: it latches HI of the same value), count from
 * the last device reset, and never wrap in practice. "Wall" times are the
 * model's real time (ns on the host clock); "modeled" cycles are the cost
 * model's, at TERN_COST_CLOCK_HZ (tern_isa.h).
 *
 * Temperature and power follow the load: power = idle + per-engine active
 * power x utilisation over the last TERN_TELEM_WINDOW_NS; temperature moves
 * toward ambient + power x thermal resistance with a time constant of
 * seconds. ECC counters count HBM errors (corrected and uncorrected; the
 * fault injection of the reliability work raises them).
 */
#define TERN_CAP_TELEMETRY		(1u << 6)

#define TERN_TELEM_WINDOW_NS		100000000ull	/* 100 ms utilisation window */

#define TERN_REG_TELEM_BASE		0x5000
/* Global, at TERN_REG_TELEM_BASE + offset. */
#define TERN_T_TIME_NS_LO		0x00	/* wall ns since reset */
#define TERN_T_TIME_NS_HI		0x04
#define TERN_T_TEMP_MC			0x08	/* modeled die temperature, milli-degrees C */
#define TERN_T_POWER_MW			0x0c	/* modeled board power, mW */
#define TERN_T_ECC_CORR_LO		0x10	/* HBM ECC errors corrected */
#define TERN_T_ECC_CORR_HI		0x14
#define TERN_T_ECC_UNCORR_LO		0x18	/* HBM ECC errors not corrected */
#define TERN_T_ECC_UNCORR_HI		0x1c
#define TERN_T_TEMP_MAX_MC		0x20	/* the die's critical temperature */
#define TERN_T_POWER_MAX_MW		0x24	/* the board's power limit */

/* Per DMA engine e: TERN_REG_TELEM_DMA(e) + offset. */
#define TERN_REG_TELEM_DMA(e)		(TERN_REG_TELEM_BASE + 0x100 + (e) * 0x20)
#define TERN_TD_BUSY_NS_LO		0x00	/* wall ns spent on descriptors */
#define TERN_TD_BUSY_NS_HI		0x04
#define TERN_TD_BYTES_LO		0x08	/* bytes moved (each byte once) */
#define TERN_TD_BYTES_HI		0x0c
#define TERN_TD_DESCS_LO		0x10	/* descriptors ended, any status */
#define TERN_TD_DESCS_HI		0x14

/* Per queue q: TERN_REG_TELEM_QUEUE(q) + offset. Bytes by direction. */
#define TERN_REG_TELEM_QUEUE(q)		(TERN_REG_TELEM_BASE + 0x400 + (q) * 0x40)
#define TERN_TQ_H2D_LO			0x00	/* host memory -> HBM */
#define TERN_TQ_H2D_HI			0x04
#define TERN_TQ_D2H_LO			0x08	/* HBM -> host memory */
#define TERN_TQ_D2H_HI			0x0c
#define TERN_TQ_D2D_LO			0x10	/* HBM -> HBM, this chip */
#define TERN_TQ_D2D_HI			0x14
#define TERN_TQ_H2H_LO			0x18	/* host -> host */
#define TERN_TQ_H2H_HI			0x1c
#define TERN_TQ_LINK_LO			0x20	/* LINK_COPY to a neighbour */
#define TERN_TQ_LINK_HI			0x24
#define TERN_TQ_DONE_LO			0x28	/* descriptors completed without error */
#define TERN_TQ_DONE_HI			0x2c
#define TERN_TQ_FAILED_LO		0x30	/* descriptors that halted the queue */
#define TERN_TQ_FAILED_HI		0x34

/* Per core c: TERN_REG_TELEM_CORE(c) + offset; engine n = TERN_ENGINE_*. */
#define TERN_REG_TELEM_CORE(c)		(TERN_REG_TELEM_BASE + 0x1400 + (c) * 0x80)
#define TERN_TC_CYCLES_LO(n)		(0x00 + (n) * 8)	/* modeled busy cycles of engine n */
#define TERN_TC_CYCLES_HI(n)		(0x04 + (n) * 8)
#define TERN_TC_WALL_NS_LO		0x20	/* wall ns the core ran launches */
#define TERN_TC_WALL_NS_HI		0x24
#define TERN_TC_MODELED_LO		0x28	/* modeled cycles of its launches */
#define TERN_TC_MODELED_HI		0x2c
#define TERN_TC_DONE_LO			0x30	/* launches that ended TERN_JOB_OK */
#define TERN_TC_DONE_HI			0x34
#define TERN_TC_FAILED_LO		0x38	/* launches that ended otherwise */
#define TERN_TC_FAILED_HI		0x3c

/* ---- RAS: HBM ECC errors (TERN_CAP_RAS, interface 1.5) ---- */

/*
 * Every HBM error latches TERN_INT_RAS (on the error vector, vector 0) and
 * records the HBM offset of its 64-byte line. A corrected error (CE) is
 * counted and the data read is right. An uncorrected error (UE) poisons
 * the line until it is written again: a descriptor or launch that reads a
 * poisoned line fails with TERN_ERR_ECC_UNCORRECTED (a compute job with
 * TERN_CERR_ECC, detail = the HBM offset). The ECC counters are
 * TERN_T_ECC_CORR / TERN_T_ECC_UNCORR of the telemetry block.
 */
#define TERN_CAP_RAS			(1u << 8)
#define TERN_INT_RAS			(1u << 4)	/* RAS_STATUS has a bit set */
#define TERN_REG_RAS_STATUS		0x0b0	/* RW1C: TERN_RAS_* latched */
#define TERN_REG_RAS_CE_ADDR_LO		0x0b4	/* RO: HBM offset of the last CE line */
#define TERN_REG_RAS_CE_ADDR_HI		0x0b8
#define TERN_REG_RAS_UE_ADDR_LO		0x0bc	/* RO: HBM offset of the last UE line */
#define TERN_REG_RAS_UE_ADDR_HI		0x0c0
#define TERN_REG_RAS_POISONED		0x0c4	/* RO: HBM lines poisoned now */
#define TERN_RAS_CE			(1u << 0)
#define TERN_RAS_UE			(1u << 1)
#define TERN_RAS_LINE			64	/* bytes an ECC error covers */

/*
 * ---- Fault injection (QEMU properties, not registers; interface 1.5) ----
 *
 * Set at run time with qom-set on the device (Documentation/chip/spec.rst,
 * "Fault injection"; the VM runner relays them from guest tests):
 *   inject-ecc            "ce:<hbm offset>" or "ue:<hbm offset>"
 *   inject-dma-abort      queue index: its next descriptor ends
 *                         TERN_ERR_DMA_ABORT
 *   inject-core-hang      core index: its next launch never ends (ABORT is
 *                         ignored; TERN_C_CTRL_RESET or a device reset ends it)
 *   inject-lost-completion "queue:<q>" or "core:<c>": the next job done
 *                         there writes no fence and raises no interrupt
 *                         (its data and HEAD are right)
 *   inject-aer            "correctable", "nonfatal" or "fatal": a PCIe AER
 *                         error reported to the root port
 *   link-down             (interface 1.2)
 * and read with qom-get: faults-injected (count of faults that took effect).
 */

#endif /* TERN_REGS_H */
