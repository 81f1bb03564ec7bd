// SPDX-License-Identifier: MIT
/*
 * libtern profiles: a session per device (tern_profile_start() ..
 * tern_profile_stop()) during which every launch asks its core for a
 * profile (DRM_TERN_EXEC_PROFILE, UAPI 1.4) and every copy job is timed.
 *
 * A profiled launch gets a profile buffer in HBM (64 + 48 x max_insns
 * bytes): the core writes a struct tern_prof_header and one struct
 * tern_prof_rec per completed instruction there when the job ends
 * (tern_isa.h, "Profiles"). When the library sees the launch done
 * (tern_launch_settle()), it copies the records through the buffer's
 * mapping into host memory and appends a struct tern_profile_launch. The
 * session keeps a few buffers for the next launches.
 *
 * A launch or copy belongs to the session it was submitted in
 * (tern_fence.prof_gen): one that ends after tern_profile_stop(), or
 * after another session started, is not recorded.
 *
 * Locks: dev->lock protects dev->prof, dev->prof_gen and the session.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern_internal.h"
#include "tern_isa.h"
#include "tern_program.h"
#include "tern_regs.h"

/* Profile buffers a session keeps for reuse. */
#define PROF_SPARE_BUFFERS	4

/* Most records a launch can have: every instruction of four full streams. */
#define PROF_MAX_INSNS		((size_t)TERN_NUM_ENGINES * TERN_MAX_STREAM_INSNS)

struct tern_prof_session {
	uint64_t gen;			/* dev->prof_gen when it started */
	size_t max_insns;		/* records per launch */
	uint64_t buf_size;		/* bytes of a profile buffer */
	struct tern_profile *prof;	/* what it recorded so far */
	size_t launch_cap, copy_cap;	/* allocated entries of prof's arrays */
	uint64_t *core_end;		/* per core: cycles of its launches so far */
	unsigned int nspare;
	struct tern_buffer *spare[PROF_SPARE_BUFFERS];
	void *spare_map[PROF_SPARE_BUFFERS];
};

/* The name tern_op_run() gives the launches of its thread. */
__thread const char *tern_prof_launch_name;

static void session_free(struct tern_prof_session *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nspare; i++)
		tern_buffer_free(s->spare[i]);
	tern_profile_free(s->prof);
	free(s->core_end);
	free(s);
}

TERN_EXPORT int tern_profile_start(struct tern_device *dev, size_t max_insns)
{
	struct tern_prof_session *s;
	bool busy;

	if (!dev)
		return tern_fail(-EINVAL, "tern_profile_start: device is NULL");
	if (dev->hw.uapi_major < 1 || (dev->hw.uapi_major == 1 && dev->hw.uapi_minor < 4))
		return tern_fail(-EOPNOTSUPP,
				 "tern_profile_start: the tern driver on %s speaks UAPI %u.%u; profiles need 1.4",
				 dev->node, dev->hw.uapi_major, dev->hw.uapi_minor);
	if (!(dev->hw.caps & TERN_CAP_PROFILE))
		return tern_fail(-EOPNOTSUPP,
				 "tern_profile_start: the chip of %s (interface %u.%u) cannot profile launches",
				 dev->node, dev->hw.hw_version >> 16, dev->hw.hw_version & 0xffff);
	if (!max_insns)
		max_insns = TERN_PROFILE_DEFAULT_INSNS;
	if (max_insns > PROF_MAX_INSNS)
		max_insns = PROF_MAX_INSNS;

	s = calloc(1, sizeof(*s));
	if (s) {
		s->prof = calloc(1, sizeof(*s->prof));
		s->core_end = calloc(dev->hw.num_cores ? dev->hw.num_cores : 1,
				     sizeof(*s->core_end));
	}
	if (!s || !s->prof || !s->core_end) {
		session_free(s);
		return tern_fail(-ENOMEM, "tern_profile_start: out of memory");
	}
	s->max_insns = max_insns;
	s->buf_size = TERN_PROF_HEADER_SIZE + (uint64_t)max_insns * TERN_PROF_REC_SIZE;
	s->prof->device = dev->index;
	s->prof->num_cores = dev->hw.num_cores;
	s->prof->clock_hz = TERN_COST_CLOCK_HZ;
	s->prof->host_start_ns = (uint64_t)tern_now_ns();

	pthread_mutex_lock(&dev->lock);
	busy = dev->prof != NULL;
	if (!busy) {
		s->gen = ++dev->prof_gen;
		dev->prof = s;
	}
	pthread_mutex_unlock(&dev->lock);
	if (busy) {
		session_free(s);
		return tern_fail(-EBUSY, "tern_profile_start: a profiling session is already running on %s",
				 dev->node);
	}
	return 0;
}

