// SPDX-License-Identifier: GPL-2.0
/*
 * tern telemetry.
 *
 * With TERN_CAP_TELEMETRY the chip counts, from its last reset: wall busy
 * time, bytes and descriptors per DMA engine; bytes by direction and
 * descriptors per queue; modeled busy cycles per engine, wall time and
 * launches per core; time, temperature, power and ECC errors. This file
 * shows them in sysfs (dma<e>/, queue<q>/ and core<c>/ groups of the PCI
 * device; the tern/ group's additions are in tern_sysfs.c) and hwmon, and
 * samples the busy counters every TERN_TELEM_SAMPLE_MS into utilisation
 * percentages.
 *
 * Without the capability none of that exists; what the driver counts
 * itself does: the per-file accounting behind fdinfo (engine busy time of
 * the file's jobs, modeled cycles of its launches, memory of its
 * buffers), and the tern/ group's host_used, kernel_used and mmu_faults.
 */

#include <linux/device.h>
#include <linux/hwmon.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "tern_gem.h"
#include "tern_hw.h"
#include "tern_isa.h"
#include "tern_telem.h"

#define TERN_TELEM_SAMPLE_MS	500u

/*
 * struct tern_telem - the counters' state of one device (with the capability)
 */
struct tern_telem {
	struct tern_device *tdev;
	/*
	 * Serialises the reads of LO/HI counter pairs: reading LO latches
	 * the HI of the same value, so two readers must not interleave.
	 */
	spinlock_t reg_lock;

	struct delayed_work sample_work;
	struct mutex sample_lock;	/* Protects everything below */
	u64 last_time;			/* TIME_NS at the last sample */
	u64 *dma_busy;			/* BUSY_NS of each DMA engine then */
	u64 *core_wall;			/* WALL_NS of each core then */
	u32 *dma_util;			/* percent busy over the last interval */
	u32 *core_util;
	u32 util;			/* the busier class (DMA or compute) */
	bool stopped;			/* unbinding: sample no more */
};

/* ---- per-file accounting ---- */

struct tern_client_stats *tern_client_stats_alloc(void)
{
	struct tern_client_stats *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (st)
		kref_init(&st->ref);
	return st;
}

struct tern_client_stats *tern_client_stats_get(struct tern_client_stats *st)
{
	if (st)
		kref_get(&st->ref);
	return st;
}

static void tern_client_stats_release(struct kref *ref)
{
	kfree(container_of(ref, struct tern_client_stats, ref));
}

void tern_client_stats_put(struct tern_client_stats *st)
{
	if (st)
		kref_put(&st->ref, tern_client_stats_release);
}

u64 tern_telem_busy(u64 *busy_until, u64 start_ns, struct tern_client_stats *st,
		    enum tern_engine_class class)
{
	u64 now = ktime_get_ns();
	u64 from = max(start_ns, *busy_until);

	if (st && now > from)
		atomic64_add(now - from, &st->engine_ns[class]);
	*busy_until = now;
	return now;
}

/* drm_driver.show_fdinfo: the DRM core printed drm-driver and drm-client-id. */
void tern_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct tern_client_stats *st = to_tern_file(file)->stats;
	struct drm_memory_stats mem[2] = {};	/* [0] hbm, [1] host */
	struct drm_gem_object *obj;
	int id;

	drm_printf(p, "drm-engine-dma:\t%llu ns\n",
		   (u64)atomic64_read(&st->engine_ns[TERN_CLASS_DMA]));
	drm_printf(p, "drm-engine-compute:\t%llu ns\n",
		   (u64)atomic64_read(&st->engine_ns[TERN_CLASS_COMPUTE]));
	drm_printf(p, "drm-cycles-compute:\t%llu\n", (u64)atomic64_read(&st->cycles));
	drm_printf(p, "drm-maxfreq-compute:\t%llu Hz\n", TERN_COST_CLOCK_HZ);

	/* Each buffer the file has a handle to, once, in its region. */
	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		struct tern_bo *bo = to_tern_bo(obj);
		struct drm_memory_stats *m = &mem[tern_bo_is_device(bo) ? 0 : 1];

		if (drm_gem_object_is_shared_for_memory_stats(obj))
			m->shared += obj->size;
		else
			m->private += obj->size;
		/* HBM is allocated at creation; host pages once pinned or mapped. */
		if (tern_bo_is_device(bo) || READ_ONCE(bo->shmem.pages))
			m->resident += obj->size;
	}
	spin_unlock(&file->table_lock);

	drm_print_memory_stats(p, &mem[0], DRM_GEM_OBJECT_RESIDENT, "hbm");
	drm_print_memory_stats(p, &mem[1], DRM_GEM_OBJECT_RESIDENT, "host");
}

