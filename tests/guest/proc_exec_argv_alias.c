/* execv(argv[1], &argv[1]): the path and argv[0] are one string, as in
 * wrappers like env and nohup; argv and envp must arrive unchanged. */
#include "common.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0) {
		/* argv[0] is the path we were exec'ed with: print only whether
		 * it matches what the parent passed (in argv[2]). */
		printf("argc: %d\n", argc);
		printf("argv0_is_path: %d\n", argc >= 3 && strcmp(argv[0], argv[2]) == 0);
		for (int i = 3; i < argc; i++)
			printf("argv[%d]: %s\n", i, argv[i]);
		printf("env: %s\n", getenv("ALIAS_VAR") ? getenv("ALIAS_VAR") : "(unset)");
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		/* Called as: prog exec PATH show PATH args... */
		execv(argv[2], &argv[2]);
		printf("execv: %s\n", errname(errno));
		return 1;
	}

	/* Build the chain: fork, child execs "prog exec PROG show PROG x y". */
	setenv("ALIAS_VAR", "kept", 1);
	char *self = argv[0];
	char *args[] = {self, "exec", self, "show", self, "x", "a longer argument", NULL};
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execv(self, args);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("exit: %d\n", WEXITSTATUS(status));

	/* The path pointer equals argv[0] pointer in the same exec. */
	char *same[] = {self, "show", self, "direct", NULL};
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(same[0], same);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exit: %d\n", WEXITSTATUS(status));
	return 0;
}
