/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern io_uring commands: SUBMIT, EXEC and WAIT as IORING_OP_URING_CMD
 * (Documentation/io_uring.rst).
 */
#ifndef __TERN_URING_H__
#define __TERN_URING_H__

struct io_uring_cmd;

int tern_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

#endif /* __TERN_URING_H__ */
