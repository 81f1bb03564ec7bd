// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU adapter of the tern chip: `-device tern`, a PCIe endpoint whose
 * behaviour lives in the plain-C core (tern_model.c). This file only wires
 * the core to QEMU: BARs, MSI-X, guest-memory DMA, reset, logging, tracing.
 *
 * BAR0: container of the register window (core), the MSI-X table and PBA.
 * BAR2: doorbells, one page per queue then one per core (launch rings).
 * BAR4: HBM, RAM, 64-bit prefetchable. MSI-X: error, queues, then cores.
 * Links: chips naming the same `fabric` in one QEMU share it (the model
 * keeps a registry by name); `link-down` may be set at run time with
 * qom-set to force link ports down.
 * Fault injection: the inject-* properties, settable at run time with
 * qom-set (the model injects; inject-aer reports a PCIe AER error through
 * the AER extended capability), and faults-injected for qom-get.
 *
 * Threads: the core's DMA and launch workers never take the BQL. They copy guest RAM
 * through MemoryRegionCache pointers (refusing anything that is not RAM) and
 * hand interrupts to a bottom half, which sends MSI-X under the BQL. So an
 * MMIO write that waits for a worker (reset, queue disable) cannot deadlock.
 */
#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "exec/memory.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_aer.h"
#include "hw/pci/pcie_regs.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "trace/trace-hw_tern.h"

#include "tern_core.h"
#include "tern_model.h"

#define TYPE_TERN "tern"
OBJECT_DECLARE_SIMPLE_TYPE(TernState, TERN)

#define TERN_PCIE_CAP_OFFSET	0x80
#define TERN_AER_OFFSET		PCI_CONFIG_SPACE_SIZE	/* extended space */
#define TERN_PCI_REVISION	1

struct TernState {
	PCIDevice parent_obj;

	MemoryRegion bar0;	/* container: regs + MSI-X table/PBA */
	MemoryRegion regs;
	MemoryRegion doorbells;
	MemoryRegion hbm;

	struct tern_dev *core;
	char *name;		/* for guest-error lines */
	QEMUBH *irq_bh;
	uint64_t irq_pending[2]; /* MSI-X vectors waiting for irq_bh */

	/* properties */
	uint64_t hbm_size;
	uint32_t cores;
	uint32_t queues;
	uint32_t dma_engines;
	uint64_t sbuf_size;
	char *fabric;
	uint32_t chip_id;
	uint32_t fabric_chips;
	char *topology;
	uint32_t torus_width;
	char *peers;
	uint32_t link_bandwidth;
	uint32_t link_latency;
	bool link_pace;
	uint32_t link_down;	/* before realize; then the model keeps it */
};

QEMU_BUILD_BUG_ON(TERN_MSIX_VECTORS_ALL(TERN_MAX_QUEUES, TERN_MAX_CORES) >
		  128);

/* ---- host interface of the core ---- */

/*
 * Copy between buf and guest (bus) memory. Only RAM is accepted: a cache
 * whose target is not directly accessible RAM (MMIO, ROM for writes, RAM
 * devices, other devices' RAM BARs, unassigned, bus mastering off) fails the
 * transfer, so the model never dispatches to another device and never needs
 * the BQL.
 */
static bool tern_dma_target_ok(TernState *s, MemoryRegion *mr)
{
	Object *owner = memory_region_owner(mr);

	if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr))
		return false;
	/*
	 * RAM that a PCI device owns is a BAR (another chip's HBM, say), not
	 * guest RAM: only our own HBM may be reached that way.
	 */
	if (owner && object_dynamic_cast(owner, TYPE_PCI_DEVICE))
		return mr == &s->hbm;
	return true;
}

