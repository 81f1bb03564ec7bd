// SPDX-License-Identifier: MIT
/*
 * tern-ls: list the tern accelerators of this machine.
 *
 *   tern-ls              a table, one device per line
 *   tern-ls --topology   the chip-to-chip fabric: every chip's link ports
 *                        (peer, state, bandwidth), and a drawing of a
 *                        ring or 2D torus recognised from the peers
 *   tern-ls --json       the devices as a JSON object {"devices": [...]},
 *                        each with its link ports; with --topology also
 *                        "fabrics" (the shape of each fabric)
 *
 * Exit status: 0 when every device was listed, 1 when there is no device or
 * one could not be opened or its links read (the message says why), 2 for
 * a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tern.h"

/* Most chips of one fabric tern-ls draws. */
#define TERN_COMM_CHIPS_MAX	256

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-ls [--topology] [--json] [--help]\n"
		"List the tern accelerators: index, PCI address, accel node, revision,\n"
		"platform, cores, HBM used/total, DMA queues, DMA engines, driver version.\n"
		"\n"
		"  -t, --topology  show the chip-to-chip fabric instead: each chip's link\n"
		"                  ports (peer chip:port, state, bandwidth) and a drawing\n"
		"                  of a ring or 2D torus (-- up, xx down)\n"
		"  -j, --json      print a JSON object {\"devices\": [...]} instead of a\n"
		"                  table (with --topology also \"fabrics\")\n"
		"  -h, --help      print this help\n");
}

/* What tern-ls learns of one device. */
struct dev_rec {
	struct tern_device_info info;
	struct tern_link links[TERN_MAX_LINK_PORTS];
	unsigned int nlinks;
};

/*
 * The shape of one fabric, recognised from the peers of its ports:
 * a ring (port 0 = next chip, port 1 = previous) or a W x H torus (port 0
 * east, 1 west, 2 south, 3 north, wrapping; chip id = y * W + x).
 */
#define SHAPE_OTHER	0
#define SHAPE_RING	1
#define SHAPE_TORUS	2

struct fabric {
	unsigned int id;
	unsigned int chips;		/* fabric_chips the devices report */
	unsigned int n;			/* devices of it found here */
	unsigned int shape;
	unsigned int width, height;
	int rec[TERN_COMM_CHIPS_MAX];	/* chip id -> index in the records, or -1 */
};

static const char *platform_name(unsigned int platform)
{
	switch (platform) {
	case TERN_PLATFORM_SILICON:
		return "silicon";
	case TERN_PLATFORM_EMULATED:
		return "emulated";
	}
	return "unknown";
}

