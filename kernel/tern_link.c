// SPDX-License-Identifier: GPL-2.0
/*
 * tern chip-to-chip links (TERN_CAP_LINKS): the chip's place in its fabric
 * and its link ports, read at probe; link state changes (TERN_INT_LINK on
 * the error vector), logged and sent to user space as uevents; the sysfs
 * link groups, debugfs "links" and LINK_QUERY; and the link side of
 * SUBMIT: the peer file of a DRM_TERN_SUBMIT_LINK job and its LINK_COPY
 * descriptors. Documentation/driver.rst ("Links") and uapi.rst describe
 * the policy: a job writes only into buffers and the context of a file the
 * same process opened on the chip at the other end of the port.
 */

#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/kobject.h>
#include <linux/lockdep.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>

#include "tern_gem.h"
#include "tern_hw.h"
#include "tern_job.h"
#include "tern_link.h"
#include "tern_mmu.h"
#include "tern_queue.h"
#include "tern_telem.h"
#include "tern_trace.h"

/*
 * Every bound tern device (its struct tern_links), so that the chip at the
 * other end of a port can be matched to its device: same fabric_id, and
 * chip_id the port's PEER_CHIP. Devices join at probe and leave at unbind
 * (devm), so every device on the list is bound and its pdev valid.
 */
static DEFINE_MUTEX(tern_link_devices_lock);	/* Protects tern_link_devices */
static LIST_HEAD(tern_link_devices);

#define TERN_COPY_REDUCE	(DRM_TERN_COPY_REDUCE_SUM | DRM_TERN_COPY_REDUCE_MAX)

static u32 tern_link_rd(struct tern_device *tdev, u32 port, u32 reg)
{
	return tern_rd32(tdev, TERN_REG_LINK(port) + reg);
}

/* A 64-bit counter as LO/HI registers: read HI again until it held still. */
static u64 tern_link_rd64(struct tern_device *tdev, u32 port, u32 lo_reg)
{
	u32 hi, lo, hi2 = tern_link_rd(tdev, port, lo_reg + 4);

	do {
		hi = hi2;
		lo = tern_link_rd(tdev, port, lo_reg);
		hi2 = tern_link_rd(tdev, port, lo_reg + 4);
	} while (hi != hi2);
	return (u64)hi << 32 | lo;
}

/* STATE of @port; a value the driver does not know counts as down. */
static u32 tern_link_state(struct tern_device *tdev, u32 port)
{
	u32 state = tern_link_rd(tdev, port, TERN_L_STATE);

	return state <= TERN_LINK_STATE_DOWN ? state : TERN_LINK_STATE_DOWN;
}

static const char *tern_link_state_name(u32 state)
{
	switch (state) {
	case TERN_LINK_STATE_NONE:
		return "none";
	case TERN_LINK_STATE_UP:
		return "up";
	default:
		return "down";
	}
}

/*
 * The PCI address of the bound device of chip @peer_chip in the fabric of
 * @tdev, into @buf (empty if there is none).
 */
static void tern_link_peer_device(struct tern_device *tdev, u32 peer_chip, char *buf,
				  size_t len)
{
	struct tern_links *links;

	buf[0] = '\0';
	if (!tdev->hw.fabric_id || peer_chip == TERN_LINK_NO_PEER)
		return;
	mutex_lock(&tern_link_devices_lock);
	list_for_each_entry(links, &tern_link_devices, node) {
		struct tern_device *other = links->tdev;

		if (other->hw.fabric_id == tdev->hw.fabric_id && other->hw.chip_id == peer_chip) {
			strscpy(buf, pci_name(other->pdev), len);
			break;
		}
	}
	mutex_unlock(&tern_link_devices_lock);
}

/*
 * The chip's place in its fabric. Values that do not hold together leave
 * the chip outside any fabric: its ports can then never be used.
 */
