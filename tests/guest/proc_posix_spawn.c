/* posix_spawn and posix_spawnp with file actions (open, dup2, close) and
 * attributes; the parent's data stay intact. Re-execs itself as a child. */
#include "common.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "child") == 0) {
		printf("child argv:");
		for (int i = 2; i < argc; i++)
			printf(" [%s]", argv[i]);
		printf("\n");
		if (argc >= 3 && strcmp(argv[2], "a") == 0 && getenv("SPAWN_STDERR"))
			fprintf(stderr, "to stderr\n");
		return argc;
	}

	char self[4096];
	snprintf(self, sizeof(self), "%s", argv[0]);
	pid_t pid;
	int status;
	char *args[] = {self, "child", "a", "b c", NULL};

	char *env_err[] = {"SPAWN_STDERR=1", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int rc = posix_spawn(&pid, self, &fa, NULL, args, env_err);
	waitpid(pid, &status, 0);
	printf("posix_spawn: %s\n", rc == 0 ? "ok" : errname(rc));
	printf("exit: %d\n", WEXITSTATUS(status));
	char buf[256];
	get_file("out.txt", buf, sizeof(buf));
	printf("out.txt: %s", buf);
	posix_spawn_file_actions_destroy(&fa);

	/* glibc reports the failed exec as ENOENT; musl too (it uses a pipe);
	 * an implementation that could not would show exit 127. */
	rc = posix_spawn(&pid, "./missing", NULL, NULL, args, environ);
	if (rc == 0) {
		waitpid(pid, &status, 0);
		printf("spawn_missing: exit %d\n", WEXITSTATUS(status));
	} else {
		printf("spawn_missing: %s\n", errname(rc));
	}

	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	fflush(stdout);
	rc = posix_spawn(&pid, self, NULL, &at, args, environ);
	waitpid(pid, &status, 0); /* the child prints: report after it */
	printf("spawn_setpgroup: %s\n", rc == 0 ? "ok" : errname(rc));
	printf("exit: %d\n", WEXITSTATUS(status));
	posix_spawnattr_destroy(&at);

	/* posix_spawnp searches PATH for a name without a slash. */
	char *sh_args[] = {"sh", "-c", "echo from sh $0 $1", "x", "y", NULL};
	char *env[] = {"PATH=/bin:/usr/bin", NULL};
	rc = posix_spawnp(&pid, "sh", NULL, NULL, sh_args, env);
	waitpid(pid, &status, 0);
	printf("spawnp_sh: %s\n", rc == 0 ? "ok" : errname(rc));
	printf("exit: %d\n", WEXITSTATUS(status));
	printf("self_intact: %d args_intact: %s|%s|%s\n", strcmp(self, argv[0]) == 0, args[1],
	       args[2], args[3]);
	return 0;
}
