/* SPDX-License-Identifier: MIT */
/*
 * tern_soak's injector (included by tern_soak.c after the workers' code,
 * whose jobs it reuses as its probes): one fault at a time, of a random
 * enabled kind, on a random device and queue or core, at random moments;
 * for each, a job of its own on that queue or core until the chip's
 * faults-injected shows the fault took effect, then a verified job there:
 * the fault is recovered when that job is right within SK_RECOVER_S.
 */
#ifndef TERN_SOAK_INJECT_H
#define TERN_SOAK_INJECT_H

#define SK_HANG_TIMEOUT_NS	(2000ull * 1000 * 1000)	/* EXEC timeout of the hang probe */

struct sk_idev {
	struct sk_dev d;		/* libtern: the probes */
	int fd;				/* the same file: raw BOs for ECC and the hang */
	uint32_t tl;
	uint64_t point;
	uint32_t ev, eh;		/* ECC victim: a device BO, its host copy */
	uint64_t ev_addr;
	uint8_t *ehp;
	uint32_t prog, status, tin, tout;
	uint64_t psize;
	struct tern_job_status *stp;
};

static int sk_idev_open(struct sk_idev *x, unsigned int index)
{
	struct drm_tern_bo_info bi = { 0 };
	void *p;
	int ret;

	memset(x, 0, sizeof(*x));
	ret = sk_dev_open(&x->d, index);
	if (ret)
		return ret;
	x->fd = tern_device_fd(x->d.dev);
	if (drmSyncobjCreate(x->fd, 0, &x->tl))
		return -errno;
	if ((ret = tern_bo_create(x->fd, SK_ECC_BYTES, DRM_TERN_BO_DEVICE, &x->ev)) ||
	    (ret = tern_bo_info(x->fd, x->ev, &bi)) ||
	    (ret = tern_bo_create(x->fd, SK_ECC_BYTES, DRM_TERN_BO_HOST, &x->eh)))
		return ret;
	x->ev_addr = bi.device_addr;
	p = tern_bo_mmap(x->fd, x->eh, SK_ECC_BYTES);
	if (p == MAP_FAILED)
		return -errno;
	x->ehp = p;
	if (!x->d.ncores)
		return 0;
	if ((ret = tern_bo_create(x->fd, 4096, DRM_TERN_BO_DEVICE, &x->prog)) ||
	    (ret = tern_bo_create(x->fd, 4096, DRM_TERN_BO_HOST, &x->status)) ||
	    (ret = tern_bo_create(x->fd, CP_BYTES, DRM_TERN_BO_DEVICE, &x->tin)) ||
	    (ret = tern_bo_create(x->fd, CP_BYTES, DRM_TERN_BO_DEVICE, &x->tout)))
		return ret;
	p = tern_bo_mmap(x->fd, x->prog, 4096);
	if (p == MAP_FAILED)
		return -errno;
	x->psize = (copy_prog_init(p, 1) + 63) & ~63ull;
	munmap(p, 4096);
	p = tern_bo_mmap(x->fd, x->status, 4096);
	if (p == MAP_FAILED)
		return -errno;
	x->stp = p;
	return 0;
}

/* A raw copy on @queue, waited for: 0 and the job's status and device error code. */
static int sk_raw_copy(struct sk_idev *x, uint32_t queue, uint32_t dst, uint32_t src,
		       uint64_t size, uint32_t *status, uint32_t *code)
{
	int ret = tern_submit_copy(x->fd, queue, dst, 0, src, 0, size, x->tl, ++x->point);

	if (ret)
		return ret;
	return tern_wait(x->fd, x->tl, x->point, SK_WAIT_NS, status, code);
}

/* The chip's faults-injected; on a relay error the last value (logged). */
static uint64_t sk_fi(unsigned int chip, uint64_t last)
{
	uint64_t v;

	if (tern_inject_faults(chip, &v)) {
		fprintf(stderr, "# injector: faults-injected of tern%u: %s\n", chip, tern_vm_error());
		return last;
	}
	return v;
}

