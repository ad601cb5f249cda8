/* execve of a #! script (with an argument on the #! line), of a script whose
 * interpreter is missing, of a non-ELF file without #! (ENOEXEC), of a file
 * without execute permission (EACCES), of a directory (EACCES), of a missing
 * file (ENOENT), and through a symlink. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void try_exec(const char *label, const char *path, char *const argv[])
{
	int pfd[2];
	int status;
	pipe(pfd);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *env[] = {"PATH=/bin:/usr/bin", NULL};
		close(pfd[0]);
		execve(path, argv, env);
		int e = errno;
		write(pfd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pfd[1]);
	int e = 0;
	ssize_t n = read(pfd[0], &e, sizeof(e));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (n == sizeof(e))
		printf("%s: %s\n", label, errname(e));
	else
		printf("%s: exec ok, exit %d\n", label, WEXITSTATUS(status));
}

static void make(const char *path, const char *text, mode_t mode)
{
	put_file(path, text);
	chmod(path, mode);
}

int main(void)
{
	make("script.sh", "#!/bin/sh\necho \"script: $0 [$1] [$2]\"\nexit 3\n", 0755);
	make("script_arg.sh", "#!/bin/sh -e\necho \"with -e: $0 $#\"\nfalse\necho not reached\n",
	     0755);
	make("nested.sh", "#!./script.sh\n", 0755);
	make("noninterp.sh", "#!/no/such/interpreter\necho hi\n", 0755);
	make("plain.txt", "just text, no #! line\n", 0755);
	make("noexec.sh", "#!/bin/sh\necho no\n", 0644);
	make("empty", "", 0755);
	make("crlf.sh", "#!/bin/sh\r\necho crlf\r\n", 0755);
	mkdir("adir", 0755);
	symlink("script.sh", "link.sh");

	char *a_script[] = {"script.sh", "one", "two", NULL};
	try_exec("script", "./script.sh", a_script);
	char *a_arg[] = {"script_arg.sh", NULL};
	try_exec("script_interp_arg", "./script_arg.sh", a_arg);
	char *a_nested[] = {"nested.sh", NULL};
	try_exec("script_nested_interp", "./nested.sh", a_nested);
	char *a_link[] = {"link.sh", "via", NULL};
	try_exec("script_via_symlink", "./link.sh", a_link);
	char *a_x[] = {"x", NULL};
	try_exec("missing_interpreter", "./noninterp.sh", a_x);
	try_exec("not_elf", "./plain.txt", a_x);
	try_exec("empty_file", "./empty", a_x);
	try_exec("not_executable", "./noexec.sh", a_x);
	try_exec("directory", "./adir", a_x);
	try_exec("missing", "./nope", a_x);
	try_exec("missing_component", "./nope/x", a_x);
	try_exec("crlf_interpreter", "./crlf.sh", a_x);
	char *a_abs[] = {"sh", "-c", "echo abs sh ok", NULL};
	try_exec("absolute_sh", "/bin/sh", a_abs);

	/* execveat(fd, "", AT_EMPTY_PATH) of an ELF: what fexecve does. */
	int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"sh", "-c", "echo execveat ok", NULL};
		char *env[] = {NULL};
		syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH);
		printf("execveat: %s\n", errname(errno));
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("execveat_exit: %d\n", WEXITSTATUS(status));
	close(fd);
	return 0;
}
