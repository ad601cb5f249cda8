/* Pipes: data through fork, EOF when all writers close, EPIPE/SIGPIPE when
 * the reader is gone, a three-stage pipeline through exec of sh, and
 * O_NONBLOCK giving EAGAIN. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int p[2], status;
	char buf[128];

	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < 1000; i++)
			write(p[1], "0123456789", 10);
		_exit(0);
	}
	close(p[1]);
	long total = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		total += n;
	printf("bytes_through_pipe: %ld eof: %zd\n", total, n);
	close(p[0]);
	waitpid(pid, &status, 0);

	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	report("write_no_reader_ignored", write(p[1], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	pid = fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("sigpipe_kills: %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
	close(p[1]);

	pipe2(p, O_NONBLOCK);
	report("read_empty_nonblock", read(p[0], buf, 1));
	close(p[0]);
	close(p[1]);

	/* echo | tr | sort through sh and exec of busybox applets. */
	pipe(p);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", "printf 'b\\na\\nc\\n' | tr a-z A-Z | sort -r",
		      (char *)0);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	while (n >= 0 && n < 6) {
		ssize_t m = read(p[0], buf + n, sizeof(buf) - 1 - n);
		if (m <= 0)
			break;
		n += m;
	}
	buf[n > 0 ? n : 0] = 0;
	printf("pipeline: %s", buf);
	waitpid(pid, &status, 0);
	printf("pipeline_exit: %d\n", WEXITSTATUS(status));

	/* Capacity: a nonblocking writer fills the pipe and gets EAGAIN. */
	pipe2(p, O_NONBLOCK);
	long cap = 0;
	while ((n = write(p[1], buf, sizeof(buf))) > 0)
		cap += n;
	printf("fills_then: %s cap_ge_4096: %d\n", errname(errno), cap >= 4096);
	return 0;
}
