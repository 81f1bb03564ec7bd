// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tern device-model core: the fabric that joins chips by their link ports.
 * A process-global registry of fabrics by name; the wiring of ring, 2D
 * torus and explicit-peer topologies; link state (a port is UP when both
 * chips are present and neither end is forced down), LINK_EVENTS and the
 * link interrupt; the link registers; pacing of link transfers to the
 * modeled bandwidth. The LINK_COPY data path is in tern_link.c. See
 * tern_fabric.h for the locking rules and Documentation/chip/spec.rst.
 */
#include "tern_model_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINK_BANDWIDTH_MAX	1000000u	/* MB/s: 1 TB/s */
#define LINK_LATENCY_MAX	1000000000u	/* ns: 1 s */
#define LINK_PORTS_ALL		((1u << TERN_MAX_LINKS) - 1)

struct tern_fabric {
	struct tern_fabric *next;
	char name[TERN_FABRIC_NAME_MAX];
	unsigned int chips, topology, width;
	unsigned int members;
	struct tern_dev *chip[TERN_MAX_CHIPS];
};

/*
 * fabric_lock protects the registry (fabrics), every fabric's fields and
 * every member's links.users and links.leaving; fabric_cv signals a
 * users count dropping to 0. Taken before any dev->lock, never after.
 */
static pthread_mutex_t fabric_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fabric_cv = PTHREAD_COND_INITIALIZER;
static struct tern_fabric *fabrics;
static uint64_t fabric_serial;

/* ---- configuration ---- */

static unsigned int isqrt(unsigned int n)
{
	unsigned int r = 0;

	while ((r + 1) * (r + 1) <= n)
		r++;
	return r;
}

/* The torus width of a valid torus2d configuration. */
static unsigned int torus_width(const struct tern_link_config *lc)
{
	return lc->width ? lc->width : isqrt(lc->chips);
}

static const char *topology_name(unsigned int t)
{
	switch (t) {
	case TERN_TOPOLOGY_NONE: return "none";
	case TERN_TOPOLOGY_RING: return "ring";
	case TERN_TOPOLOGY_TORUS2D: return "torus2d";
	}
	return "?";
}

bool tern_link_config_check(const struct tern_link_config *lc, char *err,
			    size_t errlen)
{
	unsigned int w;

	if (!lc->fabric || !lc->fabric[0])
		return true;	/* no fabric: the rest is not used */
	if (strlen(lc->fabric) >= TERN_FABRIC_NAME_MAX) {
		snprintf(err, errlen, "fabric name \"%.20s...\" is too long "
			 "(at most %u characters)", lc->fabric,
			 TERN_FABRIC_NAME_MAX - 1);
		return false;
	}
	if (lc->chips < 1 || lc->chips > TERN_MAX_CHIPS) {
		snprintf(err, errlen, "fabric-chips %u is invalid: it must be "
			 "1..%u", lc->chips, TERN_MAX_CHIPS);
		return false;
	}
	if (lc->chip_id >= lc->chips) {
		snprintf(err, errlen, "chip-id %u is invalid: it must be "
			 "below fabric-chips %u", lc->chip_id, lc->chips);
		return false;
	}
	if (lc->topology > TERN_TOPOLOGY_TORUS2D) {
		snprintf(err, errlen, "topology %u is invalid: it must be "
			 "none, ring or torus2d", lc->topology);
		return false;
	}
	if (lc->topology != TERN_TOPOLOGY_TORUS2D && lc->width) {
		snprintf(err, errlen, "torus-width %u is only for topology "
			 "torus2d (topology is %s)", lc->width,
			 topology_name(lc->topology));
		return false;
	}
	if (lc->topology == TERN_TOPOLOGY_TORUS2D) {
		w = torus_width(lc);
		if (!lc->width && w * w != lc->chips) {
			snprintf(err, errlen, "torus-width is needed: "
				 "fabric-chips %u is not a square", lc->chips);
			return false;
		}
		if (w > lc->chips || lc->chips % w) {
			snprintf(err, errlen, "torus-width %u is invalid: it "
				 "must divide fabric-chips %u", w, lc->chips);
			return false;
		}
	}
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		int c = lc->peers[p];

		if (c == -1)
			continue;
		if (lc->topology != TERN_TOPOLOGY_NONE) {
			snprintf(err, errlen, "peers: port %u names chip %d, "
				 "but peers are only for topology none "
				 "(topology is %s)", p, c,
				 topology_name(lc->topology));
			return false;
		}
		if (c < 0 || (unsigned int)c >= lc->chips) {
			snprintf(err, errlen, "peers: port %u names chip %d, "
				 "not a chip of 0..%u or -", p, c,
				 lc->chips - 1);
			return false;
		}
		if ((unsigned int)c == lc->chip_id) {
			snprintf(err, errlen, "peers: port %u names chip %d, "
				 "the chip itself", p, c);
			return false;
		}
	}
	if (lc->bandwidth_mbps > LINK_BANDWIDTH_MAX) {
		snprintf(err, errlen, "link-bandwidth %u is invalid: it must "
			 "be 1..%u MB/s", lc->bandwidth_mbps,
			 LINK_BANDWIDTH_MAX);
		return false;
	}
	if (lc->latency_ns > LINK_LATENCY_MAX) {
		snprintf(err, errlen, "link-latency %u is invalid: it must be "
			 "at most %u ns", lc->latency_ns, LINK_LATENCY_MAX);
		return false;
	}
	return true;
}

