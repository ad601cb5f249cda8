// SPDX-License-Identifier: MIT
/*
 * hostdir extended attributes. The *xattrat calls (Linux 6.13) act on
 * (dirfd, name) without following; older kernels get the same inode through
 * an O_PATH fd and /proc/self/fd/N, whose magic link lands on the inode
 * itself even when it is a symlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hostdir.h"

#ifndef SYS_setxattrat
#define SYS_setxattrat	  463
#define SYS_getxattrat	  464
#define SYS_listxattrat	  465
#define SYS_removexattrat 466
#endif

/* struct xattr_args of <linux/xattr.h> (Linux 6.13), absent from older headers. */
struct hostdir_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

enum xop {
	XGET,
	XSET,
	XLIST,
	XREMOVE
};

struct xreq {
	enum xop op;
	const char *xname;
	void *val;
	size_t size;
	int xflags;
};

static long via_proc(int dirfd, const char *name, const struct xreq *x)
{
	char path[32];
	long r;
	int fd = kbox_hostdir_open_path(dirfd, name);

	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	switch (x->op) {
	case XGET:
		r = getxattr(path, x->xname, x->val, x->size);
		break;
	case XSET:
		r = setxattr(path, x->xname, x->val, x->size, x->xflags);
		break;
	case XLIST:
		r = listxattr(path, x->val, x->size);
		break;
	default:
		r = removexattr(path, x->xname);
		break;
	}
	r = r < 0 ? -errno : r;
	close(fd);
	return r;
}

static long via_at(int dirfd, const char *name, const struct xreq *x)
{
	struct hostdir_xattr_args a = {.value = (uintptr_t)x->val,
				       .size = (uint32_t)x->size,
				       .flags = (uint32_t)x->xflags};
	int at = AT_SYMLINK_NOFOLLOW;

	switch (x->op) {
	case XGET:
		return syscall(SYS_getxattrat, dirfd, name, at, x->xname, &a, sizeof(a));
	case XSET:
		return syscall(SYS_setxattrat, dirfd, name, at, x->xname, &a, sizeof(a));
	case XLIST:
		return syscall(SYS_listxattrat, dirfd, name, at, x->val, x->size);
	default:
		return syscall(SYS_removexattrat, dirfd, name, at, x->xname);
	}
}

static int xattr_do(int dirfd, const char *name, const struct xreq *x)
{
	static _Atomic int have_at = 1; /* only ever cleared */
	long r;

	if (x->size > XATTR_SIZE_MAX && x->op != XLIST)
		return -E2BIG;
	if (have_at) {
		r = via_at(dirfd, name, x);
		if (r >= 0)
			return (int)r;
		if (errno != ENOSYS)
			return -errno;
		have_at = 0;
	}
	return (int)via_proc(dirfd, name, x);
}

int kbox_hostdir_getxattr(int dirfd, const char *name, const char *xname, void *val, size_t size)
{
	struct xreq x = {.op = XGET, .xname = xname, .val = val, .size = size};

	return xattr_do(dirfd, name, &x);
}

int kbox_hostdir_setxattr(int dirfd, const char *name, const char *xname, const void *val,
			  size_t size, int xflags)
{
	struct xreq x = {
		.op = XSET, .xname = xname, .val = (void *)val, .size = size, .xflags = xflags};

	return xattr_do(dirfd, name, &x);
}

int kbox_hostdir_listxattr(int dirfd, const char *name, char *list, size_t size)
{
	struct xreq x = {.op = XLIST, .val = list, .size = size};

	return xattr_do(dirfd, name, &x);
}

int kbox_hostdir_removexattr(int dirfd, const char *name, const char *xname)
{
	struct xreq x = {.op = XREMOVE, .xname = xname};

	return xattr_do(dirfd, name, &x);
}
