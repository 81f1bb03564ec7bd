// SPDX-License-Identifier: MIT
/*
 * tern_link: chip-to-chip links through the raw UAPI.
 *
 * On any VM: GET_INFO, sysfs and LINK_QUERY describe the chip's fabric and
 * ports consistently. (tern_link_reduce.c: reduce on arrival and with an
 * operand, locally and over a link; tern_link_errors.c: SUBMIT rejects
 * every malformed link field, peer, reduce flag and operand.)
 *
 * In a fabric (tests/vm/run-vm.sh fabric, or any VM whose chips are wired):
 * the neighbours are found through LINK_QUERY and their /dev/accel nodes by
 * chip id; a link copy lands in the peer's device buffer (read back through
 * the peer's file), through handles and through DRM_TERN_COPY_VA; a chip
 * that is not at the other end of the port is refused with -EXDEV; and a
 * link taken down through the host (QMP relay) refuses new jobs with
 * -ENOLINK, fails the jobs in flight with DRM_TERN_JOB_LINK_DOWN, moves the
 * sysfs state, events and errors, sends a uevent, and works again once it
 * is back up. Without a fabric or a relay those cases SKIP, saying why.
 */
#include "tern_link_test.h"

/* ---- topology: GET_INFO, sysfs, LINK_QUERY ---- */

TEST_F(link, info_consistent)
{
	const struct drm_tern_info *i = &self->info;

	EXPECT_LE(3, i->uapi_minor);	/* links came in UAPI 1.3 */
	EXPECT_GE(TERN_MAX_LINKS, i->num_links);
	EXPECT_EQ(!!(i->caps & TERN_CAP_LINKS), !!i->num_links);
	if (!i->fabric_id) {
		EXPECT_EQ(0, i->chip_id);
		EXPECT_EQ(0, i->fabric_chips);
	} else {
		EXPECT_LT(i->chip_id, i->fabric_chips);
		EXPECT_GE(TERN_MAX_CHIPS, i->fabric_chips);
	}
	EXPECT_EQ(0, i->reserved[0]);
	EXPECT_EQ(0, i->reserved[1]);
}

TEST_F(link, info_matches_sysfs)
{
	char buf[64];
	uint32_t p;

	EXPECT_EQ(self->info.chip_id, tern_sysfs_u64(self->minor, "chip_id"));
	EXPECT_EQ(self->info.fabric_id, tern_sysfs_u64(self->minor, "fabric_id"));
	EXPECT_EQ(self->info.fabric_chips, tern_sysfs_u64(self->minor, "fabric_chips"));
	EXPECT_EQ(self->info.num_links, tern_sysfs_u64(self->minor, "num_links"));
	/* One group per port, none past the last. */
	for (p = 0; p < self->info.num_links; p++)
		EXPECT_EQ(0, link_sysfs(self->minor, p, "state", buf, sizeof(buf)))
			TH_LOG("link%u/state missing", p);
	EXPECT_EQ(-ENOENT, link_sysfs(self->minor, self->info.num_links, "state", buf,
				      sizeof(buf)));
}

