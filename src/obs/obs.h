/* SPDX-License-Identifier: MIT */
/*
 * Observability: --trace (one line per dispatched syscall) and --stats
 * (counts and latency per syscall and per disposition, printed at exit).
 * Tiers call these hooks; obs calls nothing back but the request's tier ops
 * to decode string arguments.
 */
#ifndef KBOX_OBS_OBS_H
#define KBOX_OBS_OBS_H

#include <stdbool.h>
#include <stdint.h>

#include "../intercept/request.h"

struct kbox_obs_config {
	bool trace;
	const char *trace_file; /* NULL: stderr */
	bool stats;
};

int kbox_obs_init(const struct kbox_obs_config *cfg);
bool kbox_obs_tracing(void);
bool kbox_obs_active(void);
uint64_t kbox_obs_now_ns(void);

/*
 * Before dispatch (only when tracing): decode the arguments while guest
 * memory still holds what the guest passed. @buf receives the text.
 */
void kbox_obs_decode_args(struct kbox_request *req, char *buf, size_t size);
/* After the answer was sent. */
void kbox_obs_record(const struct kbox_request *req, const struct kbox_result *res,
		     const char *decoded_args);
/* At exit: the tier that ran and the table; protections that were on. */
void kbox_obs_report(const char *tier, const char *protections);
void kbox_obs_fini(void);

#endif
