/* A directory fd walked upward with openat(fd, "..") and with one long
 * "../../.." stops at the guest root; listing it shows the guest root. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static int same_as_root_fd(int fd)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0 || stat("/", &b) < 0)
		return -1;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int main(void)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	int steps_to_root = -1;

	for (int i = 0; i < 40; i++) {
		int up = openat(fd, "..", O_RDONLY | O_DIRECTORY);
		if (up < 0)
			die("openat ..");
		close(fd);
		fd = up;
		if (steps_to_root < 0 && same_as_root_fd(fd) == 1)
			steps_to_root = i;
	}
	printf("reached_root: %d\n", steps_to_root >= 0);
	printf("still_root: %d\n", same_as_root_fd(fd));
	print_listing("list_walked_fd", fdopendir(dup(fd)));
	close(fd);

	fd = open(".", O_RDONLY | O_DIRECTORY);
	int up = openat(fd, "../../../../../../../../../../../../../../../../../../../..",
			O_RDONLY | O_DIRECTORY);
	printf("long_chain_is_root: %d\n", same_as_root_fd(up));
	print_listing("list_long_chain", fdopendir(dup(up)));
	char buf[128];
	int h = openat(up, "../../etc/hostname", O_RDONLY);
	ssize_t n = h >= 0 ? read(h, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	printf("hostname_via_fd: %s", buf);
	close(h);

	/* The same walk from an O_PATH fd, and fchdir to the result. */
	int p = open(".", O_PATH | O_DIRECTORY);
	int pu = openat(p, "../../../../../../../../../../..", O_PATH | O_DIRECTORY);
	printf("opath_chain_is_root: %d\n", same_as_root_fd(pu));
	report("fchdir_walked", fchdir(pu));
	if (getcwd(buf, sizeof(buf)))
		printf("getcwd: %s\n", buf);
	print_listing("list_cwd", opendir("."));
	close(p);
	close(pu);
	close(up);
	close(fd);
	return 0;
}
