// SPDX-License-Identifier: GPL-2.0
/*
 * tern io_uring commands.
 */

#include <linux/errno.h>

#include "tern_uring.h"

int tern_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	return -EOPNOTSUPP;
}
