// SPDX-License-Identifier: MIT
/*
 * Extended attributes by path: the classic eight calls and the *xattrat
 * family (Linux 6.13). Values pass through a kbox buffer of at most
 * XATTR_SIZE_MAX bytes, as the kernel's own copy does.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs_priv.h"

/* struct xattr_args of Linux 6.13. */
struct guest_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};
#define XATTR_ARGS_SIZE_VER0 16

/* One xattr call, decoded from either syscall form. */
struct xcall {
	enum kbox_xattr_op op;
	int dirfd;
	uint64_t path;
	int atflags; /* AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH */
	uint64_t name;
	uint64_t value;
	size_t size;
	int xflags;
};

/* import_xattr_name(): empty or longer than XATTR_NAME_MAX is ERANGE. */
static int read_name(struct kbox_request *req, uint64_t addr, char name[XATTR_NAME_MAX + 1])
{
	int r = kbox_read_guest_string(req, addr, name, XATTR_NAME_MAX + 1);

	if (r == -ENAMETOOLONG || r == 0)
		return -ERANGE;
	return r < 0 ? r : 0;
}

static int xattr_io(struct kbox_request *req, const struct xcall *x, const struct fs_path *p,
		    const char *name, char *buf)
{
	unsigned flags = ((x->atflags & AT_SYMLINK_NOFOLLOW) ? 0 : KBOX_LOOKUP_FOLLOW) |
			 ((x->atflags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0);
	size_t size = x->size > XATTR_SIZE_MAX ? XATTR_SIZE_MAX : x->size;
	int r;

	if (x->op == KBOX_XATTR_SET && size) {
		r = kbox_read_guest(req, x->value, buf, size);
		if (r < 0)
			return r;
	}
	r = kbox_vfs_xattr(&p->ctx, p->path, flags, x->op, name, buf, size, x->xflags);
	if (r > 0 && size && (x->op == KBOX_XATTR_GET || x->op == KBOX_XATTR_LIST)) {
		int w = kbox_write_guest(req, x->value, buf, (size_t)r);

		r = w < 0 ? w : r;
	}
	return r;
}

/* The guest's fd itself: kbox's copy, not a CONTINUE (see fs_fd.c). */
static struct kbox_result fd_xattr(struct kbox_request *req, const struct xcall *x,
				   const char *name)
{
	size_t size = x->size > XATTR_SIZE_MAX ? XATTR_SIZE_MAX : x->size;
	char *buf = malloc(size ? size : 1);
	int r = buf ? 0 : -ENOMEM;

	if (r == 0 && x->op == KBOX_XATTR_SET && size)
		r = kbox_read_guest(req, x->value, buf, size);
	if (r == 0)
		r = fs_fd_xattr(req, x->dirfd, x->op, name, buf, size, x->xflags);
	if (r > 0 && size && (x->op == KBOX_XATTR_GET || x->op == KBOX_XATTR_LIST)) {
		int w = kbox_write_guest(req, x->value, buf, (size_t)r);

		r = w < 0 ? w : r;
	}
	free(buf);
	return fs_ret(r);
}

static struct kbox_result do_xattr(struct kbox_request *req, const struct xcall *x)
{
	char name[XATTR_NAME_MAX + 1] = "";
	struct fs_path p;
	char *buf;
	int r = 0;

	if (x->atflags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return fs_ret(-EINVAL);
	if (x->op == KBOX_XATTR_SET && (x->xflags & ~(XATTR_CREATE | XATTR_REPLACE)))
		return fs_ret(-EINVAL);
	if (x->op == KBOX_XATTR_SET && x->size > XATTR_SIZE_MAX)
		return fs_ret(-E2BIG);
	if (x->op != KBOX_XATTR_LIST)
		r = read_name(req, x->name, name);
	if (r == 0 && fs_path_empty(req, x->path, x->atflags, &p, &r) && r == 0 &&
	    (x->atflags & AT_EMPTY_PATH) && x->dirfd != AT_FDCWD)
		return fd_xattr(req, x, name);
	if (r == 0 && !x->path)
		r = -EFAULT;
	if (r == 0)
		r = fs_ctx_at(req, x->dirfd, &p);
	if (r < 0)
		return fs_ret(r);
	buf = malloc(XATTR_SIZE_MAX);
	if (!buf)
		return fs_ret(-ENOMEM);
	r = xattr_io(req, x, &p, name, buf);
	free(buf);
	return fs_ret(r);
}

/* The classic calls' arguments after the path or fd: (list, size) or (name, value, size, flags). */
static void classic_args(struct kbox_request *req, struct xcall *x)
{
	if (x->op == KBOX_XATTR_LIST) {
		x->value = req->args[1];
		x->size = req->args[2];
		return;
	}
	x->name = req->args[1];
	x->value = req->args[2];
	x->size = req->args[3];
	x->xflags = (int)req->args[4];
}

static struct kbox_result classic(struct kbox_request *req, enum kbox_xattr_op op, bool nofollow)
{
	struct xcall x = {.op = op, .dirfd = AT_FDCWD, .path = req->args[0]};

	x.atflags = nofollow ? AT_SYMLINK_NOFOLLOW : 0;
	classic_args(req, &x);
	return do_xattr(req, &x);
}

/* f*xattr(fd, ...): the same call on the fd itself (AT_EMPTY_PATH form). */
static struct kbox_result fd_classic(struct kbox_request *req, enum kbox_xattr_op op)
{
	struct xcall x = {.op = op, .dirfd = (int)req->args[0], .atflags = AT_EMPTY_PATH};

	if (x.dirfd == AT_FDCWD)
		return fs_ret(-EBADF);
	classic_args(req, &x);
	return do_xattr(req, &x);
}

/* Notified when ownership is faked (kbox's record stays hidden) or an image is mounted (FDSTAT). */
struct kbox_result sys_fgetxattr(struct kbox_request *req)
{
	return fd_classic(req, KBOX_XATTR_GET);
}

struct kbox_result sys_flistxattr(struct kbox_request *req)
{
	return fd_classic(req, KBOX_XATTR_LIST);
}

struct kbox_result fs_fd_xattr_change(struct kbox_request *req, bool remove)
{
	return fd_classic(req, remove ? KBOX_XATTR_REMOVE : KBOX_XATTR_SET);
}

struct kbox_result sys_setxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_SET, false);
}

