/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern chip access: registers, reset, queue programming, MSI-X.
 */
#ifndef __TERN_HW_H__
#define __TERN_HW_H__

#include <linux/io.h>

#include "tern_drv.h"
#include "tern_queue.h"

static inline u32 tern_rd32(struct tern_device *tdev, u32 reg)
{
	return readl(tdev->regs + reg);
}

static inline void tern_wr32(struct tern_device *tdev, u32 reg, u32 val)
{
	writel(val, tdev->regs + reg);
}

static inline u32 tern_qrd32(struct tern_queue *q, u32 reg)
{
	return tern_rd32(q->tdev, TERN_REG_QUEUE(q->index) + reg);
}

static inline void tern_qwr32(struct tern_queue *q, u32 reg, u32 val)
{
	tern_wr32(q->tdev, TERN_REG_QUEUE(q->index) + reg, val);
}

/* Clear chip queue @q's QDONE bit (RW1C). */
static inline void tern_hw_qdone_clear(struct tern_device *tdev, u32 q)
{
	tern_wr32(tdev, q < 32 ? TERN_REG_QDONE_LO : TERN_REG_QDONE_HI, BIT(q % 32));
}

static inline u32 tern_hw_platform_of(u32 revision_reg)
{
	return (revision_reg & TERN_REVISION_PLATFORM_MASK) >> TERN_REVISION_PLATFORM_SHIFT;
}

int tern_hw_init(struct tern_device *tdev);
int tern_hw_reset(struct tern_device *tdev, const char *reason);
int tern_hw_irq_init(struct tern_device *tdev);
int tern_hw_irq_request(struct tern_device *tdev);

int tern_hw_queue_enable(struct tern_queue *q);
void tern_hw_queue_resume(struct tern_queue *q, u32 head);
void tern_hw_doorbell(struct tern_queue *q, u32 tail);
const char *tern_hw_queue_state_name(u32 state);
const char *tern_hw_error_name(u32 code);

#endif /* __TERN_HW_H__ */
