/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern RAS: HBM ECC errors the chip reports on the error vector
 * (Documentation/driver.rst, "RAS").
 */
#ifndef __TERN_RAS_H__
#define __TERN_RAS_H__

#include "tern_drv.h"

void tern_ras_irq(struct tern_device *tdev);
void tern_ras_retire(struct tern_device *tdev, u64 line);
void tern_ras_retire_freed_locked(struct tern_device *tdev, u64 start, u64 size);
void tern_ras_retire_fini(struct tern_device *tdev);

#endif /* __TERN_RAS_H__ */