/*
 * A verified copy job of the injector on @queue (every device queue when
 * -1), submitted again as long as injected faults explain its failures and
 * @deadline is not past. 0 when verified; -ETIMEDOUT at the deadline; -1
 * when lost (counted).
 */
static int sk_probe_copy(struct sk_idev *x, int queue, uint64_t deadline)
{
	struct sk_dev *d = &x->d;
	uint64_t seed = st_now_ns(), resets0;
	int q = queue, ret, attempt = 0;

	for (;;) {
		if (queue < 0)
			q = (int)(seed % d->nq);
		resets0 = sk_resets(d->minor);
		tern_fill(d->hsp, SK_PROBE_BYTES, seed + attempt);
		memset(d->hdp, 0, SK_PROBE_BYTES);
		SK_ADD(probes, 1);
		ret = sk_copy1(d, q, d->da, 0, d->hs, 0, SK_PROBE_BYTES);
		if (!ret)
			ret = sk_copy1(d, q, d->hd, 0, d->da, 0, SK_PROBE_BYTES);
		if (!ret) {
			if (tern_first_diff(d->hsp, d->hdp, SK_PROBE_BYTES) >= 0) {
				sk_lost(&sk->lost_wrong, "injector", "probe copy on device %u queue %d: wrong data",
					d->index, q);
				return -1;
			}
			SK_ADD(probes_ok, 1);
			return 0;
		}
		/* attempts are bounded by the deadline, not SK_ATTEMPTS */
		if (!sk_after_failure(d, "injector", "probe copy", ret, q, -1, resets0, 0))
			return -1;
		if (st_now_ns() > deadline)
			return -ETIMEDOUT;
		attempt++;
		seed++;
	}
}

/* A verified op of the injector on @core (tern_soak.c's op jobs), until @deadline. */
static int sk_probe_op(struct sk_idev *x, struct rng *r, int core, uint64_t deadline)
{
	int ok;

	do {
		SK_ADD(probes, 1);
		ok = sk_op_job(r, &x->d, "injector", SK_MAX_WORKERS - 1, core);
		if (ok == 1) {
			SK_ADD(probes_ok, 1);
			return 0;
		}
		if (ok == 0)
			return -1;
	} while (st_now_ns() < deadline);	/* refused: another op */
	return -ETIMEDOUT;
}

/*
 * The hang: no worker launches on @core while the injector's own launch
 * (EXEC with a short timeout) goes first into the armed hang; workers may
 * queue behind it again at once (their launches then end RESET when the
 * core is reset).
 */
