// SPDX-License-Identifier: MIT
/*
 * Which receiver threads may sleep in SECCOMP_IOCTL_NOTIF_RECV.
 *
 * The kernel's wait in RECV is not exclusive: every notification wakes
 * every thread asleep there (onto the guest's CPU, with the synchronous
 * wakeup) and all but one go back to sleep, a context switch each per
 * answered call. So only threads holding a turn sleep in RECV; the others
 * wait on a futex. One turn is enough while the guest's calls are answered
 * on the spot (stat, access, readlink, identity): the holder answers and
 * goes straight back to RECV.
 *
 * An fd install is different: ADDFD waits until the guest has taken the
 * fd, and the guest's next call comes while it waits. If no other thread
 * is in RECV then, that call waits for this one, and handing a turn on
 * before each install (a futex wake of a sleeping thread, often on another
 * CPU) costs more than it saves. So the first install gives every receiver
 * a turn (measured: open+close as fast as with all of them in RECV, which
 * two turns were not), until a run of calls without an install narrows to
 * one again; a thread that finds itself over the number gives its turn
 * back before its next RECV.
 *
 * A handler that may wait (I/O, an image, a blocking open) hands its turn
 * on first, so another task's call is still received at once: until a
 * notification is received, a signal to the guest fails the call with
 * EINTR where Linux would not.
 */
#include "unotify.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Answers without an fd install after which the turns narrow to one. */
#define QUICK_RUN_TO_NARROW 64

static _Atomic int holders; /* threads holding a turn */
static _Atomic int wanted = 1;
static _Atomic unsigned turn_seq; /* futex word: changes when a turn frees */
static _Atomic int waiters;
static _Atomic int quick_run;
static _Thread_local bool holds_turn;

static void wake_waiters(int n)
{
	atomic_fetch_add(&turn_seq, 1);
	if (atomic_load(&waiters))
		syscall(SYS_futex, &turn_seq, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void kbox_turn_take(void)
{
	for (;;) {
		unsigned seq = atomic_load(&turn_seq);
		int h = atomic_load(&holders);

		if (h < atomic_load(&wanted)) {
			if (atomic_compare_exchange_weak(&holders, &h, h + 1))
				break;
			continue;
		}
		atomic_fetch_add(&waiters, 1);
		/* EINTR: the watcher wants this thread to stop; the caller checks. */
		syscall(SYS_futex, &turn_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
		atomic_fetch_sub(&waiters, 1);
		if (kbox_watcher_stop_requested())
			return;
	}
	holds_turn = true;
}

void kbox_turn_pass(void)
{
	if (!holds_turn)
		return;
	holds_turn = false;
	atomic_fetch_sub(&holders, 1);
	wake_waiters(1);
}

bool kbox_turn_held(void)
{
	return holds_turn;
}

/* Before RECV: a thread over the number of turns gives its own back. */
void kbox_turn_trim(void)
{
	if (holds_turn && atomic_load(&holders) > atomic_load(&wanted)) {
		holds_turn = false;
		atomic_fetch_sub(&holders, 1);
	}
}

void kbox_turn_before_fd_install(void)
{
	int one = 1;

	atomic_store(&quick_run, 0);
	if (atomic_compare_exchange_strong(&wanted, &one, KBOX_RECEIVERS))
		wake_waiters(KBOX_RECEIVERS);
}

void kbox_turn_after_answer(void)
{
	if (atomic_load(&wanted) > 1 && atomic_fetch_add(&quick_run, 1) + 1 >= QUICK_RUN_TO_NARROW)
		atomic_store(&wanted, 1);
}
