/* SPDX-License-Identifier: MIT */
/*
 * Shared by the path-syscall handlers (fs_*.c, net.c): reading guest paths,
 * building the lookup context of a dirfd, and finishing a request on a
 * short-lived thread when answering it could block the supervisor.
 */
#ifndef KBOX_DISPATCH_FS_PRIV_H
#define KBOX_DISPATCH_FS_PRIV_H

#include <limits.h>
#include <stdbool.h>

#include "../kernel/kernel.h"
#include "../vfs/vfs.h"
#include "dispatch.h"

/* A guest path and the context it resolves in. */
struct fs_path {
	char path[PATH_MAX];
	char base[PATH_MAX]; /* guest path of the dirfd, when there is one */
	struct kbox_lookup_ctx ctx;
	struct kbox_vfs_cred cred; /* ctx.cred points here when ownership is faked */
};

/* The emulated identity of @req's task into @buf, or NULL when ownership is not faked. */
const struct kbox_vfs_cred *fs_cred(struct kbox_request *req, struct kbox_vfs_cred *buf);

/* Backend answers: value or -errno. */
static inline struct kbox_result fs_ret(long r)
{
	return kbox_res_value(r, KBOX_DISP_BACKEND);
}

/* Read the path at @addr (EFAULT, ENAMETOOLONG) into p->path. */
int fs_read_path(struct kbox_request *req, uint64_t addr, struct fs_path *p);
/*
 * Set p->ctx for p->path relative to guest @dirfd (AT_FDCWD: the cwd).
 * An absolute path ignores @dirfd as Linux does; a relative one needs a
 * directory fd (EBADF, ENOTDIR).
 */
int fs_ctx_at(struct kbox_request *req, int dirfd, struct fs_path *p);
/* As fs_ctx_at(), but with @always even an absolute path takes @dirfd's base (IN_ROOT). */
int fs_ctx_dirfd(struct kbox_request *req, int dirfd, struct fs_path *p, bool always);
/* fs_read_path() then fs_ctx_at(). */
int fs_path_at(struct kbox_request *req, int dirfd, uint64_t addr, struct fs_path *p);
/* fs_read_path() of the path of an *at() call with @flags (AT_EMPTY_PATH: usually ""). */
int fs_read_path_flags(struct kbox_request *req, uint64_t addr, int flags, struct fs_path *p);
/* True when @addr is NULL or names "" (read into p->path): an fd-only call. */
bool fs_path_empty(struct kbox_request *req, uint64_t addr, int flags, struct fs_path *p, int *err);

/*
 * A request finished off the supervisor thread. Embed as the first member;
 * run() computes the answer, then the job is answered through the tier and
 * free()d. The request is copied: the handler's one may not outlive it.
 */
struct fs_job {
	struct kbox_request req;
	struct kbox_result (*run)(struct fs_job *job);
};

/* Starts @job (malloc'ed, owned from here on) and returns the deferred result. */
struct kbox_result fs_defer(struct kbox_request *req, struct fs_job *job);

/*
 * fs_fd.c: chmod, chown, utimens and xattr calls on the guest's fd itself
 * (empty path, AT_EMPTY_PATH), done on kbox's copy. Return 0, a count for
 * xattr get and list, or -errno.
 */
int fs_fd_stat(struct kbox_request *req, int gfd, struct stat *st);
int fs_fd_statx(struct kbox_request *req, int gfd, int sync, unsigned mask, struct statx *stx);
int fs_fd_access(struct kbox_request *req, int gfd, int mode, int eaccess);
int fs_fd_readlink(struct kbox_request *req, int gfd, char *buf, size_t size);
int fs_fd_chmod(struct kbox_request *req, int gfd, mode_t mode);
/*
 * A kbox copy of guest fd @gfd (the caller closes it); with @write, -EROFS
 * when it lies in a read-only mount. -EBADF when the guest has no such fd.
 */
int fs_fd_copy(struct kbox_request *req, int gfd, bool write);
/* -EROFS when the guest's fd @gfd lies in a read-only mount, -EBADF, or 0. */
int fs_fd_writable(struct kbox_request *req, int gfd);
int fs_fd_chown(struct kbox_request *req, int gfd, uid_t uid, gid_t gid);
int fs_fd_utimens(struct kbox_request *req, int gfd, const struct timespec ts[2]);
int fs_fd_xattr(struct kbox_request *req, int gfd, enum kbox_xattr_op op, const char *name,
		void *val, size_t size, int xflags);

/* fsetxattr / fremovexattr done by kbox on its copy of the fd (fake ownership). */
struct kbox_result fs_fd_xattr_change(struct kbox_request *req, bool remove);

#endif
