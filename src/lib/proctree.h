/* SPDX-License-Identifier: MIT */
/* The host's process tree below a pid, as /proc shows it. */
#ifndef KBOX_LIB_PROCTREE_H
#define KBOX_LIB_PROCTREE_H

#include <sys/types.h>

/*
 * Call @fn(child, @arg) for every process below @pid, each before its own
 * children, found through /proc/<pid>/task/<tid>/children. A non-zero
 * result of @fn stops the walk and is returned. The depth is bounded, so
 * a guest cannot make kbox recurse without limit.
 */
int kbox_proctree_walk(pid_t pid, int (*fn)(pid_t child, void *arg), void *arg);

#endif
