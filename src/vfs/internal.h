/* SPDX-License-Identifier: MIT */
/*
 * VFS internals shared by the files of src/vfs/ (not a public interface).
 */
#ifndef KBOX_VFS_INTERNAL_H
#define KBOX_VFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vfs.h"

/* The mount whose guest path is exactly @guest[0..len), or NULL. */
const struct kbox_mount *kbox_vfs_mount_exact(const char *guest, size_t len);
/* The mount with the longest guest path that is a component prefix of @guest. */
const struct kbox_mount *kbox_vfs_mount_under(const char *guest, size_t len);
/* strlen(m->guest), cached. */
size_t kbox_vfs_mount_len(const struct kbox_mount *m);
/* True if some mount lies strictly below @guest[0..len). */
bool kbox_vfs_mounts_below(const char *guest, size_t len);
/* True if only "/" is mounted: then no guest path crosses a mount. */
bool kbox_vfs_single_mount(void);

/*
 * A procfs magic link kbox answers for the guest (see proc.c): the link's
 * length (truncated to @size, no NUL), or 0 when the host's link applies.
 */
int kbox_vfs_proc_link(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m,
		       const char *parent, const char *name, char *buf, size_t size, bool follow);

/*
 * -ENOENT when guest path @guest[0..len) lies in a procfs mount under the
 * directory of a host process that is not part of the guest: its files
 * (mem, environ, fd/) would reach outside. 0 otherwise.
 */
int kbox_vfs_proc_visible(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m,
			  const char *guest, size_t len);

/* @pid is part of the guest (see kbox_vfs_set_proc_pids); true when no one said. */
bool kbox_vfs_proc_is_guest(pid_t pid);

/*
 * The pid (or tid) whose procfs directory guest path @dir is within procfs
 * mount @m ("<pid>" or "<pid>/task/<tid>"), or 0.
 */
pid_t kbox_vfs_proc_pid(const struct kbox_mount *m, const char *dir);

/*
 * Opening a file of a guest process that kbox shows its own way (procfile.c):
 * mountinfo, mounts, mountstats, status, maps and smaps under a procfs mount.
 * Returns 1 with a kbox-owned read-only fd in *fd, 0 when the host's file
 * applies, or -errno.
 */
int kbox_vfs_proc_open(const struct kbox_nameidata *nd, int oflags, int *fd);

/* The guest's mount table in one of procfs's formats (procmounts.c); 0 or -errno. */
enum kbox_mount_format {
	KBOX_MOUNTINFO,
	KBOX_MOUNTS,
	KBOX_MOUNTSTATS
};
int kbox_vfs_proc_put_mounts(FILE *out, enum kbox_mount_format fmt);

/* The access an open with @oflags asks for, as R_OK/W_OK (for permission checks). */
int kbox_vfs_open_mask(int oflags);
/*
 * The host's own node for the harmless character devices (null, zero,
 * full, random, urandom, ptmx), opened with the guest's access flags; any
 * other device number is ENXIO: kbox has no driver to give it. For device
 * nodes that live in an image or as fake-ownership placeholders.
 */
int kbox_vfs_open_host_device(dev_t rdev, int oflags);

/* @prefix[0..plen) is @path[0..len) or one of its leading directories. */
bool kbox_path_has_prefix(const char *path, size_t len, const char *prefix, size_t plen);

/*
 * The directory cache (dcache.c): canonical guest path of a directory ->
 * O_PATH fd, or of a symlink -> its target. Entries returned are pinned
 * until kbox_dcache_put(). Thread-safe.
 */
struct kbox_dentry *kbox_dcache_find(const char *path, size_t len, size_t min, size_t *found,
				     unsigned *gen);