/* ---- counters ---- */

/* A 64-bit counter at @reg (its LO half). */
static u64 tern_telem_rd64(struct tern_telem *t, u32 reg)
{
	u32 lo, hi;

	spin_lock(&t->reg_lock);
	lo = tern_rd32(t->tdev, reg);
	hi = tern_rd32(t->tdev, reg + 4);
	spin_unlock(&t->reg_lock);
	return (u64)hi << 32 | lo;
}

/**
 * tern_telem_global() - a global telemetry counter
 * @tdev: device with TERN_CAP_TELEMETRY
 * @reg: TERN_T_*_LO offset of a 64-bit counter
 *
 * Return: its value, or 0 without the capability.
 */
u64 tern_telem_global(struct tern_device *tdev, u32 reg)
{
	return tdev->telem ? tern_telem_rd64(tdev->telem, TERN_REG_TELEM_BASE + reg) : 0;
}

/* Utilisation of the busier engine class over the last sample, percent. */
u32 tern_telem_utilization(struct tern_device *tdev)
{
	struct tern_telem *t = tdev->telem;
	u32 util;

	if (!t)
		return 0;
	mutex_lock(&t->sample_lock);
	util = t->util;
	mutex_unlock(&t->sample_lock);
	return util;
}

/* Percent of @interval that @busy is; a counter that went back was reset. */
static u32 tern_telem_percent(u64 now, u64 then, u64 interval)
{
	u64 busy = now >= then ? now - then : now;

	if (!interval)
		return 0;
	return min_t(u64, div64_u64(busy * 100, interval), 100);
}

static void tern_telem_sample_locked(struct tern_telem *t)
{
	struct tern_device *tdev = t->tdev;
	u64 now, dt, v, sum;
	u32 i, dma = 0, compute = 0;

	lockdep_assert_held(&t->sample_lock);

	now = tern_telem_rd64(t, TERN_REG_TELEM_BASE + TERN_T_TIME_NS_LO);
	dt = now >= t->last_time ? now - t->last_time : now;
	t->last_time = now;

	for (i = 0, sum = 0; i < tdev->hw.num_dma_engines; i++) {
		v = tern_telem_rd64(t, TERN_REG_TELEM_DMA(i) + TERN_TD_BUSY_NS_LO);
		t->dma_util[i] = tern_telem_percent(v, t->dma_busy[i], dt);
		t->dma_busy[i] = v;
		sum += t->dma_util[i];
	}
	if (tdev->hw.num_dma_engines)
		dma = div_u64(sum, tdev->hw.num_dma_engines);

	for (i = 0, sum = 0; i < tdev->hw.num_cores; i++) {
		v = tern_telem_rd64(t, TERN_REG_TELEM_CORE(i) + TERN_TC_WALL_NS_LO);
		t->core_util[i] = tern_telem_percent(v, t->core_wall[i], dt);
		t->core_wall[i] = v;
		sum += t->core_util[i];
	}
	if (tdev->hw.num_cores)
		compute = div_u64(sum, tdev->hw.num_cores);

	t->util = max(dma, compute);
}