TEST_F(link, query_every_port)
{
	static const char *const names[] = { "none", "up", "down" };
	static const char attrs[][16] = {
		"bandwidth_mbps", "latency_ns", "tx_bytes", "rx_bytes", "busy_ns", "errors",
		"events",
	};
	struct drm_tern_link_query q;
	char buf[64];
	uint32_t p, a;

	NEED_LINKS();
	for (p = 0; p < self->info.num_links; p++) {
		ASSERT_EQ(0, link_query(self->fd, p, &q));
		EXPECT_EQ(p, q.port);
		ASSERT_GE(DRM_TERN_LINK_DOWN, q.state);
		EXPECT_EQ(0, q.reserved[0]);
		EXPECT_EQ(0, q.reserved[1]);
		ASSERT_EQ(0, link_sysfs(self->minor, p, "state", buf, sizeof(buf)));
		EXPECT_STREQ(names[q.state], buf);
		ASSERT_EQ(0, link_sysfs(self->minor, p, "peer_chip", buf, sizeof(buf)));
		if (q.state == DRM_TERN_LINK_NONE) {
			EXPECT_EQ(DRM_TERN_LINK_NO_PEER, q.peer_chip);
			EXPECT_STREQ("none", buf);
		} else {
			/* Wired ports exist only in a fabric, to one of its chips. */
			EXPECT_NE(0, self->info.fabric_id);
			EXPECT_LT(q.peer_chip, self->info.fabric_chips);
			EXPECT_GT(TERN_MAX_LINKS, q.peer_port);
			EXPECT_EQ(q.peer_chip, strtoul(buf, NULL, 10));
			EXPECT_LT(0, q.bandwidth_mbps);
		}
		for (a = 0; a < ARRAY_SIZE(attrs); a++)
			EXPECT_NE(UINT64_MAX, link_sysfs_u64(self, p, attrs[a]))
				TH_LOG("link%u/%s missing or not decimal", p, attrs[a]);
		EXPECT_EQ(q.bandwidth_mbps, link_sysfs_u64(self, p, "bandwidth_mbps"));
		EXPECT_EQ(q.latency_ns, link_sysfs_u64(self, p, "latency_ns"));
		/* Counters only grow: sysfs is read after the query. */
		EXPECT_LE(q.tx_bytes, link_sysfs_u64(self, p, "tx_bytes"));
		EXPECT_LE(q.errors, link_sysfs_u64(self, p, "errors"));
		ASSERT_EQ(0, link_sysfs(self->minor, p, "peer_device", buf, sizeof(buf)));
		if (q.state == DRM_TERN_LINK_NONE)
			EXPECT_STREQ("", buf);
	}
}

/* debugfs "links": the fabric line, a header and one line per port. */
TEST_F(link, debugfs_links)
{
	char path[96], buf[8192], *p;
	unsigned int lines = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%u/links", self->minor);
	ASSERT_EQ(0, tern_read_file(path, buf, sizeof(buf))) TH_LOG("%s", path);
	for (p = buf; *p; p++)
		lines += *p == '\n';
	/* tern_read_file() strips the last newline. */
	lines++;
	if (self->info.fabric_id) {
		snprintf(path, sizeof(path), "chip %u of fabric", self->info.chip_id);
		EXPECT_EQ(0, strncmp(buf, path, strlen(path))) TH_LOG("%s", buf);
	} else {
		EXPECT_EQ(0, strncmp(buf, "not in a fabric", 15)) TH_LOG("%s", buf);
	}
	EXPECT_EQ(self->info.num_links ? self->info.num_links + 2 : 1, lines)
		TH_LOG("%s", buf);
}

TEST_F(link, query_bad_port)
{
	struct drm_tern_link_query q;

	EXPECT_ERRNO(EINVAL, link_query(self->fd, self->info.num_links, &q));
	EXPECT_ERRNO(EINVAL, link_query(self->fd, TERN_MAX_LINKS, &q));
	EXPECT_ERRNO(EINVAL, link_query(self->fd, UINT32_MAX, &q));
}

TEST_F(link, query_flags)
{
	struct drm_tern_link_query q = { .port = 0, .flags = 1 };

	NEED_LINKS();
	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
	q.flags = 0x80000000u;
	EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
	q.flags = 0;
	EXPECT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
}

TEST_F(link, query_reserved)
{
	struct drm_tern_link_query q;
	unsigned int i;

	NEED_LINKS();
	for (i = 0; i < ARRAY_SIZE(q.reserved); i++) {
		memset(&q, 0, sizeof(q));
		q.reserved[i] = 1;
		EXPECT_ERRNO(EINVAL, tern_ioctl(self->fd, DRM_IOCTL_TERN_LINK_QUERY, &q));
	}
}