static int sk_hang(struct sk_idev *x, unsigned int chip, unsigned int core, uint64_t deadline)
{
	unsigned int i = x->d.index;
	uint32_t status = 0, code = 0;
	uint64_t resets0 = sk_resets(x->d.minor);
	struct copy_exec ce;
	int ret;

	copy_exec_init(&ce, core, x->prog, x->psize, x->tin, x->tout);
	ce.e.status_handle = x->status;
	ce.e.out_syncobj = x->tl;
	ce.e.timeout_ns = SK_HANG_TIMEOUT_NS;

	__atomic_store_n(&sk->hang_block[i][core], 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sk->core_busy[i][core], __ATOMIC_SEQ_CST)) {
		if (st_now_ns() > deadline) {
			__atomic_store_n(&sk->hang_block[i][core], 0, __ATOMIC_SEQ_CST);
			return -ETIMEDOUT;
		}
		st_sleep_ms(10);
	}
	__atomic_add_fetch(&sk->armed_hang[i][core], 1, __ATOMIC_SEQ_CST);
	ret = tern_inject_core_hang(chip, core);
	if (ret) {
		__atomic_sub_fetch(&sk->armed_hang[i][core], 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&sk->hang_block[i][core], 0, __ATOMIC_SEQ_CST);
		return ret;
	}
	SK_ADD(injected[K_CORE_HANG], 1);
	ce.e.out_point = ++x->point;
	ret = tern_ioctl(x->fd, DRM_IOCTL_TERN_EXEC, &ce.e);
	__atomic_store_n(&sk->hang_block[i][core], 0, __ATOMIC_SEQ_CST);
	if (ret) {
		fprintf(stderr, "# injector: EXEC of the hang probe on device %u core %u: %s\n", i,
			core, strerror(-ret));
		return 0;	/* armed: a worker's launch takes it */
	}
	ret = tern_wait(x->fd, x->tl, x->point, SK_WAIT_NS, &status, &code);
	SK_ADD(probes, 1);
	if (ret) {
		sk_lost(&sk->lost_hung, "injector", "hang probe on device %u core %u: WAIT %s", i,
			core, strerror(-ret));
	} else if (status == DRM_TERN_JOB_TIMEOUT && sk_claim(&sk->armed_hang[i][core])) {
		SK_ADD(failed_by[W_HANG], 1);
	} else if (status == DRM_TERN_JOB_RESET) {
		if (sk_blame(-EAGAIN, i, x->d.minor, -1, (int)core, resets0) == W_RESET)
			SK_ADD(failed_by[W_RESET], 1);
		else
			sk_lost(&sk->lost_unblamed, "injector", "hang probe: RESET without a recovery");
	} else if (status != DRM_TERN_JOB_OK) {
		sk_lost(&sk->lost_unblamed, "injector", "hang probe on device %u core %u: status %u code %u",
			i, core, status, code);
	}
	return 0;
}

/*
 * ECC on the injector's victim BO: a corrected error leaves the read right;
 * an uncorrected one fails the read of its line (TERN_ERR_ECC_UNCORRECTED)
 * until the BO is written again. 0 when the read after it is right.
 */
static int sk_ecc(struct sk_idev *x, struct rng *r, unsigned int chip, bool ue, uint64_t fi0,
		  uint64_t deadline)
{
	uint64_t seed = rng_next(r), off = x->ev_addr + 64 * rng_range(r, 0, SK_ECC_BYTES / 64 - 1);
	uint32_t q = (uint32_t)rng_range(r, 0, x->d.nq - 1), status = 0, code = 0;
	bool seen = false;
	int ret;

	/* the victim holds a known pattern */
	tern_fill(x->ehp, SK_ECC_BYTES, seed);
	ret = sk_raw_copy(x, q, x->ev, x->eh, SK_ECC_BYTES, &status, &code);
	if (ret || status != DRM_TERN_JOB_OK) {
		sk_lost(&sk->lost_unblamed, "injector", "writing the ECC victim on device %u: %s, status %u code %u",
			x->d.index, strerror(-ret), status, code);
		return -1;
	}
	ret = tern_inject_ecc(chip, ue, off);
	if (ret)
		return ret;
	SK_ADD(injected[ue ? K_ECC_UE : K_ECC_CE], 1);
	for (;;) {
		memset(x->ehp, 0, SK_ECC_BYTES);
		SK_ADD(probes, 1);
		ret = sk_raw_copy(x, q, x->eh, x->ev, SK_ECC_BYTES, &status, &code);
		if (ret) {
			sk_lost(&sk->lost_hung, "injector", "ECC read: %s", strerror(-ret));
			return -1;
		}
		if (status == DRM_TERN_JOB_DEVICE_ERROR && ue && code == TERN_ERR_ECC_UNCORRECTED) {
			SK_ADD(failed_by[W_ECC], 1);
			seen = true;
			/* written whole again, the line heals */
			tern_fill(x->ehp, SK_ECC_BYTES, seed);
			ret = sk_raw_copy(x, q, x->ev, x->eh, SK_ECC_BYTES, &status, &code);
			if (ret || status != DRM_TERN_JOB_OK) {
				sk_lost(&sk->lost_unblamed, "injector", "rewriting the ECC victim: status %u code %u",
					status, code);
				return -1;
			}
			continue;
		}
		if (status != DRM_TERN_JOB_OK) {
			sk_lost(&sk->lost_unblamed, "injector", "ECC read on device %u queue %u: status %u code %u",
				x->d.index, q, status, code);
			return -1;
		}
		/* the read was right: with the pattern, and after the fault took effect */
		{
			uint8_t *want = malloc(SK_ECC_BYTES);
			int64_t diff;

			if (!want)
				return -ENOMEM;
			tern_fill(want, SK_ECC_BYTES, seed);
			diff = tern_first_diff(want, x->ehp, SK_ECC_BYTES);
			free(want);
			if (diff >= 0) {
				sk_lost(&sk->lost_wrong, "injector", "ECC victim read OK but byte %lld differs",
					(long long)diff);
				return -1;
			}
		}
		SK_ADD(probes_ok, 1);
		if ((!ue || seen) && sk_fi(chip, fi0) > fi0)
			return 0;
		if (st_now_ns() > deadline)
			return -ETIMEDOUT;
		st_sleep_ms(50);
	}
}

