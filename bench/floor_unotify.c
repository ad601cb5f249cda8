/*
 * floor_unotify: what a seccomp user-notify supervisor cannot do faster
 * than, on this machine: the floor under every call kbox's seccomp tier
 * answers.
 *
 * A child installs a filter that notifies getppid, newfstatat and openat
 * and allows the rest, and hands the listener fd to the parent over a
 * socketpair. The parent asks for synchronous wakeups (Linux 6.6; kbox
 * does too) where the kernel has them. The child times its calls:
 *
 *   bare        getppid, answered with a constant: the round trip alone.
 *               Both ends pinned to one CPU, to two CPUs, and unpinned.
 *   stat        newfstatat(AT_FDCWD, "DIR/data", buf, 0), answered with
 *               only the system calls any supervisor needs for it: the
 *               path read from /proc/PID/mem, fstatat on the last name
 *               from a directory fd held, ID_VALID (the tid may have been
 *               reused), the result written with process_vm_writev, SEND.
 *               No path walk, no checks, no bookkeeping.
 *   open+close  openat(AT_FDCWD, "DIR/data", O_RDONLY) and close: the path
 *               read, openat2 on the last name, ADDFD|SEND, close of the
 *               supervisor's copy. Only on one CPU: with one supervisor
 *               thread and no pinning the fd install's wakeup crosses CPUs.
 *
 * Prints "NAME US" lines (median of rounds): unotify_same_cpu,
 * unotify_cross_cpu ("n/a" on a one-CPU machine), unotify_unpinned,
 * unotify_stat_same_cpu, unotify_stat_unpinned, unotify_open_close_same_cpu.
 *
 * Usage: floor_unotify [-n CALLS_PER_ROUND] [-r ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MAGIC 4242

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	   SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* openat2's struct and flags, for headers older than Linux 5.6. */
struct floor_open_how {
	unsigned long long flags, mode, resolve;
};
#define FLOOR_RESOLVE_NO_MAGICLINKS 0x02
#define FLOOR_RESOLVE_NO_SYMLINKS   0x04
#define FLOOR_RESOLVE_BENEATH	    0x08

enum kind {
	BARE,
	STAT,
	OPEN_CLOSE
};

static char data_path[64]; /* DIR/data, the file stat and open+close name */
static int data_dirfd = -1;

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		die("sched_setaffinity");
}

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
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

/* The child's timed call; false when its answer is wrong. */
static int call_ok(enum kind kind, ino_t ino)
{
	struct stat st;
	long fd;

	switch (kind) {
	case BARE:
		return syscall(SYS_getppid) == MAGIC;
	case STAT:
		return syscall(SYS_newfstatat, AT_FDCWD, data_path, &st, 0) == 0 &&
		       st.st_ino == ino;
	case OPEN_CLOSE:
		fd = syscall(SYS_openat, AT_FDCWD, data_path, O_RDONLY);
		return fd >= 0 && close((int)fd) == 0;
	}
	return 0;
}

static void child(enum kind kind, int cpu, int sock, long n, int rounds, long warm)
{
	double per[MAX_ROUNDS];
	struct stat st;

	if (cpu >= 0)
		pin(cpu);
	if (stat(data_path, &st) != 0)
		_exit(5);
	int lfd = install_filter();
	send_fd(sock, lfd);
	close(lfd);
	for (long i = 0; i < warm; i++)
		if (!call_ok(kind, st.st_ino))
			_exit(3);
	for (int r = 0; r < rounds; r++) {
		double t0 = now_us();
		for (long i = 0; i < n; i++)
			if (!call_ok(kind, st.st_ino))
				_exit(3);
		per[r] = (now_us() - t0) / n;
	}
	if (write(sock, per, sizeof(double) * rounds) != (ssize_t)(sizeof(double) * rounds))
		_exit(4);
	_exit(0);
}