/* Both ends of every wired port name each other, and peer_device names the peer. */
TEST_F(link, topology_symmetric)
{
	struct drm_tern_link_query q, back;
	char buf[64], pci[32];
	unsigned int minor;
	uint32_t p;
	int pfd;

	NEED_LINKS();
	if (!self->info.fabric_id)
		SKIP(return, "the chip is not in a fabric");
	for (p = 0; p < self->info.num_links; p++) {
		ASSERT_EQ(0, link_query(self->fd, p, &q));
		if (q.state == DRM_TERN_LINK_NONE)
			continue;
		pfd = open_chip(q.peer_chip);
		ASSERT_LE(0, pfd) TH_LOG("chip %u has no device node", q.peer_chip);
		ASSERT_EQ(0, link_query(pfd, q.peer_port, &back));
		EXPECT_EQ(self->info.chip_id, back.peer_chip);
		EXPECT_EQ(p, back.peer_port);
		EXPECT_EQ(q.state, back.state);
		close(pfd);
		ASSERT_LE(0, tern_vm_chip_index(q.peer_chip, &minor));
		tern_pci_address(minor, pci, sizeof(pci));
		ASSERT_EQ(0, link_sysfs(self->minor, p, "peer_device", buf, sizeof(buf)));
		EXPECT_STREQ(pci, buf);
	}
}

/* ---- in a fabric: link copies ---- */

TEST_F(link, copy_to_neighbour)
{
	const uint64_t size = 300001, dst_off = 4097;
	struct drm_tern_link_query before, after, pbefore, pafter;
	struct drm_tern_copy c[2];
	uint8_t *src, *ldev, *peer, *want;
	uint32_t hs, hl, hp;

	NEED_NEIGHBOUR();
	src = tern_bo_new(_metadata, self->fd, 1 << 20, DRM_TERN_BO_HOST, &hs);
	ldev = tern_bo_new(_metadata, self->fd, 1 << 20, DRM_TERN_BO_DEVICE, &hl);
	peer = tern_bo_new(_metadata, self->peer_fd, 2 << 20, DRM_TERN_BO_DEVICE, &hp);
	want = malloc(2 << 20);
	ASSERT_NE(NULL, want);
	tern_fill(src, 1 << 20, tern_seed());
	tern_fill(ldev, 1 << 20, tern_seed() ^ 77);
	memset(peer, 0x5a, 2 << 20);
	memcpy(want, peer, 2 << 20);
	memcpy(want + dst_off, src + 3, size);
	memcpy(want + (1 << 20), ldev, 1 << 20);

	ASSERT_EQ(0, link_query(self->fd, self->port, &before));
	ASSERT_EQ(0, link_query(self->peer_fd, self->q.peer_port, &pbefore));
	/* From a host buffer, and from a device buffer, in one job. */
	tern_copy_set(&c[0], hp, dst_off, hs, 3, size);
	c[0].flags = DRM_TERN_COPY_LINK;
	tern_copy_set(&c[1], hp, 1 << 20, hl, 0, 1 << 20);
	c[1].flags = DRM_TERN_COPY_LINK;
	ASSERT_NE(0, link_job(_metadata, self, c, 2));
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);

	EXPECT_EQ(-1, tern_first_diff(peer, want, 2 << 20))
		TH_LOG("peer buffer differs at byte %lld",
		       (long long)tern_first_diff(peer, want, 2 << 20));
	ASSERT_EQ(0, link_query(self->fd, self->port, &after));
	ASSERT_EQ(0, link_query(self->peer_fd, self->q.peer_port, &pafter));
	EXPECT_LE(before.tx_bytes + size + (1 << 20), after.tx_bytes);
	EXPECT_LE(pbefore.rx_bytes + size + (1 << 20), pafter.rx_bytes);
	EXPECT_LT(before.busy_ns, after.busy_ns);
	free(want);
}

