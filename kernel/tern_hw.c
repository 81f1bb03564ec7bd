// SPDX-License-Identifier: GPL-2.0
/*
 * tern chip access: identification, reset, queue programming, doorbells,
 * MSI-X vectors and their interrupt handlers.
 */

#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/pci.h>

#include "tern_core.h"
#include "tern_hw.h"
#include "tern_link.h"
#include "tern_queue.h"
#include "tern_ras.h"
#include "tern_telem.h"
#include "tern_trace.h"
#include "tern_uq.h"

static const char * const tern_error_names[TERN_ERR_COUNT] = {
	[TERN_ERR_NONE] = "no error",
	[TERN_ERR_BAD_OPCODE] = "unknown descriptor opcode",
	[TERN_ERR_BAD_FLAGS] = "unknown or conflicting descriptor flags",
	[TERN_ERR_RESERVED] = "descriptor reserved field not zero",
	[TERN_ERR_HBM_RANGE] = "HBM range outside the HBM",
	[TERN_ERR_HOST_DMA] = "host address is not memory",
	[TERN_ERR_SGL] = "malformed or short SG list",
	[TERN_ERR_BAD_RING] = "invalid ring base or size",
	[TERN_ERR_DOORBELL] = "doorbell for a disabled queue or out-of-range tail",
	[TERN_ERR_RING_FETCH] = "descriptor fetch failed",
	[TERN_ERR_FENCE] = "fence write failed",
	[TERN_ERR_BAD_LAUNCH] = "launch: program size or slot count out of range",
	[TERN_ERR_MMU_FAULT] = "device MMU translation or permission fault",
	[TERN_ERR_LINK_DOWN] = "link port down, unconnected or no peer chip",
	[TERN_ERR_ECC_UNCORRECTED] = "uncorrectable HBM ECC error",
	[TERN_ERR_DMA_ABORT] = "DMA transfer aborted",
};

const char *tern_hw_error_name(u32 code)
{
	if (code < TERN_ERR_COUNT && tern_error_names[code])
		return tern_error_names[code];
	return "unknown error code";
}

const char *tern_hw_queue_state_name(u32 state)
{
	switch (state) {
	case TERN_Q_STATE_DISABLED:
		return "disabled";
	case TERN_Q_STATE_ACTIVE:
		return "active";
	case TERN_Q_STATE_HALTED:
		return "halted";
	default:
		return "unknown";
	}
}

/*
 * Reset the chip: every queue disabled, engines idle, errors and interrupt
 * causes cleared, telemetry counters zeroed. HBM keeps its contents. The
 * reset is synchronous; the STATUS read flushes the posted write and
 * checks the chip came back. @reason goes to the tern_reset tracepoint.
 */
int tern_hw_reset(struct tern_device *tdev, const char *reason)
{
	u32 status;

	trace_tern_reset(tern_minor(tdev), reason);
	tern_wr32(tdev, TERN_REG_RESET, TERN_RESET_KEY);
	status = tern_rd32(tdev, TERN_REG_STATUS);
	if (!(status & TERN_STATUS_READY)) {
		drm_err(&tdev->drm, "chip not ready after reset (STATUS 0x%08x)\n", status);
		return -EIO;
	}
	tdev->err_count_seen = 0;
	return 0;
}