static bool tern_dma(TernState *s, uint64_t addr, void *buf, size_t len,
		     bool is_write)
{
	AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
	uint8_t *p = buf;

	if (len && addr + (len - 1) < addr)
		return false;
	while (len) {
		MemoryRegionCache cache;
		int64_t l;
		bool ok;

		l = address_space_cache_init(&cache, as, addr, len, is_write);
		ok = l > 0 && cache.ptr && tern_dma_target_ok(s, cache.mrs.mr);
		if (ok) {
			if (!is_write) {
				memcpy(p, cache.ptr, l);
			} else if (l == 8 && !((uintptr_t)cache.ptr & 7)) {
#ifdef CONFIG_ATOMIC64
				uint64_t v;

				/* fences: a polling guest never sees half */
				memcpy(&v, p, 8);
				qatomic_set__nocheck((uint64_t *)cache.ptr, v);
#else
				memcpy(cache.ptr, p, 8);
#endif
				address_space_cache_invalidate(&cache, 0, l);
			} else {
				memcpy(cache.ptr, p, l);
				address_space_cache_invalidate(&cache, 0, l);
			}
		}
		address_space_cache_destroy(&cache);
		if (!ok)
			return false;
		addr += l;
		p += l;
		len -= l;
	}
	return true;
}

static bool tern_host_dma_read(void *opaque, uint64_t addr, void *buf,
			       size_t len)
{
	return tern_dma(opaque, addr, buf, len, false);
}

static bool tern_host_dma_write(void *opaque, uint64_t addr, const void *buf,
				size_t len)
{
	return tern_dma(opaque, addr, (void *)buf, len, true);
}

/* Any thread: mark the vector and let the BH send it under the BQL. */
static void tern_host_raise_irq(void *opaque, unsigned int vector)
{
	TernState *s = opaque;

	qatomic_or(&s->irq_pending[vector / 64], 1ull << (vector % 64));
	qemu_bh_schedule(s->irq_bh);
}

static void tern_irq_bh(void *opaque)
{
	TernState *s = opaque;
	PCIDevice *pdev = PCI_DEVICE(s);

	for (unsigned int w = 0; w < ARRAY_SIZE(s->irq_pending); w++) {
		uint64_t bits = qatomic_xchg(&s->irq_pending[w], 0);

		while (bits) {
			unsigned int vector = w * 64 + ctz64(bits);
			bool enabled = msix_enabled(pdev);

			bits &= bits - 1;
			trace_tern_irq_notify(vector, enabled);
			if (enabled)
				msix_notify(pdev, vector);
		}
	}
}

static void tern_host_guest_error(void *opaque, const char *line)
{
	trace_tern_guest_error(line);
	qemu_log_mask(LOG_GUEST_ERROR, "%s\n", line);
}

static void tern_host_worker_init(void *opaque, unsigned int engine)
{
	rcu_register_thread();
}

static void tern_host_worker_exit(void *opaque, unsigned int engine)
{
	rcu_unregister_thread();
}

static void tern_host_trace_doorbell(void *opaque, unsigned int queue,
				     uint32_t tail)
{
	trace_tern_doorbell(queue, tail);
}

static void tern_host_trace_dma_start(void *opaque, unsigned int engine,
				      unsigned int queue, uint32_t index,
				      const struct tern_dma_desc *d)
{
	trace_tern_dma_start(engine, queue, index, d->opcode, d->flags, d->src,
			     d->dst, d->size);
}

static void tern_host_trace_dma_done(void *opaque, unsigned int queue,
				     uint32_t index, uint32_t error)
{
	trace_tern_dma_done(queue, index, error);
}

static void tern_host_trace_irq(void *opaque, unsigned int vector,
				bool masked)
{
	trace_tern_irq(vector, masked);
}

static void tern_host_trace_queue_state(void *opaque, unsigned int queue,
					uint32_t state)
{
	trace_tern_queue_state(queue, state);
}

static void tern_host_trace_launch_start(void *opaque, unsigned int core,
					 uint32_t index,
					 const struct tern_launch_desc *d)
{
	trace_tern_launch_start(core, index, d->prog_addr, d->prog_size,
				d->slot_count, d->flags);
}

static void tern_host_trace_launch_done(void *opaque, unsigned int core,
					uint32_t index, uint32_t error,
					uint32_t job_status, uint32_t job_error,
					uint64_t cycles)
{
	trace_tern_launch_done(core, index, error, job_status, job_error,
			       cycles);
}

static void tern_host_trace_launch_profile(void *opaque, unsigned int core,
					   uint32_t index, uint64_t hbm_offset,
					   uint32_t count, uint32_t dropped)
{
	trace_tern_launch_profile(core, index, hbm_offset, count, dropped);
}