static void tern_link_read_topology(struct tern_device *tdev)
{
	struct tern_hw_info *hw = &tdev->hw;

	hw->chip_id = tern_rd32(tdev, TERN_REG_CHIP_ID);
	hw->fabric_id = tern_rd32(tdev, TERN_REG_FABRIC_ID);
	hw->fabric_chips = tern_rd32(tdev, TERN_REG_FABRIC_CHIPS);
	hw->num_links = tern_rd32(tdev, TERN_REG_NUM_LINKS);

	if (hw->num_links > TERN_MAX_LINKS) {
		drm_warn(&tdev->drm, "chip reports %u link ports, using the first %u\n",
			 hw->num_links, TERN_MAX_LINKS);
		hw->num_links = TERN_MAX_LINKS;
	}
	if (hw->fabric_id && (!hw->fabric_chips || hw->fabric_chips > TERN_MAX_CHIPS ||
			      hw->chip_id >= hw->fabric_chips)) {
		drm_warn(&tdev->drm, "chip reports chip %u of %u in fabric 0x%x: not in a fabric\n",
			 hw->chip_id, hw->fabric_chips, hw->fabric_id);
		hw->fabric_id = 0;
	}
	if (!hw->fabric_id) {
		hw->chip_id = 0;
		hw->fabric_chips = 0;
	}
}

static void tern_link_devices_remove(void *arg)
{
	struct tern_links *links = arg;

	mutex_lock(&tern_link_devices_lock);
	list_del(&links->node);
	mutex_unlock(&tern_link_devices_lock);
}

/*
 * Record every port's state and peer as the baseline and clear the
 * LINK_EVENTS the chip latched: at probe, and after a recovery's reset
 * (tern_link_restore()), where changes during the reset are not events.
 */
static void tern_link_read_ports(struct tern_device *tdev)
{
	struct tern_links *links = tdev->links;
	u32 p, n = tdev->hw.num_links;

	mutex_lock(&links->lock);
	for (p = 0; p < n; p++) {
		links->ports[p].state = tern_link_state(tdev, p);
		links->ports[p].peer_chip = tern_link_rd(tdev, p, TERN_L_PEER_CHIP);
	}
	mutex_unlock(&links->lock);
	if (n)
		tern_wr32(tdev, TERN_REG_LINK_EVENTS, GENMASK(n - 1, 0));
}

/* After a device reset (tern_recover.c): the link ports' baseline again. */
void tern_link_restore(struct tern_device *tdev)
{
	tern_link_read_ports(tdev);
}

/**
 * tern_link_init() - read the chip's fabric and link ports (probe)
 * @tdev: device, reset, before its interrupts are requested
 *
 * A chip without TERN_CAP_LINKS has no ports (num_links 0) and no fabric.
 * The states read here are the baseline: link changes before the probe
 * are not events.
 *
 * Return: 0 or -errno.
 */
int tern_link_init(struct tern_device *tdev)
{
	struct tern_hw_info *hw = &tdev->hw;
	struct tern_links *links;
	int ret;

	links = drmm_kzalloc(&tdev->drm, sizeof(*links), GFP_KERNEL);
	if (!links)
		return -ENOMEM;
	links->tdev = tdev;
	ret = drmm_mutex_init(&tdev->drm, &links->lock);
	if (ret)
		return ret;

	if (hw->caps & TERN_CAP_LINKS)
		tern_link_read_topology(tdev);
	if (hw->fabric_id)
		drm_info(&tdev->drm, "chip %u of %u in fabric 0x%x, %u link ports\n",
			 hw->chip_id, hw->fabric_chips, hw->fabric_id, hw->num_links);

	tdev->links = links;
	tern_link_read_ports(tdev);

	mutex_lock(&tern_link_devices_lock);
	list_add_tail(&links->node, &tern_link_devices);
	mutex_unlock(&tern_link_devices_lock);
	return devm_add_action_or_reset(&tdev->pdev->dev, tern_link_devices_remove, links);
}

