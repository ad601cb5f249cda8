// SPDX-License-Identifier: MIT
/*
 * Attribute changes by guest path: chmod, chown, utimens, truncate and
 * extended attributes. Linux reports a missing file before a read-only
 * mount, so the last component is always looked at first.
 *
 * A directory's mode, owner and ACL decide whether the host lets kbox walk
 * through it; the dcache holds fds opened below it under the old ones, so a
 * change to a directory drops what the cache holds below it.
 */
#include <errno.h>
#include <sys/stat.h>

#include "../fs/hostdir/hostdir.h"
#include "../fs/ext4/ext4.h"
#include "internal.h"

/* Resolve for an attribute change: the object must exist, its mount be writable. */
static int attr_lookup(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		       bool write, struct kbox_nameidata *nd)
{
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, nd);

	if (r < 0)
		return r;
	r = nd->st_err;
	if (r == 0 && write)
		r = kbox_vfs_check_writable(nd);
	if (r < 0)
		kbox_nameidata_release(nd);
	return r;
}

/* Release @nd after a change to its permissions: see the top of the file. */
static void attr_done(struct kbox_nameidata *nd)
{
	if (S_ISDIR(nd->st.st_mode))
		kbox_dcache_forget(nd);
	kbox_nameidata_release(nd);
}

/* chown(2) on an image: -1 keeps an id. */
static int img_chown(const struct kbox_lookup_ctx *ctx, struct kbox_nameidata *nd, uid_t uid,
		     gid_t gid)
{
	struct kbox_ext4_setattr sa = {.uid = uid, .gid = gid};

	if (uid != (uid_t)-1)
		sa.valid |= KBOX_EXT4_SET_UID;
	if (gid != (gid_t)-1)
		sa.valid |= KBOX_EXT4_SET_GID;
	return sa.valid ? kbox_img_setattr(ctx, nd, &sa) : 0;
}

/* utimensat(2) on an image: NULL is now for both; UTIME_OMIT keeps one. */
static int img_utimens(const struct kbox_lookup_ctx *ctx, struct kbox_nameidata *nd,
		       const struct timespec ts[2])
{
	struct kbox_ext4_setattr sa;

	return kbox_ext4_setattr_times(&sa, ts) ? kbox_img_setattr(ctx, nd, &sa) : 0;
}

int kbox_vfs_chmod(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, mode_t mode)
{
	struct kbox_nameidata nd;
	int r = attr_lookup(ctx, path, flags, true, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4)
		r = kbox_img_setattr(ctx, &nd,
				     &(struct kbox_ext4_setattr){.valid = KBOX_EXT4_SET_MODE,
								 .mode = mode & 07777});
	else if (ctx->cred)
		r = kbox_owner_chmod(ctx->cred, nd.dirfd, nd.name, mode);
	else
		r = kbox_hostdir_chmod(nd.dirfd, nd.name, mode);
	attr_done(&nd);
	return r;
}

int kbox_vfs_chown(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, uid_t uid,
		   gid_t gid)
{
	struct kbox_nameidata nd;
	int r = attr_lookup(ctx, path, flags, true, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4)
		r = img_chown(ctx, &nd, uid, gid);
	else if (ctx->cred)
		r = kbox_owner_chown(ctx->cred, nd.dirfd, nd.name, uid, gid);
	else
		r = kbox_hostdir_chown(nd.dirfd, nd.name, uid, gid);
	attr_done(&nd);
	return r;
}

int kbox_vfs_utimens(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		     const struct timespec ts[2])
{
	struct kbox_nameidata nd;
	int r = attr_lookup(ctx, path, flags, true, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4)
		r = img_utimens(ctx, &nd, ts);
	else
		r = kbox_hostdir_utimens(nd.dirfd, nd.name, ts);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_truncate(const struct kbox_lookup_ctx *ctx, const char *path, off_t len)
{
	struct kbox_nameidata nd;
	int r = attr_lookup(ctx, path, KBOX_LOOKUP_FOLLOW, false, &nd);

	if (r < 0)
		return r;
	if (S_ISDIR(nd.st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(nd.st.st_mode))
		r = -EINVAL;
	else
		r = kbox_vfs_check_writable(&nd);
	if (r == 0 && nd.mnt->ext4)
		r = len < 0 ? -EINVAL
			    : kbox_img_setattr(
				      ctx, &nd,
				      &(struct kbox_ext4_setattr){.valid = KBOX_EXT4_SET_SIZE,
								  .size = (uint64_t)len});
	else if (r == 0)
		r = kbox_hostdir_truncate(nd.dirfd, nd.name, len);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_xattr(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags)
{
	struct kbox_nameidata nd;
	bool write = op == KBOX_XATTR_SET || op == KBOX_XATTR_REMOVE;
	int r = attr_lookup(ctx, path, flags, write, &nd);

	if (r < 0)
		return r;
	if (nd.mnt->ext4) {
		r = kbox_img_xattr(ctx, &nd, op, xname, val, size, xflags);
		goto out;
	}
	if (ctx->cred) {
		r = kbox_owner_xattr(ctx->cred, nd.dirfd, nd.name, op, xname, val, size, xflags);
		goto out;
	}
	switch (op) {
	case KBOX_XATTR_GET:
		r = kbox_hostdir_getxattr(nd.dirfd, nd.name, xname, val, size);
		break;
	case KBOX_XATTR_SET:
		r = kbox_hostdir_setxattr(nd.dirfd, nd.name, xname, val, size, xflags);
		break;
	case KBOX_XATTR_LIST:
		r = kbox_hostdir_listxattr(nd.dirfd, nd.name, val, size);
		break;
	default:
		r = kbox_hostdir_removexattr(nd.dirfd, nd.name, xname);
		break;
	}
out:
	if (write)
		attr_done(&nd);
	else
		kbox_nameidata_release(&nd);
	return r;
}
