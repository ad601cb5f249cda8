// SPDX-License-Identifier: MIT
/*
 * Extended attributes through libext2fs' handle API, with setxattr(2)'s
 * rules on top: known namespaces only, XATTR_CREATE / XATTR_REPLACE,
 * ERANGE for a short buffer. POSIX ACLs are converted by libext2fs between
 * the image's format and the one the syscalls use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs/ext4/internal.h"

#define XATTR_SIZE_MAX_LINUX 65536

static int check_xname(const char *name)
{
	static const char *const prefixes[] = {"user.", "trusted.", "security.",
					       "system.posix_acl_access",
					       "system.posix_acl_default"};
	size_t len = strlen(name);

	if (!len || len > 255)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);

		/* "user." needs a name after it; the ACL names are whole. */
		if (prefixes[i][plen - 1] == '.' ? !strncmp(name, prefixes[i], plen) && len > plen
						 : !strcmp(name, prefixes[i]))
			return 0;
	}
	return -EOPNOTSUPP;
}

static int open_handle(struct kbox_ext4 *x, uint32_t ino, struct ext2_xattr_handle **h)
{
	errcode_t rc = ext2fs_xattrs_open(x->fs, ino, h);

	if (!rc) {
		rc = ext2fs_xattrs_read(*h);
		if (rc)
			ext2fs_xattrs_close(h);
	}
	return kbox_ext4_errno(rc);
}

/* Value length of @name, copied to @val when @size allows; -ENODATA when absent. */
static int get_value(struct ext2_xattr_handle *h, const char *name, void *val, size_t size)
{
	void *v = NULL;
	size_t len = 0;
	errcode_t rc = ext2fs_xattr_get(h, name, &v, &len);
	int ret;

	if (rc)
		return kbox_ext4_errno(rc);
	if (!size)
		ret = len;
	else if (len > size)
		ret = -ERANGE;
	else {
		memcpy(val, v, len);
		ret = len;
	}
	ext2fs_free_mem(&v);
	return ret;
}

int kbox_ext4_getxattr(struct kbox_ext4 *x, uint32_t ino, const char *name, void *val, size_t size)
{
	struct ext2_xattr_handle *h;
	int ret = check_xname(name);

	if (ret)
		return ret;
	pthread_mutex_lock(&x->lock);
	ret = open_handle(x, ino, &h);
	if (!ret) {
		ret = get_value(h, name, val, size);
		ext2fs_xattrs_close(&h);
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

static int do_set(struct kbox_ext4 *x, uint32_t ino, const char *name, const void *val, size_t size,
		  int flags)
{
	struct ext2_xattr_handle *h;
	int exists, err = open_handle(x, ino, &h);

	if (err)
		return err;
	exists = get_value(h, name, NULL, 0);
	if (exists < 0 && exists != -ENODATA)
		err = exists;
	else if ((flags & XATTR_CREATE) && exists >= 0)
		err = -EEXIST;
	else if ((flags & XATTR_REPLACE) && exists < 0)
		err = -ENODATA;
	else if (val)
		err = kbox_ext4_errno(ext2fs_xattr_set(h, name, val, size));
	else
		err = kbox_ext4_errno(ext2fs_xattr_remove(h, name));
	ext2fs_xattrs_close(&h);
	/* libext2fs rewrote the inode (in-inode xattrs, the xattr block pointer). */
	kbox_ext4_iforget(x, ino);
	return err ?: kbox_ext4_touch_ino(x, ino, false);
}

int kbox_ext4_setxattr(struct kbox_ext4 *x, uint32_t ino, const char *name, const void *val,
		       size_t size, int flags)
{
	int err = check_xname(name);

	if (!err && size > XATTR_SIZE_MAX_LINUX)
		err = -E2BIG;
	if (!err && (flags & ~(XATTR_CREATE | XATTR_REPLACE)))
		err = -EINVAL;
	if (!err && !x->rw)
		err = -EROFS;
	if (err)
		return err;
	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_maybe_flush(x, 2) ?: do_set(x, ino, name, val ? val : "", size, flags);
	err = kbox_ext4_done(x, err);
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_removexattr(struct kbox_ext4 *x, uint32_t ino, const char *name)
{
	int err = check_xname(name);

	if (!err && !x->rw)
		err = -EROFS;
	if (err)
		return err;
	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_done(x, do_set(x, ino, name, NULL, 0, XATTR_REPLACE));
	pthread_mutex_unlock(&x->lock);
	return err;
}

struct names {
	char *list;
	size_t size, used;
};

static int add_name(char *name, char *value, size_t value_len, void *arg)
{
	struct names *n = arg;
	size_t len = strlen(name) + 1;

	(void)value;
	(void)value_len;
	/* Inline data lives in "system.data": not an attribute the guest set. */
	if (!strcmp(name, "system.data"))
		return 0;
	if (n->size && n->used + len <= n->size)
		memcpy(n->list + n->used, name, len);
	n->used += len;
	return 0;
}

int kbox_ext4_listxattr(struct kbox_ext4 *x, uint32_t ino, char *list, size_t size)
{
	struct ext2_xattr_handle *h;
	struct names n = {.list = list, .size = size};
	int err;

	pthread_mutex_lock(&x->lock);
	err = open_handle(x, ino, &h);
	if (!err) {
		err = kbox_ext4_errno(ext2fs_xattrs_iterate(h, add_name, &n));
		ext2fs_xattrs_close(&h);
	}
	pthread_mutex_unlock(&x->lock);
	if (err)
		return err;
	if (size && n.used > size)
		return -ERANGE;
	return n.used;
}
