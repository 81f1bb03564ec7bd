// SPDX-License-Identifier: MIT
/*
 * libtern program cache: tern_kernel_cached() builds and loads a program
 * once per key and device, so relaunching a shape costs no rebuild.
 *
 * Each device has a hash table of entries keyed by the caller's bytes
 * (FNV-1a), each holding one kernel. The kernels whose images are in HBM
 * ("loaded") are on an LRU list; when more than KC_MAX_LOADED are, the
 * least recently used ones that no launch holds are unloaded: their HBM
 * is freed, but the entry, the kernel and its host copy of the image stay,
 * so a pointer tern_kernel_cached() returned stays valid until
 * tern_device_close(), and a cache hit or a launch of an unloaded kernel
 * puts its image into HBM again without calling the build function. A
 * load that finds the HBM full unloads every kernel it may and tries again.
 *
 * One mutex per cache protects the table, the list and the loading and
 * unloading of its kernels. A build runs without it, with the entry marked
 * as building: another thread asking for the same key waits for that
 * build instead of building again; other keys go on meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "tern_program.h"

/* Most kernels of one device's cache in HBM at once. */
#define KC_MAX_LOADED		256
#define KC_KEY_MAX		256
#define KC_BUCKETS_MIN		64

struct kc_entry {
	struct kc_entry *hnext;		/* bucket chain */
	struct kc_entry *lprev, *lnext;	/* LRU list, most recent first */
	bool on_lru;			/* loaded, so on the list */
	bool building;			/* a thread builds it; k is NULL */
	uint64_t hash;
	struct tern_kernel *k;
	size_t key_size;
	unsigned char key[];
};

struct tern_kcache {
	pthread_mutex_t lock;		/* protects all below and cached kernels' loading */
	pthread_cond_t built;		/* a build ended */
	struct kc_entry **buckets;
	unsigned int nbuckets;		/* a power of two */
	unsigned int count;		/* entries */
	struct kc_entry *lru_head, *lru_tail;
	unsigned int loaded;		/* entries on the LRU list */
};

