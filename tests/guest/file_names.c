/* Name and path limits: a 255-byte component works and 256 is
 * ENAMETOOLONG; a path of PATH_MAX bytes is ENAMETOOLONG; symlink chains
 * of 40 resolve and 41 give ELOOP; O_NOFOLLOW on a symlink is ELOOP;
 * trailing slashes, "." and ".." in the middle of paths. */
#include "common.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
	char name[300], path[PATH_MAX + 64], a[32], b[32];
	struct stat st;

	memset(name, 'n', 255);
	name[255] = 0;
	report("create_255", open(name, O_WRONLY | O_CREAT, 0644));
	report("stat_255", stat(name, &st));
	report("unlink_255", unlink(name));
	name[255] = 'n';
	name[256] = 0;
	report("create_256", open(name, O_WRONLY | O_CREAT, 0644));
	report("stat_256", stat(name, &st));
	report("mkdir_256", mkdir(name, 0755));
	report("symlink_to_256", symlink(name, "l256"));
	report("stat_via_symlink_256", stat("l256", &st));

	/* a path of PATH_MAX bytes (with its NUL over the limit) */
	size_t n = 0;
	while (n + 2 < PATH_MAX + 10) {
		path[n++] = '.';
		path[n++] = '/';
	}
	path[n] = 0;
	report("stat_pathmax", stat(path, &st));
	path[PATH_MAX - 2] = 0; /* 4094 bytes: ./././... fits */
	report("stat_under_pathmax", stat(path, &st));

	/* symlink chains */
	put_file("target", "t");
	snprintf(a, sizeof(a), "s0");
	symlink("target", a);
	for (int i = 1; i <= 41; i++) {
		snprintf(a, sizeof(a), "s%d", i);
		snprintf(b, sizeof(b), "s%d", i - 1);
		symlink(b, a);
	}
	report("chain_40", stat("s39", &st)); /* s39 -> ... -> s0 -> target: 40 links */
	report("chain_41", stat("s40", &st));
	report("chain_42", stat("s41", &st));
	report("lstat_chain_42", lstat("s41", &st));
	report("open_nofollow", open("s0", O_RDONLY | O_NOFOLLOW));
	report("open_nofollow_path", open("s0", O_PATH | O_NOFOLLOW));
	symlink("self", "self");
	report("self_loop", stat("self", &st));
	report("self_loop_in_middle", stat("self/x", &st));
	report("creat_through_loop", open("self", O_WRONLY | O_CREAT, 0644));

	/* slashes, dots */
	report("file_trailing_slash", stat("target/", &st));
	report("file_trailing_dot", stat("target/.", &st));
	report("open_creat_trailing_slash", open("newfile/", O_WRONLY | O_CREAT, 0644));
	mkdir("d", 0755);
	report("dir_trailing_slashes", stat("d///", &st));
	report("dotdot_through_file", stat("target/../d", &st));
	report("dotdot_in_middle", stat("d/../target", &st));
	report("symlink_to_dir_slash", (symlink("d", "ld"), stat("ld/", &st)));
	report("lstat_symlink_dir_slash", lstat("ld/", &st));
	printf("ld_slash_is_dir: %d\n", S_ISDIR(st.st_mode));
	report("rmdir_symlink_slash", rmdir("ld/"));
	report("unlink_symlink_slash", unlink("ld/"));
	report("empty_path", stat("", &st));
	return 0;
}
