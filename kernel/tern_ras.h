/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern RAS: HBM ECC errors the chip reports on the error vector
 * (Documentation/driver.rst, "RAS").
 */
#ifndef __TERN_RAS_H__
#define __TERN_RAS_H__

#include "tern_drv.h"

void tern_ras_irq(struct tern_device *tdev);

#endif /* __TERN_RAS_H__ */
