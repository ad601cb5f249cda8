/*
 * floor_unotify: the cost of a bare seccomp user-notify round trip, the
 * floor under every call kbox's seccomp tier answers.
 *
 * A child installs a filter that notifies one syscall (getppid) and allows
 * the rest, and hands the listener fd to the parent over a socketpair; the
 * parent answers every notification with a fixed value and nothing else.
 * The child times its calls. Run three times: both ends pinned to one CPU,
 * pinned to two different CPUs, and left to the scheduler.
 *
 * Prints "unotify_same_cpu US", "unotify_cross_cpu US" and
 * "unotify_unpinned US" (median of rounds; the cross-CPU line says "n/a" on
 * a one-CPU machine).
 *
 * Usage: floor_unotify [-n CALLS_PER_ROUND] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 64
#define MAGIC	   4242

static void die(const char *what)
{
	fprintf(stderr, "floor_unotify: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		die("sched_setaffinity");
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("PR_SET_NO_NEW_PRIVS");
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			 &prog);
	if (fd < 0)
		die("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER) (a kernel without user-notify?)");
	return fd;
}

static void send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
	struct cmsghdr *c1 = CMSG_FIRSTHDR(&m);
	c1->cmsg_level = SOL_SOCKET;
	c1->cmsg_type = SCM_RIGHTS;
	c1->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c1), &fd, sizeof fd);
	if (sendmsg(sock, &m, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
	if (recvmsg(sock, &m, 0) != 1)
		die("recvmsg");
	struct cmsghdr *c1 = CMSG_FIRSTHDR(&m);
	if (!c1 || c1->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		die("no fd received");
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c1), sizeof fd);
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One measurement; returns the median microseconds per round trip. */
static double measure(int child_cpu, int parent_cpu, long n, int rounds)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	const long warm = 200;
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		if (child_cpu >= 0)
			pin(child_cpu);
		int lfd = install_filter();
		send_fd(sv[1], lfd);
		close(lfd);
		double per[MAX_ROUNDS];
		for (long i = 0; i < warm; i++)
			if (syscall(SYS_getppid) != MAGIC)
				_exit(3);
		for (int r = 0; r < rounds; r++) {
			double t0 = now_us();
			for (long i = 0; i < n; i++)
				if (syscall(SYS_getppid) != MAGIC)
					_exit(3);
			per[r] = (now_us() - t0) / n;
		}
		if (write(sv[1], per, sizeof(double) * rounds) !=
		    (ssize_t)(sizeof(double) * rounds))
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	if (parent_cpu >= 0)
		pin(parent_cpu);
	int lfd = recv_fd(sv[0]);
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	long total = warm + n * rounds;
	for (long i = 0; i < total; i++) {
		memset(&req, 0, sizeof req);
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			die("SECCOMP_IOCTL_NOTIF_RECV");
		}
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		resp.val = MAGIC;
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
			die("SECCOMP_IOCTL_NOTIF_SEND");
	}
	double per[MAX_ROUNDS];
	size_t want = sizeof(double) * rounds, got = 0;
	while (got < want) {
		ssize_t k = read(sv[0], (char *)per + got, want - got);
		if (k <= 0)
			die("reading the child's timings");
		got += k;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = ECHILD;
		die("child failed");
	}
	close(lfd);
	close(sv[0]);
	/* unpin the parent again */
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE && c < sysconf(_SC_NPROCESSORS_ONLN); c++)
		CPU_SET(c, &all);
	sched_setaffinity(0, sizeof all, &all);
	qsort(per, rounds, sizeof per[0], cmp_double);
	return per[rounds / 2];
}

int main(int argc, char **argv)
{
	long n = 20000;
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
		fprintf(stderr, "floor_unotify: bad -n or -r\n");
		return 2;
	}
	printf("unotify_same_cpu %.4f\n", measure(0, 0, n, rounds));
	fflush(stdout);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		printf("unotify_cross_cpu %.4f\n", measure(0, 1, n, rounds));
	else
		printf("unotify_cross_cpu n/a\n");
	fflush(stdout);
	printf("unotify_unpinned %.4f\n", measure(-1, -1, n, rounds));
	return 0;
}