/* Hand @fd over to the cache (pinned entry), or NULL: the caller keeps @fd. */
struct kbox_dentry *kbox_dcache_insert(const char *path, size_t len, int fd, unsigned gen);
/* A symlink @path read with target @target (not pinned). */
void kbox_dcache_insert_link(const char *path, size_t len, const char *target, unsigned gen);
/* The directory fd of @e, or -1 when @e is a symlink: kbox_dcache_link() is its target. */
int kbox_dcache_fd(const struct kbox_dentry *e);
const char *kbox_dcache_link(const struct kbox_dentry *e);
void kbox_dcache_put(struct kbox_dentry *e);
/* Drop @path[0..len) and every entry below it. */
void kbox_dcache_invalidate(const char *path, size_t len);
/* After a namespace operation on @nd's last component. */
void kbox_dcache_forget(const struct kbox_nameidata *nd);
void kbox_dcache_flush(void);
/* Live entries, for tests. */
int kbox_dcache_count(void);

/*
 * Image mounts (image.c). @m->ext4 is set; directories and files are inode
 * numbers. Each returns 0 (or a count) or -errno.
 */
struct kbox_ext4;
int kbox_img_attach(struct kbox_mount *m, struct kbox_ext4 *x, int slot);
void kbox_img_fini(void);
/* @name ("." = @dir itself) in directory @dir: its inode and lstat. */
int kbox_img_child(const struct kbox_mount *m, unsigned dir, const char *name, unsigned *ino,
		   struct stat *st);
/* The directory at @rel (relative to the image root, no "." or ".."): -ELOOP on a symlink. */
int kbox_img_walk_dir(const struct kbox_mount *m, const char *rel, unsigned *ino);
int kbox_img_readlink(const struct kbox_mount *m, unsigned ino, char *buf, size_t size);
/* What the vfs entry points do when nd->mnt->ext4. */
int kbox_img_open(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, int oflags,
		  mode_t mode);
int kbox_img_statx(const struct kbox_nameidata *nd, struct statx *stx);
int kbox_img_access(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, int mode);
int kbox_img_statfs(const struct kbox_nameidata *nd, struct statfs *sfs);
int kbox_img_mkdir(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, mode_t mode);
int kbox_img_mknod(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, mode_t mode,
		   dev_t dev);
int kbox_img_symlink(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		     const char *target);
int kbox_img_remove(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, bool dir);
int kbox_img_rename(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *o,
		    const struct kbox_nameidata *n, unsigned flags);
int kbox_img_link(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *o,
		  const struct kbox_nameidata *n);
/* chmod/chown/utimens/truncate: @what is KBOX_EXT4_SET_* in @sa. */
struct kbox_ext4_setattr;
int kbox_img_setattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		     struct kbox_ext4_setattr *sa);
int kbox_img_xattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		   enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags);
/*
 * Host fds kbox handed out for image objects (memfds, stand-in
 * directories), mapped back: 1 with the mount, inode and guest path when
 * @fd is one, 0 when not.
 */
int kbox_img_of_fd(int fd, const struct kbox_mount **m, unsigned *ino, char *guest, size_t size);
/* The guest path of image inode @ino as last opened or renamed, or -ENOENT if kbox has none. */
int kbox_img_guest_of_ino(const struct kbox_mount *m, unsigned ino, char *guest, size_t size);
/* bind(2) of a socket at nd's name: the inode in the image, the host socket at a stand-in. */
int kbox_img_unix_bind(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		       int sockfd, mode_t umask);
/*
 * Guest path of the image object whose host object is @dev/@ino: its
 * length, or -ENOENT; *gdev and *gino get the guest's device and inode.
 */
int kbox_img_guest_of_host(dev_t dev, ino_t ino, char *out, size_t size, dev_t *gdev,
			   unsigned *gino);
/*
 * The same by a copy's name ("/memfd:kbox-image:INO", a named copy's
 * "DIR/kbox-image:INO@MINOR", a spill file's "DIR/#INO"), for numa_maps.
 */
int kbox_img_guest_of_memfd(const char *path, char *out, size_t size);
/* linkat(fd, "", AT_EMPTY_PATH) of an image object: 1 when @fd is none. */
int kbox_vfs_image_link_fd(int fd, const struct kbox_lookup_ctx *ctx,
			   const struct kbox_nameidata *n);
/* Search permission on image directory @dir for the caller (Linux's may_lookup). */
int kbox_img_may_search(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m,
			unsigned dir);
long kbox_img_getdents(int fd, void *buf, size_t size, bool dirent64);

#endif
