/* mkdir, rmdir, directory listings (sorted), nested trees. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	char name[32];

	umask(022);
	report("mkdir", mkdir("d", 0777));
	stat("d", &st);
	printf("mode: %o isdir: %d\n", st.st_mode & 07777, S_ISDIR(st.st_mode));
	report("mkdir_exists", mkdir("d", 0755));
	report("mkdir_missing_parent", mkdir("x/y", 0755));
	report("mkdir_trailing_slash", mkdir("e/", 0755));
	report("mkdir_nested", mkdir("d/sub", 0755));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/f%02d", 39 - i);
		put_file(name, "x");
	}
	print_listing("listing_d", opendir("d"));
	stat("d", &st);
	printf("nlink_d: %lu\n", (unsigned long)st.st_nlink);
	report("rmdir_nonempty", rmdir("d"));
	report("rmdir_file", rmdir("d/f00"));
	report("rmdir_dot", rmdir("d/sub/."));
	report("rmdir_sub", rmdir("d/sub"));
	report("rmdir_missing", rmdir("d/sub"));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/f%02d", i);
		unlink(name);
	}
	print_listing("listing_d_empty", opendir("d"));
	report("rmdir_empty", rmdir("d"));
	report("rmdir_trailing_slash", (mkdir("g", 0755), rmdir("g/")));

	/* A deep tree built and walked back with relative paths. */
	char path[512] = "deep";
	for (int i = 0; i < 20; i++) {
		if (mkdir(path, 0755) < 0)
			die("mkdir deep");
		strcat(path, "/n");
	}
	put_file("deep/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/leaf", "leaf\n");
	report("deep_access", access("deep/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/n/leaf", R_OK));
	print_listing("listing_top", opendir("."));

	/* Listing an open directory while it changes: a new readdir sees it. */
	DIR *dir = opendir(".");
	put_file("late", "l");
	closedir(dir);
	print_listing("listing_after_create", opendir("."));
	return 0;
}