/* Bytes in the largest binary unit that keeps one digit or more. */
static const char *human(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static const char *link_state_name(unsigned int state)
{
	switch (state) {
	case TERN_LINK_NONE:
		return "none";
	case TERN_LINK_UP:
		return "up";
	case TERN_LINK_DOWN:
		return "down";
	}
	return "unknown";
}

static const char *shape_name(unsigned int shape)
{
	switch (shape) {
	case SHAPE_RING:
		return "ring";
	case SHAPE_TORUS:
		return "torus2d";
	}
	return "other";
}

static void print_json(const struct dev_rec *recs, int n, const struct fabric *fabs, int nfabs)
{
	unsigned int p;
	int i;

	printf("{\"devices\": [");
	for (i = 0; i < n; i++) {
		const struct tern_device_info *d = &recs[i].info;

		printf("%s\n  {\"index\": %u, \"pci_address\": ", i ? "," : "", d->index);
		json_string(d->pci_address);
		printf(", \"node\": ");
		json_string(d->node);
		printf(", \"minor\": %u, \"revision\": %u, \"platform\": \"%s\", "
		       "\"hw_version\": \"%u.%u\", \"cores\": %u, \"queues\": %u, "
		       "\"dma_engines\": %u, \"hbm_total\": %llu, \"hbm_used\": %llu, "
		       "\"driver\": ",
		       d->minor, d->revision, platform_name(d->platform), d->hw_version >> 16,
		       d->hw_version & 0xffff, d->num_cores, d->num_queues, d->num_dma_engines,
		       (unsigned long long)d->hbm_total, (unsigned long long)d->hbm_used);
		json_string(d->driver_name);
		printf(", \"driver_version\": ");
		json_string(d->driver_version);
		printf(", \"uapi_version\": \"%u.%u\", \"chip_id\": %u, \"fabric_id\": %u, "
		       "\"fabric_chips\": %u, \"num_links\": %u, \"links\": [",
		       d->uapi_major, d->uapi_minor, d->chip_id, d->fabric_id, d->fabric_chips,
		       d->num_links);
		for (p = 0; p < recs[i].nlinks; p++) {
			const struct tern_link *l = &recs[i].links[p];

			printf("%s{\"port\": %u, \"state\": \"%s\"", p ? ", " : "", l->port,
			       link_state_name(l->state));
			if (l->state != TERN_LINK_NONE)
				printf(", \"peer_chip\": %u, \"peer_port\": %u", l->peer_chip,
				       l->peer_port);
			printf(", \"bandwidth_mbps\": %u, \"latency_ns\": %u, \"errors\": %u, "
			       "\"tx_bytes\": %llu, \"rx_bytes\": %llu, \"busy_ns\": %llu}",
			       l->bandwidth_mbps, l->latency_ns, l->errors,
			       (unsigned long long)l->tx_bytes, (unsigned long long)l->rx_bytes,
			       (unsigned long long)l->busy_ns);
		}
		printf("]}");
	}
	printf("%s]", n ? "\n" : "");
	if (fabs) {
		printf(", \"fabrics\": [");
		for (i = 0; i < nfabs; i++) {
			printf("%s\n  {\"fabric_id\": %u, \"fabric_chips\": %u, \"devices\": %u, "
			       "\"shape\": \"%s\"",
			       i ? "," : "", fabs[i].id, fabs[i].chips, fabs[i].n,
			       shape_name(fabs[i].shape));
			if (fabs[i].shape == SHAPE_TORUS)
				printf(", \"width\": %u, \"height\": %u", fabs[i].width,
				       fabs[i].height);
			printf("}");
		}
		printf("%s]", nfabs ? "\n" : "");
	}
	printf("}\n");
}

static void print_table(const struct dev_rec *recs, int n)
{
	char used[32], total[32], hbm[72], drv[72];
	int i;

	printf("%-3s  %-12s  %-18s  %-3s  %-8s  %-5s  %-21s  %-6s  %-3s  %s\n", "IDX", "PCI",
	       "NODE", "REV", "PLATFORM", "CORES", "HBM USED/TOTAL", "QUEUES", "DMA", "DRIVER");
	for (i = 0; i < n; i++) {
		const struct tern_device_info *d = &recs[i].info;

		snprintf(hbm, sizeof(hbm), "%s / %s", human(d->hbm_used, used, sizeof(used)),
			 human(d->hbm_total, total, sizeof(total)));
		snprintf(drv, sizeof(drv), "%s %s", d->driver_name, d->driver_version);
		printf("%-3u  %-12s  %-18s  %-3u  %-8s  %-5u  %-21s  %-6u  %-3u  %s\n", d->index,
		       d->pci_address, d->node, d->revision, platform_name(d->platform),
		       d->num_cores, hbm, d->num_queues, d->num_dma_engines, drv);
	}
}

/* Port @port of a device, or NULL when it has no such port. */
static const struct tern_link *port_to(const struct dev_rec *r, unsigned int port)
{
	return port < r->nlinks ? &r->links[port] : NULL;
}

/* Does port @port of @r lead to chip @peer (wired, up or down)? */
static int wired_to(const struct dev_rec *r, unsigned int port, unsigned int peer)
{
	const struct tern_link *l = port_to(r, port);

	return l && l->state != TERN_LINK_NONE && l->peer_chip == peer;
}

/* Recognise a ring or a torus from the peers; every chip must be present. */
static void find_shape(struct fabric *f, const struct dev_rec *recs)
{
	unsigned int c, w, h, x, y;
	const struct dev_rec *r;

	f->shape = SHAPE_OTHER;
	if (f->n != f->chips || f->chips < 2)
		return;
	/* ring: port 0 to the next chip, port 1 to the previous (2 chips: both to the other) */
	for (c = 0; c < f->chips; c++) {
		r = &recs[f->rec[c]];
		if (!wired_to(r, 0, (c + 1) % f->chips) ||
		    !wired_to(r, 1, (c + f->chips - 1) % f->chips))
			break;
	}
	if (c == f->chips) {
		f->shape = SHAPE_RING;
		if (f->chips > 2)
			return;
	}
	/* torus: chip 0's south neighbour (port 2) gives the width */
	r = &recs[f->rec[0]];
	if (r->nlinks < 4 || r->links[2].state == TERN_LINK_NONE)
		return;
	w = r->links[2].peer_chip;
	if (w < 2 || f->chips % w || f->chips / w < 2)
		return;
	h = f->chips / w;
	for (c = 0; c < f->chips; c++) {
		r = &recs[f->rec[c]];
		x = c % w;
		y = c / w;
		if (!wired_to(r, 0, y * w + (x + 1) % w) ||
		    !wired_to(r, 1, y * w + (x + w - 1) % w) ||
		    !wired_to(r, 2, ((y + 1) % h) * w + x) ||
		    !wired_to(r, 3, ((y + h - 1) % h) * w + x))
			return;
	}
	f->shape = SHAPE_TORUS;
	f->width = w;
	f->height = h;
}

/*
 * Group the devices by fabric (in order of first appearance); devices in no
 * fabric are left out. Returns the number of fabrics, or -1 when a fabric
 * is too large to draw.
 */
static int find_fabrics(const struct dev_rec *recs, int n, struct fabric *fabs, int max)
{
	int nfabs = 0, i, j;
	unsigned int c;

	for (i = 0; i < n; i++) {
		const struct tern_device_info *d = &recs[i].info;

		if (!d->fabric_id)
			continue;
		for (j = 0; j < nfabs && fabs[j].id != d->fabric_id; j++)
			;
		if (j == nfabs) {
			if (nfabs == max)
				continue;
			memset(&fabs[j], 0, sizeof(fabs[j]));
			fabs[j].id = d->fabric_id;
			fabs[j].chips = d->fabric_chips;
			for (c = 0; c < TERN_COMM_CHIPS_MAX; c++)
				fabs[j].rec[c] = -1;
			nfabs++;
		}
		if (d->chip_id < TERN_COMM_CHIPS_MAX && fabs[j].rec[d->chip_id] < 0) {
			fabs[j].rec[d->chip_id] = i;
			fabs[j].n++;
		}
	}
	for (j = 0; j < nfabs; j++)
		find_shape(&fabs[j], recs);
	return nfabs;
}

/* The drawing of the link from chip @a's port @port: "--" up, "xx" down. */
static const char *edge(const struct fabric *f, const struct dev_rec *recs, unsigned int a,
			unsigned int port)
{
	const struct tern_link *l = port_to(&recs[f->rec[a]], port), *back;
	const struct dev_rec *peer;

	if (!l || l->state == TERN_LINK_NONE)
		return "  ";
	/* down at either end is down */
	peer = l->peer_chip < TERN_COMM_CHIPS_MAX && f->rec[l->peer_chip] >= 0 ?
		&recs[f->rec[l->peer_chip]] : NULL;
	back = peer ? port_to(peer, l->peer_port) : NULL;
	if (l->state != TERN_LINK_UP || (back && back->state != TERN_LINK_UP))
		return "xx";
	return "--";
}

static void draw_ring(const struct fabric *f, const struct dev_rec *recs)
{
	unsigned int c;

	printf("  ");
	for (c = 0; c < f->chips; c++)
		printf("%u %s ", c, edge(f, recs, c, 0));
	printf("(0)\n");
}

/* Print @line without its trailing blanks, and a newline. */
static void put_trimmed(char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	printf("%s\n", line);
}

static void draw_torus(const struct fabric *f, const struct dev_rec *recs)
{
	char line[8 * TERN_COMM_CHIPS_MAX + 16];
	unsigned int x, y, c;
	size_t len;
	const char *e;

	/*
	 * Cells of 7 columns: the chip id right-aligned in 3, then its east
	 * link; below it the south link. (n): the link wraps to chip n.
	 */
	for (y = 0; y < f->height; y++) {
		printf("  ");
		for (x = 0; x < f->width; x++) {
			c = y * f->width + x;
			printf("%3u %s ", c, edge(f, recs, c, 0));
		}
		printf("(%u)\n", y * f->width);
		len = snprintf(line, sizeof(line), "  ");
		for (x = 0; x < f->width && len < sizeof(line); x++) {
			e = edge(f, recs, y * f->width + x, 2);
			len += snprintf(line + len, sizeof(line) - len, "%s    ",
					!strcmp(e, "--") ? "  |" : !strcmp(e, "xx") ? " xx" : "   ");
		}
		put_trimmed(line);
	}
	len = snprintf(line, sizeof(line), "  ");
	for (x = 0; x < f->width && len < sizeof(line); x++)
		len += snprintf(line + len, sizeof(line) - len, x < 10 ? " (%u)   " : " (%u)  ", x);
	put_trimmed(line);
}

/* One port as a cell of the topology table: "peer_chip:peer_port state GB/s". */
static const char *port_cell(const struct tern_link *l, char *buf, size_t len)
{
	if (l->state == TERN_LINK_NONE)
		snprintf(buf, len, "-");
	else if (l->bandwidth_mbps >= 1000)
		snprintf(buf, len, "%u:%u %s %.1fG", l->peer_chip, l->peer_port,
			 link_state_name(l->state), l->bandwidth_mbps / 1000.0);
	else
		snprintf(buf, len, "%u:%u %s %uM", l->peer_chip, l->peer_port,
			 link_state_name(l->state), l->bandwidth_mbps);
	return buf;
}

/* chip, node, then a cell per port, errors and bytes sent/received. */
static void print_ports(unsigned int chip, const struct dev_rec *r)
{
	char cell[64], tx[32], rx[32];
	uint64_t txb = 0, rxb = 0;
	unsigned int p, errs = 0;

	printf("%-4u  %-18s", chip, r->info.node);
	for (p = 0; p < TERN_MAX_LINK_PORTS; p++) {
		if (p < r->nlinks) {
			port_cell(&r->links[p], cell, sizeof(cell));
			errs += r->links[p].errors;
			txb += r->links[p].tx_bytes;
			rxb += r->links[p].rx_bytes;
		} else {
			snprintf(cell, sizeof(cell), "%s", p ? "" : "(no ports)");
		}
		printf("  %-16s", cell);
	}
	printf("  %6u  %10s  %10s\n", errs, human(txb, tx, sizeof(tx)), human(rxb, rx, sizeof(rx)));
}

/* The latency of the fabric's first wired port (the model's is uniform). */
static unsigned int first_latency(const struct fabric *f, const struct dev_rec *recs)
{
	unsigned int c, p;

	for (c = 0; c < TERN_COMM_CHIPS_MAX; c++)
		for (p = 0; f->rec[c] >= 0 && p < recs[f->rec[c]].nlinks; p++)
			if (recs[f->rec[c]].links[p].state != TERN_LINK_NONE)
				return recs[f->rec[c]].links[p].latency_ns;
	return 0;
}

static void print_topology(const struct dev_rec *recs, int n, const struct fabric *fabs,
			   int nfabs)
{
	unsigned int c, up, down;
	int i, j, lone = 0;

	for (j = 0; j < nfabs; j++) {
		const struct fabric *f = &fabs[j];

		up = down = 0;
		for (c = 0; c < TERN_COMM_CHIPS_MAX; c++) {
			unsigned int p;

			if (f->rec[c] < 0)
				continue;
			for (p = 0; p < recs[f->rec[c]].nlinks; p++) {
				up += recs[f->rec[c]].links[p].state == TERN_LINK_UP;
				down += recs[f->rec[c]].links[p].state == TERN_LINK_DOWN;
			}
		}
		printf("%sfabric %u: %u chips (%u here), ", j ? "\n" : "", f->id, f->chips, f->n);
		if (f->shape == SHAPE_TORUS)
			printf("torus2d %ux%u", f->width, f->height);
		else
			printf("%s", shape_name(f->shape));
		printf(", ports up %u, down %u\n", up, down);
		if (f->shape == SHAPE_RING)
			draw_ring(f, recs);
		else if (f->shape == SHAPE_TORUS)
			draw_torus(f, recs);
		if (f->shape != SHAPE_OTHER)
			printf("  (-- up, xx down; (n): wraps to chip n)\n");
		printf("  ports: peer chip:peer port, state, bandwidth per direction (GB/s);"
		       " latency %u ns\n", first_latency(f, recs));
		printf("%-4s  %-18s  %-16s  %-16s  %-16s  %-16s  %6s  %10s  %10s\n", "CHIP",
		       "NODE", "PORT 0", "PORT 1", "PORT 2", "PORT 3", "ERRORS", "SENT", "RECEIVED");
		for (c = 0; c < TERN_COMM_CHIPS_MAX; c++)
			if (f->rec[c] >= 0)
				print_ports(c, &recs[f->rec[c]]);
	}
	for (i = 0; i < n; i++) {
		if (recs[i].info.fabric_id)
			continue;
		if (!lone++)
			printf("%snot in a fabric:", nfabs ? "\n" : "");
		printf(" %s", recs[i].info.node);
	}
	if (lone)
		printf(" (no links)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "topology", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fabric *fabs = NULL;
	struct dev_rec *recs;
	struct tern_device *dev;
	int json = 0, topology = 0, count, n = 0, nfabs = 0, failed = 0, i, opt, err;

	while ((opt = getopt_long(argc, argv, "jth", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 't':
			topology = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tern-ls: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	count = tern_device_count();
	if (count < 0) {
		fprintf(stderr, "tern-ls: cannot list devices: %s\n", tern_last_error());
		return 1;
	}
	if (count == 0) {
		fprintf(stderr, "tern-ls: no tern devices found (is tern.ko loaded?)\n");
		return 1;
	}
	recs = calloc(count, sizeof(*recs));
	if (!recs) {
		fprintf(stderr, "tern-ls: out of memory\n");
		return 1;
	}
	for (i = 0; i < count; i++) {
		struct dev_rec *r = &recs[n];

		err = tern_device_open(i, &dev);
		if (!err) {
			err = tern_device_info(dev, &r->info);
			if (!err && r->info.num_links) {
				err = tern_device_links(dev, r->links, TERN_MAX_LINK_PORTS);
				if (err >= 0) {
					r->nlinks = err;
					err = 0;
				}
			}
			tern_device_close(dev);
		}
		if (err) {
			/* The library's detail names the node and the reason. */
			fprintf(stderr, "tern-ls: device %d: %s\n", i, tern_last_error());
			failed++;
			continue;
		}
		n++;
	}
	if (topology && n) {
		fabs = calloc(n, sizeof(*fabs));
		if (!fabs) {
			fprintf(stderr, "tern-ls: out of memory\n");
			free(recs);
			return 1;
		}
		nfabs = find_fabrics(recs, n, fabs, n);
	}
	if (json)
		print_json(recs, n, fabs, nfabs);
	else if (n && topology)
		print_topology(recs, n, fabs, nfabs);
	else if (n)
		print_table(recs, n);
	if (topology && !n)
		fprintf(stderr, "tern-ls: no device could be opened: no topology to show\n");
	free(fabs);
	free(recs);
	return failed ? 1 : 0;
}
