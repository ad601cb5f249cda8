/* SPDX-License-Identifier: MIT */
/*
 * kbox's own fd table, grown ahead of need. The kernel grows a process's
 * table by doubling as fds are allocated, and in a process with more than
 * one thread every growth waits for an RCU grace period (expand_fdtable
 * calls synchronize_rcu): measured at up to 13 ms here, paid inside the
 * guest call that made kbox open its 64th, 128th, 256th... fd.
 */
#ifndef KBOX_LIB_FDTABLE_H
#define KBOX_LIB_FDTABLE_H

/* Make room for fds below @n now (at most the soft RLIMIT_NOFILE). */
void kbox_fdtable_reserve(unsigned n);

#endif