/* Port @p changed state: record, log, and tell user space with a uevent. */
static void tern_link_port_event(struct tern_device *tdev, u32 p)
{
	struct tern_link_port *port = &tdev->links->ports[p];
	char env_port[32], env_state[32], env_peer[40];
	char env_event[] = "TERN_EVENT=link";
	char *envp[5] = { env_event, env_port, env_state, env_peer, NULL };
	u32 state, peer;

	state = tern_link_state(tdev, p);
	peer = tern_link_rd(tdev, p, TERN_L_PEER_CHIP);

	mutex_lock(&tdev->links->lock);
	port->state = state;
	port->peer_chip = peer;
	port->events++;
	mutex_unlock(&tdev->links->lock);
	trace_tern_link_state(tern_minor(tdev), p, state);

	if (state == TERN_LINK_STATE_NONE)
		drm_info(&tdev->drm, "link %u unconnected\n", p);
	else if (state == TERN_LINK_STATE_UP)
		drm_info(&tdev->drm, "link %u (to chip %u) up\n", p, peer);
	else
		drm_warn(&tdev->drm, "link %u (to chip %u) down\n", p, peer);

	snprintf(env_port, sizeof(env_port), "TERN_LINK_PORT=%u", p);
	snprintf(env_state, sizeof(env_state), "TERN_LINK_STATE=%s", tern_link_state_name(state));
	if (peer == TERN_LINK_NO_PEER)
		snprintf(env_peer, sizeof(env_peer), "TERN_LINK_PEER_CHIP=none");
	else
		snprintf(env_peer, sizeof(env_peer), "TERN_LINK_PEER_CHIP=%u", peer);
	kobject_uevent_env(&tdev->pdev->dev.kobj, KOBJ_CHANGE, envp);
}

/**
 * tern_link_irq() - the link part of the error interrupt thread
 * @tdev: device
 *
 * Acknowledges TERN_INT_LINK, then the LINK_EVENTS bits it handles: a port
 * that changes again after its bit is read latches again and interrupts
 * again.
 */
void tern_link_irq(struct tern_device *tdev)
{
	unsigned long events;
	u32 p;

	if (!tdev->hw.num_links)
		return;

	tern_wr32(tdev, TERN_REG_INT_STATUS, TERN_INT_LINK);
	events = tern_rd32(tdev, TERN_REG_LINK_EVENTS) & GENMASK(tdev->hw.num_links - 1, 0);
	if (!events)
		return;
	tern_wr32(tdev, TERN_REG_LINK_EVENTS, events);

	for_each_set_bit(p, &events, tdev->hw.num_links)
		tern_link_port_event(tdev, p);
}

/* ---- sysfs: link0..linkN-1 on the PCI device ---- */

enum tern_link_field {
	TERN_LF_STATE,
	TERN_LF_PEER_CHIP,
	TERN_LF_PEER_PORT,
	TERN_LF_PEER_DEVICE,
	TERN_LF_BANDWIDTH,
	TERN_LF_LATENCY,
	TERN_LF_TX_BYTES,
	TERN_LF_RX_BYTES,
	TERN_LF_BUSY_NS,
	TERN_LF_ERRORS,
	TERN_LF_EVENTS,
	TERN_LF_COUNT
};

static const char * const tern_link_field_names[TERN_LF_COUNT] = {
	[TERN_LF_STATE] = "state",
	[TERN_LF_PEER_CHIP] = "peer_chip",
	[TERN_LF_PEER_PORT] = "peer_port",
	[TERN_LF_PEER_DEVICE] = "peer_device",
	[TERN_LF_BANDWIDTH] = "bandwidth_mbps",
	[TERN_LF_LATENCY] = "latency_ns",
	[TERN_LF_TX_BYTES] = "tx_bytes",
	[TERN_LF_RX_BYTES] = "rx_bytes",
	[TERN_LF_BUSY_NS] = "busy_ns",
	[TERN_LF_ERRORS] = "errors",
	[TERN_LF_EVENTS] = "events",
};

