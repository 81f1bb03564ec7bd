// SPDX-License-Identifier: MIT
/*
 * tern_link_errors: SUBMIT rejects every malformed link field, peer,
 * reduce flag and reduce operand (DRM_TERN_COPY_OPERAND, UAPI 1.5) with
 * its errno, and queues nothing (the job counter and the timeline do not
 * move). Runs on any VM; the unwired-port case needs a chip with a port
 * wired to nothing (the fabric VM boots one), and the operands of link
 * copies a neighbour (they SKIP without one).
 */
#include "tern_link_test.h"

/* ---- SUBMIT: link fields without DRM_TERN_SUBMIT_LINK ---- */

TEST_F(link, submit_valid_control)
{
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(link, submit_peer_fd_without_flag)
{
	self->submit.peer_fd = self->fd;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.peer_fd = -1;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(link, submit_link_port_without_flag)
{
	self->submit.link_port = 1;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(link, submit_unknown_flags)
{
	self->submit.flags = 2;
	submit_rejected(_metadata, self, EINVAL);
	self->submit.flags = DRM_TERN_SUBMIT_LINK | 0x80000000u;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(link, copy_link_without_flag)
{
	self->copy.flags = DRM_TERN_COPY_LINK;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_VA;
	self->copy.src_handle = 0;
	self->copy.dst_handle = 0;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(link, copy_unknown_flags)
{
	/* Bits 0..5 are defined (DRM_TERN_COPY_OPERAND since UAPI 1.5). */
	self->copy.flags = 1u << 6;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = 0x80000000u;
	submit_rejected(_metadata, self, EINVAL);
}

/* ---- SUBMIT with DRM_TERN_SUBMIT_LINK: the peer ---- */

/* self->submit as a link job on @port with @peer_fd. */
TEST_F(link, submit_link_bad_port)
{
	int pfd = open_index(_metadata, 1);

	set_link(self, self->info.num_links, pfd);
	submit_rejected(_metadata, self, EINVAL);
	set_link(self, TERN_MAX_LINKS, pfd);
	submit_rejected(_metadata, self, EINVAL);
	set_link(self, UINT32_MAX, pfd);
	submit_rejected(_metadata, self, EINVAL);
	close(pfd);
}

TEST_F(link, submit_link_peer_fd_not_open)
{
	int closed = dup(0);

	NEED_LINKS();
	ASSERT_LE(0, closed);
	close(closed);
	set_link(self, 0, closed);
	submit_rejected(_metadata, self, EBADF);
	set_link(self, 0, -1);
	submit_rejected(_metadata, self, EBADF);
	set_link(self, 0, INT32_MIN);
	submit_rejected(_metadata, self, EBADF);
}

TEST_F(link, submit_link_peer_not_tern)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), pipes[2];

	NEED_LINKS();
	ASSERT_LE(0, null);
	set_link(self, 0, null);
	submit_rejected(_metadata, self, EINVAL);
	ASSERT_EQ(0, pipe(pipes));
	set_link(self, 0, pipes[0]);
	submit_rejected(_metadata, self, EINVAL);
	close(pipes[0]);
	close(pipes[1]);
	close(null);
}

/* A tern file opened by the parent, handed down by fork(): not the child's. */
TEST_F(link, submit_link_peer_of_other_process)
{
	int pfd, status;
	pid_t pid;

	NEED_LINKS();
	pfd = open_index(_metadata, 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_tern_submit s = {
			.flags = DRM_TERN_SUBMIT_LINK,
			.peer_fd = pfd,
		};
		char node[64];
		int fd, ret;

		snprintf(node, sizeof(node), "/dev/accel/accel%u", self->minor);
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(100);
		ret = tern_ioctl(fd, DRM_IOCTL_TERN_SUBMIT, &s);
		_exit(ret == -EACCES ? 0 : ret < 0 ? -ret : 101);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child's SUBMIT with the parent's file as peer: %s (want EACCES)",
		       WEXITSTATUS(status) < 100 ? strerror(WEXITSTATUS(status)) : "other");
	close(pfd);
}

/* A port with nothing wired to it leads nowhere: -ENOLINK whatever the peer. */
/*
 * A port with nothing wired to it: -ENOLINK. The fabric VM boots one chip
 * in no fabric for this (run-vm.sh, TERN_VM_SOLO); any device with an
 * unwired port will do.
 */
TEST_F(link, submit_link_unconnected_port)
{
	unsigned int minors[TERN_TEST_MAX_DEVS], minor = 0;
	struct drm_tern_submit submit;
	struct drm_tern_link_query q;
	struct drm_tern_info info;
	struct drm_tern_copy copy;
	uint32_t hs, hd, tl, p = 0;
	uint64_t before, point = 0;
	int n, i, fd = -1, pfd;

	NEED_LINKS();
	n = tern_minors(minors, TERN_TEST_MAX_DEVS);
	for (i = 0; i < n && fd < 0; i++) {
		char node[64];

		snprintf(node, sizeof(node), "/dev/accel/accel%u", minors[i]);
		fd = open(node, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s: %s", node, strerror(errno));
		memset(&info, 0, sizeof(info));
		ASSERT_EQ(0, tern_get_info(fd, &info));
		for (p = 0; p < info.num_links; p++) {
			ASSERT_EQ(0, link_query(fd, p, &q));
			if (q.state == DRM_TERN_LINK_NONE)
				break;
		}
		if (p < info.num_links) {
			minor = minors[i];
			break;
		}
		close(fd);
		fd = -1;
	}
	ASSERT_LE(0, fd) TH_LOG("no tern device has an unwired link port (the fabric VM boots one)");

	/* A valid job but for the port: copies on the chip, the peer any other device. */
	ASSERT_EQ(0, tern_bo_create(fd, BO_SIZE, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hd));
	tl = tern_timeline(_metadata, fd);
	tern_copy_set(&copy, hd, 0, hs, 0, 4096);
	memset(&submit, 0, sizeof(submit));
	submit.copies = (uintptr_t)&copy;
	submit.copy_count = 1;
	submit.out_syncobj = tl;
	submit.out_point = 1;
	pfd = (int)minor == (int)minors[0] ? open_index(_metadata, 1) : open_index(_metadata, 0);
	submit.flags = DRM_TERN_SUBMIT_LINK;
	submit.link_port = p;
	submit.peer_fd = pfd;
	before = tern_sysfs_u64(minor, "jobs_submitted");
	EXPECT_ERRNO(ENOLINK, tern_ioctl(fd, DRM_IOCTL_TERN_SUBMIT, &submit));
	EXPECT_EQ(before, tern_sysfs_u64(minor, "jobs_submitted"));
	ASSERT_EQ(0, drmSyncobjQuery(fd, &tl, &point, 1));
	EXPECT_EQ(0, point);
	close(pfd);
	close(fd);
}

/* ---- reduce flags ---- */

TEST_F(link, reduce_flags_invalid)
{
	/* Both reduce flags. */
	self->copy.flags = DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_REDUCE_MAX;
	submit_rejected(_metadata, self, EINVAL);
	/* BF16 without a reduce. */
	self->copy.flags = DRM_TERN_COPY_BF16;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_BF16 | DRM_TERN_COPY_REDUCE_SUM |
			   DRM_TERN_COPY_REDUCE_MAX;
	submit_rejected(_metadata, self, EINVAL);
}

TEST_F(link, reduce_alignment)
{
	/* fp32: size and both offsets multiples of 4. */
	self->copy.flags = DRM_TERN_COPY_REDUCE_SUM;
	self->copy.size = 4094;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.size = 4096;
	self->copy.src_offset = 2;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.src_offset = 0;
	self->copy.dst_offset = 6;
	submit_rejected(_metadata, self, EINVAL);
	/* bf16: multiples of 2. */
	self->copy.flags = DRM_TERN_COPY_REDUCE_MAX | DRM_TERN_COPY_BF16;
	self->copy.dst_offset = 1;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = 0;
	self->copy.size = 4095;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.size = 4096;
	self->copy.src_offset = 3;
	submit_rejected(_metadata, self, EINVAL);
}

/* ---- reduce with an operand (DRM_TERN_COPY_OPERAND) ---- */

/* The fixture's copy hs -> hd as an fp32 SUM with the operand buffer @op. */
static void set_operand(FIXTURE_DATA(link) *self, uint32_t op)
{
	self->copy.flags = DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_OPERAND;
	self->copy.operand_handle = op;
}

/*
 * The control of the cases below: an operand buffer that ends where the
 * range does is valid, and so is the destination as operand. A chip
 * before interface 1.6 refuses the flag.
 */
TEST_F(link, operand_valid_control)
{
	struct drm_tern_copy c[2];
	uint32_t ha;

	ASSERT_EQ(0, tern_bo_create(self->fd, 8192, DRM_TERN_BO_DEVICE, &ha));
	self->copy.dst_offset = 4096;
	set_operand(self, ha);
	if (self->info.hw_version < TERN_VERSION_OPERAND) {
		submit_rejected(_metadata, self, EOPNOTSUPP);
		return;
	}
	c[0] = self->copy;
	c[1] = self->copy;
	c[1].operand_handle = self->hd;
	c[1].dst_offset = 8192;
	self->submit.copies = (uintptr_t)c;
	self->submit.copy_count = 2;
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->tl, 1);
}

TEST_F(link, operand_without_reduce)
{
	uint32_t ha;

	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &ha));
	set_operand(self, ha);
	self->copy.flags = DRM_TERN_COPY_OPERAND;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_OPERAND | DRM_TERN_COPY_BF16;
	submit_rejected(_metadata, self, EINVAL);
}

/* A raw VA copy has no buffer whose offset the operand could share. */
TEST_F(link, operand_with_va)
{
	uint64_t src_va = tern_bo_va(self->fd, self->hs), dst_va = tern_bo_va(self->fd, self->hd);
	uint32_t ha;

	NEED_OPERAND();
	ASSERT_NE(0, src_va);
	ASSERT_NE(0, dst_va);
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &ha));
	tern_copy_va_set(&self->copy, dst_va, src_va, 4096);
	self->copy.flags |= DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_OPERAND;
	self->copy.operand_handle = ha;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags ^= DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_REDUCE_MAX |
			    DRM_TERN_COPY_BF16;
	submit_rejected(_metadata, self, EINVAL);
}