TEST_F(link, copy_va_to_neighbour)
{
	const uint64_t size = 65536 + 100;
	struct drm_tern_copy c;
	uint8_t *src, *peer;
	uint64_t src_va, dst_va;
	uint32_t hs, hp;

	NEED_NEIGHBOUR();
	src = tern_bo_new(_metadata, self->fd, 1 << 20, DRM_TERN_BO_HOST, &hs);
	peer = tern_bo_new(_metadata, self->peer_fd, 1 << 20, DRM_TERN_BO_DEVICE, &hp);
	tern_fill(src, 1 << 20, tern_seed());
	memset(peer, 0, 1 << 20);
	src_va = tern_bo_va(self->fd, hs);
	dst_va = tern_bo_va(self->peer_fd, hp);
	ASSERT_NE(0, src_va);
	ASSERT_NE(0, dst_va);

	tern_copy_va_set(&c, dst_va + 8192, src_va + 16, size);
	c.flags |= DRM_TERN_COPY_LINK;
	ASSERT_NE(0, link_job(_metadata, self, &c, 1));
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
	EXPECT_EQ(-1, tern_first_diff(peer + 8192, src + 16, size));
	EXPECT_EQ(-1, tern_first_not(peer, 0, 8192));
	EXPECT_EQ(-1, tern_first_not(peer + 8192 + size, 0, (1 << 20) - 8192 - size));
}

/*
 * The job keeps the peer's buffer and address space: closing the peer
 * buffer's handle and the peer file right after SUBMIT is safe.
 */
TEST_F(link, job_outlives_peer_file)
{
	struct drm_tern_copy c;
	uint32_t hs, hp;
	int pfd;

	NEED_NEIGHBOUR();
	pfd = open_chip(self->q.peer_chip);
	ASSERT_LE(0, pfd);
	tern_bo_new(_metadata, self->fd, BIG, DRM_TERN_BO_HOST, &hs);
	ASSERT_EQ(0, tern_bo_create(pfd, BIG, DRM_TERN_BO_DEVICE, &hp));
	tern_copy_set(&c, hp, 0, hs, 0, BIG);
	c.flags = DRM_TERN_COPY_LINK;
	close(self->peer_fd);
	self->peer_fd = pfd;
	ASSERT_NE(0, link_job(_metadata, self, &c, 1));
	EXPECT_EQ(0, tern_bo_close(pfd, hp));
	close(pfd);
	self->peer_fd = -1;
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
}

/*
 * A DRM_TERN_COPY_VA link copy to a peer VA the peer file does not map
 * (the guard page after its buffer): the peer's MMU refuses it, and the
 * job ends with an MMU fault at that VA, a write.
 */
TEST_F(link, copy_va_peer_fault)
{
	struct drm_tern_copy c;
	struct drm_tern_wait w;
	uint64_t src_va, dst_va;
	uint32_t hs, hp;

	NEED_NEIGHBOUR();
	ASSERT_EQ(0, tern_bo_create(self->fd, BO_SIZE, DRM_TERN_BO_HOST, &hs));
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hp));
	src_va = tern_bo_va(self->fd, hs);
	dst_va = tern_bo_va(self->peer_fd, hp);
	ASSERT_NE(0, dst_va);
	tern_copy_va_set(&c, dst_va + BO_SIZE, src_va, 4096);
	c.flags |= DRM_TERN_COPY_LINK;
	ASSERT_NE(0, link_job(_metadata, self, &c, 1));
	ASSERT_EQ(0, tern_wait_result(self->fd, self->tl, self->point, TERN_WAIT_LONG, &w));
	EXPECT_EQ((uint32_t)DRM_TERN_JOB_MMU_FAULT, w.status) TH_LOG("code %#x", w.error_code);
	EXPECT_EQ(TERN_FAULT_UNMAPPED,
		  (w.error_code & TERN_FAULT_REASON_MASK) >> TERN_FAULT_REASON_SHIFT);
	EXPECT_NE(0, w.error_code & TERN_FAULT_WRITE);
	EXPECT_EQ(dst_va + BO_SIZE, w.fault_addr);
	/* The queue goes on. */
	tern_copy_va_set(&c, dst_va, src_va, 4096);
	c.flags |= DRM_TERN_COPY_LINK;
	ASSERT_NE(0, link_job(_metadata, self, &c, 1));
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
}

/* ---- in a fabric: rejected link copies ---- */

