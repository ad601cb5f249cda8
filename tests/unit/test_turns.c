// SPDX-License-Identifier: MIT
/*
 * Turns to sleep in NOTIF_RECV (src/intercept/unotify/turns.c): one turn
 * while calls are answered on the spot, every receiver's after an fd
 * install, one again after a run of answers without one; a waiting thread
 * is woken when a turn frees or the turns widen, and leaves without a
 * turn when the watcher stops it. Each test runs in a process of its own.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "intercept/unotify/unotify.h"

static atomic_bool stop;

bool kbox_watcher_stop_requested(void)
{
	return atomic_load(&stop);
}

struct taker {
	pthread_t th;
	atomic_bool has_turn;
	atomic_bool done;
	bool give_back; /* pass the turn at once */
};

static void *take_one(void *arg)
{
	struct taker *t = arg;

	kbox_turn_take();
	atomic_store(&t->has_turn, kbox_turn_held());
	if (t->give_back)
		kbox_turn_pass();
	atomic_store(&t->done, true);
	return NULL;
}

static void start(struct taker *t)
{
	cr_assert_eq(pthread_create(&t->th, NULL, take_one, t), 0);
}

/* True if @flag becomes true within @ms milliseconds. */
static bool within(atomic_bool *flag, int ms)
{
	struct timespec step = {.tv_nsec = 1000000};

	for (int i = 0; i < ms; i++) {
		if (atomic_load(flag))
			return true;
		nanosleep(&step, NULL);
	}
	return atomic_load(flag);
}

Test(turns, one_thread_takes_and_passes)
{
	kbox_turn_take();
	cr_assert(kbox_turn_held());
	kbox_turn_pass();
	cr_assert_not(kbox_turn_held());
	kbox_turn_take();
	cr_assert(kbox_turn_held());
}

Test(turns, one_turn_while_answers_are_quick)
{
	struct taker b = {0};

	kbox_turn_take();
	start(&b);
	cr_assert_not(within(&b.done, 50), "a second thread got a turn while one is held");
	kbox_turn_pass();
	cr_assert(within(&b.done, 2000), "the freed turn did not wake the waiting thread");
	cr_assert(atomic_load(&b.has_turn));
	pthread_join(b.th, NULL);
}

Test(turns, an_fd_install_gives_every_receiver_a_turn)
{
	struct taker t[KBOX_RECEIVERS - 1] = {0};

	kbox_turn_take();
	for (int i = 0; i < KBOX_RECEIVERS - 1; i++)
		start(&t[i]);
	cr_assert_not(within(&t[0].done, 30));
	kbox_turn_before_fd_install();
	for (int i = 0; i < KBOX_RECEIVERS - 1; i++) {
		cr_assert(within(&t[i].done, 2000), "receiver %d still waits after the widening",
			  i);
		cr_assert(atomic_load(&t[i].has_turn));
		pthread_join(t[i].th, NULL);
	}
	cr_assert(kbox_turn_held());
}

Test(turns, a_run_of_answers_without_an_install_narrows_to_one)
{
	struct taker extra = {0}, late = {0};

	kbox_turn_take();
	kbox_turn_before_fd_install();
	start(&extra);
	cr_assert(within(&extra.done, 2000));
	pthread_join(extra.th, NULL); /* it keeps its turn: two held now */
	for (int i = 0; i < 63; i++)
		kbox_turn_after_answer();
	kbox_turn_trim();
	cr_assert(kbox_turn_held(), "narrowed before the run was long enough");
	kbox_turn_after_answer();
	kbox_turn_trim();
	cr_assert_not(kbox_turn_held(), "a thread over the number kept its turn");
	/* One turn is still held (by the thread that exited): a newcomer waits. */
	start(&late);
	cr_assert_not(within(&late.done, 50));
	kbox_turn_before_fd_install();
	cr_assert(within(&late.done, 2000));
	pthread_join(late.th, NULL);
}

static void on_wake(int sig)
{
	(void)sig;
}

Test(turns, a_stopped_waiter_leaves_without_a_turn)
{
	struct sigaction sa = {.sa_handler = on_wake}; /* no SA_RESTART, as the watcher's */
	struct taker w = {0};

	sigaction(SIGUSR2, &sa, NULL);
	kbox_turn_take();
	start(&w);
	cr_assert_not(within(&w.done, 30));
	atomic_store(&stop, true);
	for (int i = 0; i < 200 && !atomic_load(&w.done); i++) {
		pthread_kill(w.th, SIGUSR2);
		within(&w.done, 5);
	}
	cr_assert(atomic_load(&w.done), "the waiter did not stop");
	cr_assert_not(atomic_load(&w.has_turn));
	pthread_join(w.th, NULL);
}

/* Many rounds on every receiver: never more holders than receivers, no thread stuck. */
static atomic_int holding, most;

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int i = 0; i < 20000; i++) {
		int now;

		kbox_turn_trim();
		if (!kbox_turn_held())
			kbox_turn_take();
		now = atomic_fetch_add(&holding, 1) + 1;
		for (int m = atomic_load(&most);
		     now > m && !atomic_compare_exchange_weak(&most, &m, now);)
			;
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 7 == 0)
			kbox_turn_before_fd_install();
		atomic_fetch_sub(&holding, 1);
		kbox_turn_after_answer();
		if ((seed >> 16) % 5 == 0)
			kbox_turn_pass();
	}
	kbox_turn_pass();
	return NULL;
}

Test(turns, churn_keeps_the_bound_and_finishes)
{
	pthread_t th[KBOX_RECEIVERS];

	for (int i = 0; i < KBOX_RECEIVERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
	for (int i = 0; i < KBOX_RECEIVERS; i++)
		pthread_join(th[i], NULL);
	cr_assert_leq(atomic_load(&most), KBOX_RECEIVERS);
	cr_assert_geq(atomic_load(&most), 1);
}
