/* Record locks: fcntl F_SETLK/F_GETLK between a parent and its child
 * (l_pid, conflicts, ranges), F_SETLKW waiting for a release, closing any
 * fd of the file dropping the process's locks, open-file-description locks
 * (F_OFD_*), and flock. */
#include "common.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) != 0)
		fl.l_type = -1;
	return fl;
}

static const char *tname(short t)
{
	return t == F_RDLCK ? "rd" : t == F_WRLCK ? "wr" : t == F_UNLCK ? "un" : "err";
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int main(void)
{
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	write(fd, "0123456789abcdefghij", 20);
	report("setlk_wr_0_10", lk(fd, F_SETLK, F_WRLCK, 0, 10));
	report("setlk_rd_10_5", lk(fd, F_SETLK, F_RDLCK, 10, 5));
	struct flock self = getlk(fd, F_GETLK, F_WRLCK, 0, 10);
	printf("getlk_own_lock: %s\n", tname(self.l_type));
	pid_t parent = getpid();

	int sync_pipe[2];
	pipe(sync_pipe);
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open("f", O_RDWR);
		struct flock fl = getlk(cfd, F_GETLK, F_WRLCK, 5, 1);
		printf("child_getlk: %s start %lld len %lld pid_is_parent %d\n", tname(fl.l_type),
		       (long long)fl.l_start, (long long)fl.l_len, fl.l_pid == parent);
		fl = getlk(cfd, F_GETLK, F_RDLCK, 10, 5);
		printf("child_getlk_read_on_read: %s\n", tname(fl.l_type));
		report("child_setlk_conflict", lk(cfd, F_SETLK, F_WRLCK, 0, 1));
		report("child_setlk_rd_on_rd", lk(cfd, F_SETLK, F_RDLCK, 12, 2));
		report("child_setlk_free_range", lk(cfd, F_SETLK, F_WRLCK, 15, 5));
		write(sync_pipe[1], "x", 1);
		/* blocks until the parent unlocks */
		report("child_setlkw", lk(cfd, F_SETLKW, F_WRLCK, 0, 10));
		_exit(0);
	}
	char c;
	read(sync_pipe[0], &c, 1);
	nap(100);
	struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 15, 1);
	printf("parent_sees_child_lock: %s pid_is_child %d\n", tname(fl.l_type), fl.l_pid == pid);
	int u = lk(fd, F_SETLK, F_UNLCK, 0, 0), e = errno, st;
	/* (printed after the child's line: its F_SETLKW returns as we unlock) */
	waitpid(pid, &st, 0);
	errno = e;
	report("unlock", u);
	printf("child_exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	fl = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
	printf("after_child_exit: %s\n", tname(fl.l_type));

	/* closing another fd of the same file drops this process's locks */
	report("relock", lk(fd, F_SETLK, F_WRLCK, 0, 10));
	close(open("f", O_RDONLY));
	pid = fork();
	if (pid == 0) {
		int cfd = open("f", O_RDWR);
		struct flock g = getlk(cfd, F_GETLK, F_WRLCK, 0, 10);
		printf("after_close_other_fd: %s\n", tname(g.l_type));
		_exit(0);
	}
	waitpid(pid, &st, 0);

	/* OFD locks: per open file description, even in one process */
	int a = open("f", O_RDWR), b = open("f", O_RDWR);
	report("ofd_setlk_a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	report("ofd_setlk_b_conflict", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10));
	fl = getlk(b, F_OFD_GETLK, F_WRLCK, 0, 1);
	printf("ofd_getlk: %s pid %d\n", tname(fl.l_type), fl.l_pid);
	report("ofd_bad_pid", ({
		       struct flock x = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1};
		       fcntl(b, F_OFD_SETLK, &x);
	       }));
	report("ofd_unlock", lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	report("ofd_setlk_b", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10));
	close(a);
	close(b);

	/* flock */
	a = open("f", O_RDONLY);
	b = open("f", O_RDONLY);
	report("flock_ex", flock(a, LOCK_EX));
	report("flock_ex_other_nb", flock(b, LOCK_EX | LOCK_NB));
	report("flock_sh_other_nb", flock(b, LOCK_SH | LOCK_NB));
	report("flock_un", flock(a, LOCK_UN));
	report("flock_ex_other", flock(b, LOCK_EX | LOCK_NB));
	report("flock_bad", flock(b, 0));
	close(a);
	close(b);

	/* errors */
	report("setlk_wr_on_rdonly", ({
		       int r = open("f", O_RDONLY);
		       int x = lk(r, F_SETLK, F_WRLCK, 0, 1);
		       int e = errno;
		       close(r);
		       errno = e;
		       x;
	       }));
	report("setlk_bad_type", lk(fd, F_SETLK, 42, 0, 1));
	report("setlk_negative", lk(fd, F_SETLK, F_WRLCK, -5, 1));
	report("setlk_ebadf", lk(1000, F_SETLK, F_WRLCK, 0, 1));
	return 0;
}