static int tern_hw_read_info(struct tern_device *tdev)
{
	struct tern_hw_info *hw = &tdev->hw;
	struct pci_dev *pdev = tdev->pdev;
	resource_size_t hbm_bar = pci_resource_len(pdev, TERN_BAR_HBM);
	resource_size_t db_bar = pci_resource_len(pdev, TERN_BAR_DOORBELL);
	u32 rev = tern_rd32(tdev, TERN_REG_REVISION);

	hw->revision = rev & TERN_REVISION_REV_MASK;
	hw->platform = tern_hw_platform_of(rev);
	hw->caps = tern_rd32(tdev, TERN_REG_CAPS);
	hw->num_cores = tern_rd32(tdev, TERN_REG_NUM_CORES);
	hw->num_queues = tern_rd32(tdev, TERN_REG_NUM_QUEUES);
	hw->num_dma_engines = tern_rd32(tdev, TERN_REG_NUM_DMA_ENGINES);
	hw->ring_max_entries = tern_rd32(tdev, TERN_REG_RING_MAX_ENTRIES);
	hw->doorbell_stride = tern_rd32(tdev, TERN_REG_DOORBELL_STRIDE);
	hw->hbm_size = tern_rd32(tdev, TERN_REG_HBM_SIZE_LO) |
		       (u64)tern_rd32(tdev, TERN_REG_HBM_SIZE_HI) << 32;
	if (hw->caps & TERN_CAP_COMPUTE)
		hw->sbuf_size = tern_rd32(tdev, TERN_REG_SBUF_SIZE);

	if (hw->num_queues < 1 || hw->num_queues > TERN_MAX_QUEUES) {
		drm_err(&tdev->drm, "chip reports %u queues, expected 1..%u\n",
			hw->num_queues, TERN_MAX_QUEUES);
		return -ENODEV;
	}
	if (hw->ring_max_entries < TERN_RING_MIN_ENTRIES) {
		drm_err(&tdev->drm, "chip reports rings of at most %u entries\n",
			hw->ring_max_entries);
		return -ENODEV;
	}
	if (hw->doorbell_stride < sizeof(u32) ||
	    (u64)hw->doorbell_stride * hw->num_queues > db_bar) {
		drm_err(&tdev->drm, "doorbell stride %u for %u queues does not fit BAR%d (%pa bytes)\n",
			hw->doorbell_stride, hw->num_queues, TERN_BAR_DOORBELL, &db_bar);
		return -ENODEV;
	}
	if (!hw->hbm_size || !PAGE_ALIGNED(hw->hbm_size) || hw->hbm_size > hbm_bar) {
		drm_err(&tdev->drm, "HBM size %llu does not fit BAR%d (%pa bytes) or is not page aligned\n",
			hw->hbm_size, TERN_BAR_HBM, &hbm_bar);
		return -ENODEV;
	}

	tdev->timeout_scale = hw->platform == TERN_PLATFORM_EMULATED ?
			      TERN_EMULATED_TIMEOUT_SCALE : 1;
	return 0;
}

/*
 * Identify the chip, reset it and read what it has. Fails with a clear
 * message when BAR0 does not hold a tern register file of a register
 * interface major version this driver speaks.
 */
int tern_hw_init(struct tern_device *tdev)
{
	u32 magic, version;
	int ret;

	magic = tern_rd32(tdev, TERN_REG_MAGIC);
	if (magic != TERN_MAGIC) {
		drm_err(&tdev->drm, "BAR%d magic is 0x%08x, expected 0x%08x: not a tern chip, or it does not respond\n",
			TERN_BAR_REGS, magic, TERN_MAGIC);
		return -ENODEV;
	}

	version = tern_rd32(tdev, TERN_REG_VERSION);
	if (version >> 16 != TERN_VERSION_MAJOR) {
		drm_err(&tdev->drm, "register interface %u.%u is not supported, this driver needs %u.x\n",
			version >> 16, version & 0xffff, TERN_VERSION_MAJOR);
		return -ENODEV;
	}
	tdev->hw.version = version;

	ret = tern_hw_reset(tdev, "probe");
	if (ret)
		return ret;

	return tern_hw_read_info(tdev);
}

/*
 * Program the ring of @q and enable it. The chip validates base and size
 * and leaves the queue disabled (with a BAD_RING error) if it dislikes them.
 */
int tern_hw_queue_enable(struct tern_queue *q)
{
	u32 state;

	tern_qwr32(q, TERN_Q_RING_BASE_LO, lower_32_bits(q->ring_dma));
	tern_qwr32(q, TERN_Q_RING_BASE_HI, upper_32_bits(q->ring_dma));
	tern_qwr32(q, TERN_Q_RING_SIZE, q->entries);
	tern_qwr32(q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE);

	state = tern_qrd32(q, TERN_Q_STATUS);
	if (state != TERN_Q_STATE_ACTIVE) {
		u32 code = tern_qrd32(q, TERN_Q_ERROR);

		drm_err(&q->tdev->drm, "queue %u is %s after enable: %s (%u)\n",
			q->index, tern_hw_queue_state_name(state),
			tern_hw_error_name(code), code);
		return -EIO;
	}
	return 0;
}

/* Restart a halted queue at ring index @head. */
void tern_hw_queue_resume(struct tern_queue *q, u32 head)
{
	tern_qwr32(q, TERN_Q_HEAD, head);
	tern_qwr32(q, TERN_Q_CTRL, TERN_Q_CTRL_ENABLE | TERN_Q_CTRL_RESUME);
}

/*
 * Tell the chip the ring now ends at @tail. writel() orders the descriptor
 * stores to coherent memory before the doorbell.
 */
void tern_hw_doorbell(struct tern_queue *q, u32 tail)
{
	struct tern_device *tdev = q->tdev;

	writel(tail, tdev->doorbells + (size_t)q->index * tdev->hw.doorbell_stride);
}

/* Both vectors do their work in thread context: jobs free pages and BOs. */
static irqreturn_t tern_irq_wake_thread(int irq, void *arg)
{
	return IRQ_WAKE_THREAD;
}