static uint64_t fnv1a(const void *key, size_t size)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct kc_entry *kc_find(struct tern_kcache *kc, uint64_t hash, const void *key,
				size_t key_size)
{
	struct kc_entry *e;

	for (e = kc->buckets[hash & (kc->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->key_size == key_size && !memcmp(e->key, key, key_size))
			return e;
	return NULL;
}

/* Doubles the table when it gets crowded; without memory it just stays. */
static void kc_grow(struct tern_kcache *kc)
{
	unsigned int n = kc->nbuckets * 2;
	struct kc_entry **b, *e, *next;

	if (kc->count <= 2 * kc->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (unsigned int i = 0; i < kc->nbuckets; i++) {
		for (e = kc->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(kc->buckets);
	kc->buckets = b;
	kc->nbuckets = n;
}

static void kc_remove(struct tern_kcache *kc, struct kc_entry *e)
{
	struct kc_entry **pp = &kc->buckets[e->hash & (kc->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	kc->count--;
}

static void lru_unlink(struct tern_kcache *kc, struct kc_entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		kc->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		kc->lru_tail = e->lprev;
	e->on_lru = false;
	kc->loaded--;
}

static void lru_push(struct tern_kcache *kc, struct kc_entry *e)
{
	e->lprev = NULL;
	e->lnext = kc->lru_head;
	if (kc->lru_head)
		kc->lru_head->lprev = e;
	else
		kc->lru_tail = e;
	kc->lru_head = e;
	e->on_lru = true;
	kc->loaded++;
}

/*
 * Unloads the least recently used kernels, but @keep and those a launch
 * holds, until at most @target are loaded.
 */
static void kc_evict(struct tern_kcache *kc, unsigned int target, const struct kc_entry *keep)
{
	struct kc_entry *e, *prev;

	for (e = kc->lru_tail; e && kc->loaded > target; e = prev) {
		prev = e->lprev;
		if (e != keep && tern_kernel_unload(e->k))
			lru_unlink(kc, e);
	}
}

/* Loads the image of cached kernel @k (entry @e), with kc->lock held. */
static int kc_upload(struct tern_kcache *kc, struct kc_entry *e)
{
	int ret = tern_kernel_upload(e->k);

	if (ret == -ENOSPC) {
		kc_evict(kc, 0, e);
		ret = tern_kernel_upload(e->k);
	}
	if (ret)
		return ret;
	lru_push(kc, e);
	kc_evict(kc, KC_MAX_LOADED, e);
	return 0;
}

int tern_kcache_create(struct tern_device *dev)
{
	struct tern_kcache *kc = calloc(1, sizeof(*kc));

	if (kc)
		kc->buckets = calloc(KC_BUCKETS_MIN, sizeof(*kc->buckets));
	if (!kc || !kc->buckets) {
		free(kc);
		return tern_fail(-ENOMEM, "tern_device_open: out of memory");
	}
	kc->nbuckets = KC_BUCKETS_MIN;
	pthread_mutex_init(&kc->lock, NULL);
	pthread_cond_init(&kc->built, NULL);
	dev->kcache = kc;
	return 0;
}

void tern_kcache_destroy(struct tern_device *dev)
{
	struct tern_kcache *kc = dev->kcache;
	struct kc_entry *e, *next;

	if (!kc)
		return;
	for (unsigned int i = 0; i < kc->nbuckets; i++) {
		for (e = kc->buckets[i]; e; e = next) {
			next = e->hnext;
			free(e);
		}
	}
	free(kc->buckets);
	pthread_cond_destroy(&kc->built);
	pthread_mutex_destroy(&kc->lock);
	free(kc);
	dev->kcache = NULL;
}

int tern_kcache_reload(struct tern_kernel *k)
{
	struct tern_kcache *kc = k->dev->kcache;
	int ret = 0;

	pthread_mutex_lock(&kc->lock);
	if (!k->bo)
		ret = kc_upload(kc, k->entry);
	pthread_mutex_unlock(&kc->lock);
	return ret;
}

/* A new builder for @dev's SBUF, @build's program, finished and loaded. */
static int kc_build(struct tern_device *dev, tern_build_fn build, void *arg,
		    struct tern_kernel **kp)
{
	struct tern_kcache *kc = dev->kcache;
	struct tern_program *prog;
	const void *image;
	size_t size;
	int ret;

	ret = tern_prog_create((uint32_t)dev->hw.sbuf_size, &prog);
	if (ret)
		return ret;
	ret = build(prog, arg);
	if (!ret)
		ret = tern_prog_finish(prog, &image, &size);
	if (!ret) {
		ret = tern_kernel_create(dev, image, size, true, kp);
		if (ret == -ENOSPC) {
			pthread_mutex_lock(&kc->lock);
			kc_evict(kc, 0, NULL);
			pthread_mutex_unlock(&kc->lock);
			ret = tern_kernel_create(dev, image, size, true, kp);
		}
	}
	tern_prog_free(prog);
	return ret;
}

TERN_EXPORT int tern_kernel_cached(struct tern_device *dev, const void *key, size_t key_size,
				   tern_build_fn build, void *arg, struct tern_kernel **kp)
{
	struct tern_kcache *kc;
	struct tern_kernel *k = NULL;
	struct kc_entry *e;
	uint64_t hash;
	int ret = 0;

	if (!kp)
		return tern_fail(-EINVAL, "tern_kernel_cached: kp is NULL");
	*kp = NULL;
	if (!dev || !key || !build)
		return tern_fail(-EINVAL, "tern_kernel_cached: NULL %s",
				 !dev ? "device" : !key ? "key" : "build function");
	if (!key_size || key_size > KC_KEY_MAX)
		return tern_fail(-EINVAL, "tern_kernel_cached: key of %zu bytes, not 1..%u", key_size,
				 KC_KEY_MAX);
	kc = dev->kcache;
	hash = fnv1a(key, key_size);

	pthread_mutex_lock(&kc->lock);
	while ((e = kc_find(kc, hash, key, key_size)) && e->building)
		pthread_cond_wait(&kc->built, &kc->lock);
	if (e) {
		/* A hit: loaded again if it was unloaded, and now the most recent. */
		if (!e->on_lru) {
			ret = kc_upload(kc, e);
		} else {
			lru_unlink(kc, e);
			lru_push(kc, e);
		}
		pthread_mutex_unlock(&kc->lock);
		if (!ret)
			*kp = e->k;
		return ret;
	}

	e = calloc(1, sizeof(*e) + key_size);
	if (!e) {
		pthread_mutex_unlock(&kc->lock);
		return tern_fail(-ENOMEM, "tern_kernel_cached: out of memory");
	}
	e->hash = hash;
	e->key_size = key_size;
	memcpy(e->key, key, key_size);
	e->building = true;
	e->hnext = kc->buckets[hash & (kc->nbuckets - 1)];
	kc->buckets[hash & (kc->nbuckets - 1)] = e;
	kc->count++;
	kc_grow(kc);
	pthread_mutex_unlock(&kc->lock);

	ret = kc_build(dev, build, arg, &k);

	pthread_mutex_lock(&kc->lock);
	if (ret) {
		kc_remove(kc, e);
		free(e);
	} else {
		e->k = k;
		k->entry = e;
		e->building = false;
		lru_push(kc, e);
		kc_evict(kc, KC_MAX_LOADED, e);
	}
	pthread_cond_broadcast(&kc->built);
	pthread_mutex_unlock(&kc->lock);
	if (!ret)
		*kp = k;
	return ret;
}
