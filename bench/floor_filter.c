/*
 * floor_filter: what any seccomp filter costs a call it lets through,
 * the floor under lseek+read, write and getpid in kbox's seccomp tier
 * (which never notifies them).
 *
 * Each round forks two children, one without a filter and one with a
 * filter that allows every x86-64 call (the shape of kbox's first checks:
 * the architecture, then allow). Linux caches an always-allowed call, so
 * no filter program runs per call; what is left is the syscall entry's
 * seccomp path. Both children time the same calls as syscall_bench:
 *   lseek_read  lseek(fd, 0) + read(fd, 64 bytes) of a 64-byte file
 *   write       write(fd, 64 bytes) to a file in DIR
 *   getpid      syscall(SYS_getpid)
 * Prints "filter_none_CALL US" and "filter_allow_CALL US" (medians of the
 * rounds; the two children alternate which runs first).
 *
 * Usage: floor_filter [-d DIR] [-n CALLS_PER_ROUND] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define NCALLS 3

static const char *const call_names[NCALLS] = {"lseek_read", "write", "getpid"};
static char data_path[4096], out_path[4096];

static void allow_all(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		die("seccomp(SECCOMP_SET_MODE_FILTER)");
}

/* Microseconds per call of @call over @n calls; exits on a wrong result. */
static double time_call(int call, int data_fd, int out_fd, long n)
{
	char buf[64] = {0};
	double t0 = now_us();

	for (long i = 0; i < n; i++) {
		switch (call) {
		case 0:
			if (lseek(data_fd, 0, SEEK_SET) != 0 ||
			    read(data_fd, buf, sizeof buf) != (ssize_t)sizeof buf)
				_exit(3);
			break;
		case 1:
			if (write(out_fd, buf, sizeof buf) != (ssize_t)sizeof buf)
				_exit(3);
			break;
		default:
			if (syscall(SYS_getpid) <= 0)
				_exit(3);
		}
	}
	return (now_us() - t0) / n;
}

/* One child's round: every call timed, results written to @out. */
static void child(int filtered, int out, long n)
{
	double per[NCALLS];
	int data_fd = open(data_path, O_RDONLY | O_CLOEXEC);
	int out_fd = open(out_path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (data_fd < 0 || out_fd < 0)
		_exit(5);
	if (filtered)
		allow_all();
	for (int c = 0; c < NCALLS; c++) {
		time_call(c, data_fd, out_fd, n / 10); /* warm-up */
		per[c] = time_call(c, data_fd, out_fd, n);
	}
	if (write(out, per, sizeof per) != (ssize_t)sizeof per)
		_exit(4);
	_exit(0);
}

static void run_child(int filtered, long n, double per[NCALLS])
{
	int p[2], st;
	pid_t pid;

	if (pipe(p) != 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		child(filtered, p[1], n);
	}
	close(p[1]);
	if (read(p[0], per, sizeof(double) * NCALLS) != (ssize_t)(sizeof(double) * NCALLS))
		die("reading a child's timings");
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = ECHILD;
		die("child failed");
	}
}

static void make_files(const char *dir)
{
	char bytes[64] = {0};
	int fd;

	snprintf(data_path, sizeof data_path, "%s/floor_filter.data.%d", dir, (int)getpid());
	snprintf(out_path, sizeof out_path, "%s/floor_filter.out.%d", dir, (int)getpid());
	fd = open(data_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, bytes, sizeof bytes) != (ssize_t)sizeof bytes || close(fd))
		die(data_path);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd))
		die(out_path);
}

static void remove_files(void)
{
	unlink(data_path);
	unlink(out_path);
}

int main(int argc, char **argv)
{
	double per[2][NCALLS][MAX_ROUNDS];
	const char *dir = "/tmp";
	long n = 200000;
	int rounds = 5, c;

	while ((c = getopt(argc, argv, "d:n:r:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-n CALLS_PER_ROUND] [-r ROUNDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (n < 10 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "floor_filter: -n must be at least 10 and -r 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	make_files(dir);
	atexit(remove_files); /* also when a child fails */
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			int filtered = (r + k) % 2;
			double got[NCALLS];

			run_child(filtered, n, got);
			for (int i = 0; i < NCALLS; i++)
				per[filtered][i][r] = got[i];
		}
	}
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i < NCALLS; i++)
			printf("filter_%s_%s %.4f\n", f ? "allow" : "none", call_names[i],
			       median(per[f][i], rounds));
	}
	return 0;
}
