// SPDX-License-Identifier: MIT
#include "obs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../dispatch/dispatch.h"
#include "../loader/stub_proto.h"

struct syscall_stat {
	uint64_t count;
	uint64_t total_ns;
	uint64_t errors;
};

static struct kbox_obs_config obs_cfg;
static FILE *trace_out;
static struct syscall_stat per_nr[KBOX_SYSCALL_MAX + 1]; /* last slot: unknown numbers */
static struct syscall_stat per_disp[KBOX_DISP_COUNT];
static struct syscall_stat stub_stat; /* KBOX_STUB_NR requests */

static const char *const disp_names[KBOX_DISP_COUNT] = {
	[KBOX_DISP_EMULATED] = "emulated",
	[KBOX_DISP_BACKEND] = "backend",
	[KBOX_DISP_HOST] = "host",
	[KBOX_DISP_DENIED] = "denied",
};

int kbox_obs_init(const struct kbox_obs_config *cfg)
{
	obs_cfg = *cfg;
	if (!cfg->trace)
		return 0;
	if (!cfg->trace_file) {
		trace_out = stderr;
		return 0;
	}
	trace_out = fopen(cfg->trace_file, "we");
	if (!trace_out)
		return -errno;
	setvbuf(trace_out, NULL, _IOLBF, 0);
	return 0;
}

bool kbox_obs_tracing(void)
{
	return obs_cfg.trace;
}

bool kbox_obs_active(void)
{
	return obs_cfg.trace || obs_cfg.stats;
}

uint64_t kbox_obs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Which argument of a syscall is a path string, for the trace. */
static int path_arg_index(int nr)
{
	static const struct {
		int nr, idx;
	} map[] = {
		{2, 0},	  {4, 0},   {6, 0},   {21, 0},	{59, 0},  {76, 0},  {80, 0},  {82, 0},
		{83, 0},  {84, 0},  {85, 0},  {86, 0},	{87, 0},  {88, 0},  {89, 0},  {90, 0},
		{92, 0},  {94, 0},  {132, 0}, {133, 0}, {137, 0}, {161, 0}, {188, 0}, {189, 0},
		{191, 0}, {192, 0}, {194, 0}, {195, 0}, {197, 0}, {198, 0}, {235, 0}, {254, 1},
		{257, 1}, {258, 1}, {259, 1}, {260, 1}, {261, 1}, {262, 1}, {263, 1}, {264, 1},
		{265, 1}, {266, 0}, {267, 1}, {268, 1}, {269, 1}, {280, 1}, {316, 1}, {322, 1},
		{332, 1}, {437, 1}, {439, 1}, {452, 1},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nr == nr)
			return map[i].idx;
	return -1;
}

/* The stub's requests (stub_proto.h): arg0 is the operation; EXEC_PREPARE names a path. */
static const char *stub_op_name(uint64_t op)
{
	static const char *const names[] = {"?",       "exec_prepare", "load_info",
					    "open_fd", "failed",       "open"};

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

void kbox_obs_decode_args(struct kbox_request *req, char *buf, size_t size)
{
	int pidx = path_arg_index(req->nr);

	if (req->nr == (int)KBOX_STUB_NR && req->args[0] == KBOX_STUB_OP_EXEC_PREPARE)
		pidx = 2;
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < 6 && n < size; i++) {
		const char *sep = i ? ", " : "";
		char path[256];

		if (i == pidx && req->args[i] &&
		    kbox_read_guest_string(req, req->args[i], path, sizeof(path)) >= 0) {
			n += (size_t)snprintf(buf + n, size - n, "%s\"%s\"", sep, path);
			continue;
		}
		n += (size_t)snprintf(buf + n, size - n, "%s%#" PRIx64, sep, req->args[i]);
	}
}

static void trace_line(const struct kbox_request *req, const struct kbox_result *res,
		       const char *args, uint64_t ns)
{
	const char *name = kbox_syscall_name(req->nr);
	char result[64], stub_name[32];

	if (res->kind == KBOX_RES_CONTINUE)
		snprintf(result, sizeof(result), "(host)");
	else if (res->kind == KBOX_RES_FD)
		snprintf(result, sizeof(result), "fd");
	else if (res->value < 0)
		snprintf(result, sizeof(result), "-1 %s", strerrorname_np((int)-res->value) ?: "?");
	else
		snprintf(result, sizeof(result), "%" PRId64, res->value);
	if (req->nr == (int)KBOX_STUB_NR) {
		snprintf(stub_name, sizeof(stub_name), "stub:%s", stub_op_name(req->args[0]));
		name = stub_name;
	}
	fprintf(trace_out, "[%d] %s(%s) = %s <%" PRIu64 ".%03" PRIu64 " us> %s\n", (int)req->tid,
		name ? name : "?", args ? args : "", result, ns / 1000, ns % 1000,
		disp_names[res->disp]);
}

void kbox_obs_record(const struct kbox_request *req, const struct kbox_result *res,
		     const char *decoded_args)
{
	uint64_t ns = (req->end_ns ? req->end_ns : kbox_obs_now_ns()) - req->start_ns;
	int slot = (req->nr >= 0 && req->nr < KBOX_SYSCALL_MAX) ? req->nr : KBOX_SYSCALL_MAX;
	bool failed = res->kind == KBOX_RES_VALUE && res->value < 0;
	struct syscall_stat *s = req->nr == (int)KBOX_STUB_NR ? &stub_stat : &per_nr[slot];

	s->count++;
	s->total_ns += ns;
	s->errors += failed;
	per_disp[res->disp].count++;
	per_disp[res->disp].total_ns += ns;
	per_disp[res->disp].errors += failed;
	if (obs_cfg.trace)
		trace_line(req, res, decoded_args, ns);
}

static void report_row(FILE *out, const char *name, const struct syscall_stat *s)
{
	fprintf(out, "  %-20s %10" PRIu64 " %8" PRIu64 " %12.3f %10.3f\n", name, s->count,
		s->errors, (double)s->total_ns / 1e6,
		s->count ? (double)s->total_ns / (double)s->count / 1e3 : 0.0);
}

void kbox_obs_report(const char *tier, const char *protections)
{
	FILE *out = stderr;
	uint64_t total = 0;

	if (!obs_cfg.stats)
		return;
	fprintf(out, "kbox stats: tier %s; protections: %s\n", tier, protections);
	fprintf(out, "  %-20s %10s %8s %12s %10s\n", "syscall", "calls", "errors", "total ms",
		"mean us");
	for (int nr = 0; nr <= KBOX_SYSCALL_MAX; nr++) {
		const char *name = kbox_syscall_name(nr);

		if (!per_nr[nr].count)
			continue;
		total += per_nr[nr].count;
		report_row(out, nr == KBOX_SYSCALL_MAX ? "(unknown)" : (name ? name : "?"),
			   &per_nr[nr]);
	}
	if (stub_stat.count) {
		total += stub_stat.count;
		report_row(out, "(exec stub)", &stub_stat);
	}
	fprintf(out,
		"  by disposition (%" PRIu64 " dispatched; calls the filter allows never "
		"reach kbox and are not counted):\n",
		total);
	for (int d = 0; d < KBOX_DISP_COUNT; d++)
		report_row(out, disp_names[d], &per_disp[d]);
}

void kbox_obs_fini(void)
{
	if (trace_out && trace_out != stderr)
		fclose(trace_out);
	trace_out = NULL;
}
