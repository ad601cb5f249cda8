// SPDX-License-Identifier: MIT
/*
 * open, openat, openat2, creat. The file is opened by kbox and the host fd
 * placed into the guest. Opening a FIFO that would block (no O_NONBLOCK,
 * no peer yet) is finished on a short-lived thread: the supervisor must
 * never block on one guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_priv.h"

/* The kernel's VALID_OPEN_FLAGS; glibc's O_LARGEFILE is 0 on x86-64. */
#define OPEN_LARGEFILE 0100000
#define OPEN_VALID                                                                                 \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_SYNC |      \
	 FASYNC | O_DIRECT | OPEN_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |   \
	 O_PATH | O_TMPFILE)
#ifndef OPEN_HOW_SIZE_VER0
#define OPEN_HOW_SIZE_VER0 24
#endif
#define OPEN_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
#define RESOLVE_VALID                                                                              \
	(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |         \
	 RESOLVE_IN_ROOT | RESOLVE_CACHED)

struct open_job {
	struct fs_job job;
	int flags;
	mode_t mode;
	unsigned lookup;
	struct fs_path p;
	char root[PATH_MAX];
};

static bool will_create(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static struct kbox_result open_run(struct fs_job *job)
{
	struct open_job *o = (struct open_job *)job;
	int fd = kbox_vfs_open_flags(&o->p.ctx, o->p.path, o->flags, o->mode, o->lookup, NULL);

	return fd < 0 ? fs_ret(fd) : kbox_res_fd(fd, o->flags & O_CLOEXEC);
}

/* Blocking FIFO open: copy what the thread needs, since cwd and root may change meanwhile. */
static struct kbox_result open_defer(struct kbox_request *req, const struct fs_path *p, int flags,
				     mode_t mode, unsigned lookup)
{
	struct open_job *o = malloc(sizeof(*o));

	if (!o)
		return fs_ret(-ENOMEM);
	o->job.run = open_run;
	o->flags = flags;
	o->mode = mode;
	o->lookup = lookup;
	memcpy(o->p.path, p->path, sizeof(o->p.path));
	snprintf(o->p.base, sizeof(o->p.base), "%s", p->ctx.base);
	snprintf(o->root, sizeof(o->root), "%s", p->ctx.root);
	o->p.ctx = p->ctx;
	o->p.ctx.base = o->p.base;
	o->p.ctx.root = o->root;
	o->p.cred = p->cred;
	if (p->ctx.cred)
		o->p.ctx.cred = &o->p.cred;
	return fs_defer(req, &o->job);
}

static struct kbox_result open_ctx(struct kbox_request *req, const struct fs_path *p, int flags,
				   mode_t mode, unsigned lookup)
{
	bool would_block;
	int r;

	if (will_create(flags))
		mode = mode & 07777 & ~kbox_task_fs(req->task)->umask;
	else
		mode = 0;
	r = kbox_vfs_open_flags(&p->ctx, p->path, flags, mode, lookup, &would_block);
	if (r == -EAGAIN && would_block)
		return open_defer(req, p, flags, mode, lookup);
	/*
	 * The filter traps every O_PATH open to the stub (stub_open.c), since
	 * SECCOMP_IOCTL_NOTIF_ADDFD cannot place an O_PATH file; a notified one
	 * would leave the guest waiting on an answer that cannot be sent.
	 */
	if (r >= 0 && (flags & O_PATH) && !req->via_stub) {
		close(r);
		r = -ENXIO;
	}
	if (r < 0)
		return fs_ret(r);
	return kbox_res_fd(r, flags & O_CLOEXEC);
}

static struct kbox_result do_open(struct kbox_request *req, int dirfd, uint64_t addr, int flags,
				  mode_t mode)
{
	struct fs_path p;
	int r = fs_path_at(req, dirfd, addr, &p);

	return r < 0 ? fs_ret(r) : open_ctx(req, &p, flags, mode, 0);
}

struct kbox_result sys_open(struct kbox_request *req)
{
	return do_open(req, AT_FDCWD, req->args[0], (int)req->args[1], (mode_t)req->args[2]);
}

struct kbox_result sys_openat(struct kbox_request *req)
{
	return do_open(req, (int)req->args[0], req->args[1], (int)req->args[2],
		       (mode_t)req->args[3]);
}

struct kbox_result sys_creat(struct kbox_request *req)
{
	return do_open(req, AT_FDCWD, req->args[0], O_CREAT | O_WRONLY | O_TRUNC,
		       (mode_t)req->args[1]);
}

/* build_open_flags() of openat2: strict where open(2) is lenient. */
static int check_how(const struct open_how *how)
{
	if (how->flags & ~(uint64_t)OPEN_VALID)
		return -EINVAL;
	if (how->resolve & ~(uint64_t)RESOLVE_VALID)
		return -EINVAL;
	if ((how->resolve & RESOLVE_BENEATH) && (how->resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if (will_create((int)how->flags) ? (how->mode & ~07777ull) : how->mode)
		return -EINVAL;
	if ((how->flags & O_PATH) && (how->flags & ~(uint64_t)OPEN_PATH_FLAGS))
		return -EINVAL;
	if ((how->resolve & RESOLVE_CACHED) && (how->flags & (O_TRUNC | O_CREAT | __O_TMPFILE)))
		return -EAGAIN;
	return 0;
}

/* copy_struct_from_user(): a larger struct is fine if the tail is zero. */
static int read_how(struct kbox_request *req, uint64_t addr, size_t usize, struct open_how *how)
{
	uint8_t buf[4096];
	size_t i;
	int r;

	if (usize < OPEN_HOW_SIZE_VER0)
		return -EINVAL;
	if (usize > sizeof(buf))
		return -E2BIG;
	memset(buf, 0, sizeof(*how));
	r = kbox_read_guest(req, addr, buf, usize);
	for (i = sizeof(*how); r == 0 && i < usize; i++)
		if (buf[i])
			r = -E2BIG;
	memcpy(how, buf, sizeof(*how));
	return r;
}

static unsigned how_lookup(uint64_t resolve)
{
	return ((resolve & RESOLVE_NO_SYMLINKS) ? KBOX_LOOKUP_NO_SYMLINKS : 0) |
	       ((resolve & RESOLVE_BENEATH) ? KBOX_LOOKUP_BENEATH : 0) |
	       ((resolve & RESOLVE_NO_XDEV) ? KBOX_LOOKUP_NO_XDEV : 0);
}

/*
 * RESOLVE_IN_ROOT makes the dirfd the root; RESOLVE_NO_MAGICLINKS needs
 * nothing since kbox's walker follows no magic links; RESOLVE_CACHED may
 * always succeed.
 */
struct kbox_result sys_openat2(struct kbox_request *req)
{
	struct open_how how;
	struct fs_path p;
	int dirfd = (int)req->args[0];
	int r = read_how(req, req->args[2], req->args[3], &how);

	if (r == 0)
		r = check_how(&how);
	if (r == 0)
		r = fs_read_path(req, req->args[1], &p);
	if (r == 0)
		r = fs_ctx_dirfd(req, dirfd, &p, how.resolve & RESOLVE_IN_ROOT);
	if (r < 0)
		return fs_ret(r);
	if (how.resolve & RESOLVE_IN_ROOT)
		p.ctx.root = p.ctx.base;
	return open_ctx(req, &p, (int)how.flags, (mode_t)how.mode, how_lookup(how.resolve));
}
