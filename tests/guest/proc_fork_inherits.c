/* A child gets the cwd and umask its parent had at fork time, even when the
 * parent changes them before the child makes its first call, and a child
 * whose parent exits first keeps them too. */
#include "common.h"
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void show(const char *who)
{
	char cwd[256];
	mode_t old = umask(0);
	const char *base = getcwd(cwd, sizeof(cwd)) ? strrchr(cwd, '/') : NULL;

	umask(old);
	printf("%s: cwd .../%s umask %03o\n", who, base ? base + 1 : "?", (unsigned)old);
}

int main(void)
{
	int pfd[2];
	pid_t pid;
	char c;

	mkdir("a", 0755);
	mkdir("b", 0755);
	chdir("a");
	umask(027);
	pid = fork();
	if (pid == 0) {
		nap(100); /* no call kbox sees until the parent has moved on */
		show("child");
		_exit(0);
	}
	chdir("../b");
	umask(077);
	waitpid(pid, NULL, 0);
	show("parent");

	/* A grandchild outliving its parent, with the cwd the parent gave it. */
	pipe(pfd);
	chdir("../a");
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			close(pfd[0]);
			nap(100);
			show("orphan");
			write(pfd[1], "x", 1);
			_exit(0);
		}
		chdir("/");
		_exit(0);
	}
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	read(pfd[0], &c, 1);
	return 0;
}
