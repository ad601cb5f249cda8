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

#endif
