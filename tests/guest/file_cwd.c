/* getcwd/chdir/fchdir and relative paths after each. The cwd is printed
 * relative to where the program started, so the output does not depend on
 * the directory the harness chose. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static char start[4096];

static void show_cwd(const char *label)
{
	char buf[4096];
	if (!getcwd(buf, sizeof(buf))) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	size_t n = strlen(start);
	if (strncmp(buf, start, n) == 0)
		printf("%s: .%s\n", label, buf + n);
	else
		printf("%s: outside start\n", label);
}

int main(void)
{
	if (!getcwd(start, sizeof(start)))
		die("getcwd");
	printf("cwd_absolute: %d\n", start[0] == '/');
	mkdir("a", 0755);
	mkdir("a/b", 0755);
	put_file("a/b/f", "f\n");
	report("chdir", chdir("a/b"));
	show_cwd("cwd");
	report("relative_open", access("f", F_OK));
	report("chdir_dotdot", chdir(".."));
	show_cwd("cwd");
	int fd = open("b", O_RDONLY | O_DIRECTORY);
	report("chdir_abs", chdir(start));
	show_cwd("cwd");
	report("fchdir", fchdir(fd));
	show_cwd("cwd");
	close(fd);
	report("chdir_file", chdir("f"));
	report("chdir_missing", chdir("missing"));
	fd = open("f", O_RDONLY);
	report("fchdir_file", fchdir(fd));
	close(fd);
	show_cwd("cwd_unchanged");
	symlink("..", "up");
	report("chdir_symlink", chdir("up"));
	show_cwd("cwd_via_symlink");
	char small[2];
	report("getcwd_erange", getcwd(small, sizeof(small)) ? 0 : -1);
	chdir(start);
	mkdir("gone", 0755);
	chdir("gone");
	rmdir("../gone");
	char *gone = getcwd(NULL, 0);
	report("getcwd_removed", gone ? 0 : -1);
	free(gone);
	report("create_in_removed_cwd", open("x", O_WRONLY | O_CREAT, 0644));
	return 0;
}
