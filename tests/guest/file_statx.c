/* statx: the basic fields agree with stat, btime is there (ext4 keeps it)
 * and survives a change of mtime, AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH,
 * a directory's size, the attribute mask. statx goes through syscall(2)
 * with the kernel's struct, as not every libc here has it. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

struct kts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct kstatx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	struct kts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
#define X_BASIC 0x7ffU
#define X_BTIME 0x800U

static long do_statx(int dirfd, const char *path, int flags, struct kstatx *x)
{
	memset(x, 0, sizeof(*x));
	return syscall(SYS_statx, dirfd, path, flags, X_BASIC | X_BTIME, x);
}

static void compare(const char *label, const struct kstatx *x, const struct stat *st)
{
	printf("%s: basic %d btime %d ino %d size %d nlink %d mode %d ids %d dev %d blocks %d "
	       "blksize %d mtime %d ctime %d\n",
	       label, (x->mask & X_BASIC) == X_BASIC, !!(x->mask & X_BTIME), x->ino == st->st_ino,
	       x->size == (uint64_t)st->st_size, x->nlink == st->st_nlink, x->mode == st->st_mode,
	       x->uid == st->st_uid && x->gid == st->st_gid,
	       x->dev_major == major(st->st_dev) && x->dev_minor == minor(st->st_dev),
	       x->blocks == (uint64_t)st->st_blocks, x->blksize == (uint32_t)st->st_blksize,
	       x->mtime.tv_sec == st->st_mtim.tv_sec && x->mtime.tv_nsec == st->st_mtim.tv_nsec,
	       x->ctime.tv_sec == st->st_ctim.tv_sec && x->ctime.tv_nsec == st->st_ctim.tv_nsec);
}

int main(void)
{
	struct kstatx x, y;
	struct stat st;

	put_file("f", "hello statx\n");
	report("statx", do_statx(AT_FDCWD, "f", 0, &x));
	stat("f", &st);
	compare("file", &x, &st);
	printf("size: %llu mode: %o\n", (unsigned long long)x.size, x.mode);
	printf("btime_set: %d btime_le_ctime: %d btime_nsec_valid: %d\n", x.btime.tv_sec > 0,
	       x.btime.tv_sec < x.ctime.tv_sec ||
		       (x.btime.tv_sec == x.ctime.tv_sec && x.btime.tv_nsec <= x.ctime.tv_nsec),
	       x.btime.tv_nsec < 1000000000U);
	printf("attributes_mask: %#llx attributes: %#llx\n", (unsigned long long)x.attributes_mask,
	       (unsigned long long)x.attributes);

	/* btime stays when mtime and ctime change */
	struct timespec ts[2] = {{1000000000, 123456789}, {1000000000, 987654321}};
	report("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
	do_statx(AT_FDCWD, "f", 0, &y);
	printf("btime_kept: %d mtime: %lld.%09u\n",
	       y.btime.tv_sec == x.btime.tv_sec && y.btime.tv_nsec == x.btime.tv_nsec,
	       (long long)y.mtime.tv_sec, y.mtime.tv_nsec);

	/* a new file is born later than or with the old one */
	put_file("g", "g");
	do_statx(AT_FDCWD, "g", 0, &y);
	printf("btime_order: %d\n",
	       y.btime.tv_sec > x.btime.tv_sec ||
		       (y.btime.tv_sec == x.btime.tv_sec && y.btime.tv_nsec >= x.btime.tv_nsec));

	/* symlinks */
	symlink("f", "sym");
	report("statx_nofollow", do_statx(AT_FDCWD, "sym", AT_SYMLINK_NOFOLLOW, &y));
	printf("link_is_lnk: %d link_size: %llu\n", S_ISLNK(y.mode), (unsigned long long)y.size);
	report("statx_follow", do_statx(AT_FDCWD, "sym", 0, &y));
	printf("follow_is_reg: %d same_ino: %d\n", S_ISREG(y.mode), y.ino == x.ino);

	/* an fd, AT_EMPTY_PATH */
	int fd = open("f", O_RDONLY);
	report("statx_empty_path", do_statx(fd, "", AT_EMPTY_PATH, &y));
	printf("fd_same_ino: %d fd_btime_same: %d\n", y.ino == x.ino,
	       y.btime.tv_sec == x.btime.tv_sec && y.btime.tv_nsec == x.btime.tv_nsec);
	report("statx_empty_path_no_flag", do_statx(fd, "", 0, &y));
	close(fd);

	/* a directory */
	mkdir("d", 0755);
	report("statx_dir", do_statx(AT_FDCWD, "d", 0, &y));
	stat("d", &st);
	compare("dir", &y, &st);
	printf("dir_size: %llu dir_nlink: %u dir_btime: %d\n", (unsigned long long)y.size, y.nlink,
	       !!(y.mask & X_BTIME));

	report("statx_missing", do_statx(AT_FDCWD, "nope", 0, &y));
	report("statx_bad_flags", syscall(SYS_statx, AT_FDCWD, "f", 0x80000000, X_BASIC, &y));
	return 0;
}