static void tern_telem_sample_work(struct work_struct *work)
{
	struct tern_telem *t = container_of(to_delayed_work(work), struct tern_telem,
					    sample_work);

	mutex_lock(&t->sample_lock);
	if (!t->stopped) {
		tern_telem_sample_locked(t);
		queue_delayed_work(system_wq, &t->sample_work,
				   msecs_to_jiffies(TERN_TELEM_SAMPLE_MS));
	}
	mutex_unlock(&t->sample_lock);
}

/* devm action: the sampler stops before the registers are unmapped. */
static void tern_telem_stop(void *arg)
{
	struct tern_telem *t = arg;

	mutex_lock(&t->sample_lock);
	t->stopped = true;
	mutex_unlock(&t->sample_lock);
	cancel_delayed_work_sync(&t->sample_work);
}

/* ---- sysfs: dma<e>/, queue<q>/, core<c>/ ---- */

enum tern_telem_kind {
	TERN_TK_DMA,
	TERN_TK_QUEUE,
	TERN_TK_CORE,
	TERN_TK_COUNT
};

/* Not a register: the last sample's utilisation. */
#define TERN_TELEM_UTIL		U32_MAX

struct tern_telem_field {
	const char *name;
	u32 reg;		/* offset of the LO half in the block, or TERN_TELEM_UTIL */
};

static const struct tern_telem_field tern_dma_fields[] = {
	{ "busy_ns", TERN_TD_BUSY_NS_LO },
	{ "bytes", TERN_TD_BYTES_LO },
	{ "descs", TERN_TD_DESCS_LO },
	{ "utilization", TERN_TELEM_UTIL },
};

static const struct tern_telem_field tern_queue_fields[] = {
	{ "h2d_bytes", TERN_TQ_H2D_LO },
	{ "d2h_bytes", TERN_TQ_D2H_LO },
	{ "d2d_bytes", TERN_TQ_D2D_LO },
	{ "h2h_bytes", TERN_TQ_H2H_LO },
	{ "link_bytes", TERN_TQ_LINK_LO },
	{ "descs_done", TERN_TQ_DONE_LO },
	{ "descs_failed", TERN_TQ_FAILED_LO },
};

static const struct tern_telem_field tern_core_fields[] = {
	{ "cycles_tensor", TERN_TC_CYCLES_LO(TERN_ENGINE_TENSOR) },
	{ "cycles_vector", TERN_TC_CYCLES_LO(TERN_ENGINE_VECTOR) },
	{ "cycles_scalar", TERN_TC_CYCLES_LO(TERN_ENGINE_SCALAR) },
	{ "cycles_dma", TERN_TC_CYCLES_LO(TERN_ENGINE_DMA) },
	{ "wall_ns", TERN_TC_WALL_NS_LO },
	{ "launches", TERN_TC_DONE_LO },
	{ "launches_failed", TERN_TC_FAILED_LO },
	{ "utilization", TERN_TELEM_UTIL },
};

static const struct {
	const char *prefix;
	const struct tern_telem_field *fields;
	u32 count;
} tern_telem_kinds[TERN_TK_COUNT] = {
	[TERN_TK_DMA] = { "dma", tern_dma_fields, ARRAY_SIZE(tern_dma_fields) },
	[TERN_TK_QUEUE] = { "queue", tern_queue_fields, ARRAY_SIZE(tern_queue_fields) },
	[TERN_TK_CORE] = { "core", tern_core_fields, ARRAY_SIZE(tern_core_fields) },
};

struct tern_telem_attr {
	struct device_attribute dattr;
	u32 kind;		/* enum tern_telem_kind */
	u32 index;		/* engine, queue or core */
	const struct tern_telem_field *field;
};

/* One group's attributes, made at probe. */
struct tern_telem_group {
	struct attribute_group group;
	char name[16];
	struct attribute **list;
	struct tern_telem_attr *attrs;
};

static u32 tern_telem_block(u32 kind, u32 index)
{
	switch (kind) {
	case TERN_TK_DMA:
		return TERN_REG_TELEM_DMA(index);
	case TERN_TK_QUEUE:
		return TERN_REG_TELEM_QUEUE(index);
	default:
		return TERN_REG_TELEM_CORE(index);
	}
}

