/* link, symlink, readlink, lstat vs stat, symlink loops and dangling links. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	struct stat st1, st2;
	char buf[256];
	ssize_t n;

	put_file("f", "data\n");
	report("link", link("f", "hard"));
	stat("f", &st1);
	stat("hard", &st2);
	printf("same_inode: %d\n", st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev);
	printf("nlink: %lu\n", (unsigned long)st1.st_nlink);
	report("link_exists", link("f", "hard"));
	report("link_missing", link("nope", "x"));
	mkdir("d", 0755);
	report("link_dir", link("d", "dlink"));

	report("symlink", symlink("f", "sym"));
	n = readlink("sym", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink: %s\n", buf);
	report("symlink_exists", symlink("f", "sym"));
	report("readlink_regular", readlink("f", buf, sizeof(buf)));
	n = readlink("sym", buf, 2);
	printf("readlink_short: %zd %.2s\n", n, buf);
	lstat("sym", &st1);
	stat("sym", &st2);
	printf("lstat_is_link: %d stat_is_reg: %d\n", S_ISLNK(st1.st_mode), S_ISREG(st2.st_mode));
	printf("lstat_size: %lld\n", (long long)st1.st_size);

	report("dangling", symlink("missing-target", "dangle"));
	report("open_dangling", open("dangle", O_RDONLY));
	report("creat_through_dangling", open("dangle", O_WRONLY | O_CREAT, 0644));
	report("dangling_target_created", access("missing-target", F_OK));

	symlink("loop1", "loop2");
	symlink("loop2", "loop1");
	report("open_loop", open("loop1", O_RDONLY));
	report("stat_loop", stat("loop1", &st1));
	report("lstat_loop", lstat("loop1", &st1));

	symlink("d", "dsym");
	report("symlink_dir_traverse", (put_file("dsym/in", "in\n"), access("d/in", F_OK)));
	symlink("../f", "d/up");
	report("relative_up_link", (get_file("d/up", buf, sizeof(buf)) >= 0) ? 0 : -1);
	printf("via_up: %s", buf);
	report("chain", (symlink("sym", "sym2"), get_file("sym2", buf, sizeof(buf)) >= 0 ? 0 : -1));

	report("unlink_symlink", unlink("sym"));
	report("target_still_there", access("f", F_OK));
	report("unlink_hard", unlink("hard"));
	stat("f", &st1);
	printf("nlink_after_unlink: %lu\n", (unsigned long)st1.st_nlink);
	report("unlink_dir", unlink("d"));
	report("unlink_missing", unlink("nope"));
	print_listing("listing", opendir("."));
	return 0;
}
