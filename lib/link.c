// SPDX-License-Identifier: MIT
/*
 * libtern chip-to-chip links: the ports of a device (DRM_IOCTL_TERN_LINK_QUERY)
 * and copies into the HBM of the chip at the other end of a port
 * (DRM_TERN_SUBMIT_LINK jobs of DRM_TERN_COPY_LINK copies).
 *
 * A link copy names its peer by the other tern_device of this process: the
 * destination handle is the buffer's handle in the peer's file, and the
 * peer's fd goes with the job so the driver can look it up. Each port has
 * its own DMA queue (port modulo the queues), so copies through different
 * ports run on different queues, spread over the DMA engines, while the
 * copies of one port run in order. The collectives pick the queue of each
 * link copy themselves (tern_link_copy_on(), coll_int.h).
 *
 * Link jobs take the ioctl path whatever the device's path is, and their
 * fences are waited for by tern_link_fence_wait(), which turns a job whose
 * link went down into -ENOLINK.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xf86drm.h>

#include "coll_int.h"
#include "tern_internal.h"
#include "tern_isa.h"

static int query_port(struct tern_device *dev, unsigned int port, struct drm_tern_link_query *q)
{
	memset(q, 0, sizeof(*q));
	q->port = port;
	if (drmIoctl(dev->fd, DRM_IOCTL_TERN_LINK_QUERY, q))
		return tern_fail(-errno, "DRM_IOCTL_TERN_LINK_QUERY on %s port %u: %s", dev->node,
				 port, strerror(errno));
	return 0;
}

TERN_EXPORT int tern_device_links(struct tern_device *dev, struct tern_link *links,
				  unsigned int max)
{
	struct drm_tern_link_query q;
	unsigned int p, n;
	int ret;

	if (!dev || (!links && max))
		return tern_fail(-EINVAL, "tern_device_links: NULL argument");
	n = dev->hw.num_links < max ? dev->hw.num_links : max;
	for (p = 0; p < n; p++) {
		ret = query_port(dev, p, &q);
		if (ret)
			return ret;
		memset(&links[p], 0, sizeof(links[p]));
		links[p].port = p;
		links[p].state = q.state;
		links[p].peer_chip = q.peer_chip;
		links[p].peer_port = q.peer_port;
		links[p].bandwidth_mbps = q.bandwidth_mbps;
		links[p].latency_ns = q.latency_ns;
		links[p].errors = q.errors;
		links[p].tx_bytes = q.tx_bytes;
		links[p].rx_bytes = q.rx_bytes;
		links[p].busy_ns = q.busy_ns;
	}
	return (int)n;
}

int tern_link_down_error(struct tern_device *dev, unsigned int port, unsigned int peer_chip,
			 const char *what)
{
	static const char *const states[] = { "nothing wired", "up", "down" };
	struct drm_tern_link_query q;
	char saved[512];

	snprintf(saved, sizeof(saved), "%s", tern_last_error());
	if (query_port(dev, port, &q)) {
		tern_fail(0, "%s", saved);
		return tern_fail(-ENOLINK, "%s on %s port %u: link down (chip %u port %u -> chip %u)",
				 what, dev->node, port, dev->hw.chip_id, port, peer_chip);
	}
	if (q.peer_chip == DRM_TERN_LINK_NO_PEER)
		return tern_fail(-ENOLINK, "%s on %s port %u: link %s (chip %u port %u: no peer)",
				 what, dev->node, port, q.state < 3 ? states[q.state] : "?",
				 dev->hw.chip_id, port);
	return tern_fail(-ENOLINK,
			 "%s on %s port %u: link %s (chip %u port %u -> chip %u port %u)",
			 what, dev->node, port, q.state < 3 ? states[q.state] : "?",
			 dev->hw.chip_id, port, q.peer_chip, q.peer_port);
}

int tern_link_fence_wait(struct tern_device *dev, struct tern_fence *f, int64_t timeout_ns)
{
	int64_t deadline = 0, left;
	uint32_t status, code;
	int ret;

	if (!dev || !f || f->dev != dev)
		return tern_fail(-EINVAL, "tern_fence_wait: NULL fence or fence of another device");
	if (!f->link || f->done || f->path != TERN_SUBMIT_IOCTL)
		return tern_fence_wait(dev, f, timeout_ns);
	if (timeout_ns != TERN_TIMEOUT_INFINITE)
		deadline = tern_now_ns() + timeout_ns;
	while (f->waited < f->jobs) {
		left = INT64_MAX;
		if (timeout_ns != TERN_TIMEOUT_INFINITE) {
			left = deadline - tern_now_ns();
			if (left < 0)
				left = 0;
		}
		ret = tern_wait_syncobj(dev, f->syncobjs[f->waited], left, &status, &code);
		if (ret == -ETIME)
			return tern_fail(-ETIME, "link copy on %s port %u: still running", dev->node,
					 f->link_port);
		if (ret) {
			/* The job's state cannot be known (device gone): give up on it. */
			f->done = 1;
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
			return ret;
		}
		if (status == DRM_TERN_JOB_LINK_DOWN)
			ret = tern_link_down_error(dev, f->link_port, f->link_peer_chip, "link copy");
		else
			ret = tern_copy_result(dev, f->queue, status, code, 0);
		if (ret && !f->result) {
			f->result = ret;
			snprintf(f->error, sizeof(f->error), "%s", tern_last_error());
		}
		f->waited++;
	}
	f->done = 1;
	if (f->result)
		tern_fail(f->result, "%s", f->error);
	return f->result;
}

