/* /proc/self/exe names the running program (basename compared, the
 * directory differs between runs), also after an exec through a symlink and
 * in a child. */
#include "common.h"
#include <libgen.h>
#include <sys/wait.h>

static void show(const char *label)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	buf[n] = 0;
	printf("%s: %s\n", label, basename(buf));
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "child") == 0) {
		show("after_exec_via_symlink");
		return 0;
	}
	show("self");
	pid_t pid = fork();
	if (pid == 0) {
		show("forked_child");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	char target[4096];
	snprintf(target, sizeof(target), "%s", argv[0]);
	symlink(target, "alias-link");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *args[] = {"alias-link", "child", NULL};
		execv("./alias-link", args);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	pid = fork();
	if (pid == 0) {
		char *args[] = {"sh", "-c", "readlink /proc/self/exe | sed 's|.*/||'", NULL};
		execv("/bin/sh", args);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
