/* SPDX-License-Identifier: MIT */
/*
 * VFS: the guest's mount table and path resolution.
 *
 * Every guest path is resolved by kbox, never by the host kernel against the
 * host root. Mounts are host directories (the root, -b binds, -S views);
 * each is held as an O_PATH directory fd. Resolution walks the guest path
 * from the guest root, crossing mounts, following symlinks itself (40 at
 * most, ELOOP), and treating ".." at a mount's root as Linux does. Within
 * one mount the host kernel walks with openat2(RESOLVE_IN_ROOT) or
 * O_NOFOLLOW, so no host symlink or ".." can leave the mount.
 *
 * All functions return 0 or a count on success and -errno on failure.
 */
#ifndef KBOX_VFS_VFS_H
#define KBOX_VFS_VFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct kbox_mount {
	char guest[PATH_MAX]; /* canonical guest path of the mount point; "/" for the root */
	char host[PATH_MAX];  /* canonical host path of the source directory */
	int fd;		      /* O_PATH|O_DIRECTORY fd of the source */
	bool readonly;
	dev_t dev;	      /* st_dev and st_ino of the source, to map host fds back */
	ino_t ino;
};

#define KBOX_MOUNTS_MAX 64

/* Mount table, set up before the first guest runs, then read-only. */
int kbox_vfs_mount(const char *guest_path, const char *host_path, bool readonly);
int kbox_vfs_nmounts(void);
const struct kbox_mount *kbox_vfs_mount_at(int i);
void kbox_vfs_fini(void);

/*
 * Lexical helpers (pure, unit tested).
 * kbox_path_join: @base (absolute) + @rel -> @out; @rel absolute ignores base.
 * No "." / ".." folding: resolution does that physically.
 */
int kbox_path_join(const char *base, const char *rel, char *out, size_t size);
/* Fold "//", "." and ".." lexically: for paths already known to be canonical. */
int kbox_path_normalize(const char *path, char *out, size_t size);

/* Result of resolving a path up to its last component. */
struct kbox_nameidata {
	int dirfd;			     /* kbox-owned O_PATH fd of the parent directory */
	const struct kbox_mount *mnt;	     /* mount the parent lies in */
	char name[NAME_MAX + 1];	     /* last component; "." when the path is a mount root or "/" */
	char parent_guest[PATH_MAX];	     /* canonical guest path of the parent */
	bool trailing_slash;		     /* the path ended in "/" (must be a directory) */
};

enum {
	KBOX_LOOKUP_FOLLOW = 1u << 0,	 /* follow a symlink in the last component */
	KBOX_LOOKUP_DIRECTORY = 1u << 1, /* last component must be a directory */
	KBOX_LOOKUP_EMPTY = 1u << 2,	 /* an empty path means @base itself (AT_EMPTY_PATH) */
};

/*
 * Where a path starts: the guest root (chroot, canonical guest path) and the
 * base directory for relative paths (cwd or a dirfd's guest path).
 */
struct kbox_lookup_ctx {
	const char *root;
	const char *base;
};

/*
 * Resolve all but the last component of @path. With KBOX_LOOKUP_FOLLOW a
 * trailing symlink is followed too and nd names its target. Caller closes
 * nd->dirfd with kbox_nameidata_release().
 */
int kbox_vfs_lookup_parent(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
			   struct kbox_nameidata *nd);
void kbox_nameidata_release(struct kbox_nameidata *nd);

/*
 * Open @path as open(2) would with @oflags (including O_CREAT, O_EXCL,
 * O_NOFOLLOW, O_DIRECTORY, O_PATH, O_TMPFILE) and @mode (umask already
 * applied by the caller). Returns a kbox-owned host fd. Opening a FIFO
 * without O_NONBLOCK may block: the caller runs it off the supervisor
 * thread when *would_block is set and the call returned -EAGAIN.
 */
int kbox_vfs_open(const struct kbox_lookup_ctx *ctx, const char *path, int oflags, mode_t mode,
		  bool *would_block);

/* stat/lstat; @flags are KBOX_LOOKUP_*. */
int kbox_vfs_stat(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		  struct stat *st);

/*
 * Guest path of a host fd that kbox obtained from the guest: found by the
 * fd's host path (/proc/self/fd) under the longest matching mount.
 * -ENOENT when it lies under no mount (an fd the guest got elsewhere).
 */
int kbox_vfs_guest_path_of_fd(int fd, char *out, size_t size);

/* Canonical guest path of a directory path, for chdir/chroot. */
int kbox_vfs_realpath(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *out, size_t size);

/* EROFS if the mount of @nd is read-only. */
int kbox_vfs_check_writable(const struct kbox_nameidata *nd);

#endif