struct kbox_result sys_lsetxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_SET, true);
}

struct kbox_result sys_getxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_GET, false);
}

struct kbox_result sys_lgetxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_GET, true);
}

struct kbox_result sys_listxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_LIST, false);
}

struct kbox_result sys_llistxattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_LIST, true);
}

struct kbox_result sys_removexattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_REMOVE, false);
}

struct kbox_result sys_lremovexattr(struct kbox_request *req)
{
	return classic(req, KBOX_XATTR_REMOVE, true);
}

/* setxattrat/getxattrat(dfd, path, at_flags, name, struct xattr_args *, usize). */
static struct kbox_result with_args(struct kbox_request *req, enum kbox_xattr_op op)
{
	struct guest_xattr_args a = {0};
	struct xcall x = {.op = op, .dirfd = (int)req->args[0], .path = req->args[1]};
	size_t usize = req->args[5];
	int r;

	x.atflags = (int)req->args[2];
	x.name = req->args[3];
	if (usize < XATTR_ARGS_SIZE_VER0)
		return fs_ret(-EINVAL);
	if (usize > 4096)
		return fs_ret(-E2BIG);
	/* Only VER0 exists: a larger struct's tail would have to be zero (not checked). */
	r = kbox_read_guest(req, req->args[4], &a, sizeof(a));
	if (r < 0)
		return fs_ret(r);
	if (op == KBOX_XATTR_GET && a.flags)
		return fs_ret(-EINVAL);
	x.value = a.value;
	x.size = a.size;
	x.xflags = (int)a.flags;
	return do_xattr(req, &x);
}

struct kbox_result sys_setxattrat(struct kbox_request *req)
{
	return with_args(req, KBOX_XATTR_SET);
}

struct kbox_result sys_getxattrat(struct kbox_request *req)
{
	return with_args(req, KBOX_XATTR_GET);
}

struct kbox_result sys_listxattrat(struct kbox_request *req)
{
	struct xcall x = {.op = KBOX_XATTR_LIST, .dirfd = (int)req->args[0], .path = req->args[1]};

	x.atflags = (int)req->args[2];
	x.value = req->args[3];
	x.size = req->args[4];
	return do_xattr(req, &x);
}

struct kbox_result sys_removexattrat(struct kbox_request *req)
{
	struct xcall x = {
		.op = KBOX_XATTR_REMOVE, .dirfd = (int)req->args[0], .path = req->args[1]};

	x.atflags = (int)req->args[2];
	x.name = req->args[3];
	return do_xattr(req, &x);
}
