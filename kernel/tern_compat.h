/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel interfaces tern uses whose signatures changed after Linux 6.12,
 * the kernel the driver is built and tested against. Each wrapper keeps the
 * 6.12 form and says which release changed it. The tests are on a macro
 * that came with the change rather than on LINUX_VERSION_CODE, so that
 * kernels with the change backported build too.
 */
#ifndef __TERN_COMPAT_H__
#define __TERN_COMPAT_H__

#include <linux/io_uring/cmd.h>
#include <linux/types.h>

/*
 * tern_uring_cmd_done() - post the CQE of a uring_cmd with one extra word
 *
 * Up to 6.17, io_uring_cmd_done(cmd, ret, res2, issue_flags) writes @res2 to
 * big_cqe[0] of a CQE32 ring. From 6.18 that function no longer posts res2
 * (and then lost the argument); io_uring_cmd_done32() does. It came with
 * IORING_SETUP_CQE_MIXED. In every version big_cqe[1] is left zero: a
 * driver cannot set it.
 */
static inline void tern_uring_cmd_done(struct io_uring_cmd *cmd, int ret, u64 res2,
				       unsigned int issue_flags)
{
#ifdef IORING_SETUP_CQE_MIXED
	io_uring_cmd_done32(cmd, ret, res2, issue_flags);
#else
	io_uring_cmd_done(cmd, ret, res2, issue_flags);
#endif
}

/*
 * TERN_URING_TASK_WORK(name, fn) - define @name, a task work callback for
 * io_uring_cmd_do_in_task_lazy() / io_uring_cmd_complete_in_task(), that
 * calls fn(cmd, issue_flags) in the task of the ring.
 *
 * Up to 6.18 the callback is void (*)(struct io_uring_cmd *, unsigned int
 * issue_flags). From 6.19 it is an io_req_tw_func_t, void (*)(struct
 * io_tw_req, io_tw_token_t): the command comes from io_uring_cmd_from_tw()
 * and the flags to complete with are IO_URING_CMD_TASK_WORK_ISSUE_FLAGS,
 * which came with that change.
 */
#ifdef IO_URING_CMD_TASK_WORK_ISSUE_FLAGS
#define TERN_URING_TASK_WORK(name, fn)					\
static void name(struct io_tw_req tw_req, io_tw_token_t tw)		\
{									\
	fn(io_uring_cmd_from_tw(tw_req), IO_URING_CMD_TASK_WORK_ISSUE_FLAGS); \
}
#else
#define TERN_URING_TASK_WORK(name, fn)					\
static void name(struct io_uring_cmd *cmd, unsigned int issue_flags)	\
{									\
	fn(cmd, issue_flags);						\
}
#endif

#endif /* __TERN_COMPAT_H__ */