struct tern_link_attr {
	struct device_attribute dattr;
	u32 port;
	u32 field;			/* enum tern_link_field */
};

/* The attributes of one port's group, made at probe. */
struct tern_link_sysfs {
	struct tern_link_attr attrs[TERN_LF_COUNT];
	struct attribute *list[TERN_LF_COUNT + 1];
	struct attribute_group group;
	char name[16];
};

static ssize_t tern_link_field_show(struct tern_device *tdev, u32 p, u32 field, char *buf)
{
	char peer_dev[32];
	u64 events;
	u32 v;

	switch (field) {
	case TERN_LF_STATE:
		return sysfs_emit(buf, "%s\n", tern_link_state_name(tern_link_state(tdev, p)));
	case TERN_LF_PEER_CHIP:
	case TERN_LF_PEER_PORT:
		v = tern_link_rd(tdev, p, TERN_L_PEER_CHIP);
		if (v == TERN_LINK_NO_PEER)
			return sysfs_emit(buf, "none\n");
		if (field == TERN_LF_PEER_PORT)
			v = tern_link_rd(tdev, p, TERN_L_PEER_PORT);
		return sysfs_emit(buf, "%u\n", v);
	case TERN_LF_PEER_DEVICE:
		tern_link_peer_device(tdev, tern_link_rd(tdev, p, TERN_L_PEER_CHIP), peer_dev,
				      sizeof(peer_dev));
		return sysfs_emit(buf, "%s\n", peer_dev);
	case TERN_LF_BANDWIDTH:
		return sysfs_emit(buf, "%u\n", tern_link_rd(tdev, p, TERN_L_BANDWIDTH));
	case TERN_LF_LATENCY:
		return sysfs_emit(buf, "%u\n", tern_link_rd(tdev, p, TERN_L_LATENCY));
	case TERN_LF_TX_BYTES:
		return sysfs_emit(buf, "%llu\n", tern_link_rd64(tdev, p, TERN_L_TX_BYTES_LO));
	case TERN_LF_RX_BYTES:
		return sysfs_emit(buf, "%llu\n", tern_link_rd64(tdev, p, TERN_L_RX_BYTES_LO));
	case TERN_LF_BUSY_NS:
		return sysfs_emit(buf, "%llu\n", tern_link_rd64(tdev, p, TERN_L_BUSY_NS_LO));
	case TERN_LF_ERRORS:
		return sysfs_emit(buf, "%u\n", tern_link_rd(tdev, p, TERN_L_ERRORS));
	case TERN_LF_EVENTS:
		mutex_lock(&tdev->links->lock);
		events = tdev->links->ports[p].events;
		mutex_unlock(&tdev->links->lock);
		return sysfs_emit(buf, "%llu\n", events);
	default:
		return -EINVAL;
	}
}

static ssize_t tern_link_attr_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tern_link_attr *la = container_of(attr, struct tern_link_attr, dattr);
	struct tern_device *tdev = dev_get_drvdata(dev);
	ssize_t ret;
	int idx;

	/* Registers are read live: not once the device is gone. */
	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	ret = tern_link_field_show(tdev, la->port, la->field, buf);
	drm_dev_exit(idx);
	return ret;
}

/**
 * tern_link_sysfs_init() - the sysfs groups link0..link<num_links - 1>
 * @tdev: device
 *
 * Each group is a directory of the PCI device, beside the "tern" group.
 *
 * Return: 0 or -errno.
 */
