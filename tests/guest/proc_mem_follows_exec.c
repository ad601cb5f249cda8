/* Guest memory is read from the right address space. Every process here
 * makes many path calls (enough for kbox to keep a /proc/PID/mem fd of its
 * own), then its memory changes under it: a fork's copy is rewritten, a
 * vfork child shares and then leaves its parent's memory by exec, and an
 * exec'd image puts new strings where the old ones were. Each stat must
 * see the path the caller wrote, never the bytes of another process or of
 * the image before the exec. The program re-execs itself (argv[0]). */
#include "common.h"
#include <sys/stat.h>
#include <sys/wait.h>

#define WARM_CALLS 40

/* Many stats of @path; the number that succeeded. */
static int stat_many(const char *path)
{
	struct stat st;
	int ok = 0;

	for (int i = 0; i < WARM_CALLS; i++)
		ok += stat(path, &st) == 0;
	return ok;
}

/* A path at a fixed place in memory, rewritten between calls. */
static char shared_path[64];

static void stat_report(const char *who, const char *path)
{
	snprintf(shared_path, sizeof(shared_path), "%s", path);
	printf("%s %s: %d of %d\n", who, path, stat_many(shared_path), WARM_CALLS);
}

static int exec_child(char *self, const char *mode)
{
	char *args[] = {self, (char *)mode, NULL};
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		/* The vfork child shares the parent's memory: reads see it too. */
		stat_report("vfork child before exec", "/etc/passwd");
		execv(self, args);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	char self[4096];

	if (argc >= 2 && strcmp(argv[1], "exec") == 0) {
		/* The new image: the same static buffer, new contents. */
		stat_report("exec'd image", "/nonexistent-after-exec");
		stat_report("exec'd image", "/etc");
		return 7;
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	stat_report("parent", "/etc/passwd");
	fflush(stdout);

	pid_t pid = fork();
	if (pid == 0) {
		/* A copy of the parent's memory, then changed only here. */
		stat_report("fork child", "/etc/passwd");
		stat_report("fork child", "/nonexistent-in-child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	stat_report("parent after fork", "/etc/passwd");

	fflush(stdout);
	printf("exec'd image exit: %d\n", exec_child(self, "exec"));
	/* The parent's own memory, unchanged by the vfork child's exec. */
	stat_report("parent after vfork", "/nonexistent-in-parent");
	stat_report("parent after vfork", "/etc/passwd");
	return 0;
}
