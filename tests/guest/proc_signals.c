/* Signals between processes: a handler runs on kill from another process,
 * sigprocmask + sigsuspend handshakes, SIGCHLD, SIGKILL/SIGSTOP/SIGCONT
 * seen through waitpid, a signal interrupting a blocking read (EINTR without
 * SA_RESTART, restarted with it), and exit by a signal. */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_chld, got_alrm;

static void on_usr1(int s)
{
	(void)s;
	got_usr1++;
}
static void on_usr2(int s)
{
	(void)s;
	got_usr2++;
}
static void on_chld(int s)
{
	(void)s;
	got_chld++;
}
static void on_alrm(int s)
{
	(void)s;
	got_alrm++;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int main(void)
{
	sigset_t block, old;
	int status;

	handle(SIGUSR1, on_usr1, 0);
	handle(SIGUSR2, on_usr2, 0);
	handle(SIGCHLD, on_chld, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* Ping-pong: the child sends USR1, the parent answers USR2, 5 times. */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++) {
			kill(parent, SIGUSR1);
			while (!got_usr2)
				sigsuspend(&old);
			got_usr2 = 0;
		}
		_exit(got_usr1);
	}
	for (int i = 0; i < 5; i++) {
		while (!got_usr1)
			sigsuspend(&old);
		got_usr1 = 0;
		kill(pid, SIGUSR2);
	}
	waitpid(pid, &status, 0);
	printf("ping_pong_child_exit: %d\n", WEXITSTATUS(status));
	printf("sigchld_seen: %d\n", got_chld > 0);

	/* A pending blocked signal is delivered on unblock. */
	got_usr1 = 0;
	raise(SIGUSR1);
	printf("pending_while_blocked: %d\n", got_usr1);
	sigset_t pend;
	sigpending(&pend);
	printf("sigpending_has_usr1: %d\n", sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("delivered_after_unblock: %d\n", got_usr1);

	/*
	 * Stop, continue, kill: waitpid reports each. SIGCHLD is back to its
	 * default first: the CLD_CONTINUED one comes when the child next runs,
	 * at any time, and would interrupt a later call (natively too).
	 */
	handle(SIGCHLD, SIG_DFL, 0);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGSTOP);
	waitpid(pid, &status, WUNTRACED);
	printf("stopped: %d sig %d\n", WIFSTOPPED(status), WSTOPSIG(status));
	kill(pid, SIGCONT);
	waitpid(pid, &status, WCONTINUED);
	printf("continued: %d\n", WIFCONTINUED(status));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("killed: %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));

	/* EINTR from a blocking read without SA_RESTART. */
	int p[2];
	char c;
	pipe(p);
	handle(SIGALRM, on_alrm, 0);
	alarm(1);
	ssize_t n = read(p[0], &c, 1);
	printf("read_interrupted: %zd %s alarm %d\n", n, n < 0 ? errname(errno) : "-", got_alrm);

	/* With SA_RESTART the read restarts and gets the byte written later. */
	handle(SIGUSR1, on_usr1, SA_RESTART);
	got_usr1 = 0;
	pid = fork();
	if (pid == 0) {
		kill(getppid(), SIGUSR1);
		usleep(200000);
		write(p[1], "z", 1);
		_exit(0);
	}
	n = read(p[0], &c, 1);
	printf("read_restarted: %zd %c usr1 %d\n", n, n == 1 ? c : '-', got_usr1);
	waitpid(pid, &status, 0);

	/* sigqueue value, and kill with signal 0 as an existence check. */
	printf("kill0_self: %d\n", kill(getpid(), 0));
	report("kill_no_such_pid", kill(999999, SIGTERM));

	/* Ignored SIGTERM survives, default SIGTERM kills. */
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		raise(SIGTERM);
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("ignored_then_default: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
	fflush(stdout);
	signal(SIGUSR2, SIG_DFL);
	raise(SIGUSR2);
	return 0;
}