int tern_link_sysfs_init(struct tern_device *tdev)
{
	struct device *dev = &tdev->pdev->dev;
	struct tern_link_sysfs *s;
	u32 p, f;
	int ret;

	if (!tdev->hw.num_links)
		return 0;
	s = devm_kcalloc(dev, tdev->hw.num_links, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;

	for (p = 0; p < tdev->hw.num_links; p++, s++) {
		for (f = 0; f < TERN_LF_COUNT; f++) {
			struct tern_link_attr *la = &s->attrs[f];

			sysfs_attr_init(&la->dattr.attr);
			la->dattr.attr.name = tern_link_field_names[f];
			la->dattr.attr.mode = 0444;
			la->dattr.show = tern_link_attr_show;
			la->port = p;
			la->field = f;
			s->list[f] = &la->dattr.attr;
		}
		snprintf(s->name, sizeof(s->name), "link%u", p);
		s->group.name = s->name;
		s->group.attrs = s->list;
		ret = devm_device_add_group(dev, &s->group);
		if (ret) {
			drm_err(&tdev->drm, "cannot create the sysfs group link%u: %d\n", p, ret);
			return ret;
		}
	}
	return 0;
}

/* debugfs "links": the fabric, then one line per port. */
void tern_link_show(struct tern_device *tdev, struct seq_file *m)
{
	struct tern_hw_info *hw = &tdev->hw;
	struct tern_link_port port;
	char peer_dev[32];
	u32 p, peer;

	if (!hw->fabric_id)
		seq_printf(m, "not in a fabric, %u link ports\n", hw->num_links);
	else
		seq_printf(m, "chip %u of fabric 0x%x (%u chips), %u link ports\n", hw->chip_id,
			   hw->fabric_id, hw->fabric_chips, hw->num_links);
	if (!hw->num_links)
		return;

	seq_puts(m, "port state peer_chip peer_port peer_device    MB/s    ns         tx_bytes         rx_bytes          busy_ns errors events jobs_failed\n");
	for (p = 0; p < hw->num_links; p++) {
		mutex_lock(&tdev->links->lock);
		port = tdev->links->ports[p];
		mutex_unlock(&tdev->links->lock);

		peer = tern_link_rd(tdev, p, TERN_L_PEER_CHIP);
		tern_link_peer_device(tdev, peer, peer_dev, sizeof(peer_dev));
		if (peer == TERN_LINK_NO_PEER)
			seq_printf(m, "%4u %-5s %9s %9s %-12s", p,
				   tern_link_state_name(tern_link_state(tdev, p)), "-", "-", "-");
		else
			seq_printf(m, "%4u %-5s %9u %9u %-12s", p,
				   tern_link_state_name(tern_link_state(tdev, p)), peer,
				   tern_link_rd(tdev, p, TERN_L_PEER_PORT),
				   peer_dev[0] ? peer_dev : "-");
		seq_printf(m, " %7u %5u %16llu %16llu %16llu %6u %6llu %11llu\n",
			   tern_link_rd(tdev, p, TERN_L_BANDWIDTH),
			   tern_link_rd(tdev, p, TERN_L_LATENCY),
			   tern_link_rd64(tdev, p, TERN_L_TX_BYTES_LO),
			   tern_link_rd64(tdev, p, TERN_L_RX_BYTES_LO),
			   tern_link_rd64(tdev, p, TERN_L_BUSY_NS_LO),
			   tern_link_rd(tdev, p, TERN_L_ERRORS), port.events, port.jobs_failed);
	}
}

/* ---- DRM_IOCTL_TERN_LINK_QUERY ---- */

int tern_ioctl_link_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tern_device *tdev = to_tern_device(drm);
	struct drm_tern_link_query *args = data;
	int idx, ret = 0;
	u32 p, i;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->flags || args->port >= tdev->hw.num_links) {
		ret = -EINVAL;
		goto out_exit;
	}
	for (i = 0; i < ARRAY_SIZE(args->reserved); i++) {
		if (args->reserved[i]) {
			ret = -EINVAL;
			goto out_exit;
		}
	}

	/* The TERN_LINK_STATE_* values are the DRM_TERN_LINK_* ones. */
	p = args->port;
	args->state = tern_link_state(tdev, p);
	args->peer_chip = tern_link_rd(tdev, p, TERN_L_PEER_CHIP);
	args->peer_port = args->peer_chip == TERN_LINK_NO_PEER ? 0 :
			  tern_link_rd(tdev, p, TERN_L_PEER_PORT);
	args->bandwidth_mbps = tern_link_rd(tdev, p, TERN_L_BANDWIDTH);
	args->latency_ns = tern_link_rd(tdev, p, TERN_L_LATENCY);
	args->errors = tern_link_rd(tdev, p, TERN_L_ERRORS);
	args->tx_bytes = tern_link_rd64(tdev, p, TERN_L_TX_BYTES_LO);
	args->rx_bytes = tern_link_rd64(tdev, p, TERN_L_RX_BYTES_LO);
	args->busy_ns = tern_link_rd64(tdev, p, TERN_L_BUSY_NS_LO);

