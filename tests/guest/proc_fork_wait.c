/* fork and the wait family: exit statuses, signals, WNOHANG, ECHILD,
 * waitid, and memory copied, not shared, after fork. */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int status, value = 1;
	pid_t pids[5];

	for (int i = 0; i < 5; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			value = 100 + i;
			_exit(i * 10);
		}
	}
	for (int i = 4; i >= 0; i--) {
		pid_t got = waitpid(pids[i], &status, 0);
		printf("child %d: waited %d exited %d code %d\n", i, got == pids[i],
		       WIFEXITED(status), WEXITSTATUS(status));
	}
	printf("parent_value_unchanged: %d\n", value);
	report("wait_no_children", wait(&status));

	pid_t p = fork();
	if (p == 0) {
		raise(SIGTERM);
		_exit(0);
	}
	waitpid(p, &status, 0);
	printf("signaled: %d sig: %d\n", WIFSIGNALED(status), WTERMSIG(status));

	int pfd[2];
	pipe(pfd);
	p = fork();
	if (p == 0) {
		char c;
		close(pfd[1]);
		read(pfd[0], &c, 1);
		_exit(7);
	}
	close(pfd[0]);
	report_val("wnohang_running", waitpid(p, &status, WNOHANG));
	write(pfd[1], "x", 1);
	close(pfd[1]);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	report("waitid", waitid(P_PID, p, &si, WEXITED));
	printf("waitid: pid_match %d code %d status %d\n", si.si_pid == p, si.si_code == CLD_EXITED,
	       si.si_status);

	/* Many children at once, reaped in any order. */
	int sum = 0;
	for (int i = 0; i < 20; i++)
		if (fork() == 0)
			_exit(i);
	for (int i = 0; i < 20; i++) {
		if (wait(&status) > 0)
			sum += WEXITSTATUS(status);
	}
	printf("sum_of_20: %d\n", sum);
	return 3;
}
