/* An unlinked file stays usable through its open fd; its name is gone. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char buf[32] = {0};
	struct stat st;
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("open");
	report_val("write", write(fd, "before\n", 7));
	report("unlink", unlink("f"));
	report("name_gone", access("f", F_OK));
	report_val("write_after_unlink", write(fd, "after\n", 6));
	report_val("pread", pread(fd, buf, sizeof(buf) - 1, 0));
	printf("content: %s", buf);
	fstat(fd, &st);
	printf("nlink: %lu size: %lld\n", (unsigned long)st.st_nlink, (long long)st.st_size);
	report("recreate_same_name", close(open("f", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	fstat(fd, &st);
	printf("old_size_unchanged: %lld\n", (long long)st.st_size);

	/* A directory that is the cwd of nobody but is open: rmdir works. */
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	report("rmdir_open_dir", rmdir("d"));
	report("openat_in_removed_dir", openat(dfd, "x", O_WRONLY | O_CREAT, 0644));
	close(dfd);
	close(fd);
	print_listing("listing", opendir("."));
	return 0;
}
