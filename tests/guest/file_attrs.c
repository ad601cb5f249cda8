/* chmod/fchmod/fchmodat, utimensat/futimens (fixed times, UTIME_OMIT),
 * truncate/ftruncate, umask, access. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

static void show_mode(const char *label, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: %o\n", label, st.st_mode & 07777);
}

static void show_times(const char *label, const char *path)
{
	struct stat st;
	stat(path, &st);
	printf("%s: atime %lld.%09ld mtime %lld.%09ld\n", label, (long long)st.st_atim.tv_sec,
	       st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(void)
{
	struct stat st;
	int fd;

	printf("umask_initial_set: %o\n", umask(027));
	printf("umask_now: %o\n", umask(027));
	fd = open("f", O_WRONLY | O_CREAT, 0666);
	fstat(fd, &st);
	printf("created_mode: %o\n", st.st_mode & 07777);
	mkdir("d", 0777);
	show_mode("dir_mode", "d");
	umask(0);

	report("chmod", chmod("f", 0600));
	show_mode("after_chmod", "f");
	report("fchmod", fchmod(fd, 0640));
	show_mode("after_fchmod", "f");
	report("chmod_setgid_sticky", chmod("d", 01755));
	show_mode("dir_sticky", "d");
	report("fchmodat", fchmodat(AT_FDCWD, "f", 0444, 0));
	show_mode("after_fchmodat", "f");
	report("chmod_missing", chmod("nope", 0644));
	symlink("f", "lnk");
	report("chmod_via_symlink", chmod("lnk", 0604));
	show_mode("target_mode", "f");

	struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
	report("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
	show_times("times", "f");
	struct timespec omit[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
	report("utimensat_omit_atime", utimensat(AT_FDCWD, "f", omit, 0));
	show_times("times_omit", "f");
	report("futimens", futimens(fd, ts));
	show_times("times_futimens", "f");
	struct timeval tv[2] = {{1100000000, 5}, {1100000001, 6}};
	report("utimes", utimes("f", tv));
	show_times("times_utimes", "f");
	report("utimensat_nofollow", utimensat(AT_FDCWD, "lnk", ts, AT_SYMLINK_NOFOLLOW));
	show_times("link_target_unchanged", "f");

	report("ftruncate_grow", ftruncate(fd, 10000));
	fstat(fd, &st);
	printf("size: %lld\n", (long long)st.st_size);
	chmod("f", 0644);
	report("truncate_shrink", truncate("f", 3));
	stat("f", &st);
	printf("size: %lld\n", (long long)st.st_size);
	report("truncate_dir", truncate("d", 0));
	report("truncate_negative", truncate("f", -1));
	report("truncate_missing", truncate("nope", 0));

	chmod("f", 0400);
	report("access_r", access("f", R_OK));
	report("access_x", access("f", X_OK));
	report("access_dir_x", access("d", X_OK));
	report("access_missing", access("nope", F_OK));
	report("faccessat_nofollow", faccessat(AT_FDCWD, "lnk", F_OK, AT_SYMLINK_NOFOLLOW));
	close(fd);
	return 0;
}
