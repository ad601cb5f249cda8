/*
 * runone: run one command for bench/run and report how it went.
 *
 *   runone [-t TIMEOUT_S] [-m] [-o OUT] [-e ERR] -- PROGRAM [ARG...]
 *
 * Runs PROGRAM in its own session (process group), stdin from /dev/null,
 * stdout to OUT and stderr to ERR (default /dev/null), and prints one line:
 *   wall=SECONDS status=EXIT|sigN|timeout hwm_kb=KIB|-
 * wall is CLOCK_MONOTONIC from fork to reap. On timeout the whole process
 * group is killed with SIGKILL.
 *
 * -m measures the peak RSS (VmHWM) of PROGRAM's own process — not of its
 * children — exactly: runone traces it with PTRACE_SEIZE and only
 * PTRACE_O_TRACEEXIT, and reads /proc/PID/status at the exit stop, before
 * the kernel drops the memory. Signals are passed through untouched; the
 * tracing costs one extra stop per signal PROGRAM receives, so bench/run
 * measures memory in runs it does not time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long read_hwm(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int redirect(int fd, const char *path, int flags)
{
	int f = open(path, flags, 0644);
	if (f < 0)
		return -1;
	if (dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

int main(int argc, char **argv)
{
	double timeout = 600;
	int mem = 0, c;
	const char *out = "/dev/null", *err = "/dev/null";
	while ((c = getopt(argc, argv, "+t:mo:e:")) != -1) {
		switch (c) {
		case 't':
			timeout = atof(optarg);
			break;
		case 'm':
			mem = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'e':
			err = optarg;
			break;
		default:
			fprintf(stderr, "usage: runone [-t TIMEOUT_S] [-m] [-o OUT] [-e ERR] -- "
					"PROGRAM [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "runone: no program given\n");
		return 2;
	}

	int go[2];
	if (pipe2(go, O_CLOEXEC) != 0) {
		perror("runone: pipe");
		return 2;
	}
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		perror("runone: fork");
		return 2;
	}
	if (pid == 0) {
		setsid();
		if (redirect(0, "/dev/null", O_RDONLY) ||
		    redirect(1, out, O_WRONLY | O_CREAT | O_TRUNC) ||
		    redirect(2, err, O_WRONLY | O_CREAT | O_TRUNC))
			_exit(125);
		close(go[1]);
		char ch;
		if (read(go[0], &ch, 1) != 1)
			_exit(125);
		execvp(argv[optind], argv + optind);
		dprintf(2, "runone: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(go[0]);
	int traced = 0;
	if (mem) {
		if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL) == 0)
			traced = 1;
		else
			perror("runone: PTRACE_SEIZE (no memory figure)");
	}
	t0 = now_s();
	if (write(go[1], "g", 1) != 1) {
		perror("runone: write");
		return 2;
	}
	close(go[1]);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)(timeout + 0.999));

	long hwm = -1;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, __WALL);
		if (w < 0) {
			if (errno == EINTR && timed_out) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("runone: waitpid");
			return 2;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WIFSTOPPED(status) && traced) {
			int ev = status >> 16;
			int sig = 0;
			if (ev == PTRACE_EVENT_EXIT) {
				hwm = read_hwm(pid);
			} else if (ev == PTRACE_EVENT_STOP) {
				/* group-stop under SEIZE: let it stay stopped as untraced would */
				ptrace(PTRACE_LISTEN, pid, 0, 0);
				continue;
			} else if (ev == 0) {
				sig = WSTOPSIG(status);
			}
			ptrace(PTRACE_CONT, pid, 0, sig);
		}
	}
	double wall = now_s() - t0;
	alarm(0);
	/* stragglers of a failed run (a guest kbox left behind) must not survive */
	kill(-pid, SIGKILL);

	char st[32];
	if (timed_out)
		snprintf(st, sizeof st, "timeout");
	else if (WIFEXITED(status))
		snprintf(st, sizeof st, "%d", WEXITSTATUS(status));
	else
		snprintf(st, sizeof st, "sig%d", WTERMSIG(status));
	if (hwm >= 0)
		printf("wall=%.6f status=%s hwm_kb=%ld\n", wall, st, hwm);
	else
		printf("wall=%.6f status=%s hwm_kb=-\n", wall, st);
	return 0;
}