out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* ---- SUBMIT with DRM_TERN_SUBMIT_LINK ---- */

/**
 * tern_link_peer_get() - check the peer of a SUBMIT and hold its file
 * @file: the submitting file
 * @args: the SUBMIT; nothing to do without DRM_TERN_SUBMIT_LINK
 * @peer: filled in; release with tern_link_peer_put() before returning
 *	  to user space
 *
 * Return: 0; -EINVAL for a port past num_links; -EBADF for a peer_fd that
 * is not open; -EINVAL for a file that is not a tern device; -EACCES for a
 * file of another process; -ENOLINK for a port with nothing wired to it;
 * -EXDEV for a device that is not the chip at the other end of the port;
 * -ENOLINK when that link is not up.
 */
int tern_link_peer_get(struct drm_file *file, const struct drm_tern_submit *args,
		       struct tern_link_peer *peer)
{
	struct tern_device *tdev = to_tern_device(file->minor->dev);
	struct tern_device *ptdev;
	struct drm_file *pfile;
	u32 port = args->link_port, state, peer_chip;
	int ret;

	*peer = (struct tern_link_peer){ .fd = EMPTY_FD };
	if (!(args->flags & DRM_TERN_SUBMIT_LINK))
		return 0;

	if (port >= tdev->hw.num_links) {
		tern_dbg(tdev, "link port %u: the chip has %u\n", port, tdev->hw.num_links);
		return -EINVAL;
	}
	if (args->peer_fd < 0)
		return -EBADF;
	peer->fd = fdget(args->peer_fd);
	if (fd_empty(peer->fd))
		return -EBADF;
	if (!tern_file_is_tern(fd_file(peer->fd))) {
		tern_dbg(tdev, "peer_fd %d is not a tern device file\n", args->peer_fd);
		ret = -EINVAL;
		goto err_put;
	}
	pfile = fd_file(peer->fd)->private_data;
	ret = tern_file_check_owner(pfile);
	if (ret)
		goto err_put;
	ptdev = to_tern_device(pfile->minor->dev);

	state = tern_link_state(tdev, port);
	peer_chip = tern_link_rd(tdev, port, TERN_L_PEER_CHIP);
	if (state == TERN_LINK_STATE_NONE) {
		tern_dbg(tdev, "link port %u is not connected\n", port);
		ret = -ENOLINK;
	} else if (!tdev->hw.fabric_id || ptdev->hw.fabric_id != tdev->hw.fabric_id ||
		   ptdev->hw.chip_id != peer_chip) {
		tern_dbg(tdev, "link port %u leads to chip %u, peer_fd is chip %u of fabric 0x%x\n",
			 port, peer_chip, ptdev->hw.chip_id, ptdev->hw.fabric_id);
		ret = -EXDEV;
	} else if (state != TERN_LINK_STATE_UP) {
		tern_dbg(tdev, "link port %u (to chip %u) is down\n", port, peer_chip);
		ret = -ENOLINK;
	}
	if (ret)
		goto err_put;