static ssize_t tern_telem_attr_show(struct device *dev, struct device_attribute *attr,
				    char *buf)
{
	struct tern_telem_attr *ta = container_of(attr, struct tern_telem_attr, dattr);
	struct tern_device *tdev = dev_get_drvdata(dev);
	struct tern_telem *t = tdev->telem;
	u64 v;
	int idx;

	if (ta->field->reg == TERN_TELEM_UTIL) {
		mutex_lock(&t->sample_lock);
		v = ta->kind == TERN_TK_DMA ? t->dma_util[ta->index] : t->core_util[ta->index];
		mutex_unlock(&t->sample_lock);
		return sysfs_emit(buf, "%llu\n", v);
	}
	/* Registers are read live: not once the device is gone. */
	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	v = tern_telem_rd64(t, tern_telem_block(ta->kind, ta->index) + ta->field->reg);
	drm_dev_exit(idx);
	return sysfs_emit(buf, "%llu\n", v);
}

static int tern_telem_add_groups(struct tern_device *tdev, u32 kind, u32 count)
{
	const struct tern_telem_field *fields = tern_telem_kinds[kind].fields;
	u32 nf = tern_telem_kinds[kind].count;
	struct device *dev = &tdev->pdev->dev;
	struct tern_telem_group *g;
	u32 i, f;
	int ret;

	g = devm_kcalloc(dev, count, sizeof(*g), GFP_KERNEL);
	if (!g && count)
		return -ENOMEM;
	for (i = 0; i < count; i++, g++) {
		g->attrs = devm_kcalloc(dev, nf, sizeof(*g->attrs), GFP_KERNEL);
		g->list = devm_kcalloc(dev, nf + 1, sizeof(*g->list), GFP_KERNEL);
		if (!g->attrs || !g->list)
			return -ENOMEM;
		for (f = 0; f < nf; f++) {
			struct tern_telem_attr *ta = &g->attrs[f];

			sysfs_attr_init(&ta->dattr.attr);
			ta->dattr.attr.name = fields[f].name;
			ta->dattr.attr.mode = 0444;
			ta->dattr.show = tern_telem_attr_show;
			ta->kind = kind;
			ta->index = i;
			ta->field = &fields[f];
			g->list[f] = &ta->dattr.attr;
		}
		snprintf(g->name, sizeof(g->name), "%s%u", tern_telem_kinds[kind].prefix, i);
		g->group.name = g->name;
		g->group.attrs = g->list;
		ret = devm_device_add_group(dev, &g->group);
		if (ret) {
			drm_err(&tdev->drm, "cannot create the sysfs group %s: %d\n", g->name, ret);
			return ret;
		}
	}
	return 0;
}

/* ---- hwmon: temp1 (m°C) and power1 (µW) ---- */

static umode_t tern_hwmon_is_visible(const void *data, enum hwmon_sensor_types type,
				     u32 attr, int channel)
{
	return 0444;
}

static int tern_hwmon_read(struct device *dev, enum hwmon_sensor_types type, u32 attr,
			   int channel, long *val)
{
	struct tern_device *tdev = dev_get_drvdata(dev);
	u32 reg;
	int idx;

	if (type == hwmon_temp && attr == hwmon_temp_input)
		reg = TERN_T_TEMP_MC;
	else if (type == hwmon_temp && attr == hwmon_temp_crit)
		reg = TERN_T_TEMP_MAX_MC;
	else if (type == hwmon_power && attr == hwmon_power_input)
		reg = TERN_T_POWER_MW;
	else if (type == hwmon_power && attr == hwmon_power_cap)
		reg = TERN_T_POWER_MAX_MW;
	else
		return -EOPNOTSUPP;

	if (!drm_dev_enter(&tdev->drm, &idx))
		return -ENODEV;
	if (type == hwmon_temp)
		*val = (s32)tern_rd32(tdev, TERN_REG_TELEM_BASE + reg);
	else
		*val = (long)tern_rd32(tdev, TERN_REG_TELEM_BASE + reg) * 1000;
	drm_dev_exit(idx);
	return 0;
}

