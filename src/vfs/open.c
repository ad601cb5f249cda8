// SPDX-License-Identifier: MIT
/*
 * Opening and looking at objects by guest path: open, stat, statx, access,
 * readlink, statfs. Each resolves with namei.c, then asks the backend about
 * the final (dirfd, name).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "../fs/hostdir/hostdir.h"
#include "internal.h"

static bool is_tmpfile(int oflags)
{
	return (oflags & O_TMPFILE) == O_TMPFILE;
}

/*
 * The checks Linux makes before the host can: read-only mounts (EROFS
 * only where Linux's sb_permission() gives it: regular files and new
 * files) and a FIFO whose open would block until its other end opens.
 */
static int open_checks(const struct kbox_nameidata *nd, int oflags, bool *would_block)
{
	bool exists = nd->st_err == 0, creat = oflags & O_CREAT;
	bool write = (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);
	const struct stat *st = &nd->st;

	if (!exists && nd->st_err != -ENOENT)
		return nd->st_err;
	if (!exists && !creat && !is_tmpfile(oflags))
		return -ENOENT;
	if (oflags & O_PATH)
		return 0;
	if (kbox_vfs_check_writable(nd) < 0) {
		if (is_tmpfile(oflags) || (!exists && creat))
			return -EROFS;
		if (exists && !(creat && (oflags & O_EXCL)) && S_ISREG(st->st_mode) && write)
			return -EROFS;
	}
	if (exists && S_ISFIFO(st->st_mode) && !(oflags & O_NONBLOCK) &&
	    (oflags & O_ACCMODE) != O_RDWR && would_block) {
		*would_block = true;
		return -EAGAIN;
	}
	return 0;
}

/*
 * A guest's /proc/<pid>/fd/N of a pipe, socket or deleted file (/dev/stdin
 * on a pipe, bash's <(...)): the host follows the magic link, which leads
 * only to that guest's own open object, and reopens it as Linux does.
 */
static int reopen_object(const struct kbox_nameidata *nd, int oflags)
{
	int fd = openat(nd->dirfd, nd->name,
			(oflags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The last component: a procfs file kbox shows its own way, or the backend's. */
static int open_last(const struct kbox_nameidata *nd, int oflags, mode_t mode)
{
	int fd, r = kbox_vfs_proc_open(nd, oflags, &fd);

	if (r != 0)
		return r < 0 ? r : fd;
	return kbox_hostdir_open(nd->dirfd, nd->name, oflags, mode);
}

int kbox_vfs_open_flags(const struct kbox_lookup_ctx *ctx, const char *path, int oflags,
			mode_t mode, unsigned lookup, bool *would_block)
{
	struct kbox_nameidata nd;
	bool creat = oflags & O_CREAT;
	unsigned flags = lookup | KBOX_LOOKUP_STAT;
	int r;

	if (would_block)
		*would_block = false;
	/* O_CREAT|O_EXCL never follows the last symlink (EEXIST instead). */
	if (!(oflags & O_NOFOLLOW) && !(creat && (oflags & O_EXCL)))
		flags |= KBOX_LOOKUP_FOLLOW;
	/* With O_CREAT a trailing slash is EISDIR before anything else. */
	if (creat)
		flags |= KBOX_LOOKUP_PARENT;
	if (is_tmpfile(oflags))
		flags |= KBOX_LOOKUP_DIRECTORY;
	r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);
	if (r < 0)
		return r;
	if (creat && nd.trailing_slash)
		r = -EISDIR;
	else
		r = open_checks(&nd, oflags, would_block);
	if (r == 0 && nd.object_link)
		r = reopen_object(&nd, oflags);
	else if (r == 0)
		r = open_last(&nd, oflags, mode);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_open(const struct kbox_lookup_ctx *ctx, const char *path, int oflags, mode_t mode,
		  bool *would_block)
{
	return kbox_vfs_open_flags(ctx, path, oflags, mode, 0, would_block);
}

int kbox_vfs_stat(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		  struct stat *st)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0)
		*st = nd.st;
	kbox_nameidata_release(&nd);
	return r;
}

/*
 * statx straight on the last name, without the walker's own lstat; only a
 * symlink to follow needs the second, following lookup.
 */
int kbox_vfs_statx(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   int sync_flags, unsigned mask, struct statx *stx)
{
	struct kbox_nameidata nd;
	unsigned first = flags & ~KBOX_LOOKUP_FOLLOW;
	int r = kbox_vfs_lookup_parent(ctx, path, first, &nd);

	if (r < 0)
		return r;
	r = kbox_hostdir_statx(nd.dirfd, nd.name, sync_flags, mask | STATX_TYPE, stx);
	if (r == 0 && S_ISLNK(stx->stx_mode) && (flags & KBOX_LOOKUP_FOLLOW)) {
		kbox_nameidata_release(&nd);
		r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);
		if (r < 0)
			return r;
		r = kbox_hostdir_statx(nd.dirfd, nd.name, sync_flags, mask, stx);
	}
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_access(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, int mode,
		    bool eaccess)
{
	struct kbox_nameidata nd;
	const struct stat *st = &nd.st;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0)
		r = kbox_hostdir_access(nd.dirfd, nd.name, mode, eaccess);
	/* Linux answers EROFS for W_OK on files a read-only mount holds. */
	if (r == 0 && (mode & W_OK) && kbox_vfs_check_writable(&nd) < 0 &&
	    (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode)))
		r = -EROFS;
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_readlink(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *buf, size_t size)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);

	if (r < 0)
		return r;
	r = kbox_vfs_proc_link(ctx, nd.mnt, nd.parent_guest, nd.name, buf, size, false);
	if (r == 0)
		r = kbox_hostdir_readlink(nd.dirfd, nd.name, buf, size);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_statfs(const struct kbox_lookup_ctx *ctx, const char *path, struct statfs *sfs)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_FOLLOW, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0)
		r = kbox_hostdir_statfs(nd.dirfd, nd.name, sfs);
	if (r == 0 && kbox_vfs_check_writable(&nd) < 0)
		sfs->f_flags |= ST_RDONLY;
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_open_path(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0)
		r = kbox_hostdir_open_path(nd.dirfd, nd.name);
	kbox_nameidata_release(&nd);
	return r;
}