static void tern_host_trace_mmu_fault(void *opaque, uint32_t queue,
				      uint32_t index, uint64_t va,
				      uint32_t info)
{
	trace_tern_mmu_fault(queue, index, va, info & TERN_FAULT_CTX_MASK,
			     !!(info & TERN_FAULT_WRITE),
			     (info & TERN_FAULT_REASON_MASK) >>
			     TERN_FAULT_REASON_SHIFT);
}

static void tern_host_trace_reset(void *opaque, bool done)
{
	if (done)
		trace_tern_reset_done();
	else
		trace_tern_reset_begin();
}

static void tern_host_trace_link_copy(void *opaque, unsigned int port,
				      unsigned int peer_chip, uint64_t size,
				      uint32_t error)
{
	trace_tern_link_copy(port, peer_chip, size, error);
}

static void tern_host_trace_link_state(void *opaque, unsigned int port,
				       uint32_t state)
{
	trace_tern_link_state(port, state);
}

static const struct tern_host_ops tern_host_ops = {
	.dma_read = tern_host_dma_read,
	.dma_write = tern_host_dma_write,
	.raise_irq = tern_host_raise_irq,
	.guest_error = tern_host_guest_error,
	.worker_init = tern_host_worker_init,
	.worker_exit = tern_host_worker_exit,
	.trace_doorbell = tern_host_trace_doorbell,
	.trace_dma_start = tern_host_trace_dma_start,
	.trace_dma_done = tern_host_trace_dma_done,
	.trace_irq = tern_host_trace_irq,
	.trace_queue_state = tern_host_trace_queue_state,
	.trace_launch_start = tern_host_trace_launch_start,
	.trace_launch_done = tern_host_trace_launch_done,
	.trace_launch_profile = tern_host_trace_launch_profile,
	.trace_mmu_fault = tern_host_trace_mmu_fault,
	.trace_reset = tern_host_trace_reset,
	.trace_link_copy = tern_host_trace_link_copy,
	.trace_link_state = tern_host_trace_link_state,
};

/* ---- MMIO ---- */

static uint64_t tern_regs_read(void *opaque, hwaddr addr, unsigned int size)
{
	TernState *s = opaque;
	uint64_t val = tern_mmio_read(s->core, addr, size);

	trace_tern_mmio_read(tern_reg_name(addr), addr, size, val);
	return val;
}

static void tern_regs_write(void *opaque, hwaddr addr, uint64_t val,
			    unsigned int size)
{
	TernState *s = opaque;

	trace_tern_mmio_write(tern_reg_name(addr), addr, size, val);
	tern_mmio_write(s->core, addr, val, size);
}

/* The core sees every access as made and rejects all but aligned 32-bit. */
static const MemoryRegionOps tern_regs_ops = {
	.read = tern_regs_read,
	.write = tern_regs_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = { .min_access_size = 1, .max_access_size = 8,
		   .unaligned = true },
	.impl = { .min_access_size = 1, .max_access_size = 8,
		  .unaligned = true },
};

static uint64_t tern_db_read(void *opaque, hwaddr addr, unsigned int size)
{
	TernState *s = opaque;

	return tern_doorbell_read(s->core, addr, size);
}

static void tern_db_write(void *opaque, hwaddr addr, uint64_t val,
			  unsigned int size)
{
	TernState *s = opaque;

	tern_doorbell_write(s->core, addr, val, size);
}

static const MemoryRegionOps tern_db_ops = {
	.read = tern_db_read,
	.write = tern_db_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = { .min_access_size = 1, .max_access_size = 8,
		   .unaligned = true },
	.impl = { .min_access_size = 1, .max_access_size = 8,
		  .unaligned = true },
};

/* ---- life cycle ---- */

static void tern_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
			      int len)
{
	pci_default_write_config(pdev, addr, val, len);
	pcie_cap_flr_write_config(pdev, addr, val, len);
	pcie_aer_write_config(pdev, addr, val, len);
}

/* ---- link properties ---- */

