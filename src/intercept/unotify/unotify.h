/* SPDX-License-Identifier: MIT */
/* The seccomp user-notify tier: internal interface between its files. */
#ifndef KBOX_INTERCEPT_UNOTIFY_UNOTIFY_H
#define KBOX_INTERCEPT_UNOTIFY_UNOTIFY_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../intercept.h"

/* What the first guest process tells the supervisor before it may run. */
struct kbox_handshake {
	pid_t pid;
	int listener;	 /* fd number in the guest, taken with pidfd_getfd */
	int err;	 /* -errno if the guest could not set itself up */
	bool killable;	 /* the filter has WAIT_KILLABLE_RECV */
	bool landlocked; /* the guest restricted itself with Landlock */
};

struct kbox_unotify_pipes {
	int up[2];     /* guest -> supervisor: struct kbox_handshake */
	int down[2];   /* supervisor -> guest: one byte, "go" */
	int status[2]; /* reaper -> supervisor: the first guest's wait status */
	int stub_fd;
	int landlock_abi; /* the host's, 0 for none */
};

/* Fork the reaper, which forks the guest. Returns 0 or -errno. */
int kbox_unotify_spawn(const struct kbox_launch *l, const struct sock_fprog *prog,
		       struct kbox_unotify_pipes *p, pid_t *reaper);

/* The watcher thread (watcher.c): pidfds of guest processes and the reaper's status. */
int kbox_watcher_start(int reaper_status_fd);
void kbox_watcher_drain(void);
bool kbox_watcher_stop_requested(void);
int kbox_watcher_finish(int *status);
/* Threads that receive notifications, and their turns to sleep in NOTIF_RECV (turns.c). */
#define KBOX_RECEIVERS 3
void kbox_turn_take(void);
void kbox_turn_pass(void);
bool kbox_turn_held(void);
void kbox_turn_trim(void);
void kbox_turn_before_fd_install(void);
void kbox_turn_after_answer(void);
/* Each receiving thread registers, so that the watcher can stop it. */
void kbox_watcher_add_receiver(void);
void kbox_watcher_receiver_done(void);

#endif