static irqreturn_t tern_irq_queue_thread(int irq, void *arg)
{
	struct tern_queue *q = arg;

	/*
	 * Clear the done bit before reading the fence slot: a job finishing
	 * after the read sets it again and interrupts again.
	 */
	tern_hw_qdone_clear(q->tdev, q->index);
	tern_queue_retire(q);
	return IRQ_HANDLED;
}

/* User-mode queue: the owner reads its fences; the vector only wakes it. */
static irqreturn_t tern_irq_user_queue_thread(int irq, void *arg)
{
	tern_uq_irq(arg);
	return IRQ_HANDLED;
}

static irqreturn_t tern_irq_core_thread(int irq, void *arg)
{
	struct tern_core *core = arg;

	/* As for queues: clear CORE_DONE before reading the fence slot. */
	tern_wr32(core->tdev, TERN_REG_CORE_DONE, BIT(core->index));
	tern_core_retire(core);
	return IRQ_HANDLED;
}

static irqreturn_t tern_irq_error_thread(int irq, void *arg)
{
	struct tern_device *tdev = arg;
	u32 code, queue, index, count, i;
	u64 addr;

	code = tern_rd32(tdev, TERN_REG_ERR_CODE);
	queue = tern_rd32(tdev, TERN_REG_ERR_QUEUE);
	index = tern_rd32(tdev, TERN_REG_ERR_INDEX);
	addr = tern_rd32(tdev, TERN_REG_ERR_ADDR_LO) |
	       (u64)tern_rd32(tdev, TERN_REG_ERR_ADDR_HI) << 32;
	count = tern_rd32(tdev, TERN_REG_ERR_COUNT);

	if (code != TERN_ERR_NONE) {
		if (queue == TERN_ERR_QUEUE_NONE)
			tern_err_ratelimited(tdev, "device error: %s (code %u, value 0x%llx)\n",
					     tern_hw_error_name(code), code, addr);
		else if (queue >= TERN_ERR_QUEUE_CORE_BASE)
			tern_err_ratelimited(tdev, "device error on core %u at ring index %u: %s (code %u, address 0x%llx)\n",
					     queue - TERN_ERR_QUEUE_CORE_BASE, index,
					     tern_hw_error_name(code), code, addr);
		else
			tern_err_ratelimited(tdev, "device error on queue %u at ring index %u: %s (code %u, address 0x%llx)\n",
					     queue, index, tern_hw_error_name(code), code, addr);
	}
	atomic64_add(count - tdev->err_count_seen, &tdev->device_errors);
	tdev->err_count_seen = count;

	/*
	 * Acknowledge before looking at the queues: an error raised after
	 * this point latches again and raises this vector again.
	 */
	tern_wr32(tdev, TERN_REG_ERR_ACK, 1);
	tern_wr32(tdev, TERN_REG_INT_STATUS, TERN_INT_ERROR);

	/* Link changes (TERN_INT_LINK) and HBM ECC errors (TERN_INT_RAS) share it. */
	tern_link_irq(tdev);
	tern_ras_irq(tdev);

	for (i = 0; i < tdev->num_queues; i++)
		tern_queue_recover(&tdev->queues[i]);
	for (i = 0; i < tdev->num_cores; i++)
		tern_core_recover(&tdev->cores[i]);
	tern_uq_recover(tdev);

	return IRQ_HANDLED;
}

/*
 * With every queue vector and TERN_CAP_USER_QUEUES and TERN_CAP_MMU, the
 * last half of the chip's queues are lent to processes as user-mode queues
 * (tern_uq.c); the first ones stay kernel queues for SUBMIT. Otherwise
 * all @usable queues are kernel queues.
 */
static void tern_hw_split_queues(struct tern_device *tdev, u32 usable)
{
	u32 need = TERN_CAP_USER_QUEUES | TERN_CAP_MMU;

	tdev->num_user_queues = 0;
	if ((tdev->hw.caps & need) == need && usable == tdev->hw.num_queues && usable >= 2)
		tdev->num_user_queues = usable / 2;
	tdev->num_queues = usable - tdev->num_user_queues;
}

/*
 * With TERN_CAP_COMPUTE, the core vectors come after all the chip's queue
 * vectors and the core doorbells after all its queue doorbells: the cores
 * are driven only if every vector and doorbell is there.
 */