/*
 * Arms a fault that takes effect on its own (@kind with @target), then runs
 * probes on that queue (or core) until faults-injected shows it did.
 */
static int sk_until_effect(struct sk_idev *x, struct rng *r, unsigned int chip, int queue,
			   int core, uint64_t fi0, uint64_t deadline)
{
	for (;;) {
		int ret = core >= 0 ? sk_probe_op(x, r, core, deadline) :
					sk_probe_copy(x, queue, deadline);

		if (ret)
			return ret;
		if (sk_fi(chip, fi0) > fi0)
			return 0;
		if (st_now_ns() > deadline)
			return -ETIMEDOUT;
	}
}

/* One fault of @kind on device @chip; counts it. */
static void sk_inject_one(struct sk_idev *x, struct rng *r, unsigned int chip, int kind)
{
	struct sk_dev *d = &x->d;
	uint64_t t0 = st_now_ns(), deadline = t0 + (uint64_t)SK_RECOVER_S * 1000000000ull;
	uint64_t fi0 = 0, resets0 = sk_resets(d->minor), ms;
	int q = (int)rng_range(r, 0, d->nq - 1), c = d->ncores ? (int)rng_range(r, 0, d->ncores - 1) : -1;
	bool relay_kind = kind != K_RECOVER;
	char aer[16];
	int ret = 0;

	if (relay_kind)
		fi0 = sk_fi(chip, 0);
	if ((kind == K_CORE_HANG || kind == K_LOST_CORE) && c < 0)
		return;
	switch (kind) {
	case K_DMA_ABORT:
		__atomic_add_fetch(&sk->armed_abort[d->index][q], 1, __ATOMIC_SEQ_CST);
		ret = tern_inject_dma_abort(chip, (unsigned int)q);
		if (ret) {
			__atomic_sub_fetch(&sk->armed_abort[d->index][q], 1, __ATOMIC_SEQ_CST);
			break;
		}
		SK_ADD(injected[kind], 1);
		ret = sk_until_effect(x, r, chip, q, -1, fi0, deadline);
		break;
	case K_LOST_QUEUE:
		ret = tern_inject_lost_completion(chip, false, (unsigned int)q);
		if (ret)
			break;
		SK_ADD(injected[kind], 1);
		ret = sk_until_effect(x, r, chip, q, -1, fi0, deadline);
		break;
	case K_LOST_CORE:
		ret = tern_inject_lost_completion(chip, true, (unsigned int)c);
		if (ret)
			break;
		SK_ADD(injected[kind], 1);
		ret = sk_until_effect(x, r, chip, -1, c, fi0, deadline);
		break;
	case K_CORE_HANG:
		ret = sk_hang(x, chip, (unsigned int)c, deadline);
		if (!ret && sk_fi(chip, fi0) == fi0)
			ret = sk_until_effect(x, r, chip, -1, c, fi0, deadline);
		break;
	case K_ECC_CE:
	case K_ECC_UE:
		ret = sk_ecc(x, r, chip, kind == K_ECC_UE, fi0, deadline);
		break;
	case K_RECOVER:
		/* the write returns when the recovery is done */
		if (tern_debugfs_write(d->minor, "recover", "soak", 4) != 4) {
			fprintf(stderr, "# injector: debugfs recover on accel%u: %s\n", d->minor,
				strerror(errno));
			SK_ADD(refused, 1);
			return;
		}
		SK_ADD(injected[kind], 1);
		break;
	default:	/* AER */
		snprintf(aer, sizeof(aer), "%s", kind == K_AER_CE ? "correctable" :
			 kind == K_AER_NF ? "nonfatal" : "fatal");
		ret = tern_inject_aer(chip, aer);
		if (ret)
			break;
		SK_ADD(injected[kind], 1);
		ret = sk_until_effect(x, r, chip, -1, -1, fi0, deadline);
	}
	if (ret == -EIO || ret == -ENOSYS || ret == -EINVAL) {
		/* the relay or QEMU refused it: nothing was armed */
		fprintf(stderr, "# injector: %s on tern%u refused: %s\n", sk_kind_name[kind], chip,
			tern_vm_error());
		SK_ADD(refused, 1);
		return;
	}
	if (!ret) {
		if (relay_kind)
			SK_ADD(took_effect[kind], sk_fi(chip, fi0) - fi0);
		else if (sk_resets(d->minor) > resets0)
			SK_ADD(took_effect[kind], 1);
		/* then a verified job where the fault was */
		if (kind == K_CORE_HANG || kind == K_LOST_CORE)
			ret = sk_probe_op(x, r, c, deadline);
		else
			ret = sk_probe_copy(x, kind == K_DMA_ABORT || kind == K_LOST_QUEUE ? q : -1,
					    deadline);
	}
	ms = (st_now_ns() - t0) / 1000000;
	if (ret) {
		SK_ADD(not_recovered[kind], 1);
		fprintf(stderr, "# injector: %s on device %u (queue %d, core %d): not recovered within %d s (%s)\n",
			sk_kind_name[kind], d->index, q, c, SK_RECOVER_S,
			ret == -1 ? "a result was lost" : strerror(-ret));
		return;
	}
	SK_ADD(recovered[kind], 1);
	SK_ADD(recover_ms_sum, ms);
	if (ms > sk->recover_ms_max)
		sk->recover_ms_max = ms;	/* only the injector writes it */
}

