/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tern chip-to-chip links: topology, link state, link interrupts, and the
 * link copies of SUBMIT (Documentation/driver.rst, "Links").
 */
#ifndef __TERN_LINK_H__
#define __TERN_LINK_H__

#include <linux/file.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/types.h>

#include "tern_drv.h"

struct drm_device;
struct drm_file;
struct tern_dma_desc;
struct tern_job;

/**
 * struct tern_link_port - what the driver knows of one link port
 *
 * The chip's registers are the truth for state, peer and counters; these
 * are the driver's own records, under &tern_links.lock.
 */
struct tern_link_port {
	u32 state;		/* TERN_LINK_STATE_* last seen (probe, link interrupt) */
	u32 peer_chip;		/* PEER_CHIP last seen */
	u64 events;		/* state changes the driver saw (LINK_EVENTS bits) */
	u64 jobs_failed;	/* jobs that failed with TERN_ERR_LINK_DOWN on the port */
};

/**
 * struct tern_links - the link ports of one chip
 *
 * Allocated at probe (drmm_) for every chip, with or without links.
 */
struct tern_links {
	struct tern_device *tdev;
	/* In tern_link_devices, under tern_link_devices_lock (tern_link.c). */
	struct list_head node;
	/* Protects ports[]. Lock order: a queue's job_lock, then this. */
	struct mutex lock;
	struct tern_link_port ports[TERN_MAX_LINKS];
};

/**
 * struct tern_link_peer - the peer of a link job, while SUBMIT runs
 * @fd: the peer file from fdget(); dropped before SUBMIT returns, so no
 *	job ever holds a struct file of another device (no reference cycle)
 * @file: its drm_file, or NULL for a job without DRM_TERN_SUBMIT_LINK
 * @tdev: its device
 * @port: the local port the job sends through
 */
struct tern_link_peer {
	struct fd fd;
	struct drm_file *file;
	struct tern_device *tdev;
	u32 port;
};

int tern_link_init(struct tern_device *tdev);
void tern_link_irq(struct tern_device *tdev);
void tern_link_restore(struct tern_device *tdev);
int tern_link_sysfs_init(struct tern_device *tdev);
void tern_link_show(struct tern_device *tdev, struct seq_file *m);
int tern_ioctl_link_query(struct drm_device *drm, void *data, struct drm_file *file);

/* SUBMIT: the peer of a DRM_TERN_SUBMIT_LINK job, and its link copies. */
int tern_link_peer_get(struct drm_file *file, const struct drm_tern_submit *args,
		       struct tern_link_peer *peer);
void tern_link_peer_put(struct tern_link_peer *peer);
void tern_link_job_init(struct tern_job *job, const struct tern_link_peer *peer);
void tern_link_job_release(struct tern_job *job);
int tern_link_copy_flags(struct tern_device *tdev, const struct drm_tern_copy *c, u32 i,
			 u32 *desc_flags);
int tern_link_copy(struct tern_job *job, struct drm_file *file,
		   const struct tern_link_peer *peer, const struct drm_tern_copy *c, u32 i,
		   struct tern_dma_desc *d);
void tern_link_job_failed(struct tern_job *job, u32 head);

#endif /* __TERN_LINK_H__ */