TERN_EXPORT int tern_profile_stop(struct tern_device *dev, struct tern_profile **out)
{
	struct tern_prof_session *s;

	if (out)
		*out = NULL;
	if (!dev || !out)
		return tern_fail(-EINVAL, "tern_profile_stop: NULL argument");
	pthread_mutex_lock(&dev->lock);
	s = dev->prof;
	dev->prof = NULL;
	pthread_mutex_unlock(&dev->lock);
	if (!s)
		return tern_fail(-EINVAL, "tern_profile_stop: no profiling session is running on %s",
				 dev->node);
	s->prof->host_end_ns = (uint64_t)tern_now_ns();
	*out = s->prof;
	s->prof = NULL;
	session_free(s);
	return 0;
}

TERN_EXPORT void tern_profile_free(struct tern_profile *prof)
{
	if (!prof)
		return;
	for (size_t i = 0; i < prof->nlaunches; i++)
		free(prof->launches[i].insns);
	free(prof->launches);
	free(prof->copies);
	free(prof);
}

void tern_prof_destroy(struct tern_device *dev)
{
	session_free(dev->prof);
	dev->prof = NULL;
}

/* ---- launches ---- */

int tern_prof_launch_prepare(struct tern_device *dev, struct tern_fence *f,
			     struct drm_tern_exec *exec)
{
	const char *name = tern_prof_launch_name;
	struct tern_prof_session *s;
	struct tern_buffer *buf = NULL;
	uint64_t gen, size;
	void *map = NULL;
	int ret;

