// SPDX-License-Identifier: MIT
/*
 * Starting the guest under seccomp user notification.
 *
 *   kbox (supervisor) ── fork ──▶ reaper ── fork ──▶ guest (first process)
 *
 * The reaper is a child subreaper: every guest process that loses its
 * parent lands there, so when the first guest process exits, or kbox dies
 * (the reaper's parent-death signal), the reaper kills every guest process
 * that is left and nothing outlives kbox. The guest installs the filter
 * with a listener, tells the supervisor its pid and the listener's fd
 * number, and waits; the supervisor takes the listener with pidfd_getfd,
 * attaches the first exec plan, and lets it go: it then execs the stub
 * from kbox's first-exec site, which the filter notifies.
 */
#include "unotify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../lib/proctree.h"
#include "../../lib/rundir.h"
#include "../../loader/loader.h"
#include "../landlock.h"

static volatile sig_atomic_t supervisor_died;

static void on_parent_death(int sig)
{
	(void)sig;
	supervisor_died = 1;
}

static int install_filter(const struct sock_fprog *prog, bool *killable)
{
	unsigned long flags =
		SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	long fd;

	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	*killable = fd >= 0;
	if (fd < 0 && errno == EINVAL) {
		flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	}
	return fd < 0 ? -errno : (int)fd;
}

/*
 * The guest starts with the signal state kbox was given, not the one kbox
 * set for itself. Exec resets every caught signal to its default; only what
 * kbox ignores for itself (Ctrl-C, Ctrl-\) must be undone. SIGSYS stays
 * unblocked: the stub needs it for exec.
 */
static void reset_signals(const struct kbox_launch *l)
{
	static const int own[] = {SIGINT, SIGQUIT};
	sigset_t mask = l->mask;

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		signal(own[i], sigismember(&l->ignored, own[i]) == 1 ? SIG_IGN : SIG_DFL);
	sigdelset(&mask, SIGSYS);
	sigprocmask(SIG_SETMASK, &mask, NULL);
}

static __attribute__((noreturn)) void guest_main(const struct kbox_launch *l,
						 const struct sock_fprog *prog, int up, int down,
						 int stub_fd, int landlock_abi)
{
	struct kbox_handshake hs = {.pid = getpid()};
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	reset_signals(l);
	if (chdir(l->host_cwd) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		hs.err = -errno;
	/* Landlock first: the filter would otherwise have to let its calls through. */
	if (!hs.err && landlock_abi > 0)
		hs.landlocked = kbox_landlock_restrict(landlock_abi) == 0;
	if (!hs.err) {
		hs.listener = install_filter(prog, &hs.killable);
		if (hs.listener < 0)
			hs.err = hs.listener;
	}
	if (write(up, &hs, sizeof(hs)) != sizeof(hs) || hs.err)
		_exit(125);
	if (read(down, &go, 1) != 1)
		_exit(125);
	close(hs.listener);
	close(up);
	close(down);
	kbox_loader_exec_first(stub_fd, l->argv, l->envp);
	_exit(125);
}

static int kill_one(pid_t pid, void *arg)
{
	(void)arg;
	kill(pid, SIGKILL);
	return 0;
}

static void kill_all_guests(void)
{
	for (;;) {
		kbox_proctree_walk(getpid(), kill_one, NULL);
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

static __attribute__((noreturn)) void reaper_main(const struct kbox_launch *l,
						  const struct sock_fprog *prog,
						  struct kbox_unotify_pipes *p, pid_t supervisor)
{
	struct sigaction sa = {.sa_handler = on_parent_death};
	pid_t guest;
	int status;

	close(p->up[0]);
	close(p->down[1]);
	close(p->status[0]);
	sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: waitpid must return */
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (getppid() != supervisor)
		_exit(125);
	guest = fork();
	if (guest < 0)
		_exit(125);
	if (guest == 0) {
		close(p->status[1]);
		guest_main(l, prog, p->up[1], p->down[0], p->stub_fd, p->landlock_abi);
	}
	close(p->up[1]);
	close(p->down[0]);
	while (!supervisor_died) {
		pid_t w = waitpid(-1, &status, 0);

		if (w == guest) {
			if (write(p->status[1], &status, sizeof(status)) != sizeof(status))
				break;
			break;
		}
		if (w < 0 && errno == ECHILD)
			break;
	}
	kill_all_guests();
	/* kbox cannot clean up after itself once killed: its directories go here. */
	if (supervisor_died)
		kbox_rundir_remove_all();
	_exit(0);
}

int kbox_unotify_spawn(const struct kbox_launch *l, const struct sock_fprog *prog,
		       struct kbox_unotify_pipes *p, pid_t *reaper)
{
	pid_t self = getpid();

	if (pipe2(p->up, O_CLOEXEC) || pipe2(p->down, O_CLOEXEC) || pipe2(p->status, O_CLOEXEC))
		return -errno;
	*reaper = fork();
	if (*reaper < 0)
		return -errno;
	if (*reaper == 0)
		reaper_main(l, prog, p, self);
	close(p->up[1]);
	close(p->down[0]);
	close(p->status[1]);
	return 0;
}
