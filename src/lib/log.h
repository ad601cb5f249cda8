/* SPDX-License-Identifier: MIT */
/* Messages to the user on stderr, prefixed "kbox: ". No knowledge of kbox. */
#ifndef KBOX_LIB_LOG_H
#define KBOX_LIB_LOG_H

#include <stdbool.h>

enum kbox_log_level {
	KBOX_LOG_ERROR,
	KBOX_LOG_WARN,
	KBOX_LOG_INFO,
	KBOX_LOG_DEBUG,
};

void kbox_log_set_level(enum kbox_log_level level);
bool kbox_log_enabled(enum kbox_log_level level);
void kbox_log(enum kbox_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kbox_err(...)	kbox_log(KBOX_LOG_ERROR, __VA_ARGS__)
#define kbox_warn(...)	kbox_log(KBOX_LOG_WARN, __VA_ARGS__)
#define kbox_info(...)	kbox_log(KBOX_LOG_INFO, __VA_ARGS__)
#define kbox_debug(...) kbox_log(KBOX_LOG_DEBUG, __VA_ARGS__)

#endif
