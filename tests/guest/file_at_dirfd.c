/* The *at family relative to directory fds, AT_FDCWD, AT_EMPTY_PATH,
 * AT_SYMLINK_NOFOLLOW and AT_REMOVEDIR; dirfds stay valid across renames. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	char buf[64];
	ssize_t n;
	int d, fd;

	mkdir("top", 0755);
	d = open("top", O_RDONLY | O_DIRECTORY);
	report("mkdirat", mkdirat(d, "sub", 0755));
	fd = report("openat_creat", openat(d, "sub/f", O_WRONLY | O_CREAT, 0644));
	write(fd, "at\n", 3);
	close(fd);
	report("fstatat", fstatat(d, "sub/f", &st, 0));
	printf("size: %lld\n", (long long)st.st_size);
	report("symlinkat", symlinkat("sub/f", d, "lnk"));
	n = readlinkat(d, "lnk", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlinkat: %s\n", buf);
	report("fstatat_nofollow", fstatat(d, "lnk", &st, AT_SYMLINK_NOFOLLOW));
	printf("is_link: %d\n", S_ISLNK(st.st_mode));
	report("linkat", linkat(d, "sub/f", d, "hard", 0));
	report("renameat", renameat(d, "hard", AT_FDCWD, "moved"));
	report("moved_visible", access("moved", F_OK));
	report("fchmodat", fchmodat(d, "sub/f", 0600, 0));
	fstatat(d, "sub/f", &st, 0);
	printf("mode: %o\n", st.st_mode & 0777);
	report("faccessat", faccessat(d, "sub/f", R_OK, 0));
	report("unlinkat_dir_without_flag", unlinkat(d, "sub", 0));
	report("unlinkat_nonempty", unlinkat(d, "sub", AT_REMOVEDIR));
	report("unlinkat_file", unlinkat(d, "sub/f", 0));
	report("unlinkat_removedir", unlinkat(d, "sub", AT_REMOVEDIR));

	/* The dirfd follows its directory when it is renamed. */
	report("rename_dir", rename("top", "top2"));
	report("openat_after_rename", fd = openat(d, "new", O_WRONLY | O_CREAT, 0644));
	close(fd);
	report("new_under_new_name", access("top2/new", F_OK));

	/* AT_EMPTY_PATH on a file fd, and a dirfd that is a file. */
	fd = open("moved", O_RDONLY);
	report("fstatat_empty_path", fstatat(fd, "", &st, AT_EMPTY_PATH));
	printf("empty_path_size: %lld\n", (long long)st.st_size);
	report("fstatat_empty_no_flag", fstatat(fd, "", &st, 0));
	report("openat_file_as_dirfd", openat(fd, "x", O_RDONLY));
	report("openat_bad_dirfd", openat(9999, "x", O_RDONLY));
	report("openat_abs_ignores_dirfd", fstatat(9999, "/", &st, 0));
	close(fd);

	/* An O_PATH dirfd works as a base too. */
	int p = open("top2", O_PATH | O_DIRECTORY);
	report("openat_opath_base", fd = openat(p, "new", O_RDONLY));
	close(fd);
	report("mkdirat_fdcwd", mkdirat(AT_FDCWD, "cwdsub", 0755));
	print_listing("listing", opendir("."));
	print_listing("listing_top2", opendir("top2"));
	close(p);
	close(d);
	return 0;
}