/* "1,3,-,-": up to TERN_MAX_LINKS chip ids or "-" (nothing wired). */
static bool tern_parse_peers(const char *str, int *peers, Error **errp)
{
	const char *p = str;

	for (unsigned int i = 0; i < TERN_MAX_LINKS; i++)
		peers[i] = -1;
	if (!str || !*str)
		return true;
	for (unsigned int i = 0;; i++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[16];
		unsigned long v;
		char *stop;

		if (i >= TERN_MAX_LINKS || len == 0 || len >= sizeof(item)) {
			error_setg(errp, "tern: peers \"%s\" is invalid: give "
				   "at most %u comma-separated chip ids or -",
				   str, TERN_MAX_LINKS);
			return false;
		}
		memcpy(item, p, len);
		item[len] = 0;
		if (strcmp(item, "-")) {
			errno = 0;
			v = strtoul(item, &stop, 10);
			if (errno || *stop || item[0] < '0' || item[0] > '9' ||
			    v >= TERN_MAX_CHIPS) {
				error_setg(errp, "tern: peers \"%s\": \"%s\" is "
					   "not a chip id (0..%u) or -", str,
					   item, TERN_MAX_CHIPS - 1);
				return false;
			}
			peers[i] = (int)v;
		}
		if (!end)
			return true;
		p = end + 1;
	}
}

