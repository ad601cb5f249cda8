// SPDX-License-Identifier: MIT
/*
 * Calls that name the guest's fd itself (an empty path with AT_EMPTY_PATH,
 * as glibc's fstat does). kbox acts on its own copy of the fd instead of
 * letting the host run the call: the host would read the path from guest
 * memory again, and another guest thread could have put a host path there.
 * /proc/self/fd/N of kbox's copy reaches the object even for O_PATH fds,
 * which fchmod and fsetxattr refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "fs_priv.h"

struct fd_target {
	int kfd;
	char proc[32];
};

/* fchown on an image object: -1 keeps an id; 1 when @kfd is none. */
static int image_chown(int kfd, const struct kbox_vfs_cred *c, uid_t uid, gid_t gid)
{
	struct kbox_ext4_setattr sa = {.uid = uid, .gid = gid};

	if (uid != (uid_t)-1)
		sa.valid |= KBOX_EXT4_SET_UID;
	if (gid != (gid_t)-1)
		sa.valid |= KBOX_EXT4_SET_GID;
	return kbox_vfs_image_fd_setattr(kfd, c, &sa);
}

/* futimens on an image object: NULL is now; UTIME_OMIT keeps one. */
static int image_utimens(int kfd, const struct kbox_vfs_cred *c, const struct timespec ts[2])
{
	struct kbox_ext4_setattr sa;

	return kbox_ext4_setattr_times(&sa, ts) ? kbox_vfs_image_fd_setattr(kfd, c, &sa) : 0;
}

int fs_fd_copy(struct kbox_request *req, int gfd, bool write)
{
	int kfd = req->tier->get_guest_fd(req, gfd), r;

	if (kfd < 0)
		return -EBADF;
	r = write ? kbox_vfs_fd_writable(kfd) : 0;
	if (r < 0) {
		close(kfd);
		return r;
	}
	return kfd;
}

static int target_get(struct kbox_request *req, int gfd, bool write, struct fd_target *t)
{
	t->kfd = fs_fd_copy(req, gfd, write);
	if (t->kfd < 0)
		return t->kfd;
	snprintf(t->proc, sizeof(t->proc), "/proc/self/fd/%d", t->kfd);
	return 0;
}

/* Close kbox's copy and give @r, an answer already in -errno form. */
static int finish(struct fd_target *t, int r)
{
	close(t->kfd);
	return r;
}

static int done(struct fd_target *t, long r)
{
	int err = r < 0 ? -errno : 0;

	close(t->kfd);
	return err ? err : (int)r;
}

int fs_fd_stat(struct kbox_request *req, int gfd, struct stat *st)
{
	struct fd_target t;
	int r = target_get(req, gfd, false, &t);

	if (r < 0)
		return r;
	r = kbox_vfs_image_fstat(t.kfd, st);
	if (r != 1)
		return finish(&t, r);
	r = fstat(t.kfd, st) < 0 ? -errno : 0;
	if (r == 0)
		kbox_owner_fix_stat(t.kfd, NULL, st);
	return finish(&t, r);
}

int fs_fd_statx(struct kbox_request *req, int gfd, int sync, unsigned mask, struct statx *stx)
{
	struct fd_target t;
	int r = target_get(req, gfd, false, &t);

	if (r < 0)
		return r;
	r = kbox_vfs_image_fstatx(t.kfd, stx);
	if (r != 1)
		return finish(&t, r);
	r = statx(t.kfd, "", AT_EMPTY_PATH | sync, mask, stx) < 0 ? -errno : 0;
	if (r == 0)
		kbox_owner_fix_statx(t.kfd, NULL, stx);
	return finish(&t, r);
}

int fs_fd_access(struct kbox_request *req, int gfd, int mode, int eaccess)
{
	struct kbox_vfs_cred cb;
	const struct kbox_vfs_cred *c = fs_cred(req, &cb);
	struct fd_target t;
	struct stat view;
	int r = target_get(req, gfd, false, &t);

	if (r < 0)
		return r;
	r = kbox_vfs_image_fd_access(t.kfd, c, mode);
	if (r != 1)
		return finish(&t, r);
	if (!c)
		return done(&t, faccessat(t.kfd, "", mode, AT_EMPTY_PATH | eaccess));
	r = fstat(t.kfd, &view) < 0 ? -errno : 0;
	if (r == 0) {
		kbox_owner_fix_stat(t.kfd, NULL, &view);
		r = kbox_owner_permission(c, &view, mode);
	}
	return finish(&t, r);
}