static const struct hwmon_ops tern_hwmon_ops = {
	.is_visible = tern_hwmon_is_visible,
	.read = tern_hwmon_read,
};

static const struct hwmon_channel_info * const tern_hwmon_channels[] = {
	HWMON_CHANNEL_INFO(temp, HWMON_T_INPUT | HWMON_T_CRIT),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT | HWMON_P_CAP),
	NULL
};

static const struct hwmon_chip_info tern_hwmon_chip = {
	.ops = &tern_hwmon_ops,
	.info = tern_hwmon_channels,
};

/* ---- setup ---- */

static int tern_telem_alloc(struct tern_device *tdev, struct tern_telem *t)
{
	struct device *dev = &tdev->pdev->dev;
	u32 ne = tdev->hw.num_dma_engines, nc = tdev->hw.num_cores;
	int ret;

	t->tdev = tdev;
	spin_lock_init(&t->reg_lock);
	ret = devm_mutex_init(dev, &t->sample_lock);
	if (ret)
		return ret;
	INIT_DELAYED_WORK(&t->sample_work, tern_telem_sample_work);

	/* One entry more: a chip without cores still gets valid arrays. */
	t->dma_busy = devm_kcalloc(dev, ne + 1, sizeof(*t->dma_busy), GFP_KERNEL);
	t->dma_util = devm_kcalloc(dev, ne + 1, sizeof(*t->dma_util), GFP_KERNEL);
	t->core_wall = devm_kcalloc(dev, nc + 1, sizeof(*t->core_wall), GFP_KERNEL);
	t->core_util = devm_kcalloc(dev, nc + 1, sizeof(*t->core_util), GFP_KERNEL);
	if (!t->dma_busy || !t->dma_util || !t->core_wall || !t->core_util)
		return -ENOMEM;
	return 0;
}

/**
 * tern_telem_init() - counters, sampler and hwmon, with TERN_CAP_TELEMETRY
 * @tdev: device, registers mapped and chip reset
 *
 * Without the capability there is nothing to do: tdev->telem stays NULL.
 *
 * Return: 0 or -errno.
 */
int tern_telem_init(struct tern_device *tdev)
{
	struct device *dev = &tdev->pdev->dev;
	struct device *hwmon;
	struct tern_telem *t;
	int ret;

	if (!(tdev->hw.caps & TERN_CAP_TELEMETRY))
		return 0;

	t = devm_kzalloc(dev, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	ret = tern_telem_alloc(tdev, t);
	if (ret)
		return ret;

	/* The first interval starts now. */
	mutex_lock(&t->sample_lock);
	tern_telem_sample_locked(t);
	memset(t->dma_util, 0, tdev->hw.num_dma_engines * sizeof(*t->dma_util));
	memset(t->core_util, 0, tdev->hw.num_cores * sizeof(*t->core_util));
	t->util = 0;
	mutex_unlock(&t->sample_lock);
	tdev->telem = t;

	ret = tern_telem_add_groups(tdev, TERN_TK_DMA, tdev->hw.num_dma_engines);
	if (!ret)
		ret = tern_telem_add_groups(tdev, TERN_TK_QUEUE, tdev->hw.num_queues);
	if (!ret)
		ret = tern_telem_add_groups(tdev, TERN_TK_CORE, tdev->hw.num_cores);
	if (ret)
		return ret;

	hwmon = devm_hwmon_device_register_with_info(dev, DRIVER_NAME, tdev, &tern_hwmon_chip,
						     NULL);
	if (IS_ERR(hwmon)) {
		drm_err(&tdev->drm, "cannot register hwmon: %ld\n", PTR_ERR(hwmon));
		return PTR_ERR(hwmon);
	}

	queue_delayed_work(system_wq, &t->sample_work, msecs_to_jiffies(TERN_TELEM_SAMPLE_MS));
	return devm_add_action_or_reset(dev, tern_telem_stop, t);
}