/* FNV-1a of the name, never 0. */
static uint32_t fabric_tag(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h ? h : 1;
}

/* Ring and torus wiring: the peer chip and its port of port p, or -1. */
static int wire_fixed(const struct tern_link_config *lc, unsigned int p,
		      unsigned int *pp)
{
	unsigned int n = lc->chips, id = lc->chip_id, w, h, x, y;

	if (lc->topology == TERN_TOPOLOGY_RING) {
		if (n < 2 || p > 1)
			return -1;
		*pp = p ^ 1;
		return (int)(p == 0 ? (id + 1) % n : (id + n - 1) % n);
	}
	w = torus_width(lc);
	h = n / w;
	x = id % w;
	y = id / w;
	*pp = p ^ 1;	/* east-west, south-north */
	switch (p) {
	case 0: return w < 2 ? -1 : (int)(y * w + (x + 1) % w);
	case 1: return w < 2 ? -1 : (int)(y * w + (x + w - 1) % w);
	case 2: return h < 2 ? -1 : (int)(((y + 1) % h) * w + x);
	case 3: return h < 2 ? -1 : (int)(((y + h - 1) % h) * w + x);
	}
	return -1;
}

/* How many of chip a's ports below p (all: p = MAX) name chip b. */
static unsigned int ports_naming(const struct tern_link_config *a,
				 unsigned int p, unsigned int b)
{
	unsigned int k = 0;

	for (unsigned int q = 0; q < p && q < TERN_MAX_LINKS; q++)
		k += a->peers[q] == (int)b;
	return k;
}

/* Explicit peers: port of peer that pairs with port p of d, or NO_PEER. */
static uint32_t explicit_peer_port(const struct tern_dev *d, unsigned int p,
				   const struct tern_dev *peer)
{
	const struct tern_link_config *a = &d->links.cfg, *b = &peer->links.cfg;
	unsigned int k = ports_naming(a, p, (unsigned int)a->peers[p]);

	for (unsigned int q = 0; q < TERN_MAX_LINKS; q++)
		if (b->peers[q] == (int)a->chip_id && k-- == 0)
			return q;
	return TERN_LINK_NO_PEER;
}

/* ---- state (fabric_lock held) ---- */