	pthread_mutex_lock(&dev->lock);
	s = dev->prof;
	if (!s) {
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	gen = s->gen;
	size = s->buf_size;
	if (s->nspare) {
		s->nspare--;
		buf = s->spare[s->nspare];
		map = s->spare_map[s->nspare];
	}
	pthread_mutex_unlock(&dev->lock);

	if (!buf) {
		ret = tern_buffer_alloc_internal(dev, size, TERN_MEM_DEVICE, &buf);
		if (ret)
			return tern_fail(ret, "launch on %s: no room for a %" PRIu64
					 "-byte profile buffer: %s", dev->node, size,
					 tern_last_error());
		ret = tern_buffer_map(buf, &map);
		if (ret) {
			tern_buffer_free(buf);
			return ret;
		}
	}
	/* No header from an earlier launch may pass for this one's. */
	memset(map, 0, TERN_PROF_HEADER_SIZE);
	__sync_synchronize();
	f->prof_gen = gen;
	f->prof_buf = buf;
	f->prof_map = map;
	snprintf(f->prof_name, sizeof(f->prof_name), "%s", name ? name : "kernel");
	exec->flags |= DRM_TERN_EXEC_PROFILE;
	exec->profile.handle = buf->handle;
	exec->profile.offset = 0;
	exec->profile.size = size;
	return 0;
}

/* Gives a fence's profile buffer to the session of @gen, or frees it. */
static void buffer_put(struct tern_device *dev, uint64_t gen, struct tern_buffer *buf, void *map)
{
	struct tern_prof_session *s;

	pthread_mutex_lock(&dev->lock);
	s = dev->prof;
	if (s && s->gen == gen && s->nspare < PROF_SPARE_BUFFERS) {
		s->spare[s->nspare] = buf;
		s->spare_map[s->nspare] = map;
		s->nspare++;
		buf = NULL;
	}
	pthread_mutex_unlock(&dev->lock);
	tern_buffer_free(buf);
}

void tern_prof_fence_drop(struct tern_fence *f)
{
	if (f->prof_buf)
		buffer_put(f->dev, f->prof_gen, f->prof_buf, f->prof_map);
	f->prof_buf = NULL;
	f->prof_map = NULL;
	f->prof_gen = 0;
}

/* Grows an array of @size-byte entries to hold @need; 0 or -ENOMEM. */
static int grow(void **array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

/* The records of the profile at @map, as written by the core; *@np of them. */
static struct tern_profile_insn *read_records(const void *map, size_t max, size_t *np,
					      uint32_t *dropped, uint64_t *cycles)
{
	struct tern_prof_header h;
	struct tern_profile_insn *out;
	size_t n;

	*np = 0;
	memcpy(&h, map, sizeof(h));
	if (h.magic != TERN_PROF_MAGIC || h.version != TERN_PROF_VERSION ||
	    h.rec_size != TERN_PROF_REC_SIZE)
		return NULL;	/* the core wrote none: refused or aborted launch */
	*dropped = h.dropped;
	*cycles = h.cycles;
	n = h.count < max ? h.count : max;
	if (h.count > max)
		*dropped += (uint32_t)(h.count - max);
	if (!n)
		return NULL;
	out = malloc(n * sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct tern_prof_rec r;

		memcpy(&r, (const uint8_t *)map + TERN_PROF_HEADER_SIZE + i * TERN_PROF_REC_SIZE,
		       sizeof(r));
		out[i] = (struct tern_profile_insn) {
			.engine = r.engine, .opcode = r.opcode, .index = r.index,
			.ready = r.ready, .start = r.start, .end = r.end, .bytes = r.bytes,
			.sync = r.sync, .wait_sem = r.wait_sem, .wait_value = r.wait_value,
			.signal_sem = r.signal_sem,
		};
	}
	*np = n;
	return out;
}

void tern_prof_launch_done(struct tern_fence *f, bool ended)
{
	struct tern_device *dev = f->dev;
	const struct tern_launch_status *ls = &f->ls;
	struct tern_profile_launch l;
	struct tern_prof_session *s;
	uint64_t hdr_cycles = 0;
	bool kept = false, live;

	if (!f->prof_buf)
		return;
	memset(&l, 0, sizeof(l));
	l.core = (unsigned int)f->core;
	snprintf(l.name, sizeof(l.name), "%s", f->prof_name);
	l.result = ls->result;
	l.host_start_ns = (uint64_t)f->start_ns;
	l.host_end_ns = (uint64_t)tern_now_ns();
	for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
		l.busy[e] = ls->busy[e];
		l.insn_count[e] = ls->insns[e];
	}
	pthread_mutex_lock(&dev->lock);
	live = dev->prof && dev->prof->gen == f->prof_gen;
	pthread_mutex_unlock(&dev->lock);
	/* Read outside the lock: the buffer is the fence's until buffer_put(). */
	if (live) {
		size_t max = f->prof_buf->size > TERN_PROF_HEADER_SIZE ?
			     (f->prof_buf->size - TERN_PROF_HEADER_SIZE) / TERN_PROF_REC_SIZE : 0;

		__sync_synchronize();
		l.insns = read_records(f->prof_map, max, &l.ninsns, &l.dropped, &hdr_cycles);
	}
	l.cycles = ls->cycles ? ls->cycles : hdr_cycles;

	pthread_mutex_lock(&dev->lock);
	s = dev->prof;
	if (s && s->gen == f->prof_gen &&
	    !grow((void **)&s->prof->launches, &s->launch_cap, s->prof->nlaunches + 1,
		  sizeof(l))) {
		if (l.core < s->prof->num_cores) {
			l.base_cycles = s->core_end[l.core];
			s->core_end[l.core] += l.cycles;
		}
		s->prof->launches[s->prof->nlaunches++] = l;
		kept = true;
	}
	pthread_mutex_unlock(&dev->lock);
	if (!kept)
		free(l.insns);
	if (!ended) {
		/* The job may still run and write it: no later launch may get it. */
		tern_buffer_free(f->prof_buf);
		f->prof_buf = NULL;
	}
	tern_prof_fence_drop(f);
}

/* ---- copies ---- */

void tern_prof_copy_begin(struct tern_device *dev, struct tern_fence *f,
			  const struct tern_copy_desc *c, unsigned int n, int64_t start_ns)
{
	uint64_t bytes = 0;
	bool src_host, dst_host;

	if (!n)
		return;
	pthread_mutex_lock(&dev->lock);
	f->prof_gen = dev->prof ? dev->prof->gen : 0;
	pthread_mutex_unlock(&dev->lock);
	if (!f->prof_gen)
		return;
	for (unsigned int i = 0; i < n; i++)
		bytes += c[i].size;
	src_host = c[0].src->flags == TERN_MEM_HOST;
	dst_host = c[0].dst->flags == TERN_MEM_HOST;
	f->prof_bytes = bytes;
	f->prof_dir = src_host ? (dst_host ? TERN_PROFILE_H2H : TERN_PROFILE_H2D) :
		      (dst_host ? TERN_PROFILE_D2H : TERN_PROFILE_D2D);
	f->start_ns = start_ns;
}

void tern_prof_copy_done(struct tern_fence *f)
{
	struct tern_device *dev = f->dev;
	struct tern_prof_session *s;
	struct tern_profile_copy c = {
		.queue = (unsigned int)f->queue,
		.direction = f->prof_dir,
		.bytes = f->prof_bytes,
		.host_start_ns = (uint64_t)f->start_ns,
		.host_end_ns = (uint64_t)tern_now_ns(),
	};

	pthread_mutex_lock(&dev->lock);
	s = dev->prof;
	if (s && s->gen == f->prof_gen &&
	    !grow((void **)&s->prof->copies, &s->copy_cap, s->prof->ncopies + 1, sizeof(c)))
		s->prof->copies[s->prof->ncopies++] = c;
	pthread_mutex_unlock(&dev->lock);
	f->prof_gen = 0;
}

/* ---- the Trace Event Format (Documentation/tools/tern-profile.rst) ---- */

static const char *const engine_words[TERN_NUM_ENGINES] = { "tensor", "vector", "scalar", "dma" };
static const char *const direction_words[4] = { "h2d", "d2h", "d2d", "h2h" };

/* Thread ids: 1 the host, 100 (c + 1) core c, 100 (c + 1) + 1 + e its engine e. */
#define TID_HOST		1
#define TID_CORE(c)		(100 * ((c) + 1))
#define TID_ENGINE(c, e)	(TID_CORE(c) + 1 + (e))

/* A name the library made (op names, "kernel"): no quote, backslash or control character. */
static void put_name(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		if ((unsigned char)*s >= 0x20 && *s != '"' && *s != '\\')
			fputc(*s, f);
	fputc('"', f);
}

static void thread_meta(FILE *f, unsigned int pid, unsigned int tid, const char *name,
			unsigned int sort)
{
	fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"name\":\"%s\"}}", pid, tid, name);
	fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"sort_index\":%u}}", pid, tid, sort);
}