static void __attribute__((noreturn))
sk_injector_main(unsigned int ndev, unsigned int faults, uint64_t seed, uint64_t end_ns)
{
	struct sk_idev x[SK_MAX_DEVS];
	struct rng r = { .s = st_mix(~seed) };
	long gap_ms = st_env_long("TERN_SOAK_FAULT_GAP", 5) * 1000;
	int kinds[K_COUNT], nkinds = 0, ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int k = 0; k < K_COUNT; k++)
		if (faults & (1u << k))
			kinds[nkinds++] = k;
	for (unsigned int i = 0; i < ndev; i++) {
		ret = sk_idev_open(&x[i], i);
		if (ret) {
			fprintf(stderr, "# injector: opening device %u: %s (%s)\n", i,
				strerror(-ret), tern_last_error());
			_exit(2);
		}
	}
	for (;;) {
		uint64_t wait = (uint64_t)rng_range(&r, (uint64_t)gap_ms / 2, (uint64_t)gap_ms * 3 / 2);
		unsigned int chip = (unsigned int)rng_range(&r, 0, ndev - 1);

		if (st_now_ns() + (wait + 5000) * 1000000ull > end_ns)
			break;
		st_sleep_ms(wait);
		sk_inject_one(&x[chip], &r, chip, kinds[rng_range(&r, 0, nkinds - 1)]);
	}
	_exit(0);
}

#endif /* TERN_SOAK_INJECT_H */
