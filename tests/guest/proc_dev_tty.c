/* /dev/tty is the calling process's controlling terminal, not kbox's: in a
 * new session without one it gives ENXIO; once the session takes a
 * pseudo-terminal, what is written to /dev/tty comes out of its master. */
#include "common.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static void session(void)
{
	char buf[64] = "";
	int m, s, t;

	if (setsid() < 0)
		die("setsid");
	report("no_ctty_open", open("/dev/tty", O_RDWR));
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m))
		die("posix_openpt");
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0)
		die("open slave");
	report("take_ctty", ioctl(s, TIOCSCTTY, 0));
	t = report("ctty_open", open("/dev/tty", O_RDWR));
	if (t < 0)
		return;
	report("write_tty", write(t, "via-dev-tty\n", 12));
	if (read(m, buf, sizeof(buf) - 1) > 0)
		printf("master_reads: %.11s\n", buf);
}

int main(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		session();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child_exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