/* Handle 0 names no buffer: with the flag it is a lookup, not "no operand". */
TEST_F(link, operand_handle_zero)
{
	NEED_OPERAND();
	set_operand(self, 0);
	submit_rejected(_metadata, self, ENOENT);
}

TEST_F(link, operand_unknown_handle)
{
	uint32_t ha;

	NEED_OPERAND();
	set_operand(self, 0x7fffffff);
	submit_rejected(_metadata, self, ENOENT);
	/* A handle that was closed. */
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &ha));
	ASSERT_EQ(0, tern_bo_close(self->fd, ha));
	set_operand(self, ha);
	submit_rejected(_metadata, self, ENOENT);
}

/* The chip reads the operand from its HBM: a host buffer will not do. */
TEST_F(link, operand_host_buffer)
{
	uint32_t ha;

	NEED_OPERAND();
	set_operand(self, self->hs);
	submit_rejected(_metadata, self, EINVAL);
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_HOST, &ha));
	set_operand(self, ha);
	self->copy.flags = DRM_TERN_COPY_REDUCE_MAX | DRM_TERN_COPY_BF16 | DRM_TERN_COPY_OPERAND;
	submit_rejected(_metadata, self, EINVAL);
}

/*
 * The operand is [dst_offset, dst_offset + size) of its buffer: a buffer
 * smaller than the destination's, with a destination range that fits.
 */
