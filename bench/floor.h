/*
 * What the floor tools (floor_unotify.c, floor_sigsys.c, floor_filter.c)
 * share. Each tool is still built alone from its one .c file by bench/run,
 * which rebuilds them when this header changes.
 */
#ifndef KBOX_BENCH_FLOOR_H
#define KBOX_BENCH_FLOOR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 64 /* -r at most */

/* "TOOL: WHAT: strerror(errno)" on stderr, exit status 1. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values (sorts them). */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

#endif
