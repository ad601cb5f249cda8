// SPDX-License-Identifier: MIT
/*
 * The namespace calls: mkdir, mknod, rmdir, unlink, rename, link, symlink
 * and their *at forms. New objects get the guest's umask here, because
 * kbox's own umask is 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs_priv.h"

static mode_t guest_umask(struct kbox_request *req)
{
	return kbox_task_fs(req->task)->umask;
}

static struct kbox_result do_mkdir(struct kbox_request *req, int dirfd, uint64_t addr, mode_t mode)
{
	struct fs_path p;
	int r = fs_path_at(req, dirfd, addr, &p);

	if (r == 0)
		r = kbox_vfs_mkdir(&p.ctx, p.path, mode & 07777 & ~guest_umask(req));
	return fs_ret(r);
}

struct kbox_result sys_mkdir(struct kbox_request *req)
{
	return do_mkdir(req, AT_FDCWD, req->args[0], (mode_t)req->args[1]);
}

struct kbox_result sys_mkdirat(struct kbox_request *req)
{
	return do_mkdir(req, (int)req->args[0], req->args[1], (mode_t)req->args[2]);
}

/* may_mknod() runs before the path's errors are reported, so EINVAL comes first. */
static struct kbox_result do_mknod(struct kbox_request *req, int dirfd, uint64_t addr, mode_t mode,
				   unsigned dev)
{
	struct fs_path p;
	int r = 0;

	switch (mode & S_IFMT) {
	case 0:
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return fs_ret(-EPERM);
	default:
		return fs_ret(-EINVAL);
	}
	r = fs_path_at(req, dirfd, addr, &p);
	/* new_decode_dev(): the syscall's 32-bit dev_t encoding. */
	if (r == 0)
		r = kbox_vfs_mknod(
			&p.ctx, p.path, mode & ~(guest_umask(req) & 0777),
			makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)));
	return fs_ret(r);
}

struct kbox_result sys_mknod(struct kbox_request *req)
{
	return do_mknod(req, AT_FDCWD, req->args[0], (mode_t)req->args[1], (unsigned)req->args[2]);
}

struct kbox_result sys_mknodat(struct kbox_request *req)
{
	return do_mknod(req, (int)req->args[0], req->args[1], (mode_t)req->args[2],
			(unsigned)req->args[3]);
}

static struct kbox_result do_unlink(struct kbox_request *req, int dirfd, uint64_t addr, int flags)
{
	struct fs_path p;
	int r;

	if (flags & ~AT_REMOVEDIR)
		return fs_ret(-EINVAL);
	r = fs_path_at(req, dirfd, addr, &p);
	if (r == 0)
		r = (flags & AT_REMOVEDIR) ? kbox_vfs_rmdir(&p.ctx, p.path)
					   : kbox_vfs_unlink(&p.ctx, p.path);
	return fs_ret(r);
}

struct kbox_result sys_rmdir(struct kbox_request *req)
{
	return do_unlink(req, AT_FDCWD, req->args[0], AT_REMOVEDIR);
}

struct kbox_result sys_unlink(struct kbox_request *req)
{
	return do_unlink(req, AT_FDCWD, req->args[0], 0);
}

struct kbox_result sys_unlinkat(struct kbox_request *req)
{
	return do_unlink(req, (int)req->args[0], req->args[1], (int)req->args[2]);
}

/* Both paths read (EFAULT, ENAMETOOLONG) before either is resolved, as Linux does. */
static int two_paths(struct kbox_request *req, int odfd, uint64_t oaddr, int ndfd, uint64_t naddr,
		     struct fs_path *o, struct fs_path *n)
{
	int r = fs_read_path(req, oaddr, o);

	if (r == 0)
		r = fs_read_path(req, naddr, n);
	if (r == 0)
		r = fs_ctx_at(req, odfd, o);
	if (r == 0)
		r = fs_ctx_at(req, ndfd, n);
	return r;
}

static struct kbox_result do_rename(struct kbox_request *req, int odfd, uint64_t oaddr, int ndfd,
				    uint64_t naddr, unsigned flags)
{
	struct fs_path o, n;
	int r = two_paths(req, odfd, oaddr, ndfd, naddr, &o, &n);

	if (r == 0 && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)))
		r = -EINVAL;
	if (r == 0 && (flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
		r = -EINVAL;
	if (r == 0)
		r = kbox_vfs_rename(&o.ctx, o.path, &n.ctx, n.path, flags);
	return fs_ret(r);
}

struct kbox_result sys_rename(struct kbox_request *req)
{
	return do_rename(req, AT_FDCWD, req->args[0], AT_FDCWD, req->args[1], 0);
}

struct kbox_result sys_renameat(struct kbox_request *req)
{
	return do_rename(req, (int)req->args[0], req->args[1], (int)req->args[2], req->args[3], 0);
}

struct kbox_result sys_renameat2(struct kbox_request *req)
{
	return do_rename(req, (int)req->args[0], req->args[1], (int)req->args[2], req->args[3],
			 (unsigned)req->args[4]);
}

/* linkat(fd, "", ..., AT_EMPTY_PATH) links the fd's own inode. */
static int link_empty(struct kbox_request *req, int odfd, struct fs_path *n)
{
	int kfd = req->tier->get_guest_fd(req, odfd);
	int r;

	if (kfd < 0)
		return -EBADF;
	r = kbox_vfs_link_fd(kfd, &n->ctx, n->path);
	close(kfd);
	return r;
}

static struct kbox_result do_link(struct kbox_request *req, int odfd, uint64_t oaddr, int ndfd,
				  uint64_t naddr, int flags)
{
	unsigned oflags = (flags & AT_SYMLINK_FOLLOW) ? KBOX_LOOKUP_FOLLOW : 0;
	struct fs_path o, n;
	int r;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return fs_ret(-EINVAL);
	r = fs_read_path(req, oaddr, &o);
	if (r == 0 && !o.path[0] && (flags & AT_EMPTY_PATH) && odfd != AT_FDCWD) {
		r = fs_path_at(req, ndfd, naddr, &n);
		return fs_ret(r < 0 ? r : link_empty(req, odfd, &n));
	}
	if (r == 0)
		r = two_paths(req, odfd, oaddr, ndfd, naddr, &o, &n);
	if (r == 0)
		r = kbox_vfs_link(&o.ctx, o.path,
				  oflags | ((flags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0),
				  &n.ctx, n.path);
	return fs_ret(r);
}

struct kbox_result sys_link(struct kbox_request *req)
{
	return do_link(req, AT_FDCWD, req->args[0], AT_FDCWD, req->args[1], 0);
}

struct kbox_result sys_linkat(struct kbox_request *req)
{
	return do_link(req, (int)req->args[0], req->args[1], (int)req->args[2], req->args[3],
		       (int)req->args[4]);
}

/* The target is only a string stored in the link; it is never resolved here. */
static struct kbox_result do_symlink(struct kbox_request *req, uint64_t taddr, int ndfd,
				     uint64_t naddr)
{
	struct fs_path t, n;
	int r = fs_read_path(req, taddr, &t);

	if (r == 0)
		r = fs_path_at(req, ndfd, naddr, &n);
	if (r == 0)
		r = kbox_vfs_symlink(t.path, &n.ctx, n.path);
	return fs_ret(r);
}

struct kbox_result sys_symlink(struct kbox_request *req)
{
	return do_symlink(req, req->args[0], AT_FDCWD, req->args[1]);
}

struct kbox_result sys_symlinkat(struct kbox_request *req)
{
	return do_symlink(req, req->args[0], (int)req->args[1], req->args[2]);
}
