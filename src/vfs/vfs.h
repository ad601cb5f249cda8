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
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct kbox_mount {
	char guest[PATH_MAX]; /* canonical guest path of the mount point; "/" for the root */
	char host[PATH_MAX];  /* canonical host path of the source directory */
	int fd;		      /* O_PATH|O_DIRECTORY fd of the source */
	bool readonly;
	bool is_proc;  /* the source is a procfs: its magic links are the guest's */
	bool uncached; /* procfs/sysfs: the host changes its directories, not kbox */
	bool aliased;  /* its host directory overlaps another mount's */
	dev_t dev;     /* st_dev and st_ino of the source, to map host fds back */
	ino_t ino;
	/* An ext4 image (image.c): fd is -1, objects are inode numbers of it. */
	struct kbox_ext4 *ext4;
};

#define KBOX_MOUNTS_MAX 64

/* Mount table, set up before the first guest runs, then read-only. */
int kbox_vfs_mount(const char *guest_path, const char *host_path, bool readonly);
/*
 * Mount the ext2/3/4 image file @image at @guest_path (read-only or
 * read-write). @why gets a sentence for the user on failure.
 */
int kbox_vfs_mount_image(const char *guest_path, const char *image, bool readonly, char *why,
			 size_t whysize);
/* True when some mount is an image: fstat and getdents must go through kbox. */
bool kbox_vfs_has_image(void);
/* Write back every changed file of every image (sync, syncfs); 0 or -errno. */
int kbox_vfs_image_sync(void);
/*
 * Calls on kbox-owned @fd (a copy of a guest fd) when it stands for an
 * image object: 0 or -errno, or 1 when it does not (the host's call applies).
 * fsync writes the file's changes back into the image.
 */
int kbox_vfs_image_fsync(int fd, bool datasync);
/* msync of guest thread @tid's [addr, addr + len): write back the image files mapped there. */
int kbox_vfs_image_msync(pid_t tid, uint64_t addr, uint64_t len);
struct statx;
struct kbox_ext4_setattr;
struct kbox_vfs_cred;
int kbox_vfs_image_fstat(int fd, struct stat *st);
int kbox_vfs_image_fd_access(int fd, const struct kbox_vfs_cred *c, int mode);
enum kbox_xattr_op;
/*
 * An xattr call on an image object: true, with the call's answer (a count
 * or -errno) in *@ret; false when @fd is no image object. (Not the 1
 * convention above: 1 is a valid count here.)
 */
bool kbox_vfs_image_fd_xattr(int fd, const struct kbox_vfs_cred *c, enum kbox_xattr_op op,
			     const char *xname, void *val, size_t size, int xflags, int *ret);
int kbox_vfs_image_fstatx(int fd, struct statx *stx);
struct statfs;
/* fstatfs of an image object: the image's figures, as statfs by path gives them. */
int kbox_vfs_image_fstatfs(int fd, struct statfs *sfs);
/* @c NULL: the real user's permission checks. */
int kbox_vfs_image_fd_setattr(int fd, const struct kbox_vfs_cred *c, struct kbox_ext4_setattr *sa);
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

struct kbox_dentry;

/* Result of resolving a path up to its last component. */
struct kbox_nameidata {
	int dirfd;		      /* kbox-owned O_PATH fd of the parent directory */
	unsigned ino;		      /* image mounts: the parent's inode (dirfd is -1) */
	const struct kbox_mount *mnt; /* mount the parent lies in */
	char name[NAME_MAX + 1];      /* last component; "." when the path is a mount root or "/" */
	char parent_guest[PATH_MAX];  /* canonical guest path of the parent */
	bool trailing_slash;	      /* the path ended in "/" (must be a directory) */
	/*
	 * name is a procfs fd link of a guest process to an object with no
	 * path (KBOX_PROC_OBJECT): opening it follows the link on the host.
	 */
	bool object_link;
	/* Added by the walker (kbox extensions): */
	bool dirfd_borrowed; /* dirfd is a mount's or the dcache's: release does not close it */
	struct kbox_dentry *dent; /* the dcache entry dirfd belongs to, pinned; or NULL */
	int last;		  /* KBOX_LAST_*: what kind of component @name is */
	int st_err; /* STAT/FOLLOW: 0 if st holds lstat(name), else -errno; 1: not asked */
	struct stat st;
};

