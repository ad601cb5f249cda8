// SPDX-License-Identifier: MIT
/*
 * Looking at files by path: stat family, statx, access family, readlink,
 * statfs. Calls on an fd alone (AT_EMPTY_PATH with "") go to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fs_priv.h"

#ifndef STATX__RESERVED
#define STATX__RESERVED 0x80000000U
#endif

static struct kbox_result stat_to_guest(struct kbox_request *req, const struct fs_path *p,
					unsigned flags, uint64_t buf)
{
	struct stat st; /* glibc's x86-64 struct stat is the kernel's */
	int r = kbox_vfs_stat(&p->ctx, p->path, flags, &st);

	if (r == 0)
		r = kbox_write_guest(req, buf, &st, sizeof(st));
	return fs_ret(r);
}

static struct kbox_result do_stat(struct kbox_request *req, unsigned flags)
{
	struct fs_path p;
	int r = fs_path_at(req, AT_FDCWD, req->args[0], &p);

	return r < 0 ? fs_ret(r) : stat_to_guest(req, &p, flags, req->args[1]);
}

struct kbox_result sys_stat(struct kbox_request *req)
{
	return do_stat(req, KBOX_LOOKUP_FOLLOW);
}

struct kbox_result sys_lstat(struct kbox_request *req)
{
	return do_stat(req, 0);
}

/* AT_* flags of the stat-like calls to KBOX_LOOKUP_* (follow unless told not to). */
static unsigned at_lookup(int atflags, int nofollow_flag)
{
	return ((atflags & nofollow_flag) ? 0 : KBOX_LOOKUP_FOLLOW) |
	       ((atflags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0);
}

struct kbox_result sys_newfstatat(struct kbox_request *req)
{
	int dirfd = (int)req->args[0], flags = (int)req->args[3], r;
	struct fs_path p;

	/* glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH): the fd itself. */
	r = fs_read_path_flags(req, req->args[1], flags, &p);
	if (r == 0 && !p.path[0] && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
		struct stat st;

		r = fs_fd_stat(req, dirfd, &st);
		if (r == 0)
			r = kbox_write_guest(req, req->args[2], &st, sizeof(st));
		return fs_ret(r);
	}
	if (r == 0 && (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)))
		r = -EINVAL;
	if (r == 0)
		r = fs_ctx_at(req, dirfd, &p);
	if (r < 0)
		return fs_ret(r);
	return stat_to_guest(req, &p, at_lookup(flags, AT_SYMLINK_NOFOLLOW), req->args[2]);
}

struct kbox_result sys_statx(struct kbox_request *req)
{
	int dirfd = (int)req->args[0], flags = (int)req->args[2], r;
	unsigned mask = (unsigned)req->args[3];
	struct statx stx;
	struct fs_path p;

	/* A NULL path with AT_EMPTY_PATH means "" since Linux 6.11. */
	if (fs_path_empty(req, req->args[1], flags, &p, &r) && (flags & AT_EMPTY_PATH) &&
	    dirfd != AT_FDCWD) {
		r = fs_fd_statx(req, dirfd, flags & AT_STATX_SYNC_TYPE, mask, &stx);
		if (r == 0)
			r = kbox_write_guest(req, req->args[4], &stx, sizeof(stx));
		return fs_ret(r);
	}
	if (r == 0 && !req->args[1] && !(flags & AT_EMPTY_PATH))
		r = -EFAULT;
	if (r == 0 &&
	    ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED) ||
	     (flags &
	      ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))))
		r = -EINVAL;
	if (r == 0)
		r = fs_ctx_at(req, dirfd, &p);
	if (r == 0)
		r = kbox_vfs_statx(&p.ctx, p.path, at_lookup(flags, AT_SYMLINK_NOFOLLOW), flags,
				   mask, &stx);
	if (r == 0)
		r = kbox_write_guest(req, req->args[4], &stx, sizeof(stx));
	return fs_ret(r);
}

/* do_faccessat(): mode and flags are checked before the path is read. */
static struct kbox_result do_access(struct kbox_request *req, int dirfd, uint64_t addr, int mode,
				    int flags)
{
	struct fs_path p;
	int r;

	if (mode & ~(R_OK | W_OK | X_OK))
		return fs_ret(-EINVAL);
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return fs_ret(-EINVAL);
	r = fs_read_path(req, addr, &p);
	if (r == 0 && !p.path[0] && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
		return fs_ret(fs_fd_access(req, dirfd, mode, flags & AT_EACCESS));
	if (r == 0)
		r = fs_ctx_at(req, dirfd, &p);
	if (r == 0)
		r = kbox_vfs_access(&p.ctx, p.path, at_lookup(flags, AT_SYMLINK_NOFOLLOW), mode,
				    flags & AT_EACCESS);
	return fs_ret(r);
}

struct kbox_result sys_access(struct kbox_request *req)
{
	return do_access(req, AT_FDCWD, req->args[0], (int)req->args[1], 0);
}

struct kbox_result sys_faccessat(struct kbox_request *req)
{
	return do_access(req, (int)req->args[0], req->args[1], (int)req->args[2], 0);
}

struct kbox_result sys_faccessat2(struct kbox_request *req)
{
	return do_access(req, (int)req->args[0], req->args[1], (int)req->args[2],
			 (int)req->args[3]);
}

/* readlinkat(fd, "") reads the symlink an O_PATH fd names. */
static struct kbox_result do_readlink(struct kbox_request *req, int dirfd, uint64_t addr,
				      uint64_t buf, int bufsiz)
{
	size_t size = (size_t)bufsiz;
	char target[PATH_MAX];
	struct fs_path p;
	int r;

	if (bufsiz <= 0)
		return fs_ret(-EINVAL);
	if (size > sizeof(target))
		size = sizeof(target);
	r = fs_read_path(req, addr, &p);
	if (r == 0 && !p.path[0] && dirfd != AT_FDCWD) {
		r = fs_fd_readlink(req, dirfd, target, size);
	} else {
		if (r == 0)
			r = fs_ctx_at(req, dirfd, &p);
		if (r == 0)
			r = kbox_vfs_readlink(&p.ctx, p.path, 0, target, size);
	}
	if (r > 0) {
		int w = kbox_write_guest(req, buf, target, (size_t)r);

		r = w < 0 ? w : r;
	}
	return fs_ret(r);
}

struct kbox_result sys_readlink(struct kbox_request *req)
{
	return do_readlink(req, AT_FDCWD, req->args[0], req->args[1], (int)req->args[2]);
}

struct kbox_result sys_readlinkat(struct kbox_request *req)
{
	return do_readlink(req, (int)req->args[0], req->args[1], req->args[2], (int)req->args[3]);
}

struct kbox_result sys_statfs(struct kbox_request *req)
{
	struct statfs sfs; /* the kernel's struct statfs on x86-64 */
	struct fs_path p;
	int r = fs_path_at(req, AT_FDCWD, req->args[0], &p);

	if (r == 0)
		r = kbox_vfs_statfs(&p.ctx, p.path, &sfs);
	if (r == 0)
		r = kbox_write_guest(req, req->args[1], &sfs, sizeof(sfs));
	return fs_ret(r);
}
