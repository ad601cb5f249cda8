// SPDX-License-Identifier: MIT
/*
 * hostdir backend: operations on (directory fd, final name) pairs that the
 * VFS walker resolved. See hostdir.h for the no-follow rule every call keeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hostdir.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
/* The kernel's own open flag values; glibc defines O_LARGEFILE as 0 on x86-64. */
#define HOSTDIR_O_LARGEFILE 0100000
#define HOSTDIR_VALID_OPEN                                                                         \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |     \
	 O_SYNC | FASYNC | O_DIRECT | HOSTDIR_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | \
	 O_CLOEXEC | O_PATH | O_TMPFILE)
#define HOSTDIR_O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
#define HOSTDIR_RESOLVE	     (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

int kbox_hostdir_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
			 uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	int i;

	/*
	 * EAGAIN means a concurrent rename or mount moved something while
	 * the kernel checked ".." or RESOLVE_IN_ROOT; a retry sees a settled
	 * tree. Bounded so a hostile rename loop cannot pin the supervisor.
	 */
	for (i = 0; i < 1000; i++) {
		long r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

		if (r >= 0)
			return (int)r;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EIO;
}

int kbox_hostdir_open_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int kbox_hostdir_open_path(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * As open(2) would: unknown flags are dropped, O_PATH keeps only the flags
 * it allows, and the mode counts only when creating (openat2 would reject
 * what open accepts). O_NOCTTY always: the fd is opened by kbox, which must
 * never acquire the guest's terminal as its controlling one.
 */
int kbox_hostdir_open(int dirfd, const char *name, int oflags, mode_t mode)
{
	uint64_t flags = (unsigned)oflags & HOSTDIR_VALID_OPEN;
	bool create = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;

	if (flags & O_PATH)
		flags &= HOSTDIR_O_PATH_FLAGS;
	else
		flags |= O_NOCTTY;
	return kbox_hostdir_openat2(dirfd, name, flags | O_CLOEXEC, create ? mode & 07777 : 0,
				    HOSTDIR_RESOLVE);
}

int kbox_hostdir_lstat(int dirfd, const char *name, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int kbox_hostdir_statx(int dirfd, const char *name, int sync_flags, unsigned mask,
		       struct statx *stx)
{
	int flags = AT_SYMLINK_NOFOLLOW | (sync_flags & AT_STATX_SYNC_TYPE);

	return statx(dirfd, name, flags, mask, stx) < 0 ? -errno : 0;
}

int kbox_hostdir_access(int dirfd, const char *name, int mode, bool eaccess)
{
	int flags = AT_SYMLINK_NOFOLLOW | (eaccess ? AT_EACCESS : 0);

	return syscall(SYS_faccessat2, dirfd, name, mode, flags) < 0 ? -errno : 0;
}

int kbox_hostdir_readlink(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, name, buf, size);

	return n < 0 ? -errno : (int)n;
}

int kbox_hostdir_statfs(int dirfd, const char *name, struct statfs *sfs)
{
	int fd = kbox_hostdir_open_path(dirfd, name);
	int r;

	if (fd < 0)
		return fd;
	r = fstatfs(fd, sfs) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int kbox_hostdir_mkdir(int dirfd, const char *name, mode_t mode)
{
	return mkdirat(dirfd, name, mode) < 0 ? -errno : 0;
}

/*
 * Device nodes need CAP_MKNOD, which a rootless guest never has: refuse
 * them as Linux refuses an unprivileged caller, even if kbox itself runs
 * with the capability. A 0:0 character device is an overlayfs whiteout,
 * which Linux allows unprivileged.
 */
int kbox_hostdir_mknod(int dirfd, const char *name, mode_t mode, dev_t dev)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFCHR:
		if (dev == 0)
			break;
		return -EPERM;
	case S_IFBLK:
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	return mknodat(dirfd, name, mode, dev) < 0 ? -errno : 0;
}

int kbox_hostdir_rmdir(int dirfd, const char *name)
{
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int kbox_hostdir_unlink(int dirfd, const char *name)
{
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

int kbox_hostdir_rename(int odirfd, const char *oname, int ndirfd, const char *nname,
			unsigned flags)
{
	return renameat2(odirfd, oname, ndirfd, nname, flags) < 0 ? -errno : 0;
}

int kbox_hostdir_link(int odirfd, const char *oname, int ndirfd, const char *nname)
{
	return linkat(odirfd, oname, ndirfd, nname, 0) < 0 ? -errno : 0;
}

int kbox_hostdir_link_fd(int fd, int ndirfd, const char *nname)
{
	return linkat(fd, "", ndirfd, nname, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

int kbox_hostdir_symlink(const char *target, int dirfd, const char *name)
{
	return symlinkat(target, dirfd, name) < 0 ? -errno : 0;
}

/* Formats /proc/self/fd/N for an O_PATH fd: the magic link names the exact inode. */
static void proc_fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

int kbox_hostdir_chmod(int dirfd, const char *name, mode_t mode)
{
	char path[32];
	struct stat st;
	int fd, r;

	/* fchmodat2 (Linux 6.6) is the only chmod that can refuse to follow. */
	if (syscall(SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	fd = kbox_hostdir_open_path(dirfd, name);
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && S_ISLNK(st.st_mode))
		r = -EOPNOTSUPP;
	proc_fd_path(fd, path, sizeof(path));
	if (r == 0 && chmod(path, mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

int kbox_hostdir_chown(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	return fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int kbox_hostdir_utimens(int dirfd, const char *name, const struct timespec ts[2])
{
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/*
 * The caller checked that @name is a regular file; O_NONBLOCK keeps a FIFO
 * swapped in meanwhile from blocking the supervisor.
 */
int kbox_hostdir_truncate(int dirfd, const char *name, off_t len)
{
	int fd = kbox_hostdir_openat2(dirfd, name, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0,
				      HOSTDIR_RESOLVE);
	int r;

	if (fd < 0)
		return fd;
	r = ftruncate(fd, len) < 0 ? -errno : 0;
	close(fd);
	return r;
}
