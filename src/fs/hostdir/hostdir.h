/* SPDX-License-Identifier: MIT */
/*
 * hostdir: a host directory served as (part of) the guest tree.
 *
 * Every operation acts on one final @name inside a directory fd that the VFS
 * walker resolved (kbox_vfs_lookup_parent()). @name is a single component
 * ("." for the directory itself, never ".." and never containing '/' except
 * an optional trailing one that the host may see), and no operation here
 * lets the host kernel follow a symlink or ".." on its own: every call uses
 * the *at form with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, or an O_PATH fd of the
 * exact inode through /proc/self/fd/N.
 *
 * All functions return 0 or a count on success and -errno on failure.
 * Thread-safe: no state besides the kernel's.
 */
#ifndef KBOX_FS_HOSTDIR_HOSTDIR_H
#define KBOX_FS_HOSTDIR_HOSTDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct statfs;
struct statx;
struct timespec;

/* openat2(2), retried on EAGAIN (rename races); the result is an fd. */
int kbox_hostdir_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
			 uint64_t resolve);
/* O_PATH|O_DIRECTORY of one child directory, never following a symlink. */
int kbox_hostdir_open_dir(int dirfd, const char *name);
/* O_PATH|O_NOFOLLOW fd of @name itself (a symlink stays a symlink). */
int kbox_hostdir_open_path(int dirfd, const char *name);

int kbox_hostdir_open(int dirfd, const char *name, int oflags, mode_t mode);
int kbox_hostdir_lstat(int dirfd, const char *name, struct stat *st);
int kbox_hostdir_statx(int dirfd, const char *name, int sync_flags, unsigned mask,
		       struct statx *stx);
int kbox_hostdir_access(int dirfd, const char *name, int mode, bool eaccess);
int kbox_hostdir_readlink(int dirfd, const char *name, char *buf, size_t size);
int kbox_hostdir_statfs(int dirfd, const char *name, struct statfs *sfs);

int kbox_hostdir_mkdir(int dirfd, const char *name, mode_t mode);
int kbox_hostdir_mknod(int dirfd, const char *name, mode_t mode, dev_t dev);
int kbox_hostdir_rmdir(int dirfd, const char *name);
int kbox_hostdir_unlink(int dirfd, const char *name);
int kbox_hostdir_rename(int odirfd, const char *oname, int ndirfd, const char *nname,
			unsigned flags);
int kbox_hostdir_link(int odirfd, const char *oname, int ndirfd, const char *nname);
/* linkat(fd, "", ..., AT_EMPTY_PATH): needs CAP_DAC_READ_SEARCH, as on Linux. */
int kbox_hostdir_link_fd(int fd, int ndirfd, const char *nname);
int kbox_hostdir_symlink(const char *target, int dirfd, const char *name);

int kbox_hostdir_chmod(int dirfd, const char *name, mode_t mode);
int kbox_hostdir_chown(int dirfd, const char *name, uid_t uid, gid_t gid);
/* @ts NULL: now; UTIME_NOW / UTIME_OMIT as utimensat(2). */
int kbox_hostdir_utimens(int dirfd, const char *name, const struct timespec ts[2]);
int kbox_hostdir_truncate(int dirfd, const char *name, off_t len);

/* Extended attributes of @name itself (never of a symlink's target). */
int kbox_hostdir_getxattr(int dirfd, const char *name, const char *xname, void *val, size_t size);
int kbox_hostdir_setxattr(int dirfd, const char *name, const char *xname, const void *val,
			  size_t size, int xflags);
int kbox_hostdir_listxattr(int dirfd, const char *name, char *list, size_t size);
int kbox_hostdir_removexattr(int dirfd, const char *name, const char *xname);

#endif
