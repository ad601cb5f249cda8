// SPDX-License-Identifier: MIT
/*
 * Attribute changes by path: chmod, chown, the utime family, truncate,
 * file_getattr/file_setattr. An fd alone (NULL or "" with AT_EMPTY_PATH)
 * goes to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "fs_priv.h"

#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#endif
#define FILE_ATTR_SIZE_VER0 24

static unsigned nofollow_lookup(int atflags)
{
	return (atflags & AT_SYMLINK_NOFOLLOW) ? 0 : KBOX_LOOKUP_FOLLOW;
}

/*
 * The common shape: check @flags against @valid, read the path, send an
 * fd-only call to the host, else set up the context.
 * Returns 1 for CONTINUE.
 */
static int at_prologue(struct kbox_request *req, int dirfd, uint64_t addr, int flags, int valid,
		       struct fs_path *p)
{
	int r;

	if (flags & ~valid)
		return -EINVAL;
	if (fs_path_empty(req, addr, flags, p, &r) && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
		return 1;
	if (r == 0 && !addr)
		r = -EFAULT;
	return r < 0 ? r : fs_ctx_at(req, dirfd, p);
}

static struct kbox_result do_chmod(struct kbox_request *req, int dirfd, uint64_t addr, mode_t mode,
				   int flags)
{
	struct fs_path p;
	int r = at_prologue(req, dirfd, addr, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &p);

	if (r == 1)
		return fs_ret(fs_fd_chmod(req, dirfd, mode & 07777));
	if (r == 0)
		r = kbox_vfs_chmod(&p.ctx, p.path,
				   nofollow_lookup(flags) |
					   ((flags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0),
				   mode & 07777);
	return fs_ret(r);
}

struct kbox_result sys_chmod(struct kbox_request *req)
{
	return do_chmod(req, AT_FDCWD, req->args[0], (mode_t)req->args[1], 0);
}

struct kbox_result sys_fchmodat(struct kbox_request *req)
{
	return do_chmod(req, (int)req->args[0], req->args[1], (mode_t)req->args[2], 0);
}

struct kbox_result sys_fchmodat2(struct kbox_request *req)
{
	return do_chmod(req, (int)req->args[0], req->args[1], (mode_t)req->args[2],
			(int)req->args[3]);
}

static struct kbox_result do_chown(struct kbox_request *req, int dirfd, uint64_t addr, uid_t uid,
				   gid_t gid, int flags)
{
	struct fs_path p;
	int r = at_prologue(req, dirfd, addr, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &p);

	if (r == 1)
		return fs_ret(fs_fd_chown(req, dirfd, uid, gid));
	if (r == 0)
		r = kbox_vfs_chown(&p.ctx, p.path,
				   nofollow_lookup(flags) |
					   ((flags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0),
				   uid, gid);
	return fs_ret(r);
}

struct kbox_result sys_chown(struct kbox_request *req)
{
	return do_chown(req, AT_FDCWD, req->args[0], (uid_t)req->args[1], (gid_t)req->args[2], 0);
}

struct kbox_result sys_lchown(struct kbox_request *req)
{
	return do_chown(req, AT_FDCWD, req->args[0], (uid_t)req->args[1], (gid_t)req->args[2],
			AT_SYMLINK_NOFOLLOW);
}

struct kbox_result sys_fchownat(struct kbox_request *req)
{
	return do_chown(req, (int)req->args[0], req->args[1], (uid_t)req->args[2],
			(gid_t)req->args[3], (int)req->args[4]);
}

static bool nsec_valid(long nsec)
{
	return nsec == UTIME_NOW || nsec == UTIME_OMIT || (nsec >= 0 && nsec < 1000000000);
}

/* Times already in kernel form; @ts NULL means now. */
static struct kbox_result do_utimens(struct kbox_request *req, int dirfd, uint64_t addr,
				     const struct timespec *ts, int flags)
{
	struct fs_path p;
	int r;

	/* utimensat(fd, NULL, ...) sets the fd's own times: the host can, unless read-only. */
	if (!addr && dirfd != AT_FDCWD && !(flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) {
		r = fs_fd_writable(req, dirfd);
		return r == -EROFS ? fs_ret(r) : kbox_res_continue();
	}
	r = at_prologue(req, dirfd, addr, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &p);
	if (r == 1)
		return fs_ret(fs_fd_utimens(req, dirfd, ts));
	if (r == 0)
		r = kbox_vfs_utimens(&p.ctx, p.path, nofollow_lookup(flags), ts);
	return fs_ret(r);
}

struct kbox_result sys_utimensat(struct kbox_request *req)
{
	struct timespec ts[2];
	int r;

	if (!req->args[2])
		return do_utimens(req, (int)req->args[0], req->args[1], NULL, (int)req->args[3]);
	r = kbox_read_guest(req, req->args[2], ts, sizeof(ts));
	if (r == 0 && (!nsec_valid(ts[0].tv_nsec) || !nsec_valid(ts[1].tv_nsec)))
		r = -EINVAL;
	if (r < 0)
		return fs_ret(r);
	return do_utimens(req, (int)req->args[0], req->args[1], ts, (int)req->args[3]);
}

/* utimes/futimesat: struct timeval pairs, checked before the path. */
static struct kbox_result do_utimes(struct kbox_request *req, int dirfd, uint64_t addr,
				    uint64_t tvaddr)
{
	struct timespec ts[2];
	struct timeval tv[2];
	int r, i;

	if (!tvaddr)
		return do_utimens(req, dirfd, addr, NULL, 0);
	r = kbox_read_guest(req, tvaddr, tv, sizeof(tv));
	if (r < 0)
		return fs_ret(r);
	for (i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return fs_ret(-EINVAL);
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return do_utimens(req, dirfd, addr, ts, 0);
}

struct kbox_result sys_utimes(struct kbox_request *req)
{
	return do_utimes(req, AT_FDCWD, req->args[0], req->args[1]);
}

struct kbox_result sys_futimesat(struct kbox_request *req)
{
	return do_utimes(req, (int)req->args[0], req->args[1], req->args[2]);
}

struct kbox_result sys_utime(struct kbox_request *req)
{
	struct utimbuf ub;
	struct timespec ts[2];
	int r;

	if (!req->args[1])
		return do_utimens(req, AT_FDCWD, req->args[0], NULL, 0);
	r = kbox_read_guest(req, req->args[1], &ub, sizeof(ub));
	if (r < 0)
		return fs_ret(r);
	ts[0] = (struct timespec){.tv_sec = ub.actime};
	ts[1] = (struct timespec){.tv_sec = ub.modtime};
	return do_utimens(req, AT_FDCWD, req->args[0], ts, 0);
}

struct kbox_result sys_truncate(struct kbox_request *req)
{
	struct fs_path p;
	int64_t len = (int64_t)req->args[1];
	int r;

	if (len < 0)
		return fs_ret(-EINVAL);
	r = fs_path_at(req, AT_FDCWD, req->args[0], &p);
	if (r == 0)
		r = kbox_vfs_truncate(&p.ctx, p.path, len);
	return fs_ret(r);
}

/*
 * file_getattr/file_setattr (Linux 6.17): resolved to an O_PATH fd, then
 * the host call on that fd with AT_EMPTY_PATH.
 */
static struct kbox_result do_fileattr(struct kbox_request *req, long nr, bool set)
{
	int dirfd = (int)req->args[0], flags = (int)req->args[4], fd, r, on_fd;
	size_t usize = req->args[3];
	uint8_t buf[4096] = {0};
	struct fs_path p;

	if (usize > sizeof(buf))
		return fs_ret(-E2BIG);
	if (usize < FILE_ATTR_SIZE_VER0)
		return fs_ret(-EINVAL);
	on_fd = at_prologue(req, dirfd, req->args[1], flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH,
			    &p);

	r = on_fd < 0 ? on_fd : 0;
	if (r == 0 && set)
		r = kbox_read_guest(req, req->args[2], buf, usize);
	if (r < 0)
		return fs_ret(r);
	/* The guest's fd itself (on_fd == 1): kbox's copy, never a CONTINUE (see fs_fd.c). */
	fd = on_fd == 1 ? fs_fd_copy(req, dirfd, set)
			: kbox_vfs_open_path(&p.ctx, p.path, nofollow_lookup(flags));
	if (fd < 0)
		return fs_ret(fd);
	r = syscall(nr, fd, "", buf, usize, AT_EMPTY_PATH) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && !set)
		r = kbox_write_guest(req, req->args[2], buf, usize);
	return fs_ret(r);
}

struct kbox_result sys_file_getattr(struct kbox_request *req)
{
	return do_fileattr(req, SYS_file_getattr, false);
}

struct kbox_result sys_file_setattr(struct kbox_request *req)
{
	return do_fileattr(req, SYS_file_setattr, true);
}
