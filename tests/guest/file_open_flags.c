/* open(2) flags: O_CREAT|O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW,
 * access modes, and the errors for missing parents and directories. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char buf[64];
	int fd;

	umask(022);
	fd = report("creat_excl_new", open("f", O_WRONLY | O_CREAT | O_EXCL, 0644));
	if (fd >= 0) {
		report_val("write", write(fd, "hello\n", 6));
		close(fd);
	}
	report("creat_excl_exists", open("f", O_WRONLY | O_CREAT | O_EXCL, 0644));
	report("creat_excl_symlink",
	       (symlink("f", "lnk"), open("lnk", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	report("creat_existing_no_excl", fd = open("f", O_WRONLY | O_CREAT, 0600));
	close(fd);

	fd = open("f", O_WRONLY | O_APPEND);
	report_val("append_write", write(fd, "world\n", 6));
	report_val("append_lseek_end", lseek(fd, 0, SEEK_CUR));
	lseek(fd, 0, SEEK_SET);
	report_val("append_after_seek0", write(fd, "again\n", 6));
	close(fd);
	get_file("f", buf, sizeof(buf));
	printf("content: %s", buf);

	fd = open("f", O_RDONLY);
	report("write_on_rdonly", write(fd, "x", 1));
	close(fd);
	fd = open("f", O_WRONLY);
	report("read_on_wronly", read(fd, buf, 1));
	close(fd);

	fd = report("trunc", open("f", O_RDWR | O_TRUNC));
	struct stat st;
	fstat(fd, &st);
	printf("size_after_trunc: %lld\n", (long long)st.st_size);
	close(fd);

	report("missing", open("nope", O_RDONLY));
	report("creat_missing_parent", open("nodir/f", O_WRONLY | O_CREAT, 0644));
	report("file_as_dir", open("f/x", O_RDONLY));
	report("o_directory_on_file", open("f", O_RDONLY | O_DIRECTORY));
	report("o_nofollow_symlink", open("lnk", O_RDONLY | O_NOFOLLOW));
	mkdir("d", 0755);
	report("dir_wronly", open("d", O_WRONLY));
	report("dir_rdonly", fd = open("d", O_RDONLY | O_DIRECTORY));
	close(fd);
	report("creat_on_dir", open("d", O_WRONLY | O_CREAT, 0644));
	report("trailing_slash_file", open("f/", O_RDONLY));
	report("dot_dot_inside", fd = open("d/../f", O_RDONLY));
	close(fd);

	fd = open("mode", O_WRONLY | O_CREAT, 0777);
	fstat(fd, &st);
	printf("mode_0777_umask_022: %o\n", st.st_mode & 07777);
	close(fd);

	/* O_PATH fds: stat works, read does not. */
	fd = report("o_path", open("f", O_PATH));
	report("o_path_read", read(fd, buf, 1));
	report("o_path_fstat", fstat(fd, &st));
	close(fd);
	return 0;
}
