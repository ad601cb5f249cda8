// SPDX-License-Identifier: MIT
/*
 * Namespace operations by guest path: mkdir, mknod, rmdir, unlink, symlink,
 * rename, link. The last component is never followed; errors for ".", ".."
 * and mount roots are chosen here as Linux chooses them from the last
 * component's kind, because the backend only ever sees ".".
 * Every operation that may change what a name is drops that name, and all
 * cached below it, from the dcache (whether or not it succeeded: cheap).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../fs/hostdir/hostdir.h"
#include "internal.h"

/*
 * The name the host sees: "name/" when the guest wrote a trailing slash, so
 * the host picks Linux's own trailing-slash errors (a single component with
 * a trailing slash is never followed by these calls).
 */
static const char *host_name(const struct kbox_nameidata *nd, char buf[NAME_MAX + 2])
{
	if (!nd->trailing_slash || nd->last != KBOX_LAST_NORM)
		return nd->name;
	snprintf(buf, NAME_MAX + 2, "%s/", nd->name);
	return buf;
}

/* Creating on a read-only mount: EEXIST still wins over EROFS, as in filename_create(). */
static int create_check(const struct kbox_nameidata *nd)
{
	struct stat st;

	if (nd->last != KBOX_LAST_NORM)
		return -EEXIST;
	if (kbox_vfs_check_writable(nd) == 0)
		return 0;
	return kbox_hostdir_lstat(nd->dirfd, nd->name, &st) == 0 ? -EEXIST : -EROFS;
}

/*
 * create_check() and, for a non-root emulated identity, write and search
 * on the parent; an existing name is still EEXIST, as Linux looks first.
 */
static int create_allowed(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd)
{
	int r = create_check(nd);
	struct stat st;

	if (r == 0 && kbox_owner_may_create(ctx->cred, nd->dirfd) < 0)
		r = kbox_hostdir_lstat(nd->dirfd, nd->name, &st) == 0 ? -EEXIST : -EACCES;
	return r;
}

/* A directory with a mount point below it cannot move or go: kbox's mount table is lexical. */
static bool has_mounts_below(const struct kbox_nameidata *nd)
{
	char path[PATH_MAX];
	int n = kbox_path_join(nd->parent_guest, nd->name, path, sizeof(path));

	return n > 0 && nd->last == KBOX_LAST_NORM && kbox_vfs_mounts_below(path, (size_t)n);
}

/* A character or block device (not the 0:0 whiteout an unprivileged user may make). */
static bool is_device(mode_t mode, dev_t dev)
{
	return S_ISBLK(mode) || (S_ISCHR(mode) && dev != 0);
}

/* unlink/rmdir of nd's name, taking any record in kbox's store with it. */
static int remove_name(const struct kbox_nameidata *nd, const char *name, bool dir)
{
	struct stat st;
	bool going = kbox_owner_going(nd->dirfd, nd->name, &st);
	int r = dir ? kbox_hostdir_rmdir(nd->dirfd, name) : kbox_hostdir_unlink(nd->dirfd, name);

	if (r == 0 && going)
		kbox_owner_gone(&st);
	return r;
}

int kbox_vfs_mkdir(const struct kbox_lookup_ctx *ctx, const char *path, mode_t mode)
{
	struct kbox_nameidata nd;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4) {
		r = kbox_img_mkdir(ctx, &nd, mode);
		goto out;
	}
	r = create_allowed(ctx, &nd);
	if (r == 0)
		r = kbox_hostdir_mkdir(nd.dirfd, host_name(&nd, buf), mode);
	if (r == 0)
		kbox_owner_created(ctx->cred, nd.dirfd, nd.name);
out:
	kbox_dcache_forget(&nd);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_mknod(const struct kbox_lookup_ctx *ctx, const char *path, mode_t mode, dev_t dev)
{
	struct kbox_nameidata nd;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4) {
		r = kbox_img_mknod(ctx, &nd, mode, dev);
		goto out;
	}
	r = create_allowed(ctx, &nd);
	if (r == 0 && ctx->cred && is_device(mode, dev)) {
		r = kbox_owner_mknod_dev(ctx->cred, nd.dirfd, nd.name, mode, dev);
		goto out;
	}
	if (r == 0)
		r = kbox_hostdir_mknod(nd.dirfd, host_name(&nd, buf), mode, dev);
	if (r == 0)
		kbox_owner_created(ctx->cred, nd.dirfd, nd.name);
out:
	kbox_dcache_forget(&nd);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_symlink(const char *target, const struct kbox_lookup_ctx *ctx, const char *path)
{
	struct kbox_nameidata nd;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4) {
		r = kbox_img_symlink(ctx, &nd, target);
		goto out;
	}
	r = create_allowed(ctx, &nd);
	if (r == 0)
		r = kbox_hostdir_symlink(target, nd.dirfd, host_name(&nd, buf));
	if (r == 0)
		kbox_owner_created(ctx->cred, nd.dirfd, nd.name);