TEST_F(link, link_copy_bad_peer_buffers)
{
	uint32_t hp_host, hp_dev;

	NEED_NEIGHBOUR();
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_HOST, &hp_host));
	ASSERT_EQ(0, tern_bo_create(self->peer_fd, BO_SIZE, DRM_TERN_BO_DEVICE, &hp_dev));
	set_link(self, self->port, self->peer_fd);
	self->copy.flags = DRM_TERN_COPY_LINK;

	/*
	 * A valid control first, on its own timeline (submit_rejected()
	 * checks the fixture's has no point): the rejections below are the
	 * fields'.
	 */
	self->copy.dst_handle = hp_dev;
	self->submit.out_syncobj = tern_timeline(_metadata, self->fd);
	ASSERT_EQ(0, tern_ioctl(self->fd, DRM_IOCTL_TERN_SUBMIT, &self->submit));
	tern_wait_ok(_metadata, self->fd, self->submit.out_syncobj, 1);
	self->submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	self->submit.out_syncobj = self->tl;
	self->submit.job_id = 0;

	/* A host buffer of the peer. */
	self->copy.dst_handle = hp_host;
	submit_rejected(_metadata, self, EINVAL);
	/* No such handle in the peer file (the local file's device BO handle). */
	self->copy.dst_handle = hp_dev + 100;
	submit_rejected(_metadata, self, ENOENT);
	/* Range past the peer buffer. */
	self->copy.dst_handle = hp_dev;
	self->copy.dst_offset = BO_SIZE - 100;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = UINT64_MAX - 10;
	submit_rejected(_metadata, self, EINVAL);
	self->copy.dst_offset = 0;
	/* Bad local source. */
	self->copy.src_handle = 0xffff;
	submit_rejected(_metadata, self, ENOENT);
	self->copy.src_handle = self->hs;
	/* COPY_VA with a handle. */
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_VA;
	submit_rejected(_metadata, self, EINVAL);
	/* Reduce misaligned over the link. */
	self->copy.flags = DRM_TERN_COPY_LINK | DRM_TERN_COPY_REDUCE_SUM;
	self->copy.dst_offset = 2;
	submit_rejected(_metadata, self, EINVAL);
}

/* A chip that is not at the other end of the port: -EXDEV. */
TEST_F(link, submit_link_not_the_neighbour)
{
	uint32_t c;
	int other = -1, own;

	NEED_NEIGHBOUR();
	for (c = 0; c < self->info.fabric_chips && other < 0; c++) {
		if (c == self->info.chip_id || c == self->q.peer_chip)
			continue;
		other = open_chip(c);
	}
	if (other >= 0) {
		set_link(self, self->port, other);
		submit_rejected(_metadata, self, EXDEV);
		close(other);
	}
	/* The chip's own device, as a second file. */
	if (self->q.peer_chip != self->info.chip_id) {
		own = open_index(_metadata, 0);
		set_link(self, self->port, own);
		submit_rejected(_metadata, self, EXDEV);
		close(own);
	}
	if (other < 0)
		SKIP(return, "the fabric has no chip besides this one and its neighbour");
}

/* ---- in a fabric: a link going down and coming back ---- */