/* Microseconds of modeled @cycles at @hz. */
static double cycles_us(uint64_t cycles, uint64_t hz)
{
	return (double)cycles * 1e6 / (double)hz;
}

/* Microseconds of host time @ns after the session's start. */
static double host_us(const struct tern_profile *p, uint64_t ns)
{
	return ns > p->host_start_ns ? (double)(ns - p->host_start_ns) / 1e3 : 0.0;
}

static void write_insn(FILE *f, const struct tern_profile *p, const struct tern_profile_launch *l,
		       size_t li, const struct tern_profile_insn *in)
{
	unsigned int pid = p->device, tid = TID_ENGINE(l->core, in->engine);
	uint64_t hz = p->clock_hz, base = l->base_cycles;

	if (in->start > in->ready)
		fprintf(f, ",\n{\"name\":\"wait sem %u\",\"cat\":\"wait\",\"ph\":\"X\",\"pid\":%u,"
			"\"tid\":%u,\"ts\":%.6f,\"dur\":%.6f,\"args\":{\"launch\":%zu,\"index\":%u,"
			"\"sem\":%u,\"value\":%u,\"cycles\":%" PRIu64 "}}",
			in->wait_sem, pid, tid, cycles_us(base + in->ready, hz),
			cycles_us(in->start - in->ready, hz), li, in->index, in->wait_sem,
			in->wait_value, in->start - in->ready);
	fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"insn\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,"
		"\"ts\":%.6f,\"dur\":%.6f,\"args\":{\"launch\":%zu,\"index\":%u,\"cycles\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"sync\":%u", tern_opcode_name(in->opcode), pid, tid,
		cycles_us(base + in->start, hz),
		cycles_us(in->end > in->start ? in->end - in->start : 0, hz), li, in->index,
		in->end > in->start ? in->end - in->start : 0, in->bytes, in->sync);
	if (in->sync & TERN_SYNC_WAIT)
		fprintf(f, ",\"wait_sem\":%u,\"wait_value\":%u", in->wait_sem, in->wait_value);
	if (in->sync & TERN_SYNC_SIGNAL)
		fprintf(f, ",\"signal_sem\":%u", in->signal_sem);
	fputs("}}", f);
}

