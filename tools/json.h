/* SPDX-License-Identifier: MIT */
/*
 * JSON output shared by the tools (--json): strings from the command line,
 * sysfs, the driver and the library, escaped.
 */
#ifndef TERN_TOOLS_JSON_H
#define TERN_TOOLS_JSON_H

#include <stdio.h>

/* Prints @s as a JSON string, quotes included. */
static inline void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

#endif /* TERN_TOOLS_JSON_H */
