/*
 * floor_sigsys: the cost of a bare SIGSYS round trip, the floor under
 * every call kbox's in-process `trap` tier answers.
 *
 * Installs a seccomp filter that returns SECCOMP_RET_TRAP for one syscall
 * (getppid) and allows the rest; the SIGSYS handler fakes the return value
 * by writing RAX in the signal frame. Times the calls and prints
 * "sigsys_round_trip MICROSECONDS" (median of rounds).
 *
 * Usage: floor_sigsys [-n CALLS_PER_ROUND] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MAGIC 4243

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	(void)sig;
	if (si->si_syscall == SYS_getppid)
		uc->uc_mcontext.gregs[REG_RAX] = MAGIC;
	else
		uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

int main(int argc, char **argv)
{
	long n = 50000;
	int rounds = 5, c;
	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		switch (c) {
		case 'n':
			n = atol(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n CALLS_PER_ROUND] [-r ROUNDS]\n", argv[0]);
			return 2;
		}
	}
	if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "floor_sigsys: bad -n or -r\n");
		return 2;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		die("sigaction");

	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		die("seccomp(SECCOMP_SET_MODE_FILTER)");

	double per[MAX_ROUNDS];
	for (int i = 0; i < 1000; i++)
		if (syscall(SYS_getppid) != MAGIC) {
			errno = EPROTO;
			die("the handler did not fake the return value");
		}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_us();
		for (long i = 0; i < n; i++)
			if (syscall(SYS_getppid) != MAGIC) {
				errno = EPROTO;
				die("the handler did not fake the return value");
			}
		per[r] = (now_us() - t0) / n;
	}
	printf("sigsys_round_trip %.4f\n", median(per, rounds));
	return 0;
}