static bool tern_hw_irq_init_all(struct tern_device *tdev)
{
	struct tern_hw_info *hw = &tdev->hw;
	struct pci_dev *pdev = tdev->pdev;
	resource_size_t db_bar = pci_resource_len(pdev, TERN_BAR_DOORBELL);
	int nvec;

	if (!(hw->caps & TERN_CAP_COMPUTE) || !hw->num_cores)
		return false;
	if (hw->num_cores > TERN_MAX_CORES) {
		drm_warn(&tdev->drm, "chip reports %u cores, at most %u are supported: no compute\n",
			 hw->num_cores, TERN_MAX_CORES);
		return false;
	}
	if ((u64)hw->doorbell_stride * (hw->num_queues + hw->num_cores) > db_bar) {
		drm_warn(&tdev->drm, "BAR%d has no doorbells for the cores: no compute\n",
			 TERN_BAR_DOORBELL);
		return false;
	}

	nvec = TERN_MSIX_VECTORS_ALL(hw->num_queues, hw->num_cores);
	if (pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX) != nvec) {
		drm_warn(&tdev->drm, "cannot allocate %d MSI-X vectors: no compute\n", nvec);
		return false;
	}
	tern_hw_split_queues(tdev, hw->num_queues);
	tdev->num_cores = hw->num_cores;
	return true;
}

/*
 * Allocate one MSI-X vector for errors, one per queue and one per core.
 * With fewer vectors, the cores are not used, and only the queues that
 * got a vector are.
 */
int tern_hw_irq_init(struct tern_device *tdev)
{
	struct pci_dev *pdev = tdev->pdev;
	int nvec;

	if (tern_hw_irq_init_all(tdev))
		return 0;

	nvec = pci_alloc_irq_vectors(pdev, TERN_MSIX_VECTORS(1),
				     TERN_MSIX_VECTORS(tdev->hw.num_queues), PCI_IRQ_MSIX);
	if (nvec < 0) {
		drm_err(&tdev->drm, "cannot allocate MSI-X vectors: %d\n", nvec);
		return nvec;
	}

	tern_hw_split_queues(tdev, nvec - 1);
	if (nvec - 1 < tdev->hw.num_queues)
		drm_warn(&tdev->drm, "only %d MSI-X vectors: using %u of %u queues\n",
			 nvec, tdev->num_queues, tdev->hw.num_queues);
	return 0;
}

/* Install the handlers; the queues must be allocated (tern_queues_init()). */
int tern_hw_irq_request(struct tern_device *tdev)
{
	struct pci_dev *pdev = tdev->pdev;
	struct device *dev = &pdev->dev;
	const char *name;
	u32 i;
	int ret;

	name = devm_kasprintf(dev, GFP_KERNEL, "tern-%s-err", pci_name(pdev));
	if (!name)
		return -ENOMEM;
	ret = devm_request_threaded_irq(dev, pci_irq_vector(pdev, TERN_MSIX_VEC_ERROR),
					tern_irq_wake_thread, tern_irq_error_thread,
					0, name, tdev);
	if (ret) {
		drm_err(&tdev->drm, "cannot request the error interrupt: %d\n", ret);
		return ret;
	}

	for (i = 0; i < tdev->num_queues; i++) {
		name = devm_kasprintf(dev, GFP_KERNEL, "tern-%s-q%u", pci_name(pdev), i);
		if (!name)
			return -ENOMEM;
		ret = devm_request_threaded_irq(dev, pci_irq_vector(pdev, TERN_MSIX_VEC_QUEUE(i)),
						tern_irq_wake_thread, tern_irq_queue_thread,
						0, name, &tdev->queues[i]);
		if (ret) {
			drm_err(&tdev->drm, "cannot request the interrupt of queue %u: %d\n",
				i, ret);
			return ret;
		}
	}

	for (i = 0; i < tdev->num_user_queues; i++) {
		u32 q = tdev->num_queues + i;

		name = devm_kasprintf(dev, GFP_KERNEL, "tern-%s-uq%u", pci_name(pdev), i);
		if (!name)
			return -ENOMEM;
		ret = devm_request_threaded_irq(dev, pci_irq_vector(pdev, TERN_MSIX_VEC_QUEUE(q)),
						tern_irq_wake_thread, tern_irq_user_queue_thread,
						0, name, tern_uq_get(tdev, i));
		if (ret) {
			drm_err(&tdev->drm, "cannot request the interrupt of user queue %u: %d\n",
				i, ret);
			return ret;
		}
	}

	for (i = 0; i < tdev->num_cores; i++) {
		int vec = TERN_MSIX_VEC_CORE(tdev->hw.num_queues, i);

		name = devm_kasprintf(dev, GFP_KERNEL, "tern-%s-c%u", pci_name(pdev), i);
		if (!name)
			return -ENOMEM;
		ret = devm_request_threaded_irq(dev, pci_irq_vector(pdev, vec),
						tern_irq_wake_thread, tern_irq_core_thread,
						0, name, &tdev->cores[i]);
		if (ret) {
			drm_err(&tdev->drm, "cannot request the interrupt of core %u: %d\n",
				i, ret);
			return ret;
		}
	}
	return 0;
}
