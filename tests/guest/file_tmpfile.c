/* O_TMPFILE: an unnamed file in a directory, given a name with linkat. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char path[64], buf[32];
	struct stat st;
	int fd = open(".", O_TMPFILE | O_RDWR, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		printf("o_tmpfile: unsupported by this file system\n");
		return 0;
	}
	report("o_tmpfile", fd);
	report_val("write", write(fd, "tmp\n", 4));
	fstat(fd, &st);
	printf("nlink_before_link: %lu\n", (unsigned long)st.st_nlink);
	print_listing("listing_before", opendir("."));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not. */
	if (report("linkat_empty_path", linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH)) < 0)
		report("linkat_proc_fd",
		       linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	print_listing("listing_after", opendir("."));
	get_file("named", buf, sizeof(buf));
	printf("content: %s", buf);
	close(fd);
	return 0;
}