static void write_launch(FILE *f, const struct tern_profile *p, size_t li)
{
	const struct tern_profile_launch *l = &p->launches[li];
	unsigned int pid = p->device;
	char args[512];
	int n;

	n = snprintf(args, sizeof(args), "{\"launch\":%zu,\"core\":%u,\"result\":%d,\"cycles\":%"
		     PRIu64 ",\"base_cycles\":%" PRIu64 ",\"dropped\":%u,\"records\":%zu",
		     li, l->core, l->result, l->cycles, l->base_cycles, l->dropped, l->ninsns);
	for (unsigned int e = 0; e < TERN_NUM_ENGINES && n > 0 && (size_t)n < sizeof(args); e++)
		n += snprintf(args + n, sizeof(args) - (size_t)n,
			      ",\"%s_insns\":%u,\"%s_busy\":%" PRIu64, engine_words[e],
			      l->insn_count[e], engine_words[e], l->busy[e]);
	fprintf(f, ",\n{\"name\":");
	put_name(f, l->name);
	fprintf(f, ",\"cat\":\"launch\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.6f,"
		"\"dur\":%.6f,\"args\":%s}}", pid, TID_CORE(l->core),
		cycles_us(l->base_cycles, p->clock_hz), cycles_us(l->cycles, p->clock_hz), args);
	/* The same launch on the host's timeline: from the call until seen done. */
	fprintf(f, ",\n{\"name\":");
	put_name(f, l->name);
	fprintf(f, ",\"cat\":\"launch\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,"
		"\"dur\":%.3f,\"args\":{\"launch\":%zu,\"core\":%u,\"result\":%d,\"wall_ns\":%"
		PRIu64 "}}", pid, TID_HOST, host_us(p, l->host_start_ns),
		host_us(p, l->host_end_ns) - host_us(p, l->host_start_ns), li, l->core,
		l->result, l->host_end_ns - l->host_start_ns);
	for (size_t i = 0; i < l->ninsns; i++)
		if (l->insns[i].engine < TERN_NUM_ENGINES)
			write_insn(f, p, l, li, &l->insns[i]);
}

TERN_EXPORT int tern_profile_write_json(const struct tern_profile *prof, FILE *f)
{
	const struct tern_profile *p = prof;
	char name[32];

	if (!p || !f)
		return tern_fail(-EINVAL, "tern_profile_write_json: NULL argument");
	fprintf(f, "{\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,"
		"\"tid\":0,\"args\":{\"name\":\"tern%u\"}}", p->device, p->device);
	if (p->nlaunches || p->ncopies)
		thread_meta(f, p->device, TID_HOST, "host", 0);
	for (unsigned int c = 0; c < p->num_cores; c++) {
		bool ran = false, used[TERN_NUM_ENGINES] = { false };

		for (size_t i = 0; i < p->nlaunches; i++) {
			const struct tern_profile_launch *l = &p->launches[i];

			if (l->core != c)
				continue;
			ran = true;
			for (size_t k = 0; k < l->ninsns; k++)
				if (l->insns[k].engine < TERN_NUM_ENGINES)
					used[l->insns[k].engine] = true;
		}
		if (!ran)
			continue;
		snprintf(name, sizeof(name), "core %u", c);
		thread_meta(f, p->device, TID_CORE(c), name, TID_CORE(c));
		for (unsigned int e = 0; e < TERN_NUM_ENGINES; e++) {
			if (!used[e])
				continue;
			snprintf(name, sizeof(name), "core %u %s", c, engine_words[e]);
			thread_meta(f, p->device, TID_ENGINE(c, e), name, TID_ENGINE(c, e));
		}
	}
	for (size_t i = 0; i < p->nlaunches; i++)
		write_launch(f, p, i);
	for (size_t i = 0; i < p->ncopies; i++) {
		const struct tern_profile_copy *c = &p->copies[i];

		fprintf(f, ",\n{\"name\":\"copy %s\",\"cat\":\"copy\",\"ph\":\"X\",\"pid\":%u,"
			"\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"copy\":%zu,\"queue\":%d,"
			"\"direction\":\"%s\",\"bytes\":%" PRIu64 ",\"wall_ns\":%" PRIu64 "}}",
			direction_words[c->direction & 3], p->device, TID_HOST,
			host_us(p, c->host_start_ns),
			host_us(p, c->host_end_ns) - host_us(p, c->host_start_ns), i, (int)c->queue,
			direction_words[c->direction & 3], c->bytes,
			c->host_end_ns - c->host_start_ns);
	}
	fprintf(f, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"device\":%u,"
		"\"num_cores\":%u,\"clock_hz\":%" PRIu64 ",\"launches\":%zu,\"copies\":%zu,"
		"\"host_ns\":%" PRIu64 ",\"modeled_time\":\"us of modeled cycles from each core's start\","
		"\"host_time\":\"us from tern_profile_start\"}}\n", p->device, p->num_cores,
		p->clock_hz, p->nlaunches, p->ncopies,
		p->host_end_ns > p->host_start_ns ? p->host_end_ns - p->host_start_ns : 0);
	if (fflush(f) || ferror(f))
		return tern_fail(-EIO, "tern_profile_write_json: write failed");
	return 0;
}