/* Linux's LAST_NORM / LAST_DOT / LAST_DOTDOT / LAST_ROOT, for the errors they pick. */
enum {
	KBOX_LAST_NORM,
	KBOX_LAST_DOT,	  /* "." : name is "." */
	KBOX_LAST_DOTDOT, /* ".." : resolved, name is "." */
	KBOX_LAST_ROOT,	  /* a mount root or the guest root: name is "." */
};

enum {
	KBOX_LOOKUP_FOLLOW = 1u << 0,	 /* follow a symlink in the last component */
	KBOX_LOOKUP_DIRECTORY = 1u << 1, /* last component must be a directory */
	KBOX_LOOKUP_EMPTY = 1u << 2,	 /* an empty path means @base itself (AT_EMPTY_PATH) */
	/* kbox extensions: */
	KBOX_LOOKUP_STAT = 1u << 3,   /* fill nd->st/st_err with lstat of the last (FOLLOW does) */
	KBOX_LOOKUP_PARENT = 1u << 4, /* create/remove/rename: a trailing "/" does not follow */
	KBOX_LOOKUP_NO_SYMLINKS = 1u << 5, /* openat2 RESOLVE_NO_SYMLINKS: any symlink -> ELOOP */
	KBOX_LOOKUP_BENEATH = 1u << 6,	   /* RESOLVE_BENEATH: never above @base, else EXDEV */
	KBOX_LOOKUP_NO_XDEV = 1u << 7,	   /* RESOLVE_NO_XDEV: crossing a mount -> EXDEV */
};

/*
 * Where a path starts: the guest root (chroot, canonical guest path) and the
 * base directory for relative paths (cwd or a dirfd's guest path).
 */
struct kbox_vfs_cred;

struct kbox_lookup_ctx {
	const char *root;
	const char *base;
	/*
	 * The caller's emulated identity when ownership is faked (-0,
	 * --change-id): it owns what it creates and its permission checks
	 * follow Linux's rules. NULL: the host's identity decides.
	 */
	const struct kbox_vfs_cred *cred;
	/*
	 * The calling guest task, for procfs mounts: "self" and "thread-self"
	 * mean it, not kbox. 0 for kbox's own lookups.
	 */
	pid_t tgid;
	pid_t tid;
};

/*
 * What a guest process's magic links in procfs point to, as guest paths:
 * @what is "exe", "cwd", "root" or "fd/N". Returns the length, or 0 when
 * @pid is no guest process (the host's link is used). With @follow, an fd
 * that names no path (a pipe, a socket, a deleted file) gives
 * KBOX_PROC_OBJECT: the host may follow that link, which reaches only the
 * guest's own object. Set once by main.
 */
#define KBOX_PROC_OBJECT 0x7fffffff
typedef int (*kbox_proc_link_fn)(pid_t pid, const char *what, char *buf, size_t size, bool follow);
void kbox_vfs_set_proc_links(kbox_proc_link_fn fn);
/*
 * Calls @fn for every guest process, parents before children, until it
 * returns non-zero (kbox_kernel_for_each_guest): the image layer looks for
 * the memfds guests still hold with it. Set once by main.
 */
typedef int (*kbox_guest_walk_fn)(int (*fn)(pid_t pid, void *arg), void *arg);
void kbox_vfs_set_guest_walk(kbox_guest_walk_fn fn);
/* True when @pid is part of the guest; other pids do not exist in its procfs. */
typedef bool (*kbox_proc_pid_fn)(pid_t pid);
void kbox_vfs_set_proc_pids(kbox_proc_pid_fn fn);

/*
 * The identity of a guest process as the guest sees it, for the lines of
 * /proc/<pid>/status kbox rewrites. Filled by a kbox_proc_ids_fn: 0, or
 * -ESRCH when @pid is no guest task.
 */
struct kbox_proc_ids {
	bool fake;    /* ids are emulated (-0, --change-id): rewrite Uid/Gid/Groups */
	uid_t uid[4]; /* real, effective, saved, filesystem */
	gid_t gid[4];
	int ngroups;
	gid_t groups[64];
};
typedef int (*kbox_proc_ids_fn)(pid_t pid, struct kbox_proc_ids *ids);
void kbox_vfs_set_proc_ids(kbox_proc_ids_fn fn);

/*
 * getdents/getdents64 on kbox-owned @fd (a copy of a guest fd, sharing its
 * offset) into @buf, @size bytes: the host's entries, except that the root
 * of a procfs lists only the guest's pids. @dirent64 picks the record
 * layout. Returns the byte count, 0 at the end, or -errno.
 */
long kbox_vfs_getdents(int fd, void *buf, size_t size, bool dirent64);