out:
	kbox_dcache_forget(&nd);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_rmdir(const struct kbox_lookup_ctx *ctx, const char *path)
{
	static const int last_err[] = {[KBOX_LAST_DOT] = -EINVAL,
				       [KBOX_LAST_DOTDOT] = -ENOTEMPTY,
				       [KBOX_LAST_ROOT] = -EBUSY};
	struct kbox_nameidata nd;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.last != KBOX_LAST_NORM)
		r = last_err[nd.last];
	else if (kbox_vfs_check_writable(&nd) < 0)
		r = -EROFS;
	else if ((r = kbox_owner_may_delete(ctx->cred, nd.dirfd, nd.name)) < 0)
		;
	else if (has_mounts_below(&nd))
		r = -EBUSY;
	else if (nd.mnt->ext4)
		r = kbox_img_remove(ctx, &nd, true);
	else
		r = remove_name(&nd, host_name(&nd, buf), true);
	kbox_dcache_forget(&nd);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_unlink(const struct kbox_lookup_ctx *ctx, const char *path)
{
	struct kbox_nameidata nd;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.last != KBOX_LAST_NORM)
		r = -EISDIR;
	else if (nd.mnt->ext4)
		r = kbox_img_remove(ctx, &nd, false);
	else if (kbox_vfs_check_writable(&nd) < 0)
		r = -EROFS;
	else if ((r = kbox_owner_may_delete(ctx->cred, nd.dirfd, nd.name)) == 0)
		r = remove_name(&nd, host_name(&nd, buf), false);
	kbox_dcache_forget(&nd);
	kbox_nameidata_release(&nd);
	return r;
}

static int rename_checks(const struct kbox_nameidata *o, const struct kbox_nameidata *n,
			 unsigned flags)
{
	if (o->last != KBOX_LAST_NORM)
		return -EBUSY;
	if (n->last != KBOX_LAST_NORM)
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	if (o->mnt != n->mnt)
		return -EXDEV;
	if (kbox_vfs_check_writable(o) < 0)
		return -EROFS;
	if (has_mounts_below(o) || has_mounts_below(n))
		return -EBUSY;
	return 0;
}

/* may_delete() of the old name, and of the new one or may_create() where it is free. */
static int rename_allowed(const struct kbox_lookup_ctx *octx, const struct kbox_nameidata *o,
			  const struct kbox_lookup_ctx *nctx, const struct kbox_nameidata *n)
{
	struct stat st;
	int r = kbox_owner_may_delete(octx->cred, o->dirfd, o->name);

	if (r < 0 || !nctx->cred)
		return r;
	if (kbox_hostdir_lstat(n->dirfd, n->name, &st) == 0)
		return kbox_owner_may_delete(nctx->cred, n->dirfd, n->name);
	return kbox_owner_may_create(nctx->cred, n->dirfd);
}

int kbox_vfs_rename(const struct kbox_lookup_ctx *octx, const char *opath,
		    const struct kbox_lookup_ctx *nctx, const char *npath, unsigned flags)
{
	struct kbox_nameidata o, n;
	char obuf[NAME_MAX + 2], nbuf[NAME_MAX + 2];
	struct stat st;
	bool going;
	int r = kbox_vfs_lookup_parent(octx, opath, KBOX_LOOKUP_PARENT, &o);

	if (r < 0)
		return r;
	r = kbox_vfs_lookup_parent(nctx, npath, KBOX_LOOKUP_PARENT, &n);
	if (r < 0) {
		kbox_nameidata_release(&o);
		return r;
	}
	r = rename_checks(&o, &n, flags);
	if (r == 0 && o.mnt->ext4) {
		r = kbox_img_rename(octx, &o, &n, flags);
		goto out;
	}
	if (r == 0)
		r = rename_allowed(octx, &o, nctx, &n);
	going = !(flags & RENAME_EXCHANGE) && kbox_owner_going(n.dirfd, n.name, &st);
	if (r == 0)
		r = kbox_hostdir_rename(o.dirfd, host_name(&o, obuf), n.dirfd, host_name(&n, nbuf),
					flags);
	if (r == 0 && going)
		kbox_owner_gone(&st);
out:
	kbox_dcache_forget(&o);
	kbox_dcache_forget(&n);
	kbox_nameidata_release(&n);
	kbox_nameidata_release(&o);
	return r;
}

int kbox_vfs_link(const struct kbox_lookup_ctx *octx, const char *opath, unsigned oflags,
		  const struct kbox_lookup_ctx *nctx, const char *npath)
{
	struct kbox_nameidata o, n;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(octx, opath, oflags & KBOX_LOOKUP_FOLLOW, &o);

	if (r < 0)
		return r;
	r = kbox_vfs_lookup_parent(nctx, npath, KBOX_LOOKUP_PARENT, &n);
	if (r < 0) {
		kbox_nameidata_release(&o);
		return r;
	}
	if (n.mnt->ext4 && o.mnt != n.mnt)
		r = n.last != KBOX_LAST_NORM ? -EEXIST : -EXDEV;
	else if (n.mnt->ext4)
		r = kbox_img_link(nctx, &o, &n);
	else
		r = create_allowed(nctx, &n);
	if (r == 0 && o.mnt != n.mnt)
		r = -EXDEV;
	if (r == 0 && !n.mnt->ext4)
		r = kbox_hostdir_link(o.dirfd, o.name, n.dirfd, host_name(&n, buf));
	kbox_dcache_forget(&n);
	kbox_nameidata_release(&n);
	kbox_nameidata_release(&o);
	return r;
}

/* linkat(fd, "", ..., AT_EMPTY_PATH): the host decides (it needs CAP_DAC_READ_SEARCH). */
int kbox_vfs_link_fd(int fd, const struct kbox_lookup_ctx *nctx, const char *npath)
{
	struct kbox_nameidata n;
	char buf[NAME_MAX + 2];
	int r = kbox_vfs_lookup_parent(nctx, npath, KBOX_LOOKUP_PARENT, &n);

	if (r < 0)
		return r;
	r = kbox_vfs_image_link_fd(fd, nctx, &n);
	if (r != 1) {
		kbox_dcache_forget(&n);
		kbox_nameidata_release(&n);
		return r;
	}
	r = n.mnt->ext4 ? -EXDEV : create_allowed(nctx, &n);
	if (r == 0)
		r = kbox_hostdir_link_fd(fd, n.dirfd, host_name(&n, buf));
	kbox_dcache_forget(&n);
	kbox_nameidata_release(&n);
	return r;
}
