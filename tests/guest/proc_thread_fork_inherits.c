/* A child that a second thread forks keeps the cwd and umask of the moment
 * it was forked, even when the main thread changes both before the child
 * makes any call: the host runs fork without telling kbox, so kbox must
 * take the state from the thread that forked it before the main thread's
 * change (and for that, know that the process has more than one thread). */
#include "common.h"
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int ready[2], go[2], finish[2];
static pid_t child = -1;

static const char *base(char *buf, size_t cap)
{
	if (!getcwd(buf, cap))
		return errname(errno);
	return strrchr(buf, '/') + 1;
}

static void *forker(void *arg)
{
	char c, buf[4096];

	(void)arg;
	child = fork();
	if (child == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		mode_t m = umask(0);
		printf("child cwd: %s umask: %o\n", base(buf, sizeof(buf)), m);
		_exit(0);
	}
	if (write(ready[1], "r", 1) != 1 || read(finish[0], &c, 1) != 1)
		die("thread pipes");
	return NULL;
}

int main(void)
{
	char c, buf[4096];
	pthread_t t;
	int status = 0;

	mkdir("forked_here", 0755);
	mkdir("changed_later", 0755);
	if (chdir("forked_here") || pipe(ready) || pipe(go) || pipe(finish))
		die("setup");
	umask(022);
	if (pthread_create(&t, NULL, forker, NULL) || read(ready[0], &c, 1) != 1)
		die("pthread_create");
	/* The forking thread still runs: the child is its child, not main's. */
	report("chdir", chdir("../changed_later"));
	umask(077);
	if (write(go[1], "g", 1) != 1 || waitpid(child, &status, 0) != child)
		die("child");
	printf("child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf("main cwd: %s\n", base(buf, sizeof(buf)));
	if (write(finish[1], "f", 1) != 1 || pthread_join(t, NULL))
		die("join");
	return 0;
}
