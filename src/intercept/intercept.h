/* SPDX-License-Identifier: MIT */
/*
 * Interception tiers: how a guest's syscalls reach kbox. Only the seccomp
 * user-notify tier exists so far.
 */
#ifndef KBOX_INTERCEPT_INTERCEPT_H
#define KBOX_INTERCEPT_INTERCEPT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct kbox_launch {
	char *const *argv;    /* guest argv, passed unchanged */
	char *const *envp;    /* guest environment */
	const char *host_cwd; /* host directory the guest's host cwd is set to (the root) */
	bool notify_ids;      /* identity is faked: notify the getuid family */
	bool notify_dirents;  /* a procfs is mounted: notify getdents (its root lists pids) */
	bool notify_image;    /* an image is mounted: notify fstat, fsync and sync */
	/*
	 * The signal state kbox was started with, which an exec would have
	 * passed on (nohup's ignored SIGHUP, a background job's SIGINT): the
	 * guest starts with it, not with what kbox set for itself.
	 */
	sigset_t ignored;
	sigset_t mask;
	/*
	 * Called in kbox after the first guest process exists and before it
	 * runs, to attach its exec plan. Returns 0 or -errno.
	 */
	int (*prepare_first)(pid_t tgid, void *arg);
	void *prepare_arg;
};

/* Kernel features found at start, for --stats and the one-line warnings. */
struct kbox_features {
	bool wait_killable_recv; /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19) */
	bool sync_wakeup;	 /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6) */
	int landlock_abi;	 /* 0: no Landlock; else the wall the guest runs behind */
	bool landlock_on;
	bool abstract_scope; /* kbox's own connects reach no host abstract socket (ABI 6) */
};

/*
 * Run the guest under the seccomp supervisor until the first guest process
 * exits; every other guest process is ended then. Returns the wait status
 * of the first process, or -errno when kbox itself failed (the message is
 * already printed).
 */
int kbox_unotify_run(const struct kbox_launch *launch, struct kbox_features *features);

#endif