/* The last name of the guest's path, read as a supervisor reads it. */
static const char *read_last_name(int memfd, uint64_t addr, char *buf, size_t len)
{
	ssize_t got = pread(memfd, buf, len - 1, (off_t)addr);
	const char *slash;

	if (got <= 0)
		die("pread /proc/PID/mem");
	buf[got] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

static void answer_stat(int lfd, pid_t pid, int memfd, const struct seccomp_notif *req)
{
	struct seccomp_notif_resp resp = {.id = req->id};
	char path[256];
	struct stat st;
	const char *name = read_last_name(memfd, req->data.args[1], path, sizeof path);

	resp.error = fstatat(data_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	if (resp.error == 0) {
		struct iovec local = {&st, sizeof st};
		struct iovec remote = {(void *)(uintptr_t)req->data.args[2], sizeof st};

		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0)
			die("SECCOMP_IOCTL_NOTIF_ID_VALID");
		if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof st)
			die("process_vm_writev");
	}
	if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
		die("SECCOMP_IOCTL_NOTIF_SEND");
}

static void answer_open(int lfd, int memfd, const struct seccomp_notif *req)
{
	struct floor_open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = FLOOR_RESOLVE_BENEATH | FLOOR_RESOLVE_NO_SYMLINKS |
			   FLOOR_RESOLVE_NO_MAGICLINKS,
	};
	char path[256];
	const char *name = read_last_name(memfd, req->data.args[1], path, sizeof path);
	int fd = (int)syscall(SYS_openat2, data_dirfd, name, &how, sizeof how);
	struct seccomp_notif_addfd addfd = {
		.id = req->id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (unsigned)fd};

	if (fd < 0)
		die("openat2");
	if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0)
		die("SECCOMP_IOCTL_NOTIF_ADDFD");
	close(fd);
}

static void answer(int lfd, pid_t pid, int memfd, const struct seccomp_notif *req)
{
	struct seccomp_notif_resp resp = {.id = req->id, .val = MAGIC};

	if (req->data.nr == SYS_newfstatat)
		answer_stat(lfd, pid, memfd, req);
	else if (req->data.nr == SYS_openat)
		answer_open(lfd, memfd, req);
	else if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
		die("SECCOMP_IOCTL_NOTIF_SEND");
}

/* One measurement; returns the median microseconds per call. */
static double measure(enum kind kind, int child_cpu, int parent_cpu, long n, int rounds)
{
	const long warm = 200;
	char mem[64];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		child(kind, child_cpu, sv[1], n, rounds, warm);
	}
	close(sv[1]);
	if (parent_cpu >= 0)
		pin(parent_cpu);
	int lfd = recv_fd(sv[0]);
	/* Without it (before 6.6) the two ends meet as kbox's do there. */
	(void)ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0);
	snprintf(mem, sizeof mem, "/proc/%d/mem", (int)pid);
	int memfd = kind == BARE ? -1 : open(mem, O_RDONLY | O_CLOEXEC);
	if (kind != BARE && memfd < 0)
		die(mem);
	struct seccomp_notif req;
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
		answer(lfd, pid, memfd, &req);
	}
	if (memfd >= 0)
		close(memfd);
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
	return median(per, rounds);
}

static char data_dir[32];

/* A 64-byte file in a fresh directory, as syscall_bench's DATA. */
static void make_data(void)
{
	char bytes[64] = {0};
	int fd;

	strcpy(data_dir, "/tmp/floor_unotify.XXXXXX");
	if (!mkdtemp(data_dir))
		die("mkdtemp");
	snprintf(data_path, sizeof data_path, "%s/data", data_dir);
	fd = open(data_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, bytes, sizeof bytes) != (ssize_t)sizeof bytes || close(fd))
		die(data_path);
	data_dirfd = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (data_dirfd < 0)
		die(data_dir);
}

static void remove_data(void)
{
	unlink(data_path);
	rmdir(data_dir);
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
	long half = n > 1 ? n / 2 : 1; /* stat and open+close cost twice a bare round trip */

	make_data();
	atexit(remove_data); /* also when a measurement dies */
	printf("unotify_same_cpu %.4f\n", measure(BARE, 0, 0, n, rounds));
	fflush(stdout);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		printf("unotify_cross_cpu %.4f\n", measure(BARE, 0, 1, n, rounds));
	else
		printf("unotify_cross_cpu n/a\n");
	fflush(stdout);
	printf("unotify_unpinned %.4f\n", measure(BARE, -1, -1, n, rounds));
	printf("unotify_stat_same_cpu %.4f\n", measure(STAT, 0, 0, half, rounds));
	printf("unotify_stat_unpinned %.4f\n", measure(STAT, -1, -1, half, rounds));
	printf("unotify_open_close_same_cpu %.4f\n", measure(OPEN_CLOSE, 0, 0, half, rounds));
	return 0;
}
