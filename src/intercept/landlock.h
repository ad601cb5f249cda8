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
 * and with ABI 6 to signalling its own domain. Needs PR_SET_NO_NEW_PRIVS.
 * Returns 0 or -errno.
 */
int kbox_landlock_restrict(int abi);

#endif