static uint32_t port_state(struct tern_fabric *fb, struct tern_dev *d,
			   unsigned int p)
{
	struct tern_port *pt = &d->links.port[p];
	struct tern_dev *peer;
	uint32_t pp;

	if (pt->peer_chip < 0)
		return TERN_LINK_STATE_NONE;
	peer = fb->chip[pt->peer_chip];
	if (d->links.cfg.topology == TERN_TOPOLOGY_NONE) {
		pp = peer ? explicit_peer_port(d, p, peer) : TERN_LINK_NO_PEER;
		atomic_store(&pt->peer_port, pp);
	} else {
		pp = atomic_load(&pt->peer_port);
	}
	if (!peer || peer->links.leaving || d->links.leaving ||
	    pp == TERN_LINK_NO_PEER ||
	    (atomic_load(&d->links.down_mask) & (1u << p)) ||
	    (atomic_load(&peer->links.down_mask) & (1u << pp)))
		return TERN_LINK_STATE_DOWN;
	return TERN_LINK_STATE_UP;
}

/* Latch a state change of port p in d's LINK_EVENTS (takes d->lock). */
static void latch_event(struct tern_dev *d, unsigned int p, uint32_t state)
{
	pthread_mutex_lock(&d->lock);
	d->links.events |= 1u << p;
	if (d->ops->trace_link_state)
		d->ops->trace_link_state(d->opaque, p, state);
	tern_send_irq(d, TERN_MSIX_VEC_ERROR, d->int_mask & TERN_INT_LINK);
	pthread_mutex_unlock(&d->lock);
}

/* Recompute every port of the fabric; changes latch, except quiet's. */
static void recompute(struct tern_fabric *fb, struct tern_dev *quiet)
{
	for (unsigned int c = 0; c < fb->chips; c++) {
		struct tern_dev *d = fb->chip[c];

		if (!d)
			continue;
		for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
			uint32_t s = port_state(fb, d, p);
			uint32_t old = atomic_exchange(&d->links.port[p].state,
						       s);

			if (old != s && d != quiet)
				latch_event(d, p, s);
		}
	}
}

/* ---- joining and leaving ---- */

static void links_init(struct tern_links *l)
{
	memset(&l->cfg, 0, sizeof(l->cfg));
	l->name[0] = 0;
	l->fab = NULL;
	l->fabric_id = 0;
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		struct tern_port *pt = &l->port[p];

		l->cfg.peers[p] = -1;
		pt->peer_chip = -1;
		atomic_store(&pt->peer_port, TERN_LINK_NO_PEER);
		atomic_store(&pt->state, TERN_LINK_STATE_NONE);
		atomic_store(&pt->next_free_ns, 0);
	}
	atomic_store(&l->down_mask, 0);
	l->users = 0;
	l->leaving = false;
}

/* The fabric accepts chip d (explicit peers name it back): or err. */
static bool fits(struct tern_fabric *fb, struct tern_dev *d, char *err,
		 size_t errlen)
{
	const struct tern_link_config *a = &d->links.cfg;
	unsigned int aw = a->topology == TERN_TOPOLOGY_TORUS2D ?
			  torus_width(a) : 0;

	if (fb->chips != a->chips) {
		snprintf(err, errlen, "fabric-chips %u differs from the %u of "
			 "fabric %s", a->chips, fb->chips, fb->name);
		return false;
	}
	if (fb->topology != a->topology) {
		snprintf(err, errlen, "topology %s differs from the %s of "
			 "fabric %s", topology_name(a->topology),
			 topology_name(fb->topology), fb->name);
		return false;
	}
	if (fb->width != aw) {
		snprintf(err, errlen, "torus-width %u differs from the %u of "
			 "fabric %s", aw, fb->width, fb->name);
		return false;
	}
	if (fb->chip[a->chip_id]) {
		snprintf(err, errlen, "chip-id %u is already in fabric %s",
			 a->chip_id, fb->name);
		return false;
	}
	if (a->topology != TERN_TOPOLOGY_NONE)
		return true;
	for (unsigned int c = 0; c < fb->chips; c++) {
		const struct tern_dev *o = fb->chip[c];
		unsigned int mine, theirs;

		if (!o)
			continue;
		mine = ports_naming(a, TERN_MAX_LINKS, c);
		theirs = ports_naming(&o->links.cfg, TERN_MAX_LINKS,
				      a->chip_id);
		if (mine != theirs) {
			snprintf(err, errlen, "peers: chip %u names chip %u on "
				 "%u ports, but chip %u names chip %u on %u",
				 a->chip_id, c, mine, c, a->chip_id, theirs);
			return false;
		}
	}
	return true;
}

