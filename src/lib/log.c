// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum kbox_log_level log_level = KBOX_LOG_WARN;

void kbox_log_set_level(enum kbox_log_level level)
{
	log_level = level;
}

bool kbox_log_enabled(enum kbox_log_level level)
{
	return level <= log_level;
}

/* One write(2) per message, so lines from kbox's threads never interleave. */
void kbox_log(enum kbox_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (!kbox_log_enabled(level))
		return;
	n = snprintf(buf, sizeof(buf), "kbox: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}