TERN_EXPORT int tern_link_copy_async(struct tern_device *dev, unsigned int port,
				     struct tern_device *peer, struct tern_buffer *dst,
				     uint64_t dst_offset, struct tern_buffer *src,
				     uint64_t src_offset, uint64_t size, unsigned int reduce,
				     unsigned int dtype, struct tern_fence **fencep)
{
	return tern_link_copy_on(dev, -1, port, peer, dst, dst_offset, src, src_offset, size,
				 reduce, dtype, NULL, fencep);
}

int tern_link_copy_on(struct tern_device *dev, int queue, unsigned int port,
		      struct tern_device *peer, struct tern_buffer *dst, uint64_t dst_offset,
		      struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		      unsigned int reduce, unsigned int dtype, struct tern_buffer *operand,
		      struct tern_fence **fencep)
{
	struct tern_piece pieces[DRM_TERN_MAX_COPIES];
	size_t n = DRM_TERN_MAX_COPIES;
	int ret;

	if (!fencep)
		return tern_fail(-EINVAL, "link copy: fencep is NULL");
	*fencep = NULL;
	ret = tern_link_pieces(dev, queue, port, peer, dst, dst_offset, src, src_offset, size,
			       reduce, dtype, operand, pieces, &n);
	if (ret)
		return ret;
	if (queue < 0)
		queue = (int)(port % dev->hw.num_queues);
	return tern_link_jobs_submit(dev, queue, peer, port, pieces, n, fencep);
}

int tern_link_pieces(struct tern_device *dev, int queue, unsigned int port,
		     struct tern_device *peer, struct tern_buffer *dst, uint64_t dst_offset,
		     struct tern_buffer *src, uint64_t src_offset, uint64_t size,
		     unsigned int reduce, unsigned int dtype, struct tern_buffer *operand,
		     struct tern_piece *p, size_t *np)
{
	uint32_t flags = DRM_TERN_COPY_LINK;
	unsigned int esize = 1;
	size_t n = 0;
	int ret;

	if (!dev || !peer)
		return tern_fail(-EINVAL, "link copy: %s is NULL", dev ? "peer" : "device");
	if (peer == dev)
		return tern_fail(-EINVAL, "link copy on %s: the peer is the sending device itself",
				 dev->node);
	if (queue >= (int)dev->hw.num_queues)
		return tern_fail(-EINVAL, "link copy on %s: queue %d, the chip has %u queues",
				 dev->node, queue, dev->hw.num_queues);
	if (port >= dev->hw.num_links)
		return tern_fail(-EINVAL, "link copy on %s: port %u, the chip has %u link port%s",
				 dev->node, port, dev->hw.num_links,
				 dev->hw.num_links == 1 ? "" : "s");
	ret = tern_check_range("link copy", peer, "destination", dst, dst_offset, size);
	if (!ret)
		ret = tern_check_range("link copy", dev, "source", src, src_offset, size);
	if (ret)
		return ret;
	if (dst->flags != TERN_MEM_DEVICE)
		return tern_fail(-EINVAL, "link copy: the destination must be a device buffer of %s",
				 peer->node);
	switch (reduce) {
	case TERN_REDUCE_NONE:
		if (dtype)
			return tern_fail(-EINVAL, "link copy: dtype %u without a reduction (must be 0)",
					 dtype);
		break;
	case TERN_REDUCE_SUM:
	case TERN_REDUCE_MAX:
		flags |= reduce == TERN_REDUCE_SUM ? DRM_TERN_COPY_REDUCE_SUM :
			 DRM_TERN_COPY_REDUCE_MAX;
		if (dtype == TERN_DT_BF16) {
			flags |= DRM_TERN_COPY_BF16;
			esize = 2;
		} else if (dtype == TERN_DT_FP32) {
			esize = 4;
		} else {
			return tern_fail(-EINVAL,
					 "link copy: reduction on dtype %u (TERN_DT_FP32 or TERN_DT_BF16 only)",
					 dtype);
		}
		if (size % esize || dst_offset % esize || src_offset % esize)
			return tern_fail(-EINVAL,
					 "link copy: reducing %s needs size and offsets multiple of %u (size %llu, dst %llu, src %llu)",
					 dtype == TERN_DT_BF16 ? "bf16" : "fp32", esize,
					 (unsigned long long)size, (unsigned long long)dst_offset,
					 (unsigned long long)src_offset);
		break;
	default:
		return tern_fail(-EINVAL, "link copy: unknown reduction %u", reduce);
	}
	if (operand) {
		if (!reduce)
			return tern_fail(-EINVAL, "link copy: an operand without a reduction");
		if (!tern_has_operand(dev))
			return tern_fail(-EOPNOTSUPP,
					 "link copy on %s: the driver or chip has no reduce with an operand (UAPI 1.5, interface 1.6)",
					 dev->node);
		ret = tern_check_range("link copy", peer, "operand", operand, dst_offset, size);
		if (ret)
			return ret;
		if (operand->flags != TERN_MEM_DEVICE)
			return tern_fail(-EINVAL, "link copy: the operand must be a device buffer of %s",
					 peer->node);
		flags |= DRM_TERN_COPY_OPERAND;
	}
	if (size > (uint64_t)*np * TERN_COPY_CHUNK)
		return tern_fail(-EINVAL, "link copy: %llu bytes, at most %llu in one link copy",
				 (unsigned long long)size,
				 (unsigned long long)*np * TERN_COPY_CHUNK);

	for (uint64_t done = 0; done < size; n++) {
		uint64_t piece = size - done < TERN_COPY_CHUNK ? size - done : TERN_COPY_CHUNK;

		p[n].dst = dst;
		p[n].src = src;
		p[n].dst_offset = dst_offset + done;
		p[n].src_offset = src_offset + done;
		p[n].size = piece;
		p[n].flags = flags;
		p[n].operand = operand;
		done += piece;
	}
	*np = n;
	return 0;
}
