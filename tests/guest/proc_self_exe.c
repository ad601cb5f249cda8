/* /proc/self/exe names the running program (basename compared, the
 * directory differs between runs), also after an exec through a symlink and
 * in a child; and, as on Linux, the file's current name after it is
 * renamed, with " (deleted)" once it is unlinked, in the process and in a
 * child it forked before. */
#include "common.h"
#include <fcntl.h>
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

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	return close(out);
}

static void run_child(const char *path, char *const args[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(path, args);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* Run from a copy of the program: rename it, then unlink it. */
static int moved_program(void)
{
	int fds[2];
	char c;
	pid_t pid;

	show("copy");
	if (pipe(fds))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) { /* forked before the rename, reads the link after it */
		close(fds[1]);
		if (read(fds[0], &c, 1) == 1)
			show("copy_forked_child_after_rename");
		_exit(0);
	}
	close(fds[0]);
	rename("exe-copy", "exe-moved");
	show("copy_renamed");
	if (write(fds[1], "x", 1) != 1)
		return 1;
	waitpid(pid, NULL, 0);
	unlink("exe-moved");
	show("copy_unlinked");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "child") == 0) {
		show("after_exec_via_symlink");
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return moved_program();
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
	char *via_link[] = {"alias-link", "child", NULL};
	run_child("./alias-link", via_link);
	char *shell[] = {"sh", "-c", "readlink /proc/self/exe | sed 's|.*/||'", NULL};
	run_child("/bin/sh", shell);
	if (copy_file(target, "exe-copy"))
		return 1;
	char *copy[] = {"exe-copy", "copy", NULL};
	run_child("./exe-copy", copy);
	return 0;
}