bool tern_fabric_join(struct tern_dev *dev, const struct tern_link_config *lc,
		      char *err, size_t errlen)
{
	struct tern_links *l = &dev->links;
	struct tern_fabric *fb;

	links_init(l);
	if (!lc || !lc->fabric || !lc->fabric[0])
		return true;
	if (!tern_link_config_check(lc, err, errlen))
		return false;
	l->cfg = *lc;
	snprintf(l->name, sizeof(l->name), "%s", lc->fabric);
	l->cfg.fabric = l->name;
	if (!l->cfg.bandwidth_mbps)
		l->cfg.bandwidth_mbps = TERN_LINK_BANDWIDTH_DEFAULT;
	if (!l->cfg.latency_ns)
		l->cfg.latency_ns = TERN_LINK_LATENCY_DEFAULT;
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		unsigned int pp = 0;
		int c = l->cfg.topology == TERN_TOPOLOGY_NONE ?
			l->cfg.peers[p] : wire_fixed(&l->cfg, p, &pp);

		l->port[p].peer_chip = c;
		if (c >= 0 && l->cfg.topology != TERN_TOPOLOGY_NONE)
			atomic_store(&l->port[p].peer_port, pp);
		if (c >= 0)
			atomic_store(&l->port[p].state, TERN_LINK_STATE_DOWN);
	}

	pthread_mutex_lock(&fabric_lock);
	for (fb = fabrics; fb; fb = fb->next)
		if (!strcmp(fb->name, l->name))
			break;
	if (!fb) {
		fb = calloc(1, sizeof(*fb));
		if (!fb) {
			pthread_mutex_unlock(&fabric_lock);
			snprintf(err, errlen, "out of memory");
			return false;
		}
		snprintf(fb->name, sizeof(fb->name), "%s", l->name);
		fb->chips = l->cfg.chips;
		fb->topology = l->cfg.topology;
		fb->width = l->cfg.topology == TERN_TOPOLOGY_TORUS2D ?
			    torus_width(&l->cfg) : 0;
		fb->next = fabrics;
		fabrics = fb;
	} else if (!fits(fb, dev, err, errlen)) {
		pthread_mutex_unlock(&fabric_lock);
		links_init(l);
		return false;
	}
	fb->chip[l->cfg.chip_id] = dev;
	fb->members++;
	l->fab = fb;
	l->fabric_id = fabric_tag(l->name);
	l->serial = ++fabric_serial;
	recompute(fb, dev);
	pthread_mutex_unlock(&fabric_lock);
	return true;
}

void tern_fabric_leave(struct tern_dev *dev)
{
	struct tern_links *l = &dev->links;
	struct tern_fabric *fb = l->fab, **pp;

	if (!fb)
		return;
	pthread_mutex_lock(&fabric_lock);
	l->leaving = true;
	recompute(fb, dev);
	while (l->users)
		pthread_cond_wait(&fabric_cv, &fabric_lock);
	fb->chip[l->cfg.chip_id] = NULL;
	l->fab = NULL;
	if (--fb->members == 0) {
		for (pp = &fabrics; *pp; pp = &(*pp)->next)
			if (*pp == fb) {
				*pp = fb->next;
				break;
			}
		free(fb);
	}
	pthread_mutex_unlock(&fabric_lock);
}

/* ---- link-down fault injection ---- */

bool tern_dev_set_link_down(struct tern_dev *dev, uint32_t mask, char *err,
			    size_t errlen)
{
	if (mask & ~LINK_PORTS_ALL) {
		snprintf(err, errlen, "link-down 0x%" PRIx32 " names ports "
			 "past the chip's %u", mask, TERN_MAX_LINKS);
		return false;
	}
	pthread_mutex_lock(&fabric_lock);
	/* a fault takes effect when a port goes down that was not */
	if (mask & ~atomic_load(&dev->links.down_mask))
		tern_ras_count(dev);
	atomic_store(&dev->links.down_mask, mask);
	if (dev->links.fab)
		recompute(dev->links.fab, NULL);
	pthread_mutex_unlock(&fabric_lock);
	return true;
}