static int wait_state(int fd, uint32_t port, uint32_t state)
{
	struct drm_tern_link_query q;
	int i;

	for (i = 0; i < 500; i++) {
		if (!link_query(fd, port, &q) && q.state == state)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int wait_sysfs_at_least(FIXTURE_DATA(link) *self, uint32_t port, const char *attr,
			       uint64_t min)
{
	uint64_t v;
	int i;

	for (i = 0; i < 500; i++) {
		v = link_sysfs_u64(self, port, attr);
		if (v != UINT64_MAX && v >= min)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * Each job gets a binary syncobj of its own: a timeline drops signalled
 * points, and WAIT on a dropped point past the last 256 the driver keeps
 * reports an older point's status.
 */
struct flood {
	int fd, peer_fd;
	uint32_t port;
	uint32_t *syncobjs;	/* FLOOD_MAX binary syncobjs */
	struct drm_tern_copy copy;
	uint64_t submitted;	/* points 1..submitted were queued */
	int stop;
	int err;		/* the SUBMIT error that ended it */
};

#define FLOOD_MAX	1500

/* Keeps the ring full of link jobs until SUBMIT refuses one (or stop). */
static void *flood_main(void *arg)
{
	struct flood *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE) && f->submitted < FLOOD_MAX) {
		struct drm_tern_submit s = {
			.copies = (uintptr_t)&f->copy,
			.copy_count = 1,
			.flags = DRM_TERN_SUBMIT_LINK,
			.peer_fd = f->peer_fd,
			.link_port = f->port,
			.out_syncobj = f->syncobjs[f->submitted],
		};
		int ret = tern_ioctl(f->fd, DRM_IOCTL_TERN_SUBMIT, &s);

		if (ret) {
			f->err = ret;
			break;
		}
		__atomic_store_n(&f->submitted, f->submitted + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Whether a uevent "TERN_EVENT=link" of @pci, @port and @state arrives in 5 s. */
static int uevent_seen(int s, const char *pci, uint32_t port, const char *state)
{
	char buf[4096], want_port[32], want_state[32];
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	double deadline = tern_vm_now() + 5;
	ssize_t n;

	snprintf(want_port, sizeof(want_port), "TERN_LINK_PORT=%u", port);
	snprintf(want_state, sizeof(want_state), "TERN_LINK_STATE=%s", state);
	while (tern_vm_now() < deadline) {
		int event = 0, port_ok = 0, state_ok = 0, dev_ok;
		char *p;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "change@<devpath>", then NUL-separated KEY=value. */
		dev_ok = strstr(buf, pci) != NULL;
		for (p = buf; p < buf + n; p += strlen(p) + 1) {
			event |= !strcmp(p, "TERN_EVENT=link");
			port_ok |= !strcmp(p, want_port);
			state_ok |= !strcmp(p, want_state);
		}
		if (event && port_ok && state_ok && dev_ok)
			return 1;
	}
	return 0;
}

TEST_F_TIMEOUT(link, link_down_and_up, 240)
{
	uint64_t events0, errors0, failed0, p, ok = 0, down = 0, first_down = 0;
	struct drm_tern_copy c;
	struct flood f = { 0 };
	pthread_t thread;
	uint8_t *src, *peer;
	uint32_t hs, hp, tl2;
	int ret, us, i, order_ok = 1;
	char pci[32], buf[32];

	NEED_NEIGHBOUR();
	if (!tern_vm_relay_available())
		SKIP(return, "no QMP relay to take a link down (run in tests/vm/run-vm.sh fabric)");
	tern_pci_address(self->minor, pci, sizeof(pci));
	src = tern_bo_new(_metadata, self->fd, BIG, DRM_TERN_BO_HOST, &hs);
	peer = tern_bo_new(_metadata, self->peer_fd, BIG, DRM_TERN_BO_DEVICE, &hp);
	tern_fill(src, BIG, tern_seed());
	events0 = link_sysfs_u64(self, self->port, "events");
	errors0 = link_sysfs_u64(self, self->port, "errors");
	failed0 = tern_sysfs_u64(self->minor, "jobs_failed");
	us = tern_uevent_open();

	/* Jobs queued and in flight when the link goes down. */
	f.fd = self->fd;
	f.peer_fd = self->peer_fd;
	f.port = self->port;
	f.syncobjs = calloc(FLOOD_MAX, sizeof(*f.syncobjs));
	ASSERT_NE(NULL, f.syncobjs);
	for (i = 0; i < FLOOD_MAX; i++)
		f.syncobjs[i] = tern_timeline(_metadata, self->fd);
	tern_copy_set(&f.copy, hp, 0, hs, 0, BIG);
	f.copy.flags = DRM_TERN_COPY_LINK;
	ASSERT_EQ(0, pthread_create(&thread, NULL, flood_main, &f));
	while (__atomic_load_n(&f.submitted, __ATOMIC_ACQUIRE) < 64 && !f.err)
		usleep(1000);

	self->link_down_set = 1;
	ret = tern_vm_set_link_down(self->info.chip_id, 1u << self->port);
	if (ret) {
		__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
		pthread_join(thread, NULL);
		self->link_down_set = 0;
		if (ret == -ENOSYS || ret == -ENOENT)
			SKIP(return, "relay: %s", tern_vm_error());
		ASSERT_EQ(0, ret) TH_LOG("link-down through the relay: %s", tern_vm_error());
	}
	/* The submitter stops at the first -ENOLINK; give it 60 s at most. */
	for (i = 0; i < 6000 && !__atomic_load_n(&f.err, __ATOMIC_ACQUIRE) &&
	     __atomic_load_n(&f.submitted, __ATOMIC_ACQUIRE) < FLOOD_MAX; i++)
		usleep(10000);
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	EXPECT_EQ(-ENOLINK, f.err) TH_LOG("the submitter ended with %s after %llu jobs",
					  strerror(-f.err), (unsigned long long)f.submitted);

	/* Every job ended OK or LINK_DOWN, and none OK after a LINK_DOWN. */
	for (p = 1; p <= f.submitted; p++) {
		struct drm_tern_wait w;

		ASSERT_EQ(0, tern_wait_result(self->fd, f.syncobjs[p - 1], 0, TERN_WAIT_LONG, &w));
		if (w.status == DRM_TERN_JOB_OK) {
			ok++;
			if (down)
				order_ok = 0;
		} else {
			EXPECT_EQ((uint32_t)DRM_TERN_JOB_LINK_DOWN, w.status)
				TH_LOG("job %llu: status %u code %u", (unsigned long long)p,
				       w.status, w.error_code);
			EXPECT_EQ((uint32_t)TERN_ERR_LINK_DOWN, w.error_code);
			if (!down++)
				first_down = p;
		}
	}
	TH_LOG("%llu jobs: %llu completed, %llu failed with the link down from job %llu",
	       (unsigned long long)f.submitted, (unsigned long long)ok,
	       (unsigned long long)down, (unsigned long long)first_down);
	EXPECT_LT(0, down) TH_LOG("no job was in flight when the link went down");
	EXPECT_TRUE(order_ok) TH_LOG("a job completed after one failed with the link down");
	/* The syncobjs go with the file. */
	free(f.syncobjs);

	/* What the driver and the chip say now. */
	ASSERT_EQ(0, link_sysfs(self->minor, self->port, "state", buf, sizeof(buf)));
	EXPECT_STREQ("down", buf);
	EXPECT_EQ(0, wait_sysfs_at_least(self, self->port, "events", events0 + 1));
	EXPECT_EQ(errors0 + down, link_sysfs_u64(self, self->port, "errors"));
	EXPECT_LE(failed0 + down, tern_sysfs_u64(self->minor, "jobs_failed"));
	if (us >= 0)
		EXPECT_TRUE(uevent_seen(us, pci, self->port, "down"))
			TH_LOG("no uevent TERN_EVENT=link for port %u of %s", self->port, pci);

	/* A new job on the down link is refused up front, and nothing queued. */
	tl2 = tern_timeline(_metadata, self->fd);
	tern_copy_set(&c, hp, 0, hs, 0, 4096);
	c.flags = DRM_TERN_COPY_LINK;
	self->copy = c;
	self->tl = tl2;
	self->submitted0 = tern_sysfs_u64(self->minor, "jobs_submitted");
	self->submit.out_syncobj = tl2;
	set_link(self, self->port, self->peer_fd);
	submit_rejected(_metadata, self, ENOLINK);

	/* Back up: works again, data checked. */
	ASSERT_EQ(0, tern_vm_set_link_down(self->info.chip_id, 0)) TH_LOG("%s", tern_vm_error());
	self->link_down_set = 0;
	ASSERT_EQ(0, wait_state(self->fd, self->port, DRM_TERN_LINK_UP));
	EXPECT_EQ(0, wait_sysfs_at_least(self, self->port, "events", events0 + 2));
	if (us >= 0) {
		EXPECT_TRUE(uevent_seen(us, pci, self->port, "up"));
		close(us);
	}
	memset(peer, 0, BIG);
	self->point = 0;
	tern_copy_set(&c, hp, 0, hs, 0, BIG);
	c.flags = DRM_TERN_COPY_LINK;
	ASSERT_NE(0, link_job(_metadata, self, &c, 1));
	tern_wait_ok(_metadata, self->fd, self->tl, self->point);
	EXPECT_EQ(-1, tern_first_diff(peer, src, BIG));
}

TEST_HARNESS_MAIN
