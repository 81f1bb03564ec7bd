/* SPDX-License-Identifier: MIT */
/*
 * The fixture and helpers of the link kselftests: tern_link.c (topology,
 * link copies, a link going down), tern_link_reduce.c (reduce data, with
 * and without an operand) and tern_link_errors.c (every rejected link
 * field, peer, reduce flag and operand).
 */
#ifndef TERN_LINK_TEST_H
#define TERN_LINK_TEST_H

#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "tern_test.h"
#include "tern_fabric_test.h"

#define BO_SIZE		(64 * 1024ull)
#define BIG		(4ull << 20)

FIXTURE(link) {
	int fd;
	unsigned int minor;
	struct drm_tern_info info;
	uint32_t hs, hd;		/* local host and device BO of BO_SIZE */
	uint32_t tl;
	uint64_t point;
	uint64_t submitted0;
	struct drm_tern_copy copy;	/* a valid local copy hs -> hd */
	struct drm_tern_submit submit;	/* a valid job of that copy */
	int peer_fd;			/* neighbour's file, or -1 */
	uint32_t port;			/* the port leading to it */
	struct drm_tern_link_query q;	/* that port, as found */
	int link_down_set;		/* teardown brings the chip's ports up */
};

FIXTURE_SETUP(link)
{
	self->peer_fd = -1;
	self->fd = tern_open_index(_metadata, 0, &self->minor);
	ASSERT_EQ(0, tern_get_info(self->fd, &self->info));
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_HOST, &self->hs));
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_DEVICE, &self->hd));
	self->tl = tern_timeline(_metadata, self->fd);
	self->point = 0;
	self->submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	tern_copy_set(&self->copy, self->hd, 0, self->hs, 0, 4096);
	memset(&self->submit, 0, sizeof(self->submit));
	self->submit.copies = (uintptr_t)&self->copy;
	self->submit.copy_count = 1;
	self->submit.out_syncobj = self->tl;
	self->submit.out_point = 1;
}

FIXTURE_TEARDOWN(link)
{
	if (self->link_down_set)
		tern_vm_set_link_down(self->info.chip_id, 0);
	if (self->peer_fd >= 0)
		close(self->peer_fd);
	if (self->fd >= 0)
		close(self->fd);
}

#define EXPECT_ERRNO(err, call) do {						\
	int __ret = (call);							\
	EXPECT_EQ(-(err), __ret) TH_LOG("%s: got %d (%s), want %s", #call,	\
					 __ret, strerror(-__ret), strerror(err));	\
} while (0)

static inline int link_query(int fd, uint32_t port, struct drm_tern_link_query *q)
{
	memset(q, 0, sizeof(*q));
	q->port = port;
	return tern_ioctl(fd, DRM_IOCTL_TERN_LINK_QUERY, q);
}

/* The job in self->submit is rejected with @err and nothing was queued. */
static inline void submit_rejected(struct __test_metadata *_metadata, FIXTURE_DATA(link) *self, int err)
{
	uint64_t point = 0;

	EXPECT_ERRNO(err, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	EXPECT_EQ(self->submitted0, tern_sysfs_u64(self->minor, "jobs_submitted"));
	ASSERT_EQ(0, drmSyncobjQuery(self->fd, &self->tl, &point, 1));
	EXPECT_EQ(0, point);
	EXPECT_EQ(0, self->submit.job_id);
}

/* A file of the @index-th tern device, for a peer_fd. */
static inline int open_index(struct __test_metadata *_metadata, unsigned int index)
{
	unsigned int minor;

	return tern_open_index(_metadata, index, &minor);
}

static inline int open_chip(unsigned int chip_id)
{
	char node[64];

	if (tern_vm_chip_node(chip_id, node, sizeof(node)))
		return -1;
	return open(node, O_RDWR | O_CLOEXEC);
}

/* A file of link port @port of accel minor @minor: device/link<port>/<attr>. */
static inline int link_sysfs(unsigned int minor, uint32_t port, const char *attr, char *buf,
		      size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), "/sys/class/accel/accel%u/device/link%u/%s", minor, port,
		 attr);
	return tern_read_file(path, buf, len);
}

static inline uint64_t link_sysfs_u64(FIXTURE_DATA(link) *self, uint32_t port, const char *attr)
{
	char buf[64], *end;
	uint64_t v;

	if (link_sysfs(self->minor, port, attr, buf, sizeof(buf)))
		return UINT64_MAX;
	v = strtoull(buf, &end, 10);
	return end == buf || *end ? UINT64_MAX : v;
}

/*
 * Find an UP port of the fixture's device and open the chip at its other
 * end (self->port, self->q, self->peer_fd). Returns 0, or -1 with @why set
 * when the VM has no such link.
 */
static inline int find_neighbour(FIXTURE_DATA(link) *self, const char **why)
{
	uint32_t p;

	*why = "the chip is not in a fabric (run in tests/vm/run-vm.sh fabric)";
	if (!self->info.fabric_id || !self->info.num_links)
		return -1;
	*why = "no link port of the chip is up";
	for (p = 0; p < self->info.num_links; p++) {
		if (link_query(self->fd, p, &self->q) || self->q.state != DRM_TERN_LINK_UP)
			continue;
		self->peer_fd = open_chip(self->q.peer_chip);
		if (self->peer_fd < 0) {
			*why = "the chip at the other end has no /dev/accel node";
			continue;
		}
		self->port = p;
		return 0;
	}
	return -1;
}

#define NEED_LINKS() do {							\
	if (!self->info.num_links)						\
		SKIP(return, "the chip has no link ports (TERN_CAP_LINKS)");	\
} while (0)

#define NEED_OPERAND() do {							\
	if (self->info.hw_version < TERN_VERSION_OPERAND)			\
		SKIP(return, "the chip has no reduce with an operand (interface 1.6)"); \
} while (0)

#define NEED_NEIGHBOUR() do {							\
	const char *__why;							\
	if (find_neighbour(self, &__why))					\
		SKIP(return, "%s", __why);					\
} while (0)

/* One link job of @n copies to the neighbour; returns its timeline point or 0. */
static inline uint64_t link_job(struct __test_metadata *_metadata, FIXTURE_DATA(link) *self,
			 struct drm_tern_copy *c, uint32_t n)
{
	struct drm_tern_submit s = {
		.copies = (uintptr_t)c,
		.copy_count = n,
		.flags = DRM_TERN_SUBMIT_LINK,
		.peer_fd = self->peer_fd,
		.link_port = self->port,
		.out_syncobj = self->tl,
		.out_point = self->point + 1,
	};
	int ret = tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &s);

	EXPECT_EQ(0, ret) TH_LOG("link SUBMIT on port %u: %s", self->port, strerror(-ret));
	if (ret)
		return 0;
	EXPECT_NE(0, s.job_id);
	return ++self->point;
}

static inline void set_link(FIXTURE_DATA(link) *self, uint32_t port, int peer_fd)
{
	self->submit.flags = DRM_TERN_SUBMIT_LINK;
	self->submit.link_port = port;
	self->submit.peer_fd = peer_fd;
}

#endif /* TERN_LINK_TEST_H */
