/* vfork + exec: the parent's memory (its stack, argv strings) is intact
 * after the child execs, and the child's exec sees exactly its argv. The
 * program re-execs itself (argv[0]) with "child ARGS". */
#include "common.h"
#include <fcntl.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "child") == 0) {
		printf("child argc: %d\n", argc);
		for (int i = 1; i < argc; i++)
			printf("child argv[%d]: %s\n", i, argv[i]);
		printf("child env: %s\n",
		       getenv("KBOX_TEST_VAR") ? getenv("KBOX_TEST_VAR") : "(unset)");
		return 5;
	}

	char path[4096];
	snprintf(path, sizeof(path), "%s", argv[0]);
	char *args[] = {path, "child", "one", "two words", "", NULL};
	char *env[] = {"KBOX_TEST_VAR=from-parent", NULL};
	volatile int marker = 1234;
	int status;

	pid_t pid = vfork();
	if (pid == 0) {
		execve(path, args, env);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exit: %d\n", WEXITSTATUS(status));
	printf("marker: %d\n", marker);
	printf("path_intact: %d\n", strcmp(path, argv[0]) == 0);
	printf("args_intact: %s|%s|%s|%s\n", args[1], args[2], args[3], args[4]);

	/* vfork child that execs something missing, then a script. */
	pid = vfork();
	if (pid == 0) {
		execve("./does-not-exist", args, env);
		_exit(errno == ENOENT ? 42 : 43);
	}
	waitpid(pid, &status, 0);
	printf("missing_exec_exit: %d\n", WEXITSTATUS(status));
	printf("path_still_intact: %d\n", strcmp(path, argv[0]) == 0);

	/* Several vforks in a row. */
	volatile int ok = 0;
	for (volatile int i = 0; i < 10; i++) {
		char *a2[] = {path, "child", NULL};
		pid = vfork();
		if (pid == 0) {
			int fd = open("/nonexistent", 0);
			(void)fd;
			execve(path, a2, env);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		ok += WEXITSTATUS(status) == 5;
	}
	printf("ten_vforks_ok: %d\n", ok);
	return 0;
}
