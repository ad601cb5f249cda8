/* Close-on-exec: O_CLOEXEC, FD_CLOEXEC set with fcntl, pipe2, dup3 and
 * F_DUPFD_CLOEXEC fds are closed at exec; the others stay open with their
 * offsets. The program re-execs itself to look. */
#include "common.h"
#include <fcntl.h>
#include <sys/socket.h>

static void check(int fd, const char *label)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		printf("%s (fd %d): closed\n", label, fd);
	else
		printf("%s (fd %d): open offset %ld\n", label, fd, (long)lseek(fd, 0, SEEK_CUR));
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		check(10, "plain");
		check(11, "o_cloexec");
		check(12, "fcntl_setfd");
		check(13, "pipe2_cloexec_r");
		check(14, "pipe_plain_r");
		check(15, "dup3_cloexec");
		check(16, "dupfd_cloexec");
		check(17, "dup_of_cloexec");
		check(18, "socket_cloexec");
		check(19, "cleared_cloexec");
		return 0;
	}

	put_file("f", "0123456789");
	int fd = open("f", O_RDONLY);
	lseek(fd, 3, SEEK_SET);
	dup2(fd, 10);
	int c = open("f", O_RDONLY | O_CLOEXEC);
	dup3(c, 11, O_CLOEXEC);
	int s = open("f", O_RDONLY);
	dup2(s, 12);
	fcntl(12, F_SETFD, FD_CLOEXEC);
	int p[2];
	pipe2(p, O_CLOEXEC);
	dup3(p[0], 13, O_CLOEXEC);
	int q[2];
	pipe(q);
	dup2(q[0], 14);
	dup3(fd, 15, O_CLOEXEC);
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 16);
	if (d != 16)
		dup3(d, 16, O_CLOEXEC);
	dup2(11, 17); /* dup2 clears FD_CLOEXEC on the new fd */
	int so = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	dup3(so, 18, O_CLOEXEC);
	dup3(fd, 19, O_CLOEXEC);
	fcntl(19, F_SETFD, 0);
	check(11, "before_exec_o_cloexec");
	printf("flag_o_cloexec: %d\n", fcntl(11, F_GETFD) & FD_CLOEXEC);
	printf("flag_dup2_cleared: %d\n", fcntl(17, F_GETFD) & FD_CLOEXEC);
	fflush(stdout);
	char *args[] = {argv[0], "check", NULL};
	execv(argv[0], args);
	printf("execv: %s\n", errname(errno));
	return 1;
}