TEST_F(link, operand_range_past_buffer)
{
	uint32_t ha;

	NEED_OPERAND();
	ASSERT_EQ(0, tern_bo_create(self->fd, 8192, DRM_TERN_BO_DEVICE, &ha));
	set_operand(self, ha);
	/* One element past its end. */
	self->copy.dst_offset = 4100;
	submit_rejected(_metadata, self, EINVAL);
	/* Starting at its end, and near the end of the destination. */
	self->copy.dst_offset = 8192;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = BO_SIZE - 4096;
	submit_rejected(_metadata, self, EINVAL);
	/* Past both, with an offset + size that wraps. */
	self->copy.dst_offset = UINT64_MAX - 4095;
	submit_rejected(_metadata, self, EINVAL);
}

/* operand_handle was a pad before UAPI 1.5: without the flag it must be 0. */
TEST_F(link, operand_handle_without_flag)
{
	uint32_t ha;

	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &ha));
	self->copy.operand_handle = ha;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_REDUCE_SUM;
	submit_rejected(_metadata, self, EINVAL);
	/* A handle that names nothing is still EINVAL, not ENOENT. */
	self->copy.operand_handle = 0x7fffffff;
	submit_rejected(_metadata, self, EINVAL);
}

/*
 * A link copy's operand is a device buffer of the peer file, at the
 * destination's offset. A valid control first, on its own timeline
 * (submit_rejected() checks the fixture's has no point): the rejections
 * after it are the operand's.
 */
