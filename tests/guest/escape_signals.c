/* Signals reach no process outside the guest. argv[1] is a host process of
 * the same user (the harness checks it is still alive afterwards): kill,
 * tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo and pidfd_send_signal
 * at it with SIGTERM all fail (natively the pid does not exist in the
 * guest's pid namespace: ESRCH; kbox's Landlock signal scope: EPERM; both
 * print "refused"), and so does SIGIO with it as the owner. kill(-1) and
 * kill(0) are tested by the integration suite (procs/kill_*), with a
 * canary in kbox's process group: here a native run outside a pid
 * namespace would signal the whole session. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static void refused(const char *label, long rc)
{
	if (rc == 0)
		printf("%s: ok\n", label);
	else if (errno == ESRCH || errno == EPERM)
		printf("%s: refused\n", label);
	else
		printf("%s: %s\n", label, errname(errno));
}

static long queue(int nr, pid_t pid, int sig)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE; /* a negative code, as sigqueue(3) sends */
	si.si_pid = getpid();
	si.si_uid = getuid();
	return nr == SYS_rt_sigqueueinfo ? syscall(nr, pid, sig, &si)
					 : syscall(nr, pid, pid, sig, &si);
}

static void at_host(pid_t host)
{
	refused("kill_host", kill(host, SIGTERM));
	refused("kill_host_probe", kill(host, 0));
	refused("tkill_host", syscall(SYS_tkill, host, SIGTERM));
	refused("tgkill_host", syscall(SYS_tgkill, host, host, SIGTERM));
	refused("rt_sigqueueinfo_host", queue(SYS_rt_sigqueueinfo, host, SIGTERM));
	refused("rt_tgsigqueueinfo_host", queue(SYS_rt_tgsigqueueinfo, host, SIGTERM));
	/* pidfd_open may succeed under kbox (the pid exists on the host); the
	 * signal through it must not. */
	long pfd = syscall(SYS_pidfd_open, host, 0);
	refused("pidfd_send_signal_host",
		pfd < 0 ? -1 : syscall(SYS_pidfd_send_signal, (int)pfd, SIGTERM, NULL, 0));
	if (pfd >= 0)
		close((int)pfd);
}

/* SIGIO (here SIGTERM, by F_SETSIG) from a pipe whose owner is the host
 * process: Linux refuses F_SETOWN of a pid it does not know (natively);
 * under kbox F_SETOWN works (the pid exists on the host) and Landlock's
 * signal scope drops the signal. The harness checks the host process. */
static void sigio_at_host(pid_t host)
{
	int p[2];

	if (pipe(p))
		die("pipe");
	if (fcntl(p[0], F_SETOWN, host) == 0 && fcntl(p[0], F_SETSIG, SIGTERM) == 0 &&
	    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) == 0)
		write(p[1], "x", 1);
	printf("sigio_host: sent if it could be\n");
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s HOST_PID\n", argv[0]);
		return 2;
	}
	at_host((pid_t)atoi(argv[1]));
	sigio_at_host((pid_t)atoi(argv[1]));
	return 0;
}
