// SPDX-License-Identifier: MIT
/*
 * The watcher thread: everything the supervisor must learn besides
 * notifications, so that the supervisor itself can block in NOTIF_RECV
 * (where SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP hands the CPU straight from
 * guest to supervisor and back; an epoll wait would lose that).
 *
 * It waits on the pidfds of guest processes (added by the kernel state with
 * EPOLLONESHOT) and on the reaper's status pipe. A process that is gone is
 * queued; the receivers drain the queue under the state lock before each
 * request. When the first guest exits, it stores the status and interrupts
 * every receiver's RECV with SIGUSR2 until all have stopped: one signal
 * could land just before RECV blocks.
 */
#include "unotify.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "../../kernel/kernel.h"

#define GONE_MAX 1024

static pthread_mutex_t gone_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t gone[GONE_MAX];
static int ngone;
static atomic_int gone_pending;
static atomic_bool stop_requested;
#define RECEIVERS_MAX 8

static pthread_mutex_t receivers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t receivers_left = PTHREAD_COND_INITIALIZER;
static pthread_t receivers[RECEIVERS_MAX];
static bool receiver_done[RECEIVERS_MAX];
static int nreceivers, nreceivers_done;
static int watch_epfd = -1;
static int status_fd = -1;
static int first_status;
static pthread_t watcher;

enum {
	EV_STATUS = 1
};

static void on_wake(int sig)
{
	(void)sig;
}

static void push_gone(pid_t tgid)
{
	pthread_mutex_lock(&gone_lock);
	if (ngone < GONE_MAX)
		gone[ngone++] = tgid;
	atomic_store(&gone_pending, 1);
	pthread_mutex_unlock(&gone_lock);
}

void kbox_watcher_drain(void)
{
	pid_t batch[GONE_MAX];
	int n;

	if (!atomic_load_explicit(&gone_pending, memory_order_relaxed))
		return;
	pthread_mutex_lock(&gone_lock);
	n = ngone;
	memcpy(batch, gone, sizeof(pid_t) * (size_t)n);
	ngone = 0;
	atomic_store(&gone_pending, 0);
	pthread_mutex_unlock(&gone_lock);
	for (int i = 0; i < n; i++)
		kbox_kernel_process_gone(batch[i]);
}

bool kbox_watcher_stop_requested(void)
{
	return atomic_load(&stop_requested);
}

void kbox_watcher_add_receiver(void)
{
	pthread_mutex_lock(&receivers_lock);
	if (nreceivers < RECEIVERS_MAX)
		receivers[nreceivers++] = pthread_self();
	pthread_mutex_unlock(&receivers_lock);
}

void kbox_watcher_receiver_done(void)
{
	pthread_mutex_lock(&receivers_lock);
	for (int i = 0; i < nreceivers; i++)
		if (pthread_equal(receivers[i], pthread_self()) && !receiver_done[i]) {
			receiver_done[i] = true;
			nreceivers_done++;
			pthread_cond_signal(&receivers_left);
		}
	pthread_mutex_unlock(&receivers_lock);
}

/*
 * Returns when every receiver has left its loop. A receiver leaves as soon
 * as it sees stop_requested; the signal only breaks its RECV or its wait
 * for the turn. One that was between its check and RECV when the signal
 * came sleeps on, so the signal is sent again if none left for a while.
 */
static void interrupt_receivers(void)
{
	atomic_store(&stop_requested, true);
	pthread_mutex_lock(&receivers_lock);
	while (nreceivers == 0 || nreceivers_done < nreceivers) {
		struct timespec until;

		for (int i = 0; i < nreceivers; i++)
			if (!receiver_done[i])
				pthread_kill(receivers[i], SIGUSR2);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&receivers_left, &receivers_lock, &until);
	}
	pthread_mutex_unlock(&receivers_lock);
}

static void *watch(void *arg)
{
	struct epoll_event evs[16];

	(void)arg;
	for (;;) {
		int n = epoll_wait(watch_epfd, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;

			if (d & KBOX_EPOLL_PIDFD) {
				push_gone((pid_t)(uint32_t)d);
				continue;
			}
			if (read(status_fd, &first_status, sizeof(first_status)) !=
			    sizeof(first_status))
				first_status = -1;
			goto done;
		}
	}
	first_status = -1;
done:
	interrupt_receivers();
	return NULL;
}

int kbox_watcher_start(int reaper_status_fd)
{
	struct sigaction sa = {.sa_handler = on_wake}; /* no SA_RESTART: RECV must return */
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_STATUS};
	int err;

	sigaction(SIGUSR2, &sa, NULL);
	status_fd = reaper_status_fd;
	watch_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (watch_epfd < 0 || epoll_ctl(watch_epfd, EPOLL_CTL_ADD, status_fd, &ev))
		return -errno;
	kbox_kernel_watch(watch_epfd);
	err = pthread_create(&watcher, NULL, watch, NULL);
	return -err;
}

int kbox_watcher_finish(int *status)
{
	pthread_join(watcher, NULL);
	close(watch_epfd);
	*status = first_status;
	return first_status == -1 ? -ECHILD : 0;
}