/*
 * Resolve all but the last component of @path. With KBOX_LOOKUP_FOLLOW a
 * trailing symlink is followed too and nd names its target. Caller closes
 * nd->dirfd with kbox_nameidata_release().
 * Unless KBOX_LOOKUP_PARENT, a trailing "/" follows the last symlink and the
 * result must be a directory (ENOTDIR), as Linux's lookup_last() does.
 * Thread-safe (the mount table is read-only once guests run).
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
 * @would_block NULL means the caller accepts blocking (it is that thread).
 */
int kbox_vfs_open(const struct kbox_lookup_ctx *ctx, const char *path, int oflags, mode_t mode,
		  bool *would_block);
/* kbox_vfs_open() with extra KBOX_LOOKUP_* flags (openat2's RESOLVE_*). */
int kbox_vfs_open_flags(const struct kbox_lookup_ctx *ctx, const char *path, int oflags,
			mode_t mode, unsigned lookup, bool *would_block);

/* stat/lstat; @flags are KBOX_LOOKUP_*. */
int kbox_vfs_stat(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		  struct stat *st);

/*
 * Guest path of a host fd that kbox obtained from the guest: found by the
 * fd's host path (/proc/self/fd) under the longest matching mount.
 * -ENOENT when it lies under no mount (an fd the guest got elsewhere).
 */
int kbox_vfs_guest_path_of_fd(int fd, char *out, size_t size);
/* The same as a procfs link shows it: an unlinked file's path gets " (deleted)". */
int kbox_vfs_guest_link_of_fd(int fd, char *out, size_t size);
/*
 * What names an image file without holding its copy open (a running
 * program's, for /proc/PID/exe): 0 and @ref filled when kbox-owned @fd is
 * an image file's copy, -ENOENT when @fd is a host file.
 */
struct kbox_file_ref {
	const struct kbox_mount *mnt;
	unsigned ino;
	char guest[PATH_MAX]; /* its path when @ref was taken */
};
int kbox_vfs_file_ref_of_fd(int fd, struct kbox_file_ref *ref);
/* kbox_vfs_guest_link_of_fd() for the file of @ref: renames followed, " (deleted)". */
int kbox_vfs_guest_link_of_ref(const struct kbox_file_ref *ref, char *out, size_t size);
/* The same for host path @host[0..hlen): -ENOENT when it lies under no mount. */
int kbox_vfs_guest_path_of_host(const char *host, size_t hlen, char *out, size_t size);

/*
 * The directory cache (on by default). Its coherence rests on every change
 * to the guest's tree going through this process's kbox_vfs_* calls: turn
 * it off where another process may change the tree (an in-process tier).
 */
void kbox_vfs_dcache_enable(bool on);

/* Canonical guest path of a directory path, for chdir/chroot. */
int kbox_vfs_realpath(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *out, size_t size);

/* EROFS if kbox-owned @fd (a copy of a guest fd) lies in a read-only mount. */
int kbox_vfs_fd_writable(int fd);

/* EROFS if the mount of @nd is read-only. */
int kbox_vfs_check_writable(const struct kbox_nameidata *nd);

/*
 * Path operations (kbox extensions), one per syscall family. @flags are
 * KBOX_LOOKUP_* (FOLLOW for the calls that follow a trailing symlink).
 * Each resolves @path, checks read-only mounts and calls the backend.
 */
struct statx;
struct statfs;
struct timespec;

int kbox_vfs_statx(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   int sync_flags, unsigned mask, struct statx *stx);
int kbox_vfs_access(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, int mode,
		    bool eaccess);
int kbox_vfs_readlink(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *buf, size_t size);
int kbox_vfs_statfs(const struct kbox_lookup_ctx *ctx, const char *path, struct statfs *sfs);
/* O_PATH fd of the object (kbox-owned), for calls that take an fd (inotify, handles). */
int kbox_vfs_open_path(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags);

int kbox_vfs_mkdir(const struct kbox_lookup_ctx *ctx, const char *path, mode_t mode);
int kbox_vfs_mknod(const struct kbox_lookup_ctx *ctx, const char *path, mode_t mode, dev_t dev);
int kbox_vfs_rmdir(const struct kbox_lookup_ctx *ctx, const char *path);
int kbox_vfs_unlink(const struct kbox_lookup_ctx *ctx, const char *path);
int kbox_vfs_symlink(const char *target, const struct kbox_lookup_ctx *ctx, const char *path);
/* @flags: RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT. EXDEV across mounts. */
int kbox_vfs_rename(const struct kbox_lookup_ctx *octx, const char *opath,
		    const struct kbox_lookup_ctx *nctx, const char *npath, unsigned flags);