int fs_fd_readlink(struct kbox_request *req, int gfd, char *buf, size_t size)
{
	struct fd_target t;
	int r = target_get(req, gfd, false, &t);

	return r < 0 ? r : done(&t, readlinkat(t.kfd, "", buf, size));
}

int fs_fd_chmod(struct kbox_request *req, int gfd, mode_t mode)
{
	struct kbox_vfs_cred cb;
	const struct kbox_vfs_cred *c = fs_cred(req, &cb);
	struct fd_target t;
	int r = target_get(req, gfd, true, &t);

	if (r < 0)
		return r;
	r = kbox_vfs_image_fd_setattr(
		t.kfd, c, &(struct kbox_ext4_setattr){.valid = KBOX_EXT4_SET_MODE, .mode = mode});
	if (r != 1)
		return finish(&t, r);
	if (!c)
		return done(&t, chmod(t.proc, mode));
	return finish(&t, kbox_owner_chmod(c, t.kfd, NULL, mode));
}

int fs_fd_chown(struct kbox_request *req, int gfd, uid_t uid, gid_t gid)
{
	struct kbox_vfs_cred cb;
	const struct kbox_vfs_cred *c = fs_cred(req, &cb);
	struct fd_target t;
	int r = target_get(req, gfd, true, &t);

	if (r < 0)
		return r;
	r = image_chown(t.kfd, c, uid, gid);
	if (r != 1)
		return finish(&t, r);
	if (!c)
		return done(&t, fchownat(t.kfd, "", uid, gid, AT_EMPTY_PATH));
	return finish(&t, kbox_owner_chown(c, t.kfd, NULL, uid, gid));
}

int fs_fd_utimens(struct kbox_request *req, int gfd, const struct timespec ts[2])
{
	struct fd_target t;
	int r = target_get(req, gfd, true, &t);
	struct kbox_vfs_cred cb;

	if (r < 0)
		return r;
	r = image_utimens(t.kfd, fs_cred(req, &cb), ts);
	if (r != 1)
		return finish(&t, r);
	return done(&t, utimensat(AT_FDCWD, t.proc, ts, 0));
}

int fs_fd_xattr(struct kbox_request *req, int gfd, enum kbox_xattr_op op, const char *name,
		void *val, size_t size, int xflags)
{
	bool write = op == KBOX_XATTR_SET || op == KBOX_XATTR_REMOVE;
	struct kbox_vfs_cred cb;
	const struct kbox_vfs_cred *c = fs_cred(req, &cb);
	struct fd_target t;
	int r = target_get(req, gfd, write, &t);

	if (r < 0)
		return r;
	if (kbox_vfs_image_fd_xattr(t.kfd, c, op, name, val, size, xflags, &r))
		return finish(&t, r);
	if (c)
		return finish(&t, kbox_owner_xattr(c, t.kfd, NULL, op, name, val, size, xflags));
	switch (op) {
	case KBOX_XATTR_GET:
		return done(&t, getxattr(t.proc, name, val, size));
	case KBOX_XATTR_SET:
		return done(&t, setxattr(t.proc, name, val, size, xflags));
	case KBOX_XATTR_LIST:
		return done(&t, listxattr(t.proc, val, size));
	case KBOX_XATTR_REMOVE:
		break;
	}
	return done(&t, removexattr(t.proc, name));
}

/*
 * fchmod, fchown, fsetxattr, fremovexattr: the host runs them on the fd (no
 * path involved), once kbox has checked that the fd's mount is writable: a
 * read-only bind stays read-only through fds the guest already holds.
 */
static struct kbox_result fd_metadata_change(struct kbox_request *req)
{
	int r = fs_fd_writable(req, (int)req->args[0]);

	/* EBADF included: the host gives it itself. */
	return r == -EROFS ? fs_ret(r) : kbox_res_continue();
}

/* Under fake ownership or on an image kbox makes the change itself, on its copy of the fd. */
static bool faked(void)
{
	return kbox_vfs_owner_enabled() || kbox_vfs_has_image();
}