static bool tern_link_cfg(TernState *s, struct tern_link_config *lc,
			  Error **errp)
{
	char err[256];

	memset(lc, 0, sizeof(*lc));
	lc->fabric = s->fabric;
	lc->chip_id = s->chip_id;
	lc->chips = s->fabric_chips;
	lc->width = s->torus_width;
	lc->bandwidth_mbps = s->link_bandwidth;
	lc->latency_ns = s->link_latency;
	lc->pace = s->link_pace;
	if (!s->topology || !strcmp(s->topology, "none")) {
		lc->topology = TERN_TOPOLOGY_NONE;
	} else if (!strcmp(s->topology, "ring")) {
		lc->topology = TERN_TOPOLOGY_RING;
	} else if (!strcmp(s->topology, "torus2d")) {
		lc->topology = TERN_TOPOLOGY_TORUS2D;
	} else {
		error_setg(errp, "tern: topology \"%s\" is invalid: it must "
			   "be none, ring or torus2d", s->topology);
		return false;
	}
	if (!tern_parse_peers(s->peers, lc->peers, errp))
		return false;
	if (!s->fabric || !s->fabric[0]) {
		if (s->peers && s->peers[0]) {
			error_setg(errp, "tern: peers needs a fabric");
			return false;
		}
		return true;
	}
	if (!s->link_bandwidth || !s->link_latency) {
		error_setg(errp, "tern: %s 0 is invalid: it must be at least 1",
			   !s->link_bandwidth ? "link-bandwidth" :
			   "link-latency");
		return false;
	}
	if (!tern_link_config_check(lc, err, sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return false;
	}
	return true;
}

static void tern_get_link_down(Object *obj, Visitor *v, const char *name,
			       void *opaque, Error **errp)
{
	TernState *s = TERN(obj);
	uint32_t mask = s->core ? tern_dev_link_down(s->core) : s->link_down;

	visit_type_uint32(v, name, &mask, errp);
}

/* Any time, also after realize: QMP qom-set forces ports down or up. */
static void tern_set_link_down(Object *obj, Visitor *v, const char *name,
			       void *opaque, Error **errp)
{
	TernState *s = TERN(obj);
	uint32_t mask;
	char err[128];

	if (!visit_type_uint32(v, name, &mask, errp))
		return;
	if (mask >> TERN_MAX_LINKS) {
		error_setg(errp, "tern: link-down 0x%" PRIx32 " names ports past "
			   "the chip's %u", mask, TERN_MAX_LINKS);
		return;
	}
	if (s->core && !tern_dev_set_link_down(s->core, mask, err,
					       sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return;
	}
	s->link_down = mask;
}

/* ---- fault injection (include/tern_regs.h, "Fault injection") ---- */

static bool tern_inject_ready(TernState *s, const char *name, Error **errp)
{
	if (s->core)
		return true;
	error_setg(errp, "tern: %s: the device is not realized yet", name);
	return false;
}

/* Setters of the string-valued injections; the getters read "". */
static char *tern_get_inject_str(Object *obj, Error **errp)
{
	return g_strdup("");
}

static void tern_set_inject_ecc(Object *obj, const char *str, Error **errp)
{
	TernState *s = TERN(obj);
	uint64_t off;
	bool ue;
	char err[160];

	if (!tern_inject_ready(s, "inject-ecc", errp))
		return;
	if (!tern_inject_parse_ecc(str, &ue, &off, err, sizeof(err)) ||
	    !tern_dev_inject_ecc(s->core, ue, off, err, sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return;
	}
	trace_tern_inject_ecc(ue, off);
}

static void tern_set_inject_lost(Object *obj, const char *str, Error **errp)
{
	TernState *s = TERN(obj);
	unsigned int idx;
	bool core;
	char err[160];

	if (!tern_inject_ready(s, "inject-lost-completion", errp))
		return;
	if (!tern_inject_parse_target(str, &core, &idx, err, sizeof(err)) ||
	    !tern_dev_inject_lost_completion(s->core, core, idx, err,
					     sizeof(err))) {
		error_setg(errp, "tern: inject-lost-completion: %s", err);
		return;
	}
	trace_tern_inject_lost_completion(core, idx);
}

/*
 * A PCIe AER error of the chip, as a real endpoint reports it: one status
 * bit, the message sent up to the root port. Correctable: Receiver Error;
 * uncorrectable non-fatal: Completer Abort; fatal: Data Link Protocol
 * Error (their default severities; the guest's UNCOR_SEVER decides).
 */
static void tern_set_inject_aer(Object *obj, const char *str, Error **errp)
{
	TernState *s = TERN(obj);
	PCIEAERErr aer = { 0 };
	unsigned int kind;
	char err[160];
	int ret;

	if (!tern_inject_ready(s, "inject-aer", errp))
		return;
	if (!tern_inject_parse_aer(str, &kind, err, sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return;
	}
	aer.source_id = pci_requester_id(PCI_DEVICE(s));
	switch (kind) {
	case TERN_AER_CORRECTABLE:
		aer.status = PCI_ERR_COR_RCVR;
		aer.flags = PCIE_AER_ERR_IS_CORRECTABLE;
		break;
	case TERN_AER_NONFATAL:
		aer.status = PCI_ERR_UNC_COMP_ABORT;
		break;
	default:
		aer.status = PCI_ERR_UNC_DLP;
		break;
	}
	ret = pcie_aer_inject_error(PCI_DEVICE(s), &aer);
	trace_tern_inject_aer(str, aer.status, ret);
	if (ret < 0) {
		error_setg_errno(errp, -ret, "tern: inject-aer %s failed", str);
		return;
	}
	tern_dev_note_aer(s->core, kind, err, sizeof(err));
}

static void tern_get_inject_idx(Object *obj, Visitor *v, const char *name,
				void *opaque, Error **errp)
{
	uint32_t none = UINT32_MAX;

	visit_type_uint32(v, name, &none, errp);
}

/* inject-dma-abort (opaque NULL) and inject-core-hang (non-NULL). */
static void tern_set_inject_idx(Object *obj, Visitor *v, const char *name,
				void *opaque, Error **errp)
{
	TernState *s = TERN(obj);
	bool core = opaque != NULL;
	uint32_t idx;
	char err[160];
	bool ok;

	if (!visit_type_uint32(v, name, &idx, errp) ||
	    !tern_inject_ready(s, name, errp))
		return;
	ok = core ? tern_dev_inject_core_hang(s->core, idx, err, sizeof(err)) :
	     tern_dev_inject_dma_abort(s->core, idx, err, sizeof(err));
	if (!ok) {
		error_setg(errp, "tern: %s: %s", name, err);
		return;
	}
	if (core)
		trace_tern_inject_core_hang(idx);
	else
		trace_tern_inject_dma_abort(idx);
}

static void tern_get_faults(Object *obj, Visitor *v, const char *name,
			    void *opaque, Error **errp)
{
	TernState *s = TERN(obj);
	uint64_t n = s->core ? tern_dev_faults_injected(s->core) : 0;

	visit_type_uint64(v, name, &n, errp);
}

static void tern_realize(PCIDevice *pdev, Error **errp)
{
	TernState *s = TERN(pdev);
	DeviceState *dev = DEVICE(pdev);
	struct tern_config cfg = {
		.hbm_size = s->hbm_size,
		.cores = s->cores,
		.queues = s->queues,
		.dma_engines = s->dma_engines,
		.sbuf_size = s->sbuf_size,
	};
	struct tern_link_config lc;
	unsigned int nvec;
	char err[256];
	int ret;

	if (!tern_link_cfg(s, &lc, errp))
		return;
	cfg.link = &lc;
	if (!tern_config_check(&cfg, err, sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return;
	}
	/* 0 would mean "default" to the model: not a valid property value */
	if (!tern_core_sbuf_size_check(s->sbuf_size, err, sizeof(err))) {
		error_setg(errp, "tern: %s", err);
		return;
	}
	nvec = TERN_MSIX_VECTORS_ALL(s->queues, s->cores);
	s->name = dev->id ? g_strdup(dev->id) : qdev_get_dev_path(dev);
	if (!s->name)
		s->name = g_strdup(TYPE_TERN);

	/* Sparse: HBM pages cost host memory only once touched. */
	if (!memory_region_init_ram_flags_nomigrate(&s->hbm, OBJECT(s),
						    "tern-hbm", s->hbm_size,
						    RAM_NORESERVE, errp))
		goto fail;
	memory_region_init(&s->bar0, OBJECT(s), "tern-bar0",
			   TERN_BAR_REGS_SIZE);
	memory_region_init_io(&s->regs, OBJECT(s), &tern_regs_ops, s,
			      "tern-regs", TERN_REG_WINDOW_SIZE);
	memory_region_add_subregion(&s->bar0, 0, &s->regs);
	memory_region_init_io(&s->doorbells, OBJECT(s), &tern_db_ops, s,
			      "tern-doorbells",
			      tern_doorbell_bar_size(s->queues, s->cores));

	pci_register_bar(pdev, TERN_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY |
			 PCI_BASE_ADDRESS_MEM_TYPE_64, &s->bar0);
	pci_register_bar(pdev, TERN_BAR_DOORBELL,
			 PCI_BASE_ADDRESS_SPACE_MEMORY |
			 PCI_BASE_ADDRESS_MEM_TYPE_64, &s->doorbells);
	pci_register_bar(pdev, TERN_BAR_HBM, PCI_BASE_ADDRESS_SPACE_MEMORY |
			 PCI_BASE_ADDRESS_MEM_TYPE_64 |
			 PCI_BASE_ADDRESS_MEM_PREFETCH, &s->hbm);

	ret = pcie_endpoint_cap_init(pdev, TERN_PCIE_CAP_OFFSET);
	if (ret < 0) {
		error_setg(errp, "tern: cannot add the PCIe capability (%d)",
			   ret);
		goto fail;
	}
	pcie_cap_flr_init(pdev);
	/*
	 * The error-reporting enables of DEVCTL must be writable: without
	 * them the guest cannot enable reporting, and every AER message of
	 * the chip is masked before it reaches the root port.
	 */
	pcie_cap_deverr_init(pdev);
	ret = pcie_aer_init(pdev, PCI_ERR_VER, TERN_AER_OFFSET, PCI_ERR_SIZEOF,
			    errp);
	if (ret < 0) {
		error_prepend(errp, "tern: cannot add the AER capability: ");
		goto fail;
	}

	ret = msix_init(pdev, nvec, &s->bar0, TERN_BAR_REGS,
			TERN_MSIX_TABLE_OFFSET, &s->bar0, TERN_BAR_REGS,
			TERN_MSIX_PBA_OFFSET, 0, errp);
	if (ret) {
		error_prepend(errp, "tern: MSI-X is required: ");
		goto fail_aer;
	}
	for (unsigned int v = 0; v < nvec; v++)
		msix_vector_use(pdev, v);

	s->irq_bh = qemu_bh_new_guarded(tern_irq_bh, s,
					&dev->mem_reentrancy_guard);
	cfg.hbm = memory_region_get_ram_ptr(&s->hbm);
	cfg.name = s->name;
	s->core = tern_dev_create(&cfg, &tern_host_ops, s, err, sizeof(err));
	if (!s->core) {
		error_setg(errp, "tern: %s", err);
		qemu_bh_delete(s->irq_bh);
		s->irq_bh = NULL;
		msix_uninit(pdev, &s->bar0, &s->bar0);
		goto fail_aer;
	}
	if (s->link_down &&
	    !tern_dev_set_link_down(s->core, s->link_down, err, sizeof(err)))
		warn_report("tern: %s", err);	/* checked by the setter */
	trace_tern_realize(s->name, s->hbm_size, s->cores, s->queues,
			   s->dma_engines, s->sbuf_size);
	if (s->fabric && s->fabric[0])
		trace_tern_realize_link(s->name, s->fabric, s->chip_id,
					s->fabric_chips, lc.topology,
					s->link_bandwidth, s->link_latency);
	return;

fail_aer:
	pcie_aer_exit(pdev);
fail:
	g_free(s->name);
	s->name = NULL;
}

static void tern_exit(PCIDevice *pdev)
{
	TernState *s = TERN(pdev);

	tern_dev_destroy(s->core);	/* joins the workers */
	s->core = NULL;
	qemu_bh_delete(s->irq_bh);
	s->irq_bh = NULL;
	msix_uninit(pdev, &s->bar0, &s->bar0);
	pcie_aer_exit(pdev);
	g_free(s->name);
	s->name = NULL;
}

/* System reset and FLR: the same synchronous reset as the RESET register. */
static void tern_reset(DeviceState *dev)
{
	TernState *s = TERN(dev);

	if (s->core)
		tern_dev_reset(s->core);
	pcie_cap_deverr_reset(PCI_DEVICE(dev));
	for (unsigned int w = 0; w < ARRAY_SIZE(s->irq_pending); w++)
		qatomic_set(&s->irq_pending[w], 0);
}

static const VMStateDescription tern_vmstate = {
	.name = TYPE_TERN,
	.unmigratable = 1,	/* worker threads and HBM are not migrated */
};

static const Property tern_props[] = {
	DEFINE_PROP_SIZE("hbm-size", TernState, hbm_size,
			 TERN_HBM_SIZE_DEFAULT),
	DEFINE_PROP_UINT32("cores", TernState, cores, TERN_CORES_DEFAULT),
	DEFINE_PROP_UINT32("queues", TernState, queues, TERN_QUEUES_DEFAULT),
	DEFINE_PROP_UINT32("dma-engines", TernState, dma_engines,
			   TERN_DMA_ENGINES_DEFAULT),
	DEFINE_PROP_SIZE("sbuf-size", TernState, sbuf_size,
			 TERN_SBUF_SIZE_DEFAULT),
	DEFINE_PROP_STRING("fabric", TernState, fabric),
	DEFINE_PROP_UINT32("chip-id", TernState, chip_id, 0),
	DEFINE_PROP_UINT32("fabric-chips", TernState, fabric_chips, 1),
	DEFINE_PROP_STRING("topology", TernState, topology),
	DEFINE_PROP_UINT32("torus-width", TernState, torus_width, 0),
	DEFINE_PROP_STRING("peers", TernState, peers),
	DEFINE_PROP_UINT32("link-bandwidth", TernState, link_bandwidth,
			   TERN_LINK_BANDWIDTH_DEFAULT),
	DEFINE_PROP_UINT32("link-latency", TernState, link_latency,
			   TERN_LINK_LATENCY_DEFAULT),
	DEFINE_PROP_BOOL("link-pace", TernState, link_pace, true),
};

static void tern_class_init(ObjectClass *oc, void *data)
{
	DeviceClass *dc = DEVICE_CLASS(oc);
	PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

	pc->realize = tern_realize;
	pc->exit = tern_exit;
	pc->config_write = tern_config_write;
	pc->vendor_id = TERN_PCI_VENDOR_ID;
	pc->device_id = TERN_PCI_DEVICE_ID;
	pc->subsystem_vendor_id = TERN_PCI_VENDOR_ID;
	pc->subsystem_id = TERN_PCI_DEVICE_ID;
	pc->class_id = TERN_PCI_CLASS;
	pc->revision = TERN_PCI_REVISION;

	dc->desc = "tern AI accelerator (emulated)";
	set_bit(DEVICE_CATEGORY_MISC, dc->categories);
	dc->vmsd = &tern_vmstate;
	device_class_set_legacy_reset(dc, tern_reset);
	device_class_set_props(dc, tern_props);
	object_class_property_set_description(oc, "hbm-size",
		"HBM bytes behind BAR4: a power of two, 64M..64G");
	object_class_property_set_description(oc, "cores",
		"compute cores, 1..8");
	object_class_property_set_description(oc, "queues",
		"DMA queues, 1..64");
	object_class_property_set_description(oc, "dma-engines",
		"DMA engines (worker threads), 1..8");
	object_class_property_set_description(oc, "sbuf-size",
		"SBUF bytes per core: a multiple of 128K, 1M..64M");
	object_class_property_set_description(oc, "fabric",
		"name of the fabric the chip's links join (none: no links)");
	object_class_property_set_description(oc, "chip-id",
		"the chip's number in its fabric, below fabric-chips");
	object_class_property_set_description(oc, "fabric-chips",
		"chips in the fabric, 1..64");
	object_class_property_set_description(oc, "topology",
		"none (explicit peers), ring or torus2d");
	object_class_property_set_description(oc, "torus-width",
		"torus2d: chips per row (0: square root of fabric-chips)");
	object_class_property_set_description(oc, "peers",
		"topology none: chip at each port, e.g. 1,3,-,-");
	object_class_property_set_description(oc, "link-bandwidth",
		"modeled MB/s per link and direction, 1..1000000");
	object_class_property_set_description(oc, "link-latency",
		"modeled ns per link transfer, 1..1000000000");
	object_class_property_set_description(oc, "link-pace",
		"hold link transfers to the modeled bandwidth in wall time");
	object_class_property_add(oc, "link-down", "uint32",
				  tern_get_link_down, tern_set_link_down,
				  NULL, NULL);
	object_class_property_set_description(oc, "link-down",
		"mask of link ports forced down; settable at run time");
	object_class_property_add_str(oc, "inject-ecc", tern_get_inject_str,
				      tern_set_inject_ecc);
	object_class_property_set_description(oc, "inject-ecc",
		"run time: ce:<hbm offset> or ue:<hbm offset> ECC error");
	object_class_property_add(oc, "inject-dma-abort", "uint32",
				  tern_get_inject_idx, tern_set_inject_idx,
				  NULL, NULL);
	object_class_property_set_description(oc, "inject-dma-abort",
		"run time: the queue whose next descriptor aborts");
	object_class_property_add(oc, "inject-core-hang", "uint32",
				  tern_get_inject_idx, tern_set_inject_idx,
				  NULL, (void *)1);
	object_class_property_set_description(oc, "inject-core-hang",
		"run time: the core whose next launch never ends");
	object_class_property_add_str(oc, "inject-lost-completion",
				      tern_get_inject_str,
				      tern_set_inject_lost);
	object_class_property_set_description(oc, "inject-lost-completion",
		"run time: queue:<q> or core:<c>: next completion loses its "
		"fence and interrupt");
	object_class_property_add_str(oc, "inject-aer", tern_get_inject_str,
				      tern_set_inject_aer);
	object_class_property_set_description(oc, "inject-aer",
		"run time: correctable, nonfatal or fatal PCIe AER error");
	object_class_property_add(oc, "faults-injected", "uint64",
				  tern_get_faults, NULL, NULL, NULL);
	object_class_property_set_description(oc, "faults-injected",
		"faults that took effect since the device was created");
}

static const TypeInfo tern_info = {
	.name = TYPE_TERN,
	.parent = TYPE_PCI_DEVICE,
	.instance_size = sizeof(TernState),
	.class_init = tern_class_init,
	.interfaces = (InterfaceInfo[]) {
		{ INTERFACE_PCIE_DEVICE },
		{ }
	},
};

static void tern_register_types(void)
{
	type_register_static(&tern_info);
}

type_init(tern_register_types)
