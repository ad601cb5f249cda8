/* SPDX-License-Identifier: MIT */
/* Landlock as a second wall behind the seccomp supervisor (see landlock.c). */
#ifndef KBOX_INTERCEPT_LANDLOCK_H
#define KBOX_INTERCEPT_LANDLOCK_H

#include <stdbool.h>

/* The host's Landlock ABI version; 0 when it has none (or it is disabled). */
int kbox_landlock_abi(void);
/* True when the wall also keeps the guest's signals inside it (ABI 6). */
bool kbox_landlock_scopes_signals(void);

/*
 * Restrict the calling task (and what it starts) to no host path at all,
 * and with ABI 6 to signalling and to abstract sockets of its own domain. Needs
 * PR_SET_NO_NEW_PRIVS. Returns 0 or -errno.
 */
int kbox_landlock_restrict(int abi);

/*
 * Scope the calling thread (and every thread and process it starts later)
 * for abstract AF_UNIX sockets: it can then connect or send only to those
 * of its own domain or of domains nested in it (the guest's). Call it in
 * kbox before any other thread exists and before the guest is forked.
 * Sets PR_SET_NO_NEW_PRIVS. Returns 0, -EOPNOTSUPP below ABI 6, or -errno.
 */
int kbox_landlock_scope_supervisor(int abi);
/* True once kbox_landlock_scope_supervisor() succeeded. */
bool kbox_landlock_abstract_scoped(void);

#endif