/* @oflags: KBOX_LOOKUP_FOLLOW for AT_SYMLINK_FOLLOW. */
int kbox_vfs_link(const struct kbox_lookup_ctx *octx, const char *opath, unsigned oflags,
		  const struct kbox_lookup_ctx *nctx, const char *npath);
/* Link a kbox-owned fd (linkat AT_EMPTY_PATH) at @npath. */
int kbox_vfs_link_fd(int fd, const struct kbox_lookup_ctx *nctx, const char *npath);

int kbox_vfs_chmod(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   mode_t mode);
int kbox_vfs_chown(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, uid_t uid,
		   gid_t gid);
int kbox_vfs_utimens(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		     const struct timespec ts[2]);
int kbox_vfs_truncate(const struct kbox_lookup_ctx *ctx, const char *path, off_t len);

enum kbox_xattr_op {
	KBOX_XATTR_GET,
	KBOX_XATTR_SET,
	KBOX_XATTR_LIST,
	KBOX_XATTR_REMOVE,
};
/* One entry point for the four xattr calls; returns a size for GET and LIST. */
int kbox_vfs_xattr(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags);

/*
 * AF_UNIX socket paths: bind (creating the socket file with @umask) or
 * connect @sockfd (kbox-owned copy of the guest's socket) to @path.
 */
int kbox_vfs_unix_bind(const struct kbox_lookup_ctx *ctx, const char *path, int sockfd,
		       mode_t umask);
int kbox_vfs_unix_connect(const struct kbox_lookup_ctx *ctx, const char *path, int sockfd);
/*
 * Host sun_path for connecting to (or sending to) the guest socket @path:
 * "/proc/self/fd/M", M being the returned O_PATH fd of the socket inode,
 * which the caller closes after use. The magic link names that inode, so
 * the host follows nothing the guest controls.
 */
int kbox_vfs_unix_addr(const struct kbox_lookup_ctx *ctx, const char *path, char *sun_path,
		       size_t size);

/*
 * Fake ownership (owner.c): see the top of that file. Enabled once by main
 * before guests run; @stores are where the store of objects without user
 * xattrs may live, best first (fs/hostdir/meta.h).
 */
struct kbox_vfs_cred {
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	const gid_t *groups;
};

int kbox_vfs_owner_init(uid_t host_uid, gid_t host_gid, const char *const *stores, int nstores);
void kbox_vfs_owner_fini(void);
bool kbox_vfs_owner_enabled(void);

/*
 * The object is @name in @dirfd (never followed), or @dirfd itself when
 * @name is NULL (kbox's copy of a guest fd).
 * fix_stat/fix_statx: lay the recorded owner, mode and device over a host
 * stat of the object (no-op unless enabled).
 */
void kbox_owner_fix_stat(int dirfd, const char *name, struct stat *st);
struct statx;
void kbox_owner_fix_statx(int dirfd, const char *name, struct statx *stx);
int kbox_owner_permission(const struct kbox_vfs_cred *c, const struct stat *view, int mask);
int kbox_owner_chmod(const struct kbox_vfs_cred *c, int dirfd, const char *name, mode_t mode);
int kbox_owner_chown(const struct kbox_vfs_cred *c, int dirfd, const char *name, uid_t uid,
		     gid_t gid);
int kbox_owner_xattr(const struct kbox_vfs_cred *c, int dirfd, const char *name,
		     enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags);
void kbox_owner_created(const struct kbox_vfs_cred *c, int dirfd, const char *name);
int kbox_owner_mknod_dev(const struct kbox_vfs_cred *c, int dirfd, const char *name, mode_t mode,
			 dev_t dev);
/*
 * Linux's checks on the parent directory for a non-root emulated identity
 * (0 for root and without @c): creating a name needs write and search;
 * removing or renaming one also the sticky-bit rule.
 */
int kbox_owner_may_create(const struct kbox_vfs_cred *c, int dirfd);
int kbox_owner_may_delete(const struct kbox_vfs_cred *c, int dirfd, const char *name);
bool kbox_owner_going(int dirfd, const char *name, struct stat *st);
void kbox_owner_gone(const struct stat *st);
/* A device placeholder opened: the host node of a known device, -ENXIO, or 0 (not one). */
int kbox_owner_open_device(int dirfd, const char *name, const struct stat *st, int oflags);

#endif
