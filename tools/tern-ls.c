// SPDX-License-Identifier: MIT
/*
 * tern-ls: list the tern accelerators of this machine.
 *
 *   tern-ls            a table, one device per line
 *   tern-ls --json     the same as a JSON object {"devices": [...]}
 *
 * Exit status: 0 when every device was listed, 1 when there is no device or
 * one could not be opened (the message says why), 2 for a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tern.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-ls [--json] [--help]\n"
		"List the tern accelerators: index, PCI address, accel node, revision,\n"
		"platform, cores, HBM used/total, DMA queues, DMA engines, driver version.\n"
		"\n"
		"  -j, --json   print a JSON object {\"devices\": [...]} instead of a table\n"
		"  -h, --help   print this help\n");
}

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

static void print_json(const struct tern_device_info *infos, int n)
{
	int i;

	printf("{\"devices\": [");
	for (i = 0; i < n; i++) {
		const struct tern_device_info *d = &infos[i];

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
		printf(", \"uapi_version\": \"%u.%u\"}", d->uapi_major, d->uapi_minor);
	}
	printf("%s]}\n", n ? "\n" : "");
}

static void print_table(const struct tern_device_info *infos, int n)
{
	char used[32], total[32], hbm[72], drv[72];
	int i;

	printf("%-3s  %-12s  %-18s  %-3s  %-8s  %-5s  %-21s  %-6s  %-3s  %s\n", "IDX", "PCI",
	       "NODE", "REV", "PLATFORM", "CORES", "HBM USED/TOTAL", "QUEUES", "DMA", "DRIVER");
	for (i = 0; i < n; i++) {
		const struct tern_device_info *d = &infos[i];

		snprintf(hbm, sizeof(hbm), "%s / %s", human(d->hbm_used, used, sizeof(used)),
			 human(d->hbm_total, total, sizeof(total)));
		snprintf(drv, sizeof(drv), "%s %s", d->driver_name, d->driver_version);
		printf("%-3u  %-12s  %-18s  %-3u  %-8s  %-5u  %-21s  %-6u  %-3u  %s\n", d->index,
		       d->pci_address, d->node, d->revision, platform_name(d->platform),
		       d->num_cores, hbm, d->num_queues, d->num_dma_engines, drv);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tern_device_info *infos;
	struct tern_device *dev;
	int json = 0, count, n = 0, failed = 0, i, opt, err;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
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
	infos = calloc(count, sizeof(*infos));
	if (!infos) {
		fprintf(stderr, "tern-ls: out of memory\n");
		return 1;
	}
	for (i = 0; i < count; i++) {
		err = tern_device_open(i, &dev);
		if (!err) {
			err = tern_device_info(dev, &infos[n]);
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
	if (json)
		print_json(infos, n);
	else if (n)
		print_table(infos, n);
	free(infos);
	return failed ? 1 : 0;
}
