/* /proc/self/cmdline is the argv the program was started with, also after
 * an exec with another argv[0]. */
#include "common.h"
#include <fcntl.h>
#include <sys/wait.h>

static void show(const char *label, int argc, char **argv)
{
	char buf[4096], want[4096];
	size_t wlen = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(want + wlen, argv[i], l);
		wlen += l;
	}
	printf("%s: cmdline is argv: %s\n", label,
	       n == (ssize_t)wlen && !memcmp(buf, want, wlen) ? "yes" : "no");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "again")) {
		show("after exec", argc, argv);
		return 0;
	}
	show("first", argc, argv);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = {"renamed", "again", "x y", NULL};
		execv("/proc/self/exe", args);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