	peer->file = pfile;
	peer->tdev = ptdev;
	peer->port = port;
	return 0;

err_put:
	fdput(peer->fd);
	peer->fd = EMPTY_FD;
	return ret;
}

void tern_link_peer_put(struct tern_link_peer *peer)
{
	fdput(peer->fd);
	peer->fd = EMPTY_FD;
	peer->file = NULL;
}

/*
 * The job keeps the peer's context (its link copies write through it) and
 * the peer's drm_device (which the context and the peer buffers it maps
 * point into) until it retires: never the peer's struct file.
 */
void tern_link_job_init(struct tern_job *job, const struct tern_link_peer *peer)
{
	job->peer_ctx = tern_ctx_get(to_tern_file(peer->file)->ctx);
	job->peer_drm = &peer->tdev->drm;
	drm_dev_get(job->peer_drm);
	job->link_port = peer->port;
}

/* After the job's mappings are put: the peer's ones need the peer device. */
void tern_link_job_release(struct tern_job *job)
{
	tern_ctx_put(job->peer_ctx);
	job->peer_ctx = NULL;
	if (job->peer_drm)
		drm_dev_put(job->peer_drm);
	job->peer_drm = NULL;
}

/**
 * tern_link_copy_flags() - check the reduce flags of copy @i
 * @tdev: device, for debug messages
 * @c: the copy
 * @i: its index in the job
 * @desc_flags: set to its TERN_DESC_F_REDUCE_*, _BF16 and _OPERAND flags
 *
 * Return: 0, -EINVAL for SUM with MAX, BF16 or OPERAND without a reduce,
 * OPERAND with raw VAs, or a size or offset that is not a multiple of the
 * element size; -EOPNOTSUPP for OPERAND on a chip without it.
 */
int tern_link_copy_flags(struct tern_device *tdev, const struct drm_tern_copy *c, u32 i,
			 u32 *desc_flags)
{
	u32 reduce = c->flags & TERN_COPY_REDUCE;
	bool bf16 = c->flags & DRM_TERN_COPY_BF16;
	bool operand = c->flags & DRM_TERN_COPY_OPERAND;
	u64 elem = bf16 ? 2 : 4;

	*desc_flags = 0;
	if (reduce == TERN_COPY_REDUCE || ((bf16 || operand) && !reduce)) {
		tern_dbg(tdev, "copy %u: both reduce flags, or BF16 or OPERAND without one\n", i);
		return -EINVAL;
	}
	if (!reduce)
		return 0;
	if (operand && (c->flags & DRM_TERN_COPY_VA)) {
		tern_dbg(tdev, "copy %u: DRM_TERN_COPY_OPERAND with DRM_TERN_COPY_VA\n", i);
		return -EINVAL;
	}
	if (operand && tdev->hw.version < TERN_VERSION_OPERAND) {
		tern_dbg(tdev, "copy %u: the chip (interface %u.%u) has no reduce with an operand\n",
			 i, tdev->hw.version >> 16, tdev->hw.version & 0xffff);
		return -EOPNOTSUPP;
	}
	if (!IS_ALIGNED(c->size | c->src_offset | c->dst_offset, elem)) {
		tern_dbg(tdev, "copy %u: size or offset not a multiple of %llu bytes\n", i, elem);
		return -EINVAL;
	}
	*desc_flags = reduce == DRM_TERN_COPY_REDUCE_SUM ? TERN_DESC_F_REDUCE_SUM :
		      TERN_DESC_F_REDUCE_MAX;
	if (bf16)
		*desc_flags |= TERN_DESC_F_BF16;
	if (operand)
		*desc_flags |= TERN_DESC_F_OPERAND;
	return 0;
}

