// SPDX-License-Identifier: MIT
/*
 * libtern collectives: one io_uring over every chip of a communicator.
 *
 * coll_run() (coll_exec.c) queues each copy as a DRM_TERN_URING_SUBMIT
 * command on its sending chip's file; the driver posts the copy's CQE when
 * the job's fence signals, with the copy's index as user_data. So the
 * copies that became ready go to the kernel in one io_uring_enter(), and
 * the run sleeps until whichever copy ends first, on any chip, without a
 * syncobj, a WAIT or a poll per copy. Without io_uring commands (a driver
 * before them, or TERN_SUBMIT=ioctl) the run keeps to fences.
 *
 * liburing 2.3 has no helper for uring_cmd: the SQEs are filled by hand,
 * as in submit_uring.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "coll_int.h"

#define COLL_RING_ENTRIES	256	/* > COLL_INFLIGHT: a started copy always has an SQE */

struct io_uring *coll_ring_get(struct tern_comm *c)
{
	struct io_uring *r;

	if (c->ring || c->ring_failed)
		return c->ring;
	c->ring_failed = true;
	for (unsigned int i = 0; i < c->n; i++)
		if (!c->dev[i]->uring)
			return NULL;
	r = calloc(1, sizeof(*r));
	if (!r || tern_uring_queue_init(r, COLL_RING_ENTRIES)) {
		free(r);
		return NULL;
	}
	c->ring_failed = false;
	c->ring = r;
	return r;
}

void coll_ring_put(struct tern_comm *c)
{
	if (!c->ring)
		return;
	io_uring_queue_exit(c->ring);
	free(c->ring);
	c->ring = NULL;
}

/*
 * Checks copy @x of run @o and queues it as a SUBMIT command on its
 * sender's file (sent by the next coll_ring_wait()). @x->uapi holds its
 * copy: the kernel reads it when it takes the command.
 */
int coll_ring_start(struct coll_ops *o, struct coll_op *x, unsigned int index)
{
	struct tern_comm *c = o->comm;
	struct tern_device *dev = c->dev[x->src_rank];
	struct drm_tern_submit submit;
	struct io_uring_sqe *sqe;
	struct tern_piece p;
	size_t n = 1;
	int ret;

	if (x->size > TERN_COPY_CHUNK)	/* chunks are at most COLL_MAX_CHUNK */
		return tern_fail(-EPROTO, "collective: a copy of %llu bytes",
				 (unsigned long long)x->size);
	memset(&submit, 0, sizeof(submit));
	if (x->port >= 0) {
		ret = tern_link_pieces(dev, x->queue, (unsigned int)x->port, c->dev[x->dst_rank],
				       x->dst, x->dst_off, x->src, x->src_off, x->size, x->reduce,
				       x->reduce ? o->dtype : 0, x->opnd, &p, &n);
		if (ret)
			return ret;
		submit.flags = DRM_TERN_SUBMIT_LINK;
		submit.peer_fd = c->dev[x->dst_rank]->fd;
		submit.link_port = (uint32_t)x->port;
	} else {
		ret = tern_check_copy(dev, x->dst, x->dst_off, x->src, x->src_off, x->size);
		if (ret)
			return ret;
		memset(&p, 0, sizeof(p));
		p.dst = x->dst;
		p.src = x->src;
		p.dst_offset = x->dst_off;
		p.src_offset = x->src_off;
		p.size = x->size;
	}
	tern_pieces_to_uapi(&p, 1, &x->uapi);
	submit.copies = (uintptr_t)&x->uapi;
	submit.copy_count = 1;
	submit.queue = (uint32_t)x->queue;

	sqe = io_uring_get_sqe(c->ring);
	if (!sqe)
		return tern_fail(-EBUSY, "collective: no free SQE");
	tern_uring_fill_cmd(sqe, dev->fd, DRM_TERN_URING_SUBMIT, &submit, sizeof(submit), index);
	return 0;
}

/*
 * Hands the queued commands to the kernel and sleeps for one CQE. On a
 * failure of the ring itself the ring goes (io_uring cancels its commands;
 * their jobs run on) and the communicator keeps to fences: no late CQE can
 * reach a later call.
 */
int coll_ring_wait(struct tern_comm *c)
{
	int ret;

	do {
		ret = io_uring_submit_and_wait(c->ring, 1);
	} while (ret == -EINTR);
	if (ret < 0 && ret != -EBUSY && ret != -EAGAIN) {
		coll_ring_put(c);
		c->ring_failed = true;
		return tern_fail(ret, "collective: io_uring_enter: %s", strerror(-ret));
	}
	return 0;
}

/*
 * The next CQE, if there is one: the copy's index in *@index and its
 * result in *@result (0, or the error with tern_last_error() set). Return:
 * 0, or -EAGAIN when there is none.
 */
int coll_ring_reap(struct coll_ops *o, unsigned int *index, int *result)
{
	struct tern_comm *c = o->comm;
	struct io_uring_cqe *cqe;
	struct coll_op *x;
	struct tern_device *dev;
	uint32_t status, code;
	int res;

	if (io_uring_peek_cqe(c->ring, &cqe))
		return -EAGAIN;
	*index = (unsigned int)cqe->user_data;
	res = cqe->res;
	status = (uint32_t)cqe->big_cqe[0];
	code = (uint32_t)(cqe->big_cqe[0] >> 32);
	io_uring_cqe_seen(c->ring, cqe);

	x = &o->op[*index];
	dev = c->dev[x->src_rank];
	/* the link went down under the job, or was down when it was queued */
	if (x->port >= 0 && ((res == -EIO && status == DRM_TERN_JOB_LINK_DOWN) ||
			     res == -ENOLINK))
		*result = tern_link_down_error(dev, (unsigned int)x->port,
					       c->dev[x->dst_rank]->hw.chip_id, "link copy");
	else if (res == 0 || res == -EIO)
		*result = tern_copy_result(dev, x->queue, res == -EIO && !status ?
					   DRM_TERN_JOB_DEVICE_ERROR : status, code, 0);
	else
		*result = tern_fail(res, "DRM_TERN_URING_SUBMIT on %s queue %d%s: %s", dev->node,
				    x->queue, x->port >= 0 ? " (link)" : "", strerror(-res));
	return 0;
}