struct kbox_result sys_fchmod(struct kbox_request *req)
{
	if (faked())
		return fs_ret(fs_fd_chmod(req, (int)req->args[0], (mode_t)req->args[1] & 07777));
	return fd_metadata_change(req);
}

struct kbox_result sys_fchown(struct kbox_request *req)
{
	if (faked())
		return fs_ret(fs_fd_chown(req, (int)req->args[0], (uid_t)req->args[1],
					  (gid_t)req->args[2]));
	return fd_metadata_change(req);
}

struct kbox_result sys_fsetxattr(struct kbox_request *req)
{
	return faked() ? fs_fd_xattr_change(req, false) : fd_metadata_change(req);
}

struct kbox_result sys_fremovexattr(struct kbox_request *req)
{
	return faked() ? fs_fd_xattr_change(req, true) : fd_metadata_change(req);
}

/* fstat(2) (musl's fstat), notified only when ownership is faked (IDENT). */
struct kbox_result sys_fstat(struct kbox_request *req)
{
	struct stat st;
	int r = fs_fd_stat(req, (int)req->args[0], &st);

	if (r == 0)
		r = kbox_write_guest(req, req->args[1], &st, sizeof(st));
	return fs_ret(r);
}

int fs_fd_writable(struct kbox_request *req, int gfd)
{
	int kfd = fs_fd_copy(req, gfd, true);

	if (kfd < 0)
		return kfd;
	close(kfd);
	return 0;
}

/* fstatfs (IMAGE): an image file's fd is a memfd; the image is its file system. */
struct kbox_result sys_fstatfs(struct kbox_request *req)
{
	struct statfs sfs; /* the kernel's struct statfs on x86-64 */
	int kfd = req->tier->get_guest_fd(req, (int)req->args[0]), r;

	if (kfd < 0)
		return fs_ret(-EBADF);
	r = kbox_vfs_image_fstatfs(kfd, &sfs);
	if (r == 1)
		r = fstatfs(kfd, &sfs) < 0 ? -errno : 0;
	close(kfd);
	if (r == 0)
		r = kbox_write_guest(req, req->args[1], &sfs, sizeof(sfs));
	return fs_ret(r);
}

/* An O_PATH fd is no file to sync: EBADF, as Linux's fdget() without FMODE_PATH gives. */
static bool is_opath(int kfd)
{
	int fl = fcntl(kfd, F_GETFL);

	return fl >= 0 && (fl & O_PATH);
}

/* kbox's copy of the guest fd in argument 0 of a sync call, or -EBADF. */
static int sync_target(struct kbox_request *req)
{
	int kfd = req->tier->get_guest_fd(req, (int)req->args[0]);

	if (kfd < 0)
		return -EBADF;
	if (is_opath(kfd)) {
		close(kfd);
		return -EBADF;
	}
	return kfd;
}

/* fsync, fdatasync (IMAGE): an image file's memfd goes back into the image. */
static struct kbox_result do_fsync(struct kbox_request *req, bool datasync)
{
	int kfd = sync_target(req), r;

	if (kfd < 0)
		return fs_ret(kfd);
	r = kbox_vfs_image_fsync(kfd, datasync);
	close(kfd);
	return r == 1 ? kbox_res_continue() : fs_ret(r);
}

struct kbox_result sys_fsync(struct kbox_request *req)
{
	return do_fsync(req, false);
}

struct kbox_result sys_fdatasync(struct kbox_request *req)
{
	return do_fsync(req, true);
}

/* sync, syncfs (IMAGE): every changed image file, then the host's own. */
struct kbox_result sys_sync(struct kbox_request *req)
{
	(void)req;
	kbox_vfs_image_sync();
	return kbox_res_continue();
}

struct kbox_result sys_syncfs(struct kbox_request *req)
{
	int kfd = sync_target(req), r;

	if (kfd < 0)
		return fs_ret(kfd);
	r = kbox_vfs_image_fsync(kfd, false);
	close(kfd);
	if (r == 1)
		return kbox_res_continue();
	r = kbox_vfs_image_sync();
	return fs_ret(r);
}

/* msync (IMAGE): image files mapped in the range go back into the image; the host checks the rest.
 */
struct kbox_result sys_msync(struct kbox_request *req)
{
	int r = kbox_vfs_image_msync(req->tid, req->args[0], req->args[1]);

	return r < 0 ? fs_ret(r) : kbox_res_continue();
}