uint32_t tern_dev_link_down(struct tern_dev *dev)
{
	return atomic_load(&dev->links.down_mask);
}

/* ---- use of a peer by a DMA engine ---- */

struct tern_dev *tern_link_get(struct tern_dev *dev, unsigned int port,
			       unsigned int *peer_port)
{
	struct tern_port *pt = &dev->links.port[port];
	struct tern_dev *peer = NULL;

	pthread_mutex_lock(&fabric_lock);
	if (dev->links.fab && pt->peer_chip >= 0 &&
	    atomic_load(&pt->state) == TERN_LINK_STATE_UP) {
		peer = dev->links.fab->chip[pt->peer_chip];
		if (peer && !peer->links.leaving) {
			peer->links.users++;
			*peer_port = atomic_load(&pt->peer_port);
		} else {
			peer = NULL;
		}
	}
	pthread_mutex_unlock(&fabric_lock);
	return peer;
}

void tern_link_put(struct tern_dev *peer)
{
	pthread_mutex_lock(&fabric_lock);
	if (--peer->links.users == 0)
		pthread_cond_broadcast(&fabric_cv);
	pthread_mutex_unlock(&fabric_lock);
}

bool tern_link_up(struct tern_dev *dev, unsigned int port)
{
	return atomic_load_explicit(&dev->links.port[port].state,
				    memory_order_acquire) ==
	       TERN_LINK_STATE_UP;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t window_ns(const struct tern_dev *dev, uint64_t n)
{
	return n * 1000 / dev->links.cfg.bandwidth_mbps;
}

/* Sleeps until CLOCK_MONOTONIC reaches t, a millisecond at a time. */
static bool sleep_until(uint64_t t, _Atomic bool *stop)
{
	for (;;) {
		uint64_t now = mono_ns(), left;
		struct timespec ts;

		if (now >= t)
			return true;
		if (atomic_load_explicit(stop, memory_order_relaxed))
			return false;
		left = t - now;
		if (left > 1000000)
			left = 1000000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

bool tern_link_window_open(struct tern_dev *dev, unsigned int port,
			   uint64_t n, _Atomic bool *stop,
			   struct tern_link_window *w)
{
	struct tern_port *pt = &dev->links.port[port];
	uint64_t dur, now, old;

	w->start = w->end = 0;
	if (!dev->links.cfg.pace || !n)
		return true;
	dur = window_ns(dev, n);
	now = mono_ns();
	old = atomic_load(&pt->next_free_ns);
	do {
		w->start = old > now ? old : now;
		w->end = w->start + dur;
	} while (!atomic_compare_exchange_weak(&pt->next_free_ns, &old, w->end));
	return sleep_until(w->start, stop);
}

void tern_link_window_trim(struct tern_dev *dev, unsigned int port,
			   uint64_t n, struct tern_link_window *w)
{
	uint64_t end = w->start + window_ns(dev, n), old = w->end;

	if (!w->end || end >= w->end)
		return;
	/* only if the port's next free time is still ours */
	if (atomic_compare_exchange_strong(&dev->links.port[port].next_free_ns,
					   &old, end))
		w->end = end;
}

bool tern_link_window_close(const struct tern_link_window *w,
			    _Atomic bool *stop)
{
	return !w->end || sleep_until(w->end, stop);
}

/* ---- registers (dev->lock held) ---- */

static void put_split(uint64_t v, bool hi, uint32_t *out)
{
	*out = hi ? (uint32_t)(v >> 32) : (uint32_t)v;
}

static bool port_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	unsigned int p = (off - TERN_REG_LINK_BASE) / TERN_REG_LINK_STRIDE;
	struct tern_port *pt = &dev->links.port[p];
	bool wired = pt->peer_chip >= 0;

	switch ((off - TERN_REG_LINK_BASE) % TERN_REG_LINK_STRIDE) {
	case TERN_L_STATE: *v = atomic_load(&pt->state); return true;
	case TERN_L_PEER_CHIP:
		*v = wired ? (uint32_t)pt->peer_chip : TERN_LINK_NO_PEER;
		return true;
	case TERN_L_PEER_PORT: *v = atomic_load(&pt->peer_port); return true;
	case TERN_L_BANDWIDTH:
		*v = wired ? dev->links.cfg.bandwidth_mbps : 0;
		return true;
	case TERN_L_LATENCY:
		*v = wired ? dev->links.cfg.latency_ns : 0;
		return true;
	case TERN_L_ERRORS: *v = atomic_load(&pt->errors); return true;
	case TERN_L_TX_BYTES_LO:
	case TERN_L_TX_BYTES_HI:
		put_split(atomic_load(&pt->tx_bytes),
			  off % 8 == TERN_L_TX_BYTES_HI % 8, v);
		return true;
	case TERN_L_RX_BYTES_LO:
	case TERN_L_RX_BYTES_HI:
		put_split(atomic_load(&pt->rx_bytes),
			  off % 8 == TERN_L_RX_BYTES_HI % 8, v);
		return true;
	case TERN_L_BUSY_NS_LO:
	case TERN_L_BUSY_NS_HI:
		put_split(atomic_load(&pt->busy_ns),
			  off % 8 == TERN_L_BUSY_NS_HI % 8, v);
		return true;
	}
	return false;
}

bool tern_link_reg_read(struct tern_dev *dev, uint64_t off, uint32_t *v)
{
	const struct tern_links *l = &dev->links;

	switch (off) {
	case TERN_REG_CHIP_ID: *v = l->fabric_id ? l->cfg.chip_id : 0; return true;
	case TERN_REG_FABRIC_ID: *v = l->fabric_id; return true;
	case TERN_REG_FABRIC_CHIPS: *v = l->fabric_id ? l->cfg.chips : 0; return true;
	case TERN_REG_NUM_LINKS: *v = TERN_MAX_LINKS; return true;
	case TERN_REG_LINK_EVENTS: *v = l->events; return true;
	case TERN_REG_LINK_ERRORS: *v = atomic_load(&dev->links.errors); return true;
	}
	if (off >= TERN_REG_LINK_BASE && off < TERN_REG_LINK(TERN_MAX_LINKS))
		return port_reg_read(dev, off, v);
	return false;
}

bool tern_link_reg_write(struct tern_dev *dev, uint64_t off, uint32_t val)
{
	switch (off) {
	case TERN_REG_LINK_EVENTS:
		if (val & ~LINK_PORTS_ALL)
			tern_guest_err(dev, "LINK_EVENTS write 0x%" PRIx32
				       ": bits past port %u ignored", val,
				       TERN_MAX_LINKS - 1);
		dev->links.events &= ~val;
		return true;
	case TERN_REG_CHIP_ID:
	case TERN_REG_FABRIC_ID:
	case TERN_REG_FABRIC_CHIPS:
	case TERN_REG_NUM_LINKS:
	case TERN_REG_LINK_ERRORS:
		break;
	default:
		if (off < TERN_REG_LINK_BASE ||
		    off >= TERN_REG_LINK(TERN_MAX_LINKS) ||
		    (off - TERN_REG_LINK_BASE) % TERN_REG_LINK_STRIDE >
		    TERN_L_BUSY_NS_HI)
			return false;
	}
	tern_guest_err(dev, "write 0x%" PRIx32 " to read-only register %s "
		       "ignored", val, tern_reg_name(off));
	return true;
}

void tern_link_reset(struct tern_dev *dev)
{
	struct tern_links *l = &dev->links;

	l->events = 0;
	atomic_store(&l->errors, 0);
	for (unsigned int p = 0; p < TERN_MAX_LINKS; p++) {
		atomic_store(&l->port[p].errors, 0);
		atomic_store(&l->port[p].tx_bytes, 0);
		atomic_store(&l->port[p].rx_bytes, 0);
		atomic_store(&l->port[p].busy_ns, 0);
	}
}