TEST_F(link, link_operand_bad_peer_buffers)
{
	uint32_t hp_dev, hp_op, hp_host, hp_small, hl = 0;
	struct drm_tern_bo_info bi;
	unsigned int i;

	NEED_OPERAND();
	NEED_NEIGHBOUR();
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hp_dev));
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hp_op));
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_HOST, &hp_host));
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, 4096, DRM_TERN_BO_DEVICE, &hp_small));
	/* A local device buffer whose handle the peer file does not have. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, tern_bo_create(self->fd, 4096, DRM_TERN_BO_DEVICE, &hl));
		if (tern_bo_info(self->peer_fd, hl, &bi) == -ENOENT)
			break;
	}
	ASSERT_GT(16, i) TH_LOG("every local handle up to %u is also a peer handle", hl);

	set_link(self, self->port, self->peer_fd);
	self->copy.dst_handle = hp_dev;
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_OPERAND;
	self->copy.operand_handle = hp_op;
	self->submit.out_syncobj = tern_timeline(_metadata, self->fd);
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->submit.out_syncobj, 1);
	self->submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	self->submit.out_syncobj = self->tl;
	self->submit.job_id = 0;

	/* The handle is looked up in the peer file, not the submitting one. */
	self->copy.operand_handle = hl;
	submit_rejected(_metadata, self, ENOENT);
	self->copy.operand_handle = 0;
	submit_rejected(_metadata, self, ENOENT);
	/* A host buffer of the peer. */
	self->copy.operand_handle = hp_host;
	submit_rejected(_metadata, self, EINVAL);
	/* Range past the peer's operand buffer, inside the destination. */
	self->copy.operand_handle = hp_small;
	self->copy.dst_offset = 4;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = 0;
	/* OPERAND without a reduce, and an operand handle without OPERAND. */
	self->copy.operand_handle = hp_op;
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_OPERAND;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_REDUCE_SUM;
	submit_rejected(_metadata, self, EINVAL);
	/* Raw VAs of both files. */
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_VA | DRM_TERN_COPY_REDUCE_SUM |
			   DRM_TERN_COPY_OPERAND;
	self->copy.src_handle = 0;
	self->copy.dst_handle = 0;
	self->copy.src_offset = tern_bo_va(self->fd, self->hs);
	self->copy.dst_offset = tern_bo_va(self->peer_fd, hp_dev);
	submit_rejected(_metadata, self, EINVAL);
}

TEST_HARNESS_MAIN
