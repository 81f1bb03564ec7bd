/* SPDX-License-Identifier: MIT */
/*
 * Running the tools from kselftests and checking their JSON strictly,
 * shared by tern_monitor, tern_profile (and others): the build directory,
 * a child with its output in temporary files, and python3's json module
 * (NaN, Infinity and duplicate keys refused) to parse and flatten output.
 * Add functions; do not change what the existing ones do.
 */
#ifndef TERN_JSON_PARSE_H
#define TERN_JSON_PARSE_H

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern_test.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* Python: strict_loads(text), json.loads refusing NaN, Infinity and duplicate keys. */
#define JSON_STRICT_PY \
	"import json, sys\n" \
	"def _bad(c):\n" \
	"    raise ValueError('not JSON: ' + c)\n" \
	"def _pairs(kv):\n" \
	"    d = {}\n" \
	"    for k, v in kv:\n" \
	"        if k in d:\n" \
	"            raise ValueError('duplicate key ' + k)\n" \
	"        d[k] = v\n" \
	"    return d\n" \
	"def strict_loads(t):\n" \
	"    return json.loads(t, parse_constant=_bad, object_pairs_hook=_pairs)\n"

/* Python: JSON lines in sys.argv[1] to "<line>.<key>.<index>... <value>" lines, then "lines <n>". */
#define JSON_FLATTEN_PY \
	"import json, sys\n" \
	"def bad(c):\n" \
	"    raise ValueError('not JSON: ' + c)\n" \
	"def walk(p, v):\n" \
	"    if isinstance(v, dict):\n" \
	"        for k, x in v.items():\n" \
	"            walk(p + '.' + k, x)\n" \
	"    elif isinstance(v, list):\n" \
	"        for i, x in enumerate(v):\n" \
	"            walk(p + '.' + str(i), x)\n" \
	"    else:\n" \
	"        print(p, json.dumps(v))\n" \
	"n = 0\n" \
	"for line in open(sys.argv[1]):\n" \
	"    o = json.loads(line, parse_constant=bad)\n" \
	"    if not isinstance(o, dict) or not line.endswith('\\n'):\n" \
	"        sys.exit('line %d: not one object per line' % n)\n" \
	"    walk(str(n), o)\n" \
	"    n += 1\n" \
	"print('lines', n)\n"

/* Starts @argv with stdout into @ofd and stderr into @efd; returns the pid. */
static pid_t start(const char *const argv[], int ofd, int efd)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Waits for @pid and reads what it wrote; returns its exit status (128+sig if killed). */
static int finish(pid_t pid, int ofd, char *out, size_t olen, int efd, char *err, size_t elen)
{
	int status = -1;
	ssize_t n;

	if (pid > 0)
		waitpid(pid, &status, 0);
	n = pread(ofd, out, olen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(efd, err, elen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	if (pid <= 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int tmpfile_fd(void)
{
	char name[] = "/tmp/tern_json.XXXXXX";
	int fd = mkstemp(name);

	if (fd >= 0)
		unlink(name);
	return fd;
}

static int json_py(const char *json, const char *script, char *out, size_t olen, char *err,
		   size_t elen);

/*
 * Checks @json (JSON lines) with python3's json module, strictly, and
 * flattens it into @flat: one "<line>.<key>.<index>... <value>" per leaf,
 * then "lines <n>". Returns python's exit status (0: every line valid).
 */
static int flatten(const char *json, char *flat, size_t len, char *err, size_t elen)
{
	return json_py(json, JSON_FLATTEN_PY, flat, len, err, elen);
}

/*
 * Runs python3 -c @script with the path of a file holding @json as
 * sys.argv[1]; what it prints goes to @out, its errors to @err. Returns its
 * exit status. Scripts parse strictly with JSON_STRICT_PY's strict_loads().
 */
static int json_py(const char *json, const char *script, char *out, size_t olen, char *err,
		   size_t elen)
{
	char in[64];
	const char *argv[] = { "/usr/bin/python3", "-c", script, in, NULL };
	int ifd = tmpfile_fd(), ofd = tmpfile_fd(), efd = tmpfile_fd(), ret;
	size_t n = strlen(json);

	snprintf(in, sizeof(in), "/proc/%d/fd/%d", getpid(), ifd);
	if (write(ifd, json, n) != (ssize_t)n)
		ret = -1;
	else
		ret = finish(start(argv, ofd, efd), ofd, out, olen, efd, err, elen);
	close(ifd);
	close(ofd);
	close(efd);
	return ret;
}

/* The value of @key in a flattened output; 0 if found. */
static int get(const char *flat, const char *key, double *v)
{
	size_t n = strlen(key);
	const char *p = flat;

	while ((p = strstr(p, key))) {
		if ((p == flat || p[-1] == '\n') && p[n] == ' ') {
			*v = strtod(p + n + 1, NULL);
			return 0;
		}
		p += n;
	}
	return -1;
}

static double getf(const char *flat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The value of the key printf(@fmt, ...), or NAN if it is not there. */
static double getf(const char *flat, const char *fmt, ...)
{
	char key[256];
	va_list ap;
	double v;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	return get(flat, key, &v) ? NAN : v;
}

/* Whether any key of the flattened output contains @part. */
static bool has_key(const char *flat, const char *part)
{
	const char *line;

	for (line = flat; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *sp = strchr(line, ' ');
		const char *hit = strstr(line, part);

		if (hit && sp && hit < sp)
			return true;
	}
	return false;
}

/*
 * Runs $TERN_BUILD/tools/@tool with @args (NULL-terminated), as @uid (and
 * its group) when @uid >= 0; stdout into @out, stderr into @err. Returns
 * its exit status (128 + signal if killed, -1 if it could not run).
 */
static int run_tool(const char *tool, const char *const *args, int uid, char *out, size_t olen,
		    char *err, size_t elen)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	const char *argv[32];
	int ofd = tmpfile_fd(), efd = tmpfile_fd(), ret;
	unsigned int n = 0;
	pid_t pid;

	tern_build_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tools/%s", dir, tool);
	argv[n++] = path;
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		if (uid >= 0 && (setgid((gid_t)uid) || setuid((uid_t)uid)))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ret = finish(pid, ofd, out, olen, efd, err, elen);
	close(ofd);
	close(efd);
	return ret;
}

#pragma GCC diagnostic pop

#endif /* TERN_JSON_PARSE_H */