/**
 * tern_link_copy() - build the LINK_COPY descriptor of copy @i
 * @job: the job, with its peer context (tern_link_job_init())
 * @file: the submitting file: the source buffer's
 * @peer: the peer; @peer->file NULL when the job has no DRM_TERN_SUBMIT_LINK
 * @c: a copy with DRM_TERN_COPY_LINK
 * @i: its index
 * @d: the descriptor; its flags are already set
 *
 * The source is local, as for a COPY; the destination is a device buffer
 * of the peer file, at its VA in the peer file's context (or, with
 * DRM_TERN_COPY_VA, a raw VA of that context, checked by the peer's MMU).
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int tern_link_copy(struct tern_job *job, struct drm_file *file,
		   const struct tern_link_peer *peer, const struct drm_tern_copy *c, u32 i,
		   struct tern_dma_desc *d)
{
	struct tern_device *tdev = job->queue->tdev;
	struct tern_mapping *src, *dst;
	u64 src_end, dst_end;
	int ret;

	if (!peer->file) {
		tern_dbg(tdev, "copy %u: DRM_TERN_COPY_LINK without DRM_TERN_SUBMIT_LINK\n", i);
		return -EINVAL;
	}

	if (c->flags & DRM_TERN_COPY_VA) {
		if (c->src_handle || c->dst_handle) {
			tern_dbg(tdev, "copy %u: DRM_TERN_COPY_VA with a handle\n", i);
			return -EINVAL;
		}
		d->src = c->src_offset;
		d->dst = c->dst_offset;
	} else {
		ret = tern_job_add_map(job, job->ctx, file, c->src_handle, &src);
		if (!ret)
			ret = tern_job_add_map(job, job->peer_ctx, peer->file, c->dst_handle, &dst);
		if (ret) {
			tern_dbg(tdev, "copy %u: no local buffer %u or peer buffer %u\n", i,
				 c->src_handle, c->dst_handle);
			return ret;
		}
		if (!tern_bo_is_device(tern_mapping_bo(dst))) {
			tern_dbg(tdev, "copy %u: peer buffer %u is not a device buffer\n", i,
				 c->dst_handle);
			return -EINVAL;
		}
		if (tern_job_check_range(c->src_offset, c->size, src, &src_end) ||
		    tern_job_check_range(c->dst_offset, c->size, dst, &dst_end)) {
			tern_dbg(tdev, "copy %u: range outside its buffer\n", i);
			return -EINVAL;
		}
		d->src = tern_mapping_va(src) + c->src_offset;
		d->dst = tern_mapping_va(dst) + c->dst_offset;
		ret = tern_job_copy_operand(job, job->peer_ctx, peer->file, c, i, d);
		if (ret)
			return ret;
	}
	d->opcode = TERN_DESC_OP_LINK_COPY;
	d->link = TERN_LINK_DESC(peer->port, tern_ctx_id(job->peer_ctx));
	return 0;
}

/*
 * The queue halted on @job with TERN_ERR_LINK_DOWN at ring index @head:
 * count it on its port and say so. Called under the queue's job_lock.
 */
void tern_link_job_failed(struct tern_job *job, u32 head)
{
	struct tern_queue *q = job->queue;
	struct tern_device *tdev = q->tdev;
	u32 port = job->link_port, peer = TERN_LINK_NO_PEER;

	lockdep_assert_held(&q->job_lock);

	if (job->peer_ctx && port < tdev->hw.num_links) {
		mutex_lock(&tdev->links->lock);
		tdev->links->ports[port].jobs_failed++;
		peer = tdev->links->ports[port].peer_chip;
		mutex_unlock(&tdev->links->lock);
		tern_err_ratelimited(tdev, "queue %u: job %llu failed at ring index %u: link %u (to chip %u) is down; the queue continues with the next job\n",
				     q->index, job->id, head, port, peer);
		return;
	}
	tern_err_ratelimited(tdev, "queue %u: job %llu failed at ring index %u: link down; the queue continues with the next job\n",
			     q->index, job->id, head);
}
